//! What-if: a keyword's expected day at other bids, a plan's at other budgets, with 90%
//! bands from the posteriors. Deterministic; does not move the engine's generator.

use serde::{Deserialize, Serialize};

use crate::engine::calendar::DayFactors;
use crate::engine::engine_impl::Engine;
use crate::error::{Error, Result};
use crate::estimate::ArmEstimate;
use crate::model::{KeywordId, PlanId};
use crate::money::Money;
use crate::policy::Policy;
use crate::rng::{SimRng, domain, stream};

/// A value with a credible band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// Posterior mean.
    pub mean: f64,
    /// Lower end of the 90% band.
    pub lo: f64,
    /// Upper end of the 90% band.
    pub hi: f64,
}

/// Expected daily outcome at one bid or budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WhatIf {
    /// The bid or budget asked about.
    pub value: Money,
    /// Clicks per day.
    pub clicks: Band,
    /// Cost per day, currency units.
    pub cost: Band,
    /// Conversions per day.
    pub conversions: Band,
    /// Revenue per day, currency units.
    pub revenue: Band,
}

impl<P: Policy> Engine<P> {
    /// What a keyword would get per day at each bid in `bids`: expected clicks, cost,
    /// conversions and revenue with 90% bands, from its posteriors and the engine's spend
    /// model (see [`crate::allocate::bid`]). Deterministic, and does not move the engine's
    /// generator.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for an unknown keyword; [`Error::InvalidValue`] for a
    /// non-positive bid or `draws` below 100.
    pub fn what_if_bid(
        &self,
        keyword: &KeywordId,
        bids: &[Money],
        draws: usize,
    ) -> Result<Vec<WhatIf>> {
        let (i, j) = self.state.account.require_keyword(keyword)?;
        check_draws(draws)?;
        let est = self.estimates()?;
        let e = &est.keywords[i][j];
        let model = self.state.spend_models(i, &[j], DayFactors::NORMAL)[0];
        let plan_clicks: f64 = est.keywords[i].iter().map(|k| k.counts.clicks).sum();
        let n = est.keywords[i].len() as f64;
        let share = (e.counts.clicks + 1.0) / (plan_clicks + n);
        let clicks_ref = self.state.traffic[i].daily_clicks.max(1.0) * share;
        let eta = self.state.config.bid_elasticity;
        let mut rng = stream(
            self.state.seed,
            &[
                domain::ENGINE,
                0x5748_4154,
                self.state.round,
                (self.keyword_offset[i] + j) as u64,
            ],
        );
        bids.iter()
            .map(|&b| {
                if b.micros() <= 0 {
                    return Err(Error::invalid("what_if.bid", b, "must be > 0"));
                }
                let scale = (b.units() / model.bid_ref).powf(eta);
                let clicks = clicks_ref * scale;
                let cost = model.spend(b.units());
                Ok(outcome(b, e, clicks, cost, draws, &mut rng))
            })
            .collect()
    }

    /// What a plan would get per day at each budget in `budgets`, from its response curve
    /// (spend is capped by its traffic capacity) and posteriors.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for an unknown plan; [`Error::InvalidValue`] for a negative budget
    /// or `draws` below 100.
    pub fn what_if_budget(
        &self,
        plan: &PlanId,
        budgets: &[Money],
        draws: usize,
    ) -> Result<Vec<WhatIf>> {
        let i = self.state.account.require_plan(plan)?;
        check_draws(draws)?;
        let est = self.estimates()?;
        let e = &est.plans[i];
        let cap = self.state.traffic[i].capacity.max(1.0) / 1e6;
        let ipm = self.state.impressions_per_money(i, e);
        let mut rng = stream(
            self.state.seed,
            &[domain::ENGINE, 0x4255_4447, self.state.round, i as u64],
        );
        budgets
            .iter()
            .map(|&b| {
                if b.is_negative() {
                    return Err(Error::invalid("what_if.budget", b, "must be >= 0"));
                }
                let spend = b.units().min(cap);
                // Impressions bought: ipm at the margin falls off as the plan nears capacity.
                let impressions = ipm * cap * (1.0 - (-spend / cap).exp());
                Ok(outcome(
                    b,
                    e,
                    impressions * e.ctr.mean(),
                    spend,
                    draws,
                    &mut rng,
                ))
            })
            .collect()
    }
}

fn check_draws(draws: usize) -> Result<()> {
    if draws < 100 {
        return Err(Error::invalid("draws", draws, "must be >= 100"));
    }
    Ok(())
}

/// Monte-Carlo outcome bands for `clicks` expected clicks at `cost`.
fn outcome(
    value: Money,
    e: &ArmEstimate,
    clicks: f64,
    cost: f64,
    draws: usize,
    rng: &mut SimRng,
) -> WhatIf {
    let (cs, av) = (e.cvr.sampler(), e.aov.sampler());
    let mut conv = Vec::with_capacity(draws);
    let mut rev = Vec::with_capacity(draws);
    for _ in 0..draws {
        let c = cs.sample(rng);
        let a = av.sample(rng);
        conv.push(clicks * c);
        rev.push(clicks * c * a);
    }
    let band = |mut xs: Vec<f64>| {
        xs.sort_by(f64::total_cmp);
        let at = |q: f64| xs[((q * (xs.len() - 1) as f64).round() as usize).min(xs.len() - 1)];
        Band {
            mean: xs.iter().sum::<f64>() / xs.len() as f64,
            lo: at(0.05),
            hi: at(0.95),
        }
    };
    // Clicks and cost come from the spend model; their band reflects the CTR posterior.
    let (lo, hi) = e.ctr.interval(0.9).unwrap_or((e.ctr.mean(), e.ctr.mean()));
    let rel = |q: f64| {
        if e.ctr.mean() > 0.0 {
            q / e.ctr.mean()
        } else {
            1.0
        }
    };
    WhatIf {
        value,
        clicks: Band {
            mean: clicks,
            lo: clicks * rel(lo),
            hi: clicks * rel(hi),
        },
        cost: Band {
            mean: cost,
            lo: cost * rel(lo).min(1.0),
            hi: cost * rel(hi).max(1.0),
        },
        conversions: band(conv),
        revenue: band(rev),
    }
}

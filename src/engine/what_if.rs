//! What-if: a keyword's day at other bids, a plan's at other budgets, with 90% predictive
//! bands. Deterministic (seeded from the engine's seed); does not move the engine's
//! generator.
//!
//! **One model.** Both answers come from the keywords' fitted
//! [response models](crate::allocate::response) (`engine::traffic`): clicks and cost
//! against the bid, saturating where the traffic runs out, never more than the bid times the
//! hour's multiplier per click. (The engine's bids are still solved on the older power-law
//! [`SpendModel`](crate::allocate::bid::SpendModel); see `engine::traffic`.)
//!
//! **Predictive, not just posterior.** Each draw is one possible day:
//! 1. parameters: the keyword's place on its curve (the posterior of its half bid, from its
//!    own days at its own bids, or from its cost-per-click ratio before it has any), its
//!    clicks a day at the bid it was observed at (`1 / sqrt(clicks)` relative error), the plan's demand ([`DEMAND_SD`]), the curve's shape
//!    away from the observed bid ([`SHAPE_SD`] per unit of `|ln(bid / observed bid)|`), and
//!    the keyword's CVR and order value from their posteriors;
//! 2. the day's own noise: the plan's traffic that day (a gamma factor with coefficient of
//!    variation [`DAY_TRAFFIC_CV`], shared by the plan's keywords: weekdays and demand
//!    swings move them together), Poisson clicks, the clicks' prices ([`PRICE_CV`] per click),
//!    binomial conversions, and order values spread as the engine's own order-value model
//!    has them (gamma with its order shape).
//!
//! The band is the 5%-95% range of the draws and `mean` their mean.
//!
//! **The questions.** [`Engine::what_if_bid`] is the keyword's own day at a bid, with its
//! plan's budget not stopping it (the demand response). [`Engine::what_if_budget`] is the
//! plan's day at a budget with today's bids, no pacing: a day whose drawn spend passes the
//! budget keeps the share of it the budget pays for.

use rand_distr::{Binomial, Distribution, Poisson, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::allocate::response::{MAX_POSITION, MIN_POSITION, ResponseModel, share};
use crate::engine::calendar::DayFactors;
use crate::engine::engine_impl::Engine;
use crate::engine::traffic::KeywordFit;
use crate::error::{Error, Result};
use crate::estimate::{ArmEstimate, BetaSampler, GammaSampler, OrderValueSampler};
use crate::model::{KeywordId, PlanId, Status};
use crate::money::Money;
use crate::policy::Policy;
use crate::rng::{SimRng, domain, stream};

/// Coefficient of variation of a plan's traffic on one day against its forecast (weekday
/// cycles and demand swings the engine does not forecast).
pub const DAY_TRAFFIC_CV: f64 = 0.12;
/// Log-sd of a plan's daily demand estimate (a few days' average clicks, with the share of
/// the day a limited budget hid inferred).
pub const DEMAND_SD: f64 = 0.12;
/// Log-sd of the curve's shape per unit of `|ln(bid / observed bid)|`: the fixed shape is a
/// model, and the further a bid is from the evidence, the less it is known.
pub const SHAPE_SD: f64 = 0.6;
/// Coefficient of variation of one click's price.
pub const PRICE_CV: f64 = 0.3;
/// Log-sd of a keyword's price level at its observed bid (it moves with the rivals' mix).
pub const PRICE_SD: f64 = 0.08;
/// Log-sd of a keyword's clicks a day at its observed bid beyond counting error (a few
/// days' average under the days' traffic swings).
pub const CLICKS_SD: f64 = 0.08;

/// A value with a predictive band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// Predictive mean.
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

/// One keyword's inputs to the draws.
struct KeywordDraws {
    fit: KeywordFit,
    cvr: BetaSampler,
    aov: OrderValueSampler,
    order_shape: f64,
    /// Highest hour multiplier of the plan: no click costs more than bid x this.
    max_multiplier: f64,
}

impl KeywordDraws {
    fn new(fit: KeywordFit, e: &ArmEstimate, max_multiplier: f64) -> Self {
        KeywordDraws {
            fit,
            cvr: e.cvr.sampler(),
            aov: e.aov.sampler(),
            order_shape: e.aov.gamma_parts().0.max(1e-3),
            max_multiplier,
        }
    }

    /// One day at bid `b` (currency units) with the plan's traffic factor `g`:
    /// `[clicks, cost, conversions, revenue]`.
    fn day(&self, b: f64, g: f64, rng: &mut SimRng) -> [f64; 4] {
        let f = &self.fit;
        let z = |rng: &mut SimRng| -> f64 { StandardNormal.sample(rng) };
        // Parameters: where the curve bends (the half bid's posterior), and the clicks a
        // day at the bid the history was bought at; the reachable clicks follow from both.
        let half = f.model.half_bid * (f.log_sd * z(rng)).exp();
        let x0 = if half > 0.0 {
            (f.eff_bid / half).clamp(MIN_POSITION, MAX_POSITION)
        } else {
            1.0
        };
        // Clicks a day at the observed bid: counting error, and the error of a few days'
        // average under the days' traffic swings.
        let sd = (1.0 / (f.share_clicks + 1.0) + CLICKS_SD * CLICKS_SD).sqrt();
        let clicks_ref = f.clicks * (sd * z(rng) - 0.5 * sd * sd).exp();
        let dist = if f.eff_bid > 0.0 {
            (b * f.model.multiplier / f.eff_bid).ln().abs()
        } else {
            0.0
        };
        let s = SHAPE_SD * dist;
        let ps = PRICE_SD + 0.5 * s;
        let m = ResponseModel {
            half_bid: f.eff_bid / x0,
            max_clicks: clicks_ref / share(x0),
            price_factor: f.model.price_factor * (ps * z(rng) - 0.5 * ps * ps).exp(),
            ..f.model
        };
        let mu = m.clicks(b) * g * (s * z(rng) - 0.5 * s * s).exp();
        // The day.
        let clicks = poisson(rng, mu);
        if clicks == 0 {
            return [0.0; 4];
        }
        let n = clicks as f64;
        let cap = b * self.max_multiplier;
        let cpc = m.cpc(b).min(cap);
        let cost = (n * cpc * (1.0 + PRICE_CV / n.sqrt() * z(rng)).max(0.0)).min(n * cap);
        let cvr = self.cvr.sample(rng);
        let conv = binomial(rng, clicks, cvr);
        let revenue = if conv > 0 {
            let p = self.order_shape;
            self.aov.sample(rng) * GammaSampler::new(conv as f64 * p).sample(rng) / p
        } else {
            0.0
        };
        [n, cost, conv as f64, revenue]
    }
}

/// A plan's traffic factor for one day: its demand estimate's error times the day's swing.
fn traffic_factor(day: &GammaSampler, rng: &mut SimRng) -> f64 {
    let z: f64 = StandardNormal.sample(rng);
    let k = 1.0 / (DAY_TRAFFIC_CV * DAY_TRAFFIC_CV);
    (DEMAND_SD * z - 0.5 * DEMAND_SD * DEMAND_SD).exp() * day.sample(rng) / k
}

impl<P: Policy> Engine<P> {
    /// What a keyword would get in a day at each bid in `bids`, its plan's budget not
    /// stopping it: predictive mean and 90% band of clicks, cost, conversions and revenue,
    /// from its [response model](crate::allocate::response) and posteriors, with the day's
    /// own noise (traffic, clicks, conversions, order values). Deterministic, and does not move the engine's
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
        if let Some(b) = bids.iter().find(|b| b.micros() <= 0) {
            return Err(Error::invalid("what_if.bid", b, "must be > 0"));
        }
        let est = self.estimates()?;
        let fit = self.state.keyword_fits(i, &[j], DayFactors::NORMAL)[0];
        let kw = KeywordDraws::new(fit, &est.keywords[i][j], self.max_multiplier(i));
        let day = GammaSampler::new(1.0 / (DAY_TRAFFIC_CV * DAY_TRAFFIC_CV));
        let mut rng = stream(
            self.state.seed,
            &[
                domain::ENGINE,
                0x5748_4154,
                self.state.round,
                (self.keyword_offset[i] + j) as u64,
            ],
        );
        Ok(bids
            .iter()
            .map(|&b| {
                let days: Vec<[f64; 4]> = (0..draws)
                    .map(|_| {
                        let g = traffic_factor(&day, &mut rng);
                        kw.day(b.units(), g, &mut rng)
                    })
                    .collect();
                bands(b, &days)
            })
            .collect())
    }

    /// What a plan would get in a day at each budget in `budgets`, with today's bids and no
    /// pacing: predictive mean and 90% band of clicks, cost, conversions and revenue. The
    /// same drawn days serve every budget (a day whose spend passes the budget keeps the
    /// share the budget pays for), so answers are consistent across budgets. The model is
    /// the keywords' [response model](crate::allocate::response).
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
        if let Some(b) = budgets.iter().find(|b| b.is_negative()) {
            return Err(Error::invalid("what_if.budget", b, "must be >= 0"));
        }
        let est = self.estimates()?;
        let p = &self.state.account.plans()[i];
        let live: Vec<usize> = (0..p.keywords.len())
            .filter(|&j| p.keywords[j].status == Status::Active)
            .collect();
        let mmax = self.max_multiplier(i);
        let kws: Vec<(f64, KeywordDraws)> = self
            .state
            .keyword_fits(i, &live, DayFactors::NORMAL)
            .into_iter()
            .zip(&live)
            .map(|(fit, &j)| {
                (
                    p.keywords[j].bid.units(),
                    KeywordDraws::new(fit, &est.keywords[i][j], mmax),
                )
            })
            .collect();
        let day = GammaSampler::new(1.0 / (DAY_TRAFFIC_CV * DAY_TRAFFIC_CV));
        let mut rng = stream(
            self.state.seed,
            &[domain::ENGINE, 0x4255_4447, self.state.round, i as u64],
        );
        let days: Vec<[f64; 4]> = (0..draws)
            .map(|_| {
                let g = traffic_factor(&day, &mut rng);
                let mut t = [0.0; 4];
                for (b, k) in &kws {
                    let d = k.day(*b, g, &mut rng);
                    t.iter_mut().zip(d).for_each(|(a, x)| *a += x);
                }
                t
            })
            .collect();
        Ok(budgets
            .iter()
            .enumerate()
            .map(|(n, &b)| {
                let mut rng = stream(
                    self.state.seed,
                    &[
                        domain::ENGINE,
                        0x4255_4447,
                        self.state.round,
                        i as u64,
                        1 + n as u64,
                    ],
                );
                let capped: Vec<[f64; 4]> = days
                    .iter()
                    .map(|d| truncate(*d, b.units(), &mut rng))
                    .collect();
                bands(b, &capped)
            })
            .collect())
    }

    /// Plan `i`'s highest hour multiplier (at least 1 where no hour is active).
    fn max_multiplier(&self, i: usize) -> f64 {
        let m = self.state.account.plans()[i]
            .schedule
            .multipliers()
            .iter()
            .copied()
            .fold(0.0, f64::max);
        if m > 0.0 { m } else { 1.0 }
    }
}

/// A drawn day `[clicks, cost, conversions, revenue]` under a budget `cap`: a day whose
/// spend passes it keeps a binomial share of its clicks (the part of the day the budget
/// pays for), and clicks are then dropped until the cost is within the cap, as a server
/// that refuses the click the remaining budget cannot pay does.
fn truncate(d: [f64; 4], cap: f64, rng: &mut SimRng) -> [f64; 4] {
    if d[1] <= cap {
        return d;
    }
    if !(cap > 0.0 && d[0] >= 1.0) {
        return [0.0; 4];
    }
    let n = d[0].round() as u64;
    let cpc = d[1] / d[0];
    let mut kept = binomial(rng, n, cap / d[1]) as f64;
    let mut cost = cpc * kept;
    if cost > cap {
        let drop = ((cost - cap) / cpc).ceil();
        kept = (kept - drop).max(0.0);
        cost = cpc * kept;
    }
    let share = kept / d[0];
    let conv = binomial(rng, d[2].round() as u64, share) as f64;
    let revenue = if d[2] > 0.0 { d[3] * conv / d[2] } else { 0.0 };
    [kept, cost, conv, revenue]
}

fn check_draws(draws: usize) -> Result<()> {
    if draws < 100 {
        return Err(Error::invalid("draws", draws, "must be >= 100"));
    }
    Ok(())
}

/// Mean and 5%-95% band of each quantity over the drawn days.
fn bands(value: Money, days: &[[f64; 4]]) -> WhatIf {
    let band = |q: usize| {
        let mut xs: Vec<f64> = days.iter().map(|d| d[q]).collect();
        xs.sort_by(f64::total_cmp);
        let at = |p: f64| xs[((p * (xs.len() - 1) as f64).round() as usize).min(xs.len() - 1)];
        Band {
            mean: xs.iter().sum::<f64>() / xs.len().max(1) as f64,
            lo: at(0.05),
            hi: at(0.95),
        }
    };
    WhatIf {
        value,
        clicks: band(0),
        cost: band(1),
        conversions: band(2),
        revenue: band(3),
    }
}

fn poisson(rng: &mut SimRng, lam: f64) -> u64 {
    if !(lam > 0.0 && lam.is_finite()) {
        return 0;
    }
    match Poisson::new(lam.min(1e12)) {
        Ok(d) => {
            let x: f64 = d.sample(rng);
            x as u64
        }
        Err(_) => lam.round() as u64,
    }
}

fn binomial(rng: &mut SimRng, n: u64, p: f64) -> u64 {
    if n == 0 || !(p > 0.0) {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    match Binomial::new(n, p) {
        Ok(d) => d.sample(rng),
        Err(_) => (n as f64 * p).round() as u64,
    }
}

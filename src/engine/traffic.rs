//! Stage: what money buys. Impressions per unit of money for a plan, and each keyword's
//! response to its bid.
//!
//! Two models live here for now. The bids are solved on [`SpendModel`] (spend against bid
//! as a power law, anchored on the plan's latest day, `spend_models`). The what-if answers
//! use the saturating [response model](crate::allocate::response), fitted from the keyword's
//! own history (`keyword_fits`). Solving the bids on the response model too was measured and
//! lost (budget_starved 0.30 of the oracle against 0.64, default 0.74 against 0.79; 8 seeds),
//! so the bids stay on the old model until that loss is understood (issue 20).
//!
//! **The fit, per keyword.** Two numbers from the evidence place a keyword on its curve:
//! - where it sits: its cost against the *effective* bids it paid them at (the bid times
//!   the hour's schedule multiplier, remembered with every report row in
//!   `EvidenceStore::bids`, under the evidence's forgetting). The ratio cost /
//!   (clicks x effective bid) is shrunk toward the plan's pooled ratio with
//!   [`RATIO_PRIOR_CLICKS`] pseudo-clicks (and the plan's toward the middle of the curve),
//!   then inverted ([`crate::allocate::response::position`]);
//! - how many clicks a day it buys there: the plan's daily clicks, divided by the share of
//!   the day it was in the market (`PlanTraffic::served`: a budget that ran out at 18:00
//!   hid the evening's demand), split over the keywords by their clicks.
//!
//! A keyword without clicks borrows the plan's ratio; a plan without days borrows its
//! capacity guess.

use serde::{Deserialize, Serialize};

use crate::allocate::bid::SpendModel;
use crate::allocate::response::{CurveFit, DayPoint, ResponseModel, cpc_ratio, fit};
use crate::engine::calendar::DayFactors;
use crate::engine::state::EngineState;
use crate::estimate::{ArmEstimate, Tally};
use crate::model::{Keyword, Status};

/// Pseudo-spend (currency units) that anchors a plan's impressions-per-money to its prior.
const IPM_PRIOR_COST: f64 = 20.0;
/// Share of the bid a click is assumed to cost before any cost is observed (second price).
const PRIOR_CPC_SHARE: f64 = 0.7;
/// Pseudo-clicks pulling a keyword's cost-per-click ratio toward its plan's (and the plan's
/// toward the middle of the curve).
pub(crate) const RATIO_PRIOR_CLICKS: f64 = 20.0;
/// A budget-limited day would have spent at least this much more at the same bids.
const LIMITED_HEADROOM: f64 = 1.25;

/// Days of history a keyword's curve is fitted to.
pub(crate) const CURVE_DAYS: usize = 21;
/// Half-life (days) of a day's weight in the curve fit (as the evidence's default).
const CURVE_HALF_LIFE: f64 = 7.0;
/// Log-sd of the prior on a keyword's half bid (from its cost-per-click ratio).
const CURVE_PRIOR_SD: f64 = 0.7;

/// A keyword's last days at its own bids, and the curve fitted to them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeywordCurve {
    /// `(day number, the day)`, oldest first, at most [`CURVE_DAYS`]; weights unset.
    pub(crate) days: Vec<(i32, DayPoint)>,
    /// The fit to `days`.
    pub(crate) fit: Option<CurveFit>,
}

/// Clicks and cost of a keyword with the effective bids they were bought at.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BidTally {
    /// Clicks.
    pub(crate) clicks: f64,
    /// Cost, currency units.
    pub(crate) cost: f64,
    /// Sum over clicks of the effective bid (bid x hour multiplier) in force.
    pub(crate) bid_clicks: f64,
}

impl Tally for BidTally {
    fn add(&mut self, o: &Self) {
        self.clicks += o.clicks;
        self.cost += o.cost;
        self.bid_clicks += o.bid_clicks;
    }
    fn scaled(&self, w: f64) -> Self {
        BidTally {
            clicks: self.clicks * w,
            cost: self.cost * w,
            bid_clicks: self.bid_clicks * w,
        }
    }
    fn minus(&self, o: &Self) -> Self {
        BidTally {
            clicks: (self.clicks - o.clicks).max(0.0),
            cost: (self.cost - o.cost).max(0.0),
            bid_clicks: (self.bid_clicks - o.bid_clicks).max(0.0),
        }
    }
}

/// A keyword's fitted response, with what it was fitted from (for the what-if's parameter
/// draws).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct KeywordFit {
    /// The model.
    pub(crate) model: ResponseModel,
    /// The effective bid the history was bought at (currency units).
    pub(crate) eff_bid: f64,
    /// Clicks per day there (the demand, not cut by the budget).
    pub(crate) clicks: f64,
    /// The shrunk cost-per-click ratio.
    pub(crate) ratio: f64,
    /// Clicks of evidence behind the ratio (own plus pseudo-clicks).
    pub(crate) ratio_clicks: f64,
    /// Clicks of evidence behind the keyword's clicks a day.
    pub(crate) share_clicks: f64,
    /// Posterior log-sd of the half bid.
    pub(crate) log_sd: f64,
}

impl<P> EngineState<P> {
    /// Impressions a unit of money buys in plan `i`, shrunk toward a prior from its bids.
    pub(crate) fn impressions_per_money(&self, i: usize, e: &ArmEstimate) -> f64 {
        let p = &self.account.plans()[i];
        let live: Vec<&Keyword> = p
            .keywords
            .iter()
            .filter(|k| k.status == Status::Active)
            .collect();
        let avg_bid = if live.is_empty() {
            p.max_bid.units()
        } else {
            live.iter().map(|k| k.bid.units()).sum::<f64>() / live.len() as f64
        };
        let prior = 1.0 / (PRIOR_CPC_SHARE * avg_bid.max(1e-6) * e.ctr.mean().max(1e-6));
        (e.counts.impressions + IPM_PRIOR_COST * prior) / (e.counts.cost + IPM_PRIOR_COST)
    }

    /// Plan `i`'s hour multipliers weighted by the traffic of its active hours (the
    /// engine's traffic curve masked by the schedule): effective bid = bid x this.
    pub(crate) fn mean_multiplier(&self, i: usize) -> f64 {
        let sched = &self.account.plans()[i].schedule;
        let w = self.config.traffic_curve.masked(sched);
        let m: f64 = (0..24).map(|h| w[h] * sched.multiplier(h)).sum();
        if m > 0.0 { m } else { 1.0 }
    }

    /// Spend models for plan `i`'s keywords `js`: the plan's capacity at current bids is
    /// shared in proportion to each keyword's recent cost (plus one unit, so new keywords get
    /// a share).
    pub(crate) fn spend_models(&self, i: usize, js: &[usize], f: DayFactors) -> Vec<SpendModel> {
        let ev = &self.evidence.keywords[i];
        let p = &self.account.plans()[i];
        let n = ev.len().max(1) as f64;
        let total_cost: f64 = ev.iter().map(|e| e.total().cost).sum();
        // Anchor on what the plan spent yesterday at today's bids (the engine applied them):
        // a budget-limited day would have spent more, hence the headroom. Before any data,
        // the capacity guess stands in.
        let t = &self.traffic[i];
        let spent = if t.days == 0 {
            t.capacity
        } else {
            let floor = 0.01 * p.daily_budget.micros() as f64;
            let last = t.last_spend.max(floor)
                * if t.last_limited {
                    LIMITED_HEADROOM
                } else {
                    1.0
                };
            if t.last_limited && self.config.anchor_limited_on_capacity {
                last.max(t.capacity)
            } else {
                last
            }
        };
        // Yesterday's spend was bought at the bids times the pacer's scale: at the bids
        // themselves the model expects it divided by the scale's spend response.
        let scale = if t.days == 0 {
            1.0
        } else {
            t.last_scale.clamp(0.05, 20.0)
        };
        let plan_spend =
            spent / 1e6 * f.traffic / scale.powf(1.0 + self.config.bid_elasticity.max(0.0));
        js.iter()
            .map(|&j| SpendModel {
                bid_ref: p.keywords[j].bid.units(),
                spend_ref: plan_spend * (ev[j].total().cost + 1.0) / (total_cost + n),
                elasticity: self.config.bid_elasticity,
            })
            .collect()
    }

    /// The fitted responses of plan `i`'s keywords `js` (see the module docs): the curve
    /// fitted to the keyword's own days where it has one, else the cost-per-click ratio's.
    pub(crate) fn keyword_fits(&self, i: usize, js: &[usize], f: DayFactors) -> Vec<KeywordFit> {
        let mut out = self.ratio_fits(i, js, f);
        let Some(curves) = self.curves.get(i) else {
            return out;
        };
        let m = self.mean_multiplier(i);
        for (k, &j) in out.iter_mut().zip(js) {
            let Some(c) = curves.get(j).and_then(|c| c.fit) else {
                continue;
            };
            let model = ResponseModel {
                half_bid: c.half_bid,
                max_clicks: c.max_clicks * f.traffic,
                multiplier: m,
                price_factor: c.price_factor,
            };
            let eff_bid = c.ref_bid;
            *k = KeywordFit {
                model,
                eff_bid,
                clicks: model.max_clicks * crate::allocate::response::share(eff_bid / c.half_bid),
                ratio: k.ratio,
                ratio_clicks: k.ratio_clicks,
                share_clicks: c.clicks,
                log_sd: c.log_sd,
            };
        }
        out
    }

    /// Refits the curves of plan `i`'s keywords after day `day` was added.
    pub(crate) fn refit_curves(&mut self, i: usize, day: i32) {
        let n = self.account.plans()[i].keywords.len();
        let all: Vec<usize> = (0..n).collect();
        let priors = self.ratio_fits(i, &all, DayFactors::NORMAL);
        let Some(curves) = self.curves.get_mut(i) else {
            return;
        };
        for (c, p) in curves.iter_mut().zip(&priors) {
            if c.days.last().is_none_or(|d| d.0 != day) {
                continue;
            }
            let pts: Vec<DayPoint> = c
                .days
                .iter()
                .map(|(d, x)| DayPoint {
                    weight: 0.5f64.powf(f64::from(day - d) / CURVE_HALF_LIFE),
                    ..*x
                })
                .collect();
            c.fit = fit(
                &pts,
                p.model.half_bid,
                CURVE_PRIOR_SD,
                crate::engine::what_if::DAY_TRAFFIC_CV,
            );
        }
    }

    /// The responses of plan `i`'s keywords `js` from their cost-per-click ratios.
    pub(crate) fn ratio_fits(&self, i: usize, js: &[usize], f: DayFactors) -> Vec<KeywordFit> {
        let p = &self.account.plans()[i];
        let ev = &self.evidence.keywords[i];
        let tallies = self.evidence.bids.get(i).filter(|t| t.len() == ev.len());
        let m = self.mean_multiplier(i);
        // Each keyword's tally, or its evidence at today's bid where none was kept.
        let tally = |j: usize| -> BidTally {
            let t = tallies.map(|t| t[j].total()).unwrap_or_default();
            if t.clicks > 0.0 && t.bid_clicks > 0.0 {
                return t;
            }
            let c = ev[j].total();
            BidTally {
                clicks: c.clicks,
                cost: c.cost,
                bid_clicks: c.clicks * p.keywords[j].bid.units() * m,
            }
        };
        let all: Vec<BidTally> = (0..ev.len()).map(tally).collect();
        let mut plan = BidTally::default();
        all.iter().for_each(|t| plan.add(t));
        let mid = cpc_ratio(1.0);
        let avg_eff = if plan.clicks > 0.0 && plan.bid_clicks > 0.0 {
            plan.bid_clicks / plan.clicks
        } else {
            let live = p.keywords.iter().filter(|k| k.status == Status::Active);
            let (n, s) = live.fold((0.0, 0.0), |(n, s), k| (n + 1.0, s + k.bid.units()));
            (if n > 0.0 { s / n } else { p.max_bid.units() }) * m
        };
        let plan_ratio = (plan.cost + RATIO_PRIOR_CLICKS * mid * avg_eff)
            / (plan.bid_clicks + RATIO_PRIOR_CLICKS * avg_eff);
        // The plan's demand: clicks per day over the share of the day it was served.
        let t = &self.traffic[i];
        let demand = if t.days == 0 {
            t.capacity / 1e6 / (mid * avg_eff).max(1e-6)
        } else {
            t.daily_clicks / t.served.clamp(0.05, 1.0)
        } * f.traffic;
        let n = ev.len().max(1) as f64;
        js.iter()
            .map(|&j| {
                let k = &all[j];
                let eff_bid = if k.clicks > 0.0 && k.bid_clicks > 0.0 {
                    k.bid_clicks / k.clicks
                } else {
                    p.keywords[j].bid.units() * m
                };
                let ratio = (k.cost + RATIO_PRIOR_CLICKS * plan_ratio * eff_bid)
                    / (k.bid_clicks + RATIO_PRIOR_CLICKS * eff_bid);
                let share = (k.clicks + 0.5) / (plan.clicks + 0.5 * n);
                let clicks = (demand * share).max(1e-3);
                KeywordFit {
                    model: ResponseModel::from_observation(eff_bid, clicks, ratio, m),
                    eff_bid,
                    clicks,
                    ratio,
                    ratio_clicks: k.clicks + RATIO_PRIOR_CLICKS,
                    share_clicks: k.clicks,
                    log_sd: CURVE_PRIOR_SD,
                }
            })
            .collect()
    }
}

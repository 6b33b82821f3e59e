//! Stage: what money buys. Impressions per unit of money for a plan, and each keyword's
//! spend model (spend against bid, anchored on the plan's latest day).

use crate::allocate::bid::SpendModel;
use crate::engine::calendar::DayFactors;
use crate::engine::state::EngineState;
use crate::estimate::ArmEstimate;
use crate::model::{Keyword, Status};

/// Pseudo-spend (currency units) that anchors a plan's impressions-per-money to its prior.
const IPM_PRIOR_COST: f64 = 20.0;
/// Share of the bid a click is assumed to cost before any cost is observed (second price).
const PRIOR_CPC_SHARE: f64 = 0.7;
/// A budget-limited day would have spent at least this much more at the same bids.
const LIMITED_HEADROOM: f64 = 1.25;

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
        let plan_spend = spent / 1e6 * f.traffic;
        js.iter()
            .map(|&j| SpendModel {
                bid_ref: p.keywords[j].bid.units(),
                spend_ref: plan_spend * (ev[j].total().cost + 1.0) / (total_cost + n),
                elasticity: self.config.bid_elasticity,
            })
            .collect()
    }
}

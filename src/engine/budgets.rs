//! Stage: budgets across plans, water-filled by [`crate::allocate::budget`] within the
//! operator's limits, step limits, channel limits and the exploration floor.
//!
//! With [`crate::engine::EngineConfig::budgets_from_bids`] (the default) each plan's target
//! is what its keywords are predicted to spend when every keyword of the account bids its
//! value times one common multiplier, the one that spends the total (the budget-aware
//! oracle's structure: the last unit of money earns the same everywhere); half of
//! yesterday's split is kept ([`crate::engine::EngineConfig::budget_smoothing`]). Without
//! it, each plan's sampled value per unit of money and its learned traffic capacity make a
//! concave response curve, and the total is water-filled across those.

use crate::allocate::bid::{BidInputs, BidRule, SpendModel, raw_bid, solve_lambda_bounded};
use crate::allocate::budget::{Allocation, AllocationLimits, GroupLimits, PlanArm, water_fill};
use crate::engine::bids::KeywordScores;
use crate::engine::calendar::DayFactors;
use crate::engine::decision::BudgetDecision;
use crate::engine::reasons::budget_reason;
use crate::engine::state::EngineState;
use crate::engine::value::Scored;
use crate::estimate::AccountEstimates;
use crate::model::{Date, Objective, Status};
use crate::money::Money;

/// The plans' scores from the policy, one entry per plan.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlanScores {
    pub(crate) ctr: Vec<f64>,
    pub(crate) cvr: Vec<f64>,
    pub(crate) vpc: Vec<f64>,
}

impl<P> EngineState<P> {
    /// The budget of every plan for `date`, with reasons, and the allocation behind them.
    pub(crate) fn budget_stage(
        &self,
        est: &AccountEstimates,
        scores: &PlanScores,
        keyword_scores: &KeywordScores,
        offsets: &[usize],
        factors: DayFactors,
        date: Date,
    ) -> (Vec<BudgetDecision>, Vec<Allocation>) {
        let from_bids = self
            .config
            .budgets_from_bids
            .then(|| self.spend_at_common_multiplier(keyword_scores, offsets, factors));
        let plans = self.account.plans();
        let active_plans = plans
            .iter()
            .filter(|p| p.status == Status::Active)
            .count()
            .max(1);
        let floor = Money::from_micros(
            (self.total_budget.micros() as f64 * self.config.exploration_floor
                / active_plans as f64)
                .floor() as i64,
        );
        let scores_per_money: Vec<f64> = plans
            .iter()
            .enumerate()
            .map(|(i, _)| {
                let scored = Scored {
                    ctr: scores.ctr[i],
                    cvr: scores.cvr[i],
                    vpc: scores.vpc[i],
                };
                scored.value(self.config.objective, factors.cvr)
                    * self.impressions_per_money(i, &est.plans[i])
            })
            .collect();
        let arms: Vec<PlanArm> = plans
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let e = &est.plans[i];
                let limits = self.config.plan_limits.get(&p.id);
                // Budgets from bids: equal values and capacities at the predicted spends make
                // the water level split the total in proportion to them (see the
                // allocator's curve), within every limit.
                let w = self.config.budget_smoothing.clamp(0.0, 0.99);
                let (value_per_money, capacity) = match &from_bids {
                    Some((_, spend)) if spend[i] > 0.0 => (
                        1.0,
                        (1.0 - w) * spend[i] * 1e6 + w * p.daily_budget.micros() as f64,
                    ),
                    Some(_) => (0.0, 1.0),
                    None => (
                        scores_per_money[i],
                        self.traffic[i].capacity * factors.traffic,
                    ),
                };
                PlanArm {
                    current: p.daily_budget,
                    min: limits.map_or(Money::ZERO, |l| l.min_budget),
                    max: limits.map_or(self.total_budget, |l| l.max_budget),
                    value_per_money,
                    capacity,
                    learning: e.counts.clicks < self.config.learning_clicks,
                    active: p.status == Status::Active,
                }
            })
            .collect();
        let limits = AllocationLimits {
            total: self.total_budget,
            max_step: self.config.max_budget_step,
            exploration_floor: floor,
        };
        // Channels as allocation groups; an unlisted channel is unbounded.
        let (names, group_of) = self.account.channels();
        let groups: Vec<GroupLimits> = names
            .iter()
            .map(|n| match self.config.channel_limits.get(*n) {
                Some(l) => {
                    let (min, max) = l.resolve(self.total_budget);
                    GroupLimits { min, max }
                }
                None => GroupLimits::UNBOUNDED,
            })
            .collect();
        // One group per plan from the account, bounds resolved in order: nothing to refuse.
        let alloc = water_fill(&arms, &group_of, &groups, &limits);
        let budgets = plans
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let a = &alloc[i];
                BudgetDecision {
                    plan: p.id.clone(),
                    from: p.daily_budget,
                    to: a.budget,
                    spend_cap: self.spend_cap(i, a.budget, date),
                    reason: budget_reason(
                        a.binding,
                        &p.name,
                        p.daily_budget,
                        a.budget,
                        scores_per_money[i],
                        from_bids.as_ref().map(|(l, _)| *l),
                        &est.plans[i],
                    ),
                }
            })
            .collect();
        (budgets, alloc)
    }
}

impl<P> EngineState<P> {
    /// The account's common bid multiplier and each plan's predicted spend (currency
    /// units) at it: every active keyword of a budget-constrained plan bids its sampled
    /// value (under the account's objective) times the multiplier, within its plan's bid
    /// limits, and the multiplier is the one at which the predicted spend of all of them,
    /// with the target-ROI and target-CPA plans' spend at their own bids, meets the total.
    /// Each keyword's spend model is its plan's ([`EngineState::spend_models`]) divided by
    /// the plan's budget-use dual, which measures how far the model over-forecast the plan's
    /// real spend. See [`crate::engine::EngineConfig::budgets_from_bids`].
    fn spend_at_common_multiplier(
        &self,
        scores: &KeywordScores,
        offsets: &[usize],
        factors: DayFactors,
    ) -> (f64, Vec<f64>) {
        let plans = self.account.plans();
        let mut spend = vec![0.0; plans.len()];
        let (mut values, mut models, mut bounds, mut owner) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (i, p) in plans.iter().enumerate() {
            if p.status != Status::Active {
                continue;
            }
            let live: Vec<usize> = (0..p.keywords.len())
                .filter(|&j| p.keywords[j].status == Status::Active)
                .collect();
            let dual = self.budget_dual(i).max(1e-6);
            let (lo, hi) = (p.min_bid.units(), p.max_bid.units());
            let rule = match p.objective {
                Objective::TargetRoi { roi } => Some(BidRule::TargetRoi { roi }),
                Objective::TargetCpa { cpa } => Some(BidRule::TargetCpa { cpa: cpa.units() }),
                _ => None,
            };
            for (&j, m) in live.iter().zip(self.spend_models(i, &live, factors)) {
                let m = SpendModel {
                    spend_ref: m.spend_ref / dual,
                    ..m
                };
                let s = Scored::per_click(scores.cvr[offsets[i] + j], scores.vpc[offsets[i] + j]);
                match rule {
                    Some(rule) => {
                        let x = BidInputs {
                            value_per_click: s.vpc * factors.cvr,
                            cvr: s.cvr * factors.cvr,
                            objective_value: s.value(p.objective, factors.cvr),
                        };
                        let b = raw_bid(rule, &x);
                        if b > 0.0 {
                            spend[i] += m.spend(b.clamp(lo.min(hi), hi));
                        }
                    }
                    None => {
                        values.push(s.value(self.config.objective, factors.cvr));
                        models.push(m);
                        bounds.push((lo, hi));
                        owner.push(i);
                    }
                }
            }
        }
        let fixed: f64 = spend.iter().sum();
        let free = (self.total_budget.units() - fixed).max(0.0);
        let lambda = solve_lambda_bounded(&values, &models, |k| bounds[k], free);
        for (k, (&v, m)) in values.iter().zip(&models).enumerate() {
            let (lo, hi) = bounds[k];
            if v > 0.0 {
                spend[owner[k]] += m.spend((v * lambda).clamp(lo.min(hi), hi));
            }
        }
        (lambda, spend)
    }
}

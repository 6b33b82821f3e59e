//! Stage: budgets across plans. Each plan's scored value per unit of money and its traffic
//! capacity make a response curve; [`crate::allocate::budget`] water-fills the total across
//! them within the operator's limits, step limits and the exploration floor.

use crate::allocate::budget::{Allocation, AllocationLimits, GroupLimits, PlanArm, water_fill};
use crate::engine::calendar::DayFactors;
use crate::engine::decision::BudgetDecision;
use crate::engine::reasons::budget_reason;
use crate::engine::state::EngineState;
use crate::engine::value::Scored;
use crate::estimate::AccountEstimates;
use crate::model::{Date, Status};
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
        factors: DayFactors,
        date: Date,
    ) -> (Vec<BudgetDecision>, Vec<Allocation>) {
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
        let arms: Vec<PlanArm> = plans
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let e = &est.plans[i];
                let scored = Scored {
                    ctr: scores.ctr[i],
                    cvr: scores.cvr[i],
                    vpc: scores.vpc[i],
                };
                let per_imp = scored.value(self.config.objective, factors.cvr);
                let limits = self.config.plan_limits.get(&p.id);
                PlanArm {
                    current: p.daily_budget,
                    min: limits.map_or(Money::ZERO, |l| l.min_budget),
                    max: limits.map_or(self.total_budget, |l| l.max_budget),
                    value_per_money: per_imp * self.impressions_per_money(i, e),
                    capacity: self.traffic[i].capacity * factors.traffic,
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
                        arms[i].value_per_money,
                        &est.plans[i],
                    ),
                }
            })
            .collect();
        (budgets, alloc)
    }
}

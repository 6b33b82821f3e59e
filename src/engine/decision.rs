//! What the engine decided, and why.

use serde::{Deserialize, Serialize};

use crate::model::{Date, KeywordId, PlanId};
use crate::money::Money;

/// Machine-readable reason for a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// Budget set by the plan's sampled value per unit of money against the others'.
    BudgetByValue,
    /// Budget held at the operator's minimum.
    BudgetAtMin,
    /// Budget held at the operator's maximum.
    BudgetAtMax,
    /// Budget would have grown more; held by the maximum step.
    BudgetStepUp,
    /// Budget would have shrunk more; held by the maximum step.
    BudgetStepDown,
    /// A plan still being learned keeps the exploration floor.
    BudgetExplorationFloor,
    /// The limits asked for more than the total budget; scaled down to the hard cap.
    BudgetTotalCap,
    /// A paused plan gets no budget.
    BudgetPlanPaused,
    /// Bid = sampled value per click / target ROI.
    BidTargetRoi,
    /// Bid = sampled CVR x target CPA.
    BidTargetCpa,
    /// Bid = value x the multiplier that makes predicted spend meet the budget.
    BidBudgetScaled,
    /// Bid held at the plan's minimum.
    BidAtMin,
    /// Bid held at the plan's maximum.
    BidAtMax,
    /// Bid held by the maximum step.
    BidStepLimited,
    /// Keyword paused: very unlikely to meet its objective after enough spend.
    PauseUnlikelyToMeetObjective,
    /// Keyword attracts clicks that do not convert: a page or match-type problem.
    FlagHighCtrLowCvr,
    /// The plan's budget ran out early in the day: traffic was lost.
    FlagBudgetExhaustedEarly,
    /// A known calendar event is in force.
    FlagCalendarEvent,
}

/// The numbers behind a reason (absent ones are `None`, never NaN).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ReasonMetrics {
    /// The sampled or optimistic value the policy scored (units depend on the code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Posterior mean CTR.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctr: Option<f64>,
    /// Posterior mean CVR.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvr: Option<f64>,
    /// Posterior mean ROI (revenue / cost) at the observed CPC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roi: Option<f64>,
    /// A posterior probability the rule used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Clicks of evidence (after forgetting).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clicks: Option<f64>,
    /// Cost of evidence (after forgetting), currency units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
}

/// A reason: a code for machines, a sentence for the operator, and the numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// What decided it.
    pub code: ReasonCode,
    /// One sentence an operator can read.
    pub message: String,
    /// The evidence.
    pub metrics: ReasonMetrics,
}

/// A plan's budget for the coming day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetDecision {
    /// The plan.
    pub plan: PlanId,
    /// The budget before.
    pub from: Money,
    /// The new daily budget.
    pub to: Money,
    /// The most the day may spend: `to` under a hard cap, more under over-delivery.
    pub spend_cap: Money,
    /// Why.
    pub reason: Reason,
}

/// A keyword's bid for the coming day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BidDecision {
    /// The keyword.
    pub keyword: KeywordId,
    /// Its plan.
    pub plan: PlanId,
    /// The bid before.
    pub from: Money,
    /// The new bid.
    pub to: Money,
    /// Why.
    pub reason: Reason,
}

/// A keyword to pause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PauseDecision {
    /// The keyword.
    pub keyword: KeywordId,
    /// Its plan.
    pub plan: PlanId,
    /// Why.
    pub reason: Reason,
}

/// Something the operator should look at; the engine does not act on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    /// The plan.
    pub plan: Option<PlanId>,
    /// The keyword, for keyword flags.
    pub keyword: Option<KeywordId>,
    /// What and why.
    pub reason: Reason,
}

/// One decision: every plan's budget, every active keyword's bid, pauses and flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The day the decision is for.
    pub date: Date,
    /// 1-based decision number.
    pub round: u64,
    /// The total daily budget the budgets add up to at most.
    pub total_budget: Money,
    /// One per plan, in account order.
    pub budgets: Vec<BudgetDecision>,
    /// One per active keyword, in account order.
    pub bids: Vec<BidDecision>,
    /// Keywords to pause.
    pub pauses: Vec<PauseDecision>,
    /// Things to look at.
    pub flags: Vec<Flag>,
}

impl Decision {
    /// Sum of the new budgets.
    pub fn budget_sum(&self) -> Money {
        Money::from_micros(self.budgets.iter().map(|b| b.to.micros()).sum())
    }

    /// The budget decided for `plan`.
    pub fn budget_of(&self, plan: &PlanId) -> Option<&BudgetDecision> {
        self.budgets.iter().find(|b| &b.plan == plan)
    }

    /// The bid decided for `keyword`.
    pub fn bid_of(&self, keyword: &KeywordId) -> Option<&BidDecision> {
        self.bids.iter().find(|b| &b.keyword == keyword)
    }
}

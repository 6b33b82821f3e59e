//! What the engine decided, and why.

use serde::{Deserialize, Serialize};

use crate::creative::CreativeReport;
use crate::model::{CreativeId, Date, KeywordId, PlanId};
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
    /// Budget held down by its channel's maximum (`EngineConfig::channel_limits`).
    BudgetAtChannelMax,
    /// Budget raised by its channel's minimum (`EngineConfig::channel_limits`).
    BudgetAtChannelMin,
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
    /// The plan's return over the last days left what its older evidence said, beyond
    /// noise: the older evidence was discounted (see `EngineConfig::change_detection`).
    FlagChangeDetected,
    /// A budget raise held back: the plan misses its target with high probability
    /// (set by the report analysis, `crate::analysis`).
    BudgetHeldMissesTarget,
    /// A bid raise held back: the keyword misses its target with high probability
    /// (set by the report analysis).
    BidHeldMissesTarget,
    /// A plan's creatives rotate by probability matching: no winner yet.
    CreativeRotation,
    /// A creative won its plan's test: it is served alone.
    CreativeWinner,
    /// Creative paused: another creative of its plan won the test.
    PauseCreativeLost,
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
///
/// The sentence is rendered on demand by [`Reason::message`] (a decision over 100,000
/// keywords would otherwise format 100,000 sentences nobody reads); it is always included
/// when the reason is serialised.
#[derive(Debug, Clone)]
pub struct Reason {
    /// What decided it.
    pub code: ReasonCode,
    /// The evidence.
    pub metrics: ReasonMetrics,
    text: ReasonText,
}

/// What a sentence is rendered from.
#[derive(Debug, Clone)]
enum ReasonText {
    Text(String),
    Bid {
        from: Money,
        to: Money,
        detail: BidDetail,
    },
}

/// The objective formula behind a bid (for its sentence).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum BidDetail {
    AtMin,
    AtMax,
    Step,
    TargetRoi { value_per_click: f64, roi: f64 },
    TargetCpa { cvr: f64, cpa: f64 },
    Scaled { value: f64, lambda: f64 },
}

impl Reason {
    /// A reason with a ready sentence.
    pub fn new(code: ReasonCode, message: impl Into<String>, metrics: ReasonMetrics) -> Self {
        Reason {
            code,
            metrics,
            text: ReasonText::Text(message.into()),
        }
    }

    pub(crate) fn bid(
        code: ReasonCode,
        from: Money,
        to: Money,
        detail: BidDetail,
        metrics: ReasonMetrics,
    ) -> Self {
        Reason {
            code,
            metrics,
            text: ReasonText::Bid { from, to, detail },
        }
    }

    /// The sentence an operator reads.
    pub fn message(&self) -> String {
        match &self.text {
            ReasonText::Text(s) => s.clone(),
            ReasonText::Bid { from, to, detail } => {
                let why = match *detail {
                    BidDetail::AtMin => "held at the plan's minimum bid".to_string(),
                    BidDetail::AtMax => "held at the plan's maximum bid".to_string(),
                    BidDetail::Step => {
                        "moved by the largest step allowed toward its objective bid".to_string()
                    }
                    BidDetail::TargetRoi {
                        value_per_click,
                        roi,
                    } => {
                        format!("sampled value per click {value_per_click:.2} / target ROI {roi}")
                    }
                    BidDetail::TargetCpa { cvr, cpa } => {
                        format!(
                            "sampled conversion rate {:.2}% x target CPA {cpa:.2}",
                            100.0 * cvr
                        )
                    }
                    BidDetail::Scaled { value, lambda } => format!(
                        "value {value:.3} x {lambda:.3}, the multiplier at which predicted spend meets the plan's budget"
                    ),
                };
                format!("Bid from {from} to {to}: {why}")
            }
        }
    }
}

impl PartialEq for Reason {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
            && self.metrics == other.metrics
            && self.message() == other.message()
    }
}

#[derive(Serialize, Deserialize)]
struct RawReason {
    code: ReasonCode,
    message: String,
    metrics: ReasonMetrics,
}

impl Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RawReason {
            code: self.code,
            message: self.message(),
            metrics: self.metrics,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawReason::deserialize(d)?;
        Ok(Reason::new(r.code, r.message, r.metrics))
    }
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

/// One creative's share of its plan's impressions from this decision on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreativeWeight {
    /// The creative.
    pub creative: CreativeId,
    /// Its share (a plan's shares sum to 1).
    pub weight: f64,
}

/// A plan's creative test: the rotation to serve, the winner once there is one, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreativeDecision {
    /// The plan.
    pub plan: PlanId,
    /// The active creatives' impression shares, in the plan's order (the winner alone at 1
    /// once declared).
    pub weights: Vec<CreativeWeight>,
    /// The winner, once declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner: Option<CreativeId>,
    /// [`ReasonCode::CreativeWinner`] or [`ReasonCode::CreativeRotation`], with the verdict
    /// (or the evidence still needed) in the sentence.
    pub reason: Reason,
    /// The test in full: each creative's posteriors, P(best), expected loss and weight.
    pub test: CreativeReport,
}

impl CreativeDecision {
    /// The share of `creative` (0 for one not in the rotation).
    pub fn weight_of(&self, creative: &CreativeId) -> f64 {
        self.weights
            .iter()
            .find(|w| &w.creative == creative)
            .map_or(0.0, |w| w.weight)
    }
}

/// A creative to pause: it lost its plan's test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreativePause {
    /// The creative.
    pub creative: CreativeId,
    /// Its plan.
    pub plan: PlanId,
    /// Why ([`ReasonCode::PauseCreativeLost`]).
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
    /// Per plan with active creatives, its creative test (absent for accounts without
    /// creatives, so their decisions read and serialise as before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub creatives: Vec<CreativeDecision>,
    /// Creatives to pause (the losers of a decided test).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub creative_pauses: Vec<CreativePause>,
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

    /// The creative test of `plan`, if it has active creatives.
    pub fn creatives_of(&self, plan: &PlanId) -> Option<&CreativeDecision> {
        self.creatives.iter().find(|c| &c.plan == plan)
    }

    /// The bid decided for `keyword`.
    pub fn bid_of(&self, keyword: &KeywordId) -> Option<&BidDecision> {
        self.bids.iter().find(|b| &b.keyword == keyword)
    }
}

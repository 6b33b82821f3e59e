//! Stage: reasons. Every change carries a machine-readable code, the figures behind it and
//! a sentence for the operator.

use crate::allocate::bid::{BidBinding, BidInputs, BidRule};
use crate::allocate::budget::Binding;
use crate::engine::calendar::CalendarEvent;
use crate::engine::decision::{BidDetail, Flag, Reason, ReasonCode, ReasonMetrics};
use crate::estimate::ArmEstimate;
use crate::model::Date;
use crate::money::Money;

pub(crate) fn metrics(
    e: &ArmEstimate,
    probability: Option<f64>,
    score: Option<f64>,
) -> ReasonMetrics {
    ReasonMetrics {
        score: score.filter(|s| s.is_finite()),
        ctr: Some(e.ctr.mean()),
        cvr: Some(e.cvr.mean()),
        roi: e.counts.cpc().and_then(|c| e.roi(c)),
        probability,
        clicks: Some(e.counts.clicks),
        cost: Some(e.counts.cost),
    }
}

/// `lambda`: the account's common bid multiplier when budgets follow the bids
/// ([`crate::engine::EngineConfig::budgets_from_bids`]), `None` when they follow the plans'
/// sampled value per unit of money.
pub(crate) fn budget_reason(
    b: Binding,
    name: &str,
    from: Money,
    to: Money,
    score: f64,
    lambda: Option<f64>,
    e: &ArmEstimate,
) -> Reason {
    let dir = if to > from {
        "raised"
    } else if to < from {
        "cut"
    } else {
        "kept"
    };
    let (code, why) = match b {
        Binding::Value => (
            ReasonCode::BudgetByValue,
            match lambda {
                Some(l) => format!(
                    "what its keywords are predicted to spend when every keyword of the account bids its sampled value x {l:.3}, the one multiplier that spends the total: the last unit of money earns about the same in every plan (sampled value per unit spent: {score:.3})"
                ),
                None => format!(
                    "where its marginal value matches the other plans' (sampled value per unit spent at low spend: {score:.3}, falling as it spends toward its traffic capacity)"
                ),
            },
        ),
        Binding::Min => (
            ReasonCode::BudgetAtMin,
            "held at the operator's minimum".to_string(),
        ),
        Binding::Max => (
            ReasonCode::BudgetAtMax,
            "held at the operator's maximum".to_string(),
        ),
        Binding::StepUp => (
            ReasonCode::BudgetStepUp,
            format!(
                "at the margin it earns more than the other plans (sampled value per unit spent at low spend: {score:.3}), but a budget moves at most one step per decision"
            ),
        ),
        Binding::StepDown => (
            ReasonCode::BudgetStepDown,
            format!(
                "at the margin it earns less than the other plans (sampled value per unit spent at low spend: {score:.3}), but a budget moves at most one step per decision"
            ),
        ),
        Binding::ExplorationFloor => (
            ReasonCode::BudgetExplorationFloor,
            "it is still being learned and keeps the exploration floor".to_string(),
        ),
        Binding::TotalCap => (
            ReasonCode::BudgetTotalCap,
            "the plans' minimums exceed the total budget, so all were scaled down to the total"
                .to_string(),
        ),
        Binding::GroupMax => (
            ReasonCode::BudgetAtChannelMax,
            "held by its channel's maximum: the plans of the channel share no more than the operator's limit"
                .to_string(),
        ),
        Binding::GroupMin => (
            ReasonCode::BudgetAtChannelMin,
            "raised by its channel's minimum: the plans of the channel must share at least the operator's limit"
                .to_string(),
        ),
        Binding::Inactive => (
            ReasonCode::BudgetPlanPaused,
            "the plan is paused".to_string(),
        ),
    };
    Reason::new(
        code,
        format!("Budget of {name} {dir} from {from} to {to}: {why}"),
        metrics(e, None, Some(score)),
    )
}

pub(crate) fn bid_reason(
    rule: BidRule,
    b: BidBinding,
    from: Money,
    to: Money,
    x: &BidInputs,
    e: &ArmEstimate,
) -> Reason {
    let (code, detail) = match (b, rule) {
        (BidBinding::Min, _) => (ReasonCode::BidAtMin, BidDetail::AtMin),
        (BidBinding::Max, _) => (ReasonCode::BidAtMax, BidDetail::AtMax),
        (BidBinding::Step, _) => (ReasonCode::BidStepLimited, BidDetail::Step),
        (BidBinding::Objective, BidRule::TargetRoi { roi }) => (
            ReasonCode::BidTargetRoi,
            BidDetail::TargetRoi {
                value_per_click: x.value_per_click,
                roi,
            },
        ),
        (BidBinding::Objective, BidRule::TargetCpa { cpa }) => (
            ReasonCode::BidTargetCpa,
            BidDetail::TargetCpa { cvr: x.cvr, cpa },
        ),
        (BidBinding::Objective, BidRule::Scaled { lambda }) => (
            ReasonCode::BidBudgetScaled,
            BidDetail::Scaled {
                value: x.objective_value,
                lambda,
            },
        ),
    };
    Reason::bid(
        code,
        from,
        to,
        detail,
        metrics(e, None, Some(x.value_per_click)),
    )
}

/// A flag for each calendar event in force on `date`.
pub(crate) fn calendar_flags(events: &[CalendarEvent], date: Date) -> Vec<Flag> {
    events
        .iter()
        .filter(|e| e.covers(date))
        .map(|e| Flag {
            plan: None,
            keyword: None,
            reason: Reason::new(
                ReasonCode::FlagCalendarEvent,
                format!(
                    "{} is in force: planning with traffic x{} and conversion rate x{}; its data is learned net of those factors",
                    e.name(),
                    e.traffic_factor(),
                    e.cvr_factor()
                ),
                ReasonMetrics::default(),
            ),
        })
        .collect()
}

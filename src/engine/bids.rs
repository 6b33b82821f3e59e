//! Stage: bids per keyword from its plan's objective ([`crate::allocate::bid`]): value over
//! the target ROI, CVR times the target CPA, or a common multiplier that makes the plan's
//! predicted spend meet its budget; then the pause and flag rules.

use crate::allocate::bid::{BidInputs, BidLimits, BidRule, bid_for, solve_lambda};
use crate::engine::calendar::DayFactors;
use crate::engine::decision::{BidDecision, Flag, PauseDecision};
use crate::engine::reasons::bid_reason;
use crate::engine::state::EngineState;
use crate::engine::value::Scored;
use crate::estimate::AccountEstimates;
use crate::model::{KeywordPos, Objective, Status};
use crate::money::Money;

/// The keywords' scores from the policy, flattened in account order.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeywordScores {
    pub(crate) cvr: Vec<f64>,
    pub(crate) vpc: Vec<f64>,
}

/// What the bid stage decides.
#[derive(Debug, Default)]
pub(crate) struct BidStage {
    /// One per active keyword of an active plan, in account order.
    pub(crate) bids: Vec<BidDecision>,
    /// Where each bid goes in the account.
    pub(crate) positions: Vec<KeywordPos>,
    pub(crate) pauses: Vec<PauseDecision>,
    pub(crate) flags: Vec<Flag>,
}

impl<P> EngineState<P> {
    /// Bids, pauses and keyword flags for every active plan, given its new `budgets`.
    pub(crate) fn bid_stage(
        &self,
        est: &AccountEstimates,
        scores: &KeywordScores,
        budgets: &[Money],
        offsets: &[usize],
        factors: DayFactors,
    ) -> BidStage {
        let mut out = BidStage::default();
        for (i, p) in self.account.plans().iter().enumerate() {
            if p.status != Status::Active {
                continue;
            }
            let off = offsets[i];
            let live: Vec<usize> = (0..p.keywords.len())
                .filter(|&j| p.keywords[j].status == Status::Active)
                .collect();
            let scored = |j: usize| Scored::per_click(scores.cvr[off + j], scores.vpc[off + j]);
            let objective_value = |j: usize| scored(j).value(p.objective, factors.cvr);
            let rule = match p.objective {
                Objective::TargetRoi { roi } => BidRule::TargetRoi { roi },
                Objective::TargetCpa { cpa } => BidRule::TargetCpa { cpa: cpa.units() },
                _ => {
                    let values: Vec<f64> = live.iter().map(|&j| objective_value(j)).collect();
                    let models = self.spend_models(i, &live, factors);
                    let lambda = solve_lambda(
                        &values,
                        &models,
                        p.min_bid.units(),
                        p.max_bid.units(),
                        budgets[i].units() * self.budget_dual(i),
                    );
                    BidRule::Scaled { lambda }
                }
            };
            let limits = BidLimits {
                min: p.min_bid,
                max: p.max_bid,
                max_step: self.config.max_bid_step,
                increment: self.config.bid_increment,
            };
            for &j in &live {
                let k = &p.keywords[j];
                let e = &est.keywords[i][j];
                let s = scored(j);
                let inputs = BidInputs {
                    value_per_click: s.vpc * factors.cvr,
                    cvr: s.cvr * factors.cvr,
                    objective_value: objective_value(j),
                };
                let (to, binding) = bid_for(rule, &inputs, k.bid, &limits);
                out.positions.push((i, j));
                out.bids.push(BidDecision {
                    keyword: k.id.clone(),
                    plan: p.id.clone(),
                    from: k.bid,
                    to,
                    reason: bid_reason(rule, binding, k.bid, to, &inputs, e),
                });
                if let Some(reason) = self.pause_rule(p.objective, e) {
                    out.pauses.push(PauseDecision {
                        keyword: k.id.clone(),
                        plan: p.id.clone(),
                        reason,
                    });
                } else if let Some(reason) = self.ctr_cvr_flag(e, &est.plans[i]) {
                    out.flags.push(Flag {
                        plan: Some(p.id.clone()),
                        keyword: Some(k.id.clone()),
                        reason,
                    });
                }
            }
        }
        out
    }
}

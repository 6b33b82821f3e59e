//! Stage: the pause and flag rules, each a posterior probability against a threshold.

use crate::engine::decision::{Reason, ReasonCode};
use crate::engine::reasons::metrics;
use crate::engine::state::EngineState;
use crate::estimate::{ArmEstimate, BetaPosterior};
use crate::model::Objective;

impl<P> EngineState<P> {
    /// Pause when, after enough spend and clicks, the posterior probability that the keyword
    /// meets its objective is below the threshold. `P(CVR >= x)` uses the Beta posterior of
    /// the CVR and the posterior mean AOV.
    pub(crate) fn pause_rule(&self, objective: Objective, e: &ArmEstimate) -> Option<Reason> {
        let r = &self.config.rules;
        let c = &e.counts;
        if c.clicks < r.pause_min_clicks || c.cost < r.pause_min_cost {
            return None;
        }
        let cpc = c.cpc()?;
        let aov = e.aov.mean();
        let cvr = e.cvr.mean();
        // Stated in the operator's terms (ROI or CPA against the target), never as the
        // conversion rate the target would need, which can exceed 100%.
        let (needed_cvr, what) = match objective {
            Objective::MaxClicks => return None,
            Objective::TargetRoi { roi } => (
                roi * cpc / aov,
                format!("ROI {:.2} against a target ROI {roi}", cvr * aov / cpc),
            ),
            Objective::TargetCpa { cpa } => (
                cpc / cpa.units(),
                format!(
                    "CPA {:.2} against a target CPA {:.2}",
                    cpc / cvr.max(1e-9),
                    cpa.units()
                ),
            ),
            // Maximising conversions has no target to miss; without order values (an
            // account without revenue) break-even is unknown.
            Objective::MaxConversions => return None,
            Objective::MaxRevenue if !(aov > 0.0 && r.pause_below_break_even) => return None,
            Objective::MaxRevenue => (
                r.min_roi * cpc / aov,
                format!(
                    "ROI {:.2} against a break-even ROI {}",
                    cvr * aov / cpc,
                    r.min_roi
                ),
            ),
        };
        // No probability, no pause: a keyword is never paused on a figure that failed.
        let p = prob_above(&e.cvr, needed_cvr)?;
        (p < r.pause_below_probability).then(|| {
            Reason::new(
                ReasonCode::PauseUnlikelyToMeetObjective,
                format!(
                    "{what}, missed with {:.0}% probability after {:.0} clicks and {:.2} spent",
                    100.0 * (1.0 - p),
                    c.clicks,
                    c.cost
                ),
                metrics(e, Some(p), None),
            )
        })
    }

    /// Flags a keyword whose clicks do not convert: its CVR is far below its siblings'
    /// (`cvr_ratio` x, with probability above `flag_probability`) while its CTR is not far
    /// below theirs (it keeps attracting clicks). The siblings are the plan's other keywords,
    /// the keyword itself left out: a broad keyword that brings most of its plan's traffic
    /// would otherwise be compared with itself and never stand out (issue 14: broad
    /// keywords with ~0 orders in 77-273 clicks were never flagged). Without sibling
    /// evidence the plan's posterior means stand in.
    pub(crate) fn ctr_cvr_flag(&self, e: &ArmEstimate, plan: &ArmEstimate) -> Option<Reason> {
        let r = &self.config.rules;
        if e.counts.clicks < r.pause_min_clicks {
            return None;
        }
        let sib = plan.counts.minus(&e.counts);
        let (sib_ctr, sib_cvr) = if sib.clicks >= r.pause_min_clicks && sib.impressions > 0.0 {
            (sib.clicks / sib.impressions, sib.conversions / sib.clicks)
        } else {
            (plan.ctr.mean(), plan.cvr.mean())
        };
        if !(sib_cvr > 0.0) {
            return None;
        }
        let p_ctr = prob_above(&e.ctr, r.cvr_ratio * sib_ctr)?;
        let p_cvr = 1.0 - prob_above(&e.cvr, r.cvr_ratio * sib_cvr)?;
        (p_ctr > 0.5 && p_cvr > r.flag_probability).then(|| Reason::new(
            ReasonCode::FlagHighCtrLowCvr,
            format!(
                "CTR {:.2}% against its siblings' {:.2}%, but CVR {:.2}% is well below their {:.2}% after {:.0} clicks: clicks that do not convert; check the search terms (negative keywords), the match type and the landing page, not the bid",
                100.0 * e.ctr.mean(),
                100.0 * sib_ctr,
                100.0 * e.cvr.mean(),
                100.0 * sib_cvr,
                e.counts.clicks
            ),
            metrics(e, Some(p_cvr), None),
        ))
    }
}

/// P(rate > x) under a Beta posterior; `None` when it cannot be computed (a NaN threshold,
/// or the incomplete beta function failing on extreme parameters).
pub(crate) fn prob_above(b: &BetaPosterior, x: f64) -> Option<f64> {
    if x.is_nan() {
        return None;
    }
    if x <= 0.0 {
        return Some(1.0);
    }
    if x >= 1.0 {
        return Some(0.0);
    }
    statrs::function::beta::checked_beta_reg(b.alpha(), b.beta(), x)
        .ok()
        .filter(|cdf| cdf.is_finite())
        .map(|cdf| (1.0 - cdf).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::EngineConfig;
    use crate::estimate::{BetaPrior, Counts, OrderValuePrior};
    use crate::model::Account;
    use crate::money::Money;
    use crate::rng::stream;

    fn state() -> EngineState<()> {
        let account = Account::new("s", "CNY", Vec::new()).unwrap();
        EngineState::new(
            account,
            EngineConfig::default(),
            (),
            1,
            stream(1, &[]),
            Money::ZERO,
        )
    }

    fn keyword(clicks: f64, orders: f64, cost: f64, revenue: f64) -> ArmEstimate {
        ArmEstimate {
            ctr: BetaPrior::UNIFORM.update(clicks, clicks * 20.0),
            cvr: BetaPrior::UNIFORM.update(orders, clicks),
            aov: OrderValuePrior::weak(50.0).update(orders, revenue),
            counts: Counts {
                impressions: clicks * 20.0,
                clicks,
                conversions: orders,
                cost,
                revenue,
            },
        }
    }

    #[test]
    fn prob_above_is_none_when_it_cannot_be_computed() {
        let b = BetaPrior::UNIFORM.update(3.0, 10.0);
        assert_eq!(prob_above(&b, f64::NAN), None);
        assert_eq!(prob_above(&b, 0.0), Some(1.0));
        assert_eq!(prob_above(&b, 1.5), Some(0.0));
        let p = prob_above(&b, 0.3).unwrap();
        assert!(p > 0.3 && p < 0.7, "{p}");
    }

    #[test]
    fn pause_needs_evidence_and_a_low_probability() {
        let s = state();
        let roi = Objective::TargetRoi { roi: 3.0 };
        // 200 clicks, no orders, 100 spent: cannot reach ROI 3.
        let bad = keyword(200.0, 0.0, 100.0, 0.0);
        let r = s.pause_rule(roi, &bad).unwrap();
        assert_eq!(r.code, ReasonCode::PauseUnlikelyToMeetObjective);
        // Too little evidence yet.
        assert!(s.pause_rule(roi, &keyword(10.0, 0.0, 100.0, 0.0)).is_none());
        // A keyword that earns ROI 10 is kept; max clicks never pauses.
        assert!(
            s.pause_rule(roi, &keyword(200.0, 20.0, 100.0, 1000.0))
                .is_none()
        );
        assert!(s.pause_rule(Objective::MaxClicks, &bad).is_none());
    }
}

//! Stage: creative tests. Each plan with active creatives gets its rotation weights
//! (probability matching, a floor while young), its winner once one is known, and the pauses
//! of the losers ([`crate::creative`]).

use crate::creative::{CreativeEvidence, CreativeMetric, CreativeTest, CreativeVerdict};
use crate::engine::decision::{
    CreativeDecision, CreativePause, CreativeWeight, Reason, ReasonCode, ReasonMetrics,
};
use crate::engine::state::EngineState;
use crate::error::Result;
use crate::estimate::Counts;
use crate::model::{Stats, Status};
use crate::money::Money;
use crate::rng::stream;

/// What the creative stage decided.
pub(crate) struct CreativeStage {
    pub(crate) tests: Vec<CreativeDecision>,
    pub(crate) pauses: Vec<CreativePause>,
}

impl<P> EngineState<P> {
    /// Tests each plan's active creatives on their (forgotten, event-adjusted) evidence.
    /// Plan `i` draws from its own stream under `round_seed`, so one plan's creatives never
    /// shift another's draws and the keyword and plan draws are untouched.
    pub(crate) fn creative_stage(&self, round_seed: u64) -> Result<CreativeStage> {
        let test = CreativeTest::new(self.config.creative_test)?;
        let metric = self.config.creative_test.metric;
        let mut out = CreativeStage {
            tests: Vec::new(),
            pauses: Vec::new(),
        };
        for (i, p) in self.account.plans().iter().enumerate() {
            let evidence: Vec<CreativeEvidence> = p
                .creatives
                .iter()
                .enumerate()
                .filter(|(_, c)| c.status == Status::Active)
                .map(|(j, c)| CreativeEvidence {
                    creative: c.id.clone(),
                    stats: self
                        .creatives
                        .evidence
                        .get(i)
                        .and_then(|e| e.get(j))
                        .map_or_else(Stats::default, |e| whole_stats(&e.total())),
                })
                .collect();
            if evidence.is_empty() {
                continue;
            }
            let mut rng = stream(round_seed, &[2, i as u64]);
            let report = test.evaluate(&evidence, &mut rng)?;
            let winner = report.verdict.winner().cloned();
            let code = if winner.is_some() {
                ReasonCode::CreativeWinner
            } else {
                ReasonCode::CreativeRotation
            };
            let lead = match &report.verdict {
                CreativeVerdict::Winner { creative, .. }
                | CreativeVerdict::NoWinnerYet {
                    leader: creative, ..
                } => report.arm(creative),
                CreativeVerdict::NothingToTest => report.arms.first(),
            };
            let reason = Reason::new(
                code,
                format!("Plan {}: {}", p.name, report.verdict.message(metric)),
                lead.map_or_else(ReasonMetrics::default, |a| arm_metrics(a, metric)),
            );
            for loser in report.losers() {
                let Some(a) = report.arm(loser) else { continue };
                out.pauses.push(CreativePause {
                    creative: loser.clone(),
                    plan: p.id.clone(),
                    reason: Reason::new(
                        ReasonCode::PauseCreativeLost,
                        format!(
                            "Creative {loser} of plan {} paused: {} won the test ({:.1}% probability that {loser} is the best; serving only the winner loses {:.2}% of the best's value at most in expectation)",
                            p.name,
                            winner.as_ref().map_or("another creative", |w| w.as_str()),
                            100.0 * a.p_best,
                            100.0 * report
                                .arm(winner.as_ref().unwrap_or(loser))
                                .map_or(0.0, |w| w.expected_loss),
                        ),
                        arm_metrics(a, metric),
                    ),
                });
            }
            out.tests.push(CreativeDecision {
                plan: p.id.clone(),
                weights: report
                    .arms
                    .iter()
                    .map(|a| CreativeWeight {
                        creative: a.creative.clone(),
                        weight: a.weight,
                    })
                    .collect(),
                winner,
                reason,
                test: report,
            });
        }
        Ok(out)
    }
}

fn arm_metrics(a: &crate::creative::CreativeArm, metric: CreativeMetric) -> ReasonMetrics {
    ReasonMetrics {
        score: Some(a.value).filter(|v| v.is_finite()),
        ctr: Some(a.ctr.mean()),
        cvr: (metric == CreativeMetric::ValuePerImpression).then(|| a.cvr.mean()),
        roi: None,
        probability: Some(a.p_best),
        clicks: None,
        cost: None,
    }
}

/// Evidence (fractional after forgetting) as whole counts for the test, rounded, with the
/// counters' order kept (clicks <= impressions, conversions <= clicks).
fn whole_stats(c: &Counts) -> Stats {
    let n = |x: f64| {
        if x.is_finite() && x > 0.0 {
            x.round() as u64
        } else {
            0
        }
    };
    let money = |x: f64| Money::from_units_f64(x.max(0.0)).unwrap_or(Money::ZERO);
    let imp = n(c.impressions);
    let clicks = n(c.clicks).min(imp);
    let conv = n(c.conversions).min(clicks);
    Stats::new(imp, clicks, conv, money(c.cost), money(c.revenue)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractional_evidence_rounds_to_valid_stats() {
        let s = whole_stats(&Counts {
            impressions: 10.4,
            clicks: 10.6,
            conversions: 12.0,
            cost: -1.0,
            revenue: f64::NAN,
        });
        assert_eq!((s.impressions(), s.clicks(), s.conversions()), (10, 10, 10));
        assert_eq!(s.cost(), Money::ZERO);
    }
}

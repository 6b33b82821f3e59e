//! Summaries: mean and Student-t 95% interval per strategy, and paired differences against a
//! baseline on the same seeds (common random numbers).
//!
//! A summary is a pure function of a list of [`JobResult`]s in job order, computed
//! sequentially, so results merged from shards summarise to the same bytes.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::compare::runner::JobResult;
use crate::error::{Error, Result};

/// A mean with a two-sided 95% Student-t confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Sample size.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Lower bound (equal to the mean when n < 2).
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

impl Interval {
    /// The mean and 95% interval of `xs` (summed in order); `None` for no data.
    pub fn of(xs: &[f64]) -> Option<Interval> {
        let n = xs.len();
        if n == 0 {
            return None;
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Some(Interval {
                n,
                mean,
                lo: mean,
                hi: mean,
            });
        }
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let se = (var / n as f64).sqrt();
        let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
            .map(|d| d.inverse_cdf(0.975))
            .unwrap_or(f64::NAN);
        Some(Interval {
            n,
            mean,
            lo: mean - t * se,
            hi: mean + t * se,
        })
    }

    /// [`Interval::of`] for values that exist by construction (one per run of a row); an
    /// empty list gives a zero interval with `n = 0`.
    fn of_runs(xs: &[f64]) -> Interval {
        Interval::of(xs).unwrap_or(Interval {
            n: 0,
            mean: 0.0,
            lo: 0.0,
            hi: 0.0,
        })
    }

    /// Whether the whole interval is above zero.
    pub fn above_zero(&self) -> bool {
        self.lo > 0.0
    }
}

/// One strategy on one scenario, over its seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategySummary {
    /// Scenario.
    pub scenario: String,
    /// Strategy.
    pub strategy: String,
    /// Revenue (currency units).
    pub revenue: Interval,
    /// Cost (currency units).
    pub cost: Interval,
    /// ROI (revenue / cost) per run (`None` when no run spent anything).
    pub roi: Option<Interval>,
    /// Clicks.
    pub clicks: Interval,
    /// Conversions.
    pub conversions: Interval,
    /// CTR (`None` when no run had impressions).
    pub ctr: Option<Interval>,
    /// CPC (currency units; `None` when no run had clicks).
    pub cpc: Option<Interval>,
    /// Budget utilisation (`None` when no run had a budget).
    pub budget_utilisation: Option<Interval>,
    /// Regret against the oracle (currency units).
    pub regret: Interval,
    /// Largest overspend of any run (currency units; must be 0).
    pub max_overspend: f64,
    /// Revenue minus the baseline's on the same seeds (`None` for the baseline itself or
    /// when the baseline is missing).
    pub vs_baseline: Option<Interval>,
    /// `vs_baseline` as a percentage of the baseline's mean revenue.
    pub vs_baseline_pct: Option<Interval>,
}

/// Every strategy on every scenario, in first-appearance order of the job list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The baseline strategy for paired differences.
    pub baseline: String,
    /// One row per (scenario, strategy).
    pub rows: Vec<StrategySummary>,
}

impl Summary {
    /// The row for a scenario and strategy.
    pub fn get(&self, scenario: &str, strategy: &str) -> Option<&StrategySummary> {
        self.rows
            .iter()
            .find(|r| r.scenario == scenario && r.strategy == strategy)
    }

    /// The non-oracle strategy with the highest mean revenue on `scenario`.
    pub fn best(&self, scenario: &str) -> Option<&StrategySummary> {
        self.rows
            .iter()
            .filter(|r| r.scenario == scenario && !is_reference(&r.strategy))
            .max_by(|a, b| a.revenue.mean.total_cmp(&b.revenue.mean))
    }
}

/// Whether `strategy` is one of the built-in oracles (`oracle`, `oracle_fixed`): they read the
/// truth, so they are references for the learners, not contenders for a verdict.
pub fn is_reference(strategy: &str) -> bool {
    strategy == "oracle" || strategy == "oracle_fixed"
}

/// Paired difference of `metric` between `a` and `b` on the seeds both have, per scenario.
///
/// # Errors
/// [`Error::InvalidValue`] when they share no seed on the scenario.
pub fn paired(
    results: &[JobResult],
    scenario: &str,
    a: &str,
    b: &str,
    metric: fn(&JobResult) -> f64,
) -> Result<Interval> {
    let pick = |s: &str| -> Vec<&JobResult> {
        results
            .iter()
            .filter(|r| r.job.scenario == scenario && r.job.strategy == s)
            .collect()
    };
    let (ra, rb) = (pick(a), pick(b));
    let diffs: Vec<f64> = ra
        .iter()
        .filter_map(|x| {
            rb.iter()
                .find(|y| y.job.seed == x.job.seed)
                .map(|y| metric(x) - metric(y))
        })
        .collect();
    Interval::of(&diffs).ok_or_else(|| {
        Error::invalid(
            "paired",
            format!("{a} vs {b} on {scenario}"),
            "no common seeds",
        )
    })
}

fn revenue(r: &JobResult) -> f64 {
    r.metrics.revenue.units()
}

/// Summarises results (in job order) against `baseline`.
pub fn summarise(results: &[JobResult], baseline: &str) -> Summary {
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for r in results {
        let k = (r.job.scenario.as_str(), r.job.strategy.as_str());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let rows = keys
        .into_iter()
        .map(|(sc, st)| {
            let runs: Vec<&JobResult> = results
                .iter()
                .filter(|r| r.job.scenario == sc && r.job.strategy == st)
                .collect();
            let iv = |f: &dyn Fn(&JobResult) -> Option<f64>| {
                Interval::of(&runs.iter().filter_map(|r| f(r)).collect::<Vec<_>>())
            };
            let all = |f: &dyn Fn(&JobResult) -> f64| {
                Interval::of_runs(&runs.iter().map(|r| f(r)).collect::<Vec<_>>())
            };
            let (vs, vs_pct) = if st == baseline {
                (None, None)
            } else {
                match paired(results, sc, st, baseline, revenue) {
                    Ok(d) => {
                        let base: Vec<f64> = results
                            .iter()
                            .filter(|r| r.job.scenario == sc && r.job.strategy == baseline)
                            .map(revenue)
                            .collect();
                        let base = Interval::of(&base).filter(|b| b.mean > 0.0);
                        let pct = base.map(|b| Interval {
                            n: d.n,
                            mean: 100.0 * d.mean / b.mean,
                            lo: 100.0 * d.lo / b.mean,
                            hi: 100.0 * d.hi / b.mean,
                        });
                        (Some(d), pct)
                    }
                    Err(_) => (None, None),
                }
            };
            StrategySummary {
                scenario: sc.to_owned(),
                strategy: st.to_owned(),
                revenue: all(&|r| r.metrics.revenue.units()),
                cost: all(&|r| r.metrics.cost.units()),
                roi: iv(&|r| r.metrics.roi),
                clicks: all(&|r| r.metrics.clicks as f64),
                conversions: all(&|r| r.metrics.conversions as f64),
                ctr: iv(&|r| r.metrics.ctr),
                cpc: iv(&|r| r.metrics.cpc),
                budget_utilisation: iv(&|r| r.metrics.budget_utilisation),
                regret: all(&|r| r.metrics.regret),
                max_overspend: runs
                    .iter()
                    .map(|r| r.metrics.overspend.units())
                    .fold(0.0, f64::max),
                vs_baseline: vs,
                vs_baseline_pct: vs_pct,
            }
        })
        .collect();
    Summary {
        baseline: baseline.to_owned(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_matches_hand_computation() {
        // mean 2, sd 1, n 3: t(0.975, 2) = 4.302653, se = 1/sqrt(3).
        let i = Interval::of(&[1.0, 2.0, 3.0]).unwrap();
        assert!((i.mean - 2.0).abs() < 1e-12);
        assert!((i.hi - (2.0 + 4.302_653 / 3f64.sqrt())).abs() < 1e-5);
        assert_eq!(Interval::of(&[]), None);
        let one = Interval::of(&[5.0]).unwrap();
        assert!((one.lo - 5.0).abs() < 1e-12 && one.n == 1);
    }
}

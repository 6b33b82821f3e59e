//! Creative tests: which main image, title or ad copy of a plan wins, with how much
//! confidence, and when to stop paying for the losers.
//!
//! A plan rotates a few creatives; testing them is a multi-armed bandit whose arms share one
//! plan. From each creative's impressions, clicks, conversions and revenue,
//! [`CreativeTest::evaluate`] builds posteriors shrunk toward the plan (empirical Bayes over the
//! plan's creatives, as keywords are shrunk toward their plan: a creative with little data starts
//! at the plan's rate, not at 50%), then by Monte-Carlo draws from the joint posterior:
//!
//! - **P(best)**: the probability that each creative has the highest value of the tested metric
//!   (CTR, or value per impression = CTR × CVR × AOV);
//! - **expected loss** of stopping on a creative now: `E[max_j θ_j − θ_i]`, relative to the
//!   expected best value (Scott 2015, "Multi-armed bandit experiments in the online service
//!   economy": stop when the "value remaining" in the experiment is small);
//! - **rotation weights** (impression shares) by probability matching: each creative's share is
//!   its P(best), which is what Thompson sampling serves in the long run; a creative with fewer
//!   than `young_impressions` keeps at least `min_share`, so a young test is not decided by its
//!   first few hundred impressions.
//!
//! A **winner** is declared when its P(best) reaches `win_probability` *and* its expected loss is
//! below `max_expected_loss` of the best's value: both, because P(best) alone is never reached
//! between two creatives that are equally good (the loss rule stops those: either is fine), and
//! the loss alone can be small early on by luck. The losers are then to be paused. Until then
//! the verdict says which creative leads and roughly how many more impressions per creative a
//! two-sided comparison of the two leaders would need.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check_probability};
use crate::estimate::shrinkage::{ShrinkageConfig, fit_beta_prior, fit_order_value_prior};
use crate::estimate::{BetaPosterior, OrderValuePosterior};
use crate::model::{CreativeId, Stats};
use crate::rng::SimRng;

/// What a creative test maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreativeMetric {
    /// Click-through rate: the usual main-image test.
    #[default]
    Ctr,
    /// Value per impression, CTR × CVR × AOV: a creative that draws clicks that do not buy
    /// does not win.
    ValuePerImpression,
}

/// Settings of a creative test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CreativeTestConfig {
    /// The metric tested.
    pub metric: CreativeMetric,
    /// P(best) a winner needs (0.95).
    pub win_probability: f64,
    /// Largest expected loss of stopping, as a share of the best's value (0.01).
    pub max_expected_loss: f64,
    /// Impressions below which a creative counts as young (1,000).
    pub young_impressions: f64,
    /// Smallest share a young creative gets, as a fraction of an even split (0.5: with two
    /// creatives a young one gets at least 25%).
    pub min_share: f64,
    /// Joint posterior draws behind P(best) and the expected loss (4,000; at least 100).
    pub draws: usize,
}

impl Default for CreativeTestConfig {
    fn default() -> Self {
        CreativeTestConfig {
            metric: CreativeMetric::Ctr,
            win_probability: 0.95,
            max_expected_loss: 0.01,
            young_impressions: 1_000.0,
            min_share: 0.5,
            draws: 4_000,
        }
    }
}

impl CreativeTestConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let p = |name: &'static str, v: f64, ok: bool, rule: &str| {
            if ok {
                Ok(())
            } else {
                Err(Error::parameter(name, v, rule))
            }
        };
        let w = self.win_probability;
        p(
            "win_probability",
            w,
            w > 0.5 && w < 1.0,
            "must be in (0.5, 1)",
        )?;
        let l = self.max_expected_loss;
        p(
            "max_expected_loss",
            l,
            l > 0.0 && l < 1.0,
            "must be in (0, 1)",
        )?;
        let y = self.young_impressions;
        p(
            "young_impressions",
            y,
            y.is_finite() && y >= 0.0,
            "must be finite and >= 0",
        )?;
        let s = self.min_share;
        p(
            "min_share",
            s,
            (0.0..=1.0).contains(&s),
            "must be in [0, 1]",
        )?;
        if !(100..=1_000_000).contains(&self.draws) {
            return Err(Error::parameter(
                "draws",
                self.draws,
                "must be in 100..=1000000",
            ));
        }
        Ok(())
    }
}

/// One creative's evidence: its id and its counts over the test.
#[derive(Debug, Clone, PartialEq)]
pub struct CreativeEvidence {
    /// The creative.
    pub creative: CreativeId,
    /// Its impressions, clicks, conversions, cost and revenue.
    pub stats: Stats,
}

/// What the test says of one creative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreativeArm {
    /// The creative.
    pub creative: CreativeId,
    /// Impressions seen.
    pub impressions: u64,
    /// CTR posterior (shrunk toward the plan).
    pub ctr: BetaPosterior,
    /// CVR posterior (shrunk toward the plan).
    pub cvr: BetaPosterior,
    /// Order-value posterior (shrunk toward the plan).
    pub aov: OrderValuePosterior,
    /// Posterior mean of the tested metric.
    pub value: f64,
    /// P(this creative is the best).
    pub p_best: f64,
    /// Expected loss of serving only this one from now on, relative to the best's value.
    pub expected_loss: f64,
    /// Its share of the plan's impressions from now on (the shares sum to 1).
    pub weight: f64,
}

/// The test's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CreativeVerdict {
    /// Fewer than two active creatives: nothing to test.
    NothingToTest,
    /// A winner: serve it alone and pause the others.
    Winner {
        /// The winning creative.
        creative: CreativeId,
        /// Its P(best).
        p_best: f64,
        /// Its expected loss, relative to the best's value.
        expected_loss: f64,
    },
    /// No winner yet.
    NoWinnerYet {
        /// The creative most likely to be best so far.
        leader: CreativeId,
        /// Its P(best).
        p_best: f64,
        /// Its expected loss, relative to the best's value.
        expected_loss: f64,
        /// Roughly how many more impressions per creative would tell the two leaders apart
        /// (a two-sided 95% comparison of their current means); `None` when their means are
        /// too close for any practical test to separate.
        impressions_needed: Option<f64>,
    },
}

impl CreativeVerdict {
    /// One sentence for the operator.
    pub fn message(&self, metric: CreativeMetric) -> String {
        let what = match metric {
            CreativeMetric::Ctr => "click-through rate",
            CreativeMetric::ValuePerImpression => "value per impression",
        };
        match self {
            CreativeVerdict::NothingToTest => {
                "Fewer than two active creatives: nothing to test".to_string()
            }
            CreativeVerdict::Winner {
                creative,
                p_best,
                expected_loss,
            } => format!(
                "Creative {creative} wins on {what}: {:.1}% probability of being the best, expected loss of stopping now {:.2}% of the best's value; pause the others",
                100.0 * p_best,
                100.0 * expected_loss
            ),
            CreativeVerdict::NoWinnerYet {
                leader,
                p_best,
                expected_loss,
                impressions_needed,
            } => {
                let more = match impressions_needed {
                    Some(n) => format!("about {n:.0} more impressions per creative"),
                    None => "the leaders look equally good; far more data".to_string(),
                };
                format!(
                    "No winner yet on {what}: {leader} leads with {:.1}% probability of being the best (expected loss {:.2}%); needs {more}",
                    100.0 * p_best,
                    100.0 * expected_loss
                )
            }
        }
    }

    /// The winning creative, if any.
    pub fn winner(&self) -> Option<&CreativeId> {
        match self {
            CreativeVerdict::Winner { creative, .. } => Some(creative),
            _ => None,
        }
    }
}

/// The result of evaluating one plan's creative test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreativeReport {
    /// The metric tested.
    pub metric: CreativeMetric,
    /// Per creative, in the order given.
    pub arms: Vec<CreativeArm>,
    /// The verdict.
    pub verdict: CreativeVerdict,
}

impl CreativeReport {
    /// The arm of `id`.
    pub fn arm(&self, id: &CreativeId) -> Option<&CreativeArm> {
        self.arms.iter().find(|a| &a.creative == id)
    }

    /// The creatives to pause: every one but the winner, once there is a winner.
    pub fn losers(&self) -> Vec<&CreativeId> {
        match self.verdict.winner() {
            Some(w) => self
                .arms
                .iter()
                .map(|a| &a.creative)
                .filter(|c| *c != w)
                .collect(),
            None => Vec::new(),
        }
    }
}

/// A creative test: configuration and shrinkage settings.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CreativeTest {
    config: CreativeTestConfig,
    shrinkage: ShrinkageConfig,
}

impl CreativeTest {
    /// A test with `config` and the default shrinkage.
    ///
    /// # Errors
    /// As [`CreativeTestConfig::validate`].
    pub fn new(config: CreativeTestConfig) -> Result<Self> {
        config.validate()?;
        Ok(CreativeTest {
            config,
            shrinkage: ShrinkageConfig::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CreativeTestConfig {
        &self.config
    }

    /// Evaluates one plan's active creatives: posteriors, P(best), expected loss, rotation
    /// weights and the verdict. Draws only from `rng`.
    ///
    /// # Errors
    /// [`Error::DuplicateId`] for a creative given twice.
    pub fn evaluate(
        &self,
        creatives: &[CreativeEvidence],
        rng: &mut SimRng,
    ) -> Result<CreativeReport> {
        for (i, c) in creatives.iter().enumerate() {
            if creatives[..i].iter().any(|d| d.creative == c.creative) {
                return Err(Error::DuplicateId {
                    kind: "creative",
                    id: c.creative.to_string(),
                });
            }
        }
        let cfg = &self.config;
        let f = |x: u64| x as f64;
        let (imp, clk, conv, rev) = creatives.iter().fold((0.0, 0.0, 0.0, 0.0), |a, c| {
            let s = &c.stats;
            (
                a.0 + f(s.impressions()),
                a.1 + f(s.clicks()),
                a.2 + f(s.conversions()),
                a.3 + s.revenue().units(),
            )
        });
        // The plan's pooled rates are the priors' means; the spread among its creatives sets
        // their strength (method of moments, clamped).
        let ctr_prior = fit_beta_prior(
            creatives
                .iter()
                .map(|c| (f(c.stats.clicks()), f(c.stats.impressions()))),
            pooled(clk + 1.0, imp + 100.0),
            &self.shrinkage,
        );
        let cvr_prior = fit_beta_prior(
            creatives
                .iter()
                .map(|c| (f(c.stats.conversions()), f(c.stats.clicks()))),
            pooled(conv + 0.1, clk + 10.0),
            &self.shrinkage,
        );
        let aov_prior = fit_order_value_prior(
            creatives
                .iter()
                .map(|c| (f(c.stats.conversions()), c.stats.revenue().units())),
            if conv > 0.0 { rev / conv } else { 1.0 },
            &self.shrinkage,
        );
        let mut arms: Vec<CreativeArm> = creatives
            .iter()
            .map(|c| {
                let s = &c.stats;
                let ctr = ctr_prior.update(f(s.clicks()), f(s.impressions()));
                let cvr = cvr_prior.update(f(s.conversions()), f(s.clicks()));
                let aov = aov_prior.update(f(s.conversions()), s.revenue().units());
                let value = match cfg.metric {
                    CreativeMetric::Ctr => ctr.mean(),
                    CreativeMetric::ValuePerImpression => ctr.mean() * cvr.mean() * aov.mean(),
                };
                CreativeArm {
                    creative: c.creative.clone(),
                    impressions: s.impressions(),
                    ctr,
                    cvr,
                    aov,
                    value,
                    p_best: 0.0,
                    expected_loss: 0.0,
                    weight: 0.0,
                }
            })
            .collect();
        let k = arms.len();
        if k < 2 {
            if let Some(a) = arms.first_mut() {
                a.p_best = 1.0;
                a.weight = 1.0;
            }
            return Ok(CreativeReport {
                metric: cfg.metric,
                arms,
                verdict: CreativeVerdict::NothingToTest,
            });
        }
        self.monte_carlo(&mut arms, rng);
        let leader = (0..k)
            .max_by(|&a, &b| arms[a].p_best.total_cmp(&arms[b].p_best).then(b.cmp(&a)))
            .unwrap_or(0);
        let l = &arms[leader];
        let verdict = if l.p_best >= cfg.win_probability && l.expected_loss < cfg.max_expected_loss
        {
            CreativeVerdict::Winner {
                creative: l.creative.clone(),
                p_best: l.p_best,
                expected_loss: l.expected_loss,
            }
        } else {
            CreativeVerdict::NoWinnerYet {
                leader: l.creative.clone(),
                p_best: l.p_best,
                expected_loss: l.expected_loss,
                impressions_needed: impressions_needed(&arms, leader, cfg.metric),
            }
        };
        match verdict.winner() {
            Some(w) => {
                for a in &mut arms {
                    a.weight = if &a.creative == w { 1.0 } else { 0.0 };
                }
            }
            None => self.set_weights(&mut arms),
        }
        Ok(CreativeReport {
            metric: cfg.metric,
            arms,
            verdict,
        })
    }

    /// P(best) and expected loss from joint posterior draws.
    fn monte_carlo(&self, arms: &mut [CreativeArm], rng: &mut SimRng) {
        let cfg = &self.config;
        let k = arms.len();
        let samplers: Vec<_> = arms
            .iter()
            .map(|a| (a.ctr.sampler(), a.cvr.sampler(), a.aov.sampler()))
            .collect();
        let (mut wins, mut loss, mut theta) = (vec![0u32; k], vec![0.0; k], vec![0.0; k]);
        let mut best_sum = 0.0;
        for _ in 0..cfg.draws {
            for (t, (ctr, cvr, aov)) in theta.iter_mut().zip(&samplers) {
                *t = match cfg.metric {
                    CreativeMetric::Ctr => ctr.sample(rng),
                    CreativeMetric::ValuePerImpression => {
                        ctr.sample(rng) * cvr.sample(rng) * aov.sample(rng)
                    }
                };
            }
            let (mut bi, mut bv) = (0, f64::NEG_INFINITY);
            for (i, &t) in theta.iter().enumerate() {
                if t > bv {
                    (bi, bv) = (i, t);
                }
            }
            wins[bi] += 1;
            best_sum += bv;
            for (l, &t) in loss.iter_mut().zip(&theta) {
                *l += bv - t;
            }
        }
        let n = cfg.draws as f64;
        for (i, a) in arms.iter_mut().enumerate() {
            a.p_best = f64::from(wins[i]) / n;
            a.expected_loss = if best_sum > 0.0 {
                loss[i] / best_sum
            } else {
                0.0
            };
        }
    }

    /// Probability matching with a floor for young creatives.
    fn set_weights(&self, arms: &mut [CreativeArm]) {
        let k = arms.len() as f64;
        let floor = self.config.min_share / k;
        // Young creatives below their floor take the floor; the rest of the traffic goes by
        // P(best).
        let floored: Vec<bool> = arms
            .iter()
            .map(|a| (a.impressions as f64) < self.config.young_impressions && a.p_best < floor)
            .collect();
        let floors = floor * floored.iter().filter(|&&f| f).count() as f64;
        let rest: f64 = arms
            .iter()
            .zip(&floored)
            .filter(|&(_, &f)| !f)
            .map(|(a, _)| a.p_best)
            .sum();
        for (a, &f) in arms.iter_mut().zip(&floored) {
            a.weight = if f {
                floor
            } else if rest > 0.0 {
                a.p_best / rest * (1.0 - floors)
            } else {
                (1.0 - floors) / k
            };
        }
    }
}

fn pooled(successes: f64, trials: f64) -> f64 {
    (successes / trials).clamp(1e-6, 1.0 - 1e-6)
}

/// Impressions per creative that a two-sided 95% comparison of the leader and the runner-up
/// would need at their current means, less what the smaller of them has.
fn impressions_needed(arms: &[CreativeArm], leader: usize, metric: CreativeMetric) -> Option<f64> {
    let runner = (0..arms.len())
        .filter(|&i| i != leader)
        .max_by(|&a, &b| arms[a].value.total_cmp(&arms[b].value))?;
    let (a, b) = (&arms[leader], &arms[runner]);
    // Per-impression variance of the metric: Bernoulli for CTR; for value per impression a
    // click is worth v with probability CTR, so Var ~ CTR v^2 - (CTR v)^2 (order-value spread
    // left out: a lower bound).
    let var = |x: &CreativeArm| match metric {
        CreativeMetric::Ctr => x.ctr.mean() * (1.0 - x.ctr.mean()),
        CreativeMetric::ValuePerImpression => {
            let v = x.cvr.mean() * x.aov.mean();
            x.ctr.mean() * v * v - x.value * x.value
        }
    };
    let gap = (a.value - b.value).abs();
    let z = 1.96;
    let n = z * z * (var(a) + var(b)).max(0.0) / (gap * gap);
    let have = a.impressions.min(b.impressions) as f64;
    // Beyond a billion impressions per creative no test is practical.
    (n.is_finite() && n < 1e9).then(|| (n - have).max(0.0).ceil())
}

/// Checks a rotation's weights: each in [0, 1], summing to 1 (for callers that set their own).
///
/// # Errors
/// [`Error::InvalidValue`] naming the offending weight.
pub fn check_weights(weights: &[f64]) -> Result<()> {
    for (i, &w) in weights.iter().enumerate() {
        check_probability(format!("weights[{i}]"), w)?;
    }
    let sum: f64 = weights.iter().sum();
    if !weights.is_empty() && (sum - 1.0).abs() > 1e-9 {
        return Err(Error::invalid("weights", sum, "must sum to 1"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Money;
    use crate::rng::stream;

    fn ev(id: &str, imp: u64, clicks: u64) -> CreativeEvidence {
        CreativeEvidence {
            creative: CreativeId::new(id),
            stats: Stats::new(imp, clicks, 0, Money::ZERO, Money::ZERO).unwrap(),
        }
    }

    #[test]
    fn a_clear_difference_has_a_winner_and_the_loser_is_paused() {
        let t = CreativeTest::default();
        let r = t
            .evaluate(
                &[ev("a", 20_000, 400), ev("b", 20_000, 600)],
                &mut stream(1, &[]),
            )
            .unwrap();
        assert_eq!(
            r.verdict.winner().map(CreativeId::as_str),
            Some("b"),
            "{r:?}"
        );
        assert_eq!(r.losers(), vec![&CreativeId::new("a")]);
        assert!((r.arm(&CreativeId::new("b")).unwrap().weight - 1.0).abs() < 1e-12);
    }

    #[test]
    fn little_data_gives_no_winner_and_says_what_is_needed() {
        let t = CreativeTest::default();
        let r = t
            .evaluate(&[ev("a", 300, 6), ev("b", 300, 9)], &mut stream(1, &[]))
            .unwrap();
        let CreativeVerdict::NoWinnerYet {
            leader,
            impressions_needed,
            ..
        } = &r.verdict
        else {
            panic!("{r:?}")
        };
        assert_eq!(leader.as_str(), "b");
        assert!(impressions_needed.unwrap() > 1_000.0, "{r:?}");
        let w: Vec<f64> = r.arms.iter().map(|a| a.weight).collect();
        check_weights(&w).unwrap();
        // Both are young: neither gets less than its floor (0.5 / 2).
        assert!(w.iter().all(|&x| x >= 0.25 - 1e-12), "{w:?}");
        assert!(
            r.verdict
                .message(CreativeMetric::Ctr)
                .contains("No winner yet")
        );
    }

    #[test]
    fn equal_creatives_stop_on_the_loss_rule() {
        // Two creatives with the same CTR and a lot of data: P(best) stays near 1/2, but the
        // expected loss of picking either is tiny, so the test does not run forever.
        let t = CreativeTest::new(CreativeTestConfig {
            win_probability: 0.55,
            ..CreativeTestConfig::default()
        })
        .unwrap();
        let r = t
            .evaluate(
                &[ev("a", 2_000_000, 40_000), ev("b", 2_000_000, 40_000)],
                &mut stream(3, &[]),
            )
            .unwrap();
        let best = r
            .arms
            .iter()
            .map(|a| a.expected_loss)
            .fold(f64::INFINITY, f64::min);
        assert!(best < 0.01, "{r:?}");
    }

    #[test]
    fn a_creative_with_no_data_starts_at_the_plan_rate() {
        let r = CreativeTest::default()
            .evaluate(
                &[
                    ev("a", 50_000, 1_000),
                    ev("b", 50_000, 1_100),
                    ev("new", 0, 0),
                ],
                &mut stream(1, &[]),
            )
            .unwrap();
        let new = r.arm(&CreativeId::new("new")).unwrap();
        assert!((new.ctr.mean() - 0.021).abs() < 0.003, "{new:?}");
        assert!(new.weight >= 0.5 / 3.0 - 1e-12);
    }

    #[test]
    fn value_per_impression_prefers_the_creative_that_sells() {
        let s = |imp, clicks, orders, rev| {
            Stats::new(
                imp,
                clicks,
                orders,
                Money::ZERO,
                Money::from_units(rev).unwrap(),
            )
            .unwrap()
        };
        let cs = [
            CreativeEvidence {
                creative: CreativeId::new("clicky"),
                stats: s(40_000, 1_600, 8, 800),
            },
            CreativeEvidence {
                creative: CreativeId::new("sells"),
                stats: s(40_000, 1_000, 40, 4_000),
            },
        ];
        let t = CreativeTest::new(CreativeTestConfig {
            metric: CreativeMetric::ValuePerImpression,
            ..Default::default()
        })
        .unwrap();
        let r = t.evaluate(&cs, &mut stream(2, &[])).unwrap();
        assert_eq!(
            r.verdict.winner().map(CreativeId::as_str),
            Some("sells"),
            "{r:?}"
        );
        let ctr = CreativeTest::default()
            .evaluate(&cs, &mut stream(2, &[]))
            .unwrap();
        assert_eq!(ctr.verdict.winner().map(CreativeId::as_str), Some("clicky"));
    }

    #[test]
    fn bad_input_is_an_error() {
        let t = CreativeTest::default();
        assert!(
            t.evaluate(&[ev("a", 10, 1), ev("a", 10, 1)], &mut stream(1, &[]))
                .is_err()
        );
        for bad in [
            CreativeTestConfig {
                win_probability: f64::NAN,
                ..Default::default()
            },
            CreativeTestConfig {
                max_expected_loss: 0.0,
                ..Default::default()
            },
            CreativeTestConfig {
                young_impressions: f64::INFINITY,
                ..Default::default()
            },
            CreativeTestConfig {
                draws: 10,
                ..Default::default()
            },
        ] {
            assert!(CreativeTest::new(bad).is_err(), "{bad:?}");
        }
        assert!(check_weights(&[0.5, 0.6]).is_err());
        assert!(check_weights(&[f64::NAN, 1.0]).is_err());
        let one = t.evaluate(&[ev("a", 10, 1)], &mut stream(1, &[])).unwrap();
        assert_eq!(one.verdict, CreativeVerdict::NothingToTest);
    }
}

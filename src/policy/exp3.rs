//! EXP3 for adversarial rewards (Auer, Cesa-Bianchi, Freund & Schapire 2002, "The
//! nonstochastic multiarmed bandit problem", SIAM J. Comput. 32(1), figure 1).
//!
//! With `K` active arms and weights `w_i` (start at 1):
//! 1. `p_i = (1 - gamma) w_i / sum_j w_j + gamma / K`.
//! 2. Draw the arm from `p` (here by Gumbel-max on `ln p_i`, so the top `m` are a draw without
//!    replacement).
//! 3. Observe reward `x in [0, 1]` of the played arm; `x_hat = x / p_i`.
//! 4. `w_i <- w_i exp(gamma x_hat / K)`.
//!
//! With `gamma = min(1, sqrt(K ln K / ((e - 1) g)))` and `g >= T` the expected regret against
//! the best fixed arm is at most `2 sqrt(e - 1) sqrt(g K ln K)` (their corollary 3.2).
//! Weights are kept as logs, shifted so the largest is 0, so they never overflow.
//!
//! EXP3 ignores the posteriors in [`super::Arms`] (it only reads which arms are active): it
//! learns from the rewards passed to [`Policy::learn`]. An arm added later starts at the
//! highest current weight, so it is tried soon.

use serde::{Deserialize, Serialize};

use super::{ArmFeedback, Policy, PosteriorView, Reward, ScoreKind, gumbel};
use crate::error::{Error, Result};
use crate::rng::SimRng;

/// EXP3 with exploration rate `gamma` and its learned weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawExp3")]
pub struct Exp3 {
    gamma: f64,
    /// `ln w_i - max_j ln w_j`, one per arm known to the policy.
    log_weights: Vec<f64>,
    /// Cached `ln p_i` (`-inf` for retired arms); rebuilt on learn and on arm changes.
    #[serde(skip)]
    ln_p: Vec<f64>,
    #[serde(skip)]
    active: Vec<bool>,
}

#[derive(Deserialize)]
struct RawExp3 {
    gamma: f64,
    #[serde(default)]
    log_weights: Vec<f64>,
}

impl TryFrom<RawExp3> for Exp3 {
    type Error = Error;
    fn try_from(r: RawExp3) -> Result<Self> {
        let mut e = Exp3::new(r.gamma)?;
        for (i, &w) in r.log_weights.iter().enumerate() {
            if !(w.is_finite() && w <= 0.0) {
                return Err(Error::invalid(
                    format!("exp3.log_weights[{i}]"),
                    w,
                    "must be finite and <= 0",
                ));
            }
        }
        e.log_weights = r.log_weights;
        e.active = vec![true; e.log_weights.len()];
        e.normalise();
        Ok(e)
    }
}

impl Exp3 {
    /// EXP3 with exploration rate `gamma`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `gamma` is in (0, 1].
    ///
    /// # Examples
    /// ```
    /// use adbandit::policy::Exp3;
    /// assert!(Exp3::new(0.1).is_ok());
    /// assert!(Exp3::new(0.0).is_err());
    /// let tuned = Exp3::tuned(10, 100_000)?;
    /// assert!(tuned.gamma() > 0.0 && tuned.gamma() < 0.05);
    /// # Ok::<(), adbandit::Error>(())
    /// ```
    pub fn new(gamma: f64) -> Result<Self> {
        if !(gamma > 0.0 && gamma <= 1.0) {
            return Err(Error::parameter("gamma", gamma, "must be in (0, 1]"));
        }
        Ok(Exp3 {
            gamma,
            log_weights: Vec::new(),
            ln_p: Vec::new(),
            active: Vec::new(),
        })
    }

    /// EXP3 tuned for `k` arms over `horizon` rounds (Auer et al. 2002, corollary 3.2).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `k < 2` or `horizon` is 0.
    pub fn tuned(k: usize, horizon: u64) -> Result<Self> {
        if k < 2 {
            return Err(Error::parameter("k", k, "must be >= 2"));
        }
        if horizon == 0 {
            return Err(Error::parameter("horizon", horizon, "must be >= 1"));
        }
        let (k, g) = (k as f64, horizon as f64);
        let gamma = (k * k.ln() / ((std::f64::consts::E - 1.0) * g)).sqrt();
        Exp3::new(gamma.min(1.0))
    }

    /// The exploration rate.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// The current probability of playing each known arm (0 for retired ones).
    pub fn probabilities(&self) -> Vec<f64> {
        self.ln_p.iter().map(|l| l.exp()).collect()
    }

    /// Shifts the log-weights so the largest active one is 0, and rebuilds `ln p`.
    fn normalise(&mut self) {
        let n = self.log_weights.len();
        self.active.resize(n, true);
        let max = self
            .log_weights
            .iter()
            .zip(&self.active)
            .filter(|(_, a)| **a)
            .map(|(w, _)| *w)
            .fold(f64::NEG_INFINITY, f64::max);
        if max.is_finite() {
            for w in &mut self.log_weights {
                // Retired arms may sit far below; floor them so they stay finite.
                *w = (*w - max).max(-700.0);
            }
        }
        let k = self.active.iter().filter(|a| **a).count();
        let sum: f64 = self
            .log_weights
            .iter()
            .zip(&self.active)
            .filter(|(_, a)| **a)
            .map(|(w, _)| w.exp())
            .sum();
        self.ln_p.clear();
        for (w, a) in self.log_weights.iter().zip(&self.active) {
            self.ln_p.push(if *a && sum > 0.0 {
                let p = (1.0 - self.gamma) * w.exp() / sum + self.gamma / k as f64;
                p.ln()
            } else {
                f64::NEG_INFINITY
            });
        }
    }

    /// Brings the policy's arm list in line with `arms` (new arms start at the top weight).
    fn sync(&mut self, arms: &dyn PosteriorView) {
        let top = self
            .log_weights
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let start = if top.is_finite() { top } else { 0.0 };
        self.log_weights.resize(arms.len(), start);
        self.active.clear();
        self.active.extend_from_slice(arms.active());
        self.normalise();
    }
}

impl Policy for Exp3 {
    fn name(&self) -> &'static str {
        "exp3"
    }

    fn score_kind(&self) -> ScoreKind {
        ScoreKind::RankingOnly
    }

    fn score(
        &self,
        arms: &dyn PosteriorView,
        _reward: Reward,
        _round: u64,
        rng: &mut SimRng,
        out: &mut [f64],
    ) {
        // Arms the policy has not been told about yet play as if at uniform weight.
        let uniform = -(arms.active_len().max(1) as f64).ln();
        for (i, (o, a)) in out.iter_mut().zip(arms.active()).enumerate() {
            *o = if *a {
                self.ln_p
                    .get(i)
                    .copied()
                    .filter(|l| l.is_finite())
                    .unwrap_or(uniform)
                    + gumbel(rng)
            } else {
                f64::NEG_INFINITY
            };
        }
    }

    /// Rewards must lie in [0, 1] (rescale value rewards first).
    fn learn(&mut self, arms: &dyn PosteriorView, feedback: &[ArmFeedback]) -> Result<()> {
        for (i, f) in feedback.iter().enumerate() {
            if f.arm >= arms.len() {
                return Err(Error::UnknownId {
                    kind: "arm",
                    id: f.arm.to_string(),
                });
            }
            if !(0.0..=1.0).contains(&f.reward) {
                return Err(Error::invalid(
                    format!("feedback[{i}].reward"),
                    f.reward,
                    "EXP3 needs rewards in [0, 1]",
                ));
            }
        }
        if self.log_weights.len() != arms.len() || self.active != arms.active() {
            self.sync(arms);
        }
        let k = arms.active_len().max(1) as f64;
        // All feedback of one call uses the probabilities the arms were drawn with.
        for f in feedback {
            let p = self.ln_p[f.arm].exp();
            if p > 0.0 {
                self.log_weights[f.arm] += self.gamma * (f.reward / p) / k;
            }
        }
        self.normalise();
        Ok(())
    }

    fn arms_changed(&mut self, arms: &dyn PosteriorView) {
        self.sync(arms);
    }
}

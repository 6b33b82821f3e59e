//! UCB1 (Auer, Cesa-Bianchi & Fischer 2002), with a tunable exploration constant.
//!
//! Index of arm `i`: `mean_i + scale * sqrt(c * ln N / n_i)`, where `n_i` is the arm's
//! effective number of trials and `N` their sum over arms. An arm without trials gets `+inf`,
//! so every arm is tried once. With discounted or windowed counts from [`super::Arms`] this is
//! discounted UCB / sliding-window UCB (Garivier & Moulines 2011).
//!
//! The mean is the posterior mean (with a weak prior it equals the empirical mean up to
//! O(1/n)). Scores are optimistic indices, not estimates of the reward.

use serde::{Deserialize, Serialize};

use super::{Policy, PosteriorView, Reward, ScoreKind};
use crate::error::{Error, Result};
use crate::rng::SimRng;

/// UCB1. `c = 2` and `scale = 1` give the textbook index for rewards in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawUcb1")]
pub struct Ucb1 {
    c: f64,
    scale: f64,
}

#[derive(Deserialize)]
struct RawUcb1 {
    c: f64,
    scale: f64,
}

impl TryFrom<RawUcb1> for Ucb1 {
    type Error = Error;
    fn try_from(r: RawUcb1) -> Result<Self> {
        Ucb1::new(r.c, r.scale)
    }
}

impl Default for Ucb1 {
    fn default() -> Self {
        Ucb1 { c: 2.0, scale: 1.0 }
    }
}

impl Ucb1 {
    /// UCB1 with exploration constant `c` and reward range `scale` (1 for rates; a typical
    /// value per click or ROI for value rewards).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless both are finite and > 0.
    ///
    /// # Examples
    /// ```
    /// use adbandit::policy::Ucb1;
    /// assert!(Ucb1::new(2.0, 1.0).is_ok());
    /// assert!(Ucb1::new(f64::NAN, 1.0).is_err());
    /// ```
    pub fn new(c: f64, scale: f64) -> Result<Self> {
        if !(c.is_finite() && c > 0.0) {
            return Err(Error::parameter("c", c, "must be finite and > 0"));
        }
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::parameter("scale", scale, "must be finite and > 0"));
        }
        Ok(Ucb1 { c, scale })
    }
    /// Exploration constant.
    pub fn c(&self) -> f64 {
        self.c
    }
    /// Reward range.
    pub fn scale(&self) -> f64 {
        self.scale
    }
}

impl Policy for Ucb1 {
    fn name(&self) -> &'static str {
        "ucb1"
    }

    fn score_kind(&self) -> ScoreKind {
        ScoreKind::OptimisticIndex
    }

    fn score(
        &self,
        arms: &dyn PosteriorView,
        reward: Reward,
        _round: u64,
        _rng: &mut SimRng,
        out: &mut [f64],
    ) {
        // ln N computed once; N >= 2 keeps it > 0, so `k * inf` is `inf`, never NaN.
        let k = self.c * arms.total_trials(reward).max(2.0).ln() * self.scale * self.scale;
        let (mean, inv_n, active) = (arms.means(reward), arms.inv_trials(reward), arms.active());
        for (((o, m), n), a) in out.iter_mut().zip(mean).zip(inv_n).zip(active) {
            let v = m + (k * n).sqrt();
            *o = if *a { v } else { f64::NEG_INFINITY };
        }
    }
}

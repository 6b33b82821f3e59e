//! Softmax (Boltzmann) exploration: play arm `i` with probability proportional to
//! `exp(mean_i / temperature)` (Sutton & Barto 2018, section 2.8).
//!
//! Sampling uses the Gumbel-max trick: `score_i = mean_i + temperature x G_i` (the same order as
//! `mean_i / temperature + G_i`, but on the reward's scale) with
//! `G_i ~ Gumbel(0, 1)`; the argmax is then a softmax draw, and the top `m` are a draw of `m`
//! arms without replacement (Gumbel-top-k, Kool et al. 2019), so multiple plays need no
//! separate code. One exponential draw and one log per arm.

use serde::{Deserialize, Serialize};

use super::{Policy, PosteriorView, Reward, ScoreKind, gumbel};
use crate::error::{Error, Result};
use crate::rng::SimRng;

/// Softmax with a fixed temperature (in the units of the reward).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawSoftmax")]
pub struct Softmax {
    temperature: f64,
}

#[derive(Deserialize)]
struct RawSoftmax {
    temperature: f64,
}

impl TryFrom<RawSoftmax> for Softmax {
    type Error = Error;
    fn try_from(r: RawSoftmax) -> Result<Self> {
        Softmax::new(r.temperature)
    }
}

impl Softmax {
    /// Softmax with `temperature`: small values act greedily, large ones uniformly.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `temperature` is finite and > 0.
    ///
    /// # Examples
    /// ```
    /// use adbandit::policy::Softmax;
    /// assert!(Softmax::new(0.05).is_ok());
    /// assert!(Softmax::new(0.0).is_err());
    /// ```
    pub fn new(temperature: f64) -> Result<Self> {
        if !(temperature.is_finite() && temperature > 0.0) {
            return Err(Error::parameter(
                "temperature",
                temperature,
                "must be finite and > 0",
            ));
        }
        Ok(Softmax { temperature })
    }

    /// The temperature.
    pub fn temperature(&self) -> f64 {
        self.temperature
    }
}

impl Policy for Softmax {
    fn name(&self) -> &'static str {
        "softmax"
    }

    fn score_kind(&self) -> ScoreKind {
        ScoreKind::PointEstimate
    }

    fn score(
        &self,
        arms: &dyn PosteriorView,
        reward: Reward,
        _round: u64,
        rng: &mut SimRng,
        out: &mut [f64],
    ) {
        let t = self.temperature;
        for ((o, a), m) in out.iter_mut().zip(arms.active()).zip(arms.means(reward)) {
            *o = if *a {
                // `m + T G` orders arms exactly as `m / T + G` does (a positive rescaling), and
                // keeps scores on the reward's scale: a mean perturbed by Gumbel noise of scale T.
                (m + t * gumbel(rng)).clamp(-f64::MAX, f64::MAX)
            } else {
                f64::NEG_INFINITY
            };
        }
    }
}

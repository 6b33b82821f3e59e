//! Epsilon-greedy with a fixed or decaying epsilon (Sutton & Barto 2018; Auer et al. 2002).
//!
//! 1. At round `t` with `K` active arms, `eps_t = epsilon` (fixed) or
//!    `eps_t = min(epsilon, c K / t)` (decaying, the `epsilon_n`-greedy of Auer et al. 2002,
//!    whose `c / d^2` is folded into `c`).
//! 2. With probability `eps_t` explore: scores are independent uniform draws over the range
//!    of the active arms' means, so the top arm (or the top `m`) is a uniformly random choice
//!    and the scores stay on the reward's scale (the engine allocates money by them).
//! 3. Otherwise exploit: scores are the posterior means.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::{Policy, PosteriorView, Reward, ScoreKind};
use crate::error::{Error, Result};
use crate::rng::SimRng;

/// Epsilon-greedy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawEpsilonGreedy")]
pub struct EpsilonGreedy {
    epsilon: f64,
    /// `Some(c)`: decaying as `min(epsilon, c K / t)`.
    decay: Option<f64>,
}

#[derive(Deserialize)]
struct RawEpsilonGreedy {
    epsilon: f64,
    #[serde(default)]
    decay: Option<f64>,
}

impl TryFrom<RawEpsilonGreedy> for EpsilonGreedy {
    type Error = Error;
    fn try_from(r: RawEpsilonGreedy) -> Result<Self> {
        match r.decay {
            None => EpsilonGreedy::fixed(r.epsilon),
            Some(c) => EpsilonGreedy::decaying(r.epsilon, c),
        }
    }
}

fn check_epsilon(epsilon: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&epsilon) {
        return Err(Error::parameter("epsilon", epsilon, "must be in [0, 1]"));
    }
    Ok(())
}

impl EpsilonGreedy {
    /// Explores with probability `epsilon` every round.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `epsilon` is in [0, 1].
    ///
    /// # Examples
    /// ```
    /// use adbandit::policy::EpsilonGreedy;
    /// assert!(EpsilonGreedy::fixed(0.1).is_ok());
    /// assert!(EpsilonGreedy::fixed(1.5).is_err());
    /// assert!(EpsilonGreedy::decaying(1.0, 0.0).is_err());
    /// ```
    pub fn fixed(epsilon: f64) -> Result<Self> {
        check_epsilon(epsilon)?;
        Ok(EpsilonGreedy {
            epsilon,
            decay: None,
        })
    }

    /// Explores with probability `min(epsilon, c K / t)` at round `t` with `K` active arms.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `epsilon` is in [0, 1] and `c` is finite and > 0.
    pub fn decaying(epsilon: f64, c: f64) -> Result<Self> {
        check_epsilon(epsilon)?;
        if !(c.is_finite() && c > 0.0) {
            return Err(Error::parameter("decay", c, "must be finite and > 0"));
        }
        Ok(EpsilonGreedy {
            epsilon,
            decay: Some(c),
        })
    }

    /// The exploration probability at `round` with `k` active arms.
    pub fn epsilon_at(&self, round: u64, k: usize) -> f64 {
        match self.decay {
            None => self.epsilon,
            Some(c) => self.epsilon.min(c * k as f64 / round.max(1) as f64),
        }
    }
}

impl Policy for EpsilonGreedy {
    fn name(&self) -> &'static str {
        "epsilon_greedy"
    }

    fn score_kind(&self) -> ScoreKind {
        ScoreKind::PointEstimate
    }

    fn score(
        &self,
        arms: &dyn PosteriorView,
        reward: Reward,
        round: u64,
        rng: &mut SimRng,
        out: &mut [f64],
    ) {
        let eps = match self.decay {
            None => self.epsilon,
            Some(_) => self.epsilon_at(round, arms.active_len()),
        };
        let explore = eps > 0.0 && rng.random::<f64>() < eps;
        let active = arms.active();
        if explore {
            // Uniform draws over the range of the active arms' means: a uniformly random
            // ranking, with scores still on the reward's scale (the engine spends by them).
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for (m, a) in arms.means(reward).iter().zip(active) {
                if *a && m.is_finite() {
                    lo = lo.min(*m);
                    hi = hi.max(*m);
                }
            }
            if !(hi >= lo) {
                (lo, hi) = (0.0, 1.0);
            }
            for (o, a) in out.iter_mut().zip(active) {
                *o = if *a {
                    lo + (hi - lo) * rng.random::<f64>()
                } else {
                    f64::NEG_INFINITY
                };
            }
        } else {
            for ((o, a), m) in out.iter_mut().zip(active).zip(arms.means(reward)) {
                *o = if *a { *m } else { f64::NEG_INFINITY };
            }
        }
    }
}

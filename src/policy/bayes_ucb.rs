//! Bayes-UCB (Kaufmann, Cappé & Garivier 2012): score each arm by an upper posterior quantile.
//!
//! 1. At round `t`, take the level `q_t = 1 - 1 / (t (ln t)^c)` (`c = 0` works best in their
//!    experiments).
//! 2. A rate's score is its Beta posterior's `q_t`-quantile.
//! 3. For value per click (CVR x AOV) the score is the product of each part's
//!    `sqrt(q_t)`-quantile. For independent positive parts `P(XY <= x_q y_q) >= q`, so this is
//!    an upper bound on the product's `q_t`-quantile: slightly more optimistic, never less.
//!    ROI divides that by the arm's cpc.
//!
//! Each quantile inverts an incomplete beta or gamma function (statrs), so Bayes-UCB costs
//! far more per arm than Thompson sampling; see notes/policy.md for measured numbers.

use serde::{Deserialize, Serialize};

use super::{Arms, Policy, Reward};
use crate::error::{Error, Result};
use crate::rng::SimRng;

/// Bayes-UCB with horizon exponent `c` (default 0).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "RawBayesUcb")]
pub struct BayesUcb {
    c: f64,
}

#[derive(Deserialize)]
struct RawBayesUcb {
    c: f64,
}

impl TryFrom<RawBayesUcb> for BayesUcb {
    type Error = Error;
    fn try_from(r: RawBayesUcb) -> Result<Self> {
        BayesUcb::new(r.c)
    }
}

impl BayesUcb {
    /// Bayes-UCB with level `1 - 1/(t (ln t)^c)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `c` is finite and >= 0.
    ///
    /// # Examples
    /// ```
    /// use adbandit::policy::BayesUcb;
    /// assert!(BayesUcb::new(0.0).is_ok());
    /// assert!(BayesUcb::new(-1.0).is_err());
    /// ```
    pub fn new(c: f64) -> Result<Self> {
        if !(c.is_finite() && c >= 0.0) {
            return Err(Error::parameter("c", c, "must be finite and >= 0"));
        }
        Ok(BayesUcb { c })
    }

    /// Horizon exponent.
    pub fn c(&self) -> f64 {
        self.c
    }

    /// The quantile level at round `t` (rounds below 2 count as 2), kept inside (0, 1).
    pub fn level(&self, round: u64) -> f64 {
        let t = (round.max(2)) as f64;
        let q = 1.0 - 1.0 / (t * t.ln().powf(self.c));
        q.clamp(0.5, 1.0 - 1e-15)
    }
}

impl Policy for BayesUcb {
    fn name(&self) -> &'static str {
        "bayes_ucb"
    }

    fn score(&self, arms: &Arms, reward: Reward, round: u64, _rng: &mut SimRng, out: &mut [f64]) {
        let q = self.level(round);
        let means = arms.means(reward);
        let inv_cpc = arms.inv_cpc();
        let q2 = q.sqrt();
        for (i, (o, a)) in out.iter_mut().zip(arms.active()).enumerate() {
            if !*a {
                *o = f64::NEG_INFINITY;
                continue;
            }
            // `q` is inside (0, 1), so the quantiles cannot fail; fall back to the mean anyway.
            let v = match reward {
                Reward::Rate => arms.rate_posterior(i).quantile(q).ok(),
                Reward::ValuePerClick | Reward::Roi => {
                    let c = arms.cvr_posterior(i).quantile(q2).ok();
                    let v = arms.aov_posterior(i).quantile(q2).ok();
                    c.zip(v).map(|(c, v)| {
                        let x = c * v;
                        if reward == Reward::Roi {
                            x * inv_cpc[i]
                        } else {
                            x
                        }
                    })
                }
            };
            *o = match v {
                Some(v) if v.is_finite() => v,
                _ => means[i],
            };
        }
    }
}

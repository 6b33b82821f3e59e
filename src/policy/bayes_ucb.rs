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
//! # Speed: approximate quantiles for large counts, exact ones for small
//! Exact quantiles invert an incomplete beta or gamma function (statrs, ~1-3 µs each). The
//! level changes every round, so caching quantiles per arm would not survive a round; instead
//! the per-round part (the level and its normal deviate `z`) is computed once per decision and
//! each arm's quantile is approximated in closed form when its counts are large enough:
//! - Beta: Abramowitz & Stegun 26.5.22 (a Cornish-Fisher type expansion on the log-odds
//!   scale) when `min(alpha, beta) >= 10`. Measured worst error over alpha, beta in
//!   [10, 1e6] and levels 0.5 .. 1 - 1e-7: 0.10 posterior standard deviations (0.9%
//!   relative), at the most extreme levels; 0.032 sd (0.4%) for levels up to 1 - 1e-4 (the
//!   tests bound both).
//! - AOV (Gamma): Wilson-Hilferty cube-root approximation of `nu`'s lower quantile when its
//!   shape is >= 50; worst relative error 0.4% (0.12% for levels up to 1 - 1e-4), about
//!   0.03 posterior sd (tested likewise).
//!
//! Smaller counts fall back to the exact quantile. Both paths are deterministic.
//! See notes/policy.md for measured numbers.

use serde::{Deserialize, Serialize};

use statrs::distribution::{ContinuousCDF, Gamma as StatrsGamma, Normal};
use statrs::function::beta::inv_beta_reg;

use super::{Policy, PosteriorView, Reward, ScoreKind};
use crate::error::{Error, Result};
use crate::estimate::{BetaPosterior, OrderValuePosterior};
use crate::rng::SimRng;

/// Beta parameters from which the closed-form approximation replaces the exact quantile.
const MIN_APPROX_COUNT: f64 = 10.0;
/// Gamma shape from which Wilson-Hilferty replaces the exact quantile (its lower tail is
/// poor for small shapes: 8% off at shape 13 and level 1 - 1e-7).
const MIN_APPROX_SHAPE: f64 = 50.0;

/// A quantile level and its standard normal deviate, computed once per round.
#[derive(Debug, Clone, Copy)]
struct Level {
    q: f64,
    z: f64,
    /// `(z^2 - 3) / 6`, the lambda of A&S 26.5.22.
    lambda: f64,
}

impl Level {
    fn new(q: f64) -> Level {
        // The standard normal is valid by construction; q is inside (0, 1).
        let z = Normal::new(0.0, 1.0)
            .map(|n| n.inverse_cdf(q))
            .unwrap_or(0.0);
        Level {
            q,
            z,
            lambda: (z * z - 3.0) / 6.0,
        }
    }
}

/// The `level.q`-quantile of Beta(`a`, `b`): A&S 26.5.22 when both parameters are >= 10,
/// else exact.
#[inline]
fn beta_quantile(a: f64, b: f64, level: &Level) -> f64 {
    if !(a.min(b) >= MIN_APPROX_COUNT) {
        return inv_beta_reg(a, b, level.q).clamp(0.0, 1.0);
    }
    // A&S 26.5.22 with the upper-tail deviate y = -z.
    let ra = 1.0 / (2.0 * a - 1.0);
    let rb = 1.0 / (2.0 * b - 1.0);
    let inv_h = 0.5 * (ra + rb);
    let l = level.lambda;
    let w = -level.z * (1.0 / inv_h + l).sqrt() * inv_h
        - (rb - ra) * (l + 5.0 / 6.0 - (2.0 / 3.0) * inv_h);
    a / (a + b * (2.0 * w).exp())
}

/// The `level.q`-quantile of a Beta posterior (see [`beta_quantile`]).
#[inline]
fn rate_quantile(p: &BetaPosterior, level: &Level) -> f64 {
    beta_quantile(p.alpha(), p.beta(), level)
}

/// The `level.q`-quantile of the AOV, `order_shape / nu_{1-q}`: the lower quantile of
/// `nu ~ Gamma(shape, rate)` by Wilson-Hilferty when shape >= 50, else exact.
#[inline]
fn aov_quantile(p: &OrderValuePosterior, level: &Level) -> f64 {
    let (order_shape, shape, rate) = p.gamma_parts();
    let nu = if shape >= MIN_APPROX_SHAPE {
        let c = 1.0 / (9.0 * shape);
        let base = 1.0 - c - level.z * c.sqrt();
        if base > 0.2 {
            shape / rate * base * base * base
        } else {
            exact_nu(shape, rate, level.q)
        }
    } else {
        exact_nu(shape, rate, level.q)
    };
    if nu > 0.0 {
        order_shape / nu
    } else if nu.is_nan() {
        f64::NAN
    } else {
        f64::MAX
    }
}

/// Exact `1 - q` quantile of Gamma(shape, rate) (NaN if the parameters are invalid).
fn exact_nu(shape: f64, rate: f64, q: f64) -> f64 {
    StatrsGamma::new(shape, rate)
        .map(|g| g.inverse_cdf(1.0 - q))
        .unwrap_or(f64::NAN)
}

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

    fn score_kind(&self) -> ScoreKind {
        ScoreKind::OptimisticIndex
    }

    fn score(
        &self,
        arms: &dyn PosteriorView,
        reward: Reward,
        round: u64,
        _rng: &mut SimRng,
        out: &mut [f64],
    ) {
        let q = self.level(round);
        let means = arms.means(reward);
        let inv_cpc = arms.inv_cpc();
        let (level, level2) = (Level::new(q), Level::new(q.sqrt()));
        for (i, (o, a)) in out.iter_mut().zip(arms.active()).enumerate() {
            if !*a {
                *o = f64::NEG_INFINITY;
                continue;
            }
            let v = match reward {
                Reward::Rate | Reward::Ctr | Reward::Cvr => {
                    rate_quantile(&arms.beta_posterior(reward, i), &level)
                }
                Reward::ValuePerClick | Reward::Roi => {
                    let x = rate_quantile(&arms.beta_posterior(Reward::Cvr, i), &level2)
                        * aov_quantile(&arms.aov_posterior(i), &level2);
                    if reward == Reward::Roi {
                        x * inv_cpc[i]
                    } else {
                        x
                    }
                }
            };
            // Fall back to the mean should a quantile not be finite (invalid parameters).
            *o = if v.is_finite() { v } else { means[i] };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::OrderValuePrior;

    const COUNTS: [f64; 9] = [10.0, 12.0, 20.0, 50.0, 200.0, 1e3, 1e4, 1e5, 1e6];
    const LEVELS: [f64; 5] = [0.5, 0.9, 0.99, 0.999, 1.0 - 1e-4];
    const EXTREME: [f64; 3] = [1.0 - 1e-5, 1.0 - 1e-6, 1.0 - 1e-7];

    /// Worst Beta approximation error in posterior standard deviations, and relative.
    fn beta_worst(levels: &[f64]) -> (f64, f64) {
        let (mut sd_err, mut rel_err) = (0.0f64, 0.0f64);
        for &a in &COUNTS {
            for &b in &COUNTS {
                for &q in levels {
                    let approx = beta_quantile(a, b, &Level::new(q));
                    let exact = inv_beta_reg(a, b, q);
                    let n = a + b;
                    let sd = (a * b / (n * n * (n + 1.0))).sqrt();
                    sd_err = sd_err.max((approx - exact).abs() / sd);
                    rel_err = rel_err.max((approx - exact).abs() / exact);
                }
            }
        }
        (sd_err, rel_err)
    }

    #[test]
    fn beta_approximation_error_is_bounded() {
        let (sd, rel) = beta_worst(&LEVELS);
        eprintln!("beta levels <= 1-1e-4: {sd} sd, {rel} relative");
        assert!(sd < 0.04 && rel < 0.004, "{sd} {rel}");
        let (sd, rel) = beta_worst(&EXTREME);
        eprintln!("beta levels to 1-1e-7: {sd} sd, {rel} relative");
        assert!(sd < 0.12 && rel < 0.012, "{sd} {rel}");
    }

    #[test]
    fn small_counts_are_exact() {
        for (a, b) in [(1.0, 50.0), (9.9, 1e4), (3.0, 5.0), (1e4, 2.0)] {
            for q in LEVELS {
                assert_eq!(
                    beta_quantile(a, b, &Level::new(q)).to_bits(),
                    inv_beta_reg(a, b, q).clamp(0.0, 1.0).to_bits()
                );
            }
        }
        let post = OrderValuePrior::new(100.0, 1.0, 2.0)
            .unwrap()
            .update(2.0, 250.0);
        for q in LEVELS {
            assert_eq!(
                aov_quantile(&post, &Level::new(q)).to_bits(),
                post.quantile(q).unwrap().to_bits()
            );
        }
    }

    #[test]
    fn aov_approximation_error_is_bounded() {
        let mut worst = [0.0f64; 2];
        for orders in [5.0, 10.0, 30.0, 100.0, 1e3, 1e5] {
            for order_shape in [1.0, 2.0, 5.0] {
                let prior = OrderValuePrior::new(100.0, 2.0, order_shape).unwrap();
                let post = prior.update(orders, orders * 130.0);
                if post.gamma_parts().1 < MIN_APPROX_SHAPE {
                    continue;
                }
                for (k, levels) in [&LEVELS[..], &EXTREME[..]].iter().enumerate() {
                    for &q in levels.iter() {
                        let approx = aov_quantile(&post, &Level::new(q));
                        let exact = post.quantile(q).unwrap();
                        worst[k] = worst[k].max((approx - exact).abs() / exact);
                    }
                }
            }
        }
        eprintln!("aov relative error: {worst:?}");
        assert!(worst[0] < 0.002 && worst[1] < 0.006, "{worst:?}");
    }

    #[test]
    fn scores_rise_with_the_level_and_stay_above_the_mean() {
        let p = BayesUcb::default();
        for (a, b) in [(12.0, 400.0), (300.0, 9000.0), (2.0, 100.0)] {
            let mean = a / (a + b);
            let mut last = 0.0;
            for round in [10, 100, 10_000, 1_000_000] {
                let x = beta_quantile(a, b, &Level::new(p.level(round)));
                assert!(x >= last && x >= mean * 0.999, "{a} {b} {round}: {x}");
                last = x;
            }
        }
    }
}

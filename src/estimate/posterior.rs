//! Conjugate posteriors for a rate (Beta) and for the mean order value (Gamma–Gamma).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Gamma as StatrsGamma};

use crate::error::{Error, Result};
use crate::estimate::sampling::{BetaSampler, GammaSampler};
use crate::rng::SimRng;

/// The shape accessors shared by [`BetaPrior`] and [`BetaPosterior`] (one Beta, two roles).
macro_rules! beta_shapes {
    () => {
        /// Shape alpha (pseudo-successes).
        pub fn alpha(&self) -> f64 {
            self.alpha
        }
        /// Shape beta (pseudo-failures).
        pub fn beta(&self) -> f64 {
            self.beta
        }
        /// Mean `alpha / (alpha + beta)`.
        pub fn mean(&self) -> f64 {
            self.alpha / (self.alpha + self.beta)
        }
    };
}

/// Checks a credible level in (0, 1).
fn check_level(level: f64) -> Result<f64> {
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::parameter("level", level, "must be in (0, 1)"));
    }
    Ok(level)
}

/// A Beta(alpha, beta) prior for a rate, e.g. Beta(1, 1) (uniform) or one fitted from a parent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct BetaPrior {
    alpha: f64,
    beta: f64,
}

validated_serde!(BetaPrior, |p| BetaPrior::new(p.alpha, p.beta));

impl BetaPrior {
    /// The uniform prior Beta(1, 1).
    pub const UNIFORM: BetaPrior = BetaPrior {
        alpha: 1.0,
        beta: 1.0,
    };

    /// A prior with the given shapes.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless both are finite and > 0.
    pub fn new(alpha: f64, beta: f64) -> Result<Self> {
        if !(alpha.is_finite() && alpha > 0.0) {
            return Err(Error::parameter("alpha", alpha, "must be finite and > 0"));
        }
        if !(beta.is_finite() && beta > 0.0) {
            return Err(Error::parameter("beta", beta, "must be finite and > 0"));
        }
        Ok(BetaPrior { alpha, beta })
    }

    /// A prior with mean `mean` worth `strength` pseudo-trials (`alpha + beta = strength`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `mean` is in (0, 1) and `strength` > 0.
    pub fn from_mean_strength(mean: f64, strength: f64) -> Result<Self> {
        if !(mean > 0.0 && mean < 1.0) {
            return Err(Error::parameter("mean", mean, "must be in (0, 1)"));
        }
        BetaPrior::new(mean * strength, (1.0 - mean) * strength)
    }

    beta_shapes!();
    /// Prior strength in pseudo-trials.
    pub fn strength(&self) -> f64 {
        self.alpha + self.beta
    }

    /// The posterior after `successes` out of `trials` (fractional counts allowed, as after
    /// discounting). Counts are clamped to `0 <= successes <= trials`, so inconsistent
    /// discounted sums can never produce an invalid Beta.
    pub fn update(&self, successes: f64, trials: f64) -> BetaPosterior {
        let t = if trials.is_finite() && trials > 0.0 {
            trials
        } else {
            0.0
        };
        let s = if successes.is_finite() {
            successes.clamp(0.0, t)
        } else {
            0.0
        };
        BetaPosterior::from_shapes(self.alpha + s, self.beta + (t - s))
    }
}

/// The posterior of a rate (CTR or CVR): Beta(alpha, beta).
///
/// Shapes are always finite and > 0 (guaranteed by construction), so every method returns a
/// number, never NaN.
///
/// ```
/// use adbandit::estimate::BetaPrior;
/// let post = BetaPrior::UNIFORM.update(50.0, 1000.0);
/// assert!((post.mean() - 51.0 / 1002.0).abs() < 1e-12);
/// let (lo, hi) = post.interval(0.95)?;
/// assert!(lo < 0.05 && 0.05 < hi && hi - lo < 0.03);
/// # Ok::<(), adbandit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BetaPosterior {
    alpha: f64,
    beta: f64,
}

impl BetaPosterior {
    fn from_shapes(alpha: f64, beta: f64) -> Self {
        BetaPosterior { alpha, beta }
    }

    beta_shapes!();
    /// Posterior variance.
    pub fn variance(&self) -> f64 {
        let n = self.alpha + self.beta;
        self.alpha * self.beta / (n * n * (n + 1.0))
    }
    /// Effective number of trials behind the estimate, `alpha + beta`.
    pub fn strength(&self) -> f64 {
        self.alpha + self.beta
    }

    /// The `p`-quantile (statrs' regularised incomplete beta inverse).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `p` is in [0, 1].
    pub fn quantile(&self, p: f64) -> Result<f64> {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::parameter("p", p, "must be in [0, 1]"));
        }
        Ok(statrs::function::beta::inv_beta_reg(self.alpha, self.beta, p).clamp(0.0, 1.0))
    }

    /// Equal-tailed credible interval holding `level` of the posterior mass.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `level` is in (0, 1).
    pub fn interval(&self, level: f64) -> Result<(f64, f64)> {
        let tail = (1.0 - check_level(level)?) / 2.0;
        Ok((self.quantile(tail)?, self.quantile(1.0 - tail)?))
    }

    /// A cached sampler for repeated draws.
    pub fn sampler(&self) -> BetaSampler {
        BetaSampler::new(self.alpha, self.beta)
    }

    /// One draw (builds the sampler; use [`BetaPosterior::sampler`] in loops).
    pub fn sample(&self, rng: &mut SimRng) -> f64 {
        self.sampler().sample(rng)
    }
}

/// Prior for the mean order value in the Gamma–Gamma model.
///
/// # Model (why Gamma–Gamma and not a log-normal)
/// Reports give *sums*: revenue and orders per keyword-day, not each order's value. In the
/// Gamma–Gamma model (Fader, Hardie & Lee 2005) each order value is Gamma(p, nu) with a known
/// shape `p` and an unknown rate `nu`; the sum of N orders is Gamma(N p, nu), so the daily
/// sums are sufficient and the Gamma prior on `nu` is conjugate. A log-normal model would need
/// each order's value, which exports do not have. The mean order value (AOV) is `p / nu`.
///
/// The prior is written in the operator's terms: a prior AOV `mean` worth `strength`
/// pseudo-orders. With `nu ~ Gamma(shape = p k0 + 1, rate = mean k0)` the posterior mean AOV is
/// `(mean k0 + revenue) / (k0 + orders)`: a weighted average of the prior and the data.
///
/// `p` sets how spread single orders are (coefficient of variation `1/sqrt(p)`); the default
/// `p = 2` (CV about 0.7) suits retail baskets. It can be fitted from data with
/// [`crate::estimate::shrinkage`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct OrderValuePrior {
    mean: f64,
    strength: f64,
    order_shape: f64,
}

validated_serde!(OrderValuePrior, |p| OrderValuePrior::new(
    p.mean,
    p.strength,
    p.order_shape
));

/// Default shape `p` of single order values (coefficient of variation about 0.7).
pub const DEFAULT_ORDER_SHAPE: f64 = 2.0;

impl OrderValuePrior {
    /// A prior AOV of `mean` currency units worth `strength` pseudo-orders, with single-order
    /// shape `order_shape`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless all three are finite and > 0.
    pub fn new(mean: f64, strength: f64, order_shape: f64) -> Result<Self> {
        for (name, v) in [
            ("mean", mean),
            ("strength", strength),
            ("order_shape", order_shape),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::parameter(name, v, "must be finite and > 0"));
            }
        }
        Ok(OrderValuePrior {
            mean,
            strength,
            order_shape,
        })
    }

    /// A weak prior (one pseudo-order, default shape) at `mean`, or at 1 if `mean` is not a
    /// positive finite number.
    pub fn weak(mean: f64) -> Self {
        let mean = if mean.is_finite() && mean > 0.0 {
            mean
        } else {
            1.0
        };
        OrderValuePrior {
            mean,
            strength: 1.0,
            order_shape: DEFAULT_ORDER_SHAPE,
        }
    }

    /// Prior mean AOV.
    pub fn mean(&self) -> f64 {
        self.mean
    }
    /// Prior strength in pseudo-orders.
    pub fn strength(&self) -> f64 {
        self.strength
    }
    /// Shape of single order values.
    pub fn order_shape(&self) -> f64 {
        self.order_shape
    }

    /// The posterior after `orders` orders worth `revenue` in total (currency units;
    /// fractional, discounted counts allowed; negative or non-finite inputs count as zero).
    pub fn update(&self, orders: f64, revenue: f64) -> OrderValuePosterior {
        let n = if orders.is_finite() && orders > 0.0 {
            orders
        } else {
            0.0
        };
        let r = if revenue.is_finite() && revenue > 0.0 && n > 0.0 {
            revenue
        } else {
            0.0
        };
        let p = self.order_shape;
        OrderValuePosterior {
            order_shape: p,
            shape: p * (self.strength + n) + 1.0,
            rate: self.mean * self.strength + r,
        }
    }
}

/// Posterior of the mean order value (AOV): `p / nu` with `nu ~ Gamma(shape, rate)`.
///
/// ```
/// use adbandit::estimate::OrderValuePrior;
/// let prior = OrderValuePrior::new(100.0, 5.0, 2.0)?;
/// let post = prior.update(45.0, 45.0 * 200.0); // 45 orders averaging 200
/// assert!((post.mean() - (500.0 + 9000.0) / 50.0).abs() < 1e-9);
/// let (lo, hi) = post.interval(0.9)?;
/// assert!(lo < post.mean() && post.mean() < hi);
/// # Ok::<(), adbandit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OrderValuePosterior {
    order_shape: f64,
    shape: f64,
    rate: f64,
}

impl OrderValuePosterior {
    /// Posterior mean AOV, `p * rate / (shape - 1)` (shape > 1 always holds).
    pub fn mean(&self) -> f64 {
        self.order_shape * self.rate / (self.shape - 1.0)
    }

    /// Pseudo-orders plus observed orders behind the estimate.
    pub fn orders(&self) -> f64 {
        (self.shape - 1.0) / self.order_shape
    }

    /// `(order_shape, shape, rate)`: the AOV is `order_shape / nu`, `nu ~ Gamma(shape, rate)`.
    /// For fast approximate quantiles (Bayes-UCB).
    pub(crate) fn gamma_parts(&self) -> (f64, f64, f64) {
        (self.order_shape, self.shape, self.rate)
    }

    /// The `p`-quantile of the AOV: `order_shape / q_{1-p}(nu)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `p` is in (0, 1).
    pub fn quantile(&self, p: f64) -> Result<f64> {
        if !(p > 0.0 && p < 1.0) {
            return Err(Error::parameter("p", p, "must be in (0, 1)"));
        }
        let nu = StatrsGamma::new(self.shape, self.rate).map_err(|e| {
            Error::parameter("order value posterior", format!("{self:?}"), e.to_string())
        })?;
        let q = nu.inverse_cdf(1.0 - p);
        Ok(if q > 0.0 {
            self.order_shape / q
        } else {
            f64::MAX
        })
    }

    /// Equal-tailed credible interval for the AOV.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `level` is in (0, 1).
    pub fn interval(&self, level: f64) -> Result<(f64, f64)> {
        let tail = (1.0 - check_level(level)?) / 2.0;
        Ok((self.quantile(tail)?, self.quantile(1.0 - tail)?))
    }

    /// A cached sampler for repeated draws.
    pub fn sampler(&self) -> OrderValueSampler {
        OrderValueSampler {
            nu: GammaSampler::new(self.shape),
            scale: self.order_shape * self.rate,
        }
    }

    /// One draw of the AOV.
    pub fn sample(&self, rng: &mut SimRng) -> f64 {
        self.sampler().sample(rng)
    }
}

/// Draws the AOV as `p * rate / G`, `G ~ Gamma(shape, 1)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OrderValueSampler {
    nu: GammaSampler,
    scale: f64,
}

impl OrderValueSampler {
    /// One draw (finite and >= 0).
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> f64 {
        let g = self.nu.sample(rng);
        if g > 0.0 {
            (self.scale / g).min(f64::MAX)
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    #[test]
    fn beta_prior_validation() {
        assert!(BetaPrior::new(0.0, 1.0).is_err());
        assert!(BetaPrior::new(1.0, f64::NAN).is_err());
        assert!(BetaPrior::from_mean_strength(1.0, 10.0).is_err());
        assert!(serde_json::from_str::<BetaPrior>(r#"{"alpha":-1,"beta":1}"#).is_err());
        let p = BetaPrior::from_mean_strength(0.2, 10.0).unwrap();
        assert!((p.alpha() - 2.0).abs() < 1e-12 && (p.beta() - 8.0).abs() < 1e-12);
    }

    #[test]
    fn beta_update_clamps_bad_counts() {
        let p = BetaPrior::UNIFORM;
        let post = p.update(5.0, 3.0);
        assert!((post.alpha() - 4.0).abs() < 1e-12 && (post.beta() - 1.0).abs() < 1e-12);
        let post = p.update(f64::NAN, f64::INFINITY);
        assert_eq!((post.alpha(), post.beta()), (1.0, 1.0));
    }

    #[test]
    fn beta_interval_matches_statrs_and_narrows_with_data() {
        let small = BetaPrior::UNIFORM.update(5.0, 100.0);
        let big = BetaPrior::UNIFORM.update(50.0, 1000.0);
        let (a, b) = small.interval(0.95).unwrap();
        let (c, d) = big.interval(0.95).unwrap();
        assert!(d - c < b - a);
        // Cross-check against statrs' Beta distribution.
        let s = statrs::distribution::Beta::new(6.0, 96.0).unwrap();
        assert!((s.inverse_cdf(0.025) - a).abs() < 1e-9);
        assert!(small.quantile(1.5).is_err());
        assert!(small.interval(1.0).is_err());
    }

    #[test]
    fn order_value_posterior_mean_and_sampling_agree() {
        let prior = OrderValuePrior::new(80.0, 3.0, 2.0).unwrap();
        let post = prior.update(20.0, 20.0 * 150.0);
        let expect = (80.0 * 3.0 + 3000.0) / 23.0;
        assert!((post.mean() - expect).abs() < 1e-9);
        let s = post.sampler();
        let mut rng = stream(9, &[]);
        let n = 200_000;
        let m = (0..n).map(|_| s.sample(&mut rng)).sum::<f64>() / n as f64;
        assert!((m / expect - 1.0).abs() < 0.01, "{m} vs {expect}");
        let (lo, hi) = post.interval(0.95).unwrap();
        assert!(lo < expect && expect < hi);
        assert!(OrderValuePrior::new(0.0, 1.0, 1.0).is_err());
        // No data: the prior mean.
        assert!((prior.update(0.0, 500.0).mean() - 80.0).abs() < 1e-9);
    }
}

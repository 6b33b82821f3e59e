//! Empirical-Bayes priors: a keyword borrows strength from its plan, a plan from its account.
//!
//! For a rate, the prior of a child is fitted by the method of moments on its siblings' rates
//! (Kass & Steffey 1989; the standard CTR-smoothing recipe): with the parent's mean `m`, the
//! trial-weighted spread of the siblings' rates around `m` less the part that binomial noise
//! alone explains (`K m (1 - m) / sum(trials)` for `K` siblings) estimates the true spread `v`;
//! the prior strength is then `n0 = m (1 - m) / v - 1` pseudo-trials, clamped to
//! [`ShrinkageConfig::min_strength`, `max_strength`] so one noisy sibling cannot dominate.
//! When there are fewer than two siblings with data the spread cannot be estimated and
//! `default_strength` is used. The fitted strength is also capped at the siblings' mean number
//! of trials: with few siblings the spread estimate is noisy and often comes out at or below
//! zero (complete pooling), and a prior should never outweigh an average sibling's own data.
//!
//! The order value prior is fitted the same way on the siblings' AOVs, whose noise part under
//! the Gamma–Gamma model is `m^2 / (p n)` for `n` orders.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::estimate::posterior::{BetaPrior, DEFAULT_ORDER_SHAPE, OrderValuePrior};

/// Limits for fitted priors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct ShrinkageConfig {
    /// Fewest pseudo-trials a fitted rate prior may have.
    pub min_strength: f64,
    /// Most pseudo-trials a fitted rate prior may have.
    pub max_strength: f64,
    /// Pseudo-trials when the spread cannot be estimated.
    pub default_strength: f64,
    /// Fewest / most pseudo-orders of a fitted AOV prior.
    pub aov_strength: (f64, f64),
    /// Shape `p` of single order values (see [`OrderValuePrior`]).
    pub order_shape: f64,
}

validated_serde!(ShrinkageConfig, |c| {
    c.validate()?;
    Ok(c)
});

impl Default for ShrinkageConfig {
    fn default() -> Self {
        ShrinkageConfig {
            min_strength: 2.0,
            max_strength: 5_000.0,
            default_strength: 20.0,
            aov_strength: (0.5, 200.0),
            order_shape: DEFAULT_ORDER_SHAPE,
        }
    }
}

impl ShrinkageConfig {
    /// Checks that every limit is finite, positive and ordered.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the bad limit.
    pub fn validate(&self) -> Result<()> {
        let pos = |name: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::parameter(name, v, "must be finite and > 0"))
            }
        };
        pos("min_strength", self.min_strength)?;
        pos("max_strength", self.max_strength)?;
        pos("default_strength", self.default_strength)?;
        pos("aov_strength.0", self.aov_strength.0)?;
        pos("aov_strength.1", self.aov_strength.1)?;
        pos("order_shape", self.order_shape)?;
        if self.min_strength > self.max_strength {
            return Err(Error::parameter(
                "min_strength",
                self.min_strength,
                "must not exceed max_strength",
            ));
        }
        if self.aov_strength.0 > self.aov_strength.1 {
            return Err(Error::parameter(
                "aov_strength",
                format!("{:?}", self.aov_strength),
                "min must not exceed max",
            ));
        }
        Ok(())
    }
}

/// Keeps a prior mean away from 0 and 1, where a Beta prior degenerates.
fn clamp_rate(m: f64) -> f64 {
    if m.is_finite() {
        m.clamp(1e-6, 1.0 - 1e-6)
    } else {
        0.5
    }
}

/// Fits a Beta prior with mean `parent_mean` from siblings' `(successes, trials)`.
///
/// Siblings with no trials are ignored; non-finite counts are ignored.
pub fn fit_beta_prior(
    siblings: impl IntoIterator<Item = (f64, f64)>,
    parent_mean: f64,
    cfg: &ShrinkageConfig,
) -> BetaPrior {
    let m = clamp_rate(parent_mean);
    let (mut k, mut sum_t, mut sum_sq) = (0usize, 0.0, 0.0);
    for (s, t) in siblings {
        if !(t.is_finite() && t > 0.0 && s.is_finite()) {
            continue;
        }
        let r = (s / t).clamp(0.0, 1.0);
        k += 1;
        sum_t += t;
        sum_sq += t * (r - m) * (r - m);
    }
    let strength = if k < 2 {
        cfg.default_strength
    } else {
        let v = sum_sq / sum_t - k as f64 * m * (1.0 - m) / sum_t;
        let n0 = if v > 0.0 {
            m * (1.0 - m) / v - 1.0
        } else {
            cfg.max_strength
        };
        // With few siblings the spread estimate is noisy and often <= 0 (complete pooling).
        // Never let the prior outweigh an average sibling's own data.
        n0.min(sum_t / k as f64)
    };
    let strength = strength.clamp(cfg.min_strength, cfg.max_strength);
    BetaPrior::from_mean_strength(m, strength).unwrap_or(BetaPrior::UNIFORM)
}

/// Fits an AOV prior with mean `parent_mean` (currency units) from siblings' `(orders, revenue)`.
pub fn fit_order_value_prior(
    siblings: impl IntoIterator<Item = (f64, f64)>,
    parent_mean: f64,
    cfg: &ShrinkageConfig,
) -> OrderValuePrior {
    let m = if parent_mean.is_finite() && parent_mean > 0.0 {
        parent_mean
    } else {
        1.0
    };
    let p = cfg.order_shape;
    let (mut k, mut sum_n, mut sum_sq) = (0usize, 0.0, 0.0);
    for (n, r) in siblings {
        if !(n.is_finite() && n > 0.0 && r.is_finite() && r >= 0.0) {
            continue;
        }
        let aov = r / n;
        k += 1;
        sum_n += n;
        sum_sq += n * (aov - m) * (aov - m);
    }
    let strength = if k < 2 {
        cfg.aov_strength.0.max(1.0).min(cfg.aov_strength.1)
    } else {
        // Var(mu) = m^2 / (p k0 - 1)  =>  k0 = (m^2 / var + 1) / p.
        let v = sum_sq / sum_n - k as f64 * m * m / (p * sum_n);
        if v > 0.0 {
            (m * m / v + 1.0) / p
        } else {
            cfg.aov_strength.1
        }
    };
    let strength = strength.clamp(cfg.aov_strength.0, cfg.aov_strength.1);
    // Fails only for an unvalidated config (its fields are public); fall back to a weak prior.
    OrderValuePrior::new(m, strength, p).unwrap_or(OrderValuePrior::weak(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homogeneous_siblings_give_a_strong_prior() {
        let cfg = ShrinkageConfig::default();
        // 20 siblings, all exactly at 5%: no spread beyond noise.
        let sibs: Vec<(f64, f64)> = (0..20).map(|_| (50.0, 1000.0)).collect();
        let p = fit_beta_prior(sibs, 0.05, &cfg);
        assert!((p.mean() - 0.05).abs() < 1e-12);
        // Capped at the mean sibling's 1,000 trials.
        assert!((p.strength() - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn spread_siblings_give_the_moment_estimate() {
        let cfg = ShrinkageConfig::default();
        // Rates alternate 2% and 8% on 100k trials each: noise is negligible, v ~ 0.0009.
        let sibs: Vec<(f64, f64)> = (0..20)
            .map(|i| {
                if i % 2 == 0 {
                    (2000.0, 1e5)
                } else {
                    (8000.0, 1e5)
                }
            })
            .collect();
        let p = fit_beta_prior(sibs, 0.05, &cfg);
        let expect = 0.05 * 0.95 / 0.0009 - 1.0;
        assert!(
            (p.strength() / expect - 1.0).abs() < 0.01,
            "{} vs {expect}",
            p.strength()
        );
    }

    #[test]
    fn too_few_siblings_use_default_and_bad_counts_are_ignored() {
        let cfg = ShrinkageConfig::default();
        let p = fit_beta_prior(vec![(1.0, 10.0), (f64::NAN, 5.0), (1.0, 0.0)], 0.1, &cfg);
        assert!((p.strength() - cfg.default_strength).abs() < 1e-9);
        let p = fit_beta_prior(vec![], f64::NAN, &cfg);
        assert!((p.mean() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn aov_prior_strength_follows_spread() {
        let cfg = ShrinkageConfig::default();
        let tight: Vec<(f64, f64)> = (0..10).map(|_| (100.0, 100.0 * 50.0)).collect();
        let wide: Vec<(f64, f64)> = (0..10)
            .map(|i| {
                if i % 2 == 0 {
                    (100.0, 100.0 * 20.0)
                } else {
                    (100.0, 100.0 * 80.0)
                }
            })
            .collect();
        let a = fit_order_value_prior(tight, 50.0, &cfg);
        let b = fit_order_value_prior(wide, 50.0, &cfg);
        assert!(a.strength() > b.strength());
        assert!((a.mean() - 50.0).abs() < 1e-12);
        assert!(
            ShrinkageConfig {
                min_strength: 10.0,
                max_strength: 1.0,
                ..cfg
            }
            .validate()
            .is_err()
        );
    }
}

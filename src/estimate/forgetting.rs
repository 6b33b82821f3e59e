//! How old evidence loses weight: discounting with a half-life, or a sliding window.
//!
//! The world moves: rates drift and promotion days break averages. Discounting multiplies
//! the evidence (not the prior) by `gamma` once per period, so data `k` periods old weighs
//! `gamma^k`; `gamma^h = 1/2` gives a half-life of `h` periods (discounted Thompson sampling,
//! Raj & Kalyani 2017; discounted UCB, Garivier & Moulines 2011). A window keeps only the
//! last `W` periods' counts (sliding-window UCB, Garivier & Moulines 2011).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A forgetting rule. Validated on construction and on deserialisation.
///
/// ```
/// use adbandit::estimate::Forgetting;
/// let f = Forgetting::half_life(7.0)?;
/// assert!((f.gamma().powi(7) - 0.5).abs() < 1e-12);
/// assert!(Forgetting::discount(1.5).is_err());
/// assert!(Forgetting::window(0).is_err());
/// # Ok::<(), adbandit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(remote = "Self", tag = "kind", rename_all = "snake_case")]
pub enum Forgetting {
    /// Keep all evidence at full weight.
    #[default]
    Never,
    /// Multiply the evidence by `gamma` in (0, 1] once per period.
    Discount {
        /// Per-period factor.
        gamma: f64,
    },
    /// Keep only the last `periods` periods.
    Window {
        /// Window length in periods (>= 1).
        periods: u32,
    },
}

validated_serde!(Forgetting, |f| match f {
    Forgetting::Never => Ok(Forgetting::Never),
    Forgetting::Discount { gamma } => Forgetting::discount(gamma),
    Forgetting::Window { periods } => Forgetting::window(periods),
});

impl Forgetting {
    /// Discounting by `gamma` per period.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `gamma` is in (0, 1].
    pub fn discount(gamma: f64) -> Result<Self> {
        if !(gamma > 0.0 && gamma <= 1.0) {
            return Err(Error::parameter("gamma", gamma, "must be in (0, 1]"));
        }
        Ok(Forgetting::Discount { gamma })
    }

    /// Discounting with a half-life of `periods` periods.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `periods` is finite and > 0.
    pub fn half_life(periods: f64) -> Result<Self> {
        if !(periods.is_finite() && periods > 0.0) {
            return Err(Error::parameter(
                "half_life",
                periods,
                "must be finite and > 0",
            ));
        }
        Forgetting::discount(0.5f64.powf(1.0 / periods))
    }

    /// A sliding window of `periods` periods.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `periods` is 0.
    pub fn window(periods: u32) -> Result<Self> {
        if periods == 0 {
            return Err(Error::parameter("window", periods, "must be >= 1"));
        }
        Ok(Forgetting::Window { periods })
    }

    /// The per-period discount factor (1 for `Never` and `Window`).
    pub fn gamma(&self) -> f64 {
        match *self {
            Forgetting::Discount { gamma } => gamma,
            _ => 1.0,
        }
    }

    /// The weight of evidence `age` periods old (0 = the current period).
    pub fn weight(&self, age: u32) -> f64 {
        match *self {
            Forgetting::Never => 1.0,
            Forgetting::Discount { gamma } => gamma.powi(age.min(i32::MAX as u32) as i32),
            Forgetting::Window { periods } => {
                if age < periods {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights() {
        let d = Forgetting::half_life(2.0).unwrap();
        assert!((d.weight(2) - 0.5).abs() < 1e-12);
        assert!((d.weight(0) - 1.0).abs() < 1e-12);
        let w = Forgetting::window(3).unwrap();
        assert_eq!((w.weight(2), w.weight(3)), (1.0, 0.0));
        assert!(Forgetting::half_life(f64::NAN).is_err());
        assert!(Forgetting::discount(0.0).is_err());
    }

    #[test]
    fn serde_validates() {
        let j = serde_json::to_string(&Forgetting::window(5).unwrap()).unwrap();
        assert_eq!(j, r#"{"kind":"window","periods":5}"#);
        assert_eq!(
            serde_json::from_str::<Forgetting>(&j).unwrap(),
            Forgetting::window(5).unwrap()
        );
        assert!(serde_json::from_str::<Forgetting>(r#"{"kind":"discount","gamma":2}"#).is_err());
    }
}

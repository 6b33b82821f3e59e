//! Fast Gamma and Beta draws with per-arm cached constants.
//!
//! Thompson sampling draws one Beta per arm per decision. Building a `rand_distr::Beta`
//! each time costs 60-90 ns (it picks an algorithm and does several divisions and square
//! roots); the draw itself is cheaper. So the Marsaglia–Tsang constants are computed once per
//! arm when its counts change ([`GammaSampler::new`]) and each draw costs one normal, one
//! uniform and a few multiplications.
//!
//! Marsaglia, G. & Tsang, W. W. (2000), "A simple method for generating gamma variables",
//! ACM TOMS 26(3). For shape `a < 1`: `Gamma(a) = Gamma(a + 1) * U^(1/a)` (their section 6).

use rand::RngExt;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::rng::SimRng;

/// Draws from Gamma(shape, 1) with constants cached for the shape.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaSampler {
    /// d = a' - 1/3 where a' = shape (or shape + 1 when shape < 1).
    d: f64,
    /// c = 1 / sqrt(9 d).
    c: f64,
    /// 1 / shape when shape < 1 (the boost exponent), else 0.
    inv_shape: f64,
}

impl GammaSampler {
    /// Sampler for Gamma(`shape`, 1). A shape that is not finite and positive is clamped to
    /// a tiny positive value, so a draw never returns NaN (callers validate their counts).
    pub fn new(shape: f64) -> Self {
        let shape = if shape.is_finite() && shape > 1e-12 {
            shape
        } else {
            1e-12
        };
        let (a, inv_shape) = if shape < 1.0 {
            (shape + 1.0, 1.0 / shape)
        } else {
            (shape, 0.0)
        };
        let d = a - 1.0 / 3.0;
        GammaSampler {
            d,
            c: 1.0 / (9.0 * d).sqrt(),
            inv_shape,
        }
    }

    /// One draw.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> f64 {
        // 1. Draw x ~ N(0,1), v = (1 + c x)^3, reject v <= 0.
        // 2. Accept if ln U < x^2/2 + d - d v + d ln v (with the cheap squeeze first).
        let g = loop {
            let x: f64 = rng.sample(StandardNormal);
            let t = 1.0 + self.c * x;
            if t <= 0.0 {
                continue;
            }
            let v = t * t * t;
            let u: f64 = rng.random();
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + self.d * (1.0 - v + v.ln()) {
                break self.d * v;
            }
        };
        if self.inv_shape > 0.0 {
            // 3. Boost for shape < 1. `1 - U` lies in (0, 1], so the power is finite.
            let u: f64 = rng.random();
            g * (1.0 - u).powf(self.inv_shape)
        } else {
            g
        }
    }
}

/// Draws from Beta(alpha, beta) as X / (X + Y), X ~ Gamma(alpha), Y ~ Gamma(beta).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BetaSampler {
    x: GammaSampler,
    y: GammaSampler,
}

impl BetaSampler {
    /// Sampler for Beta(`alpha`, `beta`) (non-positive parameters are clamped as in
    /// [`GammaSampler::new`]).
    pub fn new(alpha: f64, beta: f64) -> Self {
        BetaSampler {
            x: GammaSampler::new(alpha),
            y: GammaSampler::new(beta),
        }
    }

    /// One draw in `[0, 1]`.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> f64 {
        let x = self.x.sample(rng);
        let y = self.y.sample(rng);
        let s = x + y;
        // Both tiny shapes can underflow to 0 together; fall back to the midpoint.
        if s > 0.0 { x / s } else { 0.5 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    fn moments(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
        (m, v)
    }

    #[test]
    fn gamma_moments_match_for_small_and_large_shapes() {
        let mut rng = stream(1, &[]);
        for &a in &[0.05, 0.3, 1.0, 2.5, 40.0, 5000.0] {
            let s = GammaSampler::new(a);
            let xs: Vec<f64> = (0..200_000).map(|_| s.sample(&mut rng)).collect();
            let (m, v) = moments(&xs);
            // Mean a, variance a; standard error of the mean sqrt(a/n).
            let se = (a / 200_000.0).sqrt();
            assert!((m - a).abs() < 5.0 * se, "shape {a}: mean {m}");
            assert!((v / a - 1.0).abs() < 0.1, "shape {a}: var {v}");
            assert!(xs.iter().all(|x| x.is_finite() && *x >= 0.0));
        }
    }

    #[test]
    fn beta_mean_and_variance() {
        let mut rng = stream(2, &[]);
        for &(a, b) in &[(1.0, 1.0), (3.0, 97.0), (0.5, 0.5), (500.0, 9500.0)] {
            let s = BetaSampler::new(a, b);
            let xs: Vec<f64> = (0..200_000).map(|_| s.sample(&mut rng)).collect();
            let (m, v) = moments(&xs);
            let em = a / (a + b);
            let ev = a * b / ((a + b) * (a + b) * (a + b + 1.0));
            assert!(
                (m - em).abs() < 5.0 * (ev / 200_000.0).sqrt(),
                "{a},{b}: {m}"
            );
            assert!((v / ev - 1.0).abs() < 0.05, "{a},{b}: {v} vs {ev}");
        }
    }

    #[test]
    fn degenerate_parameters_never_give_nan() {
        let mut rng = stream(3, &[]);
        for &(a, b) in &[
            (0.0, 0.0),
            (f64::NAN, 1.0),
            (-1.0, f64::INFINITY),
            (1e-300, 1e-300),
        ] {
            let s = BetaSampler::new(a, b);
            for _ in 0..1000 {
                let x = s.sample(&mut rng);
                assert!((0.0..=1.0).contains(&x), "{a},{b}: {x}");
            }
        }
    }
}

//! A keyword's response to its bid: clicks and cost per day as functions of the bid, the
//! model behind the engine's what-if answers. (The bids are still solved on the power-law
//! [`SpendModel`](crate::allocate::bid::SpendModel): moving them onto this model lost
//! decision quality when measured; see `engine::traffic`.)
//!
//! **Shape.** Under a generalised second-price auction the ad wins an auction when its rank
//! score beats the rivals', and then pays what keeps its rank: the next rival's score, never
//! more than its own bid. With `x = effective bid / half_bid` (the effective bid is the bid
//! times the hour's multiplier; `half_bid` is the effective bid that wins half the clicks the
//! keyword can reach) the model is
//!
//! - clicks: `clicks(x) = max_clicks * s(x)`, `s(x) = x^K / (1 + x^K)` with `K` =
//!   [`SHAPE`]: a log-logistic share of the auctions won (the rivals' bids are roughly
//!   log-normal), saturating at `max_clicks` when every auction is won and the traffic runs
//!   out;
//! - cost: what a second price charges when the rivals' bids are distributed like the win
//!   curve: each click costs the bid that would just have lost it, so
//!   `cost(x) = max_clicks * half_bid * (x s(x) - ∫_0^x s(t) dt)`. The price per click is
//!   `half_bid * (x - ∫_0^x s / s(x))`, always below the effective bid, and flattens at the
//!   rivals' typical price when every auction is won.
//!
//! **Fit.** The ratio of the cost per click to the effective bid depends only on `x`
//! ([`cpc_ratio`]: `K / (K + 1)` at the bottom of the curve, falling toward 0 at the top),
//! so a keyword's own history of cost against the bids it paid them at says where on its
//! curve it sits ([`position`]); its clicks per day there then give `max_clicks`
//! ([`ResponseModel::from_observation`]). At the observed bid the model reproduces the
//! observed clicks and cost exactly; away from it, the shape carries the prediction. The
//! engine shrinks each keyword's ratio toward its plan's (see `engine::traffic`).
//!
//! The shape is fixed (`K` = 4, the slope of the click share against the log bid near the
//! middle of a log-normal rival field with log-sd ~0.4 and a few slots); fitting `K` per
//! account from its own bid changes is not built.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The steepness `K` of the click share `x^K / (1 + x^K)`.
pub const SHAPE: f64 = 4.0;
/// The lowest position on the curve a fit may infer (`x`): a cost per click at the bottom
/// of the curve says only "low", and extrapolating from deeper would promise unbounded
/// growth.
pub const MIN_POSITION: f64 = 0.5;
/// The highest position a fit may infer.
pub const MAX_POSITION: f64 = 20.0;

const U_MIN: f64 = -8.0;
const U_MAX: f64 = 8.0;
const STEPS: usize = 2048;

/// `H(x) = x s(x) - ∫_0^x s = ∫_0^x t s'(t) dt` on a grid of `ln x`, built once. Tabled as
/// the integral of a non-negative function, so it is non-decreasing after interpolation too
/// (spend must not fall when the bid rises).
fn table() -> &'static [f64] {
    static T: OnceLock<Vec<f64>> = OnceLock::new();
    T.get_or_init(|| {
        let du = (U_MAX - U_MIN) / STEPS as f64;
        let x0 = U_MIN.exp();
        // Below the grid s(x) ~ x^K, so H ~ K x^(K+1) / (K+1).
        let mut h = SHAPE * x0.powf(SHAPE + 1.0) / (SHAPE + 1.0);
        // t s'(t) dt = e^u K s (1 - s) du.
        let f = |u: f64| {
            let s = share(u.exp());
            u.exp() * SHAPE * s * (1.0 - s)
        };
        let mut out = Vec::with_capacity(STEPS + 1);
        out.push(h);
        for i in 0..STEPS {
            let (a, b) = (U_MIN + i as f64 * du, U_MIN + (i + 1) as f64 * du);
            h += 0.5 * (f(a) + f(b)) * du;
            out.push(h);
        }
        out
    })
}

/// The share of reachable clicks won at position `x` (effective bid / half bid).
#[inline]
pub fn share(x: f64) -> f64 {
    if !(x > 0.0) {
        return 0.0;
    }
    if x.is_infinite() {
        return 1.0;
    }
    let xk = x * x * x * x;
    xk / (1.0 + xk)
}

/// Cost per reachable click, in units of the half bid, at position `x`:
/// `x s(x) - ∫_0^x s`.
#[inline]
pub fn unit_cost(x: f64) -> f64 {
    if !(x > 0.0) {
        return 0.0;
    }
    let t = table();
    let u = x.ln();
    if u <= U_MIN {
        return SHAPE * x.powf(SHAPE + 1.0) / (SHAPE + 1.0);
    }
    if u >= U_MAX {
        // The rest of the integral is below e^(-3 U_MAX): the price has flattened.
        return t[STEPS];
    }
    let pos = (u - U_MIN) / (U_MAX - U_MIN) * STEPS as f64;
    let k = (pos as usize).min(STEPS - 1);
    let frac = pos - k as f64;
    t[k] + (t[k + 1] - t[k]) * frac
}

/// Cost per click over the effective bid at position `x`: `K / (K + 1)` at the bottom of
/// the curve, decreasing toward 0 as the ad wins every auction.
pub fn cpc_ratio(x: f64) -> f64 {
    let top = SHAPE / (SHAPE + 1.0);
    if !(x > 0.0) {
        return top;
    }
    let s = share(x);
    if !(s > 0.0) {
        return top;
    }
    (unit_cost(x) / (x * s)).clamp(0.0, top)
}

/// The position `x` whose [`cpc_ratio`] is `ratio`, within
/// `[MIN_POSITION, MAX_POSITION]` (the ratio falls with `x`).
pub fn position(ratio: f64) -> f64 {
    if !ratio.is_finite() {
        return 1.0;
    }
    let (mut lo, mut hi) = (MIN_POSITION.ln(), MAX_POSITION.ln());
    if ratio >= cpc_ratio(MIN_POSITION) {
        return MIN_POSITION;
    }
    if ratio <= cpc_ratio(MAX_POSITION) {
        return MAX_POSITION;
    }
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        if cpc_ratio(mid.exp()) > ratio {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi)).exp()
}

/// A keyword's expected clicks and cost per day as functions of its bid (see the
/// [module docs](self)). Money in currency units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ResponseModel {
    /// The effective bid (bid x hour multiplier) that wins half the reachable clicks.
    pub half_bid: f64,
    /// Clicks per day when every auction is won: the traffic the keyword can reach.
    pub max_clicks: f64,
    /// The day's traffic-weighted mean hour multiplier (effective bid = bid x this).
    pub multiplier: f64,
    /// The keyword's price level against the shape's: observed cost over the cost the
    /// shape predicts at the bids it was observed at (1 = as the shape says). The price per
    /// click is still capped at the effective bid.
    #[serde(default = "one")]
    pub price_factor: f64,
}

fn one() -> f64 {
    1.0
}

impl ResponseModel {
    /// The model through one observation: at effective bid `eff_bid` the keyword bought
    /// `clicks` per day at `ratio` x the effective bid per click. The ratio places it on
    /// its curve ([`position`]); `multiplier` converts later bids to effective ones.
    pub fn from_observation(eff_bid: f64, clicks: f64, ratio: f64, multiplier: f64) -> Self {
        let x = position(ratio);
        let s = share(x);
        ResponseModel {
            half_bid: if eff_bid > 0.0 { eff_bid / x } else { 0.0 },
            max_clicks: if s > 0.0 { clicks.max(0.0) / s } else { 0.0 },
            multiplier: if multiplier > 0.0 { multiplier } else { 1.0 },
            price_factor: 1.0,
        }
    }

    fn usable(&self) -> bool {
        self.half_bid > 0.0
            && self.half_bid.is_finite()
            && self.max_clicks > 0.0
            && self.max_clicks.is_finite()
    }

    /// Position on the curve at bid `b`.
    #[inline]
    pub fn position_at(&self, b: f64) -> f64 {
        if !(b > 0.0) || !self.usable() {
            return 0.0;
        }
        b * self.multiplier / self.half_bid
    }

    /// Expected clicks per day at bid `b`.
    pub fn clicks(&self, b: f64) -> f64 {
        let x = self.position_at(b);
        if x > 0.0 {
            self.max_clicks * share(x)
        } else {
            0.0
        }
    }

    /// Expected cost per day at bid `b` (never above `clicks(b) x b x multiplier`).
    #[inline]
    pub fn spend(&self, b: f64) -> f64 {
        let x = self.position_at(b);
        if x > 0.0 {
            let s = self.max_clicks * share(x);
            (self.price_factor * self.max_clicks * self.half_bid * unit_cost(x))
                .min(s * b * self.multiplier)
        } else {
            0.0
        }
    }

    /// Expected cost per click at bid `b` (0 if no clicks).
    pub fn cpc(&self, b: f64) -> f64 {
        let c = self.clicks(b);
        if c > 0.0 { self.spend(b) / c } else { 0.0 }
    }
}

/// One day of a keyword's history, for [`fit`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DayPoint {
    /// The effective bid of the day (bid x the day's mean hour multiplier).
    pub eff_bid: f64,
    /// Clicks.
    pub clicks: f64,
    /// Cost, currency units.
    pub cost: f64,
    /// Share of the day's traffic the keyword was in the market for (a budget that ran out
    /// early hid the rest), in (0, 1].
    pub exposure: f64,
    /// Weight of the day (recency).
    pub weight: f64,
}

/// A curve fitted to a keyword's own days at its own bids.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurveFit {
    /// Posterior mean of the half bid (geometric).
    pub half_bid: f64,
    /// Posterior sd of `ln half_bid`.
    pub log_sd: f64,
    /// Clicks per day when every auction is won, at the posterior mean half bid.
    pub max_clicks: f64,
    /// Price level against the shape (see [`ResponseModel::price_factor`]).
    pub price_factor: f64,
    /// The click-weighted effective bid of the days.
    pub ref_bid: f64,
    /// The (weighted) clicks behind the fit.
    pub clicks: f64,
}

/// Fits the half bid and the reachable clicks to a keyword's days by Poisson likelihood
/// (clicks of day d ~ Poisson(max_clicks x s(bid_d / half_bid) x exposure_d)), tempered for
/// day-to-day traffic swings of coefficient of variation `day_cv`, on a grid of
/// `ln half_bid`, with a normal prior (`prior_half_bid`, log-sd `prior_sd`). The keyword's
/// own bid changes are what move the half bid away from the prior: days at other bids with
/// more or fewer clicks say where the curve bends. `None` without clicks.
pub fn fit(
    points: &[DayPoint],
    prior_half_bid: f64,
    prior_sd: f64,
    day_cv: f64,
) -> Option<CurveFit> {
    let pts: Vec<&DayPoint> = points
        .iter()
        .filter(|p| {
            p.eff_bid > 0.0
                && p.eff_bid.is_finite()
                && p.clicks >= 0.0
                && p.clicks.is_finite()
                && p.exposure > 0.0
                && p.weight > 0.0
        })
        .collect();
    let n: f64 = pts.iter().map(|p| p.weight * p.clicks).sum();
    let wsum: f64 = pts.iter().map(|p| p.weight).sum();
    if !(n > 0.0 && prior_half_bid > 0.0 && prior_half_bid.is_finite()) {
        return None;
    }
    let u0 = prior_half_bid.ln();
    let sd = prior_sd.max(0.05);
    let lo_b = pts
        .iter()
        .map(|p| p.eff_bid.ln())
        .fold(f64::INFINITY, f64::min);
    let hi_b = pts
        .iter()
        .map(|p| p.eff_bid.ln())
        .fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = (
        (lo_b - MAX_POSITION.ln()).max(u0 - 3.0 * sd).min(u0),
        (hi_b - MIN_POSITION.ln()).min(u0 + 3.0 * sd).max(u0),
    );
    // Quasi-likelihood: a day's clicks vary by Poisson and by the day's traffic swing.
    let per_day = n / wsum.max(1e-9);
    let temper = 1.0 / (1.0 + day_cv * day_cv * per_day);
    const GRID: usize = 48;
    let mut ll = [0.0f64; GRID + 1];
    let mut us = [0.0f64; GRID + 1];
    for (g, (l, u)) in ll.iter_mut().zip(us.iter_mut()).enumerate() {
        *u = lo + (hi - lo) * g as f64 / GRID as f64;
        let th = u.exp();
        let (mut a, mut sexp) = (0.0, 0.0);
        for p in &pts {
            let s = share(p.eff_bid / th).max(1e-12);
            a += p.weight * p.clicks * s.ln();
            sexp += p.weight * s * p.exposure;
        }
        let d = (*u - u0) / sd;
        *l = temper * (a - n * sexp.max(1e-300).ln()) - 0.5 * d * d;
    }
    let top = ll.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = ll.iter().map(|l| (l - top).exp()).collect();
    let z: f64 = w.iter().sum();
    let mean = us.iter().zip(&w).map(|(u, w)| u * w).sum::<f64>() / z;
    let var = us
        .iter()
        .zip(&w)
        .map(|(u, w)| (u - mean).powi(2) * w)
        .sum::<f64>()
        / z;
    let step = (hi - lo) / GRID as f64;
    let th = mean.exp();
    let sexp: f64 = pts
        .iter()
        .map(|p| p.weight * share(p.eff_bid / th) * p.exposure)
        .sum();
    let max_clicks = n / sexp.max(1e-12);
    let shape = ResponseModel {
        half_bid: th,
        max_clicks,
        multiplier: 1.0,
        price_factor: 1.0,
    };
    // Price level: observed cost against the shape's at the days' bids, shrunk toward 1
    // with 20 pseudo-clicks.
    let (mut seen, mut model) = (0.0, 0.0);
    for p in &pts {
        seen += p.weight * p.cost;
        model += p.weight * p.clicks * shape.cpc(p.eff_bid);
    }
    let per_click = model / n;
    let price_factor = ((seen + 20.0 * per_click) / (model + 20.0 * per_click)).clamp(0.25, 4.0);
    let ref_bid = pts
        .iter()
        .map(|p| p.weight * p.clicks * p.eff_bid)
        .sum::<f64>()
        / n;
    Some(CurveFit {
        half_bid: th,
        log_sd: var.sqrt().max(0.5 * step),
        max_clicks,
        price_factor: if price_factor.is_finite() {
            price_factor
        } else {
            1.0
        },
        ref_bid,
        clicks: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_cost_matches_closed_forms_at_the_ends() {
        // Small x: H ~ K x^5 / 5 (x^4 below 1e-4 relative).
        assert!((unit_cost(0.01) / (4.0 * 0.01f64.powi(5) / 5.0) - 1.0).abs() < 1e-3);
        // Large x: H -> ∫_0^inf (1 - s) = pi / (K sin(pi / K)) (the price flattens there).
        let want = std::f64::consts::PI / (4.0 * (std::f64::consts::PI / 4.0).sin());
        assert!(
            (unit_cost(1000.0) - want).abs() < 2e-3,
            "{}",
            unit_cost(1000.0)
        );
        assert!((unit_cost(1e6) - want).abs() < 2e-3);
    }

    #[test]
    fn price_is_below_the_bid_and_saturates() {
        let m = ResponseModel {
            half_bid: 1.0,
            max_clicks: 100.0,
            multiplier: 1.1,
            price_factor: 1.5,
        };
        let mut last = (0.0, 0.0);
        for i in 1..200 {
            let b = i as f64 * 0.05;
            let (c, s) = (m.clicks(b), m.spend(b));
            assert!(c >= last.0 && s >= last.1, "monotone at {b}");
            assert!(
                s <= c * b * 1.1 + 1e-12,
                "cost per click above the effective bid at {b}"
            );
            assert!(c <= 100.0);
            last = (c, s);
        }
        // Saturation: 8x the bid at the top of the curve buys little more.
        assert!(m.clicks(16.0) < 1.01 * m.clicks(8.0));
    }

    #[test]
    fn a_fit_reproduces_its_observation() {
        for ratio in [0.2, 0.5, 0.7, 0.79] {
            let m = ResponseModel::from_observation(1.2, 50.0, ratio, 1.2);
            let x = position(ratio);
            if x > MIN_POSITION && x < MAX_POSITION {
                assert!((cpc_ratio(x) - ratio).abs() < 1e-6);
                assert!((m.cpc(1.0) / 1.2 - ratio).abs() < 1e-6, "{ratio}");
            }
            assert!((m.clicks(1.0) - 50.0).abs() < 1e-9);
        }
    }

    #[test]
    fn bid_changes_place_the_curve() {
        // A true curve with half bid 1 and 200 reachable clicks, seen at bids 0.6..1.6.
        let truth = ResponseModel {
            half_bid: 1.0,
            max_clicks: 200.0,
            multiplier: 1.0,
            price_factor: 1.0,
        };
        let pts: Vec<DayPoint> = [0.6, 0.8, 1.0, 1.2, 1.4, 1.6]
            .iter()
            .map(|&b| DayPoint {
                eff_bid: b,
                clicks: truth.clicks(b),
                cost: truth.spend(b),
                exposure: 1.0,
                weight: 1.0,
            })
            .collect();
        // A prior far off (half bid 3) is overruled by the evidence.
        let f = fit(&pts, 3.0, 1.0, 0.1).unwrap();
        assert!((f.half_bid - 1.0).abs() < 0.1, "{f:?}");
        assert!((f.max_clicks / 200.0 - 1.0).abs() < 0.15, "{f:?}");
        assert!((f.price_factor - 1.0).abs() < 0.1, "{f:?}");
        // Days at one bid only: the prior decides where the curve bends.
        let one: Vec<DayPoint> = pts
            .iter()
            .map(|p| DayPoint { eff_bid: 1.0, ..*p })
            .collect();
        let f = fit(&one, 3.0, 0.3, 0.1).unwrap();
        assert!(f.half_bid > 2.0, "{f:?}");
        assert!(fit(&[], 1.0, 1.0, 0.1).is_none());
    }
}

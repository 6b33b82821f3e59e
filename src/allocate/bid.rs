//! Bids per keyword, from the plan's objective.
//!
//! With value per click `v = CVR x AOV` (sampled, so uncertain keywords are explored):
//! - target ROI `r`: bid `v / r` (a click is worth `v`; paying `v / r` earns ROI `r`);
//! - target CPA `c`: bid `CVR x c`;
//! - max clicks / conversions / revenue under a budget: bid `value x lambda` with a common
//!   `lambda` found by bisection so that predicted spend meets the plan's budget (the
//!   Lagrangian of the budget constraint). `value` is 1 per click, CVR, or `v`.
//!
//! Predicted spend comes from a bid landscape, not from bid x clicks (under second price a
//! click rarely costs the full bid): each keyword's daily spend is modelled as
//! `spend(b) = spend_ref x (b / bid_ref)^(1 + elasticity)` around its recent history — clicks
//! grow like `b^elasticity` as the ad wins more and higher slots, and the price per click
//! grows roughly in proportion to the bid. [`SpendModel`] carries that fit.
//!
//! Every bid is then clamped to the plan's `[min_bid, max_bid]`, moved at most `max_step`
//! (relative) from the current bid, and rounded to the platform's increment.

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// How a keyword's raw bid is derived.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum BidRule {
    /// `value_per_click / roi`.
    TargetRoi {
        /// Target revenue / cost.
        roi: f64,
    },
    /// `cvr x cpa`.
    TargetCpa {
        /// Target cost per conversion, currency units.
        cpa: f64,
    },
    /// `value x lambda` (budget-constrained objectives).
    Scaled {
        /// The Lagrange multiplier.
        lambda: f64,
    },
}

/// The sampled quantities a bid is computed from (currency units).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BidInputs {
    /// Sampled value per click, CVR x AOV.
    pub value_per_click: f64,
    /// Sampled conversion rate.
    pub cvr: f64,
    /// The per-click value the objective maximises (1, CVR or value per click).
    pub objective_value: f64,
}

/// Limits on a keyword's bid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BidLimits {
    /// Plan's minimum bid.
    pub min: Money,
    /// Plan's maximum bid.
    pub max: Money,
    /// Largest relative change per decision.
    pub max_step: f64,
    /// Platform bid increment (bids are multiples of it).
    pub increment: Money,
}

/// Which limit decided a bid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BidBinding {
    /// The objective's formula.
    Objective,
    /// The plan's minimum bid.
    Min,
    /// The plan's maximum bid.
    Max,
    /// The step limit.
    Step,
}

/// The raw (unclamped) bid in currency units under `rule`.
pub fn raw_bid(rule: BidRule, x: &BidInputs) -> f64 {
    let b = match rule {
        BidRule::TargetRoi { roi } => x.value_per_click / roi,
        BidRule::TargetCpa { cpa } => x.cvr * cpa,
        BidRule::Scaled { lambda } => x.objective_value * lambda,
    };
    if b.is_finite() && b > 0.0 { b } else { 0.0 }
}

/// The bid under `rule`, clamped, step-limited and rounded; and what bound it.
pub fn bid_for(rule: BidRule, x: &BidInputs, current: Money, l: &BidLimits) -> (Money, BidBinding) {
    let raw = raw_bid(rule, x) * 1e6;
    let cur = current.micros() as f64;
    let step = if l.max_step.is_finite() && l.max_step >= 0.0 {
        l.max_step
    } else {
        0.0
    };
    let inc = l.increment.micros().max(1);
    // The smallest legal bid: one increment, and the plan's minimum.
    let min = l.min.micros().max(inc) as f64;
    let max = (l.max.micros() as f64).max(min);
    let (mut b, mut why) = (raw, BidBinding::Objective);
    if cur > 0.0 {
        let (lo, hi) = (cur * (1.0 - step), cur * (1.0 + step));
        if b < lo {
            (b, why) = (lo, BidBinding::Step);
        } else if b > hi {
            (b, why) = (hi, BidBinding::Step);
        }
    }
    if b <= min {
        (b, why) = (min, BidBinding::Min);
    } else if b >= max {
        (b, why) = (max, BidBinding::Max);
    }
    // Round to the increment, staying inside [min, max] (rounding must not break a limit).
    let mut m = Money::from_micros(b.round() as i64)
        .round_to(Money::from_micros(inc))
        .micros();
    while (m as f64) > max && m > inc {
        m -= inc;
    }
    while (m as f64) < min {
        m += inc;
    }
    (Money::from_micros(m), why)
}

/// A keyword's predicted daily spend as a function of its bid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpendModel {
    /// Reference bid (currency units), e.g. the recent average bid.
    pub bid_ref: f64,
    /// Daily spend at the reference bid (currency units).
    pub spend_ref: f64,
    /// Click elasticity to the bid (spend grows like `b^(1 + elasticity)`).
    pub elasticity: f64,
}

impl SpendModel {
    /// Predicted daily spend at bid `b` (currency units); 0 for a non-positive bid.
    pub fn spend(&self, b: f64) -> f64 {
        if !(b > 0.0 && self.bid_ref > 0.0 && self.spend_ref > 0.0) {
            return 0.0;
        }
        self.spend_ref * (b / self.bid_ref).powf(1.0 + self.elasticity.max(0.0))
    }
}

/// Finds `lambda` so that the keywords' predicted spend with bids `value_k x lambda`
/// (clamped to `[min_bid, max_bid]`, currency units) meets `budget`. Returns the largest
/// lambda whose predicted spend does not exceed the budget (bounded by the lambda at which
/// every keyword bids the max; 0 if even minimum bids overspend).
///
/// Exact and `O(n log n)`: with `spend_k(b) = a_k b^e` (`e = 1 + elasticity`), total spend
/// is `C + lambda^e W` between consecutive clamp breakpoints (`min_bid / v_k` and
/// `max_bid / v_k`), where `C` sums the clamped keywords' spend and `W` the free ones'
/// `a_k v_k^e`. Scanning the sorted breakpoints finds the piece where the budget is crossed,
/// and the piece's equation is solved in closed form. Two `powf` per keyword, instead of
/// two per keyword per bisection step.
pub fn solve_lambda(
    values: &[f64],
    models: &[SpendModel],
    min_bid: f64,
    max_bid: f64,
    budget: f64,
) -> f64 {
    solve_lambda_bounded(values, models, |_| (min_bid, max_bid), budget)
}

/// [`solve_lambda`] with bid limits per keyword: `bounds(k)` is keyword `k`'s
/// `(min_bid, max_bid)` in currency units (keywords of several plans solved together, as the
/// account-wide multiplier of the engine's budget stage is). A keyword whose bounds are not
/// finite, or whose maximum is not positive, does not spend.
pub fn solve_lambda_bounded(
    values: &[f64],
    models: &[SpendModel],
    bounds: impl Fn(usize) -> (f64, f64),
    budget: f64,
) -> f64 {
    if !(budget > 0.0) {
        return 0.0;
    }
    // A keyword's usable bounds: min clamped into [0, max].
    let usable = |k: usize| -> Option<(f64, f64)> {
        let (lo, hi) = bounds(k);
        (hi > 0.0 && lo.is_finite() && hi.is_finite()).then(|| (lo.clamp(0.0, hi), hi))
    };
    // Keywords that can spend: positive value and a usable model.
    struct Kw {
        t_lo: f64,
        t_hi: f64,
        c_lo: f64,
        c_hi: f64,
        w: f64,
    }
    // Elasticity is shared in practice; the closed form needs it to be, so fall back to
    // bisection if models disagree.
    let e0 = 1.0
        + models
            .iter()
            .find(|m| m.bid_ref > 0.0)
            .map_or(0.0, |m| m.elasticity.max(0.0));
    if models
        .iter()
        .any(|m| (1.0 + m.elasticity.max(0.0) - e0).abs() > 1e-12)
    {
        return solve_lambda_bisect(values, models, usable, budget);
    }
    // x^e, with the common e = 2 (elasticity 1) as a multiplication.
    let square = (e0 - 2.0).abs() < 1e-15;
    let pw = |x: f64| if square { x * x } else { x.powf(e0) };
    let mut kws = Vec::with_capacity(values.len());
    for (k, (&v, m)) in values.iter().zip(models).enumerate() {
        if !(v > 0.0
            && v.is_finite()
            && m.bid_ref > 0.0
            && m.spend_ref > 0.0
            && m.spend_ref.is_finite())
        {
            continue;
        }
        let Some((lo_bid, max_bid)) = usable(k) else {
            continue;
        };
        let (lo_e, hi_e) = (if lo_bid > 0.0 { pw(lo_bid) } else { 0.0 }, pw(max_bid));
        let a = m.spend_ref / pw(m.bid_ref);
        kws.push(Kw {
            t_lo: lo_bid / v,
            t_hi: max_bid / v,
            c_lo: a * lo_e,
            c_hi: a * hi_e,
            w: a * pw(v),
        });
    }
    if kws.is_empty() {
        return 0.0;
    }
    let top = kws.iter().map(|k| k.t_hi).fold(0.0, f64::max);
    // Events: (lambda, index, kind) with kind 0 = leaves the min, 1 = reaches the max.
    let mut events: Vec<(f64, usize, u8)> = Vec::with_capacity(2 * kws.len());
    for (i, k) in kws.iter().enumerate() {
        events.push((k.t_lo, i, 0));
        events.push((k.t_hi, i, 1));
    }
    events.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)).then(a.1.cmp(&b.1)));
    let (mut c, mut w) = (kws.iter().map(|k| k.c_lo).sum::<f64>(), 0.0f64);
    if c > budget {
        return 0.0;
    }
    let mut prev = 0.0f64;
    for &(t, i, kind) in &events {
        // On (prev, t] spend = c + lambda^e w.
        if w > 0.0 && c + pw(t) * w > budget {
            let lambda = ((budget - c).max(0.0) / w).powf(1.0 / e0);
            return lambda.clamp(prev, t);
        }
        let k = &kws[i];
        if kind == 0 {
            c -= k.c_lo;
            w += k.w;
        } else {
            w -= k.w;
            c += k.c_hi;
        }
        prev = t;
    }
    top
}

fn solve_lambda_bisect(
    values: &[f64],
    models: &[SpendModel],
    usable: impl Fn(usize) -> Option<(f64, f64)>,
    budget: f64,
) -> f64 {
    let spend_at = |lambda: f64| -> f64 {
        values
            .iter()
            .zip(models)
            .enumerate()
            .map(|(k, (&v, m))| match usable(k) {
                Some((lo, hi)) if v > 0.0 => m.spend((v * lambda).clamp(lo, hi)),
                _ => 0.0,
            })
            .sum()
    };
    // The lambda at which every keyword bids its maximum.
    let top = values
        .iter()
        .enumerate()
        .filter(|(_, v)| **v > 0.0)
        .filter_map(|(k, v)| usable(k).map(|(_, hi)| hi / v))
        .fold(0.0f64, f64::max);
    if !(top > 0.0 && top.is_finite()) {
        return 0.0;
    }
    if spend_at(top) <= budget {
        return top;
    }
    let (mut lo, mut hi) = (0.0f64, top);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if spend_at(mid) > budget {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> BidLimits {
        BidLimits {
            min: Money::from_units(0).unwrap(),
            max: Money::from_units(5).unwrap(),
            max_step: 0.2,
            increment: Money::from_micros(10_000),
        }
    }

    fn x(v: f64) -> BidInputs {
        BidInputs {
            value_per_click: v,
            cvr: 0.05,
            objective_value: v,
        }
    }

    #[test]
    fn target_roi_bid_is_value_over_target() {
        let (b, why) = bid_for(
            BidRule::TargetRoi { roi: 4.0 },
            &x(6.0),
            Money::from_units_f64(1.5).unwrap(),
            &limits(),
        );
        assert_eq!(b.micros(), 1_500_000);
        assert_eq!(why, BidBinding::Objective);
        let (b, _) = bid_for(
            BidRule::TargetCpa { cpa: 30.0 },
            &x(6.0),
            Money::from_units_f64(1.5).unwrap(),
            &limits(),
        );
        assert_eq!(b.micros(), 1_500_000);
    }

    #[test]
    fn step_limits_and_bounds_hold() {
        let cur = Money::from_units(1).unwrap();
        let (b, why) = bid_for(BidRule::TargetRoi { roi: 1.0 }, &x(100.0), cur, &limits());
        assert_eq!((b.micros(), why), (1_200_000, BidBinding::Step));
        let (b, why) = bid_for(BidRule::TargetRoi { roi: 1.0 }, &x(0.0), cur, &limits());
        assert_eq!((b.micros(), why), (800_000, BidBinding::Step));
        let (b, why) = bid_for(
            BidRule::TargetRoi { roi: 1.0 },
            &x(f64::NAN),
            Money::ZERO,
            &limits(),
        );
        assert_eq!((b.micros(), why), (10_000, BidBinding::Min));
        let (b, why) = bid_for(
            BidRule::TargetRoi { roi: 1.0 },
            &x(100.0),
            Money::ZERO,
            &limits(),
        );
        assert_eq!((b.micros(), why), (5_000_000, BidBinding::Max));
    }

    #[test]
    fn closed_form_matches_bisection() {
        let values: Vec<f64> = (0..200).map(|i| 0.1 + (i as f64 * 0.37) % 7.0).collect();
        let models: Vec<SpendModel> = (0..200)
            .map(|i| SpendModel {
                bid_ref: 0.5 + (i % 5) as f64,
                spend_ref: 1.0 + (i % 13) as f64,
                elasticity: 0.8,
            })
            .collect();
        // Per-keyword bounds (keywords of plans with other bid limits): the closed form and
        // bisection agree, and the spend at the answer meets the budget.
        let bounds = |k: usize| (0.1 * (1 + k % 3) as f64, 2.0 + (k % 4) as f64);
        for budget in [0.5, 50.0, 300.0, 1000.0, 5000.0, 1e7] {
            let a = solve_lambda_bounded(&values, &models, bounds, budget);
            let b = solve_lambda_bisect(&values, &models, |k| Some(bounds(k)), budget);
            let spend = |l: f64| -> f64 {
                values
                    .iter()
                    .zip(&models)
                    .enumerate()
                    .map(|(k, (v, m))| {
                        let (lo, hi) = bounds(k);
                        m.spend((v * l).clamp(lo, hi))
                    })
                    .sum()
            };
            let tol = 1e-6 * budget.max(1.0);
            assert!(
                (spend(a) - spend(b)).abs() <= tol,
                "budget {budget}: {a} vs {b}"
            );
            // Below the all-minimum spend the answer is 0 (every bid at the minimum).
            assert!(
                spend(a) <= budget + tol || a.abs() < 1e-300,
                "budget {budget}: spend {}",
                spend(a)
            );
        }
        for budget in [0.5, 50.0, 300.0, 1000.0, 5000.0, 1e7] {
            let a = solve_lambda(&values, &models, 0.2, 4.0, budget);
            let b = solve_lambda_bisect(&values, &models, |_| Some((0.2, 4.0)), budget);
            let spend = |l: f64| -> f64 {
                values
                    .iter()
                    .zip(&models)
                    .map(|(v, m)| m.spend((v * l).clamp(0.2, 4.0)))
                    .sum()
            };
            // Below the all-minimum spend the answer is 0 (every bid at the minimum).
            assert!(
                spend(a) <= budget * (1.0 + 1e-9) || a.abs() < 1e-300,
                "budget {budget}: {}",
                spend(a)
            );
            assert!(
                (spend(a) - spend(b)).abs() <= 1e-6 * budget.max(1.0),
                "budget {budget}: {a} vs {b}"
            );
        }
    }

    #[test]
    fn lambda_meets_budget() {
        let values = [1.0, 2.0, 4.0];
        let models = [SpendModel {
            bid_ref: 1.0,
            spend_ref: 10.0,
            elasticity: 1.0,
        }; 3];
        let l = solve_lambda(&values, &models, 0.01, 100.0, 50.0);
        let spend: f64 = values
            .iter()
            .zip(&models)
            .map(|(v, m)| m.spend(v * l))
            .sum();
        assert!((spend - 50.0).abs() < 1e-6, "{spend}");
        // A budget larger than max bids can spend: every bid at the max.
        let l = solve_lambda(&values, &models, 0.01, 2.0, 1e9);
        assert!((l - 2.0).abs() < 1e-12);
        assert!(solve_lambda(&[0.0], &models[..1], 0.01, 2.0, 10.0).abs() < 1e-300);
    }
}

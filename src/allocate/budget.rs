//! Budget across plans: water-filling on sampled response curves, then the operator's limits.
//!
//! Each plan gets a concave response curve, value(s) = r C (1 - exp(-s / C)), where `r` is the
//! (sampled) value per unit of money at low spend and `C` the spend its traffic can absorb
//! (capacity): the first money buys the best traffic, and a plan cannot spend past what its
//! traffic allows. The marginal value is `r exp(-s / C)`. Water-filling gives the next slice of
//! money to the plan with the highest marginal value until the total is reached, which for
//! these curves has the closed form `s = C ln(r / lambda)` with one common `lambda` found by
//! bisection (Badanidiyuru, Kleinberg & Slivkins 2013; Ferreira, Simchi-Levi & Wang 2018 for
//! Thompson sampling with this LP). The limits enter the same bisection: each plan's spend is
//! clamped into `[lo, hi]` (minimum, maximum, step limit, exploration floor), so the result is
//! the best allocation *within* the limits, not a clipped version of the unconstrained one.
//!
//! The total is a hard cap: the sum of the budgets never exceeds it, to the micro.

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// One plan as the allocator sees it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlanArm {
    /// Today's budget (the step limit is relative to it).
    pub current: Money,
    /// Smallest budget the operator allows.
    pub min: Money,
    /// Largest budget the operator allows.
    pub max: Money,
    /// Value per unit of money at low spend (sampled by the policy); `<= 0` means none.
    pub value_per_money: f64,
    /// Spend the plan's traffic can absorb in a day, in micros (> 0).
    pub capacity: f64,
    /// Whether the plan is still being learned and gets the exploration floor.
    pub learning: bool,
    /// Whether the plan can receive budget at all (paused plans cannot).
    pub active: bool,
}

/// Limits that apply to every plan.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AllocationLimits {
    /// The total daily budget: a hard cap on the sum.
    pub total: Money,
    /// Largest relative change per decision, e.g. 0.3 for +-30%.
    pub max_step: f64,
    /// Smallest budget a learning plan gets (if the other limits allow).
    pub exploration_floor: Money,
}

/// Which limit decided a plan's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Binding {
    /// Set by the water level (the marginal value), no limit binding.
    Value,
    /// Held at the operator's minimum.
    Min,
    /// Held at the operator's maximum.
    Max,
    /// Held by the maximum step down.
    StepDown,
    /// Held by the maximum step up.
    StepUp,
    /// Held at the exploration floor.
    ExplorationFloor,
    /// Paused plan: no budget.
    Inactive,
    /// The limits asked for more than the total; scaled down to fit the hard cap.
    TotalCap,
}

/// The allocation of one plan.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    /// The new budget.
    pub budget: Money,
    /// What decided it.
    pub binding: Binding,
    /// The lower bound used.
    pub lo: Money,
    /// The upper bound used.
    pub hi: Money,
}

/// Allocates `limits.total` across `arms`. See the module docs.
///
/// Never panics and never returns NaN-derived amounts: non-finite values and capacities count
/// as zero value; bounds are integers in micros; the sum is at most `limits.total`.
pub fn allocate(arms: &[PlanArm], limits: &AllocationLimits) -> Vec<Allocation> {
    let total = limits.total.micros().max(0);
    let step = if limits.max_step.is_finite() && limits.max_step >= 0.0 {
        limits.max_step
    } else {
        0.0
    };
    // 1. Bounds per plan, integers in micros.
    let mut bounds: Vec<(i64, i64, Binding, Binding)> = arms
        .iter()
        .map(|a| {
            if !a.active {
                return (0, 0, Binding::Inactive, Binding::Inactive);
            }
            let cur = a.current.micros().max(0) as f64;
            // Precedence: the operator's min and max, then the step, then the floor.
            let (min, max) = (a.min.micros().max(0), a.max.micros().max(0));
            let (mut lo, mut lo_b) = (min, Binding::Min);
            let (mut hi, mut hi_b) = (max, Binding::Max);
            let step_lo = (cur * (1.0 - step)).ceil() as i64;
            // A plan at zero could never grow under a relative step: let it grow to the floor.
            // Any other plan keeps the operator's step, even toward the floor: a 1.00 budget
            // does not jump to 100 overnight because the plan is new.
            let step_hi = if cur > 0.0 {
                (cur * (1.0 + step)).floor() as i64
            } else {
                limits.exploration_floor.micros()
            };
            if step_lo > lo && step_lo <= max {
                (lo, lo_b) = (step_lo, Binding::StepDown);
            } else if step_lo > max {
                (lo, lo_b) = (max, Binding::Max);
            }
            if step_hi < hi && step_hi >= min {
                (hi, hi_b) = (step_hi, Binding::StepUp);
            } else if step_hi < min {
                (hi, hi_b) = (min, Binding::Min);
            }
            let floor = limits.exploration_floor.micros().min(hi);
            if a.learning && floor > lo {
                // A floor cut short by the upper bound is that bound's doing.
                let why = if floor < limits.exploration_floor.micros() {
                    hi_b
                } else {
                    Binding::ExplorationFloor
                };
                (lo, lo_b) = (floor, why);
            }
            if lo > hi {
                // Only an operator min above the max gets here (validated away upstream).
                (lo, lo_b) = (hi, hi_b);
            }
            (lo, hi, lo_b, hi_b)
        })
        .collect();

    // 2. If even the lower bounds exceed the total, scale them down to fit the hard cap.
    let sum_lo: i64 = bounds.iter().map(|b| b.0).fold(0i64, i64::saturating_add);
    if sum_lo > total {
        let f = total as f64 / sum_lo as f64;
        for b in &mut bounds {
            b.0 = (b.0 as f64 * f).floor() as i64;
            b.1 = b.0;
            b.2 = Binding::TotalCap;
            b.3 = Binding::TotalCap;
        }
    }

    let r: Vec<f64> = arms
        .iter()
        .map(|a| {
            if a.value_per_money.is_finite() && a.value_per_money > 0.0 {
                a.value_per_money
            } else {
                0.0
            }
        })
        .collect();
    let cap: Vec<f64> = arms
        .iter()
        .map(|a| {
            if a.capacity.is_finite() && a.capacity > 0.0 {
                a.capacity
            } else {
                1.0
            }
        })
        .collect();
    let spend_at = |lambda: f64, i: usize| -> f64 {
        let (lo, hi, ..) = bounds[i];
        let s = if r[i] > lambda {
            cap[i] * (r[i] / lambda).ln()
        } else {
            0.0
        };
        s.clamp(lo as f64, hi as f64)
    };
    let sum_at = |lambda: f64| (0..arms.len()).map(|i| spend_at(lambda, i)).sum::<f64>();

    // 3. Bisection on lambda in log space: sum_at is non-increasing in lambda.
    let sum_hi: f64 = bounds.iter().map(|b| b.1 as f64).sum();
    let spend: Vec<f64> = if sum_hi <= total as f64 {
        bounds.iter().map(|b| b.1 as f64).collect()
    } else {
        let r_max = r.iter().cloned().fold(0.0, f64::max);
        let (mut lo_l, mut hi_l) = (1e-300f64.max(r_max * 1e-12), r_max.max(1e-300));
        if sum_at(lo_l) <= total as f64 {
            hi_l = lo_l;
        } else {
            for _ in 0..200 {
                let mid = (lo_l * hi_l).sqrt();
                if sum_at(mid) > total as f64 {
                    lo_l = mid;
                } else {
                    hi_l = mid;
                }
                if hi_l / lo_l < 1.0 + 1e-12 {
                    break;
                }
            }
        }
        // hi_l is on the feasible side (sum <= total).
        (0..arms.len()).map(|i| spend_at(hi_l, i)).collect()
    };

    // 4. To integers, never above the total; hand leftover micros to the best plans with room.
    let mut out: Vec<i64> = spend
        .iter()
        .zip(&bounds)
        .map(|(s, b)| (s.floor() as i64).clamp(b.0, b.1))
        .collect();
    let mut left = total - out.iter().sum::<i64>();
    if left > 0 {
        let mut order: Vec<usize> = (0..arms.len()).collect();
        order.sort_by(|&a, &b| r[b].total_cmp(&r[a]).then(a.cmp(&b)));
        for i in order {
            if left <= 0 || r[i] <= 0.0 {
                break;
            }
            let room = bounds[i].1 - out[i];
            // Only round-off: never push a plan past its water level by more than a micro per plan.
            let add = room.min(left).min(1);
            out[i] += add;
            left -= add;
        }
    }

    out.iter()
        .zip(&bounds)
        .map(|(&b, &(lo, hi, lo_b, hi_b))| {
            let binding =
                if lo_b == Binding::Inactive || lo_b == Binding::TotalCap || (b <= lo && lo > 0) {
                    lo_b
                } else if b >= hi {
                    hi_b
                } else {
                    Binding::Value
                };
            Allocation {
                budget: Money::from_micros(b),
                binding,
                lo: Money::from_micros(lo),
                hi: Money::from_micros(hi),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arm(cur: i64, r: f64, cap: f64) -> PlanArm {
        PlanArm {
            current: Money::from_micros(cur),
            min: Money::ZERO,
            max: Money::from_micros(i64::MAX / 4),
            value_per_money: r,
            capacity: cap,
            learning: false,
            active: true,
        }
    }

    fn limits(total: i64, step: f64) -> AllocationLimits {
        AllocationLimits {
            total: Money::from_micros(total),
            max_step: step,
            exploration_floor: Money::ZERO,
        }
    }

    #[test]
    fn better_plan_gets_more_and_total_is_respected() {
        let arms = [arm(500, 3.0, 300.0), arm(500, 1.0, 300.0)];
        let a = allocate(&arms, &limits(1000, 10.0));
        assert!(a[0].budget > a[1].budget);
        assert!(a.iter().map(|x| x.budget.micros()).sum::<i64>() <= 1000);
        // Equal marginal values: 3 exp(-s0/C) = 1 exp(-s1/C), s0 - s1 = C ln 3.
        let d = (a[0].budget.micros() - a[1].budget.micros()) as f64;
        assert!((d - 300.0 * 3f64.ln()).abs() < 3.0, "{d}");
    }

    #[test]
    fn the_floor_does_not_override_the_step() {
        let mut arms = [arm(1000, 5.0, 1e6), arm(10, 0.1, 1e6)];
        arms[1].learning = true;
        let l = AllocationLimits {
            total: Money::from_micros(1010),
            max_step: 0.5,
            exploration_floor: Money::from_micros(300),
        };
        let a = allocate(&arms, &l);
        assert_eq!(a[1].budget.micros(), 15);
        assert_eq!(a[1].binding, Binding::StepUp);
    }

    #[test]
    fn limits_bind() {
        let arms = [arm(1000, 5.0, 1e6), arm(1000, 1.0, 1e6)];
        let a = allocate(&arms, &limits(2000, 0.3));
        assert_eq!(a[0].budget.micros(), 1300);
        assert_eq!(a[0].binding, Binding::StepUp);
        assert_eq!(a[1].budget.micros(), 700);
        assert_eq!(a[1].binding, Binding::StepDown);
    }

    #[test]
    fn lower_bounds_above_total_are_scaled_to_the_cap() {
        let mut arms = [arm(1000, 1.0, 1e6), arm(1000, 1.0, 1e6)];
        arms[0].min = Money::from_micros(900);
        arms[1].min = Money::from_micros(900);
        let a = allocate(&arms, &limits(1000, 1.0));
        assert!(a.iter().map(|x| x.budget.micros()).sum::<i64>() <= 1000);
        assert_eq!(a[0].binding, Binding::TotalCap);
    }

    #[test]
    fn nan_and_paused_are_harmless() {
        let mut arms = [
            arm(100, f64::NAN, f64::NAN),
            arm(100, 2.0, 100.0),
            arm(100, 2.0, 100.0),
        ];
        arms[2].active = false;
        let a = allocate(&arms, &limits(300, 1.0));
        assert_eq!(a[2].budget, Money::ZERO);
        assert_eq!(a[2].binding, Binding::Inactive);
        assert!(a.iter().map(|x| x.budget.micros()).sum::<i64>() <= 300);
        assert!(a[1].budget.micros() > a[0].budget.micros());
    }

    #[test]
    fn exploration_floor_lifts_new_plans() {
        let mut arms = [arm(1000, 5.0, 1e6), arm(0, 0.1, 1e6)];
        arms[1].learning = true;
        let l = AllocationLimits {
            total: Money::from_micros(1000),
            max_step: 0.5,
            exploration_floor: Money::from_micros(100),
        };
        let a = allocate(&arms, &l);
        assert_eq!(a[1].budget.micros(), 100);
        assert_eq!(a[1].binding, Binding::ExplorationFloor);
        assert_eq!(a[0].budget.micros(), 900);
    }
}

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
//!
//! **Groups** (channels): [`allocate_grouped`] also keeps the sum of each group's budgets
//! within `[min, max]` (a channel's envelope). The Lagrangian separates by group: at a common
//! water level `lambda`, a group whose plans would take more than its maximum takes its
//! maximum, one that would take less than its minimum takes its minimum, and each such group
//! then water-fills its own amount at its own level (`lambda` plus the multiplier of its
//! bound). The outer bisection runs on the clamped group sums, so the result is the best
//! allocation within the plans' and the groups' limits together. A group's maximum is a hard
//! cap like the total; a group's minimum yields to the total and to its plans' maximums
//! (it cannot be met by budgets nobody may receive).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
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
    /// Held by its group's (channel's) maximum: the plan's channel takes no more.
    GroupMax,
    /// Raised by its group's (channel's) minimum: the channel must take at least that much.
    GroupMin,
}

/// Bounds on the sum of one group's budgets (a channel's envelope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupLimits {
    /// Smallest sum of the group's budgets (yields to the total and the plans' maximums).
    pub min: Money,
    /// Largest sum of the group's budgets: a hard cap.
    pub max: Money,
}

impl GroupLimits {
    /// No bounds.
    pub const UNBOUNDED: GroupLimits = GroupLimits {
        min: Money::ZERO,
        max: Money::MAX,
    };
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
    water_fill(
        arms,
        &vec![0; arms.len()],
        &[GroupLimits::UNBOUNDED],
        limits,
    )
}

/// Allocates `limits.total` across `arms` with the sum of each group's budgets in its
/// `groups[g]` bounds; `group_of[i]` is the group of plan `i`. See the module docs.
///
/// Every guarantee of [`allocate`] holds, and no group's sum exceeds its maximum. With one
/// unbounded group the result is [`allocate`]'s, to the micro.
///
/// # Errors
/// [`Error::InvalidValue`] when `group_of` does not have one entry per arm, names a group
/// that `groups` lacks, or a group's bounds are not `0 <= min <= max`.
pub fn allocate_grouped(
    arms: &[PlanArm],
    group_of: &[usize],
    groups: &[GroupLimits],
    limits: &AllocationLimits,
) -> Result<Vec<Allocation>> {
    if group_of.len() != arms.len() {
        return Err(Error::invalid(
            "group_of",
            group_of.len(),
            format!("needs one group per plan ({})", arms.len()),
        ));
    }
    if let Some(i) = group_of.iter().position(|&g| g >= groups.len()) {
        return Err(Error::invalid(
            format!("group_of[{i}]"),
            group_of[i],
            format!("there are {} groups", groups.len()),
        ));
    }
    if let Some((g, l)) = groups
        .iter()
        .enumerate()
        .find(|(_, l)| l.min.is_negative() || l.min > l.max)
    {
        return Err(Error::invalid(
            format!("groups[{g}]"),
            format!("{}..{}", l.min, l.max),
            "need 0 <= min <= max",
        ));
    }
    Ok(water_fill(arms, group_of, groups, limits))
}

/// Per plan: lower and upper bound in micros and the limit behind each.
type Bounds = (i64, i64, Binding, Binding);

fn plan_bounds(arms: &[PlanArm], limits: &AllocationLimits, step: f64) -> Vec<Bounds> {
    arms.iter()
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
        .collect()
}

/// One group's envelope as the water-filling sees it.
#[derive(Debug, Clone, Copy)]
struct Envelope {
    lo: i64,
    hi: i64,
    /// Whether the group's own minimum (not only its plans') is the lower end.
    lo_binds: bool,
    /// Whether the group's own maximum (not only its plans') is the upper end.
    hi_binds: bool,
}

/// [`allocate_grouped`] on inputs known to be consistent (one valid group per plan, bounds
/// ordered), as the engine builds them.
pub(crate) fn water_fill(
    arms: &[PlanArm],
    group_of: &[usize],
    groups: &[GroupLimits],
    limits: &AllocationLimits,
) -> Vec<Allocation> {
    let total = limits.total.micros().max(0);
    let step = if limits.max_step.is_finite() && limits.max_step >= 0.0 {
        limits.max_step
    } else {
        0.0
    };
    // 1. Bounds per plan, integers in micros.
    let mut bounds = plan_bounds(arms, limits, step);
    let members: Vec<Vec<usize>> = (0..groups.len())
        .map(|g| (0..arms.len()).filter(|&i| group_of[i] == g).collect())
        .collect();
    let sum_of = |ids: &[usize], bounds: &[Bounds], lo: bool| -> i128 {
        ids.iter()
            .map(|&i| i128::from(if lo { bounds[i].0 } else { bounds[i].1 }))
            .sum()
    };

    // 2. A group's maximum is a hard cap like the total: lower bounds above it are scaled
    //    down to fit it.
    for (g, ids) in members.iter().enumerate() {
        let max = i128::from(groups[g].max.micros().max(0));
        let sum_lo = sum_of(ids, &bounds, true);
        if sum_lo > max {
            let f = max as f64 / sum_lo as f64;
            for &i in ids {
                let b = &mut bounds[i];
                b.0 = (b.0 as f64 * f).floor() as i64;
                b.1 = b.0;
                b.2 = Binding::GroupMax;
                b.3 = Binding::GroupMax;
            }
        }
    }

    // 3. If even the lower bounds exceed the total, scale them down to fit the hard cap.
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

    // 4. Each group's envelope: its own bounds within what its plans can take.
    let mut env: Vec<Envelope> = members
        .iter()
        .enumerate()
        .map(|(g, ids)| {
            let (s_lo, s_hi) = (sum_of(ids, &bounds, true), sum_of(ids, &bounds, false));
            let (min, max) = (
                i128::from(groups[g].min.micros().max(0)),
                i128::from(groups[g].max.micros().max(0)),
            );
            let hi = s_hi.min(max);
            let lo = min.max(s_lo).min(hi);
            Envelope {
                lo: lo.min(i128::from(i64::MAX)) as i64,
                hi: hi.min(i128::from(i64::MAX)) as i64,
                lo_binds: lo > s_lo,
                hi_binds: hi < s_hi,
            }
        })
        .collect();
    // Group minimums above the total yield to it: the part above the plans' own minimums is
    // scaled down.
    let env_lo: i128 = env.iter().map(|e| i128::from(e.lo)).sum();
    if env_lo > i128::from(total) {
        let base: Vec<i128> = members
            .iter()
            .map(|ids| sum_of(ids, &bounds, true))
            .collect();
        let base_sum: i128 = base.iter().sum();
        let f = (i128::from(total) - base_sum).max(0) as f64 / (env_lo - base_sum).max(1) as f64;
        for (e, b) in env.iter_mut().zip(&base) {
            let extra = ((e.lo as i128 - b) as f64 * f).floor() as i128;
            e.lo = (b + extra) as i64;
            e.lo_binds = e.lo as i128 > *b;
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
    let group_sum =
        |lambda: f64, g: usize| members[g].iter().map(|&i| spend_at(lambda, i)).sum::<f64>();
    // A group's sum at `lambda`, clamped into its envelope where its own bounds bind (the
    // plans' bounds are already in `spend_at`).
    let group_take = |lambda: f64, g: usize| -> f64 {
        let (s, e) = (group_sum(lambda, g), env[g]);
        if e.hi_binds && s > e.hi as f64 {
            e.hi as f64
        } else if e.lo_binds && s < e.lo as f64 {
            e.lo as f64
        } else {
            s
        }
    };
    let sum_at = |lambda: f64| {
        (0..groups.len())
            .map(|g| group_take(lambda, g))
            .sum::<f64>()
    };
    let r_max = r.iter().cloned().fold(0.0, f64::max);
    let lambda_min = 1e-300f64.max(r_max * 1e-12);
    // The largest lambda in [lo_l, hi_l] at which `f` is at most `target` (`f` is
    // non-increasing in lambda): bisection in log space.
    let bisect = |f: &dyn Fn(f64) -> f64, target: f64, mut lo_l: f64, mut hi_l: f64| -> f64 {
        if f(lo_l) <= target {
            return lo_l;
        }
        for _ in 0..200 {
            let mid = (lo_l * hi_l).sqrt();
            if f(mid) > target {
                lo_l = mid;
            } else {
                hi_l = mid;
            }
            if hi_l / lo_l < 1.0 + 1e-12 {
                break;
            }
        }
        hi_l
    };

    // 5. The common water level; `None` when every group can take its upper end.
    let sum_hi: f64 = env.iter().map(|e| e.hi as f64).sum();
    let level = if sum_hi <= total as f64 {
        None
    } else {
        Some(bisect(&sum_at, total as f64, lambda_min, r_max.max(1e-300)))
    };

    // 6. Each plan's spend: at the common level, or at its group's own level where the
    //    group's bound holds it.
    let mut spend = vec![0.0f64; arms.len()];
    let mut group_binding: Vec<Option<Binding>> = vec![None; groups.len()];
    for (g, ids) in members.iter().enumerate() {
        let e = env[g];
        let target = match level {
            Some(l) => {
                let s = group_sum(l, g);
                let (capped, lifted) =
                    (e.hi_binds && s > e.hi as f64, e.lo_binds && s < e.lo as f64);
                if !capped && !lifted {
                    for &i in ids {
                        spend[i] = spend_at(l, i);
                    }
                    continue;
                }
                group_binding[g] = Some(if lifted {
                    Binding::GroupMin
                } else {
                    Binding::GroupMax
                });
                group_take(l, g)
            }
            None => {
                if !e.hi_binds {
                    for &i in ids {
                        spend[i] = bounds[i].1 as f64;
                    }
                    continue;
                }
                group_binding[g] = Some(Binding::GroupMax);
                e.hi as f64
            }
        };
        let g_max = ids.iter().map(|&i| r[i]).fold(0.0, f64::max).max(1e-300);
        let lg = bisect(&|l| group_sum(l, g), target, lambda_min, g_max);
        for &i in ids {
            spend[i] = spend_at(lg, i);
        }
        // Plans without value cannot be reached by any level: a group minimum they must
        // meet is filled best plan first, up to each plan's upper bound.
        let mut short = target - ids.iter().map(|&i| spend[i]).sum::<f64>();
        if short > 1.0 {
            let mut order = ids.clone();
            order.sort_by(|&a, &b| r[b].total_cmp(&r[a]).then(a.cmp(&b)));
            for i in order {
                let add = (bounds[i].1 as f64 - spend[i]).max(0.0).min(short);
                spend[i] += add;
                short -= add;
            }
        }
    }

    // 7. To integers, never above the total or a group's maximum; hand leftover micros to
    //    groups short of their minimum, then to the best plans with room.
    let mut out: Vec<i64> = spend
        .iter()
        .zip(&bounds)
        .map(|(s, b)| (s.floor() as i64).clamp(b.0, b.1))
        .collect();
    let mut left = total - out.iter().sum::<i64>();
    let mut g_sum: Vec<i64> = members
        .iter()
        .map(|ids| ids.iter().map(|&i| out[i]).sum())
        .collect();
    for (g, ids) in members.iter().enumerate() {
        let mut short = (env[g].lo - g_sum[g]).min(left);
        for &i in ids {
            if short <= 0 {
                break;
            }
            let add = (bounds[i].1 - out[i]).min(short);
            out[i] += add;
            g_sum[g] += add;
            short -= add;
            left -= add;
        }
    }
    if left > 0 {
        let mut order: Vec<usize> = (0..arms.len()).collect();
        order.sort_by(|&a, &b| r[b].total_cmp(&r[a]).then(a.cmp(&b)));
        for i in order {
            if left <= 0 || r[i] <= 0.0 {
                break;
            }
            let g = group_of[i];
            let room = (bounds[i].1 - out[i]).min(env[g].hi - g_sum[g]);
            // Only round-off: never push a plan past its water level by more than a micro per plan.
            let add = room.min(left).clamp(0, 1);
            out[i] += add;
            g_sum[g] += add;
            left -= add;
        }
    }

    out.iter()
        .zip(&bounds)
        .enumerate()
        .map(|(i, (&b, &(lo, hi, lo_b, hi_b)))| {
            let fixed = matches!(
                lo_b,
                Binding::Inactive | Binding::TotalCap | Binding::GroupMax
            ) && lo == hi;
            let binding = if fixed || (b <= lo && lo > 0) {
                lo_b
            } else if b >= hi {
                hi_b
            } else {
                group_binding[group_of[i]].unwrap_or(Binding::Value)
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

    fn group(min: i64, max: i64) -> GroupLimits {
        GroupLimits {
            min: Money::from_micros(min),
            max: Money::from_micros(max),
        }
    }

    fn sums(a: &[Allocation], group_of: &[usize], g: usize) -> i64 {
        a.iter()
            .zip(group_of)
            .filter(|(_, x)| **x == g)
            .map(|(x, _)| x.budget.micros())
            .sum()
    }

    #[test]
    fn one_unbounded_group_is_the_plain_allocation() {
        let mut arms = [
            arm(500, 3.0, 300.0),
            arm(500, 1.0, 300.0),
            arm(0, 2.0, 50.0),
            arm(200, 0.0, 10.0),
        ];
        arms[2].learning = true;
        let l = AllocationLimits {
            total: Money::from_micros(1_234),
            max_step: 0.7,
            exploration_floor: Money::from_micros(60),
        };
        let plain = allocate(&arms, &l);
        let grouped = allocate_grouped(&arms, &[0; 4], &[GroupLimits::UNBOUNDED], &l).unwrap();
        assert_eq!(plain, grouped);
        // Two unbounded groups are one as well.
        let two = allocate_grouped(&arms, &[0, 1, 0, 1], &[GroupLimits::UNBOUNDED; 2], &l).unwrap();
        assert_eq!(plain, two);
    }

    #[test]
    fn a_channel_maximum_caps_its_plans_and_the_rest_goes_elsewhere() {
        // Plans 0 and 1 (channel 0) are the best; the channel may take at most 400.
        let arms = [
            arm(500, 4.0, 300.0),
            arm(500, 3.0, 300.0),
            arm(500, 1.0, 300.0),
        ];
        let l = limits(1500, 10.0);
        let free = allocate(&arms, &l);
        assert!(free[0].budget.micros() + free[1].budget.micros() > 400);
        let g = [0, 0, 1];
        let a = allocate_grouped(&arms, &g, &[group(0, 400), GroupLimits::UNBOUNDED], &l).unwrap();
        assert!(sums(&a, &g, 0) <= 400);
        assert!(sums(&a, &g, 0) >= 399);
        assert_eq!(a.iter().map(|x| x.budget.micros()).sum::<i64>(), 1500);
        assert_eq!(a[0].binding, Binding::GroupMax);
        assert_eq!(a[2].binding, Binding::Value);
        // Inside the channel the water level is shared: 4 exp(-s0/C) = 3 exp(-s1/C).
        let d = (a[0].budget.micros() - a[1].budget.micros()) as f64;
        assert!((d - 300.0 * (4.0f64 / 3.0).ln()).abs() < 3.0, "{d}");
    }

    #[test]
    fn a_channel_minimum_lifts_a_weak_channel() {
        let arms = [arm(500, 4.0, 300.0), arm(500, 0.5, 300.0)];
        let l = limits(1000, 10.0);
        let free = allocate(&arms, &l);
        assert!(free[1].budget.micros() < 300);
        let g = [0, 1];
        let a = allocate_grouped(
            &arms,
            &g,
            &[GroupLimits::UNBOUNDED, group(300, i64::MAX)],
            &l,
        )
        .unwrap();
        assert_eq!(a[1].budget.micros(), 300);
        assert_eq!(a[1].binding, Binding::GroupMin);
        assert_eq!(a[0].budget.micros(), 700);
    }

    #[test]
    fn a_channel_maximum_below_its_plans_minimums_scales_them_into_it() {
        let mut arms = [
            arm(500, 1.0, 300.0),
            arm(500, 1.0, 300.0),
            arm(500, 1.0, 300.0),
        ];
        arms[0].min = Money::from_micros(300);
        arms[1].min = Money::from_micros(300);
        let g = [0, 0, 1];
        let a = allocate_grouped(
            &arms,
            &g,
            &[group(0, 200), GroupLimits::UNBOUNDED],
            &limits(1500, 10.0),
        )
        .unwrap();
        assert!(sums(&a, &g, 0) <= 200);
        assert_eq!(a[0].binding, Binding::GroupMax);
        assert!(a[2].budget.micros() > 0);
    }

    #[test]
    fn channel_minimums_above_the_total_yield_to_it() {
        let arms = [arm(500, 1.0, 300.0), arm(500, 2.0, 300.0)];
        let g = [0, 1];
        let a = allocate_grouped(
            &arms,
            &g,
            &[group(800, 900), group(800, 900)],
            &limits(1000, 10.0),
        )
        .unwrap();
        assert!(a.iter().map(|x| x.budget.micros()).sum::<i64>() <= 1000);
        assert!(sums(&a, &g, 0) >= 499 && sums(&a, &g, 1) >= 499, "{a:?}");
    }

    #[test]
    fn inconsistent_groups_are_errors() {
        let arms = [arm(500, 1.0, 300.0)];
        let l = limits(1000, 1.0);
        assert!(allocate_grouped(&arms, &[], &[GroupLimits::UNBOUNDED], &l).is_err());
        assert!(allocate_grouped(&arms, &[1], &[GroupLimits::UNBOUNDED], &l).is_err());
        assert!(allocate_grouped(&arms, &[0], &[group(5, 1)], &l).is_err());
        assert!(allocate_grouped(&arms, &[0], &[group(-1, 1)], &l).is_err());
    }
}

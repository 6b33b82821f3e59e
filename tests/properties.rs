//! Property tests: money never wraps, adding reports is associative and stays valid.

use adbandit::{Date, Error, KeywordId, Money, PlanId, Report, ReportRow, Stats};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn money_add_is_checked(a in any::<i64>(), b in any::<i64>()) {
        let r = Money::from_micros(a).checked_add(Money::from_micros(b));
        match a.checked_add(b) {
            Some(s) => prop_assert_eq!(r.unwrap().micros(), s),
            None => {
                let overflowed = matches!(r, Err(Error::Overflow { .. }));
                prop_assert!(overflowed);
            }
        }
    }

    #[test]
    fn money_sub_and_mul_are_checked(a in any::<i64>(), b in any::<i64>(), n in any::<i64>()) {
        let r = Money::from_micros(a).checked_sub(Money::from_micros(b));
        prop_assert_eq!(r.ok().map(Money::micros), a.checked_sub(b));
        let r = Money::from_micros(a).checked_mul(n);
        prop_assert_eq!(r.ok().map(Money::micros), a.checked_mul(n));
    }

    #[test]
    fn money_text_round_trip(a in any::<i64>()) {
        let m = Money::from_micros(a);
        prop_assert_eq!(m.to_string().parse::<Money>().unwrap(), m);
        let j = serde_json::to_string(&m).unwrap();
        prop_assert_eq!(serde_json::from_str::<Money>(&j).unwrap(), m);
    }

    #[test]
    fn money_f64_scaling_never_panics(a in any::<i64>(), f in any::<f64>()) {
        if let Ok(m) = Money::from_micros(a).checked_mul_f64(f) {
            prop_assert!(f.is_finite());
            let _ = m;
        }
    }

    #[test]
    fn report_addition_is_associative_and_valid(
        a in report_strategy(), b in report_strategy(), c in report_strategy()
    ) {
        let ab_c = a.checked_add(&b).and_then(|ab| ab.checked_add(&c));
        let a_bc = b.checked_add(&c).and_then(|bc| a.checked_add(&bc));
        match (ab_c, a_bc) {
            (Ok(x), Ok(y)) => {
                prop_assert_eq!(&x, &y);
                for r in x.rows() {
                    let s = r.stats;
                    prop_assert!(s.clicks() <= s.impressions());
                    prop_assert!(s.conversions() <= s.clicks());
                    prop_assert!(!s.cost().is_negative() && !s.revenue().is_negative());
                    // A sum of valid stats is a valid Stats by construction too.
                    prop_assert!(Stats::new(s.impressions(), s.clicks(), s.conversions(), s.cost(), s.revenue()).is_ok());
                }
                let parts = a.total().and_then(|t| t.checked_add(&b.total()?)).and_then(|t| t.checked_add(&c.total()?));
                match (x.total(), parts) {
                    (Ok(t), Ok(p)) => prop_assert_eq!(t, p),
                    (Err(_), Err(_)) => {}
                    (t, p) => prop_assert!(false, "totals disagree: {:?} vs {:?}", t, p),
                }
            }
            (Err(Error::Overflow { .. }), Err(Error::Overflow { .. })) => {}
            (x, y) => prop_assert!(false, "mismatch: {:?} vs {:?}", x.is_ok(), y.is_ok()),
        }
    }

    #[test]
    fn invalid_stats_never_build(i in any::<u64>(), c in any::<u64>(), v in any::<u64>(), cost in any::<i64>(), rev in any::<i64>()) {
        let r = Stats::new(i, c, v, Money::from_micros(cost), Money::from_micros(rev));
        let valid = c <= i && v <= c && cost >= 0 && rev >= 0;
        prop_assert_eq!(r.is_ok(), valid);
    }
}

fn stats_strategy() -> impl Strategy<Value = Stats> {
    // Huge counters on purpose: sums must overflow into an error, not wrap.
    (
        0u64..=u64::MAX / 2,
        0.0f64..=1.0,
        0.0f64..=1.0,
        0i64..=i64::MAX / 2,
        0i64..=i64::MAX / 2,
    )
        .prop_map(|(imp, fc, fv, cost, rev)| {
            let clicks = (imp as f64 * fc) as u64;
            let conv = (clicks as f64 * fv) as u64;
            Stats::new(
                imp,
                clicks.min(imp),
                conv.min(clicks.min(imp)),
                Money::from_micros(cost),
                Money::from_micros(rev),
            )
            .unwrap()
        })
}

fn report_strategy() -> impl Strategy<Value = Report> {
    prop::collection::vec((0i32..3, 0u8..2, 0u8..3, stats_strategy()), 0..6).prop_map(|rows| {
        Report::from_rows_summed(rows.into_iter().map(|(d, p, k, s)| ReportRow {
            date: Date::from_days(20_000 + d),
            hour: None,
            days: 1,
            plan: PlanId::new(format!("p{p}")),
            keyword: Some(KeywordId::new(format!("k{k}"))),
            stats: s,
        }))
        .unwrap_or_default()
    })
}

mod channel_allocation {
    //! The budget allocation within channel (group) limits: every hard cap holds, the
    //! channel minimums hold where they can, and the result is the water-filling optimum.

    use adbandit::Money;
    use adbandit::allocate::{
        Allocation, AllocationLimits, Binding, GroupLimits, PlanArm, allocate, allocate_grouped,
    };
    use proptest::prelude::*;

    fn arms() -> impl Strategy<Value = Vec<(PlanArm, usize)>> {
        prop::collection::vec(
            (
                0i64..2_000_000,
                0i64..500_000,
                prop::option::of(100_000i64..3_000_000),
                prop_oneof![Just(0.0), 0.01f64..5.0, Just(f64::NAN)],
                1_000.0f64..2_000_000.0,
                any::<bool>(),
                prop::bool::weighted(0.9),
                0usize..3,
            )
                .prop_map(|(cur, min, max, r, cap, learning, active, g)| {
                    let max = max.map_or(i64::MAX / 4, |m| m.max(min));
                    (
                        PlanArm {
                            current: Money::from_micros(cur),
                            min: Money::from_micros(min),
                            max: Money::from_micros(max),
                            value_per_money: r,
                            capacity: cap,
                            learning,
                            active,
                        },
                        g,
                    )
                }),
            1..8,
        )
    }

    fn groups() -> impl Strategy<Value = Vec<GroupLimits>> {
        prop::collection::vec(
            (
                prop::option::of(0i64..3_000_000),
                prop::option::of(0i64..3_000_000),
            )
                .prop_map(|(a, b)| {
                    let min = a.unwrap_or(0);
                    let max = b.map_or(i64::MAX, |b| b.max(min));
                    GroupLimits {
                        min: Money::from_micros(min),
                        max: Money::from_micros(max),
                    }
                }),
            3,
        )
    }

    fn limits() -> impl Strategy<Value = AllocationLimits> {
        (0i64..6_000_000, 0.0f64..2.0, 0i64..200_000).prop_map(|(t, s, f)| AllocationLimits {
            total: Money::from_micros(t),
            max_step: s,
            exploration_floor: Money::from_micros(f),
        })
    }

    fn sum(a: &[Allocation], g: &[usize], k: usize) -> i64 {
        a.iter()
            .zip(g)
            .filter(|(_, x)| **x == k)
            .map(|(x, _)| x.budget.micros())
            .sum()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn every_cap_holds_and_minimums_hold_where_they_can(
            plans in arms(), gs in groups(), l in limits()
        ) {
            let (arms, g): (Vec<PlanArm>, Vec<usize>) = plans.into_iter().unzip();
            let a = allocate_grouped(&arms, &g, &gs, &l).unwrap();
            let total: i64 = a.iter().map(|x| x.budget.micros()).sum();
            prop_assert!(total <= l.total.micros());
            for (x, arm) in a.iter().zip(&arms) {
                prop_assert!(x.budget >= x.lo && x.budget <= x.hi, "{x:?}");
                prop_assert!(x.budget <= arm.max.max(Money::ZERO) || !arm.active, "{x:?}");
                if !arm.active {
                    prop_assert_eq!(x.budget, Money::ZERO);
                }
            }
            // The plain allocation's lower bounds, before any group or total scaling.
            let plain = allocate(&arms, &AllocationLimits { total: Money::MAX, ..l });
            let plain_lo = |k: usize| -> i64 {
                plain.iter().zip(&g).filter(|(_, x)| **x == k).map(|(p, _)| p.lo.micros()).sum()
            };
            let scaled = a.iter().any(|x| matches!(x.binding, Binding::TotalCap | Binding::GroupMax) && x.lo == x.hi);
            let need: i64 = (0..3).map(|k| gs[k].min.micros().max(plain_lo(k)).min(gs[k].max.micros())).sum();
            for (k, gk) in gs.iter().enumerate() {
                let s = sum(&a, &g, k);
                prop_assert!(s <= gk.max.micros(), "group {k}: {s} > {gk:?}");
                // A minimum holds (to a micro per plan) when the total can pay every
                // group's minimum and the group's plans may take it.
                let room: i64 = a.iter().zip(&g).filter(|(_, x)| **x == k).map(|(p, _)| p.hi.micros()).sum();
                let n = g.iter().filter(|&&x| x == k).count() as i64;
                if !scaled && need <= l.total.micros() {
                    let want = gk.min.micros().min(room);
                    prop_assert!(s + n >= want, "group {k}: {s} < {want} ({:?})", gk);
                }
            }
        }

        #[test]
        fn unbounded_groups_change_nothing(plans in arms(), l in limits()) {
            let (arms, g): (Vec<PlanArm>, Vec<usize>) = plans.into_iter().unzip();
            let a = allocate_grouped(&arms, &g, &[GroupLimits::UNBOUNDED; 3], &l).unwrap();
            prop_assert_eq!(a, allocate(&arms, &l));
        }

        #[test]
        fn plans_set_by_value_share_their_channel_s_water_level(
            plans in arms(), gs in groups(), l in limits()
        ) {
            let (arms, g): (Vec<PlanArm>, Vec<usize>) = plans.into_iter().unzip();
            let a = allocate_grouped(&arms, &g, &gs, &l).unwrap();
            // Marginal value r exp(-s / C) of every plan whose budget the water level set.
            let level = |want: Binding, k: Option<usize>| -> Vec<f64> {
                a.iter().zip(&arms).zip(&g)
                    // Interior solutions only: a plan held at a bound (or at zero, worth less
                    // than the level) has its own marginal value.
                    .filter(|((x, arm), gi)| {
                        x.binding == want
                            && k.is_none_or(|k| **gi == k)
                            && x.budget.micros() > x.lo.micros() + 1
                            && x.budget < x.hi
                            && arm.value_per_money.is_finite()
                            && arm.value_per_money > 0.0
                    })
                    .map(|((x, arm), _)| arm.value_per_money * (-(x.budget.micros() as f64) / arm.capacity).exp())
                    .collect()
            };
            let close = |v: &[f64]| {
                let (lo, hi) = v.iter().fold((f64::MAX, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
                v.len() < 2 || hi <= lo * 1.01 + 1e-12
            };
            let common = level(Binding::Value, None);
            prop_assert!(close(&common), "{common:?}");
            for k in 0..3 {
                let up = level(Binding::GroupMax, Some(k));
                prop_assert!(close(&up), "{up:?}");
                let down = level(Binding::GroupMin, Some(k));
                prop_assert!(close(&down), "{down:?}");
                // A capped channel's plans earn more at the margin than the uncapped ones;
                // a lifted channel's less.
                if let (Some(c), Some(u)) = (common.first(), up.first()) {
                    prop_assert!(*u >= c * 0.99, "capped {u} < common {c}");
                }
                if let (Some(c), Some(d)) = (common.first(), down.first()) {
                    prop_assert!(*d <= c * 1.01, "lifted {d} > common {c}");
                }
            }
        }
    }
}

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

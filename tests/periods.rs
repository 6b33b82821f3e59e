//! A report row that covers several days (exported without the Day segment) is a period: the
//! engine learns it as that many days, exactly as if the platform had split it.

use adbandit::engine::{Engine, EngineConfig};
use adbandit::{
    Account, Date, Keyword, KeywordId, MatchType, Money, Plan, PlanId, Report, ReportRow, Stats,
};

fn y(x: i64) -> Money {
    Money::from_units(x).unwrap()
}

fn account() -> Account {
    Account::new(
        "Shop",
        "CNY",
        vec![
            Plan::new("a", "Dresses", y(100), y(0), y(5)).with_keyword(Keyword::new(
                "a1",
                "red dress",
                MatchType::Exact,
                y(1),
            )),
            Plan::new("b", "Shoes", y(100), y(0), y(5)).with_keyword(Keyword::new(
                "b1",
                "red shoes",
                MatchType::Exact,
                y(1),
            )),
        ],
    )
    .unwrap()
}

fn week_row(start: Date, plan: &str, kw: &str, clicks: u64, orders: u64, rev: i64) -> ReportRow {
    ReportRow {
        date: start,
        hour: None,
        days: 7,
        plan: PlanId::new(plan),
        keyword: Some(KeywordId::new(kw)),
        stats: Stats::new(14_000, clicks, orders, y(560), y(rev)).unwrap(),
    }
}

#[test]
fn a_week_on_one_row_is_learned_as_seven_days() {
    let start = Date::from_ymd(2026, 11, 1).unwrap();
    let rows = vec![
        week_row(start, "a", "a1", 700, 70, 6_300),
        week_row(start, "b", "b1", 700, 7, 420),
    ];
    let period = Report::new(rows).unwrap();
    let days = period.split_days().unwrap();
    assert_eq!(days.rows().len(), 14);

    let mut by_period = Engine::new(account(), EngineConfig::default(), 7).unwrap();
    by_period.observe(&period).unwrap();
    let mut by_day = Engine::new(account(), EngineConfig::default(), 7).unwrap();
    by_day.observe(&days).unwrap();

    let next = start.add_days(7);
    let a = by_period.decide(next).unwrap();
    let b = by_day.decide(next).unwrap();
    assert_eq!(a, b);
    // A day's spend is a seventh of the week's, not the week's: the better plan gains, and no
    // budget is sized from 560 of spend read as one day.
    let dress = a.budget_of(&PlanId::new("a")).unwrap();
    assert!(dress.to > dress.from, "{}", dress.reason.message());
    assert!(a.budget_sum() <= a.total_budget);
}

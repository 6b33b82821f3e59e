//! An account fed a few days of stats: the posteriors move the right way.

use adbandit::estimate::{AccountEstimates, Counts, Evidence, Forgetting, ShrinkageConfig};
use adbandit::{
    Account, Date, Keyword, KeywordId, MatchType, Money, Plan, PlanId, Report, ReportRow, Stats,
};

fn y(x: i64) -> Money {
    Money::from_units(x).unwrap()
}

fn account() -> Account {
    let plan = Plan::new("p", "Dresses", y(500), y(0), y(5))
        .with_keyword(Keyword::new("big", "red dress", MatchType::Exact, y(1)))
        .with_keyword(Keyword::new("small", "blue dress", MatchType::Exact, y(1)))
        .with_keyword(Keyword::new("new", "green dress", MatchType::Exact, y(1)))
        .with_keyword(Keyword::new("mid", "long dress", MatchType::Phrase, y(1)));
    Account::new("Shop", "CNY", vec![plan]).unwrap()
}

/// Feeds `days` daily reports through `Evidence` and fits the hierarchy.
fn fit(account: &Account, daily: &[(&str, Stats)], days: i32) -> AccountEstimates {
    let start = Date::from_ymd(2026, 11, 1).unwrap();
    let mut evidence: Vec<Evidence> = account.plans()[0]
        .keywords
        .iter()
        .map(|_| Evidence::new(Forgetting::Never))
        .collect();
    for d in 0..days {
        let rows = daily
            .iter()
            .map(|(k, s)| ReportRow {
                date: start.add_days(d),
                hour: None,
                days: 1,
                plan: PlanId::new("p"),
                keyword: Some(KeywordId::new(*k)),
                stats: *s,
            })
            .collect();
        let report = Report::new(rows).unwrap();
        for row in report.rows() {
            let (_, j) = account.keyword_pos(row.keyword.as_ref().unwrap()).unwrap();
            evidence[j].add(i64::from(row.date.days()), &Counts::from_stats(&row.stats));
        }
    }
    let kw: Vec<Counts> = evidence.iter().map(Evidence::total).collect();
    AccountEstimates::fit(
        account,
        &[Counts::default()],
        &[kw],
        &ShrinkageConfig::default(),
    )
    .unwrap()
}

#[test]
fn posteriors_move_the_right_way() {
    let a = account();
    // Over 5 days: "big" gets 50 clicks in 1,000 impressions, "small" 5 in 100, "mid" 30 in
    // 1,000; "new" nothing.
    let per_day = [
        ("big", Stats::new(200, 10, 1, y(8), y(60)).unwrap()),
        ("small", Stats::new(20, 1, 0, y(1), y(0)).unwrap()),
        ("mid", Stats::new(200, 6, 1, y(5), y(50)).unwrap()),
    ];
    let est = fit(&a, &per_day, 5);
    let big = est.keywords[0][0];
    let small = est.keywords[0][1];
    let new = est.keywords[0][2];
    assert!(
        (big.ctr.mean() - 0.05).abs() < 0.006,
        "big ctr {}",
        big.ctr.mean()
    );
    let (bl, bh) = big.ctr.interval(0.95).unwrap();
    let (sl, sh) = small.ctr.interval(0.95).unwrap();
    assert!(bh - bl < sh - sl, "big [{bl},{bh}] small [{sl},{sh}]");
    assert!(bl < 0.05 && 0.05 < bh);
    // A new keyword starts at its plan's level.
    assert!((new.ctr.mean() - est.plans[0].ctr.mean()).abs() < 1e-9);
    assert!((new.cvr.mean() - est.plans[0].cvr.mean()).abs() < 1e-9);
    assert!((new.aov.mean() - est.plans[0].aov.mean()).abs() < 1e-9);
    // The plan pools its keywords: 85 clicks of 2,100 impressions.
    assert!((est.plans[0].ctr.mean() - 85.0 / 2100.0).abs() < 0.005);
}

#[test]
fn forgetting_follows_a_change() {
    let mut never = Evidence::new(Forgetting::Never);
    let mut fast = Evidence::new(Forgetting::half_life(2.0).unwrap());
    for d in 0..20 {
        let clicks = if d < 10 { 100.0 } else { 10.0 }; // CTR drops from 10% to 1%
        let c = Counts {
            impressions: 1000.0,
            clicks,
            ..Counts::default()
        };
        never.add(d, &c);
        fast.add(d, &c);
    }
    let ctr = |e: &Evidence| e.total().clicks / e.total().impressions;
    assert!(ctr(&fast) < 0.02, "{}", ctr(&fast));
    assert!(ctr(&never) > 0.05);
}

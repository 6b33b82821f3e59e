//! `Engine::decide` on large accounts: 100 plans x 10,000 keywords and 1,000 x 100,000.

use std::hint::black_box;

use adbandit::engine::{Engine, EngineConfig};
use adbandit::rng::stream;
use adbandit::{
    Account, Date, Keyword, KeywordId, MatchType, Money, Plan, PlanId, Report, ReportRow, Stats,
};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::RngExt;

fn account(plans: usize, per_plan: usize) -> Account {
    let y = |x: f64| Money::from_units_f64(x).unwrap();
    let ps = (0..plans)
        .map(|i| {
            let mut p = Plan::new(
                format!("p{i}"),
                format!("Plan {i}"),
                y(100.0),
                y(0.05),
                y(10.0),
            );
            p.keywords = (0..per_plan)
                .map(|j| {
                    Keyword::new(
                        format!("k{i}-{j}"),
                        format!("w{j} p{i}"),
                        MatchType::Broad,
                        y(1.0),
                    )
                })
                .collect();
            p
        })
        .collect();
    Account::new("bench", "CNY", ps).unwrap()
}

fn engine(plans: usize, per_plan: usize) -> (Engine, Date) {
    let acc = account(plans, per_plan);
    let mut e = Engine::new(acc.clone(), EngineConfig::default(), 1).unwrap();
    let day = Date::from_ymd(2026, 11, 1).unwrap();
    let mut rng = stream(9, &[]);
    // One day of sparse data: a third of the keywords saw traffic.
    let pairs: Vec<(PlanId, KeywordId)> = acc
        .plans()
        .iter()
        .flat_map(|p| p.keywords.iter().map(move |k| (p.id.clone(), k.id.clone())))
        .collect();
    let mut rows = Vec::new();
    for (p, k) in pairs {
        if rng.random::<f64>() >= 0.33 {
            continue;
        }
        let imp = rng.random_range(10..500u64);
        let clicks = rng.random_range(0..=imp / 20);
        let conv = rng.random_range(0..=clicks / 5);
        let stats = Stats::new(
            imp,
            clicks,
            conv,
            Money::from_micros(clicks as i64 * 700_000),
            Money::from_micros(conv as i64 * 90_000_000),
        )
        .unwrap();
        rows.push(ReportRow {
            date: day,
            hour: None,
            days: 1,
            plan: p,
            keyword: Some(k),
            stats,
        });
    }
    e.observe(&Report::new(rows).unwrap()).unwrap();
    (e, day)
}

fn bench_decide(c: &mut Criterion) {
    let mut g = c.benchmark_group("decide");
    g.sample_size(10);
    for (plans, per_plan) in [(100, 100), (1000, 100)] {
        let (e, day) = engine(plans, per_plan);
        let id = BenchmarkId::new("plans_x_keywords", format!("{plans}x{}", plans * per_plan));
        g.bench_function(id, |b| {
            b.iter_batched(
                || e.clone(),
                |mut e| {
                    // Return the engine too, so its drop is not timed.
                    let d = e.decide(day.add_days(1)).unwrap();
                    black_box((e, d))
                },
                criterion::BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench_decide);
criterion_main!(benches);

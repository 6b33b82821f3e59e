//! `Engine::decide` on large accounts: 1k, 10k and 100k keywords (10, 100 and 1,000 plans of
//! 100 keywords), and 1M keywords (1,000 plans of 1,000) when `ADBANDIT_BENCH_1M=1` is set
//! (it needs about 2 GB and a minute). `decide_threads` runs the 100k (and 1M) account in
//! rayon pools of 1 and 2 threads. Peak memory: `cargo run --release --example decide_memory`.
//!
//! Run: `cargo bench --bench decide` (add `ADBANDIT_BENCH_1M=1` for the 1M figures).

use std::hint::black_box;

use adbandit::engine::{Engine, EngineConfig};
use adbandit::rng::stream;
use adbandit::{
    Account, Date, Keyword, KeywordId, MatchType, Money, Plan, PlanId, Report, ReportRow, Stats,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
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

/// The account sizes: (plans, keywords per plan).
fn sizes() -> Vec<(usize, usize)> {
    let mut v = vec![(10, 100), (100, 100), (1000, 100)];
    if std::env::var_os("ADBANDIT_BENCH_1M").is_some() {
        v.push((1000, 1000));
    }
    v
}

/// Times one decision on a fresh clone of `e` (the clone and the drops are not timed).
fn time_decide(b: &mut criterion::Bencher<'_>, e: &Engine, day: Date) {
    b.iter_batched(
        || e.clone(),
        |mut e| {
            let d = e.decide(day.add_days(1)).unwrap();
            black_box((e, d))
        },
        criterion::BatchSize::LargeInput,
    )
}

fn bench_decide(c: &mut Criterion) {
    let mut g = c.benchmark_group("decide");
    g.sample_size(10);
    for (plans, per_plan) in sizes() {
        let (e, day) = engine(plans, per_plan);
        let n = plans * per_plan;
        // Elements = keywords: criterion prints the time per keyword.
        g.throughput(Throughput::Elements(n as u64));
        let id = BenchmarkId::new("plans_x_keywords", format!("{plans}x{n}"));
        g.bench_function(id, |b| time_decide(b, &e, day));
    }
    g.finish();
}

/// The same decision in rayon pools of 1 and 2 threads (the ratio is the parallel speed-up;
/// on a shared 2-core machine it is only meaningful when the other core is idle).
fn bench_threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("decide_threads");
    g.sample_size(10);
    for (plans, per_plan) in sizes().into_iter().filter(|s| s.0 * s.1 >= 100_000) {
        let (e, day) = engine(plans, per_plan);
        let n = plans * per_plan;
        g.throughput(Throughput::Elements(n as u64));
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let id = BenchmarkId::new(format!("threads_{threads}"), n);
            g.bench_function(id, |b| pool.install(|| time_decide(b, &e, day)));
        }
    }
    g.finish();
}

criterion_group!(benches, bench_decide, bench_threads);
criterion_main!(benches);

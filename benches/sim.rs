//! Market simulator throughput: exact mode in auctions per second, fast mode in keyword-hours
//! per second, on the `default` and `long_tail` scenarios (one core), and the same with a
//! query stream (`broad_leak`, and `long_tail` with irrelevant queries on its phrase and
//! broad keywords).
//!
//! Run: `cargo bench --bench sim -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use adbandit::Money;
use adbandit::sim::{Controls, Fidelity, Market, Scenario};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn controls(s: &Scenario, unbounded: bool) -> Controls {
    let mut c = Controls::from_account(s.account());
    if unbounded {
        // Budgets that never bind, so every eligible auction runs.
        c.plan_budget.fill(Money::from_units(10_000_000).unwrap());
    }
    c
}

fn day(m: &mut Market, d: u32, c: &Controls) -> u64 {
    let mut auctions = 0;
    for h in 0..24 {
        let o = m.run_hour(d, h, c).unwrap();
        auctions += o.auctions.iter().sum::<u64>();
    }
    auctions
}

/// `long_tail` with a query stream: four irrelevant queries on every phrase and broad keyword.
fn long_tail_queries() -> Scenario {
    let mut j: serde_json::Value =
        serde_json::from_str(include_str!("../scenarios/long_tail.json")).unwrap();
    j["generate"]["queries"] = serde_json::json!({"irrelevant_words": ["free", "diy", "used", "pattern"],
        "irrelevant_share": 0.45, "ctr_factor": 0.8, "cvr_factor": 0.05});
    Scenario::from_json(&j.to_string()).unwrap()
}

fn bench(cr: &mut Criterion) {
    for name in ["default", "long_tail", "broad_leak"] {
        let s = Scenario::builtin(name).unwrap();
        let c = controls(&s, true);
        // Exact mode: auctions per day at these controls (deterministic for the seed).
        let auctions = day(&mut Market::new(&s, Fidelity::Exact, 1), 0, &c);
        let mut g = cr.benchmark_group(format!("sim/{name}"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(auctions));
        g.bench_function("exact_day_auctions", |b| {
            b.iter(|| {
                let mut m = Market::new(&s, Fidelity::Exact, 1);
                black_box(day(&mut m, 0, &c))
            })
        });
        let kw_hours = s.account().keyword_count() as u64 * 24;
        g.throughput(Throughput::Elements(kw_hours));
        g.bench_function("fast_day_keyword_hours", |b| {
            b.iter(|| {
                let mut m = Market::new(&s, Fidelity::Fast, 1);
                black_box(day(&mut m, 0, &c))
            })
        });
        g.finish();
    }
    // A whole 30-day long_tail run in fast mode with the scenario's own (binding) budgets,
    // without and with a query stream.
    for (group, s) in [
        ("sim/long_tail_30_days", Scenario::long_tail()),
        ("sim/long_tail_queries_30_days", long_tail_queries()),
    ] {
        let c = controls(&s, false);
        let mut g = cr.benchmark_group(group);
        g.sample_size(10);
        g.throughput(Throughput::Elements(
            s.account().keyword_count() as u64 * 24 * u64::from(s.days()),
        ));
        g.bench_function("fast_run", |b| {
            b.iter(|| {
                let mut m = Market::new(&s, Fidelity::Fast, 2);
                let mut a = 0;
                for d in 0..s.days() {
                    a += day(&mut m, d, &c);
                }
                black_box(a)
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

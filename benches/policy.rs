//! Per-decision cost of each policy: score all K arms + argmax ("choose"), and the cost of
//! updating every arm once ("update", the end of a reporting period), for K = 10 .. 10,000.
//! `Throughput::Elements(K)` makes criterion report time per arm.
//!
//! Run: `cargo bench --bench policy -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use adbandit::estimate::{BetaPrior, Forgetting, OrderValuePrior};
use adbandit::policy::{
    ArmFeedback, Arms, ArmsConfig, BuiltinPolicy, EpsilonGreedy, Exp3, Policy, Reward, Softmax,
    argmax,
};
use adbandit::rng::stream;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::RngExt;

const KS: [usize; 4] = [10, 100, 1_000, 10_000];

fn policies() -> Vec<BuiltinPolicy> {
    vec![
        BuiltinPolicy::thompson(),
        BuiltinPolicy::ucb1(),
        BuiltinPolicy::bayes_ucb(),
        EpsilonGreedy::fixed(0.1).unwrap().into(),
        Softmax::new(0.05).unwrap().into(),
        Exp3::new(0.1).unwrap().into(),
    ]
}

/// K arms with realistic, distinct evidence (CTR around 2%, some value data).
fn arms(k: usize) -> Arms {
    let cfg = ArmsConfig::new(BetaPrior::new(1.0, 50.0).unwrap(), Forgetting::Never)
        .unwrap()
        .with_value_priors(
            BetaPrior::new(1.0, 20.0).unwrap(),
            OrderValuePrior::new(100.0, 2.0, 2.0).unwrap(),
            1.0,
        )
        .unwrap();
    let mut a = Arms::with_arms(cfg, k);
    let mut rng = stream(3, &[]);
    for i in 0..k {
        let n: f64 = rng.random_range(100.0..10_000.0);
        let ctr: f64 = rng.random_range(0.005..0.05);
        a.update(i, (n * ctr).round(), n).unwrap();
        let clicks = (n * ctr).round();
        let orders = (clicks * 0.05).round();
        a.update_value(i, clicks, orders, orders * 120.0, clicks * 0.8)
            .unwrap();
    }
    a
}

fn choose(c: &mut Criterion) {
    for reward in [Reward::Rate, Reward::Roi] {
        let mut g = c.benchmark_group(format!("choose/{reward:?}"));
        for k in KS {
            let arms = arms(k);
            g.throughput(Throughput::Elements(k as u64));
            for mut p in policies() {
                // Bayes-UCB on ROI inverts two incomplete functions per arm: skip the largest K.
                if matches!(p, BuiltinPolicy::BayesUcb(_)) && k > 1_000 {
                    continue;
                }
                p.arms_changed(&arms);
                let mut rng = stream(7, &[k as u64]);
                let mut scores = vec![0.0; k];
                let mut round = 1u64;
                g.bench_with_input(BenchmarkId::new(p.name(), k), &k, |b, _| {
                    b.iter(|| {
                        round += 1;
                        p.score(&arms, reward, round, &mut rng, &mut scores);
                        black_box(argmax(&scores))
                    })
                });
            }
        }
        g.finish();
    }
}

fn update(c: &mut Criterion) {
    let mut g = c.benchmark_group("update");
    for k in KS {
        g.throughput(Throughput::Elements(k as u64));
        // Rate update of every arm (refreshes its cached sampler and means).
        let mut a = arms(k);
        g.bench_with_input(BenchmarkId::new("arms_rate", k), &k, |b, _| {
            b.iter(|| {
                for i in 0..k {
                    a.update(i, 1.0, 50.0).unwrap();
                }
            })
        });
        // Value update of every arm.
        let mut a = arms(k);
        g.bench_with_input(BenchmarkId::new("arms_value", k), &k, |b, _| {
            b.iter(|| {
                for i in 0..k {
                    a.update_value(i, 2.0, 0.0, 0.0, 1.6).unwrap();
                }
            })
        });
        // End of period with discounting: every arm's counts scaled and caches rebuilt.
        let mut a = Arms::with_arms(
            ArmsConfig::new(BetaPrior::UNIFORM, Forgetting::half_life(7.0).unwrap()).unwrap(),
            k,
        );
        g.bench_with_input(BenchmarkId::new("end_period_discount", k), &k, |b, _| {
            b.iter(|| a.end_period())
        });
        // EXP3 learning from one played arm (renormalises all K weights).
        let a = arms(k);
        let mut e = Exp3::new(0.1).unwrap();
        e.arms_changed(&a);
        g.bench_with_input(BenchmarkId::new("exp3_learn", k), &k, |b, _| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % k;
                e.learn(
                    &a,
                    &[ArmFeedback {
                        arm: i,
                        reward: 0.5,
                    }],
                )
                .unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, choose, update);
criterion_main!(benches);

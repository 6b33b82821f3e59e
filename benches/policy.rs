//! Per-decision cost of each policy: score all K arms + argmax ("choose"), and the cost of
//! updating every arm once ("update", the end of a reporting period), for K = 10 .. 10,000.
//! `Throughput::Elements(K)` makes criterion report time per arm.
//!
//! The `online`, `one_update` and `draw` groups (issue 18) put each adbandit loop next to a
//! naive Rust baseline in the same process, so the ratio (stable on a noisy machine) can be
//! read off even when the absolute times move: a Thompson loop that builds a fresh
//! `rand_distr::Beta` per arm per step, a UCB1 loop over plain counters, and a counter add.
//!
//! Run: `cargo bench --bench policy -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use adbandit::estimate::{BetaPrior, Forgetting, OrderValuePrior};
use adbandit::policy::{
    ArmFeedback, Arms, ArmsConfig, BuiltinPolicy, EpsilonGreedy, Exp3, Policy, Reward, Softmax,
    argmax,
};
use adbandit::rng::{SimRng, stream};
use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use rand::RngExt;
use rand_distr::{Beta, Distribution};

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
            let mut arms = arms(k);
            let view = arms.view();
            g.throughput(Throughput::Elements(k as u64));
            for mut p in policies() {
                // Bayes-UCB on ROI inverts two incomplete functions per arm: skip the largest K.
                if matches!(p, BuiltinPolicy::BayesUcb(_)) && k > 1_000 {
                    continue;
                }
                p.arms_changed(view);
                let mut rng = stream(7, &[k as u64]);
                let mut scores = vec![0.0; k];
                let mut round = 1u64;
                g.bench_with_input(BenchmarkId::new(p.name(), k), &k, |b, _| {
                    b.iter(|| {
                        round += 1;
                        p.score(view, reward, round, &mut rng, &mut scores);
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
        // Rate update of every arm, then the view that rebuilds their samplers and means.
        let mut a = arms(k);
        g.bench_with_input(BenchmarkId::new("arms_rate", k), &k, |b, _| {
            b.iter(|| {
                for i in 0..k {
                    a.update(i, 1.0, 50.0).unwrap();
                }
                black_box(a.view());
            })
        });
        // Value update of every arm.
        let mut a = arms(k);
        g.bench_with_input(BenchmarkId::new("arms_value", k), &k, |b, _| {
            b.iter(|| {
                for i in 0..k {
                    a.update_value(i, 2.0, 0.0, 0.0, 1.6).unwrap();
                }
                black_box(a.view());
            })
        });
        // End of period with discounting, and the view that rebuilds every arm's caches.
        let mut a = Arms::with_arms(
            ArmsConfig::new(BetaPrior::UNIFORM, Forgetting::half_life(7.0).unwrap()).unwrap(),
            k,
        );
        for i in 0..k {
            a.update(i, 3.0, 100.0).unwrap();
        }
        g.bench_with_input(BenchmarkId::new("end_period_discount", k), &k, |b, _| {
            b.iter(|| {
                a.end_period();
                black_box(a.view());
            })
        });
        // EXP3 learning from one played arm (renormalises all K weights).
        let mut a = arms(k);
        let a = a.view();
        let mut e = Exp3::new(0.1).unwrap();
        e.arms_changed(a);
        g.bench_with_input(BenchmarkId::new("exp3_learn", k), &k, |b, _| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % k;
                e.learn(
                    a,
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

/// True means of the online loop's Bernoulli arms (Chapelle–Li: one best arm, the others
/// `eps` below it).
fn online_probs(k: usize) -> Vec<f64> {
    let mut p = vec![0.4; k];
    p[k / 2] = 0.5;
    p
}

/// Steps a warm-up runs before a loop is timed, so counts are "large" (thousands per arm),
/// as in a long-running bandit.
const WARM_STEPS: usize = 50_000;

/// adbandit's loop: `Arms` + a built-in policy, forgetting applied every step if any.
fn adbandit_loop(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    p: BuiltinPolicy,
    f: Forgetting,
    probs: &[f64],
) {
    let k = probs.len();
    let cfg = ArmsConfig::new(BetaPrior::UNIFORM, f).unwrap();
    let mut arms = Arms::with_arms(cfg, k);
    let mut rng = stream(11, &[]);
    let mut env = stream(12, &[]);
    let mut scores = vec![0.0; k];
    let forgets = f != Forgetting::Never;
    let mut round = 0u64;
    let mut step = |arms: &mut Arms, rng: &mut SimRng, env: &mut SimRng| {
        round += 1;
        p.score(arms.view(), Reward::Rate, round, rng, &mut scores);
        let i = argmax(&scores).unwrap_or(0);
        let r = f64::from(u8::from(env.random::<f64>() < probs[i]));
        arms.update(i, r, 1.0).unwrap();
        if forgets {
            arms.end_period();
        }
    };
    for _ in 0..WARM_STEPS {
        step(&mut arms, &mut rng, &mut env);
    }
    g.bench_function(name, |b| b.iter(|| step(&mut arms, &mut rng, &mut env)));
}

/// The online loop at K = 10: choose one arm (score all, argmax), observe a Bernoulli reward,
/// update that arm. One criterion element = one step; ns per arm = ns per step / K.
fn online(c: &mut Criterion) {
    let k = 10;
    let probs = online_probs(k);
    let mut g = c.benchmark_group("online/K10");
    g.throughput(Throughput::Elements(1));
    adbandit_loop(
        &mut g,
        "thompson",
        BuiltinPolicy::thompson(),
        Forgetting::Never,
        &probs,
    );
    adbandit_loop(
        &mut g,
        "thompson_half_life_7",
        BuiltinPolicy::thompson(),
        Forgetting::half_life(7.0).unwrap(),
        &probs,
    );
    adbandit_loop(
        &mut g,
        "ucb1",
        BuiltinPolicy::ucb1(),
        Forgetting::Never,
        &probs,
    );

    // Naive Thompson: plain counters, a fresh `rand_distr::Beta` per arm per step.
    {
        let (mut s, mut f) = (vec![0.0f64; k], vec![0.0f64; k]);
        let mut rng = stream(11, &[]);
        let mut env = stream(12, &[]);
        let mut step = |s: &mut [f64], f: &mut [f64]| {
            let (mut best, mut ix) = (f64::NEG_INFINITY, 0);
            for i in 0..k {
                let x = Beta::new(1.0 + s[i], 1.0 + f[i]).unwrap().sample(&mut rng);
                if x > best {
                    (best, ix) = (x, i);
                }
            }
            if env.random::<f64>() < probs[ix] {
                s[ix] += 1.0;
            } else {
                f[ix] += 1.0;
            }
        };
        for _ in 0..WARM_STEPS {
            step(&mut s, &mut f);
        }
        g.bench_function("naive_thompson", |b| b.iter(|| step(&mut s, &mut f)));
    }
    // Naive UCB1: counters, index mean + sqrt(2 ln N / n) from scratch every step.
    {
        let (mut sum, mut n) = (vec![0.0f64; k], vec![0.0f64; k]);
        let mut total = 0.0f64;
        let mut env = stream(12, &[]);
        let mut step = |sum: &mut [f64], n: &mut [f64], total: &mut f64| {
            let ln_n = total.max(2.0).ln();
            let (mut best, mut ix) = (f64::NEG_INFINITY, 0);
            for i in 0..k {
                let x = if n[i] > 0.0 {
                    sum[i] / n[i] + (2.0 * ln_n / n[i]).sqrt()
                } else {
                    f64::INFINITY
                };
                if x > best {
                    (best, ix) = (x, i);
                }
            }
            if env.random::<f64>() < probs[ix] {
                sum[ix] += 1.0;
            }
            n[ix] += 1.0;
            *total += 1.0;
        };
        for _ in 0..WARM_STEPS {
            step(&mut sum, &mut n, &mut total);
        }
        g.bench_function("naive_ucb1", |b| {
            b.iter(|| step(&mut sum, &mut n, &mut total))
        });
    }
    g.finish();
}

/// One posterior update (`Arms::update` of one arm, round robin over K = 10) next to a plain
/// counter add, and `end_period` with half-life forgetting at K = 10 and 1,000.
fn one_update(c: &mut Criterion) {
    let mut g = c.benchmark_group("one_update");
    g.throughput(Throughput::Elements(1));
    let k = 10;
    for (name, f) in [
        ("arms_update", Forgetting::Never),
        ("arms_update_half_life", Forgetting::half_life(7.0).unwrap()),
    ] {
        let mut a = Arms::with_arms(ArmsConfig::new(BetaPrior::UNIFORM, f).unwrap(), k);
        let mut i = 0;
        g.bench_function(name, |b| {
            b.iter(|| {
                i = if i + 1 == k { 0 } else { i + 1 };
                a.update(black_box(i), black_box(1.0), black_box(3.0))
                    .unwrap()
            })
        });
    }
    let (mut s, mut t) = (vec![0.0f64; k], vec![0.0f64; k]);
    let mut i = 0;
    g.bench_function("naive_counter_add", |b| {
        b.iter(|| {
            i = if i + 1 == k { 0 } else { i + 1 };
            let ix = black_box(i);
            s[ix] += black_box(1.0);
            t[ix] += black_box(3.0);
        })
    });
    black_box((&s, &t));
    g.finish();
    let mut g = c.benchmark_group("end_period_half_life");
    for k in [10usize, 1_000] {
        let mut a = Arms::with_arms(
            ArmsConfig::new(BetaPrior::UNIFORM, Forgetting::half_life(7.0).unwrap()).unwrap(),
            k,
        );
        for i in 0..k {
            a.update(i, 3.0, 100.0).unwrap();
        }
        g.bench_with_input(BenchmarkId::from_parameter(k), &k, |b, _| {
            b.iter(|| a.end_period())
        });
    }
    g.finish();
}

/// One cached Beta draw at small and large counts, next to a fresh `rand_distr::Beta`.
fn draw(c: &mut Criterion) {
    let mut g = c.benchmark_group("draw");
    g.throughput(Throughput::Elements(1));
    for (label, a, b) in [("small_3_7", 3.0, 7.0), ("large_400_9600", 400.0, 9600.0)] {
        let s = adbandit::estimate::BetaSampler::new(a, b);
        let mut rng = stream(5, &[]);
        g.bench_function(format!("cached/{label}"), |bch| {
            bch.iter(|| s.sample(&mut rng))
        });
        let mut rng = stream(5, &[]);
        g.bench_function(format!("naive_rand_distr/{label}"), |bch| {
            bch.iter(|| {
                Beta::new(black_box(a), black_box(b))
                    .unwrap()
                    .sample(&mut rng)
            })
        });
    }
    let mut rng = stream(5, &[]);
    g.bench_function("naive_one_normal", |bch| {
        bch.iter(|| rng.sample::<f64, _>(rand_distr::StandardNormal))
    });
    g.finish();
}

criterion_group!(benches, online, one_update, draw, choose, update);
criterion_main!(benches);

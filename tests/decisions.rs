//! Issue 14: the engine's decisions on the built-in markets, against the budget-aware oracle.
//!
//! `cargo test --test decisions -- --ignored --nocapture table` prints the measurement table
//! (env `DECISIONS_SEEDS`, default 20; `DECISIONS_SCENARIOS`, comma-separated, default all).

use adbandit::compare::{
    BuiltinStrategy, Detail, EngineStrategy, Grid, JobResult, RunOptions, Strategy, StrategyEntry,
};
use adbandit::engine::{Engine, EngineConfig};
use adbandit::estimate::Forgetting;
use adbandit::policy::BuiltinPolicy;
use adbandit::sim::{Fidelity, Scenario};
use std::collections::BTreeMap;

/// The `thompson` strategy (7-day half-life, paced) with plan draws held for `redraw` days
/// and a budget-use multiplier of step `dual_rate` (at most `dual_max`).
fn thompson_with(name: &str, redraw: u32, dual_rate: f64, dual_max: f64) -> StrategyEntry {
    let params =
        serde_json::json!({"redraw": redraw, "dual_rate": dual_rate, "dual_max": dual_max});
    StrategyEntry::custom(name, params, move |sc: &Scenario, seed| {
        let config = EngineConfig {
            forgetting: Forgetting::half_life(7.0)?,
            plan_redraw_days: redraw,
            budget_dual_rate: dual_rate,
            budget_dual_max: dual_max,
            ..EngineConfig::default()
        };
        let engine =
            Engine::with_policy(sc.account_on(0)?, config, BuiltinPolicy::thompson(), seed)?;
        Ok(Box::new(EngineStrategy::new(engine, true).with_launches(sc)) as Box<dyn Strategy>)
    })
}

/// The variants measured against `thompson` (the default settings).
fn variants() -> Vec<StrategyEntry> {
    vec![
        thompson_with("held7", 7, 0.0, 1.5),
        thompson_with("dual1.5", 1, 1.0, 1.5),
        thompson_with("held7_dual1.2", 7, 1.0, 1.2),
        thompson_with("held7_dual1.5", 7, 1.0, 1.5),
    ]
}

fn opts(detail: Detail) -> RunOptions {
    RunOptions {
        master_seed: 14,
        fidelity: Fidelity::Fast,
        threads: 2,
        detail,
        ..RunOptions::default()
    }
}

/// Share of a run's plan-budget moves that reverse the previous day's move by more than 5%.
fn reversals(r: &JobResult) -> (usize, usize) {
    let mut by_plan: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for d in &r.plan_days {
        by_plan
            .entry(d.plan.as_str())
            .or_default()
            .push(d.budget.units());
    }
    let (mut moves, mut rev) = (0, 0);
    for b in by_plan.values() {
        for w in b.windows(3) {
            let (m1, m2) = (w[1] - w[0], w[2] - w[1]);
            if m2.abs() > 1e-9 {
                moves += 1;
                if m1 * m2 < 0.0 && m2.abs() > 0.05 * w[1].max(1e-9) {
                    rev += 1;
                }
            }
        }
    }
    (rev, moves)
}

/// Share of account days after the first week whose spend reached 95% of the budget.
fn full_days(r: &JobResult) -> f64 {
    let days: Vec<_> = r.daily.iter().filter(|d| d.day >= 7).collect();
    let full = days
        .iter()
        .filter(|d| d.cost.units() >= 0.95 * d.budget.units())
        .count();
    full as f64 / days.len().max(1) as f64
}

#[test]
#[ignore = "measurement table (minutes); run with --ignored --nocapture"]
fn table() {
    let seeds: u64 = std::env::var("DECISIONS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let names: Vec<String> = std::env::var("DECISIONS_SCENARIOS")
        .map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_else(|_| Scenario::BUILTIN.iter().map(|s| s.to_string()).collect());
    let ablate = std::env::var("DECISIONS_ABLATE").is_ok();
    let mut entries =
        BuiltinStrategy::entries(&["static", "eps_greedy", "ucb", "thompson"]).unwrap();
    if ablate {
        entries.extend(variants());
    }
    entries.extend(BuiltinStrategy::entries(&["oracle"]).unwrap());
    let names_of: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
    let strategies: Vec<&str> = names_of.iter().map(String::as_str).collect();
    let n = strategies.len() - 1;
    println!(
        "| scenario | {} | budget use (spend/budget) {} | full days | reversals |",
        strategies[..n].join(" | "),
        strategies.join("/")
    );
    for name in &names {
        let sc = Scenario::builtin(name).unwrap();
        let grid = Grid::new(vec![sc], entries.clone(), seeds);
        let results = grid.run(&opts(Detail::Plans)).unwrap();
        let mean = |s: &str, f: &dyn Fn(&JobResult) -> f64| {
            let v: Vec<f64> = results
                .iter()
                .filter(|r| r.job.strategy == s)
                .map(f)
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let rev = |r: &JobResult| r.metrics.revenue.units();
        let oracle = mean("oracle", &rev);
        let fr: Vec<String> = strategies[..n]
            .iter()
            .map(|s| format!("{:.3}", mean(s, &rev) / oracle))
            .collect();
        let util: Vec<String> = strategies
            .iter()
            .map(|s| {
                format!(
                    "{:.2}",
                    mean(s, &|r| r.metrics.budget_utilisation.unwrap_or(0.0))
                )
            })
            .collect();
        let mut full = Vec::new();
        let mut revs = Vec::new();
        for s in &strategies[3..n] {
            let (mut rv, mut mv) = (0, 0);
            for r in results.iter().filter(|r| r.job.strategy == *s) {
                let (a, b) = reversals(r);
                rv += a;
                mv += b;
                assert!(r.metrics.overspend.is_zero());
            }
            full.push(format!("{:.2}", mean(s, &full_days)));
            revs.push(format!("{:.2}", rv as f64 / mv.max(1) as f64));
        }
        println!(
            "| {name} | {} | {} | {} | {} |",
            fr.join(" | "),
            util.join("/"),
            full.join("/"),
            revs.join("/")
        );
    }
}

#[test]
#[ignore = "diagnostic print of one run's plan-days; DECISIONS_SCENARIOS, DECISIONS_STRATEGY"]
fn diag() {
    let name = std::env::var("DECISIONS_SCENARIOS").unwrap_or_else(|_| "budget_starved".into());
    let strat = std::env::var("DECISIONS_STRATEGY").unwrap_or_else(|_| "thompson".into());
    let grid = Grid::new(
        vec![Scenario::builtin(&name).unwrap()],
        BuiltinStrategy::entries(&[strat.as_str()]).unwrap(),
        1,
    );
    let results = grid.run(&opts(Detail::Plans)).unwrap();
    let r = &results[0];
    for d in &r.plan_days {
        println!(
            "day {:2} {:8} budget {:9.1} cap {:9.1} spend {:9.1} rev {:9.1} exh {:?} lost {}",
            d.day,
            d.plan.as_str(),
            d.budget.units(),
            d.spend_cap.units(),
            d.spend.units(),
            d.revenue.units(),
            d.exhausted_hour,
            d.lost_to_budget
        );
    }
    for d in &r.decisions {
        if d.day < 10 {
            println!(
                "{} {:?} {:?} {}",
                d.day,
                d.plan,
                d.keyword,
                d.reason.message()
            );
        }
    }
}

/// Held plan draws with a bounded budget-use dual (targets 2 and 5, opt-in): against the
/// default Thompson strategy on `default`, fewer budget moves reverse, more days spend the
/// budget, no day overspends, and revenue does not fall.
#[test]
fn held_draws_with_a_budget_dual_are_steadier_and_fuller() {
    let mut entries = BuiltinStrategy::entries(&["thompson"]).unwrap();
    entries.push(thompson_with("held7_dual1.2", 7, 1.0, 1.2));
    let grid = Grid::new(vec![Scenario::default_scenario()], entries, 3);
    let results = grid.run(&opts(Detail::Plans)).unwrap();
    let stats = |s: &str| {
        let (mut rev, mut moves, mut full, mut revenue) = (0, 0, 0.0, 0.0);
        for r in results.iter().filter(|r| r.job.strategy == s) {
            assert!(r.metrics.overspend.is_zero(), "{}", r.job.id);
            assert!(r.daily.iter().all(|d| d.cost <= d.budget));
            let (a, b) = reversals(r);
            rev += a;
            moves += b;
            full += full_days(r) / 3.0;
            revenue += r.metrics.revenue.units() / 3.0;
        }
        (rev as f64 / moves.max(1) as f64, full, revenue)
    };
    let (r0, f0, v0) = stats("thompson");
    let (r1, f1, v1) = stats("held7_dual1.2");
    assert!(r1 < 0.7 * r0, "reversals {r1:.2} vs {r0:.2}");
    assert!(f1 > f0 + 0.2, "full days {f1:.2} vs {f0:.2}");
    assert!(v1 >= 0.97 * v0, "revenue {v1:.0} vs {v0:.0}");
}

//! Issue 14: the engine's decisions on the built-in markets, against the budget-aware oracle.
//!
//! `cargo test --test decisions -- --ignored --nocapture table` prints the measurement table
//! (env `DECISIONS_SEEDS`, default 20; `DECISIONS_SCENARIOS`, comma-separated, default all).

use adbandit::compare::{
    BuiltinStrategy, Detail, EngineStrategy, Grid, JobResult, RunOptions, Strategy, StrategyEntry,
};
use adbandit::engine::{Decision, Engine, EngineConfig};
use adbandit::estimate::{Counts, Forgetting};
use adbandit::policy::BuiltinPolicy;
use adbandit::sim::{Controls, Expected, Fidelity, Scenario};
use adbandit::{Date, Money, Report};
use std::collections::BTreeMap;

/// The engine strategy with its evidence replaced, every morning, by the market's true
/// rates of the day (expected counts at each keyword's current bid, times `scale` days):
/// the decision machinery's ceiling (bids, budgets, pacing, spend model) with learning
/// taken out. Its gap to the oracle is the mechanism's; its gap to the learning engine is
/// learning's.
struct TruthFed {
    inner: EngineStrategy,
    scenario: Scenario,
    scale: f64,
}

impl Strategy for TruthFed {
    fn start_day(
        &mut self,
        day: u32,
        date: Date,
        yesterday: Option<&Report>,
    ) -> adbandit::Result<Controls> {
        if let Some(r) = yesterday {
            self.inner.engine_mut().observe(r)?;
        }
        let truth = self.scenario.truth();
        for (pi, p) in self.scenario.account().plans().iter().enumerate() {
            for (j, kw) in p.keywords.iter().enumerate() {
                let k = truth.plan_keywords(pi).start + j;
                let Some((_, ek)) = self.inner.engine().account().keyword(&kw.id) else {
                    continue;
                };
                let at = |bid: Money| {
                    let mut e = Expected::default();
                    for h in 0..24 {
                        e.add(&truth.expected(k, bid, day, h));
                    }
                    e
                };
                let mut e = at(ek.bid);
                if e.clicks < 1e-9 {
                    e = at(p.max_bid);
                }
                if e.clicks < 1e-9 {
                    continue;
                }
                let s = self.scale;
                let c = Counts {
                    impressions: e.impressions * s,
                    clicks: e.clicks * s,
                    conversions: e.conversions * s,
                    cost: e.cost * s,
                    revenue: e.revenue * s,
                };
                self.inner
                    .engine_mut()
                    .set_evidence(&kw.id, date.add_days(-1), c)?;
            }
        }
        self.inner.start_day(day, date, None)
    }

    fn before_hour(
        &mut self,
        hour: u8,
        spent: &[Money],
        controls: &mut Controls,
    ) -> adbandit::Result<()> {
        self.inner.before_hour(hour, spent, controls)
    }

    fn decision(&self) -> Option<&Decision> {
        self.inner.decision()
    }
}

/// [`TruthFed`] around the engine `config` builds (Thompson policy, paced).
fn truth_fed(name: &str, config: fn() -> EngineConfig) -> StrategyEntry {
    let params = serde_json::json!({"truth_fed": name});
    StrategyEntry::custom(name, params, move |sc: &Scenario, seed| {
        let engine =
            Engine::with_policy(sc.account_on(0)?, config(), BuiltinPolicy::thompson(), seed)?;
        let inner = EngineStrategy::new(engine, true).with_launches(sc);
        Ok(Box::new(TruthFed {
            inner,
            scenario: sc.clone(),
            scale: 100.0,
        }) as Box<dyn Strategy>)
    })
}

/// Variants from the environment, so that settings can be measured without a rebuild:
/// `DECISIONS_VARIANTS='{"name": {"truth": true, "pacing": false, "config": {..}}}'`, with
/// `config` any `EngineConfig` fields over the `thompson` strategy's, `truth` feeding the
/// true rates ([`TruthFed`]), `pacing` (default true) the hourly pacer.
fn env_variants() -> Vec<StrategyEntry> {
    let Ok(text) = std::env::var("DECISIONS_VARIANTS") else {
        return Vec::new();
    };
    let spec: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).expect("DECISIONS_VARIANTS: a JSON object");
    spec.into_iter()
        .map(|(name, v)| {
            let truth = v["truth"].as_bool().unwrap_or(false);
            let pacing = v["pacing"].as_bool().unwrap_or(true);
            let mut base = serde_json::to_value(thompson_config()).unwrap();
            if let Some(over) = v["config"].as_object() {
                for (k, x) in over {
                    assert!(base.get(k).is_some(), "no config field {k}");
                    base[k] = x.clone();
                }
            }
            let config: EngineConfig = serde_json::from_value(base).expect("a valid config");
            StrategyEntry::custom(name, v.clone(), move |sc: &Scenario, seed| {
                let engine = Engine::with_policy(
                    sc.account_on(0)?,
                    config.clone(),
                    BuiltinPolicy::thompson(),
                    seed,
                )?;
                let inner = EngineStrategy::new(engine, pacing).with_launches(sc);
                Ok(if truth {
                    Box::new(TruthFed {
                        inner,
                        scenario: sc.clone(),
                        scale: 100.0,
                    }) as Box<dyn Strategy>
                } else {
                    Box::new(inner) as Box<dyn Strategy>
                })
            })
        })
        .collect()
}

/// The `thompson` strategy's config.
fn thompson_config() -> EngineConfig {
    EngineConfig {
        forgetting: Forgetting::half_life(7.0).unwrap(),
        ..EngineConfig::default()
    }
}

/// The `thompson` strategy's config before issue 14 changed the defaults: a fresh plan draw
/// every day, no budget-use dual, budget steps of 30%, max-revenue keywords paused below
/// break-even, budgets split by the plans' sampled average return, optimistic keyword
/// draws (up to 4x the mean) and a throttle-only pacer.
fn before_issue14() -> EngineConfig {
    let mut c = thompson_config();
    c.plan_redraw_days = 1;
    c.budget_dual_rate = 0.0;
    c.budget_dual_max = 1.5;
    c.max_budget_step = 0.3;
    c.rules.pause_below_break_even = true;
    c.budgets_from_bids = false;
    c.budget_smoothing = 0.0;
    c.keyword_draw_cap = 4.0;
    c.pacing = c.pacing.with_bid_scale(1.0, 1.0).unwrap();
    c
}

/// An engine strategy (Thompson, paced) with the config `config` builds.
fn thompson_with(name: &str, config: fn() -> EngineConfig) -> StrategyEntry {
    let params = serde_json::json!({ "config": config() });
    StrategyEntry::custom(name, params, move |sc: &Scenario, seed| {
        let engine =
            Engine::with_policy(sc.account_on(0)?, config(), BuiltinPolicy::thompson(), seed)?;
        Ok(Box::new(EngineStrategy::new(engine, true).with_launches(sc)) as Box<dyn Strategy>)
    })
}

/// The variants measured against `thompson` (the default settings).
fn variants() -> Vec<StrategyEntry> {
    vec![thompson_with("thompson_before", before_issue14)]
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
    let ceiling = std::env::var("DECISIONS_CEILING").is_ok();
    let mut entries =
        BuiltinStrategy::entries(&["static", "eps_greedy", "ucb", "thompson"]).unwrap();
    if ablate {
        entries.extend(variants());
    }
    if ceiling {
        entries.push(truth_fed("thompson_true", thompson_config));
    }
    entries.extend(env_variants());
    if let Ok(only) = std::env::var("DECISIONS_ONLY") {
        let keep: Vec<&str> = only.split(',').collect();
        entries.retain(|e| keep.contains(&e.name.as_str()) || e.name == "oracle");
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
        for s in &strategies[..n] {
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
        // Paired differences of revenue (share of the oracle's mean) against `thompson`.
        if strategies.contains(&"thompson") {
            let sc_name = results[0].job.scenario.clone();
            for s in strategies[..n].iter().filter(|s| **s != "thompson") {
                if let Ok(i) = adbandit::compare::paired(&results, &sc_name, "thompson", s, |r| {
                    r.metrics.revenue.units()
                }) {
                    println!(
                        "  {name}: thompson - {s}: {:+.3} [{:+.3}, {:+.3}] of the oracle (n {})",
                        i.mean / oracle,
                        i.lo / oracle,
                        i.hi / oracle,
                        i.n
                    );
                }
            }
        }
    }
}

#[test]
#[ignore = "diagnostic print of one run's plan-days; DECISIONS_SCENARIOS, DECISIONS_STRATEGY"]
fn diag() {
    let name = std::env::var("DECISIONS_SCENARIOS").unwrap_or_else(|_| "budget_starved".into());
    let strat = std::env::var("DECISIONS_STRATEGY").unwrap_or_else(|_| "thompson".into());
    let mut entries = env_variants();
    entries.retain(|e| e.name == strat);
    if entries.is_empty() {
        entries = BuiltinStrategy::entries(&[strat.as_str()]).unwrap();
    }
    entries.extend(BuiltinStrategy::entries(&["oracle"]).unwrap());
    let grid = Grid::new(vec![Scenario::builtin(&name).unwrap()], entries, 1);
    let results = grid.run(&opts(Detail::Plans)).unwrap();
    // Per day, per plan: budget / spend / revenue of the strategy, then of the oracle.
    let days = results[0].daily.len() as u32;
    for day in 0..days {
        let mut line = format!("day {day:2}");
        for r in &results {
            line.push_str(" |");
            for d in r.plan_days.iter().filter(|d| d.day == day) {
                line.push_str(&format!(
                    " {:.0}/{:.0}/{:.0}",
                    d.budget.units(),
                    d.spend.units(),
                    d.revenue.units()
                ));
            }
        }
        println!("{line}");
    }
    for r in &results {
        println!(
            "{}: revenue {:.0} cost {:.0}",
            r.job.strategy,
            r.metrics.revenue.units(),
            r.metrics.cost.units()
        );
    }
    if std::env::var("DECISIONS_REASONS").is_ok() {
        for d in &results[0].decisions {
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
}

/// The defaults of issue 14 (held plan draws, a bounded budget-use dual, 50% budget steps,
/// no break-even pause for max-revenue keywords; targets 2 and 5) against the defaults
/// before, on `default`: fewer budget moves reverse, more days spend the budget, no day
/// overspends, and revenue does not fall (measured over 8 seeds on ten markets: within
/// -3.6..+3.5 points of the oracle of the old defaults, mean +0.4; notes/decisions.md).
/// Issue 14 targets 2 and 5 on `default` (3 seeds, against the engine before the issue):
/// spend reaches 95% of the budget on at least 90% of the days after the first week, at
/// most a fifth of the budget moves reverse the day before's by more than 5% (target 15%;
/// measured 0.14 over 8 seeds), and revenue grows, to at least 85% of the budget-aware
/// oracle's (target 90%, not met: 0.885 over 20 seeds in `compare`; 0.787 before).
#[test]
fn the_new_defaults_are_steadier_and_fuller_and_earn_more() {
    let mut entries = BuiltinStrategy::entries(&["thompson", "oracle"]).unwrap();
    entries.push(thompson_with("thompson_before", before_issue14));
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
    let (r0, f0, v0) = stats("thompson_before");
    let (r1, f1, v1) = stats("thompson");
    let (_, _, oracle) = stats("oracle");
    println!(
        "reversals {r1:.2} vs {r0:.2}, full days {f1:.2} vs {f0:.2}, revenue {v1:.0} vs {v0:.0} (oracle {oracle:.0})"
    );
    assert!(
        v1 >= 0.85 * oracle,
        "revenue {v1:.0} vs the oracle's {oracle:.0}"
    );
    assert!(r1 <= 0.2 && r1 < 0.6 * r0, "reversals {r1:.2} vs {r0:.2}");
    assert!(f1 >= 0.9 && f1 > f0 + 0.2, "full days {f1:.2} vs {f0:.2}");
    assert!(v1 >= 1.05 * v0, "revenue {v1:.0} vs {v0:.0}");
}

/// Each seed's plan budgets by day for `plan` in `r`.
fn budgets_of(r: &JobResult, plan: &str) -> BTreeMap<u32, f64> {
    r.plan_days
        .iter()
        .filter(|d| d.plan.as_str() == plan)
        .map(|d| (d.day, d.budget.units()))
        .collect()
}

/// Target 3 on `competitor_entry`: rival bids x1.6 on plan c2 from day 14. Per seed, c2's
/// budget on days 14-17 as a share of day 13's (the day before the change).
fn change_ratios(results: &[JobResult], strategy: &str) -> Vec<f64> {
    results
        .iter()
        .filter(|r| r.job.strategy == strategy)
        .map(|r| {
            let b = budgets_of(r, "c2");
            let before = b.get(&13).copied().unwrap_or(0.0).max(1e-9);
            (14..=17)
                .map(|d| b.get(&d).copied().unwrap_or(0.0) / before)
                .fold(f64::INFINITY, f64::min)
        })
        .collect()
}

/// Target 4 on `new_plans`: n2 (launched day 10) and n4 (day 17) are the best plans. Per
/// seed and launch, the first day within 7 days of launch on which the plan holds the
/// largest budget (`None`: not within 7 days).
fn launch_days(results: &[JobResult], strategy: &str) -> Vec<Option<u32>> {
    let mut out = Vec::new();
    for r in results.iter().filter(|r| r.job.strategy == strategy) {
        for (plan, launch) in [("n2", 10u32), ("n4", 17u32)] {
            let first = (launch..launch + 7).find(|&d| {
                let mine = budgets_of(r, plan).get(&d).copied().unwrap_or(0.0);
                r.plan_days
                    .iter()
                    .filter(|x| x.day == d)
                    .all(|x| x.budget.units() <= mine + 1e-9)
            });
            out.push(first.map(|d| d - launch));
        }
    }
    out
}

#[test]
#[ignore = "target measurement (minutes); DECISIONS_SEEDS, DECISIONS_ONLY"]
fn targets() {
    let seeds: u64 = std::env::var("DECISIONS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut entries = BuiltinStrategy::entries(&["thompson", "eps_greedy", "ucb"]).unwrap();
    entries.extend(variants());
    entries.extend(env_variants());
    if let Ok(only) = std::env::var("DECISIONS_ONLY") {
        let keep: Vec<&str> = only.split(',').collect();
        entries.retain(|e| keep.contains(&e.name.as_str()));
    }
    let mut with_oracle = entries.clone();
    with_oracle.extend(BuiltinStrategy::entries(&["oracle"]).unwrap());
    let names: Vec<String> = with_oracle.iter().map(|e| e.name.clone()).collect();
    let ce = Grid::new(
        vec![Scenario::builtin("competitor_entry").unwrap()],
        with_oracle.clone(),
        seeds,
    )
    .run(&opts(Detail::Plans))
    .unwrap();
    let np = Grid::new(
        vec![Scenario::builtin("new_plans").unwrap()],
        with_oracle,
        seeds,
    )
    .run(&opts(Detail::Plans))
    .unwrap();
    for s in &names {
        let ch = change_ratios(&ce, s);
        let below = ch.iter().filter(|x| **x < 0.7).count();
        let ld = launch_days(&np, s);
        let held = ld.iter().filter(|x| x.is_some()).count();
        println!(
            "{s}: target 3 c2 min budget days 14-17 / day 13: {:?} ({below}/{} below 0.7); target 4 days to largest budget: {:?} ({held}/{} within 7)",
            ch.iter().map(|x| format!("{x:.2}")).collect::<Vec<_>>(),
            ch.len(),
            ld,
            ld.len()
        );
    }
}

/// `competitor_entry`'s market with its rival event replaced: from day 14 the CVR of the
/// plan with the highest return at the starting bids is multiplied by `factor` (0.5: its
/// ROI halves). Returns the scenario and the plan's id.
fn cvr_change(factor: f64, best: bool) -> (Scenario, String) {
    let base = Scenario::builtin("competitor_entry").unwrap();
    let truth = base.truth();
    let mut rois: Vec<(f64, String)> = Vec::new();
    for (pi, p) in base.account().plans().iter().enumerate() {
        let mut e = Expected::default();
        for (j, kw) in p.keywords.iter().enumerate() {
            let k = truth.plan_keywords(pi).start + j;
            for h in 0..24 {
                e.add(&truth.expected(k, kw.bid, 0, h));
            }
        }
        rois.push((e.revenue / e.cost.max(1e-9), p.id.as_str().to_owned()));
    }
    rois.sort_by(|a, b| b.0.total_cmp(&a.0));
    let plan = if best {
        rois[0].1.clone()
    } else {
        rois[rois.len() / 2].1.clone()
    };
    let mut v: serde_json::Value =
        serde_json::from_str(include_str!("../scenarios/competitor_entry.json")).unwrap();
    v["name"] = "cvr_change".into();
    v["market"]["events"] = serde_json::json!([{
        "name": "cvr change", "start": "2026-03-16", "days": 21, "cvr": factor,
        "scope": {"plans": [plan.clone()]}
    }]);
    (Scenario::from_json(&v.to_string()).unwrap(), plan)
}

/// Per seed, the plan's lowest (`fall`) or highest budget on days 14-17 over day 13's.
fn budget_moves(results: &[JobResult], strategy: &str, plan: &str, fall: bool) -> Vec<f64> {
    results
        .iter()
        .filter(|r| r.job.strategy == strategy)
        .map(|r| {
            let b = budgets_of(r, plan);
            let before = b.get(&13).copied().unwrap_or(0.0).max(1e-9);
            let xs = (14..=17).map(|d| b.get(&d).copied().unwrap_or(0.0) / before);
            if fall {
                xs.fold(f64::INFINITY, f64::min)
            } else {
                xs.fold(0.0, f64::max)
            }
        })
        .collect()
}

#[test]
#[ignore = "target 3 measurement (minutes); DECISIONS_SEEDS, DECISIONS_ONLY"]
fn change_table() {
    let seeds: u64 = std::env::var("DECISIONS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut entries = BuiltinStrategy::entries(&["thompson", "oracle"]).unwrap();
    entries.extend(variants());
    entries.extend(env_variants());
    if let Ok(only) = std::env::var("DECISIONS_ONLY") {
        let keep: Vec<&str> = only.split(',').collect();
        entries.retain(|e| keep.contains(&e.name.as_str()) || e.name == "oracle");
    }
    for (factor, best) in [(0.5, true), (2.0, false)] {
        let (sc, plan) = cvr_change(factor, best);
        let results = Grid::new(vec![sc], entries.clone(), seeds)
            .run(&opts(Detail::Plans))
            .unwrap();
        for e in &entries {
            let m = budget_moves(&results, &e.name, &plan, factor < 1.0);
            let rev: f64 = results
                .iter()
                .filter(|r| r.job.strategy == e.name)
                .map(|r| r.metrics.revenue.units())
                .sum::<f64>()
                / seeds as f64;
            println!(
                "cvr x{factor} on {plan}: {}: budget days 14-17 / day 13 {:?}, revenue {rev:.0}",
                e.name,
                m.iter().map(|x| format!("{x:.2}")).collect::<Vec<_>>()
            );
        }
    }
}

#[test]
#[ignore = "target 6 measurement; DECISIONS_SEEDS"]
fn leak_table() {
    let seeds: u64 = std::env::var("DECISIONS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    let sc = Scenario::builtin("broad_leak").unwrap();
    let leaky: Vec<String> = {
        let truth = sc.truth();
        let mut out = Vec::new();
        for (pi, p) in sc.account().plans().iter().enumerate() {
            for (j, kw) in p.keywords.iter().enumerate() {
                if !truth
                    .keyword_queries(truth.plan_keywords(pi).start + j)
                    .is_empty()
                {
                    out.push(kw.id.as_str().to_owned());
                }
            }
        }
        out
    };
    let results = Grid::new(
        vec![sc],
        BuiltinStrategy::entries(&["thompson"]).unwrap(),
        seeds,
    )
    .run(&opts(Detail::Plans))
    .unwrap();
    for r in &results {
        let mut first: BTreeMap<String, u32> = BTreeMap::new();
        for d in &r.decisions {
            if d.reason.code == adbandit::engine::ReasonCode::FlagHighCtrLowCvr
                && let Some(k) = &d.keyword
            {
                first.entry(k.as_str().to_owned()).or_insert(d.day);
            }
        }
        let by7: Vec<&String> = first
            .iter()
            .filter(|(_, d)| **d <= 7)
            .map(|(k, _)| k)
            .collect();
        let good = by7.iter().filter(|k| leaky.contains(k)).count();
        println!(
            "seed {}: {} leaky keywords; flagged by day 7: {} ({} leaky, {} not); flagged ever: {}",
            r.job.seed,
            leaky.len(),
            by7.len(),
            good,
            by7.len() - good,
            first.len()
        );
    }
}

/// Target 6 (in part): keywords whose clicks do not convert, against their siblings (the
/// keyword left out), are flagged within a week on `broad_leak`, and only leaky ones (those
/// with an irrelevant query stream). Measured on 3 seeds: 2-3 of 139 leaky keywords flagged
/// by day 7, none of the others (the rest leak as much as their siblings do, which a
/// keyword-level comparison cannot see; the search terms would).
#[test]
fn leaky_keywords_are_flagged_against_their_siblings() {
    let sc = Scenario::builtin("broad_leak").unwrap();
    let truth = sc.truth();
    let mut leaky = Vec::new();
    for (pi, p) in sc.account().plans().iter().enumerate() {
        for (j, kw) in p.keywords.iter().enumerate() {
            if !truth
                .keyword_queries(truth.plan_keywords(pi).start + j)
                .is_empty()
            {
                leaky.push(kw.id.clone());
            }
        }
    }
    let grid = Grid::new(
        vec![sc.clone()],
        BuiltinStrategy::entries(&["thompson"]).unwrap(),
        2,
    );
    let o = RunOptions {
        days: Some(8),
        ..opts(Detail::Plans)
    };
    let (mut flagged, mut wrong) = (0, Vec::new());
    for r in grid.run(&o).unwrap() {
        for d in &r.decisions {
            if d.reason.code == adbandit::engine::ReasonCode::FlagHighCtrLowCvr {
                let k = d.keyword.as_ref().unwrap();
                assert!(d.reason.message().contains("siblings"));
                if leaky.contains(k) {
                    flagged += 1;
                } else {
                    wrong.push(k.clone());
                }
            }
        }
    }
    // The rule fires at P(CVR < half the siblings') > 0.9, tested on ~40 keywords without a
    // leak per seed and day: an occasional false alarm is what that threshold admits (one,
    // b1-13, on these seeds since fast fidelity splits busy query streams as one mix).
    assert!(flagged >= 2, "{flagged} flags");
    assert!(wrong.len() <= 1, "flagged without a leak: {wrong:?}");
}

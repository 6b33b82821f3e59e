//! The twin, calibrated on a report the simulator itself produced from a known scenario.

use adbandit::analysis::{AnalysisOptions, analyze_report};
use adbandit::compare::{RunOptions, paired};
use adbandit::sim::{Controls, Fidelity, Granularity, Market, Scenario, outcomes_to_report};
use adbandit::twin::{
    ENGINE_STRATEGIES, HISTORICAL, TwinCompareOptions, TwinOptions, calibrate, compare_on_twin,
    twin_strategies,
};
use adbandit::{Error, Money, Report};

const DAYS: u32 = 14;

/// The scenario's market under its initial (uniform-bid, even-budget) controls.
fn simulated_report(sc: &Scenario, granularity: Granularity, seed: u64) -> Report {
    let mut market = Market::new(sc, Fidelity::Fast, seed);
    let controls = Controls::from_account(sc.account());
    let mut report: Option<Report> = None;
    for d in 0..DAYS {
        let hours: Vec<_> = (0..24)
            .map(|h| market.run_hour(d, h, &controls).unwrap())
            .collect();
        let r = outcomes_to_report(sc.account(), sc.date(d), &hours, granularity).unwrap();
        report = Some(match report {
            None => r,
            Some(acc) => acc.checked_add(&r).unwrap(),
        });
    }
    report.unwrap()
}

/// True effective rates per keyword at the historical bids: CTR over the slot mix, CVR, AOV.
fn true_rates(sc: &Scenario) -> Vec<(f64, f64, f64)> {
    let t = sc.truth();
    let bids: Vec<_> = sc
        .account()
        .plans()
        .iter()
        .flat_map(|p| p.keywords.iter().map(|k| k.bid))
        .collect();
    (0..bids.len())
        .map(|k| {
            let (mut imp, mut clk) = (0.0, 0.0);
            for h in 0..24 {
                let e = t.expected(k, bids[k], 0, h);
                imp += e.impressions;
                clk += e.clicks;
            }
            (clk / imp, t.cvr(k, 0), t.aov(k))
        })
        .collect()
}

#[test]
fn twin_recovers_a_known_scenario() {
    let sc = Scenario::small();
    let report = simulated_report(&sc, Granularity::Hourly, 11);
    let twin = calibrate(sc.account(), &report, &TwinOptions::default()).unwrap();
    println!("{}", twin.check.table());
    assert!(twin.hourly_from_report);
    assert!(twin.check.passed(), "{}", twin.check.table());

    // Coverage of the true rates by the 95% intervals, among keywords with enough data.
    let truth = true_rates(&sc);
    let (mut n_ctr, mut c_ctr, mut n_cvr, mut c_cvr, mut n_aov, mut c_aov) = (0, 0, 0, 0, 0, 0);
    let by_kw = report.by_keyword().unwrap();
    for (f, &(ctr, cvr, aov)) in twin.fits.iter().zip(&truth) {
        let s = by_kw.get(&f.keyword).copied().unwrap_or_default();
        if s.impressions() >= 500 {
            n_ctr += 1;
            c_ctr += usize::from(f.ctr.contains(ctr));
        }
        if s.clicks() >= 50 {
            n_cvr += 1;
            c_cvr += usize::from(f.cvr.contains(cvr));
        }
        if s.conversions() >= 10 {
            n_aov += 1;
            c_aov += usize::from(f.aov.contains(aov));
        }
    }
    println!("keyword coverage: ctr {c_ctr}/{n_ctr}, cvr {c_cvr}/{n_cvr}, aov {c_aov}/{n_aov}");
    for (n, c) in [(n_ctr, c_ctr), (n_cvr, c_cvr)] {
        assert!(n >= 10, "too few keywords with data: {n}");
        assert!(c * 10 >= n * 8, "coverage {c}/{n} below 80%");
    }
    // Few keywords have enough orders for a keyword AOV: AOV is checked per plan, against the
    // true conversion-weighted mean order value at the historical bids.
    let a = analyze_report(sc.account(), &report, &AnalysisOptions::default()).unwrap();
    let t = sc.truth();
    let mut covered = 0;
    for (i, p) in a.plans.iter().enumerate() {
        let (mut conv, mut rev) = (0.0, 0.0);
        for k in t.plan_keywords(i) {
            let bid = sc.account().plans()[i].keywords[k - t.plan_keywords(i).start].bid;
            for h in 0..24 {
                let e = t.expected(k, bid, 0, h);
                conv += e.conversions;
                rev += e.revenue;
            }
        }
        println!("plan {} aov {:?} true {:.2}", p.plan, p.aov, rev / conv);
        covered += usize::from(p.aov.unwrap().contains(rev / conv));
    }
    assert!(covered >= 2, "plan AOV coverage {covered}/3");

    // The twin is a scenario: it loads from its own JSON, with another horizon.
    let json = twin.scenario_json(28).unwrap();
    let again = Scenario::from_json(&json).unwrap();
    assert_eq!(again.days(), 28);
    assert_eq!(again.account(), sc.account());
}

#[test]
fn daily_rows_calibrate_too() {
    let sc = Scenario::small();
    let report = simulated_report(&sc, Granularity::Daily, 5);
    let twin = calibrate(sc.account(), &report, &TwinOptions::default()).unwrap();
    println!("{}", twin.check.table());
    assert!(!twin.hourly_from_report);
    assert!(twin.check.passed(), "{}", twin.check.table());
    assert!(twin.notes.iter().any(|n| n.contains("lower bounds")));
}

#[test]
fn bad_options_and_reports_are_errors() {
    let sc = Scenario::small();
    let report = simulated_report(&sc, Granularity::Daily, 1);
    for o in [
        TwinOptions {
            rivals: 0,
            ..TwinOptions::default()
        },
        TwinOptions {
            position_effects: vec![],
            ..TwinOptions::default()
        },
        TwinOptions {
            rival_sigma: f64::NAN,
            ..TwinOptions::default()
        },
        TwinOptions {
            replay_seeds: 0,
            ..TwinOptions::default()
        },
    ] {
        assert!(matches!(
            calibrate(sc.account(), &report, &o),
            Err(Error::InvalidParameter { .. })
        ));
    }
    let empty = Report::new(vec![]).unwrap();
    assert!(matches!(
        calibrate(sc.account(), &empty, &TwinOptions::default()),
        Err(Error::InvalidValue { .. })
    ));
    let y = |x| adbandit::Money::from_units(x).unwrap();
    let other = adbandit::Account::new(
        "x",
        "CNY",
        vec![adbandit::Plan::new("zzz", "Z", y(10), y(0), y(5))],
    )
    .unwrap();
    assert!(matches!(
        calibrate(&other, &report, &TwinOptions::default()),
        Err(Error::UnknownId { .. })
    ));
}

#[test]
fn strategies_compare_on_the_twin_with_a_label() {
    let sc = Scenario::small();
    let report = simulated_report(&sc, Granularity::Hourly, 11);
    let twin = calibrate(sc.account(), &report, &TwinOptions::default()).unwrap();
    assert!(twin.check.passed(), "{}", twin.check.table());
    let opts = TwinCompareOptions {
        days: 7,
        seeds: 6,
        run: RunOptions {
            threads: 2,
            ..RunOptions::default()
        },
        ..TwinCompareOptions::default()
    };
    let got = compare_on_twin(&twin, &opts).unwrap();
    let table = got.table();
    println!("{table}");

    // Every strategy, 6 seeds of 7 days each; historical is the baseline.
    let s = got.summary();
    assert_eq!(s.baseline, HISTORICAL);
    let scenario = s.rows[0].scenario.clone();
    assert!(scenario.contains("simulated twin"), "{scenario}");
    for name in std::iter::once(HISTORICAL).chain(ENGINE_STRATEGIES) {
        let row = s
            .get(&scenario, name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(row.revenue.n, 6, "{name}");
        assert!(row.max_overspend <= 0.0, "{name}");
        assert_eq!(row.vs_baseline.is_none(), name == HISTORICAL, "{name}");
    }
    assert_eq!(got.results().len(), 6 * 5);
    for r in got.results() {
        assert_eq!(r.job.days, 7);
        assert!(r.metrics.overspend.is_zero(), "{:?}", r.job);
        assert!(r.daily.iter().all(|d| d.overspend.is_zero()), "{:?}", r.job);
    }
    // Same seeds for everyone: historical against itself is exactly zero.
    let same = paired(got.results(), &scenario, HISTORICAL, HISTORICAL, |r| {
        r.metrics.revenue.units()
    })
    .unwrap();
    assert_eq!(same.n, 6);
    assert!(
        [same.mean, same.lo, same.hi]
            .iter()
            .all(|x| x.abs() < 1e-12),
        "{same:?}"
    );
    // Historical spends as the account did: the same controls on a market that reproduces the
    // report (mean cost per day within 15% of the report's).
    let reported: f64 = report
        .rows()
        .iter()
        .map(|r| r.stats.cost().units())
        .sum::<f64>()
        / f64::from(DAYS);
    let hist: Vec<f64> = got
        .results()
        .iter()
        .filter(|r| r.job.strategy == HISTORICAL)
        .map(|r| r.metrics.cost.units() / 7.0)
        .collect();
    let mean = hist.iter().sum::<f64>() / hist.len() as f64;
    assert!((mean / reported - 1.0).abs() < 0.15, "{mean} vs {reported}");

    // The label travels with the table and the JSON.
    assert!(table.starts_with("SIMULATION of account"));
    assert!(table.contains("not a forecast guarantee"));
    assert!(table.contains("Calibration check: PASS"));
    assert!(got.calibration_passed);
    let json = got.to_json().unwrap();
    assert!(json.contains("SIMULATION of account"));
    // The verdict is in every output: table, JSON, each CSV and each plot.
    assert!(
        got.verdict
            .starts_with("On the twin, the best engine strategy is")
    );
    assert!(table.contains(&got.verdict));
    assert!(json.contains("\"verdict\": \"On the twin"));
    let dir = std::env::temp_dir().join(format!("adbandit-twin-cmp-{}", std::process::id()));
    got.write_all(&dir).unwrap();
    for f in [
        "twin_comparison.json",
        "twin_comparison.txt",
        "runs.csv",
        "daily.csv",
        "summary.csv",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
        if f.ends_with(".csv") {
            let text = std::fs::read_to_string(dir.join(f)).unwrap();
            assert!(text.starts_with("# On the twin"), "{f}");
        }
    }
    #[cfg(feature = "plots")]
    for p in got.write_plots(&dir).unwrap() {
        let svg = std::fs::read_to_string(&p).unwrap();
        assert!(svg.contains("simulated twin"), "{}", p.display());
        assert!(svg.contains("<title>On the twin"), "{}", p.display());
    }
    let _ = std::fs::remove_dir_all(&dir);

    // A failed check says the comparison is not trustworthy.
    let mut bad = twin.clone();
    bad.check.lines[0].pass = false;
    let small = TwinCompareOptions {
        days: 1,
        seeds: 2,
        ..opts
    };
    let b = compare_on_twin(&bad, &small).unwrap();
    assert!(!b.calibration_passed);
    let t = b.table();
    assert!(t.contains("NOT trustworthy"));
    // After a failed check: the failing line and why, and no claim of significance.
    assert!(
        t.contains("Failing calibration lines:") && t.contains("account impressions"),
        "{t}"
    );
    assert!(!t.contains("95% confidence"), "{t}");
    assert!(b.verdict.starts_with("Calibration FAILED"));
    for (days, seeds) in [(0, 2), (367, 2), (7, 0)] {
        assert!(matches!(
            compare_on_twin(
                &twin,
                &TwinCompareOptions {
                    days,
                    seeds,
                    ..opts
                }
            ),
            Err(Error::InvalidParameter { .. })
        ));
    }
}

#[test]
fn warm_started_engines_start_from_the_report() {
    let sc = Scenario::small();
    let report = simulated_report(&sc, Granularity::Hourly, 11);
    let twin = calibrate(sc.account(), &report, &TwinOptions::default()).unwrap();
    assert!(twin.check.passed(), "{}", twin.check.table());
    // The twin keeps its report; the simulated days start the day after its last date.
    assert_eq!(twin.report, report);
    let (_, last) = report.date_range().unwrap();
    assert_eq!(twin.first_day().unwrap(), last.add_days(1));
    let scenario = twin.scenario_for(7).unwrap();
    assert_eq!(scenario.date(0), last.add_days(1));

    // Observed ROI per plan in the report.
    let by_plan = report.by_plan().unwrap();
    let account = scenario.account();
    let roi: Vec<f64> = account
        .plans()
        .iter()
        .map(|p| by_plan[&p.id].roi().unwrap())
        .collect();
    let historical = Controls::from_account(account).plan_budget;
    let days = f64::from(DAYS);
    let spend: Vec<f64> = account
        .plans()
        .iter()
        .map(|p| by_plan[&p.id].cost().units() / days)
        .collect();
    println!(
        "report ROI per plan {roi:?}; daily spend {spend:?}; historical budgets {historical:?}"
    );
    // Plans that spent their budget (the budget limited them) and plans that left most of it.
    let limited: Vec<usize> = (0..roi.len())
        .filter(|&i| spend[i] >= 0.95 * historical[i].units())
        .collect();
    let unspent: Vec<usize> = (0..roi.len())
        .filter(|&i| spend[i] < 0.5 * historical[i].units())
        .collect();
    assert!(
        limited.len() >= 2 && !unspent.is_empty(),
        "{limited:?} {unspent:?}"
    );
    let by_roi = |a: &&usize, b: &&usize| roi[**a].total_cmp(&roi[**b]);
    let best = *limited.iter().max_by(by_roi).unwrap();
    let worst = *limited.iter().min_by(by_roi).unwrap();
    let total: i64 = historical.iter().map(|b| b.micros()).sum();

    // Day 0: warm engines already move budget to the budget-limited plan with the higher
    // observed ROI, away from the lower one, and cut plans that left budget unspent (to no
    // less than what they spent) unless their return beats the limited plans': budgets
    // follow the bids (issue 14), and such a plan's bids rise to buy more of the traffic
    // its old bids left, so its budget may rise with them. Cold engines know nothing: they
    // keep the total and move each plan by at most the engine's budget step.
    let historical_bids = Controls::from_account(account).keyword_bid;
    let mean_bid = |bids: &[Money], i: usize| {
        let plans = account.plans();
        let start: usize = plans[..i].iter().map(|p| p.keywords.len()).sum();
        let n = plans[i].keywords.len();
        bids[start..start + n]
            .iter()
            .map(|b| b.units())
            .sum::<f64>()
            / n.max(1) as f64
    };
    for warm in [true, false] {
        let entries = twin_strategies(&twin, warm).unwrap();
        assert_eq!(entries.len(), 1 + ENGINE_STRATEGIES.len());
        for e in entries.iter().filter(|e| e.name != HISTORICAL) {
            assert_eq!(e.params.get("warm_start").is_some(), warm, "{}", e.name);
            for seed in 0..3 {
                let mut st = (e.factory)(&scenario, seed).unwrap();
                let c = st.start_day(0, scenario.date(0), None).unwrap();
                let b = &c.plan_budget;
                println!("{} warm={warm} seed {seed}: {b:?}", e.name);
                let sum: i64 = b.iter().map(|b| b.micros()).sum();
                assert!(sum <= total + 3, "{}: {sum} > {total}", e.name);
                if warm {
                    assert!(b[best] > historical[best], "{}: {b:?}", e.name);
                    assert!(b[worst] <= historical[worst], "{}: {b:?}", e.name);
                    assert!(b[best] > b[worst], "{}: {b:?}", e.name);
                    // A plan that left budget unspent is cut, unless the step limit holds
                    // every budget-limited plan (the better raised by the full step, the
                    // worse cut by it): then the total has nowhere else to go, and an
                    // unspent budget costs nothing (its plan cannot spend it), where
                    // raising the worse plan would lose money.
                    let step = adbandit::engine::EngineConfig::default().max_budget_step;
                    let at =
                        |i: usize, r: f64| (b[i].units() - historical[i].units() * r).abs() <= 0.02;
                    let steps_bind = at(best, 1.0 + step) && at(worst, 1.0 - step);
                    for &i in &unspent {
                        if roi[i] > roi[best] {
                            let (now, before) =
                                (mean_bid(&c.keyword_bid, i), mean_bid(&historical_bids, i));
                            assert!(now > before, "{}: bids {now} vs {before}", e.name);
                        } else if steps_bind {
                            assert!(b[i] <= historical[i], "{}: {b:?}", e.name);
                        } else {
                            assert!(b[i] < historical[i], "{}: {b:?}", e.name);
                        }
                        assert!(b[i].units() >= spend[i], "{}: {b:?}", e.name);
                    }
                } else {
                    let step = adbandit::engine::EngineConfig::default().max_budget_step;
                    for (x, h) in b.iter().zip(&historical) {
                        let r = x.units() / h.units();
                        let ok = (1.0 - step - 1e-6..=1.0 + step + 1e-6).contains(&r);
                        assert!(ok, "{}: {b:?}", e.name);
                    }
                }
            }
        }
    }

    // The whole comparison, warm (the default) and cold: zero overspend, labelled.
    let opts = TwinCompareOptions {
        days: 7,
        seeds: 4,
        run: RunOptions {
            threads: 2,
            ..RunOptions::default()
        },
        ..TwinCompareOptions::default()
    };
    assert!(opts.warm_start);
    let warm = compare_on_twin(&twin, &opts).unwrap();
    let cold = compare_on_twin(
        &twin,
        &TwinCompareOptions {
            warm_start: false,
            ..opts
        },
    )
    .unwrap();
    println!("{}\n{}", warm.table(), cold.table());
    assert!(warm.label.contains("WARM start"), "{}", warm.label);
    assert!(cold.label.contains("COLD start"), "{}", cold.label);
    for got in [&warm, &cold] {
        assert_eq!(got.results().len(), 4 * 5);
        for r in got.results() {
            assert_eq!(r.daily.len(), 7);
            assert_eq!(
                r.metrics.overspend,
                adbandit::Money::ZERO,
                "{}",
                r.job.strategy
            );
            assert!(r.daily.iter().all(|d| d.overspend == adbandit::Money::ZERO));
        }
    }
    // Historical is the same runs either way; the engines' runs differ.
    let rev = |c: &adbandit::twin::TwinComparison, n: &str| {
        c.summary()
            .get(&c.summary().rows[0].scenario, n)
            .unwrap()
            .revenue
            .mean
    };
    assert_eq!(
        rev(&warm, HISTORICAL).to_bits(),
        rev(&cold, HISTORICAL).to_bits()
    );
    assert_ne!(
        rev(&warm, "thompson").to_bits(),
        rev(&cold, "thompson").to_bits()
    );
}

/// A campaign-level report (no keywords) calibrates: each plan is one plan-level keyword,
/// and the check covers every campaign.
#[test]
fn a_campaign_report_calibrates_a_plan_level_twin() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reports/amazon_sp_campaign_week.csv");
    let got = adbandit::ingest::read_path(path, &Default::default()).unwrap();
    assert!(got.keywords.is_empty());
    let twin = adbandit::twin::calibrate_ingested(&got, &TwinOptions::default()).unwrap();
    let plans = twin.scenario.account().plans();
    assert_eq!(plans.len(), 3);
    assert!(
        plans
            .iter()
            .all(|p| p.keywords.len() == 1 && p.keywords[0].id.as_str().ends_with("|plan-level"))
    );
    // The replay covers every campaign: one plan line per plan and metric, and the account
    // line's report figure is the whole report's.
    for p in plans {
        assert!(
            twin.check
                .lines
                .iter()
                .any(|l| l.scope == format!("plan {}", p.id))
        );
    }
    let acc = &twin.check.lines[0];
    assert_eq!(
        (acc.scope.as_str(), acc.metric.as_str()),
        ("account", "impressions")
    );
    assert!((acc.report - (18_220.0 + 40_115.0 + 2_104.0)).abs() < 1e-9);
    assert!(twin.check.passed(), "{}", twin.check.table());
    // Seven days of a week's row, per day.
    assert_eq!(twin.check.days, 7);
    // A search-term report's auto-targeting rows (plan level) are in the twin's check too.
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ingest/amazon_sp_search_terms.csv");
    let got = adbandit::ingest::read_path(path, &Default::default()).unwrap();
    let twin = adbandit::twin::calibrate_ingested(&got, &TwinOptions::default()).unwrap();
    let cost: f64 = got
        .report
        .rows()
        .iter()
        .map(|r| r.stats.cost().units())
        .sum();
    let acc = twin
        .check
        .lines
        .iter()
        .find(|l| l.scope == "account" && l.metric == "cost")
        .unwrap();
    assert!((acc.report - cost).abs() < 1e-9, "{} vs {cost}", acc.report);
    assert!(twin.check.lines.iter().any(|l| l.scope == "plan SP Auto"));
}

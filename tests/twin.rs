//! The twin, calibrated on a report the simulator itself produced from a known scenario.

use adbandit::analysis::{AnalysisOptions, analyze_report};
use adbandit::sim::{Controls, Fidelity, Granularity, Market, Scenario, outcomes_to_report};
use adbandit::twin::{TwinOptions, calibrate};
use adbandit::{Error, Report};

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
        covered += usize::from(p.aov.contains(rev / conv));
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

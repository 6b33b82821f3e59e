//! Effect analysis on ingested reports: intervals, rankings, outputs, errors.

use std::path::PathBuf;

use adbandit::analysis::{Analysis, AnalysisOptions, CSV_COLUMNS, Level, analyze, prepare};
use adbandit::ingest::{self, Mode, Options};
use adbandit::{Date, Error, Money, Objective};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ingest")
        .join(name)
}

/// Canonical text: plan A with a big keyword and a 3-click keyword, plan B weaker, over 7 days.
fn canonical() -> String {
    let mut s = String::from(
        "date,hour,plan_id,plan_name,keyword_id,keyword,match_type,impressions,clicks,conversions,view_through_conversions,cost,revenue\n",
    );
    for d in 1..=7 {
        let date = format!("2026-03-{d:02}");
        s.push_str(&format!(
            "{date},,A,Dresses,a1,red dress,exact,4000,200,10,0,100.00,1200.00\n"
        ));
        s.push_str(&format!(
            "{date},,A,Dresses,a2,silk dress,phrase,3000,120,5,0,60.00,500.00\n"
        ));
        if d == 3 {
            s.push_str(&format!(
                "{date},,A,Dresses,a3,velvet gown,exact,90,3,0,0,1.50,0\n"
            ));
        }
        s.push_str(&format!(
            "{date},,B,Shoes,b1,running shoes,exact,5000,100,2,0,80.00,120.00\n"
        ));
        s.push_str(&format!(
            "{date},,B,Shoes,b2,trail shoes,broad,2000,60,2,0,40.00,150.00\n"
        ));
    }
    s
}

fn analysed() -> Analysis {
    let got = ingest::read_bytes(canonical().as_bytes(), "shop.csv", &Options::default()).unwrap();
    analyze(&got, &AnalysisOptions::default()).unwrap()
}

fn check_intervals(a: &Analysis) {
    for r in a.rows() {
        for (what, e) in [
            ("ctr", Some(r.ctr)),
            ("cvr", r.cvr),
            ("aov", r.aov),
            ("cpc", Some(r.cpc)),
            ("cpa", r.cpa),
            ("roi", r.roi),
        ] {
            let Some(e) = e else { continue };
            assert!(
                e.lo.is_finite() && e.hi.is_finite() && e.contains(e.value),
                "{} {what}: {e:?}",
                r.name
            );
            assert!(e.lo >= 0.0, "{} {what}: {e:?}", r.name);
        }
        assert!(r.ctr.hi <= 1.0 && r.cvr.is_none_or(|c| c.hi <= 1.0));
    }
}

#[test]
fn intervals_contain_estimates_and_few_clicks_means_wide() {
    let a = analysed();
    check_intervals(&a);
    assert_eq!(a.plans.len(), 2);
    assert_eq!(a.keywords.len(), 5);
    let kw = |id: &str| {
        a.keywords
            .iter()
            .find(|r| r.keyword.as_ref().is_some_and(|k| k.as_str() == id))
            .unwrap()
    };
    let (big, small) = (kw("a1"), kw("a3"));
    assert_eq!((small.clicks, small.conversions), (3, 0));
    // 0 of 3 clicks converted: not a 0% CVR, but its plan's level with a wide interval.
    assert!(small.cvr.unwrap().value > 0.01, "{:?}", small.cvr);
    assert!(small.cvr.unwrap().lo < small.cvr.unwrap().value && small.cvr.unwrap().hi > 0.03);
    assert!(
        small.cvr.unwrap().width() > 1.5 * big.cvr.unwrap().width(),
        "{:?} vs {:?}",
        small.cvr,
        big.cvr
    );
    assert!(
        small.roi.unwrap().width() > 1.5 * big.roi.unwrap().width(),
        "{:?} {:?}",
        small.roi,
        big.roi
    );
    // The big keyword's estimates sit near its observed rates.
    assert!(
        (big.cvr.unwrap().value - 0.05).abs() < 0.01,
        "{:?}",
        big.cvr
    );
    assert!(
        big.roi.unwrap().contains(big.observed.roi.unwrap()),
        "{:?}",
        big.roi
    );
    assert!((big.cpc.value - 0.5).abs() < 0.05);
    // Totals are the report's.
    assert_eq!(a.account.clicks, 7 * (200 + 120 + 100 + 60) + 3);
    assert!((a.account.cost - (7.0 * 280.0 + 1.5)).abs() < 1e-6);
    // Observed plan A ROI ~ 7.4 vs B ~ 2.3: A ranks first.
    assert_eq!(a.plans[a.plan_ranking[0]].plan.as_str(), "A");
    assert_eq!(a.plans[0].rank, 1);
}

#[test]
fn rankings_are_ordered() {
    let a = analysed();
    for (rows, ranking) in [
        (&a.plans, &a.plan_ranking),
        (&a.keywords, &a.keyword_ranking),
    ] {
        let mut seen = ranking.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..rows.len()).collect::<Vec<_>>());
        for w in ranking.windows(2) {
            assert!(rows[w[0]].roi.unwrap().value >= rows[w[1]].roi.unwrap().value);
        }
        for (pos, &i) in ranking.iter().enumerate() {
            assert_eq!(rows[i].rank, pos + 1);
        }
    }
}

#[test]
fn engine_recommendation_for_the_next_day() {
    let a = analysed();
    let d = a.recommendation.as_ref().expect("recommendation");
    assert_eq!(d.date.to_string(), "2026-03-08");
    assert_eq!(d.budgets.len(), 2);
    assert!(d.budget_sum() <= d.total_budget);
    // No budget column: each plan's highest daily spend is assumed, and said so.
    assert!(
        a.notes.iter().any(|n| n.contains("no budget")),
        "{:?}",
        a.notes
    );
    assert!(
        a.notes.iter().any(|n| n.contains("no bid")),
        "{:?}",
        a.notes
    );
    let b_a = d.budgets.iter().find(|b| b.plan.as_str() == "A").unwrap();
    let b_b = d.budgets.iter().find(|b| b.plan.as_str() == "B").unwrap();
    assert!(b_a.to > b_b.to, "{b_a:?} {b_b:?}");
    assert!(!b_a.reason.message().is_empty());
    let t = a.table(3);
    assert!(t.contains("Engine recommendation for 2026-03-08"), "{t}");
    assert!(t.contains("velvet gown") && t.contains("Dresses"));
}

#[test]
fn csv_json_svg_parse_back() {
    let a = analysed();
    let mut buf = Vec::new();
    a.write_csv(&mut buf).unwrap();
    let text = String::from_utf8(buf).unwrap();
    let (first, body) = text.split_once('\n').unwrap();
    assert!(
        first.starts_with("# Objective: maximise revenue"),
        "{first}"
    );
    let mut rd = csv::Reader::from_reader(body.as_bytes());
    assert_eq!(
        rd.headers().unwrap().iter().collect::<Vec<_>>(),
        CSV_COLUMNS
    );
    let recs: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), 1 + 2 + 5);
    for (rec, row) in recs.iter().zip(a.rows()) {
        let roi: f64 = rec[24].parse().unwrap();
        let (lo, hi): (f64, f64) = (rec[25].parse().unwrap(), rec[26].parse().unwrap());
        assert!((roi - row.roi.unwrap().value).abs() <= 1e-12 * roi.abs().max(1.0));
        assert!(lo <= roi && roi <= hi);
        assert_eq!(rec[5].parse::<u64>().unwrap(), row.clicks);
    }
    let json = a.to_json().unwrap();
    let back: Analysis = serde_json::from_str(&json).unwrap();
    assert_eq!(back.keywords.len(), a.keywords.len());
    assert_eq!(back.plan_ranking, a.plan_ranking);
    assert_eq!(back.recommendation, a.recommendation);
    for level in [Level::Plan, Level::Keyword] {
        let svg = a.svg(level);
        assert_well_formed(&svg);
        let n = if level == Level::Plan { 2 } else { 5 };
        assert_eq!(svg.matches("<circle").count(), n, "{svg}");
        assert_eq!(svg.matches("stroke=\"#4488CC\"").count(), n);
        assert!(!svg.contains("NaN"));
    }
}

/// Tags balance and attributes are quoted: a minimal XML well-formedness check.
fn assert_well_formed(svg: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find('<') {
        let j = rest[i..].find('>').expect("unclosed tag") + i;
        let tag = &rest[i + 1..j];
        assert!(!tag.contains('<'), "{tag}");
        assert_eq!(tag.matches('"').count() % 2, 0, "{tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "mismatched </{name}>"
            );
        } else if !tag.ends_with('/') {
            stack.push(tag.split_whitespace().next().unwrap().to_owned());
        }
        let text = &rest[j + 1..];
        let next = text.find('<').unwrap_or(text.len());
        assert!(
            !text[..next].contains('>') && !text[..next].contains("& "),
            "{}",
            &text[..next]
        );
        rest = text;
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
}

#[test]
fn fixtures_in_every_layout_analyse() {
    for (name, opts) in [
        ("google_keyword_utf16.csv", Options::default()),
        ("google_search_terms.csv", Options::default()),
        ("amazon_sp_search_terms.csv", Options::default()),
        ("taobao_keyword_gbk.csv", Options::default()),
        ("canonical.csv", Options::default()),
        (
            "google_campaign.csv",
            Options {
                mode: adbandit::ingest::Mode::Lenient,
                ..Options::default()
            },
        ),
    ] {
        let got = ingest::read_path(fixture(name), &opts).unwrap();
        let a =
            analyze(&got, &AnalysisOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_intervals(&a);
        assert!(!a.plans.is_empty(), "{name}");
        assert!(a.recommendation.is_some(), "{name}");
        assert_well_formed(&a.svg(Level::Keyword));
        let p = prepare(&got).unwrap();
        assert_eq!(p.account.plans().len(), a.plans.len());
    }
    // Amazon auto-targeting rows (`*`) are not keywords of the account: counted at plan level.
    let got =
        ingest::read_path(fixture("amazon_sp_search_terms.csv"), &Options::default()).unwrap();
    let a = analyze(&got, &AnalysisOptions::default()).unwrap();
    let kw_clicks: u64 = a.keywords.iter().map(|k| k.clicks).sum();
    assert!(a.account.clicks >= kw_clicks);
}

#[test]
fn bad_input_gives_typed_errors() {
    let bad = "date,hour,plan_id,plan_name,keyword_id,keyword,match_type,impressions,clicks,conversions,view_through_conversions,cost,revenue\n2026-03-01,,A,A,a1,x,exact,10,20,0,0,1,0\n";
    assert!(matches!(
        ingest::read_bytes(bad.as_bytes(), "bad.csv", &Options::default()),
        Err(Error::Parse { .. })
    ));
    // Lenient: the bad row is skipped, which leaves nothing to analyse.
    let got = ingest::read_bytes(
        bad.as_bytes(),
        "bad.csv",
        &Options {
            mode: Mode::Lenient,
            ..Options::default()
        },
    )
    .unwrap();
    assert!(matches!(
        analyze(&got, &AnalysisOptions::default()),
        Err(Error::InvalidValue { .. })
    ));
    let got = ingest::read_bytes(canonical().as_bytes(), "shop.csv", &Options::default()).unwrap();
    for opts in [
        AnalysisOptions {
            level: 1.0,
            ..AnalysisOptions::default()
        },
        AnalysisOptions {
            level: f64::NAN,
            ..AnalysisOptions::default()
        },
        AnalysisOptions {
            draws: 10,
            ..AnalysisOptions::default()
        },
    ] {
        assert!(matches!(
            analyze(&got, &opts),
            Err(Error::InvalidParameter { .. })
        ));
    }
    assert!(matches!(
        ingest::read_path("/nonexistent/report.csv", &Options::default()),
        Err(Error::Io { .. })
    ));
}

#[test]
fn same_seed_same_analysis() {
    let a = analysed();
    let b = analysed();
    assert_eq!(a, b);
    let got = ingest::read_bytes(canonical().as_bytes(), "shop.csv", &Options::default()).unwrap();
    let c = analyze(
        &got,
        &AnalysisOptions {
            seed: 7,
            ..AnalysisOptions::default()
        },
    )
    .unwrap();
    assert_ne!(a.keywords[0].roi, c.keywords[0].roi);
    // Closed-form intervals do not depend on the seed.
    assert_eq!(a.keywords[0].ctr, c.keywords[0].ctr);
}

fn report_fixture(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reports")
        .join(name)
}

#[test]
fn an_account_without_revenue_works_on_conversions() {
    let got = ingest::read_path(
        report_fixture("google_keywords_week_no_day_no_revenue.csv"),
        &Options::default(),
    )
    .unwrap();
    let a = analyze(&got, &AnalysisOptions::default()).unwrap();
    assert_eq!(a.objective, Objective::MaxConversions);
    let table = a.table(10);
    assert!(
        table
            .lines()
            .next()
            .unwrap()
            .starts_with("Objective: maximise conversions; ranked by CPA"),
        "{table}"
    );
    // No ROI anywhere, ranked by CPA (lowest first).
    assert!(
        a.rows()
            .all(|r| r.roi.is_none() && r.aov.is_none() && r.cpa.is_some())
    );
    for w in a.keyword_ranking.windows(2) {
        assert!(a.keywords[w[0]].cpa.unwrap().value <= a.keywords[w[1]].cpa.unwrap().value);
    }
    // The keyword with 24 of the 55 conversions is not paused, and no reason states a
    // rate above 100%.
    let d = a.recommendation.as_ref().unwrap();
    assert!(d.pauses.is_empty(), "{:?}", d.pauses);
    // A week's row: the recommendation is for the day after the week, budgets per day.
    assert_eq!(d.date, Date::from_ymd(2024, 2, 8).unwrap());
    let p = prepare(&got).unwrap();
    let solar = p
        .account
        .plan(&adbandit::PlanId::new("Solar Leads"))
        .unwrap();
    // Highest daily spend: 2,363.70 over 7 days = 337.67.., rounded up to a cent.
    assert_eq!(solar.daily_budget, Money::from_micros(337_680_000));
    // No currency in the file: said, not assumed.
    assert_eq!(a.currency, "XXX");
    assert!(table.contains("currency not stated"));
    // CSV: the objective line first, money in cents, no ROI.
    let mut buf = Vec::new();
    a.write_csv(&mut buf).unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert!(text.starts_with("# Objective: maximise conversions"));
    assert!(text.contains(",2603.70,"), "{text}");
    // JSON carries the objective; an SVG title too.
    assert!(
        a.to_json()
            .unwrap()
            .contains("\"objective_note\": \"Objective: maximise conversions")
    );
    assert!(a.svg(Level::Plan).contains("CPA (cost / conversion)"));
    // Asking for a revenue objective on a file without revenue is an error, not ROI 0.
    let err = analyze(
        &got,
        &AnalysisOptions {
            objective: Some(Objective::TargetRoi { roi: 3.0 }),
            ..AnalysisOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(err, adbandit::Error::InvalidParameter { .. }),
        "{err}"
    );
}

#[test]
fn target_cpa_pauses_in_cpa_terms_and_holds_raises_that_miss() {
    let got = ingest::read_path(
        report_fixture("google_keywords_week_no_day_no_revenue.csv"),
        &Options::default(),
    )
    .unwrap();
    let a = analyze(
        &got,
        &AnalysisOptions {
            objective: Some(Objective::TargetCpa {
                cpa: Money::from_units(40).unwrap(),
            }),
            currency: Some("usd".into()),
            ..AnalysisOptions::default()
        },
    )
    .unwrap();
    assert_eq!(a.currency, "USD");
    assert!(a.objective_note.contains("target CPA 40"));
    let d = a.recommendation.as_ref().unwrap();
    for p in &d.pauses {
        let m = p.reason.message();
        assert!(
            m.contains("CPA") && m.contains("target CPA 40.00") && !m.contains("conversion rate"),
            "{m}"
        );
    }
    // No bid raised on a keyword that misses the target with >= 95% probability.
    for b in &d.bids {
        let r = a
            .keywords
            .iter()
            .find(|r| r.keyword.as_ref() == Some(&b.keyword))
            .unwrap();
        if r.p_miss_target.unwrap() >= 0.95 {
            assert!(b.to <= b.from, "{} raised: {}", r.name, b.reason.message());
        }
    }
    // "battery storage" (0 of 61 clicks converted) misses a CPA of 40 almost surely.
    let battery = a
        .keywords
        .iter()
        .find(|r| r.name == "battery storage")
        .unwrap();
    assert!(battery.p_miss_target.unwrap() > 0.95, "{battery:?}");
    // Budgets and bids in whole cents.
    assert!(d.budgets.iter().all(|b| b.to.micros() % 10_000 == 0));
    assert!(d.bids.iter().all(|b| b.to.micros() % 10_000 == 0));
}

#[test]
fn no_conversions_means_clicks() {
    let got = ingest::read_path(
        report_fixture("facebook_leads_renamed.csv"),
        &Options::default(),
    )
    .unwrap();
    let a = analyze(&got, &AnalysisOptions::default()).unwrap();
    assert_eq!(a.objective, Objective::MaxClicks);
    assert!(a.objective_note.contains("neither conversions nor revenue"));
    assert!(
        a.rows()
            .all(|r| r.cvr.is_none() && r.roi.is_none() && r.cpa.is_none())
    );
    assert!(a.table(5).contains("best CPC first"));
}

#[test]
fn channels_are_pooled_and_the_better_one_earns_more_at_the_margin() {
    use adbandit::analysis::analyze_report;
    use adbandit::{Account, Keyword, MatchType, Plan, Report, ReportRow, Stats};
    let y = |x: f64| Money::from_units_f64(x).unwrap();
    let plan = |id: &str, channel: &str| {
        Plan::new(id, id, y(200.0), y(0.1), y(5.0))
            .with_channel(channel)
            .with_keyword(Keyword::new(
                format!("{id}1"),
                format!("{id} word"),
                MatchType::Exact,
                y(1.0),
            ))
    };
    let account = Account::new(
        "shop",
        "CNY",
        vec![
            plan("A", "search"),
            plan("B", "search"),
            plan("C", "display"),
        ],
    )
    .unwrap();
    // Search returns 4x its cost, display 1.2x, at the same daily spend.
    let mut rows = Vec::new();
    for d in 0..14 {
        let date = Date::from_ymd(2026, 3, 1).unwrap().add_days(d);
        for (p, conv, rev) in [("A", 20, 800.0), ("B", 15, 600.0), ("C", 6, 240.0)] {
            rows.push(ReportRow {
                date,
                hour: None,
                days: 1,
                plan: adbandit::PlanId::new(p),
                keyword: Some(adbandit::KeywordId::new(format!("{p}1"))),
                stats: Stats::new(8000, 200, conv, y(200.0), y(rev)).unwrap(),
            });
        }
    }
    let report = Report::new(rows).unwrap();
    let a = analyze_report(&account, &report, &AnalysisOptions::default()).unwrap();
    assert_eq!(a.channels.len(), 2);
    let (search, display) = (&a.channels[0], &a.channels[1]);
    assert_eq!(search.row.name, "search");
    assert_eq!(search.channel_plans.len(), 2);
    assert_eq!(search.row.level, Level::Channel);
    // The channels add up to the account.
    let cost: f64 = a.channels.iter().map(|c| c.row.cost).sum();
    assert!((cost - a.account.cost).abs() < 1e-6);
    assert_eq!(
        a.channels.iter().map(|c| c.row.conversions).sum::<u64>(),
        a.account.conversions
    );
    let share: f64 = a.channels.iter().map(|c| c.share_of_cost).sum();
    assert!((share - 1.0).abs() < 1e-9);
    assert!((search.share_of_cost - 2.0 / 3.0).abs() < 1e-9);
    // ROI with honest intervals, search ranked first.
    let (rs, rd) = (search.row.roi.unwrap(), display.row.roi.unwrap());
    assert!(rs.contains(3.5) && rd.contains(1.2), "{rs:?} {rd:?}");
    assert!(rs.lo > rd.hi);
    assert_eq!(search.row.rank, 1);
    // The next unit of budget earns more in search, with its uncertainty.
    let (ms, md) = (
        search.marginal_value.unwrap(),
        display.marginal_value.unwrap(),
    );
    assert!(ms.lo <= ms.value && ms.value <= ms.hi && ms.lo > 0.0);
    assert!(ms.value > md.value * 1.5, "{ms:?} {md:?}");
    let t = a.table(5);
    assert!(t.contains("Channels, best ROI first"), "{t}");
    assert!(t.contains("next unit"));
    let back: Analysis = serde_json::from_str(&a.to_json().unwrap()).unwrap();
    assert_eq!(back.channels, a.channels);
}

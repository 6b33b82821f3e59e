//! A creative test against a fixed 50/50 split, on the same simulated traffic: the adaptive
//! rotation spends fewer impressions on the loser and picks the true best at least as often.

use adbandit::Money;
use adbandit::creative::{CreativeEvidence, CreativeTest, CreativeTestConfig};
use adbandit::model::{CreativeId, Stats};
use adbandit::rng::stream;
use rand::RngExt;
use rand_distr::Binomial;

struct Outcome {
    loser_impressions: u64,
    picked_best: bool,
}

/// Runs one test for up to `days` days of `per_day` impressions; `adaptive` serves the
/// rotation's weights, otherwise an even split. Both stop at the same verdict rule.
fn run(seed: u64, ctr: [f64; 2], adaptive: bool) -> Outcome {
    let test = CreativeTest::new(CreativeTestConfig {
        draws: 2_000,
        ..CreativeTestConfig::default()
    })
    .unwrap();
    let ids = [CreativeId::new("a"), CreativeId::new("b")];
    let best = if ctr[1] > ctr[0] { 1 } else { 0 };
    let (mut imp, mut clk) = ([0u64; 2], [0u64; 2]);
    let mut traffic = stream(seed, &[1]);
    let mut draws = stream(seed, &[2]);
    let mut weights = [0.5, 0.5];
    let per_day = 4_000u64;
    for _day in 0..40 {
        let n0 = if adaptive {
            (per_day as f64 * weights[0]).round() as u64
        } else {
            per_day / 2
        };
        for (i, n) in [n0, per_day - n0].into_iter().enumerate() {
            let c = traffic.sample(Binomial::new(n, ctr[i]).unwrap());
            imp[i] += n;
            clk[i] += c;
        }
        let evidence: Vec<CreativeEvidence> = (0..2)
            .map(|i| CreativeEvidence {
                creative: ids[i].clone(),
                stats: Stats::new(imp[i], clk[i], 0, Money::ZERO, Money::ZERO).unwrap(),
            })
            .collect();
        let r = test.evaluate(&evidence, &mut draws).unwrap();
        if let Some(w) = r.verdict.winner() {
            return Outcome {
                loser_impressions: imp[1 - best],
                picked_best: *w == ids[best],
            };
        }
        weights = [r.arms[0].weight, r.arms[1].weight];
    }
    // No verdict within the horizon: the leader by posterior mean is what would be kept.
    let leader = if clk[1] * imp[0] > clk[0] * imp[1] {
        1
    } else {
        0
    };
    Outcome {
        loser_impressions: imp[1 - best],
        picked_best: leader == best,
    }
}

#[test]
fn adaptive_rotation_spends_less_on_the_loser_and_picks_as_well_as_an_even_split() {
    let seeds = 150u64;
    let mut totals = [(0u64, 0u32); 2];
    for seed in 0..seeds {
        // Creative b is 25% better (CTR 2.0% vs 2.5%); the order alternates across seeds.
        let ctr = if seed % 2 == 0 {
            [0.020, 0.025]
        } else {
            [0.025, 0.020]
        };
        for (k, adaptive) in [false, true].into_iter().enumerate() {
            let o = run(seed, ctr, adaptive);
            totals[k].0 += o.loser_impressions;
            totals[k].1 += u32::from(o.picked_best);
        }
    }
    let [(fixed_loss, fixed_right), (adaptive_loss, adaptive_right)] = totals;
    let mean = |x: u64| x as f64 / seeds as f64;
    println!(
        "loser impressions per test: fixed {:.0}, adaptive {:.0}; right picks: fixed {fixed_right}, adaptive {adaptive_right} of {seeds}",
        mean(fixed_loss),
        mean(adaptive_loss)
    );
    assert!(
        (adaptive_loss as f64) < 0.85 * fixed_loss as f64,
        "adaptive {adaptive_loss} vs fixed {fixed_loss}"
    );
    // Same or better chance of the right pick (a few tests of 150 either way is noise).
    assert!(
        adaptive_right + 5 >= fixed_right,
        "{adaptive_right} vs {fixed_right}"
    );
    assert!(
        f64::from(adaptive_right) >= 0.9 * seeds as f64,
        "{adaptive_right}"
    );
}

// ---- The creative test inside the engine ------------------------------------------------

mod engine {
    use adbandit::engine::{Decision, Engine, EngineConfig, EngineSnapshot, ReasonCode};
    use adbandit::model::{Creative, CreativeId, CreativeRow};
    use adbandit::rng::stream;
    use adbandit::{
        Account, Date, Error, Keyword, KeywordId, MatchType, Money, Plan, PlanId, Report,
        ReportRow, Stats, Status,
    };
    use rand::RngExt;
    use rand_distr::Binomial;

    fn y(x: f64) -> Money {
        Money::from_units_f64(x).unwrap()
    }

    fn day0() -> Date {
        Date::from_ymd(2026, 10, 1).unwrap()
    }

    /// Plan `a` rotates two main images; plan `b` has no creatives.
    fn account() -> Account {
        let a = Plan::new("a", "Dresses", y(300.0), y(0.1), y(5.0))
            .with_keyword(Keyword::new("a1", "red dress", MatchType::Exact, y(1.0)))
            .with_creative(Creative::new("img1", "main image 1"))
            .with_creative(Creative::new("img2", "main image 2").with_asset("img2.jpg"));
        let b = Plan::new("b", "Shoes", y(300.0), y(0.1), y(5.0)).with_keyword(Keyword::new(
            "b1",
            "red shoes",
            MatchType::Exact,
            y(1.0),
        ));
        Account::new("Shop", "CNY", vec![a, b]).unwrap()
    }

    fn creative_row(date: Date, creative: &str, imp: u64, clicks: u64) -> CreativeRow {
        CreativeRow {
            date,
            plan: PlanId::new("a"),
            creative: CreativeId::new(creative),
            stats: Stats::new(imp, clicks, clicks / 20, y(clicks as f64 * 0.8), y(0.0)).unwrap(),
        }
    }

    /// One day's report: keyword rows for both plans and ad rows for plan a, its 4,000
    /// impressions split by `weights` (img1 CTR 2%, img2 CTR 2.6%).
    fn day_report(date: Date, weights: [f64; 2], seed: u64) -> Report {
        let mut rng = stream(seed, &[u64::from(date.days() as u32)]);
        let n0 = (4_000.0 * weights[0]).round() as u64;
        let mut rows = Vec::new();
        let mut total = 0;
        for (id, n, ctr) in [("img1", n0, 0.02), ("img2", 4_000 - n0, 0.026)] {
            let c = rng.sample(Binomial::new(n, ctr).unwrap());
            total += c;
            rows.push(creative_row(date, id, n, c));
        }
        let kw = |plan: &str, kw: &str, clicks: u64| ReportRow {
            date,
            hour: None,
            days: 1,
            plan: PlanId::new(plan),
            keyword: Some(KeywordId::new(kw)),
            stats: Stats::new(
                4_000,
                clicks,
                clicks / 20,
                y(clicks as f64 * 0.8),
                y(clicks as f64 * 2.0),
            )
            .unwrap(),
        };
        Report::new(vec![kw("a", "a1", total), kw("b", "b1", 200)])
            .unwrap()
            .with_creatives(rows)
            .unwrap()
    }

    fn weights_of(d: &Decision) -> [f64; 2] {
        let t = d.creatives_of(&PlanId::new("a")).unwrap();
        [
            t.weight_of(&CreativeId::new("img1")),
            t.weight_of(&CreativeId::new("img2")),
        ]
    }

    fn serves_only_b(d: &Decision) -> bool {
        let w = weights_of(d);
        w[0].abs() < 1e-12 && (w[1] - 1.0).abs() < 1e-12
    }

    /// Runs `days` days serving the engine's rotation; returns the decisions.
    fn run(e: &mut Engine, days: i32, seed: u64) -> Vec<Decision> {
        let mut out = Vec::new();
        let mut w = [0.5, 0.5];
        for d in 0..days {
            let date = day0().add_days(d);
            e.observe(&day_report(date, w, seed)).unwrap();
            let dec = e.decide(date.add_days(1)).unwrap();
            if dec.creatives_of(&PlanId::new("a")).is_some() {
                w = weights_of(&dec);
            }
            out.push(dec);
        }
        out
    }

    #[test]
    fn the_engine_rotates_declares_the_winner_and_pauses_the_loser() {
        let mut e = Engine::new(account(), EngineConfig::default(), 11).unwrap();
        let ds = run(&mut e, 20, 5);
        // Only plan a has creatives.
        assert!(
            ds.iter().all(|d| d.creatives.len() == 1),
            "{:?}",
            ds[0].creatives
        );
        let first = &ds[0];
        let w = weights_of(first);
        assert!((w[0] + w[1] - 1.0).abs() < 1e-9, "{w:?}");
        let t = first.creatives_of(&PlanId::new("a")).unwrap();
        assert!(t.winner.is_none());
        assert_eq!(t.reason.code, ReasonCode::CreativeRotation);
        assert!(
            t.reason.message().contains("No winner yet"),
            "{}",
            t.reason.message()
        );
        // The better image takes more of the traffic before the test is decided.
        assert!(w[1] > w[0], "{w:?}");
        let won = ds
            .iter()
            .position(|d| !d.creative_pauses.is_empty())
            .expect("a winner within 20 days of 4,000 impressions");
        let d = &ds[won];
        assert_eq!(d.creative_pauses.len(), 1);
        let p = &d.creative_pauses[0];
        assert_eq!(p.creative.as_str(), "img1");
        assert_eq!(p.reason.code, ReasonCode::PauseCreativeLost);
        let t = d.creatives_of(&PlanId::new("a")).unwrap();
        assert_eq!(t.winner.as_ref().map(CreativeId::as_str), Some("img2"));
        assert_eq!(t.reason.code, ReasonCode::CreativeWinner);
        assert!(serves_only_b(d), "{:?}", weights_of(d));
        // Applied: the loser is paused in the engine's account, and later decisions serve
        // the winner alone.
        let status = |id: &str| {
            e.account().plans()[0]
                .creatives
                .iter()
                .find(|c| c.id.as_str() == id)
                .unwrap()
                .status
        };
        assert_eq!(status("img1"), Status::Paused);
        assert_eq!(status("img2"), Status::Active);
        for later in &ds[won + 1..] {
            assert!(serves_only_b(later), "{:?}", weights_of(later));
            assert!(later.creative_pauses.is_empty());
        }
    }

    /// The verdict reaches the upload files: the loser as a creative status change in the
    /// change list, an ad row in Google Ads Editor's import, a product-ad row in Amazon's.
    #[test]
    fn the_losing_creative_is_paused_in_every_change_file() {
        use adbandit::apply::{
            Entity, Field, Value, changes, write_amazon_bulk, write_changes_csv,
            write_google_ads_editor,
        };
        let mut e = Engine::new(account(), EngineConfig::default(), 11).unwrap();
        let mut w = [0.5, 0.5];
        let mut found = None;
        for d in 0..20 {
            let date = day0().add_days(d);
            e.observe(&day_report(date, w, 5)).unwrap();
            let before = e.account().clone();
            let dec = e.decide(date.add_days(1)).unwrap();
            w = weights_of(&dec);
            if !dec.creative_pauses.is_empty() {
                found = Some((before, dec));
                break;
            }
        }
        let (before, dec) = found.expect("a winner within 20 days");
        let list = changes(&before, &dec).unwrap();
        let ads: Vec<_> = list
            .iter()
            .filter(|c| c.entity == Entity::Creative)
            .collect();
        assert_eq!(ads.len(), 1, "{list:?}");
        let c = ads[0];
        assert_eq!(c.creative.as_ref().map(CreativeId::as_str), Some("img1"));
        assert_eq!(c.creative_name.as_deref(), Some("main image 1"));
        assert_eq!(
            (c.field, c.from, c.to),
            (
                Field::Status,
                Value::Status(Status::Active),
                Value::Status(Status::Paused)
            )
        );
        assert_eq!(c.code, ReasonCode::PauseCreativeLost);
        // Creative changes come after the budgets, bids and keyword pauses.
        assert_eq!(list.last(), Some(c));

        let text = |f: &dyn Fn(&mut Vec<u8>) -> adbandit::Result<()>| {
            let mut out = Vec::new();
            f(&mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let csv = text(&|o| write_changes_csv(o, &list, "CNY", dec.date));
        let last = csv.lines().last().unwrap();
        assert!(
            csv.lines()
                .next()
                .unwrap()
                .ends_with(",code,reason,creative_id,creative")
        );
        assert!(
            last.contains(",creative,a,Dresses,")
                && last.contains(",status,enabled,paused,CNY,pause_creative_lost,"),
            "{last}"
        );
        assert!(last.ends_with(",img1,main image 1"), "{last}");
        let g = text(&|o| write_google_ads_editor(o, &list, "CNY"));
        assert_eq!(
            g.lines().next().unwrap(),
            "Campaign,Ad group,Keyword,Criterion Type,Max CPC,Budget,Status,Ad ID,Headline 1"
        );
        assert_eq!(
            g.lines().last().unwrap(),
            "Dresses,,,,,,Paused,img1,main image 1"
        );
        let a = text(&|o| write_amazon_bulk(o, &list, "CNY"));
        let row = a.lines().last().unwrap();
        assert!(
            row.starts_with("Sponsored Products,Product Ad,Update,"),
            "{row}"
        );
        assert!(row.ends_with(",paused,,,img1,main image 1"), "{row}");

        // A decision naming a creative the account does not have is refused, by name.
        let mut bad = dec.clone();
        bad.creative_pauses[0].creative = CreativeId::new("img9");
        let err = changes(&before, &bad).unwrap_err();
        assert!(
            matches!(
                err,
                Error::UnknownId {
                    kind: "creative",
                    ..
                }
            ),
            "{err}"
        );
        // ... and one under the wrong plan is an inconsistency.
        bad.creative_pauses[0].creative = CreativeId::new("img1");
        bad.creative_pauses[0].plan = PlanId::new("b");
        assert!(matches!(
            changes(&before, &bad).unwrap_err(),
            Error::Inconsistent { .. }
        ));
    }

    #[test]
    fn same_seed_same_rotation_and_a_snapshot_resumes_it() {
        let json = |ds: &[Decision]| serde_json::to_string(ds).unwrap();
        let mut a = Engine::new(account(), EngineConfig::default(), 3).unwrap();
        let mut b = Engine::new(account(), EngineConfig::default(), 3).unwrap();
        let da = run(&mut a, 4, 9);
        let db = run(&mut b, 2, 9);
        let snap = b.snapshot().to_json().unwrap();
        assert!(
            snap.contains("\"creatives\":{\"evidence\""),
            "creative evidence is saved"
        );
        let mut c: Engine = Engine::restore(EngineSnapshot::from_json(&snap).unwrap()).unwrap();
        // Continue from day 2 with the rotation the last decision set.
        let mut w = weights_of(&db[1]);
        let mut rest = db;
        for d in 2..4 {
            let date = day0().add_days(d);
            c.observe(&day_report(date, w, 9)).unwrap();
            let dec = c.decide(date.add_days(1)).unwrap();
            w = weights_of(&dec);
            rest.push(dec);
        }
        assert_eq!(json(&da), json(&rest));
    }

    #[test]
    fn a_snapshot_without_creative_evidence_loads_and_a_report_counts_once() {
        // Written before any ad-level row: no "creatives" in the state (as in every snapshot
        // written before creatives existed).
        let e = Engine::new(account(), EngineConfig::default(), 1).unwrap();
        let snap = e.snapshot().to_json().unwrap();
        assert!(!snap.contains("\"creatives\":{"), "{snap}");
        let mut restored: Engine =
            Engine::restore(EngineSnapshot::from_json(&snap).unwrap()).unwrap();
        let r = day_report(day0(), [0.5, 0.5], 1);
        restored.observe(&r).unwrap();
        let mut twice = Engine::new(account(), EngineConfig::default(), 1).unwrap();
        twice.observe(&r).unwrap();
        twice.observe(&r).unwrap();
        let a = restored.decide(day0().add_days(1)).unwrap();
        let b = twice.decide(day0().add_days(1)).unwrap();
        assert_eq!(a, b);
        // A report with the ad rows survives JSON.
        let back: Report = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.creatives().len(), 2);
    }

    #[test]
    fn bad_ad_rows_are_refused_and_leave_the_engine_unchanged() {
        let mut e = Engine::new(account(), EngineConfig::default(), 1).unwrap();
        let before = e.snapshot().to_json().unwrap();
        let unknown = Report::default()
            .with_creatives([creative_row(day0(), "nope", 10, 1)])
            .unwrap();
        assert!(matches!(
            e.observe(&unknown),
            Err(Error::UnknownId {
                kind: "creative",
                ..
            })
        ));
        let wrong_plan = Report::default()
            .with_creatives([CreativeRow {
                plan: PlanId::new("b"),
                ..creative_row(day0(), "img1", 10, 1)
            }])
            .unwrap();
        assert!(matches!(
            e.observe(&wrong_plan),
            Err(Error::Inconsistent { .. })
        ));
        // A good keyword row with a bad ad row: the whole report is refused.
        let mixed = day_report(day0(), [0.5, 0.5], 1)
            .with_creatives([creative_row(day0(), "nope", 10, 1)])
            .unwrap();
        assert!(e.observe(&mixed).is_err());
        assert_eq!(e.snapshot().to_json().unwrap(), before);
        // Duplicate ad rows of one day are summed (segments such as device).
        let r = Report::default()
            .with_creatives([
                creative_row(day0(), "img1", 10, 1),
                creative_row(day0(), "img1", 20, 2),
            ])
            .unwrap();
        assert_eq!(r.creatives().len(), 1);
        assert_eq!(r.creatives()[0].stats.impressions(), 30);
    }
}

//! Pins drawn values per seed: a change to the generator, the stream derivation or a sampler
//! changes every simulation result, so it must show up here as a failing test.

use adbandit::estimate::{BetaSampler, GammaSampler};
use adbandit::rng::{from_seed, stream, stream_seed};
use rand::RngExt;

#[test]
fn stream_seeds_are_pinned() {
    assert_eq!(stream_seed(0, &[]), PINNED_SEEDS[0]);
    assert_eq!(stream_seed(42, &[1, 2, 3]), PINNED_SEEDS[1]);
    assert_eq!(stream_seed(u64::MAX, &[0]), PINNED_SEEDS[2]);
}

#[test]
fn generator_output_is_pinned() {
    let mut r = stream(42, &[7]);
    let xs: [u64; 3] = [r.random(), r.random(), r.random()];
    assert_eq!(xs, PINNED_U64);
    let mut r = from_seed(1);
    assert_eq!(r.random::<u64>(), PINNED_FROM_SEED);
}

#[test]
fn samplers_are_pinned() {
    let mut r = stream(3, &[]);
    let g = GammaSampler::new(2.5);
    let b = BetaSampler::new(3.0, 7.0);
    let got = [
        g.sample(&mut r),
        g.sample(&mut r),
        b.sample(&mut r),
        b.sample(&mut r),
    ];
    for (x, want) in got.iter().zip(PINNED_DRAWS) {
        assert!((x - want).abs() < 1e-12, "{got:?}");
    }
}

const PINNED_SEEDS: [u64; 3] = [
    8406433272451270120,
    1113330480546764874,
    4518527529047716931,
];
const PINNED_U64: [u64; 3] = [
    9518446684741499749,
    18260106672427941898,
    15468470335233372542,
];
const PINNED_FROM_SEED: u64 = 14971601782005023387;
const PINNED_DRAWS: [f64; 4] = [
    2.4450344982445893,
    3.1993408699490122,
    0.18070870335766603,
    0.2654018208347504,
];

/// One simulated day of `small` (fast mode, seed 7, the account's own controls): any change to
/// the market's streams or model changes these totals.
#[test]
fn a_simulated_day_is_pinned() {
    use adbandit::sim::{Controls, Fidelity, Market, Scenario};
    let sc = Scenario::small();
    let mut m = Market::new(&sc, Fidelity::Fast, 7);
    let c = Controls::from_account(sc.account());
    let (mut imp, mut clk, mut cost) = (0u64, 0u64, 0i64);
    for h in 0..24 {
        let o = m.run_hour(0, h, &c).unwrap();
        for s in &o.keywords {
            imp += s.impressions();
            clk += s.clicks();
            cost += s.cost().micros();
        }
    }
    assert_eq!((imp, clk, cost), PINNED_SIM_DAY);
}

/// An engine's first decision on a fixed report (seed 11): budgets in micros.
#[test]
fn an_engine_decision_is_pinned() {
    use adbandit::engine::{Engine, EngineConfig};
    use adbandit::{
        Account, Date, Keyword, KeywordId, MatchType, Money, Plan, PlanId, Report, ReportRow, Stats,
    };
    let y = |x| Money::from_units(x).unwrap();
    let plans = (0..3)
        .map(|i| {
            Plan::new(format!("p{i}"), "P", y(100), y(0), y(5)).with_keyword(Keyword::new(
                format!("k{i}"),
                format!("w{i}"),
                MatchType::Exact,
                y(1),
            ))
        })
        .collect();
    let mut e = Engine::new(
        Account::new("s", "CNY", plans).unwrap(),
        EngineConfig::default(),
        11,
    )
    .unwrap();
    let d = Date::from_ymd(2026, 1, 1).unwrap();
    let rows = (0..3u64)
        .map(|i| ReportRow {
            date: d,
            hour: None,
            days: 1,
            plan: PlanId::new(format!("p{i}")),
            keyword: Some(KeywordId::new(format!("k{i}"))),
            stats: Stats::new(1000, 40 + 10 * i, 2 + i, y(40), y(100 + 50 * i as i64)).unwrap(),
        })
        .collect();
    e.observe(&Report::new(rows).unwrap()).unwrap();
    let dec = e.decide(d.add_days(1)).unwrap();
    let budgets: Vec<i64> = dec.budgets.iter().map(|b| b.to.micros()).collect();
    assert_eq!(budgets, PINNED_BUDGETS);
}

const PINNED_SIM_DAY: (u64, u64, i64) = (21_592, 258, 200_431_385);
// Re-pinned by issue 14 (branch `decisions`): `EngineConfig::default()` now holds plan draws
// for 7 days, runs the budget-use dual and allows 50% budget steps, so the first decision
// moves differently (before: [70_000_000, 103_102_167, 126_897_833], plan p0 held by the
// 30% step). Old configs and snapshots, which lack the new fields, decide as before (the v1
// fixture test in tests/engine.rs).
// Re-pinned by issue 18 (branch `speed`): a Beta posterior with both shapes >= 50 is now
// drawn from one normal through the Cornish–Fisher expansion instead of two gamma draws, so
// the plans' draws (strong fitted priors) are different numbers from the same seed (issue
// 14's pin: [69_304_009, 103_450_163, 127_245_828]).
// Re-pinned by issue 14 (stop 26): budgets now follow the bids (one account-wide multiplier
// on the keywords' posterior means, `budgets_from_bids`, `keyword_draw_cap` 1) with half
// of yesterday's split kept (`budget_smoothing` 0.5), so the plans are funded by what their
// keywords would spend, in the order of their value per click (issue 18's pin:
// [99_908_672, 106_736_391, 93_354_937]).
const PINNED_BUDGETS: [i64; 3] = [88_432_167, 100_767_255, 110_800_578];

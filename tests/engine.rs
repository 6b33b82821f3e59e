//! The engine: limits hold on random accounts, and decisions move the right way on
//! hand-made stats.

use adbandit::engine::{
    BudgetMode, CalendarEvent, ChannelLimits, Engine, EngineConfig, EngineSnapshot, PlanLimits,
    ReasonCode, RuleConfig,
};
use adbandit::policy::{BuiltinPolicy, Policy, PosteriorView, Reward, ScoreKind};
use adbandit::rng::SimRng;
use adbandit::{
    Account, Date, Error, Keyword, KeywordId, MatchType, Money, Objective, Plan, PlanId, Report,
    ReportRow, Stats, Status,
};
use proptest::prelude::*;

fn y(x: f64) -> Money {
    Money::from_units_f64(x).unwrap()
}

fn day0() -> Date {
    Date::from_ymd(2026, 10, 1).unwrap()
}

#[allow(clippy::too_many_arguments)]
fn row(
    date: Date,
    plan: &str,
    kw: &str,
    imp: u64,
    clicks: u64,
    conv: u64,
    cost: f64,
    rev: f64,
) -> ReportRow {
    ReportRow {
        date,
        hour: None,
        days: 1,
        plan: PlanId::new(plan),
        keyword: Some(KeywordId::new(kw)),
        stats: Stats::new(imp, clicks, conv, y(cost), y(rev)).unwrap(),
    }
}

/// Two plans of two keywords each, equal budgets.
fn two_plans(objective: Objective) -> Account {
    let plan = |id: &str| {
        Plan::new(id, format!("Plan {id}"), y(100.0), y(0.1), y(5.0))
            .with_objective(objective)
            .with_keyword(Keyword::new(
                format!("{id}1"),
                format!("{id} red dress"),
                MatchType::Exact,
                y(1.0),
            ))
            .with_keyword(Keyword::new(
                format!("{id}2"),
                format!("{id} blue dress"),
                MatchType::Phrase,
                y(1.0),
            ))
    };
    Account::new("Shop", "CNY", vec![plan("a"), plan("b")]).unwrap()
}

#[test]
fn better_plan_gains_budget_over_a_few_decisions() {
    // Plan a: CTR 5%, ROI about 8; plan b: CTR 2%, ROI about 1.5. Both spend their budget.
    // Over several seeds (the first decision's draws differ by seed): a's budget is raised
    // on the first decision, is never cut by more than a little afterwards (the plan draws
    // are held for a week, so day-to-day moves follow the evidence, which only favours a),
    // and ends well above the even split. Not strictly monotone: once a's budget nears its
    // traffic capacity the allocation settles and moves by a percent or two either way.
    for seed in [7, 1, 2, 3, 4] {
        let mut e = Engine::new(
            two_plans(Objective::MaxRevenue),
            EngineConfig::default(),
            seed,
        )
        .unwrap();
        let mut budget_a = Vec::new();
        for d in 0..6 {
            let date = day0().add_days(d);
            let budget = |e: &Engine, p: &str| {
                e.account()
                    .plan(&PlanId::new(p))
                    .unwrap()
                    .daily_budget
                    .units()
            };
            let (ba, bb) = (budget(&e, "a"), budget(&e, "b"));
            let r = Report::new(vec![
                row(date, "a", "a1", 2000, 100, 8, ba / 2.0, 4.0 * ba),
                row(date, "a", "a2", 2000, 100, 8, ba / 2.0, 4.0 * ba),
                row(date, "b", "b1", 2500, 50, 1, bb / 2.0, 0.75 * bb),
                row(date, "b", "b2", 2500, 50, 1, bb / 2.0, 0.75 * bb),
            ])
            .unwrap();
            e.observe(&r).unwrap();
            let dec = e.decide(date.add_days(1)).unwrap();
            assert!(dec.budget_sum() <= dec.total_budget);
            budget_a.push(dec.budget_of(&PlanId::new("a")).unwrap().to.units());
        }
        let msg = format!("seed {seed}: {budget_a:?}");
        assert!(budget_a[0] > 100.0, "{msg}");
        assert!(budget_a.windows(2).all(|w| w[1] >= 0.95 * w[0]), "{msg}");
        assert!(budget_a[5] >= budget_a[0] && budget_a[5] > 150.0, "{msg}");
    }
}

#[test]
fn a_keyword_that_burns_money_is_paused_with_a_reason() {
    let mut e = Engine::new(
        two_plans(Objective::TargetRoi { roi: 3.0 }),
        EngineConfig::default(),
        11,
    )
    .unwrap();
    let mut paused_on = None;
    for d in 0..10 {
        let date = day0().add_days(d);
        let r = Report::new(vec![
            row(date, "a", "a1", 1000, 40, 4, 30.0, 400.0),
            row(date, "a", "a2", 1000, 40, 0, 30.0, 0.0), // never converts
            row(date, "b", "b1", 1000, 30, 3, 25.0, 300.0),
            row(date, "b", "b2", 1000, 30, 3, 25.0, 300.0),
        ])
        .unwrap();
        if e.account().keyword(&KeywordId::new("a2")).unwrap().1.status == Status::Paused {
            break;
        }
        e.observe(&r).unwrap();
        let dec = e.decide(date.add_days(1)).unwrap();
        if let Some(p) = dec
            .pauses
            .iter()
            .find(|p| p.keyword == KeywordId::new("a2"))
        {
            assert_eq!(p.reason.code, ReasonCode::PauseUnlikelyToMeetObjective);
            assert!(
                p.reason.message().contains("ROI 3"),
                "{}",
                p.reason.message()
            );
            assert!(p.reason.metrics.probability.unwrap() < 0.05);
            paused_on = Some(d);
        }
        assert!(
            dec.pauses.iter().all(|p| p.keyword == KeywordId::new("a2")),
            "only the bad keyword"
        );
    }
    let d = paused_on.expect("the keyword was never paused");
    assert!(d >= 1, "paused before enough evidence");
}

#[test]
fn target_roi_bid_converges_to_value_per_click_over_target() {
    let cfg = EngineConfig {
        forgetting: adbandit::estimate::Forgetting::Never,
        ..EngineConfig::default()
    };
    let mut e = Engine::new(two_plans(Objective::TargetRoi { roi: 4.0 }), cfg, 3).unwrap();
    // Value per click = CVR 10% x AOV 120 = 12, so the bid should approach 12 / 4 = 3.
    for d in 0..30 {
        let date = day0().add_days(d);
        let r = Report::new(
            ["a1", "a2", "b1", "b2"]
                .iter()
                .map(|k| row(date, &k[..1], k, 2000, 200, 20, 150.0, 2400.0))
                .collect(),
        )
        .unwrap();
        e.observe(&r).unwrap();
        e.decide(date.add_days(1)).unwrap();
    }
    let bid = e
        .account()
        .keyword(&KeywordId::new("a1"))
        .unwrap()
        .1
        .bid
        .units();
    assert!((bid - 3.0).abs() < 0.25, "bid {bid}");
}

#[test]
fn a_bad_report_is_rejected_whole() {
    let mut e = Engine::new(two_plans(Objective::MaxClicks), EngineConfig::default(), 1).unwrap();
    let before = serde_json::to_string(&e.snapshot()).unwrap();
    let date = day0();
    let good = row(date, "a", "a1", 100, 10, 1, 5.0, 50.0);
    let unknown = Report::new(vec![
        good.clone(),
        row(date, "a", "zz", 100, 10, 1, 5.0, 50.0),
    ])
    .unwrap();
    assert!(matches!(
        e.observe(&unknown),
        Err(Error::UnknownId {
            kind: "keyword",
            ..
        })
    ));
    let wrong_plan = Report::new(vec![
        good.clone(),
        row(date, "b", "a2", 100, 10, 1, 5.0, 50.0),
    ])
    .unwrap();
    assert!(matches!(
        e.observe(&wrong_plan),
        Err(Error::Inconsistent { .. })
    ));
    let mut hourly = good.clone();
    hourly.hour = Some(3);
    let mixed = Report::new(vec![good, hourly]).unwrap();
    assert!(matches!(e.observe(&mixed), Err(Error::Inconsistent { .. })));
    assert_eq!(serde_json::to_string(&e.snapshot()).unwrap(), before);
    assert!(e.decide(date).is_ok());
    assert!(
        e.decide(date.add_days(-1)).is_err(),
        "time does not run backwards"
    );
}

/// A user-written policy: the posterior mean, declared as a point estimate.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct MeanPolicy {
    declared: ScoreKind,
}

impl Policy for MeanPolicy {
    fn name(&self) -> &'static str {
        "mean"
    }
    fn score_kind(&self) -> ScoreKind {
        self.declared
    }
    fn score(
        &self,
        arms: &dyn PosteriorView,
        reward: Reward,
        _: u64,
        _: &mut SimRng,
        out: &mut [f64],
    ) {
        for ((o, m), a) in out.iter_mut().zip(arms.means(reward)).zip(arms.active()) {
            *o = if *a { *m } else { f64::NEG_INFINITY };
        }
    }
}

#[test]
fn a_user_written_policy_runs_in_the_engine_and_a_ranking_one_is_refused() {
    let ranking = MeanPolicy {
        declared: ScoreKind::RankingOnly,
    };
    assert!(matches!(
        Engine::with_policy(
            two_plans(Objective::MaxRevenue),
            EngineConfig::default(),
            ranking,
            1
        ),
        Err(Error::InvalidParameter { .. })
    ));
    let policy = MeanPolicy {
        declared: ScoreKind::PointEstimate,
    };
    let mut e = Engine::with_policy(
        two_plans(Objective::MaxRevenue),
        // Budgets that follow the plans' scores, so the user's policy decides them (with
        // the default, budgets follow the bids on posterior means).
        EngineConfig {
            budgets_from_bids: false,
            keyword_draw_cap: 4.0,
            ..EngineConfig::default()
        },
        policy,
        1,
    )
    .unwrap();
    for d in 0..4 {
        let date = day0().add_days(d);
        let r = Report::new(vec![
            row(date, "a", "a1", 2000, 100, 8, 50.0, 400.0),
            row(date, "a", "a2", 2000, 100, 8, 50.0, 400.0),
            row(date, "b", "b1", 2500, 50, 1, 50.0, 60.0),
            row(date, "b", "b2", 2500, 50, 1, 50.0, 60.0),
        ])
        .unwrap();
        e.observe(&r).unwrap();
        let dec = e.decide(date.add_days(1)).unwrap();
        assert!(dec.budget_sum() <= dec.total_budget);
    }
    // Greedy on the means: the better plan gained budget.
    let a = e.account().plan(&PlanId::new("a")).unwrap().daily_budget;
    let b = e.account().plan(&PlanId::new("b")).unwrap().daily_budget;
    assert!(a > b, "{a} vs {b}");
    // Its snapshot restores with the custom type.
    let json = e.snapshot().to_json().unwrap();
    let mut r: Engine<MeanPolicy> =
        Engine::restore(EngineSnapshot::from_json(&json).unwrap()).unwrap();
    assert_eq!(
        r.decide(day0().add_days(5)).unwrap(),
        e.decide(day0().add_days(5)).unwrap()
    );
}

#[test]
fn exp3_is_refused_and_bad_limits_are_named() {
    let exp3 = serde_json::from_str::<BuiltinPolicy>(r#"{"kind":"exp3","gamma":0.1}"#);
    if let Ok(p) = exp3 {
        assert!(
            Engine::with_policy(
                two_plans(Objective::MaxClicks),
                EngineConfig::default(),
                p,
                1
            )
            .is_err()
        );
    }
    let mut cfg = EngineConfig::default();
    cfg.plan_limits.insert(
        PlanId::new("nope"),
        PlanLimits {
            min_budget: Money::ZERO,
            max_budget: y(1.0),
        },
    );
    assert!(matches!(
        Engine::new(two_plans(Objective::MaxClicks), cfg, 1),
        Err(Error::UnknownId { .. })
    ));
}

#[test]
fn over_delivery_keeps_the_monthly_promise() {
    // Budgets fixed (no step) so the promise is easy to check.
    let cfg = EngineConfig {
        budget_mode: BudgetMode::OverDelivery {
            daily_multiple: 2.0,
        },
        max_budget_step: 0.0,
        ..EngineConfig::default()
    };
    let mut e = Engine::new(two_plans(Objective::MaxClicks), cfg, 5).unwrap();
    let start = Date::from_ymd(2026, 11, 1).unwrap();
    let mut month_spend = 0.0;
    for d in 0..30 {
        let date = start.add_days(d);
        let dec = e.decide(date).unwrap();
        let b = dec.budget_of(&PlanId::new("a")).unwrap();
        assert!(b.spend_cap.micros() <= 2 * b.to.micros());
        // The plan spends every cent it is allowed.
        let spend = b.spend_cap.units();
        month_spend += spend;
        let r = Report::new(vec![row(date, "a", "a1", 10_000, 500, 0, spend, 0.0)]).unwrap();
        e.observe(&r).unwrap();
    }
    assert!(month_spend <= 100.0 * 30.4 + 1e-6, "{month_spend}");
    assert!(
        month_spend > 100.0 * 30.0,
        "over-delivery should let it use its month: {month_spend}"
    );
}

#[test]
fn a_promotion_is_not_learned_as_the_new_normal() {
    let promo = day0().add_days(10);
    let mut cfg = EngineConfig::default();
    cfg.events
        .push(CalendarEvent::new("Double 11", promo, 1, 5.0, 3.0).unwrap());
    let mut with = Engine::new(two_plans(Objective::MaxRevenue), cfg, 9).unwrap();
    let mut without =
        Engine::new(two_plans(Objective::MaxRevenue), EngineConfig::default(), 9).unwrap();
    for d in 0..12 {
        let date = day0().add_days(d);
        let (f_t, f_c) = if date == promo { (5, 3) } else { (1, 1) };
        let r = Report::new(vec![row(
            date,
            "a",
            "a1",
            1000 * f_t,
            50 * f_t,
            5 * f_t * f_c,
            40.0,
            500.0 * (f_t * f_c) as f64,
        )])
        .unwrap();
        with.observe(&r).unwrap();
        without.observe(&r).unwrap();
    }
    let cvr = |e: &Engine| e.estimates().unwrap().keywords[0][0].cvr.mean();
    assert!(
        (cvr(&with) - 0.10).abs() < 0.01,
        "with calendar: {}",
        cvr(&with)
    );
    assert!(
        cvr(&without) > 0.15,
        "without calendar the spike leaks in: {}",
        cvr(&without)
    );
}

#[test]
fn what_if_grows_with_the_bid() {
    let mut e = Engine::new(two_plans(Objective::MaxRevenue), EngineConfig::default(), 2).unwrap();
    for d in 0..3 {
        let date = day0().add_days(d);
        e.observe(&Report::new(vec![row(date, "a", "a1", 1000, 50, 5, 40.0, 500.0)]).unwrap())
            .unwrap();
        e.decide(date.add_days(1)).unwrap();
    }
    let bids = [y(0.5), y(1.0), y(2.0)];
    let w = e.what_if_bid(&KeywordId::new("a1"), &bids, 500).unwrap();
    assert!(w[0].clicks.mean < w[1].clicks.mean && w[1].clicks.mean < w[2].clicks.mean);
    assert!(w[0].cost.mean < w[2].cost.mean);
    for x in &w {
        assert!(x.revenue.lo <= x.revenue.mean && x.revenue.mean <= x.revenue.hi);
    }
    assert_eq!(
        w,
        e.what_if_bid(&KeywordId::new("a1"), &bids, 500).unwrap(),
        "deterministic"
    );
    assert!(e.what_if_bid(&KeywordId::new("zz"), &bids, 500).is_err());
    assert!(
        e.what_if_bid(&KeywordId::new("a1"), &[Money::ZERO], 500)
            .is_err()
    );
    let wb = e
        .what_if_budget(&PlanId::new("a"), &[y(10.0), y(100.0)], 500)
        .unwrap();
    assert!(wb[0].revenue.mean < wb[1].revenue.mean);
}

// ---- properties over random accounts and reports ----------------------------------------

/// (plan, keyword, impressions, ctr, cvr, cost, aov)
type DayRow = (usize, usize, u64, f64, f64, f64, f64);

#[derive(Debug, Clone)]
struct Case {
    account: Account,
    config: EngineConfig,
    days: Vec<Vec<DayRow>>,
    seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    let plan = (
        1usize..5,
        1.0f64..500.0,
        0.05f64..1.0,
        1.0f64..5.0,
        prop_oneof![
            Just(Objective::MaxClicks),
            Just(Objective::MaxRevenue),
            Just(Objective::MaxConversions),
            (0.5f64..8.0).prop_map(|roi| Objective::TargetRoi { roi }),
            (5.0f64..80.0).prop_map(|c| Objective::TargetCpa {
                cpa: Money::from_units_f64(c).unwrap()
            }),
        ],
    );
    (
        prop::collection::vec(plan, 1..6),
        0.0f64..1.0,
        0.0f64..0.6,
        0.0f64..0.5,
        any::<u64>(),
        prop::collection::vec(
            prop::collection::vec(
                (
                    0usize..6,
                    0usize..5,
                    0u64..5000,
                    0.0f64..0.2,
                    0.0f64..0.3,
                    0.0f64..300.0,
                    1.0f64..500.0,
                ),
                0..12,
            ),
            1..4,
        ),
        prop::option::of(0.0f64..2000.0),
        prop::option::of((0.0f64..0.7, 0.0f64..0.5)),
    )
        .prop_map(
            |(plans, floor, bstep, kstep, seed, days, total, channels)| {
                let plans: Vec<Plan> = plans
                    .into_iter()
                    .enumerate()
                    .map(|(i, (nk, budget, min_bid, span, obj))| {
                        let mut p = Plan::new(
                            format!("p{i}"),
                            format!("Plan {i}"),
                            y(budget),
                            y(min_bid),
                            y(min_bid + span),
                        )
                        .with_objective(obj);
                        if channels.is_some() {
                            p = p.with_channel(if i % 2 == 0 { "search" } else { "display" });
                        }
                        for j in 0..nk {
                            p = p.with_keyword(Keyword::new(
                                format!("k{i}-{j}"),
                                format!("word{j} thing{i}"),
                                MatchType::Broad,
                                y(min_bid),
                            ));
                        }
                        p
                    })
                    .collect();
                let account = Account::new("s", "CNY", plans).unwrap();
                let mut config = EngineConfig {
                    exploration_floor: floor,
                    max_budget_step: bstep,
                    max_bid_step: kstep,
                    total_daily_budget: total.map(y),
                    ..EngineConfig::default()
                };
                if let Some((max_search, min_display)) = channels {
                    config.channel_limits.insert(
                        "search".into(),
                        ChannelLimits {
                            max_share: Some(max_search),
                            ..ChannelLimits::default()
                        },
                    );
                    if account.plans().len() > 1 {
                        config.channel_limits.insert(
                            "display".into(),
                            ChannelLimits {
                                min_share: Some(min_display),
                                max_budget: Some(y(900.0)),
                                ..ChannelLimits::default()
                            },
                        );
                    }
                }
                if let Some(p) = account.plans().first() {
                    config.plan_limits.insert(
                        p.id.clone(),
                        PlanLimits {
                            min_budget: y(5.0),
                            max_budget: y(400.0),
                        },
                    );
                }
                Case {
                    account,
                    config,
                    days,
                    seed,
                }
            },
        )
}

fn report_for(c: &Case, day: usize) -> Report {
    let date = day0().add_days(day as i32);
    let rows = c.days[day]
        .iter()
        .filter_map(|&(p, k, imp, ctr, cvr, cost, aov)| {
            let plan = c.account.plans().get(p % c.account.plans().len())?;
            let kw = plan.keywords.get(k % plan.keywords.len())?;
            let clicks = (imp as f64 * ctr) as u64;
            let conv = (clicks as f64 * cvr) as u64;
            Some(ReportRow {
                date,
                hour: None,
                days: 1,
                plan: plan.id.clone(),
                keyword: Some(kw.id.clone()),
                stats: Stats::new(imp, clicks, conv, y(cost), y(conv as f64 * aov)).ok()?,
            })
        });
    Report::from_rows_summed(rows).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn decisions_respect_every_limit(c in case()) {
        let mut e = Engine::new(c.account.clone(), c.config.clone(), c.seed).unwrap();
        for d in 0..c.days.len() {
            e.observe(&report_for(&c, d)).unwrap();
            let before = e.account().clone();
            let dec = e.decide(day0().add_days(d as i32 + 1)).unwrap();
            prop_assert!(dec.budget_sum() <= dec.total_budget, "{} > {}", dec.budget_sum(), dec.total_budget);
            // Channel limits: the maximum is a hard cap; the minimum holds unless the
            // channel's plans may not take it (their own maximums or steps) or the total
            // scaled everyone's minimums down.
            for (name, l) in &c.config.channel_limits {
                let (lo, hi) = l.resolve(dec.total_budget);
                let mine: Vec<_> = dec.budgets.iter().filter(|b| before.plan(&b.plan).unwrap().channel_name() == name).collect();
                let sum: i64 = mine.iter().map(|b| b.to.micros()).sum();
                prop_assert!(sum <= hi.micros(), "channel {name}: {sum} > {hi}");
                let held = mine.iter().all(|b| matches!(b.reason.code,
                    ReasonCode::BudgetAtMax | ReasonCode::BudgetStepUp | ReasonCode::BudgetTotalCap
                    | ReasonCode::BudgetPlanPaused | ReasonCode::BudgetAtMin | ReasonCode::BudgetExplorationFloor));
                // ... or the total is spent to the last micros elsewhere: the minimum yields to it.
                let total_used = dec.budget_sum().micros() + dec.budgets.len() as i64 >= dec.total_budget.micros();
                prop_assert!(sum + mine.len() as i64 >= lo.micros() || held || total_used, "channel {name}: {sum} < {lo}: {mine:?}");
            }
            for b in &dec.budgets {
                let plan = before.plan(&b.plan).unwrap();
                prop_assert_eq!(b.from, plan.daily_budget);
                if let Some(l) = c.config.plan_limits.get(&b.plan) {
                    prop_assert!(b.to <= l.max_budget);
                    // The minimum holds unless the total, or the plan's channel maximum,
                    // cannot cover every minimum under it (they are then scaled down together).
                    prop_assert!(
                        b.to >= l.min_budget
                            || matches!(b.reason.code, ReasonCode::BudgetTotalCap | ReasonCode::BudgetAtChannelMax),
                        "{:?}", b
                    );
                }
                let step = c.config.max_budget_step;
                let floor = (dec.total_budget.micros() as f64 * c.config.exploration_floor / before.plans().len() as f64).floor();
                // A plan at zero may grow to the floor; any other only by the step, unless the
                // operator's minimum asks for more.
                let up = if b.from.is_zero() { floor } else { (b.from.micros() as f64 * (1.0 + step)).floor() };
                // The operator's minimum (possibly scaled down to fit the total) may force more.
                // A minimum scaled down under its channel's maximum is labelled with that maximum.
                let scaled_min = b.reason.code == ReasonCode::BudgetAtChannelMax && c.config.plan_limits.contains_key(&b.plan);
                let allowed_above = matches!(b.reason.code, ReasonCode::BudgetAtMin | ReasonCode::BudgetTotalCap) || scaled_min;
                prop_assert!(b.reason.code != ReasonCode::BudgetAtChannelMin || b.to.micros() as f64 <= up + 1.0, "{:?}", b);
                prop_assert!(b.to.micros() as f64 <= up + 1.0 || allowed_above, "{:?} up {up}", b);
                let down = (b.from.micros() as f64 * (1.0 - step)).ceil();
                let allowed_below = matches!(b.reason.code, ReasonCode::BudgetTotalCap | ReasonCode::BudgetAtMax | ReasonCode::BudgetAtChannelMax);
                prop_assert!(b.to.micros() as f64 >= down - 1.0 || allowed_below, "{:?} down {down}", b);
                for v in [b.reason.metrics.score, b.reason.metrics.ctr, b.reason.metrics.cvr, b.reason.metrics.roi].into_iter().flatten() {
                    prop_assert!(v.is_finite());
                }
            }
            for b in &dec.bids {
                let (plan, kw) = before.keyword(&b.keyword).unwrap();
                prop_assert_eq!(b.from, kw.bid);
                prop_assert!(b.to >= plan.min_bid && b.to <= plan.max_bid, "{:?}", b);
                prop_assert_eq!(b.to.micros() % c.config.bid_increment.micros(), 0);
                let step = c.config.max_bid_step;
                let inc = c.config.bid_increment.micros() as f64;
                let lo = (b.from.micros() as f64 * (1.0 - step) - inc).min(plan.min_bid.micros() as f64 + inc);
                let hi = (b.from.micros() as f64 * (1.0 + step) + inc).max(plan.min_bid.micros() as f64 + inc);
                prop_assert!(b.to.micros() as f64 >= lo && b.to.micros() as f64 <= hi, "{:?} [{lo}, {hi}]", b);
                prop_assert!(b.reason.metrics.score.is_none_or(f64::is_finite));
            }
            // Every number behind every reason is finite (serde_json would write a NaN as
            // `null`, so the JSON text cannot tell).
            let reasons = dec.budgets.iter().map(|b| &b.reason)
                .chain(dec.bids.iter().map(|b| &b.reason))
                .chain(dec.pauses.iter().map(|p| &p.reason))
                .chain(dec.flags.iter().map(|f| &f.reason));
            for r in reasons {
                let m = &r.metrics;
                for v in [m.score, m.ctr, m.cvr, m.roi, m.probability, m.clicks, m.cost].into_iter().flatten() {
                    prop_assert!(v.is_finite(), "{:?}", r);
                }
            }
        }
    }

    #[test]
    fn same_seed_same_decision_and_snapshot_restore_is_transparent(c in case()) {
        let mut a = Engine::new(c.account.clone(), c.config.clone(), c.seed).unwrap();
        let mut b = Engine::new(c.account.clone(), c.config.clone(), c.seed).unwrap();
        for d in 0..c.days.len() {
            let r = report_for(&c, d);
            a.observe(&r).unwrap();
            b.observe(&r).unwrap();
            let date = day0().add_days(d as i32 + 1);
            // Persist and restart b before every decision.
            let json = b.snapshot().to_json().unwrap();
            b = Engine::restore(EngineSnapshot::<BuiltinPolicy>::from_json(&json).unwrap()).unwrap();
            prop_assert_eq!(a.decide(date).unwrap(), b.decide(date).unwrap());
        }
    }
}

#[test]
fn snapshot_rejects_other_versions_and_garbage() {
    let e = Engine::new(two_plans(Objective::MaxClicks), EngineConfig::default(), 1).unwrap();
    let json = e.snapshot().to_json().unwrap();
    let v3 = json.replacen("\"format_version\":2", "\"format_version\":3", 1);
    assert!(matches!(
        EngineSnapshot::<BuiltinPolicy>::from_json(&v3),
        Err(Error::FormatVersion { found: 3, .. })
    ));
    // Unknown fields are rejected, at the top and inside the state.
    let extra = json.replacen("{\"format_version\"", "{\"extra\":1,\"format_version\"", 1);
    assert!(EngineSnapshot::<BuiltinPolicy>::from_json(&extra).is_err());
    let extra = json.replacen("\"round\":", "\"rounds\":0,\"round\":", 1);
    assert!(EngineSnapshot::<BuiltinPolicy>::from_json(&extra).is_err());
    // Serde deserialisation goes through the same checks.
    assert!(serde_json::from_str::<EngineSnapshot<BuiltinPolicy>>(&v3).is_err());
    assert!(serde_json::from_str::<EngineSnapshot<BuiltinPolicy>>(&json).is_ok());
    // A state whose shapes do not match its account is refused on restore.
    let short = json.replacen(
        "\"traffic\":[{",
        "\"traffic\":[{\"capacity\":1.0,\"daily_spend\":0.0,\"daily_clicks\":0.0,\"days\":0},{",
        1,
    );
    let s = EngineSnapshot::<BuiltinPolicy>::from_json(&short).unwrap();
    assert!(matches!(
        Engine::restore(s),
        Err(Error::Inconsistent { .. })
    ));
    assert!(EngineSnapshot::<BuiltinPolicy>::from_json("{").is_err());
    // An account made invalid inside the snapshot is caught while parsing.
    let bad = json.replacen("\"daily_budget\":100000000", "\"daily_budget\":-1", 1);
    assert!(EngineSnapshot::<BuiltinPolicy>::from_json(&bad).is_err());
}

#[test]
fn engine_is_send_and_sync() {
    fn is<T: Send + Sync>() {}
    is::<Engine>();
    is::<EngineSnapshot<BuiltinPolicy>>();
}

#[test]
fn uncertain_keywords_are_explored_and_certain_ones_are_not() {
    // Keyword a1 has a month of data, a2 three clicks: the policy's draw for a2 strays from
    // its mean, a1's hardly does. a2's one-sided deviation is 0 in about two seeds of three
    // and up to 3 in the rest (expected 0.24), so it takes many seeds to average. The
    // default bids on posterior means (`keyword_draw_cap` 1, issue 14): exploration is
    // switched on here with the cap of the engine before it.
    let (mut sparse, mut dense) = (0.0, 0.0);
    let seeds = 100;
    let explore = EngineConfig {
        keyword_draw_cap: 4.0,
        ..EngineConfig::default()
    };
    for seed in 0..seeds {
        let mut e = Engine::new(
            two_plans(Objective::TargetRoi { roi: 2.0 }),
            explore.clone(),
            seed,
        )
        .unwrap();
        for d in 0..30 {
            let date = day0().add_days(d);
            let mut rows = vec![row(date, "a", "a1", 5000, 250, 25, 200.0, 2500.0)];
            if d == 29 {
                rows.push(row(date, "a", "a2", 60, 3, 0, 2.0, 0.0));
            }
            e.observe(&Report::new(rows).unwrap()).unwrap();
        }
        let est = e.estimates().unwrap();
        let dec = e.decide(day0().add_days(30)).unwrap();
        let dev = |k: &str, j: usize| {
            let b = dec.bid_of(&KeywordId::new(k)).unwrap();
            (b.reason.metrics.score.unwrap() / est.keywords[0][j].value_per_click() - 1.0).abs()
        };
        dense += dev("a1", 0) / seeds as f64;
        sparse += dev("a2", 1) / seeds as f64;
    }
    assert!(dense < 0.1, "dense keyword strays {dense}");
    assert!(
        sparse > 2.0 * dense && sparse > 0.15,
        "sparse keyword explores {sparse} (dense {dense})"
    );
}

#[test]
fn a_budget_spent_by_ten_is_flagged() {
    let mut e = Engine::new(two_plans(Objective::MaxClicks), EngineConfig::default(), 4).unwrap();
    let date = day0();
    // Plan a spends its whole 100 by 10:00 (10 per hour); plan b spreads 50 over the day.
    let mut rows = Vec::new();
    for h in 0..24u8 {
        let mut r = row(
            date,
            "a",
            "a1",
            100,
            5,
            0,
            if h < 10 { 10.0 } else { 0.0 },
            0.0,
        );
        r.hour = Some(h);
        rows.push(r);
        let mut r = row(date, "b", "b1", 100, 5, 0, 50.0 / 24.0, 0.0);
        r.hour = Some(h);
        rows.push(r);
    }
    e.observe(&Report::new(rows).unwrap()).unwrap();
    let dec = e.decide(date.add_days(1)).unwrap();
    let flags: Vec<_> = dec
        .flags
        .iter()
        .filter(|f| f.reason.code == ReasonCode::FlagBudgetExhaustedEarly)
        .collect();
    assert_eq!(flags.len(), 1, "{:?}", dec.flags);
    assert_eq!(flags[0].plan, Some(PlanId::new("a")));
    assert!(
        flags[0].reason.message().contains("09:59"),
        "{}",
        flags[0].reason.message()
    );
}

// ---- the v1 fixture snapshot ---------------------------------------------------------------

/// The account and history behind `tests/fixtures/engine_snapshot_v1.json`: three plans
/// (target ROI, max revenue, target CPA with a plan-level row), an over-delivery budget, a
/// calendar event, one hourly day, three decisions, then one more day observed.
fn fixture_engine() -> Engine {
    let plan = |id: &str, n: usize, objective: Objective| {
        let mut p =
            Plan::new(id, format!("Plan {id}"), y(100.0), y(0.1), y(5.0)).with_objective(objective);
        for k in 0..n {
            p = p.with_keyword(Keyword::new(
                format!("{id}{k}"),
                format!("{id} word {k}"),
                if k % 2 == 0 {
                    MatchType::Exact
                } else {
                    MatchType::Broad
                },
                y(1.0 + 0.2 * k as f64),
            ));
        }
        p
    };
    let account = Account::new(
        "Shop",
        "CNY",
        vec![
            plan("dress", 3, Objective::TargetRoi { roi: 3.0 }),
            plan("shoe", 2, Objective::MaxRevenue),
            plan("bag", 1, Objective::TargetCpa { cpa: y(20.0) }),
        ],
    )
    .unwrap();
    let config = EngineConfig {
        budget_mode: BudgetMode::OverDelivery {
            daily_multiple: 2.0,
        },
        events: vec![CalendarEvent::new("promo", day0().add_days(2), 2, 2.0, 1.5).unwrap()],
        // The settings of the release that wrote the fixture (the defaults changed since).
        max_budget_step: 0.3,
        plan_redraw_days: 1,
        budget_dual_rate: 0.0,
        budget_dual_max: 1.5,
        rules: RuleConfig {
            pause_below_break_even: true,
            ..RuleConfig::default()
        },
        ..EngineConfig::default()
    };
    let mut e = Engine::new(account, config, 2026).unwrap();
    let day_rows = |date: Date, d: u64| {
        let mut rows = Vec::new();
        for (p, n, base) in [("dress", 3u64, 60u64), ("shoe", 2, 40), ("bag", 1, 20)] {
            for k in 0..n {
                let clicks = base + 7 * k + 3 * d;
                let conv = (clicks / (8 + 4 * k)).min(clicks);
                rows.push(row(
                    date,
                    p,
                    &format!("{p}{k}"),
                    clicks * 25 + 100 * k,
                    clicks,
                    conv,
                    0.6 * clicks as f64,
                    conv as f64 * (30.0 + 5.0 * k as f64),
                ));
            }
        }
        rows
    };
    for d in 0..4u64 {
        let date = day0().add_days(d as i32);
        let mut rows = day_rows(date, d);
        if d == 1 {
            // An hourly day for plan dress's first keyword.
            rows.remove(0);
            for h in 0..24u8 {
                let clicks = 2 + u64::from(h % 5);
                rows.push(ReportRow {
                    date,
                    hour: Some(h),
                    days: 1,
                    plan: PlanId::new("dress"),
                    keyword: Some(KeywordId::new("dress0")),
                    stats: Stats::new(
                        clicks * 30,
                        clicks,
                        u64::from(h % 3 == 0),
                        y(0.5 * clicks as f64),
                        y(if h % 3 == 0 { 35.0 } else { 0.0 }),
                    )
                    .unwrap(),
                });
            }
        }
        // A plan-level row (no keyword) for plan bag.
        rows.push(ReportRow {
            date,
            hour: None,
            days: 1,
            plan: PlanId::new("bag"),
            keyword: None,
            stats: Stats::new(500, 12, 1, y(6.0), y(25.0)).unwrap(),
        });
        e.observe(&Report::new(rows).unwrap()).unwrap();
        if d < 3 {
            e.decide(date.add_days(1)).unwrap();
        }
    }
    e
}

/// The decision's content to the micro: budgets, caps, bids, pauses and the reason codes.
fn decision_key(d: &serde_json::Value) -> serde_json::Value {
    let pick = |xs: &serde_json::Value, fields: &[&str]| -> serde_json::Value {
        xs.as_array()
            .unwrap()
            .iter()
            .map(|x| {
                let mut o = serde_json::Map::new();
                for f in fields {
                    o.insert(f.to_string(), x[*f].clone());
                }
                o.insert("code".into(), x["reason"]["code"].clone());
                serde_json::Value::Object(o)
            })
            .collect()
    };
    serde_json::json!({
        "date": d["date"],
        "round": d["round"],
        "total_budget": d["total_budget"],
        "budgets": pick(&d["budgets"], &["plan", "from", "to", "spend_cap"]),
        "bids": pick(&d["bids"], &["keyword", "plan", "from", "to"]),
        "pauses": pick(&d["pauses"], &["keyword", "plan"]),
        "flags": pick(&d["flags"], &["plan", "keyword"]),
    })
}

const FIXTURE_SNAPSHOT: &str = "tests/fixtures/engine_snapshot_v1.json";
const FIXTURE_DECISION: &str = "tests/fixtures/engine_snapshot_v1_decision.json";

// The fixture files were written by the release before the state struct (commit 9d34dbe,
// format 1) from `fixture_engine()`: its snapshot after four days, and its next decision.

#[test]
fn the_v1_fixture_snapshot_restores_and_decides_identically() {
    let json = std::fs::read_to_string(FIXTURE_SNAPSHOT).unwrap();
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(FIXTURE_DECISION).unwrap()).unwrap();
    let mut e: Engine = Engine::restore(EngineSnapshot::from_json(&json).unwrap()).unwrap();
    let got = serde_json::to_value(e.decide(day0().add_days(4)).unwrap()).unwrap();
    assert_eq!(decision_key(&got), decision_key(&want));
    // The same history replayed by this build decides identically through its own snapshot.
    // (It no longer equals the v1 decision: issue 18's Beta sampler draws the first three
    // decisions differently, so the replayed state differs; the expected decision above was
    // re-pinned for the same reason.)
    let mut fresh = fixture_engine();
    let mut restored: Engine = Engine::restore(fresh.snapshot()).unwrap();
    let again = serde_json::to_value(fresh.decide(day0().add_days(4)).unwrap()).unwrap();
    let via = serde_json::to_value(restored.decide(day0().add_days(4)).unwrap()).unwrap();
    assert_eq!(decision_key(&again), decision_key(&via));
}

// ---- launches ------------------------------------------------------------------------------

#[test]
fn a_launched_plan_starts_cold_from_the_hierarchy_and_gets_its_budget() {
    let mut e = Engine::new(two_plans(Objective::MaxRevenue), EngineConfig::default(), 3).unwrap();
    for d in 0..3 {
        let date = day0().add_days(d);
        let r = Report::new(vec![
            row(date, "a", "a1", 2000, 100, 8, 50.0, 400.0),
            row(date, "a", "a2", 2000, 60, 4, 50.0, 200.0),
            row(date, "b", "b1", 2500, 50, 1, 50.0, 75.0),
            row(date, "b", "b2", 2500, 40, 1, 50.0, 75.0),
        ])
        .unwrap();
        e.observe(&r).unwrap();
        e.decide(date.add_days(1)).unwrap();
    }
    let before = e.total_budget();
    let launch = Plan::new("c", "Plan c", y(80.0), y(0.1), y(5.0))
        .with_keyword(Keyword::new("c1", "c one", MatchType::Exact, y(1.0)))
        .with_keyword(Keyword::new("c2", "c two", MatchType::Broad, y(1.0)));
    // Bad plans leave the engine unchanged: a duplicate keyword id, a bid above the maximum.
    let snap = e.snapshot().to_json().unwrap();
    let dup = Plan::new("d", "Plan d", y(80.0), y(0.1), y(5.0)).with_keyword(Keyword::new(
        "a1",
        "dup",
        MatchType::Exact,
        y(1.0),
    ));
    assert!(matches!(e.add_plan(dup), Err(Error::DuplicateId { .. })));
    let bad = Plan::new("d", "Plan d", y(80.0), y(0.1), y(5.0)).with_keyword(Keyword::new(
        "d1",
        "d",
        MatchType::Exact,
        y(9.0),
    ));
    assert!(e.add_plan(bad).is_err());
    assert!(matches!(
        e.add_plan(two_plans(Objective::MaxRevenue).plans()[0].clone()),
        Err(Error::DuplicateId { .. })
    ));
    assert_eq!(e.snapshot().to_json().unwrap(), snap);

    e.add_plan(launch).unwrap();
    assert_eq!(e.total_budget(), before.checked_add(y(80.0)).unwrap());
    let est = e.estimates().unwrap();
    let (a, b, c) = (&est.plans[0], &est.plans[1], &est.plans[2]);
    assert!(c.counts.clicks.abs() < 1e-12);
    // The new plan sits between its siblings (at the account level), not at a flat 50%.
    let lo = a.ctr.mean().min(b.ctr.mean());
    let hi = a.ctr.mean().max(b.ctr.mean());
    assert!(
        c.ctr.mean() > 0.5 * lo && c.ctr.mean() < 1.5 * hi,
        "{}",
        c.ctr.mean()
    );
    assert!((c.ctr.mean() - est.account.ctr.mean()).abs() < 0.5 * est.account.ctr.mean());
    // Its keywords start at the plan's rates.
    for k in &est.keywords[2] {
        assert!((k.ctr.mean() - c.ctr.mean()).abs() < 1e-9);
        assert!((k.cvr.mean() - c.cvr.mean()).abs() < 1e-9);
    }
    // It takes part in the next decision, is explored, and survives snapshot/restore.
    let date = day0().add_days(3);
    e.observe(
        &Report::new(vec![
            row(date, "a", "a1", 2000, 100, 8, 50.0, 400.0),
            row(date, "c", "c1", 500, 20, 1, 10.0, 40.0),
        ])
        .unwrap(),
    )
    .unwrap();
    let mut r: Engine =
        Engine::restore(EngineSnapshot::from_json(&e.snapshot().to_json().unwrap()).unwrap())
            .unwrap();
    let dec = e.decide(date.add_days(1)).unwrap();
    assert_eq!(r.decide(date.add_days(1)).unwrap(), dec);
    assert!(dec.budget_sum() <= dec.total_budget);
    let cb = dec.budget_of(&PlanId::new("c")).unwrap();
    assert!(cb.to.micros() > 0, "{}", cb.reason.message());
    assert!(dec.bid_of(&KeywordId::new("c2")).is_some());
}

#[test]
fn a_configured_total_stays_when_a_plan_is_launched() {
    let config = EngineConfig {
        total_daily_budget: Some(y(150.0)),
        ..EngineConfig::default()
    };
    let mut e = Engine::new(two_plans(Objective::MaxRevenue), config, 3).unwrap();
    e.add_plan(
        Plan::new("c", "Plan c", y(80.0), y(0.1), y(5.0)).with_keyword(Keyword::new(
            "c1",
            "c one",
            MatchType::Exact,
            y(1.0),
        )),
    )
    .unwrap();
    assert_eq!(e.total_budget(), y(150.0));
    let dec = e.decide(day0()).unwrap();
    assert_eq!(dec.budgets.len(), 3);
    assert!(dec.budget_sum() <= y(150.0));
}

// ---- restated data -------------------------------------------------------------------------

fn report_of(date: Date, conv_a1: u64, cost_a1: f64) -> Report {
    Report::new(vec![
        row(
            date,
            "a",
            "a1",
            2000,
            100,
            conv_a1,
            cost_a1,
            40.0 * conv_a1 as f64,
        ),
        row(date, "a", "a2", 2000, 60, 3, 50.0, 120.0),
        row(date, "b", "b1", 2500, 50, 1, 50.0, 75.0),
    ])
    .unwrap()
}

fn over_delivery() -> EngineConfig {
    EngineConfig {
        budget_mode: BudgetMode::OverDelivery {
            daily_multiple: 2.0,
        },
        ..EngineConfig::default()
    }
}

#[test]
fn observing_a_report_twice_equals_observing_it_once() {
    let mut once = Engine::new(two_plans(Objective::MaxRevenue), over_delivery(), 5).unwrap();
    let mut twice = once.clone();
    for d in 0..3 {
        let date = day0().add_days(d);
        let r = report_of(date, 5 + d as u64, 50.0);
        once.observe(&r).unwrap();
        twice.observe(&r).unwrap();
        twice.observe(&r).unwrap();
        // Through a snapshot as well: the restored engine remembers what it saw.
        let json = twice.snapshot().to_json().unwrap();
        twice = Engine::restore(EngineSnapshot::from_json(&json).unwrap()).unwrap();
        twice.observe(&r).unwrap();
        assert_eq!(
            once.decide(date.add_days(1)).unwrap(),
            twice.decide(date.add_days(1)).unwrap()
        );
        // A day already closed by a decision, resent: still nothing new.
        twice.observe(&r).unwrap();
    }
    assert_eq!(
        once.snapshot().to_json().unwrap(),
        twice.snapshot().to_json().unwrap()
    );
}

#[test]
fn a_restated_day_replaces_its_figures() {
    let date = day0();
    // Final figures only.
    let mut direct = Engine::new(two_plans(Objective::MaxRevenue), over_delivery(), 5).unwrap();
    direct.observe(&report_of(date, 9, 70.0)).unwrap();
    // Early figures (late conversions missing, cost lower), then the restatement.
    let mut restated = Engine::new(two_plans(Objective::MaxRevenue), over_delivery(), 5).unwrap();
    restated.observe(&report_of(date, 4, 60.0)).unwrap();
    restated.observe(&report_of(date, 9, 70.0)).unwrap();
    let (a, b) = (direct.estimates().unwrap(), restated.estimates().unwrap());
    for (x, y) in a.keywords.iter().flatten().zip(b.keywords.iter().flatten()) {
        assert!((x.counts.conversions - y.counts.conversions).abs() < 1e-9);
        assert!((x.counts.cost - y.counts.cost).abs() < 1e-9);
        assert!((x.cvr.mean() - y.cvr.mean()).abs() < 1e-9);
    }
    // The day and month ledgers count the day once: same spend caps, same decision.
    let (da, db) = (
        direct.decide(date.add_days(1)).unwrap(),
        restated.decide(date.add_days(1)).unwrap(),
    );
    for (x, y) in da.budgets.iter().zip(&db.budgets) {
        assert_eq!(x.spend_cap, y.spend_cap);
    }
    assert_eq!(da.budgets, db.budgets);

    // A restatement after the day was closed by a decision corrects the evidence too.
    restated.observe(&report_of(date, 12, 70.0)).unwrap();
    let c = restated.estimates().unwrap().keywords[0][0]
        .counts
        .conversions;
    assert!((c - 12.0).abs() < 1e-9, "{c}");
    // One day on, a restatement keeps its age's weight (the default 7-day half-life).
    restated.decide(date.add_days(2)).unwrap();
    restated.observe(&report_of(date, 15, 70.0)).unwrap();
    let c = restated.estimates().unwrap().keywords[0][0]
        .counts
        .conversions;
    let w = 0.5f64.powf(1.0 / 7.0);
    assert!((c - 15.0 * w).abs() < 1e-9, "{c}");
}

#[test]
fn restated_rows_keep_their_granularity_and_can_be_switched_off() {
    let mut e = Engine::new(two_plans(Objective::MaxRevenue), EngineConfig::default(), 5).unwrap();
    let date = day0();
    e.observe(&report_of(date, 5, 50.0)).unwrap();
    let mut hour = row(date, "a", "a1", 100, 5, 0, 2.0, 0.0);
    hour.hour = Some(9);
    let err = e.observe(&Report::new(vec![hour]).unwrap()).unwrap_err();
    assert!(matches!(err, Error::Inconsistent { .. }), "{err}");
    // With no memory, every report adds (the behaviour before restatements).
    let cfg = EngineConfig {
        restatement_days: 0,
        ..EngineConfig::default()
    };
    let mut e = Engine::new(two_plans(Objective::MaxRevenue), cfg, 5).unwrap();
    e.observe(&report_of(date, 5, 50.0)).unwrap();
    e.observe(&report_of(date, 5, 50.0)).unwrap();
    let c = e.estimates().unwrap().keywords[0][0].counts.clicks;
    assert!((c - 200.0).abs() < 1e-9, "{c}");
}

#[test]
fn a_recorded_bid_scale_is_checked_and_tells_the_engine_what_its_bids_bought() {
    let mut e = Engine::new(two_plans(Objective::MaxRevenue), EngineConfig::default(), 3).unwrap();
    let a = PlanId::new("a");
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 10.5] {
        assert!(
            matches!(
                e.record_bid_scale(&a, day0(), bad),
                Err(Error::InvalidValue { .. })
            ),
            "{bad}"
        );
    }
    assert!(matches!(
        e.record_bid_scale(&PlanId::new("zz"), day0(), 1.0),
        Err(Error::UnknownId { .. })
    ));
    // Two engines see the same days (each plan spends 60 of its 100); one is told that
    // plan a's pacer ran its bids at half scale. At its own bids plan a would then have
    // bought far more, so that engine bids a's keywords lower for the next day.
    let mean_bid = |e: &Engine| {
        let p = e.account().plan(&a).unwrap();
        p.keywords.iter().map(|k| k.bid.units()).sum::<f64>() / p.keywords.len() as f64
    };
    let mut bids = Vec::new();
    for told in [false, true] {
        let mut e =
            Engine::new(two_plans(Objective::MaxRevenue), EngineConfig::default(), 3).unwrap();
        for d in 0..3 {
            let date = day0().add_days(d);
            if told {
                e.record_bid_scale(&a, date, 0.5).unwrap();
            }
            let r = Report::new(vec![
                row(date, "a", "a1", 2000, 40, 3, 30.0, 300.0),
                row(date, "a", "a2", 2000, 40, 3, 30.0, 300.0),
                row(date, "b", "b1", 2000, 40, 3, 30.0, 300.0),
                row(date, "b", "b2", 2000, 40, 3, 30.0, 300.0),
            ])
            .unwrap();
            e.observe(&r).unwrap();
            e.decide(date.add_days(1)).unwrap();
        }
        bids.push(mean_bid(&e));
        // The recorded scales are part of the snapshot: a restored engine decides alike.
        let json = e.snapshot().to_json().unwrap();
        let mut back: Engine = Engine::restore(EngineSnapshot::from_json(&json).unwrap()).unwrap();
        let next = day0().add_days(4);
        assert_eq!(back.decide(next).unwrap(), e.decide(next).unwrap());
    }
    assert!(bids[1] < bids[0], "told {} vs untold {}", bids[1], bids[0]);
}

//! A policy written outside the crate, run inside the engine.
//!
//! The engine allocates money in proportion to the policy's scores, so it asks each policy
//! what its scores are ([`Policy::score_kind`]). This example writes two policies:
//! - `Optimist`, the posterior mean raised by a bonus that shrinks with the evidence (an
//!   optimistic index on the reward's scale), which the engine runs;
//! - `Ranker`, which scores arms by their rank only, which the engine refuses.
//!
//! Run with `cargo run --example custom_policy`.

use adbandit::engine::{Engine, EngineConfig};
use adbandit::policy::{Policy, PosteriorView, Reward, ScoreKind};
use adbandit::rng::SimRng;
use adbandit::{Account, Date, Keyword, KeywordId, MatchType, Money, Plan, PlanId};
use adbandit::{Report, ReportRow, Stats};
use serde::{Deserialize, Serialize};

/// Posterior mean x (1 + bonus x sqrt(1 / trials)): explores arms with little evidence,
/// deterministic, on the reward's scale.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Optimist {
    bonus: f64,
}

impl Policy for Optimist {
    fn name(&self) -> &'static str {
        "optimist"
    }

    fn score_kind(&self) -> ScoreKind {
        ScoreKind::OptimisticIndex
    }

    fn score(
        &self,
        arms: &dyn PosteriorView,
        reward: Reward,
        _round: u64,
        _rng: &mut SimRng,
        out: &mut [f64],
    ) {
        let (means, inv_n, active) = (arms.means(reward), arms.inv_trials(reward), arms.active());
        for (i, o) in out.iter_mut().enumerate().take(arms.len()) {
            *o = if active[i] {
                means[i] * (1.0 + self.bonus * inv_n[i].min(1.0).sqrt())
            } else {
                f64::NEG_INFINITY
            };
        }
    }
}

/// Scores each arm by its position in the list: a ranking, not a value.
#[derive(Debug, Clone)]
struct Ranker;

impl Policy for Ranker {
    fn name(&self) -> &'static str {
        "ranker"
    }

    fn score_kind(&self) -> ScoreKind {
        ScoreKind::RankingOnly
    }

    fn score(&self, arms: &dyn PosteriorView, _: Reward, _: u64, _: &mut SimRng, out: &mut [f64]) {
        for (i, o) in out.iter_mut().enumerate().take(arms.len()) {
            *o = -(i as f64);
        }
    }
}

fn main() -> adbandit::Result<()> {
    let y = |x| Money::from_units(x).unwrap_or(Money::ZERO);
    let account = Account::new(
        "Shop",
        "CNY",
        vec![
            Plan::new("dress", "Dresses", y(300), y(0), y(5)).with_keyword(Keyword::new(
                "d1",
                "red dress",
                MatchType::Exact,
                y(1),
            )),
            Plan::new("shoe", "Shoes", y(300), y(0), y(5)).with_keyword(Keyword::new(
                "s1",
                "running shoes",
                MatchType::Phrase,
                y(1),
            )),
        ],
    )?;

    let refused = Engine::with_policy(account.clone(), EngineConfig::default(), Ranker, 1);
    match refused {
        Err(e) => println!("ranker refused: {e}"),
        Ok(_) => println!("ranker accepted?"),
    }

    let mut engine =
        Engine::with_policy(account, EngineConfig::default(), Optimist { bonus: 2.0 }, 7)?;
    let mut day = Date::from_ymd(2026, 11, 1)?;
    for _ in 0..5 {
        let row = |plan: &str, kw: &str, clicks, orders, revenue| -> adbandit::Result<ReportRow> {
            Ok(ReportRow {
                date: day,
                hour: None,
                days: 1,
                plan: PlanId::new(plan),
                keyword: Some(KeywordId::new(kw)),
                stats: Stats::new(4_000, clicks, orders, y(150), y(revenue))?,
            })
        };
        engine.observe(&Report::new(vec![
            row("dress", "d1", 200, 20, 2_000)?,
            row("shoe", "s1", 120, 3, 240)?,
        ])?)?;
        day = day.add_days(1);
        let decision = engine.decide(day)?;
        for b in &decision.budgets {
            println!(
                "{day} {}: {} -> {} ({})",
                b.plan,
                b.from,
                b.to,
                b.reason.message()
            );
        }
    }
    // The custom policy's state goes into the snapshot like a built-in one.
    let json = engine.snapshot().to_json()?;
    println!("snapshot: {} bytes", json.len());
    Ok(())
}

//! # adbandit
//!
//! Bayesian bandits that shift ad bids and budgets toward the plans and keywords with higher
//! CTR and ROI, under the operator's limits, with a market simulator to try strategies on
//! before they touch money, and readers for the ad platforms' own report exports.
//!
//! In this trade "ROI" means revenue / cost (return on ad spend, ROAS), and the code keeps
//! that meaning. Money is integer micros ([`Money`]); rates and estimates are `f64`.
//!
//! ## The main loop
//!
//! An [`engine::Engine`] is built from an [`Account`], an [`engine::EngineConfig`] and a seed.
//! Each day it observes yesterday's report and decides today's budgets and bids; every change
//! carries a machine-readable code and a sentence for the operator.
//!
//! ```
//! use adbandit::engine::{Engine, EngineConfig};
//! use adbandit::{Account, Date, Keyword, KeywordId, MatchType, Money, Objective, Plan, PlanId};
//! use adbandit::{Report, ReportRow, Stats};
//!
//! let y = |x| Money::from_units(x).unwrap();
//! let account = Account::new("Shop", "CNY", vec![
//!     Plan::new("dress", "Dresses", y(300), y(0), y(5))
//!         .with_objective(Objective::TargetRoi { roi: 3.0 })
//!         .with_keyword(Keyword::new("d1", "red dress", MatchType::Exact, y(1))),
//!     Plan::new("shoe", "Shoes", y(300), y(0), y(5))
//!         .with_keyword(Keyword::new("s1", "running shoes", MatchType::Phrase, y(1))),
//! ])?;
//! let mut engine = Engine::new(account, EngineConfig::default(), 2026)?;
//!
//! let mut day = Date::from_ymd(2026, 11, 1)?;
//! for _ in 0..3 {
//!     // In a service this report comes from the platform (or `adbandit::ingest`).
//!     let row = |plan: &str, kw: &str, clicks, orders, revenue| ReportRow {
//!         date: day, hour: None, days: 1, plan: PlanId::new(plan), keyword: Some(KeywordId::new(kw)),
//!         stats: Stats::new(4_000, clicks, orders, y(150), y(revenue)).unwrap(),
//!     };
//!     engine.observe(&Report::new(vec![row("dress", "d1", 200, 20, 2_000), row("shoe", "s1", 120, 3, 240)])?)?;
//!     day = day.add_days(1);
//!     let decision = engine.decide(day)?;
//!     assert!(decision.budget_sum() <= decision.total_budget); // the total is a hard cap
//!     for b in &decision.budgets {
//!         println!("{}: {} -> {} ({})", b.plan, b.from, b.to, b.reason.message());
//!     }
//!     let snapshot = engine.snapshot().to_json()?; // persist; Engine::restore resumes exactly
//!     # let _ = snapshot;
//! }
//! let dress = engine.account().plan(&PlanId::new("dress")).unwrap().daily_budget;
//! assert!(dress > y(300)); // the plan with the higher return gained budget
//! # Ok::<(), adbandit::Error>(())
//! ```
//!
//! ## Layers
//!
//! Each module depends only on the ones listed before it:
//! - [`error`], [`money`], [`rng`], [`io`], [`cancel`]: the error type, integer-micro money,
//!   reproducible streams, size-capped file reads, cancellation on termination signals;
//! - [`model`]: account, plans, keywords, objectives, schedules, statistics and reports;
//! - [`estimate`]: posteriors for CTR, CVR, order value and ROI, with shrinkage and forgetting;
//! - [`policy`]: bandit policies (Thompson sampling, UCB1, Bayes-UCB, epsilon-greedy, softmax,
//!   EXP3) over [`policy::Arms`];
//! - [`allocate`], [`pacing`]: budgets across plans, bids per keyword, pacing within the day;
//! - [`creative`]: creative tests (which main image or copy wins, when to stop the losers);
//! - [`engine`]: the embeddable observe → decide → snapshot loop;
//! - [`apply`]: a decision as the files the platforms import;
//! - [`sim`]: the market simulator (scenarios, auctions, ground truth, the oracle);
//! - [`ingest`]: the platforms' report exports read into [`Report`]s;
//! - [`compare`]: strategies side by side on the simulator (runner, built-in strategies,
//!   summaries with paired intervals, reports and plots);
//! - [`analysis`], [`twin`]: effect analysis of an account's own report, and a simulator twin
//!   calibrated from it.
//! - [`sweep`]: sweep files, shards across machines, resumable JSON Lines results, merge.
//!
//! ## Features
//!
//! With `default-features = false` the crate is the engine alone: [`model`], [`estimate`],
//! [`policy`], [`allocate`], [`pacing`], [`creative`], [`engine`] (and their serde snapshots). The default
//! features add the rest; each can be taken alone:
//!
//! | feature | adds |
//! |---|---|
//! | `sim` | the market simulator `sim` |
//! | `ingest` | report readers `ingest`, and `analysis` |
//! | `compare` | `compare` (implies `sim`); with `ingest`, the account twin `twin` |
//! | `sweep` | `sweep` (implies `compare`) |
//! | `plots` | SVG plots in `compare`, `analysis` and `twin` (plotters) |
//! | `progress` | a progress bar on long comparisons (indicatif) |
//! | `apply` | a decision as upload files: change list, Google Ads Editor CSV, Amazon bulk sheet |
//! | `signals` | `cancel::Cancel::on_termination_signals` (SIGTERM/SIGINT; signal-hook) |
//! | `xlsx` | `.xlsx` exports in `ingest` (calamine; not a default) |
//!
//! Randomness always comes from a seed the caller controls ([`rng`]); the same seed gives the
//! same bits whatever the number of threads.

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

pub mod allocate;
#[cfg(feature = "ingest")]
pub mod analysis;
#[cfg(feature = "apply")]
pub mod apply;
pub mod cancel;
#[cfg(feature = "compare")]
pub mod compare;
pub mod creative;
pub mod engine;
pub mod error;
pub mod estimate;
#[cfg(feature = "ingest")]
pub mod ingest;
pub mod io;
pub mod model;
pub mod money;
pub mod pacing;
pub mod policy;
pub mod rng;
#[cfg(feature = "sim")]
pub mod sim;
#[cfg(feature = "sweep")]
pub mod sweep;
#[cfg(all(feature = "ingest", feature = "compare"))]
pub mod twin;

pub use error::{Error, Result};
pub use model::{
    Account, Date, Keyword, KeywordId, MatchType, NegativeKeyword, Objective, Plan, PlanId, Report,
    ReportRow, Schedule, Stats, Status, matching,
};
pub use money::Money;
pub use rng::SimRng;

/// The README's code blocks, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

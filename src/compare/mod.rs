//! Strategy comparison: the same scenarios, many strategies, many seeds, in parallel, with an
//! honest verdict.
//!
//! - [`strategy`]: the [`Strategy`] trait and the built-ins (static, even split, the manual
//!   CTR rule, engine-backed bandits, the oracle);
//! - [`runner`]: the [`Grid`] of jobs, run on a local rayon pool, reproducible on any number
//!   of threads;
//! - [`summary`]: means, Student-t intervals and paired differences against a baseline;
//! - [`report`]: JSON, CSV and the terminal table; [`plot`] (feature `plots`): SVG charts;
//! - [`verdict`]: which strategies lead, which are tied, by how much they beat the baseline.
//!
//! ```no_run
//! use adbandit::compare::{BuiltinStrategy, Grid, RunOptions, summarise, report};
//! use adbandit::sim::Scenario;
//! let grid = Grid::new(
//!     vec![Scenario::small()],
//!     BuiltinStrategy::entries(&["static", "thompson"])?,
//!     10,
//! );
//! let results = grid.run(&RunOptions::default())?;
//! let summary = summarise(&results, "static");
//! println!("{}", report::table(&summary));
//! # Ok::<(), adbandit::Error>(())
//! ```

#[cfg(feature = "plots")]
pub mod plot;
pub mod report;
pub mod runner;
pub mod seeds;
pub mod strategy;
pub mod summary;
pub mod verdict;

pub use runner::{
    CreativeDay, DayMetrics, DecisionKind, DecisionRecord, Detail, Grid, HourProfile, Job,
    JobResult, KeywordDay, PlanDay, RunMetrics, RunOptions, SearchTermDay,
};
pub use seeds::SeedSet;
pub use strategy::{
    BUILTIN_NAMES, BuiltinName, BuiltinStrategy, CalendarSource, EngineSettings, EngineStrategy,
    EvenSplit, FixedOracleStrategy, ManualRule, NamedStrategy, OracleStrategy, Static, Strategy,
    StrategyEntry, StrategyFactory, scenario_calendar, strategies_from_json,
};
pub use summary::{Interval, StrategySummary, Summary, paired, summarise};

//! Sweeps that outgrow one machine: a sweep file expands to an ordered list of jobs with
//! stable ids; shards run a slice of it (on Kubernetes Indexed Jobs, Slurm arrays or by
//! hand), appending each finished job to a JSON Lines file so a killed run resumes where it
//! stopped; [`merge()`] checks every job is there exactly once and summarises them to the
//! same bytes as a single-machine run.
//!
//! ```no_run
//! use std::path::Path;
//! use adbandit::sweep::{Shard, ShardOptions, Sweep, merge, run_shard};
//! let sweep = Sweep::load("sweep.json")?;
//! for i in 0..3 {
//!     // Normally one process (pod, array task) per shard.
//!     run_shard(&sweep, Shard::new(i, 3)?, Path::new("out"), &ShardOptions::default())?;
//! }
//! let merged = merge(&["out"])?;
//! println!("{}", adbandit::compare::report::table(&merged.summary));
//! # Ok::<(), adbandit::Error>(())
//! ```

/// Exit status of a sweep command whose input is wrong (sweep file, scenario, shard spec,
/// shard counts that disagree): re-running cannot help, so a cluster should not retry it
/// (the Kubernetes manifest's `podFailurePolicy` fails the Job at once on it). A signal
/// exits with 128 + the signal ([`crate::cancel::signal_exit_status`]), other failures 1.
pub const EXIT_CONFIG: u8 = 3;

pub mod merge;
pub mod shard;
pub mod spec;
pub mod store;

pub use merge::{Coverage, LineAt, Merged, RepairOptions, Repaired, coverage, merge, repair};
pub use shard::{SHARD_COUNT_VAR, Shard};
pub use spec::{
    MAX_JOBS, MAX_SCENARIOS, MAX_SEEDS, MAX_STRATEGIES, Seeds, StrategySpec, Sweep, SweepFile,
    SweepSpec,
};
pub use store::{
    DamagedLine, MAX_RESULT_LINE_BYTES, Manifest, ResultFile, ResultLine, ShardOptions, ShardRun,
    StoredLine, run_shard, run_shard_cancellable,
};

//! The engine's persistent state, with a format version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::config::EngineConfig;
use crate::engine::engine_impl::{DayLedger, MonthLedger, PlanTraffic};
use crate::error::{Error, Result};
use crate::estimate::Evidence;
use crate::model::{Account, Date};
use crate::money::Money;
use crate::rng::SimRng;

/// The snapshot format this build writes and reads.
pub const ENGINE_FORMAT_VERSION: u32 = 1;

/// Largest snapshot JSON accepted by [`EngineSnapshot::from_json`] (256 MiB), checked
/// before parsing.
pub const MAX_SNAPSHOT_BYTES: usize = 256 << 20;

/// Everything an engine needs to resume: account, config, policy state, evidence,
/// ledgers and the generator's state. Build it with `Engine::snapshot`, store it as JSON,
/// and give it back to `Engine::restore`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EngineSnapshot<P> {
    pub(crate) format_version: u32,
    pub(crate) account: Account,
    pub(crate) config: EngineConfig,
    pub(crate) policy: P,
    pub(crate) seed: u64,
    pub(crate) rng: SimRng,
    pub(crate) total_budget: Money,
    pub(crate) plan_evidence: Vec<Evidence>,
    pub(crate) keyword_evidence: Vec<Vec<Evidence>>,
    pub(crate) keyword_draws: Vec<Vec<(f64, f64)>>,
    pub(crate) keyword_draw_epoch: Option<i64>,
    pub(crate) traffic: Vec<PlanTraffic>,
    pub(crate) open_days: BTreeMap<i32, Vec<Option<DayLedger>>>,
    pub(crate) month: Option<MonthLedger>,
    pub(crate) round: u64,
    pub(crate) last_decision: Option<Date>,
}

impl<P: Serialize> EngineSnapshot<P> {
    /// The snapshot as JSON.
    ///
    /// # Errors
    /// [`Error::Serde`] if serialisation fails.
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string(self)?)
    }
}

impl<P: for<'de> Deserialize<'de>> EngineSnapshot<P> {
    /// A snapshot from JSON. The account and config are validated while parsing; the rest
    /// when the engine is restored.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for oversized input, [`Error::FormatVersion`] for another
    /// format, [`Error::Serde`] for malformed JSON.
    pub fn from_json(json: &str) -> Result<Self> {
        if json.len() > MAX_SNAPSHOT_BYTES {
            return Err(Error::invalid(
                "snapshot",
                format!("{} bytes", json.len()),
                "larger than MAX_SNAPSHOT_BYTES",
            ));
        }
        // Read the version first, so an old or new format gets a clear error, not a serde one.
        #[derive(Deserialize)]
        struct Version {
            format_version: u32,
        }
        let v: Version = serde_json::from_str(json)?;
        if v.format_version != ENGINE_FORMAT_VERSION {
            return Err(Error::FormatVersion {
                found: v.format_version,
                supported: ENGINE_FORMAT_VERSION,
            });
        }
        Ok(serde_json::from_str(json)?)
    }

    /// The format version.
    pub fn format_version(&self) -> u32 {
        self.format_version
    }
}

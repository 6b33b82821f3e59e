//! Snapshots: the engine's one persistent state (`EngineState`) with a format version.
//!
//! A snapshot is `{ "format_version": 2, "state": { ... } }`, where `state` is the engine's
//! one persistent state struct. Reading checks the version first; version 1 (the flat
//! layout written before the state struct existed) is migrated on load, so a snapshot
//! written by an older release restores and decides exactly as it would have.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::engine::state::EngineState;
use crate::error::{Error, Result};

/// The snapshot format this build writes. It reads this one and every older one.
pub const ENGINE_FORMAT_VERSION: u32 = 2;

/// Largest snapshot JSON accepted by [`EngineSnapshot::from_json`] (256 MiB), checked
/// before parsing.
pub const MAX_SNAPSHOT_BYTES: usize = 256 << 20;

/// Everything an engine needs to resume: account, config, policy state, evidence,
/// ledgers and the generator's state. Build it with `Engine::snapshot`, store it as JSON,
/// and give it back to `Engine::restore`.
///
/// Deserialising (with [`EngineSnapshot::from_json`] or any serde format) checks the
/// version, migrates older formats and rejects unknown fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngineSnapshot<P> {
    pub(crate) format_version: u32,
    pub(crate) state: EngineState<P>,
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

impl<P: DeserializeOwned> EngineSnapshot<P> {
    /// A snapshot from JSON, migrated to the current format. The account and config are
    /// validated while parsing; the state's shapes when the engine is restored.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for oversized input, [`Error::FormatVersion`] for a format
    /// newer than this build's, [`Error::Serde`] for malformed JSON or unknown fields.
    pub fn from_json(json: &str) -> Result<Self> {
        if json.len() > MAX_SNAPSHOT_BYTES {
            return Err(Error::invalid(
                "snapshot",
                format!("{} bytes", json.len()),
                "larger than MAX_SNAPSHOT_BYTES",
            ));
        }
        Self::from_value(serde_json::from_str(json)?)
    }

    /// A snapshot from a parsed JSON value (see [`EngineSnapshot::from_json`]).
    ///
    /// # Errors
    /// As [`EngineSnapshot::from_json`].
    pub fn from_value(v: Value) -> Result<Self> {
        let Value::Object(mut o) = v else {
            return Err(Error::invalid(
                "snapshot",
                "not an object",
                "must be a JSON object",
            ));
        };
        // Read the version first, so an old or new format gets a clear error, not a serde one.
        let found = o
            .get("format_version")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                Error::invalid(
                    "snapshot.format_version",
                    "missing",
                    "must be a non-negative integer",
                )
            })?;
        let found = u32::try_from(found).unwrap_or(u32::MAX);
        let state = match found {
            1 => migrate_v1(o)?,
            ENGINE_FORMAT_VERSION => {
                let state = o.remove("state").ok_or_else(|| {
                    Error::invalid("snapshot.state", "missing", "a snapshot needs its state")
                })?;
                o.remove("format_version");
                reject_unknown(&o)?;
                state
            }
            _ => {
                return Err(Error::FormatVersion {
                    found,
                    supported: ENGINE_FORMAT_VERSION,
                });
            }
        };
        Ok(EngineSnapshot {
            format_version: ENGINE_FORMAT_VERSION,
            state: serde_json::from_value(state)?,
        })
    }

    /// The format version (after migration, always [`ENGINE_FORMAT_VERSION`]).
    pub fn format_version(&self) -> u32 {
        self.format_version
    }
}

impl<'de, P: DeserializeOwned> Deserialize<'de> for EngineSnapshot<P> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        EngineSnapshot::from_value(Value::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// Version 1 kept the state's fields flat beside `format_version`; version 2 groups them.
fn migrate_v1(mut o: Map<String, Value>) -> Result<Value> {
    let mut take = |k: &str| o.remove(k).unwrap_or(Value::Null);
    let mut state = Map::new();
    for k in [
        "account",
        "config",
        "policy",
        "seed",
        "rng",
        "total_budget",
        "traffic",
        "round",
        "last_decision",
    ] {
        state.insert(k.into(), take(k));
    }
    state.insert(
        "evidence".into(),
        serde_json::json!({ "plans": take("plan_evidence"), "keywords": take("keyword_evidence") }),
    );
    state.insert(
        "draws".into(),
        serde_json::json!({ "ratios": take("keyword_draws"), "epoch": take("keyword_draw_epoch") }),
    );
    let open_days = match take("open_days") {
        Value::Null => Value::Object(Map::new()),
        v => v,
    };
    state.insert(
        "ledgers".into(),
        serde_json::json!({ "open_days": open_days, "month": take("month") }),
    );
    o.remove("format_version");
    reject_unknown(&o)?;
    Ok(Value::Object(state))
}

/// Fields left over after the known ones were taken are an error, not silently dropped.
fn reject_unknown(o: &Map<String, Value>) -> Result<()> {
    match o.keys().next() {
        Some(k) => Err(Error::invalid(
            format!("snapshot.{k}"),
            "present",
            "unknown field",
        )),
        None => Ok(()),
    }
}

//! The sweep file: scenarios, strategies with parameter grids, seeds, days, fidelity.
//!
//! ```json
//! {
//!   "name": "policies-vs-manual",
//!   "scenarios": ["small", "my_shop.json"],
//!   "strategies": [
//!     {"name": "static"},
//!     {"name": "manual_rule", "grid": {"step": [0.05, 0.1], "share": [0.25, 0.5]}},
//!     {"name": "ts", "builtin": "thompson", "grid": {"half_life_days": [3, 7, 14]}}
//!   ],
//!   "seeds": 20,
//!   "days": 14,
//!   "fidelity": "fast",
//!   "baseline": "static"
//! }
//! ```
//!
//! A scenario is a built-in name ([`Scenario::BUILTIN`]) or a file path, relative to the
//! sweep file. A strategy starts from a built-in (`builtin`, default: its `name`) or from
//! explicit `params` (a [`BuiltinStrategy`] as JSON); `grid` maps dotted paths into those
//! parameters (e.g. `"policy.epsilon"`) to lists of values, and expands to their Cartesian
//! product, each combination named `name[key=value,...]` (keys in sorted order). `seeds`
//! is a count (seeds `0..n`) or a list.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::compare::{BuiltinStrategy, Detail, Grid, Job, RunOptions, StrategyEntry};
use crate::error::{Error, Result};
use crate::rng::content_hash as fnv1a;
use crate::sim::{Fidelity, Granularity, Scenario};

/// Format tag stored with manifests and hashed into fingerprints.
pub const FORMAT: &str = "adbandit-sweep/1";

fn default_master_seed() -> u64 {
    RunOptions::default().master_seed
}
fn default_fidelity() -> Fidelity {
    Fidelity::Fast
}
fn default_granularity() -> Granularity {
    Granularity::Daily
}

/// Seeds: a count (`0..n`) or an explicit list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Seeds {
    /// Seeds `0..n`.
    Count(u64),
    /// These seeds, in this order.
    List(Vec<u64>),
}

/// One strategy of a sweep file, before grid expansion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategySpec {
    /// Name (unique in the sweep; grid points get `name[key=value,...]`).
    pub name: String,
    /// Built-in to start from (default: `name`); ignored when `params` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<String>,
    /// Explicit parameters: a [`BuiltinStrategy`] as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<serde_json::Value>,
    /// Dotted parameter path -> values to try.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub grid: BTreeMap<String, Vec<serde_json::Value>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweepSpec {
    #[serde(default)]
    name: Option<String>,
    scenarios: Vec<String>,
    strategies: Vec<StrategySpec>,
    seeds: Seeds,
    #[serde(default)]
    days: Option<u32>,
    #[serde(default = "default_fidelity")]
    fidelity: Fidelity,
    #[serde(default = "default_granularity")]
    granularity: Granularity,
    #[serde(default = "default_master_seed")]
    master_seed: u64,
    #[serde(default)]
    baseline: Option<String>,
    #[serde(default)]
    detail: Detail,
}

/// A validated sweep file (scenarios not yet loaded). Build it with [`SweepSpec::from_json`]
/// or serde; [`Sweep::new`] resolves the scenarios.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawSweepSpec")]
pub struct SweepSpec {
    name: String,
    scenarios: Vec<String>,
    strategies: Vec<(String, BuiltinStrategy)>,
    seeds: Vec<u64>,
    days: Option<u32>,
    fidelity: Fidelity,
    granularity: Granularity,
    master_seed: u64,
    baseline: String,
    detail: Detail,
}

/// Sets `path` (dotted) in `v` to `x`; the key must already exist, so typos are caught.
fn set_path(v: &mut serde_json::Value, name: &str, path: &str, x: serde_json::Value) -> Result<()> {
    let mut cur = v;
    for key in path.split('.') {
        cur = cur
            .as_object_mut()
            .and_then(|o| o.get_mut(key))
            .ok_or_else(|| {
                Error::invalid(
                    format!("strategies.{name}.grid.{path}"),
                    key,
                    "no such parameter in the strategy",
                )
            })?;
    }
    *cur = x;
    Ok(())
}

/// Expands one strategy spec into named built-ins, grid points in lexicographic order.
fn expand(spec: &StrategySpec) -> Result<Vec<(String, BuiltinStrategy)>> {
    let base = match &spec.params {
        Some(p) => serde_json::from_value::<BuiltinStrategy>(p.clone()).map_err(|e| {
            Error::invalid(format!("strategies.{}.params", spec.name), p, e.to_string())
        })?,
        None => BuiltinStrategy::by_name(spec.builtin.as_deref().unwrap_or(&spec.name))?,
    };
    let base = serde_json::to_value(&base)?;
    let mut points: Vec<(Vec<String>, serde_json::Value)> = vec![(Vec::new(), base)];
    for (key, values) in &spec.grid {
        if values.is_empty() {
            return Err(Error::invalid(
                format!("strategies.{}.grid.{key}", spec.name),
                "[]",
                "needs at least one value",
            ));
        }
        let mut next = Vec::with_capacity(points.len() * values.len());
        for (label, params) in &points {
            for x in values {
                let mut p = params.clone();
                set_path(&mut p, &spec.name, key, x.clone())?;
                let mut l = label.clone();
                l.push(format!("{key}={x}"));
                next.push((l, p));
            }
        }
        points = next;
    }
    points
        .into_iter()
        .map(|(label, params)| {
            let name = if label.is_empty() {
                spec.name.clone()
            } else {
                format!("{}[{}]", spec.name, label.join(","))
            };
            let s = serde_json::from_value::<BuiltinStrategy>(params.clone()).map_err(|e| {
                Error::invalid(format!("strategies.{name}"), &params, e.to_string())
            })?;
            Ok((name, s))
        })
        .collect()
}

impl TryFrom<RawSweepSpec> for SweepSpec {
    type Error = Error;

    fn try_from(raw: RawSweepSpec) -> Result<Self> {
        if raw.scenarios.is_empty() {
            return Err(Error::invalid("scenarios", "[]", "needs at least one"));
        }
        let mut seen = BTreeSet::new();
        for s in &raw.scenarios {
            if !seen.insert(s) {
                return Err(Error::DuplicateId {
                    kind: "scenario",
                    id: s.clone(),
                });
            }
        }
        let seeds = match raw.seeds {
            Seeds::Count(0) => return Err(Error::invalid("seeds", 0, "needs at least one")),
            Seeds::Count(n) => (0..n).collect(),
            Seeds::List(v) if v.is_empty() => {
                return Err(Error::invalid("seeds", "[]", "needs at least one"));
            }
            Seeds::List(v) => v,
        };
        let mut seen = BTreeSet::new();
        for s in &seeds {
            if !seen.insert(*s) {
                return Err(Error::DuplicateId {
                    kind: "seed",
                    id: s.to_string(),
                });
            }
        }
        if raw.days == Some(0) {
            return Err(Error::invalid("days", 0, "must be at least 1"));
        }
        if raw.strategies.is_empty() {
            return Err(Error::invalid("strategies", "[]", "needs at least one"));
        }
        let mut strategies = Vec::new();
        let mut names = BTreeSet::new();
        for spec in &raw.strategies {
            for (name, s) in expand(spec)? {
                if !names.insert(name.clone()) {
                    return Err(Error::DuplicateId {
                        kind: "strategy",
                        id: name,
                    });
                }
                strategies.push((name, s));
            }
        }
        let baseline = raw.baseline.unwrap_or_else(|| strategies[0].0.clone());
        if !names.contains(&baseline) {
            return Err(Error::UnknownId {
                kind: "baseline strategy",
                id: baseline,
            });
        }
        Ok(SweepSpec {
            name: raw.name.unwrap_or_else(|| "sweep".to_owned()),
            scenarios: raw.scenarios,
            strategies,
            seeds,
            days: raw.days,
            fidelity: raw.fidelity,
            granularity: raw.granularity,
            master_seed: raw.master_seed,
            baseline,
            detail: raw.detail,
        })
    }
}

impl SweepSpec {
    /// Parses and validates a sweep file's text.
    ///
    /// # Errors
    /// [`Error::Serde`] naming the field for malformed or invalid content.
    pub fn from_json(text: &str) -> Result<Self> {
        Ok(serde_json::from_str(text)?)
    }

    /// The sweep's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Strategies after grid expansion, in order.
    pub fn strategies(&self) -> &[(String, BuiltinStrategy)] {
        &self.strategies
    }
}

/// A sweep ready to run: scenarios loaded, jobs listed in a fixed order (scenario, then
/// strategy, then seed), with a fingerprint of everything that decides its results.
#[derive(Debug, Clone)]
pub struct Sweep {
    name: String,
    grid: Grid,
    options: RunOptions,
    baseline: String,
    jobs: Vec<Job>,
    fingerprint: String,
}

impl Sweep {
    /// Loads a sweep file; scenario paths are relative to its directory.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be read, then as [`SweepSpec::from_json`] and [`Sweep::new`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let p = path.as_ref();
        let text = std::fs::read_to_string(p).map_err(|e| Error::Io {
            path: p.display().to_string(),
            reason: e.to_string(),
        })?;
        let spec: SweepSpec = serde_json::from_str(&text).map_err(|e| Error::Parse {
            file: p.display().to_string(),
            line: e.line(),
            column: e.column().to_string(),
            reason: e.to_string(),
        })?;
        Sweep::new(&spec, p.parent().unwrap_or(Path::new(".")))
    }

    /// Resolves the scenarios of `spec` (files relative to `base_dir`) and lists the jobs.
    ///
    /// # Errors
    /// Scenario load errors, [`Error::DuplicateId`] for two scenarios with one name, and the
    /// errors of [`Grid::jobs`] (e.g. `days` beyond a scenario's horizon).
    pub fn new(spec: &SweepSpec, base_dir: &Path) -> Result<Self> {
        let scenarios = spec
            .scenarios
            .iter()
            .map(|s| {
                if Scenario::BUILTIN.contains(&s.as_str()) {
                    Scenario::builtin(s)
                } else {
                    let p = PathBuf::from(s);
                    Scenario::load(if p.is_absolute() { p } else { base_dir.join(p) })
                }
            })
            .collect::<Result<Vec<_>>>()?;
        // Parameters serde cannot check (ranges the constructors enforce) fail here, before
        // any shard starts, not in the middle of a cluster run. The oracle is skipped: its
        // construction solves the scenario and it has no parameters.
        if let Some(first) = scenarios.first() {
            for (name, s) in &spec.strategies {
                if !s.reads_truth() {
                    s.build(first, 0).map_err(|e| {
                        Error::invalid(format!("strategies.{name}"), name, e.to_string())
                    })?;
                }
            }
        }
        let strategies: Vec<StrategyEntry> = spec
            .strategies
            .iter()
            .map(|(n, s)| s.clone().entry(n.clone()))
            .collect();
        let grid = Grid {
            scenarios,
            strategies,
            seeds: spec.seeds.clone(),
        };
        let options = RunOptions {
            master_seed: spec.master_seed,
            days: spec.days,
            fidelity: spec.fidelity,
            granularity: spec.granularity,
            threads: 1,
            progress: false,
            detail: spec.detail,
        };
        let jobs = grid.jobs(&options)?;
        let fingerprint = fingerprint(&jobs, &spec.baseline, spec.granularity)?;
        Ok(Sweep {
            name: spec.name.clone(),
            grid,
            options,
            baseline: spec.baseline.clone(),
            jobs,
            fingerprint,
        })
    }

    /// The sweep's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The grid (scenarios, strategies, seeds).
    pub fn grid(&self) -> &Grid {
        &self.grid
    }
    /// Run options (one thread; set `threads` before running).
    pub fn options(&self) -> RunOptions {
        self.options
    }
    /// The baseline strategy of the summary.
    pub fn baseline(&self) -> &str {
        &self.baseline
    }
    /// Every job, in sweep order.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }
    /// Hash (hex) of the format, the job ids in order, the baseline and the granularity.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// The sweep fingerprint: job ids already hash scenario contents, strategy parameters,
/// seeds, master seed, fidelity and days; add what else changes results or the summary.
pub(crate) fn fingerprint(
    jobs: &[Job],
    baseline: &str,
    granularity: Granularity,
) -> Result<String> {
    let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    let key = serde_json::to_string(&(FORMAT, ids, baseline, granularity))?;
    Ok(format!("{:016x}", fnv1a(key.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_expands_in_sorted_key_order_with_names() {
        let spec = SweepSpec::from_json(
            r#"{"scenarios":["small"],"seeds":2,
                "strategies":[{"name":"static"},
                  {"name":"manual_rule","grid":{"step":[0.05,0.1],"share":[0.25,0.5]}}]}"#,
        )
        .unwrap();
        let names: Vec<&str> = spec.strategies().iter().map(|s| s.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "static",
                "manual_rule[share=0.25,step=0.05]",
                "manual_rule[share=0.25,step=0.1]",
                "manual_rule[share=0.5,step=0.05]",
                "manual_rule[share=0.5,step=0.1]",
            ]
        );
        assert_eq!(
            spec.strategies()[2].1,
            BuiltinStrategy::ManualRule {
                step: 0.1,
                share: 0.25
            }
        );
    }

    #[test]
    fn nested_grid_paths_reach_policy_parameters() {
        let spec = SweepSpec::from_json(
            r#"{"scenarios":["small"],"seeds":[3,1],
                "strategies":[{"name":"ts","builtin":"thompson","grid":{"half_life_days":[3,7]}}]}"#,
        )
        .unwrap();
        assert_eq!(spec.strategies().len(), 2);
        assert_eq!(spec.baseline, "ts[half_life_days=3]");
        assert_eq!(spec.seeds, [3, 1]);
    }

    #[test]
    fn bad_files_are_rejected_with_the_field() {
        let bad = [
            r#"{"scenarios":[],"seeds":1,"strategies":[{"name":"static"}]}"#,
            r#"{"scenarios":["small"],"seeds":0,"strategies":[{"name":"static"}]}"#,
            r#"{"scenarios":["small"],"seeds":[1,1],"strategies":[{"name":"static"}]}"#,
            r#"{"scenarios":["small"],"seeds":1,"strategies":[{"name":"nope"}]}"#,
            r#"{"scenarios":["small"],"seeds":1,"strategies":[{"name":"static","grid":{"step":[1]}}]}"#,
            r#"{"scenarios":["small"],"seeds":1,"strategies":[{"name":"manual_rule","grid":{"step":[]}}]}"#,
            r#"{"scenarios":["small"],"seeds":1,"strategies":[{"name":"static"}],"baseline":"x"}"#,
            r#"{"scenarios":["small"],"seeds":1,"strategies":[{"name":"static"},{"name":"static"}]}"#,
            r#"{"scenarios":["small"],"seeds":1,"strategies":[{"name":"static"}],"days":0}"#,
            r#"{"scenarios":["small"],"seeds":1,"strategies":[{"name":"static"}],"typo":1}"#,
        ];
        for b in bad {
            assert!(SweepSpec::from_json(b).is_err(), "accepted {b}");
        }
    }

    #[test]
    fn fingerprint_and_ids_are_stable_when_strategies_are_added() {
        let a = SweepSpec::from_json(
            r#"{"scenarios":["small"],"seeds":2,"days":2,"strategies":[{"name":"static"}]}"#,
        )
        .unwrap();
        let b = SweepSpec::from_json(
            r#"{"scenarios":["small"],"seeds":2,"days":2,"baseline":"static",
                "strategies":[{"name":"even_split"},{"name":"static"}]}"#,
        )
        .unwrap();
        let (a, b) = (
            Sweep::new(&a, Path::new(".")).unwrap(),
            Sweep::new(&b, Path::new(".")).unwrap(),
        );
        assert_ne!(a.fingerprint(), b.fingerprint());
        for j in a.jobs() {
            assert!(b.jobs().iter().any(|k| k.id == j.id));
        }
    }
}

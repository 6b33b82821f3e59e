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
use crate::io::{MAX_SCENARIO_FILE_BYTES, MAX_SWEEP_FILE_BYTES, read_to_string_capped};
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

/// Most scenarios in one sweep.
pub const MAX_SCENARIOS: usize = 256;
/// Most strategies in one sweep, after grid expansion (all specs together).
pub const MAX_STRATEGIES: usize = 10_000;
/// Most seeds in one sweep.
pub const MAX_SEEDS: u64 = 1_000_000;
/// Most jobs (scenarios x strategies x seeds) in one sweep. A job's result line is a few
/// kilobytes, so this bounds a sweep's results to a few gigabytes.
pub const MAX_JOBS: u64 = 1_000_000;

/// A sweep file as written, unchecked: the one list of its fields. [`SweepSpec`] is the
/// checked form (serde deserialises a `SweepSpec` through this and validates it); build one
/// by hand to write a sweep file from code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepFile {
    /// Name (default `sweep`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Built-in scenario names or files (relative to the sweep file).
    pub scenarios: Vec<String>,
    /// Strategies, each with an optional grid.
    pub strategies: Vec<StrategySpec>,
    /// Seeds.
    pub seeds: Seeds,
    /// Days to simulate (default: each scenario's horizon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// Market fidelity (default fast).
    #[serde(default = "default_fidelity")]
    pub fidelity: Fidelity,
    /// Report granularity handed to strategies (default daily).
    #[serde(default = "default_granularity")]
    pub granularity: Granularity,
    /// Master seed (default as [`RunOptions::default`]).
    #[serde(default = "default_master_seed")]
    pub master_seed: u64,
    /// Baseline strategy of the summary (default: the first strategy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// Which per-day records each job keeps (default totals only).
    #[serde(default, skip_serializing_if = "is_totals")]
    pub detail: Detail,
}

/// A validated sweep file (scenarios not yet loaded): the file plus its grid expansion.
/// Build it with [`SweepSpec::from_json`], [`SweepSpec::try_from`] a [`SweepFile`], or
/// serde; [`Sweep::new`] resolves the scenarios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SweepFile", into = "SweepFile")]
pub struct SweepSpec {
    file: SweepFile,
    strategies: Vec<(String, BuiltinStrategy)>,
    seeds: Vec<u64>,
    baseline: String,
}

impl From<SweepSpec> for SweepFile {
    fn from(s: SweepSpec) -> Self {
        s.file
    }
}

fn is_totals(d: &Detail) -> bool {
    *d == Detail::Totals
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

/// Fails on a key of `given` that `canonical` (the parsed value written back) lacks: a
/// misspelt parameter would otherwise be dropped silently and the default used.
fn reject_unknown_keys(
    given: &serde_json::Value,
    canonical: &serde_json::Value,
    path: &str,
) -> Result<()> {
    if let (Some(g), Some(c)) = (given.as_object(), canonical.as_object()) {
        for (k, v) in g {
            let at = format!("{path}.{k}");
            match c.get(k) {
                None => {
                    return Err(Error::invalid(
                        at,
                        v,
                        "unknown field (misspelt?): not a parameter of this strategy",
                    ));
                }
                Some(cv) => reject_unknown_keys(v, cv, &at)?,
            }
        }
    }
    Ok(())
}

/// Number of grid points of `spec`, checked against `room` (what [`MAX_STRATEGIES`] leaves)
/// before anything is expanded.
fn grid_size(spec: &StrategySpec, room: usize) -> Result<usize> {
    let mut n: usize = 1;
    for (key, values) in &spec.grid {
        if values.is_empty() {
            return Err(Error::invalid(
                format!("strategies.{}.grid.{key}", spec.name),
                "[]",
                "needs at least one value",
            ));
        }
        n = n.saturating_mul(values.len());
    }
    if n > room {
        return Err(Error::invalid(
            format!("strategies.{}.grid", spec.name),
            format!("{n} combinations"),
            format!("a sweep has at most {MAX_STRATEGIES} strategies after grid expansion"),
        ));
    }
    Ok(n)
}

/// Expands one strategy spec into named built-ins, grid points in lexicographic order.
fn expand(spec: &StrategySpec) -> Result<Vec<(String, BuiltinStrategy)>> {
    let base = match &spec.params {
        Some(p) => {
            let s = serde_json::from_value::<BuiltinStrategy>(p.clone()).map_err(|e| {
                Error::invalid(format!("strategies.{}.params", spec.name), p, e.to_string())
            })?;
            reject_unknown_keys(
                p,
                &serde_json::to_value(&s)?,
                &format!("strategies.{}.params", spec.name),
            )?;
            s
        }
        None => BuiltinStrategy::by_name(spec.builtin.as_deref().unwrap_or(&spec.name))?,
    };
    let base = serde_json::to_value(&base)?;
    let mut points: Vec<(Vec<String>, serde_json::Value)> = vec![(Vec::new(), base)];
    for (key, values) in &spec.grid {
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
            reject_unknown_keys(
                &params,
                &serde_json::to_value(&s)?,
                &format!("strategies.{name}"),
            )?;
            Ok((name, s))
        })
        .collect()
}

impl TryFrom<SweepFile> for SweepSpec {
    type Error = Error;

    fn try_from(file: SweepFile) -> Result<Self> {
        if file.scenarios.is_empty() {
            return Err(Error::invalid("scenarios", "[]", "needs at least one"));
        }
        if file.scenarios.len() > MAX_SCENARIOS {
            return Err(Error::invalid(
                "scenarios",
                format!("{} scenarios", file.scenarios.len()),
                format!("a sweep has at most {MAX_SCENARIOS}"),
            ));
        }
        let mut seen = BTreeSet::new();
        for s in &file.scenarios {
            if !seen.insert(s) {
                return Err(Error::DuplicateId {
                    kind: "scenario",
                    id: s.clone(),
                });
            }
        }
        let n_seeds = match &file.seeds {
            Seeds::Count(n) => *n,
            Seeds::List(v) => v.len() as u64,
        };
        if n_seeds == 0 {
            return Err(Error::invalid("seeds", 0, "needs at least one"));
        }
        if n_seeds > MAX_SEEDS {
            return Err(Error::invalid(
                "seeds",
                n_seeds,
                format!("a sweep has at most {MAX_SEEDS} seeds"),
            ));
        }
        let seeds: Vec<u64> = match &file.seeds {
            Seeds::Count(n) => (0..*n).collect(),
            Seeds::List(v) => v.clone(),
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
        if file.days == Some(0) {
            return Err(Error::invalid("days", 0, "must be at least 1"));
        }
        if file.strategies.is_empty() {
            return Err(Error::invalid("strategies", "[]", "needs at least one"));
        }
        // Sizes first, so a grid of millions fails before any of it is built.
        let mut total = 0usize;
        for spec in &file.strategies {
            total += grid_size(spec, MAX_STRATEGIES - total)?;
        }
        let jobs = (file.scenarios.len() as u64)
            .saturating_mul(total as u64)
            .saturating_mul(n_seeds);
        if jobs > MAX_JOBS {
            return Err(Error::invalid(
                "scenarios x strategies x seeds",
                format!(
                    "{} x {total} x {n_seeds} = {jobs} jobs",
                    file.scenarios.len()
                ),
                format!("a sweep has at most {MAX_JOBS} jobs: split it into several sweeps"),
            ));
        }
        let mut strategies = Vec::with_capacity(total);
        let mut names = BTreeSet::new();
        for spec in &file.strategies {
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
        let baseline = file
            .baseline
            .clone()
            .unwrap_or_else(|| strategies[0].0.clone());
        if !names.contains(&baseline) {
            return Err(Error::UnknownId {
                kind: "baseline strategy",
                id: baseline,
            });
        }
        Ok(SweepSpec {
            file,
            strategies,
            seeds,
            baseline,
        })
    }
}

impl SweepSpec {
    /// Parses and validates a sweep file's text.
    ///
    /// # Errors
    /// [`Error::Serde`] for malformed JSON or an unknown field; the validation errors of
    /// [`SweepSpec::try_from`] (typed, naming the field and the bound: [`MAX_SEEDS`],
    /// [`MAX_STRATEGIES`], [`MAX_SCENARIOS`], [`MAX_JOBS`]).
    pub fn from_json(text: &str) -> Result<Self> {
        let file: SweepFile = serde_json::from_str(text)?;
        SweepSpec::try_from(file)
    }

    /// The sweep's name.
    pub fn name(&self) -> &str {
        self.file.name.as_deref().unwrap_or("sweep")
    }

    /// The file this spec was validated from.
    pub fn file(&self) -> &SweepFile {
        &self.file
    }

    /// Strategies after grid expansion, in order.
    pub fn strategies(&self) -> &[(String, BuiltinStrategy)] {
        &self.strategies
    }

    /// The seeds, in order.
    pub fn seeds(&self) -> &[u64] {
        &self.seeds
    }

    /// The baseline strategy (the first strategy unless the file names one).
    pub fn baseline(&self) -> &str {
        &self.baseline
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
    /// Loads a sweep file; scenario paths are relative to its directory. The sweep file is
    /// read through a cap of [`MAX_SWEEP_FILE_BYTES`], each scenario file through
    /// [`MAX_SCENARIO_FILE_BYTES`].
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be read, [`Error::InvalidValue`] if it is over the cap,
    /// [`Error::Parse`] with the line for malformed JSON or an unknown field, then the
    /// validation errors of [`SweepSpec::try_from`] and those of [`Sweep::new`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let p = path.as_ref();
        let text = read_to_string_capped(p, MAX_SWEEP_FILE_BYTES)?;
        let file: SweepFile = serde_json::from_str(&text).map_err(|e| parse_error(p, &e))?;
        let spec = SweepSpec::try_from(file)?;
        Sweep::new(&spec, p.parent().unwrap_or(Path::new(".")))
    }

    /// Resolves the scenarios of `spec` (files relative to `base_dir`) and lists the jobs.
    ///
    /// # Errors
    /// Scenario load errors, [`Error::DuplicateId`] for two scenarios with one name, and the
    /// errors of [`Grid::jobs`] (e.g. `days` beyond a scenario's horizon).
    pub fn new(spec: &SweepSpec, base_dir: &Path) -> Result<Self> {
        let scenarios = spec
            .file
            .scenarios
            .iter()
            .map(|s| {
                if Scenario::BUILTIN.contains(&s.as_str()) {
                    Scenario::builtin(s)
                } else {
                    let p = PathBuf::from(s);
                    load_scenario(&if p.is_absolute() { p } else { base_dir.join(p) })
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
            master_seed: spec.file.master_seed,
            days: spec.file.days,
            fidelity: spec.file.fidelity,
            granularity: spec.file.granularity,
            threads: 1,
            progress: false,
            detail: spec.file.detail,
        };
        let jobs = grid.jobs(&options)?;
        let fingerprint = fingerprint(
            &jobs,
            &spec.baseline,
            spec.file.granularity,
            spec.file.detail,
        )?;
        Ok(Sweep {
            name: spec.name().to_owned(),
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

/// A scenario file, read through the cap; JSON errors carry the file and line.
fn load_scenario(path: &Path) -> Result<Scenario> {
    let text = read_to_string_capped(path, MAX_SCENARIO_FILE_BYTES)?;
    serde_json::from_str(&text).map_err(|e| parse_error(path, &e))
}

fn parse_error(path: &Path, e: &serde_json::Error) -> Error {
    Error::Parse {
        file: path.display().to_string(),
        line: e.line(),
        column: e.column().to_string(),
        reason: e.to_string(),
    }
}

/// The sweep fingerprint: job ids already hash scenario contents, strategy parameters,
/// seeds, master seed, fidelity and days; add what else changes results or the summary.
/// The records' detail is part of it (shards with and without per-day records must not
/// mix), hashed only when it is not the default so earlier sweeps keep their fingerprints.
pub(crate) fn fingerprint(
    jobs: &[Job],
    baseline: &str,
    granularity: Granularity,
    detail: Detail,
) -> Result<String> {
    let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    let key = if detail == Detail::Totals {
        serde_json::to_string(&(FORMAT, ids, baseline, granularity))?
    } else {
        serde_json::to_string(&(FORMAT, ids, baseline, granularity, detail))?
    };
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
        // The records' detail is part of the fingerprint; the default leaves it as it was.
        let with = |detail: &str| {
            let spec = SweepSpec::from_json(&format!(
                r#"{{"scenarios":["small"],"seeds":1,"strategies":[{{"name":"static"}}]{detail}}}"#
            ))
            .unwrap();
            Sweep::new(&spec, Path::new("."))
                .unwrap()
                .fingerprint()
                .to_owned()
        };
        let plain = with("");
        assert_eq!(plain, with(r#","detail":"totals""#));
        assert_ne!(plain, with(r#","detail":"plans""#));
        assert_ne!(
            with(r#","detail":"plans""#),
            with(r#","detail":"keywords""#)
        );
        for j in a.jobs() {
            assert!(b.jobs().iter().any(|k| k.id == j.id));
        }
    }

    #[test]
    fn sizes_are_bounded_before_anything_is_built() {
        let t = std::time::Instant::now();
        let field = |text: &str| match SweepSpec::from_json(text) {
            Err(Error::InvalidValue { field, reason, .. }) => (field, reason),
            other => panic!("{text}: {other:?}"),
        };
        // Issue 17: 1e12 seeds aborted the process allocating them.
        let (f, r) = field(
            r#"{"scenarios":["small"],"seeds":1000000000000,"strategies":[{"name":"static"}]}"#,
        );
        assert_eq!(f, "seeds");
        assert!(r.contains(&MAX_SEEDS.to_string()), "{r}");
        // A 12 KB-class sweep expanding to 2,000,000 strategies (5 keys x 19..20 values).
        let values: Vec<String> = (0..20).map(|i| format!("0.{i:02}")).collect();
        let list = values.join(",");
        let grid = format!(
            r#"{{"a":[{list}],"b":[{list}],"c":[{list}],"d":[{list}],"e":[{}]}}"#,
            values[..12].join(",")
        );
        let text = format!(
            r#"{{"scenarios":["small"],"seeds":1,"strategies":[{{"name":"manual_rule","grid":{grid}}}]}}"#
        );
        let (f, r) = field(&text);
        assert_eq!(f, "strategies.manual_rule.grid");
        assert!(r.contains(&MAX_STRATEGIES.to_string()), "{r}");
        // Each factor under its limit, the product over it.
        let text = r#"{"scenarios":["small","default","drift"],"seeds":400000,"strategies":[{"name":"static"}]}"#;
        let (f, r) = field(text);
        assert_eq!(f, "scenarios x strategies x seeds");
        assert!(r.contains(&MAX_JOBS.to_string()), "{r}");
        // A grid that is large only across specs.
        let many: Vec<String> = (0..MAX_STRATEGIES / 4 + 1)
            .map(|i| format!("{i}"))
            .collect();
        let g = format!(
            r#"{{"step":[{}],"share":[0.1,0.2,0.3,0.4]}}"#,
            many.join(",")
        );
        let text = format!(
            r#"{{"scenarios":["small"],"seeds":1,"strategies":[{{"name":"static"}},{{"name":"manual_rule","grid":{g}}}]}}"#
        );
        assert!(matches!(
            SweepSpec::from_json(&text),
            Err(Error::InvalidValue { .. })
        ));
        assert!(
            t.elapsed().as_secs() < 5,
            "bounds checked late: {:?}",
            t.elapsed()
        );
    }

    #[test]
    fn unknown_fields_are_rejected_at_every_level() {
        // Top level and strategy spec: serde's deny_unknown_fields names the key.
        for (text, key) in [
            (
                r#"{"scenarios":["small"],"seeds":1,"strategies":[{"name":"static"}],"seed":3}"#,
                "`seed`",
            ),
            (
                r#"{"scenarios":["small"],"seeds":1,"strategies":[{"name":"static","gird":{}}]}"#,
                "`gird`",
            ),
        ] {
            let e = SweepSpec::from_json(text).unwrap_err();
            assert!(
                matches!(&e, Error::Serde(m) if m.contains("unknown field") && m.contains(key)),
                "{e}"
            );
        }
        // Strategy parameters, given whole or through a grid: the path of the key.
        for (text, path) in [
            (
                r#"{"scenarios":["small"],"seeds":1,"strategies":[{"name":"m","params":{"kind":"manual_rule","step":0.1,"share":0.2,"stpe":0.3}}]}"#,
                "strategies.m.params.stpe",
            ),
            (
                r#"{"scenarios":["small"],"seeds":1,"strategies":[{"name":"e","builtin":"eps_greedy","grid":{"policy":[{"kind":"epsilon_greedy","epsilon":0.1,"epsi1on":0.2}]}}]}"#,
                "strategies.e[policy={\"epsi1on\":0.2,\"epsilon\":0.1,\"kind\":\"epsilon_greedy\"}].policy.epsi1on",
            ),
        ] {
            match SweepSpec::from_json(text) {
                Err(Error::InvalidValue { field, .. }) => assert_eq!(field, path),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_spec_writes_back_its_file() {
        let text = r#"{"name":"x","scenarios":["small"],"seeds":[4,2],"days":3,
            "strategies":[{"name":"manual_rule","grid":{"step":[0.05,0.1]}}]}"#;
        let spec = SweepSpec::from_json(text).unwrap();
        let again: SweepSpec =
            serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
        assert_eq!(again, spec);
        assert_eq!(spec.seeds(), [4, 2]);
        assert_eq!(spec.baseline(), "manual_rule[step=0.05]");
    }
}

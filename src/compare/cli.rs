//! Command-line parsing for the `compare` example (kept in the library so it is tested and a
//! later `--sweep` or `merge` command can reuse it).
//!
//! ```
//! use adbandit::compare::cli::{Command, parse};
//! let Command::Run(a) = parse(["--scenario", "drift", "--seeds", "5"].map(String::from))? else {
//!     unreachable!()
//! };
//! assert_eq!((a.scenarios[0].as_str(), a.seeds.len()), ("drift", 5));
//! assert!(parse(["--seeds", "many"].map(String::from)).is_err());
//! # Ok::<(), adbandit::Error>(())
//! ```

use std::path::PathBuf;

use crate::compare::runner::{Detail, RunOptions};
use crate::compare::seeds::SeedSet;
use crate::compare::strategy::{BUILTIN_NAMES, BuiltinStrategy, StrategyEntry};
use crate::error::{Error, Result};
use crate::sim::{Fidelity, Scenario};

/// The usage text.
pub const USAGE: &str = "\
usage: compare [options]
       compare --sweep FILE --out DIR [--shard I/N|auto|auto/N] [--threads N] [--json]
       compare merge DIR|FILE... [--out DIR] [--json]
  --scenario FILE|NAME   scenario file or built-in name (small, default, double_11, drift,
                         long_tail); repeat or comma-separate for several [default]
  --strategies LIST      comma-separated strategies or `all` [all]: static, even_split,
                         manual_rule, eps_greedy, ucb, thompson, thompson_forget, oracle,
                         oracle_fixed
  --baseline NAME        strategy the others are compared with, seed by seed [static]
  --seeds N|A..B|A,B,..  replications: a count (seeds 0..N), a range (both ends included)
                         or a list [20]
  --days N               days to simulate (at most the scenario's horizon) [all]
  --fidelity exact|fast  market fidelity [fast]
  --threads N            worker threads [all cores]
  --master-seed N        master seed of every stream [2026]
  --out DIR              write results.json, runs.csv, daily.csv, summary.csv (and plots),
                         plan_days.jsonl and decisions.jsonl
  --detail LEVEL         per-day records kept: totals, plans, keywords (adds
                         keyword_days.jsonl) [plans with --out, else totals]
  --json                 print the summary as JSON instead of the table
  --sweep FILE           run the sweep file (scenarios, strategy grids, seeds, days, fidelity)
                         instead of the flags above, appending results to DIR/shard-*.jsonl;
                         a re-run resumes; without --shard the whole sweep runs and is merged
  --shard I/N|auto[/N]   run jobs whose index is I modulo N; `auto` takes I from
                         JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID, N from ADBANDIT_SHARD_COUNT
                         or SLURM_ARRAY_TASK_COUNT
  --no-sync              do not fsync each result line (faster; a killed process still keeps
                         its lines, a crashed machine may not)
  merge DIR|FILE...      check that the shards' results cover the sweep exactly once and write
                         the summary, CSVs, JSON (and plots) of the whole sweep to --out
  merge ... --repair-into DIR [--drop-damaged]
                         write a clean copy instead: each job once (identical duplicates
                         dropped), checksums added; --drop-damaged also drops damaged lines and
                         conflicting jobs, which a resume on DIR then re-runs
  -h, --help             this text";

/// Parsed arguments of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct CliArgs {
    /// Scenario names or files.
    pub scenarios: Vec<String>,
    /// Strategy names.
    pub strategies: Vec<String>,
    /// Baseline strategy.
    pub baseline: String,
    /// Seeds.
    pub seeds: SeedSet,
    /// Days (`None` = the horizon).
    pub days: Option<u32>,
    /// Fidelity.
    pub fidelity: Fidelity,
    /// Threads.
    pub threads: usize,
    /// Master seed.
    pub master_seed: u64,
    /// Output directory.
    pub out: Option<PathBuf>,
    /// Print JSON.
    pub json: bool,
    /// Per-day records (`None`: plans with `--out`, else totals).
    pub detail: Option<Detail>,
}

impl Default for CliArgs {
    fn default() -> Self {
        CliArgs {
            scenarios: vec!["default".into()],
            strategies: BUILTIN_NAMES.iter().map(|s| (*s).to_owned()).collect(),
            baseline: "static".into(),
            seeds: SeedSet::default(),
            days: None,
            fidelity: Fidelity::Fast,
            threads: RunOptions::default().threads,
            master_seed: 2026,
            out: None,
            json: false,
            detail: None,
        }
    }
}

/// Arguments of a sweep run (`--sweep`).
#[derive(Debug, Clone, PartialEq)]
pub struct SweepArgs {
    /// The sweep file.
    pub file: PathBuf,
    /// Shard spec (`I/N`, `auto`, `auto/N`; resolved by `adbandit::sweep::Shard::parse`);
    /// `None` = the whole sweep, merged at the end.
    pub shard: Option<String>,
    /// Results directory.
    pub out: PathBuf,
    /// Threads.
    pub threads: usize,
    /// Print JSON.
    pub json: bool,
    /// Fsync each result line.
    pub sync: bool,
}

/// Arguments of `merge`.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeArgs {
    /// Result directories or files.
    pub inputs: Vec<PathBuf>,
    /// Where to write the merged outputs.
    pub out: Option<PathBuf>,
    /// Print JSON.
    pub json: bool,
    /// Instead of merging, write a clean de-duplicated copy here (`--repair-into DIR`).
    pub repair_into: Option<PathBuf>,
    /// With `--repair-into`: drop damaged lines and conflicting jobs (`--drop-damaged`).
    pub drop_damaged: bool,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Run a comparison.
    Run(CliArgs),
    /// Run a sweep file, or one shard of it.
    Sweep(SweepArgs),
    /// Merge shard results.
    Merge(MergeArgs),
    /// Print the usage.
    Help,
}

fn number<T>(flag: &'static str, v: &str, min: T) -> Result<T>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    match v.parse::<T>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(Error::parameter(
            flag,
            v,
            format!("must be a whole number >= {min}"),
        )),
    }
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parses arguments (without the program name).
///
/// # Errors
/// [`Error::InvalidParameter`] naming the flag for an unknown flag, a missing value or a bad
/// value.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command> {
    let mut it = args.into_iter().peekable();
    if it.peek().map(String::as_str) == Some("merge") {
        it.next();
        return parse_merge(it);
    }
    let mut a = CliArgs::default();
    let mut scenarios: Vec<String> = Vec::new();
    let (mut sweep, mut shard, mut sync) = (None, None, true);
    // Flags that describe a grid, which a sweep file describes instead.
    let mut grid_flags: Vec<String> = Vec::new();
    while let Some(flag) = it.next() {
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (flag, None),
        };
        let takes_value = !matches!(flag.as_str(), "--json" | "--no-sync" | "-h" | "--help");
        if !takes_value && inline.is_some() {
            return Err(Error::parameter("flag", flag, "takes no value"));
        }
        let mut value = || -> Result<String> {
            match inline.clone().or_else(|| it.next()) {
                Some(v) if !v.is_empty() => Ok(v),
                _ => Err(Error::parameter("flag", flag.clone(), "needs a value")),
            }
        };
        if matches!(
            flag.as_str(),
            "--scenario"
                | "--scenarios"
                | "--strategies"
                | "--strategy"
                | "--baseline"
                | "--seeds"
                | "--days"
                | "--master-seed"
                | "--fidelity"
                | "--detail"
        ) {
            grid_flags.push(flag.clone());
        }
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--json" => a.json = true,
            "--no-sync" => sync = false,
            "--sweep" => sweep = Some(PathBuf::from(value()?)),
            "--shard" => shard = Some(value()?),
            "--scenario" | "--scenarios" => scenarios.extend(list(&value()?)),
            "--strategies" | "--strategy" => {
                let v = value()?;
                a.strategies = if v == "all" {
                    BUILTIN_NAMES.iter().map(|s| (*s).to_owned()).collect()
                } else {
                    list(&v)
                };
                for s in &a.strategies {
                    if !BUILTIN_NAMES.contains(&s.as_str()) {
                        return Err(Error::parameter(
                            "--strategies",
                            s.clone(),
                            format!("unknown strategy; known: {}", BUILTIN_NAMES.join(", ")),
                        ));
                    }
                }
            }
            "--baseline" => a.baseline = value()?,
            "--seeds" => a.seeds = value()?.parse()?,
            "--detail" => a.detail = Some(value()?.parse()?),
            "--days" => a.days = Some(number("--days", &value()?, 1)?),
            "--threads" => a.threads = number("--threads", &value()?, 1)?,
            "--master-seed" => a.master_seed = number("--master-seed", &value()?, 0)?,
            "--fidelity" => {
                a.fidelity = match value()?.as_str() {
                    "exact" => Fidelity::Exact,
                    "fast" => Fidelity::Fast,
                    v => {
                        return Err(Error::parameter("--fidelity", v, "must be exact or fast"));
                    }
                }
            }
            "--out" => a.out = Some(PathBuf::from(value()?)),
            other => {
                return Err(Error::parameter("flag", other, "unknown flag (see --help)"));
            }
        }
    }
    if let Some(file) = sweep {
        if let Some(f) = grid_flags.first() {
            return Err(Error::parameter(
                "--sweep",
                f.clone(),
                "the sweep file sets scenarios, strategies, seeds, days and fidelity: \
                 drop this flag",
            ));
        }
        let Some(out) = a.out else {
            return Err(Error::parameter(
                "--out",
                "",
                "--sweep needs --out DIR for its result files",
            ));
        };
        return Ok(Command::Sweep(SweepArgs {
            file,
            shard,
            out,
            threads: a.threads,
            json: a.json,
            sync,
        }));
    }
    if shard.is_some() || !sync {
        return Err(Error::parameter(
            "--shard",
            shard.unwrap_or_default(),
            "--shard and --no-sync need --sweep FILE",
        ));
    }
    if !scenarios.is_empty() {
        a.scenarios = scenarios;
    }
    if a.strategies.is_empty() {
        return Err(Error::parameter("--strategies", "", "needs at least one"));
    }
    if !a.strategies.contains(&a.baseline) {
        return Err(Error::parameter(
            "--baseline",
            a.baseline.clone(),
            "must be one of the strategies compared",
        ));
    }
    Ok(Command::Run(a))
}

fn parse_merge(args: impl Iterator<Item = String>) -> Result<Command> {
    let mut m = MergeArgs {
        inputs: Vec::new(),
        out: None,
        json: false,
        repair_into: None,
        drop_damaged: false,
    };
    let mut it = args;
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--json" => m.json = true,
            "--drop-damaged" => m.drop_damaged = true,
            "--repair-into" => match it.next() {
                Some(v) if !v.is_empty() => m.repair_into = Some(PathBuf::from(v)),
                _ => return Err(Error::parameter("flag", "--repair-into", "needs a value")),
            },
            "--out" => match it.next() {
                Some(v) if !v.is_empty() => m.out = Some(PathBuf::from(v)),
                _ => return Err(Error::parameter("flag", "--out", "needs a value")),
            },
            a if a.starts_with("--out=") && a.len() > 6 => {
                m.out = Some(PathBuf::from(&a[6..]));
            }
            a if a.starts_with('-') => {
                return Err(Error::parameter(
                    "flag",
                    a,
                    "unknown flag of merge (see --help)",
                ));
            }
            _ => m.inputs.push(PathBuf::from(arg)),
        }
    }
    if m.inputs.is_empty() {
        return Err(Error::parameter(
            "merge",
            "",
            "needs at least one results directory or file",
        ));
    }
    if m.drop_damaged && m.repair_into.is_none() {
        return Err(Error::parameter(
            "--drop-damaged",
            "",
            "only with --repair-into DIR",
        ));
    }
    Ok(Command::Merge(m))
}

impl CliArgs {
    /// The run options these arguments describe (progress bar on).
    pub fn run_options(&self) -> RunOptions {
        RunOptions {
            master_seed: self.master_seed,
            days: self.days,
            fidelity: self.fidelity,
            threads: self.threads,
            progress: true,
            detail: self.detail.unwrap_or(if self.out.is_some() {
                Detail::Plans
            } else {
                Detail::Totals
            }),
            ..RunOptions::default()
        }
    }

    /// Loads the scenarios: a built-in name, else a file path.
    ///
    /// # Errors
    /// [`Error::Io`] or a validation error naming the field.
    pub fn load_scenarios(&self) -> Result<Vec<Scenario>> {
        self.scenarios.iter().map(|s| load_scenario(s)).collect()
    }

    /// The strategy entries.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for an unknown name.
    pub fn strategy_entries(&self) -> Result<Vec<StrategyEntry>> {
        let names: Vec<&str> = self.strategies.iter().map(String::as_str).collect();
        BuiltinStrategy::entries(&names)
    }
}

/// A built-in scenario by name, or a scenario file.
///
/// # Errors
/// As [`Scenario::load`].
pub fn load_scenario(name_or_file: &str) -> Result<Scenario> {
    if Scenario::BUILTIN.contains(&name_or_file) {
        Scenario::builtin(name_or_file)
    } else {
        Scenario::load(name_or_file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<CliArgs> {
        match parse(args.iter().map(|s| (*s).to_owned()))? {
            Command::Run(a) => Ok(a),
            other => panic!("not a run: {other:?}"),
        }
    }

    #[test]
    fn parses_every_flag() {
        let a = run(&[
            "--scenario",
            "drift,double_11",
            "--scenario=small",
            "--strategies",
            "static,thompson",
            "--baseline",
            "thompson",
            "--seeds",
            "5",
            "--days=10",
            "--fidelity",
            "exact",
            "--threads",
            "3",
            "--master-seed",
            "9",
            "--out",
            "o",
            "--json",
        ])
        .unwrap();
        assert_eq!(a.scenarios, ["drift", "double_11", "small"]);
        assert_eq!(a.strategies, ["static", "thompson"]);
        assert_eq!(a.baseline, "thompson");
        assert_eq!(
            (a.seeds.seeds(), a.days, a.threads, a.master_seed),
            ((0..5).collect(), Some(10), 3, 9)
        );
        assert_eq!(a.fidelity, Fidelity::Exact);
        assert_eq!(a.out, Some(PathBuf::from("o")));
        assert!(a.json);
        let d = run(&[]).unwrap();
        assert_eq!(d.strategies.len(), BUILTIN_NAMES.len());
        assert_eq!(d.scenarios, ["default"]);
        assert_eq!(
            parse(["-h".to_owned()]).unwrap(),
            Command::Help,
            "help flag"
        );
    }

    #[test]
    fn sweep_and_merge_commands() {
        let p = |args: &[&str]| parse(args.iter().map(|s| (*s).to_owned()));
        let Command::Sweep(s) = p(&["--sweep", "s.json", "--shard", "auto", "--out", "r"]).unwrap()
        else {
            panic!("not a sweep")
        };
        assert_eq!(s.file, PathBuf::from("s.json"));
        assert_eq!(s.shard.as_deref(), Some("auto"));
        assert_eq!(s.out, PathBuf::from("r"));
        assert!(s.sync);
        let Command::Sweep(s) = p(&["--sweep=s.json", "--out=r", "--no-sync"]).unwrap() else {
            panic!("not a sweep")
        };
        assert_eq!((s.shard, s.sync), (None, false));
        let Command::Merge(m) = p(&["merge", "a", "b/", "--out", "o", "--json"]).unwrap() else {
            panic!("not a merge")
        };
        assert_eq!(m.inputs, [PathBuf::from("a"), PathBuf::from("b/")]);
        assert_eq!(m.out, Some(PathBuf::from("o")));
        assert!(m.json);
        let err = |args: &[&str]| p(args).unwrap_err().to_string();
        assert!(err(&["--sweep", "s.json"]).contains("--out"));
        assert!(err(&["--sweep", "s.json", "--out", "r", "--seeds", "3"]).contains("--seeds"));
        assert!(err(&["--shard", "1/2"]).contains("--sweep"));
        assert!(err(&["merge"]).contains("at least one"));
        assert!(err(&["merge", "d", "--bogus"]).contains("--bogus"));
        let Command::Merge(m) = p(&["merge", "a", "--repair-into", "c", "--drop-damaged"]).unwrap()
        else {
            panic!("not a merge")
        };
        assert_eq!(
            (m.repair_into, m.drop_damaged),
            (Some(PathBuf::from("c")), true)
        );
        assert!(err(&["merge", "a", "--drop-damaged"]).contains("--repair-into"));
    }

    #[test]
    fn bad_input_is_named() {
        let err = |args: &[&str]| run(args).unwrap_err().to_string();
        assert!(err(&["--bogus"]).contains("--bogus"));
        assert!(err(&["--seeds", "0"]).contains("--seeds"));
        assert!(err(&["--seeds", "-3"]).contains("--seeds"));
        assert!(err(&["--seeds"]).contains("needs a value"));
        assert!(err(&["--threads", "x"]).contains("--threads"));
        assert!(err(&["--fidelity", "medium"]).contains("exact or fast"));
        assert!(err(&["--strategies", "static,magic"]).contains("magic"));
        assert!(err(&["--strategies", "thompson"]).contains("--baseline"));
        assert!(err(&["--json=1"]).contains("no value"));
        assert!(load_scenario("/no/such/file.json").is_err());
        assert!(load_scenario("small").is_ok());
    }
}

//! Strategies compared on the twin: the historical allocation held fixed against the engine's
//! strategies, on the same seeds, with paired 95% intervals.
//!
//! Everything here is a **simulation of the account** calibrated from its report: the twin
//! reproduces the history at the historical bids and budgets (see the calibration check), but
//! how the account answers other bids rests on an assumed rival landscape. The outputs carry
//! that label and the check's verdict; when the check failed they say the comparison is not
//! trustworthy.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::compare::report::{self, Comparison};
use crate::compare::{
    BuiltinStrategy, EngineStrategy, Grid, JobResult, RunOptions, Strategy, StrategyEntry, Summary,
    summarise,
};
use crate::error::{Error, Result};
use crate::rng::content_hash as fnv1a;
use crate::sim::Scenario;
use crate::twin::Twin;

/// Name of the historical allocation (the account's bids and budgets held fixed).
pub const HISTORICAL: &str = "historical";

/// The engine's strategies compared against [`HISTORICAL`] (built-ins of
/// [`crate::compare::BuiltinStrategy`]).
pub const ENGINE_STRATEGIES: [&str; 4] = ["thompson", "ucb", "eps_greedy", "thompson_forget"];

/// Settings of [`compare_on_twin`] (checked when it runs; the runner's options are recorded
/// in the result).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwinCompareOptions {
    /// Days simulated per run (1..=366), from the day after the report's last date.
    pub days: u32,
    /// Paired seeds per strategy (1..=1000; at least 2 for intervals).
    pub seeds: u64,
    /// Runner settings (master seed, fidelity, threads); `days` is taken from above.
    pub run: RunOptions,
    /// Warm start (default): each engine strategy's engine first observes the twin's report,
    /// as a deployed engine would, then decides from the twin's first day. `false`: the
    /// engines start cold, from the account alone (the historical budgets and no evidence).
    pub warm_start: bool,
}

impl Default for TwinCompareOptions {
    fn default() -> Self {
        TwinCompareOptions {
            days: 28,
            seeds: 8,
            run: RunOptions::default(),
            warm_start: true,
        }
    }
}

/// A labelled comparison on the twin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinComparison {
    /// What this is: a simulation of the account, not a forecast guarantee, and the
    /// calibration verdict (several lines).
    pub label: String,
    /// Whether the twin's calibration check passed.
    pub calibration_passed: bool,
    /// The failing lines of the calibration check, in words (empty when it passed).
    pub calibration_failures: Vec<String>,
    /// Whether the report had any revenue: without it the twin's revenue is an assumption,
    /// and no verdict on revenue is given.
    pub report_has_revenue: bool,
    /// The verdict line ([`TwinComparison::verdict`]), in every output.
    pub verdict: String,
    /// The runs and their summary (baseline [`HISTORICAL`]).
    pub comparison: Comparison,
}

impl TwinComparison {
    /// The summary: means, 95% intervals, paired revenue differences against `historical`.
    pub fn summary(&self) -> &Summary {
        &self.comparison.summary
    }

    /// Every run, in job order.
    pub fn results(&self) -> &[JobResult] {
        &self.comparison.results
    }

    /// The verdict: one line on the best engine strategy against the historical allocation,
    /// or, after a failed calibration, why no comparison is claimed.
    pub fn verdict(&self) -> String {
        if !self.calibration_passed {
            return format!(
                "Calibration FAILED ({}): the twin does not reproduce the report, so no strategy is called better or worse on it. Export a longer report with daily (or hourly) rows, and the bids and budgets, and calibrate again.",
                self.calibration_failures.join("; ")
            );
        }
        if !self.report_has_revenue {
            return "The report has no revenue, so the twin's revenue is an assumption, not the account's: no verdict on revenue (read the clicks and cost columns).".to_owned();
        }
        let s = self.summary();
        let Some(sc) = s.rows.first().map(|r| r.scenario.as_str()) else {
            return "no runs".to_owned();
        };
        let best = s
            .rows
            .iter()
            .filter(|r| r.scenario == sc && r.strategy != HISTORICAL)
            .max_by(|a, b| a.revenue.mean.total_cmp(&b.revenue.mean));
        let (Some(b), Some(h)) = (best, s.get(sc, HISTORICAL)) else {
            return "no engine strategy to compare".to_owned();
        };
        let Some(d) = b.vs_baseline else {
            return format!("{}: no paired seeds with {HISTORICAL}", b.strategy);
        };
        let pct = b.vs_baseline_pct.map_or(String::new(), |p| {
            format!(" ({:+.1}%, [{:+.1}%, {:+.1}%])", p.mean, p.lo, p.hi)
        });
        let call = if d.lo > 0.0 {
            "better than the historical allocation with 95% confidence"
        } else if d.hi < 0.0 {
            "worse than the historical allocation with 95% confidence"
        } else {
            "not distinguishable from the historical allocation at 95%"
        };
        format!(
            "On the twin, the best engine strategy is {}: revenue {:.0} vs {:.0} for {HISTORICAL}, \
             paired difference {:+.0} [{:+.0}, {:+.0}]{pct} over {} seeds: {call}{}.",
            b.strategy, b.revenue.mean, h.revenue.mean, d.mean, d.lo, d.hi, d.n, ""
        )
    }

    /// The label, the comparison table and the verdict; after a failed calibration the
    /// failing check lines instead of the table (whose marks would claim significance).
    pub fn table(&self) -> String {
        let mut s = self.label.clone();
        if !s.ends_with('\n') {
            s.push('\n');
        }
        if self.calibration_passed {
            s.push_str(&report::table(self.summary()));
        } else {
            let _ = writeln!(s, "Failing calibration lines:");
            for f in &self.calibration_failures {
                let _ = writeln!(s, "  {f}");
            }
        }
        let _ = writeln!(s, "{}", self.verdict);
        s
    }

    /// `# `-prefixed verdict line for the top of a CSV file.
    fn csv_head(&self) -> String {
        format!("# {}\n", self.verdict.replace(['\n', '\r'], " "))
    }

    /// Pretty JSON (label, calibration verdict, options, runs, summary).
    ///
    /// # Errors
    /// [`Error::Serde`].
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// Writes `twin_vs_baseline.svg` (each engine strategy's paired revenue difference from
    /// the historical allocation, with its 95% interval), `twin_revenue.svg` (cumulative
    /// revenue by day, mean and 95% band per strategy) and `twin_hourly_spend.svg` into `dir`.
    /// Every plot carries the label's SIMULATION line, the calibration verdict and the
    /// revenue verdict under its heading, and the revenue verdict as its `<title>`. Returns
    /// the paths.
    ///
    /// # Errors
    /// [`Error::Io`]; [`Error::InvalidValue`] without runs.
    #[cfg(feature = "plots")]
    pub fn write_plots(&self, dir: &Path) -> Result<Vec<std::path::PathBuf>> {
        use crate::compare::plot;
        if self.results().is_empty() {
            return Err(Error::invalid(
                "twin comparison",
                "empty",
                "has no runs to plot",
            ));
        }
        let note: Vec<String> = self
            .label
            .lines()
            .filter(|l| l.starts_with("SIMULATION") || l.starts_with("Calibration"))
            .map(str::to_owned)
            .chain(std::iter::once(self.verdict.clone()))
            .collect();
        let paths = plot::write_plots_with(
            self.results(),
            dir,
            &plot::PlotOptions {
                note,
                baseline: Some(HISTORICAL.to_owned()),
                prefix: Some("twin_".to_owned()),
            },
        )?;
        for p in &paths {
            let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
            report::write_file(p, with_title(&text, &self.verdict).as_bytes())?;
        }
        Ok(paths)
    }

    /// Writes `twin_comparison.json` (everything, with the label), `twin_comparison.txt` (the
    /// labelled table), `runs.csv`, `daily.csv` and `summary.csv` into `dir` (the CSVs'
    /// scenario column names the twin as a simulation).
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Serde`].
    pub fn write_all(&self, dir: &Path) -> Result<()> {
        report::write_file(
            &dir.join("twin_comparison.json"),
            self.to_json()?.as_bytes(),
        )?;
        report::write_file(&dir.join("twin_comparison.txt"), self.table().as_bytes())?;
        let head = self.csv_head();
        report::write_file(
            &dir.join("runs.csv"),
            (head.clone() + &report::runs_csv(self.results())?).as_bytes(),
        )?;
        report::write_file(
            &dir.join("daily.csv"),
            (head.clone() + &report::daily_csv(self.results())?).as_bytes(),
        )?;
        report::write_file(
            &dir.join("summary.csv"),
            (head + &report::summary_csv(self.summary())?).as_bytes(),
        )
    }
}

/// The SVG with `title` as its `<title>` (the tooltip and what a screen reader says); the
/// picture itself already carries it as a note line under the heading.
#[cfg(feature = "plots")]
fn with_title(svg: &str, title: &str) -> String {
    let esc = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    match svg
        .find("<svg")
        .and_then(|i| svg[i..].find('>').map(|j| i + j + 1))
    {
        Some(open_end) => format!(
            "{}<title>{esc}</title>{}",
            &svg[..open_end],
            &svg[open_end..]
        ),
        None => svg.to_owned(),
    }
}

/// The strategies of [`compare_on_twin`]: [`HISTORICAL`] (the `static` built-in: the
/// account's bids and budgets, never touched) and [`ENGINE_STRATEGIES`], warm-started on
/// `twin.report` when `warm_start` (the engine observes the whole report, then the runner
/// calls its first `decide` on the twin's first day, the day after the report's last date),
/// else the cold built-ins.
///
/// A warm entry's parameters are the built-in's plus the report's rows, dates and hash, so a
/// warm run never shares a job id with a cold one or with a run warmed on another report.
///
/// # Errors
/// [`Error::UnknownId`] if a report row names a plan or keyword not in the twin's account
/// (the report must be the one the twin was calibrated from); [`Error::InvalidValue`] for an
/// empty report.
pub fn twin_strategies(twin: &Twin, warm_start: bool) -> Result<Vec<StrategyEntry>> {
    let mut v = vec![BuiltinStrategy::Static.entry(HISTORICAL)];
    if !warm_start {
        v.extend(BuiltinStrategy::entries(&ENGINE_STRATEGIES)?);
        return Ok(v);
    }
    let account = twin.scenario.account();
    for row in twin.report.rows() {
        if account.plan(&row.plan).is_none() {
            return Err(Error::UnknownId {
                kind: "plan",
                id: row.plan.to_string(),
            });
        }
        if let Some(k) = &row.keyword
            && account.keyword(k).is_none()
        {
            return Err(Error::UnknownId {
                kind: "keyword",
                id: k.to_string(),
            });
        }
    }
    let (first, last) = twin
        .report
        .date_range()
        .ok_or_else(|| Error::invalid("twin.report", "empty", "has no rows"))?;
    let report = Arc::new(twin.report.clone());
    let hash = format!(
        "{:016x}",
        fnv1a(serde_json::to_string(report.rows())?.as_bytes())
    );
    for name in ENGINE_STRATEGIES {
        let builtin = BuiltinStrategy::by_name(name)?;
        let BuiltinStrategy::Engine { pacing, .. } = builtin else {
            return Err(Error::invalid(
                "twin.engine_strategies",
                name,
                "is not an engine strategy",
            ));
        };
        let params = serde_json::json!({
            "engine": serde_json::to_value(&builtin)?,
            "warm_start": {
                "report_rows": report.rows().len(),
                "first": first,
                "last": last,
                "report_hash": hash,
            },
        });
        let report = Arc::clone(&report);
        v.push(StrategyEntry::custom(
            name,
            params,
            move |sc: &Scenario, seed: u64| -> Result<Box<dyn Strategy>> {
                let mut engine = builtin
                    .engine(sc.account().clone(), seed)?
                    .ok_or_else(|| Error::invalid("strategy", "engine", "has no engine"))?;
                engine.observe(&report)?;
                Ok(Box::new(EngineStrategy::new(engine, pacing)))
            },
        ));
    }
    Ok(v)
}

/// The label of a comparison on `twin` over `days` days and `seeds` seeds, with warm- or
/// cold-started engine strategies.
pub fn label(twin: &Twin, days: u32, seeds: u64, warm_start: bool) -> String {
    let mut s = String::new();
    let account = twin.scenario.account().name();
    let _ = writeln!(
        s,
        "SIMULATION of account \"{account}\": strategies compared on its twin, a simulator calibrated \
         from the account's own report ({} report days). Not the account, not a forecast guarantee.",
        twin.check.days
    );
    let _ = writeln!(
        s,
        "Start: the historical bids and budgets; {days} simulated days; {seeds} seeds shared by \
         every strategy (common random numbers); intervals are paired 95% Student-t against \
         {HISTORICAL} (the historical allocation held fixed)."
    );
    let start = twin
        .first_day()
        .map_or_else(|_| "?".to_owned(), |d| d.to_string());
    let _ = if warm_start {
        writeln!(
            s,
            "Engine strategies: WARM start. Each engine first observed the report ({} rows), \
             then decides from {start}, the day after the report's last date, as a deployed \
             engine would.",
            twin.report.rows().len()
        )
    } else {
        writeln!(
            s,
            "Engine strategies: COLD start. The engines see the account, not the report: they \
             learn from scratch from {start} (their first moves from the historical budgets rest on \
             prior draws alone)."
        )
    };
    if twin.check.passed() {
        let _ = writeln!(
            s,
            "Calibration check: PASS. The twin reproduces the report at the historical controls; \
             its answer to bids never tried rests on an assumed rival landscape."
        );
    } else {
        let failed = twin.check.lines.iter().filter(|l| !l.pass).count();
        let _ = writeln!(
            s,
            "Calibration check: FAIL ({failed} line(s) out of tolerance). The twin does not \
             reproduce the report: this comparison is NOT trustworthy."
        );
    }
    s
}

/// Compares the historical allocation held fixed against the engine's strategies on the twin:
/// the twin's scenario with a horizon of `opts.days` from the day after the report's last date
/// (the account's historical bids and budgets as its initial state), the engines warm-started
/// on the report unless `opts.warm_start` is off (see [`twin_strategies`]), the same seeds for
/// every strategy, paired intervals against [`HISTORICAL`].
///
/// # Errors
/// [`Error::InvalidParameter`] for days outside 1..=366 or seeds outside 1..=1000; the
/// runner's errors.
pub fn compare_on_twin(twin: &Twin, opts: &TwinCompareOptions) -> Result<TwinComparison> {
    if opts.days == 0 || opts.days > 366 {
        return Err(Error::parameter("days", opts.days, "must be in 1..=366"));
    }
    if opts.seeds == 0 || opts.seeds > 1000 {
        return Err(Error::parameter("seeds", opts.seeds, "must be in 1..=1000"));
    }
    let scenario = twin.scenario_for(opts.days)?;
    let run = RunOptions {
        days: Some(opts.days),
        ..opts.run
    };
    let grid = Grid::new(
        vec![scenario],
        twin_strategies(twin, opts.warm_start)?,
        opts.seeds,
    );
    let results = grid.run(&run)?;
    let summary = summarise(&results, HISTORICAL);
    let calibration_failures = twin
        .check
        .lines
        .iter()
        .filter(|l| !l.pass)
        .map(|l| {
            if l.metric.ends_with("share") {
                format!(
                    "{} {}: {:.0} of {:.0} keywords ({:.0}%, {:.0}% required)",
                    l.scope,
                    l.metric,
                    l.simulated,
                    l.report,
                    100.0 * l.error,
                    100.0 * l.tolerance
                )
            } else {
                format!(
                    "{} {}: report {:.2}, twin {:.2}, off by {:.1}% (tolerance {:.1}%)",
                    l.scope,
                    l.metric,
                    l.report,
                    l.simulated,
                    100.0 * l.error,
                    100.0 * l.tolerance
                )
            }
        })
        .collect();
    let report_has_revenue = twin.report.total()?.revenue().micros() > 0;
    let mut c = TwinComparison {
        label: label(twin, opts.days, opts.seeds, opts.warm_start),
        calibration_passed: twin.check.passed(),
        calibration_failures,
        report_has_revenue,
        verdict: String::new(),
        comparison: Comparison {
            options: run,
            results,
            summary,
        },
    };
    c.verdict = c.verdict();
    Ok(c)
}

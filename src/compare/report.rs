//! Outputs: JSON, CSV and a plain-text table.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use crate::compare::runner::{DecisionRecord, KeywordDay, PlanDay};
use crate::compare::runner::{JobResult, RunOptions};
use crate::compare::summary::{Interval, Summary};
use crate::error::{Error, Result};

/// Everything a comparison produced, as one serialisable value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// How it was run.
    pub options: RunOptions,
    /// Every job's result, in job order.
    pub results: Vec<JobResult>,
    /// The summary of `results`.
    pub summary: Summary,
}

impl Comparison {
    /// Pretty JSON.
    ///
    /// # Errors
    /// [`Error::Serde`].
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)?)
    }
}

/// Writes `contents` to `path`, creating parent directories.
///
/// # Errors
/// [`Error::Io`].
pub fn write_file(path: &Path, contents: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::write(path, contents).map_err(|e| Error::io(path, e))
}

fn opt(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| format!("{v}"))
}

/// One CSV row per run (totals).
///
/// # Errors
/// [`Error::Serde`]-style errors from the CSV writer.
pub fn runs_csv(results: &[JobResult]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::invalid("csv", "runs", e.to_string());
    w.write_record([
        "job_id",
        "scenario",
        "strategy",
        "seed",
        "days",
        "impressions",
        "clicks",
        "conversions",
        "cost",
        "revenue",
        "roi",
        "ctr",
        "cpc",
        "budget",
        "budget_utilisation",
        "overspend",
        "oracle_revenue",
        "regret",
    ])
    .map_err(err)?;
    for r in results {
        let m = &r.metrics;
        w.write_record([
            r.job.id.clone(),
            r.job.scenario.clone(),
            r.job.strategy.clone(),
            r.job.seed.to_string(),
            r.job.days.to_string(),
            m.impressions.to_string(),
            m.clicks.to_string(),
            m.conversions.to_string(),
            m.cost.to_string(),
            m.revenue.to_string(),
            opt(m.roi),
            opt(m.ctr),
            opt(m.cpc),
            m.budget.to_string(),
            opt(m.budget_utilisation),
            m.overspend.to_string(),
            format!("{}", m.oracle_revenue),
            format!("{}", m.regret),
        ])
        .map_err(err)?;
    }
    finish(w)
}

/// One CSV row per run per day (the daily time series).
///
/// # Errors
/// As [`runs_csv`].
pub fn daily_csv(results: &[JobResult]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::invalid("csv", "daily", e.to_string());
    w.write_record([
        "job_id",
        "scenario",
        "strategy",
        "seed",
        "day",
        "impressions",
        "clicks",
        "conversions",
        "cost",
        "revenue",
        "budget",
        "overspend",
    ])
    .map_err(err)?;
    for r in results {
        for d in &r.daily {
            w.write_record([
                r.job.id.clone(),
                r.job.scenario.clone(),
                r.job.strategy.clone(),
                r.job.seed.to_string(),
                d.day.to_string(),
                d.impressions.to_string(),
                d.clicks.to_string(),
                d.conversions.to_string(),
                d.cost.to_string(),
                d.revenue.to_string(),
                d.budget.to_string(),
                d.overspend.to_string(),
            ])
            .map_err(err)?;
        }
    }
    finish(w)
}

/// One CSV row per (scenario, strategy): means and interval bounds.
///
/// # Errors
/// As [`runs_csv`].
pub fn summary_csv(summary: &Summary) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::invalid("csv", "summary", e.to_string());
    let mut head = vec![
        "scenario".to_owned(),
        "strategy".to_owned(),
        "runs".to_owned(),
    ];
    for m in [
        "revenue",
        "cost",
        "roi",
        "clicks",
        "ctr",
        "cpc",
        "budget_utilisation",
        "regret",
        "vs_baseline",
        "vs_baseline_pct",
    ] {
        for s in ["mean", "lo", "hi"] {
            head.push(format!("{m}_{s}"));
        }
    }
    head.push("max_overspend".into());
    w.write_record(&head).map_err(err)?;
    for r in &summary.rows {
        let mut row = vec![
            r.scenario.clone(),
            r.strategy.clone(),
            r.revenue.n.to_string(),
        ];
        for i in [
            Some(r.revenue),
            Some(r.cost),
            r.roi,
            Some(r.clicks),
            r.ctr,
            r.cpc,
            r.budget_utilisation,
            Some(r.regret),
            r.vs_baseline,
            r.vs_baseline_pct,
        ] {
            match i {
                Some(i) => row.extend([i.mean, i.lo, i.hi].map(|x| format!("{x}"))),
                None => row.extend([String::new(), String::new(), String::new()]),
            }
        }
        row.push(format!("{}", r.max_overspend));
        w.write_record(&row).map_err(err)?;
    }
    finish(w)
}

fn finish(w: csv::Writer<Vec<u8>>) -> Result<String> {
    let bytes = w
        .into_inner()
        .map_err(|e| Error::invalid("csv", "flush", e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| Error::invalid("csv", "utf-8", e.to_string()))
}

fn pm(i: &Interval) -> String {
    format!("{:.0} ±{:.0}", i.mean, (i.hi - i.mean).max(0.0))
}

/// A plain-text table: per scenario, one line per strategy with revenue (mean ± 95% half
/// width), ROI, cost, clicks, budget utilisation, regret and the paired difference against
/// the baseline.
pub fn table(summary: &Summary) -> String {
    let mut out = String::new();
    let mut scenarios: Vec<&str> = Vec::new();
    for r in &summary.rows {
        if !scenarios.contains(&r.scenario.as_str()) {
            scenarios.push(&r.scenario);
        }
    }
    for sc in scenarios {
        let runs = summary
            .rows
            .iter()
            .find(|r| r.scenario == sc)
            .map_or(0, |r| r.revenue.n);
        let _ = writeln!(
            out,
            "scenario {sc} ({runs} seeds), baseline {}",
            summary.baseline
        );
        let _ = writeln!(
            out,
            "{:<16} {:>17} {:>6} {:>12} {:>9} {:>6} {:>12} {:>26}",
            "strategy",
            "revenue",
            "ROI",
            "cost",
            "clicks",
            "util",
            "regret",
            "vs baseline (95% CI)"
        );
        for r in summary.rows.iter().filter(|r| r.scenario == sc) {
            let vs = match (&r.vs_baseline, &r.vs_baseline_pct) {
                (Some(d), Some(p)) => format!(
                    "{:+.0} [{:+.0}, {:+.0}] {:+.1}%{}",
                    d.mean,
                    d.lo,
                    d.hi,
                    p.mean,
                    if d.lo > 0.0 {
                        " *"
                    } else if d.hi < 0.0 {
                        " -"
                    } else {
                        ""
                    }
                ),
                (Some(d), None) => format!("{:+.0} [{:+.0}, {:+.0}]", d.mean, d.lo, d.hi),
                _ => "-".to_owned(),
            };
            let roi = r.roi.map_or("-".to_owned(), |i| format!("{:.2}", i.mean));
            let util = r
                .budget_utilisation
                .map_or("-".to_owned(), |i| format!("{:.1}%", 100.0 * i.mean));
            let _ = writeln!(
                out,
                "{:<16} {:>17} {:>6} {:>12.0} {:>9.0} {:>6} {:>12.0} {:>26}",
                r.strategy,
                pm(&r.revenue),
                roi,
                r.cost.mean,
                r.clicks.mean,
                util,
                r.regret.mean,
                vs
            );
        }
        let _ = writeln!(
            out,
            "(* = better than the baseline with 95% confidence, - = worse; money in currency units)"
        );
    }
    out
}

/// One JSON Lines record: the run's identity, then the record's own fields.
#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    job_id: &'a str,
    scenario: &'a str,
    strategy: &'a str,
    seed: u64,
    #[serde(flatten)]
    record: &'a T,
}

fn jsonl<T: Serialize>(
    results: &[JobResult],
    records: impl Fn(&JobResult) -> &[T],
) -> Result<String> {
    let mut out = String::new();
    for r in results {
        for record in records(r) {
            let line = Line {
                job_id: &r.job.id,
                scenario: &r.job.scenario,
                strategy: &r.job.strategy,
                seed: r.job.seed,
                record,
            };
            out.push_str(&serde_json::to_string(&line)?);
            out.push('\n');
        }
    }
    Ok(out)
}

/// The plan-days of every run as JSON Lines (one [`PlanDay`] per line, after the run's
/// `job_id`, `scenario`, `strategy` and `seed`), in job order, day by day.
///
/// # Errors
/// [`Error::Serde`].
pub fn plan_days_jsonl(results: &[JobResult]) -> Result<String> {
    jsonl(results, |r| &r.plan_days)
}

/// The keyword-days of every run as JSON Lines (one [`KeywordDay`] per line), as
/// [`plan_days_jsonl`].
///
/// # Errors
/// [`Error::Serde`].
pub fn keyword_days_jsonl(results: &[JobResult]) -> Result<String> {
    jsonl(results, |r| &r.keyword_days)
}

/// The search-term report of every run as JSON Lines (one
/// [`SearchTermDay`](crate::compare::SearchTermDay) per line), as [`plan_days_jsonl`].
///
/// # Errors
/// [`Error::Serde`].
pub fn search_terms_jsonl(results: &[JobResult]) -> Result<String> {
    jsonl(results, |r| &r.search_terms)
}

/// The creative-days of every run as JSON Lines (one
/// [`CreativeDay`](crate::compare::CreativeDay) per line: shares, counts and the regret of
/// rotation), as [`plan_days_jsonl`].
///
/// # Errors
/// [`Error::Serde`].
pub fn creative_days_jsonl(results: &[JobResult]) -> Result<String> {
    jsonl(results, |r| &r.creative_days)
}

/// The engine strategies' decisions as JSON Lines (one [`DecisionRecord`] per line), as
/// [`plan_days_jsonl`].
///
/// # Errors
/// [`Error::Serde`].
pub fn decisions_jsonl(results: &[JobResult]) -> Result<String> {
    jsonl(results, |r| &r.decisions)
}

/// Writes `results.json`, `runs.csv`, `daily.csv` and `summary.csv` into `dir`, and, when
/// the runs kept them ([`crate::compare::Detail`]), `plan_days.jsonl`, `decisions.jsonl`,
/// `keyword_days.jsonl`, `search_terms.jsonl` and (scenarios with creatives)
/// `creative_days.jsonl`. The per-day records are written to those files only, not into
/// `results.json` (they can be many).
///
/// # Errors
/// [`Error::Io`], [`Error::Serde`].
pub fn write_all(dir: &Path, comparison: &Comparison) -> Result<()> {
    let rs = &comparison.results;
    type Writer = fn(&[JobResult]) -> Result<String>;
    let files: [(&str, bool, Writer); 5] = [
        (
            "plan_days.jsonl",
            rs.iter().any(|r| !r.plan_days.is_empty()),
            plan_days_jsonl,
        ),
        (
            "decisions.jsonl",
            rs.iter()
                .any(|r| !r.decisions.is_empty() || !r.plan_days.is_empty()),
            decisions_jsonl,
        ),
        (
            "keyword_days.jsonl",
            rs.iter().any(|r| !r.keyword_days.is_empty()),
            keyword_days_jsonl,
        ),
        (
            "search_terms.jsonl",
            rs.iter().any(|r| !r.search_terms.is_empty()),
            search_terms_jsonl,
        ),
        (
            "creative_days.jsonl",
            rs.iter().any(|r| !r.creative_days.is_empty()),
            creative_days_jsonl,
        ),
    ];
    for (name, wanted, write) in files {
        if wanted {
            write_file(&dir.join(name), write(rs)?.as_bytes())?;
        }
    }
    let mut lean = comparison.clone();
    for r in &mut lean.results {
        r.plan_days = Vec::new();
        r.keyword_days = Vec::new();
        r.decisions = Vec::new();
        r.search_terms = Vec::new();
        r.creative_days = Vec::new();
    }
    write_file(&dir.join("results.json"), lean.to_json()?.as_bytes())?;
    write_file(
        &dir.join("runs.csv"),
        runs_csv(&comparison.results)?.as_bytes(),
    )?;
    write_file(
        &dir.join("daily.csv"),
        daily_csv(&comparison.results)?.as_bytes(),
    )?;
    write_file(
        &dir.join("summary.csv"),
        summary_csv(&comparison.summary)?.as_bytes(),
    )
}

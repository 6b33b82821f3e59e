//! Command-line arguments of the `analyze` and `twin` examples, parsed here so they are tested.
//!
//! ```
//! use adbandit::analysis::args::parse_analyze;
//! let a = parse_analyze(["--report", "r.csv", "--lenient", "--json"].map(String::from))?;
//! assert!(a.lenient && a.json && a.report.to_str() == Some("r.csv"));
//! assert!(parse_analyze(["--report", "r.csv", "--bogus"].map(String::from)).is_err());
//! # Ok::<(), adbandit::Error>(())
//! ```

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::ingest::{ColumnMapping, Format, Layout, Mode, Options};

/// Names accepted by `--format`.
pub const FORMATS: [&str; 9] = [
    "auto",
    "google-campaign",
    "google-keyword",
    "google-search-terms",
    "amazon-campaign",
    "amazon-search-terms",
    "taobao-plan",
    "taobao-keyword",
    "canonical",
];

/// Parses a `--format` value.
///
/// # Errors
/// [`Error::InvalidValue`] naming the accepted values.
pub fn parse_format(s: &str) -> Result<Format> {
    let l = match s.to_ascii_lowercase().as_str() {
        "auto" => return Ok(Format::Auto),
        "google-campaign" => Layout::GoogleAdsCampaign,
        "google-keyword" => Layout::GoogleAdsKeyword,
        "google-search-terms" => Layout::GoogleAdsSearchTerms,
        "amazon-campaign" => Layout::AmazonSpCampaign,
        "amazon-search-terms" => Layout::AmazonSpSearchTerms,
        "taobao-plan" => Layout::TaobaoPlan,
        "taobao-keyword" => Layout::TaobaoKeyword,
        "canonical" => Layout::Canonical,
        _ => {
            return Err(Error::invalid(
                "--format",
                s,
                format!("must be one of {}", FORMATS.join(", ")),
            ));
        }
    };
    Ok(Format::Layout(l))
}

/// How to read the report (shared by both commands).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadArgs {
    /// The report file.
    pub report: PathBuf,
    /// Layout detection or a forced layout.
    pub format: Format,
    /// A column mapping JSON file.
    pub mapping: Option<PathBuf>,
    /// Skip bad rows instead of failing.
    pub lenient: bool,
}

impl ReadArgs {
    /// The ingestion options (reads the mapping file).
    ///
    /// # Errors
    /// [`Error::Io`] if the mapping file cannot be read; mapping validation errors.
    pub fn options(&self) -> Result<Options> {
        let mapping = match &self.mapping {
            None => None,
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| Error::Io {
                    path: p.display().to_string(),
                    reason: e.to_string(),
                })?;
                Some(ColumnMapping::from_json(&text)?)
            }
        };
        Ok(Options {
            format: self.format,
            mapping,
            mode: if self.lenient {
                Mode::Lenient
            } else {
                Mode::Standard
            },
            date: None,
            period: None,
        })
    }
}

/// Arguments of `analyze`.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzeArgs {
    /// The report file (`--report`, required).
    pub report: PathBuf,
    /// `--format auto|google-keyword|...` (default auto).
    pub format: Format,
    /// `--mapping FILE`.
    pub mapping: Option<PathBuf>,
    /// `--lenient`.
    pub lenient: bool,
    /// `--json`: print JSON instead of the table.
    pub json: bool,
    /// `--out DIR`: write analysis.csv, analysis.json, roi_plans.svg, roi_keywords.svg.
    pub out: Option<PathBuf>,
    /// `--top N`: keywords shown at each end of the table (default 10).
    pub top: usize,
    /// `--seed N` (default 42).
    pub seed: u64,
}

impl AnalyzeArgs {
    /// The reading part.
    pub fn read(&self) -> ReadArgs {
        ReadArgs {
            report: self.report.clone(),
            format: self.format,
            mapping: self.mapping.clone(),
            lenient: self.lenient,
        }
    }
}

/// Arguments of `twin`.
#[derive(Debug, Clone, PartialEq)]
pub struct TwinArgs {
    /// The report file (`--report`, required).
    pub report: PathBuf,
    /// `--format`.
    pub format: Format,
    /// `--mapping FILE`.
    pub mapping: Option<PathBuf>,
    /// `--lenient`.
    pub lenient: bool,
    /// `--days N`: days simulated per strategy run (default 28).
    pub days: u32,
    /// `--seeds N`: paired seeds per strategy (default 8).
    pub seeds: u32,
    /// `--out DIR`: write twin_scenario.json, calibration.csv.
    pub out: Option<PathBuf>,
    /// `--seed N`: master seed (default 42).
    pub seed: u64,
}

impl TwinArgs {
    /// The reading part.
    pub fn read(&self) -> ReadArgs {
        ReadArgs {
            report: self.report.clone(),
            format: self.format,
            mapping: self.mapping.clone(),
            lenient: self.lenient,
        }
    }
}

/// Usage text of `analyze`.
pub const ANALYZE_USAGE: &str = "usage: analyze --report FILE [--format auto|google-campaign|google-keyword|google-search-terms|amazon-campaign|amazon-search-terms|taobao-plan|taobao-keyword|canonical] [--mapping FILE] [--lenient] [--json] [--out DIR] [--top N] [--seed N]";

/// Usage text of `twin`.
pub const TWIN_USAGE: &str = "usage: twin --report FILE [--format NAME] [--mapping FILE] [--lenient] [--days N] [--seeds N] [--out DIR] [--seed N]";

/// A parsed command line: `--help` or the arguments.
struct Cursor<I: Iterator<Item = String>> {
    it: I,
}

impl<I: Iterator<Item = String>> Cursor<I> {
    fn value(&mut self, flag: &str) -> Result<String> {
        match self.it.next() {
            Some(v) if !v.starts_with("--") => Ok(v),
            _ => Err(Error::invalid(flag, "(missing)", "needs a value")),
        }
    }

    fn number<T>(&mut self, flag: &str, min: T) -> Result<T>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let v = self.value(flag)?;
        let n: T = v
            .parse()
            .map_err(|_| Error::invalid(flag, &v, "must be a whole number"))?;
        if n < min {
            return Err(Error::invalid(flag, &v, format!("must be >= {min}")));
        }
        Ok(n)
    }
}

fn unknown(flag: &str, usage: &str) -> Error {
    Error::invalid("arguments", flag, format!("unknown argument; {usage}"))
}

fn split_eq(args: impl IntoIterator<Item = String>) -> Vec<String> {
    // Accept `--flag=value` as well as `--flag value`.
    let mut out = Vec::new();
    for a in args {
        match a.strip_prefix("--").and_then(|r| r.split_once('=')) {
            Some((f, v)) => {
                out.push(format!("--{f}"));
                out.push(v.to_owned());
            }
            None => out.push(a),
        }
    }
    out
}

/// Parses `analyze`'s arguments (without the program name). `--help` gives an error whose
/// message is the usage.
///
/// # Errors
/// [`Error::InvalidValue`] for an unknown flag, a missing or bad value, or no `--report`.
pub fn parse_analyze(args: impl IntoIterator<Item = String>) -> Result<AnalyzeArgs> {
    let (mut json, mut top) = (false, 10);
    let c = parse_common(args, ANALYZE_USAGE, |flag, cur| {
        match flag {
            "--json" => json = true,
            "--top" => top = cur.number("--top", 0usize)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(AnalyzeArgs {
        report: c.report,
        format: c.format,
        mapping: c.mapping,
        lenient: c.lenient,
        json,
        out: c.out,
        top,
        seed: c.seed,
    })
}

/// The flags both examples take.
struct Common {
    report: PathBuf,
    format: Format,
    mapping: Option<PathBuf>,
    lenient: bool,
    out: Option<PathBuf>,
    seed: u64,
}

/// The flag loop of both examples: shared flags are handled here, any other goes to `extra`,
/// which returns `Ok(false)` for a flag it does not know either.
fn parse_common(
    args: impl IntoIterator<Item = String>,
    usage: &str,
    mut extra: impl FnMut(&str, &mut Cursor<std::vec::IntoIter<String>>) -> Result<bool>,
) -> Result<Common> {
    let mut c = Cursor {
        it: split_eq(args).into_iter(),
    };
    let mut a = Common {
        report: PathBuf::new(),
        format: Format::Auto,
        mapping: None,
        lenient: false,
        out: None,
        seed: 42,
    };
    let mut have_report = false;
    while let Some(f) = c.it.next() {
        match f.as_str() {
            "--report" => {
                a.report = c.value("--report")?.into();
                have_report = true;
            }
            "--format" => a.format = parse_format(&c.value("--format")?)?,
            "--mapping" => a.mapping = Some(c.value("--mapping")?.into()),
            "--lenient" => a.lenient = true,
            "--out" => a.out = Some(c.value("--out")?.into()),
            "--seed" => a.seed = c.number("--seed", 0u64)?,
            "--help" | "-h" => return Err(Error::invalid("arguments", "--help", usage)),
            other => {
                if !extra(other, &mut c)? {
                    return Err(unknown(other, usage));
                }
            }
        }
    }
    if !have_report {
        return Err(Error::invalid("--report", "(missing)", usage));
    }
    Ok(a)
}

/// Parses `twin`'s arguments (without the program name).
///
/// # Errors
/// As [`parse_analyze`]; `--days` and `--seeds` must be at least 1 (days at most 366,
/// seeds at most 1000).
pub fn parse_twin(args: impl IntoIterator<Item = String>) -> Result<TwinArgs> {
    let (mut days, mut seeds) = (28, 8);
    let c = parse_common(args, TWIN_USAGE, |flag, cur| {
        match flag {
            "--days" => days = cur.number("--days", 1u32)?,
            "--seeds" => seeds = cur.number("--seeds", 1u32)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if days > 366 {
        return Err(Error::invalid("--days", days, "must be <= 366"));
    }
    if seeds > 1000 {
        return Err(Error::invalid("--seeds", seeds, "must be <= 1000"));
    }
    Ok(TwinArgs {
        report: c.report,
        format: c.format,
        mapping: c.mapping,
        lenient: c.lenient,
        days,
        seeds,
        out: c.out,
        seed: c.seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn analyze_flags() {
        let a = parse_analyze(v(&[
            "--report",
            "x.csv",
            "--format=taobao-keyword",
            "--mapping",
            "m.json",
            "--out",
            "o",
            "--top",
            "3",
        ]))
        .unwrap();
        assert_eq!(a.format, Format::Layout(Layout::TaobaoKeyword));
        assert_eq!(a.mapping, Some(PathBuf::from("m.json")));
        assert_eq!((a.top, a.lenient, a.json), (3, false, false));
        assert_eq!(a.read().report, PathBuf::from("x.csv"));
        let e = parse_analyze(v(&["--report", "x", "--frobnicate"])).unwrap_err();
        assert!(e.to_string().contains("--frobnicate"), "{e}");
        assert!(
            parse_analyze(v(&[]))
                .unwrap_err()
                .to_string()
                .contains("--report")
        );
        assert!(parse_analyze(v(&["--report"])).is_err());
        assert!(
            parse_analyze(v(&["--report", "x", "--format", "excel"]))
                .unwrap_err()
                .to_string()
                .contains("google-keyword")
        );
        assert!(parse_analyze(v(&["--report", "x", "--top", "-1"])).is_err());
        assert!(
            parse_analyze(v(&["--help"]))
                .unwrap_err()
                .to_string()
                .contains("usage")
        );
    }

    #[test]
    fn twin_flags() {
        let t = parse_twin(v(&[
            "--report",
            "r",
            "--days",
            "14",
            "--seeds",
            "4",
            "--lenient",
        ]))
        .unwrap();
        assert_eq!((t.days, t.seeds, t.lenient), (14, 4, true));
        assert!(parse_twin(v(&["--report", "r", "--days", "0"])).is_err());
        assert!(parse_twin(v(&["--report", "r", "--days", "x"])).is_err());
        assert!(parse_twin(v(&["--report", "r", "--seeds", "5000"])).is_err());
        assert!(parse_twin(v(&["--report", "r", "--json"])).is_err());
        let o = t.read().options().unwrap();
        assert_eq!(o.mode, Mode::Lenient);
        let mut bad = t.read();
        bad.mapping = Some("/nonexistent/m.json".into());
        assert!(matches!(bad.options(), Err(Error::Io { .. })));
    }
}

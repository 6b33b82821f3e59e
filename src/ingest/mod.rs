//! Report ingestion: the account's own exports read into a [`Report`].
//!
//! [`read_path`] / [`read_bytes`] detect the encoding (UTF-8 with or without BOM, UTF-16
//! with or without BOM, GBK), the delimiter (comma, tab, semicolon) and the header row (title
//! and date-range lines before it are read for a period), then the layout from the header:
//! Google Ads campaign / keyword / search-terms reports, Amazon Sponsored Products campaign
//! and search-term reports, Taobao/Tmall through-train plan and keyword reports (Chinese
//! headers), the crate's canonical CSV ([`write_canonical`]), or any layout described by a
//! [`ColumnMapping`]. `.xlsx` files are read with the `xlsx` feature.
//!
//! ```
//! use adbandit::ingest::{self, Layout, Options};
//! let csv = "Keyword report\n\
//!            Campaign,Keyword,Match type,Impr.,Clicks,Cost,Conversions,Conv. value\n\
//!            Dresses,[red dress],Exact,\"1,000\",50,$40.00,5,500.00\n\
//!            Total: Account,,,\"1,000\",50,$40.00,5,500.00\n";
//! let opts = Options { date: Some("2026-11-11".parse()?), ..Options::default() };
//! let got = ingest::read_bytes(csv.as_bytes(), "kw.csv", &opts)?;
//! assert_eq!(got.layout, Layout::GoogleAdsKeyword);
//! let row = &got.report.rows()[0];
//! assert_eq!(row.keyword.as_ref().unwrap().as_str(), "Dresses|exact|red dress");
//! assert_eq!(row.stats.cost().micros(), 40_000_000);
//! assert!(got.totals[0].matched);
//! // `$` is read as USD, with a note that the symbol is ambiguous.
//! assert_eq!(got.currency.as_deref(), Some("USD"));
//! # Ok::<(), adbandit::Error>(())
//! ```
//!
//! # Ids
//! - `PlanId`: the campaign-id column verbatim if there is one, else the plan name with its
//!   whitespace collapsed (case kept).
//! - `KeywordId`: a `keyword_id` column verbatim (canonical CSV), else
//!   `"{plan_id}|{exact|phrase|broad}|{tokens}"` where tokens are [`crate::matching::tokenize`]
//!   of the keyword text joined by single spaces (lower case, punctuation dropped). Ad groups
//!   are folded into their plan: the same keyword in two ad groups of a campaign is one keyword.
//! - Match type: notation in the keyword text wins (`[kw]` exact, `"kw"` phrase, `+kw`
//!   modified broad = broad), then a match-type column, then broad.
//!
//! # Counting rules
//! - Rows with the same (date, hour, plan, keyword) are summed (device and other segments).
//! - Conversions are read as exact decimals (millionths). Per input row, conversions beyond
//!   the row's clicks are view-through (so CVR never exceeds 1 and zero clicks never divides);
//!   a view-through column adds to them. Per key, the click-attributed sum is rounded half up
//!   into [`Stats`]; the view-through sum likewise into [`RowExtra::view_through`]; the exact
//!   total stays in [`RowExtra::conversions_millionths`]. Revenue is kept whole in `Stats`.
//! - With no conversions column, a conversion-rate column (Taobao's 点击转化率) gives
//!   conversions = clicks x rate, with a warning.
//! - Missing cells (`""`, `-`, `--`) count as zero; capped cells (`< 10%`) count as the bound,
//!   with a warning. "Interactions" are never clicks.
//! - Totals rows are recognised only in the forms the platforms write, in the row's first
//!   non-empty cell (its label column): `Total`, `Totals`, `Grand total`, `Total: Account`,
//!   `Total - ...`, `合计`, `总计`, `汇总`, or a mapping's `totals_labels`. A search term that
//!   begins with "total" is data. Each totals row is compared with the sum of the data rows
//!   (counts exactly, money and conversions within one unit of the total's last printed
//!   decimal); a file passes if any of its totals rows matches (Google writes several).
//! - Periods: a date column gives days (an hour column hours); Amazon's Start Date / End Date
//!   give each row its span; without a date column the title's date range (or
//!   [`Options::period`]) is one period that every row covers ([`ReportRow::days`]); an
//!   "All time" export needs [`Options::period`]; else [`Options::date`]; else
//!   [`Error::Parse`] saying how to export with the Day segment.
//! - Search-terms reports: rows are keyed by keyword and search term; Google's `Match type`
//!   column there is the search term's, so the keyword keeps its own (from its notation).
//! - The currency: a currency column, else the code or symbol in a money header's unit or
//!   its cells (`$` and `¥` are ambiguous: read as USD / CNY with a note); else `None`.
//!
//! # Modes, quirks and defects
//! A platform's **quirk** is what genuine exports do: Google's clicks above impressions
//! (impressions raised to the clicks), orders above clicks (the excess counted as
//! view-through), a missing conversions or revenue column (unknown, not zero). In
//! [`Mode::Standard`] (the default) and [`Mode::Lenient`] each is accepted and counted in a
//! [`Warning::Rows`] (how many, the first line numbers) or a [`Warning::Note`]; in
//! [`Mode::Strict`] it is an error that names the default mode.
//!
//! A **defect** would make a figure wrong if read: a line with more or fewer fields than the
//! header, a last line cut short (no line end), a number that is not one, clicks above
//! impressions outside Google, a negative amount, a bad date or hour, a duplicated row (same
//! day, plan, keyword, search term and segment cells such as device or ad group), data rows
//! that disagree with the file's own totals. In the default and strict modes the first defect
//! fails the file with [`Error::Parse`] (file, line, column, and the hint that lenient mode
//! skips such rows); in lenient mode defective rows are skipped, listed in
//! [`Ingested::skipped`] and counted in a [`Warning::Rows`], and a totals mismatch is a
//! [`Warning::TotalsMismatch`]. Line numbers count CRLF and LF line ends alike.
//!
//! # Errors
//! [`Error::Parse`] names file, line and column. A file whose header cannot be found lists
//! the fullest line's cells and shows a mapping example; one that lacks impressions, clicks,
//! cost or a plan column lists the header it has. No input panics.

mod canonical;
pub mod cells;
pub mod decode;
pub mod detect;
mod mapping;
#[cfg(feature = "xlsx")]
mod xlsx;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use canonical::{CANONICAL_COLUMNS, write_canonical};
pub use decode::TextEncoding;
pub use detect::{Field, Layout};
pub use mapping::ColumnMapping;

use crate::error::{Error, Result};
use crate::model::matching::tokenize;
use crate::model::{
    Account, Creative, CreativeId, CreativeRow, Date, Keyword, KeywordId, MatchType, Plan, PlanId,
    Report, ReportRow, Stats,
};
use crate::money::Money;

/// Which layout to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Detect from the header.
    #[default]
    Auto,
    /// Read as this layout (the header must still be found; columns are matched by name).
    Layout(Layout),
}

/// What to do with an irregular row.
///
/// Two kinds of irregularity are told apart. A platform's **quirk** is what a genuine export
/// does (Google counts some clicks without an impression; orders attributed over 7 days
/// exceed the day's clicks; a lead-generation account has no revenue column): the default
/// mode accepts it and says so in a counted [`Warning::Rows`] or [`Warning::Note`]. A
/// **defect** makes a figure wrong if read (a cut or misaligned line, a number that is not
/// one, a duplicated row, totals that disagree): it rejects the file unless the mode is
/// lenient, and the error says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Quirks are accepted with counted notes; the first defect rejects the file (the error
    /// names lenient mode, `--lenient`, which skips such rows).
    #[default]
    Standard,
    /// Quirks and defects alike reject the file (the error names the mode that accepts it).
    Strict,
    /// Defective rows are skipped and returned in [`Ingested::skipped`]; quirks are noted.
    Lenient,
}

/// How to read a file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Layout detection or a forced layout.
    pub format: Format,
    /// A user column mapping; when set it decides the columns and the layout is `Mapped`.
    pub mapping: Option<ColumnMapping>,
    /// Strict or lenient.
    pub mode: Mode,
    /// The date for files with neither a date column nor a date range in their title lines.
    pub date: Option<Date>,
    /// The period (first and last day) of a file without a date column: each row covers it.
    /// Needed for "All time" exports, which state no dates; wins over the title's range.
    pub period: Option<(Date, Date)>,
    /// The channel of every plan in the file that has no channel column (`--channel`): one
    /// file per channel, e.g. `marketplace_search` for the Taobao keyword report and
    /// `search_engine` for the Google one.
    pub channel: Option<String>,
}

/// A bad row skipped in lenient mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedRow {
    /// 1-based line in the file.
    pub line: usize,
    /// The column's header text.
    pub column: String,
    /// Why.
    pub reason: String,
}

/// Something the caller should know that did not stop the read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// The data rows do not add up to the file's own totals row.
    TotalsMismatch {
        /// Line of the totals row.
        line: usize,
        /// Its label (`Total: Account`).
        label: String,
        /// Which metric (`impressions`, `clicks`, `cost`, `conversions`, `revenue`).
        metric: String,
        /// The sum of the data rows.
        rows_sum: String,
        /// The file's total.
        file_total: String,
    },
    /// Rows that share one quirk or, in lenient mode, one defect: how many and where.
    Rows {
        /// A short code (`clicks_above_impressions`, `orders_above_clicks`, `duplicate_row`,
        /// `field_count`, `cut_line`, ...).
        code: String,
        /// How many rows.
        count: usize,
        /// The first (up to 20) 1-based line numbers.
        lines: Vec<usize>,
        /// What was done, in the operator's words.
        message: String,
    },
    /// Anything else (capped values, derived conversions, decoding, multi-day periods...).
    Note {
        /// 1-based line, 0 for the whole file.
        line: usize,
        /// What happened.
        message: String,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::TotalsMismatch {
                line,
                label,
                metric,
                rows_sum,
                file_total,
            } => write!(
                f,
                "line {line}: {metric} of the data rows is {rows_sum} but `{label}` says {file_total}"
            ),
            Warning::Rows {
                count,
                lines,
                message,
                ..
            } => {
                let shown: Vec<String> = lines.iter().map(usize::to_string).collect();
                let more = if *count > lines.len() { ", ..." } else { "" };
                let s = if *count == 1 { "" } else { "s" };
                write!(
                    f,
                    "{count} row{s} (line{s} {}{more}): {message}",
                    shown.join(", ")
                )
            }
            Warning::Note { line: 0, message } => write!(f, "{message}"),
            Warning::Note { line, message } => write!(f, "line {line}: {message}"),
        }
    }
}

/// The outcome of comparing one totals row with the data rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotalsCheck {
    /// Line of the totals row.
    pub line: usize,
    /// Its label.
    pub label: String,
    /// Whether every metric it states matches the data rows.
    pub matched: bool,
}

/// What a file says about a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInfo {
    /// The derived id (see the module docs).
    pub id: PlanId,
    /// The name in the file (the id when there is no name column).
    pub name: String,
    /// The daily budget, if the file has a budget column.
    pub budget: Option<Money>,
    /// Its channel: the file's channel column, else [`Options::channel`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Whether `channel` came from the file's column (not the option).
    #[serde(skip)]
    channel_from_column: bool,
}

/// What an ad-level file says about a creative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreativeInfo {
    /// The ad id column verbatim, else `"{plan_id}|{name}"` (name with whitespace collapsed).
    pub id: CreativeId,
    /// Its plan.
    pub plan: PlanId,
    /// Its name or headline (the id when the file has none).
    pub name: String,
}

/// What a file says about a keyword.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeywordInfo {
    /// The derived id (see the module docs).
    pub id: KeywordId,
    /// Its plan.
    pub plan: PlanId,
    /// The text as written, match-type notation removed.
    pub text: String,
    /// Its match type.
    pub match_type: MatchType,
    /// The bid, if the file has a bid column.
    pub bid: Option<Money>,
}

/// Side data for one report row: what [`Stats`] cannot hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RowExtra {
    /// All conversions the file reports for the key (click-attributed and view-through), exact,
    /// in millionths of a conversion.
    pub conversions_millionths: u64,
    /// Conversions not attributable to clicks (beyond the clicks, or in a view-through column),
    /// rounded half up. Never inside `Stats`.
    pub view_through: u64,
}

/// One search term's counters (search-terms reports), summed over segments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchTermRow {
    /// The day.
    pub date: Date,
    /// The hour, if the file has one.
    pub hour: Option<u8>,
    /// The plan.
    pub plan: PlanId,
    /// The keyword that matched, if the file names one.
    pub keyword: Option<KeywordId>,
    /// The user's query as written.
    pub search_term: String,
    /// Its counters (same rules as the report's).
    pub stats: Stats,
    /// Its view-through conversions and exact conversions.
    pub extra: RowExtra,
}

/// A file read into the crate's types.
#[derive(Debug, Clone, PartialEq)]
pub struct Ingested {
    /// The file name given.
    pub file: String,
    /// The layout detected (or forced).
    pub layout: Layout,
    /// The text encoding found.
    pub encoding: TextEncoding,
    /// Per (date, hour, plan, keyword) counters, search terms summed per keyword.
    pub report: Report,
    /// `extras[i]` belongs to `report.rows()[i]`.
    pub extras: Vec<RowExtra>,
    /// Plans named in the file, sorted by id.
    pub plans: Vec<PlanInfo>,
    /// Keywords named in the file, sorted by (id, plan). Derived ids embed the plan, so an id
    /// appears once; a verbatim (canonical) id may appear under two plans, which
    /// [`Ingested::to_account`] then rejects.
    pub keywords: Vec<KeywordInfo>,
    /// Per-search-term rows (search-terms reports only), sorted.
    pub search_terms: Vec<SearchTermRow>,
    /// Creatives named in an ad-level file (sorted by id). An ad-level file's counters are
    /// the report's creative rows ([`Report::creatives`]), one per (day, plan, creative);
    /// it has no keyword or plan rows (a keyword report counts the same traffic).
    pub creatives: Vec<CreativeInfo>,
    /// The file's currency: its currency column, else the code or symbol its money cells or
    /// headers are written with (an ambiguous symbol such as `$` is noted in `warnings`).
    pub currency: Option<String>,
    /// The fields the header has (in [`Field`] order): whether the file has revenue or
    /// conversions at all, which a zero in `Stats` cannot tell.
    pub columns: Vec<Field>,
    /// The date range stated in the title lines (or [`Options::period`]), if any. Without a
    /// date column every row covers it (`ReportRow::days`).
    pub period: Option<(Date, Date)>,
    /// The attribution window in the headers (`7 day`), if any.
    pub attribution_window: Option<String>,
    /// One entry per totals row found.
    pub totals: Vec<TotalsCheck>,
    /// Non-fatal findings.
    pub warnings: Vec<Warning>,
    /// Rows skipped in lenient mode.
    pub skipped: Vec<SkippedRow>,
}

/// Defaults for what a report does not say, when building an [`Account`] from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountDefaults {
    /// Account name.
    pub name: String,
    /// Currency when the file has no currency column.
    pub currency: String,
    /// Daily budget of plans without a budget column.
    pub daily_budget: Money,
    /// Bid of keywords without a bid column.
    pub bid: Money,
    /// Plans' lowest allowed bid (lowered to the lowest bid in the file if needed).
    pub min_bid: Money,
    /// Plans' highest allowed bid (raised to the highest bid in the file if needed).
    pub max_bid: Money,
}

impl Ingested {
    /// Whether the file has a revenue (conversion value, sales) column.
    pub fn has_revenue(&self) -> bool {
        self.columns.contains(&Field::Revenue)
    }

    /// Whether the file has conversions (a conversions column, or a conversion rate to
    /// derive them from).
    pub fn has_conversions(&self) -> bool {
        self.columns.contains(&Field::Conversions) || self.columns.contains(&Field::ConversionRate)
    }

    /// An [`Account`] with the plans, keywords and creatives the file names, ids as in the
    /// report, channels as read.
    ///
    /// Keywords whose text has no words (e.g. Amazon's `*` auto-targeting) are left out.
    ///
    /// # Errors
    /// Any [`Account::new`] error, e.g. two keyword ids with the same words and match type in
    /// a plan (possible only with verbatim canonical ids).
    pub fn to_account(&self, d: &AccountDefaults) -> Result<Account> {
        let mut plans: Vec<Plan> = Vec::with_capacity(self.plans.len());
        let mut pos: HashMap<&PlanId, usize> = HashMap::new();
        for p in &self.plans {
            pos.insert(&p.id, plans.len());
            plans.push(Plan::new(
                p.id.as_str(),
                if p.name.trim().is_empty() {
                    p.id.as_str()
                } else {
                    &p.name
                },
                p.budget.unwrap_or(d.daily_budget),
                d.min_bid,
                d.max_bid,
            ));
            if let Some(c) = &p.channel {
                plans[pos[&p.id]].channel = Some(c.clone());
            }
        }
        for c in &self.creatives {
            if let Some(&i) = pos.get(&c.plan) {
                plans[i]
                    .creatives
                    .push(Creative::new(c.id.as_str(), c.name.clone()));
            }
        }
        for k in &self.keywords {
            if tokenize(&k.text).is_empty() {
                continue;
            }
            let Some(&i) = pos.get(&k.plan) else {
                continue;
            };
            let bid = k.bid.filter(|b| b.micros() > 0).unwrap_or(d.bid);
            let p = &mut plans[i];
            p.min_bid = p.min_bid.min(bid);
            p.max_bid = p.max_bid.max(bid);
            p.keywords.push(Keyword::new(
                k.id.as_str(),
                k.text.clone(),
                k.match_type,
                bid,
            ));
        }
        let currency = self.currency.clone().unwrap_or_else(|| d.currency.clone());
        Account::new(d.name.clone(), currency, plans)
    }

    /// Writes the report as the canonical CSV, with names and view-through conversions.
    ///
    /// # Errors
    /// [`Error::Io`] if writing fails.
    pub fn write_canonical<W: std::io::Write>(&self, out: W) -> Result<()> {
        canonical::write(out, &self.report, Some(self))
    }
}

/// Reads a report file.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read, else as [`read_bytes`].
pub fn read_path(path: impl AsRef<Path>, opts: &Options) -> Result<Ingested> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    read_bytes(&bytes, &path.display().to_string(), opts)
}

/// Reads a report from memory; `file_name` is used in messages and to recognise `.xlsx`.
///
/// # Errors
/// [`Error::Parse`] with file, line and column (see the module docs).
pub fn read_bytes(bytes: &[u8], file_name: &str, opts: &Options) -> Result<Ingested> {
    if bytes.starts_with(b"PK\x03\x04") || file_name.to_ascii_lowercase().ends_with(".xlsx") {
        #[cfg(feature = "xlsx")]
        {
            let text = xlsx::to_csv(bytes, file_name)?;
            let mut got = read_text(&text, file_name, TextEncoding::Utf8, opts)?;
            got.warnings.insert(
                0,
                Warning::Note {
                    line: 0,
                    message: "read from the first worksheet of an xlsx workbook".into(),
                },
            );
            return Ok(got);
        }
        #[cfg(not(feature = "xlsx"))]
        return Err(parse_err(
            file_name,
            0,
            "",
            "an xlsx workbook: build adbandit with the `xlsx` feature, or export CSV",
        ));
    }
    let (text, enc, had_errors) = decode::decode(bytes);
    let mut got = read_text(&text, file_name, enc, opts)?;
    if had_errors {
        got.warnings.insert(
            0,
            Warning::Note {
                line: 0,
                message: format!("malformed {enc:?} bytes were replaced by U+FFFD"),
            },
        );
    }
    Ok(got)
}

fn parse_err(file: &str, line: usize, column: &str, reason: impl Into<String>) -> Error {
    Error::Parse {
        file: file.to_string(),
        line,
        column: column.to_string(),
        reason: reason.into(),
    }
}

/// Comma, tab or semicolon: whichever occurs most in the first 8 KiB.
fn detect_delimiter(text: &str) -> u8 {
    let head = &text.as_bytes()[..text.len().min(8192)];
    let count = |c: u8| head.iter().filter(|&&b| b == c).count();
    let (tabs, commas, semis) = (count(b'\t'), count(b','), count(b';'));
    if tabs >= commas && tabs >= semis && tabs > 0 {
        b'\t'
    } else if semis > commas {
        b';'
    } else {
        b','
    }
}

const N_FIELDS: usize = 23;
const ALL_FIELDS: [Field; N_FIELDS] = [
    Field::Date,
    Field::StartDate,
    Field::EndDate,
    Field::Hour,
    Field::PlanId,
    Field::Plan,
    Field::KeywordId,
    Field::Keyword,
    Field::MatchType,
    Field::SearchTerm,
    Field::Impressions,
    Field::Clicks,
    Field::Cost,
    Field::Conversions,
    Field::ViewThroughConversions,
    Field::Revenue,
    Field::ConversionRate,
    Field::Bid,
    Field::Budget,
    Field::Currency,
    Field::CreativeId,
    Field::Creative,
    Field::Channel,
];
const NO_HOUR: u8 = u8::MAX;
const NO_KW: u32 = u32::MAX;

/// Counters of one key while summing; conversions in millionths.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    impressions: u64,
    clicks: u64,
    conv_attr: u64,
    conv_vt: u64,
    cost: i64,
    revenue: i64,
    /// Days the key covers (0 until the first row sets it).
    span: u32,
}

impl Acc {
    fn add(&self, o: &Acc) -> Option<Acc> {
        Some(Acc {
            span: if self.span == 0 { o.span } else { self.span },
            impressions: self.impressions.checked_add(o.impressions)?,
            clicks: self.clicks.checked_add(o.clicks)?,
            conv_attr: self.conv_attr.checked_add(o.conv_attr)?,
            conv_vt: self.conv_vt.checked_add(o.conv_vt)?,
            cost: self.cost.checked_add(o.cost)?,
            revenue: self.revenue.checked_add(o.revenue)?,
        })
    }

    fn finish(&self) -> Result<(Stats, RowExtra)> {
        let round = |m: u64| m / 1_000_000 + u64::from(m % 1_000_000 >= 500_000);
        let stats = Stats::new(
            self.impressions,
            self.clicks,
            round(self.conv_attr).min(self.clicks),
            Money::from_micros(self.cost),
            Money::from_micros(self.revenue),
        )?;
        Ok((
            stats,
            RowExtra {
                conversions_millionths: self.conv_attr.saturating_add(self.conv_vt),
                view_through: round(self.conv_vt),
            },
        ))
    }
}

struct TotalsRow {
    line: usize,
    label: String,
    /// (metric, value in units or millionths, tolerance in the same unit, is money/decimal)
    values: Vec<(&'static str, i128, i128, bool)>,
}

/// Key: (days, hour, plan index, keyword index).
type Key = (i32, u8, u32, u32);

/// A multiply-rotate hasher (FxHash) for the small integer keys above; strings keep SipHash.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_i32(&mut self, n: i32) {
        self.write_u64(u64::from(n as u32));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

struct RowError {
    column: String,
    reason: String,
    /// A platform quirk refused only because the mode is strict (the message says so).
    quirk: bool,
    /// The tally code in lenient mode.
    code: &'static str,
}

/// Counted irregularities of one kind: count, first lines, message.
#[derive(Default)]
struct Tally {
    count: usize,
    lines: Vec<usize>,
    message: String,
}

const QUIRK_CLICKS: (&str, &str) = (
    "clicks_above_impressions",
    "more clicks than impressions (Google counts some clicks without an impression): impressions raised to the clicks",
);
const QUIRK_ORDERS: (&str, &str) = (
    "orders_above_clicks",
    "more orders than clicks (orders attributed over several days, or to views): the orders beyond the clicks are counted as view-through, not in the conversion rate",
);

struct Reader<'a> {
    file: &'a str,
    /// Ids are verbatim (the canonical format): only an empty cell means "no id", so a
    /// keyword id spelled `NA` or `-` survives a round trip.
    verbatim_ids: bool,
    opts: &'a Options,
    col: [Option<usize>; N_FIELDS],
    headers: Vec<String>,
    file_date: Option<Date>,
    totals_labels: Vec<String>,
    plan_by_raw: HashMap<String, u32>,
    plan_by_id: HashMap<PlanId, u32>,
    plans: Vec<PlanInfo>,
    kw_by_raw: HashMap<String, u32>,
    kw_by_id: HashMap<(u32, KeywordId), u32>,
    keywords: Vec<KeywordInfo>,
    acc: HashMap<Key, Acc, FxBuild>,
    terms: HashMap<(Key, String), Acc>,
    /// Ad-level files: per (key, creative), the counters.
    cacc: HashMap<(Key, u32), Acc, FxBuild>,
    creative_by_raw: HashMap<String, u32>,
    creatives: Vec<CreativeInfo>,
    /// Per key (and search term), the signatures of the segment cells seen (device, ad
    /// group...): a second row with the same key and signature is a duplicate, not a segment.
    segments: HashSet<(Key, u64, u64), FxBuild>,
    /// Columns whose cells tell segments apart (not fields, not derived rates).
    segment_cols: Vec<usize>,
    /// Days each row covers when the file has no date column.
    file_days: u32,
    layout: Layout,
    /// Counted quirks and lenient defects, by code (reported as [`Warning::Rows`]).
    tallies: std::collections::BTreeMap<&'static str, Tally>,
    /// The currency a money header or cell is written in: (code, ambiguous, as written).
    marker: Option<(&'static str, bool, String)>,
    /// Impressions added to rows with more clicks than impressions (Google), so the totals
    /// check compares what the file wrote.
    impressions_added: u64,
    totals: Vec<TotalsRow>,
    data: Acc,
    /// Sum of the conversions column as read (the figure a totals row states).
    conv_col: u64,
    currency: Option<String>,
    warnings: Vec<Warning>,
    warned: HashSet<(&'static str, usize)>,
    skipped: Vec<SkippedRow>,
    buf: String,
    last_date: (String, Option<Date>),
}

fn fidx(f: Field) -> usize {
    f as usize
}

/// Whether a label cell is a totals label in a form the platforms write: `Total`, `Totals`,
/// `Grand total`, `Total: Account`, `Total - Search`, `合计`, `总计：`, or a mapping's own
/// labels. A search term that merely begins with "total" ("total cost of solar panels") is
/// data.
fn is_total_label(cell: &str, extra: &[String]) -> bool {
    // Cheap first-character test: this runs on a cell of every row.
    let first = cell.trim_start().chars().next();
    if extra.is_empty() && !matches!(first, Some('t' | 'T' | 'g' | 'G' | '合' | '总' | '汇')) {
        return false;
    }
    let t = cell.trim().to_lowercase();
    let labelled = |word: &str| {
        t.strip_prefix(word).is_some_and(|rest| {
            rest.is_empty()
                || rest.starts_with(':')
                || rest.starts_with('：')
                || rest.starts_with(" -")
                || rest.starts_with(" –")
        })
    };
    [
        "total",
        "totals",
        "grand total",
        "合计",
        "总计",
        "汇总",
        "全部合计",
    ]
    .iter()
    .any(|w| labelled(w))
        || extra.iter().any(|e| e.trim().to_lowercase() == t)
}

/// Reads match-type notation in keyword text: `[kw]`, `"kw"`, `+kw +words`.
fn split_notation(raw: &str) -> (String, Option<MatchType>) {
    let t = raw.trim();
    if t.len() >= 2 && t.starts_with('[') && t.ends_with(']') {
        return (t[1..t.len() - 1].trim().to_string(), Some(MatchType::Exact));
    }
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        return (
            t[1..t.len() - 1].trim().to_string(),
            Some(MatchType::Phrase),
        );
    }
    if t.split_whitespace()
        .any(|w| w.starts_with('+') && w.len() > 1)
    {
        let words: Vec<&str> = t
            .split_whitespace()
            .map(|w| w.trim_start_matches('+'))
            .collect();
        return (words.join(" "), Some(MatchType::Broad));
    }
    (t.to_string(), None)
}

/// A match-type cell in any platform's words; `None` for blank or unknown.
fn match_type_of(cell: &str) -> Option<MatchType> {
    let t = cell.trim().to_lowercase();
    if t.contains("exact") || t.contains("精准") || t.contains("精确") {
        Some(MatchType::Exact)
    } else if t.contains("phrase") || t.contains("短语") || t.contains("中心词") {
        Some(MatchType::Phrase)
    } else if t.contains("broad") || t.contains("广泛") {
        Some(MatchType::Broad)
    } else {
        None
    }
}

/// Position of each of `n` items in the order of their ids.
fn rank_of<'a>(n: usize, id: impl Fn(usize) -> &'a str) -> Vec<u32> {
    let mut ix: Vec<usize> = (0..n).collect();
    ix.sort_unstable_by(|&a, &b| id(a).cmp(id(b)));
    let mut r = vec![0u32; n];
    for (pos, i) in ix.into_iter().enumerate() {
        r[i] = pos as u32;
    }
    r
}

/// Decimal digits of `n` without allocating.
fn itoa_u32(mut n: u32, buf: &mut [u8; 10]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("")
}

fn match_name(m: MatchType) -> &'static str {
    match m {
        MatchType::Exact => "exact",
        MatchType::Phrase => "phrase",
        MatchType::Broad => "broad",
    }
}

/// A mapping example for messages, filled with the headers seen where they fit.
fn mapping_example(headers: &[String]) -> String {
    let pick = |f: Field, fallback: &str| {
        headers
            .iter()
            .find(|h| detect::field_of(&detect::normalise_header(h).0) == Some(f))
            .map_or_else(|| fallback.to_string(), |h| h.trim().to_string())
    };
    format!(
        "{{\"name\": \"my-platform\", \"columns\": {{\"date\": \"{}\", \"plan\": \"{}\", \"keyword\": \"{}\", \"impressions\": \"{}\", \"clicks\": \"{}\", \"cost\": \"{}\", \"conversions\": \"{}\", \"revenue\": \"{}\"}}}}",
        pick(Field::Date, "Day"),
        pick(Field::Plan, "Campaign"),
        pick(Field::Keyword, "Keyword"),
        pick(Field::Impressions, "Impressions"),
        pick(Field::Clicks, "Clicks"),
        pick(Field::Cost, "Cost"),
        pick(Field::Conversions, "Conversions"),
        pick(Field::Revenue, "Revenue")
    )
}

/// `a`, `b`, `c` (at most 30 headers).
fn list_headers(headers: &[String]) -> String {
    let mut v: Vec<String> = headers
        .iter()
        .filter(|h| !h.trim().is_empty())
        .take(30)
        .map(|h| format!("`{}`", h.trim()))
        .collect();
    if headers.len() > 30 {
        v.push("...".into());
    }
    if v.is_empty() {
        "no cells".into()
    } else {
        v.join(", ")
    }
}

const HOW_TO_DATE: &str = "export the report again with the Day segment (Google Ads: Segment > Time > Day; Amazon: time unit Daily; Taobao: 分日) or say the period it covers (Options::period, `--period START..END`)";

/// Whether a header names a rate or another figure derived from the counts (CTR, CPC, ACOS,
/// conversion rate...): such columns differ between rows whenever the counts do, so they do
/// not tell segments apart.
fn derived_header(h: &str) -> bool {
    let n = detect::normalise_header(h).0;
    [
        "ctr",
        "cpc",
        "cpm",
        "cpa",
        "rate",
        "acos",
        "roas",
        "avg",
        "average",
        "cost per",
        "cost /",
        "value /",
        "share",
        "per conv",
        "units",
        "率",
        "平均",
        "投入产出比",
    ]
    .iter()
    .any(|w| n.contains(w))
}

fn read_text(text: &str, file: &str, encoding: TextEncoding, opts: &Options) -> Result<Ingested> {
    let delim = detect_delimiter(text);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        .from_reader(text.as_bytes());
    let mut rec = csv::StringRecord::new();
    // Line numbers from byte offsets: the csv crate's own count is one low after CRLF ends.
    let nl = if text.contains('\n') { b'\n' } else { b'\r' };
    let bytes = text.as_bytes();
    let line_of = |byte: u64| {
        let end = (byte as usize).min(bytes.len());
        1 + bytes[..end].iter().filter(|&&b| b == nl).count()
    };
    let csv_err = |e: csv::Error| {
        let line = e.position().map_or(0, |p| line_of(p.byte()));
        parse_err(file, line, "", format!("malformed CSV: {e}"))
    };
    let mut counted = (0usize, 1usize);
    let mut line_at = |p: Option<&csv::Position>| {
        let Some(p) = p else { return 0 };
        // After a CR the reported start can be the LF that ends the line before.
        let mut b = (p.byte() as usize).min(bytes.len());
        while b < bytes.len() && matches!(bytes[b], b'\r' | b'\n') {
            b += 1;
        }
        if b >= counted.0 {
            counted.1 += bytes[counted.0..b].iter().filter(|&&x| x == nl).count();
            counted.0 = b;
        }
        counted.1
    };

    // 1. Title lines, then the header.
    let mut title_lines: Vec<String> = Vec::new();
    // The line most like a header (most non-empty cells), for the message if none is found.
    let mut best: (usize, usize, Vec<String>) = (0, 0, Vec::new());
    // With a mapping: the line that has most of its headers, and which of them it lacks.
    let mut best_mapped: (usize, usize, Vec<String>) = (0, 0, Vec::new());
    let (header_line, headers_raw, fields, layout, window) = loop {
        if !rdr.read_record(&mut rec).map_err(csv_err)? || title_lines.len() >= 50 {
            return Err(no_header(file, opts, &title_lines, &best, &best_mapped));
        }
        let line = line_at(rec.position());
        let raw: Vec<String> = rec.iter().map(str::to_string).collect();
        let filled = raw.iter().filter(|c| !c.trim().is_empty()).count();
        if filled > best.1 {
            best = (line, filled, raw.clone());
        }
        let mut window = None;
        let norm: Vec<String> = raw
            .iter()
            .map(|h| {
                let (n, w) = detect::normalise_header(h);
                if w.is_some() {
                    window = w;
                }
                n
            })
            .collect();
        let fields: Option<(Vec<Option<Field>>, Layout)> = match &opts.mapping {
            Some(m) => match m.resolve(&norm) {
                Ok(f) => Some((f, Layout::Mapped)),
                Err(missing) => {
                    let found = m.columns.len() - missing.len();
                    if found > best_mapped.1 {
                        best_mapped = (line, found, missing);
                    }
                    None
                }
            },
            None => {
                let f: Vec<Option<Field>> = norm.iter().map(|h| detect::field_of(h)).collect();
                let n = f.iter().flatten().count();
                let metric = f
                    .iter()
                    .flatten()
                    .any(|x| matches!(x, Field::Impressions | Field::Clicks | Field::Cost));
                if n >= 3 && metric {
                    let layout = match opts.format {
                        Format::Auto => detect::detect_layout(&norm, &f),
                        Format::Layout(l) => l,
                    };
                    Some((f, layout))
                } else {
                    None
                }
            }
        };
        if let Some((f, layout)) = fields {
            break (line, raw, f, layout, window);
        }
        title_lines.push(raw.join(","));
    };

    let mut col = [None; N_FIELDS];
    for (i, f) in fields.iter().enumerate() {
        if let Some(f) = f
            && col[fidx(*f)].is_none()
        {
            col[fidx(*f)] = Some(i);
        }
    }
    let norm_header = |i: usize| detect::normalise_header(&headers_raw[i]).0;
    let mut warnings = Vec::new();
    // In a Google search-terms report, "Match type" is the search term's match to the
    // keyword, not the keyword's own: the keyword's comes from its notation or a
    // "Keyword match type" column, so one keyword stays one keyword.
    if layout == Layout::GoogleAdsSearchTerms
        && let Some(i) = col[fidx(Field::MatchType)]
        && norm_header(i) == "match type"
    {
        col[fidx(Field::MatchType)] = None;
        warnings.push(Warning::Note {
            line: header_line,
            message: "`Match type` of a search-terms report is the search term's: each keyword's match type is read from its notation ([exact], \"phrase\", else broad)".into(),
        });
    }
    let has_interactions = headers_raw
        .iter()
        .any(|h| detect::normalise_header(h).0.starts_with("interactions"));
    let seen = list_headers(&headers_raw);
    let example = mapping_example(&headers_raw);
    for f in [Field::Impressions, Field::Clicks, Field::Cost] {
        if col[fidx(f)].is_none() {
            let mut reason = format!("no {} column", f.name());
            if f == Field::Clicks && has_interactions {
                reason.push_str(" (\"Interactions\" are not clicks)");
            }
            reason.push_str(&format!(
                ". The header has: {seen}. A report needs impressions, clicks, cost and a campaign column; describe other layouts with a mapping (Options::mapping, `--mapping FILE`), e.g. {example}"
            ));
            return Err(parse_err(file, header_line, f.name(), reason));
        }
    }
    if col[fidx(Field::Plan)].is_none() && col[fidx(Field::PlanId)].is_none() {
        return Err(parse_err(
            file,
            header_line,
            "plan",
            format!(
                "no campaign / plan column. The header has: {seen}. Describe the layout with a mapping (Options::mapping, `--mapping FILE`), e.g. {example}"
            ),
        ));
    }
    // A missing conversions or revenue column is a fact about the file, not a zero.
    let missing_col = |f: Field, what: &str, then: &str| -> Result<Option<Warning>> {
        if col[fidx(f)].is_some() {
            return Ok(None);
        }
        let msg = format!(
            "no {what} column (the header has: {seen}): {then}; if a column holds {what} under another name, say so with a mapping"
        );
        if opts.mode == Mode::Strict {
            return Err(parse_err(
                file,
                header_line,
                f.name(),
                format!("{msg} (the default mode reads the file with a note)"),
            ));
        }
        Ok(Some(Warning::Note {
            line: header_line,
            message: msg,
        }))
    };
    if col[fidx(Field::ConversionRate)].is_none()
        && let Some(w) = missing_col(
            Field::Conversions,
            "conversions",
            "conversions are unknown, not zero (the analysis works on clicks)",
        )?
    {
        warnings.push(w);
    }
    if let Some(w) = missing_col(
        Field::Revenue,
        "revenue (conversion value)",
        "revenue is unknown, not zero (the analysis works on conversions, not ROI)",
    )? {
        warnings.push(w);
    }

    let title_period = title_lines.iter().find_map(|l| cells::parse_date_range(l));
    let all_time = title_lines
        .iter()
        .any(|l| l.to_lowercase().split(',').any(|c| c.trim() == "all time"));
    let period = opts.period.or(title_period);
    let mut file_date = None;
    let mut file_days = 1u32;
    if col[fidx(Field::Date)].is_none() && col[fidx(Field::StartDate)].is_none() {
        if let Some((a, b)) = period {
            file_date = Some(a);
            file_days = u32::try_from(b.days() - a.days() + 1).unwrap_or(1).max(1);
            if a != b {
                let whence = if opts.period.is_some() {
                    "the period given in the options"
                } else {
                    "the date range in the title"
                };
                warnings.push(Warning::Note {
                    line: 0,
                    message: format!(
                        "no date column: every row covers {a}..={b} ({file_days} days, {whence}) and is read as one period, not as a day; for daily rows {}",
                        HOW_TO_DATE.split(" or say").next().unwrap_or(HOW_TO_DATE)
                    ),
                });
            }
        } else if all_time {
            return Err(parse_err(
                file,
                header_line,
                "date",
                format!(
                    "the report covers \"All time\" and has no date column, so its rows have no dates: {HOW_TO_DATE}"
                ),
            ));
        } else if let Some(d) = opts.date {
            file_date = Some(d);
        } else {
            return Err(parse_err(
                file,
                header_line,
                "date",
                format!(
                    "no date column and no date range in the title lines: {HOW_TO_DATE}, or give the day (Options::date)"
                ),
            ));
        }
    } else {
        file_date = opts.date.or(file_date);
    }

    let mapped: HashSet<usize> = col.iter().flatten().copied().collect();
    let segment_cols: Vec<usize> = (0..headers_raw.len())
        .filter(|i| !mapped.contains(i) && !derived_header(&headers_raw[*i]))
        .collect();
    // Currency named in a money header's unit (`Spend (₹)`, `Cost (USD)`).
    let mut marker = None;
    for f in [Field::Cost, Field::Revenue, Field::Budget, Field::Bid] {
        if marker.is_none()
            && let Some(i) = col[fidx(f)]
            && let Some(u) = detect::header_unit(&headers_raw[i])
            && let Some((code, ambiguous)) = cells::currency_code(u)
        {
            marker = Some((code, ambiguous, u.to_string()));
        }
    }

    let mut r = Reader {
        file,
        verbatim_ids: layout == Layout::Canonical,
        opts,
        col,
        headers: headers_raw,
        file_date,
        totals_labels: opts
            .mapping
            .as_ref()
            .map(|m| m.totals_labels.clone())
            .unwrap_or_default(),
        plan_by_raw: HashMap::new(),
        plan_by_id: HashMap::new(),
        plans: Vec::new(),
        kw_by_raw: HashMap::new(),
        kw_by_id: HashMap::new(),
        keywords: Vec::new(),
        acc: HashMap::default(),
        terms: HashMap::new(),
        cacc: HashMap::default(),
        creative_by_raw: HashMap::new(),
        creatives: Vec::new(),
        segments: HashSet::default(),
        segment_cols,
        file_days,
        layout,
        tallies: std::collections::BTreeMap::new(),
        marker,
        impressions_added: 0,
        totals: Vec::new(),
        data: Acc::default(),
        conv_col: 0,
        currency: None,
        warnings,
        warned: HashSet::new(),
        skipped: Vec::new(),
        buf: String::new(),
        last_date: (String::new(), None),
    };

    // A file that does not end with a line end may have been cut inside its last line:
    // find where that line starts (a cut inside a quoted multi-line cell is not caught).
    let open_tail = !text.is_empty() && !text.ends_with(['\n', '\r']);
    let last_line_start = text.rfind(['\n', '\r']).map_or(0, |i| i + 1) as u64;

    // 2. Data rows.
    while rdr.read_record(&mut rec).map_err(csv_err)? {
        let line = line_at(rec.position());
        let non_empty = rec
            .iter()
            .filter(|c| c.bytes().any(|b| !b.is_ascii_whitespace()))
            .count();
        if non_empty == 0 {
            continue;
        }
        // Totals rows carry their label in the first non-empty cell (the label column).
        if rec
            .iter()
            .find(|c| !c.trim().is_empty())
            .is_some_and(|c| is_total_label(c, &r.totals_labels))
        {
            r.totals_row(line, &rec);
            continue;
        }
        if non_empty == 1 && r.headers.len() > 2 {
            r.warn_once(
                "note",
                line,
                "a line with a single cell is taken as a note, not data",
            );
            continue;
        }
        let cut = open_tail && rec.position().is_some_and(|p| p.byte() >= last_line_start);
        let shape = if cut {
            Err(RowError {
                column: String::new(),
                reason: "the file ends inside this line (no line end after it): it looks cut, so its figures cannot be trusted".into(),
                quirk: false,
                code: "cut_line",
            })
        } else {
            r.check_shape(&rec)
        };
        if let Err(e) = shape.and_then(|()| r.data_row(line, &rec)) {
            match opts.mode {
                Mode::Lenient if !e.quirk => {
                    r.tally(
                        e.code,
                        line,
                        "skipped (lenient mode); `skipped` gives each line's reason",
                    );
                    r.skipped.push(SkippedRow {
                        line,
                        column: e.column,
                        reason: e.reason,
                    });
                }
                _ => {
                    let hint = if e.quirk {
                        ""
                    } else {
                        " (lenient mode, `--lenient`, skips such rows and lists them)"
                    };
                    return Err(parse_err(
                        file,
                        line,
                        &e.column,
                        format!("{}{hint}", e.reason),
                    ));
                }
            }
        }
    }
    r.finish(layout, encoding, period, window)
}

/// The error for a file whose header row was not found.
fn no_header(
    file: &str,
    opts: &Options,
    title_lines: &[String],
    best: &(usize, usize, Vec<String>),
    best_mapped: &(usize, usize, Vec<String>),
) -> Error {
    if let Some(m) = &opts.mapping {
        let (line, _, missing) = best_mapped;
        if *line > 0 {
            return parse_err(
                file,
                *line,
                "",
                format!(
                    "mapping `{}`: line {line} has most of its headers but not {}; the line has: {}",
                    m.name,
                    missing
                        .iter()
                        .map(|h| format!("`{h}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    list_headers(&best.2)
                ),
            );
        }
        return parse_err(
            file,
            best.0,
            "",
            format!(
                "mapping `{}`: none of its headers is in the first {} lines; the fullest line ({}) has: {}",
                m.name,
                title_lines.len().max(1),
                best.0,
                list_headers(&best.2)
            ),
        );
    }
    parse_err(
        file,
        best.0,
        "",
        format!(
            "no header row found in the first {} lines (a header needs columns for impressions, clicks, cost and the campaign); the fullest line ({}) has: {}. Describe the layout with a mapping (Options::mapping, `--mapping FILE`), e.g. {}",
            title_lines.len().max(1),
            best.0,
            list_headers(&best.2),
            mapping_example(&best.2)
        ),
    )
}

impl Reader<'_> {
    fn column_name(&self, f: Field) -> String {
        self.col[fidx(f)]
            .and_then(|i| self.headers.get(i))
            .map_or_else(|| f.name().to_string(), |h| h.trim().to_string())
    }

    fn cell<'r>(&self, rec: &'r csv::StringRecord, f: Field) -> Option<&'r str> {
        self.col[fidx(f)].and_then(|i| rec.get(i))
    }

    /// An id cell, or `None` when it says "no value" (see [`Reader::verbatim_ids`]).
    fn id_cell<'r>(&self, rec: &'r csv::StringRecord, f: Field) -> Option<&'r str> {
        let c = self.cell(rec, f)?;
        let absent = if self.verbatim_ids {
            c.is_empty()
        } else {
            cells::is_missing(c)
        };
        (!absent).then_some(c)
    }

    fn warn_once(&mut self, kind: &'static str, line: usize, message: &str) {
        if self.warned.insert((kind, 0)) {
            self.warnings.push(Warning::Note {
                line,
                message: message.to_string(),
            });
        }
    }

    fn err(&self, f: Field, reason: impl Into<String>) -> RowError {
        RowError {
            column: self.column_name(f),
            reason: reason.into(),
            quirk: false,
            code: "bad_value",
        }
    }

    /// Counts one row under `code` (the message is the first one given).
    fn tally(&mut self, code: &'static str, line: usize, message: &str) {
        let t = self.tallies.entry(code).or_default();
        t.count += 1;
        if t.lines.len() < 20 {
            t.lines.push(line);
        }
        if t.message.is_empty() {
            t.message = message.to_string();
        }
    }

    /// A platform quirk: an error in strict mode; otherwise the caller counts it once the
    /// row is read.
    fn quirk(&self, code: &'static str, f: Field, strict_reason: String) -> Result<(), RowError> {
        if self.opts.mode == Mode::Strict {
            return Err(RowError {
                column: self.column_name(f),
                reason: format!(
                    "{strict_reason} (strict mode; the default mode accepts this with a note)"
                ),
                quirk: true,
                code,
            });
        }
        Ok(())
    }

    /// A data line must have the header's fields: fewer means a cut or misquoted line, more
    /// (other than empty trailing cells) a misaligned one. Either shifts figures into the
    /// wrong columns.
    fn check_shape(&self, rec: &csv::StringRecord) -> Result<(), RowError> {
        let (n, want) = (rec.len(), self.headers.len());
        let extra_filled = rec.iter().skip(want).any(|c| !c.trim().is_empty());
        if n < want || extra_filled {
            return Err(RowError {
                column: String::new(),
                reason: format!(
                    "the line has {n} fields but the header has {want}: a cut, misquoted or misaligned line"
                ),
                quirk: false,
                code: "field_count",
            });
        }
        Ok(())
    }

    /// A hash of the cells that tell segments apart (device, network, ad group...).
    fn segment_signature(&self, rec: &csv::StringRecord) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = FxHasher::default();
        for &i in &self.segment_cols {
            rec.get(i).unwrap_or("").trim().hash(&mut h);
        }
        h.finish()
    }

    fn capped(&mut self, f: Field, line: usize) {
        let i = fidx(f);
        if self.warned.insert(("capped", i)) {
            let name = self.column_name(f);
            self.warnings.push(Warning::Note {
                line,
                message: format!("column `{name}` has capped values (`< x`): read as the bound"),
            });
        }
    }

    fn count(&mut self, rec: &csv::StringRecord, f: Field, line: usize) -> Result<u64, RowError> {
        let Some(c) = self.cell(rec, f) else {
            return Ok(0);
        };
        match cells::parse_count(c) {
            Ok(None) => Ok(0),
            Ok(Some((v, capped))) => {
                if capped {
                    self.capped(f, line);
                }
                Ok(v)
            }
            Err(e) => Err(self.err(f, e)),
        }
    }

    /// Non-negative decimal in millionths (money in micros).
    fn decimal(&mut self, rec: &csv::StringRecord, f: Field, line: usize) -> Result<i64, RowError> {
        let Some(c) = self.cell(rec, f) else {
            return Ok(0);
        };
        match cells::parse_decimal(c) {
            Ok(None) => Ok(0),
            Ok(Some((v, capped))) => {
                if capped {
                    self.capped(f, line);
                }
                if v < 0 {
                    return Err(self.err(f, format!("{c:?} is negative")));
                }
                Ok(v)
            }
            Err(e) => Err(self.err(f, e)),
        }
    }

    fn date(&mut self, rec: &csv::StringRecord) -> Result<Date, RowError> {
        let f = if self.col[fidx(Field::Date)].is_some() {
            Field::Date
        } else {
            Field::StartDate
        };
        let cell = self.cell(rec, f).unwrap_or("");
        if self.last_date.0 == cell
            && let Some(d) = self.last_date.1
        {
            return Ok(d);
        }
        let parsed = if cell.len() == 10 && cell.as_bytes()[4] == b'-' && cell.as_bytes()[7] == b'-'
        {
            cell.parse::<Date>()
                .map(Some)
                .or_else(|_| cells::parse_date(cell))
        } else {
            cells::parse_date(cell)
        };
        match parsed {
            Ok(Some(d)) => {
                self.last_date = (cell.to_string(), Some(d));
                Ok(d)
            }
            Ok(None) => self
                .file_date
                .ok_or_else(|| self.err(f, "no date in the row and no date for the file")),
            Err(e) => Err(self.err(f, e)),
        }
    }

    fn data_row(&mut self, line: usize, rec: &csv::StringRecord) -> Result<(), RowError> {
        // Numbers first: a bad row must leave no trace (quirks are counted once it passed).
        let mut pending: Vec<(&'static str, &'static str)> = Vec::new();
        let mut impressions = self.count(rec, Field::Impressions, line)?;
        let mut added = 0;
        let clicks = self.count(rec, Field::Clicks, line)?;
        if clicks > impressions {
            let why = format!("clicks {clicks} > impressions {impressions}");
            let google = matches!(
                self.layout,
                Layout::GoogleAdsCampaign | Layout::GoogleAdsKeyword | Layout::GoogleAdsSearchTerms
            );
            if !google {
                return Err(self.err(Field::Clicks, why));
            }
            // Google counts some clicks without an impression (sitelinks, call extensions,
            // late-arriving impressions): the clicks are real, so impressions are raised to
            // them (the CTR of the row is 100%, never more).
            self.quirk("clicks_above_impressions", Field::Clicks, why)?;
            pending.push(QUIRK_CLICKS);
            added = clicks - impressions;
            impressions = clicks;
        }
        let cost = self.decimal(rec, Field::Cost, line)?;
        let revenue = self.decimal(rec, Field::Revenue, line)?;
        let mut conv = 0u64;
        if self.col[fidx(Field::Conversions)].is_some() {
            conv = self.decimal(rec, Field::Conversions, line)? as u64;
        } else if let Some(c) = self.cell(rec, Field::ConversionRate) {
            match cells::parse_rate(c) {
                Ok(None) => {}
                Ok(Some((rate, capped))) => {
                    if capped {
                        self.capped(Field::ConversionRate, line);
                    }
                    conv = u64::try_from(i128::from(clicks) * i128::from(rate))
                        .map_err(|_| self.err(Field::ConversionRate, "too large"))?;
                    self.warn_once(
                        "derived",
                        line,
                        "no conversions column: conversions = clicks x conversion rate",
                    );
                }
                Err(e) => return Err(self.err(Field::ConversionRate, e)),
            }
        }
        let vt_col = self.decimal(rec, Field::ViewThroughConversions, line)? as u64;
        let click_cap = clicks.saturating_mul(1_000_000);
        let conv_attr = conv.min(click_cap);
        if conv > click_cap {
            let why = format!(
                "{} orders but {clicks} clicks",
                Money::from_micros(conv as i64)
            );
            self.quirk("orders_above_clicks", Field::Conversions, why)?;
            pending.push(QUIRK_ORDERS);
        }
        let conv_vt = (conv - conv_attr).saturating_add(vt_col);
        let date = self.date(rec)?;
        let span = match self.cell(rec, Field::EndDate) {
            None => self.file_days,
            Some(c) if cells::is_missing(c) => self.file_days,
            Some(c) => {
                match cells::parse_date(c) {
                    Ok(Some(end)) if end >= date && end.days() - date.days() < 3660 => {
                        (end.days() - date.days() + 1) as u32
                    }
                    Ok(Some(end)) => {
                        return Err(self.err(
                        Field::EndDate,
                        format!("end date {end} is before the start date {date} (or ten years after it)"),
                    ));
                    }
                    Ok(None) => self.file_days,
                    Err(e) => return Err(self.err(Field::EndDate, e)),
                }
            }
        };
        let hour = match self.cell(rec, Field::Hour) {
            None => NO_HOUR,
            Some(c) if cells::is_missing(c) => NO_HOUR,
            Some(c) => {
                let digits: &str = c.trim().split([':', ' ', '-']).next().unwrap_or("");
                match digits.parse::<u8>() {
                    Ok(h) if h <= 23 && span == 1 => h,
                    Ok(h) if h <= 23 => {
                        return Err(self.err(
                            Field::Hour,
                            format!("hour {h} in a row that covers {span} days"),
                        ));
                    }
                    _ => return Err(self.err(Field::Hour, format!("{c:?} is not an hour 0-23"))),
                }
            }
        };
        let delta = Acc {
            impressions,
            clicks,
            conv_attr,
            conv_vt,
            cost,
            revenue,
            span,
        };
        let new_data = self
            .data
            .add(&delta)
            .ok_or_else(|| self.err(Field::Cost, "sum overflows"))?;

        // Ids and entities (registering them for a row that then fails below is harmless:
        // a duplicate's plan and keyword exist already).
        let plan = self.plan_of(rec)?;
        let kw = self.keyword_of(rec, plan)?;
        let key = (date.days(), hour, plan, kw);
        if let Some(e) = self.acc.get(&key)
            && e.span != span
        {
            return Err(self.err(
                Field::EndDate,
                format!(
                    "the same cell covers {} days in one row and {span} in another",
                    e.span
                ),
            ));
        }
        let term = self.cell(rec, Field::SearchTerm).map(str::trim);
        let creative = self.creative_of(rec, plan)?;
        // Same key (and search term or creative) and the same segment cells: the row is
        // there twice.
        let term_hash = term.map_or(0, |t| {
            use std::hash::{Hash, Hasher};
            let mut h = FxHasher::default();
            t.hash(&mut h);
            h.finish()
        }) ^ creative.map_or(0, |c| u64::from(c) + 1);
        let sig = self.segment_signature(rec);
        if !self.segments.insert((key, term_hash, sig)) {
            return Err(RowError {
                column: String::new(),
                reason: "a second row for the same day, campaign, keyword and segment: a duplicated row (a restated or twice-exported line), not a segment to add".into(),
                quirk: false,
                code: "duplicate_row",
            });
        }
        // The file-wide sum did not overflow and every value is non-negative, so no per-key
        // sum can overflow: commit without further checks.
        if let Some(term) = term {
            let e = self.terms.entry((key, term.to_string())).or_default();
            *e = e.add(&delta).unwrap_or(*e);
        }
        match creative {
            // An ad's row counts only as the creative's: the plan's traffic is the keyword
            // report's.
            Some(c) => {
                let e = self.cacc.entry((key, c)).or_default();
                *e = e.add(&delta).unwrap_or(*e);
            }
            None => {
                let e = self.acc.entry(key).or_default();
                *e = e.add(&delta).unwrap_or(*e);
            }
        }
        self.data = new_data;
        self.conv_col = self.conv_col.saturating_add(conv);
        self.impressions_added = self.impressions_added.saturating_add(added);
        for (code, msg) in pending {
            self.tally(code, line, msg);
        }
        if self.marker.is_none()
            && let Some(c) = self.cell(rec, Field::Cost)
            && let Some(m) = cells::currency_marker(c)
            && let Some((code, ambiguous)) = cells::currency_code(m)
        {
            self.marker = Some((code, ambiguous, m.to_string()));
        }
        if let Some(c) = self.cell(rec, Field::Currency)
            && !cells::is_missing(c)
        {
            let c = c.trim();
            match &self.currency {
                None => self.currency = Some(c.to_string()),
                Some(x) if x != c => {
                    let msg = format!("several currencies in one file: {x} and {c}");
                    self.warn_once("currency", line, &msg);
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn plan_of(&mut self, rec: &csv::StringRecord) -> Result<u32, RowError> {
        let id_cell = self.id_cell(rec, Field::PlanId);
        let name_cell = self
            .cell(rec, Field::Plan)
            .filter(|c| !cells::is_missing(c));
        let raw = match (id_cell, name_cell) {
            (Some(i), _) => i,
            (None, Some(n)) => n,
            (None, None) => return Err(self.err(Field::Plan, "no plan name or id")),
        };
        let ix = if let Some(&ix) = self.plan_by_raw.get(raw) {
            ix
        } else {
            // A platform id is kept verbatim; a name has its whitespace collapsed.
            let id = if id_cell.is_some() {
                PlanId::new(raw)
            } else {
                PlanId::new(raw.split_whitespace().collect::<Vec<_>>().join(" "))
            };
            let ix = match self.plan_by_id.get(&id) {
                Some(&ix) => ix,
                None => {
                    let ix = self.plans.len() as u32;
                    self.plans.push(PlanInfo {
                        id: id.clone(),
                        name: name_cell.map_or_else(|| id.to_string(), |n| n.trim().to_string()),
                        budget: None,
                        channel: self.opts.channel.clone(),
                        channel_from_column: false,
                    });
                    self.plan_by_id.insert(id, ix);
                    ix
                }
            };
            self.plan_by_raw.insert(raw.to_string(), ix);
            ix
        };
        if let Some(c) = self.cell(rec, Field::Channel).map(str::trim)
            && !cells::is_missing(c)
        {
            // The column wins over the option; a plan in two channels keeps its first.
            let from_option = self.plans[ix as usize].channel == self.opts.channel;
            let p = &mut self.plans[ix as usize];
            if from_option || p.channel.is_none() {
                p.channel = Some(c.to_string());
                p.channel_from_column = true;
            } else if p.channel.as_deref() != Some(c) && p.channel_from_column {
                let msg = format!(
                    "plan {} is in two channels ({} and {c}): the first is kept",
                    p.id,
                    p.channel.as_deref().unwrap_or("")
                );
                self.warn_once("channel", 0, &msg);
            }
        }
        if let Some(b) = self.cell(rec, Field::Budget) {
            match cells::parse_decimal(b) {
                Ok(Some((v, _))) if v >= 0 => {
                    self.plans[ix as usize].budget = Some(Money::from_micros(v));
                }
                Ok(_) => {}
                Err(_) => {
                    if self.warned.insert(("budget", 0)) {
                        self.warnings.push(Warning::Note {
                            line: 0,
                            message: format!("unreadable budget {b:?} ignored"),
                        });
                    }
                }
            }
        }
        Ok(ix)
    }

    /// The row's creative (ad-level files), registered on first sight; `None` for a row of
    /// a file without creative columns.
    fn creative_of(&mut self, rec: &csv::StringRecord, plan: u32) -> Result<Option<u32>, RowError> {
        if self.col[fidx(Field::CreativeId)].is_none() && self.col[fidx(Field::Creative)].is_none()
        {
            return Ok(None);
        }
        let id_cell = self.id_cell(rec, Field::CreativeId).map(str::trim);
        let name = self
            .cell(rec, Field::Creative)
            .filter(|c| !cells::is_missing(c))
            .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "));
        let plan_id = self.plans[plan as usize].id.clone();
        let id = match (id_cell, &name) {
            (Some(i), _) => i.to_string(),
            (None, Some(n)) => format!("{plan_id}|{n}"),
            (None, None) => return Err(self.err(Field::CreativeId, "no ad id or name")),
        };
        if let Some(&ix) = self.creative_by_raw.get(&id) {
            if self.creatives[ix as usize].plan != plan_id {
                return Err(self.err(
                    Field::CreativeId,
                    format!(
                        "ad {id} appears under plan {} and plan {plan_id}",
                        self.creatives[ix as usize].plan
                    ),
                ));
            }
            return Ok(Some(ix));
        }
        let ix = self.creatives.len() as u32;
        self.creatives.push(CreativeInfo {
            id: CreativeId::new(id.clone()),
            plan: plan_id,
            name: name.unwrap_or_else(|| id.clone()),
        });
        self.creative_by_raw.insert(id, ix);
        Ok(Some(ix))
    }

    fn keyword_of(&mut self, rec: &csv::StringRecord, plan: u32) -> Result<u32, RowError> {
        let kw_id = self.id_cell(rec, Field::KeywordId);
        let text = self
            .cell(rec, Field::Keyword)
            .filter(|c| !cells::is_missing(c));
        if kw_id.is_none() && text.is_none() {
            return Ok(NO_KW);
        }
        let mt_cell = self.cell(rec, Field::MatchType).unwrap_or("");
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        buf.push_str(itoa_u32(plan, &mut [0u8; 10]));
        for part in [kw_id.unwrap_or(""), text.unwrap_or(""), mt_cell] {
            buf.push('\u{1f}');
            buf.push_str(part);
        }
        let ix = if let Some(&ix) = self.kw_by_raw.get(buf.as_str()) {
            ix
        } else {
            let (clean, notation) = split_notation(text.unwrap_or(""));
            let mt = notation
                .or_else(|| match_type_of(mt_cell))
                .unwrap_or_else(|| {
                    if !cells::is_missing(mt_cell) && self.warned.insert(("match", 0)) {
                        self.warnings.push(Warning::Note {
                            line: 0,
                            message: format!("match type {mt_cell:?} read as broad"),
                        });
                    }
                    MatchType::Broad
                });
            let plan_id = self.plans[plan as usize].id.clone();
            let id = match kw_id {
                Some(k) => KeywordId::new(k),
                None => {
                    let toks = tokenize(&clean);
                    let norm = if toks.is_empty() {
                        clean.to_lowercase()
                    } else {
                        toks.join(" ")
                    };
                    KeywordId::new(format!("{plan_id}|{}|{norm}", match_name(mt)))
                }
            };
            let ix = match self.kw_by_id.get(&(plan, id.clone())) {
                Some(&ix) => ix,
                None => {
                    let ix = self.keywords.len() as u32;
                    self.keywords.push(KeywordInfo {
                        id: id.clone(),
                        plan: plan_id,
                        text: clean,
                        match_type: mt,
                        bid: None,
                    });
                    self.kw_by_id.insert((plan, id), ix);
                    ix
                }
            };
            self.kw_by_raw.insert(buf.clone(), ix);
            ix
        };
        self.buf = buf;
        if let Some(b) = self.cell(rec, Field::Bid) {
            match cells::parse_decimal(b) {
                Ok(Some((v, _))) if v > 0 => {
                    self.keywords[ix as usize].bid = Some(Money::from_micros(v));
                }
                Ok(_) => {}
                Err(_) => {
                    if self.warned.insert(("bid", 0)) {
                        self.warnings.push(Warning::Note {
                            line: 0,
                            message: format!("unreadable bid {b:?} ignored"),
                        });
                    }
                }
            }
        }
        Ok(ix)
    }

    fn totals_row(&mut self, line: usize, rec: &csv::StringRecord) {
        let label = rec
            .iter()
            .find(|c| !c.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string();
        let mut values = Vec::new();
        for (f, money) in [
            (Field::Impressions, false),
            (Field::Clicks, false),
            (Field::Cost, true),
            (Field::Conversions, true),
            (Field::Revenue, true),
        ] {
            let Some(c) = self.cell(rec, f) else { continue };
            if money {
                if let Ok(Some((v, false))) = cells::parse_decimal(c) {
                    let d = cells::clean(c).map_or(0, |x| cells::decimals(&x.text));
                    let tol = if d >= 6 { 0 } else { 10i128.pow(6 - d) };
                    values.push((f.name(), i128::from(v), tol, true));
                }
            } else if let Ok(Some((v, false))) = cells::parse_count(c) {
                values.push((f.name(), i128::from(v), 0, false));
            }
        }
        self.totals.push(TotalsRow {
            line,
            label,
            values,
        });
    }

    fn finish(
        self,
        layout: Layout,
        encoding: TextEncoding,
        period: Option<(Date, Date)>,
        window: Option<String>,
    ) -> Result<Ingested> {
        let Reader {
            file,
            opts,
            col,
            plans,
            keywords,
            acc,
            terms,
            cacc,
            creatives,
            totals,
            data,
            conv_col,
            mut currency,
            mut warnings,
            skipped,
            tallies,
            marker,
            impressions_added,
            ..
        } = self;
        let fail = |e: Error| parse_err(file, 0, "", e.to_string());
        for (code, t) in tallies {
            warnings.push(Warning::Rows {
                code: code.to_string(),
                count: t.count,
                lines: t.lines,
                message: t.message,
            });
        }
        if currency.is_none()
            && let Some((code, ambiguous, shown)) = marker
        {
            currency = Some(code.to_string());
            if ambiguous {
                warnings.push(Warning::Note {
                    line: 0,
                    message: format!(
                        "money is written with `{shown}`, which several currencies use: read as {code}; give the currency if it is another"
                    ),
                });
            }
        }
        let columns: Vec<Field> = ALL_FIELDS
            .iter()
            .copied()
            .filter(|f| col[fidx(*f)].is_some())
            .collect();

        // Totals cross-check.
        let mut checks = Vec::new();
        let mut mismatches = Vec::new();
        for t in &totals {
            let mut ok = true;
            let mut mine = Vec::new();
            for &(metric, file_v, tol, money) in &t.values {
                let rows_v: i128 = match metric {
                    // As the file wrote them, before Google's clicks raised any.
                    "impressions" => i128::from(data.impressions) - i128::from(impressions_added),
                    "clicks" => data.clicks.into(),
                    "cost" => data.cost.into(),
                    "revenue" => data.revenue.into(),
                    _ => i128::from(conv_col),
                };
                if (rows_v - file_v).abs() > tol {
                    ok = false;
                    let show = |v: i128| {
                        if money {
                            Money::from_micros(v.clamp(i64::MIN.into(), i64::MAX.into()) as i64)
                                .to_string()
                        } else {
                            v.to_string()
                        }
                    };
                    mine.push(Warning::TotalsMismatch {
                        line: t.line,
                        label: t.label.clone(),
                        metric: metric.to_string(),
                        rows_sum: show(rows_v),
                        file_total: show(file_v),
                    });
                }
            }
            checks.push(TotalsCheck {
                line: t.line,
                label: t.label.clone(),
                matched: ok,
            });
            mismatches.push(mine);
        }
        if !checks.iter().any(|c| c.matched)
            && let Some(first) = mismatches.into_iter().next()
        {
            if opts.mode != Mode::Lenient {
                let line = match first.first() {
                    Some(Warning::TotalsMismatch { line, .. }) => *line,
                    _ => 0,
                };
                let what: Vec<String> = first.iter().map(|w| w.to_string()).collect();
                return Err(parse_err(
                    file,
                    line,
                    "",
                    format!(
                        "the data rows do not add up to the file's own totals ({}): rows are missing, duplicated or misread (lenient mode, `--lenient`, reads the file anyway with the difference noted)",
                        what.join("; ")
                    ),
                ));
            }
            warnings.extend(first);
        }

        // Report rows, sorted as Report sorts them.
        let mut keys: Vec<(Key, Acc)> = acc.into_iter().collect();
        // Sort by ranks of the ids (computed once) instead of comparing strings per pair;
        // the order is the one `Report` keeps: (date, hour, plan id, keyword id).
        let plan_rank = rank_of(plans.len(), |i| plans[i].id.as_str());
        let kw_rank = rank_of(keywords.len(), |i| keywords[i].id.as_str());
        keys.sort_unstable_by_key(|(k, _)| {
            (
                k.0,
                if k.1 == NO_HOUR {
                    0
                } else {
                    u16::from(k.1) + 1
                },
                plan_rank[k.2 as usize],
                if k.3 == NO_KW {
                    0
                } else {
                    u64::from(kw_rank[k.3 as usize]) + 1
                },
            )
        });
        let mut rows = Vec::with_capacity(keys.len());
        let mut extras = Vec::with_capacity(keys.len());
        for (k, a) in &keys {
            let (stats, extra) = a.finish().map_err(fail)?;
            rows.push(ReportRow {
                date: Date::from_days(k.0),
                hour: (k.1 != NO_HOUR).then_some(k.1),
                days: a.span.max(1),
                plan: plans[k.2 as usize].id.clone(),
                keyword: (k.3 != NO_KW).then(|| keywords[k.3 as usize].id.clone()),
                stats,
            });
            extras.push(extra);
        }
        // Ad-level rows: a period row is spread over its days as report rows are.
        let mut creative_rows = Vec::with_capacity(cacc.len());
        for ((k, c), a) in &cacc {
            let (stats, _) = a.finish().map_err(fail)?;
            let info = &creatives[*c as usize];
            let as_row = ReportRow {
                date: Date::from_days(k.0),
                hour: None,
                days: a.span.max(1),
                plan: plans[k.2 as usize].id.clone(),
                keyword: None,
                stats,
            };
            for d in as_row.split_days() {
                creative_rows.push(CreativeRow {
                    date: d.date,
                    plan: d.plan,
                    creative: info.id.clone(),
                    stats: d.stats,
                });
            }
        }
        let report = Report::new(rows)
            .and_then(|r| r.with_creatives(creative_rows))
            .map_err(fail)?;
        let mut creatives = creatives;
        creatives.sort_by(|a, b| a.id.cmp(&b.id));

        let mut search_terms = Vec::with_capacity(terms.len());
        for ((k, term), a) in terms {
            let (stats, extra) = a.finish().map_err(fail)?;
            search_terms.push(SearchTermRow {
                date: Date::from_days(k.0),
                hour: (k.1 != NO_HOUR).then_some(k.1),
                plan: plans[k.2 as usize].id.clone(),
                keyword: (k.3 != NO_KW).then(|| keywords[k.3 as usize].id.clone()),
                search_term: term,
                stats,
                extra,
            });
        }
        search_terms.sort_by(|a, b| {
            (a.date, a.hour, &a.plan, &a.keyword, &a.search_term).cmp(&(
                b.date,
                b.hour,
                &b.plan,
                &b.keyword,
                &b.search_term,
            ))
        });
        let mut plans = plans;
        plans.sort_by(|a, b| a.id.cmp(&b.id));
        let mut keywords = keywords;
        keywords.sort_by(|a, b| (&a.id, &a.plan).cmp(&(&b.id, &b.plan)));
        Ok(Ingested {
            file: file.to_string(),
            layout,
            encoding,
            report,
            extras,
            plans,
            keywords,
            search_terms,
            creatives,
            currency,
            columns,
            period,
            attribution_window: window,
            totals: checks,
            warnings,
            skipped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notation_and_match_words() {
        assert_eq!(
            split_notation(" [Red Dress] "),
            ("Red Dress".into(), Some(MatchType::Exact))
        );
        assert_eq!(
            split_notation("\"red dress\""),
            ("red dress".into(), Some(MatchType::Phrase))
        );
        assert_eq!(
            split_notation("+red +dress"),
            ("red dress".into(), Some(MatchType::Broad))
        );
        assert_eq!(split_notation("red dress"), ("red dress".into(), None));
        assert_eq!(split_notation("["), ("[".into(), None));
        assert_eq!(
            match_type_of("Exact match (close variant)"),
            Some(MatchType::Exact)
        );
        assert_eq!(match_type_of("精准匹配"), Some(MatchType::Exact));
        assert_eq!(match_type_of("广泛匹配"), Some(MatchType::Broad));
        assert_eq!(match_type_of("close-match"), None);
        assert!(is_total_label("Total: Account", &[]));
        assert!(is_total_label("合计", &[]));
        assert!(!is_total_label("Totally Dresses", &[]));
    }
}

//! The crate's own canonical CSV: one row per (date, hour, plan, keyword).
//!
//! | column | content |
//! |---|---|
//! | `date` | `YYYY-MM-DD` |
//! | `hour` | `0`..`23`, empty for a whole day |
//! | `plan_id` | the [`crate::PlanId`], read back verbatim |
//! | `plan_name` | display name (may be empty) |
//! | `keyword_id` | the [`crate::KeywordId`], read back verbatim; empty for a plan-level row |
//! | `keyword` | keyword text (may be empty) |
//! | `match_type` | `exact`, `phrase`, `broad` or empty |
//! | `impressions` | integer |
//! | `clicks` | integer, `<= impressions` |
//! | `conversions` | integer, click-attributed, `<= clicks` |
//! | `view_through_conversions` | integer, conversions not attributed to clicks |
//! | `cost` | decimal currency units, up to 6 decimals (exact micros) |
//! | `revenue` | decimal currency units, up to 6 decimals |
//!
//! | `end_date` | optional, `YYYY-MM-DD`: the last day of a row that covers a period (written only when some row does; absent = one day) |
//!
//! UTF-8, comma-separated, RFC 4180 quoting, a header row, no totals row.

use std::collections::HashMap;
use std::io::Write;

use crate::error::{Error, Result};
use crate::ingest::{Ingested, match_name};
use crate::model::Report;

/// The canonical CSV's header, in order.
pub const CANONICAL_COLUMNS: [&str; 13] = [
    "date",
    "hour",
    "plan_id",
    "plan_name",
    "keyword_id",
    "keyword",
    "match_type",
    "impressions",
    "clicks",
    "conversions",
    "view_through_conversions",
    "cost",
    "revenue",
];

/// Writes `report` as the canonical CSV (no names, no view-through; use
/// [`Ingested::write_canonical`] to keep those).
///
/// # Errors
/// [`Error::Io`] if writing fails.
pub fn write_canonical<W: Write>(out: W, report: &Report) -> Result<()> {
    write(out, report, None)
}

pub(super) fn write<W: Write>(out: W, report: &Report, ing: Option<&Ingested>) -> Result<()> {
    let io = |e: csv::Error| Error::Io {
        path: "canonical CSV".into(),
        reason: e.to_string(),
    };
    let mut w = csv::Writer::from_writer(out);
    // The period column only when needed, so daily reports keep the 13-column file.
    let periods = report.has_periods();
    if periods {
        w.write_record(CANONICAL_COLUMNS.iter().chain(&["end_date"]))
            .map_err(io)?;
    } else {
        w.write_record(CANONICAL_COLUMNS).map_err(io)?;
    }
    let plan_names: HashMap<&str, &str> = ing
        .map(|g| {
            g.plans
                .iter()
                .map(|p| (p.id.as_str(), p.name.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let kws: HashMap<(&str, &str), (&str, &'static str)> = ing
        .map(|g| {
            g.keywords
                .iter()
                .map(|k| {
                    (
                        (k.plan.as_str(), k.id.as_str()),
                        (k.text.as_str(), match_name(k.match_type)),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let same_rows = ing.is_some_and(|g| std::ptr::eq(&g.report, report));
    for (i, r) in report.rows().iter().enumerate() {
        let s = &r.stats;
        let vt = if same_rows {
            ing.and_then(|g| g.extras.get(i))
                .map_or(0, |e| e.view_through)
        } else {
            0
        };
        let kid = r.keyword.as_ref().map_or("", |k| k.as_str());
        let (text, mt) = kws
            .get(&(r.plan.as_str(), kid))
            .copied()
            .unwrap_or(("", ""));
        let end = if periods {
            r.last_date().to_string()
        } else {
            String::new()
        };
        let date = r.date.to_string();
        let fields = [
            date.as_str(),
            &r.hour.map(|h| h.to_string()).unwrap_or_default(),
            r.plan.as_str(),
            plan_names.get(r.plan.as_str()).copied().unwrap_or(""),
            kid,
            text,
            mt,
            &s.impressions().to_string(),
            &s.clicks().to_string(),
            &s.conversions().to_string(),
            &vt.to_string(),
            &s.cost().to_string(),
            &s.revenue().to_string(),
            &end,
        ];
        let n = if periods { 14 } else { 13 };
        w.write_record(&fields[..n]).map_err(io)?;
    }
    w.flush().map_err(|e| Error::Io {
        path: "canonical CSV".into(),
        reason: e.to_string(),
    })
}

//! A decision as the changes an operator uploads: one list of changes (entity, field, from,
//! to, reason) and writers for the files the platforms import (feature `apply`).
//!
//! Operators apply changes in bulk, not through an API, so a decision nobody can upload is a
//! decision nobody makes. [`changes`] compares the account before a decision with the
//! decision and keeps what moved: daily budgets, bids, keywords to pause, and creatives that
//! lost their test (to pause). Three writers turn the list into files:
//! - [`write_changes_csv`]: `date, entity, plan_id, plan_name, keyword_id, keyword, match_type,
//!   field, from, to, currency, code, reason, creative_id, creative`, one change a row, for
//!   people and scripts (the creative columns last, so scripts reading the first thirteen by
//!   position keep working);
//! - [`write_google_ads_editor`]: Google Ads Editor's CSV import (Account → Import → From
//!   file). Its documented headers (Google Ads Editor Help, "CSV file columns",
//!   <https://support.google.com/google-ads/editor/answer/57747>): `Campaign`, `Ad group`,
//!   `Keyword`, `Criterion Type` (the match type), `Max CPC`, `Budget`, `Status`; headers in
//!   English, an empty cell leaves the field unchanged. Campaign rows carry the budget, keyword
//!   rows the bid or status, ad rows (a paused creative) `Ad ID` and `Headline 1` (the
//!   creative's id and name) with the status;
//! - [`write_amazon_bulk`]: an Amazon Sponsored Products bulk-operations sheet (Amazon Ads
//!   "Bulk operations", Sponsored Products columns: `Product`, `Entity`, `Operation`,
//!   `Campaign ID`, `Ad Group ID`, `Keyword ID`, `Campaign Name`, `Ad Group Name`,
//!   `Keyword Text`, `Match Type`, `State`, `Daily Budget`, `Bid`), one row per entity with
//!   `Operation = Update`; a paused creative is a `Product Ad` row with its `ASIN` and `SKU`
//!   (the creative's id and name, as the advertised-product report gives them).
//!
//! A creative test's rotation weights are not written: the platforms take no per-ad shares
//! (Google's ad rotation is "optimise" or "rotate evenly"), so the weights stay in the
//! decision (`Decision::creatives`) and only the test's verdict, pausing the losers, is an
//! upload.
//!
//! What the platform needs and a report may not carry: Google Ads Editor finds a keyword by
//! campaign, ad group, text and match type, and Amazon updates by ids. The crate's reports fold
//! ad groups into their campaign and derive ids from names when a file has no id column, so a
//! [`Change`] carries `ad_group` (set it where known) and the writers fill platform ids only
//! where the ids came from the platform (see [`Change::platform_keyword_id`]).
//!
//! Money is written in the account's currency with its minor unit ([`minor_digits`]: two
//! decimals for CNY, USD, EUR, INR; none for JPY, KRW; three for KWD, BHD), rounded toward
//! zero (so an uploaded budget never exceeds the decided one; a positive amount is at least
//! one minor unit), without a currency sign.
//!
//! ```
//! use adbandit::apply::{changes, write_changes_csv};
//! use adbandit::engine::{Engine, EngineConfig};
//! use adbandit::{Account, Date, Keyword, MatchType, Money, Plan};
//! let y = |x| Money::from_units(x).unwrap();
//! let account = Account::new("Shop", "CNY", vec![
//!     Plan::new("p1", "Dresses", y(300), y(0), y(5))
//!         .with_keyword(Keyword::new("k1", "red dress", MatchType::Exact, y(1))),
//! ])?;
//! let mut engine = Engine::new(account.clone(), EngineConfig::default(), 7)?;
//! let decision = engine.decide(Date::from_ymd(2026, 11, 2)?)?;
//! let list = changes(&account, &decision)?;
//! let mut csv = Vec::new();
//! write_changes_csv(&mut csv, &list, account.currency(), decision.date)?;
//! assert!(String::from_utf8(csv).unwrap().starts_with("date,entity,plan_id"));
//! # Ok::<(), adbandit::Error>(())
//! ```

use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::engine::{Decision, ReasonCode};
use crate::error::{Error, Result};
use crate::model::{Account, CreativeId, Date, KeywordId, MatchType, PlanId, Status};
use crate::money::{MICROS_PER_UNIT, Money, minor_digits};

/// What a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// A plan (campaign).
    Campaign,
    /// A keyword.
    Keyword,
    /// A creative (an ad: main image, title, copy).
    Creative,
}

/// The field a change sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// A plan's daily budget.
    DailyBudget,
    /// A keyword's bid (max CPC).
    Bid,
    /// A keyword's or creative's status.
    Status,
}

/// A field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    /// Money (a budget or a bid).
    Money(Money),
    /// A status.
    Status(Status),
}

/// One change to upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Campaign or keyword.
    pub entity: Entity,
    /// The plan's id.
    pub plan: PlanId,
    /// The plan's name.
    pub plan_name: String,
    /// The keyword's id (keyword changes).
    pub keyword: Option<KeywordId>,
    /// The keyword's text (keyword changes).
    pub keyword_text: Option<String>,
    /// The keyword's match type (keyword changes).
    pub match_type: Option<MatchType>,
    /// The ad group, where the caller knows it (reports fold ad groups into plans).
    pub ad_group: Option<String>,
    /// The creative's id (creative changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creative: Option<CreativeId>,
    /// The creative's name (creative changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creative_name: Option<String>,
    /// The field set.
    pub field: Field,
    /// Its value before.
    pub from: Value,
    /// Its new value.
    pub to: Value,
    /// The engine's reason code.
    pub code: ReasonCode,
    /// The engine's sentence for the operator.
    pub reason: String,
}

impl Change {
    /// The plan id, if it is the platform's own (not derived from the plan's name).
    pub fn platform_plan_id(&self) -> Option<&str> {
        let id = self.plan.as_str();
        (id != self
            .plan_name
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "))
        .then_some(id)
    }

    /// The keyword id, if it is the platform's own (ids derived by `ingest` contain `|`).
    pub fn platform_keyword_id(&self) -> Option<&str> {
        self.keyword
            .as_ref()
            .map(KeywordId::as_str)
            .filter(|id| !id.contains('|'))
    }
}

/// The changes a decision makes to `before` (the account the engine decided from): budgets
/// and bids that moved, keywords it pauses and creatives it pauses, in account order
/// (budgets, then bids, then keyword pauses, then creative pauses).
///
/// # Errors
/// [`Error::UnknownId`] if the decision names a plan, keyword or creative `before` does not
/// have; [`Error::Inconsistent`] if a paused creative is not in the plan the decision says.
pub fn changes(before: &Account, decision: &Decision) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    for b in &decision.budgets {
        if b.from == b.to {
            continue;
        }
        let p = &before.plans()[before.require_plan(&b.plan)?];
        out.push(Change {
            entity: Entity::Campaign,
            plan: p.id.clone(),
            plan_name: p.name.clone(),
            keyword: None,
            keyword_text: None,
            match_type: None,
            ad_group: None,
            creative: None,
            creative_name: None,
            field: Field::DailyBudget,
            from: Value::Money(b.from),
            to: Value::Money(b.to),
            code: b.reason.code,
            reason: b.reason.message(),
        });
    }
    let keyword = |id: &KeywordId, field, from, to, code, reason: String| -> Result<Change> {
        let (pi, j) = before.require_keyword(id)?;
        let p = &before.plans()[pi];
        let k = &p.keywords[j];
        Ok(Change {
            entity: Entity::Keyword,
            plan: p.id.clone(),
            plan_name: p.name.clone(),
            keyword: Some(k.id.clone()),
            keyword_text: Some(k.text.clone()),
            match_type: Some(k.match_type),
            ad_group: None,
            creative: None,
            creative_name: None,
            field,
            from,
            to,
            code,
            reason,
        })
    };
    for b in &decision.bids {
        if b.from != b.to {
            out.push(keyword(
                &b.keyword,
                Field::Bid,
                Value::Money(b.from),
                Value::Money(b.to),
                b.reason.code,
                b.reason.message(),
            )?);
        }
    }
    for p in &decision.pauses {
        out.push(keyword(
            &p.keyword,
            Field::Status,
            Value::Status(Status::Active),
            Value::Status(Status::Paused),
            p.reason.code,
            p.reason.message(),
        )?);
    }
    for c in &decision.creative_pauses {
        let p = &before.plans()[before.require_plan(&c.plan)?];
        let Some(cr) = p.creatives.iter().find(|x| x.id == c.creative) else {
            return Err(
                if before
                    .plans()
                    .iter()
                    .any(|q| q.creatives.iter().any(|x| x.id == c.creative))
                {
                    Error::Inconsistent {
                        field: "decision.creative_pauses".into(),
                        reason: format!("creative {} is not in plan {}", c.creative, c.plan),
                    }
                } else {
                    Error::UnknownId {
                        kind: "creative",
                        id: c.creative.to_string(),
                    }
                },
            );
        };
        out.push(Change {
            entity: Entity::Creative,
            plan: p.id.clone(),
            plan_name: p.name.clone(),
            keyword: None,
            keyword_text: None,
            match_type: None,
            ad_group: None,
            creative: Some(cr.id.clone()),
            creative_name: Some(cr.name.clone()),
            field: Field::Status,
            from: Value::Status(Status::Active),
            to: Value::Status(Status::Paused),
            code: c.reason.code,
            reason: c.reason.message(),
        });
    }
    Ok(out)
}

/// `money` in units with `decimals` decimals, rounded toward zero (a platform takes no more
/// digits, and rounding down keeps every budget a hard cap), no sign of the currency:
/// `format_money(Money::from_micros(1_239_999), 2) == "1.23"`.
pub fn format_money(money: Money, decimals: u32) -> String {
    let decimals = decimals.min(6);
    let step = i128::from(10i64.pow(6 - decimals));
    let m = i128::from(money.micros());
    // Integer division truncates toward zero.
    let rounded = m / step;
    let scale = i128::from(MICROS_PER_UNIT) / step;
    let (int, frac) = (rounded.abs() / scale, rounded.abs() % scale);
    let sign = if m < 0 && rounded != 0 { "-" } else { "" };
    if decimals == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac:0width$}", width = decimals as usize)
    }
}

/// An optional id as a cell: empty when absent.
fn id_cell<T: ToString>(id: Option<&T>) -> String {
    id.map(ToString::to_string).unwrap_or_default()
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Active => "enabled",
        Status::Paused => "paused",
    }
}

fn value(v: Value, decimals: u32) -> String {
    match v {
        // A positive budget or bid below one minor unit is written as one unit (platforms
        // refuse zero), as the analysis does.
        Value::Money(m) => {
            let unit = Money::from_micros(10i64.pow(6 - decimals.min(6)));
            let m = if m > Money::ZERO { m.max(unit) } else { m };
            format_money(m, decimals)
        }
        Value::Status(s) => status_word(s).to_owned(),
    }
}

fn snake<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn csv_error(e: csv::Error) -> Error {
    Error::Io {
        path: "(changes)".into(),
        reason: e.to_string(),
    }
}

fn finish<W: Write>(w: csv::Writer<W>) -> Result<()> {
    w.into_inner()
        .map_err(|e| Error::Io {
            path: "(changes)".into(),
            reason: e.to_string(),
        })?
        .flush()
        .map_err(|e| Error::Io {
            path: "(changes)".into(),
            reason: e.to_string(),
        })
}

/// Header of [`write_changes_csv`].
pub const CHANGES_COLUMNS: [&str; 15] = [
    "date",
    "entity",
    "plan_id",
    "plan_name",
    "keyword_id",
    "keyword",
    "match_type",
    "field",
    "from",
    "to",
    "currency",
    "code",
    "reason",
    "creative_id",
    "creative",
];

/// The changes as a CSV for people and scripts (see the module docs).
///
/// # Errors
/// [`Error::Io`] if writing fails.
pub fn write_changes_csv<W: Write>(
    out: W,
    changes: &[Change],
    currency: &str,
    date: Date,
) -> Result<()> {
    let d = minor_digits(currency);
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CHANGES_COLUMNS).map_err(csv_error)?;
    for c in changes {
        w.write_record([
            date.to_string(),
            snake(&c.entity),
            c.plan.to_string(),
            c.plan_name.clone(),
            id_cell(c.keyword.as_ref()),
            c.keyword_text.clone().unwrap_or_default(),
            c.match_type.map(|m| snake(&m)).unwrap_or_default(),
            snake(&c.field),
            value(c.from, d),
            value(c.to, d),
            currency.to_owned(),
            snake(&c.code),
            c.reason.clone(),
            id_cell(c.creative.as_ref()),
            c.creative_name.clone().unwrap_or_default(),
        ])
        .map_err(csv_error)?;
    }
    finish(w)
}

/// Header of [`write_google_ads_editor`].
pub const GOOGLE_ADS_EDITOR_COLUMNS: [&str; 9] = [
    "Campaign",
    "Ad group",
    "Keyword",
    "Criterion Type",
    "Max CPC",
    "Budget",
    "Status",
    "Ad ID",
    "Headline 1",
];

/// The changes as a Google Ads Editor CSV import (see the module docs for the columns).
/// A keyword row's `Ad group` is [`Change::ad_group`], empty when unknown: Editor then asks
/// for it, so fill it before importing.
///
/// # Errors
/// [`Error::Io`] if writing fails.
pub fn write_google_ads_editor<W: Write>(out: W, changes: &[Change], currency: &str) -> Result<()> {
    let d = minor_digits(currency);
    let mut w = csv::Writer::from_writer(out);
    w.write_record(GOOGLE_ADS_EDITOR_COLUMNS)
        .map_err(csv_error)?;
    for c in changes {
        let mut row: [String; 9] = Default::default();
        row[0] = c.plan_name.clone();
        match (c.entity, c.to) {
            (Entity::Campaign, Value::Money(m)) => row[5] = format_money(m, d),
            (Entity::Campaign, Value::Status(s)) => row[6] = google_status(s).into(),
            (Entity::Creative, to) => {
                row[1] = c.ad_group.clone().unwrap_or_default();
                row[7] = id_cell(c.creative.as_ref());
                row[8] = c.creative_name.clone().unwrap_or_default();
                if let Value::Status(s) = to {
                    row[6] = google_status(s).into();
                }
            }
            (Entity::Keyword, to) => {
                row[1] = c.ad_group.clone().unwrap_or_default();
                row[2] = c.keyword_text.clone().unwrap_or_default();
                row[3] = match c.match_type {
                    Some(MatchType::Exact) => "Exact",
                    Some(MatchType::Phrase) => "Phrase",
                    Some(MatchType::Broad) | None => "Broad",
                }
                .into();
                match to {
                    Value::Money(m) => row[4] = format_money(m, d),
                    Value::Status(s) => row[6] = google_status(s).into(),
                }
            }
        }
        w.write_record(&row).map_err(csv_error)?;
    }
    finish(w)
}

fn google_status(s: Status) -> &'static str {
    match s {
        Status::Active => "Enabled",
        Status::Paused => "Paused",
    }
}

/// Header of [`write_amazon_bulk`].
pub const AMAZON_BULK_COLUMNS: [&str; 15] = [
    "Product",
    "Entity",
    "Operation",
    "Campaign ID",
    "Ad Group ID",
    "Keyword ID",
    "Campaign Name",
    "Ad Group Name",
    "Keyword Text",
    "Match Type",
    "State",
    "Daily Budget",
    "Bid",
    "ASIN",
    "SKU",
];

/// The changes as an Amazon Sponsored Products bulk-operations sheet, CSV (see the module
/// docs for the columns). Ids are filled only where they are the platform's own; Amazon
/// updates by id, so a file from a report without id columns needs them added (or the rows
/// pasted into a bulk file downloaded from the console).
///
/// # Errors
/// [`Error::Io`] if writing fails.
pub fn write_amazon_bulk<W: Write>(out: W, changes: &[Change], currency: &str) -> Result<()> {
    let d = minor_digits(currency);
    let mut w = csv::Writer::from_writer(out);
    w.write_record(AMAZON_BULK_COLUMNS).map_err(csv_error)?;
    for c in changes {
        let mut row: [String; 15] = Default::default();
        row[0] = "Sponsored Products".into();
        row[2] = "Update".into();
        row[3] = c.platform_plan_id().unwrap_or_default().to_owned();
        row[6] = c.plan_name.clone();
        match c.entity {
            Entity::Campaign => row[1] = "Campaign".into(),
            Entity::Keyword => {
                row[1] = "Keyword".into();
                row[5] = c.platform_keyword_id().unwrap_or_default().to_owned();
                row[7] = c.ad_group.clone().unwrap_or_default();
                row[8] = c.keyword_text.clone().unwrap_or_default();
                row[9] = c.match_type.map(|m| snake(&m)).unwrap_or_default();
            }
            Entity::Creative => {
                row[1] = "Product Ad".into();
                row[7] = c.ad_group.clone().unwrap_or_default();
                row[13] = id_cell(c.creative.as_ref());
                row[14] = c.creative_name.clone().unwrap_or_default();
            }
        }
        match (c.field, c.to) {
            (Field::DailyBudget, Value::Money(m)) => row[11] = format_money(m, d),
            (_, Value::Money(m)) => row[12] = format_money(m, d),
            (_, Value::Status(s)) => row[10] = status_word(s).into(),
        }
        w.write_record(&row).map_err(csv_error)?;
    }
    finish(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_in_the_minor_unit() {
        let m = Money::from_micros;
        assert_eq!(format_money(m(1_234_567), 2), "1.23");
        assert_eq!(format_money(m(1_239_999), 2), "1.23");
        assert_eq!(format_money(m(1_999_999), 0), "1");
        assert_eq!(format_money(m(-1_005_000), 2), "-1.00");
        assert_eq!(format_money(m(-4_000), 2), "0.00");
        assert_eq!(format_money(m(300_000_000), 2), "300.00");
        assert_eq!(format_money(m(1_234_567), 3), "1.234");
        assert_eq!(format_money(m(7), 6), "0.000007");
        assert_eq!(format_money(Money::MAX, 2), "9223372036854.77");
        assert_eq!(value(Value::Money(m(4_000)), 2), "0.01");
        assert_eq!(value(Value::Money(Money::ZERO), 2), "0.00");
        assert_eq!(
            (
                minor_digits("JPY"),
                minor_digits("cny"),
                minor_digits("KWD")
            ),
            (0, 2, 3)
        );
    }
}

//! Performance counters and the rates derived from them, and reports that add up.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::account::{KeywordId, PlanId};
use crate::model::date::Date;
use crate::money::Money;

/// Counters for one keyword, plan or account over a period.
///
/// Invariants (checked by [`Stats::new`] and on deserialisation): `clicks <= impressions`,
/// `conversions <= clicks`, `cost >= 0`, `revenue >= 0`. Conversions are attributed to clicks;
/// view-through conversions are not counted here (the ingest layer reports them apart).
///
/// Rates whose denominator is zero are `None`, never NaN.
///
/// ```
/// use adbandit::{Money, Stats};
/// let s = Stats::new(1000, 50, 5, Money::from_units(25)?, Money::from_units(100)?)?;
/// assert_eq!(s.ctr(), Some(0.05));
/// assert_eq!(s.cvr(), Some(0.1));
/// assert_eq!(s.roi(), Some(4.0));
/// assert_eq!(Stats::default().ctr(), None);
/// # Ok::<(), adbandit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "RawStats")]
pub struct Stats {
    impressions: u64,
    clicks: u64,
    conversions: u64,
    cost: Money,
    revenue: Money,
}

#[derive(Deserialize)]
struct RawStats {
    impressions: u64,
    clicks: u64,
    conversions: u64,
    cost: Money,
    revenue: Money,
}

impl TryFrom<RawStats> for Stats {
    type Error = Error;
    fn try_from(r: RawStats) -> Result<Self> {
        Stats::new(r.impressions, r.clicks, r.conversions, r.cost, r.revenue)
    }
}

impl Stats {
    /// Validated counters.
    ///
    /// # Errors
    /// [`Error::Inconsistent`] if clicks exceed impressions or conversions exceed clicks;
    /// [`Error::InvalidValue`] if cost or revenue is negative.
    pub fn new(
        impressions: u64,
        clicks: u64,
        conversions: u64,
        cost: Money,
        revenue: Money,
    ) -> Result<Self> {
        if clicks > impressions {
            return Err(Error::Inconsistent {
                field: "stats.clicks".into(),
                reason: format!("clicks {clicks} > impressions {impressions}"),
            });
        }
        if conversions > clicks {
            return Err(Error::Inconsistent {
                field: "stats.conversions".into(),
                reason: format!("conversions {conversions} > clicks {clicks}"),
            });
        }
        if cost.is_negative() {
            return Err(Error::invalid("stats.cost", cost, "must be >= 0"));
        }
        if revenue.is_negative() {
            return Err(Error::invalid("stats.revenue", revenue, "must be >= 0"));
        }
        Ok(Stats {
            impressions,
            clicks,
            conversions,
            cost,
            revenue,
        })
    }

    /// Times an ad was shown.
    pub const fn impressions(&self) -> u64 {
        self.impressions
    }
    /// Times it was clicked.
    pub const fn clicks(&self) -> u64 {
        self.clicks
    }
    /// Orders attributed to clicks.
    pub const fn conversions(&self) -> u64 {
        self.conversions
    }
    /// Money paid for clicks.
    pub const fn cost(&self) -> Money {
        self.cost
    }
    /// Order value attributed to the ads (GMV).
    pub const fn revenue(&self) -> Money {
        self.revenue
    }

    /// Sum of two periods' counters.
    ///
    /// # Errors
    /// [`Error::Overflow`] if a counter or amount overflows. The invariants hold for any sum
    /// of valid stats, so no other error is possible.
    pub fn checked_add(&self, other: &Stats) -> Result<Stats> {
        let add = |a: u64, b: u64, f: &str| {
            a.checked_add(b).ok_or_else(|| Error::Overflow {
                field: format!("stats.{f}"),
            })
        };
        Ok(Stats {
            impressions: add(self.impressions, other.impressions, "impressions")?,
            clicks: add(self.clicks, other.clicks, "clicks")?,
            conversions: add(self.conversions, other.conversions, "conversions")?,
            cost: self.cost.checked_add(other.cost)?,
            revenue: self.revenue.checked_add(other.revenue)?,
        })
    }

    /// Click-through rate, clicks / impressions.
    pub fn ctr(&self) -> Option<f64> {
        ratio(self.clicks as f64, self.impressions as f64)
    }
    /// Conversion rate, conversions / clicks.
    pub fn cvr(&self) -> Option<f64> {
        ratio(self.conversions as f64, self.clicks as f64)
    }
    /// Cost per click, in currency units.
    pub fn cpc(&self) -> Option<f64> {
        ratio(self.cost.units(), self.clicks as f64)
    }
    /// Average order value, revenue / conversions, in currency units.
    pub fn aov(&self) -> Option<f64> {
        ratio(self.revenue.units(), self.conversions as f64)
    }
    /// Value per click, revenue / clicks (= CVR x AOV), in currency units.
    pub fn value_per_click(&self) -> Option<f64> {
        ratio(self.revenue.units(), self.clicks as f64)
    }
    /// ROI as this trade uses the word: revenue / cost (return on ad spend, ROAS).
    pub fn roi(&self) -> Option<f64> {
        ratio(self.revenue.units(), self.cost.units())
    }
    /// Cost per acquisition, cost / conversions, in currency units.
    pub fn cpa(&self) -> Option<f64> {
        ratio(self.cost.units(), self.conversions as f64)
    }
    /// Budget utilisation, spend / budget.
    pub fn utilisation(&self, budget: Money) -> Option<f64> {
        ratio(self.cost.units(), budget.units())
    }
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    if den > 0.0 { Some(num / den) } else { None }
}

/// One line of a report: a keyword's (or a whole plan's) counters for a day, or an hour of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    /// The day.
    pub date: Date,
    /// The hour of the day (0-23), or `None` for a whole day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hour: Option<u8>,
    /// The plan.
    pub plan: PlanId,
    /// The keyword, or `None` for a plan-level row (reports that have no keyword breakdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword: Option<KeywordId>,
    /// The counters.
    pub stats: Stats,
}

/// Key of a report row: rows with the same key are the same cell and are summed.
pub type RowKey = (Date, Option<u8>, PlanId, Option<KeywordId>);

/// A period's statistics, one row per (date, hour, plan, keyword).
///
/// Built with [`Report::new`] (duplicate keys are an error) or [`Report::from_rows_summed`]
/// (duplicate keys are summed, as for rows split by device). Rows are kept sorted by key, so
/// two reports with the same content compare equal and serialise identically.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "RawReport")]
pub struct Report {
    rows: Vec<ReportRow>,
}

#[derive(Deserialize)]
struct RawReport {
    rows: Vec<ReportRow>,
}

impl TryFrom<RawReport> for Report {
    type Error = Error;
    fn try_from(r: RawReport) -> Result<Self> {
        Report::new(r.rows)
    }
}

impl Report {
    /// A report from rows with unique keys.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for an hour above 23; [`Error::DuplicateId`] when two rows share
    /// a (date, hour, plan, keyword) key.
    pub fn new(rows: Vec<ReportRow>) -> Result<Self> {
        let mut rows = rows;
        for (i, r) in rows.iter().enumerate() {
            check_row(i, r)?;
        }
        // Compare borrowed keys: cloning ids per comparison dominated large reports.
        rows.sort_by(|a, b| key_ref(a).cmp(&key_ref(b)));
        for w in rows.windows(2) {
            if key_ref(&w[0]) == key_ref(&w[1]) {
                return Err(Error::DuplicateId {
                    kind: "report row",
                    id: describe_key(&w[1]),
                });
            }
        }
        Ok(Report { rows })
    }

    /// A report from rows, summing rows that share a key (segments such as device).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for an hour above 23; [`Error::Overflow`] if a sum overflows.
    pub fn from_rows_summed(rows: impl IntoIterator<Item = ReportRow>) -> Result<Self> {
        let mut map: BTreeMap<RowKey, Stats> = BTreeMap::new();
        for (i, r) in rows.into_iter().enumerate() {
            check_row(i, &r)?;
            let k = key(&r);
            match map.get_mut(&k) {
                Some(s) => *s = s.checked_add(&r.stats)?,
                None => {
                    map.insert(k, r.stats);
                }
            }
        }
        Ok(Report {
            rows: map
                .into_iter()
                .map(|((date, hour, plan, keyword), stats)| ReportRow {
                    date,
                    hour,
                    plan,
                    keyword,
                    stats,
                })
                .collect(),
        })
    }

    /// The rows, sorted by (date, hour, plan, keyword).
    pub fn rows(&self) -> &[ReportRow] {
        &self.rows
    }

    /// Whether the report has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// This report and `other` added cell by cell.
    ///
    /// # Errors
    /// [`Error::Overflow`] if a sum overflows.
    pub fn checked_add(&self, other: &Report) -> Result<Report> {
        Report::from_rows_summed(self.rows.iter().chain(other.rows.iter()).cloned())
    }

    /// Sum of all rows.
    ///
    /// # Errors
    /// [`Error::Overflow`] if a sum overflows.
    pub fn total(&self) -> Result<Stats> {
        self.rows
            .iter()
            .try_fold(Stats::default(), |acc, r| acc.checked_add(&r.stats))
    }

    /// Totals per plan (keyword rows and plan-level rows together).
    ///
    /// # Errors
    /// [`Error::Overflow`] if a sum overflows.
    pub fn by_plan(&self) -> Result<BTreeMap<PlanId, Stats>> {
        let mut out: BTreeMap<PlanId, Stats> = BTreeMap::new();
        for r in &self.rows {
            let e = out.entry(r.plan.clone()).or_default();
            *e = e.checked_add(&r.stats)?;
        }
        Ok(out)
    }

    /// Totals per keyword (plan-level rows are left out).
    ///
    /// # Errors
    /// [`Error::Overflow`] if a sum overflows.
    pub fn by_keyword(&self) -> Result<BTreeMap<KeywordId, Stats>> {
        let mut out: BTreeMap<KeywordId, Stats> = BTreeMap::new();
        for r in &self.rows {
            if let Some(k) = &r.keyword {
                let e = out.entry(k.clone()).or_default();
                *e = e.checked_add(&r.stats)?;
            }
        }
        Ok(out)
    }

    /// The first and last date covered, or `None` for an empty report.
    pub fn date_range(&self) -> Option<(Date, Date)> {
        let min = self.rows.iter().map(|r| r.date).min()?;
        let max = self.rows.iter().map(|r| r.date).max()?;
        Some((min, max))
    }
}

fn key(r: &ReportRow) -> RowKey {
    (r.date, r.hour, r.plan.clone(), r.keyword.clone())
}

fn key_ref(r: &ReportRow) -> (Date, Option<u8>, &PlanId, Option<&KeywordId>) {
    (r.date, r.hour, &r.plan, r.keyword.as_ref())
}

fn describe_key(r: &ReportRow) -> String {
    format!(
        "{} hour {:?} plan {} keyword {}",
        r.date,
        r.hour,
        r.plan,
        r.keyword.as_ref().map_or("-", |k| k.as_str())
    )
}

fn check_row(i: usize, r: &ReportRow) -> Result<()> {
    if let Some(h) = r.hour
        && h > 23
    {
        return Err(Error::invalid(
            format!("rows[{i}].hour"),
            h,
            "must be 0..=23",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(u: i64) -> Money {
        Money::from_units(u).unwrap()
    }

    #[test]
    fn invariants_are_enforced() {
        assert!(matches!(
            Stats::new(10, 11, 0, m(0), m(0)),
            Err(Error::Inconsistent { .. })
        ));
        assert!(matches!(
            Stats::new(10, 5, 6, m(0), m(0)),
            Err(Error::Inconsistent { .. })
        ));
        assert!(matches!(
            Stats::new(10, 5, 1, m(-1), m(0)),
            Err(Error::InvalidValue { .. })
        ));
        assert!(Stats::new(10, 5, 1, m(1), m(-1)).is_err());
        let bad = r#"{"impressions":1,"clicks":2,"conversions":0,"cost":0,"revenue":0}"#;
        assert!(serde_json::from_str::<Stats>(bad).is_err());
    }

    #[test]
    fn zero_denominators_give_none() {
        let s = Stats::default();
        assert_eq!(
            (s.ctr(), s.cvr(), s.cpc(), s.aov(), s.roi(), s.cpa()),
            (None, None, None, None, None, None)
        );
        assert_eq!(s.utilisation(Money::ZERO), None);
        let s = Stats::new(100, 10, 2, m(5), m(40)).unwrap();
        assert_eq!(s.cpc(), Some(0.5));
        assert_eq!(s.aov(), Some(20.0));
        assert_eq!(s.value_per_click(), Some(4.0));
        assert_eq!(s.cpa(), Some(2.5));
        assert_eq!(s.utilisation(m(10)), Some(0.5));
    }

    #[test]
    fn report_sums_duplicates_or_rejects_them() {
        let d = Date::from_ymd(2026, 1, 1).unwrap();
        let row = |c| ReportRow {
            date: d,
            hour: None,
            plan: PlanId::new("p"),
            keyword: Some(KeywordId::new("k")),
            stats: Stats::new(100, c, 0, m(1), m(0)).unwrap(),
        };
        assert!(matches!(
            Report::new(vec![row(1), row(2)]),
            Err(Error::DuplicateId { .. })
        ));
        let r = Report::from_rows_summed(vec![row(1), row(2)]).unwrap();
        assert_eq!(r.rows().len(), 1);
        assert_eq!(r.total().unwrap().clicks(), 3);
        assert_eq!(r.total().unwrap().impressions(), 200);
        let mut bad = row(1);
        bad.hour = Some(24);
        assert!(Report::new(vec![bad]).is_err());
    }
}

//! Performance counters and the rates derived from them, and reports that add up.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::account::{CreativeId, KeywordId, PlanId};
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
#[serde(remote = "Self")]
pub struct Stats {
    impressions: u64,
    clicks: u64,
    conversions: u64,
    cost: Money,
    revenue: Money,
}

// Deserialising goes through the derived (remote = "Self") impl, then `Stats::new`, so an
// invalid `Stats` cannot be read; no mirror struct to keep in step.
impl<'de> Deserialize<'de> for Stats {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let r = Stats::deserialize(d)?;
        Stats::new(r.impressions, r.clicks, r.conversions, r.cost, r.revenue)
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for Stats {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        Stats::serialize(self, s)
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

/// One line of a report: a keyword's (or a whole plan's) counters for an hour, a day, or a
/// period of several days.
///
/// A row covers `days` days from `date` (a report exported for a week without a *Day*
/// segment has one row per keyword with `days: 7`). Its counters are totals over that span:
/// rates come from them as they are, but a budget or a capacity is per day, so divide by
/// [`ReportRow::days`] (see [`ReportRow::split_days`]). An hour row covers one hour of one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    /// The day, or the first day of the row's period.
    pub date: Date,
    /// The hour of the day (0-23), or `None` for a whole day (or period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hour: Option<u8>,
    /// Days the row covers from `date` (1 = that day; absent in JSON = 1, so older reports
    /// read unchanged).
    #[serde(default = "one_day", skip_serializing_if = "is_one_day")]
    pub days: u32,
    /// The plan.
    pub plan: PlanId,
    /// The keyword, or `None` for a plan-level row (reports that have no keyword breakdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword: Option<KeywordId>,
    /// The counters.
    pub stats: Stats,
}

fn one_day() -> u32 {
    1
}

fn is_one_day(d: &u32) -> bool {
    *d == 1
}

impl ReportRow {
    /// A row for one whole day.
    pub fn day(date: Date, plan: PlanId, keyword: Option<KeywordId>, stats: Stats) -> Self {
        ReportRow {
            date,
            hour: None,
            days: 1,
            plan,
            keyword,
            stats,
        }
    }

    /// The last day the row covers (`date` for a day or an hour row).
    pub fn last_date(&self) -> Date {
        self.date.add_days(self.days.max(1) as i32 - 1)
    }

    /// The row as `days` one-day rows with its counters spread evenly (remainders go to the
    /// first days, so the sums are exact and every day keeps `clicks <= impressions` and
    /// `conversions <= clicks`). A one-day or hour row is returned as it is.
    pub fn split_days(&self) -> Vec<ReportRow> {
        let n = u64::from(self.days.max(1));
        if n == 1 {
            return vec![self.clone()];
        }
        // floor(x / n) + [i < x % n] is monotone in x, so the per-day shares keep the order
        // of the totals (the invariants above).
        let share = |x: u64, i: u64| x / n + u64::from(i < x % n);
        let money = |m: Money, i: u64| {
            let x = m.micros().max(0) as u64;
            Money::from_micros(share(x, i) as i64)
        };
        let s = &self.stats;
        (0..n)
            .map(|i| ReportRow {
                date: self.date.add_days(i as i32),
                hour: None,
                days: 1,
                plan: self.plan.clone(),
                keyword: self.keyword.clone(),
                stats: Stats {
                    impressions: share(s.impressions, i),
                    clicks: share(s.clicks, i),
                    conversions: share(s.conversions, i),
                    cost: money(s.cost, i),
                    revenue: money(s.revenue, i),
                },
            })
            .collect()
    }
}

/// One line of an ad-level (creative) report: one creative's counters for one day.
///
/// Creative rows break down the same traffic that the plan's keyword (or plan) rows count,
/// by the ad served instead of by the keyword. The engine learns from them only which of a
/// plan's creatives wins (see [`crate::creative`]); the plan's rates and spend come from
/// the keyword rows, so the same clicks are never counted twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreativeRow {
    /// The day.
    pub date: Date,
    /// The creative's plan.
    pub plan: PlanId,
    /// The creative.
    pub creative: CreativeId,
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
#[serde(remote = "Self")]
pub struct Report {
    rows: Vec<ReportRow>,
    /// Ad-level rows, sorted by (date, plan, creative); absent in reports without them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    creatives: Vec<CreativeRow>,
}

impl<'de> Deserialize<'de> for Report {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let r = Report::deserialize(d)?;
        Report::new(r.rows)
            .and_then(|x| x.with_creatives(r.creatives))
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        Report::serialize(self, s)
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
        Ok(Report {
            rows,
            creatives: Vec::new(),
        })
    }

    /// This report with ad-level rows added; rows of one (date, plan, creative), here or
    /// already in the report, are summed (segments such as device).
    ///
    /// # Errors
    /// [`Error::Overflow`] if a sum overflows.
    pub fn with_creatives(mut self, rows: impl IntoIterator<Item = CreativeRow>) -> Result<Self> {
        let mut map: BTreeMap<(Date, PlanId, CreativeId), Stats> = BTreeMap::new();
        for r in std::mem::take(&mut self.creatives).into_iter().chain(rows) {
            let e = map.entry((r.date, r.plan, r.creative)).or_default();
            *e = e.checked_add(&r.stats)?;
        }
        self.creatives = map
            .into_iter()
            .map(|((date, plan, creative), stats)| CreativeRow {
                date,
                plan,
                creative,
                stats,
            })
            .collect();
        Ok(self)
    }

    /// The ad-level rows, sorted by (date, plan, creative).
    pub fn creatives(&self) -> &[CreativeRow] {
        &self.creatives
    }

    /// A report from rows, summing rows that share a key (segments such as device).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for an hour above 23; [`Error::Overflow`] if a sum overflows.
    pub fn from_rows_summed(rows: impl IntoIterator<Item = ReportRow>) -> Result<Self> {
        let mut map: BTreeMap<RowKey, (Stats, u32)> = BTreeMap::new();
        for (i, r) in rows.into_iter().enumerate() {
            check_row(i, &r)?;
            let k = key(&r);
            match map.get_mut(&k) {
                Some((s, days)) => {
                    if *days != r.days {
                        return Err(Error::Inconsistent {
                            field: format!("rows[{i}].days"),
                            reason: format!(
                                "{} covers {} days here and {} days in another row",
                                describe_key(&r),
                                r.days,
                                days
                            ),
                        });
                    }
                    *s = s.checked_add(&r.stats)?;
                }
                None => {
                    map.insert(k, (r.stats, r.days));
                }
            }
        }
        Ok(Report {
            rows: map
                .into_iter()
                .map(|((date, hour, plan, keyword), (stats, days))| ReportRow {
                    date,
                    hour,
                    days,
                    plan,
                    keyword,
                    stats,
                })
                .collect(),
            creatives: Vec::new(),
        })
    }

    /// The report with every multi-day row spread over its days ([`ReportRow::split_days`]):
    /// daily figures for whatever works per day (budgets, capacities, an engine).
    ///
    /// # Errors
    /// [`Error::Overflow`] if a sum overflows (a period row overlapping day rows of the same
    /// cell is added to them).
    pub fn split_days(&self) -> Result<Report> {
        if self.rows.iter().all(|r| r.days <= 1) {
            return Ok(self.clone());
        }
        Report::from_rows_summed(self.rows.iter().flat_map(ReportRow::split_days))?
            .with_creatives(self.creatives.iter().cloned())
    }

    /// Whether some row covers more than one day.
    pub fn has_periods(&self) -> bool {
        self.rows.iter().any(|r| r.days > 1)
    }

    /// The rows, sorted by (date, hour, plan, keyword).
    pub fn rows(&self) -> &[ReportRow] {
        &self.rows
    }

    /// Whether the report has no rows (neither keyword nor ad-level ones).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.creatives.is_empty()
    }

    /// This report and `other` added cell by cell.
    ///
    /// # Errors
    /// [`Error::Overflow`] if a sum overflows.
    pub fn checked_add(&self, other: &Report) -> Result<Report> {
        Report::from_rows_summed(self.rows.iter().chain(other.rows.iter()).cloned())?
            .with_creatives(self.creatives.iter().chain(&other.creatives).cloned())
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

    /// The first and last date covered (a period row covers its last day too), or `None`
    /// for an empty report.
    pub fn date_range(&self) -> Option<(Date, Date)> {
        let min = self.rows.iter().map(|r| r.date).min()?;
        let max = self.rows.iter().map(ReportRow::last_date).max()?;
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
    // Ten years is far beyond any export; a larger span is a misread date, not a period.
    if r.days == 0 || r.days > 3660 {
        return Err(Error::invalid(
            format!("rows[{i}].days"),
            r.days,
            "must be 1..=3660",
        ));
    }
    if r.hour.is_some() && r.days != 1 {
        return Err(Error::invalid(
            format!("rows[{i}].days"),
            r.days,
            "an hour row covers one day",
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
            days: 1,
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

    #[test]
    fn period_rows_split_into_days_exactly() {
        let d = Date::from_ymd(2026, 3, 1).unwrap();
        let mut r = ReportRow::day(
            d,
            PlanId::new("p"),
            None,
            Stats::new(1000, 10, 9, Money::from_micros(7_000_001), m(3)).unwrap(),
        );
        r.days = 7;
        assert_eq!(r.last_date(), d.add_days(6));
        let days = r.split_days();
        assert_eq!(days.len(), 7);
        let rep = Report::new(vec![r.clone()]).unwrap();
        assert_eq!(rep.date_range(), Some((d, d.add_days(6))));
        let split = rep.split_days().unwrap();
        assert!(!split.has_periods() && rep.has_periods());
        assert_eq!(split.total().unwrap(), rep.total().unwrap());
        // 10 clicks over 7 days: 2, 2, 2, 1, 1, 1, 1; 9 orders: 2, 2, 1, 1, 1, 1, 1.
        let clicks: Vec<u64> = days.iter().map(|x| x.stats.clicks()).collect();
        assert_eq!(clicks, vec![2, 2, 2, 1, 1, 1, 1]);
        assert!(
            days.iter()
                .all(|x| x.stats.conversions() <= x.stats.clicks())
        );
        assert_eq!(days[0].stats.cost().micros(), 1_000_001);
        // JSON without `days` reads as one day; one-day rows do not write it.
        let json = serde_json::to_string(&days[0]).unwrap();
        assert!(!json.contains("days"));
        let back: ReportRow = serde_json::from_str(&json).unwrap();
        assert_eq!(back.days, 1);
        assert!(serde_json::to_string(&r).unwrap().contains("\"days\":7"));
        // An hour row covers one day; zero days is no span.
        let mut bad = r.clone();
        bad.hour = Some(3);
        assert!(Report::new(vec![bad]).is_err());
        bad = r.clone();
        bad.days = 0;
        assert!(Report::new(vec![bad]).is_err());
        // The same cell with two spans is not summed.
        let mut one = r.clone();
        one.days = 1;
        assert!(matches!(
            Report::from_rows_summed(vec![r, one]),
            Err(Error::Inconsistent { .. })
        ));
    }
}

//! The calendar: dated changes of the market (promotion days, a competitor's move, a slow
//! drift) and weekday profiles, with the day factors derived from them.
//!
//! One type serves the engine (which is told about known events in advance and plans with
//! them) and the simulator (whose ground truth they are).
//!
//! An event runs from `start` for `days` days and multiplies traffic, CTR, CVR, order value
//! and rival bids by its factors. Its [`Scope`] says where: the whole account (the default),
//! or the plans and keywords named by id or by tag. A *step* event applies its full factors
//! from the first day; a *ramp* (`ramp_days` > 0) moves each factor geometrically from 1 on
//! `start` to its full value on `start + ramp_days` and holds it to the end, which is how a
//! drift is written. Overlapping events multiply.
//!
//! ```
//! use adbandit::model::calendar::{CalendarEvent, Scope, factors_on};
//! use adbandit::Date;
//! let d = Date::from_ymd(2026, 11, 11)?;
//! let double_11 = CalendarEvent::new("Double 11", d, 1, 4.0, 2.0)?.with_competitor_bid(1.6)?;
//! assert_eq!(factors_on(&[double_11.clone()], d).traffic, 4.0);
//! // A rival raising its bids on one plan's keywords only, from 10 November on.
//! let rival = CalendarEvent::new("rival", d.add_days(-1), 30, 1.0, 1.0)?
//!     .with_competitor_bid(1.6)?
//!     .with_scope(Scope::plans(["dress"]));
//! // `factors_on` is the whole account's view: a scoped event is not in it.
//! assert_eq!(factors_on(&[rival], d).competitor_bid, 1.0);
//! # Ok::<(), adbandit::Error>(())
//! ```
//!
//! JSON (the simulator's older names `date`, `conversion` and the engine's older names
//! `traffic_factor`, `cvr_factor` are read too):
//! ```text
//! {"name": "rival", "start": "2026-03-10", "days": 30, "competitor_bid": 1.6,
//!  "scope": {"plans": ["p3"]}, "ramp_days": 0}
//! ```

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::model::account::{Keyword, KeywordId, Plan, PlanId};
use crate::model::date::Date;

/// Smallest (exclusive) and largest (inclusive) factor an event may declare.
pub const FACTOR_RANGE: (f64, f64) = (0.0, 100.0);
/// Longest event, in days (a hundred years: long enough for any lasting change, short
/// enough that date arithmetic on it cannot overflow).
pub const MAX_EVENT_DAYS: u32 = 36_600;
/// Most ids or tags one scope may list.
pub const MAX_SCOPE_ITEMS: usize = 100_000;

fn one_day() -> u32 {
    1
}
fn one() -> f64 {
    1.0
}
fn is_one(x: &f64) -> bool {
    // Exactly the default: anything else is written out.
    x.to_bits() == 1.0f64.to_bits()
}
fn is_zero(x: &u32) -> bool {
    *x == 0
}

/// Where a calendar item applies: the whole account when empty, otherwise every keyword of
/// a listed plan, every listed keyword, and every plan or keyword carrying a listed tag.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Plans by id (all their keywords).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plans: Vec<PlanId>,
    /// Keywords by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<KeywordId>,
    /// Tags of plans (all their keywords) or of keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Scope {
    /// The whole account.
    pub const ACCOUNT: Scope = Scope {
        plans: Vec::new(),
        keywords: Vec::new(),
        tags: Vec::new(),
    };

    /// The keywords of the plans with these ids.
    pub fn plans<I: IntoIterator<Item = S>, S: Into<String>>(ids: I) -> Self {
        Scope {
            plans: ids.into_iter().map(|s| PlanId::new(s)).collect(),
            ..Scope::default()
        }
    }
    /// The keywords with these ids.
    pub fn keywords<I: IntoIterator<Item = S>, S: Into<String>>(ids: I) -> Self {
        Scope {
            keywords: ids.into_iter().map(|s| KeywordId::new(s)).collect(),
            ..Scope::default()
        }
    }
    /// The plans and keywords carrying any of these tags.
    pub fn tags<I: IntoIterator<Item = S>, S: Into<String>>(tags: I) -> Self {
        Scope {
            tags: tags.into_iter().map(Into::into).collect(),
            ..Scope::default()
        }
    }
    /// Whether this is the whole account.
    pub fn is_account(&self) -> bool {
        self.plans.is_empty() && self.keywords.is_empty() && self.tags.is_empty()
    }
    /// Whether keyword `keyword` of plan `plan` is in scope.
    pub fn covers(&self, plan: &Plan, keyword: &Keyword) -> bool {
        self.is_account()
            || self.covers_plan(plan)
            || self.keywords.contains(&keyword.id)
            || keyword.tags.iter().any(|t| self.tags.contains(t))
    }
    /// Whether every keyword of `plan` is in scope (the plan is listed or tagged).
    pub fn covers_plan(&self, plan: &Plan) -> bool {
        self.is_account()
            || self.plans.contains(&plan.id)
            || plan.tags.iter().any(|t| self.tags.contains(t))
    }

    fn validate(&self, at: &str) -> Result<()> {
        let n = self.plans.len() + self.keywords.len() + self.tags.len();
        if n > MAX_SCOPE_ITEMS {
            return Err(Error::invalid(
                format!("{at}.scope"),
                format!("{n} items"),
                format!("must list at most {MAX_SCOPE_ITEMS}"),
            ));
        }
        for t in &self.tags {
            if t.trim().is_empty() {
                return Err(Error::invalid(
                    format!("{at}.scope.tags"),
                    "\"\"",
                    "a tag must not be empty",
                ));
            }
        }
        Ok(())
    }

    /// Checks that every id the scope names exists in `plans`; `at` is the path for errors.
    ///
    /// # Errors
    /// [`Error::UnknownId`] naming the kind and the id.
    pub fn check_ids(&self, plans: &[Plan]) -> Result<()> {
        for id in &self.plans {
            if !plans.iter().any(|p| &p.id == id) {
                return Err(Error::UnknownId {
                    kind: "plan in scope",
                    id: id.to_string(),
                });
            }
        }
        for id in &self.keywords {
            if !plans.iter().any(|p| p.keywords.iter().any(|k| &k.id == id)) {
                return Err(Error::UnknownId {
                    kind: "keyword in scope",
                    id: id.to_string(),
                });
            }
        }
        Ok(())
    }
}

/// A dated change of the market; see the module docs.
///
/// Deserialising validates the event on its own (name, length, factors); whether its dates
/// and scope fit a given horizon and account is checked by whoever uses it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct CalendarEvent {
    name: String,
    #[serde(alias = "date")]
    start: Date,
    #[serde(default = "one_day")]
    days: u32,
    #[serde(
        default = "one",
        alias = "traffic_factor",
        skip_serializing_if = "is_one"
    )]
    traffic: f64,
    #[serde(default = "one", skip_serializing_if = "is_one")]
    ctr: f64,
    #[serde(
        default = "one",
        alias = "cvr_factor",
        alias = "conversion",
        skip_serializing_if = "is_one"
    )]
    cvr: f64,
    #[serde(default = "one", skip_serializing_if = "is_one")]
    aov: f64,
    #[serde(default = "one", skip_serializing_if = "is_one")]
    competitor_bid: f64,
    #[serde(default, skip_serializing_if = "Scope::is_account")]
    scope: Scope,
    #[serde(default, skip_serializing_if = "is_zero")]
    ramp_days: u32,
}

impl<'de> Deserialize<'de> for CalendarEvent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let e = CalendarEvent::deserialize(d)?;
        e.validate().map_err(serde::de::Error::custom)?;
        Ok(e)
    }
}

impl Serialize for CalendarEvent {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        CalendarEvent::serialize(self, s)
    }
}

fn check_factor(at: &str, f: &str, v: f64) -> Result<()> {
    if !(v > FACTOR_RANGE.0 && v <= FACTOR_RANGE.1) {
        return Err(Error::invalid(
            format!("{at}.{f}"),
            v,
            "must be in (0, 100]",
        ));
    }
    Ok(())
}

impl CalendarEvent {
    /// A validated whole-account step event: `days` days from `start` with traffic and CVR
    /// multiplied by the given factors (CTR, order value and rival bids unchanged; see the
    /// `with_*` adjusters).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for an empty name, a length outside 1..=[`MAX_EVENT_DAYS`],
    /// or a factor outside (0, 100].
    pub fn new(
        name: impl Into<String>,
        start: Date,
        days: u32,
        traffic_factor: f64,
        cvr_factor: f64,
    ) -> Result<Self> {
        let e = CalendarEvent {
            name: name.into(),
            start,
            days,
            traffic: traffic_factor,
            ctr: 1.0,
            cvr: cvr_factor,
            aov: 1.0,
            competitor_bid: 1.0,
            scope: Scope::ACCOUNT,
            ramp_days: 0,
        };
        e.validate()?;
        Ok(e)
    }

    fn validate(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(Error::invalid("event.name", "\"\"", "must not be empty"));
        }
        let at = format!("event {}", self.name);
        if !(1..=MAX_EVENT_DAYS).contains(&self.days) {
            return Err(Error::invalid(
                format!("{at}.days"),
                self.days,
                format!("must be in 1..={MAX_EVENT_DAYS}"),
            ));
        }
        if self.ramp_days > self.days {
            return Err(Error::invalid(
                format!("{at}.ramp_days"),
                self.ramp_days,
                format!("must be <= days ({})", self.days),
            ));
        }
        for (f, v) in [
            ("traffic", self.traffic),
            ("ctr", self.ctr),
            ("cvr", self.cvr),
            ("aov", self.aov),
            ("competitor_bid", self.competitor_bid),
        ] {
            check_factor(&at, f, v)?;
        }
        self.scope.validate(&at)
    }

    fn with_factor(mut self, f: &str, v: f64) -> Result<Self> {
        check_factor(&format!("event {}", self.name), f, v)?;
        match f {
            "ctr" => self.ctr = v,
            "aov" => self.aov = v,
            _ => self.competitor_bid = v,
        }
        Ok(self)
    }
    /// Sets the CTR factor.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a factor outside (0, 100].
    pub fn with_ctr(self, factor: f64) -> Result<Self> {
        self.with_factor("ctr", factor)
    }
    /// Sets the order-value factor.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a factor outside (0, 100].
    pub fn with_aov(self, factor: f64) -> Result<Self> {
        self.with_factor("aov", factor)
    }
    /// Sets the factor on every rival's bid.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a factor outside (0, 100].
    pub fn with_competitor_bid(self, factor: f64) -> Result<Self> {
        self.with_factor("competitor_bid", factor)
    }
    /// Restricts the event to `scope`.
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }
    /// Makes the event a ramp over its first `ramp_days` days (0: a step).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] if `ramp_days` exceeds the event's length.
    pub fn with_ramp(mut self, ramp_days: u32) -> Result<Self> {
        self.ramp_days = ramp_days;
        self.validate()?;
        Ok(self)
    }

    /// Name shown in reasons.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// First day.
    pub fn start(&self) -> Date {
        self.start
    }
    /// Length in days.
    pub fn days(&self) -> u32 {
        self.days
    }
    /// The day after the last day.
    pub fn end(&self) -> Date {
        // Validation bounds `days`, and dates lie in 1900..=9999, so this cannot overflow.
        Date::from_days(self.start.days().saturating_add(self.days as i32))
    }
    /// Expected traffic multiplier.
    pub fn traffic_factor(&self) -> f64 {
        self.traffic
    }
    /// Expected CTR multiplier.
    pub fn ctr_factor(&self) -> f64 {
        self.ctr
    }
    /// Expected conversion-rate multiplier.
    pub fn cvr_factor(&self) -> f64 {
        self.cvr
    }
    /// Expected order-value multiplier.
    pub fn aov_factor(&self) -> f64 {
        self.aov
    }
    /// Multiplier on every rival's bid.
    pub fn competitor_bid_factor(&self) -> f64 {
        self.competitor_bid
    }
    /// Where the event applies.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
    /// Days of the ramp (0: a step).
    pub fn ramp_days(&self) -> u32 {
        self.ramp_days
    }
    /// Whether `d` falls in the window.
    pub fn covers(&self, d: Date) -> bool {
        d >= self.start && i64::from(d.days()) < i64::from(self.start.days()) + i64::from(self.days)
    }

    /// The share of the full factors in force on `d` (0 outside the window; rising
    /// linearly in log over the ramp).
    pub fn weight_on(&self, d: Date) -> f64 {
        if !self.covers(d) {
            return 0.0;
        }
        if self.ramp_days == 0 {
            return 1.0;
        }
        let i = i64::from(d.days()) - i64::from(self.start.days());
        (i as f64 / f64::from(self.ramp_days)).min(1.0)
    }

    /// Folds this event's factors on `d` into `f`.
    pub fn apply(&self, d: Date, f: &mut DayFactors) {
        let w = self.weight_on(d);
        if w <= 0.0 {
            return;
        }
        // `x.powf(1.0)` is exact, but a step event skips it so old results stay bit-identical.
        let p = |x: f64| if w >= 1.0 { x } else { x.powf(w) };
        f.traffic *= p(self.traffic);
        f.ctr *= p(self.ctr);
        f.cvr *= p(self.cvr);
        f.aov *= p(self.aov);
        f.competitor_bid *= p(self.competitor_bid);
    }
}

/// A weekday profile: multipliers of traffic and CVR by day of week (Monday first) for the
/// keywords in `scope`, on top of the market's weekly curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct WeekdayProfile {
    /// Where the profile applies (the whole account when empty).
    #[serde(default, skip_serializing_if = "Scope::is_account")]
    pub scope: Scope,
    /// Traffic multiplier by weekday, Monday first.
    #[serde(default = "flat_week")]
    pub traffic: [f64; 7],
    /// CVR multiplier by weekday, Monday first.
    #[serde(default = "flat_week")]
    pub cvr: [f64; 7],
}

fn flat_week() -> [f64; 7] {
    [1.0; 7]
}

impl<'de> Deserialize<'de> for WeekdayProfile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let p = WeekdayProfile::deserialize(d)?;
        p.validate("weekday profile")
            .map_err(serde::de::Error::custom)?;
        Ok(p)
    }
}

impl Serialize for WeekdayProfile {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        WeekdayProfile::serialize(self, s)
    }
}

impl WeekdayProfile {
    /// Checks the factors; `at` is the path for errors.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the field and weekday.
    pub fn validate(&self, at: &str) -> Result<()> {
        for (f, v) in [("traffic", &self.traffic), ("cvr", &self.cvr)] {
            for (i, &x) in v.iter().enumerate() {
                check_factor(at, &format!("{f}[{i}]"), x)?;
            }
        }
        self.scope.validate(at)
    }

    /// Folds the profile's factors on `d` into `f`.
    pub fn apply(&self, d: Date, f: &mut DayFactors) {
        let w = d.weekday() as usize % 7;
        f.traffic *= self.traffic[w];
        f.cvr *= self.cvr[w];
    }
}

/// The combined factors on a day: overlapping events multiply.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DayFactors {
    /// Traffic multiplier.
    pub traffic: f64,
    /// CTR multiplier.
    pub ctr: f64,
    /// Conversion-rate multiplier.
    pub cvr: f64,
    /// Order-value multiplier.
    pub aov: f64,
    /// Multiplier on every rival's bid.
    pub competitor_bid: f64,
}

impl Default for DayFactors {
    fn default() -> Self {
        DayFactors::NORMAL
    }
}

impl DayFactors {
    /// No event.
    pub const NORMAL: DayFactors = DayFactors {
        traffic: 1.0,
        ctr: 1.0,
        cvr: 1.0,
        aov: 1.0,
        competitor_bid: 1.0,
    };
}

/// The factors of the whole-account events in force on `d` (scoped events are left out:
/// use [`factors_for`] for a given keyword).
pub fn factors_on(events: &[CalendarEvent], d: Date) -> DayFactors {
    let mut f = DayFactors::NORMAL;
    for e in events.iter().filter(|e| e.scope.is_account()) {
        e.apply(d, &mut f);
    }
    f
}

/// The factors in force on `d` for keyword `keyword` of plan `plan`: every event and
/// weekday profile whose scope covers it, in order.
pub fn factors_for(
    events: &[CalendarEvent],
    profiles: &[WeekdayProfile],
    d: Date,
    plan: &Plan,
    keyword: &Keyword,
) -> DayFactors {
    let mut f = DayFactors::NORMAL;
    for e in events.iter().filter(|e| e.scope.covers(plan, keyword)) {
        e.apply(d, &mut f);
    }
    for p in profiles.iter().filter(|p| p.scope.covers(plan, keyword)) {
        p.apply(d, &mut f);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MatchType;
    use crate::money::Money;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn validation_and_coverage() {
        let d = day("2026-11-10");
        assert!(CalendarEvent::new("x", d, 0, 2.0, 2.0).is_err());
        assert!(CalendarEvent::new("x", d, MAX_EVENT_DAYS + 1, 2.0, 2.0).is_err());
        assert!(CalendarEvent::new("x", d, 2, 101.0, 2.0).is_err());
        assert!(CalendarEvent::new("x", d, 2, 0.0, 2.0).is_err());
        assert!(CalendarEvent::new("x", d, 2, 2.0, f64::NAN).is_err());
        assert!(CalendarEvent::new("", d, 2, 2.0, 2.0).is_err());
        let e = CalendarEvent::new("Double 11", d, 2, 4.0, 2.0).unwrap();
        assert!(!e.covers(d.add_days(-1)) && e.covers(d) && e.covers(d.add_days(1)));
        assert!(!e.covers(d.add_days(2)));
        let f = factors_on(&[e.clone(), e], d);
        assert!((f.traffic - 16.0).abs() < 1e-12);
        assert!((f.cvr - 4.0).abs() < 1e-12);
    }

    #[test]
    fn reads_the_engine_and_the_simulator_json() {
        let engine =
            r#"{"name":"x","start":"2026-11-11","days":3,"traffic_factor":4,"cvr_factor":2}"#;
        let e: CalendarEvent = serde_json::from_str(engine).unwrap();
        assert_eq!(
            (e.days(), e.traffic_factor(), e.cvr_factor()),
            (3, 4.0, 2.0)
        );
        let sim =
            r#"{"name":"x","date":"2026-11-11","traffic":4,"conversion":2,"competitor_bid":1.7}"#;
        let s: CalendarEvent = serde_json::from_str(sim).unwrap();
        assert_eq!(
            (s.days(), s.cvr_factor(), s.competitor_bid_factor()),
            (1, 2.0, 1.7)
        );
        let back: CalendarEvent =
            serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        for bad in [
            r#"{"name":"x","start":"2026-11-11","traffic":0}"#,
            r#"{"name":"x","start":"2026-11-11","days":2147483649}"#,
            r#"{"name":"x","start":"2026-11-11","days":36601}"#,
            r#"{"name":"x","start":"2026-11-11","trafic":2}"#,
            r#"{"name":"x","start":"2026-11-11","scope":{"plan":["p"]}}"#,
            r#"{"name":"x","start":"2026-11-11","days":3,"ramp_days":4}"#,
        ] {
            assert!(serde_json::from_str::<CalendarEvent>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_and_ramps() {
        let y = |x| Money::from_units(x).unwrap();
        let mut dress = Plan::new("dress", "Dresses", y(100), y(0), y(5))
            .with_keyword(Keyword::new("d1", "red dress", MatchType::Exact, y(1)))
            .with_keyword(Keyword::new("d2", "blue dress", MatchType::Exact, y(1)));
        dress.keywords[1].tags.push("summer".into());
        let shoe = Plan::new("shoe", "Shoes", y(100), y(0), y(5)).with_keyword(Keyword::new(
            "s1",
            "shoes",
            MatchType::Exact,
            y(1),
        ));
        let d = day("2026-03-02"); // a Monday
        let rival = CalendarEvent::new("rival", d, 10, 1.0, 1.0)
            .unwrap()
            .with_competitor_bid(1.6)
            .unwrap()
            .with_scope(Scope::plans(["dress"]));
        let tagged = CalendarEvent::new("summer", d, 10, 2.0, 1.0)
            .unwrap()
            .with_scope(Scope::tags(["summer"]));
        let ev = [rival, tagged];
        let f = |p: &Plan, k: usize| factors_for(&ev, &[], d, p, &p.keywords[k]);
        assert!(close(f(&dress, 0).competitor_bid, 1.6));
        assert!(close(f(&dress, 0).traffic, 1.0));
        assert!(close(f(&dress, 1).traffic, 2.0));
        assert_eq!(f(&shoe, 0), DayFactors::NORMAL);
        // A ramp: 1 on the first day, the full factor from day 4 on.
        let ramp = CalendarEvent::new("drift", d, 30, 1.0, 0.5)
            .unwrap()
            .with_ramp(4)
            .unwrap();
        let cvr = |i| factors_on(std::slice::from_ref(&ramp), d.add_days(i)).cvr;
        assert!(close(cvr(0), 1.0));
        assert!((cvr(2) - 0.5f64.sqrt()).abs() < 1e-12);
        assert!(close(cvr(4), 0.5));
        assert!(close(cvr(29), 0.5));
        assert!(close(cvr(30), 1.0));
        // Weekday profiles by plan.
        let mut w = WeekdayProfile {
            scope: Scope::plans(["shoe"]),
            traffic: [1.0; 7],
            cvr: [1.0; 7],
        };
        w.cvr[0] = 0.5;
        let g = factors_for(&[], std::slice::from_ref(&w), d, &shoe, &shoe.keywords[0]);
        assert!(close(g.cvr, 0.5));
        let g = factors_for(&[], &[w], d.add_days(1), &shoe, &shoe.keywords[0]);
        assert!(close(g.cvr, 1.0));
    }
}

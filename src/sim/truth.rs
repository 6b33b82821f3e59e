//! The market's ground truth: the specification types of a scenario's market and the model
//! computed from them (rates by day, hour and slot, and per-auction response curves).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check_non_negative, check_positive, check_probability};
use crate::model::calendar::{CalendarEvent, DayFactors, WeekdayProfile};
use crate::model::{Account, CreativeId, Date, KeywordId, MatchType, PlanId, Schedule, Status};
use crate::money::Money;
use crate::sim::auction::{CompetitorLandscape, gsp_price};

/// Most slots an auction may sell.
pub const MAX_SLOTS: usize = 8;
/// Most rivals per query a keyword may have.
pub const MAX_RIVALS: u32 = 32;
/// Most days a horizon may have.
pub const MAX_DAYS: u32 = 3660;
/// Most keywords a scenario may have (given and generated together).
pub const MAX_KEYWORDS: usize = 1_000_000;
/// Most keyword-days (keywords x days) a scenario may have: what a run may keep per
/// keyword and day.
pub const MAX_KEYWORD_DAYS: u64 = 50_000_000;
/// Most calendar events (and, separately, weekday profiles) a market may have.
pub const MAX_EVENTS: usize = 10_000;
/// Quadrature points for the expected price given a slot.
const PRICE_POINTS: usize = 16;

/// How a match type scales a keyword's exact-match volume, CTR and CVR.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchEffect {
    /// Multiplies the daily query volume.
    pub volume: f64,
    /// Multiplies the CTR.
    pub ctr: f64,
    /// Multiplies the CVR.
    pub cvr: f64,
}

/// Match effects for each match type.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchEffects {
    /// Exact match (normally all 1).
    pub exact: MatchEffect,
    /// Phrase match.
    pub phrase: MatchEffect,
    /// Broad match: more queries at a lower CTR and CVR.
    pub broad: MatchEffect,
}

impl Default for MatchEffects {
    fn default() -> Self {
        MatchEffects {
            exact: MatchEffect {
                volume: 1.0,
                ctr: 1.0,
                cvr: 1.0,
            },
            phrase: MatchEffect {
                volume: 1.8,
                ctr: 0.8,
                cvr: 0.8,
            },
            broad: MatchEffect {
                volume: 3.0,
                ctr: 0.55,
                cvr: 0.6,
            },
        }
    }
}

impl MatchEffects {
    /// The effect for `m`.
    pub fn get(&self, m: MatchType) -> MatchEffect {
        match m {
            MatchType::Exact => self.exact,
            MatchType::Phrase => self.phrase,
            MatchType::Broad => self.broad,
        }
    }
}

/// A calendar event of the market: the model layer's [`CalendarEvent`] (old name).
pub type Event = CalendarEvent;

fn onef() -> f64 {
    1.0
}

/// A plan or keyword that exists only from `start` (and before `end`, if given): before
/// its launch it has no traffic, and strategies are not told about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Launch {
    /// The plan launched (all its keywords), or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanId>,
    /// The keyword launched, or none (exactly one of `plan` and `keyword` is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword: Option<KeywordId>,
    /// First day it exists.
    pub start: Date,
    /// First day it no longer exists (none: to the end of the horizon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Date>,
}

/// The market's rules and calendar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketSpec {
    /// Position effect of each slot (slot 0 = top): CTR in slot j = CTR x effect\[j\].
    pub position_effects: Vec<f64>,
    /// Reserve price (micros): bids below it do not enter; the lowest price charged.
    pub reserve: Money,
    /// Bid increment (micros) added to the rank-keeping price.
    pub increment: Money,
    /// Relative traffic by hour of day (24 values, normalised to shares).
    pub hourly: Vec<f64>,
    /// Relative traffic by weekday, Monday first (7 values, normalised to mean 1).
    #[serde(default = "flat_week")]
    pub weekly: Vec<f64>,
    /// Match-type effects.
    #[serde(default)]
    pub match_effects: MatchEffects,
    /// Promotion days, competitors' moves, drifts: calendar events, whole-account or scoped.
    #[serde(default)]
    pub events: Vec<CalendarEvent>,
    /// Weekday profiles of traffic and CVR per plan, keyword or tag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekday_profiles: Vec<WeekdayProfile>,
    /// Plans and keywords launched (or ended) within the horizon.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub launches: Vec<Launch>,
}

fn flat_week() -> Vec<f64> {
    vec![1.0; 7]
}

/// A keyword's rivals: `count` per query, each bidding LogNormal(ln `bid_median`, `bid_sigma`)
/// (currency units) with quality `quality`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Competitors {
    /// Rivals per query (<= 32).
    pub count: u32,
    /// Median rival bid, in currency units.
    pub bid_median: f64,
    /// Log-sd of rival bids across queries.
    pub bid_sigma: f64,
    /// Rivals' quality score.
    #[serde(default = "onef")]
    pub quality: f64,
}

/// A drift of a keyword's rates: factor 1 up to `from_day`, the given factors from `to_day`
/// on, geometric in between (days are 0-based indexes into the horizon).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drift {
    /// Last day at the original rates.
    pub from_day: u32,
    /// First day at the drifted rates.
    pub to_day: u32,
    /// Final volume factor.
    #[serde(default = "onef")]
    pub volume: f64,
    /// Final CTR factor.
    #[serde(default = "onef")]
    pub ctr: f64,
    /// Final CVR factor.
    #[serde(default = "onef")]
    pub cvr: f64,
}

/// Ground truth of one keyword, at exact match, before calendar and drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordTruth {
    /// The account keyword this describes.
    pub keyword: KeywordId,
    /// Daily queries at exact match on an average weekday.
    pub volume: f64,
    /// CTR in the top slot at exact match.
    pub ctr: f64,
    /// CVR at exact match.
    pub cvr: f64,
    /// Mean order value, currency units.
    pub aov: f64,
    /// Log-sd of order values (log-normal with mean `aov`).
    pub aov_sigma: f64,
    /// Our quality score; rank score = bid x quality.
    pub quality: f64,
    /// The rival bid landscape.
    pub competitors: Competitors,
    /// Optional drift over the horizon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<Drift>,
    /// The search queries that make up the keyword's traffic (none: one query, the
    /// keyword itself). Each must match the keyword under its match type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queries: Vec<QueryTruth>,
}

/// One search query of a keyword's stream: its share of the keyword's volume and its own
/// CTR and CVR, as factors on the keyword's (match type applied). A broad or phrase
/// keyword's irrelevant queries are written this way, with low factors; a negative keyword
/// that matches a query blocks it (the query's auctions are not entered).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryTruth {
    /// The query text.
    pub text: String,
    /// Relative weight: the keyword's volume is split in proportion to the weights.
    pub weight: f64,
    /// The query's CTR over the keyword's (1: the same).
    #[serde(default = "onef")]
    pub ctr_factor: f64,
    /// The query's CVR over the keyword's (1: the same).
    #[serde(default = "onef")]
    pub cvr_factor: f64,
}

/// Ground truth of one creative: how much its CTR and CVR differ from its plan's keywords'
/// (the auction's CTR is the keyword's x the multiplier of the creative served). A creative
/// of the account without an entry has multipliers 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreativeTruth {
    /// The account creative this describes.
    pub creative: CreativeId,
    /// CTR multiplier (1: the keyword's own).
    #[serde(default = "onef")]
    pub ctr: f64,
    /// CVR multiplier (1: the keyword's own).
    #[serde(default = "onef")]
    pub cvr: f64,
}

impl CreativeTruth {
    /// Checks the multipliers; `at` is the path for errors (`creatives[1]`).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the field.
    pub fn validate(&self, at: &str) -> Result<()> {
        for (f, v) in [("ctr", self.ctr), ("cvr", self.cvr)] {
            if !(v.is_finite() && v > 0.0 && v <= 10.0) {
                return Err(Error::invalid(format!("{at}.{f}"), v, "must be in (0, 10]"));
            }
        }
        Ok(())
    }
}

/// Most queries one keyword's stream may have.
pub const MAX_QUERIES_PER_KEYWORD: usize = 64;

impl KeywordTruth {
    /// Checks the values; `at` is the path for errors (`keywords[3]`).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the field.
    pub fn validate(&self, at: &str) -> Result<()> {
        check_non_negative(format!("{at}.volume"), self.volume)?;
        check_probability(format!("{at}.ctr"), self.ctr)?;
        check_probability(format!("{at}.cvr"), self.cvr)?;
        check_non_negative(format!("{at}.aov"), self.aov)?;
        if !(0.0..=3.0).contains(&self.aov_sigma) {
            return Err(Error::invalid(
                format!("{at}.aov_sigma"),
                self.aov_sigma,
                "must be in [0, 3]",
            ));
        }
        if !(self.quality > 0.0 && self.quality <= 100.0) {
            return Err(Error::invalid(
                format!("{at}.quality"),
                self.quality,
                "must be in (0, 100]",
            ));
        }
        let c = &self.competitors;
        if c.count > MAX_RIVALS {
            return Err(Error::invalid(
                format!("{at}.competitors.count"),
                c.count,
                format!("must be <= {MAX_RIVALS}"),
            ));
        }
        check_positive(format!("{at}.competitors.bid_median"), c.bid_median)?;
        if c.bid_median > 1e6 {
            return Err(Error::invalid(
                format!("{at}.competitors.bid_median"),
                c.bid_median,
                "must be <= 1e6",
            ));
        }
        if !(0.0..=3.0).contains(&c.bid_sigma) {
            return Err(Error::invalid(
                format!("{at}.competitors.bid_sigma"),
                c.bid_sigma,
                "must be in [0, 3]",
            ));
        }
        if !(c.quality > 0.0 && c.quality <= 100.0) {
            return Err(Error::invalid(
                format!("{at}.competitors.quality"),
                c.quality,
                "must be in (0, 100]",
            ));
        }
        if self.queries.len() > MAX_QUERIES_PER_KEYWORD {
            return Err(Error::invalid(
                format!("{at}.queries"),
                format!("{} queries", self.queries.len()),
                format!("must have at most {MAX_QUERIES_PER_KEYWORD}"),
            ));
        }
        for (j, q) in self.queries.iter().enumerate() {
            let qat = format!("{at}.queries[{j}]");
            check_positive(format!("{qat}.weight"), q.weight)?;
            if q.weight > 1e6 {
                return Err(Error::invalid(
                    format!("{qat}.weight"),
                    q.weight,
                    "must be <= 1e6",
                ));
            }
            for (f, v) in [("ctr_factor", q.ctr_factor), ("cvr_factor", q.cvr_factor)] {
                if !(0.0..=100.0).contains(&v) {
                    return Err(Error::invalid(
                        format!("{qat}.{f}"),
                        v,
                        "must be in [0, 100]",
                    ));
                }
            }
        }
        if let Some(d) = &self.drift {
            if d.from_day > d.to_day {
                return Err(Error::invalid(
                    format!("{at}.drift.from_day"),
                    d.from_day,
                    format!("must be <= to_day {}", d.to_day),
                ));
            }
            for (n, v) in [("volume", d.volume), ("ctr", d.ctr), ("cvr", d.cvr)] {
                if !(v > 0.0 && v <= 100.0) {
                    return Err(Error::invalid(
                        format!("{at}.drift.{n}"),
                        v,
                        "must be in (0, 100]",
                    ));
                }
            }
        }
        Ok(())
    }
}

impl MarketSpec {
    /// Checks the values.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the field (`market.hourly[3]`, ...).
    pub fn validate(&self, start: Date, days: u32) -> Result<()> {
        let n = self.position_effects.len();
        if n == 0 || n > MAX_SLOTS {
            return Err(Error::invalid(
                "market.position_effects",
                format!("{n} slots"),
                format!("must have 1 to {MAX_SLOTS} slots"),
            ));
        }
        for (i, &e) in self.position_effects.iter().enumerate() {
            if !(e > 0.0 && e <= 1.0) {
                return Err(Error::invalid(
                    format!("market.position_effects[{i}]"),
                    e,
                    "must be in (0, 1]",
                ));
            }
        }
        if self.reserve.is_negative() {
            return Err(Error::invalid(
                "market.reserve",
                self.reserve,
                "must be >= 0",
            ));
        }
        if self.increment.is_negative() {
            return Err(Error::invalid(
                "market.increment",
                self.increment,
                "must be >= 0",
            ));
        }
        curve_check("market.hourly", &self.hourly, 24)?;
        curve_check("market.weekly", &self.weekly, 7)?;
        for (name, e) in [
            ("exact", self.match_effects.exact),
            ("phrase", self.match_effects.phrase),
            ("broad", self.match_effects.broad),
        ] {
            for (f, v) in [("volume", e.volume), ("ctr", e.ctr), ("cvr", e.cvr)] {
                if !(v > 0.0 && v <= 100.0) {
                    return Err(Error::invalid(
                        format!("market.match_effects.{name}.{f}"),
                        v,
                        "must be in (0, 100]",
                    ));
                }
            }
        }
        // Day arithmetic in i64: event lengths are bounded, but nothing here may overflow.
        let (h0, h1) = (
            i64::from(start.days()),
            i64::from(start.days()) + i64::from(days),
        );
        for (list, n, max) in [
            ("market.events", self.events.len(), MAX_EVENTS),
            (
                "market.weekday_profiles",
                self.weekday_profiles.len(),
                MAX_EVENTS,
            ),
            ("market.launches", self.launches.len(), MAX_KEYWORDS),
        ] {
            if n > max {
                return Err(Error::invalid(
                    list,
                    format!("{n} entries"),
                    format!("must have at most {max}"),
                ));
            }
        }
        for (i, e) in self.events.iter().enumerate() {
            let at = format!("market.events[{i}]");
            let (e0, e1) = (
                i64::from(e.start().days()),
                i64::from(e.start().days()) + i64::from(e.days()),
            );
            if e1 <= h0 || e0 >= h1 {
                return Err(Error::invalid(
                    format!("{at}.date"),
                    e.start(),
                    format!("does not overlap the horizon {start} + {days} days"),
                ));
            }
        }
        for (i, p) in self.weekday_profiles.iter().enumerate() {
            p.validate(&format!("market.weekday_profiles[{i}]"))?;
        }
        for (i, l) in self.launches.iter().enumerate() {
            let at = format!("market.launches[{i}]");
            if l.plan.is_some() == l.keyword.is_some() {
                return Err(Error::invalid(
                    at,
                    "plan and keyword",
                    "must name exactly one of plan and keyword",
                ));
            }
            if let Some(end) = l.end
                && end <= l.start
            {
                return Err(Error::invalid(
                    format!("{at}.end"),
                    end,
                    format!("must be after start {}", l.start),
                ));
            }
        }
        Ok(())
    }
}

fn curve_check(field: &str, v: &[f64], len: usize) -> Result<()> {
    if v.len() != len {
        return Err(Error::invalid(
            field,
            format!("{} values", v.len()),
            format!("must have exactly {len} values"),
        ));
    }
    for (i, &x) in v.iter().enumerate() {
        check_non_negative(format!("{field}[{i}]"), x)?;
    }
    if !(v.iter().sum::<f64>() > 0.0) {
        return Err(Error::invalid(
            field,
            "all zero",
            "must have a positive value",
        ));
    }
    Ok(())
}

/// Expected outcomes of one keyword-hour (or any sum of them). Money in currency units.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Expected {
    /// Queries whose auction the ad enters.
    pub auctions: f64,
    /// Impressions.
    pub impressions: f64,
    /// Clicks.
    pub clicks: f64,
    /// Cost, currency units.
    pub cost: f64,
    /// Conversions.
    pub conversions: f64,
    /// Revenue, currency units.
    pub revenue: f64,
}

impl Expected {
    /// The outcomes with a creative whose CTR and CVR multipliers are `(ctr, cvr)` served:
    /// the same impressions, clicks (and their cost) times `ctr`, conversions and revenue
    /// times `ctr x cvr`.
    pub fn with_creative(self, (ctr, cvr): (f64, f64)) -> Expected {
        Expected {
            clicks: self.clicks * ctr,
            cost: self.cost * ctr,
            conversions: self.conversions * ctr * cvr,
            revenue: self.revenue * ctr * cvr,
            ..self
        }
    }

    /// Adds `o` into `self`.
    pub fn add(&mut self, o: &Expected) {
        self.auctions += o.auctions;
        self.impressions += o.impressions;
        self.clicks += o.clicks;
        self.cost += o.cost;
        self.conversions += o.conversions;
        self.revenue += o.revenue;
    }
}

/// Per auction, at a given effective bid and rival factor: the chance of each slot and the
/// mean price per click in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AuctionCurve {
    /// P(our ad gets slot j).
    pub slot_prob: [f64; MAX_SLOTS],
    /// Mean price per click in slot j, micros.
    pub price: [f64; MAX_SLOTS],
}

/// What a keyword's rates depend on for one day (see `Truth::keyword_day`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct KeywordDay {
    pub live: bool,
    pub factors: DayFactors,
    pub drift: (f64, f64, f64),
}

/// Resolved, per-keyword values used in the hot loops (match effects folded in).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KeywordModel {
    pub volume: f64,
    pub ctr: f64,
    pub cvr: f64,
    pub aov: f64,
    pub aov_sigma: f64,
    pub quality: f64,
    pub landscape: CompetitorLandscape,
    pub plan: usize,
    /// Index of the keyword's factor group (0: the whole account's factors).
    pub group: usize,
    /// Day indexes in which the keyword exists: `live.0 <= day < live.1`.
    pub live: (u32, u32),
    /// Its queries in [`Truth::query_models`] (empty: the keyword is its only query).
    pub queries: std::ops::Range<usize>,
    /// Share of its volume not blocked by the plan's own negatives (1 without queries).
    pub open_share: f64,
    /// CTR and CVR scale of the open queries' mix over the keyword's own rates (1, 1
    /// without queries): what the response curve uses.
    pub mix: (f64, f64),
}

/// One query of a keyword's stream, resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueryModel {
    /// Share of the keyword's volume (the weights normalised).
    pub share: f64,
    /// CTR scale over the keyword's CTR.
    pub ctr_scale: f64,
    /// CVR scale over the keyword's CVR.
    pub cvr_scale: f64,
    /// Tokens of the text, for negative matching.
    pub tokens: Vec<String>,
    /// Whether the plan's own negatives block it.
    pub blocked: bool,
}

/// The validated ground truth of a scenario's market.
#[derive(Debug, Clone, PartialEq)]
pub struct Truth {
    start_date: Date,
    days: u32,
    spec: MarketSpec,
    keywords: Vec<KeywordTruth>,
    pub(crate) models: Vec<KeywordModel>,
    pub(crate) query_models: Vec<QueryModel>,
    schedules: Vec<Schedule>,
    plan_keywords: Vec<std::ops::Range<usize>>,
    hour_share: [f64; 24],
    /// Factors by group and day: `day_factors[group * days + day]`; group 0 is the whole
    /// account's (weekly curve, whole-account events and profiles).
    day_factors: Vec<DayFactors>,
    /// A day with rival factor 1 (for sizing budgets on a plain day).
    plain_day: u32,
    /// v^(1/m) at the quadrature points, for m = 1..=MAX_RIVALS.
    vpow: Vec<[f64; PRICE_POINTS]>,
    /// The creatives' truths as given.
    creatives: Vec<CreativeTruth>,
    /// Per plan, per account creative: (CTR, CVR) multipliers.
    creative_mult: Vec<Vec<(f64, f64)>>,
}

impl Truth {
    /// Builds the truth for `account` (validated); `keywords` must hold exactly one truth per
    /// account keyword, in any order.
    ///
    /// # Errors
    /// Any validation error of the market or a keyword, [`Error::UnknownId`] for a truth
    /// of an unknown keyword, [`Error::DuplicateId`] for two truths of one keyword, and
    /// [`Error::InvalidValue`] on `keywords` for a keyword without truth.
    pub fn new(
        account: &Account,
        start_date: Date,
        days: u32,
        spec: MarketSpec,
        keywords: Vec<KeywordTruth>,
    ) -> Result<Self> {
        if days == 0 || days > MAX_DAYS {
            return Err(Error::invalid(
                "days",
                days,
                format!("must be in 1..={MAX_DAYS}"),
            ));
        }
        spec.validate(start_date, days)?;
        let n = account.keyword_count();
        check_size(n, days)?;
        for (i, p) in account.plans().iter().enumerate() {
            if p.keywords.is_empty() {
                return Err(Error::invalid(
                    format!("plans[{i}].keywords"),
                    format!("plan {}", p.id),
                    "a simulated plan needs at least one keyword",
                ));
            }
        }
        for e in &spec.events {
            e.scope().check_ids(account.plans())?;
        }
        for p in &spec.weekday_profiles {
            p.scope.check_ids(account.plans())?;
        }
        let mut slot: Vec<Option<KeywordTruth>> = vec![None; n];
        let mut flat_index = Vec::with_capacity(account.plans().len());
        let mut next = 0usize;
        for p in account.plans() {
            flat_index.push(next);
            next += p.keywords.len();
        }
        if keywords.len() > n {
            return Err(Error::invalid(
                "keywords",
                format!("{} truths", keywords.len()),
                format!("the account has {n} keywords"),
            ));
        }
        for (i, t) in keywords.into_iter().enumerate() {
            t.validate(&format!("keywords[{i}]"))?;
            let (pi, kj) = account
                .keyword_pos(&t.keyword)
                .ok_or_else(|| Error::UnknownId {
                    kind: "keyword",
                    id: t.keyword.to_string(),
                })?;
            let f = flat_index[pi] + kj;
            if slot[f].is_some() {
                return Err(Error::DuplicateId {
                    kind: "keyword truth",
                    id: t.keyword.to_string(),
                });
            }
            slot[f] = Some(t);
        }
        let live = launch_windows(account, &spec.launches, start_date, days)?;
        let (groups, day_factors) = factor_groups(account, &spec, start_date, days)?;
        let mut truths = Vec::with_capacity(n);
        let mut models = Vec::with_capacity(n);
        let mut query_models = Vec::new();
        let mut plan_keywords = Vec::new();
        let mut f = 0;
        for (pi, p) in account.plans().iter().enumerate() {
            let start = f;
            for k in &p.keywords {
                let t = slot[f].take().ok_or_else(|| {
                    Error::invalid(
                        "keywords",
                        format!("keyword {}", k.id),
                        "every account keyword needs a truth entry",
                    )
                })?;
                let m = spec.match_effects.get(k.match_type);
                let (ctr, cvr) = ((t.ctr * m.ctr).min(1.0), (t.cvr * m.cvr).min(1.0));
                let q0 = query_models.len();
                let (open_share, mix) = resolve_queries(&t, k, p, ctr, cvr, f, &mut query_models)?;
                models.push(KeywordModel {
                    volume: t.volume * m.volume,
                    ctr,
                    cvr,
                    aov: t.aov,
                    aov_sigma: t.aov_sigma,
                    quality: t.quality,
                    landscape: CompetitorLandscape::new(
                        t.competitors.count,
                        t.competitors.bid_median * 1e6,
                        t.competitors.bid_sigma,
                        t.competitors.quality,
                    ),
                    plan: pi,
                    group: groups[f],
                    live: live[f],
                    queries: q0..query_models.len(),
                    open_share,
                    mix,
                });
                truths.push(t);
                f += 1;
            }
            plan_keywords.push(start..f);
        }
        let hsum: f64 = spec.hourly.iter().sum();
        let mut hour_share = [0.0; 24];
        for (h, s) in hour_share.iter_mut().enumerate() {
            *s = spec.hourly[h] / hsum;
        }
        let plain_day = day_factors[..days as usize]
            .iter()
            .position(|f: &DayFactors| (f.competitor_bid - 1.0).abs() < 1e-12)
            .unwrap_or(0) as u32;
        let vpow = (1..=MAX_RIVALS)
            .map(|m| {
                let mut a = [0.0; PRICE_POINTS];
                for (i, x) in a.iter_mut().enumerate() {
                    *x = ((i as f64 + 0.5) / PRICE_POINTS as f64).powf(1.0 / m as f64);
                }
                a
            })
            .collect();
        Ok(Truth {
            start_date,
            days,
            spec,
            keywords: truths,
            models,
            query_models,
            schedules: account.plans().iter().map(|p| p.schedule).collect(),
            plan_keywords,
            hour_share,
            day_factors,
            plain_day,
            vpow,
            creatives: Vec::new(),
            creative_mult: account
                .plans()
                .iter()
                .map(|p| vec![(1.0, 1.0); p.creatives.len()])
                .collect(),
        })
    }

    /// The truth with creatives' CTR and CVR multipliers (at most one entry per account
    /// creative; those without one have multipliers 1).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a multiplier out of range, [`Error::UnknownId`] for an
    /// unknown creative, [`Error::DuplicateId`] for two entries of one creative.
    pub fn with_creatives(
        mut self,
        account: &Account,
        creatives: Vec<CreativeTruth>,
    ) -> Result<Self> {
        let mut mult: Vec<Vec<Option<(f64, f64)>>> = account
            .plans()
            .iter()
            .map(|p| vec![None; p.creatives.len()])
            .collect();
        for (n, c) in creatives.iter().enumerate() {
            c.validate(&format!("creatives[{n}]"))?;
            let (i, j) = account
                .creative_pos(&c.creative)
                .ok_or_else(|| Error::UnknownId {
                    kind: "creative",
                    id: c.creative.to_string(),
                })?;
            if mult[i][j].replace((c.ctr, c.cvr)).is_some() {
                return Err(Error::DuplicateId {
                    kind: "creative truth",
                    id: c.creative.to_string(),
                });
            }
        }
        self.creative_mult = mult
            .into_iter()
            .map(|p| p.into_iter().map(|m| m.unwrap_or((1.0, 1.0))).collect())
            .collect();
        self.creatives = creatives;
        Ok(self)
    }

    /// The creatives' truths as given.
    pub fn creatives(&self) -> &[CreativeTruth] {
        &self.creatives
    }

    /// Plan `p`'s creatives' (CTR, CVR) multipliers, in the account's order.
    pub fn creative_multipliers(&self, p: usize) -> &[(f64, f64)] {
        self.creative_mult.get(p).map_or(&[], Vec::as_slice)
    }

    /// The index of plan `p`'s truly best creative by CTR x CVR multiplier (by CTR when
    /// `clicks_only`), among all its creatives; `None` for a plan without creatives.
    pub fn best_creative(&self, p: usize, clicks_only: bool) -> Option<usize> {
        let m = self.creative_multipliers(p);
        let v = |x: &(f64, f64)| if clicks_only { x.0 } else { x.0 * x.1 };
        (0..m.len()).max_by(|&a, &b| v(&m[a]).total_cmp(&v(&m[b])).then(b.cmp(&a)))
    }

    /// The CTR and CVR multipliers of plan `p`'s truly best creative ([`Truth::best_creative`]);
    /// `(1, 1)` for a plan without creatives.
    pub fn best_creative_factors(&self, p: usize, clicks_only: bool) -> (f64, f64) {
        self.best_creative(p, clicks_only)
            .and_then(|c| self.creative_multipliers(p).get(c).copied())
            .unwrap_or((1.0, 1.0))
    }

    /// Rotation weights that serve only plan `p`'s truly best creative (what an oracle
    /// serves); empty for a plan without creatives.
    pub fn best_creative_weights(&self, p: usize, clicks_only: bool) -> Vec<f64> {
        let n = self.creative_multipliers(p).len();
        let best = self.best_creative(p, clicks_only);
        (0..n)
            .map(|c| if Some(c) == best { 1.0 } else { 0.0 })
            .collect()
    }

    /// First day of the horizon.
    pub fn start_date(&self) -> Date {
        self.start_date
    }
    /// Days in the horizon.
    pub fn days(&self) -> u32 {
        self.days
    }
    /// The market rules and calendar.
    pub fn market(&self) -> &MarketSpec {
        &self.spec
    }
    /// Each keyword's truth, in account order (plans in order, keywords flattened).
    pub fn keywords(&self) -> &[KeywordTruth] {
        &self.keywords
    }
    /// Number of keywords.
    pub fn keyword_count(&self) -> usize {
        self.models.len()
    }
    /// Number of plans.
    pub fn plan_count(&self) -> usize {
        self.plan_keywords.len()
    }
    /// Flat keyword indexes of plan `p`.
    pub fn plan_keywords(&self, p: usize) -> std::ops::Range<usize> {
        self.plan_keywords[p].clone()
    }
    /// The plan index of keyword `k`.
    pub fn keyword_plan(&self, k: usize) -> usize {
        self.models[k].plan
    }
    /// Share of a day's traffic in `hour` (the shares sum to 1).
    pub fn hour_share(&self, hour: u8) -> f64 {
        self.hour_share[hour as usize % 24]
    }
    /// The whole account's calendar multipliers of `day` (0-based): the weekly curve, the
    /// whole-account events and weekday profiles. A keyword inside a scoped event or profile
    /// has its own: [`Truth::keyword_factors`].
    pub fn day_factors(&self, day: u32) -> DayFactors {
        self.day_factors[(day.min(self.days - 1)) as usize]
    }
    /// The calendar multipliers of keyword `k` on `day` (0-based): the weekly curve and
    /// every event and weekday profile whose scope covers it (drift and launches are
    /// separate: [`Truth::drift`], [`Truth::is_live`]).
    pub fn keyword_factors(&self, k: usize, day: u32) -> DayFactors {
        self.group_factors(self.models[k].group, day)
    }
    /// The calendar multipliers of factor group `g` on `day` (those of its keywords).
    pub(crate) fn group_factors(&self, g: usize, day: u32) -> DayFactors {
        self.day_factors[g * self.days as usize + (day.min(self.days - 1)) as usize]
    }
    /// Whether keyword `k` drifts (otherwise [`Truth::drift`] is 1, 1, 1 every day).
    pub(crate) fn has_drift(&self, k: usize) -> bool {
        self.keywords[k].drift.is_some()
    }
    /// Whether keyword `k` exists on `day` (launched and not ended; its plan too).
    pub fn is_live(&self, k: usize, day: u32) -> bool {
        let (a, b) = self.models[k].live;
        a <= day && day < b
    }
    /// The day indexes in which keyword `k` exists: `start..end` (the whole horizon
    /// unless a launch says otherwise; empty if it never exists within it).
    pub fn live_days(&self, k: usize) -> std::ops::Range<u32> {
        let (a, b) = self.models[k].live;
        a..b.max(a)
    }
    /// Number of slots.
    pub fn slots(&self) -> usize {
        self.spec.position_effects.len()
    }
    /// The rivals of keyword `k`.
    pub fn landscape(&self, k: usize) -> &CompetitorLandscape {
        &self.models[k].landscape
    }

    /// Drift factors (volume, ctr, cvr) of keyword `k` on `day`.
    pub fn drift(&self, k: usize, day: u32) -> (f64, f64, f64) {
        match &self.keywords[k].drift {
            None => (1.0, 1.0, 1.0),
            Some(d) => {
                let w = if day <= d.from_day {
                    0.0
                } else if day >= d.to_day {
                    1.0
                } else {
                    f64::from(day - d.from_day) / f64::from(d.to_day - d.from_day)
                };
                (d.volume.powf(w), d.ctr.powf(w), d.cvr.powf(w))
            }
        }
    }

    /// Expected queries matching keyword `k` in `hour` of `day` (match type, weekday,
    /// events and drift applied).
    ///
    /// Zero on a day the keyword does not exist (before its launch, after its end).
    pub fn queries(&self, k: usize, day: u32, hour: u8) -> f64 {
        self.queries_kd(k, &self.keyword_day(k, day), hour)
    }

    /// True CTR of keyword `k` in slot `slot` on `day`.
    pub fn ctr(&self, k: usize, slot: usize, day: u32) -> f64 {
        self.ctr_kd(k, &self.keyword_day(k, day), None, slot)
    }

    /// What keyword `k`'s rates depend on for `day`, looked up once (the hot loops take
    /// them per keyword-hour).
    pub(crate) fn keyword_day(&self, k: usize, day: u32) -> KeywordDay {
        KeywordDay {
            live: self.is_live(k, day),
            factors: self.keyword_factors(k, day),
            drift: self.drift(k, day),
        }
    }

    /// [`Truth::queries`] from a [`KeywordDay`].
    pub(crate) fn queries_kd(&self, k: usize, kd: &KeywordDay, hour: u8) -> f64 {
        let m = &self.models[k];
        let q = self.base_queries_kd(k, kd, hour);
        // Without a query stream the share is 1 and is not multiplied in (bit-identical).
        if m.queries.is_empty() {
            q
        } else {
            q * m.open_share
        }
    }

    /// Expected queries of keyword `k` in an hour before any negative blocks one (the
    /// whole stream).
    pub(crate) fn base_queries_kd(&self, k: usize, kd: &KeywordDay, hour: u8) -> f64 {
        if !kd.live {
            return 0.0;
        }
        self.models[k].volume * self.hour_share(hour) * kd.factors.traffic * kd.drift.0
    }

    /// CTR in `slot` of keyword `k`, or of one of its queries of CTR scale `scale`.
    pub(crate) fn ctr_kd(&self, k: usize, kd: &KeywordDay, scale: Option<f64>, slot: usize) -> f64 {
        let pe = self.spec.position_effects.get(slot).copied().unwrap_or(0.0);
        let m = &self.models[k];
        let base = match scale {
            Some(s) => m.ctr * s,
            None if m.queries.is_empty() => m.ctr,
            None => m.ctr * m.mix.0,
        };
        (base * kd.drift.1 * kd.factors.ctr * pe).min(1.0)
    }

    /// CVR of keyword `k`, or of one of its queries of CVR scale `scale`.
    pub(crate) fn cvr_kd(&self, k: usize, kd: &KeywordDay, scale: Option<f64>) -> f64 {
        let m = &self.models[k];
        let base = match scale {
            Some(s) => m.cvr * s,
            None if m.queries.is_empty() => m.cvr,
            None => m.cvr * m.mix.1,
        };
        (base * kd.drift.2 * kd.factors.cvr).min(1.0)
    }

    /// Keyword `k`'s search queries (empty: the keyword is its only query).
    pub fn keyword_queries(&self, k: usize) -> &[QueryTruth] {
        &self.keywords[k].queries
    }

    /// True CVR of keyword `k` on `day`.
    pub fn cvr(&self, k: usize, day: u32) -> f64 {
        self.cvr_kd(k, &self.keyword_day(k, day), None)
    }

    /// True mean order value of keyword `k` before calendar factors, currency units.
    pub fn aov(&self, k: usize) -> f64 {
        self.models[k].aov
    }

    /// True mean order value of keyword `k` on `day` (calendar factors applied).
    pub fn aov_on(&self, k: usize, day: u32) -> f64 {
        self.models[k].aov * self.keyword_factors(k, day).aov
    }

    /// Per auction of keyword `k`, entered at `bid_micros` on `day`: slot chances and mean
    /// prices (the keyword's rival factor that day applied). A bid below the reserve wins
    /// nothing.
    pub fn curve(&self, k: usize, bid_micros: i64, day: u32) -> AuctionCurve {
        self.curve_with(k, bid_micros, self.keyword_factors(k, day).competitor_bid)
    }

    /// As [`Truth::curve`], with every rival's bid multiplied by `f`.
    pub fn curve_with(&self, k: usize, bid_micros: i64, f: f64) -> AuctionCurve {
        let mut out = AuctionCurve {
            slot_prob: [0.0; MAX_SLOTS],
            price: [0.0; MAX_SLOTS],
        };
        let reserve = self.spec.reserve.micros();
        if bid_micros <= 0 || bid_micros < reserve {
            return out;
        }
        let m = &self.models[k];
        let l = &m.landscape;
        let inc = self.spec.increment.micros();
        let score = bid_micros as f64 * m.quality / f;
        let floor = reserve as f64 * l.quality / f;
        let t = score.max(floor);
        let ft = l.cdf(t);
        let q = 1.0 - ft;
        let n = l.count as usize;
        let slots = self.slots();
        // Binomial(n, q) pmf for j = 0..slots.
        let mut c = 1.0; // C(n, j)
        for j in 0..slots.min(n + 1) {
            let pj = c * q.powi(j as i32) * (1.0 - q).powi((n - j) as i32);
            out.slot_prob[j] = pj;
            let below = n - j;
            out.price[j] = if below == 0 || ft <= 0.0 || score < floor {
                reserve.min(bid_micros) as f64
            } else {
                let vp = &self.vpow[below - 1];
                let mut s = 0.0;
                for &v in vp {
                    let x = l.quantile(ft * v);
                    let next = (x >= floor).then_some(x * f);
                    s += gsp_price(bid_micros, m.quality, next, reserve, inc) as f64;
                }
                s / PRICE_POINTS as f64
            };
            c = c * (n - j) as f64 / (j + 1) as f64;
        }
        out
    }

    /// The plan schedule's multiplier for keyword `k` in `hour`.
    pub fn schedule_multiplier(&self, k: usize, hour: u8) -> f64 {
        self.schedules[self.models[k].plan].multiplier(hour as usize)
    }

    /// Expected outcomes of keyword `k` in `hour` of `day` when it enters a fraction
    /// `throttle` of its auctions at effective bid `bid_micros` (multipliers already applied;
    /// the budget is ignored).
    pub fn expected_at(
        &self,
        k: usize,
        bid_micros: i64,
        day: u32,
        hour: u8,
        throttle: f64,
    ) -> Expected {
        let lam = self.queries(k, day, hour) * throttle;
        if !(lam > 0.0) {
            return Expected::default();
        }
        let c = self.curve(k, bid_micros, day);
        self.expected_from_curve(k, &c, lam, day)
    }

    pub(crate) fn expected_from_curve(
        &self,
        k: usize,
        c: &AuctionCurve,
        lam: f64,
        day: u32,
    ) -> Expected {
        let mut imp = 0.0;
        let mut clicks = 0.0;
        let mut cost = 0.0;
        for j in 0..self.slots() {
            let ctr = self.ctr(k, j, day);
            imp += c.slot_prob[j];
            clicks += c.slot_prob[j] * ctr;
            cost += c.slot_prob[j] * ctr * c.price[j];
        }
        let cvr = self.cvr(k, day);
        let conv = clicks * cvr * lam;
        Expected {
            auctions: lam,
            impressions: imp * lam,
            clicks: clicks * lam,
            cost: cost * lam / 1e6,
            conversions: conv,
            revenue: conv * self.aov_on(k, day),
        }
    }

    /// Keyword `k`'s open queries (those the plan's own negatives leave), best converting
    /// first (ties in stream order), as indexes into [`Truth::keyword_queries`]. Empty for a
    /// keyword without a query stream. A query's clicks cost what the keyword's clicks cost
    /// (one auction, one bid), so at any bid its value per unit of cost orders as its CVR
    /// scale: the subsets a budget-constrained optimum keeps are prefixes of this order.
    pub fn open_queries_by_value(&self, k: usize) -> Vec<usize> {
        let m = &self.models[k];
        let mut open: Vec<usize> = m
            .queries
            .clone()
            .filter(|&qi| !self.query_models[qi].blocked)
            .map(|qi| qi - m.queries.start)
            .collect();
        let q = &self.query_models[m.queries.clone()];
        open.sort_by(|&a, &b| q[b].cvr_scale.total_cmp(&q[a].cvr_scale).then(a.cmp(&b)));
        open
    }

    /// Expected outcomes of the queries `subset` (indexes into [`Truth::keyword_queries`])
    /// of keyword `k` on `day`, per auction curve `c`, with `base` expected queries of the
    /// keyword's whole stream (before any negative): each query with its own CTR and CVR.
    pub fn expected_queries(
        &self,
        k: usize,
        c: &AuctionCurve,
        base: f64,
        day: u32,
        subset: &[usize],
    ) -> Expected {
        let kd = self.keyword_day(k, day);
        let m = &self.models[k];
        let aov = self.aov_on(k, day);
        let mut e = Expected::default();
        for &j in subset {
            let Some(q) = self.query_models.get(m.queries.start + j) else {
                continue;
            };
            if m.queries.start + j >= m.queries.end {
                continue;
            }
            let lam = base * q.share;
            let (mut imp, mut clicks, mut cost) = (0.0, 0.0, 0.0);
            for s in 0..self.slots() {
                let ctr = self.ctr_kd(k, &kd, Some(q.ctr_scale), s);
                imp += c.slot_prob[s];
                clicks += c.slot_prob[s] * ctr;
                cost += c.slot_prob[s] * ctr * c.price[s];
            }
            let conv = clicks * self.cvr_kd(k, &kd, Some(q.cvr_scale)) * lam;
            e.add(&Expected {
                auctions: lam,
                impressions: imp * lam,
                clicks: clicks * lam,
                cost: cost * lam / 1e6,
                conversions: conv,
                revenue: conv * aov,
            });
        }
        e
    }

    /// Keyword `k`'s open share of its stream's volume (1 without a query stream): what
    /// [`Truth::queries`] multiplies the whole stream's volume by.
    pub fn open_share(&self, k: usize) -> f64 {
        self.models[k].open_share
    }

    /// Expected outcomes of keyword `k` in `hour` of `day` at keyword bid `bid`, with its
    /// plan's schedule multiplier applied (zero in dark hours) and no throttle or budget.
    pub fn expected(&self, k: usize, bid: Money, day: u32, hour: u8) -> Expected {
        let m = self.schedule_multiplier(k, hour);
        if !(m > 0.0) {
            return Expected::default();
        }
        let eff = (bid.micros() as f64 * m).round() as i64;
        self.expected_at(k, eff, day, hour, 1.0)
    }

    /// Expected daily spend of the whole account at its current bids on a plain day (no
    /// event, average weekday, no drift): the demand the budgets are compared with.
    pub fn plain_day_demand(&self, account: &Account) -> Vec<f64> {
        let mut out = vec![0.0; account.plans().len()];
        for (pi, p) in account.plans().iter().enumerate() {
            if p.status != Status::Active {
                continue;
            }
            for (j, kw) in p.keywords.iter().enumerate() {
                if kw.status != Status::Active {
                    continue;
                }
                let k = self.plan_keywords[pi].start + j;
                let mut last: Option<(i64, AuctionCurve)> = None;
                for h in 0..24u8 {
                    let mult = p.schedule.multiplier(h as usize);
                    if !(mult > 0.0) {
                        continue;
                    }
                    let eff = (kw.bid.micros() as f64 * mult).round() as i64;
                    let c = match last {
                        Some((b, c)) if b == eff => c,
                        _ => {
                            let c = self.plain_curve(k, eff);
                            last = Some((eff, c));
                            c
                        }
                    };
                    let lam = self.models[k].volume * self.hour_share[h as usize];
                    let mut cost = 0.0;
                    for jj in 0..self.slots() {
                        let ctr = (self.models[k].ctr * self.spec.position_effects[jj]).min(1.0);
                        cost += c.slot_prob[jj] * ctr * c.price[jj];
                    }
                    out[pi] += cost * lam / 1e6;
                }
            }
        }
        out
    }

    fn plain_curve(&self, k: usize, eff: i64) -> AuctionCurve {
        self.curve_with(k, eff, self.day_factors(self.plain_day).competitor_bid)
    }
}

fn check_size(keywords: usize, days: u32) -> Result<()> {
    if keywords > MAX_KEYWORDS {
        return Err(Error::invalid(
            "keywords",
            format!("{keywords} keywords"),
            format!("must be at most {MAX_KEYWORDS}"),
        ));
    }
    let cells = keywords as u64 * u64::from(days);
    if cells > MAX_KEYWORD_DAYS {
        return Err(Error::invalid(
            "days",
            format!("{days} days x {keywords} keywords"),
            format!("keyword-days must be at most {MAX_KEYWORD_DAYS}"),
        ));
    }
    Ok(())
}

/// Day index of `d` in a horizon from `start` of `days` days, clamped to `0..=days`.
fn day_index(start: Date, days: u32, d: Date) -> u32 {
    let i = i64::from(d.days()) - i64::from(start.days());
    i.clamp(0, i64::from(days)) as u32
}

/// Each keyword's live window (day indexes), from the launches of it and of its plan.
fn launch_windows(
    account: &Account,
    launches: &[Launch],
    start: Date,
    days: u32,
) -> Result<Vec<(u32, u32)>> {
    let mut plan_live = vec![(0, days); account.plans().len()];
    let mut kw_live = vec![(0, days); account.keyword_count()];
    let mut offset = Vec::with_capacity(account.plans().len());
    let mut next = 0;
    for p in account.plans() {
        offset.push(next);
        next += p.keywords.len();
    }
    for (i, l) in launches.iter().enumerate() {
        let w = (
            day_index(start, days, l.start),
            l.end.map_or(days, |e| day_index(start, days, e)),
        );
        let at = || format!("market.launches[{i}]");
        let dup = |id: &str| Error::DuplicateId {
            kind: "launch",
            id: id.to_owned(),
        };
        if let Some(pid) = &l.plan {
            let pi = account.plan_pos(pid).ok_or_else(|| Error::UnknownId {
                kind: "plan",
                id: format!("{pid} (at {})", at()),
            })?;
            if plan_live[pi] != (0, days) {
                return Err(dup(pid.as_str()));
            }
            plan_live[pi] = w;
        }
        if let Some(kid) = &l.keyword {
            let (pi, j) = account.keyword_pos(kid).ok_or_else(|| Error::UnknownId {
                kind: "keyword",
                id: format!("{kid} (at {})", at()),
            })?;
            let f = offset[pi] + j;
            if kw_live[f] != (0, days) {
                return Err(dup(kid.as_str()));
            }
            kw_live[f] = w;
        }
    }
    for (pi, p) in account.plans().iter().enumerate() {
        for j in 0..p.keywords.len() {
            let (a, b) = kw_live[offset[pi] + j];
            let (c, d) = plan_live[pi];
            kw_live[offset[pi] + j] = (a.max(c), b.min(d));
        }
    }
    Ok(kw_live)
}

/// Groups keywords by the scoped calendar items that cover them and computes each group's
/// factors by day. Returns each keyword's group and the factors (`[group * days + day]`).
fn factor_groups(
    account: &Account,
    spec: &MarketSpec,
    start: Date,
    days: u32,
) -> Result<(Vec<usize>, Vec<DayFactors>)> {
    use std::collections::HashMap;
    let scoped_events: Vec<usize> = (0..spec.events.len())
        .filter(|&i| !spec.events[i].scope().is_account())
        .collect();
    let scoped_profiles: Vec<usize> = (0..spec.weekday_profiles.len())
        .filter(|&i| !spec.weekday_profiles[i].scope.is_account())
        .collect();
    // A keyword's signature: which scoped events and profiles cover it.
    let mut signatures: HashMap<(Vec<usize>, Vec<usize>), usize> = HashMap::new();
    signatures.insert((Vec::new(), Vec::new()), 0);
    let mut order = vec![(Vec::new(), Vec::new())];
    let mut groups = Vec::with_capacity(account.keyword_count());
    for p in account.plans() {
        for k in &p.keywords {
            let e: Vec<usize> = scoped_events
                .iter()
                .copied()
                .filter(|&i| spec.events[i].scope().covers(p, k))
                .collect();
            let w: Vec<usize> = scoped_profiles
                .iter()
                .copied()
                .filter(|&i| spec.weekday_profiles[i].scope.covers(p, k))
                .collect();
            let next = order.len();
            let g = *signatures.entry((e.clone(), w.clone())).or_insert(next);
            if g == next {
                order.push((e, w));
            }
            groups.push(g);
        }
    }
    let cells = order.len() as u64 * u64::from(days);
    if cells > MAX_KEYWORD_DAYS {
        return Err(Error::invalid(
            "market.events",
            format!("{} keyword groups x {days} days", order.len()),
            format!("scoped factors must fit {MAX_KEYWORD_DAYS} group-days"),
        ));
    }
    let wmean: f64 = spec.weekly.iter().sum::<f64>() / 7.0;
    let mut factors = Vec::with_capacity(cells as usize);
    for (ev, pr) in &order {
        for d in 0..days {
            let date = start.add_days(d as i32);
            let mut df = DayFactors {
                traffic: spec.weekly[date.weekday() as usize] / wmean,
                ..DayFactors::NORMAL
            };
            for (i, e) in spec.events.iter().enumerate() {
                if e.scope().is_account() || ev.contains(&i) {
                    e.apply(date, &mut df);
                }
            }
            for (i, p) in spec.weekday_profiles.iter().enumerate() {
                if p.scope.is_account() || pr.contains(&i) {
                    p.apply(date, &mut df);
                }
            }
            factors.push(df);
        }
    }
    Ok((groups, factors))
}

/// Resolves keyword `k`'s query stream into `out`: each query's share and rate scales, and
/// whether the plan's own negatives block it. Returns the open share of the volume and the
/// open mix's CTR and CVR scales (so [`Truth::queries`], [`Truth::ctr`] and [`Truth::cvr`]
/// describe the keyword's whole open stream: clicks weighted by CTR, conversions by clicks).
fn resolve_queries(
    t: &KeywordTruth,
    k: &crate::model::Keyword,
    p: &crate::model::Plan,
    ctr: f64,
    cvr: f64,
    flat: usize,
    out: &mut Vec<QueryModel>,
) -> Result<(f64, (f64, f64))> {
    use crate::model::matching::{matches_tokens, tokenize};
    if t.queries.is_empty() {
        return Ok((1.0, (1.0, 1.0)));
    }
    let ktok = tokenize(&k.text);
    let negs: Vec<(Vec<String>, MatchType)> = p
        .negative_keywords
        .iter()
        .map(|n| (tokenize(&n.text), n.match_type))
        .collect();
    let total: f64 = t.queries.iter().map(|q| q.weight).sum();
    let (mut open, mut w_ctr, mut w_conv) = (0.0, 0.0, 0.0);
    for (j, q) in t.queries.iter().enumerate() {
        let tokens = tokenize(&q.text);
        if !matches_tokens(&ktok, k.match_type, &tokens) {
            return Err(Error::invalid(
                format!("keywords[{flat}].queries[{j}].text"),
                format!("{:?}", q.text),
                format!("does not match keyword {} ({:?})", k.id, k.match_type),
            ));
        }
        let share = q.weight / total;
        // Rates are capped at 1: a factor that would pass it is cut to what reaches 1.
        let cap = |f: f64, base: f64| if base * f > 1.0 { 1.0 / base } else { f };
        let (cs, vs) = (cap(q.ctr_factor, ctr), cap(q.cvr_factor, cvr));
        let blocked = negs.iter().any(|(n, m)| matches_tokens(n, *m, &tokens));
        if !blocked {
            open += share;
            w_ctr += share * cs;
            w_conv += share * cs * vs;
        }
        out.push(QueryModel {
            share,
            ctr_scale: cs,
            cvr_scale: vs,
            tokens,
            blocked,
        });
    }
    let mix_ctr = if open > 0.0 { w_ctr / open } else { 1.0 };
    let mix_cvr = if w_ctr > 0.0 { w_conv / w_ctr } else { 1.0 };
    Ok((open, (mix_ctr, mix_cvr)))
}

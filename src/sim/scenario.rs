//! Scenarios: an account, its market's ground truth and a horizon, as validated JSON.
//!
//! # JSON
//! ```text
//! {
//!   "name": "small", "description": "...",
//!   "start_date": "2026-03-02", "days": 14,
//!   "market": { "position_effects": [1.0, 0.65, 0.45], "reserve": 100000, "increment": 10000,
//!               "hourly": [24 numbers], "weekly": [7 numbers, Monday first],
//!               "match_effects": {"exact": {"volume":1,"ctr":1,"cvr":1}, "phrase": {..}, "broad": {..}},
//!               "events": [{"name": "double 11", "start": "2026-11-11", "days": 1,
//!                           "traffic": 4.0, "cvr": 2.0, "competitor_bid": 1.6},
//!                          {"name": "rival", "start": "2026-11-20", "days": 30,
//!                           "competitor_bid": 1.6, "scope": {"plans": ["p3"]}}],
//!               "weekday_profiles": [{"scope": {"tags": ["office"]}, "cvr": [7 numbers]}],
//!               "launches": [{"plan": "p9", "start": "2026-11-15"}] },
//!   "account": { adbandit::Account JSON },          (optional)
//!   "keywords": [ KeywordTruth, ... ],              (one per account keyword; optional
//!                                                    "queries": [{"text", "weight",
//!                                                    "ctr_factor", "cvr_factor"}])
//!   "generate": { Generator }                        (optional, see below)
//!   "creatives": [{"creative": "c1-img-b", "ctr": 1.3, "cvr": 1.0}, ...]
//!                                                    (optional: the account's creatives'
//!                                                    CTR and CVR multipliers, 1 if absent)
//! }
//! ```
//! Money fields (`reserve`, `increment`, the account's bids and budgets) are integer micros;
//! order values and rival bid medians in the truth are currency units (floats).
//!
//! # The generator block
//! `generate` appends `plans` generated plans of `keywords_per_plan` keywords each to the
//! account (ids `{prefix}{plan}` and `{prefix}{plan}-{keyword}`), with their truths, expanded
//! deterministically from `seed` at load time. Plan `i`'s levels of CTR, CVR and order value
//! are spaced evenly in log between the given `[low, high]` ranges (CTR in one seeded order,
//! CVR and order value in another shared order, so value per click spreads by the product of
//! the two ranges and the CTR ranking is not the value ranking). Each keyword draws its
//! rates around its plan's levels with log-sd `keyword_sigma`, its daily volume from
//! LogNormal(ln `volume_median`, `volume_sigma`), its match type from `match_mix` (weights
//! for exact, phrase, broad), its quality as sqrt(ctr / geometric mid of `plan_ctr`) clamped
//! to [0.3, 3], its rival count uniformly in `rivals` and its rival bid median from
//! LogNormal(ln `rival_bid_median`, `rival_bid_sigma`). Every keyword starts at
//! `initial_bid` (uniform bids: not optimal). Every generated plan gets the same budget:
//! `budget_fraction` x the expected daily spend of the generated plans at those bids on a
//! plain day, split evenly, so with a fraction below 1 the total budget binds. `drift`
//! (optional) ramps each generated plan's CVR between `from_day` and `to_day` so that the
//! value ranking of plans is reversed by the end. `queries` (optional) gives every phrase
//! and broad keyword irrelevant queries ([`GeneratorQueries`]).
//!
//! Events (see [`crate::model::calendar`]) read the older names `date` and `conversion` too;
//! unknown fields are errors in every part; sizes (keywords, keyword-days, event lengths)
//! are bounded before anything is allocated.

use std::path::Path;
use std::sync::Arc;

use rand::RngExt;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check_non_negative, check_positive};
use crate::model::{Account, Date, Keyword, MatchType, Plan, Schedule};
use crate::money::Money;
use crate::rng;
use crate::sim::truth::{
    Competitors, CreativeTruth, Drift, KeywordTruth, MAX_DAYS, MAX_KEYWORD_DAYS, MAX_KEYWORDS,
    MarketSpec, QueryTruth, Truth,
};

/// A seeded block that expands into plans, keywords and their truths; see the module docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generator {
    /// Seed of the expansion.
    pub seed: u64,
    /// Plans to generate.
    pub plans: u32,
    /// Keywords per generated plan.
    pub keywords_per_plan: u32,
    /// Id prefix of generated plans and keywords.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Every keyword's starting bid (micros).
    pub initial_bid: Money,
    /// Plans' lowest allowed bid (micros).
    pub min_bid: Money,
    /// Plans' highest allowed bid (micros).
    pub max_bid: Money,
    /// Total budget of the generated plans / their plain-day demand at the initial bids.
    pub budget_fraction: f64,
    /// Weights of exact, phrase and broad match.
    pub match_mix: [f64; 3],
    /// Median daily queries per keyword.
    pub volume_median: f64,
    /// Log-sd of daily queries across keywords.
    pub volume_sigma: f64,
    /// Range of plan CTR levels.
    pub plan_ctr: [f64; 2],
    /// Range of plan CVR levels.
    pub plan_cvr: [f64; 2],
    /// Range of plan order-value levels (currency units).
    pub plan_aov: [f64; 2],
    /// Log-sd of keyword rates around their plan's levels.
    pub keyword_sigma: f64,
    /// Log-sd of order values.
    pub aov_sigma: f64,
    /// Rival count range per keyword (inclusive).
    pub rivals: [u32; 2],
    /// Median of the keywords' rival bid medians (currency units).
    pub rival_bid_median: f64,
    /// Log-sd of rival bid medians across keywords.
    pub rival_bid_sigma: f64,
    /// Log-sd of rival bids across queries.
    pub rival_bid_spread: f64,
    /// The generated plans' schedule.
    #[serde(default)]
    pub schedule: Schedule,
    /// Optional value reversal over the horizon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<GeneratorDrift>,
    /// Optional query streams: irrelevant queries for phrase and broad keywords.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queries: Option<GeneratorQueries>,
}

/// Gives every generated phrase and broad keyword a query stream: its own text, plus one
/// irrelevant query per word (`"{text} {word}"`, e.g. "red dress free") sharing
/// `irrelevant_share` of its volume at CTR and CVR factors `ctr_factor`, `cvr_factor`.
/// Exact keywords keep their one query. A negative keyword on the word blocks the leak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorQueries {
    /// Words that make a query irrelevant (at most 16).
    pub irrelevant_words: Vec<String>,
    /// Share of a phrase or broad keyword's volume from irrelevant queries, in [0, 1).
    pub irrelevant_share: f64,
    /// CTR factor of the irrelevant queries.
    pub ctr_factor: f64,
    /// CVR factor of the irrelevant queries.
    pub cvr_factor: f64,
}

fn default_prefix() -> String {
    "g".into()
}

/// Ramps each generated plan's CVR so the plans' value order is reversed by `to_day`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorDrift {
    /// Last day at the original rates.
    pub from_day: u32,
    /// First day at the reversed rates.
    pub to_day: u32,
}

/// The file form of a scenario: what is read (then validated and expanded into a
/// [`Scenario`]) and what a scenario serialises to (expanded: no generator block).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    #[serde(default)]
    description: String,
    start_date: Date,
    days: u32,
    market: MarketSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account: Option<Account>,
    #[serde(default)]
    keywords: Vec<KeywordTruth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    generate: Option<Generator>,
    /// CTR and CVR multipliers of the account's creatives (optional: none, multipliers 1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    creatives: Vec<CreativeTruth>,
}

/// A validated scenario: an account, its market's truth, and a horizon of days.
///
/// Deserialising validates everything; a generator block is expanded, so serialising gives
/// the full scenario.
///
/// ```
/// use adbandit::sim::Scenario;
/// let s = Scenario::small();
/// assert_eq!(s.account().plans().len(), 3);
/// assert_eq!(s.days(), 14);
/// let bad = r#"{"name":"x","start_date":"2026-01-05","days":1,
///   "market":{"position_effects":[1.0],"reserve":0,"increment":0,"hourly":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]},
///   "account":{"name":"a","currency":"CNY","plans":[{"id":"p","name":"p","daily_budget":1000000,
///      "min_bid":0,"max_bid":5000000,"keywords":[{"id":"k","text":"dress","match_type":"exact","bid":1000000}]}]},
///   "keywords":[{"keyword":"k","volume":-5,"ctr":0.02,"cvr":0.05,"aov":100,"aov_sigma":0.5,"quality":1,
///      "competitors":{"count":3,"bid_median":1.0,"bid_sigma":0.5}}]}"#;
/// let e = Scenario::from_json(bad).unwrap_err().to_string();
/// assert!(e.contains("keywords[0].volume"), "{e}");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ScenarioFile", into = "ScenarioFile")]
pub struct Scenario {
    name: String,
    description: String,
    account: Arc<Account>,
    truth: Arc<Truth>,
}

impl From<Scenario> for ScenarioFile {
    fn from(s: Scenario) -> Self {
        ScenarioFile {
            name: s.name,
            description: s.description,
            start_date: s.truth.start_date(),
            days: s.truth.days(),
            market: s.truth.market().clone(),
            account: Some((*s.account).clone()),
            keywords: s.truth.keywords().to_vec(),
            generate: None,
            creatives: s.truth.creatives().to_vec(),
        }
    }
}

impl TryFrom<ScenarioFile> for Scenario {
    type Error = Error;
    fn try_from(r: ScenarioFile) -> Result<Self> {
        if r.name.trim().is_empty() {
            return Err(Error::invalid("name", "\"\"", "must not be empty"));
        }
        let mut plans = r
            .account
            .as_ref()
            .map(|a| a.plans().to_vec())
            .unwrap_or_default();
        let (name, currency) = r
            .account
            .as_ref()
            .map(|a| (a.name().to_owned(), a.currency().to_owned()))
            .unwrap_or_else(|| (r.name.clone(), "CNY".to_owned()));
        let mut keywords = r.keywords;
        if r.days == 0 || r.days > MAX_DAYS {
            return Err(Error::invalid(
                "days",
                r.days,
                format!("must be in 1..={MAX_DAYS}"),
            ));
        }
        let generated = match &r.generate {
            Some(g) => {
                g.validate(plans.iter().map(|p| p.keywords.len()).sum(), r.days)?;
                let first = plans.len();
                let (gp, gk) = g.expand(r.days)?;
                plans.extend(gp);
                keywords.extend(gk);
                Some((g, first))
            }
            None => None,
        };
        if plans.is_empty() {
            return Err(Error::invalid(
                "account",
                "no plans",
                "a scenario needs an account or a generate block",
            ));
        }
        let mut account = Account::new(name.clone(), currency.clone(), plans)?;
        let mut truth = Truth::new(
            &account,
            r.start_date,
            r.days,
            r.market.clone(),
            keywords.clone(),
        )?;
        if let Some((g, first)) = generated {
            // Size the generated plans' even budgets from their demand at the initial bids.
            let demand = truth.plain_day_demand(&account);
            let total: f64 = demand[first..].iter().sum();
            let per_plan = total * g.budget_fraction / f64::from(g.plans.max(1));
            let budget = Money::from_units_f64(per_plan)?;
            let mut plans = account.plans().to_vec();
            for p in &mut plans[first..] {
                p.daily_budget = budget;
            }
            account = Account::new(name, currency, plans)?;
            truth = Truth::new(&account, r.start_date, r.days, r.market, keywords)?;
        }
        let truth = truth.with_creatives(&account, r.creatives)?;
        Ok(Scenario {
            name: r.name,
            description: r.description,
            account: Arc::new(account),
            truth: Arc::new(truth),
        })
    }
}

impl Scenario {
    /// Parses and validates a scenario.
    ///
    /// # Errors
    /// [`Error::Serde`] for malformed JSON or a failed validation (the message names the
    /// field), or any error of the checks.
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json).map_err(Error::from)
    }

    /// Loads a scenario file.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read, then as [`Scenario::from_json`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let p = path.as_ref();
        let text = std::fs::read_to_string(p).map_err(|e| Error::Io {
            path: p.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_json(&text)
    }

    /// Names of the built-in scenarios.
    pub const BUILTIN: [&'static str; 12] = [
        "small",
        "default",
        "double_11",
        "drift",
        "long_tail",
        "competitor_entry",
        "new_plans",
        "weekday_cvr",
        "broad_leak",
        "budget_starved",
        "promo_618",
        "creative_test",
    ];

    /// The JSON text of a built-in scenario (what `Scenario::builtin` reads; a starting point
    /// for a scenario file), or `None` for a name not in [`Scenario::BUILTIN`].
    pub fn builtin_json(name: &str) -> Option<&'static str> {
        Some(match name {
            "small" => include_str!("../../scenarios/small.json"),
            "default" => include_str!("../../scenarios/default.json"),
            "double_11" => include_str!("../../scenarios/double_11.json"),
            "drift" => include_str!("../../scenarios/drift.json"),
            "long_tail" => include_str!("../../scenarios/long_tail.json"),
            "competitor_entry" => include_str!("../../scenarios/competitor_entry.json"),
            "new_plans" => include_str!("../../scenarios/new_plans.json"),
            "weekday_cvr" => include_str!("../../scenarios/weekday_cvr.json"),
            "broad_leak" => include_str!("../../scenarios/broad_leak.json"),
            "budget_starved" => include_str!("../../scenarios/budget_starved.json"),
            "promo_618" => include_str!("../../scenarios/promo_618.json"),
            "creative_test" => include_str!("../../scenarios/creative_test.json"),
            _ => return None,
        })
    }

    /// A built-in scenario by name (see [`Scenario::BUILTIN`]).
    ///
    /// # Errors
    /// [`Error::UnknownId`] for an unknown name.
    pub fn builtin(name: &str) -> Result<Self> {
        let json = Self::builtin_json(name).ok_or_else(|| Error::UnknownId {
            kind: "scenario",
            id: name.to_owned(),
        })?;
        Self::from_json(json)
    }

    fn must(name: &str) -> Self {
        match Self::builtin(name) {
            Ok(s) => s,
            // The built-in files are tested; this cannot happen in a released build.
            Err(e) => panic!("built-in scenario {name} is invalid: {e}"),
        }
    }

    /// 3 plans x 20 keywords, 14 days: for fast tests.
    pub fn small() -> Self {
        Self::must("small")
    }
    /// 8 plans x 60 keywords, 30 days.
    pub fn default_scenario() -> Self {
        Self::must("default")
    }
    /// 30 days around Double 11: pre-heat, the day, the hangover.
    pub fn double_11() -> Self {
        Self::must("double_11")
    }
    /// The plans' value order reverses mid-horizon.
    pub fn drift() -> Self {
        Self::must("drift")
    }
    /// 200 plans x 50 keywords, mostly sparse, 30 days.
    pub fn long_tail() -> Self {
        Self::must("long_tail")
    }

    /// Name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Free-text description.
    pub fn description(&self) -> &str {
        &self.description
    }
    /// The account at the start of the horizon.
    pub fn account(&self) -> &Account {
        &self.account
    }
    /// The market's ground truth.
    pub fn truth(&self) -> &Truth {
        &self.truth
    }
    /// Shared handle to the truth (markets share it instead of copying 10,000 keywords).
    pub fn truth_arc(&self) -> Arc<Truth> {
        Arc::clone(&self.truth)
    }
    /// Shared handle to the account.
    pub fn account_arc(&self) -> Arc<Account> {
        Arc::clone(&self.account)
    }
    /// Days in the horizon.
    pub fn days(&self) -> u32 {
        self.truth.days()
    }
    /// First day.
    pub fn start_date(&self) -> Date {
        self.truth.start_date()
    }
    /// The date of day index `day`.
    pub fn date(&self, day: u32) -> Date {
        self.start_date().add_days(day as i32)
    }
    /// The account as it exists on day `day` (0-based): plans and keywords not launched yet,
    /// or ended, are left out (a plan with none of its keywords live is left out whole).
    /// This is what a strategy may know of on that day.
    ///
    /// # Errors
    /// As [`Account::new`] (cannot fail for a valid scenario).
    pub fn account_on(&self, day: u32) -> Result<Account> {
        let t = &self.truth;
        let mut plans = Vec::new();
        for (pi, p) in self.account.plans().iter().enumerate() {
            let r = t.plan_keywords(pi);
            let mut plan = p.clone();
            plan.keywords = p
                .keywords
                .iter()
                .zip(r)
                .filter(|(_, k)| t.is_live(*k, day))
                .map(|(kw, _)| kw.clone())
                .collect();
            if !plan.keywords.is_empty() {
                plans.push(plan);
            }
        }
        Account::new(self.account.name(), self.account.currency(), plans)
    }

    /// What exists from day `day` on that did not the day before, and what no longer
    /// exists: see [`LaunchChanges`]. Day 0 has no changes (its account is
    /// [`Scenario::account_on`]`(0)`).
    pub fn changes_on(&self, day: u32) -> LaunchChanges {
        let mut out = LaunchChanges::default();
        if day == 0 || day >= self.days() {
            return out;
        }
        let t = &self.truth;
        for (pi, p) in self.account.plans().iter().enumerate() {
            let r = t.plan_keywords(pi);
            let was = r.clone().any(|k| t.is_live(k, day - 1));
            let mut new_plan: Option<Plan> = None;
            for (kw, k) in p.keywords.iter().zip(r) {
                match (t.is_live(k, day - 1), t.is_live(k, day)) {
                    (false, true) if was => out.keywords.push((p.id.clone(), kw.clone())),
                    (false, true) => new_plan
                        .get_or_insert_with(|| Plan {
                            keywords: Vec::new(),
                            ..p.clone()
                        })
                        .keywords
                        .push(kw.clone()),
                    (true, false) => out.ended.push(kw.id.clone()),
                    _ => {}
                }
            }
            out.plans.extend(new_plan);
        }
        out
    }

    /// Sum of the active plans' daily budgets.
    ///
    /// # Errors
    /// [`Error::Overflow`].
    pub fn total_daily_budget(&self) -> Result<Money> {
        self.account.total_daily_budget()
    }
}

/// The launches and ends of one day (see [`Scenario::changes_on`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LaunchChanges {
    /// Plans launched, with their keywords live that day.
    pub plans: Vec<Plan>,
    /// Keywords launched into plans that existed the day before.
    pub keywords: Vec<(crate::model::PlanId, Keyword)>,
    /// Keywords that no longer exist (ended, or their plan ended).
    pub ended: Vec<crate::model::KeywordId>,
}

impl LaunchChanges {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.plans.is_empty() && self.keywords.is_empty() && self.ended.is_empty()
    }
}

impl Generator {
    /// Checks the block; `given` keywords are in the account already, over `days` days.
    /// Sizes are checked before anything is allocated, products too.
    fn validate(&self, given: usize, days: u32) -> Result<()> {
        let at = |f: &str| format!("generate.{f}");
        if self.plans == 0 || self.plans > 100_000 {
            return Err(Error::invalid(
                at("plans"),
                self.plans,
                "must be in 1..=100000",
            ));
        }
        if self.keywords_per_plan == 0 || self.keywords_per_plan > 100_000 {
            return Err(Error::invalid(
                at("keywords_per_plan"),
                self.keywords_per_plan,
                "must be in 1..=100000 (a simulated plan needs keywords)",
            ));
        }
        let total = u64::from(self.plans) * u64::from(self.keywords_per_plan) + given as u64;
        if total > MAX_KEYWORDS as u64 {
            return Err(Error::invalid(
                at("plans x keywords_per_plan"),
                format!(
                    "{} x {} = {total} keywords with the account's",
                    self.plans, self.keywords_per_plan
                ),
                format!("must be at most {MAX_KEYWORDS}"),
            ));
        }
        if total * u64::from(days) > MAX_KEYWORD_DAYS {
            return Err(Error::invalid(
                at("plans x keywords_per_plan x days"),
                format!("{total} keywords x {days} days"),
                format!("must be at most {MAX_KEYWORD_DAYS} keyword-days"),
            ));
        }
        check_positive(at("budget_fraction"), self.budget_fraction)?;
        check_positive(at("volume_median"), self.volume_median)?;
        check_non_negative(at("volume_sigma"), self.volume_sigma)?;
        check_non_negative(at("keyword_sigma"), self.keyword_sigma)?;
        check_non_negative(at("aov_sigma"), self.aov_sigma)?;
        check_positive(at("rival_bid_median"), self.rival_bid_median)?;
        check_non_negative(at("rival_bid_sigma"), self.rival_bid_sigma)?;
        check_non_negative(at("rival_bid_spread"), self.rival_bid_spread)?;
        for (i, &w) in self.match_mix.iter().enumerate() {
            check_non_negative(format!("generate.match_mix[{i}]"), w)?;
        }
        if !(self.match_mix.iter().sum::<f64>() > 0.0) {
            return Err(Error::invalid(
                at("match_mix"),
                "all zero",
                "needs a weight",
            ));
        }
        for (n, r) in [
            ("plan_ctr", self.plan_ctr),
            ("plan_cvr", self.plan_cvr),
            ("plan_aov", self.plan_aov),
        ] {
            for (i, &x) in r.iter().enumerate() {
                check_positive(format!("generate.{n}[{i}]"), x)?;
            }
            if r[0] > r[1] {
                return Err(Error::invalid(at(n), r[0], "low end above high end"));
            }
        }
        if self.rivals[0] > self.rivals[1] {
            return Err(Error::invalid(
                at("rivals"),
                self.rivals[0],
                "low above high",
            ));
        }
        if let Some(q) = &self.queries {
            if q.irrelevant_words.len() > 16 {
                return Err(Error::invalid(
                    at("queries.irrelevant_words"),
                    format!("{} words", q.irrelevant_words.len()),
                    "must have at most 16",
                ));
            }
            for (i, w) in q.irrelevant_words.iter().enumerate() {
                if crate::model::matching::tokenize(w).is_empty() {
                    return Err(Error::invalid(
                        format!("generate.queries.irrelevant_words[{i}]"),
                        format!("{w:?}"),
                        "has no words",
                    ));
                }
            }
            if !(0.0..1.0).contains(&q.irrelevant_share) {
                return Err(Error::invalid(
                    at("queries.irrelevant_share"),
                    q.irrelevant_share,
                    "must be in [0, 1)",
                ));
            }
            for (f, v) in [("ctr_factor", q.ctr_factor), ("cvr_factor", q.cvr_factor)] {
                if !(0.0..=100.0).contains(&v) {
                    return Err(Error::invalid(
                        format!("generate.queries.{f}"),
                        v,
                        "must be in [0, 100]",
                    ));
                }
            }
        }
        if self.initial_bid < self.min_bid || self.initial_bid > self.max_bid {
            return Err(Error::invalid(
                at("initial_bid"),
                self.initial_bid,
                "must be within [min_bid, max_bid]",
            ));
        }
        Ok(())
    }

    fn queries_for(&self, text: &str, m: MatchType) -> Vec<QueryTruth> {
        let Some(q) = &self.queries else {
            return Vec::new();
        };
        if m == MatchType::Exact || q.irrelevant_words.is_empty() {
            return Vec::new();
        }
        let per = q.irrelevant_share / q.irrelevant_words.len() as f64;
        let mut out = vec![QueryTruth {
            text: text.to_owned(),
            weight: 1.0 - q.irrelevant_share,
            ctr_factor: 1.0,
            cvr_factor: 1.0,
        }];
        out.extend(q.irrelevant_words.iter().map(|w| QueryTruth {
            text: format!("{text} {w}"),
            weight: per,
            ctr_factor: q.ctr_factor,
            cvr_factor: q.cvr_factor,
        }));
        out
    }

    fn expand(&self, days: u32) -> Result<(Vec<Plan>, Vec<KeywordTruth>)> {
        let n = self.plans as usize;
        let level = |r: [f64; 2], i: usize| {
            if n == 1 {
                (r[0] * r[1]).sqrt()
            } else {
                r[0] * (r[1] / r[0]).powf(i as f64 / (n - 1) as f64)
            }
        };
        let shuffle = |salt: u64| {
            let mut v: Vec<usize> = (0..n).collect();
            let mut r = rng::stream(self.seed, &[salt]);
            for i in (1..n).rev() {
                let j = r.random_range(0..=i);
                v.swap(i, j);
            }
            v
        };
        let ctr_rank = shuffle(1);
        let value_rank = shuffle(2);
        let mid_ctr = (self.plan_ctr[0] * self.plan_ctr[1]).sqrt();
        let mix_total: f64 = self.match_mix.iter().sum();
        let mut plans = Vec::with_capacity(n);
        let mut truths = Vec::with_capacity(n * self.keywords_per_plan as usize);
        for i in 0..n {
            let pid = format!("{}{}", self.prefix, i);
            let mut plan = Plan::new(
                pid.clone(),
                format!("Plan {pid}"),
                Money::ZERO,
                self.min_bid,
                self.max_bid,
            )
            .with_schedule(self.schedule);
            let ctr_level = level(self.plan_ctr, ctr_rank[i]);
            let cvr_level = level(self.plan_cvr, value_rank[i]);
            let aov_level = level(self.plan_aov, value_rank[i]);
            let drift = self.drift.map(|d| {
                // The mirror plan's value over this plan's value, applied to CVR.
                let mirror = n - 1 - value_rank[i];
                let ratio = (level(self.plan_cvr, mirror) * level(self.plan_aov, mirror))
                    / (cvr_level * aov_level);
                Drift {
                    from_day: d.from_day.min(days),
                    to_day: d.to_day.max(d.from_day).min(days.max(d.from_day)),
                    volume: 1.0,
                    ctr: 1.0,
                    cvr: ratio.clamp(0.01, 100.0),
                }
            });
            for j in 0..self.keywords_per_plan {
                let mut r = rng::stream(self.seed, &[3, i as u64, u64::from(j)]);
                let mut z = || -> f64 { r.sample(StandardNormal) };
                let ks = self.keyword_sigma;
                let ctr = (ctr_level * (ks * z()).exp()).min(0.9);
                let cvr = (cvr_level * (ks * z()).exp()).min(0.9);
                let aov = aov_level * (ks * z()).exp();
                let volume = self.volume_median * (self.volume_sigma * z()).exp();
                let rival_median = self.rival_bid_median * (self.rival_bid_sigma * z()).exp();
                let u: f64 = r.random::<f64>() * mix_total;
                let match_type = if u < self.match_mix[0] {
                    MatchType::Exact
                } else if u < self.match_mix[0] + self.match_mix[1] {
                    MatchType::Phrase
                } else {
                    MatchType::Broad
                };
                let count = r.random_range(self.rivals[0]..=self.rivals[1]);
                let kid = format!("{pid}-{j}");
                plan = plan.with_keyword(Keyword::new(
                    kid.clone(),
                    format!("{pid} item {j}"),
                    match_type,
                    self.initial_bid,
                ));
                truths.push(KeywordTruth {
                    keyword: kid.as_str().into(),
                    volume,
                    ctr,
                    cvr,
                    aov,
                    aov_sigma: self.aov_sigma,
                    quality: (ctr / mid_ctr).sqrt().clamp(0.3, 3.0),
                    competitors: Competitors {
                        count,
                        bid_median: rival_median.clamp(1e-3, 1e5),
                        bid_sigma: self.rival_bid_spread.min(3.0),
                        quality: 1.0,
                    },
                    drift,
                    queries: self.queries_for(&format!("{pid} item {j}"), match_type),
                });
            }
            plans.push(plan);
        }
        Ok((plans, truths))
    }
}

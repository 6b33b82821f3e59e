//! The account: plans (campaigns) and their keywords.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::matching::tokenize;
use crate::model::objective::Objective;
use crate::model::schedule::Schedule;
use crate::money::Money;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Shared text (`Arc<str>`): a decision over 100,000 keywords clones an id per
        /// keyword, and a clone is a reference count, not an allocation.
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Arc<str>);

        impl $name {
            /// An id from any string (emptiness is checked where the id is used).
            pub fn new(id: impl Into<String>) -> Self {
                $name(Arc::from(id.into()))
            }
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(Arc::from(s))
            }
        }
    };
}

id_type!(
    /// A plan's (campaign's) id, unique in its account.
    PlanId
);
id_type!(
    /// A keyword's id, unique in its account (not only in its plan).
    KeywordId
);
id_type!(
    /// A creative's id (an ad: main image, title or copy), unique in its account.
    CreativeId
);

/// The channel of a plan that names none: an account with one channel needs no names.
pub const DEFAULT_CHANNEL: &str = "default";

/// A creative a plan rotates: a main image, a title or an ad copy.
///
/// The engine tests a plan's active creatives against each other ([`crate::creative`]) and
/// pauses the losers once a winner is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Creative {
    /// Unique in the account.
    pub id: CreativeId,
    /// Display name ("main image B", "title: free shipping").
    pub name: String,
    /// Whether it is served.
    #[serde(default)]
    pub status: Status,
    /// The creative's text or a reference to its asset (a URL, a file name), for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
}

impl Creative {
    /// An active creative.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Creative {
            id: CreativeId::new(id),
            name: name.into(),
            status: Status::Active,
            asset: None,
        }
    }

    /// Sets the text or asset reference (builder style).
    pub fn with_asset(mut self, asset: impl Into<String>) -> Self {
        self.asset = Some(asset.into());
        self
    }
}

/// How a keyword matches queries; see [`crate::matching`] for the exact rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchType {
    /// The query is the keyword, word for word.
    Exact,
    /// The query contains the keyword as a phrase.
    Phrase,
    /// The query contains all of the keyword's words in any order.
    Broad,
}

/// Whether a plan or keyword delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Delivering.
    #[default]
    Active,
    /// Stopped by the operator or the engine.
    Paused,
}

/// A bought keyword.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keyword {
    /// Unique in the account.
    pub id: KeywordId,
    /// The keyword's text.
    pub text: String,
    /// How it matches queries.
    pub match_type: MatchType,
    /// The most it pays for a click.
    pub bid: Money,
    /// Whether it delivers.
    #[serde(default)]
    pub status: Status,
    /// Free labels that calendar scopes can name (see [`crate::model::calendar::Scope`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Keyword {
    /// An active keyword.
    pub fn new(
        id: impl Into<String>,
        text: impl Into<String>,
        match_type: MatchType,
        bid: Money,
    ) -> Self {
        Keyword {
            id: KeywordId::new(id),
            text: text.into(),
            match_type,
            bid,
            status: Status::Active,
            tags: Vec::new(),
        }
    }
}

/// A negative keyword: queries that match it are excluded from the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegativeKeyword {
    /// The excluded text.
    pub text: String,
    /// How the exclusion matches (broad by default).
    #[serde(default = "broad")]
    pub match_type: MatchType,
}

fn broad() -> MatchType {
    MatchType::Broad
}

/// A plan (campaign): a daily budget, a schedule, an objective and keywords.
///
/// The fields are plain data; [`Account::new`] validates every plan (and deserialising an
/// `Account` does too), so an invalid plan never gets into an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Unique in the account.
    pub id: PlanId,
    /// Display name.
    pub name: String,
    /// Spend cap per day.
    pub daily_budget: Money,
    /// Whether it delivers.
    #[serde(default)]
    pub status: Status,
    /// What it optimises.
    #[serde(default)]
    pub objective: Objective,
    /// Hourly bid multipliers (0 = dark).
    #[serde(default)]
    pub schedule: Schedule,
    /// Lowest bid the operator allows.
    pub min_bid: Money,
    /// Highest bid the operator allows.
    pub max_bid: Money,
    /// The plan's keywords.
    #[serde(default)]
    pub keywords: Vec<Keyword>,
    /// Queries matching these are excluded.
    #[serde(default)]
    pub negative_keywords: Vec<NegativeKeyword>,
    /// Free labels that calendar scopes can name (see [`crate::model::calendar::Scope`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The channel the plan buys traffic in (marketplace search, display, a search engine);
    /// `None` is [`DEFAULT_CHANNEL`]. Written only when set, so accounts without channels
    /// serialise as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The creatives the plan rotates (none: the platform's single ad).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub creatives: Vec<Creative>,
}

impl Plan {
    /// An active plan with the default objective and schedule and no keywords.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        daily_budget: Money,
        min_bid: Money,
        max_bid: Money,
    ) -> Self {
        Plan {
            id: PlanId::new(id),
            name: name.into(),
            daily_budget,
            status: Status::Active,
            objective: Objective::default(),
            schedule: Schedule::ALWAYS,
            min_bid,
            max_bid,
            keywords: Vec::new(),
            negative_keywords: Vec::new(),
            tags: Vec::new(),
            channel: None,
            creatives: Vec::new(),
        }
    }

    /// The plan's channel name ([`DEFAULT_CHANNEL`] when it names none).
    pub fn channel_name(&self) -> &str {
        self.channel.as_deref().unwrap_or(DEFAULT_CHANNEL)
    }

    /// Sets the channel (builder style).
    pub fn with_channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = Some(channel.into());
        self
    }

    /// Adds a creative (builder style; validated when the account is built).
    pub fn with_creative(mut self, c: Creative) -> Self {
        self.creatives.push(c);
        self
    }

    /// Adds a keyword (builder style; validated when the account is built).
    pub fn with_keyword(mut self, k: Keyword) -> Self {
        self.keywords.push(k);
        self
    }

    /// Sets the objective (builder style).
    pub fn with_objective(mut self, o: Objective) -> Self {
        self.objective = o;
        self
    }

    /// Sets the schedule (builder style).
    pub fn with_schedule(mut self, s: Schedule) -> Self {
        self.schedule = s;
        self
    }

    /// Checks this plan's own invariants; `at` is its path for error messages (`plans[3]`).
    ///
    /// # Errors
    /// The first violated rule: empty id or name, negative budget, non-positive or inverted
    /// bid limits, invalid objective, a keyword with an empty id or text, a bid outside the
    /// limits, or the same text and match type twice.
    pub fn validate(&self, at: &str) -> Result<()> {
        if self.id.as_str().trim().is_empty() {
            return Err(Error::invalid(
                format!("{at}.id"),
                "\"\"",
                "must not be empty",
            ));
        }
        if self.name.trim().is_empty() {
            return Err(Error::invalid(
                format!("{at}.name"),
                "\"\"",
                "must not be empty",
            ));
        }
        if self.daily_budget.is_negative() {
            return Err(Error::invalid(
                format!("{at}.daily_budget"),
                self.daily_budget,
                "must be >= 0",
            ));
        }
        if self.min_bid.is_negative() {
            return Err(Error::invalid(
                format!("{at}.min_bid"),
                self.min_bid,
                "must be >= 0",
            ));
        }
        if self.max_bid.micros() <= 0 {
            return Err(Error::invalid(
                format!("{at}.max_bid"),
                self.max_bid,
                "must be > 0",
            ));
        }
        if self.min_bid > self.max_bid {
            return Err(Error::invalid(
                format!("{at}.min_bid"),
                self.min_bid,
                format!("must not exceed max_bid {}", self.max_bid),
            ));
        }
        self.objective.validate(&format!("{at}.objective"))?;
        let mut seen = HashSet::new();
        for (j, k) in self.keywords.iter().enumerate() {
            let kat = format!("{at}.keywords[{j}]");
            if k.id.as_str().trim().is_empty() {
                return Err(Error::invalid(
                    format!("{kat}.id"),
                    "\"\"",
                    "must not be empty",
                ));
            }
            let tokens = tokenize(&k.text);
            if tokens.is_empty() {
                return Err(Error::invalid(
                    format!("{kat}.text"),
                    format!("{:?}", k.text),
                    "has no words",
                ));
            }
            if k.bid < self.min_bid || k.bid > self.max_bid || k.bid.micros() <= 0 {
                return Err(Error::invalid(
                    format!("{kat}.bid"),
                    k.bid,
                    format!(
                        "must be > 0 and within [{}, {}]",
                        self.min_bid, self.max_bid
                    ),
                ));
            }
            if !seen.insert((tokens, k.match_type)) {
                return Err(Error::DuplicateId {
                    kind: "keyword text",
                    id: format!("{} ({:?}) in plan {}", k.text, k.match_type, self.id),
                });
            }
        }
        if let Some(c) = &self.channel
            && c.trim().is_empty()
        {
            return Err(Error::invalid(
                format!("{at}.channel"),
                "\"\"",
                "must not be empty (leave it out for the default channel)",
            ));
        }
        for (j, c) in self.creatives.iter().enumerate() {
            for (field, v) in [("id", c.id.as_str()), ("name", c.name.as_str())] {
                if v.trim().is_empty() {
                    return Err(Error::invalid(
                        format!("{at}.creatives[{j}].{field}"),
                        "\"\"",
                        "must not be empty",
                    ));
                }
            }
        }
        for (j, n) in self.negative_keywords.iter().enumerate() {
            if tokenize(&n.text).is_empty() {
                return Err(Error::invalid(
                    format!("{at}.negative_keywords[{j}].text"),
                    format!("{:?}", n.text),
                    "has no words",
                ));
            }
        }
        Ok(())
    }
}

/// Where a keyword sits: `(plan index, keyword index within the plan)`.
pub type KeywordPos = (usize, usize);

/// A validated account: plans with unique ids and keywords with account-unique ids.
///
/// Build it with [`Account::new`] or from JSON; both validate everything and name the
/// offending field. Change it through the checked setters, so it stays valid.
///
/// ```
/// use adbandit::{Account, Keyword, MatchType, Money, Plan};
/// let yuan = |x| Money::from_units(x).unwrap();
/// let plan = Plan::new("p1", "Dresses", yuan(300), yuan(0), yuan(5))
///     .with_keyword(Keyword::new("k1", "red dress", MatchType::Phrase, yuan(1)));
/// let account = Account::new("Shop", "CNY", vec![plan])?;
/// assert_eq!(account.keyword_count(), 1);
/// let bad = r#"{"name":"Shop","currency":"CNY","plans":[{"id":"p1","name":"x",
///     "daily_budget":-1,"min_bid":0,"max_bid":1}]}"#;
/// assert!(serde_json::from_str::<Account>(bad).is_err());
/// # Ok::<(), adbandit::Error>(())
/// ```
// `remote = "Self"` (serde-rs/serde#1220) derives the field-by-field (de)serialiser as inherent
// functions; the trait impls below wrap them, so deserialising validates through
// `Account::new` without a hand-copied mirror of the fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct Account {
    name: String,
    currency: String,
    plans: Vec<Plan>,
    #[serde(skip)]
    plan_index: HashMap<PlanId, usize>,
    #[serde(skip)]
    keyword_index: HashMap<KeywordId, KeywordPos>,
    #[serde(skip)]
    creative_index: HashMap<CreativeId, (usize, usize)>,
}

impl Serialize for Account {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        Account::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for Account {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let a = Account::deserialize(d)?;
        Account::new(a.name, a.currency, a.plans).map_err(serde::de::Error::custom)
    }
}

impl Account {
    /// A validated account.
    ///
    /// # Errors
    /// An empty name or currency, any [`Plan::validate`] error, or a duplicate plan or
    /// keyword id ([`Error::DuplicateId`]).
    pub fn new(
        name: impl Into<String>,
        currency: impl Into<String>,
        plans: Vec<Plan>,
    ) -> Result<Self> {
        let name = name.into();
        let currency = currency.into();
        if name.trim().is_empty() {
            return Err(Error::invalid("account.name", "\"\"", "must not be empty"));
        }
        if currency.trim().is_empty() {
            return Err(Error::invalid(
                "account.currency",
                "\"\"",
                "must not be empty",
            ));
        }
        let mut plan_index = HashMap::with_capacity(plans.len());
        let mut keyword_index = HashMap::new();
        let mut creative_index = HashMap::new();
        for (i, p) in plans.iter().enumerate() {
            p.validate(&format!("plans[{i}]"))?;
            if plan_index.insert(p.id.clone(), i).is_some() {
                return Err(Error::DuplicateId {
                    kind: "plan",
                    id: p.id.to_string(),
                });
            }
            for (j, c) in p.creatives.iter().enumerate() {
                if creative_index.insert(c.id.clone(), (i, j)).is_some() {
                    return Err(Error::DuplicateId {
                        kind: "creative",
                        id: c.id.to_string(),
                    });
                }
            }
            for (j, k) in p.keywords.iter().enumerate() {
                if keyword_index.insert(k.id.clone(), (i, j)).is_some() {
                    return Err(Error::DuplicateId {
                        kind: "keyword",
                        id: k.id.to_string(),
                    });
                }
            }
        }
        Ok(Account {
            name,
            currency,
            plans,
            plan_index,
            keyword_index,
            creative_index,
        })
    }

    /// Display name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Currency code (e.g. `CNY`); all money in the account is in this currency.
    pub fn currency(&self) -> &str {
        &self.currency
    }
    /// The plans, in the order given.
    pub fn plans(&self) -> &[Plan] {
        &self.plans
    }
    /// The account's channels in order of first appearance, and each plan's index into
    /// them (one [`DEFAULT_CHANNEL`] for an account whose plans name none).
    pub fn channels(&self) -> (Vec<&str>, Vec<usize>) {
        let mut names: Vec<&str> = Vec::new();
        let of = self
            .plans
            .iter()
            .map(|p| {
                let n = p.channel_name();
                names.iter().position(|&m| m == n).unwrap_or_else(|| {
                    names.push(n);
                    names.len() - 1
                })
            })
            .collect();
        (names, of)
    }
    /// The plan with `id`.
    pub fn plan(&self, id: &PlanId) -> Option<&Plan> {
        self.plan_index.get(id).map(|&i| &self.plans[i])
    }
    /// Index of the plan with `id` in [`Account::plans`].
    pub fn plan_pos(&self, id: &PlanId) -> Option<usize> {
        self.plan_index.get(id).copied()
    }
    /// Index of the plan with `id`, or [`Error::UnknownId`].
    ///
    /// # Errors
    /// [`Error::UnknownId`] naming the id.
    pub fn require_plan(&self, id: &PlanId) -> Result<usize> {
        self.plan_pos(id).ok_or_else(|| Self::unknown_plan(id))
    }
    /// Position of the keyword with `id`, or [`Error::UnknownId`].
    ///
    /// # Errors
    /// [`Error::UnknownId`] naming the id.
    pub fn require_keyword(&self, id: &KeywordId) -> Result<KeywordPos> {
        self.keyword_pos(id)
            .ok_or_else(|| Self::unknown_keyword(id))
    }
    /// The keyword with `id` and its plan.
    pub fn keyword(&self, id: &KeywordId) -> Option<(&Plan, &Keyword)> {
        self.keyword_index
            .get(id)
            .map(|&(i, j)| (&self.plans[i], &self.plans[i].keywords[j]))
    }
    /// Where the keyword with `id` sits.
    pub fn keyword_pos(&self, id: &KeywordId) -> Option<KeywordPos> {
        self.keyword_index.get(id).copied()
    }
    /// Where the creative with `id` sits: `(plan index, creative index within the plan)`.
    pub fn creative_pos(&self, id: &CreativeId) -> Option<(usize, usize)> {
        self.creative_index.get(id).copied()
    }
    /// Number of keywords across all plans.
    pub fn keyword_count(&self) -> usize {
        self.keyword_index.len()
    }
    /// Sum of the plans' daily budgets (active plans only).
    ///
    /// # Errors
    /// [`Error::Overflow`] if the sum overflows.
    pub fn total_daily_budget(&self) -> Result<Money> {
        Money::checked_sum(
            self.plans
                .iter()
                .filter(|p| p.status == Status::Active)
                .map(|p| p.daily_budget),
        )
    }

    fn unknown_plan(id: &PlanId) -> Error {
        Error::UnknownId {
            kind: "plan",
            id: id.to_string(),
        }
    }

    fn unknown_keyword(id: &KeywordId) -> Error {
        Error::UnknownId {
            kind: "keyword",
            id: id.to_string(),
        }
    }

    /// Sets a keyword's bid.
    ///
    /// # Errors
    /// [`Error::UnknownId`], or [`Error::InvalidValue`] if the bid is outside the plan's limits.
    /// On error the account is unchanged.
    pub fn set_bid(&mut self, id: &KeywordId, bid: Money) -> Result<()> {
        let (i, j) = self
            .keyword_pos(id)
            .ok_or_else(|| Self::unknown_keyword(id))?;
        let p = &self.plans[i];
        if bid < p.min_bid || bid > p.max_bid || bid.micros() <= 0 {
            return Err(Error::invalid(
                format!("keyword {id}.bid"),
                bid,
                format!("must be > 0 and within [{}, {}]", p.min_bid, p.max_bid),
            ));
        }
        self.plans[i].keywords[j].bid = bid;
        Ok(())
    }

    /// Sets the bid of the keyword at `pos` (see [`Account::keyword_pos`]), skipping the id
    /// lookup (for engines that already hold positions).
    ///
    /// # Errors
    /// [`Error::UnknownId`] for a position out of range, or [`Error::InvalidValue`] if the bid
    /// is outside the plan's limits. On error the account is unchanged.
    pub fn set_bid_at(&mut self, pos: KeywordPos, bid: Money) -> Result<()> {
        let (i, j) = pos;
        let p = self.plans.get_mut(i).ok_or_else(|| Error::UnknownId {
            kind: "plan",
            id: format!("#{i}"),
        })?;
        let (min, max) = (p.min_bid, p.max_bid);
        let k = p.keywords.get_mut(j).ok_or_else(|| Error::UnknownId {
            kind: "keyword",
            id: format!("#{i}.{j}"),
        })?;
        if bid < min || bid > max || bid.micros() <= 0 {
            return Err(Error::invalid(
                format!("keyword {}.bid", k.id),
                bid,
                format!("must be > 0 and within [{min}, {max}]"),
            ));
        }
        k.bid = bid;
        Ok(())
    }

    /// Sets a plan's daily budget.
    ///
    /// # Errors
    /// [`Error::UnknownId`], or [`Error::InvalidValue`] for a negative budget.
    pub fn set_daily_budget(&mut self, id: &PlanId, budget: Money) -> Result<()> {
        let i = self.plan_pos(id).ok_or_else(|| Self::unknown_plan(id))?;
        if budget.is_negative() {
            return Err(Error::invalid(
                format!("plan {id}.daily_budget"),
                budget,
                "must be >= 0",
            ));
        }
        self.plans[i].daily_budget = budget;
        Ok(())
    }

    /// Sets a keyword's status.
    ///
    /// # Errors
    /// [`Error::UnknownId`].
    pub fn set_keyword_status(&mut self, id: &KeywordId, status: Status) -> Result<()> {
        let (i, j) = self
            .keyword_pos(id)
            .ok_or_else(|| Self::unknown_keyword(id))?;
        self.plans[i].keywords[j].status = status;
        Ok(())
    }

    /// Sets a creative's status (the engine pauses a test's losers with it).
    ///
    /// # Errors
    /// [`Error::UnknownId`].
    pub fn set_creative_status(&mut self, id: &CreativeId, status: Status) -> Result<()> {
        let (i, j) = self.creative_pos(id).ok_or_else(|| Error::UnknownId {
            kind: "creative",
            id: id.to_string(),
        })?;
        self.plans[i].creatives[j].status = status;
        Ok(())
    }

    /// Sets a plan's status.
    ///
    /// # Errors
    /// [`Error::UnknownId`].
    pub fn set_plan_status(&mut self, id: &PlanId, status: Status) -> Result<()> {
        let i = self.plan_pos(id).ok_or_else(|| Self::unknown_plan(id))?;
        self.plans[i].status = status;
        Ok(())
    }

    /// Adds a keyword to a plan.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for the plan, [`Error::DuplicateId`] for the keyword id, or any
    /// validation error of the plan with the keyword added. On error the account is unchanged.
    pub fn add_keyword(&mut self, plan: &PlanId, keyword: Keyword) -> Result<()> {
        let i = self
            .plan_pos(plan)
            .ok_or_else(|| Self::unknown_plan(plan))?;
        if self.keyword_index.contains_key(&keyword.id) {
            return Err(Error::DuplicateId {
                kind: "keyword",
                id: keyword.id.to_string(),
            });
        }
        let mut p = self.plans[i].clone();
        p.keywords.push(keyword);
        p.validate(&format!("plans[{i}]"))?;
        let j = p.keywords.len() - 1;
        self.keyword_index.insert(p.keywords[j].id.clone(), (i, j));
        self.plans[i] = p;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(x: i64) -> Money {
        Money::from_units(x).unwrap()
    }

    fn plan(id: &str) -> Plan {
        Plan::new(id, "P", y(100), y(0), y(5)).with_keyword(Keyword::new(
            format!("{id}-k1"),
            "red dress",
            MatchType::Exact,
            y(1),
        ))
    }

    #[test]
    fn validation_errors_name_the_field() {
        let mut p = plan("a");
        p.min_bid = y(6);
        match Account::new("s", "CNY", vec![p]) {
            Err(Error::InvalidValue { field, .. }) => assert_eq!(field, "plans[0].min_bid"),
            e => panic!("{e:?}"),
        }
        let mut p = plan("a");
        p.keywords[0].bid = y(9);
        match Account::new("s", "CNY", vec![plan("z"), p]) {
            Err(Error::InvalidValue { field, .. }) => assert_eq!(field, "plans[1].keywords[0].bid"),
            e => panic!("{e:?}"),
        }
        let mut p = plan("a");
        p.name = " ".into();
        assert!(Account::new("s", "CNY", vec![p]).is_err());
        let mut p = plan("a");
        p.daily_budget = Money::from_micros(-1);
        assert!(Account::new("s", "CNY", vec![p]).is_err());
        let mut p = plan("a");
        p.keywords[0].text = "!!".into();
        assert!(Account::new("s", "CNY", vec![p]).is_err());
        let p = plan("a").with_objective(Objective::TargetRoi { roi: f64::NAN });
        assert!(Account::new("s", "CNY", vec![p]).is_err());
        assert!(Account::new("", "CNY", vec![]).is_err());
    }

    #[test]
    fn duplicates_are_rejected() {
        assert!(matches!(
            Account::new("s", "CNY", vec![plan("a"), plan("a")]),
            Err(Error::DuplicateId { kind: "plan", .. })
        ));
        let mut b = plan("b");
        b.keywords[0].id = KeywordId::new("a-k1");
        assert!(matches!(
            Account::new("s", "CNY", vec![plan("a"), b]),
            Err(Error::DuplicateId {
                kind: "keyword",
                ..
            })
        ));
        let p = plan("a").with_keyword(Keyword::new("x", "Red Dress", MatchType::Exact, y(1)));
        assert!(matches!(
            Account::new("s", "CNY", vec![p]),
            Err(Error::DuplicateId { .. })
        ));
    }

    #[test]
    fn setters_validate_and_leave_state_on_error() {
        let mut a = Account::new("s", "CNY", vec![plan("a")]).unwrap();
        let before = a.clone();
        assert!(a.set_bid(&KeywordId::new("a-k1"), y(50)).is_err());
        assert!(a.set_bid(&KeywordId::new("nope"), y(1)).is_err());
        assert!(
            a.add_keyword(
                &PlanId::new("a"),
                Keyword::new("a-k1", "x", MatchType::Broad, y(1))
            )
            .is_err()
        );
        assert!(
            a.add_keyword(
                &PlanId::new("a"),
                Keyword::new("n", "", MatchType::Broad, y(1))
            )
            .is_err()
        );
        assert_eq!(a, before);
        a.set_bid(&KeywordId::new("a-k1"), y(2)).unwrap();
        a.add_keyword(
            &PlanId::new("a"),
            Keyword::new("n", "blue", MatchType::Broad, y(1)),
        )
        .unwrap();
        assert_eq!(a.keyword(&KeywordId::new("n")).unwrap().1.text, "blue");
        assert_eq!(a.keyword(&KeywordId::new("a-k1")).unwrap().1.bid, y(2));
    }

    #[test]
    fn json_round_trip_rebuilds_indexes() {
        let a = Account::new("s", "CNY", vec![plan("a"), plan("b")]).unwrap();
        let j = serde_json::to_string(&a).unwrap();
        let b: Account = serde_json::from_str(&j).unwrap();
        assert_eq!(a, b);
        assert_eq!(b.keyword_pos(&KeywordId::new("b-k1")), Some((1, 0)));
    }
}

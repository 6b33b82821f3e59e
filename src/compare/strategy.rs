//! Strategies: what sets budgets and bids in a simulated run.
//!
//! The runner calls [`Strategy::start_day`] every morning with yesterday's report (the
//! strategy keeps whatever history it wants) and [`Strategy::before_hour`] before each hour,
//! where a pacing strategy may set each plan's throttle and bid multiplier. Budgets are fixed
//! for the day at `start_day`: the runner rejects a strategy that changes them mid-day.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::{CalendarEvent, Decision, Engine, EngineConfig};
use crate::error::{Error, Result};
use crate::estimate::Forgetting;
use crate::model::{Account, Date, Objective, PlanId, Report, Status};
use crate::money::Money;
use crate::pacing::Pacer;
use crate::policy::{BuiltinPolicy, EpsilonGreedy};
use crate::sim::{
    BudgetOracle, Controls, OracleObjective, OraclePlayer, Scenario, budget_oracle, oracle,
};

/// Something that sets budgets and bids day by day (and, if it paces, hour by hour).
///
/// Indexes in [`Controls`] follow the scenario's account: plans in order, keywords flattened
/// plan by plan.
pub trait Strategy: Send {
    /// The controls for day `day` (date `date`), given yesterday's report (`None` on the
    /// first day). The returned budgets hold for the whole day.
    ///
    /// # Errors
    /// Whatever the strategy fails with; the run stops with it.
    fn start_day(&mut self, day: u32, date: Date, yesterday: Option<&Report>) -> Result<Controls>;

    /// Before hour `hour`: adjust `controls.plan_throttle` / `plan_hour_multiplier` (and bids,
    /// if wanted) given each plan's spend so far today. The default does nothing.
    ///
    /// # Errors
    /// Whatever the strategy fails with.
    fn before_hour(
        &mut self,
        _hour: u8,
        _spent_today: &[Money],
        _controls: &mut Controls,
    ) -> Result<()> {
        Ok(())
    }

    /// The decision behind today's controls, for strategies that make one (the engine
    /// strategies); recorded with [`crate::compare::Detail::Plans`]. The default is none.
    fn decision(&self) -> Option<&Decision> {
        None
    }
}

/// Builds a strategy for a scenario and a seed (the strategy's own random stream). Only the
/// oracle should read the scenario's truth; fair strategies look at `scenario.account()`.
pub type StrategyFactory =
    Arc<dyn Fn(&Scenario, u64) -> Result<Box<dyn Strategy>> + Send + Sync + 'static>;

/// A named strategy with its parameters (part of each job's identity) and its factory.
#[derive(Clone)]
pub struct StrategyEntry {
    /// Display name, unique within a comparison (e.g. `thompson`).
    pub name: String,
    /// Parameters, serialised into the job id so different settings never share results.
    pub params: serde_json::Value,
    /// Builds the strategy.
    pub factory: StrategyFactory,
}

impl std::fmt::Debug for StrategyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrategyEntry")
            .field("name", &self.name)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl StrategyEntry {
    /// A user strategy: `factory(scenario, seed)` builds it for each run.
    pub fn custom<F>(name: impl Into<String>, params: serde_json::Value, factory: F) -> Self
    where
        F: Fn(&Scenario, u64) -> Result<Box<dyn Strategy>> + Send + Sync + 'static,
    {
        StrategyEntry {
            name: name.into(),
            params,
            factory: Arc::new(factory),
        }
    }
}

/// The built-in strategies, serialisable (their JSON is the job's parameters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BuiltinStrategy {
    /// The operator's bids and budgets, set once, never touched.
    Static,
    /// The total budget split equally over the active plans; bids unchanged.
    EvenSplit,
    /// The routine done by hand today: each morning, raise bid and budget of the plans with
    /// the highest CTR yesterday by `step` and cut the lowest by `step`.
    ManualRule {
        /// Relative step, e.g. 0.1.
        step: f64,
        /// Share of plans raised (and, separately, cut), e.g. 0.25.
        share: f64,
    },
    /// The engine with a policy, a forgetting half-life (days) and optional hourly pacing.
    Engine {
        /// The bandit policy.
        policy: BuiltinPolicy,
        /// Half-life of evidence in days.
        half_life_days: f64,
        /// Pace each plan's day with the engine's pacer.
        pacing: bool,
        /// Further configuration (calendar, objective, exploration, any config field);
        /// omitted from the parameters when default, so earlier job ids stay.
        #[serde(default, skip_serializing_if = "EngineSettings::is_default")]
        settings: EngineSettings,
    },
    /// The budget-aware oracle: each day's best bids and budgets from that day's truth
    /// ([`crate::sim::budget_oracle`]), bids set by hour group.
    Oracle,
    /// The best fixed allocation in hindsight over the horizon ([`crate::sim::oracle()`]),
    /// kept for comparison with earlier results: not a ceiling.
    OracleFixed,
}

/// The named built-in strategies (several names share the [`BuiltinStrategy::Engine`]
/// variant with different settings). Serialised as the snake-case name.
///
/// The engine strategies (`eps_greedy`: epsilon-greedy with epsilon 0.1; `ucb`: Bayes-UCB;
/// `thompson`: Thompson sampling) forget with a half-life of 7 days and pace each hour;
/// `thompson_forget` is Thompson sampling with a 3-day half-life, for markets that move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuiltinName {
    /// [`BuiltinStrategy::Static`].
    Static,
    /// [`BuiltinStrategy::EvenSplit`].
    EvenSplit,
    /// [`BuiltinStrategy::ManualRule`] with step 0.1 and share 0.25.
    ManualRule,
    /// The engine with epsilon-greedy (epsilon 0.1).
    EpsGreedy,
    /// The engine with Bayes-UCB.
    Ucb,
    /// The engine with Thompson sampling (7-day half-life).
    Thompson,
    /// The engine with Thompson sampling and a 3-day half-life.
    ThompsonForget,
    /// [`BuiltinStrategy::Oracle`].
    Oracle,
    /// [`BuiltinStrategy::OracleFixed`].
    OracleFixed,
}

impl BuiltinName {
    /// Every name, in discriminant order (checked at compile time below).
    pub const ALL: [BuiltinName; 9] = [
        BuiltinName::Static,
        BuiltinName::EvenSplit,
        BuiltinName::ManualRule,
        BuiltinName::EpsGreedy,
        BuiltinName::Ucb,
        BuiltinName::Thompson,
        BuiltinName::ThompsonForget,
        BuiltinName::Oracle,
        BuiltinName::OracleFixed,
    ];

    /// The name as written on the command line and in files.
    pub const fn as_str(self) -> &'static str {
        match self {
            BuiltinName::Static => "static",
            BuiltinName::EvenSplit => "even_split",
            BuiltinName::ManualRule => "manual_rule",
            BuiltinName::EpsGreedy => "eps_greedy",
            BuiltinName::Ucb => "ucb",
            BuiltinName::Thompson => "thompson",
            BuiltinName::ThompsonForget => "thompson_forget",
            BuiltinName::Oracle => "oracle",
            BuiltinName::OracleFixed => "oracle_fixed",
        }
    }
}

// ALL lists each variant once, in order: a variant added to the enum but not to ALL (or
// out of order) fails to compile here.
const _: () = {
    let mut i = 0;
    while i < BuiltinName::ALL.len() {
        assert!(BuiltinName::ALL[i] as usize == i);
        i += 1;
    }
    assert!(BuiltinName::OracleFixed as usize + 1 == BuiltinName::ALL.len());
};

impl std::fmt::Display for BuiltinName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for BuiltinName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        BuiltinName::ALL
            .into_iter()
            .find(|n| n.as_str() == s)
            .ok_or_else(|| Error::UnknownId {
                kind: "strategy",
                id: s.to_owned(),
            })
    }
}

/// Names accepted by [`BuiltinStrategy::by_name`], in the order of [`BuiltinStrategy::all`]:
/// [`BuiltinName::ALL`] as text.
pub const BUILTIN_NAMES: [&str; BuiltinName::ALL.len()] = {
    let mut out = [""; BuiltinName::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = BuiltinName::ALL[i].as_str();
        i += 1;
    }
    out
};

impl BuiltinStrategy {
    /// Whether the strategy reads the market's truth (an oracle: a reference, not a fair
    /// strategy; building it solves the scenario).
    pub fn reads_truth(&self) -> bool {
        matches!(self, BuiltinStrategy::Oracle | BuiltinStrategy::OracleFixed)
    }

    /// A built-in by name (see [`BUILTIN_NAMES`]).
    ///
    /// # Errors
    /// [`Error::UnknownId`] for an unknown name.
    pub fn by_name(name: &str) -> Result<Self> {
        Self::named(name.parse()?)
    }

    /// A built-in by its typed name.
    ///
    /// # Errors
    /// Never in practice (the built-in parameters are valid).
    pub fn named(name: BuiltinName) -> Result<Self> {
        let engine = |policy, half_life_days| BuiltinStrategy::Engine {
            policy,
            half_life_days,
            pacing: true,
            settings: EngineSettings::default(),
        };
        Ok(match name {
            BuiltinName::Static => BuiltinStrategy::Static,
            BuiltinName::EvenSplit => BuiltinStrategy::EvenSplit,
            BuiltinName::ManualRule => BuiltinStrategy::ManualRule {
                step: 0.1,
                share: 0.25,
            },
            BuiltinName::EpsGreedy => engine(
                BuiltinPolicy::EpsilonGreedy(EpsilonGreedy::fixed(0.1)?),
                7.0,
            ),
            BuiltinName::Ucb => engine(BuiltinPolicy::bayes_ucb(), 7.0),
            BuiltinName::Thompson => engine(BuiltinPolicy::thompson(), 7.0),
            BuiltinName::ThompsonForget => engine(BuiltinPolicy::thompson(), 3.0),
            BuiltinName::Oracle => BuiltinStrategy::Oracle,
            BuiltinName::OracleFixed => BuiltinStrategy::OracleFixed,
        })
    }

    /// Every built-in, named as in [`BUILTIN_NAMES`].
    ///
    /// # Errors
    /// Never in practice (the built-in parameters are valid).
    pub fn all() -> Result<Vec<StrategyEntry>> {
        BUILTIN_NAMES
            .iter()
            .map(|n| Ok(BuiltinStrategy::by_name(n)?.entry(*n)))
            .collect()
    }

    /// Entries for a list of names.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for an unknown name.
    pub fn entries(names: &[&str]) -> Result<Vec<StrategyEntry>> {
        names
            .iter()
            .map(|n| Ok(BuiltinStrategy::by_name(n)?.entry(*n)))
            .collect()
    }

    /// This strategy as a named entry for the runner.
    pub fn entry(self, name: impl Into<String>) -> StrategyEntry {
        let params = serde_json::to_value(&self).unwrap_or(serde_json::Value::Null);
        StrategyEntry {
            name: name.into(),
            params,
            factory: Arc::new(move |sc: &Scenario, seed: u64| self.build(sc, seed)),
        }
    }

    /// Builds the strategy for a scenario.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for bad parameters; engine construction errors.
    pub fn build(&self, scenario: &Scenario, seed: u64) -> Result<Box<dyn Strategy>> {
        let account = scenario.account().clone();
        Ok(match self {
            BuiltinStrategy::Static => Box::new(Static::new(&account)),
            BuiltinStrategy::EvenSplit => Box::new(EvenSplit::for_scenario(scenario)?),
            BuiltinStrategy::ManualRule { step, share } => {
                Box::new(ManualRule::new(account, *step, *share)?)
            }
            BuiltinStrategy::Engine {
                policy,
                half_life_days,
                pacing,
                settings,
            } => {
                let config = settings.config(*half_life_days, Some(scenario))?;
                // The engine starts with what exists on day 0 and is given launches as they
                // happen.
                Box::new(
                    EngineStrategy::new(
                        Engine::with_policy(scenario.account_on(0)?, config, policy.clone(), seed)?,
                        *pacing,
                    )
                    .with_launches(scenario),
                )
            }
            BuiltinStrategy::Oracle => Box::new(OracleStrategy::new(scenario)?),
            BuiltinStrategy::OracleFixed => Box::new(FixedOracleStrategy::new(scenario)?),
        })
    }

    /// For [`BuiltinStrategy::Engine`], the engine it runs, built on `account` with `seed` and
    /// not yet fed anything (so a caller can first [`Engine::observe`] a history and then wrap
    /// it with [`EngineStrategy::new`], `pacing` as in the variant); `None` for the other
    /// built-ins.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a bad half-life; engine construction errors;
    /// [`Error::InvalidValue`] for settings that take the scenario's calendar (use
    /// [`BuiltinStrategy::engine_on`]).
    pub fn engine(&self, account: Account, seed: u64) -> Result<Option<Engine>> {
        self.engine_with(None, account, seed)
    }

    /// [`BuiltinStrategy::engine`] for a run on `scenario` (whose calendar the settings may
    /// take).
    ///
    /// # Errors
    /// As [`BuiltinStrategy::engine`], and [`EngineSettings::config`].
    pub fn engine_on(
        &self,
        scenario: &Scenario,
        account: Account,
        seed: u64,
    ) -> Result<Option<Engine>> {
        self.engine_with(Some(scenario), account, seed)
    }

    fn engine_with(
        &self,
        scenario: Option<&Scenario>,
        account: Account,
        seed: u64,
    ) -> Result<Option<Engine>> {
        let BuiltinStrategy::Engine {
            policy,
            half_life_days,
            settings,
            ..
        } = self
        else {
            return Ok(None);
        };
        let config = settings.config(*half_life_days, scenario)?;
        Ok(Some(Engine::with_policy(
            account,
            config,
            policy.clone(),
            seed,
        )?))
    }
}

/// One entry of a strategy file (see [`strategies_from_json`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedStrategy {
    /// Display name, unique in the file.
    pub name: String,
    /// The built-in to start from (default: `name`); ignored when `params` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<BuiltinName>,
    /// Explicit parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<BuiltinStrategy>,
    /// Engine settings replacing the built-in's (engine strategies only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<EngineSettings>,
}

impl NamedStrategy {
    /// The strategy this entry describes.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for an unknown built-in; [`Error::InvalidValue`] for settings on
    /// a strategy that is not an engine.
    pub fn strategy(&self) -> Result<BuiltinStrategy> {
        let mut s = match (&self.params, self.builtin) {
            (Some(p), _) => p.clone(),
            (None, Some(b)) => BuiltinStrategy::named(b)?,
            (None, None) => BuiltinStrategy::by_name(&self.name)?,
        };
        if let Some(new) = &self.settings {
            let BuiltinStrategy::Engine { settings, .. } = &mut s else {
                return Err(Error::invalid(
                    format!("strategies.{}.settings", self.name),
                    &self.name,
                    "only engine strategies take settings",
                ));
            };
            *settings = new.clone();
        }
        Ok(s)
    }
}

/// Strategies from a JSON list, e.g.
/// `[{"name": "static"}, {"name": "told", "builtin": "thompson",
///    "settings": {"calendar": "scenario"}}]`.
///
/// # Errors
/// [`Error::Serde`] for malformed JSON or unknown fields, [`Error::DuplicateId`] for a name
/// given twice, and the errors of [`NamedStrategy::strategy`].
pub fn strategies_from_json(text: &str) -> Result<Vec<StrategyEntry>> {
    let list: Vec<NamedStrategy> = serde_json::from_str(text)?;
    let mut seen = std::collections::BTreeSet::new();
    list.iter()
        .map(|n| {
            if !seen.insert(n.name.as_str()) {
                return Err(Error::DuplicateId {
                    kind: "strategy",
                    id: n.name.clone(),
                });
            }
            Ok(n.strategy()?.entry(n.name.clone()))
        })
        .collect()
}

/// Which calendar an engine strategy is told.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarSource {
    /// No events (the default: the engine learns promotions as they come).
    #[default]
    None,
    /// The scenario's own market events, as the operator would know them in advance
    /// (name, dates, traffic and conversion factors; rival bids are not told).
    Scenario,
    /// These events.
    Events(Vec<CalendarEvent>),
}

/// An engine strategy's configuration beyond its policy and half-life, as written in a
/// sweep or strategy file:
/// `{"calendar": "scenario", "objective": {"kind": "max_conversions"},
///   "exploration_floor": 0.1, "config": {"max_budget_step": 0.2}}`.
///
/// The engine's config is built from [`EngineConfig::default`], then `config` (any of its
/// fields, by name, replacing them), then the half-life, `objective`, `exploration_floor`
/// and the calendar; the result is validated as a whole.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSettings {
    /// The calendar the engine is told.
    #[serde(default, skip_serializing_if = "is_no_calendar")]
    pub calendar: CalendarSource,
    /// The account-level objective (default: the engine's, max revenue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objective: Option<Objective>,
    /// The exploration floor (share of an even split a plan being learned keeps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exploration_floor: Option<f64>,
    /// Any other [`EngineConfig`] fields, as in its JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
}

fn is_no_calendar(c: &CalendarSource) -> bool {
    *c == CalendarSource::None
}

impl EngineSettings {
    /// Whether these are the defaults (nothing beyond policy and half-life).
    pub fn is_default(&self) -> bool {
        *self == EngineSettings::default()
    }

    /// The engine config these settings describe with `half_life_days`, on `scenario`
    /// (needed for [`CalendarSource::Scenario`]).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the field for a `config` that is not an object or
    /// names an unknown field, a config that does not validate, a scenario calendar without
    /// a scenario, or a scenario event the engine's calendar cannot hold;
    /// [`Error::InvalidParameter`] for a bad half-life.
    pub fn config(&self, half_life_days: f64, scenario: Option<&Scenario>) -> Result<EngineConfig> {
        let mut config = match &self.config {
            None => EngineConfig::default(),
            Some(over) => {
                let Some(over) = over.as_object() else {
                    return Err(Error::invalid(
                        "settings.config",
                        over,
                        "must be an object of engine config fields",
                    ));
                };
                let mut base = serde_json::to_value(EngineConfig::default())?;
                for (k, v) in over {
                    let Some(slot) = base.as_object_mut().and_then(|b| b.get_mut(k)) else {
                        return Err(Error::invalid(
                            format!("settings.config.{k}"),
                            k,
                            "no such engine config field",
                        ));
                    };
                    *slot = v.clone();
                }
                serde_json::from_value(base).map_err(|e| {
                    Error::invalid("settings.config", "engine config", e.to_string())
                })?
            }
        };
        config.forgetting = Forgetting::half_life(half_life_days)?;
        if let Some(o) = self.objective {
            config.objective = o;
        }
        if let Some(f) = self.exploration_floor {
            config.exploration_floor = f;
        }
        match &self.calendar {
            CalendarSource::None => {}
            CalendarSource::Events(e) => config.events = e.clone(),
            CalendarSource::Scenario => {
                let Some(sc) = scenario else {
                    return Err(Error::invalid(
                        "settings.calendar",
                        "scenario",
                        "needs the scenario the strategy runs on",
                    ));
                };
                config.events = scenario_calendar(sc)?;
            }
        }
        config.validate()?;
        Ok(config)
    }
}

/// The scenario's market events as the engine's calendar. Since the engine and the
/// simulator share one calendar type ([`crate::model::calendar`]), these are the scenario's
/// own events.
///
/// # Errors
/// None today; kept fallible so a calendar the engine cannot hold can be refused.
pub fn scenario_calendar(scenario: &Scenario) -> Result<Vec<CalendarEvent>> {
    Ok(scenario.truth().market().events.clone())
}

/// The operator's settings, never changed.
#[derive(Debug, Clone)]
pub struct Static {
    controls: Controls,
}

impl Static {
    /// Keeps `account`'s budgets and bids.
    pub fn new(account: &Account) -> Self {
        Static {
            controls: Controls::from_account(account),
        }
    }
}

impl Strategy for Static {
    fn start_day(&mut self, _: u32, _: Date, _: Option<&Report>) -> Result<Controls> {
        Ok(self.controls.clone())
    }
}

/// Equal budgets over the active plans (same total), bids unchanged.
#[derive(Debug, Clone)]
pub struct EvenSplit {
    controls: Controls,
    /// With launches: the scenario, to split over the plans that exist each day.
    scenario: Option<Scenario>,
}

impl EvenSplit {
    /// Splits `account`'s total daily budget equally over its active plans.
    ///
    /// # Errors
    /// [`Error::Overflow`] if the budgets overflow.
    pub fn new(account: &Account) -> Result<Self> {
        let mut controls = Controls::from_account(account);
        let total = account.total_daily_budget()?.micros();
        let active: Vec<bool> = account
            .plans()
            .iter()
            .map(|p| p.status == Status::Active)
            .collect();
        let n = active.iter().filter(|a| **a).count().max(1) as i64;
        for (b, a) in controls.plan_budget.iter_mut().zip(&active) {
            *b = Money::from_micros(if *a { total / n } else { 0 });
        }
        Ok(EvenSplit {
            controls,
            scenario: None,
        })
    }

    /// As [`EvenSplit::new`] on the scenario's account; in a scenario with launches the
    /// total is split, each day, over the plans that exist that day.
    ///
    /// # Errors
    /// [`Error::Overflow`] if the budgets overflow.
    pub fn for_scenario(scenario: &Scenario) -> Result<Self> {
        let mut s = EvenSplit::new(scenario.account())?;
        if !scenario.truth().market().launches.is_empty() {
            s.scenario = Some(scenario.clone());
        }
        Ok(s)
    }
}

impl Strategy for EvenSplit {
    fn start_day(&mut self, day: u32, _: Date, _: Option<&Report>) -> Result<Controls> {
        let Some(sc) = &self.scenario else {
            return Ok(self.controls.clone());
        };
        if day == 0 || !sc.changes_on(day).is_empty() {
            // The operator's whole total, split over what exists today.
            let mut view = sc.account_on(day)?;
            let total = sc.account().total_daily_budget()?.micros();
            let ids: Vec<_> = view
                .plans()
                .iter()
                .filter(|p| p.status == Status::Active)
                .map(|p| p.id.clone())
                .collect();
            let n = ids.len().max(1) as i64;
            for id in &ids {
                view.set_daily_budget(id, Money::from_micros(total / n))?;
            }
            self.controls = Controls::from_view(sc.account(), &view);
        }
        Ok(self.controls.clone())
    }
}

/// The manual routine: every morning raise bid and budget of yesterday's highest-CTR plans
/// by `step`, cut the lowest by `step`, keep the total budget.
#[derive(Debug, Clone)]
pub struct ManualRule {
    account: Account,
    controls: Controls,
    total: i64,
    step: f64,
    share: f64,
}

impl ManualRule {
    /// Starts from `account`'s settings.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `step` is in (0, 1) and `share` in (0, 0.5].
    pub fn new(account: Account, step: f64, share: f64) -> Result<Self> {
        if !(step > 0.0 && step < 1.0) {
            return Err(Error::parameter(
                "manual_rule.step",
                step,
                "must be in (0, 1)",
            ));
        }
        if !(share > 0.0 && share <= 0.5) {
            return Err(Error::parameter(
                "manual_rule.share",
                share,
                "must be in (0, 0.5]",
            ));
        }
        let controls = Controls::from_account(&account);
        let total = account.total_daily_budget()?.micros();
        Ok(ManualRule {
            account,
            controls,
            total,
            step,
            share,
        })
    }
}

impl Strategy for ManualRule {
    fn start_day(&mut self, _: u32, _: Date, yesterday: Option<&Report>) -> Result<Controls> {
        let Some(report) = yesterday else {
            return Ok(self.controls.clone());
        };
        let by_plan = report.by_plan()?;
        // Plans with impressions yesterday, ranked by CTR (ties by account order).
        let mut ranked: Vec<(f64, usize)> = self
            .account
            .plans()
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((by_plan.get(&p.id)?.ctr()?, i)))
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let n = ranked.len();
        if n < 2 {
            return Ok(self.controls.clone());
        }
        let m = ((n as f64 * self.share).round() as usize).clamp(1, n / 2);
        let mut factor = vec![1.0; self.account.plans().len()];
        for &(_, i) in &ranked[..m] {
            factor[i] = 1.0 + self.step;
        }
        for &(_, i) in &ranked[n - m..] {
            factor[i] = 1.0 - self.step;
        }
        let mut k = 0;
        for (i, p) in self.account.plans().iter().enumerate() {
            let b = &mut self.controls.plan_budget[i];
            *b = Money::from_micros((b.micros() as f64 * factor[i]).round() as i64);
            for _ in &p.keywords {
                let bid = &mut self.controls.keyword_bid[k];
                let lo = p.min_bid.micros().max(1);
                let hi = p.max_bid.micros().max(lo);
                *bid = Money::from_micros(
                    ((bid.micros() as f64 * factor[i]).round() as i64).clamp(lo, hi),
                );
                k += 1;
            }
        }
        // The operator's total budget is fixed: scale down if the raises outgrew the cuts.
        let sum: i64 = self.controls.plan_budget.iter().map(|b| b.micros()).sum();
        if sum > self.total && sum > 0 {
            let s = self.total as f64 / sum as f64;
            for b in &mut self.controls.plan_budget {
                *b = Money::from_micros((b.micros() as f64 * s).floor() as i64);
            }
        }
        Ok(self.controls.clone())
    }
}

/// The engine as a strategy: observe yesterday, decide today, pace each hour.
#[derive(Debug)]
pub struct EngineStrategy {
    engine: Engine,
    pacing: bool,
    /// Each paced plan's index in the controls, its id and its pacer.
    pacers: Vec<(usize, PlanId, Pacer)>,
    /// With launches: the scenario whose plans and keywords the engine is given as they
    /// launch (its account is the controls' index space).
    scenario: Option<Scenario>,
    last: Option<Decision>,
}

impl EngineStrategy {
    /// Wraps an engine; with `pacing`, each plan's day is paced by [`Engine::pacer`].
    pub fn new(engine: Engine, pacing: bool) -> Self {
        EngineStrategy {
            engine,
            pacing,
            pacers: Vec::new(),
            scenario: None,
            last: None,
        }
    }

    /// Gives the engine `scenario`'s plans and keywords when they launch
    /// ([`Engine::add_plan`], [`Engine::add_keyword`]) and pauses those that end; the
    /// engine should start from [`Scenario::account_on`]`(0)`. A scenario without launches
    /// changes nothing.
    pub fn with_launches(mut self, scenario: &Scenario) -> Self {
        if !scenario.truth().market().launches.is_empty() {
            self.scenario = Some(scenario.clone());
        }
        self
    }

    /// The engine (e.g. to snapshot it after a run).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The engine, to change (e.g. a harness feeding it evidence between days).
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }
}

impl Strategy for EngineStrategy {
    fn start_day(&mut self, day: u32, date: Date, yesterday: Option<&Report>) -> Result<Controls> {
        if let Some(r) = yesterday {
            // The bids yesterday's clicks were bought at: the engine's times each pacer's
            // scale (weighted by the day's spend; the report is yesterday's).
            let day_before = date.add_days(-1);
            let spent = r.by_plan()?;
            for (_, id, pacer) in &self.pacers {
                let cost = spent.get(id).map_or(Money::ZERO, |s| s.cost());
                self.engine
                    .record_bid_scale(id, day_before, pacer.mean_bid_scale(cost))?;
            }
            self.engine.observe(r)?;
        }
        if let Some(sc) = &self.scenario {
            let ch = sc.changes_on(day);
            for p in ch.plans {
                if self.engine.account().plan(&p.id).is_none() {
                    self.engine.add_plan(p)?;
                }
            }
            for (plan, k) in ch.keywords {
                if self.engine.account().keyword(&k.id).is_none() {
                    self.engine.add_keyword(&plan, k)?;
                }
            }
            for k in ch.ended {
                if self.engine.account().keyword(&k).is_some() {
                    self.engine.set_keyword_status(&k, Status::Paused)?;
                }
            }
        }
        let decision = self.engine.decide(date)?;
        let full = self.scenario.as_ref().map(|s| s.account());
        let index = |id| match full {
            Some(a) => a.plan_pos(id),
            None => self.engine.account().plan_pos(id),
        };
        let mut controls = match full {
            Some(a) => Controls::from_view(a, self.engine.account()),
            None => Controls::from_account(self.engine.account()),
        };
        for d in &decision.budgets {
            if let Some(i) = index(&d.plan) {
                let b = &mut controls.plan_budget[i];
                *b = d.spend_cap.min(*b).max(Money::ZERO);
            }
        }
        // The creative tests' rotations, in the controls' account's creative order.
        if !decision.creatives.is_empty() {
            let plans = full.unwrap_or(self.engine.account()).plans();
            if controls.plan_creative_weights.len() != plans.len() {
                controls.plan_creative_weights = vec![Vec::new(); plans.len()];
            }
            for t in &decision.creatives {
                if let Some(i) = index(&t.plan) {
                    controls.plan_creative_weights[i] = plans[i]
                        .creatives
                        .iter()
                        .map(|c| t.weight_of(&c.id))
                        .collect();
                }
            }
        }
        self.pacers.clear();
        if self.pacing {
            for p in self.engine.account().plans() {
                if let Some(i) = index(&p.id) {
                    self.pacers
                        .push((i, p.id.clone(), self.engine.pacer(&p.id, date)?));
                }
            }
        }
        self.last = Some(decision);
        Ok(controls)
    }

    fn decision(&self) -> Option<&Decision> {
        self.last.as_ref()
    }

    fn before_hour(&mut self, hour: u8, spent: &[Money], controls: &mut Controls) -> Result<()> {
        for (i, _, pacer) in self.pacers.iter_mut() {
            let i = *i;
            let c = pacer.control(hour, spent.get(i).copied().unwrap_or(Money::ZERO));
            // The market applies the schedule itself; the pacer throttles and scales bids.
            controls.plan_throttle[i] = c.throttle.clamp(0.0, 1.0);
            controls.plan_hour_multiplier[i] = c.bid_scale.clamp(0.0, 10.0);
        }
        Ok(())
    }
}

/// The budget-aware oracle ([`budget_oracle`]) played by an [`OraclePlayer`]: each day's
/// budgets from that day's truth, bids re-solved before each hour on the spend so far.
#[derive(Debug, Clone)]
pub struct OracleStrategy {
    player: OraclePlayer,
}

impl OracleStrategy {
    /// The oracle over the whole scenario.
    ///
    /// # Errors
    /// As [`budget_oracle`].
    pub fn new(scenario: &Scenario) -> Result<Self> {
        let oracle = budget_oracle(scenario, 0..scenario.days(), OracleObjective::Revenue)?;
        Ok(Self::from_oracle(Arc::new(oracle), scenario))
    }

    /// Plays an oracle already computed for `scenario` (it must cover the days simulated).
    pub fn from_oracle(oracle: Arc<BudgetOracle>, scenario: &Scenario) -> Self {
        OracleStrategy {
            player: OraclePlayer::new(oracle, scenario),
        }
    }

    /// The oracle it plays.
    pub fn oracle(&self) -> &BudgetOracle {
        self.player.oracle()
    }
}

impl Strategy for OracleStrategy {
    fn start_day(&mut self, day: u32, _: Date, _: Option<&Report>) -> Result<Controls> {
        self.player.start_day(day)
    }

    fn before_hour(&mut self, hour: u8, spent: &[Money], controls: &mut Controls) -> Result<()> {
        self.player.before_hour(hour, spent, controls)
    }
}

/// The fixed oracle allocation (from the truth) every day: the best fixed bids and budgets
/// in hindsight over the horizon (not a ceiling; see [`crate::sim::oracle()`]).
#[derive(Debug, Clone)]
pub struct FixedOracleStrategy {
    controls: Controls,
}

impl FixedOracleStrategy {
    /// The best fixed allocation over the whole scenario.
    ///
    /// # Errors
    /// As [`oracle()`].
    pub fn new(scenario: &Scenario) -> Result<Self> {
        let plan = oracle(scenario, 0..scenario.days(), OracleObjective::Revenue)?;
        Ok(FixedOracleStrategy {
            controls: plan.controls(),
        })
    }
}

impl Strategy for FixedOracleStrategy {
    fn start_day(&mut self, _: u32, _: Date, _: Option<&Report>) -> Result<Controls> {
        Ok(self.controls.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_enum_and_round_trip() {
        assert_eq!(BUILTIN_NAMES.len(), BuiltinName::ALL.len());
        for (n, s) in BuiltinName::ALL.into_iter().zip(BUILTIN_NAMES) {
            assert_eq!(n.as_str(), s);
            assert_eq!(s.parse::<BuiltinName>().unwrap(), n);
            assert_eq!(serde_json::to_value(n).unwrap(), serde_json::json!(s));
            assert!(BuiltinStrategy::by_name(s).is_ok(), "{s}");
        }
        assert!("magic".parse::<BuiltinName>().is_err());
        assert!(
            BuiltinStrategy::named(BuiltinName::Oracle)
                .unwrap()
                .reads_truth()
        );
        assert!(
            !BuiltinStrategy::named(BuiltinName::Ucb)
                .unwrap()
                .reads_truth()
        );
    }

    #[test]
    fn strategy_files_name_builtins_and_settings() {
        let e = strategies_from_json(
            r#"[{"name": "static"},
                {"name": "told", "builtin": "thompson", "settings": {"calendar": "scenario"}}]"#,
        )
        .unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].params["settings"]["calendar"], "scenario");
        assert_eq!(e[1].params["policy"]["kind"], "thompson");
        for bad in [
            r#"[{"name": "static", "settings": {}}]"#,
            r#"[{"name": "x"}]"#,
            r#"[{"name": "static"}, {"name": "static"}]"#,
            r#"[{"name": "ucb", "settings": {"calendr": "scenario"}}]"#,
        ] {
            assert!(strategies_from_json(bad).is_err(), "{bad}");
        }
    }
}

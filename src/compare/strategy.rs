//! Strategies: what sets budgets and bids in a simulated run.
//!
//! The runner calls [`Strategy::start_day`] every morning with yesterday's report (the
//! strategy keeps whatever history it wants) and [`Strategy::before_hour`] before each hour,
//! where a pacing strategy may set each plan's throttle and bid multiplier. Budgets are fixed
//! for the day at `start_day`: the runner rejects a strategy that changes them mid-day.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::{Engine, EngineConfig};
use crate::error::{Error, Result};
use crate::estimate::Forgetting;
use crate::model::{Account, Date, Report, Status};
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
    },
    /// The budget-aware oracle: each day's best bids and budgets from that day's truth
    /// ([`crate::sim::budget_oracle`]), bids set by hour group.
    Oracle,
    /// The best fixed allocation in hindsight over the horizon ([`crate::sim::oracle()`]),
    /// kept for comparison with earlier results: not a ceiling.
    OracleFixed,
}

/// Names accepted by [`BuiltinStrategy::by_name`], in the order of [`BuiltinStrategy::all`].
///
/// The engine strategies (`eps_greedy`: epsilon-greedy with epsilon 0.1; `ucb`: Bayes-UCB;
/// `thompson`: Thompson sampling) forget with a half-life of 7 days and pace each hour;
/// `thompson_forget` is Thompson sampling with a 3-day half-life, for markets that move.
pub const BUILTIN_NAMES: [&str; 8] = [
    "static",
    "even_split",
    "manual_rule",
    "eps_greedy",
    "ucb",
    "thompson",
    "thompson_forget",
    "oracle",
];

impl BuiltinStrategy {
    /// A built-in by name (see [`BUILTIN_NAMES`]).
    ///
    /// # Errors
    /// [`Error::UnknownId`] for an unknown name.
    pub fn by_name(name: &str) -> Result<Self> {
        let engine = |policy, half_life_days| BuiltinStrategy::Engine {
            policy,
            half_life_days,
            pacing: true,
        };
        Ok(match name {
            "static" => BuiltinStrategy::Static,
            "even_split" => BuiltinStrategy::EvenSplit,
            "manual_rule" => BuiltinStrategy::ManualRule {
                step: 0.1,
                share: 0.25,
            },
            "eps_greedy" => engine(
                BuiltinPolicy::EpsilonGreedy(EpsilonGreedy::fixed(0.1)?),
                7.0,
            ),
            "ucb" => engine(BuiltinPolicy::bayes_ucb(), 7.0),
            "thompson" => engine(BuiltinPolicy::thompson(), 7.0),
            "thompson_forget" => engine(BuiltinPolicy::thompson(), 3.0),
            "oracle" => BuiltinStrategy::Oracle,
            "oracle_fixed" => BuiltinStrategy::OracleFixed,
            _ => {
                return Err(Error::UnknownId {
                    kind: "strategy",
                    id: name.to_owned(),
                });
            }
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
            BuiltinStrategy::EvenSplit => Box::new(EvenSplit::new(&account)?),
            BuiltinStrategy::ManualRule { step, share } => {
                Box::new(ManualRule::new(account, *step, *share)?)
            }
            BuiltinStrategy::Engine {
                policy,
                half_life_days,
                pacing,
            } => Box::new(EngineStrategy::new(
                engine_for(account, policy, *half_life_days, seed)?,
                *pacing,
            )),
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
    /// [`Error::InvalidParameter`] for a bad half-life; engine construction errors.
    pub fn engine(&self, account: Account, seed: u64) -> Result<Option<Engine>> {
        let BuiltinStrategy::Engine {
            policy,
            half_life_days,
            ..
        } = self
        else {
            return Ok(None);
        };
        Ok(Some(engine_for(account, policy, *half_life_days, seed)?))
    }
}

/// The engine of [`BuiltinStrategy::Engine`]: default config with the given half-life.
fn engine_for(
    account: Account,
    policy: &BuiltinPolicy,
    half_life_days: f64,
    seed: u64,
) -> Result<Engine> {
    let config = EngineConfig {
        forgetting: Forgetting::half_life(half_life_days)?,
        ..EngineConfig::default()
    };
    Engine::with_policy(account, config, policy.clone(), seed)
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
        Ok(EvenSplit { controls })
    }
}

impl Strategy for EvenSplit {
    fn start_day(&mut self, _: u32, _: Date, _: Option<&Report>) -> Result<Controls> {
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
    pacers: Vec<Pacer>,
}

impl EngineStrategy {
    /// Wraps an engine; with `pacing`, each plan's day is paced by [`Engine::pacer`].
    pub fn new(engine: Engine, pacing: bool) -> Self {
        EngineStrategy {
            engine,
            pacing,
            pacers: Vec::new(),
        }
    }

    /// The engine (e.g. to snapshot it after a run).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

impl Strategy for EngineStrategy {
    fn start_day(&mut self, _: u32, date: Date, yesterday: Option<&Report>) -> Result<Controls> {
        if let Some(r) = yesterday {
            self.engine.observe(r)?;
        }
        let decision = self.engine.decide(date)?;
        let mut controls = Controls::from_account(self.engine.account());
        for (b, d) in controls.plan_budget.iter_mut().zip(&decision.budgets) {
            *b = d.spend_cap.min(*b).max(Money::ZERO);
        }
        self.pacers.clear();
        if self.pacing {
            for p in self.engine.account().plans() {
                self.pacers.push(self.engine.pacer(&p.id, date)?);
            }
        }
        Ok(controls)
    }

    fn before_hour(&mut self, hour: u8, spent: &[Money], controls: &mut Controls) -> Result<()> {
        for (i, pacer) in self.pacers.iter_mut().enumerate() {
            let c = pacer.control(hour, spent.get(i).copied().unwrap_or(Money::ZERO));
            // The market applies the schedule itself; the pacer only throttles.
            controls.plan_throttle[i] = c.throttle.clamp(0.0, 1.0);
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

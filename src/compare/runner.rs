//! The runner: scenarios x strategies x seeds, in parallel, reproducibly.
//!
//! [`Grid::jobs`] lists the jobs in a fixed order (scenario, then strategy, then seed). Each
//! [`Job`] carries everything that identifies it (scenario name and fingerprint, strategy name
//! and parameters, seed, master seed, fidelity, days) and a stable id hashed from those, so a
//! sweep can be sharded across machines and the [`JobResult`]s merged later.
//!
//! Randomness: the market of a job is seeded from `(master seed, MARKET, scenario
//! fingerprint, seed)`, *not* from the strategy, so every strategy meets the same traffic on
//! a seed (common random numbers, which make paired comparisons sharp); the strategy's own
//! stream comes from `(master seed, STRATEGY, scenario fingerprint, seed, strategy hash)`.
//! Jobs run on a local rayon pool; `collect` keeps job order, so results are the same bytes
//! whatever the number of threads.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cancel::Cancel;
use crate::compare::strategy::StrategyEntry;
use crate::engine::{Decision, Reason};
use crate::error::{Error, Result};
use crate::model::{CreativeId, KeywordId, PlanId, Stats};
use crate::money::Money;
use crate::rng::{self, domain};
use crate::sim::{Fidelity, Granularity, Market, OracleObjective, Scenario, budget_oracle};

/// The most worker threads a run accepts: far more than any machine's cores, far fewer than
/// would exhaust the process (a typo such as `--threads 100000` fails instead of hanging).
pub const MAX_THREADS: usize = 1024;

/// How to run a grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RunOptions {
    /// Master seed; every stream is derived from it.
    pub master_seed: u64,
    /// Days to simulate (`None` = the scenario's horizon; more than the horizon is an error).
    pub days: Option<u32>,
    /// Market fidelity.
    pub fidelity: Fidelity,
    /// Report granularity handed to strategies.
    pub granularity: Granularity,
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Show a progress bar on a terminal (feature `progress`).
    pub progress: bool,
    /// Which per-day records each run keeps (default: totals only).
    #[serde(default)]
    pub detail: Detail,
}

/// Which per-day records a run keeps besides its totals and the account's days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detail {
    /// Totals and one record per day for the account (the default).
    #[default]
    Totals,
    /// Also one record per plan per day and the engine strategies' decisions.
    Plans,
    /// Also one record per keyword per day (for each keyword that bid or was shown).
    Keywords,
}

impl std::str::FromStr for Detail {
    type Err = Error;

    /// `totals`, `plans` or `keywords`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "totals" => Ok(Detail::Totals),
            "plans" => Ok(Detail::Plans),
            "keywords" => Ok(Detail::Keywords),
            _ => Err(Error::parameter(
                "detail",
                s,
                "must be totals, plans or keywords",
            )),
        }
    }
}

impl Detail {
    fn plans(self) -> bool {
        self != Detail::Totals
    }
    fn keywords(self) -> bool {
        self == Detail::Keywords
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            master_seed: 2026,
            days: None,
            fidelity: Fidelity::Fast,
            granularity: Granularity::Daily,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            progress: false,
            detail: Detail::Totals,
        }
    }
}

/// Scenarios, strategies and seeds to compare.
#[derive(Debug, Clone)]
pub struct Grid {
    /// Scenarios.
    pub scenarios: Vec<Scenario>,
    /// Strategies (names must be unique).
    pub strategies: Vec<StrategyEntry>,
    /// Seeds (each is one replication with its own market draws).
    pub seeds: Vec<u64>,
}

/// One run: a scenario, a strategy with its parameters, a seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Stable id: a hash of every other field (hex).
    pub id: String,
    /// Scenario name.
    pub scenario: String,
    /// Hash of the scenario's JSON (hex), so two different scenarios with one name differ.
    pub scenario_fingerprint: String,
    /// Strategy name.
    pub strategy: String,
    /// Strategy parameters.
    pub params: serde_json::Value,
    /// Replication seed.
    pub seed: u64,
    /// Master seed.
    pub master_seed: u64,
    /// Market fidelity.
    pub fidelity: Fidelity,
    /// Days simulated.
    pub days: u32,
}

/// Totals of one day of one run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DayMetrics {
    /// Day index.
    pub day: u32,
    /// Impressions.
    pub impressions: u64,
    /// Clicks.
    pub clicks: u64,
    /// Conversions (orders).
    pub conversions: u64,
    /// Spend.
    pub cost: Money,
    /// Revenue.
    pub revenue: Money,
    /// Sum of the plans' budgets for the day.
    pub budget: Money,
    /// Spend beyond each plan's budget, summed over plans (must be zero).
    pub overspend: Money,
}

/// Totals and rates of one run. Money is exact (integer micros in JSON); rates are `None`
/// when undefined (no cost, no impressions, no clicks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMetrics {
    /// Impressions.
    pub impressions: u64,
    /// Clicks.
    pub clicks: u64,
    /// Conversions.
    pub conversions: u64,
    /// Spend.
    pub cost: Money,
    /// Revenue.
    pub revenue: Money,
    /// Revenue / cost (return on ad spend, the trade's "ROI").
    pub roi: Option<f64>,
    /// Clicks / impressions.
    pub ctr: Option<f64>,
    /// Cost / clicks (currency units).
    pub cpc: Option<f64>,
    /// Sum of the budgets set over the days.
    pub budget: Money,
    /// Cost / budget.
    pub budget_utilisation: Option<f64>,
    /// Spend beyond each plan-day's budget (must be zero).
    pub overspend: Money,
    /// The budget-aware oracle's ceiling on expected revenue over the same days (currency
    /// units; see [`crate::sim::budget_oracle`]): no strategy earns more in expectation.
    pub oracle_revenue: f64,
    /// `oracle_revenue` minus the revenue achieved (currency units; positive in expectation).
    pub regret: f64,
}

/// One plan on one day (kept with [`Detail::Plans`] and above).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanDay {
    /// Day index.
    pub day: u32,
    /// The plan.
    pub plan: PlanId,
    /// The plan's daily budget as the strategy set it (an engine strategy's decided budget).
    pub budget: Money,
    /// The most the market let the plan spend that day (the hard cap it ran under).
    pub spend_cap: Money,
    /// Spend.
    pub spend: Money,
    /// Impressions.
    pub impressions: u64,
    /// Clicks.
    pub clicks: u64,
    /// Conversions (orders).
    pub conversions: u64,
    /// Revenue.
    pub revenue: Money,
    /// The hour in which the budget ran out, if it did.
    pub exhausted_hour: Option<u8>,
    /// Auctions lost because the budget was spent.
    pub lost_to_budget: u64,
}

/// One keyword on one day (kept with [`Detail::Keywords`], for keywords that bid in some
/// hour or were shown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeywordDay {
    /// Day index.
    pub day: u32,
    /// Its plan.
    pub plan: PlanId,
    /// The keyword.
    pub keyword: KeywordId,
    /// The bid in the first hour it bid (the start of day's bid if it never did).
    pub bid: Money,
    /// Hours in which it bid (a strategy may switch it on and off by hour).
    pub active_hours: u8,
    /// Spend.
    pub spend: Money,
    /// Impressions.
    pub impressions: u64,
    /// Clicks.
    pub clicks: u64,
    /// Conversions (orders).
    pub conversions: u64,
    /// Revenue.
    pub revenue: Money,
}

/// What one search query of a keyword bought on one day (kept with [`Detail::Keywords`], in
/// markets with a query stream): the simulator's search-term report, the rows from which an
/// operator picks negative keywords.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchTermDay {
    /// Day index.
    pub day: u32,
    /// The keyword's plan.
    pub plan: PlanId,
    /// The keyword that matched the query.
    pub keyword: KeywordId,
    /// The keyword's match type.
    pub match_type: crate::model::MatchType,
    /// The search query.
    pub query: String,
    /// Auctions entered for the query.
    pub auctions: u64,
    /// Impressions.
    pub impressions: u64,
    /// Clicks.
    pub clicks: u64,
    /// Conversions (orders).
    pub conversions: u64,
    /// Spend.
    pub spend: Money,
    /// Revenue.
    pub revenue: Money,
}

/// One creative on one day (kept for every run on a scenario whose plans have creatives):
/// its share of its plan's impressions and what it bought, and the regret of the rotation
/// against serving the plan's truly best creative (by CTR) to the same impressions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreativeDay {
    /// Day index.
    pub day: u32,
    /// The plan.
    pub plan: PlanId,
    /// The creative.
    pub creative: CreativeId,
    /// Whether it is the plan's truly best creative by CTR.
    pub best: bool,
    /// Its share of the plan's impressions that day.
    pub share: f64,
    /// Impressions.
    pub impressions: u64,
    /// Clicks.
    pub clicks: u64,
    /// Conversions (orders).
    pub conversions: u64,
    /// Revenue.
    pub revenue: Money,
    /// Clicks its impressions would have had more with the best creative, in expectation:
    /// `clicks x (m_best / m - 1)` for CTR multipliers `m` (0 for the best itself). A
    /// plan-day's regret of rotation is the sum over its creatives.
    pub regret_clicks: f64,
}

/// What an engine decision record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// A plan's budget.
    Budget,
    /// A keyword paused.
    Pause,
    /// A flag for the operator.
    Flag,
}

/// One item of an engine strategy's morning decision (kept with [`Detail::Plans`] and
/// above): every plan's budget, every pause and every flag, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// Day index the decision is for.
    pub day: u32,
    /// What it is about.
    pub kind: DecisionKind,
    /// The plan.
    pub plan: Option<PlanId>,
    /// The keyword (pauses, keyword flags).
    pub keyword: Option<KeywordId>,
    /// The value before (budgets).
    pub from: Option<Money>,
    /// The value decided (budgets).
    pub to: Option<Money>,
    /// Why: a machine-readable code, a sentence and the numbers.
    pub reason: Reason,
}

impl DecisionRecord {
    /// The records of `decision`, made on the morning of `day`.
    pub fn of(day: u32, decision: &Decision) -> Vec<DecisionRecord> {
        let mut out = Vec::with_capacity(decision.budgets.len());
        for b in &decision.budgets {
            out.push(DecisionRecord {
                day,
                kind: DecisionKind::Budget,
                plan: Some(b.plan.clone()),
                keyword: None,
                from: Some(b.from),
                to: Some(b.to),
                reason: b.reason.clone(),
            });
        }
        for p in &decision.pauses {
            out.push(DecisionRecord {
                day,
                kind: DecisionKind::Pause,
                plan: Some(p.plan.clone()),
                keyword: Some(p.keyword.clone()),
                from: None,
                to: None,
                reason: p.reason.clone(),
            });
        }
        for f in &decision.flags {
            out.push(DecisionRecord {
                day,
                kind: DecisionKind::Flag,
                plan: f.plan.clone(),
                keyword: f.keyword.clone(),
                from: None,
                to: None,
                reason: f.reason.clone(),
            });
        }
        out
    }
}

/// Spend by hour on the profile day (the day with the highest traffic factor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourProfile {
    /// Day index.
    pub day: u32,
    /// Total budget that day.
    pub budget: Money,
    /// Spend in each hour.
    pub spend: Vec<Money>,
}

/// The result of one job: serialisable, so shards can be merged and summarised later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    /// The job.
    pub job: Job,
    /// Totals.
    pub metrics: RunMetrics,
    /// One entry per day.
    pub daily: Vec<DayMetrics>,
    /// Spend by hour on the profile day.
    pub hours: HourProfile,
    /// One entry per plan per day, day by day ([`Detail::Plans`] and above; else empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan_days: Vec<PlanDay>,
    /// One entry per keyword per day that it bid or was shown ([`Detail::Keywords`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keyword_days: Vec<KeywordDay>,
    /// The engine strategies' decisions ([`Detail::Plans`] and above; else empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<DecisionRecord>,
    /// One entry per keyword, query and day that entered an auction ([`Detail::Keywords`]
    /// in markets with a query stream; else empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search_terms: Vec<SearchTermDay>,
    /// One entry per creative per day that it was shown (scenarios with creatives; else
    /// empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub creative_days: Vec<CreativeDay>,
}

impl JobResult {
    /// The plan-days of `plan`, in day order.
    pub fn plan_days_of<'a>(&'a self, plan: &'a PlanId) -> impl Iterator<Item = &'a PlanDay> {
        self.plan_days.iter().filter(move |d| &d.plan == plan)
    }

    /// The run's regret of rotation in clicks: over every plan-day, the clicks serving the
    /// truly best creative would have added (see [`CreativeDay::regret_clicks`]).
    pub fn creative_regret_clicks(&self) -> f64 {
        self.creative_days.iter().map(|d| d.regret_clicks).sum()
    }

    /// Each creative's share of its plan's impressions over the run.
    pub fn creative_shares(&self) -> Vec<(PlanId, CreativeId, f64)> {
        let mut imp: BTreeMap<(PlanId, CreativeId), u64> = BTreeMap::new();
        let mut plan: BTreeMap<PlanId, u64> = BTreeMap::new();
        for d in &self.creative_days {
            *imp.entry((d.plan.clone(), d.creative.clone())).or_default() += d.impressions;
            *plan.entry(d.plan.clone()).or_default() += d.impressions;
        }
        imp.into_iter()
            .map(|((p, c), n)| {
                let total = plan.get(&p).copied().unwrap_or(0).max(1);
                (p, c, n as f64 / total as f64)
            })
            .collect()
    }
}

/// The content hash under its former name: [`crate::rng::content_hash`].
#[doc(hidden)]
pub use crate::rng::content_hash as fnv1a;

fn hex(x: u64) -> String {
    format!("{x:016x}")
}

/// Hash of a scenario's JSON.
///
/// # Errors
/// [`Error::Serde`] if the scenario cannot be serialised.
pub fn scenario_fingerprint(scenario: &Scenario) -> Result<u64> {
    Ok(rng::content_hash(
        serde_json::to_string(scenario)?.as_bytes(),
    ))
}

fn parse_hex(s: &str, field: &str) -> Result<u64> {
    u64::from_str_radix(s, 16).map_err(|_| Error::invalid(field.to_owned(), s, "not a hex hash"))
}

impl Job {
    /// The job's id: a hash of everything its result depends on. A built-in engine
    /// strategy's parameters name only what differs from the engine's defaults, so the
    /// hash of `EngineConfig::default()` is part of its id: when the defaults change (as
    /// they did for issue 14), resumed sweeps recompute such jobs instead of silently
    /// reusing results of the old engine. Other jobs' ids are as before.
    fn id_of(&self) -> Result<String> {
        let key = serde_json::to_string(&(
            &self.scenario,
            &self.scenario_fingerprint,
            &self.strategy,
            &self.params,
            self.seed,
            self.master_seed,
            self.fidelity,
            self.days,
        ))?;
        let key = if self.params.get("kind").and_then(|k| k.as_str()) == Some("engine") {
            let defaults = serde_json::to_string(&crate::engine::EngineConfig::default())?;
            format!(
                "{key}|engine defaults {:016x}",
                rng::content_hash(defaults.as_bytes())
            )
        } else {
            key
        };
        Ok(hex(rng::content_hash(key.as_bytes())))
    }

    fn strategy_hash(&self) -> Result<u64> {
        let key = serde_json::to_string(&(&self.strategy, &self.params))?;
        Ok(rng::content_hash(key.as_bytes()))
    }

    /// Seed of the job's market (independent of the strategy: common random numbers).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a malformed fingerprint.
    pub fn market_seed(&self) -> Result<u64> {
        let fp = parse_hex(&self.scenario_fingerprint, "job.scenario_fingerprint")?;
        Ok(rng::stream_seed(
            self.master_seed,
            &[domain::MARKET, fp, self.seed],
        ))
    }

    /// Seed of the job's strategy.
    ///
    /// # Errors
    /// As [`Job::market_seed`].
    pub fn strategy_seed(&self) -> Result<u64> {
        let fp = parse_hex(&self.scenario_fingerprint, "job.scenario_fingerprint")?;
        Ok(rng::stream_seed(
            self.master_seed,
            &[domain::STRATEGY, fp, self.seed, self.strategy_hash()?],
        ))
    }
}

impl Grid {
    /// A grid with seeds `0..seeds`.
    pub fn new(scenarios: Vec<Scenario>, strategies: Vec<StrategyEntry>, seeds: u64) -> Self {
        Grid {
            scenarios,
            strategies,
            seeds: (0..seeds).collect(),
        }
    }

    /// A grid with the seeds of `seeds` (a count, a range or a list).
    pub fn with_seeds(
        scenarios: Vec<Scenario>,
        strategies: Vec<StrategyEntry>,
        seeds: &crate::compare::SeedSet,
    ) -> Self {
        Grid {
            scenarios,
            strategies,
            seeds: seeds.seeds(),
        }
    }

    fn check(&self, opts: &RunOptions) -> Result<()> {
        let mut names = std::collections::BTreeSet::new();
        for s in &self.strategies {
            if !names.insert(s.name.as_str()) {
                return Err(Error::DuplicateId {
                    kind: "strategy",
                    id: s.name.clone(),
                });
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for s in &self.scenarios {
            if !names.insert(s.name()) {
                return Err(Error::DuplicateId {
                    kind: "scenario",
                    id: s.name().to_owned(),
                });
            }
            if let Some(d) = opts.days
                && (d == 0 || d > s.days())
            {
                return Err(Error::invalid(
                    "days",
                    d,
                    format!("must be in 1..={} for scenario {}", s.days(), s.name()),
                ));
            }
        }
        if opts.threads == 0 || opts.threads > MAX_THREADS {
            return Err(Error::parameter(
                "threads",
                opts.threads,
                format!("must be in 1..={MAX_THREADS}"),
            ));
        }
        Ok(())
    }

    /// The jobs in fixed order: scenario, then strategy, then seed.
    ///
    /// # Errors
    /// [`Error::DuplicateId`] for repeated strategy or scenario names, [`Error::InvalidValue`]
    /// for days outside a scenario's horizon, [`Error::InvalidParameter`] for zero threads.
    pub fn jobs(&self, opts: &RunOptions) -> Result<Vec<Job>> {
        self.check(opts)?;
        let mut jobs = Vec::new();
        for sc in &self.scenarios {
            let fp = hex(scenario_fingerprint(sc)?);
            let days = opts.days.unwrap_or(sc.days());
            for st in &self.strategies {
                for &seed in &self.seeds {
                    let mut j = Job {
                        id: String::new(),
                        scenario: sc.name().to_owned(),
                        scenario_fingerprint: fp.clone(),
                        strategy: st.name.clone(),
                        params: st.params.clone(),
                        seed,
                        master_seed: opts.master_seed,
                        fidelity: opts.fidelity,
                        days,
                    };
                    j.id = j.id_of()?;
                    jobs.push(j);
                }
            }
        }
        Ok(jobs)
    }

    /// Runs `jobs` (from [`Grid::jobs`], or a shard of them) and returns their results in
    /// the same order.
    ///
    /// # Errors
    /// The first failing job's error (with its id), [`Error::UnknownId`] for a job naming a
    /// scenario or strategy not in the grid.
    pub fn run_jobs(&self, jobs: &[Job], opts: &RunOptions) -> Result<Vec<JobResult>> {
        self.run_jobs_with(jobs, opts, |_, _| Ok(()))
    }

    /// [`Grid::run_jobs`], calling `on_done(position in jobs, result)` as each job finishes
    /// (from a worker thread, in completion order), e.g. to append it to a result file so a
    /// killed run keeps its finished jobs. An error from `on_done` fails that job.
    ///
    /// # Errors
    /// As [`Grid::run_jobs`], and the first error of `on_done`.
    pub fn run_jobs_with<F>(
        &self,
        jobs: &[Job],
        opts: &RunOptions,
        on_done: F,
    ) -> Result<Vec<JobResult>>
    where
        F: Fn(usize, &JobResult) -> Result<()> + Sync,
    {
        self.run_jobs_cancellable(jobs, opts, &Cancel::new(), on_done)
    }

    /// [`Grid::run_jobs_with`] that stops when `cancel` is set: no job starts after it, and
    /// running jobs are abandoned at their next day boundary (`on_done` is not called for
    /// them). Jobs that finished before have had their `on_done`.
    ///
    /// # Errors
    /// As [`Grid::run_jobs_with`]; [`Error::Cancelled`] when cancelled.
    pub fn run_jobs_cancellable<F>(
        &self,
        jobs: &[Job],
        opts: &RunOptions,
        cancel: &Cancel,
        on_done: F,
    ) -> Result<Vec<JobResult>>
    where
        F: Fn(usize, &JobResult) -> Result<()> + Sync,
    {
        self.check(opts)?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(opts.threads)
            .build()
            .map_err(|e| Error::parameter("threads", opts.threads, e.to_string()))?;
        let progress = Progress::new(jobs.len() as u64, opts.progress);
        let results: Vec<Result<JobResult>> = pool.install(|| {
            // Oracle value per (scenario, days), computed once, in order, before the runs.
            let mut oracles: BTreeMap<(String, u32), f64> = BTreeMap::new();
            for j in jobs {
                let key = (j.scenario.clone(), j.days);
                if oracles.contains_key(&key) {
                    continue;
                }
                if let Err(e) = cancel.check() {
                    return vec![Err(e)];
                }
                let sc = match self.scenario(&j.scenario) {
                    Ok(sc) => sc,
                    Err(e) => return vec![Err(e)],
                };
                match budget_oracle(sc, 0..j.days, OracleObjective::Revenue) {
                    Ok(o) => oracles.insert(key, o.value()),
                    Err(e) => return vec![Err(e)],
                };
            }
            jobs.par_iter()
                .enumerate()
                .map(|(i, j)| {
                    let o = oracles
                        .get(&(j.scenario.clone(), j.days))
                        .copied()
                        .unwrap_or(0.0);
                    let r = cancel
                        .check()
                        .and_then(|()| self.run_one(j, opts, o, cancel))
                        .and_then(|r| on_done(i, &r).map(|()| r));
                    progress.inc();
                    r
                })
                .collect()
        });
        progress.finish();
        results.into_iter().collect()
    }

    /// [`Grid::jobs`] then [`Grid::run_jobs`].
    ///
    /// # Errors
    /// As those.
    pub fn run(&self, opts: &RunOptions) -> Result<Vec<JobResult>> {
        let jobs = self.jobs(opts)?;
        self.run_jobs(&jobs, opts)
    }

    fn scenario(&self, name: &str) -> Result<&Scenario> {
        self.scenarios
            .iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| Error::UnknownId {
                kind: "scenario",
                id: name.to_owned(),
            })
    }

    fn run_one(
        &self,
        job: &Job,
        opts: &RunOptions,
        oracle_revenue: f64,
        cancel: &Cancel,
    ) -> Result<JobResult> {
        let sc = self.scenario(&job.scenario)?;
        let entry = self
            .strategies
            .iter()
            .find(|s| s.name == job.strategy)
            .ok_or_else(|| Error::UnknownId {
                kind: "strategy",
                id: job.strategy.clone(),
            })?;
        let tag = |e: Error| match e {
            Error::Cancelled { .. } => e,
            e => Error::Inconsistent {
                field: format!(
                    "job {} ({} / {} / seed {})",
                    job.id, job.scenario, job.strategy, job.seed
                ),
                reason: e.to_string(),
            },
        };
        simulate(sc, entry, job, opts, oracle_revenue, cancel).map_err(tag)
    }
}

/// The day with the highest traffic factor (first on ties): the day whose hours are profiled.
fn profile_day(sc: &Scenario, days: u32) -> u32 {
    let mut best = (0, f64::NEG_INFINITY);
    for d in 0..days {
        let f = sc.truth().day_factors(d).traffic;
        if f > best.1 + 1e-12 {
            best = (d, f);
        }
    }
    best.0
}

fn rate(num: f64, den: f64) -> Option<f64> {
    (den > 0.0).then(|| num / den)
}

fn simulate(
    sc: &Scenario,
    entry: &StrategyEntry,
    job: &Job,
    opts: &RunOptions,
    oracle_revenue: f64,
    cancel: &Cancel,
) -> Result<JobResult> {
    let account = sc.account();
    let np = account.plans().len();
    let mut market = Market::new(sc, job.fidelity, job.market_seed()?);
    let mut strategy = (entry.factory)(sc, job.strategy_seed()?)?;
    let pday = profile_day(sc, job.days);
    let mut daily = Vec::with_capacity(job.days as usize);
    let mut hours = HourProfile {
        day: pday,
        budget: Money::ZERO,
        spend: vec![Money::ZERO; 24],
    };
    let mut yesterday = None;
    let mut outcomes = Vec::with_capacity(24);
    let detail = opts.detail;
    let nk = account.keyword_count();
    let mut plan_days = Vec::new();
    let mut keyword_days = Vec::new();
    let mut decisions = Vec::new();
    let mut search_terms = Vec::new();
    let mut creative_days = Vec::new();
    for day in 0..job.days {
        cancel.check()?;
        let date = sc.date(day);
        let mut controls = strategy.start_day(day, date, yesterday.as_ref())?;
        controls.validate(account)?;
        let budgets = controls.plan_budget.clone();
        let decided = if detail.plans() {
            strategy.decision().cloned()
        } else {
            None
        };
        if let Some(d) = &decided {
            decisions.extend(DecisionRecord::of(day, d));
        }
        let mut spent = vec![Money::ZERO; np];
        // Per keyword: (first bid while active, active hours).
        let mut kw_bid: Vec<(Option<Money>, u8)> = vec![(None, 0); nk];
        outcomes.clear();
        for hour in 0..24u8 {
            strategy.before_hour(hour, &spent, &mut controls)?;
            if controls.plan_budget != budgets {
                return Err(Error::Inconsistent {
                    field: "controls.plan_budget".into(),
                    reason: format!("changed within day {day} at hour {hour}"),
                });
            }
            controls.validate(account)?;
            if detail.keywords() {
                for (k, b) in kw_bid.iter_mut().enumerate() {
                    if controls.keyword_active[k] {
                        b.0.get_or_insert(controls.keyword_bid[k]);
                        b.1 += 1;
                    }
                }
            }
            let out = market.run_hour(day, hour, &controls)?;
            for (s, h) in spent.iter_mut().zip(&out.plan_spend) {
                *s = s.checked_add(*h)?;
            }
            if day == pday {
                hours.spend[usize::from(hour)] =
                    Money::checked_sum(out.plan_spend.iter().copied())?;
            }
            outcomes.push(out);
        }
        if detail.plans() {
            plan_days.extend(plan_day_records(
                sc,
                day,
                &outcomes,
                &budgets,
                decided.as_ref(),
            )?);
        }
        if detail.keywords() {
            keyword_days.extend(keyword_day_records(sc, day, &outcomes, &controls, &kw_bid)?);
            let rows = crate::sim::search_terms(account, sc.truth(), date, &outcomes)?;
            search_terms.extend(rows.into_iter().map(|r| SearchTermDay {
                day,
                plan: r.plan,
                keyword: r.keyword,
                match_type: r.match_type,
                query: r.query,
                auctions: r.auctions,
                impressions: r.stats.impressions(),
                clicks: r.stats.clicks(),
                conversions: r.stats.conversions(),
                spend: r.stats.cost(),
                revenue: r.stats.revenue(),
            }));
        }
        creative_days.extend(creative_day_records(sc, day, &outcomes)?);
        let report = crate::sim::outcomes_to_report(account, date, &outcomes, opts.granularity)?;
        let total = report.total()?;
        let budget = Money::checked_sum(budgets.iter().copied())?;
        let overspend = Money::checked_sum(
            spent
                .iter()
                .zip(&budgets)
                .map(|(s, b)| s.saturating_sub(*b).max(Money::ZERO)),
        )?;
        if day == pday {
            hours.budget = budget;
        }
        daily.push(DayMetrics {
            day,
            impressions: total.impressions(),
            clicks: total.clicks(),
            conversions: total.conversions(),
            cost: total.cost(),
            revenue: total.revenue(),
            budget,
            overspend,
        });
        yesterday = Some(report);
    }
    let sum_u = |f: fn(&DayMetrics) -> u64| daily.iter().map(f).sum::<u64>();
    let sum_m = |f: fn(&DayMetrics) -> Money| Money::checked_sum(daily.iter().map(f));
    let (impressions, clicks, conversions) = (
        sum_u(|d| d.impressions),
        sum_u(|d| d.clicks),
        sum_u(|d| d.conversions),
    );
    let cost = sum_m(|d| d.cost)?;
    let revenue = sum_m(|d| d.revenue)?;
    let budget = sum_m(|d| d.budget)?;
    let metrics = RunMetrics {
        impressions,
        clicks,
        conversions,
        cost,
        revenue,
        roi: rate(revenue.units(), cost.units()),
        ctr: rate(clicks as f64, impressions as f64),
        cpc: rate(cost.units(), clicks as f64),
        budget,
        budget_utilisation: rate(cost.units(), budget.units()),
        overspend: sum_m(|d| d.overspend)?,
        oracle_revenue,
        regret: oracle_revenue - revenue.units(),
    };
    Ok(JobResult {
        job: job.clone(),
        metrics,
        daily,
        hours,
        plan_days,
        keyword_days,
        decisions,
        search_terms,
        creative_days,
    })
}

/// The creatives' records of one day (none for plans without creatives).
fn creative_day_records(
    sc: &Scenario,
    day: u32,
    outcomes: &[crate::sim::HourOutcome],
) -> Result<Vec<CreativeDay>> {
    let account = sc.account();
    let truth = sc.truth();
    let mut out = Vec::new();
    for (p, plan) in account.plans().iter().enumerate() {
        if plan.creatives.is_empty() {
            continue;
        }
        let mut st = vec![Stats::default(); plan.creatives.len()];
        for o in outcomes {
            for c in o.creatives.iter().filter(|c| c.plan == p) {
                if let Some(s) = st.get_mut(c.creative) {
                    *s = s.checked_add(&c.stats)?;
                }
            }
        }
        let total: u64 = st.iter().map(Stats::impressions).sum();
        let mult = truth.creative_multipliers(p);
        let best = truth.best_creative(p, true);
        let m_best = best.and_then(|b| mult.get(b)).map_or(1.0, |m| m.0);
        for (j, (c, s)) in plan.creatives.iter().zip(&st).enumerate() {
            if s.impressions() == 0 {
                continue;
            }
            let m = mult.get(j).map_or(1.0, |m| m.0);
            out.push(CreativeDay {
                day,
                plan: plan.id.clone(),
                creative: c.id.clone(),
                best: best == Some(j),
                share: s.impressions() as f64 / total.max(1) as f64,
                impressions: s.impressions(),
                clicks: s.clicks(),
                conversions: s.conversions(),
                revenue: s.revenue(),
                regret_clicks: s.clicks() as f64 * (m_best / m - 1.0),
            });
        }
    }
    Ok(out)
}

/// Sum of keyword stats over a day's hours, per keyword.
fn keyword_totals(outcomes: &[crate::sim::HourOutcome], nk: usize) -> Result<Vec<Stats>> {
    let mut total = vec![Stats::default(); nk];
    for o in outcomes {
        for (t, s) in total.iter_mut().zip(&o.keywords) {
            *t = t.checked_add(s)?;
        }
    }
    Ok(total)
}

fn plan_day_records(
    sc: &Scenario,
    day: u32,
    outcomes: &[crate::sim::HourOutcome],
    caps: &[Money],
    decision: Option<&Decision>,
) -> Result<Vec<PlanDay>> {
    let account = sc.account();
    let kw = keyword_totals(outcomes, account.keyword_count())?;
    let truth = sc.truth();
    account
        .plans()
        .iter()
        .enumerate()
        .map(|(p, plan)| {
            let mut st = Stats::default();
            for k in truth.plan_keywords(p) {
                st = st.checked_add(&kw[k])?;
            }
            let spend = Money::checked_sum(outcomes.iter().map(|o| o.plan_spend[p]))?;
            let cap = caps.get(p).copied().unwrap_or(Money::ZERO);
            Ok(PlanDay {
                day,
                plan: plan.id.clone(),
                budget: decision
                    .and_then(|d| d.budget_of(&plan.id))
                    .map_or(cap, |b| b.to),
                spend_cap: cap,
                spend,
                impressions: st.impressions(),
                clicks: st.clicks(),
                conversions: st.conversions(),
                revenue: st.revenue(),
                exhausted_hour: outcomes.iter().find(|o| o.exhausted[p]).map(|o| o.hour),
                lost_to_budget: outcomes.iter().map(|o| o.lost_to_budget[p]).sum(),
            })
        })
        .collect()
}

fn keyword_day_records(
    sc: &Scenario,
    day: u32,
    outcomes: &[crate::sim::HourOutcome],
    controls: &crate::sim::Controls,
    bids: &[(Option<Money>, u8)],
) -> Result<Vec<KeywordDay>> {
    let account = sc.account();
    let kw = keyword_totals(outcomes, account.keyword_count())?;
    let mut out = Vec::new();
    let mut k = 0;
    for plan in account.plans() {
        for keyword in &plan.keywords {
            let s = &kw[k];
            let (first, hours) = bids[k];
            if hours > 0 || s.impressions() > 0 {
                out.push(KeywordDay {
                    day,
                    plan: plan.id.clone(),
                    keyword: keyword.id.clone(),
                    bid: first.unwrap_or(controls.keyword_bid[k]),
                    active_hours: hours,
                    spend: s.cost(),
                    impressions: s.impressions(),
                    clicks: s.clicks(),
                    conversions: s.conversions(),
                    revenue: s.revenue(),
                });
            }
            k += 1;
        }
    }
    Ok(out)
}

/// A progress bar when the `progress` feature is on and stderr is a terminal.
struct Progress {
    #[cfg(feature = "progress")]
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    #[cfg_attr(not(feature = "progress"), allow(unused_variables))]
    fn new(len: u64, show: bool) -> Self {
        #[cfg(feature = "progress")]
        {
            use std::io::IsTerminal;
            let bar = (show && std::io::stderr().is_terminal()).then(|| {
                let b = indicatif::ProgressBar::new(len);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} runs, {elapsed} elapsed, eta {eta}",
                ) {
                    b.set_style(style);
                }
                b
            });
            Progress { bar }
        }
        #[cfg(not(feature = "progress"))]
        Progress {}
    }

    fn inc(&self) {
        #[cfg(feature = "progress")]
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    fn finish(&self) {
        #[cfg(feature = "progress")]
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

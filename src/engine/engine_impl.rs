//! The [`Engine`] type.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::allocate::bid::{
    BidBinding, BidInputs, BidLimits, BidRule, SpendModel, bid_for, solve_lambda,
};
use crate::allocate::budget::{AllocationLimits, Binding, PlanArm, allocate};
use crate::engine::calendar::{DayFactors, factors_on};
use crate::engine::config::{BudgetMode, DAYS_PER_MONTH, EngineConfig};
use crate::engine::decision::{
    BidDecision, BidDetail, BudgetDecision, Decision, Flag, PauseDecision, Reason, ReasonCode,
    ReasonMetrics,
};
use crate::engine::snapshot::{ENGINE_FORMAT_VERSION, EngineSnapshot};
use crate::error::{Error, Result};
use crate::estimate::{AccountEstimates, ArmEstimate, BetaPosterior, Counts, Evidence};
use crate::model::{Account, Date, Keyword, KeywordId, Objective, PlanId, Report, Status};
use crate::money::Money;
use crate::pacing::Pacer;
use crate::policy::{ArmPosteriors, Arms, ArmsConfig, BuiltinPolicy, Policy, Reward};
use crate::rng::{SimRng, domain, stream};

/// Pseudo-spend (currency units) that anchors a plan's impressions-per-money to its prior.
const IPM_PRIOR_COST: f64 = 20.0;
/// Share of the bid a click is assumed to cost before any cost is observed (second price).
const PRIOR_CPC_SHARE: f64 = 0.7;
/// A plan whose spend reached this share of its budget was limited by the budget.
const BUDGET_LIMITED: f64 = 0.95;
/// A budget-limited day would have spent at least this much more at the same bids.
const LIMITED_HEADROOM: f64 = 1.25;
/// Weight of a new day in the capacity and daily-spend averages.
const DAY_WEIGHT: f64 = 0.3;

/// What one plan spent on one day (micros), kept until the day is closed by a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DayLedger {
    pub(crate) budget: i64,
    pub(crate) spend: i64,
    pub(crate) clicks: u64,
    pub(crate) hourly_spend: Option<[i64; 24]>,
}

/// A plan's traffic as learned from whole days.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct PlanTraffic {
    /// Spend (micros) the plan's traffic could absorb at its current bids.
    pub(crate) capacity: f64,
    /// Average daily spend (micros).
    pub(crate) daily_spend: f64,
    /// Average daily clicks.
    pub(crate) daily_clicks: f64,
    /// Days seen.
    pub(crate) days: u32,
    /// Spend (micros) on the latest closed day, at the bids of that day.
    #[serde(default)]
    pub(crate) last_spend: f64,
    /// Whether the budget stopped the plan on the latest closed day.
    #[serde(default)]
    pub(crate) last_limited: bool,
}

/// Spend per plan in the current calendar month (for over-delivery).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct MonthLedger {
    pub(crate) year: i32,
    pub(crate) month: u32,
    pub(crate) spent: Vec<i64>,
}

/// A value with a credible band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// Posterior mean.
    pub mean: f64,
    /// Lower end of the 90% band.
    pub lo: f64,
    /// Upper end of the 90% band.
    pub hi: f64,
}

/// Expected daily outcome at one bid or budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WhatIf {
    /// The bid or budget asked about.
    pub value: Money,
    /// Clicks per day.
    pub clicks: Band,
    /// Cost per day, currency units.
    pub cost: Band,
    /// Conversions per day.
    pub conversions: Band,
    /// Revenue per day, currency units.
    pub revenue: Band,
}

/// The engine. See the [module docs](crate::engine).
///
/// ```
/// use adbandit::engine::{Engine, EngineConfig};
/// use adbandit::{Account, Date, Keyword, KeywordId, MatchType, Money, Plan, PlanId, Report, ReportRow, Stats};
/// let y = |x| Money::from_units(x).unwrap();
/// let account = Account::new("Shop", "CNY", vec![
///     Plan::new("a", "Dresses", y(100), y(0), y(5)).with_keyword(Keyword::new("a1", "red dress", MatchType::Exact, y(1))),
///     Plan::new("b", "Shoes", y(100), y(0), y(5)).with_keyword(Keyword::new("b1", "red shoes", MatchType::Exact, y(1))),
/// ])?;
/// let mut engine = Engine::new(account, EngineConfig::default(), 42)?;
/// let day = Date::from_ymd(2026, 11, 1)?;
/// let row = |p: &str, k: &str, clicks, orders, rev| ReportRow {
///     date: day, hour: None, days: 1, plan: PlanId::new(p), keyword: Some(KeywordId::new(k)),
///     stats: Stats::new(2_000, clicks, orders, y(80), y(rev)).unwrap(),
/// };
/// engine.observe(&Report::new(vec![row("a", "a1", 100, 10, 900), row("b", "b1", 100, 1, 60)])?)?;
/// let decision = engine.decide(day.add_days(1))?;
/// assert!(decision.budget_sum() <= decision.total_budget);
/// let a = decision.budget_of(&PlanId::new("a")).unwrap();
/// assert!(a.to > a.from, "{}", a.reason.message());
/// # Ok::<(), adbandit::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Engine<P: Policy = BuiltinPolicy> {
    pub(crate) account: Account,
    pub(crate) config: EngineConfig,
    pub(crate) policy: P,
    pub(crate) seed: u64,
    pub(crate) rng: SimRng,
    pub(crate) total_budget: Money,
    pub(crate) plan_evidence: Vec<Evidence>,
    pub(crate) keyword_evidence: Vec<Vec<Evidence>>,
    /// Per keyword, the policy's last draw as a ratio to the posterior mean (CVR, value per
    /// click), held for `keyword_redraw_days`.
    pub(crate) keyword_draws: Vec<Vec<(f64, f64)>>,
    /// The redraw period the held draws belong to.
    pub(crate) keyword_draw_epoch: Option<i64>,
    pub(crate) traffic: Vec<PlanTraffic>,
    pub(crate) open_days: BTreeMap<i32, Vec<Option<DayLedger>>>,
    pub(crate) month: Option<MonthLedger>,
    pub(crate) round: u64,
    pub(crate) last_decision: Option<Date>,
    // Derived from the account; rebuilt on restore.
    plan_arms: Arms,
    keyword_arms: Arms,
    keyword_offset: Vec<usize>,
}

impl Engine<BuiltinPolicy> {
    /// An engine with the default policy (Thompson sampling).
    ///
    /// # Errors
    /// As [`Engine::with_policy`].
    pub fn new(account: Account, config: EngineConfig, seed: u64) -> Result<Self> {
        Engine::with_policy(account, config, BuiltinPolicy::default(), seed)
    }
}

impl<P: Policy> Engine<P> {
    /// An engine with a policy of your choice.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an invalid config or a policy whose scores are not on
    /// the reward's scale (EXP3); [`Error::UnknownId`] for plan limits naming an unknown plan;
    /// [`Error::Overflow`] if the plans' budgets overflow.
    pub fn with_policy(
        account: Account,
        config: EngineConfig,
        policy: P,
        seed: u64,
    ) -> Result<Self> {
        config.validate()?;
        check_policy(&policy)?;
        for id in config.plan_limits.keys() {
            account.require_plan(id)?;
        }
        let total_budget = match config.total_daily_budget {
            Some(t) => t,
            None => account.total_daily_budget()?,
        };
        let f = config.forgetting;
        let plan_evidence = account.plans().iter().map(|_| Evidence::new(f)).collect();
        let keyword_draws = account
            .plans()
            .iter()
            .map(|p| vec![(1.0, 1.0); p.keywords.len()])
            .collect();
        let keyword_evidence = account
            .plans()
            .iter()
            .map(|p| p.keywords.iter().map(|_| Evidence::new(f)).collect())
            .collect();
        let traffic = account
            .plans()
            .iter()
            .map(|p| PlanTraffic {
                capacity: (p.daily_budget.micros() as f64 * 1.5).max(1.0),
                daily_spend: 0.0,
                last_spend: 0.0,
                last_limited: false,
                daily_clicks: 0.0,
                days: 0,
            })
            .collect();
        let (plan_arms, keyword_arms, keyword_offset) = build_arms(&account, &config)?;
        Ok(Engine {
            account,
            config,
            policy,
            seed,
            rng: stream(seed, &[domain::ENGINE]),
            total_budget,
            plan_evidence,
            keyword_evidence,
            keyword_draws,
            keyword_draw_epoch: None,
            traffic,
            open_days: BTreeMap::new(),
            month: None,
            round: 0,
            last_decision: None,
            plan_arms,
            keyword_arms,
            keyword_offset,
        })
    }

    /// The engine's view of the account (with its decisions applied).
    pub fn account(&self) -> &Account {
        &self.account
    }
    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }
    /// The policy.
    pub fn policy(&self) -> &P {
        &self.policy
    }
    /// The total daily budget across plans.
    pub fn total_budget(&self) -> Money {
        self.total_budget
    }
    /// Decisions made so far.
    pub fn rounds(&self) -> u64 {
        self.round
    }

    /// Sets the total daily budget.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a negative amount.
    pub fn set_total_budget(&mut self, total: Money) -> Result<()> {
        if total.is_negative() {
            return Err(Error::invalid("total_budget", total, "must be >= 0"));
        }
        self.total_budget = total;
        Ok(())
    }

    /// Records a bid the platform actually has (e.g. it refused the engine's).
    ///
    /// # Errors
    /// As [`Account::set_bid`].
    pub fn set_bid(&mut self, keyword: &KeywordId, bid: Money) -> Result<()> {
        self.account.set_bid(keyword, bid)
    }

    /// Records a plan's actual daily budget.
    ///
    /// # Errors
    /// As [`Account::set_daily_budget`].
    pub fn set_daily_budget(&mut self, plan: &PlanId, budget: Money) -> Result<()> {
        self.account.set_daily_budget(plan, budget)
    }

    /// Pauses or resumes a keyword (the operator's call).
    ///
    /// # Errors
    /// As [`Account::set_keyword_status`].
    pub fn set_keyword_status(&mut self, keyword: &KeywordId, status: Status) -> Result<()> {
        self.account.set_keyword_status(keyword, status)
    }

    /// Adds a keyword to a plan; it starts at its plan's estimated rates.
    ///
    /// # Errors
    /// As [`Account::add_keyword`]; the engine is unchanged on error.
    pub fn add_keyword(&mut self, plan: &PlanId, keyword: Keyword) -> Result<()> {
        let mut account = self.account.clone();
        account.add_keyword(plan, keyword)?;
        let (plan_arms, keyword_arms, keyword_offset) = build_arms(&account, &self.config)?;
        let i = account.require_plan(plan)?;
        self.keyword_evidence[i].push(Evidence::new(self.config.forgetting));
        // The new keyword bids on its posterior mean until the next redraw.
        self.keyword_draws[i].push((1.0, 1.0));
        self.account = account;
        self.plan_arms = plan_arms;
        self.keyword_arms = keyword_arms;
        self.keyword_offset = keyword_offset;
        self.policy.arms_changed(&self.keyword_arms);
        Ok(())
    }

    /// Ingests a report. The whole report is validated first: an unknown plan or keyword, a
    /// keyword reported under the wrong plan, or a keyword-day given both as a day row and as
    /// hour rows rejects it, and the engine is left unchanged.
    ///
    /// Rows inside a known calendar event are learned with conversions and revenue divided
    /// by the event's CVR factor, so the spike is not taken for the new normal.
    ///
    /// Observe each period once: the engine cannot tell a resent report from new data.
    ///
    /// # Errors
    /// [`Error::UnknownId`], [`Error::Inconsistent`] or [`Error::Overflow`], naming the row.
    pub fn observe(&mut self, report: &Report) -> Result<()> {
        // 1. Validate and resolve every row without touching the engine.
        let mut resolved = Vec::with_capacity(report.rows().len());
        let mut granularity: BTreeMap<(i32, usize, Option<usize>), bool> = BTreeMap::new();
        let mut ledgers = self.open_days.clone();
        let mut month = self.month.clone();
        for (n, row) in report.rows().iter().enumerate() {
            let at = || format!("report.rows[{n}]");
            let i = self.account.require_plan(&row.plan)?;
            let j = match &row.keyword {
                None => None,
                Some(k) => {
                    let (pi, j) = self.account.require_keyword(k)?;
                    if pi != i {
                        return Err(Error::Inconsistent {
                            field: at(),
                            reason: format!(
                                "keyword {k} belongs to plan {}, not {}",
                                self.account.plans()[pi].id,
                                row.plan
                            ),
                        });
                    }
                    Some(j)
                }
            };
            let hourly = row.hour.is_some();
            if *granularity.entry((row.date.days(), i, j)).or_insert(hourly) != hourly {
                return Err(Error::Inconsistent {
                    field: at(),
                    reason: format!(
                        "{} on {} given both as a day row and as hour rows",
                        row.plan, row.date
                    ),
                });
            }
            // Ledgers of the day, for capacity, flags and the month's spend.
            let plans = self.account.plans().len();
            let day = ledgers
                .entry(row.date.days())
                .or_insert_with(|| vec![None; plans]);
            let ledger = day[i].get_or_insert_with(|| DayLedger {
                budget: self.account.plans()[i].daily_budget.micros(),
                spend: 0,
                clicks: 0,
                hourly_spend: None,
            });
            let cost = row.stats.cost().micros();
            let overflow = || Error::Overflow { field: at() };
            ledger.spend = ledger.spend.checked_add(cost).ok_or_else(overflow)?;
            ledger.clicks = ledger
                .clicks
                .checked_add(row.stats.clicks())
                .ok_or_else(overflow)?;
            if let Some(h) = row.hour {
                let hs = ledger.hourly_spend.get_or_insert([0; 24]);
                hs[usize::from(h)] = hs[usize::from(h)].checked_add(cost).ok_or_else(overflow)?;
            }
            let (y, m, _) = row.date.ymd();
            let ml = month.get_or_insert_with(|| MonthLedger {
                year: y,
                month: m,
                spent: vec![0; plans],
            });
            if (y, m) > (ml.year, ml.month) {
                *ml = MonthLedger {
                    year: y,
                    month: m,
                    spent: vec![0; plans],
                };
            }
            if (y, m) == (ml.year, ml.month) {
                ml.spent[i] = ml.spent[i].checked_add(cost).ok_or_else(overflow)?;
            }
            let mut c = Counts::from_stats(&row.stats);
            let f = factors_on(&self.config.events, row.date);
            if (f.cvr - 1.0).abs() > 1e-12 {
                c.conversions /= f.cvr;
                c.revenue /= f.cvr;
            }
            resolved.push((i, j, i64::from(row.date.days()), c));
        }
        // 2. Apply: nothing below can fail.
        for (i, j, period, c) in resolved {
            match j {
                Some(j) => self.keyword_evidence[i][j].add(period, &c),
                None => self.plan_evidence[i].add(period, &c),
            }
        }
        self.open_days = ledgers;
        self.month = month;
        Ok(())
    }

    /// Decides budgets, bids, pauses and flags for `date`, and applies them to the engine's
    /// account. Advances the engine's generator (so two calls give two draws).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] if `date` is before the last decision's date.
    pub fn decide(&mut self, date: Date) -> Result<Decision> {
        if let Some(last) = self.last_decision
            && date < last
        {
            return Err(Error::invalid(
                "decide.date",
                date,
                format!("is before the last decision ({last})"),
            ));
        }
        let mut flags = self.close_days(date);
        let period = i64::from(date.days()) - 1;
        self.plan_evidence
            .iter_mut()
            .for_each(|e| e.advance_to(period));
        self.keyword_evidence
            .iter_mut()
            .flatten()
            .for_each(|e| e.advance_to(period));
        let est = self.estimates()?;
        let round = self.round + 1;
        let factors = factors_on(&self.config.events, date);
        for e in self.config.events.iter().filter(|e| e.covers(date)) {
            flags.push(Flag {
                plan: None,
                keyword: None,
                reason: Reason::new(
                    ReasonCode::FlagCalendarEvent,
                    format!(
                        "{} is in force: planning with traffic x{} and conversion rate x{}; its data is learned net of those factors",
                        e.name(),
                        e.traffic_factor(),
                        e.cvr_factor()
                    ),
                    ReasonMetrics::default(),
                ),
            });
        }

        // Policy scores. One round seed per decision keeps plans and keywords on separate,
        // reproducible streams.
        let round_seed: u64 = rand::RngExt::random(&mut self.rng);
        let mut rng = stream(round_seed, &[0]);
        let (ctr_s, cvr_s, vpc_s) = self.score_plans(&est, round, &mut rng)?;
        let mut rng_k = stream(round_seed, &[1]);
        let (kw_cvr_s, kw_vpc_s) = self.score_keywords(&est, date, round, &mut rng_k)?;
        let plans = self.account.plans();
        let n_plans = plans.len();

        // Budgets.
        let active_plans = plans
            .iter()
            .filter(|p| p.status == Status::Active)
            .count()
            .max(1);
        let floor = Money::from_micros(
            (self.total_budget.micros() as f64 * self.config.exploration_floor
                / active_plans as f64)
                .floor() as i64,
        );
        let arms: Vec<PlanArm> = (0..n_plans)
            .map(|i| {
                let p = &plans[i];
                let e = &est.plans[i];
                let per_imp = match self.config.objective {
                    Objective::MaxClicks => ctr_s[i],
                    Objective::MaxConversions | Objective::TargetCpa { .. } => {
                        ctr_s[i] * cvr_s[i] * factors.cvr
                    }
                    Objective::MaxRevenue | Objective::TargetRoi { .. } => {
                        ctr_s[i] * vpc_s[i] * factors.cvr
                    }
                };
                let limits = self.config.plan_limits.get(&p.id);
                PlanArm {
                    current: p.daily_budget,
                    min: limits.map_or(Money::ZERO, |l| l.min_budget),
                    max: limits.map_or(self.total_budget, |l| l.max_budget),
                    value_per_money: per_imp * self.impressions_per_money(i, e),
                    capacity: self.traffic[i].capacity * factors.traffic,
                    learning: e.counts.clicks < self.config.learning_clicks,
                    active: p.status == Status::Active,
                }
            })
            .collect();
        let limits = AllocationLimits {
            total: self.total_budget,
            max_step: self.config.max_budget_step,
            exploration_floor: floor,
        };
        let alloc = allocate(&arms, &limits);
        let budgets: Vec<BudgetDecision> = (0..n_plans)
            .map(|i| {
                let a = &alloc[i];
                let e = &est.plans[i];
                let to = a.budget;
                BudgetDecision {
                    plan: plans[i].id.clone(),
                    from: plans[i].daily_budget,
                    to,
                    spend_cap: self.spend_cap(i, to, date),
                    reason: budget_reason(
                        a.binding,
                        &plans[i].name,
                        plans[i].daily_budget,
                        to,
                        arms[i].value_per_money,
                        e,
                    ),
                }
            })
            .collect();

        // Bids.
        let mut bids = Vec::with_capacity(self.keyword_arms.len());
        let mut bid_pos = Vec::with_capacity(self.keyword_arms.len());
        let mut pauses = Vec::new();
        for (i, p) in plans.iter().enumerate() {
            if p.status != Status::Active {
                continue;
            }
            let plan_budget = alloc[i].budget.units();
            let off = self.keyword_offset[i];
            let live: Vec<usize> = (0..p.keywords.len())
                .filter(|&j| p.keywords[j].status == Status::Active)
                .collect();
            let objective_value = |j: usize| match p.objective {
                Objective::MaxClicks => 1.0,
                Objective::MaxConversions | Objective::TargetCpa { .. } => {
                    kw_cvr_s[off + j] * factors.cvr
                }
                Objective::MaxRevenue | Objective::TargetRoi { .. } => {
                    kw_vpc_s[off + j] * factors.cvr
                }
            };
            let rule = match p.objective {
                Objective::TargetRoi { roi } => BidRule::TargetRoi { roi },
                Objective::TargetCpa { cpa } => BidRule::TargetCpa { cpa: cpa.units() },
                _ => {
                    let values: Vec<f64> = live.iter().map(|&j| objective_value(j)).collect();
                    let models = self.spend_models(i, &live, factors);
                    let lambda = solve_lambda(
                        &values,
                        &models,
                        p.min_bid.units(),
                        p.max_bid.units(),
                        plan_budget,
                    );
                    BidRule::Scaled { lambda }
                }
            };
            let limits = BidLimits {
                min: p.min_bid,
                max: p.max_bid,
                max_step: self.config.max_bid_step,
                increment: self.config.bid_increment,
            };
            for &j in &live {
                let k = &p.keywords[j];
                let e = &est.keywords[i][j];
                let inputs = BidInputs {
                    value_per_click: kw_vpc_s[off + j] * factors.cvr,
                    cvr: kw_cvr_s[off + j] * factors.cvr,
                    objective_value: objective_value(j),
                };
                let (to, binding) = bid_for(rule, &inputs, k.bid, &limits);
                bid_pos.push((i, j));
                bids.push(BidDecision {
                    keyword: k.id.clone(),
                    plan: p.id.clone(),
                    from: k.bid,
                    to,
                    reason: bid_reason(rule, binding, k.bid, to, &inputs, e),
                });
                if let Some(reason) = self.pause_rule(p.objective, e) {
                    pauses.push(PauseDecision {
                        keyword: k.id.clone(),
                        plan: p.id.clone(),
                        reason,
                    });
                } else if let Some(reason) = self.ctr_cvr_flag(e, &est.plans[i]) {
                    flags.push(Flag {
                        plan: Some(p.id.clone()),
                        keyword: Some(k.id.clone()),
                        reason,
                    });
                }
            }
        }

        // Apply. Every amount was produced within the account's limits, so these cannot fail;
        // the `?` only guards the invariant.
        for b in &budgets {
            self.account.set_daily_budget(&b.plan, b.to)?;
        }
        for (b, &pos) in bids.iter().zip(&bid_pos) {
            self.account.set_bid_at(pos, b.to)?;
        }
        for p in &pauses {
            self.account
                .set_keyword_status(&p.keyword, Status::Paused)?;
        }
        self.round = round;
        self.last_decision = Some(date);
        Ok(Decision {
            date,
            round,
            total_budget: self.total_budget,
            budgets,
            bids,
            pauses,
            flags,
        })
    }

    /// A pacer for `plan`'s day, with the plan's current budget (or spend cap) and schedule
    /// and the engine's traffic curve; its first-hour throttle is budget / capacity.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for an unknown plan.
    pub fn pacer(&self, plan: &PlanId, date: Date) -> Result<Pacer> {
        let i = self.account.require_plan(plan)?;
        let p = &self.account.plans()[i];
        let cap = self.spend_cap(i, p.daily_budget, date);
        let capacity = self.traffic[i].capacity * factors_on(&self.config.events, date).traffic;
        let initial = if capacity > 0.0 {
            cap.micros() as f64 / capacity
        } else {
            1.0
        };
        Pacer::new(
            cap,
            &p.schedule,
            &self.config.traffic_curve,
            self.config.pacing,
            initial,
        )
    }

    /// The current posteriors for every plan and keyword.
    ///
    /// # Errors
    /// Only on an internal shape mismatch ([`Error::Inconsistent`]).
    pub fn estimates(&self) -> Result<AccountEstimates> {
        let plan_rows: Vec<Counts> = self.plan_evidence.iter().map(Evidence::total).collect();
        let kw: Vec<Vec<Counts>> = self
            .keyword_evidence
            .iter()
            .map(|ks| ks.iter().map(Evidence::total).collect())
            .collect();
        AccountEstimates::fit(&self.account, &plan_rows, &kw, &self.config.shrinkage)
    }

    /// What a keyword would get per day at each bid in `bids`: expected clicks, cost,
    /// conversions and revenue with 90% bands, from its posteriors and the engine's spend
    /// model (see [`crate::allocate::bid`]). Deterministic, and does not move the engine's
    /// generator.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for an unknown keyword; [`Error::InvalidValue`] for a
    /// non-positive bid or `draws` below 100.
    pub fn what_if_bid(
        &self,
        keyword: &KeywordId,
        bids: &[Money],
        draws: usize,
    ) -> Result<Vec<WhatIf>> {
        let (i, j) = self.account.require_keyword(keyword)?;
        check_draws(draws)?;
        let est = self.estimates()?;
        let e = &est.keywords[i][j];
        let model = self.spend_models(i, &[j], DayFactors::NORMAL)[0];
        let plan_clicks: f64 = est.keywords[i].iter().map(|k| k.counts.clicks).sum();
        let n = est.keywords[i].len() as f64;
        let share = (e.counts.clicks + 1.0) / (plan_clicks + n);
        let clicks_ref = self.traffic[i].daily_clicks.max(1.0) * share;
        let eta = self.config.bid_elasticity;
        let mut rng = stream(
            self.seed,
            &[
                domain::ENGINE,
                0x5748_4154,
                self.round,
                (self.keyword_offset[i] + j) as u64,
            ],
        );
        bids.iter()
            .map(|&b| {
                if b.micros() <= 0 {
                    return Err(Error::invalid("what_if.bid", b, "must be > 0"));
                }
                let scale = (b.units() / model.bid_ref).powf(eta);
                let clicks = clicks_ref * scale;
                let cost = model.spend(b.units());
                Ok(outcome(b, e, clicks, cost, draws, &mut rng))
            })
            .collect()
    }

    /// What a plan would get per day at each budget in `budgets`, from its response curve
    /// (spend is capped by its traffic capacity) and posteriors.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for an unknown plan; [`Error::InvalidValue`] for a negative budget
    /// or `draws` below 100.
    pub fn what_if_budget(
        &self,
        plan: &PlanId,
        budgets: &[Money],
        draws: usize,
    ) -> Result<Vec<WhatIf>> {
        let i = self.account.require_plan(plan)?;
        check_draws(draws)?;
        let est = self.estimates()?;
        let e = &est.plans[i];
        let cap = self.traffic[i].capacity.max(1.0) / 1e6;
        let ipm = self.impressions_per_money(i, e);
        let mut rng = stream(
            self.seed,
            &[domain::ENGINE, 0x4255_4447, self.round, i as u64],
        );
        budgets
            .iter()
            .map(|&b| {
                if b.is_negative() {
                    return Err(Error::invalid("what_if.budget", b, "must be >= 0"));
                }
                let spend = b.units().min(cap);
                // Impressions bought: ipm at the margin falls off as the plan nears capacity.
                let impressions = ipm * cap * (1.0 - (-spend / cap).exp());
                Ok(outcome(
                    b,
                    e,
                    impressions * e.ctr.mean(),
                    spend,
                    draws,
                    &mut rng,
                ))
            })
            .collect()
    }

    /// The persistent state, for [`Engine::restore`].
    pub fn snapshot(&self) -> EngineSnapshot<P>
    where
        P: Clone,
    {
        EngineSnapshot {
            format_version: ENGINE_FORMAT_VERSION,
            account: self.account.clone(),
            config: self.config.clone(),
            policy: self.policy.clone(),
            seed: self.seed,
            rng: self.rng.clone(),
            total_budget: self.total_budget,
            plan_evidence: self.plan_evidence.clone(),
            keyword_evidence: self.keyword_evidence.clone(),
            keyword_draws: self.keyword_draws.clone(),
            keyword_draw_epoch: self.keyword_draw_epoch,
            traffic: self.traffic.clone(),
            open_days: self.open_days.clone(),
            month: self.month.clone(),
            round: self.round,
            last_decision: self.last_decision,
        }
    }

    /// An engine from a snapshot; decisions continue exactly as they would have.
    ///
    /// # Errors
    /// [`Error::FormatVersion`] for another format; [`Error::Inconsistent`] if the state's
    /// shapes do not match its account; any config validation error.
    pub fn restore(s: EngineSnapshot<P>) -> Result<Self> {
        if s.format_version != ENGINE_FORMAT_VERSION {
            return Err(Error::FormatVersion {
                found: s.format_version,
                supported: ENGINE_FORMAT_VERSION,
            });
        }
        s.config.validate()?;
        check_policy(&s.policy)?;
        let plans = s.account.plans();
        let shape_ok = s.plan_evidence.len() == plans.len()
            && s.keyword_evidence.len() == plans.len()
            && s.traffic.len() == plans.len()
            && plans
                .iter()
                .zip(&s.keyword_evidence)
                .all(|(p, k)| p.keywords.len() == k.len())
            && s.open_days.values().all(|d| d.len() == plans.len())
            && s.month
                .as_ref()
                .is_none_or(|m| m.spent.len() == plans.len())
            && s.keyword_draws.len() == plans.len()
            && plans
                .iter()
                .zip(&s.keyword_draws)
                .all(|(p, k)| p.keywords.len() == k.len());
        if !shape_ok {
            return Err(Error::Inconsistent {
                field: "snapshot".into(),
                reason: "state does not match its account".into(),
            });
        }
        let (plan_arms, keyword_arms, keyword_offset) = build_arms(&s.account, &s.config)?;
        Ok(Engine {
            account: s.account,
            config: s.config,
            policy: s.policy,
            seed: s.seed,
            rng: s.rng,
            total_budget: s.total_budget,
            plan_evidence: s.plan_evidence,
            keyword_evidence: s.keyword_evidence,
            keyword_draws: s.keyword_draws,
            keyword_draw_epoch: s.keyword_draw_epoch,
            traffic: s.traffic,
            open_days: s.open_days,
            month: s.month,
            round: s.round,
            last_decision: s.last_decision,
            plan_arms,
            keyword_arms,
            keyword_offset,
        })
    }

    // ---- internals -------------------------------------------------------------------

    /// Closes the ledgers of days before `date`: updates capacities and daily averages, and
    /// flags plans whose budget ran out early on the latest closed day.
    fn close_days(&mut self, date: Date) -> Vec<Flag> {
        let mut flags = Vec::new();
        let closed: Vec<i32> = self
            .open_days
            .range(..date.days())
            .map(|(d, _)| *d)
            .collect();
        let latest = closed.last().copied();
        for d in closed {
            let Some(day) = self.open_days.remove(&d) else {
                continue;
            };
            let f = factors_on(&self.config.events, Date::from_days(d)).traffic;
            for (i, ledger) in day.iter().enumerate() {
                let Some(l) = ledger else { continue };
                let t = &mut self.traffic[i];
                let spend = l.spend as f64 / f;
                let limited = l.budget > 0 && l.spend as f64 >= BUDGET_LIMITED * l.budget as f64;
                // A budget-limited day only says the plan could spend more: probe upward.
                let seen_capacity = if limited {
                    (spend * 1.5).max(t.capacity)
                } else {
                    spend.max(1.0)
                };
                let w = if t.days == 0 { 1.0 } else { DAY_WEIGHT };
                t.capacity = (1.0 - w) * t.capacity + w * seen_capacity;
                t.daily_spend = (1.0 - w) * t.daily_spend + w * spend;
                t.daily_clicks = (1.0 - w) * t.daily_clicks + w * (l.clicks as f64 / f);
                t.days += 1;
                t.last_spend = spend;
                t.last_limited = limited;
                if Some(d) == latest
                    && let Some(flag) = self.exhausted_flag(i, l)
                {
                    flags.push(flag);
                }
            }
        }
        flags
    }

    fn exhausted_flag(&self, i: usize, l: &DayLedger) -> Option<Flag> {
        let hs = l.hourly_spend.as_ref()?;
        if l.budget <= 0 {
            return None;
        }
        let mut cum = 0i64;
        for (h, s) in hs.iter().enumerate() {
            cum = cum.saturating_add(*s);
            if cum as f64 >= 0.99 * l.budget as f64 {
                if h < usize::from(self.config.rules.exhausted_before_hour) {
                    let p = &self.account.plans()[i];
                    return Some(Flag {
                        plan: Some(p.id.clone()),
                        keyword: None,
                        reason: Reason::new(
                            ReasonCode::FlagBudgetExhaustedEarly,
                            format!(
                                "Plan {} spent its budget {} by {:02}:59: the rest of the day's traffic was lost; raise the budget or lower bids",
                                p.name,
                                Money::from_micros(l.budget),
                                h
                            ),
                            ReasonMetrics {
                                cost: Some(cum as f64 / 1e6),
                                ..ReasonMetrics::default()
                            },
                        ),
                    });
                }
                return None;
            }
        }
        None
    }

    fn spend_cap(&self, i: usize, budget: Money, date: Date) -> Money {
        match self.config.budget_mode {
            BudgetMode::HardDailyCap => budget,
            BudgetMode::OverDelivery { daily_multiple } => {
                let (y, m, _) = date.ymd();
                let spent = match &self.month {
                    Some(ml) if (ml.year, ml.month) == (y, m) => ml.spent[i],
                    _ => 0,
                };
                let month_cap = budget.micros() as f64 * DAYS_PER_MONTH;
                let left = (month_cap - spent as f64).max(0.0);
                let day = budget.micros() as f64 * daily_multiple;
                Money::from_micros(day.min(left).floor() as i64)
            }
        }
    }

    /// Impressions a unit of money buys in plan `i`, shrunk toward a prior from its bids.
    fn impressions_per_money(&self, i: usize, e: &ArmEstimate) -> f64 {
        let p = &self.account.plans()[i];
        let live: Vec<&Keyword> = p
            .keywords
            .iter()
            .filter(|k| k.status == Status::Active)
            .collect();
        let avg_bid = if live.is_empty() {
            p.max_bid.units()
        } else {
            live.iter().map(|k| k.bid.units()).sum::<f64>() / live.len() as f64
        };
        let prior = 1.0 / (PRIOR_CPC_SHARE * avg_bid.max(1e-6) * e.ctr.mean().max(1e-6));
        (e.counts.impressions + IPM_PRIOR_COST * prior) / (e.counts.cost + IPM_PRIOR_COST)
    }

    /// Spend models for plan `i`'s keywords `js`: the plan's capacity at current bids is
    /// shared in proportion to each keyword's recent cost (plus one unit, so new keywords get
    /// a share).
    fn spend_models(&self, i: usize, js: &[usize], f: DayFactors) -> Vec<SpendModel> {
        let ev = &self.keyword_evidence[i];
        let p = &self.account.plans()[i];
        let n = ev.len().max(1) as f64;
        let total_cost: f64 = ev.iter().map(|e| e.total().cost).sum();
        // Anchor on what the plan spent yesterday at today's bids (the engine applied them):
        // a budget-limited day would have spent more, hence the headroom. Before any data,
        // the capacity guess stands in.
        let t = &self.traffic[i];
        let spent = if t.days == 0 {
            t.capacity
        } else {
            let floor = 0.01 * p.daily_budget.micros() as f64;
            t.last_spend.max(floor)
                * if t.last_limited {
                    LIMITED_HEADROOM
                } else {
                    1.0
                }
        };
        let plan_spend = spent / 1e6 * f.traffic;
        js.iter()
            .map(|&j| SpendModel {
                bid_ref: p.keywords[j].bid.units(),
                spend_ref: plan_spend * (ev[j].total().cost + 1.0) / (total_cost + n),
                elasticity: self.config.bid_elasticity,
            })
            .collect()
    }

    fn score_plans(
        &mut self,
        est: &AccountEstimates,
        round: u64,
        rng: &mut SimRng,
    ) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
        let n = est.plans.len();
        let (mut ctr, mut cvr, mut vpc) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        for (i, p) in self.account.plans().iter().enumerate() {
            let e = &est.plans[i];
            self.plan_arms.set_posteriors(
                i,
                ArmPosteriors {
                    rate: e.ctr,
                    cvr: e.cvr,
                    aov: e.aov,
                },
            )?;
            if p.status == Status::Active {
                self.plan_arms.reactivate(i)?;
            } else {
                self.plan_arms.retire(i)?;
            }
        }
        self.policy
            .score(&self.plan_arms, Reward::Rate, round, rng, &mut ctr);
        self.policy
            .score(&self.plan_arms, Reward::ValuePerClick, round, rng, &mut vpc);
        for (i, e) in est.plans.iter().enumerate() {
            self.plan_arms.set_posteriors(
                i,
                ArmPosteriors {
                    rate: e.cvr,
                    cvr: e.cvr,
                    aov: e.aov,
                },
            )?;
        }
        self.policy
            .score(&self.plan_arms, Reward::Rate, round, rng, &mut cvr);
        for v in [&mut ctr, &mut cvr, &mut vpc] {
            sanitize(v);
        }
        Ok((ctr, cvr, vpc))
    }

    /// Keyword values for bids: the posterior mean times the ratio of the policy's draw to
    /// the mean (floored at 1: optimistic exploration only), redrawn every
    /// `keyword_redraw_days`. A fresh draw every day, chased by a
    /// step-limited bid, is a random walk that loses auctions and under-spends (measured in
    /// `compare`: Thompson at 65-69% budget use on `drift`); a held draw explores just as
    /// much across keywords, but each keyword keeps a consistent bid long enough to learn from
    /// it, and as its posterior narrows the next draw lands nearer the mean.
    fn score_keywords(
        &mut self,
        est: &AccountEstimates,
        date: Date,
        round: u64,
        rng: &mut SimRng,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let n = self.keyword_arms.len();
        let (mut cvr, mut vpc) = (vec![0.0; n], vec![0.0; n]);
        let epoch =
            i64::from(date.days()).div_euclid(i64::from(self.config.keyword_redraw_days.max(1)));
        if self.keyword_draw_epoch != Some(epoch) {
            for (i, p) in self.account.plans().iter().enumerate() {
                for (j, k) in p.keywords.iter().enumerate() {
                    let ix = self.keyword_offset[i] + j;
                    let e = &est.keywords[i][j];
                    self.keyword_arms.set_posteriors(
                        ix,
                        ArmPosteriors {
                            rate: e.cvr,
                            cvr: e.cvr,
                            aov: e.aov,
                        },
                    )?;
                    if p.status == Status::Active && k.status == Status::Active {
                        self.keyword_arms.reactivate(ix)?;
                    } else {
                        self.keyword_arms.retire(ix)?;
                    }
                }
            }
            self.policy
                .score(&self.keyword_arms, Reward::Rate, round, rng, &mut cvr);
            self.policy.score(
                &self.keyword_arms,
                Reward::ValuePerClick,
                round,
                rng,
                &mut vpc,
            );
            sanitize(&mut cvr);
            sanitize(&mut vpc);
            // Exploration in bids is one-sided: a bid raised on an optimistic draw buys clicks
            // that narrow the posterior, while one lowered by a pessimistic draw loses the
            // auctions that would have taught anything (measured on `drift`, 12 seeds: -2.8%
            // against static bids with two-sided draws, +4.7% with one-sided). The ratio is
            // capped at 4 so one extreme draw cannot swing a bid more.
            let ratio = |draw: f64, mean: f64| {
                if mean > 0.0 {
                    (draw / mean).clamp(1.0, 4.0)
                } else {
                    1.0
                }
            };
            for (i, ks) in est.keywords.iter().enumerate() {
                for (j, e) in ks.iter().enumerate() {
                    let ix = self.keyword_offset[i] + j;
                    self.keyword_draws[i][j] = (
                        ratio(cvr[ix], e.cvr.mean()),
                        ratio(vpc[ix], e.value_per_click()),
                    );
                }
            }
            self.keyword_draw_epoch = Some(epoch);
        }
        for (i, ks) in est.keywords.iter().enumerate() {
            for (j, e) in ks.iter().enumerate() {
                let ix = self.keyword_offset[i] + j;
                let (rc, rv) = self.keyword_draws[i][j];
                cvr[ix] = e.cvr.mean() * rc;
                vpc[ix] = e.value_per_click() * rv;
            }
        }
        sanitize(&mut cvr);
        sanitize(&mut vpc);
        Ok((cvr, vpc))
    }

    /// Pause when, after enough spend and clicks, the posterior probability that the keyword
    /// meets its objective is below the threshold. `P(CVR >= x)` uses the Beta posterior of
    /// the CVR and the posterior mean AOV.
    fn pause_rule(&self, objective: Objective, e: &ArmEstimate) -> Option<Reason> {
        let r = &self.config.rules;
        let c = &e.counts;
        if c.clicks < r.pause_min_clicks || c.cost < r.pause_min_cost {
            return None;
        }
        let cpc = c.cpc()?;
        let aov = e.aov.mean();
        let cvr = e.cvr.mean();
        // Stated in the operator's terms (ROI or CPA against the target), never as the
        // conversion rate the target would need, which can exceed 100%.
        let (needed_cvr, what) = match objective {
            Objective::MaxClicks => return None,
            Objective::TargetRoi { roi } => (
                roi * cpc / aov,
                format!("ROI {:.2} against a target ROI {roi}", cvr * aov / cpc),
            ),
            Objective::TargetCpa { cpa } => (
                cpc / cpa.units(),
                format!(
                    "CPA {:.2} against a target CPA {:.2}",
                    cpc / cvr.max(1e-9),
                    cpa.units()
                ),
            ),
            // Maximising conversions has no target to miss; without order values (an
            // account without revenue) break-even is unknown.
            Objective::MaxConversions => return None,
            Objective::MaxRevenue if !(aov > 0.0) => return None,
            Objective::MaxRevenue => (
                r.min_roi * cpc / aov,
                format!(
                    "ROI {:.2} against a break-even ROI {}",
                    cvr * aov / cpc,
                    r.min_roi
                ),
            ),
        };
        let p = prob_above(&e.cvr, needed_cvr);
        (p < r.pause_below_probability).then(|| {
            Reason::new(
                ReasonCode::PauseUnlikelyToMeetObjective,
                format!(
                    "{what}, missed with {:.0}% probability after {:.0} clicks and {:.2} spent",
                    100.0 * (1.0 - p),
                    c.clicks,
                    c.cost
                ),
                metrics(e, Some(p), None),
            )
        })
    }

    fn ctr_cvr_flag(&self, e: &ArmEstimate, plan: &ArmEstimate) -> Option<Reason> {
        let r = &self.config.rules;
        if e.counts.clicks < r.pause_min_clicks {
            return None;
        }
        let p_ctr = prob_above(&e.ctr, plan.ctr.mean());
        let p_cvr = 1.0 - prob_above(&e.cvr, r.cvr_ratio * plan.cvr.mean());
        (p_ctr > r.flag_probability && p_cvr > r.flag_probability).then(|| Reason::new(
            ReasonCode::FlagHighCtrLowCvr,
            format!(
                "CTR {:.2}% is above the plan's {:.2}% but CVR {:.2}% is well below the plan's {:.2}%: check the landing page and the match type, not the bid",
                100.0 * e.ctr.mean(),
                100.0 * plan.ctr.mean(),
                100.0 * e.cvr.mean(),
                100.0 * plan.cvr.mean()
            ),
            metrics(e, Some(p_ctr.min(p_cvr)), None),
        ))
    }
}

fn check_draws(draws: usize) -> Result<()> {
    if draws < 100 {
        return Err(Error::invalid("draws", draws, "must be >= 100"));
    }
    Ok(())
}

fn check_policy<P: Policy>(p: &P) -> Result<()> {
    if p.name() == "exp3" {
        return Err(Error::parameter(
            "policy",
            "exp3",
            "EXP3 scores are log-weights learned from per-play rewards, not value estimates; use it through policy::Arms",
        ));
    }
    Ok(())
}

/// Builds the policy's arm containers (one arm per plan, one per keyword, flattened).
fn build_arms(account: &Account, config: &EngineConfig) -> Result<(Arms, Arms, Vec<usize>)> {
    let cfg = ArmsConfig::new(crate::estimate::BetaPrior::UNIFORM, config.forgetting)?;
    let plan_arms = Arms::with_arms(cfg, account.plans().len());
    let mut offsets = Vec::with_capacity(account.plans().len());
    let mut n = 0;
    for p in account.plans() {
        offsets.push(n);
        n += p.keywords.len();
    }
    Ok((plan_arms, Arms::with_arms(cfg, n), offsets))
}

/// Non-finite or negative scores carry no value.
fn sanitize(v: &mut [f64]) {
    for x in v {
        if !(x.is_finite() && *x > 0.0) {
            *x = 0.0;
        }
    }
}

/// P(rate > x) under a Beta posterior.
fn prob_above(b: &BetaPosterior, x: f64) -> f64 {
    if !(x > 0.0) {
        return 1.0;
    }
    if x >= 1.0 {
        return 0.0;
    }
    statrs::function::beta::checked_beta_reg(b.alpha(), b.beta(), x)
        .map_or(0.5, |cdf| (1.0 - cdf).clamp(0.0, 1.0))
}

fn metrics(e: &ArmEstimate, probability: Option<f64>, score: Option<f64>) -> ReasonMetrics {
    ReasonMetrics {
        score: score.filter(|s| s.is_finite()),
        ctr: Some(e.ctr.mean()),
        cvr: Some(e.cvr.mean()),
        roi: e.counts.cpc().and_then(|c| e.roi(c)),
        probability,
        clicks: Some(e.counts.clicks),
        cost: Some(e.counts.cost),
    }
}

fn budget_reason(
    b: Binding,
    name: &str,
    from: Money,
    to: Money,
    score: f64,
    e: &ArmEstimate,
) -> Reason {
    let dir = if to > from {
        "raised"
    } else if to < from {
        "cut"
    } else {
        "kept"
    };
    let (code, why) = match b {
        Binding::Value => (
            ReasonCode::BudgetByValue,
            format!(
                "where its marginal value matches the other plans' (sampled value per unit spent at low spend: {score:.3}, falling as it spends toward its traffic capacity)"
            ),
        ),
        Binding::Min => (
            ReasonCode::BudgetAtMin,
            "held at the operator's minimum".to_string(),
        ),
        Binding::Max => (
            ReasonCode::BudgetAtMax,
            "held at the operator's maximum".to_string(),
        ),
        Binding::StepUp => (
            ReasonCode::BudgetStepUp,
            format!(
                "at the margin it earns more than the other plans (sampled value per unit spent at low spend: {score:.3}), but a budget moves at most one step per decision"
            ),
        ),
        Binding::StepDown => (
            ReasonCode::BudgetStepDown,
            format!(
                "at the margin it earns less than the other plans (sampled value per unit spent at low spend: {score:.3}), but a budget moves at most one step per decision"
            ),
        ),
        Binding::ExplorationFloor => (
            ReasonCode::BudgetExplorationFloor,
            "it is still being learned and keeps the exploration floor".to_string(),
        ),
        Binding::TotalCap => (
            ReasonCode::BudgetTotalCap,
            "the plans' minimums exceed the total budget, so all were scaled down to the total"
                .to_string(),
        ),
        Binding::Inactive => (
            ReasonCode::BudgetPlanPaused,
            "the plan is paused".to_string(),
        ),
    };
    Reason::new(
        code,
        format!("Budget of {name} {dir} from {from} to {to}: {why}"),
        metrics(e, None, Some(score)),
    )
}

fn bid_reason(
    rule: BidRule,
    b: BidBinding,
    from: Money,
    to: Money,
    x: &BidInputs,
    e: &ArmEstimate,
) -> Reason {
    let (code, detail) = match (b, rule) {
        (BidBinding::Min, _) => (ReasonCode::BidAtMin, BidDetail::AtMin),
        (BidBinding::Max, _) => (ReasonCode::BidAtMax, BidDetail::AtMax),
        (BidBinding::Step, _) => (ReasonCode::BidStepLimited, BidDetail::Step),
        (BidBinding::Objective, BidRule::TargetRoi { roi }) => (
            ReasonCode::BidTargetRoi,
            BidDetail::TargetRoi {
                value_per_click: x.value_per_click,
                roi,
            },
        ),
        (BidBinding::Objective, BidRule::TargetCpa { cpa }) => (
            ReasonCode::BidTargetCpa,
            BidDetail::TargetCpa { cvr: x.cvr, cpa },
        ),
        (BidBinding::Objective, BidRule::Scaled { lambda }) => (
            ReasonCode::BidBudgetScaled,
            BidDetail::Scaled {
                value: x.objective_value,
                lambda,
            },
        ),
    };
    Reason::bid(
        code,
        from,
        to,
        detail,
        metrics(e, None, Some(x.value_per_click)),
    )
}

/// Monte-Carlo outcome bands for `clicks` expected clicks at `cost`.
fn outcome(
    value: Money,
    e: &ArmEstimate,
    clicks: f64,
    cost: f64,
    draws: usize,
    rng: &mut SimRng,
) -> WhatIf {
    let (cs, av) = (e.cvr.sampler(), e.aov.sampler());
    let mut conv = Vec::with_capacity(draws);
    let mut rev = Vec::with_capacity(draws);
    for _ in 0..draws {
        let c = cs.sample(rng);
        let a = av.sample(rng);
        conv.push(clicks * c);
        rev.push(clicks * c * a);
    }
    let band = |mut xs: Vec<f64>| {
        xs.sort_by(f64::total_cmp);
        let at = |q: f64| xs[((q * (xs.len() - 1) as f64).round() as usize).min(xs.len() - 1)];
        Band {
            mean: xs.iter().sum::<f64>() / xs.len() as f64,
            lo: at(0.05),
            hi: at(0.95),
        }
    };
    // Clicks and cost come from the spend model; their band reflects the CTR posterior.
    let (lo, hi) = e.ctr.interval(0.9).unwrap_or((e.ctr.mean(), e.ctr.mean()));
    let rel = |q: f64| {
        if e.ctr.mean() > 0.0 {
            q / e.ctr.mean()
        } else {
            1.0
        }
    };
    WhatIf {
        value,
        clicks: Band {
            mean: clicks,
            lo: clicks * rel(lo),
            hi: clicks * rel(hi),
        },
        cost: Band {
            mean: cost,
            lo: cost * rel(lo).min(1.0),
            hi: cost * rel(hi).max(1.0),
        },
        conversions: band(conv),
        revenue: band(rev),
    }
}

/// The engine is shareable across threads (checked at compile time).
const _: () = {
    const fn is<T: Send + Sync>() {}
    is::<Engine>();
};

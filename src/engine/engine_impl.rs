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
use crate::engine::state::{DayLedger, EngineState, MonthLedger};
use crate::error::{Error, Result};
use crate::estimate::{AccountEstimates, ArmEstimate, BetaPosterior, Counts, Evidence};
use crate::estimate::{PosteriorTable, PosteriorView};
use crate::model::{Account, Date, Keyword, KeywordId, Objective, Plan, PlanId, Report, Status};
use crate::money::Money;
use crate::pacing::Pacer;
use crate::policy::{BuiltinPolicy, Policy, Reward};
use crate::rng::{SimRng, domain, stream};

/// Pseudo-spend (currency units) that anchors a plan's impressions-per-money to its prior.
const IPM_PRIOR_COST: f64 = 20.0;
/// The cpc (currency units) behind the policy view's ROI before any click: one pseudo-click.
const PRIOR_CPC: f64 = 1.0;
/// Share of the bid a click is assumed to cost before any cost is observed (second price).
const PRIOR_CPC_SHARE: f64 = 0.7;
/// A plan whose spend reached this share of its budget was limited by the budget.
const BUDGET_LIMITED: f64 = 0.95;
/// A budget-limited day would have spent at least this much more at the same bids.
const LIMITED_HEADROOM: f64 = 1.25;
/// Weight of a new day in the capacity and daily-spend averages.
const DAY_WEIGHT: f64 = 0.3;

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
///     date: day, hour: None, plan: PlanId::new(p), keyword: Some(KeywordId::new(k)),
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
    /// Everything persistent (the snapshot's payload).
    pub(crate) state: EngineState<P>,
    // Derived from the state; rebuilt on restore.
    /// The policy's view of the plans' and keywords' fitted posteriors (refilled when
    /// scored; a cache of the estimates, not a second store of evidence).
    plan_view: PosteriorTable,
    keyword_view: PosteriorTable,
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
        let keyword_offset = keyword_offsets(&account);
        let rng = stream(seed, &[domain::ENGINE]);
        Ok(Engine {
            state: EngineState::new(account, config, policy, seed, rng, total_budget),
            plan_view: PosteriorTable::default(),
            keyword_view: PosteriorTable::default(),
            keyword_offset,
        })
    }

    /// The engine's view of the account (with its decisions applied).
    pub fn account(&self) -> &Account {
        &self.state.account
    }
    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.state.config
    }
    /// The policy.
    pub fn policy(&self) -> &P {
        &self.state.policy
    }
    /// The total daily budget across plans.
    pub fn total_budget(&self) -> Money {
        self.state.total_budget
    }
    /// Decisions made so far.
    pub fn rounds(&self) -> u64 {
        self.state.round
    }

    /// Sets the total daily budget.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a negative amount.
    pub fn set_total_budget(&mut self, total: Money) -> Result<()> {
        if total.is_negative() {
            return Err(Error::invalid("total_budget", total, "must be >= 0"));
        }
        self.state.total_budget = total;
        Ok(())
    }

    /// Records a bid the platform actually has (e.g. it refused the engine's).
    ///
    /// # Errors
    /// As [`Account::set_bid`].
    pub fn set_bid(&mut self, keyword: &KeywordId, bid: Money) -> Result<()> {
        self.state.account.set_bid(keyword, bid)
    }

    /// Records a plan's actual daily budget.
    ///
    /// # Errors
    /// As [`Account::set_daily_budget`].
    pub fn set_daily_budget(&mut self, plan: &PlanId, budget: Money) -> Result<()> {
        self.state.account.set_daily_budget(plan, budget)
    }

    /// Pauses or resumes a keyword (the operator's call).
    ///
    /// # Errors
    /// As [`Account::set_keyword_status`].
    pub fn set_keyword_status(&mut self, keyword: &KeywordId, status: Status) -> Result<()> {
        self.state.account.set_keyword_status(keyword, status)
    }

    /// Adds a keyword to a plan; it starts at its plan's estimated rates.
    ///
    /// # Errors
    /// As [`Account::add_keyword`]; the engine is unchanged on error.
    pub fn add_keyword(&mut self, plan: &PlanId, keyword: Keyword) -> Result<()> {
        let mut account = self.state.account.clone();
        account.add_keyword(plan, keyword)?;
        let keyword_offset = keyword_offsets(&account);
        let i = account.require_plan(plan)?;
        self.state.account = account;
        self.state.push_keyword(i);
        self.keyword_offset = keyword_offset;
        self.arms_changed();
        Ok(())
    }

    /// Adds a plan (a launch). It starts cold from the hierarchy: with no evidence of its
    /// own, the plan's posteriors are the account-level prior fitted from its sibling plans,
    /// and its keywords start at the plan's. Its traffic is guessed from its budget as for a
    /// plan the engine was built with, and its first decision treats it as being learned
    /// (exploration floor).
    ///
    /// The plan brings its daily budget: when the total is derived from the plans (no
    /// [`EngineConfig::total_daily_budget`]) and the plan is active, the total grows by it;
    /// a configured total stays as it is and the new plan competes for it.
    ///
    /// # Errors
    /// Any [`Plan::validate`](crate::model::Plan::validate) error, [`Error::DuplicateId`]
    /// for a plan or keyword id the account already has, [`Error::Overflow`] if the total
    /// overflows. The engine is unchanged on error.
    pub fn add_plan(&mut self, plan: Plan) -> Result<()> {
        let mut plans = self.state.account.plans().to_vec();
        plans.push(plan);
        let account = Account::new(
            self.state.account.name(),
            self.state.account.currency(),
            plans,
        )?;
        let i = account.plans().len() - 1;
        let p = &account.plans()[i];
        let total_budget =
            if self.state.config.total_daily_budget.is_none() && p.status == Status::Active {
                self.state.total_budget.checked_add(p.daily_budget)?
            } else {
                self.state.total_budget
            };
        let keyword_offset = keyword_offsets(&account);
        self.state.total_budget = total_budget;
        self.state.account = account;
        self.state.push_plan();
        self.keyword_offset = keyword_offset;
        self.arms_changed();
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
        let mut ledgers = self.state.ledgers.open_days.clone();
        let mut month = self.state.ledgers.month.clone();
        for (n, row) in report.rows().iter().enumerate() {
            let at = || format!("report.rows[{n}]");
            let i = self.state.account.require_plan(&row.plan)?;
            let j = match &row.keyword {
                None => None,
                Some(k) => {
                    let (pi, j) = self.state.account.require_keyword(k)?;
                    if pi != i {
                        return Err(Error::Inconsistent {
                            field: at(),
                            reason: format!(
                                "keyword {k} belongs to plan {}, not {}",
                                self.state.account.plans()[pi].id,
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
            let plans = self.state.account.plans().len();
            let day = ledgers
                .entry(row.date.days())
                .or_insert_with(|| vec![None; plans]);
            let ledger = day[i].get_or_insert_with(|| DayLedger {
                budget: self.state.account.plans()[i].daily_budget.micros(),
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
            let f = factors_on(&self.state.config.events, row.date);
            if (f.cvr - 1.0).abs() > 1e-12 {
                c.conversions /= f.cvr;
                c.revenue /= f.cvr;
            }
            resolved.push((i, j, i64::from(row.date.days()), c));
        }
        // 2. Apply: nothing below can fail.
        for (i, j, period, c) in resolved {
            match j {
                Some(j) => self.state.evidence.keywords[i][j].add(period, &c),
                None => self.state.evidence.plans[i].add(period, &c),
            }
        }
        self.state.ledgers.open_days = ledgers;
        self.state.ledgers.month = month;
        Ok(())
    }

    /// Decides budgets, bids, pauses and flags for `date`, and applies them to the engine's
    /// account. Advances the engine's generator (so two calls give two draws).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] if `date` is before the last decision's date.
    pub fn decide(&mut self, date: Date) -> Result<Decision> {
        if let Some(last) = self.state.last_decision
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
        self.state
            .evidence
            .plans
            .iter_mut()
            .for_each(|e| e.advance_to(period));
        self.state
            .evidence
            .keywords
            .iter_mut()
            .flatten()
            .for_each(|e| e.advance_to(period));
        let est = self.estimates()?;
        let round = self.state.round + 1;
        let factors = factors_on(&self.state.config.events, date);
        for e in self.state.config.events.iter().filter(|e| e.covers(date)) {
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
        let round_seed: u64 = rand::RngExt::random(&mut self.state.rng);
        let mut rng = stream(round_seed, &[0]);
        let (ctr_s, cvr_s, vpc_s) = self.score_plans(&est, round, &mut rng)?;
        let mut rng_k = stream(round_seed, &[1]);
        let (kw_cvr_s, kw_vpc_s) = self.score_keywords(&est, date, round, &mut rng_k)?;
        let plans = self.state.account.plans();
        let n_plans = plans.len();

        // Budgets.
        let active_plans = plans
            .iter()
            .filter(|p| p.status == Status::Active)
            .count()
            .max(1);
        let floor = Money::from_micros(
            (self.state.total_budget.micros() as f64 * self.state.config.exploration_floor
                / active_plans as f64)
                .floor() as i64,
        );
        let arms: Vec<PlanArm> = (0..n_plans)
            .map(|i| {
                let p = &plans[i];
                let e = &est.plans[i];
                let per_imp = match self.state.config.objective {
                    Objective::MaxClicks => ctr_s[i],
                    Objective::MaxConversions | Objective::TargetCpa { .. } => {
                        ctr_s[i] * cvr_s[i] * factors.cvr
                    }
                    Objective::MaxRevenue | Objective::TargetRoi { .. } => {
                        ctr_s[i] * vpc_s[i] * factors.cvr
                    }
                };
                let limits = self.state.config.plan_limits.get(&p.id);
                PlanArm {
                    current: p.daily_budget,
                    min: limits.map_or(Money::ZERO, |l| l.min_budget),
                    max: limits.map_or(self.state.total_budget, |l| l.max_budget),
                    value_per_money: per_imp * self.impressions_per_money(i, e),
                    capacity: self.state.traffic[i].capacity * factors.traffic,
                    learning: e.counts.clicks < self.state.config.learning_clicks,
                    active: p.status == Status::Active,
                }
            })
            .collect();
        let limits = AllocationLimits {
            total: self.state.total_budget,
            max_step: self.state.config.max_budget_step,
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
        let mut bids = Vec::with_capacity(self.keyword_view.len());
        let mut bid_pos = Vec::with_capacity(self.keyword_view.len());
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
                max_step: self.state.config.max_bid_step,
                increment: self.state.config.bid_increment,
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
            self.state.account.set_daily_budget(&b.plan, b.to)?;
        }
        for (b, &pos) in bids.iter().zip(&bid_pos) {
            self.state.account.set_bid_at(pos, b.to)?;
        }
        for p in &pauses {
            self.state
                .account
                .set_keyword_status(&p.keyword, Status::Paused)?;
        }
        self.state.round = round;
        self.state.last_decision = Some(date);
        Ok(Decision {
            date,
            round,
            total_budget: self.state.total_budget,
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
        let i = self.state.account.require_plan(plan)?;
        let p = &self.state.account.plans()[i];
        let cap = self.spend_cap(i, p.daily_budget, date);
        let capacity =
            self.state.traffic[i].capacity * factors_on(&self.state.config.events, date).traffic;
        let initial = if capacity > 0.0 {
            cap.micros() as f64 / capacity
        } else {
            1.0
        };
        Pacer::new(
            cap,
            &p.schedule,
            &self.state.config.traffic_curve,
            self.state.config.pacing,
            initial,
        )
    }

    /// The current posteriors for every plan and keyword.
    ///
    /// # Errors
    /// Only on an internal shape mismatch ([`Error::Inconsistent`]).
    pub fn estimates(&self) -> Result<AccountEstimates> {
        let plan_rows: Vec<Counts> = self
            .state
            .evidence
            .plans
            .iter()
            .map(Evidence::total)
            .collect();
        let kw: Vec<Vec<Counts>> = self
            .state
            .evidence
            .keywords
            .iter()
            .map(|ks| ks.iter().map(Evidence::total).collect())
            .collect();
        AccountEstimates::fit(
            &self.state.account,
            &plan_rows,
            &kw,
            &self.state.config.shrinkage,
        )
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
        let (i, j) = self.state.account.require_keyword(keyword)?;
        check_draws(draws)?;
        let est = self.estimates()?;
        let e = &est.keywords[i][j];
        let model = self.spend_models(i, &[j], DayFactors::NORMAL)[0];
        let plan_clicks: f64 = est.keywords[i].iter().map(|k| k.counts.clicks).sum();
        let n = est.keywords[i].len() as f64;
        let share = (e.counts.clicks + 1.0) / (plan_clicks + n);
        let clicks_ref = self.state.traffic[i].daily_clicks.max(1.0) * share;
        let eta = self.state.config.bid_elasticity;
        let mut rng = stream(
            self.state.seed,
            &[
                domain::ENGINE,
                0x5748_4154,
                self.state.round,
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
        let i = self.state.account.require_plan(plan)?;
        check_draws(draws)?;
        let est = self.estimates()?;
        let e = &est.plans[i];
        let cap = self.state.traffic[i].capacity.max(1.0) / 1e6;
        let ipm = self.impressions_per_money(i, e);
        let mut rng = stream(
            self.state.seed,
            &[domain::ENGINE, 0x4255_4447, self.state.round, i as u64],
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
            state: self.state.clone(),
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
        let state = s.state;
        state.validate()?;
        check_policy(&state.policy)?;
        let keyword_offset = keyword_offsets(&state.account);
        Ok(Engine {
            state,
            plan_view: PosteriorTable::default(),
            keyword_view: PosteriorTable::default(),
            keyword_offset,
        })
    }

    // ---- internals -------------------------------------------------------------------

    /// Tells the policy that the keywords changed, with a view of the new list.
    fn arms_changed(&mut self) {
        // The estimates cannot fail on a state whose shapes were just kept in step.
        if let Ok(est) = self.estimates() {
            fill_keyword_view(&mut self.keyword_view, &self.state.account, &est);
        }
        self.state.policy.arms_changed(&self.keyword_view);
    }

    /// Closes the ledgers of days before `date`: updates capacities and daily averages, and
    /// flags plans whose budget ran out early on the latest closed day.
    fn close_days(&mut self, date: Date) -> Vec<Flag> {
        let mut flags = Vec::new();
        let closed: Vec<i32> = self
            .state
            .ledgers
            .open_days
            .range(..date.days())
            .map(|(d, _)| *d)
            .collect();
        let latest = closed.last().copied();
        for d in closed {
            let Some(day) = self.state.ledgers.open_days.remove(&d) else {
                continue;
            };
            let f = factors_on(&self.state.config.events, Date::from_days(d)).traffic;
            for (i, ledger) in day.iter().enumerate() {
                let Some(l) = ledger else { continue };
                let t = &mut self.state.traffic[i];
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
                if h < usize::from(self.state.config.rules.exhausted_before_hour) {
                    let p = &self.state.account.plans()[i];
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
        match self.state.config.budget_mode {
            BudgetMode::HardDailyCap => budget,
            BudgetMode::OverDelivery { daily_multiple } => {
                let (y, m, _) = date.ymd();
                let spent = match &self.state.ledgers.month {
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
        let p = &self.state.account.plans()[i];
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
        let ev = &self.state.evidence.keywords[i];
        let p = &self.state.account.plans()[i];
        let n = ev.len().max(1) as f64;
        let total_cost: f64 = ev.iter().map(|e| e.total().cost).sum();
        // Anchor on what the plan spent yesterday at today's bids (the engine applied them):
        // a budget-limited day would have spent more, hence the headroom. Before any data,
        // the capacity guess stands in.
        let t = &self.state.traffic[i];
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
                elasticity: self.state.config.bid_elasticity,
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
        let plans = self.state.account.plans();
        self.plan_view.fill(
            est.plans
                .iter()
                .zip(plans)
                .map(|(e, p)| (e, p.status == Status::Active)),
            PRIOR_CPC,
        );
        let policy = &self.state.policy;
        policy.score(&self.plan_view, Reward::Ctr, round, rng, &mut ctr);
        policy.score(&self.plan_view, Reward::ValuePerClick, round, rng, &mut vpc);
        policy.score(&self.plan_view, Reward::Cvr, round, rng, &mut cvr);
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
        let n = self.keyword_offset.last().copied().unwrap_or(0)
            + self
                .state
                .account
                .plans()
                .last()
                .map_or(0, |p| p.keywords.len());
        let (mut cvr, mut vpc) = (vec![0.0; n], vec![0.0; n]);
        let epoch = i64::from(date.days())
            .div_euclid(i64::from(self.state.config.keyword_redraw_days.max(1)));
        if self.state.draws.epoch != Some(epoch) {
            fill_keyword_view(&mut self.keyword_view, &self.state.account, est);
            let policy = &self.state.policy;
            policy.score(&self.keyword_view, Reward::Cvr, round, rng, &mut cvr);
            policy.score(
                &self.keyword_view,
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
                    self.state.draws.ratios[i][j] = (
                        ratio(cvr[ix], e.cvr.mean()),
                        ratio(vpc[ix], e.value_per_click()),
                    );
                }
            }
            self.state.draws.epoch = Some(epoch);
        }
        for (i, ks) in est.keywords.iter().enumerate() {
            for (j, e) in ks.iter().enumerate() {
                let ix = self.keyword_offset[i] + j;
                let (rc, rv) = self.state.draws.ratios[i][j];
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
        let r = &self.state.config.rules;
        let c = &e.counts;
        if c.clicks < r.pause_min_clicks || c.cost < r.pause_min_cost {
            return None;
        }
        let cpc = c.cpc()?;
        let aov = e.aov.mean();
        let (needed_cvr, what) = match objective {
            Objective::MaxClicks => return None,
            Objective::TargetRoi { roi } => (roi * cpc / aov, format!("ROI {roi}")),
            Objective::TargetCpa { cpa } => (cpc / cpa.units(), format!("CPA {cpa}")),
            Objective::MaxRevenue | Objective::MaxConversions => (
                r.min_roi * cpc / aov,
                format!("break-even ROI {}", r.min_roi),
            ),
        };
        let p = prob_above(&e.cvr, needed_cvr);
        (p < r.pause_below_probability).then(|| Reason::new(
            ReasonCode::PauseUnlikelyToMeetObjective,
            format!(
                "After {:.0} clicks and {:.2} spent, the chance this keyword reaches {what} is {:.1}% (it would need a {:.2}% conversion rate; estimate {:.2}%)",
                c.clicks,
                c.cost,
                100.0 * p,
                100.0 * needed_cvr,
                100.0 * e.cvr.mean()
            ),
            metrics(e, Some(p), None),
        ))
    }

    fn ctr_cvr_flag(&self, e: &ArmEstimate, plan: &ArmEstimate) -> Option<Reason> {
        let r = &self.state.config.rules;
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

/// The engine spends money in proportion to the scores, so it needs scores on the reward's
/// scale; the policy's own declaration says whether its scores are.
fn check_policy<P: Policy>(p: &P) -> Result<()> {
    let kind = p.score_kind();
    if !kind.usable_as_value() {
        return Err(Error::parameter(
            "policy",
            p.name(),
            format!(
                "its scores are {kind:?} (a ranking, not a value of the reward), and the engine allocates money by score; use it through policy::Arms"
            ),
        ));
    }
    Ok(())
}

/// The index of each plan's first keyword in the flattened keyword list.
fn keyword_offsets(account: &Account) -> Vec<usize> {
    let mut offsets = Vec::with_capacity(account.plans().len());
    let mut n = 0;
    for p in account.plans() {
        offsets.push(n);
        n += p.keywords.len();
    }
    offsets
}

/// The keywords' view, flattened in account order; a keyword is active if it and its plan
/// are.
fn fill_keyword_view(view: &mut PosteriorTable, account: &Account, est: &AccountEstimates) {
    view.fill(
        account
            .plans()
            .iter()
            .zip(&est.keywords)
            .flat_map(|(p, ks)| {
                p.keywords.iter().zip(ks).map(move |(k, e)| {
                    (e, p.status == Status::Active && k.status == Status::Active)
                })
            }),
        PRIOR_CPC,
    );
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

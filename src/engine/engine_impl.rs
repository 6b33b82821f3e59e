//! The [`Engine`] type.

use crate::engine::calendar::factors_on;
use crate::engine::config::EngineConfig;
use crate::engine::decision::Decision;
use crate::engine::reasons::calendar_flags;
use crate::engine::score::fill_keyword_view;
use crate::engine::snapshot::{ENGINE_FORMAT_VERSION, EngineSnapshot};
use crate::engine::state::EngineState;
use crate::error::{Error, Result};
use crate::estimate::{AccountEstimates, Counts, Evidence, PosteriorTable};
use crate::model::{Account, CreativeId, Date, Keyword, KeywordId, Plan, PlanId, Status};
use crate::money::Money;
use crate::pacing::Pacer;
use crate::policy::{BuiltinPolicy, Policy};
use crate::rng::{domain, stream};

/// The cpc (currency units) behind the policy view's ROI before any click: one pseudo-click.
pub(crate) const PRIOR_CPC: f64 = 1.0;

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
    /// Everything persistent (the snapshot's payload).
    pub(crate) state: EngineState<P>,
    // Derived from the state; rebuilt on restore.
    /// The policy's view of the plans' and keywords' fitted posteriors (refilled when
    /// scored; a cache of the estimates, not a second store of evidence).
    pub(crate) plan_view: PosteriorTable,
    pub(crate) keyword_view: PosteriorTable,
    /// Index of each plan's first keyword in the flattened keyword list.
    pub(crate) keyword_offset: Vec<usize>,
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
    /// the reward's scale (EXP3); [`Error::UnknownId`] for plan limits naming an unknown plan
    /// or channel limits naming a channel no plan of the account is in;
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
        // A limit on a channel no plan is in would silently do nothing: most likely a typo.
        for name in config.channel_limits.keys() {
            if !account.plans().iter().any(|p| p.channel_name() == name) {
                return Err(Error::UnknownId {
                    kind: "channel",
                    id: name.clone(),
                });
            }
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

    /// Pauses or resumes a creative (the operator's call; a resumed creative rejoins its
    /// plan's test with the evidence it has).
    ///
    /// # Errors
    /// As [`Account::set_creative_status`].
    pub fn set_creative_status(&mut self, creative: &CreativeId, status: Status) -> Result<()> {
        self.state.account.set_creative_status(creative, status)
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

    /// Records the mean scale the pacer put on `plan`'s bids on `date` (spend-weighted,
    /// [`Pacer::mean_bid_scale`]). Call it before observing that day's report: the engine
    /// then knows the bids the day's clicks were bought at (the account's bids times the
    /// scale), for its spend model and its response curves. A day without a recorded
    /// scale counts as 1 (bids as set). Days older than 60 days are forgotten.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for an unknown plan; [`Error::InvalidValue`] for a scale that
    /// is not in (0, 10] (the simulator's range of hour multipliers).
    pub fn record_bid_scale(&mut self, plan: &PlanId, date: Date, scale: f64) -> Result<()> {
        let i = self.state.account.require_plan(plan)?;
        if !(scale > 0.0 && scale <= 10.0) {
            return Err(Error::invalid("bid_scale", scale, "must be in (0, 10]"));
        }
        let n = self.state.account.plans().len();
        let day = date.days();
        let v = self.state.bid_scales.entry(day).or_default();
        if v.len() < n {
            v.resize(n, 1.0);
        }
        v[i] = scale;
        let oldest = day.saturating_sub(crate::engine::state::BID_SCALE_DAYS);
        self.state.bid_scales = self.state.bid_scales.split_off(&oldest);
        Ok(())
    }

    /// Replaces what the engine has learned about `keyword` by `counts`, dated `date`
    /// (they then forget like any report's). For evidence from outside the reports: a
    /// keyword's history carried over from another account, or, in a simulated test of the
    /// decision machinery, the market's true rates (the `tests/decisions.rs` harness feeds
    /// the truth this way to separate what the mechanism loses from what learning loses).
    /// The spend ledgers are not touched: counts are not a day's spend.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for an unknown keyword; [`Error::InvalidValue`] for a count that
    /// is negative or not finite.
    pub fn set_evidence(&mut self, keyword: &KeywordId, date: Date, counts: Counts) -> Result<()> {
        let (i, j) = self.state.account.require_keyword(keyword)?;
        let c = counts;
        for (name, v) in [
            ("impressions", c.impressions),
            ("clicks", c.clicks),
            ("conversions", c.conversions),
            ("cost", c.cost),
            ("revenue", c.revenue),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(
                    format!("set_evidence.{name}"),
                    v,
                    "must be finite and >= 0",
                ));
            }
        }
        let ev = &mut self.state.evidence.keywords[i][j];
        let mut fresh = Evidence::new(ev.forgetting());
        let period = i64::from(date.days());
        // Keep the keyword's clock where it is, so later reports age it as before.
        if let Some(l) = ev.latest() {
            fresh.advance_to(l.min(period));
        }
        fresh.add(period, &c);
        *ev = fresh;
        // The response model's evidence follows, at today's bid.
        let bid =
            self.state.account.plans()[i].keywords[j].bid.units() * self.state.mean_multiplier(i);
        if let Some(t) = self
            .state
            .evidence
            .bids
            .get_mut(i)
            .and_then(|b| b.get_mut(j))
        {
            let mut fresh = Evidence::new(t.forgetting());
            if let Some(l) = t.latest() {
                fresh.advance_to(l.min(period));
            }
            fresh.add(
                period,
                &crate::engine::traffic::BidTally {
                    clicks: c.clicks,
                    cost: c.cost,
                    bid_clicks: c.clicks * bid,
                },
            );
            *t = fresh;
        }
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
        // 1. Close the days before `date`: traffic learned, early exhaustion flagged.
        let mut flags = self.state.close_days(date);
        // 2. Fit the posteriors as of the day before `date`.
        self.state.advance_evidence(i64::from(date.days()) - 1);
        flags.extend(self.state.detect_changes(date));
        let est = self.estimates()?;
        let round = self.state.round + 1;
        let factors = factors_on(&self.state.config.events, date);
        flags.extend(calendar_flags(&self.state.config.events, date));
        // 3. Policy scores. One round seed per decision keeps plans and keywords on
        //    separate, reproducible streams.
        let round_seed: u64 = rand::RngExt::random(&mut self.state.rng);
        let plan_scores = self.score_plans(&est, date, round, &mut stream(round_seed, &[0]))?;
        let keyword_scores =
            self.score_keywords(&est, date, round, &mut stream(round_seed, &[1]))?;
        // 4. Budgets across plans, 5. bids, pauses and keyword flags within each plan.
        let (budgets, alloc) = self.state.budget_stage(
            &est,
            &plan_scores,
            &keyword_scores,
            &self.keyword_offset,
            factors,
            date,
        );
        let plan_budgets: Vec<Money> = alloc.iter().map(|a| a.budget).collect();
        let bids = self.state.bid_stage(
            &est,
            &keyword_scores,
            &plan_budgets,
            &self.keyword_offset,
            factors,
        );
        flags.extend(bids.flags);
        // 5b. Creative tests per plan (their own streams under the round seed).
        let creatives = self.state.creative_stage(round_seed)?;
        // 6. Apply. Every amount was produced within the account's limits, so these cannot
        //    fail; the `?` only guards the invariant.
        for b in &budgets {
            self.state.account.set_daily_budget(&b.plan, b.to)?;
        }
        for (b, &pos) in bids.bids.iter().zip(&bids.positions) {
            self.state.account.set_bid_at(pos, b.to)?;
        }
        for p in &bids.pauses {
            self.state
                .account
                .set_keyword_status(&p.keyword, Status::Paused)?;
        }
        for p in &creatives.pauses {
            self.state
                .account
                .set_creative_status(&p.creative, Status::Paused)?;
        }
        self.state.round = round;
        self.state.last_decision = Some(date);
        Ok(Decision {
            date,
            round,
            total_budget: self.state.total_budget,
            budgets,
            bids: bids.bids,
            pauses: bids.pauses,
            flags,
            creatives: creatives.tests,
            creative_pauses: creatives.pauses,
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
        let cap = self.state.spend_cap(i, p.daily_budget, date);
        let capacity =
            self.state.traffic[i].capacity * factors_on(&self.state.config.events, date).traffic;
        let pacing = self.state.config.pacing;
        let scales = pacing.min_bid_scale < 1.0 || pacing.max_bid_scale > 1.0;
        // A pacer that scales bids starts at full rate: the bids were set to spend the
        // budget, and a throttle drops cheap clicks with dear ones.
        let initial = if scales {
            1.0
        } else if capacity > 0.0 {
            cap.micros() as f64 / capacity
        } else {
            1.0
        };
        Pacer::new(
            cap,
            &p.schedule,
            &self.state.config.traffic_curve,
            pacing,
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
        let mut state = s.state;
        state.migrate();
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

/// The engine is shareable across threads (checked at compile time).
const _: () = {
    const fn is<T: Send + Sync>() {}
    is::<Engine>();
};

//! The engine's persistent state: one struct, which is also the snapshot's payload.
//!
//! Everything an engine learns or must remember lives in [`EngineState`]; the engine itself
//! adds only caches derived from it (rebuilt on restore). Adding a piece of state means
//! adding one field here (with `#[serde(default)]` so older snapshots still load).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::config::EngineConfig;
use crate::engine::traffic::{BidTally, KeywordCurve};
use crate::error::{Error, Result};
use crate::estimate::{Evidence, Forgetting};
use crate::model::{Account, Date, Plan, Stats};
use crate::money::Money;
use crate::rng::SimRng;

/// The whole persistent state of an engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EngineState<P> {
    /// The account, with the engine's decisions applied.
    pub(crate) account: Account,
    /// The configuration.
    pub(crate) config: EngineConfig,
    /// The policy (and its own state, if any).
    pub(crate) policy: P,
    /// The seed the engine was built with (what-if streams derive from it).
    pub(crate) seed: u64,
    /// The decision generator.
    pub(crate) rng: SimRng,
    /// The total daily budget across plans.
    pub(crate) total_budget: Money,
    /// What the engine has learned, per plan and keyword.
    pub(crate) evidence: EvidenceStore,
    /// The keywords' held exploration draws.
    pub(crate) draws: HeldDraws,
    /// Each plan's traffic, learned from whole days.
    pub(crate) traffic: Vec<PlanTraffic>,
    /// Each plan's budget-use multiplier (the dual of its budget constraint): the bid
    /// stage aims the plan's predicted spend at budget x this, and each closed day moves it
    /// by how far the spend fell short of the budget (see `ledger`). Empty in snapshots
    /// written before it existed: every plan starts at 1.
    #[serde(default)]
    pub(crate) budget_duals: Vec<f64>,
    /// Per plan, per keyword: its last days at its own bids and the response curve fitted
    /// to them (`engine::traffic`). Empty in snapshots written before it existed: the
    /// curves are fitted from the next closed days.
    #[serde(default)]
    pub(crate) curves: Vec<Vec<KeywordCurve>>,
    /// Spend ledgers of open days and of the month.
    pub(crate) ledgers: Ledgers,
    /// Decisions made so far.
    pub(crate) round: u64,
    /// The date of the last decision.
    pub(crate) last_decision: Option<Date>,
    /// Each plan's creatives' evidence, from ad-level rows. Absent in snapshots written
    /// before creatives existed: filled with no evidence on restore.
    #[serde(default, skip_serializing_if = "CreativeStore::is_empty")]
    pub(crate) creatives: CreativeStore,
    /// Per day number, per plan: the mean scale the pacer put on the plan's bids that day
    /// ([`crate::engine::Engine::record_bid_scale`]; 1 where none was recorded). Kept for
    /// [`BID_SCALE_DAYS`] days. Absent in snapshots written before it existed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) bid_scales: BTreeMap<i32, Vec<f64>>,
}

/// Days a recorded bid scale is kept (longer than a curve's history and the default
/// restatement window, so a restated row finds its day's scale).
pub(crate) const BID_SCALE_DAYS: i32 = 60;

/// Per plan, per creative (indexed like the plan's `creatives`), the evidence of ad-level
/// rows, and the rows seen in the last `restatement_days` (a restated row replaces them).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreativeStore {
    /// Creative `j` of plan `i`.
    pub(crate) evidence: Vec<Vec<Evidence>>,
    /// Rows seen, by (day number, plan, creative).
    #[serde(default)]
    pub(crate) seen: CreativeSeen,
}

impl CreativeStore {
    /// Fresh evidence for every creative of `account`.
    pub(crate) fn new(account: &Account, f: Forgetting) -> Self {
        CreativeStore {
            evidence: account
                .plans()
                .iter()
                .map(|p| p.creatives.iter().map(|_| Evidence::new(f)).collect())
                .collect(),
            seen: CreativeSeen::default(),
        }
    }

    /// Whether no creative has evidence or a remembered row (then nothing is written, so an
    /// account without creatives snapshots exactly as before).
    pub(crate) fn is_empty(&self) -> bool {
        self.seen.rows.is_empty() && self.evidence.iter().flatten().all(|e| e.latest().is_none())
    }
}

/// Key of a remembered creative row: (day number, plan, creative).
pub(crate) type CreativeKey = (i32, u32, u32);

/// Creative rows already observed, by key, with their figures.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(from = "Vec<CreativeSeenRow>", into = "Vec<CreativeSeenRow>")]
pub(crate) struct CreativeSeen {
    pub(crate) rows: BTreeMap<CreativeKey, Stats>,
}

/// One remembered creative row, as serialised.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreativeSeenRow {
    date: i32,
    plan: u32,
    creative: u32,
    stats: Stats,
}

impl From<Vec<CreativeSeenRow>> for CreativeSeen {
    fn from(rows: Vec<CreativeSeenRow>) -> Self {
        CreativeSeen {
            rows: rows
                .into_iter()
                .map(|r| ((r.date, r.plan, r.creative), r.stats))
                .collect(),
        }
    }
}

impl From<CreativeSeen> for Vec<CreativeSeenRow> {
    fn from(s: CreativeSeen) -> Self {
        s.rows
            .into_iter()
            .map(|((date, plan, creative), stats)| CreativeSeenRow {
                date,
                plan,
                creative,
                stats,
            })
            .collect()
    }
}

impl CreativeSeen {
    /// Forgets rows older than `days` before the latest day remembered.
    pub(crate) fn prune(&mut self, days: u32) {
        let Some(latest) = self.rows.keys().next_back().map(|k| k.0) else {
            return;
        };
        let cutoff = latest.saturating_sub(i32::try_from(days).unwrap_or(i32::MAX));
        self.rows = self.rows.split_off(&(cutoff.saturating_add(1), 0, 0));
    }
}

/// The evidence per plan (plan-level rows) and per keyword, indexed like the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvidenceStore {
    /// Plan `i`'s rows without a keyword.
    pub(crate) plans: Vec<Evidence>,
    /// Keyword `j` of plan `i`.
    pub(crate) keywords: Vec<Vec<Evidence>>,
    /// Keyword `j` of plan `i`: clicks and cost with the effective bids they were bought at,
    /// under the same forgetting (the response model's fit, see `engine::traffic`). Empty
    /// in snapshots written before it existed: the current bid stands in.
    #[serde(default)]
    pub(crate) bids: Vec<Vec<Evidence<BidTally>>>,
}

/// Per keyword, the policy's last draw as a ratio to the posterior mean (CVR, value per
/// click), held for `keyword_redraw_days`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HeldDraws {
    /// `(cvr ratio, value-per-click ratio)` per plan, per keyword.
    pub(crate) ratios: Vec<Vec<(f64, f64)>>,
    /// The redraw period the held draws belong to.
    pub(crate) epoch: Option<i64>,
    /// `[ctr, value per click, cvr]` ratios of the plans' last draws to their means, held
    /// for `PLAN_REDRAW_DAYS` so that budgets do not chase a fresh draw every day (empty in
    /// older snapshots: drawn at the next decision).
    #[serde(default)]
    pub(crate) plans: Vec<[f64; 3]>,
    /// The redraw period the plans' held draws belong to.
    #[serde(default)]
    pub(crate) plan_epoch: Option<i64>,
}

/// Spend ledgers: per open day and plan, and per plan for the current month.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Ledgers {
    /// Days not yet closed by a decision (day number -> one entry per plan).
    pub(crate) open_days: BTreeMap<i32, Vec<Option<DayLedger>>>,
    /// The current calendar month's spend per plan.
    pub(crate) month: Option<MonthLedger>,
    /// The figures of every report row observed in the last `restatement_days`, so that a
    /// restated row replaces them.
    #[serde(default)]
    pub(crate) seen: Seen,
}

/// Key of a remembered row: (day number, plan, keyword or `NO_KEYWORD`, hour or `WHOLE_DAY`),
/// ordered so that every hour of one (day, plan, keyword) is one contiguous range.
pub(crate) type SeenKey = (i32, u32, u32, u8);
/// The keyword part of a plan-level row's key.
pub(crate) const NO_KEYWORD: u32 = u32::MAX;
/// The hour part of a whole-day row's key.
pub(crate) const WHOLE_DAY: u8 = 24;

/// Report rows already observed, by key, with their figures.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(from = "Vec<SeenRow>", into = "Vec<SeenRow>")]
pub(crate) struct Seen {
    pub(crate) rows: BTreeMap<SeenKey, Stats>,
}

/// One remembered row, as serialised.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeenRow {
    date: i32,
    plan: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    keyword: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hour: Option<u8>,
    stats: Stats,
}

impl From<Vec<SeenRow>> for Seen {
    fn from(rows: Vec<SeenRow>) -> Self {
        Seen {
            rows: rows
                .into_iter()
                .map(|r| {
                    let key = (
                        r.date,
                        r.plan,
                        r.keyword.unwrap_or(NO_KEYWORD),
                        r.hour.unwrap_or(WHOLE_DAY),
                    );
                    (key, r.stats)
                })
                .collect(),
        }
    }
}

impl From<Seen> for Vec<SeenRow> {
    fn from(s: Seen) -> Self {
        s.rows
            .into_iter()
            .map(|((date, plan, keyword, hour), stats)| SeenRow {
                date,
                plan,
                keyword: (keyword != NO_KEYWORD).then_some(keyword),
                hour: (hour != WHOLE_DAY).then_some(hour),
                stats,
            })
            .collect()
    }
}

impl Seen {
    /// Forgets rows older than `days` before the latest day remembered.
    pub(crate) fn prune(&mut self, days: u32) {
        let Some(latest) = self.rows.keys().next_back().map(|k| k.0) else {
            return;
        };
        let cutoff = latest.saturating_sub(i32::try_from(days).unwrap_or(i32::MAX));
        // Keys sort by day first: everything before the cutoff is one prefix.
        self.rows = self.rows.split_off(&(cutoff.saturating_add(1), 0, 0, 0));
    }

    /// Whether (day, plan, keyword) has rows remembered, and whether they are hour rows.
    pub(crate) fn granularity(&self, day: i32, plan: u32, keyword: u32) -> Option<bool> {
        self.rows
            .range((day, plan, keyword, 0)..=(day, plan, keyword, WHOLE_DAY))
            .next()
            .map(|(k, _)| k.3 != WHOLE_DAY)
    }
}

/// What one plan spent on one day (micros), kept until the day is closed by a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DayLedger {
    pub(crate) budget: i64,
    pub(crate) spend: i64,
    pub(crate) clicks: u64,
    pub(crate) hourly_spend: Option<[i64; 24]>,
}

/// A plan's traffic as learned from whole days.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// Average share of the day's traffic the plan was in the market for (1 unless the
    /// budget ran out: hourly spend says when). Daily clicks / this = the demand.
    #[serde(default = "one")]
    pub(crate) served: f64,
    /// The mean bid scale the pacer applied on the latest closed day (1 if none was
    /// recorded): `last_spend` was bought at the bids times this.
    #[serde(default = "one")]
    pub(crate) last_scale: f64,
}

fn one() -> f64 {
    1.0
}

impl PlanTraffic {
    /// A plan not seen yet: its traffic is guessed as 1.5 x its budget.
    pub(crate) fn cold(p: &Plan) -> Self {
        PlanTraffic {
            capacity: (p.daily_budget.micros() as f64 * 1.5).max(1.0),
            daily_spend: 0.0,
            last_spend: 0.0,
            last_limited: false,
            daily_clicks: 0.0,
            days: 0,
            served: 1.0,
            last_scale: 1.0,
        }
    }
}

/// Spend per plan in the current calendar month (for over-delivery).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MonthLedger {
    pub(crate) year: i32,
    pub(crate) month: u32,
    pub(crate) spent: Vec<i64>,
}

/// Bounds of a plan's budget-use multiplier.
pub(crate) const DUAL_MIN: f64 = 0.5;
/// See [`DUAL_MIN`].
pub(crate) const DUAL_MAX: f64 = 4.0;
/// The budget use the multiplier aims for.
const DUAL_TARGET: f64 = 0.98;

impl<P> EngineState<P> {
    /// The mean bid scale recorded for plan `i` on day number `day` (1 if none).
    pub(crate) fn bid_scale_on(&self, i: usize, day: i32) -> f64 {
        self.bid_scales
            .get(&day)
            .and_then(|v| v.get(i))
            .copied()
            .unwrap_or(1.0)
    }

    /// Plan `i`'s budget-use multiplier (1 before any closed day).
    pub(crate) fn budget_dual(&self, i: usize) -> f64 {
        self.budget_duals.get(i).copied().unwrap_or(1.0)
    }

    /// Moves plan `i`'s budget-use multiplier after a closed day that spent `spend` of
    /// `budget` (micros): up by `exp(DUAL_RATE x (DUAL_TARGET - use))`, so a day that left
    /// budget unspent raises the spend the next bids aim for, and a day that spent it all
    /// lowers it a little (the multiplier settles where short days are rare). This is dual
    /// mirror descent on the budget constraint (Balseiro & Gur 2019, "Learning in repeated
    /// auctions with budgets"), here correcting the bid spend model's bias instead of
    /// replacing it: the hard cap is kept at serving time, so aiming above the budget
    /// cannot overspend.
    pub(crate) fn update_dual(&mut self, i: usize, budget: i64, spend: i64) {
        if budget <= 0 {
            return;
        }
        let n = self.account.plans().len();
        if self.budget_duals.len() != n {
            self.budget_duals.resize(n, 1.0);
        }
        let used = (spend as f64 / budget as f64).clamp(0.0, 1.0);
        if let Some(d) = self.budget_duals.get_mut(i) {
            let rate = self.config.budget_dual_rate;
            let max = self.config.budget_dual_max.clamp(1.0, DUAL_MAX);
            *d = (*d * (rate * (DUAL_TARGET - used)).exp()).clamp(DUAL_MIN, max);
        }
    }

    /// A fresh state for `account` (validated config and policy are the caller's job).
    pub(crate) fn new(
        account: Account,
        config: EngineConfig,
        policy: P,
        seed: u64,
        rng: SimRng,
        total_budget: Money,
    ) -> Self {
        let f = config.forgetting;
        let plans = account.plans();
        EngineState {
            evidence: EvidenceStore {
                plans: plans.iter().map(|_| Evidence::new(f)).collect(),
                keywords: plans
                    .iter()
                    .map(|p| p.keywords.iter().map(|_| Evidence::new(f)).collect())
                    .collect(),
                bids: plans
                    .iter()
                    .map(|p| p.keywords.iter().map(|_| Evidence::new(f)).collect())
                    .collect(),
            },
            draws: HeldDraws {
                ratios: plans
                    .iter()
                    .map(|p| vec![(1.0, 1.0); p.keywords.len()])
                    .collect(),
                epoch: None,
                plans: Vec::new(),
                plan_epoch: None,
            },
            budget_duals: vec![1.0; plans.len()],
            curves: plans
                .iter()
                .map(|p| vec![KeywordCurve::default(); p.keywords.len()])
                .collect(),
            traffic: plans.iter().map(PlanTraffic::cold).collect(),
            ledgers: Ledgers::default(),
            round: 0,
            last_decision: None,
            creatives: CreativeStore::new(&account, f),
            bid_scales: BTreeMap::new(),
            account,
            config,
            policy,
            seed,
            rng,
            total_budget,
        }
    }

    /// Makes room for the account's plan `i` (just appended): no evidence, a cold traffic
    /// guess, empty ledger entries.
    pub(crate) fn push_plan(&mut self) {
        let f = self.config.forgetting;
        let Some(p) = self.account.plans().last() else {
            return;
        };
        self.evidence.plans.push(Evidence::new(f));
        self.evidence
            .keywords
            .push(p.keywords.iter().map(|_| Evidence::new(f)).collect());
        if self.evidence.bids.len() + 1 == self.evidence.keywords.len() {
            self.evidence
                .bids
                .push(p.keywords.iter().map(|_| Evidence::new(f)).collect());
        }
        self.draws.ratios.push(vec![(1.0, 1.0); p.keywords.len()]);
        if self.curves.len() == self.traffic.len() {
            self.curves
                .push(vec![KeywordCurve::default(); p.keywords.len()]);
        }
        self.traffic.push(PlanTraffic::cold(p));
        if self.creatives.evidence.len() + 1 == self.traffic.len() {
            self.creatives
                .evidence
                .push(p.creatives.iter().map(|_| Evidence::new(f)).collect());
        }
        // A launched plan bids on its means until the next plan redraw, at dual 1.
        if self.draws.plans.len() + 1 == self.traffic.len() {
            self.draws.plans.push([1.0; 3]);
        }
        if self.budget_duals.len() + 1 == self.traffic.len() {
            self.budget_duals.push(1.0);
        }
        for day in self.ledgers.open_days.values_mut() {
            day.push(None);
        }
        if let Some(m) = &mut self.ledgers.month {
            m.spent.push(0);
        }
    }

    /// Makes room for a keyword just appended to plan `i`.
    pub(crate) fn push_keyword(&mut self, i: usize) {
        let f = self.config.forgetting;
        if let (Some(ev), Some(dr)) = (
            self.evidence.keywords.get_mut(i),
            self.draws.ratios.get_mut(i),
        ) {
            ev.push(Evidence::new(f));
            if let Some(b) = self.evidence.bids.get_mut(i) {
                b.push(Evidence::new(f));
            }
            if let Some(c) = self.curves.get_mut(i) {
                c.push(KeywordCurve::default());
            }
            // The new keyword bids on its posterior mean until the next redraw.
            dr.push((1.0, 1.0));
        }
    }

    /// Moves every evidence clock to `period` (decays or drops old evidence).
    pub(crate) fn advance_evidence(&mut self, period: i64) {
        let ev = &mut self.evidence;
        ev.plans.iter_mut().for_each(|e| e.advance_to(period));
        ev.keywords
            .iter_mut()
            .flatten()
            .for_each(|e| e.advance_to(period));
        ev.bids
            .iter_mut()
            .flatten()
            .for_each(|e| e.advance_to(period));
        self.creatives
            .evidence
            .iter_mut()
            .flatten()
            .for_each(|e| e.advance_to(period));
    }

    /// Brings a state restored from an older snapshot up to date: a snapshot written before
    /// creatives existed has no creative evidence (none learned yet).
    pub(crate) fn migrate(&mut self) {
        if self.creatives.evidence.is_empty() {
            self.creatives.evidence =
                CreativeStore::new(&self.account, self.config.forgetting).evidence;
        }
    }

    /// Checks that every per-plan and per-keyword part has the account's shape, and that
    /// the config is valid.
    ///
    /// # Errors
    /// Any config validation error; [`Error::Inconsistent`] naming the part whose shape
    /// does not match the account.
    pub(crate) fn validate(&self) -> Result<()> {
        self.config.validate()?;
        let plans = self.account.plans();
        let n = plans.len();
        let per_keyword = |name: &str, lens: Vec<usize>| -> Result<()> {
            let ok =
                lens.len() == n && plans.iter().zip(&lens).all(|(p, l)| p.keywords.len() == *l);
            if ok { Ok(()) } else { Err(mismatch(name)) }
        };
        if self.evidence.plans.len() != n {
            return Err(mismatch("evidence.plans"));
        }
        per_keyword(
            "evidence.keywords",
            self.evidence.keywords.iter().map(Vec::len).collect(),
        )?;
        if !self.evidence.bids.is_empty() {
            per_keyword(
                "evidence.bids",
                self.evidence.bids.iter().map(Vec::len).collect(),
            )?;
        }
        per_keyword(
            "draws.ratios",
            self.draws.ratios.iter().map(Vec::len).collect(),
        )?;
        if self.traffic.len() != n {
            return Err(mismatch("traffic"));
        }
        if !self.curves.is_empty() {
            per_keyword("curves", self.curves.iter().map(Vec::len).collect())?;
        }
        // Empty (an older snapshot) or one per plan.
        if !(self.draws.plans.is_empty() || self.draws.plans.len() == n) {
            return Err(mismatch("draws.plans"));
        }
        if !(self.budget_duals.is_empty() || self.budget_duals.len() == n) {
            return Err(mismatch("budget_duals"));
        }
        if !self
            .budget_duals
            .iter()
            .all(|d| d.is_finite() && (DUAL_MIN..=DUAL_MAX).contains(d))
        {
            return Err(Error::invalid(
                "snapshot.state.budget_duals",
                format!("{:?}", self.budget_duals),
                format!("must be in [{DUAL_MIN}, {DUAL_MAX}]"),
            ));
        }
        if !self.ledgers.open_days.values().all(|d| d.len() == n) {
            return Err(mismatch("ledgers.open_days"));
        }
        if self
            .ledgers
            .month
            .as_ref()
            .is_some_and(|m| m.spent.len() != n)
        {
            return Err(mismatch("ledgers.month"));
        }
        for &(_, plan, keyword, hour) in self.ledgers.seen.rows.keys() {
            let ok = plans
                .get(plan as usize)
                .is_some_and(|p| keyword == NO_KEYWORD || (keyword as usize) < p.keywords.len())
                && hour <= WHOLE_DAY;
            if !ok {
                return Err(mismatch("ledgers.seen"));
            }
        }
        let creatives_ok = self.creatives.evidence.len() == n
            && plans
                .iter()
                .zip(&self.creatives.evidence)
                .all(|(p, e)| p.creatives.len() == e.len())
            && self.creatives.seen.rows.keys().all(|&(_, i, j)| {
                plans
                    .get(i as usize)
                    .is_some_and(|p| (j as usize) < p.creatives.len())
            });
        if !creatives_ok {
            return Err(Error::Inconsistent {
                field: "snapshot.state.creatives".into(),
                reason: "does not match the account's plans and creatives".into(),
            });
        }
        if self.total_budget.is_negative() {
            return Err(Error::invalid(
                "snapshot.state.total_budget",
                self.total_budget,
                "must be >= 0",
            ));
        }
        Ok(())
    }
}

fn mismatch(part: &str) -> Error {
    Error::Inconsistent {
        field: format!("snapshot.state.{part}"),
        reason: "does not match the account's plans and keywords".into(),
    }
}

//! The engine's persistent state: one struct, which is also the snapshot's payload.
//!
//! Everything an engine learns or must remember lives in [`EngineState`]; the engine itself
//! adds only caches derived from it (rebuilt on restore). Adding a piece of state means
//! adding one field here (with `#[serde(default)]` so older snapshots still load).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::config::EngineConfig;
use crate::error::{Error, Result};
use crate::estimate::Evidence;
use crate::model::{Account, Date, Plan};
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
    /// Spend ledgers of open days and of the month.
    pub(crate) ledgers: Ledgers,
    /// Decisions made so far.
    pub(crate) round: u64,
    /// The date of the last decision.
    pub(crate) last_decision: Option<Date>,
}

/// The evidence per plan (plan-level rows) and per keyword, indexed like the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvidenceStore {
    /// Plan `i`'s rows without a keyword.
    pub(crate) plans: Vec<Evidence>,
    /// Keyword `j` of plan `i`.
    pub(crate) keywords: Vec<Vec<Evidence>>,
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
}

/// Spend ledgers: per open day and plan, and per plan for the current month.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Ledgers {
    /// Days not yet closed by a decision (day number -> one entry per plan).
    pub(crate) open_days: BTreeMap<i32, Vec<Option<DayLedger>>>,
    /// The current calendar month's spend per plan.
    pub(crate) month: Option<MonthLedger>,
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

impl<P> EngineState<P> {
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
            },
            draws: HeldDraws {
                ratios: plans
                    .iter()
                    .map(|p| vec![(1.0, 1.0); p.keywords.len()])
                    .collect(),
                epoch: None,
            },
            traffic: plans.iter().map(PlanTraffic::cold).collect(),
            ledgers: Ledgers::default(),
            round: 0,
            last_decision: None,
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
        self.draws.ratios.push(vec![(1.0, 1.0); p.keywords.len()]);
        self.traffic.push(PlanTraffic::cold(p));
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
            // The new keyword bids on its posterior mean until the next redraw.
            dr.push((1.0, 1.0));
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
        per_keyword(
            "draws.ratios",
            self.draws.ratios.iter().map(Vec::len).collect(),
        )?;
        if self.traffic.len() != n {
            return Err(mismatch("traffic"));
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

//! The oracle: the best fixed allocation in hindsight, computed from the truth.
//!
//! For each keyword and each bid on a grid (24 levels, geometric from the plan's lowest
//! admissible bid to its `max_bid`), the expected value (revenue or clicks) and cost over the
//! chosen days come from the same model the market samples from ([`Truth::curve`]). The
//! budget constraint is handled by its Lagrangian: each keyword takes the bid maximising
//! `value - lambda x cost` (or stays off), and `lambda` is bisected so the expected spend fits
//! the account's total daily budget times the number of days. Plan budgets are the total split
//! in proportion to each plan's expected spend. This is the allocation a strategy with
//! perfect knowledge of the rates would fix in advance; regret = oracle value - achieved value.
//! It ignores that a fixed daily budget can bind on a peak day, so it is an optimistic
//! benchmark (an upper bound in expectation for fixed bids up to the grid's resolution).

use std::ops::Range;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Plan, Status};
use crate::money::Money;
use crate::sim::market::Controls;
use crate::sim::scenario::Scenario;
use crate::sim::truth::{AuctionCurve, Expected, Truth};

/// Bid levels per keyword in the oracle's grid.
pub const GRID: usize = 24;

/// What the oracle maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OracleObjective {
    /// Revenue (the default).
    #[default]
    Revenue,
    /// Clicks.
    Clicks,
}

/// The best fixed bids and budgets for a range of days, with their expected outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OraclePlan {
    /// First day index (inclusive).
    pub first_day: u32,
    /// Last day index (exclusive).
    pub end_day: u32,
    /// Bid per keyword (flattened account order).
    pub keyword_bid: Vec<Money>,
    /// Whether each keyword bids.
    pub keyword_active: Vec<bool>,
    /// Daily budget per plan; they sum to the account's total daily budget.
    pub plan_budget: Vec<Money>,
    /// Expected totals over the days at these bids (budget caps not applied).
    pub expected: Expected,
    /// The budget's shadow price (value per unit of money at the margin).
    pub lambda: f64,
    /// What was maximised.
    pub objective: OracleObjective,
}

impl OraclePlan {
    /// The expected value of the plan under its objective.
    pub fn value(&self) -> f64 {
        match self.objective {
            OracleObjective::Revenue => self.expected.revenue,
            OracleObjective::Clicks => self.expected.clicks,
        }
    }

    /// The plan as market controls (multiplier and throttle 1).
    pub fn controls(&self) -> Controls {
        Controls {
            plan_budget: self.plan_budget.clone(),
            keyword_bid: self.keyword_bid.clone(),
            keyword_active: self.keyword_active.clone(),
            plan_hour_multiplier: vec![1.0; self.plan_budget.len()],
            plan_throttle: vec![1.0; self.plan_budget.len()],
            plan_negatives: Vec::new(),
        }
    }
}

fn grid(plan: &Plan, reserve: Money) -> Vec<Money> {
    let lo = plan.min_bid.max(reserve).max(Money::from_micros(10_000));
    let hi = plan.max_bid;
    if lo >= hi {
        return vec![hi];
    }
    let (l, h) = (lo.micros() as f64, hi.micros() as f64);
    let mut v: Vec<Money> = (0..GRID)
        .map(|i| {
            let x = l * (h / l).powf(i as f64 / (GRID - 1) as f64);
            Money::from_micros((x.round() as i64).clamp(lo.micros(), hi.micros()))
        })
        .collect();
    v.dedup();
    v
}

/// Expected totals of keyword `k` at keyword bid `bid` over `days`, schedule applied.
fn keyword_totals(truth: &Truth, k: usize, bid: Money, days: &Range<u32>, plan: &Plan) -> Expected {
    let mut total = Expected::default();
    let mut cache: Vec<(i64, u64, AuctionCurve)> = Vec::new();
    for d in days.clone() {
        let f = truth.day_factors(d).competitor_bid.to_bits();
        // Group the day's hours by schedule multiplier: one curve per group.
        let mut groups: Vec<(f64, f64)> = Vec::new(); // (multiplier, queries)
        for h in 0..24u8 {
            let m = plan.schedule.multiplier(h as usize);
            if !(m > 0.0) {
                continue;
            }
            let q = truth.queries(k, d, h);
            match groups.iter_mut().find(|g| g.0.to_bits() == m.to_bits()) {
                Some(g) => g.1 += q,
                None => groups.push((m, q)),
            }
        }
        for (m, lam) in groups {
            if !(lam > 0.0) {
                continue;
            }
            let eff = (bid.micros() as f64 * m).round() as i64;
            let c = match cache.iter().find(|c| c.0 == eff && c.1 == f) {
                Some(c) => c.2,
                None => {
                    let c = truth.curve(k, eff, d);
                    cache.push((eff, f, c));
                    c
                }
            };
            total.add(&truth.expected_from_curve(k, &c, lam, d));
        }
    }
    total
}

/// The best fixed allocation over `days` (see the module docs).
///
/// # Errors
/// [`Error::InvalidValue`] for an empty or out-of-range day range; [`Error::Overflow`].
pub fn oracle(
    scenario: &Scenario,
    days: Range<u32>,
    objective: OracleObjective,
) -> Result<OraclePlan> {
    if days.start >= days.end || days.end > scenario.days() {
        return Err(Error::invalid(
            "days",
            format!("{}..{}", days.start, days.end),
            format!("must be a non-empty range within 0..{}", scenario.days()),
        ));
    }
    let account = scenario.account();
    let truth = scenario.truth();
    let reserve = truth.market().reserve;
    let mut kw: Vec<(usize, usize)> = Vec::new(); // (plan, flat keyword)
    for p in 0..account.plans().len() {
        for k in truth.plan_keywords(p) {
            kw.push((p, k));
        }
    }
    // Options per keyword: (bid, expected) on the grid; empty when it cannot deliver.
    let options: Vec<Vec<(Money, Expected)>> = kw
        .par_iter()
        .map(|&(p, k)| {
            let plan = &account.plans()[p];
            let j = k - truth.plan_keywords(p).start;
            if plan.status != Status::Active || plan.keywords[j].status != Status::Active {
                return Vec::new();
            }
            grid(plan, reserve)
                .into_iter()
                .map(|b| (b, keyword_totals(truth, k, b, &days, plan)))
                .collect()
        })
        .collect();
    let value = |e: &Expected| match objective {
        OracleObjective::Revenue => e.revenue,
        OracleObjective::Clicks => e.clicks,
    };
    let choose = |lambda: f64| -> (Vec<Option<usize>>, f64) {
        let mut spend = 0.0;
        let pick = options
            .iter()
            .map(|opts| {
                let mut best: Option<usize> = None;
                let mut best_score = 0.0;
                for (i, (_, e)) in opts.iter().enumerate() {
                    let s = value(e) - lambda * e.cost;
                    if s > best_score + 1e-12 {
                        best_score = s;
                        best = Some(i);
                    }
                }
                if let Some(i) = best {
                    spend += opts[i].1.cost;
                }
                best
            })
            .collect();
        (pick, spend)
    };
    let n_days = f64::from(days.end - days.start);
    let total_budget = account.total_daily_budget()?;
    let cap = total_budget.units() * n_days;
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    let mut lambda = 0.0;
    if choose(0.0).1 > cap {
        let mut tries = 0;
        while choose(hi).1 > cap && tries < 80 {
            lo = hi;
            hi *= 2.0;
            tries += 1;
        }
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if choose(mid).1 > cap {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lambda = hi;
    }
    let (pick, _) = choose(lambda);
    let np = account.plans().len();
    let mut keyword_bid = Vec::with_capacity(kw.len());
    let mut keyword_active = Vec::with_capacity(kw.len());
    let mut expected = Expected::default();
    let mut plan_spend = vec![0.0; np];
    for (i, &(p, k)) in kw.iter().enumerate() {
        let j = k - truth.plan_keywords(p).start;
        match pick[i] {
            Some(o) => {
                let (b, e) = options[i][o];
                keyword_bid.push(b);
                keyword_active.push(true);
                expected.add(&e);
                plan_spend[p] += e.cost;
            }
            None => {
                keyword_bid.push(account.plans()[p].keywords[j].bid);
                keyword_active.push(false);
            }
        }
    }
    // Split the total daily budget in proportion to expected spend (micros, exact sum).
    let spend_sum: f64 = plan_spend.iter().sum();
    let total = total_budget.micros();
    let mut plan_budget: Vec<i64> = plan_spend
        .iter()
        .map(|&s| {
            if spend_sum > 0.0 {
                (total as f64 * s / spend_sum).floor() as i64
            } else {
                total / np.max(1) as i64
            }
        })
        .collect();
    let rest = total - plan_budget.iter().sum::<i64>();
    if let Some(imax) = (0..np).max_by(|&a, &b| plan_spend[a].total_cmp(&plan_spend[b])) {
        plan_budget[imax] += rest;
    }
    Ok(OraclePlan {
        first_day: days.start,
        end_day: days.end,
        keyword_bid,
        keyword_active,
        plan_budget: plan_budget.into_iter().map(Money::from_micros).collect(),
        expected,
        lambda,
        objective,
    })
}

/// The per-day oracle: the best allocation for each day on its own (it may change bids and
/// budgets every day, so its value is at least the fixed oracle's, up to grid resolution).
///
/// # Errors
/// As [`oracle`].
pub fn oracle_per_day(scenario: &Scenario, objective: OracleObjective) -> Result<Vec<OraclePlan>> {
    (0..scenario.days())
        .map(|d| oracle(scenario, d..d + 1, objective))
        .collect()
}

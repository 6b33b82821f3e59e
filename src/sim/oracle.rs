//! Oracles: the best that could be done knowing the truth, from the simulator's own model.
//!
//! # The budget-aware oracle ([`budget_oracle`])
//! Each day on its own, knowing that day's truth (weekday, events, drift: everything reaches it
//! through [`Truth::queries`], [`Truth::curve`] and the expected response built on them). The
//! unit of choice is a keyword in one *hour group* of its plan (the hours that share a schedule
//! multiplier: within a group every hour has the same curve, scaled by its queries, so the same
//! bid is best in all of them). For each unit and each bid on the plan's grid ([`bid_grid`]:
//! [`GRID`] levels, geometric from the lowest admissible bid to `max_bid`) the expected value
//! and cost come from the exact per-auction response ([`Truth::curve`]).
//!
//! - **The ceiling.** With the day's account budget `B` (the sum of the active plans' daily
//!   budgets, which strategies may split across plans as they like), the Lagrangian dual
//!   `min over lambda of lambda B + sum over units of max(0, max over bids of V - lambda C)`
//!   bounds the expected objective of *any* strategy whose expected daily spend is at most `B`
//!   (realised spend never passes the cap, so every strategy's expectation does not), whatever
//!   it does hour by hour: a throttle or a mix of bids only reaches points inside the convex
//!   hull of each unit's options, which the dual covers. `lambda` is found by bisection on
//!   expected spend; [`OracleDay::ceiling`] is the bound, and [`BudgetOracle::value`] (their
//!   sum) is the reference of `compare`'s `regret` column. Limits: bids on the grid, bid
//!   multipliers of at most 1 on top of the schedule.
//! - **The play** ([`OraclePlayer`]). Bidding at the ceiling's `lambda` all day with budgets
//!   equal to expected spend leaves money unspent: a plan's day spend is random (Poisson
//!   queries, clicks and prices) and the budget stop cuts the days above the budget while the
//!   days below stay below, so realised spend is `E[min(S, B)] < B` (about a fifth short for
//!   the fixed oracle on a starved market, where quiet weekdays also underspend a budget
//!   sized for the average day). The player therefore splits the day's budget over plans in
//!   proportion to expected spend at `lambda`, and before every hour re-solves each plan's
//!   own multiplier on the rest of the day: the expected spend of the remaining hours (the
//!   units' options scaled by their remaining queries) meets the rest of the plan's budget
//!   plus half a standard deviation of that spend (compound Poisson: `clicks x CPC^2`), so a
//!   slow morning is made up in the evening and the budget stop, not a slow day, ends the
//!   spend. Bids change by hour group.
//!
//! # The fixed oracle ([`oracle()`])
//! The best fixed allocation in hindsight, computed from the truth.
//!
//! For each keyword and each bid on a grid (24 levels, geometric from the plan's lowest
//! admissible bid to its `max_bid`), the expected value (revenue or clicks) and cost over the
//! chosen days come from the same model the market samples from ([`Truth::curve`]). The
//! budget constraint is handled by its Lagrangian: each keyword takes the bid maximising
//! `value - lambda x cost` (or stays off), and `lambda` is bisected so the expected spend fits
//! the account's total daily budget times the number of days. Plan budgets are the total split
//! in proportion to each plan's expected spend. This is the allocation a strategy with
//! perfect knowledge of the rates would fix in advance; regret = oracle value - achieved value.
//! It ignores that a fixed daily budget can bind on a peak day (and that realised spend is
//! random), so it is neither a ceiling nor a good player: in a market whose demand exceeds
//! the budget it spends well below the budget on quiet days (see the budget-aware oracle).

use std::ops::Range;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{MatchType, NegativeKeyword, Plan, Status};
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
    /// Per plan, the rotation it serves: the truly best creative alone (empty for a plan
    /// without creatives).
    pub creative_weights: Vec<Vec<f64>>,
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
            plan_creative_weights: self.creative_weights.clone(),
        }
    }
}

/// Per plan, the rotation serving its truly best creative alone under `objective` (all empty
/// when no plan has creatives, so the market's controls stay as before).
fn best_creative_weights(truth: &Truth, plans: usize, objective: OracleObjective) -> Vec<Vec<f64>> {
    let clicks_only = objective == OracleObjective::Clicks;
    let w: Vec<Vec<f64>> = (0..plans)
        .map(|p| truth.best_creative_weights(p, clicks_only))
        .collect();
    if w.iter().all(Vec::is_empty) {
        Vec::new()
    } else {
        w
    }
}

/// The oracles' bid grid for `plan`: [`GRID`] levels, geometric from the lowest admissible
/// bid (the plan's `min_bid`, the market's reserve and 0.01, whichever is highest) to its
/// `max_bid`; one level when the range is empty.
pub fn bid_grid(plan: &Plan, reserve: Money) -> Vec<Money> {
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
fn keyword_totals(
    truth: &Truth,
    k: usize,
    bid: Money,
    days: &Range<u32>,
    plan: &Plan,
    creative: (f64, f64),
) -> Expected {
    let mut total = Expected::default();
    let mut cache: Vec<(i64, u64, AuctionCurve)> = Vec::new();
    for d in days.clone() {
        let f = truth.keyword_factors(k, d).competitor_bid.to_bits();
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
            total.add(
                &truth
                    .expected_from_curve(k, &c, lam, d)
                    .with_creative(creative),
            );
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
            let creative = truth.best_creative_factors(p, objective == OracleObjective::Clicks);
            bid_grid(plan, reserve)
                .into_iter()
                .map(|b| (b, keyword_totals(truth, k, b, &days, plan, creative)))
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
        creative_weights: best_creative_weights(truth, np, objective),
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

/// Marks an hour outside every group (the schedule is dark then).
const DARK: u8 = u8::MAX;

/// One option of a unit: a keyword bid and its expected outcome in the unit's hours.
#[derive(Debug, Clone, Copy, PartialEq)]
struct UnitOption {
    bid: Money,
    /// With a query stream: how many of the keyword's open queries, best converting first
    /// ([`Truth::open_queries_by_value`]), are kept; the rest are blocked by negatives. `None`:
    /// every open query (no negative needed).
    keep: Option<u16>,
    value: f64,
    cost: f64,
    expected: Expected,
}

/// Which units exist and how they map to keywords and hours (fixed over the horizon).
#[derive(Debug, Clone, PartialEq)]
struct Layout {
    /// Per plan: the hour group of each hour ([`DARK`] = no group).
    hour_group: Vec<[u8; 24]>,
    /// Per plan: each group's schedule multiplier.
    group_mult: Vec<Vec<f64>>,
    /// Per keyword (flat): its first unit; its plan's groups follow in order.
    unit_start: Vec<usize>,
    /// Per keyword (flat): its plan.
    keyword_plan: Vec<usize>,
    /// Per unit: its keyword and group.
    unit_keyword: Vec<(usize, u8)>,
    /// Per plan: its units (contiguous).
    plan_units: Vec<Range<usize>>,
    /// Per plan: its bid grid.
    grids: Vec<Vec<Money>>,
    /// The account's keyword bids (kept on keywords that are off).
    default_bid: Vec<Money>,
    /// The account's daily budget.
    budget: Money,
    /// Per keyword (flat): its open queries, best converting first (empty without a query
    /// stream).
    open_queries: Vec<Vec<usize>>,
}

impl Layout {
    fn new(scenario: &Scenario) -> Result<Self> {
        let account = scenario.account();
        let truth = scenario.truth();
        let np = account.plans().len();
        let mut hour_group = vec![[DARK; 24]; np];
        let mut group_mult: Vec<Vec<f64>> = vec![Vec::new(); np];
        for (p, plan) in account.plans().iter().enumerate() {
            for (h, slot) in hour_group[p].iter_mut().enumerate() {
                let m = plan.schedule.multiplier(h);
                if !(m > 0.0) {
                    continue;
                }
                let g = match group_mult[p]
                    .iter()
                    .position(|x| x.to_bits() == m.to_bits())
                {
                    Some(g) => g,
                    None => {
                        group_mult[p].push(m);
                        group_mult[p].len() - 1
                    }
                };
                *slot = g as u8;
            }
        }
        let mut unit_start = Vec::with_capacity(truth.keyword_count());
        let mut keyword_plan = Vec::with_capacity(truth.keyword_count());
        let mut unit_keyword = Vec::new();
        let mut plan_units = Vec::with_capacity(np);
        for (p, groups) in group_mult.iter().enumerate() {
            let first = unit_keyword.len();
            for k in truth.plan_keywords(p) {
                unit_start.push(unit_keyword.len());
                keyword_plan.push(p);
                unit_keyword.extend((0..groups.len()).map(|g| (k, g as u8)));
            }
            plan_units.push(first..unit_keyword.len());
        }
        Ok(Layout {
            hour_group,
            group_mult,
            unit_start,
            keyword_plan,
            unit_keyword,
            plan_units,
            grids: account
                .plans()
                .iter()
                .map(|p| bid_grid(p, truth.market().reserve))
                .collect(),
            default_bid: account
                .plans()
                .iter()
                .flat_map(|p| p.keywords.iter().map(|k| k.bid))
                .collect(),
            budget: account.total_daily_budget()?,
            open_queries: (0..truth.keyword_count())
                .map(|k| truth.open_queries_by_value(k))
                .collect(),
        })
    }

    fn unit_of(&self, k: usize, hour: u8) -> Option<usize> {
        let p = *self.keyword_plan.get(k)?;
        let g = *self.hour_group.get(p)?.get(usize::from(hour))?;
        (g != DARK).then(|| self.unit_start[k] + usize::from(g))
    }

    /// Expected queries of unit `u` in each hour of day `d` (zero outside its group).
    fn unit_queries(&self, truth: &Truth, u: usize, d: u32) -> [f64; 24] {
        let (k, g) = self.unit_keyword[u];
        let p = self.keyword_plan[k];
        let mut q = [0.0; 24];
        for (h, x) in q.iter_mut().enumerate() {
            if self.hour_group[p][h] == g {
                *x = truth.queries(k, d, h as u8);
            }
        }
        q
    }

    /// Every unit's options on day `d`: the upper concave hull of (cost, value) over the bid
    /// grid, by increasing cost (the only options a Lagrangian ever picks); empty when the
    /// unit cannot deliver (paused, no queries).
    fn options(&self, scenario: &Scenario, objective: OracleObjective, d: u32) -> Vec<Hull> {
        let account = scenario.account();
        let truth = scenario.truth();
        (0..self.unit_keyword.len())
            .into_par_iter()
            .map(|u| {
                let (k, g) = self.unit_keyword[u];
                let p = self.keyword_plan[k];
                let plan = &account.plans()[p];
                let j = k - truth.plan_keywords(p).start;
                if plan.status != Status::Active || plan.keywords[j].status != Status::Active {
                    return Hull::default();
                }
                let queries: f64 = self.unit_queries(truth, u, d).iter().sum();
                if !(queries > 0.0) {
                    return Hull::default();
                }
                let m = self.group_mult[p][usize::from(g)];
                let open = &self.open_queries[k];
                // The whole stream's volume, before negatives (`queries` is the open part).
                let base = queries / truth.open_share(k);
                let mut opts: Vec<UnitOption> = Vec::new();
                let mut last_eff = -1;
                let creative = truth.best_creative_factors(p, objective == OracleObjective::Clicks);
                let value_of = |e: &Expected| match objective {
                    OracleObjective::Revenue => e.revenue,
                    OracleObjective::Clicks => e.clicks,
                };
                for &bid in &self.grids[p] {
                    let eff = (bid.micros() as f64 * m).round() as i64;
                    if eff == last_eff {
                        continue;
                    }
                    last_eff = eff;
                    let c = truth.curve(k, eff, d);
                    if open.is_empty() {
                        let e = truth
                            .expected_from_curve(k, &c, queries, d)
                            .with_creative(creative);
                        opts.push(UnitOption {
                            bid,
                            keep: None,
                            value: value_of(&e),
                            cost: e.cost,
                            expected: e,
                        });
                        continue;
                    }
                    // With a query stream, every prefix of the open queries by value is an
                    // option: negatives on the rest (a strategy may add them too).
                    for j in 1..=open.len() {
                        let e = truth
                            .expected_queries(k, &c, base, d, &open[..j])
                            .with_creative(creative);
                        opts.push(UnitOption {
                            bid,
                            keep: (j < open.len()).then(|| j.min(usize::from(u16::MAX)) as u16),
                            value: value_of(&e),
                            cost: e.cost,
                            expected: e,
                        });
                    }
                }
                Hull::of(opts)
            })
            .collect()
    }
}

/// A unit's options on the upper concave hull of (cost, value) from (0, 0): costs and values
/// increase, slopes (value per unit of cost) decrease.
#[derive(Debug, Clone, Default, PartialEq)]
struct Hull {
    opts: Vec<UnitOption>,
    /// Slope of the segment ending at each option.
    slope: Vec<f64>,
}

impl Hull {
    fn of(mut opts: Vec<UnitOption>) -> Self {
        opts.retain(|o| o.value > 0.0 && o.cost >= 0.0 && o.value.is_finite());
        opts.sort_by(|a, b| a.cost.total_cmp(&b.cost).then(b.value.total_cmp(&a.value)));
        let mut hull: Vec<UnitOption> = Vec::with_capacity(opts.len());
        let slope_of = |a: Option<&UnitOption>, b: &UnitOption| {
            let (c0, v0) = a.map_or((0.0, 0.0), |a| (a.cost, a.value));
            if b.cost > c0 {
                (b.value - v0) / (b.cost - c0)
            } else if b.value > v0 {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            }
        };
        for o in opts {
            if hull.last().is_some_and(|l| o.value <= l.value) {
                continue; // costs more, earns no more
            }
            while let Some(last) = hull.last() {
                let before = hull.len().checked_sub(2).map(|i| &hull[i]);
                if slope_of(before, last) <= slope_of(Some(last), &o) {
                    hull.pop();
                } else {
                    break;
                }
            }
            hull.push(o);
        }
        let slope = (0..hull.len())
            .map(|i| slope_of(i.checked_sub(1).map(|j| &hull[j]), &hull[i]))
            .collect();
        Hull { opts: hull, slope }
    }

    /// The option maximising value - lambda x cost, if any beats staying off.
    #[inline]
    fn pick(&self, lambda: f64) -> Option<&UnitOption> {
        let n = self.slope.iter().take_while(|&&s| s > lambda).count();
        n.checked_sub(1).map(|i| &self.opts[i])
    }
}

/// Sum over `units` (scaled by `scale`) of the positive score, the cost and the variance of
/// the cost (compound Poisson: clicks x CPC^2) at `lambda`.
fn lagrangian(hulls: &[Hull], units: Range<usize>, scale: &[f64], lambda: f64) -> (f64, f64, f64) {
    let (mut score, mut cost, mut var) = (0.0, 0.0, 0.0);
    for u in units {
        if let Some(o) = hulls[u].pick(lambda) {
            let r = scale.get(u).copied().unwrap_or(1.0);
            score += r * (o.value - lambda * o.cost);
            cost += r * o.cost;
            if o.expected.clicks > 0.0 {
                var += r * o.cost * o.cost / o.expected.clicks;
            }
        }
    }
    (score, cost, var)
}

/// The smallest multiplier at which the expected cost of `units`, less `z` standard
/// deviations, is at most `budget` (bisection; 0 when the budget does not bind, infinite
/// when nothing fits). `z > 0` asks for more demand than the budget by the noise of the
/// spend, so the budget stop rather than a slow day decides where spend ends.
fn solve_lambda(hulls: &[Hull], units: Range<usize>, scale: &[f64], budget: f64, z: f64) -> f64 {
    let over = |l: f64| {
        let (_, c, v) = lagrangian(hulls, units.clone(), scale, l);
        c - z * v.sqrt() > budget
    };
    if !over(0.0) {
        return 0.0;
    }
    if !(budget > 0.0) {
        return f64::INFINITY;
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    let mut tries = 0;
    while over(hi) {
        lo = hi;
        hi *= 2.0;
        tries += 1;
        if tries > 200 {
            return f64::INFINITY;
        }
    }
    for _ in 0..50 {
        let mid = 0.5 * (lo + hi);
        if over(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-9 * hi {
            break;
        }
    }
    hi
}

/// How many standard deviations of the rest of the day's spend the player bids for beyond
/// the rest of the budget.
const PLAY_Z: f64 = 0.5;

/// The budget-aware oracle's solution for one day (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OracleDay {
    /// Day index.
    pub day: u32,
    /// The account's budget that day (the sum of the active plans' daily budgets).
    pub budget: Money,
    /// Expected spend of the unconstrained best bids (the day's demand at lambda 0).
    pub demand: f64,
    /// The budget's shadow price at the ceiling (objective per unit of money at the margin;
    /// 0 when the budget does not bind).
    pub lambda: f64,
    /// Upper bound on any strategy's expected objective that day (the Lagrangian dual).
    pub ceiling: f64,
    /// Expected totals of the bids at `lambda` (the morning's plan, before re-solving).
    pub expected: Expected,
    /// Daily budget per plan (in proportion to expected spend at `lambda`); they sum to
    /// `budget`.
    pub plan_budget: Vec<Money>,
}

/// The budget-aware oracle over a range of days (module docs): the ceiling of every day,
/// and what [`OraclePlayer`] needs to play it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetOracle {
    /// What was maximised.
    pub objective: OracleObjective,
    /// One entry per day of the range, in order.
    pub days: Vec<OracleDay>,
    #[serde(skip)]
    layout: Layout,
}

impl BudgetOracle {
    /// The ceiling over the range: the sum of the days' [`OracleDay::ceiling`].
    pub fn value(&self) -> f64 {
        self.days.iter().map(|d| d.ceiling).sum()
    }

    /// The day entry for day index `day`, if it is in the range.
    pub fn day(&self, day: u32) -> Option<&OracleDay> {
        let first = self.days.first()?.day;
        self.days.get(day.checked_sub(first)? as usize)
    }

    fn require(&self, day: u32) -> Result<&OracleDay> {
        self.day(day).ok_or_else(|| {
            Error::invalid(
                "day",
                day,
                format!(
                    "not in the oracle's range {}..{}",
                    self.days.first().map_or(0, |d| d.day),
                    self.days.last().map_or(0, |d| d.day + 1)
                ),
            )
        })
    }
}

/// The budget-aware oracle for each day of `days` (see the module docs).
///
/// # Errors
/// [`Error::InvalidValue`] for an empty or out-of-range day range; [`Error::Overflow`].
pub fn budget_oracle(
    scenario: &Scenario,
    days: Range<u32>,
    objective: OracleObjective,
) -> Result<BudgetOracle> {
    if days.start >= days.end || days.end > scenario.days() {
        return Err(Error::invalid(
            "days",
            format!("{}..{}", days.start, days.end),
            format!("must be a non-empty range within 0..{}", scenario.days()),
        ));
    }
    let layout = Layout::new(scenario)?;
    let b = layout.budget.units();
    let all = 0..layout.unit_keyword.len();
    let days = days
        .map(|d| {
            let hulls = layout.options(scenario, objective, d);
            let (v0, demand, _) = lagrangian(&hulls, all.clone(), &[], 0.0);
            let lambda = solve_lambda(&hulls, all.clone(), &[], b, 0.0);
            let ceiling = if lambda == 0.0 {
                v0
            } else if lambda.is_finite() {
                // Any lambda gives a valid bound; the bisection's ends bracket the best.
                let dual = |l: f64| l * b + lagrangian(&hulls, all.clone(), &[], l).0;
                dual(lambda).min(dual(lambda * (1.0 - 1e-9)))
            } else {
                0.0
            };
            let mut expected = Expected::default();
            let mut spend = vec![0.0; layout.plan_units.len()];
            for (p, units) in layout.plan_units.iter().enumerate() {
                for u in units.clone() {
                    if let Some(o) = hulls[u].pick(lambda) {
                        expected.add(&o.expected);
                        spend[p] += o.cost;
                    }
                }
            }
            OracleDay {
                day: d,
                budget: layout.budget,
                demand,
                lambda: if lambda.is_finite() { lambda } else { f64::MAX },
                ceiling,
                expected,
                plan_budget: split_budget(layout.budget, &spend),
            }
        })
        .collect();
    Ok(BudgetOracle {
        objective,
        days,
        layout,
    })
}

/// Plays a [`BudgetOracle`] in a market: each morning the day's plan budgets; before each
/// hour, per plan, the multiplier at which the expected spend of the rest of the day meets
/// the rest of the plan's budget (re-solved on the spend so far, so the noise of the morning
/// does not leave money unspent at night), and the bids of the hour's group at it.
#[derive(Debug, Clone)]
pub struct OraclePlayer {
    oracle: std::sync::Arc<BudgetOracle>,
    scenario: Scenario,
    day: u32,
    hulls: Vec<Hull>,
    /// Per unit, its expected queries by hour on the day.
    queries: Vec<[f64; 24]>,
    scale: Vec<f64>,
    plan_lambda: Vec<f64>,
}

impl OraclePlayer {
    /// A player of `oracle` (computed for `scenario`).
    pub fn new(oracle: std::sync::Arc<BudgetOracle>, scenario: &Scenario) -> Self {
        let np = oracle.layout.plan_units.len();
        OraclePlayer {
            oracle,
            scenario: scenario.clone(),
            day: 0,
            hulls: Vec::new(),
            queries: Vec::new(),
            scale: Vec::new(),
            plan_lambda: vec![0.0; np],
        }
    }

    /// The oracle played.
    pub fn oracle(&self) -> &BudgetOracle {
        &self.oracle
    }

    /// The controls for the start of `day`: the day's plan budgets (bids are set by
    /// [`OraclePlayer::before_hour`]).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a day outside the oracle's range.
    pub fn start_day(&mut self, day: u32) -> Result<Controls> {
        let d = self.oracle.require(day)?;
        let l = &self.oracle.layout;
        self.day = day;
        self.hulls = l.options(&self.scenario, self.oracle.objective, day);
        let truth = self.scenario.truth();
        self.queries = (0..l.unit_keyword.len())
            .map(|u| l.unit_queries(truth, u, day))
            .collect();
        self.scale = vec![1.0; l.unit_keyword.len()];
        let np = d.plan_budget.len();
        Ok(Controls {
            plan_budget: d.plan_budget.clone(),
            keyword_bid: l.default_bid.clone(),
            keyword_active: vec![false; l.default_bid.len()],
            plan_hour_multiplier: vec![1.0; np],
            plan_throttle: vec![1.0; np],
            plan_negatives: Vec::new(),
            plan_creative_weights: best_creative_weights(truth, np, self.oracle.objective),
        })
    }

    /// Sets the bids of `hour` from each plan's spend so far today.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for controls of another account.
    pub fn before_hour(
        &mut self,
        hour: u8,
        spent: &[Money],
        controls: &mut Controls,
    ) -> Result<()> {
        let l = &self.oracle.layout;
        let nk = l.default_bid.len();
        if controls.keyword_bid.len() != nk || controls.keyword_active.len() != nk {
            return Err(Error::invalid(
                "controls.keyword_bid",
                format!("{} entries", controls.keyword_bid.len()),
                format!("must have {nk}"),
            ));
        }
        for (u, q) in self.queries.iter().enumerate() {
            let total: f64 = q.iter().sum();
            let rest: f64 = q[usize::from(hour.min(23))..].iter().sum();
            self.scale[u] = if total > 0.0 { rest / total } else { 0.0 };
        }
        for (p, units) in l.plan_units.iter().enumerate() {
            let budget = controls.plan_budget.get(p).copied().unwrap_or(Money::ZERO);
            let left = budget
                .saturating_sub(spent.get(p).copied().unwrap_or(Money::ZERO))
                .units();
            self.plan_lambda[p] =
                solve_lambda(&self.hulls, units.clone(), &self.scale, left, PLAY_Z);
        }
        // Per plan: query texts to block, and texts some keyword of the plan keeps (an exact
        // negative blocks the text under every keyword of the plan, so a text kept anywhere
        // is not blocked).
        let np = l.plan_units.len();
        let mut block: Vec<std::collections::BTreeSet<&str>> = vec![Default::default(); np];
        let mut keep: Vec<std::collections::BTreeSet<&str>> = vec![Default::default(); np];
        let truth = self.scenario.truth();
        for k in 0..nk {
            let p = l.keyword_plan[k];
            let pick = l
                .unit_of(k, hour)
                .and_then(|u| self.hulls[u].pick(self.plan_lambda[p]));
            match pick {
                Some(o) => {
                    controls.keyword_bid[k] = o.bid;
                    controls.keyword_active[k] = true;
                    let open = &l.open_queries[k];
                    let cut = o.keep.map_or(open.len(), usize::from);
                    let texts = truth.keyword_queries(k);
                    for (i, &q) in open.iter().enumerate() {
                        let t = texts[q].text.as_str();
                        if i < cut {
                            keep[p].insert(t);
                        } else {
                            block[p].insert(t);
                        }
                    }
                }
                None => {
                    controls.keyword_bid[k] = l.default_bid[k];
                    controls.keyword_active[k] = false;
                }
            }
        }
        controls.plan_negatives = if block.iter().all(|b| b.is_empty()) {
            Vec::new()
        } else {
            block
                .iter()
                .zip(&keep)
                .map(|(b, kept)| {
                    b.difference(kept)
                        .map(|t| NegativeKeyword {
                            text: (*t).to_owned(),
                            match_type: MatchType::Exact,
                        })
                        .collect()
                })
                .collect()
        };
        Ok(())
    }
}

/// `total` split in proportion to `weights` (micros, exact sum: the rest goes to the
/// heaviest); nothing to weightless plans, an even split when every weight is zero.
fn split_budget(total: Money, weights: &[f64]) -> Vec<Money> {
    let n = weights.len();
    let sum: f64 = weights.iter().sum();
    let t = total.micros();
    if n == 0 {
        return Vec::new();
    }
    let mut out: Vec<i64> = weights
        .iter()
        .map(|&w| {
            if sum > 0.0 {
                (t as f64 * w / sum).floor() as i64
            } else {
                t / n as i64
            }
        })
        .collect();
    let rest = t - out.iter().sum::<i64>();
    if let Some(i) = (0..n).max_by(|&a, &b| weights[a].total_cmp(&weights[b])) {
        out[i] += rest;
    }
    out.into_iter().map(Money::from_micros).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2 plans x `per_plan` keywords, 2 days (day 1: traffic x2, rivals x1.5), budget
    /// `budget` (units) per plan, optional schedule for plan 0.
    fn tiny(per_plan: usize, budget: f64, schedule: Option<[f64; 24]>) -> Scenario {
        let mut plans = Vec::new();
        let mut truths = Vec::new();
        for p in 0..2 {
            let mut kws = Vec::new();
            for j in 0..per_plan {
                let id = format!("k{p}{j}");
                kws.push(
                    serde_json::json!({"id": id, "text": id, "match_type": "exact",
                    "bid": 1_000_000}),
                );
                let f = 1.0 + 0.35 * (p * per_plan + j) as f64;
                truths.push(serde_json::json!({"keyword": id, "volume": 3000.0 / f,
                    "ctr": 0.02 * f.sqrt(), "cvr": 0.05 / f.sqrt(), "aov": 60.0 * f,
                    "aov_sigma": 0.5, "quality": 1.0,
                    "competitors": {"count": 2 + j, "bid_median": 0.6 * f, "bid_sigma": 0.5}}));
            }
            let mut plan = serde_json::json!({"id": format!("p{p}"), "name": "p",
                "daily_budget": (budget * 1e6) as i64, "min_bid": 100_000,
                "max_bid": 5_000_000, "keywords": kws});
            if let (0, Some(s)) = (p, schedule) {
                plan["schedule"] = serde_json::json!(s);
            }
            plans.push(plan);
        }
        let sc = serde_json::json!({"name": "tiny", "start_date": "2026-03-02", "days": 2,
            "market": {"position_effects": [1.0, 0.6], "reserve": 100_000, "increment": 10_000,
                "hourly": vec![1.0; 24],
                "events": [{"name": "promo", "date": "2026-03-03", "traffic": 2.0,
                            "competitor_bid": 1.5}]},
            "account": {"name": "a", "currency": "CNY", "plans": plans},
            "keywords": truths});
        Scenario::from_json(&sc.to_string()).unwrap()
    }

    /// Per keyword: (cost, revenue) at each grid bid over day `d`, through the public
    /// per-hour response ([`Truth::expected`], schedule applied), with "off" first.
    fn keyword_options(sc: &Scenario, d: u32) -> Vec<Vec<(f64, f64)>> {
        let t = sc.truth();
        let mut out = Vec::new();
        for (p, plan) in sc.account().plans().iter().enumerate() {
            for k in t.plan_keywords(p) {
                let mut o = vec![(0.0, 0.0)];
                for b in bid_grid(plan, t.market().reserve) {
                    let mut e = Expected::default();
                    for h in 0..24 {
                        e.add(&t.expected(k, b, d, h));
                    }
                    o.push((e.cost, e.revenue));
                }
                out.push(o);
            }
        }
        out
    }

    /// The best expected revenue of any grid bids whose expected cost fits `budget`.
    fn brute_force(opts: &[Vec<(f64, f64)>], budget: f64) -> f64 {
        fn go(opts: &[Vec<(f64, f64)>], i: usize, cost: f64, value: f64, b: f64) -> f64 {
            if cost > b {
                return f64::NEG_INFINITY;
            }
            if i == opts.len() {
                return value;
            }
            opts[i]
                .iter()
                .map(|&(c, v)| go(opts, i + 1, cost + c, value + v, b))
                .fold(f64::NEG_INFINITY, f64::max)
        }
        go(opts, 0, 0.0, 0.0, budget)
    }

    #[test]
    fn no_grid_bids_beat_the_ceiling_and_the_ceiling_is_tight() {
        for (per_plan, budget, schedule) in [
            (1, 20.0, None),
            (2, 30.0, None),
            (2, 1000.0, None), // the budget does not bind
            (2, 30.0, Some([1.0; 24])),
        ] {
            let mut sched = schedule;
            if let Some(s) = &mut sched {
                // Dark at night, +30% in the evening: three hour groups.
                s[..6].fill(0.0);
                s[19..23].fill(1.3);
            }
            let sc = tiny(per_plan, budget, sched);
            let o = budget_oracle(&sc, 0..2, OracleObjective::Revenue).unwrap();
            for d in 0..2 {
                let day = o.day(d).unwrap();
                let b = day.budget.units();
                let best = brute_force(&keyword_options(&sc, d), b);
                let case = format!("{per_plan} kw/plan, budget {budget}, day {d}");
                assert!(
                    best <= day.ceiling * (1.0 + 1e-9),
                    "{case}: brute force {best} above the ceiling {}",
                    day.ceiling
                );
                // The dual's gap to the best integral choice is small.
                assert!(
                    best >= 0.9 * day.ceiling,
                    "{case}: ceiling {} far above brute force {best}",
                    day.ceiling
                );
                if budget > 500.0 {
                    assert!(day.lambda == 0.0 && day.demand < b, "{case}: {day:?}");
                    assert!((best - day.ceiling).abs() <= 1e-6 * best, "{case}");
                } else {
                    assert!(day.lambda > 0.0 && day.demand > b, "{case}");
                }
                // Plan budgets split the account's budget exactly.
                let sum: i64 = day.plan_budget.iter().map(|m| m.micros()).sum();
                assert_eq!(sum, day.budget.micros());
            }
            // The promotion day (more traffic, dearer rivals) has its own, larger ceiling.
            assert!(o.days[1].demand > o.days[0].demand);
        }
    }

    #[test]
    fn the_player_spends_the_budget_and_stays_under_the_ceiling() {
        use crate::sim::{Fidelity, Market};
        let sc = tiny(2, 30.0, None);
        let o = std::sync::Arc::new(budget_oracle(&sc, 0..2, OracleObjective::Revenue).unwrap());
        let (mut spend, mut revenue, mut budget) = (0.0, 0.0, 0.0);
        let runs = 100;
        for seed in 0..runs {
            let mut market = Market::new(&sc, Fidelity::Exact, seed);
            let mut player = OraclePlayer::new(o.clone(), &sc);
            for d in 0..2 {
                let mut c = player.start_day(d).unwrap();
                let mut spent = vec![Money::ZERO; 2];
                for h in 0..24 {
                    player.before_hour(h, &spent, &mut c).unwrap();
                    let out = market.run_hour(d, h, &c).unwrap();
                    for (s, x) in spent.iter_mut().zip(&out.plan_spend) {
                        *s = s.checked_add(*x).unwrap();
                    }
                    // Expected revenue of the clicks bought (order counts and values are
                    // noise the strategy does not control).
                    let t = sc.truth();
                    revenue += (0..t.keyword_count())
                        .map(|k| out.keywords[k].clicks() as f64 * t.cvr(k, d) * t.aov(k))
                        .sum::<f64>();
                }
                for (s, b) in spent.iter().zip(&c.plan_budget) {
                    assert!(s <= b, "overspent");
                }
                spend += spent.iter().map(|m| m.units()).sum::<f64>();
                budget += o.days[d as usize].budget.units();
            }
        }
        // About 60 clicks a day: the last hours' noise costs a little of the budget.
        assert!(spend >= 0.965 * budget, "spent {spend} of {budget}");
        let ceiling = o.value() * runs as f64;
        assert!(
            revenue <= 1.01 * ceiling,
            "revenue {revenue} vs ceiling {ceiling}"
        );
        assert!(
            revenue >= 0.93 * ceiling,
            "revenue {revenue} vs ceiling {ceiling}"
        );
    }

    #[test]
    fn hulls_keep_only_concave_vertices() {
        let o = |cost: f64, value: f64| UnitOption {
            bid: Money::from_micros(1),
            keep: None,
            value,
            cost,
            expected: Expected::default(),
        };
        let h = Hull::of(vec![
            o(1.0, 3.0),
            o(2.0, 4.0),
            o(3.0, 6.5),
            o(4.0, 6.0),
            o(0.5, 0.0),
        ]);
        let costs: Vec<f64> = h.opts.iter().map(|x| x.cost).collect();
        assert_eq!(costs, [1.0, 3.0]);
        assert!(h.pick(10.0).is_none());
        assert_eq!(h.pick(2.0).map(|x| x.cost), Some(1.0));
        assert_eq!(h.pick(1.0).map(|x| x.cost), Some(3.0));
        assert!(Hull::of(Vec::new()).pick(0.0).is_none());
    }
}

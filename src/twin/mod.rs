//! The account's twin: a simulator scenario calibrated from the account's own report.
//!
//! [`calibrate`] fits, per keyword, what the simulator ([`crate::sim`]) needs:
//!
//! 1. **Rates** from the crate's hierarchical posteriors (as in [`crate::analysis`]): CVR and
//!    order value are the posterior means; the observed CTR is a mix over ad positions, so the
//!    top-slot CTR is `CTR x sum(p_j) / sum(p_j x position_effect_j)` with the slot chances
//!    `p_j` of the fitted auction below.
//! 2. **Competitor bid landscape**: `rivals` rivals per query bidding log-normally with
//!    log-sd `rival_sigma` (assumed, not identifiable from a report); the median is found by
//!    bisection so that the model's click-weighted second price at the keyword's bid equals
//!    its observed CPC (the price rises with the rivals' bids up to our bid).
//! 3. **Hourly traffic shape**: from hourly rows when the report has them (a plan-day x hour
//!    product model fitted on the hours before a capped plan ran out of budget), else the
//!    e-commerce curve of [`crate::pacing::TrafficCurve::ECOMMERCE`].
//! 4. **Query volume**: impressions / (days x impression chance), counting only uncapped hours
//!    when hourly rows show when a plan ran out; then refined by replaying the history (the
//!    account's bids and budgets, fast market, several seeds) and scaling each keyword's volume
//!    by reported / simulated impressions a few times, so budget cuts are accounted for.
//!
//! The **calibration check** replays the history on the twin with fresh seeds and compares
//! impressions, clicks and cost with the report, for the account, each plan and (as a share)
//! the keywords, against stated [`Tolerances`].
//!
//! Assumed, because a report cannot tell: bids and budgets were constant over the report
//! (the account's current ones); match-type effects are folded into each keyword's own rates;
//! no calendar events or weekday pattern; order values log-normal with log-sd `aov_sigma`;
//! our quality and the rivals' are 1. With daily rows only, a plan that spent its budget every
//! day shows a lower bound of its volume (the twin then sees no lost traffic).
//!
//! [`compare_on_twin`] then runs the historical allocation held fixed ([`HISTORICAL`])
//! against the engine's strategies on the twin, same seeds, paired intervals, labelled as a
//! simulation of the account with the check's verdict. By default the engines are
//! warm-started: they observe [`Twin::report`] first and decide from [`Twin::first_day`], the
//! day after the report's last date.

mod comparison;

pub use comparison::{
    ENGINE_STRATEGIES, HISTORICAL, TwinCompareOptions, TwinComparison, compare_on_twin, label,
    twin_strategies,
};

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::analysis::{AnalysisOptions, Estimate, analyze_report, prepare};
use crate::error::{Error, Result};
use crate::ingest::Ingested;
use crate::model::{Account, Date, KeywordId, PlanId, Report};
use crate::money::Money;
use crate::pacing::TrafficCurve;
use crate::rng::stream_seed;
use crate::sim::{
    Competitors, Controls, Fidelity, KeywordTruth, Market, MarketSpec, MatchEffect, MatchEffects,
    Scenario, Truth,
};

/// Relative tolerances of the calibration check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tolerances {
    /// Account totals (impressions, clicks, cost): |sim / report - 1| at most this.
    pub account: f64,
    /// Each plan, or 3 Poisson standard errors of the plan's count if larger.
    pub plan: f64,
    /// Each keyword with at least `keyword_min_impressions`, or 3 Poisson standard errors ...
    pub keyword: f64,
    /// ... and at least this share of those keywords must be within it.
    pub keyword_share: f64,
    /// Keywords with fewer reported impressions are not checked one by one.
    pub keyword_min_impressions: u64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            account: 0.05,
            plan: 0.10,
            keyword: 0.25,
            keyword_share: 0.8,
            keyword_min_impressions: 200,
        }
    }
}

/// Settings of [`calibrate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinOptions {
    /// Position effects of the twin's ad slots (slot 0 = top).
    pub position_effects: Vec<f64>,
    /// Rivals per query.
    pub rivals: u32,
    /// Log-sd of rival bids.
    pub rival_sigma: f64,
    /// Log-sd of single order values.
    pub aov_sigma: f64,
    /// Volume refinement rounds (replays).
    pub refine_rounds: usize,
    /// Seeds per replay (refinement and check).
    pub replay_seeds: u32,
    /// A plan-day counts as capped when it spent at least this share of its budget.
    pub capped_share: f64,
    /// Master seed.
    pub seed: u64,
    /// Check tolerances.
    pub tolerances: Tolerances,
}

impl Default for TwinOptions {
    fn default() -> Self {
        TwinOptions {
            position_effects: vec![1.0, 0.62, 0.45, 0.34],
            rivals: 5,
            rival_sigma: 0.5,
            aov_sigma: 0.6,
            refine_rounds: 4,
            replay_seeds: 4,
            capped_share: 0.97,
            seed: 42,
            tolerances: Tolerances::default(),
        }
    }
}

/// What was fitted for one keyword.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeywordFit {
    /// The keyword.
    pub keyword: KeywordId,
    /// Its plan.
    pub plan: PlanId,
    /// Observed-mix CTR posterior (mean, interval).
    pub ctr: Estimate,
    /// CVR posterior.
    pub cvr: Estimate,
    /// Order value posterior.
    pub aov: Estimate,
    /// The twin's top-slot CTR.
    pub top_ctr: f64,
    /// Daily queries.
    pub volume: f64,
    /// Median rival bid, currency units.
    pub rival_median: f64,
    /// Log-sd of rival bids (`rival_sigma`, or a half or a fifth of it when the observed CPC
    /// is closer to the bid than the wider spread allows).
    pub rival_sigma: f64,
    /// Chance of an impression per query at the historical bid.
    pub impression_chance: f64,
}

/// One line of the calibration check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckLine {
    /// `account`, `plan <id>` or `keywords within tolerance`.
    pub scope: String,
    /// `impressions`, `clicks`, `cost` or `share`.
    pub metric: String,
    /// Reported value.
    pub report: f64,
    /// Simulated value (mean over seeds).
    pub simulated: f64,
    /// |simulated / report - 1| (for `share`: the share itself).
    pub error: f64,
    /// Allowed error (for `share`: the required share).
    pub tolerance: f64,
    /// Within tolerance.
    pub pass: bool,
}

/// The calibration check: report vs replay on the twin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationCheck {
    /// Days replayed.
    pub days: u32,
    /// Seeds averaged.
    pub seeds: u32,
    /// Lines: account, plans, keyword share.
    pub lines: Vec<CheckLine>,
}

impl CalibrationCheck {
    /// Whether every line passes.
    pub fn passed(&self) -> bool {
        self.lines.iter().all(|l| l.pass)
    }

    /// A terminal table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Calibration check: the report vs the twin replaying the same bids and budgets ({} days, mean of {} seeds)",
            self.days, self.seeds
        );
        let _ = writeln!(
            s,
            "{:<34} {:<12} {:>14} {:>14} {:>8} {:>8}  result",
            "scope", "metric", "report", "simulated", "error", "tol"
        );
        for l in &self.lines {
            let _ = writeln!(
                s,
                "{:<34} {:<12} {:>14.2} {:>14.2} {:>7.1}% {:>7.1}%  {}",
                l.scope,
                l.metric,
                l.report,
                l.simulated,
                l.error * 100.0,
                l.tolerance * 100.0,
                if l.pass { "pass" } else { "FAIL" }
            );
        }
        let _ = writeln!(
            s,
            "{}",
            if self.passed() {
                "calibration: PASS"
            } else {
                "calibration: FAIL"
            }
        );
        s
    }
}

/// A calibrated twin.
#[derive(Debug, Clone)]
pub struct Twin {
    /// The scenario (horizon = the report's days).
    pub scenario: Scenario,
    /// Per keyword, in account order.
    pub fits: Vec<KeywordFit>,
    /// Hourly traffic shares used (sum 1).
    pub hourly: [f64; 24],
    /// Whether the hourly shape came from the report.
    pub hourly_from_report: bool,
    /// The check.
    pub check: CalibrationCheck,
    /// What was assumed.
    pub notes: Vec<String>,
    /// The report the twin was calibrated from (for an ingested file, the prepared report:
    /// its ids are those of the scenario's account). The comparison's warm-started engines
    /// observe it before the twin's first day.
    pub report: Report,
}

impl Twin {
    /// The twin's first simulated day: the day after the report's last date, so an engine
    /// that observed the report decides forward in time.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for an empty report (a calibrated twin never has one).
    pub fn first_day(&self) -> Result<Date> {
        let (_, last) = self
            .report
            .date_range()
            .ok_or_else(|| Error::invalid("twin.report", "empty", "has no rows"))?;
        Ok(last.add_days(1))
    }

    /// The scenario as JSON, with a horizon of `days` days from [`Twin::first_day`] (the day
    /// after the report's last date; the simulator's scenario format; load it with
    /// [`Scenario::from_json`]).
    ///
    /// # Errors
    /// [`Error::Serde`] or validation errors (days outside 1..=3660).
    pub fn scenario_json(&self, days: u32) -> Result<String> {
        let mut v = serde_json::to_value(&self.scenario)?;
        v["days"] = serde_json::json!(days);
        v["start_date"] = serde_json::to_value(self.first_day()?)?;
        v["name"] = serde_json::json!(format!(
            "{} (simulated twin)",
            self.scenario.account().name()
        ));
        let s = serde_json::to_string_pretty(&v)?;
        Scenario::from_json(&s)?;
        Ok(s)
    }

    /// The scenario with a horizon of `days` days.
    ///
    /// # Errors
    /// As [`Twin::scenario_json`].
    pub fn scenario_for(&self, days: u32) -> Result<Scenario> {
        Scenario::from_json(&self.scenario_json(days)?)
    }
}

/// Calibrates a twin from an ingested report (see [`crate::analysis::prepare`] for how
/// missing budgets and bids are filled in).
///
/// # Errors
/// As [`prepare`] and [`calibrate`].
pub fn calibrate_ingested(ing: &Ingested, opts: &TwinOptions) -> Result<Twin> {
    let p = prepare(ing)?;
    let mut t = calibrate(&p.account, &p.report, opts)?;
    let mut notes = p.notes;
    notes.append(&mut t.notes);
    t.notes = notes;
    Ok(t)
}

fn validate(o: &TwinOptions) -> Result<()> {
    if o.position_effects.is_empty() || o.position_effects.len() > 8 {
        return Err(Error::parameter(
            "position_effects",
            o.position_effects.len(),
            "must have 1 to 8 slots",
        ));
    }
    if o.position_effects.iter().any(|e| !(*e > 0.0 && *e <= 1.0)) {
        return Err(Error::parameter(
            "position_effects",
            format!("{:?}", o.position_effects),
            "each must be in (0, 1]",
        ));
    }
    if o.rivals == 0 || o.rivals > 32 {
        return Err(Error::parameter("rivals", o.rivals, "must be in 1..=32"));
    }
    if !(o.rival_sigma > 0.0 && o.rival_sigma <= 3.0) {
        return Err(Error::parameter(
            "rival_sigma",
            o.rival_sigma,
            "must be in (0, 3]",
        ));
    }
    if !(o.aov_sigma >= 0.0 && o.aov_sigma <= 3.0) {
        return Err(Error::parameter(
            "aov_sigma",
            o.aov_sigma,
            "must be in [0, 3]",
        ));
    }
    if o.replay_seeds == 0 || o.replay_seeds > 1000 {
        return Err(Error::parameter(
            "replay_seeds",
            o.replay_seeds,
            "must be in 1..=1000",
        ));
    }
    if !(o.capped_share > 0.0 && o.capped_share <= 1.0) {
        return Err(Error::parameter(
            "capped_share",
            o.capped_share,
            "must be in (0, 1]",
        ));
    }
    let t = &o.tolerances;
    for (n, v) in [
        ("tolerances.account", t.account),
        ("tolerances.plan", t.plan),
        ("tolerances.keyword", t.keyword),
        ("tolerances.keyword_share", t.keyword_share),
    ] {
        if !(v > 0.0 && v <= 1.0) {
            return Err(Error::parameter(n, v, "must be in (0, 1]"));
        }
    }
    Ok(())
}

/// The neutral market of a twin: fitted hourly shape, flat week, no events, match effects 1.
fn market(o: &TwinOptions, hourly: &[f64; 24]) -> MarketSpec {
    let one = MatchEffect {
        volume: 1.0,
        ctr: 1.0,
        cvr: 1.0,
    };
    MarketSpec {
        position_effects: o.position_effects.clone(),
        reserve: Money::from_micros(10_000),
        increment: Money::from_micros(10_000),
        hourly: hourly.to_vec(),
        weekly: vec![1.0; 7],
        match_effects: MatchEffects {
            exact: one,
            phrase: one,
            broad: one,
        },
        events: Vec::new(),
        weekday_profiles: Vec::new(),
        launches: Vec::new(),
    }
}

/// Per-keyword report sums and per (plan, day, hour) impressions.
struct Observed {
    /// [keyword flat index] -> (impressions, clicks, cost units).
    kw: Vec<(f64, f64, f64)>,
    /// [keyword][(day, hour)] impressions, hour 24 = whole-day row.
    kw_cells: Vec<BTreeMap<(u32, u8), f64>>,
    /// (plan, day) -> spend units.
    plan_day: BTreeMap<(usize, u32), f64>,
    /// (plan, day) -> last hour with impressions (hourly rows).
    last_hour: BTreeMap<(usize, u32), u8>,
    hourly: bool,
    days: u32,
}

fn observe(account: &Account, report: &Report) -> Result<Observed> {
    let (first, last) = report
        .date_range()
        .ok_or_else(|| Error::invalid("report", "empty", "has no rows to calibrate from"))?;
    let days = u32::try_from(last.days() - first.days() + 1)
        .map_err(|_| Error::invalid("report", "dates", "out of order"))?;
    let mut offset = Vec::new();
    let mut n = 0;
    for p in account.plans() {
        offset.push(n);
        n += p.keywords.len();
    }
    let mut o = Observed {
        kw: vec![(0.0, 0.0, 0.0); n],
        kw_cells: vec![BTreeMap::new(); n],
        plan_day: BTreeMap::new(),
        last_hour: BTreeMap::new(),
        hourly: false,
        days,
    };
    for r in report.rows() {
        let i = account.plan_pos(&r.plan).ok_or_else(|| Error::UnknownId {
            kind: "plan",
            id: r.plan.to_string(),
        })?;
        let d = (r.date.days() - first.days()) as u32;
        let s = &r.stats;
        *o.plan_day.entry((i, d)).or_default() += s.cost().units();
        if let Some(h) = r.hour {
            o.hourly = true;
            if s.impressions() > 0 {
                let e = o.last_hour.entry((i, d)).or_insert(h);
                *e = (*e).max(h);
            }
        }
        if let Some(k) = &r.keyword {
            let (pi, j) = account.keyword_pos(k).ok_or_else(|| Error::UnknownId {
                kind: "keyword",
                id: k.to_string(),
            })?;
            let f = offset[pi] + j;
            let e = &mut o.kw[f];
            e.0 += s.impressions() as f64;
            e.1 += s.clicks() as f64;
            e.2 += s.cost().units();
            *o.kw_cells[f].entry((d, r.hour.unwrap_or(24))).or_default() += s.impressions() as f64;
        }
    }
    Ok(o)
}

/// Whether plan `i` on day `d` ran out of budget, and if so its last hour.
fn capped(o: &Observed, account: &Account, opts: &TwinOptions, i: usize, d: u32) -> bool {
    let budget = account.plans()[i].daily_budget.units();
    o.plan_day.get(&(i, d)).copied().unwrap_or(0.0) >= opts.capped_share * budget
}

/// Hourly shares from hourly rows: `I[pd, h] = a[pd] * s[h]` on uncapped cells, unobserved
/// hours from the e-commerce curve scaled to the observed ones.
fn fit_hourly(o: &Observed, account: &Account, opts: &TwinOptions, plan_of: &[usize]) -> [f64; 24] {
    let default = TrafficCurve::ECOMMERCE.shares();
    if !o.hourly {
        return default;
    }
    // Plan-day x hour impressions on usable cells.
    let mut cells: BTreeMap<(usize, u32), [f64; 24]> = BTreeMap::new();
    let mut usable: BTreeMap<(usize, u32), usize> = BTreeMap::new();
    for (k, m) in o.kw_cells.iter().enumerate() {
        for (&(d, h), &v) in m {
            if h < 24 {
                cells.entry((plan_of[k], d)).or_insert([0.0; 24])[h as usize] += v;
            }
        }
    }
    for &(i, d) in cells.keys() {
        let upto = if capped(o, account, opts, i, d) {
            // The last hour is cut short; earlier hours ran in full.
            o.last_hour.get(&(i, d)).copied().unwrap_or(0) as usize
        } else {
            24
        };
        usable.insert((i, d), upto);
    }
    let mut s = default;
    let mut a: BTreeMap<(usize, u32), f64> = cells.keys().map(|k| (*k, 1.0)).collect();
    for _ in 0..30 {
        for (k, row) in &cells {
            let u = usable[k];
            let den: f64 = s[..u].iter().sum();
            if den > 0.0 {
                a.insert(*k, row[..u].iter().sum::<f64>() / den);
            }
        }
        let mut seen = [false; 24];
        let mut ns = [0.0; 24];
        for h in 0..24 {
            let (mut num, mut den) = (0.0, 0.0);
            for (k, row) in &cells {
                if h < usable[k] {
                    num += row[h];
                    den += a[k];
                }
            }
            if den > 0.0 {
                ns[h] = num / den;
                seen[h] = true;
            }
        }
        // Unseen hours: the default shape, scaled to the seen hours.
        let (fs, ds): (f64, f64) = (0..24)
            .filter(|&h| seen[h])
            .fold((0.0, 0.0), |acc, h| (acc.0 + ns[h], acc.1 + default[h]));
        if fs <= 0.0 {
            return default;
        }
        for h in 0..24 {
            if !seen[h] {
                ns[h] = default[h] * fs / ds;
            }
        }
        let tot: f64 = ns.iter().sum();
        for h in 0..24 {
            s[h] = ns[h] / tot;
        }
    }
    s
}

/// Click-weighted mean price and slot mix of keyword `k` at `bid` on day 0.
fn auction_at(truth: &Truth, k: usize, bid: i64, pe: &[f64]) -> (f64, f64, f64) {
    let c = truth.curve(k, bid, 0);
    let (mut imp, mut clk, mut cost) = (0.0, 0.0, 0.0);
    for (j, e) in pe.iter().enumerate() {
        imp += c.slot_prob[j];
        clk += c.slot_prob[j] * e;
        cost += c.slot_prob[j] * e * c.price[j];
    }
    let price = if clk > 0.0 { cost / clk / 1e6 } else { 0.0 };
    (imp, clk, price)
}

fn truths(fits: &[KeywordFit], o: &TwinOptions) -> Vec<KeywordTruth> {
    let mut out = Vec::with_capacity(fits.len());
    for f in fits {
        out.push(KeywordTruth {
            keyword: f.keyword.clone(),
            volume: f.volume.max(0.0),
            ctr: f.top_ctr.clamp(0.0, 1.0),
            cvr: f.cvr.value.clamp(0.0, 1.0),
            aov: f.aov.value.max(0.0),
            aov_sigma: o.aov_sigma,
            quality: 1.0,
            competitors: Competitors {
                count: o.rivals,
                bid_median: f.rival_median.clamp(1e-6, 1e6),
                bid_sigma: f.rival_sigma,
                quality: 1.0,
            },
            drift: None,
            queries: Vec::new(),
        });
    }
    out
}

/// Replays the history (account bids and budgets) on `sc`; per-keyword mean
/// (impressions, clicks, cost) over `seeds` seeds.
fn replay(sc: &Scenario, days: u32, seeds: u32, master: u64) -> Result<Vec<(f64, f64, f64)>> {
    let controls = Controls::from_account(sc.account());
    let n = sc.account().keyword_count();
    let mut acc = vec![(0.0, 0.0, 0.0); n];
    for s in 0..seeds {
        let mut m = Market::new(sc, Fidelity::Fast, stream_seed(master, &[u64::from(s)]));
        for d in 0..days {
            for h in 0..24u8 {
                let out = m.run_hour(d, h, &controls)?;
                for (k, st) in out.keywords.iter().enumerate() {
                    acc[k].0 += st.impressions() as f64;
                    acc[k].1 += st.clicks() as f64;
                    acc[k].2 += st.cost().units();
                }
            }
        }
    }
    let f = f64::from(seeds);
    Ok(acc
        .into_iter()
        .map(|(a, b, c)| (a / f, b / f, c / f))
        .collect())
}

fn build(
    account: &Account,
    report: &Report,
    days: u32,
    market: &MarketSpec,
    fits: &[KeywordFit],
    o: &TwinOptions,
) -> Result<Scenario> {
    let (first, _) = report
        .date_range()
        .ok_or_else(|| Error::invalid("report", "empty", "has no rows"))?;
    let v = serde_json::json!({
        "name": format!("{} (twin)", account.name()),
        "description": "Twin calibrated from the account's report: a simulation of the account, not the account.",
        "start_date": first,
        "days": days,
        "market": market,
        "account": account,
        "keywords": truths(fits, o),
    });
    Scenario::from_json(&v.to_string())
}

/// Calibrates a twin of `account` from `report` and runs the calibration check.
///
/// # Errors
/// [`Error::InvalidParameter`] for bad options; [`Error::InvalidValue`] for an empty report;
/// [`Error::UnknownId`] for rows not in the account; simulator validation errors.
#[allow(clippy::needless_range_loop)] // grid indexes and keyword indexes run in step
pub fn calibrate(account: &Account, report: &Report, opts: &TwinOptions) -> Result<Twin> {
    validate(opts)?;
    let obs = observe(account, report)?;
    let days = obs.days;
    let mut notes = Vec::new();
    let plan_of: Vec<usize> = account
        .plans()
        .iter()
        .enumerate()
        .flat_map(|(i, p)| std::iter::repeat_n(i, p.keywords.len()))
        .collect();
    let bids: Vec<i64> = account
        .plans()
        .iter()
        .flat_map(|p| p.keywords.iter().map(|k| k.bid.micros()))
        .collect();
    let hourly = fit_hourly(&obs, account, opts, &plan_of);
    let hourly_from_report = obs.hourly;
    if !obs.hourly {
        notes.push("daily rows only: hourly traffic shape assumed (e-commerce curve); volumes of plans that spent their whole budget are lower bounds".into());
    }
    let market = market(opts, &hourly);
    // Posteriors (the analysis' rows, without the engine).
    let an = analyze_report(
        account,
        report,
        &AnalysisOptions {
            draws: 200,
            recommend: false,
            seed: opts.seed,
            ..AnalysisOptions::default()
        },
    )?;
    let mut fits: Vec<KeywordFit> = an
        .keywords
        .iter()
        .map(|r| KeywordFit {
            keyword: r.keyword.clone().unwrap_or_else(|| KeywordId::new("")),
            plan: r.plan.clone(),
            ctr: r.ctr,
            cvr: r.cvr,
            aov: r.aov,
            top_ctr: r.ctr.value,
            volume: 0.0,
            rival_median: 1.0,
            rival_sigma: opts.rival_sigma,
            impression_chance: 0.0,
        })
        .collect();
    let n = fits.len();
    if n == 0 {
        return Err(Error::invalid(
            "account",
            account.name(),
            "has no keywords to calibrate",
        ));
    }
    // Target CPC per keyword: observed, else the posterior mean (shrunk to the plan).
    let target: Vec<f64> = an
        .keywords
        .iter()
        .zip(&bids)
        .map(|(r, &b)| {
            let bid = b as f64 / 1e6;
            let c = r.observed.cpc.unwrap_or(r.cpc.value);
            c.clamp(0.011, bid.max(0.011))
        })
        .collect();
    // Rival landscape: on a grid of medians (one Truth per point, all keywords at once) and
    // a few spreads, the point whose click-weighted price is nearest the target CPC while
    // keeping a real chance of an impression; then bisection inside its grid cell.
    const GRID: usize = 48;
    let sigmas = [
        opts.rival_sigma,
        opts.rival_sigma / 2.0,
        opts.rival_sigma / 5.0,
    ];
    let first = report
        .date_range()
        .map_or(crate::model::Date::from_days(0), |r| r.0);
    let bid_units: Vec<f64> = bids.iter().map(|&b| b as f64 / 1e6).collect();
    let at = |g: f64, k: usize| bid_units[k] * 10f64.powf(-2.0 + 3.0 * g / (GRID - 1) as f64);
    // best[k] = (score, sigma index, grid index)
    let mut best: Vec<(f64, usize, usize)> = vec![(f64::INFINITY, 0, GRID / 2); n];
    let mut prices: Vec<Vec<Vec<f64>>> = vec![vec![vec![0.0; GRID]; sigmas.len()]; n];
    for (si, &sig) in sigmas.iter().enumerate() {
        for g in 0..GRID {
            for (k, f) in fits.iter_mut().enumerate() {
                f.rival_median = at(g as f64, k);
                f.rival_sigma = sig;
            }
            let truth = Truth::new(account, first, 1, market.clone(), truths(&fits, opts))?;
            for k in 0..n {
                let (imp, _, price) = auction_at(&truth, k, bids[k], &opts.position_effects);
                prices[k][si][g] = price;
                if imp < 0.02 || !(price > 0.0) {
                    continue;
                }
                // Prefer the widest spread that fits within 1%.
                let score = (price / target[k]).ln().abs().max(0.01) + 1e-6 * si as f64;
                if score < best[k].0 {
                    best[k] = (score, si, g);
                }
            }
        }
    }
    // Bisection within the bracketing cell, where there is one.
    let mut lo = vec![0.0f64; n];
    let mut hi = vec![0.0f64; n];
    for k in 0..n {
        let (_, si, g) = best[k];
        let p = &prices[k][si];
        let (a, b) = if g + 1 < GRID && (p[g] - target[k]) * (p[g + 1] - target[k]) <= 0.0 {
            (g as f64, g as f64 + 1.0)
        } else if g > 0 && (p[g - 1] - target[k]) * (p[g] - target[k]) <= 0.0 {
            (g as f64 - 1.0, g as f64)
        } else {
            (g as f64, g as f64)
        };
        lo[k] = a;
        hi[k] = b;
        fits[k].rival_sigma = sigmas[si];
    }
    let increasing: Vec<bool> = (0..n)
        .map(|k| {
            let (_, si, _) = best[k];
            let p = &prices[k][si];
            p[(hi[k] as usize).min(GRID - 1)] >= p[lo[k] as usize]
        })
        .collect();
    for _ in 0..10 {
        for k in 0..n {
            fits[k].rival_median = at((lo[k] + hi[k]) / 2.0, k);
        }
        let truth = Truth::new(account, first, 1, market.clone(), truths(&fits, opts))?;
        for k in 0..n {
            let (_, _, price) = auction_at(&truth, k, bids[k], &opts.position_effects);
            let mid = (lo[k] + hi[k]) / 2.0;
            if (price < target[k]) == increasing[k] {
                lo[k] = mid;
            } else {
                hi[k] = mid;
            }
        }
    }
    for k in 0..n {
        fits[k].rival_median = at((lo[k] + hi[k]) / 2.0, k);
    }
    let truth = Truth::new(account, first, 1, market.clone(), truths(&fits, opts))?;
    // Top-slot CTR and first volumes.
    for k in 0..n {
        let (imp, clk, _) = auction_at(&truth, k, bids[k], &opts.position_effects);
        let f = &mut fits[k];
        f.impression_chance = imp;
        f.top_ctr = if clk > 0.0 {
            (f.ctr.value * imp / clk).min(1.0)
        } else {
            f.ctr.value
        };
        let (mut seen, mut share) = (0.0, 0.0);
        for (&(d, h), &v) in &obs.kw_cells[k] {
            let i = plan_of[k];
            if h == 24 {
                seen += v;
                share += 1.0;
            } else {
                let upto = if capped(&obs, account, opts, i, d) {
                    obs.last_hour.get(&(i, d)).copied().unwrap_or(0)
                } else {
                    24
                };
                if h < upto {
                    seen += v;
                    share += hourly[h as usize];
                }
            }
        }
        f.volume = if imp > 0.0 && share > 0.0 {
            seen / (imp * share)
        } else if imp > 0.0 {
            obs.kw[k].0 / (imp * f64::from(days))
        } else {
            0.0
        };
    }
    // Refine volumes by replaying the history.
    for round in 0..opts.refine_rounds {
        let sc = build(account, report, days, &market, &fits, opts)?;
        let sim = replay(
            &sc,
            days,
            opts.replay_seeds,
            stream_seed(opts.seed, &[1, round as u64]),
        )?;
        for k in 0..n {
            let (rep, s) = (obs.kw[k].0, sim[k].0);
            if rep > 0.0 && s > 0.0 {
                fits[k].volume *= (rep / s).clamp(0.25, 4.0);
            }
        }
    }
    let scenario = build(account, report, days, &market, &fits, opts)?;
    let check = check(&scenario, &obs, account, days, opts)?;
    Ok(Twin {
        scenario,
        fits,
        hourly,
        hourly_from_report,
        check,
        notes,
        report: report.clone(),
    })
}

fn check(
    sc: &Scenario,
    obs: &Observed,
    account: &Account,
    days: u32,
    o: &TwinOptions,
) -> Result<CalibrationCheck> {
    let sim = replay(sc, days, o.replay_seeds, stream_seed(o.seed, &[2]))?;
    let t = &o.tolerances;
    let mut lines = Vec::new();
    let err = |r: f64, s: f64| {
        if r > 0.0 {
            (s / r - 1.0).abs()
        } else {
            s.abs()
        }
    };
    let names = ["impressions", "clicks", "cost"];
    let pick = |x: &(f64, f64, f64), m: usize| [x.0, x.1, x.2][m];
    // Account.
    for (m, name) in names.iter().enumerate() {
        let r: f64 = obs.kw.iter().map(|x| pick(x, m)).sum();
        let s: f64 = sim.iter().map(|x| pick(x, m)).sum();
        let e = err(r, s);
        lines.push(CheckLine {
            scope: "account".into(),
            metric: (*name).into(),
            report: r,
            simulated: s,
            error: e,
            tolerance: t.account,
            pass: e <= t.account,
        });
    }
    // Plans.
    let mut k0 = 0;
    for p in account.plans() {
        let ks = k0..k0 + p.keywords.len();
        k0 += p.keywords.len();
        for (m, name) in names.iter().enumerate() {
            let r: f64 = obs.kw[ks.clone()].iter().map(|x| pick(x, m)).sum();
            let s: f64 = sim[ks.clone()].iter().map(|x| pick(x, m)).sum();
            if r <= 0.0 && s <= 0.0 {
                continue;
            }
            // Poisson error of the count behind the metric (clicks for cost).
            let count: f64 = obs.kw[ks.clone()].iter().map(|x| pick(x, m.min(1))).sum();
            let tol = t.plan.max(3.0 / count.max(1.0).sqrt());
            let e = err(r, s);
            lines.push(CheckLine {
                scope: format!("plan {}", p.id),
                metric: (*name).into(),
                report: r,
                simulated: s,
                error: e,
                tolerance: tol,
                pass: e <= tol,
            });
        }
    }
    // Keywords.
    for (m, name) in names.iter().enumerate() {
        let (mut checked, mut within) = (0usize, 0usize);
        for (k, x) in obs.kw.iter().enumerate() {
            if x.0 < t.keyword_min_impressions as f64 {
                continue;
            }
            let count = pick(x, m.min(1)).max(1.0);
            let tol = t.keyword.max(3.0 / count.sqrt());
            checked += 1;
            if err(pick(x, m), pick(&sim[k], m)) <= tol {
                within += 1;
            }
        }
        if checked > 0 {
            let share = within as f64 / checked as f64;
            lines.push(CheckLine {
                scope: format!("keywords within {:.0}% ({checked})", t.keyword * 100.0),
                metric: format!("{name} share"),
                report: checked as f64,
                simulated: within as f64,
                error: share,
                tolerance: t.keyword_share,
                pass: share >= t.keyword_share,
            });
        }
    }
    Ok(CalibrationCheck {
        days,
        seeds: o.replay_seeds,
        lines,
    })
}

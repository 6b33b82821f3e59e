//! The market: runs a scenario hour by hour under a strategy's controls.

use std::sync::Arc;

use rand::{Rng, RngExt};
use rand_distr::{Binomial, Distribution, Poisson, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::matching::{matches_tokens, tokenize};
use crate::model::{
    Account, CreativeRow, Date, MatchType, NegativeKeyword, Report, ReportRow, Stats, Status,
};
use crate::money::Money;
use crate::rng::{self, SimRng};
use crate::sim::auction::{gsp_price, our_auction};
use crate::sim::scenario::Scenario;
use crate::sim::truth::{AuctionCurve, Expected, MAX_SLOTS, Truth};

/// How the market simulates an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fidelity {
    /// Every query's auction is run against freshly drawn rivals.
    Exact,
    /// Per keyword-hour aggregates are sampled (Poisson / binomial) from the same model.
    Fast,
}

/// Most negative keywords a strategy may add to one plan.
pub const MAX_NEGATIVES: usize = 10_000;

/// What a strategy sets before an hour. Indexes follow the account: plans in order, keywords
/// flattened plan by plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Controls {
    /// Daily budget per plan (a hard cap on the day's spend).
    pub plan_budget: Vec<Money>,
    /// Bid per keyword.
    pub keyword_bid: Vec<Money>,
    /// Whether each keyword bids.
    pub keyword_active: Vec<bool>,
    /// Pacing bid multiplier per plan for the coming hour (on top of the schedule), default 1.
    /// Above 1 it raises no keyword's bid past its plan's `max_bid` (the schedule's
    /// multiplier then applies on top, as the operator set it).
    pub plan_hour_multiplier: Vec<f64>,
    /// Fraction of eligible auctions each plan enters, in [0, 1], default 1.
    pub plan_throttle: Vec<f64>,
    /// Negative keywords a strategy adds per plan, on top of the account's (empty: none
    /// for any plan). They block the matching queries of keywords with a query stream.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan_negatives: Vec<Vec<NegativeKeyword>>,
    /// Per plan, the share of its impressions each of its creatives serves (in the account's
    /// order, summing to 1). Empty (for all plans, or for one plan): an even split over the
    /// plan's active creatives.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan_creative_weights: Vec<Vec<f64>>,
}

impl Controls {
    /// The account's own budgets, bids and statuses, with multiplier and throttle 1.
    pub fn from_account(account: &Account) -> Self {
        let plans = account.plans();
        Controls {
            plan_budget: plans.iter().map(|p| p.daily_budget).collect(),
            keyword_bid: plans
                .iter()
                .flat_map(|p| p.keywords.iter().map(|k| k.bid))
                .collect(),
            keyword_active: plans
                .iter()
                .flat_map(|p| p.keywords.iter().map(|k| k.status == Status::Active))
                .collect(),
            plan_hour_multiplier: vec![1.0; plans.len()],
            plan_throttle: vec![1.0; plans.len()],
            plan_negatives: Vec::new(),
            plan_creative_weights: Vec::new(),
        }
    }

    /// Controls for the scenario's whole account `full` from a strategy's view of it
    /// (`view`: the same ids, some plans or keywords possibly missing, e.g. not launched
    /// yet): budgets, bids and statuses by id from `view`; what `view` lacks gets budget 0
    /// and does not bid.
    pub fn from_view(full: &Account, view: &Account) -> Self {
        let mut c = Controls::from_account(full);
        let mut k = 0;
        for (i, p) in full.plans().iter().enumerate() {
            let vp = view.plan(&p.id);
            c.plan_budget[i] = vp.map_or(Money::ZERO, |v| {
                if v.status == Status::Active {
                    v.daily_budget
                } else {
                    Money::ZERO
                }
            });
            for kw in &p.keywords {
                match view.keyword(&kw.id) {
                    Some((vp, vk)) if vp.id == p.id => {
                        c.keyword_bid[k] = vk.bid.clamp(p.min_bid, p.max_bid);
                        c.keyword_active[k] =
                            vk.status == Status::Active && vp.status == Status::Active;
                    }
                    _ => c.keyword_active[k] = false,
                }
                k += 1;
            }
        }
        // Creatives the view paused are not served; the others split evenly.
        if full.plans().iter().any(|p| !p.creatives.is_empty()) {
            c.plan_creative_weights = full
                .plans()
                .iter()
                .map(|p| {
                    let on: Vec<bool> = p
                        .creatives
                        .iter()
                        .map(|cr| {
                            view.creative_pos(&cr.id).is_some_and(|(i, j)| {
                                view.plans()[i].creatives[j].status == Status::Active
                            }) && cr.status == Status::Active
                        })
                        .collect();
                    even_weights(&on)
                })
                .collect();
        }
        c
    }

    /// Checks lengths and ranges against `account`.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the field and index: wrong length, a negative budget,
    /// a bid outside its plan's limits, a multiplier outside [0, 10], a throttle outside
    /// [0, 1].
    pub fn validate(&self, account: &Account) -> Result<()> {
        let np = account.plans().len();
        let nk = account.keyword_count();
        for (f, len, want) in [
            ("controls.plan_budget", self.plan_budget.len(), np),
            ("controls.keyword_bid", self.keyword_bid.len(), nk),
            ("controls.keyword_active", self.keyword_active.len(), nk),
            (
                "controls.plan_hour_multiplier",
                self.plan_hour_multiplier.len(),
                np,
            ),
            ("controls.plan_throttle", self.plan_throttle.len(), np),
        ] {
            if len != want {
                return Err(Error::invalid(
                    f,
                    format!("{len} entries"),
                    format!("must have {want}"),
                ));
            }
        }
        if !self.plan_negatives.is_empty() && self.plan_negatives.len() != np {
            return Err(Error::invalid(
                "controls.plan_negatives",
                format!("{} entries", self.plan_negatives.len()),
                format!("must be empty or have {np}"),
            ));
        }
        for (i, negs) in self.plan_negatives.iter().enumerate() {
            if negs.len() > MAX_NEGATIVES {
                return Err(Error::invalid(
                    format!("controls.plan_negatives[{i}]"),
                    format!("{} entries", negs.len()),
                    format!("must have at most {MAX_NEGATIVES}"),
                ));
            }
            for (j, n) in negs.iter().enumerate() {
                if tokenize(&n.text).is_empty() {
                    return Err(Error::invalid(
                        format!("controls.plan_negatives[{i}][{j}].text"),
                        format!("{:?}", n.text),
                        "has no words",
                    ));
                }
            }
        }
        if !self.plan_creative_weights.is_empty() && self.plan_creative_weights.len() != np {
            return Err(Error::invalid(
                "controls.plan_creative_weights",
                format!("{} entries", self.plan_creative_weights.len()),
                format!("must be empty or have {np}"),
            ));
        }
        for (i, (w, p)) in self
            .plan_creative_weights
            .iter()
            .zip(account.plans())
            .enumerate()
        {
            if w.is_empty() {
                continue;
            }
            let at = format!("controls.plan_creative_weights[{i}]");
            if w.len() != p.creatives.len() {
                return Err(Error::invalid(
                    at,
                    format!("{} entries", w.len()),
                    format!("must be empty or have {}", p.creatives.len()),
                ));
            }
            if let Some((j, &x)) = w
                .iter()
                .enumerate()
                .find(|(_, x)| !(x.is_finite() && (0.0..=1.0).contains(*x)))
            {
                return Err(Error::invalid(format!("{at}[{j}]"), x, "must be in [0, 1]"));
            }
            let sum: f64 = w.iter().sum();
            if (sum - 1.0).abs() > 1e-6 {
                return Err(Error::invalid(at, sum, "must sum to 1"));
            }
        }
        let mut k = 0;
        for (i, p) in account.plans().iter().enumerate() {
            if self.plan_budget[i].is_negative() {
                return Err(Error::invalid(
                    format!("controls.plan_budget[{i}]"),
                    self.plan_budget[i],
                    "must be >= 0",
                ));
            }
            let m = self.plan_hour_multiplier[i];
            if !(0.0..=10.0).contains(&m) {
                return Err(Error::invalid(
                    format!("controls.plan_hour_multiplier[{i}]"),
                    m,
                    "must be in [0, 10]",
                ));
            }
            let t = self.plan_throttle[i];
            if !(0.0..=1.0).contains(&t) {
                return Err(Error::invalid(
                    format!("controls.plan_throttle[{i}]"),
                    t,
                    "must be in [0, 1]",
                ));
            }
            for _ in &p.keywords {
                let b = self.keyword_bid[k];
                if b < p.min_bid || b > p.max_bid || b.micros() <= 0 {
                    return Err(Error::invalid(
                        format!("controls.keyword_bid[{k}]"),
                        b,
                        format!("must be > 0 and within [{}, {}]", p.min_bid, p.max_bid),
                    ));
                }
                k += 1;
            }
        }
        Ok(())
    }
}

/// What happened in one hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HourOutcome {
    /// Day index.
    pub day: u32,
    /// Hour of day.
    pub hour: u8,
    /// Counters per keyword (flattened account order).
    pub keywords: Vec<Stats>,
    /// Auctions each keyword entered.
    pub auctions: Vec<u64>,
    /// Spend per plan in this hour.
    pub plan_spend: Vec<Money>,
    /// Auctions per plan that were lost because the budget was spent.
    pub lost_to_budget: Vec<u64>,
    /// Whether each plan's budget for the day was exhausted by the end of the hour.
    pub exhausted: Vec<bool>,
    /// Counters per search query, for keywords with a query stream (see
    /// [`search_terms`]); empty otherwise.
    pub search_terms: Vec<SearchTermHour>,
    /// Counters per creative served, for plans with creatives; empty otherwise.
    pub creatives: Vec<CreativeHour>,
}

/// One creative's counters in one hour: its share of its plan's traffic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreativeHour {
    /// The plan (account index).
    pub plan: usize,
    /// The creative, indexing the plan's `creatives`.
    pub creative: usize,
    /// Its counters.
    pub stats: Stats,
}

/// An even split over the creatives flagged `on` (all of them when none is).
fn even_weights(on: &[bool]) -> Vec<f64> {
    let n = on.iter().filter(|&&b| b).count();
    if n == 0 {
        return vec![1.0 / on.len().max(1) as f64; on.len()];
    }
    on.iter()
        .map(|&b| if b { 1.0 / n as f64 } else { 0.0 })
        .collect()
}

/// A plan-hour's rotation: each creative's impression share, and the mixture's CTR and CVR
/// multipliers (CVR weighted by the creatives' shares of clicks).
#[derive(Debug, Clone)]
struct CreativeMix {
    weights: Vec<f64>,
    ctr: f64,
    cvr: f64,
}

/// One search query's counters in one hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchTermHour {
    /// The keyword (flattened account index).
    pub keyword: usize,
    /// The query, indexing the keyword's [`QueryTruth`](crate::sim::QueryTruth) list.
    pub query: usize,
    /// Auctions entered.
    pub auctions: u64,
    /// Its counters.
    pub stats: Stats,
}

/// A keyword's state inside one plan-hour.
#[derive(Debug, Clone)]
struct KwHour {
    k: usize,
    /// The query (index into the truth's query models), if the unit is one query.
    q: Option<usize>,
    /// Fast fidelity: the unit is the keyword's whole open query stream, drawn as one mix
    /// and split over its queries afterwards ([`Market::split_stream`]).
    stream: bool,
    n: u64,
    eff: i64,
    /// Seed of the keyword-hour's stream `[day, hour, k]`: the unit's other streams extend it.
    seed: u64,
    rng: SimRng,
    imp: u64,
    clicks: u64,
    conv: u64,
    cost: i64,
    revenue: f64,
    entered: u64,
    ctr: [f64; MAX_SLOTS],
    cvr: f64,
    /// The keyword's rival-bid factor today.
    f: f64,
    /// The keyword's mean order value today.
    aov: f64,
}

impl KwHour {
    /// A unit of `n` auctions at effective bid `eff`, before any is run.
    #[allow(clippy::too_many_arguments)]
    fn new(
        k: usize,
        q: Option<usize>,
        stream: bool,
        n: u64,
        eff: i64,
        seed: u64,
        rng: SimRng,
        ctr: [f64; MAX_SLOTS],
        cvr: f64,
        f: f64,
        aov: f64,
    ) -> Self {
        KwHour {
            k,
            q,
            stream,
            n,
            eff,
            seed,
            rng,
            imp: 0,
            clicks: 0,
            conv: 0,
            cost: 0,
            revenue: 0.0,
            entered: 0,
            ctr,
            cvr,
            f,
            aov,
        }
    }
}

/// A simulated marketplace for one scenario, fidelity and seed.
///
/// Randomness: keyword `k` in hour `h` of day `d` draws from
/// `rng::stream(market_seed, &[d, h, k])` (and `[d, h, k, 1]` for order values), where
/// `market_seed = rng::stream_seed(seed, &[rng::domain::MARKET])`. So runs are bit-identical
/// for a seed, and one strategy's bids do not shift another's traffic draws.
#[derive(Debug, Clone)]
pub struct Market {
    truth: Arc<Truth>,
    account: Arc<Account>,
    fidelity: Fidelity,
    seed: u64,
    /// spend[day][plan], micros.
    spend: Vec<Vec<i64>>,
    /// Per plan: the day on which the budget ran out, if any.
    exhausted_on: Vec<Option<u32>>,
    buf: Vec<KwHour>,
    order: Vec<(f64, usize)>,
    /// One-entry curve cache per keyword: (eff bid, rival factor bits) -> curve.
    curve_cache: Vec<Option<(i64, u64, AuctionCurve)>>,
    /// Per plan: the strategy's extra negatives and their tokens.
    neg_cache: Vec<NegativeCache>,
    /// Per keyword with a query stream: its open queries (truth index, share) under the
    /// strategy's negatives of the time (the `Arc` they were computed for), and their share.
    open_cache: Vec<Option<OpenQueries>>,
    /// The open queries themselves, flat in the truth's query order: keyword `k`'s are the
    /// first `len` slots of its query range (its open queries in order), so the hot loop
    /// reads them next to each other instead of from one allocation per keyword.
    open_q: Vec<OpenQuery>,
    /// Scratch space of [`Market::split_stream`], reused across keyword-hours.
    split: SplitScratch,
    /// Per keyword, what the hot loop reads before it knows whether the hour has traffic.
    hot: Vec<KwHot>,
}

/// A keyword's fields that decide its expected queries in an hour, packed together so that
/// an hour without traffic reads neither the keyword's full model nor the account.
#[derive(Debug, Clone, Copy)]
struct KwHot {
    volume: f64,
    group: usize,
    /// Day indexes in which it exists: `live.0 <= day < live.1`.
    live: (u32, u32),
    /// First index of its queries in the truth's query models (and in `Market::open_q`).
    q_start: usize,
    /// Active in the account.
    active: bool,
    /// It has a query stream.
    queries: bool,
    /// It drifts.
    drift: bool,
}

/// Per-query weights and counts of one stream split (four slices of the open queries'
/// length each), kept between calls so a busy keyword-hour allocates nothing.
#[derive(Debug, Clone, Default)]
struct SplitScratch {
    weights: Vec<f64>,
    counts: Vec<u64>,
    micros: Vec<i64>,
}

type Negatives = Arc<Vec<(Vec<String>, MatchType)>>;
type NegativeCache = (Vec<NegativeKeyword>, Negatives);

#[derive(Debug, Clone)]
struct OpenQueries {
    negatives: Negatives,
    /// How many of the keyword's slots in `Market::open_q` are open queries.
    len: usize,
    share: f64,
}

/// One open query: its truth index and what the hot loops read of its model.
#[derive(Debug, Clone, Copy, Default)]
struct OpenQuery {
    qi: usize,
    share: f64,
    ctr_scale: f64,
    cvr_scale: f64,
}

/// `x.round() as i64` (half away from zero, saturating, NaN to 0) without the library call:
/// the truncation is exact, and so is the fraction left.
#[inline]
fn round_i64(x: f64) -> i64 {
    if !(x.abs() < 4_503_599_627_370_496.0) {
        // 2^52 and beyond (and NaN): already an integer, or out of range.
        return x as i64;
    }
    let t = x as i64;
    let frac = x - t as f64;
    if frac >= 0.5 {
        t + 1
    } else if frac <= -0.5 {
        t - 1
    } else {
        t
    }
}

fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
}

fn poisson(rng: &mut SimRng, lam: f64) -> u64 {
    if !(lam > 0.0) {
        return 0;
    }
    if lam < 12.0 {
        // Inversion: cheap for the sparse keyword-hours that dominate.
        let u = unit(rng.next_u64());
        // Zero without the exponential when u is clearly below exp(-lam): for lam > 0,
        // exp(-lam) > 1 - lam + lam^2/2 - lam^3/6 (the Taylor remainder is positive), and
        // the margin is far above the rounding of either side, so the answer is the one
        // the inversion below gives.
        if lam < 1.0 && u < 1.0 - lam * (1.0 - lam * (0.5 - lam / 6.0)) - 1e-12 {
            return 0;
        }
        let mut p = (-lam).exp();
        let mut k = 0u64;
        let mut cdf = p;
        while u > cdf && k < 200 {
            k += 1;
            p *= lam / k as f64;
            cdf += p;
        }
        return k;
    }
    match Poisson::new(lam.min(1e15)) {
        Ok(d) => {
            let x: f64 = d.sample(rng);
            x as u64
        }
        Err(_) => lam as u64,
    }
}

fn binomial(rng: &mut SimRng, n: u64, p: f64) -> u64 {
    if n == 0 || !(p > 0.0) {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if n < 16 {
        return (0..n).filter(|_| unit(rng.next_u64()) < p).count() as u64;
    }
    match Binomial::new(n, p) {
        Ok(d) => d.sample(rng),
        Err(_) => (n as f64 * p).round() as u64,
    }
}

/// Sum of `n` log-normal order values with mean `aov` and log-sd `sigma`, in micros.
/// `n` split over `weights` (multinomial, by sequential binomials); all of it to the last
/// positive weight's bucket when rounding leaves some.
fn multinomial(rng: &mut SimRng, n: u64, weights: &[f64]) -> Vec<u64> {
    let mut out = vec![0u64; weights.len()];
    multinomial_into(rng, n, weights, &mut out);
    out
}

/// [`multinomial`] into `out` (as long as `weights`, zeroed by the caller).
fn multinomial_into(rng: &mut SimRng, n: u64, weights: &[f64], out: &mut [u64]) {
    let mut left = n;
    let mut w_left: f64 = weights.iter().map(|w| w.max(0.0)).sum();
    for (j, &w) in weights.iter().enumerate() {
        if left == 0 || !(w_left > 0.0) {
            break;
        }
        let w = w.max(0.0);
        let x = if j + 1 == weights.len() || w >= w_left {
            left
        } else {
            binomial(rng, left, (w / w_left).clamp(0.0, 1.0))
        };
        out[j] = x;
        left -= x;
        w_left -= w;
    }
    if left > 0
        && let Some(j) = weights.iter().rposition(|&w| w > 0.0)
    {
        out[j] += left;
    }
}

/// `total` (micros) split in proportion to `counts`: floors, the rest to the largest count
/// (first on ties), so the parts sum to `total` and a zero count gets nothing.
fn pro_rata(total: i64, counts: &[u64]) -> Vec<i64> {
    let mut out = vec![0; counts.len()];
    pro_rata_into(total, counts, &mut out);
    out
}

/// [`pro_rata`] into `out` (as long as `counts`).
fn pro_rata_into(total: i64, counts: &[u64], out: &mut [i64]) {
    let sum: u64 = counts.iter().sum();
    if sum == 0 {
        out.fill(0);
        return;
    }
    for (o, &c) in out.iter_mut().zip(counts) {
        *o = (i128::from(total) * i128::from(c) / i128::from(sum)) as i64;
    }
    let rest = total - out.iter().sum::<i64>();
    if let Some(j) = (0..counts.len()).max_by(|&a, &b| counts[a].cmp(&counts[b]).then(b.cmp(&a))) {
        out[j] += rest;
    }
}

fn order_values(rng: &mut SimRng, n: u64, aov: f64, sigma: f64) -> f64 {
    if n == 0 || !(aov > 0.0) {
        return 0.0;
    }
    let mu_shift = -0.5 * sigma * sigma;
    if n <= 30 {
        (0..n)
            .map(|_| {
                let z: f64 = rng.sample(StandardNormal);
                aov * (sigma * z + mu_shift).exp()
            })
            .sum::<f64>()
            * 1e6
    } else {
        // Central limit: the sum of many order values is close to normal.
        let var = (sigma * sigma).exp_m1();
        let z: f64 = rng.sample(StandardNormal);
        let nf = n as f64;
        ((nf * aov + z * aov * (nf * var).sqrt()).max(0.0)) * 1e6
    }
}

impl Market {
    /// A market for `scenario` at `fidelity`, seeded with `seed`.
    pub fn new(scenario: &Scenario, fidelity: Fidelity, seed: u64) -> Self {
        let truth = scenario.truth_arc();
        let np = scenario.account().plans().len();
        let nk = truth.keyword_count();
        let nq = truth.query_models.len();
        let account = scenario.account();
        let hot = account
            .plans()
            .iter()
            .flat_map(|p| p.keywords.iter())
            .enumerate()
            .map(|(k, kw)| {
                let m = &truth.models[k];
                KwHot {
                    volume: m.volume,
                    group: m.group,
                    live: m.live,
                    q_start: m.queries.start,
                    active: kw.status == Status::Active,
                    queries: !m.queries.is_empty(),
                    drift: truth.has_drift(k),
                }
            })
            .collect();
        Market {
            spend: vec![vec![0; np]; truth.days() as usize],
            exhausted_on: vec![None; np],
            account: scenario.account_arc(),
            truth,
            fidelity,
            seed: rng::stream_seed(seed, &[rng::domain::MARKET]),
            buf: Vec::new(),
            order: Vec::new(),
            curve_cache: vec![None; nk],
            neg_cache: Vec::new(),
            open_cache: vec![None; nk],
            open_q: vec![OpenQuery::default(); nq],
            split: SplitScratch::default(),
            hot,
        }
    }

    /// The ground truth.
    pub fn truth(&self) -> &Truth {
        &self.truth
    }
    /// The fidelity.
    pub fn fidelity(&self) -> Fidelity {
        self.fidelity
    }
    /// The account the market serves (its structure; bids and budgets come from controls).
    pub fn account(&self) -> &Account {
        &self.account
    }
    /// The date of day index `day`.
    pub fn date(&self, day: u32) -> Date {
        self.truth.start_date().add_days(day as i32)
    }

    /// Spend of plan `plan` on `day` so far.
    pub fn plan_day_spend(&self, day: u32, plan: usize) -> Money {
        self.spend
            .get(day as usize)
            .and_then(|d| d.get(plan))
            .map_or(Money::ZERO, |&m| Money::from_micros(m))
    }

    /// Expected outcomes of keyword `keyword` in `hour` of `day` at keyword bid `bid` (the
    /// plan's schedule applied; no budget, pacing multiplier or throttle): the response curve.
    pub fn expected(&self, keyword: usize, bid: Money, day: u32, hour: u8) -> Expected {
        if keyword >= self.truth.keyword_count() {
            return Expected::default();
        }
        self.truth.expected(keyword, bid, day, hour)
    }

    /// Runs `hour` of `day` under `controls`.
    ///
    /// Budgets are per day and checked at serving time: an ad is shown only if the plan's
    /// remaining budget covers the price it would pay for a click; the first time it does
    /// not, the plan stops for the rest of the day. Spend never exceeds the budget in
    /// `controls` (a budget lowered below the day's spend stops the plan).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a day or hour out of range or invalid controls.
    pub fn run_hour(&mut self, day: u32, hour: u8, controls: &Controls) -> Result<HourOutcome> {
        if day >= self.truth.days() {
            return Err(Error::invalid(
                "day",
                day,
                format!("must be < {}", self.truth.days()),
            ));
        }
        if hour >= 24 {
            return Err(Error::invalid("hour", hour, "must be < 24"));
        }
        controls.validate(&self.account)?;
        let np = self.account.plans().len();
        let nk = self.truth.keyword_count();
        let mut out = HourOutcome {
            day,
            hour,
            keywords: vec![Stats::default(); nk],
            auctions: vec![0; nk],
            plan_spend: vec![Money::ZERO; np],
            lost_to_budget: vec![0; np],
            exhausted: vec![false; np],
            search_terms: Vec::new(),
            creatives: Vec::new(),
        };
        for p in 0..np {
            self.run_plan_hour(p, day, hour, controls, &mut out)?;
            out.exhausted[p] = self.exhausted_on[p] == Some(day);
        }
        Ok(out)
    }

    fn run_plan_hour(
        &mut self,
        p: usize,
        day: u32,
        hour: u8,
        controls: &Controls,
        out: &mut HourOutcome,
    ) -> Result<()> {
        let account = Arc::clone(&self.account);
        let plan = &account.plans()[p];
        if plan.status != Status::Active {
            return Ok(());
        }
        let mult = plan.schedule.multiplier(hour as usize) * controls.plan_hour_multiplier[p];
        if !(mult > 0.0) {
            return Ok(());
        }
        let throttle = controls.plan_throttle[p];
        let budget = controls.plan_budget[p].micros();
        let spent = self.spend[day as usize][p];
        let exhausted = self.exhausted_on[p] == Some(day) || spent >= budget;
        let reserve = self.truth.market().reserve.micros();
        let slots = self.truth.slots();
        // Keyword k's stream is [day, hour, k]: the prefix is hashed once.
        let dh_seed = rng::stream_seed(self.seed, &[u64::from(day), u64::from(hour)]);
        // The strategy's negatives of the plan, looked up once for its query streams.
        let extra = self.negatives(p, controls);
        self.buf.clear();
        for k in self.truth.plan_keywords(p) {
            let hk = self.hot[k];
            if !controls.keyword_active[k] || !hk.active {
                continue;
            }
            let bid = controls.keyword_bid[k].micros() as f64;
            let pacing = controls.plan_hour_multiplier[p];
            let eff = if pacing > 1.0 {
                // A pacer raising bids raises none past the plan's maximum bid (the
                // platform's cap); the schedule's multiplier applies on top, as set.
                let raised = (bid * pacing).min(plan.max_bid.micros() as f64).max(bid);
                round_i64(raised * plan.schedule.multiplier(hour as usize))
            } else {
                round_i64(bid * mult)
            };
            if eff < reserve || eff <= 0 {
                continue;
            }
            if hk.queries {
                let lam_t = if self.fidelity == Fidelity::Fast {
                    throttle
                } else {
                    1.0
                };
                let seed = rng::extend_seed(dh_seed, 2, k as u64);
                self.push_query_units(p, k, eff, day, hour, seed, lam_t, &extra, exhausted, out);
                continue;
            }
            // Truth::queries_kd of a keyword without a query stream.
            let lam = self.base_queries(k, &hk, day, hour);
            if !(lam > 0.0) {
                continue;
            }
            let seed = rng::extend_seed(dh_seed, 2, k as u64);
            let mut rng = rng::from_seed(seed);
            let n = match self.fidelity {
                Fidelity::Exact => poisson(&mut rng, lam),
                Fidelity::Fast => poisson(&mut rng, lam * throttle),
            };
            if n == 0 {
                continue;
            }
            if exhausted {
                out.lost_to_budget[p] += n;
                continue;
            }
            let kd = self.truth.keyword_day(k, day);
            let mut ctr = [0.0; MAX_SLOTS];
            for (s, c) in ctr.iter_mut().enumerate().take(slots) {
                *c = self.truth.ctr_kd(k, &kd, None, s);
            }
            self.buf.push(KwHour::new(
                k,
                None,
                false,
                n,
                eff,
                seed,
                rng,
                ctr,
                self.truth.cvr_kd(k, &kd, None),
                kd.factors.competitor_bid,
                self.truth.models[k].aov * kd.factors.aov,
            ));
        }
        if self.buf.is_empty() {
            return Ok(());
        }
        // The creative served scales the keyword's CTR (and its clicks' CVR): the plan's
        // units run at the rotation's mixture, and the plan-hour's counts are split over the
        // creatives afterwards (below). A plan without creatives is untouched.
        let mix = self.creative_mix(p, controls);
        if let Some(m) = &mix {
            for w in &mut self.buf {
                for c in w.ctr.iter_mut().take(slots) {
                    *c = (*c * m.ctr).min(1.0);
                }
                w.cvr = (w.cvr * m.cvr).min(1.0);
            }
        }
        let mut remaining = budget - spent;
        match self.fidelity {
            Fidelity::Exact => self.exact_plan_hour(p, day, throttle, &mut remaining, out),
            Fidelity::Fast => self.fast_plan_hour(p, day, hour, &mut remaining, out),
        }
        let hour_spend: i64 = self.buf.iter().map(|w| w.cost).sum();
        self.spend[day as usize][p] += hour_spend;
        out.plan_spend[p] = Money::from_micros(hour_spend);
        for i in 0..self.buf.len() {
            if self.buf[i].stream {
                let m = mix.as_ref().map_or((1.0, 1.0), |m| (m.ctr, m.cvr));
                self.split_stream(i, day, &extra, m, out)?;
                continue;
            }
            let w = &self.buf[i];
            let revenue = Money::from_micros_f64(w.revenue.round())?;
            let st = Stats::new(w.imp, w.clicks, w.conv, Money::from_micros(w.cost), revenue)?;
            if w.q.is_none() {
                // A keyword without a query stream is one unit.
                out.keywords[w.k] = st;
                out.auctions[w.k] = w.entered;
            } else {
                out.keywords[w.k] = out.keywords[w.k].checked_add(&st)?;
                out.auctions[w.k] += w.entered;
            }
            if let Some(q) = w.q {
                out.search_terms.push(SearchTermHour {
                    keyword: w.k,
                    query: q - self.truth.models[w.k].queries.start,
                    auctions: w.entered,
                    stats: st,
                });
            }
        }
        if let Some(m) = &mix {
            self.split_creatives(p, day, hour, m, out)?;
        }
        Ok(())
    }

    /// Plan `p`'s rotation this hour, or `None` for a plan without creatives.
    fn creative_mix(&self, p: usize, controls: &Controls) -> Option<CreativeMix> {
        let plan = &self.account.plans()[p];
        if plan.creatives.is_empty() {
            return None;
        }
        let weights = match controls.plan_creative_weights.get(p) {
            Some(w) if !w.is_empty() => {
                let sum: f64 = w.iter().sum();
                w.iter().map(|x| x / sum).collect()
            }
            _ => even_weights(
                &plan
                    .creatives
                    .iter()
                    .map(|c| c.status == Status::Active)
                    .collect::<Vec<_>>(),
            ),
        };
        let mult = self.truth.creative_multipliers(p);
        let ctr: f64 = weights.iter().zip(mult).map(|(w, m)| w * m.0).sum();
        let cvr = if ctr > 0.0 {
            weights
                .iter()
                .zip(mult)
                .map(|(w, m)| w * m.0 * m.1)
                .sum::<f64>()
                / ctr
        } else {
            1.0
        };
        Some(CreativeMix { weights, ctr, cvr })
    }

    /// Splits plan `p`'s counts of the hour over its creatives: clicks in proportion to
    /// share x CTR multiplier, the other impressions to share x (1 - CTR), conversions one
    /// by one among the clicks not yet converted, weighted by the creative's CVR multiplier
    /// (so no creative converts more than it was clicked), cost pro rata clicks, revenue pro
    /// rata conversions. From its own stream, so the auctions' draws are unchanged; the
    /// same split in both fidelities.
    fn split_creatives(
        &self,
        p: usize,
        day: u32,
        hour: u8,
        m: &CreativeMix,
        out: &mut HourOutcome,
    ) -> Result<()> {
        let mut total = Stats::default();
        for k in self.truth.plan_keywords(p) {
            total = total.checked_add(&out.keywords[k])?;
        }
        if total.impressions() == 0 {
            return Ok(());
        }
        let mult = self.truth.creative_multipliers(p);
        let (imp, clicks, conv) = (total.impressions(), total.clicks(), total.conversions());
        // The keywords' own CTR, from the hour's rate at the mixture.
        let base = (clicks as f64 / imp as f64 / m.ctr).clamp(0.0, 1.0);
        let w_click: Vec<f64> = m.weights.iter().zip(mult).map(|(w, x)| w * x.0).collect();
        let w_other: Vec<f64> = m
            .weights
            .iter()
            .zip(mult)
            .map(|(w, x)| w * (1.0 - base * x.0).max(0.0))
            .collect();
        let mut rng = rng::stream(self.seed, &[u64::from(day), 25, p as u64, u64::from(hour)]);
        let c_clicks = multinomial(&mut rng, clicks, &w_click);
        let c_other = multinomial(&mut rng, imp - clicks, &w_other);
        let mut c_conv = vec![0u64; c_clicks.len()];
        for _ in 0..conv {
            let open: Vec<f64> = c_clicks
                .iter()
                .zip(&c_conv)
                .zip(mult)
                .map(|((&c, &v), x)| (c - v) as f64 * x.1)
                .collect();
            let sum: f64 = open.iter().sum();
            if !(sum > 0.0) {
                break;
            }
            let mut u = unit(rng.next_u64()) * sum;
            let mut pick = open.iter().rposition(|&o| o > 0.0).unwrap_or(0);
            for (j, &o) in open.iter().enumerate() {
                if o > 0.0 && u < o {
                    pick = j;
                    break;
                }
                u -= o;
            }
            c_conv[pick] += 1;
        }
        let c_cost = pro_rata(total.cost().micros(), &c_clicks);
        let c_rev = pro_rata(total.revenue().micros(), &c_conv);
        for j in 0..c_clicks.len() {
            let im = c_clicks[j] + c_other[j];
            if im == 0 {
                continue;
            }
            out.creatives.push(CreativeHour {
                plan: p,
                creative: j,
                stats: Stats::new(
                    im,
                    c_clicks[j],
                    c_conv[j],
                    Money::from_micros(c_cost[j]),
                    Money::from_micros(c_rev[j]),
                )?,
            });
        }
        Ok(())
    }

    /// [`Truth::base_queries_kd`] from the keyword's packed fields: the same value, the
    /// same operations in the same order, without reading its model.
    #[inline]
    fn base_queries(&self, k: usize, hk: &KwHot, day: u32, hour: u8) -> f64 {
        if !(hk.live.0 <= day && day < hk.live.1) {
            return 0.0;
        }
        let f = self.truth.group_factors(hk.group, day);
        let dv = if hk.drift {
            self.truth.drift(k, day).0
        } else {
            1.0
        };
        hk.volume * self.truth.hour_share(hour) * f.traffic * dv
    }

    /// Keyword `k`'s query stream this hour: the auctions of its open queries (not blocked
    /// by the plan's negatives or the strategy's), split from one Poisson draw, one unit per
    /// query with its own rates and random stream.
    #[allow(clippy::too_many_arguments)]
    fn push_query_units(
        &mut self,
        p: usize,
        k: usize,
        eff: i64,
        day: u32,
        hour: u8,
        seed: u64,
        throttle: f64,
        extra: &Negatives,
        exhausted: bool,
        out: &mut HourOutcome,
    ) {
        self.ensure_open(k, extra);
        let hk = self.hot[k];
        let base = self.base_queries(k, &hk, day, hour);
        let Market {
            truth,
            open_cache,
            open_q,
            buf,
            fidelity,
            ..
        } = self;
        let Some(oq) = open_cache[k].as_ref() else {
            return;
        };
        let start = hk.q_start;
        let (open, open_share) = (&open_q[start..start + oq.len], oq.share);
        let lam = base * open_share * throttle;
        if !(lam > 0.0) {
            return;
        }
        let mut rng = rng::from_seed(seed);
        let n = poisson(&mut rng, lam);
        if n == 0 {
            return;
        }
        if exhausted {
            out.lost_to_budget[p] += n;
            return;
        }
        let kd = truth.keyword_day(k, day);
        let slots = truth.slots();
        if *fidelity == Fidelity::Fast && n > 2 * open.len() as u64 {
            // One unit for the open stream: the mix's CTR per slot and CVR (so impressions,
            // clicks and cost are drawn once, as for a keyword without queries), split over
            // the queries after the budget is applied. Worth it only when the count is large
            // against the number of queries: a sparse hour splits into a few query units.
            let mut ctr = [0.0; MAX_SLOTS];
            let (mut w_click, mut w_conv) = (0.0, 0.0);
            for q in open {
                let w = q.share / open_share;
                for (s, c) in ctr.iter_mut().enumerate().take(slots) {
                    *c += w * truth.ctr_kd(k, &kd, Some(q.ctr_scale), s);
                }
                let c0 = truth.ctr_kd(k, &kd, Some(q.ctr_scale), 0);
                w_click += w * c0;
                w_conv += w * c0 * truth.cvr_kd(k, &kd, Some(q.cvr_scale));
            }
            buf.push(KwHour::new(
                k,
                None,
                true,
                n,
                eff,
                seed,
                rng,
                ctr,
                if w_click > 0.0 { w_conv / w_click } else { 0.0 },
                kd.factors.competitor_bid,
                truth.models[k].aov * kd.factors.aov,
            ));
            return;
        }
        let (mut left, mut share_left) = (n, open_share);
        for (i, q) in open.iter().enumerate() {
            if left == 0 {
                break;
            }
            let nq = if i + 1 == open.len() {
                left
            } else {
                binomial(&mut rng, left, (q.share / share_left).clamp(0.0, 1.0))
            };
            left -= nq;
            share_left -= q.share;
            if nq == 0 {
                continue;
            }
            let mut ctr = [0.0; MAX_SLOTS];
            for (s, c) in ctr.iter_mut().enumerate().take(slots) {
                *c = truth.ctr_kd(k, &kd, Some(q.ctr_scale), s);
            }
            let local = (q.qi - start) as u64;
            buf.push(KwHour::new(
                k,
                Some(q.qi),
                false,
                nq,
                eff,
                seed,
                rng::from_seed(rng::extend_seed(seed, 3, 2 + local)),
                ctr,
                truth.cvr_kd(k, &kd, Some(q.cvr_scale)),
                kd.factors.competitor_bid,
                truth.models[k].aov * kd.factors.aov,
            ));
        }
    }

    /// Caches keyword `k`'s open queries (truth index, share of the stream) and their total
    /// share: those neither the plan's own negatives nor the strategy's `extra` block (kept
    /// while the strategy's negatives of the plan are unchanged).
    fn ensure_open(&mut self, k: usize, extra: &Negatives) {
        if let Some(c) = &self.open_cache[k]
            && Arc::ptr_eq(&c.negatives, extra)
        {
            return;
        }
        let truth = &self.truth;
        let range = truth.models[k].queries.clone();
        let mut len = 0;
        for qi in range.clone() {
            let q = &truth.query_models[qi];
            if !q.blocked && !extra.iter().any(|(n, m)| matches_tokens(n, *m, &q.tokens)) {
                self.open_q[range.start + len] = OpenQuery {
                    qi,
                    share: q.share,
                    ctr_scale: q.ctr_scale,
                    cvr_scale: q.cvr_scale,
                };
                len += 1;
            }
        }
        let share: f64 = self.open_q[range.start..range.start + len]
            .iter()
            .map(|o| o.share)
            .sum();
        self.open_cache[k] = Some(OpenQueries {
            negatives: Arc::clone(extra),
            len,
            share,
        });
    }

    /// Splits a fast-fidelity stream unit's counts over the keyword's open queries: clicks
    /// in proportion to each query's share of clicks (share x CTR), the other impressions
    /// and the auctions without one in proportion to the share of non-clicks and of volume,
    /// cost pro rata clicks (to the micro, the total kept exactly); then each query's
    /// conversions from its clicks and its own CVR, and their order values. Auctions,
    /// impressions, clicks and cost are the unit's (as drawn under the budget); conversions
    /// and revenue are the queries' sums. Adds each query with an auction to `out` (its
    /// keyword's counters and the search terms).
    fn split_stream(
        &mut self,
        i: usize,
        day: u32,
        extra: &Negatives,
        mix: (f64, f64),
        out: &mut HourOutcome,
    ) -> Result<()> {
        let (k, n_ent, imp, clicks, cost, seed, aov) = {
            let w = &self.buf[i];
            (w.k, w.entered, w.imp, w.clicks, w.cost, w.seed, w.aov)
        };
        self.ensure_open(k, extra);
        let Market {
            truth,
            open_cache,
            open_q,
            split,
            ..
        } = self;
        let Some(oq) = open_cache[k].as_ref() else {
            return Ok(());
        };
        let start = truth.models[k].queries.start;
        let open = &open_q[start..start + oq.len];
        let kd = truth.keyword_day(k, day);
        let nq = open.len();
        split.weights.clear();
        split.weights.resize(4 * nq, 0.0);
        let (w_click, rest) = split.weights.split_at_mut(nq);
        let (w_other, rest) = rest.split_at_mut(nq);
        let (w_conv, w_vol) = rest.split_at_mut(nq);
        for (j, q) in open.iter().enumerate() {
            // The creatives' mixture scales every query alike (1, 1 without creatives).
            let c0 = (truth.ctr_kd(k, &kd, Some(q.ctr_scale), 0) * mix.0).min(1.0);
            w_click[j] = q.share * c0;
            w_other[j] = q.share * (1.0 - c0);
            w_conv[j] = (truth.cvr_kd(k, &kd, Some(q.cvr_scale)) * mix.1).min(1.0);
            w_vol[j] = q.share;
        }
        let mut rng = rng::from_seed(rng::extend_seed(seed, 3, 3));
        split.counts.clear();
        split.counts.resize(4 * nq, 0);
        let (q_clicks, rest) = split.counts.split_at_mut(nq);
        let (q_other, rest) = rest.split_at_mut(nq);
        let (q_none, q_conv) = rest.split_at_mut(nq);
        multinomial_into(&mut rng, clicks, w_click, q_clicks);
        multinomial_into(&mut rng, imp - clicks, w_other, q_other);
        multinomial_into(&mut rng, n_ent.saturating_sub(imp), w_vol, q_none);
        // Conversions per query from its own clicks and CVR (the unit's mixed draw is
        // replaced: which query a click came from decides whether it converts), order values
        // from the query's conversions.
        let sigma = truth.models[k].aov_sigma;
        for ((c, &n), &p) in q_conv.iter_mut().zip(q_clicks.iter()).zip(w_conv.iter()) {
            *c = binomial(&mut rng, n, p);
        }
        split.micros.clear();
        split.micros.resize(2 * nq, 0);
        let (q_rev, q_cost) = split.micros.split_at_mut(nq);
        for (r, &c) in q_rev.iter_mut().zip(q_conv.iter()) {
            if c > 0 {
                *r = order_values(&mut rng, c, aov, sigma).round() as i64;
            }
        }
        pro_rata_into(cost, q_clicks, q_cost);
        for (j, &OpenQuery { qi, .. }) in open.iter().enumerate() {
            let im = q_clicks[j] + q_other[j];
            let entered = im + q_none[j];
            if entered == 0 {
                continue;
            }
            let st = Stats::new(
                im,
                q_clicks[j],
                q_conv[j],
                Money::from_micros(q_cost[j]),
                Money::from_micros(q_rev[j]),
            )?;
            out.keywords[k] = out.keywords[k].checked_add(&st)?;
            out.auctions[k] += entered;
            out.search_terms.push(SearchTermHour {
                keyword: k,
                query: qi - start,
                auctions: entered,
                stats: st,
            });
        }
        Ok(())
    }

    /// The strategy's extra negatives of plan `p`, tokenised (cached while unchanged).
    fn negatives(&mut self, p: usize, controls: &Controls) -> Arc<Vec<(Vec<String>, MatchType)>> {
        let given = controls.plan_negatives.get(p).map_or(&[][..], |v| &v[..]);
        if self.neg_cache.len() != self.account.plans().len() {
            self.neg_cache = vec![(Vec::new(), Arc::new(Vec::new())); self.account.plans().len()];
        }
        let c = &mut self.neg_cache[p];
        if c.0 != given {
            c.0 = given.to_vec();
            c.1 = Arc::new(
                given
                    .iter()
                    .map(|n| (tokenize(&n.text), n.match_type))
                    .collect(),
            );
        }
        Arc::clone(&c.1)
    }

    fn exact_plan_hour(
        &mut self,
        p: usize,
        day: u32,
        throttle: f64,
        remaining: &mut i64,
        out: &mut HourOutcome,
    ) {
        let truth = &self.truth;
        let spec = truth.market();
        let reserve = spec.reserve.micros();
        let inc = spec.increment.micros();
        let slots = truth.slots();
        let worst: i128 = self
            .buf
            .iter()
            .map(|w| i128::from(w.n) * i128::from(w.eff))
            .sum();
        let binding = worst > i128::from(*remaining);
        // When the budget may run out this hour, the keywords' queries are interleaved in
        // time (evenly spaced within the hour) so no keyword is served first by construction.
        self.order.clear();
        if binding {
            for (i, w) in self.buf.iter().enumerate() {
                for a in 0..w.n {
                    self.order.push(((a as f64 + 0.5) / w.n as f64, i));
                }
            }
            self.order
                .sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        let mut stop = false;
        let mut served_upto = vec![0u64; if binding { self.buf.len() } else { 0 }];
        let run_one = |w: &mut KwHour, remaining: &mut i64| -> bool {
            let m = &truth.models[w.k];
            let l = &m.landscape;
            let t_bits = w.rng.next_u64();
            let q = m.quality;
            let f = w.f;
            let score = w.eff as f64 * q / f;
            let floor = reserve as f64 * l.quality / f;
            let rng = &mut w.rng;
            let res = our_auction(
                l.count,
                score,
                floor,
                || l.draw(rng.next_u64()),
                slots,
                |next| gsp_price(w.eff, q, next.map(|x| x * f), reserve, inc),
            );
            let u_click = unit(w.rng.next_u64());
            let u_conv = unit(w.rng.next_u64());
            if throttle < 1.0 && unit(t_bits) >= throttle {
                return true;
            }
            w.entered += 1;
            let Some((slot, price)) = res else {
                return true;
            };
            if price > *remaining {
                return false;
            }
            w.imp += 1;
            if u_click < w.ctr[slot] {
                w.clicks += 1;
                w.cost += price;
                *remaining -= price;
                if u_conv < w.cvr {
                    w.conv += 1;
                }
            }
            true
        };
        if binding {
            for &(_, i) in &self.order {
                let w = &mut self.buf[i];
                served_upto[i] += 1;
                if !run_one(w, remaining) {
                    stop = true;
                    break;
                }
            }
        } else {
            for w in &mut self.buf {
                for _ in 0..w.n {
                    run_one(w, remaining);
                }
            }
        }
        // Order values: drawn per keyword from their own stream after the auctions, so the
        // auction draws stay aligned across strategies.
        for w in &mut self.buf {
            if w.conv > 0 {
                // [day, hour, k, 1], and [day, hour, k, 1, q] for a query unit.
                let s1 = rng::extend_seed(w.seed, 3, 1);
                let mut vr = match w.q {
                    None => rng::from_seed(s1),
                    Some(q) => rng::from_seed(rng::extend_seed(s1, 4, q as u64)),
                };
                let m = &self.truth.models[w.k];
                w.revenue = order_values(&mut vr, w.conv, w.aov, m.aov_sigma);
            }
        }
        if stop {
            self.exhausted_on[p] = Some(day);
            // Auctions after the stop are lost to the budget.
            let total: u64 = self.buf.iter().map(|w| w.n).sum();
            let done: u64 = served_upto.iter().sum();
            out.lost_to_budget[p] += total - done + 1;
        }
    }

    fn fast_plan_hour(
        &mut self,
        p: usize,
        day: u32,
        _hour: u8,
        remaining: &mut i64,
        out: &mut HourOutcome,
    ) {
        let slots = self.truth.slots();
        for w in &mut self.buf {
            // The curve depends on the day only through the keyword's rival factor.
            let fbits = w.f.to_bits();
            let curve = match self.curve_cache[w.k] {
                Some((b, f, c)) if b == w.eff && f == fbits => c,
                _ => {
                    let c = self.truth.curve_with(w.k, w.eff, w.f);
                    self.curve_cache[w.k] = Some((w.eff, fbits, c));
                    c
                }
            };
            w.entered = w.n;
            let mut left = w.n;
            let mut p_left = 1.0;
            let mut cost = 0.0;
            for s in 0..slots {
                if left == 0 {
                    break;
                }
                let ps = curve.slot_prob[s];
                let i_s = binomial(&mut w.rng, left, (ps / p_left).clamp(0.0, 1.0));
                left -= i_s;
                p_left -= ps;
                if !(p_left > 0.0) {
                    p_left = 0.0;
                }
                let c_s = binomial(&mut w.rng, i_s, w.ctr[s]);
                w.imp += i_s;
                w.clicks += c_s;
                cost += c_s as f64 * curve.price[s];
            }
            w.cost = round_i64(cost);
            if w.stream {
                // Conversions are drawn per query after the split (`split_stream`).
                continue;
            }
            w.conv = binomial(&mut w.rng, w.clicks, w.cvr);
            if w.conv > 0 {
                let m = &self.truth.models[w.k];
                w.revenue = order_values(&mut w.rng, w.conv, w.aov, m.aov_sigma);
            }
        }
        let total: i64 = self.buf.iter().map(|w| w.cost).sum();
        if total <= *remaining {
            *remaining -= total;
            return;
        }
        // The budget runs out within this hour: keep the fraction of the hour it pays for
        // (thinning each keyword's counts), then trim clicks until the cap holds exactly.
        self.exhausted_on[p] = Some(day);
        let frac = (*remaining).max(0) as f64 / total as f64;
        let mut thin_rng = rng::stream(self.seed, &[u64::from(day), 24, p as u64]);
        let mut kept_cost = 0i64;
        for w in &mut self.buf {
            let c2 = binomial(&mut thin_rng, w.clicks, frac);
            let i2 = c2 + binomial(&mut thin_rng, w.imp - w.clicks, frac);
            let conv2 = if w.clicks > 0 {
                binomial(&mut thin_rng, w.conv, c2 as f64 / w.clicks as f64).min(c2)
            } else {
                0
            };
            let cost2 = if w.clicks > 0 {
                (w.cost as f64 * c2 as f64 / w.clicks as f64).floor() as i64
            } else {
                0
            };
            let rev2 = if w.conv > 0 {
                w.revenue * conv2 as f64 / w.conv as f64
            } else {
                0.0
            };
            let n2 = ((w.n as f64 * frac).round() as u64).max(i2).min(w.n);
            out.lost_to_budget[p] += w.n - n2;
            w.entered = n2;
            w.imp = i2;
            w.clicks = c2;
            w.conv = conv2;
            w.cost = cost2;
            w.revenue = rev2;
            kept_cost += cost2;
        }
        // Trim: drop one click at a time from the costliest keyword until within budget.
        while kept_cost > *remaining {
            let Some(w) = self
                .buf
                .iter_mut()
                .filter(|w| w.clicks > 0)
                .max_by_key(|w| w.cost)
            else {
                break;
            };
            let per = (w.cost as f64 / w.clicks as f64).ceil() as i64;
            let per = per.min(w.cost);
            w.cost -= per;
            kept_cost -= per;
            w.clicks -= 1;
            w.imp -= 1;
            if w.conv > w.clicks {
                let per_rev = w.revenue / w.conv as f64;
                w.conv -= 1;
                w.revenue -= per_rev;
            }
        }
        *remaining -= kept_cost;
    }
}

/// How [`outcomes_to_report`] groups rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// One row per keyword per hour.
    Hourly,
    /// One row per keyword per day (hours summed).
    Daily,
}

/// Turns a day's hour outcomes into a [`Report`]: one row per keyword with impressions, per
/// hour or per day. Keywords without impressions get no row.
///
/// # Errors
/// [`Error::Overflow`] if sums overflow; [`Error::DuplicateId`]-style errors from
/// [`Report::new`] if the same hour is given twice at hourly granularity.
pub fn outcomes_to_report(
    account: &Account,
    date: Date,
    outcomes: &[HourOutcome],
    granularity: Granularity,
) -> Result<Report> {
    let mut rows = Vec::new();
    let mut kw = Vec::with_capacity(account.keyword_count());
    for p in account.plans() {
        for k in &p.keywords {
            kw.push((p.id.clone(), k.id.clone()));
        }
    }
    for o in outcomes {
        for (i, s) in o.keywords.iter().enumerate() {
            if s.impressions() == 0 {
                continue;
            }
            let Some((pid, kid)) = kw.get(i) else {
                return Err(Error::invalid(
                    "outcomes.keywords",
                    format!("{} entries", o.keywords.len()),
                    format!("must have {}", kw.len()),
                ));
            };
            rows.push(ReportRow {
                date,
                hour: match granularity {
                    Granularity::Hourly => Some(o.hour),
                    Granularity::Daily => None,
                },
                days: 1,
                plan: pid.clone(),
                keyword: Some(kid.clone()),
                stats: *s,
            });
        }
    }
    let report = match granularity {
        Granularity::Hourly => Report::new(rows)?,
        Granularity::Daily => Report::from_rows_summed(rows)?,
    };
    // Ad-level rows, one per creative and day (an ad report has no hours).
    let plans = account.plans();
    let mut creative_rows = Vec::new();
    for o in outcomes {
        for c in &o.creatives {
            let Some(cr) = plans.get(c.plan).and_then(|p| p.creatives.get(c.creative)) else {
                return Err(Error::invalid(
                    "outcomes.creatives",
                    format!("plan {} creative {}", c.plan, c.creative),
                    "not in the account",
                ));
            };
            creative_rows.push(CreativeRow {
                date,
                plan: plans[c.plan].id.clone(),
                creative: cr.id.clone(),
                stats: c.stats,
            });
        }
    }
    report.with_creatives(creative_rows)
}

/// One row of a search-term report: what one query of a keyword bought over a day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchTermRow {
    /// The day.
    pub date: Date,
    /// The keyword's plan.
    pub plan: crate::model::PlanId,
    /// The keyword that matched the query.
    pub keyword: crate::model::KeywordId,
    /// The keyword's match type.
    pub match_type: MatchType,
    /// The search query.
    pub query: String,
    /// Auctions entered for the query.
    pub auctions: u64,
    /// Impressions, clicks, conversions, cost and revenue of the query.
    pub stats: Stats,
}

/// The search-term report of a day: one row per keyword and query that entered an auction,
/// hours summed, in account order (keywords without a query stream have no rows: their
/// keyword row is the report).
///
/// # Errors
/// [`Error::InvalidValue`] if an outcome names a keyword or query the truth does not have;
/// [`Error::Overflow`] if sums overflow.
pub fn search_terms(
    account: &Account,
    truth: &Truth,
    date: Date,
    outcomes: &[HourOutcome],
) -> Result<Vec<SearchTermRow>> {
    if account.keyword_count() != truth.keyword_count()
        || account.plans().len() != truth.plan_count()
    {
        return Err(Error::invalid(
            "account",
            format!("{} keywords", account.keyword_count()),
            format!("the truth has {}", truth.keyword_count()),
        ));
    }
    let mut sums: std::collections::BTreeMap<(usize, usize), (u64, Stats)> =
        std::collections::BTreeMap::new();
    for o in outcomes {
        for t in &o.search_terms {
            if t.keyword >= truth.keyword_count()
                || t.query >= truth.keyword_queries(t.keyword).len()
            {
                return Err(Error::invalid(
                    "outcomes.search_terms",
                    format!("keyword {} query {}", t.keyword, t.query),
                    "not in the scenario's truth",
                ));
            }
            let e = sums.entry((t.keyword, t.query)).or_default();
            e.0 += t.auctions;
            e.1 = e.1.checked_add(&t.stats)?;
        }
    }
    let mut rows = Vec::with_capacity(sums.len());
    for ((k, q), (auctions, stats)) in sums {
        let p = &account.plans()[truth.keyword_plan(k)];
        let kw = &p.keywords[k - truth.plan_keywords(truth.keyword_plan(k)).start];
        rows.push(SearchTermRow {
            date,
            plan: p.id.clone(),
            keyword: kw.id.clone(),
            match_type: kw.match_type,
            query: truth.keyword_queries(k)[q].text.clone(),
            auctions,
            stats,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inversion without the shortcut for zero (the sampler as it was).
    fn poisson_by_inversion(rng: &mut SimRng, lam: f64) -> u64 {
        let u = unit(rng.next_u64());
        let mut p = (-lam).exp();
        let mut k = 0u64;
        let mut cdf = p;
        while u > cdf && k < 200 {
            k += 1;
            p *= lam / k as f64;
            cdf += p;
        }
        k
    }

    #[test]
    fn poisson_shortcut_for_zero_draws_what_the_inversion_draws() {
        let mut lams: Vec<f64> = (1..=2000).map(|i| f64::from(i) * 5e-4).collect();
        lams.extend([1e-300, 1e-12, 1e-6, 0.999_999_999, 1.0, 1.5, 11.9]);
        for (i, &lam) in lams.iter().enumerate() {
            for s in 0..200u64 {
                let mut a = rng::stream(9, &[i as u64, s]);
                let mut b = a.clone();
                assert_eq!(
                    poisson(&mut a, lam),
                    poisson_by_inversion(&mut b, lam),
                    "lam {lam}"
                );
                assert_eq!(a.next_u64(), b.next_u64());
            }
        }
        // The shortcut answers 0 only below its bound, which stays under the computed
        // exponential everywhere it applies.
        for i in 1..100_000 {
            let lam = f64::from(i) * 1e-5;
            let bound = 1.0 - lam * (1.0 - lam * (0.5 - lam / 6.0)) - 1e-12;
            assert!(bound < (-lam).exp(), "lam {lam}");
        }
    }

    #[test]
    fn round_i64_rounds_as_the_library_does() {
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.499_999_999_999_999_94,
            -0.499_999_999_999_999_94,
            4_503_599_627_370_495.5,
            -4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9.3e18,
            -9.3e18,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::EPSILON,
            1e-300,
        ];
        let mut r = rng::stream(3, &[]);
        for _ in 0..100_000 {
            let x = unit(r.next_u64());
            xs.push(x * 1e7);
            xs.push(-x * 3e6);
            xs.push((x * 64.0).floor() / 2.0);
        }
        for x in xs {
            assert_eq!(round_i64(x), x.round() as i64, "{x}");
        }
    }
}

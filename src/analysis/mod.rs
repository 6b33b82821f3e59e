//! Effect analysis of an account's own report: what each plan and keyword achieved, how sure
//! we can be, and what the engine would do tomorrow.
//!
//! For every plan and keyword: impressions, clicks, cost, conversions and revenue as reported,
//! and CTR, CVR, order value, CPC, CPA and ROI (revenue / cost) as posterior medians or means
//! with credible intervals from the crate's hierarchical posteriors ([`AccountEstimates`]:
//! keyword ← plan ← account, so a keyword with 3 clicks borrows from its plan and shows a wide
//! interval, never a 0% or 100% CVR). CPC uses the same Gamma–Gamma shrinkage as order value
//! (clicks and cost in place of orders and revenue); ROI = CVR x AOV / CPC and CPA = CPC / CVR
//! are Monte-Carlo draws from the three independent posteriors (seeded, reproducible).
//!
//! Then the engine is built from the account, observes the report and decides the day after
//! the report's last date: its budgets, bids, pauses and flags, each with its reason.
//!
//! Output: [`Analysis::table`] (terminal), [`Analysis::write_csv`], JSON (serde),
//! [`Analysis::svg`] (ROI against spend with interval bars, see [`svg`]).
//!
//! ```no_run
//! use adbandit::analysis::{AnalysisOptions, Level, analyze};
//! use adbandit::ingest::{self, Options};
//! let got = ingest::read_path("keywords.csv", &Options::default())?;
//! let a = analyze(&got, &AnalysisOptions::default())?;
//! println!("{}", a.table(20));
//! std::fs::write("roi.svg", a.svg(Level::Plan))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "plots")]
pub mod svg;

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::engine::{Decision, Engine, EngineConfig, Reason, ReasonCode};
use crate::error::{Error, Result};
use crate::estimate::evidence::Counts;
use crate::estimate::shrinkage::fit_order_value_prior;
use crate::estimate::{AccountEstimates, ArmEstimate, OrderValuePosterior, OrderValuePrior};
use crate::ingest::{AccountDefaults, Ingested};
use crate::model::{
    Account, Date, Keyword, KeywordId, Objective, PlanId, Report, ReportRow, Stats,
};
use crate::money::Money;
use crate::rng::stream;

/// A point estimate with an equal-tailed credible interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Posterior mean (CTR, CVR, AOV, CPC) or median (ROI, CPA).
    pub value: f64,
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
}

impl Estimate {
    /// `hi - lo`.
    pub fn width(&self) -> f64 {
        self.hi - self.lo
    }

    /// Whether `x` lies in `[lo, hi]`.
    pub fn contains(&self, x: f64) -> bool {
        x >= self.lo && x <= self.hi
    }
}

/// Plan or keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The whole account.
    Account,
    /// A plan (campaign).
    Plan,
    /// A keyword.
    Keyword,
    /// A channel: every plan buying traffic in it.
    Channel,
}

/// Rates as reported (plain ratios; `None` where the denominator is zero).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Observed {
    /// clicks / impressions.
    pub ctr: Option<f64>,
    /// conversions / clicks.
    pub cvr: Option<f64>,
    /// cost / clicks.
    pub cpc: Option<f64>,
    /// cost / conversions.
    pub cpa: Option<f64>,
    /// revenue / cost.
    pub roi: Option<f64>,
}

/// One line of the analysis: an account, plan or keyword.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Account, plan or keyword.
    pub level: Level,
    /// The plan (the account's name for the account row).
    pub plan: PlanId,
    /// The keyword, for keyword rows.
    pub keyword: Option<KeywordId>,
    /// Display name: plan name or keyword text.
    pub name: String,
    /// Reported impressions.
    pub impressions: u64,
    /// Reported clicks.
    pub clicks: u64,
    /// Reported conversions.
    pub conversions: u64,
    /// Reported cost, currency units.
    pub cost: f64,
    /// Reported revenue, currency units.
    pub revenue: f64,
    /// The plain ratios of the reported numbers.
    pub observed: Observed,
    /// Click-through rate.
    pub ctr: Estimate,
    /// Conversion rate; `None` when the report has no conversions.
    pub cvr: Option<Estimate>,
    /// Mean order value; `None` when the report has no revenue.
    pub aov: Option<Estimate>,
    /// Cost per click.
    pub cpc: Estimate,
    /// Cost per conversion; `None` when the report has no conversions.
    pub cpa: Option<Estimate>,
    /// Revenue / cost; `None` when the report has no revenue (unknown, not 0).
    pub roi: Option<Estimate>,
    /// Posterior probability that the row misses the objective's target (ROI below the
    /// target or break-even, CPA above the target CPA); `None` without a target.
    pub p_miss_target: Option<f64>,
    /// 1-based rank among rows of its level by the objective's measure ([`Analysis::ranked_by`]).
    pub rank: usize,
}

/// One channel's contribution: its plans' figures pooled (a [`Row`] of level
/// [`Level::Channel`] whose `plan` and `name` are the channel's name), and what the next unit
/// of budget would earn there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelRow {
    /// The pooled figures and estimates, ranked among channels.
    #[serde(flatten)]
    pub row: Row,
    /// The channel's plans, in account order.
    pub channel_plans: Vec<PlanId>,
    /// Share of the account's cost spent in the channel, in [0, 1].
    pub share_of_cost: f64,
    /// What the next unit of money earns in the channel at its current spend (its plans'
    /// average daily cost over the report), in the objective's value (revenue for revenue
    /// objectives, i.e. the marginal ROI; conversions; clicks): median and credible
    /// interval over posterior draws of the budget response curves, each draw taking the
    /// best of the channel's active plans (where the next unit would go). `None` without an
    /// active plan or dated rows.
    pub marginal_value: Option<Estimate>,
}

/// Settings of [`analyze`].
#[derive(Debug, Clone)]
pub struct AnalysisOptions {
    /// Credible level, in (0, 1) (default 0.95).
    pub level: f64,
    /// Monte-Carlo draws per row for ROI and CPA (>= 100; default 2000).
    pub draws: usize,
    /// Seed of the draws and of the engine.
    pub seed: u64,
    /// The engine's settings (its shrinkage settings are used for the posteriors too).
    pub engine: EngineConfig,
    /// Whether to run the engine for tomorrow's recommendation.
    pub recommend: bool,
    /// The objective to analyse and recommend for; `None` fits it to the data (revenue:
    /// maximise revenue; conversions without revenue: maximise conversions; neither:
    /// maximise clicks). An objective that needs a column the report lacks is an error.
    pub objective: Option<Objective>,
    /// The currency, when the file does not say (or to override it); never assumed.
    pub currency: Option<String>,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            level: 0.95,
            draws: 2000,
            seed: 42,
            engine: EngineConfig::default(),
            recommend: true,
            objective: None,
            currency: None,
        }
    }
}

/// The full analysis; serialises to the JSON output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// The file analysed.
    pub file: String,
    /// The objective the analysis ranks by and the engine recommends for.
    pub objective: Objective,
    /// One line saying which objective and why (from the data or the options); first in
    /// every output.
    pub objective_note: String,
    /// Currency of money columns (`XXX`, ISO 4217's "no currency", when neither the file
    /// nor the options say; the outputs then say so).
    pub currency: String,
    /// First and last date of the report.
    pub period: Option<(Date, Date)>,
    /// Credible level of the intervals.
    pub level: f64,
    /// The whole account.
    pub account: Row,
    /// Per plan, in account order.
    pub plans: Vec<Row>,
    /// Per keyword, in account order.
    pub keywords: Vec<Row>,
    /// Per channel, in order of first appearance in the account (one row for an account
    /// whose plans name no channel).
    #[serde(default)]
    pub channels: Vec<ChannelRow>,
    /// Indexes into `plans`, best first by [`Analysis::ranked_by`].
    pub plan_ranking: Vec<usize>,
    /// Indexes into `keywords`, best first.
    pub keyword_ranking: Vec<usize>,
    /// The engine's decision for the day after the report (budgets, bids, pauses, flags).
    pub recommendation: Option<Decision>,
    /// What was assumed or left out (missing budgets or bids, unknown keywords...).
    pub notes: Vec<String>,
}

/// The account and report an analysis or a twin works on, built from an ingested file.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The account, with budgets and bids from the file or inferred (see `notes`).
    pub account: Account,
    /// The report in one-day rows (period rows spread over their days, see
    /// [`Report::split_days`]), rows of keywords not in the account moved to plan level.
    pub report: Report,
    /// Plans whose budget came from the file.
    pub budget_known: Vec<bool>,
    /// What was assumed.
    pub notes: Vec<String>,
}

/// What the objective counts, which decides the measures shown and the ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Clicks,
    Conversions,
    Revenue,
}

fn kind(o: Objective) -> Kind {
    match o {
        Objective::MaxClicks => Kind::Clicks,
        Objective::MaxConversions | Objective::TargetCpa { .. } => Kind::Conversions,
        Objective::MaxRevenue | Objective::TargetRoi { .. } => Kind::Revenue,
    }
}

/// The objective for a report with (or without) conversions and revenue, and the line that
/// says so.
///
/// # Errors
/// [`Error::InvalidParameter`] for an objective that needs a column the report lacks.
pub fn fit_objective(
    has_conversions: bool,
    has_revenue: bool,
    wanted: Option<Objective>,
) -> Result<(Objective, String)> {
    let data = match (has_conversions, has_revenue) {
        (_, true) => "the report has revenue",
        (true, false) => {
            "the report has conversions but no revenue column, so ROI is unknown (not 0) and nothing is ranked or raised on it"
        }
        (false, false) => {
            "the report has neither conversions nor revenue, so only clicks can be judged"
        }
    };
    let o = match wanted {
        Some(o) => {
            let k = kind(o);
            if (k == Kind::Revenue && !has_revenue) || (k == Kind::Conversions && !has_conversions)
            {
                return Err(Error::parameter(
                    "objective",
                    format!("{o:?}"),
                    format!("needs a column the report lacks: {data}"),
                ));
            }
            o
        }
        None if has_revenue => Objective::MaxRevenue,
        None if has_conversions => Objective::MaxConversions,
        None => Objective::MaxClicks,
    };
    let what = match o {
        Objective::MaxClicks => "maximise clicks; ranked by CPC".to_string(),
        Objective::MaxConversions => "maximise conversions; ranked by CPA".to_string(),
        Objective::TargetCpa { cpa } => format!("target CPA {cpa}; ranked by CPA"),
        Objective::MaxRevenue => "maximise revenue; ranked by ROI (revenue / cost)".to_string(),
        Objective::TargetRoi { roi } => format!("target ROI {roi}; ranked by ROI (revenue / cost)"),
    };
    let whence = if wanted.is_some() {
        "as asked"
    } else {
        "fitted to the data"
    };
    Ok((o, format!("Objective: {what} ({whence}: {data})")))
}

/// Digits after the point of a currency's minor unit ([`crate::money::minor_digits`]).
pub fn minor_digits(currency: &str) -> usize {
    crate::money::minor_digits(currency) as usize
}

/// `units` rounded to the currency's minor unit, for text and CSV.
pub fn format_money(units: f64, currency: &str) -> String {
    format!("{units:.*}", minor_digits(currency))
}

fn money(units: f64, what: &str) -> Result<Money> {
    let m = Money::from_units_f64(units)
        .map_err(|_| Error::invalid(what, units, "cannot be expressed as money"))?;
    Ok(ceil_cent(m))
}

/// Rounded up to a whole cent in integer micros (a float round trip gave `700.000001`).
fn ceil_cent(m: Money) -> Money {
    const CENT: i64 = 10_000;
    let x = m.micros();
    Money::from_micros(x.div_euclid(CENT) * CENT + if x.rem_euclid(CENT) > 0 { CENT } else { 0 })
}

/// The currency code used when neither the file nor the options name one (ISO 4217 "no
/// currency"), so no figure is shown in a currency nobody stated.
pub const NO_CURRENCY: &str = "XXX";

/// Builds the account and report from an ingested file.
///
/// A plan without a budget column gets its highest daily spend in the report (rounded up to
/// a cent) as its budget; a keyword without a bid gets 1.25 x its observed CPC (else its
/// plan's, else the account's, else 1 unit). Plans allow bids from 0.01 to 3 x the highest
/// bid. Rows of keywords the account leaves out (no words, e.g. `*`) count at plan level.
///
/// # Errors
/// [`Error::InvalidValue`] for an empty report; errors of [`Ingested::to_account`].
pub fn prepare(ing: &Ingested) -> Result<Prepared> {
    if ing.report.is_empty() {
        return Err(Error::invalid(
            "report",
            &ing.file,
            "has no data rows to analyse",
        ));
    }
    let by_kw = ing.report.by_keyword()?;
    let by_plan = ing.report.by_plan()?;
    let total = ing.report.total()?;
    let mut notes = Vec::new();
    // Period rows are spread over their days: budgets, capacities and the engine work per
    // day; rates and sums are the same either way.
    let daily = ing.report.split_days()?;
    if let Some(r) = ing.report.rows().iter().find(|r| r.days > 1) {
        notes.push(format!(
            "rows cover periods ({} days from {}): counts are totals over the period, budgets and the engine's figures are per day of it, and the recommendation is for the day after it ends",
            r.days, r.date
        ));
    }
    let cpc_of = |s: Option<&Stats>| s.and_then(Stats::cpc).filter(|c| *c > 0.0);
    let fallback = cpc_of(Some(&total)).unwrap_or(1.0);
    let mut inferred: BTreeMap<&KeywordId, f64> = BTreeMap::new();
    for k in &ing.keywords {
        if k.bid.is_none_or(|b| b.micros() <= 0) {
            let c = cpc_of(by_kw.get(&k.id))
                .or_else(|| cpc_of(by_plan.get(&k.plan)))
                .unwrap_or(fallback);
            inferred.insert(&k.id, c * 1.25);
        }
    }
    let top_bid = ing
        .keywords
        .iter()
        .filter_map(|k| k.bid.map(Money::units))
        .chain(inferred.values().copied())
        .fold(1.0f64, f64::max);
    let defaults = AccountDefaults {
        name: "account".into(),
        currency: ing
            .currency
            .clone()
            .unwrap_or_else(|| NO_CURRENCY.to_string()),
        daily_budget: Money::from_micros(1_000_000),
        bid: Money::from_micros(10_000),
        min_bid: Money::from_micros(10_000),
        max_bid: money(top_bid * 3.0, "max_bid")?,
    };
    let mut account = ing.to_account(&defaults)?;
    // Keywords named only by id (a canonical file without keyword text) are kept, with the
    // id as text; keywords whose text has no words (`*` auto targeting) stay out.
    let mut by_id = 0;
    for k in &ing.keywords {
        if k.text.trim().is_empty() && account.keyword(&k.id).is_none() {
            let bid = k.bid.filter(|b| b.micros() > 0).unwrap_or(defaults.bid);
            account.add_keyword(
                &k.plan,
                Keyword::new(k.id.as_str(), k.id.as_str(), k.match_type, bid),
            )?;
            by_id += 1;
        }
    }
    if by_id > 0 {
        notes.push(format!(
            "{by_id} keywords have no text in the file: named by their id"
        ));
    }
    if !inferred.is_empty() {
        notes.push(format!(
            "{} keywords have no bid in the file: assumed 1.25 x their observed CPC",
            inferred.len()
        ));
    }
    for (id, b) in &inferred {
        if account.keyword(id).is_some() {
            account.set_bid(id, money(*b, "bid")?.max(Money::from_micros(10_000)))?;
        }
    }
    // Highest daily spend per plan, for plans without a budget column.
    let mut day_spend: BTreeMap<(&PlanId, Date), i64> = BTreeMap::new();
    for r in daily.rows() {
        *day_spend.entry((&r.plan, r.date)).or_default() += r.stats.cost().micros();
    }
    let mut budget_known = Vec::new();
    let mut missing = 0;
    for p in &ing.plans {
        let known = p.budget.is_some_and(|b| b.micros() > 0);
        budget_known.push(known);
        if !known {
            missing += 1;
            let max = day_spend
                .iter()
                .filter(|((id, _), _)| *id == &p.id)
                .map(|(_, v)| *v)
                .max()
                .unwrap_or(0);
            let b = ceil_cent(Money::from_micros(max)).max(Money::from_micros(1_000_000));
            account.set_daily_budget(&p.id, b)?;
        }
    }
    if missing > 0 {
        notes.push(format!(
            "{missing} plans have no budget in the file: assumed their highest daily spend"
        ));
    }
    // Rows of keywords left out of the account count at plan level.
    let known: HashSet<&KeywordId> = account
        .plans()
        .iter()
        .flat_map(|p| p.keywords.iter().map(|k| &k.id))
        .collect();
    let mut moved = 0usize;
    let rows: Vec<ReportRow> = daily
        .rows()
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if r.keyword.as_ref().is_some_and(|k| !known.contains(k)) {
                r.keyword = None;
                moved += 1;
            }
            r
        })
        .collect();
    let report = if moved > 0 {
        notes.push(format!(
            "{moved} rows of keywords without words (e.g. auto targeting) counted at plan level"
        ));
        Report::from_rows_summed(rows)?
    } else {
        daily
    };
    Ok(Prepared {
        account,
        report,
        budget_known,
        notes,
    })
}

/// Analyses an ingested file; see the module docs.
///
/// # Errors
/// As [`prepare`] and [`analyze_report`].
pub fn analyze(ing: &Ingested, opts: &AnalysisOptions) -> Result<Analysis> {
    let (objective, note) =
        fit_objective(ing.has_conversions(), ing.has_revenue(), opts.objective)?;
    let mut prep = prepare(ing)?;
    let mut pre_notes = Vec::new();
    if let Some(c) = &opts.currency {
        let c = c.trim().to_uppercase();
        if let Some(f) = &ing.currency
            && !f.eq_ignore_ascii_case(&c)
        {
            pre_notes.push(format!(
                "the file says its currency is {f}; shown as {c} as asked"
            ));
        }
        prep.account = Account::new(prep.account.name(), c, prep.account.plans().to_vec())?;
    } else if ing.currency.is_none() {
        pre_notes.push(format!(
            "the file states no currency: money is in the file's own units ({NO_CURRENCY}); give the currency (AnalysisOptions::currency, `--currency`) to name it"
        ));
    }
    let mut a = analyze_with(&prep.account, &prep.report, opts, objective, note)?;
    a.period = ing.report.date_range();
    a.file = ing.file.clone();
    let mut notes = pre_notes;
    notes.append(&mut prep.notes);
    notes.extend(ing.warnings.iter().map(|w| w.to_string()));
    if !ing.skipped.is_empty() {
        notes.push(format!("{} bad rows skipped (lenient)", ing.skipped.len()));
    }
    notes.append(&mut a.notes);
    a.notes = notes;
    Ok(a)
}

/// Sums a report into per-plan (plan-level rows) and per-keyword counts and stats.
type Sums = (Vec<Counts>, Vec<Vec<Counts>>, Vec<Stats>, Vec<Vec<Stats>>);

fn sums(account: &Account, report: &Report) -> Result<Sums> {
    let plans = account.plans();
    let mut plan_rows = vec![Counts::default(); plans.len()];
    let mut kw: Vec<Vec<Counts>> = plans
        .iter()
        .map(|p| vec![Counts::default(); p.keywords.len()])
        .collect();
    let mut plan_stats = vec![Stats::default(); plans.len()];
    let mut kw_stats: Vec<Vec<Stats>> = plans
        .iter()
        .map(|p| vec![Stats::default(); p.keywords.len()])
        .collect();
    for (n, r) in report.rows().iter().enumerate() {
        let i = account.plan_pos(&r.plan).ok_or_else(|| Error::UnknownId {
            kind: "plan",
            id: r.plan.to_string(),
        })?;
        plan_stats[i] = plan_stats[i].checked_add(&r.stats)?;
        match &r.keyword {
            None => plan_rows[i].add(&Counts::from_stats(&r.stats)),
            Some(k) => {
                let (pi, j) = account.keyword_pos(k).ok_or_else(|| Error::UnknownId {
                    kind: "keyword",
                    id: k.to_string(),
                })?;
                if pi != i {
                    return Err(Error::Inconsistent {
                        field: format!("report.rows[{n}]"),
                        reason: format!("keyword {k} is not in plan {}", r.plan),
                    });
                }
                kw[i][j].add(&Counts::from_stats(&r.stats));
                kw_stats[i][j] = kw_stats[i][j].checked_add(&r.stats)?;
            }
        }
    }
    Ok((plan_rows, kw, plan_stats, kw_stats))
}

fn observed(s: &Stats) -> Observed {
    Observed {
        ctr: s.ctr(),
        cvr: s.cvr(),
        cpc: s.cpc(),
        cpa: s.cpa(),
        roi: s.roi(),
    }
}

fn beta_est(p: &crate::estimate::BetaPosterior, level: f64) -> Result<Estimate> {
    let (lo, hi) = p.interval(level)?;
    Ok(Estimate {
        value: p.mean(),
        lo,
        hi,
    })
}

fn value_est(p: &OrderValuePosterior, level: f64) -> Result<Estimate> {
    let (lo, hi) = p.interval(level)?;
    Ok(Estimate {
        value: p.mean(),
        lo,
        hi,
    })
}

/// The target a row is judged against: ROI at least `Roi`, CPA at most `Cpa`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    Roi(f64),
    Cpa(f64),
}

/// Medians and intervals of ROI and CPA from joint draws of CVR, AOV and CPC, and the
/// share of draws that miss `target`.
fn derived(
    e: &ArmEstimate,
    cpc: &OrderValuePosterior,
    opts: &AnalysisOptions,
    target: Option<Target>,
    path: &[u64],
) -> (Estimate, Estimate, Option<f64>) {
    let (level, draws) = (opts.level, opts.draws);
    let mut rng = stream(opts.seed, path);
    let (cs, av, pc) = (e.cvr.sampler(), e.aov.sampler(), cpc.sampler());
    let mut roi = Vec::with_capacity(draws);
    let mut cpa = Vec::with_capacity(draws);
    for _ in 0..draws {
        let c = cs.sample(&mut rng);
        let a = av.sample(&mut rng);
        let p = pc.sample(&mut rng);
        // Floors keep every draw finite (JSON has no infinity).
        roi.push((c * a / p.max(1e-9)).min(1e12));
        cpa.push((p / c.max(1e-9)).min(1e12));
    }
    let miss = target.map(|t| {
        let n = match t {
            Target::Roi(r) => roi.iter().filter(|&&x| x < r).count(),
            Target::Cpa(c) => cpa.iter().filter(|&&x| x > c).count(),
        };
        n as f64 / draws as f64
    });
    let q = |xs: &mut Vec<f64>| {
        xs.sort_by(f64::total_cmp);
        let at = |p: f64| xs[((p * (draws - 1) as f64).round() as usize).min(draws - 1)];
        let tail = (1.0 - level) / 2.0;
        Estimate {
            value: at(0.5),
            lo: at(tail),
            hi: at(1.0 - tail),
        }
    };
    (q(&mut roi), q(&mut cpa), miss)
}

/// CPC posteriors per level, shrunk like order value: (clicks, cost) as (orders, revenue).
fn cpc_posteriors(
    account_c: &Counts,
    plans: &[Counts],
    keywords: &[Vec<Counts>],
    cfg: &crate::estimate::ShrinkageConfig,
) -> (
    OrderValuePosterior,
    Vec<OrderValuePosterior>,
    Vec<Vec<OrderValuePosterior>>,
) {
    let pooled = if account_c.clicks > 0.0 {
        account_c.cost / account_c.clicks
    } else {
        1.0
    };
    let acc = OrderValuePrior::weak(pooled).update(account_c.clicks, account_c.cost);
    let plan_prior =
        fit_order_value_prior(plans.iter().map(|c| (c.clicks, c.cost)), acc.mean(), cfg);
    let plan_post: Vec<OrderValuePosterior> = plans
        .iter()
        .map(|c| plan_prior.update(c.clicks, c.cost))
        .collect();
    let kw_post = keywords
        .iter()
        .zip(&plan_post)
        .map(|(ks, parent)| {
            let prior =
                fit_order_value_prior(ks.iter().map(|c| (c.clicks, c.cost)), parent.mean(), cfg);
            ks.iter().map(|c| prior.update(c.clicks, c.cost)).collect()
        })
        .collect();
    (acc, plan_post, kw_post)
}

/// How rows are built, ranked and judged for one objective.
struct Judge<'a> {
    opts: &'a AnalysisOptions,
    kind: Kind,
    target: Option<Target>,
}

impl Judge<'_> {
    fn new(opts: &AnalysisOptions, objective: Objective) -> Judge<'_> {
        let target = match objective {
            Objective::TargetRoi { roi } => Some(Target::Roi(roi)),
            Objective::MaxRevenue => Some(Target::Roi(opts.engine.rules.min_roi)),
            Objective::TargetCpa { cpa } => Some(Target::Cpa(cpa.units())),
            Objective::MaxConversions | Objective::MaxClicks => None,
        };
        Judge {
            opts,
            kind: kind(objective),
            target,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &self,
        level: Level,
        plan: &PlanId,
        keyword: Option<&KeywordId>,
        name: &str,
        s: &Stats,
        e: &ArmEstimate,
        cpc: &OrderValuePosterior,
        path: &[u64],
    ) -> Result<Row> {
        let opts = self.opts;
        let (roi, cpa, miss) = derived(e, cpc, opts, self.target, path);
        let conv = self.kind != Kind::Clicks;
        let rev = self.kind == Kind::Revenue;
        let mut observed = observed(s);
        if !conv {
            observed.cvr = None;
            observed.cpa = None;
        }
        if !rev {
            observed.roi = None;
        }
        Ok(Row {
            level,
            plan: plan.clone(),
            keyword: keyword.cloned(),
            name: name.to_owned(),
            impressions: s.impressions(),
            clicks: s.clicks(),
            conversions: s.conversions(),
            cost: s.cost().units(),
            revenue: s.revenue().units(),
            observed,
            ctr: beta_est(&e.ctr, opts.level)?,
            cvr: if conv {
                Some(beta_est(&e.cvr, opts.level)?)
            } else {
                None
            },
            aov: if rev {
                Some(value_est(&e.aov, opts.level)?)
            } else {
                None
            },
            cpc: value_est(cpc, opts.level)?,
            cpa: conv.then_some(cpa),
            roi: rev.then_some(roi),
            p_miss_target: miss,
            rank: 0,
        })
    }

    /// The ranking measure, larger is better.
    fn score(&self, r: &Row) -> (f64, f64) {
        match self.kind {
            Kind::Revenue => r.roi.map_or((0.0, 0.0), |e| (e.value, e.lo)),
            Kind::Conversions => r.cpa.map_or((0.0, 0.0), |e| (-e.value, -e.hi)),
            Kind::Clicks => (-r.cpc.value, -r.cpc.hi),
        }
    }

    /// Ranks rows by the objective's measure (best first; ties by the interval's far end,
    /// then order).
    fn rank(&self, rows: &mut [Row]) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..rows.len()).collect();
        idx.sort_by(|&a, &b| {
            let (sa, sb) = (self.score(&rows[a]), self.score(&rows[b]));
            sb.0.total_cmp(&sa.0)
                .then(sb.1.total_cmp(&sa.1))
                .then(a.cmp(&b))
        });
        for (r, &i) in idx.iter().enumerate() {
            rows[i].rank = r + 1;
        }
        idx
    }
}

/// Analyses a report of `account` (every row's plan and keyword must be in the account),
/// for `opts.objective` (default: maximise revenue, every measure shown). [`analyze`] fits
/// the objective to the file's columns instead.
///
/// # Errors
/// [`Error::InvalidParameter`] for a level outside (0, 1) or fewer than 100 draws;
/// [`Error::UnknownId`] / [`Error::Inconsistent`] for rows not in the account; engine errors.
pub fn analyze_report(
    account: &Account,
    report: &Report,
    opts: &AnalysisOptions,
) -> Result<Analysis> {
    let (objective, note) = fit_objective(true, true, opts.objective)?;
    analyze_with(account, report, opts, objective, note)
}

fn analyze_with(
    account: &Account,
    report: &Report,
    opts: &AnalysisOptions,
    objective: Objective,
    objective_note: String,
) -> Result<Analysis> {
    if !(opts.level > 0.0 && opts.level < 1.0) {
        return Err(Error::parameter("level", opts.level, "must be in (0, 1)"));
    }
    if opts.draws < 100 {
        return Err(Error::parameter("draws", opts.draws, "must be >= 100"));
    }
    let report = &report.split_days()?;
    // Every plan works on the objective (the account from a file has the default one).
    let account = &Account::new(
        account.name(),
        account.currency(),
        account
            .plans()
            .iter()
            .map(|p| p.clone().with_objective(objective))
            .collect(),
    )?;
    let judge = Judge::new(opts, objective);
    let (plan_rows, kw, plan_stats, kw_stats) = sums(account, report)?;
    let cfg = &opts.engine.shrinkage;
    let est = AccountEstimates::fit(account, &plan_rows, &kw, cfg)?;
    let plan_totals: Vec<Counts> = est.plans.iter().map(|p| p.counts).collect();
    let (acc_cpc, plan_cpc, kw_cpc) = cpc_posteriors(&est.account.counts, &plan_totals, &kw, cfg);
    let total = report.total()?;
    let acc_id = PlanId::new(account.name());
    let account_row = judge.row(
        Level::Account,
        &acc_id,
        None,
        account.name(),
        &total,
        &est.account,
        &acc_cpc,
        &[0],
    )?;
    let mut plans = Vec::with_capacity(account.plans().len());
    let mut keywords = Vec::with_capacity(account.keyword_count());
    for (i, p) in account.plans().iter().enumerate() {
        plans.push(judge.row(
            Level::Plan,
            &p.id,
            None,
            &p.name,
            &plan_stats[i],
            &est.plans[i],
            &plan_cpc[i],
            &[1, i as u64],
        )?);
        for (j, k) in p.keywords.iter().enumerate() {
            keywords.push(judge.row(
                Level::Keyword,
                &p.id,
                Some(&k.id),
                &k.text,
                &kw_stats[i][j],
                &est.keywords[i][j],
                &kw_cpc[i][j],
                &[2, i as u64, j as u64],
            )?);
        }
    }
    let plan_ranking = judge.rank(&mut plans);
    let keyword_ranking = judge.rank(&mut keywords);
    let period = report.date_range();
    let mut notes = Vec::new();
    let mut engine = match period {
        Some(_) => {
            let mut cfg = opts.engine.clone();
            cfg.objective = objective;
            let mut engine = Engine::new(account.clone(), cfg, opts.seed)?;
            engine.observe(report)?;
            Some(engine)
        }
        None => None,
    };
    let channels = channel_rows(
        account,
        &judge,
        &plan_stats,
        &est.plans,
        period,
        engine.as_ref(),
    )?;
    let recommendation = match (opts.recommend, period, engine.as_mut()) {
        (true, Some((_, last)), Some(engine)) => {
            let mut d = engine.decide(last.add_days(1))?;
            guard(&mut d, account, &plans, &keywords, &judge, &mut notes);
            Some(d)
        }
        (true, None, _) => {
            notes.push("empty report: no recommendation".to_owned());
            None
        }
        _ => None,
    };
    Ok(Analysis {
        file: String::new(),
        objective,
        objective_note,
        currency: account.currency().to_owned(),
        period,
        level: opts.level,
        account: account_row,
        plans,
        keywords,
        channels,
        plan_ranking,
        keyword_ranking,
        recommendation,
        notes,
    })
}

/// The channel rows: pooled figures per channel (weak priors, as the account row), the
/// share of cost, and the marginal value from the engine's response curves.
fn channel_rows(
    account: &Account,
    judge: &Judge<'_>,
    plan_stats: &[Stats],
    plan_est: &[ArmEstimate],
    period: Option<(Date, Date)>,
    engine: Option<&Engine>,
) -> Result<Vec<ChannelRow>> {
    let plans = account.plans();
    let (names, group_of) = account.channels();
    let days = period.map_or(1.0, |(a, b)| f64::from(a.days_until(b).max(0) + 1));
    let draws = judge.opts.draws;
    let curves = match engine {
        Some(e) => Some(e.response_curves(draws)?),
        None => None,
    };
    let total_cost: f64 = plan_stats.iter().map(|s| s.cost().units()).sum();
    let mut rows = Vec::with_capacity(names.len());
    for (g, name) in names.iter().enumerate() {
        let ids: Vec<usize> = (0..plans.len()).filter(|&i| group_of[i] == g).collect();
        let mut stats = Stats::default();
        let mut counts = Counts::default();
        for &i in &ids {
            stats = stats.checked_add(&plan_stats[i])?;
            counts.add(&plan_est[i].counts);
        }
        let est = ArmEstimate::pooled(counts);
        let pooled_cpc = if counts.clicks > 0.0 {
            counts.cost / counts.clicks
        } else {
            1.0
        };
        let cpc = OrderValuePrior::weak(pooled_cpc).update(counts.clicks, counts.cost);
        let id = PlanId::new(*name);
        let row = judge.row(
            Level::Channel,
            &id,
            None,
            name,
            &stats,
            &est,
            &cpc,
            &[3, g as u64],
        )?;
        let marginal_value = curves.as_ref().and_then(|cs| {
            let live: Vec<usize> = ids.iter().copied().filter(|&i| cs[i].active).collect();
            if live.is_empty() {
                return None;
            }
            let mut m: Vec<f64> = (0..draws)
                .map(|d| {
                    live.iter()
                        .map(|&i| cs[i].marginal(d, plan_stats[i].cost().units() / days))
                        .fold(0.0, f64::max)
                })
                .collect();
            m.sort_by(f64::total_cmp);
            let at = |p: f64| m[((p * (draws - 1) as f64).round() as usize).min(draws - 1)];
            let tail = (1.0 - judge.opts.level) / 2.0;
            Some(Estimate {
                value: at(0.5),
                lo: at(tail),
                hi: at(1.0 - tail),
            })
        });
        rows.push(ChannelRow {
            row,
            channel_plans: ids.iter().map(|&i| plans[i].id.clone()).collect(),
            share_of_cost: if total_cost > 0.0 {
                stats.cost().units() / total_cost
            } else {
                0.0
            },
            marginal_value,
        });
    }
    let mut ranked: Vec<Row> = rows.iter().map(|c| c.row.clone()).collect();
    judge.rank(&mut ranked);
    for (c, r) in rows.iter_mut().zip(ranked) {
        c.row.rank = r.rank;
    }
    Ok(rows)
}

/// What the measure and target are called in sentences.
fn measure_words(judge: &Judge<'_>) -> &'static str {
    match judge.kind {
        Kind::Revenue => "ROI",
        Kind::Conversions => "CPA",
        Kind::Clicks => "CPC",
    }
}

/// Rounds budgets and bids down to the currency's minor unit (platforms take no more
/// digits; down keeps every hard cap), and the reasons' figures with them.
fn round_to_minor(d: &mut Decision, currency: &str) {
    let unit = Money::from_micros(10i64.pow(6 - minor_digits(currency) as u32));
    let fix = |msg: String, pairs: &[(Money, Money)]| {
        let mut msg = msg;
        for (old, new) in pairs {
            if old != new {
                msg = msg.replace(&old.to_string(), &format_money(new.units(), currency));
            }
        }
        msg
    };
    for b in &mut d.budgets {
        let (from, to) = (b.from.floor_to(unit), b.to.floor_to(unit));
        let msg = fix(b.reason.message(), &[(b.to, to), (b.from, from)]);
        b.reason = Reason::new(b.reason.code, msg, b.reason.metrics);
        b.spend_cap = if b.spend_cap == b.to {
            to
        } else {
            b.spend_cap.floor_to(unit)
        };
        b.to = to;
    }
    for b in &mut d.bids {
        let to = b.to.floor_to(unit).max(unit);
        if to != b.to {
            let msg = fix(b.reason.message(), &[(b.to, to)]);
            b.reason = Reason::new(b.reason.code, msg, b.reason.metrics);
            b.to = to;
        }
    }
}

/// Makes the recommendation agree with the analysis: no budget or bid is raised on a plan
/// or keyword that misses its target with the analysis' credible level (the raise is held
/// and the reason says why), and every budget reason states the plan's rank.
fn guard(
    d: &mut Decision,
    account: &Account,
    plans: &[Row],
    keywords: &[Row],
    judge: &Judge<'_>,
    notes: &mut Vec<String>,
) {
    let level = judge.opts.level;
    let measure = measure_words(judge);
    round_to_minor(d, account.currency());
    let target_text = |r: &Row| -> String {
        match judge.target {
            Some(Target::Roi(t)) => format!(
                "ROI {:.2} [{:.2}-{:.2}] against a target of {t}",
                r.roi.map_or(0.0, |e| e.value),
                r.roi.map_or(0.0, |e| e.lo),
                r.roi.map_or(0.0, |e| e.hi)
            ),
            Some(Target::Cpa(t)) => format!(
                "CPA {:.2} [{:.2}-{:.2}] against a target of {t:.2}",
                r.cpa.map_or(0.0, |e| e.value),
                r.cpa.map_or(0.0, |e| e.lo),
                r.cpa.map_or(0.0, |e| e.hi)
            ),
            None => String::new(),
        }
    };
    let misses = |r: &Row| r.p_miss_target.is_some_and(|p| p >= level);
    let n = plans.len();
    let raised: Vec<(usize, bool)> = d
        .budgets
        .iter()
        .filter_map(|b| {
            let r = plans.iter().find(|r| r.plan == b.plan)?;
            Some((r.rank, b.to > b.from))
        })
        .collect();
    let better_not_raised = |rank: usize| raised.iter().any(|&(k, up)| k < rank && !up);
    let kind_measure = |r: &Row| match judge.kind {
        Kind::Revenue => r.roi,
        Kind::Conversions => r.cpa,
        Kind::Clicks => Some(r.cpc),
    };
    let mut held = 0;
    for b in &mut d.budgets {
        let Some(r) = plans.iter().find(|r| r.plan == b.plan) else {
            continue;
        };
        let name = account
            .plan(&b.plan)
            .map_or(b.plan.as_str(), |p| p.name.as_str());
        if b.to > b.from && misses(r) {
            let p = r.p_miss_target.unwrap_or(0.0);
            b.reason = Reason::new(
                ReasonCode::BudgetHeldMissesTarget,
                format!(
                    "Budget of {name} kept at {} (the engine would raise it to {}): {}, missed with {:.0}% probability; ranked {} of {n} by {measure}",
                    b.from,
                    b.to,
                    target_text(r),
                    100.0 * p,
                    r.rank
                ),
                b.reason.metrics,
            );
            b.to = b.from;
            b.spend_cap = b.spend_cap.min(b.from);
            held += 1;
        } else if b.to > b.from && better_not_raised(r.rank) {
            // The engine's marginal draw can favour an uncertain plan over a better-ranked
            // one: say that, rather than "it earns more" against the ranking.
            let interval = match kind_measure(r) {
                Some(e) => format!(" {:.2} [{:.2}-{:.2}]", e.value, e.lo, e.hi),
                None => String::new(),
            };
            b.reason = Reason::new(
                b.reason.code,
                format!(
                    "Budget of {name} raised from {} to {} although it ranks {} of {n} by {measure}: its {measure}{interval} is still uncertain, and the engine gives an uncertain plan a step more to learn it (exploration), one step per decision",
                    format_money(b.from.units(), account.currency()),
                    format_money(b.to.units(), account.currency()),
                    r.rank
                ),
                b.reason.metrics,
            );
        } else {
            b.reason = Reason::new(
                b.reason.code,
                format!(
                    "{} (ranked {} of {n} by {measure})",
                    b.reason.message(),
                    r.rank
                ),
                b.reason.metrics,
            );
        }
    }
    for b in &mut d.bids {
        let Some(r) = keywords
            .iter()
            .find(|r| r.keyword.as_ref() == Some(&b.keyword))
        else {
            continue;
        };
        if b.to > b.from && misses(r) {
            let p = r.p_miss_target.unwrap_or(0.0);
            b.reason = Reason::new(
                ReasonCode::BidHeldMissesTarget,
                format!(
                    "Bid kept at {} (the engine would raise it to {}): {}, missed with {:.0}% probability",
                    b.from,
                    b.to,
                    target_text(r),
                    100.0 * p
                ),
                b.reason.metrics,
            );
            b.to = b.from;
            held += 1;
        }
    }
    if held > 0 {
        notes.push(format!(
            "{held} raises held: their {measure} misses the target with at least {:.0}% probability",
            100.0 * level
        ));
    }
}

fn pct(e: Option<&Estimate>) -> String {
    match e {
        Some(e) => format!(
            "{:.2}% [{:.2}-{:.2}]",
            e.value * 100.0,
            e.lo * 100.0,
            e.hi * 100.0
        ),
        None => "n/a".into(),
    }
}

fn num(e: Option<&Estimate>) -> String {
    let Some(e) = e else {
        return "n/a".into();
    };
    let f = |x: f64| {
        if !x.is_finite() {
            "inf".to_owned()
        } else if x.abs() >= 100.0 {
            format!("{x:.0}")
        } else {
            format!("{x:.2}")
        }
    };
    format!("{} [{}-{}]", f(e.value), f(e.lo), f(e.hi))
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut o: String = s.chars().take(n.saturating_sub(1)).collect();
        o.push('…');
        o
    }
}

/// CSV header of [`Analysis::write_csv`] (after its one `# Objective: ...` line). Estimates
/// the report cannot support (ROI without revenue, CVR/CPA without conversions) are empty.
pub const CSV_COLUMNS: [&str; 30] = [
    "level",
    "plan_id",
    "keyword_id",
    "name",
    "impressions",
    "clicks",
    "conversions",
    "cost",
    "revenue",
    "ctr",
    "ctr_lo",
    "ctr_hi",
    "cvr",
    "cvr_lo",
    "cvr_hi",
    "aov",
    "aov_lo",
    "aov_hi",
    "cpc",
    "cpc_lo",
    "cpc_hi",
    "cpa",
    "cpa_lo",
    "cpa_hi",
    "roi",
    "roi_lo",
    "roi_hi",
    "rank",
    "observed_roi",
    "p_miss_target",
];

impl Analysis {
    /// Every row: the account, the plans, then the keywords.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        std::iter::once(&self.account)
            .chain(&self.plans)
            .chain(&self.keywords)
    }

    /// The measure rows are ranked by: `ROI`, `CPA` or `CPC`.
    pub fn ranked_by(&self) -> &'static str {
        match kind(self.objective) {
            Kind::Revenue => "ROI",
            Kind::Conversions => "CPA",
            Kind::Clicks => "CPC",
        }
    }

    /// Money in the currency's minor unit.
    fn m(&self, units: f64) -> String {
        format_money(units, &self.currency)
    }

    /// The currency as shown: its code, or a warning that nobody named it.
    fn currency_label(&self) -> String {
        if self.currency == NO_CURRENCY {
            "currency not stated: give it with --currency".into()
        } else {
            self.currency.clone()
        }
    }

    /// A display name for a plan id (its name in the analysis, else the id).
    fn plan_name<'a>(&'a self, id: &'a PlanId) -> &'a str {
        self.plans
            .iter()
            .find(|r| &r.plan == id)
            .map_or(id.as_str(), |r| r.name.as_str())
    }

    /// A keyword's full display: `text (plan name)`.
    fn keyword_name(&self, id: &KeywordId) -> String {
        match self
            .keywords
            .iter()
            .find(|r| r.keyword.as_ref() == Some(id))
        {
            Some(r) => format!("{} ({})", r.name, self.plan_name(&r.plan)),
            None => id.to_string(),
        }
    }

    /// A terminal table: the objective line, the account, every plan (best first), the best
    /// and worst `keywords` keywords, then the engine's recommendation with full names.
    pub fn table(&self, keywords: usize) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{}", self.objective_note);
        let lv = self.level * 100.0;
        let _ = writeln!(
            s,
            "Effect analysis of {} ({}), {}; point = posterior mean (ROI, CPA: median), [{lv:.0}% credible interval]",
            if self.file.is_empty() {
                "report"
            } else {
                &self.file
            },
            self.currency_label(),
            match self.period {
                Some((a, b)) => format!("{a} to {b}"),
                None => "no dates".into(),
            }
        );
        let width = self
            .rows()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(4)
            .clamp(4, 60);
        let head = format!(
            "{:>4} {:<width$} {:>9} {:>7} {:>10} {:>6} {:>11}  {:<22} {:<22} {:<20} {:<22} {:<22}",
            "rank",
            "name",
            "impr",
            "clicks",
            "cost",
            "conv",
            "revenue",
            "CTR",
            "CVR",
            "CPC",
            "CPA",
            "ROI"
        );
        let by = self.ranked_by();
        let conv_shown = kind(self.objective) != Kind::Clicks;
        let rev_shown = kind(self.objective) == Kind::Revenue;
        let line = |s: &mut String, r: &Row| {
            let rank = if r.level == Level::Account {
                "all".to_owned()
            } else {
                r.rank.to_string()
            };
            let _ = writeln!(
                s,
                "{:>4} {:<width$} {:>9} {:>7} {:>10} {:>6} {:>11}  {:<22} {:<22} {:<20} {:<22} {:<22}",
                rank,
                clip(&r.name, 60),
                r.impressions,
                r.clicks,
                self.m(r.cost),
                if conv_shown {
                    r.conversions.to_string()
                } else {
                    "n/a".into()
                },
                if rev_shown {
                    self.m(r.revenue)
                } else {
                    "n/a".into()
                },
                pct(Some(&r.ctr)),
                pct(r.cvr.as_ref()),
                num(Some(&r.cpc)),
                num(r.cpa.as_ref()),
                num(r.roi.as_ref())
            );
        };
        let _ = writeln!(s, "\nPlans, best {by} first\n{head}");
        line(&mut s, &self.account);
        for &i in &self.plan_ranking {
            line(&mut s, &self.plans[i]);
        }
        // One channel is the account row again: shown only when there is a choice.
        if self.channels.len() > 1 {
            let _ = writeln!(s, "\nChannels, best {by} first\n{head}");
            let mut order: Vec<&ChannelRow> = self.channels.iter().collect();
            order.sort_by_key(|c| c.row.rank);
            for c in &order {
                line(&mut s, &c.row);
            }
            let what = match kind(self.objective) {
                Kind::Revenue => "revenue",
                Kind::Conversions => "conversions",
                Kind::Clicks => "clicks",
            };
            let _ = writeln!(
                s,
                "Share of cost and what the next unit of budget earns ({what} per unit spent, at the channel's current daily spend):"
            );
            for c in &order {
                let m = c.marginal_value.map_or("n/a".to_owned(), |e| {
                    format!("{:.3} [{:.3}, {:.3}]", e.value, e.lo, e.hi)
                });
                let _ = writeln!(
                    s,
                    "  {:<width$} {:>5.1}% of cost, next unit: {m}",
                    clip(&c.row.name, 60),
                    c.share_of_cost * 100.0
                );
            }
        }
        if !self.keywords.is_empty() && keywords > 0 {
            let n = self.keyword_ranking.len();
            let _ = writeln!(s, "\nKeywords, best {by} first ({n} keywords)\n{head}");
            let show: Vec<usize> = if n <= 2 * keywords {
                self.keyword_ranking.clone()
            } else {
                let mut v = self.keyword_ranking[..keywords].to_vec();
                v.extend_from_slice(&self.keyword_ranking[n - keywords..]);
                v
            };
            for (c, &i) in show.iter().enumerate() {
                if n > 2 * keywords && c == keywords {
                    let _ = writeln!(s, "{:>4} ... {} more ...", "", n - 2 * keywords);
                }
                line(&mut s, &self.keywords[i]);
            }
        }
        if let Some(d) = &self.recommendation {
            let _ = writeln!(
                s,
                "\nEngine recommendation for {} (total daily budget {})",
                d.date,
                self.m(d.total_budget.units())
            );
            for b in &d.budgets {
                let _ = writeln!(
                    s,
                    "  budget {}: {} -> {}  {}",
                    self.plan_name(&b.plan),
                    self.m(b.from.units()),
                    self.m(b.to.units()),
                    b.reason.message()
                );
            }
            let mut bids: Vec<_> = d
                .bids
                .iter()
                .filter(|b| b.from != b.to || b.reason.code == ReasonCode::BidHeldMissesTarget)
                .collect();
            bids.sort_by_key(|b| std::cmp::Reverse((b.to.micros() - b.from.micros()).abs()));
            for b in bids.iter().take(keywords.max(5)) {
                let _ = writeln!(
                    s,
                    "  bid    {}: {} -> {}  {}",
                    self.keyword_name(&b.keyword),
                    self.m(b.from.units()),
                    self.m(b.to.units()),
                    b.reason.message()
                );
            }
            if bids.len() > keywords.max(5) {
                let _ = writeln!(s, "  ... {} more bid changes", bids.len() - keywords.max(5));
            }
            for p in &d.pauses {
                let _ = writeln!(
                    s,
                    "  pause  {}: {}",
                    self.keyword_name(&p.keyword),
                    p.reason.message()
                );
            }
            for f in &d.flags {
                let who = match (&f.keyword, &f.plan) {
                    (Some(k), _) => self.keyword_name(k),
                    (None, Some(p)) => self.plan_name(p).to_string(),
                    (None, None) => "account".into(),
                };
                let _ = writeln!(s, "  flag   {who}: {}", f.reason.message());
            }
        }
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        s
    }

    /// Writes a `# Objective: ...` line, then every row as CSV ([`CSV_COLUMNS`]); cost and
    /// revenue in the currency's minor unit.
    ///
    /// # Errors
    /// [`Error::Io`] if writing fails.
    pub fn write_csv<W: std::io::Write>(&self, mut out: W) -> Result<()> {
        let ioe = |e: std::io::Error| Error::Io {
            path: "analysis csv".into(),
            reason: e.to_string(),
        };
        writeln!(
            out,
            "# {} | currency {}",
            self.objective_note.replace(['\n', '\r'], " "),
            self.currency_label()
        )
        .map_err(ioe)?;
        let io = |e: csv::Error| Error::Io {
            path: "analysis csv".into(),
            reason: e.to_string(),
        };
        let mut w = csv::Writer::from_writer(out);
        w.write_record(CSV_COLUMNS).map_err(io)?;
        let rev_shown = kind(self.objective) == Kind::Revenue;
        for r in self.rows() {
            let f = |x: f64| x.to_string();
            let lvl = match r.level {
                Level::Account => "account",
                Level::Plan => "plan",
                Level::Keyword => "keyword",
                Level::Channel => "channel",
            };
            let mut rec = vec![
                lvl.to_owned(),
                r.plan.to_string(),
                r.keyword
                    .as_ref()
                    .map(|k| k.to_string())
                    .unwrap_or_default(),
                r.name.clone(),
                r.impressions.to_string(),
                r.clicks.to_string(),
                if r.cvr.is_some() {
                    r.conversions.to_string()
                } else {
                    String::new()
                },
                self.m(r.cost),
                if rev_shown {
                    self.m(r.revenue)
                } else {
                    String::new()
                },
            ];
            for e in [
                Some(&r.ctr),
                r.cvr.as_ref(),
                r.aov.as_ref(),
                Some(&r.cpc),
                r.cpa.as_ref(),
                r.roi.as_ref(),
            ] {
                match e {
                    Some(e) => rec.extend([f(e.value), f(e.lo), f(e.hi)]),
                    None => rec.extend([String::new(), String::new(), String::new()]),
                }
            }
            rec.push(r.rank.to_string());
            rec.push(r.observed.roi.map(f).unwrap_or_default());
            rec.push(r.p_miss_target.map(f).unwrap_or_default());
            w.write_record(&rec).map_err(io)?;
        }
        w.flush().map_err(ioe)
    }

    /// The analysis as pretty JSON (the objective and its line first; money exact).
    ///
    /// # Errors
    /// [`Error::Serde`] (not expected: every float is finite or serialised as null).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(Error::from)
    }

    /// The objective's measure (ROI, or CPA without revenue, or CPC without conversions)
    /// against spend for plans or keywords, with interval bars, as SVG (feature `plots`); the
    /// title carries the objective line. Keywords: the 15 with the most spend are labelled;
    /// spend on a log axis when it spans > 50x.
    #[cfg(feature = "plots")]
    pub fn svg(&self, level: Level) -> String {
        let rows: Vec<&Row> = match level {
            Level::Keyword => self.keywords.iter().collect(),
            Level::Plan => self.plans.iter().collect(),
            Level::Account => vec![&self.account],
            Level::Channel => self.channels.iter().map(|c| &c.row).collect(),
        };
        let measure = |r: &Row| -> Estimate {
            match kind(self.objective) {
                Kind::Revenue => r.roi.unwrap_or(r.cpc),
                Kind::Conversions => r.cpa.unwrap_or(r.cpc),
                Kind::Clicks => r.cpc,
            }
        };
        let mut by_cost: Vec<usize> = (0..rows.len()).collect();
        by_cost.sort_by(|&a, &b| rows[b].cost.total_cmp(&rows[a].cost));
        let labelled: HashSet<usize> = by_cost.iter().take(15).copied().collect();
        let points: Vec<svg::Point> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.cost > 0.0)
            .map(|(i, r)| {
                let e = measure(r);
                svg::Point {
                    x: r.cost,
                    y: e.value,
                    lo: e.lo,
                    hi: e.hi,
                    label: if labelled.contains(&i) {
                        clip(&r.name, 24)
                    } else {
                        String::new()
                    },
                }
            })
            .collect();
        let (lo, hi) = points
            .iter()
            .fold((f64::INFINITY, 0.0f64), |a, p| (a.0.min(p.x), a.1.max(p.x)));
        // Keep the axis readable: clip bars above 3x the highest median.
        let top = points
            .iter()
            .map(|p| p.y)
            .filter(|y| y.is_finite())
            .fold(1.0f64, f64::max)
            * 3.0;
        let by = self.ranked_by();
        let what = match kind(self.objective) {
            Kind::Revenue => "ROI (revenue / cost)",
            Kind::Conversions => "CPA (cost / conversion)",
            Kind::Clicks => "CPC (cost / click)",
        };
        svg::Scatter {
            title: format!(
                "{what} against spend per {}, {:.0}% credible intervals. {}",
                match level {
                    Level::Keyword => "keyword",
                    Level::Plan => "plan",
                    Level::Account => "account",
                    Level::Channel => "channel",
                },
                self.level * 100.0,
                self.objective_note
            ),
            x_label: format!("spend ({})", self.currency_label()),
            y_label: by.into(),
            log_x: lo.is_finite() && lo > 0.0 && hi / lo > 50.0,
            points,
            reference_y: (kind(self.objective) == Kind::Revenue).then_some(1.0),
            y_max: Some(top),
        }
        .render()
    }
}

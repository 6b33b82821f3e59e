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

pub mod args;
pub mod svg;

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::engine::{Decision, Engine, EngineConfig};
use crate::error::{Error, Result};
use crate::estimate::evidence::Counts;
use crate::estimate::shrinkage::fit_order_value_prior;
use crate::estimate::{AccountEstimates, ArmEstimate, OrderValuePosterior, OrderValuePrior};
use crate::ingest::{AccountDefaults, Ingested};
use crate::model::{Account, Date, Keyword, KeywordId, PlanId, Report, ReportRow, Stats};
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
    /// Conversion rate.
    pub cvr: Estimate,
    /// Mean order value.
    pub aov: Estimate,
    /// Cost per click.
    pub cpc: Estimate,
    /// Cost per conversion.
    pub cpa: Estimate,
    /// Revenue / cost.
    pub roi: Estimate,
    /// 1-based rank by ROI (posterior median) among rows of its level.
    pub roi_rank: usize,
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
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            level: 0.95,
            draws: 2000,
            seed: 42,
            engine: EngineConfig::default(),
            recommend: true,
        }
    }
}

/// The full analysis; serialises to the JSON output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// The file analysed.
    pub file: String,
    /// Currency of money columns.
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
    /// Indexes into `plans`, best ROI first.
    pub plan_ranking: Vec<usize>,
    /// Indexes into `keywords`, best ROI first.
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
    /// The report, rows of keywords not in the account moved to plan level.
    pub report: Report,
    /// Plans whose budget came from the file.
    pub budget_known: Vec<bool>,
    /// What was assumed.
    pub notes: Vec<String>,
}

fn money(units: f64, what: &str) -> Result<Money> {
    Money::from_units_f64((units * 100.0).ceil() / 100.0)
        .map_err(|_| Error::invalid(what, units, "cannot be expressed as money"))
}

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
        currency: ing.currency.clone().unwrap_or_else(|| "CNY".into()),
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
    for r in ing.report.rows() {
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
            let b = money(max as f64 / 1e6, "daily_budget")?.max(Money::from_micros(1_000_000));
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
    let rows: Vec<ReportRow> = ing
        .report
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
        ing.report.clone()
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
    let prep = prepare(ing)?;
    let mut a = analyze_report(&prep.account, &prep.report, opts)?;
    a.file = ing.file.clone();
    let mut notes = prep.notes;
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

/// Medians and intervals of ROI and CPA from joint draws of CVR, AOV and CPC.
fn derived(
    e: &ArmEstimate,
    cpc: &OrderValuePosterior,
    level: f64,
    draws: usize,
    seed: u64,
    path: &[u64],
) -> (Estimate, Estimate) {
    let mut rng = stream(seed, path);
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
    (q(&mut roi), q(&mut cpa))
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

#[allow(clippy::too_many_arguments)]
fn row(
    level: Level,
    plan: &PlanId,
    keyword: Option<&KeywordId>,
    name: &str,
    s: &Stats,
    e: &ArmEstimate,
    cpc: &OrderValuePosterior,
    opts: &AnalysisOptions,
    path: &[u64],
) -> Result<Row> {
    let (roi, cpa) = derived(e, cpc, opts.level, opts.draws, opts.seed, path);
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
        observed: observed(s),
        ctr: beta_est(&e.ctr, opts.level)?,
        cvr: beta_est(&e.cvr, opts.level)?,
        aov: value_est(&e.aov, opts.level)?,
        cpc: value_est(cpc, opts.level)?,
        cpa,
        roi,
        roi_rank: 0,
    })
}

/// Ranks rows by ROI median (best first; ties by the interval's lower end, then order).
fn rank(rows: &mut [Row]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..rows.len()).collect();
    idx.sort_by(|&a, &b| {
        rows[b]
            .roi
            .value
            .total_cmp(&rows[a].roi.value)
            .then(rows[b].roi.lo.total_cmp(&rows[a].roi.lo))
            .then(a.cmp(&b))
    });
    for (r, &i) in idx.iter().enumerate() {
        rows[i].roi_rank = r + 1;
    }
    idx
}

/// Analyses a report of `account` (every row's plan and keyword must be in the account).
///
/// # Errors
/// [`Error::InvalidParameter`] for a level outside (0, 1) or fewer than 100 draws;
/// [`Error::UnknownId`] / [`Error::Inconsistent`] for rows not in the account; engine errors.
pub fn analyze_report(
    account: &Account,
    report: &Report,
    opts: &AnalysisOptions,
) -> Result<Analysis> {
    if !(opts.level > 0.0 && opts.level < 1.0) {
        return Err(Error::parameter("level", opts.level, "must be in (0, 1)"));
    }
    if opts.draws < 100 {
        return Err(Error::parameter("draws", opts.draws, "must be >= 100"));
    }
    let (plan_rows, kw, plan_stats, kw_stats) = sums(account, report)?;
    let cfg = &opts.engine.shrinkage;
    let est = AccountEstimates::fit(account, &plan_rows, &kw, cfg)?;
    let plan_totals: Vec<Counts> = est.plans.iter().map(|p| p.counts).collect();
    let (acc_cpc, plan_cpc, kw_cpc) = cpc_posteriors(&est.account.counts, &plan_totals, &kw, cfg);
    let total = report.total()?;
    let acc_id = PlanId::new(account.name());
    let account_row = row(
        Level::Account,
        &acc_id,
        None,
        account.name(),
        &total,
        &est.account,
        &acc_cpc,
        opts,
        &[0],
    )?;
    let mut plans = Vec::with_capacity(account.plans().len());
    let mut keywords = Vec::with_capacity(account.keyword_count());
    for (i, p) in account.plans().iter().enumerate() {
        plans.push(row(
            Level::Plan,
            &p.id,
            None,
            &p.name,
            &plan_stats[i],
            &est.plans[i],
            &plan_cpc[i],
            opts,
            &[1, i as u64],
        )?);
        for (j, k) in p.keywords.iter().enumerate() {
            keywords.push(row(
                Level::Keyword,
                &p.id,
                Some(&k.id),
                &k.text,
                &kw_stats[i][j],
                &est.keywords[i][j],
                &kw_cpc[i][j],
                opts,
                &[2, i as u64, j as u64],
            )?);
        }
    }
    let plan_ranking = rank(&mut plans);
    let keyword_ranking = rank(&mut keywords);
    let period = report.date_range();
    let mut notes = Vec::new();
    let recommendation = match (opts.recommend, period) {
        (true, Some((_, last))) => {
            let mut engine = Engine::new(account.clone(), opts.engine.clone(), opts.seed)?;
            engine.observe(report)?;
            Some(engine.decide(last.add_days(1))?)
        }
        (true, None) => {
            notes.push("empty report: no recommendation".to_owned());
            None
        }
        _ => None,
    };
    Ok(Analysis {
        file: String::new(),
        currency: account.currency().to_owned(),
        period,
        level: opts.level,
        account: account_row,
        plans,
        keywords,
        plan_ranking,
        keyword_ranking,
        recommendation,
        notes,
    })
}

fn pct(e: &Estimate) -> String {
    format!(
        "{:.2}% [{:.2}-{:.2}]",
        e.value * 100.0,
        e.lo * 100.0,
        e.hi * 100.0
    )
}

fn num(e: &Estimate) -> String {
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

/// CSV header of [`Analysis::write_csv`].
pub const CSV_COLUMNS: [&str; 29] = [
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
    "roi_rank",
    "observed_roi",
];

impl Analysis {
    /// Every row: the account, the plans, then the keywords.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        std::iter::once(&self.account)
            .chain(&self.plans)
            .chain(&self.keywords)
    }

    /// A terminal table: the account, every plan (best ROI first), the best and worst
    /// `keywords` keywords, then the engine's recommendation.
    pub fn table(&self, keywords: usize) -> String {
        let mut s = String::new();
        let lv = self.level * 100.0;
        let _ = writeln!(
            s,
            "Effect analysis of {} ({}), {}; point = posterior mean (ROI, CPA: median), [{lv:.0}% credible interval]",
            if self.file.is_empty() {
                "report"
            } else {
                &self.file
            },
            self.currency,
            match self.period {
                Some((a, b)) => format!("{a} to {b}"),
                None => "no dates".into(),
            }
        );
        let head = format!(
            "{:>4} {:<28} {:>9} {:>7} {:>10} {:>6} {:>11}  {:<22} {:<22} {:<20} {:<22} {:<22}",
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
        let line = |s: &mut String, r: &Row| {
            let rank = if r.level == Level::Account {
                "all".to_owned()
            } else {
                r.roi_rank.to_string()
            };
            let _ = writeln!(
                s,
                "{:>4} {:<28} {:>9} {:>7} {:>10.2} {:>6} {:>11.2}  {:<22} {:<22} {:<20} {:<22} {:<22}",
                rank,
                clip(&r.name, 28),
                r.impressions,
                r.clicks,
                r.cost,
                r.conversions,
                r.revenue,
                pct(&r.ctr),
                pct(&r.cvr),
                num(&r.cpc),
                num(&r.cpa),
                num(&r.roi)
            );
        };
        let _ = writeln!(s, "\nPlans, best ROI first\n{head}");
        line(&mut s, &self.account);
        for &i in &self.plan_ranking {
            line(&mut s, &self.plans[i]);
        }
        if !self.keywords.is_empty() && keywords > 0 {
            let n = self.keyword_ranking.len();
            let _ = writeln!(s, "\nKeywords, best ROI first ({n} keywords)\n{head}");
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
                d.date, d.total_budget
            );
            for b in &d.budgets {
                let _ = writeln!(
                    s,
                    "  budget {:<24} {:>10} -> {:>10}  {}",
                    clip(b.plan.as_str(), 24),
                    b.from.to_string(),
                    b.to.to_string(),
                    b.reason.message()
                );
            }
            let mut bids: Vec<_> = d.bids.iter().filter(|b| b.from != b.to).collect();
            bids.sort_by_key(|b| std::cmp::Reverse((b.to.micros() - b.from.micros()).abs()));
            for b in bids.iter().take(keywords.max(5)) {
                let _ = writeln!(
                    s,
                    "  bid    {:<24} {:>10} -> {:>10}  {}",
                    clip(b.keyword.as_str(), 24),
                    b.from.to_string(),
                    b.to.to_string(),
                    b.reason.message()
                );
            }
            if bids.len() > keywords.max(5) {
                let _ = writeln!(s, "  ... {} more bid changes", bids.len() - keywords.max(5));
            }
            for p in &d.pauses {
                let _ = writeln!(
                    s,
                    "  pause  {:<24} {}",
                    clip(p.keyword.as_str(), 24),
                    p.reason.message()
                );
            }
            for f in &d.flags {
                let who = f
                    .keyword
                    .as_ref()
                    .map(|k| k.as_str())
                    .or(f.plan.as_ref().map(|p| p.as_str()))
                    .unwrap_or("account");
                let _ = writeln!(s, "  flag   {:<24} {}", clip(who, 24), f.reason.message());
            }
        }
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        s
    }

    /// Writes every row as CSV ([`CSV_COLUMNS`]).
    ///
    /// # Errors
    /// [`Error::Io`] if writing fails.
    pub fn write_csv<W: std::io::Write>(&self, out: W) -> Result<()> {
        let io = |e: csv::Error| Error::Io {
            path: "analysis csv".into(),
            reason: e.to_string(),
        };
        let mut w = csv::Writer::from_writer(out);
        w.write_record(CSV_COLUMNS).map_err(io)?;
        for r in self.rows() {
            let f = |x: f64| x.to_string();
            let lvl = match r.level {
                Level::Account => "account",
                Level::Plan => "plan",
                Level::Keyword => "keyword",
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
                r.conversions.to_string(),
                f(r.cost),
                f(r.revenue),
            ];
            for e in [&r.ctr, &r.cvr, &r.aov, &r.cpc, &r.cpa, &r.roi] {
                rec.extend([f(e.value), f(e.lo), f(e.hi)]);
            }
            rec.push(r.roi_rank.to_string());
            rec.push(r.observed.roi.map(f).unwrap_or_default());
            w.write_record(&rec).map_err(io)?;
        }
        w.flush().map_err(|e| Error::Io {
            path: "analysis csv".into(),
            reason: e.to_string(),
        })
    }

    /// The analysis as pretty JSON.
    ///
    /// # Errors
    /// [`Error::Serde`] (not expected: every float is finite or serialised as null).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(Error::from)
    }

    /// ROI against spend for plans or keywords, with interval bars, as SVG. Keywords: the 15
    /// with the most spend are labelled; spend on a log axis when it spans > 50x.
    pub fn svg(&self, level: Level) -> String {
        let rows: Vec<&Row> = match level {
            Level::Keyword => self.keywords.iter().collect(),
            Level::Plan => self.plans.iter().collect(),
            Level::Account => vec![&self.account],
        };
        let mut by_cost: Vec<usize> = (0..rows.len()).collect();
        by_cost.sort_by(|&a, &b| rows[b].cost.total_cmp(&rows[a].cost));
        let labelled: HashSet<usize> = by_cost.iter().take(15).copied().collect();
        let points: Vec<svg::Point> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.cost > 0.0)
            .map(|(i, r)| svg::Point {
                x: r.cost,
                y: r.roi.value,
                lo: r.roi.lo,
                hi: r.roi.hi,
                label: if labelled.contains(&i) {
                    clip(&r.name, 24)
                } else {
                    String::new()
                },
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
        svg::Scatter {
            title: format!(
                "ROI (revenue / cost) against spend per {}, {:.0}% credible intervals",
                match level {
                    Level::Keyword => "keyword",
                    Level::Plan => "plan",
                    Level::Account => "account",
                },
                self.level * 100.0
            ),
            x_label: format!("spend ({})", self.currency),
            y_label: "ROI".into(),
            log_x: lo.is_finite() && lo > 0.0 && hi / lo > 50.0,
            points,
            reference_y: Some(1.0),
            y_max: Some(top),
        }
        .render()
    }
}

//! A read-only view of posteriors, for scoring: what a policy reads.
//!
//! The evidence lives in one place per use: the engine's [`Evidence`](crate::estimate::Evidence)
//! (fitted into [`ArmEstimate`]s through the hierarchy), or a standalone
//! [`policy::Arms`](crate::policy::Arms) container. Policies never see either store; they read a
//! [`PosteriorView`]: per arm, the posteriors of each reward with cached samplers, means and
//! trial counts. [`PosteriorTable`] is the view of a list of fitted estimates (what the engine
//! scores); `Arms` implements the view over its own counts.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::estimate::hierarchy::ArmEstimate;
use crate::estimate::posterior::{BetaPosterior, OrderValuePosterior, OrderValueSampler};
use crate::estimate::sampling::BetaSampler;
use crate::rng::SimRng;

/// What an arm's score estimates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Reward {
    /// The view's own rate in [0, 1]: for [`policy::Arms`](crate::policy::Arms), the
    /// successes per trial it was updated with; for fitted estimates, the CTR.
    #[default]
    Rate,
    /// Click-through rate, clicks per impression (for `Arms`: its rate reward, which
    /// [`Arms::update_stats`](crate::policy::Arms::update_stats) feeds with clicks of
    /// impressions).
    Ctr,
    /// Conversion rate, conversions (orders) per click.
    Cvr,
    /// Value per click: CVR x AOV (currency units).
    ValuePerClick,
    /// ROI (revenue / cost): CVR x AOV / cpc.
    Roi,
}

impl Reward {
    /// Whether the reward is a rate scored from one Beta posterior (`Rate`, `Ctr`, `Cvr`).
    pub fn is_rate(self) -> bool {
        matches!(self, Reward::Rate | Reward::Ctr | Reward::Cvr)
    }
}

/// Read-only posteriors of a set of arms, for [`Policy::score`](crate::policy::Policy::score).
///
/// Slices have one entry per arm (active or retired). Rewards map to posteriors as follows:
/// `Rate` and `Ctr` read the rate posterior, `Cvr` the conversion-rate posterior, and
/// `ValuePerClick` / `Roi` the CVR and AOV posteriors (over the cpc for ROI).
pub trait PosteriorView {
    /// Number of arms, active and retired.
    fn len(&self) -> usize;
    /// True if there are no arms.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The active flags, one per arm.
    fn active(&self) -> &[bool];
    /// Number of active arms.
    fn active_len(&self) -> usize {
        self.active().iter().filter(|a| **a).count()
    }
    /// Posterior means of `reward`, one per arm.
    fn means(&self, reward: Reward) -> &[f64];
    /// `1 / n` per arm, where `n` is the effective number of trials behind `reward`'s
    /// posterior (impressions for CTR, clicks for CVR and the value rewards); `+inf` for an
    /// arm without any.
    fn inv_trials(&self, reward: Reward) -> &[f64];
    /// Effective trials of `reward` summed over all arms.
    fn total_trials(&self, reward: Reward) -> f64;
    /// Cached samplers of the Beta posterior behind `reward` (the CVR's for value rewards).
    fn beta_samplers(&self, reward: Reward) -> BetaSamplers<'_>;
    /// The Beta posterior behind `reward` of arm `ix` (the CVR's for value rewards).
    /// Panics if `ix` is out of range.
    fn beta_posterior(&self, reward: Reward, ix: usize) -> BetaPosterior;
    /// Cached AOV samplers, one per arm.
    fn aov_samplers(&self) -> &[OrderValueSampler];
    /// Posterior AOV of arm `ix`. Panics if `ix` is out of range.
    fn aov_posterior(&self, ix: usize) -> OrderValuePosterior;
    /// `1 / cpc` per arm.
    fn inv_cpc(&self) -> &[f64];
}

/// The Beta samplers behind a reward, one per arm, as a view hands them out: built for every
/// arm, or built on an arm's first draw after its posterior changed (what
/// [`policy::Arms`](crate::policy::Arms) hands out, so an update rebuilds no sampler unless
/// the arm is drawn: UCB never pays for one).
#[derive(Debug, Clone, Copy)]
pub enum BetaSamplers<'a> {
    /// Built for every arm.
    Ready(&'a [BetaSampler]),
    /// Built from the posteriors on first use, then kept until the posterior changes.
    Lazy {
        /// The posteriors, one per arm.
        posteriors: &'a [BetaPosterior],
        /// The samplers built so far.
        cells: &'a [OnceLock<BetaSampler>],
    },
}

impl BetaSamplers<'_> {
    /// Number of arms.
    pub fn len(&self) -> usize {
        match self {
            BetaSamplers::Ready(s) => s.len(),
            BetaSamplers::Lazy { cells, .. } => cells.len(),
        }
    }
    /// True if there are no arms.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Arm `i`'s sampler. Panics if `i` is out of range.
    #[inline]
    pub fn get(&self, i: usize) -> BetaSampler {
        match self {
            BetaSamplers::Ready(s) => s[i],
            BetaSamplers::Lazy { posteriors, cells } => {
                *cells[i].get_or_init(|| posteriors[i].sampler())
            }
        }
    }
    /// One draw of arm `i`'s posterior. Panics if `i` is out of range.
    #[inline]
    pub fn sample(&self, i: usize, rng: &mut SimRng) -> f64 {
        match self {
            BetaSamplers::Ready(s) => s[i].sample(rng),
            BetaSamplers::Lazy { posteriors, cells } => {
                cells[i].get_or_init(|| posteriors[i].sampler()).sample(rng)
            }
        }
    }

    /// One draw per active arm into `out` (`-inf` for retired arms), in arm order.
    #[inline]
    pub fn sample_active(&self, active: &[bool], rng: &mut SimRng, out: &mut [f64]) {
        // One match for the whole loop, not one per arm.
        match self {
            BetaSamplers::Ready(s) => {
                for ((o, a), s) in out.iter_mut().zip(active).zip(*s) {
                    *o = if *a { s.sample(rng) } else { f64::NEG_INFINITY };
                }
            }
            BetaSamplers::Lazy { posteriors, cells } => {
                for (i, (o, a)) in out.iter_mut().zip(active).enumerate() {
                    *o = if *a {
                        cells[i].get_or_init(|| posteriors[i].sampler()).sample(rng)
                    } else {
                        f64::NEG_INFINITY
                    };
                }
            }
        }
    }
}

/// The [`PosteriorView`] of a list of fitted [`ArmEstimate`]s (e.g. the engine's plans or
/// keywords): posteriors, samplers and means cached once per fill, buffers reused.
///
/// ```
/// use adbandit::estimate::{ArmEstimate, BetaPrior, Counts, OrderValuePrior, PosteriorTable,
///     PosteriorView, Reward};
/// let prior = OrderValuePrior::weak(50.0);
/// let arm = |clicks: f64, orders: f64| ArmEstimate {
///     ctr: BetaPrior::UNIFORM.update(clicks, 1000.0),
///     cvr: BetaPrior::UNIFORM.update(orders, clicks),
///     aov: prior.update(orders, orders * 50.0),
///     counts: Counts::default(),
/// };
/// let mut t = PosteriorTable::default();
/// t.fill([(arm(50.0, 5.0), true), (arm(20.0, 1.0), false)].iter().map(|(e, a)| (e, *a)), 1.0);
/// assert_eq!(t.active(), &[true, false]);
/// assert!(t.means(Reward::Ctr)[0] > t.means(Reward::Ctr)[1]);
/// assert!((t.means(Reward::Cvr)[0] - 6.0 / 52.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Default)]
pub struct PosteriorTable {
    active: Vec<bool>,
    ctr: Vec<BetaPosterior>,
    cvr: Vec<BetaPosterior>,
    aov: Vec<OrderValuePosterior>,
    ctr_sampler: Vec<BetaSampler>,
    cvr_sampler: Vec<BetaSampler>,
    aov_sampler: Vec<OrderValueSampler>,
    mean_ctr: Vec<f64>,
    mean_cvr: Vec<f64>,
    mean_value: Vec<f64>,
    mean_roi: Vec<f64>,
    inv_cpc: Vec<f64>,
    inv_impressions: Vec<f64>,
    inv_clicks: Vec<f64>,
    total_impressions: f64,
    total_clicks: f64,
}

impl PosteriorTable {
    /// Refills the table from `(estimate, active)` pairs. The cpc behind ROI is the
    /// estimate's observed `(cost + prior_cpc) / (clicks + 1)`; the effective trials are each
    /// posterior's strength (prior included), as the estimates carry their evidence there.
    pub fn fill<'a>(
        &mut self,
        arms: impl IntoIterator<Item = (&'a ArmEstimate, bool)>,
        prior_cpc: f64,
    ) {
        self.clear();
        for (e, active) in arms {
            let inv = |n: f64| if n > 0.0 { 1.0 / n } else { f64::INFINITY };
            let cpc = (e.counts.cost + prior_cpc) / (e.counts.clicks + 1.0);
            let value = e.cvr.mean() * e.aov.mean();
            let (n_imp, n_clk) = (e.ctr.strength(), e.cvr.strength());
            self.active.push(active);
            self.ctr.push(e.ctr);
            self.cvr.push(e.cvr);
            self.aov.push(e.aov);
            self.ctr_sampler.push(e.ctr.sampler());
            self.cvr_sampler.push(e.cvr.sampler());
            self.aov_sampler.push(e.aov.sampler());
            self.mean_ctr.push(e.ctr.mean());
            self.mean_cvr.push(e.cvr.mean());
            self.mean_value.push(value);
            self.mean_roi.push(value / cpc);
            self.inv_cpc.push(1.0 / cpc);
            self.inv_impressions.push(inv(n_imp));
            self.inv_clicks.push(inv(n_clk));
            self.total_impressions += n_imp;
            self.total_clicks += n_clk;
        }
    }

    fn clear(&mut self) {
        self.active.clear();
        self.ctr.clear();
        self.cvr.clear();
        self.aov.clear();
        self.ctr_sampler.clear();
        self.cvr_sampler.clear();
        self.aov_sampler.clear();
        self.mean_ctr.clear();
        self.mean_cvr.clear();
        self.mean_value.clear();
        self.mean_roi.clear();
        self.inv_cpc.clear();
        self.inv_impressions.clear();
        self.inv_clicks.clear();
        self.total_impressions = 0.0;
        self.total_clicks = 0.0;
    }
}

impl PosteriorView for PosteriorTable {
    fn len(&self) -> usize {
        self.active.len()
    }
    fn active(&self) -> &[bool] {
        &self.active
    }
    fn means(&self, reward: Reward) -> &[f64] {
        match reward {
            Reward::Rate | Reward::Ctr => &self.mean_ctr,
            Reward::Cvr => &self.mean_cvr,
            Reward::ValuePerClick => &self.mean_value,
            Reward::Roi => &self.mean_roi,
        }
    }
    fn inv_trials(&self, reward: Reward) -> &[f64] {
        match reward {
            Reward::Rate | Reward::Ctr => &self.inv_impressions,
            _ => &self.inv_clicks,
        }
    }
    fn total_trials(&self, reward: Reward) -> f64 {
        match reward {
            Reward::Rate | Reward::Ctr => self.total_impressions,
            _ => self.total_clicks,
        }
    }
    fn beta_samplers(&self, reward: Reward) -> BetaSamplers<'_> {
        BetaSamplers::Ready(match reward {
            Reward::Rate | Reward::Ctr => &self.ctr_sampler,
            _ => &self.cvr_sampler,
        })
    }
    fn beta_posterior(&self, reward: Reward, ix: usize) -> BetaPosterior {
        match reward {
            Reward::Rate | Reward::Ctr => self.ctr[ix],
            _ => self.cvr[ix],
        }
    }
    fn aov_samplers(&self) -> &[OrderValueSampler] {
        &self.aov_sampler
    }
    fn aov_posterior(&self, ix: usize) -> OrderValuePosterior {
        self.aov[ix]
    }
    fn inv_cpc(&self) -> &[f64] {
        &self.inv_cpc
    }
}

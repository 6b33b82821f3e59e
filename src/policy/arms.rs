//! [`Arms`]: the arms' statistics and posteriors, kept as struct-of-arrays for fast scoring.
//!
//! Every policy reads the same container, and the container applies [`Forgetting`], so
//! discounted and sliding-window variants of every policy come for free: a policy scores the
//! effective (discounted or windowed) counts without knowing how they were formed.
//!
//! Samplers and means are refreshed when an arm's counts change (on [`Arms::update`],
//! [`Arms::update_value`], [`Arms::set_posteriors`] and, for every arm, on [`Arms::end_period`]),
//! so a decision costs only the draws.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use crate::estimate::Reward;
use crate::estimate::{
    BetaPosterior, BetaPrior, BetaSampler, Forgetting, OrderValuePosterior, OrderValuePrior,
    OrderValueSampler, PosteriorView,
};
use crate::model::Stats;

/// Index of an arm in an [`Arms`] container. Indices are stable: retired arms keep theirs.
pub type ArmIx = usize;

/// The effective counts behind one arm (after forgetting). Money is in currency units.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ArmCounts {
    /// Successes of the rate reward (e.g. clicks when the rate is CTR).
    pub successes: f64,
    /// Trials of the rate reward (e.g. impressions when the rate is CTR).
    pub trials: f64,
    /// Clicks (the trials of the value rewards).
    pub clicks: f64,
    /// Orders attributed to those clicks.
    pub orders: f64,
    /// Revenue of those orders.
    pub revenue: f64,
    /// Cost of those clicks.
    pub cost: f64,
}

impl ArmCounts {
    fn scale(&mut self, f: f64) {
        self.successes *= f;
        self.trials *= f;
        self.clicks *= f;
        self.orders *= f;
        self.revenue *= f;
        self.cost *= f;
    }
    fn add(&mut self, o: &ArmCounts) {
        self.successes += o.successes;
        self.trials += o.trials;
        self.clicks += o.clicks;
        self.orders += o.orders;
        self.revenue += o.revenue;
        self.cost += o.cost;
    }
    fn check(&self, field: &'static str) -> Result<()> {
        for (name, v) in [
            ("successes", self.successes),
            ("trials", self.trials),
            ("clicks", self.clicks),
            ("orders", self.orders),
            ("revenue", self.revenue),
            ("cost", self.cost),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(
                    format!("{field}.{name}"),
                    v,
                    "must be finite and >= 0",
                ));
            }
        }
        Ok(())
    }
}

/// Posteriors supplied from outside (e.g. the engine's hierarchical estimates).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ArmPosteriors {
    /// Posterior of the rate reward (CTR or CVR).
    pub rate: BetaPosterior,
    /// Posterior of the conversion rate per click.
    pub cvr: BetaPosterior,
    /// Posterior of the mean order value.
    pub aov: OrderValuePosterior,
}

/// Priors and forgetting shared by all arms of a container.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawArmsConfig")]
pub struct ArmsConfig {
    /// Prior of the rate reward.
    pub rate_prior: BetaPrior,
    /// Prior of the conversion rate per click (value rewards).
    pub cvr_prior: BetaPrior,
    /// Prior of the mean order value (value rewards).
    pub aov_prior: OrderValuePrior,
    /// Cost per click assumed before an arm has clicks; it weighs as one pseudo-click, so
    /// an arm's cpc estimate is `(cost + prior_cpc) / (clicks + 1)`.
    pub prior_cpc: f64,
    /// How old evidence loses weight.
    pub forgetting: Forgetting,
}

#[derive(Deserialize)]
struct RawArmsConfig {
    rate_prior: BetaPrior,
    cvr_prior: BetaPrior,
    aov_prior: OrderValuePrior,
    prior_cpc: f64,
    forgetting: Forgetting,
}

impl TryFrom<RawArmsConfig> for ArmsConfig {
    type Error = Error;
    fn try_from(r: RawArmsConfig) -> Result<Self> {
        ArmsConfig::new(r.rate_prior, r.forgetting)?.with_value_priors(
            r.cvr_prior,
            r.aov_prior,
            r.prior_cpc,
        )
    }
}

impl ArmsConfig {
    /// A config for rate rewards with `rate_prior`; value priors default to a uniform CVR
    /// prior, an AOV of 1 worth one order, and a cpc of 1 (set them with
    /// [`ArmsConfig::with_value_priors`] when scoring value or ROI).
    ///
    /// # Errors
    /// None today (the parts are validated types); kept fallible for symmetry.
    pub fn new(rate_prior: BetaPrior, forgetting: Forgetting) -> Result<Self> {
        Ok(ArmsConfig {
            rate_prior,
            cvr_prior: BetaPrior::UNIFORM,
            aov_prior: OrderValuePrior::new(1.0, 1.0, crate::estimate::DEFAULT_ORDER_SHAPE)?,
            prior_cpc: 1.0,
            forgetting,
        })
    }

    /// Sets the priors of the value rewards.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `prior_cpc` is finite and > 0.
    pub fn with_value_priors(
        mut self,
        cvr_prior: BetaPrior,
        aov_prior: OrderValuePrior,
        prior_cpc: f64,
    ) -> Result<Self> {
        if !(prior_cpc.is_finite() && prior_cpc > 0.0) {
            return Err(Error::parameter(
                "prior_cpc",
                prior_cpc,
                "must be finite and > 0",
            ));
        }
        self.cvr_prior = cvr_prior;
        self.aov_prior = aov_prior;
        self.prior_cpc = prior_cpc;
        Ok(self)
    }
}

/// The arms a policy chooses among, with their evidence, posteriors and cached samplers.
///
/// ```
/// use adbandit::estimate::{BetaPrior, Forgetting};
/// use adbandit::policy::{Arms, ArmsConfig};
/// let cfg = ArmsConfig::new(BetaPrior::UNIFORM, Forgetting::half_life(7.0)?)?;
/// let mut arms = Arms::new(cfg);
/// let a = arms.add_arm("kw-1")?;
/// let b = arms.add_arm("kw-2")?;
/// arms.update(a, 30.0, 1000.0)?;
/// arms.update(b, 10.0, 1000.0)?;
/// arms.end_period(); // a day passes: evidence is discounted
/// assert!(arms.counts(a).trials < 1000.0);
/// arms.retire(b)?;
/// assert_eq!(arms.active_len(), 1);
/// # Ok::<(), adbandit::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "RawArms", into = "RawArms")]
pub struct Arms {
    config: ArmsConfig,
    keys: Vec<String>,
    /// Key -> index, for duplicate checks and [`Arms::find`] in O(1).
    index: HashMap<String, ArmIx>,
    active: Vec<bool>,
    counts: Vec<ArmCounts>,
    /// Sliding window only: `periods` slots per arm (arm-major), `slot` is the current one.
    window: Vec<ArmCounts>,
    slot: usize,
    overrides: Vec<Option<ArmPosteriors>>,
    // Caches, rebuilt from the above (never serialised).
    rate_post: Vec<BetaPosterior>,
    cvr_post: Vec<BetaPosterior>,
    aov_post: Vec<OrderValuePosterior>,
    rate_sampler: Vec<BetaSampler>,
    cvr_sampler: Vec<BetaSampler>,
    aov_sampler: Vec<OrderValueSampler>,
    inv_cpc: Vec<f64>,
    mean_rate: Vec<f64>,
    mean_cvr: Vec<f64>,
    mean_value: Vec<f64>,
    mean_roi: Vec<f64>,
    inv_trials: Vec<f64>,
    inv_clicks: Vec<f64>,
    total_trials: f64,
    total_clicks: f64,
    /// Effective trials / clicks per arm (counts, or an override's posterior strength), and
    /// their sums: what UCB's exploration term counts.
    eff_trials: Vec<f64>,
    eff_clicks: Vec<f64>,
    total_eff_trials: f64,
    total_eff_clicks: f64,
}

/// The serialised form: configuration and evidence; caches are rebuilt on load.
#[derive(Serialize, Deserialize)]
struct RawArms {
    config: ArmsConfig,
    keys: Vec<String>,
    active: Vec<bool>,
    counts: Vec<ArmCounts>,
    #[serde(default)]
    window: Vec<ArmCounts>,
    #[serde(default)]
    slot: usize,
    overrides: Vec<Option<ArmPosteriors>>,
}

impl From<Arms> for RawArms {
    fn from(a: Arms) -> Self {
        RawArms {
            config: a.config,
            keys: a.keys,
            active: a.active,
            counts: a.counts,
            window: a.window,
            slot: a.slot,
            overrides: a.overrides,
        }
    }
}

impl TryFrom<RawArms> for Arms {
    type Error = Error;
    fn try_from(r: RawArms) -> Result<Self> {
        let k = r.keys.len();
        if r.active.len() != k || r.counts.len() != k || r.overrides.len() != k {
            return Err(Error::Inconsistent {
                field: "arms".into(),
                reason: format!(
                    "{k} keys but {} active flags, {} counts, {} overrides",
                    r.active.len(),
                    r.counts.len(),
                    r.overrides.len()
                ),
            });
        }
        let mut arms = Arms::new(r.config);
        for (i, key) in r.keys.into_iter().enumerate() {
            arms.add_arm(key)?;
            r.counts[i].check("arms.counts")?;
            arms.counts[i] = r.counts[i];
            arms.active[i] = r.active[i];
            arms.overrides[i] = r.overrides[i];
        }
        if let Forgetting::Window { periods } = r.config.forgetting {
            let w = periods as usize;
            if r.window.len() != k * w || r.slot >= w {
                return Err(Error::Inconsistent {
                    field: "arms.window".into(),
                    reason: format!(
                        "{} slots for {k} arms x {w} periods, slot {}",
                        r.window.len(),
                        r.slot
                    ),
                });
            }
            for c in &r.window {
                c.check("arms.window")?;
            }
            arms.window = r.window;
            arms.slot = r.slot;
            // The totals are the window's sums; recompute them rather than trust the copy.
            for i in 0..k {
                arms.counts[i] = arms.window_sum(i);
            }
        }
        arms.refresh_all();
        Ok(arms)
    }
}

impl Arms {
    /// An empty container.
    pub fn new(config: ArmsConfig) -> Self {
        Arms {
            config,
            keys: Vec::new(),
            index: HashMap::new(),
            active: Vec::new(),
            counts: Vec::new(),
            window: Vec::new(),
            slot: 0,
            overrides: Vec::new(),
            rate_post: Vec::new(),
            cvr_post: Vec::new(),
            aov_post: Vec::new(),
            rate_sampler: Vec::new(),
            cvr_sampler: Vec::new(),
            aov_sampler: Vec::new(),
            inv_cpc: Vec::new(),
            mean_rate: Vec::new(),
            mean_cvr: Vec::new(),
            mean_value: Vec::new(),
            mean_roi: Vec::new(),
            inv_trials: Vec::new(),
            inv_clicks: Vec::new(),
            total_trials: 0.0,
            total_clicks: 0.0,
            eff_trials: Vec::new(),
            eff_clicks: Vec::new(),
            total_eff_trials: 0.0,
            total_eff_clicks: 0.0,
        }
    }

    /// A container with `k` arms keyed `"0"`, `"1"`, ... (handy for simulations and tests).
    pub fn with_arms(config: ArmsConfig, k: usize) -> Self {
        let mut a = Arms::new(config);
        for i in 0..k {
            // Keys are distinct by construction, so this cannot fail.
            let _ = a.add_arm(i.to_string());
        }
        a
    }

    /// The shared configuration.
    pub fn config(&self) -> &ArmsConfig {
        &self.config
    }

    /// Adds an active arm with no evidence and returns its index.
    ///
    /// # Errors
    /// [`Error::DuplicateId`] if an arm (active or retired) already has `key`.
    pub fn add_arm(&mut self, key: impl Into<String>) -> Result<ArmIx> {
        let key = key.into();
        if self.index.contains_key(&key) {
            return Err(Error::DuplicateId {
                kind: "arm",
                id: key,
            });
        }
        self.index.insert(key.clone(), self.keys.len());
        let c = &self.config;
        let rate = c.rate_prior.update(0.0, 0.0);
        let cvr = c.cvr_prior.update(0.0, 0.0);
        let aov = c.aov_prior.update(0.0, 0.0);
        self.keys.push(key);
        self.active.push(true);
        self.counts.push(ArmCounts::default());
        if let Forgetting::Window { periods } = c.forgetting {
            self.window
                .extend(std::iter::repeat_n(ArmCounts::default(), periods as usize));
        }
        self.overrides.push(None);
        self.rate_post.push(rate);
        self.cvr_post.push(cvr);
        self.aov_post.push(aov);
        self.rate_sampler.push(rate.sampler());
        self.cvr_sampler.push(cvr.sampler());
        self.aov_sampler.push(aov.sampler());
        self.inv_cpc.push(0.0);
        self.mean_rate.push(0.0);
        self.mean_cvr.push(0.0);
        self.mean_value.push(0.0);
        self.mean_roi.push(0.0);
        self.inv_trials.push(f64::INFINITY);
        self.inv_clicks.push(f64::INFINITY);
        self.eff_trials.push(0.0);
        self.eff_clicks.push(0.0);
        let ix = self.keys.len() - 1;
        self.refresh(ix);
        Ok(ix)
    }

    /// The index of the arm with `key`.
    pub fn find(&self, key: &str) -> Option<ArmIx> {
        self.index.get(key).copied()
    }

    fn check_ix(&self, ix: ArmIx) -> Result<()> {
        if ix < self.keys.len() {
            Ok(())
        } else {
            Err(Error::UnknownId {
                kind: "arm",
                id: ix.to_string(),
            })
        }
    }

    /// Retires an arm: policies give it `f64::NEG_INFINITY` and never choose it. Its evidence
    /// is kept (and still forgotten) in case it comes back.
    ///
    /// # Errors
    /// [`Error::UnknownId`] if `ix` is out of range.
    pub fn retire(&mut self, ix: ArmIx) -> Result<()> {
        self.check_ix(ix)?;
        self.active[ix] = false;
        Ok(())
    }

    /// Brings a retired arm back.
    ///
    /// # Errors
    /// [`Error::UnknownId`] if `ix` is out of range.
    pub fn reactivate(&mut self, ix: ArmIx) -> Result<()> {
        self.check_ix(ix)?;
        self.active[ix] = true;
        Ok(())
    }

    fn add_counts(&mut self, ix: ArmIx, d: &ArmCounts) {
        self.counts[ix].add(d);
        if let Forgetting::Window { periods } = self.config.forgetting {
            self.window[ix * periods as usize + self.slot].add(d);
        }
        self.total_trials += d.trials;
        self.total_clicks += d.clicks;
        // Only the half whose counts moved needs new samplers.
        if d.trials > 0.0 || d.successes > 0.0 {
            self.refresh_rate(ix);
        }
        if d.clicks > 0.0 || d.orders > 0.0 || d.revenue > 0.0 || d.cost > 0.0 {
            self.refresh_value(ix);
        }
    }

    /// Adds `successes` out of `trials` of the rate reward to arm `ix` (fractional counts
    /// allowed, e.g. pre-weighted data).
    ///
    /// # Errors
    /// [`Error::UnknownId`] for a bad index; [`Error::InvalidValue`] for negative or
    /// non-finite counts; [`Error::Inconsistent`] if `successes > trials`.
    pub fn update(&mut self, ix: ArmIx, successes: f64, trials: f64) -> Result<()> {
        self.check_ix(ix)?;
        let d = ArmCounts {
            successes,
            trials,
            ..ArmCounts::default()
        };
        d.check("update")?;
        if successes > trials {
            return Err(Error::Inconsistent {
                field: "update".into(),
                reason: format!("successes {successes} > trials {trials}"),
            });
        }
        self.add_counts(ix, &d);
        Ok(())
    }

    /// Adds the parts of the value rewards to arm `ix`: `clicks`, `orders` from them, their
    /// `revenue` and `cost` (currency units).
    ///
    /// # Errors
    /// [`Error::UnknownId`] for a bad index; [`Error::InvalidValue`] for negative or
    /// non-finite values; [`Error::Inconsistent`] if `orders > clicks`.
    pub fn update_value(
        &mut self,
        ix: ArmIx,
        clicks: f64,
        orders: f64,
        revenue: f64,
        cost: f64,
    ) -> Result<()> {
        self.check_ix(ix)?;
        let d = ArmCounts {
            clicks,
            orders,
            revenue,
            cost,
            ..ArmCounts::default()
        };
        d.check("update_value")?;
        if orders > clicks {
            return Err(Error::Inconsistent {
                field: "update_value".into(),
                reason: format!("orders {orders} > clicks {clicks}"),
            });
        }
        self.add_counts(ix, &d);
        Ok(())
    }

    /// Adds a period's [`Stats`]: the rate reward is CTR (clicks of impressions) and the value
    /// parts are clicks, conversions, revenue and cost.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for a bad index.
    pub fn update_stats(&mut self, ix: ArmIx, s: &Stats) -> Result<()> {
        self.check_ix(ix)?;
        // `Stats` is validated (clicks <= impressions, conversions <= clicks, money >= 0).
        let d = ArmCounts {
            successes: s.clicks() as f64,
            trials: s.impressions() as f64,
            clicks: s.clicks() as f64,
            orders: s.conversions() as f64,
            revenue: s.revenue().units(),
            cost: s.cost().units(),
        };
        self.add_counts(ix, &d);
        Ok(())
    }

    /// Replaces arm `ix`'s posteriors with ones computed elsewhere (e.g. shrunk toward a
    /// parent). They stay until the next `set_posteriors` or [`Arms::clear_posteriors`];
    /// counts (used by UCB1's exploration bonus and by cpc) still come from updates.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for a bad index.
    pub fn set_posteriors(&mut self, ix: ArmIx, posteriors: ArmPosteriors) -> Result<()> {
        self.check_ix(ix)?;
        self.overrides[ix] = Some(posteriors);
        self.refresh(ix);
        Ok(())
    }

    /// Goes back to posteriors computed from the container's priors and counts.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for a bad index.
    pub fn clear_posteriors(&mut self, ix: ArmIx) -> Result<()> {
        self.check_ix(ix)?;
        self.overrides[ix] = None;
        self.refresh(ix);
        Ok(())
    }

    /// Ends a period and applies forgetting: discounting multiplies all evidence by `gamma`;
    /// a window drops the period that falls out of it. Cost: O(arms), O(arms x window).
    pub fn end_period(&mut self) {
        match self.config.forgetting {
            Forgetting::Never => return,
            Forgetting::Discount { gamma } => {
                for c in &mut self.counts {
                    c.scale(gamma);
                }
            }
            Forgetting::Window { periods } => {
                let w = periods as usize;
                self.slot = (self.slot + 1) % w;
                for i in 0..self.keys.len() {
                    // The slot now reused is the one `w` periods old: it leaves the window.
                    self.window[i * w + self.slot] = ArmCounts::default();
                    // Re-summing (not subtracting) keeps rounding from drifting below zero.
                    self.counts[i] = self.window_sum(i);
                }
            }
        }
        self.refresh_all();
    }

    fn window_sum(&self, i: ArmIx) -> ArmCounts {
        let mut s = ArmCounts::default();
        if let Forgetting::Window { periods } = self.config.forgetting {
            let w = periods as usize;
            for c in &self.window[i * w..(i + 1) * w] {
                s.add(c);
            }
        }
        s
    }

    fn refresh_all(&mut self) {
        self.total_trials = 0.0;
        self.total_clicks = 0.0;
        self.total_eff_trials = 0.0;
        self.total_eff_clicks = 0.0;
        self.eff_trials.iter_mut().for_each(|x| *x = 0.0);
        self.eff_clicks.iter_mut().for_each(|x| *x = 0.0);
        for i in 0..self.keys.len() {
            self.total_trials += self.counts[i].trials;
            self.total_clicks += self.counts[i].clicks;
            self.refresh(i);
        }
    }

    /// Rebuilds arm `i`'s posteriors, samplers and means from its counts or override.
    fn refresh(&mut self, i: ArmIx) {
        self.refresh_rate(i);
        self.refresh_value(i);
    }

    /// The rate half of [`Arms::refresh`] (all a rate update touches).
    fn refresh_rate(&mut self, i: ArmIx) {
        let c = self.counts[i];
        let (rate, n) = match self.overrides[i] {
            // Posteriors set from outside carry their evidence in their strength.
            Some(p) => (p.rate, p.rate.strength()),
            None => (
                self.config.rate_prior.update(c.successes, c.trials),
                c.trials,
            ),
        };
        self.rate_post[i] = rate;
        self.rate_sampler[i] = rate.sampler();
        self.mean_rate[i] = rate.mean();
        self.total_eff_trials += n - self.eff_trials[i];
        self.eff_trials[i] = n;
        // 1/n with n = 0 giving +inf: UCB's bonus for an untried arm is then +inf.
        self.inv_trials[i] = if n > 0.0 { 1.0 / n } else { f64::INFINITY };
    }

    /// The value half of [`Arms::refresh`] (CVR, AOV, cpc).
    fn refresh_value(&mut self, i: ArmIx) {
        let c = self.counts[i];
        let cfg = &self.config;
        let (cvr, aov) = match self.overrides[i] {
            Some(p) => (p.cvr, p.aov),
            None => (
                cfg.cvr_prior.update(c.orders, c.clicks),
                cfg.aov_prior.update(c.orders, c.revenue),
            ),
        };
        let cpc = (c.cost + cfg.prior_cpc) / (c.clicks + 1.0);
        self.cvr_post[i] = cvr;
        self.aov_post[i] = aov;
        self.cvr_sampler[i] = cvr.sampler();
        self.aov_sampler[i] = aov.sampler();
        self.inv_cpc[i] = 1.0 / cpc;
        self.mean_cvr[i] = cvr.mean();
        self.mean_value[i] = cvr.mean() * aov.mean();
        self.mean_roi[i] = self.mean_value[i] / cpc;
        let n = match self.overrides[i] {
            Some(p) => p.cvr.strength(),
            None => c.clicks,
        };
        self.total_eff_clicks += n - self.eff_clicks[i];
        self.eff_clicks[i] = n;
        self.inv_clicks[i] = if n > 0.0 { 1.0 / n } else { f64::INFINITY };
    }

    /// Number of arms, active and retired.
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    /// True if there are no arms.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
    /// Number of active arms.
    pub fn active_len(&self) -> usize {
        self.active.iter().filter(|a| **a).count()
    }
    /// Whether arm `ix` is active (false for out-of-range indices).
    pub fn is_active(&self, ix: ArmIx) -> bool {
        self.active.get(ix).copied().unwrap_or(false)
    }
    /// The active flags, one per arm.
    pub fn active(&self) -> &[bool] {
        &self.active
    }
    /// Arm keys, one per arm.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }
    /// Effective counts of arm `ix` (after forgetting). Panics if `ix` is out of range.
    pub fn counts(&self, ix: ArmIx) -> ArmCounts {
        self.counts[ix]
    }
    /// Posterior of the rate reward of arm `ix`. Panics if `ix` is out of range.
    pub fn rate_posterior(&self, ix: ArmIx) -> BetaPosterior {
        self.rate_post[ix]
    }
    /// Posterior CVR of arm `ix`. Panics if `ix` is out of range.
    pub fn cvr_posterior(&self, ix: ArmIx) -> BetaPosterior {
        self.cvr_post[ix]
    }
    /// Posterior AOV of arm `ix`. Panics if `ix` is out of range.
    pub fn aov_posterior(&self, ix: ArmIx) -> OrderValuePosterior {
        self.aov_post[ix]
    }
    /// Cost-per-click estimate of arm `ix`, `(cost + prior_cpc) / (clicks + 1)`.
    pub fn cpc(&self, ix: ArmIx) -> f64 {
        1.0 / self.inv_cpc[ix]
    }
    /// Posterior means of `reward`, one per arm.
    pub fn means(&self, reward: Reward) -> &[f64] {
        match reward {
            Reward::Rate | Reward::Ctr => &self.mean_rate,
            Reward::Cvr => &self.mean_cvr,
            Reward::ValuePerClick => &self.mean_value,
            Reward::Roi => &self.mean_roi,
        }
    }
    /// `1 / n` per arm, where `n` is the effective number of trials of `reward` (impressions
    /// or other trials for rates, clicks for value rewards); `+inf` for an arm without any.
    pub fn inv_trials(&self, reward: Reward) -> &[f64] {
        match reward {
            Reward::Rate | Reward::Ctr => &self.inv_trials,
            _ => &self.inv_clicks,
        }
    }
    /// Effective trials of `reward` summed over all arms.
    pub fn total_trials(&self, reward: Reward) -> f64 {
        match reward {
            Reward::Rate | Reward::Ctr => self.total_eff_trials,
            _ => self.total_eff_clicks,
        }
    }
    /// Cached rate samplers, one per arm.
    pub fn rate_samplers(&self) -> &[BetaSampler] {
        &self.rate_sampler
    }
    /// Cached CVR samplers, one per arm.
    pub fn cvr_samplers(&self) -> &[BetaSampler] {
        &self.cvr_sampler
    }
    /// Cached AOV samplers, one per arm.
    pub fn aov_samplers(&self) -> &[OrderValueSampler] {
        &self.aov_sampler
    }
    /// `1 / cpc` per arm.
    pub fn inv_cpc(&self) -> &[f64] {
        &self.inv_cpc
    }
}

impl PosteriorView for Arms {
    fn len(&self) -> usize {
        self.keys.len()
    }
    fn active(&self) -> &[bool] {
        &self.active
    }
    fn means(&self, reward: Reward) -> &[f64] {
        Arms::means(self, reward)
    }
    fn inv_trials(&self, reward: Reward) -> &[f64] {
        Arms::inv_trials(self, reward)
    }
    fn total_trials(&self, reward: Reward) -> f64 {
        Arms::total_trials(self, reward)
    }
    fn beta_samplers(&self, reward: Reward) -> &[BetaSampler] {
        match reward {
            Reward::Rate | Reward::Ctr => &self.rate_sampler,
            _ => &self.cvr_sampler,
        }
    }
    fn beta_posterior(&self, reward: Reward, ix: usize) -> BetaPosterior {
        match reward {
            Reward::Rate | Reward::Ctr => self.rate_post[ix],
            _ => self.cvr_post[ix],
        }
    }
    fn aov_samplers(&self) -> &[OrderValueSampler] {
        &self.aov_sampler
    }
    fn aov_posterior(&self, ix: usize) -> OrderValuePosterior {
        self.aov_post[ix]
    }
    fn inv_cpc(&self) -> &[f64] {
        &self.inv_cpc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(f: Forgetting) -> ArmsConfig {
        ArmsConfig::new(BetaPrior::UNIFORM, f).unwrap()
    }

    #[test]
    fn add_retire_and_validation() {
        let mut a = Arms::new(cfg(Forgetting::Never));
        let x = a.add_arm("x").unwrap();
        assert!(matches!(a.add_arm("x"), Err(Error::DuplicateId { .. })));
        assert!(matches!(
            a.update(5, 1.0, 2.0),
            Err(Error::UnknownId { .. })
        ));
        assert!(matches!(
            a.update(x, f64::NAN, 2.0),
            Err(Error::InvalidValue { .. })
        ));
        assert!(matches!(
            a.update(x, 3.0, 2.0),
            Err(Error::Inconsistent { .. })
        ));
        assert!(a.update_value(x, 2.0, 3.0, 1.0, 1.0).is_err());
        a.update(x, 1.0, 4.0).unwrap();
        assert!((a.means(Reward::Rate)[x] - 2.0 / 6.0).abs() < 1e-12);
        a.retire(x).unwrap();
        assert!(!a.is_active(x));
        a.reactivate(x).unwrap();
        assert!(a.is_active(x));
        assert!(a.retire(9).is_err());
    }

    #[test]
    fn window_keeps_last_periods_only() {
        let mut a = Arms::new(cfg(Forgetting::window(2).unwrap()));
        let x = a.add_arm("x").unwrap();
        a.update(x, 1.0, 10.0).unwrap();
        a.end_period();
        a.update(x, 2.0, 10.0).unwrap();
        assert!((a.counts(x).trials - 20.0).abs() < 1e-12);
        a.end_period();
        assert!((a.counts(x).trials - 10.0).abs() < 1e-12);
        assert!((a.counts(x).successes - 2.0).abs() < 1e-12);
        a.end_period();
        assert!(a.counts(x).trials.abs() < 1e-12);
        assert!(a.inv_trials(Reward::Rate)[x].is_infinite());
    }

    #[test]
    fn discount_halves_with_half_life() {
        let mut a = Arms::new(cfg(Forgetting::half_life(2.0).unwrap()));
        let x = a.add_arm("x").unwrap();
        a.update_value(x, 100.0, 10.0, 500.0, 50.0).unwrap();
        a.end_period();
        a.end_period();
        assert!((a.counts(x).clicks - 50.0).abs() < 1e-9);
        assert!((a.total_trials(Reward::Roi) - 50.0).abs() < 1e-9);
        // Posteriors set from outside count with their strength.
        let post = ArmPosteriors {
            rate: BetaPrior::UNIFORM.update(10.0, 98.0),
            cvr: BetaPrior::UNIFORM.update(1.0, 8.0),
            aov: OrderValuePrior::new(10.0, 1.0, 2.0)
                .unwrap()
                .update(1.0, 10.0),
        };
        let before = a.total_trials(Reward::Rate);
        let ix = a.add_arm("override").unwrap();
        a.set_posteriors(ix, post).unwrap();
        assert!((a.total_trials(Reward::Rate) - before - 100.0).abs() < 1e-9);
        assert!((a.inv_trials(Reward::Rate)[ix] - 0.01).abs() < 1e-12);
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let mut a = Arms::new(cfg(Forgetting::window(3).unwrap()));
        a.add_arm("a").unwrap();
        a.add_arm("b").unwrap();
        a.update(1, 3.0, 9.0).unwrap();
        a.end_period();
        let j = serde_json::to_string(&a).unwrap();
        let b: Arms = serde_json::from_str(&j).unwrap();
        assert_eq!(b.counts(1), a.counts(1));
        assert_eq!(b.means(Reward::Rate), a.means(Reward::Rate));
        let bad = j.replace("\"trials\":9.0", "\"trials\":-9.0");
        assert!(serde_json::from_str::<Arms>(&bad).is_err());
        let dup = j.replace("\"b\"", "\"a\"");
        assert!(serde_json::from_str::<Arms>(&dup).is_err());
    }
}

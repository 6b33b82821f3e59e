//! [`Arms`]: the arms' statistics and posteriors, kept as struct-of-arrays for fast scoring.
//!
//! `Arms` is the standalone evidence store for policies used without the engine (the engine
//! keeps its own evidence and gives policies a [`PosteriorView`] of its fitted estimates).
//! Every policy reads it through that same view, and it forgets through the crate's one
//! forgetting implementation, [`Evidence`] with a [`Forgetting`] rule, so discounted and
//! sliding-window variants of every policy come for free: a policy scores the effective
//! (discounted or windowed) counts without knowing how they were formed.
//!
//! Updates only add to counters, and discounting moves one shared scale; samplers and means
//! are rebuilt lazily, for the arms that changed, when [`Arms::view`] hands policies the
//! [`ArmsView`] they score. So an update costs a counter add, a period costs O(1), and a
//! decision costs the draws plus one rebuild per changed arm.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use crate::estimate::Reward;
use crate::estimate::{
    BetaPosterior, BetaPrior, BetaSampler, BetaSamplers, Evidence, Forgetting, OrderValuePosterior,
    OrderValuePrior, OrderValueSampler, PosteriorView, Tally,
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

impl Tally for ArmCounts {
    fn add(&mut self, o: &ArmCounts) {
        self.successes += o.successes;
        self.trials += o.trials;
        self.clicks += o.clicks;
        self.orders += o.orders;
        self.revenue += o.revenue;
        self.cost += o.cost;
    }
    fn scaled(&self, f: f64) -> ArmCounts {
        ArmCounts {
            successes: self.successes * f,
            trials: self.trials * f,
            clicks: self.clicks * f,
            orders: self.orders * f,
            revenue: self.revenue * f,
            cost: self.cost * f,
        }
    }
    fn minus(&self, o: &ArmCounts) -> ArmCounts {
        ArmCounts {
            successes: (self.successes - o.successes).max(0.0),
            trials: (self.trials - o.trials).max(0.0),
            clicks: (self.clicks - o.clicks).max(0.0),
            orders: (self.orders - o.orders).max(0.0),
            revenue: (self.revenue - o.revenue).max(0.0),
            cost: (self.cost - o.cost).max(0.0),
        }
    }
}

impl ArmCounts {
    /// The largest field (for the overflow guard of the shared discount scale).
    fn max_field(&self) -> f64 {
        self.successes
            .max(self.trials)
            .max(self.clicks)
            .max(self.orders)
            .max(self.revenue)
            .max(self.cost)
    }

    /// Whether any value-reward count is positive.
    fn has_value(&self) -> bool {
        self.clicks > 0.0 || self.orders > 0.0 || self.revenue > 0.0 || self.cost > 0.0
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
#[serde(remote = "Self", deny_unknown_fields)]
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

crate::estimate::validated_serde!(ArmsConfig, |r| {
    ArmsConfig::new(r.rate_prior, r.forgetting)?.with_value_priors(
        r.cvr_prior,
        r.aov_prior,
        r.prior_cpc,
    )
});

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

/// The arms a policy chooses among, with their evidence; policies read them through
/// [`Arms::view`].
///
/// Updates are counter adds (O(1), a few ns) and discounting is one shared scale (O(1) per
/// period): the posteriors, samplers and means a policy reads are derived lazily, for the
/// arms whose counts changed, when [`Arms::view`] is next called. So a loop that updates one
/// arm per step rebuilds one arm's sampler per step, and a discounted loop that ends a
/// period every step rebuilds each arm once per step however many periods pass.
///
/// ```
/// use adbandit::estimate::{BetaPrior, Forgetting, PosteriorView, Reward};
/// use adbandit::policy::{Arms, ArmsConfig};
/// let cfg = ArmsConfig::new(BetaPrior::UNIFORM, Forgetting::half_life(7.0)?)?;
/// let mut arms = Arms::new(cfg);
/// let a = arms.add_arm("kw-1")?;
/// let b = arms.add_arm("kw-2")?;
/// arms.update(a, 30.0, 1000.0)?;
/// arms.update(b, 10.0, 1000.0)?;
/// arms.end_period(); // a day passes: evidence is discounted
/// assert!(arms.counts(a).trials < 1000.0);
/// assert!(arms.view().means(Reward::Rate)[a] > arms.view().means(Reward::Rate)[b]);
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
    /// Under `Never` and `Discount`: each arm's counts divided by `scale`, so that the
    /// effective (discounted) counts are `raw * scale`. One discount step multiplies `scale`
    /// by gamma instead of every arm's counts (the same rule as [`Evidence`], whose eager
    /// form the unit tests keep as the reference). Unused (zero) under `Window`.
    raw: Vec<ArmCounts>,
    /// The shared discount applied to `raw` (1 without discounting), and its inverse.
    scale: f64,
    inv_scale: f64,
    /// Whether `scale` is not 1 (so the common undiscounted path skips the multiplies).
    scaled: bool,
    /// Under `Window` only: each arm's evidence, forgotten by the one [`Evidence`]
    /// implementation (a window must remember per-period counts).
    evidence: Vec<Evidence<ArmCounts>>,
    /// The current period (advanced by [`Arms::end_period`]).
    period: i64,
    overrides: Vec<Option<ArmPosteriors>>,
    /// Per arm, which caches are stale (`RATE`, `VALUE` bits); each such arm is listed
    /// once in `dirty`.
    stale: Vec<u8>,
    dirty: Vec<ArmIx>,
    /// Every arm with evidence is stale (the scale moved or a window slid).
    all_dirty: bool,
    /// What policies read: rebuilt lazily from the above (never serialised).
    view: ArmsView,
}

/// The policies' view of an [`Arms`] container: posteriors, cached samplers, means and trial
/// counts, one entry per arm. Obtained fresh from [`Arms::view`].
#[derive(Debug, Clone, Default)]
pub struct ArmsView {
    active: Vec<bool>,
    rate_post: Vec<BetaPosterior>,
    cvr_post: Vec<BetaPosterior>,
    aov_post: Vec<OrderValuePosterior>,
    /// Built on an arm's first draw after its posterior changed (see [`BetaSamplers`]).
    rate_sampler: Vec<OnceLock<BetaSampler>>,
    cvr_sampler: Vec<OnceLock<BetaSampler>>,
    aov_sampler: Vec<OrderValueSampler>,
    inv_cpc: Vec<f64>,
    mean_rate: Vec<f64>,
    mean_cvr: Vec<f64>,
    mean_value: Vec<f64>,
    mean_roi: Vec<f64>,
    inv_trials: Vec<f64>,
    inv_clicks: Vec<f64>,
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
        // The format predates the shared evidence store: a window is written as a ring of
        // `periods` slots per arm, the current period at `slot`.
        let (window, slot) = match a.config.forgetting {
            Forgetting::Window { periods } => {
                let w = i64::from(periods);
                let mut ring = vec![ArmCounts::default(); a.keys.len() * periods as usize];
                for (i, ev) in a.evidence.iter().enumerate() {
                    for (p, c) in ev.periods() {
                        ring[i * periods as usize + p.rem_euclid(w) as usize] = c;
                    }
                }
                (ring, a.period.rem_euclid(w) as usize)
            }
            _ => (Vec::new(), 0),
        };
        // Effective counts, as before the shared scale existed (a restored container starts
        // at scale 1; later discounting can differ from the original in the last bit).
        let counts = (0..a.keys.len()).map(|i| a.counts(i)).collect();
        RawArms {
            config: a.config,
            keys: a.keys,
            active: a.view.active,
            counts,
            window,
            slot,
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
            arms.period = r.slot as i64;
        }
        for (i, key) in r.keys.into_iter().enumerate() {
            arms.add_arm(key)?;
            r.counts[i].check("arms.counts")?;
            arms.view.active[i] = r.active[i];
            arms.overrides[i] = r.overrides[i];
            match r.config.forgetting {
                // The totals are the window's sums; rebuild them rather than trust the copy.
                Forgetting::Window { periods } => {
                    let ev = &mut arms.evidence[i];
                    ev.advance_to(arms.period);
                    let w = periods as usize;
                    for age in (0..w).rev() {
                        let slot = (r.slot + w - age) % w;
                        let c = r.window[i * w + slot];
                        if c != ArmCounts::default() {
                            ev.add(arms.period - age as i64, &c);
                        }
                    }
                }
                _ => arms.raw[i] = r.counts[i],
            }
        }
        arms.all_dirty = true;
        arms.refresh();
        Ok(arms)
    }
}

/// Stale-cache bits of [`Arms::mark`].
const RATE: u8 = 1;
const VALUE: u8 = 2;

#[cold]
#[inline(never)]
fn unknown_arm(ix: ArmIx) -> Error {
    Error::UnknownId {
        kind: "arm",
        id: ix.to_string(),
    }
}

#[cold]
#[inline(never)]
fn bad_update(successes: f64, trials: f64) -> Error {
    let d = ArmCounts {
        successes,
        trials,
        ..ArmCounts::default()
    };
    match d.check("update") {
        Err(e) => e,
        Ok(()) => Error::Inconsistent {
            field: "update".into(),
            reason: format!("successes {successes} > trials {trials}"),
        },
    }
}

/// Below this shared scale the raw counts are renormalised (O(arms), once every
/// `ln(1e-64) / ln(gamma)` periods: 1,400 at gamma 0.9), so `raw / scale` never overflows.
const MIN_SCALE: f64 = 1e-64;

impl Arms {
    /// An empty container.
    pub fn new(config: ArmsConfig) -> Self {
        Arms {
            config,
            keys: Vec::new(),
            index: HashMap::new(),
            raw: Vec::new(),
            scale: 1.0,
            inv_scale: 1.0,
            scaled: false,
            evidence: Vec::new(),
            period: 0,
            overrides: Vec::new(),
            stale: Vec::new(),
            dirty: Vec::new(),
            all_dirty: false,
            view: ArmsView::default(),
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
        self.keys.push(key);
        self.raw.push(ArmCounts::default());
        if let Forgetting::Window { .. } = c.forgetting {
            let mut ev = Evidence::new(c.forgetting);
            ev.advance_to(self.period);
            self.evidence.push(ev);
        }
        self.overrides.push(None);
        self.stale.push(0);
        let v = &mut self.view;
        let rate = c.rate_prior.update(0.0, 0.0);
        let cvr = c.cvr_prior.update(0.0, 0.0);
        let aov = c.aov_prior.update(0.0, 0.0);
        v.active.push(true);
        v.rate_post.push(rate);
        v.cvr_post.push(cvr);
        v.aov_post.push(aov);
        v.rate_sampler.push(OnceLock::new());
        v.cvr_sampler.push(OnceLock::new());
        v.aov_sampler.push(aov.sampler());
        v.inv_cpc.push(0.0);
        v.mean_rate.push(0.0);
        v.mean_cvr.push(0.0);
        v.mean_value.push(0.0);
        v.mean_roi.push(0.0);
        v.inv_trials.push(f64::INFINITY);
        v.inv_clicks.push(f64::INFINITY);
        v.eff_trials.push(0.0);
        v.eff_clicks.push(0.0);
        let ix = self.keys.len() - 1;
        self.refresh_rate(ix);
        self.refresh_value(ix);
        Ok(ix)
    }

    /// The index of the arm with `key`.
    pub fn find(&self, key: &str) -> Option<ArmIx> {
        self.index.get(key).copied()
    }

    #[inline]
    fn check_ix(&self, ix: ArmIx) -> Result<()> {
        if ix < self.keys.len() {
            Ok(())
        } else {
            Err(unknown_arm(ix))
        }
    }

    /// Retires an arm: policies give it `f64::NEG_INFINITY` and never choose it. Its evidence
    /// is kept (and still forgotten) in case it comes back.
    ///
    /// # Errors
    /// [`Error::UnknownId`] if `ix` is out of range.
    pub fn retire(&mut self, ix: ArmIx) -> Result<()> {
        self.check_ix(ix)?;
        self.view.active[ix] = false;
        Ok(())
    }

    /// Brings a retired arm back.
    ///
    /// # Errors
    /// [`Error::UnknownId`] if `ix` is out of range.
    pub fn reactivate(&mut self, ix: ArmIx) -> Result<()> {
        self.check_ix(ix)?;
        self.view.active[ix] = true;
        Ok(())
    }

    /// Marks arm `ix`'s caches in `what` (`RATE`, `VALUE`) stale; each arm is listed once.
    #[inline]
    fn mark(&mut self, ix: ArmIx, what: u8) {
        let d = &mut self.stale[ix];
        if *d == 0 {
            self.dirty.push(ix);
        }
        *d |= what;
    }

    #[inline]
    fn add_counts(&mut self, ix: ArmIx, d: &ArmCounts) {
        match self.config.forgetting {
            Forgetting::Window { .. } => self.evidence[ix].add(self.period, d),
            _ => {
                // Counts so large that `d / scale` could overflow: fold the scale in first.
                if self.scale < 1.0 && d.max_field() > f64::MAX * self.scale {
                    self.renormalise();
                }
                if !self.scaled {
                    self.raw[ix].add(d);
                } else {
                    self.raw[ix].add(&d.scaled(self.inv_scale));
                }
            }
        }
        // Only the half whose counts moved goes stale.
        let rate = if d.trials > 0.0 || d.successes > 0.0 {
            RATE
        } else {
            0
        };
        let value = if d.has_value() { VALUE } else { 0 };
        if rate | value != 0 {
            self.mark(ix, rate | value);
        }
    }

    /// Folds the shared scale into the raw counts (effective counts unchanged).
    fn renormalise(&mut self) {
        let s = self.scale;
        for r in &mut self.raw {
            *r = r.scaled(s);
        }
        self.scale = 1.0;
        self.inv_scale = 1.0;
        self.scaled = false;
    }

    /// Adds `successes` out of `trials` of the rate reward to arm `ix` (fractional counts
    /// allowed, e.g. pre-weighted data). O(1): the arm's sampler is rebuilt at the next
    /// [`Arms::view`].
    ///
    /// # Errors
    /// [`Error::UnknownId`] for a bad index; [`Error::InvalidValue`] for negative or
    /// non-finite counts; [`Error::Inconsistent`] if `successes > trials`.
    #[inline]
    pub fn update(&mut self, ix: ArmIx, successes: f64, trials: f64) -> Result<()> {
        if ix >= self.raw.len() {
            return Err(unknown_arm(ix));
        }
        // One comparison chain that NaN, infinity, negatives and successes > trials all fail.
        if !(successes >= 0.0 && successes <= trials && trials < f64::INFINITY) {
            return Err(bad_update(successes, trials));
        }
        match self.config.forgetting {
            Forgetting::Window { .. } => {
                let d = ArmCounts {
                    successes,
                    trials,
                    ..ArmCounts::default()
                };
                self.evidence[ix].add(self.period, &d);
            }
            _ if !self.scaled => {
                let r = &mut self.raw[ix];
                r.successes += successes;
                r.trials += trials;
            }
            _ => {
                if trials > f64::MAX * self.scale {
                    self.renormalise();
                }
                let r = &mut self.raw[ix];
                r.successes += successes * self.inv_scale;
                r.trials += trials * self.inv_scale;
            }
        }
        if trials > 0.0 {
            self.mark(ix, RATE);
        }
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
        self.mark(ix, RATE | VALUE);
        Ok(())
    }

    /// Goes back to posteriors computed from the container's priors and counts.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for a bad index.
    pub fn clear_posteriors(&mut self, ix: ArmIx) -> Result<()> {
        self.check_ix(ix)?;
        self.overrides[ix] = None;
        self.mark(ix, RATE | VALUE);
        Ok(())
    }

    /// Ends a period and applies forgetting: discounting multiplies all evidence by `gamma`
    /// (one shared scale: O(1)); a window drops the period that falls out of it (O(arms x
    /// window)). The arms' caches are rebuilt at the next [`Arms::view`].
    pub fn end_period(&mut self) {
        match self.config.forgetting {
            Forgetting::Never => return,
            Forgetting::Discount { gamma } => {
                self.period += 1;
                if gamma >= 1.0 {
                    return;
                }
                self.scale *= gamma;
                self.inv_scale = 1.0 / self.scale;
                self.scaled = true;
                if self.scale < MIN_SCALE {
                    self.renormalise();
                }
            }
            Forgetting::Window { .. } => {
                self.period += 1;
                for ev in &mut self.evidence {
                    ev.advance_to(self.period);
                }
            }
        }
        self.all_dirty = true;
    }

    /// The policies' view, with every stale cache rebuilt first: O(arms changed since the
    /// last view), or O(arms) after a period was ended with forgetting.
    pub fn view(&mut self) -> &ArmsView {
        self.refresh();
        &self.view
    }

    /// Rebuilds the stale caches: after a period with forgetting every arm with evidence,
    /// otherwise only the changed arms. Samplers are built on an arm's first draw.
    fn refresh(&mut self) {
        if self.all_dirty {
            // Under discounting an arm without evidence sits at its prior whatever the
            // scale, and an override's rate posterior does not depend on the counts; a
            // window can empty an arm, so there every arm is rebuilt.
            let scaled = matches!(self.config.forgetting, Forgetting::Discount { .. });
            for i in 0..self.keys.len() {
                let c = self.counts(i);
                let none = self.overrides[i].is_none();
                let stale = self.stale[i];
                if !scaled || stale & RATE != 0 || (none && (c.trials > 0.0 || c.successes > 0.0)) {
                    self.refresh_rate(i);
                }
                if !scaled || stale & VALUE != 0 || c.has_value() {
                    self.refresh_value(i);
                }
                self.stale[i] = 0;
            }
            // Sum afresh (not incrementally) so rounding cannot build up over periods.
            let v = &mut self.view;
            v.total_eff_trials = v.eff_trials.iter().sum();
            v.total_eff_clicks = v.eff_clicks.iter().sum();
            self.dirty.clear();
            self.all_dirty = false;
            return;
        }
        while let Some(i) = self.dirty.pop() {
            let stale = std::mem::take(&mut self.stale[i]);
            if stale & RATE != 0 {
                self.refresh_rate(i);
            }
            if stale & VALUE != 0 {
                self.refresh_value(i);
            }
        }
    }

    /// Rebuilds arm `i`'s rate posterior, sampler, mean and 1/n.
    #[inline]
    fn refresh_rate(&mut self, i: ArmIx) {
        let c = self.counts(i);
        let (rate, n) = match self.overrides[i] {
            // Posteriors set from outside carry their evidence in their strength.
            Some(p) => (p.rate, p.rate.strength()),
            None => (
                self.config.rate_prior.update(c.successes, c.trials),
                c.trials,
            ),
        };
        let v = &mut self.view;
        v.rate_post[i] = rate;
        v.rate_sampler[i] = OnceLock::new();
        v.mean_rate[i] = rate.mean();
        v.total_eff_trials += n - v.eff_trials[i];
        v.eff_trials[i] = n;
        // 1/n with n = 0 giving +inf: UCB's bonus for an untried arm is then +inf.
        v.inv_trials[i] = if n > 0.0 { 1.0 / n } else { f64::INFINITY };
    }

    /// Rebuilds arm `i`'s value caches (CVR, AOV, cpc).
    fn refresh_value(&mut self, i: ArmIx) {
        let c = self.counts(i);
        let cfg = &self.config;
        let (cvr, aov) = match self.overrides[i] {
            Some(p) => (p.cvr, p.aov),
            None => (
                cfg.cvr_prior.update(c.orders, c.clicks),
                cfg.aov_prior.update(c.orders, c.revenue),
            ),
        };
        let cpc = (c.cost + cfg.prior_cpc) / (c.clicks + 1.0);
        let n = match self.overrides[i] {
            Some(p) => p.cvr.strength(),
            None => c.clicks,
        };
        let v = &mut self.view;
        v.cvr_post[i] = cvr;
        v.aov_post[i] = aov;
        v.cvr_sampler[i] = OnceLock::new();
        v.aov_sampler[i] = aov.sampler();
        v.inv_cpc[i] = 1.0 / cpc;
        v.mean_cvr[i] = cvr.mean();
        v.mean_value[i] = cvr.mean() * aov.mean();
        v.mean_roi[i] = v.mean_value[i] / cpc;
        v.total_eff_clicks += n - v.eff_clicks[i];
        v.eff_clicks[i] = n;
        v.inv_clicks[i] = if n > 0.0 { 1.0 / n } else { f64::INFINITY };
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
        self.view.active.iter().filter(|a| **a).count()
    }
    /// Whether arm `ix` is active (false for out-of-range indices).
    pub fn is_active(&self, ix: ArmIx) -> bool {
        self.view.active.get(ix).copied().unwrap_or(false)
    }
    /// The active flags, one per arm.
    pub fn active(&self) -> &[bool] {
        &self.view.active
    }
    /// Arm keys, one per arm.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }
    /// Effective counts of arm `ix` (after forgetting). Panics if `ix` is out of range.
    #[inline]
    pub fn counts(&self, ix: ArmIx) -> ArmCounts {
        match self.config.forgetting {
            Forgetting::Window { .. } => self.evidence[ix].total(),
            _ if !self.scaled => self.raw[ix],
            _ => self.raw[ix].scaled(self.scale),
        }
    }
    /// Posterior of the rate reward of arm `ix`. Panics if `ix` is out of range.
    pub fn rate_posterior(&self, ix: ArmIx) -> BetaPosterior {
        match self.overrides[ix] {
            Some(p) => p.rate,
            None => {
                let c = self.counts(ix);
                self.config.rate_prior.update(c.successes, c.trials)
            }
        }
    }
    /// Posterior CVR of arm `ix`. Panics if `ix` is out of range.
    pub fn cvr_posterior(&self, ix: ArmIx) -> BetaPosterior {
        match self.overrides[ix] {
            Some(p) => p.cvr,
            None => {
                let c = self.counts(ix);
                self.config.cvr_prior.update(c.orders, c.clicks)
            }
        }
    }
    /// Posterior AOV of arm `ix`. Panics if `ix` is out of range.
    pub fn aov_posterior(&self, ix: ArmIx) -> OrderValuePosterior {
        match self.overrides[ix] {
            Some(p) => p.aov,
            None => {
                let c = self.counts(ix);
                self.config.aov_prior.update(c.orders, c.revenue)
            }
        }
    }
    /// Cost-per-click estimate of arm `ix`, `(cost + prior_cpc) / (clicks + 1)`.
    pub fn cpc(&self, ix: ArmIx) -> f64 {
        let c = self.counts(ix);
        (c.cost + self.config.prior_cpc) / (c.clicks + 1.0)
    }
}

impl PosteriorView for ArmsView {
    fn len(&self) -> usize {
        self.active.len()
    }
    fn active(&self) -> &[bool] {
        &self.active
    }
    fn means(&self, reward: Reward) -> &[f64] {
        match reward {
            Reward::Rate | Reward::Ctr => &self.mean_rate,
            Reward::Cvr => &self.mean_cvr,
            Reward::ValuePerClick => &self.mean_value,
            Reward::Roi => &self.mean_roi,
        }
    }
    fn inv_trials(&self, reward: Reward) -> &[f64] {
        match reward {
            Reward::Rate | Reward::Ctr => &self.inv_trials,
            _ => &self.inv_clicks,
        }
    }
    fn total_trials(&self, reward: Reward) -> f64 {
        match reward {
            Reward::Rate | Reward::Ctr => self.total_eff_trials,
            _ => self.total_eff_clicks,
        }
    }
    fn beta_samplers(&self, reward: Reward) -> BetaSamplers<'_> {
        match reward {
            Reward::Rate | Reward::Ctr => BetaSamplers::Lazy {
                posteriors: &self.rate_post,
                cells: &self.rate_sampler,
            },
            _ => BetaSamplers::Lazy {
                posteriors: &self.cvr_post,
                cells: &self.cvr_sampler,
            },
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
        assert!((a.view().means(Reward::Rate)[x] - 2.0 / 6.0).abs() < 1e-12);
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
        assert!(a.view().inv_trials(Reward::Rate)[x].is_infinite());
    }

    #[test]
    fn discount_halves_with_half_life() {
        let mut a = Arms::new(cfg(Forgetting::half_life(2.0).unwrap()));
        let x = a.add_arm("x").unwrap();
        a.update_value(x, 100.0, 10.0, 500.0, 50.0).unwrap();
        a.end_period();
        a.end_period();
        assert!((a.counts(x).clicks - 50.0).abs() < 1e-9);
        assert!((a.view().total_trials(Reward::Roi) - 50.0).abs() < 1e-9);
        // Posteriors set from outside count with their strength.
        let post = ArmPosteriors {
            rate: BetaPrior::UNIFORM.update(10.0, 98.0),
            cvr: BetaPrior::UNIFORM.update(1.0, 8.0),
            aov: OrderValuePrior::new(10.0, 1.0, 2.0)
                .unwrap()
                .update(1.0, 10.0),
        };
        let before = a.view().total_trials(Reward::Rate);
        let ix = a.add_arm("override").unwrap();
        a.set_posteriors(ix, post).unwrap();
        assert!((a.view().total_trials(Reward::Rate) - before - 100.0).abs() < 1e-9);
        assert!((a.view().inv_trials(Reward::Rate)[ix] - 0.01).abs() < 1e-12);
    }

    /// The eager discount the shared scale replaced (every arm's counts multiplied by gamma
    /// each period, through [`Evidence`]), kept as the reference.
    #[test]
    fn shared_scale_discount_equals_the_eager_one() {
        let f = Forgetting::discount(0.7).unwrap();
        let mut a = Arms::with_arms(cfg(f), 3);
        let mut eager: Vec<Evidence<ArmCounts>> = (0..3).map(|_| Evidence::new(f)).collect();
        let mut period = 0i64;
        let mut rng = crate::rng::stream(4, &[]);
        // 2,000 periods at 0.7 pass the renormalisation threshold (1e-64) seven times.
        for step in 0..6_000u32 {
            let i = (step % 3) as usize;
            let t: f64 = rand::RngExt::random_range(&mut rng, 1.0..50.0);
            let s = (t * 0.3).floor();
            a.update(i, s, t).unwrap();
            a.update_value(i, s, (s * 0.1).floor(), s * 7.0, t * 0.01)
                .unwrap();
            let d = ArmCounts {
                successes: s,
                trials: t,
                clicks: s,
                orders: (s * 0.1).floor(),
                revenue: s * 7.0,
                cost: t * 0.01,
            };
            eager[i].add(period, &d);
            if step % 3 == 2 {
                a.end_period();
                period += 1;
                eager.iter_mut().for_each(|e| e.advance_to(period));
            }
            if step % 301 == 0 || step == 5_999 {
                let post = a.view().means(Reward::Rate).to_vec();
                for (j, e) in eager.iter().enumerate() {
                    let (x, y) = (a.counts(j), e.total());
                    for (u, v) in [
                        (x.successes, y.successes),
                        (x.trials, y.trials),
                        (x.clicks, y.clicks),
                        (x.orders, y.orders),
                        (x.revenue, y.revenue),
                        (x.cost, y.cost),
                    ] {
                        assert!(
                            (u - v).abs() <= 1e-12 * v.abs().max(1.0),
                            "{step}: {u} vs {v}"
                        );
                    }
                    let want = BetaPrior::UNIFORM.update(y.successes, y.trials).mean();
                    assert!(
                        (post[j] - want).abs() < 1e-12,
                        "{step}: {} vs {want}",
                        post[j]
                    );
                }
            }
        }
        // Huge counts after a long decay renormalise instead of overflowing.
        for _ in 0..150 {
            a.end_period();
        }
        a.update(0, 1e300, 1e300).unwrap();
        assert!(a.counts(0).trials.is_finite() && a.counts(0).trials >= 1e300);
        assert!(a.view().means(Reward::Rate)[0].is_finite());
    }

    #[test]
    fn the_view_sees_every_change() {
        let mut a = Arms::new(cfg(Forgetting::window(1).unwrap()));
        let x = a.add_arm("x").unwrap();
        a.update(x, 9.0, 10.0).unwrap();
        assert!((a.view().means(Reward::Rate)[x] - 10.0 / 12.0).abs() < 1e-12);
        // The window empties the arm: back to the prior.
        a.end_period();
        assert!((a.view().means(Reward::Rate)[x] - 0.5).abs() < 1e-12);
        a.update_value(x, 10.0, 5.0, 50.0, 20.0).unwrap();
        a.update(x, 1.0, 10.0).unwrap();
        let v = a.view();
        assert!((v.means(Reward::Rate)[x] - 2.0 / 12.0).abs() < 1e-12);
        assert!((v.means(Reward::Cvr)[x] - 6.0 / 12.0).abs() < 1e-12);
        assert!((v.inv_cpc()[x] - 11.0 / 21.0).abs() < 1e-12);
        assert!((a.cpc(x) - 21.0 / 11.0).abs() < 1e-12);
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let mut a = Arms::new(cfg(Forgetting::window(3).unwrap()));
        a.add_arm("a").unwrap();
        a.add_arm("b").unwrap();
        a.update(1, 3.0, 9.0).unwrap();
        a.end_period();
        let j = serde_json::to_string(&a).unwrap();
        let mut b: Arms = serde_json::from_str(&j).unwrap();
        assert_eq!(b.counts(1), a.counts(1));
        assert_eq!(b.view().means(Reward::Rate), a.view().means(Reward::Rate));
        // The restored window ages exactly like the original.
        for (x, y) in [(&mut a, 2.0), (&mut b, 2.0)] {
            x.update(1, 1.0, y).unwrap();
            x.end_period();
            x.end_period();
        }
        assert_eq!(b.counts(1), a.counts(1));
        assert!((a.counts(1).trials - 2.0).abs() < 1e-12);
        a.end_period();
        assert!(a.counts(1).trials.abs() < 1e-12);
        let bad = j.replace("\"trials\":9.0", "\"trials\":-9.0");
        assert!(serde_json::from_str::<Arms>(&bad).is_err());
        let dup = j.replace("\"b\"", "\"a\"");
        assert!(serde_json::from_str::<Arms>(&dup).is_err());
    }
}

//! Pacing inside the day: spread a daily budget over the hours the traffic comes in.
//!
//! Target spend by the end of hour `h` is `budget x (traffic share up to h, masked by the
//! schedule)`. Before each hour the [`Pacer`] sets a throttle rate (the fraction of eligible
//! auctions to enter). It asks for the remaining budget spread over the remaining traffic,
//! `desired_h = remaining x share_h / remaining_share`, and corrects its rate multiplicatively
//! by how far the last hour's spend missed what it asked for, `rate *= (desired / actual)^gain`,
//! clamped to `[min_throttle, 1]` (Agarwal et al. 2014, "Budget pacing for targeted online
//! advertisements at LinkedIn"; Xu et al. 2015, "Smart pacing"). An hour that over-spends
//! leaves less to spread and lowers the rate; one that under-spends raises it.
//!
//! **Bids before throttles.** With a bid-scale range ([`PacingConfig::min_bid_scale`] to
//! [`PacingConfig::max_bid_scale`], `[0.5, 1.5]` by default), the pacer corrects by scaling the
//! plan's bids first and throttles only once the bids are at the bottom of the range: an
//! over-spending plan drops its dearest clicks (a lower bid loses the auctions it would have
//! paid most for) where a throttle drops cheap and dear clicks alike, and an under-spending
//! plan raises its bids, which a throttle already at 1 cannot do (the budget-aware oracle
//! paces the same way, re-solving each plan's bid multiplier before every hour). Spend is
//! taken to grow like the square of the bid scale (clicks and price per click both grow
//! with it), so a correction of the spend by `r` moves the scale by `sqrt(r)`. An under-
//! spending plan first opens its throttle back to 1, then raises its bids; an over-spending
//! one first lowers its bids, then throttles. The range `[1, 1]` is the throttle-only
//! pacer. Apply the scale to each keyword's bid and clamp it to the plan's bid limits (the
//! simulator does); a service that can only set one multiplier per plan caps the scale so
//! that its highest bid stays within the maximum ([`Pacer::with_max_scale`]).
//!
//! The hard cap is not the pacer's job: the server refuses a click whose price exceeds the
//! remaining budget (the simulator does), so spend never passes the cap whatever the forecast.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Schedule;
use crate::money::Money;

/// Expected relative traffic in each hour of the day (weights; shares are weight / sum).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f64>", into = "Vec<f64>")]
pub struct TrafficCurve([f64; 24]);

impl TrafficCurve {
    /// A typical e-commerce search day: quiet at night, rising through the day, peaking
    /// around 21:00.
    pub const ECOMMERCE: TrafficCurve = TrafficCurve([
        0.020, 0.012, 0.008, 0.006, 0.005, 0.007, 0.013, 0.024, 0.037, 0.046, 0.052, 0.054, 0.051,
        0.050, 0.052, 0.053, 0.052, 0.050, 0.051, 0.058, 0.066, 0.070, 0.060, 0.053,
    ]);

    /// A curve from non-negative weights (any scale; shares are normalised on use).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a negative or non-finite weight, or all zeros.
    pub fn new(weights: [f64; 24]) -> Result<Self> {
        for (h, &w) in weights.iter().enumerate() {
            if !(w.is_finite() && w >= 0.0) {
                return Err(Error::invalid(
                    format!("traffic_curve[{h}]"),
                    w,
                    "must be finite and >= 0",
                ));
            }
        }
        let s: f64 = weights.iter().sum();
        if !(s > 0.0) {
            return Err(Error::invalid(
                "traffic_curve",
                "all zero",
                "needs some traffic",
            ));
        }
        Ok(TrafficCurve(weights))
    }

    /// Share of the day's traffic in `hour`.
    pub fn share(&self, hour: usize) -> f64 {
        self.0[hour % 24] / self.0.iter().sum::<f64>()
    }

    /// The 24 shares (summing to 1).
    pub fn shares(&self) -> [f64; 24] {
        let s: f64 = self.0.iter().sum();
        self.0.map(|w| w / s)
    }

    /// Shares masked by a schedule (hours with multiplier 0 get none) and renormalised.
    /// A schedule with no active hour gives all zeros.
    pub fn masked(&self, schedule: &Schedule) -> [f64; 24] {
        let mut out = [0.0; 24];
        for (h, o) in out.iter_mut().enumerate() {
            if schedule.is_active(h) {
                *o = self.0[h];
            }
        }
        // Renormalise over the active hours.
        let s: f64 = out.iter().sum();
        if s > 0.0 {
            out.iter_mut().for_each(|x| *x /= s);
        }
        out
    }
}

impl Default for TrafficCurve {
    fn default() -> Self {
        TrafficCurve::ECOMMERCE
    }
}

impl TryFrom<Vec<f64>> for TrafficCurve {
    type Error = Error;
    fn try_from(v: Vec<f64>) -> Result<Self> {
        let arr: [f64; 24] = v.as_slice().try_into().map_err(|_| {
            Error::invalid(
                "traffic_curve",
                format!("{} values", v.len()),
                "must have 24 values",
            )
        })?;
        TrafficCurve::new(arr)
    }
}

impl From<TrafficCurve> for Vec<f64> {
    fn from(c: TrafficCurve) -> Vec<f64> {
        c.0.to_vec()
    }
}

/// Pacer settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct PacingConfig {
    /// Exponent of the multiplicative correction, in (0, 1]; 1 corrects fully each hour.
    pub gain: f64,
    /// Lowest throttle rate, in (0, 1].
    pub min_throttle: f64,
    /// Lowest scale the pacer puts on the plan's bids, in (0, 1] (see the module docs).
    /// [`PacingConfig::default`] uses 0.5; a file without the field gets 1 (throttle only,
    /// the pacer before the field existed).
    #[serde(default = "one")]
    pub min_bid_scale: f64,
    /// Highest scale the pacer puts on the plan's bids, in [1, 4]. [`PacingConfig::default`]
    /// uses 1.5; a file without the field gets 1.
    #[serde(default = "one")]
    pub max_bid_scale: f64,
}

fn one() -> f64 {
    1.0
}

crate::estimate::validated_serde!(PacingConfig, |c| PacingConfig::new(c.gain, c.min_throttle)?
    .with_bid_scale(c.min_bid_scale, c.max_bid_scale));

impl Default for PacingConfig {
    fn default() -> Self {
        PacingConfig {
            gain: 0.7,
            min_throttle: 0.02,
            min_bid_scale: 0.5,
            max_bid_scale: 1.5,
        }
    }
}

impl PacingConfig {
    /// Validated settings.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless both are in (0, 1].
    pub fn new(gain: f64, min_throttle: f64) -> Result<Self> {
        if !(gain > 0.0 && gain <= 1.0) {
            return Err(Error::parameter("gain", gain, "must be in (0, 1]"));
        }
        if !(min_throttle > 0.0 && min_throttle <= 1.0) {
            return Err(Error::parameter(
                "min_throttle",
                min_throttle,
                "must be in (0, 1]",
            ));
        }
        Ok(PacingConfig {
            gain,
            min_throttle,
            min_bid_scale: 1.0,
            max_bid_scale: 1.0,
        })
    }

    /// The same settings with bids scaled within `[min, max]` before any throttling (see
    /// the module docs; `[1, 1]` throttles only).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `min` is in (0, 1] and `max` in [1, 4].
    pub fn with_bid_scale(self, min: f64, max: f64) -> Result<Self> {
        if !(min > 0.0 && min <= 1.0) {
            return Err(Error::parameter("min_bid_scale", min, "must be in (0, 1]"));
        }
        if !(1.0..=4.0).contains(&max) {
            return Err(Error::parameter("max_bid_scale", max, "must be in [1, 4]"));
        }
        Ok(PacingConfig {
            min_bid_scale: min,
            max_bid_scale: max,
            ..self
        })
    }
}

/// What to do in the coming hour.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HourControl {
    /// Fraction of eligible auctions to enter, in [0, 1] (0 in the schedule's dark hours).
    pub throttle: f64,
    /// The schedule's bid multiplier for the hour.
    pub bid_multiplier: f64,
    /// Spend the pacer is aiming for in this hour.
    pub desired_spend: Money,
    /// Scale on the plan's bids for the hour, on top of the schedule's multiplier (1 with
    /// a throttle-only pacer).
    #[serde(default = "one")]
    pub bid_scale: f64,
}

/// Paces one plan's day. Serialisable, so a service can persist it between hours.
///
/// ```
/// use adbandit::pacing::{PacingConfig, Pacer, TrafficCurve};
/// use adbandit::{Money, Schedule};
/// let budget = Money::from_units(240)?;
/// let mut p = Pacer::new(budget, &Schedule::ALWAYS, &TrafficCurve::ECOMMERCE, PacingConfig::default(), 1.0)?;
/// let c = p.control(0, Money::ZERO);
/// assert!(c.throttle > 0.0 && c.desired_spend <= budget);
/// # Ok::<(), adbandit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pacer {
    budget: Money,
    shares: [f64; 24],
    multipliers: [f64; 24],
    cfg: PacingConfig,
    rate: f64,
    last: Option<(u8, Money, f64)>, // (hour, spent before it, desired spend in it)
    /// The bid scale now, and the largest the caller allows (bids at the plan's maximum;
    /// none: the range's maximum).
    #[serde(default = "one")]
    scale: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scale_cap: Option<f64>,
    /// Spend seen so far today, and its sum weighted by the bid scale it was bought at.
    #[serde(default)]
    scaled_spend: f64,
    #[serde(default)]
    seen_spend: f64,
}

impl Pacer {
    /// A pacer for a day with `budget`, delivering on `schedule`, expecting `traffic`.
    /// `initial_throttle` is the first hour's rate (e.g. budget / expected full-day spend,
    /// clamped to [min_throttle, 1]).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a negative budget or an initial throttle that is not a
    /// number.
    pub fn new(
        budget: Money,
        schedule: &Schedule,
        traffic: &TrafficCurve,
        cfg: PacingConfig,
        initial_throttle: f64,
    ) -> Result<Self> {
        if budget.is_negative() {
            return Err(Error::invalid("pacer.budget", budget, "must be >= 0"));
        }
        if initial_throttle.is_nan() {
            return Err(Error::invalid(
                "pacer.initial_throttle",
                initial_throttle,
                "must be a number",
            ));
        }
        Ok(Pacer {
            budget,
            shares: traffic.masked(schedule),
            multipliers: *schedule.multipliers(),
            cfg,
            rate: initial_throttle.clamp(cfg.min_throttle, 1.0),
            last: None,
            scale: 1.0,
            scale_cap: None,
            scaled_spend: 0.0,
            seen_spend: 0.0,
        })
    }

    /// The same pacer with its bid scale capped at `cap` (e.g. the plan's maximum bid over
    /// its highest keyword bid, so that scaling never bids past the maximum). A cap below
    /// 1 lowers the scale at once.
    pub fn with_max_scale(mut self, cap: f64) -> Self {
        if cap > 0.0 && cap.is_finite() {
            self.scale_cap = Some(cap);
            self.scale = self.scale.min(self.max_scale());
        }
        self
    }

    /// The highest scale the pacer may use now.
    fn max_scale(&self) -> f64 {
        self.cfg
            .max_bid_scale
            .min(self.scale_cap.unwrap_or(f64::INFINITY))
    }

    /// Applies a wanted change of the hour's spend by `ratio`: bids first, the throttle
    /// last when cutting; the throttle first, bids last when opening up (see the module
    /// docs).
    fn correct(&mut self, ratio: f64) {
        let mut log_r = ratio.ln() * self.cfg.gain;
        let (min_s, max_s) = (
            self.cfg.min_bid_scale.min(self.max_scale()),
            self.max_scale(),
        );
        if log_r < 0.0 {
            // Spend goes like scale^2: the scale absorbs what it can down to its minimum.
            let room = 2.0 * (min_s / self.scale).ln().min(0.0);
            let used = log_r.max(room);
            self.scale *= (used / 2.0).exp();
            log_r -= used;
            self.rate *= log_r.exp();
        } else {
            let room = -self.rate.ln();
            let used = log_r.min(room);
            self.rate *= used.exp();
            log_r -= used;
            let room = 2.0 * (max_s / self.scale).ln().max(0.0);
            self.scale *= (log_r.min(room) / 2.0).exp();
        }
        self.rate = self.rate.clamp(self.cfg.min_throttle, 1.0);
        self.scale = self.scale.clamp(min_s, max_s.max(min_s));
    }

    /// Planned cumulative spend by the end of `hour`.
    pub fn target_by_end_of(&self, hour: usize) -> Money {
        let share: f64 = self.shares[..=hour.min(23)].iter().sum();
        Money::from_micros((self.budget.micros() as f64 * share.min(1.0)).floor() as i64)
    }

    /// The control for `hour` given what was spent so far today. Call once per hour, in
    /// order; a skipped hour is fine (its spend counts toward the next correction).
    pub fn control(&mut self, hour: u8, spent_so_far: Money) -> HourControl {
        let h = usize::from(hour.min(23));
        if let Some((_, spent_before, desired)) = self.last {
            let actual = spent_so_far.saturating_sub(spent_before).micros() as f64;
            self.seen_spend += actual.max(0.0);
            self.scaled_spend += actual.max(0.0) * self.scale;
            let ratio = if actual > 0.0 {
                desired / actual
            } else if desired > 0.0 {
                2.0 // nothing spent although asked to: open up
            } else {
                1.0
            };
            if ratio.is_finite() && ratio > 0.0 {
                if self.cfg.min_bid_scale < 1.0 || self.cfg.max_bid_scale > 1.0 {
                    self.correct(ratio);
                } else {
                    // The throttle-only pacer, as it always computed.
                    self.rate =
                        (self.rate * ratio.powf(self.cfg.gain)).clamp(self.cfg.min_throttle, 1.0);
                }
            }
        }
        let remaining = self.budget.saturating_sub(spent_so_far).micros().max(0) as f64;
        let remaining_share: f64 = self.shares[h..].iter().sum();
        let desired = if remaining_share > 0.0 {
            remaining * self.shares[h] / remaining_share
        } else {
            0.0
        };
        self.last = Some((hour, spent_so_far, desired));
        let active = self.multipliers[h] > 0.0 && remaining > 0.0;
        HourControl {
            throttle: if active { self.rate } else { 0.0 },
            bid_multiplier: self.multipliers[h],
            desired_spend: Money::from_micros(desired.floor() as i64),
            bid_scale: self.scale,
        }
    }

    /// The current bid scale.
    pub fn bid_scale(&self) -> f64 {
        self.scale
    }

    /// The day's spend-weighted mean bid scale, given what the plan spent in the whole day
    /// (the spend after the last [`Pacer::control`] call counts at the last scale); 1 if
    /// nothing was spent. What [`crate::engine::Engine::record_bid_scale`] takes.
    pub fn mean_bid_scale(&self, spent_today: Money) -> f64 {
        let tail = match self.last {
            Some((_, before, _)) => spent_today.saturating_sub(before).micros().max(0) as f64,
            None => 0.0,
        };
        let (w, s) = (
            self.seen_spend + tail,
            self.scaled_spend + tail * self.scale,
        );
        if w > 0.0 && (s / w).is_finite() {
            s / w
        } else {
            1.0
        }
    }

    /// The current throttle rate.
    pub fn rate(&self) -> f64 {
        self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;
    use rand::RngExt;

    /// A simulated day: the plan could spend `capacity x share_h` in hour h at full rate
    /// and bids as set (with +-30% noise); it spends `rate x scale^2 x that` (spend grows
    /// like the square of the bid), never past the budget.
    fn simulate(capacity_multiple: f64, seed: u64) -> (Money, Vec<f64>, Pacer) {
        simulate_with(PacingConfig::default(), capacity_multiple, seed)
    }

    /// A pacer with the default settings for an always-on plan on the e-commerce curve.
    fn day_pacer(budget_units: i64, initial_throttle: f64) -> Pacer {
        Pacer::new(
            Money::from_units(budget_units).unwrap(),
            &Schedule::ALWAYS,
            &TrafficCurve::ECOMMERCE,
            PacingConfig::default(),
            initial_throttle,
        )
        .unwrap()
    }

    fn simulate_with(
        cfg: PacingConfig,
        capacity_multiple: f64,
        seed: u64,
    ) -> (Money, Vec<f64>, Pacer) {
        let budget = Money::from_units(1000).unwrap();
        let curve = TrafficCurve::ECOMMERCE;
        let mut p = Pacer::new(
            budget,
            &Schedule::ALWAYS,
            &curve,
            cfg,
            1.0 / capacity_multiple,
        )
        .unwrap();
        let mut rng = stream(seed, &[]);
        let mut spent = Money::ZERO;
        let mut cum = Vec::new();
        for h in 0..24u8 {
            let c = p.control(h, spent);
            let noise = 0.7 + 0.6 * rng.random::<f64>();
            let potential = budget.units() * capacity_multiple * curve.share(h.into()) * noise;
            let want =
                Money::from_units_f64(potential * c.throttle * c.bid_scale * c.bid_scale).unwrap();
            let remaining = budget.saturating_sub(spent);
            spent = spent.checked_add(want.min(remaining)).unwrap();
            cum.push(spent.units() / budget.units());
        }
        (spent, cum, p)
    }

    #[test]
    fn an_over_spending_plan_lowers_its_bids_before_it_throttles() {
        // Demand at 1.5x the budget: the scale alone can absorb it (0.5^2 = 0.25).
        let (spent, _, p) = simulate(1.5, 4);
        assert!(spent <= Money::from_units(1000).unwrap());
        assert!(p.bid_scale() < 1.0, "scale {}", p.bid_scale());
        // Started at 1 / 1.5 and opened to full rate before the bids went down.
        assert!(p.rate() > 0.99, "rate {}", p.rate());
        // Demand at 8x: the scale bottoms out at 0.5 and the throttle takes the rest.
        let (spent, _, p) = simulate(8.0, 5);
        assert!(spent <= Money::from_units(1000).unwrap());
        assert!(
            (p.bid_scale() - 0.5).abs() < 1e-9,
            "scale {}",
            p.bid_scale()
        );
        assert!(p.rate() < 0.9, "rate {}", p.rate());
    }

    #[test]
    fn an_under_spending_plan_raises_its_bids_within_the_range_and_the_cap() {
        // Demand at 0.6x the budget: a throttle-only pacer cannot help; a scaling one raises
        // bids (spend x scale^2) and spends more, up to its maximum scale.
        let throttle_only = PacingConfig::default().with_bid_scale(1.0, 1.0).unwrap();
        let (plain, _, q) = simulate_with(throttle_only, 0.6, 6);
        assert!((q.bid_scale() - 1.0).abs() < 1e-12);
        let (scaled, _, p) = simulate(0.6, 6);
        assert!(scaled > plain, "{scaled} vs {plain}");
        assert!(
            p.bid_scale() > 1.0 && p.bid_scale() <= 1.5,
            "scale {}",
            p.bid_scale()
        );
        // A cap below the range's maximum holds (e.g. the highest bid at the plan's max).
        let mut capped = day_pacer(1000, 1.0).with_max_scale(1.1);
        let mut spent = Money::ZERO;
        for h in 0..24u8 {
            let c = capped.control(h, spent);
            assert!(c.bid_scale <= 1.1 + 1e-12, "hour {h}: {}", c.bid_scale);
            spent = spent.checked_add(Money::from_units(5).unwrap()).unwrap();
        }
    }

    #[test]
    fn the_throttle_only_range_paces_as_before() {
        // With the range [1, 1] the pacer's rates are the throttle-only rule's, bit for bit.
        let cfg = PacingConfig::new(0.7, 0.02).unwrap();
        assert_eq!(
            cfg,
            PacingConfig::default().with_bid_scale(1.0, 1.0).unwrap()
        );
        let mut p = Pacer::new(
            Money::from_units(500).unwrap(),
            &Schedule::ALWAYS,
            &TrafficCurve::ECOMMERCE,
            cfg,
            0.5,
        )
        .unwrap();
        let (mut rate, mut spent) = (0.5f64, Money::ZERO);
        for h in 0..24u8 {
            // The throttle-only rule on the pacer's own record of the last hour.
            if let Some((_, before, desired)) = p.last {
                let actual = spent.saturating_sub(before).micros() as f64;
                let ratio = if actual > 0.0 { desired / actual } else { 2.0 };
                rate = (rate * ratio.powf(0.7)).clamp(0.02, 1.0);
            }
            let c = p.control(h, spent);
            assert_eq!(c.throttle.to_bits(), rate.to_bits(), "hour {h}");
            assert_eq!(c.bid_scale.to_bits(), 1.0f64.to_bits());
            spent = spent
                .checked_add(Money::from_units(3 + i64::from(h % 5)).unwrap())
                .unwrap();
        }
    }

    #[test]
    fn a_pacer_persists_between_hours() {
        // A service stores the pacer between hours: JSON round trips, capped or not, and
        // the restored pacer controls the next hour exactly as the original would.
        for cap in [None, Some(1.2)] {
            let mut p = day_pacer(300, 1.0);
            if let Some(c) = cap {
                p = p.with_max_scale(c);
            }
            let _ = p.control(0, Money::ZERO);
            let _ = p.control(1, Money::from_units(40).unwrap());
            let json = serde_json::to_string(&p).unwrap();
            let mut q: Pacer = serde_json::from_str(&json).unwrap();
            assert_eq!(q, p);
            let spent = Money::from_units(45).unwrap();
            assert_eq!(q.control(2, spent), p.control(2, spent));
        }
    }

    #[test]
    fn the_mean_bid_scale_weighs_each_hour_by_its_spend() {
        let mut p = day_pacer(100, 1.0);
        assert!((p.mean_bid_scale(Money::ZERO) - 1.0).abs() < 1e-12);
        let _ = p.control(0, Money::ZERO);
        p.scale = 0.5;
        // 10 spent at scale 0.5, then 30 more after the last control at scale 0.8.
        let _ = p.control(1, Money::from_units(10).unwrap());
        p.scale = 0.8;
        let m = p.mean_bid_scale(Money::from_units(40).unwrap());
        assert!((m - (10.0 * 0.5 + 30.0 * 0.8) / 40.0).abs() < 1e-9, "{m}");
    }

    #[test]
    fn bad_bid_scale_ranges_are_refused() {
        let c = PacingConfig::default();
        for (lo, hi) in [
            (0.0, 1.5),
            (1.2, 1.5),
            (0.5, 0.9),
            (0.5, 5.0),
            (f64::NAN, 1.0),
        ] {
            assert!(c.with_bid_scale(lo, hi).is_err(), "{lo} {hi}");
        }
        // Files without the fields pace as before; files with bad ones are refused.
        let old: PacingConfig =
            serde_json::from_str(r#"{"gain":0.7,"min_throttle":0.02}"#).unwrap();
        assert_eq!(old, PacingConfig::new(0.7, 0.02).unwrap());
        assert!(
            serde_json::from_str::<PacingConfig>(
                r#"{"gain":0.7,"min_throttle":0.02,"min_bid_scale":2.0}"#
            )
            .is_err()
        );
    }

    #[test]
    fn spend_tracks_the_traffic_curve_and_never_exceeds_budget() {
        for (cap, seed) in [(1.5, 1), (3.0, 2), (8.0, 3)] {
            let (spent, cum, p) = simulate(cap, seed);
            assert!(spent <= Money::from_units(1000).unwrap());
            // Tolerance: cumulative spend within 12 points of the cumulative traffic share
            // at every hour, and at least 90% of the budget spent by the end of the day.
            for (h, c) in cum.iter().enumerate() {
                let target = p.target_by_end_of(h).units() / 1000.0;
                assert!(
                    (c - target).abs() < 0.12,
                    "cap {cap} hour {h}: {c:.3} vs {target:.3}"
                );
            }
            assert!(cum[23] > 0.9, "cap {cap}: spent {:.3}", cum[23]);
        }
    }

    #[test]
    fn dark_hours_get_no_delivery() {
        let mut h = [1.0; 24];
        h[..8].fill(0.0);
        let s = Schedule::new(h).unwrap();
        let mut p = Pacer::new(
            Money::from_units(10).unwrap(),
            &s,
            &TrafficCurve::ECOMMERCE,
            PacingConfig::default(),
            1.0,
        )
        .unwrap();
        for hour in 0..8 {
            assert!(p.control(hour, Money::ZERO).throttle.abs() < 1e-300);
        }
        assert!(p.control(8, Money::ZERO).throttle > 0.0);
        assert!(PacingConfig::new(0.0, 0.1).is_err());
        assert!(TrafficCurve::new([0.0; 24]).is_err());
    }
}

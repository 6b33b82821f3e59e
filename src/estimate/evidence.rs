//! Evidence per arm: (possibly discounted) counts that remember when they were seen.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::estimate::forgetting::Forgetting;
use crate::model::Stats;

/// Counters as floats, because discounting and event adjustment make them fractional.
/// Money is in currency units.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Impressions.
    pub impressions: f64,
    /// Clicks.
    pub clicks: f64,
    /// Conversions (orders).
    pub conversions: f64,
    /// Cost in currency units.
    pub cost: f64,
    /// Revenue in currency units.
    pub revenue: f64,
}

impl Counts {
    /// From validated stats.
    pub fn from_stats(s: &Stats) -> Self {
        Counts {
            impressions: s.impressions() as f64,
            clicks: s.clicks() as f64,
            conversions: s.conversions() as f64,
            cost: s.cost().units(),
            revenue: s.revenue().units(),
        }
    }

    /// Field-wise sum.
    pub fn add(&mut self, o: &Counts) {
        self.impressions += o.impressions;
        self.clicks += o.clicks;
        self.conversions += o.conversions;
        self.cost += o.cost;
        self.revenue += o.revenue;
    }

    /// Every field times `w`.
    pub fn scaled(&self, w: f64) -> Counts {
        Counts {
            impressions: self.impressions * w,
            clicks: self.clicks * w,
            conversions: self.conversions * w,
            cost: self.cost * w,
            revenue: self.revenue * w,
        }
    }

    /// Field-wise `self - o`, floored at 0 (a restated figure never leaves negative
    /// evidence behind, whatever the rounding).
    pub fn minus(&self, o: &Counts) -> Counts {
        Counts {
            impressions: (self.impressions - o.impressions).max(0.0),
            clicks: (self.clicks - o.clicks).max(0.0),
            conversions: (self.conversions - o.conversions).max(0.0),
            cost: (self.cost - o.cost).max(0.0),
            revenue: (self.revenue - o.revenue).max(0.0),
        }
    }

    /// Observed cost per click, if any clicks.
    pub fn cpc(&self) -> Option<f64> {
        (self.clicks > 0.0).then(|| self.cost / self.clicks)
    }
}

/// Counters that evidence can hold: added, scaled by a forgetting weight, and taken off
/// again when a period is restated. [`Counts`] (the engine's) and
/// [`ArmCounts`](crate::policy::ArmCounts) (a standalone `Arms` container's) implement it, so
/// both forget through the one [`Evidence`] implementation.
pub trait Tally: Copy + Default + PartialEq {
    /// Field-wise sum.
    fn add(&mut self, o: &Self);
    /// Every field times `w`.
    fn scaled(&self, w: f64) -> Self;
    /// Field-wise `self - o`, floored at 0.
    fn minus(&self, o: &Self) -> Self;
}

impl Tally for Counts {
    fn add(&mut self, o: &Self) {
        Counts::add(self, o);
    }
    fn scaled(&self, w: f64) -> Self {
        Counts::scaled(self, w)
    }
    fn minus(&self, o: &Self) -> Self {
        Counts::minus(self, o)
    }
}

/// An arm's evidence under a forgetting rule, indexed by period (e.g. day number).
///
/// Data may arrive late (a period older than the latest): it is added with the weight its
/// age deserves, so the order in which reports arrive does not matter.
///
/// ```
/// use adbandit::estimate::{Counts, Evidence, Forgetting};
/// let mut e = Evidence::new(Forgetting::half_life(1.0)?);
/// let day = Counts { impressions: 100.0, clicks: 10.0, ..Counts::default() };
/// e.add(0, &day);
/// e.add(1, &day);
/// assert!((e.total().clicks - 15.0).abs() < 1e-12); // 10 * 0.5 + 10
/// # Ok::<(), adbandit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence<C = Counts> {
    forgetting: Forgetting,
    latest: Option<i64>,
    total: C,
    /// Per-period counts, only for [`Forgetting::Window`].
    buckets: VecDeque<(i64, C)>,
}

impl<C: Tally> Evidence<C> {
    /// No evidence yet.
    pub fn new(forgetting: Forgetting) -> Self {
        Evidence {
            forgetting,
            latest: None,
            total: C::default(),
            buckets: VecDeque::new(),
        }
    }

    /// The forgetting rule.
    pub fn forgetting(&self) -> Forgetting {
        self.forgetting
    }

    /// The latest period seen.
    pub fn latest(&self) -> Option<i64> {
        self.latest
    }

    /// Moves the clock to `period` without data (decays or drops old evidence).
    pub fn advance_to(&mut self, period: i64) {
        match self.latest {
            Some(l) if period <= l => {}
            Some(l) => {
                let age = u32::try_from(period - l).unwrap_or(u32::MAX);
                if let Forgetting::Discount { .. } = self.forgetting {
                    self.total = self.total.scaled(self.forgetting.weight(age));
                }
                self.latest = Some(period);
                self.drop_old();
            }
            None => self.latest = Some(period),
        }
    }

    /// Adds counts seen in `period`.
    pub fn add(&mut self, period: i64, c: &C) {
        self.advance_to(period);
        let latest = self.latest.unwrap_or(period);
        let age = u32::try_from(latest - period).unwrap_or(u32::MAX);
        match self.forgetting {
            Forgetting::Never => self.total.add(c),
            Forgetting::Discount { .. } => self.total.add(&c.scaled(self.forgetting.weight(age))),
            Forgetting::Window { periods } => {
                if age >= periods {
                    return;
                }
                match self.buckets.iter_mut().find(|(p, _)| *p == period) {
                    Some((_, b)) => b.add(c),
                    None => {
                        let pos = self.buckets.partition_point(|(p, _)| *p < period);
                        self.buckets.insert(pos, (period, *c));
                    }
                }
                self.recompute_window();
            }
        }
    }

    /// Replaces counts seen in `period` (`old`, added before) by `new`: a restated period
    /// counts once, with the weight its age deserves. Counts that already left a window
    /// stay gone.
    pub fn replace(&mut self, period: i64, old: &C, new: &C) {
        self.advance_to(period);
        let latest = self.latest.unwrap_or(period);
        let age = u32::try_from(latest - period).unwrap_or(u32::MAX);
        match self.forgetting {
            Forgetting::Never | Forgetting::Discount { .. } => {
                let w = self.forgetting.weight(age);
                let mut t = self.total;
                t.add(&new.scaled(w));
                self.total = t.minus(&old.scaled(w));
            }
            Forgetting::Window { .. } => {
                if let Some((_, b)) = self.buckets.iter_mut().find(|(p, _)| *p == period) {
                    let mut t = *b;
                    t.add(new);
                    *b = t.minus(old);
                    self.recompute_window();
                }
            }
        }
    }

    fn drop_old(&mut self) {
        if let (Forgetting::Window { periods }, Some(l)) = (self.forgetting, self.latest) {
            while self
                .buckets
                .front()
                .is_some_and(|(p, _)| l - *p >= i64::from(periods))
            {
                self.buckets.pop_front();
            }
            self.recompute_window();
        }
    }

    fn recompute_window(&mut self) {
        // Summing afresh (not subtracting) keeps float error from building up.
        let mut t = C::default();
        for (_, b) in &self.buckets {
            t.add(b);
        }
        self.total = t;
    }

    /// The weighted total as of the latest period.
    pub fn total(&self) -> C {
        self.total
    }

    /// The counts of each period still held, oldest first (sliding window only; empty
    /// otherwise).
    pub fn periods(&self) -> impl Iterator<Item = (i64, C)> + '_ {
        self.buckets.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(clicks: f64) -> Counts {
        Counts {
            impressions: clicks * 10.0,
            clicks,
            ..Counts::default()
        }
    }

    #[test]
    fn window_keeps_last_periods_and_late_data() {
        let mut e = Evidence::new(Forgetting::window(2).unwrap());
        e.add(0, &c(1.0));
        e.add(1, &c(2.0));
        e.add(2, &c(4.0));
        assert!((e.total().clicks - 6.0).abs() < 1e-12);
        e.add(1, &c(8.0)); // late data inside the window
        assert!((e.total().clicks - 14.0).abs() < 1e-12);
        e.add(0, &c(100.0)); // too old
        assert!((e.total().clicks - 14.0).abs() < 1e-12);
        e.advance_to(5);
        assert!(e.total().clicks.abs() < 1e-12);
    }

    #[test]
    fn a_restated_period_counts_once() {
        for f in [
            Forgetting::Never,
            Forgetting::half_life(2.0).unwrap(),
            Forgetting::window(3).unwrap(),
        ] {
            let mut once = Evidence::new(f);
            once.add(0, &c(5.0));
            once.add(1, &c(9.0));
            let mut restated = Evidence::new(f);
            restated.add(0, &c(5.0));
            restated.add(1, &c(7.0));
            restated.replace(1, &c(7.0), &c(9.0));
            assert!(
                (once.total().clicks - restated.total().clicks).abs() < 1e-9,
                "{f:?}"
            );
            // A period restated after time moved on keeps its age's weight.
            once.advance_to(2);
            restated.advance_to(2);
            once.replace(0, &c(5.0), &c(6.0));
            restated.replace(0, &c(5.0), &c(6.0));
            let mut direct = Evidence::new(f);
            direct.add(0, &c(6.0));
            direct.add(1, &c(9.0));
            direct.advance_to(2);
            assert!(
                (once.total().clicks - direct.total().clicks).abs() < 1e-9,
                "{f:?}"
            );
            assert!(once.total().impressions >= 0.0);
        }
    }

    #[test]
    fn discount_is_order_independent() {
        let f = Forgetting::discount(0.8).unwrap();
        let mut a = Evidence::new(f);
        a.add(0, &c(5.0));
        a.add(3, &c(7.0));
        let mut b = Evidence::new(f);
        b.add(3, &c(7.0));
        b.add(0, &c(5.0));
        assert!((a.total().clicks - b.total().clicks).abs() < 1e-9);
        assert!((a.total().clicks - (7.0 + 5.0 * 0.8f64.powi(3))).abs() < 1e-9);
    }
}

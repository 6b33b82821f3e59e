//! Stage: change detection. A plan whose return over the last days leaves what its older
//! evidence says, beyond what noise explains, has changed (a competitor entered, a page
//! broke, a product took off): its older evidence is discounted at once instead of fading
//! at the forgetting rate, so budgets follow within days, and the decision says so.
//!
//! The test is a discounted estimate against a short window, as the issue proposes: the
//! last [`WINDOW`] closed days' report rows (remembered for restatement) against the rest
//! of the plan's evidence. On the log scale the ROI's noise is about
//! `sqrt(1 / conversions)` on each side (Poisson orders; order values add some, hence
//! [`NOISE`]); a change needs `|ln(ROI_recent / ROI_before)| > Z x` that and at least
//! [`MIN_SHIFT`], and the latest two days must each lie on the same side by that much, so a
//! one-day spike (an untold promotion) is not taken for the new normal.

use crate::engine::decision::{Flag, Reason, ReasonCode, ReasonMetrics};
use crate::engine::observe::learned_counts;
use crate::engine::state::{EngineState, NO_KEYWORD};
use crate::estimate::{Counts, Evidence};
use crate::model::Date;

/// Closed days in the recent window.
const WINDOW: i32 = 3;
/// Standard deviations a shift must pass.
const Z: f64 = 3.0;
/// Smallest shift in ROI that counts as a change (x1.35 or /1.35).
const MIN_SHIFT: f64 = 0.3;
/// Inflation of the Poisson noise for the spread of order values.
const NOISE: f64 = 1.5;
/// Weight left on the evidence from before the window once a change is detected.
const KEEP: f64 = 0.2;
/// Conversions needed on each side before testing.
const MIN_CONVERSIONS: f64 = 5.0;

impl<P> EngineState<P> {
    /// Tests every plan for a change as of the day before `date` (evidence already advanced
    /// to it); discounts the older evidence of the plans that changed and flags them.
    pub(crate) fn detect_changes(&mut self, date: Date) -> Vec<Flag> {
        let mut flags = Vec::new();
        if !self.config.change_detection || self.config.restatement_days == 0 {
            return flags;
        }
        let last = date.days() - 1;
        let first = last - (WINDOW - 1);
        let n = self.account.plans().len();
        // Per plan, per keyword (index NO_KEYWORD: plan rows), the window's counts by age.
        let mut recent: Vec<Vec<(u32, i32, Counts)>> = vec![Vec::new(); n];
        for (&(day, plan, kw, _), stats) in self.ledgers.seen.rows.range((first, 0, 0, 0)..) {
            if day > last || plan as usize >= n {
                continue;
            }
            let c = learned_counts(stats, &self.config.events, Date::from_days(day));
            recent[plan as usize].push((kw, day, c));
        }
        let f = self.config.forgetting;
        for (i, rows) in recent.iter().enumerate() {
            if rows.is_empty() {
                continue;
            }
            let weight = |day: i32| f.weight(u32::try_from(last - day).unwrap_or(u32::MAX));
            let (mut win, mut day1, mut day0) =
                (Counts::default(), Counts::default(), Counts::default());
            let mut win_w = Counts::default();
            for (_, day, c) in rows {
                win.add(c);
                win_w.add(&c.scaled(weight(*day)));
                if *day == last {
                    day0.add(c);
                } else if *day == last - 1 {
                    day1.add(c);
                }
            }
            let mut total = self.evidence.plans[i].total();
            for k in &self.evidence.keywords[i] {
                total.add(&k.total());
            }
            let before = total.minus(&win_w);
            let roi = |c: &Counts| (c.cost > 0.0).then(|| c.revenue / c.cost);
            let (Some(r_win), Some(r_before), Some(r0), Some(r1)) =
                (roi(&win), roi(&before), roi(&day0), roi(&day1))
            else {
                continue;
            };
            if win.conversions < MIN_CONVERSIONS
                || before.conversions < MIN_CONVERSIONS
                || !(r_win > 0.0 && r_before > 0.0)
            {
                continue;
            }
            let shift = (r_win / r_before).ln();
            let sd = NOISE * (1.0 / win.conversions + 1.0 / before.conversions).sqrt();
            let same_side = |r: f64| r > 0.0 && (r / r_before).ln() * shift.signum() > MIN_SHIFT;
            if !(shift.abs() > (Z * sd).max(MIN_SHIFT) && same_side(r0) && same_side(r1)) {
                continue;
            }
            // Keep the window's counts whole, the rest at KEEP.
            let period = i64::from(last);
            let mut per_kw: Vec<Counts> = vec![Counts::default(); self.evidence.keywords[i].len()];
            let mut plan_rows = Counts::default();
            for (kw, day, c) in rows {
                let w = c.scaled(weight(*day));
                match per_kw.get_mut(*kw as usize) {
                    Some(k) if *kw != NO_KEYWORD => k.add(&w),
                    _ => plan_rows.add(&w),
                }
            }
            let reset = |ev: &mut Evidence, win: &Counts| {
                let mut keep = ev.total().minus(win).scaled(KEEP);
                keep.add(win);
                let mut fresh = Evidence::new(ev.forgetting());
                fresh.add(period, &keep);
                *ev = fresh;
            };
            reset(&mut self.evidence.plans[i], &plan_rows);
            for (ev, w) in self.evidence.keywords[i].iter_mut().zip(&per_kw) {
                reset(ev, w);
            }
            // Budgets follow the evidence until the next redraw, not an old draw.
            if let Some(d) = self.draws.plans.get_mut(i) {
                *d = [1.0; 3];
            }
            let p = &self.account.plans()[i];
            flags.push(Flag {
                plan: Some(p.id.clone()),
                keyword: None,
                reason: Reason::new(
                    ReasonCode::FlagChangeDetected,
                    format!(
                        "Plan {}: ROI {:.2} over the last {WINDOW} days against {:.2} before ({:.0} and {:.0} orders): a change, not noise; older evidence now counts {:.0}%",
                        p.name,
                        r_win,
                        r_before,
                        win.conversions,
                        before.conversions,
                        100.0 * KEEP
                    ),
                    ReasonMetrics {
                        roi: Some(r_win),
                        cost: Some(win.cost),
                        ..ReasonMetrics::default()
                    },
                ),
            });
        }
        flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::EngineConfig;
    use crate::model::{Account, Keyword, MatchType, Plan, Stats};
    use crate::money::Money;
    use crate::rng::stream;

    /// A plan of one keyword with `days` of history, day `d` at ROI `roi(d)` (40 orders a
    /// day), as `observe` would have left it.
    fn state(days: i32, roi: impl Fn(i32) -> f64) -> (EngineState<()>, Date) {
        let y = |x| Money::from_units(x).unwrap();
        let plan = Plan::new("p", "P", y(100), y(0), y(5)).with_keyword(Keyword::new(
            "k",
            "w",
            MatchType::Exact,
            y(1),
        ));
        let account = Account::new("s", "CNY", vec![plan]).unwrap();
        let config = EngineConfig {
            change_detection: true,
            ..EngineConfig::default()
        };
        let mut s = EngineState::new(account, config, (), 1, stream(1, &[]), y(100));
        let start = Date::from_ymd(2026, 3, 2).unwrap();
        for d in 0..days {
            let day = start.add_days(d);
            let revenue = Money::from_units_f64(100.0 * roi(d)).unwrap();
            let stats = Stats::new(4000, 400, 40, y(100), revenue).unwrap();
            s.evidence.keywords[0][0].add(i64::from(day.days()), &Counts::from_stats(&stats));
            s.ledgers.seen.rows.insert((day.days(), 0, 0, 24), stats);
        }
        let today = start.add_days(days);
        s.advance_evidence(i64::from(today.days()) - 1);
        (s, today)
    }

    #[test]
    fn a_halved_return_is_detected_and_older_evidence_discounted() {
        let (mut s, today) = state(14, |d| if d >= 11 { 2.0 } else { 4.0 });
        let before = s.evidence.keywords[0][0].total();
        let flags = s.detect_changes(today);
        assert_eq!(flags.len(), 1, "{flags:?}");
        assert_eq!(flags[0].reason.code, ReasonCode::FlagChangeDetected);
        assert!(
            flags[0].reason.message().contains("ROI 2.00"),
            "{}",
            flags[0].reason.message()
        );
        let after = s.evidence.keywords[0][0].total();
        // The window's three days stay whole; the rest keeps a fifth.
        assert!(
            after.clicks < 0.6 * before.clicks,
            "{after:?} vs {before:?}"
        );
        assert!(after.clicks > 3.0 * 400.0 * 0.8, "{after:?}");
        let roi = after.revenue / after.cost;
        assert!(roi < 3.0, "the estimate follows the change: {roi}");
    }

    #[test]
    fn noise_a_one_day_spike_and_a_switched_off_detector_are_no_change() {
        // Steady, with +-10% day-to-day wobble.
        let (mut s, today) = state(14, |d| 4.0 * if d % 2 == 0 { 1.1 } else { 0.9 });
        assert!(s.detect_changes(today).is_empty());
        // One day at three times the return (an untold promotion) is not a new normal.
        let (mut s, today) = state(14, |d| if d == 13 { 12.0 } else { 4.0 });
        assert!(s.detect_changes(today).is_empty());
        let (mut s, today) = state(14, |d| if d >= 11 { 2.0 } else { 4.0 });
        s.config.change_detection = false;
        assert!(s.detect_changes(today).is_empty());
    }
}

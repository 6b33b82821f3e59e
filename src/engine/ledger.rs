//! Stage: the spend ledgers. Days are recorded as reports arrive and closed by the next
//! decision, which turns them into the plans' traffic (capacity, daily spend and clicks) and
//! flags a budget that ran out early; the month's spend caps over-delivery.

use crate::allocate::response::DayPoint;
use crate::engine::calendar::factors_on;
use crate::engine::config::{BudgetMode, DAYS_PER_MONTH};
use crate::engine::decision::{Flag, Reason, ReasonCode, ReasonMetrics};
use crate::engine::state::{DayLedger, EngineState, WHOLE_DAY};
use crate::engine::traffic::CURVE_DAYS;
use crate::model::Date;
use crate::model::Status;
use crate::money::Money;

/// A plan whose spend reached this share of its budget was limited by the budget.
pub(crate) const BUDGET_LIMITED: f64 = 0.95;
/// Weight of a new day in the capacity and daily-spend averages.
const DAY_WEIGHT: f64 = 0.3;

/// The share of a budget-limited day's traffic (`shares`, the engine's traffic curve masked
/// by the plan's schedule) that came before the budget ran out: the hours before the one
/// that reached 99% of the budget, and half of that one. 1 without hourly spend (a whole-day
/// report does not say when the budget ran out).
fn served_share(l: &DayLedger, shares: &[f64; 24]) -> f64 {
    let Some(hs) = l.hourly_spend.as_ref() else {
        return 1.0;
    };
    let mut cum = 0i64;
    let mut before = 0.0;
    for (h, s) in hs.iter().enumerate() {
        cum = cum.saturating_add(*s);
        if cum as f64 >= 0.99 * l.budget as f64 {
            return (before + 0.5 * shares[h]).clamp(0.05, 1.0);
        }
        before += shares[h];
    }
    1.0
}

impl<P> EngineState<P> {
    /// Closes the ledgers of days before `date`: updates capacities and daily averages, and
    /// flags plans whose budget ran out early on the latest closed day.
    pub(crate) fn close_days(&mut self, date: Date) -> Vec<Flag> {
        let mut flags = Vec::new();
        let closed: Vec<i32> = self
            .ledgers
            .open_days
            .range(..date.days())
            .map(|(d, _)| *d)
            .collect();
        let latest = closed.last().copied();
        for d in closed {
            let Some(day) = self.ledgers.open_days.remove(&d) else {
                continue;
            };
            let f = factors_on(&self.config.events, Date::from_days(d)).traffic;
            for (i, ledger) in day.iter().enumerate() {
                let Some(l) = ledger else { continue };
                let scale = self.bid_scale_on(i, d);
                // A day without budget shows nothing of the plan's traffic: learning from it
                // would take the capacity to zero, and a plan at zero capacity could never
                // be given budget again (measured in `drift`: plans whose value rose later).
                if l.budget <= 0 {
                    continue;
                }
                let t = &mut self.traffic[i];
                let spend = l.spend as f64 / f;
                let limited = l.budget > 0 && l.spend as f64 >= BUDGET_LIMITED * l.budget as f64;
                // A budget-limited day only says the plan could spend more: probe upward.
                let seen_capacity = if limited {
                    (spend * 1.5).max(t.capacity)
                } else {
                    spend.max(1.0)
                };
                let served = if limited {
                    served_share(
                        l,
                        &self
                            .config
                            .traffic_curve
                            .masked(&self.account.plans()[i].schedule),
                    )
                } else {
                    1.0
                };
                let t = &mut self.traffic[i];
                let w = if t.days == 0 { 1.0 } else { DAY_WEIGHT };
                t.served = (1.0 - w) * t.served + w * served;
                t.capacity = (1.0 - w) * t.capacity + w * seen_capacity;
                t.daily_spend = (1.0 - w) * t.daily_spend + w * spend;
                t.daily_clicks = (1.0 - w) * t.daily_clicks + w * (l.clicks as f64 / f);
                t.days += 1;
                t.last_spend = spend;
                t.last_limited = limited;
                t.last_scale = scale;
                self.update_dual(i, l.budget, l.spend);
                self.record_curve_day(i, d, served * f);
                if Some(d) == latest
                    && let Some(flag) = self.exhausted_flag(i, l)
                {
                    flags.push(flag);
                }
            }
        }
        flags
    }

    /// Adds day `d` (closed, with `exposure` = the share of the day's traffic served x
    /// the day's traffic factor) to the curves of plan `i`'s active keywords, from the
    /// day's remembered report rows at the bids in force, and refits them. Nothing without
    /// remembered rows (`restatement_days` 0).
    fn record_curve_day(&mut self, i: usize, d: i32, exposure: f64) {
        if self.curves.len() != self.account.plans().len()
            || !(exposure > 0.0)
            || self.config.restatement_days == 0
        {
            return;
        }
        let m = self.mean_multiplier(i);
        let scale = self.bid_scale_on(i, d);
        let p = &self.account.plans()[i];
        let mut any = false;
        for (j, k) in p.keywords.iter().enumerate() {
            if k.status != Status::Active {
                continue;
            }
            let (mut clicks, mut cost) = (0.0, 0.0);
            let (pi, kj) = (i as u32, j as u32);
            for (_, st) in self
                .ledgers
                .seen
                .rows
                .range((d, pi, kj, 0)..=(d, pi, kj, WHOLE_DAY))
            {
                clicks += st.clicks() as f64;
                cost += st.cost().units();
            }
            let Some(c) = self.curves.get_mut(i).and_then(|c| c.get_mut(j)) else {
                continue;
            };
            c.days.retain(|x| x.0 != d);
            c.days.push((
                d,
                DayPoint {
                    eff_bid: k.bid.units() * m * scale,
                    clicks,
                    cost,
                    exposure,
                    weight: 1.0,
                },
            ));
            c.days.sort_by_key(|x| x.0);
            if c.days.len() > CURVE_DAYS {
                c.days.remove(0);
            }
            any = true;
        }
        if any {
            self.refit_curves(i, d);
        }
    }

    pub(crate) fn exhausted_flag(&self, i: usize, l: &DayLedger) -> Option<Flag> {
        let hs = l.hourly_spend.as_ref()?;
        if l.budget <= 0 {
            return None;
        }
        let mut cum = 0i64;
        for (h, s) in hs.iter().enumerate() {
            cum = cum.saturating_add(*s);
            if cum as f64 >= 0.99 * l.budget as f64 {
                if h < usize::from(self.config.rules.exhausted_before_hour) {
                    let p = &self.account.plans()[i];
                    return Some(Flag {
                        plan: Some(p.id.clone()),
                        keyword: None,
                        reason: Reason::new(
                            ReasonCode::FlagBudgetExhaustedEarly,
                            format!(
                                "Plan {} spent its budget {} by {:02}:59: the rest of the day's traffic was lost; raise the budget or lower bids",
                                p.name,
                                Money::from_micros(l.budget),
                                h
                            ),
                            ReasonMetrics {
                                cost: Some(cum as f64 / 1e6),
                                ..ReasonMetrics::default()
                            },
                        ),
                    });
                }
                return None;
            }
        }
        None
    }

    pub(crate) fn spend_cap(&self, i: usize, budget: Money, date: Date) -> Money {
        match self.config.budget_mode {
            BudgetMode::HardDailyCap => budget,
            BudgetMode::OverDelivery { daily_multiple } => {
                let (y, m, _) = date.ymd();
                let spent = match &self.ledgers.month {
                    Some(ml) if (ml.year, ml.month) == (y, m) => ml.spent[i],
                    _ => 0,
                };
                let month_cap = budget.micros() as f64 * DAYS_PER_MONTH;
                let left = (month_cap - spent as f64).max(0.0);
                let day = budget.micros() as f64 * daily_multiple;
                Money::from_micros(day.min(left).floor() as i64)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::EngineConfig;
    use crate::model::{Account, Plan};
    use crate::rng::stream;

    #[test]
    fn closing_a_day_learns_traffic_and_flags_an_early_exhaustion() {
        let y = |x| Money::from_units(x).unwrap();
        let account =
            Account::new("s", "CNY", vec![Plan::new("p", "P", y(100), y(0), y(5))]).unwrap();
        let mut s = EngineState::new(
            account,
            EngineConfig::default(),
            (),
            1,
            stream(1, &[]),
            y(100),
        );
        let day = Date::from_ymd(2026, 3, 2).unwrap();
        // The whole budget went by 09:59.
        let mut hourly = [0i64; 24];
        hourly[8] = 60_000_000;
        hourly[9] = 40_000_000;
        s.ledgers.open_days.insert(
            day.days(),
            vec![Some(DayLedger {
                budget: 100_000_000,
                spend: 100_000_000,
                clicks: 80,
                hourly_spend: Some(hourly),
            })],
        );
        // A decision for the same day closes nothing.
        assert!(s.close_days(day).is_empty());
        assert_eq!(s.traffic[0].days, 0);
        let flags = s.close_days(day.add_days(1));
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].reason.code, ReasonCode::FlagBudgetExhaustedEarly);
        let t = s.traffic[0];
        assert_eq!(t.days, 1);
        assert!(t.last_limited);
        // Budget-limited: the capacity is probed upward from the spend.
        assert!(t.capacity >= 1.5 * 100_000_000.0 - 1.0, "{}", t.capacity);
        assert!(s.ledgers.open_days.is_empty());
    }
}

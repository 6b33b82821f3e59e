//! Stage: observing a report. The whole report is validated and resolved first; only then
//! are the evidence and the ledgers changed, so a bad report leaves the engine unchanged.

use std::collections::BTreeMap;

use crate::engine::calendar::{CalendarEvent, factors_on};
use crate::engine::engine_impl::Engine;
use crate::engine::state::{DayLedger, MonthLedger, NO_KEYWORD, SeenKey, WHOLE_DAY};
use crate::engine::traffic::BidTally;
use crate::error::{Error, Result};
use crate::estimate::Counts;
use crate::model::{Date, Report, Stats};
use crate::policy::Policy;

impl<P: Policy> Engine<P> {
    /// Ingests a report. The whole report is validated first: an unknown plan or keyword, a
    /// keyword reported under the wrong plan, or a keyword-day given both as a day row and as
    /// hour rows (in this report, or in this one and an earlier one) rejects it, and the
    /// engine is left unchanged.
    ///
    /// Rows inside a known calendar event are learned with conversions and revenue divided
    /// by the event's CVR factor, so the spike is not taken for the new normal.
    ///
    /// **Restated data.** A report states the figures of each (date, hour, plan, keyword) it
    /// contains. A row the engine has already seen (within
    /// [`EngineConfig::restatement_days`](crate::engine::EngineConfig::restatement_days) of
    /// the latest day seen) *replaces* the earlier figures in the evidence (with the weight
    /// its age deserves) and in the day and month spend ledgers, instead of adding to them:
    /// observing a report twice equals observing it once, and a platform's restatement of
    /// yesterday's conversions corrects them. A restated day that a decision has already
    /// closed corrects the evidence and the month's spend; the traffic learned from that day
    /// stays. Rows older than the restatement window are taken as new.
    ///
    /// **Recent conversions.** The latest days' conversions are taken as reported: a day
    /// whose late conversions have not arrived yet reads low until a later report restates
    /// it, so fetch the last days again (the conversion window) and observe them; the
    /// restated figures replace the early ones.
    ///
    /// # Errors
    /// [`Error::UnknownId`], [`Error::Inconsistent`] or [`Error::Overflow`], naming the row.
    pub fn observe(&mut self, report: &Report) -> Result<()> {
        // A row covering several days (a report exported without the Day segment) is a
        // period: it is learned as that many days of equal shares, so rates come from its
        // counts and the day ledgers and capacities are per day, never 7 days of spend read
        // as one day's.
        let split;
        let report = if report.has_periods() {
            split = report.split_days()?;
            &split
        } else {
            report
        };
        // 1. Validate and resolve every row without touching the engine.
        let mut resolved = Vec::with_capacity(report.rows().len());
        let mut granularity: BTreeMap<(i32, usize, Option<usize>), bool> = BTreeMap::new();
        let mut ledgers = self.state.ledgers.open_days.clone();
        let mut month = self.state.ledgers.month.clone();
        let seen = &self.state.ledgers.seen;
        for (n, row) in report.rows().iter().enumerate() {
            let at = || format!("report.rows[{n}]");
            let i = self.state.account.require_plan(&row.plan)?;
            let j = match &row.keyword {
                None => None,
                Some(k) => {
                    let (pi, j) = self.state.account.require_keyword(k)?;
                    if pi != i {
                        return Err(Error::Inconsistent {
                            field: at(),
                            reason: format!(
                                "keyword {k} belongs to plan {}, not {}",
                                self.state.account.plans()[pi].id,
                                row.plan
                            ),
                        });
                    }
                    Some(j)
                }
            };
            let day = row.date.days();
            let hourly = row.hour.is_some();
            let kw = j.map_or(NO_KEYWORD, |j| j as u32);
            let mixed = *granularity.entry((day, i, j)).or_insert(hourly) != hourly;
            if mixed
                || seen
                    .granularity(day, i as u32, kw)
                    .is_some_and(|h| h != hourly)
            {
                return Err(Error::Inconsistent {
                    field: at(),
                    reason: format!(
                        "{} on {} given both as a day row and as hour rows{}",
                        row.plan,
                        row.date,
                        if mixed { "" } else { " (in an earlier report)" }
                    ),
                });
            }
            let key: SeenKey = (day, i as u32, kw, row.hour.unwrap_or(WHOLE_DAY));
            let old = seen.rows.get(&key).copied();
            if old == Some(row.stats) {
                // The same figures again (a resent report): nothing to learn.
                continue;
            }
            let overflow = || Error::Overflow { field: at() };
            let (old_cost, old_clicks) = old.map_or((0, 0), |o| (o.cost().micros(), o.clicks()));
            let cost = row.stats.cost().micros();
            // Ledgers of the day, for capacity, flags and the month's spend. A restated row
            // of a day already closed leaves the day alone (its traffic was learned).
            let plans = self.state.account.plans().len();
            let open = old.is_none() || ledgers.get(&day).is_some_and(|d| d[i].is_some());
            if open {
                let d = ledgers.entry(day).or_insert_with(|| vec![None; plans]);
                let ledger = d[i].get_or_insert_with(|| DayLedger {
                    budget: self.state.account.plans()[i].daily_budget.micros(),
                    spend: 0,
                    clicks: 0,
                    hourly_spend: None,
                });
                ledger.spend = replace_i64(ledger.spend, old_cost, cost).ok_or_else(overflow)?;
                ledger.clicks = ledger
                    .clicks
                    .saturating_sub(old_clicks)
                    .checked_add(row.stats.clicks())
                    .ok_or_else(overflow)?;
                if let Some(h) = row.hour {
                    let hs = ledger.hourly_spend.get_or_insert([0; 24]);
                    let h = usize::from(h);
                    hs[h] = replace_i64(hs[h], old_cost, cost).ok_or_else(overflow)?;
                }
            }
            let (y, m, _) = row.date.ymd();
            let ml = month.get_or_insert_with(|| MonthLedger {
                year: y,
                month: m,
                spent: vec![0; plans],
            });
            if (y, m) > (ml.year, ml.month) {
                *ml = MonthLedger {
                    year: y,
                    month: m,
                    spent: vec![0; plans],
                };
            }
            // A row of the current month was counted in it when first seen (the month only
            // moves forward), so its restatement replaces that count.
            if (y, m) == (ml.year, ml.month) {
                ml.spent[i] = replace_i64(ml.spent[i], old_cost, cost).ok_or_else(overflow)?;
            }
            let events = &self.state.config.events;
            let learned = |s: &Stats| learned_counts(s, events, row.date);
            resolved.push(Resolved {
                plan: i,
                keyword: j,
                period: i64::from(day),
                old: old.as_ref().map(learned),
                new: learned(&row.stats),
                key,
                stats: row.stats,
            });
        }
        // Ad-level rows: only the creative tests learn from them (the keyword rows already
        // count the same traffic for the plan's rates and spend).
        let mut creative_rows = Vec::with_capacity(report.creatives().len());
        let cseen = &self.state.creatives.seen;
        for (n, row) in report.creatives().iter().enumerate() {
            let i = self.state.account.require_plan(&row.plan)?;
            let (pi, j) = self
                .state
                .account
                .creative_pos(&row.creative)
                .ok_or_else(|| Error::UnknownId {
                    kind: "creative",
                    id: row.creative.to_string(),
                })?;
            if pi != i {
                return Err(Error::Inconsistent {
                    field: format!("report.creatives[{n}]"),
                    reason: format!(
                        "creative {} belongs to plan {}, not {}",
                        row.creative,
                        self.state.account.plans()[pi].id,
                        row.plan
                    ),
                });
            }
            let day = row.date.days();
            let key = (day, i as u32, j as u32);
            let old = cseen.rows.get(&key).copied();
            if old == Some(row.stats) {
                continue;
            }
            let events = &self.state.config.events;
            let learned = |s: &Stats| learned_counts(s, events, row.date);
            creative_rows.push((
                i,
                j,
                i64::from(day),
                old.as_ref().map(learned),
                learned(&row.stats),
                key,
                row.stats,
            ));
        }
        // 2. Apply: nothing below can fail.
        for (i, j, period, old, new, key, stats) in creative_rows {
            let ev = &mut self.state.creatives.evidence[i][j];
            match &old {
                Some(old) => ev.replace(period, old, &new),
                None => ev.add(period, &new),
            }
            if remember_rows(self.state.config.restatement_days) {
                self.state.creatives.seen.rows.insert(key, stats);
            }
        }
        self.state
            .creatives
            .seen
            .prune(self.state.config.restatement_days);
        let remember = self.state.config.restatement_days > 0;
        for r in resolved {
            let ev = match r.keyword {
                Some(j) => &mut self.state.evidence.keywords[r.plan][j],
                None => &mut self.state.evidence.plans[r.plan],
            };
            match &r.old {
                Some(old) => ev.replace(r.period, old, &r.new),
                None => ev.add(r.period, &r.new),
            }
            // The response model's evidence: the clicks with the effective bid in force
            // (the keyword's bid now, which is the one its day ran at, times the hour's
            // multiplier, or the day's traffic-weighted mean for a whole-day row).
            if let Some(j) = r.keyword {
                let plan = &self.state.account.plans()[r.plan];
                let hour = r.key.3;
                let m = if hour == WHOLE_DAY {
                    self.state.mean_multiplier(r.plan)
                } else {
                    plan.schedule.multiplier(usize::from(hour))
                };
                let bid =
                    plan.keywords[j].bid.units() * m * self.state.bid_scale_on(r.plan, r.key.0);
                let tally = |c: &Counts| BidTally {
                    clicks: c.clicks,
                    cost: c.cost,
                    bid_clicks: c.clicks * bid,
                };
                if let Some(t) = self
                    .state
                    .evidence
                    .bids
                    .get_mut(r.plan)
                    .and_then(|b| b.get_mut(j))
                {
                    match &r.old {
                        Some(old) => t.replace(r.period, &tally(old), &tally(&r.new)),
                        None => t.add(r.period, &tally(&r.new)),
                    }
                }
            }
            if remember {
                self.state.ledgers.seen.rows.insert(r.key, r.stats);
            }
        }
        self.state
            .ledgers
            .seen
            .prune(self.state.config.restatement_days);
        self.state.ledgers.open_days = ledgers;
        self.state.ledgers.month = month;
        Ok(())
    }
}

/// One row, validated and resolved, waiting to be applied.
struct Resolved {
    plan: usize,
    keyword: Option<usize>,
    period: i64,
    /// What the engine learned from this row's earlier figures, if it saw them.
    old: Option<Counts>,
    new: Counts,
    key: SeenKey,
    stats: Stats,
}

fn remember_rows(restatement_days: u32) -> bool {
    restatement_days > 0
}

/// `total - old + new` for money in micros, `None` on overflow.
fn replace_i64(total: i64, old: i64, new: i64) -> Option<i64> {
    total.checked_sub(old)?.checked_add(new)
}

/// What the evidence learns from a row's stats: conversions and revenue net of a calendar
/// event's CVR factor.
pub(crate) fn learned_counts(s: &Stats, events: &[CalendarEvent], date: Date) -> Counts {
    let mut c = Counts::from_stats(s);
    let f = factors_on(events, date);
    if (f.cvr - 1.0).abs() > 1e-12 {
        c.conversions /= f.cvr;
        c.revenue /= f.cvr;
    }
    c
}

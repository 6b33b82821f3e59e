//! Stage: observing a report. The whole report is validated and resolved first; only then
//! are the evidence and the ledgers changed, so a bad report leaves the engine unchanged.

use std::collections::BTreeMap;

use crate::engine::calendar::factors_on;
use crate::engine::engine_impl::Engine;
use crate::engine::state::{DayLedger, MonthLedger};
use crate::error::{Error, Result};
use crate::estimate::Counts;
use crate::model::Report;
use crate::policy::Policy;

impl<P: Policy> Engine<P> {
    /// Ingests a report. The whole report is validated first: an unknown plan or keyword, a
    /// keyword reported under the wrong plan, or a keyword-day given both as a day row and as
    /// hour rows rejects it, and the engine is left unchanged.
    ///
    /// Rows inside a known calendar event are learned with conversions and revenue divided
    /// by the event's CVR factor, so the spike is not taken for the new normal.
    ///
    /// Observe each period once: the engine cannot tell a resent report from new data.
    ///
    /// # Errors
    /// [`Error::UnknownId`], [`Error::Inconsistent`] or [`Error::Overflow`], naming the row.
    pub fn observe(&mut self, report: &Report) -> Result<()> {
        // 1. Validate and resolve every row without touching the engine.
        let mut resolved = Vec::with_capacity(report.rows().len());
        let mut granularity: BTreeMap<(i32, usize, Option<usize>), bool> = BTreeMap::new();
        let mut ledgers = self.state.ledgers.open_days.clone();
        let mut month = self.state.ledgers.month.clone();
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
            let hourly = row.hour.is_some();
            if *granularity.entry((row.date.days(), i, j)).or_insert(hourly) != hourly {
                return Err(Error::Inconsistent {
                    field: at(),
                    reason: format!(
                        "{} on {} given both as a day row and as hour rows",
                        row.plan, row.date
                    ),
                });
            }
            // Ledgers of the day, for capacity, flags and the month's spend.
            let plans = self.state.account.plans().len();
            let day = ledgers
                .entry(row.date.days())
                .or_insert_with(|| vec![None; plans]);
            let ledger = day[i].get_or_insert_with(|| DayLedger {
                budget: self.state.account.plans()[i].daily_budget.micros(),
                spend: 0,
                clicks: 0,
                hourly_spend: None,
            });
            let cost = row.stats.cost().micros();
            let overflow = || Error::Overflow { field: at() };
            ledger.spend = ledger.spend.checked_add(cost).ok_or_else(overflow)?;
            ledger.clicks = ledger
                .clicks
                .checked_add(row.stats.clicks())
                .ok_or_else(overflow)?;
            if let Some(h) = row.hour {
                let hs = ledger.hourly_spend.get_or_insert([0; 24]);
                hs[usize::from(h)] = hs[usize::from(h)].checked_add(cost).ok_or_else(overflow)?;
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
            if (y, m) == (ml.year, ml.month) {
                ml.spent[i] = ml.spent[i].checked_add(cost).ok_or_else(overflow)?;
            }
            let mut c = Counts::from_stats(&row.stats);
            let f = factors_on(&self.state.config.events, row.date);
            if (f.cvr - 1.0).abs() > 1e-12 {
                c.conversions /= f.cvr;
                c.revenue /= f.cvr;
            }
            resolved.push((i, j, i64::from(row.date.days()), c));
        }
        // 2. Apply: nothing below can fail.
        for (i, j, period, c) in resolved {
            match j {
                Some(j) => self.state.evidence.keywords[i][j].add(period, &c),
                None => self.state.evidence.plans[i].add(period, &c),
            }
        }
        self.state.ledgers.open_days = ledgers;
        self.state.ledgers.month = month;
        Ok(())
    }
}

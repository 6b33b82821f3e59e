//! The operator's calendar: promotion windows the engine is told about in advance.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Date;

/// Smallest and largest factor an event may declare.
pub const FACTOR_RANGE: (f64, f64) = (0.1, 10.0);

/// A known event: `days` days from `start` during which traffic and the conversion rate are
/// expected to be multiplied by the given factors (e.g. Double 11: traffic x4, CVR x2).
///
/// During the window the engine plans with the factors (more budget capacity, higher bids
/// where conversions are worth more) and it learns from the window's data *divided by* the
/// factors, so the spike is not learned as the new normal (as the large platforms'
/// seasonality adjustments do).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawEvent")]
pub struct CalendarEvent {
    name: String,
    start: Date,
    days: u32,
    traffic_factor: f64,
    cvr_factor: f64,
}

#[derive(Deserialize)]
struct RawEvent {
    name: String,
    start: Date,
    days: u32,
    traffic_factor: f64,
    cvr_factor: f64,
}

impl TryFrom<RawEvent> for CalendarEvent {
    type Error = Error;
    fn try_from(r: RawEvent) -> Result<Self> {
        CalendarEvent::new(r.name, r.start, r.days, r.traffic_factor, r.cvr_factor)
    }
}

impl CalendarEvent {
    /// A validated event.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for an empty name, a length outside 1..=14 days, or a factor
    /// outside [`FACTOR_RANGE`].
    pub fn new(
        name: impl Into<String>,
        start: Date,
        days: u32,
        traffic_factor: f64,
        cvr_factor: f64,
    ) -> Result<Self> {
        let name = name.into();
        if name.trim().is_empty() {
            return Err(Error::invalid("event.name", "\"\"", "must not be empty"));
        }
        if !(1..=14).contains(&days) {
            return Err(Error::invalid(
                format!("event {name}.days"),
                days,
                "must be 1..=14",
            ));
        }
        for (f, v) in [
            ("traffic_factor", traffic_factor),
            ("cvr_factor", cvr_factor),
        ] {
            if !(FACTOR_RANGE.0..=FACTOR_RANGE.1).contains(&v) {
                return Err(Error::invalid(
                    format!("event {name}.{f}"),
                    v,
                    "must be in [0.1, 10]",
                ));
            }
        }
        Ok(CalendarEvent {
            name,
            start,
            days,
            traffic_factor,
            cvr_factor,
        })
    }

    /// Name shown in reasons.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// First day.
    pub fn start(&self) -> Date {
        self.start
    }
    /// Length in days.
    pub fn days(&self) -> u32 {
        self.days
    }
    /// Expected traffic multiplier.
    pub fn traffic_factor(&self) -> f64 {
        self.traffic_factor
    }
    /// Expected conversion-rate multiplier.
    pub fn cvr_factor(&self) -> f64 {
        self.cvr_factor
    }
    /// Whether `d` falls in the window.
    pub fn covers(&self, d: Date) -> bool {
        d >= self.start && d.days() < self.start.days() + self.days as i32
    }
}

/// The combined factors on a day: overlapping events multiply.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DayFactors {
    /// Traffic multiplier.
    pub traffic: f64,
    /// Conversion-rate multiplier.
    pub cvr: f64,
}

impl DayFactors {
    /// No event.
    pub const NORMAL: DayFactors = DayFactors {
        traffic: 1.0,
        cvr: 1.0,
    };
}

/// The factors in force on `d`.
pub fn factors_on(events: &[CalendarEvent], d: Date) -> DayFactors {
    events
        .iter()
        .filter(|e| e.covers(d))
        .fold(DayFactors::NORMAL, |f, e| DayFactors {
            traffic: f.traffic * e.traffic_factor,
            cvr: f.cvr * e.cvr_factor,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_and_coverage() {
        let d = Date::from_ymd(2026, 11, 10).unwrap();
        assert!(CalendarEvent::new("x", d, 0, 2.0, 2.0).is_err());
        assert!(CalendarEvent::new("x", d, 15, 2.0, 2.0).is_err());
        assert!(CalendarEvent::new("x", d, 2, 11.0, 2.0).is_err());
        assert!(CalendarEvent::new("x", d, 2, 2.0, f64::NAN).is_err());
        assert!(CalendarEvent::new("", d, 2, 2.0, 2.0).is_err());
        let e = CalendarEvent::new("Double 11", d, 2, 4.0, 2.0).unwrap();
        assert!(
            !e.covers(d.add_days(-1))
                && e.covers(d)
                && e.covers(d.add_days(1))
                && !e.covers(d.add_days(2))
        );
        let f = factors_on(&[e.clone(), e], d);
        assert!((f.traffic - 16.0).abs() < 1e-12);
        let bad =
            r#"{"name":"x","start":"2026-11-11","days":3,"traffic_factor":0.01,"cvr_factor":1}"#;
        assert!(serde_json::from_str::<CalendarEvent>(bad).is_err());
    }
}

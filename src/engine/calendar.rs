//! The operator's calendar: promotion windows the engine is told about in advance.
//!
//! The types live in the model layer ([`crate::model::calendar`]), shared with the simulator;
//! this module re-exports them under their old path.
//!
//! During an event's window the engine plans with its factors (more budget capacity, higher
//! bids where conversions are worth more) and learns from the window's data *divided by* the
//! factors, so the spike is not learned as the new normal (as the large platforms'
//! seasonality adjustments do). The engine reads the whole-account events ([`factors_on`]).

pub use crate::model::calendar::{
    CalendarEvent, DayFactors, FACTOR_RANGE, MAX_EVENT_DAYS, Scope, WeekdayProfile, factors_for,
    factors_on,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Date;

    #[test]
    fn todays_engine_config_events_still_load() {
        let d = Date::from_ymd(2026, 11, 10).unwrap();
        let json = r#"{"name":"Double 11","start":"2026-11-10","days":2,"traffic_factor":4,"cvr_factor":2}"#;
        let e: CalendarEvent = serde_json::from_str(json).unwrap();
        assert_eq!(e, CalendarEvent::new("Double 11", d, 2, 4.0, 2.0).unwrap());
        let f = factors_on(&[e], d.add_days(1));
        assert_eq!((f.traffic, f.cvr), (4.0, 2.0));
    }
}

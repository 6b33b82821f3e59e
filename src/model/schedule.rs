//! A plan's delivery schedule: one bid multiplier per hour of the day.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The largest hourly multiplier accepted (platforms cap day-parting adjustments near +900%).
pub const MAX_HOUR_MULTIPLIER: f64 = 10.0;

/// 24 hourly bid multipliers; 0 means the plan does not deliver in that hour.
///
/// Serialises as a JSON array of 24 numbers. Each must be finite and in `[0, 10]`.
///
/// ```
/// use adbandit::Schedule;
/// let mut hours = [1.0; 24];
/// hours[..7].fill(0.0); // dark from midnight to 7 a.m.
/// hours[20] = 1.5;      // bid 50% more at 8 p.m.
/// let s = Schedule::new(hours)?;
/// assert!(!s.is_active(3) && s.is_active(20));
/// assert!(Schedule::try_from(vec![1.0; 23]).is_err());
/// # Ok::<(), adbandit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f64>", into = "Vec<f64>")]
pub struct Schedule([f64; 24]);

impl Schedule {
    /// Every hour at multiplier 1.
    pub const ALWAYS: Schedule = Schedule([1.0; 24]);

    /// A validated schedule.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the hour whose multiplier is NaN, infinite, negative or
    /// above [`MAX_HOUR_MULTIPLIER`].
    pub fn new(multipliers: [f64; 24]) -> Result<Self> {
        for (h, &m) in multipliers.iter().enumerate() {
            if !(0.0..=MAX_HOUR_MULTIPLIER).contains(&m) {
                return Err(Error::invalid(
                    format!("schedule[{h}]"),
                    m,
                    format!("must be in [0, {MAX_HOUR_MULTIPLIER}]"),
                ));
            }
        }
        Ok(Schedule(multipliers))
    }

    /// The multiplier for `hour` (0-23); hours past 23 wrap.
    pub fn multiplier(&self, hour: usize) -> f64 {
        self.0[hour % 24]
    }

    /// Whether the plan delivers in `hour`.
    pub fn is_active(&self, hour: usize) -> bool {
        self.multiplier(hour) > 0.0
    }

    /// All 24 multipliers.
    pub fn multipliers(&self) -> &[f64; 24] {
        &self.0
    }

    /// Number of hours with delivery.
    pub fn active_hours(&self) -> usize {
        self.0.iter().filter(|&&m| m > 0.0).count()
    }
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule::ALWAYS
    }
}

impl TryFrom<Vec<f64>> for Schedule {
    type Error = Error;
    fn try_from(v: Vec<f64>) -> Result<Self> {
        let arr: [f64; 24] = v.as_slice().try_into().map_err(|_| {
            Error::invalid(
                "schedule",
                format!("{} values", v.len()),
                "must have exactly 24 hourly values",
            )
        })?;
        Schedule::new(arr)
    }
}

impl From<Schedule> for Vec<f64> {
    fn from(s: Schedule) -> Vec<f64> {
        s.0.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_hour() {
        let mut h = [1.0; 24];
        h[5] = f64::NAN;
        match Schedule::new(h) {
            Err(Error::InvalidValue { field, .. }) => assert_eq!(field, "schedule[5]"),
            other => panic!("{other:?}"),
        }
        h[5] = -0.1;
        assert!(Schedule::new(h).is_err());
        h[5] = 11.0;
        assert!(Schedule::new(h).is_err());
        assert!(serde_json::from_str::<Schedule>("[1,2]").is_err());
        let ok: Schedule =
            serde_json::from_str(&serde_json::to_string(&Schedule::ALWAYS).unwrap()).unwrap();
        assert_eq!(ok, Schedule::ALWAYS);
        assert_eq!(ok.active_hours(), 24);
    }
}

//! A calendar date without a time zone (the day a report row belongs to).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A proleptic-Gregorian calendar date, stored as days since 1970-01-01.
///
/// Serialises as `"YYYY-MM-DD"`. Arithmetic is in whole days.
///
/// Every `Date` lies in [`Date::MIN`]..=[`Date::MAX`] (years 1900 to 9999), the range that
/// [`Date::from_ymd`], parsing and deserialisation accept: any date a report, an engine or a
/// simulator holds can therefore be written to JSON and read back. Constructors from a day
/// count and day arithmetic keep that range: the `checked_*` forms return an error outside
/// it, [`Date::add_days`] saturates at its ends.
///
/// ```
/// use adbandit::Date;
/// let d = Date::from_ymd(2026, 11, 11)?;
/// assert_eq!(d.to_string(), "2026-11-11");
/// assert_eq!(d.add_days(1).to_string(), "2026-11-12");
/// assert_eq!("2026-11-11".parse::<Date>()?, d);
/// # Ok::<(), adbandit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

impl Date {
    /// The first representable date, 1900-01-01.
    pub const MIN: Date = Date(-25_567);
    /// The last representable date, 9999-12-31.
    pub const MAX: Date = Date(2_932_896);

    /// The date `days` after 1970-01-01, saturated to [`Date::MIN`]..=[`Date::MAX`]. Use
    /// [`Date::try_from_days`] where the count comes from input.
    pub const fn from_days(days: i32) -> Self {
        if days < Date::MIN.0 {
            Date::MIN
        } else if days > Date::MAX.0 {
            Date::MAX
        } else {
            Date(days)
        }
    }

    /// The date `days` after 1970-01-01.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] outside [`Date::MIN`]..=[`Date::MAX`].
    pub fn try_from_days(days: i64) -> Result<Self> {
        if (i64::from(Date::MIN.0)..=i64::from(Date::MAX.0)).contains(&days) {
            Ok(Date(days as i32))
        } else {
            Err(Error::invalid(
                "date",
                format!("day {days} from 1970-01-01"),
                "outside 1900-01-01..=9999-12-31",
            ))
        }
    }

    /// Days since 1970-01-01.
    pub const fn days(self) -> i32 {
        self.0
    }

    /// From year, month (1-12) and day (1-31).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] if the date does not exist (Feb 30) or the year is outside
    /// 1900..=9999.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Result<Self> {
        let text = || format!("{year:04}-{month:02}-{day:02}");
        if !(1900..=9999).contains(&year) {
            return Err(Error::invalid("date", text(), "year outside 1900..=9999"));
        }
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(Error::invalid("date", text(), "no such day"));
        }
        Ok(Date(days_from_civil(year, month, day)))
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// The date `n` days later (earlier if negative), saturated at [`Date::MIN`] and
    /// [`Date::MAX`]. Use [`Date::checked_add_days`] where `n` comes from input.
    pub const fn add_days(self, n: i32) -> Self {
        Date::from_days(self.0.saturating_add(n))
    }

    /// The date `n` days later (earlier if negative).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] if the result falls outside [`Date::MIN`]..=[`Date::MAX`].
    pub fn checked_add_days(self, n: i64) -> Result<Self> {
        Date::try_from_days(i64::from(self.0).saturating_add(n)).map_err(|_| {
            Error::invalid(
                "date",
                format!("{self} + {n} days"),
                "outside 1900-01-01..=9999-12-31",
            )
        })
    }

    /// Whole days from `self` to `later` (negative if `later` is earlier).
    pub const fn days_until(self, later: Date) -> i32 {
        // Both ends lie in the representable range, so the difference fits an i32.
        later.0 - self.0
    }

    /// Day of week, 0 = Monday ... 6 = Sunday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (3).
        (self.0 + 3).rem_euclid(7) as u32
    }
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

// Howard Hinnant's civil calendar algorithms (public domain).
fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl FromStr for Date {
    type Err = Error;

    /// Parses ISO `YYYY-MM-DD` only; the ingest layer handles other spellings.
    fn from_str(s: &str) -> Result<Date> {
        let bad = || Error::invalid("date", format!("{s:?}"), "expected YYYY-MM-DD");
        let mut it = s.trim().splitn(3, '-');
        let y = it
            .next()
            .and_then(|x| x.parse::<i32>().ok())
            .ok_or_else(bad)?;
        let m = it
            .next()
            .and_then(|x| x.parse::<u32>().ok())
            .ok_or_else(bad)?;
        let d = it
            .next()
            .and_then(|x| x.parse::<u32>().ok())
            .ok_or_else(bad)?;
        Date::from_ymd(y, m, d)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_over_centuries() {
        for z in (-25_000..100_000).step_by(37) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(Date::from_ymd(1970, 1, 1).unwrap().days(), 0);
        assert_eq!(Date::from_ymd(2000, 3, 1).unwrap().days(), 11_017);
        assert_eq!(Date::from_ymd(2026, 11, 23).unwrap().weekday(), 0); // a Monday
    }

    #[test]
    fn the_range_is_closed_under_arithmetic() {
        assert_eq!(Date::MIN, Date::from_ymd(1900, 1, 1).unwrap());
        assert_eq!(Date::MAX, Date::from_ymd(9999, 12, 31).unwrap());
        assert!(Date::from_ymd(10_000, 1, 1).is_err());
        assert_eq!(Date::MAX.add_days(1), Date::MAX);
        assert_eq!(Date::MIN.add_days(i32::MIN), Date::MIN);
        assert_eq!(Date::MAX.add_days(i32::MAX), Date::MAX);
        assert!(Date::MAX.checked_add_days(1).is_err());
        assert!(Date::MIN.checked_add_days(-1).is_err());
        assert!(Date::MIN.checked_add_days(i64::MAX).is_err());
        assert_eq!(
            Date::MIN.checked_add_days(1).unwrap(),
            Date::MIN.add_days(1)
        );
        assert!(Date::try_from_days(i64::from(i32::MAX)).is_err());
        assert_eq!(Date::from_days(i32::MAX), Date::MAX);
        // Whatever a date is, it survives the JSON round trip.
        for d in [
            Date::MIN,
            Date::MAX,
            Date::from_days(i32::MIN),
            Date::MAX.add_days(400),
        ] {
            let j = serde_json::to_string(&d).unwrap();
            assert_eq!(serde_json::from_str::<Date>(&j).unwrap(), d);
        }
        assert_eq!(
            Date::MIN.days_until(Date::MAX),
            Date::MAX.days() - Date::MIN.days()
        );
    }

    #[test]
    fn rejects_impossible_dates() {
        assert!(Date::from_ymd(2023, 2, 29).is_err());
        assert!(Date::from_ymd(2024, 2, 29).is_ok());
        assert!(Date::from_ymd(2024, 13, 1).is_err());
        assert!("2024-02-30".parse::<Date>().is_err());
        assert!("garbage".parse::<Date>().is_err());
        assert!(serde_json::from_str::<Date>("\"2024-04-31\"").is_err());
    }
}

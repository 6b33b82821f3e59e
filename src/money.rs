//! Money as integer micros of the account's currency.
//!
//! 1 currency unit (yuan, dollar, ...) = 1,000,000 micros, as the large ad platforms' APIs count.
//! Integer micros make sums exact and budget caps checkable to the micro. Arithmetic is checked:
//! an overflow is an [`Error::Overflow`], never a wrap.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Micros per currency unit.
pub const MICROS_PER_UNIT: i64 = 1_000_000;

/// Digits after the point of a currency's minor unit (ISO 4217): 0 for JPY, KRW, VND...; 3 for
/// KWD, BHD, OMR...; 2 for every other code (CNY, USD, EUR, INR and codes not listed). The code
/// is matched without regard to case or surrounding spaces.
///
/// ```
/// use adbandit::money::minor_digits;
/// assert_eq!((minor_digits("JPY"), minor_digits("cny"), minor_digits("KWD")), (0, 2, 3));
/// ```
pub fn minor_digits(currency: &str) -> u32 {
    match currency.trim().to_ascii_uppercase().as_str() {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "PYG" | "UGX" | "XAF" | "XOF" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "IQD" | "LYD" => 3,
        _ => 2,
    }
}

/// An amount of money in integer micros.
///
/// Serialises as the integer number of micros, so a JSON round trip is exact.
/// `Display` prints currency units with two to six decimals (`12.50`, `0.123456`).
///
/// ```
/// use adbandit::Money;
/// let bid = Money::from_micros(1_250_000);
/// assert_eq!(bid.to_string(), "1.25");
/// let total = bid.checked_add(Money::from_units(2)?)?;
/// assert_eq!(total.micros(), 3_250_000);
/// assert_eq!("3.25".parse::<Money>()?, total);
/// # Ok::<(), adbandit::Error>(())
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);
    /// The largest representable amount.
    pub const MAX: Money = Money(i64::MAX);

    /// From a number of micros.
    pub const fn from_micros(micros: i64) -> Self {
        Money(micros)
    }

    /// From whole currency units.
    ///
    /// # Errors
    /// [`Error::Overflow`] if `units * 1_000_000` does not fit in an `i64`.
    pub fn from_units(units: i64) -> Result<Self> {
        units
            .checked_mul(MICROS_PER_UNIT)
            .map(Money)
            .ok_or_else(|| Error::Overflow {
                field: format!("Money::from_units({units})"),
            })
    }

    /// From a floating amount of currency units, rounded to the nearest micro.
    ///
    /// For computed amounts (a bid from a formula). Parse text with [`str::parse`] instead,
    /// which never goes through a float.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for NaN or infinity, [`Error::Overflow`] if out of range.
    pub fn from_units_f64(units: f64) -> Result<Self> {
        Self::from_micros_f64(units * MICROS_PER_UNIT as f64)
    }

    /// From a floating number of micros, rounded to the nearest micro.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for NaN or infinity, [`Error::Overflow`] if out of range.
    pub fn from_micros_f64(micros: f64) -> Result<Self> {
        if !micros.is_finite() {
            return Err(Error::invalid("money", micros, "must be finite"));
        }
        let r = micros.round();
        // i64::MAX as f64 rounds up to 2^63, so compare with `<` against it.
        if r >= i64::MAX as f64 || r < i64::MIN as f64 {
            return Err(Error::Overflow {
                field: format!("money from {micros} micros"),
            });
        }
        Ok(Money(r as i64))
    }

    /// The amount in micros.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// The amount in currency units, as a float (for rates and estimates).
    pub fn units(self) -> f64 {
        self.0 as f64 / MICROS_PER_UNIT as f64
    }

    /// Whether the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Whether the amount is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + other`, or [`Error::Overflow`].
    pub fn checked_add(self, other: Money) -> Result<Money> {
        self.0
            .checked_add(other.0)
            .map(Money)
            .ok_or_else(|| Error::Overflow {
                field: format!("{} + {}", self.0, other.0),
            })
    }

    /// `self - other`, or [`Error::Overflow`].
    pub fn checked_sub(self, other: Money) -> Result<Money> {
        self.0
            .checked_sub(other.0)
            .map(Money)
            .ok_or_else(|| Error::Overflow {
                field: format!("{} - {}", self.0, other.0),
            })
    }

    /// `self * n`, or [`Error::Overflow`].
    pub fn checked_mul(self, n: i64) -> Result<Money> {
        self.0
            .checked_mul(n)
            .map(Money)
            .ok_or_else(|| Error::Overflow {
                field: format!("{} * {n}", self.0),
            })
    }

    /// `self * factor`, rounded to the nearest micro.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] if `factor` is not finite, [`Error::Overflow`] if out of range.
    pub fn checked_mul_f64(self, factor: f64) -> Result<Money> {
        if !factor.is_finite() {
            return Err(Error::invalid("money factor", factor, "must be finite"));
        }
        Self::from_micros_f64(self.0 as f64 * factor)
    }

    /// `self + other`, clamped at the representable range (for caps, never for bookkeeping).
    pub const fn saturating_add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }

    /// `self - other`, clamped at the representable range.
    pub const fn saturating_sub(self, other: Money) -> Money {
        Money(self.0.saturating_sub(other.0))
    }

    /// Sum of an iterator of amounts, or [`Error::Overflow`].
    pub fn checked_sum<I: IntoIterator<Item = Money>>(iter: I) -> Result<Money> {
        iter.into_iter().try_fold(Money::ZERO, Money::checked_add)
    }

    /// Rounds down to a multiple of `increment` (a platform's bid increment). A non-positive
    /// increment leaves the amount unchanged.
    pub fn floor_to(self, increment: Money) -> Money {
        if increment.0 <= 0 {
            return self;
        }
        Money(self.0.div_euclid(increment.0) * increment.0)
    }

    /// Rounds to the nearest multiple of `increment` (ties away from zero), saturating.
    pub fn round_to(self, increment: Money) -> Money {
        if increment.0 <= 0 {
            return self;
        }
        let q = self.0.div_euclid(increment.0);
        let r = self.0.rem_euclid(increment.0);
        let q = if r * 2 >= increment.0 {
            q.saturating_add(1)
        } else {
            q
        };
        Money(q.saturating_mul(increment.0))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let units = abs / MICROS_PER_UNIT as u64;
        let mut frac = abs % MICROS_PER_UNIT as u64;
        // Two to six decimals: drop trailing zeros past the second (no allocation; decisions
        // print hundreds of thousands of amounts).
        let mut digits = 6;
        while digits > 2 && frac.is_multiple_of(10) {
            frac /= 10;
            digits -= 1;
        }
        write!(f, "{sign}{units}.{frac:0digits$}")
    }
}

impl FromStr for Money {
    type Err = Error;

    /// Parses decimal text in currency units (`"12"`, `"-0.5"`, `"1234.567891"`) straight into
    /// micros, with no float in between. More than six decimals is an error (no silent rounding).
    fn from_str(s: &str) -> Result<Money> {
        let bad = |reason: &str| Error::invalid("money", format!("{s:?}"), reason);
        let t = s.trim();
        let (neg, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (int_part, frac_part) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(bad("no digits"));
        }
        if !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad("not a decimal number"));
        }
        if frac_part.len() > 6 {
            return Err(bad("more than 6 decimals (finer than a micro)"));
        }
        let mut micros: i64 = 0;
        for b in int_part.bytes() {
            micros = micros
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(b - b'0')))
                .ok_or_else(|| bad("too large"))?;
        }
        micros = micros
            .checked_mul(MICROS_PER_UNIT)
            .ok_or_else(|| bad("too large"))?;
        let mut scale = MICROS_PER_UNIT / 10;
        for b in frac_part.bytes() {
            micros = micros
                .checked_add(i64::from(b - b'0') * scale)
                .ok_or_else(|| bad("too large"))?;
            scale /= 10;
        }
        Ok(Money(if neg { -micros } else { micros }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_trims_to_at_least_two_decimals() {
        assert_eq!(Money::from_micros(0).to_string(), "0.00");
        assert_eq!(Money::from_micros(12_500_000).to_string(), "12.50");
        assert_eq!(Money::from_micros(123_456).to_string(), "0.123456");
        assert_eq!(Money::from_micros(-1_010_000).to_string(), "-1.01");
        assert_eq!(
            Money::from_micros(i64::MIN).to_string(),
            "-9223372036854.775808"
        );
    }

    #[test]
    fn parse_is_exact() {
        assert_eq!("0.1".parse::<Money>().unwrap().micros(), 100_000);
        assert_eq!(
            "1234.567891".parse::<Money>().unwrap().micros(),
            1_234_567_891
        );
        assert_eq!("-2".parse::<Money>().unwrap().micros(), -2_000_000);
        assert_eq!(".5".parse::<Money>().unwrap().micros(), 500_000);
        assert!("1.2345678".parse::<Money>().is_err());
        assert!("abc".parse::<Money>().is_err());
        assert!("".parse::<Money>().is_err());
        assert!("-".parse::<Money>().is_err());
        assert!("99999999999999999".parse::<Money>().is_err());
    }

    #[test]
    fn overflow_is_an_error() {
        assert!(matches!(
            Money::MAX.checked_add(Money::from_micros(1)),
            Err(Error::Overflow { .. })
        ));
        assert!(
            Money::from_micros(i64::MIN)
                .checked_sub(Money::from_micros(1))
                .is_err()
        );
        assert!(Money::MAX.checked_mul(2).is_err());
        assert!(Money::from_units(i64::MAX / 10).is_err());
        assert!(Money::from_micros_f64(f64::NAN).is_err());
        assert!(Money::from_micros_f64(1e30).is_err());
        assert!(Money::MAX.checked_mul_f64(1.5).is_err());
    }

    #[test]
    fn serde_round_trip_is_exact() {
        let m = Money::from_micros(9_007_199_254_740_993); // not representable as f64
        let j = serde_json::to_string(&m).unwrap();
        assert_eq!(j, "9007199254740993");
        assert_eq!(serde_json::from_str::<Money>(&j).unwrap(), m);
    }

    #[test]
    fn rounding_to_increment() {
        let inc = Money::from_micros(10_000);
        assert_eq!(
            Money::from_micros(1_234_567).floor_to(inc).micros(),
            1_230_000
        );
        assert_eq!(
            Money::from_micros(1_235_000).round_to(inc).micros(),
            1_240_000
        );
        assert_eq!(
            Money::from_micros(1_234_999).round_to(inc).micros(),
            1_230_000
        );
    }
}

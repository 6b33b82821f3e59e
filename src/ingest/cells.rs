//! Cell parsers for exported reports: counts, money, exact decimals, percentages, dates.
//!
//! Every parser takes the raw cell text and returns `Ok(None)` for a cell that means "no
//! value" (empty, `-`, `--`, `—`, `N/A`), `Ok(Some(..))` for a value, or `Err(reason)`.
//! Numbers never go through a float: decimal text is turned into integer millionths
//! (micros for money) digit by digit, and digits beyond the sixth decimal are rounded half up
//! on the text itself, so an unrounded export such as `12.3400000000001` reads as exactly
//! `12.34`.

use crate::model::Date;

/// A cell after cleaning: the numeric text and whether it was a capped value (`< 10%`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned<'a> {
    /// The number's text: optional sign, digits, optional `.` and decimals, optional exponent.
    pub text: std::borrow::Cow<'a, str>,
    /// The cell was written as a bound (`< 10%`, `> 90%`); the bound is the value.
    pub capped: bool,
    /// The cell carried a `%` suffix.
    pub percent: bool,
}

/// Whether the cell means "no value".
pub fn is_missing(cell: &str) -> bool {
    let t = cell.trim();
    t.is_empty()
        || matches!(
            t,
            "-" | "--" | "---" | "—" | "–" | " " | "N/A" | "n/a" | "NA" | "null" | "NULL" | "无"
        )
}

const CURRENCY_PREFIXES: &[&str] = &[
    "US$", "USD", "INR", "CNY", "RMB", "Rs.", "Rs", "EUR", "GBP", "JPY", "$", "₹", "￥", "¥", "€",
    "£",
];
const CURRENCY_SUFFIXES: &[&str] = &["元", "USD", "INR", "CNY", "RMB", "EUR", "GBP"];

/// The ISO 4217 code a currency marker stands for, and whether the marker is ambiguous
/// (`$` is also CAD, AUD...; `¥` also JPY), so the reader says what it assumed.
pub fn currency_code(marker: &str) -> Option<(&'static str, bool)> {
    Some(match marker.trim() {
        "USD" | "US$" => ("USD", false),
        "$" => ("USD", true),
        "INR" | "Rs." | "Rs" | "₹" => ("INR", false),
        "CNY" | "RMB" | "元" => ("CNY", false),
        "￥" | "¥" => ("CNY", true),
        "EUR" | "€" => ("EUR", false),
        "GBP" | "£" => ("GBP", false),
        "JPY" => ("JPY", false),
        _ => return None,
    })
}

/// The currency marker (symbol or code) a money cell is written with, if any.
pub fn currency_marker(cell: &str) -> Option<&'static str> {
    let t = cell.trim().trim_start_matches(['-', '<', '>', ' ']);
    CURRENCY_PREFIXES
        .iter()
        .find(|p| t.starts_with(*p))
        .or_else(|| CURRENCY_SUFFIXES.iter().find(|p| t.ends_with(*p)))
        .copied()
}

/// Strips currency symbols, thousands separators, `%`, capping signs and spaces.
///
/// Returns `None` for a missing cell. Commas are thousands separators (the decimal point is
/// always `.`; `1.234,56`-style European numbers are not recognised and are rejected by the
/// number parsers rather than misread).
pub fn clean(cell: &str) -> Option<Cleaned<'_>> {
    if is_missing(cell) {
        return None;
    }
    let t = cell.trim();
    // Fast path: plain numbers (the canonical CSV) need no copy.
    if t.bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Some(Cleaned {
            text: std::borrow::Cow::Borrowed(t),
            capped: false,
            percent: false,
        });
    }
    let mut s = t;
    let mut capped = false;
    for sign in ["<=", ">=", "<", ">", "≤", "≥"] {
        if let Some(rest) = s.strip_prefix(sign) {
            s = rest.trim_start();
            capped = true;
            break;
        }
    }
    let mut neg = false;
    if let Some(rest) = s.strip_prefix('-') {
        neg = true;
        s = rest.trim_start();
    }
    let mut percent = false;
    if let Some(rest) = s.strip_suffix('%') {
        percent = true;
        s = rest.trim_end();
    }
    loop {
        let before = s;
        for p in CURRENCY_PREFIXES {
            if let Some(rest) = s.strip_prefix(p) {
                s = rest.trim_start();
            }
        }
        for p in CURRENCY_SUFFIXES {
            if let Some(rest) = s.strip_suffix(p) {
                s = rest.trim_end();
            }
        }
        if s.len() == before.len() {
            break;
        }
    }
    if !neg && let Some(rest) = s.strip_prefix('-') {
        neg = true;
        s = rest;
    }
    let mut out = String::with_capacity(s.len() + 1);
    if neg {
        out.push('-');
    }
    for c in s.chars() {
        match c {
            ',' | '\u{a0}' | '\u{202f}' | '\u{2009}' | ' ' | '\'' | '_' => {}
            _ => out.push(c),
        }
    }
    Some(Cleaned {
        text: std::borrow::Cow::Owned(out),
        capped,
        percent,
    })
}

/// Parses decimal text (optionally with an exponent, `1.5E-3`) into millionths, rounding
/// half up (away from zero) at the seventh decimal, on the digits themselves.
///
/// # Errors
/// A reason if the text is not a decimal number or the value does not fit.
pub fn parse_millionths(text: &str) -> Result<i64, String> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mant, exp) = match body.find(['e', 'E']) {
        Some(i) => {
            let e: i32 = body[i + 1..]
                .parse()
                .map_err(|_| format!("{text:?} is not a number"))?;
            (&body[..i], e)
        }
        None => (body, 0),
    };
    if !(-40..=40).contains(&exp) {
        return Err(format!("{text:?} is out of range"));
    }
    let (int_part, frac_part) = mant.split_once('.').unwrap_or((mant, ""));
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("{text:?} is not a number"));
    }
    // Position of the decimal point within the digit string, after the exponent shift.
    let digits = int_part.bytes().chain(frac_part.bytes());
    let point = int_part.len() as i64 + i64::from(exp);
    let keep = point + 6; // digits that land at or above the micro place
    let mut acc: i64 = 0;
    let mut round_up = false;
    let mut n: i64 = 0;
    for d in digits {
        let v = i64::from(d - b'0');
        if n < keep {
            acc = acc
                .checked_mul(10)
                .and_then(|a| a.checked_add(v))
                .ok_or_else(|| format!("{text:?} is too large"))?;
        } else if n == keep {
            round_up = v >= 5;
        }
        n += 1;
    }
    // Pad with zeros up to the micro place.
    while n < keep {
        acc = acc
            .checked_mul(10)
            .ok_or_else(|| format!("{text:?} is too large"))?;
        n += 1;
    }
    if round_up {
        acc = acc
            .checked_add(1)
            .ok_or_else(|| format!("{text:?} is too large"))?;
    }
    Ok(if neg { -acc } else { acc })
}

/// Number of decimals written in a number's text (for the totals tolerance).
pub fn decimals(text: &str) -> u32 {
    match text.split_once('.') {
        Some((_, f)) => f.bytes().take_while(u8::is_ascii_digit).count() as u32,
        None => 0,
    }
}

/// A non-negative integer count (`1,234`, `12.0`). Decimals must be zero.
///
/// # Errors
/// A reason for text that is not a whole non-negative number.
pub fn parse_count(cell: &str) -> Result<Option<(u64, bool)>, String> {
    let Some(c) = clean(cell) else {
        return Ok(None);
    };
    let t: &str = &c.text;
    if t.bytes().all(|b| b.is_ascii_digit()) && !t.is_empty() {
        return t
            .parse::<u64>()
            .map(|v| Some((v, c.capped)))
            .map_err(|_| format!("{cell:?} is too large"));
    }
    let m = parse_millionths(t).map_err(|_| format!("{cell:?} is not a count"))?;
    if m < 0 {
        return Err(format!("{cell:?} is negative"));
    }
    if m % 1_000_000 != 0 {
        return Err(format!("{cell:?} is not a whole number"));
    }
    Ok(Some(((m / 1_000_000) as u64, c.capped)))
}

/// A decimal value in millionths (money in micros, fractional conversions), symbols stripped.
///
/// # Errors
/// A reason for text that is not a decimal number.
pub fn parse_decimal(cell: &str) -> Result<Option<(i64, bool)>, String> {
    let Some(c) = clean(cell) else {
        return Ok(None);
    };
    if c.percent {
        return Err(format!("{cell:?} is a percentage, not an amount"));
    }
    parse_millionths(&c.text)
        .map(|v| Some((v, c.capped)))
        .map_err(|_| format!("{cell:?} is not a number"))
}

/// A rate as millionths of 1 (`3.25%` and `0.0325` both give 32,500); a value with a `%`
/// sign is divided by 100, a bare value above 1 is read as a percentage too.
///
/// # Errors
/// A reason for text that is not a number, or a negative rate.
pub fn parse_rate(cell: &str) -> Result<Option<(i64, bool)>, String> {
    let Some(c) = clean(cell) else {
        return Ok(None);
    };
    let m = parse_millionths(&c.text).map_err(|_| format!("{cell:?} is not a rate"))?;
    if m < 0 {
        return Err(format!("{cell:?} is negative"));
    }
    let v = if c.percent || m > 1_000_000 {
        (m + 50) / 100
    } else {
        m
    };
    Ok(Some((v, c.capped)))
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_of(word: &str) -> Option<u32> {
    let w = word.to_ascii_lowercase();
    if w.len() < 3 || !w.is_ascii() {
        return None;
    }
    let p = MONTHS.iter().position(|m| w.starts_with(m))?;
    // "june", "sept", "september": the rest must be letters.
    if w.bytes().all(|b| b.is_ascii_alphabetic() || b == b'.') {
        Some(p as u32 + 1)
    } else {
        None
    }
}

/// Spreadsheet serial day 0 (Excel's 1900 system, with its phantom Feb 29 1900): 1899-12-30.
const SERIAL_EPOCH_DAYS: i32 = -25_569;

/// A date in any of the spellings exports use.
///
/// - ISO `2020-02-01`, `2020/02/01`, `20200201`, optionally followed by a time;
/// - `Feb 1, 2020`, `February 1, 2020`, `1 Feb 2020`, `Sat, Feb 1, 2020`, `01-Feb-2020`;
/// - `01-02-2020` and `01.02.2020` are day first (DD-MM-YYYY); `02/01/2020` with slashes is
///   month first (US) unless the first number is above 12;
/// - `2020年2月1日`;
/// - spreadsheet serial numbers 20,000..=80,000 (1954..2119), fractions (time of day) dropped.
///
/// # Errors
/// A reason if the text is none of these or names a day that does not exist.
pub fn parse_date(cell: &str) -> Result<Option<Date>, String> {
    if is_missing(cell) {
        return Ok(None);
    }
    let t = cell.trim();
    let bad = || format!("{cell:?} is not a date");
    let ymd = |y: i64, m: i64, d: i64| -> Result<Option<Date>, String> {
        let (Ok(y), Ok(m), Ok(d)) = (i32::try_from(y), u32::try_from(m), u32::try_from(d)) else {
            return Err(bad());
        };
        Date::from_ymd(y, m, d)
            .map(Some)
            .map_err(|_| format!("{cell:?} is not a valid day"))
    };
    let num = |s: &str| -> Option<i64> {
        if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            s.parse().ok()
        }
    };
    // Serial numbers and YYYYMMDD.
    let int_part = t.split_once('.').map_or(t, |(i, f)| {
        if f.bytes().all(|b| b.is_ascii_digit()) {
            i
        } else {
            t
        }
    });
    if let Some(n) = num(int_part) {
        if int_part.len() == 8 {
            return ymd(n / 10_000, n / 100 % 100, n % 100);
        }
        if (20_000..=80_000).contains(&n) {
            return Ok(Some(Date::from_days(SERIAL_EPOCH_DAYS + n as i32)));
        }
        return Err(bad());
    }
    // Chinese 2020年2月1日.
    if let Some((y, rest)) = t.split_once('年') {
        let (m, rest) = rest.split_once('月').ok_or_else(bad)?;
        let d = rest.trim_end_matches('日').trim_end_matches('号');
        let d = d.split_whitespace().next().unwrap_or("");
        return match (num(y.trim()), num(m.trim()), num(d.trim())) {
            (Some(y), Some(m), Some(d)) => ymd(y, m, d),
            _ => Err(bad()),
        };
    }
    // Numeric with separators, optional time after a space or 'T'.
    let date_part = t.split([' ', 'T']).next().unwrap_or(t);
    for sep in ['-', '/', '.'] {
        let parts: Vec<&str> = date_part.split(sep).collect();
        if parts.len() == 3
            && let (Some(a), Some(b), Some(c)) = (num(parts[0]), num(parts[1]), num(parts[2]))
        {
            if parts[0].len() == 4 {
                return ymd(a, b, c);
            }
            if parts[2].len() == 4 {
                return if sep == '/' && a <= 12 {
                    ymd(c, a, b)
                } else {
                    ymd(c, b, a)
                };
            }
            return Err(bad());
        }
    }
    // Month names: tokens split by spaces, commas, dashes and slashes.
    let mut month = None;
    let mut year = None;
    let mut day = None;
    for tok in t.split([' ', ',', '-', '/']).filter(|s| !s.is_empty()) {
        if let Some(n) = num(tok.trim_end_matches(['s', 't', 'n', 'd', 'r', 'h'])) {
            if tok.len() == 4 && year.is_none() {
                year = Some(n);
            } else if day.is_none() && tok.len() <= 4 {
                day = Some(n);
            } else {
                return Err(bad());
            }
        } else if let Some(m) = month_of(tok) {
            if month.is_some() {
                // A weekday never matches a month prefix, so two months is garbage.
                return Err(bad());
            }
            month = Some(m);
        } else if tok.contains(':') {
            // A time of day.
        } else if !tok.bytes().all(|b| b.is_ascii_alphabetic() || b == b'.') {
            return Err(bad());
        }
    }
    match (year, month, day) {
        (Some(y), Some(m), Some(d)) => ymd(y, i64::from(m), d),
        _ => Err(bad()),
    }
}

/// Finds a date range (or a single date) in a title line such as
/// `February 1, 2020 - February 29, 2020`, `Date range: 2020-02-01 ~ 2020-02-07` or
/// `2020-02-01至2020-02-07`.
pub fn parse_date_range(line: &str) -> Option<(Date, Date)> {
    let mut t = line.trim().trim_matches(',').trim();
    if let Some(i) = t.rfind([':', '：']) {
        // Keep times of day ("00:00") out of this: only strip a label made of letters.
        let label = &t[..i];
        if !label.chars().any(|c| c.is_ascii_digit()) {
            t = t[i..].trim_start_matches([':', '：']).trim();
        }
    }
    for sep in [" - ", " – ", " — ", "~", "至", " to ", "–", "—"] {
        if let Some((a, b)) = t.split_once(sep) {
            let a = parse_date(a.trim().trim_matches(',')).ok().flatten()?;
            let b = parse_date(b.trim().trim_matches(',')).ok().flatten()?;
            return (a <= b).then_some((a, b));
        }
    }
    let d = parse_date(t).ok().flatten()?;
    Some((d, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> Option<Date> {
        Some(Date::from_ymd(y, m, dd).unwrap())
    }

    #[test]
    fn millionths_are_exact_and_round_on_text() {
        assert_eq!(parse_millionths("12.34"), Ok(12_340_000));
        assert_eq!(parse_millionths("12.3400000000001"), Ok(12_340_000));
        assert_eq!(parse_millionths("0.0000005"), Ok(1));
        assert_eq!(parse_millionths("0.00000049"), Ok(0));
        assert_eq!(parse_millionths("1.5E-3"), Ok(1_500));
        assert_eq!(parse_millionths("1.2e3"), Ok(1_200_000_000));
        assert_eq!(parse_millionths("-2"), Ok(-2_000_000));
        assert_eq!(parse_millionths(".5"), Ok(500_000));
        assert!(parse_millionths("1e99").is_err());
        assert!(parse_millionths("99999999999999999").is_err());
        assert!(parse_millionths("1.2.3").is_err());
        assert!(parse_millionths("").is_err());
    }

    #[test]
    fn cells_strip_symbols() {
        assert_eq!(
            parse_decimal("Rs. 1,234.50"),
            Ok(Some((1_234_500_000, false)))
        );
        assert_eq!(parse_decimal("₹1,234.5"), Ok(Some((1_234_500_000, false))));
        assert_eq!(parse_decimal("$0.75"), Ok(Some((750_000, false))));
        assert_eq!(parse_decimal("￥88"), Ok(Some((88_000_000, false))));
        assert_eq!(parse_decimal("¥ 88.8"), Ok(Some((88_800_000, false))));
        assert_eq!(parse_decimal("-$1.5"), Ok(Some((-1_500_000, false))));
        assert_eq!(parse_decimal("--"), Ok(None));
        assert_eq!(parse_decimal(" - "), Ok(None));
        assert_eq!(parse_decimal(""), Ok(None));
        assert!(parse_decimal("abc").is_err());
        assert!(parse_decimal("5%").is_err());
        assert_eq!(parse_count("1,234"), Ok(Some((1234, false))));
        assert_eq!(parse_count("12.0"), Ok(Some((12, false))));
        assert_eq!(parse_count("< 10"), Ok(Some((10, true))));
        assert!(parse_count("1.5").is_err());
        assert!(parse_count("-3").is_err());
        assert_eq!(parse_rate("3.25%"), Ok(Some((32_500, false))));
        assert_eq!(parse_rate("< 10%"), Ok(Some((100_000, true))));
        assert_eq!(parse_rate("0.0325"), Ok(Some((32_500, false))));
    }

    #[test]
    fn dates_in_every_spelling() {
        let feb1 = d(2020, 2, 1);
        for s in [
            "2020-02-01",
            "2020/02/01",
            "20200201",
            "2020-02-01 00:00:00",
            "2020-02-01T08:00",
            "Feb 1, 2020",
            "February 1, 2020",
            "Sat, Feb 1, 2020",
            "1 Feb 2020",
            "01-Feb-2020",
            "01-02-2020",
            "01.02.2020",
            "02/01/2020",
            "2020年2月1日",
            "43862",
            "43862.5",
        ] {
            assert_eq!(parse_date(s), Ok(feb1), "{s}");
        }
        assert_eq!(parse_date("13/01/2020"), Ok(d(2020, 1, 13)));
        assert_eq!(parse_date("--"), Ok(None));
        for s in [
            "2020-02-30",
            "Foo 1, 2020",
            "12345",
            "1/2",
            "Feb Mar 2020",
            "x",
        ] {
            assert!(parse_date(s).is_err(), "{s}");
        }
        assert_eq!(
            parse_date_range("February 1, 2020 - February 29, 2020"),
            Some((feb1.unwrap(), d(2020, 2, 29).unwrap()))
        );
        assert_eq!(
            parse_date_range("Date range: 2020-02-01 ~ 2020-02-07"),
            Some((feb1.unwrap(), d(2020, 2, 7).unwrap()))
        );
        assert_eq!(
            parse_date_range("2020-02-01至2020-02-01"),
            Some((feb1.unwrap(), feb1.unwrap()))
        );
        assert_eq!(parse_date_range("Search keyword report"), None);
    }
}

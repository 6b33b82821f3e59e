//! Seed sets as written on a command line: a count, an inclusive range or a list.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Most seeds one set may hold (a typo such as `1..100000000` is refused, not run).
pub const MAX_SEEDS: u64 = 1_000_000;

/// Which replication seeds to run.
///
/// Text forms ([`SeedSet::from_str`]): `20` (seeds 0 to 19), `9001..9020` or `9001..=9020`
/// (both ends included: 20 seeds), `3,7,11` (a list, in that order).
///
/// ```
/// use adbandit::compare::SeedSet;
/// assert_eq!("3".parse::<SeedSet>()?.seeds(), [0, 1, 2]);
/// assert_eq!("9001..9003".parse::<SeedSet>()?.seeds(), [9001, 9002, 9003]);
/// assert_eq!("5,2".parse::<SeedSet>()?.seeds(), [5, 2]);
/// assert!("9..3".parse::<SeedSet>().is_err());
/// # Ok::<(), adbandit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedSet {
    /// Seeds `0..n`.
    Count(u64),
    /// Seeds `first..=last`.
    Range {
        /// First seed.
        first: u64,
        /// Last seed (included).
        last: u64,
    },
    /// These seeds, in this order (no repeats).
    List(Vec<u64>),
}

impl Default for SeedSet {
    fn default() -> Self {
        SeedSet::Count(20)
    }
}

impl SeedSet {
    /// The seeds, in order.
    pub fn seeds(&self) -> Vec<u64> {
        match self {
            SeedSet::Count(n) => (0..*n).collect(),
            SeedSet::Range { first, last } => (*first..=*last).collect(),
            SeedSet::List(v) => v.clone(),
        }
    }

    /// How many seeds.
    pub fn len(&self) -> u64 {
        match self {
            SeedSet::Count(n) => *n,
            SeedSet::Range { first, last } => last.saturating_sub(*first).saturating_add(1),
            SeedSet::List(v) => v.len() as u64,
        }
    }

    /// Whether the set is empty (never, for a parsed set).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn seed(s: &str, text: &str) -> Result<u64> {
    s.trim().parse::<u64>().map_err(|_| {
        Error::parameter(
            "--seeds",
            text,
            "must be a count (20), a range (9001..9020, both ends included) or a list (1,5,9) \
             of whole numbers >= 0",
        )
    })
}

impl FromStr for SeedSet {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let t = text.trim();
        let set = if let Some((a, b)) = t.split_once("..") {
            let b = b.strip_prefix('=').unwrap_or(b);
            let (first, last) = (seed(a, text)?, seed(b, text)?);
            if first > last {
                return Err(Error::parameter(
                    "--seeds",
                    text,
                    "the range's first seed is above its last",
                ));
            }
            SeedSet::Range { first, last }
        } else if t.contains(',') {
            let v = t
                .split(',')
                .map(|x| seed(x, text))
                .collect::<Result<Vec<u64>>>()?;
            let mut sorted = v.clone();
            sorted.sort_unstable();
            if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                return Err(Error::parameter(
                    "--seeds",
                    text,
                    format!("seed {} is listed twice", w[0]),
                ));
            }
            SeedSet::List(v)
        } else {
            SeedSet::Count(seed(t, text)?)
        };
        if set.is_empty() {
            return Err(Error::parameter("--seeds", text, "needs at least one seed"));
        }
        if set.len() > MAX_SEEDS {
            return Err(Error::parameter(
                "--seeds",
                text,
                format!("more than {MAX_SEEDS} seeds"),
            ));
        }
        Ok(set)
    }
}

impl std::fmt::Display for SeedSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeedSet::Count(n) => write!(f, "{n}"),
            SeedSet::Range { first, last } => write!(f, "{first}..{last}"),
            SeedSet::List(v) => {
                let s: Vec<String> = v.iter().map(u64::to_string).collect();
                f.write_str(&s.join(","))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_parse_and_print_back() {
        for (text, seeds) in [
            ("4", vec![0, 1, 2, 3]),
            (" 9001..9003 ", vec![9001, 9002, 9003]),
            ("7..=7", vec![7]),
            ("5, 2,9", vec![5, 2, 9]),
        ] {
            let s: SeedSet = text.parse().unwrap();
            assert_eq!(s.seeds(), seeds, "{text}");
            assert_eq!(s.len(), seeds.len() as u64);
            assert_eq!(s.to_string().parse::<SeedSet>().unwrap(), s);
        }
        for bad in [
            "",
            "0",
            "-3",
            "x",
            "9..3",
            "1,1",
            "1..",
            "..4",
            "0..2000000",
            "1,,2",
        ] {
            let e = bad.parse::<SeedSet>().unwrap_err().to_string();
            assert!(e.contains("--seeds"), "{bad}: {e}");
        }
    }
}

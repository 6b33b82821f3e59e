//! The crate's one error type.
//!
//! Every fallible public function returns [`Result`]. Variants are structured so a caller can
//! match on *what* was wrong and *where* (a field path such as `plans[2].keywords[0].bid`), and
//! the `Display` text says the same in a sentence an operator can read.

use thiserror::Error;

/// Everything that can go wrong in `adbandit`.
///
/// `#[non_exhaustive]`: new variants may be added in minor releases, so match with a wildcard arm.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Error {
    /// A value is outside its allowed range (NaN, infinite, negative, too large, empty, ...).
    #[error("invalid value for `{field}`: {value} ({reason})")]
    InvalidValue {
        /// Path of the offending field, e.g. `plans[1].daily_budget`.
        field: String,
        /// The offending value, rendered as text.
        value: String,
        /// Why the value was rejected.
        reason: String,
    },
    /// Counts that cannot happen together, e.g. more clicks than impressions.
    #[error("inconsistent counts in `{field}`: {reason}")]
    Inconsistent {
        /// Path of the offending record.
        field: String,
        /// What does not add up, with the numbers.
        reason: String,
    },
    /// Checked integer arithmetic would have overflowed.
    #[error("arithmetic overflow in `{field}`")]
    Overflow {
        /// Where the overflow happened (an operation or a field path).
        field: String,
    },
    /// The same id appears twice where ids must be unique.
    #[error("duplicate {kind} id `{id}`")]
    DuplicateId {
        /// What kind of id (plan, keyword, arm, job, ...).
        kind: &'static str,
        /// The duplicated id.
        id: String,
    },
    /// An id refers to something that does not exist.
    #[error("unknown {kind} id `{id}`")]
    UnknownId {
        /// What kind of id (plan, keyword, arm, scenario, ...).
        kind: &'static str,
        /// The unknown id.
        id: String,
    },
    /// A configuration parameter is invalid (e.g. an epsilon outside `[0, 1]`).
    #[error("invalid parameter `{name}` = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// The offending value, rendered as text.
        value: String,
        /// The allowed range or rule.
        reason: String,
    },
    /// A text file (report, scenario, mapping) could not be parsed.
    #[error("{file}:{line}: column `{column}`: {reason}")]
    Parse {
        /// File name or a description of the source.
        file: String,
        /// 1-based line number (0 when the error is not tied to a line).
        line: usize,
        /// Column name or 1-based position.
        column: String,
        /// What was wrong.
        reason: String,
    },
    /// JSON (de)serialisation failed; the text includes serde's location.
    #[error("serialisation error: {0}")]
    Serde(String),
    /// Reading or writing a file failed.
    #[error("i/o error on `{path}`: {reason}")]
    Io {
        /// The path involved.
        path: String,
        /// The operating system's message.
        reason: String,
    },
    /// The work was stopped on request (a termination signal or [`crate::cancel::Cancel`])
    /// before it finished; what had finished is kept (e.g. a sweep's result lines).
    #[error("cancelled{}", signal.map(|s| format!(" by signal {s}")).unwrap_or_default())]
    Cancelled {
        /// The signal number that asked for it, if a signal did.
        signal: Option<i32>,
    },
    /// A snapshot or results file has a format this version cannot read.
    #[error("unsupported format version {found} (this build reads {supported})")]
    FormatVersion {
        /// The version found in the data.
        found: u32,
        /// The version this build understands.
        supported: u32,
    },
}

/// `Result` with [`enum@Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::InvalidValue`].
    pub fn invalid(
        field: impl Into<String>,
        value: impl std::fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        Error::InvalidValue {
            field: field.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Io`]: the path and the operating system's message. The one
    /// place that turns an I/O failure into the crate's error.
    pub fn io(path: impl AsRef<std::path::Path>, e: impl std::fmt::Display) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            reason: e.to_string(),
        }
    }

    /// Shorthand for [`Error::InvalidParameter`].
    pub fn parameter(
        name: &'static str,
        value: impl std::fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        Error::InvalidParameter {
            name,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Serde(e.to_string())
    }
}

/// Checks that `x` is finite and `>= 0`, for validating user input; NaN fails.
///
/// # Errors
/// [`Error::InvalidValue`] naming `field`.
pub fn check_non_negative(field: impl Into<String>, x: f64) -> Result<f64> {
    if !(x.is_finite() && x >= 0.0) {
        return Err(Error::invalid(field, x, "must be finite and >= 0"));
    }
    Ok(x)
}

/// Checks that `x` is finite and `> 0`.
///
/// # Errors
/// [`Error::InvalidValue`] naming `field`.
pub fn check_positive(field: impl Into<String>, x: f64) -> Result<f64> {
    if !(x.is_finite() && x > 0.0) {
        return Err(Error::invalid(field, x, "must be finite and > 0"));
    }
    Ok(x)
}

/// Checks that `x` is a probability in `[0, 1]`.
///
/// # Errors
/// [`Error::InvalidValue`] naming `field`.
pub fn check_probability(field: impl Into<String>, x: f64) -> Result<f64> {
    if !(0.0..=1.0).contains(&x) {
        return Err(Error::invalid(field, x, "must be a probability in [0, 1]"));
    }
    Ok(x)
}

/// Checks that `x` lies in `lo..=hi` (NaN fails).
///
/// # Errors
/// [`Error::InvalidValue`] naming `field` and the range.
pub fn check_range(field: impl Into<String>, x: f64, lo: f64, hi: f64) -> Result<f64> {
    if !(x >= lo && x <= hi) {
        return Err(Error::invalid(field, x, format!("must be in [{lo}, {hi}]")));
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_reject_nan_and_infinity() {
        assert!(check_non_negative("x", f64::NAN).is_err());
        assert!(check_non_negative("x", f64::INFINITY).is_err());
        assert!(check_non_negative("x", -1.0).is_err());
        assert_eq!(check_non_negative("x", 0.0), Ok(0.0));
        assert!(check_positive("x", 0.0).is_err());
        assert!(check_probability("x", 1.5).is_err());
        assert!(check_probability("x", f64::NAN).is_err());
        assert!(check_range("x", f64::NAN, 0.0, 1.0).is_err());
        assert!(check_range("x", 10.5, 0.1, 10.0).is_err());
        assert_eq!(check_range("x", 0.1, 0.1, 10.0), Ok(0.1));
    }

    #[test]
    fn io_names_the_path() {
        let e = Error::io("/tmp/x.json", "permission denied");
        assert_eq!(
            e,
            Error::Io {
                path: "/tmp/x.json".into(),
                reason: "permission denied".into()
            }
        );
    }

    #[test]
    fn display_names_field_and_value() {
        let e = Error::invalid("plans[0].daily_budget", -5, "must be >= 0");
        let s = e.to_string();
        assert!(
            s.contains("plans[0].daily_budget") && s.contains("-5"),
            "{s}"
        );
    }
}

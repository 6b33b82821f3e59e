//! User-supplied column mappings: any platform's export without new code.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ingest::detect::{Field, normalise_header};

/// Which header names the columns of a new platform's export have.
///
/// JSON form (keys are [`Field`] names in snake_case, values are the header text in the file,
/// compared case-insensitively after trimming, collapsing spaces, dropping a trailing `(...)`
/// unit and a leading `N Day` window):
///
/// ```
/// use adbandit::ingest::ColumnMapping;
/// let m: ColumnMapping = serde_json::from_str(r#"{
///   "name": "bing-ads",
///   "columns": { "date": "Day", "plan": "Campaign", "keyword": "Keyword",
///                "impressions": "Impr", "clicks": "Clicks", "cost": "Spend",
///                "conversions": "Conv", "revenue": "Revenue" },
///   "totals_labels": ["Grand total"]
/// }"#)?;
/// assert_eq!(m.name, "bing-ads");
/// # Ok::<(), adbandit::Error>(())
/// ```
///
/// Validated on deserialisation: `impressions`, `clicks`, `cost` and one of `plan` / `plan_id`
/// are required, and no header name may be empty or used twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct ColumnMapping {
    /// A name for the layout (shown in messages).
    #[serde(default)]
    pub name: String,
    /// Field -> header text.
    pub columns: BTreeMap<Field, String>,
    /// Extra first-cell labels that mark totals rows (besides `Total...`, `合计`, `总计`).
    #[serde(default)]
    pub totals_labels: Vec<String>,
}

// The derived (remote = "Self") impl reads the fields, then `ColumnMapping::new` validates:
// no mirror struct to keep in step.
impl<'de> Deserialize<'de> for ColumnMapping {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let r = ColumnMapping::deserialize(d)?;
        ColumnMapping::new(r.name, r.columns, r.totals_labels).map_err(serde::de::Error::custom)
    }
}

impl Serialize for ColumnMapping {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        ColumnMapping::serialize(self, s)
    }
}

impl ColumnMapping {
    /// A validated mapping.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a missing required field, an empty header name or a header
    /// named by two fields.
    pub fn new(
        name: impl Into<String>,
        columns: BTreeMap<Field, String>,
        totals_labels: Vec<String>,
    ) -> Result<Self> {
        for f in [Field::Impressions, Field::Clicks, Field::Cost] {
            if !columns.contains_key(&f) {
                return Err(Error::invalid(
                    format!("mapping.columns.{}", f.name()),
                    "missing",
                    "impressions, clicks and cost are required",
                ));
            }
        }
        if !columns.contains_key(&Field::Plan) && !columns.contains_key(&Field::PlanId) {
            return Err(Error::invalid(
                "mapping.columns.plan",
                "missing",
                "`plan` or `plan_id` is required",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (f, h) in &columns {
            let n = normalise_header(h).0;
            if n.is_empty() {
                return Err(Error::invalid(
                    format!("mapping.columns.{}", f.name()),
                    format!("{h:?}"),
                    "must not be empty",
                ));
            }
            if !seen.insert(n) {
                return Err(Error::invalid(
                    format!("mapping.columns.{}", f.name()),
                    format!("{h:?}"),
                    "header used by two fields",
                ));
            }
        }
        Ok(ColumnMapping {
            name: name.into(),
            columns,
            totals_labels,
        })
    }

    /// Reads a mapping from JSON text.
    ///
    /// # Errors
    /// [`Error::Serde`] for malformed JSON, unknown fields or a failed validation.
    pub fn from_json(text: &str) -> Result<Self> {
        Ok(serde_json::from_str(text)?)
    }

    /// The field of each column, if every mapped header is in `headers` (normalised); else
    /// the mapped header texts that are not.
    pub(crate) fn resolve(&self, headers: &[String]) -> Result<Vec<Option<Field>>, Vec<String>> {
        let mut out = vec![None; headers.len()];
        let mut missing = Vec::new();
        for (f, h) in &self.columns {
            let n = normalise_header(h).0;
            match headers.iter().position(|x| *x == n) {
                Some(i) => out[i] = Some(*f),
                None => missing.push(h.clone()),
            }
        }
        if missing.is_empty() {
            Ok(out)
        } else {
            Err(missing)
        }
    }
}

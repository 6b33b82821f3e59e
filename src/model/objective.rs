//! What a plan optimises for.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check_positive};
use crate::money::Money;

/// A plan's objective, as the operator states it.
///
/// ROI means revenue / cost (return on ad spend), the trade's usage.
///
/// JSON: `{"kind": "target_roi", "roi": 3.0}`, `{"kind": "max_clicks"}`, ...
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Objective {
    /// As many clicks as the budget buys.
    MaxClicks,
    /// As many conversions (orders) as the budget buys.
    MaxConversions,
    /// As much revenue as the budget buys (the default).
    #[default]
    MaxRevenue,
    /// Revenue / cost at or above `roi`, then as much revenue as possible.
    TargetRoi {
        /// The target revenue per unit of cost, e.g. 3.0.
        roi: f64,
    },
    /// Cost per conversion at or below `cpa`, then as many conversions as possible.
    TargetCpa {
        /// The target cost per conversion.
        cpa: Money,
    },
}

impl Objective {
    /// Checks the objective's parameter.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a non-positive or non-finite ROI or a non-positive CPA.
    pub fn validate(&self, field: &str) -> Result<()> {
        match *self {
            Objective::TargetRoi { roi } => check_positive(format!("{field}.roi"), roi).map(|_| ()),
            Objective::TargetCpa { cpa } if cpa.micros() <= 0 => {
                Err(Error::invalid(format!("{field}.cpa"), cpa, "must be > 0"))
            }
            _ => Ok(()),
        }
    }

    /// Short machine name (`max_clicks`, `target_roi`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Objective::MaxClicks => "max_clicks",
            Objective::MaxConversions => "max_conversions",
            Objective::MaxRevenue => "max_revenue",
            Objective::TargetRoi { .. } => "target_roi",
            Objective::TargetCpa { .. } => "target_cpa",
        }
    }
}

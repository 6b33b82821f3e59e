//! Stage: what a plan or keyword is worth under its objective, written once for budgets
//! and bids.

use crate::model::Objective;

/// Scores of one arm, as the policy gave them: CTR, CVR and value per click.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scored {
    /// Clicks per impression (1 for a value per click).
    pub(crate) ctr: f64,
    /// Conversions per click.
    pub(crate) cvr: f64,
    /// Value per click, CVR x AOV.
    pub(crate) vpc: f64,
}

impl Scored {
    /// The objective's value per impression: clicks for max clicks, conversions for max
    /// conversions and target CPA, revenue for max revenue and target ROI. Conversions and
    /// revenue are scaled by the day's CVR factor (`cvr_factor`, from the calendar). With
    /// `ctr = 1` this is the value per click.
    pub(crate) fn value(&self, objective: Objective, cvr_factor: f64) -> f64 {
        // The products keep this order (ctr x rate x factor): decisions are pinned to the bit.
        match objective {
            Objective::MaxClicks => self.ctr,
            Objective::MaxConversions | Objective::TargetCpa { .. } => {
                self.ctr * self.cvr * cvr_factor
            }
            Objective::MaxRevenue | Objective::TargetRoi { .. } => self.ctr * self.vpc * cvr_factor,
        }
    }

    /// The same scores per click (CTR set to 1).
    pub(crate) fn per_click(cvr: f64, vpc: f64) -> Scored {
        Scored { ctr: 1.0, cvr, vpc }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Money;

    #[test]
    fn each_objective_values_its_own_quantity() {
        let s = Scored {
            ctr: 0.05,
            cvr: 0.1,
            vpc: 8.0,
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(s.value(Objective::MaxClicks, 2.0), 0.05));
        assert!(close(s.value(Objective::MaxConversions, 2.0), 0.01));
        let cpa = Objective::TargetCpa {
            cpa: Money::from_micros(1),
        };
        assert!(close(s.value(cpa, 1.0), 0.005));
        assert!(close(s.value(Objective::MaxRevenue, 1.5), 0.6));
        assert!(close(s.value(Objective::TargetRoi { roi: 3.0 }, 1.0), 0.4));
        let k = Scored::per_click(0.1, 8.0);
        assert!(close(k.value(Objective::MaxClicks, 3.0), 1.0));
        assert!(close(k.value(Objective::MaxRevenue, 1.0), 8.0));
    }
}

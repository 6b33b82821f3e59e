//! Marginal value of budget: what the next unit of money earns in each plan, from the same
//! response curve the budget stage water-fills (`value(s) = r C (1 - exp(-s / C))`, see
//! [`crate::allocate::budget`]), with the value at low spend `r` drawn from the posteriors so
//! that the answer carries its uncertainty. Deterministic; does not move the engine's
//! generator.

use serde::{Deserialize, Serialize};

use crate::engine::engine_impl::Engine;
use crate::engine::value::Scored;
use crate::error::{Error, Result};
use crate::model::{PlanId, Status};
use crate::policy::Policy;
use crate::rng::{domain, stream};

/// One plan's budget response curve, with posterior draws of its value at low spend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseCurve {
    /// The plan.
    pub plan: PlanId,
    /// Whether the plan can receive budget (paused plans cannot).
    pub active: bool,
    /// Spend its traffic can absorb in a normal day, currency units (`C`).
    pub capacity: f64,
    /// Draws of the value (the engine's objective: clicks, conversions or revenue) per unit
    /// of money at low spend (`r`).
    pub value_per_money: Vec<f64>,
}

impl ResponseCurve {
    /// The value the next unit of money earns at a daily spend of `spend` currency units,
    /// in draw `d`: `r_d exp(-spend / C)`. For a revenue objective this is the marginal ROI.
    pub fn marginal(&self, d: usize, spend: f64) -> f64 {
        let r = self.value_per_money.get(d).copied().unwrap_or(0.0);
        r * (-spend.max(0.0) / self.capacity.max(1e-9)).exp()
    }
}

impl<P: Policy> Engine<P> {
    /// Every plan's budget response curve under the engine's objective, with `draws`
    /// posterior draws of its value per unit of money at low spend (CTR, CVR and order value
    /// drawn jointly per plan, as the budget stage scores them).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for `draws` outside 1..=100,000; estimate errors.
    pub fn response_curves(&self, draws: usize) -> Result<Vec<ResponseCurve>> {
        if !(1..=100_000).contains(&draws) {
            return Err(Error::invalid(
                "response_curves.draws",
                draws,
                "must be in 1..=100000",
            ));
        }
        let est = self.estimates()?;
        let objective = self.state.config.objective;
        self.state
            .account
            .plans()
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let e = &est.plans[i];
                let ipm = self.state.impressions_per_money(i, e);
                let mut rng = stream(
                    self.state.seed,
                    &[domain::ENGINE, 0x4d41_5247, self.state.round, i as u64],
                );
                let (ctr, cvr, aov) = (e.ctr.sampler(), e.cvr.sampler(), e.aov.sampler());
                let value_per_money = (0..draws)
                    .map(|_| {
                        let (t, c, a) = (
                            ctr.sample(&mut rng),
                            cvr.sample(&mut rng),
                            aov.sample(&mut rng),
                        );
                        let s = Scored {
                            ctr: t,
                            cvr: c,
                            vpc: c * a,
                        };
                        let r = s.value(objective, 1.0) * ipm;
                        if r.is_finite() { r.max(0.0) } else { 0.0 }
                    })
                    .collect();
                Ok(ResponseCurve {
                    plan: p.id.clone(),
                    active: p.status == Status::Active,
                    capacity: self.state.traffic[i].capacity.max(1.0) / 1e6,
                    value_per_money,
                })
            })
            .collect()
    }
}

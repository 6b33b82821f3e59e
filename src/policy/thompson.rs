//! Thompson sampling (Thompson 1933; Chapelle & Li 2011; Agrawal & Goyal 2012).
//!
//! 1. For each active arm, draw the reward from its posterior: a rate from Beta, or value per
//!    click as a CVR draw (Beta) times an AOV draw (Gamma–Gamma), or ROI as that over the cpc.
//! 2. The draws are the scores; the arm (or the `m` arms) with the highest draw is played.
//!
//! The draws are honest samples of the reward, so the engine can feed them to allocation.
//! Forgetting (discounted or sliding-window Thompson sampling) comes from [`super::Arms`].

use serde::{Deserialize, Serialize};

use super::{Policy, PosteriorView, Reward, ScoreKind};
use crate::rng::SimRng;

/// Thompson sampling. It has no parameters: the priors live in [`super::ArmsConfig`].
///
/// ```
/// use adbandit::estimate::{BetaPrior, Forgetting};
/// use adbandit::policy::{Arms, ArmsConfig, Reward, Thompson, choose_one};
/// let mut arms = Arms::with_arms(ArmsConfig::new(BetaPrior::UNIFORM, Forgetting::Never)?, 3);
/// arms.update(2, 900.0, 1000.0)?;
/// let mut rng = adbandit::rng::stream(1, &[]);
/// let mut scores = Vec::new();
/// assert_eq!(choose_one(&Thompson::new(), arms.view(), Reward::Rate, 1, &mut rng, &mut scores), Some(2));
/// # Ok::<(), adbandit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Thompson {}

impl Thompson {
    /// Thompson sampling.
    pub fn new() -> Self {
        Thompson {}
    }
}

impl Policy for Thompson {
    fn name(&self) -> &'static str {
        "thompson"
    }

    fn score_kind(&self) -> ScoreKind {
        ScoreKind::PosteriorSample
    }

    fn score(
        &self,
        arms: &dyn PosteriorView,
        reward: Reward,
        _round: u64,
        rng: &mut SimRng,
        out: &mut [f64],
    ) {
        let active = arms.active();
        match reward {
            Reward::Rate | Reward::Ctr | Reward::Cvr => {
                arms.beta_samplers(reward).sample_active(active, rng, out);
            }
            Reward::ValuePerClick | Reward::Roi => {
                let (cvr, aov, inv_cpc) = (
                    arms.beta_samplers(Reward::Cvr),
                    arms.aov_samplers(),
                    arms.inv_cpc(),
                );
                let roi = reward == Reward::Roi;
                for (i, (o, a)) in out.iter_mut().zip(active).enumerate() {
                    *o = if *a {
                        let v = cvr.sample(i, rng) * aov[i].sample(rng);
                        if roi { v * inv_cpc[i] } else { v }
                    } else {
                        f64::NEG_INFINITY
                    };
                }
            }
        }
    }
}

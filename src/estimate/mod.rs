//! Bayesian estimates of rates and values from noisy counts.
//!
//! - [`BetaPrior`] / [`BetaPosterior`]: CTR (clicks of impressions) and CVR (orders of clicks).
//! - [`OrderValuePrior`] / [`OrderValuePosterior`]: the mean order value (AOV), Gamma–Gamma,
//!   chosen because reports give daily sums, on which it is conjugate.
//! - [`ArmEstimate`]: the three together, with value per click (CVR x AOV) and ROI
//!   (revenue / cost, i.e. return on ad spend) derived from them.
//! - [`AccountEstimates`]: the account → plan → keyword hierarchy with empirical-Bayes
//!   priors ([`shrinkage`]): a keyword with few clicks borrows from its plan.
//! - [`Evidence`] and [`Forgetting`]: discounted or windowed counts for a moving world.
//! - [`sampling`]: fast cached Gamma and Beta draws for Thompson sampling.
//! - [`PosteriorView`]: the read-only view of posteriors that policies score from
//!   ([`PosteriorTable`] over fitted estimates; `policy::Arms` over its own counts), with the
//!   [`Reward`] being scored named (CTR, CVR, value per click, ROI).

/// Serialises and deserialises a type through serde's `remote = "Self"` derive (one field
/// list, serde-rs/serde#1220), passing the deserialised value through `$check` (a
/// `fn(Self) -> Result<Self>`, usually the type's validating constructor).
macro_rules! validated_serde {
    ($t:ty, $check:expr) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                <$t>::serialize(self, s)
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(
                d: D,
            ) -> std::result::Result<Self, D::Error> {
                let check: fn($t) -> $crate::error::Result<$t> = $check;
                check(<$t>::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use validated_serde;

pub mod evidence;
pub mod forgetting;
pub mod hierarchy;
pub mod posterior;
pub mod sampling;
pub mod shrinkage;
pub mod view;

pub use evidence::{Counts, Evidence, Tally};
pub use forgetting::Forgetting;
pub use hierarchy::{AccountEstimates, ArmEstimate};
pub use posterior::{
    BetaPosterior, BetaPrior, DEFAULT_ORDER_SHAPE, OrderValuePosterior, OrderValuePrior,
    OrderValueSampler,
};
pub use sampling::{BETA_EXPANSION_MIN_SHAPE, BetaSampler, GammaSampler};
pub use shrinkage::ShrinkageConfig;
pub use view::{BetaSamplers, PosteriorTable, PosteriorView, Reward};

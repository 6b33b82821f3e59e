//! Bayesian estimates of rates and values from noisy counts.
//!
//! - [`BetaPrior`] / [`BetaPosterior`]: CTR (clicks of impressions) and CVR (orders of clicks).
//! - [`OrderValuePrior`] / [`OrderValuePosterior`]: the mean order value (AOV), Gamma–Gamma.
//! - [`sampling`]: fast cached Gamma and Beta draws for Thompson sampling.

pub mod forgetting;
pub mod posterior;
pub mod sampling;

pub use forgetting::Forgetting;
pub use posterior::{
    BetaPosterior, BetaPrior, DEFAULT_ORDER_SHAPE, OrderValuePosterior, OrderValuePrior,
    OrderValueSampler,
};
pub use sampling::{BetaSampler, GammaSampler};

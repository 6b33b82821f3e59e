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

pub mod evidence;
pub mod forgetting;
pub mod hierarchy;
pub mod posterior;
pub mod sampling;
pub mod shrinkage;
pub mod view;

pub use evidence::{Counts, Evidence};
pub use forgetting::Forgetting;
pub use hierarchy::{AccountEstimates, ArmEstimate};
pub use posterior::{
    BetaPosterior, BetaPrior, DEFAULT_ORDER_SHAPE, OrderValuePosterior, OrderValuePrior,
    OrderValueSampler,
};
pub use sampling::{BetaSampler, GammaSampler};
pub use shrinkage::ShrinkageConfig;
pub use view::{PosteriorTable, PosteriorView, Reward};

//! Bayesian estimates of rates and values from noisy counts.

pub mod sampling;

pub use sampling::{BetaSampler, GammaSampler};

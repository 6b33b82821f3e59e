//! # adbandit
//!
//! Bayesian bandits that shift ad bids and budgets toward the plans and keywords with higher
//! CTR and ROI, under the operator's limits.
//!
//! Layers, bottom up (each depends only on those above it in this list):
//! - [`error`], [`money`], [`rng`]: the error type, integer-micro money, reproducible streams;
//! - [`model`]: account, plans, keywords, objectives, schedules, statistics and reports;
//! - [`estimate`]: posteriors for CTR, CVR, order value and ROI, with shrinkage and forgetting;
//! - [`policy`]: bandit policies (Thompson sampling, UCB, epsilon-greedy, softmax, EXP3) over [`policy::Arms`].
//! - [`sim`]: the market simulator (scenarios, auctions, ground truth, the oracle).
//! - [`compare`]: strategy comparison on the simulator (runner, built-in strategies, reports,
//!   plots).
//! - [`sweep`]: sweep files, shards across machines, resumable JSON Lines results, merge.
//!
//! In this trade "ROI" means revenue / cost (return on ad spend), and the code keeps that meaning.
//!
//! ```
//! use adbandit::{Account, Keyword, MatchType, Money, Plan, Stats};
//! let yuan = |x| Money::from_units(x).unwrap();
//! let plan = Plan::new("p1", "Dresses", yuan(300), yuan(0), yuan(5))
//!     .with_keyword(Keyword::new("k1", "red dress", MatchType::Phrase, yuan(1)));
//! let account = Account::new("Shop", "CNY", vec![plan])?;
//! let yesterday = Stats::new(1_000, 50, 5, yuan(40), yuan(500))?;
//! assert_eq!(yesterday.roi(), Some(12.5));
//! # let _ = account;
//! # Ok::<(), adbandit::Error>(())
//! ```

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

pub mod allocate;
pub mod compare;
pub mod engine;
pub mod error;
pub mod estimate;
pub mod ingest;
pub mod model;
pub mod money;
pub mod pacing;
pub mod policy;
pub mod rng;
pub mod sim;
pub mod sweep;

pub use error::{Error, Result};
pub use model::{
    Account, Date, Keyword, KeywordId, MatchType, NegativeKeyword, Objective, Plan, PlanId, Report,
    ReportRow, Schedule, Stats, Status, matching,
};
pub use money::Money;
pub use rng::SimRng;

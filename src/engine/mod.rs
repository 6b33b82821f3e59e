//! The embeddable engine: observe reports, decide budgets and bids, snapshot and restore.
//!
//! One [`Engine`] holds an account, a configuration, a policy and a seeded generator. Each day:
//!
//! 1. [`Engine::observe`] ingests a report of per-keyword (or per-plan) stats. The report is
//!    validated whole first; a bad report is rejected and leaves the engine unchanged.
//! 2. [`Engine::decide`] fits the hierarchical posteriors (keyword ← plan ← account), asks the
//!    policy for a score per plan and per keyword (a Thompson draw, an upper bound, ...),
//!    splits the total budget across plans ([`crate::allocate::budget`]), sets each keyword's
//!    bid from its plan's objective ([`crate::allocate::bid`]), applies the pause and flag
//!    rules, and returns a [`Decision`] in which every change carries a [`Reason`].
//!
//!    With the defaults the split follows the bids, as the budget-aware oracle's does
//!    ([`EngineConfig::budgets_from_bids`]): every keyword bids its posterior value per
//!    click times one account-wide multiplier, the one at which the keywords' predicted
//!    spend meets the total, and each plan gets what its keywords are then predicted to
//!    spend (half of yesterday's split is kept, [`EngineConfig::budget_smoothing`]). The last
//!    unit of money earns about the same everywhere. Keyword values are posterior means
//!    ([`EngineConfig::keyword_draw_cap`] 1): optimistic draws were measured to lose under a
//!    budget. Within the day [`Engine::pacer`] scales the plan's bids before it throttles,
//!    and [`Engine::record_bid_scale`] tells the engine the scale each day ran at, so its
//!    spend model knows the bids the clicks were bought at.
//! 3. [`Engine::snapshot`] / [`Engine::restore`] persist the whole state (including the
//!    generator), so a restarted service makes exactly the decisions it would have made.
//!
//! The engine assumes its decisions are applied: after `decide` its account holds the new
//! budgets, bids and pauses. If the platform refused a change, tell the engine with
//! [`Engine::set_bid`], [`Engine::set_daily_budget`] or [`Engine::set_keyword_status`].
//!
//! Policies score from a read-only view of the engine's fitted posteriors
//! ([`crate::estimate::PosteriorView`]); the evidence stays in one store, the engine's, with
//! one forgetting rule. The engine spends money in proportion to the scores, so it runs a
//! policy only if its declared [`crate::policy::ScoreKind`] is a value of the reward: a
//! posterior sample (Thompson), an optimistic index (UCB1, Bayes-UCB) or a point estimate
//! (epsilon-greedy, softmax). A policy whose scores are a ranking only (EXP3) is refused with
//! an error. A user-written policy runs the same way (see `examples/custom_policy.rs`).
//!
mod bids;
mod budgets;
pub mod calendar;
mod change;
pub mod config;
mod creatives;
pub mod decision;
mod engine_impl;
mod ledger;
mod margins;
mod observe;
mod reasons;
mod rules;
mod score;
pub mod snapshot;
mod state;
mod traffic;
mod value;
mod what_if;

pub use calendar::{CalendarEvent, DayFactors, factors_on};
pub use config::{BudgetMode, ChannelLimits, DAYS_PER_MONTH, EngineConfig, PlanLimits, RuleConfig};
pub use decision::{
    BidDecision, BudgetDecision, CreativeDecision, CreativePause, CreativeWeight, Decision, Flag,
    PauseDecision, Reason, ReasonCode, ReasonMetrics,
};
pub use engine_impl::Engine;
pub use margins::ResponseCurve;
pub use snapshot::{ENGINE_FORMAT_VERSION, EngineSnapshot};
pub use what_if::{Band, WhatIf};

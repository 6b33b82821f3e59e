//! The market simulator: auctions, traffic, promotion days and ground truth.
//!
//! A [`Scenario`] is an [`Account`](crate::Account) plus the truth of its market; a [`Market`]
//! runs it hour by hour under a strategy's [`Controls`] and returns [`HourOutcome`]s, which
//! [`outcomes_to_report`] turns into the [`Report`](crate::Report)s an engine observes. The
//! [`budget_oracle()`] gives each day's ceiling and the bids and budgets that reach it (the
//! reference of `compare`'s regret); [`oracle()`] the best fixed allocation in hindsight.
//!
//! ```
//! use adbandit::sim::{Controls, Fidelity, Granularity, Market, Scenario, outcomes_to_report};
//! let sc = Scenario::small();
//! let mut market = Market::new(&sc, Fidelity::Fast, 42);
//! let controls = Controls::from_account(sc.account());
//! let day: Vec<_> = (0..24).map(|h| market.run_hour(0, h, &controls)).collect::<Result<_, _>>()?;
//! let report = outcomes_to_report(sc.account(), sc.date(0), &day, Granularity::Daily)?;
//! let spent = report.total()?.cost();
//! assert!(spent <= sc.total_daily_budget()?);
//! # Ok::<(), adbandit::Error>(())
//! ```
//!
//! # The model
//! Each account keyword `k` has its own stream of matching queries (keywords do not share
//! queries). Every day-specific value flows through [`Truth`]'s accessors
//! ([`Truth::queries`], [`Truth::ctr`], [`Truth::cvr`], [`Truth::aov_on`], [`Truth::curve`],
//! [`Truth::keyword_factors`]), which the market and the oracle both read.
//!
//! - **Traffic.** Expected queries of `k` in hour `h` of day `d`:
//!   `volume_k x match.volume x share(h) x week(weekday(d)) x calendar_k.traffic(d) x
//!   drift_v(k, d)` while `k` is live (zero before its launch and after its end), where
//!   `share` is the hourly curve normalised to sum 1 and `week` the weekly curve normalised
//!   to mean 1. Counts are Poisson.
//! - **Match type.** A keyword's truth is stated at exact match; phrase and broad multiply
//!   volume up and CTR and CVR down by the market's `match_effects` (defaults: phrase 1.8 /
//!   0.8 / 0.8, broad 3.0 / 0.55 / 0.6).
//! - **Query stream.** A keyword may list its search queries (text, weight, CTR and CVR
//!   factors): its volume is split over them by weight, each with its own rates; a broad or
//!   phrase keyword's irrelevant queries are written so. A query matching one of the plan's
//!   negative keywords, or one a strategy adds ([`Controls::plan_negatives`]), is blocked
//!   (matching through [`crate::matching`]). Without a list the keyword is its only query.
//!   [`search_terms`] turns a day's outcomes into a search-term report.
//! - **Auction.** Generalised second price over `S` slots (see [`auction`]). Our ad bids the
//!   effective bid `b = bid x schedule(h) x pacing multiplier` (rounded to the micro) with
//!   quality `q`; bids below the reserve do not enter. `n_k` rivals per query each draw a bid
//!   `LogNormal(ln median_k, sigma_k) x calendar_k.competitor_bid(d)` with quality `q_c`
//!   (a 64-segment quantile table of that log-normal, tails cut at 0.2%). Rank score =
//!   bid x quality; ties go to the rival. With `j` rivals above us we take slot `j` if
//!   `j < S`, and pay `min(b, max(reserve, ceil(next / q) + increment))` per click, `next`
//!   being the best rival score below ours (reserve if none).
//! - **Clicks and orders.** CTR in slot `j` = `min(1, ctr_k x match.ctr x query.ctr x
//!   calendar_k.ctr(d) x position_effect[j] x drift_c(k, d))`; CVR = `min(1, cvr_k x
//!   match.cvr x query.cvr x calendar_k.cvr(d) x drift_r(k, d))`; each order's value is
//!   log-normal with mean `aov_k x calendar_k.aov(d)` and log-sd `aov_sigma_k`.
//! - **Calendar.** [`CalendarEvent`]s (the model layer's, shared with the engine) multiply
//!   traffic, CTR, CVR, order value and rival bids on their days, for the whole account or a
//!   [`Scope`] of plans and keywords (by id or tag), as a step or a ramp; [`WeekdayProfile`]s
//!   multiply traffic and CVR by weekday per scope. Overlapping items multiply.
//!   `calendar_k` is keyword `k`'s product ([`Truth::keyword_factors`]).
//! - **Launches.** A plan or keyword with a [`Launch`] exists only from its start (to its
//!   end); [`Scenario::account_on`] is the account a strategy may know on a day.
//! - **Drift.** A keyword's volume, CTR and CVR factors move geometrically from 1 (up to
//!   `from_day`) to their final values (from `to_day`); a scoped ramp event does the same
//!   for a set of plans or keywords.
//! - **Budget.** Per plan per day. An ad is served only if the plan's remaining budget covers
//!   its price; the first time it does not, the plan stops for the day. When the budget may
//!   run out within an hour, the plan's keywords' queries are interleaved in time.
//! - **Fast mode.** Per keyword-hour: entered auctions ~ Poisson(queries x throttle), slot
//!   impressions by sequential binomials with the exact per-auction slot probabilities (the
//!   binomial law of rivals above us), clicks ~ Binomial(impressions, CTR_j), cost = clicks x
//!   the mean price in the slot (16-point quadrature over the law of the next rival score),
//!   conversions ~ Binomial, order values summed (normal approximation above 30 orders). If a
//!   plan's hour would overspend, its counts are thinned to the fraction the budget pays for
//!   and then trimmed click by click, so spend never passes the cap.
//!
//! # Randomness
//! Keyword `k`'s draws in hour `h` of day `d` come from `rng::stream(market_seed, [d, h, k])`
//! and never depend on other keywords or on which thread runs, so a strategy that changes one
//! keyword's bids leaves every other keyword's traffic unchanged (common random numbers).

// `!(x > 0.0)` is deliberate throughout: it is true for NaN, which must be rejected too.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod auction;
pub mod market;
pub mod oracle;
pub mod scenario;
pub mod truth;

pub use crate::model::calendar::{CalendarEvent, DayFactors, Scope, WeekdayProfile};
pub use auction::{AuctionRules, Bidder, CompetitorLandscape, Placement, run_auction};
pub use market::{
    Controls, CreativeHour, Fidelity, Granularity, HourOutcome, Market, SearchTermHour,
    SearchTermRow, outcomes_to_report, search_terms,
};
pub use oracle::{
    BudgetOracle, OracleDay, OracleObjective, OraclePlan, OraclePlayer, bid_grid, budget_oracle,
    oracle, oracle_per_day,
};
pub use scenario::{Generator, GeneratorDrift, GeneratorQueries, LaunchChanges, Scenario};
pub use truth::{
    AuctionCurve, Competitors, CreativeTruth, Drift, Event, Expected, KeywordTruth, Launch,
    MarketSpec, MatchEffect, MatchEffects, QueryTruth, Truth,
};

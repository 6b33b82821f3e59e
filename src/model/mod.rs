//! The domain model: account, plans, keywords, objectives, schedules, dates and statistics.

pub mod account;
pub mod calendar;
pub mod date;
pub mod matching;
pub mod objective;
pub mod schedule;
pub mod stats;

pub use account::{
    Account, Creative, CreativeId, DEFAULT_CHANNEL, Keyword, KeywordId, KeywordPos, MatchType,
    NegativeKeyword, Plan, PlanId, Status,
};
pub use date::Date;
pub use objective::Objective;
pub use schedule::Schedule;
pub use stats::{CreativeRow, Report, ReportRow, Stats};

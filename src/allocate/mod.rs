//! Allocation: budgets across plans and bids per keyword.

pub mod bid;
pub mod budget;
pub mod response;

pub use bid::{BidBinding, BidInputs, BidLimits, BidRule, SpendModel, bid_for, solve_lambda};
pub use budget::{
    Allocation, AllocationLimits, Binding, GroupLimits, PlanArm, allocate, allocate_grouped,
};
pub use response::ResponseModel;

//! The plan stage: a pure function of (desired spec, prior state, live resources) to a [`Plan`].

pub mod diff;
pub mod model;
pub mod scope;

pub use diff::{Inputs, allowed, diff};
pub use model::{
    Action, AttrDrift, Drift, EnvPlan, Plan, Reason, ReplaceOrder, ResourceChange, StateRef,
    Summary,
};

#[cfg(test)]
mod tests;

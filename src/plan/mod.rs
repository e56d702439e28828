//! The plan stage: a pure function of (desired spec, prior state, live resources) to a [`Plan`].

pub mod model;

pub use model::{Action, Drift, EnvPlan, Plan, Reason, ResourceChange, Summary};

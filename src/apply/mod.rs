//! The apply stage: executes a [`crate::plan::Plan`], never a spec.

#[allow(clippy::result_large_err)] // errors are rare and carry whole messages, like the provider's
pub mod exec;
pub mod outputs;
pub mod schedule;

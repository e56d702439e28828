//! The spec language: YAML files to a validated set of desired resource instances.

pub mod value;
pub mod yaml;

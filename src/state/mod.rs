//! State: what regionctl last applied, one versioned JSON document per environment, behind a
//! backend (local files or S3) with locking.

pub mod model;

pub use model::{STATE_FORMAT_VERSION, State, StateResource};

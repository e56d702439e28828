//! regionctl: region-aware infrastructure as code for multi-region AWS platforms.
//!
//! The pipeline is a functional core with I/O at the edges (see ARCHITECTURE.md):
//! files → `spec` (parse, expand, validate) → `graph` → plan → `render`.

pub mod addr;
pub mod diag;
pub mod kind;
pub mod source;
pub mod spec;

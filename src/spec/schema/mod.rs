//! Resource kind schemas: what each kind accepts, computes and must replace to change.

pub mod check;
pub mod compare;
pub mod compare_eks;
pub mod kinds;
pub mod names;
pub mod types;

pub use kinds::schema;
pub use types::{Field, KindSchema, Ty};

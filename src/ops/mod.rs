//! The use cases: what a user asks regionctl to do, independent of how it is asked.
//!
//! Between `cmd` (arguments in, text out) and the stages (spec, graph, state, refresh, plan,
//! apply), each use case composes the stages into one operation: prepare a selection of the
//! spec, make a plan (read states and refresh AWS concurrently, then diff), read or write a saved
//! plan, apply or destroy under the environments' locks. Nothing here prints or parses
//! arguments: results and errors come back as values for `cmd` to render (an apply asks and
//! shows through a trait `cmd` implements), so a library user gets the same operations as the
//! CLI.

pub mod adopt;
pub mod apply;
pub mod import;
pub mod kubeconfig;
pub mod output;
pub mod plan;
pub mod prepare;
pub mod refresh;
pub mod saved_plan;
pub mod state;

pub use plan::{Consent, Made, make};
pub use prepare::{Prepare, PrepareError, Prepared, Request, prepare};

/// The async runtime for use cases that talk to AWS. Multi-threaded: regions are refreshed and
/// applied concurrently, and the SDK's own work (signing, TLS) runs beside it.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

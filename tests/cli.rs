//! Integration tests of the `regionctl` binary, run as a separate process the way users run it.
//!
//! - `invalid`: one bad spec per fixture in tests/fixtures/invalid/, snapshotted in
//!   tests/snapshots/ (`INSTA_UPDATE=always cargo test --test cli` regenerates them);
//! - `valid`: the repository's platform and examples, `graph`, and the other subcommands;
//! - `aws`: the binary against the AWS emulator (moto's server, started per test).

#[path = "cli/aws.rs"]
mod aws;
#[path = "cli/harness.rs"]
mod harness;
#[path = "cli/hazards.rs"]
mod hazards;
#[path = "cli/invalid.rs"]
mod invalid;
#[path = "cli/state.rs"]
mod state;
#[path = "support/mod.rs"]
mod support;
#[path = "cli/valid.rs"]
mod valid;

//! Integration tests of the `regionctl` binary, run as a separate process the way users run it.
//!
//! - `invalid`: one bad spec per fixture in tests/fixtures/invalid/, snapshotted in
//!   tests/snapshots/ (`INSTA_UPDATE=always cargo test --test it cli::invalid` regenerates them);
//! - `valid`: the repository's platform and examples, `graph`, and the other subcommands;
//! - `state`: `state`, `force-unlock` and `import` on a local state and against the emulator;
//! - `hazards`: files that must not hang or exhaust validate (FIFOs, /dev/zero, symlink loops);
//! - `aws`: the binary against the AWS emulator (moto's server, started per test).

mod adopt;
mod aws;
mod hazards;
mod invalid;
mod state;
mod valid;

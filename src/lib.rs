//! regionctl: region-aware infrastructure as code for multi-region AWS platforms.
//!
//! The pipeline is a functional core with I/O at the edges (see ARCHITECTURE.md):
//! files → `spec` (load, expand, check) → `graph` → plan → `render`, wired by `cmd`.

pub mod addr;
pub mod adopt;
pub mod apply;
pub mod check;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod diag;
pub mod exit;
pub mod graph;
pub mod hash;
pub mod kind;
#[cfg(test)]
mod layers;
pub mod plan;
// `ProviderError` is large (it carries the address, region, operation, AWS code and message a user
// needs). Errors are rare and every call returning one is a network round trip, so boxing it would
// buy nothing measurable and cost flat pattern matching.
pub mod ops;
#[allow(clippy::result_large_err)]
pub mod provider;
pub mod render;
pub mod resource;
pub mod service;
pub mod source;
pub mod spec;
pub mod state;
pub mod term;

use std::io::IsTerminal;

use clap::Parser;

/// The binary's entry point: parse arguments, set up logging, run, and map to an exit status.
pub fn main_entry() -> exit::ExitStatus {
    // clap exits 2 on a usage error, but 2 means "plan has changes" (README): a bad command
    // line is an error like any other, so it exits 1. Help and --version still exit 0.
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::ExitStatus::Failure
            } else {
                exit::ExitStatus::Success
            };
        }
    };
    init_tracing(cli.verbose);
    let terminal = std::io::stdout().is_terminal();
    let style = cmd::style_for(cli.color, terminal);
    // Not locked for the whole run: the live progress view draws from its own thread.
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let mut io = cmd::Output {
        out: &mut out,
        err: &mut err,
        style,
        terminal,
    };
    cmd::run(cli, &mut io)
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("regionctl={level}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

//! `regionctl plan`.

use std::path::Path;

use crate::cli::PlanArgs;
use crate::exit::ExitStatus;
use crate::provider::ClientOptions;

use super::Output;

pub fn run(
    _start: &Path,
    _args: &PlanArgs,
    _aws: &ClientOptions,
    io: &mut Output,
) -> std::io::Result<ExitStatus> {
    super::not_implemented("plan", io)
}

//! `regionctl state list|show|rm`.

use std::path::Path;

use crate::cli::StateCommand;
use crate::exit::ExitStatus;
use crate::provider::ClientOptions;

use super::Output;

pub fn run(
    _start: &Path,
    _cmd: &StateCommand,
    _aws: &ClientOptions,
    io: &mut Output,
) -> std::io::Result<ExitStatus> {
    super::not_implemented("state", io)
}

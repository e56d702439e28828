//! `regionctl import ADDR ID`.

use std::path::Path;

use crate::cli::ImportArgs;
use crate::exit::ExitStatus;
use crate::provider::ClientOptions;

use super::Output;

pub fn run(
    _start: &Path,
    _args: &ImportArgs,
    _aws: &ClientOptions,
    io: &mut Output,
) -> std::io::Result<ExitStatus> {
    super::not_implemented("import", io)
}

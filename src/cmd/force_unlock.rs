//! `regionctl force-unlock LOCK_ID`.

use std::path::Path;

use crate::cli::ForceUnlockArgs;
use crate::exit::ExitStatus;
use crate::provider::ClientOptions;

use super::Output;

pub fn run(
    _start: &Path,
    _args: &ForceUnlockArgs,
    _aws: &ClientOptions,
    io: &mut Output,
) -> std::io::Result<ExitStatus> {
    super::not_implemented("force-unlock", io)
}

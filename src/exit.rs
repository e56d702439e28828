//! Process exit codes, decided in one place.

use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Success, and (for plan with --detailed-exitcode) no changes.
    Success,
    /// An error: invalid spec, failed AWS call, refused operation.
    Failure,
    /// Success with changes present (plan --detailed-exitcode).
    Changes,
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        match s {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Changes => ExitCode::from(2),
        }
    }
}

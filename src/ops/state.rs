//! State work under a lock, and what the commands that address resources in the state share:
//! one failure type, parsing an address, and "did you mean" for a mistyped one.

use crate::addr::InstanceAddr;
use crate::provider::ProviderError;
use crate::state::{Session, StateError};

/// Why a state command failed; printed as `error: ...`.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Provider(Box<ProviderError>),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Message(String),
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Failure {
        Failure::Provider(Box::new(e))
    }
}

impl Failure {
    pub fn msg(text: impl Into<String>) -> Failure {
        Failure::Message(text.into())
    }
}

/// The state backend the project names, scoped to its stack.
pub fn backend(
    spec: &crate::spec::Spec,
    clients: &crate::provider::Clients,
) -> crate::state::Backend {
    crate::state::Backend::for_project(&spec.root, &spec.project.backend, clients)
        .with_stack(&spec.project.name)
        .with_lease(spec.project.lock_lease)
}

/// Locks `env`, runs `work` on the session, and releases the lock whatever happened, Ctrl-C
/// included. A failed release after successful work is the command's error (the lock was taken
/// over); after failed work it is added to the work's error.
pub async fn locked<T>(
    backend: &crate::state::Backend,
    stack: &str,
    env: &str,
    operation: &str,
    work: impl AsyncFnOnce(&mut Session) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let mut session = backend.lock(stack, env, operation).await?;
    let result = tokio::select! {
        r = work(&mut session) => r,
        _ = tokio::signal::ctrl_c() => Err(Failure::msg("interrupted; the lock was released")),
    };
    let released = session.unlock().await;
    match (result, released) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(e)) => Err(e.into()),
        (Err(e), Ok(())) => Err(e),
        (Err(e), Err(release)) => Err(Failure::msg(format!(
            "{e}\nerror: releasing the lock also failed: {release}"
        ))),
    }
}

/// Parses a command-line address, with the expected form in the error.
pub fn parse_addr(text: &str) -> Result<InstanceAddr, Failure> {
    text.parse::<InstanceAddr>().map_err(|e| {
        Failure::msg(format!(
            "{e}; write it as ENV/KIND.NAME, e.g. eu-west-1/vpc.main or \
             'eu-west-1/subnet.private[\"eu-west-1a\"]'"
        ))
    })
}

/// Up to three of `candidates` within a few edits of `wanted` (typos, swapped letters), for
/// "did you mean".
pub fn close_matches<'a>(
    wanted: &str,
    candidates: impl Iterator<Item = &'a InstanceAddr>,
) -> Vec<String> {
    let limit = (wanted.len() / 8).max(2);
    let mut scored: Vec<(usize, String)> = candidates
        .map(|a| {
            let text = a.to_string();
            (strsim::osa_distance(wanted, &text), text)
        })
        .filter(|(distance, _)| *distance <= limit)
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, t)| t).collect()
}

pub fn did_you_mean(matches: &[String]) -> String {
    match matches {
        [] => String::new(),
        [one] => format!("; did you mean {one}?"),
        many => format!("; did you mean one of {}?", many.join(", ")),
    }
}

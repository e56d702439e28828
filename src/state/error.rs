//! Everything that can go wrong reading, locking and writing state, with what a user needs to act:
//! where the state lives, who holds the lock, and the command that fixes it.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::lock::LockInfo;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Another run holds the environment's lock.
    #[error("{}", locked_message(env, location, lock, *holder_dead, *alive))]
    Locked {
        env: String,
        /// The lock file or object.
        location: String,
        lock: Box<LockInfo>,
        /// The holder is provably gone (a gone holder's lock is taken over, so this is only set
        /// when a takeover could not be done).
        holder_dead: bool,
        /// The holder provably runs: its process, on this host.
        alive: bool,
    },
    /// This run can no longer count on its lock: its lease could not be renewed in time, or
    /// another run took the lock over. Nothing more is written.
    #[error(
        "this run no longer holds the lock of {env} ({location}): {why}; it stopped writing \
         state. What it did is found again and adopted by the next run"
    )]
    LockLost {
        env: String,
        location: String,
        why: String,
    },
    /// The state changed between this run's read and its write: someone else wrote it, which can
    /// only happen after a forced unlock. Nothing was written.
    #[error(
        "the state at {location} changed since it was read (someone else wrote it, probably after \
         a force-unlock); nothing was written; re-run plan"
    )]
    Conflict { location: String },
    /// The state file is not valid JSON of the state format.
    #[error(
        "the state at {location} cannot be read: {message}; restore it from a backup (or from S3 \
         object versions) rather than edit it by hand"
    )]
    Corrupt { location: String, message: String },
    /// A newer regionctl wrote the state; this one would misread it.
    #[error(
        "the state at {location} has format version {found}, newer than the {supported} this \
         regionctl {} understands; upgrade regionctl",
        env!("CARGO_PKG_VERSION")
    )]
    NewerFormat {
        location: String,
        found: u32,
        supported: u32,
    },
    /// The state belongs to another project or environment (a copied file, a shared bucket
    /// prefix).
    #[error(
        "the state at {location} belongs to {found}, not to {expected}; check the backend's \
         key_prefix (two projects must not share one) or restore the right file"
    )]
    WrongStack {
        location: String,
        /// `stack/env` expected.
        expected: String,
        /// `stack/env` found in the file.
        found: String,
    },
    /// A local file operation failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// S3 answered with an error.
    #[error("{operation} {object} in {region} failed: {code}: {message}")]
    Aws {
        /// `s3://bucket/key`.
        object: String,
        region: String,
        operation: &'static str,
        /// The AWS error code, or `HTTP <status>` when the answer carried none.
        code: String,
        message: String,
    },
    /// S3 could not be reached (connection, TLS, credentials, timeout).
    #[error("{operation} {object} in {region} could not reach S3: {message}")]
    Unreachable {
        /// `s3://bucket/key`.
        object: String,
        region: String,
        operation: &'static str,
        message: String,
    },
    /// The backend's bucket does not exist. regionctl never creates it: its settings (versioning,
    /// encryption, access) are the platform team's decision.
    #[error(
        "the state bucket {bucket} does not exist in {region} (NoSuchBucket); create it (with \
         versioning on) or fix `backend.s3.bucket` in regionctl.yaml"
    )]
    NoBucket { bucket: String, region: String },
    /// No environment has a lock with this id.
    #[error(
        "no lock with id {lock_id} in {searched}; it may have been released already \
         (locks now held: {})",
        if held.is_empty() { "none".to_owned() } else { held.join(", ") }
    )]
    LockNotFound {
        lock_id: String,
        /// What was searched (the state directory or bucket prefix).
        searched: String,
        /// `env: id` of every lock that exists.
        held: Vec<String>,
    },
    /// A force-unlock named one lock, but the environment is held by another now.
    #[error(
        "the lock of {env} is now {}, not {expected}; nothing was removed",
        current.id
    )]
    LockMismatch {
        env: String,
        expected: String,
        current: Box<LockInfo>,
    },
    /// This run's lock was removed and taken by another run while it worked; the lock is left
    /// to its new holder.
    #[error(
        "the lock of {env} at {location} is no longer this run's (id {own_id}): it was \
         force-unlocked{}; it was left in place",
        match now { Some(l) => format!(" and is now held by {} (lock id {}, {})", l.holder, l.id, l.operation), None => String::new() }
    )]
    LockTakenOver {
        env: String,
        location: String,
        own_id: String,
        now: Option<Box<LockInfo>>,
    },
    /// The lock file exists but cannot be understood (written by hand, or truncated).
    #[error(
        "the lock at {location} exists but cannot be read ({message}); make sure no regionctl \
         run is active for this environment, then delete it"
    )]
    CorruptLock { location: String, message: String },
}

fn locked_message(
    env: &str,
    location: &str,
    lock: &LockInfo,
    holder_dead: bool,
    alive: bool,
) -> String {
    let mut msg = format!(
        "the state of {env} is locked by {} (pid {} on {}, running `{}`) since {}; lock id: {} \
         ({location})",
        lock.holder, lock.pid, lock.host, lock.operation, lock.created, lock.id
    );
    if holder_dead {
        msg.push_str(&format!(
            "\nprocess {} no longer runs on this host: the holder looks dead",
            lock.pid
        ));
    }
    if alive {
        msg.push_str(&format!(
            "\nprocess {} is still running on this host; wait for it to finish",
            lock.pid
        ));
    } else {
        match &lock.expires {
            Some(expires) => msg.push_str(&format!(
                "\nits lease runs until {expires}; if that run is gone, the first run after then \
                 takes the lock over by itself"
            )),
            None => msg.push_str("\nthe lock has no lease (written by an older regionctl)"),
        }
    }
    msg.push_str(&format!(
        "\nonly if you know that run has finished or died, remove the lock now with: regionctl \
         force-unlock {}",
        lock.id
    ));
    msg
}

impl StateError {
    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        StateError::Io {
            action,
            path: path.display().to_string(),
            source,
        }
    }
}

/// What an S3 error answer said: its code (or `HTTP <status>`) and message. `None`
/// when there was no answer.
pub(crate) struct S3Answer {
    pub code: String,
    pub message: String,
}

pub(crate) fn s3_answer<E>(err: &SdkError<E, HttpResponse>) -> Option<S3Answer>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            // A 412 or 404 answer to a HEAD-like request carries no body, so no code.
            let code = match (service.err().code(), status) {
                (Some(code), _) => code.to_owned(),
                (None, 412) => "PreconditionFailed".to_owned(),
                (None, 404) => "NotFound".to_owned(),
                (None, s) => format!("HTTP {s}"),
            };
            let message = service
                .err()
                .message()
                .map(str::to_owned)
                .unwrap_or_else(|| DisplayErrorContext(service.err()).to_string());
            Some(S3Answer { code, message })
        }
        SdkError::ResponseError(response) => {
            let status = response.raw().status().as_u16();
            Some(S3Answer {
                code: format!("HTTP {status}"),
                message: "S3 answered something that is not a valid response".to_owned(),
            })
        }
        _ => None,
    }
}

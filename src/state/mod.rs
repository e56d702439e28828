//! State: what regionctl last applied, one versioned JSON document per environment, behind a
//! backend (local files or S3) with locking.
//!
//! Both backends offer the same small set of primitives (read a document with its version, write
//! it only if the stored version is still the one read, create a lock only if none exists, delete
//! a lock only if it is still the one created); everything above them (validation, the "locked"
//! error, sessions, force-unlock) is written once here, and one conformance suite
//! (`tests/it/state_backends.rs`) runs against both.
//!
//! Two mechanisms protect a state, and neither trusts the other:
//! - the lock keeps two runs from working on one environment at once;
//! - every write is conditional on the version read (S3 `If-Match` of the etag, a re-read and
//!   compare for local files), so a run whose lock was force-removed while it worked cannot
//!   overwrite what the next holder wrote: its save fails with [`StateError::Conflict`].
//!
//! Locks are leased ([`lease`]): a holder renews its lock while it runs and stops writing state
//! the moment it cannot. A lock whose holder is provably gone ([`LockInfo::liveness`]: its
//! process no longer runs on this host, or its lease ran out) is taken over by the next run with
//! one compare-and-swap, so of two runs racing for it exactly one wins; the takeover is logged
//! with who held the lock, since when, and why it was taken. A live holder, or one nothing can
//! prove gone, is never taken over: the error names `regionctl force-unlock`.

pub mod error;
pub mod lease;
pub mod local;
pub mod lock;
pub mod model;
pub mod s3;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use error::StateError;
pub use lease::Takeover;
pub use local::LocalBackend;
pub use lock::{Liveness, LockInfo};
pub use model::{STATE_FORMAT_VERSION, State, StateResource};
pub use s3::S3Backend;

use crate::spec::model::BackendDef;

/// Where states and locks are kept. Cheap to clone; shareable across tasks.
#[derive(Debug, Clone)]
pub enum Backend {
    Local(LocalBackend),
    S3(S3Backend),
}

/// How a conditional lock delete went.
pub(crate) enum Deleted {
    /// It was the expected lock, and it is gone.
    Yes,
    /// There was no lock any more.
    AlreadyGone,
    /// Another lock is in its place now; it was left alone.
    Replaced(Box<LockInfo>),
}

impl Backend {
    /// Local: `<root>/.regionctl/state/<env>.json` (and `<env>.lock`). S3:
    /// `s3://<bucket>/<key_prefix>/<env>.json` (and `.lock`) through `clients.s3(region)`.
    pub fn for_project(
        root: &Path,
        def: &BackendDef,
        clients: &crate::provider::Clients,
    ) -> Backend {
        match def {
            BackendDef::Local => Backend::Local(LocalBackend::new(root)),
            BackendDef::S3 {
                bucket,
                key_prefix,
                region,
            } => Backend::S3(S3Backend::new(
                clients.s3(region),
                bucket,
                key_prefix,
                region,
            )),
        }
    }

    /// Makes [`Backend::read`] refuse a state of another project as well as of another
    /// environment. ([`Backend::lock`] always checks, since it is given the stack.)
    pub fn with_stack(mut self, stack: &str) -> Backend {
        let slot = match &mut self {
            Backend::Local(b) => &mut b.stack,
            Backend::S3(b) => &mut b.stack,
        };
        *slot = Some(stack.to_owned());
        self
    }

    /// Sets the lease of the locks this backend takes (`lock.lease_seconds` in regionctl.yaml;
    /// [`lease::DEFAULT_LEASE`] when `None`).
    pub fn with_lease(mut self, lease: Option<Duration>) -> Backend {
        let slot = match &mut self {
            Backend::Local(b) => &mut b.lease,
            Backend::S3(b) => &mut b.lease,
        };
        *slot = lease;
        self
    }

    /// The lease of the locks this backend takes.
    pub fn lease(&self) -> Duration {
        match self {
            Backend::Local(b) => b.lease,
            Backend::S3(b) => b.lease,
        }
        .unwrap_or(lease::DEFAULT_LEASE)
    }

    fn stack(&self) -> Option<&str> {
        match self {
            Backend::Local(b) => b.stack.as_deref(),
            Backend::S3(b) => b.stack.as_deref(),
        }
    }

    /// Where an environment's state is: `.regionctl/state/eu-west-1.json` (relative to the
    /// project) or `s3://bucket/prefix/eu-west-1.json`.
    pub fn location(&self, env: &str) -> String {
        match self {
            Backend::Local(b) => b.location(env),
            Backend::S3(b) => b.location(env),
        }
    }

    /// Where an environment's lock is.
    pub fn lock_location(&self, env: &str) -> String {
        match self {
            Backend::Local(b) => b.lock_location(env),
            Backend::S3(b) => b.lock_location(env),
        }
    }

    /// Where every state of the project is (for messages): `.regionctl/state/` or
    /// `s3://bucket/prefix/`.
    pub fn describe(&self) -> String {
        match self {
            Backend::Local(b) => b.describe(),
            Backend::S3(b) => b.describe(),
        }
    }

    /// The environment's state as stored, without taking the lock; `None` if it has none yet.
    pub async fn read(&self, env: &str) -> Result<Option<State>, StateError> {
        Ok(self
            .read_versioned(env, self.stack())
            .await?
            .map(|(state, _)| state))
    }

    async fn read_versioned(
        &self,
        env: &str,
        stack: Option<&str>,
    ) -> Result<Option<(State, String)>, StateError> {
        let raw = match self {
            Backend::Local(b) => b.read_raw(env)?,
            Backend::S3(b) => b.read_raw(env).await?,
        };
        match raw {
            None => Ok(None),
            Some((bytes, version)) => {
                let state = decode(&bytes, &self.location(env), stack, env)?;
                Ok(Some((state, version)))
            }
        }
    }

    async fn write_state(
        &self,
        env: &str,
        bytes: Vec<u8>,
        expected: Option<&str>,
    ) -> Result<String, StateError> {
        match self {
            Backend::Local(b) => b.write_state(env, &bytes, expected),
            Backend::S3(b) => b.write_state(env, bytes, expected).await,
        }
    }

    /// Creates the lock, or takes it over from a provably gone holder, and returns its version
    /// (and the takeover); fails with [`StateError::Locked`] naming the holder when the holder
    /// may be alive.
    async fn create_lock(&self, info: &LockInfo) -> Result<(String, Option<Takeover>), StateError> {
        let body = self.lock_body(info)?;
        // A lock released or taken over between our failed create and our look at it is simply
        // tried again; a handful of rounds is plenty for runs racing.
        for _ in 0..5 {
            let created = match self {
                Backend::Local(b) => b.create_lock(&info.env, &body)?.then(|| info.id.clone()),
                Backend::S3(b) => b.create_lock(&info.env, body.clone()).await?,
            };
            if let Some(version) = created {
                return Ok((version, None));
            }
            let Some((holder, version)) = self.read_lock(&info.env).await? else {
                continue;
            };
            if holder.id == info.id {
                // Our own create, whose answer was lost and which a retry then found in place.
                return Ok((version, None));
            }
            match holder.liveness(lock::now_ms()) {
                Liveness::Gone(why) => {
                    // One conditional write: if anyone changed the lock since we read it (another
                    // run took it over first), this fails and the next round looks again.
                    if let Some(version) = self.replace_lock(&info.env, &version, info).await? {
                        let takeover = Takeover {
                            previous: holder,
                            why,
                        };
                        tracing::warn!("{takeover}");
                        return Ok((version, Some(takeover)));
                    }
                }
                liveness => {
                    return Err(StateError::Locked {
                        env: info.env.clone(),
                        location: self.lock_location(&info.env),
                        lock: Box::new(holder),
                        holder_dead: false,
                        alive: liveness == Liveness::Alive,
                    });
                }
            }
        }
        Err(StateError::CorruptLock {
            location: self.lock_location(&info.env),
            message: "the lock kept changing hands while regionctl tried to take it".to_owned(),
        })
    }

    fn lock_body(&self, info: &LockInfo) -> Result<Vec<u8>, StateError> {
        serde_json::to_vec_pretty(info).map_err(|e| StateError::CorruptLock {
            location: self.lock_location(&info.env),
            message: format!("cannot serialise the lock: {e}"),
        })
    }

    /// Overwrites the lock with `info` if its version is still `version`: the new version, or
    /// `None` when another lock (or none) is there now.
    pub(crate) async fn replace_lock(
        &self,
        env: &str,
        version: &str,
        info: &LockInfo,
    ) -> Result<Option<String>, StateError> {
        let body = self.lock_body(info)?;
        match self {
            Backend::Local(b) => Ok(b
                .replace_lock(env, version, &body)?
                .then(|| info.id.clone())),
            Backend::S3(b) => b.replace_lock(env, version, body).await,
        }
    }

    /// The lock and its version (S3 etag; the lock id for local files).
    pub(crate) async fn read_lock(
        &self,
        env: &str,
    ) -> Result<Option<(LockInfo, String)>, StateError> {
        let raw = match self {
            Backend::Local(b) => b.read_lock_raw(env)?,
            Backend::S3(b) => b.read_lock_raw(env).await?,
        };
        let Some((bytes, version)) = raw else {
            return Ok(None);
        };
        let info: LockInfo =
            serde_json::from_slice(&bytes).map_err(|e| StateError::CorruptLock {
                location: self.lock_location(env),
                message: e.to_string(),
            })?;
        let version = match self {
            Backend::Local(_) => info.id.clone(),
            Backend::S3(_) => version,
        };
        Ok(Some((info, version)))
    }

    async fn delete_lock(&self, env: &str, version: &str) -> Result<Deleted, StateError> {
        match self {
            // Local locks are compared by id, under the state directory's flock.
            Backend::Local(b) => b.remove_lock_if(env, version),
            Backend::S3(b) => match b.delete_lock(env, version).await? {
                Some(deleted) => Ok(deleted),
                None => Ok(match self.read_lock(env).await? {
                    Some((info, _)) => Deleted::Replaced(Box::new(info)),
                    None => Deleted::AlreadyGone,
                }),
            },
        }
    }

    /// Takes the environment's lock and reads its state (an empty [`State::new`] when there is
    /// none). Fails at once with [`StateError::Locked`], naming the holder, when another run
    /// holds it. On any error after the lock was taken, the lock is released again.
    pub async fn lock(
        &self,
        stack: &str,
        env: &str,
        operation: &str,
    ) -> Result<Session, StateError> {
        let lease = self.lease();
        let info = LockInfo::new(env, operation).leased(lease);
        let sent = Instant::now();
        let (lock_version, takeover) = self.create_lock(&info).await?;
        tracing::debug!(env, lock_id = %info.id, location = %self.lock_location(env), "state locked");
        let held = Arc::new(std::sync::Mutex::new(lease::Held {
            info: info.clone(),
            version: lock_version.clone(),
            valid_until: sent + lease,
            lease,
            lost: None,
        }));
        match self.read_versioned(env, Some(stack)).await {
            Ok(found) => {
                let (state, version) = match found {
                    Some((state, version)) => (state, Some(version)),
                    None => (State::new(stack, env), None),
                };
                Ok(Session {
                    state,
                    backend: self.clone(),
                    lock: info,
                    heartbeat: Some(lease::Heartbeat::start(self.clone(), held.clone())),
                    held,
                    takeover,
                    version,
                })
            }
            Err(e) => {
                if let Err(release) = self.release(&info, &lock_version).await {
                    tracing::warn!(error = %release, "could not release the state lock");
                }
                Err(e)
            }
        }
    }

    /// Who holds the environment's lock, if anyone.
    pub async fn lock_info(&self, env: &str) -> Result<Option<LockInfo>, StateError> {
        Ok(self.read_lock(env).await?.map(|(info, _)| info))
    }

    /// Removes the environment's lock if its id is `lock_id`, and returns what it recorded.
    pub async fn force_unlock(&self, env: &str, lock_id: &str) -> Result<LockInfo, StateError> {
        let Some((info, version)) = self.read_lock(env).await? else {
            return Err(StateError::LockNotFound {
                lock_id: lock_id.to_owned(),
                searched: self.lock_location(env),
                held: Vec::new(),
            });
        };
        if info.id != lock_id {
            return Err(StateError::LockMismatch {
                env: env.to_owned(),
                expected: lock_id.to_owned(),
                current: Box::new(info),
            });
        }
        match self.delete_lock(env, &version).await? {
            Deleted::Yes | Deleted::AlreadyGone => Ok(info),
            Deleted::Replaced(now) => Err(StateError::LockMismatch {
                env: env.to_owned(),
                expected: lock_id.to_owned(),
                current: now,
            }),
        }
    }

    /// The environment whose lock has this id, and the lock.
    pub async fn find_lock(&self, lock_id: &str) -> Result<(String, LockInfo), StateError> {
        let mut held = Vec::new();
        for env in self.envs().await? {
            if let Some(info) = self.lock_info(&env).await? {
                if info.id == lock_id {
                    return Ok((env, info));
                }
                held.push(format!("{env}: {}", info.id));
            }
        }
        Err(StateError::LockNotFound {
            lock_id: lock_id.to_owned(),
            searched: self.describe(),
            held,
        })
    }

    /// Environments that have a state or a lock, sorted.
    pub async fn envs(&self) -> Result<Vec<String>, StateError> {
        let mut envs = match self {
            Backend::Local(b) => b.envs()?,
            Backend::S3(b) => b.envs().await?,
        };
        envs.sort();
        envs.dedup();
        Ok(envs)
    }

    async fn release(&self, lock: &LockInfo, version: &str) -> Result<(), StateError> {
        match self.delete_lock(&lock.env, version).await? {
            Deleted::Yes => {
                tracing::debug!(env = %lock.env, lock_id = %lock.id, "state unlocked");
                Ok(())
            }
            Deleted::AlreadyGone => {
                // Someone force-unlocked this run; every write was still conditional, so nothing
                // was lost, but it is worth knowing.
                tracing::warn!(env = %lock.env, lock_id = %lock.id, "the state lock was already removed (force-unlocked?)");
                Ok(())
            }
            Deleted::Replaced(now) if now.id == lock.id => {
                // Our own lock under a version we have not seen: a renewal whose answer was lost.
                match self.read_lock(&lock.env).await? {
                    Some((info, version)) if info.id == lock.id => {
                        Box::pin(self.release(lock, &version)).await
                    }
                    _ => Ok(()),
                }
            }
            Deleted::Replaced(now) => Err(StateError::LockTakenOver {
                env: lock.env.clone(),
                location: self.lock_location(&lock.env),
                own_id: lock.id.clone(),
                now: Some(now),
            }),
        }
    }
}

/// Parses a stored state, refusing what this build must not use: a newer format, or the state of
/// another project or environment.
fn decode(
    bytes: &[u8],
    location: &str,
    stack: Option<&str>,
    env: &str,
) -> Result<State, StateError> {
    let corrupt = |message: String| StateError::Corrupt {
        location: location.to_owned(),
        message,
    };
    // The version is looked at before the rest: a newer format may not parse as this one.
    let json: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| corrupt(format!("not JSON: {e}")))?;
    let found = json
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| corrupt("no format_version".to_owned()))?;
    if found > u64::from(STATE_FORMAT_VERSION) {
        return Err(StateError::NewerFormat {
            location: location.to_owned(),
            found: u32::try_from(found).unwrap_or(u32::MAX),
            supported: STATE_FORMAT_VERSION,
        });
    }
    let state: State = serde_json::from_value(json).map_err(|e| corrupt(e.to_string()))?;
    let stack_differs = stack.is_some_and(|s| s != state.stack);
    if state.env != env || stack_differs {
        return Err(StateError::WrongStack {
            location: location.to_owned(),
            expected: format!("{}/{env}", stack.unwrap_or(&state.stack)),
            found: format!("{}/{}", state.stack, state.env),
        });
    }
    Ok(state)
}

/// A locked environment: its state, read after the lock was taken, and what is needed to write it
/// back and release the lock. Owns everything, so it can move between tasks.
///
/// Dropping a session without [`Session::unlock`] leaves the lock in place, as a crash would:
/// every path of a command must unlock.
#[derive(Debug)]
pub struct Session {
    pub state: State,
    backend: Backend,
    /// The lock as taken (its id, holder and first lease).
    lock: LockInfo,
    /// The lock as it is now (renewed leases, its version) and whether it is still held.
    held: lease::Shared,
    heartbeat: Option<lease::Heartbeat>,
    /// The gone holder this session's lock was taken over from, if any.
    takeover: Option<Takeover>,
    /// The stored version the next write is conditional on; `None` when nothing was stored.
    version: Option<String>,
}

impl Session {
    pub fn lock(&self) -> &LockInfo {
        &self.lock
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The gone holder this session's lock was taken over from, if it was.
    pub fn takeover(&self) -> Option<&Takeover> {
        self.takeover.as_ref()
    }

    /// `Ok` while this session still holds its lock (its lease renewed in time, not taken
    /// over); otherwise [`StateError::LockLost`].
    pub fn check_lock(&self) -> Result<(), StateError> {
        lease::lock(&self.held)
            .check()
            .map_err(|why| StateError::LockLost {
                env: self.lock.env.clone(),
                location: self.backend.lock_location(&self.lock.env),
                why,
            })
    }

    /// Where the state is written.
    pub fn location(&self) -> String {
        self.backend.location(&self.lock.env)
    }

    /// Writes the state with `serial` one higher, only if the stored state is still the one read
    /// (or last written) by this session; otherwise [`StateError::Conflict`] and nothing is
    /// written. On any error the in-memory state is as it was before the call.
    pub async fn save(&mut self) -> Result<(), StateError> {
        // A run that may have lost its lock writes nothing: the run that took it over owns the
        // state now (the conditional write below would only catch it once that run has written).
        self.check_lock()?;
        let before = (
            self.state.serial,
            self.state.format_version,
            self.state.regionctl_version.clone(),
        );
        self.state.serial += 1;
        self.state.format_version = STATE_FORMAT_VERSION;
        self.state.regionctl_version = env!("CARGO_PKG_VERSION").to_owned();
        let result = match serde_json::to_vec_pretty(&self.state) {
            Ok(mut bytes) => {
                bytes.push(b'\n');
                self.backend
                    .write_state(&self.lock.env, bytes, self.version.as_deref())
                    .await
            }
            Err(e) => Err(StateError::Corrupt {
                location: self.location(),
                message: format!("cannot serialise the state: {e}"),
            }),
        };
        match result {
            Ok(version) => {
                tracing::debug!(env = %self.lock.env, serial = self.state.serial, "state saved");
                self.version = Some(version);
                Ok(())
            }
            Err(e) => {
                (
                    self.state.serial,
                    self.state.format_version,
                    self.state.regionctl_version,
                ) = before;
                Err(e)
            }
        }
    }

    /// Releases the lock if it is still this session's. If another run has taken it meanwhile
    /// (after a force-unlock), it is left alone and [`StateError::LockTakenOver`] says so.
    pub async fn unlock(mut self) -> Result<(), StateError> {
        if let Some(heartbeat) = self.heartbeat.take() {
            heartbeat.stop().await;
        }
        let version = lease::lock(&self.held).version.clone();
        self.backend.release(&self.lock, &version).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(format_version: u32, stack: &str, env: &str) -> Vec<u8> {
        let mut s = State::new(stack, env);
        s.format_version = format_version;
        serde_json::to_vec(&s).expect("serialises")
    }

    #[test]
    fn decode_refuses_newer_formats_other_stacks_and_garbage() {
        let ok = decode(&doc(1, "p", "eu-west-1"), "x", Some("p"), "eu-west-1");
        assert!(ok.is_ok(), "{ok:?}");
        let newer = decode(&doc(2, "p", "eu-west-1"), "x", Some("p"), "eu-west-1");
        assert!(
            matches!(newer, Err(StateError::NewerFormat { found: 2, .. })),
            "{newer:?}"
        );
        // A newer format that does not even parse as this one is still reported as newer.
        let alien = br#"{"format_version": 7, "resources": 3}"#;
        assert!(matches!(
            decode(alien, "x", None, "eu-west-1"),
            Err(StateError::NewerFormat { found: 7, .. })
        ));
        let other = decode(&doc(1, "q", "eu-west-1"), "x", Some("p"), "eu-west-1");
        let Err(e @ StateError::WrongStack { .. }) = other else {
            panic!("{other:?}")
        };
        assert!(
            e.to_string()
                .contains("belongs to q/eu-west-1, not to p/eu-west-1"),
            "{e}"
        );
        assert!(matches!(
            decode(&doc(1, "p", "us-east-1"), "x", None, "eu-west-1"),
            Err(StateError::WrongStack { .. })
        ));
        assert!(matches!(
            decode(b"{\"format_", "x", None, "eu-west-1"),
            Err(StateError::Corrupt { .. })
        ));
    }

    /// Plan and apply lock and save environments in spawned tasks.
    #[test]
    fn sessions_and_backend_futures_can_move_between_tasks() {
        fn send<T: Send>(_: &T) {}
        fn owned<T: Send + Sync + 'static>() {}
        owned::<Session>();
        owned::<Backend>();
        let backend = Backend::Local(LocalBackend::new(Path::new("/nonexistent")));
        send(&backend.lock("s", "e", "plan"));
        send(&backend.read("e"));
        send(&backend.force_unlock("e", "id"));
        send(&backend.envs());
    }

    #[test]
    fn locked_errors_name_holder_id_and_the_fix() {
        let lock = LockInfo {
            id: "abc".into(),
            env: "eu-west-1".into(),
            operation: "apply".into(),
            holder: "ana@ci-7".into(),
            host: "ci-7".into(),
            pid: 4242,
            created: "2025-01-01T00:00:00Z".into(),
            regionctl_version: "0.1.0".into(),
            ..LockInfo::default()
        };
        let e = StateError::Locked {
            env: "eu-west-1".into(),
            location: ".regionctl/state/eu-west-1.lock".into(),
            lock: Box::new(lock),
            holder_dead: true,
            alive: false,
        };
        let text = e.to_string();
        for part in [
            "locked by ana@ci-7",
            "pid 4242 on ci-7",
            "running `apply`",
            "since 2025-01-01T00:00:00Z",
            "lock id: abc",
            "looks dead",
            "regionctl force-unlock abc",
        ] {
            assert!(text.contains(part), "{part:?} missing from {text}");
        }
    }
}

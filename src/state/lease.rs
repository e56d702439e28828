//! Leases on locks: the heartbeat that keeps a held lock alive, and what a session knows about
//! whether it still holds its lock.
//!
//! A lock names the instant its lease runs out ([`LockInfo::expires_ms`]). While a session is
//! open, a [`Heartbeat`] task renews it every third of the lease with a compare-and-swap on the
//! lock's version (S3 `If-Match` on the etag; the id under a directory `flock` locally), so a
//! run whose lock was taken over can never renew it again. A renewal that finds another lock (or
//! none) ends the heartbeat at once; one that cannot reach the backend is retried until the
//! lease would run out. Either way the session is then *lost*: [`Held::check`] refuses every
//! further state write, so a run that may no longer hold its lock never writes state.
//!
//! Why a third: a holder is then always at least two thirds of a lease ahead of expiry, which
//! covers clock differences between hosts smaller than that (a lease is judged by the holder's
//! clock and read by another's).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::lock::LockInfo;
use super::{Backend, StateError};

/// The lease when `regionctl.yaml` sets none: long enough that a slow or throttled backend can
/// be retried a few times within it, short enough that a run on another host killed without a
/// trace is taken over within half a minute.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// The shortest lease `regionctl.yaml` may set: a renewal needs a round trip or two.
pub const MIN_LEASE: Duration = Duration::from_secs(2);

/// The lock a session holds, as far as this process knows; shared with its heartbeat.
#[derive(Debug)]
pub(crate) struct Held {
    /// The lock as last written (its lease).
    pub info: LockInfo,
    /// What the next compare-and-swap on the lock expects (S3 etag; the lock id locally).
    pub version: String,
    /// The lease, by this process's monotonic clock: counted from the moment the last renewal
    /// was sent, so it never ends later than the lease the lock records.
    pub valid_until: Instant,
    pub lease: Duration,
    /// Why the lock can no longer be counted on, once that happened.
    pub lost: Option<String>,
}

pub(crate) type Shared = Arc<Mutex<Held>>;

pub(crate) fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Held> {
    // A poisoned lock only means a task panicked while holding it; the record is still whole.
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Held {
    /// A margin before the lease runs out, after which this run no longer counts on its lock:
    /// a write sent then could land after another run took the lock over.
    fn margin(&self) -> Duration {
        self.lease / 10
    }

    /// `Ok` while the lock is still this run's; otherwise why not.
    pub fn check(&self) -> Result<(), String> {
        if let Some(why) = &self.lost {
            return Err(why.clone());
        }
        if Instant::now() + self.margin() >= self.valid_until {
            return Err(format!(
                "its lease of {} s ran out before it could be renewed",
                self.lease.as_secs_f64()
            ));
        }
        Ok(())
    }
}

/// The task renewing a session's lease. Stopped by [`Heartbeat::stop`] before the lock is
/// released; dropped (a session that was never unlocked), it is aborted.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Heartbeat {
    pub fn start(backend: Backend, shared: Shared) -> Heartbeat {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(beat(backend, shared, stopped));
        Heartbeat {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Ends the heartbeat, waiting for a renewal in flight so its new version is known.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn beat(backend: Backend, shared: Shared, mut stopped: oneshot::Receiver<()>) {
    loop {
        let every = lock(&shared).lease / 3;
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = &mut stopped => return,
        }
        let (info, version, lease) = {
            let held = lock(&shared);
            if held.lost.is_some() {
                return;
            }
            (held.info.clone(), held.version.clone(), held.lease)
        };
        let renewed = info.leased(lease);
        let sent = Instant::now();
        loop {
            let outcome = renew(&backend, &renewed, &version).await;
            // Decided under the mutex; the pause (an await) comes after the guard is gone.
            let pause = {
                let mut held = lock(&shared);
                match outcome {
                    Ok(Some(version)) => {
                        held.version = version;
                        held.info = renewed.clone();
                        held.valid_until = sent + lease;
                        tracing::debug!(env = %held.info.env, "lock lease renewed");
                        None
                    }
                    Ok(None) => {
                        let why = "another run took the lock over (or it was force-unlocked)";
                        tracing::warn!(env = %held.info.env, lock_id = %held.info.id, "lost the lock: {why}; no more state is written");
                        held.lost = Some(why.to_owned());
                        return;
                    }
                    Err(e) => {
                        let pause = (lease / 10).min(Duration::from_secs(2));
                        if Instant::now() + pause + held.margin() >= held.valid_until {
                            let why = format!("its lease could not be renewed in time: {e}");
                            tracing::warn!(env = %held.info.env, "lost the lock: {why}; no more state is written");
                            held.lost = Some(why);
                            return;
                        }
                        tracing::debug!(env = %held.info.env, error = %e, "renewing the lock lease failed; retrying");
                        Some(pause)
                    }
                }
            };
            let Some(pause) = pause else { break };
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = &mut stopped => return,
            }
        }
    }
}

/// One renewal: the new version, `None` when the lock is no longer this run's.
async fn renew(
    backend: &Backend,
    renewed: &LockInfo,
    version: &str,
) -> Result<Option<String>, StateError> {
    if let Some(version) = backend.replace_lock(&renewed.env, version, renewed).await? {
        return Ok(Some(version));
    }
    // The condition failed. An earlier attempt whose answer was lost may have renewed it
    // already: the lock is then still this run's, under a version this run has not seen.
    Ok(match backend.read_lock(&renewed.env).await? {
        Some((now, version)) if now.id == renewed.id => Some(version),
        _ => None,
    })
}

/// A lock taken over from a provably gone holder: who held it and why it was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Takeover {
    pub previous: LockInfo,
    pub why: String,
}

impl std::fmt::Display for Takeover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = &self.previous;
        write!(
            f,
            "took over the lock of {} from {} (pid {} on {}, running `{}` since {}, lock id {}): \
             {}; carrying on with what that run left",
            p.env, p.holder, p.pid, p.host, p.operation, p.created, p.id, self.why
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(valid_for: Duration) -> Held {
        Held {
            info: LockInfo::new("eu-west-1", "apply"),
            version: "v1".into(),
            valid_until: Instant::now() + valid_for,
            lease: Duration::from_secs(30),
            lost: None,
        }
    }

    #[test]
    fn a_lease_not_renewed_in_time_or_taken_over_stops_every_write() {
        assert_eq!(held(Duration::from_secs(20)).check(), Ok(()));
        // Within the last tenth of the lease a write could land after a takeover.
        let why = held(Duration::from_secs(2)).check().expect_err("too close");
        assert!(why.contains("ran out before it could be renewed"), "{why}");
        let mut lost = held(Duration::from_secs(20));
        lost.lost = Some("another run took the lock over".into());
        assert_eq!(
            lost.check(),
            Err("another run took the lock over".to_owned())
        );
    }
}

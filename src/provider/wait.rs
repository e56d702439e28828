//! Waiting for resources to become ready or gone: a bounded poll over the kind's own `read`.
//!
//! The SDK's generated waiters fix their delays in the service model (EKS waits at least 30 s
//! between polls) and cannot report progress between polls. Polling through the provider's own
//! `read` instead means one function per kind decides what "ready" and "failed" are (the same one
//! the plan's refresh uses), each poll can report the AWS status to the progress view, and the
//! delays can be shortened for an emulator. The delays default to the SDK waiters' and every wait
//! is bounded by the kind's limit.
//!
//! A wait can also be *abandoned*: when a run is cancelled (the first SIGINT or SIGTERM) it must
//! save its state and release its locks within seconds, even while waits of many minutes are in
//! flight. The executor runs each change inside [`abandoning`]; once its signal turns true,
//! every wait and every pause between retries in that change ends at once with
//! [`ProviderError::Abandoned`]. Calls already sent to AWS are never cut short by it: their
//! answer (the id of a resource just created) is what lets the state keep track.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{Ctx, Observed, Provider, ProviderError, Status, kind_timing};
use crate::addr::InstanceAddr;
use crate::kind::Kind;

/// Told the address, the AWS status word and the time waited so far.
type Report = dyn Fn(&InstanceAddr, &str, Duration) + Send + Sync;

/// A callback told the AWS status of a resource at each poll of a wait, with the time waited.
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<Report>>);

impl Progress {
    pub fn new(f: impl Fn(&InstanceAddr, &str, Duration) + Send + Sync + 'static) -> Progress {
        Progress(Some(Arc::new(f)))
    }

    fn report(&self, addr: &InstanceAddr, status: &str, waited: Duration) {
        if let Some(f) = &self.0 {
            f(addr, status, waited);
        }
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(on)"
        } else {
            "Progress(off)"
        })
    }
}

/// How often to poll and how long to wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitPolicy {
    /// When set, every poll waits exactly this long (emulators, tests); otherwise each kind's
    /// delays from [`kind_timing`] apply, growing from the first to the longest.
    pub fixed_delay: Option<Duration>,
    /// Multiplies every kind's time limit (1.0 = the defaults).
    pub limit_factor: f64,
}

impl Default for WaitPolicy {
    fn default() -> Self {
        WaitPolicy {
            fixed_delay: None,
            limit_factor: 1.0,
        }
    }
}

impl WaitPolicy {
    /// Reads `REGIONCTL_POLL_INTERVAL_MS` so demos and tests against an emulator need not wait
    /// the real services' delays.
    pub fn from_env() -> WaitPolicy {
        let fixed_delay = std::env::var("REGIONCTL_POLL_INTERVAL_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis);
        WaitPolicy {
            fixed_delay,
            ..WaitPolicy::default()
        }
    }

    fn delays(&self, kind: Kind) -> (Duration, Duration, Duration) {
        let (first, longest, limit) = kind_timing(kind);
        let limit = limit.mul_f64(self.limit_factor.max(0.0));
        match self.fixed_delay {
            Some(d) => (d, d, limit),
            None => (first, longest, limit),
        }
    }
}

tokio::task_local! {
    /// Turns true when the waits of the current change are to be abandoned.
    static ABANDON: watch::Receiver<bool>;
}

/// Runs `work` so that its waits and retry pauses end with [`ProviderError::Abandoned`] once
/// `signal` turns true.
pub async fn abandoning<F: std::future::Future>(
    signal: watch::Receiver<bool>,
    work: F,
) -> F::Output {
    ABANDON.scope(signal, work).await
}

/// Whether the current change's waits are being abandoned.
pub fn abandoned() -> bool {
    ABANDON.try_with(|s| *s.borrow()).unwrap_or(false)
}

/// Sleeps for `delay`; `Err(())` at once (or as soon as it happens) when waits are abandoned.
pub async fn pause(delay: Duration) -> Result<(), ()> {
    let Ok(mut signal) = ABANDON.try_with(Clone::clone) else {
        tokio::time::sleep(delay).await;
        return Ok(());
    };
    if *signal.borrow_and_update() {
        return Err(());
    }
    // `wait_for` fails when the signal's sender is gone: nothing can abandon this wait then,
    // and the branch is disabled (the pattern does not match) while the sleep runs on.
    let turned = async { signal.wait_for(|abandon| *abandon).await.is_ok() };
    tokio::select! {
        () = tokio::time::sleep(delay) => Ok(()),
        true = turned => Err(()),
    }
}

/// What a wait is for.
enum Goal {
    Ready,
    Gone,
}

fn abandoned_error(ctx: &Ctx<'_>) -> ProviderError {
    ProviderError::Abandoned {
        subject: ctx.subject(),
        region: ctx.region.to_owned(),
    }
}

pub(super) async fn until_ready(
    provider: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Observed, ProviderError> {
    match poll(provider, ctx, id, Goal::Ready).await? {
        Some(observed) => Ok(observed),
        None => Err(ProviderError::vanished(ctx, id)),
    }
}

pub(super) async fn until_gone(
    provider: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<(), ProviderError> {
    poll(provider, ctx, id, Goal::Gone).await.map(|_| ())
}

async fn poll(
    provider: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
    goal: Goal,
) -> Result<Option<Observed>, ProviderError> {
    let (first, longest, limit) = provider.wait.delays(ctx.kind);
    let started = Instant::now();
    let mut delay = first;
    let mut polls = 0u32;
    loop {
        if abandoned() {
            return Err(abandoned_error(ctx));
        }
        let current = provider.read(ctx, id).await?;
        polls += 1;
        let status = match (&goal, current) {
            (Goal::Ready, None) => return Ok(None),
            (Goal::Gone, None) => return Ok(None),
            (Goal::Ready, Some(o)) if o.status == Status::Ready => return Ok(Some(o)),
            (_, Some(o)) => match o.status {
                Status::Failed(status) => {
                    return Err(ProviderError::Failed {
                        subject: ctx.subject(),
                        region: ctx.region.to_owned(),
                        status,
                    });
                }
                Status::Ready => "available".to_owned(),
                Status::Pending(s) | Status::Deleting(s) => s,
            },
        };
        let waited = started.elapsed();
        if waited + delay > limit {
            return Err(ProviderError::Timeout {
                subject: ctx.subject(),
                region: ctx.region.to_owned(),
                kind: ctx.kind,
                status,
                waited,
            });
        }
        tracing::info!(address = %ctx.addr, region = ctx.region, %status, polls, "waiting");
        provider.progress.report(ctx.addr, &status, waited);
        pause(delay).await.map_err(|()| abandoned_error(ctx))?;
        delay = (delay * 2).min(longest);
    }
}

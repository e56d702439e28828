//! The executor: runs a plan's changes through the provider, as many at once as the schedule
//! and `parallelism` allow, writing the state after every completed change.
//!
//! Everything it does is announced as an [`Event`] on a channel; it prints nothing. Values are
//! never taken from the plan: each resource's desired attributes are re-evaluated from the spec
//! (whose hash the plan pins) with references resolved from what the apply has made so far and
//! what state records.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, mpsc, watch};

use super::schedule::Schedule;
use crate::addr::InstanceAddr;
use crate::plan::{Action, Plan, ReplaceOrder, ResourceChange};
use crate::provider::retry::{Backoff, RetryClass, classify};
use crate::provider::wait::{self, Progress};
use crate::provider::{Attrs, Ctx, Observed, Provider, ProviderError, idempotency_token};
use crate::spec::Spec;
use crate::spec::expr::resolve;
use crate::spec::value::{RefTarget, Reference, Value};
use crate::state::{Session, StateError, StateResource};

/// What happened, for the progress view, the JSON event stream and the summary.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Started {
        addr: InstanceAddr,
        action: Action,
        region: String,
    },
    /// A step inside a change (e.g. "creating the replacement", "deleting the old one"), or a
    /// retry and why.
    Step {
        addr: InstanceAddr,
        step: String,
    },
    /// AWS is still working on the resource: its status at the latest poll.
    Waiting {
        addr: InstanceAddr,
        status: String,
        #[serde(serialize_with = "secs")]
        waited: Duration,
    },
    Finished {
        addr: InstanceAddr,
        action: Action,
        region: String,
        #[serde(serialize_with = "secs")]
        elapsed: Duration,
        id: Option<String>,
    },
    Failed {
        addr: InstanceAddr,
        action: Action,
        region: String,
        #[serde(serialize_with = "secs")]
        elapsed: Duration,
        error: String,
    },
    Skipped {
        addr: InstanceAddr,
        action: Action,
        region: String,
        because: String,
    },
    StateSaved {
        env: String,
        serial: u64,
    },
    /// The first interrupt: nothing new starts.
    Stopping,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 10.0).round() / 10.0)
}

/// How an apply ended.
#[derive(Debug, Default)]
pub struct Outcome {
    pub applied: Vec<(InstanceAddr, Action, Duration)>,
    pub failed: Vec<(InstanceAddr, Action, String)>,
    pub skipped: Vec<(InstanceAddr, Action)>,
    /// State writes that failed: the apply stopped, since it could no longer keep track.
    pub state_errors: Vec<String>,
    pub interrupted: bool,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.failed.is_empty()
            && self.skipped.is_empty()
            && self.state_errors.is_empty()
            && !self.interrupted
    }
}

/// How an interrupt reaches the executor: 0 = run; 1 (the first SIGINT or SIGTERM) = start
/// nothing new and abandon every wait, so the state is saved and the locks released within
/// seconds, while calls already sent to AWS get their answer; 2 = abandon everything in flight.
/// What was abandoned is found and adopted by the next run.
pub type Interrupt = watch::Receiver<u8>;

/// Resolves once an interrupt has come (at once if one came already); never if none can come.
pub async fn interrupted(mut interrupt: Interrupt) {
    if interrupt.wait_for(|level| *level >= 1).await.is_err() {
        std::future::pending::<()>().await;
    }
}

pub struct Executor {
    pub provider: Provider,
    pub spec: Arc<Spec>,
    /// At most this many changes in flight at once.
    pub parallelism: usize,
    /// Part of every idempotency token: unique per run, the same for every retry within it.
    pub generation: String,
}

/// What a resource is after the apply, as references read it.
#[derive(Debug, Clone, Default)]
struct Known {
    computed: Attrs,
    attrs: Attrs,
}

type Sessions = BTreeMap<String, Arc<Mutex<Session>>>;

impl Executor {
    /// Runs every change of `plan` that needs work. `sessions` hold the locked state of every
    /// environment the plan changes; states of other environments (`read_only`) only supply
    /// values for references.
    pub async fn run(
        &self,
        plan: &Plan,
        sessions: &Sessions,
        read_only: &BTreeMap<String, crate::state::State>,
        events: mpsc::UnboundedSender<Event>,
        mut interrupt: Interrupt,
    ) -> Outcome {
        let (changes, mut schedule) = Schedule::of(plan);
        let mut known: BTreeMap<InstanceAddr, Known> = BTreeMap::new();
        for state in read_only.values() {
            seed(&mut known, state);
        }
        for s in sessions.values() {
            seed(&mut known, &s.lock().await.state);
        }
        let known = Arc::new(std::sync::Mutex::new(known));
        let mut outcome = Outcome::default();
        let mut running = tokio::task::JoinSet::new();
        let mut started_at: BTreeMap<usize, Instant> = BTreeMap::new();
        let mut stopping = false;
        let mut listening = true;
        // Turned true by the first interrupt: every wait of every change in flight ends.
        let (abandon, abandon_signal) = watch::channel(false);
        let mut provider = self.provider.clone();
        let waiting = events.clone();
        provider.progress = Progress::new(move |addr, status, waited| {
            let _ = waiting.send(Event::Waiting {
                addr: addr.clone(),
                status: status.to_owned(),
                waited,
            });
        });
        loop {
            if !stopping {
                for i in schedule.ready() {
                    if schedule.running() >= self.parallelism.max(1) {
                        break;
                    }
                    schedule.start(i);
                    let change = changes[i].clone();
                    let _ = events.send(Event::Started {
                        addr: change.addr.clone(),
                        action: change.action,
                        region: change.region.clone(),
                    });
                    started_at.insert(i, Instant::now());
                    let work = Work {
                        provider: provider.clone(),
                        spec: self.spec.clone(),
                        generation: self.generation.clone(),
                        known: known.clone(),
                        session: sessions.get(&change.addr.env).cloned(),
                        events: events.clone(),
                    };
                    let signal = abandon_signal.clone();
                    running.spawn(async move {
                        (i, wait::abandoning(signal, work.apply(&change)).await)
                    });
                }
            }
            if schedule.finished() || (stopping && schedule.running() == 0) {
                break;
            }
            tokio::select! {
                joined = running.join_next() => {
                    let Some(joined) = joined else { break };
                    let (i, result) = match joined {
                        Ok(r) => r,
                        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                        Err(_) => continue, // aborted after a second interrupt
                    };
                    let c = changes[i];
                    let elapsed = started_at.get(&i).map(Instant::elapsed).unwrap_or_default();
                    match result {
                        Ok(id) => {
                            schedule.succeed(i);
                            outcome.applied.push((c.addr.clone(), c.action, elapsed));
                            let _ = events.send(Event::Finished {
                                addr: c.addr.clone(),
                                action: c.action,
                                region: c.region.clone(),
                                elapsed,
                                id,
                            });
                        }
                        Err(Failure::Provider(ProviderError::Abandoned { .. })) => {
                            // Not a failure: AWS has what was asked, the next run adopts it.
                            if let Err(e) =
                                mark_pending(sessions, c, "interrupted while waiting for AWS").await
                            {
                                outcome.state_errors.push(e.to_string());
                            }
                            for j in std::iter::once(i).chain(schedule.fail(i)) {
                                outcome.skipped.push((changes[j].addr.clone(), changes[j].action));
                                let _ = events.send(Event::Skipped {
                                    addr: changes[j].addr.clone(),
                                    action: changes[j].action,
                                    region: changes[j].region.clone(),
                                    because: if j == i {
                                        "interrupted while waiting for AWS; the next run carries \
                                         on with it"
                                            .to_owned()
                                    } else {
                                        "interrupted".to_owned()
                                    },
                                });
                            }
                        }
                        Err(failure) => {
                            let message = failure.to_string();
                            if let Failure::State(e) = &failure {
                                outcome.state_errors.push(e.to_string());
                                // Without a working state nothing more may start.
                                stopping = true;
                            } else if let Err(e) =
                                mark_pending(sessions, c, failed_step(c.action)).await
                            {
                                outcome.state_errors.push(e.to_string());
                            }
                            for j in schedule.fail(i) {
                                outcome.skipped.push((changes[j].addr.clone(), changes[j].action));
                                let _ = events.send(Event::Skipped {
                                    addr: changes[j].addr.clone(),
                                    action: changes[j].action,
                                    region: changes[j].region.clone(),
                                    because: format!("{} failed", c.addr),
                                });
                            }
                            outcome.failed.push((c.addr.clone(), c.action, message.clone()));
                            let _ = events.send(Event::Failed {
                                addr: c.addr.clone(),
                                action: c.action,
                                region: c.region.clone(),
                                elapsed,
                                error: message,
                            });
                        }
                    }
                }
                changed = interrupt.changed(), if listening => {
                    if changed.is_err() {
                        listening = false; // no one can interrupt any more
                        continue;
                    }
                    let level = *interrupt.borrow();
                    if level >= 1 && !*abandon.borrow() {
                        if !stopping {
                            let _ = events.send(Event::Stopping);
                        }
                        stopping = true;
                        outcome.interrupted = true;
                        let _ = abandon.send(true);
                    }
                    if level >= 2 {
                        // Abandon what is in flight; what it made is found again by its tags.
                        // The aborted tasks are reaped before returning: each holds a handle on
                        // its environment's state, which must be free to be unlocked.
                        running.abort_all();
                        while running.join_next().await.is_some() {}
                        outcome.interrupted = true;
                        break;
                    }
                }
            }
        }
        // Every environment's outputs as they stand now, so `regionctl output` reads them from
        // the state. Saved only when they changed, so a no-op apply writes nothing.
        record_outputs(&self.spec, sessions, &known, &mut outcome).await;
        for j in schedule.skip_waiting() {
            outcome
                .skipped
                .push((changes[j].addr.clone(), changes[j].action));
            let _ = events.send(Event::Skipped {
                addr: changes[j].addr.clone(),
                action: changes[j].action,
                region: changes[j].region.clone(),
                because: if outcome.interrupted {
                    "interrupted".to_owned()
                } else {
                    "the apply stopped".to_owned()
                },
            });
        }
        outcome
    }
}

/// Marks the recorded resource of a change that failed or was abandoned before AWS was done as
/// pending (`StateResource::pending`) and saves its state, so a changed-only plan reads it from
/// AWS instead of trusting the record. Nothing to do when the state does not record it (a
/// create that never finished: the next plan creates or adopts it anyway).
async fn mark_pending(
    sessions: &Sessions,
    c: &ResourceChange,
    why: &str,
) -> Result<(), StateError> {
    let Some(session) = sessions.get(&c.addr.env) else {
        return Ok(());
    };
    let mut s = session.lock().await;
    let Some(r) = s.state.resources.get_mut(&c.addr) else {
        return Ok(());
    };
    if r.pending.as_deref() == Some(why) {
        return Ok(());
    }
    r.pending = Some(why.to_owned());
    s.save().await
}

/// What [`mark_pending`] records of a failed change.
fn failed_step(action: Action) -> &'static str {
    match action {
        Action::NoOp => "its adoption failed",
        Action::Create => "its create failed",
        Action::Update => "its update failed",
        Action::Replace => "its replacement failed",
        Action::Delete => "its delete failed",
    }
}

async fn record_outputs(
    spec: &crate::spec::Spec,
    sessions: &Sessions,
    known: &std::sync::Mutex<BTreeMap<InstanceAddr, Known>>,
    outcome: &mut Outcome,
) {
    for (env, session) in sessions {
        let Some(declared) = spec.envs.get(env).map(|e| &e.outputs) else {
            continue;
        };
        let outputs = {
            let Ok(known) = known.lock() else { return };
            let lookup = |r: &Reference| -> Option<Value> {
                let RefTarget::Resolved { addr } = &r.target else {
                    return None;
                };
                let k = known.get(addr)?;
                k.computed
                    .get(&r.attr)
                    .or_else(|| k.attrs.get(&r.attr))
                    .cloned()
            };
            super::outputs::evaluate(declared, &lookup)
        };
        let mut s = session.lock().await;
        if s.state.outputs != outputs {
            s.state.outputs = outputs;
            if let Err(e) = s.save().await {
                outcome.state_errors.push(e.to_string());
            }
        }
    }
}

fn seed(known: &mut BTreeMap<InstanceAddr, Known>, state: &crate::state::State) {
    for (addr, r) in &state.resources {
        known.insert(
            addr.clone(),
            Known {
                computed: r.computed.clone(),
                attrs: r.attrs.clone(),
            },
        );
    }
}

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Provider(#[from] ProviderError),
    #[error("{0}")]
    State(#[from] StateError),
    #[error("{addr}: {message}")]
    Unresolved { addr: InstanceAddr, message: String },
}

/// One change's worth of context, owned so it can run as a task.
struct Work {
    provider: Provider,
    spec: Arc<Spec>,
    generation: String,
    known: Arc<std::sync::Mutex<BTreeMap<InstanceAddr, Known>>>,
    session: Option<Arc<Mutex<Session>>>,
    events: mpsc::UnboundedSender<Event>,
}

impl Work {
    async fn apply(&self, c: &ResourceChange) -> Result<Option<String>, Failure> {
        let token = idempotency_token(&self.provider.stack, &c.addr, &self.generation);
        let ctx = Ctx {
            addr: &c.addr,
            kind: c.kind,
            region: &c.region,
            token: &token,
        };
        match c.action {
            Action::NoOp => {
                // Adopt: record what exists (waiting for it if an interrupted run left it
                // still being created).
                let id = c.id.clone().unwrap_or_default();
                let mut observed = self.provider.wait_ready(&ctx, &id).await?;
                let desired = self.desired(c).unwrap_or_else(|_| observed.attrs.clone());
                if crate::spec::schema::schema(c.kind).taggable
                    && observed.address_tag() != Some(c.addr.to_string().as_str())
                {
                    // Made by a run that stopped before tagging it: the update adds the tags.
                    self.step(c, "adding the regionctl tags");
                    observed = self.update(&ctx, c, &id, &desired).await?;
                }
                self.record(c, &observed, desired).await?;
                Ok(Some(observed.id))
            }
            Action::Create => {
                let desired = self.desired(c)?;
                let observed = self.create(&ctx, c, &desired).await?;
                self.record(c, &observed, desired).await?;
                Ok(Some(observed.id))
            }
            Action::Update => {
                let desired = self.desired(c)?;
                let id = c.id.clone().unwrap_or_default();
                let observed = self.update(&ctx, c, &id, &desired).await?;
                self.record(c, &observed, desired).await?;
                Ok(Some(observed.id))
            }
            Action::Replace => {
                let desired = self.desired(c)?;
                let old = c.id.clone().unwrap_or_default();
                // A new token: the replacement is a new resource, not a retry of the old create.
                let new_token = idempotency_token(
                    &self.provider.stack,
                    &c.addr,
                    &format!("{}/replace/{old}", self.generation),
                );
                let new_ctx = Ctx {
                    token: &new_token,
                    ..ctx.clone()
                };
                let order = c.replace_order.unwrap_or(ReplaceOrder::DestroyBeforeCreate);
                if order == ReplaceOrder::DestroyBeforeCreate {
                    self.step(c, "deleting the old resource first");
                    self.delete(&ctx, c, &old).await?;
                    self.forget(c).await?;
                }
                self.step(c, "creating the replacement");
                let observed = self.create(&new_ctx, c, &desired).await?;
                self.record(c, &observed, desired).await?;
                if order == ReplaceOrder::CreateBeforeDestroy {
                    self.step(c, "deleting the old resource");
                    self.delete(&ctx, c, &old).await?;
                }
                Ok(Some(observed.id))
            }
            Action::Delete => {
                let id = c.id.clone().unwrap_or_default();
                self.delete(&ctx, c, &id).await?;
                self.forget(c).await?;
                Ok(None)
            }
        }
    }

    fn step(&self, c: &ResourceChange, step: &str) {
        let _ = self.events.send(Event::Step {
            addr: c.addr.clone(),
            step: step.to_owned(),
        });
    }

    /// Deletes `id` if it still exists, with the configuration last applied (for what AWS does
    /// not report, such as `skip_final_snapshot`).
    async fn delete(&self, ctx: &Ctx<'_>, c: &ResourceChange, id: &str) -> Result<(), Failure> {
        let Some(prior) = self.provider.read(ctx, id).await? else {
            // Gone already, maybe deleted by a run killed before it finished: what that run
            // would have cleaned up after the deletion is cleaned up now.
            let recorded = match &self.session {
                Some(s) => s
                    .lock()
                    .await
                    .state
                    .resources
                    .get(&c.addr)
                    .filter(|r| r.id == id)
                    .map(|r| r.computed.clone()),
                None => None,
            };
            if let Some(computed) = recorded {
                self.provider.delete_leftovers(ctx, &computed).await?;
            }
            return Ok(());
        };
        let config = match &self.session {
            Some(s) => s
                .lock()
                .await
                .state
                .resources
                .get(&c.addr)
                .filter(|r| r.id == id)
                .map(|r| r.attrs.clone()),
            None => None,
        }
        .or_else(|| self.desired(c).ok())
        .unwrap_or_else(|| prior.attrs.clone());
        let mut prior = prior;
        if prior.attrs.get("deletion_protection") == Some(&Value::Bool(true)) {
            // The plan only gets here for a database the user allowed to go (`--allow-destroy`
            // or `--allow-replace`), so lifting AWS's own guard is what they asked for.
            self.step(c, "turning deletion protection off (allowed explicitly)");
            let mut unprotect = prior.attrs.clone();
            unprotect.insert("deletion_protection".into(), Value::Bool(false));
            prior = self.update(ctx, c, id, &unprotect).await?;
        }
        // What the deletion cleans up after the resource is gone (a NAT gateway's Elastic IP)
        // comes from this first read: a retry may find the resource gone already.
        let computed = prior.computed.clone();
        let mut first = Some(prior);
        let (config, computed) = (&config, &computed);
        self.retrying(c, || {
            let known = first.take();
            async move {
                let prior = match known {
                    Some(prior) => prior,
                    // A retry: what the failed attempt left, if anything. Gone means the attempt
                    // failed after the resource went (releasing a NAT gateway's address, say),
                    // so what it had left to do is done now.
                    None => match self.provider.read(ctx, id).await? {
                        Some(prior) => prior,
                        None => return self.provider.delete_leftovers(ctx, computed).await,
                    },
                };
                self.provider.delete_and_wait(ctx, &prior, config).await
            }
        })
        .await?;
        Ok(())
    }

    /// Creates the resource and waits until it is ready. After a failure another attempt may
    /// cure ([`classify`]), it first looks for what the failed attempt made (by its token or
    /// tags, see [`Provider::find`]) and carries on with that: waits for it and brings it to
    /// the desired attributes, so a lost answer never makes a second resource.
    async fn create(
        &self,
        ctx: &Ctx<'_>,
        c: &ResourceChange,
        desired: &Attrs,
    ) -> Result<Observed, ProviderError> {
        let mut first = true;
        self.retrying(c, || {
            let retry = !std::mem::replace(&mut first, false);
            async move {
                if retry && let Some(found) = self.provider.find(ctx, desired).await? {
                    self.step(
                        c,
                        &format!("carrying on with {}, made by the failed attempt", found.id),
                    );
                    let ready = self.provider.wait_ready(ctx, &found.id).await?;
                    return self.provider.update_and_wait(ctx, &ready, desired).await;
                }
                self.provider.create_and_wait(ctx, desired).await
            }
        })
        .await
    }

    /// Brings resource `id` to `desired` and waits until AWS is done; every attempt starts from
    /// a fresh read, so a retried update sends only what is still missing.
    async fn update(
        &self,
        ctx: &Ctx<'_>,
        c: &ResourceChange,
        id: &str,
        desired: &Attrs,
    ) -> Result<Observed, ProviderError> {
        self.retrying(c, || async move {
            let prior = self.provider.wait_ready(ctx, id).await?;
            self.provider.update_and_wait(ctx, &prior, desired).await
        })
        .await
    }

    /// Runs `attempt` until it succeeds, fails in a way another attempt cannot cure, or the
    /// backoff for its kind of failure runs out; each retry is announced with its reason.
    async fn retrying<T, F, Fut>(
        &self,
        c: &ResourceChange,
        mut attempt: F,
    ) -> Result<T, ProviderError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        // One budget per kind of failure: a retry that first met "already done" (a lost answer
        // whose request had taken effect) and is then throttled gets the throttling's patience,
        // not what was left of the other's (which is one attempt).
        let mut backoffs: Vec<(RetryClass, Backoff)> = Vec::new();
        let mut attempts = 1;
        loop {
            let err = match attempt().await {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            let Some(class) = classify(&err) else {
                return Err(err);
            };
            if !backoffs.iter().any(|(c, _)| *c == class) {
                backoffs.push((class, Backoff::for_class(class, &self.provider.wait)));
            }
            let Some(delay) = backoffs
                .iter_mut()
                .find(|(c, _)| *c == class)
                .and_then(|(_, b)| b.next_delay())
            else {
                return Err(err);
            };
            attempts += 1;
            let why = match class {
                RetryClass::Throttled => "throttled",
                RetryClass::Ambiguous => "no answer",
                RetryClass::NotYetVisible => "not visible yet",
                RetryClass::AlreadyDone => "already done",
                RetryClass::InUse => "still in use",
            };
            self.step(c, &format!("retrying ({why}, attempt {attempts}): {err}"));
            if wait::pause(delay).await.is_err() {
                return Err(ProviderError::Abandoned {
                    subject: err.subject().clone(),
                    region: err.region().to_owned(),
                });
            }
        }
    }

    /// The spec's attributes of `c`, every reference resolved from what exists now.
    fn desired(&self, c: &ResourceChange) -> Result<Attrs, Failure> {
        let Some(resource) = self.spec.resources.get(&c.addr) else {
            return Err(Failure::Unresolved {
                addr: c.addr.clone(),
                message: "not in the spec any more".to_owned(),
            });
        };
        // Resolving is synchronous: hold the lock for it instead of copying every value.
        let known = self.known.lock().map_err(|_| Failure::Unresolved {
            addr: c.addr.clone(),
            message: "internal error: a task panicked while holding the values".to_owned(),
        })?;
        let lookup = |r: &Reference| -> Option<Value> {
            let RefTarget::Resolved { addr } = &r.target else {
                return None;
            };
            let k = known.get(addr)?;
            k.computed
                .get(&r.attr)
                .or_else(|| k.attrs.get(&r.attr))
                .cloned()
        };
        let mut out = Attrs::new();
        for (name, value) in &resource.attrs {
            let v = resolve(value, &lookup).map_err(|message| Failure::Unresolved {
                addr: c.addr.clone(),
                message: format!("{name}: {message}"),
            })?;
            if v.has_unknown() {
                return Err(Failure::Unresolved {
                    addr: c.addr.clone(),
                    message: format!(
                        "{name} depends on a value that is still unknown (a dependency failed or \
                         is outside the selection)"
                    ),
                });
            }
            out.insert(name.clone(), v);
        }
        Ok(out)
    }

    /// Writes the resource into its environment's state and saves it.
    async fn record(
        &self,
        c: &ResourceChange,
        observed: &Observed,
        applied: Attrs,
    ) -> Result<(), Failure> {
        if let Ok(mut known) = self.known.lock() {
            known.insert(
                c.addr.clone(),
                Known {
                    computed: observed.computed.clone(),
                    attrs: applied.clone(),
                },
            );
        }
        let Some(session) = &self.session else {
            return Ok(());
        };
        let (deps, protect) = match self.spec.resources.get(&c.addr) {
            Some(r) => (r.deps.clone(), r.protect),
            None => (c.deps.iter().cloned().collect(), c.protect),
        };
        let mut s = session.lock().await;
        s.state.resources.insert(
            c.addr.clone(),
            StateResource::applied(observed, applied, deps, protect),
        );
        s.save().await?;
        let _ = self.events.send(Event::StateSaved {
            env: c.addr.env.clone(),
            serial: s.state.serial,
        });
        Ok(())
    }

    /// Removes a deleted resource from its state and saves it.
    async fn forget(&self, c: &ResourceChange) -> Result<(), Failure> {
        // Gone, so nothing (the recorded outputs among it) may read its values any more.
        if let Ok(mut known) = self.known.lock() {
            known.remove(&c.addr);
        }
        let Some(session) = &self.session else {
            return Ok(());
        };
        let mut s = session.lock().await;
        let recorded = s
            .state
            .resources
            .get(&c.addr)
            .is_some_and(|r| Some(&r.id) == c.id.as_ref());
        if recorded {
            s.state.resources.remove(&c.addr);
            s.save().await?;
            let _ = self.events.send(Event::StateSaved {
                env: c.addr.env.clone(),
                serial: s.state.serial,
            });
        }
        Ok(())
    }
}

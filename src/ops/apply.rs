//! Applying (or destroying): lock every selected environment, make the plan under the locks (or
//! check that a saved plan still holds), ask, execute, hand the states back, release the locks.
//!
//! A saved plan is applied only if nothing it was made from moved: the spec's fingerprint (see
//! [`super::saved_plan::pin`]), each state's lineage and serial, and a fresh refresh that still
//! plans the same changes (so a resource made by an interrupted run after the plan was saved is
//! adopted by a new plan, never created twice by an old one).
//!
//! Nothing here prints or asks: the caller shows the plan, asks for consent and draws the events
//! through [`Ui`], and renders how the run [`Ended`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, mpsc, watch};

use super::{Consent, Prepared};
use crate::apply::exec::{Event, Executor, Outcome};
use crate::plan::{Action, Plan, ResourceChange};
use crate::provider::{Clients, Provider};
use crate::state::{Backend, Session, State, StateError};

/// How an apply shows itself and asks; implemented by the CLI.
pub trait Ui {
    /// The plan about to be carried out (a saved plan once it was checked).
    fn plan(&mut self, plan: &Plan) -> std::io::Result<()>;
    /// Whether to go ahead; asked only when there is work and no prior approval.
    fn confirm(&mut self) -> std::io::Result<bool>;
    /// The changes about to start, before the first event.
    fn starting(&mut self, work: &[&ResourceChange]) -> std::io::Result<()>;
    fn event(&mut self, event: &Event) -> std::io::Result<()>;
    /// Every event was shown.
    fn finished(&mut self) -> std::io::Result<()>;
}

/// What the caller asks for besides the plan.
pub struct Request<'a> {
    pub saved: Option<&'a Plan>,
    pub consent: &'a Consent,
    pub parallelism: usize,
    pub auto_approve: bool,
}

/// Why nothing was changed.
#[derive(Debug)]
pub enum Stopped {
    /// An environment's lock could not be taken.
    Locked(StateError),
    /// Interrupted before the plan was made.
    Interrupted,
    /// No plan could be made (state or AWS errors, each a whole message).
    NoPlan(Vec<String>),
    /// The saved plan no longer holds: why.
    Stale(String),
    /// Changes the plan refuses without consent.
    Refused(Vec<String>),
    /// The user did not confirm.
    Cancelled,
}

/// How a run ended.
#[derive(Debug)]
pub enum Ended {
    Stopped(Stopped),
    NothingToDo,
    Applied {
        outcome: Outcome,
        elapsed: Duration,
        /// Environments whose state was still held by a task at the end (their locks stay).
        still_in_use: Vec<String>,
    },
}

/// The run, and the environments whose lock could not be released (with why).
#[derive(Debug)]
pub struct Report {
    pub ended: Ended,
    pub unlock_failures: Vec<(String, StateError)>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.unlock_failures.is_empty()
            && match &self.ended {
                Ended::NothingToDo => true,
                // A state still in use keeps its lock (reported), the outcome decides.
                Ended::Applied { outcome, .. } => outcome.ok(),
                Ended::Stopped(_) => false,
            }
    }
}

/// Locks, plans, asks, executes and releases. The locks are released whatever happens,
/// including an error of the [`Ui`] (which is returned after the release).
pub async fn run(
    prepared: &Prepared,
    request: &Request<'_>,
    clients: &Clients,
    provider: Provider,
    backend: &Backend,
    interrupt: watch::Receiver<u8>,
    ui: &mut dyn Ui,
) -> std::io::Result<Report> {
    // Lock every selected environment, in name order so two applies never wait on each other
    // in a cycle; the first lock held by someone else stops everything.
    let operation = if request.consent.destroy {
        "destroy"
    } else {
        "apply"
    };
    let mut sessions: BTreeMap<String, Session> = BTreeMap::new();
    let mut ended = None;
    for env in prepared.spec.envs.values().filter(|e| e.selected) {
        match backend
            .lock(&prepared.spec.project.name, &env.name, operation)
            .await
        {
            Ok(s) => {
                sessions.insert(env.name.clone(), s);
            }
            Err(e) => {
                ended = Some(Ok(Ended::Stopped(Stopped::Locked(e))));
                break;
            }
        }
    }
    let ended = match ended {
        Some(stopped) => stopped,
        None => {
            locked(
                prepared,
                request,
                clients,
                backend,
                provider,
                &mut sessions,
                interrupt,
                ui,
            )
            .await
        }
    };
    let mut unlock_failures = Vec::new();
    for (env, s) in sessions {
        if let Err(e) = s.unlock().await {
            unlock_failures.push((env, e));
        }
    }
    Ok(Report {
        ended: ended?,
        unlock_failures,
    })
}

#[allow(clippy::too_many_arguments)]
async fn locked(
    prepared: &Prepared,
    request: &Request<'_>,
    clients: &Clients,
    backend: &Backend,
    provider: Provider,
    sessions: &mut BTreeMap<String, Session>,
    interrupt: watch::Receiver<u8>,
    ui: &mut dyn Ui,
) -> std::io::Result<Ended> {
    // The locked states were read just now; only those of other environments (references
    // across regions) are read again. A state that does not exist yet (serial 0) stays absent,
    // as a plan made without the lock sees it.
    let held = sessions
        .iter()
        .filter(|(_, s)| s.state.serial > 0)
        .map(|(env, s)| (env.clone(), s.state.clone()))
        .collect();
    // A saved changed-only plan is checked the way it was made: what it changes (with what that
    // depends on and feeds) is read again from AWS before anything is changed, the rest trusted
    // as when it was planned. Any other apply reads everything.
    let mode = match request.saved {
        Some(p) if !p.not_refreshed.is_empty() => super::refresh::Mode::Changed,
        _ => super::refresh::Mode::Full,
    };
    let made = tokio::select! {
        made = super::plan::make_with(prepared, clients, backend, request.consent, held, mode) => made,
        () = crate::apply::exec::interrupted(interrupt.clone()) => {
            return Ok(Ended::Stopped(Stopped::Interrupted));
        }
    };
    let made = match made {
        Ok(m) => m,
        Err(errors) => return Ok(Ended::Stopped(Stopped::NoPlan(errors))),
    };
    let plan = match request.saved {
        Some(saved) => {
            if let Err(why) = same_plan(saved, &made.plan, sessions) {
                return Ok(Ended::Stopped(Stopped::Stale(why)));
            }
            saved.clone()
        }
        None => made.plan,
    };
    ui.plan(&plan)?;
    let refused: Vec<String> = plan.refusals().filter_map(|c| c.refusal.clone()).collect();
    if !refused.is_empty() {
        return Ok(Ended::Stopped(Stopped::Refused(refused)));
    }
    let (work, _) = crate::apply::schedule::Schedule::of(&plan);
    // With nothing to change the executor still runs (at once, asking nothing and showing
    // nothing): it records the environments' outputs, so an output added to the spec, or a
    // state from before outputs were recorded, gets them without a resource changing.
    let nothing = work.is_empty();
    if !nothing && !request.auto_approve && !ui.confirm()? {
        return Ok(Ended::Stopped(Stopped::Cancelled));
    }

    let shared: BTreeMap<String, Arc<Mutex<Session>>> = std::mem::take(sessions)
        .into_iter()
        .map(|(env, s)| (env, Arc::new(Mutex::new(s))))
        .collect();
    let read_only: BTreeMap<String, State> = made
        .states
        .into_iter()
        .filter(|(env, _)| !shared.contains_key(env))
        .collect();
    let executor = Executor {
        provider,
        spec: Arc::new(prepared.spec.clone()),
        parallelism: request.parallelism,
        generation: generation(&plan),
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let started = Instant::now();
    // A failing display never stops the work in flight: the states must still be saved and
    // the locks released. Its first error is returned once that is done.
    let mut shown: std::io::Result<()> = if nothing { Ok(()) } else { ui.starting(&work) };
    let mut show = |ui: &mut dyn Ui, event: &Event| {
        if shown.is_ok() {
            shown = ui.event(event);
        }
    };
    let outcome = {
        let exec = executor.run(&plan, &shared, &read_only, tx, interrupt);
        tokio::pin!(exec);
        loop {
            tokio::select! {
                outcome = &mut exec => break outcome,
                Some(event) = rx.recv() => show(ui, &event),
            }
        }
    };
    while let Ok(event) = rx.try_recv() {
        show(ui, &event);
    }
    if shown.is_ok() && !nothing {
        shown = ui.finished();
    }
    // Hand the sessions back for unlocking. Every task holding one has ended.
    let mut still_in_use = Vec::new();
    for (env, s) in shared {
        match Arc::try_unwrap(s) {
            Ok(m) => {
                sessions.insert(env, m.into_inner());
            }
            Err(_) => still_in_use.push(env),
        }
    }
    shown?;
    if nothing && outcome.ok() && still_in_use.is_empty() {
        return Ok(Ended::NothingToDo);
    }
    Ok(Ended::Applied {
        outcome,
        elapsed: started.elapsed(),
        still_in_use,
    })
}

/// A saved plan still holds if the states are the ones it was made from and a fresh plan
/// proposes the same changes.
fn same_plan(
    saved: &Plan,
    fresh: &Plan,
    sessions: &BTreeMap<String, Session>,
) -> Result<(), String> {
    for env in &saved.envs {
        let now = sessions.get(&env.env).map(|s| &s.state);
        let matches = match (&env.prior_state, now) {
            (None, None) => true,
            (None, Some(s)) => s.serial == 0,
            (Some(p), Some(s)) => p.lineage == s.lineage && p.serial == s.serial,
            (Some(_), None) => false,
        };
        if !matches {
            return Err(format!(
                "the state of {} changed since the plan was made (serial {} then, {} now)",
                env.env,
                env.prior_state.as_ref().map_or(0, |p| p.serial),
                now.map_or(0, |s| s.serial)
            ));
        }
    }
    let key = |p: &Plan| -> Vec<(String, Action, Option<String>, bool)> {
        p.changes()
            .filter(|c| crate::apply::schedule::needs_work(c))
            .map(|c| (c.addr.to_string(), c.action, c.id.clone(), c.adopt))
            .collect()
    };
    if key(saved) != key(fresh) {
        return Err("AWS changed since the plan was made (a fresh plan differs)".to_owned());
    }
    Ok(())
}

/// The idempotency generation of this run: every retry within the run sends the same token, so
/// AWS (or `Provider::find`) recognises a create it already did. It is unique per run, because
/// AWS never forgets a token: Route 53 refuses a `CallerReference` used before, even by a zone
/// deleted since, so the same spec applied again after a destroy (or with a deleted state) needs
/// new ones. What a crashed run made is found again by its tags, not by its token.
fn generation(plan: &Plan) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut parts = vec![
        plan.spec_hash.clone(),
        format!("{now}:{}", std::process::id()),
    ];
    for e in &plan.envs {
        if let Some(p) = &e.prior_state {
            parts.push(format!("{}:{}:{}", e.env, p.lineage, p.serial));
        }
    }
    crate::hash::stable_hash128(&parts)[..16].to_owned()
}

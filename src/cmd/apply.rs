//! `regionctl apply [PATHS | PLANFILE]` and `regionctl destroy`: lock the states, make (or check)
//! the plan, confirm, execute, release.
//!
//! A saved plan is applied only if nothing it was made from moved: the spec's fingerprint, each
//! state's lineage and serial, and a fresh refresh that still plans the same changes (so a
//! resource made by an interrupted run after the plan was saved is adopted by a new plan, never
//! created twice by an old one).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, watch};

use super::Output;
use crate::apply::exec::{Event, Executor, Outcome};
use crate::cli::{RunArgs, Selection};
use crate::exit::ExitStatus;
use crate::ops::{self, Consent, Prepared, saved_plan};
use crate::plan::{Action, Plan};
use crate::provider::{ClientOptions, Clients, Provider, WaitPolicy};
use crate::source::SourceMap;
use crate::state::{Backend, Session};

pub fn run(
    start: &Path,
    selection: &Selection,
    args: &RunArgs,
    destroy: bool,
    aws: &ClientOptions,
    io: &mut Output,
) -> std::io::Result<ExitStatus> {
    let mut selection = selection.clone();
    let saved = match saved_plan_path(start, &selection, destroy) {
        Some(path) => {
            selection.envs.paths.clear();
            match saved_plan::read(&path) {
                Ok(plan) => Some(plan),
                Err(e) => {
                    writeln!(
                        io.err,
                        "error: cannot read the plan {}: {e}",
                        path.display()
                    )?;
                    return Ok(ExitStatus::Failure);
                }
            }
        }
        None => None,
    };
    if let Some(plan) = &saved {
        selection.targets = plan.targets.iter().map(ToString::to_string).collect();
    }
    let mut sources = SourceMap::new();
    let Some(mut prepared) = super::prepare(start, &selection, &mut sources, io)? else {
        return Ok(ExitStatus::Failure);
    };
    if let Some(plan) = &saved
        && saved_plan::pin(plan, &mut prepared).is_err()
    {
        writeln!(
            io.err,
            "error: stale plan: the spec changed since the plan was made (its files or \
                 variables differ). Nothing was changed. Run `regionctl plan --out FILE` again."
        )?;
        return Ok(ExitStatus::Failure);
    }
    let consent = Consent {
        allow_replace: args.allow_replace.clone(),
        allow_destroy: args.allow_destroy.clone(),
        destroy,
    };
    let runtime = crate::ops::runtime()?;
    let (interrupt_tx, interrupt_rx) = watch::channel(0u8);
    let result = runtime.block_on(async {
        let clients = Clients::load(aws).await;
        let mut provider = Provider::new(clients.clone(), prepared.spec.project.name.clone());
        provider.wait = WaitPolicy::from_env();
        tokio::spawn(watch_signals(interrupt_tx));
        let backend = ops::plan::backend(&prepared, &clients);
        run_locked(
            &mut prepared,
            saved.as_ref(),
            &consent,
            args,
            &clients,
            provider,
            backend,
            interrupt_rx,
            io,
        )
        .await
    });
    // Calls abandoned by a second interrupt must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    result
}

/// A positional argument that is a file (not an environment directory) is a saved plan.
fn saved_plan_path(start: &Path, selection: &Selection, destroy: bool) -> Option<PathBuf> {
    if destroy {
        return None;
    }
    match selection.envs.paths.as_slice() {
        [one] => {
            let path = super::resolve_path(start, one);
            path.is_file().then_some(path)
        }
        _ => None,
    }
}

/// First Ctrl-C (or SIGTERM): stop starting changes. Second: abandon those in flight.
async fn watch_signals(tx: watch::Sender<u8>) {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    for level in 1..=2u8 {
        #[cfg(unix)]
        {
            let term_recv = async {
                match term.as_mut() {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                () = term_recv => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        if tx.send(level).is_err() {
            return;
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_locked(
    prepared: &mut Prepared,
    saved: Option<&Plan>,
    consent: &Consent,
    args: &RunArgs,
    clients: &Clients,
    provider: Provider,
    backend: Backend,
    interrupt: watch::Receiver<u8>,
    io: &mut Output<'_>,
) -> std::io::Result<ExitStatus> {
    // Lock every selected environment, in name order so two applies never wait on each other
    // in a cycle; the first lock held by someone else stops everything.
    let envs: Vec<String> = prepared
        .spec
        .envs
        .values()
        .filter(|e| e.selected)
        .map(|e| e.name.clone())
        .collect();
    let operation = if consent.destroy { "destroy" } else { "apply" };
    let mut sessions: BTreeMap<String, Session> = BTreeMap::new();
    for env in &envs {
        match backend
            .lock(&prepared.spec.project.name, env, operation)
            .await
        {
            Ok(s) => {
                sessions.insert(env.clone(), s);
            }
            Err(e) => {
                writeln!(io.err, "error: {e}")?;
                unlock_all(sessions, io).await?;
                return Ok(ExitStatus::Failure);
            }
        }
    }
    let status = locked(
        prepared,
        saved,
        consent,
        args,
        clients,
        &backend,
        provider,
        &mut sessions,
        interrupt,
        io,
    )
    .await;
    let unlocked = unlock_all(sessions, io).await?;
    let status = status?;
    Ok(if unlocked {
        status
    } else {
        ExitStatus::Failure
    })
}

async fn unlock_all(
    sessions: BTreeMap<String, Session>,
    io: &mut Output<'_>,
) -> std::io::Result<bool> {
    let mut ok = true;
    for (env, s) in sessions {
        if let Err(e) = s.unlock().await {
            writeln!(io.err, "error: releasing the lock of {env}: {e}")?;
            ok = false;
        }
    }
    Ok(ok)
}

#[allow(clippy::too_many_arguments)]
async fn locked(
    prepared: &Prepared,
    saved: Option<&Plan>,
    consent: &Consent,
    args: &RunArgs,
    clients: &Clients,
    backend: &Backend,
    provider: Provider,
    sessions: &mut BTreeMap<String, Session>,
    interrupt: watch::Receiver<u8>,
    io: &mut Output<'_>,
) -> std::io::Result<ExitStatus> {
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
    let mode = match saved {
        Some(p) if !p.not_refreshed.is_empty() => ops::refresh::Mode::Changed,
        _ => ops::refresh::Mode::Full,
    };
    let made = match ops::plan::make_with(prepared, clients, backend, consent, held, mode).await {
        Ok(m) => m,
        Err(errors) => {
            super::print_errors(io, &errors)?;
            return Ok(ExitStatus::Failure);
        }
    };
    let plan = match saved {
        Some(saved) => {
            if let Err(why) = same_plan(saved, &made.plan, sessions) {
                writeln!(
                    io.err,
                    "error: stale plan: {why}. Nothing was changed. Run `regionctl plan --out \
                     FILE` again and apply the new plan."
                )?;
                return Ok(ExitStatus::Failure);
            }
            saved.clone()
        }
        None => made.plan,
    };
    if !args.json {
        io.out
            .write_all(crate::render::plan::human(&plan, io.style).as_bytes())?;
    }
    let refused: Vec<&str> = plan
        .refusals()
        .filter_map(|c| c.refusal.as_deref())
        .collect();
    if !refused.is_empty() {
        for r in &refused {
            writeln!(io.err, "error: {r}")?;
        }
        return Ok(ExitStatus::Failure);
    }
    let (work, _) = crate::apply::schedule::Schedule::of(&plan);
    if work.is_empty() {
        if !args.json {
            writeln!(io.out, "Nothing to do.")?;
        }
        return Ok(ExitStatus::Success);
    }
    if !args.auto_approve && !confirm(io, consent.destroy)? {
        writeln!(io.err, "Cancelled; nothing was changed.")?;
        return Ok(ExitStatus::Failure);
    }

    let shared: BTreeMap<String, Arc<Mutex<Session>>> = std::mem::take(sessions)
        .into_iter()
        .map(|(env, s)| (env, Arc::new(Mutex::new(s))))
        .collect();
    let read_only: BTreeMap<String, crate::state::State> = made
        .states
        .into_iter()
        .filter(|(env, _)| !shared.contains_key(env))
        .collect();
    let executor = Executor {
        provider,
        spec: Arc::new(prepared.spec.clone()),
        parallelism: args.parallelism,
        generation: generation(&plan),
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let started = std::time::Instant::now();
    let mut live = (io.terminal && !args.json).then(|| {
        let mut totals = BTreeMap::new();
        for c in &work {
            *totals.entry(c.addr.env.clone()).or_insert(0usize) += 1;
        }
        let _ = io.out.flush();
        crate::term::LiveView::new(&totals, io.style.color)
    });
    let mut show = |io: &mut Output, event: &Event| match &mut live {
        Some(view) => {
            view.event(event);
            Ok(())
        }
        None => print_event(io, event, args.json),
    };
    let outcome = {
        let exec = executor.run(&plan, &shared, &read_only, tx, interrupt);
        tokio::pin!(exec);
        loop {
            tokio::select! {
                outcome = &mut exec => break outcome,
                Some(event) = rx.recv() => show(io, &event)?,
            }
        }
    };
    while let Ok(event) = rx.try_recv() {
        show(io, &event)?;
    }
    if let Some(view) = live {
        view.finish();
    }
    // Hand the sessions back for unlocking. Every task holding one has ended.
    for (env, s) in shared {
        match Arc::try_unwrap(s) {
            Ok(m) => {
                sessions.insert(env, m.into_inner());
            }
            Err(_) => writeln!(
                io.err,
                "error: the state of {env} is still in use; its lock stays (see force-unlock)"
            )?,
        }
    }
    print_summary(io, &outcome, started.elapsed(), args.json, consent.destroy)?;
    Ok(if outcome.ok() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
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

fn confirm(io: &mut Output, destroy: bool) -> std::io::Result<bool> {
    if !std::io::stdin().is_terminal() {
        writeln!(
            io.err,
            "error: no terminal to confirm on; pass --auto-approve to {} without asking",
            if destroy { "destroy" } else { "apply" }
        )?;
        return Ok(false);
    }
    write!(
        io.out,
        "\nDo you want to {}? Only 'yes' will be accepted: ",
        if destroy {
            "destroy these resources"
        } else {
            "apply these changes"
        }
    )?;
    io.out.flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

fn print_event(io: &mut Output, event: &Event, json: bool) -> std::io::Result<()> {
    if json {
        return writeln!(
            io.out,
            "{}",
            serde_json::to_string(event).unwrap_or_default()
        );
    }
    if let Some(line) = crate::render::apply::event_line(event) {
        writeln!(io.out, "{line}")?;
    }
    Ok(())
}

fn print_summary(
    io: &mut Output,
    outcome: &Outcome,
    elapsed: std::time::Duration,
    json: bool,
    destroy: bool,
) -> std::io::Result<()> {
    if json {
        return writeln!(
            io.out,
            "{}",
            serde_json::to_string(&crate::render::apply::summary_json(outcome, elapsed))
                .unwrap_or_default()
        );
    }
    io.out
        .write_all(crate::render::apply::summary(outcome, elapsed, destroy).as_bytes())
}

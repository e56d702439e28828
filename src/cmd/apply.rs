//! `regionctl apply [PATHS | PLANFILE]` and `regionctl destroy`: arguments, signals, the question
//! and the output around the use case [`ops::apply`] (lock, plan or check a saved plan, execute,
//! release).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use tokio::sync::watch;

use super::Output;
use crate::apply::exec::{Event, Outcome};
use crate::cli::{RunArgs, Selection};
use crate::exit::ExitStatus;
use crate::ops::apply::{Ended, Report, Stopped};
use crate::ops::{self, Consent, saved_plan};
use crate::plan::{Plan, ResourceChange};
use crate::provider::{ClientOptions, Clients, Provider, WaitPolicy};
use crate::source::SourceMap;

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
    let request = ops::apply::Request {
        saved: saved.as_ref(),
        consent: &consent,
        parallelism: args.parallelism,
        auto_approve: args.auto_approve,
    };
    let result = runtime.block_on(async {
        let clients = Clients::load(aws).await;
        let mut provider = Provider::new(clients.clone(), prepared.spec.project.name.clone());
        provider.wait = WaitPolicy::from_env();
        tokio::spawn(watch_signals(interrupt_tx));
        let backend = ops::plan::backend(&prepared, &clients);
        let mut ui = Cli {
            io: &mut *io,
            json: args.json,
            destroy,
            live: None,
        };
        ops::apply::run(
            &prepared,
            &request,
            &clients,
            provider,
            &backend,
            interrupt_rx,
            &mut ui,
        )
        .await
    });
    // Calls abandoned by a second interrupt must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    let result = result?;
    report(io, &result, args.json, destroy)?;
    Ok(if result.ok() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
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

/// The CLI face of an apply: the plan as text (not with `--json`), the question on the
/// terminal, and the events as lines, JSON or a live view.
struct Cli<'a, 'b> {
    io: &'a mut Output<'b>,
    json: bool,
    destroy: bool,
    live: Option<crate::term::LiveView>,
}

impl ops::apply::Ui for Cli<'_, '_> {
    fn plan(&mut self, plan: &Plan) -> std::io::Result<()> {
        if self.json {
            return Ok(());
        }
        self.io
            .out
            .write_all(crate::render::plan::human(plan, self.io.style).as_bytes())
    }

    fn confirm(&mut self) -> std::io::Result<bool> {
        confirm(self.io, self.destroy)
    }

    fn starting(&mut self, work: &[&ResourceChange]) -> std::io::Result<()> {
        if self.io.terminal && !self.json {
            let mut totals = BTreeMap::new();
            for c in work {
                *totals.entry(c.addr.env.clone()).or_insert(0usize) += 1;
            }
            self.io.out.flush()?;
            self.live = Some(crate::term::LiveView::new(&totals, self.io.style.color));
        }
        Ok(())
    }

    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        match &mut self.live {
            Some(view) => {
                view.event(event);
                Ok(())
            }
            None => print_event(self.io, event, self.json),
        }
    }

    fn finished(&mut self) -> std::io::Result<()> {
        if let Some(view) = self.live.take() {
            view.finish();
        }
        Ok(())
    }
}

/// Prints how the run ended; the exit status follows from it.
fn report(io: &mut Output, report: &Report, json: bool, destroy: bool) -> std::io::Result<()> {
    match &report.ended {
        Ended::Stopped(Stopped::Locked(e)) => writeln!(io.err, "error: {e}")?,
        Ended::Stopped(Stopped::Interrupted) => {
            writeln!(io.err, "Interrupted while refreshing; nothing was changed.")?
        }
        Ended::Stopped(Stopped::NoPlan(errors)) => super::print_errors(io, errors)?,
        Ended::Stopped(Stopped::Stale(why)) => writeln!(
            io.err,
            "error: stale plan: {why}. Nothing was changed. Run `regionctl plan --out \
             FILE` again and apply the new plan."
        )?,
        Ended::Stopped(Stopped::Refused(refused)) => {
            for r in refused {
                writeln!(io.err, "error: {r}")?;
            }
        }
        Ended::Stopped(Stopped::Cancelled) => {
            writeln!(io.err, "Cancelled; nothing was changed.")?;
        }
        Ended::NothingToDo => {
            if !json {
                writeln!(io.out, "Nothing to do.")?;
            }
        }
        Ended::Applied {
            outcome,
            elapsed,
            still_in_use,
        } => {
            for env in still_in_use {
                writeln!(
                    io.err,
                    "error: the state of {env} is still in use; its lock stays (see force-unlock)"
                )?;
            }
            print_summary(io, outcome, *elapsed, json, destroy)?;
        }
    }
    for (env, e) in &report.unlock_failures {
        writeln!(io.err, "error: releasing the lock of {env}: {e}")?;
    }
    Ok(())
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

//! Apply and destroy progress without a terminal: one plain line per event, and the summary.

use std::fmt::Write;
use std::time::Duration;

use crate::apply::exec::{Event, Outcome};
use crate::plan::Action;

fn verb(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Create => ("creating", "created"),
        Action::Update => ("updating", "updated"),
        Action::Replace => ("replacing", "replaced"),
        Action::Delete => ("destroying", "destroyed"),
        Action::NoOp => ("adopting", "adopted"),
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// The line for one event, or `None` for events only machines want.
pub fn event_line(event: &Event) -> Option<String> {
    Some(match event {
        Event::Started { addr, action, .. } => format!("{addr}: {}...", verb(*action).0),
        Event::Step { addr, step } => format!("{addr}: {step}"),
        // Like Terraform's "Still creating...": one line per poll, with the AWS status word.
        Event::Waiting {
            addr,
            status,
            waited,
        } => format!("{addr}: still {status} [{} elapsed]", secs(*waited)),
        Event::Finished {
            addr,
            action,
            elapsed,
            id,
            ..
        } => match id {
            Some(id) => format!("{addr}: {} ({id}) in {}", verb(*action).1, secs(*elapsed)),
            None => format!("{addr}: {} in {}", verb(*action).1, secs(*elapsed)),
        },
        Event::Failed {
            addr,
            action,
            elapsed,
            error,
            ..
        } => format!(
            "{addr}: {} FAILED after {}: {error}",
            verb(*action).0,
            secs(*elapsed)
        ),
        Event::Skipped { addr, because, .. } => format!("{addr}: skipped ({because})"),
        Event::StateSaved { .. } => return None,
        Event::Stopping => "Interrupted: no new changes start; waiting for those in flight \
                            (interrupt again to abandon them; the state is saved either way)"
            .to_owned(),
    })
}

pub fn summary(outcome: &Outcome, elapsed: Duration, destroy: bool) -> String {
    let mut out = String::new();
    let word = if destroy { "Destroy" } else { "Apply" };
    let _ = writeln!(out);
    if outcome.ok() {
        let n = outcome.applied.len();
        let _ = writeln!(
            out,
            "{word} complete: {n} change{} in {}.",
            if n == 1 { "" } else { "s" },
            secs(elapsed)
        );
        out.push_str(&per_region(outcome));
        return out;
    }
    let _ = writeln!(
        out,
        "{word} {}: {} applied, {} failed, {} skipped in {}.",
        if outcome.interrupted {
            "interrupted"
        } else {
            "incomplete"
        },
        outcome.applied.len(),
        outcome.failed.len(),
        outcome.skipped.len(),
        secs(elapsed)
    );
    out.push_str(&per_region(outcome));
    for (addr, action, error) in &outcome.failed {
        let _ = writeln!(out, "  failed   {addr} ({}): {error}", verb(*action).0);
    }
    for (addr, action) in &outcome.skipped {
        let _ = writeln!(out, "  skipped  {addr} ({})", verb(*action).0);
    }
    for e in &outcome.state_errors {
        let _ = writeln!(out, "  state    {e}");
    }
    let _ = writeln!(
        out,
        "The state records everything that completed; run `regionctl plan` to see what is left."
    );
    out
}

/// One line per environment: changes applied and the slowest of them, which is what bounds the
/// environment's time (changes run concurrently).
fn per_region(outcome: &Outcome) -> String {
    let mut by_env: std::collections::BTreeMap<&str, Vec<(&crate::addr::InstanceAddr, Duration)>> =
        Default::default();
    for (addr, _, d) in &outcome.applied {
        by_env
            .entry(addr.env.as_str())
            .or_default()
            .push((addr, *d));
    }
    let mut out = String::new();
    for (env, changes) in by_env {
        let n = changes.len();
        if let Some((slowest, d)) = changes.iter().max_by_key(|(_, d)| *d) {
            let _ = writeln!(
                out,
                "  {env:<16} {n:>3} change{}  slowest: {} {}",
                if n == 1 { " " } else { "s" },
                slowest.block,
                secs(*d)
            );
        }
    }
    out
}

pub fn summary_json(outcome: &Outcome, elapsed: Duration) -> serde_json::Value {
    serde_json::json!({
        "event": "summary",
        "ok": outcome.ok(),
        "interrupted": outcome.interrupted,
        "elapsed": (elapsed.as_secs_f64() * 10.0).round() / 10.0,
        "applied": outcome.applied.iter().map(|(a, act, d)| serde_json::json!({
            "address": a.to_string(), "action": act, "elapsed": (d.as_secs_f64() * 10.0).round() / 10.0
        })).collect::<Vec<_>>(),
        "failed": outcome.failed.iter().map(|(a, act, e)| serde_json::json!({
            "address": a.to_string(), "action": act, "error": e
        })).collect::<Vec<_>>(),
        "skipped": outcome.skipped.iter().map(|(a, act)| serde_json::json!({
            "address": a.to_string(), "action": act
        })).collect::<Vec<_>>(),
        "state_errors": outcome.state_errors,
    })
}

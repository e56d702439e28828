//! `regionctl plan`: arguments → `ops::make` (read the states and refresh AWS concurrently,
//! diff) → the plan rendered, and saved with `--out`. Read-only: it takes no lock; the state
//! serials it read go into the saved plan, so an apply of a plan that went stale is refused.

use std::collections::BTreeMap;
use std::path::Path;

use crate::cli::{PlanArgs, PlanFormat, RefreshMode};
use crate::exit::ExitStatus;
use crate::ops::{self, Consent, saved_plan};
use crate::provider::{ClientOptions, Clients};
use crate::source::SourceMap;

use super::Output;

pub fn run(
    start: &Path,
    args: &PlanArgs,
    aws: &ClientOptions,
    io: &mut Output,
) -> std::io::Result<ExitStatus> {
    let mut sources = SourceMap::new();
    let Some(prepared) = super::prepare(start, &args.selection, &mut sources, io)? else {
        return Ok(ExitStatus::Failure);
    };
    let consent = Consent {
        allow_replace: args.allow_replace.clone(),
        allow_destroy: args.allow_destroy.clone(),
        destroy: false,
    };
    let runtime = crate::ops::runtime()?;
    let made = runtime.block_on(async {
        let clients = Clients::load(aws).await;
        let backend = ops::plan::backend(&prepared, &clients);
        let mode = match args.refresh {
            RefreshMode::Full => ops::refresh::Mode::Full,
            RefreshMode::Changed => ops::refresh::Mode::Changed,
        };
        ops::plan::make_with(
            &prepared,
            &clients,
            &backend,
            &consent,
            BTreeMap::new(),
            mode,
        )
        .await
        .map(|made| made.plan)
    });
    let plan = match made {
        Ok(plan) => plan,
        Err(errors) => {
            super::print_errors(io, &errors)?;
            return Ok(ExitStatus::Failure);
        }
    };

    let text = match args.format() {
        PlanFormat::Human => crate::render::plan::human(&plan, io.style),
        PlanFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&crate::render::plan::json(&plan)).unwrap_or_default()
        ),
        PlanFormat::Markdown => {
            crate::render::plan::markdown(&plan, crate::render::plan::MARKDOWN_LIMIT)
        }
    };
    io.out.write_all(text.as_bytes())?;
    if let Some(out) = &args.out {
        let out = super::resolve_path(start, out);
        if let Err(e) = saved_plan::save(&out, &plan) {
            writeln!(
                io.err,
                "error: cannot save the plan to {}: {e}",
                out.display()
            )?;
            return Ok(ExitStatus::Failure);
        }
        if args.format() == PlanFormat::Human {
            writeln!(
                io.out,
                "\nSaved the plan to {}. Apply exactly this plan with `regionctl apply {}`.",
                out.display(),
                out.display()
            )?;
        }
    }
    let refused = plan.refusals().count();
    if refused > 0 {
        for c in plan.refusals() {
            if let Some(r) = &c.refusal {
                writeln!(io.err, "error: {r}")?;
            }
        }
        writeln!(
            io.err,
            "error: the plan has {refused} refused change{}; apply would stop before making it",
            if refused == 1 { "" } else { "s" }
        )?;
        return Ok(ExitStatus::Failure);
    }
    Ok(if args.detailed_exitcode && plan.summary().has_changes() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}

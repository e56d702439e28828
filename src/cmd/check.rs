//! `regionctl check [PATH ... | PLANFILE] [--plan]`: load the spec (and a saved or fresh plan),
//! read the `checks:` settings, run the rules, print the findings.
//!
//! A saved plan is checked against the spec it was made from: if the spec's fingerprint moved,
//! the findings would point at lines that no longer say what the plan was made from, so that
//! is an error, as it is for apply.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Output;
use crate::check::{self, Level};
use crate::cli::{CheckArgs, FailOn, Selection};
use crate::diag::Diagnostics;
use crate::exit::ExitStatus;
use crate::ops::{self, Consent, Prepared, saved_plan};
use crate::plan::Plan;
use crate::provider::{ClientOptions, Clients};
use crate::render;
use crate::source::SourceMap;

pub fn run(
    start: &Path,
    args: &CheckArgs,
    aws: &ClientOptions,
    io: &mut Output,
) -> std::io::Result<ExitStatus> {
    let mut envs = args.envs.clone();
    let plan_file = match envs.paths.as_slice() {
        [one] => Some(super::resolve_path(start, one)).filter(|p| p.is_file()),
        _ => None,
    };
    let saved = match &plan_file {
        Some(_) if args.plan => {
            writeln!(
                io.err,
                "error: --plan makes a fresh plan; it cannot be combined with a saved plan file"
            )?;
            return Ok(ExitStatus::Failure);
        }
        Some(path) => {
            envs.paths.clear();
            match saved_plan::read(path) {
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
    let selection = Selection {
        envs,
        regions: Vec::new(),
        targets: Vec::new(),
    };
    let mut sources = SourceMap::new();
    let Some(mut prepared) = super::prepare(start, &selection, &mut sources, io)? else {
        return Ok(ExitStatus::Failure);
    };

    let mut diags = Diagnostics::new();
    let config = check::config::parse(prepared.spec.project.checks.as_ref(), &mut diags);
    let failed = diags.has_errors();
    super::print_diagnostics(io, &diags.into_sorted(), &sources);
    if failed {
        return Ok(ExitStatus::Failure);
    }

    let plan = match saved {
        Some(plan) => {
            if saved_plan::pin(&plan, &mut prepared).is_err() {
                writeln!(
                    io.err,
                    "error: the spec changed since the plan {} was made (its files or variables \
                     differ), so findings would point at the wrong lines. Check the plan with the \
                     same files and --var/--var-file it was made with, or make it again.",
                    plan_file.as_deref().unwrap_or(Path::new("")).display()
                )?;
                return Ok(ExitStatus::Failure);
            }
            Some(plan)
        }
        None if args.plan => match fresh_plan(&prepared, aws, io)? {
            Some(plan) => Some(plan),
            None => return Ok(ExitStatus::Failure),
        },
        None => None,
    };

    let report = check::run(&prepared.spec, plan.as_ref(), &config, &sources);
    let threshold = match args.fail_on {
        FailOn::Error => Some(Level::Error),
        FailOn::Warning => Some(Level::Warning),
        FailOn::Note => Some(Level::Note),
        FailOn::Never => None,
    };
    let text = if args.json {
        pretty(&render::check::json(&report, &sources, threshold))
    } else if args.sarif {
        let cwd = std::env::current_dir()?;
        let base = render::check::ProjectBase {
            root: root_dir(&prepared.spec.root),
            cwd,
        };
        pretty(&render::check::sarif(&report, &sources, &base))
    } else {
        render::check::human(&report, &sources, io.style)
    };
    io.out.write_all(text.as_bytes())?;
    Ok(if report.fails(threshold) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn pretty(doc: &serde_json::Value) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(doc).unwrap_or_default()
    )
}

/// The loader names the current directory as the empty path.
fn root_dir(root: &Path) -> PathBuf {
    if root.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        root.to_path_buf()
    }
}

/// A plan as `regionctl plan` makes it: states and a refresh of AWS. Errors are printed.
fn fresh_plan(
    prepared: &Prepared,
    aws: &ClientOptions,
    io: &mut Output,
) -> std::io::Result<Option<Plan>> {
    let runtime = crate::ops::runtime()?;
    let made = runtime.block_on(async {
        let clients = Clients::load(aws).await;
        let backend = ops::plan::backend(prepared, &clients);
        ops::make(
            prepared,
            &clients,
            &backend,
            &Consent::default(),
            BTreeMap::new(),
        )
        .await
    });
    match made {
        Ok(made) => Ok(Some(made.plan)),
        Err(errors) => {
            super::print_errors(io, &errors)?;
            Ok(None)
        }
    }
}

//! `regionctl validate`: load, expand, check and build the graph; report every problem.

use std::path::Path;

use crate::cli::{DiagFormat, ValidateArgs};
use crate::exit::ExitStatus;
use crate::graph::ResourceGraph;
use crate::render;
use crate::source::SourceMap;

use super::Output;

pub fn run(start: &Path, args: &ValidateArgs, io: &mut Output) -> std::io::Result<ExitStatus> {
    let mut sources = SourceMap::new();
    let (spec, mut diags) = super::load_spec(start, &args.envs, &mut sources);
    let mut resources = 0;
    if let Some(spec) = &spec {
        resources = spec.selected_resources().count();
        // Cycles are only meaningful once references resolve; the graph reports them.
        if let Err(cycles) = ResourceGraph::build(spec) {
            diags.extend(cycles);
        }
    }
    let failed = diags.has_errors();
    let diags = diags.into_sorted();
    match args.format {
        DiagFormat::Json => {
            let doc = render::diagnostics::json(&diags, &sources);
            writeln!(
                io.out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )?;
        }
        DiagFormat::Human => {
            super::print_diagnostics(io, &diags, &sources);
            if !failed && let Some(spec) = &spec {
                let envs: Vec<&str> = spec
                    .envs
                    .values()
                    .filter(|e| e.selected)
                    .map(|e| e.name.as_str())
                    .collect();
                writeln!(
                    io.out,
                    "✓ {} valid: {} environment{} ({}), {} resource{}",
                    spec.project.name,
                    envs.len(),
                    if envs.len() == 1 { "" } else { "s" },
                    envs.join(", "),
                    resources,
                    if resources == 1 { "" } else { "s" }
                )?;
            }
        }
    }
    Ok(if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

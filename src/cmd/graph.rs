//! `regionctl graph`: the dependency graph of the selected environments as DOT or JSON.

use std::path::Path;

use crate::cli::{GraphArgs, GraphFormat};
use crate::exit::ExitStatus;
use crate::graph::ResourceGraph;
use crate::render;
use crate::source::SourceMap;

use super::Output;

pub fn run(start: &Path, args: &GraphArgs, io: &mut Output) -> std::io::Result<ExitStatus> {
    let mut sources = SourceMap::new();
    let (spec, mut diags) = super::load_spec(start, &args.envs, &mut sources);
    let graph = spec.as_ref().map(ResourceGraph::build);
    if let Some(Err(cycles)) = &graph {
        diags.extend(cycles.iter().cloned());
    }
    let failed = diags.has_errors();
    let diags = diags.into_sorted();
    super::print_diagnostics(io, &diags, &sources);
    let (false, Some(Ok(graph))) = (failed, graph) else {
        return Ok(ExitStatus::Failure);
    };
    match args.format {
        GraphFormat::Dot => io.out.write_all(render::graph::dot(&graph).as_bytes())?,
        GraphFormat::Json => writeln!(
            io.out,
            "{}",
            serde_json::to_string_pretty(&render::graph::json(&graph)).unwrap_or_default()
        )?,
    }
    Ok(ExitStatus::Success)
}

//! Preparing a selection of the spec for a plan, an apply or a check: load and expand the
//! environments, narrow them to `--region`, build the graph, check the `--target`s, and take the
//! spec's fingerprint (every file read and every `--var`) that a saved plan pins.

use std::collections::BTreeSet;

use crate::addr::{GLOBAL_ENV, InstanceAddr};
use crate::diag::Diagnostic;
use crate::graph::ResourceGraph;
use crate::source::SourceMap;
use crate::spec::{self, Spec, loader};

/// What to prepare: the files and variables to load, then which regions and targets.
#[derive(Debug, Clone)]
pub struct Request {
    pub load: loader::LoadOptions,
    /// Only environments in these regions (`global` names the global environment); empty: all.
    pub regions: Vec<String>,
    /// Only these resources and what they depend on; empty: all.
    pub targets: Vec<String>,
}

/// A loaded, checked spec with its graph and fingerprint, limited to the selection.
#[derive(Debug)]
pub struct Prepared {
    pub spec: Spec,
    pub graph: ResourceGraph,
    pub spec_hash: String,
    pub targets: Vec<InstanceAddr>,
}

/// Why nothing was prepared.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The spec has errors; the diagnostics say which.
    #[error("the spec has errors")]
    Invalid,
    /// The selection names something the spec does not have.
    #[error("{0}")]
    Selection(String),
}

/// The diagnostics found on the way (warnings too), and the prepared spec or why there is none.
pub struct Prepare {
    pub diagnostics: Vec<Diagnostic>,
    pub result: Result<Prepared, PrepareError>,
}

/// Loads and expands the environments from the real file system, logging what was read.
pub fn load(
    options: &loader::LoadOptions,
    sources: &mut SourceMap,
) -> (Option<Spec>, crate::diag::Diagnostics) {
    let started = std::time::Instant::now();
    let (spec, diags) = spec::load(&loader::RealFs, options, sources);
    tracing::info!(
        files = sources.files().count(),
        environments = spec.as_ref().map_or(0, |s| s.envs.len()),
        resources = spec.as_ref().map_or(0, |s| s.resources.len()),
        diagnostics = diags.iter().count(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "spec loaded"
    );
    for (_, f) in sources.files() {
        tracing::debug!(path = %f.path.display(), bytes = f.text.len(), "read");
    }
    (spec, diags)
}

/// Loads the spec, applies the regions and targets, builds the graph.
pub fn prepare(request: &Request, sources: &mut SourceMap) -> Prepare {
    let (spec, diags) = load(&request.load, sources);
    let failed = diags.has_errors();
    let mut diagnostics = diags.into_sorted();
    let (false, Some(spec)) = (failed, spec) else {
        return Prepare {
            diagnostics,
            result: Err(PrepareError::Invalid),
        };
    };
    let result = select(spec, request, sources, &mut diagnostics);
    Prepare {
        diagnostics,
        result,
    }
}

fn select(
    mut spec: Spec,
    request: &Request,
    sources: &SourceMap,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Prepared, PrepareError> {
    if !request.regions.is_empty() {
        let known: BTreeSet<String> = spec.envs.values().map(env_region).collect();
        if let Some(r) = request.regions.iter().find(|r| !known.contains(*r)) {
            return Err(PrepareError::Selection(format!(
                "no environment is in region {r:?} (regions: {})",
                known.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
        for env in spec.envs.values_mut() {
            env.selected = env.selected && request.regions.contains(&env_region(env));
        }
    }
    let graph = match ResourceGraph::build(&spec) {
        Ok(g) => g,
        Err(diags) => {
            diagnostics.extend(diags);
            return Err(PrepareError::Invalid);
        }
    };
    let mut targets = Vec::new();
    for raw in &request.targets {
        let t: InstanceAddr = raw
            .parse()
            .map_err(|e| PrepareError::Selection(format!("--target {raw}: {e}")))?;
        if !spec.envs.get(&t.env).is_some_and(|e| e.selected) {
            return Err(PrepareError::Selection(format!(
                "--target {t}: environment {:?} is not selected",
                t.env
            )));
        }
        targets.push(t);
    }
    let spec_hash = spec_hash(sources, &request.load.vars);
    Ok(Prepared {
        spec,
        graph,
        spec_hash,
        targets,
    })
}

fn env_region(env: &crate::spec::Env) -> String {
    if env.name == GLOBAL_ENV {
        GLOBAL_ENV.to_owned()
    } else {
        env.region.clone().unwrap_or_default()
    }
}

/// A fingerprint of every file the spec was read from and every `--var`, so a saved plan can
/// tell that the spec changed since.
fn spec_hash(sources: &SourceMap, vars: &[String]) -> String {
    let mut files: Vec<_> = sources.files().map(|(_, f)| f).collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let paths: Vec<String> = files
        .iter()
        .map(|f| f.path.to_string_lossy().into_owned())
        .collect();
    let vars: Vec<String> = vars.iter().map(|v| format!("--var {v}")).collect();
    let mut parts: Vec<&[u8]> = Vec::with_capacity(2 * files.len() + vars.len());
    for (path, f) in paths.iter().zip(&files) {
        parts.push(path.as_bytes());
        parts.push(f.text.as_bytes());
    }
    parts.extend(vars.iter().map(String::as_bytes));
    crate::hash::stable_hash128(&parts)
}

//! `regionctl plan`: load the spec, read the states and refresh AWS (all concurrently), diff,
//! render. Read-only: it takes no lock and writes nothing but the `--out` file; the state serials
//! it read go into the saved plan, so an apply of a plan that went stale is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use crate::addr::{GLOBAL_ENV, InstanceAddr};
use crate::cli::{PlanArgs, PlanFormat, Selection};
use crate::exit::ExitStatus;
use crate::graph::ResourceGraph;
use crate::plan::{Inputs, Plan};
use crate::provider::{ClientOptions, Clients, Observed, Provider, RequestCount};
use crate::source::SourceMap;
use crate::spec::Spec;
use crate::state::{Backend, State};

use super::Output;

pub fn run(
    start: &Path,
    args: &PlanArgs,
    aws: &ClientOptions,
    io: &mut Output,
) -> std::io::Result<ExitStatus> {
    let mut sources = SourceMap::new();
    let Some(prepared) = prepare(start, &args.selection, &mut sources, io)? else {
        return Ok(ExitStatus::Failure);
    };
    let consent = Consent {
        allow_replace: args.allow_replace.clone(),
        allow_destroy: args.allow_destroy.clone(),
        destroy: false,
    };
    let runtime = super::runtime()?;
    let made = runtime.block_on(async {
        let clients = Clients::load(aws).await;
        let backend = Backend::for_project(
            &prepared.spec.root,
            &prepared.spec.project.backend,
            &clients,
        )
        .with_stack(&prepared.spec.project.name);
        let result = make(&prepared, &clients, &backend, &consent, BTreeMap::new())
            .await
            .map(|made| made.plan);
        (result, clients.requests())
    });
    let (plan, requests) = match made {
        (Ok(plan), requests) => (plan, requests),
        (Err(errors), _) => {
            print_errors(io, &errors)?;
            return Ok(ExitStatus::Failure);
        }
    };
    log_requests(&requests);

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
        if let Err(e) = save_plan(&out, &plan) {
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

/// Prints errors, at most a screenful: when AWS cannot be reached every refresh fails the same
/// way, and forty copies of one message hide it.
pub(crate) fn print_errors(io: &mut Output, errors: &[String]) -> std::io::Result<()> {
    const SHOWN: usize = 5;
    for e in errors.iter().take(SHOWN) {
        writeln!(io.err, "error: {e}")?;
    }
    if errors.len() > SHOWN {
        writeln!(
            io.err,
            "error: ... and {} more errors (run with -v for each request)",
            errors.len() - SHOWN
        )?;
    }
    writeln!(
        io.err,
        "No plan was made: planning from a partial view of AWS could create duplicates or delete \
         the wrong thing."
    )
}

/// A loaded, checked spec with its graph and fingerprint, limited to the selection.
pub(crate) struct Prepared {
    pub spec: Spec,
    pub graph: ResourceGraph,
    pub spec_hash: String,
    pub targets: Vec<InstanceAddr>,
}

/// Loads the spec, applies `--region` and `--target`, builds the graph; prints diagnostics and
/// returns `None` on any error.
pub(crate) fn prepare(
    start: &Path,
    selection: &Selection,
    sources: &mut SourceMap,
    io: &mut Output,
) -> std::io::Result<Option<Prepared>> {
    let (spec, diags) = super::load_spec(start, &selection.envs, sources);
    let failed = diags.has_errors();
    let diags = diags.into_sorted();
    super::print_diagnostics(io, &diags, sources);
    let (false, Some(mut spec)) = (failed, spec) else {
        return Ok(None);
    };
    if !selection.regions.is_empty() {
        let known: BTreeSet<String> = spec.envs.values().map(env_region).collect();
        for r in &selection.regions {
            if !known.contains(r) {
                writeln!(
                    io.err,
                    "error: no environment is in region {r:?} (regions: {})",
                    known.into_iter().collect::<Vec<_>>().join(", ")
                )?;
                return Ok(None);
            }
        }
        for env in spec.envs.values_mut() {
            env.selected = env.selected && selection.regions.contains(&env_region(env));
        }
    }
    let graph = match ResourceGraph::build(&spec) {
        Ok(g) => g,
        Err(diags) => {
            super::print_diagnostics(io, &diags, sources);
            return Ok(None);
        }
    };
    let Some(targets) = parse_addrs(&selection.targets, "--target", io)? else {
        return Ok(None);
    };
    for t in &targets {
        let selected = spec.envs.get(&t.env).is_some_and(|e| e.selected);
        if !selected {
            writeln!(
                io.err,
                "error: --target {t}: environment {:?} is not selected",
                t.env
            )?;
            return Ok(None);
        }
    }
    let spec_hash = spec_hash(sources, &selection.envs.vars);
    Ok(Some(Prepared {
        spec,
        graph,
        spec_hash,
        targets,
    }))
}

fn env_region(env: &crate::spec::Env) -> String {
    if env.name == GLOBAL_ENV {
        GLOBAL_ENV.to_owned()
    } else {
        env.region.clone().unwrap_or_default()
    }
}

fn parse_addrs(
    raw: &[String],
    flag: &str,
    io: &mut Output,
) -> std::io::Result<Option<Vec<InstanceAddr>>> {
    let mut out = Vec::new();
    for r in raw {
        match r.parse::<InstanceAddr>() {
            Ok(a) => out.push(a),
            Err(e) => {
                writeln!(io.err, "error: {flag} {r}: {e}")?;
                return Ok(None);
            }
        }
    }
    Ok(Some(out))
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

/// Reads the states and refreshes AWS concurrently, then diffs. Errors are whole messages
/// (state location or resource, region, AWS code); with any of them there is no plan, since a
/// plan made from partial knowledge could create duplicates or delete the wrong thing.
///
/// `known` are states the caller already holds (apply reads them when it locks); only the others
/// are read.
pub(crate) async fn make(
    prepared: &Prepared,
    clients: &Clients,
    backend: &Backend,
    consent: &Consent,
    known: BTreeMap<String, State>,
) -> Result<Made, Vec<String>> {
    let spec = &prepared.spec;
    let states = read_states(backend, spec, known).await?;
    let provider = Provider::new(clients.clone(), spec.project.name.clone());
    let live = refresh(&provider, spec, &states).await?;
    let inputs = Inputs {
        spec_hash: prepared.spec_hash.clone(),
        states,
        live,
        targets: prepared.targets.clone(),
        allow_replace: consent.allow_replace.clone(),
        allow_destroy: consent.allow_destroy.clone(),
        destroy: consent.destroy,
    };
    let plan = crate::plan::diff(spec, &prepared.graph, &inputs);
    Ok(Made {
        plan,
        states: inputs.states,
    })
}

/// What the user allowed, and whether everything selected is to be destroyed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Consent {
    pub allow_replace: Vec<String>,
    pub allow_destroy: Vec<String>,
    pub destroy: bool,
}

/// A plan and the states it was made from.
pub(crate) struct Made {
    pub plan: Plan,
    pub states: BTreeMap<String, State>,
}

/// The states of the selected environments and of the environments they refer to.
async fn read_states(
    backend: &Backend,
    spec: &Spec,
    known: BTreeMap<String, State>,
) -> Result<BTreeMap<String, State>, Vec<String>> {
    let mut envs: BTreeSet<&str> = BTreeSet::new();
    for r in spec.selected_resources() {
        envs.insert(&r.addr.env);
        envs.extend(r.deps.iter().map(|d| d.env.as_str()));
    }
    envs.extend(
        spec.envs
            .values()
            .filter(|e| e.selected)
            .map(|e| e.name.as_str()),
    );
    let mut reads = tokio::task::JoinSet::new();
    for env in envs.into_iter().filter(|e| !known.contains_key(*e)) {
        let (backend, env) = (backend.clone(), env.to_owned());
        reads.spawn(async move {
            let result = backend.read(&env).await;
            (env, result)
        });
    }
    let mut states = known;
    let mut errors = Vec::new();
    while let Some(joined) = reads.join_next().await {
        let Ok((env, result)) = joined else {
            errors.push("a state read stopped unexpectedly".to_owned());
            continue;
        };
        match result {
            Ok(Some(state)) => {
                states.insert(env, state);
            }
            Ok(None) => {}
            Err(e) => errors.push(format!("reading the state of {env}: {e}")),
        }
    }
    if errors.is_empty() {
        Ok(states)
    } else {
        Err(errors)
    }
}

/// One refresh per (environment, kind), all at once, with the ids state knows as hints so
/// resources that lost their tags are still read.
async fn refresh(
    provider: &Provider,
    spec: &Spec,
    states: &BTreeMap<String, State>,
) -> Result<BTreeMap<String, Vec<Observed>>, Vec<String>> {
    let mut jobs = crate::refresh::jobs(spec);
    for job in &mut jobs {
        if let Some(state) = states.get(&job.env) {
            job.hints.ids.extend(
                state
                    .resources
                    .values()
                    .filter(|r| r.kind == job.kind)
                    .map(|r| r.id.clone()),
            );
        }
    }
    let owners: Vec<String> = jobs.iter().map(|j| j.env.clone()).collect();
    let results = provider
        .refresh_many(
            jobs.into_iter()
                .map(|j| (j.kind, j.region, j.hints))
                .collect(),
        )
        .await;
    let mut live: BTreeMap<String, Vec<Observed>> = BTreeMap::new();
    let mut errors = Vec::new();
    for (owner, (_, _, result)) in owners.into_iter().zip(results) {
        match result {
            Ok(found) => live.entry(owner).or_default().extend(found),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(crate::provider::error::summarize(errors));
    }
    read_unlisted(provider, states, &mut live).await?;
    Ok(live)
}

/// Reads by id every resource state records that the batched lists did not return. Most lists
/// filter by the stack tag, so a resource whose tags someone removed would otherwise look
/// deleted, and the plan would create a duplicate. Normally there are none, so this costs
/// nothing.
async fn read_unlisted(
    provider: &Provider,
    states: &BTreeMap<String, State>,
    live: &mut BTreeMap<String, Vec<Observed>>,
) -> Result<(), Vec<String>> {
    let mut reads = tokio::task::JoinSet::new();
    for (env, state) in states {
        let Some(found) = live.get(env) else {
            continue; // an environment outside the selection
        };
        let seen: BTreeSet<(crate::kind::Kind, &str)> =
            found.iter().map(|o| (o.kind, o.id.as_str())).collect();
        for (addr, r) in &state.resources {
            if seen.contains(&(r.kind, r.id.as_str())) {
                continue;
            }
            let (provider, env, addr, r) = (provider.clone(), env.clone(), addr.clone(), r.clone());
            reads.spawn(async move {
                let ctx = crate::provider::Ctx {
                    addr: &addr,
                    kind: r.kind,
                    region: &r.region,
                    token: "",
                };
                (env, provider.read(&ctx, &r.id).await)
            });
        }
    }
    let mut errors = Vec::new();
    while let Some(joined) = reads.join_next().await {
        match joined {
            Ok((env, Ok(Some(observed)))) => live.entry(env).or_default().push(observed),
            Ok((_, Ok(None))) => {}
            Ok((_, Err(e))) => errors.push(e.to_string()),
            Err(_) => errors.push("a read stopped unexpectedly".to_owned()),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn log_requests(requests: &RequestCount) {
    tracing::info!(requests = requests.total(), "AWS requests made by the plan");
    for (key, n) in &requests.by_key {
        tracing::debug!(service = %key.service, operation = %key.operation, region = %key.region, n, "requests");
    }
}

/// Writes the plan file atomically (temp file, fsync, rename), so a crash never leaves half a
/// plan for `apply` to read.
fn save_plan(path: &Path, plan: &Plan) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(plan).map_err(std::io::Error::other)?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plan".to_owned());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&text)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

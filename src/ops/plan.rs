//! Making a plan: read the states and refresh AWS concurrently, then diff. Read-only: it takes no
//! lock and writes nothing; the state serials it read go into the plan, so an apply of a plan
//! that went stale is refused.

use std::collections::{BTreeMap, BTreeSet};

use super::Prepared;
use super::refresh::Mode;
use crate::plan::{Inputs, Plan};
use crate::provider::{Clients, Provider};
use crate::spec::Spec;
use crate::state::{Backend, State};

/// What the user allowed, and whether everything selected is to be destroyed.
#[derive(Debug, Clone, Default)]
pub struct Consent {
    pub allow_replace: Vec<String>,
    pub allow_destroy: Vec<String>,
    pub destroy: bool,
}

/// A plan and the states it was made from.
pub struct Made {
    pub plan: Plan,
    pub states: BTreeMap<String, State>,
}

/// The state backend the project's `regionctl.yaml` names, scoped to its stack.
pub fn backend(prepared: &Prepared, clients: &Clients) -> Backend {
    super::state::backend(&prepared.spec, clients)
}

/// Reads the states and refreshes AWS concurrently, then diffs. Errors are whole messages
/// (state location or resource, region, AWS code); with any of them there is no plan, since a
/// plan made from partial knowledge could create duplicates or delete the wrong thing.
///
/// `known` are states the caller already holds (apply reads them when it locks); only the others
/// are read.
pub async fn make(
    prepared: &Prepared,
    clients: &Clients,
    backend: &Backend,
    consent: &Consent,
    known: BTreeMap<String, State>,
) -> Result<Made, Vec<String>> {
    make_with(prepared, clients, backend, consent, known, Mode::Full).await
}

/// [`make`] with a choice of what to read from AWS. `Mode::Changed` plans twice: first against
/// the state alone, to learn what the spec changes (`plan::scope`); then it reads from AWS only
/// those resources, their dependencies and their dependents, trusts the state for the rest, and
/// records the trusted ones in the plan (`Plan::not_refreshed`). An apply of such a plan still
/// reads every resource it changes from AWS before changing it (the executor reads the current
/// resource before each update and delete).
pub async fn make_with(
    prepared: &Prepared,
    clients: &Clients,
    backend: &Backend,
    consent: &Consent,
    known: BTreeMap<String, State>,
    mode: Mode,
) -> Result<Made, Vec<String>> {
    let spec = &prepared.spec;
    let states = read_states(backend, spec, known).await?;
    let provider = Provider::new(clients.clone(), spec.project.name.clone());
    let mut inputs = Inputs {
        spec_hash: prepared.spec_hash.clone(),
        states,
        live: BTreeMap::new(),
        targets: prepared.targets.clone(),
        allow_replace: consent.allow_replace.clone(),
        allow_destroy: consent.allow_destroy.clone(),
        destroy: consent.destroy,
    };
    let mut not_refreshed = Vec::new();
    match mode {
        Mode::Full => {
            let kinds = if consent.destroy {
                super::refresh::Kinds::All
            } else {
                super::refresh::Kinds::Used
            };
            inputs.live = super::refresh::run(&provider, spec, &inputs.states, kinds).await?;
        }
        Mode::Changed => {
            let selected: BTreeSet<&str> = spec
                .envs
                .values()
                .filter(|e| e.selected)
                .map(|e| e.name.as_str())
                .collect();
            inputs.live = crate::plan::scope::trusted_live(&spec.project.name, &inputs.states);
            inputs.live.retain(|env, _| selected.contains(env.as_str()));
            let first = crate::plan::diff(spec, &prepared.graph, &inputs);
            let scope = crate::plan::scope::scope(&first, &prepared.graph, &inputs.states);
            let (live, trusted) =
                super::refresh::run_scoped(&provider, spec, &inputs.states, &scope).await?;
            inputs.live = live;
            not_refreshed = trusted;
        }
    }
    let mut plan = crate::plan::diff(spec, &prepared.graph, &inputs);
    plan.not_refreshed = not_refreshed;
    log_requests(&clients.requests());
    Ok(Made {
        plan,
        states: inputs.states,
    })
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

fn log_requests(requests: &crate::provider::RequestCount) {
    tracing::info!(requests = requests.total(), "AWS requests made by the plan");
    for (key, n) in &requests.by_key {
        tracing::debug!(service = %key.service, operation = %key.operation, region = %key.region, n, "requests");
    }
}

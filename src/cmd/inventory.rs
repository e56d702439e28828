//! `regionctl inventory`: what of the stack exists in AWS, per environment. Read-only: one
//! batched refresh per kind and region, all at once.

use std::collections::BTreeMap;
use std::path::Path;

use crate::cli::{DiagFormat, InventoryArgs};
use crate::exit::ExitStatus;
use crate::provider::{self, ClientOptions, Clients, Provider};
use crate::render::inventory::{EnvInventory, Inventory};
use crate::source::SourceMap;
use crate::spec::Spec;

use super::Output;

pub fn run(
    start: &Path,
    args: &InventoryArgs,
    aws: &ClientOptions,
    io: &mut Output,
) -> std::io::Result<ExitStatus> {
    let mut sources = SourceMap::new();
    let (spec, diags) = super::load_spec(start, &args.envs, &mut sources);
    let failed = diags.has_errors();
    let diags = diags.into_sorted();
    super::print_diagnostics(io, &diags, &sources);
    let (false, Some(spec)) = (failed, spec) else {
        return Ok(ExitStatus::Failure);
    };
    let runtime = crate::ops::runtime()?;
    let (inventory, requests) = runtime.block_on(async {
        let clients = Clients::load(aws).await;
        let states = read_states(&spec, &clients).await;
        let provider = Provider::new(clients, spec.project.name.clone());
        let inventory = collect(&provider, &spec, &states).await;
        (inventory, provider.clients.requests())
    });
    tracing::info!(
        requests = requests.total(),
        "AWS requests made by the inventory"
    );
    for (key, n) in &requests.by_key {
        tracing::debug!(service = %key.service, operation = %key.operation, region = %key.region, n, "requests");
    }
    match args.format {
        DiagFormat::Human => io.out.write_all(
            crate::render::inventory::human(&inventory, requests.total(), io.style).as_bytes(),
        )?,
        DiagFormat::Json => writeln!(
            io.out,
            "{}",
            serde_json::to_string_pretty(&crate::render::inventory::json(
                &inventory,
                requests.total()
            ))
            .unwrap_or_default()
        )?,
    }
    let errors = inventory.envs.iter().map(|e| e.errors.len()).sum::<usize>();
    Ok(if errors > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// The selected environments' states, where they can be read. Inventory asks AWS what exists
/// and needs no state, but some kinds carry no tags (KMS aliases, SNS subscriptions, an ECR
/// registry's replication) or are listed only by an id the state holds (OIDC providers): for
/// those, what the state records and AWS still has is what is found. A state that cannot be read
/// is said, and those kinds then show as missing.
async fn read_states(spec: &Spec, clients: &Clients) -> BTreeMap<String, crate::state::State> {
    let backend = crate::ops::state::backend(spec, clients);
    let mut states = BTreeMap::new();
    for env in spec.envs.values().filter(|e| e.selected) {
        match backend.read(&env.name).await {
            Ok(Some(state)) => {
                states.insert(env.name.clone(), state);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(env = %env.name, "state not read: {e}"),
        }
    }
    states
}

/// Refreshes every kind the selected environments can hold, all at once, with the ids their
/// states record as hints (as a plan does).
async fn collect(
    provider: &Provider,
    spec: &Spec,
    states: &BTreeMap<String, crate::state::State>,
) -> Inventory {
    let mut jobs = crate::ops::refresh::jobs(spec);
    for job in &mut jobs {
        job.add_state(spec, states.get(&job.env));
    }
    let owners: Vec<String> = jobs.iter().map(|j| j.env.clone()).collect();
    let jobs = jobs
        .into_iter()
        .map(|j| (j.kind, j.region, j.hints))
        .collect();
    let results = provider.refresh_many(jobs).await;
    let mut envs: BTreeMap<String, EnvInventory> = BTreeMap::new();
    for (owner, (_kind, region, result)) in owners.into_iter().zip(results) {
        let entry = envs.entry(owner.clone()).or_insert_with(|| EnvInventory {
            env: owner.clone(),
            region: region.clone(),
            found: Vec::new(),
            missing: Vec::new(),
            errors: Vec::new(),
        });
        match result {
            Ok(found) => entry.found.extend(found),
            Err(e) => entry.errors.push(e.to_string()),
        }
    }
    // What the state records but no list returned (an SNS subscription pending confirmation is
    // listed without its ARN; a resource whose tags someone removed) is read by its id, as a
    // plan does.
    for env in envs.values_mut() {
        let Some(state) = states.get(&env.env) else {
            continue;
        };
        let one = BTreeMap::from([(env.env.clone(), state.clone())]);
        let mut live = BTreeMap::from([(env.env.clone(), std::mem::take(&mut env.found))]);
        if let Err(errors) = crate::ops::refresh::read_unlisted(provider, &one, &mut live).await {
            env.errors.extend(errors);
        }
        env.found = live.remove(&env.env).unwrap_or_default();
    }
    for env in envs.values_mut() {
        env.found.sort_by(|a, b| {
            (a.address_tag(), a.kind, &a.id).cmp(&(b.address_tag(), b.kind, &b.id))
        });
        let mut present: std::collections::BTreeSet<String> = env
            .found
            .iter()
            .filter_map(provider::Observed::address_tag)
            .map(str::to_owned)
            .collect();
        // An untagged resource is present when the state records it and AWS returned that id.
        if let Some(state) = states.get(&env.env) {
            let ids: std::collections::BTreeSet<(crate::kind::Kind, &str)> =
                env.found.iter().map(|o| (o.kind, o.id.as_str())).collect();
            present.extend(
                state
                    .resources
                    .iter()
                    .filter(|(_, r)| ids.contains(&(r.kind, r.id.as_str())))
                    .map(|(a, _)| a.to_string()),
            );
        }
        // Records cannot be tagged: one is present when a record of the stack's zones has the
        // spec's name, type and set identifier (the zone id is a reference, unknown here).
        let record_key = |attrs: &crate::provider::Attrs| {
            let text = |k: &str| {
                attrs
                    .get(k)
                    .and_then(crate::spec::value::Value::as_str)
                    .map(|v| crate::provider::route53::dns_name(&v.to_ascii_lowercase()))
            };
            (text("name"), text("type"), text("set_identifier"))
        };
        let records: std::collections::BTreeSet<_> = env
            .found
            .iter()
            .filter(|o| o.kind == crate::kind::Kind::Route53Record)
            .map(|o| record_key(&o.attrs))
            .collect();
        env.missing = spec
            .resources
            .iter()
            .filter(|(a, r)| {
                a.env == env.env
                    && !present.contains(&a.to_string())
                    && !(r.kind == crate::kind::Kind::Route53Record
                        && records.contains(&record_key(&r.attrs)))
            })
            .map(|(a, _)| a.clone())
            .collect();
    }
    Inventory {
        stack: provider.stack.clone(),
        envs: envs.into_values().collect(),
    }
}

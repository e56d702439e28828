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
        let provider = Provider::new(clients, spec.project.name.clone());
        let inventory = collect(&provider, &spec).await;
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

/// Refreshes every kind the selected environments can hold, all at once.
async fn collect(provider: &Provider, spec: &Spec) -> Inventory {
    let jobs = crate::ops::refresh::jobs(spec);
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
    for env in envs.values_mut() {
        env.found.sort_by(|a, b| {
            (a.address_tag(), a.kind, &a.id).cmp(&(b.address_tag(), b.kind, &b.id))
        });
        let present: std::collections::BTreeSet<&str> = env
            .found
            .iter()
            .filter_map(provider::Observed::address_tag)
            .collect();
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
                    && !present.contains(a.to_string().as_str())
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

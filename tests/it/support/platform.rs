//! A whole example project through the provider, in dependency order: the graph's creation
//! order, each resource's residual expressions resolved from what was created before it. This
//! is not `apply` (no state, no concurrency, no plan); it exercises every kind with the values a
//! real spec produces, and seeds the emulator for refresh benchmarks.

use std::collections::BTreeMap;
use std::path::Path;

use regionctl::addr::{GLOBAL_ENV, InstanceAddr};
use regionctl::graph::ResourceGraph;
use regionctl::provider::{Attrs, Ctx, Observed, Provider, api_region, idempotency_token};
use regionctl::source::SourceMap;
use regionctl::spec::expr::resolve;
use regionctl::spec::value::{RefTarget, Value};
use regionctl::spec::{self, Spec, loader};

/// Loads every environment of the project at `root`; panics with the diagnostics if invalid.
pub fn load(root: &Path) -> (Spec, ResourceGraph) {
    let mut sources = SourceMap::new();
    let (spec, diags) = spec::load(
        &loader::RealFs,
        &loader::LoadOptions::all(root.to_path_buf()),
        &mut sources,
    );
    assert!(!diags.has_errors(), "{:?}", diags.into_sorted());
    let spec = spec.expect("a valid project gives a spec");
    let graph = ResourceGraph::build(&spec).expect("no cycles");
    (spec, graph)
}

fn region_of(addr: &InstanceAddr, spec: &Spec) -> String {
    let env_region = spec.envs.get(&addr.env).and_then(|e| e.region.clone());
    let env_region = (addr.env != GLOBAL_ENV).then_some(env_region).flatten();
    api_region(addr.block.kind, env_region.as_deref()).to_owned()
}

/// The desired attributes of `addr` with every reference to an earlier resource resolved.
pub fn resolved(
    spec: &Spec,
    addr: &InstanceAddr,
    done: &BTreeMap<InstanceAddr, Observed>,
) -> Attrs {
    let resource = &spec.resources[addr];
    let lookup = |r: &regionctl::spec::value::Reference| -> Option<Value> {
        let RefTarget::Resolved { addr } = &r.target else {
            return None;
        };
        let o = done.get(addr)?;
        o.computed
            .get(&r.attr)
            .or_else(|| o.attrs.get(&r.attr))
            .cloned()
            .or_else(|| spec.resources.get(addr)?.attrs.get(&r.attr).cloned())
    };
    resource
        .attrs
        .iter()
        .map(|(k, v)| {
            let value = resolve(v, &lookup).unwrap_or_else(|e| panic!("{addr}.{k}: {e}"));
            assert!(!value.has_unknown(), "{addr}.{k} still unknown: {value:?}");
            (k.clone(), value)
        })
        .collect()
}

/// Creates every resource of the spec in creation order and waits for each.
pub async fn create_all(
    p: &Provider,
    spec: &Spec,
    graph: &ResourceGraph,
) -> BTreeMap<InstanceAddr, Observed> {
    let mut done = BTreeMap::new();
    for addr in graph.topo_order() {
        let Some(resource) = spec.resources.get(addr) else {
            continue; // an external node (an unselected environment)
        };
        let desired = resolved(spec, addr, &done);
        let region = region_of(addr, spec);
        let token = idempotency_token(&p.stack, addr, "seed");
        let ctx = Ctx {
            addr,
            kind: resource.kind,
            region: &region,
            token: &token,
        };
        let observed = p
            .create_and_wait(&ctx, &desired)
            .await
            .unwrap_or_else(|e| panic!("create {addr}: {e}"));
        done.insert(addr.clone(), observed);
    }
    done
}

/// Deletes everything `create_all` made, in reverse order, turning RDS deletion protection
/// off first (as a user must before destroying a protected database).
pub async fn delete_all(
    p: &Provider,
    spec: &Spec,
    graph: &ResourceGraph,
    done: &BTreeMap<InstanceAddr, Observed>,
) {
    for addr in graph.destroy_order() {
        let Some(observed) = done.get(addr) else {
            continue;
        };
        let region = region_of(addr, spec);
        let token = idempotency_token(&p.stack, addr, "seed");
        let ctx = Ctx {
            addr,
            kind: observed.kind,
            region: &region,
            token: &token,
        };
        let mut config = resolved(spec, addr, done);
        let mut current = p
            .read(&ctx, &observed.id)
            .await
            .unwrap_or_else(|e| panic!("read {addr}: {e}"))
            .unwrap_or_else(|| panic!("{addr} vanished before delete"));
        if config.get("deletion_protection") == Some(&Value::Bool(true)) {
            config.insert("deletion_protection".into(), Value::Bool(false));
            config.insert("skip_final_snapshot".into(), Value::Bool(true));
            current = p
                .update_and_wait(&ctx, &current, &config)
                .await
                .unwrap_or_else(|e| panic!("unprotect {addr}: {e}"));
        }
        p.delete_and_wait(&ctx, &current, &config)
            .await
            .unwrap_or_else(|e| panic!("delete {addr}: {e}"));
    }
}

//! States as an apply would have written them, for tests that need "the platform exists and
//! regionctl knows it" without an `apply` command: after [`super::platform::create_all`], one
//! state per environment through the real backend (lock, save, unlock), each resource recorded
//! with the values that were sent (references resolved) and what AWS reported.
//!
//! Only the local backend: the project must be a scratch copy, since the states land in
//! `<project_root>/.regionctl/state/`.

use std::collections::BTreeMap;
use std::path::Path;

use regionctl::addr::InstanceAddr;
use regionctl::graph::ResourceGraph;
use regionctl::provider::Observed;
use regionctl::spec::Spec;
use regionctl::spec::model::BackendDef;
use regionctl::state::{Backend, LocalBackend, StateResource};

use super::platform;

/// The backend of a scratch project (local files under `project_root`).
pub fn backend(project_root: &Path) -> Backend {
    Backend::Local(LocalBackend::new(project_root))
}

/// Writes, per environment, the state an apply would have written after creating `created`.
/// Returns the addresses recorded per environment.
pub async fn record(
    project_root: &Path,
    spec: &Spec,
    graph: &ResourceGraph,
    created: &BTreeMap<InstanceAddr, Observed>,
) -> BTreeMap<String, Vec<InstanceAddr>> {
    assert!(
        matches!(spec.project.backend, BackendDef::Local),
        "support::state::record writes local states; the project uses {:?}",
        spec.project.backend
    );
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        !project_root.starts_with(repo) || project_root.starts_with(env!("CARGO_TARGET_TMPDIR")),
        "record states in a scratch copy, never in the repository ({})",
        project_root.display()
    );
    let mut per_env: BTreeMap<String, Vec<InstanceAddr>> = BTreeMap::new();
    for addr in graph.topo_order() {
        if spec.resources.contains_key(addr) && created.contains_key(addr) {
            per_env
                .entry(addr.env.clone())
                .or_default()
                .push(addr.clone());
        }
    }
    let backend = backend(project_root);
    for (env, addrs) in &per_env {
        let mut session = backend
            .lock(&spec.project.name, env, "test")
            .await
            .unwrap_or_else(|e| panic!("lock the state of {env}: {e}"));
        for addr in addrs {
            let resource = &spec.resources[addr];
            let observed = &created[addr];
            session.state.resources.insert(
                addr.clone(),
                StateResource::applied(
                    observed,
                    platform::resolved(spec, addr, created),
                    resource.deps.clone(),
                    resource.protect,
                ),
            );
        }
        session
            .save()
            .await
            .unwrap_or_else(|e| panic!("save the state of {env}: {e}"));
        session
            .unlock()
            .await
            .unwrap_or_else(|e| panic!("unlock the state of {env}: {e}"));
    }
    per_env
}

/// Adds one resource to an environment's state (an extra resource the spec does not have, as
/// if it had been removed from the spec after an apply).
pub async fn add(
    project_root: &Path,
    stack: &str,
    addr: &InstanceAddr,
    resource: StateResource,
) -> u64 {
    let backend = backend(project_root);
    let mut session = backend
        .lock(stack, &addr.env, "test")
        .await
        .unwrap_or_else(|e| panic!("lock the state of {}: {e}", addr.env));
    session.state.resources.insert(addr.clone(), resource);
    session
        .save()
        .await
        .unwrap_or_else(|e| panic!("save the state of {}: {e}", addr.env));
    let serial = session.state.serial;
    session
        .unlock()
        .await
        .unwrap_or_else(|e| panic!("unlock the state of {}: {e}", addr.env));
    serial
}

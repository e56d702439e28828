//! What a changed-only plan (`plan --refresh changed`) reads from AWS, and what it takes from the
//! state instead. Pure, like the rest of planning; `ops::plan` does the reading.
//!
//! The plan is made twice. First against the state alone, each recorded resource standing in for
//! what AWS would say ([`trusted`]): every resource that plan changes (its desired attributes
//! differ from those last applied, it is new, or it left the spec) is what the user changed.
//! Those, the resources the state records as pending (AWS may still be changing them: see
//! [`StateResource::pending`]), the resources all these depend on and every resource that
//! depends on them ([`scope`]) are then read from AWS and the plan is made again. The rest is trusted: a change someone made in
//! AWS to a resource outside the scope (drift) does not show, which is what a scheduled full plan
//! is for.

use std::collections::{BTreeMap, BTreeSet};

use crate::addr::InstanceAddr;
use crate::graph::ResourceGraph;
use crate::resource::{ADDRESS_TAG, Observed, STACK_TAG, Status};
use crate::spec::value::Value;
use crate::state::{State, StateResource};

use super::Plan;

/// The resource as the state records it, as if AWS had reported it: the attributes last applied,
/// the computed ones, its user tags plus the identity tags, ready.
pub fn trusted(stack: &str, addr: &InstanceAddr, r: &StateResource) -> Observed {
    let mut tags: BTreeMap<String, String> = match r.attrs.get("tags") {
        Some(Value::Map(m)) => m
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
            .collect(),
        _ => BTreeMap::new(),
    };
    tags.insert(STACK_TAG.to_owned(), stack.to_owned());
    tags.insert(ADDRESS_TAG.to_owned(), addr.to_string());
    Observed {
        kind: r.kind,
        region: r.region.clone(),
        id: r.id.clone(),
        attrs: r.attrs.clone(),
        computed: r.computed.clone(),
        tags,
        status: Status::Ready,
    }
}

/// Every resource of the states, trusted, per environment: the `live` of the first plan.
pub fn trusted_live(
    stack: &str,
    states: &BTreeMap<String, State>,
) -> BTreeMap<String, Vec<Observed>> {
    states
        .iter()
        .map(|(env, state)| {
            let found = state
                .resources
                .iter()
                .map(|(addr, r)| trusted(stack, addr, r))
                .collect();
            (env.clone(), found)
        })
        .collect()
}

/// What to read from AWS, given the plan made against the state alone: every resource it
/// changes and every resource the states record as pending (a trusted record of something AWS
/// may still be creating or modifying could hide that it failed or is not done), the resources
/// those depend on (their current values feed the change), and every resource depending on
/// them, transitively (a replacement can ripple through them). A resource that left the spec
/// brings the dependencies the state recorded for it.
pub fn scope(
    first: &Plan,
    graph: &ResourceGraph,
    states: &BTreeMap<String, State>,
) -> BTreeSet<InstanceAddr> {
    let pending = states
        .values()
        .flat_map(|s| s.resources.iter())
        .filter(|(_, r)| r.pending.is_some())
        .map(|(addr, _)| addr);
    let changed: BTreeSet<&InstanceAddr> = first
        .changes()
        .filter(|c| c.action.is_change() || c.adopt)
        .map(|c| &c.addr)
        .chain(pending)
        .collect();
    let mut out: BTreeSet<InstanceAddr> = BTreeSet::new();
    let mut dependents: Vec<&InstanceAddr> = Vec::new();
    for addr in changed {
        out.insert(addr.clone());
        out.extend(graph.dependencies(addr).into_iter().cloned());
        if let Some(r) = states
            .get(addr.env.as_str())
            .and_then(|s| s.resources.get(addr))
        {
            out.extend(r.deps.iter().cloned());
        }
        dependents.push(addr);
    }
    let mut seen: BTreeSet<&InstanceAddr> = dependents.iter().copied().collect();
    while let Some(addr) = dependents.pop() {
        for d in graph.dependents(addr) {
            out.insert(d.clone());
            if seen.insert(d) {
                dependents.push(d);
            }
        }
    }
    out
}

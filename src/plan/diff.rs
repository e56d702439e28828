//! The planner: desired (spec and graph) against prior state and live resources, to a [`Plan`].
//!
//! Pure: the command reads the states and refreshes AWS, this decides. For every resource of the
//! selected environments, in dependency order across all regions:
//!
//! 1. its desired attributes are resolved from what its dependencies will be after the apply
//!    (the live value of a dependency that stays, `Unknown` for an id that a create will make),
//!    so an unchanged subnet compares its real `vpc_id`, not `(known after apply)`;
//! 2. its live counterpart is found: by the id in state, else by the `regionctl:address` tag,
//!    else by its key (Route 53 records); one found only by tag or key is *adopted*;
//! 3. every attribute is compared with [`compare::compare`] (which knows AWS's defaults and
//!    normal forms): a difference in a `force_new` field replaces, any other updates;
//! 4. drift is what AWS has that differs from what state says was applied.
//!
//! Then what state (or a stack tag) has and the spec does not is deleted, dependents first.
//! Replacing or deleting a protected resource, an EKS cluster or an RDS instance is refused
//! unless the address is allowed explicitly.

use std::collections::{BTreeMap, BTreeSet};

use super::model::*;
use crate::addr::{GLOBAL_ENV, InstanceAddr};
use crate::graph::ResourceGraph;
use crate::kind::Kind;
use crate::resource::{ADDRESS_TAG, Attrs, Observed, STACK_TAG, Status, api_region, natural_id};
use crate::spec::Spec;
use crate::spec::expr::resolve;
use crate::spec::schema::compare::{self, AttrCmp};
use crate::spec::schema::kinds::schema;
use crate::spec::value::{RefTarget, Reference, Value};
use crate::state::{State, StateResource};

/// Everything the planner needs besides the spec.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Fingerprint of the spec files and variables (recorded in the plan).
    pub spec_hash: String,
    /// The prior state of every environment that has one: the selected ones, and the ones
    /// selected resources refer to (their values resolve references across regions).
    pub states: BTreeMap<String, State>,
    /// What the refresh found, per selected environment.
    pub live: BTreeMap<String, Vec<Observed>>,
    /// Limit the plan to these resources and their dependencies (empty: everything).
    pub targets: Vec<InstanceAddr>,
    /// Resources that may be replaced / deleted although protected or stateful: addresses, or
    /// patterns where `*` matches anything (`eu-west-1/*`).
    pub allow_replace: Vec<String>,
    pub allow_destroy: Vec<String>,
    /// Plan the deletion of everything in the selected environments (`regionctl destroy`).
    pub destroy: bool,
}

/// Whether `addr` matches one of the `--allow-*` patterns.
pub fn allowed(patterns: &[String], addr: &InstanceAddr) -> bool {
    let text = addr.to_string();
    patterns.iter().any(|p| glob(p, &text))
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('*').collect();
    for (i, part) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            return remaining.ends_with(part);
        }
        match remaining.find(part) {
            Some(pos) => remaining = &remaining[pos + part.len()..],
            None => return false,
        }
    }
    true
}

/// What a resource will look like after the apply, as references to it read it.
#[derive(Debug, Clone)]
struct After {
    /// Computed attributes (ids, ARNs); empty when a create or replace will make new ones.
    computed: Attrs,
    /// Configurable attributes, desired values first, then live ones.
    attrs: Attrs,
}

impl After {
    fn get(&self, attr: &str) -> Option<Value> {
        self.computed
            .get(attr)
            .or_else(|| self.attrs.get(attr))
            .filter(|v| !v.has_unknown())
            .cloned()
    }
}

pub fn diff(spec: &Spec, graph: &ResourceGraph, inputs: &Inputs) -> Plan {
    let selected: BTreeSet<&str> = spec
        .envs
        .values()
        .filter(|e| e.selected)
        .map(|e| e.name.as_str())
        .collect();
    let in_scope = if inputs.destroy {
        dependents_of(graph, &inputs.targets)
    } else {
        targeted(spec, graph, &inputs.targets)
    };
    let stack = spec.project.name.as_str();

    // Values of resources outside the selection (unselected environments) come from their state.
    let mut after: BTreeMap<InstanceAddr, After> = BTreeMap::new();
    for (env, state) in &inputs.states {
        if selected.contains(env.as_str()) {
            continue;
        }
        for (addr, r) in &state.resources {
            after.insert(
                addr.clone(),
                After {
                    computed: r.computed.clone(),
                    attrs: r.attrs.clone(),
                },
            );
        }
    }

    let mut envs: BTreeMap<&str, EnvPlan> = BTreeMap::new();
    let mut finders: BTreeMap<&str, Finder> = BTreeMap::new();
    for env in spec.envs.values().filter(|e| e.selected) {
        let state = inputs.states.get(&env.name);
        envs.insert(
            &env.name,
            EnvPlan {
                env: env.name.clone(),
                region: env.region.clone().filter(|_| env.name != GLOBAL_ENV),
                prior_state: state.map(|s| StateRef {
                    lineage: s.lineage.clone(),
                    serial: s.serial,
                }),
                changes: Vec::new(),
                drift: Vec::new(),
            },
        );
        let live = inputs.live.get(&env.name).map_or(&[][..], Vec::as_slice);
        finders.insert(&env.name, Finder::new(stack, live));
    }

    for addr in graph.topo_order() {
        if inputs.destroy {
            break; // nothing is desired: every resource falls to the deletes below
        }
        let Some(resource) = spec.resources.get(addr) else {
            continue;
        };
        let (Some(plan), Some(finder)) = (
            envs.get_mut(addr.env.as_str()),
            finders.get_mut(addr.env.as_str()),
        ) else {
            continue;
        };
        let state = inputs.states.get(&addr.env);
        let prior = state.and_then(|s| s.resources.get(addr));
        let desired = resolve_desired(resource.attrs.iter(), &after);
        let region = api_region(resource.kind, resource.region.as_deref()).to_owned();
        let found = finder.find(addr, resource.kind, prior, &desired);

        if let (Some(prior), Found::Gone | Found::Live { adopted: true, .. }) = (prior, &found) {
            // State's resource no longer exists (a tagged one with another id may).
            plan.drift.push(Drift {
                addr: addr.clone(),
                kind: resource.kind,
                region: region.clone(),
                id: prior.id.clone(),
                deleted: true,
                attrs: Vec::new(),
            });
        }
        let live = match &found {
            Found::Live { observed, .. } => Some(*observed),
            _ => None,
        };
        if let (
            Some(prior),
            Found::Live {
                adopted: false,
                observed,
            },
        ) = (prior, &found)
        {
            let attrs = drift_of(resource.kind, prior, observed);
            if !attrs.is_empty() {
                plan.drift.push(Drift {
                    addr: addr.clone(),
                    kind: resource.kind,
                    region: region.clone(),
                    id: observed.id.clone(),
                    deleted: false,
                    attrs,
                });
            }
        }

        let mut change = ResourceChange {
            addr: addr.clone(),
            kind: resource.kind,
            region,
            action: Action::NoOp,
            replace_order: None,
            reason: Reason::Unchanged,
            id: live.map(|o| o.id.clone()),
            before: live.map(|o| o.attrs.clone()),
            after: Some(desired.clone()),
            changed: Vec::new(),
            forces_replacement: Vec::new(),
            sensitive: sensitive_fields(resource.kind),
            adopt: matches!(found, Found::Live { adopted: true, .. }),
            deps: resource.deps.iter().cloned().collect(),
            protect: resource.protect,
            refusal: None,
        };
        match live {
            None => {
                change.action = Action::Create;
                change.reason = if prior.is_some() {
                    Reason::DeletedOutside
                } else {
                    Reason::NotInAws
                };
                if let Found::Conflict(other) = &found {
                    change.refusal = Some(conflict_message(addr, resource.kind, other, stack));
                }
            }
            Some(observed) => {
                let (mut changed, forces) = compare_attrs(
                    resource.kind,
                    &desired,
                    observed,
                    prior,
                    &resource.ignore_changes,
                );
                if let Status::Failed(word) = &observed.status {
                    change.action = Action::Replace;
                    change.reason = Reason::Failed(word.clone());
                } else if !forces.is_empty() {
                    change.action = Action::Replace;
                    change.reason = Reason::AttributesDiffer;
                } else if !changed.is_empty() {
                    change.action = Action::Update;
                    change.reason = Reason::AttributesDiffer;
                }
                if change.action == Action::Replace {
                    change.replace_order = Some(replace_order(resource.kind, &forces));
                    if (resource.protect || resource.kind.needs_consent())
                        && !allowed(&inputs.allow_replace, addr)
                    {
                        change.refusal = Some(refusal(
                            addr,
                            resource.kind,
                            resource.protect,
                            "replace",
                            &forces,
                        ));
                    }
                }
                // A resource regionctl did not create (imported, or adopted from Terraform) lacks
                // the identity tags: the update adds them in place, and the plan shows them.
                let identity = missing_identity(resource.kind, observed, stack, addr);
                if !identity.is_empty()
                    && !resource.ignore_changes.iter().any(|n| n == "tags")
                    && matches!(found, Found::Live { adopted: false, .. })
                {
                    if !changed.iter().any(|n| n == "tags") {
                        changed.push("tags".to_owned());
                    }
                    if change.action == Action::NoOp {
                        change.action = Action::Update;
                        change.reason = Reason::AttributesDiffer;
                    }
                    if let Some(after) = change.after.as_mut() {
                        let mut tags = match after.get("tags") {
                            Some(Value::Map(m)) => m.clone(),
                            _ => BTreeMap::new(),
                        };
                        tags.extend(identity.into_iter().map(|(k, v)| (k, Value::Str(v))));
                        after.insert("tags".to_owned(), Value::Map(tags));
                    }
                }
                change.changed = changed;
                change.forces_replacement = forces;
            }
        }
        after.insert(addr.clone(), after_of(&change, live));
        if in_scope.as_ref().is_none_or(|s| s.contains(addr)) {
            plan.changes.push(change);
        }
    }

    // What the spec no longer has: state entries, then stack-tagged orphans.
    for (env, plan) in &mut envs {
        let finder = &finders[env];
        let mut deletes: Vec<ResourceChange> = Vec::new();
        let mut recorded: BTreeSet<(Kind, &str)> = BTreeSet::new();
        if let Some(state) = inputs.states.get(*env) {
            for (addr, prior) in &state.resources {
                if !inputs.destroy && spec.resources.contains_key(addr) {
                    continue;
                }
                let live = finder.by_id(prior.kind, &prior.id);
                recorded.insert((prior.kind, prior.id.as_str()));
                if live.is_none() {
                    plan.drift.push(Drift {
                        addr: addr.clone(),
                        kind: prior.kind,
                        region: prior.region.clone(),
                        id: prior.id.clone(),
                        deleted: true,
                        attrs: Vec::new(),
                    });
                }
                deletes.push(delete_change(
                    addr,
                    prior.kind,
                    &prior.region,
                    &prior.id,
                    live,
                    Reason::RemovedFromSpec,
                    prior.deps.iter().cloned().collect(),
                    prior.protect,
                    inputs,
                ));
            }
        }
        for observed in finder.unclaimed() {
            if recorded.contains(&(observed.kind, observed.id.as_str())) {
                continue;
            }
            let Some(addr) = observed
                .address_tag()
                .and_then(|a| a.parse::<InstanceAddr>().ok())
                .filter(|a| a.env == *env)
            else {
                continue;
            };
            deletes.push(delete_change(
                &addr,
                observed.kind,
                &observed.region,
                &observed.id,
                Some(observed),
                if inputs.destroy && spec.resources.contains_key(&addr) {
                    Reason::RemovedFromSpec
                } else {
                    Reason::Orphan
                },
                spec.resources
                    .get(&addr)
                    .map(|r| r.deps.iter().cloned().collect())
                    .unwrap_or_default(),
                spec.resources.get(&addr).is_some_and(|r| r.protect),
                inputs,
            ));
        }
        deletes.retain(|d| in_scope.as_ref().is_none_or(|s| s.contains(&d.addr)));
        plan.changes.extend(destroy_order(deletes));
    }

    Plan {
        format_version: PLAN_FORMAT_VERSION,
        regionctl_version: env!("CARGO_PKG_VERSION").to_owned(),
        stack: stack.to_owned(),
        spec_hash: inputs.spec_hash.clone(),
        targets: inputs.targets.clone(),
        envs: envs.into_values().collect(),
        not_refreshed: Vec::new(),
    }
}

/// The addresses a `--target` plan covers: the targets and everything they depend on. A target
/// that is no longer in the spec (to delete it) is kept as is.
fn targeted(
    spec: &Spec,
    graph: &ResourceGraph,
    targets: &[InstanceAddr],
) -> Option<BTreeSet<InstanceAddr>> {
    if targets.is_empty() {
        return None;
    }
    let mut out = BTreeSet::new();
    let mut todo: Vec<InstanceAddr> = targets.to_vec();
    while let Some(addr) = todo.pop() {
        if !out.insert(addr.clone()) {
            continue;
        }
        if spec.resources.contains_key(&addr) {
            todo.extend(graph.dependencies(&addr).into_iter().cloned());
        }
    }
    Some(out)
}

/// The addresses a `--target` destroy covers: the targets and everything that depends on them
/// (which could not survive without them).
fn dependents_of(
    graph: &ResourceGraph,
    targets: &[InstanceAddr],
) -> Option<BTreeSet<InstanceAddr>> {
    if targets.is_empty() {
        return None;
    }
    let mut out = BTreeSet::new();
    let mut todo: Vec<InstanceAddr> = targets.to_vec();
    while let Some(addr) = todo.pop() {
        if out.insert(addr.clone()) {
            todo.extend(graph.dependents(&addr).into_iter().cloned());
        }
    }
    Some(out)
}

/// The desired attributes with every reference to a resource whose after-apply value is known
/// replaced by it; references to values a create will make stay `Unknown`.
fn resolve_desired<'v>(
    attrs: impl Iterator<Item = (&'v String, &'v Value)>,
    after: &BTreeMap<InstanceAddr, After>,
) -> Attrs {
    let lookup = |r: &Reference| -> Option<Value> {
        let RefTarget::Resolved { addr } = &r.target else {
            return None;
        };
        after.get(addr)?.get(&r.attr)
    };
    attrs
        .map(|(k, v)| {
            // A function failing on a resolved value (e.g. cidrsubnet on a malformed live CIDR)
            // leaves the value unknown; apply reports the error with the resource.
            let value = if v.has_unknown() {
                resolve(v, &lookup).unwrap_or_else(|_| v.clone())
            } else {
                v.clone()
            };
            (k.clone(), value)
        })
        .collect()
}

/// What references to this resource will read after the apply.
fn after_of(change: &ResourceChange, live: Option<&Observed>) -> After {
    let desired = change.after.clone().unwrap_or_default();
    match (change.action, live) {
        (Action::NoOp | Action::Update, Some(o)) => {
            let mut attrs = o.attrs.clone();
            attrs.extend(desired.into_iter().filter(|(_, v)| !v.has_unknown()));
            let mut computed = o.computed.clone();
            // What the update will change (a launch template's new version) is known after it.
            if change.action == Action::Update {
                for c in schema(o.kind)
                    .computed
                    .iter()
                    .filter(|c| c.changes_on_update)
                {
                    computed.remove(c.name);
                }
            }
            After { computed, attrs }
        }
        _ => After {
            computed: Attrs::new(),
            attrs: desired,
        },
    }
}

/// The identity tags a live resource of a taggable kind lacks (or carries with another value).
fn missing_identity(
    kind: Kind,
    live: &Observed,
    stack: &str,
    addr: &InstanceAddr,
) -> BTreeMap<String, String> {
    if !schema(kind).taggable {
        return BTreeMap::new();
    }
    [
        (STACK_TAG, stack.to_owned()),
        (ADDRESS_TAG, addr.to_string()),
    ]
    .into_iter()
    .filter(|(k, v)| live.tags.get(*k) != Some(v))
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Compares every attribute; returns the changed names and those of them that force replacement.
fn compare_attrs(
    kind: Kind,
    desired: &Attrs,
    live: &Observed,
    prior: Option<&StateResource>,
    ignore: &[String],
) -> (Vec<String>, Vec<String>) {
    let mut changed = Vec::new();
    let mut forces = Vec::new();
    for (name, cmp) in compare::compare_all(kind, desired, &live.attrs) {
        if ignore.contains(&name) {
            continue;
        }
        let d = desired.get(&name);
        let differs = match cmp {
            AttrCmp::Same => false,
            AttrCmp::Differs | AttrCmp::Unknown => true,
            // AWS does not say: what was applied last is what it has. (Adopted resources have
            // no record, and nothing to compare with.)
            AttrCmp::NotObservable => match (d, prior.and_then(|p| p.attrs.get(&name))) {
                (Some(d), Some(p)) => !compare::same_value(kind, &name, d, p),
                (Some(Value::Null) | None, None) => false,
                (Some(_), None) | (None, Some(_)) => prior.is_some(),
            },
        };
        if differs {
            // A value AWS has that the spec changes or removes, on a field AWS lets be set once
            // (an EKS cluster's encryption_config), replaces; setting it where AWS has none
            // updates.
            let had_value = live
                .attrs
                .get(&name)
                .is_some_and(|v| !matches!(v, Value::Null));
            if schema(kind)
                .field(&name)
                .is_some_and(|f| f.force_new || (f.force_new_once_set && had_value))
            {
                forces.push(name.clone());
            }
            changed.push(name);
        }
    }
    (changed, forces)
}

/// Attributes whose live value differs from the value state says was applied.
fn drift_of(kind: Kind, prior: &StateResource, live: &Observed) -> Vec<AttrDrift> {
    // The same comparison as the plan's, so what the plan accepts (storage grown by autoscaling,
    // a version prefix) is never reported as drift either.
    let sensitive = sensitive_fields(kind);
    compare::compare_all(kind, &prior.attrs, &live.attrs)
        .into_iter()
        .filter(|(name, cmp)| {
            *cmp == AttrCmp::Differs
                && prior.attrs.contains_key(name)
                && !compare::is_write_only(kind, name)
        })
        .map(|(name, _)| AttrDrift {
            state: prior.attrs[&name].clone(),
            live: live.attrs.get(&name).cloned().unwrap_or(Value::Null),
            sensitive: sensitive.contains(&name),
            name,
        })
        .collect()
}

fn sensitive_fields(kind: Kind) -> Vec<String> {
    schema(kind)
        .fields
        .iter()
        .filter(|f| f.sensitive)
        .map(|f| f.name.to_owned())
        .collect()
}

/// Create the new resource first unless it would clash with the old one: a unique name that
/// does not change makes the old one go first.
fn replace_order(kind: Kind, forces: &[String]) -> ReplaceOrder {
    match schema(kind).natural_name {
        Some(name) if !forces.iter().any(|f| f == name) => ReplaceOrder::DestroyBeforeCreate,
        _ => ReplaceOrder::CreateBeforeDestroy,
    }
}

fn refusal(
    addr: &InstanceAddr,
    kind: Kind,
    protect: bool,
    verb: &str,
    forces: &[String],
) -> String {
    let why = if protect {
        "it is marked `protect: true`".to_owned()
    } else {
        format!("{kind} resources hold data or take long to rebuild")
    };
    let cause = if forces.is_empty() {
        String::new()
    } else {
        format!(" (because {} cannot change in place)", forces.join(", "))
    };
    format!(
        "refusing to {verb} {addr}{cause}: {why}. If this is intended, re-run with \
         `--allow-{verb} {addr}`{}",
        if protect {
            ", or remove `protect: true` first"
        } else {
            ""
        }
    )
}

fn conflict_message(addr: &InstanceAddr, kind: Kind, other: &Observed, stack: &str) -> String {
    let owner = match (other.stack_tag(), other.address_tag()) {
        (Some(s), Some(a)) if s == stack => format!("tagged as {a} of this stack"),
        (Some(s), _) => format!("owned by stack {s:?}"),
        _ => "not managed by regionctl".to_owned(),
    };
    format!(
        "cannot create {addr}: a {kind} with the same name already exists ({}, {owner}). Adopt it \
         with `regionctl import {addr} {}`, or give the resource another name",
        other.id, other.id
    )
}

#[allow(clippy::too_many_arguments)]
fn delete_change(
    addr: &InstanceAddr,
    kind: Kind,
    region: &str,
    id: &str,
    live: Option<&Observed>,
    reason: Reason,
    deps: Vec<InstanceAddr>,
    protect: bool,
    inputs: &Inputs,
) -> ResourceChange {
    let refusal = (live.is_some()
        && (protect || kind.needs_consent())
        && !allowed(&inputs.allow_destroy, addr))
    .then(|| refusal(addr, kind, protect, "destroy", &[]));
    ResourceChange {
        addr: addr.clone(),
        kind,
        region: region.to_owned(),
        action: Action::Delete,
        replace_order: None,
        reason,
        id: Some(id.to_owned()),
        before: live.map(|o| o.attrs.clone()),
        after: None,
        changed: Vec::new(),
        forces_replacement: Vec::new(),
        sensitive: sensitive_fields(kind),
        adopt: false,
        deps,
        protect,
        refusal,
    }
}

/// Deletes in an order that removes dependents before what they depend on (by the
/// dependencies state recorded), ties broken by address for a stable plan.
fn destroy_order(mut deletes: Vec<ResourceChange>) -> Vec<ResourceChange> {
    deletes.sort_by(|a, b| (&a.addr, &a.id).cmp(&(&b.addr, &b.id)));
    let mut out = Vec::with_capacity(deletes.len());
    while !deletes.is_empty() {
        // A resource may go once nothing still to delete depends on it.
        let pos = deletes
            .iter()
            .position(|d| !deletes.iter().any(|o| o.deps.contains(&d.addr)))
            .unwrap_or(0);
        out.push(deletes.remove(pos));
    }
    out
}

/// How the planner found a desired resource in AWS.
enum Found<'a> {
    /// Not in AWS.
    Missing,
    /// State had an id, AWS no longer has it, and nothing else was found.
    Gone,
    Live {
        observed: &'a Observed,
        /// Found by tag or key, not by the id in state.
        adopted: bool,
    },
    /// Something else already holds the resource's unique name.
    Conflict(&'a Observed),
}

/// Looks live resources up by id, address tag and name; remembers which were claimed, so the
/// rest can be recognised as orphans.
/// Whether an untagged zone or health check is the one `desired` describes: the same zone name,
/// or the same checked endpoint (every endpoint attribute the spec sets is equal).
fn untagged_match(kind: Kind, desired: &Attrs, o: &Observed) -> bool {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_ascii_lowercase);
    match kind {
        Kind::Route53Zone => {
            let name = |v: Option<&Value>| text(v).map(|n| compare::dns_name(&n));
            name(desired.get("name")).is_some()
                && name(desired.get("name")) == name(o.attrs.get("name"))
        }
        Kind::Route53HealthCheck => {
            let mut any = false;
            for attr in [
                "type",
                "fqdn",
                "ip_address",
                "port",
                "resource_path",
                "search_string",
            ] {
                if let Some(want) = desired.get(attr) {
                    any = true;
                    let have = o.attrs.get(attr);
                    let same = match want {
                        Value::Str(_) => text(Some(want)) == text(have),
                        _ => Some(want) == have,
                    };
                    if !same {
                        return false;
                    }
                }
            }
            any
        }
        _ => false,
    }
}

struct Finder<'a> {
    stack: &'a str,
    by_id: BTreeMap<(Kind, &'a str), &'a Observed>,
    by_tag: BTreeMap<(Kind, &'a str), Vec<&'a Observed>>,
    all: &'a [Observed],
    claimed: BTreeSet<(Kind, &'a str)>,
}

impl<'a> Finder<'a> {
    fn new(stack: &'a str, live: &'a [Observed]) -> Finder<'a> {
        let mut by_id = BTreeMap::new();
        let mut by_tag: BTreeMap<(Kind, &str), Vec<&Observed>> = BTreeMap::new();
        for o in live {
            by_id.insert((o.kind, o.id.as_str()), o);
            if o.stack_tag() == Some(stack)
                && let Some(a) = o.tags.get(ADDRESS_TAG)
            {
                by_tag.entry((o.kind, a.as_str())).or_default().push(o);
            }
        }
        Finder {
            stack,
            by_id,
            by_tag,
            all: live,
            claimed: BTreeSet::new(),
        }
    }

    fn by_id(&self, kind: Kind, id: &str) -> Option<&'a Observed> {
        self.by_id
            .get(&(kind, id))
            .copied()
            .filter(|o| !matches!(o.status, Status::Deleting(_)))
    }

    fn claim(&mut self, o: &'a Observed) -> &'a Observed {
        self.claimed.insert((o.kind, o.id.as_str()));
        o
    }

    fn find(
        &mut self,
        addr: &InstanceAddr,
        kind: Kind,
        prior: Option<&StateResource>,
        desired: &Attrs,
    ) -> Found<'a> {
        if let Some(p) = prior
            && let Some(o) = self.by_id(kind, &p.id)
        {
            return Found::Live {
                observed: self.claim(o),
                adopted: false,
            };
        }
        let text = addr.to_string();
        let tagged = self
            .by_tag
            .get(&(kind, text.as_str()))
            .and_then(|v| {
                // Several resources tagged with one address (a create retried after a crash
                // that AWS did not deduplicate): adopt the oldest-looking (first by id) that is
                // not being deleted; the others stay unclaimed and are deleted as orphans.
                v.iter()
                    .filter(|o| !matches!(o.status, Status::Deleting(_)))
                    .min_by_key(|o| o.id.as_str())
            })
            .copied();
        if let Some(o) = tagged {
            return Found::Live {
                observed: self.claim(o),
                adopted: true,
            };
        }
        if let Some(id) = natural_id(kind, desired)
            && let Some(o) = self.by_id(kind, &id)
        {
            return Found::Live {
                observed: self.claim(o),
                adopted: true,
            };
        }
        // A zone or health check a run made but could not tag before it stopped (neither takes
        // tags in its create call): the refresh keeps only those with a regionctl caller
        // reference, and one matching the spec's name or endpoint is this resource.
        if matches!(kind, Kind::Route53Zone | Kind::Route53HealthCheck)
            && let Some(o) = self.all.iter().find(|o| {
                o.kind == kind
                    && o.stack_tag().is_none()
                    && !matches!(o.status, Status::Deleting(_))
                    && !self.claimed.contains(&(o.kind, o.id.as_str()))
                    && untagged_match(kind, desired, o)
            })
        {
            return Found::Live {
                observed: self.claim(o),
                adopted: true,
            };
        }
        // Something of the same kind holds the unique name: adopting it silently could take
        // over another team's resource, so the plan refuses and says how to import it.
        if let Some(attr) = schema(kind).natural_name
            && let Some(name) = desired.get(attr).and_then(Value::as_str)
            && let Some(o) = self.all.iter().find(|o| {
                o.kind == kind
                    && !matches!(o.status, Status::Deleting(_))
                    && o.attrs.get(attr).and_then(Value::as_str) == Some(name)
                    && !self.claimed.contains(&(o.kind, o.id.as_str()))
            })
        {
            let ours_untagged = o.stack_tag().is_none() && !schema(kind).taggable;
            if ours_untagged {
                return Found::Live {
                    observed: self.claim(o),
                    adopted: true,
                };
            }
            return Found::Conflict(o);
        }
        if prior.is_some() {
            Found::Gone
        } else {
            Found::Missing
        }
    }

    /// Live resources tagged with this stack that no desired or recorded resource claimed.
    fn unclaimed(&self) -> impl Iterator<Item = &'a Observed> + '_ {
        self.all.iter().filter(|o| {
            o.stack_tag() == Some(self.stack)
                && !self.claimed.contains(&(o.kind, o.id.as_str()))
                && !matches!(o.status, Status::Deleting(_))
        })
    }
}

//! Planner tests on an in-memory project (the minimal example: a VPC, two subnets, an EKS
//! cluster) with hand-made state and live resources. The emulator tests (tests/it/plan_*.rs) show
//! the same against real API answers.

use std::collections::{BTreeMap, BTreeSet};

use super::model::*;
use super::*;
use crate::addr::InstanceAddr;
use crate::graph::ResourceGraph;
use crate::kind::Kind;
use crate::resource::{ADDRESS_TAG, Attrs, Observed, STACK_TAG, Status};
use crate::source::SourceMap;
use crate::spec::Spec;
use crate::spec::loader::{LoadOptions, MemFs};
use crate::spec::value::Value;
use crate::state::{State, StateResource};

const MAIN: &str = r#"region: eu-west-1
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
    tags: { team: core }
  subnet.a:
    vpc_id: "${vpc.main.id}"
    availability_zone: eu-west-1a
    cidr_block: 10.0.0.0/20
  subnet.b:
    vpc_id: "${vpc.main.id}"
    availability_zone: eu-west-1b
    cidr_block: 10.0.16.0/20
  eks_cluster.main:
    name: minimal
    version: "1.33"
    role_arn: arn:aws:iam::123456789012:role/eks-cluster
    subnet_ids: ["${subnet.a.id}", "${subnet.b.id}"]
"#;

fn load(main: &str) -> (Spec, ResourceGraph) {
    let fs = MemFs::new()
        .with("regionctl.yaml", "project: minimal\n")
        .with("envs/eu-west-1/main.yaml", main);
    let mut sources = SourceMap::new();
    let (spec, diags) = crate::spec::load(&fs, &LoadOptions::all("."), &mut sources);
    assert!(!diags.has_errors(), "{:?}", diags.into_sorted());
    let spec = spec.expect("valid");
    let graph = ResourceGraph::build(&spec).expect("acyclic");
    (spec, graph)
}

fn addr(s: &str) -> InstanceAddr {
    s.parse().expect("valid address")
}

fn id_of(a: &str) -> String {
    format!("id-{}", a.rsplit('.').next().unwrap_or(a))
}

/// What AWS would report for a resource created exactly as the spec says: desired attributes
/// with references resolved from the other ids, and the regionctl tags.
fn world(spec: &Spec) -> (Vec<Observed>, State) {
    let mut live = Vec::new();
    let mut state = State::new("minimal", "eu-west-1");
    for (a, r) in &spec.resources {
        let lookup = |reference: &crate::spec::value::Reference| match &reference.target {
            crate::spec::value::RefTarget::Resolved { addr } if reference.attr == "id" => {
                Some(Value::Str(id_of(&addr.to_string())))
            }
            _ => None,
        };
        let attrs: Attrs = r
            .attrs
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    crate::spec::expr::resolve(v, &lookup).expect("resolves"),
                )
            })
            .collect();
        let id = id_of(&a.to_string());
        let o = Observed {
            kind: r.kind,
            region: "eu-west-1".into(),
            id: id.clone(),
            attrs: attrs.clone(),
            computed: [("id".to_owned(), Value::Str(id.clone()))]
                .into_iter()
                .collect(),
            tags: [
                (STACK_TAG.to_owned(), "minimal".to_owned()),
                (ADDRESS_TAG.to_owned(), a.to_string()),
            ]
            .into_iter()
            .collect(),
            status: Status::Ready,
        };
        state.resources.insert(
            a.clone(),
            StateResource::applied(&o, attrs, r.deps.clone(), r.protect),
        );
        live.push(o);
    }
    state.serial = 3;
    (live, state)
}

fn inputs(live: Vec<Observed>, state: Option<State>) -> Inputs {
    Inputs {
        spec_hash: "h".into(),
        states: state
            .map(|s| BTreeMap::from([("eu-west-1".to_owned(), s)]))
            .unwrap_or_default(),
        live: BTreeMap::from([("eu-west-1".to_owned(), live)]),
        ..Inputs::default()
    }
}

fn actions(plan: &Plan) -> Vec<(String, Action)> {
    plan.changes()
        .map(|c| (c.addr.to_string(), c.action))
        .collect()
}

fn change<'p>(plan: &'p Plan, a: &str) -> &'p ResourceChange {
    plan.changes()
        .find(|c| c.addr.to_string() == a)
        .unwrap_or_else(|| panic!("{a} not in plan: {:?}", actions(plan)))
}

#[test]
fn empty_account_creates_everything_dependencies_first() {
    let (spec, graph) = load(MAIN);
    let plan = diff(&spec, &graph, &inputs(Vec::new(), None));
    let order: Vec<String> = actions(&plan).into_iter().map(|(a, _)| a).collect();
    assert_eq!(order[0], "eu-west-1/vpc.main");
    assert_eq!(order[3], "eu-west-1/eks_cluster.main");
    assert!(
        plan.changes()
            .all(|c| c.action == Action::Create && c.reason == Reason::NotInAws)
    );
    let subnet = change(&plan, "eu-west-1/subnet.a");
    let after = subnet.after.as_ref().expect("after");
    assert!(after["vpc_id"].has_unknown(), "{after:?}");
    assert_eq!(after["cidr_block"], Value::Str("10.0.0.0/20".into()));
    assert_eq!(plan.summary().create, 4);
    assert!(plan.summary().has_changes());
    assert_eq!(plan.envs[0].prior_state, None);
}

#[test]
fn matching_world_plans_no_changes_and_resolves_references_from_live_ids() {
    let (spec, graph) = load(MAIN);
    let (live, state) = world(&spec);
    let plan = diff(&spec, &graph, &inputs(live, Some(state.clone())));
    assert!(
        plan.changes().all(|c| c.action == Action::NoOp),
        "{:?}",
        actions(&plan)
    );
    assert!(!plan.summary().has_changes());
    assert!(plan.envs[0].drift.is_empty());
    let subnet = change(&plan, "eu-west-1/subnet.a");
    assert_eq!(
        subnet.after.as_ref().expect("after")["vpc_id"],
        Value::Str("id-main".into())
    );
    assert_eq!(
        plan.envs[0].prior_state,
        Some(StateRef {
            lineage: state.lineage,
            serial: 3
        })
    );
}

#[test]
fn tagged_resources_without_state_are_adopted_not_created() {
    let (spec, graph) = load(MAIN);
    let (live, _) = world(&spec);
    let plan = diff(&spec, &graph, &inputs(live, None));
    assert!(plan.changes().all(|c| c.action == Action::NoOp && c.adopt));
    assert_eq!(plan.summary().adopt, 4);
    assert!(plan.summary().has_changes(), "adopting writes state");
}

#[test]
fn a_tag_changed_behind_our_back_is_drift_and_an_update() {
    let (spec, graph) = load(MAIN);
    let (mut live, state) = world(&spec);
    let vpc = live.iter_mut().find(|o| o.kind == Kind::Vpc).expect("vpc");
    vpc.attrs.insert(
        "tags".into(),
        Value::Map(BTreeMap::from([(
            "team".into(),
            Value::Str("intruder".into()),
        )])),
    );
    let plan = diff(&spec, &graph, &inputs(live, Some(state)));
    let drift = &plan.envs[0].drift;
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(drift[0].addr.to_string(), "eu-west-1/vpc.main");
    assert_eq!(drift[0].attrs[0].name, "tags");
    let vpc = change(&plan, "eu-west-1/vpc.main");
    assert_eq!(vpc.action, Action::Update);
    assert_eq!(vpc.changed, ["tags"]);
    assert_eq!(plan.summary().update, 1);
}

#[test]
fn a_subnet_deleted_outside_is_drift_and_a_create() {
    let (spec, graph) = load(MAIN);
    let (mut live, state) = world(&spec);
    live.retain(|o| o.id != "id-a");
    let plan = diff(&spec, &graph, &inputs(live, Some(state)));
    let subnet = change(&plan, "eu-west-1/subnet.a");
    assert_eq!(subnet.action, Action::Create);
    assert_eq!(subnet.reason, Reason::DeletedOutside);
    assert!(
        plan.envs[0]
            .drift
            .iter()
            .any(|d| d.deleted && d.id == "id-a")
    );
    // The cluster's subnet list now holds an unknown id, and subnet_ids forces replacement:
    // which is refused for an EKS cluster unless allowed.
    let cluster = change(&plan, "eu-west-1/eks_cluster.main");
    assert_eq!(cluster.action, Action::Replace);
    assert_eq!(cluster.forces_replacement, ["subnet_ids"]);
    let refusal = cluster.refusal.as_deref().expect("refused");
    assert!(
        refusal.contains("--allow-replace eu-west-1/eks_cluster.main"),
        "{refusal}"
    );
}

#[test]
fn replacing_a_cluster_is_refused_unless_allowed() {
    let (spec, graph) = load(MAIN);
    let (live, state) = world(&spec);
    let (renamed, _) = load(&MAIN.replace("name: minimal", "name: minimal-2"));
    let plan = diff(&renamed, &graph, &inputs(live.clone(), Some(state.clone())));
    let cluster = change(&plan, "eu-west-1/eks_cluster.main");
    assert_eq!(cluster.action, Action::Replace);
    assert_eq!(
        cluster.replace_order,
        Some(ReplaceOrder::CreateBeforeDestroy)
    );
    assert!(cluster.refusal.is_some());
    assert_eq!(plan.summary().refused, 1);

    let mut allowed = inputs(live, Some(state));
    allowed.allow_replace = vec!["eu-west-1/eks_*".to_owned()];
    let plan = diff(&renamed, &graph, &allowed);
    assert_eq!(change(&plan, "eu-west-1/eks_cluster.main").refusal, None);
    let _ = spec;
}

#[test]
fn removed_resources_are_deleted_dependents_first_and_orphans_too() {
    let (full, _) = load(MAIN);
    let (live, mut state) = world(&full);
    // An orphan: tagged with this stack and an address of this env, in neither spec nor state.
    let mut orphan = live[0].clone();
    orphan.id = "id-orphan".into();
    orphan.kind = Kind::Subnet;
    orphan
        .tags
        .insert(ADDRESS_TAG.into(), "eu-west-1/subnet.old".into());
    let mut live = live;
    live.push(orphan);
    // Someone else's subnet: not ours, never touched.
    let mut foreign = live[0].clone();
    foreign.id = "id-foreign".into();
    foreign.tags.insert(STACK_TAG.into(), "other".into());
    live.push(foreign);
    state.resources.values_mut().for_each(|r| r.protect = false);

    let (only_vpc, graph) = load(
        "region: eu-west-1\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n    tags: { team: core }\n",
    );
    let plan = diff(&only_vpc, &graph, &inputs(live, Some(state)));
    let acts = actions(&plan);
    let deletes: Vec<&str> = acts
        .iter()
        .filter(|(_, a)| *a == Action::Delete)
        .map(|(a, _)| a.as_str())
        .collect();
    let pos = |a: &str| deletes.iter().position(|d| *d == a).expect(a);
    assert_eq!(deletes.len(), 4, "{acts:?}");
    assert!(pos("eu-west-1/eks_cluster.main") < pos("eu-west-1/subnet.a"));
    assert!(pos("eu-west-1/eks_cluster.main") < pos("eu-west-1/subnet.b"));
    let orphan = change(&plan, "eu-west-1/subnet.old");
    assert_eq!(orphan.reason, Reason::Orphan);
    assert!(
        plan.changes()
            .all(|c| c.id.as_deref() != Some("id-foreign"))
    );
    let cluster = change(&plan, "eu-west-1/eks_cluster.main");
    assert!(
        cluster
            .refusal
            .as_deref()
            .is_some_and(|r| r.contains("--allow-destroy"))
    );
    assert_eq!(change(&plan, "eu-west-1/vpc.main").action, Action::NoOp);
}

#[test]
fn protect_refuses_a_delete() {
    let main = MAIN.replace("  vpc.main:\n", "  vpc.main:\n    protect: true\n");
    let (spec, _) = load(&main);
    let (live, state) = world(&spec);
    assert!(state.resources[&addr("eu-west-1/vpc.main")].protect);
    let (empty, graph) = load("region: eu-west-1\nresources: {}\n");
    let plan = diff(&empty, &graph, &inputs(live, Some(state)));
    let vpc = change(&plan, "eu-west-1/vpc.main");
    assert_eq!(vpc.action, Action::Delete);
    assert!(
        vpc.refusal
            .as_deref()
            .is_some_and(|r| r.contains("protect")),
        "{vpc:?}"
    );
}

#[test]
fn targets_limit_the_plan_to_them_and_their_dependencies() {
    let (spec, graph) = load(MAIN);
    let mut i = inputs(Vec::new(), None);
    i.targets = vec![addr("eu-west-1/subnet.a")];
    let plan = diff(&spec, &graph, &i);
    let got: BTreeSet<String> = actions(&plan).into_iter().map(|(a, _)| a).collect();
    assert_eq!(
        got,
        BTreeSet::from([
            "eu-west-1/vpc.main".to_owned(),
            "eu-west-1/subnet.a".to_owned()
        ])
    );
}

#[test]
fn a_failed_resource_is_replaced() {
    let (spec, graph) = load(MAIN);
    let (mut live, state) = world(&spec);
    for o in &mut live {
        if o.kind == Kind::Subnet {
            o.status = Status::Failed("failed".into());
        }
    }
    let plan = diff(&spec, &graph, &inputs(live, Some(state)));
    let s = change(&plan, "eu-west-1/subnet.a");
    assert_eq!(s.action, Action::Replace);
    assert_eq!(s.reason, Reason::Failed("failed".into()));
}

#[test]
fn plans_round_trip_through_json_keeping_unknowns() {
    let (spec, graph) = load(MAIN);
    let plan = diff(&spec, &graph, &inputs(Vec::new(), None));
    let text = serde_json::to_string(&plan).expect("serialises");
    let back: Plan = serde_json::from_str(&text).expect("parses");
    let after = change(&back, "eu-west-1/subnet.a")
        .after
        .clone()
        .expect("after");
    assert!(after["vpc_id"].has_unknown());
    assert_eq!(back.summary(), plan.summary());
}

#[test]
fn destroy_deletes_everything_dependents_first_and_refuses_the_cluster() {
    let (spec, graph) = load(MAIN);
    let (live, state) = world(&spec);
    let mut i = inputs(live, Some(state));
    i.destroy = true;
    let plan = diff(&spec, &graph, &i);
    let order: Vec<String> = actions(&plan).into_iter().map(|(a, _)| a).collect();
    assert!(
        plan.changes().all(|c| c.action == Action::Delete),
        "{order:?}"
    );
    assert_eq!(order.len(), 4);
    assert_eq!(order[0], "eu-west-1/eks_cluster.main");
    assert_eq!(order[3], "eu-west-1/vpc.main");
    assert_eq!(plan.summary().refused, 1);
    i.allow_destroy = vec!["*".to_owned()];
    assert_eq!(diff(&spec, &graph, &i).summary().refused, 0);
}

#[test]
fn allow_patterns_match_with_stars() {
    let a = addr("eu-west-1/module.platform.eks_cluster.main");
    assert!(allowed(&["eu-west-1/*".into()], &a));
    assert!(allowed(&["*eks_cluster*".into()], &a));
    assert!(allowed(&[a.to_string()], &a));
    assert!(!allowed(&["us-east-1/*".into()], &a));
    assert!(!allowed(
        &["eu-west-1/module.platform.eks_cluster".into()],
        &a
    ));
}

#[test]
fn resources_in_state_without_identity_tags_get_them_in_place() {
    // Imported or adopted from Terraform: in state by id, but never tagged by regionctl.
    let (spec, graph) = load(MAIN);
    let (mut live, state) = world(&spec);
    for o in &mut live {
        o.tags.clear();
        if o.kind == Kind::Vpc {
            o.tags.insert("team".into(), "core".into());
        }
    }
    let plan = diff(&spec, &graph, &inputs(live, Some(state)));
    for c in plan.changes() {
        assert_eq!(c.action, Action::Update, "{}", c.addr);
        assert_eq!(c.changed, ["tags"], "{}", c.addr);
        assert!(c.forces_replacement.is_empty(), "{}", c.addr);
        let Some(Value::Map(tags)) = c.after.as_ref().and_then(|a| a.get("tags")) else {
            panic!("{}: no tags after", c.addr);
        };
        assert_eq!(
            tags.get(ADDRESS_TAG),
            Some(&Value::Str(c.addr.to_string())),
            "{}",
            c.addr
        );
    }
    let vpc = change(&plan, "eu-west-1/vpc.main");
    let Some(Value::Map(tags)) = vpc.after.as_ref().and_then(|a| a.get("tags")) else {
        panic!("no tags");
    };
    assert_eq!(tags.get("team"), Some(&Value::Str("core".into())));
    assert_eq!(tags.get(STACK_TAG), Some(&Value::Str("minimal".into())));
    // Tagged as the spec says: nothing to do.
    let (live, state) = world(&spec);
    let plan = diff(&spec, &graph, &inputs(live, Some(state)));
    assert!(plan.changes().all(|c| c.action == Action::NoOp));
}

const NODES: &str = r#"  launch_template.nodes:
    name: nodes
    http_tokens: required
    http_put_response_hop_limit: HOPS
  eks_node_group.default:
    cluster_name: "${eks_cluster.main.name}"
    name: default
    node_role_arn: arn:aws:iam::123456789012:role/eks-node
    subnet_ids: ["${subnet.a.id}", "${subnet.b.id}"]
    launch_template_id: "${launch_template.nodes.id}"
    launch_template_version: "${launch_template.nodes.latest_version}"
    scaling: { min: 1, desired: 2, max: 3 }
"#;

/// The minimal project with a node group on a launch template, and a world where both exist as
/// the spec with `hops: 2` says, the template at version 1.
fn node_world(hops: u32) -> (Spec, ResourceGraph, Vec<Observed>, State) {
    let (base, _) = load(&format!("{MAIN}{}", NODES.replace("HOPS", "2")));
    let (mut live, state) = world(&base);
    for o in &mut live {
        match o.kind {
            Kind::LaunchTemplate => {
                o.computed
                    .insert("latest_version".into(), Value::Str("1".into()));
            }
            Kind::EksNodeGroup => {
                o.attrs
                    .insert("cluster_name".into(), Value::Str("minimal".into()));
                o.attrs
                    .insert("launch_template_version".into(), Value::Str("1".into()));
            }
            _ => {}
        }
    }
    let (spec, graph) = load(&format!(
        "{MAIN}{}",
        NODES.replace("HOPS", &hops.to_string())
    ));
    (spec, graph, live, state)
}

#[test]
fn a_launch_template_change_rolls_its_node_group_in_the_same_apply() {
    let (spec, graph, live, state) = node_world(2);
    let plan = diff(&spec, &graph, &inputs(live, Some(state)));
    assert_eq!(
        change(&plan, "eu-west-1/eks_node_group.default").action,
        Action::NoOp,
        "{:?}",
        actions(&plan)
    );
    assert_eq!(
        change(&plan, "eu-west-1/launch_template.nodes").action,
        Action::NoOp
    );

    // A new template version is made by the update: the node group's version is known only
    // after it, so the node group is updated in the same plan, not the next one.
    let (spec, graph, live, state) = node_world(1);
    let plan = diff(&spec, &graph, &inputs(live, Some(state)));
    assert_eq!(
        change(&plan, "eu-west-1/launch_template.nodes").action,
        Action::Update
    );
    let group = change(&plan, "eu-west-1/eks_node_group.default");
    assert_eq!(group.action, Action::Update, "{:?}", actions(&plan));
    assert!(
        group
            .after
            .as_ref()
            .and_then(|a| a.get("launch_template_version"))
            .is_some_and(Value::has_unknown)
    );
}

/// An EKS cluster's secrets encryption is added in place, but a key AWS has is never changed
/// or removed in place (AssociateEncryptionConfig only adds): those replace the cluster.
#[test]
fn cluster_encryption_is_added_in_place_and_replaced_once_set() {
    let key = |id: &str| format!("arn:aws:kms:eu-west-1:123456789012:key/{id}");
    let with_key = MAIN.replace(
        "    subnet_ids: [\"${subnet.a.id}\", \"${subnet.b.id}\"]\n",
        &format!(
            "    subnet_ids: [\"${{subnet.a.id}}\", \"${{subnet.b.id}}\"]\n    encryption_config: {{ key_arn: \"{}\" }}\n",
            key("1111")
        ),
    );
    assert_ne!(with_key, MAIN);
    let set_key = |live: &mut Vec<Observed>, value: Option<&str>| {
        for o in live.iter_mut().filter(|o| o.kind == Kind::EksCluster) {
            match value {
                Some(k) => {
                    o.attrs.insert(
                        "encryption_config".into(),
                        Value::Map(BTreeMap::from([(
                            "key_arn".to_owned(),
                            Value::Str(k.into()),
                        )])),
                    );
                }
                None => {
                    o.attrs.remove("encryption_config");
                }
            }
        }
    };
    let cluster = "eu-west-1/eks_cluster.main";

    let (spec, graph) = load(&with_key);
    let (mut live, _) = world(&spec);
    assert_eq!(
        change(&diff(&spec, &graph, &inputs(live.clone(), None)), cluster).action,
        Action::NoOp
    );
    // Added to a cluster without encryption: an update.
    set_key(&mut live, None);
    let c = change(&diff(&spec, &graph, &inputs(live.clone(), None)), cluster).clone();
    assert_eq!(c.action, Action::Update);
    assert!(c.forces_replacement.is_empty());
    // Another key: a replacement.
    set_key(&mut live, Some(&key("2222")));
    let c = change(&diff(&spec, &graph, &inputs(live.clone(), None)), cluster).clone();
    assert_eq!(c.action, Action::Replace);
    assert_eq!(c.forces_replacement, vec!["encryption_config".to_owned()]);
    // Removed from the spec: a replacement too.
    let (spec, graph) = load(MAIN);
    set_key(&mut live, Some(&key("1111")));
    let c = change(&diff(&spec, &graph, &inputs(live, None)), cluster).clone();
    assert_eq!(c.action, Action::Replace);
    assert_eq!(c.forces_replacement, vec!["encryption_config".to_owned()]);
}

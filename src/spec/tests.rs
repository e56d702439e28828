//! Expansion tests through `spec::load` on in-memory projects (modules, `for_each`, references
//! inside and across environments, variables, default tags, selection, diagnostics), and property
//! tests that the YAML parser and the whole loader never panic on mangled input.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use proptest::prelude::*;

use super::loader::{LoadOptions, MemFs, Selection};
use super::value::{RefTarget, Value};
use super::{Spec, load, yaml};
use crate::addr::{InstanceAddr, InstanceKey};
use crate::diag::{Diagnostic, Severity};
use crate::source::{FileId, SourceMap};

// ------------------------------------------------------------------------------------- helpers

const PROJECT: &str = "project: test\n";

fn opts() -> LoadOptions {
    LoadOptions::all(".")
}

fn memfs(files: &[(&str, &str)]) -> MemFs {
    files
        .iter()
        .fold(MemFs::new(), |fs, (path, text)| fs.with(path, text))
}

/// Loads an in-memory project; diagnostics come back sorted and deduplicated.
fn load_with(
    files: &[(&str, &str)],
    opts: &LoadOptions,
) -> (Option<Spec>, Vec<Diagnostic>, SourceMap) {
    let fs = memfs(files);
    let mut sources = SourceMap::new();
    let (spec, d) = load(&fs, opts, &mut sources);
    (spec, d.into_sorted(), sources)
}

fn errors(diags: &[Diagnostic]) -> Vec<&Diagnostic> {
    diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

fn describe(diags: &[Diagnostic], sources: &SourceMap) -> String {
    diags
        .iter()
        .map(|d| {
            let at = d
                .primary_span()
                .map(|s| sources.location(s))
                .unwrap_or_default();
            format!("{at}: {} {}", d.code, d.message)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Loads a project that must have no error diagnostics.
fn load_ok_with(files: &[(&str, &str)], opts: &LoadOptions) -> Spec {
    let (spec, diags, sources) = load_with(files, opts);
    assert!(
        errors(&diags).is_empty(),
        "unexpected errors:\n{}",
        describe(&diags, &sources)
    );
    spec.expect("a project without errors gives a spec")
}

fn load_ok(files: &[(&str, &str)]) -> Spec {
    load_ok_with(files, &opts())
}

fn addr(s: &str) -> InstanceAddr {
    s.parse()
        .unwrap_or_else(|e| panic!("test address {s:?} should parse: {e}"))
}

fn addrs(list: &[&str]) -> BTreeSet<InstanceAddr> {
    list.iter().map(|s| addr(s)).collect()
}

fn resource<'s>(spec: &'s Spec, a: &str) -> &'s super::Resource {
    spec.resources.get(&addr(a)).unwrap_or_else(|| {
        let known: Vec<String> = spec.resources.keys().map(ToString::to_string).collect();
        panic!("no resource {a}; the spec has:\n{}", known.join("\n"))
    })
}

fn attr<'s>(spec: &'s Spec, a: &str, name: &str) -> &'s Value {
    resource(spec, a)
        .attrs
        .get(name)
        .unwrap_or_else(|| panic!("{a} has no attribute `{name}`"))
}

fn str_attr<'s>(spec: &'s Spec, a: &str, name: &str) -> &'s str {
    attr(spec, a, name).as_str().unwrap_or_else(|| {
        panic!(
            "{a}.{name} should be a known string, is {:?}",
            attr(spec, a, name)
        )
    })
}

fn tags(spec: &Spec, a: &str) -> BTreeMap<String, String> {
    match attr(spec, a, "tags") {
        Value::Map(m) => m
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect(),
        other => panic!("{a}.tags should be a map, is {other:?}"),
    }
}

/// The resolved instance addresses a value refers to (panics on an unresolved reference).
fn resolved_refs(v: &Value) -> Vec<InstanceAddr> {
    v.references()
        .into_iter()
        .map(|r| match &r.target {
            RefTarget::Resolved { addr } => addr.clone(),
            RefTarget::Unresolved { .. } => panic!("reference {r} was left unresolved"),
        })
        .collect()
}

const NETWORK_MODULE: &str = r#"
inputs:
  name: string
  cidr: cidr
  azs: { type: list(string), default: [] }
resources:
  vpc.main:
    cidr_block: "${input.cidr}"
    tags: { Name: "${input.name}" }
  subnet.private:
    for_each: "${input.azs}"
    vpc_id: "${vpc.main.id}"
    availability_zone: "${each.value}"
    cidr_block: "${cidrsubnet(input.cidr, 4, each.index + 8)}"
outputs:
  vpc_id: "${vpc.main.id}"
  subnet_ids: "${subnet.private[*].id}"
"#;

// ------------------------------------------------------------------------------------- modules

#[test]
fn module_used_by_two_regions_gives_distinct_instances() {
    let call = |name: &str, cidr: &str| {
        format!(
            "    platform:\n      source: ../../modules/network\n      inputs:\n        name: {name}\n        cidr: {cidr}\n"
        )
    };
    let euw1 = format!(
        "region: eu-west-1\nmodules:\n{}",
        call("prod-euw1", "10.20.0.0/16")
    );
    let use1 = format!(
        "region: us-east-1\nmodules:\n{}",
        call("prod-use1", "10.10.0.0/16")
    );
    let spec = load_ok(&[
        ("regionctl.yaml", PROJECT),
        ("modules/network/module.yaml", NETWORK_MODULE),
        ("envs/eu-west-1/main.yaml", &euw1),
        ("envs/us-east-1/main.yaml", &use1),
    ]);
    let keys: BTreeSet<InstanceAddr> = spec.resources.keys().cloned().collect();
    assert_eq!(
        keys,
        addrs(&[
            "eu-west-1/module.platform.vpc.main",
            "us-east-1/module.platform.vpc.main"
        ])
    );
    assert_eq!(
        str_attr(&spec, "eu-west-1/module.platform.vpc.main", "cidr_block"),
        "10.20.0.0/16"
    );
    assert_eq!(
        str_attr(&spec, "us-east-1/module.platform.vpc.main", "cidr_block"),
        "10.10.0.0/16"
    );
    assert_eq!(
        tags(&spec, "eu-west-1/module.platform.vpc.main")["Name"],
        "prod-euw1"
    );
    assert_eq!(
        tags(&spec, "us-east-1/module.platform.vpc.main")["Name"],
        "prod-use1"
    );
    assert_eq!(
        resource(&spec, "eu-west-1/module.platform.vpc.main")
            .region
            .as_deref(),
        Some("eu-west-1")
    );
    assert_eq!(
        resource(&spec, "us-east-1/module.platform.vpc.main")
            .region
            .as_deref(),
        Some("us-east-1")
    );
}

#[test]
fn nested_modules_nest_addresses() {
    let spec = load_ok(&[
        ("regionctl.yaml", PROJECT),
        (
            "modules/a/module.yaml",
            "inputs:\n  cidr: cidr\nmodules:\n  b:\n    source: ../b\n    inputs:\n      cidr: \"${input.cidr}\"\noutputs:\n  id: \"${module.b.id}\"\n",
        ),
        (
            "modules/b/module.yaml",
            "inputs:\n  cidr: cidr\nresources:\n  vpc.x:\n    cidr_block: \"${input.cidr}\"\noutputs:\n  id: \"${vpc.x.id}\"\n",
        ),
        (
            "envs/eu-west-1/main.yaml",
            "region: eu-west-1\nmodules:\n  a:\n    source: ../../modules/a\n    inputs:\n      cidr: 10.0.0.0/16\noutputs:\n  vpc: \"${module.a.id}\"\n",
        ),
    ]);
    let keys: BTreeSet<InstanceAddr> = spec.resources.keys().cloned().collect();
    assert_eq!(keys, addrs(&["eu-west-1/module.a.module.b.vpc.x"]));
    assert_eq!(
        str_attr(&spec, "eu-west-1/module.a.module.b.vpc.x", "cidr_block"),
        "10.0.0.0/16"
    );
    // The output passed up two levels still refers to the nested instance.
    let out = &spec.envs["eu-west-1"].outputs["vpc"];
    assert_eq!(
        resolved_refs(out),
        vec![addr("eu-west-1/module.a.module.b.vpc.x")]
    );
}

#[test]
fn module_outputs_feed_another_module_in_the_same_env() {
    // `eks` is listed first but reads `module.net.vpc_id`, so `net` must be instantiated first.
    let spec = load_ok(&[
        ("regionctl.yaml", PROJECT),
        ("modules/network/module.yaml", NETWORK_MODULE),
        (
            "modules/eks/module.yaml",
            "inputs:\n  vpc_id: string\nresources:\n  security_group.node:\n    name: node\n    vpc_id: \"${input.vpc_id}\"\n",
        ),
        (
            "envs/eu-west-1/main.yaml",
            r#"region: eu-west-1
modules:
  eks:
    source: ../../modules/eks
    inputs:
      vpc_id: "${module.net.vpc_id}"
  net:
    source: ../../modules/network
    inputs: { name: n, cidr: 10.0.0.0/16 }
"#,
        ),
    ]);
    let sg = resource(&spec, "eu-west-1/module.eks.security_group.node");
    assert_eq!(
        resolved_refs(&sg.attrs["vpc_id"]),
        vec![addr("eu-west-1/module.net.vpc.main")]
    );
    assert_eq!(sg.deps, addrs(&["eu-west-1/module.net.vpc.main"]));
}

// ------------------------------------------------------------------------------------ for_each

#[test]
fn for_each_over_strings_keys_by_string_and_counts_index() {
    let spec = load_ok(&[
        ("regionctl.yaml", PROJECT),
        (
            "envs/eu-west-1/main.yaml",
            r#"region: eu-west-1
resources:
  vpc.main:
    cidr_block: 10.20.0.0/16
  subnet.private:
    for_each: [eu-west-1a, eu-west-1b, eu-west-1c]
    vpc_id: "${vpc.main.id}"
    availability_zone: "${each.value}"
    cidr_block: "${cidrsubnet(vpc.main.cidr_block, 4, each.index)}"
    tags:
      Key: "${each.key}"
      Index: "i${each.index}"
"#,
        ),
    ]);
    let azs = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
    let subnets: Vec<&super::Resource> = spec
        .resources
        .values()
        .filter(|r| r.kind == crate::kind::Kind::Subnet)
        .collect();
    assert_eq!(subnets.len(), 3);
    for (i, az) in azs.iter().enumerate() {
        let a = format!("eu-west-1/subnet.private[\"{az}\"]");
        let r = resource(&spec, &a);
        assert_eq!(r.addr.key, Some(InstanceKey::Str((*az).to_string())));
        assert_eq!(str_attr(&spec, &a, "availability_zone"), *az);
        let t = tags(&spec, &a);
        assert_eq!(t["Key"], *az);
        assert_eq!(t["Index"], format!("i{i}"));
    }
}

#[test]
fn for_each_over_a_map_gives_key_value_and_sorted_index() {
    let spec = load_ok(&[
        ("regionctl.yaml", PROJECT),
        (
            "envs/eu-west-1/main.yaml",
            r#"region: eu-west-1
resources:
  security_group.sg:
    for_each: { web: "80", db: "5432", cache: "6379" }
    name: "${each.key}-${each.value}"
    vpc_id: vpc-123
    tags: { Index: "${each.index}" }
"#,
        ),
    ]);
    // Keys in sorted order: cache, db, web.
    for (i, (key, port)) in [("cache", "6379"), ("db", "5432"), ("web", "80")]
        .iter()
        .enumerate()
    {
        let a = format!("eu-west-1/security_group.sg[\"{key}\"]");
        assert_eq!(
            resource(&spec, &a).addr.key,
            Some(InstanceKey::Str((*key).to_string()))
        );
        assert_eq!(str_attr(&spec, &a, "name"), format!("{key}-{port}"));
        assert_eq!(tags(&spec, &a)["Index"], i.to_string());
    }
    assert_eq!(spec.resources.len(), 3);
}

#[test]
fn cidrsubnet_with_each_index() {
    let spec = load_ok(&[
        ("regionctl.yaml", PROJECT),
        ("modules/network/module.yaml", NETWORK_MODULE),
        (
            "envs/eu-west-1/main.yaml",
            r#"region: eu-west-1
modules:
  net:
    source: ../../modules/network
    inputs: { name: n, cidr: 10.20.0.0/16, azs: [eu-west-1a, eu-west-1b, eu-west-1c] }
"#,
        ),
    ]);
    // cidrsubnet(10.20.0.0/16, 4, index + 8): the /20s number 8, 9 and 10.
    for (az, cidr) in [
        ("eu-west-1a", "10.20.128.0/20"),
        ("eu-west-1b", "10.20.144.0/20"),
        ("eu-west-1c", "10.20.160.0/20"),
    ] {
        assert_eq!(
            str_attr(
                &spec,
                &format!("eu-west-1/module.net.subnet.private[\"{az}\"]"),
                "cidr_block"
            ),
            cidr,
            "{az}"
        );
    }
}

// ---------------------------------------------------------------------------------- references

const SUBNETS_ENV: &str = r#"region: eu-west-1
variables:
  azs: [eu-west-1a, eu-west-1b, eu-west-1c]
resources:
  vpc.main:
    cidr_block: 10.20.0.0/16
  subnet.private:
    for_each: "${var.azs}"
    vpc_id: "${vpc.main.id}"
    availability_zone: "${each.value}"
    cidr_block: "${cidrsubnet(vpc.main.cidr_block, 4, each.index)}"
"#;

#[test]
fn splat_in_module_input_resolves_to_every_instance() {
    let env = format!(
        "{SUBNETS_ENV}modules:\n  db:\n    source: ../../modules/db\n    inputs:\n      subnet_ids: \"${{subnet.private[*].id}}\"\n"
    );
    let spec = load_ok(&[
        ("regionctl.yaml", PROJECT),
        (
            "modules/db/module.yaml",
            "inputs:\n  subnet_ids: list(string)\nresources:\n  db_subnet_group.app:\n    name: app\n    subnet_ids: \"${input.subnet_ids}\"\n",
        ),
        ("envs/eu-west-1/main.yaml", &env),
    ]);
    let expected = [
        "eu-west-1/subnet.private[\"eu-west-1a\"]",
        "eu-west-1/subnet.private[\"eu-west-1b\"]",
        "eu-west-1/subnet.private[\"eu-west-1c\"]",
    ];
    let group = resource(&spec, "eu-west-1/module.db.db_subnet_group.app");
    let Value::List(items) = &group.attrs["subnet_ids"] else {
        panic!(
            "subnet_ids should stay a list, is {:?}",
            group.attrs["subnet_ids"]
        );
    };
    assert_eq!(items.len(), 3);
    for (item, want) in items.iter().zip(expected) {
        // Each element is one reference, linked (in key order) to one instance.
        let refs = item.references();
        assert_eq!(refs.len(), 1, "{item:?}");
        assert_eq!(refs[0].attr, "id");
        assert_eq!(resolved_refs(item), vec![addr(want)]);
    }
    assert_eq!(group.deps, addrs(&expected));
}

#[test]
fn indexed_reference_depends_on_exactly_that_instance() {
    let env = format!(
        "{SUBNETS_ENV}  nat_gateway.main:\n    subnet_id: \"${{subnet.private[\\\"eu-west-1b\\\"].id}}\"\n"
    );
    let spec = load_ok(&[
        ("regionctl.yaml", PROJECT),
        ("envs/eu-west-1/main.yaml", &env),
    ]);
    let nat = resource(&spec, "eu-west-1/nat_gateway.main");
    assert_eq!(
        nat.deps,
        addrs(&["eu-west-1/subnet.private[\"eu-west-1b\"]"])
    );
    assert!(nat.explicit_deps.is_empty());
}

const GLOBAL_IAM: &str = r#"global: true
resources:
  iam_role.x:
    name: x
    assume_role_policy: { Version: "2012-10-17", Statement: [] }
"#;

#[test]
fn cross_env_reference_to_global_role() {
    let spec = load_ok(&[
        ("regionctl.yaml", PROJECT),
        ("envs/global/iam.yaml", GLOBAL_IAM),
        (
            "envs/eu-west-1/main.yaml",
            r#"region: eu-west-1
resources:
  eks_cluster.main:
    name: main
    role_arn: "${env.global.iam_role.x.arn}"
    subnet_ids: [subnet-1, subnet-2]
"#,
        ),
    ]);
    let cluster = resource(&spec, "eu-west-1/eks_cluster.main");
    assert_eq!(cluster.deps, addrs(&["global/iam_role.x"]));
    assert_eq!(
        resolved_refs(&cluster.attrs["role_arn"]),
        vec![addr("global/iam_role.x")]
    );
    assert_eq!(resource(&spec, "global/iam_role.x").region, None);
}

#[test]
fn cross_env_module_output() {
    // eu-west-1 sorts before us-east-1, so the module input forces a different env order.
    let spec = load_ok(&[
        ("regionctl.yaml", PROJECT),
        ("modules/network/module.yaml", NETWORK_MODULE),
        (
            "modules/peer/module.yaml",
            "inputs:\n  peer_vpc: string\nresources:\n  security_group.peer:\n    name: peer\n    vpc_id: vpc-123\n    tags: { Peer: \"${input.peer_vpc}\" }\n",
        ),
        (
            "envs/us-east-1/main.yaml",
            "region: us-east-1\nmodules:\n  platform:\n    source: ../../modules/network\n    inputs: { name: use1, cidr: 10.10.0.0/16 }\n",
        ),
        (
            "envs/eu-west-1/main.yaml",
            r#"region: eu-west-1
modules:
  peer:
    source: ../../modules/peer
    inputs:
      peer_vpc: "${env.us-east-1.module.platform.vpc_id}"
resources:
  security_group.direct:
    name: direct
    vpc_id: vpc-123
    tags: { Peer: "${env.us-east-1.module.platform.vpc_id}" }
"#,
        ),
    ]);
    let vpc = addrs(&["us-east-1/module.platform.vpc.main"]);
    assert_eq!(resource(&spec, "eu-west-1/security_group.direct").deps, vpc);
    assert_eq!(
        resource(&spec, "eu-west-1/module.peer.security_group.peer").deps,
        vpc
    );
}

#[test]
fn depends_on_a_module_waits_for_all_its_resources() {
    let spec = load_ok(&[
        ("regionctl.yaml", PROJECT),
        ("modules/network/module.yaml", NETWORK_MODULE),
        (
            "modules/outer/module.yaml",
            "modules:\n  inner:\n    source: ../network\n    inputs: { name: i, cidr: 10.1.0.0/16 }\nresources:\n  security_group.o:\n    name: o\n    vpc_id: vpc-123\n",
        ),
        (
            "envs/eu-west-1/main.yaml",
            r#"region: eu-west-1
modules:
  net:
    source: ../../modules/network
    inputs: { name: n, cidr: 10.0.0.0/16, azs: [eu-west-1a, eu-west-1b] }
  outer:
    source: ../../modules/outer
resources:
  security_group.a:
    name: a
    vpc_id: vpc-123
    depends_on: ["module.net"]
  security_group.b:
    name: b
    vpc_id: vpc-123
    depends_on: ["module.outer"]
"#,
        ),
    ]);
    let net = addrs(&[
        "eu-west-1/module.net.vpc.main",
        "eu-west-1/module.net.subnet.private[\"eu-west-1a\"]",
        "eu-west-1/module.net.subnet.private[\"eu-west-1b\"]",
    ]);
    let a = resource(&spec, "eu-west-1/security_group.a");
    assert_eq!(a.explicit_deps, net);
    assert_eq!(a.deps, net);
    // Resources of modules the module calls count too.
    let b = resource(&spec, "eu-west-1/security_group.b");
    assert_eq!(
        b.explicit_deps,
        addrs(&[
            "eu-west-1/module.outer.security_group.o",
            "eu-west-1/module.outer.module.inner.vpc.main"
        ])
    );
}

// ----------------------------------------------------------------------------------- variables

#[test]
fn variable_precedence() {
    let files = [
        (
            "regionctl.yaml",
            "project: test\nvariables: { a: project, b: project, c: project, d: project, e: project }\n",
        ),
        ("vars1.yaml", "d: file1\ne: file1\n"),
        ("vars2.yaml", "e: file2\n"),
        (
            "envs/eu-west-1/main.yaml",
            r#"region: eu-west-1
variables: { b: env, c: env, d: env, e: env }
resources:
  security_group.sg:
    name: sg
    vpc_id: vpc-123
    tags: { a: "${var.a}", b: "${var.b}", c: "${var.c}", d: "${var.d}", e: "${var.e}" }
"#,
        ),
    ];
    let opts = LoadOptions {
        vars: vec!["c=cli1".into(), "c=cli2".into()],
        var_files: vec![PathBuf::from("vars1.yaml"), PathBuf::from("vars2.yaml")],
        ..opts()
    };
    let spec = load_ok_with(&files, &opts);
    let t = tags(&spec, "eu-west-1/security_group.sg");
    assert_eq!(t["a"], "project");
    assert_eq!(t["b"], "env");
    assert_eq!(
        t["c"], "cli2",
        "--var beats everything, the last one winning"
    );
    assert_eq!(t["d"], "file1", "--var-file beats the env");
    assert_eq!(t["e"], "file2", "later --var-file wins");
}

#[test]
fn var_values_are_yaml() {
    let files = [
        ("regionctl.yaml", PROJECT),
        (
            "envs/eu-west-1/main.yaml",
            r#"region: eu-west-1
variables: { azs: [eu-west-1a] }
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.s:
    for_each: "${var.azs}"
    vpc_id: "${vpc.main.id}"
    availability_zone: "${each.value}"
    cidr_block: "${cidrsubnet(vpc.main.cidr_block, 8, each.index)}"
"#,
        ),
    ];
    let opts = LoadOptions {
        vars: vec!["azs=[eu-west-1b, eu-west-1c]".into()],
        ..opts()
    };
    let spec = load_ok_with(&files, &opts);
    let subnets: BTreeSet<InstanceAddr> = spec
        .resources
        .keys()
        .filter(|a| a.block.name == "s")
        .cloned()
        .collect();
    assert_eq!(
        subnets,
        addrs(&[
            "eu-west-1/subnet.s[\"eu-west-1b\"]",
            "eu-west-1/subnet.s[\"eu-west-1c\"]"
        ])
    );
}

// -------------------------------------------------------------------------------- default tags

#[test]
fn default_tags_merge_under_own_tags_and_skip_untaggable_kinds() {
    let spec = load_ok(&[
        (
            "regionctl.yaml",
            "project: test\ndefault_tags: { team: platform, Name: default, cost: 42 }\n",
        ),
        (
            "envs/eu-west-1/main.yaml",
            "region: eu-west-1\nresources:\n  vpc.own:\n    cidr_block: 10.0.0.0/16\n    tags: { Name: mine }\n  vpc.bare:\n    cidr_block: 10.1.0.0/16\n",
        ),
        (
            "envs/global/main.yaml",
            r#"global: true
resources:
  route53_zone.main:
    name: example.com
  route53_record.www:
    zone_id: "${route53_zone.main.id}"
    name: www.example.com
    type: A
    ttl: 60
    records: [192.0.2.1]
"#,
        ),
    ]);
    let own = tags(&spec, "eu-west-1/vpc.own");
    assert_eq!(
        own.get("Name").map(String::as_str),
        Some("mine"),
        "a resource's own tag wins"
    );
    assert_eq!(own.get("team").map(String::as_str), Some("platform"));
    assert_eq!(
        own.get("cost").map(String::as_str),
        Some("42"),
        "numbers are taken as their text"
    );
    let bare = tags(&spec, "eu-west-1/vpc.bare");
    assert_eq!(bare.get("Name").map(String::as_str), Some("default"));
    assert_eq!(
        tags(&spec, "global/route53_zone.main")
            .get("team")
            .map(String::as_str),
        Some("platform")
    );
    assert!(
        !resource(&spec, "global/route53_record.www")
            .attrs
            .contains_key("tags"),
        "route53_record is not taggable"
    );
}

// -------------------------------------------------------------------------------- selection

#[test]
fn unselected_envs_are_loaded_for_references_but_not_reported() {
    let global_with_error = format!(
        "{GLOBAL_IAM}  iam_role.broken:\n    name: broken\n    assume_role_policy: {{}}\n    bogus_attr: 1\n"
    );
    let files = [
        ("regionctl.yaml", PROJECT),
        ("envs/global/iam.yaml", global_with_error.as_str()),
        (
            "envs/eu-west-1/main.yaml",
            "region: eu-west-1\nresources:\n  eks_cluster.main:\n    name: main\n    role_arn: \"${env.global.iam_role.x.arn}\"\n    subnet_ids: [subnet-1, subnet-2]\n",
        ),
    ];
    let only_euw1 = LoadOptions {
        selection: Selection::Paths(vec![PathBuf::from("envs/eu-west-1")]),
        ..opts()
    };
    let spec = load_ok_with(&files, &only_euw1);
    assert!(!spec.envs["global"].selected);
    assert!(spec.envs["eu-west-1"].selected);
    assert!(
        spec.resources.contains_key(&addr("global/iam_role.x")),
        "unselected envs are still expanded"
    );
    let selected: BTreeSet<InstanceAddr> =
        spec.selected_resources().map(|r| r.addr.clone()).collect();
    assert_eq!(selected, addrs(&["eu-west-1/eks_cluster.main"]));
    assert_eq!(
        resource(&spec, "eu-west-1/eks_cluster.main").deps,
        addrs(&["global/iam_role.x"])
    );

    // Selecting everything reports the global error.
    let (_, diags, _) = load_with(&files, &opts());
    let errs = errors(&diags);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].code, "spec::unknown-field");
}

// ------------------------------------------------------------------------------------- values

#[test]
fn null_attribute_is_absent() {
    let spec = load_ok(&[
        ("regionctl.yaml", PROJECT),
        (
            "envs/eu-west-1/main.yaml",
            r#"region: eu-west-1
variables: { public: false, cidrs: [203.0.113.0/24] }
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
    enable_dns_hostnames: null
  eks_cluster.main:
    name: main
    role_arn: arn:aws:iam::123456789012:role/eks
    subnet_ids: [subnet-1, subnet-2]
    public_access_cidrs: "${var.public ? var.cidrs : null}"
"#,
        ),
    ]);
    assert!(
        !resource(&spec, "eu-west-1/vpc.main")
            .attrs
            .contains_key("enable_dns_hostnames")
    );
    assert!(
        !resource(&spec, "eu-west-1/eks_cluster.main")
            .attrs
            .contains_key("public_access_cidrs")
    );
}

#[test]
fn null_required_attribute_is_missing() {
    // docs/spec.md: "An attribute whose value is `null` counts as not set", and a missing required
    // attribute is an error; check_resource skips the missing-field check for any *written* name.
    let (_, diags, sources) = load_with(
        &[
            ("regionctl.yaml", PROJECT),
            (
                "envs/eu-west-1/main.yaml",
                "region: eu-west-1\nresources:\n  vpc.main:\n    cidr_block: null\n",
            ),
        ],
        &opts(),
    );
    let errs = errors(&diags);
    assert!(
        errs.iter().any(|d| d.code == "spec::missing-field"),
        "got:\n{}",
        describe(&diags, &sources)
    );
}

// -------------------------------------------------------------------------------- diagnostics

#[test]
fn error_in_a_module_used_by_three_regions_is_reported_once() {
    let module = "inputs:\n  cidr: cidr\nresources:\n  vpc.main:\n    cidr_block: \"${input.cidr}\"\n    cidr_blok: oops\n";
    let env = |region: &str, cidr: &str| {
        format!(
            "region: {region}\nmodules:\n  net:\n    source: ../../modules/net\n    inputs: {{ cidr: {cidr} }}\n"
        )
    };
    let (e1, e2, e3) = (
        env("eu-west-1", "10.1.0.0/16"),
        env("us-east-1", "10.2.0.0/16"),
        env("ap-southeast-1", "10.3.0.0/16"),
    );
    let (spec, diags, sources) = load_with(
        &[
            ("regionctl.yaml", PROJECT),
            ("modules/net/module.yaml", module),
            ("envs/eu-west-1/main.yaml", &e1),
            ("envs/us-east-1/main.yaml", &e2),
            ("envs/ap-southeast-1/main.yaml", &e3),
        ],
        &opts(),
    );
    let errs = errors(&diags);
    assert_eq!(errs.len(), 1, "got:\n{}", describe(&diags, &sources));
    assert_eq!(errs[0].code, "spec::unknown-field");
    assert_eq!(errs[0].help.as_deref(), Some("did you mean `cidr_block`?"));
    let span = errs[0].primary_span().expect("points at the attribute");
    assert_eq!(sources.snippet(span), "cidr_blok");
    assert_eq!(
        sources.path(span.file),
        std::path::Path::new("modules/net/module.yaml")
    );
    // The three instances still exist.
    assert_eq!(spec.expect("a spec despite errors").resources.len(), 3);
}

#[test]
fn module_calling_itself_is_an_error() {
    let (_, diags, sources) = load_with(
        &[
            ("regionctl.yaml", PROJECT),
            (
                "modules/m/module.yaml",
                "modules:\n  again:\n    source: .\nresources:\n  security_group.s:\n    name: s\n    vpc_id: vpc-1\n",
            ),
            (
                "envs/eu-west-1/main.yaml",
                "region: eu-west-1\nmodules:\n  m:\n    source: ../../modules/m\n",
            ),
        ],
        &opts(),
    );
    let errs = errors(&diags);
    assert_eq!(errs.len(), 1, "got:\n{}", describe(&diags, &sources));
    assert_eq!(errs[0].code, "spec::module-recursion");
}

#[test]
fn module_calling_itself_twice_is_not_exponential() {
    // With two self-calls this takes seconds and makes 65535 resources; with three it would run
    // for hours (3^16). Recursion could be detected by the module directory already being on the
    // call stack.
    let (spec, diags, sources) = load_with(
        &[
            ("regionctl.yaml", PROJECT),
            (
                "modules/m/module.yaml",
                "modules:\n  a:\n    source: .\n  b:\n    source: .\nresources:\n  security_group.s:\n    name: s\n    vpc_id: vpc-1\n",
            ),
            (
                "envs/eu-west-1/main.yaml",
                "region: eu-west-1\nmodules:\n  m:\n    source: ../../modules/m\n",
            ),
        ],
        &opts(),
    );
    assert!(
        errors(&diags)
            .iter()
            .any(|d| d.code == "spec::module-recursion"),
        "got:\n{}",
        describe(&diags, &sources)
    );
    let n = spec.expect("a spec").resources.len();
    assert!(n <= 32, "a recursive module was instantiated {n} times");
}

#[test]
fn syntax_errors_in_unselected_envs_are_not_reported() {
    // Expander::template pushes parse errors into scope_diags without checking current_selected.
    let files = [
        ("regionctl.yaml", PROJECT),
        (
            "envs/global/main.yaml",
            "global: true\nresources:\n  route53_zone.z:\n    name: \"${var.}\"\n",
        ),
        (
            "envs/eu-west-1/main.yaml",
            "region: eu-west-1\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n",
        ),
    ];
    let only_euw1 = LoadOptions {
        selection: Selection::Paths(vec![PathBuf::from("envs/eu-west-1")]),
        ..opts()
    };
    let (_, diags, sources) = load_with(&files, &only_euw1);
    assert!(
        errors(&diags).is_empty(),
        "got:\n{}",
        describe(&diags, &sources)
    );
}

#[test]
fn undeclared_var_is_reported_whatever_the_selection() {
    // init_vars reports it only while expanding the first environment, whose diagnostics are
    // dropped when that environment is not selected.
    let files = [
        ("regionctl.yaml", PROJECT),
        ("envs/eu-west-1/main.yaml", "region: eu-west-1\n"),
        ("envs/us-east-1/main.yaml", "region: us-east-1\n"),
    ];
    let all = LoadOptions {
        vars: vec!["nope=1".into()],
        ..opts()
    };
    let (_, diags, _) = load_with(&files, &all);
    assert!(
        errors(&diags)
            .iter()
            .any(|d| d.code == "spec::unknown-variable"),
        "reported with every env selected"
    );
    let only_use1 = LoadOptions {
        selection: Selection::Paths(vec![PathBuf::from("envs/us-east-1")]),
        ..all
    };
    let (_, diags, sources) = load_with(&files, &only_use1);
    assert!(
        errors(&diags)
            .iter()
            .any(|d| d.code == "spec::unknown-variable"),
        "got:\n{}",
        describe(&diags, &sources)
    );
}

#[test]
fn module_inputs_are_converted_where_safe() {
    // docs/spec.md: "a number or bool passed to a `string` input becomes its text, and a string of
    // digits passed to a `number` input becomes the number."
    let (spec, diags, sources) = load_with(
        &[
            ("regionctl.yaml", PROJECT),
            (
                "modules/m/module.yaml",
                r#"inputs:
  n: number
  s: string
resources:
  security_group.s:
    name: '${input.s == "5" ? "converted" : "kept"}'
    vpc_id: vpc-1
    tags: { n: "${input.n + 1}" }
"#,
            ),
            (
                "envs/eu-west-1/main.yaml",
                "region: eu-west-1\nmodules:\n  m:\n    source: ../../modules/m\n    inputs: { n: \"5\", s: 5 }\n",
            ),
        ],
        &opts(),
    );
    assert!(
        errors(&diags).is_empty(),
        "got:\n{}",
        describe(&diags, &sources)
    );
    let spec = spec.expect("a spec");
    assert_eq!(
        str_attr(&spec, "eu-west-1/module.m.security_group.s", "name"),
        "converted"
    );
    assert_eq!(tags(&spec, "eu-west-1/module.m.security_group.s")["n"], "6");
}

// ---------------------------------------------------------------------------- property tests

/// Pieces that make YAML parsers work hard.
const YAML_TOKENS: &[&str] = &[
    ":", ": ", "-", "- ", "[", "]", "{", "}", ",", "\"", "'", "${", "}", "$${", "\n", "\n  ", " ",
    "  ", "\t", "#", "&a", "*a", "!tag", "|", ">", "?", "---", "...", "%YAML", "key", "vpc.main",
    "é", "🙂", "\\", "0", "1.30", "null", "~", "true", "<<",
];

fn yamlish() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(YAML_TOKENS), 0..60)
        .prop_map(|parts| parts.concat())
}

/// Byte offset of the `n`-th char boundary (clamped to the end), so slicing never splits a char.
fn boundary(text: &str, n: usize) -> usize {
    let count = text.chars().count();
    text.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .nth(n % (count + 1))
        .unwrap_or(text.len())
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Duplicate { at: usize, len: usize },
    Replace { at: usize, len: usize, with: String },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0usize..200).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 0usize..200).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        (any::<usize>(), 0usize..40, yamlish()).prop_map(|(at, len, with)| Mutation::Replace {
            at,
            len,
            with
        }),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let range = |at: usize, len: usize| {
        let start = boundary(text, at);
        let start_char = text[..start].chars().count();
        let end = boundary(text, (start_char + len).min(text.chars().count()));
        (start, end.max(start))
    };
    match m {
        Mutation::Delete { at, len } => {
            let (s, e) = range(*at, *len);
            format!("{}{}", &text[..s], &text[e..])
        }
        Mutation::Duplicate { at, len } => {
            let (s, e) = range(*at, *len);
            format!("{}{}{}", &text[..e], &text[s..e], &text[e..])
        }
        Mutation::Replace { at, len, with } => {
            let (s, e) = range(*at, *len);
            format!("{}{with}{}", &text[..s], &text[e..])
        }
    }
}

const EXAMPLE_PROJECT: &str = include_str!("../../regionctl.yaml");
const EXAMPLE_ENV: &str = include_str!("../../envs/eu-west-1/main.yaml");
const EXAMPLE_MODULE: &str = include_str!("../../modules/eks-platform/module.yaml");
const EXAMPLE_IAM: &str = include_str!("../../envs/global/iam.yaml");
const EXAMPLE_ROUTING: &str = include_str!("../../envs/global/routing.yaml");

fn example_files() -> Vec<(&'static str, String)> {
    vec![
        ("regionctl.yaml", EXAMPLE_PROJECT.to_string()),
        ("envs/eu-west-1/main.yaml", EXAMPLE_ENV.to_string()),
        (
            "modules/eks-platform/module.yaml",
            EXAMPLE_MODULE.to_string(),
        ),
        ("envs/global/iam.yaml", EXAMPLE_IAM.to_string()),
        ("envs/global/routing.yaml", EXAMPLE_ROUTING.to_string()),
    ]
}

/// Runs everything downstream of the files: load, the graph, and the diagnostics renderer.
fn load_everything(files: &[(&str, String)]) {
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let (spec, diags, sources) = load_with(&borrowed, &opts());
    if let Some(spec) = &spec {
        let _ = crate::graph::ResourceGraph::build(spec);
    }
    let _ = crate::render::diagnostics::human(&diags, &sources, crate::render::Style::plain());
}

#[test]
fn example_project_loads_cleanly() {
    // The baseline the mutation property starts from.
    let files = example_files();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let spec = load_ok(&borrowed);
    assert!(
        spec.resources
            .contains_key(&addr("eu-west-1/module.platform.eks_cluster.main"))
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn yaml_parse_never_panics_on_any_string(text in any::<String>()) {
        let _ = yaml::parse(FileId(0), &text);
    }

    #[test]
    fn yaml_parse_never_panics_on_yamlish_strings(text in yamlish()) {
        let _ = yaml::parse(FileId(0), &text);
    }

    #[test]
    fn load_never_panics_on_mutated_example(
        target in proptest::sample::select(vec![1usize, 1, 1, 2, 3, 4]),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let mut files = example_files();
        let mut text = files[target].1.clone();
        for m in &mutations {
            text = apply(&text, m);
        }
        files[target].1 = text;
        load_everything(&files);
    }
}

//! Valid specs and the other subcommands: the repository's own platform and its examples
//! validate, `graph` emits a well-formed, correctly ordered graph, and the stub commands say so.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::harness::{self, Run};

fn example(name: &str) -> PathBuf {
    harness::repo_root().join("examples").join(name)
}

fn assert_valid(dir: &Path) -> Run {
    let run = harness::regionctl(dir, &["validate", "--all-regions"]);
    assert_eq!(
        run.code,
        Some(0),
        "validate failed in {}\n{}",
        dir.display(),
        run.describe()
    );
    assert!(
        run.stdout.contains("valid"),
        "no `valid` in stdout\n{}",
        run.describe()
    );
    assert!(
        run.stderr.is_empty(),
        "a valid spec printed diagnostics\n{}",
        run.describe()
    );
    run
}

#[test]
fn platform_is_valid() {
    let run = assert_valid(&harness::repo_root());
    assert!(run.stdout.contains("4 environments"), "{}", run.describe());
}

#[test]
fn active_passive_dr_example_is_valid() {
    assert_valid(&example("active-passive-dr"));
}

#[test]
fn minimal_example_is_valid() {
    assert_valid(&example("minimal"));
}

#[test]
fn validate_one_environment() {
    let run = harness::regionctl(&harness::repo_root(), &["validate", "envs/eu-west-1"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(
        run.stdout.contains("1 environment (eu-west-1)"),
        "{}",
        run.describe()
    );
}

/// `graph --format json`, parsed.
fn graph_json(dir: &Path) -> serde_json::Value {
    let run = harness::regionctl(dir, &["graph", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let doc: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("graph output is not JSON ({e})\n{}", run.describe()));
    assert_eq!(doc["format_version"], "1", "unexpected format_version");
    doc
}

/// `(from, to)` of every edge.
fn edges(doc: &serde_json::Value) -> Vec<(String, String)> {
    doc["edges"]
        .as_array()
        .expect("`edges` is an array")
        .iter()
        .map(|e| {
            let end = |k: &str| {
                e[k].as_str()
                    .unwrap_or_else(|| panic!("edge without a string `{k}`: {e}"))
                    .to_string()
            };
            (end("from"), end("to"))
        })
        .collect()
}

#[test]
fn platform_graph_json_has_cross_env_edges_and_a_valid_order() {
    let root = harness::repo_root();
    let doc = graph_json(&root);
    let edges = edges(&doc);
    let edge_set: BTreeSet<(String, String)> = edges.iter().cloned().collect();

    // Every regional environment's cluster waits for the global cluster role.
    let regions: Vec<String> = std::fs::read_dir(root.join("envs"))
        .expect("read envs/")
        .map(|e| {
            e.expect("read an entry of envs/")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name != "global")
        .collect();
    assert!(
        regions.len() >= 3,
        "expected at least three regions, found {regions:?}"
    );
    for region in &regions {
        let edge = (
            "global/iam_role.eks_cluster".to_string(),
            format!("{region}/module.platform.eks_cluster.main"),
        );
        assert!(
            edge_set.contains(&edge),
            "missing cross-environment edge {} -> {}",
            edge.0,
            edge.1
        );
    }

    // `order` is a topological order: each edge's `from` comes before its `to`.
    let order: Vec<&str> = doc["order"]
        .as_array()
        .expect("`order` is an array")
        .iter()
        .map(|a| a.as_str().expect("addresses are strings"))
        .collect();
    let position: HashMap<&str, usize> = order.iter().enumerate().map(|(i, a)| (*a, i)).collect();
    assert_eq!(
        position.len(),
        order.len(),
        "`order` lists an address twice"
    );
    for (from, to) in &edges {
        let (Some(f), Some(t)) = (position.get(from.as_str()), position.get(to.as_str())) else {
            panic!("edge {from} -> {to} names an address missing from `order`");
        };
        assert!(
            f < t,
            "`order` puts {to} (#{t}) before its dependency {from} (#{f})"
        );
    }
    let nodes = doc["nodes"].as_array().expect("`nodes` is an array");
    assert_eq!(
        nodes.len(),
        order.len(),
        "`order` should list every node once"
    );
}

#[test]
fn dr_graph_has_the_cross_region_replica_edge() {
    let doc = graph_json(&example("active-passive-dr"));
    let edges = edges(&doc);
    let wanted = (
        "us-east-1/rds_instance.app".to_string(),
        "us-west-2/rds_instance.app_replica".to_string(),
    );
    assert!(
        edges.contains(&wanted),
        "missing {} -> {} in {edges:#?}",
        wanted.0,
        wanted.1
    );
}

#[test]
fn minimal_graph_dot() {
    let run = harness::regionctl(&example("minimal"), &["graph", "--format", "dot"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(
        run.stdout.starts_with("digraph regionctl {"),
        "{}",
        run.describe()
    );
    crate::assert_snapshot!("graph_dot_minimal", run.stdout);
}

#[test]
fn plan_refuses_a_target_outside_the_selection_before_calling_aws() {
    let run = harness::regionctl(
        &harness::repo_root(),
        &[
            "plan",
            "envs/eu-west-1",
            "--target",
            "us-east-1/module.platform.vpc.main",
        ],
    );
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(
        run.stderr.contains(
            "--target us-east-1/module.platform.vpc.main: environment \"us-east-1\" is not selected"
        ),
        "{}",
        run.describe()
    );
}

#[test]
fn bash_completions() {
    let run = harness::regionctl(&harness::repo_root(), &["completions", "bash"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(run.stdout.contains("regionctl"), "{}", run.describe());
    assert!(
        run.stdout.contains("complete"),
        "not a bash completion script\n{}",
        run.describe()
    );
}

/// A copy of examples/minimal whose VPC block comes from `var.cidr`, so `--var` can break it.
pub fn minimal_with_cidr_variable(name: &str) -> PathBuf {
    let dir = harness::fresh_dir("var-override", name);
    harness::copy_tree(&example("minimal"), &dir);
    let main = dir.join("envs").join("eu-west-1").join("main.yaml");
    let text = std::fs::read_to_string(&main).expect("read the copied minimal example");
    assert!(
        text.contains("    cidr_block: 10.0.0.0/16\n"),
        "examples/minimal no longer has the VPC block this test rewrites"
    );
    let text = text
        .replacen(
            "region: eu-west-1\n",
            "region: eu-west-1\n\nvariables:\n  cidr: 10.0.0.0/16\n",
            1,
        )
        .replacen(
            "    cidr_block: 10.0.0.0/16\n",
            "    cidr_block: \"${var.cidr}\"\n",
            1,
        );
    std::fs::write(&main, text).expect("rewrite the copied minimal example");
    let run = harness::regionctl(&dir, &["validate"]);
    assert_eq!(
        run.code,
        Some(0),
        "the rewritten minimal example should still be valid\n{}",
        run.describe()
    );
    dir
}

#[test]
fn var_override_with_a_bad_cidr_fails() {
    let dir = minimal_with_cidr_variable("bad-cidr");
    let run = harness::regionctl(&dir, &["validate", "--var", "cidr=10.0.0.1/16"]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    // The override is checked against the declared value's type and blamed on the argument.
    assert!(run.stderr.contains("spec::var-type"), "{}", run.describe());
    assert!(run.stderr.contains("--var #1"), "{}", run.describe());
    assert!(run.stderr.contains("bits set"), "{}", run.describe());
}

/// Inside an environment directory the project is found by walking up, `.` selects that
/// environment, and paths in diagnostics stay relative to where regionctl runs.
#[test]
fn runs_from_inside_an_environment_directory() {
    let env_dir = harness::repo_root().join("envs").join("eu-west-1");
    let run = harness::regionctl(&env_dir, &["validate", "."]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(
        run.stdout.contains("1 environment (eu-west-1)"),
        "{}",
        run.describe()
    );
    let run = harness::regionctl(&env_dir, &["validate"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(run.stdout.contains("4 environments"), "{}", run.describe());
    let run = harness::regionctl(&env_dir, &["validate", "../us-east-1", "../global"]);
    assert!(
        run.stdout.contains("2 environments (global, us-east-1)"),
        "{}",
        run.describe()
    );
}

/// Unusual but valid specs: what AWS accepts, regionctl must accept too (names at their length
/// limits and with every allowed character, wildcard and underscore records, CRLF files, block
/// scalars, checker regions, windows crossing midnight and the week's end).
#[test]
fn unusual_valid_specs_validate() {
    let dir = harness::fresh_dir("valid", "unusual");
    let write = |path: &str, text: &str| {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("create dir");
        std::fs::write(p, text).expect("write file");
    };
    write("regionctl.yaml", "project: t\r\n");
    // Names at their length limits: 63, 40 and 64 characters.
    let ident = "a".to_string() + &"1".repeat(62);
    let rg = "c".to_string() + &"-a".repeat(19) + "x";
    let role = "r+=,.@_-".to_string() + &"x".repeat(56);
    write(
        "envs/eu-west-1/main.yaml",
        &format!(
            "region: eu-west-1\r\nresources:\r\n  vpc.main:\r\n    cidr_block: 10.0.0.0/16\r\n  \
             subnet.a:\r\n    vpc_id: \"${{vpc.main.id}}\"\r\n    cidr_block: 10.0.1.0/24\r\n    availability_zone: eu-west-1a\r\n  \
             subnet.b:\r\n    vpc_id: \"${{vpc.main.id}}\"\r\n    cidr_block: 10.0.2.0/24\r\n    availability_zone: eu-west-1b\r\n  \
             security_group.web:\r\n    name: \"web nodes (euw1) #1: a/b [x]+=&;{{}}!$*@,\"\r\n    vpc_id: \"${{vpc.main.id}}\"\r\n    \
             ingress:\r\n      - {{ protocol: all, cidr_blocks: [10.0.0.0/8] }}\r\n      - {{ protocol: icmp, from_port: 8, to_port: 0, cidr_blocks: [10.0.0.0/8] }}\r\n  \
             db_subnet_group.db:\r\n    name: db subnets_1.a-b\r\n    subnet_ids: [\"${{subnet.a.id}}\", \"${{subnet.b.id}}\"]\r\n  \
             rds_instance.app:\r\n    identifier: {ident}\r\n    engine: postgres\r\n    engine_version: \"16.4\"\r\n    instance_class: db.r6g.large\r\n    \
             allocated_storage: 20\r\n    master_username: a\r\n    manage_master_user_password: true\r\n    db_subnet_group: \"${{db_subnet_group.db.name}}\"\r\n    \
             preferred_backup_window: \"23:45-00:15\"\r\n    preferred_maintenance_window: sun:23:45-mon:00:15\r\n    storage_type: gp3\r\n    iops: 3000\r\n  \
             elasticache_replication_group.c:\r\n    replication_group_id: {rg}\r\n    node_type: cache.r7g.large\r\n    description: |\r\n      sessions for ${{vpc.main.cidr_block}}\r\n      second line\r\n",
            ident = ident,
            rg = rg,
        ),
    );
    write(
        "envs/global/main.yaml",
        &format!(
            "global: true\nresources:\n  iam_role.r:\n    name: \"{role}\"\n    path: /a/b/\n    assume_role_policy: {{ Version: \"2012-10-17\", Statement: [] }}\n  \
             route53_zone.main:\n    name: Example.COM.\n  \
             route53_health_check.api:\n    type: HTTPS_STR_MATCH\n    fqdn: api.example.com\n    search_string: ok\n    request_interval: 10\n    \
             regions: [us-east-1, eu-west-1, ap-southeast-1]\n  \
             route53_health_check.v6:\n    type: TCP\n    ip_address: \"2600:1f18::1\"\n    port: 443\n  \
             route53_record.wild:\n    zone_id: \"${{route53_zone.main.id}}\"\n    name: \"*.example.com\"\n    type: A\n    ttl: 60\n    records: [192.0.2.10]\n  \
             route53_record.dmarc:\n    zone_id: \"${{route53_zone.main.id}}\"\n    name: _dmarc.example.com\n    type: TXT\n    ttl: 60\n    records: [\"v=DMARC1; p=none\"]\n  \
             route53_record.apex:\n    zone_id: \"${{route53_zone.main.id}}\"\n    name: example.com\n    type: A\n    ttl: 60\n    records: [192.0.2.11]\n",
            role = role,
        ),
    );
    let run = harness::regionctl(&dir, &["validate", "--all-regions"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(run.stderr.is_empty(), "{}", run.describe());
}

//! Graph tests on specs loaded from in-memory projects: creation and destroy order, the split per
//! environment, cross-environment and external nodes, cycles, edge kinds, and a property test
//! over random DAGs of security groups spread across two regions.

use super::*;

use std::path::PathBuf;

use proptest::prelude::*;

use crate::diag::Severity;
use crate::source::SourceMap;
use crate::spec::loader::{LoadOptions, MemFs, Selection};

// ------------------------------------------------------------------------------------- helpers

const PROJECT: &str = "project: test\n";

fn opts() -> LoadOptions {
    LoadOptions::all(".")
}

fn only(env: &str) -> LoadOptions {
    LoadOptions {
        selection: Selection::Paths(vec![PathBuf::from(format!("envs/{env}"))]),
        ..opts()
    }
}

/// Loads an in-memory project that must have no spec errors.
fn load(files: &[(&str, &str)], opts: &LoadOptions) -> (Spec, SourceMap) {
    let fs = files.iter().fold(MemFs::new(), |fs, (p, t)| fs.with(p, t));
    let mut sources = SourceMap::new();
    let (spec, d) = crate::spec::load(&fs, opts, &mut sources);
    let errs: Vec<String> = d
        .into_sorted()
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    assert!(
        errs.is_empty(),
        "unexpected spec errors:\n{}",
        errs.join("\n")
    );
    (spec.expect("a spec without errors"), sources)
}

fn graph(spec: &Spec) -> ResourceGraph {
    ResourceGraph::build(spec).unwrap_or_else(|d| panic!("unexpected cycle: {d:#?}"))
}

fn addr(s: &str) -> InstanceAddr {
    s.parse()
        .unwrap_or_else(|e| panic!("test address {s:?} should parse: {e}"))
}

fn strs(v: &[&InstanceAddr]) -> Vec<String> {
    v.iter().map(ToString::to_string).collect()
}

fn position(order: &[&InstanceAddr], a: &InstanceAddr) -> usize {
    order
        .iter()
        .position(|x| *x == a)
        .unwrap_or_else(|| panic!("{a} is not in the order {:?}", strs(order)))
}

/// The addresses named by a `graph::cycle` message, in order (the first is repeated at the end).
fn cycle_names(message: &str) -> Vec<String> {
    message
        .strip_prefix("dependency cycle: ")
        .unwrap_or_else(|| panic!("not a cycle message: {message}"))
        .split(" → ")
        .map(str::to_string)
        .collect()
}

fn chain_env(region: &str, cluster_role: &str, node_role: &str) -> String {
    format!(
        r#"region: {region}
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.a:
    vpc_id: "${{vpc.main.id}}"
    availability_zone: {region}a
    cidr_block: 10.0.0.0/20
  subnet.b:
    vpc_id: "${{vpc.main.id}}"
    availability_zone: {region}b
    cidr_block: 10.0.16.0/20
  eks_cluster.main:
    name: main
    role_arn: "{cluster_role}"
    subnet_ids: ["${{subnet.a.id}}", "${{subnet.b.id}}"]
  eks_node_group.default:
    cluster_name: "${{eks_cluster.main.name}}"
    name: default
    node_role_arn: "{node_role}"
    subnet_ids: ["${{subnet.a.id}}", "${{subnet.b.id}}"]
    scaling: {{ min: 1, desired: 2, max: 3 }}
"#
    )
}

const GLOBAL_ROLES: &str = r#"global: true
resources:
  iam_role.cluster:
    name: cluster
    assume_role_policy: { Version: "2012-10-17", Statement: [] }
  iam_role.node:
    name: node
    assume_role_policy: { Version: "2012-10-17", Statement: [] }
"#;

/// global roles, and the VPC → subnet → cluster → node group chain in two regions.
fn multi_region_files() -> Vec<(&'static str, String)> {
    let roles = (
        "${env.global.iam_role.cluster.arn}",
        "${env.global.iam_role.node.arn}",
    );
    vec![
        ("regionctl.yaml", PROJECT.to_string()),
        ("envs/global/iam.yaml", GLOBAL_ROLES.to_string()),
        (
            "envs/eu-west-1/main.yaml",
            chain_env("eu-west-1", roles.0, roles.1),
        ),
        (
            "envs/us-east-1/main.yaml",
            chain_env("us-east-1", roles.0, roles.1),
        ),
    ]
}

fn borrow<'f>(files: &'f [(&'static str, String)]) -> Vec<(&'static str, &'f str)> {
    files.iter().map(|(p, t)| (*p, t.as_str())).collect()
}

// ---------------------------------------------------------------------------------- ordering

#[test]
fn topo_order_of_a_chain() {
    let env = chain_env(
        "eu-west-1",
        "arn:aws:iam::123456789012:role/cluster",
        "arn:aws:iam::123456789012:role/node",
    );
    let (spec, _) = load(
        &[
            ("regionctl.yaml", PROJECT),
            ("envs/eu-west-1/main.yaml", &env),
        ],
        &opts(),
    );
    let g = graph(&spec);
    assert_eq!(g.len(), 5);
    let expected = [
        "eu-west-1/vpc.main",
        "eu-west-1/subnet.a",
        "eu-west-1/subnet.b",
        "eu-west-1/eks_cluster.main",
        "eu-west-1/eks_node_group.default",
    ];
    assert_eq!(strs(&g.topo_order()), expected);
    let mut reversed = expected.to_vec();
    reversed.reverse();
    assert_eq!(strs(&g.destroy_order()), reversed);
    assert_eq!(
        g.dependencies(&addr("eu-west-1/eks_node_group.default")),
        vec![
            &addr("eu-west-1/subnet.a"),
            &addr("eu-west-1/subnet.b"),
            &addr("eu-west-1/eks_cluster.main")
        ]
    );
    assert_eq!(
        g.dependents(&addr("eu-west-1/vpc.main")),
        vec![&addr("eu-west-1/subnet.a"), &addr("eu-west-1/subnet.b")]
    );
    assert!(g.edges().all(|(_, _, k)| k == EdgeKind::Reference));
}

#[test]
fn by_env_splits_and_respects_edges() {
    let files = multi_region_files();
    let (spec, _) = load(&borrow(&files), &opts());
    let g = graph(&spec);
    let by_env = g.by_env();
    assert_eq!(
        by_env.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
        ["eu-west-1", "global", "us-east-1"]
    );
    let len = |env: &str| by_env.get(&env.to_string()).map_or(0, Vec::len);
    assert_eq!(len("global"), 2);
    assert_eq!(len("eu-west-1"), 5);
    assert_eq!(len("us-east-1"), 5);
    for (env, list) in &by_env {
        assert!(list.iter().all(|a| &a.env == *env));
        for (a, b, _) in g
            .edges()
            .filter(|(a, b, _)| &a.env == *env && &b.env == *env)
        {
            assert!(
                position(list, a) < position(list, b),
                "{a} must come before {b} in {env}"
            );
        }
    }
    let mut all: Vec<&InstanceAddr> = by_env.values().flatten().copied().collect();
    let mut topo = g.topo_order();
    all.sort();
    topo.sort();
    assert_eq!(all, topo);
}

#[test]
fn cross_env_edges_are_the_global_roles() {
    let files = multi_region_files();
    let (spec, _) = load(&borrow(&files), &opts());
    let g = graph(&spec);
    let got: BTreeSet<(String, String)> = g
        .cross_env_edges()
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("global/iam_role.cluster", "eu-west-1/eks_cluster.main"),
        ("global/iam_role.cluster", "us-east-1/eks_cluster.main"),
        ("global/iam_role.node", "eu-west-1/eks_node_group.default"),
        ("global/iam_role.node", "us-east-1/eks_node_group.default"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want);
    // The roles are created before any cluster.
    let topo = g.topo_order();
    for (a, b) in g.cross_env_edges() {
        assert!(position(&topo, a) < position(&topo, b));
    }
}

#[test]
fn referenced_resources_of_unselected_envs_are_external() {
    let files = multi_region_files();
    let (spec, _) = load(&borrow(&files), &only("eu-west-1"));
    let g = graph(&spec);
    let role = addr("global/iam_role.cluster");
    let node = g.node(&role).expect("the referenced role is in the graph");
    assert!(node.external);
    assert_eq!(node.kind, Kind::IamRole);
    assert!(
        g.node(&addr("global/iam_role.node"))
            .is_some_and(|n| n.external)
    );
    // Nothing of us-east-1, which eu-west-1 does not reference.
    assert!(g.nodes().all(|n| n.addr.env != "us-east-1"));
    assert_eq!(g.len(), 7);
    let topo = g.topo_order();
    assert_eq!(topo.len(), 5);
    assert!(
        topo.iter().all(|a| a.env == "eu-west-1"),
        "{:?}",
        strs(&topo)
    );
    assert!(!g.destroy_order().contains(&&role));
    assert!(
        g.dependencies(&addr("eu-west-1/eks_cluster.main"))
            .contains(&&role)
    );
    assert!(
        g.nodes()
            .filter(|n| !n.external)
            .all(|n| n.addr.env == "eu-west-1")
    );
}

#[test]
fn depends_on_edges_have_their_own_kind() {
    let (spec, _) = load(
        &[
            ("regionctl.yaml", PROJECT),
            (
                "envs/eu-west-1/main.yaml",
                r#"region: eu-west-1
resources:
  security_group.a:
    name: a
    vpc_id: vpc-123
  security_group.b:
    name: b
    vpc_id: vpc-123
    depends_on: [security_group.a]
  security_group.c:
    name: c
    vpc_id: vpc-123
    tags: { peer: "${security_group.a.id}" }
    depends_on: [security_group.b]
"#,
            ),
        ],
        &opts(),
    );
    let g = graph(&spec);
    let edges: BTreeSet<(String, String, EdgeKind)> = g
        .edges()
        .map(|(a, b, k)| (a.local(), b.local(), k))
        .collect();
    let want: BTreeSet<(String, String, EdgeKind)> = [
        ("security_group.a", "security_group.b", EdgeKind::DependsOn),
        ("security_group.a", "security_group.c", EdgeKind::Reference),
        ("security_group.b", "security_group.c", EdgeKind::DependsOn),
    ]
    .into_iter()
    .map(|(a, b, k)| (a.to_string(), b.to_string(), k))
    .collect();
    assert_eq!(edges, want);
}

// ------------------------------------------------------------------------------------ cycles

fn sg_env(groups: &[(&str, &[&str])]) -> String {
    let mut s = String::from("region: eu-west-1\nresources:\n");
    for (name, refs) in groups {
        s.push_str(&format!(
            "  security_group.{name}:\n    name: {name}\n    vpc_id: vpc-123\n    tags:\n"
        ));
        for r in *refs {
            s.push_str(&format!("      to_{r}: \"${{security_group.{r}.id}}\"\n"));
        }
    }
    s
}

#[test]
fn three_cycle_is_one_diagnostic_naming_every_resource() {
    // a reads b, b reads c, c reads a: c is needed by b, b by a, a by c.
    let env = sg_env(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])]);
    let (spec, sources) = load(
        &[
            ("regionctl.yaml", PROJECT),
            ("envs/eu-west-1/main.yaml", &env),
        ],
        &opts(),
    );
    let diags = ResourceGraph::build(&spec).expect_err("a cycle");
    assert_eq!(diags.len(), 1, "{diags:#?}");
    let d = &diags[0];
    assert_eq!(d.code, "graph::cycle");
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(
        cycle_names(&d.message),
        [
            "eu-west-1/security_group.a",
            "eu-west-1/security_group.c",
            "eu-west-1/security_group.b",
            "eu-west-1/security_group.a"
        ]
    );
    // One label per resource, on its `kind.name` key, in cycle order.
    let labelled: Vec<&str> = d.labels.iter().map(|l| sources.snippet(l.span)).collect();
    assert_eq!(
        labelled,
        ["security_group.a", "security_group.c", "security_group.b"]
    );
    assert_eq!(
        d.labels[0].message,
        "security_group.a is needed by security_group.c"
    );
}

#[test]
fn self_reference_is_a_cycle() {
    let env = "region: eu-west-1\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n    tags: { Name: \"${vpc.main.id}\" }\n";
    let (spec, sources) = load(
        &[
            ("regionctl.yaml", PROJECT),
            ("envs/eu-west-1/main.yaml", env),
        ],
        &opts(),
    );
    let diags = ResourceGraph::build(&spec).expect_err("a self-reference is a cycle");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, "graph::cycle");
    assert_eq!(
        cycle_names(&diags[0].message),
        ["eu-west-1/vpc.main", "eu-west-1/vpc.main"]
    );
    assert_eq!(diags[0].labels.len(), 1);
    assert_eq!(sources.snippet(diags[0].labels[0].span), "vpc.main");
}

#[test]
fn separate_cycles_are_separate_diagnostics() {
    let env = sg_env(&[
        ("a", &["b"]),
        ("b", &["a"]),
        ("c", &["d"]),
        ("d", &["c"]),
        ("e", &["a", "c"]),
    ]);
    let (spec, _) = load(
        &[
            ("regionctl.yaml", PROJECT),
            ("envs/eu-west-1/main.yaml", &env),
        ],
        &opts(),
    );
    let diags = ResourceGraph::build(&spec).expect_err("two cycles");
    let mut cycles: Vec<Vec<String>> = diags.iter().map(|d| cycle_names(&d.message)).collect();
    cycles.sort();
    assert_eq!(
        cycles,
        [
            [
                "eu-west-1/security_group.a",
                "eu-west-1/security_group.b",
                "eu-west-1/security_group.a"
            ],
            [
                "eu-west-1/security_group.c",
                "eu-west-1/security_group.d",
                "eu-west-1/security_group.c"
            ],
        ]
    );
}

#[test]
fn reported_cycle_follows_real_edges() {
    // Edges (x → y: y reads x): d→a, a→b, c→b, b→c, b→d. One SCC {a, b, c, d}; real cycles are
    // a → b → d → a and b → c → b. The walk from a goes a → b → c, finds c's only successor b seen,
    // stops, and reports "a → b → c → a", although a does not depend on c.
    let env = sg_env(&[
        ("a", &["d"]),
        ("b", &["a", "c"]),
        ("c", &["b"]),
        ("d", &["b"]),
    ]);
    let (spec, _) = load(
        &[
            ("regionctl.yaml", PROJECT),
            ("envs/eu-west-1/main.yaml", &env),
        ],
        &opts(),
    );
    let diags = ResourceGraph::build(&spec).expect_err("a cycle");
    let edges: BTreeSet<(String, String)> = spec
        .resources
        .values()
        .flat_map(|r| r.deps.iter().map(|d| (d.to_string(), r.addr.to_string())))
        .collect();
    for d in &diags {
        let names = cycle_names(&d.message);
        for pair in names.windows(2) {
            assert!(
                edges.contains(&(pair[0].clone(), pair[1].clone())),
                "{}: {} → {} is not an edge",
                d.message,
                pair[0],
                pair[1]
            );
        }
    }
}

// ---------------------------------------------------------------------------- property tests

const ENVS: [&str; 2] = ["eu-west-1", "us-east-1"];

/// A random DAG: resource `i` is named `sg<i>`, lives in `ENVS[env[i]]`, and depends on each
/// `(j, use_depends_on)` of `deps[i]` with `j < i`.
#[derive(Debug, Clone)]
struct Dag {
    env: Vec<usize>,
    deps: Vec<Vec<(usize, bool)>>,
}

impl Dag {
    fn addr(&self, i: usize) -> InstanceAddr {
        addr(&format!("{}/security_group.sg{i}", ENVS[self.env[i]]))
    }

    /// Whether the edge `j → i` is written as `depends_on` (only possible within one env).
    fn is_depends_on(&self, i: usize, j: usize, use_depends_on: bool) -> bool {
        use_depends_on && self.env[i] == self.env[j]
    }

    fn files(&self) -> Vec<(&'static str, String)> {
        let mut texts = [
            String::from("region: eu-west-1\nresources:\n"),
            String::from("region: us-east-1\nresources:\n"),
        ];
        for i in 0..self.env.len() {
            let t = &mut texts[self.env[i]];
            t.push_str(&format!(
                "  security_group.sg{i}:\n    name: sg{i}\n    vpc_id: vpc-123\n"
            ));
            let on: Vec<String> = self.deps[i]
                .iter()
                .filter(|(j, d)| self.is_depends_on(i, *j, *d))
                .map(|(j, _)| format!("\"security_group.sg{j}\""))
                .collect();
            if !on.is_empty() {
                t.push_str(&format!("    depends_on: [{}]\n", on.join(", ")));
            }
            let refs: Vec<String> = self.deps[i]
                .iter()
                .filter(|(j, d)| !self.is_depends_on(i, *j, *d))
                .map(|(j, _)| {
                    let target = if self.env[*j] == self.env[i] {
                        format!("security_group.sg{j}.id")
                    } else {
                        format!("env.{}.security_group.sg{j}.id", ENVS[self.env[*j]])
                    };
                    format!("      r{j}: \"${{{target}}}\"\n")
                })
                .collect();
            if !refs.is_empty() {
                t.push_str("    tags:\n");
                t.push_str(&refs.concat());
            }
        }
        let [euw1, use1] = texts;
        vec![
            ("regionctl.yaml", PROJECT.to_string()),
            ("envs/eu-west-1/main.yaml", euw1),
            ("envs/us-east-1/main.yaml", use1),
        ]
    }

    fn expected_edges(&self) -> BTreeSet<(InstanceAddr, InstanceAddr, EdgeKind)> {
        let mut out = BTreeSet::new();
        for (i, deps) in self.deps.iter().enumerate() {
            for (j, d) in deps {
                let kind = if self.is_depends_on(i, *j, *d) {
                    EdgeKind::DependsOn
                } else {
                    EdgeKind::Reference
                };
                out.insert((self.addr(*j), self.addr(i), kind));
            }
        }
        out
    }

    /// Whether `from` is reachable from `to` along dependencies (i.e. `from` transitively
    /// depends on `to`).
    fn depends_transitively(&self, from: usize, to: usize) -> bool {
        let mut stack = vec![from];
        let mut seen = BTreeSet::new();
        while let Some(x) = stack.pop() {
            if x == to {
                return true;
            }
            if seen.insert(x) {
                stack.extend(self.deps[x].iter().map(|(j, _)| *j));
            }
        }
        false
    }
}

fn dag() -> impl Strategy<Value = Dag> {
    (2usize..40, any::<bool>()).prop_flat_map(|(n, spread)| {
        let env = if spread {
            proptest::collection::vec(0usize..2, n).boxed()
        } else {
            Just(vec![0; n]).boxed()
        };
        // Per pair j < i: 0 = depends_on, 1 = reference, anything else = no edge (density ~ 2/7).
        let matrix = proptest::collection::vec(proptest::collection::vec(0u8..7, n), n);
        (env, matrix).prop_map(|(env, matrix)| {
            let deps = (0..env.len())
                .map(|i| {
                    (0..i)
                        .filter(|j| matrix[i][*j] < 2)
                        .map(|j| (j, matrix[i][j] == 0))
                        .collect()
                })
                .collect();
            Dag { env, deps }
        })
    })
}

fn load_dag(d: &Dag) -> Spec {
    let files = d.files();
    load(&borrow(&files), &opts()).0
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_dags_order_every_edge(d in dag()) {
        let spec = load_dag(&d);
        let g = ResourceGraph::build(&spec).map_err(|e| TestCaseError::fail(format!("unexpected cycle: {e:?}")))?;
        let edges: BTreeSet<(InstanceAddr, InstanceAddr, EdgeKind)> = g.edges().map(|(a, b, k)| (a.clone(), b.clone(), k)).collect();
        prop_assert_eq!(&edges, &d.expected_edges());

        let topo = g.topo_order();
        prop_assert_eq!(topo.len(), d.env.len());
        let unique: BTreeSet<&InstanceAddr> = topo.iter().copied().collect();
        prop_assert_eq!(unique.len(), d.env.len(), "every resource exactly once");
        for i in 0..d.env.len() {
            prop_assert!(unique.contains(&d.addr(i)));
        }
        for (a, b, _) in &edges {
            prop_assert!(position(&topo, a) < position(&topo, b), "{} must come before {}", a, b);
        }
        let mut destroy = g.destroy_order();
        destroy.reverse();
        prop_assert_eq!(destroy, topo);
        prop_assert!(g.nodes().all(|n| !n.external));
    }

    #[test]
    fn a_back_edge_is_a_cycle_naming_both_ends(
        d in dag(),
        hi_pick in any::<usize>(),
        lo_pick in any::<usize>(),
        use_depends_on in any::<bool>(),
    ) {
        let mut d = d;
        let n = d.env.len();
        let hi = 1 + hi_pick % (n - 1);
        let lo = lo_pick % hi;
        // Make sure hi (transitively) depends on lo, then let lo depend on hi.
        if !d.depends_transitively(hi, lo) {
            d.deps[hi].push((lo, use_depends_on));
        }
        d.deps[lo].push((hi, use_depends_on));
        let spec = load_dag(&d);
        let Err(diags) = ResourceGraph::build(&spec) else {
            return Err(TestCaseError::fail(format!("no cycle through sg{lo} and sg{hi}")));
        };
        prop_assert_eq!(diags.len(), 1, "one back edge makes one cycle: {:?}", diags);
        prop_assert_eq!(diags[0].code, "graph::cycle");
        let names = cycle_names(&diags[0].message);
        prop_assert_eq!(names.first(), names.last());
        prop_assert!(names.contains(&d.addr(lo).to_string()), "{} does not name sg{}", diags[0].message, lo);
        prop_assert!(names.contains(&d.addr(hi).to_string()), "{} does not name sg{}", diags[0].message, hi);
    }
}

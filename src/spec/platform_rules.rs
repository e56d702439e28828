//! Rules of the EKS platform kinds (issue 15), each a way AWS would reject a request half-way
//! through an apply, kept apart from `rules.rs` and `cross_rules.rs`:
//!
//! - an access entry needs its cluster's `authentication_mode` to be `API` or
//!   `API_AND_CONFIG_MAP`. A cluster that leaves it out has `CONFIG_MAP`: that is what
//!   CreateCluster defaults to through the API and SDKs (only the console defaults to
//!   `API_AND_CONFIG_MAP`; EKS API reference, CreateAccessConfigRequest);
//! - an access entry's username cannot start with a prefix EKS reserves, and its access policies
//!   name each policy once, with namespaces exactly when the scope is `namespace`;
//! - IAM role and policy names are account-wide: now that a regional environment may declare
//!   them too, two declarations of one name (in any environments) would fight over one role.
//!
//! Like the other rules, a rule passes silently when a value it needs is known only after apply.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics};
use crate::kind::Kind;
use crate::source::Span;
use crate::spec::value::{Deferred, RefTarget, Value};
use crate::spec::{Resource, Spec};

/// The username prefixes EKS reserves (Amazon EKS User Guide, "Set a custom username").
const RESERVED_USERNAME_PREFIXES: [&str; 5] = ["system:", "eks:", "aws:", "amazon:", "iam:"];

pub fn check(spec: &Spec, selected: &[&Resource], d: &mut Diagnostics) {
    for r in selected {
        if r.kind == Kind::EksAccessEntry {
            access_entry_cluster(spec, r, d);
            access_entry_username(r, d);
            access_policies(r, d);
        }
    }
    iam_names(spec, d);
}

fn span_of(r: &Resource, attr: &str) -> Span {
    r.attr_spans.get(attr).copied().unwrap_or(r.span)
}

/// The cluster an access entry names: by reference, or by a literal name of a cluster declared
/// in the same environment. `None` for a cluster regionctl does not manage.
fn cluster_of<'s>(spec: &'s Spec, r: &Resource) -> Option<&'s Resource> {
    match r.attrs.get("cluster_name")? {
        Value::Unknown(dv) => {
            let Deferred::Ref(rf) = dv.as_ref() else {
                return None;
            };
            let RefTarget::Resolved { addr } = &rf.target else {
                return None;
            };
            spec.resources
                .get(addr)
                .filter(|c| c.kind == Kind::EksCluster)
        }
        Value::Str(name) => spec.resources.values().find(|c| {
            c.kind == Kind::EksCluster
                && c.addr.env == r.addr.env
                && c.attrs.get("name").and_then(Value::as_str) == Some(name.as_str())
        }),
        _ => None,
    }
}

fn access_entry_cluster(spec: &Spec, r: &Resource, d: &mut Diagnostics) {
    let Some(cluster) = cluster_of(spec, r) else {
        return;
    };
    let (mode, at) = match cluster.attrs.get("authentication_mode") {
        None | Some(Value::Null) => (
            "CONFIG_MAP",
            (
                cluster.span,
                "`authentication_mode` is not set: EKS creates the cluster with CONFIG_MAP",
            ),
        ),
        Some(Value::Str(m)) if m == "CONFIG_MAP" => (
            "CONFIG_MAP",
            (span_of(cluster, "authentication_mode"), "CONFIG_MAP here"),
        ),
        _ => return,
    };
    d.push(
        Diagnostic::error(
            "rule::access-entry-auth-mode",
            format!(
                "access entries need the cluster's authentication_mode to be API or API_AND_CONFIG_MAP, and {} has {mode}",
                cluster.addr
            ),
        )
        .with_label(span_of(r, "cluster_name"), "an access entry for this cluster")
        .with_label(at.0, at.1)
        .with_help("set `authentication_mode: API_AND_CONFIG_MAP` (or `API`) on the cluster: it is changed in place, one way only (towards API)"),
    );
}

fn access_entry_username(r: &Resource, d: &mut Diagnostics) {
    let Some(name) = r.attrs.get("username").and_then(Value::as_str) else {
        return;
    };
    if let Some(prefix) = RESERVED_USERNAME_PREFIXES
        .iter()
        .find(|p| name.starts_with(**p))
    {
        d.push(
            Diagnostic::error(
                "rule::access-entry-username",
                format!("an access entry's username cannot start with `{prefix}`"),
            )
            .with_label(span_of(r, "username"), "reserved by EKS")
            .with_help("leave `username` out to let EKS generate one, or choose a name without system:, eks:, aws:, amazon: or iam:"),
        );
    }
}

/// Each policy once (EKS keys associations by policy ARN), and namespaces exactly with a
/// namespace scope.
fn access_policies(r: &Resource, d: &mut Diagnostics) {
    let Some(Value::List(items)) = r.attrs.get("access_policies") else {
        return;
    };
    let at = span_of(r, "access_policies");
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let Value::Map(m) = item else { continue };
        if let Some(arn) = m.get("policy_arn").and_then(Value::as_str)
            && let Some(first) = seen.insert(arn, i)
        {
            d.push(
                Diagnostic::error(
                    "rule::access-policy-duplicate",
                    format!("access policy {arn} is listed twice (items {first} and {i})"),
                )
                .with_label(at, "in this list")
                .with_help("EKS associates a policy once per entry: merge the two into one item (a namespace scope takes several namespaces)"),
            );
        }
        let Some(Value::Map(scope)) = m.get("access_scope") else {
            continue;
        };
        let ty = scope.get("type").and_then(Value::as_str);
        let namespaces = match scope.get("namespaces") {
            Some(Value::List(ns)) => Some(ns.len()),
            Some(Value::Null) | None => None,
            Some(_) => continue, // known after apply
        };
        let problem = match (ty, namespaces) {
            (Some("namespace"), None | Some(0)) => "a namespace scope needs at least one namespace",
            (Some("cluster"), Some(n)) if n > 0 => {
                "a cluster scope takes no namespaces (it covers them all)"
            }
            _ => continue,
        };
        d.push(
            Diagnostic::error(
                "rule::access-policy-scope",
                format!("access policy item {i}: {problem}"),
            )
            .with_label(at, "in this list")
            .with_help("use `access_scope: {type: namespace, namespaces: [...]}` or `access_scope: {type: cluster}`"),
        );
    }
}

/// IAM role names, and policy names, are unique in the account (case-insensitively for roles),
/// whichever environment declares them. Reported once per name when one of the declarations is
/// in a selected environment.
fn iam_names(spec: &Spec, d: &mut Diagnostics) {
    let mut by_name: BTreeMap<(Kind, String), Vec<&Resource>> = BTreeMap::new();
    for r in spec
        .resources
        .values()
        .filter(|r| matches!(r.kind, Kind::IamRole | Kind::IamPolicy))
    {
        if let Some(name) = r.attrs.get("name").and_then(Value::as_str) {
            by_name
                .entry((r.kind, name.to_ascii_lowercase()))
                .or_default()
                .push(r);
        }
    }
    for ((kind, _), members) in by_name {
        if members.len() < 2
            || !members
                .iter()
                .any(|r| spec.envs.get(&r.addr.env).is_some_and(|e| e.selected))
        {
            continue;
        }
        let name = members[0]
            .attrs
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut diag = Diagnostic::error(
            "rule::iam-name-taken",
            format!(
                "{kind} name {name} is declared {} times: IAM names are account-wide",
                members.len()
            ),
        );
        for r in &members {
            diag = diag.with_label(span_of(r, "name"), format!("{}", r.addr));
        }
        d.push(diag.with_help(
            "give each a different name (with the region in it, say), or declare it once (in `global`) and reference it",
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::{Diagnostic, Severity};
    use crate::source::SourceMap;
    use crate::spec::load;
    use crate::spec::loader::{LoadOptions, MemFs};

    /// Every error of an in-memory project, as `file:line:col code`.
    fn errors(files: &[(&str, &str)]) -> Vec<String> {
        let fs = files
            .iter()
            .fold(MemFs::new(), |fs, (path, text)| fs.with(path, text));
        let mut sources = SourceMap::new();
        let (_, d) = load(&fs, &LoadOptions::all("."), &mut sources);
        let diags: Vec<Diagnostic> = d.into_sorted();
        diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                let at = d
                    .primary_span()
                    .map(|s| sources.location(s))
                    .unwrap_or_default();
                format!("{at} {}", d.code)
            })
            .collect()
    }

    const PROJECT: (&str, &str) = ("regionctl.yaml", "project: t\n");

    fn regional(cluster_extra: &str, entry: &str) -> String {
        format!(
            "region: eu-west-1
resources:
  eks_cluster.main:
    name: prod
    role_arn: arn:aws:iam::111122223333:role/eks
    subnet_ids: [subnet-a, subnet-b]
{cluster_extra}  eks_access_entry.ci:
{entry}"
        )
    }

    const BY_REF: &str = "    cluster_name: \"${eks_cluster.main.name}\"
    principal_arn: arn:aws:iam::111122223333:role/ci
";

    #[test]
    fn an_access_entry_needs_an_api_authentication_mode() {
        // Left out, the cluster is CONFIG_MAP (the API's default): the error points at the
        // entry's cluster_name.
        let text = regional("", BY_REF);
        assert_eq!(
            errors(&[PROJECT, ("envs/eu-west-1/main.yaml", &text)]),
            vec!["envs/eu-west-1/main.yaml:8:19 rule::access-entry-auth-mode"]
        );
        let text = regional("    authentication_mode: CONFIG_MAP\n", BY_REF);
        assert_eq!(
            errors(&[PROJECT, ("envs/eu-west-1/main.yaml", &text)]),
            vec!["envs/eu-west-1/main.yaml:9:19 rule::access-entry-auth-mode"]
        );
        // By literal name too.
        let literal =
            "    cluster_name: prod\n    principal_arn: arn:aws:iam::111122223333:role/ci\n";
        let text = regional("", literal);
        assert_eq!(
            errors(&[PROJECT, ("envs/eu-west-1/main.yaml", &text)]),
            vec!["envs/eu-west-1/main.yaml:8:19 rule::access-entry-auth-mode"]
        );
        for mode in ["API", "API_AND_CONFIG_MAP"] {
            let text = regional(&format!("    authentication_mode: {mode}\n"), BY_REF);
            assert!(
                errors(&[PROJECT, ("envs/eu-west-1/main.yaml", &text)]).is_empty(),
                "{mode}"
            );
        }
        // A cluster regionctl does not manage is not judged.
        let text = "region: eu-west-1\nresources:\n  eks_access_entry.ci:\n    cluster_name: elsewhere\n    principal_arn: arn:aws:iam::111122223333:role/ci\n";
        assert!(errors(&[PROJECT, ("envs/eu-west-1/main.yaml", text)]).is_empty());
    }

    #[test]
    fn access_entry_usernames_and_policies_are_checked() {
        let entry = format!(
            "{BY_REF}    username: \"system:ci\"
    access_policies:
      - policy_arn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy
        access_scope: {{type: namespace}}
      - policy_arn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy
        access_scope: {{type: cluster, namespaces: [a]}}
"
        );
        let text = regional("    authentication_mode: API\n", &entry);
        let got = errors(&[PROJECT, ("envs/eu-west-1/main.yaml", &text)]);
        assert_eq!(
            got,
            vec![
                "envs/eu-west-1/main.yaml:11:15 rule::access-entry-username",
                "envs/eu-west-1/main.yaml:13:7 rule::access-policy-duplicate",
                "envs/eu-west-1/main.yaml:13:7 rule::access-policy-scope",
                "envs/eu-west-1/main.yaml:13:7 rule::access-policy-scope",
            ],
            "{got:#?}"
        );
    }

    const IRSA: &str = "region: eu-west-1
resources:
  eks_cluster.main:
    name: prod
    role_arn: \"${env.global.iam_role.cluster.arn}\"
    subnet_ids: [subnet-a, subnet-b]
  iam_oidc_provider.eks:
    url: \"${eks_cluster.main.oidc_issuer}\"
  iam_role.ebs_csi:
    name: ebs-csi-eu-west-1
    assume_role_policy:
      Version: \"2012-10-17\"
      Statement:
        - Effect: Allow
          Principal: { Federated: \"${iam_oidc_provider.eks.arn}\" }
          Action: sts:AssumeRoleWithWebIdentity
  eks_addon.ebs:
    cluster_name: \"${eks_cluster.main.name}\"
    addon_name: aws-ebs-csi-driver
    service_account_role_arn: \"${iam_role.ebs_csi.arn}\"
";

    const GLOBAL: &str = "global: true
resources:
  iam_role.cluster:
    name: eks-cluster
    assume_role_policy: { Version: \"2012-10-17\", Statement: [] }
";

    #[test]
    fn an_irsa_role_is_declared_in_its_region_without_an_environment_cycle() {
        assert_eq!(
            errors(&[
                PROJECT,
                ("envs/global/main.yaml", GLOBAL),
                ("envs/eu-west-1/main.yaml", IRSA),
            ]),
            Vec::<String>::new()
        );
        // Still global-only: a hosted zone.
        let zone = "region: eu-west-1\nresources:\n  route53_zone.z:\n    name: example.com\n";
        assert_eq!(
            errors(&[PROJECT, ("envs/eu-west-1/main.yaml", zone)]),
            vec!["envs/eu-west-1/main.yaml:3:3 spec::placement"]
        );
    }

    #[test]
    fn an_iam_name_is_declared_once_in_the_account() {
        let global = format!(
            "{GLOBAL}  iam_role.ebs:\n    name: EBS-CSI-EU-WEST-1\n    assume_role_policy: {{ Version: \"2012-10-17\", Statement: [] }}\n"
        );
        let got = errors(&[
            PROJECT,
            ("envs/global/main.yaml", &global),
            ("envs/eu-west-1/main.yaml", IRSA),
        ]);
        // Role names compare case-insensitively, as IAM does; the error names both places.
        assert_eq!(
            got,
            vec!["envs/eu-west-1/main.yaml:10:11 rule::iam-name-taken"],
            "{got:#?}"
        );
        let us = IRSA
            .replace("eu-west-1", "us-west-2")
            .replace("ebs-csi-us-west-2", "ebs-csi-eu-west-1");
        let got = errors(&[
            PROJECT,
            ("envs/global/main.yaml", GLOBAL),
            ("envs/eu-west-1/main.yaml", IRSA),
            ("envs/us-west-2/main.yaml", &us),
        ]);
        assert_eq!(
            got,
            vec!["envs/eu-west-1/main.yaml:10:11 rule::iam-name-taken"],
            "{got:#?}"
        );
    }
}

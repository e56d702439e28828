//! The comparisons of the EKS platform's nested blocks ([`Norm::AccessPolicies`],
//! [`Norm::EncryptionConfig`]), kept apart from `compare.rs` so that file's table stays one
//! screen per norm; `compare::equal` calls these. The provider's `update` uses the same
//! normal forms, so the plan and the calls it makes cannot disagree.
//!
//! [`Norm::AccessPolicies`]: super::types::Norm::AccessPolicies
//! [`Norm::EncryptionConfig`]: super::types::Norm::EncryptionConfig

use std::collections::{BTreeMap, BTreeSet};

use crate::spec::value::Value;

/// An access scope in comparable form: its type (`cluster` or `namespace`) and its namespaces.
pub type Scope = (String, BTreeSet<String>);

/// An access entry's `access_policies` as EKS keys them: one association per policy ARN, with
/// its scope. Namespaces are a set (EKS returns them in its own order), and a cluster scope has
/// none whatever was written. `None` if the value is not a list of such blocks.
pub fn access_policies(v: &Value) -> Option<BTreeMap<String, Scope>> {
    let items = match v {
        Value::Null => return Some(BTreeMap::new()),
        Value::List(items) => items,
        _ => return None,
    };
    let mut out = BTreeMap::new();
    for item in items {
        let Value::Map(m) = item else { return None };
        let arn = m.get("policy_arn")?.as_str()?.to_owned();
        let (ty, namespaces) = match m.get("access_scope") {
            Some(Value::Map(scope)) => {
                let ty = scope.get("type")?.as_str()?.to_owned();
                let namespaces = match scope.get("namespaces") {
                    None | Some(Value::Null) => BTreeSet::new(),
                    Some(Value::List(ns)) => ns
                        .iter()
                        .map(|n| n.as_str().map(str::to_owned))
                        .collect::<Option<_>>()?,
                    Some(_) => return None,
                };
                (ty, namespaces)
            }
            None | Some(Value::Null) => ("cluster".to_owned(), BTreeSet::new()),
            Some(_) => return None,
        };
        let namespaces = if ty == "cluster" {
            BTreeSet::new()
        } else {
            namespaces
        };
        out.insert(arn, (ty, namespaces));
    }
    Some(out)
}

/// An EKS cluster's `encryption_config` in comparable form: its key ARN. `None` if the value is
/// not such a block.
pub fn encryption_config(v: &Value) -> Option<&str> {
    let Value::Map(m) = v else { return None };
    m.get("key_arn")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::Kind;
    use crate::spec::schema::compare::{AttrCmp, compare};

    fn s(text: &str) -> Value {
        Value::Str(text.to_owned())
    }

    fn list(items: &[&str]) -> Value {
        Value::List(items.iter().map(|i| s(i)).collect())
    }

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    const ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
    const VIEW: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";

    fn policy(arn: &str, ty: &str, ns: &[&str]) -> Value {
        let mut scope = vec![("type", s(ty))];
        if !ns.is_empty() {
            scope.push(("namespaces", list(ns)));
        }
        map(&[("policy_arn", s(arn)), ("access_scope", map(&scope))])
    }

    fn cmp(desired: Option<Value>, live: Option<Value>) -> AttrCmp {
        compare(
            Kind::EksAccessEntry,
            "access_policies",
            desired.as_ref(),
            live.as_ref(),
        )
    }

    #[test]
    fn access_policies_ignore_order_of_policies_and_namespaces() {
        let spec = Value::List(vec![
            policy(VIEW, "namespace", &["b", "a"]),
            policy(ADMIN, "cluster", &[]),
        ]);
        let live = Value::List(vec![
            policy(ADMIN, "cluster", &[]),
            policy(VIEW, "namespace", &["a", "b"]),
        ]);
        assert_eq!(cmp(Some(spec), Some(live)), AttrCmp::Same);
    }

    #[test]
    fn access_policies_are_managed_exactly() {
        let live = Value::List(vec![policy(ADMIN, "cluster", &[])]);
        // Absent means none: a live association differs (it is disassociated).
        assert_eq!(cmp(None, Some(live.clone())), AttrCmp::Differs);
        assert_eq!(cmp(None, Some(Value::List(vec![]))), AttrCmp::Same);
        // Another scope, another namespace, another policy: all differ.
        let rescoped = Value::List(vec![policy(ADMIN, "namespace", &["a"])]);
        assert_eq!(cmp(Some(rescoped), Some(live.clone())), AttrCmp::Differs);
        let more = Value::List(vec![
            policy(ADMIN, "cluster", &[]),
            policy(VIEW, "cluster", &[]),
        ]);
        assert_eq!(cmp(Some(more), Some(live)), AttrCmp::Differs);
        let ns_a = Value::List(vec![policy(VIEW, "namespace", &["a"])]);
        let ns_ab = Value::List(vec![policy(VIEW, "namespace", &["a", "b"])]);
        assert_eq!(cmp(Some(ns_a), Some(ns_ab)), AttrCmp::Differs);
    }

    #[test]
    fn access_entry_defaults_plan_clean() {
        let same = |name: &str, desired: Option<Value>, live: Value| {
            compare(Kind::EksAccessEntry, name, desired.as_ref(), Some(&live))
        };
        // EKS's generated username and a node entry's groups stay when the spec says nothing.
        let generated = s("arn:aws:sts::111122223333:assumed-role/ci/{{SessionName}}");
        assert_eq!(same("username", None, generated), AttrCmp::Same);
        assert_eq!(
            same("kubernetes_groups", None, list(&["system:nodes"])),
            AttrCmp::Same
        );
        assert_eq!(
            same(
                "kubernetes_groups",
                Some(list(&["b", "a"])),
                list(&["a", "b"])
            ),
            AttrCmp::Same
        );
        // The type defaults to STANDARD, what EKS reports for an entry created without one.
        assert_eq!(same("type", None, s("STANDARD")), AttrCmp::Same);
        assert_eq!(same("type", None, s("EC2_LINUX")), AttrCmp::Differs);
    }

    #[test]
    fn encryption_config_compares_keys() {
        let key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let live = map(&[("key_arn", s(key))]);
        let cmp = |desired: Option<Value>, live: Option<Value>| {
            compare(
                Kind::EksCluster,
                "encryption_config",
                desired.as_ref(),
                live.as_ref(),
            )
        };
        assert_eq!(
            cmp(Some(map(&[("key_arn", s(key))])), Some(live.clone())),
            AttrCmp::Same
        );
        let other = key.replace("1234abcd", "9999abcd");
        assert_eq!(
            cmp(Some(map(&[("key_arn", s(&other))])), Some(live.clone())),
            AttrCmp::Differs
        );
        // Removing it from the spec is a change (which replaces the cluster, see diff.rs).
        assert_eq!(cmp(None, Some(live)), AttrCmp::Differs);
        assert_eq!(cmp(None, None), AttrCmp::Same);
    }
}

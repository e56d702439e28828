//! `iam_policy` against the emulator, through the real SDK: a customer managed policy created
//! with tags, read back as the spec (the document compared as JSON, not text); refresh by hints
//! in one ListPolicies; a changed document as a new default version, with the oldest versions
//! deleted at IAM's limit of 5; an IRSA role attaching it (a set) with an inline policy (a map of
//! documents); adoption after a crash; delete refused by IAM while attached, then done with its
//! versions.

use std::collections::BTreeSet;

use crate::support::emulator::Emulator;
use crate::support::{Res, attr, attrs};
use regionctl::kind::Kind;
use regionctl::provider::{Attrs, Hints, Observed, ProviderError};
use regionctl::spec::schema::compare::{AttrCmp, compare, compare_all};
use regionctl::spec::value::Value;
use serde_json::json;

fn assert_no_op(kind: Kind, desired: &Attrs, live: &Observed) {
    let out = compare_all(kind, desired, &live.attrs);
    assert!(
        out.values().all(|c| *c == AttrCmp::Same),
        "{out:?}\ndesired {desired:?}\nlive {:?}",
        live.attrs
    );
}

/// The EBS CSI driver's permissions, abridged, with `n` as a marker of the version.
fn ebs_csi(n: u32) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": format!("v{n}"),
            "Effect": "Allow",
            "Action": ["ec2:CreateVolume", "ec2:AttachVolume", "ec2:DetachVolume"],
            "Resource": "*",
        }],
    })
}

fn irsa_trust() -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE:sub": "system:serviceaccount:kube-system:ebs-csi-controller-sa",
            }},
        }],
    })
}

fn versions(emu: &Emulator, arn: &str) -> Vec<String> {
    let out = emu.boto3(&format!(
        "vs = client('iam', 'us-east-1').list_policy_versions(PolicyArn='{arn}')['Versions']\n\
         print(' '.join(sorted(v['VersionId'] + ('*' if v['IsDefaultVersion'] else '') for v in vs)))"
    ));
    out.split_whitespace().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn policy_lifecycle_with_versions_and_an_irsa_role() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let r = Res::new("global/iam_policy.ebs_csi");
    let ctx = r.ctx();
    let desired = attrs(json!({
        "name": "platform-ebs-csi",
        "path": "/platform/",
        "description": "EBS CSI driver",
        "policy": ebs_csi(1),
        "tags": {"team": "platform"},
    }));
    let policy = p.create_and_wait(&ctx, &desired).await.expect("create");
    let arn = attr(&policy.computed, "arn").to_owned();
    assert_eq!(
        arn,
        "arn:aws:iam::123456789012:policy/platform/platform-ebs-csi"
    );
    assert_eq!(policy.id, arn);
    assert_eq!(attr(&policy.computed, "default_version_id"), "v1");
    assert_eq!(policy.stack_tag(), Some("tests"));
    assert_eq!(policy.address_tag(), Some("global/iam_policy.ebs_csi"));
    assert_eq!(policy.attrs.get("tags"), desired.get("tags"));
    assert_no_op(Kind::IamPolicy, &desired, &policy);
    // The same document as reformatted JSON text, and with a one-element list written as its
    // element, is the same; another action is not.
    let text = serde_json::to_string_pretty(&ebs_csi(1)).expect("json");
    assert_eq!(
        compare(
            Kind::IamPolicy,
            "policy",
            Some(&Value::Str(text)),
            policy.attrs.get("policy")
        ),
        AttrCmp::Same
    );
    let mut single = ebs_csi(1);
    single["Statement"] = single["Statement"][0].clone();
    assert_eq!(
        compare(
            Kind::IamPolicy,
            "policy",
            Some(&Value::from_json(&single)),
            policy.attrs.get("policy")
        ),
        AttrCmp::Same
    );
    assert_eq!(
        compare(
            Kind::IamPolicy,
            "policy",
            Some(&Value::from_json(&ebs_csi(2))),
            policy.attrs.get("policy")
        ),
        AttrCmp::Differs
    );

    // Refresh: one ListPolicies, then the named policies only.
    let before = p.clients.requests();
    let hints = Hints {
        names: BTreeSet::from(["platform-ebs-csi".to_owned(), "absent".to_owned()]),
        ..Hints::default()
    };
    let listed = p
        .refresh(Kind::IamPolicy, "us-east-1", &hints)
        .await
        .expect("refresh");
    assert_eq!(listed, vec![policy.clone()]);
    let after = p.clients.requests();
    assert_eq!(
        after.operation("ListPolicies") - before.operation("ListPolicies"),
        1
    );
    let other = emu.provider("other").await;
    assert!(
        other
            .refresh(Kind::IamPolicy, "us-east-1", &hints)
            .await
            .expect("refresh")
            .is_empty(),
        "another stack's refresh does not take it"
    );

    // Six document changes: each a new default version; IAM keeps at most 5, so the oldest
    // non-default ones go.
    let mut current = policy.clone();
    for n in 2..=7 {
        let changed = attrs(json!({
            "name": "platform-ebs-csi",
            "path": "/platform/",
            "description": "EBS CSI driver",
            "policy": ebs_csi(n),
            "tags": {"team": "sre"},
        }));
        current = p
            .update_and_wait(&ctx, &current, &changed)
            .await
            .unwrap_or_else(|e| panic!("update to version {n}: {e}"));
        assert_eq!(
            attr(&current.computed, "default_version_id"),
            format!("v{n}")
        );
        assert_no_op(Kind::IamPolicy, &changed, &current);
    }
    assert_eq!(versions(&emu, &arn), ["v3", "v4", "v5", "v6", "v7*"]);
    assert_eq!(
        current.attrs.get("tags"),
        Some(&attrs(json!({"t": {"team": "sre"}}))["t"])
    );

    // An IRSA role attaching it (by reference: its ARN) beside an AWS managed policy, with an
    // inline policy; the attachments are a set, the inline policies documents compared as JSON.
    let role = Res::new("global/iam_role.ebs_csi");
    let role_desired = attrs(json!({
        "name": "platform-ebs-csi",
        "assume_role_policy": irsa_trust(),
        "managed_policy_arns": [arn, "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"],
        "inline_policies": {"kms": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "kms:CreateGrant", "Resource": "*"}],
        }},
    }));
    let made = p
        .create_and_wait(&role.ctx(), &role_desired)
        .await
        .expect("role");
    let reordered = attrs(json!({
        "name": "platform-ebs-csi",
        "assume_role_policy": serde_json::to_string(&irsa_trust()).expect("json"),
        "managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy", arn],
        "inline_policies": {"kms": serde_json::to_string_pretty(&json!({
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": ["kms:CreateGrant"], "Resource": "*"},
        })).expect("json")},
    }));
    assert_no_op(Kind::IamRole, &role_desired, &made);
    assert_no_op(Kind::IamRole, &reordered, &made);

    // IAM refuses to delete a policy still attached (the emulator as IAM does); once the role
    // is gone the delete removes the other versions and the policy.
    let err = p
        .delete(&ctx, &current, &desired)
        .await
        .expect_err("attached");
    assert!(err.to_string().contains("DeleteConflict"), "{err}");
    p.delete_and_wait(&role.ctx(), &made, &role_desired)
        .await
        .expect("delete the role");
    p.delete_and_wait(&ctx, &current, &desired)
        .await
        .expect("delete");
    p.delete(&ctx, &current, &desired)
        .await
        .expect("delete twice");
    assert!(p.read(&ctx, &arn).await.expect("read").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_made_before_a_crash_is_adopted_not_made_twice() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let r = Res::new("global/iam_policy.lbc");
    let ctx = r.ctx();
    let desired = attrs(json!({"name": "platform-lbc", "policy": ebs_csi(1)}));
    let made = p.create(&ctx, &desired).await.expect("create");
    let found = p.find(&ctx, &desired).await.expect("find").expect("found");
    assert_eq!(found, made);
    let elsewhere = Res::new("global/iam_policy.other");
    assert!(
        p.find(&elsewhere.ctx(), &desired)
            .await
            .expect("find")
            .is_none()
    );
    // A retried create meets EntityAlreadyExists, takes its own policy over and brings it to
    // the spec; another stack's create of the name fails.
    let retried = attrs(json!({"name": "platform-lbc", "policy": ebs_csi(2)}));
    let adopted = p.create(&ctx, &retried).await.expect("retried create");
    assert_eq!(adopted.id, made.id);
    assert_eq!(attr(&adopted.computed, "default_version_id"), "v2");
    let other = emu.provider("other").await;
    let err = other
        .create(&ctx, &retried)
        .await
        .expect_err("another stack's policy");
    assert!(err.to_string().contains("EntityAlreadyExists"), "{err}");
    let bad = Res::new("global/iam_policy.bad");
    let before = p.clients.requests().total();
    let err = p
        .create(
            &bad.ctx(),
            &attrs(json!({"name": "has space", "policy": ebs_csi(1)})),
        )
        .await
        .expect_err("a bad name");
    assert!(matches!(err, ProviderError::Invalid { .. }), "{err}");
    assert_eq!(p.clients.requests().total(), before, "no request");
}

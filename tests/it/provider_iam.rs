//! `iam_role` against the emulator, through the real SDK: create with policies, read back,
//! refresh by hints, update every attribute group in place, replace, delete with attachments.

use crate::support::emulator::Emulator;
use crate::support::{Res, attr, attrs};
use regionctl::provider::{Hints, Status};
use regionctl::spec::value::Value;
use serde_json::json;

const EKS_CLUSTER_POLICY: &str = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy";
const VPC_CONTROLLER_POLICY: &str = "arn:aws:iam::aws:policy/AmazonEKSVPCResourceController";
const EKS_SERVICE_POLICY: &str = "arn:aws:iam::aws:policy/AmazonEKSServicePolicy";

fn trust(services: &[&str]) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": services},
            "Action": "sts:AssumeRole",
        }],
    })
}

fn hints(names: &[&str]) -> Hints {
    Hints {
        names: names.iter().map(|n| (*n).to_owned()).collect(),
        ..Hints::default()
    }
}

/// Every attribute the spec sets is observed with the same value.
fn assert_as_specified(
    observed: &regionctl::provider::Observed,
    desired: &regionctl::provider::Attrs,
) {
    for (name, want) in desired {
        assert_eq!(
            observed.attrs.get(name),
            Some(want),
            "attribute {name} of {observed:#?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn iam_role_lifecycle() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let r = Res::new("global/iam_role.eks_cluster");
    let ctx = r.ctx();
    assert_eq!(ctx.region, "us-east-1");

    let desired = attrs(json!({
        "name": "platform-eks-cluster",
        "description": "EKS control planes",
        "assume_role_policy": trust(&["eks.amazonaws.com"]),
        "managed_policy_arns": [EKS_CLUSTER_POLICY, VPC_CONTROLLER_POLICY],
        "inline_policies": {
            "logs": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogGroup"], "Resource": "*"}],
            },
        },
        "max_session_duration": 7200,
        "tags": {"team": "platform", "cost": "shared"},
    }));
    let role = p.create_and_wait(&ctx, &desired).await.expect("create");
    assert_eq!(role.status, Status::Ready);
    assert_eq!(role.id, "platform-eks-cluster");
    assert_eq!(role.region, "us-east-1");
    assert_as_specified(&role, &desired);
    assert_eq!(attr(&role.attrs, "path"), "/");
    assert_eq!(role.address_tag(), Some("global/iam_role.eks_cluster"));
    assert_eq!(role.stack_tag(), Some("tests"));
    assert!(attr(&role.computed, "arn").ends_with(":role/platform-eks-cluster"));
    assert_eq!(attr(&role.computed, "id"), "platform-eks-cluster");
    assert!(!attr(&role.computed, "unique_id").is_empty());

    // Read back; refresh finds it by the hinted name, leaving out another stack's role and a
    // name that does not exist.
    assert_eq!(
        p.read(&ctx, &role.id).await.expect("read").expect("exists"),
        role
    );
    let other = emu.provider("other").await;
    let foreign_res = Res::new("global/iam_role.foreign");
    other
        .create(
            &foreign_res.ctx(),
            &attrs(json!({"name": "foreign", "assume_role_policy": trust(&["ec2.amazonaws.com"])})),
        )
        .await
        .expect("create another stack's role");
    let before = p.clients.requests();
    let listed = p
        .refresh(
            r.kind,
            "us-east-1",
            &hints(&["platform-eks-cluster", "foreign", "missing"]),
        )
        .await
        .expect("refresh");
    assert_eq!(listed, vec![role.clone()]);
    let after = p.clients.requests();
    let sent = |op: &str| after.operation(op) - before.operation(op);
    // Per existing role: GetRole, ListAttachedRolePolicies, ListRolePolicies, and one
    // GetRolePolicy per inline policy; a missing role costs one GetRole.
    assert_eq!(sent("GetRole"), 3);
    assert_eq!(sent("ListAttachedRolePolicies"), 2);
    assert_eq!(sent("ListRolePolicies"), 2);
    assert_eq!(sent("GetRolePolicy"), 1);
    assert_eq!(sent("ListRoles"), 0);
    // The id recorded in state is a name too.
    let by_id = Hints {
        ids: ["platform-eks-cluster".to_owned()].into(),
        ..Hints::default()
    };
    assert_eq!(
        p.refresh(r.kind, "us-east-1", &by_id)
            .await
            .expect("refresh"),
        vec![role.clone()]
    );

    // Update in place: trust policy, the managed policy set, inline policies (one changed, one
    // added), description, session duration, permissions boundary, tags.
    let changed = attrs(json!({
        "name": "platform-eks-cluster",
        "description": "EKS control planes and nodes",
        "assume_role_policy": trust(&["eks.amazonaws.com", "ec2.amazonaws.com"]),
        "managed_policy_arns": [EKS_SERVICE_POLICY, EKS_CLUSTER_POLICY],
        "inline_policies": {
            "logs": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:PutLogEvents"], "Resource": "*"}],
            },
            "s3": json!({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}],
            }).to_string(),
        },
        "max_session_duration": 3600,
        "permissions_boundary": "arn:aws:iam::aws:policy/PowerUserAccess",
        "tags": {"team": "platform-2", "env": "prod"},
    }));
    let updated = p
        .update_and_wait(&ctx, &role, &changed)
        .await
        .expect("update");
    assert_eq!(updated.id, role.id);
    assert_eq!(
        attr(&updated.computed, "unique_id"),
        attr(&role.computed, "unique_id"),
        "same role"
    );
    let mut want = changed.clone();
    // A policy written as a JSON string is observed as the map it encodes.
    let s3 = match want.get_mut("inline_policies") {
        Some(Value::Map(m)) => m.get_mut("s3").expect("s3 policy"),
        _ => panic!("inline policies"),
    };
    *s3 = Value::from_json(&serde_json::from_str(s3.as_str().expect("a string")).expect("json"));
    let mut sorted = vec![EKS_CLUSTER_POLICY, EKS_SERVICE_POLICY];
    sorted.sort();
    want.insert(
        "managed_policy_arns".into(),
        Value::from_json(&json!(sorted)),
    );
    assert_as_specified(&updated, &want);
    assert_eq!(
        updated.address_tag(),
        role.address_tag(),
        "identity tags kept"
    );
    assert_eq!(updated.stack_tag(), Some("tests"));
    assert_eq!(
        p.read(&ctx, &role.id).await.expect("read").expect("exists"),
        updated
    );

    // Removing the boundary, every inline policy, the managed policies and the description.
    let trimmed = attrs(json!({
        "name": "platform-eks-cluster",
        "assume_role_policy": trust(&["eks.amazonaws.com"]),
    }));
    let trimmed_role = p
        .update_and_wait(&ctx, &updated, &trimmed)
        .await
        .expect("update again");
    for gone in [
        "permissions_boundary",
        "inline_policies",
        "managed_policy_arns",
        "description",
        "tags",
    ] {
        assert!(
            !trimmed_role.attrs.contains_key(gone),
            "{gone} left in {trimmed_role:#?}"
        );
    }
    assert_as_specified(&trimmed_role, &trimmed);
    assert_eq!(
        trimmed_role.attrs.get("max_session_duration"),
        Some(&Value::Int(3600))
    );
    assert_eq!(trimmed_role.address_tag(), role.address_tag());

    // Put policies back, then replace (the name forces it): create the new role, delete the old
    // one although policies are attached to it.
    let full = p
        .update_and_wait(&ctx, &trimmed_role, &desired)
        .await
        .expect("restore");
    assert_as_specified(&full, &desired);
    let renamed = attrs(json!({
        "name": "platform-eks-cluster-v2",
        "assume_role_policy": trust(&["eks.amazonaws.com"]),
        "managed_policy_arns": [EKS_CLUSTER_POLICY],
        "path": "/platform/",
    }));
    let new = p
        .create_and_wait(&ctx, &renamed)
        .await
        .expect("create replacement");
    assert!(attr(&new.computed, "arn").ends_with(":role/platform/platform-eks-cluster-v2"));
    p.delete_and_wait(&ctx, &full, &desired)
        .await
        .expect("delete old with attachments");
    assert!(p.read(&ctx, &full.id).await.expect("read").is_none());
    p.delete(&ctx, &full, &desired).await.expect("delete twice");
    let listed = p
        .refresh(
            r.kind,
            "us-east-1",
            &hints(&["platform-eks-cluster", "platform-eks-cluster-v2"]),
        )
        .await
        .expect("refresh");
    assert_eq!(listed, vec![new.clone()]);

    p.delete_and_wait(&ctx, &new, &renamed)
        .await
        .expect("delete");
    assert!(
        p.refresh(r.kind, "us-east-1", &hints(&["platform-eks-cluster-v2"]))
            .await
            .expect("refresh")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn iam_role_create_takes_over_its_own_role_but_not_another() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let r = Res::new("global/iam_role.node");
    let ctx = r.ctx();
    let desired = attrs(json!({
        "name": "node",
        "assume_role_policy": trust(&["ec2.amazonaws.com"]),
        "managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"],
    }));
    let first = p.create(&ctx, &desired).await.expect("create");
    // An interrupted apply retries the create: the role it made is recognised by its tags.
    let again = p.create(&ctx, &desired).await.expect("create again");
    assert_eq!(again, first);

    // The same name at another address is another resource: IAM's own error, with context.
    let clash = Res::new("global/iam_role.clash");
    let err = p
        .create(&clash.ctx(), &desired)
        .await
        .expect_err("name taken");
    let text = err.to_string();
    assert_eq!(err.code(), Some("EntityAlreadyExists"), "{text}");
    assert!(text.contains("global/iam_role.clash"), "{text}");
    assert!(text.contains("in us-east-1"), "{text}");
    assert!(text.contains("CreateRole"), "{text}");

    // A policy that does not exist: AttachRolePolicy's NoSuchEntity, with the address.
    let bad = Res::new("global/iam_role.bad");
    let err = p
        .create(
            &bad.ctx(),
            &attrs(json!({
                "name": "bad",
                "assume_role_policy": trust(&["ec2.amazonaws.com"]),
                "managed_policy_arns": ["arn:aws:iam::aws:policy/NoSuchPolicy"],
            })),
        )
        .await
        .expect_err("unknown policy");
    let text = err.to_string();
    assert_eq!(err.code(), Some("NoSuchEntity"), "{text}");
    assert!(
        text.contains("global/iam_role.bad") && text.contains("AttachRolePolicy"),
        "{text}"
    );
}

/// A plan's refresh batch reads the account's roles in two lists, once for every environment
/// that declares roles, and observes each role exactly as reading it alone does.
#[tokio::test(flavor = "multi_thread")]
async fn a_refresh_batch_reads_the_accounts_roles_once_for_every_environment() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let mut made = Vec::new();
    for (addr, name) in [
        ("global/iam_role.cluster", "batch-cluster"),
        ("eu-west-1/iam_role.ebs_csi", "batch-ebs-csi"),
        ("ap-southeast-1/iam_role.ebs_csi", "batch-ebs-csi-apse1"),
    ] {
        let r = Res::new(addr);
        let desired = attrs(json!({
            "name": name,
            "description": "batched read",
            "assume_role_policy": trust(&["eks.amazonaws.com"]),
            "managed_policy_arns": [EKS_CLUSTER_POLICY],
            "inline_policies": {
                "logs": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogGroup"], "Resource": "*"}],
                },
            },
            "max_session_duration": 7200,
            "permissions_boundary": EKS_SERVICE_POLICY,
            "tags": {"team": "platform"},
        }));
        made.push(p.create_and_wait(&r.ctx(), &desired).await.expect("create"));
    }
    // Another stack's role is in the account's lists but never kept.
    emu.provider("other")
        .await
        .create(
            &Res::new("global/iam_role.foreign").ctx(),
            &attrs(json!({"name": "batch-foreign", "assume_role_policy": trust(&["ec2.amazonaws.com"])})),
        )
        .await
        .expect("create another stack's role");

    let before = p.clients.requests();
    let results = p
        .refresh_many(vec![
            (
                made[0].kind,
                "us-east-1".to_owned(),
                hints(&["batch-cluster", "batch-foreign", "batch-missing"]),
            ),
            (
                made[1].kind,
                "us-east-1".to_owned(),
                hints(&["batch-ebs-csi"]),
            ),
            (
                made[2].kind,
                "us-east-1".to_owned(),
                hints(&["batch-ebs-csi-apse1"]),
            ),
        ])
        .await;
    let after = p.clients.requests();
    let sent = |op: &str| after.operation(op) - before.operation(op);
    let listed: Vec<_> = results
        .into_iter()
        .map(|(_, _, r)| r.expect("refresh"))
        .collect();
    assert_eq!(
        listed,
        vec![
            vec![made[0].clone()],
            vec![made[1].clone()],
            vec![made[2].clone()]
        ]
    );
    for role in &made {
        // The batched view is the one a read alone gives, attribute for attribute.
        let alone = p
            .refresh(role.kind, "us-east-1", &hints(&[role.id.as_str()]))
            .await
            .expect("refresh alone");
        assert_eq!(alone, vec![role.clone()]);
    }
    assert_eq!(sent("GetAccountAuthorizationDetails"), 1);
    assert_eq!(sent("ListRoles"), 1);
    // Only the name in neither list is read alone (and found missing).
    assert_eq!(sent("GetRole"), 1);
    assert_eq!(sent("ListAttachedRolePolicies"), 0);
    assert_eq!(sent("ListRolePolicies"), 0);
    assert_eq!(sent("GetRolePolicy"), 0);
}

/// A caller whose policy lacks `iam:GetAccountAuthorizationDetails` (a CI role written before
/// regionctl used it) still refreshes: each role is read on its own, and the plan sees the same.
#[tokio::test(flavor = "multi_thread")]
async fn without_the_account_wide_read_each_role_is_read_alone() {
    use crate::support::proxy::{FaultProxy, Faults, RequestInfo};
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let r = Res::new("global/iam_role.node");
    let made = p
        .create_and_wait(
            &r.ctx(),
            &attrs(json!({
                "name": "denied-node",
                "assume_role_policy": trust(&["ec2.amazonaws.com"]),
                "managed_policy_arns": [EKS_CLUSTER_POLICY],
            })),
        )
        .await
        .expect("create");
    fn deny(info: &RequestInfo) -> bool {
        info.operation == "GetAccountAuthorizationDetails"
    }
    let proxy = FaultProxy::start(
        emu.port,
        Faults {
            deny: Some(deny),
            ..Faults::default()
        },
        1,
    );
    let denied = emu.provider_at(&proxy.endpoint, "tests").await;
    let before = denied.clients.requests();
    let results = denied
        .refresh_many(vec![(
            made.kind,
            "us-east-1".to_owned(),
            hints(&["denied-node"]),
        )])
        .await;
    let after = denied.clients.requests();
    let listed: Vec<_> = results
        .into_iter()
        .map(|(_, _, r)| r.expect("a denied account-wide read is not an error"))
        .collect();
    assert_eq!(listed, vec![vec![made]]);
    assert!(
        proxy.count("iam", crate::support::proxy::Fault::Denied) >= 1,
        "{}",
        proxy.report()
    );
    assert_eq!(after.operation("GetRole") - before.operation("GetRole"), 1);
}

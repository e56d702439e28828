//! `eks_cluster` and `eks_node_group` against the emulator, through the real SDK, in two
//! regions: create (pending, then ready), read back, refresh, upgrades and configuration changes
//! in place (several updates in one apply run one after the other), replacement, deletion.

use crate::support::emulator::Emulator;
use crate::support::{Res, attr, attrs};
use regionctl::provider::{Attrs, Hints, Observed, Provider, Status};
use regionctl::spec::value::Value;
use serde_json::json;

const REGIONS: [&str; 2] = ["eu-west-1", "ap-southeast-1"];

pub(crate) fn trust(service: &str) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    })
}

/// The cluster and node roles, made by the provider (which checks that AWS managed policies
/// attach in the emulator): `(cluster role ARN, node role ARN)`.
pub(crate) async fn roles(p: &Provider) -> (String, String) {
    let cluster = Res::new("global/iam_role.eks_cluster");
    let cluster = p
        .create_and_wait(
            &cluster.ctx(),
            &attrs(json!({
                "name": "platform-eks-cluster",
                "assume_role_policy": trust("eks.amazonaws.com"),
                "managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"],
            })),
        )
        .await
        .expect("cluster role");
    assert_eq!(
        cluster.attrs.get("managed_policy_arns"),
        Some(&Value::from_json(&json!([
            "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
        ])))
    );
    let node = Res::new("global/iam_role.eks_node");
    let node = p
        .create_and_wait(
            &node.ctx(),
            &attrs(json!({
                "name": "platform-eks-node",
                "assume_role_policy": trust("ec2.amazonaws.com"),
                "managed_policy_arns": [
                    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
                    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
                    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
                ],
            })),
        )
        .await
        .expect("node role");
    (
        attr(&cluster.computed, "arn").to_owned(),
        attr(&node.computed, "arn").to_owned(),
    )
}

/// A VPC with two subnets in two zones of `region`, made with plain EC2 calls: the sorted ids.
pub(crate) async fn subnets(p: &Provider, region: &str) -> Vec<String> {
    let ec2 = p.clients.ec2(region);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .expect("vpc")
        .vpc
        .and_then(|v| v.vpc_id)
        .expect("vpc id");
    let mut ids = Vec::new();
    for (i, zone) in ["a", "b"].into_iter().enumerate() {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.0.{i}.0/24"))
            .availability_zone(format!("{region}{zone}"))
            .send()
            .await
            .expect("subnet")
            .subnet
            .and_then(|s| s.subnet_id)
            .expect("subnet id");
        ids.push(subnet);
    }
    ids.sort();
    ids
}

/// Every attribute the spec sets is observed with the same value.
fn assert_as_specified(observed: &Observed, desired: &Attrs) {
    for (name, want) in desired {
        assert_eq!(
            observed.attrs.get(name),
            Some(want),
            "attribute {name} of {observed:#?}"
        );
    }
}

pub(crate) fn with(base: &Attrs, changes: serde_json::Value) -> Attrs {
    let mut out = base.clone();
    for (k, v) in attrs(changes) {
        if v == Value::Null {
            out.remove(&k);
        } else {
            out.insert(k, v);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn eks_cluster_lifecycle_in_two_regions() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let other = emu.provider("other").await;
    let (cluster_role, _) = roles(&p).await;
    emu.set_delay("eks_cluster", 2);
    for region in REGIONS {
        let subnet_ids = subnets(&p, region).await;
        let r = Res::new(&format!("{region}/eks_cluster.main"));
        let ctx = r.ctx();
        let desired = attrs(json!({
            "name": format!("prod-{region}"),
            "version": "1.30",
            "role_arn": cluster_role,
            "subnet_ids": subnet_ids,
            "endpoint_public_access": true,
            "endpoint_private_access": true,
            "public_access_cidrs": ["203.0.113.0/24"],
            "logging": ["api", "audit"],
            "service_ipv4_cidr": "10.100.0.0/16",
            "authentication_mode": "API_AND_CONFIG_MAP",
            "support_type": "STANDARD",
            "tags": {"team": "platform"},
        }));

        // Create answers while the cluster is still being created; the wait sees it ready.
        let created = p.create(&ctx, &desired).await.expect("create");
        assert_eq!(created.status, Status::Pending("CREATING".into()));
        assert_eq!(created.id, format!("prod-{region}"));
        let cluster = p.wait_ready(&ctx, &created.id).await.expect("ready");
        assert_eq!(cluster.status, Status::Ready);
        assert_eq!(cluster.region, region);
        assert_as_specified(&cluster, &desired);
        assert_eq!(
            cluster.address_tag(),
            Some(format!("{region}/eks_cluster.main").as_str())
        );
        assert_eq!(cluster.stack_tag(), Some("tests"));
        assert!(attr(&cluster.computed, "arn").starts_with(&format!("arn:aws:eks:{region}:")));
        assert_eq!(attr(&cluster.computed, "id"), cluster.id);
        assert!(attr(&cluster.computed, "endpoint").starts_with("https://"));
        assert!(attr(&cluster.computed, "oidc_issuer").starts_with("https://oidc.eks."));
        assert!(attr(&cluster.computed, "cluster_security_group_id").starts_with("sg-"));
        for computed in ["certificate_authority", "platform_version"] {
            assert!(!attr(&cluster.computed, computed).is_empty());
        }
        // The same token again (an interrupted apply retried) answers the same cluster.
        let retried = p.create(&ctx, &desired).await.expect("idempotent create");
        assert_eq!(retried.id, cluster.id);
        assert_eq!(
            p.read(&ctx, &cluster.id)
                .await
                .expect("read")
                .expect("exists"),
            cluster
        );

        // Another stack's cluster in the region is not listed.
        let foreign = Res::new(&format!("{region}/eks_cluster.foreign"));
        let foreign_spec = with(
            &desired,
            json!({"name": format!("foreign-{region}"), "tags": null}),
        );
        other
            .create_and_wait(&foreign.ctx(), &foreign_spec)
            .await
            .expect("foreign cluster");
        let before = p.clients.requests();
        let listed = p
            .refresh(r.kind, region, &Hints::default())
            .await
            .expect("refresh");
        assert_eq!(listed, vec![cluster.clone()]);
        let after = p.clients.requests();
        assert_eq!(
            after.operation("ListClusters") - before.operation("ListClusters"),
            1
        );
        assert_eq!(
            after.operation("DescribeCluster") - before.operation("DescribeCluster"),
            2
        );

        // Upgrade and reconfigure in one apply: the version, the endpoint CIDRs, the log types,
        // the upgrade policy and the tags. EKS runs one update at a time, so each waits for the
        // one before it.
        let before = p.clients.requests();
        let changed = with(
            &desired,
            json!({
                "version": "1.31",
                "public_access_cidrs": ["198.51.100.0/24", "203.0.113.0/24"],
                "logging": ["api", "audit", "authenticator"],
                "support_type": "EXTENDED",
                "tags": {"team": "platform-2", "env": "prod"},
            }),
        );
        let updating = p.update(&ctx, &cluster, &changed).await.expect("update");
        assert_eq!(updating.status, Status::Pending("UPDATING".into()));
        let updated = p.wait_ready(&ctx, &updating.id).await.expect("updated");
        assert_as_specified(&updated, &changed);
        assert_eq!(
            updated.address_tag(),
            cluster.address_tag(),
            "identity tags kept"
        );
        let after = p.clients.requests();
        let sent = |op: &str| after.operation(op) - before.operation(op);
        assert_eq!(sent("UpdateClusterVersion"), 1);
        assert_eq!(
            sent("UpdateClusterConfig"),
            3,
            "endpoint, logging, upgrade policy"
        );
        assert!(
            sent("DescribeUpdate") >= 3,
            "each later update waited for the one before"
        );

        // More than one minor version at once is refused before AWS is asked.
        let jump = with(&changed, json!({"version": "1.33"}));
        let err = p
            .update(&ctx, &updated, &jump)
            .await
            .expect_err("two minor versions");
        let text = err.to_string();
        assert!(
            text.contains("one minor version at a time") && text.contains("\"1.32\""),
            "{text}"
        );
        assert!(
            text.contains(&format!("{region}/eks_cluster.main")),
            "{text}"
        );

        // Private endpoint only; authentication moves towards API.
        let private = with(
            &changed,
            json!({"endpoint_public_access": false, "public_access_cidrs": null, "authentication_mode": "API"}),
        );
        let private_cluster = p
            .update_and_wait(&ctx, &updated, &private)
            .await
            .expect("private endpoint");
        assert_as_specified(&private_cluster, &private);

        // Replace (the service CIDR forces it; the name changes with it): create the new one,
        // delete the old one, which takes a few reads to disappear.
        let replacement = with(
            &private,
            json!({"name": format!("prod-{region}-b"), "service_ipv4_cidr": "172.20.0.0/16"}),
        );
        let new = p
            .create_and_wait(&ctx, &replacement)
            .await
            .expect("replacement");
        assert_ne!(new.id, private_cluster.id);
        p.delete(&ctx, &private_cluster, &private)
            .await
            .expect("delete old");
        let deleting = p
            .read(&ctx, &private_cluster.id)
            .await
            .expect("read")
            .expect("still there");
        assert_eq!(deleting.status, Status::Deleting("DELETING".into()));
        p.wait_gone(&ctx, &private_cluster.id).await.expect("gone");
        assert!(
            p.read(&ctx, &private_cluster.id)
                .await
                .expect("read")
                .is_none()
        );
        assert_eq!(
            p.refresh(r.kind, region, &Hints::default())
                .await
                .expect("refresh"),
            vec![new.clone()]
        );

        p.delete_and_wait(&ctx, &new, &replacement)
            .await
            .expect("delete");
        p.delete(&ctx, &new, &replacement)
            .await
            .expect("delete twice");
        assert!(
            p.refresh(r.kind, region, &Hints::default())
                .await
                .expect("refresh")
                .is_empty()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn eks_node_group_lifecycle_in_two_regions() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let other = emu.provider("other").await;
    let (cluster_role, node_role) = roles(&p).await;
    for region in REGIONS {
        let subnet_ids = subnets(&p, region).await;
        let c = Res::new(&format!("{region}/eks_cluster.main"));
        let cluster_spec = attrs(json!({
            "name": "prod",
            "version": "1.30",
            "role_arn": cluster_role,
            "subnet_ids": subnet_ids,
        }));
        let cluster = p
            .create_and_wait(&c.ctx(), &cluster_spec)
            .await
            .expect("cluster");

        emu.set_delay("eks_node_group", 2);
        let r = Res::new(&format!("{region}/eks_node_group.default"));
        let ctx = r.ctx();
        let desired = attrs(json!({
            "cluster_name": "prod",
            "name": "default",
            "node_role_arn": node_role,
            "subnet_ids": subnet_ids,
            "instance_types": ["m6i.large"],
            "ami_type": "AL2023_x86_64_STANDARD",
            "capacity_type": "ON_DEMAND",
            "disk_size": 50,
            "version": "1.30",
            "scaling": {"min": 1, "desired": 2, "max": 3},
            "labels": {"pool": "default"},
            "taints": [{"key": "dedicated", "value": "batch", "effect": "NO_SCHEDULE"}],
            "update_config": {"max_unavailable": 1},
            "tags": {"team": "platform"},
        }));
        let created = p.create(&ctx, &desired).await.expect("create");
        assert_eq!(created.status, Status::Pending("CREATING".into()));
        assert_eq!(created.id, "prod/default");
        let group = p.wait_ready(&ctx, &created.id).await.expect("ready");
        assert_eq!(group.status, Status::Ready);
        assert_as_specified(&group, &desired);
        assert_eq!(attr(&group.computed, "id"), "prod/default");
        assert_eq!(attr(&group.computed, "status"), "ACTIVE");
        assert!(attr(&group.computed, "arn").starts_with(&format!("arn:aws:eks:{region}:")));
        assert_eq!(
            group.address_tag(),
            Some(format!("{region}/eks_node_group.default").as_str())
        );
        assert_eq!(
            p.read(&ctx, &group.id)
                .await
                .expect("read")
                .expect("exists"),
            group
        );

        // Another stack's node group in the same cluster is not listed.
        let foreign = Res::new(&format!("{region}/eks_node_group.foreign"));
        let foreign_spec = with(&desired, json!({"name": "foreign", "tags": null}));
        other
            .create_and_wait(&foreign.ctx(), &foreign_spec)
            .await
            .expect("foreign node group");
        let listed = p
            .refresh(r.kind, region, &Hints::default())
            .await
            .expect("refresh");
        assert_eq!(listed, vec![group.clone()]);

        // Scale, relabel, retaint, change the update limit and the tags, and upgrade the nodes
        // after their cluster: a configuration update, then a version update.
        p.update_and_wait(
            &c.ctx(),
            &cluster,
            &with(&cluster_spec, json!({"version": "1.31"})),
        )
        .await
        .expect("cluster upgrade");
        let changed = with(
            &desired,
            json!({
                "version": "1.31",
                "scaling": {"min": 2, "desired": 3, "max": 5},
                "labels": {"pool": "general", "tier": "web"},
                "taints": [{"key": "gpu", "effect": "NO_EXECUTE"}],
                "update_config": {"max_unavailable_percentage": 25},
                "tags": {"team": "platform-2"},
            }),
        );
        let before = p.clients.requests();
        let updating = p.update(&ctx, &group, &changed).await.expect("update");
        assert_eq!(updating.status, Status::Pending("UPDATING".into()));
        let updated = p.wait_ready(&ctx, &updating.id).await.expect("updated");
        assert_as_specified(&updated, &changed);
        assert_eq!(attr(&updated.attrs, "release_version"), "1.31.0-20250101");
        assert_eq!(updated.address_tag(), group.address_tag());
        let after = p.clients.requests();
        let sent = |op: &str| after.operation(op) - before.operation(op);
        assert_eq!(sent("UpdateNodegroupConfig"), 1);
        assert_eq!(sent("UpdateNodegroupVersion"), 1);
        assert!(sent("DescribeUpdate") >= 1);

        // Nodes newer than their cluster: EKS's own error, with the address and region.
        let ahead = with(&changed, json!({"version": "1.32"}));
        let err = p
            .update(&ctx, &updated, &ahead)
            .await
            .expect_err("newer than the cluster");
        let text = err.to_string();
        assert_eq!(err.code(), Some("InvalidParameterException"), "{text}");
        assert!(
            text.contains(&format!("{region}/eks_node_group.default")),
            "{text}"
        );
        assert!(
            text.contains(&format!("in {region}")) && text.contains("UpdateNodegroupVersion"),
            "{text}"
        );

        // Replace (instance types force it): create the new one, delete the old one.
        let replacement = with(
            &changed,
            json!({"name": "default-2", "instance_types": ["m7i.large"]}),
        );
        let new = p
            .create_and_wait(&ctx, &replacement)
            .await
            .expect("replacement");
        assert_eq!(new.id, "prod/default-2");
        p.delete(&ctx, &updated, &changed)
            .await
            .expect("delete old");
        let deleting = p
            .read(&ctx, &updated.id)
            .await
            .expect("read")
            .expect("still there");
        assert_eq!(deleting.status, Status::Deleting("DELETING".into()));
        p.wait_gone(&ctx, &updated.id).await.expect("gone");
        assert_eq!(
            p.refresh(r.kind, region, &Hints::default())
                .await
                .expect("refresh"),
            vec![new.clone()]
        );

        // Delete; again is fine; the cluster can go once its node groups are gone.
        p.delete_and_wait(&ctx, &new, &replacement)
            .await
            .expect("delete");
        p.delete(&ctx, &new, &replacement)
            .await
            .expect("delete twice");
        assert!(
            p.refresh(r.kind, region, &Hints::default())
                .await
                .expect("refresh")
                .is_empty()
        );
        other
            .delete_and_wait(
                &foreign.ctx(),
                &listed_foreign(&other, region).await,
                &foreign_spec,
            )
            .await
            .expect("foreign gone");
        p.delete_and_wait(&c.ctx(), &cluster, &cluster_spec)
            .await
            .expect("cluster delete");
        emu.set_delay("eks_node_group", 0);
    }
}

/// The other stack's node group lives in a cluster that is not the other stack's: its refresh
/// finds it only through the id recorded in state.
async fn listed_foreign(other: &Provider, region: &str) -> Observed {
    let kind = regionctl::kind::Kind::EksNodeGroup;
    let unhinted = other
        .refresh(kind, region, &Hints::default())
        .await
        .expect("refresh");
    assert!(unhinted.is_empty(), "{unhinted:#?}");
    let hints = Hints {
        ids: ["prod/foreign".to_owned()].into(),
        ..Hints::default()
    };
    let mut groups = other
        .refresh(kind, region, &hints)
        .await
        .expect("refresh other stack");
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].id, "prod/foreign");
    groups.remove(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn eks_errors_name_the_resource_region_and_code() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let r = Res::new("eu-west-1/eks_cluster.bad");
    let err = p
        .create(
            &r.ctx(),
            &attrs(json!({"name": "bad", "role_arn": "not-an-arn", "subnet_ids": ["subnet-1", "subnet-2"]})),
        )
        .await
        .expect_err("EKS refuses the role ARN");
    let text = err.to_string();
    assert_eq!(err.code(), Some("InvalidParameterException"), "{text}");
    assert!(text.contains("eu-west-1/eks_cluster.bad"), "{text}");
    assert!(
        text.contains("in eu-west-1") && text.contains("CreateCluster"),
        "{text}"
    );

    // A node group's id names its cluster: reading one of a cluster that does not exist is
    // "not there", not an error.
    let ng = Res::new("eu-west-1/eks_node_group.x");
    assert!(
        p.read(&ng.ctx(), "missing/x")
            .await
            .expect("read")
            .is_none()
    );
}

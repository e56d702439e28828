//! ElastiCache kinds against the emulator, through the real SDK: cache subnet groups and
//! replication groups created, read back, found by refresh, updated in place, replaced and
//! deleted, in two regions, with the emulator's slow lifecycles.

use std::collections::BTreeSet;

use crate::support::emulator::Emulator;
use crate::support::{Res, attr, attrs};
use regionctl::provider::{Attrs, Hints, Observed, Provider, Status};
use regionctl::spec::value::Value;
use serde_json::json;

const REGIONS: [&str; 2] = ["eu-west-1", "ap-southeast-1"];
const RG: &str = "elasticache_replication_group";

/// A VPC with three subnets and two security groups, made with raw EC2 calls so these tests
/// depend on no other kind of the provider.
struct Network {
    subnets: Vec<String>,
    security_groups: Vec<String>,
}

async fn network(p: &Provider, region: &str) -> Network {
    let ec2 = p.clients.ec2(region);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.40.0.0/16")
        .send()
        .await
        .expect("create VPC")
        .vpc
        .and_then(|v| v.vpc_id)
        .expect("VPC id");
    let mut subnets = Vec::new();
    for (i, zone) in ["a", "b", "c"].iter().enumerate() {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.40.{i}.0/24"))
            .availability_zone(format!("{region}{zone}"))
            .send()
            .await
            .expect("create subnet")
            .subnet
            .and_then(|s| s.subnet_id)
            .expect("subnet id");
        subnets.push(subnet);
    }
    let mut security_groups = Vec::new();
    for name in ["cache-a", "cache-b"] {
        let sg = ec2
            .create_security_group()
            .vpc_id(&vpc)
            .group_name(name)
            .description("cache clients")
            .send()
            .await
            .expect("create security group")
            .group_id
            .expect("security group id");
        security_groups.push(sg);
    }
    Network {
        subnets,
        security_groups,
    }
}

fn names(list: &[&str]) -> Hints {
    Hints {
        ids: BTreeSet::new(),
        names: list.iter().map(|s| (*s).to_owned()).collect(),
        ..Hints::default()
    }
}

/// Sorts the string lists of a value, as the planner compares set-like lists.
fn sorted(v: &Value) -> Value {
    match v {
        Value::List(items) => {
            let mut items = items.clone();
            items.sort_by_key(|i| format!("{i:?}"));
            Value::List(items)
        }
        other => other.clone(),
    }
}

/// An unchanged resource equals its spec: every attribute the spec sets (except the ones AWS
/// does not report) is observed with the same value.
fn assert_matches_spec(observed: &Observed, desired: &Attrs) {
    for (name, want) in desired {
        if name == "apply_immediately" {
            continue;
        }
        let got = observed.attrs.get(name).map(sorted);
        assert_eq!(
            got,
            Some(sorted(want)),
            "attribute {name} of {}: observed {:?}",
            observed.id,
            observed.attrs
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cache_subnet_group_lifecycle_in_two_regions() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let other_stack = emu.provider("other").await;
    for region in REGIONS {
        let net = network(&p, region).await;
        let r = Res::new(&format!("{region}/cache_subnet_group.app"));
        let ctx = r.ctx();
        let desired = attrs(json!({
            "name": "app-cache",
            "description": "Private subnets of app",
            "subnet_ids": [net.subnets[1], net.subnets[0]],
            "tags": {"team": "platform"},
        }));
        let group = p.create_and_wait(&ctx, &desired).await.expect("create");
        assert_eq!(group.status, Status::Ready);
        assert_eq!(group.id, "app-cache");
        assert_eq!(group.region, region);
        assert_matches_spec(&group, &desired);
        assert_eq!(
            group.attrs.get("subnet_ids"),
            Some(&Value::List({
                let mut ids = vec![net.subnets[0].clone(), net.subnets[1].clone()];
                ids.sort();
                ids.into_iter().map(Value::Str).collect()
            })),
            "subnet ids sorted"
        );
        assert_eq!(
            group.attrs.get("tags"),
            desired.get("tags"),
            "user tags only"
        );
        assert_eq!(group.stack_tag(), Some("tests"));
        assert_eq!(
            group.address_tag(),
            Some(format!("{region}/cache_subnet_group.app").as_str())
        );
        assert_eq!(
            attr(&group.computed, "arn"),
            format!("arn:aws:elasticache:{region}:123456789012:subnetgroup:app-cache")
        );
        let read = p
            .read(&ctx, "app-cache")
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(read, group);

        // Another stack's group and an untagged one are named in the hints but not listed.
        let theirs = Res::new(&format!("{region}/cache_subnet_group.theirs"));
        other_stack
            .create(
                &theirs.ctx(),
                &attrs(json!({"name": "their-cache", "subnet_ids": [net.subnets[2]]})),
            )
            .await
            .expect("create another stack's group");
        p.clients
            .elasticache(region)
            .create_cache_subnet_group()
            .cache_subnet_group_name("untagged")
            .cache_subnet_group_description("not regionctl's")
            .subnet_ids(&net.subnets[2])
            .send()
            .await
            .expect("create an untagged group");
        let hints = names(&["app-cache", "their-cache", "untagged"]);
        let before = p.clients.requests();
        let listed = p.refresh(r.kind, region, &hints).await.expect("refresh");
        assert_eq!(listed, vec![group.clone()]);
        let after = p.clients.requests();
        assert_eq!(
            after.operation("DescribeCacheSubnetGroups")
                - before.operation("DescribeCacheSubnetGroups"),
            1
        );
        assert_eq!(
            after.operation("ListTagsForResource") - before.operation("ListTagsForResource"),
            3,
            "tags read for the three hinted groups only"
        );
        assert!(
            p.refresh(r.kind, region, &Hints::default())
                .await
                .expect("refresh")
                .is_empty()
        );

        // Unchanged: no modification is sent.
        let modified = p.clients.requests().operation("ModifyCacheSubnetGroup");
        let same = p
            .update_and_wait(&ctx, &group, &desired)
            .await
            .expect("no-op update");
        assert_eq!(same, group);
        assert_eq!(
            p.clients.requests().operation("ModifyCacheSubnetGroup"),
            modified
        );

        // Update in place: description, subnets and tags.
        let changed = attrs(json!({
            "name": "app-cache",
            "subnet_ids": [net.subnets[2], net.subnets[1]],
            "tags": {"team": "cache", "cost": "shared"},
        }));
        let updated = p
            .update_and_wait(&ctx, &group, &changed)
            .await
            .expect("update");
        assert_eq!(updated.id, group.id, "updated in place");
        assert_eq!(attr(&updated.attrs, "description"), "Managed by regionctl");
        assert_matches_spec(&updated, &changed);
        assert_eq!(
            updated.address_tag(),
            group.address_tag(),
            "identity tags kept"
        );

        // Replace (the name forces it): create the new one, then delete the old.
        let renamed = attrs(json!({"name": "app-cache-2", "subnet_ids": [net.subnets[0]]}));
        let new = p
            .create_and_wait(&ctx, &renamed)
            .await
            .expect("create replacement");
        assert_eq!(new.id, "app-cache-2");
        assert_eq!(attr(&new.attrs, "description"), "Managed by regionctl");
        assert!(!new.attrs.contains_key("tags"), "no user tags");
        p.delete_and_wait(&ctx, &updated, &changed)
            .await
            .expect("delete old");
        assert!(p.read(&ctx, "app-cache").await.expect("read").is_none());
        assert_eq!(
            p.refresh(r.kind, region, &names(&["app-cache", "app-cache-2"]))
                .await
                .expect("refresh"),
            vec![new.clone()]
        );

        // Delete, and deleting again is not an error.
        p.delete_and_wait(&ctx, &new, &renamed)
            .await
            .expect("delete");
        p.delete(&ctx, &new, &renamed).await.expect("delete twice");
        assert!(p.read(&ctx, "app-cache-2").await.expect("read").is_none());
    }
    assert_eq!(p.clients.requests().operation("CreateCacheSubnetGroup"), 6);
}

/// The subnet group a replication group lives in, made through the provider.
async fn subnet_group(p: &Provider, region: &str, net: &Network) -> Observed {
    let r = Res::new(&format!("{region}/cache_subnet_group.app"));
    p.create_and_wait(
        &r.ctx(),
        &attrs(json!({"name": "app", "subnet_ids": net.subnets})),
    )
    .await
    .expect("create cache subnet group")
}

#[tokio::test(flavor = "multi_thread")]
async fn replication_group_lifecycle_in_two_regions() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    for region in REGIONS {
        let net = network(&p, region).await;
        let subnets = subnet_group(&p, region, &net).await;
        let [sg_a, sg_b] = [&net.security_groups[0], &net.security_groups[1]];
        emu.set_delay(RG, 2);

        let r = Res::new(&format!("{region}/elasticache_replication_group.app"));
        let ctx = r.ctx();
        let desired = attrs(json!({
            "replication_group_id": "app",
            "description": "Application cache",
            "engine": "redis",
            "engine_version": "7.1",
            "node_type": "cache.t4g.small",
            "num_cache_clusters": 2,
            "automatic_failover": true,
            "multi_az": true,
            "cache_subnet_group": "app",
            "security_group_ids": [sg_a],
            "at_rest_encryption": true,
            "transit_encryption": true,
            "port": 6380,
            "snapshot_retention_limit": 3,
            "snapshot_window": "03:00-04:00",
            "preferred_maintenance_window": "sun:05:00-sun:06:00",
            "auto_minor_version_upgrade": true,
            "tags": {"team": "platform"},
        }));
        let created = p.create(&ctx, &desired).await.expect("create");
        assert_eq!(created.status, Status::Pending("creating".into()));
        assert_eq!(created.id, "app");
        let group = p
            .wait_ready(&ctx, &created.id)
            .await
            .expect("becomes available");
        assert_eq!(group.status, Status::Ready);
        assert_matches_spec(&group, &desired);
        assert_eq!(attr(&group.attrs, "parameter_group_name"), "default.redis7");
        assert_eq!(group.stack_tag(), Some("tests"));
        assert_eq!(
            attr(&group.computed, "arn"),
            format!("arn:aws:elasticache:{region}:123456789012:replicationgroup:app")
        );
        let primary = attr(&group.computed, "primary_endpoint");
        let reader = attr(&group.computed, "reader_endpoint");
        assert!(
            primary.starts_with("master.app.") && primary.ends_with(":6380"),
            "{primary}"
        );
        assert!(
            reader.starts_with("replica.app.") && reader.ends_with(":6380"),
            "{reader}"
        );
        assert_eq!(
            group.computed.keys().collect::<Vec<_>>(),
            ["arn", "primary_endpoint", "reader_endpoint"]
        );

        let read = p.read(&ctx, "app").await.expect("read").expect("exists");
        assert_eq!(read, group);
        let before = p.clients.requests();
        let listed = p
            .refresh(r.kind, region, &names(&["app"]))
            .await
            .expect("refresh");
        assert_eq!(listed, vec![group.clone()]);
        let after = p.clients.requests();
        assert_eq!(
            after.total() - before.total(),
            3,
            "list, first member, tags"
        );
        assert!(
            p.refresh(r.kind, region, &Hints::default())
                .await
                .expect("refresh")
                .is_empty()
        );

        // AWS registers one cache cluster per node.
        let members: Vec<String> = p
            .clients
            .elasticache(region)
            .describe_cache_clusters()
            .send()
            .await
            .expect("describe cache clusters")
            .cache_clusters
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| c.cache_cluster_id)
            .collect();
        assert_eq!(members, ["app-001", "app-002"]);

        // Update in place: node type, snapshots, description, security groups, tags.
        let mut changed = desired.clone();
        for (k, v) in [
            ("node_type", json!("cache.t4g.medium")),
            ("snapshot_retention_limit", json!(5)),
            ("description", json!("Application cache, bigger")),
            ("security_group_ids", json!([sg_b, sg_a])),
            ("tags", json!({"team": "cache"})),
        ] {
            changed.insert(k.into(), Value::from_json(&v));
        }
        let modifying = p.update(&ctx, &group, &changed).await.expect("update");
        assert_eq!(modifying.status, Status::Pending("modifying".into()));
        let updated = p.wait_ready(&ctx, "app").await.expect("modified");
        assert_eq!(updated.id, group.id, "updated in place");
        assert_matches_spec(&updated, &changed);
        assert_eq!(
            updated.address_tag(),
            group.address_tag(),
            "identity tags kept"
        );
        let unchanged = p
            .update_and_wait(&ctx, &updated, &changed)
            .await
            .expect("no-op");
        assert_eq!(unchanged, updated);

        // One more replica, then down to one node without failover: the failover change
        // must come before removing the replicas, with a wait in between.
        changed.insert("num_cache_clusters".into(), Value::Int(3));
        let three = p
            .update_and_wait(&ctx, &updated, &changed)
            .await
            .expect("add replica");
        assert_matches_spec(&three, &changed);
        for (k, v) in [
            ("num_cache_clusters", Value::Int(1)),
            ("automatic_failover", Value::Bool(false)),
            ("multi_az", Value::Bool(false)),
        ] {
            changed.insert(k.into(), v);
        }
        let one = p
            .update_and_wait(&ctx, &three, &changed)
            .await
            .expect("remove replicas");
        assert_matches_spec(&one, &changed);

        // In-transit encryption off (from mode required, through preferred) and on again.
        changed.insert("transit_encryption".into(), Value::Bool(false));
        let plain = p
            .update_and_wait(&ctx, &one, &changed)
            .await
            .expect("TLS off");
        assert_matches_spec(&plain, &changed);
        changed.insert("transit_encryption".into(), Value::Bool(true));
        let tls = p
            .update_and_wait(&ctx, &plain, &changed)
            .await
            .expect("TLS on");
        assert_matches_spec(&tls, &changed);

        // Replace (at-rest encryption forces it): create the new one, then delete the old.
        let mut replacement = changed.clone();
        replacement.insert("replication_group_id".into(), Value::Str("app-b".into()));
        replacement.insert("at_rest_encryption".into(), Value::Bool(false));
        let new = p
            .create_and_wait(&ctx, &replacement)
            .await
            .expect("create replacement");
        assert_eq!(new.id, "app-b");
        assert_matches_spec(&new, &replacement);
        p.delete(&ctx, &tls, &changed).await.expect("delete old");
        let deleting = p
            .read(&ctx, "app")
            .await
            .expect("read")
            .expect("still there");
        assert_eq!(deleting.status, Status::Deleting("deleting".into()));
        p.wait_gone(&ctx, "app").await.expect("old one gone");
        assert!(p.read(&ctx, "app").await.expect("read").is_none());
        assert_eq!(
            p.refresh(r.kind, region, &names(&["app", "app-b"]))
                .await
                .expect("refresh"),
            vec![new.clone()]
        );

        // Delete, and deleting again is not an error; its nodes go with it.
        p.delete_and_wait(&ctx, &new, &replacement)
            .await
            .expect("delete");
        p.delete(&ctx, &new, &replacement)
            .await
            .expect("delete twice");
        assert!(
            p.refresh(r.kind, region, &names(&["app", "app-b"]))
                .await
                .expect("refresh")
                .is_empty()
        );
        let left = p
            .clients
            .elasticache(region)
            .describe_cache_clusters()
            .send()
            .await
            .expect("describe cache clusters")
            .cache_clusters
            .unwrap_or_default();
        assert!(left.is_empty(), "{left:?}");

        emu.set_delay(RG, 0);
        let sg_ctx = Res::new(&format!("{region}/cache_subnet_group.app"));
        p.delete_and_wait(&sg_ctx.ctx(), &subnets, &Attrs::new())
            .await
            .expect("delete the subnet group once unused");
    }
    let requests = p.clients.requests();
    assert_eq!(requests.operation("IncreaseReplicaCount"), 2);
    assert_eq!(requests.operation("DecreaseReplicaCount"), 2);
    // Per region: the first update, failover off, TLS off in two steps, TLS on.
    assert_eq!(requests.operation("ModifyReplicationGroup"), 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_errors_name_the_resource_region_and_code() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let region = "eu-west-1";
    let r = Res::new(&format!("{region}/elasticache_replication_group.bad"));
    let spec = attrs(json!({
        "replication_group_id": "bad",
        "node_type": "cache.t4g.small",
        "cache_subnet_group": "missing",
    }));
    let err = p
        .create(&r.ctx(), &spec)
        .await
        .expect_err("no such subnet group");
    let text = err.to_string();
    assert_eq!(err.code(), Some("CacheSubnetGroupNotFoundFault"), "{text}");
    assert!(
        text.contains("eu-west-1/elasticache_replication_group.bad"),
        "{text}"
    );
    assert!(text.contains("in eu-west-1"), "{text}");
    assert!(text.contains("CreateReplicationGroup"), "{text}");

    // A subnet group in use cannot be deleted.
    let net = network(&p, region).await;
    let subnets = subnet_group(&p, region, &net).await;
    let ok = attrs(json!({
        "replication_group_id": "good",
        "node_type": "cache.t4g.small",
        "cache_subnet_group": "app",
    }));
    let group = p.create_and_wait(&r.ctx(), &ok).await.expect("create");
    assert_eq!(attr(&group.attrs, "description"), "Managed by regionctl");
    assert_eq!(group.attrs.get("num_cache_clusters"), Some(&Value::Int(1)));
    let sg = Res::new(&format!("{region}/cache_subnet_group.app"));
    let err = p
        .delete(&sg.ctx(), &subnets, &Attrs::new())
        .await
        .expect_err("in use");
    assert_eq!(err.code(), Some("CacheSubnetGroupInUse"), "{err}");
    assert!(err.to_string().contains("DeleteCacheSubnetGroup"), "{err}");

    // Multi-AZ needs a replica: AWS refuses, and the error names the operation.
    let mut multi = ok.clone();
    multi.insert("automatic_failover".into(), Value::Bool(true));
    let err = p
        .update(&r.ctx(), &group, &multi)
        .await
        .expect_err("one node");
    assert_eq!(err.code(), Some("InvalidParameterCombination"), "{err}");
    assert!(err.to_string().contains("ModifyReplicationGroup"), "{err}");

    // A create retried after an interrupted apply adopts what it made; another address
    // cannot take a group it did not make.
    let again = p
        .create(&r.ctx(), &ok)
        .await
        .expect("retried create adopts");
    assert_eq!(again, group);
    let other = Res::new(&format!("{region}/elasticache_replication_group.other"));
    let err = p.create(&other.ctx(), &ok).await.expect_err("taken");
    assert_eq!(err.code(), Some("ReplicationGroupAlreadyExists"), "{err}");

    // AWS refuses to delete a group that is still creating: delete waits for it first.
    emu.set_delay(RG, 3);
    let busy = Res::new(&format!("{region}/elasticache_replication_group.busy"));
    let spec = attrs(json!({"replication_group_id": "busy", "node_type": "cache.t4g.small"}));
    let creating = p.create(&busy.ctx(), &spec).await.expect("create");
    assert_eq!(creating.status, Status::Pending("creating".into()));
    p.delete_and_wait(&busy.ctx(), &creating, &spec)
        .await
        .expect("delete once created");
    assert!(p.read(&busy.ctx(), "busy").await.expect("read").is_none());
    assert_eq!(
        p.clients.requests().operation("DeleteReplicationGroup"),
        2,
        "refused while creating, then sent again once available"
    );
}

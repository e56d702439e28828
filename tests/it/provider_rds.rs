//! RDS kinds against the emulator, through the real SDK: DB subnet groups and DB instances
//! (primaries, same- and cross-region read replicas, promotion), in two regions, with delays.

use std::collections::BTreeSet;

use crate::support::emulator::Emulator;
use crate::support::{Res, attr, attrs};
use regionctl::provider::{Attrs, Hints, Observed, Provider, ProviderError, Status};
use regionctl::spec::value::Value;
use serde_json::json;

/// A VPC with one subnet in each of three availability zones, made with plain EC2 calls (the
/// EC2 kinds are not under test here).
async fn subnets(p: &Provider, region: &str) -> Vec<String> {
    let ec2 = p.clients.ec2(region);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.60.0.0/16")
        .send()
        .await
        .expect("create VPC")
        .vpc
        .and_then(|v| v.vpc_id)
        .expect("VPC id");
    let zones = ec2
        .describe_availability_zones()
        .send()
        .await
        .expect("zones")
        .availability_zones
        .unwrap_or_default();
    let mut ids = Vec::new();
    for (i, zone) in zones.iter().take(3).enumerate() {
        let id = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.60.{i}.0/24"))
            .availability_zone(zone.zone_name().expect("zone name"))
            .send()
            .await
            .expect("create subnet")
            .subnet
            .and_then(|s| s.subnet_id)
            .expect("subnet id");
        ids.push(id);
    }
    assert_eq!(ids.len(), 3, "three zones in {region}");
    ids
}

fn names(list: &[&str]) -> Hints {
    Hints {
        names: list
            .iter()
            .map(|n| (*n).to_owned())
            .collect::<BTreeSet<_>>(),
        ..Hints::default()
    }
}

fn with(base: &Attrs, extra: serde_json::Value) -> Attrs {
    let mut out = base.clone();
    out.extend(attrs(extra));
    out
}

fn without(base: &Attrs, name: &str) -> Attrs {
    let mut out = base.clone();
    out.remove(name);
    out
}

fn int(n: i64) -> Value {
    Value::Int(n)
}

/// Creates a DB subnet group `name` through the provider, in `region`.
async fn subnet_group(p: &Provider, region: &str, name: &str) -> Observed {
    let ids = subnets(p, region).await;
    let r = Res::new(&format!(
        "{region}/db_subnet_group.{}",
        name.replace('-', "_")
    ));
    p.create_and_wait(&r.ctx(), &attrs(json!({"name": name, "subnet_ids": ids})))
        .await
        .expect("create DB subnet group")
}

/// Whether snapshot `name` exists; a name ending in `-final` is the default final snapshot,
/// which carries the time of the delete: `<id>-final-YYYYMMDDHHMMSS`.
async fn snapshot_exists(p: &Provider, region: &str, name: &str) -> bool {
    let out = p
        .clients
        .rds(region)
        .describe_db_snapshots()
        .send()
        .await
        .expect("describe snapshots");
    out.db_snapshots().iter().any(|s| {
        let id = s.db_snapshot_identifier().unwrap_or_default();
        id == name
            || (name.ends_with("-final")
                && id
                    .strip_prefix(name)
                    .and_then(|r| r.strip_prefix('-'))
                    .is_some_and(|stamp| {
                        stamp.len() == 14 && stamp.bytes().all(|b| b.is_ascii_digit())
                    }))
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn db_subnet_group_lifecycle_in_two_regions() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let other = emu.provider("other").await;
    for region in ["eu-west-1", "us-west-2"] {
        let ids = subnets(&p, region).await;
        let r = Res::new(&format!("{region}/db_subnet_group.app"));
        let ctx = r.ctx();
        let desired = attrs(json!({
            "name": "app-db",
            "description": "App databases",
            "subnet_ids": [ids[1], ids[0]],
            "tags": {"team": "data"},
        }));
        let group = p.create_and_wait(&ctx, &desired).await.expect("create");
        assert_eq!(group.status, Status::Ready);
        assert_eq!(group.id, "app-db");
        assert_eq!(group.region, region);
        let mut sorted = vec![ids[0].clone(), ids[1].clone()];
        sorted.sort();
        assert_eq!(
            group.attrs.get("subnet_ids"),
            attrs(json!({"l": sorted})).get("l")
        );
        assert_eq!(attr(&group.attrs, "description"), "App databases");
        assert_eq!(
            group.attrs.get("tags"),
            desired.get("tags"),
            "user tags only"
        );
        assert_eq!(
            group.address_tag(),
            Some(format!("{region}/db_subnet_group.app").as_str())
        );
        assert_eq!(group.stack_tag(), Some("tests"));
        assert_eq!(attr(&group.computed, "id"), "app-db");
        let arn = attr(&group.computed, "arn");
        assert!(arn.starts_with(&format!("arn:aws:rds:{region}:")), "{arn}");
        assert!(arn.ends_with(":subgrp:app-db"), "{arn}");

        let read = p.read(&ctx, "app-db").await.expect("read").expect("exists");
        assert_eq!(read, group);

        // Another stack's group, though named in the hints, is not this stack's. The listing
        // carries no tags: one DescribeDBSubnetGroups, then the tags of the named groups only.
        let foreign = Res::new(&format!("{region}/db_subnet_group.foreign"));
        other
            .create(
                &foreign.ctx(),
                &attrs(json!({"name": "foreign-db", "subnet_ids": [ids[0], ids[2]]})),
            )
            .await
            .expect("create another stack's group");
        let before = p.clients.requests();
        let listed = p
            .refresh(
                r.kind,
                region,
                &names(&["app-db", "foreign-db", "absent-db"]),
            )
            .await
            .expect("refresh");
        assert_eq!(listed, vec![group.clone()]);
        let after = p.clients.requests();
        assert_eq!(
            after.operation("DescribeDBSubnetGroups") - before.operation("DescribeDBSubnetGroups"),
            1
        );
        assert_eq!(
            after.operation("ListTagsForResource") - before.operation("ListTagsForResource"),
            2
        );
        let none = p
            .refresh(r.kind, region, &Hints::default())
            .await
            .expect("refresh");
        assert!(
            none.is_empty(),
            "without hints no group can be told to be the stack's"
        );
        assert_eq!(
            p.clients.requests().total(),
            after.total(),
            "and none is listed"
        );

        // Update in place: description, subnets and tags. The group must still exist afterwards
        // (moto used to drop a modified group).
        let changed = attrs(json!({
            "name": "app-db",
            "description": "App databases, three zones",
            "subnet_ids": [ids[2], ids[1], ids[0]],
            "tags": {"team": "platform", "env": "prod"},
        }));
        let updated = p
            .update_and_wait(&ctx, &group, &changed)
            .await
            .expect("update");
        assert_eq!(updated.id, "app-db");
        assert_eq!(
            attr(&updated.attrs, "description"),
            "App databases, three zones"
        );
        let mut all = ids.clone();
        all.sort();
        assert_eq!(
            updated.attrs.get("subnet_ids"),
            attrs(json!({"l": all})).get("l")
        );
        assert_eq!(updated.attrs.get("tags"), changed.get("tags"));
        assert_eq!(
            updated.address_tag(),
            group.address_tag(),
            "identity tags kept"
        );
        assert_eq!(
            p.read(&ctx, "app-db").await.expect("read"),
            Some(updated.clone())
        );

        // Replace (the name forces it): create the new one, then delete the old one.
        let replacement = attrs(json!({"name": "app-db-2", "subnet_ids": [ids[0], ids[2]]}));
        let new = p
            .create_and_wait(&ctx, &replacement)
            .await
            .expect("create replacement");
        assert_eq!(attr(&new.attrs, "description"), "Managed by regionctl");
        p.delete_and_wait(&ctx, &updated, &changed)
            .await
            .expect("delete old");
        assert!(p.read(&ctx, "app-db").await.expect("read").is_none());
        let both = names(&["app-db", "app-db-2"]);
        assert_eq!(
            p.refresh(r.kind, region, &both).await.expect("refresh"),
            vec![new.clone()]
        );

        // Delete, and deleting again is not an error.
        p.delete_and_wait(&ctx, &new, &replacement)
            .await
            .expect("delete");
        p.delete(&ctx, &new, &replacement)
            .await
            .expect("delete twice");
        assert!(
            p.refresh(r.kind, region, &both)
                .await
                .expect("refresh")
                .is_empty()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn db_subnet_group_errors_name_the_resource_region_and_code() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let ids = subnets(&p, "eu-west-1").await;
    let r = Res::new("eu-west-1/db_subnet_group.narrow");
    let err = p
        .create(
            &r.ctx(),
            &attrs(json!({"name": "narrow", "subnet_ids": [ids[0]]})),
        )
        .await
        .expect_err("a group in one availability zone is refused");
    let text = err.to_string();
    assert_eq!(
        err.code(),
        Some("DBSubnetGroupDoesNotCoverEnoughAZs"),
        "{text}"
    );
    assert!(text.contains("eu-west-1/db_subnet_group.narrow"), "{text}");
    assert!(text.contains("in eu-west-1"), "{text}");
    assert!(text.contains("CreateDBSubnetGroup"), "{text}");
}

fn postgres(identifier: &str) -> Attrs {
    attrs(json!({
        "identifier": identifier,
        "engine": "postgres",
        "engine_version": "16.4",
        "instance_class": "db.t3.micro",
        "allocated_storage": 20,
        "max_allocated_storage": 100,
        "storage_type": "gp3",
        "storage_encrypted": true,
        "multi_az": false,
        "db_subnet_group": "app-db",
        "db_name": "app",
        "master_username": "app",
        "manage_master_user_password": true,
        "port": 5432,
        "publicly_accessible": false,
        "backup_retention_period": 7,
        "preferred_backup_window": "03:00-04:00",
        "preferred_maintenance_window": "sun:05:00-sun:06:00",
        "copy_tags_to_snapshot": true,
        "performance_insights_enabled": true,
        "deletion_protection": false,
        "tags": {"team": "data"},
    }))
}

/// Every attribute of `desired` that RDS reports back reads back as configured.
fn assert_reads_back(observed: &Observed, desired: &Attrs) {
    let config_only = [
        "master_password_env",
        "allow_major_version_upgrade",
        "apply_immediately",
        "skip_final_snapshot",
        "final_snapshot_identifier",
    ];
    for (name, want) in desired {
        if config_only.contains(&name.as_str()) {
            assert!(
                !observed.attrs.contains_key(name),
                "{name} is not reported by AWS"
            );
            continue;
        }
        assert_eq!(
            observed.attrs.get(name),
            Some(want),
            "attribute {name} of {}",
            observed.id
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rds_instance_lifecycle_in_two_regions() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let other = emu.provider("other").await;
    emu.set_delay("rds_instance", 2);
    for region in ["us-east-1", "eu-west-1"] {
        subnet_group(&p, region, "app-db").await;
        let r = Res::new(&format!("{region}/rds_instance.app"));
        let ctx = r.ctx();
        let desired = postgres("app-db-1");

        // Create: RDS answers `creating`, the wait sees it become available.
        let created = p.create(&ctx, &desired).await.expect("create");
        assert_eq!(created.status, Status::Pending("creating".into()));
        assert_eq!(created.id, "app-db-1");
        let ready = p.wait_ready(&ctx, &created.id).await.expect("ready");
        assert_eq!(ready.status, Status::Ready);
        assert_reads_back(&ready, &desired);
        assert_eq!(
            ready.address_tag(),
            Some(format!("{region}/rds_instance.app").as_str())
        );
        assert_eq!(ready.stack_tag(), Some("tests"));
        let arn = attr(&ready.computed, "arn").to_owned();
        assert!(arn.starts_with(&format!("arn:aws:rds:{region}:")), "{arn}");
        assert!(arn.ends_with(":db:app-db-1"), "{arn}");
        assert_eq!(attr(&ready.computed, "id"), "app-db-1");
        let address = attr(&ready.computed, "address");
        assert!(address.starts_with("app-db-1."), "{address}");
        assert_eq!(attr(&ready.computed, "endpoint"), format!("{address}:5432"));
        assert!(attr(&ready.computed, "resource_id").starts_with("db-"));

        // Read back, and the batched refresh lists it but not another stack's instance.
        assert_eq!(
            p.read(&ctx, "app-db-1").await.expect("read"),
            Some(ready.clone())
        );
        let foreign = Res::new(&format!("{region}/rds_instance.foreign"));
        other
            .create(
                &foreign.ctx(),
                &without(&postgres("foreign-db"), "db_subnet_group"),
            )
            .await
            .expect("create another stack's instance");
        let listed = p
            .refresh(r.kind, region, &Hints::default())
            .await
            .expect("refresh");
        assert_eq!(listed, vec![ready.clone()]);

        // Nothing changed: no modification is sent.
        let modifies = p.clients.requests().operation("ModifyDBInstance");
        let same = p
            .update(&ctx, &ready, &desired)
            .await
            .expect("no-op update");
        assert_eq!(same, ready);
        assert_eq!(p.clients.requests().operation("ModifyDBInstance"), modifies);

        // Update in place: class, storage, Multi-AZ, backups and tags, applied now.
        let changed = with(
            &desired,
            json!({
                "instance_class": "db.t3.small",
                "allocated_storage": 50,
                "multi_az": true,
                "backup_retention_period": 14,
                "preferred_backup_window": "02:00-02:30",
                "apply_immediately": true,
                "tags": {"team": "platform", "cost-centre": "42"},
            }),
        );
        let modifying = p.update(&ctx, &ready, &changed).await.expect("update");
        assert_eq!(modifying.status, Status::Pending("modifying".into()));
        let updated = p.wait_ready(&ctx, "app-db-1").await.expect("modified");
        assert_reads_back(&updated, &changed);
        assert_eq!(updated.attrs.get("allocated_storage"), Some(&int(50)));
        assert_eq!(
            updated.address_tag(),
            ready.address_tag(),
            "identity tags kept"
        );
        assert_eq!(attr(&updated.computed, "arn"), arn);
        assert_eq!(
            p.clients.requests().operation("ModifyDBInstance"),
            modifies + 1
        );

        // Omitting max_allocated_storage turns storage autoscaling off.
        let fixed = without(&changed, "max_allocated_storage");
        let no_autoscaling = p
            .update_and_wait(&ctx, &updated, &fixed)
            .await
            .expect("update");
        assert_eq!(no_autoscaling.attrs.get("max_allocated_storage"), None);
        assert_eq!(
            no_autoscaling.attrs.get("allocated_storage"),
            Some(&int(50))
        );

        // Replace (a new identifier): create the new instance, then delete the old one without
        // a final snapshot.
        let replacement = with(&fixed, json!({"identifier": "app-db-2"}));
        let new = p
            .create_and_wait(&ctx, &replacement)
            .await
            .expect("create replacement");
        assert_eq!(new.id, "app-db-2");
        let skip = with(&fixed, json!({"skip_final_snapshot": true}));
        p.delete(&ctx, &no_autoscaling, &skip)
            .await
            .expect("delete old");
        let deleting = p
            .read(&ctx, "app-db-1")
            .await
            .expect("read")
            .expect("still listed");
        assert_eq!(deleting.status, Status::Deleting("deleting".into()));
        p.wait_gone(&ctx, "app-db-1").await.expect("gone");
        assert!(p.read(&ctx, "app-db-1").await.expect("read").is_none());
        assert!(!snapshot_exists(&p, region, "app-db-1-final").await);
        assert_eq!(
            p.refresh(r.kind, region, &Hints::default())
                .await
                .expect("refresh"),
            vec![new.clone()]
        );

        // Delete with the default final snapshot, named after the instance; again is Ok.
        p.delete_and_wait(&ctx, &new, &replacement)
            .await
            .expect("delete");
        assert!(
            snapshot_exists(&p, region, "app-db-2-final").await,
            "final snapshot taken"
        );
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
async fn master_password_from_the_environment_never_leaves_the_request() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    // Cargo sets this for every test process; a value no AWS answer would contain. (Tests cannot
    // set variables themselves: the crate forbids unsafe code, and set_var is unsafe.)
    let var = "CARGO_PKG_DESCRIPTION";
    let secret = std::env::var(var).expect("cargo sets CARGO_PKG_DESCRIPTION for tests");
    assert!(secret.len() > 20, "{secret}");
    let r = Res::new("eu-west-1/rds_instance.app");
    let ctx = r.ctx();
    // In the region's default VPC: no subnet group needed here.
    let primary = without(
        &without(&postgres("app-env"), "db_subnet_group"),
        "manage_master_user_password",
    );
    let desired = with(&primary, json!({"master_password_env": var}));
    let created = p.create_and_wait(&ctx, &desired).await.expect("create");
    assert_reads_back(&created, &desired);
    assert_eq!(
        created.attrs.get("manage_master_user_password"),
        Some(&Value::Bool(false))
    );
    let read = p
        .read(&ctx, "app-env")
        .await
        .expect("read")
        .expect("exists");
    let listed = p
        .refresh(r.kind, "eu-west-1", &Hints::default())
        .await
        .expect("refresh");
    for observed in [&created, &read, &listed[0]] {
        let debug = format!("{observed:?}");
        let json = serde_json::to_string(observed).expect("serialise");
        assert!(!debug.contains(&secret), "password in Debug: {debug}");
        assert!(!json.contains(&secret), "password in serde: {json}");
        assert!(
            !json.contains(var),
            "the variable's name is configuration, not observed"
        );
    }

    // Switching to an RDS-managed password.
    let managed = with(
        &without(&desired, "master_password_env"),
        json!({"manage_master_user_password": true}),
    );
    let switched = p
        .update_and_wait(&ctx, &read, &managed)
        .await
        .expect("update");
    assert_eq!(
        switched.attrs.get("manage_master_user_password"),
        Some(&Value::Bool(true))
    );

    // An unset variable is named in the error; nothing is sent.
    let creates = p.clients.requests().operation("CreateDBInstance");
    let unset = "REGIONCTL_TEST_UNSET_DB_PASSWORD";
    let r2 = Res::new("eu-west-1/rds_instance.other");
    let err = p
        .create(
            &r2.ctx(),
            &with(
                &desired,
                json!({"identifier": "app-env-2", "master_password_env": unset}),
            ),
        )
        .await
        .expect_err("the variable is not set");
    assert!(matches!(err, ProviderError::Invalid { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(unset) && text.contains("eu-west-1/rds_instance.other"),
        "{text}"
    );
    // Neither way to set a password.
    let err = p
        .create(
            &r2.ctx(),
            &without(
                &with(&desired, json!({"identifier": "app-env-2"})),
                "master_password_env",
            ),
        )
        .await
        .expect_err("no password");
    assert!(
        err.to_string().contains("manage_master_user_password"),
        "{err}"
    );
    assert_eq!(p.clients.requests().operation("CreateDBInstance"), creates);
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_region_read_replica_then_promotion() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    emu.set_delay("rds_instance", 1);
    subnet_group(&p, "us-east-1", "app-db").await;
    subnet_group(&p, "us-west-2", "app-db").await;

    let primary_res = Res::new("us-east-1/rds_instance.app");
    let primary_conf = postgres("app");
    let primary = p
        .create_and_wait(&primary_res.ctx(), &primary_conf)
        .await
        .expect("primary");
    let source = attr(&primary.computed, "arn").to_owned();

    // A cross-region replica: created in its own region, of the source's ARN, into a subnet
    // group of its own region.
    let replica_res = Res::new("us-west-2/rds_instance.app_replica");
    let ctx = replica_res.ctx();
    let replica_conf = attrs(json!({
        "identifier": "app-replica",
        "replicate_from": source,
        "instance_class": "db.t3.micro",
        "kms_key_id": "alias/aws/rds",
        "db_subnet_group": "app-db",
        "tags": {"role": "replica"},
    }));
    let created = p.create(&ctx, &replica_conf).await.expect("create replica");
    assert_eq!(created.status, Status::Pending("creating".into()));
    let replica = p
        .wait_ready(&ctx, "app-replica")
        .await
        .expect("replica ready");
    assert_reads_back(&replica, &replica_conf);
    assert_eq!(replica.region, "us-west-2");
    assert_eq!(
        attr(&replica.attrs, "engine"),
        "postgres",
        "inherited from the source"
    );
    assert_eq!(
        replica.attrs.get("storage_encrypted"),
        Some(&Value::Bool(true))
    );
    assert!(attr(&replica.computed, "arn").contains(":rds:us-west-2:"));
    assert_eq!(
        p.clients
            .requests()
            .operation("CreateDBInstanceReadReplica"),
        1
    );
    assert_eq!(
        p.refresh(replica_res.kind, "us-west-2", &Hints::default())
            .await
            .expect("refresh"),
        vec![replica.clone()]
    );

    // A same-region replica: RDS names its source by identifier, observed as the ARN.
    let local_res = Res::new("us-east-1/rds_instance.local_replica");
    let local_conf = attrs(json!({
        "identifier": "app-local-replica",
        "replicate_from": source,
        "instance_class": "db.t3.micro",
    }));
    let local = p
        .create_and_wait(&local_res.ctx(), &local_conf)
        .await
        .expect("local replica");
    assert_reads_back(&local, &local_conf);

    // Deleting a cross-region replica (moto used to answer 500) skips the final snapshot RDS
    // does not take of replicas, whatever the configuration says.
    let extra_res = Res::new("us-west-2/rds_instance.extra");
    let extra_conf = with(
        &replica_conf,
        json!({"identifier": "app-extra", "skip_final_snapshot": false}),
    );
    let extra = p
        .create_and_wait(&extra_res.ctx(), &extra_conf)
        .await
        .expect("extra replica");
    p.delete_and_wait(&extra_res.ctx(), &extra, &extra_conf)
        .await
        .expect("delete replica");
    assert!(
        p.read(&extra_res.ctx(), "app-extra")
            .await
            .expect("read")
            .is_none()
    );

    // A replica cannot be re-pointed in place.
    let repoint = with(
        &replica_conf,
        json!({"replicate_from": "arn:aws:rds:eu-west-1:123456789012:db:elsewhere"}),
    );
    let err = p
        .update(&ctx, &replica, &repoint)
        .await
        .expect_err("re-pointing is refused");
    assert!(err.to_string().contains("replace the instance"), "{err}");

    // Promotion: replicate_from removed, with backups and a new class. The class change waits
    // for the promotion to finish (RDS refuses modifications meanwhile).
    let promoted_conf = with(
        &without(&replica_conf, "replicate_from"),
        json!({"backup_retention_period": 3, "instance_class": "db.t3.small", "apply_immediately": true}),
    );
    let modifying = p
        .update(&ctx, &replica, &promoted_conf)
        .await
        .expect("promote");
    assert_eq!(modifying.status, Status::Pending("modifying".into()));
    let promoted = p.wait_ready(&ctx, "app-replica").await.expect("promoted");
    assert_eq!(promoted.attrs.get("replicate_from"), None);
    assert_reads_back(&promoted, &promoted_conf);
    assert_eq!(p.clients.requests().operation("PromoteReadReplica"), 1);
    assert_eq!(p.clients.requests().operation("ModifyDBInstance"), 1);
    assert_eq!(
        attr(&promoted.computed, "arn"),
        attr(&replica.computed, "arn"),
        "in place"
    );

    // Clean up; the promoted instance is standalone now, so its final snapshot is taken.
    p.delete_and_wait(&local_res.ctx(), &local, &local_conf)
        .await
        .expect("delete local replica");
    p.delete_and_wait(&ctx, &promoted, &promoted_conf)
        .await
        .expect("delete promoted");
    assert!(snapshot_exists(&p, "us-west-2", "app-replica-final").await);
    let skip = with(&primary_conf, json!({"skip_final_snapshot": true}));
    p.delete_and_wait(&primary_res.ctx(), &primary, &skip)
        .await
        .expect("delete primary");
    assert!(!snapshot_exists(&p, "us-east-1", "app-final").await);
}

#[tokio::test(flavor = "multi_thread")]
async fn rds_errors_name_the_resource_region_and_code() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let r = Res::new("eu-west-1/rds_instance.bad");
    let ctx = r.ctx();
    let err = p
        .create(
            &ctx,
            &with(&postgres("bad"), json!({"db_subnet_group": "missing"})),
        )
        .await
        .expect_err("an unknown subnet group is refused");
    let text = err.to_string();
    assert_eq!(err.code(), Some("DBSubnetGroupNotFoundFault"), "{text}");
    assert!(text.contains("eu-west-1/rds_instance.bad"), "{text}");
    assert!(text.contains("in eu-west-1"), "{text}");
    assert!(text.contains("CreateDBInstance"), "{text}");

    // Deletion protection: RDS refuses the delete until an update turns it off.
    let protected = with(
        &without(&postgres("kept"), "db_subnet_group"),
        json!({"deletion_protection": true}),
    );
    let db = p.create_and_wait(&ctx, &protected).await.expect("create");
    let err = p
        .delete(&ctx, &db, &protected)
        .await
        .expect_err("protected");
    assert_eq!(err.code(), Some("InvalidParameterCombination"), "{err}");
    assert!(err.to_string().contains("DeleteDBInstance"), "{err}");
    let unprotected = with(
        &protected,
        json!({"deletion_protection": false, "apply_immediately": true}),
    );
    let db = p
        .update_and_wait(&ctx, &db, &unprotected)
        .await
        .expect("unprotect");
    p.delete_and_wait(&ctx, &db, &unprotected)
        .await
        .expect("delete");
    assert!(snapshot_exists(&p, "eu-west-1", "kept-final").await);
}

//! Route 53 kinds against the emulator, through the real SDK: zones, health checks and records
//! (simple, alias, latency, failover, weighted), their updates, replacements and deletions, the
//! idempotent creates and the wait for a change to be INSYNC.

use crate::support::emulator::Emulator;
use crate::support::{Res, attr, attrs};
use regionctl::provider::{Attrs, Hints, Observed, Provider, Status};
use regionctl::spec::value::Value;
use serde_json::json;

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-1"];

fn ingress(region: &str) -> String {
    format!("ingress-{region}.{region}.elb.amazonaws.com")
}

fn hints_ids<'a>(ids: impl IntoIterator<Item = &'a str>) -> Hints {
    Hints {
        ids: ids.into_iter().map(str::to_owned).collect(),
        ..Hints::default()
    }
}

async fn zone(p: &Provider, addr: &str, name: &str) -> Observed {
    let r = Res::new(addr);
    p.create_and_wait(&r.ctx(), &attrs(json!({"name": name})))
        .await
        .expect("create zone")
}

fn health_check_spec(region: &str) -> Attrs {
    attrs(json!({
        "type": "HTTPS",
        "fqdn": ingress(region),
        "port": 443,
        "resource_path": "/health",
        "request_interval": 30,
        "failure_threshold": 3,
        "tags": {"Name": format!("ingress-{region}")},
    }))
}

fn latency_record(zone: &str, region: &str, health_check: &str) -> Attrs {
    attrs(json!({
        "zone_id": zone,
        "name": "api.example.com",
        "type": "CNAME",
        "ttl": 60,
        "records": [ingress(region)],
        "set_identifier": region,
        "routing": {"latency": {"region": region}},
        "health_check_id": health_check,
    }))
}

/// Every hosted zone the emulator has, whatever its tags.
async fn all_zones(p: &Provider) -> Vec<aws_sdk_route53::types::HostedZone> {
    p.clients
        .route53("us-east-1")
        .list_hosted_zones()
        .send()
        .await
        .expect("list zones")
        .hosted_zones
}

#[tokio::test(flavor = "multi_thread")]
async fn zone_lifecycle() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let r = Res::new("global/route53_zone.main");
    let ctx = r.ctx();
    let desired = attrs(json!({
        "name": "example.com",
        "comment": "Public zone of the platform",
        "tags": {"team": "platform", "env": "prod"},
    }));
    let created = p.create_and_wait(&ctx, &desired).await.expect("create");
    assert_eq!(created.status, Status::Ready);
    assert!(!created.id.starts_with('/'), "{}", created.id);
    assert_eq!(created.region, "us-east-1");
    assert_eq!(created.attrs, desired, "attributes as the spec writes them");
    assert_eq!(attr(&created.computed, "id"), created.id);
    assert_eq!(
        attr(&created.computed, "arn"),
        format!("arn:aws:route53:::hostedzone/{}", created.id)
    );
    match created.computed.get("name_servers") {
        Some(Value::List(ns)) => assert_eq!(ns.len(), 4, "{ns:?}"),
        other => panic!("name_servers: {other:?}"),
    }
    assert_eq!(created.address_tag(), Some("global/route53_zone.main"));
    assert_eq!(created.stack_tag(), Some("tests"));

    let read = p
        .read(&ctx, &created.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(read, created);

    // Another stack's zone and an untagged zone are not this stack's.
    let other = emu.provider("other").await;
    zone(&other, "global/route53_zone.other", "other.example.com").await;
    p.clients
        .route53("us-east-1")
        .create_hosted_zone()
        .name("untagged.example.com")
        .caller_reference("someone-else")
        .send()
        .await
        .expect("untagged zone");
    let listed = p
        .refresh(r.kind, "us-east-1", &Hints::default())
        .await
        .expect("refresh");
    assert_eq!(listed, vec![created.clone()]);

    // A retried create with the same token finds the zone instead of making a second one.
    let again = p.create(&ctx, &desired).await.expect("retried create");
    assert_eq!(again.id, created.id);
    assert_eq!(all_zones(&p).await.len(), 3);

    // Update in place: the comment and the tags.
    let changed = attrs(json!({
        "name": "example.com",
        "comment": "Zone of the platform",
        "tags": {"team": "network"},
    }));
    let updated = p
        .update_and_wait(&ctx, &created, &changed)
        .await
        .expect("update");
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.attrs, changed);
    assert_eq!(
        updated.address_tag(),
        created.address_tag(),
        "identity tags kept"
    );
    // Removing the comment clears it.
    let bare = attrs(json!({"name": "example.com", "tags": {"team": "network"}}));
    let updated = p
        .update(&ctx, &updated, &bare)
        .await
        .expect("clear comment");
    assert_eq!(updated.attrs, bare);

    p.delete_and_wait(&ctx, &updated, &bare)
        .await
        .expect("delete");
    assert!(p.read(&ctx, &created.id).await.expect("read").is_none());
    p.delete(&ctx, &updated, &bare).await.expect("delete twice");
    assert!(
        p.refresh(r.kind, "us-east-1", &Hints::default())
            .await
            .expect("refresh")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn zone_created_but_not_tagged_is_found_by_its_caller_reference() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let r = Res::new("global/route53_zone.main");
    let ctx = r.ctx();
    // What an apply stopped between CreateHostedZone and ChangeTagsForResource leaves behind.
    let first = p
        .clients
        .route53("us-east-1")
        .create_hosted_zone()
        .name("example.com")
        .caller_reference(&r.token)
        .send()
        .await
        .expect("first attempt")
        .hosted_zone
        .expect("zone");
    let first_id = first.id.trim_start_matches("/hostedzone/").to_owned();
    assert!(
        p.refresh(r.kind, "us-east-1", &Hints::default())
            .await
            .expect("refresh")
            .is_empty(),
        "untagged, so not listed as the stack's"
    );
    // The spec's name finds it as long as its CallerReference says regionctl made it.
    let hints = Hints {
        names: ["example.com".to_owned()].into(),
        ..Hints::default()
    };
    let found = p
        .refresh(r.kind, "us-east-1", &hints)
        .await
        .expect("refresh");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, first_id);
    assert_eq!(found[0].address_tag(), None);

    // The retried create takes it over and tags it.
    let desired = attrs(json!({"name": "example.com", "tags": {"team": "platform"}}));
    let created = p
        .create_and_wait(&ctx, &desired)
        .await
        .expect("retried create");
    assert_eq!(created.id, first_id);
    assert_eq!(created.address_tag(), Some("global/route53_zone.main"));
    assert_eq!(all_zones(&p).await.len(), 1, "no second zone");
    assert_eq!(
        p.refresh(r.kind, "us-east-1", &Hints::default())
            .await
            .expect("refresh"),
        vec![created]
    );

    // A create with a token used before for another name is refused by Route 53.
    let other = attrs(json!({"name": "another.example.com"}));
    let err = p.create(&ctx, &other).await.expect_err("token reused");
    assert_eq!(err.code(), Some("HostedZoneAlreadyExists"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn zone_waits_for_its_change_to_be_in_sync() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    emu.set_delay("route53_zone", 2);
    let r = Res::new("global/route53_zone.main");
    let ctx = r.ctx();
    let created = p
        .create(&ctx, &attrs(json!({"name": "example.com"})))
        .await
        .expect("create");
    assert_eq!(created.status, Status::Pending("PENDING".to_owned()));
    let ready = p.wait_ready(&ctx, &created.id).await.expect("wait");
    assert_eq!(ready.status, Status::Ready);
    assert!(p.clients.requests().operation("GetChange") >= 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_zone_with_records_names_them() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let zr = Res::new("global/route53_zone.main");
    let z = zone(&p, "global/route53_zone.main", "example.com").await;
    let rr = Res::new(r#"global/route53_record.api["eu-west-1"]"#);
    let mut record_spec = latency_record(&z.id, "eu-west-1", "unused");
    record_spec.remove("health_check_id");
    let record = p
        .create_and_wait(&rr.ctx(), &record_spec)
        .await
        .expect("record");

    let config = attrs(json!({"name": "example.com"}));
    let err = p
        .delete(&zr.ctx(), &z, &config)
        .await
        .expect_err("the zone is not empty");
    let text = err.to_string();
    assert_eq!(err.code(), Some("HostedZoneNotEmpty"), "{text}");
    assert!(text.contains("global/route53_zone.main"), "{text}");
    assert!(text.contains("in us-east-1"), "{text}");
    assert!(text.contains("DeleteHostedZone"), "{text}");
    assert!(text.contains("api.example.com CNAME (eu-west-1)"), "{text}");
    let left = text.split("Records left").nth(1).expect("records listed");
    assert!(
        !left.contains("SOA") && !left.contains(" NS"),
        "the zone's own: {text}"
    );

    p.delete_and_wait(&rr.ctx(), &record, &record_spec)
        .await
        .expect("delete record");
    p.delete_and_wait(&zr.ctx(), &z, &config)
        .await
        .expect("delete zone");
}

#[tokio::test(flavor = "multi_thread")]
async fn health_check_lifecycle() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let r = Res::new(r#"global/route53_health_check.region["eu-west-1"]"#);
    let ctx = r.ctx();
    let mut desired = health_check_spec("eu-west-1");
    desired.insert(
        "regions".to_owned(),
        Value::from_json(&json!(["ap-southeast-1", "eu-west-1", "us-east-1"])),
    );
    let created = p.create_and_wait(&ctx, &desired).await.expect("create");
    assert_eq!(created.status, Status::Ready);
    assert_eq!(attr(&created.computed, "id"), created.id);
    for name in [
        "type",
        "fqdn",
        "port",
        "resource_path",
        "request_interval",
        "failure_threshold",
        "regions",
        "tags",
    ] {
        assert_eq!(created.attrs.get(name), desired.get(name), "{name}");
    }
    // What the spec left out is reported as AWS has it (SNI on for HTTPS).
    assert_eq!(created.attrs.get("enable_sni"), Some(&Value::Bool(true)));
    assert_eq!(created.attrs.get("inverted"), Some(&Value::Bool(false)));
    let read = p
        .read(&ctx, &created.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(read, created);

    // A retried create with the same token and settings answers the same check.
    let again = p.create(&ctx, &desired).await.expect("retried create");
    assert_eq!(again.id, created.id);

    // Refresh keeps this stack's checks only.
    let other = emu.provider("other").await;
    let or = Res::new(r#"global/route53_health_check.region["us-east-1"]"#);
    other
        .create(&or.ctx(), &health_check_spec("us-east-1"))
        .await
        .expect("other stack's check");
    p.clients
        .route53("us-east-1")
        .create_health_check()
        .caller_reference("someone-else")
        .health_check_config(
            aws_sdk_route53::types::HealthCheckConfig::builder()
                .r#type(aws_sdk_route53::types::HealthCheckType::Tcp)
                .ip_address("192.0.2.10")
                .port(22)
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("untagged check");
    let listed = p
        .refresh(r.kind, "us-east-1", &Hints::default())
        .await
        .expect("refresh");
    assert_eq!(listed, vec![created.clone()]);

    // Update in place: port, path, threshold, tags; the checker regions are kept.
    let mut changed = desired.clone();
    changed.insert("port".to_owned(), Value::Int(8443));
    changed.insert("resource_path".to_owned(), Value::Str("/ready".to_owned()));
    changed.insert("failure_threshold".to_owned(), Value::Int(5));
    changed.insert(
        "tags".to_owned(),
        Value::from_json(&json!({"Name": "euw1"})),
    );
    let updated = p
        .update_and_wait(&ctx, &created, &changed)
        .await
        .expect("update");
    assert_eq!(updated.id, created.id);
    for name in [
        "port",
        "resource_path",
        "failure_threshold",
        "regions",
        "tags",
    ] {
        assert_eq!(updated.attrs.get(name), changed.get(name), "{name}");
    }
    assert_eq!(updated.address_tag(), created.address_tag());
    // Removing the path and the regions resets them; flags change too.
    let mut reduced = changed.clone();
    reduced.remove("resource_path");
    reduced.remove("regions");
    reduced.insert("disabled".to_owned(), Value::Bool(true));
    let updated = p.update(&ctx, &updated, &reduced).await.expect("reset");
    assert_eq!(updated.attrs.get("resource_path"), None);
    assert_eq!(updated.attrs.get("regions"), None);
    assert_eq!(updated.attrs.get("disabled"), Some(&Value::Bool(true)));
    assert_eq!(updated.attrs.get("port"), Some(&Value::Int(8443)));
    assert_eq!(p.clients.requests().operation("UpdateHealthCheck"), 2);

    // Replace (request_interval forces it): a new check, then the old one goes.
    let rr = Res::new(r#"global/route53_health_check.region["eu-west-1"]"#);
    let mut replacement = reduced.clone();
    replacement.insert("request_interval".to_owned(), Value::Int(10));
    let token = "rc-replacement-token".to_owned();
    let mut rctx = rr.ctx();
    rctx.token = &token;
    let new = p
        .create_and_wait(&rctx, &replacement)
        .await
        .expect("replacement");
    assert_ne!(new.id, created.id);
    assert_eq!(new.attrs.get("request_interval"), Some(&Value::Int(10)));
    p.delete_and_wait(&ctx, &updated, &reduced)
        .await
        .expect("delete old");
    assert_eq!(
        p.refresh(r.kind, "us-east-1", &Hints::default())
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
    assert!(p.read(&ctx, &new.id).await.expect("read").is_none());
    assert!(
        p.refresh(r.kind, "us-east-1", &Hints::default())
            .await
            .expect("refresh")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn health_check_refresh_pages_and_batches_tags() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let r = Res::new(&format!("global/route53_health_check.c{i}"));
        ids.push(
            p.create(&r.ctx(), &health_check_spec("eu-west-1"))
                .await
                .expect("create")
                .id,
        );
    }
    let before = p.clients.requests();
    let listed = p
        .refresh(
            regionctl::kind::Kind::Route53HealthCheck,
            "us-east-1",
            &Hints::default(),
        )
        .await
        .expect("refresh");
    let after = p.clients.requests();
    let mut got: Vec<String> = listed.into_iter().map(|o| o.id).collect();
    got.sort();
    ids.sort();
    assert_eq!(got, ids);
    let calls = |op: &str| after.operation(op) - before.operation(op);
    assert_eq!(calls("ListHealthChecks"), 1);
    assert_eq!(calls("ListTagsForResources"), 2, "ten ids per call");
    assert_eq!(after.total() - before.total(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn latency_records_with_health_checks() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let z = zone(&p, "global/route53_zone.main", "example.com").await;
    let mut records = Vec::new();
    for region in REGIONS {
        let hr = Res::new(&format!(
            r#"global/route53_health_check.region["{region}"]"#
        ));
        let check = p
            .create_and_wait(&hr.ctx(), &health_check_spec(region))
            .await
            .expect("health check");
        let rr = Res::new(&format!(r#"global/route53_record.api["{region}"]"#));
        let desired = latency_record(&z.id, region, &check.id);
        let record = p
            .create_and_wait(&rr.ctx(), &desired)
            .await
            .expect("record");
        assert_eq!(record.attrs, desired, "attributes as the spec writes them");
        assert_eq!(
            record.id,
            format!("{}/api.example.com/CNAME/{region}", z.id)
        );
        assert_eq!(attr(&record.computed, "id"), record.id);
        assert_eq!(attr(&record.computed, "fqdn"), "api.example.com");
        assert_eq!(record.status, Status::Ready);
        assert!(record.tags.is_empty());
        let read = p
            .read(&rr.ctx(), &record.id)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(read, record);
        records.push((rr, desired, record));
    }
    // Another name with the same set identifier as one of the latency records.
    let app = Res::new(r#"global/route53_record.app["eu-west-1"]"#);
    let mut app_spec = records[1].1.clone();
    app_spec.insert("name".to_owned(), Value::Str("app.example.com".to_owned()));
    let app_record = p
        .create_and_wait(&app.ctx(), &app_spec)
        .await
        .expect("app record");

    let kind = regionctl::kind::Kind::Route53Record;
    let before = p.clients.requests();
    let mut listed = p
        .refresh(kind, "us-east-1", &Hints::default())
        .await
        .expect("refresh");
    let after = p.clients.requests();
    // One page of zones, one batch of their tags, one page of records.
    for op in [
        "ListHostedZones",
        "ListTagsForResources",
        "ListResourceRecordSets",
    ] {
        assert_eq!(after.operation(op) - before.operation(op), 1, "{op}");
    }
    assert_eq!(after.total() - before.total(), 3);
    listed.sort_by(|a, b| a.id.cmp(&b.id));
    let mut expected: Vec<Observed> = records.iter().map(|(_, _, o)| o.clone()).collect();
    expected.push(app_record.clone());
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(listed, expected, "the zone's own SOA and NS are left out");

    // A CREATE of a record that exists fails instead of taking it over.
    let dup = Res::new("global/route53_record.dup");
    let err = p
        .create(&dup.ctx(), &records[1].1)
        .await
        .expect_err("the record exists");
    let text = err.to_string();
    assert_eq!(err.code(), Some("InvalidChangeBatch"), "{text}");
    assert!(text.contains("global/route53_record.dup"), "{text}");
    assert!(text.contains("in us-east-1"), "{text}");
    assert!(text.contains("ChangeResourceRecordSets"), "{text}");
    assert!(text.contains("already exists"), "{text}");
    assert!(text.contains("set-identifier='eu-west-1'"), "{text}");

    // Deleting one latency record leaves the other two.
    let (rr, desired, record) = &records[1];
    p.delete_and_wait(&rr.ctx(), record, desired)
        .await
        .expect("delete");
    assert!(p.read(&rr.ctx(), &record.id).await.expect("read").is_none());
    p.delete(&rr.ctx(), record, desired)
        .await
        .expect("delete twice");
    let left = p
        .refresh(kind, "us-east-1", &Hints::default())
        .await
        .expect("refresh");
    let mut left: Vec<&str> = left.iter().map(|o| o.id.as_str()).collect();
    left.sort();
    // Only that record: not the other regions', nor app.example.com with the same set identifier.
    let mut want = vec![
        records[0].2.id.as_str(),
        records[2].2.id.as_str(),
        app_record.id.as_str(),
    ];
    want.sort();
    assert_eq!(left, want);
}

#[tokio::test(flavor = "multi_thread")]
async fn simple_alias_failover_and_weighted_records() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let z = zone(&p, "global/route53_zone.main", "dr.example.com").await;
    let kind = regionctl::kind::Kind::Route53Record;

    // A simple CNAME, then its TTL and value updated in place.
    let www = Res::new("global/route53_record.www");
    let simple = attrs(json!({
        "zone_id": z.id, "name": "www.dr.example.com", "type": "CNAME",
        "ttl": 300, "records": ["app.dr.example.com"],
    }));
    let created = p.create_and_wait(&www.ctx(), &simple).await.expect("cname");
    assert_eq!(created.attrs, simple);
    assert_eq!(created.id, format!("{}/www.dr.example.com/CNAME", z.id));
    let mut changed = simple.clone();
    changed.insert("ttl".to_owned(), Value::Int(60));
    changed.insert(
        "records".to_owned(),
        Value::from_json(&json!(["app2.dr.example.com"])),
    );
    let updated = p
        .update_and_wait(&www.ctx(), &created, &changed)
        .await
        .expect("update");
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.attrs, changed);

    // An A alias to a load balancer; names are reported without the final dot.
    let apex = Res::new("global/route53_record.apex");
    let alias = attrs(json!({
        "zone_id": z.id, "name": "dr.example.com", "type": "A",
        "alias": {
            "name": "dualstack.app-use1-0123456789.us-east-1.elb.amazonaws.com",
            "zone_id": "Z35SXDOTRQ7X7K",
            "evaluate_target_health": true,
        },
    }));
    let a = p.create_and_wait(&apex.ctx(), &alias).await.expect("alias");
    assert_eq!(a.attrs, alias);
    assert_eq!(attr(&a.computed, "fqdn"), "dr.example.com");

    // A failover pair, as in examples/active-passive-dr.
    let mut pair = Vec::new();
    for (name, role, target) in [
        ("app_primary", "PRIMARY", "app-use1.elb.amazonaws.com"),
        ("app_standby", "SECONDARY", "app-usw2.elb.amazonaws.com"),
    ] {
        let r = Res::new(&format!("global/route53_record.{name}"));
        let desired = attrs(json!({
            "zone_id": z.id, "name": "app.dr.example.com", "type": "CNAME", "ttl": 60,
            "records": [target], "set_identifier": role.to_lowercase(),
            "routing": {"failover": role},
        }));
        let o = p
            .create_and_wait(&r.ctx(), &desired)
            .await
            .expect("failover");
        assert_eq!(o.attrs, desired);
        pair.push((r, desired, o));
    }

    // Weighted records; a weight changes in place.
    let blue = Res::new("global/route53_record.blue");
    let weighted = |set: &str, weight: i64, target: &str| {
        attrs(json!({
            "zone_id": z.id, "name": "canary.dr.example.com", "type": "A", "ttl": 60,
            "records": [target], "set_identifier": set,
            "routing": {"weighted": {"weight": weight}},
        }))
    };
    let b = p
        .create_and_wait(&blue.ctx(), &weighted("blue", 90, "192.0.2.1"))
        .await
        .expect("blue");
    let green = Res::new("global/route53_record.green");
    let g = p
        .create_and_wait(&green.ctx(), &weighted("green", 10, "192.0.2.2"))
        .await
        .expect("green");
    let reweighted = weighted("blue", 50, "192.0.2.1");
    let b2 = p
        .update_and_wait(&blue.ctx(), &b, &reweighted)
        .await
        .expect("weight");
    assert_eq!(b2.attrs, reweighted);
    assert_eq!(b2.id, b.id);
    let g_now = p
        .read(&green.ctx(), &g.id)
        .await
        .expect("read")
        .expect("green kept");
    assert_eq!(g_now.attrs.get("routing"), g.attrs.get("routing"));

    // Another routing policy under the same identity: the record is swapped atomically.
    let mut latency = reweighted.clone();
    latency.insert(
        "routing".to_owned(),
        Value::from_json(&json!({"latency": {"region": "eu-west-1"}})),
    );
    let b3 = p
        .update_and_wait(&blue.ctx(), &b2, &latency)
        .await
        .expect("policy change");
    assert_eq!(b3.attrs, latency);
    assert_eq!(b3.id, b.id);

    // Replacement (set_identifier forces it): the new record, then the old one goes.
    let (r, desired, standby) = &pair[1];
    let mut renamed = desired.clone();
    renamed.insert(
        "set_identifier".to_owned(),
        Value::Str("standby-2".to_owned()),
    );
    let new = p
        .create_and_wait(&r.ctx(), &renamed)
        .await
        .expect("replacement");
    assert_eq!(
        new.id,
        format!("{}/app.dr.example.com/CNAME/standby-2", z.id)
    );
    p.delete_and_wait(&r.ctx(), standby, desired)
        .await
        .expect("delete old");
    assert!(p.read(&r.ctx(), &standby.id).await.expect("read").is_none());
    assert!(
        p.read(&r.ctx(), &pair[0].2.id)
            .await
            .expect("read")
            .is_some()
    );

    let listed = p
        .refresh(kind, "us-east-1", &Hints::default())
        .await
        .expect("refresh");
    let mut ids: Vec<&str> = listed.iter().map(|o| o.id.as_str()).collect();
    ids.sort();
    let mut want = vec![
        updated.id.as_str(),
        a.id.as_str(),
        pair[0].2.id.as_str(),
        new.id.as_str(),
        b.id.as_str(),
        g.id.as_str(),
    ];
    want.sort();
    assert_eq!(ids, want);
}

#[tokio::test(flavor = "multi_thread")]
async fn records_of_a_zone_regionctl_does_not_manage_are_found_by_their_ids() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    // A zone of another team (not tagged with the stack) in which regionctl manages one record.
    let foreign = p
        .clients
        .route53("us-east-1")
        .create_hosted_zone()
        .name("corp.example")
        .caller_reference("corp")
        .send()
        .await
        .expect("zone")
        .hosted_zone
        .expect("zone");
    let zone = foreign.id.trim_start_matches("/hostedzone/").to_owned();
    let mine = Res::new("global/route53_record.mine");
    let spec = |name: &str| {
        attrs(json!({
            "zone_id": zone, "name": name, "type": "TXT", "ttl": 300,
            "records": ["\"v=spf1 -all\""],
        }))
    };
    let record = p
        .create_and_wait(&mine.ctx(), &spec("mine.corp.example"))
        .await
        .expect("record");
    assert_eq!(
        record.attrs,
        spec("mine.corp.example"),
        "TXT values keep their quotes"
    );
    let theirs = Res::new("global/route53_record.theirs");
    p.create_and_wait(&theirs.ctx(), &spec("theirs.corp.example"))
        .await
        .expect("their record");

    let kind = regionctl::kind::Kind::Route53Record;
    assert!(
        p.refresh(kind, "us-east-1", &Hints::default())
            .await
            .expect("refresh")
            .is_empty()
    );
    let listed = p
        .refresh(kind, "us-east-1", &hints_ids([record.id.as_str()]))
        .await
        .expect("refresh");
    assert_eq!(listed, vec![record]);
}

#[tokio::test(flavor = "multi_thread")]
async fn record_changes_wait_until_in_sync() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let z = zone(&p, "global/route53_zone.main", "example.com").await;
    emu.set_delay("route53_record", 3);
    let r = Res::new("global/route53_record.www");
    let ctx = r.ctx();
    let desired = attrs(json!({
        "zone_id": z.id, "name": "www.example.com", "type": "A", "ttl": 60,
        "records": ["192.0.2.1", "192.0.2.2"],
    }));
    let created = p.create(&ctx, &desired).await.expect("create");
    assert_eq!(created.status, Status::Pending("PENDING".to_owned()));
    assert_eq!(
        created.attrs, desired,
        "the change is applied at once, only not in sync"
    );
    let before = p.clients.requests().operation("GetChange");
    let ready = p.wait_ready(&ctx, &created.id).await.expect("wait");
    assert_eq!(ready.status, Status::Ready);
    assert_eq!(p.clients.requests().operation("GetChange") - before, 4);

    // An update is pending too, until its own change is in sync.
    let mut changed = desired.clone();
    changed.insert("ttl".to_owned(), Value::Int(300));
    let updated = p.update(&ctx, &ready, &changed).await.expect("update");
    assert_eq!(updated.status, Status::Pending("PENDING".to_owned()));
    let ready = p.wait_ready(&ctx, &updated.id).await.expect("wait");
    assert_eq!(ready.status, Status::Ready);
    assert_eq!(ready.attrs, changed);
    // Once in sync, reads no longer ask.
    let calls = p.clients.requests().operation("GetChange");
    p.read(&ctx, &ready.id).await.expect("read");
    assert_eq!(p.clients.requests().operation("GetChange"), calls);
}

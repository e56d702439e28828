//! No perpetual diffs: both example projects, created through the provider on the emulator and
//! refreshed, compare attribute by attribute as the same as their specs; and real changes (to the
//! spec, or made behind regionctl's back) are seen as changes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::emulator::Emulator;
use crate::support::{self, platform};
use regionctl::addr::InstanceAddr;
use regionctl::kind::Kind;
use regionctl::provider::{Attrs, Ctx, Observed, Provider, idempotency_token};
use regionctl::spec::Spec;
use regionctl::spec::schema::compare::{AttrCmp, compare, compare_all};
use regionctl::spec::value::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A project created on a fresh emulator, with every resource's desired attributes (references
/// resolved) and its refreshed live state.
struct Created {
    _emu: Emulator,
    p: Provider,
    done: BTreeMap<InstanceAddr, Observed>,
    desired: BTreeMap<InstanceAddr, Attrs>,
    live: BTreeMap<InstanceAddr, Observed>,
}

async fn create(project: &Path, stack: &str) -> Created {
    let emu = Emulator::start();
    let p = emu.provider(stack).await;
    let (spec, graph) = platform::load(project);
    let done = platform::create_all(&p, &spec, &graph).await;
    let desired = done
        .keys()
        .map(|addr| (addr.clone(), platform::resolved(&spec, addr, &done)))
        .collect();
    let live = refresh(&p, &spec, &done).await;
    Created {
        _emu: emu,
        p,
        done,
        desired,
        live,
    }
}

/// One batched refresh, as the planner does it, matched to the created resources by id.
async fn refresh(
    p: &Provider,
    spec: &Spec,
    done: &BTreeMap<InstanceAddr, Observed>,
) -> BTreeMap<InstanceAddr, Observed> {
    let mut jobs = regionctl::ops::refresh::jobs(spec);
    // The planner adds the ids its state records to the spec's hints. Two kinds need them: an
    // SNS subscription takes no tags, and an OIDC provider's url (the cluster's issuer) is not
    // known from a spec loaded without state.
    for job in &mut jobs {
        if matches!(job.kind, Kind::SnsSubscription | Kind::IamOidcProvider) {
            job.hints.ids.extend(
                done.values()
                    .filter(|o| o.kind == job.kind && o.region == job.region)
                    .map(|o| o.id.clone()),
            );
        }
    }
    let jobs = jobs
        .into_iter()
        .map(|j| (j.kind, j.region, j.hints))
        .collect();
    let mut by_id = BTreeMap::new();
    for (kind, region, result) in p.refresh_many(jobs).await {
        for o in result.unwrap_or_else(|e| panic!("refresh {kind} in {region}: {e}")) {
            by_id.insert((o.kind, o.region.clone(), o.id.clone()), o);
        }
    }
    let mut live = BTreeMap::new();
    for (addr, o) in done {
        let found = match by_id.remove(&(o.kind, o.region.clone(), o.id.clone())) {
            Some(found) => found,
            // SNS lists a subscription pending confirmation without its ARN; the planner reads
            // such a state entry by its id (ops::refresh, read_unlisted). Only that kind may
            // be missing from the lists.
            None if o.kind == Kind::SnsSubscription => {
                let ctx = Ctx {
                    addr,
                    kind: o.kind,
                    region: &o.region,
                    token: "",
                };
                p.read(&ctx, &o.id)
                    .await
                    .unwrap_or_else(|e| panic!("read {addr}: {e}"))
                    .unwrap_or_else(|| panic!("{addr} ({}) is gone", o.id))
            }
            None => panic!("refresh did not find {addr} ({})", o.id),
        };
        live.insert(addr.clone(), found);
    }
    live
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "(absent)".to_owned(), |v| v.to_json().to_string())
}

/// Every attribute of every resource compares as Same (write-only ones as NotObservable);
/// otherwise fails listing every mismatch at once.
fn assert_no_changes(c: &Created) {
    let mut mismatches = Vec::new();
    let mut compared = 0;
    // Attributes whose raw values differ but compare the same: what the rules had to normalise
    // (AWS's defaults, set order, regrouped security group rules ...).
    let mut normalised = 0;
    for (addr, desired) in &c.desired {
        let live = &c.live[addr];
        let kind = addr.block.kind;
        for (name, result) in compare_all(kind, desired, &live.attrs) {
            compared += 1;
            let raw_desired = desired.get(&name).filter(|v| !matches!(v, Value::Null));
            if result == AttrCmp::Same && raw_desired != live.attrs.get(&name) {
                normalised += 1;
            }
            // The planner compares write-only attributes with state, not with AWS.
            if result == AttrCmp::Same || result == AttrCmp::NotObservable {
                continue;
            }
            mismatches.push(format!(
                "{kind} {addr} .{name}: {result:?}\n    desired {}\n    live    {}",
                show(desired.get(&name)),
                show(live.attrs.get(&name)),
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {compared} attributes would plan a change on an unchanged platform:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    eprintln!(
        "{} resources, {compared} attributes: no changes ({normalised} needed normalising)",
        c.desired.len()
    );
    // A plain equality would have planned changes here: the rules are exercised, not bypassed.
    assert!(
        normalised > 0,
        "nothing needed normalising: is the live state empty?"
    );
}

fn find(c: &Created, kind: Kind, name: &str) -> InstanceAddr {
    c.desired
        .keys()
        .find(|a| a.block.kind == kind && a.block.name == name)
        .unwrap_or_else(|| panic!("no {kind}.{name} in the project"))
        .clone()
}

/// Compares one attribute of `addr` after `edit` changed the desired attributes.
fn after_edit(
    c: &Created,
    addr: &InstanceAddr,
    name: &str,
    edit: impl FnOnce(&mut Attrs),
) -> AttrCmp {
    let mut desired = c.desired[addr].clone();
    edit(&mut desired);
    compare(
        addr.block.kind,
        name,
        desired.get(name),
        c.live[addr].attrs.get(name),
    )
}

fn map_mut<'a>(attrs: &'a mut Attrs, name: &str) -> &'a mut BTreeMap<String, Value> {
    match attrs.get_mut(name) {
        Some(Value::Map(m)) => m,
        other => panic!("{name} is not a map: {other:?}"),
    }
}

fn list_mut<'a>(attrs: &'a mut Attrs, name: &str) -> &'a mut Vec<Value> {
    match attrs.get_mut(name) {
        Some(Value::List(l)) => l,
        other => panic!("{name} is not a list: {other:?}"),
    }
}

/// Spec changes the planner must see.
fn assert_spec_changes_differ(c: &Created) {
    let group = find(c, Kind::EksNodeGroup, "default");
    let cmp = after_edit(c, &group, "scaling", |d| {
        map_mut(d, "scaling").insert("desired".into(), Value::Int(5));
    });
    assert_eq!(cmp, AttrCmp::Differs, "node group desired size");
    let cmp = after_edit(c, &group, "labels", |d| {
        map_mut(d, "labels").insert("pool".into(), Value::Str("other".into()));
    });
    assert_eq!(cmp, AttrCmp::Differs, "node group label");

    let vpc = find(c, Kind::Vpc, "main");
    let cmp = after_edit(c, &vpc, "tags", |d| {
        map_mut(d, "tags").insert("team".into(), Value::Str("payments".into()));
    });
    assert_eq!(cmp, AttrCmp::Differs, "changed tag");
    let cmp = after_edit(c, &vpc, "tags", |d| {
        map_mut(d, "tags").remove("team");
    });
    assert_eq!(cmp, AttrCmp::Differs, "removed tag");
    let cmp = after_edit(c, &vpc, "tags", |d| {
        d.remove("tags");
    });
    assert_eq!(cmp, AttrCmp::Differs, "all tags removed");

    let sg = find(c, Kind::SecurityGroup, "db");
    let cmp = after_edit(c, &sg, "ingress", |d| {
        list_mut(d, "ingress").push(support::attrs(serde_json::json!({
            "rule": {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["10.0.0.0/8"]}
        }))["rule"].clone());
    });
    assert_eq!(cmp, AttrCmp::Differs, "added security group rule");
    let cmp = after_edit(c, &sg, "ingress", |d| {
        list_mut(d, "ingress").pop();
    });
    assert_eq!(cmp, AttrCmp::Differs, "removed security group rule");

    let db = find(c, Kind::RdsInstance, "app");
    let cmp = after_edit(c, &db, "instance_class", |d| {
        d.insert("instance_class".into(), Value::Str("db.r6g.xlarge".into()));
    });
    assert_eq!(cmp, AttrCmp::Differs, "RDS instance class");
    let cmp = after_edit(c, &db, "engine_version", |d| {
        d.insert("engine_version".into(), Value::Str("16.6".into()));
    });
    assert_eq!(cmp, AttrCmp::Differs, "RDS minor version upgrade");
    let cmp = after_edit(c, &db, "storage_encrypted", |d| {
        d.insert("storage_encrypted".into(), Value::Bool(false));
    });
    assert_eq!(cmp, AttrCmp::Differs, "RDS encryption (force_new)");

    let cache = find(c, Kind::ElasticacheReplicationGroup, "app");
    let cmp = after_edit(c, &cache, "num_cache_clusters", |d| {
        d.insert("num_cache_clusters".into(), Value::Int(3));
    });
    assert_eq!(cmp, AttrCmp::Differs, "cache replicas");

    let route = find(c, Kind::RouteTable, "private");
    let cmp = after_edit(c, &route, "routes", |d| {
        list_mut(d, "routes").clear();
    });
    assert_eq!(cmp, AttrCmp::Differs, "routes removed");

    let record = c
        .desired
        .keys()
        .find(|a| a.block.kind == Kind::Route53Record)
        .expect("a record")
        .clone();
    let cmp = after_edit(c, &record, "ttl", |d| {
        d.insert("ttl".into(), Value::Int(300));
    });
    assert_eq!(cmp, AttrCmp::Differs, "record ttl");
    let cmp = after_edit(c, &record, "health_check_id", |d| {
        d.remove("health_check_id");
    });
    assert_eq!(cmp, AttrCmp::Differs, "record health check removed");
}

fn ctx_of<'a>(c: &'a Created, addr: &'a InstanceAddr, token: &'a str) -> Ctx<'a> {
    Ctx {
        addr,
        kind: addr.block.kind,
        region: &c.done[addr].region,
        token,
    }
}

/// Changes made behind regionctl's back (through the provider, as another tool would) show
/// against the unchanged spec, and only on the attributes changed.
async fn assert_live_changes_differ(c: &Created) {
    let token = idempotency_token(&c.p.stack, &find(c, Kind::Vpc, "main"), "drift");
    for (kind, name, attr, edit) in [
        (
            Kind::EksNodeGroup,
            "default",
            "scaling",
            Box::new(|d: &mut Attrs| {
                map_mut(d, "scaling").insert("desired".into(), Value::Int(4));
            }) as Box<dyn Fn(&mut Attrs)>,
        ),
        (
            Kind::Subnet,
            "private",
            "tags",
            Box::new(|d: &mut Attrs| {
                map_mut(d, "tags").insert("owner".into(), Value::Str("someone".into()));
            }),
        ),
        (
            Kind::RdsInstance,
            "app",
            "backup_retention_period",
            Box::new(|d: &mut Attrs| {
                d.insert("backup_retention_period".into(), Value::Int(1));
            }),
        ),
    ] {
        let addr = find(c, kind, name);
        let ctx = ctx_of(c, &addr, &token);
        let mut changed = c.desired[&addr].clone();
        edit(&mut changed);
        let prior = &c.live[&addr];
        let updated =
            c.p.update_and_wait(&ctx, prior, &changed)
                .await
                .unwrap_or_else(|e| panic!("update {addr}: {e}"));
        let after =
            c.p.read(&ctx, &updated.id)
                .await
                .unwrap_or_else(|e| panic!("read {addr}: {e}"))
                .unwrap_or_else(|| panic!("{addr} vanished"));
        let results = compare_all(kind, &c.desired[&addr], &after.attrs);
        let differing: Vec<&String> = results
            .iter()
            .filter(|(_, r)| **r == AttrCmp::Differs)
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            differing,
            [attr],
            "{addr} after changing {attr}: {results:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_platform_plans_no_changes_once_created() {
    let c = create(&root(), "platform").await;
    assert_eq!(c.desired.len(), 121);
    assert_no_changes(&c);
    assert_spec_changes_differ(&c);
    assert_live_changes_differ(&c).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dr_example_plans_no_changes_once_created() {
    let c = create(&root().join("examples/active-passive-dr"), "dr").await;
    assert_eq!(c.desired.len(), 31);
    assert_no_changes(&c);
    // Removing replicate_from promotes the replica: a change.
    let replica = find(&c, Kind::RdsInstance, "app_replica");
    let cmp = after_edit(&c, &replica, "replicate_from", |d| {
        d.remove("replicate_from");
    });
    assert_eq!(cmp, AttrCmp::Differs, "promotion");
    let standby = find(&c, Kind::Route53Record, "app_standby");
    let cmp = after_edit(&c, &standby, "routing", |d| {
        d.insert(
            "routing".into(),
            support::attrs(serde_json::json!({"r": {"failover": "PRIMARY"}}))["r"].clone(),
        );
    });
    assert_eq!(cmp, AttrCmp::Differs, "failover role");
}

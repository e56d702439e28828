//! `elasticache_replication_group` (cluster mode disabled): CreateReplicationGroup,
//! ModifyReplicationGroup, IncreaseReplicaCount / DecreaseReplicaCount, tags by ARN,
//! DeleteReplicationGroup. Its id is the replication group id.
//!
//! DescribeReplicationGroups does not report the engine version, subnet group, security groups,
//! parameter group or maintenance window: those are read from the first member cache cluster
//! (every member shares them), so reading one group costs DescribeReplicationGroups +
//! DescribeCacheClusters + ListTagsForResource. Requests per refresh: the pages of
//! DescribeReplicationGroups (100 groups each); the tags of the hinted groups from the region's
//! tag index (`provider::tag_index`: ElastiCache has no batch tag read of its own, the Resource
//! Groups Tagging API serves one GetResources per region for the whole refresh), plus one
//! ListTagsForResource per hinted group the index lacks; and DescribeCacheClusters once for a
//! single hinted group, else the pages of the region's cache clusters (100 each) for all of them.
//!
//! Normal forms: `engine_version` is reported as `major.minor` for Redis OSS 6+ and Valkey
//! (AWS takes "7.1" and reports "7.1.0"; a later patch release keeps it "7.1"), and as AWS
//! reports it for older Redis ("5.0.6"), which takes full versions. `num_cache_clusters` is the
//! number of member clusters, `security_group_ids` are sorted, `automatic_failover` is true while
//! `enabling`. `apply_immediately` and the description default are not reported.
//!
//! Updates run in steps AWS refuses to overlap (a second modification of a group that is still
//! `modifying` fails), waiting for the group to be available between two steps but not after
//! the last: tags first (AWS refuses tag changes during a modification), then the replica count
//! and one ModifyReplicationGroup for everything else — replicas first when adding them (so
//! automatic failover can be enabled) and last when removing them (so it can be disabled first)
//! — then in-transit encryption, which AWS changes through TransitEncryptionMode `preferred`.
//! Modifications use ApplyImmediately unless `apply_immediately: false`; AWS only adds and
//! removes replicas immediately.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_elasticache::types::{
    AutomaticFailoverStatus, CacheCluster, MultiAzStatus, ReplicationGroup, TransitEncryptionMode,
};

use super::{DEFAULT_DESCRIPTION, is_candidate, is_ours, list_tags, sync_tags, to_tags};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, str_list, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::tag_index;
use crate::provider::{Ctx, Hints, Observed, Provider, ProviderError, Status, Subject, attr_map};
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["ReplicationGroupNotFoundFault"];
const CLUSTER_NOT_FOUND: &[&str] = &["CacheClusterNotFound"];
const BAD_STATE: &[&str] = &["InvalidReplicationGroupState"];
const ALREADY_EXISTS: &[&str] = &["ReplicationGroupAlreadyExists"];

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    hints: &Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::ElasticacheReplicationGroup);
    let groups: Vec<ReplicationGroup> = p
        .clients
        .elasticache(region)
        .describe_replication_groups()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(aws(&subject, region, "DescribeReplicationGroups"))?;
    let candidates: Vec<ReplicationGroup> = groups
        .into_iter()
        .filter(|g| {
            p.everything() || is_candidate(hints, g.replication_group_id().unwrap_or_default())
        })
        .collect();
    // One group: one DescribeCacheClusters of its first member. More: one paginated list of the
    // region's cache clusters instead of one call per group.
    let mut members = if candidates.len() > 1 {
        cache_clusters(p, &subject, region).await?
    } else {
        HashMap::new()
    };
    let mut out = Vec::new();
    for group in candidates {
        let member = group
            .member_clusters()
            .first()
            .and_then(|id| members.remove(id));
        let Some(observed) = complete(p, &subject, region, group, member).await? else {
            continue;
        };
        if p.keeps(observed.tags.get(crate::provider::STACK_TAG)) {
            out.push(observed);
        }
    }
    Ok(out)
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let subject = ctx.subject();
    match describe(p, &subject, ctx.region, id).await? {
        Some(group) => complete(p, &subject, ctx.region, group, None).await,
        None => Ok(None),
    }
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let id = d.req_str("replication_group_id")?;
    let security_groups = d.strs("security_group_ids")?;
    let answer = p
        .clients
        .elasticache(ctx.region)
        .create_replication_group()
        .replication_group_id(id)
        .replication_group_description(d.str("description")?.unwrap_or(DEFAULT_DESCRIPTION))
        .set_engine(d.str("engine")?.map(str::to_owned))
        .set_engine_version(d.str("engine_version")?.map(str::to_owned))
        .cache_node_type(d.req_str("node_type")?)
        .set_num_cache_clusters(d.i32("num_cache_clusters")?)
        .set_automatic_failover_enabled(d.bool("automatic_failover")?)
        .set_multi_az_enabled(d.bool("multi_az")?)
        .set_cache_subnet_group_name(d.str("cache_subnet_group")?.map(str::to_owned))
        .set_security_group_ids((!security_groups.is_empty()).then_some(security_groups))
        .set_cache_parameter_group_name(d.str("parameter_group_name")?.map(str::to_owned))
        .set_at_rest_encryption_enabled(d.bool("at_rest_encryption")?)
        .set_kms_key_id(d.str("kms_key_id")?.map(str::to_owned))
        .set_transit_encryption_enabled(d.bool("transit_encryption")?)
        .set_port(d.i32("port")?)
        .set_snapshot_retention_limit(d.i32("snapshot_retention_limit")?)
        .set_snapshot_window(d.str("snapshot_window")?.map(str::to_owned))
        .set_preferred_maintenance_window(d.str("preferred_maintenance_window")?.map(str::to_owned))
        .set_auto_minor_version_upgrade(d.bool("auto_minor_version_upgrade")?)
        .set_tags(Some(to_tags(&p.identity_tags(ctx.addr, desired))))
        .send()
        .await;
    let id = match answer {
        Ok(out) => out
            .replication_group
            .and_then(|g| g.replication_group_id)
            .unwrap_or_else(|| id.to_owned()),
        // CreateReplicationGroup takes no idempotency token: a create retried after an
        // interrupted apply finds the group it made by its identity tags.
        Err(e) if has_code(&e, ALREADY_EXISTS) => {
            let existing = read(p, ctx, id).await?;
            return match existing {
                Some(o) if is_ours(p, ctx, &o) => Ok(o),
                _ => Err(aws(&ctx.subject(), ctx.region, "CreateReplicationGroup")(e)),
            };
        }
        Err(e) => return Err(aws(&ctx.subject(), ctx.region, "CreateReplicationGroup")(e)),
    };
    read(p, ctx, &id)
        .await?
        .ok_or_else(|| ProviderError::vanished(ctx, &id))
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    if let Some(arn) = prior.computed.get("arn").and_then(Value::as_str) {
        sync_tags(p, ctx, arn, &prior.tags, desired).await?;
    }
    let immediately = d.bool("apply_immediately")?.unwrap_or(true);
    let changes = Changes::between(&d, prior)?;
    let replicas = match (
        d.int("num_cache_clusters")?,
        int_attr(prior, "num_cache_clusters"),
    ) {
        (Some(want), Some(have)) if want != have => Some((want, have)),
        _ => None,
    };
    let transit = d
        .bool("transit_encryption")?
        .filter(|want| bool_attr(prior, "transit_encryption") != Some(*want));

    let mut steps = Vec::new();
    let adding = replicas.is_some_and(|(want, have)| want > have);
    if adding {
        steps.push(Step::Replicas);
    }
    if !changes.is_empty() {
        steps.push(Step::Modify);
    }
    if replicas.is_some() && !adding {
        steps.push(Step::Replicas);
    }
    if transit.is_some() {
        steps.push(Step::Transit);
    }
    for (n, step) in steps.iter().enumerate() {
        if n > 0 {
            p.wait_ready(ctx, &prior.id).await?;
        }
        match step {
            Step::Modify => modify(p, ctx, &prior.id, &changes, immediately).await?,
            Step::Replicas => {
                if let Some((want, have)) = replicas {
                    set_replicas(p, ctx, &prior.id, want, have).await?;
                }
            }
            Step::Transit => {
                if let Some(want) = transit {
                    set_transit(p, ctx, &prior.id, want, immediately).await?;
                }
            }
        }
    }
    read(p, ctx, &prior.id)
        .await?
        .ok_or_else(|| ProviderError::vanished(ctx, &prior.id))
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _config: &crate::provider::Attrs,
) -> Result<(), ProviderError> {
    match send_delete(p, ctx, &prior.id).await? {
        Deleted::Started | Deleted::Gone => Ok(()),
        Deleted::Busy(err) => {
            // A group still creating or modifying cannot be deleted yet; one that is already
            // deleting is on its way.
            match read(p, ctx, &prior.id).await? {
                None => Ok(()),
                Some(o) if matches!(o.status, Status::Deleting(_)) => Ok(()),
                Some(_) => {
                    p.wait_ready(ctx, &prior.id).await?;
                    match send_delete(p, ctx, &prior.id).await? {
                        Deleted::Started | Deleted::Gone => Ok(()),
                        Deleted::Busy(_) => Err(*err),
                    }
                }
            }
        }
    }
}

enum Deleted {
    Started,
    Gone,
    /// InvalidReplicationGroupState, kept to report if waiting does not help.
    Busy(Box<ProviderError>),
}

async fn send_delete(p: &Provider, ctx: &Ctx<'_>, id: &str) -> Result<Deleted, ProviderError> {
    // The schema has no final snapshot setting: none is taken, as with the API's default.
    let answer = p
        .clients
        .elasticache(ctx.region)
        .delete_replication_group()
        .replication_group_id(id)
        .retain_primary_cluster(false)
        .send()
        .await;
    let mapped = aws(&ctx.subject(), ctx.region, "DeleteReplicationGroup");
    match answer {
        Ok(_) => Ok(Deleted::Started),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(Deleted::Gone),
        Err(e) if has_code(&e, BAD_STATE) => Ok(Deleted::Busy(Box::new(mapped(e)))),
        Err(e) => Err(mapped(e)),
    }
}

// ---------------------------------------------------------------------------------------------
// Update steps.

enum Step {
    Modify,
    Replicas,
    Transit,
}

/// What one ModifyReplicationGroup changes: each field is set only when the desired value
/// differs from the observed one.
#[derive(Default)]
struct Changes {
    description: Option<String>,
    engine: Option<String>,
    engine_version: Option<String>,
    node_type: Option<String>,
    automatic_failover: Option<bool>,
    multi_az: Option<bool>,
    security_group_ids: Option<Vec<String>>,
    parameter_group_name: Option<String>,
    snapshot_retention_limit: Option<i32>,
    snapshot_window: Option<String>,
    preferred_maintenance_window: Option<String>,
    auto_minor_version_upgrade: Option<bool>,
}

impl Changes {
    // ProviderError is the provider's single error type; whether to box it is a crate-wide
    // choice, not this function's.
    #[allow(clippy::result_large_err)]
    fn between(d: &Desired<'_>, prior: &Observed) -> Result<Changes, ProviderError> {
        let text = |name: &str, want: Option<&str>| {
            want.filter(|w| str_attr(prior, name) != Some(*w))
                .map(str::to_owned)
        };
        let flag =
            |name: &str, want: Option<bool>| want.filter(|w| bool_attr(prior, name) != Some(*w));
        let security_groups = match d.get("security_group_ids") {
            None => None,
            Some(_) => {
                let want = str_list(d.strs("security_group_ids")?, true);
                match (&want, prior.attrs.get("security_group_ids")) {
                    (w, Some(have)) if w == have => None,
                    _ => Some(d.strs("security_group_ids")?),
                }
            }
        };
        let engine_version = d
            .str("engine_version")?
            .filter(|w| str_attr(prior, "engine_version") != Some(normal_version(w).as_str()))
            .map(str::to_owned);
        Ok(Changes {
            description: text(
                "description",
                Some(d.str("description")?.unwrap_or(DEFAULT_DESCRIPTION)),
            ),
            engine: text("engine", d.str("engine")?),
            engine_version,
            node_type: text("node_type", d.str("node_type")?),
            automatic_failover: flag("automatic_failover", d.bool("automatic_failover")?),
            multi_az: flag("multi_az", d.bool("multi_az")?),
            security_group_ids: security_groups,
            parameter_group_name: text("parameter_group_name", d.str("parameter_group_name")?),
            snapshot_retention_limit: d
                .i32("snapshot_retention_limit")?
                .filter(|w| int_attr(prior, "snapshot_retention_limit") != Some(i64::from(*w))),
            snapshot_window: text("snapshot_window", d.str("snapshot_window")?),
            preferred_maintenance_window: text(
                "preferred_maintenance_window",
                d.str("preferred_maintenance_window")?,
            ),
            auto_minor_version_upgrade: flag(
                "auto_minor_version_upgrade",
                d.bool("auto_minor_version_upgrade")?,
            ),
        })
    }

    fn is_empty(&self) -> bool {
        self.description.is_none()
            && self.engine.is_none()
            && self.engine_version.is_none()
            && self.node_type.is_none()
            && self.automatic_failover.is_none()
            && self.multi_az.is_none()
            && self.security_group_ids.is_none()
            && self.parameter_group_name.is_none()
            && self.snapshot_retention_limit.is_none()
            && self.snapshot_window.is_none()
            && self.preferred_maintenance_window.is_none()
            && self.auto_minor_version_upgrade.is_none()
    }
}

async fn modify(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
    c: &Changes,
    immediately: bool,
) -> Result<(), ProviderError> {
    p.clients
        .elasticache(ctx.region)
        .modify_replication_group()
        .replication_group_id(id)
        .set_replication_group_description(c.description.clone())
        .set_engine(c.engine.clone())
        .set_engine_version(c.engine_version.clone())
        .set_cache_node_type(c.node_type.clone())
        .set_automatic_failover_enabled(c.automatic_failover)
        .set_multi_az_enabled(c.multi_az)
        .set_security_group_ids(c.security_group_ids.clone())
        .set_cache_parameter_group_name(c.parameter_group_name.clone())
        .set_snapshot_retention_limit(c.snapshot_retention_limit)
        .set_snapshot_window(c.snapshot_window.clone())
        .set_preferred_maintenance_window(c.preferred_maintenance_window.clone())
        .set_auto_minor_version_upgrade(c.auto_minor_version_upgrade)
        .apply_immediately(immediately)
        .send()
        .await
        .map_err(aws(&ctx.subject(), ctx.region, "ModifyReplicationGroup"))?;
    Ok(())
}

/// Sets the number of nodes (`want`, a primary plus replicas) from `have`.
async fn set_replicas(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
    want: i64,
    have: i64,
) -> Result<(), ProviderError> {
    let replicas = i32::try_from(want - 1).map_err(|_| {
        ProviderError::invalid(ctx, format!("num_cache_clusters = {want} is out of range"))
    })?;
    let client = p.clients.elasticache(ctx.region);
    // AWS only changes replica counts immediately (ApplyImmediately=false is refused).
    if want > have {
        client
            .increase_replica_count()
            .replication_group_id(id)
            .new_replica_count(replicas)
            .apply_immediately(true)
            .send()
            .await
            .map_err(aws(&ctx.subject(), ctx.region, "IncreaseReplicaCount"))?;
    } else {
        client
            .decrease_replica_count()
            .replication_group_id(id)
            .new_replica_count(replicas)
            .apply_immediately(true)
            .send()
            .await
            .map_err(aws(&ctx.subject(), ctx.region, "DecreaseReplicaCount"))?;
    }
    Ok(())
}

/// Turns in-transit encryption on or off in place. AWS enables it in mode `preferred` (plain
/// and TLS connections both accepted, so clients can migrate; regionctl leaves the group there,
/// since the spec has no mode) and disables it only from `preferred`, so a `required` group is
/// first moved to `preferred`.
async fn set_transit(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
    want: bool,
    immediately: bool,
) -> Result<(), ProviderError> {
    let client = p.clients.elasticache(ctx.region);
    let subject = ctx.subject();
    if !want {
        let mode = describe(p, &subject, ctx.region, id)
            .await?
            .and_then(|g| g.transit_encryption_mode);
        if mode == Some(TransitEncryptionMode::Required) {
            client
                .modify_replication_group()
                .replication_group_id(id)
                .transit_encryption_mode(TransitEncryptionMode::Preferred)
                .apply_immediately(immediately)
                .send()
                .await
                .map_err(aws(&subject, ctx.region, "ModifyReplicationGroup"))?;
            p.wait_ready(ctx, id).await?;
        }
    }
    let call = client
        .modify_replication_group()
        .replication_group_id(id)
        .transit_encryption_enabled(want)
        .apply_immediately(immediately);
    let call = if want {
        call.transit_encryption_mode(TransitEncryptionMode::Preferred)
    } else {
        call
    };
    call.send()
        .await
        .map_err(aws(&subject, ctx.region, "ModifyReplicationGroup"))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reading.

async fn describe(
    p: &Provider,
    subject: &Subject,
    region: &str,
    id: &str,
) -> Result<Option<ReplicationGroup>, ProviderError> {
    let answer = p
        .clients
        .elasticache(region)
        .describe_replication_groups()
        .replication_group_id(id)
        .send()
        .await;
    match answer {
        Ok(out) => Ok(out
            .replication_groups
            .unwrap_or_default()
            .into_iter()
            .next()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(None),
        Err(e) => Err(aws(subject, region, "DescribeReplicationGroups")(e)),
    }
}

/// Adds what DescribeReplicationGroups leaves out (the first member's settings, the tags);
/// `None` if the group disappeared in between.
/// The region's cache clusters by id: one paginated DescribeCacheClusters (100 a page).
async fn cache_clusters(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<HashMap<String, CacheCluster>, ProviderError> {
    let clusters: Vec<CacheCluster> = p
        .clients
        .elasticache(region)
        .describe_cache_clusters()
        .max_records(100)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(aws(subject, region, "DescribeCacheClusters"))?;
    Ok(clusters
        .into_iter()
        .filter_map(|c| Some((c.cache_cluster_id.clone()?, c)))
        .collect())
}

/// The group with its tags and what its first member cluster reports (`member`, when the caller
/// already listed it; read here otherwise).
async fn complete(
    p: &Provider,
    subject: &Subject,
    region: &str,
    group: ReplicationGroup,
    member: Option<CacheCluster>,
) -> Result<Option<Observed>, ProviderError> {
    let tags = match group.arn() {
        Some(arn) => match tag_index::tags_or(p, subject, region, arn, || {
            list_tags(p, subject, region, arn, NOT_FOUND)
        })
        .await?
        {
            Some(tags) => tags,
            None => return Ok(None),
        },
        None => BTreeMap::new(),
    };
    let member = match (member, group.member_clusters().first()) {
        (Some(listed), _) => Some(listed),
        // Not listed (a member created after the list was read), or no list was read.
        (None, Some(id)) => first_member(p, subject, region, id).await?,
        (None, None) => None,
    };
    Ok(Some(observe(region, group, member, tags)))
}

async fn first_member(
    p: &Provider,
    subject: &Subject,
    region: &str,
    id: &str,
) -> Result<Option<CacheCluster>, ProviderError> {
    let answer = p
        .clients
        .elasticache(region)
        .describe_cache_clusters()
        .cache_cluster_id(id)
        .send()
        .await;
    match answer {
        Ok(out) => Ok(out.cache_clusters.unwrap_or_default().into_iter().next()),
        // A member being removed: the group is modifying and the next read sees the new one.
        Err(e) if has_code(&e, CLUSTER_NOT_FOUND) => Ok(None),
        Err(e) => Err(aws(subject, region, "DescribeCacheClusters")(e)),
    }
}

fn observe(
    region: &str,
    group: ReplicationGroup,
    member: Option<CacheCluster>,
    tags: BTreeMap<String, String>,
) -> Observed {
    let id = group.replication_group_id().unwrap_or_default().to_owned();
    let node_group = group.node_groups().first();
    let primary = node_group.and_then(|n| n.primary_endpoint());
    let reader = node_group.and_then(|n| n.reader_endpoint());
    let port = primary.and_then(|e| e.port());
    let members = group.member_clusters().len();
    let m = member.as_ref();
    let attrs = attr_map([
        ("replication_group_id", Some(s(&id))),
        ("description", opt_s(group.description())),
        (
            "engine",
            opt_s(group.engine().or(m.and_then(|c| c.engine()))),
        ),
        (
            "engine_version",
            m.and_then(|c| c.engine_version())
                .map(|v| s(normal_version(v))),
        ),
        ("node_type", opt_s(group.cache_node_type())),
        (
            "num_cache_clusters",
            (members > 0).then(|| Value::Int(i64::try_from(members).unwrap_or(i64::MAX))),
        ),
        (
            "automatic_failover",
            group
                .automatic_failover()
                .and_then(failover_on)
                .map(Value::Bool),
        ),
        (
            "multi_az",
            group.multi_az().and_then(multi_az_on).map(Value::Bool),
        ),
        (
            "cache_subnet_group",
            opt_s(m.and_then(|c| c.cache_subnet_group_name())),
        ),
        (
            "security_group_ids",
            m.map(|c| {
                str_list(
                    c.security_groups()
                        .iter()
                        .filter_map(|g| g.security_group_id()),
                    true,
                )
            }),
        ),
        (
            "parameter_group_name",
            opt_s(
                m.and_then(|c| c.cache_parameter_group())
                    .and_then(|g| g.cache_parameter_group_name()),
            ),
        ),
        (
            "at_rest_encryption",
            group.at_rest_encryption_enabled().map(Value::Bool),
        ),
        ("kms_key_id", opt_s(group.kms_key_id())),
        (
            "transit_encryption",
            group.transit_encryption_enabled().map(Value::Bool),
        ),
        ("port", port.map(|p| Value::Int(i64::from(p)))),
        (
            "snapshot_retention_limit",
            group
                .snapshot_retention_limit()
                .map(|n| Value::Int(i64::from(n))),
        ),
        ("snapshot_window", opt_s(group.snapshot_window())),
        (
            "preferred_maintenance_window",
            opt_s(m.and_then(|c| c.preferred_maintenance_window())),
        ),
        (
            "auto_minor_version_upgrade",
            group
                .auto_minor_version_upgrade()
                .or(m.and_then(|c| c.auto_minor_version_upgrade()))
                .map(Value::Bool),
        ),
        ("tags", user_tags(&tags)),
    ]);
    let endpoint = |e: Option<&aws_sdk_elasticache::types::Endpoint>| {
        let e = e?;
        let host = e.address()?;
        Some(s(match e.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }))
    };
    Observed {
        kind: Kind::ElasticacheReplicationGroup,
        region: region.to_owned(),
        attrs,
        computed: attr_map([
            ("arn", opt_s(group.arn())),
            ("primary_endpoint", endpoint(primary)),
            ("reader_endpoint", endpoint(reader)),
        ]),
        status: status(group.status().unwrap_or("unknown")),
        id,
        tags,
    }
}

fn status(word: &str) -> Status {
    match word {
        "available" => Status::Ready,
        "deleting" => Status::Deleting(word.to_owned()),
        "create-failed" => Status::Failed(word.to_owned()),
        // creating, modifying, snapshotting and whatever AWS adds: not ready yet.
        other => Status::Pending(other.to_owned()),
    }
}

fn failover_on(status: &AutomaticFailoverStatus) -> Option<bool> {
    match status {
        AutomaticFailoverStatus::Enabled | AutomaticFailoverStatus::Enabling => Some(true),
        AutomaticFailoverStatus::Disabled | AutomaticFailoverStatus::Disabling => Some(false),
        _ => None,
    }
}

fn multi_az_on(status: &MultiAzStatus) -> Option<bool> {
    match status {
        MultiAzStatus::Enabled => Some(true),
        MultiAzStatus::Disabled => Some(false),
        _ => None,
    }
}

/// The spec's form of an engine version: `major.minor` from Redis OSS 6 on (and for Valkey),
/// the full version before, as each is written in CreateReplicationGroup.
fn normal_version(version: &str) -> String {
    let parts: Vec<&str> = version.split('.').collect();
    match parts.as_slice() {
        [major, minor, _, ..] if major.parse::<u32>().is_ok_and(|m| m >= 6) => {
            format!("{major}.{minor}")
        }
        _ => version.to_owned(),
    }
}

fn str_attr<'a>(o: &'a Observed, name: &str) -> Option<&'a str> {
    o.attrs.get(name).and_then(Value::as_str)
}

fn bool_attr(o: &Observed, name: &str) -> Option<bool> {
    o.attrs.get(name).and_then(Value::as_bool)
}

fn int_attr(o: &Observed, name: &str) -> Option<i64> {
    o.attrs.get(name).and_then(Value::as_i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_versions_take_the_form_the_spec_writes() {
        assert_eq!(normal_version("7.1.0"), "7.1");
        assert_eq!(normal_version("6.2.6"), "6.2");
        assert_eq!(normal_version("8.0.1"), "8.0");
        assert_eq!(normal_version("7.1"), "7.1");
        assert_eq!(normal_version("5.0.6"), "5.0.6");
        assert_eq!(normal_version("4.0.10"), "4.0.10");
    }

    #[test]
    fn statuses_map_to_the_lifecycle() {
        assert_eq!(status("available"), Status::Ready);
        assert_eq!(status("creating"), Status::Pending("creating".into()));
        assert_eq!(status("modifying"), Status::Pending("modifying".into()));
        assert_eq!(
            status("snapshotting"),
            Status::Pending("snapshotting".into())
        );
        assert_eq!(status("deleting"), Status::Deleting("deleting".into()));
        assert_eq!(
            status("create-failed"),
            Status::Failed("create-failed".into())
        );
    }
}

//! `eks_node_group`: CreateNodegroup (with `clientRequestToken`), UpdateNodegroupConfig (scaling,
//! labels, taints, update limits in one call), UpdateNodegroupVersion, TagResource /
//! UntagResource, DeleteNodegroup. Its id is `<cluster>/<node group>`.
//!
//! A refresh lists the node groups of each of the stack's clusters (ListNodegroups) and
//! describes each; in a refresh batch whose region's tag index (`provider::tag_index`) already
//! lists every node group asked about, it describes the index's node groups and lists none.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_eks::types::{
    AmiTypes, CapacityTypes, LaunchTemplateSpecification, Nodegroup, NodegroupScalingConfig,
    NodegroupUpdateConfig, Taint, TaintEffect, UpdateLabelsPayload, UpdateTaintsPayload,
};

use super::{
    NOT_FOUND, Sequence, cluster_names, is_ours, stack_clusters, status, sync_tags, tag_map,
};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, str_list, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::tag_index;
use crate::provider::{Ctx, Hints, Observed, Provider, ProviderError, Subject, attr_map};
use crate::spec::value::Value;

/// The regionctl id of a node group.
fn id(cluster: &str, nodegroup: &str) -> String {
    format!("{cluster}/{nodegroup}")
}

/// `(cluster, node group)` from an id (`cluster:name`, the schema's documented form, is read
/// too: neither name may contain `/` or `:`).
fn split_id(id: &str) -> Option<(&str, &str)> {
    id.split_once('/').or_else(|| id.split_once(':'))
}

fn bad_id(ctx: &Ctx<'_>, id: &str) -> ProviderError {
    ProviderError::invalid(
        ctx,
        format!("{id:?} is not a node group id (<cluster>/<node group>)"),
    )
}

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    hints: &Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::EksNodeGroup);
    // In a refresh batch, when the region's tag index lists every node group the refresh asks
    // about (named by the spec, recorded in state), its list of the stack's node groups stands
    // in for ListNodegroups of every cluster. Any one missing (not made yet, or made moments ago
    // and not indexed yet) takes the full path below.
    // When every node group wanted is recorded, they are described while the index is read;
    // the memo keeps the answers for the loop below.
    let index = tag_index::node_groups(p, &subject, region);
    let indexed = super::index_while_describing(p, hints, index, |p, id| {
        let (subject, region) = (subject.clone(), region.to_owned());
        async move {
            if let Some((cluster, name)) = split_id(&id) {
                describe_once(&p, &subject, &region, cluster, name).await?;
            }
            Ok(())
        }
    })
    .await?;
    if let Some(indexed) = indexed
        && hints.ids.iter().all(|id| {
            split_id(id).is_some_and(|(c, n)| indexed.contains(&(c.to_owned(), n.to_owned())))
        })
        && hints
            .names
            .iter()
            .all(|n| indexed.iter().any(|(_, m)| m == n))
    {
        let mut out = Vec::new();
        for (cluster, name) in &indexed {
            if let Some(group) = describe_once(p, &subject, region, cluster, name).await?
                && is_ours(p, group.tags.as_ref())
            {
                out.push(observe(region, group));
            }
        }
        return Ok(out);
    }
    let mut clusters: BTreeSet<String> = stack_clusters(p, &subject, region)
        .await?
        .into_iter()
        .filter_map(|c| c.name)
        .collect();
    // A node group of this stack may live in a cluster that is not (one recorded in state).
    let hinted: BTreeSet<&str> = hints
        .ids
        .iter()
        .filter_map(|i| split_id(i))
        .map(|(c, _)| c)
        .collect();
    if hinted.iter().any(|c| !clusters.contains(*c)) {
        let existing = cluster_names(p, &subject, region).await?;
        clusters.extend(existing.into_iter().filter(|c| hinted.contains(c.as_str())));
    }
    let client = p.clients.eks(region);
    let mut out = Vec::new();
    for cluster in clusters {
        let names: Vec<String> = match client
            .list_nodegroups()
            .cluster_name(&cluster)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
        {
            Ok(names) => names,
            Err(e) if has_code(&e, NOT_FOUND) => continue,
            Err(e) => return Err(aws(&subject, region, "ListNodegroups")(e)),
        };
        for name in names {
            if let Some(group) = describe_once(p, &subject, region, &cluster, &name).await?
                && is_ours(p, group.tags.as_ref())
            {
                out.push(observe(region, group));
            }
        }
    }
    Ok(out)
}

/// [`describe`], once per refresh batch (the memo).
async fn describe_once(
    p: &Provider,
    subject: &Subject,
    region: &str,
    cluster: &str,
    name: &str,
) -> Result<Option<Nodegroup>, ProviderError> {
    let group = p
        .memo
        .get_or_read(
            "eks:DescribeNodegroup",
            &format!("{region}/{cluster}/{name}"),
            || describe(p, subject, region, cluster, name),
        )
        .await?;
    Ok(group.as_ref().clone())
}

async fn describe(
    p: &Provider,
    subject: &Subject,
    region: &str,
    cluster: &str,
    name: &str,
) -> Result<Option<Nodegroup>, ProviderError> {
    let answer = p
        .clients
        .eks(region)
        .describe_nodegroup()
        .cluster_name(cluster)
        .nodegroup_name(name)
        .send()
        .await;
    match answer {
        Ok(out) => Ok(out.nodegroup),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(None),
        Err(e) => Err(aws(subject, region, "DescribeNodegroup")(e)),
    }
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let (cluster, name) = split_id(id).ok_or_else(|| bad_id(ctx, id))?;
    Ok(describe(p, &ctx.subject(), ctx.region, cluster, name)
        .await?
        .map(|g| observe(ctx.region, g)))
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let scaling = d
        .object("scaling")?
        .ok_or_else(|| ProviderError::invalid(ctx, "required attribute scaling is not set"))?;
    let labels: HashMap<String, String> = d.str_map("labels")?.into_iter().collect();
    let taints = taints(&d)?;
    let instance_types = d.strs("instance_types")?;
    let tags: HashMap<String, String> = p.identity_tags(ctx.addr, desired).into_iter().collect();
    let group = p
        .clients
        .eks(ctx.region)
        .create_nodegroup()
        .cluster_name(d.req_str("cluster_name")?)
        .nodegroup_name(d.req_str("name")?)
        .node_role(d.req_str("node_role_arn")?)
        .set_subnets(Some(d.strs("subnet_ids")?))
        .scaling_config(scaling_config(&scaling)?)
        .set_instance_types((!instance_types.is_empty()).then_some(instance_types))
        .set_ami_type(d.str("ami_type")?.map(AmiTypes::from))
        .set_capacity_type(d.str("capacity_type")?.map(CapacityTypes::from))
        .set_disk_size(d.i32("disk_size")?)
        .set_version(d.str("version")?.map(str::to_owned))
        .set_release_version(d.str("release_version")?.map(str::to_owned))
        .set_launch_template(launch_template(&d)?)
        .set_labels((!labels.is_empty()).then_some(labels))
        .set_taints((!taints.is_empty()).then_some(taints.into_values().collect()))
        .set_update_config(
            d.object("update_config")?
                .map(|u| update_config(&u))
                .transpose()?,
        )
        .client_request_token(ctx.token)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(aws(&ctx.subject(), ctx.region, "CreateNodegroup"))?
        .nodegroup
        .ok_or_else(|| {
            ProviderError::invalid(ctx, "CreateNodegroup answered without a node group")
        })?;
    Ok(observe(ctx.region, group))
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let (cluster, name) = split_id(&prior.id).ok_or_else(|| bad_id(ctx, &prior.id))?;
    let client = p.clients.eks(ctx.region);
    let subject = ctx.subject();
    if let Some(arn) = prior.computed.get("arn").and_then(Value::as_str) {
        sync_tags(p, ctx, arn, &prior.tags, desired).await?;
    }
    let mut seq = Sequence::new(cluster, Some(name));
    let have = |attr: &str| prior.attrs.get(attr);

    let mut config = client
        .update_nodegroup_config()
        .cluster_name(cluster)
        .nodegroup_name(name);
    let mut config_changed = false;
    if let Some(scaling) = d.object("scaling")?
        && have("scaling") != Some(&scaling_value(&scaling)?)
    {
        config = config.scaling_config(scaling_config(&scaling)?);
        config_changed = true;
    }
    if let Some(labels) = labels_change(&d, have("labels"))? {
        config = config.labels(labels);
        config_changed = true;
    }
    if let Some(taints) = taints_change(&d, have("taints"))? {
        config = config.taints(taints);
        config_changed = true;
    }
    if let Some(limits) = d.object("update_config")?
        && have("update_config") != Some(&Value::Map(limits.attrs().clone()))
    {
        config = config.update_config(update_config(&limits)?);
        config_changed = true;
    }
    if config_changed {
        let out =
            config
                .send()
                .await
                .map_err(aws(&subject, ctx.region, "UpdateNodegroupConfig"))?;
        seq.started(ctx, out.update, "UpdateNodegroupConfig")?;
    }

    let differs = |attr: &str, want: Option<&str>| {
        want.is_some_and(|w| have(attr).and_then(Value::as_str) != Some(w))
    };
    let version = d.str("version")?;
    let release = d.str("release_version")?;
    // A new launch template version rolls the nodes like a new AMI release: the same call.
    let template = d.str("launch_template_version")?;
    let template_changed = differs("launch_template_version", template);
    if differs("version", version) || differs("release_version", release) || template_changed {
        seq.ready(p, ctx).await?;
        let out = client
            .update_nodegroup_version()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .set_version(version.map(str::to_owned))
            .set_release_version(release.map(str::to_owned))
            .set_launch_template(if template_changed {
                launch_template(&d)?
            } else {
                None
            })
            .send()
            .await
            .map_err(aws(&subject, ctx.region, "UpdateNodegroupVersion"))?;
        seq.started(ctx, out.update, "UpdateNodegroupVersion")?;
    }

    read(p, ctx, &prior.id)
        .await?
        .ok_or_else(|| ProviderError::Vanished {
            subject,
            region: ctx.region.to_owned(),
            id: prior.id.clone(),
        })
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _config: &crate::provider::Attrs,
) -> Result<(), ProviderError> {
    let (cluster, name) = split_id(&prior.id).ok_or_else(|| bad_id(ctx, &prior.id))?;
    let answer = p
        .clients
        .eks(ctx.region)
        .delete_nodegroup()
        .cluster_name(cluster)
        .nodegroup_name(name)
        .send()
        .await;
    match answer {
        Ok(_) => Ok(()),
        // The cluster being gone (same code) means the node group is too.
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "DeleteNodegroup")(e)),
    }
}

/// The launch template the spec names, by id and (when given) version.
fn launch_template(d: &Desired<'_>) -> Result<Option<LaunchTemplateSpecification>, ProviderError> {
    let Some(id) = d.str("launch_template_id")? else {
        return Ok(None);
    };
    Ok(Some(
        LaunchTemplateSpecification::builder()
            .id(id)
            .set_version(d.str("launch_template_version")?.map(str::to_owned))
            .build(),
    ))
}

fn scaling_config(scaling: &Desired<'_>) -> Result<NodegroupScalingConfig, ProviderError> {
    Ok(NodegroupScalingConfig::builder()
        .min_size(scaling.req_i32("min")?)
        .desired_size(scaling.req_i32("desired")?)
        .max_size(scaling.req_i32("max")?)
        .build())
}

/// The desired scaling block as `observe` reports it (whole numbers).
fn scaling_value(scaling: &Desired<'_>) -> Result<Value, ProviderError> {
    Ok(Value::Map(
        ["min", "desired", "max"]
            .into_iter()
            .map(|k| Ok((k.to_owned(), Value::Int(i64::from(scaling.req_i32(k)?)))))
            .collect::<Result<_, ProviderError>>()?,
    ))
}

fn update_config(limits: &Desired<'_>) -> Result<NodegroupUpdateConfig, ProviderError> {
    Ok(NodegroupUpdateConfig::builder()
        .set_max_unavailable(limits.i32("max_unavailable")?)
        .set_max_unavailable_percentage(limits.i32("max_unavailable_percentage")?)
        .build())
}

/// The desired taints keyed by what identifies a taint in EKS: its key and effect.
fn taints(d: &Desired<'_>) -> Result<BTreeMap<(String, String), Taint>, ProviderError> {
    let mut out = BTreeMap::new();
    for t in d.objects("taints")? {
        let key = t.req_str("key")?;
        let effect = t.req_str("effect")?;
        let taint = Taint::builder()
            .key(key)
            .set_value(t.str("value")?.map(str::to_owned))
            .effect(TaintEffect::from(effect))
            .build();
        out.insert((key.to_owned(), effect.to_owned()), taint);
    }
    Ok(out)
}

/// Labels to add or change and keys to remove, if any (absent labels are none).
fn labels_change(
    d: &Desired<'_>,
    have: Option<&Value>,
) -> Result<Option<UpdateLabelsPayload>, ProviderError> {
    let want = d.str_map("labels")?;
    let have: BTreeMap<String, String> = match have {
        Some(Value::Map(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect(),
        _ => BTreeMap::new(),
    };
    let add: HashMap<String, String> = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove: Vec<String> = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    if add.is_empty() && remove.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        UpdateLabelsPayload::builder()
            .set_add_or_update_labels((!add.is_empty()).then_some(add))
            .set_remove_labels((!remove.is_empty()).then_some(remove))
            .build(),
    ))
}

/// Taints to add or change and taints to remove, if any (absent taints are none).
fn taints_change(
    d: &Desired<'_>,
    have: Option<&Value>,
) -> Result<Option<UpdateTaintsPayload>, ProviderError> {
    let want = taints(d)?;
    let have: BTreeMap<(String, String), Value> = match have {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|t| match t {
                Value::Map(m) => Some((
                    (
                        m.get("key")?.as_str()?.to_owned(),
                        m.get("effect")?.as_str()?.to_owned(),
                    ),
                    t.clone(),
                )),
                _ => None,
            })
            .collect(),
        _ => BTreeMap::new(),
    };
    let add: Vec<Taint> = want
        .iter()
        .filter(|(k, t)| have.get(*k) != Some(&taint_value(t)))
        .map(|(_, t)| t.clone())
        .collect();
    let remove: Vec<Taint> = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .map(|(key, effect)| {
            Taint::builder()
                .key(key)
                .effect(TaintEffect::from(effect.as_str()))
                .build()
        })
        .collect();
    if add.is_empty() && remove.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        UpdateTaintsPayload::builder()
            .set_add_or_update_taints((!add.is_empty()).then_some(add))
            .set_remove_taints((!remove.is_empty()).then_some(remove))
            .build(),
    ))
}

fn taint_value(t: &Taint) -> Value {
    Value::Map(attr_map([
        ("key", opt_s(t.key.clone())),
        ("value", opt_s(t.value.clone())),
        (
            "effect",
            opt_s(t.effect.as_ref().map(|e| e.as_str().to_owned())),
        ),
    ]))
}

fn observe(region: &str, group: Nodegroup) -> Observed {
    let cluster = group.cluster_name.clone().unwrap_or_default();
    let name = group.nodegroup_name.clone().unwrap_or_default();
    let tags = tag_map(group.tags.clone());
    let scaling = group.scaling_config.as_ref().map(|sc| {
        Value::Map(attr_map([
            ("min", sc.min_size.map(|n| Value::Int(i64::from(n)))),
            ("desired", sc.desired_size.map(|n| Value::Int(i64::from(n)))),
            ("max", sc.max_size.map(|n| Value::Int(i64::from(n)))),
        ]))
    });
    let labels: BTreeMap<String, Value> = group
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, Value::Str(v)))
        .collect();
    // Taints are identified by key and effect; sorted so that AWS's order does not matter.
    let mut taints: Vec<(Option<String>, Option<String>, Value)> = group
        .taints()
        .iter()
        .map(|t| {
            (
                t.key.clone(),
                t.effect.as_ref().map(|e| e.as_str().to_owned()),
                taint_value(t),
            )
        })
        .collect();
    taints.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let limits = group.update_config.as_ref().map(|u| {
        Value::Map(attr_map([
            (
                "max_unavailable",
                u.max_unavailable.map(|n| Value::Int(i64::from(n))),
            ),
            (
                "max_unavailable_percentage",
                u.max_unavailable_percentage
                    .map(|n| Value::Int(i64::from(n))),
            ),
        ]))
    });
    Observed {
        kind: Kind::EksNodeGroup,
        region: region.to_owned(),
        attrs: attr_map([
            ("cluster_name", Some(s(&cluster))),
            ("name", Some(s(&name))),
            ("node_role_arn", opt_s(group.node_role.clone())),
            ("subnet_ids", Some(str_list(group.subnets().to_vec(), true))),
            (
                "instance_types",
                (!group.instance_types().is_empty())
                    .then(|| str_list(group.instance_types().to_vec(), false)),
            ),
            (
                "capacity_type",
                opt_s(group.capacity_type.as_ref().map(|c| c.as_str().to_owned())),
            ),
            (
                "ami_type",
                opt_s(group.ami_type.as_ref().map(|a| a.as_str().to_owned())),
            ),
            (
                "disk_size",
                group.disk_size.map(|n| Value::Int(i64::from(n))),
            ),
            ("version", opt_s(group.version.clone())),
            ("release_version", opt_s(group.release_version.clone())),
            (
                "launch_template_id",
                opt_s(group.launch_template.as_ref().and_then(|t| t.id.clone())),
            ),
            (
                "launch_template_version",
                opt_s(
                    group
                        .launch_template
                        .as_ref()
                        .and_then(|t| t.version.clone()),
                ),
            ),
            ("scaling", scaling),
            ("labels", (!labels.is_empty()).then_some(Value::Map(labels))),
            (
                "taints",
                (!taints.is_empty())
                    .then(|| Value::List(taints.into_iter().map(|t| t.2).collect())),
            ),
            ("update_config", limits),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([
            ("arn", opt_s(group.nodegroup_arn.clone())),
            ("id", Some(s(id(&cluster, &name)))),
            (
                "status",
                opt_s(group.status.as_ref().map(|st| st.as_str().to_owned())),
            ),
            // The Auto Scaling group EKS made for the nodes: the dimension of their EC2 metrics
            // (node CPU alarms). EKS makes one per node group.
            (
                "autoscaling_group",
                opt_s(
                    group
                        .resources
                        .as_ref()
                        .and_then(|r| r.auto_scaling_groups.as_ref())
                        .and_then(|g| g.first())
                        .and_then(|g| g.name.clone()),
                ),
            ),
        ]),
        status: status(group.status.as_ref().map(|st| st.as_str())),
        id: id(&cluster, &name),
        tags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_the_cluster_and_the_node_group() {
        assert_eq!(id("prod", "default"), "prod/default");
        assert_eq!(split_id("prod/default"), Some(("prod", "default")));
        assert_eq!(split_id("prod:default"), Some(("prod", "default")));
        assert_eq!(split_id("prod"), None);
    }
}

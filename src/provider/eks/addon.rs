//! `eks_addon`: CreateAddon (with `clientRequestToken`, the version resolved through
//! DescribeAddonVersions when the spec pins none), UpdateAddon (version, service account role,
//! conflict resolution in one call), TagResource / UntagResource, DeleteAddon. Its id is
//! `<cluster>/<add-on>`.
//!
//! A refresh reads no cluster: the add-ons the state records are read by id (one DescribeAddon
//! each, which returns the tags), and only a cluster that a declaration the state does not
//! record names (one to create, or one a killed run may have made) is searched with ListAddons.
//! EKS's ListClusters / DescribeCluster pass belongs to the cluster and node group kinds, so
//! add-ons add no third one.

use std::collections::HashMap;

use aws_sdk_eks::types::{Addon, ResolveConflicts};

use super::{NOT_FOUND, sync_tags, tag_map};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::{Ctx, Hints, Observed, Provider, ProviderError, Status, Subject, attr_map};
use crate::spec::value::Value;

fn id(cluster: &str, addon: &str) -> String {
    format!("{cluster}/{addon}")
}

fn split_id(id: &str) -> Option<(&str, &str)> {
    id.split_once('/').or_else(|| id.split_once(':'))
}

fn bad_id(ctx: &Ctx<'_>, id: &str) -> ProviderError {
    ProviderError::invalid(
        ctx,
        format!("{id:?} is not an add-on id (<cluster>/<add-on>)"),
    )
}

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    hints: &Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::EksAddon);
    // A cluster is searched (ListAddons, then each add-on of the stack) where a declaration the
    // state does not record may have an add-on to find; the add-ons the state records are read
    // by their ids alone, so a plan with nothing to create lists nothing.
    let mut clusters = super::searched_clusters(hints, split_id);
    if p.everything() {
        clusters.extend(super::cluster_names(p, &subject, region).await?);
    }
    let client = p.clients.eks(region);
    let mut out = Vec::new();
    for cluster in &clusters {
        let names: Vec<String> = match client
            .list_addons()
            .cluster_name(cluster)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
        {
            Ok(names) => names,
            // A cluster not made yet, or gone, has no add-ons.
            Err(e) if has_code(&e, NOT_FOUND) => continue,
            Err(e) => return Err(aws(&subject, region, "ListAddons")(e)),
        };
        for name in names {
            if let Some(addon) = describe(p, &subject, region, cluster, &name).await?
                && super::is_ours(p, addon.tags.as_ref())
            {
                out.push(observe(region, addon));
            }
        }
    }
    for (cluster, name) in super::recorded_outside(hints, &clusters, split_id) {
        // Recorded in state, so ours whatever its tags say now (as a read by id is).
        if let Some(addon) = describe(p, &subject, region, cluster, name).await? {
            out.push(observe(region, addon));
        }
    }
    Ok(out)
}

async fn describe(
    p: &Provider,
    subject: &Subject,
    region: &str,
    cluster: &str,
    name: &str,
) -> Result<Option<Addon>, ProviderError> {
    match p
        .clients
        .eks(region)
        .describe_addon()
        .cluster_name(cluster)
        .addon_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out.addon),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(None),
        Err(e) => Err(aws(subject, region, "DescribeAddon")(e)),
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
        .map(|a| observe(ctx.region, a)))
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let cluster = d.req_str("cluster_name")?;
    let name = d.req_str("addon_name")?;
    let version = match d.str("addon_version")? {
        Some(v) => v.to_owned(),
        None => default_version(p, ctx, cluster, name).await?,
    };
    // CreateAddon takes NONE or OVERWRITE; PRESERVE only means something to an update.
    let resolve = match d.str("resolve_conflicts")? {
        Some("OVERWRITE") => ResolveConflicts::Overwrite,
        _ => ResolveConflicts::None,
    };
    let tags: HashMap<String, String> = p.identity_tags(ctx.addr, desired).into_iter().collect();
    let answer = p
        .clients
        .eks(ctx.region)
        .create_addon()
        .cluster_name(cluster)
        .addon_name(name)
        .addon_version(version)
        .set_service_account_role_arn(d.str("service_account_role_arn")?.map(str::to_owned))
        .resolve_conflicts(resolve)
        .client_request_token(ctx.token)
        .set_tags(Some(tags))
        .send()
        .await;
    match answer {
        Ok(out) => {
            let addon = out.addon.ok_or_else(|| {
                ProviderError::invalid(ctx, "CreateAddon answered without an add-on")
            })?;
            Ok(observe(ctx.region, addon))
        }
        // An add-on this very resource made in an interrupted apply (same stack and address
        // tags) is taken over and brought to the spec; anyone else's is a conflict.
        Err(e) if has_code(&e, &["ResourceInUseException"]) => {
            let err = aws(&ctx.subject(), ctx.region, "CreateAddon")(e);
            match read(p, ctx, &id(cluster, name)).await? {
                Some(prior)
                    if prior.stack_tag() == Some(p.stack.as_str())
                        && prior.address_tag() == Some(ctx.addr.to_string().as_str()) =>
                {
                    update(p, ctx, &prior, desired).await
                }
                _ => Err(err),
            }
        }
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "CreateAddon")(e)),
    }
}

/// The version EKS installs by default for the cluster's Kubernetes version: the cluster's
/// version (DescribeCluster), then DescribeAddonVersions for it. Only a create without a pinned
/// version asks; refreshes never do.
async fn default_version(
    p: &Provider,
    ctx: &Ctx<'_>,
    cluster: &str,
    name: &str,
) -> Result<String, ProviderError> {
    let k8s = kubernetes_version(p, ctx, cluster).await?;
    let out = p
        .clients
        .eks(ctx.region)
        .describe_addon_versions()
        .addon_name(name)
        .kubernetes_version(&k8s)
        .send()
        .await
        .map_err(aws(&ctx.subject(), ctx.region, "DescribeAddonVersions"))?;
    out.addons()
        .iter()
        .flat_map(|a| a.addon_versions())
        .find(|v| {
            v.compatibilities().iter().any(|c| {
                c.default_version && c.cluster_version.as_deref() == Some(k8s.as_str())
            })
        })
        .and_then(|v| v.addon_version.clone())
        .ok_or_else(|| {
            ProviderError::invalid(
                ctx,
                format!(
                    "EKS offers no default version of add-on {name} for Kubernetes {k8s}; set addon_version"
                ),
            )
        })
}

/// The cluster's Kubernetes version (one DescribeCluster, only when an add-on is created
/// without a pinned version).
async fn kubernetes_version(
    p: &Provider,
    ctx: &Ctx<'_>,
    cluster: &str,
) -> Result<String, ProviderError> {
    super::describe_cluster(p, &ctx.subject(), ctx.region, cluster)
        .await?
        .and_then(|c| c.version)
        .ok_or_else(|| {
            ProviderError::invalid(
                ctx,
                format!("cluster {cluster} does not exist or reports no Kubernetes version"),
            )
        })
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let (cluster, name) = split_id(&prior.id).ok_or_else(|| bad_id(ctx, &prior.id))?;
    if let Some(arn) = prior.computed.get("arn").and_then(Value::as_str) {
        sync_tags(p, ctx, arn, &prior.tags, desired).await?;
    }
    let have = |attr: &str| prior.attrs.get(attr).and_then(Value::as_str);
    let version = d
        .str("addon_version")?
        .filter(|v| have("addon_version") != Some(*v));
    let role = d
        .str("service_account_role_arn")?
        .filter(|r| have("service_account_role_arn") != Some(*r));
    if version.is_some() || role.is_some() {
        p.clients
            .eks(ctx.region)
            .update_addon()
            .cluster_name(cluster)
            .addon_name(name)
            .set_addon_version(version.map(str::to_owned))
            .set_service_account_role_arn(role.map(str::to_owned))
            .set_resolve_conflicts(d.str("resolve_conflicts")?.map(ResolveConflicts::from))
            .client_request_token(ctx.token)
            .send()
            .await
            .map_err(aws(&ctx.subject(), ctx.region, "UpdateAddon"))?;
    }
    read(p, ctx, &prior.id)
        .await?
        .ok_or_else(|| ProviderError::vanished(ctx, &prior.id))
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _config: &Attrs,
) -> Result<(), ProviderError> {
    let (cluster, name) = split_id(&prior.id).ok_or_else(|| bad_id(ctx, &prior.id))?;
    match p
        .clients
        .eks(ctx.region)
        .delete_addon()
        .cluster_name(cluster)
        .addon_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "DeleteAddon")(e)),
    }
}

/// An add-on status word as a [`Status`]: unlike clusters, an add-on can fail an update.
fn status(word: Option<&str>) -> Status {
    let word = word.unwrap_or("UNKNOWN").to_owned();
    match word.as_str() {
        "ACTIVE" => Status::Ready,
        "DELETING" => Status::Deleting(word),
        "CREATE_FAILED" | "UPDATE_FAILED" | "DELETE_FAILED" | "DEGRADED" => Status::Failed(word),
        _ => Status::Pending(word),
    }
}

fn observe(region: &str, addon: Addon) -> Observed {
    let cluster = addon.cluster_name.clone().unwrap_or_default();
    let name = addon.addon_name.clone().unwrap_or_default();
    let tags = tag_map(addon.tags.clone());
    let word = addon.status.as_ref().map(|s| s.as_str().to_owned());
    Observed {
        kind: Kind::EksAddon,
        region: region.to_owned(),
        attrs: attr_map([
            ("cluster_name", Some(s(&cluster))),
            ("addon_name", Some(s(&name))),
            ("addon_version", opt_s(addon.addon_version.clone())),
            (
                "service_account_role_arn",
                opt_s(addon.service_account_role_arn.clone()),
            ),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([
            ("arn", opt_s(addon.addon_arn.clone())),
            ("id", Some(s(id(&cluster, &name)))),
            ("status", opt_s(word.clone())),
        ]),
        status: status(word.as_deref()),
        id: id(&cluster, &name),
        tags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_statuses() {
        assert_eq!(split_id("prod/coredns"), Some(("prod", "coredns")));
        assert_eq!(split_id("prod"), None);
        assert_eq!(
            status(Some("UPDATE_FAILED")),
            Status::Failed("UPDATE_FAILED".into())
        );
        assert_eq!(status(Some("ACTIVE")), Status::Ready);
        assert_eq!(status(Some("UPDATING")), Status::Pending("UPDATING".into()));
    }
}

//! `eks_access_entry`: an IAM principal's access to one cluster (CreateAccessEntry with
//! `clientRequestToken`, UpdateAccessEntry for groups and username, TagResource / UntagResource,
//! DeleteAccessEntry), and the access policies associated with it, managed exactly:
//! AssociateAccessPolicy for each policy the spec adds or re-scopes, DisassociateAccessPolicy for
//! each one it no longer lists. Its id is `<cluster>:<principal ARN>`, as terraform-provider-aws
//! imports `aws_eks_access_entry` (a cluster name has no `:`, so the first one splits).
//!
//! A refresh reads the entries the state records by id, and lists the entries only of the
//! clusters that a declaration the state does not record names (or, without that knowledge,
//! of every hinted cluster), as `eks_addon` does; without hints it makes no call at all.
//! Which clusters can have entries comes from each one's DescribeCluster, read once for every
//! EKS kind of one refresh (the provider's memo, shared with the cluster and node group kinds),
//! which says its authentication mode: a `CONFIG_MAP` cluster has no access entries to list
//! (EKS refuses ListAccessEntries there).
//! Then one ListAccessEntries per searched cluster, one DescribeAccessEntry per entry (it returns
//! the tags), and one ListAssociatedAccessPolicies per entry of this stack; the entries EKS makes
//! itself (the cluster creator's, node roles') carry no stack tag and are never read further.
//! What this leaves unseen, like for add-ons: an entry a crashed apply made before saving state
//! whose declaration was then removed; deleting its cluster deletes it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_eks::types::{AccessEntry, AccessScope, AccessScopeType, AssociatedAccessPolicy};

use super::{NOT_FOUND, sync_tags, tag_map};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, str_list, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::{Ctx, Hints, Observed, Provider, ProviderError, Status, Subject, attr_map};
use crate::spec::schema::compare_eks::{Scope, access_policies};
use crate::spec::value::Value;

/// What EKS answers ListAccessEntries on a cluster whose authentication mode is `CONFIG_MAP`.
const NOT_API_MODE: &[&str] = &["InvalidRequestException"];

fn id(cluster: &str, principal: &str) -> String {
    format!("{cluster}:{principal}")
}

/// `<cluster>:<principal ARN>`; the ARN keeps its own colons.
fn split_id(id: &str) -> Option<(&str, &str)> {
    id.split_once(':')
        .filter(|(c, p)| !c.is_empty() && p.starts_with("arn:"))
}

fn bad_id(ctx: &Ctx<'_>, id: &str) -> ProviderError {
    ProviderError::invalid(
        ctx,
        format!("{id:?} is not an access entry id (<cluster>:<principal ARN>)"),
    )
}

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    hints: &Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::EksAccessEntry);
    // As for add-ons: a cluster is searched (ListAccessEntries) only where a declaration the
    // state does not record may have an entry to find; recorded entries are read by id.
    let mut clusters = super::searched_clusters(hints, split_id);
    // `adopt aws` lists every cluster's entries (as the add-on kind does): without hints it
    // found none.
    if p.everything() {
        clusters.extend(super::cluster_names(p, &subject, region).await?);
    }
    let recorded = super::recorded_outside(hints, &clusters, split_id);
    let client = p.clients.eks(region);
    let mut out = Vec::new();
    for cluster in &clusters {
        if !in_api_mode(p, &subject, region, cluster).await? {
            continue;
        }
        let principals: Vec<String> = match client
            .list_access_entries()
            .cluster_name(cluster)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
        {
            Ok(principals) => principals,
            // A cluster not made yet, gone, or not (yet) in an API authentication mode has no
            // access entries.
            Err(e) if has_code(&e, NOT_FOUND) || has_code(&e, NOT_API_MODE) => continue,
            Err(e) => return Err(aws(&subject, region, "ListAccessEntries")(e)),
        };
        for principal in principals {
            if let Some(entry) = describe(p, &subject, region, cluster, &principal).await?
                && super::is_ours(p, entry.tags.as_ref())
            {
                let policies = associated(p, &subject, region, cluster, &principal).await?;
                out.push(observe(region, entry, policies));
            }
        }
    }
    for (cluster, principal) in recorded {
        if !in_api_mode(p, &subject, region, cluster).await? {
            continue;
        }
        // Recorded in state, so ours whatever its tags say now (as a read by id is).
        if let Some(entry) = describe(p, &subject, region, cluster, principal).await? {
            let policies = associated(p, &subject, region, cluster, principal).await?;
            out.push(observe(region, entry, policies));
        }
    }
    Ok(out)
}

/// Whether the cluster exists and takes access entries: its DescribeCluster, shared with the
/// cluster and node group kinds of this refresh (so no ListClusters where the tag index listed
/// the clusters), says whether it exists and whether it is still in CONFIG_MAP mode, where EKS
/// refuses entries.
async fn in_api_mode(
    p: &Provider,
    subject: &Subject,
    region: &str,
    cluster: &str,
) -> Result<bool, ProviderError> {
    let Some(described) = super::describe_cluster_once(p, subject, region, cluster).await? else {
        return Ok(false); // not made yet, or gone: no entries
    };
    let mode = described
        .access_config
        .as_ref()
        .and_then(|a| a.authentication_mode.as_ref())
        .map(|m| m.as_str().to_owned());
    Ok(mode.as_deref().is_some_and(|m| m != "CONFIG_MAP"))
}

async fn describe(
    p: &Provider,
    subject: &Subject,
    region: &str,
    cluster: &str,
    principal: &str,
) -> Result<Option<AccessEntry>, ProviderError> {
    match p
        .clients
        .eks(region)
        .describe_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal)
        .send()
        .await
    {
        Ok(out) => Ok(out.access_entry),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(None),
        Err(e) => Err(aws(subject, region, "DescribeAccessEntry")(e)),
    }
}

/// The access policies associated with one entry (an entry gone meanwhile has none).
async fn associated(
    p: &Provider,
    subject: &Subject,
    region: &str,
    cluster: &str,
    principal: &str,
) -> Result<Vec<AssociatedAccessPolicy>, ProviderError> {
    match p
        .clients
        .eks(region)
        .list_associated_access_policies()
        .cluster_name(cluster)
        .principal_arn(principal)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
    {
        Ok(policies) => Ok(policies),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(Vec::new()),
        Err(e) => Err(aws(subject, region, "ListAssociatedAccessPolicies")(e)),
    }
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let (cluster, principal) = split_id(id).ok_or_else(|| bad_id(ctx, id))?;
    let subject = ctx.subject();
    let Some(entry) = describe(p, &subject, ctx.region, cluster, principal).await? else {
        return Ok(None);
    };
    let policies = associated(p, &subject, ctx.region, cluster, principal).await?;
    Ok(Some(observe(ctx.region, entry, policies)))
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let cluster = d.req_str("cluster_name")?;
    let principal = d.req_str("principal_arn")?;
    let groups = d.strs("kubernetes_groups")?;
    let tags: HashMap<String, String> = p.identity_tags(ctx.addr, desired).into_iter().collect();
    let answer = p
        .clients
        .eks(ctx.region)
        .create_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal)
        .set_kubernetes_groups((!groups.is_empty()).then_some(groups))
        .set_username(d.str("username")?.map(str::to_owned))
        .r#type(d.str("type")?.unwrap_or("STANDARD"))
        .client_request_token(ctx.token)
        .set_tags(Some(tags))
        .send()
        .await;
    match answer {
        Ok(_) => {}
        // An entry this very resource made in an interrupted apply (same stack and address
        // tags) is taken over and brought to the spec; anyone else's is a conflict.
        Err(e) if has_code(&e, &["ResourceInUseException"]) => {
            let err = aws(&ctx.subject(), ctx.region, "CreateAccessEntry")(e);
            return match read(p, ctx, &id(cluster, principal)).await? {
                Some(prior)
                    if prior.stack_tag() == Some(p.stack.as_str())
                        && prior.address_tag() == Some(ctx.addr.to_string().as_str()) =>
                {
                    update(p, ctx, &prior, desired).await
                }
                _ => Err(err),
            };
        }
        Err(e) => return Err(aws(&ctx.subject(), ctx.region, "CreateAccessEntry")(e)),
    }
    // The associations are separate calls; a failure between them leaves an entry that the
    // next plan sees with fewer policies, and updates.
    sync_policies(p, ctx, cluster, principal, &[], &d).await?;
    read(p, ctx, &id(cluster, principal))
        .await?
        .ok_or_else(|| ProviderError::vanished(ctx, &id(cluster, principal)))
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let (cluster, principal) = split_id(&prior.id).ok_or_else(|| bad_id(ctx, &prior.id))?;
    if let Some(arn) = prior.computed.get("arn").and_then(Value::as_str) {
        sync_tags(p, ctx, arn, &prior.tags, desired).await?;
    }
    // Groups and username are sent only when the spec gives them and they differ: absent, EKS's
    // own values (node entries' `system:nodes`, the generated username) stay.
    let groups = match d.get("kubernetes_groups") {
        Some(_) => {
            let want: BTreeSet<String> = d.strs("kubernetes_groups")?.into_iter().collect();
            (want != super::string_set(prior.attrs.get("kubernetes_groups"))).then_some(want)
        }
        None => None,
    };
    let username = d
        .str("username")?
        .filter(|u| prior.attrs.get("username").and_then(Value::as_str) != Some(*u));
    if groups.is_some() || username.is_some() {
        p.clients
            .eks(ctx.region)
            .update_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal)
            .set_kubernetes_groups(groups.map(|g| g.into_iter().collect()))
            .set_username(username.map(str::to_owned))
            .client_request_token(ctx.token)
            .send()
            .await
            .map_err(aws(&ctx.subject(), ctx.region, "UpdateAccessEntry"))?;
    }
    let live = prior
        .attrs
        .get("access_policies")
        .and_then(access_policies)
        .unwrap_or_default();
    let live: Vec<(String, Scope)> = live.into_iter().collect();
    sync_policies(p, ctx, cluster, principal, &live, &d).await?;
    read(p, ctx, &prior.id)
        .await?
        .ok_or_else(|| ProviderError::vanished(ctx, &prior.id))
}

/// Associates every desired policy that is missing or scoped differently (AssociateAccessPolicy
/// on an associated policy replaces its scope), then disassociates every live one the spec no
/// longer lists. Adding first means a re-scoped grant is never absent in between.
async fn sync_policies(
    p: &Provider,
    ctx: &Ctx<'_>,
    cluster: &str,
    principal: &str,
    live: &[(String, Scope)],
    d: &Desired<'_>,
) -> Result<(), ProviderError> {
    let want = d
        .get("access_policies")
        .and_then(access_policies)
        .unwrap_or_default();
    let live: BTreeMap<&str, &Scope> = live.iter().map(|(a, s)| (a.as_str(), s)).collect();
    let client = p.clients.eks(ctx.region);
    for (arn, scope) in &want {
        if live.get(arn.as_str()) == Some(&scope) {
            continue;
        }
        let (ty, namespaces) = scope;
        let access_scope = AccessScope::builder()
            .r#type(AccessScopeType::from(ty.as_str()))
            .set_namespaces(
                (ty != "cluster").then(|| namespaces.iter().cloned().collect::<Vec<_>>()),
            )
            .build();
        client
            .associate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal)
            .policy_arn(arn)
            .access_scope(access_scope)
            .send()
            .await
            .map_err(aws(&ctx.subject(), ctx.region, "AssociateAccessPolicy"))?;
    }
    for arn in live.keys().filter(|a| !want.contains_key(**a)) {
        match client
            .disassociate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal)
            .policy_arn(*arn)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if has_code(&e, NOT_FOUND) => {}
            Err(e) => {
                return Err(aws(&ctx.subject(), ctx.region, "DisassociateAccessPolicy")(
                    e,
                ));
            }
        }
    }
    Ok(())
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _config: &Attrs,
) -> Result<(), ProviderError> {
    let (cluster, principal) = split_id(&prior.id).ok_or_else(|| bad_id(ctx, &prior.id))?;
    // Deleting the entry removes its policy associations with it.
    match p
        .clients
        .eks(ctx.region)
        .delete_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "DeleteAccessEntry")(e)),
    }
}

fn observe(region: &str, entry: AccessEntry, policies: Vec<AssociatedAccessPolicy>) -> Observed {
    let cluster = entry.cluster_name.clone().unwrap_or_default();
    let principal = entry.principal_arn.clone().unwrap_or_default();
    let tags = tag_map(entry.tags.clone());
    let mut policies: Vec<Value> = policies.into_iter().filter_map(policy_value).collect();
    policies.sort_by(|a, b| policy_key(a).cmp(&policy_key(b)));
    Observed {
        kind: Kind::EksAccessEntry,
        region: region.to_owned(),
        attrs: attr_map([
            ("cluster_name", Some(s(&cluster))),
            ("principal_arn", Some(s(&principal))),
            ("type", opt_s(entry.r#type.clone())),
            (
                "kubernetes_groups",
                Some(str_list(
                    entry.kubernetes_groups.clone().unwrap_or_default(),
                    true,
                )),
            ),
            ("username", opt_s(entry.username.clone())),
            ("access_policies", Some(Value::List(policies))),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([
            ("arn", opt_s(entry.access_entry_arn.clone())),
            ("id", Some(s(id(&cluster, &principal)))),
        ]),
        // An access entry has no status: it is usable as soon as CreateAccessEntry answers.
        status: Status::Ready,
        id: id(&cluster, &principal),
        tags,
    }
}

fn policy_key(v: &Value) -> Option<&str> {
    match v {
        Value::Map(m) => m.get("policy_arn").and_then(Value::as_str),
        _ => None,
    }
}

/// One association in the spec's shape: `{policy_arn, access_scope: {type, namespaces}}`.
fn policy_value(a: AssociatedAccessPolicy) -> Option<Value> {
    let arn = a.policy_arn?;
    let mut scope = BTreeMap::new();
    let ty = a
        .access_scope
        .as_ref()
        .and_then(|s| s.r#type.as_ref())
        .map_or("cluster", AccessScopeType::as_str)
        .to_owned();
    let namespaces: Vec<String> = a
        .access_scope
        .map(|s| s.namespaces.unwrap_or_default())
        .unwrap_or_default();
    if ty != "cluster" {
        scope.insert("namespaces".to_owned(), str_list(namespaces, true));
    }
    scope.insert("type".to_owned(), s(ty));
    Some(Value::Map(BTreeMap::from([
        ("policy_arn".to_owned(), s(arn)),
        ("access_scope".to_owned(), Value::Map(scope)),
    ])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_split_at_the_first_colon() {
        assert_eq!(
            split_id("prod:arn:aws:iam::111122223333:role/ci"),
            Some(("prod", "arn:aws:iam::111122223333:role/ci"))
        );
        assert_eq!(split_id("prod/arn"), None);
        assert_eq!(split_id(":arn:aws:iam::1:role/x"), None);
        assert_eq!(split_id("prod:ci"), None);
    }
}

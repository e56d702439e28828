//! `iam_policy` (global): a customer managed policy. CreatePolicy (with the identity tags);
//! a changed document is CreatePolicyVersion set as the default, after deleting the oldest
//! non-default version when the policy already has IAM's limit of 5; TagPolicy / UntagPolicy;
//! delete removes the non-default versions, then DeletePolicy (IAM refuses to delete a policy
//! with other versions or still attached; a role regionctl manages detaches it first, as it
//! depends on the policy). The id is the policy ARN.
//!
//! A refresh is one ListPolicies (Scope=Local: customer managed only, every path) for the
//! account, keeping the policies the hints name (the spec's names, the ARNs in state); ListPolicies
//! returns neither tags nor documents, so each of those is then read with GetPolicy (tags,
//! description) and GetPolicyVersion (the default document).

use std::collections::BTreeMap;

use aws_sdk_iam::types::{Policy, PolicyScopeType};

use super::attrs::{Attrs, Desired, opt_s, s, user_tags};
use super::error::{aws, has_code};
use super::iam::{aws_document, to_tags};
use super::{Ctx, Hints, Observed, Provider, ProviderError, Status, Subject, attr_map};
use crate::kind::Kind;
use crate::spec::schema::compare::{AttrCmp, compare};
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["NoSuchEntity"];
/// The most versions IAM keeps of one managed policy.
const MAX_VERSIONS: usize = 5;

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    hints: &Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::IamPolicy);
    if hints.names.is_empty() && hints.ids.is_empty() && !p.everything() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    // Every policy wanted is recorded: read each by its ARN, with no listing.
    if hints.only_recorded() && !p.everything() {
        for arn in &hints.ids {
            out.extend(observe(p, &subject, region, arn).await?);
        }
        return Ok(out);
    }
    let listed = list(p, &subject, region).await?;
    for policy in listed.iter().filter(|pol| {
        p.everything()
            || pol.policy_name().is_some_and(|n| hints.names.contains(n))
            || pol.arn().is_some_and(|a| hints.ids.contains(a))
    }) {
        let Some(arn) = policy.arn() else { continue };
        if let Some(found) = observe(p, &subject, region, arn).await?
            && p.keeps(found.tags.get(crate::provider::STACK_TAG))
        {
            out.push(found);
        }
    }
    Ok(out)
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    observe(p, &ctx.subject(), ctx.region, id).await
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let name = d.req_str("name")?;
    check_name(ctx, name)?;
    let document = d
        .document("policy")?
        .ok_or_else(|| ProviderError::invalid(ctx, "required attribute policy is not set"))?;
    let answer = p
        .clients
        .iam(ctx.region)
        .create_policy()
        .policy_name(name)
        .set_path(d.str("path")?.map(str::to_owned))
        .policy_document(document)
        .set_description(d.str("description")?.map(str::to_owned))
        .set_tags(Some(to_tags(ctx, &p.identity_tags(ctx.addr, desired))?))
        .send()
        .await;
    let arn = match answer {
        Ok(out) => out
            .policy()
            .and_then(Policy::arn)
            .map(str::to_owned)
            .ok_or_else(|| ProviderError::invalid(ctx, "CreatePolicy answered no ARN"))?,
        // IAM takes no idempotency token: a policy this very resource created in an interrupted
        // apply (same stack and address tags) is taken over and brought to the spec.
        Err(e) if has_code(&e, &["EntityAlreadyExists"]) => {
            let mut hints = Hints::default();
            hints.names.insert(name.to_owned());
            let path = d.str("path")?.unwrap_or("/");
            let ours = refresh(p, ctx.region, &hints).await?.into_iter().find(|o| {
                o.address_tag() == Some(ctx.addr.to_string().as_str())
                    && o.attrs.get("path").and_then(Value::as_str) == Some(path)
            });
            return match ours {
                Some(prior) => update(p, ctx, &prior, desired).await,
                None => Err(aws(&ctx.subject(), ctx.region, "CreatePolicy")(e)),
            };
        }
        Err(e) => return Err(aws(&ctx.subject(), ctx.region, "CreatePolicy")(e)),
    };
    p.reread(ctx, &arn).await
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let client = p.clients.iam(ctx.region);
    let subject = ctx.subject();
    let arn = prior.id.as_str();
    if compare(
        Kind::IamPolicy,
        "policy",
        desired.get("policy"),
        prior.attrs.get("policy"),
    ) == AttrCmp::Differs
        && let Some(document) = d.document("policy")?
    {
        make_room(p, ctx, arn).await?;
        client
            .create_policy_version()
            .policy_arn(arn)
            .policy_document(document)
            .set_as_default(true)
            .send()
            .await
            .map_err(aws(&subject, ctx.region, "CreatePolicyVersion"))?;
    }
    super::attrs::sync_tags_with(
        super::attrs::tag_changes_with_identity(p, ctx, &prior.tags, desired),
        async |keys| {
            client
                .untag_policy()
                .policy_arn(arn)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map(drop)
                .map_err(aws(&subject, ctx.region, "UntagPolicy"))
        },
        async |tags| {
            client
                .tag_policy()
                .policy_arn(arn)
                .set_tags(Some(to_tags(ctx, &tags)?))
                .send()
                .await
                .map(drop)
                .map_err(aws(&subject, ctx.region, "TagPolicy"))
        },
    )
    .await?;
    p.reread(ctx, arn).await
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _config: &Attrs,
) -> Result<(), ProviderError> {
    let client = p.clients.iam(ctx.region);
    let subject = ctx.subject();
    let arn = prior.id.as_str();
    let versions = match versions(p, &subject, ctx.region, arn).await {
        Ok(v) => v,
        Err(e) if is_gone(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    // IAM deletes a policy only once its other versions are gone.
    for (id, _) in versions.iter().filter(|(_, default)| !default) {
        delete_version(p, ctx, arn, id).await?;
    }
    match client.delete_policy().policy_arn(arn).send().await {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&subject, ctx.region, "DeletePolicy")(e)),
    }
}

fn is_gone(e: &ProviderError) -> bool {
    e.code().is_some_and(|c| NOT_FOUND.contains(&c))
}

/// Deletes the oldest non-default versions until a new one fits under IAM's limit.
async fn make_room(p: &Provider, ctx: &Ctx<'_>, arn: &str) -> Result<(), ProviderError> {
    let versions = versions(p, &ctx.subject(), ctx.region, arn).await?;
    let excess = (versions.len() + 1).saturating_sub(MAX_VERSIONS);
    for (id, _) in versions.iter().filter(|(_, default)| !default).take(excess) {
        delete_version(p, ctx, arn, id).await?;
    }
    Ok(())
}

async fn delete_version(
    p: &Provider,
    ctx: &Ctx<'_>,
    arn: &str,
    id: &str,
) -> Result<(), ProviderError> {
    match p
        .clients
        .iam(ctx.region)
        .delete_policy_version()
        .policy_arn(arn)
        .version_id(id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "DeletePolicyVersion")(e)),
    }
}

/// `(version id, is default)`, oldest first (IAM numbers versions v1, v2 ... in order).
async fn versions(
    p: &Provider,
    subject: &Subject,
    region: &str,
    arn: &str,
) -> Result<Vec<(String, bool)>, ProviderError> {
    let listed = p
        .clients
        .iam(region)
        .list_policy_versions()
        .policy_arn(arn)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws(subject, region, "ListPolicyVersions"))?;
    let mut out: Vec<(String, bool)> = listed
        .iter()
        .filter_map(|v| Some((v.version_id()?.to_owned(), v.is_default_version())))
        .collect();
    out.sort_by_key(|(id, _)| version_number(id));
    Ok(out)
}

/// `7` of `v7`; unknown forms sort last.
fn version_number(id: &str) -> u64 {
    id.strip_prefix('v')
        .and_then(|n| n.parse().ok())
        .unwrap_or(u64::MAX)
}

/// Every customer managed policy of the account.
async fn list(p: &Provider, subject: &Subject, region: &str) -> Result<Vec<Policy>, ProviderError> {
    p.clients
        .iam(region)
        .list_policies()
        .scope(PolicyScopeType::Local)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws(subject, region, "ListPolicies"))
}

/// The policy with its tags and default document; `None` if there is no such policy.
async fn observe(
    p: &Provider,
    subject: &Subject,
    region: &str,
    arn: &str,
) -> Result<Option<Observed>, ProviderError> {
    let client = p.clients.iam(region);
    let policy = match client.get_policy().policy_arn(arn).send().await {
        Ok(out) => out.policy,
        Err(e) if has_code(&e, NOT_FOUND) => None,
        Err(e) => return Err(aws(subject, region, "GetPolicy")(e)),
    };
    let Some(policy) = policy else {
        return Ok(None);
    };
    let document = match policy.default_version_id() {
        Some(version) => match client
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
        {
            Ok(out) => out
                .policy_version()
                .and_then(|v| v.document())
                .map(aws_document),
            Err(e) if has_code(&e, NOT_FOUND) => return Ok(None),
            Err(e) => return Err(aws(subject, region, "GetPolicyVersion")(e)),
        },
        None => None,
    };
    Ok(Some(observed(region, &policy, document)))
}

fn observed(region: &str, policy: &Policy, document: Option<Value>) -> Observed {
    let arn = policy.arn().unwrap_or_default().to_owned();
    let tags: BTreeMap<String, String> = policy
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    Observed {
        kind: Kind::IamPolicy,
        region: region.to_owned(),
        attrs: attr_map([
            ("name", opt_s(policy.policy_name())),
            ("policy", document),
            ("description", opt_s(policy.description())),
            ("path", opt_s(policy.path())),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([
            ("arn", Some(s(&arn))),
            ("id", Some(s(&arn))),
            ("policy_id", opt_s(policy.policy_id())),
            ("default_version_id", opt_s(policy.default_version_id())),
        ]),
        id: arn,
        tags,
        // Managed policies have no lifecycle: one that exists is usable.
        status: Status::Ready,
    }
}

/// Policy names: 1 to 128 of letters, digits and `+=,.@_-` (CreatePolicy).
fn check_name(ctx: &Ctx<'_>, name: &str) -> Result<(), ProviderError> {
    let valid = (1..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if valid {
        Ok(())
    } else {
        Err(ProviderError::invalid(
            ctx,
            format!("policy name {name:?} must be 1 to 128 of A-Z a-z 0-9 + = , . @ _ -"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_by_number_not_text() {
        let mut ids = ["v10", "v2", "v1", "odd"];
        ids.sort_by_key(|id| version_number(id));
        assert_eq!(ids, ["v1", "v2", "v10", "odd"]);
    }
}

//! `iam_role` (global): the role, its trust policy, its managed policy attachments and its inline
//! policies, all managed exactly.
//!
//! IAM cannot filter ListRoles by tag and ListRoles does not return tags, so refresh reads the
//! roles the hints name (the names in the spec, the ids in state) and keeps those carrying the
//! stack tag. Alone (`read`, or a refresh outside a plan's batch) a role costs one GetRole
//! (which returns the tags), one ListAttachedRolePolicies, one ListRolePolicies and one
//! GetRolePolicy per inline policy. A plan's refresh batch instead reads the account's roles
//! once, for every environment that declares roles: GetAccountAuthorizationDetails (filter
//! `Role`) returns each role with its trust policy, attached and inline policies, boundary and
//! tags, and ListRoles adds the two attributes it leaves out (description and maximum session
//! duration). That is two paginated lists (1,000 roles a page) instead of three or more calls
//! per role: 27 calls for the example platform's nine roles, 170 for the scale bench's 56
//! clusters, become 2.
//!
//! IAM answers policy documents URL-encoded; they are decoded and parsed so that the observed
//! trust policy and inline policies compare with the spec's maps.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::types::{Role, Tag};

use super::attrs::{Attrs, Desired, opt_s, s, str_list, user_tags};
use super::error::{aws, has_code};
use super::{Ctx, Hints, Observed, Provider, ProviderError, Status, Subject, attr_map};
use crate::kind::Kind;
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["NoSuchEntity"];

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    hints: &Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::IamRole);
    // The id of a role is its name, so both hints name roles.
    let mut names: BTreeSet<String> = hints.names.iter().chain(&hints.ids).cloned().collect();
    let account = if p.memo.is_on() && (p.everything() || !names.is_empty()) {
        account_roles(p, &subject, region).await?
    } else {
        std::sync::Arc::new(None)
    };
    if p.everything() {
        // Every role but the service-linked ones, which are AWS's to manage: from the account's
        // lists when this batch has them, else from ListRoles (which returns no tags, so each
        // role is then read as usual).
        let roles: Vec<Role> = match account.as_ref() {
            Some(listed) => listed.values().map(|l| l.role.clone()).collect(),
            None => p
                .clients
                .iam(region)
                .list_roles()
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(aws(&subject, region, "ListRoles"))?,
        };
        names.extend(
            roles
                .into_iter()
                .filter(|r| !r.path.starts_with("/aws-service-role/"))
                .map(|r| r.role_name),
        );
    }
    let mut out = Vec::new();
    for name in &names {
        let role = match account.as_ref().as_ref().and_then(|a| a.get(name)) {
            Some(listed) => Some(listed.observed(region)),
            // Not in the account's lists (absent, or made between the two lists): read alone.
            None => observe(p, &subject, region, name).await?,
        };
        if let Some(role) = role
            && p.keeps(role.tags.get(super::STACK_TAG))
        {
            out.push(role);
        }
    }
    Ok(out)
}

/// One role as the account's two lists report it.
#[derive(Debug)]
struct ListedRole {
    role: Role,
    managed: Vec<String>,
    inline: BTreeMap<String, Value>,
}

impl ListedRole {
    fn observed(&self, region: &str) -> Observed {
        observed(
            region,
            self.role.clone(),
            self.managed.clone(),
            self.inline.clone(),
        )
    }
}

/// The account's roles by name, read once per refresh batch however many environments declare
/// roles (IAM is the account's, not a region's). A role must be in both lists to be listed
/// here; one created or deleted between them is read alone by the caller. `None` when the
/// caller may not send the two lists (a CI policy written before regionctl used them): each
/// role is then read alone, as before, with a warning.
async fn account_roles(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<std::sync::Arc<Option<BTreeMap<String, ListedRole>>>, ProviderError> {
    p.memo
        .get_or_read("iam:GetAccountAuthorizationDetails", "account", || {
            read_account_roles(p, subject, region)
        })
        .await
}

async fn read_account_roles(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<Option<BTreeMap<String, ListedRole>>, ProviderError> {
    match list_account_roles(p, subject, region).await {
        Ok(roles) => Ok(Some(roles)),
        Err(ProviderError::Aws { code, .. })
            if super::error::ACCESS_DENIED.contains(&code.as_str()) =>
        {
            tracing::warn!(
                "iam:GetAccountAuthorizationDetails or iam:ListRoles is not allowed; reading \
                 each IAM role on its own instead (three or more requests a role)"
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

async fn list_account_roles(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<BTreeMap<String, ListedRole>, ProviderError> {
    let client = p.clients.iam(region);
    let mut details = BTreeMap::new();
    let mut pages = client
        .get_account_authorization_details()
        .filter(aws_sdk_iam::types::EntityType::Role)
        .max_items(1000)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(aws(subject, region, "GetAccountAuthorizationDetails"))?;
        for d in page.role_detail_list.unwrap_or_default() {
            if let Some(name) = d.role_name.clone() {
                details.insert(name, d);
            }
        }
    }
    let roles: Vec<Role> = client
        .list_roles()
        .max_items(1000)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(aws(subject, region, "ListRoles"))?;
    Ok(roles
        .into_iter()
        .filter_map(|mut role| {
            let d = details.remove(&role.role_name)?;
            // ListRoles leaves out the tags and the boundary; the details carry both.
            role.tags = d.tags;
            role.permissions_boundary = d.permissions_boundary;
            if role.assume_role_policy_document.is_none() {
                role.assume_role_policy_document = d.assume_role_policy_document;
            }
            let managed = d
                .attached_managed_policies
                .unwrap_or_default()
                .into_iter()
                .filter_map(|a| a.policy_arn)
                .collect();
            let inline = d
                .role_policy_list
                .unwrap_or_default()
                .into_iter()
                .filter_map(|i| Some((i.policy_name?, aws_document(&i.policy_document?))))
                .collect();
            Some((
                role.role_name.clone(),
                ListedRole {
                    role,
                    managed,
                    inline,
                },
            ))
        })
        .collect())
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
    let trust = d.document("assume_role_policy")?.ok_or_else(|| {
        ProviderError::invalid(ctx, "required attribute assume_role_policy is not set")
    })?;
    let answer = p
        .clients
        .iam(ctx.region)
        .create_role()
        .role_name(name)
        .set_path(d.str("path")?.map(str::to_owned))
        .assume_role_policy_document(trust)
        .set_description(d.str("description")?.map(str::to_owned))
        .set_max_session_duration(d.i32("max_session_duration")?)
        .set_permissions_boundary(d.str("permissions_boundary")?.map(str::to_owned))
        .set_tags(Some(to_tags(ctx, &p.identity_tags(ctx.addr, desired))?))
        .send()
        .await;
    match answer {
        Ok(_) => {}
        // IAM takes no idempotency token: a role this very resource created in an interrupted
        // apply (same stack and address tags) is taken over instead of failing.
        Err(e) if has_code(&e, &["EntityAlreadyExists"]) => {
            let existing = read(p, ctx, name).await?;
            let ours = existing.as_ref().is_some_and(|o| {
                o.stack_tag() == Some(p.stack.as_str())
                    && o.address_tag() == Some(ctx.addr.to_string().as_str())
            });
            match existing {
                Some(prior) if ours => return update(p, ctx, &prior, desired).await,
                _ => return Err(aws(&ctx.subject(), ctx.region, "CreateRole")(e)),
            }
        }
        Err(e) => return Err(aws(&ctx.subject(), ctx.region, "CreateRole")(e)),
    }
    sync_managed(p, ctx, name, &BTreeSet::new(), &d).await?;
    sync_inline(p, ctx, name, &BTreeMap::new(), &d).await?;
    p.reread(ctx, name).await
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let name = prior.id.as_str();
    let client = p.clients.iam(ctx.region);
    let subject = ctx.subject();

    if let Some(trust) = d.document("assume_role_policy")?
        && prior.attrs.get("assume_role_policy") != Some(&json_document(&trust))
    {
        client
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(trust)
            .send()
            .await
            .map_err(aws(&subject, ctx.region, "UpdateAssumeRolePolicy"))?;
    }

    // An absent description is no description (IAM reports none); an absent session duration
    // leaves AWS's value (IAM always reports one).
    let description = d.str("description")?.unwrap_or_default();
    let description = (prior
        .attrs
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        != description)
        .then(|| description.to_owned());
    let session = d.i32("max_session_duration")?.filter(|want| {
        prior
            .attrs
            .get("max_session_duration")
            .and_then(Value::as_i64)
            != Some(i64::from(*want))
    });
    if description.is_some() || session.is_some() {
        client
            .update_role()
            .role_name(name)
            .set_description(description)
            .set_max_session_duration(session)
            .send()
            .await
            .map_err(aws(&subject, ctx.region, "UpdateRole"))?;
    }

    let boundary = d.str("permissions_boundary")?;
    let had = prior
        .attrs
        .get("permissions_boundary")
        .and_then(Value::as_str);
    match (boundary, had) {
        (Some(want), have) if have != Some(want) => {
            client
                .put_role_permissions_boundary()
                .role_name(name)
                .permissions_boundary(want)
                .send()
                .await
                .map_err(aws(&subject, ctx.region, "PutRolePermissionsBoundary"))?;
        }
        (None, Some(_)) => {
            client
                .delete_role_permissions_boundary()
                .role_name(name)
                .send()
                .await
                .map_err(aws(&subject, ctx.region, "DeleteRolePermissionsBoundary"))?;
        }
        _ => {}
    }

    let attached: BTreeSet<String> = match prior.attrs.get("managed_policy_arns") {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => BTreeSet::new(),
    };
    sync_managed(p, ctx, name, &attached, &d).await?;
    let inline: BTreeMap<String, Value> = match prior.attrs.get("inline_policies") {
        Some(Value::Map(m)) => m.clone(),
        _ => BTreeMap::new(),
    };
    sync_inline(p, ctx, name, &inline, &d).await?;
    sync_tags(p, ctx, name, &prior.tags, desired).await?;
    p.reread(ctx, name).await
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _config: &Attrs,
) -> Result<(), ProviderError> {
    let name = prior.id.as_str();
    let client = p.clients.iam(ctx.region);
    let subject = ctx.subject();
    // DeleteRole refuses a role with policies, so what AWS holds now (not what was last seen) is
    // detached and deleted first.
    let attached = match list_attached(p, &subject, ctx.region, name).await {
        Ok(arns) => arns,
        Err(e) if is_gone(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    for arn in attached {
        match client
            .detach_role_policy()
            .role_name(name)
            .policy_arn(&arn)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if has_code(&e, NOT_FOUND) => {}
            Err(e) => return Err(aws(&subject, ctx.region, "DetachRolePolicy")(e)),
        }
    }
    let inline = match list_inline_names(p, &subject, ctx.region, name).await {
        Ok(names) => names,
        Err(e) if is_gone(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    for policy in inline {
        match client
            .delete_role_policy()
            .role_name(name)
            .policy_name(&policy)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if has_code(&e, NOT_FOUND) => {}
            Err(e) => return Err(aws(&subject, ctx.region, "DeleteRolePolicy")(e)),
        }
    }
    match client.delete_role().role_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&subject, ctx.region, "DeleteRole")(e)),
    }
}

fn is_gone(e: &ProviderError) -> bool {
    e.code().is_some_and(|c| NOT_FOUND.contains(&c))
}

/// Attaches the desired managed policies that are not attached and detaches the others,
/// detaching first so that swapping policies never exceeds the per-role attachment quota.
async fn sync_managed(
    p: &Provider,
    ctx: &Ctx<'_>,
    name: &str,
    attached: &BTreeSet<String>,
    d: &Desired<'_>,
) -> Result<(), ProviderError> {
    let want: BTreeSet<String> = d.strs("managed_policy_arns")?.into_iter().collect();
    let client = p.clients.iam(ctx.region);
    let subject = ctx.subject();
    for arn in attached.difference(&want) {
        match client
            .detach_role_policy()
            .role_name(name)
            .policy_arn(arn)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if has_code(&e, NOT_FOUND) => {}
            Err(e) => return Err(aws(&subject, ctx.region, "DetachRolePolicy")(e)),
        }
    }
    for arn in want.difference(attached) {
        client
            .attach_role_policy()
            .role_name(name)
            .policy_arn(arn)
            .send()
            .await
            .map_err(aws(&subject, ctx.region, "AttachRolePolicy"))?;
    }
    Ok(())
}

/// Puts the desired inline policies that are new or changed and deletes the others.
async fn sync_inline(
    p: &Provider,
    ctx: &Ctx<'_>,
    name: &str,
    current: &BTreeMap<String, Value>,
    d: &Desired<'_>,
) -> Result<(), ProviderError> {
    let want: BTreeMap<String, String> = match d.object("inline_policies")? {
        None => BTreeMap::new(),
        Some(policies) => {
            let mut out = BTreeMap::new();
            for key in policies.attrs().keys() {
                if let Some(doc) = policies.document(key)? {
                    out.insert(key.clone(), doc);
                }
            }
            out
        }
    };
    let client = p.clients.iam(ctx.region);
    let subject = ctx.subject();
    for policy in current.keys().filter(|k| !want.contains_key(*k)) {
        match client
            .delete_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if has_code(&e, NOT_FOUND) => {}
            Err(e) => return Err(aws(&subject, ctx.region, "DeleteRolePolicy")(e)),
        }
    }
    for (policy, doc) in want {
        if current.get(&policy) == Some(&json_document(&doc)) {
            continue;
        }
        client
            .put_role_policy()
            .role_name(name)
            .policy_name(policy)
            .policy_document(doc)
            .send()
            .await
            .map_err(aws(&subject, ctx.region, "PutRolePolicy"))?;
    }
    Ok(())
}

/// Makes the role's user tags equal to the desired ones, never touching `regionctl:*` tags.
async fn sync_tags(
    p: &Provider,
    ctx: &Ctx<'_>,
    name: &str,
    prior: &BTreeMap<String, String>,
    desired: &Attrs,
) -> Result<(), ProviderError> {
    let client = p.clients.iam(ctx.region);
    let subject = ctx.subject();
    super::attrs::sync_tags_with(
        super::attrs::tag_changes_with_identity(p, ctx, prior, desired),
        async |keys| {
            client
                .untag_role()
                .role_name(name)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map(drop)
                .map_err(aws(&subject, ctx.region, "UntagRole"))
        },
        async |tags| {
            client
                .tag_role()
                .role_name(name)
                .set_tags(Some(to_tags(ctx, &tags)?))
                .send()
                .await
                .map(drop)
                .map_err(aws(&subject, ctx.region, "TagRole"))
        },
    )
    .await
}

pub(super) fn to_tags(
    ctx: &Ctx<'_>,
    tags: &BTreeMap<String, String>,
) -> Result<Vec<Tag>, ProviderError> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| ProviderError::invalid(ctx, format!("tag {k}: {e}")))
        })
        .collect()
}

/// Reads one role with its attachments and inline policies; `None` if there is no such role.
async fn observe(
    p: &Provider,
    subject: &Subject,
    region: &str,
    name: &str,
) -> Result<Option<Observed>, ProviderError> {
    let client = p.clients.iam(region);
    let role = match client.get_role().role_name(name).send().await {
        Ok(out) => out.role,
        Err(e) if has_code(&e, NOT_FOUND) => return Ok(None),
        Err(e) => return Err(aws(subject, region, "GetRole")(e)),
    };
    let Some(role) = role else { return Ok(None) };
    // A role deleted between these calls reads as gone rather than as an error.
    let managed = match list_attached(p, subject, region, name).await {
        Ok(arns) => arns,
        Err(e) if is_gone(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let inline_names = match list_inline_names(p, subject, region, name).await {
        Ok(names) => names,
        Err(e) if is_gone(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut inline = BTreeMap::new();
    for policy in inline_names {
        match client
            .get_role_policy()
            .role_name(name)
            .policy_name(&policy)
            .send()
            .await
        {
            Ok(out) => {
                inline.insert(policy, aws_document(&out.policy_document));
            }
            Err(e) if has_code(&e, NOT_FOUND) => {}
            Err(e) => return Err(aws(subject, region, "GetRolePolicy")(e)),
        }
    }
    Ok(Some(observed(region, role, managed, inline)))
}

async fn list_attached(
    p: &Provider,
    subject: &Subject,
    region: &str,
    name: &str,
) -> Result<Vec<String>, ProviderError> {
    let policies: Vec<_> = p
        .clients
        .iam(region)
        .list_attached_role_policies()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(aws(subject, region, "ListAttachedRolePolicies"))?;
    Ok(policies.into_iter().filter_map(|a| a.policy_arn).collect())
}

async fn list_inline_names(
    p: &Provider,
    subject: &Subject,
    region: &str,
    name: &str,
) -> Result<Vec<String>, ProviderError> {
    p.clients
        .iam(region)
        .list_role_policies()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(aws(subject, region, "ListRolePolicies"))
}

fn observed(
    region: &str,
    role: Role,
    managed: Vec<String>,
    inline: BTreeMap<String, Value>,
) -> Observed {
    let tags: BTreeMap<String, String> = role
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
    let boundary = role
        .permissions_boundary
        .and_then(|b| b.permissions_boundary_arn);
    let description = role.description.filter(|d| !d.is_empty());
    Observed {
        kind: Kind::IamRole,
        region: region.to_owned(),
        attrs: attr_map([
            ("name", Some(s(&role.role_name))),
            (
                "assume_role_policy",
                role.assume_role_policy_document
                    .as_deref()
                    .map(aws_document),
            ),
            (
                "managed_policy_arns",
                (!managed.is_empty()).then(|| str_list(managed, true)),
            ),
            (
                "inline_policies",
                (!inline.is_empty()).then_some(Value::Map(inline)),
            ),
            ("permissions_boundary", opt_s(boundary)),
            ("path", Some(s(&role.path))),
            ("description", opt_s(description)),
            (
                "max_session_duration",
                role.max_session_duration.map(|d| Value::Int(i64::from(d))),
            ),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([
            ("arn", Some(s(&role.arn))),
            ("id", Some(s(&role.role_name))),
            ("unique_id", Some(s(&role.role_id))),
        ]),
        id: role.role_name,
        tags,
        status: Status::Ready,
    }
}

/// A policy document as AWS reports it, shaped as the spec writes it: IAM answers documents
/// URL-encoded (RFC 3986; an encoded document never starts with a raw `{`), and a parsed map
/// compares with the spec's map whatever the key order or whitespace.
pub(super) fn aws_document(text: &str) -> Value {
    if text.trim_start().starts_with('{') {
        return json_document(text);
    }
    match percent_decode(text) {
        Some(decoded) => json_document(&decoded),
        None => s(text),
    }
}

/// A JSON document as a value; a document that is not JSON stays a string.
fn json_document(text: &str) -> Value {
    serde_json::from_str::<serde_json::Value>(text)
        .map_or_else(|_| s(text), |json| Value::from_json(&json))
}

/// `%XX` escapes decoded as UTF-8; `None` when the text is not a valid encoding.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_decoded_and_parsed() {
        let encoded = "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%5D%7D";
        let want = Value::from_json(&serde_json::json!({"Version": "2012-10-17", "Statement": []}));
        assert_eq!(aws_document(encoded), want);
        assert_eq!(
            aws_document(r#"{"Statement":[],"Version":"2012-10-17"}"#),
            want
        );
        assert_eq!(aws_document("%E2%82%AC"), s("€"), "not JSON stays a string");
        // A spec's document is JSON as written: a `%20` in it is not an escape.
        assert_eq!(
            json_document(r#"{"a":"x%20y"}"#),
            Value::from_json(&serde_json::json!({"a": "x%20y"}))
        );
        assert_eq!(percent_decode("%E2%82%AC").as_deref(), Some("€"));
        assert_eq!(percent_decode("100%"), None);
    }
}

//! `db_subnet_group`: CreateDBSubnetGroup (with tags), ModifyDBSubnetGroup (description and
//! subnets together, as the API takes them), tags by AddTagsToResource/RemoveTagsFromResource,
//! DeleteDBSubnetGroup. The id is the group name, which AWS stores lowercase.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_rds::types::DbSubnetGroup;

use super::{arn_of, in_stack, is_ours, list_tags, sync_tags, to_tags};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, str_list, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::tag_index;
use crate::provider::{Ctx, Hints, Observed, Provider, ProviderError, Status, Subject, attr_map};
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["DBSubnetGroupNotFoundFault"];
const ALREADY_EXISTS: &[&str] = &["DBSubnetGroupAlreadyExists"];
/// The description the API requires when the spec gives none.
use crate::spec::schema::types::DEFAULT_DESCRIPTION;

/// One DescribeDBSubnetGroups listing (paginated), then the tags of each listed group the hints
/// name: the listing carries no tags. They come from the region's tag index (one GetResources
/// for the whole refresh), or ListTagsForResource for a group the index lacks.
pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    hints: &Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::DbSubnetGroup);
    let wanted: BTreeSet<String> = hints
        .names
        .iter()
        .chain(&hints.ids)
        .map(|n| n.to_lowercase())
        .collect();
    if wanted.is_empty() && !p.everything() {
        return Ok(Vec::new());
    }
    let groups: Vec<DbSubnetGroup> = p
        .clients
        .rds(region)
        .describe_db_subnet_groups()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(aws(&subject, region, "DescribeDBSubnetGroups"))?;
    let mut out = Vec::new();
    for group in groups {
        let named = p.everything()
            || group
                .db_subnet_group_name()
                .is_some_and(|n| wanted.contains(&n.to_lowercase()));
        if !named {
            continue;
        }
        let Some(tags) = tags_of(p, &subject, region, &group).await? else {
            continue;
        };
        if in_stack(p, &tags) {
            out.push(observe(region, group, tags));
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
    let answer = p
        .clients
        .rds(ctx.region)
        .describe_db_subnet_groups()
        .db_subnet_group_name(id)
        .send()
        .await;
    let group = match answer {
        Ok(out) => out.db_subnet_groups.unwrap_or_default().into_iter().next(),
        Err(e) if has_code(&e, NOT_FOUND) => None,
        Err(e) => return Err(aws(&subject, ctx.region, "DescribeDBSubnetGroups")(e)),
    };
    let Some(group) = group else { return Ok(None) };
    Ok(tags_of(p, &subject, ctx.region, &group)
        .await?
        .map(|tags| observe(ctx.region, group, tags)))
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let name = d.req_str("name")?;
    let tags = p.identity_tags(ctx.addr, desired);
    let answer = p
        .clients
        .rds(ctx.region)
        .create_db_subnet_group()
        .db_subnet_group_name(name)
        .db_subnet_group_description(d.str("description")?.unwrap_or(DEFAULT_DESCRIPTION))
        .set_subnet_ids(Some(d.strs("subnet_ids")?))
        .set_tags(Some(to_tags(&tags)))
        .send()
        .await;
    match answer {
        Ok(out) => {
            let group = out.db_subnet_group.ok_or_else(|| {
                ProviderError::invalid(ctx, "CreateDBSubnetGroup answered without the group")
            })?;
            Ok(observe(ctx.region, group, tags))
        }
        // The API takes no idempotency token: a create retried after a lost answer finds the
        // group it made, recognised by its identity tags.
        Err(e) if has_code(&e, ALREADY_EXISTS) => match read(p, ctx, name).await? {
            Some(found) if is_ours(p, ctx, &found) => Ok(found),
            _ => Err(aws(&ctx.subject(), ctx.region, "CreateDBSubnetGroup")(e)),
        },
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "CreateDBSubnetGroup")(e)),
    }
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let description = d.str("description")?.unwrap_or(DEFAULT_DESCRIPTION);
    let subnets = d.strs("subnet_ids")?;
    let changed = prior.attrs.get("description") != Some(&s(description))
        || prior.attrs.get("subnet_ids") != Some(&str_list(subnets.iter().cloned(), true));
    if changed {
        // SubnetIds is required: the call always sets the whole list.
        p.clients
            .rds(ctx.region)
            .modify_db_subnet_group()
            .db_subnet_group_name(&prior.id)
            .db_subnet_group_description(description)
            .set_subnet_ids(Some(subnets))
            .send()
            .await
            .map_err(aws(&ctx.subject(), ctx.region, "ModifyDBSubnetGroup"))?;
    }
    sync_tags(p, ctx, arn_of(ctx, prior)?, &prior.tags, desired).await?;
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
    let answer = p
        .clients
        .rds(ctx.region)
        .delete_db_subnet_group()
        .db_subnet_group_name(&prior.id)
        .send()
        .await;
    match answer {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "DeleteDBSubnetGroup")(e)),
    }
}

/// The group's tags (from the region's tag index in a refresh batch, see
/// `provider::tag_index`), or `None` if it disappeared since it was listed.
async fn tags_of(
    p: &Provider,
    subject: &Subject,
    region: &str,
    group: &DbSubnetGroup,
) -> Result<Option<BTreeMap<String, String>>, ProviderError> {
    match group.db_subnet_group_arn() {
        Some(arn) => {
            tag_index::tags_or(p, subject, region, arn, || {
                list_tags(p, subject, region, arn, NOT_FOUND)
            })
            .await
        }
        None => Ok(Some(BTreeMap::new())),
    }
}

fn observe(region: &str, group: DbSubnetGroup, tags: BTreeMap<String, String>) -> Observed {
    let name = group.db_subnet_group_name().unwrap_or_default().to_owned();
    let subnets = group
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_identifier().map(str::to_owned));
    let status = match group.subnet_group_status() {
        Some("Complete") | None => Status::Ready,
        Some(other) => Status::Pending(other.to_owned()),
    };
    Observed {
        kind: Kind::DbSubnetGroup,
        region: region.to_owned(),
        attrs: attr_map([
            ("name", Some(s(&name))),
            ("description", opt_s(group.db_subnet_group_description())),
            ("subnet_ids", Some(str_list(subnets, true))),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([
            ("arn", opt_s(group.db_subnet_group_arn())),
            ("id", Some(Value::Str(name.clone()))),
        ]),
        id: name,
        tags,
        status,
    }
}

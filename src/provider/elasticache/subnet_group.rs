//! `cache_subnet_group`: CreateCacheSubnetGroup, ModifyCacheSubnetGroup (description and
//! subnets in one call), tags by ARN, DeleteCacheSubnetGroup. Its id is its name.
//!
//! Requests per refresh: the pages of DescribeCacheSubnetGroups (100 groups each); the tags of
//! the hinted groups come from the region's tag index (`provider::tag_index`, one GetResources
//! per region for the whole refresh), plus one ListTagsForResource per hinted group it lacks.

use std::collections::BTreeMap;

use aws_sdk_elasticache::types::CacheSubnetGroup;

use super::{DEFAULT_DESCRIPTION, is_candidate, is_ours, list_tags, sync_tags, to_tags};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, str_list, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::tag_index;
use crate::provider::{Ctx, Hints, Observed, Provider, ProviderError, Status, Subject, attr_map};
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["CacheSubnetGroupNotFoundFault"];
const ALREADY_EXISTS: &[&str] = &["CacheSubnetGroupAlreadyExists"];

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    hints: &Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::CacheSubnetGroup);
    let groups: Vec<CacheSubnetGroup> = p
        .clients
        .elasticache(region)
        .describe_cache_subnet_groups()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(aws(&subject, region, "DescribeCacheSubnetGroups"))?;
    let mut out = Vec::new();
    for group in groups {
        let name = group.cache_subnet_group_name().unwrap_or_default();
        if !(p.everything() || is_candidate(hints, name)) {
            continue;
        }
        let Some(observed) = with_tags(p, &subject, region, group).await? else {
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
    let answer = p
        .clients
        .elasticache(ctx.region)
        .describe_cache_subnet_groups()
        .cache_subnet_group_name(id)
        .send()
        .await;
    let group = match answer {
        Ok(out) => out
            .cache_subnet_groups
            .unwrap_or_default()
            .into_iter()
            .next(),
        Err(e) if has_code(&e, NOT_FOUND) => None,
        Err(e) => return Err(aws(&subject, ctx.region, "DescribeCacheSubnetGroups")(e)),
    };
    match group {
        Some(group) => with_tags(p, &subject, ctx.region, group).await,
        None => Ok(None),
    }
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let name = d.req_str("name")?;
    let answer = p
        .clients
        .elasticache(ctx.region)
        .create_cache_subnet_group()
        .cache_subnet_group_name(name)
        .cache_subnet_group_description(d.str("description")?.unwrap_or(DEFAULT_DESCRIPTION))
        .set_subnet_ids(Some(d.strs("subnet_ids")?))
        .set_tags(Some(to_tags(&p.identity_tags(ctx.addr, desired))))
        .send()
        .await;
    let id = match answer {
        // AWS stores the name lowercase: the id is the name it answers with.
        Ok(out) => out
            .cache_subnet_group
            .and_then(|g| g.cache_subnet_group_name)
            .unwrap_or_else(|| name.to_owned()),
        Err(e) if has_code(&e, ALREADY_EXISTS) => {
            return match read(p, ctx, name).await? {
                Some(o) if is_ours(p, ctx, &o) => Ok(o),
                _ => Err(aws(&ctx.subject(), ctx.region, "CreateCacheSubnetGroup")(e)),
            };
        }
        Err(e) => return Err(aws(&ctx.subject(), ctx.region, "CreateCacheSubnetGroup")(e)),
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
    let description = d.str("description")?.unwrap_or(DEFAULT_DESCRIPTION);
    let subnets = str_list(d.strs("subnet_ids")?, true);
    let description_changed =
        prior.attrs.get("description").and_then(Value::as_str) != Some(description);
    let subnets_changed = prior.attrs.get("subnet_ids") != Some(&subnets);
    if description_changed || subnets_changed {
        let mut call = p
            .clients
            .elasticache(ctx.region)
            .modify_cache_subnet_group()
            .cache_subnet_group_name(&prior.id);
        if description_changed {
            call = call.cache_subnet_group_description(description);
        }
        if subnets_changed {
            call = call.set_subnet_ids(Some(d.strs("subnet_ids")?));
        }
        call.send()
            .await
            .map_err(aws(&ctx.subject(), ctx.region, "ModifyCacheSubnetGroup"))?;
    }
    if let Some(arn) = prior.computed.get("arn").and_then(Value::as_str) {
        sync_tags(p, ctx, arn, &prior.tags, desired).await?;
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
    let answer = p
        .clients
        .elasticache(ctx.region)
        .delete_cache_subnet_group()
        .cache_subnet_group_name(&prior.id)
        .send()
        .await;
    match answer {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "DeleteCacheSubnetGroup")(e)),
    }
}

/// Reads the group's tags (the index first, in a refresh batch) and builds the observed resource; `None` if the group disappeared
/// in between.
async fn with_tags(
    p: &Provider,
    subject: &Subject,
    region: &str,
    group: CacheSubnetGroup,
) -> Result<Option<Observed>, ProviderError> {
    let Some(arn) = group.arn.clone() else {
        return Ok(Some(observe(region, group, BTreeMap::new())));
    };
    let tags = tag_index::tags_or(p, subject, region, &arn, || {
        list_tags(p, subject, region, &arn, NOT_FOUND)
    })
    .await?;
    Ok(tags.map(|tags| observe(region, group, tags)))
}

fn observe(region: &str, group: CacheSubnetGroup, tags: BTreeMap<String, String>) -> Observed {
    let id = group.cache_subnet_group_name.clone().unwrap_or_default();
    let subnets = group
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_identifier().map(str::to_owned));
    Observed {
        kind: Kind::CacheSubnetGroup,
        region: region.to_owned(),
        attrs: attr_map([
            ("name", Some(s(&id))),
            (
                "description",
                opt_s(group.cache_subnet_group_description.clone()),
            ),
            ("subnet_ids", Some(str_list(subnets, true))),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([("arn", opt_s(group.arn.clone()))]),
        id,
        tags,
        // Subnet groups have no lifecycle: they exist as soon as CreateCacheSubnetGroup answers.
        status: Status::Ready,
    }
}

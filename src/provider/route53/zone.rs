//! `route53_zone`: CreateHostedZone (CallerReference = the plan's token) then
//! ChangeTagsForResource; UpdateHostedZoneComment; DeleteHostedZone.
//!
//! Refresh is ListHostedZones (100 zones a page) plus ListTagsForResources (10 zones a call),
//! keeping the zones tagged with the stack, then GetHostedZone per kept zone for its name servers.
//! The list and its tags are read once per refresh, for zones and records alike.

use std::collections::BTreeMap;

use aws_sdk_route53::types::{HostedZone, HostedZoneConfig, TagResourceType};

use super::{
    change_status, dns_name, forget_change, list_tags, remember_change, sync_tags, tag_new, tags_of,
};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, str_list, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::{
    Ctx, Hints, Observed, Provider, ProviderError, STACK_TAG, Status, Subject, attr_map,
};
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["NoSuchHostedZone"];

pub(super) use crate::spec::schema::compare::zone_id;

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    hints: &Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::Route53Zone);
    let mut out = Vec::new();
    for (zone, tags) in stack_zones(p, &subject, region, hints).await? {
        let id = zone_id(&zone.id).to_owned();
        let status = change_status(p, &subject, region, &id).await?;
        if let Some(observed) = get(p, &subject, region, &id, tags, status).await? {
            out.push(observed);
        }
    }
    Ok(out)
}

/// The stack's zones with their tags: those tagged with the stack, those whose ids the state
/// holds (unless another stack's tag says otherwise), and untagged zones regionctl created (by
/// their CallerReference) whose name the spec asks for, which an apply stopped between
/// CreateHostedZone and ChangeTagsForResource leaves behind.
pub(super) async fn stack_zones(
    p: &Provider,
    subject: &Subject,
    region: &str,
    hints: &Hints,
) -> Result<Vec<(HostedZone, BTreeMap<String, String>)>, ProviderError> {
    // Zones and records both start from this list: read it once per refresh.
    let zones = p
        .memo
        .get_or_read("route53:zones with tags", region, || async {
            let zones = list_zones(p, subject, region).await?;
            let ids: Vec<String> = zones.iter().map(|z| zone_id(&z.id).to_owned()).collect();
            let tags = list_tags(p, subject, region, TagResourceType::Hostedzone, &ids).await?;
            Ok(zones
                .into_iter()
                .map(|z| {
                    let t = tags.get(zone_id(&z.id)).cloned().unwrap_or_default();
                    (z, t)
                })
                .collect::<Vec<_>>())
        })
        .await?;
    let mut out = Vec::new();
    for (zone, zone_tags) in zones.iter().cloned() {
        let id = zone_id(&zone.id);
        let keep = match zone_tags.get(STACK_TAG) {
            _ if p.everything() => true,
            Some(stack) => *stack == p.stack,
            None => {
                hints.ids.contains(id)
                    || (zone
                        .caller_reference
                        .starts_with(crate::provider::TOKEN_PREFIX)
                        && hints.names.contains(&dns_name(&zone.name)))
            }
        };
        if keep {
            out.push((zone, zone_tags));
        }
    }
    Ok(out)
}

async fn list_zones(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<Vec<HostedZone>, ProviderError> {
    p.clients
        .route53(region)
        .list_hosted_zones()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws(subject, region, "ListHostedZones"))
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let subject = ctx.subject();
    let id = zone_id(id);
    let Some(tags) = tags_of(
        p,
        &subject,
        ctx.region,
        TagResourceType::Hostedzone,
        id,
        NOT_FOUND,
    )
    .await?
    else {
        return Ok(None);
    };
    let status = change_status(p, &subject, ctx.region, id).await?;
    get(p, &subject, ctx.region, id, tags, status).await
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let subject = ctx.subject();
    let name = d.req_str("name")?;
    let answer = p
        .clients
        .route53(ctx.region)
        .create_hosted_zone()
        .name(name)
        .caller_reference(ctx.token)
        .set_hosted_zone_config(
            d.str("comment")?
                .map(|c| HostedZoneConfig::builder().comment(c).build()),
        )
        .send()
        .await;
    let (id, status) = match answer {
        Ok(out) => {
            let zone = out.hosted_zone.ok_or_else(|| {
                ProviderError::invalid(ctx, "CreateHostedZone answered without the zone")
            })?;
            let id = zone_id(&zone.id).to_owned();
            let status = remember_change(p, &id, out.change_info.as_ref());
            (id, status)
        }
        // A retried create: the first attempt made the zone, perhaps without tagging it.
        Err(e) if has_code(&e, &["HostedZoneAlreadyExists"]) => {
            match find_by_reference(p, ctx, name).await? {
                Some(id) => {
                    let status = change_status(p, &subject, ctx.region, &id).await?;
                    (id, status)
                }
                None => return Err(aws(&subject, ctx.region, "CreateHostedZone")(e)),
            }
        }
        Err(e) => return Err(aws(&subject, ctx.region, "CreateHostedZone")(e)),
    };
    tag_new(p, ctx, TagResourceType::Hostedzone, &id, desired).await?;
    let tags = p.identity_tags(ctx.addr, desired);
    get(p, &subject, ctx.region, &id, tags, status)
        .await?
        .ok_or_else(|| ProviderError::Vanished {
            subject,
            region: ctx.region.to_owned(),
            id,
        })
}

/// The zone an earlier attempt of this create made: its CallerReference is this plan's token.
async fn find_by_reference(
    p: &Provider,
    ctx: &Ctx<'_>,
    name: &str,
) -> Result<Option<String>, ProviderError> {
    let zones = list_zones(p, &ctx.subject(), ctx.region).await?;
    Ok(zones
        .iter()
        .find(|z| z.caller_reference == ctx.token && dns_name(&z.name) == dns_name(name))
        .map(|z| zone_id(&z.id).to_owned()))
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let comment = d.str("comment")?;
    if comment != prior.attrs.get("comment").and_then(Value::as_str) {
        // Without a Comment the call removes it.
        p.clients
            .route53(ctx.region)
            .update_hosted_zone_comment()
            .id(&prior.id)
            .set_comment(comment.map(str::to_owned))
            .send()
            .await
            .map_err(aws(&ctx.subject(), ctx.region, "UpdateHostedZoneComment"))?;
    }
    sync_tags(
        p,
        ctx,
        TagResourceType::Hostedzone,
        &prior.id,
        &prior.tags,
        desired,
    )
    .await?;
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
    let subject = ctx.subject();
    let answer = p
        .clients
        .route53(ctx.region)
        .delete_hosted_zone()
        .id(&prior.id)
        .send()
        .await;
    match answer {
        Ok(_) => {
            forget_change(p, &prior.id);
            Ok(())
        }
        Err(e) if has_code(&e, NOT_FOUND) => {
            forget_change(p, &prior.id);
            Ok(())
        }
        Err(e) if has_code(&e, &["HostedZoneNotEmpty"]) => {
            let mut err = aws(&subject, ctx.region, "DeleteHostedZone")(e);
            let left = super::record::describe_records(p, &subject, ctx.region, &prior.id).await?;
            if let ProviderError::Aws { message, .. } = &mut err {
                message.push_str(&format!(
                    " Records left in the zone (delete them first): {left}"
                ));
            }
            Err(err)
        }
        Err(e) => Err(aws(&subject, ctx.region, "DeleteHostedZone")(e)),
    }
}

/// GetHostedZone (the only call that reports the name servers), turned into an observed zone.
async fn get(
    p: &Provider,
    subject: &Subject,
    region: &str,
    id: &str,
    tags: BTreeMap<String, String>,
    status: Status,
) -> Result<Option<Observed>, ProviderError> {
    let answer = p
        .clients
        .route53(region)
        .get_hosted_zone()
        .id(id)
        .send()
        .await;
    let out = match answer {
        Ok(out) => out,
        Err(e) if has_code(&e, NOT_FOUND) => return Ok(None),
        Err(e) => return Err(aws(subject, region, "GetHostedZone")(e)),
    };
    let Some(zone) = out.hosted_zone else {
        return Ok(None);
    };
    let id = zone_id(&zone.id).to_owned();
    let name_servers = out
        .delegation_set
        .map(|d| d.name_servers)
        .unwrap_or_default();
    let comment = zone
        .config
        .and_then(|c| c.comment)
        .filter(|c| !c.is_empty());
    Ok(Some(Observed {
        kind: Kind::Route53Zone,
        region: region.to_owned(),
        attrs: attr_map([
            ("name", Some(s(dns_name(&zone.name)))),
            ("comment", opt_s(comment)),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([
            ("id", Some(s(&id))),
            ("arn", Some(s(format!("arn:aws:route53:::hostedzone/{id}")))),
            ("name_servers", Some(str_list(name_servers, false))),
        ]),
        id,
        tags,
        status,
    }))
}

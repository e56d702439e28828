//! `route53_health_check`: CreateHealthCheck (CallerReference = the plan's token) then
//! ChangeTagsForResource; UpdateHealthCheck (with the current HealthCheckVersion, ResetElements to
//! remove the path, host name or checker regions); DeleteHealthCheck.
//!
//! Refresh is ListHealthChecks (100 a page) plus ListTagsForResources (10 checks a call), keeping
//! the checks tagged with the stack. Health checks have no lifecycle: they are always Ready.

use std::collections::BTreeMap;

use aws_sdk_route53::types::{
    HealthCheck, HealthCheckConfig, HealthCheckRegion, HealthCheckType, ResettableElementName,
    TagResourceType,
};

use super::{built, list_tags, sync_tags, tag_new, tags_of};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, str_list, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::{
    Ctx, Hints, Observed, Provider, ProviderError, STACK_TAG, Status, Subject, attr_map,
};
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["NoSuchHealthCheck"];

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    hints: &Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::Route53HealthCheck);
    let checks: Vec<HealthCheck> = p
        .clients
        .route53(region)
        .list_health_checks()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(aws(&subject, region, "ListHealthChecks"))?;
    let ids: Vec<String> = checks.iter().map(|c| c.id.clone()).collect();
    let mut tags = list_tags(p, &subject, region, TagResourceType::Healthcheck, &ids).await?;
    Ok(checks
        .into_iter()
        .filter_map(|check| {
            let check_tags = tags.remove(&check.id).unwrap_or_default();
            let keep = match check_tags.get(STACK_TAG) {
                _ if p.everything() => true,
                Some(stack) => *stack == p.stack,
                // Created by an apply that stopped before tagging it (health checks take no tags
                // in their create call): the state may know it, or its regionctl caller
                // reference marks it and the plan matches it by its configuration.
                None => {
                    hints.ids.contains(&check.id)
                        || check
                            .caller_reference
                            .starts_with(crate::provider::TOKEN_PREFIX)
                }
            };
            keep.then(|| observe(region, check, check_tags))
        })
        .collect())
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let subject = ctx.subject();
    let Some(check) = get(p, ctx, id).await? else {
        return Ok(None);
    };
    let tags = tags_of(
        p,
        &subject,
        ctx.region,
        TagResourceType::Healthcheck,
        id,
        NOT_FOUND,
    )
    .await?;
    Ok(tags.map(|tags| observe(ctx.region, check, tags)))
}

async fn get(p: &Provider, ctx: &Ctx<'_>, id: &str) -> Result<Option<HealthCheck>, ProviderError> {
    let answer = p
        .clients
        .route53(ctx.region)
        .get_health_check()
        .health_check_id(id)
        .send()
        .await;
    match answer {
        Ok(out) => Ok(out.health_check),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(None),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "GetHealthCheck")(e)),
    }
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    // A retried create (same CallerReference, same settings) answers the existing check.
    let out = p
        .clients
        .route53(ctx.region)
        .create_health_check()
        .caller_reference(ctx.token)
        .health_check_config(config(ctx, &d)?)
        .send()
        .await
        .map_err(aws(&ctx.subject(), ctx.region, "CreateHealthCheck"))?;
    let check = out.health_check.ok_or_else(|| {
        ProviderError::invalid(ctx, "CreateHealthCheck answered without the health check")
    })?;
    tag_new(p, ctx, TagResourceType::Healthcheck, &check.id, desired).await?;
    Ok(observe(
        ctx.region,
        check,
        p.identity_tags(ctx.addr, desired),
    ))
}

fn config(ctx: &Ctx<'_>, d: &Desired<'_>) -> Result<HealthCheckConfig, ProviderError> {
    let regions = d.strs("regions")?;
    let config = HealthCheckConfig::builder()
        .r#type(HealthCheckType::from(d.req_str("type")?))
        .set_fully_qualified_domain_name(d.str("fqdn")?.map(str::to_owned))
        .set_ip_address(d.str("ip_address")?.map(str::to_owned))
        .set_port(d.i32("port")?)
        .set_resource_path(d.str("resource_path")?.map(str::to_owned))
        .set_search_string(d.str("search_string")?.map(str::to_owned))
        .set_request_interval(d.i32("request_interval")?)
        .set_failure_threshold(d.i32("failure_threshold")?)
        .set_measure_latency(d.bool("measure_latency")?)
        .set_enable_sni(d.bool("enable_sni")?)
        .set_inverted(d.bool("inverted")?)
        .set_disabled(d.bool("disabled")?)
        .set_regions((!regions.is_empty()).then(|| {
            regions
                .iter()
                .map(|r| HealthCheckRegion::from(r.as_str()))
                .collect()
        }))
        .build();
    built(ctx, "health check configuration", config)
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let have = |name: &str| prior.attrs.get(name);
    let mut call = p
        .clients
        .route53(ctx.region)
        .update_health_check()
        .health_check_id(&prior.id);
    let mut changed = false;
    let mut reset = Vec::new();

    // Strings: a removed host name or path is reset; an address or search string cannot be.
    let text = |name: &str| -> Result<Option<Option<String>>, ProviderError> {
        let want = d.str(name)?;
        Ok((want != have(name).and_then(Value::as_str)).then(|| want.map(str::to_owned)))
    };
    if let Some(want) = text("fqdn")? {
        changed = true;
        match want {
            Some(v) => call = call.fully_qualified_domain_name(v),
            None => reset.push(ResettableElementName::FullyQualifiedDomainName),
        }
    }
    if let Some(want) = text("resource_path")? {
        changed = true;
        match want {
            Some(v) => call = call.resource_path(v),
            None => reset.push(ResettableElementName::ResourcePath),
        }
    }
    if let Some(Some(v)) = text("ip_address")? {
        changed = true;
        call = call.ip_address(v);
    }
    if let Some(Some(v)) = text("search_string")? {
        changed = true;
        call = call.search_string(v);
    }

    // Numbers and flags left out of the spec keep whatever AWS has.
    let int = |name: &str| -> Result<Option<i32>, ProviderError> {
        let want = d.i32(name)?;
        Ok(want.filter(|w| have(name).and_then(Value::as_i64) != Some(i64::from(*w))))
    };
    if let Some(v) = int("port")? {
        changed = true;
        call = call.port(v);
    }
    if let Some(v) = int("failure_threshold")? {
        changed = true;
        call = call.failure_threshold(v);
    }
    let flag = |name: &str| -> Result<Option<bool>, ProviderError> {
        let want = d.bool(name)?;
        Ok(want.filter(|w| have(name).and_then(Value::as_bool) != Some(*w)))
    };
    if let Some(v) = flag("inverted")? {
        changed = true;
        call = call.inverted(v);
    }
    if let Some(v) = flag("disabled")? {
        changed = true;
        call = call.disabled(v);
    }
    if let Some(v) = flag("enable_sni")? {
        changed = true;
        call = call.enable_sni(v);
    }

    let mut want_regions = d.strs("regions")?;
    want_regions.sort();
    let have_regions: Vec<&str> = match have("regions") {
        Some(Value::List(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if want_regions != have_regions {
        changed = true;
        if want_regions.is_empty() {
            reset.push(ResettableElementName::Regions);
        } else {
            call = call.set_regions(Some(
                want_regions
                    .iter()
                    .map(|r| HealthCheckRegion::from(r.as_str()))
                    .collect(),
            ));
        }
    }

    if changed {
        // The version makes Route 53 refuse the update if someone changed the check since.
        let current = get(p, ctx, &prior.id)
            .await?
            .ok_or_else(|| ProviderError::vanished(ctx, &prior.id))?;
        call.health_check_version(current.health_check_version)
            .set_reset_elements((!reset.is_empty()).then_some(reset))
            .send()
            .await
            .map_err(aws(&ctx.subject(), ctx.region, "UpdateHealthCheck"))?;
    }
    sync_tags(
        p,
        ctx,
        TagResourceType::Healthcheck,
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
    let answer = p
        .clients
        .route53(ctx.region)
        .delete_health_check()
        .health_check_id(&prior.id)
        .send()
        .await;
    match answer {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "DeleteHealthCheck")(e)),
    }
}

fn observe(region: &str, check: HealthCheck, tags: BTreeMap<String, String>) -> Observed {
    let config = check.health_check_config;
    let field = |f: fn(&HealthCheckConfig) -> Option<Value>| config.as_ref().and_then(f);
    let regions: Vec<String> = config
        .as_ref()
        .and_then(|c| c.regions.as_ref())
        .map(|r| r.iter().map(|r| r.as_str().to_owned()).collect())
        .unwrap_or_default();
    let attrs = attr_map([
        ("type", field(|c| Some(s(c.r#type.as_str())))),
        (
            "fqdn",
            field(|c| opt_s(c.fully_qualified_domain_name.clone())),
        ),
        ("ip_address", field(|c| opt_s(c.ip_address.clone()))),
        ("port", field(|c| c.port.map(|v| Value::Int(v.into())))),
        ("resource_path", field(|c| opt_s(c.resource_path.clone()))),
        ("search_string", field(|c| opt_s(c.search_string.clone()))),
        (
            "request_interval",
            field(|c| c.request_interval.map(|v| Value::Int(v.into()))),
        ),
        (
            "failure_threshold",
            field(|c| c.failure_threshold.map(|v| Value::Int(v.into()))),
        ),
        (
            "measure_latency",
            field(|c| c.measure_latency.map(Value::Bool)),
        ),
        ("enable_sni", field(|c| c.enable_sni.map(Value::Bool))),
        (
            "regions",
            (!regions.is_empty()).then(|| str_list(regions, true)),
        ),
        ("inverted", field(|c| c.inverted.map(Value::Bool))),
        ("disabled", field(|c| c.disabled.map(Value::Bool))),
        ("tags", user_tags(&tags)),
    ]);
    Observed {
        kind: Kind::Route53HealthCheck,
        region: region.to_owned(),
        attrs,
        computed: attr_map([("id", Some(s(&check.id)))]),
        id: check.id,
        tags,
        status: Status::Ready,
    }
}

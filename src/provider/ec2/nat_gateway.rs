//! `nat_gateway`: for public connectivity AllocateAddress (an Elastic IP tagged like the gateway),
//! then CreateNatGateway with the plan's ClientToken; delete is DeleteNatGateway, a bounded wait
//! until the gateway is `deleted` (EC2 keeps the address until then), then ReleaseAddress of the
//! Elastic IP regionctl allocated.

use aws_sdk_ec2::types::{
    Address, ConnectivityType, DomainType, Filter, NatGateway, NatGatewayState, ResourceType,
    TagSpecification,
};

use super::{
    TOKEN_TAG, create_once, from_tags, no_retries, read_back, stack_filters, sync_tags, tag_spec,
    to_tags,
};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::{
    ADDRESS_TAG, Ctx, Observed, Provider, ProviderError, STACK_TAG, Status, Subject, attr_map,
};
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["NatGatewayNotFound", "InvalidNatGatewayID.NotFound"];
const ADDRESS_NOT_FOUND: &[&str] = &["InvalidAllocationID.NotFound"];
/// Deleted gateways stay listed for about an hour; they are gone for regionctl.
const LIVE_STATES: [&str; 4] = ["pending", "available", "deleting", "failed"];

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    _hints: &crate::provider::Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::NatGateway);
    let live = Filter::builder()
        .name("state")
        .set_values(Some(LIVE_STATES.map(str::to_owned).to_vec()))
        .build();
    let gateways: Vec<NatGateway> = p
        .clients
        .ec2(region)
        .describe_nat_gateways()
        .set_filter(stack_filters(p))
        .filter(live)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(aws(&subject, region, "DescribeNatGateways"))?;
    Ok(gateways
        .into_iter()
        .filter_map(|g| observe(region, g))
        .collect())
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(describe(p, ctx, id)
        .await?
        .and_then(|g| observe(ctx.region, g)))
}

ec2_describe!(
    NatGateway,
    describe_nat_gateways,
    nat_gateway_ids,
    nat_gateways,
    "DescribeNatGateways"
);

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let connectivity = d.str("connectivity_type")?.unwrap_or("public");
    let allocation_id = match connectivity {
        "public" => Some(elastic_ip(p, ctx, desired).await?),
        _ => None,
    };
    let out = p
        .clients
        .ec2(ctx.region)
        .create_nat_gateway()
        .subnet_id(d.req_str("subnet_id")?)
        .connectivity_type(ConnectivityType::from(connectivity))
        .set_allocation_id(allocation_id)
        .client_token(ctx.token)
        .tag_specifications(tag_spec(p, ctx, desired, ResourceType::Natgateway))
        .send()
        .await
        .map_err(aws(&ctx.subject(), ctx.region, "CreateNatGateway"))?;
    let id = out
        .nat_gateway
        .and_then(|g| g.nat_gateway_id)
        .ok_or_else(|| ProviderError::invalid(ctx, "CreateNatGateway answered without an id"))?;
    read_back(p, ctx, &id).await
}

/// The Elastic IP for a new public gateway. It carries the create's idempotency token as a tag,
/// so that a retried create (the same token) sends CreateNatGateway the same address and EC2
/// answers the gateway it already made; an address an interrupted attempt left unassociated is
/// taken over rather than a second one allocated.
async fn elastic_ip(p: &Provider, ctx: &Ctx<'_>, desired: &Attrs) -> Result<String, ProviderError> {
    let client = p.clients.ec2(ctx.region);
    let tag = |key: &str, value: String| {
        Filter::builder()
            .name(format!("tag:{key}"))
            .values(value)
            .build()
    };
    let ours = client
        .describe_addresses()
        .filters(tag(STACK_TAG, p.stack.clone()))
        .filters(tag(ADDRESS_TAG, ctx.addr.to_string()))
        .send()
        .await
        .map_err(aws(&ctx.subject(), ctx.region, "DescribeAddresses"))?;
    let token_of = |a: &Address| from_tags(a.tags()).get(TOKEN_TAG).cloned();
    let addresses = ours.addresses();
    if let Some(same) = addresses
        .iter()
        .find(|a| token_of(a).as_deref() == Some(ctx.token))
        .and_then(|a| a.allocation_id.clone())
    {
        return Ok(same);
    }
    let mut tags = p.identity_tags(ctx.addr, desired);
    tags.insert(TOKEN_TAG.to_owned(), ctx.token.to_owned());
    if let Some(unused) = addresses
        .iter()
        .filter(|a| a.association_id().is_none_or(str::is_empty))
        .find_map(|a| a.allocation_id.clone())
    {
        client
            .create_tags()
            .resources(&unused)
            .set_tags(Some(to_tags(&tags)))
            .send()
            .await
            .map_err(aws(&ctx.subject(), ctx.region, "CreateTags"))?;
        return Ok(unused);
    }
    create_once(p, ctx, "AllocateAddress", "eipalloc-", || async {
        let out = client
            .allocate_address()
            .domain(DomainType::Vpc)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::ElasticIp)
                    .set_tags(Some(to_tags(&tags)))
                    .build(),
            )
            .customize()
            .config_override(no_retries())
            .send()
            .await?;
        Ok(out.allocation_id)
    })
    .await
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    // Only the tags can change in place, on the gateway and on the Elastic IP made for it.
    sync_tags(p, ctx, &prior.id, &prior.tags, desired).await?;
    if let Some(allocation_id) = prior.computed.get("allocation_id").and_then(Value::as_str) {
        sync_tags(p, ctx, allocation_id, &prior.tags, desired).await?;
    }
    read_back(p, ctx, &prior.id).await
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _config: &crate::provider::Attrs,
) -> Result<(), ProviderError> {
    let answer = p
        .clients
        .ec2(ctx.region)
        .delete_nat_gateway()
        .nat_gateway_id(&prior.id)
        .send()
        .await;
    match answer {
        Ok(_) => {}
        Err(e) if has_code(&e, NOT_FOUND) => {}
        Err(e) => return Err(aws(&ctx.subject(), ctx.region, "DeleteNatGateway")(e)),
    }
    // EC2 refuses to release an address its gateway still holds, which it does until `deleted`.
    p.wait_gone(ctx, &prior.id).await?;
    match prior.computed.get("allocation_id").and_then(Value::as_str) {
        Some(allocation_id) => release(p, ctx, allocation_id).await,
        None => Ok(()),
    }
}

/// Releases the Elastic IP of a gateway that is already gone, from what state recorded of it
/// (`computed`): a run killed while it waited for the gateway's deletion never got to release
/// it, and the next run finds only the address.
pub(crate) async fn release_leftover(
    p: &Provider,
    ctx: &Ctx<'_>,
    computed: &Attrs,
) -> Result<(), ProviderError> {
    match computed.get("allocation_id").and_then(Value::as_str) {
        Some(allocation_id) => release(p, ctx, allocation_id).await,
        None => Ok(()),
    }
}

/// Releases the gateway's Elastic IP if it is still there and regionctl allocated it for this
/// stack (never an address someone else owns).
async fn release(p: &Provider, ctx: &Ctx<'_>, allocation_id: &str) -> Result<(), ProviderError> {
    let client = p.clients.ec2(ctx.region);
    let answer = client
        .describe_addresses()
        .allocation_ids(allocation_id)
        .send()
        .await;
    let addresses: Vec<Address> = match answer {
        Ok(out) => out.addresses.unwrap_or_default(),
        Err(e) if has_code(&e, ADDRESS_NOT_FOUND) => return Ok(()),
        Err(e) => return Err(aws(&ctx.subject(), ctx.region, "DescribeAddresses")(e)),
    };
    let ours = addresses
        .iter()
        .any(|a| from_tags(a.tags()).get(STACK_TAG) == Some(&p.stack));
    if !ours {
        return Ok(());
    }
    match client
        .release_address()
        .allocation_id(allocation_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, ADDRESS_NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "ReleaseAddress")(e)),
    }
}

/// The gateway as regionctl sees it; `None` once it is `deleted`.
fn observe(region: &str, gateway: NatGateway) -> Option<Observed> {
    let status = match &gateway.state {
        Some(NatGatewayState::Deleted) => return None,
        Some(NatGatewayState::Available) => Status::Ready,
        Some(NatGatewayState::Deleting) => Status::Deleting("deleting".to_owned()),
        Some(NatGatewayState::Failed) => Status::Failed(match &gateway.failure_code {
            Some(code) => format!(
                "failed ({code}: {})",
                gateway.failure_message.as_deref().unwrap_or_default()
            ),
            None => "failed".to_owned(),
        }),
        Some(other) => Status::Pending(other.as_str().to_owned()),
        None => Status::Pending("unknown".to_owned()),
    };
    let id = gateway.nat_gateway_id.clone().unwrap_or_default();
    let tags = from_tags(gateway.tags());
    let addresses = gateway.nat_gateway_addresses();
    let primary = addresses
        .iter()
        .find(|a| a.is_primary == Some(true))
        .or_else(|| addresses.first());
    Some(Observed {
        kind: Kind::NatGateway,
        region: region.to_owned(),
        attrs: attr_map([
            ("subnet_id", opt_s(gateway.subnet_id.clone())),
            (
                "connectivity_type",
                opt_s(gateway.connectivity_type.as_ref().map(|c| c.as_str())),
            ),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([
            ("id", Some(s(&id))),
            (
                "allocation_id",
                opt_s(primary.and_then(|a| a.allocation_id.clone())),
            ),
            (
                "public_ip",
                opt_s(primary.and_then(|a| a.public_ip.clone())),
            ),
            (
                "private_ip",
                opt_s(primary.and_then(|a| a.private_ip.clone())),
            ),
        ]),
        id,
        tags,
        status,
    })
}

//! `internet_gateway`: CreateInternetGateway + AttachInternetGateway; a changed `vpc_id` detaches
//! from the old VPC and attaches to the new one; delete detaches, then DeleteInternetGateway.

use aws_sdk_ec2::types::{InternetGateway, ResourceType};

use super::{arn, create_once, from_tags, no_retries, read_back, sync_tags, tag_spec};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, s, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::{Ctx, Observed, Provider, ProviderError, Status, attr_map};
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["InvalidInternetGatewayID.NotFound"];
/// Detaching from a VPC the gateway is no longer attached to.
const NOT_ATTACHED: &[&str] = &["Gateway.NotAttached"];

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    _hints: &crate::provider::Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let gateways = list(p, region, Kind::InternetGateway).await?;
    Ok(gateways.into_iter().map(|g| observe(region, g)).collect())
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(describe(p, ctx, id).await?.map(|g| observe(ctx.region, g)))
}

ec2_reads!(
    InternetGateway,
    describe_internet_gateways,
    internet_gateway_ids,
    internet_gateways,
    "DescribeInternetGateways"
);

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let vpc_id = d.req_str("vpc_id")?;
    let client = p.clients.ec2(ctx.region);
    let id = create_once(p, ctx, "CreateInternetGateway", "igw-", || async {
        let out = client
            .create_internet_gateway()
            .tag_specifications(tag_spec(p, ctx, desired, ResourceType::InternetGateway))
            .customize()
            .config_override(no_retries())
            .send()
            .await?;
        Ok(out.internet_gateway.and_then(|g| g.internet_gateway_id))
    })
    .await?;
    attach(p, ctx, &id, vpc_id).await?;
    read_back(p, ctx, &id).await
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let want = d.req_str("vpc_id")?;
    let have = prior.attrs.get("vpc_id").and_then(Value::as_str);
    if have != Some(want) {
        // A gateway attaches to one VPC at a time: the old attachment must go first.
        if let Some(old) = have {
            detach(p, ctx, &prior.id, old).await?;
        }
        attach(p, ctx, &prior.id, want).await?;
    }
    sync_tags(p, ctx, &prior.id, &prior.tags, desired).await?;
    read_back(p, ctx, &prior.id).await
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _config: &crate::provider::Attrs,
) -> Result<(), ProviderError> {
    // The attachments AWS reports now, not those in `prior`, which may be stale.
    let Some(gateway) = describe(p, ctx, &prior.id).await? else {
        return Ok(());
    };
    for vpc_id in gateway.attachments().iter().filter_map(|a| a.vpc_id()) {
        detach(p, ctx, &prior.id, vpc_id).await?;
    }
    match p
        .clients
        .ec2(ctx.region)
        .delete_internet_gateway()
        .internet_gateway_id(&prior.id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "DeleteInternetGateway")(e)),
    }
}

async fn attach(p: &Provider, ctx: &Ctx<'_>, id: &str, vpc_id: &str) -> Result<(), ProviderError> {
    p.clients
        .ec2(ctx.region)
        .attach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc_id)
        .send()
        .await
        .map_err(aws(&ctx.subject(), ctx.region, "AttachInternetGateway"))?;
    Ok(())
}

async fn detach(p: &Provider, ctx: &Ctx<'_>, id: &str, vpc_id: &str) -> Result<(), ProviderError> {
    match p
        .clients
        .ec2(ctx.region)
        .detach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_ATTACHED) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "DetachInternetGateway")(e)),
    }
}

fn observe(region: &str, gateway: InternetGateway) -> Observed {
    let id = gateway.internet_gateway_id.clone().unwrap_or_default();
    let tags = from_tags(gateway.tags());
    let attachment = gateway.attachments().first();
    // EC2 reports an attached internet gateway as "available" (not the enum's "attached"). Only
    // a gateway on its way between states is pending. A detached one is settled: a run killed
    // between create and attach (or someone behind regionctl's back) left it so, and the update
    // that attaches it must not first wait for it to become attached.
    let status = match attachment
        .and_then(|a| a.state.as_ref())
        .map(|s| s.as_str())
    {
        Some(moving @ ("attaching" | "detaching")) => Status::Pending(moving.to_owned()),
        _ => Status::Ready,
    };
    let vpc_id = attachment.and_then(|a| a.vpc_id.clone()).map(s);
    Observed {
        kind: Kind::InternetGateway,
        region: region.to_owned(),
        attrs: attr_map([("vpc_id", vpc_id), ("tags", user_tags(&tags))]),
        computed: attr_map([
            ("id", Some(s(&id))),
            (
                "arn",
                Some(s(arn(
                    region,
                    gateway.owner_id.as_deref(),
                    "internet-gateway",
                    &id,
                ))),
            ),
        ]),
        id,
        tags,
        status,
    }
}

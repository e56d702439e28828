//! `subnet`: CreateSubnet, ModifySubnetAttribute (MapPublicIpOnLaunch), DeleteSubnet.

use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, Subnet, SubnetState};

use super::{arn, create_once, from_tags, no_retries, read_back, sync_tags, tag_spec};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::{Ctx, Observed, Provider, ProviderError, Status, attr_map};
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["InvalidSubnetID.NotFound"];

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    _hints: &crate::provider::Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subnets = list(p, region, Kind::Subnet).await?;
    Ok(subnets.into_iter().map(|s| observe(region, s)).collect())
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(describe(p, ctx, id).await?.map(|s| observe(ctx.region, s)))
}

ec2_reads!(
    Subnet,
    describe_subnets,
    subnet_ids,
    subnets,
    "DescribeSubnets"
);

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let (vpc_id, cidr, zone) = (
        d.req_str("vpc_id")?,
        d.req_str("cidr_block")?,
        d.req_str("availability_zone")?,
    );
    let client = p.clients.ec2(ctx.region);
    let id = create_once(p, ctx, "CreateSubnet", "subnet-", || async {
        let out = client
            .create_subnet()
            .vpc_id(vpc_id)
            .cidr_block(cidr)
            .availability_zone(zone)
            .tag_specifications(tag_spec(p, ctx, desired, ResourceType::Subnet))
            .customize()
            .config_override(no_retries())
            .send()
            .await?;
        Ok(out.subnet.and_then(|s| s.subnet_id))
    })
    .await?;
    // A new subnet does not map public IPs; only a wanted `true` needs a call.
    if d.bool("map_public_ip_on_launch")? == Some(true) {
        set_map_public_ip(p, ctx, &id, true).await?;
    }
    read_back(p, ctx, &id).await
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    if let Some(want) = d.bool("map_public_ip_on_launch")?
        && prior
            .attrs
            .get("map_public_ip_on_launch")
            .and_then(Value::as_bool)
            != Some(want)
    {
        set_map_public_ip(p, ctx, &prior.id, want).await?;
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
    match p
        .clients
        .ec2(ctx.region)
        .delete_subnet()
        .subnet_id(&prior.id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => {
            let err = aws(&ctx.subject(), ctx.region, "DeleteSubnet")(e);
            Err(super::blockers::explain(p, ctx, &prior.id, err, None, Some(&prior.id), None).await)
        }
    }
}

async fn set_map_public_ip(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
    value: bool,
) -> Result<(), ProviderError> {
    p.clients
        .ec2(ctx.region)
        .modify_subnet_attribute()
        .subnet_id(id)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(value).build())
        .send()
        .await
        .map_err(aws(&ctx.subject(), ctx.region, "ModifySubnetAttribute"))?;
    Ok(())
}

fn observe(region: &str, subnet: Subnet) -> Observed {
    let id = subnet.subnet_id.clone().unwrap_or_default();
    let tags = from_tags(subnet.tags());
    let status = match &subnet.state {
        Some(SubnetState::Available) => Status::Ready,
        Some(state @ (SubnetState::Failed | SubnetState::FailedInsufficientCapacity)) => {
            Status::Failed(state.as_str().to_owned())
        }
        Some(other) => Status::Pending(other.as_str().to_owned()),
        None => Status::Pending("unknown".to_owned()),
    };
    let arn = subnet
        .subnet_arn
        .clone()
        .unwrap_or_else(|| arn(region, subnet.owner_id.as_deref(), "subnet", &id));
    Observed {
        kind: Kind::Subnet,
        region: region.to_owned(),
        attrs: attr_map([
            ("vpc_id", opt_s(subnet.vpc_id)),
            ("cidr_block", opt_s(subnet.cidr_block)),
            ("availability_zone", opt_s(subnet.availability_zone)),
            (
                "map_public_ip_on_launch",
                subnet.map_public_ip_on_launch.map(Value::Bool),
            ),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([("id", Some(s(&id))), ("arn", Some(s(arn)))]),
        id,
        tags,
        status,
    }
}

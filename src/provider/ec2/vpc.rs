//! `vpc`: CreateVpc, ModifyVpcAttribute (one DNS attribute per call), ModifyVpcTenancy.

use aws_sdk_ec2::types::{
    AttributeBooleanValue, ResourceType, Tenancy, Vpc, VpcAttributeName, VpcState,
};

use super::{arn, create_once, from_tags, no_retries, sync_tags, tag_spec};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::{Ctx, Observed, Provider, ProviderError, Status, Subject, attr_map};
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["InvalidVpcID.NotFound"];

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    _hints: &crate::provider::Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let vpcs = list(p, region, Kind::Vpc).await?;
    let subject = Subject::Kind(Kind::Vpc);
    let mut out = Vec::with_capacity(vpcs.len());
    for vpc in vpcs {
        out.push(observe(p, &subject, region, vpc).await?);
    }
    Ok(out)
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    match describe(p, ctx, id).await? {
        Some(vpc) => Ok(Some(observe(p, &ctx.subject(), ctx.region, vpc).await?)),
        None => Ok(None),
    }
}

ec2_reads!(Vpc, describe_vpcs, vpc_ids, vpcs, "DescribeVpcs");

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let subject = ctx.subject();
    let client = p.clients.ec2(ctx.region);
    let cidr = d.req_str("cidr_block")?;
    let tenancy = d.str("instance_tenancy")?.map(Tenancy::from);
    let id = create_once(p, ctx, "CreateVpc", "vpc-", || async {
        let out = client
            .create_vpc()
            .cidr_block(cidr)
            .set_instance_tenancy(tenancy.clone())
            .tag_specifications(tag_spec(p, ctx, desired, ResourceType::Vpc))
            .customize()
            .config_override(no_retries())
            .send()
            .await?;
        Ok(out.vpc.and_then(|v| v.vpc_id))
    })
    .await?;
    set_dns(p, ctx, &id, &d, None).await?;
    read(p, ctx, &id)
        .await?
        .ok_or_else(|| ProviderError::Vanished {
            subject,
            region: ctx.region.to_owned(),
            id,
        })
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let client = p.clients.ec2(ctx.region);
    if let Some(tenancy) = d.str("instance_tenancy")?
        && prior.attrs.get("instance_tenancy").and_then(Value::as_str) != Some(tenancy)
    {
        // AWS only allows dedicated → default; anything else is refused by AWS with its own code.
        client
            .modify_vpc_tenancy()
            .vpc_id(&prior.id)
            .instance_tenancy(aws_sdk_ec2::types::VpcTenancy::from(tenancy))
            .send()
            .await
            .map_err(aws(&ctx.subject(), ctx.region, "ModifyVpcTenancy"))?;
    }
    set_dns(p, ctx, &prior.id, &d, Some(prior)).await?;
    sync_tags(p, ctx, &prior.id, &prior.tags, desired).await?;
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
    match p
        .clients
        .ec2(ctx.region)
        .delete_vpc()
        .vpc_id(&prior.id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => {
            let err = aws(&ctx.subject(), ctx.region, "DeleteVpc")(e);
            Err(super::blockers::explain(p, ctx, &prior.id, err, Some(&prior.id), None, None).await)
        }
    }
}

/// Sets the DNS attributes that are configured and differ from `prior` (every configured one on
/// create): AWS takes one attribute per ModifyVpcAttribute call.
async fn set_dns(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
    d: &Desired<'_>,
    prior: Option<&Observed>,
) -> Result<(), ProviderError> {
    let client = p.clients.ec2(ctx.region);
    for name in ["enable_dns_support", "enable_dns_hostnames"] {
        let Some(want) = d.bool(name)? else { continue };
        let have = prior
            .and_then(|o| o.attrs.get(name))
            .and_then(Value::as_bool);
        // A new VPC has support on and hostnames off; skip the call when that is what is wanted.
        let default = name == "enable_dns_support";
        if have.unwrap_or(default) == want && (prior.is_some() || want == default) {
            continue;
        }
        let value = AttributeBooleanValue::builder().value(want).build();
        let call = client.modify_vpc_attribute().vpc_id(id);
        let call = if name == "enable_dns_support" {
            call.enable_dns_support(value)
        } else {
            call.enable_dns_hostnames(value)
        };
        call.send()
            .await
            .map_err(aws(&ctx.subject(), ctx.region, "ModifyVpcAttribute"))?;
    }
    Ok(())
}

/// Turns a described VPC into an observed resource, reading its two DNS attributes (which
/// DescribeVpcs does not return).
async fn observe(
    p: &Provider,
    subject: &Subject,
    region: &str,
    vpc: Vpc,
) -> Result<Observed, ProviderError> {
    let id = vpc.vpc_id.clone().unwrap_or_default();
    let client = p.clients.ec2(region);
    let mut dns = [None, None];
    for (slot, attribute) in dns.iter_mut().zip([
        VpcAttributeName::EnableDnsSupport,
        VpcAttributeName::EnableDnsHostnames,
    ]) {
        let out = client
            .describe_vpc_attribute()
            .vpc_id(&id)
            .attribute(attribute.clone())
            .send()
            .await
            .map_err(aws(subject, region, "DescribeVpcAttribute"))?;
        let value = match attribute {
            VpcAttributeName::EnableDnsSupport => out.enable_dns_support,
            _ => out.enable_dns_hostnames,
        };
        *slot = value.and_then(|v| v.value).map(Value::Bool);
    }
    let [dns_support, dns_hostnames] = dns;
    let tags = from_tags(vpc.tags());
    let status = match vpc.state {
        Some(VpcState::Available) => Status::Ready,
        Some(other) => Status::Pending(other.as_str().to_owned()),
        None => Status::Pending("unknown".to_owned()),
    };
    Ok(Observed {
        kind: Kind::Vpc,
        region: region.to_owned(),
        attrs: attr_map([
            ("cidr_block", opt_s(vpc.cidr_block.clone())),
            ("enable_dns_support", dns_support),
            ("enable_dns_hostnames", dns_hostnames),
            (
                "instance_tenancy",
                opt_s(vpc.instance_tenancy.as_ref().map(|t| t.as_str().to_owned())),
            ),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([
            ("id", Some(s(&id))),
            (
                "arn",
                Some(s(arn(region, vpc.owner_id.as_deref(), "vpc", &id))),
            ),
        ]),
        id,
        tags,
        status,
    })
}

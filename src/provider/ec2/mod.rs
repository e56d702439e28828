//! EC2 networking: VPCs, subnets, internet and NAT gateways, route tables, security groups.
//!
//! Everything here is created with `TagSpecifications` carrying the identity tags, so refresh is
//! one `Describe*` per kind and region filtered by `tag:regionctl:stack`.

pub(super) mod internet_gateway;
pub(super) mod nat_gateway;
pub(super) mod route_table;
pub(super) mod security_group;
pub(super) mod subnet;
pub(super) mod vpc;

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};

use super::attrs::Attrs;
use super::error::aws;
use super::{Ctx, Observed, Provider, ProviderError};

/// The filter that selects this stack's resources.
pub(super) fn stack_filter(p: &Provider) -> Filter {
    Filter::builder()
        .name(format!("tag:{}", super::STACK_TAG))
        .values(p.stack.clone())
        .build()
}

/// The `TagSpecifications` entry for a new resource: the user's tags plus the identity tags.
pub(super) fn tag_spec(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
    resource_type: ResourceType,
) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource_type)
        .set_tags(Some(to_tags(&p.identity_tags(ctx.addr, desired))))
        .build()
}

pub(super) fn to_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub(super) fn from_tags(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

/// Makes the resource's user tags equal to the desired ones, leaving the `regionctl:*` tags
/// alone: `DeleteTags` for keys no longer wanted, `CreateTags` for new or changed values.
pub(super) async fn sync_tags(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
    prior: &BTreeMap<String, String>,
    desired: &Attrs,
) -> Result<(), ProviderError> {
    let changes = super::attrs::tag_changes(prior, desired);
    let client = p.clients.ec2(ctx.region);
    let subject = ctx.subject();
    if !changes.remove.is_empty() {
        let stale: Vec<Tag> = changes
            .remove
            .iter()
            .map(|k| Tag::builder().key(k).build())
            .collect();
        client
            .delete_tags()
            .resources(id)
            .set_tags(Some(stale))
            .send()
            .await
            .map_err(aws(&subject, ctx.region, "DeleteTags"))?;
    }
    if !changes.set.is_empty() {
        client
            .create_tags()
            .resources(id)
            .set_tags(Some(to_tags(&changes.set)))
            .send()
            .await
            .map_err(aws(&subject, ctx.region, "CreateTags"))?;
    }
    Ok(())
}

/// The ARN of an EC2 resource, e.g. `arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-0abc`.
pub(super) fn arn(region: &str, owner: Option<&str>, kind: &str, id: &str) -> String {
    format!(
        "arn:aws:ec2:{region}:{}:{kind}/{id}",
        owner.unwrap_or_default()
    )
}

/// The error for a resource that was just created or changed but cannot be read back.
pub(super) fn vanished(ctx: &Ctx<'_>, id: &str) -> ProviderError {
    ProviderError::Vanished {
        subject: ctx.subject(),
        region: ctx.region.to_owned(),
        id: id.to_owned(),
    }
}

/// Reads the resource back after a create or update, which must find it.
pub(super) async fn read_back(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Observed, ProviderError> {
    p.read(ctx, id).await?.ok_or_else(|| vanished(ctx, id))
}

/// Whether a desired list attribute is given at all: an absent list (routes, rules, associations)
/// is left as AWS has it, while an empty one is managed to be empty.
pub(super) fn is_set(desired: &Attrs, name: &str) -> bool {
    !matches!(
        desired.get(name),
        None | Some(crate::spec::value::Value::Null)
    )
}

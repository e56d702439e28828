//! RDS: DB subnet groups and DB instances (primaries and read replicas, possibly cross-region).
//!
//! Both are created with the identity tags (`Tags` at creation). DescribeDBInstances returns each
//! instance's `TagList` but cannot filter by tag, so an instance refresh is one paginated list
//! kept client-side to the stack's instances. DescribeDBSubnetGroups returns no tags at all (in
//! AWS as in moto), so a subnet group refresh lists the groups once and takes the tags only of
//! the groups the hints name: from the region's tag index (`provider::tag_index`, one
//! GetResources for the whole refresh), else ListTagsForResource.

pub(super) mod instance;
pub(super) mod subnet_group;

use std::collections::BTreeMap;

use aws_sdk_rds::types::Tag;

use super::error::{aws, has_code};
use super::{Ctx, Observed, Provider, ProviderError, STACK_TAG, Subject};

fn to_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn from_tags(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

fn in_stack(p: &Provider, tags: &BTreeMap<String, String>) -> bool {
    p.keeps(tags.get(STACK_TAG))
}

/// The tags of one resource by ARN; `None` when the resource is gone (`not_found` codes).
async fn list_tags(
    p: &Provider,
    subject: &Subject,
    region: &str,
    arn: &str,
    not_found: &[&str],
) -> Result<Option<BTreeMap<String, String>>, ProviderError> {
    let answer = p
        .clients
        .rds(region)
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await;
    match answer {
        Ok(out) => Ok(Some(from_tags(out.tag_list()))),
        Err(e) if has_code(&e, not_found) => Ok(None),
        Err(e) => Err(aws(subject, region, "ListTagsForResource")(e)),
    }
}

arn_tag_sync!(rds);

/// The ARN of the resource, as recorded in its computed attributes.
fn arn_of<'a>(ctx: &Ctx<'_>, prior: &'a Observed) -> Result<&'a str, ProviderError> {
    prior
        .computed
        .get("arn")
        .and_then(crate::spec::value::Value::as_str)
        .ok_or_else(|| ProviderError::invalid(ctx, format!("{} has no recorded ARN", prior.id)))
}

/// Whether a resource that already exists (a retried create after a lost answer) is the one this
/// create was for: it carries this stack's and this address's identity tags.
fn is_ours(p: &Provider, ctx: &Ctx<'_>, found: &Observed) -> bool {
    in_stack(p, &found.tags) && found.address_tag() == Some(ctx.addr.to_string().as_str())
}

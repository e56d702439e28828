//! ElastiCache: cache subnet groups and (cluster-mode-disabled) replication groups.
//!
//! Neither DescribeCacheSubnetGroups nor DescribeReplicationGroups returns tags or filters by
//! them, so a refresh lists every group of the region (one paginated call) and takes the tags
//! only of the candidates (from the region's tag index, `provider::tag_index`, else
//! ListTagsForResource, one call each): the groups whose name is in the
//! refresh hints (the natural names the spec asks for and the ids recorded in state). A group of
//! this stack that is in neither — created by an apply whose state was lost and since removed
//! from the spec — is not found; reading every group's tags instead would cost one request per
//! cache in the region on every plan.

pub(super) mod replication_group;
pub(super) mod subnet_group;

use std::collections::BTreeMap;

use aws_sdk_elasticache::types::Tag;

use super::error::{aws, has_code};
use super::{Ctx, Hints, Observed, Provider, ProviderError, Subject};

/// What regionctl writes where a description is optional in the spec but required by AWS.
use crate::spec::schema::types::DEFAULT_DESCRIPTION;

/// Whether a refresh reads this group's tags: see the module documentation.
fn is_candidate(hints: &Hints, name: &str) -> bool {
    hints.names.contains(name) || hints.ids.contains(name)
}

fn to_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The tags of the resource named by `arn`; `None` when it no longer exists (`not_found` codes).
async fn list_tags(
    p: &Provider,
    subject: &Subject,
    region: &str,
    arn: &str,
    not_found: &[&str],
) -> Result<Option<BTreeMap<String, String>>, ProviderError> {
    let answer = p
        .clients
        .elasticache(region)
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await;
    match answer {
        Ok(out) => Ok(Some(
            out.tag_list()
                .iter()
                .filter_map(|t| {
                    Some((
                        t.key()?.to_owned(),
                        t.value().unwrap_or_default().to_owned(),
                    ))
                })
                .collect(),
        )),
        Err(e) if has_code(&e, not_found) => Ok(None),
        Err(e) => Err(aws(subject, region, "ListTagsForResource")(e)),
    }
}

arn_tag_sync!(elasticache);

/// Whether an existing resource is the one this address created: for create calls that take no
/// idempotency token, so a create retried after an interrupted apply adopts what it made.
fn is_ours(p: &Provider, ctx: &Ctx<'_>, o: &Observed) -> bool {
    o.stack_tag() == Some(p.stack.as_str())
        && o.address_tag() == Some(ctx.addr.to_string().as_str())
}

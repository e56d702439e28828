//! The tags of a region's RDS DB subnet groups, ElastiCache cache subnet groups and replication
//! groups, CloudWatch Logs groups, CloudWatch alarms, SNS topics and KMS keys, read for a whole
//! refresh batch in one paginated Resource Groups Tagging API `GetResources` per region,
//! instead of one `ListTagsForResource` (`ListResourceTags`) per resource: their describe calls
//! return no tags, and those per-resource reads were a third of a large plan's requests.
//! The same answer lists the stack's EKS clusters and node groups, which spares the cluster
//! refresh the region's ListClusters (and a DescribeCluster of every other stack's cluster), and
//! the node group refresh one ListNodegroups per cluster, when each already knows every cluster
//! or node group it is asked about.
//!
//! The answer is filtered to this stack (`regionctl:stack`), by the resource types of the
//! kinds' ARNs ([`RESOURCE_TYPES`]).
//!
//! The tagging index is eventually consistent: a resource just created, or just retagged, may be
//! missing from the answer or carry its old tags for a while. So the index is only ever a
//! shortcut, and only inside one refresh batch ([`super::memo::Memo`] on):
//! - a resource the kind's own listing returns and the refresh wants (named by the spec or the
//!   state) but the index lacks is read with its own `ListTagsForResource`, as before. That
//!   covers a resource an interrupted apply created moments ago and never recorded, whose
//!   identity tags must be seen for it to be adopted rather than created twice, and a resource of
//!   the same name that belongs to someone else;
//! - everything outside a refresh batch (`read`, the waits, `find` after a lost answer) reads the
//!   resource's own tags, never the index;
//! - the cluster and node group refreshes take their lists from the index only when every
//!   cluster (node group) the spec names or the state records is in it; one missing (not made
//!   yet, or made moments ago) sends the refresh down the full path, ListClusters
//!   (ListNodegroups of every cluster of the stack). When the state records every one, they
//!   are described while the index is read, not after it (its pages are slow in a large
//!   region), and the index then only adds a stray of the stack that nothing records;
//! - what the index can still get wrong is a tag changed in the last moments (a plan may show a
//!   tag change already made, or miss one made seconds ago): the user tags of these kinds
//!   only, and the next plan sees it. Identity tags do not change once written.
//!
//! A role without `tag:GetResources` (a CI policy written before regionctl used it) is not an
//! error: the refresh warns once per region and reads each resource's tags as before.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;

use aws_sdk_resourcegroupstagging::types::TagFilter;

use super::error::{aws, has_code};
use super::{Provider, ProviderError, STACK_TAG, Subject};

/// The resource types asked for: the `service:type` of each kind's ARN
/// (`arn:aws:rds:REGION:ACCOUNT:subgrp:NAME`,
/// `arn:aws:eks:REGION:ACCOUNT:nodegroup/CLUSTER/NAME/UUID` and so on).
pub(in crate::provider) const RESOURCE_TYPES: [&str; 9] = [
    "rds:subgrp",
    "elasticache:subnetgroup",
    "elasticache:replicationgroup",
    "eks:cluster",
    "eks:nodegroup",
    "logs:log-group",
    "cloudwatch:alarm",
    "kms:key",
    // A topic's ARN has no resource type (`arn:aws:sns:REGION:ACCOUNT:NAME`): the service is
    // the filter.
    "sns",
];

/// The codes of a caller not allowed to use the tagging API.
const DENIED: &[&str] = super::error::ACCESS_DENIED;

/// This stack's tagged resources of [`RESOURCE_TYPES`] in one region, by ARN.
#[derive(Debug, Default)]
pub(in crate::provider) struct TagIndex {
    by_arn: HashMap<String, BTreeMap<String, String>>,
    /// The caller may not read the index: it is empty, and says nothing of what exists.
    denied: bool,
}

impl TagIndex {
    fn tags(&self, arn: &str) -> Option<&BTreeMap<String, String>> {
        // CloudWatch Logs names a group by two ARNs, with and without a trailing `:*`.
        self.by_arn.get(arn).or_else(|| {
            self.by_arn
                .get(arn.strip_suffix(":*").unwrap_or(arn))
                .or_else(|| self.by_arn.get(&format!("{arn}:*")))
        })
    }
}

/// The cluster and name of a node group ARN (`arn:aws:eks:R:A:nodegroup/CLUSTER/NAME/UUID`).
fn node_group_of(arn: &str) -> Option<(String, String)> {
    let (_, rest) = arn.split_once(":nodegroup/")?;
    let mut parts = rest.split('/');
    Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
}

/// The name of a cluster ARN (`arn:aws:eks:R:A:cluster/NAME`).
fn cluster_of(arn: &str) -> Option<String> {
    let (_, name) = arn.split_once(":cluster/")?;
    Some(name.to_owned())
}

/// This stack's EKS clusters in `region` as the index lists them; `None` outside a refresh batch
/// or when the index may not be read.
pub(in crate::provider) async fn clusters(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<Option<BTreeSet<String>>, ProviderError> {
    listed(p, subject, region, cluster_of).await
}

/// This stack's EKS node groups in `region` as the index lists them, `(cluster, name)`; `None`
/// outside a refresh batch or when the index may not be read.
pub(in crate::provider) async fn node_groups(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<Option<BTreeSet<(String, String)>>, ProviderError> {
    listed(p, subject, region, node_group_of).await
}

/// This stack's KMS keys in `region` as the index lists them, by key id; `None` outside a
/// refresh batch or when the index may not be read.
pub(in crate::provider) async fn kms_keys(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<Option<BTreeSet<String>>, ProviderError> {
    listed(p, subject, region, |arn| {
        arn.split_once(":key/").map(|(_, id)| id.to_owned())
    })
    .await
}

/// This stack's SNS topics in `region` as the index lists them, by ARN; `None` outside a refresh
/// batch or when the index may not be read.
pub(in crate::provider) async fn sns_topics(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<Option<BTreeSet<String>>, ProviderError> {
    listed(p, subject, region, |arn| {
        (arn.split(':').nth(2) == Some("sns")).then(|| arn.to_owned())
    })
    .await
}

/// What `pick` makes of the ARNs of the region's index that it recognises; `None` outside a
/// refresh batch or when the index may not be read (then it says nothing of what exists).
async fn listed<T: Ord>(
    p: &Provider,
    subject: &Subject,
    region: &str,
    pick: impl Fn(&str) -> Option<T>,
) -> Result<Option<BTreeSet<T>>, ProviderError> {
    if !p.memo.is_on() {
        return Ok(None);
    }
    let index = shared(p, subject, region).await?;
    if index.denied {
        return Ok(None);
    }
    Ok(Some(index.by_arn.keys().filter_map(|a| pick(a)).collect()))
}

/// The region's index, read once per refresh batch.
async fn shared(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<std::sync::Arc<TagIndex>, ProviderError> {
    p.memo
        .get_or_read("tag_index", region, || read(p, subject, region))
        .await
}

/// The tags of the resource `arn` in `region`: from the region's index when this is a refresh
/// batch and the index holds it, otherwise from `own` (the resource's own ListTagsForResource,
/// `None` when it is gone).
pub(in crate::provider) async fn tags_or<F, Fut>(
    p: &Provider,
    subject: &Subject,
    region: &str,
    arn: &str,
    own: F,
) -> Result<Option<BTreeMap<String, String>>, ProviderError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Option<BTreeMap<String, String>>, ProviderError>>,
{
    if p.memo.is_on() {
        let index = shared(p, subject, region).await?;
        if let Some(tags) = index.tags(arn) {
            return Ok(Some(tags.clone()));
        }
    }
    own().await
}

/// One paginated GetResources (100 resources a page) of this stack's resources of the three
/// types in `region`.
async fn read(p: &Provider, subject: &Subject, region: &str) -> Result<TagIndex, ProviderError> {
    let answer = p
        .clients
        .tagging(region)
        .get_resources()
        .set_resource_type_filters(Some(RESOURCE_TYPES.map(str::to_owned).to_vec()))
        .tag_filters(
            TagFilter::builder()
                .key(STACK_TAG)
                .values(p.stack.clone())
                .build(),
        )
        .resources_per_page(100)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await;
    let mappings = match answer {
        Ok(mappings) => mappings,
        Err(e) if has_code(&e, DENIED) => {
            tracing::warn!(
                %region,
                "tag:GetResources is not allowed; reading the tags of each RDS and ElastiCache \
                 subnet group and replication group, log group, alarm, SNS topic and KMS key \
                 instead (one request each), and listing the EKS clusters and the node groups \
                 of each"
            );
            return Ok(TagIndex {
                by_arn: HashMap::new(),
                denied: true,
            });
        }
        Err(e) => return Err(aws(subject, region, "GetResources")(e)),
    };
    let by_arn = mappings
        .into_iter()
        .filter_map(|m| {
            let tags = m
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect();
            Some((m.resource_arn?, tags))
        })
        .collect();
    Ok(TagIndex {
        by_arn,
        denied: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_group_arns_name_their_cluster_and_group() {
        assert_eq!(
            node_group_of("arn:aws:eks:eu-west-1:123456789012:nodegroup/prod-euw1/default/4ec5"),
            Some(("prod-euw1".to_owned(), "default".to_owned()))
        );
        assert_eq!(
            node_group_of("arn:aws:rds:eu-west-1:123456789012:subgrp:app-db"),
            None
        );
        assert_eq!(
            cluster_of("arn:aws:eks:eu-west-1:123456789012:cluster/prod-euw1").as_deref(),
            Some("prod-euw1")
        );
        assert_eq!(
            cluster_of("arn:aws:eks:eu-west-1:123456789012:nodegroup/prod-euw1/default/4ec5"),
            None
        );
    }
}

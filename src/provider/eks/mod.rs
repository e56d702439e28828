//! EKS: clusters and managed node groups.
//!
//! Neither ListClusters nor ListNodegroups can filter by tag or return tags, so a refresh lists
//! the region's clusters and describes each (DescribeCluster returns the tags), then lists and
//! describes the node groups of the stack's clusters. Within one refresh the region's clusters
//! are listed and described once, whichever EKS kinds ask for them (the provider's memo); when
//! the region's tag index (`provider::tag_index`) already lists every cluster or node group a
//! refresh asks about, its list of the stack's clusters and node groups replaces ListClusters
//! and ListNodegroups.
//!
//! EKS runs one update at a time per cluster or node group and refuses a second while one is in
//! progress, so when one apply needs several (a version upgrade and a logging change), each
//! update after the first waits on DescribeUpdate for the previous one; the last one is left for
//! `wait_ready`.

pub(super) mod access_entry;
pub(super) mod addon;
pub(super) mod cluster;
pub(super) mod node_group;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use aws_sdk_eks::types::{Cluster, UpdateStatus};

use super::attrs::Attrs;
use super::error::{aws, has_code};
use super::{Ctx, Hints, Provider, ProviderError, Status, Subject, kind_timing};

const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

/// The clusters a refresh of add-ons or access entries lists (`ListAddons`,
/// `ListAccessEntries`): those a declaration the state does not record names, and, when that is
/// not known (`Hints::unrecorded` is `None`), the clusters of the recorded ids too (`split` an
/// id into cluster and name). What the state records is otherwise read by id
/// ([`recorded_outside`]).
fn searched_clusters<'h>(
    hints: &'h Hints,
    split: impl Fn(&'h str) -> Option<(&'h str, &'h str)>,
) -> BTreeSet<String> {
    let mut clusters: BTreeSet<String> = hints
        .names
        .iter()
        .filter(|n| hints.needs_search(n))
        .cloned()
        .collect();
    if hints.unrecorded.is_none() {
        clusters.extend(
            hints
                .ids
                .iter()
                .filter_map(|i| split(i))
                .map(|(c, _)| c.to_owned()),
        );
    }
    clusters
}

/// The recorded ids, as `(cluster, name)`, whose clusters the refresh does not list
/// (`searched`): each is read by id alone. Without the state's knowledge every recorded id's
/// cluster is searched ([`searched_clusters`]), so there are none.
fn recorded_outside<'h>(
    hints: &'h Hints,
    searched: &BTreeSet<String>,
    split: impl Fn(&'h str) -> Option<(&'h str, &'h str)>,
) -> Vec<(&'h str, &'h str)> {
    hints
        .ids
        .iter()
        .filter_map(|i| split(i))
        .filter(|(c, _)| !searched.contains(*c))
        .collect()
}

/// Runs `read` for every item at once, each in its own task, for reads that depend on nothing
/// but their id: one after another, each waits for the previous answer, which on a busy
/// endpoint is slower than the (service, region) rate limit that still paces them all.
async fn all_at_once<T, F, Fut>(
    p: &Provider,
    items: impl IntoIterator<Item = T>,
    read: F,
) -> Result<(), ProviderError>
where
    F: Fn(Provider, T) -> Fut,
    Fut: std::future::Future<Output = Result<(), ProviderError>> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for item in items {
        set.spawn(read(p.clone(), item));
    }
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(result) => result?,
            // A panicking read is a bug; re-raise it rather than report a partial view.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => {}
        }
    }
    Ok(())
}

/// What the region's tag index lists (`index`), with the ids the state records described by
/// `describe` at the same time rather than after, when the state records everything the refresh
/// wants (`Hints::only_recorded`): in a large region the index's pages take seconds.
/// `describe` goes through the memo, where the refresh then finds its answers.
async fn index_while_describing<T, F, Fut>(
    p: &Provider,
    hints: &Hints,
    index: impl std::future::Future<Output = Result<Option<T>, ProviderError>>,
    describe: F,
) -> Result<Option<T>, ProviderError>
where
    F: Fn(Provider, String) -> Fut,
    Fut: std::future::Future<Output = Result<(), ProviderError>> + Send + 'static,
{
    if !(hints.only_recorded() && p.memo.is_on()) {
        return index.await;
    }
    let recorded = all_at_once(p, hints.ids.iter().cloned(), describe);
    let (recorded, indexed) = tokio::join!(recorded, index);
    recorded?;
    indexed
}

/// Every cluster name in the region (ListClusters, 100 per page), listed once per refresh.
async fn cluster_names(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<Vec<String>, ProviderError> {
    let names = p
        .memo
        .get_or_read("eks:ListClusters", region, || {
            list_cluster_names(p, subject, region)
        })
        .await?;
    Ok(names.as_ref().clone())
}

async fn list_cluster_names(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<Vec<String>, ProviderError> {
    p.clients
        .eks(region)
        .list_clusters()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(aws(subject, region, "ListClusters"))
}

/// One cluster, `None` if it does not exist.
async fn describe_cluster(
    p: &Provider,
    subject: &Subject,
    region: &str,
    name: &str,
) -> Result<Option<Cluster>, ProviderError> {
    match p
        .clients
        .eks(region)
        .describe_cluster()
        .name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out.cluster),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(None),
        Err(e) => Err(aws(subject, region, "DescribeCluster")(e)),
    }
}

/// One cluster, described once per refresh batch however many kinds ask for it (the cluster
/// refresh from the tag index, the node group refresh from ListClusters); `None` if it does not
/// exist.
async fn describe_cluster_once(
    p: &Provider,
    subject: &Subject,
    region: &str,
    name: &str,
) -> Result<Option<Cluster>, ProviderError> {
    let cluster = p
        .memo
        .get_or_read("eks:DescribeCluster", &format!("{region}/{name}"), || {
            describe_cluster(p, subject, region, name)
        })
        .await?;
    Ok(cluster.as_ref().clone())
}

/// The region's clusters tagged with this stack: one ListClusters page per 100 clusters and one
/// DescribeCluster per cluster, once per refresh however many EKS kinds ask.
async fn stack_clusters(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<Vec<Cluster>, ProviderError> {
    let clusters = p
        .memo
        .get_or_read("eks:stack clusters", region, || {
            describe_stack_clusters(p, subject, region)
        })
        .await?;
    Ok(clusters.as_ref().clone())
}

async fn describe_stack_clusters(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<Vec<Cluster>, ProviderError> {
    let mut out = Vec::new();
    for name in cluster_names(p, subject, region).await? {
        // A cluster deleted between the list and the describe is simply not there.
        if let Some(cluster) = describe_cluster_once(p, subject, region, &name).await?
            && is_ours(p, cluster.tags.as_ref())
        {
            out.push(cluster);
        }
    }
    Ok(out)
}

fn is_ours(p: &Provider, tags: Option<&HashMap<String, String>>) -> bool {
    p.keeps(tags.and_then(|t| t.get(super::STACK_TAG)))
}

fn tag_map(tags: Option<HashMap<String, String>>) -> BTreeMap<String, String> {
    tags.unwrap_or_default().into_iter().collect()
}

/// An EKS status word (`ACTIVE`, `CREATING`, `CREATE_FAILED` ...) as a [`Status`].
fn status(word: Option<&str>) -> Status {
    let word = word.unwrap_or("UNKNOWN").to_owned();
    match word.as_str() {
        "ACTIVE" => Status::Ready,
        "DELETING" => Status::Deleting(word),
        // A degraded node group needs the user's attention before it can be relied on.
        "FAILED" | "CREATE_FAILED" | "DELETE_FAILED" | "DEGRADED" => Status::Failed(word),
        _ => Status::Pending(word),
    }
}

/// Makes the resource's user tags equal to the desired ones, leaving the `regionctl:*` tags
/// alone: UntagResource for keys no longer wanted, TagResource for new or changed values.
async fn sync_tags(
    p: &Provider,
    ctx: &Ctx<'_>,
    arn: &str,
    prior: &BTreeMap<String, String>,
    desired: &Attrs,
) -> Result<(), ProviderError> {
    let client = p.clients.eks(ctx.region);
    let subject = ctx.subject();
    crate::provider::attrs::sync_tags_with(
        crate::provider::attrs::tag_changes_with_identity(p, ctx, prior, desired),
        async |keys| {
            client
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map(drop)
                .map_err(aws(&subject, ctx.region, "UntagResource"))
        },
        async |tags| {
            let changed: HashMap<String, String> = tags.into_iter().collect();
            client
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(changed))
                .send()
                .await
                .map(drop)
                .map_err(aws(&subject, ctx.region, "TagResource"))
        },
    )
    .await
}

/// Waits until an update of a cluster (or of one of its node groups) is no longer in progress,
/// failing with AWS's reasons when it failed or was cancelled. Polls like `wait_ready`.
async fn await_update(
    p: &Provider,
    ctx: &Ctx<'_>,
    cluster: &str,
    nodegroup: Option<&str>,
    update_id: &str,
) -> Result<(), ProviderError> {
    let (first, longest, limit) = kind_timing(ctx.kind);
    let (mut delay, longest) = match p.wait.fixed_delay {
        Some(d) => (d, d),
        None => (first, longest),
    };
    let limit = limit.mul_f64(p.wait.limit_factor.max(0.0));
    let started = Instant::now();
    let subject = ctx.subject();
    loop {
        let update = p
            .clients
            .eks(ctx.region)
            .describe_update()
            .name(cluster)
            .set_nodegroup_name(nodegroup.map(str::to_owned))
            .update_id(update_id)
            .send()
            .await
            .map_err(aws(&subject, ctx.region, "DescribeUpdate"))?
            .update;
        let word = update
            .as_ref()
            .and_then(|u| u.status.as_ref())
            .map_or("unknown", UpdateStatus::as_str)
            .to_owned();
        match word.as_str() {
            "Successful" => return Ok(()),
            "Failed" | "Cancelled" => {
                let reasons: Vec<String> = update
                    .iter()
                    .flat_map(|u| u.errors())
                    .map(|e| {
                        format!(
                            "{}: {}",
                            e.error_code.as_ref().map_or("error", |c| c.as_str()),
                            e.error_message.as_deref().unwrap_or_default()
                        )
                    })
                    .collect();
                return Err(ProviderError::Failed {
                    subject,
                    region: ctx.region.to_owned(),
                    status: format!("update {update_id} {word} ({})", reasons.join("; ")),
                });
            }
            _ => {}
        }
        let waited = started.elapsed();
        if waited + delay > limit {
            return Err(ProviderError::Timeout {
                subject,
                region: ctx.region.to_owned(),
                kind: ctx.kind,
                status: format!("update {update_id} {word}"),
                waited,
            });
        }
        tracing::info!(address = %ctx.addr, region = ctx.region, update = update_id, %word, "waiting for the previous update");
        if crate::provider::wait::pause(delay).await.is_err() {
            return Err(ProviderError::Abandoned {
                subject,
                region: ctx.region.to_owned(),
            });
        }
        delay = (delay * 2).min(longest);
    }
}

/// Runs updates one after the other, each after the previous one finished.
struct Sequence<'a> {
    cluster: &'a str,
    nodegroup: Option<&'a str>,
    previous: Option<String>,
}

impl<'a> Sequence<'a> {
    fn new(cluster: &'a str, nodegroup: Option<&'a str>) -> Self {
        Sequence {
            cluster,
            nodegroup,
            previous: None,
        }
    }

    /// Waits for the previous update, if any, before the next one is sent.
    async fn ready(&self, p: &Provider, ctx: &Ctx<'_>) -> Result<(), ProviderError> {
        match &self.previous {
            Some(id) => await_update(p, ctx, self.cluster, self.nodegroup, id).await,
            None => Ok(()),
        }
    }

    fn started(
        &mut self,
        ctx: &Ctx<'_>,
        update: Option<aws_sdk_eks::types::Update>,
        op: &str,
    ) -> Result<(), ProviderError> {
        let id = update.and_then(|u| u.id).ok_or_else(|| {
            ProviderError::invalid(ctx, format!("{op} answered without an update id"))
        })?;
        self.previous = Some(id);
        Ok(())
    }
}

/// A sorted set of strings from an attribute value (absent is empty).
fn string_set(value: Option<&crate::spec::value::Value>) -> BTreeSet<String> {
    match value {
        Some(crate::spec::value::Value::List(items)) => items
            .iter()
            .filter_map(crate::spec::value::Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => BTreeSet::new(),
    }
}

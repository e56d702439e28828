//! Route 53 (global, reached through us-east-1): hosted zones, health checks and record sets.
//!
//! Zones and health checks cannot be tagged by their create call, so they are created with the
//! plan's idempotency token as `CallerReference` and tagged by the next call. If an apply stops
//! between the two, the retried create finds the resource again through that reference (a zone by
//! `HostedZoneAlreadyExists` and a look-up of the reference in `ListHostedZones`, a health check
//! because Route 53 answers a repeated reference with the existing check) and tags it then.
//! Records cannot be tagged at all: they are listed within the stack's zones.
//!
//! Route 53 applies a change at once but answers `PENDING` until every name server has it.
//! The change id is not a property of the zone or record, so the ids of changes not yet seen
//! `INSYNC` are remembered here (per endpoint and resource id) and each read asks `GetChange`
//! about them: a read reports the resource Pending until its last change is in sync, which is how
//! `wait_ready` waits for propagation.

pub(super) mod health_check;
pub(super) mod record;
pub(super) mod zone;

use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, Mutex, PoisonError};

use aws_sdk_route53::types::{ChangeInfo, ChangeStatus, Tag, TagResourceType};

use super::attrs::Attrs;
use super::error::{aws, has_code};
use super::{Ctx, Provider, ProviderError, Status, Subject};

pub(crate) use crate::spec::schema::compare::dns_name;

/// Builder errors of SDK types (a required member unset) mean a bug here, not bad input.
pub(super) fn built<T>(
    ctx: &Ctx<'_>,
    what: &str,
    result: Result<T, aws_smithy_types::error::operation::BuildError>,
) -> Result<T, ProviderError> {
    result.map_err(|e| ProviderError::invalid(ctx, format!("cannot build the {what}: {e}")))
}

// ---------------------------------------------------------------------------------------------
// Tags: zones and health checks are tagged by ChangeTagsForResource (at most 10 keys added and
// 10 removed per call) and listed by ListTagsForResources (at most 10 resources per call).

const TAG_BATCH: usize = 10;

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

/// The tags of many resources of one type, in batches of ten ids per request.
pub(super) async fn list_tags(
    p: &Provider,
    subject: &Subject,
    region: &str,
    resource_type: TagResourceType,
    ids: &[String],
) -> Result<HashMap<String, BTreeMap<String, String>>, ProviderError> {
    let client = p.clients.route53(region);
    let mut out = HashMap::with_capacity(ids.len());
    for batch in ids.chunks(TAG_BATCH) {
        let answer = client
            .list_tags_for_resources()
            .resource_type(resource_type.clone())
            .set_resource_ids(Some(batch.to_vec()))
            .send()
            .await
            .map_err(aws(subject, region, "ListTagsForResources"))?;
        for set in answer.resource_tag_sets {
            if let Some(id) = set.resource_id {
                out.insert(id, from_tags(set.tags.as_deref().unwrap_or_default()));
            }
        }
    }
    Ok(out)
}

/// The tags of one resource, or `None` if it does not exist (one of `not_found` answered).
pub(super) async fn tags_of(
    p: &Provider,
    subject: &Subject,
    region: &str,
    resource_type: TagResourceType,
    id: &str,
    not_found: &[&str],
) -> Result<Option<BTreeMap<String, String>>, ProviderError> {
    let answer = p
        .clients
        .route53(region)
        .list_tags_for_resource()
        .resource_type(resource_type)
        .resource_id(id)
        .send()
        .await;
    match answer {
        Ok(out) => Ok(Some(
            out.resource_tag_set
                .and_then(|s| s.tags)
                .map(|t| from_tags(&t))
                .unwrap_or_default(),
        )),
        Err(e) if has_code(&e, not_found) => Ok(None),
        Err(e) => Err(aws(subject, region, "ListTagsForResource")(e)),
    }
}

/// Adds (or overwrites) `add` and removes `remove`, ten of each per request.
async fn change_tags(
    p: &Provider,
    ctx: &Ctx<'_>,
    resource_type: TagResourceType,
    id: &str,
    add: &BTreeMap<String, String>,
    remove: &[String],
) -> Result<(), ProviderError> {
    let client = p.clients.route53(ctx.region);
    let add: Vec<Tag> = add
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    let rounds = add
        .len()
        .div_ceil(TAG_BATCH)
        .max(remove.len().div_ceil(TAG_BATCH));
    for round in 0..rounds {
        let part = |len: usize| (round * TAG_BATCH).min(len)..((round + 1) * TAG_BATCH).min(len);
        let adding = &add[part(add.len())];
        let removing = &remove[part(remove.len())];
        client
            .change_tags_for_resource()
            .resource_type(resource_type.clone())
            .resource_id(id)
            .set_add_tags((!adding.is_empty()).then(|| adding.to_vec()))
            .set_remove_tag_keys((!removing.is_empty()).then(|| removing.to_vec()))
            .send()
            .await
            .map_err(aws(&ctx.subject(), ctx.region, "ChangeTagsForResource"))?;
    }
    Ok(())
}

/// Tags a new resource with the user's tags and regionctl's identity tags.
pub(super) async fn tag_new(
    p: &Provider,
    ctx: &Ctx<'_>,
    resource_type: TagResourceType,
    id: &str,
    desired: &Attrs,
) -> Result<(), ProviderError> {
    let tags = p.identity_tags(ctx.addr, desired);
    change_tags(p, ctx, resource_type, id, &tags, &[]).await
}

/// Makes the user tags equal to the desired ones, and adds the identity tags if they are
/// missing (a zone or health check adopted after a run stopped between creating and tagging it);
/// other `regionctl:*` tags are left alone.
pub(super) async fn sync_tags(
    p: &Provider,
    ctx: &Ctx<'_>,
    resource_type: TagResourceType,
    id: &str,
    prior: &BTreeMap<String, String>,
    desired: &Attrs,
) -> Result<(), ProviderError> {
    let mut changes = super::attrs::tag_changes(prior, desired);
    let address = ctx.addr.to_string();
    for (key, value) in [(super::STACK_TAG, &p.stack), (super::ADDRESS_TAG, &address)] {
        if prior.get(key) != Some(value) {
            changes.set.insert(key.to_owned(), value.clone());
        }
    }
    if changes.remove.is_empty() && changes.set.is_empty() {
        return Ok(());
    }
    change_tags(p, ctx, resource_type, id, &changes.set, &changes.remove).await
}

// ---------------------------------------------------------------------------------------------
// Changes not yet in sync.

/// Change ids by `endpoint|resource id`: the endpoint keeps providers of different emulators (or
/// partitions) apart within one process.
static PENDING: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Mutex::default);

fn pending_key(p: &Provider, id: &str) -> String {
    format!("{}|{id}", p.clients.endpoint_url().unwrap_or_default())
}

/// Remembers the change just made to resource `id`, unless it is already in sync; returns the
/// status the resource has meanwhile.
pub(super) fn remember_change(p: &Provider, id: &str, change: Option<&ChangeInfo>) -> Status {
    let mut pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
    match change {
        Some(info) if info.status != ChangeStatus::Insync => {
            pending.insert(pending_key(p, id), info.id.clone());
            Status::Pending(info.status.as_str().to_owned())
        }
        _ => {
            pending.remove(&pending_key(p, id));
            Status::Ready
        }
    }
}

/// Forgets the pending change of a resource that no longer exists.
pub(super) fn forget_change(p: &Provider, id: &str) {
    PENDING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&pending_key(p, id));
}

/// The status of resource `id`: Pending while the last change made to it here is not in sync.
pub(super) async fn change_status(
    p: &Provider,
    subject: &Subject,
    region: &str,
    id: &str,
) -> Result<Status, ProviderError> {
    let key = pending_key(p, id);
    let change = PENDING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
        .cloned();
    let Some(change_id) = change else {
        return Ok(Status::Ready);
    };
    let answer = p
        .clients
        .route53(region)
        .get_change()
        .id(&change_id)
        .send()
        .await;
    let info = match answer {
        Ok(out) => out.change_info,
        // Route 53 keeps changes for a limited time; a forgotten change is long in sync.
        Err(e) if has_code(&e, &["NoSuchChange"]) => None,
        Err(e) => return Err(aws(subject, region, "GetChange")(e)),
    };
    let mut pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
    match info {
        Some(info) if info.status != ChangeStatus::Insync => {
            Ok(Status::Pending(info.status.as_str().to_owned()))
        }
        _ => {
            // Only forget the change asked about: another one may have been made meanwhile.
            if pending.get(&key) == Some(&change_id) {
                pending.remove(&key);
            }
            Ok(Status::Ready)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::dns_name;

    #[test]
    fn names_are_compared_as_the_spec_writes_them() {
        assert_eq!(dns_name("example.com."), "example.com");
        assert_eq!(dns_name("API.Example.com"), "api.example.com");
        assert_eq!(dns_name("\\052.example.com."), "*.example.com");
        assert_eq!(dns_name("a\\\\b."), "a\\\\b");
        assert_eq!(dns_name("\\05"), "\\05");
    }
}

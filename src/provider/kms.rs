//! `kms_key` and `kms_alias` (regional).
//!
//! A key: CreateKey (symmetric, with the identity tags and the policy), EnableKeyRotation /
//! DisableKeyRotation, PutKeyPolicy, UpdateKeyDescription, TagResource / UntagResource; delete is
//! ScheduleKeyDeletion with the configured window. The id is the key id. A key pending deletion
//! counts as gone: it cannot be used, and only CancelKeyDeletion (outside regionctl) brings it
//! back.
//!
//! KMS has no call that lists keys with their tags, filters keys by tag, or describes several
//! keys at once, and CreateKey takes no idempotency token. A refresh therefore makes one ListKeys
//! and one ListAliases per region (the aliases show which keys AWS manages: `alias/aws/*`), then
//! reads the tags of each remaining key (ListResourceTags), and for this stack's keys
//! DescribeKey, GetKeyRotationStatus and GetKeyPolicy. Reading the tags of every customer
//! managed key is what lets a key made by an apply that stopped before recording it be found
//! again (there is no name to look for); it costs one request per customer managed key of the
//! region (in a plan's batch the region's tag index has this stack's keys' tags). When the state
//! records every key declared and the plan's batch has the region's tag index, the keys the state
//! records and those the index lists as this stack's are read by id (DescribeKey, which gives the
//! ARN the index is keyed by, then the rotation and the policy), and the region's keys are not
//! listed.
//!
//! An alias: CreateAlias, UpdateAlias (re-pointing it in place), DeleteAlias. Aliases take no
//! tags; the id is the alias name, and a refresh is one ListAliases per region, keeping the
//! aliases the hints name.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_kms::types::{AliasListEntry, KeyMetadata, KeyState, KeyUsageType, Tag};

use super::attrs::{Attrs, Desired, opt_s, s, user_tags};
use super::error::{aws, has_code};
use super::{Ctx, Hints, Observed, Provider, ProviderError, STACK_TAG, Status, Subject, attr_map};
use crate::kind::Kind;
use crate::spec::schema::compare::{AttrCmp, compare};
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["NotFoundException"];
/// What KMS answers for an operation on a key pending deletion (or disabled).
const INVALID_STATE: &[&str] = &["KMSInvalidStateException"];
const ALREADY_EXISTS: &[&str] = &["AlreadyExistsException"];
/// The only key policy name KMS has.
const POLICY_NAME: &str = "default";

pub(in crate::provider) mod key {
    use super::*;

    pub(in crate::provider) async fn refresh(
        p: &Provider,
        region: &str,
        hints: &Hints,
    ) -> Result<Vec<Observed>, ProviderError> {
        let subject = Subject::Kind(Kind::KmsKey);
        // Every key declared is recorded, and the region's tag index (a plan's batch) lists
        // this stack's keys: read those and the recorded ones by id, with no listing of the
        // region's keys. The index still shows a key of this stack that nothing records or
        // declares any more (made by a run killed before it saved), so it is deleted, not left.
        if hints.only_recorded()
            && !p.everything()
            && let Some(indexed) = crate::provider::tag_index::kms_keys(p, &subject, region).await?
        {
            let mut out = Vec::new();
            for id in hints.ids.iter().chain(&indexed).collect::<BTreeSet<_>>() {
                out.extend(observe_with(p, &subject, region, id, None).await?);
            }
            return Ok(out);
        }
        let client = p.clients.kms(region);
        let keys = client
            .list_keys()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(aws(&subject, region, "ListKeys"))?;
        let aliases = list_aliases(p, &subject, region).await?;
        // Keys behind an `alias/aws/...` are AWS managed: they carry no tags of ours.
        let aws_managed: BTreeSet<&str> = aliases
            .iter()
            .filter(|a| a.alias_name().is_some_and(|n| n.starts_with("alias/aws/")))
            .filter_map(AliasListEntry::target_key_id)
            .collect();
        let mut out = Vec::new();
        for key in &keys {
            let Some(id) = key.key_id() else { continue };
            if aws_managed.contains(id) {
                continue;
            }
            // A key in state is read even if its tags were lost, so that it is not forgotten;
            // any other key only if it carries this stack's tag. In a plan's batch the
            // region's tag index has this stack's keys' tags; another key's are read.
            let arn = key.key_arn().unwrap_or_default();
            let Some(tags) = crate::provider::tag_index::tags_or(p, &subject, region, arn, || {
                tags_of(p, &subject, region, id)
            })
            .await?
            else {
                continue;
            };
            if !p.keeps(tags.get(STACK_TAG)) && !hints.ids.contains(id) {
                continue;
            }
            if let Some(key) = observe_with(p, &subject, region, id, Some(tags)).await? {
                out.push(key);
            }
        }
        Ok(out)
    }

    pub(in crate::provider) async fn read(
        p: &Provider,
        ctx: &Ctx<'_>,
        id: &str,
    ) -> Result<Option<Observed>, ProviderError> {
        observe_with(p, &ctx.subject(), ctx.region, id, None).await
    }

    pub(in crate::provider) async fn create(
        p: &Provider,
        ctx: &Ctx<'_>,
        desired: &Attrs,
    ) -> Result<Observed, ProviderError> {
        let d = Desired::new(ctx, desired);
        let subject = ctx.subject();
        let client = p.clients.kms(ctx.region);
        // Checked before the first call, so a bad value leaves no key behind.
        let rotation = rotation(ctx, &d)?;
        check_description(ctx, d.str("description")?)?;
        let tags = p.identity_tags(ctx.addr, desired);
        // CreateKey takes no idempotency token and keys have no name: an SDK retry after a
        // lost answer would make a second key. So it is sent once; the executor retries a
        // failed create only after `Provider::find` found no key with this address's identity
        // tags, which CreateKey sets in the same call.
        let made = client
            .create_key()
            .key_usage(KeyUsageType::EncryptDecrypt)
            .set_description(d.str("description")?.map(str::to_owned))
            .set_policy(d.document("policy")?)
            .set_tags(Some(to_tags(ctx, &tags)?))
            .customize()
            .config_override(
                aws_sdk_kms::config::Builder::default()
                    .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled()),
            )
            .send()
            .await
            .map_err(aws(&subject, ctx.region, "CreateKey"))?;
        let id = made
            .key_metadata()
            .map(|m| m.key_id().to_owned())
            .ok_or_else(|| ProviderError::invalid(ctx, "CreateKey answered no key id"))?;
        if let Some((true, period)) = rotation {
            enable_rotation(p, ctx, &id, period).await?;
        }
        read(p, ctx, &id)
            .await?
            .ok_or_else(|| ProviderError::vanished(ctx, &id))
    }

    pub(in crate::provider) async fn update(
        p: &Provider,
        ctx: &Ctx<'_>,
        prior: &Observed,
        desired: &Attrs,
    ) -> Result<Observed, ProviderError> {
        let d = Desired::new(ctx, desired);
        let subject = ctx.subject();
        let client = p.clients.kms(ctx.region);
        let id = prior.id.as_str();
        let differs = |attr: &str| {
            compare(Kind::KmsKey, attr, desired.get(attr), prior.attrs.get(attr))
                == AttrCmp::Differs
        };
        if differs("description") {
            let text = d.str("description")?.unwrap_or_default();
            check_description(ctx, Some(text))?;
            client
                .update_key_description()
                .key_id(id)
                .description(text)
                .send()
                .await
                .map_err(aws(&subject, ctx.region, "UpdateKeyDescription"))?;
        }
        if differs("policy")
            && let Some(policy) = d.document("policy")?
        {
            client
                .put_key_policy()
                .key_id(id)
                .policy_name(POLICY_NAME)
                .policy(policy)
                .send()
                .await
                .map_err(aws(&subject, ctx.region, "PutKeyPolicy"))?;
        }
        if differs("enable_key_rotation") || differs("rotation_period_in_days") {
            match rotation(ctx, &d)? {
                Some((true, period)) => enable_rotation(p, ctx, id, period).await?,
                Some((false, _)) => {
                    client
                        .disable_key_rotation()
                        .key_id(id)
                        .send()
                        .await
                        .map_err(aws(&subject, ctx.region, "DisableKeyRotation"))?;
                }
                // A period without `enable_key_rotation`: only meaningful with rotation on.
                None => {
                    if prior.attrs.get("enable_key_rotation") == Some(&Value::Bool(true)) {
                        enable_rotation(p, ctx, id, d.i32("rotation_period_in_days")?).await?;
                    }
                }
            }
        }
        super::super::attrs::sync_tags_with(
            super::super::attrs::tag_changes_with_identity(p, ctx, &prior.tags, desired),
            async |keys| {
                client
                    .untag_resource()
                    .key_id(id)
                    .set_tag_keys(Some(keys))
                    .send()
                    .await
                    .map(drop)
                    .map_err(aws(&subject, ctx.region, "UntagResource"))
            },
            async |tags| {
                client
                    .tag_resource()
                    .key_id(id)
                    .set_tags(Some(to_tags(ctx, &tags)?))
                    .send()
                    .await
                    .map(drop)
                    .map_err(aws(&subject, ctx.region, "TagResource"))
            },
        )
        .await?;
        read(p, ctx, id)
            .await?
            .ok_or_else(|| ProviderError::vanished(ctx, id))
    }

    pub(in crate::provider) async fn delete(
        p: &Provider,
        ctx: &Ctx<'_>,
        prior: &Observed,
        config: &Attrs,
    ) -> Result<(), ProviderError> {
        // The window is write-only: the configuration last applied has it.
        let window = match config.get("deletion_window_in_days") {
            Some(v) => v.as_i64().and_then(|d| i32::try_from(d).ok()),
            None => None,
        };
        let answer = p
            .clients
            .kms(ctx.region)
            .schedule_key_deletion()
            .key_id(&prior.id)
            .set_pending_window_in_days(window)
            .send()
            .await;
        match answer {
            Ok(_) => Ok(()),
            // Gone, or already pending deletion: nothing left to do.
            Err(e) if has_code(&e, NOT_FOUND) || has_code(&e, INVALID_STATE) => Ok(()),
            Err(e) => Err(aws(&ctx.subject(), ctx.region, "ScheduleKeyDeletion")(e)),
        }
    }

    async fn enable_rotation(
        p: &Provider,
        ctx: &Ctx<'_>,
        id: &str,
        period: Option<i32>,
    ) -> Result<(), ProviderError> {
        p.clients
            .kms(ctx.region)
            .enable_key_rotation()
            .key_id(id)
            .set_rotation_period_in_days(period)
            .send()
            .await
            .map(drop)
            .map_err(aws(&ctx.subject(), ctx.region, "EnableKeyRotation"))
    }

    /// `(enabled, period)` as the spec asks; `None` when it says nothing about rotation.
    fn rotation(
        ctx: &Ctx<'_>,
        d: &Desired<'_>,
    ) -> Result<Option<(bool, Option<i32>)>, ProviderError> {
        let period = d.i32("rotation_period_in_days")?;
        if let Some(days) = period
            && !(90..=2560).contains(&days)
        {
            return Err(ProviderError::invalid(
                ctx,
                format!("rotation_period_in_days {days} is outside 90 to 2560"),
            ));
        }
        Ok(d.bool("enable_key_rotation")?.map(|on| (on, period)))
    }

    fn check_description(ctx: &Ctx<'_>, text: Option<&str>) -> Result<(), ProviderError> {
        match text {
            Some(t) if t.len() > 8192 => Err(ProviderError::invalid(
                ctx,
                "description is longer than the 8192 characters KMS accepts",
            )),
            _ => Ok(()),
        }
    }

    /// The key with its rotation and policy, or `None` if it is gone or pending deletion.
    async fn observe_with(
        p: &Provider,
        subject: &Subject,
        region: &str,
        id: &str,
        tags: Option<BTreeMap<String, String>>,
    ) -> Result<Option<Observed>, ProviderError> {
        let client = p.clients.kms(region);
        let meta = match client.describe_key().key_id(id).send().await {
            Ok(out) => out.key_metadata().cloned(),
            Err(e) if has_code(&e, NOT_FOUND) => None,
            Err(e) => return Err(aws(subject, region, "DescribeKey")(e)),
        };
        let Some(meta) = meta else { return Ok(None) };
        if is_gone(&meta) {
            return Ok(None);
        }
        // Tags not known yet: from the tag index inside a plan's batch (by the ARN DescribeKey
        // gave), else the key's own ListResourceTags.
        let tags = match tags {
            Some(tags) => tags,
            None => {
                let arn = meta.arn().unwrap_or_default();
                let own = || tags_of(p, subject, region, id);
                match crate::provider::tag_index::tags_or(p, subject, region, arn, own).await? {
                    Some(tags) => tags,
                    None => return Ok(None),
                }
            }
        };
        let rotation = match client.get_key_rotation_status().key_id(id).send().await {
            Ok(out) => Some((out.key_rotation_enabled(), out.rotation_period_in_days())),
            // Scheduled for deletion between the two calls.
            Err(e) if has_code(&e, NOT_FOUND) || has_code(&e, INVALID_STATE) => return Ok(None),
            Err(e) => return Err(aws(subject, region, "GetKeyRotationStatus")(e)),
        };
        let policy = match client
            .get_key_policy()
            .key_id(id)
            .policy_name(POLICY_NAME)
            .send()
            .await
        {
            Ok(out) => out.policy().map(json_document),
            Err(e) if has_code(&e, NOT_FOUND) => return Ok(None),
            Err(e) => return Err(aws(subject, region, "GetKeyPolicy")(e)),
        };
        Ok(Some(observed(region, &meta, rotation, policy, tags)))
    }

    pub(super) fn is_gone(meta: &KeyMetadata) -> bool {
        matches!(
            meta.key_state(),
            Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
        )
    }

    pub(super) fn observed(
        region: &str,
        meta: &KeyMetadata,
        rotation: Option<(bool, Option<i32>)>,
        policy: Option<Value>,
        tags: BTreeMap<String, String>,
    ) -> Observed {
        let id = meta.key_id().to_owned();
        let (enabled, period) = rotation.unwrap_or((false, None));
        let status = match meta.key_state() {
            Some(KeyState::Creating) => Status::Pending("Creating".to_owned()),
            _ => Status::Ready,
        };
        Observed {
            kind: Kind::KmsKey,
            region: region.to_owned(),
            attrs: attr_map([
                ("description", opt_s(meta.description())),
                ("enable_key_rotation", Some(Value::Bool(enabled))),
                // KMS reports the period only while rotation is on.
                (
                    "rotation_period_in_days",
                    period.filter(|_| enabled).map(|d| Value::Int(i64::from(d))),
                ),
                ("policy", policy),
                ("tags", user_tags(&tags)),
            ]),
            computed: attr_map([("id", Some(s(&id))), ("arn", opt_s(meta.arn()))]),
            id,
            tags,
            status,
        }
    }

    fn to_tags(ctx: &Ctx<'_>, tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
        tags.iter()
            .map(|(k, v)| {
                Tag::builder()
                    .tag_key(k)
                    .tag_value(v)
                    .build()
                    .map_err(|e| ProviderError::invalid(ctx, format!("tag {k}: {e}")))
            })
            .collect()
    }

    /// The key's tags, or `None` if it no longer exists.
    async fn tags_of(
        p: &Provider,
        subject: &Subject,
        region: &str,
        id: &str,
    ) -> Result<Option<BTreeMap<String, String>>, ProviderError> {
        let answer = p
            .clients
            .kms(region)
            .list_resource_tags()
            .key_id(id)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await;
        match answer {
            Ok(tags) => Ok(Some(
                tags.into_iter().map(|t| (t.tag_key, t.tag_value)).collect(),
            )),
            Err(e) if has_code(&e, NOT_FOUND) => Ok(None),
            Err(e) => Err(aws(subject, region, "ListResourceTags")(e)),
        }
    }
}

pub(in crate::provider) mod alias {
    use super::*;

    pub(in crate::provider) async fn refresh(
        p: &Provider,
        region: &str,
        hints: &Hints,
    ) -> Result<Vec<Observed>, ProviderError> {
        let subject = Subject::Kind(Kind::KmsAlias);
        // The id of an alias is its name, so both hints name aliases.
        let wanted: BTreeSet<&str> = hints
            .names
            .iter()
            .chain(&hints.ids)
            .map(String::as_str)
            .collect();
        if wanted.is_empty() && !p.everything() {
            return Ok(Vec::new());
        }
        Ok(list_aliases(p, &subject, region)
            .await?
            .iter()
            // AWS's own aliases (`alias/aws/...`) are not anyone's to manage.
            .filter(|a| {
                a.alias_name().is_some_and(|n| {
                    wanted.contains(n) || (p.everything() && !n.starts_with("alias/aws/"))
                })
            })
            .filter_map(|a| observed(region, a))
            .collect())
    }

    pub(in crate::provider) async fn read(
        p: &Provider,
        ctx: &Ctx<'_>,
        id: &str,
    ) -> Result<Option<Observed>, ProviderError> {
        Ok(list_aliases(p, &ctx.subject(), ctx.region)
            .await?
            .iter()
            .find(|a| a.alias_name() == Some(id))
            .and_then(|a| observed(ctx.region, a)))
    }

    pub(in crate::provider) async fn create(
        p: &Provider,
        ctx: &Ctx<'_>,
        desired: &Attrs,
    ) -> Result<Observed, ProviderError> {
        let d = Desired::new(ctx, desired);
        let name = d.req_str("name")?;
        check_name(ctx, name)?;
        let target = d.req_str("target_key_id")?;
        let answer = p
            .clients
            .kms(ctx.region)
            .create_alias()
            .alias_name(name)
            .target_key_id(target)
            .send()
            .await;
        match answer {
            Ok(_) => {}
            // An alias cannot be tagged, so one of this name is taken over (as the plan does
            // for an untaggable resource it finds by its name) and pointed at the desired key.
            Err(e) if has_code(&e, ALREADY_EXISTS) => {
                if let Some(found) = read(p, ctx, name).await? {
                    return update(p, ctx, &found, desired).await;
                }
                return Err(aws(&ctx.subject(), ctx.region, "CreateAlias")(e));
            }
            Err(e) => return Err(aws(&ctx.subject(), ctx.region, "CreateAlias")(e)),
        }
        p.reread(ctx, name).await
    }

    pub(in crate::provider) async fn update(
        p: &Provider,
        ctx: &Ctx<'_>,
        prior: &Observed,
        desired: &Attrs,
    ) -> Result<Observed, ProviderError> {
        let d = Desired::new(ctx, desired);
        let target = d.req_str("target_key_id")?;
        if compare(
            Kind::KmsAlias,
            "target_key_id",
            desired.get("target_key_id"),
            prior.attrs.get("target_key_id"),
        ) == AttrCmp::Differs
        {
            p.clients
                .kms(ctx.region)
                .update_alias()
                .alias_name(&prior.id)
                .target_key_id(target)
                .send()
                .await
                .map_err(aws(&ctx.subject(), ctx.region, "UpdateAlias"))?;
        }
        p.reread(ctx, &prior.id).await
    }

    pub(in crate::provider) async fn delete(
        p: &Provider,
        ctx: &Ctx<'_>,
        prior: &Observed,
        _config: &Attrs,
    ) -> Result<(), ProviderError> {
        let answer = p
            .clients
            .kms(ctx.region)
            .delete_alias()
            .alias_name(&prior.id)
            .send()
            .await;
        match answer {
            Ok(_) => Ok(()),
            Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
            Err(e) => Err(aws(&ctx.subject(), ctx.region, "DeleteAlias")(e)),
        }
    }

    /// `alias/` then 1 to 250 of `[A-Za-z0-9/_-]`, not under the reserved `alias/aws/`
    /// (CreateAlias).
    pub(super) fn check_name(ctx: &Ctx<'_>, name: &str) -> Result<(), ProviderError> {
        let rest = name.strip_prefix("alias/").unwrap_or_default();
        let valid = (1..=250).contains(&rest.len())
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-'))
            && !name.starts_with("alias/aws/");
        if valid {
            Ok(())
        } else {
            Err(ProviderError::invalid(
                ctx,
                format!(
                    "alias name {name:?} must be alias/ followed by 1 to 250 of A-Z a-z 0-9 / _ -, and not start with alias/aws/ (reserved for AWS)"
                ),
            ))
        }
    }

    /// An alias that points at a key (AWS managed aliases of unused services point at none).
    pub(super) fn observed(region: &str, a: &AliasListEntry) -> Option<Observed> {
        let name = a.alias_name()?.to_owned();
        let target = a.target_key_id()?.to_owned();
        Some(Observed {
            kind: Kind::KmsAlias,
            region: region.to_owned(),
            attrs: attr_map([
                ("name", Some(s(&name))),
                ("target_key_id", Some(s(&target))),
            ]),
            computed: attr_map([
                ("id", Some(s(&name))),
                ("arn", opt_s(a.alias_arn())),
                (
                    "target_key_arn",
                    a.alias_arn().and_then(|arn| key_arn(arn, &target)),
                ),
            ]),
            id: name,
            tags: BTreeMap::new(),
            status: Status::Ready,
        })
    }

    /// `arn:aws:kms:<region>:<account>:key/<id>` from the alias ARN
    /// (`arn:aws:kms:<region>:<account>:alias/<name>`), which has the partition, region and
    /// account.
    pub(super) fn key_arn(alias_arn: &str, key_id: &str) -> Option<Value> {
        let (prefix, _) = alias_arn.split_once(":alias/")?;
        Some(s(format!("{prefix}:key/{key_id}")))
    }
}

/// Every alias of the region (AWS managed ones included), listed once per refresh batch: the key
/// refresh (which keys AWS manages) and the alias refresh both start from it.
async fn list_aliases(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<std::sync::Arc<Vec<AliasListEntry>>, ProviderError> {
    p.memo
        .get_or_read("kms:ListAliases", region, || {
            read_aliases(p, subject, region)
        })
        .await
}

async fn read_aliases(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<Vec<AliasListEntry>, ProviderError> {
    p.clients
        .kms(region)
        .list_aliases()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws(subject, region, "ListAliases"))
}

/// A JSON document as a value; one that is not JSON stays a string.
fn json_document(text: &str) -> Value {
    serde_json::from_str::<serde_json::Value>(text)
        .map_or_else(|_| s(text), |json| Value::from_json(&json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alias_arn_gives_its_key_arn() {
        assert_eq!(
            alias::key_arn("arn:aws:kms:eu-west-1:123456789012:alias/app", "k-1"),
            Some(s("arn:aws:kms:eu-west-1:123456789012:key/k-1"))
        );
        assert_eq!(alias::key_arn("nonsense", "k-1"), None);
    }

    #[test]
    fn a_key_pending_deletion_is_gone() {
        let meta = |state: KeyState| {
            KeyMetadata::builder()
                .key_id("k")
                .key_state(state)
                .build()
                .expect("key_id is set")
        };
        assert!(key::is_gone(&meta(KeyState::PendingDeletion)));
        assert!(!key::is_gone(&meta(KeyState::Enabled)));
        assert!(!key::is_gone(&meta(KeyState::Disabled)));
    }

    #[test]
    fn the_rotation_period_is_reported_only_with_rotation_on() {
        let meta = KeyMetadata::builder()
            .key_id("k")
            .arn("arn:aws:kms:eu-west-1:1:key/k")
            .build()
            .expect("key_id is set");
        let off = key::observed(
            "eu-west-1",
            &meta,
            Some((false, Some(365))),
            None,
            BTreeMap::new(),
        );
        assert_eq!(off.attrs.get("rotation_period_in_days"), None);
        assert_eq!(
            off.attrs.get("enable_key_rotation"),
            Some(&Value::Bool(false))
        );
        let on = key::observed(
            "eu-west-1",
            &meta,
            Some((true, Some(180))),
            None,
            BTreeMap::new(),
        );
        assert_eq!(
            on.attrs.get("rotation_period_in_days"),
            Some(&Value::Int(180))
        );
    }
}

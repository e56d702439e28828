//! `sns_topic`: CreateTopic (with the identity tags and the attributes in the one call),
//! SetTopicAttributes for DisplayName and KmsMasterKeyId, tags by TagResource / UntagResource,
//! DeleteTopic. The id is the topic ARN.
//!
//! ListTopics returns ARNs only (no attributes, no tags) and cannot filter, so a refresh is one
//! paginated listing per region, then GetTopicAttributes and ListTagsForResource for each listed
//! topic whose name the spec gives (hints) or whose ARN the state records: reading every topic
//! of the account would cost two requests per topic of every other application. When the state
//! records every topic wanted, each is read by its ARN and nothing is listed; the region's tag
//! index then shows a topic of the stack that nothing records or declares.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_sns::types::Tag;

use super::{NOT_FOUND, topic_name};
use crate::kind::Kind;
use crate::provider::attr_map;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::tag_index;
use crate::provider::{Ctx, Hints, Observed, Provider, ProviderError, STACK_TAG, Status, Subject};
use crate::spec::schema::compare::{AttrCmp, compare};
use crate::spec::value::Value;

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    hints: &Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::SnsTopic);
    if hints.names.is_empty() && hints.ids.is_empty() && !p.everything() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    // Every topic wanted is recorded: read each by its ARN, with no listing. The region's tag
    // index (read anyway) still shows a topic of this stack that nothing records or declares
    // any more (made by a run killed before it saved): it is read too, so it is deleted, not left.
    if hints.only_recorded() && !p.everything() {
        let indexed = tag_index::sns_topics(p, &subject, region)
            .await?
            .unwrap_or_default();
        for arn in &hints.ids {
            out.extend(describe(p, &subject, region, arn).await?);
        }
        for arn in indexed.difference(&hints.ids) {
            if let Some(found) = describe(p, &subject, region, arn).await?
                && p.keeps(found.tags.get(STACK_TAG))
            {
                out.push(found);
            }
        }
        return Ok(out);
    }
    let arns = list(p, &subject, region).await?;
    for arn in arns {
        let wanted = p.everything()
            || hints.ids.contains(&arn)
            || topic_name(&arn).is_some_and(|n| hints.names.contains(n));
        if !wanted {
            continue;
        }
        let Some(found) = describe(p, &subject, region, &arn).await? else {
            continue;
        };
        if p.keeps(found.tags.get(STACK_TAG)) {
            out.push(found);
        }
    }
    Ok(out)
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    describe(p, &ctx.subject(), ctx.region, id).await
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let name = d.req_str("name")?;
    let fifo = d.bool("fifo_topic")?.unwrap_or(false);
    // Checked before the call, so a bad value leaves nothing half-made behind.
    check_name(ctx, name, fifo)?;
    let mut attributes = HashMap::new();
    if let Some(display) = d.str("display_name")? {
        attributes.insert("DisplayName".to_owned(), display.to_owned());
    }
    if let Some(key) = d.str("kms_master_key_id")? {
        attributes.insert("KmsMasterKeyId".to_owned(), key.to_owned());
    }
    if fifo {
        attributes.insert("FifoTopic".to_owned(), "true".to_owned());
    }
    let tags = p.identity_tags(ctx.addr, desired);
    // CreateTopic is idempotent by name: a create repeated after a lost answer gets the same
    // topic back (and SNS refuses one whose tags or attributes differ).
    let answer = p
        .clients
        .sns(ctx.region)
        .create_topic()
        .name(name)
        .set_attributes(Some(attributes))
        .set_tags(Some(to_tags(&tags)))
        .send()
        .await
        .map_err(aws(&ctx.subject(), ctx.region, "CreateTopic"))?;
    let arn = answer
        .topic_arn()
        .ok_or_else(|| ProviderError::invalid(ctx, "CreateTopic answered no topic ARN"))?
        .to_owned();
    read(p, ctx, &arn)
        .await?
        .ok_or_else(|| ProviderError::Vanished {
            subject: ctx.subject(),
            region: ctx.region.to_owned(),
            id: arn,
        })
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let client = p.clients.sns(ctx.region);
    let subject = ctx.subject();
    let arn = prior.id.as_str();
    // The declared comparison decides, as in the plan: an alias for the key the topic already
    // has is no change.
    let differs = |attr: &str| {
        compare(
            Kind::SnsTopic,
            attr,
            desired.get(attr),
            prior.attrs.get(attr),
        ) == AttrCmp::Differs
    };
    for (attr, name) in [
        ("display_name", "DisplayName"),
        ("kms_master_key_id", "KmsMasterKeyId"),
    ] {
        if differs(attr) {
            // An empty value removes the attribute (no display name, no encryption).
            client
                .set_topic_attributes()
                .topic_arn(arn)
                .attribute_name(name)
                .attribute_value(d.str(attr)?.unwrap_or_default())
                .send()
                .await
                .map_err(aws(&subject, ctx.region, "SetTopicAttributes"))?;
        }
    }
    crate::provider::attrs::sync_tags_with(
        crate::provider::attrs::tag_changes_with_identity(p, ctx, &prior.tags, desired),
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
            client
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(to_tags(&tags)))
                .send()
                .await
                .map(drop)
                .map_err(aws(&subject, ctx.region, "TagResource"))
        },
    )
    .await?;
    read(p, ctx, arn)
        .await?
        .ok_or_else(|| ProviderError::vanished(ctx, arn))
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _config: &Attrs,
) -> Result<(), ProviderError> {
    // DeleteTopic of a topic that is gone succeeds; SNS deletes the topic's subscriptions with
    // it (asynchronously).
    let answer = p
        .clients
        .sns(ctx.region)
        .delete_topic()
        .topic_arn(&prior.id)
        .send()
        .await;
    match answer {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "DeleteTopic")(e)),
    }
}

/// Every topic ARN of the region (ListTopics pages of 100).
async fn list(p: &Provider, subject: &Subject, region: &str) -> Result<Vec<String>, ProviderError> {
    let topics = p
        .clients
        .sns(region)
        .list_topics()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws(subject, region, "ListTopics"))?;
    Ok(topics
        .into_iter()
        .filter_map(|t| t.topic_arn)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect())
}

/// The topic with its attributes and tags, or `None` if it does not exist.
async fn describe(
    p: &Provider,
    subject: &Subject,
    region: &str,
    arn: &str,
) -> Result<Option<Observed>, ProviderError> {
    let client = p.clients.sns(region);
    let answer = client.get_topic_attributes().topic_arn(arn).send().await;
    let attributes = match answer {
        Ok(out) => out.attributes.unwrap_or_default(),
        Err(e) if has_code(&e, NOT_FOUND) => return Ok(None),
        Err(e) => return Err(aws(subject, region, "GetTopicAttributes")(e)),
    };
    // Inside a plan's refresh batch the region's tag index usually has the tags (one request
    // for every topic); otherwise, or when it lacks this one, the topic's own are read.
    let tags = crate::provider::tag_index::tags_or(p, subject, region, arn, || async {
        let answer = client
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await;
        match answer {
            Ok(out) => Ok(Some(
                out.tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect(),
            )),
            // Deleted between the two calls.
            Err(e) if has_code(&e, NOT_FOUND) => Ok(None),
            Err(e) => Err(aws(subject, region, "ListTagsForResource")(e)),
        }
    })
    .await?;
    let Some(tags) = tags else { return Ok(None) };
    Ok(Some(observe(region, arn, &attributes, tags)))
}

fn to_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

/// Topic names: 1 to 256 characters of `[A-Za-z0-9_-]`, plus `.fifo` at the end of a FIFO
/// topic's (CreateTopic).
fn check_name(ctx: &Ctx<'_>, name: &str, fifo: bool) -> Result<(), ProviderError> {
    let stem = if fifo {
        name.strip_suffix(".fifo")
    } else {
        Some(name)
    };
    let valid = stem.is_some_and(|stem| {
        (1..=256).contains(&name.len())
            && stem
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
    });
    if valid {
        Ok(())
    } else if fifo {
        Err(ProviderError::invalid(
            ctx,
            format!(
                "FIFO topic name {name:?} must be 1 to 256 characters of A-Z a-z 0-9 _ - ending in .fifo"
            ),
        ))
    } else {
        Err(ProviderError::invalid(
            ctx,
            format!("topic name {name:?} must be 1 to 256 characters of A-Z a-z 0-9 _ -"),
        ))
    }
}

fn observe(
    region: &str,
    arn: &str,
    attributes: &HashMap<String, String>,
    tags: BTreeMap<String, String>,
) -> Observed {
    let attr = |k: &str| attributes.get(k).filter(|v| !v.is_empty());
    let name = topic_name(arn).unwrap_or_default();
    Observed {
        kind: Kind::SnsTopic,
        region: region.to_owned(),
        attrs: attr_map([
            ("name", Some(s(name))),
            ("display_name", opt_s(attr("DisplayName"))),
            ("kms_master_key_id", opt_s(attr("KmsMasterKeyId"))),
            (
                "fifo_topic",
                Some(Value::Bool(
                    attr("FifoTopic").is_some_and(|v| v.eq_ignore_ascii_case("true")),
                )),
            ),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([("arn", Some(s(arn))), ("id", Some(s(arn)))]),
        id: arn.to_owned(),
        tags,
        // Topics have no lifecycle: one that answers is usable.
        status: Status::Ready,
    }
}

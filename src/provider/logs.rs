//! `cloudwatch_log_group`: CreateLogGroup (with the identity tags, the KMS key and the class),
//! PutRetentionPolicy / DeleteRetentionPolicy, AssociateKmsKey / DisassociateKmsKey, tags by
//! TagResource / UntagResource on the log group ARN, DeleteLogGroup. The id is the log group name.
//!
//! DescribeLogGroups can neither filter by tag nor return tags, so a refresh is one paginated
//! listing per region, narrowed by `logGroupNamePrefix` to the longest prefix the hinted names
//! share, then one ListTagsForResource for each listed group the hints name (reading the tags of
//! every group would cost a request per group of the whole account: Lambda alone makes one per
//! function). A read is the same listing with the group's own name as the prefix.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_cloudwatchlogs::types::{LogGroup, LogGroupClass};

use super::attrs::{Attrs, Desired, opt_s, s, user_tags};
use super::error::{aws, has_code};
use super::{Ctx, Hints, Observed, Provider, ProviderError, STACK_TAG, Status, Subject, attr_map};
use crate::kind::Kind;
use crate::spec::schema::compare::{AttrCmp, compare};
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];
const ALREADY_EXISTS: &[&str] = &["ResourceAlreadyExistsException"];

/// The retention periods PutRetentionPolicy accepts (CloudWatch Logs API reference); any other
/// value is refused with InvalidParameterException.
const RETENTION_DAYS: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    hints: &Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::CloudwatchLogGroup);
    // The id of a log group is its name, so both hints name groups.
    let wanted: BTreeSet<&str> = hints
        .names
        .iter()
        .chain(&hints.ids)
        .map(String::as_str)
        .collect();
    if wanted.is_empty() && !p.everything() {
        return Ok(Vec::new());
    }
    let groups = list(p, &subject, region, common_prefix(&wanted)).await?;
    let mut out = Vec::new();
    for group in groups {
        if !p.everything() && !group.log_group_name().is_some_and(|n| wanted.contains(n)) {
            continue;
        }
        let Some(tags) = tags_of(p, &subject, region, &group).await? else {
            continue;
        };
        if p.keeps(tags.get(STACK_TAG)) {
            out.push(observe(region, group, tags));
        }
    }
    Ok(out)
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let subject = ctx.subject();
    let Some(group) = describe(p, &subject, ctx.region, id).await? else {
        return Ok(None);
    };
    Ok(tags_of(p, &subject, ctx.region, &group)
        .await?
        .map(|tags| observe(ctx.region, group, tags)))
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let name = d.req_str("name")?;
    // Checked before the first call, so a bad value leaves no half-made group behind.
    check_name(ctx, name)?;
    let retention = retention(ctx, &d)?;
    let tags = p.identity_tags(ctx.addr, desired);
    let answer = p
        .clients
        .logs(ctx.region)
        .create_log_group()
        .log_group_name(name)
        .set_kms_key_id(d.str("kms_key_id")?.map(str::to_owned))
        .set_log_group_class(d.str("log_group_class")?.map(LogGroupClass::from))
        .set_tags(Some(tags.clone().into_iter().collect::<HashMap<_, _>>()))
        .send()
        .await;
    match answer {
        Ok(_) => {}
        // The API takes no idempotency token: a create retried after a lost answer finds the
        // group it made, recognised by its identity tags, and brings it to the spec.
        Err(e) if has_code(&e, ALREADY_EXISTS) => {
            return match read(p, ctx, name).await? {
                Some(found) if is_ours(p, ctx, &found) => update(p, ctx, &found, desired).await,
                _ => Err(aws(&ctx.subject(), ctx.region, "CreateLogGroup")(e)),
            };
        }
        Err(e) => return Err(aws(&ctx.subject(), ctx.region, "CreateLogGroup")(e)),
    }
    // CreateLogGroup takes no retention: a new group never expires until this call.
    if let Some(days) = retention {
        put_retention(p, ctx, name, days).await?;
    }
    // CreateLogGroup answers nothing, not even the ARN; the tags are the ones just written.
    let group = describe(p, &ctx.subject(), ctx.region, name)
        .await?
        .ok_or_else(|| ProviderError::vanished(ctx, name))?;
    Ok(observe(ctx.region, group, tags))
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let client = p.clients.logs(ctx.region);
    let subject = ctx.subject();
    let name = prior.id.as_str();
    // The declared comparison decides, as in the plan: an alias for the key the group already
    // has is no change.
    let differs = |attr: &str| {
        compare(
            Kind::CloudwatchLogGroup,
            attr,
            desired.get(attr),
            prior.attrs.get(attr),
        ) == AttrCmp::Differs
    };
    if differs("retention_in_days") {
        match retention(ctx, &d)? {
            Some(days) => put_retention(p, ctx, name, days).await?,
            None => {
                client
                    .delete_retention_policy()
                    .log_group_name(name)
                    .send()
                    .await
                    .map_err(aws(&subject, ctx.region, "DeleteRetentionPolicy"))?;
            }
        }
    }
    if differs("kms_key_id") {
        match d.str("kms_key_id")? {
            Some(key) => {
                client
                    .associate_kms_key()
                    .log_group_name(name)
                    .kms_key_id(key)
                    .send()
                    .await
                    .map_err(aws(&subject, ctx.region, "AssociateKmsKey"))?;
            }
            None => {
                client
                    .disassociate_kms_key()
                    .log_group_name(name)
                    .send()
                    .await
                    .map_err(aws(&subject, ctx.region, "DisassociateKmsKey"))?;
            }
        }
    }
    let arn = prior
        .computed
        .get("arn")
        .and_then(Value::as_str)
        .ok_or_else(|| ProviderError::invalid(ctx, format!("{name} has no recorded ARN")))?;
    super::attrs::sync_tags_with(
        super::attrs::tag_changes_with_identity(p, ctx, &prior.tags, desired),
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
                .set_tags(Some(tags.into_iter().collect()))
                .send()
                .await
                .map(drop)
                .map_err(aws(&subject, ctx.region, "TagResource"))
        },
    )
    .await?;
    read(p, ctx, name)
        .await?
        .ok_or_else(|| ProviderError::vanished(ctx, name))
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _config: &Attrs,
) -> Result<(), ProviderError> {
    let answer = p
        .clients
        .logs(ctx.region)
        .delete_log_group()
        .log_group_name(&prior.id)
        .send()
        .await;
    match answer {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "DeleteLogGroup")(e)),
    }
}

/// Every log group whose name starts with `prefix` (all of them for an empty prefix, which the
/// API does not accept as a value).
async fn list(
    p: &Provider,
    subject: &Subject,
    region: &str,
    prefix: &str,
) -> Result<Vec<LogGroup>, ProviderError> {
    p.clients
        .logs(region)
        .describe_log_groups()
        .set_log_group_name_prefix((!prefix.is_empty()).then(|| prefix.to_owned()))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws(subject, region, "DescribeLogGroups"))
}

/// The group named exactly `name`, if it exists (the prefix also lists longer names).
async fn describe(
    p: &Provider,
    subject: &Subject,
    region: &str,
    name: &str,
) -> Result<Option<LogGroup>, ProviderError> {
    Ok(list(p, subject, region, name)
        .await?
        .into_iter()
        .find(|g| g.log_group_name() == Some(name)))
}

/// The group's tags, or `None` if it disappeared since it was listed.
async fn tags_of(
    p: &Provider,
    subject: &Subject,
    region: &str,
    group: &LogGroup,
) -> Result<Option<BTreeMap<String, String>>, ProviderError> {
    let Some(arn) = arn(group) else {
        return Ok(Some(BTreeMap::new()));
    };
    // Inside a plan's refresh batch the region's tag index usually has them (one request for
    // every group); otherwise, or when it lacks this one, the group's own tags are read.
    super::tag_index::tags_or(p, subject, region, &arn, || async {
        let answer = p
            .clients
            .logs(region)
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await;
        match answer {
            Ok(out) => Ok(Some(
                out.tags()
                    .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
            )),
            Err(e) if has_code(&e, NOT_FOUND) => Ok(None),
            Err(e) => Err(aws(subject, region, "ListTagsForResource")(e)),
        }
    })
    .await
}

async fn put_retention(
    p: &Provider,
    ctx: &Ctx<'_>,
    name: &str,
    days: i32,
) -> Result<(), ProviderError> {
    p.clients
        .logs(ctx.region)
        .put_retention_policy()
        .log_group_name(name)
        .retention_in_days(days)
        .send()
        .await
        .map(drop)
        .map_err(aws(&ctx.subject(), ctx.region, "PutRetentionPolicy"))
}

/// The desired retention, one of the periods AWS accepts.
fn retention(ctx: &Ctx<'_>, d: &Desired<'_>) -> Result<Option<i32>, ProviderError> {
    match d.i32("retention_in_days")? {
        Some(days) if !RETENTION_DAYS.contains(&i64::from(days)) => Err(ProviderError::invalid(
            ctx,
            format!(
                "retention_in_days {days} is not a period CloudWatch Logs accepts ({})",
                RETENTION_DAYS.map(|d| d.to_string()).join(", ")
            ),
        )),
        other => Ok(other),
    }
}

/// Log group names: 1 to 512 characters of `[.\-_/#A-Za-z0-9]` (CreateLogGroup).
fn check_name(ctx: &Ctx<'_>, name: &str) -> Result<(), ProviderError> {
    let valid = (1..=512).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#'));
    if valid {
        Ok(())
    } else {
        Err(ProviderError::invalid(
            ctx,
            format!("log group name {name:?} must be 1 to 512 characters of A-Z a-z 0-9 . - _ / #"),
        ))
    }
}

/// The longest prefix every name shares: the narrowest one listing covering all of them.
fn common_prefix<'a>(names: &BTreeSet<&'a str>) -> &'a str {
    let mut it = names.iter();
    let Some(first) = it.next() else { return "" };
    let mut len = first.len();
    for name in it {
        len = first
            .bytes()
            .zip(name.bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count();
    }
    // Names are ASCII when valid; never cut a character of one that is not.
    while !first.is_char_boundary(len) {
        len -= 1;
    }
    &first[..len]
}

/// The log group ARN without the trailing `:*` that the `arn` member carries: the form tagging,
/// IAM policies and EKS take.
fn arn(group: &LogGroup) -> Option<String> {
    group.log_group_arn().map(str::to_owned).or_else(|| {
        group
            .arn()
            .map(|a| a.strip_suffix(":*").unwrap_or(a).to_owned())
    })
}

/// Whether a group that already exists (a retried create after a lost answer) is the one this
/// create was for: it carries this stack's and this address's identity tags.
fn is_ours(p: &Provider, ctx: &Ctx<'_>, found: &Observed) -> bool {
    found.stack_tag() == Some(p.stack.as_str())
        && found.address_tag() == Some(ctx.addr.to_string().as_str())
}

fn observe(region: &str, group: LogGroup, tags: BTreeMap<String, String>) -> Observed {
    let name = group.log_group_name().unwrap_or_default().to_owned();
    Observed {
        kind: Kind::CloudwatchLogGroup,
        region: region.to_owned(),
        attrs: attr_map([
            ("name", Some(s(&name))),
            (
                "retention_in_days",
                group.retention_in_days().map(|d| Value::Int(i64::from(d))),
            ),
            ("kms_key_id", opt_s(group.kms_key_id())),
            (
                "log_group_class",
                opt_s(group.log_group_class().map(|c| c.as_str())),
            ),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([("arn", opt_s(arn(&group))), ("id", Some(s(&name)))]),
        id: name,
        tags,
        // Log groups have no lifecycle: one that is listed is usable.
        status: Status::Ready,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefix_narrows_the_listing() {
        let set = |v: &[&'static str]| v.iter().copied().collect::<BTreeSet<_>>();
        assert_eq!(
            common_prefix(&set(&["/aws/eks/a/cluster", "/aws/eks/b/cluster"])),
            "/aws/eks/"
        );
        assert_eq!(common_prefix(&set(&["/x/one"])), "/x/one");
        assert_eq!(common_prefix(&set(&["a", "b"])), "");
        assert_eq!(common_prefix(&set(&[])), "");
        assert_eq!(common_prefix(&set(&["ab", "abc"])), "ab");
    }

    #[test]
    fn the_arn_never_ends_in_a_wildcard() {
        let group = LogGroup::builder()
            .log_group_name("g")
            .arn("arn:aws:logs:eu-west-1:123456789012:log-group:g:*")
            .build();
        assert_eq!(
            arn(&group).as_deref(),
            Some("arn:aws:logs:eu-west-1:123456789012:log-group:g")
        );
    }

    #[test]
    fn retention_periods_are_the_documented_ones() {
        assert!(RETENTION_DAYS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(RETENTION_DAYS.first(), Some(&1));
        assert_eq!(RETENTION_DAYS.last(), Some(&3653));
    }
}

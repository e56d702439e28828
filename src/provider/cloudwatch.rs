//! `cloudwatch_metric_alarm`: PutMetricAlarm creates and updates (it replaces the whole alarm, so
//! every update sends the complete configuration), tags by TagResource / UntagResource on the
//! alarm ARN, DeleteAlarms. The id is the alarm name.
//!
//! DescribeAlarms can neither filter by tag nor return tags, but it takes up to 100 alarm names:
//! a refresh is one paginated DescribeAlarms per region for the names the spec gives and the
//! state records (so nothing of the account's other alarms is read), then one
//! ListTagsForResource per alarm found, to keep this stack's.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudwatch::types::{
    AlarmType, ComparisonOperator, Dimension, MetricAlarm, Statistic, Tag,
};

use super::attrs::{Attrs, Desired, opt_s, s, str_list, user_tags};
use super::error::{aws, has_code};
use super::{Ctx, Hints, Observed, Provider, ProviderError, STACK_TAG, Status, Subject, attr_map};
use crate::kind::Kind;
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["ResourceNotFound", "ResourceNotFoundException"];

/// DescribeAlarms takes at most this many names per request.
const NAMES_PER_CALL: usize = 100;

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    hints: &Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::CloudwatchMetricAlarm);
    // The id of an alarm is its name, so both hints name alarms.
    let wanted: BTreeSet<&str> = hints
        .names
        .iter()
        .chain(&hints.ids)
        .map(String::as_str)
        .collect();
    let alarms = if p.everything() {
        describe_all(p, &subject, region).await?
    } else {
        describe(p, &subject, region, &wanted).await?
    };
    let mut out = Vec::new();
    for alarm in alarms {
        let Some(tags) = tags_of(p, &subject, region, &alarm).await? else {
            continue;
        };
        if p.keeps(tags.get(STACK_TAG)) {
            out.push(observe(region, &alarm, tags));
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
    let Some(alarm) = describe(p, &subject, ctx.region, &BTreeSet::from([id]))
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    Ok(tags_of(p, &subject, ctx.region, &alarm)
        .await?
        .map(|tags| observe(ctx.region, &alarm, tags)))
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let name = d.req_str("name")?;
    // Checked before the first call, so a bad value costs no request.
    timing(ctx, &d)?;
    // PutMetricAlarm overwrites an alarm of the same name without a word: look first, so a create
    // never takes over someone else's alarm, and one retried after a lost answer carries on.
    if let Some(found) = read(p, ctx, name).await? {
        let ours = found.stack_tag() == Some(p.stack.as_str())
            && found.address_tag() == Some(ctx.addr.to_string().as_str());
        if ours {
            return update(p, ctx, &found, desired).await;
        }
        return Err(ProviderError::invalid(
            ctx,
            format!(
                "an alarm named {name:?} already exists and is not this resource's; import it or choose another name"
            ),
        ));
    }
    let tags = p.identity_tags(ctx.addr, desired);
    // Tags are taken only when PutMetricAlarm creates the alarm.
    put(p, ctx, &d, None, Some(&tags)).await?;
    read(p, ctx, name)
        .await?
        .ok_or_else(|| ProviderError::vanished(ctx, name))
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let client = p.clients.cloudwatch(ctx.region);
    let subject = ctx.subject();
    let name = prior.id.as_str();
    put(p, ctx, &d, Some(prior), None).await?;
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
                .set_tags(Some(to_tags(&tags)))
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
        .cloudwatch(ctx.region)
        .delete_alarms()
        .alarm_names(&prior.id)
        .send()
        .await;
    match answer {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "DeleteAlarms")(e)),
    }
}

/// PutMetricAlarm with the whole desired configuration. `prior` supplies what the spec leaves to
/// AWS (`actions_enabled`), so an update keeps it; `tags` only on creation.
async fn put(
    p: &Provider,
    ctx: &Ctx<'_>,
    d: &Desired<'_>,
    prior: Option<&Observed>,
    tags: Option<&BTreeMap<String, String>>,
) -> Result<(), ProviderError> {
    let (period, evaluation_periods, datapoints) = timing(ctx, d)?;
    let threshold = match d.get("threshold") {
        Some(Value::Int(i)) => *i as f64,
        Some(Value::Float(f)) => *f,
        Some(Value::Str(text)) => text.parse::<f64>().map_err(|_| {
            ProviderError::invalid(ctx, format!("threshold {text:?} is not a number"))
        })?,
        _ => return Err(ProviderError::invalid(ctx, "threshold is not a number")),
    };
    let dimensions = d
        .str_map("dimensions")?
        .into_iter()
        .map(|(k, v)| Dimension::builder().name(k).value(v).build())
        .collect::<Vec<_>>();
    let actions_enabled = match d.bool("actions_enabled")? {
        Some(b) => Some(b),
        None => prior
            .and_then(|o| o.attrs.get("actions_enabled"))
            .and_then(Value::as_bool),
    };
    p.clients
        .cloudwatch(ctx.region)
        .put_metric_alarm()
        .alarm_name(d.req_str("name")?)
        .set_alarm_description(d.str("description")?.map(str::to_owned))
        .namespace(d.req_str("namespace")?)
        .metric_name(d.req_str("metric_name")?)
        .set_dimensions(Some(dimensions))
        .statistic(Statistic::from(d.req_str("statistic")?))
        .period(period)
        .evaluation_periods(evaluation_periods)
        .set_datapoints_to_alarm(datapoints)
        .threshold(threshold)
        .comparison_operator(ComparisonOperator::from(d.req_str("comparison_operator")?))
        .treat_missing_data(d.str("treat_missing_data")?.unwrap_or("missing"))
        .set_alarm_actions(Some(d.strs("alarm_actions")?))
        .set_ok_actions(Some(d.strs("ok_actions")?))
        .set_insufficient_data_actions(Some(d.strs("insufficient_data_actions")?))
        .set_actions_enabled(actions_enabled)
        .set_tags(tags.map(to_tags))
        .send()
        .await
        .map(drop)
        .map_err(aws(&ctx.subject(), ctx.region, "PutMetricAlarm"))
}

/// The period, evaluation periods and datapoints to alarm, refused when CloudWatch would not
/// evaluate them (the same rule `validate` applies to values known before apply).
fn timing(ctx: &Ctx<'_>, d: &Desired<'_>) -> Result<(i32, i32, Option<i32>), ProviderError> {
    let period = d.req_i32("period")?;
    let evaluation_periods = d.req_i32("evaluation_periods")?;
    let datapoints = d.i32("datapoints_to_alarm")?;
    match crate::spec::rules::alarm_timing_problem(
        i64::from(period),
        i64::from(evaluation_periods),
        datapoints.map(i64::from),
    ) {
        Some(problem) => Err(ProviderError::invalid(ctx, problem)),
        None => Ok((period, evaluation_periods, datapoints)),
    }
}

/// Every metric alarm of the region (`adopt aws`), paginated.
async fn describe_all(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<Vec<MetricAlarm>, ProviderError> {
    let pages = p
        .clients
        .cloudwatch(region)
        .describe_alarms()
        .alarm_types(AlarmType::MetricAlarm)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws(subject, region, "DescribeAlarms"))?;
    Ok(pages
        .into_iter()
        .flat_map(|page| page.metric_alarms.unwrap_or_default())
        .collect())
}

/// The metric alarms named `names` (100 names per DescribeAlarms, each paginated).
async fn describe(
    p: &Provider,
    subject: &Subject,
    region: &str,
    names: &BTreeSet<&str>,
) -> Result<Vec<MetricAlarm>, ProviderError> {
    let names: Vec<&str> = names.iter().copied().collect();
    let mut out = Vec::new();
    for chunk in names.chunks(NAMES_PER_CALL) {
        let pages = p
            .clients
            .cloudwatch(region)
            .describe_alarms()
            .set_alarm_names(Some(chunk.iter().map(|n| (*n).to_owned()).collect()))
            .alarm_types(AlarmType::MetricAlarm)
            // As many as the names asked, so each chunk is one page.
            .max_records(NAMES_PER_CALL as i32)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(aws(subject, region, "DescribeAlarms"))?;
        out.extend(
            pages
                .into_iter()
                .flat_map(|page| page.metric_alarms.unwrap_or_default()),
        );
    }
    Ok(out)
}

/// The alarm's tags, or `None` if it disappeared since it was listed.
async fn tags_of(
    p: &Provider,
    subject: &Subject,
    region: &str,
    alarm: &MetricAlarm,
) -> Result<Option<BTreeMap<String, String>>, ProviderError> {
    let Some(arn) = alarm.alarm_arn() else {
        return Ok(Some(BTreeMap::new()));
    };
    // Inside a plan's refresh batch the region's tag index usually has them (one request for
    // every alarm); otherwise, or when it lacks this one, the alarm's own tags are read.
    super::tag_index::tags_or(p, subject, region, arn, || async {
        let answer = p
            .clients
            .cloudwatch(region)
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await;
        match answer {
            Ok(out) => Ok(Some(
                out.tags()
                    .iter()
                    .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
                    .collect(),
            )),
            Err(e) if has_code(&e, NOT_FOUND) => Ok(None),
            Err(e) => Err(aws(subject, region, "ListTagsForResource")(e)),
        }
    })
    .await
}

fn to_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn observe(region: &str, alarm: &MetricAlarm, tags: BTreeMap<String, String>) -> Observed {
    let name = alarm.alarm_name().unwrap_or_default().to_owned();
    let dimensions: BTreeMap<String, Value> = alarm
        .dimensions()
        .iter()
        .filter_map(|d| Some((d.name()?.to_owned(), s(d.value()?))))
        .collect();
    // Actions are a set: sorted, so an unchanged alarm reads back the same.
    let actions =
        |list: &[String]| (!list.is_empty()).then(|| str_list(list.iter().cloned(), true));
    Observed {
        kind: Kind::CloudwatchMetricAlarm,
        region: region.to_owned(),
        attrs: attr_map([
            ("name", Some(s(&name))),
            (
                "description",
                opt_s(alarm.alarm_description().filter(|d| !d.is_empty())),
            ),
            ("namespace", opt_s(alarm.namespace())),
            ("metric_name", opt_s(alarm.metric_name())),
            (
                "dimensions",
                (!dimensions.is_empty()).then_some(Value::Map(dimensions)),
            ),
            ("statistic", opt_s(alarm.statistic().map(|s| s.as_str()))),
            ("period", alarm.period().map(|v| Value::Int(i64::from(v)))),
            (
                "evaluation_periods",
                alarm.evaluation_periods().map(|v| Value::Int(i64::from(v))),
            ),
            (
                "datapoints_to_alarm",
                alarm
                    .datapoints_to_alarm()
                    .map(|v| Value::Int(i64::from(v))),
            ),
            ("threshold", alarm.threshold().map(Value::Float)),
            (
                "comparison_operator",
                opt_s(alarm.comparison_operator().map(|c| c.as_str())),
            ),
            ("treat_missing_data", opt_s(alarm.treat_missing_data())),
            ("alarm_actions", actions(alarm.alarm_actions())),
            ("ok_actions", actions(alarm.ok_actions())),
            (
                "insufficient_data_actions",
                actions(alarm.insufficient_data_actions()),
            ),
            ("actions_enabled", alarm.actions_enabled().map(Value::Bool)),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([("arn", opt_s(alarm.alarm_arn())), ("id", Some(s(&name)))]),
        id: name,
        tags,
        // Alarms have no lifecycle: one that is described is in force.
        status: Status::Ready,
    }
}

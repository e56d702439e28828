//! EC2: VPCs, subnets, internet and NAT gateways, route tables, security groups, and the launch
//! templates of EKS node groups.
//!
//! Everything here is created with `TagSpecifications` carrying the identity tags, so refresh is
//! one `Describe*` per kind and region filtered by `tag:regionctl:stack`, and the create's
//! idempotency token as the tag `regionctl:token`, so the resource one attempt of a create made
//! is found again by the next (see [`create_once`]).

/// The two reads of an EC2 kind whose describe call filters by tag and pages: every item of the
/// stack in a region (`list`), and one item by id (`describe`, `None` when EC2 answers the
/// kind's `NOT_FOUND` code). Each kind's `refresh` and `read` map the items with its `observe`.
macro_rules! ec2_reads {
    ($item:ty, $call:ident, $ids:ident, $field:ident, $op:literal) => {
        async fn list(
            p: &$crate::provider::Provider,
            region: &str,
            kind: $crate::kind::Kind,
        ) -> Result<Vec<$item>, $crate::provider::ProviderError> {
            p.clients
                .ec2(region)
                .$call()
                .set_filters(super::stack_filters(p))
                .into_paginator()
                .items()
                .send()
                .collect::<Result<_, _>>()
                .await
                .map_err($crate::provider::error::aws(
                    &$crate::provider::Subject::Kind(kind),
                    region,
                    $op,
                ))
        }

        ec2_describe!($item, $call, $ids, $field, $op);
    };
}

/// `describe` of [`ec2_reads!`] alone, for a kind whose list needs more filters.
macro_rules! ec2_describe {
    ($item:ty, $call:ident, $ids:ident, $field:ident, $op:literal) => {
        async fn describe(
            p: &$crate::provider::Provider,
            ctx: &$crate::provider::Ctx<'_>,
            id: &str,
        ) -> Result<Option<$item>, $crate::provider::ProviderError> {
            match p.clients.ec2(ctx.region).$call().$ids(id).send().await {
                Ok(out) => Ok(out.$field.unwrap_or_default().into_iter().next()),
                Err(e) if $crate::provider::error::has_code(&e, NOT_FOUND) => Ok(None),
                Err(e) => Err($crate::provider::error::aws(
                    &ctx.subject(),
                    ctx.region,
                    $op,
                )(e)),
            }
        }
    };
}

mod blockers;
pub(super) mod internet_gateway;
pub(super) mod launch_template;
pub(super) mod nat_gateway;
pub(super) mod route_table;
pub(super) mod security_group;
pub(super) mod subnet;
pub(super) mod vpc;

use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;

use super::attrs::Attrs;
use super::error::aws;
use super::retry::{Backoff, RetryClass, classify};
use super::{Ctx, Observed, Provider, ProviderError};

/// The tag holding the idempotency token of the create that made the resource.
pub(super) const TOKEN_TAG: &str = "regionctl:token";

/// The filter that selects this stack's resources.
pub(super) fn stack_filter(p: &Provider) -> Filter {
    Filter::builder()
        .name(format!("tag:{}", super::STACK_TAG))
        .values(p.stack.clone())
        .build()
}

/// The filters of a refresh's list: the stack's tag, or none when listing everything.
pub(super) fn stack_filters(p: &Provider) -> Option<Vec<Filter>> {
    (!p.everything()).then(|| vec![stack_filter(p)])
}

/// The `TagSpecifications` entry for a new resource: the user's tags plus the identity tags.
pub(super) fn tag_spec(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
    resource_type: ResourceType,
) -> TagSpecification {
    let mut tags = p.identity_tags(ctx.addr, desired);
    tags.insert(TOKEN_TAG.to_owned(), ctx.token.to_owned());
    TagSpecification::builder()
        .resource_type(resource_type)
        .set_tags(Some(to_tags(&tags)))
        .build()
}

/// A config override for one call: no SDK retries. For creates EC2 does not deduplicate (no
/// `ClientToken`), where a retry after a lost answer would make a second resource.
pub(super) fn no_retries() -> aws_sdk_ec2::config::Builder {
    aws_sdk_ec2::config::Builder::default().retry_config(RetryConfig::disabled())
}

/// Sends a create that EC2 does not deduplicate (CreateVpc, CreateSubnet,
/// CreateInternetGateway, AllocateAddress) at most once per lost answer: `send` must disable the
/// SDK's retries ([`no_retries`]) and tag the resource with the token ([`tag_spec`]). A throttled
/// request made nothing and is sent again; after an ambiguous failure (a lost answer, a 5xx) the
/// resource is first looked for by its token tag, and only sent again if it is not there.
/// Returns the new resource's id.
pub(super) async fn create_once<F, Fut, E>(
    p: &Provider,
    ctx: &Ctx<'_>,
    operation: &'static str,
    id_prefix: &str,
    send: F,
) -> Result<String, ProviderError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<String>, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut backoff = None;
    loop {
        let err = match send().await {
            Ok(Some(id)) => return Ok(id),
            Ok(None) => {
                return Err(ProviderError::invalid(
                    ctx,
                    format!("{operation} answered without an id"),
                ));
            }
            Err(e) => aws(&ctx.subject(), ctx.region, operation)(e),
        };
        let class = classify(&err);
        if !matches!(class, Some(RetryClass::Throttled | RetryClass::Ambiguous)) {
            return Err(err);
        }
        let delay = backoff
            .get_or_insert_with(|| Backoff::for_class(RetryClass::Ambiguous, &p.wait))
            .next_delay();
        let Some(delay) = delay else { return Err(err) };
        tracing::info!(address = %ctx.addr, region = ctx.region, error = %err, "retrying a create");
        // A cancelled run stops here; the next run finds what an unanswered attempt made.
        if crate::provider::wait::pause(delay).await.is_err() {
            return Err(err);
        }
        if class == Some(RetryClass::Ambiguous)
            && let Some(id) = find_by_token(p, ctx, id_prefix).await?
        {
            return Ok(id);
        }
    }
}

/// How EC2 ids of `kind` start (`vpc-`, `subnet-` ...), for [`find_by_token`]; `None` for
/// kinds EC2 does not hold.
pub(super) fn id_prefix(kind: crate::kind::Kind) -> Option<&'static str> {
    use crate::kind::Kind;
    match kind {
        Kind::Vpc => Some("vpc-"),
        Kind::Subnet => Some("subnet-"),
        Kind::InternetGateway => Some("igw-"),
        Kind::NatGateway => Some("nat-"),
        Kind::RouteTable => Some("rtb-"),
        Kind::SecurityGroup => Some("sg-"),
        Kind::LaunchTemplate => Some("lt-"),
        _ => None,
    }
}

/// The id of the resource (of the kind whose ids start with `id_prefix`, e.g. `vpc-`) tagged
/// with this create's idempotency token.
pub(super) async fn find_by_token(
    p: &Provider,
    ctx: &Ctx<'_>,
    id_prefix: &str,
) -> Result<Option<String>, ProviderError> {
    let filter = |name: &str, value: &str| Filter::builder().name(name).values(value).build();
    let out = p
        .clients
        .ec2(ctx.region)
        .describe_tags()
        .filters(filter("key", TOKEN_TAG))
        .filters(filter("value", ctx.token))
        .send()
        .await
        .map_err(aws(&ctx.subject(), ctx.region, "DescribeTags"))?;
    Ok(out
        .tags()
        .iter()
        .filter_map(|t| t.resource_id())
        .find(|id| id.starts_with(id_prefix))
        .map(str::to_owned))
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
    let client = p.clients.ec2(ctx.region);
    let subject = ctx.subject();
    super::attrs::sync_tags_with(
        super::attrs::tag_changes_with_identity(p, ctx, prior, desired),
        async |keys| {
            let stale: Vec<Tag> = keys.iter().map(|k| Tag::builder().key(k).build()).collect();
            client
                .delete_tags()
                .resources(id)
                .set_tags(Some(stale))
                .send()
                .await
                .map(drop)
                .map_err(aws(&subject, ctx.region, "DeleteTags"))
        },
        async |tags| {
            client
                .create_tags()
                .resources(id)
                .set_tags(Some(to_tags(&tags)))
                .send()
                .await
                .map(drop)
                .map_err(aws(&subject, ctx.region, "CreateTags"))
        },
    )
    .await
}

/// The ARN of an EC2 resource, e.g. `arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-0abc`.
pub(super) fn arn(region: &str, owner: Option<&str>, kind: &str, id: &str) -> String {
    format!(
        "arn:aws:ec2:{region}:{}:{kind}/{id}",
        owner.unwrap_or_default()
    )
}

/// Reads the resource back after a create or update, which must find it.
pub(super) async fn read_back(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Observed, ProviderError> {
    p.read(ctx, id)
        .await?
        .ok_or_else(|| ProviderError::vanished(ctx, id))
}

/// Whether a desired list attribute is given at all: an absent list (routes, rules, associations)
/// is left as AWS has it, while an empty one is managed to be empty.
pub(super) fn is_set(desired: &Attrs, name: &str) -> bool {
    !matches!(
        desired.get(name),
        None | Some(crate::spec::value::Value::Null)
    )
}

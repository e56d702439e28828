//! `sns_subscription`: Subscribe with `ReturnSubscriptionArn` (so even a pending subscription
//! has its real ARN, the id), Unsubscribe. Every attribute forces a new subscription, so there is
//! nothing to update in place.
//!
//! Email and HTTP(S) subscriptions stay *pending* until their endpoint confirms them (the
//! recipient follows the link in the email; the HTTP endpoint calls ConfirmSubscription with the
//! token it was sent). The same way terraform-provider-aws treats them, a pending subscription is
//! made and ready for regionctl (nothing waits for a person to read their mail); its
//! `pending_confirmation` says whether it is confirmed. Until it is, ListSubscriptions shows the
//! word `PendingConfirmation` instead of its ARN, and SNS refuses to delete it (it deletes an
//! unconfirmed subscription itself 48 hours after it was made): deleting one is then left to SNS.
//!
//! Subscriptions take no tags. A refresh is one paginated ListSubscriptions per region, keeping
//! the subscriptions whose ARN the state records; the pending ones, which the listing does not
//! name, are read by id afterwards (GetSubscriptionAttributes) like any resource a list missed.
//! A Subscribe repeated after a lost answer returns the same subscription (SNS deduplicates by
//! topic, protocol and endpoint), so a create interrupted by a crash makes nothing twice.

use std::collections::HashMap;

use aws_sdk_sns::types::Subscription;

use super::NOT_FOUND;
use crate::kind::Kind;
use crate::provider::attr_map;
use crate::provider::attrs::{Attrs, Desired, opt_s, s};
use crate::provider::error::{aws, has_code};
use crate::provider::{Ctx, Hints, Observed, Provider, ProviderError, Status, Subject};
use crate::spec::value::Value;

/// What ListSubscriptions shows in place of the ARN of a subscription not confirmed yet.
const PENDING_ARN: &str = "PendingConfirmation";

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    hints: &Hints,
) -> Result<Vec<Observed>, ProviderError> {
    // Without tags, only the state can say which subscriptions are this stack's.
    if hints.ids.is_empty() && !p.everything() {
        return Ok(Vec::new());
    }
    let subject = Subject::Kind(Kind::SnsSubscription);
    // Every subscription wanted is recorded (the usual case: only the state knows them): read
    // each by its ARN, with no listing. A pending one, which the list shows without its ARN,
    // is read so too rather than after the refresh.
    if hints.only_recorded() && !p.everything() {
        let mut out = Vec::new();
        for arn in &hints.ids {
            out.extend(get(p, &subject, region, arn).await?);
        }
        return Ok(out);
    }
    let all = p
        .clients
        .sns(region)
        .list_subscriptions()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws(&subject, region, "ListSubscriptions"))?;
    Ok(all
        .into_iter()
        .filter(|sub| {
            sub.subscription_arn().is_some_and(|arn| {
                arn != PENDING_ARN && (p.everything() || hints.ids.contains(arn))
            })
        })
        .map(|sub| observe_listed(region, &sub))
        .collect())
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    get(p, &ctx.subject(), ctx.region, id).await
}

async fn get(
    p: &Provider,
    subject: &Subject,
    region: &str,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let answer = p
        .clients
        .sns(region)
        .get_subscription_attributes()
        .subscription_arn(id)
        .send()
        .await;
    match answer {
        Ok(out) => Ok(Some(observe(
            region,
            id,
            &out.attributes.unwrap_or_default(),
        ))),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(None),
        Err(e) => Err(aws(subject, region, "GetSubscriptionAttributes")(e)),
    }
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let topic = d.req_str("topic_arn")?;
    let protocol = d.req_str("protocol")?;
    let endpoint = d.req_str("endpoint")?;
    check_endpoint(ctx, protocol, endpoint)?;
    let answer = p
        .clients
        .sns(ctx.region)
        .subscribe()
        .topic_arn(topic)
        .protocol(protocol)
        .endpoint(endpoint)
        // Without it a pending subscription answers "pending confirmation", not an ARN, and
        // could not be read, kept in state or deleted by id.
        .return_subscription_arn(true)
        .send()
        .await
        .map_err(aws(&ctx.subject(), ctx.region, "Subscribe"))?;
    let arn = answer
        .subscription_arn()
        .filter(|a| a.starts_with("arn:"))
        .ok_or_else(|| {
            ProviderError::invalid(
                ctx,
                format!(
                    "Subscribe answered {:?} instead of a subscription ARN",
                    answer.subscription_arn().unwrap_or_default()
                ),
            )
        })?
        .to_owned();
    read(p, ctx, &arn)
        .await?
        .ok_or_else(|| ProviderError::Vanished {
            subject: ctx.subject(),
            region: ctx.region.to_owned(),
            id: arn,
        })
}

/// Every attribute forces a replacement, so there is nothing to change: the subscription as it is.
pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _desired: &Attrs,
) -> Result<Observed, ProviderError> {
    read(p, ctx, &prior.id)
        .await?
        .ok_or_else(|| ProviderError::vanished(ctx, &prior.id))
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _config: &Attrs,
) -> Result<(), ProviderError> {
    // Read again: the endpoint may have confirmed since the plan.
    let Some(now) = read(p, ctx, &prior.id).await? else {
        return Ok(());
    };
    if is_pending(&now) {
        // SNS refuses to delete a pending subscription and deletes it itself 48 hours after
        // it was made; there is nothing to do but let it.
        tracing::info!(
            subscription = %prior.id,
            "pending confirmation: SNS deletes it itself within 48 hours"
        );
        return Ok(());
    }
    let answer = p
        .clients
        .sns(ctx.region)
        .unsubscribe()
        .subscription_arn(&prior.id)
        .send()
        .await;
    match answer {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "Unsubscribe")(e)),
    }
}

/// Whether a deleted subscription is left for SNS to expire rather than gone at once (it was
/// pending confirmation): waiting for it to disappear would wait up to 48 hours.
pub(in crate::provider) fn left_to_expire(prior: &Observed) -> bool {
    prior.kind == Kind::SnsSubscription && is_pending(prior)
}

fn is_pending(o: &Observed) -> bool {
    o.computed.get("pending_confirmation") == Some(&Value::Bool(true))
}

/// The endpoint must suit the protocol (Subscribe refuses the others with InvalidParameter).
fn check_endpoint(ctx: &Ctx<'_>, protocol: &str, endpoint: &str) -> Result<(), ProviderError> {
    let ok = match protocol {
        "http" => endpoint.starts_with("http://"),
        "https" => endpoint.starts_with("https://"),
        "email" | "email-json" => endpoint
            .split_once('@')
            .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.')),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(ProviderError::invalid(
            ctx,
            format!("endpoint {endpoint:?} is not a valid {protocol} endpoint"),
        ))
    }
}

fn observe(region: &str, arn: &str, attributes: &HashMap<String, String>) -> Observed {
    let attr = |k: &str| attributes.get(k).map(String::as_str);
    let pending = attr("PendingConfirmation").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    build(
        region,
        arn,
        attr("TopicArn"),
        attr("Protocol"),
        attr("Endpoint"),
        pending,
    )
}

/// A listed subscription: one listed with its ARN is confirmed.
fn observe_listed(region: &str, sub: &Subscription) -> Observed {
    build(
        region,
        sub.subscription_arn().unwrap_or_default(),
        sub.topic_arn(),
        sub.protocol(),
        sub.endpoint(),
        false,
    )
}

fn build(
    region: &str,
    arn: &str,
    topic: Option<&str>,
    protocol: Option<&str>,
    endpoint: Option<&str>,
    pending: bool,
) -> Observed {
    Observed {
        kind: Kind::SnsSubscription,
        region: region.to_owned(),
        attrs: attr_map([
            ("topic_arn", opt_s(topic)),
            ("protocol", opt_s(protocol)),
            ("endpoint", opt_s(endpoint)),
        ]),
        computed: attr_map([
            ("arn", Some(s(arn))),
            ("id", Some(s(arn))),
            ("pending_confirmation", Some(Value::Bool(pending))),
        ]),
        id: arn.to_owned(),
        tags: Default::default(),
        // Pending is ready for regionctl: confirming is the recipient's part.
        status: Status::Ready,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_subscription_is_confirmed_and_pending_comes_from_the_attribute() {
        let listed = Subscription::builder()
            .subscription_arn("arn:aws:sns:eu-west-1:1:t:abc")
            .topic_arn("arn:aws:sns:eu-west-1:1:t")
            .protocol("email")
            .endpoint("ops@example.com")
            .build();
        let o = observe_listed("eu-west-1", &listed);
        assert!(!is_pending(&o));
        assert_eq!(o.id, "arn:aws:sns:eu-west-1:1:t:abc");
        let attrs: HashMap<String, String> = [
            ("PendingConfirmation", "true"),
            ("TopicArn", "arn:aws:sns:eu-west-1:1:t"),
            ("Protocol", "email"),
            ("Endpoint", "ops@example.com"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let read = observe("eu-west-1", "arn:aws:sns:eu-west-1:1:t:abc", &attrs);
        assert!(left_to_expire(&read));
        assert_eq!(read.attrs, o.attrs, "both shapes agree");
    }
}

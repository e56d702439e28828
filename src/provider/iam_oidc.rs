//! `iam_oidc_provider`: CreateOpenIDConnectProvider (with the identity tags),
//! Add/RemoveClientIDToOpenIDConnectProvider, UpdateOpenIDConnectProviderThumbprint,
//! Tag/UntagOpenIDConnectProvider, DeleteOpenIDConnectProvider. Its id is the provider ARN.
//!
//! IAM is global, but a provider belongs to one cluster, so the kind is declared in the
//! cluster's environment and its calls go to IAM through that region's client (IAM answers
//! every region on its one endpoint). ListOpenIDConnectProviders returns ARNs only, and an ARN
//! ends with the issuer's host and path, so a refresh is one listing plus one
//! GetOpenIDConnectProvider (which returns the tags) for each provider the hints name (the
//! spec's URLs, the ARNs in state): a stack's other providers and the account's are never read.
//!
//! Thumbprints, as AWS documents: CreateOpenIDConnectProvider takes no thumbprint list, IAM then
//! retrieves the issuer's top intermediate CA thumbprint itself, and for EKS issuers (whose
//! certificates are signed by a trusted CA) IAM no longer uses the thumbprint at all. So a spec
//! without `thumbprint_list` sends none and accepts whatever IAM stored.

use std::collections::BTreeSet;

use aws_sdk_iam::types::Tag;

use super::attrs::{Attrs, Desired, opt_s, s, str_list, user_tags};
use super::error::{aws, has_code};
use super::{Ctx, Hints, Observed, Provider, ProviderError, Status, Subject, attr_map};
use crate::kind::Kind;
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["NoSuchEntity"];
/// The audience EKS's pod identity webhook puts in projected service account tokens.
const STS_AUDIENCE: &str = "sts.amazonaws.com";

/// The issuer as IAM keeps it and trust policies name it: without the scheme.
fn issuer(url: &str) -> &str {
    url.strip_prefix("https://").unwrap_or(url)
}

/// Whether the provider ARN is the one of `url` (ARNs end in `:oidc-provider/<issuer>`).
fn arn_is_for(arn: &str, url: &str) -> bool {
    arn.split_once(":oidc-provider/")
        .is_some_and(|(_, rest)| rest == issuer(url))
}

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    hints: &Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::IamOidcProvider);
    if hints.names.is_empty() && hints.ids.is_empty() && !p.everything() {
        return Ok(Vec::new());
    }
    // Every provider wanted is recorded: read each by its ARN, with no listing.
    if hints.only_recorded() && !p.everything() {
        let mut out = Vec::new();
        for arn in &hints.ids {
            out.extend(get(p, &subject, region, arn).await?);
        }
        return Ok(out);
    }
    let wanted: BTreeSet<String> = list(p, &subject, region)
        .await?
        .iter()
        .filter(|arn| {
            p.everything()
                || hints.ids.contains(*arn)
                || hints.names.iter().any(|u| arn_is_for(arn, u))
        })
        .cloned()
        .collect();
    let mut out = Vec::new();
    for arn in wanted {
        if let Some(found) = get(p, &subject, region, &arn).await?
            && p.keeps(found.tags.get(crate::provider::STACK_TAG))
        {
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
    get(p, &ctx.subject(), ctx.region, id).await
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let url = d.req_str("url")?;
    if !url.starts_with("https://") {
        return Err(ProviderError::invalid(
            ctx,
            format!("url {url:?} must start with https:// (IAM accepts only HTTPS issuers)"),
        ));
    }
    let clients = match d.get("client_id_list") {
        None | Some(Value::Null) => vec![STS_AUDIENCE.to_owned()],
        Some(_) => d.strs("client_id_list")?,
    };
    let thumbprints = d.strs("thumbprint_list")?;
    let answer = p
        .clients
        .iam(ctx.region)
        .create_open_id_connect_provider()
        .url(url)
        .set_client_id_list(Some(clients))
        .set_thumbprint_list((!thumbprints.is_empty()).then_some(thumbprints))
        .set_tags(Some(to_tags(ctx, &p.identity_tags(ctx.addr, desired))?))
        .send()
        .await;
    let arn = match answer {
        Ok(out) => out.open_id_connect_provider_arn.ok_or_else(|| {
            ProviderError::invalid(ctx, "CreateOpenIDConnectProvider answered without an ARN")
        })?,
        // IAM takes no idempotency token: the provider an interrupted apply of this very
        // resource made (same stack and address tags) is taken over and brought to the spec.
        Err(e) if has_code(&e, &["EntityAlreadyExists"]) => {
            let err = aws(&ctx.subject(), ctx.region, "CreateOpenIDConnectProvider")(e);
            let existing = list(p, &ctx.subject(), ctx.region)
                .await?
                .iter()
                .find(|arn| arn_is_for(arn, url))
                .cloned();
            let prior = match existing {
                Some(arn) => read(p, ctx, &arn).await?,
                None => None,
            };
            return match prior {
                Some(prior)
                    if prior.stack_tag() == Some(p.stack.as_str())
                        && prior.address_tag() == Some(ctx.addr.to_string().as_str()) =>
                {
                    update(p, ctx, &prior, desired).await
                }
                _ => Err(err),
            };
        }
        Err(e) => {
            return Err(aws(
                &ctx.subject(),
                ctx.region,
                "CreateOpenIDConnectProvider",
            )(e));
        }
    };
    p.reread(ctx, &arn).await
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let arn = prior.id.as_str();
    let client = p.clients.iam(ctx.region);
    let subject = ctx.subject();
    let have = |name: &str| -> BTreeSet<String> {
        match prior.attrs.get(name) {
            Some(Value::List(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => BTreeSet::new(),
        }
    };
    // Absent lists are no opinion (see the declaration); given ones are managed exactly.
    if !matches!(d.get("client_id_list"), None | Some(Value::Null)) {
        let want: BTreeSet<String> = d.strs("client_id_list")?.into_iter().collect();
        let live = have("client_id_list");
        // Added first, so the provider never has no audience at all.
        for id in want.difference(&live) {
            client
                .add_client_id_to_open_id_connect_provider()
                .open_id_connect_provider_arn(arn)
                .client_id(id)
                .send()
                .await
                .map_err(aws(
                    &subject,
                    ctx.region,
                    "AddClientIDToOpenIDConnectProvider",
                ))?;
        }
        for id in live.difference(&want) {
            client
                .remove_client_id_from_open_id_connect_provider()
                .open_id_connect_provider_arn(arn)
                .client_id(id)
                .send()
                .await
                .map_err(aws(
                    &subject,
                    ctx.region,
                    "RemoveClientIDFromOpenIDConnectProvider",
                ))?;
        }
    }
    let thumbprints: BTreeSet<String> = d.strs("thumbprint_list")?.into_iter().collect();
    if !thumbprints.is_empty() && thumbprints != have("thumbprint_list") {
        client
            .update_open_id_connect_provider_thumbprint()
            .open_id_connect_provider_arn(arn)
            .set_thumbprint_list(Some(thumbprints.into_iter().collect()))
            .send()
            .await
            .map_err(aws(
                &subject,
                ctx.region,
                "UpdateOpenIDConnectProviderThumbprint",
            ))?;
    }
    super::attrs::sync_tags_with(
        super::attrs::tag_changes_with_identity(p, ctx, &prior.tags, desired),
        async |keys| {
            client
                .untag_open_id_connect_provider()
                .open_id_connect_provider_arn(arn)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map(drop)
                .map_err(aws(&subject, ctx.region, "UntagOpenIDConnectProvider"))
        },
        async |tags| {
            client
                .tag_open_id_connect_provider()
                .open_id_connect_provider_arn(arn)
                .set_tags(Some(to_tags(ctx, &tags.into_iter().collect())?))
                .send()
                .await
                .map(drop)
                .map_err(aws(&subject, ctx.region, "TagOpenIDConnectProvider"))
        },
    )
    .await?;
    p.reread(ctx, arn).await
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _config: &Attrs,
) -> Result<(), ProviderError> {
    match p
        .clients
        .iam(ctx.region)
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&prior.id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(
            &ctx.subject(),
            ctx.region,
            "DeleteOpenIDConnectProvider",
        )(e)),
    }
}

/// Every provider ARN of the account (one call: the API does not page), listed once per refresh
/// batch however many regions' environments ask: the list is the account's, not a region's.
async fn list(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<std::sync::Arc<Vec<String>>, ProviderError> {
    p.memo
        .get_or_read("iam:ListOpenIDConnectProviders", "account", || {
            read_list(p, subject, region)
        })
        .await
}

async fn read_list(
    p: &Provider,
    subject: &Subject,
    region: &str,
) -> Result<Vec<String>, ProviderError> {
    Ok(p.clients
        .iam(region)
        .list_open_id_connect_providers()
        .send()
        .await
        .map_err(aws(subject, region, "ListOpenIDConnectProviders"))?
        .open_id_connect_provider_list
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| e.arn)
        .collect())
}

async fn get(
    p: &Provider,
    subject: &Subject,
    region: &str,
    arn: &str,
) -> Result<Option<Observed>, ProviderError> {
    let out = match p
        .clients
        .iam(region)
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(arn)
        .send()
        .await
    {
        Ok(out) => out,
        // A malformed ARN names no provider either.
        Err(e) if has_code(&e, NOT_FOUND) || has_code(&e, &["InvalidInput"]) => return Ok(None),
        Err(e) => return Err(aws(subject, region, "GetOpenIDConnectProvider")(e)),
    };
    let tags = out
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    let host = out.url().unwrap_or_default().to_owned();
    let host = issuer(&host).to_owned();
    let list = |items: &[String]| (!items.is_empty()).then(|| str_list(items.to_vec(), true));
    Ok(Some(Observed {
        kind: Kind::IamOidcProvider,
        region: region.to_owned(),
        attrs: attr_map([
            ("url", Some(s(format!("https://{host}")))),
            ("client_id_list", list(out.client_id_list())),
            ("thumbprint_list", list(out.thumbprint_list())),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([
            ("arn", Some(s(arn))),
            ("id", Some(s(arn))),
            ("issuer", opt_s(Some(host))),
        ]),
        id: arn.to_owned(),
        tags,
        // A provider has no lifecycle: one that exists is usable.
        status: Status::Ready,
    }))
}

fn to_tags(
    ctx: &Ctx<'_>,
    tags: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<Tag>, ProviderError> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| ProviderError::invalid(ctx, format!("tag {k}: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_arns_end_with_the_issuer() {
        let arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC";
        assert!(arn_is_for(
            arn,
            "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC"
        ));
        assert!(!arn_is_for(
            arn,
            "https://oidc.eks.eu-west-1.amazonaws.com/id/ABCD"
        ));
        assert!(!arn_is_for("arn:aws:iam::1:role/x", "https://x"));
        assert_eq!(issuer("https://a.b/id/C"), "a.b/id/C");
    }
}

//! `ecr_repository` and `ecr_replication_configuration` (regional).
//!
//! A repository: CreateRepository (with the identity tags, scanning, tag mutability and
//! encryption), PutImageScanningConfiguration, PutImageTagMutability, PutLifecyclePolicy /
//! DeleteLifecyclePolicy, TagResource / UntagResource, DeleteRepository (with `force` from the
//! configuration last applied). The id is the repository name. DescribeRepositories returns
//! neither tags nor lifecycle policies, so a refresh is one paginated DescribeRepositories per
//! region, then for each repository the hints name one ListTagsForResource and one
//! GetLifecyclePolicy.
//!
//! The registry's replication configuration: PutReplicationConfiguration with one rule (the
//! destinations and repository filters); delete writes an empty configuration. It cannot be
//! tagged; the id is the registry id, and a refresh is one DescribeRegistry per region.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ecr::types::{
    EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, ImageTagMutability,
    ReplicationConfiguration, ReplicationDestination, ReplicationRule, Repository,
    RepositoryFilter, RepositoryFilterType, Tag,
};

use super::attrs::{Attrs, Desired, opt_s, s, str_list, user_tags};
use super::error::{aws, has_code};
use super::{Ctx, Hints, Observed, Provider, ProviderError, STACK_TAG, Status, Subject, attr_map};
use crate::kind::Kind;
use crate::spec::schema::compare::{AttrCmp, compare};
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["RepositoryNotFoundException"];
const NO_LIFECYCLE: &[&str] = &["LifecyclePolicyNotFoundException"];
const ALREADY_EXISTS: &[&str] = &["RepositoryAlreadyExistsException"];

pub(in crate::provider) mod repository {
    use super::*;

    pub(in crate::provider) async fn refresh(
        p: &Provider,
        region: &str,
        hints: &Hints,
    ) -> Result<Vec<Observed>, ProviderError> {
        let subject = Subject::Kind(Kind::EcrRepository);
        let wanted: BTreeSet<&str> = hints
            .names
            .iter()
            .chain(&hints.ids)
            .map(String::as_str)
            .collect();
        if wanted.is_empty() && !p.everything() {
            return Ok(Vec::new());
        }
        let repos = p
            .clients
            .ecr(region)
            .describe_repositories()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(aws(&subject, region, "DescribeRepositories"))?;
        let mut out = Vec::new();
        for repo in repos {
            if !p.everything() && !repo.repository_name().is_some_and(|n| wanted.contains(n)) {
                continue;
            }
            if let Some(found) = complete(p, &subject, region, repo).await?
                && p.keeps(found.tags.get(STACK_TAG))
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
        let subject = ctx.subject();
        let answer = p
            .clients
            .ecr(ctx.region)
            .describe_repositories()
            .repository_names(id)
            .send()
            .await;
        let repo = match answer {
            Ok(out) => out.repositories().first().cloned(),
            Err(e) if has_code(&e, NOT_FOUND) => None,
            Err(e) => return Err(aws(&subject, ctx.region, "DescribeRepositories")(e)),
        };
        match repo {
            Some(repo) => complete(p, &subject, ctx.region, repo).await,
            None => Ok(None),
        }
    }

    pub(in crate::provider) async fn create(
        p: &Provider,
        ctx: &Ctx<'_>,
        desired: &Attrs,
    ) -> Result<Observed, ProviderError> {
        let d = Desired::new(ctx, desired);
        let name = d.req_str("name")?;
        // Checked before the first call, so a bad value leaves nothing behind.
        check_name(ctx, name)?;
        let encryption = encryption(ctx, &d)?;
        let lifecycle = d.document("lifecycle_policy")?;
        let tags = p.identity_tags(ctx.addr, desired);
        let answer = p
            .clients
            .ecr(ctx.region)
            .create_repository()
            .repository_name(name)
            .set_image_tag_mutability(d.str("image_tag_mutability")?.map(ImageTagMutability::from))
            .set_image_scanning_configuration(d.bool("scan_on_push")?.map(|on| {
                ImageScanningConfiguration::builder()
                    .scan_on_push(on)
                    .build()
            }))
            .set_encryption_configuration(encryption)
            .set_tags(Some(to_tags(ctx, &tags)?))
            .send()
            .await;
        match answer {
            Ok(_) => {}
            // No idempotency token: a retried create finds the repository it made, recognised
            // by its identity tags, and brings it to the spec.
            Err(e) if has_code(&e, ALREADY_EXISTS) => {
                return match read(p, ctx, name).await? {
                    Some(found)
                        if found.stack_tag() == Some(p.stack.as_str())
                            && found.address_tag() == Some(ctx.addr.to_string().as_str()) =>
                    {
                        update(p, ctx, &found, desired).await
                    }
                    _ => Err(aws(&ctx.subject(), ctx.region, "CreateRepository")(e)),
                };
            }
            Err(e) => return Err(aws(&ctx.subject(), ctx.region, "CreateRepository")(e)),
        }
        if let Some(text) = lifecycle {
            put_lifecycle(p, ctx, name, text).await?;
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
        let client = p.clients.ecr(ctx.region);
        let subject = ctx.subject();
        let name = prior.id.as_str();
        let differs = |attr: &str| {
            compare(
                Kind::EcrRepository,
                attr,
                desired.get(attr),
                prior.attrs.get(attr),
            ) == AttrCmp::Differs
        };
        if differs("scan_on_push")
            && let Some(on) = d.bool("scan_on_push")?
        {
            client
                .put_image_scanning_configuration()
                .repository_name(name)
                .image_scanning_configuration(
                    ImageScanningConfiguration::builder()
                        .scan_on_push(on)
                        .build(),
                )
                .send()
                .await
                .map_err(aws(&subject, ctx.region, "PutImageScanningConfiguration"))?;
        }
        if differs("image_tag_mutability")
            && let Some(mutability) = d.str("image_tag_mutability")?
        {
            client
                .put_image_tag_mutability()
                .repository_name(name)
                .image_tag_mutability(ImageTagMutability::from(mutability))
                .send()
                .await
                .map_err(aws(&subject, ctx.region, "PutImageTagMutability"))?;
        }
        if differs("lifecycle_policy") {
            match d.document("lifecycle_policy")? {
                Some(text) => put_lifecycle(p, ctx, name, text).await?,
                None => match client
                    .delete_lifecycle_policy()
                    .repository_name(name)
                    .send()
                    .await
                {
                    Ok(_) => {}
                    Err(e) if has_code(&e, NO_LIFECYCLE) => {}
                    Err(e) => return Err(aws(&subject, ctx.region, "DeleteLifecyclePolicy")(e)),
                },
            }
        }
        let arn = prior
            .computed
            .get("arn")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::invalid(ctx, format!("{name} has no recorded ARN")))?;
        super::super::attrs::sync_tags_with(
            super::super::attrs::tag_changes_with_identity(p, ctx, &prior.tags, desired),
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
                    .set_tags(Some(to_tags(ctx, &tags)?))
                    .send()
                    .await
                    .map(drop)
                    .map_err(aws(&subject, ctx.region, "TagResource"))
            },
        )
        .await?;
        p.reread(ctx, name).await
    }

    pub(in crate::provider) async fn delete(
        p: &Provider,
        ctx: &Ctx<'_>,
        prior: &Observed,
        config: &Attrs,
    ) -> Result<(), ProviderError> {
        let force = config.get("force_delete").and_then(Value::as_bool) == Some(true);
        let answer = p
            .clients
            .ecr(ctx.region)
            .delete_repository()
            .repository_name(&prior.id)
            .force(force)
            .send()
            .await;
        match answer {
            Ok(_) => Ok(()),
            Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
            Err(e) => Err(aws(&ctx.subject(), ctx.region, "DeleteRepository")(e)),
        }
    }

    async fn put_lifecycle(
        p: &Provider,
        ctx: &Ctx<'_>,
        name: &str,
        text: String,
    ) -> Result<(), ProviderError> {
        p.clients
            .ecr(ctx.region)
            .put_lifecycle_policy()
            .repository_name(name)
            .lifecycle_policy_text(text)
            .send()
            .await
            .map(drop)
            .map_err(aws(&ctx.subject(), ctx.region, "PutLifecyclePolicy"))
    }

    /// The encryption the spec asks for; a key needs `encryption_type: KMS`.
    fn encryption(
        ctx: &Ctx<'_>,
        d: &Desired<'_>,
    ) -> Result<Option<EncryptionConfiguration>, ProviderError> {
        let kind = d.str("encryption_type")?;
        let key = d.str("kms_key")?;
        match (kind, key) {
            (None, None) => Ok(None),
            (Some("AES256") | None, Some(_)) => Err(ProviderError::invalid(
                ctx,
                "kms_key needs encryption_type: KMS",
            )),
            (kind, key) => EncryptionConfiguration::builder()
                .encryption_type(EncryptionType::from(kind.unwrap_or("KMS")))
                .set_kms_key(key.map(str::to_owned))
                .build()
                .map(Some)
                .map_err(|e| ProviderError::invalid(ctx, format!("encryption: {e}"))),
        }
    }

    /// Repository names: 2 to 256 characters, lowercase segments of letters and digits joined
    /// by `.`, `_` or `-`, separated by `/` (CreateRepository).
    pub(in crate::provider) fn check_name(ctx: &Ctx<'_>, name: &str) -> Result<(), ProviderError> {
        let segment_ok = |seg: &str| {
            let mut prev_sep = true;
            let ok = seg.chars().all(|c| {
                let sep = matches!(c, '.' | '_' | '-');
                let valid = c.is_ascii_lowercase() || c.is_ascii_digit() || sep;
                // `__` is allowed by the pattern's [._-]? only once between alphanumerics.
                let fine = valid && !(sep && prev_sep);
                prev_sep = sep;
                fine
            });
            ok && !seg.is_empty() && !prev_sep
        };
        let valid = (2..=256).contains(&name.len()) && name.split('/').all(segment_ok);
        if valid {
            Ok(())
        } else {
            Err(ProviderError::invalid(
                ctx,
                format!(
                    "repository name {name:?} must be 2 to 256 characters: lowercase letters and digits, separated by single . _ - within a segment and / between segments"
                ),
            ))
        }
    }

    fn to_tags(ctx: &Ctx<'_>, tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
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

    /// The repository with its tags and lifecycle policy; `None` if it went away meanwhile.
    async fn complete(
        p: &Provider,
        subject: &Subject,
        region: &str,
        repo: Repository,
    ) -> Result<Option<Observed>, ProviderError> {
        let client = p.clients.ecr(region);
        let Some(name) = repo.repository_name().map(str::to_owned) else {
            return Ok(None);
        };
        let tags = match repo.repository_arn() {
            Some(arn) => match client
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
            {
                Ok(out) => out
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect(),
                Err(e) if has_code(&e, NOT_FOUND) => return Ok(None),
                Err(e) => return Err(aws(subject, region, "ListTagsForResource")(e)),
            },
            None => BTreeMap::new(),
        };
        let lifecycle = match client
            .get_lifecycle_policy()
            .repository_name(&name)
            .send()
            .await
        {
            Ok(out) => out.lifecycle_policy_text().map(super::json_document),
            Err(e) if has_code(&e, NO_LIFECYCLE) => None,
            Err(e) if has_code(&e, NOT_FOUND) => return Ok(None),
            Err(e) => return Err(aws(subject, region, "GetLifecyclePolicy")(e)),
        };
        Ok(Some(observed(region, &repo, lifecycle, tags)))
    }

    pub(in crate::provider) fn observed(
        region: &str,
        repo: &Repository,
        lifecycle: Option<Value>,
        tags: BTreeMap<String, String>,
    ) -> Observed {
        let name = repo.repository_name().unwrap_or_default().to_owned();
        let encryption = repo.encryption_configuration();
        Observed {
            kind: Kind::EcrRepository,
            region: region.to_owned(),
            attrs: attr_map([
                ("name", Some(s(&name))),
                (
                    "scan_on_push",
                    repo.image_scanning_configuration()
                        .map(|c| Value::Bool(c.scan_on_push())),
                ),
                (
                    "image_tag_mutability",
                    opt_s(repo.image_tag_mutability().map(|m| m.as_str())),
                ),
                ("lifecycle_policy", lifecycle),
                (
                    "encryption_type",
                    opt_s(encryption.map(|e| e.encryption_type().as_str())),
                ),
                ("kms_key", opt_s(encryption.and_then(|e| e.kms_key()))),
                ("tags", user_tags(&tags)),
            ]),
            computed: attr_map([
                ("arn", opt_s(repo.repository_arn())),
                ("id", Some(s(&name))),
                ("repository_url", opt_s(repo.repository_uri())),
                ("registry_id", opt_s(repo.registry_id())),
            ]),
            id: name,
            tags,
            // Repositories have no lifecycle: one that is listed is usable.
            status: Status::Ready,
        }
    }
}

pub(in crate::provider) mod replication {
    use super::*;

    pub(in crate::provider) async fn refresh(
        p: &Provider,
        region: &str,
        _hints: &Hints,
    ) -> Result<Vec<Observed>, ProviderError> {
        let subject = Subject::Kind(Kind::EcrReplicationConfiguration);
        Ok(describe(p, &subject, region).await?.into_iter().collect())
    }

    pub(in crate::provider) async fn read(
        p: &Provider,
        ctx: &Ctx<'_>,
        id: &str,
    ) -> Result<Option<Observed>, ProviderError> {
        Ok(describe(p, &ctx.subject(), ctx.region)
            .await?
            .filter(|o| o.id == id))
    }

    pub(in crate::provider) async fn create(
        p: &Provider,
        ctx: &Ctx<'_>,
        desired: &Attrs,
    ) -> Result<Observed, ProviderError> {
        put(p, ctx, desired).await
    }

    pub(in crate::provider) async fn update(
        p: &Provider,
        ctx: &Ctx<'_>,
        _prior: &Observed,
        desired: &Attrs,
    ) -> Result<Observed, ProviderError> {
        // One call replaces the whole configuration.
        put(p, ctx, desired).await
    }

    pub(in crate::provider) async fn delete(
        p: &Provider,
        ctx: &Ctx<'_>,
        _prior: &Observed,
        _config: &Attrs,
    ) -> Result<(), ProviderError> {
        let empty = ReplicationConfiguration::builder()
            .set_rules(Some(Vec::new()))
            .build()
            .map_err(|e| ProviderError::invalid(ctx, format!("replication: {e}")))?;
        p.clients
            .ecr(ctx.region)
            .put_replication_configuration()
            .replication_configuration(empty)
            .send()
            .await
            .map(drop)
            .map_err(aws(
                &ctx.subject(),
                ctx.region,
                "PutReplicationConfiguration",
            ))
    }

    async fn put(p: &Provider, ctx: &Ctx<'_>, desired: &Attrs) -> Result<Observed, ProviderError> {
        let d = Desired::new(ctx, desired);
        let bad = |e: aws_sdk_ecr::error::BuildError| {
            ProviderError::invalid(ctx, format!("replication: {e}"))
        };
        let mut destinations = Vec::new();
        // The registry id of a destination in this account: DescribeRegistry's answer.
        let mut own: Option<String> = None;
        for dest in d.objects("destinations")? {
            let region = dest.req_str("region")?;
            if region == ctx.region && dest.str("registry_id")?.is_none() {
                return Err(ProviderError::invalid(
                    ctx,
                    format!("a registry cannot replicate to its own region ({region})"),
                ));
            }
            let registry = match dest.str("registry_id")? {
                Some(id) => id.to_owned(),
                None => match &own {
                    Some(id) => id.clone(),
                    None => {
                        let id = registry_id(p, &ctx.subject(), ctx.region).await?;
                        own = Some(id.clone());
                        id
                    }
                },
            };
            destinations.push(
                ReplicationDestination::builder()
                    .region(region)
                    .registry_id(registry)
                    .build()
                    .map_err(bad)?,
            );
        }
        if destinations.is_empty() || destinations.len() > 25 {
            return Err(ProviderError::invalid(
                ctx,
                "destinations must name 1 to 25 regions",
            ));
        }
        let filters = d
            .strs("repository_filters")?
            .into_iter()
            .map(|f| {
                RepositoryFilter::builder()
                    .filter(f)
                    .filter_type(RepositoryFilterType::PrefixMatch)
                    .build()
                    .map_err(bad)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let rule = ReplicationRule::builder()
            .set_destinations(Some(destinations))
            .set_repository_filters((!filters.is_empty()).then_some(filters))
            .build()
            .map_err(bad)?;
        let config = ReplicationConfiguration::builder()
            .rules(rule)
            .build()
            .map_err(bad)?;
        p.clients
            .ecr(ctx.region)
            .put_replication_configuration()
            .replication_configuration(config)
            .send()
            .await
            .map_err(aws(
                &ctx.subject(),
                ctx.region,
                "PutReplicationConfiguration",
            ))?;
        describe(p, &ctx.subject(), ctx.region)
            .await?
            .ok_or_else(|| ProviderError::Vanished {
                subject: ctx.subject(),
                region: ctx.region.to_owned(),
                id: own.unwrap_or_default(),
            })
    }

    async fn registry_id(
        p: &Provider,
        subject: &Subject,
        region: &str,
    ) -> Result<String, ProviderError> {
        p.clients
            .ecr(region)
            .describe_registry()
            .send()
            .await
            .map_err(aws(subject, region, "DescribeRegistry"))?
            .registry_id()
            .map(str::to_owned)
            .ok_or_else(|| ProviderError::Vanished {
                subject: subject.clone(),
                region: region.to_owned(),
                id: "registry".to_owned(),
            })
    }

    /// The registry's configuration, if it has a rule (an empty one is no configuration).
    async fn describe(
        p: &Provider,
        subject: &Subject,
        region: &str,
    ) -> Result<Option<Observed>, ProviderError> {
        let out = p
            .clients
            .ecr(region)
            .describe_registry()
            .send()
            .await
            .map_err(aws(subject, region, "DescribeRegistry"))?;
        let Some(registry) = out.registry_id() else {
            return Ok(None);
        };
        Ok(out
            .replication_configuration()
            .and_then(|c| c.rules().first())
            .map(|rule| observed(region, registry, rule)))
    }

    pub(in crate::provider) fn observed(
        region: &str,
        registry: &str,
        rule: &ReplicationRule,
    ) -> Observed {
        let destinations = rule
            .destinations()
            .iter()
            .map(|dest| {
                let mut m = BTreeMap::new();
                m.insert("region".to_owned(), s(dest.region()));
                // A destination in this account is written without its registry id.
                if dest.registry_id() != registry {
                    m.insert("registry_id".to_owned(), s(dest.registry_id()));
                }
                Value::Map(m)
            })
            .collect();
        let filters: Vec<&str> = rule
            .repository_filters()
            .iter()
            .map(RepositoryFilter::filter)
            .collect();
        Observed {
            kind: Kind::EcrReplicationConfiguration,
            region: region.to_owned(),
            attrs: attr_map([
                ("destinations", Some(Value::List(destinations))),
                (
                    "repository_filters",
                    (!filters.is_empty()).then(|| str_list(filters, true)),
                ),
            ]),
            computed: attr_map([("id", Some(s(registry)))]),
            id: registry.to_owned(),
            tags: BTreeMap::new(),
            status: Status::Ready,
        }
    }
}

/// A JSON document as a value; one that is not JSON stays a string.
fn json_document(text: &str) -> Value {
    serde_json::from_str::<serde_json::Value>(text)
        .map_or_else(|_| s(text), |json| Value::from_json(&json))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::InstanceAddr;

    #[test]
    fn repository_names_follow_ecr_s_pattern() {
        let addr: InstanceAddr = "eu-west-1/ecr_repository.x".parse().expect("address");
        let ctx = Ctx {
            addr: &addr,
            kind: Kind::EcrRepository,
            region: "eu-west-1",
            token: "t",
        };
        for good in ["ab", "platform/api", "a.b-c_d/e2", "x1/y2/z3"] {
            assert!(repository::check_name(&ctx, good).is_ok(), "{good}");
        }
        for bad in ["a", "Upper", "a//b", "a/", "-a", "a-", "a..b", "has space"] {
            assert!(repository::check_name(&ctx, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn own_account_destinations_omit_the_registry_id() {
        let rule = ReplicationRule::builder()
            .destinations(
                ReplicationDestination::builder()
                    .region("us-west-2")
                    .registry_id("111")
                    .build()
                    .expect("complete"),
            )
            .destinations(
                ReplicationDestination::builder()
                    .region("eu-west-1")
                    .registry_id("222")
                    .build()
                    .expect("complete"),
            )
            .build()
            .expect("complete");
        let o = replication::observed("us-east-1", "111", &rule);
        let Some(Value::List(dests)) = o.attrs.get("destinations") else {
            panic!("destinations: {o:?}");
        };
        assert_eq!(
            dests[0].to_json(),
            serde_json::json!({"region": "us-west-2"})
        );
        assert_eq!(
            dests[1].to_json(),
            serde_json::json!({"region": "eu-west-1", "registry_id": "222"})
        );
        assert_eq!(o.attrs.get("repository_filters"), None);
    }
}

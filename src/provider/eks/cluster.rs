//! `eks_cluster`: CreateCluster (with `clientRequestToken`), UpdateClusterVersion,
//! UpdateClusterConfig (one kind of change per call, as EKS requires), TagResource /
//! UntagResource, DeleteCluster. Secrets encryption (`encryption_config`) is given to
//! CreateCluster, or added to a cluster without it by AssociateEncryptionConfig; EKS can neither
//! change nor remove it, so the planner replaces the cluster for that (`force_new_once_set`).

use std::collections::{BTreeSet, HashMap};

use aws_sdk_eks::types::{
    AuthenticationMode, Cluster, CreateAccessConfigRequest, EncryptionConfig,
    KubernetesNetworkConfigRequest, LogSetup, LogType, Logging, SupportType,
    UpdateAccessConfigRequest, UpgradePolicyRequest, VpcConfigRequest,
};

use super::{
    NOT_FOUND, Sequence, describe_cluster, describe_cluster_once, is_ours, stack_clusters, status,
    string_set, sync_tags, tag_map,
};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, str_list, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::tag_index;
use crate::provider::{Ctx, Observed, Provider, ProviderError, Subject, attr_map};
use crate::spec::value::Value;

/// The control plane log types EKS knows, in its own order.
const LOG_TYPES: [&str; 5] = [
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
];

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    hints: &crate::provider::Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::EksCluster);
    // In a refresh batch, when the region's tag index lists every cluster the refresh asks about
    // (named by the spec, recorded in state), its list of the stack's clusters stands in for
    // ListClusters and a DescribeCluster of every cluster in the region. One missing (not made
    // yet, or made moments ago and not indexed yet) takes the full path.
    // When every cluster wanted is recorded, they are described while the index is read; the
    // memo keeps the answers for the loop below and for the other EKS kinds.
    let index = tag_index::clusters(p, &subject, region);
    let indexed = super::index_while_describing(p, hints, index, |p, name| {
        let (subject, region) = (subject.clone(), region.to_owned());
        async move {
            describe_cluster_once(&p, &subject, &region, &name).await?;
            Ok(())
        }
    })
    .await?;
    if let Some(indexed) = indexed
        && hints
            .names
            .iter()
            .chain(&hints.ids)
            .all(|n| indexed.contains(n))
    {
        let mut out = Vec::new();
        for name in &indexed {
            if let Some(cluster) = describe_cluster_once(p, &subject, region, name).await?
                && is_ours(p, cluster.tags.as_ref())
            {
                out.push(observe(region, cluster));
            }
        }
        return Ok(out);
    }
    Ok(stack_clusters(p, &subject, region)
        .await?
        .into_iter()
        .map(|c| observe(region, c))
        .collect())
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(describe_cluster(p, &ctx.subject(), ctx.region, id)
        .await?
        .map(|c| observe(ctx.region, c)))
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let vpc = VpcConfigRequest::builder()
        .set_subnet_ids(Some(d.strs("subnet_ids")?))
        .set_security_group_ids(non_empty(d.strs("security_group_ids")?))
        .set_endpoint_public_access(d.bool("endpoint_public_access")?)
        .set_endpoint_private_access(d.bool("endpoint_private_access")?)
        .set_public_access_cidrs(non_empty(d.strs("public_access_cidrs")?))
        .build();
    let enabled: BTreeSet<String> = d.strs("logging")?.into_iter().collect();
    let logging = (!enabled.is_empty()).then(|| logging(&enabled));
    let network = d.str("service_ipv4_cidr")?.map(|cidr| {
        KubernetesNetworkConfigRequest::builder()
            .service_ipv4_cidr(cidr)
            .build()
    });
    let access = d.str("authentication_mode")?.map(|mode| {
        CreateAccessConfigRequest::builder()
            .authentication_mode(AuthenticationMode::from(mode))
            .build()
    });
    let upgrade = d.str("support_type")?.map(|t| {
        UpgradePolicyRequest::builder()
            .support_type(SupportType::from(t))
            .build()
    });
    let encryption = encryption_config(&d)?;
    let tags: HashMap<String, String> = p.identity_tags(ctx.addr, desired).into_iter().collect();
    let cluster = p
        .clients
        .eks(ctx.region)
        .create_cluster()
        .name(d.req_str("name")?)
        .set_version(d.str("version")?.map(str::to_owned))
        .role_arn(d.req_str("role_arn")?)
        .resources_vpc_config(vpc)
        .set_logging(logging)
        .set_kubernetes_network_config(network)
        .set_access_config(access)
        .set_upgrade_policy(upgrade)
        .set_encryption_config(encryption.map(|e| vec![e]))
        .client_request_token(ctx.token)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(aws(&ctx.subject(), ctx.region, "CreateCluster"))?
        .cluster
        .ok_or_else(|| ProviderError::invalid(ctx, "CreateCluster answered without a cluster"))?;
    Ok(observe(ctx.region, cluster))
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let name = prior.id.as_str();
    let client = p.clients.eks(ctx.region);
    let subject = ctx.subject();
    if let Some(arn) = prior.computed.get("arn").and_then(Value::as_str) {
        sync_tags(p, ctx, arn, &prior.tags, desired).await?;
    }
    let mut seq = Sequence::new(name, None);

    let have_version = prior.attrs.get("version").and_then(Value::as_str);
    if let Some(want) = d.str("version")?
        && have_version != Some(want)
    {
        check_one_minor_step(ctx, have_version, want)?;
        let out = client
            .update_cluster_version()
            .name(name)
            .version(want)
            .send()
            .await
            .map_err(aws(&subject, ctx.region, "UpdateClusterVersion"))?;
        seq.started(ctx, out.update, "UpdateClusterVersion")?;
    }

    for change in config_changes(&d, prior)? {
        seq.ready(p, ctx).await?;
        let call = client.update_cluster_config().name(name);
        let call = match change {
            Change::SecurityGroups(groups) => call.resources_vpc_config(
                VpcConfigRequest::builder()
                    .set_subnet_ids(Some(d.strs("subnet_ids")?))
                    .set_security_group_ids(Some(groups))
                    .build(),
            ),
            Change::Endpoint(vpc) => call.resources_vpc_config(vpc),
            Change::Logging(enabled) => call.logging(logging(&enabled)),
            Change::Access(mode) => call.access_config(
                UpdateAccessConfigRequest::builder()
                    .authentication_mode(AuthenticationMode::from(mode.as_str()))
                    .build(),
            ),
            Change::Upgrade(support) => call.upgrade_policy(
                UpgradePolicyRequest::builder()
                    .support_type(SupportType::from(support.as_str()))
                    .build(),
            ),
        };
        let out = call
            .send()
            .await
            .map_err(aws(&subject, ctx.region, "UpdateClusterConfig"))?;
        seq.started(ctx, out.update, "UpdateClusterConfig")?;
    }

    // Added to a cluster that has none; a change or removal is a replacement, never an update.
    if !prior
        .attrs
        .get("encryption_config")
        .is_some_and(|v| !matches!(v, Value::Null))
        && let Some(config) = encryption_config(&d)?
    {
        seq.ready(p, ctx).await?;
        let out = client
            .associate_encryption_config()
            .cluster_name(name)
            .encryption_config(config)
            .client_request_token(ctx.token)
            .send()
            .await
            .map_err(aws(&subject, ctx.region, "AssociateEncryptionConfig"))?;
        seq.started(ctx, out.update, "AssociateEncryptionConfig")?;
    }

    read(p, ctx, name)
        .await?
        .ok_or_else(|| ProviderError::Vanished {
            subject,
            region: ctx.region.to_owned(),
            id: name.to_owned(),
        })
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _config: &crate::provider::Attrs,
) -> Result<(), ProviderError> {
    match p
        .clients
        .eks(ctx.region)
        .delete_cluster()
        .name(&prior.id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "DeleteCluster")(e)),
    }
}

/// The spec's `encryption_config` as EKS takes it: the key as the provider, and `resources:
/// [secrets]`, the one value EKS has accepted. The SDK marks `resources` deprecated (EKS now
/// encrypts all API data), but the API still documents it and terraform-provider-aws still
/// sends it, so it is sent rather than left to a default older endpoints may not have.
#[allow(deprecated)]
fn encryption_config(d: &Desired<'_>) -> Result<Option<EncryptionConfig>, ProviderError> {
    let Some(block) = d.object("encryption_config")? else {
        return Ok(None);
    };
    let resources = vec!["secrets".to_owned()];
    Ok(Some(
        EncryptionConfig::builder()
            .provider(
                aws_sdk_eks::types::Provider::builder()
                    .key_arn(block.req_str("key_arn")?)
                    .build(),
            )
            .set_resources(Some(resources))
            .build(),
    ))
}

/// One UpdateClusterConfig call: EKS accepts a single kind of change per call.
enum Change {
    SecurityGroups(Vec<String>),
    Endpoint(VpcConfigRequest),
    Logging(BTreeSet<String>),
    Access(String),
    Upgrade(String),
}

fn config_changes(d: &Desired<'_>, prior: &Observed) -> Result<Vec<Change>, ProviderError> {
    let mut out = Vec::new();
    let have = |name: &str| prior.attrs.get(name);

    let groups: BTreeSet<String> = d.strs("security_group_ids")?.into_iter().collect();
    if groups != string_set(have("security_group_ids")) {
        out.push(Change::SecurityGroups(groups.into_iter().collect()));
    }

    // Only what the spec sets and differs is sent; AWS keeps the rest.
    let differs = |name: &str, want: Option<bool>| {
        want.filter(|w| have(name).and_then(Value::as_bool) != Some(*w))
    };
    let public = differs("endpoint_public_access", d.bool("endpoint_public_access")?);
    let private = differs(
        "endpoint_private_access",
        d.bool("endpoint_private_access")?,
    );
    let cidrs = match d.get("public_access_cidrs") {
        None => None,
        Some(_) => {
            let want: BTreeSet<String> = d.strs("public_access_cidrs")?.into_iter().collect();
            (want != string_set(have("public_access_cidrs"))).then(|| want.into_iter().collect())
        }
    };
    if public.is_some() || private.is_some() || cidrs.is_some() {
        out.push(Change::Endpoint(
            VpcConfigRequest::builder()
                .set_endpoint_public_access(public)
                .set_endpoint_private_access(private)
                .set_public_access_cidrs(cidrs)
                .build(),
        ));
    }

    let enabled: BTreeSet<String> = d.strs("logging")?.into_iter().collect();
    if enabled != string_set(have("logging")) {
        out.push(Change::Logging(enabled));
    }
    for (name, wrap) in [
        (
            "authentication_mode",
            Change::Access as fn(String) -> Change,
        ),
        ("support_type", Change::Upgrade),
    ] {
        if let Some(want) = d.str(name)?
            && have(name).and_then(Value::as_str) != Some(want)
        {
            out.push(wrap(want.to_owned()));
        }
    }
    Ok(out)
}

/// EKS upgrades a control plane one minor version at a time and never downgrades; saying so
/// before calling AWS names the version to go through.
fn check_one_minor_step(
    ctx: &Ctx<'_>,
    have: Option<&str>,
    want: &str,
) -> Result<(), ProviderError> {
    let Some(have) = have else { return Ok(()) };
    match (minor(have), minor(want)) {
        (Some((hm, hn)), Some((wm, wn))) if hm == wm && wn == hn + 1 => Ok(()),
        (Some((hm, hn)), Some((wm, wn))) if (wm, wn) < (hm, hn) => Err(ProviderError::invalid(
            ctx,
            format!(
                "EKS cannot downgrade a cluster: it runs Kubernetes {have}, the spec asks for {want}"
            ),
        )),
        (Some((hm, hn)), Some(_)) => Err(ProviderError::invalid(
            ctx,
            format!(
                "EKS upgrades a cluster one minor version at a time: it runs Kubernetes {have}, \
                 so set version to \"{hm}.{}\" and apply before going to {want}",
                hn + 1
            ),
        )),
        _ => Err(ProviderError::invalid(
            ctx,
            format!(
                "cannot read Kubernetes version {want:?} (or the current {have:?}) as major.minor"
            ),
        )),
    }
}

fn minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The logging configuration enabling exactly `enabled` (every other type disabled).
fn logging(enabled: &BTreeSet<String>) -> Logging {
    let (on, off): (Vec<&str>, Vec<&str>) = LOG_TYPES.iter().partition(|t| enabled.contains(**t));
    let mut builder = Logging::builder();
    for (types, flag) in [(on, true), (off, false)] {
        if !types.is_empty() {
            builder = builder.cluster_logging(
                LogSetup::builder()
                    .set_types(Some(types.into_iter().map(LogType::from).collect()))
                    .enabled(flag)
                    .build(),
            );
        }
    }
    builder.build()
}

fn non_empty(items: Vec<String>) -> Option<Vec<String>> {
    (!items.is_empty()).then_some(items)
}

/// The cluster's secrets encryption in the spec's shape (`{key_arn}`), if any. EKS answers a
/// list; it holds at most one configuration.
fn encryption_value(cluster: &Cluster) -> Option<Value> {
    let config = cluster.encryption_config().first()?;
    let key = config.provider.as_ref()?.key_arn.clone()?;
    Some(Value::Map(
        [("key_arn".to_owned(), s(key))].into_iter().collect(),
    ))
}

fn observe(region: &str, cluster: Cluster) -> Observed {
    let name = cluster.name.clone().unwrap_or_default();
    let vpc = cluster.resources_vpc_config.as_ref();
    let enabled: Vec<String> = cluster
        .logging
        .iter()
        .flat_map(|l| l.cluster_logging())
        .filter(|setup| setup.enabled == Some(true))
        .flat_map(|setup| setup.types())
        .map(|t| t.as_str().to_owned())
        .collect();
    let groups = vpc
        .map(|v| v.security_group_ids().to_vec())
        .unwrap_or_default();
    let cidrs = vpc
        .map(|v| v.public_access_cidrs().to_vec())
        .unwrap_or_default();
    let tags = tag_map(cluster.tags.clone());
    Observed {
        kind: Kind::EksCluster,
        region: region.to_owned(),
        attrs: attr_map([
            ("name", Some(s(&name))),
            ("version", opt_s(cluster.version.clone())),
            ("role_arn", opt_s(cluster.role_arn.clone())),
            (
                "subnet_ids",
                vpc.map(|v| str_list(v.subnet_ids().to_vec(), true)),
            ),
            (
                "security_group_ids",
                (!groups.is_empty()).then(|| str_list(groups, true)),
            ),
            (
                "endpoint_public_access",
                vpc.map(|v| Value::Bool(v.endpoint_public_access)),
            ),
            (
                "endpoint_private_access",
                vpc.map(|v| Value::Bool(v.endpoint_private_access)),
            ),
            (
                "public_access_cidrs",
                (!cidrs.is_empty()).then(|| str_list(cidrs, true)),
            ),
            (
                "logging",
                (!enabled.is_empty()).then(|| str_list(enabled, true)),
            ),
            (
                "service_ipv4_cidr",
                opt_s(
                    cluster
                        .kubernetes_network_config
                        .as_ref()
                        .and_then(|n| n.service_ipv4_cidr.clone()),
                ),
            ),
            (
                "authentication_mode",
                opt_s(
                    cluster
                        .access_config
                        .as_ref()
                        .and_then(|a| a.authentication_mode.as_ref())
                        .map(|m| m.as_str().to_owned()),
                ),
            ),
            (
                "support_type",
                opt_s(
                    cluster
                        .upgrade_policy
                        .as_ref()
                        .and_then(|u| u.support_type.as_ref())
                        .map(|t| t.as_str().to_owned()),
                ),
            ),
            ("encryption_config", encryption_value(&cluster)),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([
            ("arn", opt_s(cluster.arn.clone())),
            ("id", Some(s(&name))),
            ("endpoint", opt_s(cluster.endpoint.clone())),
            (
                "certificate_authority",
                opt_s(
                    cluster
                        .certificate_authority
                        .as_ref()
                        .and_then(|c| c.data.clone()),
                ),
            ),
            (
                "oidc_issuer",
                opt_s(
                    cluster
                        .identity
                        .as_ref()
                        .and_then(|i| i.oidc.as_ref())
                        .and_then(|o| o.issuer.clone()),
                ),
            ),
            ("platform_version", opt_s(cluster.platform_version.clone())),
            (
                "cluster_security_group_id",
                opt_s(vpc.and_then(|v| v.cluster_security_group_id.clone())),
            ),
        ]),
        status: status(cluster.status.as_ref().map(|s| s.as_str())),
        id: name,
        tags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_read_as_major_minor() {
        assert_eq!(minor("1.31"), Some((1, 31)));
        assert_eq!(minor("1.31.2"), Some((1, 31)));
        assert_eq!(minor("one"), None);
    }

    #[test]
    fn logging_enables_exactly_the_given_types() {
        let enabled: BTreeSet<String> = ["audit".to_owned(), "api".to_owned()].into();
        let l = logging(&enabled);
        let setups = l.cluster_logging();
        assert_eq!(setups.len(), 2);
        assert_eq!(setups[0].enabled, Some(true));
        assert_eq!(setups[0].types(), &[LogType::Api, LogType::Audit]);
        assert_eq!(setups[1].enabled, Some(false));
        assert_eq!(setups[1].types().len(), 3);
    }
}

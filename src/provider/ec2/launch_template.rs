//! `launch_template`: CreateLaunchTemplate (with `ClientToken` and the identity tags), a change
//! as CreateLaunchTemplateVersion of the whole data followed by ModifyLaunchTemplate making it
//! the default, CreateTags / DeleteTags, DeleteLaunchTemplate. Its id is the template id.
//!
//! A refresh is two paged calls per region whatever the number of templates: the stack's
//! templates (DescribeLaunchTemplates filtered by the stack tag), then the latest version of
//! every template (DescribeLaunchTemplateVersions with `$Latest` and no template id, the form
//! the EC2 API reference gives for "all your launch templates"), matched by id.
//!
//! EC2 versions are immutable, so the data regionctl reports is the latest version's, which it
//! also makes the default; a node group names the version it runs explicitly.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_ec2::types::{
    LaunchTemplate, LaunchTemplateBlockDeviceMappingRequest, LaunchTemplateEbsBlockDeviceRequest,
    LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataEndpointState,
    LaunchTemplateInstanceMetadataOptionsRequest, LaunchTemplateTagSpecificationRequest,
    LaunchTemplateVersion, RequestLaunchTemplateData, ResourceType, VolumeType,
};

use super::{arn, from_tags, read_back, stack_filters, sync_tags, tag_spec, to_tags};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::{Ctx, Observed, Provider, ProviderError, Status, Subject, attr_map};
use crate::spec::schema::compare::{AttrCmp, compare};
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &[
    "InvalidLaunchTemplateId.NotFound",
    "InvalidLaunchTemplateId.Malformed",
    "InvalidLaunchTemplateName.NotFoundException",
];
const ALREADY_EXISTS: &[&str] = &["InvalidLaunchTemplateName.AlreadyExistsException"];

/// The root device of the EKS-optimized AL2 and AL2023 AMIs, written when the spec sets a root
/// volume without naming the device (the schema's default for `root_device_name`).
const ROOT_DEVICE: &str = "/dev/xvda";

/// The attributes written into a version: any of them differing makes a new version.
const DATA_ATTRS: [&str; 10] = [
    "http_tokens",
    "http_put_response_hop_limit",
    "http_endpoint",
    "root_volume_size",
    "root_volume_type",
    "root_volume_encrypted",
    "root_volume_kms_key_id",
    "root_device_name",
    "image_id",
    "instance_tags",
];

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    _hints: &crate::provider::Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::LaunchTemplate);
    let client = p.clients.ec2(region);
    let templates: Vec<LaunchTemplate> = client
        .describe_launch_templates()
        .set_filters(stack_filters(p))
        .max_results(200)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(aws(&subject, region, "DescribeLaunchTemplates"))?;
    if templates.is_empty() {
        return Ok(Vec::new());
    }
    let versions: Vec<LaunchTemplateVersion> = client
        .describe_launch_template_versions()
        .versions("$Latest")
        .max_results(200)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(aws(&subject, region, "DescribeLaunchTemplateVersions"))?;
    let mut latest: HashMap<String, LaunchTemplateVersion> = versions
        .into_iter()
        .filter_map(|v| Some((v.launch_template_id.clone()?, v)))
        .collect();
    Ok(templates
        .into_iter()
        .map(|t| {
            let version = t
                .launch_template_id
                .as_deref()
                .and_then(|id| latest.remove(id));
            observe(region, t, version)
        })
        .collect())
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let client = p.clients.ec2(ctx.region);
    let subject = ctx.subject();
    let template = match client
        .describe_launch_templates()
        .launch_template_ids(id)
        .send()
        .await
    {
        Ok(out) => out.launch_templates.unwrap_or_default().into_iter().next(),
        Err(e) if has_code(&e, NOT_FOUND) => None,
        Err(e) => return Err(aws(&subject, ctx.region, "DescribeLaunchTemplates")(e)),
    };
    let Some(template) = template else {
        return Ok(None);
    };
    let version = match client
        .describe_launch_template_versions()
        .launch_template_id(id)
        .versions("$Latest")
        .send()
        .await
    {
        Ok(out) => out
            .launch_template_versions
            .unwrap_or_default()
            .into_iter()
            .next(),
        // Deleted between the two calls.
        Err(e) if has_code(&e, NOT_FOUND) => return Ok(None),
        Err(e) => {
            return Err(aws(&subject, ctx.region, "DescribeLaunchTemplateVersions")(
                e,
            ));
        }
    };
    Ok(Some(observe(ctx.region, template, version)))
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let name = d.req_str("name")?;
    let data = data(&d)?;
    let answer = p
        .clients
        .ec2(ctx.region)
        .create_launch_template()
        .launch_template_name(name)
        .launch_template_data(data)
        .client_token(ctx.token)
        .tag_specifications(tag_spec(p, ctx, desired, ResourceType::LaunchTemplate))
        .send()
        .await;
    let id = match answer {
        Ok(out) => out
            .launch_template
            .and_then(|t| t.launch_template_id)
            .ok_or_else(|| {
                ProviderError::invalid(ctx, "CreateLaunchTemplate answered without an id")
            })?,
        // A create retried after a lost answer (where EC2 did not deduplicate by the token)
        // finds the template it made by the token tag, and brings it to the spec.
        Err(e) if has_code(&e, ALREADY_EXISTS) => {
            let err = aws(&ctx.subject(), ctx.region, "CreateLaunchTemplate")(e);
            let Some(id) = super::find_by_token(p, ctx, "lt-").await? else {
                return Err(err);
            };
            let found = read_back(p, ctx, &id).await?;
            return update(p, ctx, &found, desired).await;
        }
        Err(e) => return Err(aws(&ctx.subject(), ctx.region, "CreateLaunchTemplate")(e)),
    };
    read_back(p, ctx, &id).await
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let differs = DATA_ATTRS.iter().any(|a| {
        compare(
            Kind::LaunchTemplate,
            a,
            desired.get(*a),
            prior.attrs.get(*a),
        ) == AttrCmp::Differs
    });
    if differs {
        let client = p.clients.ec2(ctx.region);
        let subject = ctx.subject();
        let version = client
            .create_launch_template_version()
            .launch_template_id(&prior.id)
            .launch_template_data(data(&d)?)
            // The same change retried makes no second version.
            .client_token(ctx.token)
            .send()
            .await
            .map_err(aws(&subject, ctx.region, "CreateLaunchTemplateVersion"))?
            .launch_template_version
            .and_then(|v| v.version_number)
            .ok_or_else(|| {
                ProviderError::invalid(
                    ctx,
                    "CreateLaunchTemplateVersion answered without a version number",
                )
            })?;
        // Instances launched without a version (and the console) use the default.
        client
            .modify_launch_template()
            .launch_template_id(&prior.id)
            .default_version(version.to_string())
            .send()
            .await
            .map_err(aws(&subject, ctx.region, "ModifyLaunchTemplate"))?;
    }
    sync_tags(p, ctx, &prior.id, &prior.tags, desired).await?;
    read_back(p, ctx, &prior.id).await
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _config: &Attrs,
) -> Result<(), ProviderError> {
    match p
        .clients
        .ec2(ctx.region)
        .delete_launch_template()
        .launch_template_id(&prior.id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "DeleteLaunchTemplate")(e)),
    }
}

/// The whole data of a version, from the spec: only what it sets.
fn data(d: &Desired<'_>) -> Result<RequestLaunchTemplateData, ProviderError> {
    let tokens = d.str("http_tokens")?;
    let hops = d.i32("http_put_response_hop_limit")?;
    let endpoint = d.str("http_endpoint")?;
    let metadata = (tokens.is_some() || hops.is_some() || endpoint.is_some()).then(|| {
        LaunchTemplateInstanceMetadataOptionsRequest::builder()
            .set_http_tokens(tokens.map(LaunchTemplateHttpTokensState::from))
            .set_http_put_response_hop_limit(hops)
            .set_http_endpoint(endpoint.map(LaunchTemplateInstanceMetadataEndpointState::from))
            .build()
    });
    let size = d.i32("root_volume_size")?;
    let volume_type = d.str("root_volume_type")?;
    let encrypted = d.bool("root_volume_encrypted")?;
    let key = d.str("root_volume_kms_key_id")?;
    let device = d.str("root_device_name")?;
    let root = (size.is_some() || volume_type.is_some() || encrypted.is_some() || key.is_some())
        .then(|| {
            LaunchTemplateBlockDeviceMappingRequest::builder()
                .device_name(device.unwrap_or(ROOT_DEVICE))
                .ebs(
                    LaunchTemplateEbsBlockDeviceRequest::builder()
                        .set_volume_size(size)
                        .set_volume_type(volume_type.map(VolumeType::from))
                        .set_encrypted(encrypted)
                        .set_kms_key_id(key.map(str::to_owned))
                        // A node's root volume lives and dies with the node.
                        .delete_on_termination(true)
                        .build(),
                )
                .build()
        });
    let instance_tags = d.str_map("instance_tags")?;
    let tag_specs: Vec<LaunchTemplateTagSpecificationRequest> = if instance_tags.is_empty() {
        Vec::new()
    } else {
        [ResourceType::Instance, ResourceType::Volume]
            .into_iter()
            .map(|rt| {
                LaunchTemplateTagSpecificationRequest::builder()
                    .resource_type(rt)
                    .set_tags(Some(to_tags(&instance_tags)))
                    .build()
            })
            .collect()
    };
    Ok(RequestLaunchTemplateData::builder()
        .set_metadata_options(metadata)
        .set_block_device_mappings(root.map(|r| vec![r]))
        .set_image_id(d.str("image_id")?.map(str::to_owned))
        .set_tag_specifications((!tag_specs.is_empty()).then_some(tag_specs))
        .build())
}

fn observe(
    region: &str,
    template: LaunchTemplate,
    version: Option<LaunchTemplateVersion>,
) -> Observed {
    let id = template.launch_template_id.clone().unwrap_or_default();
    let tags = from_tags(template.tags());
    let data = version.and_then(|v| v.launch_template_data);
    let metadata = data.as_ref().and_then(|d| d.metadata_options.as_ref());
    // The root volume: the mapping of the device the spec names (or /dev/xvda), else the only one.
    let mappings = data
        .as_ref()
        .map(|d| d.block_device_mappings())
        .unwrap_or_default();
    let root = mappings
        .iter()
        .find(|m| m.device_name.as_deref() == Some(ROOT_DEVICE))
        .or_else(|| mappings.first());
    let ebs = root.and_then(|m| m.ebs.as_ref());
    let instance_tags: BTreeMap<String, Value> = data
        .as_ref()
        .map(|d| d.tag_specifications())
        .unwrap_or_default()
        .iter()
        .filter(|t| t.resource_type == Some(ResourceType::Instance))
        .flat_map(|t| from_tags(t.tags()))
        .map(|(k, v)| (k, Value::Str(v)))
        .collect();
    let number = |n: Option<i64>| n.map(|n| Value::Str(n.to_string()));
    // CreatedBy is the creator's ARN (arn:aws:iam::<account>:...): the template's account.
    let account = template
        .created_by
        .as_deref()
        .and_then(|c| c.split(':').nth(4))
        .filter(|a| !a.is_empty());
    Observed {
        kind: Kind::LaunchTemplate,
        region: region.to_owned(),
        attrs: attr_map([
            ("name", opt_s(template.launch_template_name.clone())),
            (
                "http_tokens",
                opt_s(
                    metadata
                        .and_then(|m| m.http_tokens.as_ref())
                        .map(|t| t.as_str()),
                ),
            ),
            (
                "http_put_response_hop_limit",
                metadata
                    .and_then(|m| m.http_put_response_hop_limit)
                    .map(|n| Value::Int(i64::from(n))),
            ),
            (
                "http_endpoint",
                opt_s(
                    metadata
                        .and_then(|m| m.http_endpoint.as_ref())
                        .map(|e| e.as_str()),
                ),
            ),
            (
                "root_volume_size",
                ebs.and_then(|e| e.volume_size)
                    .map(|n| Value::Int(i64::from(n))),
            ),
            (
                "root_volume_type",
                opt_s(ebs.and_then(|e| e.volume_type.as_ref()).map(|t| t.as_str())),
            ),
            (
                "root_volume_encrypted",
                ebs.and_then(|e| e.encrypted).map(Value::Bool),
            ),
            (
                "root_volume_kms_key_id",
                opt_s(ebs.and_then(|e| e.kms_key_id.clone())),
            ),
            (
                "root_device_name",
                opt_s(root.and_then(|m| m.device_name.clone())),
            ),
            (
                "image_id",
                opt_s(data.as_ref().and_then(|d| d.image_id.clone())),
            ),
            (
                "instance_tags",
                (!instance_tags.is_empty()).then_some(Value::Map(instance_tags)),
            ),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([
            ("id", Some(s(&id))),
            ("arn", Some(s(arn(region, account, "launch-template", &id)))),
            ("latest_version", number(template.latest_version_number)),
            ("default_version", number(template.default_version_number)),
        ]),
        id,
        tags,
        // A launch template has no lifecycle: one that is listed is usable.
        status: Status::Ready,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_data_attribute_is_a_field() {
        let schema = crate::spec::schema::schema(Kind::LaunchTemplate);
        for a in DATA_ATTRS {
            assert!(schema.field(a).is_some(), "{a}");
        }
        // Every field but the name (which replaces) and the template's own tags is written into
        // a version.
        assert_eq!(schema.fields.len(), DATA_ATTRS.len() + 2);
    }
}

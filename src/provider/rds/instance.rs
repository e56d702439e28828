//! `rds_instance`: a primary (CreateDBInstance) or a read replica (CreateDBInstanceReadReplica,
//! in the replica's region, of a source in any region), ModifyDBInstance for everything the API
//! changes in place, PromoteReadReplica when `replicate_from` is removed, DeleteDBInstance with
//! or without a final snapshot. The id is the DB instance identifier.
//!
//! Normalisation of what AWS reports, so an unchanged instance equals its spec:
//! - `engine` lowercase, `preferred_maintenance_window` lowercase (AWS stores it so),
//!   `vpc_security_group_ids` sorted (without groups being removed);
//! - modifications RDS holds for the maintenance window (`PendingModifiedValues`, when
//!   `apply_immediately` is not set) are reported as the values they will become, so a plan
//!   does not ask for them again;
//! - `replicate_from` is always the source's ARN, as the spec writes it (`${...rds_instance.x.arn}`):
//!   RDS names a same-region source by identifier and a cross-region one by ARN;
//! - `manage_master_user_password` is whether RDS reports a master user secret.
//!
//! Reported as AWS returns them, which a spec may write differently: `kms_key_id` (RDS returns
//! the key ARN; an alias or key id in the spec differs from it, and the attribute forces
//! replacement) and `engine_version` (a spec's "16" is reported as the minor version RDS chose).
//!
//! Not reported, as AWS does not return them: `master_password_env`, `allow_major_version_upgrade`,
//! `apply_immediately`, `skip_final_snapshot`, `final_snapshot_identifier`.
//!
//! Passwords: the value of `master_password_env` is read from the environment only when a request
//! needs it (create, or turning `manage_master_user_password` off) and goes nowhere but that
//! request (the SDK redacts it from its own Debug output).
//!
//! Cross-region replicas of encrypted sources: in the `aws` partition RDS needs only the source
//! ARN and a `KmsKeyId` of the replica's region (it ignores `PreSignedUrl` there). In GovCloud and
//! China, RDS also requires a SigV4-presigned `PreSignedUrl`; the AWS SDK for Rust has no
//! `SourceRegion` pseudo-parameter and does not generate it (unlike boto3, the CLI and the Go and
//! JavaScript SDKs), so such a replica fails there with RDS's own error.

use std::fmt;

use aws_sdk_rds::Client;
use aws_sdk_rds::operation::create_db_instance::builders::CreateDBInstanceFluentBuilder;
use aws_sdk_rds::operation::create_db_instance_read_replica::builders::CreateDBInstanceReadReplicaFluentBuilder;
use aws_sdk_rds::operation::modify_db_instance::builders::ModifyDBInstanceFluentBuilder;
use aws_sdk_rds::types::{DbInstance, Tag};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::{arn_of, from_tags, in_stack, is_ours, sync_tags, to_tags};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, str_list, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::{Ctx, Observed, Provider, ProviderError, Status, Subject, attr_map};
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["DBInstanceNotFound", "DBInstanceNotFoundFault"];
const ALREADY_EXISTS: &[&str] = &["DBInstanceAlreadyExists"];
const INVALID_STATE: &[&str] = &["InvalidDBInstanceState"];

/// One paginated DescribeDBInstances; it returns every instance's tags but takes no tag filter.
pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    _hints: &crate::provider::Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::RdsInstance);
    let instances: Vec<DbInstance> = p
        .clients
        .rds(region)
        .describe_db_instances()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(aws(&subject, region, "DescribeDBInstances"))?;
    Ok(instances
        .into_iter()
        .map(|db| observe(region, db))
        .filter(|o| in_stack(p, &o.tags))
        .collect())
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let answer = p
        .clients
        .rds(ctx.region)
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await;
    match answer {
        Ok(out) => Ok(out
            .db_instances
            .unwrap_or_default()
            .into_iter()
            .next()
            .map(|db| observe(ctx.region, db))),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(None),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "DescribeDBInstances")(e)),
    }
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let identifier = d.req_str("identifier")?;
    let tags = to_tags(&p.identity_tags(ctx.addr, desired));
    let client = p.clients.rds(ctx.region);
    match d.str("replicate_from")? {
        Some(source) => {
            let call = replica_call(&client, ctx, &d, source, tags)?;
            let answer = call.send().await.map(|out| out.db_instance);
            settle(p, ctx, identifier, "CreateDBInstanceReadReplica", answer).await
        }
        None => {
            let call = primary_call(&client, ctx, &d, tags)?;
            let answer = call.send().await.map(|out| out.db_instance);
            settle(p, ctx, identifier, "CreateDBInstance", answer).await
        }
    }
}

/// Turns a create's answer into the observed instance.
async fn settle<E>(
    p: &Provider,
    ctx: &Ctx<'_>,
    identifier: &str,
    operation: &'static str,
    answer: Result<Option<DbInstance>, SdkError<E, Response>>,
) -> Result<Observed, ProviderError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let err = match answer {
        Ok(Some(db)) => return Ok(observe(ctx.region, db)),
        Ok(None) => {
            return Err(ProviderError::invalid(
                ctx,
                format!("{operation} answered without the instance"),
            ));
        }
        Err(e) => e,
    };
    // The API takes no idempotency token: a create retried after a lost answer finds the
    // instance it made, recognised by its identity tags.
    if has_code(&err, ALREADY_EXISTS)
        && let Some(found) = read(p, ctx, identifier).await?
        && is_ours(p, ctx, &found)
    {
        return Ok(found);
    }
    Err(aws(&ctx.subject(), ctx.region, operation)(err))
}

fn primary_call(
    client: &Client,
    ctx: &Ctx<'_>,
    d: &Desired<'_>,
    tags: Vec<Tag>,
) -> Result<CreateDBInstanceFluentBuilder, ProviderError> {
    let engine = d.str("engine")?.ok_or_else(|| {
        ProviderError::invalid(ctx, "engine is required unless replicate_from is set")
    })?;
    let password = match master_password(ctx, d)? {
        Password::Managed => None,
        Password::FromEnv(secret) => Some(secret.0),
    };
    Ok(client
        .create_db_instance()
        .db_instance_identifier(d.req_str("identifier")?)
        .engine(engine)
        .set_engine_version(owned(d.str("engine_version")?))
        .set_auto_minor_version_upgrade(d.bool("auto_minor_version_upgrade")?)
        .db_instance_class(d.req_str("instance_class")?)
        .set_allocated_storage(d.i32("allocated_storage")?)
        .set_max_allocated_storage(d.i32("max_allocated_storage")?)
        .set_storage_type(owned(d.str("storage_type")?))
        .set_iops(d.i32("iops")?)
        .set_storage_throughput(d.i32("storage_throughput")?)
        .set_storage_encrypted(d.bool("storage_encrypted")?)
        .set_kms_key_id(owned(d.str("kms_key_id")?))
        .set_availability_zone(owned(d.str("availability_zone")?))
        .set_multi_az(d.bool("multi_az")?)
        .set_db_subnet_group_name(owned(d.str("db_subnet_group")?))
        .set_vpc_security_group_ids(non_empty(d.strs("vpc_security_group_ids")?))
        .set_db_parameter_group_name(owned(d.str("parameter_group_name")?))
        .set_db_name(owned(d.str("db_name")?))
        .set_master_username(owned(d.str("master_username")?))
        .set_manage_master_user_password(password.is_none().then_some(true))
        .set_master_user_password(password)
        .set_port(d.i32("port")?)
        .set_publicly_accessible(d.bool("publicly_accessible")?)
        .set_backup_retention_period(d.i32("backup_retention_period")?)
        .set_preferred_backup_window(owned(d.str("preferred_backup_window")?))
        .set_preferred_maintenance_window(owned(d.str("preferred_maintenance_window")?))
        .set_copy_tags_to_snapshot(d.bool("copy_tags_to_snapshot")?)
        .set_enable_performance_insights(d.bool("performance_insights_enabled")?)
        .set_deletion_protection(d.bool("deletion_protection")?)
        .set_tags(Some(tags)))
}

/// A read replica inherits engine, version, database name, master user and encryption from its
/// source. The call does not take the backup settings or the maintenance window: when the spec
/// sets them differently from what the replica gets, the next plan updates them in place.
fn replica_call(
    client: &Client,
    ctx: &Ctx<'_>,
    d: &Desired<'_>,
    source: &str,
    tags: Vec<Tag>,
) -> Result<CreateDBInstanceReadReplicaFluentBuilder, ProviderError> {
    Ok(client
        .create_db_instance_read_replica()
        .db_instance_identifier(d.req_str("identifier")?)
        .source_db_instance_identifier(source_for_request(ctx.region, source))
        .db_instance_class(d.req_str("instance_class")?)
        .set_availability_zone(owned(d.str("availability_zone")?))
        .set_port(d.i32("port")?)
        .set_multi_az(d.bool("multi_az")?)
        .set_auto_minor_version_upgrade(d.bool("auto_minor_version_upgrade")?)
        .set_allocated_storage(d.i32("allocated_storage")?)
        .set_max_allocated_storage(d.i32("max_allocated_storage")?)
        .set_storage_type(owned(d.str("storage_type")?))
        .set_iops(d.i32("iops")?)
        .set_storage_throughput(d.i32("storage_throughput")?)
        .set_kms_key_id(owned(d.str("kms_key_id")?))
        .set_db_subnet_group_name(owned(d.str("db_subnet_group")?))
        .set_vpc_security_group_ids(non_empty(d.strs("vpc_security_group_ids")?))
        .set_db_parameter_group_name(owned(d.str("parameter_group_name")?))
        .set_publicly_accessible(d.bool("publicly_accessible")?)
        .set_copy_tags_to_snapshot(d.bool("copy_tags_to_snapshot")?)
        .set_enable_performance_insights(d.bool("performance_insights_enabled")?)
        .set_deletion_protection(d.bool("deletion_protection")?)
        .set_tags(Some(tags)))
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let client = p.clients.rds(ctx.region);
    let promote = promotes(ctx, prior, &d)?;
    // PromoteReadReplica sets the backup settings itself; ModifyDBInstance must not repeat them.
    let mut taken: &[&str] = &[];
    if promote {
        client
            .promote_read_replica()
            .db_instance_identifier(&prior.id)
            .set_backup_retention_period(d.i32("backup_retention_period")?)
            .set_preferred_backup_window(owned(d.str("preferred_backup_window")?))
            .send()
            .await
            .map_err(aws(&ctx.subject(), ctx.region, "PromoteReadReplica"))?;
        taken = &["backup_retention_period", "preferred_backup_window"];
    }
    sync_tags(p, ctx, arn_of(ctx, prior)?, &prior.tags, desired).await?;
    if let Some(call) = modification(&client, ctx, prior, d, taken)? {
        if promote {
            // RDS refuses modifications while the promotion runs (InvalidDBInstanceState).
            p.wait_ready(ctx, &prior.id).await?;
        }
        call.send()
            .await
            .map_err(aws(&ctx.subject(), ctx.region, "ModifyDBInstance"))?;
    }
    read(p, ctx, &prior.id)
        .await?
        .ok_or_else(|| ProviderError::vanished(ctx, &prior.id))
}

/// Whether the update promotes the replica (its `replicate_from` is removed). RDS cannot point a
/// replica at another source nor make a standalone instance a replica; those are refused here
/// rather than silently ignored.
fn promotes(ctx: &Ctx<'_>, prior: &Observed, d: &Desired<'_>) -> Result<bool, ProviderError> {
    let have = prior.attrs.get("replicate_from").and_then(Value::as_str);
    match (have, d.str("replicate_from")?) {
        (Some(_), None) => Ok(true),
        (None, None) => Ok(false),
        (Some(have), Some(want)) if same_source(ctx.region, want, have) => Ok(false),
        (Some(have), Some(want)) => Err(ProviderError::invalid(
            ctx,
            format!(
                "replicate_from cannot change from {have} to {want} in place (RDS cannot re-point \
                 a read replica); replace the instance"
            ),
        )),
        (None, Some(want)) => Err(ProviderError::invalid(
            ctx,
            format!(
                "{} is a standalone instance and cannot become a read replica of {want} in \
                 place; replace the instance",
                prior.id
            ),
        )),
    }
}

/// The ModifyDBInstance call for every in-place attribute that differs from `prior`, if any.
fn modification(
    client: &Client,
    ctx: &Ctx<'_>,
    prior: &Observed,
    d: Desired<'_>,
    taken: &[&str],
) -> Result<Option<ModifyDBInstanceFluentBuilder>, ProviderError> {
    // What the plan counts as unchanged (a spec's "16" against RDS's "16.4", storage grown by
    // autoscaling, case) is not sent: the update does exactly what the plan showed.
    let same =
        crate::spec::schema::compare::compare_all(Kind::RdsInstance, d.attrs(), &prior.attrs)
            .into_iter()
            .filter(|(_, cmp)| *cmp == crate::spec::schema::compare::AttrCmp::Same)
            .map(|(name, _)| name)
            .collect();
    let mut diff = Diff {
        prior,
        d,
        taken,
        same,
        changed: false,
    };
    let mut call = client
        .modify_db_instance()
        .db_instance_identifier(&prior.id)
        .set_db_instance_class(diff.str("instance_class")?)
        .set_allocated_storage(diff.int("allocated_storage")?)
        .set_storage_type(diff.str("storage_type")?)
        .set_iops(diff.int("iops")?)
        .set_storage_throughput(diff.int("storage_throughput")?)
        .set_multi_az(diff.bool("multi_az")?)
        .set_vpc_security_group_ids(diff.set("vpc_security_group_ids")?)
        .set_db_parameter_group_name(diff.str("parameter_group_name")?)
        .set_auto_minor_version_upgrade(diff.bool("auto_minor_version_upgrade")?)
        .set_db_port_number(diff.int("port")?)
        .set_publicly_accessible(diff.bool("publicly_accessible")?)
        .set_backup_retention_period(diff.int("backup_retention_period")?)
        .set_preferred_backup_window(diff.str("preferred_backup_window")?)
        .set_preferred_maintenance_window(diff.lower("preferred_maintenance_window")?)
        .set_copy_tags_to_snapshot(diff.bool("copy_tags_to_snapshot")?)
        .set_enable_performance_insights(diff.bool("performance_insights_enabled")?)
        .set_deletion_protection(diff.bool("deletion_protection")?);
    if let Some(version) = diff.str("engine_version")? {
        call = call
            .engine_version(version)
            .set_allow_major_version_upgrade(d.bool("allow_major_version_upgrade")?);
    }
    call = call.set_max_allocated_storage(diff.max_storage()?);
    call = password_change(ctx, call, &mut diff)?;
    if !diff.changed {
        return Ok(None);
    }
    Ok(Some(
        call.set_apply_immediately(d.bool("apply_immediately")?),
    ))
}

/// Switches between an RDS-managed password and one from the environment. A change of the
/// variable's value is not seen (AWS never returns the password), so it is not sent again.
fn password_change(
    ctx: &Ctx<'_>,
    call: ModifyDBInstanceFluentBuilder,
    diff: &mut Diff<'_>,
) -> Result<ModifyDBInstanceFluentBuilder, ProviderError> {
    let have = diff
        .prior
        .attrs
        .get("manage_master_user_password")
        .and_then(Value::as_bool);
    let want = diff.d.bool("manage_master_user_password")?;
    let env = diff.d.str("master_password_env")?;
    match (have, want, env) {
        (Some(false), Some(true), _) => {
            diff.changed = true;
            Ok(call.manage_master_user_password(true))
        }
        (Some(true), Some(false) | None, Some(var)) => {
            diff.changed = true;
            let secret = read_env(ctx, var)?;
            Ok(call
                .manage_master_user_password(false)
                .master_user_password(secret.0))
        }
        (Some(true), Some(false), None) => Err(ProviderError::invalid(
            ctx,
            "turning manage_master_user_password off needs master_password_env, naming the \
             environment variable that holds the new master password",
        )),
        _ => Ok(call),
    }
}

/// Picks the desired values that differ from the prior observed ones, noting whether any does.
struct Diff<'a> {
    prior: &'a Observed,
    d: Desired<'a>,
    /// Attributes another call of the same update already sets.
    taken: &'a [&'a str],
    /// Attributes the plan's comparison finds equal, though not byte for byte.
    same: std::collections::BTreeSet<String>,
    changed: bool,
}

impl Diff<'_> {
    fn pick<T>(&mut self, name: &str, want: Option<T>, value: impl Fn(&T) -> Value) -> Option<T> {
        let want = want.filter(|w| {
            !self.taken.contains(&name)
                && !self.same.contains(name)
                && self.prior.attrs.get(name) != Some(&value(w))
        });
        self.changed |= want.is_some();
        want
    }

    fn str(&mut self, name: &str) -> Result<Option<String>, ProviderError> {
        let want = owned(self.d.str(name)?);
        Ok(self.pick(name, want, |w| s(w.as_str())))
    }

    /// A string RDS stores lowercase.
    fn lower(&mut self, name: &str) -> Result<Option<String>, ProviderError> {
        let want = self.d.str(name)?.map(str::to_lowercase);
        Ok(self.pick(name, want, |w| s(w.as_str())))
    }

    fn int(&mut self, name: &str) -> Result<Option<i32>, ProviderError> {
        let want = self.d.i32(name)?;
        Ok(self.pick(name, want, |w| Value::Int(i64::from(*w))))
    }

    fn bool(&mut self, name: &str) -> Result<Option<bool>, ProviderError> {
        let want = self.d.bool(name)?;
        Ok(self.pick(name, want, |w| Value::Bool(*w)))
    }

    /// A set of strings, compared sorted; an absent or empty one is left as it is.
    fn set(&mut self, name: &str) -> Result<Option<Vec<String>>, ProviderError> {
        let mut want = self.d.strs(name)?;
        want.sort();
        let want = non_empty(want);
        Ok(self.pick(name, want, |w| str_list(w.iter().cloned(), true)))
    }

    /// `max_allocated_storage`, where omitting it disables storage autoscaling: RDS turns
    /// autoscaling off when the limit is set to the allocated storage.
    fn max_storage(&mut self) -> Result<Option<i32>, ProviderError> {
        const NAME: &str = "max_allocated_storage";
        if self.d.get(NAME).is_some() {
            return self.int(NAME);
        }
        if !self.prior.attrs.contains_key(NAME) {
            return Ok(None);
        }
        let allocated = match self.d.i32("allocated_storage")? {
            Some(size) => Some(size),
            None => self
                .prior
                .attrs
                .get("allocated_storage")
                .and_then(Value::as_i64)
                .and_then(|size| i32::try_from(size).ok()),
        };
        self.changed |= allocated.is_some();
        Ok(allocated)
    }
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    config: &Attrs,
) -> Result<(), ProviderError> {
    let c = Desired::new(ctx, config);
    let call = p
        .clients
        .rds(ctx.region)
        .delete_db_instance()
        .db_instance_identifier(&prior.id);
    // RDS takes no final snapshot of a read replica and refuses a snapshot name for one.
    let replica = prior.attrs.contains_key("replicate_from");
    let call = if replica || c.bool("skip_final_snapshot")?.unwrap_or(false) {
        call.skip_final_snapshot(true)
    } else {
        // A fixed default name would make the second destroy of a re-created database fail
        // with DBSnapshotAlreadyExists; the time keeps every final snapshot.
        let snapshot = c.str("final_snapshot_identifier")?.map_or_else(
            || {
                let stamp: String = crate::clock::now_rfc3339()
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect();
                format!("{}-final-{stamp}", prior.id)
            },
            str::to_owned,
        );
        call.skip_final_snapshot(false)
            .final_db_snapshot_identifier(snapshot)
    };
    let err = match call.send().await {
        Ok(_) => return Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => return Ok(()),
        Err(e) => e,
    };
    // A retried delete finds the instance already deleting, which RDS answers as a bad state.
    if has_code(&err, INVALID_STATE) {
        match read(p, ctx, &prior.id).await? {
            None => return Ok(()),
            Some(o) if matches!(o.status, Status::Deleting(_)) => return Ok(()),
            Some(_) => {}
        }
    }
    Err(aws(&ctx.subject(), ctx.region, "DeleteDBInstance")(err))
}

/// A password read from the environment; its Debug output never shows it.
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

enum Password {
    /// RDS generates it and keeps it in Secrets Manager.
    Managed,
    FromEnv(Secret),
}

fn master_password(ctx: &Ctx<'_>, d: &Desired<'_>) -> Result<Password, ProviderError> {
    let managed = d.bool("manage_master_user_password")?.unwrap_or(false);
    match (managed, d.str("master_password_env")?) {
        (true, Some(_)) => Err(ProviderError::invalid(
            ctx,
            "set either manage_master_user_password: true or master_password_env, not both",
        )),
        (true, None) => Ok(Password::Managed),
        (false, Some(var)) => read_env(ctx, var).map(Password::FromEnv),
        (false, None) => Err(ProviderError::invalid(
            ctx,
            "a primary instance needs manage_master_user_password: true or master_password_env \
             naming the environment variable that holds its master password",
        )),
    }
}

/// The value of the variable `master_password_env` names; errors name the variable only.
fn read_env(ctx: &Ctx<'_>, var: &str) -> Result<Secret, ProviderError> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Ok(Secret(value)),
        Ok(_) => Err(ProviderError::invalid(
            ctx,
            format!("the environment variable {var} named by master_password_env is empty"),
        )),
        Err(_) => Err(ProviderError::invalid(
            ctx,
            format!(
                "the environment variable {var} named by master_password_env is not set (or is \
                 not valid UTF-8)"
            ),
        )),
    }
}

/// The region and identifier of an RDS instance ARN,
/// `arn:<partition>:rds:<region>:<account>:db:<identifier>`.
fn parse_arn(text: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "rds", region, _, "db", identifier] => Some((region, identifier)),
        _ => None,
    }
}

/// What CreateDBInstanceReadReplica takes as the source (API reference): the identifier for a
/// source in the replica's region, the ARN for one in another region.
fn source_for_request(region: &str, source: &str) -> String {
    match parse_arn(source) {
        Some((source_region, identifier)) if source_region == region => identifier.to_owned(),
        _ => source.to_owned(),
    }
}

/// `replicate_from` as the spec writes it, the source's ARN. RDS reports a same-region source by
/// identifier; its ARN differs from the replica's own only in the identifier.
fn source_arn(own_arn: Option<&str>, reported: &str) -> String {
    if reported.starts_with("arn:") {
        return reported.to_owned();
    }
    match own_arn.and_then(|arn| arn.rsplit_once(':')) {
        Some((prefix, _)) => format!("{prefix}:{reported}"),
        None => reported.to_owned(),
    }
}

/// Whether a desired source (an ARN, or an identifier in the replica's region) is the observed
/// one (an ARN). Identifiers are case-insensitive (RDS stores them lowercase).
fn same_source(region: &str, desired: &str, observed: &str) -> bool {
    if desired.eq_ignore_ascii_case(observed) {
        return true;
    }
    match (parse_arn(desired), parse_arn(observed)) {
        (None, Some((observed_region, identifier))) => {
            observed_region == region && identifier.eq_ignore_ascii_case(desired)
        }
        _ => false,
    }
}

/// AWS's DB instance status as a lifecycle status.
fn status(word: Option<&str>) -> Status {
    let word = word.unwrap_or("unknown");
    match word {
        // storage-optimization follows a storage change and can last hours while the instance
        // serves normally and only refuses further storage changes.
        "available" | "storage-optimization" => Status::Ready,
        "deleting" => Status::Deleting(word.to_owned()),
        "failed"
        | "storage-full"
        | "restore-error"
        | "inaccessible-encryption-credentials"
        | "insufficient-capacity" => Status::Failed(word.to_owned()),
        w if w.starts_with("incompatible-") => Status::Failed(word.to_owned()),
        // creating, modifying, backing-up, rebooting, upgrading, renaming, stopped ... : a
        // stopped instance is not a failure, so a wait for it times out instead.
        _ => Status::Pending(word.to_owned()),
    }
}

fn observe(region: &str, db: DbInstance) -> Observed {
    let tags = from_tags(db.tag_list());
    let id = db.db_instance_identifier().unwrap_or_default().to_owned();
    let arn = db.db_instance_arn();
    let pending = db.pending_modified_values();
    let address = db.endpoint().and_then(|e| e.address());
    let port = pending.and_then(|m| m.port()).or_else(|| {
        db.endpoint()
            .and_then(|e| e.port())
            .or(db.db_instance_port().filter(|p| *p > 0))
    });
    let security_groups = db
        .vpc_security_groups()
        .iter()
        .filter(|g| g.status() != Some("removing"))
        .filter_map(|g| g.vpc_security_group_id());
    let int = |v: Option<i32>| v.map(|i| Value::Int(i64::from(i)));
    let boolean = |v: Option<bool>| v.map(Value::Bool);
    let attrs = attr_map([
        ("identifier", Some(s(&id))),
        ("engine", opt_s(db.engine().map(str::to_lowercase))),
        (
            "engine_version",
            opt_s(
                pending
                    .and_then(|m| m.engine_version())
                    .or(db.engine_version()),
            ),
        ),
        (
            "auto_minor_version_upgrade",
            boolean(db.auto_minor_version_upgrade()),
        ),
        (
            "instance_class",
            opt_s(
                pending
                    .and_then(|m| m.db_instance_class())
                    .or(db.db_instance_class()),
            ),
        ),
        (
            "allocated_storage",
            int(pending
                .and_then(|m| m.allocated_storage())
                .or(db.allocated_storage())),
        ),
        ("max_allocated_storage", int(db.max_allocated_storage())),
        (
            "storage_type",
            opt_s(pending.and_then(|m| m.storage_type()).or(db.storage_type())),
        ),
        ("iops", int(pending.and_then(|m| m.iops()).or(db.iops()))),
        (
            "storage_throughput",
            int(pending
                .and_then(|m| m.storage_throughput())
                .or(db.storage_throughput())
                .filter(|t| *t > 0)),
        ),
        ("storage_encrypted", boolean(db.storage_encrypted())),
        ("kms_key_id", opt_s(db.kms_key_id())),
        ("availability_zone", opt_s(db.availability_zone())),
        (
            "multi_az",
            boolean(pending.and_then(|m| m.multi_az()).or(db.multi_az())),
        ),
        (
            "db_subnet_group",
            opt_s(
                pending
                    .and_then(|m| m.db_subnet_group_name())
                    .or_else(|| db.db_subnet_group().and_then(|g| g.db_subnet_group_name())),
            ),
        ),
        (
            "vpc_security_group_ids",
            Some(str_list(security_groups, true)),
        ),
        (
            "parameter_group_name",
            opt_s(
                db.db_parameter_groups()
                    .first()
                    .and_then(|g| g.db_parameter_group_name()),
            ),
        ),
        ("db_name", opt_s(db.db_name())),
        ("master_username", opt_s(db.master_username())),
        (
            "manage_master_user_password",
            Some(Value::Bool(db.master_user_secret().is_some())),
        ),
        ("port", int(port)),
        ("publicly_accessible", boolean(db.publicly_accessible())),
        (
            "backup_retention_period",
            int(pending
                .and_then(|m| m.backup_retention_period())
                .or(db.backup_retention_period())),
        ),
        (
            "preferred_backup_window",
            opt_s(db.preferred_backup_window()),
        ),
        (
            "preferred_maintenance_window",
            opt_s(db.preferred_maintenance_window().map(str::to_lowercase)),
        ),
        ("copy_tags_to_snapshot", boolean(db.copy_tags_to_snapshot())),
        (
            "performance_insights_enabled",
            boolean(db.performance_insights_enabled()),
        ),
        ("deletion_protection", boolean(db.deletion_protection())),
        (
            "replicate_from",
            db.read_replica_source_db_instance_identifier()
                .map(|source| Value::Str(source_arn(arn, source))),
        ),
        ("tags", user_tags(&tags)),
    ]);
    let computed = attr_map([
        ("arn", opt_s(arn)),
        ("id", Some(s(&id))),
        (
            "endpoint",
            address
                .zip(port)
                .map(|(address, port)| s(format!("{address}:{port}"))),
        ),
        ("address", opt_s(address)),
        ("resource_id", opt_s(db.dbi_resource_id())),
    ]);
    Observed {
        kind: Kind::RdsInstance,
        region: region.to_owned(),
        status: status(db.db_instance_status()),
        id,
        attrs,
        computed,
        tags,
    }
}

fn owned(text: Option<&str>) -> Option<String> {
    text.map(str::to_owned)
}

fn non_empty(items: Vec<String>) -> Option<Vec<String>> {
    (!items.is_empty()).then_some(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_sources_are_identifiers_in_region_and_arns_across() {
        let arn = "arn:aws:rds:us-east-1:123456789012:db:app";
        assert_eq!(source_for_request("us-east-1", arn), "app");
        assert_eq!(source_for_request("us-west-2", arn), arn);
        assert_eq!(source_for_request("us-east-1", "app"), "app");
    }

    #[test]
    fn reported_sources_become_arns() {
        let own = Some("arn:aws:rds:us-east-1:123456789012:db:replica");
        assert_eq!(
            source_arn(own, "app"),
            "arn:aws:rds:us-east-1:123456789012:db:app"
        );
        let cross = "arn:aws:rds:eu-west-1:123456789012:db:app";
        assert_eq!(source_arn(own, cross), cross);
        assert!(same_source(
            "us-east-1",
            "APP",
            "arn:aws:rds:us-east-1:1:db:app"
        ));
        assert!(!same_source(
            "us-west-2",
            "app",
            "arn:aws:rds:us-east-1:1:db:app"
        ));
        assert!(!same_source(
            "us-east-1",
            "other",
            "arn:aws:rds:us-east-1:1:db:app"
        ));
    }

    #[test]
    fn statuses() {
        assert_eq!(status(Some("available")), Status::Ready);
        assert_eq!(
            status(Some("backing-up")),
            Status::Pending("backing-up".into())
        );
        assert_eq!(
            status(Some("deleting")),
            Status::Deleting("deleting".into())
        );
        assert_eq!(
            status(Some("incompatible-parameters")),
            Status::Failed("incompatible-parameters".into())
        );
        assert_eq!(
            status(Some("storage-full")),
            Status::Failed("storage-full".into())
        );
    }
}

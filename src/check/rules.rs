//! The built-in rules: a table of `Rule`s and one function per rule.
//!
//! Defaults are AWS's: an attribute left out means what the AWS API does without it
//! (`storage_encrypted` false, `endpoint_public_access` true, `public_access_cidrs` 0.0.0.0/0,
//! `backup_retention_period` 1), so leaving something out is flagged exactly when AWS would
//! make it insecure. Values known only after apply pass. docs/checks.md documents every rule;
//! a test keeps the two in step.

use std::collections::BTreeSet;

use super::{Category, Hits, Input, Level, Rule, Scope, Seg};
use crate::addr::InstanceAddr;
use crate::kind::Kind;
use crate::plan::Action;
use crate::spec::value::{Deferred, RefTarget, Value};
use crate::spec::{Resource, Spec};

/// Every rule, in id order. Ids are never reused.
pub static RULES: &[Rule] = &[
    Rule {
        id: "RC101",
        name: "rds-storage-unencrypted",
        level: Level::Error,
        category: Category::Security,
        scope: Scope::Spec,
        summary: "An RDS instance's storage is not encrypted at rest.",
        rationale: "Unencrypted storage, snapshots and backups expose the data to anyone who gets the volumes or a shared snapshot; encryption cannot be turned on later without a new instance.",
        fix: "Set `storage_encrypted: true` (optionally `kms_key_id`); an existing instance must be replaced or restored from an encrypted snapshot copy.",
        check: rds_storage_unencrypted,
    },
    Rule {
        id: "RC102",
        name: "rds-publicly-accessible",
        level: Level::Error,
        category: Category::Security,
        scope: Scope::Spec,
        summary: "An RDS instance is publicly accessible.",
        rationale: "A public DNS name and address put the database one security-group rule away from the internet.",
        fix: "Set `publicly_accessible: false` and reach the database from inside the VPC (or through a VPN or bastion).",
        check: rds_publicly_accessible,
    },
    Rule {
        id: "RC103",
        name: "rds-password-in-spec",
        level: Level::Error,
        category: Category::Security,
        scope: Scope::Spec,
        summary: "A master password is written in the spec instead of the name of an environment variable.",
        rationale: "A password in the repository is readable by everyone with access to it, forever (git history), and cannot be rotated without a commit.",
        fix: "Use `manage_master_user_password: true` (RDS keeps it in Secrets Manager), or put the password in an environment variable and write its name: `master_password_env: APP_DB_PASSWORD`.",
        check: rds_password_in_spec,
    },
    Rule {
        id: "RC104",
        name: "eks-endpoint-open",
        level: Level::Error,
        category: Category::Security,
        scope: Scope::Spec,
        summary: "An EKS cluster's public API endpoint accepts connections from anywhere (0.0.0.0/0).",
        rationale: "The Kubernetes API is then exposed to the whole internet: every credential leak or API-server vulnerability becomes remotely exploitable.",
        fix: "Set `public_access_cidrs` to the networks that need the API (office, VPN, CI), or `endpoint_public_access: false` with `endpoint_private_access: true`.",
        check: eks_endpoint_open,
    },
    Rule {
        id: "RC105",
        name: "eks-logging-off",
        level: Level::Warning,
        category: Category::Security,
        scope: Scope::Spec,
        summary: "An EKS cluster's control-plane logging is off, or misses the audit log.",
        rationale: "Without the audit log there is no record of who did what through the Kubernetes API, for incident response or compliance.",
        fix: "Set `logging: [api, audit, authenticator]` (or all five log types).",
        check: eks_logging_off,
    },
    Rule {
        id: "RC106",
        name: "cache-transit-unencrypted",
        level: Level::Error,
        category: Category::Security,
        scope: Scope::Spec,
        summary: "An ElastiCache replication group does not encrypt connections (TLS).",
        rationale: "Without TLS, commands, data and AUTH tokens cross the network in clear text.",
        fix: "Set `transit_encryption: true` and connect with TLS.",
        check: cache_transit_unencrypted,
    },
    Rule {
        id: "RC107",
        name: "cache-at-rest-unencrypted",
        level: Level::Error,
        category: Category::Security,
        scope: Scope::Spec,
        summary: "An ElastiCache replication group does not encrypt data at rest.",
        rationale: "Snapshots and swapped data are stored unencrypted; encryption at rest can only be chosen when the group is created.",
        fix: "Set `at_rest_encryption: true` (optionally `kms_key_id`); an existing group must be replaced.",
        check: cache_at_rest_unencrypted,
    },
    Rule {
        id: "RC108",
        name: "sg-db-port-open",
        level: Level::Error,
        category: Category::Security,
        scope: Scope::Spec,
        summary: "A security group opens a database or cache port to the internet (0.0.0.0/0 or ::/0).",
        rationale: "Databases and caches are the most attacked services on the internet; they must only be reachable from the application's network.",
        fix: "Allow the port from the application's security group (`source_security_group_id`) or from private CIDR blocks only.",
        check: sg_db_port_open,
    },
    Rule {
        id: "RC109",
        name: "data-store-in-public-subnet",
        level: Level::Warning,
        category: Category::Security,
        scope: Scope::Spec,
        summary: "A database or cache uses a public subnet (one with map_public_ip_on_launch or a route to an internet gateway), or the default VPC.",
        rationale: "In a public subnet one setting (publicly_accessible, a security-group rule) separates the data store from the internet; private subnets add a second barrier.",
        fix: "Point the DB or cache subnet group at private subnets (no public IPs, no route to an internet gateway); always give a subnet group, or the default VPC's public subnets are used.",
        check: data_store_in_public_subnet,
    },
    Rule {
        id: "RC110",
        name: "sns-topic-unencrypted",
        level: Level::Warning,
        category: Category::Security,
        scope: Scope::Spec,
        summary: "An SNS topic does not encrypt messages at rest (no kms_master_key_id).",
        rationale: "Alarm and application messages (host names, error text, sometimes customer data) are then stored unencrypted while SNS delivers them.",
        fix: "Set `kms_master_key_id` to a customer managed KMS key whose policy lets the publishers (cloudwatch.amazonaws.com for alarms) use it.",
        check: sns_topic_unencrypted,
    },
    Rule {
        id: "RC111",
        name: "kms-key-rotation-off",
        level: Level::Error,
        category: Category::Security,
        scope: Scope::Spec,
        summary: "A KMS key does not rotate its key material automatically.",
        rationale: "Without rotation one key material protects every secret, database and cache encrypted with the key for its whole life; rotation limits what a leaked or broken key material exposes, and compliance frameworks (CIS, PCI DSS) require it.",
        fix: "Set `enable_key_rotation: true` (optionally `rotation_period_in_days`, 90 to 2560, default 365); rotation keeps old material for decryption, so it breaks nothing.",
        check: kms_key_rotation_off,
    },
    Rule {
        id: "RC112",
        name: "launch-template-imdsv1",
        level: Level::Error,
        category: Category::Security,
        scope: Scope::Spec,
        summary: "A launch template does not require IMDSv2 (`http_tokens: required`).",
        rationale: "With IMDSv1 allowed, any SSRF in a pod or a process on the node can read the node role's credentials from the instance metadata service with a plain GET.",
        fix: "Set `http_tokens: required` (with `http_put_response_hop_limit: 1` to keep pods off the node's metadata, or 2 for agents that need it).",
        check: launch_template_imdsv1,
    },
    Rule {
        id: "RC113",
        name: "ecr-scan-on-push-off",
        level: Level::Error,
        category: Category::Security,
        scope: Scope::Spec,
        summary: "An ECR repository does not scan images for vulnerabilities when they are pushed.",
        rationale: "Without a scan on push, images with known vulnerabilities reach the clusters unnoticed; the scan is free for basic scanning.",
        fix: "Set `scan_on_push: true` on the repository.",
        check: ecr_scan_on_push_off,
    },
    Rule {
        id: "RC114",
        name: "ecr-tags-mutable",
        level: Level::Error,
        category: Category::Security,
        scope: Scope::Spec,
        summary: "An ECR repository lets an image tag be pushed again to another image.",
        rationale: "With mutable tags, whoever can push can silently replace the image a deployment pins by tag (v1.2.3), in every region it replicates to; a scanned image may not be the one that runs.",
        fix: "Set `image_tag_mutability: IMMUTABLE` and publish each build under a new tag.",
        check: ecr_tags_mutable,
    },
    Rule {
        id: "RC115",
        name: "eks-admin-to-iam-user",
        level: Level::Warning,
        category: Category::Security,
        scope: Scope::Spec,
        summary: "An EKS access entry gives cluster-wide admin to an IAM user.",
        rationale: "An IAM user signs in with long-term access keys; cluster admin on such a key lasts until someone notices the leak, whereas a role's credentials expire within hours.",
        fix: "Give the access to an IAM role the people or CI assume (principal_arn arn:aws:iam::<account>:role/...), or scope the user's policy to namespaces.",
        check: eks_admin_to_iam_user,
    },
    Rule {
        id: "RC201",
        name: "rds-no-deletion-protection",
        level: Level::Warning,
        category: Category::Resilience,
        scope: Scope::Spec,
        summary: "An RDS instance has no deletion protection.",
        rationale: "Without it one API call (a script, a console click, another tool) deletes the database.",
        fix: "Set `deletion_protection: true`; turn it off in a reviewed change before a planned deletion.",
        check: rds_no_deletion_protection,
    },
    Rule {
        id: "RC202",
        name: "rds-no-backups",
        level: Level::Error,
        category: Category::Resilience,
        scope: Scope::Spec,
        summary: "An RDS instance has automated backups turned off (backup_retention_period: 0).",
        rationale: "Without automated backups there is no point-in-time recovery: a bad migration or a deleted table is lost.",
        fix: "Set `backup_retention_period` to 7 or more days.",
        check: rds_no_backups,
    },
    Rule {
        id: "RC203",
        name: "cache-no-snapshots",
        level: Level::Note,
        category: Category::Resilience,
        scope: Scope::Spec,
        summary: "An ElastiCache replication group keeps no automatic snapshots.",
        rationale: "A cache that holds data the application cannot rebuild (sessions, queues) is lost with its nodes without snapshots.",
        fix: "Set `snapshot_retention_limit` to 1 or more days, or switch this rule off if the cache is disposable.",
        check: cache_no_snapshots,
    },
    Rule {
        id: "RC204",
        name: "latency-record-no-health-check",
        level: Level::Error,
        category: Category::Resilience,
        scope: Scope::Spec,
        summary: "A region's record in a latency record set has no health check.",
        rationale: "Route 53 keeps sending the users closest to a region to it while it is down, unless a health check takes the record out.",
        fix: "Give every latency record a `health_check_id` (or an alias with `evaluate_target_health: true`).",
        check: latency_record_no_health_check,
    },
    Rule {
        id: "RC205",
        name: "failover-record-no-health-check",
        level: Level::Error,
        category: Category::Resilience,
        scope: Scope::Spec,
        summary: "A failover record has no health check.",
        rationale: "Route 53 considers a record without a health check always healthy: a primary without one is never failed over from.",
        fix: "Set `health_check_id` (or an alias with `evaluate_target_health: true`); for a deliberately always-healthy secondary, skip the finding with a reason.",
        check: failover_record_no_health_check,
    },
    Rule {
        id: "RC206",
        name: "alarm-no-actions",
        level: Level::Warning,
        category: Category::Resilience,
        scope: Scope::Spec,
        summary: "A CloudWatch alarm notifies nobody: no alarm_actions, or actions_enabled: false.",
        rationale: "An alarm that changes state without notifying anyone is found only by someone looking at the console, usually after the incident.",
        fix: "Set `alarm_actions` (and `ok_actions`) to an SNS topic of the alarm's region, and leave `actions_enabled` out or true.",
        check: alarm_no_actions,
    },
    Rule {
        id: "RC301",
        name: "missing-required-tags",
        level: Level::Error,
        category: Category::Tags,
        scope: Scope::Spec,
        summary: "A taggable resource lacks a tag the project requires (checks.required_tags).",
        rationale: "Cost allocation, ownership and incident routing rely on tags; an untagged resource belongs to nobody.",
        fix: "Add the tags to the resource's `tags`, or to `default_tags` in regionctl.yaml for every resource.",
        check: missing_required_tags,
    },
    Rule {
        id: "RC401",
        name: "stateful-replace-or-delete",
        level: Level::Error,
        category: Category::Change,
        scope: Scope::Plan,
        summary: "The plan replaces or deletes a stateful resource (EKS cluster, RDS instance, ElastiCache replication group).",
        rationale: "Replacing or deleting one loses data or every workload on it, and takes long to rebuild; it must be a deliberate, reviewed decision.",
        fix: "Change the spec so the resource is updated in place (see the attributes forcing replacement), or skip the finding with the reason for the replacement.",
        check: stateful_replace_or_delete,
    },
];

// ------------------------------------------------------------------------------------ helpers

/// An attribute as a rule sees it.
enum Known<'v> {
    Absent,
    /// Known only after apply.
    Later,
    Is(&'v Value),
}

fn get<'r>(r: &'r Resource, name: &str) -> Known<'r> {
    match r.attrs.get(name) {
        None | Some(Value::Null) => Known::Absent,
        Some(v) if v.has_unknown() && !matches!(v, Value::List(_) | Value::Map(_)) => Known::Later,
        Some(v) => Known::Is(v),
    }
}

/// `Some(b)` when the attribute is a known bool, `None` when absent; unknown is `Err`.
fn bool_attr(r: &Resource, name: &str) -> Result<Option<bool>, ()> {
    match get(r, name) {
        Known::Absent => Ok(None),
        Known::Later => Err(()),
        Known::Is(v) => v.as_bool().map(Some).ok_or(()),
    }
}

fn of_kind<'s>(input: &'s Input, kind: Kind) -> impl Iterator<Item = &'s Resource> {
    input
        .spec
        .selected_resources()
        .filter(move |r| r.kind == kind)
}

fn is_replica(r: &Resource) -> bool {
    !matches!(get(r, "replicate_from"), Known::Absent)
}

fn is_world(cidr: &str) -> bool {
    matches!(cidr.trim(), "0.0.0.0/0" | "::/0")
}

/// The resource a value refers to, when it is a resolved reference.
fn ref_target(v: &Value) -> Option<&InstanceAddr> {
    let Value::Unknown(d) = v else { return None };
    let Deferred::Ref(r) = d.as_ref() else {
        return None;
    };
    match &r.target {
        RefTarget::Resolved { addr } => Some(addr),
        RefTarget::Unresolved { .. } => None,
    }
}

/// Flags `attr` when it is not `true`: absent (AWS's default is off) points at the resource,
/// `false` at the attribute.
fn require_true(r: &Resource, attr: &'static str, hits: &mut Hits, absent: &str, off: &str) {
    match bool_attr(r, attr) {
        Ok(Some(true)) | Err(()) => {}
        Ok(None) => hits.resource(&r.addr, absent),
        Ok(Some(false)) => hits.attr(&r.addr, attr, Vec::new(), off),
    }
}

// -------------------------------------------------------------------------------------- rules

fn sns_topic_unencrypted(input: &Input, hits: &mut Hits) {
    for r in of_kind(input, Kind::SnsTopic) {
        match get(r, "kms_master_key_id") {
            Known::Absent => hits.resource(
                &r.addr,
                "messages are not encrypted at rest: `kms_master_key_id` is not set",
            ),
            Known::Is(Value::Str(key)) if key.trim().is_empty() => hits.attr(
                &r.addr,
                "kms_master_key_id",
                Vec::new(),
                "messages are not encrypted at rest: `kms_master_key_id` is empty",
            ),
            _ => {}
        }
    }
}

fn alarm_no_actions(input: &Input, hits: &mut Hits) {
    for r in of_kind(input, Kind::CloudwatchMetricAlarm) {
        if bool_attr(r, "actions_enabled") == Ok(Some(false)) {
            hits.attr(
                &r.addr,
                "actions_enabled",
                Vec::new(),
                "the alarm's actions are disabled (`actions_enabled: false`)",
            );
            continue;
        }
        match get(r, "alarm_actions") {
            Known::Absent => hits.resource(
                &r.addr,
                "the alarm notifies nobody when it fires: `alarm_actions` is not set",
            ),
            Known::Is(Value::List(items)) if items.is_empty() => hits.attr(
                &r.addr,
                "alarm_actions",
                Vec::new(),
                "the alarm notifies nobody when it fires: `alarm_actions` is empty",
            ),
            _ => {}
        }
    }
}

fn rds_storage_unencrypted(input: &Input, hits: &mut Hits) {
    // A replica's encryption follows its source, which is checked itself.
    for r in of_kind(input, Kind::RdsInstance).filter(|r| !is_replica(r)) {
        require_true(
            r,
            "storage_encrypted",
            hits,
            "storage is not encrypted: `storage_encrypted` is not set and AWS defaults to unencrypted",
            "storage is not encrypted (`storage_encrypted: false`)",
        );
    }
}

fn rds_publicly_accessible(input: &Input, hits: &mut Hits) {
    for r in of_kind(input, Kind::RdsInstance) {
        if bool_attr(r, "publicly_accessible") == Ok(Some(true)) {
            hits.attr(
                &r.addr,
                "publicly_accessible",
                Vec::new(),
                "the instance is publicly accessible (`publicly_accessible: true`)",
            );
        }
    }
}

/// What an environment variable name looks like by convention; anything else written in
/// `master_password_env` is most likely the password itself.
fn looks_like_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn rds_password_in_spec(input: &Input, hits: &mut Hits) {
    for r in of_kind(input, Kind::RdsInstance) {
        if let Known::Is(Value::Str(s)) = get(r, "master_password_env")
            && !looks_like_env_name(s)
        {
            // Never echo the value: it is probably the password.
            hits.attr(
                &r.addr,
                "master_password_env",
                Vec::new(),
                "`master_password_env` holds what looks like a password, not the name of an \
                 environment variable (NAME_IN_CAPITALS)",
            );
        }
    }
}

fn eks_endpoint_open(input: &Input, hits: &mut Hits) {
    for r in of_kind(input, Kind::EksCluster) {
        match bool_attr(r, "endpoint_public_access") {
            Ok(Some(false)) | Err(()) => continue,
            Ok(_) => {}
        }
        match get(r, "public_access_cidrs") {
            Known::Later => {}
            Known::Absent => hits.resource(
                &r.addr,
                "the public API endpoint is open to 0.0.0.0/0: `public_access_cidrs` is not set \
                 and the endpoint is public (AWS's defaults)",
            ),
            Known::Is(Value::List(items)) if items.is_empty() => hits.attr(
                &r.addr,
                "public_access_cidrs",
                Vec::new(),
                "the public API endpoint is open to 0.0.0.0/0: an empty `public_access_cidrs` \
                 means AWS's default",
            ),
            Known::Is(Value::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(c) = item.as_str().filter(|c| is_world(c)) {
                        hits.attr(
                            &r.addr,
                            "public_access_cidrs",
                            vec![Seg::Index(i)],
                            format!("the public API endpoint is open to {c}"),
                        );
                    }
                }
            }
            Known::Is(_) => {}
        }
    }
}

fn eks_logging_off(input: &Input, hits: &mut Hits) {
    for r in of_kind(input, Kind::EksCluster) {
        match get(r, "logging") {
            Known::Later => {}
            Known::Absent => hits.resource(
                &r.addr,
                "control-plane logging is off (`logging` is not set)",
            ),
            Known::Is(Value::List(items)) if items.is_empty() => hits.attr(
                &r.addr,
                "logging",
                Vec::new(),
                "control-plane logging is off (`logging: []`)",
            ),
            Known::Is(Value::List(items)) => {
                let known = items.iter().all(|v| v.as_str().is_some());
                if known && !items.iter().any(|v| v.as_str() == Some("audit")) {
                    hits.attr(
                        &r.addr,
                        "logging",
                        Vec::new(),
                        "the Kubernetes audit log is not sent to CloudWatch (`audit` is missing \
                         from `logging`)",
                    );
                }
            }
            Known::Is(_) => {}
        }
    }
}

fn launch_template_imdsv1(input: &Input, hits: &mut Hits) {
    for r in of_kind(input, Kind::LaunchTemplate) {
        match get(r, "http_tokens") {
            Known::Later => {}
            Known::Absent => hits.resource(
                &r.addr,
                "IMDSv1 is allowed: `http_tokens` is not set and the EKS AMIs default to optional",
            ),
            Known::Is(v) if v.as_str() == Some("required") => {}
            Known::Is(_) => hits.attr(
                &r.addr,
                "http_tokens",
                Vec::new(),
                "IMDSv1 is allowed (`http_tokens` is not `required`)",
            ),
        }
    }
}

fn cache_transit_unencrypted(input: &Input, hits: &mut Hits) {
    for r in of_kind(input, Kind::ElasticacheReplicationGroup) {
        require_true(
            r,
            "transit_encryption",
            hits,
            "connections are not encrypted: `transit_encryption` is not set and AWS defaults to \
             plain text",
            "connections are not encrypted (`transit_encryption: false`)",
        );
    }
}

fn cache_at_rest_unencrypted(input: &Input, hits: &mut Hits) {
    for r in of_kind(input, Kind::ElasticacheReplicationGroup) {
        require_true(
            r,
            "at_rest_encryption",
            hits,
            "data at rest is not encrypted: `at_rest_encryption` is not set and AWS defaults to \
             unencrypted",
            "data at rest is not encrypted (`at_rest_encryption: false`)",
        );
    }
}

fn kms_key_rotation_off(input: &Input, hits: &mut Hits) {
    for r in of_kind(input, Kind::KmsKey) {
        require_true(
            r,
            "enable_key_rotation",
            hits,
            "the key does not rotate: `enable_key_rotation` is not set and AWS defaults to off",
            "the key does not rotate (`enable_key_rotation: false`)",
        );
    }
}

fn ecr_scan_on_push_off(input: &Input, hits: &mut Hits) {
    for r in of_kind(input, Kind::EcrRepository) {
        require_true(
            r,
            "scan_on_push",
            hits,
            "pushed images are not scanned: `scan_on_push` is not set and AWS defaults to off",
            "pushed images are not scanned (`scan_on_push: false`)",
        );
    }
}

fn ecr_tags_mutable(input: &Input, hits: &mut Hits) {
    for r in of_kind(input, Kind::EcrRepository) {
        match get(r, "image_tag_mutability") {
            Known::Absent => hits.resource(
                &r.addr,
                "image tags can be overwritten: `image_tag_mutability` is not set and AWS defaults to MUTABLE",
            ),
            Known::Is(v) if v.as_str() != Some("IMMUTABLE") => hits.attr(
                &r.addr,
                "image_tag_mutability",
                Vec::new(),
                "image tags can be overwritten (`image_tag_mutability` is not IMMUTABLE)",
            ),
            _ => {}
        }
    }
}

/// The EKS access policies that grant (nearly) everything when scoped to the whole cluster.
const EKS_ADMIN_POLICIES: [&str; 2] = [
    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy",
];

fn eks_admin_to_iam_user(input: &Input, hits: &mut Hits) {
    for r in of_kind(input, Kind::EksAccessEntry) {
        // EKS takes no wildcard in principal_arn, so the principal is one identity; only a
        // user's is backed by long-term keys.
        let Known::Is(principal) = get(r, "principal_arn") else {
            continue;
        };
        if !principal.as_str().is_some_and(|p| p.contains(":user/")) {
            continue;
        }
        let Known::Is(Value::List(items)) = get(r, "access_policies") else {
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            let Value::Map(m) = item else { continue };
            let Some(arn) = m.get("policy_arn").and_then(Value::as_str) else {
                continue;
            };
            let cluster_wide = match m.get("access_scope") {
                Some(Value::Map(scope)) => {
                    scope.get("type").and_then(Value::as_str) == Some("cluster")
                }
                _ => true,
            };
            if cluster_wide && EKS_ADMIN_POLICIES.contains(&arn) {
                hits.attr(
                    &r.addr,
                    "access_policies",
                    vec![Seg::Index(i)],
                    format!(
                        "{} gets {} on the whole cluster through long-term IAM user keys",
                        principal.as_str().unwrap_or_default(),
                        arn.rsplit('/').next().unwrap_or(arn)
                    ),
                );
            }
        }
    }
}

/// The well-known ports of the engines regionctl manages.
const DATA_PORTS: [(i64, &str); 3] = [(5432, "PostgreSQL"), (3306, "MySQL"), (6379, "Redis")];

fn sg_db_port_open(input: &Input, hits: &mut Hits) {
    // Ports configured on the spec's databases and caches count as well as the defaults.
    let mut ports: Vec<(i64, String)> = DATA_PORTS
        .iter()
        .map(|(p, name)| (*p, (*name).to_owned()))
        .collect();
    for r in input.spec.selected_resources() {
        if matches!(
            r.kind,
            Kind::RdsInstance | Kind::ElasticacheReplicationGroup
        ) && let Known::Is(v) = get(r, "port")
            && let Some(p) = v.as_i64()
            && !ports.iter().any(|(known, _)| *known == p)
        {
            ports.push((p, format!("port of {}", r.addr.local())));
        }
    }
    for r in of_kind(input, Kind::SecurityGroup) {
        let Known::Is(Value::List(rules)) = get(r, "ingress") else {
            continue;
        };
        for (i, rule) in rules.iter().enumerate() {
            let Value::Map(rule) = rule else { continue };
            let range = match rule.get("protocol").and_then(Value::as_str) {
                Some("all") => 0..=65535,
                Some("tcp") => {
                    let from = rule.get("from_port").map_or(Some(0), Value::as_i64);
                    let to = rule.get("to_port").map_or(Some(65535), Value::as_i64);
                    match (from, to) {
                        (Some(f), Some(t)) => f..=t,
                        _ => continue,
                    }
                }
                _ => continue,
            };
            let open: Vec<String> = ports
                .iter()
                .filter(|(p, _)| range.contains(p))
                .map(|(p, name)| format!("{p} ({name})"))
                .collect();
            if open.is_empty() {
                continue;
            }
            let Some(Value::List(cidrs)) = rule.get("cidr_blocks") else {
                continue;
            };
            for (j, c) in cidrs.iter().enumerate() {
                if let Some(c) = c.as_str().filter(|c| is_world(c)) {
                    hits.attr(
                        &r.addr,
                        "ingress",
                        vec![Seg::Index(i), Seg::Key("cidr_blocks"), Seg::Index(j)],
                        format!("ingress rule {} opens {} to {c}", i + 1, open.join(", ")),
                    );
                }
            }
        }
    }
}

/// The subnet group a data store names: a reference, or (once folded to the name) the group of
/// that name among its dependencies.
fn subnet_group<'s>(spec: &'s Spec, r: &Resource, attr: &str, kind: Kind) -> Option<&'s Resource> {
    match r.attrs.get(attr)? {
        v @ Value::Unknown(_) => ref_target(v)
            .and_then(|a| spec.resources.get(a))
            .filter(|g| g.kind == kind),
        Value::Str(name) => {
            let named = |g: &&Resource| {
                g.kind == kind
                    && g.attrs
                        .get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
            };
            r.deps
                .iter()
                .filter_map(|a| spec.resources.get(a))
                .find(named)
                .or_else(|| {
                    spec.resources
                        .values()
                        .filter(|g| g.addr.env == r.addr.env)
                        .find(named)
                })
        }
        _ => None,
    }
}

/// Why a subnet is public, if it is.
fn public_reason(spec: &Spec, subnet: &Resource) -> Option<String> {
    if bool_attr(subnet, "map_public_ip_on_launch") == Ok(Some(true)) {
        return Some("map_public_ip_on_launch: true".to_owned());
    }
    for table in spec
        .resources
        .values()
        .filter(|t| t.kind == Kind::RouteTable && t.addr.env == subnet.addr.env)
    {
        let Some(Value::List(members)) = table.attrs.get("subnet_ids") else {
            continue;
        };
        if !members.iter().any(|m| ref_target(m) == Some(&subnet.addr)) {
            continue;
        }
        let Some(Value::List(routes)) = table.attrs.get("routes") else {
            continue;
        };
        for route in routes {
            let Value::Map(route) = route else { continue };
            let Some(gw) = route.get("gateway_id") else {
                continue;
            };
            let to_igw = match gw {
                Value::Str(id) => id.starts_with("igw-"),
                v => ref_target(v)
                    .and_then(|a| spec.resources.get(a))
                    .is_some_and(|g| g.kind == Kind::InternetGateway),
            };
            if to_igw {
                return Some(format!(
                    "routed to an internet gateway by {}",
                    table.addr.local()
                ));
            }
        }
    }
    None
}

fn data_store_in_public_subnet(input: &Input, hits: &mut Hits) {
    let spec = input.spec;
    let stores = [
        (Kind::RdsInstance, "db_subnet_group", Kind::DbSubnetGroup),
        (
            Kind::ElasticacheReplicationGroup,
            "cache_subnet_group",
            Kind::CacheSubnetGroup,
        ),
    ];
    for (kind, attr, group_kind) in stores {
        for r in of_kind(input, kind) {
            match get(r, attr) {
                Known::Absent => {
                    hits.resource(
                        &r.addr,
                        format!(
                            "no `{attr}`: AWS places it in the default VPC, whose subnets are public"
                        ),
                    );
                    continue;
                }
                Known::Later | Known::Is(_) => {}
            }
            let Some(group) = subnet_group(spec, r, attr, group_kind) else {
                continue;
            };
            let Some(Value::List(members)) = group.attrs.get("subnet_ids") else {
                continue;
            };
            let public: Vec<String> = members
                .iter()
                .filter_map(ref_target)
                .filter_map(|a| spec.resources.get(a))
                .filter(|s| s.kind == Kind::Subnet)
                .filter_map(|s| {
                    public_reason(spec, s).map(|why| format!("{} ({why})", s.addr.local()))
                })
                .collect();
            if !public.is_empty() {
                hits.attr(
                    &r.addr,
                    attr,
                    Vec::new(),
                    format!(
                        "{} includes public subnet{}: {}",
                        group.addr.local(),
                        if public.len() == 1 { "" } else { "s" },
                        public.join(", ")
                    ),
                );
            }
        }
    }
}

fn rds_no_deletion_protection(input: &Input, hits: &mut Hits) {
    for r in of_kind(input, Kind::RdsInstance) {
        require_true(
            r,
            "deletion_protection",
            hits,
            "no deletion protection: `deletion_protection` is not set and AWS defaults to off",
            "no deletion protection (`deletion_protection: false`)",
        );
    }
}

fn rds_no_backups(input: &Input, hits: &mut Hits) {
    // Replicas are backed up through their source (PostgreSQL replicas cannot keep backups).
    for r in of_kind(input, Kind::RdsInstance).filter(|r| !is_replica(r)) {
        if let Known::Is(v) = get(r, "backup_retention_period")
            && v.as_i64() == Some(0)
        {
            hits.attr(
                &r.addr,
                "backup_retention_period",
                Vec::new(),
                "automated backups are off (`backup_retention_period: 0`): no point-in-time recovery",
            );
        }
    }
}

fn cache_no_snapshots(input: &Input, hits: &mut Hits) {
    for r in of_kind(input, Kind::ElasticacheReplicationGroup) {
        match get(r, "snapshot_retention_limit") {
            Known::Absent => hits.resource(
                &r.addr,
                "no automatic snapshots: `snapshot_retention_limit` is not set (AWS default 0)",
            ),
            Known::Is(v) if v.as_i64() == Some(0) => hits.attr(
                &r.addr,
                "snapshot_retention_limit",
                Vec::new(),
                "no automatic snapshots (`snapshot_retention_limit: 0`)",
            ),
            _ => {}
        }
    }
}

/// Whether Route 53 can tell the record's target is down: a health check, or an alias that
/// follows its target's health.
fn health_checked(r: &Resource) -> bool {
    if !matches!(get(r, "health_check_id"), Known::Absent) {
        return true;
    }
    match r.attrs.get("alias") {
        Some(Value::Map(alias)) => !matches!(
            alias.get("evaluate_target_health"),
            None | Some(Value::Bool(false)) | Some(Value::Null)
        ),
        _ => false,
    }
}

fn routing<'r>(r: &'r Resource, policy: &str) -> Option<&'r Value> {
    match r.attrs.get("routing")? {
        Value::Map(m) => m.get(policy).filter(|v| **v != Value::Null),
        _ => None,
    }
}

fn latency_record_no_health_check(input: &Input, hits: &mut Hits) {
    for r in of_kind(input, Kind::Route53Record) {
        let Some(latency) = routing(r, "latency") else {
            continue;
        };
        if health_checked(r) {
            continue;
        }
        let region = match latency {
            Value::Map(m) => m.get("region").and_then(Value::as_str),
            _ => None,
        };
        hits.attr(
            &r.addr,
            "routing",
            vec![Seg::Key("latency")],
            match region {
                Some(region) => format!(
                    "the latency record for {region} has no health check: Route 53 keeps \
                     answering with it while {region} is down"
                ),
                None => "this latency record has no health check: Route 53 keeps answering \
                         with it while its region is down"
                    .to_owned(),
            },
        );
    }
}

fn failover_record_no_health_check(input: &Input, hits: &mut Hits) {
    for r in of_kind(input, Kind::Route53Record) {
        let Some(role) = routing(r, "failover") else {
            continue;
        };
        if health_checked(r) {
            continue;
        }
        let message = match role.as_str() {
            Some("PRIMARY") => "the PRIMARY failover record has no health check: Route 53 \
                                considers it always healthy and never fails over"
                .to_owned(),
            Some("SECONDARY") => "the SECONDARY failover record has no health check: Route 53 \
                                  answers with it even when the standby is down"
                .to_owned(),
            _ => "this failover record has no health check".to_owned(),
        };
        hits.attr(&r.addr, "routing", vec![Seg::Key("failover")], message);
    }
}

fn missing_required_tags(input: &Input, hits: &mut Hits) {
    let required = &input.config.required_tags;
    if required.is_empty() {
        return;
    }
    for r in input
        .spec
        .selected_resources()
        .filter(|r| crate::spec::schema::kinds::schema(r.kind).taggable)
    {
        let tags = match r.attrs.get("tags") {
            None | Some(Value::Null) => None,
            Some(Value::Map(m)) => Some(m),
            Some(_) => continue, // known after apply
        };
        let missing: Vec<&str> = required
            .iter()
            .filter(|t| {
                !tags.is_some_and(|m| {
                    m.get(t.as_str()).is_some_and(|v| match v {
                        Value::Str(s) => !s.trim().is_empty(),
                        Value::Null => false,
                        _ => true,
                    })
                })
            })
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            continue;
        }
        let message = format!(
            "missing required tag{}: {}",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        );
        if r.attr_spans.contains_key("tags") {
            hits.attr(&r.addr, "tags", Vec::new(), message);
        } else {
            hits.resource(&r.addr, message);
        }
    }
}

fn stateful_replace_or_delete(input: &Input, hits: &mut Hits) {
    let Some(plan) = input.plan else { return };
    let selected: BTreeSet<&str> = plan.envs.iter().map(|e| e.env.as_str()).collect();
    for c in plan.changes() {
        if !c.kind.is_stateful() || !selected.contains(c.addr.env.as_str()) {
            continue;
        }
        let allowed = if c.refusal.is_some() {
            " The plan refuses it without --allow-replace/--allow-destroy."
        } else {
            ""
        };
        match c.action {
            Action::Replace => {
                let forced = c.forces_replacement.join(", ");
                let message = format!(
                    "the plan replaces this {} (destroys it and creates a new one){}.{allowed}",
                    c.kind,
                    if forced.is_empty() {
                        String::new()
                    } else {
                        format!(": {forced} cannot change in place")
                    }
                );
                // Point at the first attribute forcing the replacement, when the spec has it.
                let attr = input.spec.resources.get(&c.addr).and_then(|r| {
                    c.forces_replacement
                        .iter()
                        .find_map(|a| r.attr_spans.get_key_value(a.as_str()))
                        .map(|(k, _)| k.as_str())
                });
                match attr.and_then(static_attr) {
                    Some(a) => hits.attr(&c.addr, a, Vec::new(), message),
                    None => hits.resource(&c.addr, message),
                }
            }
            Action::Delete => {
                let message = format!("the plan deletes this {}.{allowed}", c.kind);
                if input.spec.resources.contains_key(&c.addr) {
                    hits.resource(&c.addr, message);
                } else {
                    hits.gone(
                        &c.addr,
                        format!(
                            "the plan deletes {} (no longer in the spec).{allowed}",
                            c.addr.local()
                        ),
                    );
                }
            }
            Action::NoOp | Action::Create | Action::Update => {}
        }
    }
}

/// The schema's `'static` name of an attribute (hits name attributes by `'static` strings).
fn static_attr(name: &str) -> Option<&'static str> {
    Kind::ALL.iter().find_map(|k| {
        crate::spec::schema::kinds::schema(*k)
            .fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.name)
    })
}

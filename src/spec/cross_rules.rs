//! More rules across fields and resources, each one a way AWS rejects a request half-way
//! through an apply: security-group rules without ports, routes without exactly one target,
//! subnets of one AZ where AWS needs two, RDS storage and replica constraints, node group update
//! limits, Route 53 health checks and record sets, tags.
//!
//! Like `rules`, a rule passes silently when a value it needs is known only after apply.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostic, Diagnostics};
use crate::kind::Kind;
use crate::source::Span;
use crate::spec::aws_facts;
use crate::spec::value::{Deferred, RefTarget, Value};
use crate::spec::{Resource, Spec};

pub fn check(spec: &Spec, selected: &[&Resource], d: &mut Diagnostics) {
    for r in selected {
        match r.kind {
            Kind::SecurityGroup => sg_ports(r, d),
            Kind::RouteTable => route_targets(r, d),
            Kind::EksCluster => two_azs(spec, r, "subnet_ids", "an EKS cluster", d),
            Kind::DbSubnetGroup => two_azs(spec, r, "subnet_ids", "a DB subnet group", d),
            Kind::RdsInstance => rds(spec, r, d),
            Kind::EksNodeGroup => update_config(r, d),
            Kind::Route53HealthCheck => health_check(r, d),
            Kind::Route53Record => record_in_zone(spec, r, d),
            Kind::ElasticacheReplicationGroup => cache(r, d),
            _ => {}
        }
        tags(r, d);
    }
    record_sets(selected, d);
}

fn span_of(r: &Resource, attr: &str) -> Span {
    r.attr_spans.get(attr).copied().unwrap_or(r.span)
}

fn str_attr<'r>(r: &'r Resource, attr: &str) -> Option<&'r str> {
    r.attrs.get(attr).and_then(Value::as_str)
}

fn bool_attr(r: &Resource, attr: &str) -> Option<bool> {
    r.attrs.get(attr).and_then(Value::as_bool)
}

/// The resource a value refers to directly, if it is one of `kind` in the spec.
fn referenced<'s>(spec: &'s Spec, v: &Value, kind: Kind) -> Option<&'s Resource> {
    let Value::Unknown(d) = v else { return None };
    let Deferred::Ref(r) = d.as_ref() else {
        return None;
    };
    let RefTarget::Resolved { addr } = &r.target else {
        return None;
    };
    spec.resources.get(addr).filter(|res| res.kind == kind)
}

fn sg_ports(r: &Resource, d: &mut Diagnostics) {
    for dir in ["ingress", "egress"] {
        let Some(Value::List(rules)) = r.attrs.get(dir) else {
            continue;
        };
        for (i, rule) in rules.iter().enumerate() {
            let Value::Map(m) = rule else { continue };
            let Some(proto) = m.get("protocol").and_then(Value::as_str) else {
                continue;
            };
            if matches!(proto, "tcp" | "udp") {
                let missing: Vec<&str> = ["from_port", "to_port"]
                    .into_iter()
                    .filter(|p| !m.contains_key(*p))
                    .collect();
                if !missing.is_empty() {
                    d.push(
                        Diagnostic::error(
                            "rule::sg-ports",
                            format!(
                                "{dir} rule {} ({proto}) has no `{}`",
                                i + 1,
                                missing.join("` or `")
                            ),
                        )
                        .with_label(span_of(r, dir), format!("a {proto} rule needs a port range"))
                        .with_help("set from_port and to_port (the same number for one port), or use protocol `all` for every port"),
                    );
                }
            }
        }
    }
}

fn route_targets(r: &Resource, d: &mut Diagnostics) {
    let Some(Value::List(routes)) = r.attrs.get("routes") else {
        return;
    };
    for (i, route) in routes.iter().enumerate() {
        let Value::Map(m) = route else { continue };
        let targets: Vec<&str> = ["gateway_id", "nat_gateway_id"]
            .into_iter()
            .filter(|t| m.contains_key(*t))
            .collect();
        let dest = m
            .get("destination_cidr_block")
            .and_then(Value::as_str)
            .unwrap_or("?");
        match targets.len() {
            0 => d.push(
                Diagnostic::error(
                    "rule::route-target",
                    format!("route {} to {dest} has no target", i + 1),
                )
                .with_label(span_of(r, "routes"), "a route without a target")
                .with_help("set exactly one of gateway_id or nat_gateway_id"),
            ),
            1 => {}
            _ => d.push(
                Diagnostic::error(
                    "rule::route-target",
                    format!(
                        "route {} to {dest} has two targets: {}",
                        i + 1,
                        targets.join(" and ")
                    ),
                )
                .with_label(span_of(r, "routes"), "two targets")
                .with_help("a route sends traffic to exactly one of gateway_id or nat_gateway_id"),
            ),
        }
    }
}

/// EKS and RDS need subnets in at least two availability zones.
fn two_azs(spec: &Spec, r: &Resource, attr: &str, what: &str, d: &mut Diagnostics) {
    let Some(Value::List(items)) = r.attrs.get(attr) else {
        return;
    };
    let mut azs = BTreeSet::new();
    for item in items {
        let Some(subnet) = referenced(spec, item, Kind::Subnet) else {
            return; // an external id or an unknown list: AWS decides
        };
        let Some(az) = str_attr(subnet, "availability_zone") else {
            return;
        };
        azs.insert(az.to_string());
    }
    if azs.len() < 2 {
        let which = match azs.iter().next() {
            Some(az) => format!("all in {az}"),
            None => "none".to_string(),
        };
        d.push(
            Diagnostic::error(
                "rule::subnet-azs",
                format!("{what} needs subnets in at least two availability zones, but its subnets are {which}"),
            )
            .with_label(span_of(r, attr), "subnets of one AZ")
            .with_help("add a subnet in a second availability zone of the region"),
        );
    }
}

fn rds(spec: &Spec, r: &Resource, d: &mut Diagnostics) {
    let replica = r.attrs.get("replicate_from");
    let has_storage = r.attrs.contains_key("allocated_storage");
    match replica {
        None if !has_storage => d.push(
            Diagnostic::error(
                "rule::rds-storage",
                format!("{} has no `allocated_storage`", r.addr.local()),
            )
            .with_label(r.span, "needs allocated_storage")
            .with_help("a primary DB instance needs its storage size in GiB, e.g. `allocated_storage: 20`; only a read replica inherits it"),
        ),
        Some(_) if has_storage => d.push(
            Diagnostic::error(
                "rule::rds-replica",
                "a read replica cannot set `allocated_storage`; it comes from the source instance",
            )
            .with_label(span_of(r, "allocated_storage"), "not allowed with replicate_from")
            .with_help("remove allocated_storage; the replica's storage follows its source"),
        ),
        _ => {}
    }
    if let Some(src) = replica.and_then(|v| referenced(spec, v, Kind::RdsInstance)) {
        if src
            .attrs
            .get("backup_retention_period")
            .and_then(Value::as_i64)
            == Some(0)
        {
            d.push(
                Diagnostic::error(
                    "rule::rds-replica-source",
                    format!(
                        "{} replicates {}, which keeps no backups",
                        r.addr.local(),
                        src.addr.local()
                    ),
                )
                .with_label(span_of(r, "replicate_from"), "source without backups")
                .with_label(span_of(src, "backup_retention_period"), "backups disabled here")
                .with_help("a replication source needs automated backups: set its backup_retention_period to 1 or more"),
            );
        }
        let cross_region = src.region != r.region;
        let encrypted = bool_attr(src, "storage_encrypted") == Some(true)
            || bool_attr(r, "storage_encrypted") == Some(true);
        if cross_region && encrypted && !r.attrs.contains_key("kms_key_id") {
            d.push(
                Diagnostic::error(
                    "rule::rds-replica-kms",
                    format!(
                        "encrypted cross-region replica {} has no `kms_key_id`",
                        r.addr.local()
                    ),
                )
                .with_label(
                    r.span,
                    format!(
                        "needs a KMS key of {}",
                        r.region.as_deref().unwrap_or("its region")
                    ),
                )
                .with_help(
                    "KMS keys are regional: set kms_key_id to a key ARN in the replica's region",
                ),
            );
        }
    }
    if r.attrs.contains_key("kms_key_id")
        && replica.is_none()
        && bool_attr(r, "storage_encrypted") != Some(true)
    {
        d.push(
            Diagnostic::error(
                "rule::rds-kms",
                "`kms_key_id` needs `storage_encrypted: true`",
            )
            .with_label(span_of(r, "kms_key_id"), "a key for unencrypted storage")
            .with_help("set storage_encrypted: true, or remove kms_key_id"),
        );
    }
    if bool_attr(r, "multi_az") == Some(true) && r.attrs.contains_key("availability_zone") {
        d.push(
            Diagnostic::error(
                "rule::rds-multi-az",
                "a multi-AZ instance cannot set `availability_zone`",
            )
            .with_label(
                span_of(r, "availability_zone"),
                "RDS chooses the AZs of a multi-AZ instance",
            )
            .with_help("remove availability_zone, or set multi_az: false"),
        );
    }
    let storage_type = str_attr(r, "storage_type").unwrap_or("gp2");
    if r.attrs.contains_key("iops") && !matches!(storage_type, "io1" | "io2" | "gp3") {
        d.push(
            Diagnostic::error(
                "rule::rds-storage",
                format!("`iops` needs storage_type io1, io2 or gp3, not {storage_type}"),
            )
            .with_label(span_of(r, "iops"), "provisioned IOPS")
            .with_help("set storage_type: gp3 (or io1/io2), or remove iops"),
        );
    }
    if matches!(storage_type, "io1" | "io2") && !r.attrs.contains_key("iops") && replica.is_none() {
        d.push(
            Diagnostic::error(
                "rule::rds-storage",
                format!("storage_type {storage_type} needs `iops`"),
            )
            .with_label(span_of(r, "storage_type"), "provisioned IOPS storage")
            .with_help("set iops, e.g. 3000"),
        );
    }
    if r.attrs.contains_key("storage_throughput") && storage_type != "gp3" {
        d.push(
            Diagnostic::error(
                "rule::rds-storage",
                format!("`storage_throughput` needs storage_type gp3, not {storage_type}"),
            )
            .with_label(span_of(r, "storage_throughput"), "gp3 only"),
        );
    }
    if let (Some(alloc), Some(max)) = (
        r.attrs.get("allocated_storage").and_then(Value::as_i64),
        r.attrs.get("max_allocated_storage").and_then(Value::as_i64),
    ) && max < alloc
    {
        d.push(
            Diagnostic::error(
                "rule::rds-storage",
                format!("max_allocated_storage {max} is below allocated_storage {alloc}"),
            )
            .with_label(
                span_of(r, "max_allocated_storage"),
                "below allocated_storage",
            )
            .with_help("the autoscaling limit must be at least the allocated storage"),
        );
    }
    if str_attr(r, "engine") == Some("mysql")
        && let Some(user) = str_attr(r, "master_username")
        && user.chars().count() > 16
    {
        d.push(
            Diagnostic::error(
                "rule::rds-username",
                format!(
                    "a MySQL master user name has at most 16 characters; {user:?} has {}",
                    user.chars().count()
                ),
            )
            .with_label(span_of(r, "master_username"), "too long for MySQL"),
        );
    }
}

fn update_config(r: &Resource, d: &mut Diagnostics) {
    let Some(Value::Map(m)) = r.attrs.get("update_config") else {
        return;
    };
    match (
        m.contains_key("max_unavailable"),
        m.contains_key("max_unavailable_percentage"),
    ) {
        (true, true) => d.push(
            Diagnostic::error(
                "rule::node-group-update",
                "`update_config` sets both max_unavailable and max_unavailable_percentage",
            )
            .with_label(span_of(r, "update_config"), "choose one")
            .with_help("EKS takes either a number of nodes or a percentage, not both"),
        ),
        (false, false) => d.push(
            Diagnostic::error("rule::node-group-update", "`update_config` sets no limit")
                .with_label(span_of(r, "update_config"), "empty")
                .with_help(
                    "set max_unavailable or max_unavailable_percentage, or remove update_config",
                ),
        ),
        _ => {}
    }
}

/// Addresses Route 53 health checkers cannot reach, so AWS refuses them (CreateHealthCheck:
/// local, private, non-routable or multicast ranges).
fn unreachable_ip(ip: &std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.octets()[0] == 0
                || (v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]))
        }
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_multicast()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

fn health_check(r: &Resource, d: &mut Diagnostics) {
    let ty = str_attr(r, "type").unwrap_or("");
    if let Some(i) = r.attrs.get("request_interval").and_then(Value::as_i64)
        && i != 10
        && i != 30
    {
        d.push(
            Diagnostic::error(
                "rule::health-check",
                format!("`request_interval` is 10 or 30 seconds, not {i}"),
            )
            .with_label(span_of(r, "request_interval"), "10 or 30")
            .with_help("Route 53 checks every 30 seconds (standard) or every 10 (fast)"),
        );
    }
    if let Some(Value::List(regions)) = r.attrs.get("regions") {
        let known = regions.iter().all(|v| !v.has_unknown());
        let distinct: BTreeSet<&str> = regions.iter().filter_map(Value::as_str).collect();
        if known && distinct.len() < 3 {
            d.push(
                Diagnostic::error(
                    "rule::health-check",
                    format!(
                        "`regions` needs at least 3 checker regions, but has {}",
                        distinct.len()
                    ),
                )
                .with_label(span_of(r, "regions"), "fewer than 3 distinct regions")
                .with_help(format!(
                    "choose three or more of {}, or remove `regions` to check from all of them",
                    aws_facts::ROUTE53_HEALTH_CHECK_REGIONS.join(", ")
                )),
            );
        }
    }
    if r.attrs.contains_key("search_string") && !ty.ends_with("_STR_MATCH") && !ty.is_empty() {
        d.push(
            Diagnostic::error(
                "rule::health-check",
                format!("`search_string` is only for HTTP_STR_MATCH and HTTPS_STR_MATCH checks, not {ty}"),
            )
            .with_label(span_of(r, "search_string"), "ignored by this type")
            .with_help(format!("use type {ty}_STR_MATCH to match the body, or remove search_string")),
        );
    }
    if ty == "TCP" && !r.attrs.contains_key("fqdn") && !r.attrs.contains_key("ip_address") {
        d.push(
            Diagnostic::error(
                "rule::health-check-target",
                "a TCP health check needs `fqdn` or `ip_address`",
            )
            .with_label(r.span, "nothing to connect to"),
        );
    }
    if ty == "TCP" && r.attrs.contains_key("resource_path") {
        d.push(
            Diagnostic::error(
                "rule::health-check",
                "`resource_path` is only for HTTP and HTTPS checks",
            )
            .with_label(span_of(r, "resource_path"), "a TCP check requests no path"),
        );
    }
    if let Some(ip) = str_attr(r, "ip_address").and_then(|s| s.parse::<std::net::IpAddr>().ok())
        && unreachable_ip(&ip)
    {
        d.push(
            Diagnostic::error(
                "rule::health-check-ip",
                format!("Route 53 cannot check {ip}: it is a private, local or non-routable address"),
            )
            .with_label(span_of(r, "ip_address"), "not reachable from the internet")
            .with_help("health checkers run on the internet; use the endpoint's public address or its fqdn"),
        );
    }
}

fn cache(r: &Resource, d: &mut Diagnostics) {
    if r.attrs.contains_key("kms_key_id") && bool_attr(r, "at_rest_encryption") != Some(true) {
        d.push(
            Diagnostic::error(
                "rule::cache-kms",
                "`kms_key_id` needs `at_rest_encryption: true`",
            )
            .with_label(span_of(r, "kms_key_id"), "a key without encryption at rest"),
        );
    }
}

/// A record's name must be inside its zone.
fn record_in_zone(spec: &Spec, r: &Resource, d: &mut Diagnostics) {
    let (Some(zone), Some(name)) = (
        r.attrs
            .get("zone_id")
            .and_then(|v| referenced(spec, v, Kind::Route53Zone)),
        str_attr(r, "name"),
    ) else {
        return;
    };
    let Some(zone_name) = str_attr(zone, "name") else {
        return;
    };
    let norm = |s: &str| s.trim_end_matches('.').to_ascii_lowercase();
    let (name_n, zone_n) = (norm(name), norm(zone_name));
    if name_n != zone_n && !name_n.ends_with(&format!(".{zone_n}")) {
        d.push(
            Diagnostic::error(
                "rule::record-zone",
                format!("record {name} is not in its zone {zone_name}"),
            )
            .with_label(span_of(r, "name"), format!("not under {zone_name}"))
            .with_label(span_of(zone, "name"), "the zone")
            .with_help(format!(
                "a record of this zone is named {zone_n} or ends with .{zone_n}"
            )),
        );
    }
    // With `records` too, the record-target rule already says to choose one.
    if r.attrs.contains_key("alias")
        && r.attrs.contains_key("ttl")
        && !r.attrs.contains_key("records")
    {
        d.push(
            Diagnostic::error("rule::record-ttl", "an alias record has no `ttl`")
                .with_label(span_of(r, "ttl"), "Route 53 uses the alias target's TTL")
                .with_help("remove ttl"),
        );
    }
}

/// All records of one name and type share one routing policy (or none).
fn record_sets(resources: &[&Resource], d: &mut Diagnostics) {
    type Key = (String, String, String);
    let mut sets: BTreeMap<Key, Vec<(&Resource, &'static str)>> = BTreeMap::new();
    for r in resources.iter().filter(|r| r.kind == Kind::Route53Record) {
        let zone = match r.attrs.get("zone_id") {
            Some(Value::Str(s)) => s.clone(),
            Some(Value::Unknown(dv)) => match dv.as_ref() {
                Deferred::Ref(rf) => match &rf.target {
                    RefTarget::Resolved { addr } => addr.to_string(),
                    RefTarget::Unresolved { .. } => continue,
                },
                _ => continue,
            },
            _ => continue,
        };
        let (Some(name), Some(ty)) = (str_attr(r, "name"), str_attr(r, "type")) else {
            continue;
        };
        let policy = match r.attrs.get("routing") {
            Some(Value::Map(m)) => match ["latency", "failover", "weighted"]
                .into_iter()
                .find(|p| m.contains_key(*p))
            {
                Some(p) => p,
                None => continue,
            },
            Some(_) => continue,
            None => "simple",
        };
        sets.entry((
            zone,
            name.trim_end_matches('.').to_ascii_lowercase(),
            ty.to_string(),
        ))
        .or_default()
        .push((r, policy));
    }
    for ((_, name, ty), members) in sets {
        let policies: BTreeSet<&str> = members.iter().map(|(_, p)| *p).collect();
        if policies.len() > 1 {
            let mut diag = Diagnostic::error(
                "rule::record-routing",
                format!(
                    "records for {name} {ty} mix routing policies: {}",
                    policies.iter().copied().collect::<Vec<_>>().join(" and ")
                ),
            );
            for (r, p) in &members {
                let at = if *p == "simple" {
                    span_of(r, "name")
                } else {
                    span_of(r, "routing")
                };
                diag = diag.with_label(at, format!("{p} here"));
            }
            d.push(diag.with_help("Route 53 answers one name and type with one policy: give every record of the set the same kind of routing, or use different names"));
        } else if policies.contains("simple") && members.len() > 1 {
            let mut diag = Diagnostic::error(
                "rule::record-duplicate",
                format!(
                    "{name} {ty} is defined by {} records without routing",
                    members.len()
                ),
            );
            for (r, _) in &members {
                diag = diag.with_label(span_of(r, "name"), "this record");
            }
            d.push(diag.with_help("a simple record set is one record with several values: merge them into one `records` list"));
        }
    }
}

/// AWS tag limits: at most 50 tags, keys up to 128 characters, values up to 256, and keys may
/// not start with `aws:` (reserved).
fn tags(r: &Resource, d: &mut Diagnostics) {
    let Some(Value::Map(tags)) = r.attrs.get("tags") else {
        return;
    };
    let span = span_of(r, "tags");
    if tags.len() > 50 {
        d.push(
            Diagnostic::error(
                "rule::tags",
                format!("{} tags; AWS allows at most 50", tags.len()),
            )
            .with_label(span, "too many tags"),
        );
    }
    for (k, v) in tags {
        let problem = if k.is_empty() {
            Some("an empty tag key".to_string())
        } else if k.to_ascii_lowercase().starts_with("aws:") {
            Some(format!(
                "tag key {k:?} starts with `aws:`, which AWS reserves"
            ))
        } else if k.chars().count() > 128 {
            Some(format!("tag key {k:?} is longer than 128 characters"))
        } else if v.as_str().is_some_and(|s| s.chars().count() > 256) {
            Some(format!(
                "the value of tag {k:?} is longer than 256 characters"
            ))
        } else {
            None
        };
        if let Some(p) = problem {
            d.push(
                Diagnostic::error("rule::tags", p)
                    .with_label(span, "AWS rejects this tag")
                    .with_help("tag keys have 1-128 characters and may not start with aws:; values have at most 256"),
            );
        }
    }
}

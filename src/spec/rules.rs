//! Checks that need more than one attribute or more than one resource: CIDRs inside their VPC,
//! availability zones of the right region, node group sizes, known versions, failover pairs.
//!
//! Only values known before apply can be checked; a rule silently passes when a value is
//! `(known after apply)`, because the provider will catch it then.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::kind::Kind;
use crate::source::Span;
use crate::spec::aws_facts;
use crate::spec::cidr::Ipv4Cidr;
use crate::spec::value::{Deferred, RefTarget, Value};
use crate::spec::{Resource, Spec};

pub fn check(spec: &Spec) -> Diagnostics {
    let mut d = Diagnostics::new();
    let selected: Vec<&Resource> = spec.selected_resources().collect();
    for r in &selected {
        match r.kind {
            Kind::Vpc => vpc(r, &mut d),
            Kind::Subnet => subnet(spec, r, &mut d),
            Kind::EksCluster => eks_version(r, &mut d),
            Kind::EksNodeGroup => {
                node_group(r, &mut d);
                eks_version(r, &mut d);
            }
            Kind::RdsInstance => rds(r, &mut d),
            Kind::ElasticacheReplicationGroup => cache(r, &mut d),
            Kind::Route53Record => record(r, &mut d),
            Kind::Route53HealthCheck => health_check(r, &mut d),
            Kind::SecurityGroup => security_group(r, &mut d),
            Kind::CloudwatchMetricAlarm => alarm(spec, r, &mut d),
            _ => {}
        }
    }
    subnet_overlaps(&selected, &mut d);
    failover_pairs(&selected, &mut d);
    crate::spec::cross_rules::check(spec, &selected, &mut d);
    crate::spec::platform_rules::check(spec, &selected, &mut d);
    d
}

fn span_of(r: &Resource, attr: &str) -> Span {
    r.attr_spans.get(attr).copied().unwrap_or(r.span)
}

fn str_attr<'r>(r: &'r Resource, attr: &str) -> Option<&'r str> {
    r.attrs.get(attr).and_then(Value::as_str)
}

fn int_at(r: &Resource, attr: &str, field: &str) -> Option<i64> {
    match r.attrs.get(attr)? {
        Value::Map(m) => m.get(field)?.as_i64(),
        _ => None,
    }
}

/// The resource of `kind` that an attribute refers to directly (a reference of the wrong kind
/// is reported by the schema check, so rules ignore it).
fn referenced<'s>(spec: &'s Spec, v: Option<&Value>, kind: Kind) -> Option<&'s Resource> {
    let Value::Unknown(d) = v? else { return None };
    let Deferred::Ref(r) = d.as_ref() else {
        return None;
    };
    let RefTarget::Resolved { addr } = &r.target else {
        return None;
    };
    spec.resources.get(addr).filter(|res| res.kind == kind)
}

fn vpc(r: &Resource, d: &mut Diagnostics) {
    if let Some(c) = str_attr(r, "cidr_block").and_then(|s| Ipv4Cidr::parse(s).ok())
        && !(16..=28).contains(&c.prefix)
    {
        d.push(
            Diagnostic::error(
                "rule::vpc-cidr-size",
                format!(
                    "a VPC CIDR block must be between /16 and /28, not /{}",
                    c.prefix
                ),
            )
            .with_label(span_of(r, "cidr_block"), "AWS rejects this size")
            .with_help("use a /16 for a platform VPC, e.g. 10.20.0.0/16"),
        );
    }
}

fn subnet(spec: &Spec, r: &Resource, d: &mut Diagnostics) {
    if let (Some(az), Some(region)) = (str_attr(r, "availability_zone"), r.region.as_deref())
        && let Some(azs) = aws_facts::region_azs(region)
        && !azs.contains(&az)
    {
        let mut diag = Diagnostic::error(
            "rule::az-region",
            format!("availability zone `{az}` is not in region {region}"),
        )
        .with_label(
            span_of(r, "availability_zone"),
            format!("not an AZ of {region}"),
        );
        diag = match (
            did_you_mean(az, azs.iter().copied()),
            aws_facts::az_region(az),
        ) {
            (_, Some(other)) => diag.with_help(format!(
                "`{az}` is in {other}; {region} has {}",
                azs.join(", ")
            )),
            (Some(s), None) => diag.with_help(format!("did you mean `{s}`?")),
            (None, None) => diag.with_help(format!("{region} has {}", azs.join(", "))),
        };
        d.push(diag);
    }
    let Some(cidr) = str_attr(r, "cidr_block").and_then(|s| Ipv4Cidr::parse(s).ok()) else {
        return;
    };
    if let Some(vpc) = referenced(spec, r.attrs.get("vpc_id"), Kind::Vpc)
        && let Some(vpc_cidr) = str_attr(vpc, "cidr_block").and_then(|s| Ipv4Cidr::parse(s).ok())
        && !vpc_cidr.contains(&cidr)
    {
        d.push(Diagnostic::error("rule::subnet-outside-vpc", format!("subnet {cidr} is outside its VPC's CIDR block {vpc_cidr}"))
                    .with_label(span_of(r, "cidr_block"), format!("not inside {vpc_cidr}"))
                    .with_label(span_of(vpc, "cidr_block"), "the VPC's block")
                    .with_help("a subnet's CIDR must be a sub-block of its VPC's; cidrsubnet(vpc_cidr, newbits, n) computes one"));
    }
}

/// Two subnets of the same VPC may not overlap. Subnets are grouped by the VPC they reference.
fn subnet_overlaps(resources: &[&Resource], d: &mut Diagnostics) {
    let mut by_vpc: BTreeMap<String, Vec<(&Resource, Ipv4Cidr)>> = BTreeMap::new();
    for r in resources.iter().filter(|r| r.kind == Kind::Subnet) {
        let (Some(vpc), Some(cidr)) = (
            r.attrs.get("vpc_id"),
            str_attr(r, "cidr_block").and_then(|s| Ipv4Cidr::parse(s).ok()),
        ) else {
            continue;
        };
        let key = match vpc {
            Value::Unknown(dv) => match dv.as_ref() {
                Deferred::Ref(rf) => rf.target_key(),
                _ => continue,
            },
            Value::Str(s) => s.clone(),
            _ => continue,
        };
        by_vpc
            .entry(format!("{}|{key}", r.addr.env))
            .or_default()
            .push((r, cidr));
    }
    for subnets in by_vpc.values() {
        for (i, (a, ca)) in subnets.iter().enumerate() {
            for (b, cb) in &subnets[i + 1..] {
                if ca.overlaps(cb) {
                    d.push(Diagnostic::error("rule::subnet-overlap", format!("subnets {} ({ca}) and {} ({cb}) overlap", a.addr.local(), b.addr.local()))
                        .with_label(span_of(b, "cidr_block"), format!("{cb} overlaps {ca}"))
                        .with_label(span_of(a, "cidr_block"), format!("{ca}"))
                        .with_help("give each subnet of a VPC its own block, e.g. cidrsubnet(cidr, 4, each.index) and cidrsubnet(cidr, 4, each.index + 8)"));
                }
            }
        }
    }
}

trait TargetKey {
    fn target_key(&self) -> String;
}

impl TargetKey for crate::spec::value::Reference {
    fn target_key(&self) -> String {
        match &self.target {
            RefTarget::Resolved { addr } => addr.to_string(),
            RefTarget::Unresolved { .. } => self.to_string(),
        }
    }
}

fn node_group(r: &Resource, d: &mut Diagnostics) {
    let (Some(min), Some(desired), Some(max)) = (
        int_at(r, "scaling", "min"),
        int_at(r, "scaling", "desired"),
        int_at(r, "scaling", "max"),
    ) else {
        return;
    };
    if !(min <= desired && desired <= max) {
        d.push(Diagnostic::error("rule::scaling", format!("node group scaling must satisfy min <= desired <= max, but it is min {min}, desired {desired}, max {max}"))
            .with_label(span_of(r, "scaling"), "inconsistent sizes")
            .with_help("EKS rejects a desired size outside [min, max]"));
    }
    if max == 0 {
        d.push(
            Diagnostic::error("rule::scaling", "node group max size must be at least 1")
                .with_label(span_of(r, "scaling"), "max is 0"),
        );
    }
}

fn eks_version(r: &Resource, d: &mut Diagnostics) {
    if let Some(v) = str_attr(r, "version")
        && !aws_facts::eks_version_known(v)
    {
        let mut diag = Diagnostic::error(
            "rule::eks-version",
            format!("EKS does not offer Kubernetes version {v:?}"),
        )
        .with_label(span_of(r, "version"), "unknown version");
        diag = match did_you_mean(v, aws_facts::EKS_VERSIONS.iter().copied()) {
            Some(s) if v.matches('.').count() > 1 => {
                diag.with_help(format!("EKS versions are major.minor, e.g. {s:?}"))
            }
            _ => diag.with_help(format!(
                "known versions: {}",
                aws_facts::EKS_VERSIONS.join(", ")
            )),
        };
        d.push(diag);
    }
}

fn rds(r: &Resource, d: &mut Diagnostics) {
    let replica = r.attrs.contains_key("replicate_from");
    match (str_attr(r, "engine"), replica) {
        (None, false) if !r.attrs.get("engine").is_some_and(Value::has_unknown) => {
            d.push(Diagnostic::error("rule::rds-engine", format!("{} has no `engine`", r.addr.local()))
                .with_label(r.span, "needs an engine")
                .with_help(format!("set `engine:` to one of {} (only a read replica, with `replicate_from`, inherits it)", aws_facts::RDS_ENGINES.join(", "))));
        }
        (Some(engine), _) => {
            if let Some(v) = str_attr(r, "engine_version")
                && !aws_facts::rds_engine_version_known(engine, v)
            {
                let majors = aws_facts::RDS_MAJOR_VERSIONS
                    .iter()
                    .find(|(e, _)| *e == engine)
                    .map(|(_, m)| m.join(", "))
                    .unwrap_or_default();
                d.push(
                    Diagnostic::error(
                        "rule::rds-version",
                        format!("RDS {engine} has no version {v:?}"),
                    )
                    .with_label(span_of(r, "engine_version"), "unknown version")
                    .with_help(format!("{engine} major versions: {majors}")),
                );
            }
        }
        _ => {}
    }
    if !replica {
        let managed = r
            .attrs
            .get("manage_master_user_password")
            .and_then(Value::as_bool)
            == Some(true);
        let from_env = r.attrs.contains_key("master_password_env");
        if managed && from_env {
            d.push(
                Diagnostic::error(
                    "rule::rds-password",
                    "set either `manage_master_user_password` or `master_password_env`, not both",
                )
                .with_label(
                    span_of(r, "master_password_env"),
                    "conflicts with manage_master_user_password",
                ),
            );
        } else if !managed && !from_env {
            d.push(Diagnostic::error("rule::rds-password", format!("{} has no way to set its master password", r.addr.local()))
                .with_label(r.span, "no password source")
                .with_help("add `manage_master_user_password: true` (kept in Secrets Manager) or `master_password_env: <ENV VAR NAME>`; passwords never go in the spec"));
        }
        if !r.attrs.contains_key("master_username") {
            d.push(
                Diagnostic::error(
                    "rule::rds-username",
                    format!("{} has no `master_username`", r.addr.local()),
                )
                .with_label(r.span, "needs master_username")
                .with_help("only a read replica inherits it from its source"),
            );
        }
    } else {
        for attr in [
            "master_username",
            "manage_master_user_password",
            "master_password_env",
            "db_name",
        ] {
            if r.attrs.contains_key(attr) {
                d.push(
                    Diagnostic::error(
                        "rule::rds-replica",
                        format!(
                            "a read replica cannot set `{attr}`; it comes from the source instance"
                        ),
                    )
                    .with_label(span_of(r, attr), "not allowed with replicate_from"),
                );
            }
        }
    }
}

fn cache(r: &Resource, d: &mut Diagnostics) {
    let failover = r.attrs.get("automatic_failover").and_then(Value::as_bool) == Some(true);
    let multi_az = r.attrs.get("multi_az").and_then(Value::as_bool) == Some(true);
    let clusters = r.attrs.get("num_cache_clusters").and_then(Value::as_i64);
    if failover && clusters.is_some_and(|n| n < 2) {
        d.push(
            Diagnostic::error(
                "rule::cache-failover",
                "automatic failover needs at least 2 cache clusters (a primary and a replica)",
            )
            .with_label(span_of(r, "num_cache_clusters"), "only 1")
            .with_label(span_of(r, "automatic_failover"), "failover enabled here"),
        );
    }
    if multi_az && !failover {
        d.push(
            Diagnostic::error(
                "rule::cache-multi-az",
                "multi_az needs automatic_failover: true",
            )
            .with_label(span_of(r, "multi_az"), "multi-AZ without failover"),
        );
    }
}

fn health_check(r: &Resource, d: &mut Diagnostics) {
    let ty = str_attr(r, "type").unwrap_or("");
    if ty != "TCP" && !r.attrs.contains_key("fqdn") && !r.attrs.contains_key("ip_address") {
        d.push(
            Diagnostic::error(
                "rule::health-check-target",
                format!("a {ty} health check needs `fqdn` or `ip_address`"),
            )
            .with_label(r.span, "nothing to check"),
        );
    }
    if ty.contains("STR_MATCH") && !r.attrs.contains_key("search_string") {
        d.push(
            Diagnostic::error(
                "rule::health-check-target",
                format!("a {ty} health check needs `search_string`"),
            )
            .with_label(r.span, "nothing to match"),
        );
    }
}

fn security_group(r: &Resource, d: &mut Diagnostics) {
    for dir in ["ingress", "egress"] {
        let Some(Value::List(rules)) = r.attrs.get(dir) else {
            continue;
        };
        for rule in rules {
            let Value::Map(m) = rule else { continue };
            // For icmp the two are the ICMP type and code (echo request is 8 and 0), not a range.
            let is_range = matches!(
                m.get("protocol").and_then(Value::as_str),
                Some("tcp" | "udp")
            );
            if let (Some(from), Some(to)) = (
                m.get("from_port").and_then(Value::as_i64),
                m.get("to_port").and_then(Value::as_i64),
            ) && is_range
                && from > to
            {
                d.push(
                    Diagnostic::error(
                        "rule::sg-ports",
                        format!("{dir} rule has from_port {from} above to_port {to}"),
                    )
                    .with_label(span_of(r, dir), "inverted port range"),
                );
            }
            if !m.contains_key("cidr_blocks") && !m.contains_key("source_security_group_id") {
                d.push(Diagnostic::error("rule::sg-source", format!("{dir} rule allows no source: set `cidr_blocks` or `source_security_group_id`"))
                    .with_label(span_of(r, dir), "rule without a peer"));
            }
        }
    }
}

fn routing_policy(r: &Resource) -> Option<(&'static str, &Value)> {
    let Value::Map(m) = r.attrs.get("routing")? else {
        return None;
    };
    ["latency", "failover", "weighted"]
        .into_iter()
        .find_map(|p| m.get(p).map(|v| (p, v)))
}

fn record(r: &Resource, d: &mut Diagnostics) {
    if let Some(Value::Map(m)) = r.attrs.get("routing") {
        if m.len() > 1 {
            d.push(
                Diagnostic::error(
                    "rule::record-routing",
                    format!(
                        "a record has one routing policy, but this one sets {}",
                        m.keys().cloned().collect::<Vec<_>>().join(" and ")
                    ),
                )
                .with_label(span_of(r, "routing"), "choose one"),
            );
        }
        if m.is_empty() {
            d.push(
                Diagnostic::error("rule::record-routing", "`routing` is empty")
                    .with_label(span_of(r, "routing"), "set latency, failover or weighted"),
            );
        }
        if let Some(Value::Map(lat)) = m.get("latency")
            && let Some(region) = lat.get("region").and_then(Value::as_str)
            && !aws_facts::is_known_region(region)
        {
            d.push(
                Diagnostic::error(
                    "rule::record-region",
                    format!("latency routing names unknown region `{region}`"),
                )
                .with_label(span_of(r, "routing"), "not an AWS region"),
            );
        }
    }
    let has_routing = routing_policy(r).is_some();
    let has_set_id = r.attrs.contains_key("set_identifier");
    if has_routing && !has_set_id {
        d.push(Diagnostic::error("rule::record-set-id", "a record with a routing policy needs `set_identifier`")
            .with_label(span_of(r, "routing"), "routing policy set")
            .with_help("each record of a latency/failover/weighted set needs a distinct set_identifier, e.g. its region"));
    } else if has_set_id && !has_routing {
        d.push(Diagnostic::error("rule::record-set-id", "`set_identifier` is only meaningful with a routing policy")
            .with_label(span_of(r, "set_identifier"), "no routing policy")
            .with_help("add `routing: { latency: { region: ... } }` (or failover/weighted), or remove set_identifier"));
    }
    match (
        r.attrs.contains_key("records"),
        r.attrs.contains_key("alias"),
    ) {
        (true, true) => d.push(
            Diagnostic::error(
                "rule::record-target",
                "a record has either `records` or `alias`, not both",
            )
            .with_label(span_of(r, "alias"), "alias with records"),
        ),
        (false, false) => d.push(
            Diagnostic::error(
                "rule::record-target",
                "a record needs `records` (with `ttl`) or `alias`",
            )
            .with_label(r.span, "no value"),
        ),
        (true, false) if !r.attrs.contains_key("ttl") => d.push(
            Diagnostic::error("rule::record-ttl", "a record with `records` needs a `ttl`")
                .with_label(span_of(r, "records"), "no ttl"),
        ),
        _ => {}
    }
}

/// Failover records come in pairs: a PRIMARY and a SECONDARY for the same zone, name and type.
fn failover_pairs(resources: &[&Resource], d: &mut Diagnostics) {
    // Keyed by (zone, record name, record type); values are the records with their role.
    type SetKey = (String, String, String);
    let mut sets: BTreeMap<SetKey, Vec<(&Resource, String)>> = BTreeMap::new();
    for r in resources.iter().filter(|r| r.kind == Kind::Route53Record) {
        let Some(("failover", role)) = routing_policy(r) else {
            continue;
        };
        let Some(role) = role.as_str() else { continue };
        let zone = match r.attrs.get("zone_id") {
            Some(Value::Str(s)) => s.clone(),
            Some(Value::Unknown(dv)) => match dv.as_ref() {
                Deferred::Ref(rf) => rf.target_key(),
                _ => continue,
            },
            _ => continue,
        };
        let (Some(name), Some(ty)) = (str_attr(r, "name"), str_attr(r, "type")) else {
            continue;
        };
        sets.entry((
            zone,
            name.trim_end_matches('.').to_lowercase(),
            ty.to_string(),
        ))
        .or_default()
        .push((r, role.to_string()));
    }
    for ((_, name, ty), members) in sets {
        let count = |role: &str| members.iter().filter(|(_, r)| r == role).count();
        for (role, partner) in [("PRIMARY", "SECONDARY"), ("SECONDARY", "PRIMARY")] {
            if count(role) > 1 {
                let mut diag = Diagnostic::error(
                    "rule::failover-pair",
                    format!("{name} {ty} has {} {role} failover records", count(role)),
                );
                for (r, _) in members.iter().filter(|(_, x)| x == role) {
                    diag = diag.with_label(span_of(r, "routing"), format!("{role} here"));
                }
                d.push(diag.with_help("a failover set has exactly one PRIMARY and one SECONDARY"));
            }
            if count(role) >= 1 && count(partner) == 0 {
                let (r, _) = members.iter().find(|(_, x)| x == role).expect("count >= 1");
                d.push(Diagnostic::error("rule::failover-pair", format!("failover record {name} {ty} is {role} but has no {partner}"))
                    .with_label(span_of(r, "routing"), format!("{role} without a {partner}"))
                    .with_help(format!("add a second record for {name} with the same zone and type, `routing: {{ failover: {partner} }}` and its own set_identifier")));
            }
        }
    }
}

/// What is wrong with an alarm's periods, if anything (PutMetricAlarm's constraints): the period
/// is 10, 20, 30 or a multiple of 60 seconds, the evaluated span is at most one day, and the
/// datapoints to alarm are at most the evaluated periods. The provider asks the same before it
/// calls AWS, for values known only at apply.
pub fn alarm_timing_problem(
    period: i64,
    evaluation_periods: i64,
    datapoints_to_alarm: Option<i64>,
) -> Option<String> {
    if !(matches!(period, 10 | 20 | 30) || (period >= 60 && period % 60 == 0)) {
        return Some(format!(
            "period {period} is not 10, 20, 30 or a multiple of 60 seconds"
        ));
    }
    if period.saturating_mul(evaluation_periods) > 86_400 {
        return Some(format!(
            "period × evaluation_periods = {} seconds; CloudWatch evaluates at most one day (86400)",
            period.saturating_mul(evaluation_periods)
        ));
    }
    match datapoints_to_alarm {
        Some(m) if m > evaluation_periods => Some(format!(
            "datapoints_to_alarm {m} is more than evaluation_periods {evaluation_periods}"
        )),
        _ => None,
    }
}

/// The region in an SNS topic ARN (`arn:aws:sns:<region>:...`).
fn sns_arn_region(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(4, ':');
    let (_partition, service, region) = (parts.next()?, parts.next()?, parts.next()?);
    (service == "sns").then_some(region)
}

fn alarm(spec: &Spec, r: &Resource, d: &mut Diagnostics) {
    let period = r.attrs.get("period").and_then(Value::as_i64);
    let evaluations = r.attrs.get("evaluation_periods").and_then(Value::as_i64);
    if let (Some(period), Some(evaluations)) = (period, evaluations) {
        let datapoints = r.attrs.get("datapoints_to_alarm").and_then(Value::as_i64);
        if let Some(problem) = alarm_timing_problem(period, evaluations, datapoints) {
            d.push(
                Diagnostic::error("rule::alarm-period", problem)
                    .with_label(span_of(r, "period"), "not a period CloudWatch evaluates"),
            );
        }
    }
    let Some(region) = r.region.as_deref() else {
        return;
    };
    // Route 53 publishes health check metrics only in us-east-1, whatever the endpoint's region:
    // an alarm on them anywhere else has no data and never fires.
    if str_attr(r, "namespace") == Some("AWS/Route53") && region != "us-east-1" {
        d.push(
            Diagnostic::error(
                "rule::route53-metrics-region",
                format!(
                    "Route 53 health check metrics ({}) exist only in us-east-1; this alarm is in {region}",
                    str_attr(r, "metric_name").unwrap_or("HealthCheckStatus")
                ),
            )
            .with_label(span_of(r, "namespace"), "no data in this region")
            .with_help(
                "declare the alarm in the us-east-1 environment (its actions then need an SNS topic in us-east-1)",
            ),
        );
    }
    // An alarm notifies only SNS topics of its own region.
    for attr in ["alarm_actions", "ok_actions", "insufficient_data_actions"] {
        let Some(Value::List(items)) = r.attrs.get(attr) else {
            continue;
        };
        for item in items {
            let topic_region = match item {
                Value::Str(arn) => sns_arn_region(arn).map(str::to_owned),
                other => referenced(spec, Some(other), Kind::SnsTopic)
                    .and_then(|topic| topic.region.clone()),
            };
            if let Some(topic_region) = topic_region
                && topic_region != region
            {
                d.push(
                    Diagnostic::error(
                        "rule::alarm-action-region",
                        format!(
                            "`{attr}`: an alarm in {region} cannot notify an SNS topic in {topic_region}"
                        ),
                    )
                    .with_label(span_of(r, attr), "topic in another region")
                    .with_help(format!("use a topic of the {region} environment")),
                );
            }
        }
    }
}

#[cfg(test)]
mod alarm_tests {
    use super::*;
    use crate::source::SourceMap;
    use crate::spec::load;
    use crate::spec::loader::{LoadOptions, MemFs};

    fn codes(files: &[(&str, &str)]) -> Vec<String> {
        let fs = files
            .iter()
            .fold(MemFs::new(), |fs, (path, text)| fs.with(path, text));
        let mut sources = SourceMap::new();
        let (_, d) = load(&fs, &LoadOptions::all("."), &mut sources);
        d.into_sorted()
            .into_iter()
            .filter(|d| d.code.starts_with("rule::"))
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect()
    }

    const ALARM: &str = "    namespace: AWS/Route53\n    metric_name: HealthCheckStatus\n    \
                         statistic: Minimum\n    period: 60\n    evaluation_periods: 2\n    \
                         threshold: 1\n    comparison_operator: LessThanThreshold\n";

    fn env(region: &str, extra: &str) -> String {
        format!(
            "region: {region}\nresources:\n  sns_topic.alerts:\n    name: alerts\n  \
             cloudwatch_metric_alarm.health:\n    name: health\n{ALARM}{extra}"
        )
    }

    #[test]
    fn route53_health_check_alarms_belong_in_us_east_1() {
        let east = env(
            "us-east-1",
            "    alarm_actions: [\"${sns_topic.alerts.arn}\"]\n",
        );
        assert_eq!(
            codes(&[
                ("regionctl.yaml", "project: t\n"),
                ("envs/us-east-1/main.yaml", &east)
            ]),
            Vec::<String>::new()
        );
        let west = env(
            "us-west-2",
            "    alarm_actions: [\"${sns_topic.alerts.arn}\"]\n",
        );
        let found = codes(&[
            ("regionctl.yaml", "project: t\n"),
            ("envs/us-west-2/main.yaml", &west),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("rule::route53-metrics-region"),
            "{found:?}"
        );
        assert!(found[0].contains("us-east-1"), "{found:?}");
    }

    #[test]
    fn alarms_notify_topics_of_their_own_region_only() {
        let east = env(
            "us-east-1",
            "    alarm_actions:\n      - \"${env.us-west-2.sns_topic.alerts.arn}\"\n      - arn:aws:sns:eu-west-1:123456789012:x\n",
        );
        let west = "region: us-west-2\nresources:\n  sns_topic.alerts:\n    name: alerts\n";
        let found = codes(&[
            ("regionctl.yaml", "project: t\n"),
            ("envs/us-east-1/main.yaml", &east),
            ("envs/us-west-2/main.yaml", west),
        ]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found
                .iter()
                .all(|f| f.starts_with("rule::alarm-action-region"))
        );
    }

    #[test]
    fn periods_follow_put_metric_alarm() {
        assert_eq!(alarm_timing_problem(60, 5, Some(3)), None);
        assert_eq!(alarm_timing_problem(10, 1, None), None);
        assert_eq!(
            alarm_timing_problem(300, 288, None),
            None,
            "exactly one day"
        );
        assert!(alarm_timing_problem(45, 1, None).is_some());
        assert!(alarm_timing_problem(90, 1, None).is_some());
        assert!(alarm_timing_problem(300, 289, None).is_some());
        assert!(alarm_timing_problem(60, 2, Some(3)).is_some());
    }
}

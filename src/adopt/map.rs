//! The mapping table: which Terraform resource type becomes which regionctl kind, and which ones
//! fold into another resource's fields (a route table association into the table's
//! `subnet_ids`, a security group rule into the group's `ingress`).
//!
//! Adding a kind is one entry in [`MAPPINGS`] with a function from the Terraform attributes to
//! the kind's attributes in the spec's shape (literal ids; references are found afterwards, from
//! the kind's declaration). A function answers `Err(reason)` for an instance regionctl cannot
//! express faithfully: managing it anyway would change or delete what it does not know about, so
//! it is listed as unmapped instead.

use serde_json::{Map, Value as J, json};

use super::tfstate::TfInstance;
use crate::kind::Kind;

/// A regionctl resource instance made from one Terraform instance, before it has an address.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Index of the Terraform instance it was made from.
    pub inst: usize,
    pub kind: Kind,
    /// Configurable attributes in the spec's shape, with literal values.
    pub attrs: Map<String, J>,
    /// The id regionctl reads it by.
    pub id: String,
    /// Computed attributes (`id`, `arn`, `endpoint` ...) for references and the state.
    pub computed: Map<String, J>,
    /// The region the resource names itself (ARN, availability zone), if any.
    pub region: Option<String>,
    /// Remarks for the comment above the resource.
    pub notes: Vec<String>,
    /// Terraform addresses folded into this resource.
    pub folded: Vec<String>,
    /// An environment variable the user must set (a database password that stayed in Terraform).
    pub secret_env: Option<String>,
}

/// What a Terraform type becomes.
pub enum Role {
    /// A resource of its own.
    Resource {
        kind: Kind,
        map: fn(&TfInstance) -> Result<Draft, String>,
    },
    /// Fields of resources made by other entries; runs after every `Resource`.
    Fold(fn(&TfInstance, &mut [Draft]) -> Result<(), String>),
}

pub struct Mapping {
    pub tf_type: &'static str,
    pub role: Role,
}

/// Every Terraform type adopted; anything else is listed as unmapped.
pub const MAPPINGS: &[Mapping] = &[
    res("aws_vpc", Kind::Vpc, vpc),
    res("aws_subnet", Kind::Subnet, subnet),
    res(
        "aws_internet_gateway",
        Kind::InternetGateway,
        internet_gateway,
    ),
    res("aws_nat_gateway", Kind::NatGateway, nat_gateway),
    fold("aws_eip", eip),
    res("aws_route_table", Kind::RouteTable, route_table),
    fold("aws_route_table_association", route_table_association),
    fold("aws_route", route),
    res("aws_security_group", Kind::SecurityGroup, security_group),
    fold("aws_security_group_rule", security_group_rule),
    fold("aws_vpc_security_group_ingress_rule", vpc_sg_rule),
    fold("aws_vpc_security_group_egress_rule", vpc_sg_rule),
    res("aws_iam_role", Kind::IamRole, iam_role),
    fold("aws_iam_role_policy_attachment", iam_role_policy_attachment),
    fold("aws_iam_role_policy", iam_role_policy),
    res("aws_eks_cluster", Kind::EksCluster, eks_cluster),
    res("aws_eks_node_group", Kind::EksNodeGroup, eks_node_group),
    res("aws_db_subnet_group", Kind::DbSubnetGroup, db_subnet_group),
    res("aws_db_instance", Kind::RdsInstance, db_instance),
    res(
        "aws_elasticache_subnet_group",
        Kind::CacheSubnetGroup,
        elasticache_subnet_group,
    ),
    res(
        "aws_elasticache_replication_group",
        Kind::ElasticacheReplicationGroup,
        elasticache_replication_group,
    ),
    res("aws_route53_zone", Kind::Route53Zone, route53_zone),
    res(
        "aws_route53_health_check",
        Kind::Route53HealthCheck,
        route53_health_check,
    ),
    res("aws_route53_record", Kind::Route53Record, route53_record),
    res(
        "aws_cloudwatch_log_group",
        Kind::CloudwatchLogGroup,
        cloudwatch_log_group,
    ),
    res("aws_kms_key", Kind::KmsKey, kms_key),
    res("aws_kms_alias", Kind::KmsAlias, kms_alias),
    res("aws_sns_topic", Kind::SnsTopic, sns_topic),
    res(
        "aws_sns_topic_subscription",
        Kind::SnsSubscription,
        sns_topic_subscription,
    ),
    res(
        "aws_cloudwatch_metric_alarm",
        Kind::CloudwatchMetricAlarm,
        cloudwatch_metric_alarm,
    ),
    res("aws_ecr_repository", Kind::EcrRepository, ecr_repository),
    fold("aws_ecr_lifecycle_policy", ecr_lifecycle_policy),
    res(
        "aws_ecr_replication_configuration",
        Kind::EcrReplicationConfiguration,
        ecr_replication_configuration,
    ),
    res("aws_launch_template", Kind::LaunchTemplate, launch_template),
    res(
        "aws_iam_openid_connect_provider",
        Kind::IamOidcProvider,
        iam_openid_connect_provider,
    ),
    res("aws_iam_policy", Kind::IamPolicy, iam_policy),
    res("aws_eks_addon", Kind::EksAddon, eks_addon),
    res(
        "aws_eks_access_entry",
        Kind::EksAccessEntry,
        eks_access_entry,
    ),
    fold(
        "aws_eks_access_policy_association",
        eks_access_policy_association,
    ),
];

const fn res(
    tf_type: &'static str,
    kind: Kind,
    map: fn(&TfInstance) -> Result<Draft, String>,
) -> Mapping {
    Mapping {
        tf_type,
        role: Role::Resource { kind, map },
    }
}

const fn fold(
    tf_type: &'static str,
    f: fn(&TfInstance, &mut [Draft]) -> Result<(), String>,
) -> Mapping {
    Mapping {
        tf_type,
        role: Role::Fold(f),
    }
}

pub fn mapping(tf_type: &str) -> Option<&'static Mapping> {
    MAPPINGS.iter().find(|m| m.tf_type == tf_type)
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// Whether a value says nothing: Terraform writes absent optional attributes as null, "" or [].
fn empty(v: &J) -> bool {
    match v {
        J::Null => true,
        J::String(s) => s.is_empty(),
        J::Array(a) => a.is_empty(),
        J::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// The region of an ARN (`arn:aws:ec2:eu-west-1:...`); none for global services.
pub fn arn_region(arn: &str) -> Option<String> {
    let region = arn.split(':').nth(3)?;
    (arn.starts_with("arn:") && !region.is_empty()).then(|| region.to_owned())
}

/// The region of an availability zone name (`eu-west-1a` → `eu-west-1`).
pub fn az_region(az: &str) -> Option<String> {
    let region = az.trim_end_matches(|c: char| c.is_ascii_lowercase());
    (region.len() < az.len() && region.ends_with(|c: char| c.is_ascii_digit()))
        .then(|| region.to_owned())
}

struct B<'a> {
    inst: &'a TfInstance,
    attrs: Map<String, J>,
}

impl<'a> B<'a> {
    fn new(inst: &'a TfInstance) -> Self {
        B {
            inst,
            attrs: Map::new(),
        }
    }
    /// Copies Terraform attribute `from` as `to`, when it says something.
    fn copy(&mut self, from: &str, to: &str) -> &mut Self {
        if let Some(v) = self.inst.attrs.get(from).filter(|v| !empty(v)) {
            self.attrs.insert(to.to_owned(), v.clone());
        }
        self
    }
    fn same(&mut self, names: &[&str]) -> &mut Self {
        for n in names {
            self.copy(n, n);
        }
        self
    }
    /// Copies a number unless it is 0, which Terraform writes for "not set".
    fn positive(&mut self, from: &str, to: &str) -> &mut Self {
        if let Some(v) = self
            .inst
            .attrs
            .get(from)
            .filter(|v| v.as_f64().unwrap_or(0.0) > 0.0)
        {
            self.attrs.insert(to.to_owned(), v.clone());
        }
        self
    }
    fn set(&mut self, to: &str, v: Option<J>) -> &mut Self {
        if let Some(v) = v.filter(|v| !empty(v)) {
            self.attrs.insert(to.to_owned(), v);
        }
        self
    }
    /// `tags_all` (what AWS has, provider default tags included), else `tags`, without AWS's
    /// own `aws:*` keys.
    fn tags(&mut self) -> &mut Self {
        let tags = ["tags_all", "tags"]
            .iter()
            .find_map(|k| self.inst.attrs.get(*k).and_then(J::as_object))
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| !k.starts_with("aws:"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<Map<String, J>>()
            });
        self.set("tags", tags.map(J::Object))
    }
    fn draft(&self, kind: Kind, id: Option<&str>) -> Result<Draft, String> {
        let id = id
            .filter(|s| !s.is_empty())
            .ok_or_else(|| "the state records no id for it".to_owned())?;
        let mut computed = Map::new();
        computed.insert("id".into(), J::String(id.to_owned()));
        if let Some(arn) = self.inst.str("arn") {
            computed.insert("arn".into(), J::String(arn.to_owned()));
        }
        let region = self
            .inst
            .str("arn")
            .and_then(arn_region)
            .or_else(|| self.inst.str("availability_zone").and_then(az_region));
        Ok(Draft {
            inst: 0,
            kind,
            attrs: self.attrs.clone(),
            id: id.to_owned(),
            computed,
            region,
            notes: Vec::new(),
            folded: Vec::new(),
            secret_env: None,
        })
    }
}

/// Terraform's nested blocks are lists of (at most) one object.
fn block<'a>(inst: &'a TfInstance, name: &str) -> Option<&'a Map<String, J>> {
    inst.attrs.get(name)?.as_array()?.first()?.as_object()
}

fn get<'a>(m: &'a Map<String, J>, k: &str) -> Option<&'a J> {
    m.get(k).filter(|v| !empty(v))
}

fn find_by_id<'d>(drafts: &'d mut [Draft], kind: Kind, id: &str) -> Option<&'d mut Draft> {
    drafts.iter_mut().find(|d| d.kind == kind && d.id == id)
}

// ---------------------------------------------------------------------------------------------
// Network

fn vpc(i: &TfInstance) -> Result<Draft, String> {
    if i.attrs.get("assign_generated_ipv6_cidr_block") == Some(&J::Bool(true)) {
        return Err("it has an IPv6 CIDR block, which the vpc kind does not manage".into());
    }
    let mut b = B::new(i);
    b.same(&[
        "cidr_block",
        "enable_dns_support",
        "enable_dns_hostnames",
        "instance_tenancy",
    ])
    .tags();
    b.draft(Kind::Vpc, i.str("id"))
}

fn subnet(i: &TfInstance) -> Result<Draft, String> {
    if i.str("ipv6_cidr_block").is_some() {
        return Err("it has an IPv6 CIDR block, which the subnet kind does not manage".into());
    }
    let mut b = B::new(i);
    b.same(&[
        "vpc_id",
        "cidr_block",
        "availability_zone",
        "map_public_ip_on_launch",
    ])
    .tags();
    b.draft(Kind::Subnet, i.str("id"))
}

fn internet_gateway(i: &TfInstance) -> Result<Draft, String> {
    let mut b = B::new(i);
    b.same(&["vpc_id"]).tags();
    if !b.attrs.contains_key("vpc_id") {
        return Err(
            "it is not attached to a VPC in the state (aws_internet_gateway_attachment \
                    is not adopted)"
                .into(),
        );
    }
    b.draft(Kind::InternetGateway, i.str("id"))
}

fn nat_gateway(i: &TfInstance) -> Result<Draft, String> {
    let connectivity = i.str("connectivity_type").unwrap_or("public");
    let mut b = B::new(i);
    b.same(&["subnet_id"])
        .set("connectivity_type", Some(json!(connectivity)))
        .tags();
    let mut d = b.draft(Kind::NatGateway, i.str("id"))?;
    for (from, to) in [
        ("allocation_id", "allocation_id"),
        ("public_ip", "public_ip"),
        ("private_ip", "private_ip"),
    ] {
        if let Some(v) = i.str(from) {
            d.computed.insert(to.into(), json!(v));
        }
    }
    Ok(d)
}

/// An Elastic IP is part of the NAT gateway that uses it: regionctl allocates and releases it
/// with the gateway.
fn eip(i: &TfInstance, drafts: &mut [Draft]) -> Result<(), String> {
    let id = i.str("allocation_id").or(i.str("id")).unwrap_or_default();
    let nat = drafts.iter_mut().find(|d| {
        d.kind == Kind::NatGateway
            && d.computed.get("allocation_id").and_then(J::as_str) == Some(id)
    });
    match nat {
        Some(nat) => {
            nat.folded.push(i.address());
            nat.notes.push(format!(
                "its Elastic IP {id} ({}) is released when regionctl deletes the gateway",
                i.address()
            ));
            Ok(())
        }
        None => Err(
            "it is not the Elastic IP of an adopted NAT gateway, and regionctl manages \
                     Elastic IPs only as part of one"
                .into(),
        ),
    }
}

/// A route in regionctl's shape, or why it has none.
fn route_of(r: &Map<String, J>) -> Result<J, String> {
    let text = |k: &str| get(r, k).and_then(J::as_str);
    let Some(dest) = text("cidr_block").or(text("destination_cidr_block")) else {
        return Err("it has a route to an IPv6 range or a prefix list".into());
    };
    let others = [
        "transit_gateway_id",
        "vpc_peering_connection_id",
        "network_interface_id",
        "vpc_endpoint_id",
        "egress_only_gateway_id",
        "carrier_gateway_id",
        "local_gateway_id",
        "core_network_arn",
    ];
    if let Some(other) = others.iter().find(|k| text(k).is_some()) {
        return Err(format!(
            "its route to {dest} goes through a {}, and route_table routes take only internet \
             and NAT gateways",
            other.trim_end_matches("_id").replace('_', " ")
        ));
    }
    match (text("gateway_id"), text("nat_gateway_id")) {
        (Some(g), None) if g.starts_with("igw-") => {
            Ok(json!({"destination_cidr_block": dest, "gateway_id": g}))
        }
        (None, Some(n)) => Ok(json!({"destination_cidr_block": dest, "nat_gateway_id": n})),
        (Some("local"), None) => Ok(J::Null),
        _ => Err(format!(
            "its route to {dest} has a target route_table routes cannot express"
        )),
    }
}

fn route_table(i: &TfInstance) -> Result<Draft, String> {
    let mut routes = Vec::new();
    for r in i
        .attrs
        .get("route")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(r) = r.as_object() {
            let route = route_of(r)?;
            if !route.is_null() {
                routes.push(route);
            }
        }
    }
    let mut b = B::new(i);
    b.same(&["vpc_id"]).tags();
    // Routes and associations are complete sets in regionctl: write them even when empty, so
    // that `aws_route` and association folds have a list to add to.
    b.attrs.insert("routes".into(), J::Array(routes));
    b.attrs.insert("subnet_ids".into(), J::Array(Vec::new()));
    b.draft(Kind::RouteTable, i.str("id"))
}

fn route_table_association(i: &TfInstance, drafts: &mut [Draft]) -> Result<(), String> {
    let Some(subnet) = i.str("subnet_id") else {
        return Err(
            "it associates a gateway (edge association), which route_table does not \
                    manage"
                .into(),
        );
    };
    let table = i.str("route_table_id").unwrap_or_default();
    let Some(t) = find_by_id(drafts, Kind::RouteTable, table) else {
        return Err(format!("its route table {table} is not adopted"));
    };
    if let Some(J::Array(ids)) = t.attrs.get_mut("subnet_ids")
        && !ids.iter().any(|v| v.as_str() == Some(subnet))
    {
        ids.push(json!(subnet));
    }
    t.folded.push(i.address());
    Ok(())
}

fn route(i: &TfInstance, drafts: &mut [Draft]) -> Result<(), String> {
    let table = i.str("route_table_id").unwrap_or_default();
    let route = route_of(&i.attrs)?;
    let Some(t) = find_by_id(drafts, Kind::RouteTable, table) else {
        return Err(format!("its route table {table} is not adopted"));
    };
    if let Some(J::Array(routes)) = t.attrs.get_mut("routes")
        && !routes.contains(&route)
    {
        routes.push(route);
    }
    t.folded.push(i.address());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Security groups

/// Terraform's protocol (`-1`, `tcp`, `6` ...) as regionctl's.
fn protocol(p: &str) -> Result<&'static str, String> {
    match p.to_ascii_lowercase().as_str() {
        "-1" | "all" => Ok("all"),
        "tcp" | "6" => Ok("tcp"),
        "udp" | "17" => Ok("udp"),
        "icmp" | "1" => Ok("icmp"),
        other => Err(format!(
            "it has a rule for protocol {other}, and security_group rules take tcp, udp, icmp \
             or all"
        )),
    }
}

/// One rule: its protocol and ports, then one regionctl rule per peer (regionctl keeps one
/// source group per rule).
fn rules_of(
    proto: &str,
    from: Option<&J>,
    to: Option<&J>,
    cidrs: Vec<J>,
    groups: Vec<String>,
    description: Option<&str>,
) -> Result<Vec<J>, String> {
    let proto = protocol(proto)?;
    let mut base = Map::new();
    base.insert("protocol".into(), json!(proto));
    if proto != "all" {
        for (k, v) in [("from_port", from), ("to_port", to)] {
            if let Some(v) = v.filter(|v| !v.is_null()) {
                base.insert(k.into(), v.clone());
            }
        }
    }
    if let Some(d) = description.filter(|d| !d.is_empty()) {
        base.insert("description".into(), json!(d));
    }
    let mut out = Vec::new();
    if !cidrs.is_empty() {
        let mut r = base.clone();
        r.insert("cidr_blocks".into(), J::Array(cidrs));
        out.push(J::Object(r));
    }
    for g in groups {
        let mut r = base.clone();
        r.insert("source_security_group_id".into(), json!(g));
        out.push(J::Object(r));
    }
    Ok(out)
}

fn strings(v: Option<&J>) -> Vec<J> {
    v.and_then(J::as_array)
        .map(|a| a.iter().filter(|x| x.is_string()).cloned().collect())
        .unwrap_or_default()
}

/// An inline rule (`ingress` / `egress` blocks of aws_security_group, or an
/// aws_security_group_rule) in regionctl's shape.
fn classic_rule(r: &Map<String, J>, own_id: &str) -> Result<Vec<J>, String> {
    for k in ["ipv6_cidr_blocks", "prefix_list_ids"] {
        if get(r, k).is_some() {
            return Err(format!(
                "a rule has {}, which security_group rules do not take",
                k.replace('_', " ")
            ));
        }
    }
    let mut groups: Vec<String> = strings(r.get("security_groups"))
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    if let Some(g) = get(r, "source_security_group_id").and_then(J::as_str) {
        groups.push(g.to_owned());
    }
    if r.get("self") == Some(&J::Bool(true)) || groups.iter().any(|g| g == own_id) {
        return Err(
            "a rule names the group itself as its source, which security_group rules \
                    cannot express (move it to a second group)"
                .into(),
        );
    }
    rules_of(
        get(r, "protocol").and_then(J::as_str).unwrap_or("-1"),
        r.get("from_port"),
        r.get("to_port"),
        strings(r.get("cidr_blocks")),
        groups,
        get(r, "description").and_then(J::as_str),
    )
}

fn security_group(i: &TfInstance) -> Result<Draft, String> {
    let id = i.str("id").unwrap_or_default().to_owned();
    let mut b = B::new(i);
    b.same(&["name", "description", "vpc_id"]).tags();
    for dir in ["ingress", "egress"] {
        let mut rules = Vec::new();
        for r in i.attrs.get(dir).and_then(J::as_array).into_iter().flatten() {
            if let Some(r) = r.as_object() {
                rules.extend(classic_rule(r, &id)?);
            }
        }
        b.attrs.insert(dir.into(), J::Array(rules));
    }
    b.draft(Kind::SecurityGroup, i.str("id"))
}

fn add_rule(
    drafts: &mut [Draft],
    i: &TfInstance,
    group: &str,
    dir: &str,
    rules: Vec<J>,
) -> Result<(), String> {
    let Some(sg) = find_by_id(drafts, Kind::SecurityGroup, group) else {
        return Err(format!("its security group {group} is not adopted"));
    };
    if let Some(J::Array(list)) = sg.attrs.get_mut(dir) {
        for r in rules {
            if !list.contains(&r) {
                list.push(r);
            }
        }
    }
    sg.folded.push(i.address());
    Ok(())
}

fn security_group_rule(i: &TfInstance, drafts: &mut [Draft]) -> Result<(), String> {
    let group = i.str("security_group_id").unwrap_or_default().to_owned();
    let dir = match i.str("type") {
        Some("ingress") => "ingress",
        Some("egress") => "egress",
        other => return Err(format!("its type {other:?} is neither ingress nor egress")),
    };
    let rules = classic_rule(&i.attrs, &group)?;
    add_rule(drafts, i, &group, dir, rules)
}

fn vpc_sg_rule(i: &TfInstance, drafts: &mut [Draft]) -> Result<(), String> {
    let group = i.str("security_group_id").unwrap_or_default().to_owned();
    let dir = if i.tf_type.ends_with("ingress_rule") {
        "ingress"
    } else {
        "egress"
    };
    for k in ["cidr_ipv6", "prefix_list_id"] {
        if i.str(k).is_some() {
            return Err(format!(
                "it has a {}, which security_group rules do not take",
                k.replace('_', " ")
            ));
        }
    }
    let peer = i.str("referenced_security_group_id");
    if peer == Some(group.as_str()) {
        return Err(
            "it names its own group as the source, which security_group rules cannot \
                    express"
                .into(),
        );
    }
    let rules = rules_of(
        i.str("ip_protocol").unwrap_or("-1"),
        i.attrs.get("from_port"),
        i.attrs.get("to_port"),
        i.str("cidr_ipv4")
            .map(|c| vec![json!(c)])
            .unwrap_or_default(),
        peer.map(|p| vec![p.to_owned()]).unwrap_or_default(),
        i.str("description"),
    )?;
    add_rule(drafts, i, &group, dir, rules)
}

// ---------------------------------------------------------------------------------------------
// IAM

/// A policy document: Terraform keeps JSON text; the spec takes it as a map.
fn document(text: &str) -> J {
    serde_json::from_str(text).unwrap_or_else(|_| J::String(text.to_owned()))
}

fn iam_role(i: &TfInstance) -> Result<Draft, String> {
    let mut b = B::new(i);
    b.same(&[
        "name",
        "path",
        "description",
        "max_session_duration",
        "permissions_boundary",
    ])
    .set(
        "assume_role_policy",
        i.str("assume_role_policy").map(document),
    )
    .tags();
    let mut arns: Vec<J> = strings(i.attrs.get("managed_policy_arns"));
    arns.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    // None is left out, as IAM's answer leaves it out (absent detaches every policy, as `[]`
    // would): `[]` made the first plan's JSON show the list as changed.
    b.set("managed_policy_arns", Some(J::Array(arns)));
    let mut inline = Map::new();
    for p in i
        .attrs
        .get("inline_policy")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(n), Some(doc)) = (
            p.get("name").and_then(J::as_str).filter(|s| !s.is_empty()),
            p.get("policy").and_then(J::as_str),
        ) {
            inline.insert(n.to_owned(), document(doc));
        }
    }
    b.set("inline_policies", Some(J::Object(inline)));
    let mut d = b.draft(Kind::IamRole, i.str("name"))?;
    if let Some(u) = i.str("unique_id") {
        d.computed.insert("unique_id".into(), json!(u));
    }
    Ok(d)
}

fn role_named<'d>(drafts: &'d mut [Draft], name: &str) -> Result<&'d mut Draft, String> {
    find_by_id(drafts, Kind::IamRole, name).ok_or_else(|| format!("its role {name} is not adopted"))
}

fn iam_role_policy_attachment(i: &TfInstance, drafts: &mut [Draft]) -> Result<(), String> {
    let role = role_named(drafts, i.str("role").unwrap_or_default())?;
    let arn = i.str("policy_arn").unwrap_or_default();
    if let J::Array(arns) = role
        .attrs
        .entry("managed_policy_arns")
        .or_insert_with(|| J::Array(Vec::new()))
        && !arns.iter().any(|a| a.as_str() == Some(arn))
    {
        arns.push(json!(arn));
        arns.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
    role.folded.push(i.address());
    Ok(())
}

fn iam_role_policy(i: &TfInstance, drafts: &mut [Draft]) -> Result<(), String> {
    let role = role_named(drafts, i.str("role").unwrap_or_default())?;
    let name = i.str("name").unwrap_or_default().to_owned();
    let doc = document(i.str("policy").unwrap_or("{}"));
    let entry = role
        .attrs
        .entry("inline_policies")
        .or_insert_with(|| J::Object(Map::new()));
    if let J::Object(m) = entry {
        m.insert(name, doc);
    }
    role.folded.push(i.address());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// EKS

fn eks_cluster(i: &TfInstance) -> Result<Draft, String> {
    if block(i, "encryption_config").is_some() {
        return Err(
            "it has envelope encryption (encryption_config), which eks_cluster does \
                    not manage"
                .into(),
        );
    }
    let vpc = block(i, "vpc_config").cloned().unwrap_or_default();
    let mut b = B::new(i);
    b.same(&["name", "version", "role_arn"]);
    for (from, to) in [
        ("subnet_ids", "subnet_ids"),
        ("security_group_ids", "security_group_ids"),
        ("endpoint_public_access", "endpoint_public_access"),
        ("endpoint_private_access", "endpoint_private_access"),
        ("public_access_cidrs", "public_access_cidrs"),
    ] {
        b.set(to, get(&vpc, from).cloned());
    }
    b.set("logging", i.attrs.get("enabled_cluster_log_types").cloned());
    b.set(
        "service_ipv4_cidr",
        block(i, "kubernetes_network_config").and_then(|k| get(k, "service_ipv4_cidr").cloned()),
    );
    b.set(
        "authentication_mode",
        block(i, "access_config").and_then(|k| get(k, "authentication_mode").cloned()),
    );
    b.set(
        "support_type",
        block(i, "upgrade_policy").and_then(|k| get(k, "support_type").cloned()),
    );
    b.tags();
    let mut d = b.draft(Kind::EksCluster, i.str("name"))?;
    let mut put = |k: &str, v: Option<&J>| {
        if let Some(v) = v.filter(|v| !empty(v)) {
            d.computed.insert(k.into(), v.clone());
        }
    };
    put("endpoint", i.attrs.get("endpoint"));
    put("platform_version", i.attrs.get("platform_version"));
    put(
        "certificate_authority",
        block(i, "certificate_authority").and_then(|c| c.get("data")),
    );
    put(
        "oidc_issuer",
        block(i, "identity").and_then(|id| id.get("oidc")?.as_array()?.first()?.get("issuer")),
    );
    put(
        "cluster_security_group_id",
        vpc.get("cluster_security_group_id"),
    );
    Ok(d)
}

fn eks_node_group(i: &TfInstance) -> Result<Draft, String> {
    if block(i, "launch_template").is_some() {
        return Err("it uses a launch template, which eks_node_group does not manage".into());
    }
    if block(i, "remote_access").is_some() {
        return Err("it has remote_access (SSH), which eks_node_group does not manage".into());
    }
    let mut b = B::new(i);
    b.same(&[
        "cluster_name",
        "node_role_arn",
        "subnet_ids",
        "instance_types",
        "capacity_type",
        "ami_type",
        "disk_size",
        "version",
        "release_version",
        "labels",
    ])
    .copy("node_group_name", "name");
    if let Some(s) = block(i, "scaling_config") {
        b.set(
            "scaling",
            Some(json!({
                "min": s.get("min_size"), "desired": s.get("desired_size"), "max": s.get("max_size")
            })),
        );
    }
    let taints: Vec<J> = i
        .attrs
        .get("taint")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
        .filter_map(J::as_object)
        .map(|t| {
            let mut o = Map::new();
            for k in ["key", "value", "effect"] {
                if let Some(v) = get(t, k) {
                    o.insert(k.into(), v.clone());
                }
            }
            J::Object(o)
        })
        .collect();
    b.set("taints", Some(J::Array(taints)));
    if let Some(u) = block(i, "update_config") {
        let mut o = Map::new();
        for k in ["max_unavailable", "max_unavailable_percentage"] {
            if let Some(v) = u.get(k).filter(|v| v.as_i64().unwrap_or(0) > 0) {
                o.insert(k.into(), v.clone());
            }
        }
        b.set("update_config", Some(J::Object(o)));
    }
    b.tags();
    let id = match (i.str("cluster_name"), i.str("node_group_name")) {
        (Some(c), Some(n)) => format!("{c}/{n}"),
        _ => String::new(),
    };
    let mut d = b.draft(Kind::EksNodeGroup, Some(&id))?;
    if let Some(s) = i.str("status") {
        d.computed.insert("status".into(), json!(s));
    }
    Ok(d)
}

// ---------------------------------------------------------------------------------------------
// Data stores

fn db_subnet_group(i: &TfInstance) -> Result<Draft, String> {
    let mut b = B::new(i);
    b.same(&["name", "description", "subnet_ids"]).tags();
    b.draft(Kind::DbSubnetGroup, i.str("name"))
}

/// The environment variable a database's master password is read from, e.g.
/// `PROD_EUW1_APP_PASSWORD` for `prod-euw1-app`.
pub(super) fn password_env(identifier: &str) -> String {
    let mut out: String = identifier
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    out.push_str("_PASSWORD");
    out
}

fn db_instance(i: &TfInstance) -> Result<Draft, String> {
    if let Some(engine) = i.str("engine")
        && !["postgres", "mysql"].contains(&engine)
    {
        return Err(format!(
            "its engine is {engine}, and rds_instance takes postgres or mysql"
        ));
    }
    let replica = i.str("replicate_source_db").is_some();
    let mut b = B::new(i);
    b.same(&[
        "identifier",
        "engine_version",
        "allow_major_version_upgrade",
        "auto_minor_version_upgrade",
        "instance_class",
        "storage_type",
        "storage_encrypted",
        "kms_key_id",
        "multi_az",
        "vpc_security_group_ids",
        "parameter_group_name",
        "port",
        "publicly_accessible",
        "backup_retention_period",
        "copy_tags_to_snapshot",
        "performance_insights_enabled",
        "deletion_protection",
        "skip_final_snapshot",
        "final_snapshot_identifier",
        "manage_master_user_password",
    ])
    .copy("db_subnet_group_name", "db_subnet_group")
    .copy("backup_window", "preferred_backup_window")
    .copy("maintenance_window", "preferred_maintenance_window")
    .positive("max_allocated_storage", "max_allocated_storage")
    .positive("iops", "iops")
    .positive("storage_throughput", "storage_throughput")
    .tags();
    if replica {
        b.copy("replicate_source_db", "replicate_from");
    } else {
        b.same(&["engine", "allocated_storage"])
            .copy("username", "master_username")
            .copy("db_name", "db_name")
            .copy("name", "db_name");
    }
    // A single-AZ instance keeps its zone; a Multi-AZ one has none to fix.
    if i.attrs.get("multi_az") != Some(&J::Bool(true)) {
        b.copy("availability_zone", "availability_zone");
    }
    let mut d = b.draft(Kind::RdsInstance, i.str("identifier"))?;
    // The password never leaves Terraform's state: a primary without a managed password reads
    // it from an environment variable when a request needs it.
    if !replica && i.attrs.get("manage_master_user_password") != Some(&J::Bool(true)) {
        let var = password_env(&d.id);
        d.attrs.insert("master_password_env".into(), json!(var));
        d.notes.push(format!(
            "the master password stays out of the spec and state: export {var} before an apply \
             that needs it, or switch to manage_master_user_password: true"
        ));
        d.secret_env = Some(var);
    }
    for (k, v) in [
        ("address", i.attrs.get("address")),
        ("resource_id", i.attrs.get("resource_id")),
        ("endpoint", i.attrs.get("endpoint")),
    ] {
        if let Some(v) = v.filter(|v| !empty(v)) {
            d.computed.insert(k.into(), v.clone());
        }
    }
    Ok(d)
}

fn elasticache_subnet_group(i: &TfInstance) -> Result<Draft, String> {
    let mut b = B::new(i);
    b.same(&["name", "description", "subnet_ids"]).tags();
    b.draft(Kind::CacheSubnetGroup, i.str("name"))
}

fn elasticache_replication_group(i: &TfInstance) -> Result<Draft, String> {
    if i.attrs
        .get("num_node_groups")
        .and_then(J::as_i64)
        .unwrap_or(1)
        > 1
        || i.attrs.get("cluster_mode").and_then(J::as_str) == Some("enabled")
    {
        return Err(
            "it runs in cluster mode, and elasticache_replication_group is cluster mode disabled"
                .into(),
        );
    }
    if i.str("global_replication_group_id").is_some() {
        return Err("it is part of a global datastore, which regionctl does not manage".into());
    }
    let mut b = B::new(i);
    b.same(&[
        "replication_group_id",
        "description",
        "engine",
        "engine_version",
        "node_type",
        "num_cache_clusters",
        "security_group_ids",
        "parameter_group_name",
        "kms_key_id",
        "port",
        "snapshot_retention_limit",
        "snapshot_window",
        "auto_minor_version_upgrade",
    ])
    .copy("replication_group_description", "description")
    .copy("automatic_failover_enabled", "automatic_failover")
    .copy("multi_az_enabled", "multi_az")
    .copy("subnet_group_name", "cache_subnet_group")
    .copy("at_rest_encryption_enabled", "at_rest_encryption")
    .copy("transit_encryption_enabled", "transit_encryption")
    .copy("maintenance_window", "preferred_maintenance_window")
    .tags();
    let mut d = b.draft(Kind::ElasticacheReplicationGroup, i.str("id"))?;
    if i.str("auth_token").is_some() {
        d.notes.push(
            "its AUTH token stays with the group and out of the spec and state (regionctl does \
             not manage it)"
                .into(),
        );
    }
    for (k, from) in [
        ("primary_endpoint", "primary_endpoint_address"),
        ("reader_endpoint", "reader_endpoint_address"),
    ] {
        if let Some(v) = i.str(from) {
            d.computed.insert(k.into(), json!(v));
        }
    }
    Ok(d)
}

// ---------------------------------------------------------------------------------------------
// Route 53 and logs

fn route53_zone(i: &TfInstance) -> Result<Draft, String> {
    if i.attrs.get("vpc").is_some_and(|v| !empty(v)) {
        return Err("it is a private zone, and route53_zone is a public hosted zone".into());
    }
    let mut b = B::new(i);
    b.same(&["name", "comment"]).tags();
    // Terraform writes "Managed by Terraform" when no comment was given; it is AWS's comment now.
    let id = i
        .str("zone_id")
        .or(i.str("id"))
        .map(|z| crate::spec::schema::compare::zone_id(z).to_owned());
    let mut d = b.draft(Kind::Route53Zone, id.as_deref())?;
    d.region = None;
    d.computed.insert("id".into(), json!(d.id));
    if let Some(ns) = i.attrs.get("name_servers").filter(|v| !empty(v)) {
        d.computed.insert("name_servers".into(), ns.clone());
    }
    Ok(d)
}

fn route53_health_check(i: &TfInstance) -> Result<Draft, String> {
    let kind = i.str("type").unwrap_or_default();
    if !["HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP"].contains(&kind) {
        return Err(format!(
            "its type is {kind}, and route53_health_check checks HTTP(S) and TCP endpoints"
        ));
    }
    let mut b = B::new(i);
    b.same(&[
        "type",
        "fqdn",
        "ip_address",
        "port",
        "resource_path",
        "search_string",
        "request_interval",
        "failure_threshold",
        "measure_latency",
        "enable_sni",
        "regions",
        "disabled",
    ])
    .copy("invert_healthcheck", "inverted")
    .tags();
    let mut d = b.draft(Kind::Route53HealthCheck, i.str("id"))?;
    d.region = None;
    Ok(d)
}

fn route53_record(i: &TfInstance) -> Result<Draft, String> {
    let rtype = i.str("type").unwrap_or_default();
    if block(i, "geolocation_routing_policy").is_some()
        || block(i, "cidr_routing_policy").is_some()
        || block(i, "geoproximity_routing_policy").is_some()
        || i.attrs.get("multivalue_answer_routing_policy") == Some(&J::Bool(true))
    {
        return Err("its routing policy is not one of latency, failover and weighted".into());
    }
    let name = i.str("fqdn").or(i.str("name")).unwrap_or_default();
    let name = crate::spec::schema::compare::dns_name(name);
    let zone =
        crate::spec::schema::compare::zone_id(i.str("zone_id").unwrap_or_default()).to_owned();
    let mut b = B::new(i);
    b.set("zone_id", Some(json!(zone)))
        .set("name", Some(json!(name)))
        .same(&["type", "set_identifier", "health_check_id"]);
    if let Some(a) = block(i, "alias") {
        b.set(
            "alias",
            Some(json!({
                "name": crate::spec::schema::compare::dns_name(
                    a.get("name").and_then(J::as_str).unwrap_or_default()),
                "zone_id": a.get("zone_id"),
                "evaluate_target_health": a.get("evaluate_target_health"),
            })),
        );
    } else {
        b.same(&["ttl"]);
        let mut records = strings(i.attrs.get("records"));
        records.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        b.set("records", Some(J::Array(records)));
    }
    let routing = if let Some(l) = block(i, "latency_routing_policy") {
        Some(json!({"latency": {"region": l.get("region")}}))
    } else if let Some(f) = block(i, "failover_routing_policy") {
        Some(json!({"failover": f.get("type")}))
    } else {
        block(i, "weighted_routing_policy")
            .map(|w| json!({"weighted": {"weight": w.get("weight")}}))
    };
    b.set("routing", routing);
    let id = crate::resource::record_id(&zone, &name, rtype, i.str("set_identifier"));
    let mut d = b.draft(Kind::Route53Record, Some(&id))?;
    d.region = None;
    d.computed.insert("fqdn".into(), json!(name));
    Ok(d)
}

fn cloudwatch_log_group(i: &TfInstance) -> Result<Draft, String> {
    let mut b = B::new(i);
    b.same(&["name", "kms_key_id", "log_group_class"])
        .positive("retention_in_days", "retention_in_days")
        .tags();
    let mut d = b.draft(Kind::CloudwatchLogGroup, i.str("name"))?;
    // Terraform's ARN has no trailing `:*` since provider v3; regionctl's never has.
    if let Some(arn) = i.str("arn") {
        d.computed
            .insert("arn".into(), json!(arn.trim_end_matches(":*")));
    }
    Ok(d)
}

// ---------------------------------------------------------------------------------------------
// KMS, SNS, CloudWatch alarms, ECR, launch templates, IAM policies and OIDC providers, EKS add-ons
// (attribute names as terraform-provider-aws writes them in state)

fn kms_key(i: &TfInstance) -> Result<Draft, String> {
    if let Some(usage) = i.str("key_usage").filter(|u| *u != "ENCRYPT_DECRYPT") {
        return Err(format!(
            "its key_usage is {usage}; the kms_key kind manages symmetric encryption keys"
        ));
    }
    if let Some(spec) = i
        .str("customer_master_key_spec")
        .filter(|s| *s != "SYMMETRIC_DEFAULT")
    {
        return Err(format!(
            "its key spec is {spec}; the kms_key kind manages SYMMETRIC_DEFAULT keys"
        ));
    }
    if i.attrs.get("multi_region") == Some(&J::Bool(true)) {
        return Err("it is a multi-Region key, which the kms_key kind does not make".into());
    }
    if i.attrs.get("is_enabled") == Some(&J::Bool(false)) {
        return Err("it is disabled, and the kms_key kind manages enabled keys".into());
    }
    let mut b = B::new(i);
    b.same(&["description", "enable_key_rotation"])
        .positive("rotation_period_in_days", "rotation_period_in_days")
        .positive("deletion_window_in_days", "deletion_window_in_days")
        .set("policy", i.str("policy").map(document))
        .tags();
    // Rotation off: the period Terraform records means nothing.
    if i.attrs.get("enable_key_rotation") != Some(&J::Bool(true)) {
        b.attrs.remove("rotation_period_in_days");
    }
    b.draft(Kind::KmsKey, i.str("key_id").or_else(|| i.str("id")))
}

fn kms_alias(i: &TfInstance) -> Result<Draft, String> {
    let mut b = B::new(i);
    b.same(&["name", "target_key_id"]);
    let mut d = b.draft(Kind::KmsAlias, i.str("name"))?;
    if let Some(arn) = i.str("target_key_arn") {
        d.computed.insert("target_key_arn".into(), json!(arn));
    }
    Ok(d)
}

fn sns_topic(i: &TfInstance) -> Result<Draft, String> {
    let mut b = B::new(i);
    b.same(&["name", "display_name", "kms_master_key_id", "fifo_topic"])
        .tags();
    b.draft(Kind::SnsTopic, i.str("arn"))
}

fn sns_topic_subscription(i: &TfInstance) -> Result<Draft, String> {
    let protocol = i.str("protocol").unwrap_or_default();
    if !["email", "email-json", "http", "https"].contains(&protocol) {
        return Err(format!(
            "its protocol is {protocol:?}; sns_subscription takes email, email-json, http and https"
        ));
    }
    let mut b = B::new(i);
    b.same(&["topic_arn", "protocol", "endpoint"]);
    let mut d = b.draft(Kind::SnsSubscription, i.str("arn").or_else(|| i.str("id")))?;
    if let Some(p) = i.attrs.get("pending_confirmation").and_then(J::as_bool) {
        d.computed.insert("pending_confirmation".into(), json!(p));
    }
    Ok(d)
}

fn cloudwatch_metric_alarm(i: &TfInstance) -> Result<Draft, String> {
    if i.attrs.get("metric_query").is_some_and(|v| !empty(v)) {
        return Err(
            "it is a metric math alarm (metric_query); cloudwatch_metric_alarm watches one metric"
                .into(),
        );
    }
    if let Some(stat) = i.str("extended_statistic") {
        return Err(format!(
            "it uses the percentile statistic {stat}; cloudwatch_metric_alarm takes SampleCount, \
             Average, Sum, Minimum or Maximum"
        ));
    }
    if let Some(op) = i.str("comparison_operator").filter(|op| {
        op.contains("LowerOrGreater")
            || op.contains("UpperThreshold")
            || op.contains("LowerThreshold")
    }) {
        return Err(format!(
            "it is an anomaly detection alarm ({op}), which cloudwatch_metric_alarm does not make"
        ));
    }
    let mut b = B::new(i);
    b.copy("alarm_name", "name")
        .copy("alarm_description", "description")
        .same(&[
            "namespace",
            "metric_name",
            "dimensions",
            "statistic",
            "period",
            "evaluation_periods",
            "threshold",
            "comparison_operator",
            "treat_missing_data",
            "alarm_actions",
            "ok_actions",
            "insufficient_data_actions",
            "actions_enabled",
        ])
        .positive("datapoints_to_alarm", "datapoints_to_alarm")
        .tags();
    b.draft(
        Kind::CloudwatchMetricAlarm,
        i.str("alarm_name").or_else(|| i.str("id")),
    )
}

fn ecr_repository(i: &TfInstance) -> Result<Draft, String> {
    let mut b = B::new(i);
    b.same(&["name", "image_tag_mutability", "force_delete"])
        .set(
            "scan_on_push",
            block(i, "image_scanning_configuration").and_then(|c| get(c, "scan_on_push").cloned()),
        )
        .tags();
    if let Some(enc) = block(i, "encryption_configuration") {
        b.set("encryption_type", get(enc, "encryption_type").cloned())
            .set("kms_key", get(enc, "kms_key").cloned());
    }
    let mut d = b.draft(Kind::EcrRepository, i.str("name"))?;
    for k in ["repository_url", "registry_id"] {
        if let Some(v) = i.str(k) {
            d.computed.insert(k.into(), json!(v));
        }
    }
    Ok(d)
}

/// `aws_ecr_lifecycle_policy` is the repository's `lifecycle_policy`.
fn ecr_lifecycle_policy(i: &TfInstance, drafts: &mut [Draft]) -> Result<(), String> {
    let name = i.str("repository").unwrap_or_default();
    let repo = find_by_id(drafts, Kind::EcrRepository, name)
        .ok_or_else(|| format!("its repository {name} is not adopted"))?;
    repo.attrs.insert(
        "lifecycle_policy".into(),
        document(i.str("policy").unwrap_or("{}")),
    );
    repo.folded.push(i.address());
    Ok(())
}

fn ecr_replication_configuration(i: &TfInstance) -> Result<Draft, String> {
    let rules: Vec<&Map<String, J>> = block(i, "replication_configuration")
        .and_then(|c| c.get("rule"))
        .and_then(J::as_array)
        .into_iter()
        .flatten()
        .filter_map(J::as_object)
        .collect();
    let [rule] = rules.as_slice() else {
        return Err(format!(
            "it has {} replication rules; ecr_replication_configuration holds one",
            rules.len()
        ));
    };
    let destinations: Vec<J> = rule
        .get("destination")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
        .filter_map(J::as_object)
        .map(|d| {
            let mut m = Map::new();
            for k in ["region", "registry_id"] {
                if let Some(v) = get(d, k) {
                    m.insert(k.into(), v.clone());
                }
            }
            J::Object(m)
        })
        .collect();
    let mut filters = Vec::new();
    for f in rule
        .get("repository_filter")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
        .filter_map(J::as_object)
    {
        match f.get("filter_type").and_then(J::as_str) {
            Some("PREFIX_MATCH") | None => {
                filters.extend(get(f, "filter").cloned());
            }
            Some(other) => {
                return Err(format!(
                    "a repository filter is {other}; ecr_replication_configuration takes \
                     PREFIX_MATCH"
                ));
            }
        }
    }
    let mut b = B::new(i);
    b.set("destinations", Some(J::Array(destinations)))
        .set("repository_filters", Some(J::Array(filters)));
    b.draft(
        Kind::EcrReplicationConfiguration,
        i.str("registry_id").or_else(|| i.str("id")),
    )
}

fn launch_template(i: &TfInstance) -> Result<Draft, String> {
    // An update writes a new version from the fields regionctl knows: anything else would be
    // dropped, so a template using it stays with Terraform.
    for field in [
        "user_data",
        "instance_type",
        "key_name",
        "vpc_security_group_ids",
        "security_group_names",
        "iam_instance_profile",
        "network_interfaces",
        "instance_requirements",
        "placement",
        "cpu_options",
    ] {
        if i.attrs.get(field).is_some_and(|v| !empty(v)) {
            return Err(format!(
                "it sets {field}, which the launch_template kind does not manage (an update \
                 would drop it)"
            ));
        }
    }
    let mappings: Vec<&Map<String, J>> = i
        .attrs
        .get("block_device_mappings")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
        .filter_map(J::as_object)
        .collect();
    if mappings.len() > 1 {
        return Err(format!(
            "it has {} block device mappings; launch_template manages the root volume only",
            mappings.len()
        ));
    }
    let mut b = B::new(i);
    b.same(&["name", "image_id"]).tags();
    if let Some(m) = block(i, "metadata_options") {
        b.set("http_tokens", get(m, "http_tokens").cloned())
            .set("http_endpoint", get(m, "http_endpoint").cloned())
            .set(
                "http_put_response_hop_limit",
                get(m, "http_put_response_hop_limit")
                    .filter(|v| v.as_i64().unwrap_or(0) > 0)
                    .cloned(),
            );
    }
    if let Some(m) = mappings.first() {
        b.set("root_device_name", get(m, "device_name").cloned());
        let ebs = get(m, "ebs")
            .and_then(J::as_array)
            .and_then(|a| a.first())
            .and_then(J::as_object);
        if let Some(ebs) = ebs {
            b.set(
                "root_volume_size",
                get(ebs, "volume_size")
                    .filter(|v| v.as_i64().unwrap_or(0) > 0)
                    .cloned(),
            )
            .set("root_volume_type", get(ebs, "volume_type").cloned())
            // Terraform keeps `encrypted` as a string ("true", "false" or "" for unset).
            .set("root_volume_encrypted", get(ebs, "encrypted").cloned())
            .set("root_volume_kms_key_id", get(ebs, "kms_key_id").cloned());
        }
    }
    let instance_tags = i
        .attrs
        .get("tag_specifications")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
        .filter_map(J::as_object)
        .find(|t| t.get("resource_type").and_then(J::as_str) == Some("instance"))
        .and_then(|t| get(t, "tags").cloned());
    b.set("instance_tags", instance_tags);
    let mut d = b.draft(Kind::LaunchTemplate, i.str("id"))?;
    for k in ["latest_version", "default_version"] {
        // Terraform keeps the versions as numbers; the computed attributes are strings.
        if let Some(v) = i.attrs.get(k).and_then(J::as_i64) {
            d.computed.insert(k.into(), json!(v.to_string()));
        }
    }
    Ok(d)
}

fn iam_openid_connect_provider(i: &TfInstance) -> Result<Draft, String> {
    // The provider records the URL as IAM returns it, without its scheme; the spec's has it.
    let issuer = i
        .str("url")
        .map(|u| u.trim_start_matches("https://").to_owned());
    let mut b = B::new(i);
    b.same(&["client_id_list", "thumbprint_list"])
        .set(
            "url",
            issuer.as_ref().map(|u| json!(format!("https://{u}"))),
        )
        .tags();
    let mut d = b.draft(Kind::IamOidcProvider, i.str("arn"))?;
    // IAM is global, but the kind lives next to its cluster: an EKS issuer names the region.
    d.region = issuer.as_deref().and_then(issuer_region);
    if let Some(u) = issuer {
        d.computed.insert("issuer".into(), json!(u));
    }
    Ok(d)
}

/// The region of an EKS OIDC issuer (`oidc.eks.eu-west-1.amazonaws.com/id/...`).
pub(super) fn issuer_region(issuer: &str) -> Option<String> {
    let host = issuer.trim_start_matches("https://").split('/').next()?;
    let region = host.strip_prefix("oidc.eks.")?.split('.').next()?;
    crate::spec::aws_facts::is_known_region(region).then(|| region.to_owned())
}

fn iam_policy(i: &TfInstance) -> Result<Draft, String> {
    let mut b = B::new(i);
    b.same(&["name", "path", "description"])
        .set("policy", i.str("policy").map(document))
        .tags();
    let mut d = b.draft(Kind::IamPolicy, i.str("arn"))?;
    if let Some(id) = i.str("policy_id") {
        d.computed.insert("policy_id".into(), json!(id));
    }
    Ok(d)
}

fn eks_addon(i: &TfInstance) -> Result<Draft, String> {
    let (Some(cluster), Some(addon)) = (i.str("cluster_name"), i.str("addon_name")) else {
        return Err("the state records no cluster_name or addon_name for it".into());
    };
    let mut b = B::new(i);
    b.same(&[
        "cluster_name",
        "addon_name",
        "addon_version",
        "service_account_role_arn",
    ])
    // The provider splits EKS's one setting in two (resolve_conflicts is deprecated); the
    // update setting is the one regionctl applies after the create.
    .copy("resolve_conflicts", "resolve_conflicts")
    .copy("resolve_conflicts_on_update", "resolve_conflicts")
    .tags();
    let mut d = b.draft(Kind::EksAddon, Some(&format!("{cluster}/{addon}")))?;
    if i.str("configuration_values").is_some() {
        d.notes.push(
            "its configuration_values stay as they are: the eks_addon kind does not manage them"
                .into(),
        );
    }
    Ok(d)
}

// ---------------------------------------------------------------------------------------------
// EKS access entries (attribute names as terraform-provider-aws writes them in state)

/// A username EKS made, which a spec cannot set: a node entry's `system:node:{{EC2PrivateDNSName}}`
/// (reserved prefix) or a generated `...:assumed-role/<role>/{{SessionName}}`. Left out, the
/// kind keeps what EKS has.
pub(super) fn eks_made_username(username: &str) -> bool {
    username.contains("{{")
        || ["system:", "eks:", "aws:", "amazon:", "iam:"]
            .iter()
            .any(|p| username.starts_with(p))
}

fn eks_access_entry(i: &TfInstance) -> Result<Draft, String> {
    let (Some(cluster), Some(principal)) = (i.str("cluster_name"), i.str("principal_arn")) else {
        return Err("the state records no cluster_name or principal_arn for it".into());
    };
    let ty = i.str("type").unwrap_or("STANDARD");
    let mut b = B::new(i);
    b.same(&["cluster_name", "principal_arn"])
        .set("type", Some(json!(ty)))
        .tags();
    // A node entry's groups (`system:nodes`) are EKS's, and EKS refuses them in a create.
    if ty == "STANDARD" {
        b.copy("kubernetes_groups", "kubernetes_groups");
    }
    b.set(
        "username",
        i.str("user_name")
            .filter(|u| !eks_made_username(u))
            .map(|u| json!(u)),
    );
    let mut d = b.draft(
        Kind::EksAccessEntry,
        Some(&format!("{cluster}:{principal}")),
    )?;
    if let Some(arn) = i.str("access_entry_arn") {
        d.computed.insert("arn".into(), json!(arn));
        d.region = arn_region(arn);
    }
    Ok(d)
}

/// An `aws_eks_access_policy_association` is one of its entry's `access_policies`.
fn eks_access_policy_association(i: &TfInstance, drafts: &mut [Draft]) -> Result<(), String> {
    let (cluster, principal) = (
        i.str("cluster_name").unwrap_or_default(),
        i.str("principal_arn").unwrap_or_default(),
    );
    let Some(policy) = i.str("policy_arn") else {
        return Err("the state records no policy_arn for it".into());
    };
    let entry = find_by_id(
        drafts,
        Kind::EksAccessEntry,
        &format!("{cluster}:{principal}"),
    )
    .ok_or_else(|| {
        format!(
            "the access entry of {principal} in cluster {cluster} is not adopted, and \
                 regionctl manages access policies as part of their entry"
        )
    })?;
    let scope = block(i, "access_scope");
    let ty = scope
        .and_then(|s| get(s, "type"))
        .and_then(J::as_str)
        .unwrap_or("cluster");
    let mut access_scope = Map::new();
    access_scope.insert("type".into(), json!(ty));
    // A cluster scope has no namespaces, whatever was written (as EKS answers).
    if ty != "cluster" {
        let mut ns = strings(scope.and_then(|s| s.get("namespaces")));
        ns.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        access_scope.insert("namespaces".into(), J::Array(ns));
    }
    let list = entry
        .attrs
        .entry("access_policies")
        .or_insert_with(|| J::Array(Vec::new()));
    if let J::Array(items) = list {
        items.retain(|p| p.get("policy_arn").and_then(J::as_str) != Some(policy));
        items.push(json!({"policy_arn": policy, "access_scope": access_scope}));
        // The order the provider reads them in, so the first plan compares like with like.
        items.sort_by(|a, b| {
            a.get("policy_arn")
                .and_then(J::as_str)
                .cmp(&b.get("policy_arn").and_then(J::as_str))
        });
    }
    entry.folded.push(i.address());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_from_arns_and_zones() {
        assert_eq!(
            arn_region("arn:aws:ec2:eu-west-1:1:vpc/vpc-1").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(arn_region("arn:aws:iam::1:role/x"), None);
        assert_eq!(
            az_region("ap-southeast-1b").as_deref(),
            Some("ap-southeast-1")
        );
        assert_eq!(az_region("eu-west-1"), None);
    }

    #[test]
    fn every_mapped_kind_is_mapped_once() {
        let mut kinds: Vec<Kind> = MAPPINGS
            .iter()
            .filter_map(|m| match m.role {
                Role::Resource { kind, .. } => Some(kind),
                Role::Fold(_) => None,
            })
            .collect();
        let n = kinds.len();
        kinds.sort_by_key(|k| k.name());
        kinds.dedup();
        assert_eq!(
            kinds.len(),
            n,
            "a kind is the target of two Terraform types"
        );
    }

    #[test]
    fn routes_to_other_targets_are_refused_with_the_target() {
        let r = json!({"cidr_block": "10.9.0.0/16", "transit_gateway_id": "tgw-1"});
        let e = route_of(r.as_object().expect("object")).expect_err("refused");
        assert!(e.contains("transit gateway"), "{e}");
    }

    #[test]
    fn password_variables_are_shell_names() {
        assert_eq!(password_env("prod-euw1-app"), "PROD_EUW1_APP_PASSWORD");
    }
}

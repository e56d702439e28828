//! `security_group`: CreateSecurityGroup; the ingress and egress rules are managed as a whole with
//! Authorize/RevokeSecurityGroup{Ingress,Egress}; DeleteSecurityGroup.
//!
//! EC2 stores a rule per peer (one CIDR or one source group); the spec groups them. Both sides are
//! compared as sets of [`Grant`]s, so rules written in any grouping converge, and the observed
//! rules are regrouped in one normal form (see [`observed_rules`]).

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, SecurityGroup,
    UserIdGroupPair,
};

use super::{arn, from_tags, is_set, read_back, sync_tags, tag_spec};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, str_list, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::{
    ADDRESS_TAG, Ctx, Observed, Provider, ProviderError, STACK_TAG, Status, attr_map,
};
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["InvalidGroup.NotFound", "InvalidGroupId.NotFound"];
const DUPLICATE: &[&str] = &["InvalidGroup.Duplicate"];
use crate::spec::schema::types::DEFAULT_DESCRIPTION;

/// One permission as EC2 stores it: a protocol, a port range and a single peer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Grant {
    /// `tcp`, `udp`, `icmp`, `all`, or another protocol number as EC2 reports it.
    protocol: String,
    /// `None` for `all` and for EC2's -1 (any ICMP type or code).
    from_port: Option<i64>,
    to_port: Option<i64>,
    peer: Peer,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Peer {
    Cidr(String),
    Group(String),
    /// Peers the spec cannot express (and `Observed` does not report, so a plan never shows
    /// them): left alone, never revoked, so an apply does only what its plan showed.
    Ipv6(String),
    PrefixList(String),
}

/// Grants with their descriptions: a rule of EC2's is identified by the grant, and a changed
/// description is a different rule for regionctl (revoked, then authorized again).
type Grants = BTreeMap<Grant, Option<String>>;

#[derive(Clone, Copy)]
enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    fn attr(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    _hints: &crate::provider::Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let groups = list(p, region, Kind::SecurityGroup).await?;
    Ok(groups.into_iter().map(|g| observe(region, g)).collect())
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(describe(p, ctx, id).await?.map(|g| observe(ctx.region, g)))
}

ec2_reads!(
    SecurityGroup,
    describe_security_groups,
    group_ids,
    security_groups,
    "DescribeSecurityGroups"
);

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    // Parse the rules before anything is created, so a bad rule creates nothing.
    let wanted = wanted_rules(ctx, &d)?;
    let name = d.req_str("name")?;
    let vpc_id = d.req_str("vpc_id")?;
    let answer = p
        .clients
        .ec2(ctx.region)
        .create_security_group()
        .group_name(name)
        .description(d.str("description")?.unwrap_or(DEFAULT_DESCRIPTION))
        .vpc_id(vpc_id)
        .tag_specifications(tag_spec(p, ctx, desired, ResourceType::SecurityGroup))
        .send()
        .await;
    let id = match answer {
        Ok(out) => out.group_id.ok_or_else(|| {
            ProviderError::invalid(ctx, "CreateSecurityGroup answered without a group id")
        })?,
        // CreateSecurityGroup takes no idempotency token; the name is the group's identity in
        // its VPC, so a group an interrupted create left behind is found by it.
        Err(e) if has_code(&e, DUPLICATE) => match adoptable(p, ctx, name, vpc_id).await? {
            Some(id) => id,
            None => return Err(aws(&ctx.subject(), ctx.region, "CreateSecurityGroup")(e)),
        },
        Err(e) => return Err(aws(&ctx.subject(), ctx.region, "CreateSecurityGroup")(e)),
    };
    converge(p, ctx, &id, &wanted).await?;
    read_back(p, ctx, &id).await
}

/// The id of the group named `name` in the VPC if regionctl created it for this very address.
async fn adoptable(
    p: &Provider,
    ctx: &Ctx<'_>,
    name: &str,
    vpc_id: &str,
) -> Result<Option<String>, ProviderError> {
    let filter = |n: &str, v: &str| Filter::builder().name(n).values(v).build();
    let out = p
        .clients
        .ec2(ctx.region)
        .describe_security_groups()
        .filters(filter("vpc-id", vpc_id))
        .filters(filter("group-name", name))
        .send()
        .await
        .map_err(aws(&ctx.subject(), ctx.region, "DescribeSecurityGroups"))?;
    let address = ctx.addr.to_string();
    Ok(out
        .security_groups()
        .iter()
        .find(|g| {
            let tags = from_tags(g.tags());
            tags.get(STACK_TAG) == Some(&p.stack) && tags.get(ADDRESS_TAG) == Some(&address)
        })
        .and_then(|g| g.group_id.clone()))
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let wanted = wanted_rules(ctx, &d)?;
    converge(p, ctx, &prior.id, &wanted).await?;
    sync_tags(p, ctx, &prior.id, &prior.tags, desired).await?;
    read_back(p, ctx, &prior.id).await
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _config: &crate::provider::Attrs,
) -> Result<(), ProviderError> {
    match p
        .clients
        .ec2(ctx.region)
        .delete_security_group()
        .group_id(&prior.id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => {
            let err = aws(&ctx.subject(), ctx.region, "DeleteSecurityGroup")(e);
            Err(super::blockers::explain(p, ctx, &prior.id, err, None, None, Some(&prior.id)).await)
        }
    }
}

/// The desired grants per direction, for the directions the spec gives. An absent `egress`
/// leaves AWS's default allow-all egress rule alone; a given one replaces it unless it is listed.
fn wanted_rules(ctx: &Ctx<'_>, d: &Desired<'_>) -> Result<Vec<(Direction, Grants)>, ProviderError> {
    let mut out = Vec::new();
    for direction in [Direction::Ingress, Direction::Egress] {
        if is_set(d.attrs(), direction.attr()) {
            out.push((direction, desired_grants(ctx, d, direction.attr())?));
        }
    }
    Ok(out)
}

/// Revokes what is not wanted (first, so that a changed description can be authorized again),
/// then authorizes what is missing, comparing with the rules AWS has now.
async fn converge(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
    wanted: &[(Direction, Grants)],
) -> Result<(), ProviderError> {
    if wanted.is_empty() {
        return Ok(());
    }
    let group = describe(p, ctx, id)
        .await?
        .ok_or_else(|| ProviderError::vanished(ctx, id))?;
    for (direction, want) in wanted {
        let mut have = match direction {
            Direction::Ingress => grants(group.ip_permissions()),
            Direction::Egress => grants(group.ip_permissions_egress()),
        };
        have.retain(|g, _| matches!(g.peer, Peer::Cidr(_) | Peer::Group(_)));
        let differs = |from: &Grants, to: &Grants| -> Vec<IpPermission> {
            from.iter()
                .filter(|(g, desc)| to.get(*g) != Some(*desc))
                .map(|(g, desc)| permission(g, desc.as_deref()))
                .collect()
        };
        let revoke = differs(&have, want);
        let authorize = differs(want, &have);
        change(p, ctx, id, *direction, false, revoke).await?;
        change(p, ctx, id, *direction, true, authorize).await?;
    }
    Ok(())
}

/// One Authorize or Revoke call carrying every permission to change in one direction.
async fn change(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
    direction: Direction,
    authorize: bool,
    permissions: Vec<IpPermission>,
) -> Result<(), ProviderError> {
    if permissions.is_empty() {
        return Ok(());
    }
    let client = p.clients.ec2(ctx.region);
    let subject = ctx.subject();
    let permissions = Some(permissions);
    // Revoking a permission that is already gone answers success (listing it as unknown), which
    // is what regionctl wants.
    match (direction, authorize) {
        (Direction::Ingress, true) => client
            .authorize_security_group_ingress()
            .group_id(id)
            .set_ip_permissions(permissions)
            .send()
            .await
            .map(drop)
            .map_err(aws(&subject, ctx.region, "AuthorizeSecurityGroupIngress")),
        (Direction::Ingress, false) => client
            .revoke_security_group_ingress()
            .group_id(id)
            .set_ip_permissions(permissions)
            .send()
            .await
            .map(drop)
            .map_err(aws(&subject, ctx.region, "RevokeSecurityGroupIngress")),
        (Direction::Egress, true) => client
            .authorize_security_group_egress()
            .group_id(id)
            .set_ip_permissions(permissions)
            .send()
            .await
            .map(drop)
            .map_err(aws(&subject, ctx.region, "AuthorizeSecurityGroupEgress")),
        (Direction::Egress, false) => client
            .revoke_security_group_egress()
            .group_id(id)
            .set_ip_permissions(permissions)
            .send()
            .await
            .map(drop)
            .map_err(aws(&subject, ctx.region, "RevokeSecurityGroupEgress")),
    }
}

/// EC2's protocol spelling in spec terms: `-1` is `all`, and the numbers of the named ones.
fn protocol_name(aws: &str) -> String {
    match aws.to_ascii_lowercase().as_str() {
        "-1" | "all" => "all".to_owned(),
        "6" => "tcp".to_owned(),
        "17" => "udp".to_owned(),
        "1" => "icmp".to_owned(),
        other => other.to_owned(),
    }
}

/// A port as compared: EC2's -1 (any) is the same as an omitted port.
fn port(protocol: &str, value: Option<i64>) -> Option<i64> {
    match protocol {
        "all" => None,
        _ => value.filter(|p| *p >= 0),
    }
}

fn desired_grants(ctx: &Ctx<'_>, d: &Desired<'_>, attr: &str) -> Result<Grants, ProviderError> {
    let mut grants = Grants::new();
    for rule in d.objects(attr)? {
        let protocol = protocol_name(rule.req_str("protocol")?);
        let from_port = port(&protocol, rule.int("from_port")?);
        let to_port = port(&protocol, rule.int("to_port")?);
        let description = rule.str("description")?.filter(|t| !t.is_empty());
        let mut peers: Vec<Peer> = rule
            .strs("cidr_blocks")?
            .into_iter()
            .map(Peer::Cidr)
            .collect();
        peers.extend(
            rule.str("source_security_group_id")?
                .map(|g| Peer::Group(g.to_owned())),
        );
        if peers.is_empty() {
            return Err(ProviderError::invalid(
                ctx,
                format!("every {attr} rule needs cidr_blocks or source_security_group_id"),
            ));
        }
        for peer in peers {
            let grant = Grant {
                protocol: protocol.clone(),
                from_port,
                to_port,
                peer,
            };
            grants.insert(grant, description.map(str::to_owned));
        }
    }
    Ok(grants)
}

/// EC2's permissions split into grants.
fn grants(permissions: &[IpPermission]) -> Grants {
    let mut grants = Grants::new();
    for permission in permissions {
        let protocol = protocol_name(permission.ip_protocol().unwrap_or("-1"));
        let from_port = port(&protocol, permission.from_port.map(i64::from));
        let to_port = port(&protocol, permission.to_port.map(i64::from));
        let peers =
            permission
                .ip_ranges()
                .iter()
                .filter_map(|r| Some((Peer::Cidr(r.cidr_ip.clone()?), r.description.clone())))
                .chain(permission.user_id_group_pairs().iter().filter_map(|g| {
                    Some((Peer::Group(g.group_id.clone()?), g.description.clone()))
                }))
                .chain(permission.ipv6_ranges().iter().filter_map(|r| {
                    Some((Peer::Ipv6(r.cidr_ipv6.clone()?), r.description.clone()))
                }))
                .chain(permission.prefix_list_ids().iter().filter_map(|l| {
                    Some((
                        Peer::PrefixList(l.prefix_list_id.clone()?),
                        l.description.clone(),
                    ))
                }));
        for (peer, description) in peers {
            let grant = Grant {
                protocol: protocol.clone(),
                from_port,
                to_port,
                peer,
            };
            grants.insert(grant, description.filter(|d| !d.is_empty()));
        }
    }
    grants
}

/// The IpPermission that authorizes or revokes one grant.
fn permission(grant: &Grant, description: Option<&str>) -> IpPermission {
    let description = description.map(str::to_owned);
    let (protocol, from_port, to_port) = match grant.protocol.as_str() {
        "all" => ("-1".to_owned(), None, None),
        other => (
            other.to_owned(),
            // Ports come from the schema's 0-65535 range or from EC2, so they fit an i32.
            Some(
                grant
                    .from_port
                    .and_then(|p| i32::try_from(p).ok())
                    .unwrap_or(-1),
            ),
            Some(
                grant
                    .to_port
                    .and_then(|p| i32::try_from(p).ok())
                    .unwrap_or(-1),
            ),
        ),
    };
    let builder = IpPermission::builder()
        .ip_protocol(protocol)
        .set_from_port(from_port)
        .set_to_port(to_port);
    match &grant.peer {
        Peer::Cidr(cidr) => builder.ip_ranges(
            IpRange::builder()
                .cidr_ip(cidr)
                .set_description(description)
                .build(),
        ),
        Peer::Group(group) => builder.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(group)
                .set_description(description)
                .build(),
        ),
        Peer::Ipv6(cidr) => builder.ipv6_ranges(
            Ipv6Range::builder()
                .cidr_ipv6(cidr)
                .set_description(description)
                .build(),
        ),
        Peer::PrefixList(id) => builder.prefix_list_ids(
            PrefixListId::builder()
                .prefix_list_id(id)
                .set_description(description)
                .build(),
        ),
    }
    .build()
}

/// The observed rules in their normal form, the one a spec should be written in to compare equal:
///
/// - `protocol` is `tcp`, `udp`, `icmp` or `all` (EC2's `-1`); `from_port` and `to_port` are
///   omitted for `all` and where EC2 reports -1 (any ICMP type or code); `description` is omitted
///   when empty;
/// - the IPv4 CIDRs sharing (protocol, ports, description) form one rule with `cidr_blocks`
///   sorted; each source group forms a rule of its own (`source_security_group_id`, no
///   `cidr_blocks`), since the spec names one source group per rule;
/// - rules are sorted by (protocol, from_port, to_port, source group, cidr_blocks, description),
///   with omitted values first;
/// - IPv6 ranges and prefix lists, which the spec cannot express, are not reported (and are
///   revoked whenever the rules are managed).
///
/// Absent when there are no rules, as in a spec that lists none.
fn observed_rules(permissions: &[IpPermission]) -> Option<Value> {
    type Key = (
        String,
        Option<i64>,
        Option<i64>,
        Option<String>,
        Option<String>,
    );
    // (protocol, from, to, source group, description) -> CIDRs
    let mut rules: BTreeMap<Key, Vec<String>> = BTreeMap::new();
    for (grant, description) in grants(permissions) {
        let (source, cidr) = match grant.peer {
            Peer::Cidr(cidr) => (None, Some(cidr)),
            Peer::Group(group) => (Some(group), None),
            Peer::Ipv6(_) | Peer::PrefixList(_) => continue,
        };
        let key = (
            grant.protocol,
            grant.from_port,
            grant.to_port,
            source,
            description,
        );
        rules.entry(key).or_default().extend(cidr);
    }
    let mut out: Vec<(Key, Vec<String>)> = rules
        .into_iter()
        .map(|(key, mut cidrs)| {
            cidrs.sort();
            (key, cidrs)
        })
        .collect();
    out.sort_by(|(a, ca), (b, cb)| {
        (&a.0, a.1, a.2, &a.3, ca, &a.4).cmp(&(&b.0, b.1, b.2, &b.3, cb, &b.4))
    });
    let rules: Vec<Value> = out
        .into_iter()
        .map(|((protocol, from, to, source, description), cidrs)| {
            Value::Map(attr_map([
                ("protocol", Some(s(protocol))),
                ("from_port", from.map(Value::Int)),
                ("to_port", to.map(Value::Int)),
                (
                    "cidr_blocks",
                    (!cidrs.is_empty()).then(|| str_list(cidrs, true)),
                ),
                ("source_security_group_id", source.map(s)),
                ("description", description.map(s)),
            ]))
        })
        .collect();
    (!rules.is_empty()).then_some(Value::List(rules))
}

fn observe(region: &str, group: SecurityGroup) -> Observed {
    let id = group.group_id.clone().unwrap_or_default();
    let tags = from_tags(group.tags());
    let arn = group
        .security_group_arn
        .clone()
        .unwrap_or_else(|| arn(region, group.owner_id.as_deref(), "security-group", &id));
    Observed {
        kind: Kind::SecurityGroup,
        region: region.to_owned(),
        attrs: attr_map([
            ("name", opt_s(group.group_name.clone())),
            ("description", opt_s(group.description.clone())),
            ("vpc_id", opt_s(group.vpc_id.clone())),
            ("ingress", observed_rules(group.ip_permissions())),
            ("egress", observed_rules(group.ip_permissions_egress())),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([("id", Some(s(&id))), ("arn", Some(s(arn)))]),
        id,
        tags,
        // Security groups have no lifecycle state: they exist once created.
        status: Status::Ready,
    }
}

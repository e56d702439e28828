//! `route_table`: CreateRouteTable (ClientToken); the routes are managed exactly with CreateRoute,
//! ReplaceRoute and DeleteRoute, the subnet associations with AssociateRouteTable (or
//! ReplaceRouteTableAssociation when the subnet is associated with another table) and
//! DisassociateRouteTable; delete disassociates, then DeleteRouteTable.
//!
//! The VPC's implicit `local` route and routes propagated from a virtual private gateway are not
//! regionctl's: they are neither reported nor touched. Only IPv4 destinations are managed.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{Filter, ResourceType, Route, RouteOrigin, RouteTable};

use super::{from_tags, is_set, read_back, sync_tags, tag_spec};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, str_list, user_tags};
use crate::provider::error::{aws, has_code};
use crate::provider::{Ctx, Observed, Provider, ProviderError, Status, attr_map};
use crate::spec::value::Value;

const NOT_FOUND: &[&str] = &["InvalidRouteTableID.NotFound"];
const ASSOCIATION_NOT_FOUND: &[&str] = &["InvalidAssociationID.NotFound"];
const ALREADY_ASSOCIATED: &[&str] = &["Resource.AlreadyAssociated"];
const ROUTE_NOT_FOUND: &[&str] = &["InvalidRoute.NotFound"];

/// Where a route sends its traffic, as far as the spec can say.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Gateway(String),
    NatGateway(String),
    /// A target the spec cannot express (an instance, a peering connection ...): never wanted.
    Other,
}

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    _hints: &crate::provider::Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let tables = list(p, region, Kind::RouteTable).await?;
    Ok(tables.into_iter().map(|t| observe(region, t)).collect())
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Ok(describe(p, ctx, id).await?.map(|t| observe(ctx.region, t)))
}

ec2_reads!(
    RouteTable,
    describe_route_tables,
    route_table_ids,
    route_tables,
    "DescribeRouteTables"
);

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let out = p
        .clients
        .ec2(ctx.region)
        .create_route_table()
        .vpc_id(d.req_str("vpc_id")?)
        .client_token(ctx.token)
        .tag_specifications(tag_spec(p, ctx, desired, ResourceType::RouteTable))
        .send()
        .await
        .map_err(aws(&ctx.subject(), ctx.region, "CreateRouteTable"))?;
    let table = out.route_table.ok_or_else(|| {
        ProviderError::invalid(ctx, "CreateRouteTable answered without a route table")
    })?;
    let id = table.route_table_id.clone().unwrap_or_default();
    // A retried create answers the table the first attempt made, routes and all: sync from it.
    converge(p, ctx, &table, &d).await?;
    read_back(p, ctx, &id).await
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    // The association ids needed to disassociate are not part of the observed attributes.
    let table = describe(p, ctx, &prior.id)
        .await?
        .ok_or_else(|| ProviderError::vanished(ctx, &prior.id))?;
    converge(p, ctx, &table, &d).await?;
    sync_tags(p, ctx, &prior.id, &prior.tags, desired).await?;
    read_back(p, ctx, &prior.id).await
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _config: &crate::provider::Attrs,
) -> Result<(), ProviderError> {
    let Some(table) = describe(p, ctx, &prior.id).await? else {
        return Ok(());
    };
    for association_id in associations(&table).into_values() {
        disassociate(p, ctx, &association_id).await?;
    }
    match p
        .clients
        .ec2(ctx.region)
        .delete_route_table()
        .route_table_id(&prior.id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "DeleteRouteTable")(e)),
    }
}

/// Makes the table's routes and associations the desired ones, for each attribute given.
async fn converge(
    p: &Provider,
    ctx: &Ctx<'_>,
    table: &RouteTable,
    d: &Desired<'_>,
) -> Result<(), ProviderError> {
    let id = table.route_table_id().unwrap_or_default();
    if is_set(d.attrs(), "routes") {
        let want = desired_routes(ctx, d)?;
        sync_routes(p, ctx, id, &managed_routes(table), &want).await?;
    }
    if is_set(d.attrs(), "subnet_ids") {
        let want: BTreeSet<String> = d.strs("subnet_ids")?.into_iter().collect();
        sync_associations(p, ctx, id, &associations(table), &want).await?;
    }
    Ok(())
}

fn desired_routes(
    ctx: &Ctx<'_>,
    d: &Desired<'_>,
) -> Result<BTreeMap<String, Target>, ProviderError> {
    let mut routes = BTreeMap::new();
    for route in d.objects("routes")? {
        let target = match (route.str("gateway_id")?, route.str("nat_gateway_id")?) {
            (Some(gateway), _) => Target::Gateway(gateway.to_owned()),
            (None, Some(nat)) => Target::NatGateway(nat.to_owned()),
            (None, None) => {
                return Err(ProviderError::invalid(
                    ctx,
                    "every route needs gateway_id or nat_gateway_id",
                ));
            }
        };
        routes.insert(route.req_str("destination_cidr_block")?.to_owned(), target);
    }
    Ok(routes)
}

async fn sync_routes(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
    have: &BTreeMap<String, Target>,
    want: &BTreeMap<String, Target>,
) -> Result<(), ProviderError> {
    let client = p.clients.ec2(ctx.region);
    for destination in have.keys().filter(|d| !want.contains_key(*d)) {
        match client
            .delete_route()
            .route_table_id(id)
            .destination_cidr_block(destination)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if has_code(&e, ROUTE_NOT_FOUND) => {}
            Err(e) => return Err(aws(&ctx.subject(), ctx.region, "DeleteRoute")(e)),
        }
    }
    for (destination, target) in want {
        let (gateway, nat) = match target {
            Target::Gateway(g) => (Some(g.clone()), None),
            Target::NatGateway(n) => (None, Some(n.clone())),
            // Never desired: `desired_routes` refuses routes without a target.
            Target::Other => (None, None),
        };
        match have.get(destination) {
            Some(current) if current == target => {}
            Some(_) => {
                client
                    .replace_route()
                    .route_table_id(id)
                    .destination_cidr_block(destination)
                    .set_gateway_id(gateway)
                    .set_nat_gateway_id(nat)
                    .send()
                    .await
                    .map_err(aws(&ctx.subject(), ctx.region, "ReplaceRoute"))?;
            }
            None => {
                client
                    .create_route()
                    .route_table_id(id)
                    .destination_cidr_block(destination)
                    .set_gateway_id(gateway)
                    .set_nat_gateway_id(nat)
                    .send()
                    .await
                    .map_err(aws(&ctx.subject(), ctx.region, "CreateRoute"))?;
            }
        }
    }
    Ok(())
}

async fn sync_associations(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
    have: &BTreeMap<String, String>,
    want: &BTreeSet<String>,
) -> Result<(), ProviderError> {
    for (subnet_id, association_id) in have {
        if !want.contains(subnet_id) {
            disassociate(p, ctx, association_id).await?;
        }
    }
    for subnet_id in want.iter().filter(|s| !have.contains_key(*s)) {
        associate(p, ctx, id, subnet_id).await?;
    }
    Ok(())
}

/// Associates the subnet, moving it from the table it is associated with now, if any (a subnet
/// has one table; the table losing it may be updated later in the same apply).
async fn associate(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
    subnet_id: &str,
) -> Result<(), ProviderError> {
    let client = p.clients.ec2(ctx.region);
    let answer = client
        .associate_route_table()
        .route_table_id(id)
        .subnet_id(subnet_id)
        .send()
        .await;
    match answer {
        Ok(_) => return Ok(()),
        Err(e) if has_code(&e, ALREADY_ASSOCIATED) => {}
        Err(e) => return Err(aws(&ctx.subject(), ctx.region, "AssociateRouteTable")(e)),
    }
    let holders = client
        .describe_route_tables()
        .filters(
            Filter::builder()
                .name("association.subnet-id")
                .values(subnet_id)
                .build(),
        )
        .send()
        .await
        .map_err(aws(&ctx.subject(), ctx.region, "DescribeRouteTables"))?;
    let current = holders
        .route_tables()
        .iter()
        .flat_map(|t| t.associations())
        .find(|a| a.subnet_id() == Some(subnet_id))
        .and_then(|a| a.route_table_association_id.clone())
        .ok_or_else(|| ProviderError::vanished(ctx, subnet_id))?;
    client
        .replace_route_table_association()
        .association_id(current)
        .route_table_id(id)
        .send()
        .await
        .map_err(aws(
            &ctx.subject(),
            ctx.region,
            "ReplaceRouteTableAssociation",
        ))?;
    Ok(())
}

async fn disassociate(
    p: &Provider,
    ctx: &Ctx<'_>,
    association_id: &str,
) -> Result<(), ProviderError> {
    match p
        .clients
        .ec2(ctx.region)
        .disassociate_route_table()
        .association_id(association_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, ASSOCIATION_NOT_FOUND) => Ok(()),
        Err(e) => Err(aws(&ctx.subject(), ctx.region, "DisassociateRouteTable")(e)),
    }
}

/// Whether regionctl manages the route: one created by CreateRoute to an IPv4 destination.
fn is_managed(route: &Route) -> bool {
    let implicit = matches!(
        route.origin,
        Some(RouteOrigin::CreateRouteTable | RouteOrigin::EnableVgwRoutePropagation)
    ) || route.gateway_id() == Some("local");
    !implicit && route.destination_cidr_block.is_some()
}

fn target(route: &Route) -> Target {
    match (route.gateway_id(), route.nat_gateway_id()) {
        (Some(gateway), _) => Target::Gateway(gateway.to_owned()),
        (None, Some(nat)) => Target::NatGateway(nat.to_owned()),
        (None, None) => Target::Other,
    }
}

/// Managed routes by destination.
fn managed_routes(table: &RouteTable) -> BTreeMap<String, Target> {
    table
        .routes()
        .iter()
        .filter(|r| is_managed(r))
        .filter_map(|r| Some((r.destination_cidr_block.clone()?, target(r))))
        .collect()
}

/// Subnet associations: subnet id → association id (the main association is the VPC's).
fn associations(table: &RouteTable) -> BTreeMap<String, String> {
    table
        .associations()
        .iter()
        .filter(|a| a.main != Some(true))
        .filter_map(|a| Some((a.subnet_id.clone()?, a.route_table_association_id.clone()?)))
        .collect()
}

fn observe(region: &str, table: RouteTable) -> Observed {
    let id = table.route_table_id.clone().unwrap_or_default();
    let tags = from_tags(table.tags());
    // BTreeMap order: the routes come out sorted by destination.
    let routes: Vec<Value> = managed_routes(&table)
        .into_iter()
        .map(|(destination, target)| {
            let (gateway, nat) = match target {
                Target::Gateway(g) => (Some(s(g)), None),
                Target::NatGateway(n) => (None, Some(s(n))),
                Target::Other => (None, None),
            };
            Value::Map(attr_map([
                ("destination_cidr_block", Some(s(destination))),
                ("gateway_id", gateway),
                ("nat_gateway_id", nat),
            ]))
        })
        .collect();
    let subnet_ids = associations(&table).into_keys().collect::<Vec<_>>();
    Observed {
        kind: Kind::RouteTable,
        region: region.to_owned(),
        attrs: attr_map([
            ("vpc_id", opt_s(table.vpc_id.clone())),
            (
                "routes",
                (!routes.is_empty()).then_some(Value::List(routes)),
            ),
            (
                "subnet_ids",
                (!subnet_ids.is_empty()).then(|| str_list(subnet_ids, true)),
            ),
            ("tags", user_tags(&tags)),
        ]),
        computed: attr_map([("id", Some(s(&id)))]),
        id,
        tags,
        // Route tables have no lifecycle state: they exist once created.
        status: Status::Ready,
    }
}

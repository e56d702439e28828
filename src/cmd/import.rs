//! `regionctl import ADDR ID`: adopt a resource that exists in AWS under an address of the spec.
//!
//! The resource is read from AWS and recorded as it is (its attributes become the "last applied"
//! ones), with the spec's dependencies and `protect`; nothing in AWS changes. The next plan shows
//! how it differs from the spec, regionctl's identity tags included.

use std::path::Path;

use crate::cli::ImportArgs;
use crate::exit::ExitStatus;
use crate::provider::{self, ClientOptions, Clients, Ctx, Provider};
use crate::state::StateResource;

use super::Output;
use super::state::{Failure, close_matches, did_you_mean, locked, parse_addr};

pub fn run(
    start: &Path,
    args: &ImportArgs,
    aws: &ClientOptions,
    io: &mut Output,
) -> std::io::Result<ExitStatus> {
    let Some(spec) = super::state::load_project(start, &super::state::all_envs(), true, io) else {
        return Ok(ExitStatus::Failure);
    };
    let runtime = super::runtime()?;
    let result = runtime.block_on(async {
        let addr = parse_addr(&args.addr)?;
        let Some(resource) = spec.resources.get(&addr) else {
            return Err(Failure::msg(format!(
                "{addr} is not an address of the spec, so there is nothing to import it as{}; \
                 `regionctl graph --format json` lists every address",
                did_you_mean(&close_matches(&addr.to_string(), spec.resources.keys()))
            )));
        };
        let clients = Clients::load(aws).await;
        let backend = super::state::backend(&spec, &clients);
        let provider = Provider::new(clients, spec.project.name.clone());
        let kind = resource.kind;
        let region = provider::api_region(kind, resource.region.as_deref()).to_owned();
        let token = provider::idempotency_token(&provider.stack, &addr, "import");
        let location = backend.location(&addr.env);
        let id = args.id.as_str();
        let (record, serial) = locked(&backend, &provider.stack, &addr.env, "import", async |session| {
            if let Some(existing) = session.state.resources.get(&addr) {
                return Err(Failure::msg(format!(
                    "{addr} is already in the state ({location}) as {kind} {}; to import another \
                     resource under it, first `regionctl state rm {addr}`",
                    existing.id
                )));
            }
            if let Some((other, _)) = session
                .state
                .resources
                .iter()
                .find(|(_, r)| r.kind == kind && r.id == id)
            {
                return Err(Failure::msg(format!(
                    "{kind} {id} is already managed as {other}; one AWS resource cannot be two \
                     resources of the spec"
                )));
            }
            let ctx = Ctx {
                addr: &addr,
                kind,
                region: &region,
                token: &token,
            };
            let Some(observed) = provider.read(&ctx, id).await? else {
                return Err(Failure::msg(format!(
                    "there is no {kind} with id {id} in {region}; check the id (for this kind: \
                     {}) and that the credentials reach the right account",
                    id_hint(kind)
                )));
            };
            if let Some(other) = observed.stack_tag().filter(|s| *s != provider.stack) {
                return Err(Failure::msg(format!(
                    "{kind} {id} in {region} is tagged {}={other}: it belongs to another \
                     regionctl project, and two projects must not manage one resource",
                    provider::STACK_TAG
                )));
            }
            let record = StateResource::applied(
                &observed,
                observed.attrs.clone(),
                resource.deps.clone(),
                resource.protect,
            );
            session.state.resources.insert(addr.clone(), record.clone());
            session.save().await?;
            Ok((record, session.state.serial))
        })
        .await?;
        writeln!(
            io.out,
            "imported {kind} {} as {addr} into the state ({location}, serial {serial}).",
            record.id
        )?;
        writeln!(
            io.out,
            "Nothing changed in AWS. Run `regionctl plan {}` to see how it differs from the spec \
             (including the regionctl:* tags it does not carry yet).",
            spec.envs
                .get(&addr.env)
                .map(|_| format!("envs/{}", addr.env))
                .unwrap_or_default()
        )?;
        Ok(ExitStatus::Success)
    });
    super::state::report(result, io)
}

/// What the provider reads a kind by, for the "not found" message.
fn id_hint(kind: crate::kind::Kind) -> &'static str {
    use crate::kind::Kind;
    match kind {
        Kind::Vpc => "vpc-...",
        Kind::Subnet => "subnet-...",
        Kind::InternetGateway => "igw-...",
        Kind::NatGateway => "nat-...",
        Kind::RouteTable => "rtb-...",
        Kind::SecurityGroup => "sg-...",
        Kind::IamRole => "the role name",
        Kind::EksCluster => "the cluster name",
        Kind::EksNodeGroup => "cluster-name/node-group-name",
        Kind::DbSubnetGroup | Kind::CacheSubnetGroup => "the subnet group name",
        Kind::RdsInstance => "the DB instance identifier",
        Kind::ElasticacheReplicationGroup => "the replication group id",
        Kind::Route53Zone => "the hosted zone id, Z...",
        Kind::Route53HealthCheck => "the health check id",
        Kind::Route53Record => "zone-id/name/type[/set-identifier]",
    }
}

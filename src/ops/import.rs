//! Importing: adopting a resource that exists in AWS under an address of the spec.
//!
//! The resource is read from AWS and recorded as it is (its attributes become the "last applied"
//! ones), with the spec's dependencies and `protect`; nothing in AWS changes. The next plan shows
//! how it differs from the spec, regionctl's identity tags included.

use crate::addr::InstanceAddr;
use crate::kind::Kind;
use crate::provider::{self, ClientOptions, Clients, Ctx, Provider};
use crate::spec::Spec;
use crate::state::StateResource;

use super::state::{Failure, backend, close_matches, did_you_mean, locked, parse_addr};

/// What an import recorded.
pub struct Imported {
    pub addr: InstanceAddr,
    pub kind: Kind,
    pub record: StateResource,
    /// The state's serial after the import.
    pub serial: u64,
    /// Where the state lives (a path or an S3 URL).
    pub location: String,
}

/// Imports AWS resource `id` as `addr` (as the user typed it) into its environment's state,
/// under that state's lock.
pub async fn import(
    spec: &Spec,
    aws: &ClientOptions,
    addr: &str,
    id: &str,
) -> Result<Imported, Failure> {
    let addr = parse_addr(addr)?;
    let Some(resource) = spec.resources.get(&addr) else {
        return Err(Failure::msg(format!(
            "{addr} is not an address of the spec, so there is nothing to import it as{}; \
                 `regionctl graph --format json` lists every address",
            did_you_mean(&close_matches(&addr.to_string(), spec.resources.keys()))
        )));
    };
    let clients = Clients::load(aws).await;
    let backend = backend(spec, &clients);
    let provider = Provider::new(clients, spec.project.name.clone());
    let kind = resource.kind;
    let region = provider::api_region(kind, resource.region.as_deref()).to_owned();
    let token = provider::idempotency_token(&provider.stack, &addr, "import");
    let location = backend.location(&addr.env);
    let (record, serial) = locked(
        &backend,
        &provider.stack,
        &addr.env,
        "import",
        async |session| {
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
                    crate::spec::schema::schema(kind).import_id
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
        },
    )
    .await?;
    Ok(Imported {
        addr,
        kind,
        record,
        serial,
        location,
    })
}

//! `route53_record`: ChangeResourceRecordSets with CREATE (so an existing record is an error, never
//! silently taken over), UPSERT to update (DELETE of the current record and CREATE of the new one in
//! one atomic batch when the routing policy or the record's identity changes), and DELETE of the
//! record exactly as Route 53 has it (read first, since a DELETE must repeat the current values).
//!
//! A record is identified as `<zone id>/<name>/<type>[/<set identifier>]`, the name lowercase
//! without the final dot. Values are sent and reported verbatim, sorted: a TXT value carries its
//! quotes as Route 53's API requires (`"\"v=spf1 -all\""`), so what the spec writes is exactly what
//! Route 53 stores and answers.
//!
//! Records cannot be tagged, so refresh lists every record (ListResourceRecordSets, 300 a page) of
//! the zones tagged with the stack, except the zone's own SOA and NS, plus the records whose ids the
//! state holds in other zones. Reads ask GetChange about the last change made here, so a record is
//! Pending until Route 53 reports the change INSYNC.

use aws_sdk_route53::operation::change_resource_record_sets::builders::ChangeResourceRecordSetsFluentBuilder;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet,
    ResourceRecordSetFailover, ResourceRecordSetRegion, RrType,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::zone::{stack_zones, zone_id};
use super::{built, change_status, dns_name, forget_change, remember_change};
use crate::kind::Kind;
use crate::provider::attrs::{Attrs, Desired, opt_s, s, str_list};
use crate::provider::error::{aws, has_code};
use crate::provider::{Ctx, Hints, Observed, Provider, ProviderError, Status, Subject, attr_map};
use crate::spec::value::Value;

const ZONE_NOT_FOUND: &[&str] = &["NoSuchHostedZone"];

/// How regionctl names one record set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RecordId {
    zone: String,
    name: String,
    rtype: String,
    set: Option<String>,
}

impl RecordId {
    fn parse(id: &str) -> Option<RecordId> {
        // The set identifier comes last so it may itself hold a '/'.
        let mut parts = id.splitn(4, '/');
        let zone = parts.next().filter(|z| !z.is_empty())?;
        let name = parts.next().filter(|n| !n.is_empty())?;
        let rtype = parts.next().filter(|t| !t.is_empty())?;
        Some(RecordId {
            zone: zone.to_owned(),
            name: dns_name(name),
            rtype: rtype.to_owned(),
            set: parts.next().map(str::to_owned),
        })
    }

    fn of(zone: &str, rrset: &ResourceRecordSet) -> RecordId {
        RecordId {
            zone: zone_id(zone).to_owned(),
            name: dns_name(&rrset.name),
            rtype: rrset.r#type.as_str().to_owned(),
            set: rrset.set_identifier.clone(),
        }
    }

    fn matches(&self, rrset: &ResourceRecordSet) -> bool {
        dns_name(&rrset.name) == self.name
            && rrset.r#type.as_str() == self.rtype
            && rrset.set_identifier == self.set
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id =
            crate::resource::record_id(&self.zone, &self.name, &self.rtype, self.set.as_deref());
        f.write_str(&id)
    }
}

fn bad_id(ctx: &Ctx<'_>, id: &str) -> ProviderError {
    ProviderError::invalid(
        ctx,
        format!("{id:?} is not a record id (<zone id>/<name>/<type>[/<set identifier>])"),
    )
}

pub(in crate::provider) async fn refresh(
    p: &Provider,
    region: &str,
    hints: &Hints,
) -> Result<Vec<Observed>, ProviderError> {
    let subject = Subject::Kind(Kind::Route53Record);
    let own: BTreeSet<String> = stack_zones(p, &subject, region, &Hints::default())
        .await?
        .into_iter()
        .map(|(zone, _)| zone_id(&zone.id).to_owned())
        .collect();
    // Records of zones regionctl does not manage, known from the state: only those are listed.
    let mut foreign: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for id in hints.ids.iter().filter_map(|id| RecordId::parse(id)) {
        if !own.contains(&id.zone) {
            foreign
                .entry(id.zone.clone())
                .or_default()
                .insert(id.to_string());
        }
    }
    let mut out = Vec::new();
    for zone in &own {
        for rrset in list_zone(p, &subject, region, zone)
            .await?
            .unwrap_or_default()
        {
            out.push(observed(p, &subject, region, zone, rrset).await?);
        }
    }
    for (zone, wanted) in &foreign {
        for rrset in list_zone(p, &subject, region, zone)
            .await?
            .unwrap_or_default()
        {
            if wanted.contains(&RecordId::of(zone, &rrset).to_string()) {
                out.push(observed(p, &subject, region, zone, rrset).await?);
            }
        }
    }
    Ok(out)
}

async fn observed(
    p: &Provider,
    subject: &Subject,
    region: &str,
    zone: &str,
    rrset: ResourceRecordSet,
) -> Result<Observed, ProviderError> {
    let id = RecordId::of(zone, &rrset).to_string();
    let status = change_status(p, subject, region, &id).await?;
    Ok(observe(region, zone, rrset, status))
}

/// Every record of a zone except the zone's own SOA and NS records, or `None` if the zone does
/// not exist. The SOA record is always at the apex, which names the NS records to leave out.
async fn list_zone(
    p: &Provider,
    subject: &Subject,
    region: &str,
    zone: &str,
) -> Result<Option<Vec<ResourceRecordSet>>, ProviderError> {
    let client = p.clients.route53(region);
    let mut all = Vec::new();
    let mut start: Option<(String, RrType, Option<String>)> = None;
    loop {
        let mut call = client.list_resource_record_sets().hosted_zone_id(zone);
        if let Some((name, rtype, set)) = &start {
            call = call
                .start_record_name(name)
                .start_record_type(rtype.clone())
                .set_start_record_identifier(set.clone());
        }
        let out = match call.send().await {
            Ok(out) => out,
            Err(e) if has_code(&e, ZONE_NOT_FOUND) => return Ok(None),
            Err(e) => return Err(aws(subject, region, "ListResourceRecordSets")(e)),
        };
        all.extend(out.resource_record_sets);
        let next = match (out.is_truncated, out.next_record_name, out.next_record_type) {
            (true, Some(name), Some(rtype)) => Some((name, rtype, out.next_record_identifier)),
            _ => None,
        };
        // A page that starts where the last one did would loop forever.
        if next.is_none() || next == start {
            break;
        }
        start = next;
    }
    let apex = all
        .iter()
        .find(|r| r.r#type == RrType::Soa)
        .map(|r| dns_name(&r.name));
    all.retain(|r| {
        let at_apex = apex.as_deref() == Some(dns_name(&r.name).as_str());
        !(r.r#type == RrType::Soa || (r.r#type == RrType::Ns && at_apex))
    });
    Ok(Some(all))
}

/// The records of a zone as a short list for an error message ("api.example.com CNAME
/// (eu-west-1), ...").
pub(super) async fn describe_records(
    p: &Provider,
    subject: &Subject,
    region: &str,
    zone: &str,
) -> Result<String, ProviderError> {
    const SHOWN: usize = 20;
    let records = list_zone(p, subject, region, zone)
        .await?
        .unwrap_or_default();
    let mut names: Vec<String> = records
        .iter()
        .take(SHOWN)
        .map(|r| {
            let mut text = format!("{} {}", dns_name(&r.name), r.r#type.as_str());
            if let Some(set) = &r.set_identifier {
                text.push_str(&format!(" ({set})"));
            }
            text
        })
        .collect();
    if records.len() > SHOWN {
        names.push(format!("and {} more", records.len() - SHOWN));
    }
    Ok(names.join(", "))
}

/// The record named by `id` as Route 53 has it: the listing starts at its name and type.
async fn fetch(
    p: &Provider,
    subject: &Subject,
    region: &str,
    id: &RecordId,
) -> Result<Option<ResourceRecordSet>, ProviderError> {
    let client = p.clients.route53(region);
    let mut set = None;
    loop {
        let answer = client
            .list_resource_record_sets()
            .hosted_zone_id(&id.zone)
            .start_record_name(&id.name)
            .start_record_type(RrType::from(id.rtype.as_str()))
            .set_start_record_identifier(set.clone())
            .send()
            .await;
        let out = match answer {
            Ok(out) => out,
            Err(e) if has_code(&e, ZONE_NOT_FOUND) => return Ok(None),
            Err(e) => return Err(aws(subject, region, "ListResourceRecordSets")(e)),
        };
        let mut past = false;
        for rrset in out.resource_record_sets {
            if id.matches(&rrset) {
                return Ok(Some(rrset));
            }
            past |= dns_name(&rrset.name) != id.name || rrset.r#type.as_str() != id.rtype;
        }
        // Records of one name and type with many set identifiers may span pages.
        let same = out.next_record_name.as_deref().map(dns_name) == Some(id.name.clone())
            && out.next_record_type.as_ref().map(RrType::as_str) == Some(id.rtype.as_str());
        if past || !out.is_truncated || !same || out.next_record_identifier == set {
            return Ok(None);
        }
        set = out.next_record_identifier;
    }
}

pub(in crate::provider) async fn read(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let subject = ctx.subject();
    let rid = RecordId::parse(id).ok_or_else(|| bad_id(ctx, id))?;
    match fetch(p, &subject, ctx.region, &rid).await? {
        Some(rrset) => Ok(Some(
            observed(p, &subject, ctx.region, &rid.zone, rrset).await?,
        )),
        None => {
            forget_change(p, id);
            Ok(None)
        }
    }
}

pub(in crate::provider) async fn create(
    p: &Provider,
    ctx: &Ctx<'_>,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let zone = zone_id(d.req_str("zone_id")?).to_owned();
    let rrset = record_set(ctx, &d)?;
    let id = RecordId::of(&zone, &rrset);
    let create = change(ctx, ChangeAction::Create, rrset)?;
    let answer = submit(p, ctx, &zone, vec![create])?.send().await;
    let out = match answer {
        Ok(out) => out,
        Err(e) => {
            let mut err = aws(&ctx.subject(), ctx.region, "ChangeResourceRecordSets")(e);
            if let ProviderError::Aws { message, .. } = &mut err
                && message.contains("already exists")
            {
                message.push_str(
                    " (regionctl does not take over a record it did not create: delete the \
                     existing record, or give this one another name or set_identifier)",
                );
            }
            return Err(err);
        }
    };
    settled(p, ctx, &id, out.change_info.as_ref()).await
}

pub(in crate::provider) async fn update(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    desired: &Attrs,
) -> Result<Observed, ProviderError> {
    let d = Desired::new(ctx, desired);
    let subject = ctx.subject();
    let old = RecordId::parse(&prior.id).ok_or_else(|| bad_id(ctx, &prior.id))?;
    let zone = zone_id(d.req_str("zone_id")?).to_owned();
    if zone != old.zone {
        return Err(ProviderError::invalid(
            ctx,
            format!(
                "a record cannot move from zone {} to zone {zone}; it must be replaced",
                old.zone
            ),
        ));
    }
    let current =
        fetch(p, &subject, ctx.region, &old)
            .await?
            .ok_or_else(|| ProviderError::Vanished {
                subject: subject.clone(),
                region: ctx.region.to_owned(),
                id: prior.id.clone(),
            })?;
    let rrset = record_set(ctx, &d)?;
    let new = RecordId::of(&zone, &rrset);
    // Route 53 cannot UPSERT a record into another routing policy or identity: the old one goes
    // and the new one comes in the same atomic batch.
    let changes = if new == old && routing_policy(&current) == routing_policy(&rrset) {
        vec![change(ctx, ChangeAction::Upsert, rrset)?]
    } else {
        vec![
            change(ctx, ChangeAction::Delete, current)?,
            change(ctx, ChangeAction::Create, rrset)?,
        ]
    };
    let out = submit(p, ctx, &zone, changes)?.send().await.map_err(aws(
        &subject,
        ctx.region,
        "ChangeResourceRecordSets",
    ))?;
    if new != old {
        forget_change(p, &prior.id);
    }
    settled(p, ctx, &new, out.change_info.as_ref()).await
}

pub(in crate::provider) async fn delete(
    p: &Provider,
    ctx: &Ctx<'_>,
    prior: &Observed,
    _config: &crate::provider::Attrs,
) -> Result<(), ProviderError> {
    let subject = ctx.subject();
    let id = RecordId::parse(&prior.id).ok_or_else(|| bad_id(ctx, &prior.id))?;
    forget_change(p, &prior.id);
    // A DELETE must repeat the record's current values, which may differ from the last applied.
    let Some(current) = fetch(p, &subject, ctx.region, &id).await? else {
        return Ok(());
    };
    let delete = change(ctx, ChangeAction::Delete, current)?;
    match submit(p, ctx, &id.zone, vec![delete])?.send().await {
        Ok(_) => Ok(()),
        Err(e) if has_code(&e, ZONE_NOT_FOUND) => Ok(()),
        // Deleted by someone else between the read and the change.
        Err(e)
            if has_code(&e, &["InvalidChangeBatch"])
                && e.as_service_error()
                    .and_then(ProvideErrorMetadata::message)
                    .is_some_and(|m| m.contains("not found")) =>
        {
            Ok(())
        }
        Err(e) => Err(aws(&subject, ctx.region, "ChangeResourceRecordSets")(e)),
    }
}

/// Remembers the change and reads the record back with the change's status.
async fn settled(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &RecordId,
    change: Option<&aws_sdk_route53::types::ChangeInfo>,
) -> Result<Observed, ProviderError> {
    let key = id.to_string();
    let status = remember_change(p, &key, change);
    let rrset = fetch(p, &ctx.subject(), ctx.region, id)
        .await?
        .ok_or_else(|| ProviderError::Vanished {
            subject: ctx.subject(),
            region: ctx.region.to_owned(),
            id: key,
        })?;
    Ok(observe(ctx.region, &id.zone, rrset, status))
}

fn submit(
    p: &Provider,
    ctx: &Ctx<'_>,
    zone: &str,
    changes: Vec<Change>,
) -> Result<ChangeResourceRecordSetsFluentBuilder, ProviderError> {
    let batch = built(
        ctx,
        "change batch",
        ChangeBatch::builder()
            .comment(format!("regionctl {}", ctx.addr))
            .set_changes(Some(changes))
            .build(),
    )?;
    Ok(p.clients
        .route53(ctx.region)
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(batch))
}

fn change(
    ctx: &Ctx<'_>,
    action: ChangeAction,
    rrset: ResourceRecordSet,
) -> Result<Change, ProviderError> {
    built(
        ctx,
        "change",
        Change::builder()
            .action(action)
            .resource_record_set(rrset)
            .build(),
    )
}

/// Which routing policy a record set uses ("simple" without one).
fn routing_policy(rrset: &ResourceRecordSet) -> &'static str {
    if rrset.region.is_some() {
        "latency"
    } else if rrset.failover.is_some() {
        "failover"
    } else if rrset.weight.is_some() {
        "weighted"
    } else {
        "simple"
    }
}

/// The record set the spec asks for.
fn record_set(ctx: &Ctx<'_>, d: &Desired<'_>) -> Result<ResourceRecordSet, ProviderError> {
    let records = d
        .strs("records")?
        .into_iter()
        .map(|value| {
            built(
                ctx,
                "record value",
                ResourceRecord::builder().value(value).build(),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let alias = match d.object("alias")? {
        Some(a) => Some(built(
            ctx,
            "alias target",
            AliasTarget::builder()
                .dns_name(a.req_str("name")?)
                .hosted_zone_id(a.req_str("zone_id")?)
                .evaluate_target_health(a.bool("evaluate_target_health")?.unwrap_or(false))
                .build(),
        )?),
        None => None,
    };
    let mut builder = ResourceRecordSet::builder()
        .name(d.req_str("name")?)
        .r#type(RrType::from(d.req_str("type")?))
        .set_ttl(d.int("ttl")?)
        .set_resource_records((!records.is_empty()).then_some(records))
        .set_alias_target(alias)
        .set_set_identifier(d.str("set_identifier")?.map(str::to_owned))
        .set_health_check_id(d.str("health_check_id")?.map(str::to_owned));
    if let Some(routing) = d.object("routing")? {
        if let Some(latency) = routing.object("latency")? {
            builder = builder.region(ResourceRecordSetRegion::from(latency.req_str("region")?));
        }
        if let Some(role) = routing.str("failover")? {
            builder = builder.failover(ResourceRecordSetFailover::from(role));
        }
        if let Some(weighted) = routing.object("weighted")? {
            builder = builder.weight(i64::from(weighted.req_i32("weight")?));
        }
    }
    built(ctx, "record set", builder.build())
}

fn observe(region: &str, zone: &str, rrset: ResourceRecordSet, status: Status) -> Observed {
    let id = RecordId::of(zone, &rrset);
    let name = dns_name(&rrset.name);
    let records: Vec<String> = rrset
        .resource_records
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|r| r.value.clone())
        .collect();
    let alias = rrset.alias_target.as_ref().map(|a| {
        Value::Map(attr_map([
            ("name", Some(s(dns_name(&a.dns_name)))),
            ("zone_id", Some(s(zone_id(&a.hosted_zone_id)))),
            (
                "evaluate_target_health",
                Some(Value::Bool(a.evaluate_target_health)),
            ),
        ]))
    });
    let routing = if let Some(region) = &rrset.region {
        Some((
            "latency",
            Value::Map(attr_map([("region", Some(s(region.as_str())))])),
        ))
    } else if let Some(role) = &rrset.failover {
        Some(("failover", s(role.as_str())))
    } else {
        rrset.weight.map(|w| {
            (
                "weighted",
                Value::Map(attr_map([("weight", Some(Value::Int(w)))])),
            )
        })
    };
    Observed {
        kind: Kind::Route53Record,
        region: region.to_owned(),
        id: id.to_string(),
        attrs: attr_map([
            ("zone_id", Some(s(&id.zone))),
            ("name", Some(s(&name))),
            ("type", Some(s(rrset.r#type.as_str()))),
            ("ttl", rrset.ttl.map(Value::Int)),
            (
                "records",
                (!records.is_empty()).then(|| str_list(records, true)),
            ),
            ("alias", alias),
            ("set_identifier", opt_s(rrset.set_identifier.clone())),
            (
                "routing",
                routing.map(|(k, v)| Value::Map(attr_map([(k, Some(v))]))),
            ),
            ("health_check_id", opt_s(rrset.health_check_id.clone())),
        ]),
        computed: attr_map([("fqdn", Some(s(&name))), ("id", Some(s(id.to_string())))]),
        tags: BTreeMap::new(),
        status,
    }
}

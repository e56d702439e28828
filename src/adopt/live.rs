//! `regionctl adopt aws`: from what a region's batched reads returned to the same spec text and
//! state records as `adopt terraform`, through the same emitter.
//!
//! Pure: the resources come in as [`Observed`] (the provider's refresh, listing every resource of
//! each kind), nothing here calls AWS. The steps:
//! 1. **Skips**, each listed with its reason: resources carrying a `regionctl:stack` tag (another
//!    or this regionctl project manages them), what AWS makes and deletes by itself (the default
//!    security group, a VPC's main route table, the default VPC unless `--vpc` names it, a zone's
//!    SOA and apex NS records), and whatever refers to a skipped VPC.
//! 2. **Filters**: `--tag` and `--vpc` (see [`Filters`]); what they leave out is counted, not
//!    listed.
//! 3. **Drafts**: the observed attributes, already in the spec's shape and normalised, become the
//!    literal attributes; the emitter then turns ids into references exactly as for Terraform.
//!    A database's master password never reaches spec or state: a primary without
//!    `manage_master_user_password` reads it from an environment variable.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as J, json};

use super::map::{Draft, password_env};
use super::tfstate::{TfInstance, TfKey};
use super::{Adoption, Origin, Placed, Unmapped};
use crate::kind::Kind;
use crate::resource::{Observed, STACK_TAG};
use crate::spec::schema::{Ty, schema};

/// What `adopt aws` keeps of a region's resources.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// `--tag KEY=VALUE`: a taggable resource must have every one of these tags; a resource of
    /// a kind without tags (Route 53 record, SNS subscription, KMS alias, ECR replication
    /// configuration) must refer to a resource that is kept.
    pub tags: Vec<(String, String)>,
    /// `--vpc ID`: kept are the VPC, every resource referring to it directly or through other
    /// kept resources (subnets, route tables, subnet groups, the databases in those groups ...),
    /// and resources of kinds that never sit in a VPC (KMS keys, log groups, IAM roles, public
    /// zones ...) when a kept resource refers to them. Everything else is left out.
    pub vpc: Option<String>,
}

/// The outcome of an adoption from AWS.
#[derive(Debug, Default)]
pub struct LiveAdoption {
    pub adoption: Adoption,
    /// Resources read but not adopted, with the reason (`address` is `kind id`).
    pub skipped: Vec<Unmapped>,
    /// Resources the filters left out.
    pub left_out: usize,
}

/// The default VPC's block in every region (AWS creates it so).
const DEFAULT_VPC_CIDR: &str = "172.31.0.0/16";

/// Translates what `region`'s reads returned (global kinds read through us-east-1 included, when
/// asked) into spec files and state records.
pub fn translate(region: &str, observed: &[Observed], filters: &Filters) -> LiveAdoption {
    // IAM lists every OIDC provider of the account in every region; the kind lives next to its
    // cluster, so only those whose issuer names this region (or names none) belong here.
    let observed: Vec<Observed> = observed
        .iter()
        .filter(|o| {
            o.kind != Kind::IamOidcProvider
                || o.attrs
                    .get("url")
                    .and_then(|u| u.as_str())
                    .and_then(super::map::issuer_region)
                    .is_none_or(|r| r == region)
        })
        .cloned()
        .collect();
    let observed = observed.as_slice();
    let mut out = LiveAdoption::default();
    let source = format!("AWS {region}");
    let n = observed.len();
    let refs = references(observed);
    let zones: BTreeMap<&str, &str> = observed
        .iter()
        .filter(|o| o.kind == Kind::Route53Zone)
        .filter_map(|o| Some((o.id.as_str(), o.attrs.get("name")?.as_str()?)))
        .collect();
    let mut skip: Vec<Option<String>> = observed
        .iter()
        .map(|o| {
            own_skip(o, filters.vpc.as_deref(), &zones).or_else(|| other_regions_role(o, region))
        })
        .collect();
    // What refers to a skipped VPC is skipped with it (a default VPC's subnets, say): adopting
    // them would leave references to a VPC the spec does not have.
    loop {
        let mut changed = false;
        for i in 0..n {
            if skip[i].is_some() {
                continue;
            }
            if let Some(vpc) = refs[i]
                .iter()
                .find(|j| observed[**j].kind == Kind::Vpc && skip[**j].is_some())
            {
                skip[i] = Some(format!(
                    "it is in VPC {}, which is not adopted",
                    observed[*vpc].id
                ));
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let kept = select(observed, &refs, &skip, filters);
    for (i, o) in observed.iter().enumerate() {
        if let Some(reason) = &skip[i] {
            out.skipped.push(Unmapped {
                address: format!("{} {}", o.kind, o.id),
                source: source.clone(),
                reason: reason.clone(),
            });
        } else if !kept[i] {
            out.left_out += 1;
        }
    }

    // The emitter works on Terraform-shaped instances: each adopted resource gets one, with its
    // spec name, so that names, comments and blocks come out as for Terraform.
    let mut insts = Vec::new();
    let mut placed = Vec::new();
    let mut used: BTreeSet<(Kind, String)> = BTreeSet::new();
    let per_az = per_az(observed, &kept);
    for (i, o) in observed.iter().enumerate() {
        if !kept[i] {
            continue;
        }
        if let Some((stem, az)) = per_az.get(&i) {
            // One name for the group (reserved once), each subnet keyed by its zone.
            used.insert((o.kind, stem.clone()));
            insts.push(TfInstance {
                source: source.clone(),
                module: String::new(),
                tf_type: o.kind.to_string(),
                name: stem.clone(),
                key: Some(TfKey::Str(az.clone())),
                managed: true,
                provider: None,
                attrs: Map::new(),
            });
            let mut draft = draft(o);
            draft.inst = insts.len() - 1;
            placed.push(Placed {
                draft,
                env: region.to_owned(),
            });
            continue;
        }
        // A resource with no name of its own (an internet gateway, a route table) is named
        // after the VPC it belongs to, when that has one: `internet_gateway.main`, not the id.
        let base = related_name(o, observed)
            .or_else(|| spec_name(o))
            .unwrap_or_else(|| {
                refs[i]
                    .iter()
                    .find(|j| observed[**j].kind == Kind::Vpc)
                    .and_then(|j| spec_name(&observed[*j]))
                    .unwrap_or_else(|| super::emit::sanitize(&o.id))
            });
        let mut name = base.clone();
        let mut k = 2;
        while !used.insert((o.kind, name.clone())) {
            name = format!("{base}_{k}");
            k += 1;
        }
        insts.push(TfInstance {
            source: source.clone(),
            module: String::new(),
            tf_type: o.kind.to_string(),
            name,
            key: None,
            managed: true,
            provider: None,
            attrs: Map::new(),
        });
        let mut draft = draft(o);
        draft.inst = insts.len() - 1;
        let env = if o.kind.placement().is_global_api() {
            crate::addr::GLOBAL_ENV.to_owned()
        } else {
            region.to_owned()
        };
        placed.push(Placed { draft, env });
    }
    super::place_iam(&mut placed);
    let origin = Origin::Aws {
        region: region.to_owned(),
        filters: describe(filters),
    };
    super::emit::emit(&insts, placed, &mut out.adoption, &origin);
    out.skipped.sort_by(|a, b| a.address.cmp(&b.address));
    out
}

/// Subnets that repeat per availability zone: kept subnets of one VPC whose names differ only by
/// their zone (`private-a`, `private-b`; `app-us-east-1a` ...), one per zone, at least two. Each
/// gets the shared name and its zone as key, and the emitter writes them as one `for_each`
/// resource where their attributes allow it (else as separate resources, as for Terraform).
fn per_az(observed: &[Observed], kept: &[bool]) -> BTreeMap<usize, (String, String)> {
    let mut groups: BTreeMap<(String, String), Vec<(usize, String)>> = BTreeMap::new();
    for (i, o) in observed.iter().enumerate() {
        if !kept[i] || o.kind != Kind::Subnet {
            continue;
        }
        let attr = |n: &str| o.attrs.get(n).and_then(|v| v.as_str()).map(str::to_owned);
        let (Some(vpc), Some(az), Some(name)) =
            (attr("vpc_id"), attr("availability_zone"), spec_name(o))
        else {
            continue;
        };
        if let Some(stem) = az_stem(&name, &az) {
            groups.entry((vpc, stem)).or_default().push((i, az));
        }
    }
    let mut out = BTreeMap::new();
    for ((_, stem), members) in groups {
        let zones: BTreeSet<&String> = members.iter().map(|(_, az)| az).collect();
        if members.len() < 2 || zones.len() != members.len() {
            continue;
        }
        for (i, az) in members {
            out.insert(i, (stem.clone(), az));
        }
    }
    out
}

/// `name` without the zone it ends with (`private-a` in us-east-1a → `private`).
fn az_stem(name: &str, az: &str) -> Option<String> {
    let short = &az[az.len().saturating_sub(2)..];
    let letter = &az[az.len().saturating_sub(1)..];
    for suffix in [az, short, letter] {
        for sep in ['-', '_'] {
            if let Some(stem) = name.strip_suffix(&format!("{sep}{suffix}"))
                && !stem.is_empty()
            {
                return Some(stem.to_owned());
            }
        }
    }
    None
}

/// The filters as the command line spelled them, for the file header.
fn describe(filters: &Filters) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(vpc) = &filters.vpc {
        parts.push(format!("--vpc {vpc}"));
    }
    for (k, v) in &filters.tags {
        parts.push(format!("--tag {k}={v}"));
    }
    parts.join(" ")
}

/// Why an IAM role is left to another region's adoption: it trusts only that region's OIDC
/// provider, so it is declared there (see [`super::place_iam`]), and adopting it here would
/// declare it twice.
fn other_regions_role(o: &Observed, region: &str) -> Option<String> {
    if o.kind != Kind::IamRole {
        return None;
    }
    // An EKS provider's ARN names its issuer, so the trust policy's text says the region (an
    // issuer that names none cannot be placed from AWS's answers alone).
    match super::trusted_region(&draft(o), &BTreeMap::new()) {
        Ok(Some(r)) if r != region => Some(format!(
            "it trusts the OIDC provider of {r}, so it belongs to that region: adopt it with \
             --region {r} --include-global"
        )),
        _ => None,
    }
}

/// Why a resource is not adopted whatever the filters say, if it is not.
fn own_skip(o: &Observed, vpc: Option<&str>, zones: &BTreeMap<&str, &str>) -> Option<String> {
    if let Some(stack) = o.tags.get(STACK_TAG) {
        return Some(format!(
            "regionctl stack {stack} manages it already (its {STACK_TAG} tag says so)"
        ));
    }
    let attr = |name: &str| o.attrs.get(name).and_then(|v| v.as_str());
    match o.kind {
        Kind::Vpc if attr("cidr_block") == Some(DEFAULT_VPC_CIDR) && vpc != Some(&o.id) => {
            Some(format!(
                "it looks like the region's default VPC ({DEFAULT_VPC_CIDR}); name it with --vpc \
                 to adopt it"
            ))
        }
        Kind::SecurityGroup if attr("name") == Some("default") => Some(
            "it is its VPC's default security group, which AWS makes and deletes with the VPC"
                .to_owned(),
        ),
        // The main route table has no subnet association (the VPC's is implicit) and, when
        // untouched, no route but the local one, which regionctl leaves out.
        Kind::RouteTable
            if !o.attrs.contains_key("subnet_ids") && !o.attrs.contains_key("routes") =>
        {
            Some(
                "it has no routes and no subnets (as a VPC's main route table, which AWS makes \
                 with the VPC); nothing to manage"
                    .to_owned(),
            )
        }
        Kind::Route53Record if is_zone_own_record(o, zones) => Some(
            "AWS made it with its hosted zone (SOA and apex NS records go with the zone)"
                .to_owned(),
        ),
        _ => None,
    }
}

/// A zone's SOA record, or its NS record at the apex (named like its zone).
fn is_zone_own_record(o: &Observed, zones: &BTreeMap<&str, &str>) -> bool {
    let attr = |name: &str| o.attrs.get(name).and_then(|v| v.as_str());
    match attr("type") {
        Some("SOA") => true,
        Some("NS") => attr("zone_id")
            .and_then(|z| zones.get(z))
            .is_some_and(|zone| attr("name") == Some(*zone)),
        _ => false,
    }
}

/// For each resource, the adopted-or-not resources it refers to (by the kind's declaration:
/// every field typed as a reference, nested ones included).
fn references(observed: &[Observed]) -> Vec<BTreeSet<usize>> {
    let mut index: BTreeMap<(Kind, String, String), usize> = BTreeMap::new();
    for (i, o) in observed.iter().enumerate() {
        index
            .entry((o.kind, "id".into(), o.id.clone()))
            .or_insert(i);
        for (name, v) in o.computed.iter().chain(o.attrs.iter()) {
            if let Some(s) = v.as_str() {
                index
                    .entry((o.kind, name.clone(), s.to_owned()))
                    .or_insert(i);
            }
        }
    }
    observed
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let mut found = BTreeSet::new();
            for f in schema(o.kind).fields {
                if let Some(v) = o.attrs.get(f.name) {
                    walk(&f.ty, &v.to_json(), &mut |kind, attr, s| {
                        if let Some(t) = index.get(&(kind, attr.to_owned(), s.to_owned()))
                            && *t != i
                        {
                            found.insert(*t);
                        }
                    });
                }
            }
            found
        })
        .collect()
}

/// Calls `hit(kind, attr, value)` for every string in `v` that field type `ty` says names a
/// resource of `kind` by `attr`.
fn walk(ty: &Ty, v: &J, hit: &mut dyn FnMut(Kind, &str, &str)) {
    match (ty, v) {
        (Ty::RefTo { kind, attr }, J::String(s)) => hit(*kind, attr, s),
        (Ty::List(inner), J::Array(items)) => items.iter().for_each(|x| walk(inner, x, hit)),
        (Ty::Map(inner), J::Object(m)) => m.values().for_each(|x| walk(inner, x, hit)),
        (Ty::Object(fields), J::Object(m)) => {
            for f in *fields {
                if let Some(x) = m.get(f.name) {
                    walk(&f.ty, x, hit);
                }
            }
        }
        _ => {}
    }
}

/// Whether a kind's resources sit in a VPC: the VPC itself, and every kind with a field that
/// refers to a kind that does (subnets, security groups, subnet groups, databases, clusters ...).
pub fn vpc_bound(kind: Kind) -> bool {
    fn refers(ty: &Ty, seen: &mut BTreeSet<Kind>) -> bool {
        match ty {
            Ty::RefTo { kind, .. } => bound(*kind, seen),
            Ty::List(inner) | Ty::Map(inner) => refers(inner, seen),
            Ty::Object(fields) => fields.iter().any(|f| refers(&f.ty, seen)),
            _ => false,
        }
    }
    fn bound(kind: Kind, seen: &mut BTreeSet<Kind>) -> bool {
        if kind == Kind::Vpc {
            return true;
        }
        if !seen.insert(kind) {
            return false;
        }
        schema(kind).fields.iter().any(|f| refers(&f.ty, seen))
    }
    bound(kind, &mut BTreeSet::new())
}

/// Which resources the filters keep (see [`Filters`]), as a fixpoint: keeping one can keep
/// those that refer to it, or that it refers to.
fn select(
    observed: &[Observed],
    refs: &[BTreeSet<usize>],
    skip: &[Option<String>],
    filters: &Filters,
) -> Vec<bool> {
    let n = observed.len();
    let mut referrers: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    for (i, r) in refs.iter().enumerate() {
        for j in r {
            referrers[*j].insert(i);
        }
    }
    let tagged = |o: &Observed| {
        filters
            .tags
            .iter()
            .all(|(k, v)| o.tags.get(k).is_some_and(|x| x == v))
    };
    let mut kept = vec![false; n];
    loop {
        let mut changed = false;
        for i in 0..n {
            if kept[i] || skip[i].is_some() {
                continue;
            }
            let o = &observed[i];
            let refers_to_kept = refs[i].iter().any(|j| kept[*j]);
            let in_vpc = match &filters.vpc {
                None => true,
                Some(vpc) if vpc_bound(o.kind) => {
                    (o.kind == Kind::Vpc && o.id == *vpc) || refers_to_kept
                }
                Some(_) => referrers[i].iter().any(|j| kept[*j]) || refers_to_kept,
            };
            let tags_ok = if filters.tags.is_empty() {
                true
            } else if schema(o.kind).taggable {
                tagged(o)
            } else {
                refers_to_kept
            };
            if in_vpc && tags_ok {
                kept[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    kept
}

/// The spec name: the `Name` tag, else the kind's natural name (a role name, a DB identifier),
/// made a valid spec name; `None` when it has neither.
fn spec_name(o: &Observed) -> Option<String> {
    let natural = schema(o.kind)
        .natural_name
        .and_then(|f| o.attrs.get(f))
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let raw = o
        .tags
        .get("Name")
        .filter(|n| !n.is_empty())
        .cloned()
        .or(natural)?;
    // Route 53 names end with a dot and KMS aliases start with `alias/`: neither helps a name.
    let raw = raw.trim_end_matches('.').trim_start_matches("alias/");
    Some(super::emit::sanitize(raw))
}

/// The name of what an unnamed resource belongs to, when it has no `Name` tag: a KMS key is
/// named after its (first) alias, an OIDC provider after the cluster whose issuer it is, an
/// access entry after its principal, rather than after a key id, an issuer URL or an ARN.
fn related_name(o: &Observed, observed: &[Observed]) -> Option<String> {
    if o.tags.get("Name").is_some_and(|n| !n.is_empty()) {
        return None;
    }
    let attr = |x: &Observed, name: &str| {
        x.attrs
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let related = match o.kind {
        Kind::KmsKey => observed
            .iter()
            .filter(|x| {
                x.kind == Kind::KmsAlias && attr(x, "target_key_id").as_deref() == Some(&o.id)
            })
            .filter_map(|x| attr(x, "name"))
            .min()?,
        Kind::IamOidcProvider => {
            let url = attr(o, "url")?;
            let issuer = url.trim_start_matches("https://");
            observed
                .iter()
                .filter(|x| x.kind == Kind::EksCluster)
                .find(|x| {
                    x.computed
                        .get("oidc_issuer")
                        .and_then(|v| v.as_str())
                        .is_some_and(|i| i.trim_start_matches("https://") == issuer)
                })
                .and_then(|x| attr(x, "name"))?
        }
        // `<cluster>:<principal ARN>`: the principal's name says whose access it is.
        Kind::EksAccessEntry => attr(o, "principal_arn")?.rsplit('/').next()?.to_owned(),
        _ => return None,
    };
    Some(super::emit::sanitize(related.trim_start_matches("alias/")))
}

/// The draft the emitter takes: the observed attributes as literals, the computed ones for
/// references and the state.
fn draft(o: &Observed) -> Draft {
    let attrs: Map<String, J> = o
        .attrs
        .iter()
        .filter(|(_, v)| !matches!(v, crate::spec::value::Value::Null))
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect();
    let mut computed: Map<String, J> = o
        .computed
        .iter()
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect();
    computed
        .entry("id".to_owned())
        .or_insert_with(|| J::String(o.id.clone()));
    let mut d = Draft {
        inst: 0,
        kind: o.kind,
        attrs,
        id: o.id.clone(),
        computed,
        region: None,
        notes: Vec::new(),
        folded: Vec::new(),
        secret_env: None,
    };
    // EKS's own values of an access entry, which a spec cannot set (a node entry's reserved
    // username and `system:nodes` group, a generated username): left out, the kind keeps them.
    if o.kind == Kind::EksAccessEntry {
        if d.attrs
            .get("username")
            .and_then(J::as_str)
            .is_some_and(super::map::eks_made_username)
        {
            d.attrs.remove("username");
        }
        if d.attrs
            .get("type")
            .and_then(J::as_str)
            .unwrap_or("STANDARD")
            != "STANDARD"
        {
            d.attrs.remove("kubernetes_groups");
        }
    }
    if o.kind == Kind::RdsInstance
        && !d.attrs.contains_key("replicate_from")
        && d.attrs.get("manage_master_user_password") != Some(&J::Bool(true))
    {
        let var = password_env(&d.id);
        d.attrs.insert("master_password_env".into(), json!(var));
        d.notes.push(format!(
            "AWS never returns the master password: export {var} before an apply that needs it, \
             or switch to manage_master_user_password: true"
        ));
        d.secret_env = Some(var);
    }
    d
}

#[cfg(test)]
mod tests;

//! Adopting an existing platform: from Terraform states to a regionctl spec and state.
//!
//! Pure (no I/O, no SDK): documents in, file texts and state records out, so the whole
//! translation is unit-tested on in-memory states. The stages:
//! 1. [`tfstate`] reads state v4 and `show -json` documents into Terraform instances;
//! 2. [`map`] turns each instance into a regionctl resource (or folds it into one, or says why
//!    it cannot);
//! 3. here: every resource gets its environment (region from its ARN or zone, else from what its
//!    provider configuration or module is learned to be, else from an alias spelled like a
//!    region), its name and instance key;
//! 4. [`module`]: instances of one Terraform module in several regions, with the same shape,
//!    become one regionctl module and one call per region;
//! 5. [`emit`]: literal ids become references wherever the declaration says a field refers to
//!    another kind and the target was adopted, repeated instances become one `for_each`, and the
//!    YAML and the state records are written.

pub mod emit;
pub mod live;
pub mod map;
pub(crate) mod module;
pub mod tfstate;

use std::collections::{BTreeMap, BTreeSet};

use crate::addr::InstanceAddr;
use crate::kind::Kind;
use crate::resource::Attrs;

pub use tfstate::ReadError;

/// What the caller decides.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The region of resources nothing else places (a root provider without alias, with no
    /// resource naming its region).
    pub default_region: Option<String>,
    /// Provider configurations (or `module.x` paths) with their regions, overriding what is
    /// learned: `euw1=eu-west-1`.
    pub provider_regions: BTreeMap<String, String>,
}

/// A Terraform resource that was not adopted, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmapped {
    pub address: String,
    pub source: String,
    pub reason: String,
}

/// What the state records for one adopted instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub kind: Kind,
    /// The API region (us-east-1 for global kinds).
    pub region: String,
    pub id: String,
    pub arn: Option<String>,
    pub attrs: Attrs,
    pub computed: Attrs,
    pub deps: BTreeSet<InstanceAddr>,
    pub protect: bool,
}

/// The outcome: files to write (relative to the project), records per environment, and what was
/// left behind.
#[derive(Debug, Default)]
pub struct Adoption {
    pub files: Vec<(String, String)>,
    pub records: BTreeMap<String, Vec<(InstanceAddr, Record)>>,
    pub unmapped: Vec<Unmapped>,
    /// Terraform address → regionctl address, for every adopted (or folded) instance.
    pub adopted: Vec<(String, InstanceAddr)>,
    /// Environment variables the user must set (database passwords that stayed in Terraform).
    pub secret_envs: Vec<String>,
    /// Data sources read (never adopted, never listed as unmapped).
    pub data_sources: usize,
    /// What became a module, and why instances of a Terraform module did not (for the summary).
    pub notes: Vec<String>,
}

/// Reads the documents (name, text) and translates them.
pub fn terraform(docs: &[(String, String)], options: &Options) -> Result<Adoption, ReadError> {
    let mut insts = Vec::new();
    for (name, text) in docs {
        insts.extend(tfstate::read(name, text)?);
    }
    Ok(translate(&insts, options))
}

/// Where the adopted resources were read, which the written files say.
#[derive(Debug, Clone)]
pub enum Origin {
    Terraform,
    /// `adopt aws`: the region read and the filters as typed.
    Aws {
        region: String,
        filters: String,
    },
}

/// An adopted resource with its place: environment and the Terraform resource (block) it came from.
pub(crate) struct Placed {
    pub draft: map::Draft,
    pub env: String,
}

pub fn translate(insts: &[tfstate::TfInstance], options: &Options) -> Adoption {
    let mut out = Adoption::default();
    let mut drafts: Vec<map::Draft> = Vec::new();
    let mut folds = Vec::new();
    let mut seen: BTreeMap<(Kind, String), String> = BTreeMap::new();
    for (idx, inst) in insts.iter().enumerate() {
        if !inst.managed {
            out.data_sources += 1;
            continue;
        }
        let unmapped = |reason: String| Unmapped {
            address: inst.address(),
            source: inst.source.clone(),
            reason,
        };
        match map::mapping(&inst.tf_type).map(|m| &m.role) {
            None => out
                .unmapped
                .push(unmapped(if inst.tf_type.starts_with("aws_") {
                    "regionctl has no kind for this resource type".to_owned()
                } else {
                    "it is not an AWS resource".to_owned()
                })),
            Some(map::Role::Fold(f)) => folds.push((idx, *f)),
            Some(map::Role::Resource { map, .. }) => match map(inst) {
                Err(reason) => out.unmapped.push(unmapped(reason)),
                Ok(mut d) => {
                    d.inst = idx;
                    if let Some(first) = seen.get(&(d.kind, d.id.clone())) {
                        out.unmapped.push(unmapped(format!(
                            "it is the same {} ({}) as {first}, adopted once",
                            d.kind, d.id
                        )));
                    } else {
                        seen.insert((d.kind, d.id.clone()), inst.address());
                        drafts.push(d);
                    }
                }
            },
        }
    }
    // Folds run after every resource exists, in the table's order (an Elastic IP needs its NAT
    // gateway, a rule its group).
    folds.sort_by_key(|(idx, _)| {
        map::MAPPINGS
            .iter()
            .position(|m| m.tf_type == insts[*idx].tf_type)
            .unwrap_or(usize::MAX)
    });
    for (idx, f) in folds {
        if let Err(reason) = f(&insts[idx], &mut drafts) {
            out.unmapped.push(Unmapped {
                address: insts[idx].address(),
                source: insts[idx].source.clone(),
                reason,
            });
        }
    }

    let groups = learn_groups(insts, &drafts, options);
    let mut placed = Vec::new();
    for d in drafts {
        let inst = &insts[d.inst];
        let env = if d.kind.placement().is_global_api() {
            Some(crate::addr::GLOBAL_ENV.to_owned())
        } else {
            d.region
                .clone()
                .or_else(|| groups.get(&inst.region_group()).cloned())
                .or_else(|| options.default_region.clone())
        };
        match env {
            Some(env) => placed.push(Placed { draft: d, env }),
            None => out.unmapped.push(Unmapped {
                address: inst.address(),
                source: inst.source.clone(),
                reason: format!(
                    "nothing says its region (no ARN or zone, and its provider {} is not known); \
                     pass --provider-region {}=REGION or --default-region",
                    inst.region_group(),
                    alias_of(&inst.region_group())
                ),
            }),
        }
    }
    place_iam(&mut placed);
    emit::emit(insts, placed, &mut out, &Origin::Terraform);
    out.unmapped.sort_by(|a, b| a.address.cmp(&b.address));
    out
}

/// The region whose OIDC provider an IAM role trusts, if it trusts exactly one region's: an EKS
/// issuer in its trust policy (`oidc-provider/oidc.eks.<region>.amazonaws.com/id/...`, or the
/// condition keys `oidc.eks.<region>...:sub`), or the ARN of an adopted OIDC provider placed in a
/// regional environment (an issuer that does not name its region). `Err` lists the regions when
/// it trusts several.
pub(crate) fn trusted_region(
    role: &map::Draft,
    providers: &BTreeMap<String, String>,
) -> Result<Option<String>, Vec<String>> {
    let Some(doc) = role.attrs.get("assume_role_policy") else {
        return Ok(None);
    };
    let text = match doc {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut regions = BTreeSet::new();
    for (at, _) in text.match_indices("oidc.eks.") {
        if let Some(r) = map::issuer_region(&text[at..]) {
            regions.insert(r);
        }
    }
    for (arn, env) in providers {
        if text.contains(arn.as_str()) {
            regions.insert(env.clone());
        }
    }
    let mut regions = regions.into_iter();
    match (regions.next(), regions.next()) {
        (None, _) => Ok(None),
        (Some(r), None) => Ok(Some(r)),
        (Some(a), Some(b)) => Err([a, b].into_iter().chain(regions).collect()),
    }
}

/// IAM roles and policies may be declared in any environment (`Placement::GlobalAnyEnv`); an
/// adopted one goes to `global` unless it belongs to one region's platform:
/// - a role trusting one region's OIDC provider (IRSA) goes to that region: in `global` it would
///   refer to the region's provider while the region's add-ons and access entries refer to it,
///   an environment cycle;
/// - then a policy attached only to roles of one region follows them (attached to roles of
///   several environments, or to none, it stays global).
pub(crate) fn place_iam(placed: &mut [Placed]) {
    let global = crate::addr::GLOBAL_ENV;
    let providers: BTreeMap<String, String> = placed
        .iter()
        .filter(|p| p.draft.kind == Kind::IamOidcProvider && p.env != global)
        .filter_map(|p| {
            let arn = p.draft.computed.get("arn")?.as_str()?;
            Some((arn.to_owned(), p.env.clone()))
        })
        .collect();
    for p in placed.iter_mut() {
        if p.draft.kind != Kind::IamRole || p.env != global {
            continue;
        }
        match trusted_region(&p.draft, &providers) {
            Ok(Some(region)) => {
                p.draft.notes.push(format!(
                    "declared in {region}: it trusts that region's OIDC provider"
                ));
                p.env = region;
            }
            Ok(None) => {}
            Err(regions) => p.draft.notes.push(format!(
                "kept in global: it trusts the OIDC providers of {}",
                regions.join(", ")
            )),
        }
    }
    // Which environments attach each policy (by ARN).
    let mut attached: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in placed.iter().filter(|p| p.draft.kind == Kind::IamRole) {
        for arn in p
            .draft
            .attrs
            .get("managed_policy_arns")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_str)
        {
            attached
                .entry(arn.to_owned())
                .or_default()
                .insert(p.env.clone());
        }
    }
    for p in placed.iter_mut() {
        if p.draft.kind != Kind::IamPolicy || p.env != global {
            continue;
        }
        let envs = p
            .draft
            .computed
            .get("arn")
            .and_then(serde_json::Value::as_str)
            .and_then(|arn| attached.get(arn));
        if let Some(envs) = envs
            && envs.len() == 1
            && let Some(env) = envs.iter().next().filter(|e| *e != global)
        {
            p.draft.notes.push(format!(
                "declared in {env}: only roles of that region attach it"
            ));
            p.env = env.clone();
        }
    }
}

/// The short name of a region group: a provider alias (`euw1`), a module path, or the provider.
fn alias_of(group: &str) -> String {
    if let Some(module) = group.strip_prefix("module:") {
        return module.to_owned();
    }
    match group.rsplit_once("].") {
        Some((_, alias)) => alias.to_owned(),
        None => group.to_owned(),
    }
}

/// A region spelled in an alias or module name: `eu-west-1`, `eu_west_1`, or the common short
/// forms `euw1`, `use1`, `apse2`.
pub fn region_in_name(name: &str) -> Option<String> {
    use crate::spec::aws_facts::{is_known_region, known_regions};
    let last = name.rsplit(['.', '/']).next().unwrap_or(name);
    let dashed = last.replace('_', "-").to_ascii_lowercase();
    if is_known_region(&dashed) {
        return Some(dashed);
    }
    for region in known_regions() {
        if dashed.contains(region) {
            return Some(region.to_owned());
        }
    }
    let squeezed: String = dashed.chars().filter(|c| *c != '-').collect();
    known_regions()
        .find(|r| short_form(r) == squeezed || squeezed.ends_with(&short_form(r)))
        .map(str::to_owned)
}

/// `eu-west-1` → `euw1`, `ap-southeast-2` → `apse2`.
fn short_form(region: &str) -> String {
    let mut parts = region.split('-');
    let (Some(area), Some(dir), Some(num)) = (parts.next(), parts.next(), parts.next()) else {
        return region.to_owned();
    };
    let dir: String = ["north", "south", "east", "west", "central"]
        .iter()
        .fold(dir.to_owned(), |d, w| d.replace(w, &w[..1]));
    format!("{area}{dir}{num}")
}

/// The region of each provider configuration (or module, for `show -json`): the caller's
/// overrides, else what its resources with an ARN or zone say (the most frequent), else the
/// region its alias or module is named after.
fn learn_groups(
    insts: &[tfstate::TfInstance],
    drafts: &[map::Draft],
    options: &Options,
) -> BTreeMap<String, String> {
    let mut votes: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for d in drafts {
        if let Some(r) = &d.region {
            *votes
                .entry(insts[d.inst].region_group())
                .or_default()
                .entry(r.clone())
                .or_default() += 1;
        }
    }
    let mut out = BTreeMap::new();
    for inst in insts {
        let group = inst.region_group();
        if out.contains_key(&group) {
            continue;
        }
        let alias = alias_of(&group);
        let region = options
            .provider_regions
            .get(&alias)
            .or_else(|| options.provider_regions.get(&group))
            .cloned()
            .or_else(|| {
                votes
                    .get(&group)
                    .and_then(|v| v.iter().max_by_key(|(_, n)| **n).map(|(r, _)| r.clone()))
            })
            .or_else(|| region_in_name(&alias));
        if let Some(region) = region {
            out.insert(group, region);
        }
    }
    out
}

#[cfg(test)]
mod tests;

//! The shared resource vocabulary: what AWS says about a resource, in the spec's own terms.
//!
//! The planner, the state and the provider all speak about live resources; this module is the
//! part of that language they share, so that none of them has to reach into another for it. It
//! sits below `plan`, `state` and `provider` and knows nothing of the AWS SDK: an [`Observed`] is
//! plain data (attributes shaped like the spec's, the computed ones, tags and a [`Status`]), the
//! identity tags and idempotency tokens are strings, and [`api_region`] maps a kind's placement
//! to the region its API is reached in.

use std::collections::{BTreeMap, BTreeSet};

use crate::addr::InstanceAddr;
use crate::kind::{Kind, Placement};
use crate::spec::schema::compare::{dns_name, zone_id};
use crate::spec::value::Value;

/// Attributes by name, in the spec's shape.
pub type Attrs = BTreeMap<String, Value>;

/// Every tag key regionctl owns starts so; these are identity, never configuration.
pub const OWN_TAG_PREFIX: &str = "regionctl:";
/// The tag naming the project (stack) a resource belongs to.
pub const STACK_TAG: &str = "regionctl:stack";
/// The tag holding the resource's instance address, e.g. `eu-west-1/vpc.main`.
pub const ADDRESS_TAG: &str = "regionctl:address";

/// Global services (IAM, Route 53) are reached through this region in the `aws` partition.
pub const GLOBAL_REGION: &str = "us-east-1";

/// The AWS region a resource of `kind` is managed through: its own, or the global one.
pub fn api_region(kind: Kind, region: Option<&str>) -> &str {
    match (kind.placement(), region) {
        (Placement::Regional, Some(r)) => r,
        _ => GLOBAL_REGION,
    }
}

/// Where a resource is in its lifecycle, as AWS reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum Status {
    /// Usable: `available`, `ACTIVE`, `INSYNC` ...
    Ready,
    /// Being created or modified; the AWS status word is kept for progress output.
    Pending(String),
    /// Being deleted.
    Deleting(String),
    /// A terminal failure (`CREATE_FAILED`, `failed`, `incompatible-parameters` ...).
    Failed(String),
}

/// A resource as read from AWS.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Observed {
    pub kind: Kind,
    /// The region the resource was read in (the global region for IAM and Route 53).
    pub region: String,
    /// The identifier regionctl uses to read, update and delete it: the VPC id, the cluster name,
    /// the DB identifier, the Route 53 record's `zone/name/type/set_identifier` ...
    pub id: String,
    /// Configurable attributes, in the spec's shape, normalised so that an unchanged resource
    /// compares equal to its spec. Attributes AWS does not report back (a password's environment
    /// variable, `skip_final_snapshot`) are absent.
    #[serde(with = "serde_attrs")]
    pub attrs: Attrs,
    /// Attributes AWS computed (`id`, `arn`, `endpoint` ...), as the spec's references read them.
    #[serde(with = "serde_attrs")]
    pub computed: Attrs,
    /// Every tag, including the `regionctl:*` ones (which `attrs["tags"]` leaves out).
    pub tags: BTreeMap<String, String>,
    pub status: Status,
}

impl Observed {
    /// The instance address recorded in the `regionctl:address` tag, if any.
    pub fn address_tag(&self) -> Option<&str> {
        self.tags.get(ADDRESS_TAG).map(String::as_str)
    }

    /// The stack recorded in the `regionctl:stack` tag, if any.
    pub fn stack_tag(&self) -> Option<&str> {
        self.tags.get(STACK_TAG).map(String::as_str)
    }
}

/// What a refresh should look for beyond the stack tag: the ids recorded in state and the
/// natural names (role name, cluster name, DB identifier ...) the spec asks for. Kinds whose list
/// call filters or returns tags may ignore them.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    pub ids: BTreeSet<String>,
    pub names: BTreeSet<String>,
    /// Of `names`, those that a declared resource the state does not record gives (one to
    /// create, or one a run killed before it saved may have made): only these need a search by
    /// listing, the rest is read by its `ids`. `None` when not known (a `find` after a lost
    /// answer): every name may need the search. Kinds whose listing is cheap ignore it.
    pub unrecorded: Option<BTreeSet<String>>,
}

impl Hints {
    /// Whether a refresh must search under `name` (list what exists there) rather than read
    /// only the ids it already knows.
    pub fn needs_search(&self, name: &str) -> bool {
        self.unrecorded.as_ref().is_none_or(|u| u.contains(name))
    }

    /// Whether the state records every resource the refresh wants: it reads them by their ids
    /// and lists nothing.
    pub fn only_recorded(&self) -> bool {
        self.unrecorded.as_ref().is_some_and(BTreeSet::is_empty)
    }
}

/// How every idempotency token starts, so a Route 53 zone or health check whose
/// `CallerReference` starts so is known to be regionctl's even before it is tagged.
pub const TOKEN_PREFIX: &str = "rc-";

/// Derives an idempotency token: the same inputs give the same token, so a retried create is
/// recognised by AWS, while a new plan (a new `generation`) creates anew.
pub fn idempotency_token(stack: &str, addr: &InstanceAddr, generation: &str) -> String {
    let text = addr.to_string();
    format!(
        "{TOKEN_PREFIX}{}",
        crate::hash::stable_hash128(&[stack, text.as_str(), generation])
    )
}

/// The id of a Route 53 record set: `<zone id>/<name>/<type>[/<set identifier>]`, from parts
/// already in their normal forms ([`zone_id`], [`dns_name`]). Records carry no tags; their
/// identity is this key.
pub fn record_id(zone: &str, name: &str, rtype: &str, set: Option<&str>) -> String {
    let mut id = format!("{zone}/{name}/{rtype}");
    if let Some(set) = set {
        id.push('/');
        id.push_str(set);
    }
    id
}

/// The id a resource of `kind` with these desired attributes would have, when its identity is
/// its key rather than a tag (Route 53 records). Pure; `None` for every other kind, or while the
/// key is not known yet.
pub fn natural_id(kind: Kind, desired: &Attrs) -> Option<String> {
    let text = |k: &str| desired.get(k).and_then(Value::as_str);
    match kind {
        Kind::Route53Record => Some(record_id(
            zone_id(text("zone_id")?),
            &dns_name(text("name")?),
            text("type")?,
            text("set_identifier"),
        )),
        _ => None,
    }
}

/// The user's tags of a desired resource (already merged with the project's default tags).
pub fn desired_tags(desired: &Attrs) -> BTreeMap<String, String> {
    match desired.get("tags") {
        Some(Value::Map(m)) => m
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// Serialises attribute maps as plain JSON (state files, saved plans).
pub mod serde_attrs {
    use super::Attrs;
    use crate::spec::value::Value;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(attrs: &Attrs, ser: S) -> Result<S::Ok, S::Error> {
        let map: serde_json::Map<String, serde_json::Value> = attrs
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect();
        map.serialize(ser)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Attrs, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(de)?;
        Ok(map
            .iter()
            .map(|(k, v)| (k.clone(), Value::from_json(v)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_tokens_are_stable_and_distinct() {
        let a: InstanceAddr = "eu-west-1/vpc.main".parse().expect("valid");
        let b: InstanceAddr = "eu-west-1/vpc.other".parse().expect("valid");
        let t = idempotency_token("platform", &a, "plan-1");
        assert_eq!(t, idempotency_token("platform", &a, "plan-1"));
        assert_ne!(t, idempotency_token("platform", &b, "plan-1"));
        assert_ne!(t, idempotency_token("platform", &a, "plan-2"));
        assert_ne!(t, idempotency_token("other", &a, "plan-1"));
        assert!(t.len() <= 64 && t.is_ascii());
        // Pinned: a token must not change between regionctl versions, or a resumed apply would
        // create a duplicate.
        // (The expected value was computed independently, with a Python FNV-1a.)
        assert_eq!(
            idempotency_token("s", &"global/iam_role.r".parse().expect("valid"), "g"),
            "rc-9e7c7b89815e55472f772123ecbf6a0a"
        );
    }

    #[test]
    fn global_kinds_use_the_global_region() {
        assert_eq!(api_region(Kind::IamRole, None), GLOBAL_REGION);
        assert_eq!(
            api_region(Kind::Route53Record, Some("eu-west-1")),
            GLOBAL_REGION
        );
        assert_eq!(api_region(Kind::Vpc, Some("eu-west-1")), "eu-west-1");
    }

    #[test]
    fn record_ids_are_normalised_keys() {
        let desired: Attrs = [
            ("zone_id", "/hostedzone/Z1"),
            ("name", "API.Example.com."),
            ("type", "A"),
            ("set_identifier", "eu"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::Str(v.to_owned())))
        .collect();
        assert_eq!(
            natural_id(Kind::Route53Record, &desired).as_deref(),
            Some("Z1/api.example.com/A/eu")
        );
        assert_eq!(record_id("Z1", "a.b", "CNAME", None), "Z1/a.b/CNAME");
        assert_eq!(natural_id(Kind::Vpc, &desired), None);
    }
}

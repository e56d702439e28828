//! How one attribute of a resource compares between the spec and AWS: the knowledge that lets an
//! unchanged platform plan as "no changes".
//!
//! Each field of a kind declares its comparison ([`Cmp`], in `spec::schema::kinds`, with the
//! reason next to it); this module implements it. Two things decide it, and both follow the
//! provider's `update`:
//!
//! - what the provider's `update` does when the spec leaves the attribute out ([`Absent`]): leave
//!   AWS's value alone (the spec has no opinion, so any live value is the same), make it empty
//!   (tags, IAM policies, node group labels and taints, a record's parts: a live value then
//!   differs), or write a default (a subnet group's description);
//! - how values are normalised before they are compared ([`Norm`]): sets of ids, case, DNS names,
//!   engine versions, KMS aliases, security group rules regrouped per peer, policy documents.
//!
//! The planner must say "update" exactly when the provider's `update` would change something:
//! a false "differs" is a perpetual diff (and on a `force_new` attribute of a database, a planned
//! replacement), a false "same" hides a change the user asked for. Where the two risks conflict,
//! each declaration says which way it leans and why. Both the planner and the provider's RDS
//! modification use this one comparison, so they can never disagree.

use std::collections::{BTreeMap, BTreeSet};

use crate::kind::Kind;
use crate::spec::schema::kinds::schema;
use crate::spec::schema::types::{Absent, Cmp, Norm};
use crate::spec::value::Value;

/// How one attribute of a resource compares between the spec and AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrCmp {
    /// Equal after normalisation, or the spec has no opinion (attribute omitted and AWS's value is
    /// a default the spec accepts).
    Same,
    /// Different: an update (or a replacement if the schema field is force_new).
    Differs,
    /// The desired value has unknown parts (Value::has_unknown) so it cannot be compared until
    /// apply.
    Unknown,
    /// AWS does not report this attribute (write-only: master_password_env, skip_final_snapshot,
    /// final_snapshot_identifier, apply_immediately, allow_major_version_upgrade, ... whatever the
    /// provider leaves out of Observed.attrs); the planner then compares the desired value with
    /// the value last applied (state) instead.
    NotObservable,
}

/// Compares one attribute. `desired`: the spec's value with references resolved where known
/// (None = the spec omits the attribute). `live`: Observed.attrs.get(name) (None = AWS did not
/// report it). `null` is the same as absent on both sides.
///
/// Write-only attributes are [`AttrCmp::NotObservable`] whether or not the spec sets them, so
/// that the planner compares them with state (a value removed from the spec is a change too).
pub fn compare(kind: Kind, name: &str, desired: Option<&Value>, live: Option<&Value>) -> AttrCmp {
    let desired = desired.filter(|v| !matches!(v, Value::Null));
    let live = live.filter(|v| !matches!(v, Value::Null));
    if desired.is_some_and(Value::has_unknown) {
        return AttrCmp::Unknown;
    }
    if is_write_only(kind, name) {
        return AttrCmp::NotObservable;
    }
    let rule = rule(kind, name);
    // RDS leaves security groups alone when the list is empty, as when it is absent.
    let desired = desired.filter(|d| !(rule.empty_is_absent && is_empty(d)));
    let same = match (desired, live) {
        (None, None) => true,
        (None, Some(l)) => match rule.absent {
            Absent::Keep => true,
            Absent::Clear => equal(rule.norm, &Value::Null, l),
            Absent::Default(text) => equal(rule.norm, &Value::Str(text.to_owned()), l),
        },
        // AWS leaves empty collections and empty strings out: an empty desired value is met.
        (Some(d), None) => equal(rule.norm, d, &Value::Null),
        (Some(d), Some(l)) => equal(rule.norm, d, l),
    };
    if same {
        AttrCmp::Same
    } else {
        AttrCmp::Differs
    }
}

/// Whether the provider never reports attribute `name` of `kind` back (see `Field::write_only`).
pub fn is_write_only(kind: Kind, name: &str) -> bool {
    schema(kind).field(name).is_some_and(|f| f.write_only)
}

/// Attribute names (of the schema fields) the provider never reports back for `kind`.
pub fn write_only(kind: Kind) -> impl Iterator<Item = &'static str> {
    schema(kind)
        .fields
        .iter()
        .filter(|f| f.write_only)
        .map(|f| f.name)
}

/// Plain equality after the same normalisation (for comparing desired to the value in state, and
/// state to live for drift). Unknown values equal nothing.
pub fn same_value(kind: Kind, name: &str, a: &Value, b: &Value) -> bool {
    if a.has_unknown() || b.has_unknown() {
        return false;
    }
    if is_write_only(kind, name) {
        return equal(Norm::Plain, a, b);
    }
    equal(rule(kind, name).norm, a, b)
}

/// Compares every attribute of a resource (the union of desired and live names), with the rules
/// that need a second attribute to decide:
///
/// - RDS `allocated_storage` that storage autoscaling grew beyond the spec (within
///   `max_allocated_storage`) is the same: RDS cannot shrink storage, and the growth is what the
///   spec asked for by setting the limit;
/// - RDS `manage_master_user_password` left out while `master_password_env` is set and RDS
///   manages the password: the provider's update turns management off, so it differs.
pub fn compare_all(
    kind: Kind,
    desired: &BTreeMap<String, Value>,
    live: &BTreeMap<String, Value>,
) -> BTreeMap<String, AttrCmp> {
    let names: BTreeSet<&String> = desired.keys().chain(live.keys()).collect();
    let mut out: BTreeMap<String, AttrCmp> = names
        .into_iter()
        .map(|n| {
            let cmp = compare(kind, n, desired.get(n), live.get(n));
            (n.clone(), cmp)
        })
        .collect();
    if kind == Kind::RdsInstance {
        let int = |m: &BTreeMap<String, Value>, n: &str| m.get(n).and_then(Value::as_i64);
        if let (Some(want), Some(have), Some(max)) = (
            int(desired, "allocated_storage"),
            int(live, "allocated_storage"),
            int(desired, "max_allocated_storage"),
        ) && have > want
            && have <= max
        {
            out.insert("allocated_storage".to_owned(), AttrCmp::Same);
        }
        let unset = |n: &str| matches!(desired.get(n), None | Some(Value::Null));
        if unset("manage_master_user_password")
            && !unset("master_password_env")
            && live.get("manage_master_user_password") == Some(&Value::Bool(true))
        {
            out.insert("manage_master_user_password".to_owned(), AttrCmp::Differs);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The rules.

/// The comparison of one attribute: the one its field declares (`spec::schema::kinds`), whose
/// comment there says why. A name the schema does not know is compared plainly.
fn rule(kind: Kind, name: &str) -> Cmp {
    schema(kind).field(name).map_or(
        Cmp {
            absent: Absent::Keep,
            norm: Norm::Plain,
            empty_is_absent: false,
        },
        |f| f.cmp,
    )
}

// ---------------------------------------------------------------------------------------------
// Normalised equality.

/// Null, an empty string, an empty list or an empty map: what AWS leaves out of a description.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Str(s) => s.is_empty(),
        Value::List(items) => items.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

/// Whether `a` and `b` are the same under `norm`; `Value::Null` stands for an absent value.
fn equal(norm: Norm, a: &Value, b: &Value) -> bool {
    if is_empty(a) && is_empty(b) {
        return true;
    }
    match norm {
        Norm::Plain => plain(a, b),
        Norm::Set => match (string_set(a), string_set(b)) {
            (Some(x), Some(y)) => x == y,
            _ => plain(a, b),
        },
        Norm::Lower => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
            _ => plain(a, b),
        },
        Norm::Dns => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => dns_name(x) == dns_name(y),
            _ => plain(a, b),
        },
        Norm::ZoneId => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => zone_id(x) == zone_id(y),
            _ => plain(a, b),
        },
        Norm::RdsVersion => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => version_prefix(x, y),
            _ => plain(a, b),
        },
        Norm::CacheVersion => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => cache_version(x) == cache_version(y),
            _ => plain(a, b),
        },
        Norm::KmsKey => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => same_kms_key(x, y),
            _ => plain(a, b),
        },
        Norm::Tags => tag_map(a, true) == tag_map(b, true),
        Norm::StrMap => tag_map(a, false) == tag_map(b, false),
        Norm::Document => document_eq(&document(a), &document(b)),
        Norm::Documents => match (a, b) {
            (Value::Map(x), Value::Map(y)) => {
                x.len() == y.len()
                    && x.iter().all(|(k, v)| {
                        y.get(k)
                            .is_some_and(|w| document_eq(&document(v), &document(w)))
                    })
            }
            _ => false,
        },
        Norm::SgRules => match (sg_grants(a), sg_grants(b)) {
            (Some(x), Some(y)) => x == y,
            _ => plain(a, b),
        },
        Norm::Routes => match (routes(a), routes(b)) {
            (Some(x), Some(y)) => x == y,
            _ => plain(a, b),
        },
        Norm::Taints => match (taints(a), taints(b)) {
            (Some(x), Some(y)) => x == y,
            _ => plain(a, b),
        },
        Norm::Alias => match (alias(a), alias(b)) {
            (Some(x), Some(y)) => x == y,
            _ => plain(a, b),
        },
        Norm::RdsSource => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => same_rds_source(x, y),
            _ => plain(a, b),
        },
        Norm::AccessPolicies => match (
            super::compare_eks::access_policies(a),
            super::compare_eks::access_policies(b),
        ) {
            (Some(x), Some(y)) => x == y,
            _ => plain(a, b),
        },
        Norm::EncryptionConfig => match (
            super::compare_eks::encryption_config(a),
            super::compare_eks::encryption_config(b),
        ) {
            (Some(x), Some(y)) => same_kms_key(x, y),
            _ => plain(a, b),
        },
    }
}

/// Structural equality: whole numbers equal whatever their representation (Int, integral
/// Float, or the decimal string of either: a reference may resolve to a string), and map
/// entries that are null or empty are left out, as AWS leaves them out.
fn plain(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Unknown(_), _) | (_, Value::Unknown(_)) => false,
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            match (a.as_i64(), b.as_i64()) {
                (Some(x), Some(y)) => x == y,
                _ => number(a) == number(b),
            }
        }
        (Value::Str(s), n @ (Value::Int(_) | Value::Float(_)))
        | (n @ (Value::Int(_) | Value::Float(_)), Value::Str(s)) => {
            n.as_i64().is_some_and(|i| i.to_string() == *s)
        }
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| plain(v, w))
        }
        (Value::Map(x), Value::Map(y)) => {
            let x = present(x);
            let y = present(y);
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| plain(v, w)))
        }
        _ => false,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// The entries of a map that carry a value (not null, not empty).
fn present(m: &BTreeMap<String, Value>) -> BTreeMap<&String, &Value> {
    m.iter().filter(|(_, v)| !is_empty(v)).collect()
}

/// The text of a scalar, for sets and maps of strings: whole numbers and booleans as written.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Int(_) | Value::Float(_) => v.as_i64().map(|i| i.to_string()),
        _ => None,
    }
}

/// A list of scalars as a set of texts; `None` if it is not one (null is the empty set).
fn string_set(v: &Value) -> Option<BTreeSet<String>> {
    match v {
        Value::Null => Some(BTreeSet::new()),
        Value::List(items) => items.iter().map(scalar_text).collect(),
        _ => None,
    }
}

/// A map of strings; tags also without regionctl's own (`regionctl:*`, which the provider never
/// touches, whatever the spec says) and without non-string values (which it does not apply).
fn tag_map(v: &Value, tags: bool) -> BTreeMap<String, String> {
    let Value::Map(m) = v else {
        return BTreeMap::new();
    };
    m.iter()
        .filter(|(k, _)| !(tags && k.starts_with("regionctl:")))
        .filter_map(|(k, v)| {
            let text = if tags {
                v.as_str().map(str::to_owned)
            } else {
                scalar_text(v)
            };
            Some((k.clone(), text?))
        })
        .collect()
}

/// A domain name as the spec writes it: Route 53 answers `Example.com.` as `example.com.` and
/// escapes characters outside `a-z0-9-_.` as `\ooo` (`\052` for `*`); names are compared without
/// the final dot, lowercase, unescaped.
pub fn dns_name(name: &str) -> String {
    let name = name.strip_suffix('.').unwrap_or(name);
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(pos) = rest.find('\\') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let code = after
            .get(..3)
            .filter(|d| d.bytes().all(|b| (b'0'..=b'7').contains(&b)))
            .and_then(|d| u8::from_str_radix(d, 8).ok());
        match code {
            Some(byte) => {
                out.push(char::from(byte));
                rest = &after[3..];
            }
            None => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.to_lowercase()
}

/// `Z123` from `/hostedzone/Z123`: Route 53 answers the long form and takes either.
pub fn zone_id(raw: &str) -> &str {
    raw.strip_prefix("/hostedzone/").unwrap_or(raw)
}

/// Whether one version is the other or a prefix of it in whole components: RDS takes "16" or
/// "8.0" and reports the minor (or patch) version it chose.
fn version_prefix(a: &str, b: &str) -> bool {
    let x: Vec<&str> = a.trim().split('.').collect();
    let y: Vec<&str> = b.trim().split('.').collect();
    let n = x.len().min(y.len());
    x[..n] == y[..n]
}

/// The form the ElastiCache provider reports: `major.minor` from Redis OSS 6 on (and Valkey),
/// the full version before.
fn cache_version(version: &str) -> String {
    let parts: Vec<&str> = version.trim().split('.').collect();
    match parts.as_slice() {
        [major, minor, _, ..] if major.parse::<u32>().is_ok_and(|m| m >= 6) => {
            format!("{major}.{minor}")
        }
        _ => version.trim().to_owned(),
    }
}

fn is_kms_alias(key: &str) -> bool {
    key.starts_with("alias/") || key.contains(":alias/")
}

/// The key id of a key ARN (`arn:aws:kms:<region>:<account>:key/<id>`), or the text itself.
fn kms_key_id(key: &str) -> &str {
    key.rsplit_once(":key/").map_or(key, |(_, id)| id)
}

/// KMS keys: equal texts or key ids (a key id and its ARN) are the same. An alias (`alias/aws/rds`)
/// is the same as any key that is not an alias: AWS reports the key's ARN and resolving the alias
/// needs a KMS call; as the attribute forces replacement, a false "differs" would replace a
/// database, while a false "same" only misses a switch between keys written as an alias. Two
/// aliases (spec against state) are compared as written.
fn same_kms_key(a: &str, b: &str) -> bool {
    match (is_kms_alias(a), is_kms_alias(b)) {
        (true, true) => a == b,
        (true, false) | (false, true) => true,
        (false, false) => kms_key_id(a) == kms_key_id(b),
    }
}

/// `(region, identifier)` of an RDS instance ARN.
fn rds_arn(text: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "rds", region, _, "db", identifier] => Some((region, identifier)),
        _ => None,
    }
}

/// Replication sources: the same ARN, or an identifier and an ARN naming it (identifiers are
/// case-insensitive). The region of a bare identifier cannot be checked here; the provider's
/// update refuses a re-pointing it sees.
fn same_rds_source(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    match (rds_arn(a), rds_arn(b)) {
        (None, Some((_, id))) => id.eq_ignore_ascii_case(a),
        (Some((_, id)), None) => id.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// A policy document as a value: JSON text is parsed, a map is taken as is.
fn document(v: &Value) -> Value {
    match v {
        Value::Str(text) => serde_json::from_str::<serde_json::Value>(text)
            .map_or_else(|_| v.clone(), |json| Value::from_json(&json)),
        other => other.clone(),
    }
}

/// Policy documents: structural, with a one-element list equal to its element (IAM reads
/// `"Action": "sts:AssumeRole"` and `"Action": ["sts:AssumeRole"]`, or a single statement
/// object and a list of one, alike).
fn document_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| document_eq(v, w))
        }
        (Value::List(x), other) | (other, Value::List(x)) if x.len() == 1 => {
            document_eq(&x[0], other)
        }
        (Value::Map(x), Value::Map(y)) => {
            let x = present(x);
            let y = present(y);
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| document_eq(v, w)))
        }
        _ => plain(a, b),
    }
}

/// One security group permission as EC2 stores it: protocol, port range and a single peer.
type Grant = (String, Option<i64>, Option<i64>, Peer);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Peer {
    Cidr(String),
    Group(String),
}

/// EC2's protocol spelling in spec terms (`-1` is `all`, and the numbers of the named ones).
fn protocol_name(text: &str) -> String {
    match text.to_ascii_lowercase().as_str() {
        "-1" | "all" => "all".to_owned(),
        "6" => "tcp".to_owned(),
        "17" => "udp".to_owned(),
        "1" => "icmp".to_owned(),
        other => other.to_owned(),
    }
}

/// A port as compared: none for `all`, and EC2's -1 (any) is the same as an omitted port.
fn rule_port(protocol: &str, value: Option<&Value>) -> Option<i64> {
    match protocol {
        "all" => None,
        _ => value.and_then(Value::as_i64).filter(|p| *p >= 0),
    }
}

/// Security group rules as grants with their descriptions, the way the provider converges them:
/// a rule with both `cidr_blocks` and `source_security_group_id` is one grant per peer (AWS
/// reports it as two rules), CIDRs grouped in any way are the same grants, and an empty
/// description is none. `None` if the value is not a list of rules.
fn sg_grants(v: &Value) -> Option<BTreeMap<Grant, Option<String>>> {
    let items = match v {
        Value::Null => return Some(BTreeMap::new()),
        Value::List(items) => items,
        _ => return None,
    };
    let mut grants = BTreeMap::new();
    for item in items {
        let Value::Map(rule) = item else { return None };
        let protocol = protocol_name(rule.get("protocol")?.as_str()?);
        let from = rule_port(&protocol, rule.get("from_port"));
        let to = rule_port(&protocol, rule.get("to_port"));
        let description = rule
            .get("description")
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty())
            .map(str::to_owned);
        let mut peers: Vec<Peer> = match rule.get("cidr_blocks") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::List(cidrs)) => cidrs
                .iter()
                .map(|c| c.as_str().map(|c| Peer::Cidr(c.to_owned())))
                .collect::<Option<_>>()?,
            Some(_) => return None,
        };
        if let Some(group) = rule.get("source_security_group_id").and_then(Value::as_str) {
            peers.push(Peer::Group(group.to_owned()));
        }
        // A rule without a peer grants nothing (the provider refuses it): not comparable.
        if peers.is_empty() {
            return None;
        }
        for peer in peers {
            grants.insert((protocol.clone(), from, to, peer), description.clone());
        }
    }
    Some(grants)
}

/// Where a route sends traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Gateway(String),
    NatGateway(String),
    Other,
}

/// Routes by destination, as the provider syncs them (an internet gateway wins over a NAT
/// gateway when a route names both). `None` if the value is not a list of routes.
fn routes(v: &Value) -> Option<BTreeMap<String, Target>> {
    let items = match v {
        Value::Null => return Some(BTreeMap::new()),
        Value::List(items) => items,
        _ => return None,
    };
    let mut out = BTreeMap::new();
    for item in items {
        let Value::Map(route) = item else { return None };
        let destination = route.get("destination_cidr_block")?.as_str()?.to_owned();
        let text = |k: &str| {
            route
                .get(k)
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
        };
        let target = match (text("gateway_id"), text("nat_gateway_id")) {
            (Some(g), _) => Target::Gateway(g.to_owned()),
            (None, Some(n)) => Target::NatGateway(n.to_owned()),
            (None, None) => Target::Other,
        };
        out.insert(destination, target);
    }
    Some(out)
}

/// Taints by (key, effect) with their values (an empty value is none). `None` if the value is
/// not a list of taints.
type TaintSet = BTreeMap<(String, String), Option<String>>;

fn taints(v: &Value) -> Option<TaintSet> {
    let items = match v {
        Value::Null => return Some(BTreeMap::new()),
        Value::List(items) => items,
        _ => return None,
    };
    let mut out = BTreeMap::new();
    for item in items {
        let Value::Map(t) = item else { return None };
        let key = t.get("key")?.as_str()?.to_owned();
        let effect = t.get("effect")?.as_str()?.to_owned();
        let value = t
            .get("value")
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        out.insert((key, effect), value);
    }
    Some(out)
}

/// An alias target as Route 53 compares it: the DNS name normalised, the zone id without its
/// prefix, `evaluate_target_health` false unless set (as the provider writes it).
fn alias(v: &Value) -> Option<(String, String, bool)> {
    let Value::Map(m) = v else { return None };
    Some((
        dns_name(m.get("name")?.as_str()?),
        zone_id(m.get("zone_id")?.as_str()?).to_owned(),
        m.get("evaluate_target_health")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::value::Deferred;
    use AttrCmp::*;
    use serde_json::json;

    fn v(j: serde_json::Value) -> Value {
        Value::from_json(&j)
    }

    fn cmp(
        kind: Kind,
        name: &str,
        d: Option<serde_json::Value>,
        l: Option<serde_json::Value>,
    ) -> AttrCmp {
        compare(kind, name, d.map(v).as_ref(), l.map(v).as_ref())
    }

    fn unknown() -> Value {
        Value::unknown(Deferred::Concat(vec![Value::Str("vpc-".into())]))
    }

    // --- General rules ------------------------------------------------------------------

    #[test]
    fn unknown_desired_values_cannot_be_compared() {
        // Known only at apply: neither same nor different yet.
        assert_eq!(
            compare(
                Kind::Subnet,
                "vpc_id",
                Some(&unknown()),
                Some(&v(json!("vpc-1")))
            ),
            Unknown
        );
        let partly = Value::List(vec![v(json!("subnet-1")), unknown()]);
        assert_eq!(
            compare(Kind::EksCluster, "subnet_ids", Some(&partly), None),
            Unknown
        );
        assert!(!same_value(Kind::Subnet, "vpc_id", &unknown(), &unknown()));
    }

    #[test]
    fn null_is_absent_on_both_sides() {
        // `cond ? x : null` in a spec is the attribute left out.
        assert_eq!(
            cmp(
                Kind::EksCluster,
                "public_access_cidrs",
                Some(json!(null)),
                Some(json!(["0.0.0.0/0"]))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::IamRole,
                "description",
                Some(json!("x")),
                Some(json!(null))
            ),
            Differs
        );
        assert_eq!(cmp(Kind::Vpc, "cidr_block", None, None), Same);
    }

    #[test]
    fn omitted_attributes_aws_defaults_are_no_opinion() {
        // The update leaves what the spec omits alone, so AWS's defaults are not changes.
        assert_eq!(
            cmp(
                Kind::EksCluster,
                "service_ipv4_cidr",
                None,
                Some(json!("10.100.0.0/16"))
            ),
            Same
        );
        assert_eq!(
            cmp(Kind::RdsInstance, "port", None, Some(json!(5432))),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "preferred_backup_window",
                None,
                Some(json!("07:00-07:30"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "parameter_group_name",
                None,
                Some(json!("default.postgres16"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::SecurityGroup,
                "description",
                None,
                Some(json!("Managed by regionctl"))
            ),
            Same
        );
        assert_eq!(
            cmp(Kind::Vpc, "instance_tenancy", None, Some(json!("default"))),
            Same
        );
        assert_eq!(
            cmp(
                Kind::EksNodeGroup,
                "update_config",
                None,
                Some(json!({"max_unavailable": 1}))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::Route53HealthCheck,
                "enable_sni",
                None,
                Some(json!(true))
            ),
            Same
        );
    }

    #[test]
    fn whole_numbers_compare_whatever_their_type() {
        // YAML, references and AWS give 5 as Int, Float or text.
        assert_eq!(
            compare(
                Kind::RdsInstance,
                "port",
                Some(&Value::Float(5432.0)),
                Some(&Value::Int(5432))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "port",
                Some(json!("5432")),
                Some(json!(5432))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "port",
                Some(json!("05432")),
                Some(json!(5432))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "port",
                Some(json!(5433)),
                Some(json!(5432))
            ),
            Differs
        );
        assert_eq!(
            compare(
                Kind::RdsInstance,
                "port",
                Some(&Value::Float(5432.5)),
                Some(&Value::Int(5432))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::EksNodeGroup,
                "scaling",
                Some(json!({"min": 2.0, "desired": 3, "max": 6})),
                Some(json!({"min": 2, "desired": 3, "max": 6}))
            ),
            Same
        );
    }

    #[test]
    fn empty_collections_and_strings_equal_absent() {
        // AWS leaves empty lists, maps and descriptions out of what it reports.
        assert_eq!(cmp(Kind::RouteTable, "routes", Some(json!([])), None), Same);
        assert_eq!(
            cmp(Kind::EksNodeGroup, "labels", Some(json!({})), None),
            Same
        );
        assert_eq!(
            cmp(Kind::IamRole, "description", Some(json!("")), None),
            Same
        );
        assert_eq!(
            cmp(Kind::IamRole, "managed_policy_arns", None, Some(json!([]))),
            Same
        );
        assert!(same_value(
            Kind::EksNodeGroup,
            "labels",
            &v(json!({})),
            &Value::Null
        ));
    }

    #[test]
    fn nested_nulls_and_empties_are_left_out_of_maps() {
        // A block with `x: null` or `x: []` is the block without x.
        assert_eq!(
            cmp(
                Kind::EksNodeGroup,
                "update_config",
                Some(json!({"max_unavailable": 1, "max_unavailable_percentage": null})),
                Some(json!({"max_unavailable": 1}))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::EksNodeGroup,
                "update_config",
                Some(json!({"max_unavailable_percentage": 10})),
                Some(json!({"max_unavailable": 1}))
            ),
            Differs
        );
    }

    #[test]
    fn write_only_attributes_are_not_observable() {
        // RDS never reports these; the planner compares them with state.
        for name in [
            "master_password_env",
            "skip_final_snapshot",
            "final_snapshot_identifier",
            "apply_immediately",
            "allow_major_version_upgrade",
        ] {
            assert_eq!(
                cmp(Kind::RdsInstance, name, Some(json!("x")), None),
                NotObservable,
                "{name}"
            );
            assert_eq!(
                cmp(Kind::RdsInstance, name, None, None),
                NotObservable,
                "{name}"
            );
        }
        assert_eq!(
            cmp(
                Kind::ElasticacheReplicationGroup,
                "apply_immediately",
                Some(json!(true)),
                None
            ),
            NotObservable
        );
        // A value known only at apply cannot be compared with state either.
        assert_eq!(
            compare(
                Kind::RdsInstance,
                "final_snapshot_identifier",
                Some(&unknown()),
                None
            ),
            Unknown
        );
        assert!(same_value(
            Kind::RdsInstance,
            "skip_final_snapshot",
            &Value::Bool(true),
            &Value::Bool(true)
        ));
        assert!(!same_value(
            Kind::RdsInstance,
            "final_snapshot_identifier",
            &v(json!("a")),
            &v(json!("b"))
        ));
    }

    #[test]
    fn write_only_names_are_schema_fields() {
        for kind in Kind::ALL {
            let schema = crate::spec::schema::kinds::schema(kind);
            for name in write_only(kind) {
                assert!(schema.field(name).is_some(), "{kind}.{name} is not a field");
            }
        }
    }

    // --- Tags -----------------------------------------------------------------------------

    #[test]
    fn tags_are_managed_exactly() {
        // tag_changes removes every user tag the spec does not list.
        assert_eq!(
            cmp(Kind::Vpc, "tags", None, Some(json!({"team": "x"}))),
            Differs
        );
        assert_eq!(cmp(Kind::Vpc, "tags", None, None), Same);
        assert_eq!(
            cmp(
                Kind::Vpc,
                "tags",
                Some(json!({"team": "x"})),
                Some(json!({"team": "x"}))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::Vpc,
                "tags",
                Some(json!({"team": "x"})),
                Some(json!({"team": "y"}))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::Vpc,
                "tags",
                Some(json!({"team": "x"})),
                Some(json!({"team": "x", "extra": "1"}))
            ),
            Differs
        );
        assert_eq!(
            cmp(Kind::Vpc, "tags", Some(json!({"team": "x"})), None),
            Differs
        );
    }

    #[test]
    fn regionctl_tags_in_a_spec_are_ignored() {
        // The provider never writes or removes regionctl:* tags, whatever the spec says.
        assert_eq!(
            cmp(
                Kind::Subnet,
                "tags",
                Some(json!({"regionctl:stack": "hijack"})),
                None
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::Subnet,
                "tags",
                Some(json!({"a": "1", "regionctl:address": "x"})),
                Some(json!({"a": "1"}))
            ),
            Same
        );
    }

    // --- EC2 ------------------------------------------------------------------------------

    #[test]
    fn security_group_rules_absent_leave_aws_defaults() {
        // No egress in the spec keeps AWS's default allow-all egress rule.
        let default_egress = json!([{"protocol": "all", "cidr_blocks": ["0.0.0.0/0"]}]);
        assert_eq!(
            cmp(
                Kind::SecurityGroup,
                "egress",
                None,
                Some(default_egress.clone())
            ),
            Same
        );
        // An empty list is managed to be empty: the default rule would be revoked.
        assert_eq!(
            cmp(
                Kind::SecurityGroup,
                "egress",
                Some(json!([])),
                Some(default_egress)
            ),
            Differs
        );
    }

    #[test]
    fn a_rule_with_cidrs_and_a_source_group_is_one_grant_per_peer() {
        // AWS reports it as two rules; the provider converges grant by grant.
        let spec = json!([{"protocol": "tcp", "from_port": 5432, "to_port": 5432,
            "cidr_blocks": ["10.0.8.0/20", "10.0.9.0/20"], "source_security_group_id": "sg-1", "description": "db"}]);
        let live = json!([
            {"protocol": "tcp", "from_port": 5432, "to_port": 5432, "source_security_group_id": "sg-1", "description": "db"},
            {"protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": ["10.0.9.0/20"], "description": "db"},
            {"protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": ["10.0.8.0/20"], "description": "db"},
        ]);
        assert_eq!(
            cmp(Kind::SecurityGroup, "ingress", Some(spec), Some(live)),
            Same
        );
    }

    #[test]
    fn security_group_rules_normalise_protocols_ports_and_descriptions() {
        // -1 is all (ports meaningless), 6 is tcp, an empty description is none.
        let spec = json!([{"protocol": "all", "from_port": 0, "to_port": 65535, "cidr_blocks": ["0.0.0.0/0"], "description": ""}]);
        let live = json!([{"protocol": "-1", "cidr_blocks": ["0.0.0.0/0"]}]);
        assert_eq!(
            cmp(Kind::SecurityGroup, "egress", Some(spec), Some(live)),
            Same
        );
        let spec = json!([{"protocol": "icmp", "from_port": -1, "to_port": -1, "cidr_blocks": ["10.0.0.0/8"]}]);
        let live = json!([{"protocol": "1", "cidr_blocks": ["10.0.0.0/8"]}]);
        assert_eq!(
            cmp(Kind::SecurityGroup, "ingress", Some(spec), Some(live)),
            Same
        );
        let spec = json!([{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8"]}]);
        let live = json!([{"protocol": "6", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8"]}]);
        assert_eq!(
            cmp(Kind::SecurityGroup, "ingress", Some(spec), Some(live)),
            Same
        );
    }

    #[test]
    fn security_group_rule_changes_differ() {
        let live = json!([{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8"], "description": "x"}]);
        let changed_port = json!([{"protocol": "tcp", "from_port": 8443, "to_port": 8443, "cidr_blocks": ["10.0.0.0/8"], "description": "x"}]);
        let changed_description = json!([{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8"], "description": "y"}]);
        let added_cidr = json!([{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8", "192.168.0.0/16"], "description": "x"}]);
        for spec in [changed_port, changed_description, added_cidr] {
            assert_eq!(
                cmp(
                    Kind::SecurityGroup,
                    "ingress",
                    Some(spec.clone()),
                    Some(live.clone())
                ),
                Differs,
                "{spec}"
            );
        }
    }

    #[test]
    fn routes_compare_by_destination() {
        let spec = json!([{"destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": "nat-1"}, {"destination_cidr_block": "10.1.0.0/16", "gateway_id": "igw-1"}]);
        let live = json!([{"destination_cidr_block": "10.1.0.0/16", "gateway_id": "igw-1"}, {"destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": "nat-1"}]);
        assert_eq!(
            cmp(Kind::RouteTable, "routes", Some(spec), Some(live.clone())),
            Same
        );
        let retargeted = json!([{"destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": "nat-2"}, {"destination_cidr_block": "10.1.0.0/16", "gateway_id": "igw-1"}]);
        assert_eq!(
            cmp(
                Kind::RouteTable,
                "routes",
                Some(retargeted),
                Some(live.clone())
            ),
            Differs
        );
        // Absent routes are not managed; given ones exactly (an extra live route is deleted).
        assert_eq!(
            cmp(Kind::RouteTable, "routes", None, Some(live.clone())),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RouteTable,
                "routes",
                Some(json!([{"destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": "nat-1"}])),
                Some(live)
            ),
            Differs
        );
    }

    #[test]
    fn id_lists_compare_as_sets() {
        // AWS answers in its own order.
        assert_eq!(
            cmp(
                Kind::RouteTable,
                "subnet_ids",
                Some(json!(["subnet-b", "subnet-a"])),
                Some(json!(["subnet-a", "subnet-b"]))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::EksCluster,
                "subnet_ids",
                Some(json!(["b", "a", "a"])),
                Some(json!(["a", "b"]))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::DbSubnetGroup,
                "subnet_ids",
                Some(json!(["a", "b"])),
                Some(json!(["a", "c"]))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::Route53HealthCheck,
                "regions",
                Some(json!(["us-west-1", "eu-west-1", "us-east-1"])),
                Some(json!(["eu-west-1", "us-east-1", "us-west-1"]))
            ),
            Same
        );
    }

    // --- IAM ------------------------------------------------------------------------------

    #[test]
    fn policy_documents_compare_as_json() {
        // A map in the spec, JSON text, or AWS's decoded document: the same policy.
        let map = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let text = json!(
            r#"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"}}],"Version":"2012-10-17"}"#
        );
        assert_eq!(
            cmp(
                Kind::IamRole,
                "assume_role_policy",
                Some(text),
                Some(map.clone())
            ),
            Same
        );
        // A one-element list is its element, in IAM's reading.
        let listed = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"Service": ["eks.amazonaws.com"]}, "Action": ["sts:AssumeRole"]}});
        assert_eq!(
            cmp(
                Kind::IamRole,
                "assume_role_policy",
                Some(listed),
                Some(map.clone())
            ),
            Same
        );
        let other = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        assert_eq!(
            cmp(Kind::IamRole, "assume_role_policy", Some(other), Some(map)),
            Differs
        );
    }

    #[test]
    fn iam_attachments_and_inline_policies_are_managed_exactly() {
        // Absent detaches/deletes, so a live one differs.
        assert_eq!(
            cmp(
                Kind::IamRole,
                "managed_policy_arns",
                None,
                Some(json!(["arn:aws:iam::aws:policy/X"]))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::IamRole,
                "managed_policy_arns",
                Some(json!(["b", "a"])),
                Some(json!(["a", "b"]))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::IamRole,
                "inline_policies",
                None,
                Some(json!({"p": {"Version": "2012-10-17"}}))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::IamRole,
                "inline_policies",
                Some(json!({"p": "{\"Version\": \"2012-10-17\"}"})),
                Some(json!({"p": {"Version": "2012-10-17"}}))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::IamRole,
                "inline_policies",
                Some(json!({"p": {"Version": "2012-10-17"}})),
                Some(json!({"q": {"Version": "2012-10-17"}}))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::IamRole,
                "permissions_boundary",
                None,
                Some(json!("arn:aws:iam::1:policy/b"))
            ),
            Differs
        );
    }

    #[test]
    fn iam_description_absent_is_none_but_session_duration_is_kept() {
        // UpdateRole clears an omitted description; an omitted duration is left as AWS has it.
        assert_eq!(
            cmp(Kind::IamRole, "description", None, Some(json!("old"))),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::IamRole,
                "max_session_duration",
                None,
                Some(json!(3600))
            ),
            Same
        );
        assert_eq!(cmp(Kind::IamRole, "path", None, Some(json!("/"))), Same);
    }

    // --- EKS ------------------------------------------------------------------------------

    #[test]
    fn eks_cluster_lists_follow_the_update() {
        // security groups and logging absent are emptied; public CIDRs absent are kept.
        assert_eq!(
            cmp(
                Kind::EksCluster,
                "security_group_ids",
                None,
                Some(json!(["sg-1"]))
            ),
            Differs
        );
        assert_eq!(
            cmp(Kind::EksCluster, "logging", None, Some(json!(["api"]))),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::EksCluster,
                "logging",
                Some(json!(["audit", "api"])),
                Some(json!(["api", "audit"]))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::EksCluster,
                "public_access_cidrs",
                None,
                Some(json!(["0.0.0.0/0"]))
            ),
            Same
        );
        // An empty list is sent: it differs from AWS's default.
        assert_eq!(
            cmp(
                Kind::EksCluster,
                "public_access_cidrs",
                Some(json!([])),
                Some(json!(["0.0.0.0/0"]))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::EksCluster,
                "version",
                Some(json!("1.31")),
                Some(json!("1.31"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::EksCluster,
                "version",
                Some(json!("1.32")),
                Some(json!("1.31"))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::EksCluster,
                "authentication_mode",
                None,
                Some(json!("API_AND_CONFIG_MAP"))
            ),
            Same
        );
    }

    #[test]
    fn node_group_labels_and_taints_are_managed_exactly() {
        assert_eq!(
            cmp(
                Kind::EksNodeGroup,
                "labels",
                None,
                Some(json!({"pool": "a"}))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::EksNodeGroup,
                "labels",
                Some(json!({"pool": "a"})),
                Some(json!({"pool": "a"}))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::EksNodeGroup,
                "labels",
                Some(json!({"pool": "b"})),
                Some(json!({"pool": "a"}))
            ),
            Differs
        );
        let live = json!([{"key": "a", "effect": "NO_SCHEDULE"}, {"key": "b", "value": "1", "effect": "NO_EXECUTE"}]);
        assert_eq!(
            cmp(Kind::EksNodeGroup, "taints", None, Some(live.clone())),
            Differs
        );
        let spec = json!([{"key": "b", "value": "1", "effect": "NO_EXECUTE"}, {"key": "a", "value": "", "effect": "NO_SCHEDULE"}]);
        assert_eq!(
            cmp(Kind::EksNodeGroup, "taints", Some(spec), Some(live.clone())),
            Same
        );
        let spec = json!([{"key": "b", "value": "2", "effect": "NO_EXECUTE"}, {"key": "a", "effect": "NO_SCHEDULE"}]);
        assert_eq!(
            cmp(Kind::EksNodeGroup, "taints", Some(spec), Some(live)),
            Differs
        );
    }

    #[test]
    fn node_group_scaling_and_instance_types() {
        let live = json!({"min": 2, "desired": 3, "max": 6});
        assert_eq!(
            cmp(
                Kind::EksNodeGroup,
                "scaling",
                Some(json!({"min": 2, "desired": 3, "max": 6})),
                Some(live.clone())
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::EksNodeGroup,
                "scaling",
                Some(json!({"min": 2, "desired": 4, "max": 6})),
                Some(live)
            ),
            Differs
        );
        // Instance types keep their (priority) order; omitted, AWS's default is accepted.
        assert_eq!(
            cmp(
                Kind::EksNodeGroup,
                "instance_types",
                Some(json!(["m6i.large", "m5.large"])),
                Some(json!(["m5.large", "m6i.large"]))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::EksNodeGroup,
                "instance_types",
                None,
                Some(json!(["t3.medium"]))
            ),
            Same
        );
    }

    // --- RDS ------------------------------------------------------------------------------

    #[test]
    fn rds_engine_versions_match_by_prefix() {
        // RDS picks the minor version of a major-only spec.
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "engine_version",
                Some(json!("16")),
                Some(json!("16.4"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "engine_version",
                Some(json!("8.0")),
                Some(json!("8.0.35"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "engine_version",
                Some(json!("16.4")),
                Some(json!("16.4"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "engine_version",
                Some(json!("16.3")),
                Some(json!("16.4"))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "engine_version",
                Some(json!("1")),
                Some(json!("16.4"))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "engine_version",
                Some(json!("17")),
                Some(json!("16.4"))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "engine_version",
                None,
                Some(json!("16.4"))
            ),
            Same
        );
    }

    #[test]
    fn kms_aliases_are_the_same_as_any_key() {
        // An alias cannot be resolved offline and the attribute forces replacement.
        let arn =
            json!("arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab");
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "kms_key_id",
                Some(json!("alias/aws/rds")),
                Some(arn.clone())
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "kms_key_id",
                Some(json!("arn:aws:kms:us-west-2:123456789012:alias/mine")),
                Some(arn.clone())
            ),
            Same
        );
        // A key id is its ARN; another key differs.
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "kms_key_id",
                Some(json!("1234abcd-12ab-34cd-56ef-1234567890ab")),
                Some(arn.clone())
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "kms_key_id",
                Some(json!("arn:aws:kms:us-west-2:123456789012:key/other")),
                Some(arn.clone())
            ),
            Differs
        );
        // An alias asks for encryption: an unencrypted instance differs.
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "kms_key_id",
                Some(json!("alias/aws/rds")),
                None
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::ElasticacheReplicationGroup,
                "kms_key_id",
                Some(json!("alias/aws/elasticache")),
                Some(arn)
            ),
            Same
        );
        // Spec against state: two aliases are compared as written.
        assert!(!same_value(
            Kind::RdsInstance,
            "kms_key_id",
            &v(json!("alias/a")),
            &v(json!("alias/b"))
        ));
        assert!(same_value(
            Kind::RdsInstance,
            "kms_key_id",
            &v(json!("alias/a")),
            &v(json!("alias/a"))
        ));
    }

    #[test]
    fn rds_names_are_case_insensitive() {
        // RDS stores them lowercase, and identifier and subnet group force replacement.
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "identifier",
                Some(json!("Prod-App")),
                Some(json!("prod-app"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "db_subnet_group",
                Some(json!("Prod-App")),
                Some(json!("prod-app"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::DbSubnetGroup,
                "name",
                Some(json!("Prod-App")),
                Some(json!("prod-app"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "engine",
                Some(json!("postgres")),
                Some(json!("Postgres"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "preferred_maintenance_window",
                Some(json!("Sun:05:00-Sun:06:00")),
                Some(json!("sun:05:00-sun:06:00"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "identifier",
                Some(json!("prod-app2")),
                Some(json!("prod-app"))
            ),
            Differs
        );
    }

    #[test]
    fn rds_security_groups_empty_or_absent_are_left_alone() {
        // Diff::set sends nothing for an empty or absent list.
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "vpc_security_group_ids",
                None,
                Some(json!(["sg-1"]))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "vpc_security_group_ids",
                Some(json!([])),
                Some(json!(["sg-1"]))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "vpc_security_group_ids",
                Some(json!(["sg-2", "sg-1"])),
                Some(json!(["sg-1", "sg-2"]))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "vpc_security_group_ids",
                Some(json!(["sg-2"])),
                Some(json!(["sg-1"]))
            ),
            Differs
        );
    }

    #[test]
    fn rds_absent_storage_limit_disables_autoscaling() {
        // The update sets the limit to the allocated storage when the spec omits it.
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "max_allocated_storage",
                None,
                Some(json!(1000))
            ),
            Differs
        );
        assert_eq!(
            cmp(Kind::RdsInstance, "max_allocated_storage", None, None),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "max_allocated_storage",
                Some(json!(1000)),
                Some(json!(1000))
            ),
            Same
        );
    }

    #[test]
    fn rds_replication_sources() {
        let arn = "arn:aws:rds:us-east-1:123456789012:db:dr-app";
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "replicate_from",
                Some(json!(arn)),
                Some(json!(arn))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "replicate_from",
                Some(json!("DR-APP")),
                Some(json!(arn))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::RdsInstance,
                "replicate_from",
                Some(json!("arn:aws:rds:us-east-1:123456789012:db:other")),
                Some(json!(arn))
            ),
            Differs
        );
        // Removing it promotes the replica.
        assert_eq!(
            cmp(Kind::RdsInstance, "replicate_from", None, Some(json!(arn))),
            Differs
        );
        assert_eq!(
            cmp(Kind::RdsInstance, "replicate_from", Some(json!(arn)), None),
            Differs
        );
    }

    #[test]
    fn rds_context_rules() {
        let attrs = |j: serde_json::Value| match v(j) {
            Value::Map(m) => m,
            _ => unreachable!("an object"),
        };
        // Autoscaling grew the storage within the limit the spec set: not a change.
        let desired = attrs(
            json!({"allocated_storage": 100, "max_allocated_storage": 1000, "instance_class": "db.r6g.large"}),
        );
        let live = attrs(
            json!({"allocated_storage": 150, "max_allocated_storage": 1000, "instance_class": "db.r6g.large", "port": 5432}),
        );
        let out = compare_all(Kind::RdsInstance, &desired, &live);
        assert!(out.values().all(|c| *c == Same), "{out:?}");
        assert_eq!(
            compare(
                Kind::RdsInstance,
                "allocated_storage",
                desired.get("allocated_storage"),
                live.get("allocated_storage")
            ),
            Differs
        );
        // Beyond the limit, or without one, it differs.
        let live = attrs(json!({"allocated_storage": 1500, "max_allocated_storage": 1000}));
        assert_eq!(
            compare_all(Kind::RdsInstance, &desired, &live)["allocated_storage"],
            Differs
        );
        // A password from the environment while RDS manages it: the update turns management off.
        let desired = attrs(json!({"master_password_env": "PW"}));
        let live = attrs(json!({"manage_master_user_password": true}));
        let out = compare_all(Kind::RdsInstance, &desired, &live);
        assert_eq!(out["manage_master_user_password"], Differs);
        assert_eq!(out["master_password_env"], NotObservable);
        let live = attrs(json!({"manage_master_user_password": false}));
        assert_eq!(
            compare_all(Kind::RdsInstance, &desired, &live)["manage_master_user_password"],
            Same
        );
    }

    // --- ElastiCache and subnet groups ------------------------------------------------------

    #[test]
    fn cache_versions_compare_in_the_form_aws_takes() {
        assert_eq!(
            cmp(
                Kind::ElasticacheReplicationGroup,
                "engine_version",
                Some(json!("7.1")),
                Some(json!("7.1"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::ElasticacheReplicationGroup,
                "engine_version",
                Some(json!("7.1")),
                Some(json!("7.1.0"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::ElasticacheReplicationGroup,
                "engine_version",
                Some(json!("7.1.0")),
                Some(json!("7.1"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::ElasticacheReplicationGroup,
                "engine_version",
                Some(json!("5.0.6")),
                Some(json!("5.0.6"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::ElasticacheReplicationGroup,
                "engine_version",
                Some(json!("5.0.5")),
                Some(json!("5.0.6"))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::ElasticacheReplicationGroup,
                "engine_version",
                Some(json!("7.0")),
                Some(json!("7.1"))
            ),
            Differs
        );
    }

    #[test]
    fn absent_descriptions_are_the_default_the_provider_writes() {
        // ModifyReplicationGroup / Modify*SubnetGroup write "Managed by regionctl" when omitted.
        for kind in [
            Kind::ElasticacheReplicationGroup,
            Kind::DbSubnetGroup,
            Kind::CacheSubnetGroup,
        ] {
            assert_eq!(
                cmp(
                    kind,
                    "description",
                    None,
                    Some(json!("Managed by regionctl"))
                ),
                Same,
                "{kind}"
            );
            assert_eq!(
                cmp(kind, "description", None, Some(json!("something else"))),
                Differs,
                "{kind}"
            );
            assert_eq!(
                cmp(kind, "description", Some(json!("x")), Some(json!("x"))),
                Same,
                "{kind}"
            );
        }
        // A security group's description cannot change: any live one is accepted.
        assert_eq!(
            cmp(
                Kind::SecurityGroup,
                "description",
                None,
                Some(json!("something else"))
            ),
            Same
        );
    }

    #[test]
    fn elasticache_ids_are_lowercase() {
        assert_eq!(
            cmp(
                Kind::ElasticacheReplicationGroup,
                "replication_group_id",
                Some(json!("Prod-App")),
                Some(json!("prod-app"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::ElasticacheReplicationGroup,
                "cache_subnet_group",
                Some(json!("Prod-App")),
                Some(json!("prod-app"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::CacheSubnetGroup,
                "name",
                Some(json!("Prod-App")),
                Some(json!("prod-app"))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::ElasticacheReplicationGroup,
                "node_type",
                Some(json!("cache.r7g.xlarge")),
                Some(json!("cache.r7g.large"))
            ),
            Differs
        );
    }

    // --- Route 53 ----------------------------------------------------------------------------

    #[test]
    fn dns_names_ignore_case_the_final_dot_and_escapes() {
        assert_eq!(
            cmp(
                Kind::Route53Zone,
                "name",
                Some(json!("Example.com")),
                Some(json!("example.com."))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::Route53Record,
                "name",
                Some(json!("*.example.com")),
                Some(json!("\\052.example.com."))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::Route53Record,
                "name",
                Some(json!("api.example.com")),
                Some(json!("www.example.com"))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::Route53Record,
                "zone_id",
                Some(json!("/hostedzone/Z123")),
                Some(json!("Z123"))
            ),
            Same
        );
    }

    #[test]
    fn records_are_written_whole() {
        // The update UPSERTs the desired record set: omitted parts are removed.
        assert_eq!(
            cmp(
                Kind::Route53Record,
                "health_check_id",
                None,
                Some(json!("hc-1"))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::Route53Record,
                "routing",
                None,
                Some(json!({"failover": "PRIMARY"}))
            ),
            Differs
        );
        assert_eq!(
            cmp(Kind::Route53Record, "ttl", None, Some(json!(300))),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::Route53Record,
                "routing",
                Some(json!({"latency": {"region": "eu-west-1"}})),
                Some(json!({"latency": {"region": "eu-west-1"}}))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::Route53Record,
                "records",
                Some(json!(["b", "a"])),
                Some(json!(["a", "b"]))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::Route53Record,
                "records",
                Some(json!(["\"v=spf1 -all\""])),
                Some(json!(["\"v=spf1 ~all\""]))
            ),
            Differs
        );
    }

    #[test]
    fn alias_targets_normalise_names_and_default_health_evaluation() {
        let live = json!({"name": "lb-1.eu-west-1.elb.amazonaws.com", "zone_id": "Z32O12XQLNTSW2", "evaluate_target_health": false});
        let spec =
            json!({"name": "LB-1.eu-west-1.elb.amazonaws.com.", "zone_id": "Z32O12XQLNTSW2"});
        assert_eq!(
            cmp(Kind::Route53Record, "alias", Some(spec), Some(live.clone())),
            Same
        );
        let spec = json!({"name": "lb-1.eu-west-1.elb.amazonaws.com", "zone_id": "Z32O12XQLNTSW2", "evaluate_target_health": true});
        assert_eq!(
            cmp(Kind::Route53Record, "alias", Some(spec), Some(live)),
            Differs
        );
    }

    #[test]
    fn health_checks_reset_what_the_spec_removes() {
        // fqdn, resource_path and regions are reset; the rest keeps AWS's value.
        assert_eq!(
            cmp(
                Kind::Route53HealthCheck,
                "resource_path",
                None,
                Some(json!("/health"))
            ),
            Differs
        );
        assert_eq!(
            cmp(
                Kind::Route53HealthCheck,
                "regions",
                None,
                Some(json!(["us-east-1"]))
            ),
            Differs
        );
        assert_eq!(
            cmp(Kind::Route53HealthCheck, "port", None, Some(json!(443))),
            Same
        );
        assert_eq!(
            cmp(
                Kind::Route53HealthCheck,
                "failure_threshold",
                Some(json!(3)),
                Some(json!(3))
            ),
            Same
        );
        assert_eq!(
            cmp(
                Kind::Route53HealthCheck,
                "failure_threshold",
                Some(json!(2)),
                Some(json!(3))
            ),
            Differs
        );
    }

    #[test]
    fn zone_comments_are_cleared_when_removed() {
        assert_eq!(
            cmp(Kind::Route53Zone, "comment", None, Some(json!("old"))),
            Differs
        );
        assert_eq!(
            cmp(Kind::Route53Zone, "comment", Some(json!("")), None),
            Same
        );
    }

    #[test]
    fn same_value_uses_the_same_normalisation() {
        // State against live for drift: sets, case and versions as in compare.
        assert!(same_value(
            Kind::EksCluster,
            "subnet_ids",
            &v(json!(["b", "a"])),
            &v(json!(["a", "b"]))
        ));
        assert!(same_value(
            Kind::RdsInstance,
            "engine_version",
            &v(json!("16")),
            &v(json!("16.4"))
        ));
        assert!(same_value(
            Kind::Route53Zone,
            "name",
            &v(json!("Example.com.")),
            &v(json!("example.com"))
        ));
        assert!(!same_value(
            Kind::EksNodeGroup,
            "scaling",
            &v(json!({"min": 1, "desired": 2, "max": 3})),
            &v(json!({"min": 1, "desired": 3, "max": 3}))
        ));
        assert!(!same_value(
            Kind::Vpc,
            "tags",
            &v(json!({"a": "1"})),
            &v(json!({"a": "2"}))
        ));
    }
}

//! The state file: what regionctl last applied in one environment, and what AWS computed.
//!
//! One state per environment, so regions apply and lock independently. The JSON is versioned
//! (`format_version`) and every write increases `serial`; `lineage` is fixed when a state is first
//! created, so a saved plan or a backup from another lineage is never mistaken for this one.

use std::collections::{BTreeMap, BTreeSet};

use crate::addr::InstanceAddr;
use crate::kind::Kind;
use crate::resource::{Attrs, Observed, Status, serde_attrs};

/// The state format this build reads and writes. A newer file is refused, not misread.
pub const STATE_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct State {
    pub format_version: u32,
    /// The regionctl version that wrote the file, for support questions.
    pub regionctl_version: String,
    /// The project name (`regionctl:stack` tag value).
    pub stack: String,
    /// The environment this state belongs to (`eu-west-1`, `global`).
    pub env: String,
    /// Fixed at creation; a random-looking id.
    pub lineage: String,
    /// Increases by one on every write.
    pub serial: u64,
    pub resources: BTreeMap<InstanceAddr, StateResource>,
    /// The environment's `outputs:` as the last apply evaluated them (every reference resolved),
    /// so `regionctl output` and `regionctl kubeconfig` read them without AWS. An output whose
    /// value was not known (a resource missing) is left out. Absent in states written before
    /// outputs were recorded, which read as none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, serde_json::Value>,
}

/// One managed resource.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StateResource {
    pub kind: Kind,
    /// The API region (the global region for IAM and Route 53).
    pub region: String,
    /// The identifier the provider reads, updates and deletes by.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// The attributes last applied: the spec's values with every reference resolved (after an
    /// import: the values read from AWS). Drift is measured against these.
    #[serde(with = "serde_attrs")]
    pub attrs: Attrs,
    /// Attributes AWS computed, as references read them (`id`, `arn`, `endpoint` ...).
    #[serde(with = "serde_attrs")]
    pub computed: Attrs,
    /// What the resource depended on when applied, so it can be destroyed in a safe order after
    /// it has left the spec.
    #[serde(default)]
    pub deps: BTreeSet<InstanceAddr>,
    #[serde(default)]
    pub protect: bool,
    /// Why the resource may still be changing in AWS, when it may: AWS reported it in a
    /// transitional state when it was recorded (`creating`: an import or an adoption of
    /// something still being made), or a change to it failed or was abandoned before AWS was
    /// done with it. `plan --refresh changed` reads such a resource from AWS rather than
    /// trusting this record, and the next apply that records it ready clears it. Absent in
    /// states written before it existed, which read as nothing pending (older regionctl builds
    /// ignore it), so the format version stays 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
}

impl State {
    /// An empty state for a new environment.
    pub fn new(stack: &str, env: &str) -> State {
        State {
            format_version: STATE_FORMAT_VERSION,
            regionctl_version: env!("CARGO_PKG_VERSION").to_owned(),
            stack: stack.to_owned(),
            env: env.to_owned(),
            lineage: crate::hash::unique_id(&[stack, env]),
            serial: 0,
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
        }
    }
}

impl StateResource {
    /// What an apply records after creating or updating a resource: the values it sent (`applied`,
    /// references resolved) and what AWS reports.
    pub fn applied(
        observed: &Observed,
        applied: Attrs,
        deps: BTreeSet<InstanceAddr>,
        protect: bool,
    ) -> StateResource {
        StateResource {
            kind: observed.kind,
            region: observed.region.clone(),
            id: observed.id.clone(),
            arn: observed
                .computed
                .get("arn")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            attrs: applied,
            computed: observed.computed.clone(),
            deps,
            protect,
            pending: pending_of(&observed.status),
        }
    }
}

/// What [`StateResource::pending`] records of a status AWS reported: nothing once ready.
pub fn pending_of(status: &Status) -> Option<String> {
    match status {
        Status::Ready => None,
        Status::Pending(s) | Status::Deleting(s) | Status::Failed(s) => Some(s.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::value::Value;

    #[test]
    fn round_trips_through_json_with_display_addresses() {
        let addr: InstanceAddr = "eu-west-1/subnet.private[\"eu-west-1a\"]"
            .parse()
            .expect("valid");
        let observed = Observed {
            kind: Kind::Subnet,
            region: "eu-west-1".into(),
            id: "subnet-1".into(),
            attrs: Attrs::new(),
            computed: [("arn".to_owned(), Value::Str("arn:aws:ec2:x".into()))]
                .into_iter()
                .collect(),
            tags: BTreeMap::new(),
            status: Status::Ready,
        };
        let mut state = State::new("platform", "eu-west-1");
        let applied: Attrs = [("cidr_block".to_owned(), Value::Str("10.0.0.0/24".into()))]
            .into_iter()
            .collect();
        state.resources.insert(
            addr.clone(),
            StateResource::applied(&observed, applied, BTreeSet::new(), false),
        );
        let text = serde_json::to_string_pretty(&state).expect("serialises");
        assert!(
            text.contains("\"eu-west-1/subnet.private[\\\"eu-west-1a\\\"]\""),
            "{text}"
        );
        let back: State = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, state);
        assert_eq!(back.resources[&addr].arn.as_deref(), Some("arn:aws:ec2:x"));
        assert_ne!(State::new("p", "e").lineage, State::new("p", "e").lineage);
    }

    #[test]
    fn a_state_without_pending_flags_loads_and_a_pending_resource_round_trips() {
        // A resource as states written before the flag existed record it.
        let old = r#"{"format_version": 1, "regionctl_version": "0.1.0", "stack": "p",
            "env": "eu-west-1", "lineage": "l", "serial": 3, "resources": {
            "eu-west-1/vpc.main": {"kind": "vpc", "region": "eu-west-1", "id": "vpc-1",
            "attrs": {}, "computed": {}}}}"#;
        let state: State = serde_json::from_str(old).expect("an old state loads");
        let addr: InstanceAddr = "eu-west-1/vpc.main".parse().expect("valid");
        assert_eq!(state.resources[&addr].pending, None);
        let text = serde_json::to_string(&state).expect("serialises");
        assert!(
            !text.contains("pending"),
            "nothing pending, nothing written: {text}"
        );

        let observed = Observed {
            kind: Kind::Vpc,
            region: "eu-west-1".into(),
            id: "vpc-1".into(),
            attrs: Attrs::new(),
            computed: Attrs::new(),
            tags: BTreeMap::new(),
            status: Status::Pending("creating".into()),
        };
        let r = StateResource::applied(&observed, Attrs::new(), BTreeSet::new(), false);
        assert_eq!(r.pending.as_deref(), Some("creating"));
        let back: StateResource =
            serde_json::from_str(&serde_json::to_string(&r).expect("serialises")).expect("parses");
        assert_eq!(back, r);
        let ready = Observed {
            status: Status::Ready,
            ..observed
        };
        assert_eq!(
            StateResource::applied(&ready, Attrs::new(), BTreeSet::new(), false).pending,
            None
        );
    }
}

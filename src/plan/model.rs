//! The plan: inert data saying what an apply would do, and why. Made by `plan::diff` (pure),
//! printed by `render::plan`, saved with `--out` and executed by apply.

use crate::addr::InstanceAddr;
use crate::kind::Kind;
use crate::resource::Attrs;
use crate::spec::value::{Deferred, Value};

/// The saved-plan format this build reads and writes.
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// What happens to one resource.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Create,
    Update,
    Replace,
    Delete,
}

impl Action {
    /// The actions in Terraform's JSON plan vocabulary (`["delete", "create"]` for a replace
    /// that destroys first).
    pub fn terraform(self, order: Option<ReplaceOrder>) -> &'static [&'static str] {
        match (self, order) {
            (Action::NoOp, _) => &["no-op"],
            (Action::Create, _) => &["create"],
            (Action::Update, _) => &["update"],
            (Action::Delete, _) => &["delete"],
            (Action::Replace, Some(ReplaceOrder::CreateBeforeDestroy)) => &["create", "delete"],
            (Action::Replace, _) => &["delete", "create"],
        }
    }

    pub fn is_change(self) -> bool {
        self != Action::NoOp
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplaceOrder {
    /// The new resource is created first (nothing unique about it clashes with the old one).
    CreateBeforeDestroy,
    /// The old resource must go first: its name is unique and does not change.
    DestroyBeforeCreate,
}

/// Why a resource gets its action.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "detail")]
pub enum Reason {
    /// Desired and live agree.
    Unchanged,
    /// In the spec, nothing in state or AWS.
    NotInAws,
    /// In state, but AWS no longer has it.
    DeletedOutside,
    /// Live attributes differ from the spec (`ResourceChange::changed` lists them).
    AttributesDiffer,
    /// In state (or tagged with this stack), no longer in the spec.
    RemovedFromSpec,
    /// Tagged with this stack and an address of this environment, but in neither the spec nor
    /// the state: left behind by an interrupted run.
    Orphan,
    /// AWS reports the resource as failed (e.g. CREATE_FAILED); it cannot be repaired in place.
    Failed(String),
}

/// One resource in the plan.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ResourceChange {
    pub addr: InstanceAddr,
    pub kind: Kind,
    /// The API region (the global region for IAM and Route 53).
    pub region: String,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_order: Option<ReplaceOrder>,
    pub reason: Reason,
    /// The id of the existing resource (update, replace, delete, no-op).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The live attributes (from the refresh), `None` for a create.
    #[serde(default, with = "opt_plan_attrs")]
    pub before: Option<Attrs>,
    /// The desired attributes, `None` for a delete. Parts not known until apply are
    /// `Value::Unknown`.
    #[serde(default, with = "opt_plan_attrs")]
    pub after: Option<Attrs>,
    /// Attributes whose value changes (update and replace), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    /// The subset of `changed` that cannot be changed in place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forces_replacement: Vec<String>,
    /// Attribute names whose values are never shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
    /// Found in AWS by its tags or name but not in state: apply records it instead of creating.
    #[serde(default)]
    pub adopt: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deps: Vec<InstanceAddr>,
    #[serde(default)]
    pub protect: bool,
    /// Set when the plan refuses this change (a protected resource, an EKS cluster or an RDS
    /// instance replaced or deleted without `--allow-*`): the whole message, with the fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
}

/// A difference between what regionctl last applied (state) and what AWS has now.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Drift {
    pub addr: InstanceAddr,
    pub kind: Kind,
    pub region: String,
    pub id: String,
    /// The resource is gone from AWS.
    pub deleted: bool,
    /// Attributes that changed: name, value in state, value in AWS.
    #[serde(default)]
    pub attrs: Vec<AttrDrift>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AttrDrift {
    pub name: String,
    #[serde(with = "plan_value")]
    pub state: Value,
    #[serde(with = "plan_value")]
    pub live: Value,
    /// Never shown.
    #[serde(default)]
    pub sensitive: bool,
}

/// Identity of the state a plan was made from; apply refuses the plan if it moved on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StateRef {
    pub lineage: String,
    pub serial: u64,
}

/// The plan of one environment (one state).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EnvPlan {
    pub env: String,
    /// `None` for the global environment.
    pub region: Option<String>,
    /// The state planned against; `None` when the environment has no state yet.
    pub prior_state: Option<StateRef>,
    /// Every resource of the environment, in apply order (dependencies first, deletes last),
    /// no-ops included.
    pub changes: Vec<ResourceChange>,
    pub drift: Vec<Drift>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub regionctl_version: String,
    pub stack: String,
    /// Fingerprint of every spec file and variable the plan was made from.
    pub spec_hash: String,
    /// `--target` addresses the plan was limited to (empty: everything).
    #[serde(default)]
    pub targets: Vec<InstanceAddr>,
    pub envs: Vec<EnvPlan>,
    /// Resources a changed-only plan (`--refresh changed`) did not read from AWS: their
    /// recorded state stood in for them, so drift in them does not show. Empty for a full plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_refreshed: Vec<InstanceAddr>,
}

/// Counts per action, for summary lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub no_op: usize,
    pub adopt: usize,
    pub drifted: usize,
    pub refused: usize,
}

impl Summary {
    pub fn of<'a>(changes: impl IntoIterator<Item = &'a ResourceChange>) -> Summary {
        let mut s = Summary::default();
        for c in changes {
            match c.action {
                Action::NoOp => s.no_op += 1,
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Replace => s.replace += 1,
                Action::Delete => s.delete += 1,
            }
            s.adopt += usize::from(c.adopt);
            s.refused += usize::from(c.refusal.is_some());
        }
        s
    }

    /// Whether applying would change anything, in AWS or in state.
    pub fn has_changes(&self) -> bool {
        self.create + self.update + self.replace + self.delete + self.adopt > 0
    }
}

impl EnvPlan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::of(&self.changes);
        s.drifted = self.drift.len();
        s
    }
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut total = Summary::of(self.changes());
        total.drifted = self.envs.iter().map(|e| e.drift.len()).sum();
        total
    }

    pub fn changes(&self) -> impl Iterator<Item = &ResourceChange> {
        self.envs.iter().flat_map(|e| e.changes.iter())
    }

    pub fn refusals(&self) -> impl Iterator<Item = &ResourceChange> {
        self.changes().filter(|c| c.refusal.is_some())
    }
}

/// The placeholder a saved plan reads back for a value not known until apply. Apply does not
/// use it: it re-evaluates the spec, whose hash the plan pins.
const UNKNOWN_KEY: &str = "$unknown";

fn unknown_placeholder() -> Value {
    Value::unknown(Deferred::Call {
        name: UNKNOWN_KEY.to_owned(),
        args: Vec::new(),
    })
}

/// Values as JSON, keeping unknowns as `{"$unknown": true}` so a saved plan still shows
/// `(known after apply)` where it did.
pub mod plan_value {
    use super::*;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn to_json(v: &Value) -> serde_json::Value {
        use serde_json::Value as J;
        match v {
            Value::Unknown(_) => J::Object(
                [(UNKNOWN_KEY.to_owned(), J::Bool(true))]
                    .into_iter()
                    .collect(),
            ),
            Value::List(items) => J::Array(items.iter().map(to_json).collect()),
            Value::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
            other => other.to_json(),
        }
    }

    pub fn from_json(j: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match j {
            J::Object(m) if m.len() == 1 && m.contains_key(UNKNOWN_KEY) => unknown_placeholder(),
            J::Object(m) => Value::Map(m.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
            J::Array(items) => Value::List(items.iter().map(from_json).collect()),
            other => Value::from_json(other),
        }
    }

    pub fn serialize<S: Serializer>(v: &Value, ser: S) -> Result<S::Ok, S::Error> {
        to_json(v).serialize(ser)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Value, D::Error> {
        Ok(from_json(&serde_json::Value::deserialize(de)?))
    }
}

mod opt_plan_attrs {
    use super::*;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(attrs: &Option<Attrs>, ser: S) -> Result<S::Ok, S::Error> {
        attrs
            .as_ref()
            .map(|a| {
                a.iter()
                    .map(|(k, v)| (k.clone(), plan_value::to_json(v)))
                    .collect::<serde_json::Map<_, _>>()
            })
            .serialize(ser)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Attrs>, D::Error> {
        let map = Option::<serde_json::Map<String, serde_json::Value>>::deserialize(de)?;
        Ok(map.map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), plan_value::from_json(v)))
                .collect()
        }))
    }
}

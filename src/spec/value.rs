//! Values of the spec language.
//!
//! Expressions are evaluated before anything exists in AWS, so a value may be partly unknown: the
//! `id` of a VPC not yet created, or a string built from it. Such parts are `Value::Unknown`
//! holding a [`Deferred`] residual expression. Its only free variables are resource attribute
//! [`Reference`]s, so once those are known (at apply time) the residual can be evaluated by
//! `expr::resolve`. This keeps one evaluator for plan and apply, and the plan can still show
//! `(known after apply)` exactly where a value depends on something not yet created.

use std::collections::BTreeMap;
use std::fmt;

use crate::addr::{EnvName, InstanceAddr, InstanceKey};
use crate::kind::Kind;
use crate::source::Span;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// Not known until apply.
    Unknown(Box<Deferred>),
}

/// A residual expression over resource attributes that are not known yet.
#[derive(Debug, Clone, PartialEq)]
pub enum Deferred {
    /// An attribute of a resource, e.g. `vpc.main.id`.
    Ref(Reference),
    /// String interpolation with at least one unknown part; known parts are `Value::Str`.
    Concat(Vec<Value>),
    /// A function applied to arguments of which at least one is unknown.
    Call { name: String, args: Vec<Value> },
    /// `base[key]` or `base.name` where the base or key is unknown.
    Index { base: Value, key: Value },
    /// A unary or binary operator with an unknown operand (`op` as written: `!`, `-`, `+`, `==`, ...).
    Op { op: String, args: Vec<Value> },
    /// `cond ? a : b` with an unknown condition.
    Cond {
        cond: Value,
        then: Value,
        otherwise: Value,
    },
}

/// A reference to an attribute of another resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub target: RefTarget,
    /// The attribute read, e.g. `id`, `arn`, `endpoint`.
    pub attr: String,
    /// Where the reference is written, for diagnostics.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RefTarget {
    /// As written, before the set of instances is known. The expansion stage links every such
    /// target (checking it exists and has the attribute) before a `Spec` is returned.
    Unresolved {
        env: EnvName,
        module: Vec<String>,
        kind: Kind,
        name: String,
        selector: Selector,
    },
    /// A linked target: one resource instance.
    Resolved { addr: InstanceAddr },
}

/// Which instances of a resource block a reference selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `vpc.main`: the block has no `for_each`.
    Single,
    /// `subnet.private["eu-west-1a"]`
    Key(InstanceKey),
    /// `subnet.private[*]`: a list of every instance, in key order.
    All,
}

impl Value {
    pub fn unknown(d: Deferred) -> Value {
        Value::Unknown(Box::new(d))
    }

    /// True if any part of the value is unknown.
    pub fn has_unknown(&self) -> bool {
        match self {
            Value::Unknown(_) => true,
            Value::List(items) => items.iter().any(Value::has_unknown),
            Value::Map(m) => m.values().any(Value::has_unknown),
            _ => false,
        }
    }

    /// A short name of the value's type, for messages such as "expected a list, found string".
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Unknown(_) => "unknown value",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Visits this value and every value inside it, including the parts of residual
    /// expressions, parents before children.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Value)) {
        f(self);
        match self {
            Value::List(items) => items.iter().for_each(|v| v.walk(f)),
            Value::Map(m) => m.values().for_each(|v| v.walk(f)),
            Value::Unknown(d) => match d.as_ref() {
                Deferred::Ref(_) => {}
                Deferred::Concat(vs)
                | Deferred::Call { args: vs, .. }
                | Deferred::Op { args: vs, .. } => vs.iter().for_each(|v| v.walk(f)),
                Deferred::Index { base, key } => {
                    base.walk(f);
                    key.walk(f);
                }
                Deferred::Cond {
                    cond,
                    then,
                    otherwise,
                } => {
                    cond.walk(f);
                    then.walk(f);
                    otherwise.walk(f);
                }
            },
            _ => {}
        }
    }

    /// Every resource reference inside the value, including inside residual expressions.
    pub fn references(&self) -> Vec<&Reference> {
        let mut out = Vec::new();
        self.walk(&mut |v| {
            if let Value::Unknown(d) = v
                && let Deferred::Ref(r) = d.as_ref()
            {
                out.push(r);
            }
        });
        out
    }

    /// Rewrites every reference in place (used by the linker), keeping the value's shape.
    pub fn map_refs(self, f: &mut impl FnMut(Reference) -> Value) -> Value {
        match self {
            Value::List(items) => Value::List(items.into_iter().map(|v| v.map_refs(f)).collect()),
            Value::Map(m) => Value::Map(m.into_iter().map(|(k, v)| (k, v.map_refs(f))).collect()),
            Value::Unknown(d) => match *d {
                Deferred::Ref(r) => f(r),
                Deferred::Concat(vs) => Value::unknown(Deferred::Concat(
                    vs.into_iter().map(|v| v.map_refs(f)).collect(),
                )),
                Deferred::Call { name, args } => Value::unknown(Deferred::Call {
                    name,
                    args: args.into_iter().map(|v| v.map_refs(f)).collect(),
                }),
                Deferred::Op { op, args } => Value::unknown(Deferred::Op {
                    op,
                    args: args.into_iter().map(|v| v.map_refs(f)).collect(),
                }),
                Deferred::Index { base, key } => Value::unknown(Deferred::Index {
                    base: base.map_refs(f),
                    key: key.map_refs(f),
                }),
                Deferred::Cond {
                    cond,
                    then,
                    otherwise,
                } => Value::unknown(Deferred::Cond {
                    cond: cond.map_refs(f),
                    then: then.map_refs(f),
                    otherwise: otherwise.map_refs(f),
                }),
            },
            other => other,
        }
    }

    /// Converts to JSON for machine-readable output; unknown parts become `null` and are listed
    /// separately by callers that need to say "(known after apply)".
    /// The inverse of [`Value::to_json`] for known values (JSON has no unknowns).
    pub fn from_json(json: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Value::Str(s.clone()),
            J::Array(items) => Value::List(items.iter().map(Value::from_json).collect()),
            J::Object(m) => Value::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null | Value::Unknown(_) => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::List(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            RefTarget::Resolved { addr } => write!(f, "{}.{}", addr, self.attr),
            RefTarget::Unresolved {
                env,
                module,
                kind,
                name,
                selector,
            } => {
                write!(f, "{env}/")?;
                for m in module {
                    write!(f, "module.{m}.")?;
                }
                write!(f, "{kind}.{name}")?;
                match selector {
                    Selector::Single => {}
                    Selector::Key(k) => write!(f, "{k}")?,
                    Selector::All => f.write_str("[*]")?,
                }
                write!(f, ".{}", self.attr)
            }
        }
    }
}

/// Human form used in plans and diagnostics: strings quoted, unknown parts as `(known after apply)`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} = {v}")?;
                }
                f.write_str("}")
            }
            Value::Unknown(_) => f.write_str("(known after apply)"),
        }
    }
}

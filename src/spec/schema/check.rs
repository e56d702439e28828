//! Checks evaluated attribute values against a kind's schema.
//!
//! Values are checked together with the YAML nodes they came from, so an error inside a literal
//! list or map points at the exact element; a value computed by an expression is reported at the
//! expression. The checker also normalises harmless spellings (a whole number where a string is
//! expected becomes that string) so later stages compare like with like.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::kind::Kind;
use crate::source::{SourceMap, Span};
use crate::spec::cidr::Ipv4Cidr;
use crate::spec::value::{Deferred, RefTarget, Value};
use crate::spec::yaml::{Node, NodeValue};

use super::types::{KindSchema, Ty};

/// Checks every attribute of one resource; returns the normalised attributes.
pub fn check_resource(
    sources: &SourceMap,
    schema: &KindSchema,
    key_span: Span,
    attrs: Vec<(&crate::spec::yaml::Key, &Node, Value)>,
    written: &[&str],
    d: &mut Diagnostics,
) -> BTreeMap<String, Value> {
    // Attributes that are written but failed to evaluate were already reported; calling them
    // missing too would only add noise. One written as `null` counts as absent.
    let failed: Vec<&str> = written
        .iter()
        .copied()
        .filter(|w| !attrs.iter().any(|(k, _, _)| k.name == *w))
        .collect();
    let mut out = BTreeMap::new();
    for (key, node, value) in attrs {
        let Some(field) = schema.field(&key.name) else {
            d.push(unknown_attr(schema, &key.name, key.span));
            continue;
        };
        if value == Value::Null {
            // `attr: null` is the same as leaving it out (useful in modules with optional inputs).
            continue;
        }
        let v = check_value(
            sources,
            &field.ty,
            Some(node),
            node.span,
            value,
            field.name,
            d,
        );
        out.insert(key.name.clone(), v);
    }
    for field in schema.fields.iter().filter(|f| f.required) {
        if !out.contains_key(field.name) && !failed.contains(&field.name) {
            d.push(
                Diagnostic::error(
                    "spec::missing-field",
                    format!(
                        "{} is missing required attribute `{}`",
                        schema.kind, field.name
                    ),
                )
                .with_label(
                    key_span,
                    format!("this {} needs `{}`", schema.kind, field.name),
                )
                .with_help(format!("`{}`: {}", field.name, field.doc)),
            );
        }
    }
    out
}

fn unknown_attr(schema: &KindSchema, name: &str, span: Span) -> Diagnostic {
    if schema.computed(name).is_some() {
        return Diagnostic::error(
            "spec::computed-attr",
            format!(
                "`{name}` of {} is computed by AWS and cannot be set",
                schema.kind
            ),
        )
        .with_label(span, "computed attribute")
        .with_help(format!(
            "other resources can read it as `{}.<name>.{name}`",
            schema.kind
        ));
    }
    let mut diag = Diagnostic::error(
        "spec::unknown-field",
        format!("{} has no attribute `{name}`", schema.kind),
    )
    .with_label(span, "unknown attribute");
    let names: Vec<&str> = schema
        .fields
        .iter()
        .map(|f| f.name)
        .chain(crate::spec::model::META_ATTRS)
        .collect();
    diag = match did_you_mean(name, names.iter().copied()) {
        Some(s) => diag.with_help(format!("did you mean `{s}`?")),
        None => diag.with_help(format!("{} accepts: {}", schema.kind, names.join(", "))),
    };
    diag
}

fn mismatch(span: Span, path: &str, expected: &str, found: &Value) -> Diagnostic {
    Diagnostic::error(
        "spec::type",
        format!("`{path}`: expected {expected}, found {}", found.type_name()),
    )
    .with_label(span, format!("expected {expected}"))
}

/// A child node of a literal list/map, if the value still mirrors the YAML structure.
fn child<'n>(node: Option<&'n Node>, key: ChildKey) -> Option<&'n Node> {
    match (node.map(|n| &n.value), key) {
        (Some(NodeValue::Seq(items)), ChildKey::Index(i)) => items.get(i),
        (Some(NodeValue::Map(entries)), ChildKey::Name(k)) => {
            entries.iter().find(|(ek, _)| ek.name == k).map(|(_, n)| n)
        }
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum ChildKey<'k> {
    Index(usize),
    Name(&'k str),
}

fn key_span(node: Option<&Node>, name: &str) -> Option<Span> {
    node?
        .as_map()?
        .iter()
        .find(|(k, _)| k.name == name)
        .map(|(k, _)| k.span)
}

pub fn check_value(
    sources: &SourceMap,
    ty: &Ty,
    node: Option<&Node>,
    span: Span,
    value: Value,
    path: &str,
    d: &mut Diagnostics,
) -> Value {
    if let Value::Unknown(deferred) = &value {
        if let (Ty::RefTo { kind, attr }, Deferred::Ref(r)) = (ty, deferred.as_ref()) {
            check_ref_kind(*kind, attr, r, span, path, d);
        }
        return value;
    }
    match ty {
        Ty::String => match value {
            Value::Str(_) => value,
            Value::Int(i) => Value::Str(i.to_string()),
            Value::Bool(b) => Value::Str(b.to_string()),
            Value::Float(_) => {
                // YAML has already turned `1.30` into 1.3; quote the text exactly as written.
                let written = node.map_or(String::new(), |n| {
                    sources.snippet(n.span).trim().to_string()
                });
                d.push(mismatch(span, path, "a string", &value).with_help(format!(
                    "YAML reads this as a number, which drops trailing zeros; quote it to keep it as written: \"{written}\""
                )));
                value
            }
            _ => {
                d.push(mismatch(span, path, "a string", &value));
                value
            }
        },
        Ty::Enum(allowed) => {
            let s = match &value {
                Value::Str(s) => s.clone(),
                Value::Int(i) => i.to_string(),
                _ => {
                    d.push(mismatch(
                        span,
                        path,
                        &format!("one of {}", allowed.join(", ")),
                        &value,
                    ));
                    return value;
                }
            };
            if !allowed.contains(&s.as_str()) {
                let mut diag = Diagnostic::error(
                    "spec::enum",
                    format!("`{path}`: {s:?} is not one of {}", allowed.join(", ")),
                )
                .with_label(span, "not an allowed value");
                let lower: Vec<(String, &str)> =
                    allowed.iter().map(|a| (a.to_lowercase(), *a)).collect();
                if let Some((_, exact)) = lower.iter().find(|(l, _)| *l == s.to_lowercase()) {
                    diag = diag.with_help(format!("values are case-sensitive: use `{exact}`"));
                } else if let Some(s) = did_you_mean(&s, allowed.iter().copied()) {
                    diag = diag.with_help(format!("did you mean `{s}`?"));
                }
                d.push(diag);
            }
            Value::Str(s)
        }
        Ty::Int { min, max } => {
            let Some(i) = value.as_i64() else {
                let mut diag = mismatch(span, path, "a whole number", &value);
                if let Value::Str(s) = &value
                    && s.parse::<i64>().is_ok()
                {
                    diag = diag.with_help(format!("remove the quotes: {s}"));
                }
                d.push(diag);
                return value;
            };
            if min.is_some_and(|m| i < m) || max.is_some_and(|m| i > m) {
                let range = match (min, max) {
                    (Some(a), Some(b)) => format!("between {a} and {b}"),
                    (Some(a), None) => format!("at least {a}"),
                    (None, Some(b)) => format!("at most {b}"),
                    (None, None) => unreachable!("checked above"),
                };
                d.push(
                    Diagnostic::error(
                        "spec::range",
                        format!("`{path}`: {i} is out of range; it must be {range}"),
                    )
                    .with_label(span, format!("must be {range}")),
                );
            }
            Value::Int(i)
        }
        Ty::Number => match value {
            Value::Int(_) | Value::Float(_) => value,
            _ => {
                let mut diag = mismatch(span, path, "a number", &value);
                if let Value::Str(s) = &value
                    && s.parse::<f64>().is_ok()
                {
                    diag = diag.with_help(format!("remove the quotes: {s}"));
                }
                d.push(diag);
                value
            }
        },
        Ty::Bool => match value {
            Value::Bool(_) => value,
            _ => {
                let mut diag = mismatch(span, path, "`true` or `false`", &value);
                if let Value::Str(s) = &value
                    && ["yes", "no", "on", "off", "True", "False"].contains(&s.as_str())
                {
                    diag = diag.with_help(
                        "regionctl reads YAML 1.2: only `true` and `false` are booleans",
                    );
                }
                d.push(diag);
                value
            }
        },
        Ty::Cidr => match &value {
            Value::Str(s) => {
                if let Err(e) = Ipv4Cidr::parse(s) {
                    d.push(
                        Diagnostic::error(
                            "spec::cidr",
                            format!("`{path}`: invalid CIDR block {s:?}: {e}"),
                        )
                        .with_label(span, "invalid CIDR"),
                    );
                }
                value
            }
            _ => {
                d.push(mismatch(
                    span,
                    path,
                    "a CIDR block such as \"10.0.0.0/16\"",
                    &value,
                ));
                value
            }
        },
        Ty::List(item) => match value {
            Value::List(items) => Value::List(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let c = child(node, ChildKey::Index(i));
                        check_value(
                            sources,
                            item,
                            c,
                            c.map_or(span, |n| n.span),
                            v,
                            &format!("{path}[{i}]"),
                            d,
                        )
                    })
                    .collect(),
            ),
            other => {
                d.push(
                    mismatch(span, path, "a list", &other)
                        .with_help(format!("write a list, e.g. `{path}: [ ... ]`")),
                );
                other
            }
        },
        Ty::Map(item) => match value {
            Value::Map(m) => Value::Map(
                m.into_iter()
                    .map(|(k, v)| {
                        let c = child(node, ChildKey::Name(&k));
                        let checked = check_value(
                            sources,
                            item,
                            c,
                            c.map_or(span, |n| n.span),
                            v,
                            &format!("{path}.{k}"),
                            d,
                        );
                        (k, checked)
                    })
                    .collect(),
            ),
            other => {
                d.push(mismatch(span, path, "a map", &other));
                other
            }
        },
        Ty::Object(fields) => match value {
            Value::Map(m) => {
                let mut out = BTreeMap::new();
                for (k, v) in m {
                    let kspan = key_span(node, &k).unwrap_or(span);
                    let Some(field) = fields.iter().find(|f| f.name == k) else {
                        let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                        let mut diag = Diagnostic::error(
                            "spec::unknown-field",
                            format!("`{path}` has no field `{k}`"),
                        )
                        .with_label(kspan, "unknown field");
                        diag = match did_you_mean(&k, names.iter().copied()) {
                            Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                            None => {
                                diag.with_help(format!("`{path}` accepts: {}", names.join(", ")))
                            }
                        };
                        d.push(diag);
                        continue;
                    };
                    if v == Value::Null {
                        continue;
                    }
                    let c = child(node, ChildKey::Name(&k));
                    let checked = check_value(
                        sources,
                        &field.ty,
                        c,
                        c.map_or(span, |n| n.span),
                        v,
                        &format!("{path}.{k}"),
                        d,
                    );
                    out.insert(k, checked);
                }
                for f in fields.iter().filter(|f| f.required) {
                    if !out.contains_key(f.name) {
                        d.push(
                            Diagnostic::error(
                                "spec::missing-field",
                                format!("`{path}` is missing `{}`", f.name),
                            )
                            .with_label(span, format!("needs `{}`", f.name))
                            .with_help(format!("`{}`: {}", f.name, f.doc)),
                        );
                    }
                }
                Value::Map(out)
            }
            other => {
                d.push(mismatch(span, path, "a map", &other));
                other
            }
        },
        Ty::RefTo { kind, .. } => match value {
            Value::Str(_) => value,
            other => {
                d.push(mismatch(
                    span,
                    path,
                    &format!("a reference to a {kind}"),
                    &other,
                ));
                other
            }
        },
        Ty::Format(format) => {
            let value = check_value(sources, &Ty::String, node, span, value, path, d);
            if let Value::Str(s) = &value
                && let Err(why) = format.check(s)
            {
                d.push(format_error(*format, span, path, s, &why));
            }
            value
        }
        Ty::Document => match value {
            Value::Map(_) | Value::Str(_) => value,
            other => {
                d.push(mismatch(
                    span,
                    path,
                    "a policy document (a map, or a JSON string)",
                    &other,
                ));
                other
            }
        },
    }
}

/// A string AWS would reject: what it should be, why it is not, and the whole rule.
pub fn format_error(
    format: super::names::Format,
    span: Span,
    path: &str,
    s: &str,
    why: &str,
) -> Diagnostic {
    let shown: String = if s.chars().count() > 40 {
        format!("{}...", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    };
    Diagnostic::error(
        "spec::format",
        format!("`{path}`: {shown:?} is not {}: {why}", format.what()),
    )
    .with_label(span, format!("not {}", format.what()))
    .with_help(format!("AWS allows {}", format.rule()))
}

fn check_ref_kind(
    kind: Kind,
    attr: &str,
    r: &crate::spec::value::Reference,
    span: Span,
    path: &str,
    d: &mut Diagnostics,
) {
    let found = match &r.target {
        RefTarget::Resolved { addr } => addr.block.kind,
        RefTarget::Unresolved { kind, .. } => *kind,
    };
    if found != kind {
        d.push(
            Diagnostic::error(
                "spec::ref-kind",
                format!("`{path}` expects a {kind}, but this refers to a {found}"),
            )
            .with_label(r.span, format!("a {found}, not a {kind}"))
            .with_label(span, format!("`{path}` takes the {attr} of a {kind}"))
            .with_help(format!(
                "reference a {kind}, e.g. `${{{kind}.<name>.{attr}}}`"
            )),
        );
    } else if r.attr != attr {
        d.push(
            Diagnostic::error(
                "spec::ref-attr",
                format!(
                    "`{path}` expects the `{attr}` of a {kind}, not its `{}`",
                    r.attr
                ),
            )
            .with_label(r.span, format!("use `.{attr}` here"))
            .with_label(span, format!("`{path}` takes the {attr}")),
        );
    }
}

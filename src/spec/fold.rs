//! Folds references to attributes whose value the spec itself sets.
//!
//! `${vpc.main.cidr_block}` or `${eks_cluster.main.name}` name values the user wrote, so they are
//! known before apply, as in Terraform. Replacing them lets the rules check subnets computed with
//! `cidrsubnet(vpc.main.cidr_block, ...)` and lets a plan show a node group's cluster name
//! instead of "(known after apply)". Dependencies were recorded before folding, so the graph
//! keeps every edge.

use std::collections::HashMap;

use crate::addr::InstanceAddr;
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::SourceMap;
use crate::spec::Spec;
use crate::spec::expand::MISSING_INPUT;
use crate::spec::expr;
use crate::spec::schema::{self, check};
use crate::spec::value::{Deferred, RefTarget, Reference, Value};

/// Chains longer than this (a → b → c ... all configured) do not occur in real specs; the bound
/// only guarantees termination.
const MAX_ROUNDS: usize = 32;

pub fn fold_known(spec: &mut Spec, sources: &SourceMap, d: &mut Diagnostics) {
    for _ in 0..MAX_ROUNDS {
        let known: HashMap<(InstanceAddr, String), Value> = spec
            .resources
            .values()
            .flat_map(|r| {
                r.attrs
                    .iter()
                    .filter(|(_, v)| !v.has_unknown())
                    .map(|(k, v)| ((r.addr.clone(), k.clone()), v.clone()))
            })
            .collect();
        let lookup = |r: &Reference| match &r.target {
            RefTarget::Resolved { addr } => known.get(&(addr.clone(), r.attr.clone())).cloned(),
            RefTarget::Unresolved { .. } => None,
        };
        let mut changed = false;
        for res in spec.resources.values_mut() {
            let selected = spec.envs.get(&res.addr.env).is_some_and(|e| e.selected);
            for (name, value) in res.attrs.iter_mut() {
                if !value.has_unknown() || contains_op(value, MISSING_INPUT) {
                    continue;
                }
                match expr::resolve(value, &lookup) {
                    Ok(v) if v != *value => {
                        // The schema check skipped this value while it was unknown: check the
                        // known parts now (a CIDR built from an AZ name, a port computed out of
                        // range). Reported for selected environments only, like every check.
                        let v = match schema::schema(res.kind).field(name) {
                            Some(field) => {
                                let span = res.attr_spans.get(name).copied().unwrap_or(res.span);
                                let mut local = Diagnostics::new();
                                let checked =
                                    recheck(sources, &field.ty, value, v, span, name, &mut local);
                                if selected {
                                    d.extend(local.into_sorted());
                                }
                                checked
                            }
                            None => v,
                        };
                        *value = v;
                        changed = true;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        // Known inputs can make a function fail (cidrsubnet out of range); that is
                        // an error in the spec, found now rather than at apply.
                        if selected {
                            let span = res.attr_spans.get(name).copied().unwrap_or(res.span);
                            d.push(
                                Diagnostic::error(
                                    "expr::function",
                                    format!("`{name}` of {}: {e}", res.addr.local()),
                                )
                                .with_label(span, "fails with the values the spec sets"),
                            );
                        }
                        // Keep the residual so later stages do not act on a wrong value.
                    }
                }
            }
        }
        if !changed {
            return;
        }
    }
}

/// Whether a residual contains the placeholder operator `op` anywhere.
fn contains_op(value: &Value, op: &str) -> bool {
    let mut found = false;
    value.walk(&mut |v| {
        if let Value::Unknown(d) = v
            && matches!(d.as_ref(), Deferred::Op { op: o, .. } if o == op)
        {
            found = true;
        }
    });
    found
}

/// Checks the parts of `new` that were unknown in `old` against `ty`. The known parts were
/// checked at their own YAML nodes already; checking them again would repeat their errors.
fn recheck(
    sources: &SourceMap,
    ty: &schema::Ty,
    old: &Value,
    new: Value,
    span: crate::source::Span,
    path: &str,
    d: &mut Diagnostics,
) -> Value {
    use schema::Ty;
    if matches!(old, Value::Unknown(_)) {
        return check::check_value(sources, ty, None, span, new, path, d);
    }
    match (ty, old, new) {
        (Ty::List(item), Value::List(o), Value::List(n)) if o.len() == n.len() => Value::List(
            o.iter()
                .zip(n)
                .enumerate()
                .map(|(i, (o, n))| recheck(sources, item, o, n, span, &format!("{path}[{i}]"), d))
                .collect(),
        ),
        (Ty::Map(item), Value::Map(o), Value::Map(n)) => Value::Map(
            n.into_iter()
                .map(|(k, n)| {
                    let v = match o.get(&k) {
                        Some(o) => recheck(sources, item, o, n, span, &format!("{path}.{k}"), d),
                        None => n,
                    };
                    (k, v)
                })
                .collect(),
        ),
        (Ty::Object(fields), Value::Map(o), Value::Map(n)) => Value::Map(
            n.into_iter()
                .map(|(k, n)| {
                    let v = match (o.get(&k), fields.iter().find(|f| f.name == k)) {
                        (Some(o), Some(f)) => {
                            recheck(sources, &f.ty, o, n, span, &format!("{path}.{k}"), d)
                        }
                        _ => n,
                    };
                    (k, v)
                })
                .collect(),
        ),
        (_, _, new) => new,
    }
}

//! Evaluation of expressions to values, at plan time and (via `resolve`) at apply time.
//!
//! Owns how each node computes, how unknown values propagate, and the generic indexing that
//! scopes share. It does not know what `var`, `each` or a resource name means: every traversal
//! goes to the caller's [`Scope`]. Errors are collected from all sub-expressions so one pass shows
//! every mistake. `resolve` replays deferred residues through the same operators and functions,
//! so plan and apply cannot disagree about what an expression means.

use std::collections::BTreeMap;

use super::ast::{Expr, ExprKind, Step, Template, TemplatePart};
use super::functions::{self, FnDef, FnError, available_keys, function_names};
use super::ops::{self, Blame, OpError, build_concat, interp_text};
use crate::diag::{Diagnostic, did_you_mean};
use crate::source::{FileId, Span};
use crate::spec::value::{Deferred, Reference, Value};

const CODE_UNKNOWN_FUNCTION: &str = "expr::unknown-function";
const CODE_ARITY: &str = "expr::arity";
const CODE_FUNCTION: &str = "expr::function";
const CODE_INDEX: &str = "expr::index";

/// The `op` of a deferred splat over an unknown value: `args` are the base and a list of the
/// remaining step keys, with `null` standing for a nested `[*]` (null can never be a real key).
const SPLAT_OP: &str = "[*]";

/// What the evaluator asks the caller for: the caller (the expansion stage) knows what
/// var/input/each/resource/module/env mean.
pub trait Scope {
    /// Resolves a traversal whose index keys have already been evaluated. The scope consumes as
    /// many steps as it understands and may call [`apply_steps`] for the rest.
    fn traverse(
        &self,
        root: &str,
        root_span: Span,
        steps: &[EvalStep],
    ) -> Result<Value, Diagnostic>;
}

/// A traversal step with its index key evaluated.
#[derive(Debug, Clone, PartialEq)]
pub enum EvalStep {
    Attr { name: String, span: Span },
    Index { key: Value, span: Span },
    Splat { span: Span },
}

type EResult = Result<Value, Vec<Diagnostic>>;

/// Evaluates an expression, collecting errors from every sub-expression.
pub fn eval(expr: &Expr, scope: &dyn Scope) -> EResult {
    match &expr.kind {
        ExprKind::Null => Ok(Value::Null),
        ExprKind::Bool(b) => Ok(Value::Bool(*b)),
        ExprKind::Int(i) => Ok(Value::Int(*i)),
        ExprKind::Float(f) => Ok(Value::Float(*f)),
        ExprKind::Template(parts) => eval_parts(parts, scope),
        ExprKind::List(items) => eval_all(items, scope).map(Value::List),
        ExprKind::Map(entries) => {
            let values = eval_all(entries.iter().map(|(_, _, e)| e), scope)?;
            let keys = entries.iter().map(|(k, _, _)| k.clone());
            Ok(Value::Map(keys.zip(values).collect()))
        }
        ExprKind::Traversal(t) => {
            let steps = eval_steps(&t.steps, scope)?;
            scope
                .traverse(&t.root, t.root_span, &steps)
                .map_err(|d| vec![d])
        }
        ExprKind::Call {
            name,
            name_span,
            args,
        } => eval_call(expr.span, name, *name_span, args, scope),
        ExprKind::Postfix { base, steps } => {
            let (base, steps) = both(eval(base, scope), eval_steps(steps, scope))?;
            apply_steps(base, &steps).map_err(|d| vec![d])
        }
        ExprKind::Unary { op, expr: operand } => {
            let value = eval(operand, scope)?;
            ops::unary(op.symbol(), value)
                .map_err(|e| vec![op_diagnostic(e, expr.span, operand.span, operand.span)])
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let (l, r) = both(eval(lhs, scope), eval(rhs, scope))?;
            ops::binary(op.symbol(), l, r)
                .map_err(|e| vec![op_diagnostic(e, expr.span, lhs.span, rhs.span)])
        }
        ExprKind::Cond {
            cond,
            then,
            otherwise,
        } => {
            let (c, t, o) = (eval(cond, scope), eval(then, scope), eval(otherwise, scope));
            match c? {
                // Like HCL, only the chosen branch's errors count, so `length(l) > 0 ? l[0] : ""`
                // works on an empty list.
                Value::Bool(true) => t,
                Value::Bool(false) => o,
                c @ Value::Unknown(_) => {
                    let (then, otherwise) = both(t, o)?;
                    Ok(Value::unknown(Deferred::Cond {
                        cond: c,
                        then,
                        otherwise,
                    }))
                }
                other => Err(vec![
                    Diagnostic::error(
                        ops::CODE_TYPE,
                        format!(
                            "the condition must be a bool, found {}",
                            ops::article(other.type_name())
                        ),
                    )
                    .with_label(cond.span, "not a bool"),
                ]),
            }
        }
    }
}

/// Evaluates a whole YAML string: a literal, a single typed value, or an interpolated string.
pub fn eval_template(t: &Template, scope: &dyn Scope) -> EResult {
    match t {
        Template::Literal(s) => Ok(Value::Str(s.clone())),
        Template::Single(e) => eval(e, scope),
        Template::Parts(parts) => eval_parts(parts, scope),
    }
}

fn eval_parts(parts: &[TemplatePart], scope: &dyn Scope) -> EResult {
    let mut out = Vec::with_capacity(parts.len());
    let mut errors = Vec::new();
    for part in parts {
        match part {
            TemplatePart::Lit(s) => out.push(Value::Str(s.clone())),
            TemplatePart::Interp(e) => match eval(e, scope) {
                Ok(v @ Value::Unknown(_)) => out.push(v),
                Ok(v) => match interp_text(&v) {
                    Ok(s) => out.push(Value::Str(s)),
                    Err(err) => errors.push(op_diagnostic(err, e.span, e.span, e.span)),
                },
                Err(es) => errors.extend(es),
            },
        }
    }
    if errors.is_empty() {
        Ok(build_concat(out))
    } else {
        Err(errors)
    }
}

fn eval_all<'a>(
    exprs: impl IntoIterator<Item = &'a Expr>,
    scope: &dyn Scope,
) -> Result<Vec<Value>, Vec<Diagnostic>> {
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for e in exprs {
        match eval(e, scope) {
            Ok(v) => values.push(v),
            Err(es) => errors.extend(es),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

fn eval_steps(steps: &[Step], scope: &dyn Scope) -> Result<Vec<EvalStep>, Vec<Diagnostic>> {
    let mut out = Vec::with_capacity(steps.len());
    let mut errors = Vec::new();
    for step in steps {
        match step {
            Step::Attr { name, span } => out.push(EvalStep::Attr {
                name: name.clone(),
                span: *span,
            }),
            Step::Splat { span } => out.push(EvalStep::Splat { span: *span }),
            Step::Index { key, span } => match eval(key, scope) {
                Ok(key) => out.push(EvalStep::Index { key, span: *span }),
                Err(es) => errors.extend(es),
            },
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn both<A, B>(
    a: Result<A, Vec<Diagnostic>>,
    b: Result<B, Vec<Diagnostic>>,
) -> Result<(A, B), Vec<Diagnostic>> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => Err(a.err().into_iter().chain(b.err()).flatten().collect()),
    }
}

fn op_diagnostic(err: OpError, whole: Span, lhs: Span, rhs: Span) -> Diagnostic {
    let (span, label) = match err.blame {
        Blame::Whole => (whole, "in this expression"),
        Blame::Lhs => (lhs, "this operand"),
        Blame::Rhs => (rhs, "this operand"),
    };
    let d = Diagnostic::error(err.code, err.message).with_label(span, label);
    match err.help {
        Some(help) => d.with_help(help),
        None => d,
    }
}

fn eval_call(span: Span, name: &str, name_span: Span, args: &[Expr], scope: &dyn Scope) -> EResult {
    let values = eval_all(args, scope);
    let Some(def) = functions::find(name) else {
        let help = match did_you_mean(name, function_names().iter().copied()) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("the functions are: {}", function_names().join(", ")),
        };
        let unknown =
            Diagnostic::error(CODE_UNKNOWN_FUNCTION, format!("unknown function `{name}`"))
                .with_label(name_span, "no function has this name")
                .with_help(help);
        return Err(std::iter::once(unknown)
            .chain(values.err().into_iter().flatten())
            .collect());
    };
    def.call(values?)
        .map_err(|e| vec![fn_diagnostic(e, def, span, args)])
}

fn fn_diagnostic(err: FnError, def: &FnDef, call: Span, args: &[Expr]) -> Diagnostic {
    let arg_span = |arg: Option<usize>| arg.and_then(|i| args.get(i)).map_or(call, |e| e.span);
    match err {
        FnError::Arity(message) => Diagnostic::error(CODE_ARITY, message)
            .with_label(call, "wrong number of arguments")
            .with_help(format!("usage: {}", def.usage)),
        FnError::Type { arg, message } => Diagnostic::error(ops::CODE_TYPE, message)
            .with_label(arg_span(arg), "wrong type")
            .with_help(format!("usage: {}", def.usage)),
        FnError::Failed { arg, message } => Diagnostic::error(CODE_FUNCTION, message)
            .with_label(arg_span(arg), format!("in this call to {}()", def.name)),
        // `FnDef::call` turns `Defer` into a deferred value; reaching here would be a bug.
        FnError::Defer => {
            Diagnostic::error(CODE_FUNCTION, "internal error: a deferred call escaped")
                .with_label(call, "here")
        }
    }
}

/// An indexing failure, before a span is attached.
struct IndexError {
    message: String,
    help: Option<String>,
}

impl IndexError {
    fn new(message: impl Into<String>) -> Self {
        IndexError {
            message: message.into(),
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    fn at(self, span: Span) -> Diagnostic {
        let d =
            Diagnostic::error(CODE_INDEX, self.message).with_label(span, "cannot apply this step");
        match self.help {
            Some(help) => d.with_help(help),
            None => d,
        }
    }

    fn into_message(self) -> String {
        match self.help {
            Some(help) => format!("{} ({help})", self.message),
            None => self.message,
        }
    }
}

/// Generic indexing used by `Scope` impls: `.name` on a map, `[key]` on a map or list, and `[*]`,
/// which maps the remaining steps over every list element (a non-list becomes a one-element list
/// and null an empty one, as in HCL). Steps on an unknown value produce a deferred index.
pub fn apply_steps(value: Value, steps: &[EvalStep]) -> Result<Value, Diagnostic> {
    let mut value = value;
    for (i, step) in steps.iter().enumerate() {
        value = match step {
            EvalStep::Attr { name, span } => attr(value, name).map_err(|e| e.at(*span))?,
            EvalStep::Index { key, span } => index(value, key.clone()).map_err(|e| e.at(*span))?,
            EvalStep::Splat { .. } => {
                let rest = &steps[i + 1..];
                let items = match value {
                    Value::Unknown(_) => return Ok(deferred_splat(value, rest)),
                    Value::List(items) => items,
                    Value::Null => Vec::new(),
                    other => vec![other],
                };
                let mapped = items
                    .into_iter()
                    .map(|v| apply_steps(v, rest))
                    .collect::<Result<_, _>>()?;
                return Ok(Value::List(mapped));
            }
        };
    }
    Ok(value)
}

fn deferred_splat(base: Value, rest: &[EvalStep]) -> Value {
    let keys = rest
        .iter()
        .map(|s| match s {
            EvalStep::Attr { name, .. } => Value::Str(name.clone()),
            EvalStep::Index { key, .. } => key.clone(),
            EvalStep::Splat { .. } => Value::Null,
        })
        .collect();
    Value::unknown(Deferred::Op {
        op: SPLAT_OP.to_string(),
        args: vec![base, Value::List(keys)],
    })
}

fn attr(base: Value, name: &str) -> Result<Value, IndexError> {
    match base {
        Value::Unknown(_) => Ok(Value::unknown(Deferred::Index {
            base,
            key: Value::Str(name.to_string()),
        })),
        Value::Map(m) => map_get(m, name),
        Value::List(_) => Err(
            IndexError::new(format!("a list has no attribute `{name}`")).help(format!(
                "use `[*].{name}` to read it from every element, or `[0].{name}` for one"
            )),
        ),
        Value::Null => Err(IndexError::new(format!(
            "cannot read attribute `{name}` of null"
        ))),
        other => Err(IndexError::new(format!(
            "cannot read attribute `{name}` of {}: only maps have attributes",
            ops::article(other.type_name())
        ))),
    }
}

fn map_get(mut m: BTreeMap<String, Value>, key: &str) -> Result<Value, IndexError> {
    if let Some(v) = m.remove(key) {
        return Ok(v);
    }
    let err = IndexError::new(format!("the map has no key {key:?}"));
    Err(match did_you_mean(key, m.keys().map(String::as_str)) {
        Some(close) => err.help(format!("did you mean {close:?}?")),
        None => err.help(available_keys(&m)),
    })
}

fn index(base: Value, key: Value) -> Result<Value, IndexError> {
    if matches!(base, Value::Unknown(_)) || key.has_unknown() {
        return Ok(Value::unknown(Deferred::Index { base, key }));
    }
    match base {
        Value::Map(m) => {
            let key = match &key {
                Value::Str(s) => s.clone(),
                Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                    ops::scalar_text(&key).unwrap_or_default()
                }
                other => {
                    return Err(IndexError::new(format!(
                        "a map key must be a string, found {}",
                        ops::article(other.type_name())
                    )));
                }
            };
            map_get(m, &key)
        }
        Value::List(mut items) => {
            let Some(i) = key.as_i64() else {
                return Err(IndexError::new(format!(
                    "a list index must be a whole number, found {}",
                    describe_key(&key)
                ))
                .help("lists are indexed by position, e.g. [0]; use a map to look up by name"));
            };
            let len = items.len();
            match usize::try_from(i).ok().filter(|i| *i < len) {
                Some(i) => Ok(items.swap_remove(i)),
                None if len == 0 => Err(IndexError::new(format!(
                    "index {i} is out of range: the list is empty"
                ))),
                None => Err(IndexError::new(format!(
                    "index {i} is out of range: the list has {len} element{} (0 to {})",
                    if len == 1 { "" } else { "s" },
                    len - 1
                ))),
            }
        }
        Value::Null => Err(IndexError::new(format!(
            "cannot index null with [{}]",
            describe_key(&key)
        ))),
        other => Err(IndexError::new(format!(
            "cannot index {} with [{}]: only lists and maps can be indexed",
            ops::article(other.type_name()),
            describe_key(&key)
        ))),
    }
}

fn describe_key(key: &Value) -> String {
    match key {
        Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Null => {
            key.to_string()
        }
        other => ops::article(other.type_name()),
    }
}

/// Apply-time: replaces every `Deferred::Ref` via `lookup` (`None` = still unknown, left in
/// place) and re-evaluates residual nodes whose inputs became known, with the same function and
/// operator code as [`eval`].
pub fn resolve(
    value: &Value,
    lookup: &dyn Fn(&Reference) -> Option<Value>,
) -> Result<Value, String> {
    let all = |vs: &[Value]| {
        vs.iter()
            .map(|v| resolve(v, lookup))
            .collect::<Result<Vec<_>, _>>()
    };
    match value {
        Value::List(items) => all(items).map(Value::List),
        Value::Map(m) => m
            .iter()
            .map(|(k, v)| Ok((k.clone(), resolve(v, lookup)?)))
            .collect::<Result<_, String>>()
            .map(Value::Map),
        Value::Unknown(d) => match d.as_ref() {
            Deferred::Ref(r) => Ok(lookup(r).unwrap_or_else(|| value.clone())),
            Deferred::Concat(parts) => {
                let parts = all(parts)?
                    .into_iter()
                    .map(|v| match v {
                        Value::Unknown(_) => Ok(v),
                        v => interp_text(&v)
                            .map(Value::Str)
                            .map_err(OpError::into_message),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(build_concat(parts))
            }
            Deferred::Call { name, args } => functions::call_function(name, all(args)?),
            Deferred::Index { base, key } => index(resolve(base, lookup)?, resolve(key, lookup)?)
                .map_err(IndexError::into_message),
            Deferred::Op { op, args } if op == SPLAT_OP => resolve_splat(all(args)?),
            Deferred::Op { op, args } => {
                let mut args = all(args)?.into_iter();
                let result = match (args.next(), args.next(), args.next()) {
                    (Some(v), None, None) => ops::unary(op, v),
                    (Some(l), Some(r), None) => ops::binary(op, l, r),
                    _ => return Err(format!("malformed deferred operation `{op}`")),
                };
                result.map_err(OpError::into_message)
            }
            Deferred::Cond {
                cond,
                then,
                otherwise,
            } => match resolve(cond, lookup)? {
                Value::Bool(true) => resolve(then, lookup),
                Value::Bool(false) => resolve(otherwise, lookup),
                c @ Value::Unknown(_) => Ok(Value::unknown(Deferred::Cond {
                    cond: c,
                    then: resolve(then, lookup)?,
                    otherwise: resolve(otherwise, lookup)?,
                })),
                other => Err(format!(
                    "the condition must be a bool, found {}",
                    ops::article(other.type_name())
                )),
            },
        },
        other => Ok(other.clone()),
    }
}

fn resolve_splat(args: Vec<Value>) -> Result<Value, String> {
    let mut args = args.into_iter();
    let (Some(base), Some(Value::List(keys)), None) = (args.next(), args.next(), args.next())
    else {
        return Err("malformed deferred splat".to_string());
    };
    // Spans only decorate diagnostics, which `resolve` flattens to strings.
    let span = Span::new(FileId(0), 0, 0);
    let steps: Vec<EvalStep> = keys
        .into_iter()
        .map(|key| match key {
            Value::Null => EvalStep::Splat { span },
            key => EvalStep::Index { key, span },
        })
        .collect();
    let mut all = vec![EvalStep::Splat { span }];
    all.extend(steps);
    apply_steps(base, &all).map_err(|d| match d.help {
        Some(help) => format!("{} ({help})", d.message),
        None => d.message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::Kind;
    use crate::spec::expr::test_support::{err, err_code, list, map, ok, reference, s, unknown_id};

    fn deferred(v: &Value) -> &Deferred {
        match v {
            Value::Unknown(d) => d,
            other => panic!("expected an unknown value, got {other:?}"),
        }
    }

    fn span_of(d: &Diagnostic) -> (u32, u32) {
        let s = d.primary_span().expect("diagnostic has a label");
        (s.start, s.end)
    }

    /// Answers `vpc.main.id` (and `vpc.main.tags`, `vpc.main.list`) as apply would.
    fn apply_lookup(r: &Reference) -> Option<Value> {
        match r.attr.as_str() {
            "id" => Some(s("vpc-123")),
            "tags" => Some(map(&[("Name", s("web"))])),
            "list" => Some(list(vec![map(&[("id", s("a"))]), map(&[("id", s("b"))])])),
            "flag" => Some(Value::Bool(false)),
            _ => None,
        }
    }

    #[test]
    fn template_forms_keep_or_convert_types() {
        assert_eq!(ok("plain"), s("plain"));
        assert_eq!(
            ok("${var.azs}"),
            list(vec![s("eu-west-1a"), s("eu-west-1b"), s("eu-west-1c")])
        );
        assert_eq!(ok("${var.count}"), Value::Int(3));
        assert_eq!(ok("${ var.enabled }"), Value::Bool(true));
        assert_eq!(ok("${var.nothing}"), Value::Null);
        assert_eq!(ok("n=${var.count}"), s("n=3"));
        assert_eq!(ok("${1.5}x${true}"), s("1.5xtrue"));
        assert_eq!(ok("$${var.count}"), s("${var.count}"));
        assert_eq!(ok("${\"${var.name}-x\"}"), s("prod-x"));
        assert_eq!(
            ok("${\"${var.count}\"}"),
            s("3"),
            "a quoted string is always a string"
        );
        assert_eq!(ok("${var.ingress.eu-west-1}"), s("lb-euw1.example.com"));
    }

    #[test]
    fn collections_and_postfix() {
        assert_eq!(
            ok("${[1, \"a\", null]}"),
            list(vec![Value::Int(1), s("a"), Value::Null])
        );
        assert_eq!(
            ok("${{ a = 1, \"b c\": var.name }}"),
            map(&[("a", Value::Int(1)), ("b c", s("prod"))])
        );
        assert_eq!(ok("${split(\",\", \"a,b\")[1]}"), s("b"));
        assert_eq!(ok("${(var.azs)[0]}"), s("eu-west-1a"));
        assert_eq!(ok("${var.tags[\"team\"]}"), s("platform"));
        assert_eq!(ok("${var.azs[1.0]}"), s("eu-west-1b"));
        assert_eq!(
            ok("${var.subnets[*].id}"),
            list(vec![s("subnet-1"), s("subnet-2")])
        );
        assert_eq!(
            ok("${var.subnets.*.id}"),
            list(vec![s("subnet-1"), s("subnet-2")])
        );
        assert_eq!(ok("${var.nothing[*]}"), list(vec![]));
        assert_eq!(ok("${var.name[*]}"), list(vec![s("prod")]));
        assert_eq!(
            ok("${[[1, 2], [3]][*][0]}"),
            list(vec![Value::Int(1), Value::Int(3)])
        );
    }

    #[test]
    fn operators() {
        assert_eq!(ok("${1 + 2 * 3}"), Value::Int(7));
        assert_eq!(ok("${7 / 2}"), Value::Float(3.5));
        assert_eq!(ok("${8 / 2}"), Value::Int(4));
        assert_eq!(ok("${-var.count % 2}"), Value::Int(-1));
        assert_eq!(ok("${var.count > 2 && !false}"), Value::Bool(true));
        assert_eq!(
            ok("${var.name == \"prod\" ? \"big\" : \"small\"}"),
            s("big")
        );
        assert_eq!(ok("${[1, {a = 2}] == [1.0, {a = 2}]}"), Value::Bool(true));
        assert_eq!(ok("${null == var.nothing}"), Value::Bool(true));
        assert_eq!(ok("${1 != 1.0}"), Value::Bool(false));
    }

    #[test]
    fn operator_errors_have_codes_and_spans() {
        let errors = err("${\"a\" + \"b\"}");
        assert_eq!(errors[0].code, "expr::type");
        assert_eq!(
            errors[0].help.as_deref(),
            Some("use string interpolation or join()")
        );
        assert_eq!(span_of(&errors[0]), (2, 5));
        assert_eq!(err_code("${1 / 0}"), "expr::arithmetic");
        let errors = err("${1 - true}");
        assert_eq!(span_of(&errors[0]), (6, 10));
        assert_eq!(err_code("${!1}"), "expr::type");
        assert_eq!(err_code("${1 ? 2 : 3}"), "expr::type");
        assert_eq!(err_code("${\"a\" < \"b\"}"), "expr::type");
    }

    #[test]
    fn interpolation_errors() {
        let errors = err("x ${var.nothing} y");
        assert_eq!(errors[0].code, "expr::type");
        assert!(errors[0].message.contains("null"));
        assert_eq!(span_of(&errors[0]), (4, 15));
        let errors = err("x ${var.azs}");
        assert!(
            errors[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("join()"))
        );
        assert!(err("${\"${var.tags}\"}")[0].message.contains("a map"));
    }

    #[test]
    fn errors_are_collected_from_all_sub_expressions() {
        let errors = err("${[var.nope, missing.x, 1 + \"a\", f(1)]} and ${2 % 0}");
        let codes: Vec<&str> = errors.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [
                "expr::index",
                "test::root",
                "expr::type",
                "expr::unknown-function",
                "expr::arithmetic"
            ]
        );
    }

    #[test]
    fn index_errors_explain() {
        let e = &err("x ${var.nope} y")[0];
        assert_eq!(e.code, "expr::index");
        assert_eq!(span_of(e), (7, 12));
        assert!(e.message.contains("\"nope\""), "{}", e.message);
        let e = &err("${var.tags.teem}")[0];
        assert_eq!(e.help.as_deref(), Some("did you mean \"team\"?"));
        let e = &err("${var.tags.zzzzzz}")[0];
        assert_eq!(e.help.as_deref(), Some("available keys: \"env\", \"team\""));
        let e = &err("${var.azs[5]}")[0];
        assert!(
            e.message.contains("out of range") && e.message.contains("3 elements"),
            "{}",
            e.message
        );
        let e = &err("${var.azs.id}")[0];
        assert!(e.help.as_deref().is_some_and(|h| h.contains("[*].id")));
        assert!(err("${var.azs[\"a\"]}")[0].message.contains("whole number"));
        assert!(err("${var.azs[-1]}")[0].message.contains("out of range"));
        assert!(err("${var.count.x}")[0].message.contains("a number"));
        assert!(err("${var.nothing.x}")[0].message.contains("null"));
        assert!(err("${var.empty[0]}")[0].message.contains("empty"));
        assert!(
            err("${var.count[0]}")[0]
                .message
                .contains("only lists and maps")
        );
        assert!(
            err("${var.tags[[1]]}")[0]
                .message
                .contains("must be a string")
        );
    }

    #[test]
    fn function_diagnostics() {
        let e = &err("${ cidrsubnett(var.cidr, 4, 2) }")[0];
        assert_eq!(e.code, "expr::unknown-function");
        assert_eq!(e.help.as_deref(), Some("did you mean `cidrsubnet`?"));
        assert_eq!(span_of(e), (3, 14));
        assert!(
            err("${zzzz()}")[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("cidrsubnet"))
        );
        let e = &err("${cidrsubnet(var.cidr, 4)}")[0];
        assert_eq!(e.code, "expr::arity");
        assert_eq!(
            e.message,
            "cidrsubnet() takes 3 arguments, but 2 were given"
        );
        assert_eq!(
            e.help.as_deref(),
            Some("usage: cidrsubnet(prefix, newbits, netnum)")
        );
        let e = &err("${cidrsubnet(var.cidr, \"four\", 2)}")[0];
        assert_eq!(e.code, "expr::type");
        assert_eq!(span_of(e), (23, 29));
        assert!(
            e.message.contains("argument 2 (`newbits`)"),
            "{}",
            e.message
        );
        let e = &err("${cidrsubnet(var.cidr, 4, 16)}")[0];
        assert_eq!(e.code, "expr::function");
        assert!(e.message.contains("0 to 15"), "{}", e.message);
        assert_eq!(span_of(e), (2, 29));
        let e = &err("${lookup(var.tags, \"nope\")}")[0];
        assert!(
            e.message.contains("\"nope\"") && e.message.contains("\"team\""),
            "{}",
            e.message
        );
    }

    #[test]
    fn conditional_reports_only_the_chosen_branch() {
        assert_eq!(
            ok("${length(var.empty) > 0 ? var.empty[0] : \"none\"}"),
            s("none")
        );
        assert_eq!(ok("${true ? 1 : var.nope}"), Value::Int(1));
        assert_eq!(err_code("${false ? 1 : var.nope}"), "expr::index");
    }

    #[test]
    fn unknowns_propagate() {
        assert_eq!(ok("${vpc.main.id}"), unknown_id());
        assert_eq!(ok("${var.pending}"), unknown_id());

        let v = ok("id-${vpc.main.id}-${var.count}");
        let Deferred::Concat(parts) = deferred(&v) else {
            panic!("{v:?}")
        };
        assert_eq!(parts, &vec![s("id-"), unknown_id(), s("-3")]);

        assert!(
            matches!(deferred(&ok("${vpc.main.id == \"x\"}")), Deferred::Op { op, .. } if op == "==")
        );
        assert!(
            matches!(deferred(&ok("${-vpc.main.count}")), Deferred::Op { op, args } if op == "-" && args.len() == 1)
        );
        assert!(
            matches!(deferred(&ok("${upper(vpc.main.id)}")), Deferred::Call { name, .. } if name == "upper")
        );
        assert!(matches!(
            deferred(&ok("${jsonencode({a = vpc.main.id})}")),
            Deferred::Call { .. }
        ));
        assert!(
            matches!(deferred(&ok("${vpc.main.tags.Name}")), Deferred::Index { key, .. } if *key == s("Name"))
        );
        assert!(matches!(
            deferred(&ok("${var.azs[vpc.main.n]}")),
            Deferred::Index { .. }
        ));
        assert!(matches!(
            deferred(&ok("${vpc.main.flag ? 1 : 2}")),
            Deferred::Cond { .. }
        ));
        assert_eq!(ok("${true ? vpc.main.id : 2}"), unknown_id());
        assert_eq!(ok("${false && vpc.main.flag}"), Value::Bool(false));
    }

    #[test]
    fn knowable_results_stay_known() {
        assert_eq!(ok("${length(var.pending_list)}"), Value::Int(2));
        assert_eq!(
            ok("${length(concat(var.pending_list, [\"a\"]))}"),
            Value::Int(3)
        );
        assert_eq!(
            ok("${concat(var.pending_list, [\"a\"])}"),
            list(vec![unknown_id(), unknown_id(), s("a")])
        );
        let merged = ok("${merge({a = vpc.main.id}, {b = 1})}");
        assert_eq!(merged, map(&[("a", unknown_id()), ("b", Value::Int(1))]));
        assert_eq!(ok("${keys({a = vpc.main.id})}"), list(vec![s("a")]));
        assert_eq!(ok("${var.pending_list[1]}"), unknown_id());
        assert_eq!(ok("${lookup({a = vpc.main.id}, \"a\")}"), unknown_id());
        // A type error is reported even next to an unknown.
        assert_eq!(
            err_code("${cidrsubnet(vpc.main.id, \"x\", 1)}"),
            "expr::type"
        );
        assert_eq!(err_code("${vpc.main.id + \"x\"}"), "expr::type");
    }

    #[test]
    fn resolve_replays_deferred_format() {
        let v = ok("${format(\"%s-x\", vpc.main.id)}");
        assert!(matches!(deferred(&v), Deferred::Call { name, .. } if name == "format"));
        // Nothing known yet: stays deferred.
        assert_eq!(resolve(&v, &|_| None), Ok(v.clone()));
        assert_eq!(resolve(&v, &apply_lookup), Ok(s("vpc-123-x")));
    }

    #[test]
    fn resolve_handles_every_residue() {
        let cases = [
            ("id-${vpc.main.id}", s("id-vpc-123")),
            ("${vpc.main.id == \"vpc-123\"}", Value::Bool(true)),
            ("${!vpc.main.flag}", Value::Bool(true)),
            ("${vpc.main.tags.Name}", s("web")),
            ("${vpc.main.tags[\"Name\"]}", s("web")),
            ("${vpc.main.flag ? \"a\" : \"b\"}", s("b")),
            ("${vpc.main.list[*].id}", list(vec![s("a"), s("b")])),
            (
                "${[vpc.main.id, {k = upper(vpc.main.id)}]}",
                list(vec![s("vpc-123"), map(&[("k", s("VPC-123"))])]),
            ),
            (
                "${cidrsubnet(\"10.0.0.0/16\", 4, length(vpc.main.list))}",
                s("10.0.32.0/20"),
            ),
        ];
        for (src, want) in cases {
            let v = ok(src);
            assert_eq!(resolve(&v, &apply_lookup), Ok(want), "{src}");
        }
    }

    #[test]
    fn resolve_reports_errors_as_text() {
        let v = ok("${vpc.main.tags.Nope}");
        let e = resolve(&v, &apply_lookup).expect_err("missing key");
        assert!(e.contains("\"Nope\""), "{e}");
        let v = ok("${vpc.main.id / 2}");
        assert!(
            resolve(&v, &apply_lookup)
                .expect_err("type")
                .contains("left operand is a string")
        );
        // After a splat, `[0]` applies to each id, and the ids are strings.
        let v = ok("${vpc.main.list.*.id[0]}");
        assert!(
            resolve(&v, &apply_lookup)
                .expect_err("index a string")
                .contains("cannot index a string")
        );
        let v = ok("${cidrsubnet(vpc.main.id, 4, 1)}");
        assert!(
            resolve(&v, &apply_lookup)
                .expect_err("bad cidr")
                .contains("invalid prefix")
        );
    }

    #[test]
    fn resolve_keeps_what_is_still_unknown() {
        let other = Value::unknown(Deferred::Ref(reference(Kind::Subnet, "a", "arn")));
        let v = Value::unknown(Deferred::Concat(vec![unknown_id(), s("/"), other.clone()]));
        let r = resolve(&v, &|r| (r.attr == "id").then(|| s("vpc-1"))).expect("resolves");
        let Deferred::Concat(parts) = deferred(&r) else {
            panic!("{r:?}")
        };
        assert_eq!(parts, &vec![s("vpc-1/"), other]);
    }

    #[test]
    fn apply_steps_directly() {
        let span = Span::new(FileId(0), 0, 0);
        let v = apply_steps(
            unknown_id(),
            &[EvalStep::Attr {
                name: "x".into(),
                span,
            }],
        )
        .expect("deferred");
        assert!(matches!(deferred(&v), Deferred::Index { key, .. } if *key == s("x")));
        let v = apply_steps(
            list(vec![map(&[("a", Value::Int(1))])]),
            &[
                EvalStep::Splat { span },
                EvalStep::Attr {
                    name: "a".into(),
                    span,
                },
            ],
        );
        assert_eq!(v, Ok(list(vec![Value::Int(1)])));
        let v = apply_steps(
            list(vec![s("x")]),
            &[EvalStep::Index {
                key: unknown_id(),
                span,
            }],
        )
        .expect("deferred");
        assert!(matches!(deferred(&v), Deferred::Index { .. }));
    }
}

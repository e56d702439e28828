//! Shared helpers for the expression tests: an origin at offset 0, a scope that knows `var.*`
//! from a map and hands out unknown resource references, and builders for unknown values.

use std::collections::BTreeMap;

use super::{EvalStep, Scope, Template, TextOrigin, apply_steps, eval_template, parse_template};
use crate::addr::{BlockAddr, InstanceAddr};
use crate::diag::Diagnostic;
use crate::kind::Kind;
use crate::source::{FileId, Span};
use crate::spec::value::{Deferred, RefTarget, Reference, Value};

pub(crate) fn origin() -> TextOrigin {
    TextOrigin {
        file: FileId(0),
        start: 0,
        exact: true,
        fallback: Span::new(FileId(0), 0, 0),
        map: None,
    }
}

pub(crate) fn parse(src: &str) -> Template {
    parse_template(src, &origin()).unwrap_or_else(|e| panic!("{src:?} should parse: {e:#?}"))
}

pub(crate) fn parse_err(src: &str) -> Vec<Diagnostic> {
    match parse_template(src, &origin()) {
        Ok(t) => panic!("{src:?} should not parse, got {t:?}"),
        Err(e) => e,
    }
}

pub(crate) fn reference(kind: Kind, name: &str, attr: &str) -> Reference {
    Reference {
        target: RefTarget::Resolved {
            addr: InstanceAddr {
                env: "eu-west-1".into(),
                block: BlockAddr {
                    module: vec![],
                    kind,
                    name: name.into(),
                },
                key: None,
            },
        },
        attr: attr.into(),
        span: Span::new(FileId(0), 0, 0),
    }
}

/// `vpc.main.id`, unknown until apply.
pub(crate) fn unknown_id() -> Value {
    Value::unknown(Deferred::Ref(reference(Kind::Vpc, "main", "id")))
}

pub(crate) fn s(v: &str) -> Value {
    Value::Str(v.into())
}

pub(crate) fn list(items: Vec<Value>) -> Value {
    Value::List(items)
}

pub(crate) fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

/// Knows `var.*` from a map; `vpc.NAME.ATTR` is an unknown reference; anything else is an error.
pub(crate) struct TestScope {
    pub vars: BTreeMap<String, Value>,
}

impl TestScope {
    pub(crate) fn new() -> Self {
        let vars = [
            ("cidr", s("10.0.0.0/16")),
            (
                "azs",
                list(vec![s("eu-west-1a"), s("eu-west-1b"), s("eu-west-1c")]),
            ),
            ("name", s("prod")),
            ("count", Value::Int(3)),
            ("enabled", Value::Bool(true)),
            ("nothing", Value::Null),
            ("empty", list(vec![])),
            ("tags", map(&[("team", s("platform")), ("env", s("prod"))])),
            ("ingress", map(&[("eu-west-1", s("lb-euw1.example.com"))])),
            (
                "subnets",
                list(vec![
                    map(&[("id", s("subnet-1"))]),
                    map(&[("id", s("subnet-2"))]),
                ]),
            ),
            ("pending", unknown_id()),
            ("pending_list", list(vec![unknown_id(), unknown_id()])),
        ];
        TestScope {
            vars: vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        }
    }
}

impl Scope for TestScope {
    fn traverse(
        &self,
        root: &str,
        root_span: Span,
        steps: &[EvalStep],
    ) -> Result<Value, Diagnostic> {
        match root {
            "var" => apply_steps(Value::Map(self.vars.clone()), steps),
            "vpc" => match steps {
                [
                    EvalStep::Attr { name, .. },
                    EvalStep::Attr { name: attr, .. },
                    rest @ ..,
                ] => {
                    let v = Value::unknown(Deferred::Ref(reference(Kind::Vpc, name, attr)));
                    apply_steps(v, rest)
                }
                _ => Err(Diagnostic::error("test::ref", "expected vpc.NAME.ATTR")
                    .with_label(root_span, "here")),
            },
            _ => Err(
                Diagnostic::error("test::root", format!("unknown root `{root}`"))
                    .with_label(root_span, "here"),
            ),
        }
    }
}

/// Parses and evaluates a template against [`TestScope`].
pub(crate) fn eval_src(src: &str) -> Result<Value, Vec<Diagnostic>> {
    let t = parse_template(src, &origin())?;
    eval_template(&t, &TestScope::new())
}

pub(crate) fn ok(src: &str) -> Value {
    eval_src(src).unwrap_or_else(|e| panic!("{src:?} should evaluate: {e:#?}"))
}

pub(crate) fn err(src: &str) -> Vec<Diagnostic> {
    match eval_src(src) {
        Ok(v) => panic!("{src:?} should fail, got {v:?}"),
        Err(e) => e,
    }
}

/// The code of the single error `src` produces.
pub(crate) fn err_code(src: &str) -> &'static str {
    let errors = err(src);
    assert_eq!(
        errors.len(),
        1,
        "{src:?}: expected one error, got {errors:#?}"
    );
    errors[0].code
}

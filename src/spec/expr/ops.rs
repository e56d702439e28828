//! Operators, equality and string conversion over [`Value`]s.
//!
//! Owns the semantics that `eval` (plan time) and `resolve` (apply time) must agree on, which is
//! why operators are keyed by their written symbol: a deferred `Op { op: "+" }` replays through
//! the same code that evaluated it. Nothing here knows about spans; callers attach them, using
//! [`Blame`] to point at the offending operand.

use std::cmp::Ordering;

use crate::spec::value::{Deferred, Value};

pub(crate) const CODE_TYPE: &str = "expr::type";
pub(crate) const CODE_ARITHMETIC: &str = "expr::arithmetic";

/// Which part of an operation an error is about, so the label lands on the right text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Blame {
    Whole,
    Lhs,
    Rhs,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OpError {
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
    pub blame: Blame,
}

impl OpError {
    fn ty(message: impl Into<String>, blame: Blame) -> Self {
        OpError {
            code: CODE_TYPE,
            message: message.into(),
            help: None,
            blame,
        }
    }

    fn arith(message: impl Into<String>) -> Self {
        OpError {
            code: CODE_ARITHMETIC,
            message: message.into(),
            help: None,
            blame: Blame::Whole,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// One line for `resolve`, which reports errors as strings.
    pub(crate) fn into_message(self) -> String {
        match self.help {
            Some(help) => format!("{} ({help})", self.message),
            None => self.message,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Num {
    I(i64),
    F(f64),
}

impl Num {
    fn of(v: &Value) -> Option<Num> {
        match v {
            Value::Int(i) => Some(Num::I(*i)),
            Value::Float(f) => Some(Num::F(*f)),
            _ => None,
        }
    }

    fn f64(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }
}

/// Applies `!` or unary `-`.
pub(crate) fn unary(op: &str, v: Value) -> Result<Value, OpError> {
    if matches!(v, Value::Unknown(_)) {
        return Ok(Value::unknown(Deferred::Op {
            op: op.to_string(),
            args: vec![v],
        }));
    }
    match (op, v) {
        ("!", Value::Bool(b)) => Ok(Value::Bool(!b)),
        ("!", other) => Err(OpError::ty(
            format!("`!` needs a bool, found {}", other.type_name()),
            Blame::Rhs,
        )),
        ("-", Value::Int(i)) => i
            .checked_neg()
            .map(Value::Int)
            .ok_or_else(|| OpError::arith(format!("-({i}) overflows"))),
        ("-", Value::Float(f)) => Ok(Value::Float(-f)),
        ("-", other) => Err(OpError::ty(
            format!("unary `-` needs a number, found {}", other.type_name()),
            Blame::Rhs,
        )),
        (op, _) => Err(OpError::ty(
            format!("unknown unary operator `{op}`"),
            Blame::Whole,
        )),
    }
}

/// Applies a binary operator. A wholly unknown operand defers the operation, except where the
/// result is already decided (`false && x`, `true || x`); a known operand of the wrong type is
/// an error straight away, since no later value could fix it.
pub(crate) fn binary(op: &str, l: Value, r: Value) -> Result<Value, OpError> {
    let defer = |l, r| {
        Ok(Value::unknown(Deferred::Op {
            op: op.to_string(),
            args: vec![l, r],
        }))
    };
    match op {
        "&&" | "||" => {
            for (v, blame) in [(&l, Blame::Lhs), (&r, Blame::Rhs)] {
                if !matches!(v, Value::Bool(_) | Value::Unknown(_)) {
                    return Err(OpError::ty(
                        format!("`{op}` needs bool operands, found {}", v.type_name()),
                        blame,
                    ));
                }
            }
            let decisive = op == "||";
            if l == Value::Bool(decisive) || r == Value::Bool(decisive) {
                return Ok(Value::Bool(decisive));
            }
            match (&l, &r) {
                (Value::Bool(a), Value::Bool(b)) => {
                    Ok(Value::Bool(if decisive { *a || *b } else { *a && *b }))
                }
                _ => defer(l, r),
            }
        }
        "==" | "!=" => {
            if l.has_unknown() || r.has_unknown() {
                return defer(l, r);
            }
            Ok(Value::Bool(values_equal(&l, &r) == (op == "==")))
        }
        "+" | "-" | "*" | "/" | "%" | "<" | "<=" | ">" | ">=" => {
            check_numeric(op, &l, &r)?;
            match (Num::of(&l), Num::of(&r)) {
                (Some(a), Some(b)) => numeric(op, a, b),
                _ => defer(l, r),
            }
        }
        _ => Err(OpError::ty(
            format!("unknown operator `{op}`"),
            Blame::Whole,
        )),
    }
}

fn check_numeric(op: &str, l: &Value, r: &Value) -> Result<(), OpError> {
    let is_ok = |v: &Value| matches!(v, Value::Int(_) | Value::Float(_) | Value::Unknown(_));
    if op == "+" && (matches!(l, Value::Str(_)) || matches!(r, Value::Str(_))) {
        let blame = if matches!(l, Value::Str(_)) {
            Blame::Lhs
        } else {
            Blame::Rhs
        };
        return Err(
            OpError::ty("`+` adds numbers; it does not join strings", blame)
                .help("use string interpolation or join()"),
        );
    }
    for (v, blame, side) in [(l, Blame::Lhs, "left"), (r, Blame::Rhs, "right")] {
        if !is_ok(v) {
            let what = if matches!(op, "<" | "<=" | ">" | ">=") {
                "compares"
            } else {
                "works on"
            };
            return Err(OpError::ty(
                format!(
                    "`{op}` {what} numbers, but the {side} operand is {}",
                    article(v.type_name())
                ),
                blame,
            ));
        }
    }
    Ok(())
}

fn numeric(op: &str, a: Num, b: Num) -> Result<Value, OpError> {
    let overflow = || OpError::arith(format!("integer overflow in `{op}`"));
    if let (Num::I(x), Num::I(y)) = (a, b) {
        return match op {
            "+" => x.checked_add(y).map(Value::Int).ok_or_else(overflow),
            "-" => x.checked_sub(y).map(Value::Int).ok_or_else(overflow),
            "*" => x.checked_mul(y).map(Value::Int).ok_or_else(overflow),
            "/" if y == 0 => Err(OpError::arith("division by zero")),
            // An inexact integer division becomes a float rather than silently truncating.
            "/" if x.checked_rem(y) == Some(0) => {
                x.checked_div(y).map(Value::Int).ok_or_else(overflow)
            }
            "/" => Ok(Value::Float(x as f64 / y as f64)),
            "%" if y == 0 => Err(OpError::arith("remainder of division by zero")),
            "%" => x.checked_rem(y).map(Value::Int).ok_or_else(overflow),
            _ => Ok(Value::Bool(compare_op(op, x.cmp(&y)))),
        };
    }
    let (x, y) = (a.f64(), b.f64());
    let result = match op {
        "+" => x + y,
        "-" => x - y,
        "*" => x * y,
        "/" if y == 0.0 => return Err(OpError::arith("division by zero")),
        "/" => x / y,
        "%" if y == 0.0 => return Err(OpError::arith("remainder of division by zero")),
        "%" => x % y,
        _ => {
            return Ok(Value::Bool(compare_op(
                op,
                x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            )));
        }
    };
    if result.is_finite() {
        Ok(Value::Float(result))
    } else {
        Err(OpError::arith(format!("`{op}` overflows")))
    }
}

fn compare_op(op: &str, ord: Ordering) -> bool {
    match op {
        "<" => ord == Ordering::Less,
        "<=" => ord != Ordering::Greater,
        ">" => ord == Ordering::Greater,
        _ => ord != Ordering::Less,
    }
}

/// Structural equality where `1 == 1.0`, as users expect from a language with one number type.
pub(crate) fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(i), Value::Float(f)) | (Value::Float(f), Value::Int(i)) => (*i as f64) == *f,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, a), (kb, b))| ka == kb && values_equal(a, b))
        }
        _ => a == b,
    }
}

/// The text of a string, number or bool; `None` for anything else.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Converts a known value for `"...${v}..."`.
pub(crate) fn interp_text(v: &Value) -> Result<String, OpError> {
    if let Some(s) = scalar_text(v) {
        return Ok(s);
    }
    let err = |what: &str, help: &str| {
        Err(OpError::ty(
            format!("cannot interpolate {what} into a string"),
            Blame::Whole,
        )
        .help(help))
    };
    match v {
        Value::Null => err("null", "give the value a default, e.g. with coalesce()"),
        Value::List(_) => err(
            "a list",
            "use join() to build a string from a list, or jsonencode()",
        ),
        Value::Map(_) => err(
            "a map",
            "use jsonencode(), or pick one element with [\"key\"]",
        ),
        _ => err("an unknown value", "this is a bug in regionctl"),
    }
}

/// Joins interpolation parts, each already a `Str` or a wholly unknown value. Adjacent strings
/// are merged, so a deferred concatenation carries as few parts as possible.
pub(crate) fn build_concat(parts: Vec<Value>) -> Value {
    let mut out: Vec<Value> = Vec::new();
    for part in parts {
        match (out.last_mut(), part) {
            (Some(Value::Str(acc)), Value::Str(s)) => acc.push_str(&s),
            (_, part) => out.push(part),
        }
    }
    if out.iter().any(|v| matches!(v, Value::Unknown(_))) {
        return Value::unknown(Deferred::Concat(out));
    }
    Value::Str(out.iter().filter_map(scalar_text).collect())
}

/// "a string", "an unknown value": for messages.
pub(crate) fn article(type_name: &str) -> String {
    match type_name.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {type_name}"),
        _ if type_name == "null" => type_name.to_string(),
        _ => format!("a {type_name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{BlockAddr, InstanceAddr};
    use crate::kind::Kind;
    use crate::source::{FileId, Span};
    use crate::spec::value::{RefTarget, Reference};

    fn unknown() -> Value {
        Value::unknown(Deferred::Ref(Reference {
            target: RefTarget::Resolved {
                addr: InstanceAddr {
                    env: "eu-west-1".into(),
                    block: BlockAddr {
                        module: vec![],
                        kind: Kind::Vpc,
                        name: "main".into(),
                    },
                    key: None,
                },
            },
            attr: "id".into(),
            span: Span::new(FileId(0), 0, 0),
        }))
    }

    fn bin(op: &str, l: Value, r: Value) -> Result<Value, OpError> {
        binary(op, l, r)
    }

    #[test]
    fn integer_arithmetic_stays_integer() {
        assert_eq!(bin("+", Value::Int(2), Value::Int(3)), Ok(Value::Int(5)));
        assert_eq!(bin("*", Value::Int(4), Value::Int(3)), Ok(Value::Int(12)));
        assert_eq!(bin("/", Value::Int(6), Value::Int(3)), Ok(Value::Int(2)));
        assert_eq!(
            bin("/", Value::Int(7), Value::Int(2)),
            Ok(Value::Float(3.5))
        );
        assert_eq!(bin("%", Value::Int(7), Value::Int(3)), Ok(Value::Int(1)));
        assert_eq!(
            bin("-", Value::Int(1), Value::Float(0.5)),
            Ok(Value::Float(0.5))
        );
    }

    #[test]
    fn arithmetic_errors() {
        for (op, l, r) in [
            ("/", Value::Int(1), Value::Int(0)),
            ("%", Value::Int(1), Value::Int(0)),
            ("/", Value::Float(1.0), Value::Float(0.0)),
            ("+", Value::Int(i64::MAX), Value::Int(1)),
            ("*", Value::Int(i64::MIN), Value::Int(-1)),
            ("*", Value::Float(1e300), Value::Float(1e300)),
        ] {
            let err = bin(op, l, r).expect_err("arithmetic error");
            assert_eq!(err.code, CODE_ARITHMETIC, "{op}");
        }
        assert_eq!(
            unary("-", Value::Int(i64::MIN)).expect_err("overflow").code,
            CODE_ARITHMETIC
        );
        // The exact quotient does not fit an integer, so it is a float rather than an error.
        assert_eq!(
            bin("/", Value::Int(i64::MIN), Value::Int(-1)),
            Ok(Value::Float(9.223_372_036_854_776e18))
        );
    }

    #[test]
    fn string_plus_has_help() {
        let err = bin("+", Value::Str("a".into()), Value::Str("b".into())).expect_err("type error");
        assert_eq!(err.code, CODE_TYPE);
        assert_eq!(
            err.help.as_deref(),
            Some("use string interpolation or join()")
        );
        let err = bin("-", Value::Int(1), Value::Bool(true)).expect_err("type error");
        assert_eq!(err.blame, Blame::Rhs);
        assert!(
            err.message.contains("right operand is a bool"),
            "{}",
            err.message
        );
    }

    #[test]
    fn comparisons_are_numeric() {
        assert_eq!(
            bin("<", Value::Int(1), Value::Float(1.5)),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            bin(">=", Value::Float(2.0), Value::Int(2)),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            bin("==", Value::Int(2), Value::Float(2.0)),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            bin("!=", Value::Str("a".into()), Value::Null),
            Ok(Value::Bool(true))
        );
        assert!(bin("<", Value::Str("a".into()), Value::Str("b".into())).is_err());
    }

    #[test]
    fn logic_short_circuits_over_unknowns() {
        assert_eq!(
            bin("&&", Value::Bool(false), unknown()),
            Ok(Value::Bool(false))
        );
        assert_eq!(
            bin("||", unknown(), Value::Bool(true)),
            Ok(Value::Bool(true))
        );
        assert!(matches!(
            bin("&&", Value::Bool(true), unknown()),
            Ok(Value::Unknown(_))
        ));
        assert!(bin("&&", Value::Int(1), unknown()).is_err());
    }

    #[test]
    fn unknown_operands_defer_but_type_errors_do_not() {
        let v = bin("+", unknown(), Value::Int(1)).expect("deferred");
        match v {
            Value::Unknown(d) => assert!(
                matches!(*d, Deferred::Op { ref op, ref args } if op == "+" && args.len() == 2)
            ),
            other => panic!("expected unknown, got {other:?}"),
        }
        assert!(bin("*", unknown(), Value::Str("x".into())).is_err());
        assert!(matches!(unary("!", unknown()), Ok(Value::Unknown(_))));
        assert!(matches!(
            bin("==", Value::List(vec![unknown()]), Value::Null),
            Ok(Value::Unknown(_))
        ));
    }

    #[test]
    fn concat_merges_strings() {
        assert_eq!(
            build_concat(vec![Value::Str("a".into()), Value::Str("b".into())]),
            Value::Str("ab".into())
        );
        assert_eq!(build_concat(vec![]), Value::Str(String::new()));
        let v = build_concat(vec![
            Value::Str("a".into()),
            Value::Str("b".into()),
            unknown(),
            Value::Str("c".into()),
        ]);
        match v {
            Value::Unknown(d) => match *d {
                Deferred::Concat(parts) => {
                    assert_eq!(parts.len(), 3);
                    assert_eq!(parts[0], Value::Str("ab".into()));
                }
                other => panic!("expected concat, got {other:?}"),
            },
            other => panic!("expected unknown, got {other:?}"),
        }
    }

    #[test]
    fn interpolation_text() {
        assert_eq!(interp_text(&Value::Float(1.5)), Ok("1.5".into()));
        assert_eq!(interp_text(&Value::Bool(true)), Ok("true".into()));
        assert!(interp_text(&Value::Null).is_err());
        assert!(
            interp_text(&Value::List(vec![]))
                .expect_err("list")
                .help
                .is_some()
        );
    }
}

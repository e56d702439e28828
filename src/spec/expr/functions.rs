//! Built-in functions.
//!
//! Owns the function table: each function's parameters, how arguments are checked and converted,
//! and what it computes. Checking is table-driven so every function reports arity and type
//! mistakes the same way. Functions are pure and deterministic (no clock, no files, no network):
//! a plan must be reproducible. A function sees unknown arguments only if it is marked
//! `structural`, because only those can say something useful about a partly unknown input (the
//! `length` of a list of unknown IDs is known); every other function is deferred as a whole.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::ops::{article, scalar_text, values_equal};
use crate::spec::cidr::Ipv4Cidr;
use crate::spec::value::{Deferred, Value};

/// Why a call failed. The evaluator turns these into diagnostics with the call's spans.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FnError {
    /// Wrong number of arguments (`expr::arity`).
    Arity(String),
    /// An argument of the wrong type (`expr::type`); `arg` is its position.
    Type { arg: Option<usize>, message: String },
    /// The function's own error, e.g. a subnet that does not fit (`expr::function`).
    Failed { arg: Option<usize>, message: String },
    /// An input the function needs is unknown: the call is deferred to apply time.
    Defer,
}

impl FnError {
    pub(crate) fn into_message(self) -> String {
        match self {
            FnError::Arity(m)
            | FnError::Type { message: m, .. }
            | FnError::Failed { message: m, .. } => m,
            FnError::Defer => "the call depends on values not known yet".to_string(),
        }
    }
}

fn failed(message: impl Into<String>) -> FnError {
    FnError::Failed {
        arg: None,
        message: message.into(),
    }
}

fn failed_at(arg: usize, message: impl Into<String>) -> FnError {
    FnError::Failed {
        arg: Some(arg),
        message: message.into(),
    }
}

fn type_at(arg: usize, message: impl Into<String>) -> FnError {
    FnError::Type {
        arg: Some(arg),
        message: message.into(),
    }
}

/// What a parameter accepts. Scalars convert like Terraform's: a number passed where a string
/// is expected becomes its text, and a numeric string passed where a number is expected is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Any,
    Str,
    Num,
    Int,
    List,
    Map,
    /// A map, or null (skipped by `merge`).
    MapOrNull,
    /// A string, list or map (`length`).
    Sized,
}

impl Ty {
    fn describe(self) -> &'static str {
        match self {
            Ty::Any => "any value",
            Ty::Str => "a string",
            Ty::Num => "a number",
            Ty::Int => "a whole number",
            Ty::List => "a list",
            Ty::Map => "a map",
            Ty::MapOrNull => "a map or null",
            Ty::Sized => "a string, list or map",
        }
    }

    fn convert(self, v: Value) -> Result<Value, Value> {
        match (self, v) {
            (Ty::Any, v) => Ok(v),
            (Ty::Str, v @ Value::Str(_)) => Ok(v),
            (Ty::Str, v @ (Value::Int(_) | Value::Float(_) | Value::Bool(_))) => {
                Ok(Value::Str(scalar_text(&v).unwrap_or_default()))
            }
            (Ty::Num, v @ (Value::Int(_) | Value::Float(_))) => Ok(v),
            (Ty::Num, Value::Str(s)) => parse_number(&s).ok_or(Value::Str(s)),
            (Ty::Int, v) => match v.as_i64() {
                Some(i) => Ok(Value::Int(i)),
                None => match &v {
                    Value::Str(s) => s
                        .trim()
                        .parse::<i64>()
                        .map(Value::Int)
                        .map_err(|_| v.clone()),
                    _ => Err(v),
                },
            },
            (Ty::List, v @ Value::List(_)) => Ok(v),
            (Ty::Map | Ty::MapOrNull, v @ Value::Map(_)) => Ok(v),
            (Ty::MapOrNull, Value::Null) => Ok(Value::Null),
            (Ty::Sized, v @ (Value::Str(_) | Value::List(_) | Value::Map(_))) => Ok(v),
            (_, v) => Err(v),
        }
    }
}

fn parse_number(s: &str) -> Option<Value> {
    let s = s.trim();
    if let Ok(i) = s.parse::<i64>() {
        return Some(Value::Int(i));
    }
    // Rust accepts "inf" and "NaN"; the spec language has no such numbers.
    s.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Value::Float)
}

#[derive(Debug, Clone, Copy)]
struct Param {
    name: &'static str,
    ty: Ty,
}

const fn p(name: &'static str, ty: Ty) -> Param {
    Param { name, ty }
}

type Impl = fn(&[Value]) -> Result<Value, FnError>;

/// One built-in function.
pub(crate) struct FnDef {
    pub name: &'static str,
    /// How to call it, for arity errors: `cidrsubnet(prefix, newbits, netnum)`.
    pub usage: &'static str,
    params: &'static [Param],
    /// How many trailing `params` may be omitted.
    optional: usize,
    /// Accepts any number of further arguments of this kind.
    rest: Option<Param>,
    /// Sees unknown arguments itself instead of being deferred whenever any argument is unknown.
    structural: bool,
    run: Impl,
}

impl FnDef {
    fn param(&self, i: usize) -> Option<Param> {
        self.params.get(i).copied().or(self.rest)
    }

    /// Checks arity and argument types, then runs the function or defers it.
    pub(crate) fn call(&self, args: Vec<Value>) -> Result<Value, FnError> {
        let min = self.params.len() - self.optional;
        let max = if self.rest.is_some() {
            usize::MAX
        } else {
            self.params.len()
        };
        if args.len() < min || args.len() > max {
            let expected = match (min, max) {
                (min, usize::MAX) => format!("at least {min} argument{}", plural(min)),
                (min, max) if min == max => format!("{min} argument{}", plural(min)),
                (min, max) => format!("{min} to {max} arguments"),
            };
            return Err(FnError::Arity(format!(
                "{}() takes {expected}, but {} {} given",
                self.name,
                args.len(),
                if args.len() == 1 { "was" } else { "were" }
            )));
        }
        let mut converted = Vec::with_capacity(args.len());
        for (i, arg) in args.into_iter().enumerate() {
            let param = self
                .param(i)
                .expect("arity was checked against params and rest");
            if matches!(arg, Value::Unknown(_)) {
                converted.push(arg);
                continue;
            }
            match param.ty.convert(arg) {
                Ok(v) => converted.push(v),
                Err(v) => {
                    return Err(type_at(
                        i,
                        format!(
                            "argument {} (`{}`) of {}() must be {}, found {}",
                            i + 1,
                            param.name,
                            self.name,
                            param.ty.describe(),
                            describe_value(&v)
                        ),
                    ));
                }
            }
        }
        let deferred = |args| {
            Value::unknown(Deferred::Call {
                name: self.name.to_string(),
                args,
            })
        };
        if !self.structural && converted.iter().any(Value::has_unknown) {
            return Ok(deferred(converted));
        }
        match (self.run)(&converted) {
            Err(FnError::Defer) => Ok(deferred(converted)),
            other => other,
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `string "abc"`, `number 4`, `a list`: what a message shows of a rejected value.
fn describe_value(v: &Value) -> String {
    match v {
        Value::Str(s) if s.chars().count() <= 40 => format!("string {s:?}"),
        Value::Int(_) | Value::Float(_) => format!("number {v}"),
        Value::Bool(b) => format!("bool {b}"),
        _ => article(v.type_name()),
    }
}

use Ty::{Any, Int, List, Map, MapOrNull, Num, Sized, Str};

/// Shorthand for a table entry with only required parameters.
const fn f(name: &'static str, usage: &'static str, params: &'static [Param], run: Impl) -> FnDef {
    FnDef {
        name,
        usage,
        params,
        optional: 0,
        rest: None,
        structural: false,
        run,
    }
}

static FUNCTIONS: &[FnDef] = &[
    f("abs", "abs(number)", &[p("number", Num)], abs),
    f("ceil", "ceil(number)", &[p("number", Num)], ceil),
    f(
        "cidrhost",
        "cidrhost(prefix, hostnum)",
        &[p("prefix", Str), p("hostnum", Int)],
        cidrhost,
    ),
    f(
        "cidrsubnet",
        "cidrsubnet(prefix, newbits, netnum)",
        &[p("prefix", Str), p("newbits", Int), p("netnum", Int)],
        cidrsubnet,
    ),
    FnDef {
        structural: true,
        ..f(
            "coalesce",
            "coalesce(value, ...)",
            &[p("value", Any)],
            coalesce,
        )
    }
    .rest(Any),
    f("compact", "compact(list)", &[p("list", List)], compact),
    FnDef {
        structural: true,
        ..f("concat", "concat(list, ...)", &[p("list", List)], concat)
    }
    .rest(List),
    f(
        "contains",
        "contains(list, value)",
        &[p("list", List), p("value", Any)],
        contains,
    ),
    f("distinct", "distinct(list)", &[p("list", List)], distinct),
    FnDef {
        structural: true,
        ..f(
            "element",
            "element(list, index)",
            &[p("list", List), p("index", Int)],
            element,
        )
    },
    f(
        "endswith",
        "endswith(string, suffix)",
        &[p("string", Str), p("suffix", Str)],
        endswith,
    ),
    f("flatten", "flatten(list)", &[p("list", List)], flatten),
    f("floor", "floor(number)", &[p("number", Num)], floor),
    f(
        "format",
        "format(spec, values...)",
        &[p("spec", Str)],
        format,
    )
    .rest(Any),
    f(
        "join",
        "join(separator, list, ...)",
        &[p("separator", Str), p("list", List)],
        join,
    )
    .rest(List),
    f(
        "jsonencode",
        "jsonencode(value)",
        &[p("value", Any)],
        jsonencode,
    ),
    FnDef {
        structural: true,
        ..f("keys", "keys(map)", &[p("map", Map)], keys)
    },
    FnDef {
        structural: true,
        ..f("length", "length(value)", &[p("value", Sized)], length)
    },
    FnDef {
        optional: 1,
        structural: true,
        ..f(
            "lookup",
            "lookup(map, key[, default])",
            &[p("map", Map), p("key", Str), p("default", Any)],
            lookup,
        )
    },
    f("lower", "lower(string)", &[p("string", Str)], lower),
    f("max", "max(number, ...)", &[p("number", Num)], max).rest(Num),
    FnDef {
        structural: true,
        ..f("merge", "merge(map, ...)", &[], merge)
    }
    .rest(MapOrNull),
    f("min", "min(number, ...)", &[p("number", Num)], min).rest(Num),
    FnDef {
        optional: 2,
        ..f(
            "range",
            "range(limit) or range(start, limit[, step])",
            &[p("start_or_limit", Int), p("limit", Int), p("step", Int)],
            range,
        )
    },
    f(
        "replace",
        "replace(string, substring, replacement)",
        &[p("string", Str), p("substring", Str), p("replacement", Str)],
        replace,
    ),
    FnDef {
        structural: true,
        ..f("reverse", "reverse(list)", &[p("list", List)], reverse)
    },
    FnDef {
        structural: true,
        ..f(
            "slice",
            "slice(list, start, end)",
            &[p("list", List), p("start", Int), p("end", Int)],
            slice,
        )
    },
    f("sort", "sort(list)", &[p("list", List)], sort),
    f(
        "split",
        "split(separator, string)",
        &[p("separator", Str), p("string", Str)],
        split,
    ),
    f(
        "startswith",
        "startswith(string, prefix)",
        &[p("string", Str), p("prefix", Str)],
        startswith,
    ),
    f(
        "substr",
        "substr(string, offset, length)",
        &[p("string", Str), p("offset", Int), p("length", Int)],
        substr,
    ),
    f("tonumber", "tonumber(value)", &[p("value", Any)], tonumber),
    f("tostring", "tostring(value)", &[p("value", Any)], tostring),
    f(
        "trimprefix",
        "trimprefix(string, prefix)",
        &[p("string", Str), p("prefix", Str)],
        trimprefix,
    ),
    f(
        "trimspace",
        "trimspace(string)",
        &[p("string", Str)],
        trimspace,
    ),
    f(
        "trimsuffix",
        "trimsuffix(string, suffix)",
        &[p("string", Str), p("suffix", Str)],
        trimsuffix,
    ),
    f("upper", "upper(string)", &[p("string", Str)], upper),
    FnDef {
        structural: true,
        ..f("values", "values(map)", &[p("map", Map)], values)
    },
    FnDef {
        structural: true,
        ..f(
            "zipmap",
            "zipmap(keys, values)",
            &[p("keys", List), p("values", List)],
            zipmap,
        )
    },
];

impl FnDef {
    const fn rest(self, ty: Ty) -> FnDef {
        FnDef {
            rest: Some(p("value", ty)),
            ..self
        }
    }
}

/// The definition of a built-in function.
pub(crate) fn find(name: &str) -> Option<&'static FnDef> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// Names of all built-in functions, sorted: for "did you mean" and documentation.
pub fn function_names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| FUNCTIONS.iter().map(|f| f.name).collect())
}

/// Calls a built-in function on evaluated arguments, deferring it if they are not all known.
/// Used by `resolve` at apply time and by tools that want a function without an expression.
pub fn call_function(name: &str, args: Vec<Value>) -> Result<Value, String> {
    let def = find(name).ok_or_else(|| format!("unknown function `{name}`"))?;
    def.call(args).map_err(FnError::into_message)
}

// Argument accessors. After `FnDef::call` converted the arguments these cannot fail, but they
// return errors instead of panicking so a table mistake degrades into a message.

fn str_arg(args: &[Value], i: usize) -> Result<&str, FnError> {
    args.get(i)
        .and_then(Value::as_str)
        .ok_or_else(|| type_at(i, format!("argument {} must be a string", i + 1)))
}

fn int_arg(args: &[Value], i: usize) -> Result<i64, FnError> {
    args.get(i)
        .and_then(Value::as_i64)
        .ok_or_else(|| type_at(i, format!("argument {} must be a whole number", i + 1)))
}

fn num_arg(args: &[Value], i: usize) -> Result<f64, FnError> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n as f64),
        Some(Value::Float(x)) => Ok(*x),
        _ => Err(type_at(i, format!("argument {} must be a number", i + 1))),
    }
}

fn list_arg(args: &[Value], i: usize) -> Result<&[Value], FnError> {
    match args.get(i) {
        Some(Value::List(items)) => Ok(items),
        Some(Value::Unknown(_)) => Err(FnError::Defer),
        _ => Err(type_at(i, format!("argument {} must be a list", i + 1))),
    }
}

fn map_arg(args: &[Value], i: usize) -> Result<&BTreeMap<String, Value>, FnError> {
    match args.get(i) {
        Some(Value::Map(m)) => Ok(m),
        Some(Value::Unknown(_)) => Err(FnError::Defer),
        _ => Err(type_at(i, format!("argument {} must be a map", i + 1))),
    }
}

/// The elements of a list argument as strings (numbers and bools converted).
fn string_items(args: &[Value], i: usize, fname: &str) -> Result<Vec<String>, FnError> {
    list_arg(args, i)?
        .iter()
        .enumerate()
        .map(|(j, v)| {
            scalar_text(v).ok_or_else(|| {
                type_at(
                    i,
                    format!(
                        "{fname}() needs a list of strings, but element {j} is {}",
                        article(v.type_name())
                    ),
                )
            })
        })
        .collect()
}

fn str_value(s: impl Into<String>) -> Result<Value, FnError> {
    Ok(Value::Str(s.into()))
}

fn strings(items: impl IntoIterator<Item = String>) -> Value {
    Value::List(items.into_iter().map(Value::Str).collect())
}

fn float_or_int(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::Int(x as i64)
    } else {
        Value::Float(x)
    }
}

// ---- numbers ----

fn abs(args: &[Value]) -> Result<Value, FnError> {
    match &args[0] {
        Value::Int(i) => i
            .checked_abs()
            .map(Value::Int)
            .ok_or_else(|| failed("abs() overflows")),
        _ => Ok(Value::Float(num_arg(args, 0)?.abs())),
    }
}

fn ceil(args: &[Value]) -> Result<Value, FnError> {
    Ok(float_or_int(num_arg(args, 0)?.ceil()))
}

fn floor(args: &[Value]) -> Result<Value, FnError> {
    Ok(float_or_int(num_arg(args, 0)?.floor()))
}

fn min(args: &[Value]) -> Result<Value, FnError> {
    extreme(args, std::cmp::Ordering::Less)
}

fn max(args: &[Value]) -> Result<Value, FnError> {
    extreme(args, std::cmp::Ordering::Greater)
}

fn extreme(args: &[Value], want: std::cmp::Ordering) -> Result<Value, FnError> {
    let mut best = 0;
    for i in 1..args.len() {
        if num_arg(args, i)?.partial_cmp(&num_arg(args, best)?) == Some(want) {
            best = i;
        }
    }
    Ok(args[best].clone())
}

fn num_of(v: &Value) -> Result<f64, FnError> {
    num_arg(std::slice::from_ref(v), 0)
}

fn range(args: &[Value]) -> Result<Value, FnError> {
    const LIMIT: i128 = 1024;
    let (start, limit, step) = match args.len() {
        1 => (0, int_arg(args, 0)?, 1),
        _ => {
            let (start, limit) = (int_arg(args, 0)?, int_arg(args, 1)?);
            let default_step = if start > limit { -1 } else { 1 };
            (
                start,
                limit,
                if args.len() > 2 {
                    int_arg(args, 2)?
                } else {
                    default_step
                },
            )
        }
    };
    if step == 0 {
        return Err(failed_at(2, "range() step must not be zero"));
    }
    let (start, limit, step) = (i128::from(start), i128::from(limit), i128::from(step));
    let count = if (step > 0 && start >= limit) || (step < 0 && start <= limit) {
        0
    } else {
        ((limit - start).abs() + step.abs() - 1) / step.abs()
    };
    if count > LIMIT {
        return Err(failed(format!(
            "range() would produce {count} numbers; the limit is {LIMIT}"
        )));
    }
    let items = (0..count)
        .filter_map(|n| i64::try_from(start + n * step).ok())
        .map(Value::Int)
        .collect();
    Ok(Value::List(items))
}

// ---- networking ----

fn cidrsubnet(args: &[Value]) -> Result<Value, FnError> {
    let prefix = Ipv4Cidr::parse(str_arg(args, 0)?)
        .map_err(|e| failed_at(0, format!("invalid prefix: {e}")))?;
    let newbits = int_arg(args, 1)?;
    let newbits = u8::try_from(newbits)
        .ok()
        .filter(|n| *n <= 32)
        .ok_or_else(|| {
            failed_at(
                1,
                format!("newbits must be between 0 and 32, found {newbits}"),
            )
        })?;
    let netnum = int_arg(args, 2)?;
    let netnum = u64::try_from(netnum)
        .map_err(|_| failed_at(2, format!("netnum must not be negative, found {netnum}")))?;
    let subnet = prefix.subnet(newbits, netnum).map_err(failed)?;
    str_value(subnet.to_string())
}

fn cidrhost(args: &[Value]) -> Result<Value, FnError> {
    let prefix = Ipv4Cidr::parse(str_arg(args, 0)?)
        .map_err(|e| failed_at(0, format!("invalid prefix: {e}")))?;
    let host = prefix
        .host(int_arg(args, 1)?)
        .map_err(|e| failed_at(1, e))?;
    str_value(host.to_string())
}

// ---- strings ----

fn join(args: &[Value]) -> Result<Value, FnError> {
    let sep = str_arg(args, 0)?;
    let mut items = Vec::new();
    for i in 1..args.len() {
        items.extend(string_items(args, i, "join")?);
    }
    str_value(items.join(sep))
}

fn split(args: &[Value]) -> Result<Value, FnError> {
    let (sep, s) = (str_arg(args, 0)?, str_arg(args, 1)?);
    if sep.is_empty() {
        // Splitting on "" yields characters, as Terraform does, not Rust's empty edge items.
        return Ok(strings(s.chars().map(String::from)));
    }
    Ok(strings(s.split(sep).map(String::from)))
}

fn lower(args: &[Value]) -> Result<Value, FnError> {
    str_value(str_arg(args, 0)?.to_lowercase())
}

fn upper(args: &[Value]) -> Result<Value, FnError> {
    str_value(str_arg(args, 0)?.to_uppercase())
}

fn trimspace(args: &[Value]) -> Result<Value, FnError> {
    str_value(str_arg(args, 0)?.trim())
}

fn trimprefix(args: &[Value]) -> Result<Value, FnError> {
    let (s, prefix) = (str_arg(args, 0)?, str_arg(args, 1)?);
    str_value(s.strip_prefix(prefix).unwrap_or(s))
}

fn trimsuffix(args: &[Value]) -> Result<Value, FnError> {
    let (s, suffix) = (str_arg(args, 0)?, str_arg(args, 1)?);
    str_value(s.strip_suffix(suffix).unwrap_or(s))
}

fn startswith(args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::Bool(
        str_arg(args, 0)?.starts_with(str_arg(args, 1)?),
    ))
}

fn endswith(args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::Bool(str_arg(args, 0)?.ends_with(str_arg(args, 1)?)))
}

fn replace(args: &[Value]) -> Result<Value, FnError> {
    let (s, sub, repl) = (str_arg(args, 0)?, str_arg(args, 1)?, str_arg(args, 2)?);
    if sub.is_empty() {
        return Err(failed_at(
            1,
            "replace() needs a non-empty substring to replace",
        ));
    }
    if sub.len() > 2 && sub.starts_with('/') && sub.ends_with('/') {
        return Err(failed_at(
            1,
            format!(
                "replace() does not support regular expressions (got {sub:?}); give the exact text to replace"
            ),
        ));
    }
    str_value(s.replace(sub, repl))
}

fn substr(args: &[Value]) -> Result<Value, FnError> {
    let chars: Vec<char> = str_arg(args, 0)?.chars().collect();
    let len = i64::try_from(chars.len()).unwrap_or(i64::MAX);
    let (offset, length) = (int_arg(args, 1)?, int_arg(args, 2)?);
    let start = if offset < 0 { len + offset } else { offset };
    if !(0..=len).contains(&start) {
        return Err(failed_at(
            1,
            format!("offset {offset} is outside the string, which has {len} characters"),
        ));
    }
    let end = match length {
        -1 => len,
        l if l < 0 => {
            return Err(failed_at(
                2,
                format!("length must be -1 (to the end) or at least 0, found {l}"),
            ));
        }
        l => start.saturating_add(l).min(len),
    };
    // Both bounds are within 0..=len, which came from a usize.
    let (start, end) = (
        usize::try_from(start).unwrap_or(0),
        usize::try_from(end).unwrap_or(0),
    );
    str_value(chars[start..end].iter().collect::<String>())
}

fn format(args: &[Value]) -> Result<Value, FnError> {
    let spec = str_arg(args, 0)?;
    let values = &args[1..];
    let mut out = String::new();
    let mut used = 0;
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // Flags, width and precision: `%-10s`, `%03d`, `%.2f`.
        let mut left = false;
        let mut zero = false;
        while let Some(&flag @ ('-' | '0')) = chars.peek() {
            left |= flag == '-';
            zero |= flag == '0';
            chars.next();
        }
        let width = take_digits(&mut chars);
        let precision = if chars.peek() == Some(&'.') {
            chars.next();
            Some(take_digits(&mut chars).unwrap_or(0))
        } else {
            None
        };
        let Some(verb) = chars.next() else {
            return Err(failed_at(
                0,
                "the format string ends with an incomplete `%` verb; write `%%` for a percent sign",
            ));
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(value) = values.get(used) else {
            return Err(failed(format!(
                "the format string has more verbs than values: `%{verb}` is verb {} but only {} value{} given",
                used + 1,
                values.len(),
                if values.len() == 1 { " was" } else { "s were" }
            )));
        };
        used += 1;
        let arg = used; // position in `args`, for the label
        let text = match verb {
            's' => scalar_text(value).ok_or_else(|| {
                type_at(
                    arg,
                    format!(
                        "%s cannot format {}; use %v or jsonencode()",
                        article(value.type_name())
                    ),
                )
            })?,
            'd' => match value {
                Value::Int(i) => i.to_string(),
                Value::Float(x) if x.fract() == 0.0 => format!("{x:.0}"),
                other => {
                    return Err(type_at(
                        arg,
                        format!("%d needs a whole number, found {}", describe_value(other)),
                    ));
                }
            },
            'f' => match value {
                Value::Int(_) | Value::Float(_) => {
                    format!("{:.*}", precision.unwrap_or(6), num_of(value)?)
                }
                other => {
                    return Err(type_at(
                        arg,
                        format!("%f needs a number, found {}", describe_value(other)),
                    ));
                }
            },
            'v' => match value {
                Value::List(_) | Value::Map(_) => value.to_json().to_string(),
                Value::Null => "null".to_string(),
                other => scalar_text(other).unwrap_or_default(),
            },
            'q' => match scalar_text(value) {
                Some(s) => serde_json::Value::String(s).to_string(),
                None => {
                    return Err(type_at(
                        arg,
                        format!("%q needs a string, found {}", article(value.type_name())),
                    ));
                }
            },
            other => {
                return Err(failed_at(
                    0,
                    format!(
                        "unsupported format verb `%{other}`; supported verbs are %s %d %f %v %q and %%"
                    ),
                ));
            }
        };
        out.push_str(&pad(
            text,
            width.unwrap_or(0),
            left,
            zero && matches!(verb, 'd' | 'f'),
        ));
    }
    if used < values.len() {
        return Err(failed(format!(
            "the format string uses {used} value{} but {} were given",
            plural(used),
            values.len()
        )));
    }
    str_value(out)
}

fn take_digits(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        // Widths beyond a few hundred are mistakes; capping keeps a hostile spec from allocating.
        n = Some((n.unwrap_or(0) * 10 + d as usize).min(1000));
        chars.next();
    }
    n
}

fn pad(text: String, width: usize, left: bool, zero: bool) -> String {
    let len = text.chars().count();
    if len >= width {
        return text;
    }
    let fill = width - len;
    if left {
        format!("{text}{}", " ".repeat(fill))
    } else if zero {
        match text.strip_prefix('-') {
            Some(digits) => format!("-{}{digits}", "0".repeat(fill)),
            None => format!("{}{text}", "0".repeat(fill)),
        }
    } else {
        format!("{}{text}", " ".repeat(fill))
    }
}

fn tostring(args: &[Value]) -> Result<Value, FnError> {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        v => match scalar_text(v) {
            Some(s) => str_value(s),
            None => Err(type_at(
                0,
                format!(
                    "cannot convert {} to a string; use jsonencode() or join()",
                    article(v.type_name())
                ),
            )),
        },
    }
}

fn tonumber(args: &[Value]) -> Result<Value, FnError> {
    match &args[0] {
        v @ (Value::Null | Value::Int(_) | Value::Float(_)) => Ok(v.clone()),
        Value::Str(s) => {
            parse_number(s).ok_or_else(|| failed_at(0, format!("cannot convert {s:?} to a number")))
        }
        v => Err(type_at(
            0,
            format!("cannot convert {} to a number", article(v.type_name())),
        )),
    }
}

fn jsonencode(args: &[Value]) -> Result<Value, FnError> {
    serde_json::to_string(&args[0].to_json())
        .map(Value::Str)
        .map_err(|e| failed(format!("cannot encode as JSON: {e}")))
}

// ---- collections ----

fn length(args: &[Value]) -> Result<Value, FnError> {
    let n = match &args[0] {
        Value::Str(s) => s.chars().count(),
        // A list of unknown IDs still has a known length: for_each and count depend on this.
        Value::List(items) => items.len(),
        Value::Map(m) => m.len(),
        Value::Unknown(_) => return Err(FnError::Defer),
        other => {
            return Err(type_at(
                0,
                format!(
                    "length() needs a string, list or map, found {}",
                    article(other.type_name())
                ),
            ));
        }
    };
    Ok(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
}

fn concat(args: &[Value]) -> Result<Value, FnError> {
    let mut out = Vec::new();
    for i in 0..args.len() {
        out.extend_from_slice(list_arg(args, i)?);
    }
    Ok(Value::List(out))
}

fn merge(args: &[Value]) -> Result<Value, FnError> {
    let mut out = BTreeMap::new();
    for (i, arg) in args.iter().enumerate() {
        if matches!(arg, Value::Null) {
            continue;
        }
        // Later maps win, so every earlier map must be known too before keys can be decided.
        out.extend(
            map_arg(args, i)?
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
    }
    Ok(Value::Map(out))
}

fn lookup(args: &[Value]) -> Result<Value, FnError> {
    let map = map_arg(args, 0)?;
    let key = match &args[1] {
        Value::Unknown(_) => return Err(FnError::Defer),
        _ => str_arg(args, 1)?,
    };
    if let Some(v) = map.get(key) {
        return Ok(v.clone());
    }
    match args.get(2) {
        Some(default) => Ok(default.clone()),
        None => Err(failed_at(
            1,
            format!("the map has no key {key:?}; {}", available_keys(map)),
        )),
    }
}

/// "available keys: a, b" (or "the map is empty"), shortened for big maps.
pub(crate) fn available_keys(map: &BTreeMap<String, Value>) -> String {
    if map.is_empty() {
        return "the map is empty".to_string();
    }
    let mut keys: Vec<String> = map.keys().take(10).map(|k| format!("{k:?}")).collect();
    if map.len() > 10 {
        keys.push(format!("and {} more", map.len() - 10));
    }
    format!("available keys: {}", keys.join(", "))
}

fn element(args: &[Value]) -> Result<Value, FnError> {
    let items = list_arg(args, 0)?;
    if matches!(args[1], Value::Unknown(_)) {
        return Err(FnError::Defer);
    }
    let index = int_arg(args, 1)?;
    if items.is_empty() {
        return Err(failed_at(
            0,
            "element() cannot take an element of an empty list",
        ));
    }
    let index = usize::try_from(index).map_err(|_| {
        failed_at(
            1,
            format!("element() needs an index of 0 or more, found {index}"),
        )
    })?;
    // Wraps around, as Terraform's element() does.
    Ok(items[index % items.len()].clone())
}

fn keys(args: &[Value]) -> Result<Value, FnError> {
    Ok(strings(map_arg(args, 0)?.keys().cloned()))
}

fn values(args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::List(map_arg(args, 0)?.values().cloned().collect()))
}

fn contains(args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::Bool(
        list_arg(args, 0)?.iter().any(|v| values_equal(v, &args[1])),
    ))
}

fn coalesce(args: &[Value]) -> Result<Value, FnError> {
    for v in args {
        match v {
            // An earlier unknown might turn out non-null, so nothing after it can be chosen yet.
            Value::Unknown(_) => return Err(FnError::Defer),
            Value::Null => {}
            Value::Str(s) if s.is_empty() => {}
            v => return Ok(v.clone()),
        }
    }
    Err(failed(
        "coalesce() found no argument that is non-null and non-empty",
    ))
}

fn compact(args: &[Value]) -> Result<Value, FnError> {
    let items = list_arg(args, 0)?;
    let mut out = Vec::new();
    for (j, v) in items.iter().enumerate() {
        match v {
            Value::Null => {}
            Value::Str(s) if s.is_empty() => {}
            v => out.push(Value::Str(scalar_text(v).ok_or_else(|| {
                type_at(
                    0,
                    format!(
                        "compact() needs a list of strings, but element {j} is {}",
                        article(v.type_name())
                    ),
                )
            })?)),
        }
    }
    Ok(Value::List(out))
}

fn distinct(args: &[Value]) -> Result<Value, FnError> {
    let mut out: Vec<Value> = Vec::new();
    for v in list_arg(args, 0)? {
        if !out.iter().any(|seen| values_equal(seen, v)) {
            out.push(v.clone());
        }
    }
    Ok(Value::List(out))
}

fn flatten(args: &[Value]) -> Result<Value, FnError> {
    fn go(items: &[Value], out: &mut Vec<Value>) {
        for v in items {
            match v {
                Value::List(inner) => go(inner, out),
                v => out.push(v.clone()),
            }
        }
    }
    let mut out = Vec::new();
    go(list_arg(args, 0)?, &mut out);
    Ok(Value::List(out))
}

fn reverse(args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::List(
        list_arg(args, 0)?.iter().rev().cloned().collect(),
    ))
}

fn slice(args: &[Value]) -> Result<Value, FnError> {
    let items = list_arg(args, 0)?;
    if args[1..].iter().any(|v| matches!(v, Value::Unknown(_))) {
        return Err(FnError::Defer);
    }
    let (start, end) = (int_arg(args, 1)?, int_arg(args, 2)?);
    let len = items.len();
    let start_ok = usize::try_from(start).ok().filter(|s| *s <= len);
    let end_ok = usize::try_from(end).ok().filter(|e| *e <= len);
    match (start_ok, end_ok) {
        (Some(s), Some(e)) if s <= e => Ok(Value::List(items[s..e].to_vec())),
        (None, _) => Err(failed_at(
            1,
            format!("start index {start} is outside the list, which has {len} elements"),
        )),
        (_, None) => Err(failed_at(
            2,
            format!("end index {end} is outside the list, which has {len} elements"),
        )),
        _ => Err(failed(format!(
            "slice() start index {start} is after the end index {end}"
        ))),
    }
}

fn sort(args: &[Value]) -> Result<Value, FnError> {
    let mut items = string_items(args, 0, "sort")?;
    items.sort();
    Ok(strings(items))
}

fn zipmap(args: &[Value]) -> Result<Value, FnError> {
    let keys = list_arg(args, 0)?;
    if keys.iter().any(Value::has_unknown) {
        return Err(FnError::Defer);
    }
    let keys = string_items(args, 0, "zipmap")?;
    let values = list_arg(args, 1)?;
    if keys.len() != values.len() {
        return Err(failed(format!(
            "zipmap() needs as many keys as values, but got {} keys and {} values",
            keys.len(),
            values.len()
        )));
    }
    Ok(Value::Map(
        keys.into_iter().zip(values.iter().cloned()).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::expr::test_support::{list, map, s, unknown_id};

    fn i(n: i64) -> Value {
        Value::Int(n)
    }

    fn call(name: &str, args: Vec<Value>) -> Value {
        call_function(name, args.clone()).unwrap_or_else(|e| panic!("{name}({args:?}) failed: {e}"))
    }

    fn call_err(name: &str, args: Vec<Value>) -> String {
        match call_function(name, args.clone()) {
            Ok(v) => panic!("{name}({args:?}) should fail, got {v:?}"),
            Err(e) => e,
        }
    }

    fn strs(items: &[&str]) -> Value {
        list(items.iter().map(|x| s(x)).collect())
    }

    fn is_deferred_call(v: &Value, want: &str) -> bool {
        matches!(v, Value::Unknown(d) if matches!(d.as_ref(), Deferred::Call { name, .. } if name == want))
    }

    #[test]
    fn table_is_sorted_and_complete() {
        let names = function_names();
        assert!(
            names.windows(2).all(|w| w[0] < w[1]),
            "sorted and unique: {names:?}"
        );
        for required in [
            "cidrsubnet",
            "cidrhost",
            "join",
            "split",
            "format",
            "lower",
            "upper",
            "length",
            "concat",
            "merge",
            "lookup",
            "element",
            "keys",
            "values",
            "contains",
            "coalesce",
            "range",
            "replace",
            "trimspace",
            "substr",
            "tostring",
            "tonumber",
            "jsonencode",
            "distinct",
            "flatten",
            "zipmap",
        ] {
            assert!(names.contains(&required), "{required}");
        }
        for def in FUNCTIONS {
            assert!(def.optional <= def.params.len(), "{}", def.name);
            assert!(def.usage.starts_with(def.name), "{}", def.name);
        }
        assert_eq!(call_err("nope", vec![]), "unknown function `nope`");
    }

    #[test]
    fn cidr_functions() {
        assert_eq!(
            call("cidrsubnet", vec![s("10.0.0.0/16"), i(4), i(2)]),
            s("10.0.32.0/20")
        );
        assert_eq!(
            call("cidrsubnet", vec![s("10.0.0.0/16"), s("8"), s("3")]),
            s("10.0.3.0/24")
        );
        assert!(
            call_err("cidrsubnet", vec![s("10.0.0.0/16"), i(20), i(0)]).contains("longer than 32")
        );
        assert!(call_err("cidrsubnet", vec![s("10.0.0.0/16"), i(4), i(16)]).contains("0 to 15"));
        assert!(
            call_err("cidrsubnet", vec![s("10.0.0.0/16"), i(-1), i(0)])
                .contains("between 0 and 32")
        );
        assert!(call_err("cidrsubnet", vec![s("10.0.0.0/16"), i(4), i(-1)]).contains("negative"));
        assert!(
            call_err("cidrsubnet", vec![s("10.0.0.1/16"), i(4), i(1)])
                .contains("did you mean 10.0.0.0/16")
        );
        assert_eq!(
            call("cidrhost", vec![s("10.0.1.0/24"), i(5)]),
            s("10.0.1.5")
        );
        assert_eq!(
            call("cidrhost", vec![s("10.0.1.0/24"), i(-2)]),
            s("10.0.1.254")
        );
        assert!(call_err("cidrhost", vec![s("10.0.1.0/24"), i(256)]).contains("out of range"));
    }

    #[test]
    fn string_functions() {
        assert_eq!(
            call(
                "join",
                vec![
                    s("-"),
                    strs(&["a", "b"]),
                    list(vec![i(3), Value::Bool(true)])
                ]
            ),
            s("a-b-3-true")
        );
        assert!(
            call_err("join", vec![s("-"), list(vec![strs(&["x"])])])
                .contains("element 0 is a list")
        );
        assert_eq!(
            call("split", vec![s(","), s("a,b,,c")]),
            strs(&["a", "b", "", "c"])
        );
        assert_eq!(call("split", vec![s(""), s("ab")]), strs(&["a", "b"]));
        assert_eq!(call("lower", vec![s("AbC")]), s("abc"));
        assert_eq!(call("upper", vec![s("AbC")]), s("ABC"));
        assert_eq!(call("upper", vec![i(1)]), s("1"));
        assert!(
            call_err("upper", vec![strs(&[])])
                .contains("argument 1 (`string`) of upper() must be a string, found a list")
        );
        assert_eq!(call("trimspace", vec![s("  a b \n")]), s("a b"));
        assert_eq!(call("trimprefix", vec![s("prod-a"), s("prod-")]), s("a"));
        assert_eq!(call("trimsuffix", vec![s("a.yaml"), s(".yaml")]), s("a"));
        assert_eq!(
            call("startswith", vec![s("eu-west-1"), s("eu-")]),
            Value::Bool(true)
        );
        assert_eq!(
            call("endswith", vec![s("eu-west-1"), s("-2")]),
            Value::Bool(false)
        );
        assert_eq!(
            call("replace", vec![s("a.b.c"), s("."), s("-")]),
            s("a-b-c")
        );
        assert!(call_err("replace", vec![s("a"), s(""), s("-")]).contains("non-empty"));
        assert!(
            call_err("replace", vec![s("a"), s("/a+/"), s("-")]).contains("regular expressions")
        );
        assert_eq!(call("substr", vec![s("héllo"), i(1), i(3)]), s("éll"));
        assert_eq!(call("substr", vec![s("hello"), i(-3), i(-1)]), s("llo"));
        assert_eq!(call("substr", vec![s("hello"), i(2), i(100)]), s("llo"));
        assert_eq!(call("substr", vec![s("hello"), i(5), i(1)]), s(""));
        assert!(call_err("substr", vec![s("hello"), i(6), i(1)]).contains("outside the string"));
        assert!(call_err("substr", vec![s("hello"), i(0), i(-2)]).contains("length"));
    }

    #[test]
    fn format_verbs() {
        assert_eq!(
            call(
                "format",
                vec![s("%s-%d-%v-%%"), s("a"), i(7), Value::Bool(true)]
            ),
            s("a-7-true-%")
        );
        assert_eq!(
            call("format", vec![s("%v"), list(vec![i(1), s("x")])]),
            s("[1,\"x\"]")
        );
        assert_eq!(call("format", vec![s("%q"), s("a\"b")]), s("\"a\\\"b\""));
        assert_eq!(
            call(
                "format",
                vec![
                    s("node-%03d|%-4s|%4s|%.2f"),
                    i(7),
                    s("ab"),
                    s("cd"),
                    Value::Float(1.005)
                ]
            ),
            s("node-007|ab  |  cd|1.00")
        );
        assert_eq!(call("format", vec![s("%05d"), i(-42)]), s("-0042"));
        assert_eq!(call("format", vec![s("no verbs")]), s("no verbs"));
        assert!(call_err("format", vec![s("%s %s"), s("a")]).contains("more verbs than values"));
        assert!(
            call_err("format", vec![s("%s"), s("a"), s("b")])
                .contains("uses 1 value but 2 were given")
        );
        assert!(call_err("format", vec![s("%d"), s("x")]).contains("whole number"));
        assert!(call_err("format", vec![s("%s"), Value::Null]).contains("null"));
        assert!(call_err("format", vec![s("%x"), i(1)]).contains("unsupported format verb `%x`"));
        assert!(call_err("format", vec![s("100%")]).contains("incomplete"));
        assert!(call_err("format", vec![]).contains("at least 1 argument,"));
    }

    #[test]
    fn collection_functions() {
        assert_eq!(call("length", vec![s("héllo")]), i(5));
        assert_eq!(call("length", vec![strs(&["a", "b"])]), i(2));
        assert_eq!(call("length", vec![map(&[("a", i(1))])]), i(1));
        assert!(
            call_err("length", vec![i(1)])
                .contains("must be a string, list or map, found number 1")
        );
        assert_eq!(
            call("concat", vec![strs(&["a"]), strs(&[]), strs(&["b", "c"])]),
            strs(&["a", "b", "c"])
        );
        assert!(call_err("concat", vec![strs(&["a"]), s("b")]).contains("argument 2"));
        assert_eq!(
            call(
                "merge",
                vec![
                    map(&[("a", i(1)), ("b", i(1))]),
                    Value::Null,
                    map(&[("b", i(2))])
                ]
            ),
            map(&[("a", i(1)), ("b", i(2))])
        );
        assert_eq!(call("merge", vec![]), map(&[]));
        assert!(call_err("merge", vec![strs(&[])]).contains("a map or null"));
        let m = map(&[("a", i(1)), ("b", i(2))]);
        assert_eq!(call("lookup", vec![m.clone(), s("b")]), i(2));
        assert_eq!(
            call("lookup", vec![m.clone(), s("z"), s("dflt")]),
            s("dflt")
        );
        assert_eq!(
            call_err("lookup", vec![m.clone(), s("z")]),
            "the map has no key \"z\"; available keys: \"a\", \"b\""
        );
        assert!(call_err("lookup", vec![m.clone()]).contains("2 to 3 arguments"));
        assert_eq!(call("keys", vec![m.clone()]), strs(&["a", "b"]));
        assert_eq!(call("values", vec![m.clone()]), list(vec![i(1), i(2)]));
        assert_eq!(call("element", vec![strs(&["a", "b", "c"]), i(4)]), s("b"));
        assert!(call_err("element", vec![strs(&[]), i(0)]).contains("empty list"));
        assert!(call_err("element", vec![strs(&["a"]), i(-1)]).contains("0 or more"));
        assert_eq!(
            call("contains", vec![list(vec![i(1), i(2)]), Value::Float(2.0)]),
            Value::Bool(true)
        );
        assert_eq!(
            call("contains", vec![strs(&["a"]), s("b")]),
            Value::Bool(false)
        );
        assert!(call_err("contains", vec![s("abc"), s("b")]).contains("must be a list"));
        assert_eq!(
            call("coalesce", vec![Value::Null, s(""), s("x"), s("y")]),
            s("x")
        );
        assert!(call_err("coalesce", vec![Value::Null, s("")]).contains("no argument"));
        assert_eq!(
            call(
                "distinct",
                vec![list(vec![i(1), s("a"), i(1), s("a"), Value::Float(1.0)])]
            ),
            list(vec![i(1), s("a")])
        );
        assert_eq!(
            call(
                "flatten",
                vec![list(vec![
                    i(1),
                    list(vec![i(2), list(vec![i(3)])]),
                    list(vec![])
                ])]
            ),
            list(vec![i(1), i(2), i(3)])
        );
        assert!(call_err("flatten", vec![m.clone()]).contains("must be a list"));
        assert_eq!(
            call("zipmap", vec![strs(&["a", "b"]), list(vec![i(1), i(2)])]),
            m
        );
        assert!(
            call_err("zipmap", vec![strs(&["a"]), list(vec![])]).contains("1 keys and 0 values")
        );
        assert_eq!(call("reverse", vec![strs(&["a", "b"])]), strs(&["b", "a"]));
        assert_eq!(
            call("sort", vec![strs(&["b", "a", "c"])]),
            strs(&["a", "b", "c"])
        );
        assert_eq!(
            call("slice", vec![strs(&["a", "b", "c"]), i(1), i(3)]),
            strs(&["b", "c"])
        );
        assert!(call_err("slice", vec![strs(&["a"]), i(1), i(0)]).contains("after the end"));
        assert_eq!(
            call(
                "compact",
                vec![list(vec![s("a"), s(""), Value::Null, s("b")])]
            ),
            strs(&["a", "b"])
        );
    }

    #[test]
    fn range_forms() {
        assert_eq!(call("range", vec![i(3)]), list(vec![i(0), i(1), i(2)]));
        assert_eq!(
            call("range", vec![i(1), i(4)]),
            list(vec![i(1), i(2), i(3)])
        );
        assert_eq!(
            call("range", vec![i(4), i(1)]),
            list(vec![i(4), i(3), i(2)])
        );
        assert_eq!(
            call("range", vec![i(0), i(10), i(4)]),
            list(vec![i(0), i(4), i(8)])
        );
        assert_eq!(call("range", vec![i(0)]), list(vec![]));
        assert_eq!(call("range", vec![i(0), i(5), i(-1)]), list(vec![]));
        assert!(call_err("range", vec![i(0), i(1), i(0)]).contains("zero"));
        assert!(call_err("range", vec![i(1_000_000)]).contains("limit is 1024"));
        assert!(call_err("range", vec![i(i64::MIN), i(i64::MAX)]).contains("limit is 1024"));
        assert!(call_err("range", vec![Value::Float(1.5)]).contains("whole number"));
        assert!(call_err("range", vec![]).contains("1 to 3 arguments"));
    }

    #[test]
    fn number_functions() {
        assert_eq!(call("abs", vec![i(-3)]), i(3));
        assert_eq!(call("abs", vec![Value::Float(-1.5)]), Value::Float(1.5));
        assert!(call_err("abs", vec![i(i64::MIN)]).contains("overflows"));
        assert_eq!(call("ceil", vec![Value::Float(1.2)]), i(2));
        assert_eq!(call("floor", vec![Value::Float(-1.2)]), i(-2));
        assert_eq!(
            call("min", vec![i(3), Value::Float(1.5), i(2)]),
            Value::Float(1.5)
        );
        assert_eq!(call("max", vec![i(3), s("7"), i(2)]), i(7));
        assert!(call_err("max", vec![s("x")]).contains("must be a number"));
    }

    #[test]
    fn conversions() {
        assert_eq!(call("tostring", vec![i(5)]), s("5"));
        assert_eq!(call("tostring", vec![Value::Bool(false)]), s("false"));
        assert_eq!(call("tostring", vec![Value::Null]), Value::Null);
        assert!(call_err("tostring", vec![strs(&[])]).contains("jsonencode"));
        assert_eq!(call("tonumber", vec![s("42")]), i(42));
        assert_eq!(call("tonumber", vec![s(" 1.5 ")]), Value::Float(1.5));
        assert!(call_err("tonumber", vec![s("nan")]).contains("cannot convert"));
        assert!(call_err("tonumber", vec![Value::Bool(true)]).contains("a bool"));
        assert_eq!(
            call(
                "jsonencode",
                vec![map(&[("b", list(vec![i(1), Value::Null])), ("a", s("x"))])]
            ),
            s("{\"a\":\"x\",\"b\":[1,null]}")
        );
    }

    #[test]
    fn unknown_arguments_defer_or_stay_known() {
        assert!(is_deferred_call(
            &call("upper", vec![unknown_id()]),
            "upper"
        ));
        assert!(is_deferred_call(
            &call("join", vec![s(","), list(vec![unknown_id()])]),
            "join"
        ));
        assert!(is_deferred_call(
            &call("jsonencode", vec![map(&[("a", unknown_id())])]),
            "jsonencode"
        ));
        assert!(is_deferred_call(
            &call("length", vec![unknown_id()]),
            "length"
        ));
        assert!(is_deferred_call(
            &call("lookup", vec![map(&[]), unknown_id()]),
            "lookup"
        ));
        assert!(is_deferred_call(
            &call("element", vec![unknown_id(), i(0)]),
            "element"
        ));
        assert!(is_deferred_call(
            &call("coalesce", vec![Value::Null, unknown_id(), s("x")]),
            "coalesce"
        ));
        assert!(is_deferred_call(
            &call("zipmap", vec![list(vec![unknown_id()]), list(vec![i(1)])]),
            "zipmap"
        ));
        assert!(is_deferred_call(
            &call("merge", vec![unknown_id()]),
            "merge"
        ));
        assert_eq!(
            call("length", vec![list(vec![unknown_id(), unknown_id()])]),
            i(2)
        );
        assert_eq!(call("coalesce", vec![s("x"), unknown_id()]), s("x"));
        assert_eq!(
            call("element", vec![list(vec![s("a"), unknown_id()]), i(3)]),
            unknown_id()
        );
        assert_eq!(
            call("zipmap", vec![strs(&["k"]), list(vec![unknown_id()])]),
            map(&[("k", unknown_id())])
        );
        assert_eq!(
            call("values", vec![map(&[("k", unknown_id())])]),
            list(vec![unknown_id()])
        );
        // Arity and types of known arguments are still checked.
        assert!(call_err("upper", vec![unknown_id(), s("x")]).contains("takes 1 argument"));
        assert!(call_err("cidrsubnet", vec![unknown_id(), strs(&[]), i(1)]).contains("argument 2"));
    }
}

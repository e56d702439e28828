//! Rendering of `regionctl plan`: the human diff grouped per environment, Terraform's JSON plan
//! shape for policy tools (conftest/OPA), and a markdown pull-request comment that always fits
//! in one comment.
//!
//! Invariant: the value of an attribute listed in `ResourceChange::sensitive` (or of a drifted
//! attribute marked sensitive) never appears in any of the three outputs; only the fact that it
//! changed does. Values not known until apply are `(known after apply)` for people and follow
//! Terraform's `after_unknown` convention for machines.

use std::fmt::Write;

use serde_json::{Map, Value as J, json};

use super::Style;
use crate::addr::{InstanceAddr, InstanceKey};
use crate::plan::model::{Action, Drift, EnvPlan, Plan, Reason, ReplaceOrder, ResourceChange};
use crate::plan::model::{AttrDrift, Summary};
use crate::resource::Attrs;
use crate::spec::value::Value;

/// GitHub refuses comments over 65,536 characters; the margin leaves room for a bot's header.
pub const MARKDOWN_LIMIT: usize = 60_000;

const SENSITIVE: &str = "(sensitive value)";
const FORCES: &str = "  # forces replacement";
/// Indentation of the resource lines (symbol right-aligned in three columns after it).
const RES_INDENT: usize = 2;
/// Indentation of a resource's top-level attribute lines.
const ATTR_INDENT: usize = 6;
/// Extra indentation per nesting level of a value.
const NEST: usize = 4;

// ---------------------------------------------------------------------------------------------
// Human

#[derive(Clone, Copy)]
enum Paint {
    Green,
    Yellow,
    Red,
    Magenta,
    Cyan,
    Bold,
    BoldRed,
}

fn paint(style: Style, p: Paint, s: &str) -> String {
    if !style.color || s.is_empty() {
        return s.to_owned();
    }
    let code = match p {
        Paint::Green => "32",
        Paint::Yellow => "33",
        Paint::Red => "31",
        Paint::Magenta => "35",
        Paint::Cyan => "36",
        Paint::Bold => "1",
        Paint::BoldRed => "1;31",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

/// A change symbol of an attribute or value line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sym {
    Add,
    Remove,
    Change,
    /// Unchanged context (closing braces, hidden-element notes).
    None,
}

impl Sym {
    fn text(self, style: Style) -> String {
        match self {
            Sym::Add => paint(style, Paint::Green, "+"),
            Sym::Remove => paint(style, Paint::Red, "-"),
            Sym::Change => paint(style, Paint::Yellow, "~"),
            Sym::None => " ".to_owned(),
        }
    }
}

/// Writes the text a person reads in a terminal: per environment its drift, its changes and a
/// summary line, then the total.
pub fn human(plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    for env in &plan.envs {
        let _ = writeln!(out, "{}", paint(style, Paint::Bold, &env_title(env)));
        let body = env_body(env, style);
        if !body.is_empty() {
            out.push('\n');
            out.push_str(&body);
        }
        let _ = writeln!(out, "{}\n", env_summary_line(env));
    }
    let _ = writeln!(out, "{}", paint(style, Paint::Bold, &total_line(plan)));
    if let Some(note) = not_refreshed_note(plan) {
        let _ = writeln!(out, "{}", paint(style, Paint::Yellow, &note));
    }
    let refused = plan.summary().refused;
    if refused > 0 {
        let _ = writeln!(
            out,
            "{}",
            paint(
                style,
                Paint::BoldRed,
                &format!(
                    "{} refused (see the \"refused:\" lines above): this plan cannot be applied until {} allowed or the spec is changed.",
                    changes_word(refused),
                    if refused == 1 { "it is" } else { "they are" }
                )
            )
        );
    }
    out
}

/// What a changed-only plan did not read, said plainly (`None` for a full plan).
pub fn not_refreshed_note(plan: &Plan) -> Option<String> {
    let n = plan.not_refreshed.len();
    if n == 0 {
        return None;
    }
    let total = plan.changes().count().max(n);
    Some(format!(
        "Not read from AWS: {n} of {total} resources (--refresh changed). Their recorded state \
         stood in for them, so a change made in AWS to any of them (drift) does not show; a full \
         plan (--refresh full, the default) reads everything."
    ))
}

fn changes_word(n: usize) -> String {
    if n == 1 {
        "1 change".to_owned()
    } else {
        format!("{n} changes")
    }
}

fn env_title(env: &EnvPlan) -> String {
    match &env.region {
        Some(region) => format!("{} ({region})", env.env),
        None => env.env.clone(),
    }
}

fn counts(s: &Summary) -> String {
    let mut text = format!(
        "{} to add, {} to change, {} to replace, {} to destroy",
        s.create, s.update, s.replace, s.delete
    );
    if s.adopt > 0 {
        let _ = write!(text, ", {} to adopt", s.adopt);
    }
    if s.drifted > 0 {
        let _ = write!(text, ", {} drifted", s.drifted);
    }
    if s.refused > 0 {
        let _ = write!(text, ", {} refused", s.refused);
    }
    text
}

/// `eu-west-1: 3 to add, ...`, or `eu-west-1: no changes (12 resources up to date)`.
fn env_summary_line(env: &EnvPlan) -> String {
    let s = env.summary();
    if !s.has_changes() && s.drifted == 0 && s.refused == 0 {
        let n = s.no_op;
        format!(
            "{}: no changes ({n} resource{} up to date)",
            env.env,
            if n == 1 { "" } else { "s" }
        )
    } else {
        format!("{}: {}", env.env, counts(&s))
    }
}

/// "3 regions and global", "1 region", "global", "no environments".
fn scope(plan: &Plan) -> String {
    let regions = plan.envs.iter().filter(|e| e.region.is_some()).count();
    let global = plan.envs.iter().any(|e| e.region.is_none());
    let regions_text = match regions {
        1 => "1 region".to_owned(),
        n => format!("{n} regions"),
    };
    match (regions, global) {
        (0, false) => "no environments".to_owned(),
        (0, true) => "global".to_owned(),
        (_, false) => regions_text,
        (_, true) => format!("{regions_text} and global"),
    }
}

fn total_line(plan: &Plan) -> String {
    let s = plan.summary();
    if s.has_changes() || s.refused > 0 {
        format!("Plan: {} in {}.", counts(&s), scope(plan))
    } else if plan.envs.is_empty() {
        "No changes. The plan covers no environments.".to_owned()
    } else {
        let mut text = format!(
            "No changes. The platform matches the spec in {}.",
            scope(plan)
        );
        if s.drifted > 0 {
            let _ = write!(
                text,
                " {} changed outside regionctl (shown above).",
                if s.drifted == 1 {
                    "1 resource".to_owned()
                } else {
                    format!("{} resources", s.drifted)
                }
            );
        }
        text
    }
}

/// The drift section and the changed resources of one environment; empty when there is
/// nothing to show.
fn env_body(env: &EnvPlan, style: Style) -> String {
    let mut out = String::new();
    if !env.drift.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint(style, Paint::Bold, "  Changed outside regionctl:")
        );
        for d in &env.drift {
            write_drift(&mut out, d, style);
        }
        out.push('\n');
    }
    let shown: Vec<&ResourceChange> = env
        .changes
        .iter()
        .filter(|c| c.action.is_change() || c.adopt || c.refusal.is_some())
        .collect();
    if !shown.is_empty() && !env.drift.is_empty() {
        let _ = writeln!(out, "{}", paint(style, Paint::Bold, "  Planned changes:"));
    }
    for c in shown {
        write_change(&mut out, c, style);
        out.push('\n');
    }
    out
}

fn res_line(out: &mut String, sym: &str, p: Paint, text: &str, style: Style) {
    let _ = writeln!(
        out,
        "{:indent$}{}{} {text}",
        "",
        " ".repeat(3usize.saturating_sub(sym.len())),
        paint(style, p, sym),
        indent = RES_INDENT
    );
}

fn write_drift(out: &mut String, d: &Drift, style: Style) {
    if d.deleted {
        res_line(
            out,
            "-",
            Paint::Red,
            &format!("{} (deleted outside regionctl, was {})", d.addr, d.id),
            style,
        );
        return;
    }
    res_line(
        out,
        "~",
        Paint::Yellow,
        &format!("{} ({})", d.addr, d.id),
        style,
    );
    let pad = d.attrs.iter().map(|a| a.name.chars().count()).max();
    for a in &d.attrs {
        write_attr_drift(out, a, pad.unwrap_or(0), style);
    }
}

fn write_attr_drift(out: &mut String, a: &AttrDrift, pad: usize, style: Style) {
    let w = W { style };
    if a.sensitive {
        w.scalar_line(out, ATTR_INDENT, Sym::Change, &a.name, pad, SENSITIVE, "");
    } else {
        w.diff(
            out,
            ATTR_INDENT,
            &a.name,
            pad,
            Some(&a.state),
            Some(&a.live),
            "",
        );
    }
}

fn action_symbol(c: &ResourceChange) -> (&'static str, Paint) {
    match c.action {
        Action::Create => ("+", Paint::Green),
        Action::Update => ("~", Paint::Yellow),
        Action::Replace => match c.replace_order {
            Some(ReplaceOrder::CreateBeforeDestroy) => ("+/-", Paint::Magenta),
            _ => ("-/+", Paint::Magenta),
        },
        Action::Delete => ("-", Paint::Red),
        // Only adoptions (and refusals) of unchanged resources are shown: apply records them in
        // state without touching AWS.
        Action::NoOp => ("=", Paint::Cyan),
    }
}

fn describe(c: &ResourceChange) -> String {
    let verb = match c.action {
        Action::Create => "created",
        Action::Update => "updated in place",
        Action::Replace => "replaced",
        Action::Delete => "destroyed",
        Action::NoOp => "",
    };
    let mut notes = Vec::new();
    if c.adopt {
        notes.push(format!(
            "adopt existing id {}",
            c.id.as_deref().unwrap_or("unknown")
        ));
        if !c.action.is_change() {
            notes.push("no change in AWS".to_owned());
        }
    }
    match (&c.reason, c.action) {
        (Reason::DeletedOutside, Action::Create) => {
            notes.push("deleted outside regionctl".to_owned());
        }
        (Reason::RemovedFromSpec, _) => notes.push("removed from the spec".to_owned()),
        (Reason::Orphan, _) => {
            notes.push("orphan: tagged with this stack but in neither spec nor state".to_owned())
        }
        (Reason::Failed(s), _) => notes.push(format!("AWS reports it failed: {s}")),
        _ => {}
    }
    match c.replace_order {
        Some(ReplaceOrder::CreateBeforeDestroy) if c.action == Action::Replace => {
            notes.push("the new one is created first".to_owned());
        }
        Some(ReplaceOrder::DestroyBeforeCreate) if c.action == Action::Replace => {
            notes.push("the old one is destroyed first".to_owned());
        }
        _ => {}
    }
    let main = match (c.adopt, c.action) {
        (true, Action::NoOp) => "will be adopted".to_owned(),
        (true, _) => format!("will be adopted and {verb}"),
        (false, Action::Replace) => "must be replaced".to_owned(),
        (false, Action::NoOp) => "has no changes".to_owned(),
        (false, _) => format!("will be {verb}"),
    };
    if notes.is_empty() {
        main
    } else {
        format!("{main} ({})", notes.join("; "))
    }
}

fn write_change(out: &mut String, c: &ResourceChange, style: Style) {
    let (sym, p) = action_symbol(c);
    let id = match (&c.id, c.adopt) {
        (Some(id), false) => format!(" ({id})"),
        _ => String::new(),
    };
    res_line(
        out,
        sym,
        p,
        &format!("{}{id} {}", c.addr, describe(c)),
        style,
    );
    if let Some(refusal) = &c.refusal {
        let mut lines = refusal.lines();
        let first = lines.next().unwrap_or_default();
        let _ = writeln!(
            out,
            "{:ATTR_INDENT$}{} {}",
            "",
            paint(style, Paint::BoldRed, "refused:"),
            paint(style, Paint::Red, first)
        );
        for l in lines {
            let _ = writeln!(
                out,
                "{:w$}{}",
                "",
                paint(style, Paint::Red, l),
                w = ATTR_INDENT + 9
            );
        }
    }
    let w = W { style };
    let sensitive = |name: &str| c.sensitive.iter().any(|s| s == name);
    match c.action {
        Action::Create => {
            let Some(after) = &c.after else { return };
            let names: Vec<&String> = after
                .iter()
                .filter(|(_, v)| !matches!(v, Value::Null))
                .map(|(k, _)| k)
                .collect();
            let pad = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
            for name in names {
                if sensitive(name) {
                    w.scalar_line(out, ATTR_INDENT, Sym::Add, name, pad, SENSITIVE, "");
                } else if let Some(v) = after.get(name) {
                    w.value(out, ATTR_INDENT, Sym::Add, name, pad, v, "");
                }
            }
        }
        Action::Update | Action::Replace => {
            let pad = c
                .changed
                .iter()
                .map(|n| n.chars().count())
                .max()
                .unwrap_or(0);
            for name in &c.changed {
                let suffix = if c.action == Action::Replace && c.forces_replacement.contains(name) {
                    FORCES
                } else {
                    ""
                };
                if sensitive(name) {
                    w.scalar_line(out, ATTR_INDENT, Sym::Change, name, pad, SENSITIVE, suffix);
                    continue;
                }
                fn get<'a>(a: &'a Option<Attrs>, name: &str) -> Option<&'a Value> {
                    a.as_ref()
                        .and_then(|a| a.get(name))
                        .filter(|v| !matches!(v, Value::Null))
                }
                w.diff(
                    out,
                    ATTR_INDENT,
                    name,
                    pad,
                    get(&c.before, name),
                    get(&c.after, name),
                    suffix,
                );
            }
        }
        Action::Delete | Action::NoOp => {}
    }
}

/// Writes values as indented, symbol-prefixed lines.
struct W {
    style: Style,
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::List(_) | Value::Map(_))
}

/// The value on one line, if it has one: scalars, empty collections and lists of scalars.
/// Non-empty maps always take a line per key, which keeps tag diffs readable.
fn inline(v: &Value) -> Option<String> {
    match v {
        Value::Map(m) if !m.is_empty() => None,
        Value::List(items) if !items.iter().all(is_scalar) => None,
        other => Some(other.to_string()),
    }
}

impl W {
    fn prefix(&self, indent: usize, sym: Sym) -> String {
        format!("{:indent$}{} ", "", sym.text(self.style))
    }

    fn fits(&self, indent: usize, text: &str) -> bool {
        indent + 2 + text.chars().count() <= self.style.width.max(40)
    }

    #[allow(clippy::too_many_arguments)]
    fn scalar_line(
        &self,
        out: &mut String,
        indent: usize,
        sym: Sym,
        label: &str,
        pad: usize,
        text: &str,
        suffix: &str,
    ) {
        let _ = writeln!(
            out,
            "{}{label}:{:gap$} {text}{suffix}",
            self.prefix(indent, sym),
            "",
            gap = pad.saturating_sub(label.chars().count())
        );
    }

    /// A whole value under a label, every line with the same symbol.
    #[allow(clippy::too_many_arguments)]
    fn value(
        &self,
        out: &mut String,
        indent: usize,
        sym: Sym,
        label: &str,
        pad: usize,
        v: &Value,
        suffix: &str,
    ) {
        if let Some(text) = inline(v) {
            let line = format!("{label}: {:pad$}{text}", "");
            if self.fits(indent, &line) || !matches!(v, Value::List(_)) {
                self.scalar_line(out, indent, sym, label, pad, &text, suffix);
                return;
            }
        }
        let _ = writeln!(out, "{}{label}:{suffix}", self.prefix(indent, sym));
        self.children(out, indent + NEST, sym, v);
    }

    /// The inside of a map or list, one level deeper.
    fn children(&self, out: &mut String, indent: usize, sym: Sym, v: &Value) {
        match v {
            Value::Map(m) => {
                let pad = m.keys().map(|k| k.chars().count()).max().unwrap_or(0);
                for (k, v) in m {
                    self.value(out, indent, sym, k, pad, v, "");
                }
            }
            Value::List(items) => {
                for item in items {
                    self.element(out, indent, sym, item);
                }
            }
            other => {
                let _ = writeln!(out, "{}{other}", self.prefix(indent, sym));
            }
        }
    }

    /// One list element: inline when it can be, otherwise a braced or bracketed block.
    fn element(&self, out: &mut String, indent: usize, sym: Sym, item: &Value) {
        if let Some(text) = inline(item)
            && (self.fits(indent, &text) || !matches!(item, Value::List(_)))
        {
            let _ = writeln!(out, "{}{text}", self.prefix(indent, sym));
            return;
        }
        let (open, close) = if matches!(item, Value::Map(_)) {
            ("{", "}")
        } else {
            ("[", "]")
        };
        let _ = writeln!(out, "{}{open}", self.prefix(indent, sym));
        self.children(out, indent + NEST, sym, item);
        let _ = writeln!(out, "{}{close}", self.prefix(indent, Sym::None));
    }

    /// The difference between two values under a label: maps key by key (only changed keys),
    /// lists of structured or long values element by element, everything else `before → after`.
    #[allow(clippy::too_many_arguments)]
    fn diff(
        &self,
        out: &mut String,
        indent: usize,
        label: &str,
        pad: usize,
        before: Option<&Value>,
        after: Option<&Value>,
        suffix: &str,
    ) {
        match (before, after) {
            (None, None) => {
                self.scalar_line(out, indent, Sym::Change, label, pad, "null → null", suffix);
            }
            (None, Some(a)) => self.value(out, indent, Sym::Add, label, pad, a, suffix),
            (Some(b), None) => {
                let line = format!("{label}: {:pad$}{b} → null", "");
                match inline(b) {
                    Some(text) if self.fits(indent, &line) || is_scalar(b) => {
                        self.scalar_line(
                            out,
                            indent,
                            Sym::Remove,
                            label,
                            pad,
                            &format!("{text} → null"),
                            suffix,
                        );
                    }
                    _ => self.value(out, indent, Sym::Remove, label, pad, b, suffix),
                }
            }
            (Some(Value::Map(b)), Some(Value::Map(a))) => {
                let _ = writeln!(out, "{}{label}:{suffix}", self.prefix(indent, Sym::Change));
                let keys: Vec<&String> = {
                    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
                    keys.sort();
                    keys.dedup();
                    keys.retain(|k| b.get(*k) != a.get(*k));
                    keys
                };
                let kpad = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
                for k in keys {
                    self.diff(out, indent + NEST, k, kpad, b.get(k), a.get(k), "");
                }
            }
            (Some(b), Some(a)) => {
                let line = match (inline(b), inline(a)) {
                    (Some(bt), Some(at)) => Some(format!("{bt} → {at}")),
                    _ => None,
                };
                if let Some(text) = &line {
                    let both_lists = matches!((b, a), (Value::List(_), Value::List(_)));
                    if !both_lists || self.fits(indent, &format!("{label}: {:pad$}{text}", "")) {
                        self.scalar_line(out, indent, Sym::Change, label, pad, text, suffix);
                        return;
                    }
                }
                match (b, a) {
                    (Value::List(bl), Value::List(al)) => {
                        let _ =
                            writeln!(out, "{}{label}:{suffix}", self.prefix(indent, Sym::Change));
                        let inner = indent + NEST;
                        let mut unchanged = 0;
                        for item in bl {
                            if al.contains(item) {
                                unchanged += 1;
                            } else {
                                self.element(out, inner, Sym::Remove, item);
                            }
                        }
                        for item in al.iter().filter(|i| !bl.contains(i)) {
                            self.element(out, inner, Sym::Add, item);
                        }
                        if unchanged > 0 {
                            let _ = writeln!(
                                out,
                                "{}({unchanged} unchanged element{} hidden)",
                                self.prefix(inner, Sym::None),
                                if unchanged == 1 { "" } else { "s" }
                            );
                        }
                    }
                    // Different shapes (a string became a map): the old value out, the new in.
                    _ => {
                        let _ =
                            writeln!(out, "{}{label}:{suffix}", self.prefix(indent, Sym::Change));
                        self.element(out, indent + NEST, Sym::Remove, b);
                        self.element(out, indent + NEST, Sym::Add, a);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JSON

/// The plan in the shape of Terraform's JSON plan (`terraform show -json`), so policies
/// written for Terraform (conftest, OPA) can read it. regionctl's own fields (`region`, `env`,
/// `id`, `reason`, `summary`, `refusals`) are additions, which Terraform's format tells readers
/// to ignore when unknown.
pub fn json(plan: &Plan) -> J {
    let total = plan.summary();
    let mut doc = json!({
        "format_version": "1.2",
        "regionctl_version": plan.regionctl_version,
        "plan_format_version": plan.format_version,
        "stack": plan.stack,
        "spec_hash": plan.spec_hash,
        "targets": plan.targets.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "errored": false,
        "applyable": total.has_changes() && total.refused == 0,
        "resource_changes": plan.changes().map(change_json).collect::<Vec<_>>(),
        "resource_drift": plan
            .envs
            .iter()
            .flat_map(|e| e.drift.iter())
            .map(drift_json)
            .collect::<Vec<_>>(),
        "summary": {
            "total": summary_json(&total),
            "environments": plan.envs.iter().map(|e| {
                let mut s = summary_json(&e.summary());
                if let J::Object(m) = &mut s {
                    m.insert("env".to_owned(), J::from(e.env.clone()));
                    m.insert("region".to_owned(), e.region.clone().map_or(J::Null, J::from));
                }
                s
            }).collect::<Vec<_>>(),
        },
        "refusals": plan.refusals().map(|c| json!({
            "address": c.addr.to_string(),
            "env": c.addr.env,
            "region": c.region,
            "actions": c.action.terraform(c.replace_order),
            "message": c.refusal,
        })).collect::<Vec<_>>(),
    });
    // Only in changed-only plans, so a full plan's document stays as it was.
    if !plan.not_refreshed.is_empty()
        && let J::Object(m) = &mut doc
    {
        m.insert(
            "not_refreshed".to_owned(),
            J::from(
                plan.not_refreshed
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
            ),
        );
    }
    doc
}

fn summary_json(s: &Summary) -> J {
    json!({
        "create": s.create,
        "update": s.update,
        "replace": s.replace,
        "delete": s.delete,
        "no_op": s.no_op,
        "adopt": s.adopt,
        "drifted": s.drifted,
        "refused": s.refused,
    })
}

/// The Terraform identity fields of a resource instance.
fn identity(addr: &InstanceAddr, region: &str, out: &mut Map<String, J>) {
    out.insert("address".to_owned(), J::from(addr.to_string()));
    if !addr.block.module.is_empty() {
        let module: Vec<String> = addr
            .block
            .module
            .iter()
            .map(|m| format!("module.{m}"))
            .collect();
        out.insert("module_address".to_owned(), J::from(module.join(".")));
    }
    out.insert("mode".to_owned(), J::from("managed"));
    out.insert("type".to_owned(), J::from(addr.block.kind.name()));
    out.insert("name".to_owned(), J::from(addr.block.name.clone()));
    match &addr.key {
        Some(InstanceKey::Str(s)) => {
            out.insert("index".to_owned(), J::from(s.clone()));
        }
        Some(InstanceKey::Index(i)) => {
            out.insert("index".to_owned(), J::from(*i));
        }
        None => {}
    }
    out.insert("provider_name".to_owned(), J::from("regionctl/aws"));
    out.insert("region".to_owned(), J::from(region));
    out.insert("env".to_owned(), J::from(addr.env.clone()));
}

/// Known parts as JSON. Like Terraform, an unknown object attribute is left out and an unknown
/// list element becomes `null`; `after_unknown` says where they were.
fn known_json(v: &Value) -> Option<J> {
    match v {
        Value::Unknown(_) => None,
        Value::List(items) => Some(J::Array(
            items
                .iter()
                .map(|i| known_json(i).unwrap_or(J::Null))
                .collect(),
        )),
        Value::Map(m) => Some(J::Object(
            m.iter()
                .filter_map(|(k, v)| known_json(v).map(|j| (k.clone(), j)))
                .collect(),
        )),
        other => Some(other.to_json()),
    }
}

/// Terraform's mirror of a value: `true` where `leaf` holds, lists element by element, objects
/// without their `false` entries.
fn mirror(v: &Value, leaf: &dyn Fn(&Value) -> bool) -> J {
    match v {
        Value::List(items) => J::Array(items.iter().map(|i| mirror(i, leaf)).collect()),
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), mirror(v, leaf)))
                .filter(|(_, j)| *j != J::Bool(false))
                .collect(),
        ),
        other => J::Bool(leaf(other)),
    }
}

fn attrs_json<'a>(
    attrs: impl IntoIterator<Item = (&'a String, &'a Value)>,
    sensitive: &dyn Fn(&str) -> bool,
) -> J {
    J::Object(
        attrs
            .into_iter()
            .filter(|(k, _)| !sensitive(k))
            .filter_map(|(k, v)| known_json(v).map(|j| (k.clone(), j)))
            .collect(),
    )
}

/// What the resource holds after the change. An attribute the plan leaves alone keeps its live
/// value, as in Terraform's JSON plan: a set AWS lists in another order, or a name it stores
/// lowercase, compares equal and is not written, so showing the spec's spelling as `after`
/// would read as a change to anyone diffing `before` and `after`.
fn settled_after(c: &ResourceChange, after: &Attrs) -> Attrs {
    let Some(before) = c
        .before
        .as_ref()
        .filter(|_| matches!(c.action, Action::Update | Action::NoOp))
    else {
        return after.clone();
    };
    after
        .iter()
        .map(|(k, v)| {
            let kept = before
                .get(k)
                .filter(|_| !v.has_unknown() && !c.changed.iter().any(|name| name == k));
            (k.clone(), kept.unwrap_or(v).clone())
        })
        .collect()
}

fn unknown_json(attrs: &Attrs) -> J {
    let is_unknown = |v: &Value| matches!(v, Value::Unknown(_));
    J::Object(
        attrs
            .iter()
            .map(|(k, v)| (k.clone(), mirror(v, &is_unknown)))
            .filter(|(_, j)| *j != J::Bool(false))
            .collect(),
    )
}

fn sensitive_json<'a>(
    attrs: impl IntoIterator<Item = (&'a String, &'a Value)>,
    sensitive: &dyn Fn(&str) -> bool,
) -> J {
    let never = |_: &Value| false;
    J::Object(
        attrs
            .into_iter()
            .map(|(k, v)| {
                let j = if sensitive(k) {
                    J::Bool(true)
                } else {
                    mirror(v, &never)
                };
                (k.clone(), j)
            })
            .filter(|(_, j)| *j != J::Bool(false))
            .collect(),
    )
}

/// Terraform's `action_reason` for the cases it has a word for.
fn action_reason(c: &ResourceChange) -> Option<&'static str> {
    match (c.action, &c.reason) {
        // A resource AWS reports as failed is what Terraform calls tainted.
        (Action::Replace, Reason::Failed(_)) => Some("replace_because_tainted"),
        (Action::Replace, _) => Some("replace_because_cannot_update"),
        (Action::Delete, Reason::RemovedFromSpec | Reason::Orphan) => {
            Some("delete_because_no_resource_config")
        }
        _ => None,
    }
}

fn change_json(c: &ResourceChange) -> J {
    let mut out = Map::new();
    identity(&c.addr, &c.region, &mut out);
    let sensitive = |name: &str| c.sensitive.iter().any(|s| s == name);
    let mut change = Map::new();
    change.insert(
        "actions".to_owned(),
        json!(c.action.terraform(c.replace_order)),
    );
    change.insert(
        "before".to_owned(),
        c.before
            .as_ref()
            .map_or(J::Null, |b| attrs_json(b, &sensitive)),
    );
    change.insert(
        "after".to_owned(),
        c.after
            .as_ref()
            .map_or(J::Null, |a| attrs_json(&settled_after(c, a), &sensitive)),
    );
    change.insert(
        "after_unknown".to_owned(),
        c.after
            .as_ref()
            .map_or_else(|| J::Object(Map::new()), unknown_json),
    );
    change.insert(
        "before_sensitive".to_owned(),
        c.before
            .as_ref()
            .map_or(J::Bool(false), |b| sensitive_json(b, &sensitive)),
    );
    change.insert(
        "after_sensitive".to_owned(),
        c.after
            .as_ref()
            .map_or(J::Bool(false), |a| sensitive_json(a, &sensitive)),
    );
    if c.action == Action::Replace && !c.forces_replacement.is_empty() {
        change.insert(
            "replace_paths".to_owned(),
            J::Array(c.forces_replacement.iter().map(|a| json!([a])).collect()),
        );
    }
    if c.adopt {
        change.insert("importing".to_owned(), json!({ "id": c.id }));
    }
    out.insert("change".to_owned(), J::Object(change));
    if let Some(r) = action_reason(c) {
        out.insert("action_reason".to_owned(), J::from(r));
    }
    if let Some(id) = &c.id {
        out.insert("id".to_owned(), J::from(id.clone()));
    }
    let (reason, detail) = match &c.reason {
        Reason::Unchanged => ("unchanged", None),
        Reason::NotInAws => ("not_in_aws", None),
        Reason::DeletedOutside => ("deleted_outside", None),
        Reason::AttributesDiffer => ("attributes_differ", None),
        Reason::RemovedFromSpec => ("removed_from_spec", None),
        Reason::Orphan => ("orphan", None),
        Reason::Failed(s) => ("failed", Some(s.clone())),
    };
    out.insert("reason".to_owned(), J::from(reason));
    if let Some(d) = detail {
        out.insert("reason_detail".to_owned(), J::from(d));
    }
    out.insert("protect".to_owned(), J::from(c.protect));
    if let Some(r) = &c.refusal {
        out.insert("refusal".to_owned(), J::from(r.clone()));
    }
    J::Object(out)
}

fn drift_json(d: &Drift) -> J {
    let mut out = Map::new();
    identity(&d.addr, &d.region, &mut out);
    let sensitive = |name: &str| d.attrs.iter().any(|a| a.name == name && a.sensitive);
    let state = d.attrs.iter().map(|a| (&a.name, &a.state));
    let live = d.attrs.iter().map(|a| (&a.name, &a.live));
    let change = if d.deleted {
        json!({
            "actions": ["delete"],
            "before": attrs_json(state.clone(), &sensitive),
            "after": null,
            "after_unknown": {},
            "before_sensitive": sensitive_json(state, &sensitive),
            "after_sensitive": false,
        })
    } else {
        json!({
            "actions": ["update"],
            "before": attrs_json(state.clone(), &sensitive),
            "after": attrs_json(live.clone(), &sensitive),
            "after_unknown": {},
            "before_sensitive": sensitive_json(state, &sensitive),
            "after_sensitive": sensitive_json(live, &sensitive),
        })
    };
    out.insert("change".to_owned(), change);
    out.insert("id".to_owned(), J::from(d.id.clone()));
    J::Object(out)
}

// ---------------------------------------------------------------------------------------------
// Markdown

/// How much of one environment's details a comment carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Detail {
    Full,
    /// The first this many lines of the diff.
    Lines(usize),
    Omitted,
}

/// A pull-request comment: the total, refusals, a per-region table, then each region's diff
/// collapsed. Never longer than `limit` characters: when the whole plan does not fit, the
/// largest regions' details go first (each dropped region frees the most room, so the most
/// regions stay readable, and the biggest diff is the one least readable in a comment anyway);
/// whatever room is left is then given, in plan order, to the start of the dropped diffs. The
/// table always stays, and the comment says what was left out.
pub fn markdown(plan: &Plan, limit: usize) -> String {
    let bodies: Vec<Vec<String>> = plan
        .envs
        .iter()
        .map(|e| diff_lines(&env_body(e, Style::plain())))
        .collect();
    let mut details: Vec<Detail> = bodies
        .iter()
        .map(|b| {
            if b.is_empty() {
                Detail::Omitted
            } else {
                Detail::Full
            }
        })
        .collect();
    let shortened = |details: &[Detail]| -> Vec<usize> {
        (0..details.len())
            .filter(|&i| !bodies[i].is_empty() && details[i] != Detail::Full)
            .collect()
    };
    let block = |i: usize, detail: Detail| md_details(&plan.envs[i], &bodies[i], detail, limit);
    // Sizes are added up piece by piece so that a plan of thousands of resources is composed
    // once, not once per region dropped.
    let full_len: Vec<usize> = (0..bodies.len())
        .map(|i| len(&block(i, details[i])))
        .collect();
    let footer = md_footer(plan);
    let all_refusals = plan.refusals().count();
    let head_len = |details: &[Detail], refusals: usize| {
        len(&md_head(plan, &shortened(details), refusals, limit))
    };
    let mut block_len = full_len.clone();
    let total = |block_len: &[usize], details: &[Detail], refusals: usize| {
        head_len(details, refusals) + block_len.iter().sum::<usize>() + len(&footer)
    };
    while total(&block_len, &details, all_refusals) > limit {
        let largest = (0..details.len())
            .filter(|&i| details[i] == Detail::Full)
            .max_by_key(|&i| (full_len[i], std::cmp::Reverse(i)));
        let Some(i) = largest else { break };
        details[i] = Detail::Omitted;
        block_len[i] = 0;
    }
    let mut refusals = all_refusals;
    if total(&block_len, &details, refusals) <= limit {
        // Give the room left to the start of the dropped diffs, in plan order.
        for i in shortened(&details) {
            let room = limit - total(&block_len, &details, refusals);
            let body = &bodies[i];
            // Enough for a useful excerpt and the note saying it is one.
            if room < 400 {
                break;
            }
            let mut taken = 0;
            let mut used = 0;
            for line in body {
                let l = line.chars().count() + 1;
                if used + l + 300 > room {
                    break;
                }
                used += l;
                taken += 1;
            }
            // End at a resource boundary (the blank line after one) when there is one.
            if let Some(end) = body[..taken].iter().rposition(String::is_empty)
                && end > 0
            {
                taken = end;
            }
            if taken == 0 {
                continue;
            }
            let candidate = len(&block(i, Detail::Lines(taken)));
            if candidate <= room {
                details[i] = Detail::Lines(taken);
                block_len[i] = candidate;
            }
        }
    } else {
        // Even without any details the head is too long: shorten the refusal list.
        while refusals > 0 && total(&block_len, &details, refusals) > limit {
            refusals /= 2;
        }
    }
    let mut text = md_head(plan, &shortened(&details), refusals, limit);
    for (i, d) in details.iter().enumerate() {
        text.push_str(&block(i, *d));
    }
    text.push_str(&footer);
    if len(&text) > limit {
        // Only a pathological head (thousands of environments) gets here; no details or code
        // fences are open in it, so whole lines can go.
        text = cut_lines(&text, limit);
    }
    text
}

fn len(s: &str) -> usize {
    s.chars().count()
}

/// The longest prefix of whole lines within `limit` characters.
fn cut_lines(text: &str, limit: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for line in text.lines() {
        let l = line.chars().count() + 1;
        if used + l > limit {
            break;
        }
        used += l;
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The human lines with their change symbol moved to the first column (and `~` written `!`),
/// which is what GitHub's `diff` highlighting keys on; the text after it keeps its column.
fn diff_lines(body: &str) -> Vec<String> {
    body.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            let (token, rest) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
            let token = match token {
                "~" => "!",
                "+" | "-" | "-/+" | "+/-" | "=" => token,
                _ => return line.to_owned(),
            };
            if indent == 0 {
                return line.to_owned();
            }
            format!("{token}{:indent$} {rest}", "")
        })
        .collect()
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A code fence longer than any run of backticks in the text, so no value can close it.
fn fence_for(lines: &[String]) -> String {
    let longest = lines
        .iter()
        .map(|l| {
            l.split(|c| c != '`')
                .map(str::len)
                .max()
                .unwrap_or_default()
        })
        .max()
        .unwrap_or_default();
    "`".repeat(longest.max(2) + 1)
}

/// The title, total, refusals, truncation note and the per-region table.
fn md_head(plan: &Plan, shortened: &[usize], refusals: usize, limit: usize) -> String {
    let total = plan.summary();
    let mut out = String::new();
    let _ = writeln!(out, "### regionctl plan: stack `{}`\n", plan.stack);
    if total.has_changes() || total.refused > 0 {
        let _ = writeln!(
            out,
            "**Plan: {}** in {}.\n",
            counts(&total),
            escape_html(&scope(plan))
        );
    } else {
        let _ = writeln!(out, "**{}**\n", escape_html(&total_line(plan)));
    }
    if total.refused > 0 {
        let _ = writeln!(out, "> [!CAUTION]");
        let _ = writeln!(
            out,
            "> **{} refused.** This plan cannot be applied until {} allowed or the spec is changed:",
            changes_word(total.refused),
            if total.refused == 1 {
                "it is"
            } else {
                "they are"
            }
        );
        for c in plan.refusals().take(refusals) {
            let text = c.refusal.as_deref().unwrap_or_default();
            let mut lines = text.lines();
            let _ = writeln!(
                out,
                "> - `{}`: {}",
                c.addr,
                escape_html(lines.next().unwrap_or_default())
            );
            for l in lines {
                let _ = writeln!(out, ">   {}", escape_html(l));
            }
        }
        if refusals < total.refused {
            let _ = writeln!(
                out,
                "> - and {} more; see the JSON plan (`regionctl plan --json`).",
                total.refused - refusals
            );
        }
        out.push('\n');
    }
    if !shortened.is_empty() {
        let names: Vec<&str> = shortened
            .iter()
            .map(|&i| plan.envs[i].env.as_str())
            .collect();
        let regions = plan.envs.len();
        let _ = writeln!(out, "> [!NOTE]");
        let _ = writeln!(
            out,
            "> Output truncated: the full plan of {regions} region{} is longer than {} characters; \
             the details of {} are shortened or left out. Run `regionctl plan{}` or see the saved plan.\n",
            if regions == 1 { "" } else { "s" },
            thousands(limit),
            names.join(", "),
            if names.len() <= 3 {
                names.iter().map(|n| format!(" --region {n}")).collect()
            } else {
                " --region REGION".to_owned()
            }
        );
    }
    if plan.envs.is_empty() {
        return out;
    }
    let adopt = total.adopt > 0;
    let _ = writeln!(
        out,
        "| Region | Add | Change | Replace | Destroy |{} Drift |",
        if adopt { " Adopt |" } else { "" }
    );
    let _ = writeln!(
        out,
        "| --- | ---: | ---: | ---: | ---: |{} ---: |",
        if adopt { " ---: |" } else { "" }
    );
    let row = |out: &mut String, name: &str, s: &Summary| {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} |{} {} |",
            s.create,
            s.update,
            s.replace,
            s.delete,
            if adopt {
                format!(" {} |", s.adopt)
            } else {
                String::new()
            },
            s.drifted
        );
    };
    for e in &plan.envs {
        row(&mut out, &escape_html(&e.env), &e.summary());
    }
    if plan.envs.len() > 1 {
        row(&mut out, "**Total**", &total);
    }
    out
}

/// One region's collapsed diff, or nothing when it is left out.
fn md_details(env: &EnvPlan, body: &[String], detail: Detail, limit: usize) -> String {
    // A region left out entirely has its counts in the table and its name in the note
    // above; an empty `<details>` would only cost room.
    let shown = match detail {
        Detail::Full => body.len(),
        Detail::Lines(n) => n.min(body.len()),
        Detail::Omitted => 0,
    };
    let mut out = String::new();
    if shown == 0 {
        return out;
    }
    let _ = writeln!(
        out,
        "\n<details><summary>{}</summary>\n",
        escape_html(&env_summary_line(env))
    );
    let lines = &body[..shown];
    let fence = fence_for(lines);
    let _ = writeln!(out, "{fence}diff");
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
    let _ = writeln!(out, "{fence}\n");
    if shown < body.len() {
        let _ = writeln!(
            out,
            "The last {} of this region's {} lines are left out to keep the comment under {} characters; run `regionctl plan --region {}` to see them.\n",
            body.len() - shown,
            body.len(),
            thousands(limit),
            escape_html(&env.env),
        );
    }
    let _ = writeln!(out, "</details>");
    out
}

fn md_footer(plan: &Plan) -> String {
    let hash = plan
        .spec_hash
        .split_once(':')
        .map_or(plan.spec_hash.as_str(), |(_, h)| h);
    // A pull-request comment of a changed-only plan says what it did not read.
    let note = not_refreshed_note(plan)
        .map(|n| format!("\n> {}\n", escape_html(&n)))
        .unwrap_or_default();
    format!(
        "{note}\n<sub>regionctl {} · spec {}</sub>\n",
        escape_html(&plan.regionctl_version),
        escape_html(hash.get(..12).unwrap_or(hash))
    )
}

/// `60000` as `60,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::kind::Kind;
    use crate::plan::model::{AttrDrift, PLAN_FORMAT_VERSION, StateRef};
    use crate::spec::value::Deferred;

    const SECRET: &str = "s3cr3t-SENTINEL";

    fn addr(s: &str) -> InstanceAddr {
        s.parse().expect("test address")
    }

    fn s(v: &str) -> Value {
        Value::Str(v.to_owned())
    }

    fn unknown() -> Value {
        Value::unknown(Deferred::Call {
            name: "later".to_owned(),
            args: Vec::new(),
        })
    }

    fn list(items: Vec<Value>) -> Value {
        Value::List(items)
    }

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    fn attrs(pairs: &[(&str, Value)]) -> Attrs {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect::<BTreeMap<_, _>>()
    }

    fn change(a: &str, action: Action, reason: Reason) -> ResourceChange {
        let addr = addr(a);
        let region = if addr.env == "global" {
            "us-east-1".to_owned()
        } else {
            addr.env.clone()
        };
        ResourceChange {
            kind: addr.block.kind,
            addr,
            region,
            action,
            replace_order: None,
            reason,
            id: None,
            before: None,
            after: None,
            changed: Vec::new(),
            forces_replacement: Vec::new(),
            sensitive: Vec::new(),
            adopt: false,
            deps: Vec::new(),
            protect: false,
            refusal: None,
        }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn rule(port: i64, cidr: Value) -> Value {
        map(&[
            ("cidr_blocks", list(vec![cidr])),
            ("from_port", Value::Int(port)),
            ("protocol", s("tcp")),
            ("to_port", Value::Int(port)),
        ])
    }

    fn plan(envs: Vec<EnvPlan>) -> Plan {
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            regionctl_version: "0.1.0".to_owned(),
            stack: "acme".to_owned(),
            spec_hash: "sha256:0123456789abcdef0123456789abcdef".to_owned(),
            targets: Vec::new(),
            envs,
            not_refreshed: Vec::new(),
        }
    }

    fn env(name: &str, changes: Vec<ResourceChange>, drift: Vec<Drift>) -> EnvPlan {
        EnvPlan {
            env: name.to_owned(),
            region: (name != "global").then(|| name.to_owned()),
            prior_state: Some(StateRef {
                lineage: "l-1".to_owned(),
                serial: 7,
            }),
            changes,
            drift,
        }
    }

    /// One of everything the renderers distinguish.
    fn sample() -> Plan {
        let vpc = "eu-west-1/module.platform.vpc.main";
        let mut create_vpc = change(vpc, Action::Create, Reason::NotInAws);
        create_vpc.after = Some(attrs(&[
            ("cidr_block", s("10.20.0.0/16")),
            ("enable_dns_hostnames", Value::Bool(true)),
            ("ipv6", Value::Null),
            (
                "tags",
                map(&[("Name", s("prod-euw1")), ("Team", s("platform"))]),
            ),
        ]));

        let mut create_subnet = change(
            "eu-west-1/module.platform.subnet.private[\"eu-west-1a\"]",
            Action::Create,
            Reason::DeletedOutside,
        );
        create_subnet.after = Some(attrs(&[
            ("availability_zone", s("eu-west-1a")),
            ("cidr_block", s("10.20.0.0/19")),
            ("vpc_id", unknown()),
        ]));

        let mut create_sg = change(
            "eu-west-1/module.platform.security_group.nodes",
            Action::Create,
            Reason::NotInAws,
        );
        create_sg.after = Some(attrs(&[
            ("name", s("prod-euw1-nodes")),
            ("vpc_id", unknown()),
            (
                "ingress",
                list(vec![
                    rule(443, s("10.20.0.0/16")),
                    map(&[
                        ("from_port", Value::Int(0)),
                        ("protocol", s("-1")),
                        ("source_security_group_id", unknown()),
                        ("to_port", Value::Int(0)),
                    ]),
                ]),
            ),
            (
                "subnet_ids",
                list(vec![unknown(), unknown(), unknown(), unknown()]),
            ),
        ]));

        let mut create_db = change(
            "eu-west-1/module.platform.rds_instance.main",
            Action::Create,
            Reason::NotInAws,
        );
        create_db.after = Some(attrs(&[
            ("identifier", s("prod-euw1")),
            ("master_password_env", s(SECRET)),
        ]));
        create_db.sensitive = names(&["master_password_env"]);

        let mut update_ng = change(
            "eu-west-1/module.platform.eks_node_group.default",
            Action::Update,
            Reason::AttributesDiffer,
        );
        update_ng.id = Some("prod-euw1:default".to_owned());
        update_ng.before = Some(attrs(&[
            ("instance_types", list(vec![s("m6i.large")])),
            (
                "scaling_config",
                map(&[
                    ("desired_size", Value::Int(2)),
                    ("max_size", Value::Int(4)),
                    ("min_size", Value::Int(1)),
                ]),
            ),
            (
                "tags",
                map(&[
                    ("Name", s("default")),
                    ("Old", s("yes")),
                    ("Owner", s("someone")),
                ]),
            ),
            ("version", s("1.30")),
        ]));
        update_ng.after = Some(attrs(&[
            ("instance_types", list(vec![s("m6i.large")])),
            (
                "scaling_config",
                map(&[
                    ("desired_size", Value::Int(3)),
                    ("max_size", Value::Int(4)),
                    ("min_size", Value::Int(1)),
                ]),
            ),
            (
                "tags",
                map(&[
                    ("Name", s("default")),
                    ("Owner", s("platform")),
                    ("Team", s("platform")),
                ]),
            ),
            ("version", s("1.31")),
        ]));
        update_ng.changed = names(&["scaling_config", "tags", "version"]);

        let mut update_sg = change(
            "eu-west-1/module.platform.security_group.cluster",
            Action::Update,
            Reason::AttributesDiffer,
        );
        update_sg.id = Some("sg-0abc".to_owned());
        update_sg.before = Some(attrs(&[(
            "ingress",
            list(vec![rule(443, s("10.20.0.0/16")), rule(22, s("0.0.0.0/0"))]),
        )]));
        update_sg.after = Some(attrs(&[(
            "ingress",
            list(vec![
                rule(443, s("10.20.0.0/16")),
                rule(22, s("10.0.0.0/8")),
            ]),
        )]));
        update_sg.changed = names(&["ingress"]);

        let mut replace_subnet = change(
            "eu-west-1/module.platform.subnet.public[\"eu-west-1b\"]",
            Action::Replace,
            Reason::AttributesDiffer,
        );
        replace_subnet.replace_order = Some(ReplaceOrder::DestroyBeforeCreate);
        replace_subnet.id = Some("subnet-0b".to_owned());
        replace_subnet.before = Some(attrs(&[
            ("cidr_block", s("10.20.96.0/20")),
            ("tags", map(&[("Tier", s("public"))])),
        ]));
        replace_subnet.after = Some(attrs(&[
            ("cidr_block", s("10.20.112.0/20")),
            ("tags", map(&[("Tier", s("edge"))])),
            ("id", unknown()),
        ]));
        replace_subnet.changed = names(&["cidr_block", "tags"]);
        replace_subnet.forces_replacement = names(&["cidr_block"]);

        let mut replace_rt = change(
            "eu-west-1/module.platform.route_table.private[0]",
            Action::Replace,
            Reason::AttributesDiffer,
        );
        replace_rt.replace_order = Some(ReplaceOrder::CreateBeforeDestroy);
        replace_rt.id = Some("rtb-01".to_owned());
        replace_rt.before = Some(attrs(&[("vpc_id", s("vpc-old"))]));
        replace_rt.after = Some(attrs(&[("vpc_id", unknown())]));
        replace_rt.changed = names(&["vpc_id"]);
        replace_rt.forces_replacement = names(&["vpc_id"]);

        let mut replace_nat = change(
            "eu-west-1/module.platform.nat_gateway.main",
            Action::Replace,
            Reason::Failed("state failed: Subnet has no internet gateway".to_owned()),
        );
        replace_nat.replace_order = Some(ReplaceOrder::DestroyBeforeCreate);
        replace_nat.id = Some("nat-0f".to_owned());
        replace_nat.before = Some(attrs(&[("subnet_id", s("subnet-0a"))]));
        replace_nat.after = Some(attrs(&[("subnet_id", s("subnet-0a"))]));

        let mut refused_db = change(
            "eu-west-1/module.platform.rds_instance.replica",
            Action::Replace,
            Reason::AttributesDiffer,
        );
        refused_db.replace_order = Some(ReplaceOrder::DestroyBeforeCreate);
        refused_db.id = Some("prod-euw1-replica".to_owned());
        refused_db.protect = true;
        refused_db.before = Some(attrs(&[
            ("identifier", s("prod-euw1-replica")),
            ("master_password_env", s("OLD_ENV")),
        ]));
        refused_db.after = Some(attrs(&[
            ("identifier", s("prod-euw1-replica2")),
            ("master_password_env", s(SECRET)),
        ]));
        refused_db.changed = names(&["identifier", "master_password_env"]);
        refused_db.forces_replacement = names(&["identifier"]);
        refused_db.sensitive = names(&["master_password_env"]);
        refused_db.refusal = Some(
            "replacing rds_instance eu-west-1/module.platform.rds_instance.replica destroys its data\n\
             to allow it, plan again with --allow-replace eu-west-1/module.platform.rds_instance.replica"
                .to_owned(),
        );

        let mut delete_removed = change(
            "eu-west-1/module.platform.cache_subnet_group.old",
            Action::Delete,
            Reason::RemovedFromSpec,
        );
        delete_removed.id = Some("prod-euw1-old".to_owned());
        delete_removed.before = Some(attrs(&[("name", s("prod-euw1-old"))]));

        let mut delete_orphan = change(
            "eu-west-1/module.platform.internet_gateway.stray",
            Action::Delete,
            Reason::Orphan,
        );
        delete_orphan.id = Some("igw-0d".to_owned());

        let mut noop = change(
            "eu-west-1/module.platform.db_subnet_group.main",
            Action::NoOp,
            Reason::Unchanged,
        );
        noop.id = Some("prod-euw1".to_owned());

        let mut adopt_noop = change(
            "eu-west-1/module.platform.internet_gateway.main",
            Action::NoOp,
            Reason::Unchanged,
        );
        adopt_noop.id = Some("igw-0a".to_owned());
        adopt_noop.adopt = true;

        let mut adopt_update = change(
            "eu-west-1/module.platform.cache_subnet_group.main",
            Action::Update,
            Reason::AttributesDiffer,
        );
        adopt_update.id = Some("prod-euw1-cache".to_owned());
        adopt_update.adopt = true;
        adopt_update.before = Some(attrs(&[("description", s("old"))]));
        adopt_update.after = Some(attrs(&[("description", s("Managed by regionctl"))]));
        adopt_update.changed = names(&["description"]);

        let drift = vec![
            Drift {
                addr: addr(vpc),
                kind: Kind::Vpc,
                region: "eu-west-1".to_owned(),
                id: "vpc-0123".to_owned(),
                deleted: false,
                attrs: vec![
                    AttrDrift {
                        name: "enable_dns_hostnames".to_owned(),
                        state: Value::Bool(true),
                        live: Value::Bool(false),
                        sensitive: false,
                    },
                    AttrDrift {
                        name: "tags".to_owned(),
                        state: map(&[("Name", s("prod-euw1")), ("Team", s("platform"))]),
                        live: map(&[("Name", s("prod-euw1")), ("Team", s("someone-else"))]),
                        sensitive: false,
                    },
                    AttrDrift {
                        name: "master_password_env".to_owned(),
                        state: s("OLD_ENV"),
                        live: s(SECRET),
                        sensitive: true,
                    },
                ],
            },
            Drift {
                addr: addr("eu-west-1/module.platform.subnet.private[\"eu-west-1a\"]"),
                kind: Kind::Subnet,
                region: "eu-west-1".to_owned(),
                id: "subnet-0a".to_owned(),
                deleted: true,
                attrs: Vec::new(),
            },
        ];

        let eu = env(
            "eu-west-1",
            vec![
                create_vpc,
                create_subnet,
                create_sg,
                create_db,
                adopt_noop,
                adopt_update,
                noop,
                update_ng,
                update_sg,
                replace_subnet,
                replace_rt,
                replace_nat,
                refused_db,
                delete_removed,
                delete_orphan,
            ],
            drift,
        );

        let mut role = change("global/iam_role.eks_node", Action::Create, Reason::NotInAws);
        role.after = Some(attrs(&[
            ("name", s("prod-eks-node")),
            (
                "assume_role_policy",
                map(&[
                    ("Version", s("2012-10-17")),
                    (
                        "Statement",
                        list(vec![map(&[
                            ("Action", s("sts:AssumeRole")),
                            ("Effect", s("Allow")),
                            ("Principal", map(&[("Service", s("ec2.amazonaws.com"))])),
                        ])]),
                    ),
                ]),
            ),
            ("arn", unknown()),
        ]));
        let mut record = change(
            "global/route53_record.api",
            Action::Update,
            Reason::AttributesDiffer,
        );
        record.id = Some("Z1_api.example.com_A".to_owned());
        record.before = Some(attrs(&[("ttl", Value::Int(60))]));
        record.after = Some(attrs(&[("ttl", Value::Int(300))]));
        record.changed = names(&["ttl"]);
        let global = env("global", vec![role, record], Vec::new());

        let mut same1 = change("us-east-1/vpc.main", Action::NoOp, Reason::Unchanged);
        same1.id = Some("vpc-9".to_owned());
        let mut same2 = change("us-east-1/subnet.a", Action::NoOp, Reason::Unchanged);
        same2.id = Some("subnet-9".to_owned());
        let us = env("us-east-1", vec![same1, same2], Vec::new());

        plan(vec![global, eu, us])
    }

    fn no_changes() -> Plan {
        let mut a = change("eu-west-1/vpc.main", Action::NoOp, Reason::Unchanged);
        a.id = Some("vpc-1".to_owned());
        let mut b = change("global/iam_role.x", Action::NoOp, Reason::Unchanged);
        b.id = Some("x".to_owned());
        plan(vec![
            env("global", vec![b], Vec::new()),
            env("eu-west-1", vec![a], Vec::new()),
        ])
    }

    fn pretty(j: &J) -> String {
        serde_json::to_string_pretty(j).expect("JSON values always serialize")
    }

    #[test]
    fn human_sample() {
        insta::assert_snapshot!("human_sample", human(&sample(), Style::plain()));
    }

    #[test]
    fn json_sample() {
        insta::assert_snapshot!("json_sample", pretty(&json(&sample())));
    }

    #[test]
    fn markdown_sample() {
        insta::assert_snapshot!("markdown_sample", markdown(&sample(), MARKDOWN_LIMIT));
    }

    #[test]
    fn empty_plan() {
        let p = plan(Vec::new());
        insta::assert_snapshot!(
            "empty_plan",
            format!(
                "{}\n---\n{}\n---\n{}",
                human(&p, Style::plain()),
                pretty(&json(&p)),
                markdown(&p, MARKDOWN_LIMIT)
            )
        );
    }

    #[test]
    fn no_changes_plan() {
        let p = no_changes();
        let h = human(&p, Style::plain());
        assert!(
            h.ends_with("No changes. The platform matches the spec in 1 region and global.\n"),
            "{h}"
        );
        assert!(
            h.contains("eu-west-1: no changes (1 resource up to date)"),
            "{h}"
        );
        let m = markdown(&p, MARKDOWN_LIMIT);
        assert!(!m.contains("<details>"), "{m}");
        assert!(m.contains("**No changes."), "{m}");
        assert_eq!(json(&p)["applyable"], J::Bool(false));
    }

    #[test]
    fn drift_only_plan_says_no_changes_and_counts_drift() {
        let mut p = no_changes();
        p.envs[1].drift.push(Drift {
            addr: addr("eu-west-1/vpc.main"),
            kind: Kind::Vpc,
            region: "eu-west-1".to_owned(),
            id: "vpc-1".to_owned(),
            deleted: false,
            attrs: vec![AttrDrift {
                name: "tags".to_owned(),
                state: map(&[("A", s("1"))]),
                live: map(&[]),
                sensitive: false,
            }],
        });
        let h = human(&p, Style::plain());
        assert!(
            h.contains("eu-west-1: 0 to add, 0 to change, 0 to replace, 0 to destroy, 1 drifted"),
            "{h}"
        );
        assert!(h.contains("      - A: \"1\" → null"), "{h}");
        assert!(h.contains("1 resource changed outside regionctl"), "{h}");
    }

    #[test]
    fn sensitive_values_never_appear() {
        let p = sample();
        let outputs = [
            human(&p, Style::plain()),
            human(
                &p,
                Style {
                    color: true,
                    width: 80,
                },
            ),
            pretty(&json(&p)),
            markdown(&p, MARKDOWN_LIMIT),
        ];
        for out in outputs {
            assert!(!out.contains(SECRET), "a sensitive value leaked:\n{out}");
            assert!(!out.contains("OLD_ENV"), "a sensitive value leaked:\n{out}");
            assert!(out.contains("sensitive"), "{out}");
        }
        let j = json(&p);
        let db = j["resource_changes"]
            .as_array()
            .expect("array")
            .iter()
            .find(|c| c["address"] == "eu-west-1/module.platform.rds_instance.replica")
            .expect("the replica is in the plan");
        assert_eq!(db["change"]["after_sensitive"]["master_password_env"], true);
        assert_eq!(
            db["change"]["before_sensitive"]["master_password_env"],
            true
        );
        assert!(db["change"]["after"].get("master_password_env").is_none());
    }

    #[test]
    fn json_after_keeps_the_live_value_of_what_the_plan_leaves_alone() {
        // AWS lists the subnets the other way round (equal as a set); only the tags change.
        let mut c = change(
            "us-east-1/route_table.public",
            Action::Update,
            Reason::AttributesDiffer,
        );
        c.before = Some(attrs(&[
            ("subnet_ids", list(vec![s("subnet-b"), s("subnet-a")])),
            ("tags", map(&[("Name", s("public"))])),
        ]));
        c.after = Some(attrs(&[
            ("subnet_ids", list(vec![s("subnet-a"), s("subnet-b")])),
            (
                "tags",
                map(&[("Name", s("public")), ("regionctl:stack", s("acme"))]),
            ),
        ]));
        c.changed = names(&["tags"]);
        let j = json(&plan(vec![env("us-east-1", vec![c], Vec::new())]));
        let change = &j["resource_changes"][0]["change"];
        assert_eq!(
            change["after"]["subnet_ids"],
            json!(["subnet-b", "subnet-a"])
        );
        assert_eq!(
            change["before"]["subnet_ids"],
            change["after"]["subnet_ids"]
        );
        assert_eq!(change["after"]["tags"]["regionctl:stack"], "acme");
    }

    #[test]
    fn unknown_values_follow_terraform() {
        let j = json(&sample());
        let sg = j["resource_changes"]
            .as_array()
            .expect("array")
            .iter()
            .find(|c| c["address"] == "eu-west-1/module.platform.security_group.nodes")
            .expect("the group is in the plan");
        let change = &sg["change"];
        assert!(change["after"].get("vpc_id").is_none());
        assert_eq!(change["after_unknown"]["vpc_id"], true);
        assert!(change["after_unknown"].get("name").is_none());
        assert_eq!(
            change["after_unknown"]["ingress"],
            json!([{"cidr_blocks": [false]}, {"source_security_group_id": true}])
        );
        assert_eq!(
            change["after"]["subnet_ids"],
            json!([null, null, null, null])
        );
        assert_eq!(change["actions"], json!(["create"]));
        assert_eq!(change["before"], J::Null);
        assert_eq!(change["before_sensitive"], false);
        let h = human(&sample(), Style::plain());
        assert!(h.contains("+ vpc_id:     (known after apply)"), "{h}");
    }

    #[test]
    fn json_actions_reasons_and_identity() {
        let j = json(&sample());
        let by_addr = |a: &str| {
            j["resource_changes"]
                .as_array()
                .expect("array")
                .iter()
                .find(|c| c["address"] == a)
                .cloned()
                .unwrap_or_else(|| panic!("{a} missing"))
        };
        let subnet = by_addr("eu-west-1/module.platform.subnet.public[\"eu-west-1b\"]");
        assert_eq!(subnet["change"]["actions"], json!(["delete", "create"]));
        assert_eq!(subnet["change"]["replace_paths"], json!([["cidr_block"]]));
        assert_eq!(subnet["action_reason"], "replace_because_cannot_update");
        assert_eq!(subnet["type"], "subnet");
        assert_eq!(subnet["name"], "public");
        assert_eq!(subnet["index"], "eu-west-1b");
        assert_eq!(subnet["module_address"], "module.platform");
        assert_eq!(subnet["region"], "eu-west-1");
        let rt = by_addr("eu-west-1/module.platform.route_table.private[0]");
        assert_eq!(rt["change"]["actions"], json!(["create", "delete"]));
        assert_eq!(rt["index"], 0);
        let gone = by_addr("eu-west-1/module.platform.cache_subnet_group.old");
        assert_eq!(gone["action_reason"], "delete_because_no_resource_config");
        assert_eq!(gone["change"]["after"], J::Null);
        let adopted = by_addr("eu-west-1/module.platform.internet_gateway.main");
        assert_eq!(adopted["change"]["importing"]["id"], "igw-0a");
        assert_eq!(adopted["change"]["actions"], json!(["no-op"]));
        let role = by_addr("global/iam_role.eks_node");
        assert_eq!(role["env"], "global");
        assert_eq!(role["region"], "us-east-1");
        assert!(role.get("index").is_none());
        assert_eq!(
            j["resource_drift"][0]["change"]["actions"],
            json!(["update"])
        );
        assert_eq!(
            j["resource_drift"][1]["change"]["actions"],
            json!(["delete"])
        );
        assert_eq!(j["summary"]["total"]["refused"], 1);
        assert_eq!(
            j["refusals"][0]["address"],
            "eu-west-1/module.platform.rds_instance.replica"
        );
        assert_eq!(j["applyable"], false);
        assert_eq!(j["format_version"], "1.2");
    }

    #[test]
    fn colour_only_when_asked() {
        let p = sample();
        assert!(!human(&p, Style::plain()).contains('\x1b'));
        let c = human(
            &p,
            Style {
                color: true,
                width: 100,
            },
        );
        assert!(c.contains("\x1b[32m+\x1b[0m"), "{c}");
        assert!(c.contains("\x1b[1;31mrefused:\x1b[0m"), "{c}");
        assert!(!markdown(&p, MARKDOWN_LIMIT).contains('\x1b'));
    }

    #[test]
    fn long_scalar_lists_wrap_at_the_width() {
        let mut c = change(
            "eu-west-1/eks_cluster.main",
            Action::Create,
            Reason::NotInAws,
        );
        c.after = Some(attrs(&[(
            "public_access_cidrs",
            list((0..12).map(|i| s(&format!("203.0.{i}.0/24"))).collect()),
        )]));
        let p = plan(vec![env("eu-west-1", vec![c], Vec::new())]);
        let narrow = human(
            &p,
            Style {
                color: false,
                width: 60,
            },
        );
        assert!(
            narrow.contains("      + public_access_cidrs:\n          + \"203.0.0.0/24\"\n"),
            "{narrow}"
        );
        let wide = human(
            &p,
            Style {
                color: false,
                width: 400,
            },
        );
        assert!(
            wide.contains("+ public_access_cidrs: [\"203.0.0.0/24\", "),
            "{wide}"
        );
    }

    /// A plan of `regions` regions with `per_region` resources each, every kind of line in it.
    fn big(regions: usize, per_region: usize) -> Plan {
        let envs = (0..regions)
            .map(|r| {
                let name = format!("xx-test-{}", r + 1);
                let changes = (0..per_region)
                    .map(|i| {
                        let mut c = change(
                            &format!("{name}/module.platform.subnet.s[\"k{i}\"]"),
                            Action::Create,
                            Reason::NotInAws,
                        );
                        c.after = Some(attrs(&[
                            ("cidr_block", s(&format!("10.{}.{}.0/24", i / 256, i % 256))),
                            ("vpc_id", unknown()),
                            (
                                "tags",
                                map(&[("Name", s(&format!("s-{i}"))), ("Team", s("t"))]),
                            ),
                        ]));
                        if i % 500 == 7 {
                            c.refusal =
                                Some(format!("refused <{i}>: allow it with --allow-replace"));
                        }
                        c
                    })
                    .collect();
                env(&name, changes, Vec::new())
            })
            .collect();
        plan(envs)
    }

    fn assert_well_formed(m: &str, limit: usize) {
        assert!(
            m.chars().count() <= limit,
            "{} > {limit}",
            m.chars().count()
        );
        assert_eq!(
            m.matches("<details>").count(),
            m.matches("</details>").count(),
            "unbalanced details"
        );
        let fences = m.lines().filter(|l| l.starts_with("```")).count();
        assert_eq!(fences % 2, 0, "unbalanced code fences");
        assert!(m.contains("| Region | Add |"), "the summary table is gone");
    }

    #[test]
    fn markdown_of_a_huge_plan_fits_and_says_it_truncated() {
        let p = big(4, 1000);
        let full = human(&p, Style::plain());
        assert!(
            full.len() > 4 * MARKDOWN_LIMIT,
            "the test plan is not big enough"
        );
        let m = markdown(&p, MARKDOWN_LIMIT);
        assert_well_formed(&m, MARKDOWN_LIMIT);
        assert!(
            m.contains(
                "Output truncated: the full plan of 4 regions is longer than 60,000 characters"
            ),
            "{m}"
        );
        for r in 1..=4 {
            assert!(
                m.contains(&format!("| xx-test-{r} | 1000 | 0 | 0 | 0 | 0 |")),
                "{m}"
            );
        }
        assert!(m.contains("| **Total** | 4000 |"), "{m}");
        // The room left is used for the start of a diff rather than wasted.
        assert!(
            m.chars().count() > MARKDOWN_LIMIT / 2,
            "{}",
            m.chars().count()
        );
        assert!(
            m.contains("```diff\n+     xx-test-1/module.platform.subnet.s[\"k0\"] will be created"),
            "{m}"
        );
        assert!(m.contains("lines are left out"), "{m}");
        assert!(m.contains("&lt;7&gt;"), "refusals are listed, escaped");
    }

    #[test]
    fn markdown_drops_the_largest_region_first() {
        let mut p = big(3, 10);
        let large = big(1, 400).envs.remove(0);
        p.envs[1] = EnvPlan {
            env: "xx-test-2".to_owned(),
            region: Some("xx-test-2".to_owned()),
            ..large
        };
        let limit = 20_000;
        let m = markdown(&p, limit);
        assert_well_formed(&m, limit);
        assert!(
            m.contains("the details of xx-test-2 are shortened or left out"),
            "{m}"
        );
        assert!(
            m.contains("xx-test-1/module.platform.subnet.s[\"k9\"]"),
            "{m}"
        );
        assert!(
            m.contains("xx-test-3/module.platform.subnet.s[\"k9\"]"),
            "{m}"
        );
    }

    #[test]
    fn markdown_fits_tiny_limits() {
        let p = big(30, 200);
        for limit in [MARKDOWN_LIMIT, 10_000, 3_000, 500] {
            let m = markdown(&p, limit);
            assert!(m.chars().count() <= limit, "{limit}: {}", m.chars().count());
            assert_eq!(
                m.matches("<details>").count(),
                m.matches("</details>").count()
            );
            assert_eq!(m.lines().filter(|l| l.starts_with("```")).count() % 2, 0);
        }
    }

    #[test]
    fn markdown_fence_outlasts_backticks_in_values() {
        let mut c = change("eu-west-1/vpc.main", Action::Create, Reason::NotInAws);
        c.after = Some(attrs(&[("description", s("```` not a fence"))]));
        let m = markdown(
            &plan(vec![env("eu-west-1", vec![c], Vec::new())]),
            MARKDOWN_LIMIT,
        );
        assert!(m.contains("`````diff\n"), "{m}");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(60_000), "60,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}

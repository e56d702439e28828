//! Definitions as written: the project file, environments and modules, before expansion.
//!
//! This layer checks only the shape of each file (known top-level keys, resource keys of the form
//! `kind.name`, meta-attributes of the right type). Attribute values stay YAML nodes; their types
//! are checked against the kind's schema after expressions are evaluated.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::addr::EnvName;
use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::kind::Kind;
use crate::source::{FileId, Span};
use crate::spec::yaml::{Key, Node, NodeValue};

/// `regionctl.yaml`.
#[derive(Debug, Clone)]
pub struct ProjectDef {
    pub file: FileId,
    pub name: String,
    pub backend: BackendDef,
    pub default_tags: BTreeMap<String, String>,
    pub variables: Vec<(Key, Node)>,
    /// The `checks:` settings as written; `check::config` reads them, so a spec that only
    /// validates never depends on the policy rules.
    pub checks: Option<Node>,
    /// `lock: { lease_seconds: N }`: how long one renewal of a state lock keeps it; `None` for
    /// the default (`state::lease::DEFAULT_LEASE`).
    pub lock_lease: Option<std::time::Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendDef {
    Local,
    S3 {
        bucket: String,
        key_prefix: String,
        region: String,
    },
}

/// Whether an environment is a region or the global one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    Region(String),
    Global,
}

/// One environment: all YAML files of `envs/<name>/` merged.
#[derive(Debug, Clone)]
pub struct EnvDef {
    pub name: EnvName,
    pub dir: PathBuf,
    pub placement: Placement,
    /// Where the placement was declared (for "AZ not in region" and similar labels).
    pub placement_span: Option<Span>,
    pub variables: Vec<(Key, Node)>,
    pub body: Body,
    pub outputs: Vec<(Key, Node)>,
}

/// A reusable module directory.
#[derive(Debug, Clone)]
pub struct ModuleDef {
    pub dir: PathBuf,
    pub inputs: Vec<InputDecl>,
    pub body: Body,
    pub outputs: Vec<(Key, Node)>,
    /// A file of the module could not be read or parsed (already reported): what it declares
    /// is unknown, so calls are not told that its inputs are missing or unknown.
    pub incomplete: bool,
}

/// What environments and modules both contain.
#[derive(Debug, Clone, Default)]
pub struct Body {
    pub modules: Vec<ModuleCall>,
    pub resources: Vec<ResourceBlock>,
}

#[derive(Debug, Clone)]
pub struct ModuleCall {
    pub name: String,
    pub name_span: Span,
    /// The `source` as written and the directory it resolves to (relative to the calling file).
    pub source: String,
    pub source_span: Span,
    pub dir: PathBuf,
    pub inputs: Vec<(Key, Node)>,
    pub inputs_span: Span,
}

#[derive(Debug, Clone)]
pub struct ResourceBlock {
    pub kind: Kind,
    pub name: String,
    /// The `kind.name` key: where "this resource" diagnostics point.
    pub key_span: Span,
    pub for_each: Option<Node>,
    pub depends_on: Vec<(String, Span)>,
    pub protect: bool,
    pub ignore_changes: Vec<(String, Span)>,
    pub attrs: Vec<(Key, Node)>,
}

#[derive(Debug, Clone)]
pub struct InputDecl {
    pub name: String,
    pub span: Span,
    pub ty: InputType,
    pub default: Option<Node>,
    pub description: Option<String>,
}

/// Types a module input may declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputType {
    String,
    Number,
    Bool,
    Cidr,
    Any,
    List(Box<InputType>),
    Map(Box<InputType>),
}

impl std::fmt::Display for InputType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputType::String => f.write_str("string"),
            InputType::Number => f.write_str("number"),
            InputType::Bool => f.write_str("bool"),
            InputType::Cidr => f.write_str("cidr"),
            InputType::Any => f.write_str("any"),
            InputType::List(t) => write!(f, "list({t})"),
            InputType::Map(t) => write!(f, "map({t})"),
        }
    }
}

impl InputType {
    pub fn parse(s: &str) -> Option<InputType> {
        let s = s.trim();
        if let Some(inner) = s.strip_prefix("list(").and_then(|r| r.strip_suffix(')')) {
            return InputType::parse(inner).map(|t| InputType::List(Box::new(t)));
        }
        if let Some(inner) = s.strip_prefix("map(").and_then(|r| r.strip_suffix(')')) {
            return InputType::parse(inner).map(|t| InputType::Map(Box::new(t)));
        }
        match s {
            "string" => Some(InputType::String),
            "number" => Some(InputType::Number),
            "bool" => Some(InputType::Bool),
            "cidr" => Some(InputType::Cidr),
            "any" => Some(InputType::Any),
            _ => None,
        }
    }
}

/// Keys every resource may carry besides its kind's attributes.
pub const META_ATTRS: [&str; 4] = ["for_each", "depends_on", "protect", "ignore_changes"];

pub(crate) const PROJECT_KEYS: [&str; 6] = [
    "project",
    "backend",
    "default_tags",
    "variables",
    "checks",
    "lock",
];
pub(crate) const ENV_KEYS: [&str; 6] = [
    "region",
    "global",
    "variables",
    "modules",
    "resources",
    "outputs",
];
pub(crate) const MODULE_KEYS: [&str; 4] = ["inputs", "modules", "resources", "outputs"];

fn unknown_key(d: &mut Diagnostics, key: &Key, what: &str, allowed: &[&str]) {
    let mut diag = Diagnostic::error(
        "spec::unknown-field",
        format!("unknown {what} `{}`", key.name),
    )
    .with_label(key.span, "not a known key here");
    diag = match did_you_mean(&key.name, allowed.iter().copied()) {
        Some(s) => diag.with_help(format!("did you mean `{s}`?")),
        None => diag.with_help(format!("expected one of: {}", allowed.join(", "))),
    };
    d.push(diag);
}

pub fn type_error(node: &Node, expected: &str) -> Diagnostic {
    Diagnostic::error(
        "spec::type",
        format!("expected {expected}, found {}", node.type_name()),
    )
    .with_label(node.span, format!("expected {expected}"))
}

fn map_entries<'a>(node: &'a Node, what: &str, d: &mut Diagnostics) -> &'a [(Key, Node)] {
    match &node.value {
        NodeValue::Map(entries) => entries,
        NodeValue::Null => &[],
        _ => {
            d.push(type_error(node, &format!("a map of {what}")));
            &[]
        }
    }
}

fn string_of(node: &Node, d: &mut Diagnostics) -> Option<String> {
    match &node.value {
        NodeValue::Str(s) => Some(s.clone()),
        _ => {
            d.push(type_error(node, "a string"));
            None
        }
    }
}

pub fn parse_project(file: FileId, root: &Node, d: &mut Diagnostics) -> Option<ProjectDef> {
    let Some(entries) = root.as_map() else {
        d.push(type_error(
            root,
            "a map with `project`, `backend`, `default_tags`",
        ));
        return None;
    };
    let mut name = None;
    let mut backend = BackendDef::Local;
    let mut default_tags = BTreeMap::new();
    let mut variables = Vec::new();
    let mut checks = None;
    let mut lock_lease = None;
    for (k, v) in entries {
        match k.name.as_str() {
            "project" => {
                if let Some(s) = string_of(v, d) {
                    if s.is_empty()
                        || !s
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    {
                        d.push(
                            Diagnostic::error("spec::project-name", format!("invalid project name {s:?}"))
                                .with_label(v.span, "here")
                                .with_help("use lowercase letters, digits and dashes; it becomes the `regionctl:stack` tag"),
                        );
                    }
                    name = Some(s);
                }
            }
            "backend" => backend = parse_backend(v, d).unwrap_or(BackendDef::Local),
            "default_tags" => {
                for (tk, tv) in map_entries(v, "tag names to values", d) {
                    if let Some(s) = scalar_string(tv) {
                        default_tags.insert(tk.name.clone(), s);
                    } else {
                        d.push(type_error(tv, "a string tag value"));
                    }
                }
            }
            "variables" => variables = map_entries(v, "variable names to values", d).to_vec(),
            "checks" => checks = Some(v.clone()),
            "lock" => lock_lease = parse_lock(v, d),
            _ => unknown_key(d, k, "project setting", &PROJECT_KEYS),
        }
    }
    let Some(name) = name else {
        d.push(
            Diagnostic::error(
                "spec::missing-field",
                "regionctl.yaml has no `project` name",
            )
            .with_label(root.span, "the project file")
            .with_help("add `project: <name>`; it names the stack and tags every resource"),
        );
        return None;
    };
    Some(ProjectDef {
        file,
        name,
        backend,
        default_tags,
        variables,
        checks,
        lock_lease,
    })
}

/// `lock: { lease_seconds: N }`, N from 2 to 3600.
fn parse_lock(node: &Node, d: &mut Diagnostics) -> Option<std::time::Duration> {
    let mut lease = None;
    for (k, v) in map_entries(node, "lock settings", d) {
        if k.name != "lease_seconds" {
            unknown_key(d, k, "lock setting", &["lease_seconds"]);
            continue;
        }
        match &v.value {
            NodeValue::Int(n) if (2..=3600).contains(n) => {
                lease = u64::try_from(*n).ok().map(std::time::Duration::from_secs);
            }
            _ => d.push(
                Diagnostic::error(
                    "spec::lock-lease",
                    "`lock.lease_seconds` must be a whole number of seconds from 2 to 3600",
                )
                .with_label(v.span, "here")
                .with_help(
                    "the default is 30; a holder renews its lock every third of the lease, and a \
                     run on another host killed without a trace is taken over once it runs out",
                ),
            ),
        }
    }
    lease
}

/// Numbers and bools written where a string is wanted are taken as their text (tag values).
fn scalar_string(node: &Node) -> Option<String> {
    match &node.value {
        NodeValue::Str(s) => Some(s.clone()),
        NodeValue::Int(i) => Some(i.to_string()),
        NodeValue::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_backend(node: &Node, d: &mut Diagnostics) -> Option<BackendDef> {
    let entries = map_entries(node, "one backend", d);
    if entries.len() != 1 {
        d.push(
            Diagnostic::error("spec::backend", "`backend` must name exactly one backend")
                .with_label(node.span, "here")
                .with_help("use `backend: { local: {} }` or `backend: { s3: { bucket, key_prefix, region } }`"),
        );
        return None;
    }
    let (k, v) = &entries[0];
    match k.name.as_str() {
        "local" => {
            map_entries(v, "local backend settings", d);
            Some(BackendDef::Local)
        }
        "s3" => {
            let mut get = |field: &str| -> Option<String> {
                match v.get(field) {
                    Some(n) => string_of(n, d),
                    None if field == "key_prefix" => Some(String::new()),
                    None => {
                        d.push(
                            Diagnostic::error(
                                "spec::missing-field",
                                format!("the s3 backend needs `{field}`"),
                            )
                            .with_label(k.span, "this backend"),
                        );
                        None
                    }
                }
            };
            let bucket = get("bucket");
            let key_prefix = get("key_prefix");
            let region = get("region");
            for (fk, _) in map_entries(v, "s3 settings", d) {
                if !["bucket", "key_prefix", "region"].contains(&fk.name.as_str()) {
                    unknown_key(
                        d,
                        fk,
                        "s3 backend setting",
                        &["bucket", "key_prefix", "region"],
                    );
                }
            }
            Some(BackendDef::S3 {
                bucket: bucket?,
                key_prefix: key_prefix?,
                region: region?,
            })
        }
        _ => {
            unknown_key(d, k, "backend", &["local", "s3"]);
            None
        }
    }
}

/// The parts of one environment file; several are merged into an [`EnvDef`].
pub struct EnvFile {
    pub placement: Option<(Placement, Span)>,
    pub variables: Vec<(Key, Node)>,
    pub body: Body,
    pub outputs: Vec<(Key, Node)>,
}

pub fn parse_env_file(root: &Node, base_dir: &std::path::Path, d: &mut Diagnostics) -> EnvFile {
    let mut f = EnvFile {
        placement: None,
        variables: Vec::new(),
        body: Body::default(),
        outputs: Vec::new(),
    };
    let Some(entries) = root.as_map() else {
        d.push(type_error(
            root,
            "a map (region, variables, modules, resources, outputs)",
        ));
        return f;
    };
    for (k, v) in entries {
        match k.name.as_str() {
            "region" => {
                if let Some(r) = string_of(v, d) {
                    if let Some((Placement::Global, prev)) = &f.placement {
                        d.push(both_placements(v.span, *prev));
                    }
                    f.placement = Some((Placement::Region(r), v.span));
                }
            }
            "global" => match v.value {
                NodeValue::Bool(true) => {
                    if let Some((Placement::Region(_), prev)) = &f.placement {
                        d.push(both_placements(k.span, *prev));
                    }
                    f.placement = Some((Placement::Global, k.span))
                }
                NodeValue::Bool(false) => {}
                _ => d.push(type_error(v, "`true`")),
            },
            "variables" => f.variables = map_entries(v, "variable names to values", d).to_vec(),
            "modules" => f.body.modules = parse_module_calls(v, base_dir, d),
            "resources" => f.body.resources = parse_resources(v, d),
            "outputs" => f.outputs = map_entries(v, "output names to values", d).to_vec(),
            _ => unknown_key(d, k, "environment key", &ENV_KEYS),
        }
    }
    f
}

/// `region:` and `global: true` in one file: the environment is one or the other.
fn both_placements(second: Span, first: Span) -> Diagnostic {
    Diagnostic::error(
        "spec::placement",
        "a file sets both `region:` and `global: true`",
    )
    .with_label(second, "this one")
    .with_label(first, "conflicts with this one")
    .with_help(
        "a regional environment sets `region:`; only the environment `global` sets `global: true`",
    )
}

pub fn parse_module_file(
    root: &Node,
    base_dir: &std::path::Path,
    d: &mut Diagnostics,
) -> (Vec<InputDecl>, Body, Vec<(Key, Node)>) {
    let mut inputs = Vec::new();
    let mut body = Body::default();
    let mut outputs = Vec::new();
    let Some(entries) = root.as_map() else {
        d.push(type_error(
            root,
            "a map (inputs, modules, resources, outputs)",
        ));
        return (inputs, body, outputs);
    };
    for (k, v) in entries {
        match k.name.as_str() {
            "inputs" => inputs = parse_inputs(v, d),
            "modules" => body.modules = parse_module_calls(v, base_dir, d),
            "resources" => body.resources = parse_resources(v, d),
            "outputs" => outputs = map_entries(v, "output names to values", d).to_vec(),
            "region" | "global" => d.push(
                Diagnostic::error(
                    "spec::module-placement",
                    format!("a module cannot set `{}`", k.name),
                )
                .with_label(k.span, "here")
                .with_help("a module takes its region from the environment that calls it"),
            ),
            _ => unknown_key(d, k, "module key", &MODULE_KEYS),
        }
    }
    (inputs, body, outputs)
}

fn parse_inputs(node: &Node, d: &mut Diagnostics) -> Vec<InputDecl> {
    let mut out = Vec::new();
    for (k, v) in map_entries(node, "input declarations", d) {
        let mut decl = InputDecl {
            name: k.name.clone(),
            span: k.span,
            ty: InputType::Any,
            default: None,
            description: None,
        };
        match &v.value {
            // `name: string` is shorthand for `name: { type: string }`.
            NodeValue::Str(s) => match InputType::parse(s) {
                Some(t) => decl.ty = t,
                None => d.push(bad_input_type(v, s)),
            },
            NodeValue::Map(entries) => {
                for (fk, fv) in entries {
                    match fk.name.as_str() {
                        "type" => match fv.as_str().map(|s| (s, InputType::parse(s))) {
                            Some((_, Some(t))) => decl.ty = t,
                            Some((s, None)) => d.push(bad_input_type(fv, s)),
                            None => d.push(type_error(fv, "a type name")),
                        },
                        "default" => decl.default = Some(fv.clone()),
                        "description" => decl.description = string_of(fv, d),
                        _ => {
                            unknown_key(d, fk, "input setting", &["type", "default", "description"])
                        }
                    }
                }
            }
            NodeValue::Null => {}
            _ => d.push(type_error(
                v,
                "an input declaration `{ type, default, description }`",
            )),
        }
        out.push(decl);
    }
    out
}

fn bad_input_type(node: &Node, s: &str) -> Diagnostic {
    Diagnostic::error("spec::input-type", format!("unknown input type `{s}`"))
        .with_label(node.span, "here")
        .with_help("types are string, number, bool, cidr, any, list(T) and map(T)")
}

fn parse_module_calls(
    node: &Node,
    base_dir: &std::path::Path,
    d: &mut Diagnostics,
) -> Vec<ModuleCall> {
    let mut out = Vec::new();
    for (k, v) in map_entries(node, "module calls", d) {
        if !is_identifier(&k.name) {
            d.push(
                Diagnostic::error(
                    "spec::name",
                    format!("invalid module call name `{}`", k.name),
                )
                .with_label(k.span, "here")
                .with_help("names use letters, digits, `_` and `-`, starting with a letter"),
            );
            continue;
        }
        let mut source = None;
        let mut inputs = Vec::new();
        let mut inputs_span = k.span;
        for (fk, fv) in map_entries(v, "module call settings", d) {
            match fk.name.as_str() {
                "source" => source = string_of(fv, d).map(|s| (s, fv.span)),
                "inputs" => {
                    inputs = map_entries(fv, "input values", d).to_vec();
                    inputs_span = fv.span;
                }
                _ => unknown_key(d, fk, "module call setting", &["source", "inputs"]),
            }
        }
        let Some((source, source_span)) = source else {
            d.push(
                Diagnostic::error(
                    "spec::missing-field",
                    format!("module `{}` has no `source`", k.name),
                )
                .with_label(k.span, "this module call")
                .with_help("add `source: ../../modules/<name>` (a path relative to this file)"),
            );
            continue;
        };
        // A source is read before anything is evaluated (it decides which files exist), so it
        // is a literal path; `${...}` in it would otherwise name a directory called `${...}`.
        if source.contains("${") {
            d.push(
                Diagnostic::error(
                    "spec::module-source",
                    format!("module `{}`: `source` must be a literal path, not an expression", k.name),
                )
                .with_label(source_span, "an expression")
                .with_help("write the relative path itself, e.g. `source: ../../modules/network` (relative to this file)"),
            );
            continue;
        }
        let dir = base_dir.join(&source);
        out.push(ModuleCall {
            name: k.name.clone(),
            name_span: k.span,
            source,
            source_span,
            dir,
            inputs,
            inputs_span,
        });
    }
    out
}

pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn parse_resources(node: &Node, d: &mut Diagnostics) -> Vec<ResourceBlock> {
    let mut out = Vec::new();
    for (k, v) in map_entries(node, "`kind.name` to attributes", d) {
        let Some((kind_name, name)) = k.name.split_once('.') else {
            d.push(
                Diagnostic::error(
                    "spec::resource-key",
                    format!("resource key `{}` is not `kind.name`", k.name),
                )
                .with_label(k.span, "expected `kind.name`, e.g. `vpc.main`"),
            );
            continue;
        };
        let Some(kind) = Kind::from_name(kind_name) else {
            let mut diag = Diagnostic::error(
                "spec::unknown-kind",
                format!("unknown resource kind `{kind_name}`"),
            )
            .with_label(k.span, "not a kind regionctl manages");
            let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
            diag = match did_you_mean(kind_name, names.iter().copied()) {
                Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                None => diag.with_help(format!("known kinds: {}", names.join(", "))),
            };
            d.push(diag);
            continue;
        };
        if !is_identifier(name) {
            d.push(
                Diagnostic::error("spec::name", format!("invalid resource name `{name}`"))
                    .with_label(k.span, "here")
                    .with_help("names use letters, digits, `_` and `-`, starting with a letter"),
            );
            continue;
        }
        let mut block = ResourceBlock {
            kind,
            name: name.to_string(),
            key_span: k.span,
            for_each: None,
            depends_on: Vec::new(),
            protect: false,
            ignore_changes: Vec::new(),
            attrs: Vec::new(),
        };
        for (ak, av) in map_entries(v, "attributes", d) {
            match ak.name.as_str() {
                "for_each" => block.for_each = Some(av.clone()),
                "depends_on" => block.depends_on = string_list(av, d),
                "ignore_changes" => block.ignore_changes = string_list(av, d),
                "protect" => match av.value {
                    NodeValue::Bool(b) => block.protect = b,
                    _ => d.push(type_error(av, "`true` or `false`")),
                },
                _ => block.attrs.push((ak.clone(), av.clone())),
            }
        }
        out.push(block);
    }
    out
}

fn string_list(node: &Node, d: &mut Diagnostics) -> Vec<(String, Span)> {
    match &node.value {
        NodeValue::Seq(items) => items
            .iter()
            .filter_map(|n| match &n.value {
                NodeValue::Str(s) => Some((s.clone(), n.span)),
                _ => {
                    d.push(type_error(n, "a string"));
                    None
                }
            })
            .collect(),
        _ => {
            d.push(type_error(node, "a list of strings"));
            Vec::new()
        }
    }
}

//! Expansion: definitions to resource instances with evaluated attributes.
//!
//! Runs in two passes over every environment of the project:
//!
//! 1. *Instantiate*: walk the module tree, evaluate `for_each` and module inputs and outputs, and
//!    register every resource instance. References to resources are left unresolved here, because
//!    the full set of instances is not known yet.
//! 2. *Evaluate*: evaluate every instance's attributes with the complete registry, resolving each
//!    reference to an instance address (or reporting it), and check the values against the kind's
//!    schema.
//!
//! Environments are instantiated in dependency order so that `env.X.module.m.output` can read
//! another environment's module outputs. Diagnostics are kept only for selected environments,
//! so `validate envs/eu-west-1` does not report problems in `envs/global`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::addr::{BlockAddr, EnvName, InstanceAddr, InstanceKey};
use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::kind::{Kind, Placement as KindPlacement};
use crate::source::{SourceMap, Span};
use crate::spec::expr::{self, EvalStep, Scope, Template, TextOrigin};
use crate::spec::loader::{Loaded, normalize};
use crate::spec::model::{Body, EnvDef, InputType, ModuleCall, Placement, ResourceBlock};
use crate::spec::schema::{self, check};
use crate::spec::value::{Deferred, RefTarget, Reference, Selector, Value};
use crate::spec::yaml::{Key, Node, NodeValue};
use crate::spec::{Env, Resource, Spec};

/// Module calls nested deeper than this are assumed to be a module calling itself.
const MAX_MODULE_DEPTH: usize = 16;
/// A `for_each` with more instances than this is almost certainly a mistake, and would make a
/// plan nobody can review.
const MAX_INSTANCES: usize = 10_000;

type ModPath = Vec<String>;

/// The operator of the placeholder that stands for a missing required module input. The missing
/// input is reported at the module call; later stages leave values built from it alone.
pub const MISSING_INPUT: &str = "missing input";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct BlockKey {
    env: EnvName,
    module: ModPath,
    kind: Kind,
    name: String,
}

#[derive(Debug, Clone)]
struct Each {
    key: InstanceKey,
    value: Value,
    index: usize,
}

struct BlockInfo<'a> {
    block: &'a ResourceBlock,
    has_for_each: bool,
    instances: Vec<(Option<InstanceKey>, Option<Each>)>,
}

/// One instantiated module (or an environment's root, with an empty path).
struct ModInstance {
    inputs: Option<BTreeMap<String, Value>>,
    outputs: BTreeMap<String, Value>,
}

pub struct Expander<'a> {
    loaded: &'a Loaded,
    sources: &'a SourceMap,
    blocks: BTreeMap<BlockKey, BlockInfo<'a>>,
    modules: BTreeMap<(EnvName, ModPath), ModInstance>,
    vars: BTreeMap<EnvName, BTreeMap<String, Value>>,
    /// Templates parsed once per YAML node, however many instances evaluate them.
    templates: RefCell<HashMap<Span, Result<Template, Vec<Diagnostic>>>>,
    /// Diagnostics from reference resolution, which happens inside `Scope::traverse` (`&self`).
    scope_diags: RefCell<Diagnostics>,
    d: Diagnostics,
    /// Module directories being instantiated, outermost first: a call to one of them is a
    /// module calling itself, which would otherwise expand exponentially until the depth limit.
    module_stack: Vec<std::path::PathBuf>,
    /// The environment whose diagnostics are being collected; problems met while expanding an
    /// unselected environment are dropped (see the module docs).
    current_selected: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Instantiate,
    Evaluate,
}

/// Evaluates the whole project. Returns the spec and every diagnostic found.
pub fn expand(loaded: &Loaded, sources: &SourceMap) -> (Spec, Diagnostics) {
    let mut ex = Expander {
        loaded,
        sources,
        blocks: BTreeMap::new(),
        modules: BTreeMap::new(),
        vars: BTreeMap::new(),
        templates: RefCell::new(HashMap::new()),
        scope_diags: RefCell::new(Diagnostics::new()),
        d: Diagnostics::new(),
        module_stack: Vec::new(),
        current_selected: true,
    };
    let order = ex.env_order();
    for env_name in &order {
        let env = &loaded.envs[env_name];
        ex.current_selected = loaded.selected.contains(env_name);
        ex.init_vars(env);
        ex.instantiate(env, Vec::new(), &env.body, &env.outputs, None, 0);
    }
    let mut resources = BTreeMap::new();
    let mut envs = BTreeMap::new();
    for env_name in &order {
        let env = &loaded.envs[env_name];
        ex.current_selected = loaded.selected.contains(env_name);
        ex.evaluate_env(env, &mut resources);
        let outputs = ex.eval_outputs(env);
        let region = match &env.placement {
            Placement::Region(r) => Some(r.clone()),
            Placement::Global => None,
        };
        envs.insert(
            env_name.clone(),
            Env {
                name: env_name.clone(),
                region,
                selected: loaded.selected.contains(env_name),
                outputs,
            },
        );
    }
    let mut d = ex.d;
    d.extend(ex.scope_diags.into_inner());
    let spec = Spec {
        root: loaded.root.clone(),
        project: loaded.project.clone(),
        envs,
        resources,
    };
    (spec, d)
}

impl<'a> Expander<'a> {
    fn push(&mut self, diag: Diagnostic) {
        if self.current_selected {
            self.d.push(diag);
        }
    }

    fn extend(&mut self, diags: impl IntoIterator<Item = Diagnostic>) {
        if self.current_selected {
            self.d.extend(diags);
        }
    }

    /// Environments ordered so that one whose module inputs read `env.X.module...` comes after X.
    fn env_order(&mut self) -> Vec<EnvName> {
        let mut deps: BTreeMap<&EnvName, BTreeSet<EnvName>> = BTreeMap::new();
        // Where each environment first reads another's module output, to label a cycle.
        let mut read_at: BTreeMap<(EnvName, EnvName), Span> = BTreeMap::new();
        for (name, env) in &self.loaded.envs {
            let mut needs = BTreeSet::new();
            for call in &env.body.modules {
                for (_, node) in &call.inputs {
                    self.for_each_traversal(node, &mut |tr| {
                        if let (
                            Some(expr::Step::Attr { name: env, .. }),
                            Some(expr::Step::Attr { name: m, .. }),
                        ) = (tr.steps.first(), tr.steps.get(1))
                            && tr.root == "env"
                            && m == "module"
                        {
                            needs.insert(env.clone());
                            read_at
                                .entry((name.clone(), env.clone()))
                                .or_insert(tr.root_span);
                        }
                    });
                }
            }
            needs.remove(name);
            deps.insert(name, needs);
        }
        let mut order = Vec::new();
        let mut done = BTreeSet::new();
        while order.len() < deps.len() {
            let ready: Vec<EnvName> = deps
                .iter()
                .filter(|(n, needs)| {
                    !done.contains(**n)
                        && needs
                            .iter()
                            .all(|x| done.contains(x) || !deps.contains_key(x))
                })
                .map(|(n, _)| (*n).clone())
                .collect();
            if ready.is_empty() {
                // A cycle between environments' module outputs: instantiate the rest in name
                // order; the unresolved reads are reported where they occur.
                let rest: Vec<EnvName> = deps
                    .keys()
                    .filter(|n| !done.contains(**n))
                    .map(|n| (*n).clone())
                    .collect();
                let mut diag = Diagnostic::error(
                    "spec::env-cycle",
                    format!(
                        "environments read each other's module outputs in a cycle: {}",
                        rest.join(" → ")
                    ),
                );
                for ((from, to), span) in &read_at {
                    if rest.contains(from) && rest.contains(to) {
                        diag = diag.with_label(*span, format!("{from} reads env.{to} here"));
                    }
                }
                self.d.push(diag.with_help(
                    "one of these environments must stop reading the other's module outputs; pass the value through a variable instead",
                ));
                for n in rest {
                    done.insert(n.clone());
                    order.push(n);
                }
                break;
            }
            for n in ready {
                done.insert(n.clone());
                order.push(n);
            }
        }
        order
    }

    /// Calls `f` with every traversal written in the templates of `node`. Used to order
    /// environments and module calls before evaluating anything; parse errors are left for
    /// evaluation to report (in the right environment).
    fn for_each_traversal(&self, node: &Node, f: &mut dyn FnMut(&expr::Traversal)) {
        match &node.value {
            NodeValue::Str(_) => {
                if let Ok(t) = self.parsed(node) {
                    for tr in t.traversals() {
                        f(tr);
                    }
                }
            }
            NodeValue::Seq(items) => items.iter().for_each(|n| self.for_each_traversal(n, f)),
            NodeValue::Map(entries) => entries
                .iter()
                .for_each(|(_, n)| self.for_each_traversal(n, f)),
            _ => {}
        }
    }

    /// The template in a string node, parsed once however many instances evaluate it.
    fn parsed(&self, node: &Node) -> Result<Template, Vec<Diagnostic>> {
        if let Some(p) = self.templates.borrow().get(&node.span) {
            return p.clone();
        }
        let text = match &node.value {
            NodeValue::Str(text) => text,
            _ => return Err(Vec::new()),
        };
        let p = expr::parse_template(text, &text_origin(self.sources, node, text));
        self.templates.borrow_mut().insert(node.span, p.clone());
        p
    }

    /// Parses (once) the template in a string node; `None` if it has syntax errors, which are
    /// reported each time a selected environment uses the node (and deduplicated later), so a
    /// module shared with an unselected environment still has its errors reported.
    fn template(&self, node: &Node) -> Option<Template> {
        let parsed = self.parsed(node);
        match parsed {
            Ok(t) => Some(t),
            Err(errs) => {
                if self.current_selected {
                    self.scope_diags.borrow_mut().extend(errs);
                }
                None
            }
        }
    }

    /// Evaluates a YAML node: strings are templates, lists and maps are evaluated element-wise.
    fn eval_node(&self, node: &Node, scope: &EvalScope) -> Result<Value, Vec<Diagnostic>> {
        match &node.value {
            NodeValue::Null => Ok(Value::Null),
            NodeValue::Bool(b) => Ok(Value::Bool(*b)),
            NodeValue::Int(i) => Ok(Value::Int(*i)),
            NodeValue::Float(f) => Ok(Value::Float(*f)),
            NodeValue::Str(s) => {
                if !s.contains("${") && !s.contains("$${") {
                    return Ok(Value::Str(s.clone()));
                }
                match self.template(node) {
                    Some(t) => expr::eval_template(&t, scope),
                    None => Err(Vec::new()), // syntax errors already reported
                }
            }
            NodeValue::Seq(items) => {
                let mut out = Vec::new();
                let mut errs = Vec::new();
                for n in items {
                    match self.eval_node(n, scope) {
                        Ok(v) => out.push(v),
                        Err(e) => errs.extend(e),
                    }
                }
                if errs.is_empty() {
                    Ok(Value::List(out))
                } else {
                    Err(errs)
                }
            }
            NodeValue::Map(entries) => {
                let mut out = BTreeMap::new();
                let mut errs = Vec::new();
                for (k, n) in entries {
                    match self.eval_node(n, scope) {
                        Ok(v) => {
                            out.insert(k.name.clone(), v);
                        }
                        Err(e) => errs.extend(e),
                    }
                }
                if errs.is_empty() {
                    Ok(Value::Map(out))
                } else {
                    Err(errs)
                }
            }
        }
    }

    fn init_vars(&mut self, env: &'a EnvDef) {
        let mut vars = BTreeMap::new();
        let empty = EvalScope::constant(self);
        let mut diags = Vec::new();
        let declared: BTreeSet<&str> = self
            .loaded
            .project
            .variables
            .iter()
            .chain(&env.variables)
            .map(|(k, _)| k.name.as_str())
            .collect();
        for (k, node) in self.loaded.project.variables.iter().chain(&env.variables) {
            match self.eval_node(node, &empty) {
                Ok(v) => {
                    vars.insert(k.name.clone(), v);
                }
                Err(e) => diags.extend(e),
            }
        }
        for (k, node) in &self.loaded.overrides {
            // An override only applies where the variable is declared, like Terraform; a name
            // declared nowhere in the project is reported once, against the first environment.
            if !declared.contains(k.name.as_str()) {
                let anywhere = self
                    .loaded
                    .project
                    .variables
                    .iter()
                    .any(|(p, _)| p.name == k.name)
                    || self
                        .loaded
                        .envs
                        .values()
                        .any(|e| e.variables.iter().any(|(v, _)| v.name == k.name));
                if !anywhere && self.loaded.selected.iter().next() == Some(&env.name) {
                    diags.push(
                        Diagnostic::error(
                            "spec::unknown-variable",
                            format!("variable `{}` is not declared in any environment", k.name),
                        )
                        .with_label(k.span, "overridden here")
                        .with_help(
                            "declare it under `variables:` in an environment or in regionctl.yaml",
                        ),
                    );
                }
                continue;
            }
            match self.eval_node(node, &empty) {
                Ok(v) => {
                    // Variables have no declared type; the declared value stands for it, so an
                    // override is blamed at the `--var` itself rather than where it is used.
                    if let Some(declared) = vars.get(&k.name)
                        && let Some(problem) = override_mismatch(declared, &v)
                    {
                        diags.push(
                                Diagnostic::error("spec::var-type", format!("variable `{}`: {problem}", k.name))
                                    .with_label(node.span, "overridden here")
                                    .with_help("an override must have the same type as the value the spec declares"),
                            );
                        continue;
                    }
                    vars.insert(k.name.clone(), v);
                }
                Err(e) => diags.extend(e),
            }
        }
        self.extend(diags);
        self.vars.insert(env.name.clone(), vars);
    }

    // ---------------------------------------------------------------- pass 1: instantiate

    fn instantiate(
        &mut self,
        env: &'a EnvDef,
        path: ModPath,
        body: &'a Body,
        outputs: &'a [(Key, Node)],
        inputs: Option<BTreeMap<String, Value>>,
        depth: usize,
    ) {
        // Register the module first so `input.x` resolves while its own for_each are evaluated.
        self.modules.insert(
            (env.name.clone(), path.clone()),
            ModInstance {
                inputs,
                outputs: BTreeMap::new(),
            },
        );

        for block in &body.resources {
            self.register_block(env, &path, block);
        }

        for call in self.order_calls(&body.modules) {
            self.instantiate_call(env, &path, call, depth);
        }

        let mut outs = BTreeMap::new();
        let mut diags = Vec::new();
        {
            let scope = EvalScope::new(self, env, &path, None, Phase::Instantiate);
            for (k, node) in outputs {
                match self.eval_node(node, &scope) {
                    Ok(v) => {
                        outs.insert(k.name.clone(), v);
                    }
                    Err(e) => diags.extend(e),
                }
            }
        }
        // Environment outputs are evaluated in pass 2 (they are for people, not for modules).
        if !path.is_empty() {
            // Resource references stay unresolved until pass 2, and are resolved only where an
            // output is read: an output nobody reads would never have its references checked.
            // Every resource of this module is registered by now, so check them here.
            for (_, node) in outputs {
                self.for_each_traversal(node, &mut |tr| {
                    let (Some(kind), Some(expr::Step::Attr { name, span })) =
                        (Kind::from_name(&tr.root), tr.steps.first())
                    else {
                        return;
                    };
                    let key = BlockKey {
                        env: env.name.clone(),
                        module: path.clone(),
                        kind,
                        name: name.clone(),
                    };
                    if !self.blocks.contains_key(&key) {
                        let whole = Span::new(tr.root_span.file, tr.root_span.start as usize, span.end as usize);
                        diags.push(
                            Diagnostic::error(
                                "spec::unknown-ref",
                                format!(
                                    "output refers to undeclared resource `{kind}.{name}` in module.{}",
                                    path.join(".module.")
                                ),
                            )
                            .with_label(whole, "no such resource")
                            .with_help("declare the resource in this module, or fix the output"),
                        );
                    }
                });
            }
            self.extend(diags);
        }
        if let Some(m) = self.modules.get_mut(&(env.name.clone(), path)) {
            m.outputs = outs;
        }
    }

    fn register_block(&mut self, env: &'a EnvDef, path: &ModPath, block: &'a ResourceBlock) {
        let key = BlockKey {
            env: env.name.clone(),
            module: path.clone(),
            kind: block.kind,
            name: block.name.clone(),
        };
        if let Some(prev) = self.blocks.get(&key) {
            let diag = Diagnostic::error("spec::duplicate", format!("resource `{}.{}` is declared twice", block.kind, block.name))
                .with_label(block.key_span, "declared again here")
                .with_label(prev.block.key_span, "first declared here")
                .with_help("addresses must be unique within an environment (across all its files) and within a module");
            self.push(diag);
            return;
        }
        let env_global = env.placement == Placement::Global;
        let kind_placement = block.kind.placement();
        let allowed = if env_global {
            kind_placement.in_global_env()
        } else {
            kind_placement.in_regional_env()
        };
        if !allowed {
            let diag = if kind_placement == KindPlacement::Global {
                Diagnostic::error(
                    "spec::placement",
                    format!(
                        "{} is a global resource and belongs in the `global` environment",
                        block.kind
                    ),
                )
                .with_label(
                    block.key_span,
                    format!("declared in regional environment `{}`", env.name),
                )
                .with_help(
                    "move it to envs/global/ and reference it as `env.global.<kind>.<name>.<attr>`",
                )
            } else {
                Diagnostic::error("spec::placement", format!("{} is a regional resource and cannot be declared in the global environment", block.kind))
                    .with_label(block.key_span, "declared in `global`")
                    .with_help("declare it in a region's environment, e.g. envs/us-east-1/")
            };
            self.push(diag);
        }

        let (has_for_each, instances) = match &block.for_each {
            None => (false, vec![(None, None)]),
            Some(node) => {
                let result = {
                    let scope = EvalScope::new(self, env, path, None, Phase::Instantiate);
                    self.eval_node(node, &scope)
                };
                match result {
                    Err(e) => {
                        self.extend(e);
                        (true, Vec::new())
                    }
                    Ok(v) => match for_each_instances(v, node.span) {
                        Ok(list) => (
                            true,
                            list.into_iter()
                                .map(|e| (Some(e.key.clone()), Some(e)))
                                .collect(),
                        ),
                        Err(diag) => {
                            self.push(diag);
                            (true, Vec::new())
                        }
                    },
                }
            }
        };
        self.blocks.insert(
            key,
            BlockInfo {
                block,
                has_for_each,
                instances,
            },
        );
    }

    /// Module calls in an order where a call whose inputs read `module.other.x` follows `other`.
    fn order_calls(&mut self, calls: &'a [ModuleCall]) -> Vec<&'a ModuleCall> {
        let names: BTreeSet<&str> = calls.iter().map(|c| c.name.as_str()).collect();
        let mut needs: Vec<(usize, BTreeSet<String>)> = Vec::new();
        for (i, call) in calls.iter().enumerate() {
            let mut set = BTreeSet::new();
            for (_, node) in &call.inputs {
                self.for_each_traversal(node, &mut |tr| {
                    if let (true, Some(expr::Step::Attr { name, .. })) =
                        (tr.root == "module", tr.steps.first())
                    {
                        set.insert(name.clone());
                    }
                });
            }
            set.retain(|n| names.contains(n.as_str()) && *n != call.name);
            needs.push((i, set));
        }
        let mut order = Vec::new();
        let mut done: BTreeSet<String> = BTreeSet::new();
        while order.len() < calls.len() {
            let ready: Vec<usize> = needs
                .iter()
                .filter(|(i, n)| {
                    !done.contains(&calls[*i].name) && n.iter().all(|x| done.contains(x))
                })
                .map(|(i, _)| *i)
                .collect();
            if ready.is_empty() {
                let stuck: Vec<&ModuleCall> =
                    calls.iter().filter(|c| !done.contains(&c.name)).collect();
                let mut diag = Diagnostic::error(
                    "spec::cycle",
                    format!(
                        "module calls depend on each other's outputs in a cycle: {}",
                        stuck
                            .iter()
                            .map(|c| format!("module.{}", c.name))
                            .collect::<Vec<_>>()
                            .join(" → ")
                    ),
                );
                for c in &stuck {
                    diag =
                        diag.with_label(c.name_span, format!("module.{} is on the cycle", c.name));
                }
                self.push(diag.with_help(
                    "break the cycle by passing the value through a resource or a variable",
                ));
                break;
            }
            for i in ready {
                done.insert(calls[i].name.clone());
                order.push(&calls[i]);
            }
        }
        order
    }

    fn instantiate_call(
        &mut self,
        env: &'a EnvDef,
        path: &ModPath,
        call: &'a ModuleCall,
        depth: usize,
    ) {
        let Some(def) = self.loaded.modules.get(&normalize(&call.dir)) else {
            return; // the loader reported the missing directory
        };
        let dir = normalize(&call.dir);
        if let Some(pos) = self.module_stack.iter().position(|d| *d == dir) {
            let chain: Vec<String> = self.module_stack[pos..]
                .iter()
                .chain([&dir])
                .map(|d| d.display().to_string())
                .collect();
            let diag = Diagnostic::error(
                "spec::module-recursion",
                format!("module `{}` calls itself: {}", call.name, chain.join(" → ")),
            )
            .with_label(call.source_span, "this source is already being expanded")
            .with_help("a module cannot contain itself, directly or through other modules");
            self.push(diag);
            return;
        }
        if depth >= MAX_MODULE_DEPTH {
            let diag = Diagnostic::error(
                "spec::module-depth",
                format!("modules are nested more than {MAX_MODULE_DEPTH} deep"),
            )
            .with_label(call.name_span, "this call")
            .with_help("a module probably calls itself, directly or through another module");
            self.push(diag);
            return;
        }
        let mut values = BTreeMap::new();
        let mut diags = Vec::new();
        let mut failed: Vec<&str> = Vec::new();
        {
            let scope = EvalScope::new(self, env, path, None, Phase::Instantiate);
            for (k, node) in &call.inputs {
                let Some(decl) = def.inputs.iter().find(|i| i.name == k.name) else {
                    if def.incomplete {
                        // The module's own error is the cause; its inputs are not known.
                        continue;
                    }
                    let names: Vec<&str> = def.inputs.iter().map(|i| i.name.as_str()).collect();
                    let mut diag = Diagnostic::error(
                        "spec::unknown-input",
                        format!(
                            "module `{}` ({}) has no input `{}`",
                            call.name, call.source, k.name
                        ),
                    )
                    .with_label(k.span, "unknown input");
                    diag = match did_you_mean(&k.name, names.iter().copied()) {
                        Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                        None => diag.with_help(format!("its inputs are: {}", names.join(", "))),
                    };
                    diags.push(diag);
                    continue;
                };
                match self.eval_node(node, &scope) {
                    Ok(v) => match convert_input(&decl.ty, v, node.span, &k.name) {
                        Ok(v) => {
                            values.insert(k.name.clone(), v);
                        }
                        Err(diag) => {
                            diags.push(diag);
                            failed.push(k.name.as_str());
                        }
                    },
                    Err(e) => {
                        diags.extend(e);
                        failed.push(k.name.as_str());
                    }
                }
            }
            let constant = EvalScope::constant(self);
            let mut missing = Vec::new();
            for decl in &def.inputs {
                if values.contains_key(&decl.name) {
                    continue;
                }
                if failed.contains(&decl.name.as_str()) {
                    // Written but its expression failed (reported above): not missing too, and
                    // the placeholder keeps the module's uses of it quiet.
                    values.insert(
                        decl.name.clone(),
                        Value::unknown(Deferred::Op {
                            op: MISSING_INPUT.to_string(),
                            args: Vec::new(),
                        }),
                    );
                    continue;
                }
                match &decl.default {
                    Some(node) => match self.eval_node(node, &constant) {
                        Ok(v) => {
                            values.insert(decl.name.clone(), v);
                        }
                        Err(e) => diags.extend(e),
                    },
                    None => {
                        missing.push(decl.name.as_str());
                        // Reported once at the call; an unknown placeholder keeps the module's
                        // own uses of the input from reporting it again.
                        values.insert(
                            decl.name.clone(),
                            Value::unknown(Deferred::Op {
                                op: "missing input".to_string(),
                                args: Vec::new(),
                            }),
                        );
                    }
                }
            }
            if !missing.is_empty() && !def.incomplete {
                diags.push(
                    Diagnostic::error(
                        "spec::missing-input",
                        format!(
                            "module `{}` is missing required input{} {}",
                            call.name,
                            if missing.len() > 1 { "s" } else { "" },
                            missing
                                .iter()
                                .map(|m| format!("`{m}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                    .with_label(call.name_span, "this module call")
                    .with_help(format!(
                        "set them under `inputs:` (declared in {})",
                        call.source
                    )),
                );
            }
        }
        self.extend(diags);
        let mut child = path.clone();
        child.push(call.name.clone());
        self.module_stack.push(dir);
        self.instantiate(env, child, &def.body, &def.outputs, Some(values), depth + 1);
        self.module_stack.pop();
    }

    // ---------------------------------------------------------------- pass 2: evaluate

    fn evaluate_env(&mut self, env: &'a EnvDef, out: &mut BTreeMap<InstanceAddr, Resource>) {
        let keys: Vec<BlockKey> = self
            .blocks
            .keys()
            .filter(|k| k.env == env.name)
            .cloned()
            .collect();
        for key in keys {
            let info = &self.blocks[&key];
            let block = info.block;
            let instances = info.instances.clone();
            let schema = schema::schema(block.kind);
            for (ikey, each) in instances {
                let addr = InstanceAddr {
                    env: env.name.clone(),
                    block: BlockAddr {
                        module: key.module.clone(),
                        kind: block.kind,
                        name: block.name.clone(),
                    },
                    key: ikey,
                };
                let mut diags = Diagnostics::new();
                let mut attrs = Vec::new();
                let mut attr_spans = BTreeMap::new();
                {
                    let scope =
                        EvalScope::new(self, env, &key.module, each.as_ref(), Phase::Evaluate);
                    for (k, node) in &block.attrs {
                        attr_spans.insert(k.name.clone(), node.span);
                        match self.eval_node(node, &scope) {
                            Ok(v) => attrs.push((k, node, v)),
                            Err(e) => diags.extend(e),
                        }
                    }
                }
                let written: Vec<&str> = block.attrs.iter().map(|(k, _)| k.name.as_str()).collect();
                let mut checked = check::check_resource(
                    self.sources,
                    schema,
                    block.key_span,
                    attrs,
                    &written,
                    &mut diags,
                );
                if schema.taggable {
                    merge_default_tags(&mut checked, &self.loaded.project.default_tags);
                }
                let mut deps = BTreeSet::new();
                for v in checked.values() {
                    for r in v.references() {
                        if let RefTarget::Resolved { addr } = &r.target {
                            deps.insert(addr.clone());
                        }
                    }
                }
                let explicit = self.resolve_depends_on(env, &key.module, block, &mut diags);
                deps.extend(explicit.iter().cloned());
                let ignore_changes: Vec<String> = block
                    .ignore_changes
                    .iter()
                    .filter_map(|(name, span)| {
                        let top = name.split('.').next().unwrap_or(name);
                        if schema.field(top).is_some()
                            && let Some(bad) = nested_path_problem(schema, name)
                        {
                            diags.push(
                                Diagnostic::error(
                                    "spec::unknown-field",
                                    format!("ignore_changes names `{name}`: {bad}"),
                                )
                                .with_label(*span, "no such attribute path"),
                            );
                            return None;
                        }
                        if schema.field(top).is_none() {
                            let mut diag = Diagnostic::error(
                                "spec::unknown-field",
                                format!(
                                    "ignore_changes names `{name}`, which {} does not have",
                                    block.kind
                                ),
                            )
                            .with_label(*span, "unknown attribute");
                            if let Some(s) = did_you_mean(top, schema.fields.iter().map(|f| f.name))
                            {
                                diag = diag.with_help(format!("did you mean `{s}`?"));
                            }
                            diags.push(diag);
                            None
                        } else {
                            Some(name.clone())
                        }
                    })
                    .collect();
                self.extend(diags);
                let region = match &env.placement {
                    Placement::Region(r) => Some(r.clone()),
                    Placement::Global => None,
                };
                out.insert(
                    addr.clone(),
                    Resource {
                        addr,
                        kind: block.kind,
                        region,
                        attrs: checked,
                        deps,
                        explicit_deps: explicit,
                        protect: block.protect,
                        ignore_changes,
                        span: block.key_span,
                        attr_spans,
                    },
                );
            }
        }
    }

    fn eval_outputs(&mut self, env: &'a EnvDef) -> BTreeMap<String, Value> {
        let mut outs = BTreeMap::new();
        let mut diags = Vec::new();
        {
            let scope = EvalScope::new(self, env, &[], None, Phase::Evaluate);
            for (k, node) in &env.outputs {
                match self.eval_node(node, &scope) {
                    Ok(v) => {
                        outs.insert(k.name.clone(), v);
                    }
                    Err(e) => diags.extend(e),
                }
            }
        }
        self.extend(diags);
        outs
    }

    /// `depends_on: ["vpc.main", "module.net", "module.net.subnet.private"]`, relative to the
    /// module the resource is in.
    fn resolve_depends_on(
        &self,
        env: &EnvDef,
        path: &[String],
        block: &ResourceBlock,
        d: &mut Diagnostics,
    ) -> BTreeSet<InstanceAddr> {
        let mut out = BTreeSet::new();
        for (text, span) in &block.depends_on {
            let parts: Vec<&str> = text.split('.').collect();
            let mut module: ModPath = path.to_vec();
            let mut i = 0;
            while i + 1 < parts.len() && parts[i] == "module" {
                module.push(parts[i + 1].to_string());
                i += 2;
            }
            let rest = &parts[i..];
            let matched: Vec<InstanceAddr> = match rest {
                // A whole module: every resource inside it, at any depth.
                [] => self
                    .blocks
                    .iter()
                    .filter(|(k, _)| {
                        k.env == env.name
                            && k.module.starts_with(&module)
                            && module.len() > path.len()
                    })
                    .flat_map(|(k, info)| instance_addrs(k, info))
                    .collect(),
                [kind, name] => match Kind::from_name(kind) {
                    Some(kind) => {
                        let key = BlockKey {
                            env: env.name.clone(),
                            module: module.clone(),
                            kind,
                            name: (*name).to_string(),
                        };
                        self.blocks
                            .get(&key)
                            .map(|info| instance_addrs(&key, info))
                            .unwrap_or_default()
                    }
                    None => Vec::new(),
                },
                _ => Vec::new(),
            };
            if matched.is_empty() {
                let candidates: Vec<String> = self
                    .blocks
                    .keys()
                    .filter(|k| k.env == env.name && k.module == path)
                    .map(|k| format!("{}.{}", k.kind, k.name))
                    .collect();
                let mut diag = Diagnostic::error(
                    "spec::unknown-ref",
                    format!("depends_on names `{text}`, which does not exist"),
                )
                .with_label(*span, "nothing has this address");
                if let Some(s) = did_you_mean(text, candidates.iter().map(String::as_str)) {
                    diag = diag.with_help(format!("did you mean `{s}`?"));
                } else {
                    diag = diag.with_help(
                        "write `kind.name`, `module.<call>` or `module.<call>.kind.name`",
                    );
                }
                d.push(diag);
            }
            out.extend(matched);
        }
        out
    }

    // ---------------------------------------------------------------- references

    /// Resolves a resource reference against the registry. Splat (`[*]`) gives a list.
    fn resolve_ref(
        &self,
        key: &BlockKey,
        selector: &Selector,
        attr: &str,
        span: Span,
    ) -> Result<Value, Diagnostic> {
        let (env, module, kind, name) = (
            key.env.as_str(),
            key.module.as_slice(),
            key.kind,
            key.name.as_str(),
        );
        let Some(info) = self.blocks.get(key) else {
            let here = if module.is_empty() {
                format!("environment `{env}`")
            } else {
                format!("module.{}", module.join(".module."))
            };
            let candidates: Vec<String> = self
                .blocks
                .keys()
                .filter(|k| k.env == env && k.module == module)
                .map(|k| format!("{}.{}", k.kind, k.name))
                .collect();
            let wanted = format!("{kind}.{name}");
            let mut diag = Diagnostic::error(
                "spec::unknown-ref",
                format!("reference to undeclared resource `{wanted}` in {here}"),
            )
            .with_label(span, "no such resource");
            if let Some(s) = did_you_mean(&wanted, candidates.iter().map(String::as_str)) {
                diag = diag.with_help(format!("did you mean `{s}`?"));
            } else if !self.loaded.envs.contains_key(env) {
                diag = diag.with_help(format!("there is no environment `{env}`"));
            } else if !self.loaded.selected.contains(env)
                && self.blocks.keys().all(|k| k.env != env)
            {
                diag = diag.with_help(format!(
                    "environment `{env}` could not be loaded; run `regionctl validate envs/{env}`"
                ));
            }
            return Err(diag);
        };
        let schema = schema::schema(kind);
        if !schema.has_attr(attr) {
            let mut diag = Diagnostic::error(
                "spec::unknown-attr",
                format!("{kind} has no attribute `{attr}`"),
            )
            .with_label(span, "unknown attribute");
            diag = match did_you_mean(attr, schema.attr_names()) {
                Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                None => diag.with_help(format!(
                    "{kind} attributes: {}",
                    schema.attr_names().collect::<Vec<_>>().join(", ")
                )),
            };
            return Err(diag);
        }
        let make = |key: Option<InstanceKey>| {
            Value::unknown(Deferred::Ref(Reference {
                target: RefTarget::Resolved {
                    addr: InstanceAddr {
                        env: env.to_string(),
                        block: BlockAddr {
                            module: module.to_vec(),
                            kind,
                            name: name.to_string(),
                        },
                        key,
                    },
                },
                attr: attr.to_string(),
                span,
            }))
        };
        match selector {
            Selector::Single if info.has_for_each => Err(Diagnostic::error("spec::ref-instance", format!("`{kind}.{name}` has for_each, so it has several instances"))
                .with_label(span, "which instance?")
                .with_help(format!("select one with `{kind}.{name}[\"<key>\"].{attr}` or all with `{kind}.{name}[*].{attr}`"))),
            Selector::Single => Ok(make(None)),
            Selector::Key(k) if !info.has_for_each => Err(Diagnostic::error("spec::ref-instance", format!("`{kind}.{name}` has no for_each and cannot be indexed with {k}"))
                .with_label(span, "not a for_each resource")
                .with_help(format!("write `{kind}.{name}.{attr}`"))),
            Selector::Key(k) => {
                let found = info.instances.iter().find(|(ik, _)| match (ik, k) {
                    (Some(a), b) if a == b => true,
                    // `[0]` also selects the first key of a list of strings, as people expect.
                    (Some(InstanceKey::Str(_)), InstanceKey::Index(i)) => info.instances.get(*i).map(|x| &x.0) == Some(ik),
                    _ => false,
                });
                match found {
                    Some((ik, _)) => Ok(make(ik.clone())),
                    None => {
                        let keys: Vec<String> = info.instances.iter().filter_map(|(k, _)| k.as_ref().map(|k| k.to_string())).collect();
                        Err(Diagnostic::error("spec::ref-instance", format!("`{kind}.{name}` has no instance {k}"))
                            .with_label(span, "no such instance")
                            .with_help(format!("its instances are {}", if keys.is_empty() { "none".to_string() } else { keys.join(", ") })))
                    }
                }
            }
            Selector::All if !info.has_for_each => Ok(Value::List(vec![make(None)])),
            Selector::All => Ok(Value::List(info.instances.iter().map(|(k, _)| make(k.clone())).collect())),
        }
    }

    /// Links the unresolved references left in values computed during pass 1.
    fn link(&self, value: Value) -> Value {
        if !value.has_unknown() {
            return value;
        }
        value.map_refs(&mut |r: Reference| match &r.target {
            RefTarget::Resolved { .. } => Value::unknown(Deferred::Ref(r)),
            RefTarget::Unresolved {
                env,
                module,
                kind,
                name,
                selector,
            } => match self.resolve_ref(
                &BlockKey {
                    env: env.clone(),
                    module: module.clone(),
                    kind: *kind,
                    name: name.clone(),
                },
                selector,
                &r.attr,
                r.span,
            ) {
                Ok(v) => v,
                Err(diag) => {
                    if self.current_selected {
                        self.scope_diags.borrow_mut().push(diag);
                    }
                    Value::unknown(Deferred::Ref(r))
                }
            },
        })
    }
}

fn instance_addrs(key: &BlockKey, info: &BlockInfo) -> Vec<InstanceAddr> {
    info.instances
        .iter()
        .map(|(k, _)| InstanceAddr {
            env: key.env.clone(),
            block: BlockAddr {
                module: key.module.clone(),
                kind: key.kind,
                name: key.name.clone(),
            },
            key: k.clone(),
        })
        .collect()
}

fn merge_default_tags(attrs: &mut BTreeMap<String, Value>, defaults: &BTreeMap<String, String>) {
    if defaults.is_empty() {
        return;
    }
    let entry = attrs
        .entry("tags".to_string())
        .or_insert_with(|| Value::Map(BTreeMap::new()));
    if let Value::Map(m) = entry {
        for (k, v) in defaults {
            m.entry(k.clone()).or_insert_with(|| Value::Str(v.clone()));
        }
    }
}

/// Where a string node's text sits in the file. Plain and simply-quoted scalars map byte for
/// byte; anything with escapes or folding falls back to the whole node.
fn text_origin(sources: &SourceMap, node: &Node, text: &str) -> TextOrigin {
    let raw = sources.snippet(node.span);
    let start = node.span.start as usize;
    let (start, exact) = if raw == text {
        (start, true)
    } else if raw.len() == text.len() + 2 && raw.get(1..raw.len() - 1) == Some(text) {
        (start + 1, true)
    } else {
        (start, false)
    };
    // Only templates need the map, and only for block scalars and the like.
    let map = if exact || !text.contains("${") {
        None
    } else {
        expr::char_map(text, raw, node.span.start as usize)
    };
    TextOrigin {
        file: node.span.file,
        start,
        exact,
        fallback: node.span,
        map,
    }
}

/// Why a dotted `ignore_changes` path (`scaling.desired`) does not name a nested field, if it
/// does not. Only objects have named fields; a map (tags, labels) takes any key.
fn nested_path_problem(schema: &schema::KindSchema, path: &str) -> Option<String> {
    let mut parts = path.split('.');
    let top = parts.next()?;
    let mut ty = &schema.field(top)?.ty;
    let mut walked = top.to_string();
    for part in parts {
        while let schema::Ty::List(inner) = ty {
            ty = inner;
        }
        match ty {
            schema::Ty::Object(fields) => match fields.iter().find(|f| f.name == part) {
                Some(f) => ty = &f.ty,
                None => {
                    let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                    return Some(format!(
                        "`{walked}` has no field `{part}` (it has {})",
                        names.join(", ")
                    ));
                }
            },
            schema::Ty::Map(_) | schema::Ty::Document => return None,
            _ => return Some(format!("`{walked}` is not a block with fields")),
        }
        walked.push('.');
        walked.push_str(part);
    }
    None
}

/// Why an override does not fit the declared value's type, if it does not.
fn override_mismatch(declared: &Value, given: &Value) -> Option<String> {
    use crate::spec::cidr::Ipv4Cidr;
    let same_type = std::mem::discriminant(declared) == std::mem::discriminant(given)
        || matches!((declared, given), (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)))
        // A string variable may be given a number or bool on the command line (`--var n=3`).
        || matches!((declared, given), (Value::Str(_), Value::Int(_) | Value::Bool(_)));
    if !same_type {
        return Some(format!(
            "declared as a {}, overridden with a {}",
            declared.type_name(),
            given.type_name()
        ));
    }
    if let (Value::Str(d), Value::Str(g)) = (declared, given)
        && Ipv4Cidr::parse(d).is_ok()
        && let Err(e) = Ipv4Cidr::parse(g)
    {
        return Some(format!(
            "declared as a CIDR block, overridden with {g:?}: {e}"
        ));
    }
    None
}

fn for_each_instances(value: Value, span: Span) -> Result<Vec<Each>, Diagnostic> {
    if value.has_unknown() {
        return Err(Diagnostic::error("spec::for-each-unknown", "for_each depends on values not known until apply")
            .with_label(span, "depends on a resource attribute")
            .with_help("for_each must be computable from variables, inputs and literals, so the plan can list every instance"));
    }
    let out: Vec<Each> = match value {
        Value::List(items) => {
            let mut seen = BTreeSet::new();
            let mut out = Vec::new();
            for (i, v) in items.into_iter().enumerate() {
                let key = match &v {
                    Value::Str(s) => InstanceKey::Str(s.clone()),
                    _ => InstanceKey::Index(i),
                };
                if !seen.insert(key.clone()) {
                    return Err(Diagnostic::error(
                        "spec::for-each-duplicate",
                        format!("for_each lists {key} twice"),
                    )
                    .with_label(span, "duplicate key")
                    .with_help("each instance needs a distinct key; use distinct() or a map"));
                }
                out.push(Each {
                    key,
                    value: v,
                    index: i,
                });
            }
            out
        }
        Value::Map(m) => m
            .into_iter()
            .enumerate()
            .map(|(i, (k, v))| Each {
                key: InstanceKey::Str(k),
                value: v,
                index: i,
            })
            .collect(),
        other => {
            return Err(Diagnostic::error(
                "spec::for-each-type",
                format!(
                    "for_each needs a list or a map, found {}",
                    other.type_name()
                ),
            )
            .with_label(span, "not a collection")
            .with_help("for example `for_each: ${var.azs}` or `for_each: { a: 1, b: 2 }`"));
        }
    };
    if out.len() > MAX_INSTANCES {
        return Err(Diagnostic::error(
            "spec::for-each-size",
            format!(
                "for_each makes {} instances; the limit is {MAX_INSTANCES}",
                out.len()
            ),
        )
        .with_label(span, "too many"));
    }
    Ok(out)
}

/// Converts a module input to its declared type the way Terraform does (`5` for a string input
/// becomes `"5"`, `"5"` for a number input becomes `5`), or says why it cannot.
fn convert_input(ty: &InputType, v: Value, span: Span, name: &str) -> Result<Value, Diagnostic> {
    fn conv(ty: &InputType, v: Value) -> Result<Value, String> {
        if matches!(v, Value::Unknown(_)) || matches!(ty, InputType::Any) {
            return Ok(v);
        }
        match (ty, v) {
            (InputType::String, v @ Value::Str(_)) => Ok(v),
            (InputType::String, Value::Int(i)) => Ok(Value::Str(i.to_string())),
            (InputType::String, Value::Float(f)) => Ok(Value::Str(f.to_string())),
            (InputType::String, Value::Bool(b)) => Ok(Value::Str(b.to_string())),
            (InputType::Number, v @ (Value::Int(_) | Value::Float(_))) => Ok(v),
            (InputType::Number, Value::Str(s)) => {
                match (s.trim().parse::<i64>(), s.trim().parse::<f64>()) {
                    (Ok(i), _) => Ok(Value::Int(i)),
                    (_, Ok(f)) if f.is_finite() => Ok(Value::Float(f)),
                    _ => Err(format!("expected number, found string {s:?}")),
                }
            }
            (InputType::Bool, v @ Value::Bool(_)) => Ok(v),
            (InputType::Bool, Value::Str(s)) if s == "true" || s == "false" => {
                Ok(Value::Bool(s == "true"))
            }
            (InputType::Cidr, Value::Str(s)) => match crate::spec::cidr::Ipv4Cidr::parse(&s) {
                Ok(_) => Ok(Value::Str(s)),
                Err(e) => Err(format!("invalid CIDR {s:?}: {e}")),
            },
            (InputType::List(t), Value::List(items)) => items
                .into_iter()
                .map(|i| conv(t, i))
                .collect::<Result<_, _>>()
                .map(Value::List),
            (InputType::Map(t), Value::Map(m)) => m
                .into_iter()
                .map(|(k, i)| conv(t, i).map(|c| (k, c)))
                .collect::<Result<_, _>>()
                .map(Value::Map),
            (ty, v) => Err(format!("expected {ty}, found {}", v.type_name())),
        }
    }
    conv(ty, v).map_err(|e| {
        Diagnostic::error("spec::input-type", format!("input `{name}`: {e}"))
            .with_label(span, format!("must be {ty}"))
    })
}

/// The evaluator's view of names: `var`, `input`, `each`, `module`, `env` and resource kinds.
struct EvalScope<'s, 'a> {
    ex: &'s Expander<'a>,
    env: Option<&'a EnvDef>,
    path: &'s [String],
    each: Option<&'s Each>,
    phase: Phase,
}

impl<'s, 'a> EvalScope<'s, 'a> {
    fn new(
        ex: &'s Expander<'a>,
        env: &'a EnvDef,
        path: &'s [String],
        each: Option<&'s Each>,
        phase: Phase,
    ) -> Self {
        EvalScope {
            ex,
            env: Some(env),
            path,
            each,
            phase,
        }
    }

    /// A scope for variable values and input defaults: literals and functions only.
    fn constant(ex: &'s Expander<'a>) -> Self {
        EvalScope {
            ex,
            env: None,
            path: &[],
            each: None,
            phase: Phase::Instantiate,
        }
    }

    fn finish(&self, v: Value) -> Value {
        if self.phase == Phase::Evaluate {
            self.ex.link(v)
        } else {
            v
        }
    }

    fn resource(
        &self,
        env: &str,
        module: &[String],
        kind: Kind,
        steps: &[EvalStep],
        root_span: Span,
    ) -> Result<Value, Diagnostic> {
        let mut i = 0;
        let (name, mut span) = match steps.first() {
            Some(EvalStep::Attr { name, span }) => (name.clone(), root_span.to(*span)),
            _ => {
                return Err(Diagnostic::error(
                    "spec::ref-syntax",
                    format!("`{kind}` must be followed by a resource name"),
                )
                .with_label(root_span, "incomplete reference")
                .with_help(format!("write `{kind}.<name>.<attribute>`")));
            }
        };
        i += 1;
        let selector = match steps.get(i) {
            Some(EvalStep::Index { key, span: s }) => {
                i += 1;
                span = span.to(*s);
                match key {
                    Value::Str(k) => Selector::Key(InstanceKey::Str(k.clone())),
                    Value::Int(n) if *n >= 0 => Selector::Key(InstanceKey::Index(
                        usize::try_from(*n).unwrap_or(usize::MAX),
                    )),
                    other => {
                        return Err(Diagnostic::error(
                            "spec::ref-instance",
                            format!(
                                "an instance key must be a known string or index, found {}",
                                other.type_name()
                            ),
                        )
                        .with_label(*s, "instance key"));
                    }
                }
            }
            Some(EvalStep::Splat { span: s }) => {
                i += 1;
                span = span.to(*s);
                Selector::All
            }
            _ => Selector::Single,
        };
        let attr = match steps.get(i) {
            Some(EvalStep::Attr { name, span: s }) => {
                span = span.to(*s);
                i += 1;
                name.clone()
            }
            _ => {
                return Err(Diagnostic::error(
                    "spec::ref-syntax",
                    format!("reference to `{kind}.{name}` names no attribute"),
                )
                .with_label(span, "which attribute?")
                .with_help(format!(
                    "for example `{kind}.{name}.{}`",
                    schema::schema(kind)
                        .computed
                        .first()
                        .map_or("id", |c| c.name)
                )));
            }
        };
        let value = match self.phase {
            Phase::Evaluate => self.ex.resolve_ref(
                &BlockKey {
                    env: env.to_string(),
                    module: module.to_vec(),
                    kind,
                    name,
                },
                &selector,
                &attr,
                span,
            )?,
            Phase::Instantiate => Value::unknown(Deferred::Ref(Reference {
                target: RefTarget::Unresolved {
                    env: env.to_string(),
                    module: module.to_vec(),
                    kind,
                    name,
                    selector,
                },
                attr,
                span,
            })),
        };
        expr::apply_steps(value, &steps[i..])
    }

    fn module_output(
        &self,
        env: &str,
        path: &[String],
        steps: &[EvalStep],
        root_span: Span,
    ) -> Result<Value, Diagnostic> {
        let (
            Some(EvalStep::Attr {
                name: call,
                span: cs,
            }),
            Some(EvalStep::Attr {
                name: output,
                span: os,
            }),
        ) = (steps.first(), steps.get(1))
        else {
            return Err(Diagnostic::error(
                "spec::ref-syntax",
                "a module reference needs the call and the output name",
            )
            .with_label(root_span, "incomplete reference")
            .with_help("write `module.<call>.<output>`"));
        };
        let mut child = path.to_vec();
        child.push(call.clone());
        let Some(inst) = self.ex.modules.get(&(env.to_string(), child)) else {
            let calls: Vec<String> = self
                .ex
                .modules
                .keys()
                .filter(|(e, p)| e == env && p.len() == path.len() + 1 && p.starts_with(path))
                .filter_map(|(_, p)| p.last().cloned())
                .collect();
            let mut diag =
                Diagnostic::error("spec::unknown-ref", format!("no module call `{call}` here"))
                    .with_label(*cs, "unknown module call");
            if let Some(s) = did_you_mean(call, calls.iter().map(String::as_str)) {
                diag = diag.with_help(format!("did you mean `{s}`?"));
            }
            return Err(diag);
        };
        let Some(v) = inst.outputs.get(output) else {
            let mut diag = Diagnostic::error(
                "spec::unknown-ref",
                format!("module `{call}` has no output `{output}`"),
            )
            .with_label(*os, "unknown output");
            diag = match did_you_mean(output, inst.outputs.keys().map(String::as_str)) {
                Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                None => diag.with_help(format!(
                    "its outputs are: {}",
                    inst.outputs.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
            };
            return Err(diag);
        };
        expr::apply_steps(self.finish(v.clone()), &steps[2..])
    }
}

impl Scope for EvalScope<'_, '_> {
    fn traverse(
        &self,
        root: &str,
        root_span: Span,
        steps: &[EvalStep],
    ) -> Result<Value, Diagnostic> {
        let first_attr = || match steps.first() {
            Some(EvalStep::Attr { name, span }) => Some((name.as_str(), *span)),
            _ => None,
        };
        let Some(env) = self.env else {
            return Err(Diagnostic::error(
                "spec::constant",
                format!("`{root}` cannot be used here"),
            )
            .with_label(root_span, "not available here")
            .with_help(
                "variable values and input defaults must be constants (literals and functions)",
            ));
        };
        match root {
            "var" => {
                if !self.path.is_empty() {
                    return Err(
                        Diagnostic::error("spec::scope", "modules cannot read `var`")
                            .with_label(root_span, "not available in a module")
                            .with_help(
                                "declare an input in the module and pass the variable to it",
                            ),
                    );
                }
                let Some((name, span)) = first_attr() else {
                    return Err(Diagnostic::error(
                        "spec::ref-syntax",
                        "`var` needs a variable name",
                    )
                    .with_label(root_span, "write `var.<name>`"));
                };
                let vars = &self.ex.vars[&env.name];
                match vars.get(name) {
                    Some(v) => expr::apply_steps(v.clone(), &steps[1..]),
                    None => {
                        let mut diag = Diagnostic::error(
                            "spec::unknown-variable",
                            format!("undeclared variable `{name}`"),
                        )
                        .with_label(span, "not declared");
                        diag = match did_you_mean(name, vars.keys().map(String::as_str)) {
                            Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                            None => diag.with_help(format!(
                                "declare it under `variables:` in envs/{}/ or regionctl.yaml",
                                env.name
                            )),
                        };
                        Err(diag)
                    }
                }
            }
            "input" => {
                let inputs = self
                    .ex
                    .modules
                    .get(&(env.name.clone(), self.path.to_vec()))
                    .and_then(|m| m.inputs.as_ref());
                let Some(inputs) = inputs else {
                    return Err(Diagnostic::error(
                        "spec::scope",
                        "`input` is only available inside a module",
                    )
                    .with_label(root_span, "not in a module")
                    .with_help("in an environment, use `var.<name>`"));
                };
                let Some((name, span)) = first_attr() else {
                    return Err(Diagnostic::error(
                        "spec::ref-syntax",
                        "`input` needs an input name",
                    )
                    .with_label(root_span, "write `input.<name>`"));
                };
                match inputs.get(name) {
                    Some(v) => expr::apply_steps(self.finish(v.clone()), &steps[1..]),
                    None => {
                        let mut diag = Diagnostic::error(
                            "spec::unknown-input",
                            format!("the module declares no input `{name}`"),
                        )
                        .with_label(span, "not declared");
                        if let Some(s) = did_you_mean(name, inputs.keys().map(String::as_str)) {
                            diag = diag.with_help(format!("did you mean `{s}`?"));
                        }
                        Err(diag)
                    }
                }
            }
            "each" => {
                let Some(each) = self.each else {
                    return Err(Diagnostic::error(
                        "spec::scope",
                        "`each` is only available in a resource with for_each",
                    )
                    .with_label(root_span, "no for_each here"));
                };
                match first_attr() {
                    Some(("key", _)) => expr::apply_steps(
                        match &each.key {
                            InstanceKey::Str(s) => Value::Str(s.clone()),
                            InstanceKey::Index(i) => {
                                Value::Int(i64::try_from(*i).unwrap_or(i64::MAX))
                            }
                        },
                        &steps[1..],
                    ),
                    Some(("value", _)) => expr::apply_steps(each.value.clone(), &steps[1..]),
                    Some(("index", _)) => expr::apply_steps(
                        Value::Int(i64::try_from(each.index).unwrap_or(i64::MAX)),
                        &steps[1..],
                    ),
                    Some((other, span)) => Err(Diagnostic::error(
                        "spec::ref-syntax",
                        format!("`each` has no `{other}`"),
                    )
                    .with_label(span, "unknown")
                    .with_help("use each.key, each.value or each.index")),
                    None => Err(Diagnostic::error(
                        "spec::ref-syntax",
                        "`each` needs `.key`, `.value` or `.index`",
                    )
                    .with_label(root_span, "incomplete")),
                }
            }
            "module" => self.module_output(&env.name, self.path, steps, root_span),
            "env" => {
                let Some((other, span)) = first_attr() else {
                    return Err(Diagnostic::error(
                        "spec::ref-syntax",
                        "`env` needs an environment name",
                    )
                    .with_label(root_span, "write `env.<name>.<kind>.<name>.<attr>`"));
                };
                if !self.ex.loaded.envs.contains_key(other) {
                    let mut diag =
                        Diagnostic::error("spec::unknown-env", format!("no environment `{other}`"))
                            .with_label(span, "unknown environment");
                    diag = match did_you_mean(other, self.ex.loaded.envs.keys().map(String::as_str))
                    {
                        Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                        None => diag.with_help(format!(
                            "environments: {}",
                            self.ex
                                .loaded
                                .envs
                                .keys()
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    };
                    return Err(diag);
                }
                match steps.get(1) {
                    Some(EvalStep::Attr { name, .. }) if name == "module" => {
                        self.module_output(other, &[], &steps[2..], span)
                    }
                    Some(EvalStep::Attr { name, span: ks }) => match Kind::from_name(name) {
                        Some(kind) => self.resource(other, &[], kind, &steps[2..], *ks),
                        None => Err(unknown_root(name, *ks)),
                    },
                    _ => Err(Diagnostic::error(
                        "spec::ref-syntax",
                        format!("`env.{other}` must be followed by a resource or `module`"),
                    )
                    .with_label(span, "incomplete reference")),
                }
            }
            other => match Kind::from_name(other) {
                Some(kind) => self.resource(&env.name, self.path, kind, steps, root_span),
                None => Err(unknown_root(other, root_span)),
            },
        }
    }
}

fn unknown_root(name: &str, span: Span) -> Diagnostic {
    let mut roots = vec!["var", "input", "each", "module", "env"];
    roots.extend(Kind::ALL.iter().map(|k| k.name()));
    let mut diag = Diagnostic::error("spec::unknown-ref", format!("unknown name `{name}`"))
        .with_label(span, "not a variable, input or resource kind");
    diag = match did_you_mean(name, roots.iter().copied()) {
        Some(s) => diag.with_help(format!("did you mean `{s}`?")),
        None => diag.with_help(
            "references start with var., input., each., module., env. or a resource kind",
        ),
    };
    diag
}

//! The spec language: YAML files to a validated set of desired resource instances.
//!
//! `loader` is the only part that touches the file system. `expand` evaluates modules,
//! `for_each` and expressions; `rules` adds the checks that need several resources at once
//! (CIDRs inside their VPC, failover pairs, ...). Every stage appends to one list of diagnostics,
//! so a run reports every problem it can find.

pub mod aws_facts;
pub mod cidr;
pub mod cross_rules;
pub mod expand;
pub mod expr;
pub mod fold;
pub mod loader;
pub mod model;
pub mod platform_rules;
pub mod rules;
pub mod schema;
pub mod value;
pub mod yaml;

use std::collections::{BTreeMap, BTreeSet};

use crate::addr::{EnvName, InstanceAddr};
use crate::diag::Diagnostics;
use crate::kind::Kind;
use crate::source::{SourceMap, Span};
use model::ProjectDef;
use value::Value;

/// The desired state of the selected project: every resource instance with evaluated attributes.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The project directory (holding `regionctl.yaml`), as found from the start directory.
    pub root: std::path::PathBuf,
    pub project: ProjectDef,
    /// Every environment of the project; `selected` marks the ones the command works on.
    pub envs: BTreeMap<EnvName, Env>,
    pub resources: BTreeMap<InstanceAddr, Resource>,
}

#[derive(Debug, Clone)]
pub struct Env {
    pub name: EnvName,
    /// `None` for the global environment.
    pub region: Option<String>,
    pub selected: bool,
    pub outputs: BTreeMap<String, Value>,
}

/// One resource instance as the user wants it.
#[derive(Debug, Clone)]
pub struct Resource {
    pub addr: InstanceAddr,
    pub kind: Kind,
    /// The AWS region, or `None` for global resources (IAM, Route 53).
    pub region: Option<String>,
    /// Attributes after evaluation and schema checking; unknown parts are `Value::Unknown`.
    pub attrs: BTreeMap<String, Value>,
    /// Everything this resource must wait for: referenced resources plus `depends_on`.
    pub deps: BTreeSet<InstanceAddr>,
    pub explicit_deps: BTreeSet<InstanceAddr>,
    pub protect: bool,
    pub ignore_changes: Vec<String>,
    /// The `kind.name` key in the spec.
    pub span: Span,
    pub attr_spans: BTreeMap<String, Span>,
}

impl Spec {
    pub fn selected_resources(&self) -> impl Iterator<Item = &Resource> {
        self.resources
            .values()
            .filter(|r| self.envs.get(&r.addr.env).is_some_and(|e| e.selected))
    }
}

/// Loads, expands and checks a project. Returns the spec if loading got far enough to build one,
/// and every diagnostic found; callers treat any error diagnostic as failure.
pub fn load(
    fs: &dyn loader::Fs,
    opts: &loader::LoadOptions,
    sources: &mut SourceMap,
) -> (Option<Spec>, Diagnostics) {
    let mut d = Diagnostics::new();
    let Some(loaded) = loader::load(fs, opts, sources, &mut d) else {
        return (None, d);
    };
    let (mut spec, expand_diags) = expand::expand(&loaded, sources);
    d.extend(expand_diags);
    fold::fold_known(&mut spec, sources, &mut d);
    d.extend(rules::check(&spec));
    (Some(spec), d)
}

#[cfg(test)]
mod tests;

//! Policy checks (`regionctl check`): built-in rules over the expanded spec and, when there is
//! one, the plan, the way checkov or tfsec check Terraform.
//!
//! A rule is plain data (`Rule`: a stable id, a name, a default level, a rationale and a fix)
//! with a function that reports hits on resources. `run` applies the project's `checks:`
//! settings (`config`): a rule may be switched off or re-levelled, and a finding may be
//! suppressed for a resource with a reason, which keeps it in the output as suppressed.
//!
//! Like `spec::rules`, a rule passes silently when the value it needs is known only after apply.
//! Everything here is pure: no I/O, no printing; `render::check` turns a `Report` into text.

pub mod config;
mod locate;
pub mod rules;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use crate::addr::InstanceAddr;
use crate::plan::Plan;
use crate::source::{SourceMap, Span};
use crate::spec::Spec;

pub use config::Config;
pub use rules::RULES;

/// How serious a finding is. The order matters: `--fail-on` fails at a level and above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// What a rule is about; shown in docs and as a SARIF tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Security,
    Resilience,
    Tags,
    Change,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Security => "security",
            Category::Resilience => "resilience",
            Category::Tags => "tags",
            Category::Change => "change",
        }
    }
}

/// What a rule reads: the spec always; a plan only when one is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Spec,
    Plan,
}

/// A built-in rule. The id never changes once released (configurations and SARIF baselines
/// refer to it); the name is a readable alias the configuration also accepts.
#[derive(Debug)]
pub struct Rule {
    /// `RC` and three digits; the first digit is the category (1 security, 2 resilience, 3 tags,
    /// 4 planned changes).
    pub id: &'static str,
    /// kebab-case, describing the problem, e.g. `rds-storage-unencrypted`.
    pub name: &'static str,
    pub level: Level,
    pub category: Category,
    pub scope: Scope,
    /// One line: what the rule flags.
    pub summary: &'static str,
    /// One line: why it matters.
    pub rationale: &'static str,
    /// One line: how to fix it.
    pub fix: &'static str,
    pub(crate) check: fn(&Input, &mut Hits),
}

impl Rule {
    pub fn by_id_or_name(key: &str) -> Option<&'static Rule> {
        RULES.iter().find(|r| r.id == key || r.name == key)
    }
}

/// What the rules look at.
pub struct Input<'a> {
    pub spec: &'a Spec,
    pub plan: Option<&'a Plan>,
    pub config: &'a Config,
}

/// One finding of one rule on one resource instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static Rule,
    /// The level after the project's configuration.
    pub level: Level,
    pub addr: InstanceAddr,
    pub message: String,
    /// The offending attribute (or list element), else the resource's `kind.name` key.
    pub span: Span,
    pub suppressed: Option<Suppression>,
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Rule {}

/// A `checks.skip` entry that matched a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub reason: String,
    /// The skip entry in regionctl.yaml.
    pub span: Span,
}

/// Every rule with its level after configuration (`None`: switched off).
#[derive(Debug, Clone)]
pub struct RuleState {
    pub rule: &'static Rule,
    pub level: Option<Level>,
}

/// The result of a check run.
#[derive(Debug, Clone)]
pub struct Report {
    pub rules: Vec<RuleState>,
    /// Sorted by file position, then rule and address.
    pub findings: Vec<Finding>,
    /// Resources looked at (the selected environments').
    pub resources: usize,
    /// Whether planned changes were checked too.
    pub with_plan: bool,
}

impl Report {
    /// Findings that count (not suppressed).
    pub fn active(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppressed.is_none())
    }

    pub fn count(&self, level: Level) -> usize {
        self.active().filter(|f| f.level == level).count()
    }

    pub fn suppressed(&self) -> usize {
        self.findings.len() - self.active().count()
    }

    /// Whether a finding at `threshold` or above is left (`None`: never fail).
    pub fn fails(&self, threshold: Option<Level>) -> bool {
        threshold.is_some_and(|t| self.active().any(|f| f.level >= t))
    }
}

/// Where a rule says a finding is: a resource, optionally narrowed to an attribute and a path
/// inside it (list indexes, map keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(&'static str),
    Index(usize),
}

#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub addr: InstanceAddr,
    pub message: String,
    pub at: At,
}

#[derive(Debug, Clone)]
pub(crate) enum At {
    /// The resource in the spec: an attribute and a path inside it (empty path: the attribute;
    /// no attribute: the resource key).
    Spec {
        attr: Option<&'static str>,
        path: Vec<Seg>,
    },
    /// A resource the spec no longer has (a planned delete): the environment's files.
    Gone,
}

/// Collects a rule's hits.
#[derive(Debug, Default)]
pub struct Hits {
    items: Vec<Hit>,
}

impl Hits {
    pub(crate) fn resource(&mut self, addr: &InstanceAddr, message: impl Into<String>) {
        self.items.push(Hit {
            addr: addr.clone(),
            message: message.into(),
            at: At::Spec {
                attr: None,
                path: Vec::new(),
            },
        });
    }

    pub(crate) fn attr(
        &mut self,
        addr: &InstanceAddr,
        attr: &'static str,
        path: Vec<Seg>,
        message: impl Into<String>,
    ) {
        self.items.push(Hit {
            addr: addr.clone(),
            message: message.into(),
            at: At::Spec {
                attr: Some(attr),
                path,
            },
        });
    }

    pub(crate) fn gone(&mut self, addr: &InstanceAddr, message: impl Into<String>) {
        self.items.push(Hit {
            addr: addr.clone(),
            message: message.into(),
            at: At::Gone,
        });
    }
}

/// Runs every enabled rule (plan rules only with a plan) and applies the configuration.
pub fn run(spec: &Spec, plan: Option<&Plan>, config: &Config, sources: &SourceMap) -> Report {
    let input = Input { spec, plan, config };
    let locator = locate::Locator::new(sources);
    let mut findings = Vec::new();
    let mut states = Vec::new();
    for rule in RULES {
        let level = config.level_of(rule);
        states.push(RuleState { rule, level });
        let Some(level) = level else { continue };
        if rule.scope == Scope::Plan && plan.is_none() {
            continue;
        }
        let mut hits = Hits::default();
        (rule.check)(&input, &mut hits);
        for hit in hits.items {
            let span = span_of(spec, &hit, &locator, sources);
            let suppressed = config.skip_for(rule, &hit.addr).map(|s| Suppression {
                reason: s.reason.clone(),
                span: s.span,
            });
            findings.push(Finding {
                rule,
                level,
                addr: hit.addr,
                message: hit.message,
                span,
                suppressed,
            });
        }
    }
    findings.sort_by(|a, b| {
        let key = |f: &Finding| {
            let (line, col) = sources.line_col(f.span.file, f.span.start);
            (sources.path(f.span.file).to_path_buf(), line, col)
        };
        (key(a), a.rule.id, &a.addr, &a.message).cmp(&(key(b), b.rule.id, &b.addr, &b.message))
    });
    findings.dedup();
    Report {
        rules: states,
        findings,
        resources: spec.selected_resources().count(),
        with_plan: plan.is_some(),
    }
}

fn span_of(spec: &Spec, hit: &Hit, locator: &locate::Locator, sources: &SourceMap) -> Span {
    match (&hit.at, spec.resources.get(&hit.addr)) {
        (At::Spec { attr, path }, Some(r)) => match attr.and_then(|a| r.attr_spans.get(a)) {
            Some(span) => locator.narrow(*span, path),
            None => r.span,
        },
        _ => env_location(spec, &hit.addr.env, sources),
    }
}

/// The start of the first file of an environment's directory (`envs/<env>/`), else of
/// regionctl.yaml: where a finding about a resource the spec no longer has is shown.
fn env_location(spec: &Spec, env: &str, sources: &SourceMap) -> Span {
    let mut files: BTreeMap<&std::path::Path, crate::source::FileId> = BTreeMap::new();
    for (id, f) in sources.files() {
        let dir = f.path.parent();
        let in_env = dir.and_then(|d| d.file_name()).is_some_and(|n| n == env)
            && dir
                .and_then(|d| d.parent())
                .and_then(|d| d.file_name())
                .is_some_and(|n| n == "envs");
        if in_env {
            files.insert(&f.path, id);
        }
    }
    let file = files.into_values().next().unwrap_or(spec.project.file);
    Span::new(file, 0, 0)
}

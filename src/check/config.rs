//! The `checks:` section of regionctl.yaml:
//!
//! ```yaml
//! checks:
//!   required_tags: [owner, cost-center]
//!   rules:
//!     RC203: off                      # or the name: cache-no-snapshots: off
//!     rds-no-deletion-protection: error
//!   skip:
//!     - rule: RC102
//!       resource: eu-west-1/module.platform.rds_instance.reporting
//!       reason: read-only reporting replica, reached through the VPN only
//! ```
//!
//! Mistakes are diagnostics pointing into regionctl.yaml, like any spec error: an unknown rule
//! (with a "did you mean"), a bad level, a skip without a reason. A skip is a decision someone
//! must be able to review, so its reason is required.

use std::collections::BTreeMap;

use super::{Level, RULES, Rule};
use crate::addr::InstanceAddr;
use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::source::Span;
use crate::spec::model::type_error;
use crate::spec::yaml::{Node, NodeValue};

/// The project's settings for `regionctl check`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Tags every taggable resource must have (after `default_tags` are merged in).
    pub required_tags: Vec<String>,
    /// Levels set by the project, by rule id (`None`: off).
    pub levels: BTreeMap<&'static str, Option<Level>>,
    pub skips: Vec<Skip>,
}

/// A suppression of one rule for the resources a pattern matches.
#[derive(Debug, Clone)]
pub struct Skip {
    pub rule: &'static Rule,
    /// An address or a pattern (`*` matches anything). Without an environment (no `/`) it
    /// matches the address in every environment, as a module instantiated per region needs.
    pub resource: String,
    pub reason: String,
    /// The skip entry.
    pub span: Span,
}

const KEYS: [&str; 3] = ["required_tags", "rules", "skip"];
const SKIP_KEYS: [&str; 3] = ["rule", "resource", "reason"];
const LEVELS: [&str; 4] = ["off", "note", "warning", "error"];

impl Config {
    /// The level a rule reports at in this project (`None`: switched off).
    pub fn level_of(&self, rule: &Rule) -> Option<Level> {
        self.levels
            .get(rule.id)
            .copied()
            .unwrap_or(Some(rule.level))
    }

    /// The first skip entry suppressing `rule` for `addr`.
    pub fn skip_for(&self, rule: &Rule, addr: &InstanceAddr) -> Option<&Skip> {
        self.skips
            .iter()
            .find(|s| s.rule.id == rule.id && s.matches(addr))
    }
}

impl Skip {
    pub fn matches(&self, addr: &InstanceAddr) -> bool {
        let pattern = if self.resource.contains('/') {
            self.resource.clone()
        } else {
            format!("*/{}", self.resource)
        };
        crate::plan::allowed(&[pattern], addr)
    }
}

/// Reads the `checks:` node (absent: every rule at its default level, nothing required).
pub fn parse(node: Option<&Node>, d: &mut Diagnostics) -> Config {
    let mut config = Config::default();
    let Some(node) = node else { return config };
    let entries = match &node.value {
        NodeValue::Map(entries) => entries.as_slice(),
        NodeValue::Null => &[],
        _ => {
            d.push(type_error(node, "a map with required_tags, rules, skip"));
            return config;
        }
    };
    for (k, v) in entries {
        match k.name.as_str() {
            "required_tags" => config.required_tags = required_tags(v, d),
            "rules" => config.levels = levels(v, d),
            "skip" => config.skips = skips(v, d),
            _ => d.push(unknown_key(&k.name, k.span, "checks setting", &KEYS)),
        }
    }
    config
}

fn unknown_key(name: &str, span: Span, what: &str, allowed: &[&str]) -> Diagnostic {
    let diag = Diagnostic::error("check::config", format!("unknown {what} `{name}`"))
        .with_label(span, "not a known key here");
    match did_you_mean(name, allowed.iter().copied()) {
        Some(s) => diag.with_help(format!("did you mean `{s}`?")),
        None => diag.with_help(format!("expected one of: {}", allowed.join(", "))),
    }
}

fn required_tags(node: &Node, d: &mut Diagnostics) -> Vec<String> {
    let NodeValue::Seq(items) = &node.value else {
        if node.value != NodeValue::Null {
            d.push(type_error(node, "a list of tag names"));
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        match item.as_str() {
            Some(s) if !s.trim().is_empty() => out.push(s.to_owned()),
            _ => d.push(type_error(item, "a tag name")),
        }
    }
    out
}

/// The rule a key names (id or name), or a diagnostic with the closest known one.
fn rule_named(name: &str, span: Span, d: &mut Diagnostics) -> Option<&'static Rule> {
    if let Some(rule) = Rule::by_id_or_name(name) {
        return Some(rule);
    }
    let candidates = RULES.iter().flat_map(|r| [r.id, r.name]);
    let mut diag = Diagnostic::error("check::unknown-rule", format!("no check rule `{name}`"))
        .with_label(span, "unknown rule");
    diag = match did_you_mean(name, candidates) {
        Some(s) => diag.with_help(format!(
            "did you mean `{s}`? `regionctl check --help` and docs/checks.md list every rule"
        )),
        None => diag.with_help("rules are named by id (RC101) or name (rds-storage-unencrypted); docs/checks.md lists them"),
    };
    d.push(diag);
    None
}

fn levels(node: &Node, d: &mut Diagnostics) -> BTreeMap<&'static str, Option<Level>> {
    let mut out = BTreeMap::new();
    let entries = match &node.value {
        NodeValue::Map(entries) => entries.as_slice(),
        NodeValue::Null => &[],
        _ => {
            d.push(type_error(node, "a map of rule ids to levels"));
            return out;
        }
    };
    for (k, v) in entries {
        let rule = rule_named(&k.name, k.span, d);
        let level = match v.as_str() {
            Some("off") => Some(None),
            Some("note") => Some(Some(Level::Note)),
            Some("warning") => Some(Some(Level::Warning)),
            Some("error") => Some(Some(Level::Error)),
            other => {
                let help = match other.and_then(|s| did_you_mean(s, LEVELS)) {
                    Some(s) => format!("did you mean `{s}`? (levels: {})", LEVELS.join(", ")),
                    None => format!("use one of: {}", LEVELS.join(", ")),
                };
                let diag = Diagnostic::error(
                    "check::level",
                    match other {
                        Some(s) => format!("`{s}` is not a check level"),
                        None => format!("expected a check level, found {}", v.type_name()),
                    },
                )
                .with_label(v.span, "not a level")
                .with_help(help);
                d.push(diag);
                None
            }
        };
        if let (Some(rule), Some(level)) = (rule, level)
            && out.insert(rule.id, level).is_some()
        {
            d.push(
                Diagnostic::error(
                    "check::config",
                    format!("rule {} ({}) is configured twice", rule.id, rule.name),
                )
                .with_label(k.span, "again here")
                .with_help("a rule's id and its name are the same rule; keep one entry"),
            );
        }
    }
    out
}

fn skips(node: &Node, d: &mut Diagnostics) -> Vec<Skip> {
    let items = match &node.value {
        NodeValue::Seq(items) => items.as_slice(),
        NodeValue::Null => &[],
        _ => {
            d.push(type_error(
                node,
                "a list of { rule, resource, reason } entries",
            ));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for item in items {
        let Some(entries) = item.as_map() else {
            d.push(type_error(item, "a { rule, resource, reason } entry"));
            continue;
        };
        for (k, _) in entries {
            if !SKIP_KEYS.contains(&k.name.as_str()) {
                d.push(unknown_key(&k.name, k.span, "skip setting", &SKIP_KEYS));
            }
        }
        let text = |key: &str, d: &mut Diagnostics| -> Option<(String, Span)> {
            let v = item.get(key)?;
            match v.as_str() {
                Some(s) => Some((s.trim().to_owned(), v.span)),
                None => {
                    d.push(type_error(v, "a string"));
                    None
                }
            }
        };
        let rule = match text("rule", d) {
            Some((name, span)) => rule_named(&name, span, d),
            None => {
                if item.get("rule").is_none() {
                    d.push(missing(
                        item,
                        "rule",
                        "the rule id or name to suppress, e.g. RC102",
                    ));
                }
                None
            }
        };
        let resource = match text("resource", d) {
            Some((r, span)) if r.is_empty() => {
                d.push(
                    Diagnostic::error("check::skip", "a skip needs a non-empty `resource`")
                        .with_label(span, "empty"),
                );
                None
            }
            Some((r, _)) => Some(r),
            None => {
                if item.get("resource").is_none() {
                    d.push(missing(
                        item,
                        "resource",
                        "the address it applies to, e.g. eu-west-1/module.platform.rds_instance.app (`*` matches anything; without `region/` every environment); to turn a rule off everywhere use `rules: { <id>: off }`",
                    ));
                }
                None
            }
        };
        let reason = match text("reason", d) {
            Some((r, span)) if r.is_empty() => {
                d.push(
                    Diagnostic::error("check::skip-reason", "a skip needs a reason")
                        .with_label(span, "empty reason")
                        .with_help("say why the finding is accepted, so a reviewer can judge it"),
                );
                None
            }
            Some((r, _)) => Some(r),
            None => {
                if item.get("reason").is_none() {
                    d.push(
                        Diagnostic::error("check::skip-reason", "a skip needs a reason")
                            .with_label(item.span, "this skip has no `reason`")
                            .with_help(
                                "add `reason: \"...\"` saying why the finding is accepted, so a reviewer can judge it",
                            ),
                    );
                }
                None
            }
        };
        if let (Some(rule), Some(resource), Some(reason)) = (rule, resource, reason) {
            out.push(Skip {
                rule,
                resource,
                reason,
                span: item.span,
            });
        }
    }
    out
}

fn missing(item: &Node, key: &str, what: &str) -> Diagnostic {
    Diagnostic::error("check::skip", format!("a skip needs `{key}`"))
        .with_label(item.span, format!("no `{key}`"))
        .with_help(format!("`{key}`: {what}"))
}

//! Check findings to text: miette reports for people (as `render::diagnostics` draws spec
//! errors, location first), a JSON document for scripts, and SARIF 2.1.0 for code scanning.
//!
//! In the human output the findings of one rule at one place are one report listing every
//! address, since a module called in three regions is one mistake written once.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde_json::{Value as J, json};

use super::Style;
use crate::check::{Finding, Level, Report, RuleState};
use crate::source::{SourceMap, Span};

/// The SARIF log's `$schema`.
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// Where the rules are documented (SARIF `informationUri`, `helpUri`).
pub const DOCS_URI: &str = "https://github.com/regionctl/regionctl/blob/main/docs/checks.md";

#[derive(Debug)]
struct FindingReport {
    code: String,
    message: String,
    severity: miette::Severity,
    help: String,
    source: NamedSource<String>,
    label: LabeledSpan,
}

impl fmt::Display for FindingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FindingReport {}

impl miette::Diagnostic for FindingReport {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(self.label.clone())))
    }
}

fn severity(level: Level) -> miette::Severity {
    match level {
        Level::Error => miette::Severity::Error,
        Level::Warning => miette::Severity::Warning,
        Level::Note => miette::Severity::Advice,
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Every active finding with a snippet, the suppressed ones as one line each, then a summary.
pub fn human(report: &Report, sources: &SourceMap, style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_context_lines(1);
    let mut out = String::new();
    let active: Vec<&Finding> = report.active().collect();
    let mut i = 0;
    while i < active.len() {
        let first = active[i];
        let same = |f: &&Finding| {
            f.rule.id == first.rule.id && f.span == first.span && f.message == first.message
        };
        let group: Vec<&Finding> = active[i..]
            .iter()
            .take_while(|f| same(f))
            .copied()
            .collect();
        i += group.len();
        let addrs: Vec<String> = group.iter().map(|f| f.addr.to_string()).collect();
        let file = first.span.file;
        let span = SourceSpan::from((first.span.start as usize, first.span.len()));
        let report = FindingReport {
            code: format!("{} {}", first.rule.id, first.rule.name),
            message: format!("{}: {}", sources.location(first.span), first.message),
            severity: severity(first.level),
            help: format!("{}\n{}", first.rule.fix, resources_line(&addrs)),
            source: NamedSource::new(
                sources.path(file).display().to_string(),
                sources.text(file).to_string(),
            ),
            label: LabeledSpan::new_primary_with_span(Some(first.rule.summary_label()), span),
        };
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&format!("{}: {}\n", report.code, report.message));
        }
        out.push('\n');
    }
    let suppressed: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_some())
        .collect();
    if !suppressed.is_empty() {
        out.push_str("Suppressed in regionctl.yaml:\n");
        for f in &suppressed {
            let reason = f.suppressed.as_ref().map_or("", |s| s.reason.as_str());
            out.push_str(&format!(
                "  {} {} {}: {reason}\n",
                f.rule.id, f.rule.name, f.addr
            ));
        }
        out.push('\n');
    }
    out.push_str(&summary(report));
    out
}

fn resources_line(addrs: &[String]) -> String {
    match addrs {
        [one] => format!("resource: {one}"),
        many => format!("resources: {}", many.join(", ")),
    }
}

trait SummaryLabel {
    fn summary_label(&self) -> String;
}

impl SummaryLabel for crate::check::Rule {
    fn summary_label(&self) -> String {
        // The label under the snippet: the rule's one-liner without its final period.
        self.summary.trim_end_matches('.').to_owned()
    }
}

/// `2 errors, 1 warning, 0 notes (1 suppressed) from 16 rules on 120 resources`.
pub fn summary(report: &Report) -> String {
    let enabled = report.rules.iter().filter(|r| r.level.is_some()).count();
    let suppressed = match report.suppressed() {
        0 => String::new(),
        n => format!(" ({n} suppressed)"),
    };
    let scope = format!(
        "{} on {}{}",
        plural(enabled, "rule"),
        plural(report.resources, "resource"),
        if report.with_plan {
            " and the plan"
        } else {
            ""
        }
    );
    let (e, w, n) = (
        report.count(Level::Error),
        report.count(Level::Warning),
        report.count(Level::Note),
    );
    if e + w + n == 0 {
        format!("✓ no findings{suppressed}: {scope}\n")
    } else {
        format!(
            "{}, {}, {}{suppressed}: {scope}\n",
            plural(e, "error"),
            plural(w, "warning"),
            plural(n, "note")
        )
    }
}

fn rule_json(state: &RuleState) -> J {
    let r = state.rule;
    json!({
        "id": r.id,
        "name": r.name,
        "level": state.level.map_or("off", Level::as_str),
        "default_level": r.level.as_str(),
        "category": r.category.as_str(),
        "scope": match r.scope { crate::check::Scope::Spec => "spec", crate::check::Scope::Plan => "plan" },
        "summary": r.summary,
        "rationale": r.rationale,
        "fix": r.fix,
    })
}

fn location_json(sources: &SourceMap, span: Span) -> J {
    let (line, column) = sources.line_col(span.file, span.start);
    let (end_line, end_column) = sources.line_col(span.file, span.end);
    json!({
        "file": sources.path(span.file).display().to_string(),
        "line": line, "column": column, "end_line": end_line, "end_column": end_column,
    })
}

/// The JSON document of `regionctl check --json`.
pub fn json(report: &Report, sources: &SourceMap, fail_on: Option<Level>) -> J {
    let findings: Vec<J> = report
        .findings
        .iter()
        .map(|f| {
            let mut item = json!({
                "rule": f.rule.id,
                "name": f.rule.name,
                "level": f.level.as_str(),
                "category": f.rule.category.as_str(),
                "address": f.addr.to_string(),
                "message": f.message,
                "location": location_json(sources, f.span),
                "fix": f.rule.fix,
            });
            if let (Some(s), J::Object(m)) = (&f.suppressed, &mut item) {
                m.insert(
                    "suppressed".to_owned(),
                    json!({ "reason": s.reason, "location": location_json(sources, s.span) }),
                );
            }
            item
        })
        .collect();
    json!({
        "format_version": "1",
        "tool": { "name": "regionctl", "version": env!("CARGO_PKG_VERSION") },
        "fail_on": fail_on.map_or("never", Level::as_str),
        "failed": report.fails(fail_on),
        "summary": {
            "error": report.count(Level::Error),
            "warning": report.count(Level::Warning),
            "note": report.count(Level::Note),
            "suppressed": report.suppressed(),
            "resources": report.resources,
            "plan": report.with_plan,
        },
        "rules": report.rules.iter().map(rule_json).collect::<Vec<_>>(),
        "findings": findings,
    })
}

/// Where the project is, for SARIF's project-relative URIs.
#[derive(Debug, Clone)]
pub struct ProjectBase {
    /// The project root (absolute, or relative to `cwd`).
    pub root: PathBuf,
    /// The (absolute) directory relative source paths are relative to.
    pub cwd: PathBuf,
}

impl ProjectBase {
    /// A source path as a URI relative to the project root (`envs/eu-west-1/main.yaml`), or an
    /// absolute `file://` URI for a file outside it.
    pub fn uri(&self, path: &Path) -> (String, bool) {
        let abs = normalize(&if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.cwd.join(path)
        });
        match abs.strip_prefix(normalize(&self.cwd.join(&self.root))) {
            Ok(rel) => (
                rel.components()
                    .map(|c| encode(&c.as_os_str().to_string_lossy()))
                    .collect::<Vec<_>>()
                    .join("/"),
                true,
            ),
            Err(_) => (file_uri(&abs), false),
        }
    }
}

/// `file:///abs/path` of an absolute path.
fn file_uri(abs: &Path) -> String {
    let path: String = abs
        .components()
        .filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_)))
        .map(|c| format!("/{}", encode(&c.as_os_str().to_string_lossy())))
        .collect();
    format!("file://{path}")
}

/// Drops `.` and folds `..` lexically (no file system access).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Percent-encodes what may not appear in a URI path segment.
fn encode(segment: &str) -> String {
    let mut out = String::new();
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sarif_level(level: Level) -> &'static str {
    level.as_str()
}

fn physical_location(sources: &SourceMap, base: &ProjectBase, span: Span) -> J {
    let (uri, relative) = base.uri(sources.path(span.file));
    let (line, column) = sources.line_col(span.file, span.start);
    let (end_line, end_column) = sources.line_col(span.file, span.end);
    let mut artifact = json!({ "uri": uri });
    if relative && let J::Object(m) = &mut artifact {
        m.insert("uriBaseId".to_owned(), json!("%SRCROOT%"));
    }
    let mut region = json!({ "startLine": line, "startColumn": column });
    if span.end > span.start
        && let J::Object(m) = &mut region
    {
        m.insert("endLine".to_owned(), json!(end_line));
        m.insert("endColumn".to_owned(), json!(end_column));
    }
    json!({ "physicalLocation": { "artifactLocation": artifact, "region": region } })
}

/// A SARIF 2.1.0 log with one run: every rule (switched-off ones `enabled: false`) and every
/// finding, suppressed ones with an external suppression carrying the reason.
pub fn sarif(report: &Report, sources: &SourceMap, base: &ProjectBase) -> J {
    let rules: Vec<J> = report
        .rules
        .iter()
        .map(|s| {
            let r = s.rule;
            let mut config = json!({ "level": sarif_level(s.level.unwrap_or(r.level)) });
            if s.level.is_none()
                && let J::Object(m) = &mut config
            {
                m.insert("enabled".to_owned(), json!(false));
            }
            let mut properties = json!({
                "tags": [r.category.as_str(), "regionctl"],
                "scope": match r.scope { crate::check::Scope::Spec => "spec", crate::check::Scope::Plan => "plan" },
            });
            // GitHub ranks security alerts by this score (critical >= 9, high >= 7, medium >= 4).
            if r.category == crate::check::Category::Security
                && let J::Object(m) = &mut properties
            {
                let score = match s.level.unwrap_or(r.level) {
                    Level::Error => "8.0",
                    Level::Warning => "5.0",
                    Level::Note => "2.0",
                };
                m.insert("security-severity".to_owned(), json!(score));
            }
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": format!("{} {}", r.summary, r.rationale) },
                "help": {
                    "text": format!("{}\nWhy: {}\nFix: {}", r.summary, r.rationale, r.fix),
                    "markdown": format!("**{}**\n\n*Why:* {}\n\n*Fix:* {}", r.summary, r.rationale, r.fix),
                },
                "helpUri": format!("{DOCS_URI}#{}", r.id.to_lowercase()),
                "defaultConfiguration": config,
                "properties": properties,
            })
        })
        .collect();
    let results: Vec<J> = report
        .findings
        .iter()
        .map(|f| {
            let index = report
                .rules
                .iter()
                .position(|s| s.rule.id == f.rule.id)
                .unwrap_or(0);
            let mut result = json!({
                "ruleId": f.rule.id,
                "ruleIndex": index,
                "level": sarif_level(f.level),
                "message": { "text": format!("{}: {}", f.addr, f.message) },
                "locations": [physical_location(sources, base, f.span)],
                "partialFingerprints": {
                    "regionctl/v1": crate::hash::stable_hash128(&[f.rule.id, &f.addr.to_string()]),
                },
                "properties": { "address": f.addr.to_string() },
            });
            if let (Some(s), J::Object(m)) = (&f.suppressed, &mut result) {
                m.insert(
                    "suppressions".to_owned(),
                    json!([{
                        "kind": "external",
                        "status": "accepted",
                        "justification": s.reason,
                        "location": physical_location(sources, base, s.span),
                    }]),
                );
            }
            result
        })
        .collect();
    let root_uri = format!(
        "{}/",
        file_uri(&normalize(&base.cwd.join(&base.root))).trim_end_matches('/')
    );
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "regionctl",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": DOCS_URI,
                    "rules": rules,
                }
            },
            "originalUriBaseIds": { "%SRCROOT%": { "uri": root_uri } },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

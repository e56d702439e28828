//! Diagnostics to text: miette's graphical reports (snippet, caret, help) for people, and a JSON
//! array for tools and editors.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use crate::diag::{Diagnostic, Severity};
use crate::source::{FileId, SourceMap};

use super::Style;

/// A diagnostic bound to its source text, in the shape miette renders.
#[derive(Debug)]
struct Report {
    code: &'static str,
    message: String,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    /// Labels in other files than the primary one become related reports with their own snippet.
    related: Vec<Report>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

fn named_source(sources: &SourceMap, file: FileId) -> NamedSource<String> {
    NamedSource::new(
        sources.path(file).display().to_string(),
        sources.text(file).to_string(),
    )
}

fn to_report(d: &Diagnostic, sources: &SourceMap) -> Report {
    let severity = match d.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
    };
    let primary_file = d.labels.first().map(|l| l.span.file);
    let mut labels = Vec::new();
    let mut related = Vec::new();
    for (i, l) in d.labels.iter().enumerate() {
        let span = SourceSpan::from((l.span.start as usize, l.span.len()));
        let label = if i == 0 {
            LabeledSpan::new_primary_with_span(Some(l.message.clone()), span)
        } else {
            LabeledSpan::new_with_span(Some(l.message.clone()), span)
        };
        if Some(l.span.file) == primary_file {
            labels.push(label);
        } else {
            related.push(Report {
                code: d.code,
                message: format!("see also {}", sources.location(l.span)),
                severity: miette::Severity::Advice,
                help: None,
                source: Some(named_source(sources, l.span.file)),
                labels: vec![LabeledSpan::new_primary_with_span(
                    Some(l.message.clone()),
                    span,
                )],
                related: Vec::new(),
            });
        }
    }
    let message = match d.primary_span() {
        // The location first, as compilers print it, so editors and CI logs can jump to it.
        Some(span) => format!("{}: {}", sources.location(span), d.message),
        None => d.message.clone(),
    };
    Report {
        code: d.code,
        message,
        severity,
        help: d.help.clone(),
        source: primary_file.map(|f| named_source(sources, f)),
        labels,
        related,
    }
}

/// Renders diagnostics with snippets, carets and help, then a one-line summary.
pub fn human(diags: &[Diagnostic], sources: &SourceMap, style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_context_lines(1);
    let mut out = String::new();
    for d in diags {
        let report = to_report(d, sources);
        if handler.render_report(&mut out, &report).is_err() {
            // Rendering into a String cannot fail short of a bug in miette; keep the plain text.
            out.push_str(&format!("{}: {}\n", d.code, report.message));
        }
        out.push('\n');
    }
    out.push_str(&summary(diags));
    out
}

/// `2 errors, 1 warning` (or `no problems`).
pub fn summary(diags: &[Diagnostic]) -> String {
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, w: &str| {
        if n == 1 {
            format!("{n} {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    match (errors, warnings) {
        (0, 0) => "no problems found\n".to_string(),
        (e, 0) => format!("{}\n", plural(e, "error")),
        (0, w) => format!("{}\n", plural(w, "warning")),
        (e, w) => format!("{}, {}\n", plural(e, "error"), plural(w, "warning")),
    }
}

/// A JSON array, one object per diagnostic, with 1-based line/column of every label.
pub fn json(diags: &[Diagnostic], sources: &SourceMap) -> serde_json::Value {
    let items: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let labels: Vec<serde_json::Value> = d
                .labels
                .iter()
                .map(|l| {
                    let (line, column) = sources.line_col(l.span.file, l.span.start);
                    let (end_line, end_column) = sources.line_col(l.span.file, l.span.end);
                    serde_json::json!({
                        "file": sources.path(l.span.file).display().to_string(),
                        "line": line, "column": column, "end_line": end_line, "end_column": end_column,
                        "message": l.message,
                    })
                })
                .collect();
            serde_json::json!({
                "severity": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "code": d.code,
                "message": d.message,
                "labels": labels,
                "help": d.help,
            })
        })
        .collect();
    serde_json::json!({ "format_version": "1", "diagnostics": items })
}

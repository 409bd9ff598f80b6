//! Renderers: diagnostics plus their sources turned into text for people (human, plain) or tools
//! (json, sarif, github), and the one-line summary of a run.
//!
//! Renderers return strings; printing them is the CLI's business.

use std::fmt::Write as _;

use crate::check::Summary;
use crate::diagnostics::{Code, Diagnostic, Label, Severity};
use crate::source::{LineCol, SourceFile, SourceMap, Span};

pub use super::github::{escape_data, escape_property, github};
pub use super::sarif::{SARIF_SCHEMA, sarif, uri as sarif_uri};

/// How wide the human rendering may be.
const HUMAN_WIDTH: usize = 100;
/// Tabs in source lines are shown as this many spaces, and markers are placed to match.
const TAB_WIDTH: usize = 4;

// ---------------------------------------------------------------------------------------------
// Summary

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// One line saying what was checked and what was found, for the end of a run, e.g.
/// `checked 3 files: 1 entity, 12 segments — 2 errors, 1 warning`.
#[must_use]
pub fn summary_line(summary: &Summary) -> String {
    let kinds = [
        (summary.entities, "entity", "entities"),
        (summary.segments, "segment", "segments"),
        (summary.tier_sets, "tier set", "tier sets"),
        (summary.scores, "score", "scores"),
        (summary.definitions, "definition", "definitions"),
        (summary.parameters, "parameter", "parameters"),
        (summary.tests, "test", "tests"),
    ];
    let items: Vec<String> = kinds
        .iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| plural(*n, one, many))
        .collect();
    let mut line = format!("checked {}", plural(summary.files, "file", "files"));
    if !items.is_empty() {
        let _ = write!(line, ": {}", items.join(", "));
    }
    let found = match (summary.errors, summary.warnings) {
        (0, 0) => "no problems found".to_owned(),
        (e, 0) => plural(e, "error", "errors"),
        (0, w) => plural(w, "warning", "warnings"),
        (e, w) => format!(
            "{}, {}",
            plural(e, "error", "errors"),
            plural(w, "warning", "warnings")
        ),
    };
    let _ = write!(line, " — {found}");
    line
}

// ---------------------------------------------------------------------------------------------
// Positions shared by the renderers

/// Where a span starts and ends, as lines and columns, with the file's display name.
struct Place<'a> {
    name: &'a str,
    file: Option<&'a SourceFile>,
    start: LineCol,
    end: LineCol,
}

fn place(span: Span, sources: &SourceMap) -> Place<'_> {
    let file = sources.get(span.file);
    let at = |offset: u32| {
        file.map_or(LineCol { line: 1, column: 1 }, |f| {
            f.line_col(offset as usize)
        })
    };
    Place {
        name: sources.name(span.file),
        file,
        start: at(span.start),
        end: at(span.end),
    }
}

// ---------------------------------------------------------------------------------------------
// Plain

/// Renders diagnostics as plain text: no colour, no box drawing, one fact per line, stable
/// enough for snapshots and pleasant with a screen reader.
///
/// ```text
/// error[E0300]: unknown name `regoin`
///   --> rules/a.segl:3:9
///    3 |   where regoin is EMEA
///      |         ^^^^^^ not a field of `customer`
///   help: did you mean `region`?
/// ```
#[must_use]
pub fn plain(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for (i, d) in diagnostics.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        plain_one(&mut out, d, sources);
    }
    out
}

fn plain_one(out: &mut String, d: &Diagnostic, sources: &SourceMap) {
    let _ = writeln!(out, "{}[{}]: {}", d.severity.as_str(), d.code, d.message);
    let labels: Vec<(&Label, bool)> = std::iter::once((&d.primary, true))
        .chain(d.secondary.iter().map(|l| (l, false)))
        .collect();
    let gutter = labels
        .iter()
        .map(|(l, _)| place(l.span, sources).end.line.to_string().len())
        .max()
        .unwrap_or(1);
    for (label, primary) in labels {
        let p = place(label.span, sources);
        if p.file.is_some_and(|f| f.text.is_empty()) {
            // An empty file, or a folder standing for the whole project: no line to point at.
            let _ = writeln!(out, "  --> {}", p.name);
        } else {
            let _ = writeln!(out, "  --> {}:{}:{}", p.name, p.start.line, p.start.column);
        }
        excerpt(out, &p, label, primary, gutter);
    }
    if let Some(help) = &d.help {
        indented(out, "help", help);
    }
    for note in &d.notes {
        indented(out, "note", note);
    }
    if let Some(fix) = &d.fix {
        let text = describe_fix(fix.span, &fix.replacement, sources);
        indented(out, "fix", &text);
    }
}

/// `  help: first line` with continuation lines lined up under the text.
fn indented(out: &mut String, tag: &str, text: &str) {
    let pad = " ".repeat(tag.len() + 4);
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            let _ = writeln!(out, "  {tag}: {line}");
        } else {
            let _ = writeln!(out, "{pad}{line}");
        }
    }
    if text.is_empty() {
        let _ = writeln!(out, "  {tag}:");
    }
}

pub(super) fn describe_fix(span: Span, replacement: &str, sources: &SourceMap) -> String {
    let old = sources.snippet(span);
    let p = place(span, sources);
    let at = format!("{}:{}:{}", p.name, p.start.line, p.start.column);
    let short = |s: &str| s.chars().count() <= 60 && !s.contains('\n');
    match (old.is_empty(), replacement.is_empty()) {
        (true, _) => format!("insert `{replacement}` at {at}"),
        (false, true) if short(old) => format!("delete `{old}` at {at}"),
        (false, true) => format!(
            "delete the text from {at} to line {} column {}",
            p.end.line, p.end.column
        ),
        (false, false) if short(old) && short(replacement) => {
            format!("replace `{old}` with `{replacement}`")
        }
        (false, false) => format!(
            "replace the text from {at} to line {} column {} with:\n{replacement}",
            p.end.line, p.end.column
        ),
    }
}

/// Display text of a source line (tabs expanded) and the display column of a 1-based char column.
fn display_line(text: &str) -> String {
    text.replace('\t', &" ".repeat(TAB_WIDTH))
}

fn display_col(text: &str, column: usize) -> usize {
    text.chars()
        .take(column.saturating_sub(1))
        .map(|c| if c == '\t' { TAB_WIDTH } else { 1 })
        .sum()
}

/// Source lines wider than this are cut to a window around the marked text.
const MAX_LINE_WIDTH: usize = 120;
/// How many characters of context the window keeps on each side of the marked text.
const CONTEXT: usize = 40;

fn excerpt(out: &mut String, p: &Place<'_>, label: &Label, primary: bool, gutter: usize) {
    let Some(file) = p.file else { return };
    if file.text.is_empty() {
        if !label.message.is_empty() {
            let _ = writeln!(out, "{} | {}", " ".repeat(gutter + 2), label.message);
        }
        return;
    }
    let mark = if primary { '^' } else { '-' };
    let blank = " ".repeat(gutter + 2);
    let source_line = |out: &mut String, n: usize| {
        let text = display_line(file.line_text(n));
        let _ = writeln!(out, "  {n:>gutter$} | {text}");
    };
    // A span that ends right after a line break ends on the previous line.
    let mut end = p.end;
    if end.line > p.start.line && end.column == 1 {
        end.line -= 1;
        end.column = file.line_text(end.line).chars().count() + 1;
    }
    let with_label = |marks: String| {
        if label.message.is_empty() {
            marks
        } else {
            format!("{marks} {}", label.message)
        }
    };
    if end.line == p.start.line {
        let text = file.line_text(p.start.line);
        let from = display_col(text, p.start.column);
        let to = display_col(text, end.column).max(from + 1);
        let shown = display_line(text);
        let width = shown.chars().count();
        if width > MAX_LINE_WIDTH {
            // Show a window around the marked text, so very long lines stay readable.
            let start = from.saturating_sub(CONTEXT);
            let stop = (to.min(from + MAX_LINE_WIDTH - 2 * CONTEXT) + CONTEXT).min(width);
            let head = if start > 0 { "..." } else { "" };
            let tail = if stop < width { "..." } else { "" };
            let window: String = shown.chars().skip(start).take(stop - start).collect();
            let n = p.start.line;
            let _ = writeln!(out, "  {n:>gutter$} | {head}{window}{tail}");
            let from = from - start + head.len();
            let to = to.min(stop) - start + head.len();
            let marks = format!(
                "{}{}",
                " ".repeat(from),
                mark.to_string().repeat((to - from).max(1))
            );
            let _ = writeln!(out, "{blank} | {}", with_label(marks));
            return;
        }
        source_line(out, p.start.line);
        let marks = format!("{}{}", " ".repeat(from), mark.to_string().repeat(to - from));
        let _ = writeln!(out, "{blank} | {}", with_label(marks));
    } else {
        let first = file.line_text(p.start.line);
        let from = display_col(first, p.start.column);
        let first_end = display_col(first, first.chars().count() + 1).max(from + 1);
        source_line(out, p.start.line);
        let _ = writeln!(
            out,
            "{blank} | {}{}",
            " ".repeat(from),
            mark.to_string().repeat(first_end - from)
        );
        if end.line > p.start.line + 1 {
            let _ = writeln!(out, "{blank} | ...");
        }
        let last = file.line_text(end.line);
        let indent = last.chars().take_while(|c| c.is_whitespace()).count();
        let from = display_col(last, indent + 1);
        let to = display_col(last, end.column).max(from + 1);
        source_line(out, end.line);
        let marks = format!("{}{}", " ".repeat(from), mark.to_string().repeat(to - from));
        let _ = writeln!(out, "{blank} | {}", with_label(marks));
    }
}

// ---------------------------------------------------------------------------------------------
// JSON

/// One diagnostic in the JSON output. Lines and columns start at 1; columns count characters;
/// byte offsets are into the file's text after a byte-order mark is removed; ends are exclusive.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct JsonDiagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub byte_start: u32,
    pub byte_end: u32,
    /// The primary label first, then the secondary ones.
    pub labels: Vec<JsonLabel>,
    pub help: Option<String>,
    pub notes: Vec<String>,
    pub fix: Option<JsonFix>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct JsonLabel {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub byte_start: u32,
    pub byte_end: u32,
    pub message: String,
    pub primary: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct JsonFix {
    pub file: String,
    pub byte_start: u32,
    pub byte_end: u32,
    pub replacement: String,
}

/// The whole JSON output of a run.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct JsonDocument {
    pub diagnostics: Vec<JsonDiagnostic>,
    pub summary: Summary,
}

fn json_label(label: &Label, primary: bool, sources: &SourceMap) -> JsonLabel {
    let p = place(label.span, sources);
    JsonLabel {
        file: p.name.to_owned(),
        line: p.start.line,
        column: p.start.column,
        end_line: p.end.line,
        end_column: p.end.column,
        byte_start: label.span.start,
        byte_end: label.span.end,
        message: label.message.clone(),
        primary,
    }
}

/// The JSON form of each diagnostic, to be put into a [`JsonDocument`].
#[must_use]
pub fn json_diagnostics(diagnostics: &[Diagnostic], sources: &SourceMap) -> Vec<JsonDiagnostic> {
    diagnostics
        .iter()
        .map(|d| {
            let p = place(d.primary.span, sources);
            let labels = std::iter::once(json_label(&d.primary, true, sources))
                .chain(d.secondary.iter().map(|l| json_label(l, false, sources)))
                .collect();
            JsonDiagnostic {
                code: d.code,
                severity: d.severity,
                message: d.message.clone(),
                file: p.name.to_owned(),
                line: p.start.line,
                column: p.start.column,
                end_line: p.end.line,
                end_column: p.end.column,
                byte_start: d.primary.span.start,
                byte_end: d.primary.span.end,
                labels,
                help: d.help.clone(),
                notes: d.notes.clone(),
                fix: d.fix.as_ref().map(|f| JsonFix {
                    file: sources.name(f.span.file).to_owned(),
                    byte_start: f.span.start,
                    byte_end: f.span.end,
                    replacement: f.replacement.clone(),
                }),
            }
        })
        .collect()
}

/// Renders a whole run as one pretty-printed JSON document.
#[must_use]
pub fn json(diagnostics: &[Diagnostic], sources: &SourceMap, summary: &Summary) -> String {
    json_document(&JsonDocument {
        diagnostics: json_diagnostics(diagnostics, sources),
        summary: *summary,
    })
}

/// Prints a [`JsonDocument`] (pretty, with a final line break).
#[must_use]
pub fn json_document(document: &JsonDocument) -> String {
    let mut text = serde_json::to_string_pretty(document).unwrap_or_else(|e| {
        // Serialising plain structs of strings and numbers cannot fail; say so if it ever does.
        format!("{{\"internal_error\": \"{e}\"}}")
    });
    text.push('\n');
    text
}

// ---------------------------------------------------------------------------------------------
// Human (miette)

/// One source file in the form miette wants, with lines and columns computed by segl (miette
/// counts columns in bytes; segl counts characters).
struct MietteSource<'a> {
    name: &'a str,
    file: &'a SourceFile,
}

impl miette::SourceCode for MietteSource<'_> {
    fn read_span<'b>(
        &'b self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'b> + 'b>, miette::MietteError> {
        let inner =
            self.file
                .text
                .as_str()
                .read_span(span, context_lines_before, context_lines_after)?;
        let start = self.file.line_col(inner.span().offset());
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.to_owned(),
            inner.data(),
            *inner.span(),
            start.line - 1,
            start.column - 1,
            inner.line_count(),
        )))
    }
}

/// A segl diagnostic (or one of its places in another file) dressed up for miette.
struct MietteReport<'a> {
    message: String,
    code: Option<String>,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<MietteSource<'a>>,
    labels: Vec<miette::LabeledSpan>,
    related: Vec<MietteReport<'a>>,
}

impl std::fmt::Debug for MietteReport<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::fmt::Display for MietteReport<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MietteReport<'_> {}

impl miette::Diagnostic for MietteReport<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn std::fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

fn miette_span(span: Span) -> miette::SourceSpan {
    (span.start as usize, span.len()).into()
}

fn miette_source(span: Span, sources: &SourceMap) -> Option<MietteSource<'_>> {
    let file = sources.get(span.file)?;
    (!file.text.is_empty()).then(|| MietteSource {
        name: sources.name(span.file),
        file,
    })
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

fn miette_report<'a>(d: &Diagnostic, sources: &'a SourceMap) -> MietteReport<'a> {
    let source = miette_source(d.primary.span, sources);
    let mut labels = Vec::new();
    let mut related = Vec::new();
    if source.is_some() {
        labels.push(miette::LabeledSpan::new_primary_with_span(
            non_empty(&d.primary.message),
            miette_span(d.primary.span),
        ));
    }
    for label in &d.secondary {
        if label.span.file == d.primary.span.file && source.is_some() {
            labels.push(miette::LabeledSpan::new_with_span(
                non_empty(&label.message),
                miette_span(label.span),
            ));
        } else {
            let other = miette_source(label.span, sources);
            let p = place(label.span, sources);
            related.push(MietteReport {
                message: if label.message.is_empty() {
                    format!("see {}:{}:{}", p.name, p.start.line, p.start.column)
                } else {
                    label.message.clone()
                },
                code: None,
                severity: miette::Severity::Advice,
                help: None,
                labels: if other.is_some() {
                    vec![miette::LabeledSpan::new_primary_with_span(
                        None,
                        miette_span(label.span),
                    )]
                } else {
                    Vec::new()
                },
                source: other,
                related: Vec::new(),
            });
        }
    }
    let mut help = d.help.clone();
    if let Some(fix) = &d.fix {
        let text = format!("fix: {}", describe_fix(fix.span, &fix.replacement, sources));
        help = Some(match help {
            Some(h) => format!("{h}\n{text}"),
            None => text,
        });
    }
    MietteReport {
        message: d.message.clone(),
        code: Some(format!("{}[{}]", d.severity.as_str(), d.code)),
        severity: match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        },
        help,
        source,
        labels,
        related,
    }
}

/// Renders diagnostics for a terminal with miette: the code, the message, a boxed source excerpt
/// with labels, help and notes; places in other files follow as their own excerpts. Colours only
/// when `color` is true.
#[must_use]
pub fn human(diagnostics: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let base = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(HUMAN_WIDTH)
        .with_links(false)
        .without_syntax_highlighting();
    let mut out = String::new();
    for d in diagnostics {
        let report = miette_report(d, sources);
        let handler = if d.notes.is_empty() {
            base.clone()
        } else {
            let notes: Vec<String> = d
                .notes
                .iter()
                .map(|n| format!("note: {}", n.replace('\n', "\n      ")))
                .collect();
            base.clone().with_footer(notes.join("\n"))
        };
        let mut one = String::new();
        if handler.render_report(&mut one, &report).is_ok() {
            out.push_str(&one);
        } else {
            // miette could not lay the excerpt out (a span outside its file): fall back to plain.
            plain_one(&mut out, d, sources);
        }
        out.push('\n');
    }
    out
}

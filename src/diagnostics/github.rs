//! GitHub Actions annotations: one workflow command per diagnostic, which GitHub shows inline
//! on the changed lines of a pull request.
//!
//! ```text
//! ::error file=rules/vip.segl,line=3,col=9,endLine=3,endColumn=15,title=E0300 unknown name::`regoin` is not a field of `customer`%0Ahelp: did you mean `region`?
//! ```

use std::fmt::Write as _;

use super::render::describe_fix;
use super::{Diagnostic, Severity};
use crate::source::SourceMap;

/// Renders the diagnostics of one or more checked projects as GitHub workflow commands, one line
/// each (`::error ...` or `::warning ...`). Columns count characters, as in the plain format.
#[must_use]
pub fn github(reports: &[(&[Diagnostic], &SourceMap)]) -> String {
    let mut out = String::new();
    for (diagnostics, sources) in reports {
        for d in *diagnostics {
            annotation(&mut out, d, sources);
        }
    }
    out
}

fn annotation(out: &mut String, d: &Diagnostic, sources: &SourceMap) {
    let command = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let span = d.primary.span;
    let mut properties = vec![("file", sources.name(span.file).replace('\\', "/"))];
    if let Some(file) = sources.get(span.file).filter(|f| !f.text.is_empty()) {
        let start = file.line_col(span.start as usize);
        let end = file.line_col(span.end as usize);
        properties.push(("line", start.line.to_string()));
        properties.push(("col", start.column.to_string()));
        properties.push(("endLine", end.line.to_string()));
        properties.push(("endColumn", end.column.to_string()));
    }
    properties.push(("title", format!("{} {}", d.code, d.code.info().title)));

    let mut message = d.message.clone();
    if !d.primary.message.is_empty() {
        let _ = write!(message, "\n{}", d.primary.message);
    }
    for label in &d.secondary {
        let file = sources.get(label.span.file);
        let at = match file.filter(|f| !f.text.is_empty()) {
            Some(f) => {
                let p = f.line_col(label.span.start as usize);
                format!("{}:{}:{}", sources.name(label.span.file), p.line, p.column)
            }
            None => sources.name(label.span.file).to_owned(),
        };
        if label.message.is_empty() {
            let _ = write!(message, "\nsee {at}");
        } else {
            let _ = write!(message, "\n{at}: {}", label.message);
        }
    }
    if let Some(help) = &d.help {
        let _ = write!(message, "\nhelp: {help}");
    }
    for note in &d.notes {
        let _ = write!(message, "\nnote: {note}");
    }
    if let Some(fix) = &d.fix {
        let _ = write!(
            message,
            "\nfix: {}",
            describe_fix(fix.span, &fix.replacement, sources)
        );
    }

    let properties: Vec<String> = properties
        .iter()
        .map(|(key, value)| format!("{key}={}", escape_property(value)))
        .collect();
    let _ = writeln!(
        out,
        "::{command} {}::{}",
        properties.join(","),
        escape_data(&message)
    );
}

/// Escapes the message of a workflow command: `%`, carriage return and line feed.
#[must_use]
pub fn escape_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a property value of a workflow command: as [`escape_data`], plus `:` and `,`.
#[must_use]
pub fn escape_property(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' => out.push_str("%3A"),
            ',' => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

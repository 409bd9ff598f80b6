//! SARIF 2.1.0: diagnostics as one static-analysis log, for code-scanning tools (GitHub code
//! scanning, IDE viewers, review bots).
//!
//! One run with one tool (`segl`); `tool.driver.rules` lists the codes the results use, in
//! registry order, with their docs page as help. Regions count columns in UTF-16 code units (the
//! run says so in `columnKind`); file names become relative URI references, percent-encoded.

use serde_json::{Map, Value, json};

use super::render::describe_fix;
use super::{Code, Diagnostic, Label, Severity};
use crate::source::{SourceFile, SourceMap, Span};

/// The schema a SARIF 2.1.0 log names in `$schema`.
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Renders the diagnostics of one or more checked projects (each with its own sources) as one
/// SARIF 2.1.0 log, pretty-printed with a final line break. `version` is segl's version.
#[must_use]
pub fn sarif(reports: &[(&[Diagnostic], &SourceMap)], version: &str) -> String {
    let mut codes: Vec<Code> = reports
        .iter()
        .flat_map(|(diagnostics, _)| diagnostics.iter().map(|d| d.code))
        .collect();
    codes.sort();
    codes.dedup();
    let rules: Vec<Value> = codes.iter().map(|&code| rule(code)).collect();
    let results: Vec<Value> = reports
        .iter()
        .flat_map(|(diagnostics, sources)| {
            diagnostics.iter().map(|d| {
                let index = codes.binary_search(&d.code).unwrap_or(0);
                result(d, index, sources)
            })
        })
        .collect();
    let log = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "segl",
                    "version": version,
                    "semanticVersion": version,
                    "rules": rules,
                }
            },
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_else(|e| {
        // Serialising a tree of strings and numbers cannot fail; say so if it ever does.
        format!("{{\"internal_error\": \"{e}\"}}")
    });
    text.push('\n');
    text
}

/// The rule of a code: its title as the short description, the first paragraph of its docs
/// page as the full description, and the whole page as help.
fn rule(code: Code) -> Value {
    let info = code.info();
    json!({
        "id": info.name,
        "shortDescription": { "text": info.title },
        "fullDescription": { "text": first_paragraph(info.doc) },
        "help": { "text": info.doc, "markdown": info.doc },
        "defaultConfiguration": { "level": level(info.severity) },
        "properties": { "tags": ["segl", info.severity.as_str()] },
    })
}

/// The first paragraph of a docs page after its title, joined into one line.
fn first_paragraph(doc: &str) -> String {
    let text = doc
        .lines()
        .skip_while(|l| l.starts_with('#') || l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    if text.is_empty() {
        doc.lines().next().unwrap_or_default().to_owned()
    } else {
        text
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn result(d: &Diagnostic, rule_index: usize, sources: &SourceMap) -> Value {
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    for note in &d.notes {
        text.push_str("\nnote: ");
        text.push_str(note);
    }
    if let Some(fix) = &d.fix {
        text.push_str("\nfix: ");
        text.push_str(&describe_fix(fix.span, &fix.replacement, sources));
    }
    let mut out = Map::new();
    out.insert("ruleId".into(), json!(d.code.as_str()));
    out.insert("ruleIndex".into(), json!(rule_index));
    out.insert("level".into(), json!(level(d.severity)));
    out.insert("message".into(), json!({ "text": text }));
    out.insert(
        "locations".into(),
        json!([location(&d.primary, None, sources)]),
    );
    if !d.secondary.is_empty() {
        let related: Vec<Value> = d
            .secondary
            .iter()
            .enumerate()
            .map(|(i, label)| location(label, Some(i + 1), sources))
            .collect();
        out.insert("relatedLocations".into(), Value::Array(related));
    }
    if let Some(fix) = &d.fix {
        let mut replacement = Map::new();
        replacement.insert("deletedRegion".into(), region(fix.span, sources));
        replacement.insert("insertedContent".into(), json!({ "text": fix.replacement }));
        out.insert(
            "fixes".into(),
            json!([{
                "description": {
                    "text": describe_fix(fix.span, &fix.replacement, sources)
                },
                "artifactChanges": [{
                    "artifactLocation": { "uri": uri(sources.name(fix.span.file)) },
                    "replacements": [Value::Object(replacement)],
                }],
            }]),
        );
    }
    Value::Object(out)
}

/// A location: the file as a URI reference, the region when the file has text, and the label.
fn location(label: &Label, id: Option<usize>, sources: &SourceMap) -> Value {
    let mut physical = Map::new();
    physical.insert(
        "artifactLocation".into(),
        json!({ "uri": uri(sources.name(label.span.file)) }),
    );
    if sources
        .get(label.span.file)
        .is_some_and(|f| !f.text.is_empty())
    {
        physical.insert("region".into(), region(label.span, sources));
    }
    let mut out = Map::new();
    if let Some(id) = id {
        out.insert("id".into(), json!(id));
    }
    out.insert("physicalLocation".into(), Value::Object(physical));
    if !label.message.is_empty() {
        out.insert("message".into(), json!({ "text": label.message }));
    }
    Value::Object(out)
}

/// Lines and columns of a span; columns count UTF-16 code units from 1, and the end column is
/// the one just after the region.
fn region(span: Span, sources: &SourceMap) -> Value {
    let Some(file) = sources.get(span.file) else {
        return json!({ "startLine": 1, "startColumn": 1 });
    };
    let (start_line, start_column) = utf16_position(file, span.start as usize);
    let (end_line, end_column) = utf16_position(file, span.end as usize);
    json!({
        "startLine": start_line,
        "startColumn": start_column,
        "endLine": end_line,
        "endColumn": end_column,
    })
}

/// The 1-based line and UTF-16 column of a byte offset.
pub(crate) fn utf16_position(file: &SourceFile, offset: usize) -> (usize, usize) {
    let at = file.line_col(offset);
    let column = file
        .line_text(at.line)
        .chars()
        .take(at.column.saturating_sub(1))
        .map(char::len_utf16)
        .sum::<usize>()
        + 1;
    (at.line, column)
}

/// A file name as written by the user, as a URI reference: forward slashes, and every byte
/// other than an unreserved character or `/` percent-encoded (RFC 3986). An absolute path
/// becomes a `file:` URI.
#[must_use]
pub fn uri(name: &str) -> String {
    let name = name.replace('\\', "/");
    let (prefix, path) = if let Some(rest) = name.strip_prefix('/') {
        ("file:///", rest)
    } else if is_drive_path(&name) {
        // `C:/rules/a.segl`: keep the drive letter and its colon.
        let (drive, rest) = name.split_at(2);
        return format!("file:///{drive}{}", encode_path(rest));
    } else {
        ("", name.as_str())
    };
    format!("{prefix}{}", encode_path(path))
}

fn is_drive_path(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && bytes[2] == b'/'
}

fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded_references() {
        assert_eq!(uri("rules/vip.segl"), "rules/vip.segl");
        assert_eq!(uri("rules\\vip.segl"), "rules/vip.segl");
        assert_eq!(uri("règles/a b.segl"), "r%C3%A8gles/a%20b.segl");
        assert_eq!(uri("a:b,c%d#e?.segl"), "a%3Ab%2Cc%25d%23e%3F.segl");
        assert_eq!(
            uri("/home/ana/rules/x.segl"),
            "file:///home/ana/rules/x.segl"
        );
        assert_eq!(uri("C:\\rules\\x.segl"), "file:///C:/rules/x.segl");
    }

    #[test]
    fn columns_count_utf16_code_units() {
        let file = SourceFile::new("a.segl", "ü😀x\nab");
        // `ü` is one unit, `😀` two: `x` is at column 4.
        assert_eq!(utf16_position(&file, "ü😀".len()), (1, 4));
        assert_eq!(utf16_position(&file, "ü😀x\na".len()), (2, 2));
    }
}

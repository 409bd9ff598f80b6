//! NDJSON files: one JSON object per line, keys naming the fields.

use std::sync::Arc;

use super::column::Column;
use super::json::{self, Json};
use super::problems::{Problems, RowRef};
use super::rows::{Layout, Mark, RowIndex, RowText};
use super::{DataSource, Read, finish_columns, missing_column, read_bytes, take_value};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::EntityDef;
use crate::source::SourceMap;

pub(super) fn read(
    source: &DataSource,
    entity: &EntityDef,
    zone: &jiff::tz::TimeZone,
    wanted: &[bool],
    problems: &mut Problems<'_>,
    sources: &mut SourceMap,
) -> Option<Read> {
    let bytes = read_bytes(source, entity, problems, sources)?;
    let bytes = Arc::new(bytes);
    let rows = RowText {
        shown: source.shown.clone(),
        bytes: Arc::clone(&bytes),
        layout: Layout::Ndjson,
        index: std::sync::OnceLock::new(),
        header: None,
    };
    let mut row_index = RowIndex::default();
    let mut columns: Vec<Column> = entity
        .fields
        .iter()
        .enumerate()
        .map(|(f, def)| {
            if wanted.get(f).copied().unwrap_or(true) {
                Column::new(&def.ty, problems.program, zone, source.list_separator)
            } else {
                Column::skipped(&def.ty)
            }
        })
        .collect();
    let mut seen = vec![false; entity.fields.len()];
    let mut keys_found: Vec<String> = Vec::new();
    let mut values: Vec<Option<Json<'_>>> = vec![None; entity.fields.len()];
    let mut row = 0usize;
    let mut start = 0usize;
    for (n, raw_line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = n + 1;
        let line_start = start;
        start += raw_line.len() + 1;
        let end = start.min(bytes.len());
        let raw_line = raw_line.strip_suffix(b"\r").unwrap_or(raw_line);
        if raw_line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        row_index.push(line_start, line);
        let here = RowRef {
            row,
            line: Some(line),
        };
        row += 1;
        let parsed = std::str::from_utf8(raw_line)
            .map_err(|e| json::Malformed {
                at: e.valid_up_to(),
                reason: "this line has bytes that are not UTF-8".to_owned(),
            })
            .and_then(json::object);
        let members = match parsed {
            Ok(m) => m,
            Err(bad) => {
                if problems.admit(Code::E0601, None) {
                    let span = rows.span_at(sources, line_start..end, line, &Mark::At(bad.at));
                    problems.push(
                        Diagnostic::new(
                            Code::E0601,
                            span,
                            format!(
                                "line {line} of `{}` is not a JSON object",
                                source.shown
                            ),
                        )
                        .label(bad.reason)
                        .help("an NDJSON file has one complete JSON object per line, such as `{\"id\": \"c1\", \"arr\": 1200.50}`"),
                    );
                }
                for c in &mut columns {
                    c.push_null();
                }
                continue;
            }
        };
        values.fill(None);
        for m in members {
            match entity.fields.iter().position(|f| f.name == m.key) {
                Some(f) => {
                    seen[f] = true;
                    values[f] = Some(m.value);
                }
                None => {
                    if keys_found.len() < 50 && !keys_found.iter().any(|k| *k == m.key) {
                        keys_found.push(m.key.into_owned());
                    }
                }
            }
        }
        for (f, column) in columns.iter_mut().enumerate() {
            let value = values[f].take();
            if column.is_skipped() {
                column.push_null();
                continue;
            }
            let unknown = match &value {
                None | Some(Json::Null) => true,
                Some(Json::Str(s)) => {
                    !source.missing.is_empty() && source.missing.iter().any(|m| m == s)
                }
                _ => false,
            };
            let name = entity.fields[f].name.as_str();
            take_value(
                problems,
                column,
                f,
                unknown,
                |c| match &value {
                    Some(v) => c.push_json(v),
                    None => {
                        c.push_null();
                        Ok(())
                    }
                },
                || value.as_ref().map_or_else(String::new, describe),
                here,
                &mut || rows.span_at(sources, line_start..end, line, &Mark::Key(name)),
            );
        }
    }

    // A field that no line has at all is a missing column, not thousands of missing values.
    if row > 0 {
        for (f, def) in entity.fields.iter().enumerate() {
            if !seen[f] {
                problems.forget(Code::E0604, f);
                let mut found: Vec<String> = entity
                    .fields
                    .iter()
                    .zip(&seen)
                    .filter(|(_, s)| **s)
                    .map(|(d, _)| d.name.clone())
                    .collect();
                found.extend(keys_found.iter().cloned());
                if !def.optional {
                    let d = missing_column(problems, f, &found, None, "key");
                    problems.push(d);
                }
            }
        }
    }

    let _ = rows.index.set(row_index);
    let columns = finish_columns(entity, columns, problems, &source.shown)?;
    Some(Read {
        columns,
        rows: Some(rows),
        undeclared: keys_found,
    })
}

/// A JSON value as written, for messages.
fn describe(value: &Json<'_>) -> String {
    match value {
        Json::Null => "null".to_owned(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => (*n).to_owned(),
        Json::Str(s) => format!("\"{s}\""),
        Json::Array(items) => {
            let inner: Vec<String> = items.iter().map(describe).collect();
            format!("[{}]", inner.join(", "))
        }
        Json::Object => "{...}".to_owned(),
    }
}

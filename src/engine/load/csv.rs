//! CSV (and TSV) files: a header row naming the columns, then one record per row.

use std::sync::Arc;

use super::column::Column;
use super::problems::{Problems, RowRef};
use super::rows::{Layout, Mark, RowText};
use super::{DataSource, Read, file_span, finish_columns, missing_column, read_bytes, take_value};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::EntityDef;
use crate::source::SourceMap;

pub(super) fn read(
    source: &DataSource,
    entity: &EntityDef,
    zone: &jiff::tz::TimeZone,
    problems: &mut Problems<'_>,
    sources: &mut SourceMap,
) -> Option<Read> {
    let bytes = read_bytes(source, entity, problems, sources)?;
    let bytes = Arc::new(bytes);
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(source.delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let mut record = ::csv::ByteRecord::new();
    let header_ok = reader.read_byte_record(&mut record);
    if !matches!(header_ok, Ok(true)) {
        let span = file_span(source, sources);
        let why = match header_ok {
            Err(e) => format!("it is not valid CSV: {e}"),
            _ => "it is empty".to_owned(),
        };
        problems.push(
            Diagnostic::new(
                Code::E0601,
                span,
                format!("`{}` cannot be read as CSV: {why}", source.shown),
            )
            .label(format!("the data of `{}`", entity.name))
            .help(
                "a CSV file starts with a header row naming the columns, such as `id,region,arr`",
            ),
        );
        return None;
    }
    let headers: Vec<String> = record
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_owned())
        .collect();
    let first_data = usize::try_from(reader.position().byte()).unwrap_or(0);
    let mut rows = RowText {
        shown: source.shown.clone(),
        bytes: Arc::clone(&bytes),
        layout: Layout::Csv {
            delimiter: source.delimiter,
        },
        starts: Vec::new(),
        lines: Vec::new(),
        header: Some(0..first_data),
    };

    // Which column holds each field.
    let mut index: Vec<Option<usize>> = Vec::with_capacity(entity.fields.len());
    let mut header_span = None;
    for (f, def) in entity.fields.iter().enumerate() {
        let at: Vec<usize> = headers
            .iter()
            .enumerate()
            .filter(|(_, h)| **h == def.name)
            .map(|(i, _)| i)
            .collect();
        if header_span.is_none() && at.len() != 1 {
            header_span = rows.header_span(sources);
        }
        match at.as_slice() {
            [one] => index.push(Some(*one)),
            [] => {
                index.push(None);
                let d = missing_column(problems, f, &headers, header_span, "column");
                problems.push(d);
            }
            [first, ..] => {
                index.push(Some(*first));
                let span = header_span.unwrap_or(def.span);
                problems.push(
                    Diagnostic::new(
                        Code::E0601,
                        span,
                        format!(
                            "`{}` has {} columns named `{}`",
                            source.shown,
                            at.len(),
                            def.name
                        ),
                    )
                    .label("the header row")
                    .secondary(def.span, format!("`{}` is declared here", def.name))
                    .help("keep one column per field: rename or remove the others"),
                );
            }
        }
    }

    let mut columns: Vec<Column> = entity
        .fields
        .iter()
        .map(|f| Column::new(&f.ty, problems.program, zone, source.list_separator))
        .collect();
    let width = headers.len();
    let mut row = 0usize;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(::csv::Position::line);
                let span = file_span(source, sources);
                problems.push(
                    Diagnostic::new(Code::E0601, span, format!("`{}` is not valid CSV", source.shown))
                        .label(match line {
                            Some(line) => format!("reading stopped at line {line}: {e}"),
                            None => format!("reading stopped: {e}"),
                        })
                        .help("a field that holds the separator, a quote or a line break must be in double quotes, with inner quotes doubled (`\"\"`)"),
                );
                break;
            }
        }
        let (start, line) = record.position().map_or((0, 0), |p| (p.byte(), p.line()));
        let start = usize::try_from(start).unwrap_or(usize::MAX);
        let end = usize::try_from(reader.position().byte()).unwrap_or(usize::MAX);
        let line = usize::try_from(line).unwrap_or(0);
        if record.len() == 1 && width > 1 && record.get(0).is_some_and(<[u8]>::is_empty) {
            // A blank line: skipped, like every spreadsheet does.
            continue;
        }
        rows.starts.push(start);
        rows.lines.push(u32::try_from(line).unwrap_or(u32::MAX));
        let here = RowRef {
            row,
            line: Some(line),
        };
        if record.len() != width {
            if problems.admit(Code::E0601, None) {
                let span = rows.span_at(sources, start..end, line, &Mark::Whole);
                problems.push(
                    Diagnostic::new(
                        Code::E0601,
                        span,
                        format!(
                            "{} of `{}` has {} values, but the header names {width} columns",
                            here.describe(),
                            source.shown,
                            record.len()
                        ),
                    )
                    .label(format!(
                        "expected {width} values separated by `{}`",
                        char::from(source.delimiter).escape_default()
                    ))
                    .help("a value that contains the separator must be in double quotes, such as `\"Berlin, Germany\"`"),
                );
            }
            for c in &mut columns {
                c.push_null();
            }
            row += 1;
            continue;
        }
        for (f, column) in columns.iter_mut().enumerate() {
            let Some(i) = index[f] else {
                column.push_null();
                continue;
            };
            let raw = record.get(i).unwrap_or(b"");
            let Ok(text) = std::str::from_utf8(raw) else {
                column.push_null();
                if problems.admit(Code::E0601, None) {
                    let span = rows.span_at(sources, start..end, line, &Mark::Column(i));
                    problems.push(
                        Diagnostic::new(
                            Code::E0601,
                            span,
                            format!("{} of `{}` is not UTF-8 text", here.describe(), source.shown),
                        )
                        .label("this value has bytes that are not UTF-8")
                        .help("save the file as UTF-8 (in Excel: \"CSV UTF-8\"; in LibreOffice: character set \"Unicode (UTF-8)\")"),
                    );
                }
                continue;
            };
            let unknown = (text.is_empty() && !column.is_list())
                || (!source.missing.is_empty() && source.missing.iter().any(|m| m == text));
            take_value(
                problems,
                column,
                f,
                unknown,
                |c| c.push_text(text),
                || text.to_owned(),
                here,
                &mut || rows.span_at(sources, start..end, line, &Mark::Column(i)),
            );
        }
        row += 1;
    }

    let columns = finish_columns(entity, columns, problems, &source.shown)?;
    let mut undeclared: Vec<String> = Vec::new();
    for h in &headers {
        if !h.is_empty() && !entity.fields.iter().any(|f| f.name == *h) && !undeclared.contains(h) {
            undeclared.push(h.clone());
        }
    }
    Some(Read {
        columns,
        rows: Some(rows),
        undeclared,
    })
}

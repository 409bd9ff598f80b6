//! CSV (and TSV) files: a header row naming the columns, then one record per row.

use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;

use super::column::Column;
use super::problems::{Problems, RowRef};
use super::rows::{Layout, Mark, RowIndex, RowText, is_blank};
use super::{DataSource, Read, file_span, finish_columns, missing_column, read_bytes, take_value};
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
    let rows = RowText {
        shown: source.shown.clone(),
        bytes: Arc::clone(&bytes),
        layout: Layout::Csv {
            delimiter: source.delimiter,
            width: headers.len(),
        },
        index: std::sync::OnceLock::new(),
        header: Some(0..first_data),
    };
    let mut row_index = RowIndex::default();

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

    // A clean file is read on several threads; anything unusual (a problem in a record, chunks
    // that do not line up) and it is read again below, record by record, which finds and
    // describes every problem.
    if !problems.has_errors() {
        let width = headers.len();
        let layout = Chunking {
            delimiter: source.delimiter,
            width,
            index: &index,
            wanted,
            missing: &source.missing,
            list_separator: source.list_separator,
        };
        if let Some(columns) = layout.read(&bytes, first_data, entity, problems.program, zone) {
            let undeclared = undeclared_columns(entity, &headers);
            return Some(Read {
                columns,
                rows: Some(rows),
                undeclared,
            });
        }
    }

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
        if is_blank(&record, width) {
            // A blank line: skipped, like every spreadsheet does.
            continue;
        }
        row_index.push(start, line);
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
            let Some(i) = index[f].filter(|_| !column.is_skipped()) else {
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

    let _ = rows.index.set(row_index);
    let columns = finish_columns(entity, columns, problems, &source.shown)?;
    let undeclared = undeclared_columns(entity, &headers);
    Some(Read {
        columns,
        rows: Some(rows),
        undeclared,
    })
}

/// The header's columns that no field names, in file order.
fn undeclared_columns(entity: &EntityDef, headers: &[String]) -> Vec<String> {
    let mut undeclared: Vec<String> = Vec::new();
    for h in headers {
        if !h.is_empty() && !entity.fields.iter().any(|f| f.name == *h) && !undeclared.contains(h) {
            undeclared.push(h.clone());
        }
    }
    undeclared
}

/// Files smaller than this are read on one thread.
const PARALLEL_FROM: usize = 1 << 22;

/// How to read the data records of a CSV file in pieces, one piece per thread.
struct Chunking<'a> {
    delimiter: u8,
    width: usize,
    /// The file column of each field.
    index: &'a [Option<usize>],
    wanted: &'a [bool],
    missing: &'a [String],
    list_separator: char,
}

/// The columns of one piece, and where its last record ends.
struct Piece {
    columns: Vec<ArrayRef>,
    end: usize,
}

impl Chunking<'_> {
    /// The columns of the whole file, or `None` when the file is small, or when a piece found a
    /// problem or did not end where the next one starts (a line break inside quotes).
    fn read(
        &self,
        bytes: &[u8],
        from: usize,
        entity: &EntityDef,
        program: &crate::ir::Program,
        zone: &jiff::tz::TimeZone,
    ) -> Option<Vec<ArrayRef>> {
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let len = bytes.len().saturating_sub(from);
        if threads < 2 || len < PARALLEL_FROM {
            return None;
        }
        // Each piece starts right after a line break near its share of the bytes.
        let mut starts = vec![from];
        for k in 1..threads {
            let nominal = from + len / threads * k;
            let next = bytes
                .get(nominal..)?
                .iter()
                .position(|b| *b == b'\n')
                .map(|p| nominal + p + 1)?;
            if next > *starts.last()? && next < bytes.len() {
                starts.push(next);
            }
        }
        let mut bounds: Vec<(usize, usize)> = Vec::new();
        for (k, start) in starts.iter().enumerate() {
            bounds.push((*start, starts.get(k + 1).copied().unwrap_or(bytes.len())));
        }
        let pieces: Vec<Option<Piece>> = std::thread::scope(|scope| {
            let handles: Vec<_> = bounds
                .iter()
                .map(|&(start, stop)| {
                    scope.spawn(move || self.piece(bytes, start, stop, entity, program, zone))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().ok().flatten())
                .collect()
        });
        let mut parts: Vec<Vec<ArrayRef>> = Vec::with_capacity(pieces.len());
        for (k, piece) in pieces.into_iter().enumerate() {
            let piece = piece?;
            // The piece must end exactly where the next one was started.
            let expected = bounds.get(k + 1).map_or(bytes.len(), |b| b.0);
            if piece.end != expected {
                return None;
            }
            parts.push(piece.columns);
        }
        let mut columns = Vec::with_capacity(entity.fields.len());
        for f in 0..entity.fields.len() {
            let pieces: Vec<ArrayRef> = parts.iter().map(|p| Arc::clone(&p[f])).collect();
            columns.push(join(pieces)?);
        }
        Some(columns)
    }

    /// Reads the records that start in `start..stop` (the last may run past `stop`); `None` at
    /// the first problem.
    fn piece(
        &self,
        bytes: &[u8],
        start: usize,
        stop: usize,
        entity: &EntityDef,
        program: &crate::ir::Program,
        zone: &jiff::tz::TimeZone,
    ) -> Option<Piece> {
        let mut reader = ::csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes.get(start..)?);
        let mut columns: Vec<Column> = entity
            .fields
            .iter()
            .enumerate()
            .map(|(f, def)| {
                if self.wanted.get(f).copied().unwrap_or(true) && self.index[f].is_some() {
                    Column::new(&def.ty, program, zone, self.list_separator)
                } else {
                    Column::skipped(&def.ty)
                }
            })
            .collect();
        let mut record = ::csv::ByteRecord::new();
        let mut end = bytes.len();
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(_) => return None,
            }
            let at = start + usize::try_from(record.position()?.byte()).ok()?;
            if at >= stop {
                end = at;
                break;
            }
            if is_blank(&record, self.width) {
                continue;
            }
            if record.len() != self.width {
                return None;
            }
            for (f, column) in columns.iter_mut().enumerate() {
                let Some(i) = self.index[f].filter(|_| !column.is_skipped()) else {
                    column.push_null();
                    continue;
                };
                let text = std::str::from_utf8(record.get(i)?).ok()?;
                let unknown = (text.is_empty() && !column.is_list())
                    || (!self.missing.is_empty() && self.missing.iter().any(|m| m == text));
                if unknown {
                    if !entity.fields[f].optional {
                        return None;
                    }
                    column.push_null();
                } else if column.push_text(text).is_err() {
                    return None;
                }
            }
        }
        let mut arrays = Vec::with_capacity(columns.len());
        for (column, def) in columns.into_iter().zip(&entity.fields) {
            arrays.push(column.finish(&def.ty).ok()?);
        }
        Some(Piece {
            columns: arrays,
            end,
        })
    }
}

/// One column from the pieces of it, in order; decimals are brought to the largest scale of
/// any piece first (`None` if a value then needs more than 38 digits).
fn join(pieces: Vec<ArrayRef>) -> Option<ArrayRef> {
    use datafusion::arrow::array::Array as _;
    use datafusion::arrow::datatypes::DataType;
    let scale = pieces
        .iter()
        .filter_map(|p| match p.data_type() {
            DataType::Decimal128(_, s) => Some(*s),
            _ => None,
        })
        .max();
    let pieces: Vec<ArrayRef> = match scale {
        Some(scale) => {
            let to = DataType::Decimal128(38, scale);
            let strict = datafusion::arrow::compute::CastOptions {
                safe: false,
                ..Default::default()
            };
            let mut out = Vec::with_capacity(pieces.len());
            for p in pieces {
                if p.data_type() == &to {
                    out.push(p);
                } else {
                    out.push(datafusion::arrow::compute::cast_with_options(&p, &to, &strict).ok()?);
                }
            }
            out
        }
        None => pieces,
    };
    if pieces.len() == 1 {
        return pieces.into_iter().next();
    }
    let refs: Vec<&dyn datafusion::arrow::array::Array> =
        pieces.iter().map(AsRef::as_ref).collect();
    datafusion::arrow::compute::concat(&refs).ok()
}

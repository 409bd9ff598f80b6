//! Reading a data file into columns of cells, without a schema, the way the loader reads it.

use super::{Cell, DataFile};
use crate::diagnostics::{Code, Diagnostic};
use crate::engine::load::DataFormat;
use crate::engine::load::json::{self, Json};
use crate::engine::load::peek::{self, PeekKind};
use crate::source::Span;

/// One column: its name (as the loader matches it), what a Parquet type says about it, and its
/// values.
pub struct RawColumn {
    pub name: String,
    pub kind: Option<PeekKind>,
    pub cells: Vec<Cell>,
}

/// A file's columns in file order.
pub struct Table {
    pub columns: Vec<RawColumn>,
    pub rows: usize,
    /// The CSV separator when it is not the loader's default for the file's extension.
    pub delimiter: Option<u8>,
}

type Failed = Box<Diagnostic>;

fn not_in_format(file: &DataFile<'_>, span: Span, format: DataFormat, why: String) -> Failed {
    let help = match format {
        DataFormat::Csv => {
            "a CSV file starts with a header row naming the columns, such as `id,region,arr`, then one row per record"
        }
        DataFormat::Ndjson => {
            "an NDJSON file has one complete JSON object per line, such as `{\"id\": \"c1\", \"arr\": 1200.50}`"
        }
        DataFormat::Parquet => {
            "check that the file really is Parquet; a CSV or JSON file needs the matching extension"
        }
    };
    Box::new(
        Diagnostic::new(
            Code::E0601,
            span,
            format!("`{}` cannot be read as {}", file.name, format.name()),
        )
        .label(why)
        .help(help),
    )
}

fn no_records(file: &DataFile<'_>, span: Span) -> Failed {
    Box::new(
        Diagnostic::new(
            Code::E0852,
            span,
            format!("`{}` holds no records", file.name),
        )
        .label("there is nothing to guess the fields from")
        .help("export the data again with its rows, or give segl another file with at least a few records"),
    )
}

/// Reads `file` as `format`.
pub fn table(file: &DataFile<'_>, format: DataFormat, span: Span) -> Result<Table, Failed> {
    let table = match format {
        DataFormat::Csv => csv(file, span)?,
        DataFormat::Ndjson => ndjson(file, span)?,
        DataFormat::Parquet => {
            let (columns, rows) =
                peek::parquet(file.bytes).map_err(|why| not_in_format(file, span, format, why))?;
            Table {
                columns: columns
                    .into_iter()
                    .map(|c| RawColumn {
                        name: c.name,
                        kind: Some(c.kind),
                        cells: c.cells,
                    })
                    .collect(),
                rows,
                delimiter: None,
            }
        }
    };
    if table.rows == 0 {
        return Err(no_records(file, span));
    }
    Ok(table)
}

fn text_of<'a>(file: &DataFile<'a>, span: Span, format: DataFormat) -> Result<&'a str, Failed> {
    let bytes = file
        .bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(file.bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes
            .get(..e.valid_up_to())
            .map_or(1, |b| b.iter().filter(|c| **c == b'\n').count() + 1);
        let mut d = not_in_format(
            file,
            span,
            format,
            format!("line {line} has bytes that are not UTF-8 text"),
        );
        *d = d.clone().help(
            "save the file as UTF-8 (in Excel: \"CSV UTF-8\"; in LibreOffice: character set \"Unicode (UTF-8)\")",
        );
        d
    })
}

fn csv(file: &DataFile<'_>, span: Span) -> Result<Table, Failed> {
    let text = text_of(file, span, DataFormat::Csv)?;
    let tsv = file.name.to_ascii_lowercase().ends_with(".tsv");
    let default = if tsv { b'\t' } else { b',' };
    let first_line = text.lines().next().unwrap_or("");
    // A spreadsheet saved with a `;` separator (common where `,` is the decimal point).
    let delimiter = if !tsv && !first_line.contains(',') && first_line.contains(';') {
        b';'
    } else {
        default
    };
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = ::csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => {}
        Ok(false) => return Err(no_records(file, span)),
        Err(e) => {
            return Err(not_in_format(
                file,
                span,
                DataFormat::Csv,
                format!("it is not valid CSV: {e}"),
            ));
        }
    }
    let mut columns: Vec<RawColumn> = record
        .iter()
        .map(|h| RawColumn {
            name: h.trim().to_owned(),
            kind: None,
            cells: Vec::new(),
        })
        .collect();
    let width = columns.len();
    let mut rows = 0usize;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(not_in_format(
                    file,
                    span,
                    DataFormat::Csv,
                    format!("reading stopped: {e}"),
                ));
            }
        }
        if record.len() == 1 && width > 1 && record.get(0).is_some_and(str::is_empty) {
            continue;
        }
        rows += 1;
        if record.len() != width {
            let line = record.position().map_or(0, ::csv::Position::line);
            return Err(not_in_format(
                file,
                span,
                DataFormat::Csv,
                format!(
                    "line {line} has {} values, but the header names {width} columns",
                    record.len()
                ),
            ));
        }
        for (column, value) in columns.iter_mut().zip(record.iter()) {
            column.cells.push(if value.is_empty() {
                Cell::Missing
            } else {
                Cell::Text(value.to_owned())
            });
        }
    }
    Ok(Table {
        columns,
        rows,
        delimiter: (delimiter != default).then_some(delimiter),
    })
}

fn cell(value: &Json<'_>) -> Cell {
    match value {
        Json::Null => Cell::Missing,
        Json::Bool(b) => Cell::Bool(*b),
        Json::Number(n) => Cell::Number((*n).to_owned()),
        Json::Str(s) => Cell::Text(s.clone().into_owned()),
        Json::Array(items) => Cell::List(items.iter().map(cell).collect()),
        Json::Object => Cell::Other,
    }
}

fn ndjson(file: &DataFile<'_>, span: Span) -> Result<Table, Failed> {
    let text = text_of(file, span, DataFormat::Ndjson)?;
    let mut columns: Vec<RawColumn> = Vec::new();
    let mut rows = 0usize;
    for (n, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let members = json::object(line).map_err(|bad| {
            not_in_format(
                file,
                span,
                DataFormat::Ndjson,
                format!("line {} is not a JSON object: {}", n + 1, bad.reason),
            )
        })?;
        for m in members {
            let at = match columns.iter().position(|c| c.name == m.key) {
                Some(at) => at,
                None => {
                    // A key first seen on this line: absent (unknown) on the lines before.
                    columns.push(RawColumn {
                        name: m.key.clone().into_owned(),
                        kind: None,
                        cells: vec![Cell::Missing; rows],
                    });
                    columns.len() - 1
                }
            };
            if let Some(column) = columns.get_mut(at)
                && column.cells.len() == rows
            {
                column.cells.push(cell(&m.value));
            }
        }
        rows += 1;
        for column in &mut columns {
            if column.cells.len() < rows {
                column.cells.push(Cell::Missing);
            }
        }
    }
    Ok(Table {
        columns,
        rows,
        delimiter: None,
    })
}

//! Loading data files (CSV, Parquet, NDJSON) into validated Arrow tables, one per entity.
//!
//! This is, with the CLI, the only library code that touches the file system: it opens the
//! paths it is given. Every problem (a missing column, a value that is not of its field's type,
//! an unknown required value, an undeclared enum value, a duplicate key, a record whose related
//! record is missing) is a diagnostic with a code and a span; detailed diagnostics are capped per
//! column and problem so a broken file of millions of rows stays readable.

pub(crate) mod cell;
mod column;
mod csv;
pub(crate) mod json;
mod ndjson;
mod parquet;
pub mod peek;
mod problems;
mod relations;
mod rows;
pub mod stream;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use self::column::{Column, Refusal};
use self::problems::Problems;
pub(crate) use self::problems::RowRef;
use self::rows::RowText;
use crate::diagnostics::{Code, Diagnostic};
use crate::engine::{Dataset, Table};
use crate::ir::usage::Usage;
use crate::ir::{EntityDef, EntityId, FieldId, FieldRef, Program};
use crate::source::{SourceMap, Span};

/// The format of a data file, from its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataFormat {
    /// `.csv`, `.tsv`, `.txt`: a header row, then one record per row.
    Csv,
    /// `.parquet`
    Parquet,
    /// `.ndjson`, `.jsonl`, `.json`: one JSON object per line.
    Ndjson,
}

impl DataFormat {
    /// The format a file name's extension says, ignoring case.
    #[must_use]
    pub fn from_path(path: &str) -> Option<DataFormat> {
        let ext = Path::new(path).extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" | "txt" => Some(DataFormat::Csv),
            "parquet" => Some(DataFormat::Parquet),
            "ndjson" | "jsonl" | "json" => Some(DataFormat::Ndjson),
            _ => None,
        }
    }

    /// The extensions segl reads, for messages.
    pub const EXTENSIONS: &'static str =
        "`.csv`, `.tsv`, `.txt`, `.parquet`, `.ndjson`, `.jsonl` or `.json`";

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            DataFormat::Csv => "CSV",
            DataFormat::Parquet => "Parquet",
            DataFormat::Ndjson => "NDJSON",
        }
    }
}

/// One data file to load for one entity.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSource {
    pub entity: EntityId,
    /// The path to open.
    pub path: PathBuf,
    /// How to name the file in messages (as the user wrote it).
    pub shown: String,
    pub format: DataFormat,
    /// The CSV field separator: `,` by default, a tab for `.tsv`.
    pub delimiter: u8,
    /// Texts that mean "unknown" in this file, besides an empty CSV field, JSON `null` or an
    /// absent key, and Parquet nulls. None by default: `NA` or `-` are ordinary values.
    pub missing: Vec<String>,
    /// The separator of list items inside one CSV field: `|` by default.
    pub list_separator: char,
    /// Where the source is configured (the entry in `segl.toml`), for messages.
    pub entry: Option<Span>,
}

impl DataSource {
    /// A source with the defaults for its format (from the extension; CSV when it says none).
    #[must_use]
    pub fn new(entity: EntityId, path: impl Into<PathBuf>, shown: impl Into<String>) -> Self {
        let path = path.into();
        let shown = shown.into();
        let format = DataFormat::from_path(&shown).unwrap_or(DataFormat::Csv);
        let tsv = shown.to_ascii_lowercase().ends_with(".tsv");
        DataSource {
            entity,
            path,
            shown,
            format,
            delimiter: if tsv { b'\t' } else { b',' },
            missing: Vec::new(),
            list_separator: '|',
            entry: None,
        }
    }
}

/// The validated data and every problem found while loading it.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// One table per entity whose file loaded without errors (warnings allowed).
    pub dataset: Dataset,
    pub diagnostics: Vec<Diagnostic>,
    /// Per file, the columns the schema does not declare (loading ignores them; `segl check
    /// --data` reports them).
    pub undeclared: Vec<UndeclaredColumns>,
}

/// The columns of one data file that no field of its entity names.
#[derive(Clone, Debug, PartialEq)]
pub struct UndeclaredColumns {
    pub entity: EntityId,
    /// The file, as the user gave it.
    pub origin: String,
    /// The column names (NDJSON: keys), in file order.
    pub names: Vec<String>,
    /// Where to point: the first such column in the CSV header, else the file's entry.
    pub span: Span,
}

/// What a file loader hands back: the columns in schema order and the raw text (for excerpts
/// in later checks), or nothing when the file could not be read at all.
struct Read {
    columns: Vec<ArrayRef>,
    rows: Option<RowText>,
    /// Columns (or NDJSON keys) of the file that the schema does not declare, in file order.
    undeclared: Vec<String>,
}

/// A table that loaded, before the checks across tables.
struct Candidate {
    source_index: usize,
    table: Table,
    rows: Option<RowText>,
    ok: bool,
}

/// Loads the sources of the entities `usage` reads, validates them against the schema, and
/// checks keys and relations.
///
/// Only the fields `usage` reads are decoded and checked value by value; every other field
/// of a loaded entity must still be in the file with a fitting type (from the header or the
/// Parquet schema), and its column in the table holds unknown values. Pass
/// [`Usage::everything`] to check every value of every file.
///
/// Timestamps written without an offset are read in `time_zone`. Excerpts of offending lines
/// are added to `source_map` so diagnostics can point into the data files.
#[must_use]
pub fn load(
    program: &Program,
    sources: &[DataSource],
    usage: &Usage,
    time_zone: &jiff::tz::TimeZone,
    source_map: &mut SourceMap,
) -> Loaded {
    load_streaming(
        program,
        sources,
        usage,
        &stream::Streaming::default(),
        time_zone,
        source_map,
    )
}

/// As [`load`], except that the Parquet files of the entities `stream` names are only opened
/// and their schemas checked: the engine reads them piece by piece while it evaluates (see
/// [`stream`]). Keys and relations of those entities are checked by the engine.
#[must_use]
pub fn load_streaming(
    program: &Program,
    sources: &[DataSource],
    usage: &Usage,
    stream: &stream::Streaming,
    time_zone: &jiff::tz::TimeZone,
    source_map: &mut SourceMap,
) -> Loaded {
    let mut diagnostics = Vec::new();
    let mut streamed: Vec<stream::Streamed> = Vec::new();
    let mut undeclared = Vec::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        let Some(entity) = program.entities.get(source.entity.index()) else {
            continue;
        };
        if !usage.reads_entity(source.entity) {
            continue;
        }
        let wanted: Vec<bool> = (0..entity.fields.len())
            .map(|f| {
                usage.reads_field(FieldRef {
                    entity: source.entity,
                    field: FieldId::from_index(f),
                })
            })
            .collect();
        let mut problems = Problems::new(program, entity, &source.shown);
        if stream.entities.contains(&source.entity) && source.format == DataFormat::Parquet {
            let opened = parquet::open(
                source,
                entity,
                time_zone,
                &wanted,
                &mut problems,
                source_map,
            );
            let ok = !problems.has_errors();
            diagnostics.extend(problems.finish());
            if let (Some(opened), true) = (opened, ok) {
                streamed.push(stream::Streamed {
                    entity: source.entity,
                    source: source.clone(),
                    wanted,
                    rows: opened.rows(),
                    piece_rows: stream.piece_rows,
                });
            }
            continue;
        }
        let read = match source.format {
            DataFormat::Csv => csv::read(
                source,
                entity,
                time_zone,
                &wanted,
                &mut problems,
                source_map,
            ),
            DataFormat::Ndjson => ndjson::read(
                source,
                entity,
                time_zone,
                &wanted,
                &mut problems,
                source_map,
            ),
            DataFormat::Parquet => parquet::read(
                source,
                entity,
                time_zone,
                &wanted,
                &mut problems,
                source_map,
            ),
        };
        let ok = !problems.has_errors();
        diagnostics.extend(problems.finish());
        let Some(read) = read else { continue };
        if !read.undeclared.is_empty() {
            let span = undeclared_span(source, read.rows.as_ref(), &read.undeclared, source_map);
            undeclared.push(UndeclaredColumns {
                entity: source.entity,
                origin: source.shown.clone(),
                names: read.undeclared.clone(),
                span,
            });
        }
        let Some(batch) = batch(entity, read.columns) else {
            continue;
        };
        candidates.push(Candidate {
            source_index: index,
            table: Table {
                entity: source.entity,
                batch,
                origin: source.shown.clone(),
            },
            rows: read.rows,
            ok,
        });
    }

    // Keys, then relations between the tables that have keys.
    for c in &mut candidates {
        let Some(entity) = program.entities.get(c.table.entity.index()) else {
            continue;
        };
        let found = relations::duplicate_keys(entity, &c.table, c.rows.as_ref(), source_map);
        if found.iter().any(Diagnostic::is_error) {
            c.ok = false;
        }
        diagnostics.extend(found);
    }
    let (found, links) = relations::missing_parents(
        program,
        usage,
        &candidates
            .iter()
            .map(|c| (&c.table, c.rows.as_ref()))
            .collect::<Vec<_>>(),
        source_map,
    );
    diagnostics.extend(found);

    let mut dataset = Dataset::new();
    let mut seen: Vec<EntityId> = Vec::new();
    for c in candidates {
        if c.ok && !seen.contains(&c.table.entity) {
            seen.push(c.table.entity);
            dataset.insert(c.table);
        }
        let _ = c.source_index;
    }
    for (child, field, parent, rows) in links {
        dataset.insert_link(child, field, parent, rows);
    }
    for s in streamed {
        if !seen.contains(&s.entity) {
            seen.push(s.entity);
            dataset.insert_stream(s);
        }
    }
    Loaded {
        dataset,
        diagnostics,
        undeclared,
    }
}

/// The first undeclared column's name in the CSV header excerpt, else the file's entry.
fn undeclared_span(
    source: &DataSource,
    rows: Option<&RowText>,
    names: &[String],
    source_map: &mut SourceMap,
) -> Span {
    let header = rows.and_then(|r| r.header_span(source_map));
    if let (Some(header), Some(first)) = (header, names.first()) {
        let text = source_map.snippet(header).to_owned();
        let mut start = 0;
        for part in text.split(char::from(source.delimiter)) {
            let end = start + part.len();
            if part.trim().trim_matches('"').trim() == first {
                let lead = part.len() - part.trim_start().len();
                let trail = part.len() - part.trim_end().len();
                return Span::new(header.file, start + lead, end - trail);
            }
            start = end + 1;
        }
        return header;
    }
    file_span(source, source_map)
}

pub(crate) use relations::{MissingParents, missing_parent_warning};

/// The record batch of one entity's columns (in schema order).
pub(crate) fn batch(entity: &EntityDef, columns: Vec<ArrayRef>) -> Option<RecordBatch> {
    if columns.len() != entity.fields.len() {
        return None;
    }
    let fields: Vec<Field> = entity
        .fields
        .iter()
        .zip(&columns)
        .map(|(f, c)| Field::new(&f.name, c.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).ok()
}

/// Reads a text data file (CSV, NDJSON) without its byte-order mark, or reports why it cannot be
/// read (E0600).
fn read_bytes(
    source: &DataSource,
    entity: &EntityDef,
    problems: &mut Problems<'_>,
    source_map: &mut SourceMap,
) -> Option<Vec<u8>> {
    match std::fs::read(&source.path) {
        Ok(mut bytes) => {
            if bytes.starts_with(b"\xEF\xBB\xBF") {
                bytes.drain(..3);
            }
            Some(bytes)
        }
        Err(err) => {
            problems.push(cannot_read(source, entity, &err, source_map));
            None
        }
    }
}

/// The bytes of a data file as they are (byte-order mark included), for a fingerprint of the data
/// a run read; E0600 when the file cannot be read.
///
/// # Errors
/// When the file cannot be read: E0600, pointing at its entry in `segl.toml`.
#[allow(clippy::result_large_err)]
pub fn file_bytes(
    program: &Program,
    source: &DataSource,
    source_map: &mut SourceMap,
) -> Result<Vec<u8>, Diagnostic> {
    std::fs::read(&source.path).map_err(|err| {
        let entity = program.entity(source.entity);
        cannot_read(source, entity, &err, source_map)
    })
}

fn cannot_read(
    source: &DataSource,
    entity: &EntityDef,
    err: &std::io::Error,
    source_map: &mut SourceMap,
) -> Diagnostic {
    let (what, help) = match err.kind() {
        std::io::ErrorKind::NotFound => (
            "does not exist".to_owned(),
            "check the path: it is relative to the project folder (where `segl.toml` is)",
        ),
        std::io::ErrorKind::PermissionDenied => (
            "cannot be opened: permission denied".to_owned(),
            "make the file readable for the user running segl",
        ),
        _ if source.path.is_dir() => (
            "is a folder, not a file".to_owned(),
            "name one data file per entity",
        ),
        _ => (
            format!("cannot be read: {err}"),
            "check that the file exists and is readable",
        ),
    };
    let message = format!("the data file `{}` {what}", source.shown);
    let d = match source.entry {
        Some(entry) => Diagnostic::new(Code::E0600, entry, message)
            .label(format!("the data of `{}` is read from here", entity.name)),
        None => {
            let file = source_map.add(source.shown.clone(), "");
            Diagnostic::new(Code::E0600, Span::new(file, 0, 0), message)
                .secondary(entity.span, format!("the data of `{}`", entity.name))
        }
    };
    d.help(help)
}

/// A span for a problem with the whole file: its configuration entry, or the file's name.
fn file_span(source: &DataSource, source_map: &mut SourceMap) -> Span {
    match source.entry {
        Some(entry) => entry,
        None => {
            let file = source_map.add(source.shown.clone(), "");
            Span::new(file, 0, 0)
        }
    }
}

/// Handles one value of a text file: unknown or not, and what its column says about it.
///
/// `text` is `None` for an absent value (a JSON key that is not there).
#[allow(clippy::too_many_arguments)]
fn take_value(
    problems: &mut Problems<'_>,
    column: &mut Column,
    field: usize,
    unknown: bool,
    push: impl FnOnce(&mut Column) -> Result<(), Refusal>,
    written: impl Fn() -> String,
    row: RowRef,
    at: &mut dyn FnMut() -> Span,
) {
    let def = &problems.entity.fields[field];
    if unknown {
        column.push_null();
        if !def.optional && problems.admit(Code::E0604, Some(field)) {
            let span = at();
            let d = required_unknown(problems, field, row, span);
            problems.push(d);
        }
        return;
    }
    match push(column) {
        Ok(()) => {}
        Err(Refusal::Undeclared(value)) => {
            problems.undeclared(field, &value, row, at);
        }
        Err(Refusal::Invalid(rejected)) => {
            if problems.admit(Code::E0603, Some(field)) {
                let span = at();
                let expected = match &def.ty {
                    crate::ir::Type::Bool => "`true` or `false`".to_owned(),
                    ty => problems.program.describe_type(ty),
                };
                let mut d = Diagnostic::new(
                    Code::E0603,
                    span,
                    format!(
                        "`{}` in column `{}` is not {expected}",
                        shorten(&written()),
                        def.name
                    ),
                )
                .label(rejected.reason);
                if span != def.span {
                    d = d.secondary(def.span, format!("`{}` is declared here", def.name));
                }
                if let Some(hint) = rejected.hint {
                    d = d.help(hint);
                }
                d = d.note(format!("{} of `{}`", row.describe(), problems.shown));
                problems.push(d);
            }
        }
    }
}

fn required_unknown(problems: &Problems<'_>, field: usize, row: RowRef, span: Span) -> Diagnostic {
    let def = &problems.entity.fields[field];
    let d = Diagnostic::new(
        Code::E0604,
        span,
        format!(
            "`{}` is unknown in {}, but every {} must have one",
            def.name,
            row.describe(),
            problems.entity.name
        ),
    )
    .label(if span == def.span {
        format!("`{}` is not declared `optional`", def.name)
    } else {
        "no value here".to_owned()
    });
    let d = if span == def.span {
        d.note(format!("{} of `{}`", row.describe(), problems.shown))
    } else {
        d.secondary(
            def.span,
            format!("`{}` is not declared `optional`", def.name),
        )
    };
    d.help(format!(
        "fill in the value in `{}`, or add `optional` to `{}` in the schema if it may be unknown",
        problems.shown, def.name
    ))
}

/// A value cut to a length that fits in a message.
fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}...")
    }
}

/// The missing-column diagnostic (E0602), with the columns that are there.
fn missing_column(
    problems: &Problems<'_>,
    field: usize,
    found: &[String],
    header: Option<Span>,
    what: &str,
) -> Diagnostic {
    let def = &problems.entity.fields[field];
    let mut d = Diagnostic::new(
        Code::E0602,
        def.span,
        format!("`{}` has no {what} `{}`", problems.shown, def.name),
    )
    .label(format!(
        "every field of `{}` needs a {what} in its data file",
        problems.entity.name
    ));
    if let Some(h) = header {
        d = d.secondary(h, "the columns of the file");
    }
    let candidates: Vec<crate::diagnostics::suggest::Candidate<'_>> = found
        .iter()
        .map(|c| crate::diagnostics::suggest::Candidate::plain(c))
        .collect();
    let nearest = crate::diagnostics::suggest::nearest(&def.name, &candidates);
    let mut nearest: Vec<&str> = nearest
        .into_iter()
        .filter(|n| !problems.entity.fields.iter().any(|f| f.name == *n))
        .collect();
    nearest.truncate(1);
    match nearest.first() {
        Some(best) => {
            d = d.help(format!(
                "the file has `{best}`: rename that {what} to `{}`, or rename the field in the schema",
                def.name
            ));
        }
        None if def.optional => {
            d = d.help(format!(
                "add a {what} `{}` (it may be left empty, as the field is optional)",
                def.name
            ));
        }
        None => {
            d = d.help(format!(
                "add a {what} `{}` with a value in every row",
                def.name
            ));
        }
    }
    let listed: Vec<String> = found.iter().take(20).map(|c| format!("`{c}`")).collect();
    let more = found.len().saturating_sub(20);
    let mut note = if listed.is_empty() {
        format!("`{}` has no {what}s", problems.shown)
    } else {
        format!("the {what}s found are {}", listed.join(", "))
    };
    if more > 0 {
        note.push_str(&format!(" and {more} more"));
    }
    d.note(note)
}

/// Finishes the columns of a text file into arrays; `None` when a decimal column overflows.
fn finish_columns(
    entity: &EntityDef,
    columns: Vec<Column>,
    problems: &mut Problems<'_>,
    shown: &str,
) -> Option<Vec<ArrayRef>> {
    let mut arrays = Vec::with_capacity(columns.len());
    for (column, def) in columns.into_iter().zip(&entity.fields) {
        match column.finish(&def.ty) {
            Ok(a) => arrays.push(a),
            Err(why) => {
                problems.push(
                    Diagnostic::new(
                        Code::E0603,
                        def.span,
                        format!("the decimals in column `{}` of `{shown}` do not fit", def.name),
                    )
                    .label(why)
                    .help("segl keeps decimals to 38 digits in all; round the values that have many digits after the point"),
                );
                return None;
            }
        }
    }
    Some(arrays)
}

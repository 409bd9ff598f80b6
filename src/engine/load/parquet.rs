//! Parquet files: each column's type is checked against its field's type, then converted to
//! the engine's types (integers of any width, decimals, timestamps in any unit and zone).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, ListArray, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::compute::{CastOptions, cast_with_options, concat};
use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};

use super::column::Column;
use super::problems::{Problems, RowRef};
use super::{DataSource, Read, file_span, missing_column, take_value};
use crate::diagnostics::{Code, Diagnostic};
use crate::engine::types::{MAX_DECIMAL_SCALE, UTC, arrow_type};
use crate::ir::{EntityDef, Type};
use crate::source::SourceMap;

/// A Parquet file whose schema was checked against its entity: where each field is, and which
/// columns are decoded.
pub(super) struct Opened {
    metadata: ArrowReaderMetadata,
    /// The file column of each field.
    index: Vec<Option<usize>>,
    /// The file columns decoded (those of the fields read), in file order.
    decoded: Vec<usize>,
    /// Columns the schema does not declare, in file order.
    undeclared: Vec<String>,
}

impl Opened {
    /// How many records the file holds.
    pub(super) fn rows(&self) -> usize {
        usize::try_from(self.metadata.metadata().file_metadata().num_rows()).unwrap_or(0)
    }
}

fn not_parquet(source: &DataSource, why: String, sources: &mut SourceMap) -> Diagnostic {
    Diagnostic::new(
        Code::E0601,
        file_span(source, sources),
        format!("`{}` cannot be read as a Parquet file", source.shown),
    )
    .label(why)
    .help("check that the file really is Parquet (its name ends in `.parquet`); a CSV or JSON file needs the matching extension")
}

/// Opens a Parquet file and checks its schema: every field has a column, and every column
/// has a type its field can take (for fields the run does not read, from the schema alone).
pub(super) fn open(
    source: &DataSource,
    entity: &EntityDef,
    zone: &jiff::tz::TimeZone,
    wanted: &[bool],
    problems: &mut Problems<'_>,
    sources: &mut SourceMap,
) -> Option<Opened> {
    let file = match std::fs::File::open(&source.path) {
        Ok(f) => f,
        Err(err) => {
            problems.push(super::cannot_read(source, entity, &err, sources));
            return None;
        }
    };
    let metadata = match ArrowReaderMetadata::load(&file, ArrowReaderOptions::default()) {
        Ok(m) => m,
        Err(e) => {
            problems.push(not_parquet(source, e.to_string(), sources));
            return None;
        }
    };
    let schema = Arc::clone(metadata.schema());
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut index: Vec<Option<usize>> = Vec::new();
    for (f, def) in entity.fields.iter().enumerate() {
        let at = names.iter().position(|n| *n == def.name);
        if at.is_none() {
            let d = missing_column(problems, f, &names, None, "column");
            problems.push(d);
        }
        index.push(at);
    }
    let read_field = |f: usize| wanted.get(f).copied().unwrap_or(true);
    // Only the columns of fields the run reads are decoded; the others are checked for their
    // type from the file's schema alone.
    let mut decoded: Vec<usize> = Vec::new();
    for (f, def) in entity.fields.iter().enumerate() {
        let Some(i) = index[f] else { continue };
        if read_field(f) {
            decoded.push(i);
        } else {
            let empty = datafusion::arrow::array::new_empty_array(schema.field(i).data_type());
            if let Err(why) = convert(&empty, &def.ty, f, zone, 0, problems) {
                problems.push(wrong_type(problems, f, empty.data_type(), &why));
            }
        }
    }
    decoded.sort_unstable();
    decoded.dedup();
    let undeclared = names
        .iter()
        .filter(|n| !entity.fields.iter().any(|f| f.name == **n))
        .cloned()
        .collect();
    Some(Opened {
        metadata,
        index,
        decoded,
        undeclared,
    })
}

/// The columns of the fields, in schema order, from the decoded file columns of some rows
/// (`decoded[k]` holds file column `opened.decoded[k]`); `offset` is the first row's number.
/// Fields not read, or whose column has the wrong type, hold unknown values.
#[allow(clippy::too_many_arguments)]
fn fields_of(
    opened: &Opened,
    mut decoded: Vec<ArrayRef>,
    rows: usize,
    offset: usize,
    entity: &EntityDef,
    zone: &jiff::tz::TimeZone,
    problems: &mut Problems<'_>,
) -> Vec<ArrayRef> {
    let mut columns = Vec::with_capacity(entity.fields.len());
    for (f, def) in entity.fields.iter().enumerate() {
        let unknown = || datafusion::arrow::array::new_null_array(&arrow_type(&def.ty, 0), rows);
        let Some(k) = opened.index[f].and_then(|i| opened.decoded.iter().position(|d| *d == i))
        else {
            columns.push(unknown());
            continue;
        };
        // Field names are unique, so each decoded column belongs to one field.
        let whole = std::mem::replace(
            &mut decoded[k],
            datafusion::arrow::array::new_empty_array(&DataType::Null),
        );
        let converted = match convert(&whole, &def.ty, f, zone, offset, problems) {
            Ok(a) => a,
            Err(why) => {
                // Reported once, for the first rows.
                if offset == 0 {
                    problems.push(wrong_type(problems, f, whole.data_type(), &why));
                }
                columns.push(unknown());
                continue;
            }
        };
        check_values(&converted, &def.ty, f, offset, problems);
        columns.push(converted);
    }
    columns
}

pub(super) fn read(
    source: &DataSource,
    entity: &EntityDef,
    zone: &jiff::tz::TimeZone,
    wanted: &[bool],
    problems: &mut Problems<'_>,
    sources: &mut SourceMap,
) -> Option<Read> {
    let opened = open(source, entity, zone, wanted, problems, sources)?;
    let decoded = match decode(&source.path, &opened.metadata, &opened.decoded) {
        Ok(parts) => parts,
        Err(why) => {
            problems.push(not_parquet(source, why, sources));
            return None;
        }
    };
    let rows = opened.rows();
    let columns = fields_of(&opened, decoded, rows, 0, entity, zone, problems);
    Some(Read {
        columns,
        rows: None,
        undeclared: opened.undeclared,
    })
}

/// One column of a Parquet file as stored, by name; `None` when it cannot be read.
pub(super) fn read_column(source: &DataSource, name: &str) -> Option<ArrayRef> {
    let file = std::fs::File::open(&source.path).ok()?;
    let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default()).ok()?;
    let at = metadata
        .schema()
        .fields()
        .iter()
        .position(|f| f.name() == name)?;
    decode(&source.path, &metadata, &[at])
        .ok()?
        .into_iter()
        .next()
}

/// A Parquet file read a piece of rows at a time, each piece converted and checked like a
/// whole file (see [`super::stream`]).
pub(super) struct Pieces {
    opened: Opened,
    reader: datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReader,
    next_row: usize,
}

impl Pieces {
    pub(super) fn new(
        opened: Opened,
        source: &DataSource,
        rows_per_piece: usize,
    ) -> Result<Pieces, String> {
        let file = std::fs::File::open(&source.path).map_err(|e| e.to_string())?;
        let builder =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, opened.metadata.clone());
        let mask = ProjectionMask::roots(builder.parquet_schema(), opened.decoded.iter().copied());
        let reader = builder
            .with_projection(mask)
            .with_batch_size(rows_per_piece.max(1))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Pieces {
            opened,
            reader,
            next_row: 0,
        })
    }

    pub(super) fn rows(&self) -> usize {
        self.opened.rows()
    }

    /// The next rows' field columns, in schema order; `Err` when the file cannot be read on.
    pub(super) fn next(
        &mut self,
        entity: &EntityDef,
        zone: &jiff::tz::TimeZone,
        problems: &mut Problems<'_>,
    ) -> Option<Result<Vec<ArrayRef>, String>> {
        let batch = match self.reader.next()? {
            Ok(b) => b,
            Err(e) => return Some(Err(e.to_string())),
        };
        let rows = batch.num_rows();
        let offset = self.next_row;
        self.next_row += rows;
        let decoded = batch.columns().to_vec();
        Some(Ok(fields_of(
            &self.opened,
            decoded,
            rows,
            offset,
            entity,
            zone,
            problems,
        )))
    }
}

/// One piece of decoding work: some columns of some row groups.
struct Task {
    columns: Vec<usize>,
    row_groups: Vec<usize>,
}

/// Decodes the given root columns of a Parquet file on as many threads as segl may use: the
/// columns are shared out by their compressed size, or, with fewer columns than threads, the
/// row groups are. Returns one array per column (in `columns` order, concatenated over the row
/// groups).
fn decode(
    path: &std::path::Path,
    metadata: &ArrowReaderMetadata,
    columns: &[usize],
) -> Result<Vec<ArrayRef>, String> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let row_groups = metadata.metadata().num_row_groups();
    let tasks = plan(metadata, columns, threads, row_groups);
    let results: Vec<Result<Vec<Vec<ArrayRef>>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = tasks
            .iter()
            .map(|task| scope.spawn(move || decode_task(path, metadata, task)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("reading the file failed unexpectedly".to_owned()))
            })
            .collect()
    });
    // Per task, per column of the task, the pieces in row order.
    let mut per_task = Vec::with_capacity(results.len());
    for r in results {
        per_task.push(r?);
    }
    // Each column from its pieces in row order: tasks over row groups come in file order, and a
    // task over some columns covers every row group. Pieces are let go as soon as their column
    // is whole, so at most one column is held twice.
    let mut out = Vec::with_capacity(columns.len());
    for &c in columns {
        let mut pieces: Vec<ArrayRef> = Vec::new();
        for (task, arrays) in tasks.iter().zip(per_task.iter_mut()) {
            if let Some(k) = task.columns.iter().position(|t| *t == c) {
                pieces.append(&mut arrays[k]);
            }
        }
        let whole = match pieces.len() {
            0 => datafusion::arrow::array::new_empty_array(metadata.schema().field(c).data_type()),
            1 => pieces.swap_remove(0),
            _ => {
                let refs: Vec<&dyn Array> = pieces.iter().map(AsRef::as_ref).collect();
                concat(&refs).map_err(|e| e.to_string())?
            }
        };
        out.push(whole);
    }
    Ok(out)
}

/// Shares the work out: columns by their compressed size when there are enough of them, else
/// row groups in contiguous runs.
fn plan(
    metadata: &ArrowReaderMetadata,
    columns: &[usize],
    threads: usize,
    row_groups: usize,
) -> Vec<Task> {
    let all_groups: Vec<usize> = (0..row_groups).collect();
    if threads <= 1 || (columns.len() < 2 && row_groups < 2) {
        return vec![Task {
            columns: columns.to_vec(),
            row_groups: all_groups,
        }];
    }
    if columns.len() >= threads {
        let descr = metadata.metadata().file_metadata().schema_descr();
        let mut size = vec![0i64; metadata.schema().fields().len()];
        for rg in metadata.metadata().row_groups() {
            for (leaf, chunk) in rg.columns().iter().enumerate() {
                let root = descr.get_column_root_idx(leaf);
                if let Some(s) = size.get_mut(root) {
                    *s += chunk.compressed_size();
                }
            }
        }
        let mut order: Vec<usize> = columns.to_vec();
        order.sort_by_key(|c| std::cmp::Reverse(size.get(*c).copied().unwrap_or(0)));
        let mut tasks: Vec<(i64, Task)> = (0..threads)
            .map(|_| {
                (
                    0,
                    Task {
                        columns: Vec::new(),
                        row_groups: all_groups.clone(),
                    },
                )
            })
            .collect();
        for c in order {
            if let Some((load, task)) = tasks.iter_mut().min_by_key(|(load, _)| *load) {
                *load += size.get(c).copied().unwrap_or(0).max(1);
                task.columns.push(c);
            }
        }
        return tasks
            .into_iter()
            .map(|(_, t)| t)
            .filter(|t| !t.columns.is_empty())
            .collect();
    }
    let per = row_groups.div_ceil(threads).max(1);
    all_groups
        .chunks(per)
        .map(|groups| Task {
            columns: columns.to_vec(),
            row_groups: groups.to_vec(),
        })
        .collect()
}

/// Decodes one task's columns: per column (in the task's order), its pieces in row order.
/// Pieces are whole row groups, so a file of one row group needs no joining afterwards.
fn decode_task(
    path: &std::path::Path,
    metadata: &ArrowReaderMetadata,
    task: &Task,
) -> Result<Vec<Vec<ArrayRef>>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let groups = metadata.metadata().row_groups();
    let largest = task
        .row_groups
        .iter()
        .filter_map(|g| groups.get(*g))
        .map(|g| usize::try_from(g.num_rows()).unwrap_or(0))
        .max()
        .unwrap_or(0)
        .max(1);
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata.clone());
    let mask = ProjectionMask::roots(builder.parquet_schema(), task.columns.iter().copied());
    let reader = builder
        .with_projection(mask)
        .with_row_groups(task.row_groups.clone())
        .with_batch_size(largest)
        .build()
        .map_err(|e| e.to_string())?;
    // The reader's batches have the task's columns in file order.
    let mut in_file_order = task.columns.clone();
    in_file_order.sort_unstable();
    let mut pieces: Vec<Vec<ArrayRef>> = vec![Vec::new(); task.columns.len()];
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        for (column, root) in batch.columns().iter().zip(&in_file_order) {
            if let Some(k) = task.columns.iter().position(|t| t == root) {
                pieces[k].push(Arc::clone(column));
            }
        }
    }
    Ok(pieces)
}

/// Why a column's type does not fit its field, in plain words (with a fix when there is one).
struct Misfit {
    reason: String,
    help: Option<String>,
}

fn misfit(reason: impl Into<String>) -> Misfit {
    Misfit {
        reason: reason.into(),
        help: None,
    }
}

fn wrong_type(problems: &Problems<'_>, field: usize, found: &DataType, why: &Misfit) -> Diagnostic {
    let def = &problems.entity.fields[field];
    let expected = problems.program.describe_type(&def.ty);
    let mut d = Diagnostic::new(
        Code::E0607,
        def.span,
        format!(
            "column `{}` of `{}` holds {}, but `{}` is {expected}",
            def.name,
            problems.shown,
            describe_arrow(found),
            def.name
        ),
    )
    .label(why.reason.clone());
    if let Some(h) = &why.help {
        d = d.help(h.clone());
    }
    d
}

fn describe_arrow(dt: &DataType) -> String {
    match dt {
        DataType::Boolean => "true/false values".into(),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            format!("whole numbers ({dt})")
        }
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
            format!("whole numbers ({dt})")
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            format!("floating-point numbers ({dt})")
        }
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => {
            format!("decimals with {p} digits, {s} after the point")
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "texts".into(),
        DataType::Date32 | DataType::Date64 => "dates".into(),
        DataType::Timestamp(..) => "dates and times".into(),
        DataType::List(f) | DataType::LargeList(f) => {
            format!("lists of {}", describe_arrow(f.data_type()))
        }
        other => format!("values of Parquet/Arrow type {other}"),
    }
}

fn strict() -> CastOptions<'static> {
    CastOptions {
        safe: false,
        ..CastOptions::default()
    }
}

fn cast(array: &ArrayRef, to: &DataType) -> Result<ArrayRef, Misfit> {
    cast_with_options(array, to, &strict())
        .map_err(|e| misfit(format!("it cannot be converted: {e}")))
}

fn is_text(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

fn is_integer(dt: &DataType) -> bool {
    dt.is_integer()
}

/// Converts a column to the engine's type for `ty`.
fn convert(
    array: &ArrayRef,
    ty: &Type,
    field: usize,
    zone: &jiff::tz::TimeZone,
    offset: usize,
    problems: &mut Problems<'_>,
) -> Result<ArrayRef, Misfit> {
    let dt = array.data_type();
    if is_text(dt) && !matches!(ty, Type::Text | Type::Enum(_) | Type::List(_) | Type::Error) {
        return from_text(array, ty, field, zone, offset, problems);
    }
    match ty {
        Type::Text | Type::Enum(_) | Type::Error if is_text(dt) => cast(array, &DataType::Utf8),
        Type::Integer if is_integer(dt) => cast(array, &DataType::Int64),
        Type::Number | Type::Percent if dt.is_numeric() => cast(array, &DataType::Float64),
        Type::Decimal => match dt {
            DataType::Decimal128(_, s) | DataType::Decimal256(_, s) if *s > MAX_DECIMAL_SCALE => {
                Err(misfit(format!(
                    "segl keeps at most {MAX_DECIMAL_SCALE} digits after the decimal point"
                )))
            }
            DataType::Decimal128(_, s) | DataType::Decimal256(_, s) => {
                cast(array, &DataType::Decimal128(38, (*s).max(0)))
            }
            _ if is_integer(dt) => cast(array, &DataType::Decimal128(38, 0)),
            DataType::Float16 | DataType::Float32 | DataType::Float64 => Err(Misfit {
                reason: "floating-point numbers are not exact (0.1 is stored as 0.1000000000000000055...)".into(),
                help: Some("write the column as a Parquet DECIMAL (in pyarrow: `pa.decimal128(18, 2)`; in pandas: `decimal.Decimal` values), or declare the field `number` if approximate values are fine".into()),
            }),
            _ => Err(misfit("it is not a decimal column")),
        },
        Type::Bool if matches!(dt, DataType::Boolean) => Ok(Arc::clone(array)),
        Type::Date if matches!(dt, DataType::Date32 | DataType::Date64) => {
            cast(array, &DataType::Date32)
        }
        Type::Timestamp => match dt {
            DataType::Timestamp(_, Some(_)) => cast(
                array,
                &DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
            ),
            DataType::Timestamp(_, None) => local_timestamps(array, zone),
            DataType::Date32 | DataType::Date64 => Err(Misfit {
                reason: "it holds days without a time of day".into(),
                help: Some("declare the field `date`, or write the column as a timestamp".into()),
            }),
            _ => Err(misfit("it is not a timestamp column")),
        },
        Type::Duration if matches!(dt, DataType::Duration(_)) => {
            cast(array, &DataType::Duration(TimeUnit::Microsecond))
        }
        Type::List(inner) => match dt {
            DataType::List(_) | DataType::LargeList(_) => {
                let list = cast(array, &DataType::List(Arc::new(Field::new("item", inner_type(dt), true))))?;
                let list = list.as_list::<i32>();
                let values = convert(list.values(), inner, field, zone, offset, problems)?;
                let item = Arc::new(Field::new("item", values.data_type().clone(), true));
                ListArray::try_new(item, list.offsets().clone(), values, list.nulls().cloned())
                    .map(|a| Arc::new(a) as ArrayRef)
                    .map_err(|e| misfit(e.to_string()))
            }
            _ => Err(misfit("it is not a list column")),
        },
        Type::Integer if dt.is_floating() => Err(Misfit {
            reason: "whole numbers cannot come from a floating-point column".into(),
            help: Some("write the column as an integer column, or declare the field `number`".into()),
        }),
        _ => Err(misfit(format!(
            "{} cannot be read as {}",
            describe_arrow(dt),
            problems.program.describe_type(ty)
        ))),
    }
}

fn inner_type(dt: &DataType) -> DataType {
    match dt {
        DataType::List(f) | DataType::LargeList(f) => f.data_type().clone(),
        other => other.clone(),
    }
}

/// Timestamps without a zone are wall-clock times: read them in the project's time zone.
fn local_timestamps(array: &ArrayRef, zone: &jiff::tz::TimeZone) -> Result<ArrayRef, Misfit> {
    let micros = cast(array, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
    let micros = micros.as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
    let mut out = Vec::with_capacity(micros.len());
    for i in 0..micros.len() {
        if micros.is_null(i) {
            out.push(None);
            continue;
        }
        let v = micros.value(i);
        let utc = jiff::Timestamp::from_microsecond(v).map_err(|e| misfit(e.to_string()))?;
        let local = jiff::tz::TimeZone::UTC.to_datetime(utc);
        let instant = zone
            .to_ambiguous_timestamp(local)
            .compatible()
            .map_err(|e| misfit(e.to_string()))?;
        out.push(Some(instant.as_microsecond()));
    }
    Ok(Arc::new(
        TimestampMicrosecondArray::from(out).with_timezone(UTC),
    ))
}

/// A text column for a field of another type: each value is read the way a CSV cell is.
fn from_text(
    array: &ArrayRef,
    ty: &Type,
    field: usize,
    zone: &jiff::tz::TimeZone,
    offset: usize,
    problems: &mut Problems<'_>,
) -> Result<ArrayRef, Misfit> {
    let strings = cast(array, &DataType::Utf8)?;
    let Some(strings) = strings.as_any().downcast_ref::<StringArray>() else {
        return Err(misfit("it is not a text column"));
    };
    let mut column = Column::new(ty, problems.program, zone, '|');
    let span = problems.field_span(field);
    for i in 0..strings.len() {
        let row = RowRef {
            row: offset + i,
            line: None,
        };
        if strings.is_null(i) {
            // Unknown values are checked with the others in `check_values`.
            column.push_null();
            continue;
        }
        let text = strings.value(i);
        take_value(
            problems,
            &mut column,
            field,
            false,
            |c| c.push_text(text),
            || text.to_owned(),
            row,
            &mut || span,
        );
    }
    column.finish(ty).map_err(misfit)
}

/// Unknown values in required fields, and undeclared enum values.
/// `offset` is the row number of the array's first value in the file.
fn check_values(
    array: &ArrayRef,
    ty: &Type,
    field: usize,
    offset: usize,
    problems: &mut Problems<'_>,
) {
    let def = &problems.entity.fields[field];
    let span = def.span;
    if !def.optional && array.null_count() > 0 {
        for i in 0..array.len() {
            if array.is_null(i) && problems.admit(Code::E0604, Some(field)) {
                let d = super::required_unknown(
                    problems,
                    field,
                    RowRef {
                        row: offset + i,
                        line: None,
                    },
                    span,
                );
                problems.push(d);
            }
        }
    }
    let (values, rows): (ArrayRef, Vec<usize>) = match (ty, array.data_type()) {
        (Type::Enum(_), DataType::Utf8) => (Arc::clone(array), (0..array.len()).collect()),
        (Type::List(inner), DataType::List(_)) if matches!(inner.as_ref(), Type::Enum(_)) => {
            let list = array.as_list::<i32>();
            let mut rows = Vec::new();
            for (r, w) in list.offsets().windows(2).enumerate() {
                for _ in w[0]..w[1] {
                    rows.push(r);
                }
            }
            let start = usize::try_from(list.offsets()[0]).unwrap_or(0);
            let end = usize::try_from(list.offsets()[list.len()]).unwrap_or(0);
            (list.values().slice(start, end - start), rows)
        }
        _ => return,
    };
    let declared: Vec<String> = match ty {
        Type::Enum(id) => problems
            .program
            .enums
            .get(id.index())
            .map(|e| e.values.clone()),
        Type::List(inner) => match inner.as_ref() {
            Type::Enum(id) => problems
                .program
                .enums
                .get(id.index())
                .map(|e| e.values.clone()),
            _ => None,
        },
        _ => None,
    }
    .unwrap_or_default();
    let Some(strings) = values.as_any().downcast_ref::<StringArray>() else {
        return;
    };
    for i in 0..strings.len() {
        if strings.is_null(i) {
            continue;
        }
        let v = strings.value(i);
        if !declared.iter().any(|d| d == v) {
            let row = RowRef {
                row: offset + rows.get(i).copied().unwrap_or(i),
                line: None,
            };
            problems.undeclared(field, v, row, || span);
        }
    }
}

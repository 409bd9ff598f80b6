//! Parquet files: each column's type is checked against its field's type, then converted to
//! the engine's types (integers of any width, decimals, timestamps in any unit and zone).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, ListArray, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::compute::{CastOptions, cast_with_options, concat};
use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::column::Column;
use super::problems::{Problems, RowRef};
use super::{DataSource, Read, file_span, missing_column, take_value};
use crate::diagnostics::{Code, Diagnostic};
use crate::engine::types::{MAX_DECIMAL_SCALE, UTC, arrow_type};
use crate::ir::{EntityDef, Type};
use crate::source::SourceMap;

pub(super) fn read(
    source: &DataSource,
    entity: &EntityDef,
    zone: &jiff::tz::TimeZone,
    problems: &mut Problems<'_>,
    sources: &mut SourceMap,
) -> Option<Read> {
    let file = match std::fs::File::open(&source.path) {
        Ok(f) => f,
        Err(err) => {
            problems.push(super::cannot_read(source, entity, &err, sources));
            return None;
        }
    };
    let not_parquet = |why: String, sources: &mut SourceMap| {
        Diagnostic::new(
            Code::E0601,
            file_span(source, sources),
            format!("`{}` cannot be read as a Parquet file", source.shown),
        )
        .label(why)
        .help("check that the file really is Parquet (its name ends in `.parquet`); a CSV or JSON file needs the matching extension")
    };
    let builder = match ParquetRecordBatchReaderBuilder::try_new(file) {
        Ok(b) => b,
        Err(e) => {
            problems.push(not_parquet(e.to_string(), sources));
            return None;
        }
    };
    let schema = Arc::clone(builder.schema());
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
    let wanted: Vec<usize> = index.iter().flatten().copied().collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), wanted.iter().copied());
    let reader = match builder.with_projection(mask).build() {
        Ok(r) => r,
        Err(e) => {
            problems.push(not_parquet(e.to_string(), sources));
            return None;
        }
    };
    let mut batches = Vec::new();
    for batch in reader {
        match batch {
            Ok(b) => batches.push(b),
            Err(e) => {
                problems.push(not_parquet(e.to_string(), sources));
                return None;
            }
        }
    }
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut columns = Vec::with_capacity(entity.fields.len());
    for (f, def) in entity.fields.iter().enumerate() {
        let Some(i) = index[f] else {
            columns.push(datafusion::arrow::array::new_null_array(
                &arrow_type(&def.ty, 0),
                rows,
            ));
            continue;
        };
        let name = &names[i];
        let parts: Vec<&dyn Array> = batches
            .iter()
            .filter_map(|b| b.column_by_name(name))
            .map(|c| c.as_ref())
            .collect();
        let whole = if parts.is_empty() {
            datafusion::arrow::array::new_null_array(schema.field(i).data_type(), 0)
        } else {
            match concat(&parts) {
                Ok(a) => a,
                Err(e) => {
                    problems.push(not_parquet(e.to_string(), sources));
                    return None;
                }
            }
        };
        let converted = match convert(&whole, &def.ty, f, zone, problems) {
            Ok(a) => a,
            Err(why) => {
                problems.push(wrong_type(problems, f, whole.data_type(), &why));
                columns.push(datafusion::arrow::array::new_null_array(
                    &arrow_type(&def.ty, 0),
                    whole.len(),
                ));
                continue;
            }
        };
        check_values(&converted, &def.ty, f, problems);
        columns.push(converted);
    }
    let undeclared = names
        .iter()
        .filter(|n| !entity.fields.iter().any(|f| f.name == **n))
        .cloned()
        .collect();
    Some(Read {
        columns,
        rows: None,
        undeclared,
    })
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
    problems: &mut Problems<'_>,
) -> Result<ArrayRef, Misfit> {
    let dt = array.data_type();
    if is_text(dt) && !matches!(ty, Type::Text | Type::Enum(_) | Type::List(_) | Type::Error) {
        return from_text(array, ty, field, zone, problems);
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
                let values = convert(list.values(), inner, field, zone, problems)?;
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
    problems: &mut Problems<'_>,
) -> Result<ArrayRef, Misfit> {
    let strings = cast(array, &DataType::Utf8)?;
    let Some(strings) = strings.as_any().downcast_ref::<StringArray>() else {
        return Err(misfit("it is not a text column"));
    };
    let mut column = Column::new(ty, problems.program, zone, '|');
    let span = problems.field_span(field);
    for i in 0..strings.len() {
        let row = RowRef { row: i, line: None };
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
fn check_values(array: &ArrayRef, ty: &Type, field: usize, problems: &mut Problems<'_>) {
    let def = &problems.entity.fields[field];
    let span = def.span;
    if !def.optional && array.null_count() > 0 {
        for i in 0..array.len() {
            if array.is_null(i) && problems.admit(Code::E0604, Some(field)) {
                let d =
                    super::required_unknown(problems, field, RowRef { row: i, line: None }, span);
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
                row: rows.get(i).copied().unwrap_or(i),
                line: None,
            };
            problems.undeclared(field, v, row, || span);
        }
    }
}

//! The data of one test: its written-out records as Arrow tables, merged with the records of
//! its `data ENTITY from "PATH"` files (loaded by [`crate::engine::load`]).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, DurationMicrosecondArray,
    Float64Array, Int64Array, ListArray, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::{cast, concat};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use crate::diagnostics::{Code, Diagnostic};
use crate::engine::load::{DataSource, load};
use crate::engine::types::{MAX_DECIMAL_SCALE, UTC, arrow_type};
use crate::engine::{Dataset, Table};
use crate::ir::{DurationUnit, EntityId, Program, TestDef, TestRecord, Type, Value};
use crate::source::SourceMap;

/// Builds the dataset of a test. `rule_file` is the name of the file the test is written in,
/// as a path the fixture paths are relative to.
///
/// # Errors
/// The problems that stop the test: a record without a required field or with a value segl
/// cannot hold, a fixture file that cannot be loaded, a key both written out and in a file.
pub fn test_dataset(
    program: &Program,
    test: &TestDef,
    rule_file: &str,
    time_zone: &jiff::tz::TimeZone,
    sources: &mut SourceMap,
) -> Result<Dataset, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut by_entity: BTreeMap<EntityId, Vec<&TestRecord>> = BTreeMap::new();
    for r in &test.records {
        by_entity.entry(r.entity).or_default().push(r);
    }
    let mut inline: BTreeMap<EntityId, RecordBatch> = BTreeMap::new();
    for (entity, records) in &by_entity {
        match records_batch(program, *entity, records, time_zone) {
            Ok(batch) => {
                inline.insert(*entity, batch);
            }
            Err(found) => problems.extend(found),
        }
    }

    let dir = Path::new(rule_file).parent().unwrap_or(Path::new(""));
    let shown_dir = dir.to_string_lossy();
    let files: Vec<DataSource> = test
        .data_files
        .iter()
        .map(|(entity, path, span)| {
            let shown = if shown_dir.is_empty() || Path::new(path).is_absolute() {
                path.clone()
            } else {
                format!("{}/{path}", shown_dir.trim_end_matches(['/', '\\']))
            };
            let mut source = DataSource::new(*entity, dir.join(path), shown);
            source.entry = Some(*span);
            source
        })
        .collect();
    let mut dataset = Dataset::new();
    if !files.is_empty() {
        let everything = crate::ir::usage::Usage::everything(program);
        let loaded = load(program, &files, &everything, time_zone, sources);
        let errors = loaded.diagnostics.iter().any(Diagnostic::is_error);
        let loaded_diagnostics = loaded.diagnostics.into_iter().map(|mut d| {
            // The loader's advice is about `segl.toml`; a test's paths start at its rule file.
            if d.code == Code::E0600 {
                d.help = Some(format!(
                    "check the path: in a test it is relative to the folder of `{rule_file}`"
                ));
            }
            d
        });
        problems.extend(loaded_diagnostics.filter(Diagnostic::is_error));
        if errors {
            return Err(problems);
        }
        dataset = loaded.dataset;
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    for (entity, batch) in inline {
        let table = match dataset.table(entity) {
            None => Table {
                entity,
                batch,
                origin: "the test's records".to_owned(),
            },
            Some(file) => {
                let records = by_entity.get(&entity).map_or(&[][..], Vec::as_slice);
                merge(program, file, batch, records, &mut problems)?
            }
        };
        dataset.insert(table);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // An entity the test gives no records has none: an empty table, as an empty file would be.
    for (i, def) in program.entities.iter().enumerate() {
        let entity = EntityId::from_index(i);
        if dataset.table(entity).is_some() {
            continue;
        }
        let fields: Vec<Field> = def
            .fields
            .iter()
            .map(|f| Field::new(&f.name, arrow_type(&f.ty, 0), true))
            .collect();
        dataset.insert(Table {
            entity,
            batch: RecordBatch::new_empty(Arc::new(Schema::new(fields))),
            origin: "the test's records".to_owned(),
        });
    }
    Ok(dataset)
}

/// Adds written-out records to the records of a file, refusing keys found in both.
fn merge(
    program: &Program,
    file: &Table,
    inline: RecordBatch,
    records: &[&TestRecord],
    problems: &mut Vec<Diagnostic>,
) -> Result<Table, Vec<Diagnostic>> {
    let def = program.entity(file.entity);
    let key_index = def.key.index();
    let file_keys: HashSet<String> = file
        .batch
        .columns()
        .get(key_index)
        .map(|c| (0..c.len()).map(|i| key_cell(c, i)).collect())
        .unwrap_or_default();
    for r in records {
        let key = key_text(&r.key);
        if file_keys.contains(&key) {
            problems.push(
                Diagnostic::new(
                    Code::E0803,
                    r.span,
                    format!(
                        "the {} `{key}` is written in this test and also in `{}`",
                        def.name, file.origin
                    ),
                )
                .label("written out here as well")
                .help("keep one of the two records: remove this one, or the row in the file"),
            );
        }
    }
    if !problems.is_empty() {
        return Err(std::mem::take(problems));
    }
    let bad = |e: datafusion::arrow::error::ArrowError| {
        vec![Diagnostic::new(
            Code::E0803,
            records.first().map_or(def.span, |r| r.span),
            format!(
                "the {} records of this test cannot be joined with `{}`: {e}",
                def.name, file.origin
            ),
        )]
    };
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (i, f) in file.batch.schema().fields().iter().enumerate() {
        let (Some(a), Some(b)) = (file.batch.columns().get(i), inline.columns().get(i)) else {
            continue;
        };
        let target = wider(a.data_type(), b.data_type());
        let a = cast(a, &target).map_err(bad)?;
        let b = cast(b, &target).map_err(bad)?;
        let joined = concat(&[a.as_ref(), b.as_ref()]).map_err(bad)?;
        fields.push(Field::new(f.name(), target, f.is_nullable()));
        columns.push(joined);
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(bad)?;
    Ok(Table {
        entity: file.entity,
        batch,
        origin: file.origin.clone(),
    })
}

/// The type both columns fit in: the larger decimal scale, else the first column's type.
fn wider(a: &DataType, b: &DataType) -> DataType {
    match (a, b) {
        (DataType::Decimal128(_, sa), DataType::Decimal128(_, sb)) => {
            DataType::Decimal128(38, (*sa).max(*sb))
        }
        (DataType::List(fa), DataType::List(fb)) => DataType::List(Arc::new(Field::new(
            "item",
            wider(fa.data_type(), fb.data_type()),
            true,
        ))),
        _ => a.clone(),
    }
}

fn key_cell(column: &ArrayRef, row: usize) -> String {
    if let Some(a) = column.as_any().downcast_ref::<StringArray>() {
        return a.value(row).to_owned();
    }
    if let Some(a) = column.as_any().downcast_ref::<Int64Array>() {
        return a.value(row).to_string();
    }
    String::new()
}

/// A record key as users write it.
#[must_use]
pub fn key_text(key: &Value) -> String {
    match key {
        Value::Text(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Decimal(d) => d.to_string(),
        Value::Date(d) => d.to_string(),
        other => format!("{other:?}"),
    }
}

/// The written-out records of one entity as a table in the schema's column order.
fn records_batch(
    program: &Program,
    entity: EntityId,
    records: &[&TestRecord],
    time_zone: &jiff::tz::TimeZone,
) -> Result<RecordBatch, Vec<Diagnostic>> {
    let def = program.entity(entity);
    let mut problems = Vec::new();
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (fi, f) in def.fields.iter().enumerate() {
        let mut cells: Vec<Option<&Value>> = Vec::with_capacity(records.len());
        for r in records {
            let cell = if fi == def.key.index() {
                Some(&r.key)
            } else {
                r.fields
                    .iter()
                    .find(|(id, _)| id.index() == fi)
                    .map(|(_, v)| v)
            };
            if cell.is_none() && !f.optional {
                let example = example_value(program, &f.ty);
                problems.push(
                    Diagnostic::new(
                        Code::E0801,
                        r.span,
                        format!(
                            "the test record `{}` has no `{}`, which every {} must have",
                            key_text(&r.key),
                            f.name,
                            def.name
                        ),
                    )
                    .label(format!("`{}` missing", f.name))
                    .help(format!(
                        "add `{}: {example}` to the record (with the right value), or declare the field `optional` in the schema if it can really be missing",
                        f.name
                    )),
                );
            }
            cells.push(cell);
        }
        match array(program, &f.ty, &cells, time_zone) {
            Ok(a) => {
                fields.push(Field::new(&f.name, a.data_type().clone(), true));
                columns.push(a);
            }
            Err(why) => {
                let span = records.first().map_or(def.span, |r| r.span);
                problems.push(
                    Diagnostic::new(
                        Code::E0804,
                        span,
                        format!("the value of `{}` in a test record cannot be used: {why}", f.name),
                    )
                    .label("in this record")
                    .help("write durations in a record in days, hours or minutes, and timestamps that exist in the project's time zone"),
                );
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| {
        vec![Diagnostic::new(
            Code::E0804,
            records.first().map_or(def.span, |r| r.span),
            format!("the test records of `{}` cannot be used: {e}", def.name),
        )]
    })
}

/// A value of the type as it could be written in a record, for help texts.
fn example_value(program: &Program, ty: &Type) -> String {
    match ty {
        Type::Bool => "true".into(),
        Type::Integer => "1".into(),
        Type::Decimal | Type::Number => "1.0".into(),
        Type::Text | Type::Error => "\"...\"".into(),
        Type::Date => "2026-01-31".into(),
        Type::Timestamp => "2026-01-31T09:00:00".into(),
        Type::Duration => "30 days".into(),
        Type::Percent => "10%".into(),
        Type::Enum(id) => program
            .enums
            .get(id.index())
            .and_then(|e| e.values.first().cloned())
            .unwrap_or_else(|| "...".into()),
        Type::List(_) => "[]".into(),
    }
}

fn decimal_scale(values: &[Option<&Value>]) -> u32 {
    let mut scale = 0;
    for v in values.iter().flatten() {
        match v {
            Value::Decimal(d) => scale = scale.max(d.scale),
            Value::List(items) => {
                let inner: Vec<Option<&Value>> = items.iter().map(Some).collect();
                scale = scale.max(decimal_scale(&inner));
            }
            _ => {}
        }
    }
    scale
}

/// One Arrow column holding `cells` (unknown where `None`), typed as [`arrow_type`] says.
fn array(
    program: &Program,
    ty: &Type,
    cells: &[Option<&Value>],
    time_zone: &jiff::tz::TimeZone,
) -> Result<ArrayRef, String> {
    let mismatch = |v: &Value| format!("{v:?} is not {}", program.describe_type(ty));
    Ok(match ty {
        Type::Text | Type::Enum(_) | Type::Error => {
            let mut out: Vec<Option<String>> = Vec::with_capacity(cells.len());
            for c in cells {
                out.push(match c {
                    None => None,
                    Some(Value::Text(s)) => Some(s.clone()),
                    Some(Value::Enum(id, i)) => Some(
                        program
                            .enums
                            .get(id.index())
                            .and_then(|e| e.values.get(*i as usize))
                            .cloned()
                            .ok_or_else(|| "an undeclared value".to_owned())?,
                    ),
                    Some(v) => return Err(mismatch(v)),
                });
            }
            Arc::new(StringArray::from(out))
        }
        Type::Integer => {
            let mut out = Vec::with_capacity(cells.len());
            for c in cells {
                out.push(match c {
                    None => None,
                    Some(Value::Integer(i)) => Some(*i),
                    Some(v) => return Err(mismatch(v)),
                });
            }
            Arc::new(Int64Array::from(out))
        }
        Type::Number | Type::Percent => {
            let mut out = Vec::with_capacity(cells.len());
            for c in cells {
                #[allow(clippy::cast_precision_loss)]
                out.push(match c {
                    None => None,
                    Some(Value::Number(x)) => Some(*x),
                    Some(Value::Integer(i)) => Some(*i as f64),
                    Some(Value::Decimal(d) | Value::Percent(d)) => Some(d.to_f64()),
                    Some(v) => return Err(mismatch(v)),
                });
            }
            Arc::new(Float64Array::from(out))
        }
        Type::Bool => {
            let mut out = Vec::with_capacity(cells.len());
            for c in cells {
                out.push(match c {
                    None => None,
                    Some(Value::Bool(b)) => Some(*b),
                    Some(v) => return Err(mismatch(v)),
                });
            }
            Arc::new(BooleanArray::from(out))
        }
        Type::Decimal => {
            let scale = decimal_scale(cells);
            let scale_i8 = i8::try_from(scale)
                .ok()
                .filter(|s| *s <= MAX_DECIMAL_SCALE)
                .ok_or_else(|| "a number with too many digits after the point".to_owned())?;
            let mut out = Vec::with_capacity(cells.len());
            for c in cells {
                out.push(match c {
                    None => None,
                    Some(Value::Decimal(d)) => Some(
                        10_i128
                            .checked_pow(scale - d.scale)
                            .and_then(|f| d.mantissa.checked_mul(f))
                            .ok_or_else(|| "a number too large".to_owned())?,
                    ),
                    Some(Value::Integer(i)) => Some(
                        10_i128
                            .checked_pow(scale)
                            .and_then(|f| i128::from(*i).checked_mul(f))
                            .ok_or_else(|| "a number too large".to_owned())?,
                    ),
                    Some(v) => return Err(mismatch(v)),
                });
            }
            Arc::new(
                Decimal128Array::from(out)
                    .with_precision_and_scale(38, scale_i8)
                    .map_err(|e| e.to_string())?,
            )
        }
        Type::Date => {
            let mut out = Vec::with_capacity(cells.len());
            for c in cells {
                out.push(match c {
                    None => None,
                    Some(Value::Date(d)) => Some(days_since_epoch(*d)?),
                    Some(v) => return Err(mismatch(v)),
                });
            }
            Arc::new(Date32Array::from(out))
        }
        Type::Timestamp => {
            let mut out = Vec::with_capacity(cells.len());
            for c in cells {
                out.push(match c {
                    None => None,
                    Some(Value::Timestamp(t)) => {
                        let instant = match t.offset_seconds {
                            Some(secs) => jiff::tz::Offset::from_seconds(secs)
                                .and_then(|o| o.to_timestamp(t.civil)),
                            None => time_zone.to_timestamp(t.civil),
                        };
                        Some(instant.map_err(|e| e.to_string())?.as_microsecond())
                    }
                    Some(Value::Date(d)) => {
                        let civil = d.to_datetime(jiff::civil::Time::midnight());
                        Some(
                            time_zone
                                .to_timestamp(civil)
                                .map_err(|e| e.to_string())?
                                .as_microsecond(),
                        )
                    }
                    Some(v) => return Err(mismatch(v)),
                });
            }
            Arc::new(TimestampMicrosecondArray::from(out).with_timezone(UTC))
        }
        Type::Duration => {
            let mut out = Vec::with_capacity(cells.len());
            for c in cells {
                out.push(match c {
                    None => None,
                    Some(Value::Duration(d)) => {
                        let unit: i64 = match d.unit {
                            DurationUnit::Minute => 60_000_000,
                            DurationUnit::Hour => 3_600_000_000,
                            DurationUnit::Day => 86_400_000_000,
                            DurationUnit::Week => 604_800_000_000,
                            DurationUnit::Month | DurationUnit::Quarter | DurationUnit::Year => {
                                return Err(format!(
                                    "`{d}` has no fixed length (months and years differ)"
                                ));
                            }
                        };
                        Some(
                            d.amount
                                .checked_mul(unit)
                                .ok_or_else(|| format!("`{d}` is too long"))?,
                        )
                    }
                    Some(v) => return Err(mismatch(v)),
                });
            }
            Arc::new(DurationMicrosecondArray::from(out))
        }
        Type::List(inner) => {
            let mut lengths = Vec::with_capacity(cells.len());
            let mut flat: Vec<Option<&Value>> = Vec::new();
            let mut valid = Vec::with_capacity(cells.len());
            for c in cells {
                match c {
                    None => {
                        lengths.push(0);
                        valid.push(false);
                    }
                    Some(Value::List(items)) => {
                        lengths.push(items.len());
                        flat.extend(items.iter().map(Some));
                        valid.push(true);
                    }
                    Some(v) => return Err(mismatch(v)),
                }
            }
            let values = array(program, inner, &flat, time_zone)?;
            let field = Arc::new(Field::new("item", values.data_type().clone(), true));
            let nulls = valid.iter().any(|v| !v).then(|| valid.clone().into());
            Arc::new(
                ListArray::try_new(field, OffsetBuffer::from_lengths(lengths), values, nulls)
                    .map_err(|e| e.to_string())?,
            )
        }
    })
}

fn days_since_epoch(d: jiff::civil::Date) -> Result<i32, String> {
    d.since(jiff::civil::date(1970, 1, 1))
        .map(|span| span.get_days())
        .map_err(|e| e.to_string())
}

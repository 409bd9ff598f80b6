//! Column builders: values arrive one row at a time (as text or JSON) and leave as one Arrow
//! array of the field's type. Enum values are checked against the declared ones on the way in.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Array, DurationMicrosecondBuilder,
    Float64Builder, Int64Builder, ListArray, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::Field;

use super::cell::{self, Rejected};
use super::json::Json;
use crate::engine::types::{UTC, arrow_type};
use crate::ir::{Program, Type};

/// Why one value could not be taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The text is not a value of the type.
    Invalid(Rejected),
    /// An enum value (or a list item) that the schema does not declare.
    Undeclared(String),
}

impl From<Rejected> for Refusal {
    fn from(r: Rejected) -> Self {
        Refusal::Invalid(r)
    }
}

/// Values of one column, gathered row by row.
pub enum Column {
    Text(StringBuilder),
    Enum(StringBuilder, Vec<String>),
    Integer(Int64Builder),
    Number(Float64Builder),
    Bool(BooleanBuilder),
    Decimal {
        mantissas: Vec<i128>,
        scales: Vec<u8>,
        valid: Vec<bool>,
    },
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder, jiff::tz::TimeZone),
    Duration(DurationMicrosecondBuilder),
    List {
        offsets: Vec<i32>,
        valid: Vec<bool>,
        inner: Box<Column>,
        separator: char,
    },
    /// A field the run does not read: only the rows are counted, and the column is finished
    /// as unknown values (nothing in it is decoded or checked).
    Skipped(usize, Type),
}

impl Column {
    /// A column for a field the run does not read.
    pub fn skipped(ty: &Type) -> Column {
        Column::Skipped(0, ty.clone())
    }

    pub fn is_skipped(&self) -> bool {
        matches!(self, Column::Skipped(..))
    }

    pub fn new(ty: &Type, program: &Program, zone: &jiff::tz::TimeZone, separator: char) -> Column {
        match ty {
            Type::Text | Type::Error => Column::Text(StringBuilder::new()),
            Type::Enum(id) => Column::Enum(
                StringBuilder::new(),
                program
                    .enums
                    .get(id.index())
                    .map(|e| e.values.clone())
                    .unwrap_or_default(),
            ),
            Type::Integer => Column::Integer(Int64Builder::new()),
            Type::Number | Type::Percent => Column::Number(Float64Builder::new()),
            Type::Bool => Column::Bool(BooleanBuilder::new()),
            Type::Decimal => Column::Decimal {
                mantissas: Vec::new(),
                scales: Vec::new(),
                valid: Vec::new(),
            },
            Type::Date => Column::Date(Date32Builder::new()),
            Type::Timestamp => Column::Timestamp(
                TimestampMicrosecondBuilder::new().with_timezone(UTC),
                zone.clone(),
            ),
            Type::Duration => Column::Duration(DurationMicrosecondBuilder::new()),
            Type::List(inner) => Column::List {
                offsets: vec![0],
                valid: Vec::new(),
                inner: Box::new(Column::new(inner, program, zone, separator)),
                separator,
            },
        }
    }

    pub fn is_list(&self) -> bool {
        matches!(self, Column::List { .. })
    }

    pub fn push_null(&mut self) {
        match self {
            Column::Skipped(rows, _) => *rows += 1,
            Column::Text(b) | Column::Enum(b, _) => b.append_null(),
            Column::Integer(b) => b.append_null(),
            Column::Number(b) => b.append_null(),
            Column::Bool(b) => b.append_null(),
            Column::Decimal {
                mantissas,
                scales,
                valid,
            } => {
                mantissas.push(0);
                scales.push(0);
                valid.push(false);
            }
            Column::Date(b) => b.append_null(),
            Column::Timestamp(b, _) => b.append_null(),
            Column::Duration(b) => b.append_null(),
            Column::List { offsets, valid, .. } => {
                let last = offsets.last().copied().unwrap_or(0);
                offsets.push(last);
                valid.push(false);
            }
        }
    }

    /// Takes a value written as text. On a refusal the row gets an unknown value, so the
    /// column keeps one entry per row.
    pub fn push_text(&mut self, text: &str) -> Result<(), Refusal> {
        let result = self.try_push_text(text);
        if result.is_err() {
            self.push_null();
        }
        result
    }

    fn try_push_text(&mut self, text: &str) -> Result<(), Refusal> {
        match self {
            Column::Skipped(rows, _) => *rows += 1,
            Column::Text(b) => b.append_value(text),
            Column::Enum(b, values) => {
                if !values.iter().any(|v| v == text) {
                    return Err(Refusal::Undeclared(text.to_owned()));
                }
                b.append_value(text);
            }
            Column::Integer(b) => b.append_value(cell::integer(text)?),
            Column::Number(b) => b.append_value(cell::number(text)?),
            Column::Bool(b) => b.append_value(cell::boolean(text)?),
            Column::Decimal {
                mantissas,
                scales,
                valid,
            } => {
                let d = cell::decimal(text)?;
                mantissas.push(d.mantissa);
                scales.push(d.scale);
                valid.push(true);
            }
            Column::Date(b) => b.append_value(cell::date(text)?),
            Column::Timestamp(b, zone) => b.append_value(cell::timestamp(text, zone)?),
            Column::Duration(b) => b.append_value(cell::duration(text)?),
            Column::List {
                offsets,
                valid,
                inner,
                separator,
            } => {
                let mut count = 0usize;
                if !text.is_empty() {
                    for item in text.split(*separator) {
                        if item.is_empty() {
                            return Err(Refusal::Invalid(Rejected {
                                reason: format!(
                                    "the list has an empty item (a `{separator}` at the start or end, or two in a row)"
                                ),
                                hint: Some(format!(
                                    "items are separated by `{separator}`; remove the extra `{separator}`"
                                )),
                            }));
                        }
                        if let Err(e) = inner.push_text(item) {
                            // Keep the inner column consistent: drop what this row added.
                            inner.truncate(offset_usize(offsets) + count);
                            return Err(e);
                        }
                        count += 1;
                    }
                }
                push_offset(offsets, count);
                valid.push(true);
            }
        }
        Ok(())
    }

    /// Takes a JSON value (NDJSON). Numbers keep their exact text; strings are read as text.
    pub fn push_json(&mut self, value: &Json<'_>) -> Result<(), Refusal> {
        let result = self.try_push_json(value);
        if result.is_err() {
            self.push_null();
        }
        result
    }

    fn try_push_json(&mut self, value: &Json<'_>) -> Result<(), Refusal> {
        match (value, &mut *self) {
            (_, Column::Skipped(rows, _)) => {
                *rows += 1;
                Ok(())
            }
            (Json::Null, _) => {
                self.push_null();
                Ok(())
            }
            (Json::Bool(v), Column::Bool(b)) => {
                b.append_value(*v);
                Ok(())
            }
            (Json::Str(s), Column::List { .. }) => Err(Refusal::Invalid(Rejected {
                reason: format!("it is the text \"{s}\", not a list"),
                hint: Some("write a list in square brackets, such as `[\"a\", \"b\"]`".into()),
            })),
            (Json::Str(s), _) => self.try_push_text(s),
            (Json::Number(n), Column::List { .. }) => Err(Refusal::Invalid(Rejected {
                reason: format!("it is the number {n}, not a list"),
                hint: Some("write a list in square brackets, such as `[1, 2]`".into()),
            })),
            (Json::Number(n), Column::Bool(_)) => Err(Refusal::Invalid(Rejected {
                reason: format!("it is the number {n}, not true or false"),
                hint: Some("write `true` or `false` without quotes".into()),
            })),
            (Json::Number(n), _) => self.try_push_text(n),
            (
                Json::Array(items),
                Column::List {
                    offsets,
                    valid,
                    inner,
                    ..
                },
            ) => {
                let start = offset_usize(offsets);
                for (i, item) in items.iter().enumerate() {
                    let r = if matches!(item, Json::Null) {
                        Err(Refusal::Invalid(Rejected {
                            reason: "the list has a `null` item".into(),
                            hint: Some("leave the item out; lists cannot hold unknown values".into()),
                        }))
                    } else {
                        inner.push_json(item)
                    };
                    if let Err(e) = r {
                        inner.truncate(start + i);
                        return Err(e);
                    }
                }
                push_offset(offsets, items.len());
                valid.push(true);
                Ok(())
            }
            (Json::Bool(v), _) => Err(Refusal::Invalid(Rejected {
                reason: format!("it is `{v}`, a yes/no value"),
                hint: None,
            })),
            (Json::Array(_), _) => Err(Refusal::Invalid(Rejected {
                reason: "it is a list".into(),
                hint: Some("the field holds one value, not a list".into()),
            })),
            (Json::Object, _) => Err(Refusal::Invalid(Rejected {
                reason: "it is an object (`{ ... }`)".into(),
                hint: Some("segl reads one value per field; flatten nested objects into fields of their own".into()),
            })),
        }
    }

    /// Drops values after the first `len` (only used to undo a list row that was refused).
    fn truncate(&mut self, len: usize) {
        // Builders cannot shrink, but a refused row makes the whole table unusable anyway; keep
        // lengths right by padding the list's offsets instead (see `push_offset`). Nothing to do
        // for builders; decimal vectors can shrink exactly.
        if let Column::Decimal {
            mantissas,
            scales,
            valid,
        } = self
        {
            mantissas.truncate(len);
            scales.truncate(len);
            valid.truncate(len);
        }
    }

    /// The finished array; `Err` names a decimal column whose values do not fit 38 digits
    /// once they share one scale.
    pub fn finish(self, ty: &Type) -> Result<ArrayRef, String> {
        Ok(match self {
            Column::Skipped(rows, ty) => {
                datafusion::arrow::array::new_null_array(&arrow_type(&ty, 0), rows)
            }
            Column::Text(mut b) | Column::Enum(mut b, _) => Arc::new(b.finish()) as ArrayRef,
            Column::Integer(mut b) => Arc::new(b.finish()),
            Column::Number(mut b) => Arc::new(b.finish()),
            Column::Bool(mut b) => Arc::new(b.finish()),
            Column::Date(mut b) => Arc::new(b.finish()),
            Column::Timestamp(mut b, _) => Arc::new(b.finish()),
            Column::Duration(mut b) => Arc::new(b.finish()),
            Column::Decimal {
                mantissas,
                scales,
                valid,
            } => Arc::new(decimal_array(mantissas, &scales, valid)?),
            Column::List {
                offsets,
                valid,
                inner,
                ..
            } => {
                let inner_ty = match ty {
                    Type::List(t) => t.as_ref().clone(),
                    other => other.clone(),
                };
                let values = inner.finish(&inner_ty)?;
                let field = Arc::new(Field::new("item", values.data_type().clone(), true));
                // The inner column may hold values of refused rows past the last offset; cut.
                let end = offsets.last().copied().unwrap_or(0);
                let values = values.slice(0, usize::try_from(end).unwrap_or(0));
                let nulls = NullBuffer::from(valid);
                let nulls = (nulls.null_count() > 0).then_some(nulls);
                ListArray::try_new(
                    field,
                    OffsetBuffer::new(ScalarBuffer::from(offsets)),
                    values,
                    nulls,
                )
                .map_err(|e| e.to_string())
                .map(|a| Arc::new(a) as ArrayRef)?
            }
        })
        .inspect(|a| {
            debug_assert_eq!(a.data_type(), &expected_type(ty, a.data_type()));
        })
    }
}

fn expected_type(
    ty: &Type,
    found: &datafusion::arrow::datatypes::DataType,
) -> datafusion::arrow::datatypes::DataType {
    let scale = decimal_scale_of(found);
    arrow_type(ty, scale)
}

fn decimal_scale_of(dt: &datafusion::arrow::datatypes::DataType) -> i8 {
    use datafusion::arrow::datatypes::DataType;
    match dt {
        DataType::Decimal128(_, s) => *s,
        DataType::List(f) => decimal_scale_of(f.data_type()),
        _ => 0,
    }
}

fn offset_usize(offsets: &[i32]) -> usize {
    usize::try_from(offsets.last().copied().unwrap_or(0)).unwrap_or(0)
}

fn push_offset(offsets: &mut Vec<i32>, added: usize) {
    let last = offsets.last().copied().unwrap_or(0);
    let added = i32::try_from(added).unwrap_or(i32::MAX);
    offsets.push(last.saturating_add(added));
}

/// Builds a `Decimal128(38, s)` array where `s` is the largest scale among the values.
pub fn decimal_array(
    mantissas: Vec<i128>,
    scales: &[u8],
    valid: Vec<bool>,
) -> Result<Decimal128Array, String> {
    let scale = scales
        .iter()
        .zip(&valid)
        .filter(|(_, v)| **v)
        .map(|(s, _)| *s)
        .max()
        .unwrap_or(0);
    let limit: i128 = 10_i128.pow(38) - 1;
    let mut out = mantissas;
    for (i, m) in out.iter_mut().enumerate() {
        let s = scales.get(i).copied().unwrap_or(0);
        if s < scale {
            let factor = 10_i128.pow(u32::from(scale - s));
            *m = m
                .checked_mul(factor)
                .filter(|v| v.abs() <= limit)
                .ok_or_else(|| {
                    format!(
                        "with {scale} digits after the decimal point, a value of row {} needs more than 38 digits",
                        i + 1
                    )
                })?;
        }
    }
    let nulls = NullBuffer::from(valid);
    let nulls = (nulls.null_count() > 0).then_some(nulls);
    Decimal128Array::try_new(ScalarBuffer::from(out), nulls)
        .and_then(|a| a.with_precision_and_scale(38, i8::try_from(scale).unwrap_or(18)))
        .map_err(|e| e.to_string())
}

//! Reading values out of the validated Arrow batches, and the indexes built once per run.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, DurationMicrosecondType, Float64Type, Int64Type,
    TimeUnit, TimestampMicrosecondType,
};

use super::EvalError;
use super::value::{Dur, Pct, V, date_from_day_number};
use crate::engine::{Dataset, Table};
use crate::ir::{Decimal, EntityId, FieldId, Program, RelationKind, RelationRef, Type};

/// A key value, for lookups.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Int(i64),
    Text(String),
    Other(String),
}

impl Key {
    #[must_use]
    pub fn of(v: &V) -> Option<Key> {
        match v {
            V::Unknown => None,
            V::Int(i) => Some(Key::Int(*i)),
            V::Text(s) | V::Enum(s) => Some(Key::Text(s.clone())),
            other => Some(Key::Other(other.group_key())),
        }
    }
}

/// Reads the value in `row` of `array`, a column holding values of `ty`.
pub fn cell(
    array: &ArrayRef,
    row: usize,
    ty: &Type,
    what: &dyn Fn() -> String,
) -> Result<V, EvalError> {
    if row >= array.len() {
        return Err(EvalError::BadData(format!(
            "{}: row {row} is missing",
            what()
        )));
    }
    if array.is_null(row) {
        return Ok(V::Unknown);
    }
    let bad = || {
        EvalError::BadData(format!(
            "{}: a column of type {} does not hold {}",
            what(),
            array.data_type(),
            ty_name(ty)
        ))
    };
    Ok(match ty {
        Type::Text | Type::Enum(_) | Type::Error => {
            let s = if let Some(a) = array.as_string_opt::<i32>() {
                a.value(row).to_owned()
            } else if let Some(a) = array.as_string_opt::<i64>() {
                a.value(row).to_owned()
            } else if let Some(a) = array.as_string_view_opt() {
                a.value(row).to_owned()
            } else {
                return Err(bad());
            };
            if matches!(ty, Type::Enum(_)) {
                V::Enum(s)
            } else {
                V::Text(s)
            }
        }
        Type::Integer => V::Int(
            array
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(bad)?
                .value(row),
        ),
        Type::Number => V::Num(
            array
                .as_primitive_opt::<Float64Type>()
                .ok_or_else(bad)?
                .value(row),
        ),
        Type::Percent => V::Pct(Pct::Float(
            array
                .as_primitive_opt::<Float64Type>()
                .ok_or_else(bad)?
                .value(row),
        )),
        Type::Bool => V::Bool(array.as_boolean_opt().ok_or_else(bad)?.value(row)),
        Type::Decimal => {
            let DataType::Decimal128(_, scale) = array.data_type() else {
                return Err(bad());
            };
            let a = array.as_primitive_opt::<Decimal128Type>().ok_or_else(bad)?;
            V::Dec(Decimal {
                mantissa: a.value(row),
                scale: u32::try_from(*scale).map_err(|_| bad())?,
            })
        }
        Type::Date => {
            let days = array
                .as_primitive_opt::<Date32Type>()
                .ok_or_else(bad)?
                .value(row);
            V::Date(date_from_day_number(i64::from(days)).ok_or_else(bad)?)
        }
        Type::Timestamp => {
            if !matches!(
                array.data_type(),
                DataType::Timestamp(TimeUnit::Microsecond, _)
            ) {
                return Err(bad());
            }
            let us = array
                .as_primitive_opt::<TimestampMicrosecondType>()
                .ok_or_else(bad)?
                .value(row);
            V::Ts(jiff::Timestamp::from_microsecond(us).map_err(|_| bad())?)
        }
        Type::Duration => {
            let us = array
                .as_primitive_opt::<DurationMicrosecondType>()
                .ok_or_else(bad)?
                .value(row);
            V::Dur(Dur {
                months: 0,
                days: 0,
                micros: us,
            })
        }
        Type::List(inner) => {
            let list = array.as_list_opt::<i32>().ok_or_else(bad)?;
            let items = list.value(row);
            let mut out = Vec::with_capacity(items.len());
            for i in 0..items.len() {
                out.push(cell(&items, i, inner, what)?);
            }
            V::List(out)
        }
    })
}

fn ty_name(ty: &Type) -> &'static str {
    match ty {
        Type::Bool => "yes/no values",
        Type::Integer => "whole numbers",
        Type::Decimal => "decimals",
        Type::Number | Type::Percent => "numbers",
        Type::Text | Type::Enum(_) | Type::Error => "texts",
        Type::Date => "dates",
        Type::Timestamp => "timestamps",
        Type::Duration => "durations",
        Type::List(_) => "lists",
    }
}

/// What the evaluator knows about one entity's table.
pub struct TableIndex<'a> {
    pub table: &'a Table,
    /// Key value → row.
    pub by_key: HashMap<Key, usize>,
}

/// Every index of a run: keys of every table, children of every `many` relation.
pub struct Indexes<'a> {
    pub tables: HashMap<EntityId, TableIndex<'a>>,
    /// For each `many` relation: the parent's key → the child rows, in row order.
    pub children: HashMap<RelationRef, HashMap<Key, Vec<usize>>>,
}

impl<'a> Indexes<'a> {
    pub fn build(program: &'a Program, data: &'a Dataset) -> Result<Indexes<'a>, EvalError> {
        let mut tables = HashMap::new();
        for table in data.tables() {
            let Some(def) = program.entities.get(table.entity.index()) else {
                continue;
            };
            let mut by_key = HashMap::new();
            let rows = table.batch.num_rows();
            for row in 0..rows {
                let v = read_field(program, table, def.key, row)?;
                if let Some(k) = Key::of(&v) {
                    by_key.insert(k, row);
                }
            }
            tables.insert(table.entity, TableIndex { table, by_key });
        }
        let mut children = HashMap::new();
        for (ei, e) in program.entities.iter().enumerate() {
            for (ri, r) in e.relations.iter().enumerate() {
                if r.kind != RelationKind::Many {
                    continue;
                }
                let rref = RelationRef {
                    entity: EntityId::from_index(ei),
                    relation: crate::ir::RelationId::from_index(ri),
                };
                let mut map: HashMap<Key, Vec<usize>> = HashMap::new();
                if let Some(t) = tables.get(&r.target) {
                    for row in 0..t.table.batch.num_rows() {
                        let v = read_field(program, t.table, r.via.field, row)?;
                        if let Some(k) = Key::of(&v) {
                            map.entry(k).or_default().push(row);
                        }
                    }
                }
                children.insert(rref, map);
            }
        }
        Ok(Indexes { tables, children })
    }
}

/// The value of a field of `table` in `row`.
pub fn read_field(
    program: &Program,
    table: &Table,
    field: FieldId,
    row: usize,
) -> Result<V, EvalError> {
    let entity = program.entity(table.entity);
    let Some(def) = entity.fields.get(field.index()) else {
        return Err(EvalError::BadData(format!(
            "{} has no field number {}",
            entity.name,
            field.index()
        )));
    };
    let Some(column) = table.batch.columns().get(field.index()) else {
        return Err(EvalError::BadData(format!(
            "{}: the data has no column for `{}`",
            table.origin, def.name
        )));
    };
    cell(column, row, &def.ty, &|| {
        format!("{}: column `{}`", table.origin, def.name)
    })
}

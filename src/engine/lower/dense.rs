//! Aggregates over related records added up in arrays with one slot per parent record.
//!
//! The query engine evaluates what each related record contributes (its window test, its
//! `where`, its value) as plain columns; these functions then walk the rows once per aggregate
//! and add each row into the slot of the parent it belongs to (its parent's row number). There is
//! no hash table: the group of a row is its parent's position. Pieces of a file read piece by
//! piece are added into the same arrays.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Decimal128Array, Float64Array, Int64Array, UInt32Array,
};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::compute::{cast, prep_null_mask_filter};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int64Type};
use datafusion::arrow::record_batch::RecordBatch;

use super::EngineError;
use crate::ir::{AggFunc, Type};

type Result<T> = std::result::Result<T, EngineError>;

fn engine(e: impl std::fmt::Display) -> EngineError {
    EngineError::Engine(e.to_string())
}

/// Whether an aggregate of `func` over values of type `value` can be added up here (the others
/// go through the query engine's grouped aggregation).
#[must_use]
pub fn handles(func: AggFunc, value: Option<&Type>) -> bool {
    let numeric = |t: &Type| {
        matches!(
            t,
            Type::Integer | Type::Decimal | Type::Number | Type::Percent
        )
    };
    match func {
        AggFunc::Count | AggFunc::Any | AggFunc::Every => true,
        AggFunc::Sum | AggFunc::Avg => value.is_none_or(numeric),
        AggFunc::Min | AggFunc::Max => value.is_none_or(|t| {
            numeric(t) || matches!(t, Type::Date | Type::Timestamp | Type::Duration)
        }),
        AggFunc::CountDistinct => false,
    }
}

/// One aggregate: its position, function and the columns (by name) of its window test, its
/// condition and its value.
#[derive(Clone, Debug)]
pub struct Spec {
    pub index: usize,
    pub func: AggFunc,
    pub window: Option<String>,
    pub filter: Option<String>,
    pub value: Option<String>,
}

/// How a part combines a row's value into its slot.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Sum,
    Min,
    Max,
}

/// Running values of one part, one slot per parent row.
pub enum Slots {
    /// Counts per parent record, in 32 bits (a parent with more related records than that
    /// stops the run with a message rather than wrapping around).
    Count(Vec<u32>),
    Whole {
        values: Vec<i64>,
        seen: Vec<bool>,
        op: Op,
        ty: DataType,
    },
    Exact {
        values: Exact,
        seen: Vec<bool>,
        op: Op,
        ty: DataType,
    },
    Float {
        values: Vec<f64>,
        seen: Vec<bool>,
        op: Op,
    },
}

/// Exact decimal values (unscaled): in 64 bits while every value and running sum fits, which
/// halves their memory; widened to 128 bits for good when one does not.
pub enum Exact {
    Narrow(Vec<i64>),
    Wide(Vec<i128>),
}

impl Exact {
    fn widen(&mut self) -> &mut Vec<i128> {
        if let Exact::Narrow(v) = self {
            *self = Exact::Wide(v.iter().map(|x| i128::from(*x)).collect());
        }
        match self {
            Exact::Wide(v) => v,
            Exact::Narrow(_) => unreachable!("widened just before"),
        }
    }
}

/// The aggregates of one relation, added up over one or more batches.
pub struct Aggregates {
    specs: Vec<Spec>,
    parents: usize,
    /// By part name (`#a{i}`, and `#a{i}n` for the count of an average).
    parts: HashMap<String, Slots>,
}

impl Aggregates {
    #[must_use]
    pub fn new(specs: Vec<Spec>, parents: usize) -> Aggregates {
        Aggregates {
            specs,
            parents,
            parts: HashMap::new(),
        }
    }

    /// Adds the rows of a batch: column `parent` holds each row's parent row number (never
    /// unknown), the other columns are named by the specs.
    ///
    /// # Errors
    /// When a column is missing or has an unexpected type, or a sum no longer fits.
    pub fn take(&mut self, batch: &RecordBatch, parent: &str) -> Result<()> {
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .cloned()
                .ok_or_else(|| engine(format!("internal: no column `{name}`")))
        };
        let parents = column(parent)?;
        let parents = cast(&parents, &DataType::UInt32).map_err(engine)?;
        let parents: &UInt32Array = parents.as_primitive();
        let truth = |name: &Option<String>| -> Result<Option<BooleanArray>> {
            match name {
                None => Ok(None),
                Some(n) => {
                    let c = column(n)?;
                    let b = c
                        .as_boolean_opt()
                        .ok_or_else(|| engine("internal: a condition is not yes/no"))?;
                    Ok(Some(known_true(b)))
                }
            }
        };
        for spec in self.specs.clone() {
            let window = truth(&spec.window)?;
            let filter = truth(&spec.filter)?;
            // A row counts when it is in the window and meets the condition; for `every`,
            // when it is in the window and does *not* meet it (unknown does not meet it). The
            // rows that count, as bits: the loops below visit only those.
            let counted = counted_rows(
                batch.num_rows(),
                parents.nulls().map(NullBuffer::inner),
                window.as_ref().map(BooleanArray::values),
                filter.as_ref().map(BooleanArray::values),
                spec.func == AggFunc::Every,
            );
            let value = match &spec.value {
                Some(n) => Some(column(n)?),
                None => None,
            };
            let name = format!("#a{}", spec.index);
            let parents_len = self.parents;
            match spec.func {
                AggFunc::Count | AggFunc::Any | AggFunc::Every => {
                    let slots = self
                        .parts
                        .entry(name)
                        .or_insert_with(|| Slots::Count(vec![0; parents_len]));
                    let Slots::Count(c) = slots else {
                        return Err(engine("internal: a count changed its kind"));
                    };
                    // `count(x)` counts known values only; `any` and `every` count rows.
                    let rows = match &value {
                        Some(v) if spec.func == AggFunc::Count => known_of(&counted, v.as_ref()),
                        _ => counted,
                    };
                    count_into(c, &rows, parents)?;
                }
                AggFunc::Sum | AggFunc::Avg | AggFunc::Min | AggFunc::Max => {
                    let value =
                        value.ok_or_else(|| engine("internal: an aggregate without a value"))?;
                    let op = match spec.func {
                        AggFunc::Min => Op::Min,
                        AggFunc::Max => Op::Max,
                        _ => Op::Sum,
                    };
                    let value = if spec.func == AggFunc::Avg
                        && !matches!(
                            value.data_type(),
                            DataType::Int64 | DataType::Decimal128(..) | DataType::Float64
                        ) {
                        cast(&value, &DataType::Float64).map_err(engine)?
                    } else {
                        value
                    };
                    let rows = known_of(&counted, value.as_ref());
                    self.parts
                        .entry(name)
                        .or_insert_with(|| Slots::new(op, value.data_type(), parents_len))
                        .add(&value, parents, &rows)?;
                    if spec.func == AggFunc::Avg {
                        let slots = self
                            .parts
                            .entry(format!("#a{}n", spec.index))
                            .or_insert_with(|| Slots::Count(vec![0; parents_len]));
                        if let Slots::Count(c) = slots {
                            count_into(c, &rows, parents)?;
                        }
                    }
                }
                AggFunc::CountDistinct => {
                    return Err(engine("internal: a distinct count cannot be added up"));
                }
            }
        }
        Ok(())
    }

    /// The parts, one value per parent row (unknown where no row counted, except counts,
    /// which are 0).
    ///
    /// # Errors
    /// When a part cannot take its type back.
    pub fn finish(self) -> Result<HashMap<String, ArrayRef>> {
        let mut out = HashMap::new();
        for (name, slots) in self.parts {
            let array = slots.finish()?;
            out.insert(name, array);
        }
        Ok(out)
    }
}

/// True where `b` is true; unknown counts as false.
pub fn known_true(b: &BooleanArray) -> BooleanArray {
    if b.null_count() == 0 {
        BooleanArray::new(b.values().clone(), None)
    } else {
        prep_null_mask_filter(b)
    }
}

/// The rows that count: parent known, in the window, and meeting the condition (for `every`,
/// not meeting it).
fn counted_rows(
    n: usize,
    parents: Option<&BooleanBuffer>,
    window: Option<&BooleanBuffer>,
    filter: Option<&BooleanBuffer>,
    every: bool,
) -> BooleanBuffer {
    let mut rows = parents
        .cloned()
        .unwrap_or_else(|| BooleanBuffer::new_set(n));
    if let Some(w) = window {
        rows = &rows & w;
    }
    match (filter, every) {
        (Some(f), false) => &rows & f,
        (Some(f), true) => &rows & &!f,
        (None, false) => rows,
        (None, true) => BooleanBuffer::new_unset(n),
    }
}

/// The counted rows whose value is known.
fn known_of(rows: &BooleanBuffer, value: &dyn Array) -> BooleanBuffer {
    match value.logical_nulls() {
        Some(nulls) => rows & nulls.inner(),
        None => rows.clone(),
    }
}

/// Adds one to the slot of the parent of every row in `rows`.
fn count_into(slots: &mut [u32], rows: &BooleanBuffer, parents: &UInt32Array) -> Result<()> {
    let parents = parents.values();
    for r in rows.set_indices() {
        if let Some(slot) = parents.get(r).and_then(|p| slots.get_mut(*p as usize)) {
            *slot = slot.checked_add(1).ok_or_else(|| {
                EngineError::Unsupported(
                    "a record has more than 4,294,967,295 related records to count".to_owned(),
                )
            })?;
        }
    }
    Ok(())
}

impl Slots {
    /// Empty running values of type `ty` (decimals, floats, or anything held as a whole number:
    /// whole numbers, dates, times, durations) for `len` parent rows.
    pub fn new(op: Op, ty: &DataType, len: usize) -> Slots {
        match ty {
            DataType::Decimal128(..) => Slots::Exact {
                values: Exact::Narrow(vec![0; len]),
                seen: vec![false; len],
                op,
                ty: ty.clone(),
            },
            DataType::Float64 => Slots::Float {
                values: vec![0.0; len],
                seen: vec![false; len],
                op,
            },
            _ => Slots::Whole {
                values: vec![0; len],
                seen: vec![false; len],
                op,
                ty: ty.clone(),
            },
        }
    }

    /// The values, one per parent row (unknown where no row counted, except counts, which
    /// are 0).
    ///
    /// # Errors
    /// When the values cannot take their type back.
    pub fn finish(self) -> Result<ArrayRef> {
        Ok(match self {
            Slots::Count(c) => Arc::new(Int64Array::from_iter_values(c.into_iter().map(i64::from))),
            Slots::Whole {
                values, seen, ty, ..
            } => {
                let a: Int64Array = values
                    .into_iter()
                    .zip(seen)
                    .map(|(v, s)| s.then_some(v))
                    .collect();
                let a: ArrayRef = Arc::new(a);
                if ty == DataType::Int64 {
                    a
                } else {
                    cast(&a, &ty).map_err(engine)?
                }
            }
            Slots::Exact {
                values, seen, ty, ..
            } => {
                let a: Decimal128Array = match values {
                    Exact::Narrow(v) => v
                        .into_iter()
                        .zip(seen)
                        .map(|(v, s)| s.then_some(i128::from(v)))
                        .collect(),
                    Exact::Wide(v) => v
                        .into_iter()
                        .zip(seen)
                        .map(|(v, s)| s.then_some(v))
                        .collect(),
                };
                let (p, s) = match ty {
                    DataType::Decimal128(p, s) => (p, s),
                    _ => (38, 0),
                };
                Arc::new(a.with_precision_and_scale(p, s).map_err(engine)?)
            }
            Slots::Float { values, seen, .. } => {
                let a: Float64Array = values
                    .into_iter()
                    .zip(seen)
                    .map(|(v, s)| s.then_some(v))
                    .collect();
                Arc::new(a)
            }
        })
    }

    /// Folds `value[r]` into the slot of parent `parents[r]` for every row `r` in `rows` (whose
    /// values are all known).
    ///
    /// # Errors
    /// When a sum no longer fits.
    pub fn add(
        &mut self,
        value: &ArrayRef,
        parents: &UInt32Array,
        rows: &BooleanBuffer,
    ) -> Result<()> {
        let too_big = || {
            EngineError::Unsupported(
                "a sum over related records has more than 38 digits".to_owned(),
            )
        };
        match self {
            Slots::Exact {
                values, seen, op, ..
            } => {
                let v = value.as_primitive::<Decimal128Type>();
                let limit = 10_i128.pow(38);
                for r in rows.set_indices() {
                    let p = parents.value(r) as usize;
                    let x = v.value(r);
                    let Some(s) = seen.get_mut(p) else {
                        continue;
                    };
                    let first = !*s;
                    *s = true;
                    // 64 bits while the value and the result fit.
                    if let Exact::Narrow(narrow) = values
                        && let Ok(x) = i64::try_from(x)
                        && let Some(slot) = narrow.get_mut(p)
                    {
                        let next = match (*op, first) {
                            (_, true) => Some(x),
                            (Op::Sum, false) => slot.checked_add(x),
                            (Op::Min, false) => Some((*slot).min(x)),
                            (Op::Max, false) => Some((*slot).max(x)),
                        };
                        if let Some(next) = next {
                            *slot = next;
                            continue;
                        }
                    }
                    let Some(slot) = values.widen().get_mut(p) else {
                        continue;
                    };
                    *slot = match (*op, first) {
                        (_, true) => x,
                        (Op::Sum, false) => slot
                            .checked_add(x)
                            .filter(|t| t.abs() < limit)
                            .ok_or_else(too_big)?,
                        (Op::Min, false) => (*slot).min(x),
                        (Op::Max, false) => (*slot).max(x),
                    };
                }
            }
            Slots::Float { values, seen, op } => {
                let v = value.as_primitive::<Float64Type>();
                let op = *op;
                fold(
                    values,
                    seen,
                    parents,
                    rows,
                    |r| v.value(r),
                    |slot, x| {
                        Ok(match op {
                            Op::Sum => slot + x,
                            Op::Min => slot.min(x),
                            Op::Max => slot.max(x),
                        })
                    },
                )?;
            }
            Slots::Whole {
                values, seen, op, ..
            } => {
                let whole = cast(value, &DataType::Int64).map_err(engine)?;
                let v = whole.as_primitive::<Int64Type>();
                let op = *op;
                fold(
                    values,
                    seen,
                    parents,
                    rows,
                    |r| v.value(r),
                    |slot, x| {
                        Ok(match op {
                            Op::Sum => slot.checked_add(x).ok_or_else(too_big)?,
                            Op::Min => slot.min(x),
                            Op::Max => slot.max(x),
                        })
                    },
                )?;
            }
            Slots::Count(_) => return Err(engine("internal: a value part changed its kind")),
        }
        Ok(())
    }
}

/// Folds `value(r)` into the slot of parent `parents[r]` for every row `r` in `rows`: a slot's
/// first value is taken as it is, later ones are combined with it by `combine`.
fn fold<T: Copy>(
    values: &mut [T],
    seen: &mut [bool],
    parents: &UInt32Array,
    rows: &BooleanBuffer,
    value: impl Fn(usize) -> T,
    combine: impl Fn(T, T) -> Result<T>,
) -> Result<()> {
    for r in rows.set_indices() {
        let p = parents.value(r) as usize;
        let (Some(slot), Some(s)) = (values.get_mut(p), seen.get_mut(p)) else {
            continue;
        };
        let x = value(r);
        *slot = if *s { combine(*slot, x)? } else { x };
        *s = true;
    }
    Ok(())
}

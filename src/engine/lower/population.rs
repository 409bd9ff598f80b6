//! Population functions (`percentile of`, `rank of`, `ntile(k) of`, `share of total`,
//! `cumulative share of`) computed over whole columns: one sort of the known values by group
//! and value, then one pass over each group.
//!
//! The meaning is the one `segl why` and the SQL give: unknown values take no part and get an
//! unknown result; equal values get equal results (ties); groups are the values of `within`
//! (an unknown group is a group of its own); shares divide by the group's total and are unknown
//! when the total is zero.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Array, Float64Array, Int64Array, make_comparator,
};
use datafusion::arrow::compute::{SortOptions, cast};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int64Type};

use super::EngineError;
use crate::ir::PopFunc;

type Result<T> = std::result::Result<T, EngineError>;

fn engine(e: impl std::fmt::Display) -> EngineError {
    EngineError::Engine(e.to_string())
}

/// `func` of `value` for every row, within the groups of `within`.
pub fn compute(func: PopFunc, value: &ArrayRef, within: Option<&ArrayRef>) -> Result<ArrayRef> {
    let value = normalize_zero(value)?;
    let n = value.len();
    let groups_of = match within {
        Some(w) => group_ids(w)?,
        None => vec![0; n],
    };
    let keys = Keys::new(&value)?;
    // Known values sorted by group, then value. The sort keys are copied next to the row numbers
    // (in 32 bits: tables have fewer rows) so that sorting reads memory in order, 16 bytes a
    // record for whole numbers, dates, times and decimals of up to 18 digits.
    if u32::try_from(n).is_err() {
        return Err(EngineError::Unsupported(
            "a table has more records than segl can rank in one run".into(),
        ));
    }
    let rows = (0..n).filter(|&i| value.is_valid(i));
    #[allow(clippy::cast_possible_truncation)] // n fits in 32 bits (checked above)
    let known: Vec<usize> = match &keys {
        Keys::Whole(k) => {
            let mut v: Vec<(u32, i64, u32)> =
                rows.map(|i| (groups_of[i], k[i], i as u32)).collect();
            v.sort_unstable_by_key(|t| (t.0, t.1));
            v.into_iter().map(|t| t.2 as usize).collect()
        }
        Keys::Exact(k) => {
            let mut v: Vec<(u32, i128, u32)> =
                rows.map(|i| (groups_of[i], k[i], i as u32)).collect();
            v.sort_unstable_by_key(|t| (t.0, t.1));
            v.into_iter().map(|t| t.2 as usize).collect()
        }
        Keys::Float(k) => {
            let mut v: Vec<(u32, f64, u32)> =
                rows.map(|i| (groups_of[i], k[i], i as u32)).collect();
            v.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.total_cmp(&b.1)));
            v.into_iter().map(|t| t.2 as usize).collect()
        }
        Keys::Other(cmp) => {
            let mut v: Vec<usize> = rows.collect();
            v.sort_unstable_by(|&a, &b| groups_of[a].cmp(&groups_of[b]).then_with(|| cmp(a, b)));
            v
        }
    };
    let same_value = |a: usize, b: usize| match &keys {
        Keys::Whole(k) => k[a] == k[b],
        Keys::Exact(k) => k[a] == k[b],
        Keys::Float(k) => k[a].total_cmp(&k[b]).is_eq(),
        Keys::Other(cmp) => cmp(a, b).is_eq(),
    };
    // Groups of known values: runs of `known` with one `within` value.
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for k in 1..=known.len() {
        if k == known.len() || groups_of[known[start]] != groups_of[known[k]] {
            groups.push((start, k));
            start = k;
        }
    }
    // Runs of equal values inside a group: (first, end) positions in `known`.
    let ties = |a: usize, b: usize| -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut s = a;
        for k in a + 1..=b {
            if k == b || !same_value(known[s], known[k]) {
                out.push((s, k));
                s = k;
            }
        }
        out
    };

    match func {
        PopFunc::Percentile | PopFunc::Ntile(_) | PopFunc::Rank => {
            let mut ranks: Vec<Option<i64>> = vec![None; n];
            let mut float: Vec<Option<f64>> = vec![None; n];
            for &(a, b) in &groups {
                let size = i64::try_from(b - a).map_err(engine)?;
                for (s, e) in ties(a, b) {
                    // Rank from the smallest (first of the ties) and from the largest.
                    let up = i64::try_from(s - a).map_err(engine)? + 1;
                    let down = i64::try_from(b - e).map_err(engine)? + 1;
                    for &row in &known[s..e] {
                        match func {
                            PopFunc::Percentile => {
                                float[row] = Some(if size <= 1 {
                                    0.0
                                } else {
                                    (up - 1) as f64 / (size - 1) as f64
                                });
                            }
                            // `(r - 1) * k / (n - 1) + 1` in whole numbers, at most k.
                            PopFunc::Ntile(k) => {
                                let k = i64::from(k);
                                let g = if size <= 1 {
                                    1
                                } else {
                                    (up - 1) * k / (size - 1) + 1
                                };
                                ranks[row] = Some(g.min(k));
                            }
                            _ => ranks[row] = Some(down),
                        }
                    }
                }
            }
            Ok(if func == PopFunc::Percentile {
                Arc::new(Float64Array::from(float))
            } else {
                Arc::new(Int64Array::from(ranks))
            })
        }
        PopFunc::ShareOfTotal | PopFunc::CumulativeShare => {
            let sums = Sums::new(&value)?;
            // The total of each group (within only: unknown values add nothing).
            let mut total: Vec<Option<i128>> = vec![None; n];
            let mut running: Vec<Option<i128>> = vec![None; n];
            let mut ftotal: Vec<Option<f64>> = vec![None; n];
            let mut frunning: Vec<Option<f64>> = vec![None; n];
            for &(a, b) in &groups {
                match &sums {
                    Sums::Exact(v, _) => {
                        let mut t: i128 = 0;
                        for &row in &known[a..b] {
                            t = t.checked_add(v[row]).ok_or_else(too_big)?;
                        }
                        // From the largest values down; ties count in full.
                        let mut acc: i128 = 0;
                        for (s, e) in ties(a, b).into_iter().rev() {
                            for &row in &known[s..e] {
                                acc = acc.checked_add(v[row]).ok_or_else(too_big)?;
                            }
                            for &row in &known[s..e] {
                                running[row] = Some(acc);
                            }
                        }
                        for &row in &known[a..b] {
                            total[row] = Some(t);
                        }
                    }
                    Sums::Float(v) => {
                        let t: f64 = known[a..b].iter().map(|&r| v[r]).sum();
                        let mut acc = 0.0;
                        for (s, e) in ties(a, b).into_iter().rev() {
                            for &row in &known[s..e] {
                                acc += v[row];
                            }
                            for &row in &known[s..e] {
                                frunning[row] = Some(acc);
                            }
                        }
                        for &row in &known[a..b] {
                            ftotal[row] = Some(t);
                        }
                    }
                }
            }
            let (part, whole) = match &sums {
                Sums::Exact(..) => {
                    let part = if func == PopFunc::CumulativeShare {
                        sums.to_float(running)?
                    } else {
                        cast(&value, &DataType::Float64).map_err(engine)?
                    };
                    (part, sums.to_float(total)?)
                }
                Sums::Float(_) => {
                    let part: ArrayRef = if func == PopFunc::CumulativeShare {
                        Arc::new(Float64Array::from(frunning))
                    } else {
                        cast(&value, &DataType::Float64).map_err(engine)?
                    };
                    (part, Arc::new(Float64Array::from(ftotal)) as ArrayRef)
                }
            };
            let part = part.as_primitive::<Float64Type>();
            let whole = whole.as_primitive::<Float64Type>();
            let out: Float64Array = (0..n)
                .map(|i| {
                    if part.is_null(i) || whole.is_null(i) || whole.value(i).abs() == 0.0 {
                        None
                    } else {
                        Some(part.value(i) / whole.value(i))
                    }
                })
                .collect();
            Ok(Arc::new(out))
        }
    }
}

fn too_big() -> EngineError {
    EngineError::Unsupported("a total of a population function has more than 38 digits".to_owned())
}

/// -0.0 and 0.0 are the same number: drop zero's sign so that they tie.
fn normalize_zero(value: &ArrayRef) -> Result<ArrayRef> {
    if value.data_type() != &DataType::Float64 {
        return Ok(Arc::clone(value));
    }
    let v = value.as_primitive::<Float64Type>();
    let out: Float64Array = v.unary(|x| if x == 0.0 { 0.0 } else { x });
    Ok(Arc::new(out))
}

/// Values in a form that sorts fast: whole numbers (integers, decimal mantissas, dates and
/// times as counts), floating-point numbers, or anything else through Arrow's comparison.
enum Keys {
    /// Whole numbers, dates, times, durations, and decimals whose unscaled values fit.
    Whole(Vec<i64>),
    Exact(Vec<i128>),
    Float(Vec<f64>),
    Other(datafusion::arrow::array::DynComparator),
}

impl Keys {
    fn new(value: &ArrayRef) -> Result<Keys> {
        use datafusion::arrow::datatypes::{
            Date32Type, DurationMicrosecondType, TimestampMicrosecondType,
        };
        Ok(match value.data_type() {
            DataType::Int64 => Keys::Whole(value.as_primitive::<Int64Type>().values().to_vec()),
            DataType::Decimal128(..) => {
                let values = value.as_primitive::<Decimal128Type>().values();
                match values
                    .iter()
                    .map(|v| i64::try_from(*v))
                    .collect::<std::result::Result<Vec<i64>, _>>()
                {
                    Ok(narrow) => Keys::Whole(narrow),
                    Err(_) => Keys::Exact(values.to_vec()),
                }
            }
            DataType::Date32 => Keys::Whole(
                value
                    .as_primitive::<Date32Type>()
                    .values()
                    .iter()
                    .map(|v| i64::from(*v))
                    .collect(),
            ),
            DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Microsecond, _) => {
                Keys::Whole(
                    value
                        .as_primitive::<TimestampMicrosecondType>()
                        .values()
                        .to_vec(),
                )
            }
            DataType::Duration(datafusion::arrow::datatypes::TimeUnit::Microsecond) => Keys::Whole(
                value
                    .as_primitive::<DurationMicrosecondType>()
                    .values()
                    .to_vec(),
            ),
            DataType::Float64 => Keys::Float(value.as_primitive::<Float64Type>().values().to_vec()),
            _ => Keys::Other(
                make_comparator(value.as_ref(), value.as_ref(), SortOptions::default())
                    .map_err(engine)?,
            ),
        })
    }
}

/// A number for each row's group: equal values of `within` get equal numbers; unknown values
/// are a group of their own (0).
fn group_ids(within: &ArrayRef) -> Result<Vec<u32>> {
    let same = make_comparator(within.as_ref(), within.as_ref(), SortOptions::default())
        .map_err(engine)?;
    let mut ids = vec![0u32; within.len()];
    let mut seen: datafusion::common::HashMap<u64, Vec<(usize, u32)>> =
        datafusion::common::HashMap::new();
    let mut next = 1u32;
    crate::engine::keys::hashes(within, |i, h| {
        let reps = seen.entry(h).or_default();
        let id = match reps.iter().find(|(r, _)| same(*r, i).is_eq()) {
            Some((_, id)) => *id,
            None => {
                let id = next;
                next += 1;
                reps.push((i, id));
                id
            }
        };
        ids[i] = id;
    });
    Ok(ids)
}

/// The values summed by share functions: exact (whole numbers and decimals, as mantissas of
/// the column's scale) or floating point.
enum Sums {
    /// Mantissas, and the column's type (`Int64` or `Decimal128`).
    Exact(Vec<i128>, DataType),
    Float(Vec<f64>),
}

impl Sums {
    fn new(value: &ArrayRef) -> Result<Sums> {
        Ok(match value.data_type() {
            DataType::Int64 => Sums::Exact(
                value
                    .as_primitive::<Int64Type>()
                    .values()
                    .iter()
                    .map(|v| i128::from(*v))
                    .collect(),
                DataType::Int64,
            ),
            DataType::Decimal128(..) => Sums::Exact(
                value
                    .as_primitive::<Decimal128Type>()
                    .values()
                    .iter()
                    .copied()
                    .collect(),
                value.data_type().clone(),
            ),
            _ => {
                let f = cast(value, &DataType::Float64).map_err(engine)?;
                Sums::Float(f.as_primitive::<Float64Type>().values().to_vec())
            }
        })
    }

    /// Exact sums as floating-point numbers, converted the way Arrow converts the column's type.
    fn to_float(&self, sums: Vec<Option<i128>>) -> Result<ArrayRef> {
        let exact: ArrayRef = match self {
            Sums::Exact(_, DataType::Decimal128(p, s)) => Arc::new(
                Decimal128Array::from(sums)
                    .with_precision_and_scale(*p, *s)
                    .map_err(engine)?,
            ),
            _ => {
                let mut whole = Vec::with_capacity(sums.len());
                for v in sums {
                    whole.push(match v {
                        Some(v) => Some(i64::try_from(v).map_err(|_| too_big())?),
                        None => None,
                    });
                }
                Arc::new(Int64Array::from(whole))
            }
        };
        cast(&exact, &DataType::Float64).map_err(engine)
    }
}

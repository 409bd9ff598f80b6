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
use datafusion::arrow::compute::{SortColumn, SortOptions, cast, lexsort_to_indices};
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
    let order = sorted(&value, within)?;
    let same_group = match within {
        Some(w) => {
            Some(make_comparator(w.as_ref(), w.as_ref(), SortOptions::default()).map_err(engine)?)
        }
        None => None,
    };
    let same_value =
        make_comparator(value.as_ref(), value.as_ref(), SortOptions::default()).map_err(engine)?;
    let in_group = |a: usize, b: usize| same_group.as_ref().is_none_or(|c| c(a, b).is_eq());

    // Groups of known values: runs of `order` with one `within` value.
    let known: Vec<usize> = order.into_iter().filter(|&i| value.is_valid(i)).collect();
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for k in 1..=known.len() {
        if k == known.len() || !in_group(known[start], known[k]) {
            groups.push((start, k));
            start = k;
        }
    }
    // Runs of equal values inside a group: (first, end) positions in `known`.
    let ties = |a: usize, b: usize| -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut s = a;
        for k in a + 1..=b {
            if k == b || !same_value(known[s], known[k]).is_eq() {
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

/// Row numbers sorted by group, then value (unknown values first).
fn sorted(value: &ArrayRef, within: Option<&ArrayRef>) -> Result<Vec<usize>> {
    let options = Some(SortOptions {
        descending: false,
        nulls_first: true,
    });
    let mut columns = Vec::new();
    if let Some(w) = within {
        columns.push(SortColumn {
            values: Arc::clone(w),
            options,
        });
    }
    columns.push(SortColumn {
        values: Arc::clone(value),
        options,
    });
    let indices = lexsort_to_indices(&columns, None).map_err(engine)?;
    Ok(indices.values().iter().map(|i| *i as usize).collect())
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

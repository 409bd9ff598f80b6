//! Looking inside a Parquet file without a schema, for `segl schema infer`: each column's name,
//! what kind of values its Arrow type holds, and its values written as text.
//!
//! This lives in the engine because it is the only part of segl that knows Arrow's Parquet
//! reader; `crate::infer` decides what the columns mean.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::infer::Cell;

/// What the Arrow type of a Parquet column says about its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeekKind {
    /// Text: its values decide the type, as in a CSV file.
    Text,
    Integer,
    /// An exact decimal with this many digits after the point.
    Decimal(i8),
    /// A floating-point number.
    Number,
    Boolean,
    Date,
    Timestamp,
    List(Box<PeekKind>),
    /// A type segl does not read, described in words.
    Unsupported(String),
}

/// One column of a Parquet file.
#[derive(Clone, Debug, PartialEq)]
pub struct PeekColumn {
    pub name: String,
    pub kind: PeekKind,
    pub cells: Vec<Cell>,
}

/// Reads every column of a Parquet file held in memory.
///
/// # Errors
/// Why the bytes are not a Parquet file segl can read, in the reader's words.
pub fn parquet(bytes: &[u8]) -> Result<(Vec<PeekColumn>, usize), String> {
    let data = bytes::Bytes::copy_from_slice(bytes);
    let builder = ParquetRecordBatchReaderBuilder::try_new(data).map_err(|e| e.to_string())?;
    let schema = std::sync::Arc::clone(builder.schema());
    let reader = builder.build().map_err(|e| e.to_string())?;
    let mut columns: Vec<PeekColumn> = schema
        .fields()
        .iter()
        .map(|f| PeekColumn {
            name: f.name().clone(),
            kind: kind_of(f.data_type()),
            cells: Vec::new(),
        })
        .collect();
    let mut rows = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        rows += batch.num_rows();
        for (column, array) in columns.iter_mut().zip(batch.columns()) {
            column.cells.extend(cells(array));
        }
    }
    Ok((columns, rows))
}

fn kind_of(dt: &DataType) -> PeekKind {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => PeekKind::Text,
        DataType::Boolean => PeekKind::Boolean,
        _ if dt.is_integer() => PeekKind::Integer,
        DataType::Float16 | DataType::Float32 | DataType::Float64 => PeekKind::Number,
        DataType::Decimal128(_, s) | DataType::Decimal256(_, s) => PeekKind::Decimal(*s),
        DataType::Date32 | DataType::Date64 => PeekKind::Date,
        DataType::Timestamp(..) => PeekKind::Timestamp,
        DataType::List(f) | DataType::LargeList(f) => match kind_of(f.data_type()) {
            PeekKind::Unsupported(what) => PeekKind::Unsupported(format!("lists of {what}")),
            inner => PeekKind::List(Box::new(inner)),
        },
        other => PeekKind::Unsupported(other.to_string()),
    }
}

/// The values of one array as cells: texts and numbers as written, timestamps as RFC 3339.
fn cells(array: &ArrayRef) -> Vec<Cell> {
    let len = array.len();
    match array.data_type() {
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            (0..len)
                .map(|i| {
                    if list.is_null(i) {
                        Cell::Missing
                    } else {
                        Cell::List(cells(&list.value(i)))
                    }
                })
                .collect()
        }
        DataType::LargeList(_) => {
            let list = array.as_list::<i64>();
            (0..len)
                .map(|i| {
                    if list.is_null(i) {
                        Cell::Missing
                    } else {
                        Cell::List(cells(&list.value(i)))
                    }
                })
                .collect()
        }
        DataType::Timestamp(_, zone) => timestamps(array, zone.is_some()),
        DataType::Boolean => {
            let b = array.as_boolean();
            (0..len)
                .map(|i| {
                    if b.is_null(i) {
                        Cell::Missing
                    } else {
                        Cell::Bool(b.value(i))
                    }
                })
                .collect()
        }
        dt => {
            let numeric = dt.is_numeric();
            let options = FormatOptions::default();
            let Ok(formatter) = ArrayFormatter::try_new(array.as_ref(), &options) else {
                return vec![Cell::Other; len];
            };
            (0..len)
                .map(|i| {
                    if array.is_null(i) {
                        Cell::Missing
                    } else if numeric {
                        Cell::Number(formatter.value(i).to_string())
                    } else {
                        Cell::Text(formatter.value(i).to_string())
                    }
                })
                .collect()
        }
    }
}

fn timestamps(array: &ArrayRef, zoned: bool) -> Vec<Cell> {
    let target = DataType::Timestamp(TimeUnit::Microsecond, None);
    let Ok(micros) = datafusion::arrow::compute::cast(array, &target) else {
        return vec![Cell::Other; array.len()];
    };
    let micros = micros.as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
    (0..micros.len())
        .map(|i| {
            if micros.is_null(i) {
                return Cell::Missing;
            }
            let Ok(ts) = jiff::Timestamp::from_microsecond(micros.value(i)) else {
                return Cell::Other;
            };
            if zoned {
                Cell::Text(ts.to_string())
            } else {
                // A wall-clock time: written without an offset, read in the project's zone.
                Cell::Text(jiff::tz::TimeZone::UTC.to_datetime(ts).to_string())
            }
        })
        .collect()
}

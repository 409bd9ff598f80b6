//! How schema types are held in Arrow columns.

use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};

use crate::ir::Type;

/// The time zone name timestamps are stored in: every timestamp column holds UTC instants.
pub const UTC: &str = "UTC";

/// The Arrow type of a column holding values of `ty`.
///
/// - `text` and enums: `Utf8` (enum values are validated at load, not dictionary-encoded)
/// - `integer`: `Int64`; `number` and percentages: `Float64`; `boolean`: `Boolean`
/// - `decimal`: `Decimal128(38, scale)`; the scale is the data's (see `decimal_scale`), so this
///   function returns the type with `scale`
/// - `date`: `Date32`; `timestamp`: `Timestamp(Microsecond, "UTC")`
/// - `duration`: `Duration(Microsecond)`
/// - `list of T`: `List` of T's type
#[must_use]
pub fn arrow_type(ty: &Type, decimal_scale: i8) -> DataType {
    match ty {
        Type::Text | Type::Enum(_) | Type::Error => DataType::Utf8,
        Type::Integer => DataType::Int64,
        Type::Number | Type::Percent => DataType::Float64,
        Type::Bool => DataType::Boolean,
        Type::Decimal => DataType::Decimal128(38, decimal_scale),
        Type::Date => DataType::Date32,
        Type::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
        Type::Duration => DataType::Duration(TimeUnit::Microsecond),
        Type::List(inner) => DataType::List(std::sync::Arc::new(Field::new(
            "item",
            arrow_type(inner, decimal_scale),
            true,
        ))),
    }
}

/// The largest decimal scale segl keeps; more digits after the point are rejected at load.
pub const MAX_DECIMAL_SCALE: i8 = 18;

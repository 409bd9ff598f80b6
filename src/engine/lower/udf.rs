//! Scalar functions DataFusion lacks with segl's meaning: calendar arithmetic and local dates in
//! the project's time zone, anniversaries, list matching with `ignoring case`, exact decimal
//! rounding. Each is a plain Rust function over Arrow arrays.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder, Date32Array, Decimal128Array,
    Int64Array, ListArray, TimestampMicrosecondArray,
};
use datafusion::arrow::compute::kernels::boolean;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Int64Type, TimeUnit, TimestampMicrosecondType,
};
use datafusion::arrow::error::ArrowError;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use jiff::tz::TimeZone;

use crate::ir::DurationUnit;

type Kernel = dyn Fn(&[ArrayRef]) -> Result<ArrayRef> + Send + Sync;

/// A scalar function made of a name, an argument count, a return type and a kernel.
struct Udf {
    name: String,
    signature: Signature,
    /// The result type; `None` when it is the first argument's type.
    returns: Option<DataType>,
    kernel: Arc<Kernel>,
}

impl fmt::Debug for Udf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)
    }
}

impl PartialEq for Udf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Udf {}

impl Hash for Udf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for Udf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match &self.returns {
            Some(t) => Ok(t.clone()),
            None => arg_types
                .first()
                .cloned()
                .ok_or_else(|| internal("a function needs an argument")),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays: Vec<ArrayRef> = args
            .args
            .into_iter()
            .map(|a| a.into_array(rows))
            .collect::<Result<_>>()?;
        Ok(ColumnarValue::Array((self.kernel)(&arrays)?))
    }
}

fn udf(name: &str, args: usize, returns: Option<DataType>, kernel: Arc<Kernel>) -> ScalarUDF {
    ScalarUDF::from(Udf {
        name: name.to_owned(),
        signature: Signature::any(args, Volatility::Immutable),
        returns,
        kernel,
    })
}

fn internal(msg: impl Into<String>) -> DataFusionError {
    DataFusionError::Internal(msg.into())
}

const EPOCH: jiff::civil::Date = jiff::civil::date(1970, 1, 1);

/// Days since 1970-01-01 of a civil date (Arrow's `Date32`).
pub fn date_to_days(d: jiff::civil::Date) -> i32 {
    (d - EPOCH).get_days()
}

/// The civil date of an Arrow `Date32` value.
pub fn days_to_date(days: i32) -> Option<jiff::civil::Date> {
    EPOCH
        .checked_add(jiff::Span::new().days(i64::from(days)))
        .ok()
}

/// The local calendar date of a UTC instant (in microseconds) in `tz`.
pub fn local_date(micros: i64, tz: &TimeZone) -> Option<jiff::civil::Date> {
    let ts = jiff::Timestamp::from_microsecond(micros).ok()?;
    Some(tz.to_datetime(ts).date())
}

/// The UTC instant (microseconds) at which `date` begins in `tz`.
pub fn local_midnight(date: jiff::civil::Date, tz: &TimeZone) -> Option<i64> {
    let ts = tz
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .ok()?;
    Some(ts.as_microsecond())
}

/// `amount` units as a jiff span (calendar units stay calendar units).
pub fn span_of(amount: i64, unit: DurationUnit) -> Option<jiff::Span> {
    let s = jiff::Span::new();
    match unit {
        DurationUnit::Minute => s.try_minutes(amount).ok(),
        DurationUnit::Hour => s.try_hours(amount).ok(),
        DurationUnit::Day => s.try_days(amount).ok(),
        DurationUnit::Week => s.try_weeks(amount).ok(),
        DurationUnit::Month => s.try_months(amount).ok(),
        DurationUnit::Quarter => s.try_months(amount.checked_mul(3)?).ok(),
        DurationUnit::Year => s.try_years(amount).ok(),
    }
}

/// A stable number for each unit, passed to [`add_span`] as a literal.
pub fn unit_code(unit: DurationUnit) -> i64 {
    match unit {
        DurationUnit::Minute => 0,
        DurationUnit::Hour => 1,
        DurationUnit::Day => 2,
        DurationUnit::Week => 3,
        DurationUnit::Month => 4,
        DurationUnit::Quarter => 5,
        DurationUnit::Year => 6,
    }
}

fn unit_of(code: i64) -> Option<DurationUnit> {
    Some(match code {
        0 => DurationUnit::Minute,
        1 => DurationUnit::Hour,
        2 => DurationUnit::Day,
        3 => DurationUnit::Week,
        4 => DurationUnit::Month,
        5 => DurationUnit::Quarter,
        6 => DurationUnit::Year,
        _ => return None,
    })
}

/// The functions of one run (they close over the time zone and the as-of date).
pub struct Udfs {
    local_date: ScalarUDF,
    local_midnight: ScalarUDF,
    add_span_date: ScalarUDF,
    add_span_timestamp: ScalarUDF,
    anniversary: ScalarUDF,
    list_match: ScalarUDF,
    round_decimal: ScalarUDF,
    days_between: ScalarUDF,
    all: ScalarUDF,
    any: ScalarUDF,
}

impl Udfs {
    pub fn new(tz: &TimeZone, as_of: jiff::civil::Date) -> Udfs {
        let tz1 = tz.clone();
        let local_date_fn = udf(
            "segl_local_date",
            1,
            Some(DataType::Date32),
            Arc::new(move |a: &[ArrayRef]| {
                let ts = ts_arg(a, 0)?;
                let out: Date32Array = ts
                    .iter()
                    .map(|v| v.and_then(|m| local_date(m, &tz1)).map(date_to_days))
                    .collect();
                Ok(Arc::new(out) as ArrayRef)
            }),
        );
        let tz2 = tz.clone();
        let local_midnight_fn = udf(
            "segl_local_midnight",
            1,
            Some(DataType::Timestamp(
                TimeUnit::Microsecond,
                Some(super::super::types::UTC.into()),
            )),
            Arc::new(move |a: &[ArrayRef]| {
                let d = date_arg(a, 0)?;
                let out: TimestampMicrosecondArray = d
                    .iter()
                    .map(|v| {
                        v.and_then(days_to_date)
                            .and_then(|d| local_midnight(d, &tz2))
                    })
                    .collect();
                Ok(Arc::new(out.with_timezone(super::super::types::UTC)) as ArrayRef)
            }),
        );
        let add_span_date_fn = udf(
            "segl_add_span_date",
            3,
            Some(DataType::Date32),
            Arc::new(move |a: &[ArrayRef]| {
                let d = date_arg(a, 0)?;
                let amounts = int_arg(a, 1)?;
                let units = int_arg(a, 2)?;
                let out: Date32Array = (0..d.len())
                    .map(|i| {
                        if d.is_null(i) || amounts.is_null(i) || units.is_null(i) {
                            return None;
                        }
                        let span = span_of(amounts.value(i), unit_of(units.value(i))?)?;
                        let date = days_to_date(d.value(i))?;
                        date.checked_add(span).ok().map(date_to_days)
                    })
                    .collect();
                Ok(Arc::new(out) as ArrayRef)
            }),
        );
        let tz3 = tz.clone();
        let add_span_timestamp_fn = udf(
            "segl_add_span_timestamp",
            3,
            Some(DataType::Timestamp(
                TimeUnit::Microsecond,
                Some(super::super::types::UTC.into()),
            )),
            Arc::new(move |a: &[ArrayRef]| {
                let t = ts_arg(a, 0)?;
                let amounts = int_arg(a, 1)?;
                let units = int_arg(a, 2)?;
                let out: TimestampMicrosecondArray = (0..t.len())
                    .map(|i| {
                        if t.is_null(i) || amounts.is_null(i) || units.is_null(i) {
                            return None;
                        }
                        let unit = unit_of(units.value(i))?;
                        let span = span_of(amounts.value(i), unit)?;
                        let ts = jiff::Timestamp::from_microsecond(t.value(i)).ok()?;
                        let moved = if unit.is_calendar()
                            || unit == DurationUnit::Day
                            || unit == DurationUnit::Week
                        {
                            // Calendar units move the local date and keep the local time.
                            let local = ts.to_zoned_datetime(tz3.clone());
                            local.checked_add(span).ok()?.timestamp()
                        } else {
                            ts.checked_add(span).ok()?
                        };
                        Some(moved.as_microsecond())
                    })
                    .collect();
                Ok(Arc::new(out.with_timezone(super::super::types::UTC)) as ArrayRef)
            }),
        );
        let anniversary_fn = udf(
            "segl_anniversary",
            1,
            Some(DataType::Date32),
            Arc::new(move |a: &[ArrayRef]| {
                let d = date_arg(a, 0)?;
                let out: Date32Array = d
                    .iter()
                    .map(|v| {
                        v.and_then(days_to_date)
                            .and_then(|d| anniversary(d, as_of))
                            .map(date_to_days)
                    })
                    .collect();
                Ok(Arc::new(out) as ArrayRef)
            }),
        );
        let list_match_fn = udf(
            "segl_list_match",
            4,
            Some(DataType::Boolean),
            Arc::new(|a: &[ArrayRef]| list_match(a)),
        );
        let round_decimal_fn = udf(
            "segl_round_decimal",
            1,
            None,
            Arc::new(|a: &[ArrayRef]| round_decimal(a)),
        );
        let days_between_fn = udf(
            "segl_days_between",
            2,
            Some(DataType::Duration(TimeUnit::Microsecond)),
            Arc::new(|a: &[ArrayRef]| {
                let x = date_arg(a, 0)?;
                let y = date_arg(a, 1)?;
                let out: datafusion::arrow::array::DurationMicrosecondArray = (0..x.len())
                    .map(|i| {
                        if x.is_null(i) || y.is_null(i) {
                            None
                        } else {
                            i64::from(x.value(i) - y.value(i)).checked_mul(86_400_000_000)
                        }
                    })
                    .collect();
                Ok(Arc::new(out) as ArrayRef)
            }),
        );
        Udfs {
            all: connective("segl_all", boolean::and_kleene),
            any: connective("segl_any", boolean::or_kleene),
            local_date: local_date_fn,
            local_midnight: local_midnight_fn,
            add_span_date: add_span_date_fn,
            add_span_timestamp: add_span_timestamp_fn,
            anniversary: anniversary_fn,
            list_match: list_match_fn,
            round_decimal: round_decimal_fn,
            days_between: days_between_fn,
        }
    }

    pub fn local_date(&self, ts: Expr) -> Expr {
        self.local_date.call(vec![ts])
    }

    pub fn local_midnight(&self, date: Expr) -> Expr {
        self.local_midnight.call(vec![date])
    }

    pub fn add_span(&self, value: Expr, is_date: bool, amount: Expr, unit: Expr) -> Expr {
        if is_date {
            self.add_span_date.call(vec![value, amount, unit])
        } else {
            self.add_span_timestamp.call(vec![value, amount, unit])
        }
    }

    pub fn anniversary(&self, date: Expr) -> Expr {
        self.anniversary.call(vec![date])
    }

    /// `mode`: true for "all of", false for "any of".
    pub fn list_match(&self, list: Expr, needles: Expr, all: bool, ignore_case: bool) -> Expr {
        use datafusion::prelude::lit;
        self.list_match
            .call(vec![list, needles, lit(all), lit(ignore_case)])
    }

    /// Rounds a decimal to a whole number, half away from zero, keeping its type.
    pub fn round_decimal(&self, value: Expr) -> Expr {
        self.round_decimal.call(vec![value])
    }

    pub fn days_between(&self, a: Expr, b: Expr) -> Expr {
        self.days_between.call(vec![a, b])
    }

    /// All of `conditions` (unknown when none is false and one is unknown, as SQL's `AND`).
    pub fn all(&self, conditions: Vec<Expr>) -> Expr {
        self.all.call(conditions)
    }

    /// Any of `conditions` (unknown when none is true and one is unknown, as SQL's `OR`).
    pub fn any(&self, conditions: Vec<Expr>) -> Expr {
        self.any.call(conditions)
    }
}

/// Conditions as yes or no: an unknown condition is a no.
pub trait KnownTrue {
    /// True where the condition is known to hold: DataFusion's `IS TRUE` compares value by
    /// value; this masks the values with the nulls ([`super::dense::known_true`]).
    fn known_true(self) -> Expr;
}

impl KnownTrue for Expr {
    fn known_true(self) -> Expr {
        static IS_TRUE: std::sync::LazyLock<ScalarUDF> = std::sync::LazyLock::new(|| {
            udf(
                "segl_is_true",
                1,
                Some(DataType::Boolean),
                Arc::new(|a: &[ArrayRef]| {
                    let x = a
                        .first()
                        .and_then(|x| x.as_boolean_opt())
                        .ok_or_else(|| internal("expected a condition"))?;
                    Ok(Arc::new(super::dense::known_true(x)) as ArrayRef)
                }),
            )
        });
        IS_TRUE.call(vec![self])
    }
}

/// `and` or `or` of any number of conditions, each evaluated over the whole batch.
///
/// DataFusion's own `AND` and `OR` evaluate their right side only on the rows the left side
/// leaves undecided when those are few, by copying those rows of every column of the batch
/// first. segl's conditions are cheap comparisons over batches of many columns (a customer's
/// lists and texts), where that copy costs more than the comparisons it saves; combining the
/// whole columns' results bit by bit is faster.
fn connective(
    name: &str,
    combine: fn(&BooleanArray, &BooleanArray) -> std::result::Result<BooleanArray, ArrowError>,
) -> ScalarUDF {
    ScalarUDF::from(Udf {
        name: name.to_owned(),
        signature: Signature::variadic_any(Volatility::Immutable),
        returns: Some(DataType::Boolean),
        kernel: Arc::new(move |a: &[ArrayRef]| {
            let mut out: Option<BooleanArray> = None;
            for x in a {
                let x = x
                    .as_boolean_opt()
                    .ok_or_else(|| internal("expected a condition"))?;
                out = Some(match out {
                    Some(o) => combine(&o, x)?,
                    None => x.clone(),
                });
            }
            out.map(|o| Arc::new(o) as ArrayRef)
                .ok_or_else(|| internal("a connective needs a condition"))
        }),
    })
}

/// The next occurrence of `d`'s month and day on or after `as_of` (Feb 29 falls on Feb 28 in
/// other years).
pub fn anniversary(d: jiff::civil::Date, as_of: jiff::civil::Date) -> Option<jiff::civil::Date> {
    let in_year = |year: i16| -> Option<jiff::civil::Date> {
        let day = d
            .day()
            .min(jiff::civil::date(year, d.month(), 1).days_in_month());
        jiff::civil::Date::new(year, d.month(), day).ok()
    };
    let this_year = in_year(as_of.year())?;
    if this_year >= as_of {
        Some(this_year)
    } else {
        in_year(as_of.year().checked_add(1)?)
    }
}

fn date_arg(a: &[ArrayRef], i: usize) -> Result<&Date32Array> {
    a.get(i)
        .and_then(|x| x.as_primitive_opt::<Date32Type>())
        .ok_or_else(|| internal("expected a date argument"))
}

fn ts_arg(a: &[ArrayRef], i: usize) -> Result<&TimestampMicrosecondArray> {
    a.get(i)
        .and_then(|x| x.as_primitive_opt::<TimestampMicrosecondType>())
        .ok_or_else(|| internal("expected a timestamp argument"))
}

fn int_arg(a: &[ArrayRef], i: usize) -> Result<&Int64Array> {
    a.get(i)
        .and_then(|x| x.as_primitive_opt::<Int64Type>())
        .ok_or_else(|| internal("expected an integer argument"))
}

fn bool_arg(a: &[ArrayRef], i: usize) -> Result<&BooleanArray> {
    a.get(i)
        .and_then(|x| x.as_boolean_opt())
        .ok_or_else(|| internal("expected a boolean argument"))
}

/// The text of element `j` of a list's values (other element types compare by their display
/// form); `None` for an unknown element.
fn item_text(values: &ArrayRef, j: usize) -> Option<std::borrow::Cow<'_, str>> {
    if values.is_null(j) {
        return None;
    }
    match values.as_string_opt::<i32>() {
        Some(s) => Some(std::borrow::Cow::Borrowed(s.value(j))),
        None => datafusion::arrow::util::display::array_value_to_string(values, j)
            .ok()
            .map(std::borrow::Cow::Owned),
    }
}

/// Whether two texts are equal, ignoring case when `ci` (`wanted` already in lower case then).
fn same_text(have: &str, wanted: &str, ci: bool) -> bool {
    if !ci {
        return have == wanted;
    }
    if have.is_ascii() && wanted.is_ascii() {
        return have.eq_ignore_ascii_case(wanted);
    }
    have.to_lowercase() == wanted
}

/// The element range of list `row`.
fn items(list: &ListArray, row: usize) -> std::ops::Range<usize> {
    let offsets = list.value_offsets();
    let start = usize::try_from(offsets[row]).unwrap_or(0);
    let end = usize::try_from(offsets[row + 1]).unwrap_or(start);
    start..end
}

/// Whether list `row` of `lists` holds all (or any) of `wanted`.
fn holds(lists: &ListArray, row: usize, wanted: &[String], all: bool, ci: bool) -> bool {
    let values = lists.values();
    let range = items(lists, row);
    let found = |w: &String| {
        range
            .clone()
            .any(|j| item_text(values, j).is_some_and(|h| same_text(&h, w, ci)))
    };
    if all {
        wanted.iter().all(found)
    } else {
        wanted.iter().any(found)
    }
}

fn list_match(a: &[ArrayRef]) -> Result<ArrayRef> {
    let lists = a
        .first()
        .and_then(|x| x.as_list_opt::<i32>())
        .ok_or_else(|| internal("expected a list"))?;
    let needles = a
        .get(1)
        .and_then(|x| x.as_list_opt::<i32>())
        .ok_or_else(|| internal("expected a list of values to look for"))?;
    let all = bool_arg(a, 2)?;
    let ci = bool_arg(a, 3)?;
    let mut out = BooleanBuilder::with_capacity(lists.len());
    let mut wanted: Vec<String> = Vec::new();
    for i in 0..lists.len() {
        if lists.is_null(i) || needles.is_null(i) {
            out.append_null();
            continue;
        }
        let lower = ci.value(i);
        wanted.clear();
        let values = needles.values();
        for j in items(needles, i) {
            if let Some(t) = item_text(values, j) {
                wanted.push(if lower {
                    t.to_lowercase()
                } else {
                    t.into_owned()
                });
            }
        }
        out.append_value(holds(lists, i, &wanted, all.value(i), lower));
    }
    Ok(Arc::new(out.finish()))
}

/// A list test against values known when the plan is made (`contains "vip"`, `contains any of
/// ["slack", "teams"]`): the values are prepared once instead of in every row.
pub fn list_match_constant(name: &str, wanted: &[String], all: bool, ci: bool) -> ScalarUDF {
    let wanted: Vec<String> = wanted
        .iter()
        .map(|w| if ci { w.to_lowercase() } else { w.clone() })
        .collect();
    udf(
        name,
        1,
        Some(DataType::Boolean),
        Arc::new(move |a: &[ArrayRef]| {
            let lists = a
                .first()
                .and_then(|x| x.as_list_opt::<i32>())
                .ok_or_else(|| internal("expected a list"))?;
            let out: BooleanArray = (0..lists.len())
                .map(|i| (!lists.is_null(i)).then(|| holds(lists, i, &wanted, all, ci)))
                .collect();
            Ok(Arc::new(out) as ArrayRef)
        }),
    )
}

fn round_decimal(a: &[ArrayRef]) -> Result<ArrayRef> {
    let arr = a
        .first()
        .and_then(|x| x.as_primitive_opt::<Decimal128Type>())
        .ok_or_else(|| internal("expected a decimal"))?;
    let (precision, scale) = match arr.data_type() {
        DataType::Decimal128(p, s) => (*p, *s),
        _ => return Err(internal("expected a decimal")),
    };
    let factor = 10_i128.pow(u32::try_from(scale.max(0)).unwrap_or(0));
    let out: Decimal128Array = arr
        .iter()
        .map(|v| {
            v.map(|m| {
                if factor == 1 {
                    return m;
                }
                // Half away from zero, like `f64::round`.
                let q = m / factor;
                let r = m % factor;
                let q = if r.abs() * 2 >= factor {
                    q + m.signum()
                } else {
                    q
                };
                q * factor
            })
        })
        .collect();
    Ok(Arc::new(out.with_precision_and_scale(precision, scale)?))
}

/// A function that picks values of a computed column by row: `name(rows)` is the value of
/// `column` at each row number in `rows` (unknown where the row number is unknown). This is how
/// values computed in an earlier step (aggregates over related records, values of a related
/// record, population functions) join the records they belong to: by row number, with no
/// comparison of keys.
pub fn gather(name: &str, column: ArrayRef) -> ScalarUDF {
    let returns = column.data_type().clone();
    udf(
        name,
        1,
        Some(returns),
        Arc::new(move |args: &[ArrayRef]| {
            let rows = args
                .first()
                .ok_or_else(|| internal("a gather needs row numbers"))?;
            Ok(datafusion::arrow::compute::take(
                column.as_ref(),
                rows.as_ref(),
                None,
            )?)
        }),
    )
}

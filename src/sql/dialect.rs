//! What differs between SQL engines: types, literals, calendar and text functions.
//!
//! A new engine is a new variant of [`Dialect`]; every `match` here then asks for its spelling.
//! Functions return `None` where the engine has no faithful spelling; the compiler turns that into
//! a coded diagnostic at the rule.

use jiff::civil::Date;

use crate::ir::PeriodUnit;

/// Microseconds in a day of 24 hours.
pub(crate) const DAY_MICROS: i64 = 86_400_000_000;

/// `n` times `unit` microseconds as SQL integer text (parenthesised when negative).
pub(crate) fn micros_text(n: i64, unit: i64) -> String {
    let x = i128::from(n) * i128::from(unit);
    if x < 0 {
        format!("({x})")
    } else {
        x.to_string()
    }
}

/// A SQL engine segl can write for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    DuckDb,
    Postgres,
    Sqlite,
}

impl Dialect {
    pub const ALL: [(Dialect, &'static str); 3] = [
        (Dialect::DuckDb, "duckdb"),
        (Dialect::Postgres, "postgres"),
        (Dialect::Sqlite, "sqlite"),
    ];

    /// The name users give on the command line and read in messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        Dialect::ALL
            .iter()
            .find(|(d, _)| *d == self)
            .map_or("?", |(_, n)| n)
    }

    /// The engine's name in prose.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Dialect::DuckDb => "DuckDB",
            Dialect::Postgres => "PostgreSQL",
            Dialect::Sqlite => "SQLite",
        }
    }

    pub(crate) fn bool_lit(self, b: bool) -> &'static str {
        match (self, b) {
            (_, true) => "TRUE",
            (_, false) => "FALSE",
        }
    }

    pub(crate) fn double(self) -> &'static str {
        match self {
            Dialect::DuckDb => "DOUBLE",
            Dialect::Postgres => "DOUBLE PRECISION",
            Dialect::Sqlite => "REAL",
        }
    }

    /// Whether decimal values are exact (SQLite stores them as floating point).
    pub(crate) fn exact_decimals(self) -> bool {
        !matches!(self, Dialect::Sqlite)
    }

    pub(crate) fn date_lit(self, d: Date) -> String {
        match self {
            Dialect::DuckDb | Dialect::Postgres => format!("DATE '{d}'"),
            // Dates are stored as `YYYY-MM-DD` text, which sorts like the dates.
            Dialect::Sqlite => format!("'{d}'"),
        }
    }

    /// An instant given in microseconds since 1970 (UTC).
    pub(crate) fn instant_lit(self, micros: i64) -> Option<String> {
        match self {
            Dialect::DuckDb | Dialect::Postgres => {
                let ts = jiff::Timestamp::from_microsecond(micros).ok()?;
                let civil = jiff::tz::TimeZone::UTC.to_datetime(ts);
                Some(format!(
                    "TIMESTAMPTZ '{} {}+00'",
                    civil.date(),
                    civil.time().strftime("%H:%M:%S%.f")
                ))
            }
            // Timestamps are stored as whole microseconds since 1970 (UTC).
            Dialect::Sqlite => Some(micros.to_string()),
        }
    }

    /// A double-precision constant.
    pub(crate) fn double_lit(self, x: f64) -> Option<String> {
        if !x.is_finite() {
            return None;
        }
        Some(format!("CAST({x:?} AS {})", self.double()))
    }

    /// An exact decimal constant.
    pub(crate) fn decimal_lit(self, text: &str) -> String {
        match self {
            // As narrow as the constant: DuckDB gives `COALESCE`, `CASE` and arithmetic the width
            // and scale that hold both sides, and a 38-digit constant would leave no room for
            // the other side's decimals (a sum of cents would be rounded to whole units).
            Dialect::DuckDb => {
                let scale = scale_of(text);
                let digits = text.chars().filter(char::is_ascii_digit).count();
                format!(
                    "CAST({text} AS DECIMAL({}, {scale}))",
                    digits.max(scale + 1).min(38)
                )
            }
            Dialect::Postgres => format!("{text}::NUMERIC"),
            Dialect::Sqlite => text.to_owned(),
        }
    }

    /// The local calendar date of a timestamp in `tz` (an IANA name).
    pub(crate) fn local_date(self, ts: &str, tz: &str, tz_lit: &str) -> Option<String> {
        match self {
            Dialect::DuckDb => Some(format!("CAST(timezone({tz_lit}, {ts}) AS DATE)")),
            Dialect::Postgres => Some(format!("CAST(({ts}) AT TIME ZONE {tz_lit} AS DATE)")),
            Dialect::Sqlite if tz == "UTC" => Some(format!("date(({ts}) / 1000000, 'unixepoch')")),
            Dialect::Sqlite => None,
        }
    }

    /// The instant a date's day begins in `tz`; `fold_safe` as for [`Dialect::instant_of_local`].
    pub(crate) fn local_midnight(
        self,
        date: &str,
        tz: &str,
        tz_lit: &str,
        fold_safe: bool,
    ) -> Option<String> {
        self.instant_of_local(&self.date_to_local(date), tz, tz_lit, fold_safe)
    }

    /// Year, month or day of a date, as an integer.
    pub(crate) fn date_part(self, part: &str, date: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Postgres => {
                format!(
                    "CAST(EXTRACT({} FROM {date}) AS BIGINT)",
                    part.to_uppercase()
                )
            }
            Dialect::Sqlite => {
                let f = match part {
                    "year" => "%Y",
                    "month" => "%m",
                    _ => "%d",
                };
                format!("CAST(strftime('{f}', {date}) AS INTEGER)")
            }
        }
    }

    /// A date from integer year, month and day expressions.
    pub(crate) fn make_date(self, y: &str, m: &str, d: &str) -> String {
        match self {
            Dialect::DuckDb => format!("make_date({y}, {m}, {d})"),
            Dialect::Postgres => format!(
                "make_date(CAST({y} AS INTEGER), CAST({m} AS INTEGER), CAST({d} AS INTEGER))"
            ),
            Dialect::Sqlite => format!("printf('%04d-%02d-%02d', {y}, {m}, {d})"),
        }
    }

    /// Whole days from the date `from` to the date `to` (negative when `to` is earlier).
    pub(crate) fn days_between(self, from: &str, to: &str) -> String {
        match self {
            Dialect::DuckDb => format!("date_diff('day', {from}, {to})"),
            Dialect::Postgres => format!("({to} - {from})"),
            Dialect::Sqlite => format!("CAST(julianday({to}) - julianday({from}) AS INTEGER)"),
        }
    }

    /// The as-of date read from the named parameter the caller binds before running the SQL
    /// (`name` is lower-case ASCII letters, digits and underscores).
    pub(crate) fn as_of_param(self, name: &str) -> String {
        match self {
            // A variable set with `SET VARIABLE`; an unset one stops the query with a message
            // instead of comparing with an unknown date.
            Dialect::DuckDb => format!(
                "CAST(COALESCE(getvariable('{name}'), error('set the as-of date first: SET \
                 VARIABLE {name} = DATE ''YYYY-MM-DD''')) AS DATE)"
            ),
            // A custom setting (`SET segl.NAME = '...'`): psql, psycopg and views can all set
            // it, and reading an unset one is an error.
            Dialect::Postgres => format!("CAST(current_setting('segl.{name}') AS DATE)"),
            // A named parameter, bound by the caller (`.parameter set` in the sqlite3 shell).
            Dialect::Sqlite => format!("date(:{name})"),
        }
    }

    /// A date moved by whole days (`n` may be negative).
    pub(crate) fn add_days(self, date: &str, n: i64) -> String {
        match self {
            Dialect::DuckDb | Dialect::Postgres => {
                if n < 0 {
                    format!("({date} - {})", n.unsigned_abs())
                } else {
                    format!("({date} + {n})")
                }
            }
            Dialect::Sqlite => format!("date({date}, '{n:+} days')"),
        }
    }

    /// A date moved by calendar months; a day that the target month lacks becomes its last day
    /// (31 January + 1 month = 28 February). `first_of_month`: the date is known to be the 1st,
    /// so nothing needs clamping.
    pub(crate) fn add_months(self, date: &str, n: i64, first_of_month: bool) -> String {
        match self {
            Dialect::DuckDb => format!("CAST({date} + INTERVAL ({n}) MONTH AS DATE)"),
            Dialect::Postgres => format!("CAST({date} + INTERVAL '{n} months' AS DATE)"),
            Dialect::Sqlite if first_of_month => format!("date({date}, '{n:+} months')"),
            // SQLite's own `+N months` rolls over into the next month (31 January + 1 month is
            // 3 March), so the month is computed by hand and the day clamped to its length.
            Dialect::Sqlite => {
                let idx = format!(
                    "(CAST(strftime('%Y', {date}) AS INTEGER) * 12 + \
                     CAST(strftime('%m', {date}) AS INTEGER) - 1 + ({n}))"
                );
                let first = format!("printf('%04d-%02d-01', {idx} / 12, {idx} % 12 + 1)");
                format!(
                    "CASE WHEN date({date}) IS NULL THEN NULL ELSE printf('%s-%02d', \
                     substr({first}, 1, 7), MIN(CAST(strftime('%d', {date}) AS INTEGER), \
                     CAST(strftime('%d', date({first}, '+1 months', '-1 days')) AS INTEGER))) END"
                )
            }
        }
    }

    /// The first day of the calendar week (Monday), month, quarter or year holding `date`.
    pub(crate) fn period_start(self, date: &str, unit: PeriodUnit) -> String {
        let part = match unit {
            PeriodUnit::Week => "week",
            PeriodUnit::Month => "month",
            PeriodUnit::Quarter => "quarter",
            PeriodUnit::Year => "year",
        };
        match self {
            Dialect::DuckDb => format!("CAST(date_trunc('{part}', {date}) AS DATE)"),
            Dialect::Postgres => {
                format!("CAST(date_trunc('{part}', CAST({date} AS TIMESTAMP)) AS DATE)")
            }
            Dialect::Sqlite => match unit {
                PeriodUnit::Week => format!("date({date}, '-6 days', 'weekday 1')"),
                PeriodUnit::Month => format!("date({date}, 'start of month')"),
                PeriodUnit::Quarter => format!(
                    "printf('%s-%02d-01', strftime('%Y', {date}), \
                     (CAST(strftime('%m', {date}) AS INTEGER) - 1) / 3 * 3 + 1)"
                ),
                PeriodUnit::Year => format!("date({date}, 'start of year')"),
            },
        }
    }

    /// Whether a year (an integer expression) has a 29 February.
    pub(crate) fn leap_year(self, y: &str) -> String {
        format!("({y} % 4 = 0 AND ({y} % 100 <> 0 OR {y} % 400 = 0))")
    }

    /// The wall-clock time of an instant in `tz` (a `TIMESTAMP` without time zone; SQLite:
    /// microseconds, UTC only).
    pub(crate) fn to_local(self, ts: &str, tz: &str, tz_lit: &str) -> Option<String> {
        match self {
            Dialect::DuckDb => Some(format!("timezone({tz_lit}, {ts})")),
            Dialect::Postgres => Some(format!("(({ts}) AT TIME ZONE {tz_lit})")),
            Dialect::Sqlite if tz == "UTC" => Some(ts.to_owned()),
            Dialect::Sqlite => None,
        }
    }

    /// The instant a wall-clock time in `tz` names. A time the clocks skip is read with the
    /// offset before the change (02:30 on a spring-forward day is 03:30 summer time); with
    /// `fold_safe`, a time the clocks pass twice is the earlier instant, as `segl run` reads it
    /// (DuckDB and PostgreSQL take the later one on their own). Without `fold_safe` the caller
    /// knows that no such time can occur.
    pub(crate) fn instant_of_local(
        self,
        local: &str,
        tz: &str,
        tz_lit: &str,
        fold_safe: bool,
    ) -> Option<String> {
        match self {
            Dialect::DuckDb => {
                let c = format!("timezone({tz_lit}, {local})");
                if !fold_safe {
                    return Some(c);
                }
                // The same wall-clock time read with the offset of 24 hours earlier: when that
                // names the same wall-clock time, the clocks passed it twice, and that reading is
                // the first time.
                let p = format!("({c} - INTERVAL 24 HOUR)");
                let e = format!(
                    "timezone('UTC', {local} - (timezone({tz_lit}, {p}) - timezone('UTC', {p})))"
                );
                Some(format!(
                    "CASE WHEN timezone({tz_lit}, {e}) = {local} THEN {e} ELSE {c} END"
                ))
            }
            Dialect::Postgres => {
                let c = format!("(({local}) AT TIME ZONE {tz_lit})");
                if !fold_safe {
                    return Some(c);
                }
                let p = format!("({c} - INTERVAL '24 hours')");
                let e = format!(
                    "(({local} - (({p} AT TIME ZONE {tz_lit}) - ({p} AT TIME ZONE 'UTC'))) \
                     AT TIME ZONE 'UTC')"
                );
                Some(format!(
                    "CASE WHEN ({e} AT TIME ZONE {tz_lit}) = {local} THEN {e} ELSE {c} END"
                ))
            }
            Dialect::Sqlite if tz == "UTC" => Some(local.to_owned()),
            Dialect::Sqlite => None,
        }
    }

    /// A date as the wall-clock time of its midnight.
    pub(crate) fn date_to_local(self, date: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Postgres => format!("CAST({date} AS TIMESTAMP)"),
            Dialect::Sqlite => format!("(CAST(unixepoch({date}) AS INTEGER) * 1000000)"),
        }
    }

    /// A wall-clock time moved by calendar days, or months with `months`, keeping the time of
    /// day.
    pub(crate) fn local_add(self, local: &str, n: i64, months: bool) -> String {
        match (self, months) {
            (Dialect::DuckDb, false) => format!("({local} + INTERVAL ({n}) DAY)"),
            (Dialect::DuckDb, true) => format!("({local} + INTERVAL ({n}) MONTH)"),
            (Dialect::Postgres, false) => format!("({local} + INTERVAL '{n} days')"),
            (Dialect::Postgres, true) => format!("({local} + INTERVAL '{n} months')"),
            (Dialect::Sqlite, false) => format!("({local} + {})", micros_text(n, DAY_MICROS)),
            (Dialect::Sqlite, true) => {
                // Midnight of the day (rounded down, also before 1970) and the time of day.
                let tod = format!("((({local}) % {DAY_MICROS} + {DAY_MICROS}) % {DAY_MICROS})");
                let day = format!("date((({local}) - {tod}) / 1000000, 'unixepoch')");
                format!(
                    "(CAST(unixepoch({}) AS INTEGER) * 1000000 + {tod})",
                    self.add_months(&day, n, false)
                )
            }
        }
    }

    /// An instant moved by an exact number of microseconds (`micros` is an integer expression).
    pub(crate) fn add_micros(self, ts: &str, micros: &str) -> String {
        match self {
            Dialect::DuckDb => format!("({ts} + to_microseconds(CAST({micros} AS BIGINT)))"),
            // Whole seconds and the rest apart: PostgreSQL multiplies intervals in floating
            // point, which is exact only for moderate factors.
            Dialect::Postgres => format!(
                "({ts} + ({micros}) / 1000000 * INTERVAL '1 second' + ({micros}) % 1000000 * \
                 INTERVAL '1 microsecond')"
            ),
            Dialect::Sqlite => format!("({ts} + {micros})"),
        }
    }

    /// The microseconds from instant `b` to instant `a`.
    pub(crate) fn instant_diff(self, a: &str, b: &str) -> String {
        match self {
            Dialect::DuckDb => format!("(epoch_us({a}) - epoch_us({b}))"),
            Dialect::Postgres => {
                format!("CAST(EXTRACT(EPOCH FROM ({a}) - ({b})) * 1000000 AS BIGINT)")
            }
            Dialect::Sqlite => format!("({a} - {b})"),
        }
    }

    /// Whether `lower`/`upper` follow Unicode (SQLite's only change ASCII letters).
    pub(crate) fn unicode_case(self) -> bool {
        !matches!(self, Dialect::Sqlite)
    }

    pub(crate) fn contains(self, v: &str, p: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Postgres => format!("(strpos({v}, {p}) > 0)"),
            Dialect::Sqlite => format!("(instr({v}, {p}) > 0)"),
        }
    }

    pub(crate) fn starts_with(self, v: &str, p: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Postgres => format!("starts_with({v}, {p})"),
            Dialect::Sqlite => format!("(substr({v}, 1, length({p})) = {p})"),
        }
    }

    pub(crate) fn ends_with(self, v: &str, p: &str) -> String {
        match self {
            Dialect::DuckDb => format!("ends_with({v}, {p})"),
            Dialect::Postgres => format!("(right({v}, char_length({p})) = {p})"),
            Dialect::Sqlite => {
                format!("(length({p}) = 0 OR substr({v}, -length({p})) = {p})")
            }
        }
    }

    /// A regular-expression search (the pattern may match anywhere).
    pub(crate) fn regex(self, v: &str, p: &str, ignore_case: bool) -> Option<String> {
        match self {
            Dialect::DuckDb => Some(if ignore_case {
                format!("regexp_matches({v}, {p}, 'i')")
            } else {
                format!("regexp_matches({v}, {p})")
            }),
            Dialect::Postgres => Some(format!(
                "({v} {} {p})",
                if ignore_case { "~*" } else { "~" }
            )),
            Dialect::Sqlite => None,
        }
    }

    pub(crate) fn text_length(self, v: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Sqlite => format!("length({v})"),
            Dialect::Postgres => format!("char_length({v})"),
        }
    }

    /// The number of elements of a list column.
    pub(crate) fn list_length(self, v: &str) -> String {
        match self {
            Dialect::DuckDb => format!("len({v})"),
            Dialect::Postgres => format!("cardinality({v})"),
            Dialect::Sqlite => format!("json_array_length({v})"),
        }
    }

    /// A list column lower-cased element by element.
    pub(crate) fn list_lower(self, v: &str) -> Option<String> {
        match self {
            Dialect::DuckDb => Some(format!("list_transform({v}, x -> lower(x))")),
            Dialect::Postgres => Some(format!("ARRAY(SELECT lower(x) FROM unnest({v}) AS x)")),
            Dialect::Sqlite => None,
        }
    }

    /// Whether the list holds the element (`needle` is a quoted literal or an expression).
    pub(crate) fn list_has(self, list: &str, needle: &str) -> String {
        match self {
            Dialect::DuckDb => format!("list_contains({list}, {needle})"),
            Dialect::Postgres => format!("({needle} = ANY({list}))"),
            Dialect::Sqlite => {
                format!("EXISTS (SELECT 1 FROM json_each({list}) WHERE value = {needle})")
            }
        }
    }

    /// The smaller of two numbers.
    pub(crate) fn least(self, a: &str, b: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Postgres => format!("LEAST({a}, {b})"),
            Dialect::Sqlite => format!("MIN({a}, {b})"),
        }
    }

    /// The quotient of two non-negative integers, rounded down, as an integer.
    pub(crate) fn int_div(self, a: &str, b: &str) -> String {
        match self {
            Dialect::DuckDb => format!("({a} // {b})"),
            Dialect::Postgres | Dialect::Sqlite => format!("({a} / {b})"),
        }
    }

    /// A floating-point number rounded half away from zero.
    pub(crate) fn round_double(self, x: &str) -> String {
        match self {
            // DuckDB's and SQLite's `round` round halves away from zero already.
            Dialect::DuckDb | Dialect::Sqlite => format!("round({x})"),
            // PostgreSQL rounds floating-point halves to even; compute it from the fraction.
            Dialect::Postgres => format!(
                "(trunc({x}) + CASE WHEN abs({x} - trunc({x})) >= 0.5 THEN sign({x}) ELSE 0 END)"
            ),
        }
    }

    /// An exact decimal rounded half away from zero to a whole number.
    pub(crate) fn round_decimal(self, x: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Postgres | Dialect::Sqlite => format!("round({x})"),
        }
    }

    /// `value` converted to an exact decimal.
    pub(crate) fn to_decimal(self, x: &str) -> String {
        match self {
            // Wide enough for any whole number (BIGINT has 19 digits), and no wider: see
            // `decimal_lit`.
            Dialect::DuckDb => format!("CAST({x} AS DECIMAL(19, 0))"),
            Dialect::Postgres => format!("CAST({x} AS NUMERIC)"),
            Dialect::Sqlite => x.to_owned(),
        }
    }
}

fn scale_of(text: &str) -> usize {
    text.split_once('.').map_or(0, |(_, f)| f.len())
}

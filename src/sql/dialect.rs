//! What differs between SQL engines: types, literals, calendar and text functions.
//!
//! A new engine is a new variant of [`Dialect`]; every `match` here then asks for its spelling.
//! Functions return `None` where the engine has no faithful spelling; the compiler turns that into
//! a coded diagnostic at the rule.

use jiff::civil::Date;

use crate::ir::{PeriodUnit, Type};

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
    BigQuery,
    Snowflake,
    /// Spark SQL (3.4 or later), in ANSI mode.
    Spark,
}

impl Dialect {
    pub const ALL: [(Dialect, &'static str); 6] = [
        (Dialect::DuckDb, "duckdb"),
        (Dialect::Postgres, "postgres"),
        (Dialect::Sqlite, "sqlite"),
        (Dialect::BigQuery, "bigquery"),
        (Dialect::Snowflake, "snowflake"),
        (Dialect::Spark, "spark"),
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
            Dialect::BigQuery => "BigQuery",
            Dialect::Snowflake => "Snowflake",
            Dialect::Spark => "Spark SQL",
        }
    }

    pub(crate) fn bool_lit(self, b: bool) -> &'static str {
        match (self, b) {
            (_, true) => "TRUE",
            (_, false) => "FALSE",
        }
    }

    /// A condition that is false, never unknown, when `test` is unknown (closed world).
    pub(crate) fn is_true(self, test: &str) -> String {
        match self {
            // Snowflake has no `IS TRUE`.
            Dialect::Snowflake => format!("COALESCE({test}, FALSE)"),
            _ => format!("({test}) IS TRUE"),
        }
    }

    pub(crate) fn double(self) -> &'static str {
        match self {
            Dialect::DuckDb => "DOUBLE",
            Dialect::Postgres => "DOUBLE PRECISION",
            Dialect::Sqlite => "REAL",
            Dialect::BigQuery => "FLOAT64",
            Dialect::Snowflake | Dialect::Spark => "DOUBLE",
        }
    }

    /// Whether decimal values are exact (SQLite stores them as floating point).
    pub(crate) fn exact_decimals(self) -> bool {
        !matches!(self, Dialect::Sqlite)
    }

    pub(crate) fn date_lit(self, d: Date) -> String {
        match self {
            Dialect::DuckDb | Dialect::Postgres | Dialect::BigQuery | Dialect::Spark => {
                format!("DATE '{d}'")
            }
            // Dates are stored as `YYYY-MM-DD` text, which sorts like the dates.
            Dialect::Sqlite => format!("'{d}'"),
            // Snowflake reads `DATE '...'` with the session's DATE_INPUT_FORMAT; an explicit
            // format means the same in every session.
            Dialect::Snowflake => format!("TO_DATE('{d}', 'YYYY-MM-DD')"),
        }
    }

    /// An instant given in microseconds since 1970 (UTC).
    pub(crate) fn instant_lit(self, micros: i64) -> Option<String> {
        let ts = jiff::Timestamp::from_microsecond(micros).ok()?;
        let civil = jiff::tz::TimeZone::UTC.to_datetime(ts);
        let (date, time) = (civil.date(), civil.time().strftime("%H:%M:%S%.f"));
        match self {
            Dialect::DuckDb | Dialect::Postgres => Some(format!("TIMESTAMPTZ '{date} {time}+00'")),
            // Timestamps are stored as whole microseconds since 1970 (UTC).
            Dialect::Sqlite => Some(micros.to_string()),
            Dialect::BigQuery => Some(format!("TIMESTAMP '{date} {time}+00'")),
            // An explicit format: the session's TIMESTAMP_INPUT_FORMAT does not matter.
            Dialect::Snowflake => {
                let (time, format) = if civil.subsec_nanosecond() == 0 {
                    (civil.time().strftime("%H:%M:%S").to_string(), "HH24:MI:SS")
                } else {
                    (
                        civil.time().strftime("%H:%M:%S%.6f").to_string(),
                        "HH24:MI:SS.FF6",
                    )
                };
                Some(format!(
                    "TO_TIMESTAMP_TZ('{date} {time} +00:00', 'YYYY-MM-DD {format} TZH:TZM')"
                ))
            }
            // `TIMESTAMP_LTZ`: an instant whatever `spark.sql.timestampType` says.
            Dialect::Spark => Some(format!("TIMESTAMP_LTZ '{date} {time}+00:00'")),
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
        let scale = scale_of(text);
        let digits = text.chars().filter(char::is_ascii_digit).count();
        // As narrow as the constant: DuckDB, Snowflake and Spark give `COALESCE`, `CASE` and
        // arithmetic the width and scale that hold both sides, and a 38-digit constant would
        // leave no room for the other side's decimals (a sum of cents would be rounded to
        // whole units).
        let narrow = |ty: &str| {
            format!(
                "CAST({text} AS {ty}({}, {scale}))",
                digits.max(scale + 1).min(38)
            )
        };
        match self {
            Dialect::DuckDb => narrow("DECIMAL"),
            Dialect::Postgres => format!("{text}::NUMERIC"),
            Dialect::Sqlite => text.to_owned(),
            // NUMERIC holds 29 digits before the point and 9 after; BIGNUMERIC 38 and 38.
            Dialect::BigQuery => {
                if scale <= 9 && digits.saturating_sub(scale) <= 29 {
                    format!("NUMERIC '{text}'")
                } else {
                    format!("BIGNUMERIC '{text}'")
                }
            }
            Dialect::Snowflake => narrow("NUMBER"),
            Dialect::Spark => narrow("DECIMAL"),
        }
    }

    /// The product of two exact decimals, without rounding.
    pub(crate) fn decimal_product(self, a: &str, b: &str) -> String {
        match self {
            // NUMERIC keeps 9 digits after the point and rounds a product to them; BIGNUMERIC
            // keeps 38, enough for two of segl's decimals (at most 18 each).
            Dialect::BigQuery => format!("(CAST({a} AS BIGNUMERIC) * {b})"),
            _ => format!("({a} * {b})"),
        }
    }

    /// The local calendar date of a timestamp in `tz` (an IANA name).
    pub(crate) fn local_date(self, ts: &str, tz: &str, tz_lit: &str) -> Option<String> {
        match self {
            Dialect::DuckDb => Some(format!("CAST(timezone({tz_lit}, {ts}) AS DATE)")),
            Dialect::Postgres => Some(format!("CAST(({ts}) AT TIME ZONE {tz_lit} AS DATE)")),
            Dialect::Sqlite if tz == "UTC" => Some(format!("date(({ts}) / 1000000, 'unixepoch')")),
            Dialect::Sqlite => None,
            Dialect::BigQuery => Some(format!("DATE({ts}, {tz_lit})")),
            Dialect::Snowflake => Some(format!("CAST(CONVERT_TIMEZONE({tz_lit}, {ts}) AS DATE)")),
            // `from_utc_timestamp` moves the instant by the zone's offset; the day is then read
            // from the microseconds, not with the session's time zone (as `to_date` would).
            Dialect::Spark => {
                let m = format!("unix_micros(from_utc_timestamp({ts}, {tz_lit}))");
                Some(format!(
                    "date_from_unix_date(CAST(({m} - pmod({m}, 86400000000)) div 86400000000 AS INT))"
                ))
            }
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
        match self {
            // Shorter spellings where midnight is known to exist once.
            Dialect::BigQuery if !fold_safe => Some(format!("TIMESTAMP({date}, {tz_lit})")),
            Dialect::Snowflake if !fold_safe => Some(format!(
                "TIMESTAMP_TZ_FROM_PARTS(YEAR({date}), MONTH({date}), DAY({date}), 0, 0, 0, 0, {tz_lit})"
            )),
            _ => self.instant_of_local(&self.date_to_local(date), tz, tz_lit, fold_safe),
        }
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
            // Integers already (Spark's are 32-bit, which `make_date` takes in ANSI mode).
            Dialect::BigQuery | Dialect::Snowflake | Dialect::Spark => {
                format!("EXTRACT({} FROM {date})", part.to_uppercase())
            }
        }
    }

    /// A date from integer year, month and day expressions.
    pub(crate) fn make_date(self, y: &str, m: &str, d: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Spark => format!("make_date({y}, {m}, {d})"),
            Dialect::Postgres => format!(
                "make_date(CAST({y} AS INTEGER), CAST({m} AS INTEGER), CAST({d} AS INTEGER))"
            ),
            // `date` makes it unknown when a part is (`printf` would write zeros instead).
            Dialect::Sqlite => format!("date(printf('%04d-%02d-%02d', {y}, {m}, {d}))"),
            Dialect::BigQuery => format!("DATE({y}, {m}, {d})"),
            Dialect::Snowflake => format!("DATE_FROM_PARTS({y}, {m}, {d})"),
        }
    }

    /// Whole days from the date `from` to the date `to` (negative when `to` is earlier).
    pub(crate) fn days_between(self, from: &str, to: &str) -> String {
        match self {
            Dialect::DuckDb => format!("date_diff('day', {from}, {to})"),
            Dialect::Postgres => format!("({to} - {from})"),
            Dialect::Sqlite => format!("CAST(julianday({to}) - julianday({from}) AS INTEGER)"),
            Dialect::BigQuery => format!("DATE_DIFF({to}, {from}, DAY)"),
            Dialect::Snowflake => format!("DATEDIFF(day, {from}, {to})"),
            Dialect::Spark => format!("datediff({to}, {from})"),
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
            // A query parameter (`bq query --parameter=NAME:DATE:...`, or a DATE or STRING
            // parameter from a client library); an unbound one is an error.
            Dialect::BigQuery => format!("CAST(@{name} AS DATE)"),
            // A session variable (`SET NAME = 'YYYY-MM-DD'`), read with an explicit format so
            // that DATE_INPUT_FORMAT does not matter; an unset one is an error.
            Dialect::Snowflake => format!("TO_DATE(${name}, 'YYYY-MM-DD')"),
            // A named parameter marker (`spark.sql(query, args={...})`, Spark 3.4 or later); an
            // unbound one is an error, and ANSI mode refuses a text that is not a date.
            Dialect::Spark => format!("CAST(:{name} AS DATE)"),
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
            Dialect::BigQuery => format!("DATE_ADD({date}, INTERVAL ({n}) DAY)"),
            Dialect::Snowflake => format!("DATEADD(day, {n}, {date})"),
            Dialect::Spark => format!("date_add({date}, {n})"),
        }
    }

    /// A date moved by calendar months; a day that the target month lacks becomes its last day
    /// (31 January + 1 month = 28 February). `first_of_month`: the date is known to be the 1st,
    /// so nothing needs clamping.
    pub(crate) fn add_months(self, date: &str, n: i64, first_of_month: bool) -> String {
        match self {
            Dialect::DuckDb => format!("CAST({date} + INTERVAL ({n}) MONTH AS DATE)"),
            Dialect::Postgres => format!("CAST({date} + INTERVAL '{n} months' AS DATE)"),
            // Both clamp to the end of a shorter month (BigQuery documents it for DATE_ADD;
            // Snowflake's DATEADD, unlike its ADD_MONTHS, does not move a month's last day to the
            // next month's last day).
            Dialect::BigQuery => format!("DATE_ADD({date}, INTERVAL ({n}) MONTH)"),
            Dialect::Snowflake => format!("DATEADD(month, {n}, {date})"),
            // Clamps, and since Spark 3.0 keeps the day of a month's last day (28 February + 1
            // month is 28 March).
            Dialect::Spark => format!("add_months({date}, {n})"),
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
            // ISOWEEK starts on Monday (WEEK on Sunday).
            Dialect::BigQuery => {
                let part = if unit == PeriodUnit::Week {
                    "ISOWEEK"
                } else {
                    &part.to_uppercase()
                };
                format!("DATE_TRUNC({date}, {part})")
            }
            // DATE_TRUNC('week', ...) follows the session's WEEK_START; the ISO day of the week
            // does not.
            Dialect::Snowflake => match unit {
                PeriodUnit::Week => format!("DATEADD(day, 1 - DAYOFWEEKISO({date}), {date})"),
                _ => format!("DATE_TRUNC('{part}', {date})"),
            },
            // `trunc` to 'week' gives the Monday.
            Dialect::Spark => format!("trunc({date}, '{part}')"),
        }
    }

    /// Whether a year (an integer expression) has a 29 February.
    pub(crate) fn leap_year(self, y: &str) -> String {
        match self {
            // BigQuery has no `%`.
            Dialect::BigQuery => {
                format!("(MOD({y}, 4) = 0 AND (MOD({y}, 100) <> 0 OR MOD({y}, 400) = 0))")
            }
            _ => format!("({y} % 4 = 0 AND ({y} % 100 <> 0 OR {y} % 400 = 0))"),
        }
    }

    /// The wall-clock time of an instant in `tz` (a `TIMESTAMP` without time zone; SQLite:
    /// microseconds, UTC only).
    pub(crate) fn to_local(self, ts: &str, tz: &str, tz_lit: &str) -> Option<String> {
        match self {
            Dialect::DuckDb => Some(format!("timezone({tz_lit}, {ts})")),
            Dialect::Postgres => Some(format!("(({ts}) AT TIME ZONE {tz_lit})")),
            Dialect::Sqlite if tz == "UTC" => Some(ts.to_owned()),
            Dialect::Sqlite => None,
            Dialect::BigQuery => Some(format!("DATETIME({ts}, {tz_lit})")),
            Dialect::Snowflake => Some(format!(
                "CAST(CONVERT_TIMEZONE({tz_lit}, {ts}) AS TIMESTAMP_NTZ)"
            )),
            // Spark: the wall-clock time as the instant of that time in UTC (a `TIMESTAMP`
            // whose microseconds count the wall-clock time), as in `local_date`.
            Dialect::Spark => Some(format!("from_utc_timestamp({ts}, {tz_lit})")),
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
            Dialect::BigQuery if !fold_safe => Some(format!("TIMESTAMP({local}, {tz_lit})")),
            Dialect::Snowflake if !fold_safe => Some(self.instant_of_micros(&format!(
                "DATE_PART(epoch_microsecond, CONVERT_TIMEZONE({tz_lit}, 'UTC', {local}))"
            ))),
            // Neither engine documents which instant it gives for a skipped or repeated time:
            // both readings are computed and checked (`instant_of_local_checked`).
            Dialect::BigQuery | Dialect::Snowflake => {
                Some(self.instant_of_local_checked(local, tz, tz_lit))
            }
            // Java's rule, which Spark follows (`LocalDateTime.atZone`), is segl's: a skipped
            // time is moved later by the length of the gap, a repeated time takes the earlier
            // offset.
            Dialect::Spark => Some(format!("to_utc_timestamp({local}, {tz_lit})")),
        }
    }

    /// [`Dialect::instant_of_local`] computed from the time zone's offsets alone, with no reliance
    /// on how the engine reads a time the clocks skip or pass twice. The wall-clock time `L` (in
    /// microseconds, read as if in UTC) is read with the offset in force a day before and a day
    /// after; the reading with the earlier offset is taken unless only the later one names `L`
    /// again. In a repeated hour both name `L` and the earlier offset (summer time) gives the
    /// earlier instant; in a skipped hour neither names `L`, and the earlier offset moves the time
    /// later by the gap. Assumes the clocks change at most once within a day, as DuckDB's and
    /// PostgreSQL's spellings do.
    fn instant_of_local_checked(self, local: &str, tz: &str, tz_lit: &str) -> String {
        let l = self.micros_of_local(local);
        // The wall-clock time (as microseconds) of the instant `m` microseconds after 1970.
        let wall = |m: &str| -> String {
            let local = self
                .to_local(&self.instant_of_micros(m), tz, tz_lit)
                .unwrap_or_default();
            self.micros_of_local(&local)
        };
        let reading = |shift: &str| {
            let at = format!("({l} {shift} {DAY_MICROS})");
            format!("({l} - ({} - {at}))", wall(&at))
        };
        let (a, b) = (reading("-"), reading("+"));
        self.instant_of_micros(&format!(
            "CASE WHEN {} = {l} AND {} <> {l} THEN {b} ELSE {a} END",
            wall(&b),
            wall(&a)
        ))
    }

    /// A wall-clock time as microseconds since 1970, read as if it were in UTC (BigQuery and
    /// Snowflake, whose wall-clock times are `DATETIME` and `TIMESTAMP_NTZ`).
    fn micros_of_local(self, local: &str) -> String {
        match self {
            Dialect::BigQuery => format!("UNIX_MICROS(TIMESTAMP({local}, 'UTC'))"),
            _ => format!("DATE_PART(epoch_microsecond, {local})"),
        }
    }

    /// The instant `m` microseconds after 1970-01-01 00:00 UTC (BigQuery and Snowflake).
    fn instant_of_micros(self, m: &str) -> String {
        match self {
            Dialect::BigQuery => format!("TIMESTAMP_MICROS({m})"),
            _ => format!(
                "DATEADD(microsecond, {m}, TO_TIMESTAMP_TZ('1970-01-01 00:00:00 +00:00', \
                 'YYYY-MM-DD HH24:MI:SS TZH:TZM'))"
            ),
        }
    }

    /// A date as the wall-clock time of its midnight.
    pub(crate) fn date_to_local(self, date: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Postgres => format!("CAST({date} AS TIMESTAMP)"),
            Dialect::Sqlite => format!("(CAST(unixepoch({date}) AS INTEGER) * 1000000)"),
            Dialect::BigQuery => format!("DATETIME({date})"),
            Dialect::Snowflake => format!("CAST({date} AS TIMESTAMP_NTZ)"),
            Dialect::Spark => format!("timestamp_micros(unix_date({date}) * {DAY_MICROS})"),
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
            (Dialect::BigQuery, false) => format!("DATETIME_ADD({local}, INTERVAL ({n}) DAY)"),
            (Dialect::BigQuery, true) => format!("DATETIME_ADD({local}, INTERVAL ({n}) MONTH)"),
            (Dialect::Snowflake, false) => format!("DATEADD(day, {n}, {local})"),
            (Dialect::Snowflake, true) => format!("DATEADD(month, {n}, {local})"),
            // The wall-clock time is a count of microseconds (see `to_local`).
            (Dialect::Spark, false) => format!(
                "timestamp_micros(unix_micros({local}) + {})",
                micros_text(n, DAY_MICROS)
            ),
            (Dialect::Spark, true) => {
                let m = format!("unix_micros({local})");
                let tod = format!("pmod({m}, {DAY_MICROS})");
                let day =
                    format!("date_from_unix_date(CAST(({m} - {tod}) div {DAY_MICROS} AS INT))");
                format!(
                    "timestamp_micros(unix_date({}) * {DAY_MICROS} + {tod})",
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
            Dialect::BigQuery => format!("TIMESTAMP_ADD({ts}, INTERVAL ({micros}) MICROSECOND)"),
            // Through the count of microseconds: what DATEADD does to a TIMESTAMP_LTZ across a
            // change of the clocks is not what segl means.
            Dialect::Snowflake => {
                self.instant_of_micros(&format!("(DATE_PART(epoch_microsecond, {ts}) + {micros})"))
            }
            Dialect::Spark => format!("timestamp_micros(unix_micros({ts}) + {micros})"),
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
            Dialect::BigQuery => format!("(UNIX_MICROS({a}) - UNIX_MICROS({b}))"),
            Dialect::Snowflake => {
                format!("(DATE_PART(epoch_microsecond, {a}) - DATE_PART(epoch_microsecond, {b}))")
            }
            Dialect::Spark => format!("(unix_micros({a}) - unix_micros({b}))"),
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
            Dialect::BigQuery => format!("(STRPOS({v}, {p}) > 0)"),
            Dialect::Snowflake => format!("CONTAINS({v}, {p})"),
            Dialect::Spark => format!("contains({v}, {p})"),
        }
    }

    pub(crate) fn starts_with(self, v: &str, p: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Postgres => format!("starts_with({v}, {p})"),
            Dialect::Sqlite => format!("(substr({v}, 1, length({p})) = {p})"),
            Dialect::BigQuery => format!("STARTS_WITH({v}, {p})"),
            Dialect::Snowflake => format!("STARTSWITH({v}, {p})"),
            Dialect::Spark => format!("startswith({v}, {p})"),
        }
    }

    pub(crate) fn ends_with(self, v: &str, p: &str) -> String {
        match self {
            Dialect::DuckDb => format!("ends_with({v}, {p})"),
            Dialect::Postgres => format!("(right({v}, char_length({p})) = {p})"),
            // `substr(v, -0)` is all of `v`, so an empty ending is its own case; it is unknown
            // when the value is, like every other test.
            Dialect::Sqlite => format!(
                "(substr({v}, -length({p})) = {p} OR (length({p}) = 0 AND {v} IS NOT NULL))"
            ),
            Dialect::BigQuery => format!("ENDS_WITH({v}, {p})"),
            Dialect::Snowflake => format!("ENDSWITH({v}, {p})"),
            Dialect::Spark => format!("endswith({v}, {p})"),
        }
    }

    /// A regular-expression search (the pattern may match anywhere); `p` is a pattern
    /// `regex::translate` wrote for this dialect, so no flags are needed.
    pub(crate) fn regex(self, v: &str, p: &str) -> Option<String> {
        match self {
            Dialect::DuckDb => Some(format!("regexp_matches({v}, {p})")),
            Dialect::Postgres => Some(format!("({v} ~ {p})")),
            Dialect::Sqlite => None,
            Dialect::BigQuery => Some(format!("REGEXP_CONTAINS({v}, {p})")),
            // REGEXP_LIKE and RLIKE must match the whole text; REGEXP_INSTR searches.
            Dialect::Snowflake => Some(format!("(REGEXP_INSTR({v}, {p}) > 0)")),
            // Java regular expressions, searching.
            Dialect::Spark => Some(format!("({v} RLIKE {p})")),
        }
    }

    pub(crate) fn text_length(self, v: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Sqlite => format!("length({v})"),
            Dialect::Postgres | Dialect::Spark => format!("char_length({v})"),
            Dialect::BigQuery => format!("CHAR_LENGTH({v})"),
            Dialect::Snowflake => format!("LENGTH({v})"),
        }
    }

    /// The number of elements of a list column.
    pub(crate) fn list_length(self, v: &str) -> String {
        match self {
            Dialect::DuckDb => format!("len({v})"),
            Dialect::Postgres => format!("cardinality({v})"),
            Dialect::Sqlite => format!("json_array_length({v})"),
            Dialect::BigQuery => format!("ARRAY_LENGTH({v})"),
            Dialect::Snowflake => format!("ARRAY_SIZE({v})"),
            // Not `size`, which gives -1 for an unknown list outside ANSI mode.
            Dialect::Spark => format!("array_size({v})"),
        }
    }

    /// A list column lower-cased element by element.
    pub(crate) fn list_lower(self, v: &str) -> Option<String> {
        match self {
            // A list comprehension: DuckDB 2 refuses the older `x -> lower(x)` lambda, and
            // versions before 1.3 do not know `lambda x: ...`.
            Dialect::DuckDb => Some(format!("[lower(x) for x in {v}]")),
            Dialect::Postgres => Some(format!("ARRAY(SELECT lower(x) FROM unnest({v}) AS x)")),
            Dialect::Sqlite => None,
            Dialect::BigQuery => Some(format!("ARRAY(SELECT LOWER(x) FROM UNNEST({v}) AS x)")),
            Dialect::Snowflake => Some(format!("TRANSFORM({v}, x -> LOWER(CAST(x AS VARCHAR)))")),
            Dialect::Spark => Some(format!("transform({v}, x -> lower(x))")),
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
            Dialect::BigQuery => format!("({needle} IN UNNEST({list}))"),
            // Snowflake's arrays hold VARIANT values.
            Dialect::Snowflake => format!("ARRAY_CONTAINS(CAST({needle} AS VARIANT), {list})"),
            Dialect::Spark => format!("array_contains({list}, {needle})"),
        }
    }

    /// The smaller of two numbers.
    pub(crate) fn least(self, a: &str, b: &str) -> String {
        match self {
            Dialect::DuckDb
            | Dialect::Postgres
            | Dialect::BigQuery
            | Dialect::Snowflake
            | Dialect::Spark => format!("LEAST({a}, {b})"),
            Dialect::Sqlite => format!("MIN({a}, {b})"),
        }
    }

    /// The quotient of two non-negative integers, rounded down, as an integer.
    pub(crate) fn int_div(self, a: &str, b: &str) -> String {
        match self {
            Dialect::DuckDb => format!("({a} // {b})"),
            Dialect::Postgres | Dialect::Sqlite => format!("({a} / {b})"),
            Dialect::BigQuery => format!("DIV({a}, {b})"),
            // `/` gives a decimal rounded to a few places after the point in Snowflake (so a
            // quotient just below a whole number could round up); without the remainder the
            // division is exact.
            Dialect::Snowflake => format!("CAST((({a}) - MOD({a}, {b})) / {b} AS BIGINT)"),
            Dialect::Spark => format!("({a} div {b})"),
        }
    }

    /// A floating-point number rounded half away from zero.
    pub(crate) fn round_double(self, x: &str) -> String {
        match self {
            // These round halves away from zero already (Spark: HALF_UP).
            Dialect::DuckDb
            | Dialect::Sqlite
            | Dialect::BigQuery
            | Dialect::Snowflake
            | Dialect::Spark => format!("round({x})"),
            // PostgreSQL rounds floating-point halves to even; compute it from the fraction.
            Dialect::Postgres => format!(
                "(trunc({x}) + CASE WHEN abs({x} - trunc({x})) >= 0.5 THEN sign({x}) ELSE 0 END)"
            ),
        }
    }

    /// An exact decimal rounded half away from zero to a whole number.
    pub(crate) fn round_decimal(self, x: &str) -> String {
        match self {
            Dialect::DuckDb
            | Dialect::Postgres
            | Dialect::Sqlite
            | Dialect::BigQuery
            | Dialect::Snowflake
            | Dialect::Spark => format!("round({x})"),
        }
    }

    /// `value` converted to an exact decimal.
    pub(crate) fn to_decimal(self, x: &str) -> String {
        match self {
            // Wide enough for any whole number (BIGINT has 19 digits), and no wider: see
            // `decimal_lit`.
            Dialect::DuckDb | Dialect::Spark => format!("CAST({x} AS DECIMAL(19, 0))"),
            Dialect::Snowflake => format!("CAST({x} AS NUMBER(19, 0))"),
            Dialect::Postgres => format!("CAST({x} AS NUMERIC)"),
            Dialect::BigQuery => format!("CAST({x} AS NUMERIC)"),
            Dialect::Sqlite => x.to_owned(),
        }
    }

    /// A name as the engine compares names, to find two names it would take for one: DuckDB and
    /// SQLite ignore case even in quoted names; PostgreSQL cuts names after 63 bytes.
    pub(crate) fn ident_key(self, name: &str) -> String {
        match self {
            // BigQuery and Spark compare column names ignoring case; Snowflake does too once
            // `QUOTED_IDENTIFIERS_IGNORE_CASE` is set (see docs/sql.md), so names that differ
            // only in case are taken for one there as well.
            Dialect::DuckDb
            | Dialect::Sqlite
            | Dialect::BigQuery
            | Dialect::Snowflake
            | Dialect::Spark => name.to_lowercase(),
            Dialect::Postgres => {
                let mut end = name.len().min(63);
                while !name.is_char_boundary(end) {
                    end -= 1;
                }
                name.get(..end).unwrap_or(name).to_owned()
            }
        }
    }

    /// Why the engine cannot give a column the name `name`, in words, or `None` when it can.
    /// Only BigQuery limits quoted names: a column name holds letters, marks, digits, spaces,
    /// `_`, `-` and `& % = + : ' < > # |`, at most 300 of them, and does not start with a
    /// prefix BigQuery keeps for itself.
    pub(crate) fn column_name_problem(self, name: &str) -> Option<String> {
        if self != Dialect::BigQuery {
            return None;
        }
        if name.chars().count() > 300 {
            return Some("it is longer than 300 characters".to_owned());
        }
        let upper = name.to_uppercase();
        for prefix in [
            "_TABLE_",
            "_FILE_",
            "_PARTITION",
            "_ROW_TIMESTAMP",
            "__ROOT__",
            "_COLIDENTIFIER",
        ] {
            if upper.starts_with(prefix) {
                return Some(format!(
                    "it starts with `{prefix}`, which BigQuery keeps for itself"
                ));
            }
        }
        let allowed = |c: char| bigquery_name_char(c) || "&%=+:'<>#|".contains(c);
        name.chars()
            .find(|c| !allowed(*c))
            .map(|c| format!("it holds {}", shown_char(c)))
    }

    /// Why the engine cannot give a view the name `name`, or `None` when it can (BigQuery:
    /// letters, marks, digits, spaces, `_` and `-`, at most 1,024 of them).
    pub(crate) fn view_name_problem(self, name: &str) -> Option<String> {
        if self != Dialect::BigQuery {
            return None;
        }
        if name.chars().count() > 1024 {
            return Some("it is longer than 1,024 characters".to_owned());
        }
        name.chars()
            .find(|c| !bigquery_name_char(*c))
            .map(|c| format!("it holds {}", shown_char(c)))
    }

    /// The statements that create the view `view` (quoted) or replace it if it exists; the
    /// last one ends in `AS`, followed by the query.
    pub(crate) fn create_view(self, view: &str) -> Vec<String> {
        match self {
            Dialect::DuckDb
            | Dialect::Postgres
            | Dialect::BigQuery
            | Dialect::Snowflake
            | Dialect::Spark => {
                vec![format!("CREATE OR REPLACE VIEW {view} AS")]
            }
            // SQLite has no `CREATE OR REPLACE`.
            Dialect::Sqlite => vec![
                format!("DROP VIEW IF EXISTS {view};"),
                format!("CREATE VIEW {view} AS"),
            ],
        }
    }

    /// The statement that stores `text` (a quoted literal) as the view's description, where the
    /// engine keeps one.
    pub(crate) fn comment_on_view(self, view: &str, text: &str) -> Option<String> {
        match self {
            Dialect::DuckDb | Dialect::Postgres | Dialect::Snowflake => {
                Some(format!("COMMENT ON VIEW {view} IS {text}"))
            }
            Dialect::BigQuery => Some(format!(
                "ALTER VIEW {view} SET OPTIONS (description = {text})"
            )),
            Dialect::Spark => Some(format!(
                "ALTER VIEW {view} SET TBLPROPERTIES ('comment' = {text})"
            )),
            Dialect::Sqlite => None,
        }
    }
}

/// A letter, mark, digit, connecting or dash punctuation or space: what BigQuery's table and
/// column names are made of.
fn bigquery_name_char(c: char) -> bool {
    static CLASS: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^[\p{L}\p{M}\p{N}\p{Pc}\p{Pd}\p{Zs}]$").ok()
    });
    let mut buf = [0; 4];
    CLASS
        .as_ref()
        .is_some_and(|r| r.is_match(c.encode_utf8(&mut buf)))
}

/// A character for a message: in backticks, or by its code when it does not show.
fn shown_char(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        format!("the character U+{:04X}", u32::from(c))
    } else if c == '`' {
        "a backtick".to_owned()
    } else {
        format!("`{c}`")
    }
}

impl Dialect {
    /// The column type that holds values of `ty` the way the compiled SQL reads them; decimals
    /// keep `scale` digits after the point where the engine's decimals have a fixed scale.
    pub(crate) fn column_type(self, ty: &Type, scale: u8) -> String {
        match self {
            Dialect::DuckDb => match ty {
                Type::Text | Type::Enum(_) | Type::Error => "VARCHAR".into(),
                Type::Integer => "BIGINT".into(),
                Type::Decimal => format!("DECIMAL(38, {scale})"),
                Type::Number | Type::Percent => "DOUBLE".into(),
                Type::Bool => "BOOLEAN".into(),
                Type::Date => "DATE".into(),
                Type::Timestamp => "TIMESTAMPTZ".into(),
                Type::Duration => "INTERVAL".into(),
                Type::List(inner) => format!("{}[]", self.column_type(inner, scale)),
            },
            Dialect::Postgres => match ty {
                Type::Text | Type::Enum(_) | Type::Error => "TEXT".into(),
                Type::Integer => "BIGINT".into(),
                Type::Decimal => "NUMERIC".into(),
                Type::Number | Type::Percent => "DOUBLE PRECISION".into(),
                Type::Bool => "BOOLEAN".into(),
                Type::Date => "DATE".into(),
                Type::Timestamp => "TIMESTAMPTZ".into(),
                Type::Duration => "INTERVAL".into(),
                Type::List(inner) => format!("{}[]", self.column_type(inner, scale)),
            },
            Dialect::BigQuery => match ty {
                Type::Text | Type::Enum(_) | Type::Error => "STRING".into(),
                Type::Integer => "INT64".into(),
                // NUMERIC keeps 9 digits after the point.
                Type::Decimal if scale <= 9 => "NUMERIC".into(),
                Type::Decimal => "BIGNUMERIC".into(),
                Type::Number | Type::Percent => "FLOAT64".into(),
                Type::Bool => "BOOL".into(),
                Type::Date => "DATE".into(),
                Type::Timestamp => "TIMESTAMP".into(),
                Type::Duration => "INTERVAL".into(),
                Type::List(inner) => format!("ARRAY<{}>", self.column_type(inner, scale)),
            },
            Dialect::Snowflake => match ty {
                Type::Text | Type::Enum(_) | Type::Error => "VARCHAR".into(),
                Type::Integer | Type::Duration => "NUMBER(38, 0)".into(),
                Type::Decimal => format!("NUMBER(38, {scale})"),
                Type::Number | Type::Percent => "DOUBLE".into(),
                Type::Bool => "BOOLEAN".into(),
                Type::Date => "DATE".into(),
                Type::Timestamp => "TIMESTAMP_TZ".into(),
                Type::List(_) => "ARRAY".into(),
            },
            Dialect::Spark => match ty {
                Type::Text | Type::Enum(_) | Type::Error => "STRING".into(),
                Type::Integer => "BIGINT".into(),
                // 28 digits leave room for exact products within DECIMAL(38, s).
                Type::Decimal => format!("DECIMAL(28, {scale})"),
                Type::Number | Type::Percent => "DOUBLE".into(),
                Type::Bool => "BOOLEAN".into(),
                Type::Date => "DATE".into(),
                Type::Timestamp => "TIMESTAMP".into(),
                Type::Duration => "INTERVAL DAY TO SECOND".into(),
                Type::List(inner) => format!("ARRAY<{}>", self.column_type(inner, scale)),
            },
            // Dates as `YYYY-MM-DD` text, timestamps and durations as whole microseconds, yes/no
            // as 0 and 1, lists as JSON arrays.
            Dialect::Sqlite => match ty {
                Type::Text | Type::Enum(_) | Type::Error | Type::Date | Type::List(_) => {
                    "TEXT".into()
                }
                Type::Integer | Type::Bool | Type::Timestamp | Type::Duration => "INTEGER".into(),
                Type::Decimal | Type::Number | Type::Percent => "REAL".into(),
            },
        }
    }

    /// How a column of `ty` holds its values when the SQL type alone does not say it.
    pub(crate) fn column_note(self, ty: &Type) -> Option<&'static str> {
        match (self, ty) {
            (Dialect::Sqlite, Type::Date) => Some("a date as YYYY-MM-DD text"),
            (Dialect::Sqlite, Type::Timestamp) => {
                Some("a moment as whole microseconds since 1970-01-01 00:00 UTC")
            }
            (Dialect::Sqlite, Type::Duration) => Some("a duration as whole microseconds"),
            (Dialect::Sqlite, Type::Bool) => Some("yes/no as 1 or 0"),
            (Dialect::Sqlite, Type::List(_)) => Some("a list as a JSON array"),
            (Dialect::Sqlite, Type::Decimal) => Some("decimals as floating-point numbers"),
            (Dialect::Snowflake, Type::Duration) => Some("a duration as whole microseconds"),
            (Dialect::Snowflake, Type::List(_)) => Some("an array of texts"),
            _ => None,
        }
    }

    /// Whether decimal columns are declared with a fixed number of digits after the point.
    pub(crate) fn fixed_decimal_scale(self) -> bool {
        matches!(self, Dialect::DuckDb | Dialect::Snowflake | Dialect::Spark)
    }

    /// How a key column is declared, where the engine has a primary key for a column.
    pub(crate) fn primary_key(self) -> Option<&'static str> {
        match self {
            Dialect::DuckDb | Dialect::Postgres | Dialect::Sqlite | Dialect::Snowflake => {
                Some("PRIMARY KEY")
            }
            Dialect::BigQuery => Some("PRIMARY KEY NOT ENFORCED"),
            Dialect::Spark => None,
        }
    }

    /// Whether `CHECK (...)` can be part of a column's declaration.
    pub(crate) fn column_checks(self) -> bool {
        matches!(self, Dialect::DuckDb | Dialect::Postgres | Dialect::Sqlite)
    }
}

fn scale_of(text: &str) -> usize {
    text.split_once('.').map_or(0, |(_, f)| f.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bigquery_decimals_are_numeric_until_they_need_bignumeric() {
        let d = Dialect::BigQuery;
        assert_eq!(d.decimal_lit("0.8"), "NUMERIC '0.8'");
        assert_eq!(d.decimal_lit("-12.123456789"), "NUMERIC '-12.123456789'");
        assert_eq!(d.decimal_lit("0.1234567891"), "BIGNUMERIC '0.1234567891'");
        let wide = "1".repeat(30);
        assert_eq!(d.decimal_lit(&wide), format!("BIGNUMERIC '{wide}'"));
        assert_eq!(
            d.decimal_product("`a`", "`b`"),
            "(CAST(`a` AS BIGNUMERIC) * `b`)"
        );
        assert_eq!(Dialect::Spark.decimal_product("a", "b"), "(a * b)");
    }

    #[test]
    fn narrow_decimal_constants() {
        assert_eq!(
            Dialect::Snowflake.decimal_lit("172.40"),
            "CAST(172.40 AS NUMBER(5, 2))"
        );
        assert_eq!(
            Dialect::Spark.decimal_lit("0.05"),
            "CAST(0.05 AS DECIMAL(3, 2))"
        );
    }

    #[test]
    fn instants_name_their_offset() {
        let whole = 1_779_573_600_000_000; // 2026-05-23 22:00:00 UTC
        assert_eq!(
            Dialect::BigQuery.instant_lit(whole).as_deref(),
            Some("TIMESTAMP '2026-05-23 22:00:00+00'")
        );
        assert_eq!(
            Dialect::Spark.instant_lit(whole).as_deref(),
            Some("TIMESTAMP_LTZ '2026-05-23 22:00:00+00:00'")
        );
        assert_eq!(
            Dialect::Snowflake.instant_lit(whole).as_deref(),
            Some("TO_TIMESTAMP_TZ('2026-05-23 22:00:00 +00:00', 'YYYY-MM-DD HH24:MI:SS TZH:TZM')")
        );
        assert_eq!(
            Dialect::Snowflake.instant_lit(whole - 1).as_deref(),
            Some(
                "TO_TIMESTAMP_TZ('2026-05-23 21:59:59.999999 +00:00', \
                 'YYYY-MM-DD HH24:MI:SS.FF6 TZH:TZM')"
            )
        );
    }

    #[test]
    fn whole_number_division_is_exact() {
        assert_eq!(Dialect::BigQuery.int_div("a", "b"), "DIV(a, b)");
        assert_eq!(
            Dialect::Snowflake.int_div("a", "b"),
            "CAST(((a) - MOD(a, b)) / b AS BIGINT)"
        );
        assert_eq!(Dialect::Spark.int_div("a", "b"), "(a div b)");
    }

    #[test]
    fn warehouse_calendars_clamp_months_and_start_weeks_on_monday() {
        assert_eq!(
            Dialect::BigQuery.add_months("d", 1, false),
            "DATE_ADD(d, INTERVAL (1) MONTH)"
        );
        // Not ADD_MONTHS, which moves a month's last day to the next month's last day.
        assert_eq!(
            Dialect::Snowflake.add_months("d", -2, false),
            "DATEADD(month, -2, d)"
        );
        assert_eq!(
            Dialect::Spark.add_months("d", 12, true),
            "add_months(d, 12)"
        );
        assert_eq!(
            Dialect::BigQuery.period_start("d", PeriodUnit::Week),
            "DATE_TRUNC(d, ISOWEEK)"
        );
        assert_eq!(
            Dialect::Snowflake.period_start("d", PeriodUnit::Week),
            "DATEADD(day, 1 - DAYOFWEEKISO(d), d)"
        );
        assert_eq!(
            Dialect::Snowflake.period_start("d", PeriodUnit::Quarter),
            "DATE_TRUNC('quarter', d)"
        );
        assert_eq!(
            Dialect::Spark.period_start("d", PeriodUnit::Week),
            "trunc(d, 'week')"
        );
        assert!(
            Dialect::BigQuery
                .leap_year("y")
                .starts_with("(MOD(y, 4) = 0")
        );
    }

    #[test]
    fn warehouse_as_of_parameters() {
        assert_eq!(
            Dialect::BigQuery.as_of_param("as_of"),
            "CAST(@as_of AS DATE)"
        );
        assert_eq!(
            Dialect::Snowflake.as_of_param("day"),
            "TO_DATE($day, 'YYYY-MM-DD')"
        );
        assert_eq!(Dialect::Spark.as_of_param("as_of"), "CAST(:as_of AS DATE)");
    }

    #[test]
    fn local_times_back_to_instants() {
        let tz = "'Europe/Berlin'";
        // Where the time is known to exist once, the engine's own conversion.
        assert_eq!(
            Dialect::BigQuery
                .instant_of_local("l", "Europe/Berlin", tz, false)
                .as_deref(),
            Some("TIMESTAMP(l, 'Europe/Berlin')")
        );
        assert_eq!(
            Dialect::Spark
                .instant_of_local("l", "Europe/Berlin", tz, true)
                .as_deref(),
            Some("to_utc_timestamp(l, 'Europe/Berlin')")
        );
        // Otherwise both readings, checked: the later offset only when the earlier one does not
        // name the same wall-clock time and the later one does.
        let checked = Dialect::BigQuery
            .instant_of_local("l", "Europe/Berlin", tz, true)
            .unwrap();
        let l = "UNIX_MICROS(TIMESTAMP(l, 'UTC'))";
        let wall = |m: &str| {
            format!("UNIX_MICROS(TIMESTAMP(DATETIME(TIMESTAMP_MICROS({m}), {tz}), 'UTC'))")
        };
        let reading = |sign: &str| {
            let at = format!("({l} {sign} {DAY_MICROS})");
            format!("({l} - ({} - {at}))", wall(&at))
        };
        let (a, b) = (reading("-"), reading("+"));
        assert_eq!(
            checked,
            format!(
                "TIMESTAMP_MICROS(CASE WHEN {} = {l} AND {} <> {l} THEN {b} ELSE {a} END)",
                wall(&b),
                wall(&a)
            )
        );
        assert!(
            Dialect::Snowflake
                .instant_of_local("l", "Europe/Berlin", tz, true)
                .unwrap()
                .contains("CONVERT_TIMEZONE('Europe/Berlin', DATEADD(microsecond")
        );
    }

    #[test]
    fn closed_world_tests() {
        assert_eq!(
            Dialect::Snowflake.is_true("a > 1"),
            "COALESCE(a > 1, FALSE)"
        );
        assert_eq!(Dialect::BigQuery.is_true("a > 1"), "(a > 1) IS TRUE");
    }

    #[test]
    fn regular_expressions_search_in_every_warehouse() {
        assert_eq!(
            Dialect::Snowflake.regex("v", "'a'").as_deref(),
            Some("(REGEXP_INSTR(v, 'a') > 0)")
        );
        assert_eq!(
            Dialect::Spark.regex("v", "'a'").as_deref(),
            Some("(v RLIKE 'a')")
        );
        assert_eq!(
            Dialect::BigQuery.regex("v", "'a'").as_deref(),
            Some("REGEXP_CONTAINS(v, 'a')")
        );
    }
}

//! What differs between SQL engines: types, literals, calendar and text functions.
//!
//! A new engine is a new variant of [`Dialect`]; every `match` here then asks for its spelling.
//! Functions return `None` where the engine has no faithful spelling; the compiler turns that into
//! a coded diagnostic at the rule.

use jiff::civil::Date;

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

    /// The instant a date's day begins in `tz`.
    pub(crate) fn local_midnight(self, date: &str, tz: &str, tz_lit: &str) -> Option<String> {
        match self {
            Dialect::DuckDb => Some(format!("timezone({tz_lit}, CAST({date} AS TIMESTAMP))")),
            Dialect::Postgres => Some(format!("(CAST({date} AS TIMESTAMP) AT TIME ZONE {tz_lit})")),
            Dialect::Sqlite if tz == "UTC" => {
                Some(format!("(CAST(unixepoch({date}) AS INTEGER) * 1000000)"))
            }
            Dialect::Sqlite => None,
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

    /// Whole days from `date` to the constant `as_of`.
    pub(crate) fn days_until(self, date: &str, as_of: Date) -> String {
        match self {
            Dialect::DuckDb => format!("date_diff('day', {date}, {})", self.date_lit(as_of)),
            Dialect::Postgres => format!("({} - {date})", self.date_lit(as_of)),
            Dialect::Sqlite => format!(
                "CAST(julianday({}) - julianday({date}) AS INTEGER)",
                self.date_lit(as_of)
            ),
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

    /// A name as the engine compares names, to find two names it would take for one: DuckDB and
    /// SQLite ignore case even in quoted names; PostgreSQL cuts names after 63 bytes.
    pub(crate) fn ident_key(self, name: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Sqlite => name.to_lowercase(),
            Dialect::Postgres => {
                let mut end = name.len().min(63);
                while !name.is_char_boundary(end) {
                    end -= 1;
                }
                name.get(..end).unwrap_or(name).to_owned()
            }
        }
    }

    /// The statements that create the view `view` (quoted) or replace it if it exists; the
    /// last one ends in `AS`, followed by the query.
    pub(crate) fn create_view(self, view: &str) -> Vec<String> {
        match self {
            Dialect::DuckDb | Dialect::Postgres => {
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
            Dialect::DuckDb | Dialect::Postgres => {
                Some(format!("COMMENT ON VIEW {view} IS {text}"))
            }
            Dialect::Sqlite => None,
        }
    }
}

fn scale_of(text: &str) -> usize {
    text.split_once('.').map_or(0, |(_, f)| f.len())
}

//! Constant values of the typed IR: literals and parameter values, already validated.

use std::fmt;

/// An exact decimal number: `mantissa * 10^-scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    pub mantissa: i128,
    pub scale: u32,
}

impl Decimal {
    /// Parses `123`, `-4.50`, `1_000.25` exactly. `None` when it is not such a number or too long.
    #[must_use]
    pub fn parse(text: &str) -> Option<Decimal> {
        let cleaned: String = text.chars().filter(|c| *c != '_').collect();
        let (negative, digits) = match cleaned.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, cleaned.strip_prefix('+').unwrap_or(&cleaned)),
        };
        let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        if !int_part
            .chars()
            .chain(frac_part.chars())
            .all(|c| c.is_ascii_digit())
        {
            return None;
        }
        let mut mantissa: i128 = 0;
        for c in int_part.chars().chain(frac_part.chars()) {
            mantissa = mantissa
                .checked_mul(10)?
                .checked_add(i128::from(c.to_digit(10)?))?;
        }
        if mantissa > 10_i128.pow(38) {
            return None;
        }
        let scale = u32::try_from(frac_part.len()).ok()?;
        Some(Decimal {
            mantissa: if negative { -mantissa } else { mantissa },
            scale,
        })
    }

    /// This value divided by 100 (for percentages: `80` becomes `0.80`).
    #[must_use]
    pub fn percent_to_fraction(self) -> Decimal {
        Decimal {
            mantissa: self.mantissa,
            scale: self.scale + 2,
        }
    }

    #[must_use]
    pub fn to_f64(self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let m = self.mantissa as f64;
        m / 10f64.powi(i32::try_from(self.scale).unwrap_or(i32::MAX))
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let negative = self.mantissa < 0;
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let sign = if negative { "-" } else { "" };
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int_part, frac_part) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int_part}.{frac_part}")
    }
}

/// Units of a duration. Months, quarters and years are calendar units (Jan 31 + 1 month is the
/// last day of February), the others are fixed lengths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DurationUnit {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl DurationUnit {
    /// Every unit with its accepted spellings (singular first).
    pub const ALL: [(DurationUnit, &'static str, &'static str); 7] = [
        (DurationUnit::Minute, "minute", "minutes"),
        (DurationUnit::Hour, "hour", "hours"),
        (DurationUnit::Day, "day", "days"),
        (DurationUnit::Week, "week", "weeks"),
        (DurationUnit::Month, "month", "months"),
        (DurationUnit::Quarter, "quarter", "quarters"),
        (DurationUnit::Year, "year", "years"),
    ];

    #[must_use]
    pub fn parse(word: &str) -> Option<DurationUnit> {
        let lower = word.to_lowercase();
        DurationUnit::ALL
            .iter()
            .find(|(_, one, many)| *one == lower || *many == lower)
            .map(|(unit, _, _)| *unit)
    }

    #[must_use]
    pub fn name(self, amount: i64) -> &'static str {
        let (_, one, many) = DurationUnit::ALL
            .iter()
            .find(|(u, _, _)| *u == self)
            .copied()
            .unwrap_or((self, "day", "days"));
        if amount == 1 || amount == -1 {
            one
        } else {
            many
        }
    }

    /// True for units whose length depends on the calendar.
    #[must_use]
    pub fn is_calendar(self) -> bool {
        matches!(
            self,
            DurationUnit::Month | DurationUnit::Quarter | DurationUnit::Year
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Duration {
    pub amount: i64,
    pub unit: DurationUnit,
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.unit.name(self.amount))
    }
}

/// A timestamp literal: a civil date-time, with the offset from UTC when one was written.
/// Without an offset it is read in the project's time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimestampValue {
    pub civil: jiff::civil::DateTime,
    pub offset_seconds: Option<i32>,
}

impl fmt::Display for TimestampValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.civil)?;
        match self.offset_seconds {
            None => Ok(()),
            Some(0) => f.write_str("Z"),
            Some(s) => {
                let sign = if s < 0 { '-' } else { '+' };
                let s = s.unsigned_abs();
                write!(f, "{sign}{:02}:{:02}", s / 3600, (s % 3600) / 60)
            }
        }
    }
}

/// A constant.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bool(bool),
    Integer(i64),
    Decimal(Decimal),
    /// A floating-point number (only from coercions of constants to `number`).
    Number(f64),
    Text(String),
    Date(jiff::civil::Date),
    Timestamp(TimestampValue),
    Duration(Duration),
    /// A share, stored as a fraction (`80%` is `0.80`).
    Percent(Decimal),
    /// A value of an enum: the enum and the value's index in its declaration.
    Enum(super::EnumId, u32),
    List(Vec<Value>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_and_print_exactly() {
        for (text, shown) in [
            ("50_000", "50000"),
            ("19.99", "19.99"),
            ("-0.05", "-0.05"),
            ("0.5", "0.5"),
        ] {
            assert_eq!(Decimal::parse(text).unwrap().to_string(), shown);
        }
        assert_eq!(
            Decimal::parse("80")
                .unwrap()
                .percent_to_fraction()
                .to_string(),
            "0.80"
        );
        assert!(Decimal::parse("1e5").is_none());
        assert!(Decimal::parse("99999999999999999999999999999999999999999").is_none());
    }
}

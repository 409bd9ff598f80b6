//! Runtime values of the reference evaluator, and the arithmetic and comparisons on them.
//!
//! Unknown is a real value here ([`V::Unknown`]); conditions turn it into `false` at the edge.

use std::cmp::Ordering;
use std::fmt::Write;

use jiff::civil::Date;

use crate::ir::Decimal;

/// A length of time: calendar months, calendar days and exact microseconds, kept apart (like SQL
/// intervals) so that `+ 1 month` and `+ 1 day` are calendar arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Dur {
    pub months: i64,
    pub days: i64,
    pub micros: i64,
}

pub const MICROS_PER_DAY: i64 = 86_400_000_000;

impl Dur {
    /// The length used to put durations in order: a month counts 30 days, a day 24 hours.
    #[must_use]
    pub fn ordering_micros(self) -> i128 {
        (i128::from(self.months) * 30 + i128::from(self.days)) * i128::from(MICROS_PER_DAY)
            + i128::from(self.micros)
    }

    pub fn checked_add(self, o: Dur) -> Option<Dur> {
        Some(Dur {
            months: self.months.checked_add(o.months)?,
            days: self.days.checked_add(o.days)?,
            micros: self.micros.checked_add(o.micros)?,
        })
    }

    pub fn checked_neg(self) -> Option<Dur> {
        Some(Dur {
            months: self.months.checked_neg()?,
            days: self.days.checked_neg()?,
            micros: self.micros.checked_neg()?,
        })
    }

    pub fn checked_mul(self, k: i64) -> Option<Dur> {
        Some(Dur {
            months: self.months.checked_mul(k)?,
            days: self.days.checked_mul(k)?,
            micros: self.micros.checked_mul(k)?,
        })
    }
}

/// A percentage held as a fraction: exact when it came from a literal, floating point when it was
/// computed (percentiles, shares).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pct {
    Exact(Decimal),
    Float(f64),
}

impl Pct {
    #[must_use]
    pub fn to_f64(self) -> f64 {
        match self {
            Pct::Exact(d) => d.to_f64(),
            Pct::Float(f) => f,
        }
    }
}

/// A runtime value.
#[derive(Clone, Debug, PartialEq)]
pub enum V {
    Unknown,
    Bool(bool),
    Int(i64),
    Dec(Decimal),
    Num(f64),
    Text(String),
    /// An enum value, by name.
    Enum(String),
    Date(Date),
    Ts(jiff::Timestamp),
    Dur(Dur),
    Pct(Pct),
    List(Vec<V>),
}

impl V {
    #[must_use]
    pub fn is_known(&self) -> bool {
        !matches!(self, V::Unknown)
    }

    /// True only for a known `true`.
    #[must_use]
    pub fn is_true(&self) -> bool {
        matches!(self, V::Bool(true))
    }

    /// The value as a floating-point number (Arrow's casts: `mantissa as f64 / 10^scale`).
    #[must_use]
    pub fn to_f64(&self) -> Option<f64> {
        match self {
            #[allow(clippy::cast_precision_loss)]
            V::Int(i) => Some(*i as f64),
            V::Dec(d) => Some(d.to_f64()),
            V::Num(f) => Some(*f),
            V::Pct(p) => Some(p.to_f64()),
            _ => None,
        }
    }

    /// A stable text standing for the value, for grouping and distinct counts.
    #[must_use]
    pub fn group_key(&self) -> String {
        match self {
            V::Dec(d) => format!("D{}", normalize(*d)),
            other => format!("{other:?}"),
        }
    }
}

/// The decimal without trailing fractional zeros (`1.50` and `1.5` group together).
fn normalize(d: Decimal) -> Decimal {
    let mut d = d;
    while d.scale > 0 && d.mantissa % 10 == 0 {
        d.mantissa /= 10;
        d.scale -= 1;
    }
    d
}

const DEC_LIMIT: i128 = 100_000_000_000_000_000_000_000_000_000_000_000_000; // 10^38

fn pow10(n: u32) -> Option<i128> {
    10_i128.checked_pow(n)
}

fn dec_checked(m: i128, scale: u32) -> Option<Decimal> {
    if m.unsigned_abs() >= DEC_LIMIT.unsigned_abs() {
        return None;
    }
    Some(Decimal { mantissa: m, scale })
}

/// Both decimals brought to the larger scale.
fn align(a: Decimal, b: Decimal) -> Option<(i128, i128, u32)> {
    let scale = a.scale.max(b.scale);
    let am = a.mantissa.checked_mul(pow10(scale - a.scale)?)?;
    let bm = b.mantissa.checked_mul(pow10(scale - b.scale)?)?;
    Some((am, bm, scale))
}

pub fn dec_add(a: Decimal, b: Decimal) -> Option<Decimal> {
    let (am, bm, s) = align(a, b)?;
    dec_checked(am.checked_add(bm)?, s)
}

pub fn dec_sub(a: Decimal, b: Decimal) -> Option<Decimal> {
    let (am, bm, s) = align(a, b)?;
    dec_checked(am.checked_sub(bm)?, s)
}

pub fn dec_mul(a: Decimal, b: Decimal) -> Option<Decimal> {
    dec_checked(
        a.mantissa.checked_mul(b.mantissa)?,
        a.scale.checked_add(b.scale)?,
    )
}

fn dec_cmp(a: Decimal, b: Decimal) -> Option<Ordering> {
    match align(a, b) {
        Some((am, bm, _)) => Some(am.cmp(&bm)),
        None => a.to_f64().partial_cmp(&b.to_f64()),
    }
}

/// Rounds half away from zero to a whole number, keeping the decimal type.
pub fn dec_round(d: Decimal) -> Option<Decimal> {
    if d.scale == 0 {
        return Some(d);
    }
    let p = pow10(d.scale)?;
    let q = d.mantissa / p;
    let r = d.mantissa % p;
    let up = r.unsigned_abs().checked_mul(2)? >= p.unsigned_abs();
    let m = if up {
        if d.mantissa < 0 { q - 1 } else { q + 1 }
    } else {
        q
    };
    dec_checked(m, 0)
}

/// Orders two values of the same kind; `None` when they cannot be compared (unknown, lists,
/// different kinds, NaN).
#[must_use]
pub fn compare(a: &V, b: &V) -> Option<Ordering> {
    match (a, b) {
        (V::Unknown, _) | (_, V::Unknown) => None,
        (V::Int(x), V::Int(y)) => Some(x.cmp(y)),
        (V::Dec(x), V::Dec(y)) => dec_cmp(*x, *y),
        (V::Int(x), V::Dec(y)) => dec_cmp(
            Decimal {
                mantissa: i128::from(*x),
                scale: 0,
            },
            *y,
        ),
        (V::Dec(x), V::Int(y)) => dec_cmp(
            *x,
            Decimal {
                mantissa: i128::from(*y),
                scale: 0,
            },
        ),
        (V::Num(_) | V::Int(_) | V::Dec(_), V::Num(_) | V::Int(_) | V::Dec(_))
        | (V::Pct(_), V::Pct(_)) => a.to_f64()?.partial_cmp(&b.to_f64()?),
        (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
        (V::Text(x), V::Text(y)) | (V::Enum(x), V::Enum(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (V::Date(x), V::Date(y)) => Some(x.cmp(y)),
        (V::Ts(x), V::Ts(y)) => Some(x.cmp(y)),
        (V::Dur(x), V::Dur(y)) => Some(x.ordering_micros().cmp(&y.ordering_micros())),
        _ => None,
    }
}

/// Equality as `=` sees it, with case folded for texts when asked.
#[must_use]
pub fn equal(a: &V, b: &V, ignore_case: bool) -> bool {
    match (a, b) {
        (V::Text(x), V::Text(y)) if ignore_case => x.to_lowercase() == y.to_lowercase(),
        (V::Enum(x), V::Enum(y)) => x == y,
        _ => compare(a, b) == Some(Ordering::Equal),
    }
}

/// Days since 1970-01-01 (proleptic Gregorian).
#[must_use]
pub fn day_number(d: Date) -> i64 {
    let y = i64::from(d.year()) - i64::from(d.month() <= 2);
    let m = i64::from(d.month());
    let day = i64::from(d.day());
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `n` days after 1970-01-01; `None` outside the supported range.
#[must_use]
pub fn date_from_day_number(n: i64) -> Option<Date> {
    let z = n.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Date::new(
        i16::try_from(y).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(d).ok()?,
    )
    .ok()
}

/// A number without a needless fractional part: `1234.5`, `0.3333333333333333`.
#[must_use]
pub fn format_f64(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.0}")
    } else {
        format!("{f}")
    }
}

/// A fraction as a percentage with at most two decimals: `83.33%`, `80%`.
#[must_use]
pub fn format_percent(f: f64) -> String {
    let mut s = format!("{:.2}", f * 100.0);
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".into();
    }
    s.push('%');
    s
}

/// An exact percentage (`0.125` is `12.5%`).
#[must_use]
pub fn format_exact_percent(d: Decimal) -> String {
    let shown = if d.scale >= 2 {
        normalize(Decimal {
            mantissa: d.mantissa,
            scale: d.scale - 2,
        })
    } else {
        match d.mantissa.checked_mul(pow10(2 - d.scale).unwrap_or(1)) {
            Some(m) => Decimal {
                mantissa: m,
                scale: 0,
            },
            None => return format_percent(d.to_f64()),
        }
    };
    format!("{shown}%")
}

/// A duration in words: `30 days`, `1 month 2 days`, `12 hours`.
#[must_use]
pub fn format_dur(d: Dur) -> String {
    let mut parts: Vec<String> = Vec::new();
    let plural = |n: i64, one: &str, many: &str| {
        format!("{n} {}", if n == 1 || n == -1 { one } else { many })
    };
    if d.months != 0 {
        if d.months % 12 == 0 {
            parts.push(plural(d.months / 12, "year", "years"));
        } else {
            parts.push(plural(d.months, "month", "months"));
        }
    }
    if d.days != 0 {
        parts.push(plural(d.days, "day", "days"));
    }
    if d.micros != 0 || parts.is_empty() {
        let us = d.micros;
        if us % 3_600_000_000 == 0 {
            parts.push(plural(us / 3_600_000_000, "hour", "hours"));
        } else if us % 60_000_000 == 0 {
            parts.push(plural(us / 60_000_000, "minute", "minutes"));
        } else {
            let mut s = String::new();
            #[allow(clippy::cast_precision_loss)]
            let secs = us as f64 / 1e6;
            let _ = write!(s, "{} seconds", format_f64(secs));
            parts.push(s);
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip() {
        for n in [-800_000, -1, 0, 1, 59, 60, 365, 10_957, 20_000, 2_000_000] {
            let d = date_from_day_number(n).unwrap();
            assert_eq!(day_number(d), n, "{d}");
        }
        assert_eq!(
            date_from_day_number(0).unwrap(),
            Date::new(1970, 1, 1).unwrap()
        );
        assert_eq!(day_number(Date::new(2024, 2, 29).unwrap()), 19_782);
    }

    #[test]
    fn decimals_round_half_away_from_zero() {
        let d = |s: &str| Decimal::parse(s).unwrap();
        assert_eq!(dec_round(d("2.5")).unwrap().to_string(), "3");
        assert_eq!(dec_round(d("-2.5")).unwrap().to_string(), "-3");
        assert_eq!(dec_round(d("2.49")).unwrap().to_string(), "2");
        assert_eq!(dec_add(d("19.99"), d("0.01")).unwrap().to_string(), "20.00");
        assert_eq!(dec_mul(d("1.5"), d("2.25")).unwrap().to_string(), "3.375");
    }

    #[test]
    fn percentages_print_short() {
        assert_eq!(format_percent(0.8), "80%");
        assert_eq!(format_percent(1.0 / 3.0), "33.33%");
        assert_eq!(
            format_exact_percent(Decimal::parse("0.125").unwrap()),
            "12.5%"
        );
        assert_eq!(format_exact_percent(Decimal::parse("0.80").unwrap()), "80%");
    }
}

//! Reading one value written as text (a CSV cell, a JSON string, a Parquet text column) as a
//! schema type, exactly and without allocating on the happy path.

/// Why a text is not a value of the wanted type: a short reason and, when one is obvious, how
/// to write it instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    pub reason: String,
    pub hint: Option<String>,
}

impl Rejected {
    fn new(reason: impl Into<String>) -> Self {
        Rejected {
            reason: reason.into(),
            hint: None,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

fn spaces_hint(text: &str) -> Option<Rejected> {
    (text.trim() != text && !text.trim().is_empty()).then(|| {
        Rejected::new("it has spaces around the value")
            .hint(format!("remove the spaces: `{}`", text.trim()))
    })
}

/// `true` or `false`, in any case.
pub fn boolean(text: &str) -> Result<bool, Rejected> {
    if text.eq_ignore_ascii_case("true") {
        return Ok(true);
    }
    if text.eq_ignore_ascii_case("false") {
        return Ok(false);
    }
    if let Some(r) = spaces_hint(text)
        && boolean(text.trim()).is_ok()
    {
        return Err(r);
    }
    let hint = match text.to_ascii_lowercase().as_str() {
        "yes" | "y" | "1" | "t" | "on" => Some("write `true` for yes"),
        "no" | "n" | "0" | "f" | "off" => Some("write `false` for no"),
        _ => None,
    };
    let r = Rejected::new("only `true` and `false` (in any case) are yes/no values");
    Err(match hint {
        Some(h) => r.hint(format!("{h}; an empty cell means unknown")),
        None => r.hint("write `true` or `false`, or leave the cell empty if it is unknown"),
    })
}

/// A whole number: digits with an optional sign, within the 64-bit range.
pub fn integer(text: &str) -> Result<i64, Rejected> {
    let bytes = text.as_bytes();
    let digits = bytes
        .strip_prefix(b"-")
        .or_else(|| bytes.strip_prefix(b"+"));
    let digits = digits.unwrap_or(bytes);
    if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
        return text
            .parse::<i64>()
            .map_err(|_| Rejected::new("it is too large for a whole number").hint(
                "whole numbers go up to 9223372036854775807; declare the field `decimal` for larger values",
            ));
    }
    if let Some(r) = spaces_hint(text)
        && integer(text.trim()).is_ok()
    {
        return Err(r);
    }
    if text.contains(',') || text.contains('_') || text.contains(' ') {
        let cleaned: String = text
            .chars()
            .filter(|c| !matches!(c, ',' | '_' | ' '))
            .collect();
        if integer(&cleaned).is_ok() {
            return Err(Rejected::new("it has a thousands separator")
                .hint(format!("write the digits without separators: `{cleaned}`")));
        }
    }
    if let Ok(d) = decimal(text)
        && d.scale > 0
    {
        return Err(Rejected::new("it has digits after the decimal point")
            .hint("the field is a whole number; declare it `decimal` if fractions are expected"));
    }
    Err(Rejected::new("it is not a whole number"))
}

/// An exact decimal, as a mantissa and a scale (digits after the point).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exact {
    pub mantissa: i128,
    pub scale: u8,
}

/// The most significant digits an exact decimal may have.
pub const MAX_DIGITS: usize = 38;

/// An exact decimal: digits with an optional sign and an optional `.` part; no exponent.
pub fn decimal(text: &str) -> Result<Exact, Rejected> {
    match decimal_fast(text.as_bytes()) {
        Some(Ok(d)) => Ok(d),
        Some(Err(r)) => Err(r),
        None => Err(decimal_rejection(text)),
    }
}

fn decimal_fast(bytes: &[u8]) -> Option<Result<Exact, Rejected>> {
    let (negative, rest) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let mut mantissa: i128 = 0;
    let mut digits = 0usize;
    let mut scale: Option<usize> = None;
    let mut any = false;
    for &b in rest {
        match b {
            b'0'..=b'9' => {
                any = true;
                if mantissa != 0 || b != b'0' {
                    digits += 1;
                }
                mantissa = mantissa * 10 + i128::from(b - b'0');
                if digits > MAX_DIGITS {
                    return Some(Err(Rejected::new(format!(
                        "it has more than {MAX_DIGITS} significant digits"
                    ))));
                }
                if let Some(s) = scale.as_mut() {
                    *s += 1;
                }
            }
            b'.' if scale.is_none() => scale = Some(0),
            _ => return None,
        }
    }
    if !any {
        return None;
    }
    let scale = scale.unwrap_or(0);
    let max = usize::try_from(crate::engine::types::MAX_DECIMAL_SCALE).unwrap_or(18);
    if scale > max {
        return Some(Err(Rejected::new(format!(
            "it has {scale} digits after the decimal point; segl keeps at most {max}"
        ))
        .hint(
            "round the value, or declare the field `number` if it does not need to be exact",
        )));
    }
    Some(Ok(Exact {
        mantissa: if negative { -mantissa } else { mantissa },
        scale: u8::try_from(scale).unwrap_or(u8::MAX),
    }))
}

fn decimal_rejection(text: &str) -> Rejected {
    if let Some(r) = spaces_hint(text)
        && decimal(text.trim()).is_ok()
    {
        return r;
    }
    if text.contains(['e', 'E']) && text.parse::<f64>().is_ok_and(f64::is_finite) {
        return Rejected::new("it is written with an exponent").hint(
            "write the number out in full, such as `1500` for `1.5e3`, so that it stays exact",
        );
    }
    if text.contains(',') && !text.contains('.') {
        let dotted = text.replace(',', ".");
        if text.matches(',').count() == 1 && decimal(&dotted).is_ok() {
            return Rejected::new("it uses a comma as the decimal point").hint(format!(
                "write it with a point: `{dotted}` (and no thousands separators)"
            ));
        }
    }
    if text.contains([',', '_', ' ']) {
        let cleaned: String = text
            .chars()
            .filter(|c| !matches!(c, ',' | '_' | ' '))
            .collect();
        if decimal(&cleaned).is_ok() {
            return Rejected::new("it has a thousands separator")
                .hint(format!("write the digits without separators: `{cleaned}`"));
        }
    }
    let stripped = text.trim_start_matches(['$', '€', '£', '¥']);
    let stripped = stripped.trim_end_matches(['$', '€', '£', '¥', '%']);
    if stripped != text && decimal(stripped.trim()).is_ok() {
        return Rejected::new("it has a currency or percent sign")
            .hint(format!("write only the number: `{}`", stripped.trim()));
    }
    Rejected::new("it is not a decimal number")
}

/// A floating-point number: a decimal, optionally with an exponent (`1.5e3`); finite.
pub fn number(text: &str) -> Result<f64, Rejected> {
    let looks_numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
    if looks_numeric && let Ok(v) = text.parse::<f64>() {
        if v.is_finite() {
            return Ok(v);
        }
        return Err(Rejected::new("it is too large for a number"));
    }
    match decimal(text) {
        Err(r) if r.hint.is_some() => Err(Rejected {
            reason: r.reason,
            hint: r.hint,
        }),
        _ => Err(Rejected::new("it is not a number")),
    }
}

fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(b - b'0');
    }
    Some(v)
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a valid civil date (proleptic Gregorian).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A calendar date `YYYY-MM-DD`, as days since 1970-01-01.
pub fn date(text: &str) -> Result<i32, Rejected> {
    let b = text.as_bytes();
    let shape = b.len() == 10 && b[4] == b'-' && b[7] == b'-';
    let parts = shape
        .then(|| (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10])))
        .and_then(|p| match p {
            (Some(y), Some(m), Some(d)) => Some((i32::try_from(y).ok()?, m, d)),
            _ => None,
        });
    let Some((year, month, day)) = parts else {
        return Err(date_shape_rejection(text));
    };
    if !(1..=12).contains(&month) {
        return Err(Rejected::new(format!("there is no month {month}")).hint(
            "dates are written year-month-day, such as `2026-01-31`; months go from 01 to 12",
        ));
    }
    let last = days_in_month(year, month);
    if day == 0 || day > last {
        return Err(Rejected::new(format!(
            "{year:04}-{month:02} has {last} days, so it is not a real date"
        )));
    }
    i32::try_from(days_from_civil(year, month, day))
        .map_err(|_| Rejected::new("the date is out of range"))
}

fn date_shape_rejection(text: &str) -> Rejected {
    let r = Rejected::new("it is not a date written as year-month-day");
    if let Some(rs) = spaces_hint(text)
        && date(text.trim()).is_ok()
    {
        return rs;
    }
    if text.len() > 10 && date(&text[..10.min(text.len())]).is_ok() {
        return r.hint("the field is a date: write only the day, such as `2026-01-31`, or declare the field `timestamp`");
    }
    let sep: Vec<&str> = text.split(['/', '.']).collect();
    if sep.len() == 3 && sep.iter().all(|p| digits(p.as_bytes()).is_some()) {
        return r.hint("write dates as year-month-day with four, two and two digits, such as `2026-01-31` (day/month orders differ between countries)");
    }
    r.hint("write dates as year-month-day, such as `2026-01-31`")
}

/// A date and time: `2026-01-31T09:30:00` or with a space instead of `T`, an optional fraction
/// of a second (up to microseconds), and an optional `Z` or `+02:00` offset. Without an offset
/// the time is read in `zone` (a time skipped by a daylight-saving change moves forward by the
/// gap; a time that happens twice is the first of the two: jiff's "compatible" rule).
/// Returns microseconds since 1970-01-01T00:00:00Z.
pub fn timestamp(text: &str, zone: &jiff::tz::TimeZone) -> Result<i64, Rejected> {
    let b = text.as_bytes();
    let bad = || timestamp_rejection(text, zone);
    if b.len() < 19 || !matches!(b[10], b'T' | b't' | b' ') {
        return Err(bad());
    }
    let day = date(&text[..10]).map_err(|e| match date(&text[..10]) {
        Err(r) if r.reason.contains("month") || r.reason.contains("real date") => e,
        _ => bad(),
    })?;
    if b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let (Some(h), Some(mi), Some(s)) = (digits(&b[11..13]), digits(&b[14..16]), digits(&b[17..19]))
    else {
        return Err(bad());
    };
    if h > 23 || mi > 59 || s > 59 {
        return Err(Rejected::new("the time of day is not a real time")
            .hint("hours go from 00 to 23, minutes and seconds from 00 to 59"));
    }
    let mut rest = &b[19..];
    let mut micros: i64 = 0;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return Err(bad());
        }
        if n > 9 || frac[6.min(n)..n].iter().any(|&c| c != b'0') {
            return Err(Rejected::new("it has more precision than microseconds")
                .hint("segl keeps times to the microsecond: write at most six digits after the seconds"));
        }
        for i in 0..6 {
            micros = micros * 10
                + frac
                    .get(i)
                    .filter(|_| i < n)
                    .map_or(0, |c| i64::from(c - b'0'));
        }
        rest = &frac[n..];
    }
    let seconds_of_day = i64::from(h * 3600 + mi * 60 + s);
    let local = i64::from(day) * 86_400 + seconds_of_day;
    let offset_seconds: Option<i64> = match rest {
        [] => None,
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), oh1, oh2, b':', om1, om2]
        | [sign @ (b'+' | b'-'), oh1, oh2, om1, om2] => {
            let (Some(oh), Some(om)) = (digits(&[*oh1, *oh2]), digits(&[*om1, *om2])) else {
                return Err(bad());
            };
            if oh > 23 || om > 59 {
                return Err(bad());
            }
            let v = i64::from(oh * 3600 + om * 60);
            Some(if *sign == b'-' { -v } else { v })
        }
        [sign @ (b'+' | b'-'), oh1, oh2] => {
            let Some(oh) = digits(&[*oh1, *oh2]) else {
                return Err(bad());
            };
            let v = i64::from(oh * 3600);
            Some(if *sign == b'-' { -v } else { v })
        }
        _ => return Err(bad()),
    };
    let instant_seconds = match offset_seconds {
        Some(off) => local - off,
        None => local_to_instant(local, h, mi, s, day, zone)?,
    };
    instant_seconds
        .checked_mul(1_000_000)
        .and_then(|v| v.checked_add(micros))
        .ok_or_else(|| Rejected::new("the date and time is out of range"))
}

fn local_to_instant(
    local: i64,
    h: u32,
    mi: u32,
    s: u32,
    day: i32,
    zone: &jiff::tz::TimeZone,
) -> Result<i64, Rejected> {
    if let Ok(offset) = zone.to_fixed_offset() {
        return Ok(local - i64::from(offset.seconds()));
    }
    let out_of_range = || Rejected::new("the date and time is out of range");
    let epoch = jiff::civil::date(1970, 1, 1);
    let civil_day = epoch
        .checked_add(jiff::Span::new().days(i64::from(day)))
        .map_err(|_| out_of_range())?;
    let (Ok(h), Ok(mi), Ok(s)) = (i8::try_from(h), i8::try_from(mi), i8::try_from(s)) else {
        return Err(out_of_range());
    };
    let dt = civil_day.to_datetime(jiff::civil::time(h, mi, s, 0));
    let ts = zone
        .to_ambiguous_timestamp(dt)
        .compatible()
        .map_err(|_| out_of_range())?;
    Ok(ts.as_second())
}

fn timestamp_rejection(text: &str, zone: &jiff::tz::TimeZone) -> Rejected {
    if let Some(r) = spaces_hint(text)
        && timestamp(text.trim(), zone).is_ok()
    {
        return r;
    }
    let r = Rejected::new("it is not a date and time such as `2026-01-31T09:30:00`");
    if text.len() == 10 && date(text).is_ok() {
        return r.hint(format!(
            "add a time of day, such as `{text}T00:00:00`, or declare the field `date`"
        ));
    }
    if text.len() == 16 && timestamp(&format!("{text}:00"), zone).is_ok() {
        return r.hint(format!("add the seconds: `{text}:00`"));
    }
    r.hint("write year-month-day, `T` or a space, then hours:minutes:seconds, optionally with `Z` or an offset such as `+02:00`")
}

/// A duration such as `90 days`, `2h 30m` or `PT2H30M`, as microseconds. Calendar units
/// (months, years) have no fixed length and are refused.
pub fn duration(text: &str) -> Result<i64, Rejected> {
    let parsed: Result<jiff::SignedDuration, _> = text.parse();
    match parsed {
        Ok(d) => {
            i64::try_from(d.as_micros()).map_err(|_| Rejected::new("the duration is out of range"))
        }
        Err(_) => {
            let span: Result<jiff::Span, _> = text.parse();
            match span {
                Ok(span) => {
                    let fixed = span
                        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
                        .ok()
                        .and_then(|d| i64::try_from(d.as_micros()).ok());
                    fixed.ok_or_else(|| {
                        Rejected::new("months and years have no fixed length")
                            .hint("write the duration in days, hours, minutes or seconds")
                    })
                }
                Err(_) => Err(Rejected::new("it is not a duration")
                    .hint("write a duration such as `90 days`, `2h 30m` or `PT2H30M`")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(integer("-42"), Ok(-42));
        assert_eq!(integer("+7"), Ok(7));
        assert!(
            integer("1,000")
                .unwrap_err()
                .hint
                .unwrap()
                .contains("`1000`")
        );
        assert!(integer("1_000").is_err());
        assert!(
            integer("1.5")
                .unwrap_err()
                .reason
                .contains("after the decimal point")
        );
        assert!(integer("99999999999999999999").is_err());
        assert!(integer(" 4").unwrap_err().reason.contains("spaces"));
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(
            decimal("19.990"),
            Ok(Exact {
                mantissa: 19990,
                scale: 3
            })
        );
        assert_eq!(
            decimal("-.5"),
            Ok(Exact {
                mantissa: -5,
                scale: 1
            })
        );
        assert!(decimal("1e3").unwrap_err().reason.contains("exponent"));
        assert!(decimal("12,50").unwrap_err().reason.contains("comma"));
        assert!(decimal("$12").unwrap_err().reason.contains("currency"));
        assert!(decimal(".").is_err());
        assert!(decimal("0.1234567890123456789").is_err());
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(date("1970-01-02"), Ok(1));
        assert_eq!(date("2024-02-29"), Ok(19_782));
        assert!(date("2023-02-29").is_err());
        assert!(date("31/01/2026").unwrap_err().hint.is_some());
        let utc = jiff::tz::TimeZone::UTC;
        assert_eq!(timestamp("1970-01-01T00:00:01Z", &utc), Ok(1_000_000));
        assert_eq!(timestamp("1970-01-01 00:00:00.5", &utc), Ok(500_000));
        assert_eq!(timestamp("1970-01-01T02:00:00+02:00", &utc), Ok(0));
        let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        assert_eq!(timestamp("1970-01-01T01:00:00", &berlin), Ok(0));
        // 02:30 on 2026-03-29 does not exist in Berlin: it moves forward by the gap (03:30 CEST).
        let gap = timestamp("2026-03-29T02:30:00", &berlin).unwrap();
        assert_eq!(gap, timestamp("2026-03-29T01:30:00Z", &utc).unwrap());
        // 02:30 on 2026-10-25 happens twice: the first one (CEST, +02:00) is taken.
        let fold = timestamp("2026-10-25T02:30:00", &berlin).unwrap();
        assert_eq!(fold, timestamp("2026-10-25T00:30:00Z", &utc).unwrap());
        assert!(
            timestamp("2026-01-31", &utc)
                .unwrap_err()
                .hint
                .unwrap()
                .contains("T00:00:00")
        );
        assert!(timestamp("2026-01-31T25:00:00", &utc).is_err());
    }

    #[test]
    fn booleans() {
        assert_eq!(boolean("TRUE"), Ok(true));
        assert!(boolean("yes").unwrap_err().hint.unwrap().contains("`true`"));
    }
}

//! Literals: numbers, dates, timestamps and durations as written, validated into values.

use crate::diagnostics::suggest::{self, Candidate};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Decimal, Duration, DurationUnit, TimestampValue, Type, Value};
use crate::source::Span;
use crate::syntax::ast;

/// A literal's value and type, or `None` after reporting why it is invalid.
pub fn literal(
    lit: &ast::Literal,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Value, Type)> {
    match lit {
        ast::Literal::Integer(raw) => {
            integer(raw, span, diags).map(|i| (Value::Integer(i), Type::Integer))
        }
        ast::Literal::Decimal(raw) => match Decimal::parse(raw) {
            Some(d) => Some((Value::Decimal(d), Type::Decimal)),
            None => {
                diags.push(too_large(raw, span));
                None
            }
        },
        ast::Literal::Percent(raw) => match Decimal::parse(raw) {
            Some(d) => Some((Value::Percent(d.percent_to_fraction()), Type::Percent)),
            None => {
                diags.push(too_large(raw, span));
                None
            }
        },
        ast::Literal::Text(t) => Some((Value::Text(t.clone()), Type::Text)),
        ast::Literal::Bool(b) => Some((Value::Bool(*b), Type::Bool)),
        ast::Literal::Date(raw) => date(raw, span, diags).map(|d| (Value::Date(d), Type::Date)),
        ast::Literal::Timestamp(raw) => {
            timestamp(raw, span, diags).map(|t| (Value::Timestamp(t), Type::Timestamp))
        }
        ast::Literal::Duration(d) => {
            duration(d, diags).map(|d| (Value::Duration(d), Type::Duration))
        }
    }
}

fn too_large(raw: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::E0153,
        span,
        format!("the number `{raw}` is too large"),
    )
    .label("out of range")
    .help("whole numbers go up to 9_223_372_036_854_775_807 and decimals to 38 digits")
}

pub fn integer(raw: &str, span: Span, diags: &mut Vec<Diagnostic>) -> Option<i64> {
    let cleaned: String = raw.chars().filter(|c| *c != '_').collect();
    if let Ok(i) = cleaned.parse::<i64>() {
        Some(i)
    } else {
        diags.push(too_large(raw, span));
        None
    }
}

fn days_in_month(year: i16, month: i8) -> Option<i8> {
    let first = jiff::civil::Date::new(year, month, 1).ok()?;
    Some(first.days_in_month())
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

pub fn date(raw: &str, span: Span, diags: &mut Vec<Diagnostic>) -> Option<jiff::civil::Date> {
    let parts: Vec<&str> = raw.split('-').collect();
    let parsed = match parts.as_slice() {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            match (y.parse::<i16>(), m.parse::<i8>(), d.parse::<i8>()) {
                (Ok(y), Ok(m), Ok(d)) => Some((y, m, d)),
                _ => None,
            }
        }
        _ => None,
    };
    let Some((y, m, d)) = parsed else {
        diags.push(
            Diagnostic::new(Code::E0150, span, format!("`{raw}` is not a date"))
                .label("not a date")
                .help("write dates as year-month-day with leading zeros, for example `2026-01-31`"),
        );
        return None;
    };
    if let Ok(date) = jiff::civil::Date::new(y, m, d) {
        return Some(date);
    }
    let mut diag = Diagnostic::new(Code::E0150, span, format!("`{raw}` is not a real date"))
        .label("no such day in the calendar");
    diag = if (1..=12).contains(&m) {
        let month_name = MONTHS[usize::try_from(m - 1).unwrap_or(0)];
        match days_in_month(y, m) {
            Some(n) => diag.help(format!("{month_name} {y} has {n} days")),
            None => diag,
        }
    } else {
        diag.help(format!(
            "the month is `{m:02}`, but months go from 01 to 12; dates are written year-month-day"
        ))
    };
    diags.push(diag);
    None
}

pub fn timestamp(raw: &str, span: Span, diags: &mut Vec<Diagnostic>) -> Option<TimestampValue> {
    let bad = |diags: &mut Vec<Diagnostic>, why: &str| {
        diags.push(
            Diagnostic::new(
                Code::E0151,
                span,
                format!("`{raw}` is not a valid timestamp"),
            )
            .label(why.to_owned())
            .help(
                "write a date and time as `2026-01-31T09:30:00`, optionally followed by `Z` \
                     (UTC) or an offset such as `+02:00`",
            ),
        );
    };
    let (civil_text, offset) = if let Some(rest) = raw.strip_suffix('Z') {
        (rest, Some(0))
    } else {
        let time_start = raw.find('T').unwrap_or(raw.len());
        match raw[time_start..].rfind(['+', '-']) {
            Some(pos) => {
                let at = time_start + pos;
                let sign = if raw[at..].starts_with('-') { -1 } else { 1 };
                let off = &raw[at + 1..];
                let (h, m) = off.split_once(':').unwrap_or((off, "00"));
                match (h.parse::<i32>(), m.parse::<i32>()) {
                    (Ok(h), Ok(m)) if h <= 18 && m < 60 => {
                        (&raw[..at], Some(sign * (h * 3600 + m * 60)))
                    }
                    _ => {
                        bad(diags, "the offset from UTC is not valid");
                        return None;
                    }
                }
            }
            None => (raw, None),
        }
    };
    let Some((date_text, _)) = civil_text.split_once('T') else {
        bad(diags, "a timestamp needs `T` between the date and the time");
        return None;
    };
    date(date_text, span, diags)?;
    if let Ok(civil) = civil_text.parse::<jiff::civil::DateTime>() {
        Some(TimestampValue {
            civil,
            offset_seconds: offset,
        })
    } else {
        bad(diags, "the time of day is not valid");
        None
    }
}

/// The unit of a duration; `amount` picks singular or plural in suggestions.
pub fn duration_unit(
    unit: &ast::Ident,
    amount: Option<i64>,
    diags: &mut Vec<Diagnostic>,
) -> Option<DurationUnit> {
    if let Some(u) = DurationUnit::parse(&unit.name) {
        return Some(u);
    }
    let words: Vec<&str> = DurationUnit::ALL
        .iter()
        .flat_map(|(_, one, many)| [*one, *many])
        .collect();
    let cands: Vec<Candidate> = words.iter().map(|w| Candidate::plain(w)).collect();
    // Suggest each unit once, spelt to agree with the amount.
    let mut near: Vec<&str> = Vec::new();
    for word in suggest::nearest(&unit.name, &cands) {
        if let Some(u) = DurationUnit::parse(word) {
            let spelt = u.name(amount.unwrap_or(2));
            if !near.contains(&spelt) {
                near.push(spelt);
            }
        }
    }
    let mut d = Diagnostic::new(
        Code::E0152,
        unit.span,
        format!("`{}` is not a unit of time", unit.name),
    )
    .label("unknown unit")
    .note("the units are minutes, hours, days, weeks, months, quarters and years");
    if let Some(h) = suggest::did_you_mean(&near) {
        d = d.help(h);
    }
    if let Some(first) = near.first() {
        d = d.fix(unit.span, *first);
    }
    diags.push(d);
    None
}

pub fn duration(d: &ast::DurationLit, diags: &mut Vec<Diagnostic>) -> Option<Duration> {
    let amount = integer(&d.amount, d.span, diags);
    let unit = duration_unit(&d.unit, amount, diags);
    Some(Duration {
        amount: amount?,
        unit: unit?,
    })
}

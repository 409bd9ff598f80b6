//! Parameter values given outside the rules (`--param min_arr=60000`), checked against the
//! parameter's type exactly as a literal in a rule file would be.

use crate::diagnostics::suggest::{self, Candidate};
use crate::ir::{Decimal, Duration, DurationUnit, ParamId, Program, Type, Value};
use crate::source::{FileId, Span};

/// Finds a parameter by name; the error says which names exist.
///
/// # Errors
/// When no parameter has that name.
pub fn find_param(program: &Program, name: &str) -> Result<ParamId, String> {
    if let Some(i) = program.params.iter().position(|p| p.name == name) {
        return Ok(ParamId::from_index(i));
    }
    let cands: Vec<Candidate> = program
        .params
        .iter()
        .map(|p| Candidate::plain(&p.name))
        .collect();
    let near = suggest::nearest(name, &cands);
    let mut msg = format!("there is no parameter called `{name}`");
    if let Some(h) = suggest::did_you_mean(&near) {
        msg.push_str("; ");
        msg.push_str(&h);
    } else if program.params.is_empty() {
        msg.push_str(": the rules declare no parameters");
    } else {
        let names: Vec<String> = program
            .params
            .iter()
            .map(|p| format!("`{}`", p.name))
            .collect();
        msg.push_str(&format!("; the parameters are {}", names.join(", ")));
    }
    Err(msg)
}

/// Reads `text` as a value of the parameter's type.
///
/// # Errors
/// A sentence saying what was expected, for the command line.
pub fn parse_param_value(program: &Program, id: ParamId, text: &str) -> Result<Value, String> {
    let param = &program.params[id.index()];
    let text = text.trim();
    let expected = program.describe_type(&param.ty);
    let wrong = || {
        format!(
            "`{text}` is not {expected}, which the parameter `{}` needs",
            param.name
        )
    };
    let mut sink = Vec::new();
    let span = Span::new(FileId(0), 0, text.len());
    let plain: String = text.chars().filter(|c| *c != '_').collect();
    match &param.ty {
        Type::Integer => plain
            .parse::<i64>()
            .map(Value::Integer)
            .map_err(|_| wrong()),
        Type::Decimal => Decimal::parse(text).map(Value::Decimal).ok_or_else(wrong),
        Type::Number => plain
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Value::Number)
            .ok_or_else(wrong),
        Type::Percent => text
            .strip_suffix('%')
            .and_then(Decimal::parse)
            .map(|d| Value::Percent(d.percent_to_fraction()))
            .ok_or_else(|| format!("{}; write a percentage such as `80%`", wrong())),
        Type::Text => Ok(Value::Text(text.to_owned())),
        Type::Bool => match text.to_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("{}; write `true` or `false`", wrong())),
        },
        Type::Date => super::literal::date(text, span, &mut sink)
            .map(Value::Date)
            .ok_or_else(|| format!("{}; write a date such as `2026-01-31`", wrong())),
        Type::Timestamp => super::literal::timestamp(text, span, &mut sink)
            .map(Value::Timestamp)
            .ok_or_else(|| {
                format!(
                    "{}; write a date and time such as `2026-01-31T09:30:00`",
                    wrong()
                )
            }),
        Type::Duration => {
            let mut words = text.split_whitespace();
            let amount = words
                .next()
                .and_then(|a| a.replace('_', "").parse::<i64>().ok());
            let unit = words.next().and_then(DurationUnit::parse);
            match (amount, unit, words.next()) {
                (Some(amount), Some(unit), None) => Ok(Value::Duration(Duration { amount, unit })),
                _ => Err(format!("{}; write a duration such as `30 days`", wrong())),
            }
        }
        Type::Enum(e) => {
            let values = &program.enums[e.index()].values;
            match values.iter().position(|v| v == text) {
                Some(i) => Ok(Value::Enum(*e, u32::try_from(i).unwrap_or(0))),
                None => Err(format!(
                    "`{text}` is not one of {}",
                    crate::ir::list_values(values)
                )),
            }
        }
        Type::List(_) | Type::Error => Err(format!(
            "the parameter `{}` cannot be set from the command line",
            param.name
        )),
    }
}

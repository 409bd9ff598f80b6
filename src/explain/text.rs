//! Typed IR back to segl text, for explanations: `last_login is more than 30 days ago`.

use crate::ir::{
    AggFunc, ArithOp, CompareOp, Expr, ExprKind, PeriodRelative, PeriodUnit, PopFunc, Program,
    TextOp, Value, Window,
};

use super::value::format_exact_percent;

/// A name as written in segl: bare when it is a plain word, otherwise in backticks.
#[must_use]
pub fn name(n: &str) -> String {
    let plain = n
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && n.chars().all(|c| c.is_alphanumeric() || c == '_');
    if plain {
        n.to_owned()
    } else {
        format!("`{n}`")
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[must_use]
pub fn literal(p: &Program, v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Decimal(d) => d.to_string(),
        Value::Number(f) => super::value::format_f64(*f),
        Value::Text(s) => quote(s),
        Value::Date(d) => d.to_string(),
        Value::Timestamp(t) => t.to_string(),
        Value::Duration(d) => d.to_string(),
        Value::Percent(d) => format_exact_percent(*d),
        Value::Enum(id, i) => p
            .enums
            .get(id.index())
            .and_then(|e| e.values.get(*i as usize))
            .map_or_else(|| "?".to_owned(), |s| name(s)),
        Value::List(xs) => format!(
            "[{}]",
            xs.iter()
                .map(|x| literal(p, x))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Binding strength, loosest first.
fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Or(_) => 1,
        ExprKind::And(_) => 2,
        ExprKind::Not(_) => 3,
        ExprKind::Arith {
            op: ArithOp::Add | ArithOp::Sub,
            ..
        } => 5,
        ExprKind::Arith { .. } => 6,
        ExprKind::Coerce(x) => prec(x),
        ExprKind::Compare { .. }
        | ExprKind::Text { .. }
        | ExprKind::IsKnown(_)
        | ExprKind::InList { .. }
        | ExprKind::Between { .. }
        | ExprKind::IsEmpty(_)
        | ExprKind::ListContains { .. }
        | ExprKind::ListContainsAny { .. }
        | ExprKind::ListContainsAll { .. }
        | ExprKind::InWindow { .. }
        | ExprKind::Segment(_) => 4,
        _ => 9,
    }
}

fn wrap(p: &Program, e: &Expr, min: u8) -> String {
    let t = expr(p, e);
    if prec(e) < min { format!("({t})") } else { t }
}

fn ic(ignore_case: bool) -> &'static str {
    if ignore_case { " ignoring case" } else { "" }
}

fn is_enum(e: &Expr) -> bool {
    matches!(e.ty, crate::ir::Type::Enum(_))
}

/// A time window as written after a value: `in last 30 days`, `is more than 1 year ago`.
#[must_use]
pub fn window(w: &Window) -> String {
    match w {
        Window::Last(d) => format!("in last {d}"),
        Window::Next(d) => format!("in next {d}"),
        Window::MoreThanAgo(d) => format!("is more than {d} ago"),
        Window::LessThanAgo(d) => format!("is less than {d} ago"),
        Window::BetweenAgo { near, far } => {
            format!("is between {} and {far} ago", near.amount)
        }
        Window::Period { relative, unit } => format!(
            "in {} {}",
            match relative {
                PeriodRelative::This => "this",
                PeriodRelative::Last => "last",
                PeriodRelative::Next => "next",
            },
            match unit {
                PeriodUnit::Week => "week",
                PeriodUnit::Month => "month",
                PeriodUnit::Quarter => "quarter",
                PeriodUnit::Year => "year",
            }
        ),
    }
}

/// A window inside an aggregate: `in last 30 days`, `more than 1 year ago`.
fn agg_window(w: &Window) -> String {
    window(w).trim_start_matches("is ").to_owned()
}

/// The segl text of an expression.
#[must_use]
#[allow(clippy::too_many_lines)]
pub fn expr(p: &Program, e: &Expr) -> String {
    match &e.kind {
        ExprKind::Literal(v) => literal(p, v),
        ExprKind::Field(f) => p
            .entities
            .get(f.entity.index())
            .and_then(|en| en.fields.get(f.field.index()))
            .map_or_else(|| "?".into(), |fd| name(&fd.name)),
        ExprKind::Lookup { relation, value } => {
            format!("{}.{}", name(&p.relation(*relation).name), expr(p, value))
        }
        ExprKind::Param(id) => p
            .params
            .get(id.index())
            .map_or_else(|| "?".into(), |x| name(&x.name)),
        ExprKind::Definition(id) => p
            .definitions
            .get(id.index())
            .map_or_else(|| "?".into(), |x| name(&x.name)),
        ExprKind::Segment(id) => format!(
            "in segment {}",
            p.segments
                .get(id.index())
                .map_or_else(|| "?".into(), |x| name(&x.name))
        ),
        ExprKind::Tier(id) => p
            .tier_sets
            .get(id.index())
            .map_or_else(|| "?".into(), |x| name(&x.name)),
        ExprKind::Score(id) => p
            .scores
            .get(id.index())
            .map_or_else(|| "?".into(), |x| name(&x.name)),
        ExprKind::Today => "today".into(),
        ExprKind::Now => "now".into(),
        ExprKind::Not(x) => negated(p, x),
        ExprKind::And(xs) => xs
            .iter()
            .map(|x| wrap(p, x, 3))
            .collect::<Vec<_>>()
            .join(" and "),
        ExprKind::Or(xs) => xs
            .iter()
            .map(|x| wrap(p, x, 2))
            .collect::<Vec<_>>()
            .join(" or "),
        ExprKind::Neg(x) => format!("-{}", wrap(p, x, 9)),
        ExprKind::Arith { op, lhs, rhs } => {
            let (sym, lp, rp) = match op {
                ArithOp::Add => ("+", 5, 6),
                ArithOp::Sub => ("-", 5, 6),
                ArithOp::Mul => ("*", 6, 9),
                ArithOp::Div => ("/", 6, 9),
            };
            format!("{} {sym} {}", wrap(p, lhs, lp), wrap(p, rhs, rp))
        }
        ExprKind::Compare { op, lhs, rhs } => {
            let sym = match op {
                CompareOp::Eq if is_enum(lhs) => "is",
                CompareOp::Eq => "=",
                CompareOp::Lt => "<",
                CompareOp::Le => "<=",
                CompareOp::Gt => ">",
                CompareOp::Ge => ">=",
            };
            format!("{} {sym} {}", wrap(p, lhs, 5), wrap(p, rhs, 5))
        }
        ExprKind::Text {
            op,
            value,
            pattern,
            ignore_case,
        } => format!(
            "{} {} {}{}",
            wrap(p, value, 5),
            text_op(*op, false),
            wrap(p, pattern, 5),
            ic(*ignore_case)
        ),
        ExprKind::IsKnown(x) => format!("{} is known", wrap(p, x, 5)),
        ExprKind::InList {
            value,
            options,
            ignore_case,
        } => format!(
            "{} is any of [{}]{}",
            wrap(p, value, 5),
            options
                .iter()
                .map(|o| expr(p, o))
                .collect::<Vec<_>>()
                .join(", "),
            ic(*ignore_case)
        ),
        ExprKind::Between { value, low, high } => format!(
            "{} is between {} and {}",
            wrap(p, value, 5),
            wrap(p, low, 5),
            wrap(p, high, 5)
        ),
        ExprKind::IsEmpty(x) => format!("{} is empty", wrap(p, x, 5)),
        ExprKind::ListContains {
            list,
            element,
            ignore_case,
        } => format!(
            "{} contains {}{}",
            wrap(p, list, 5),
            wrap(p, element, 5),
            ic(*ignore_case)
        ),
        ExprKind::ListContainsAny {
            list,
            elements,
            ignore_case,
        } => format!(
            "{} contains any of {}{}",
            wrap(p, list, 5),
            expr(p, elements),
            ic(*ignore_case)
        ),
        ExprKind::ListContainsAll {
            list,
            elements,
            ignore_case,
        } => format!(
            "{} contains all of {}{}",
            wrap(p, list, 5),
            expr(p, elements),
            ic(*ignore_case)
        ),
        ExprKind::InWindow { value, window: w } => {
            format!("{} {}", wrap(p, value, 5), window(w))
        }
        ExprKind::DaysSince(x) => format!("days since {}", wrap(p, x, 9)),
        ExprKind::Anniversary(x) => format!("{} anniversary", wrap(p, x, 9)),
        ExprKind::Aggregate {
            func,
            source,
            value,
        } => {
            let fname = match func {
                AggFunc::Count => "count",
                AggFunc::CountDistinct => "count distinct",
                AggFunc::Sum => "sum",
                AggFunc::Avg => "avg",
                AggFunc::Min => "min",
                AggFunc::Max => "max",
                AggFunc::Any => "any",
                AggFunc::Every => "every",
            };
            let mut inner = source
                .path
                .iter()
                .map(|r| name(&p.relation(*r).name))
                .collect::<Vec<_>>()
                .join(".");
            if let Some(v) = value {
                inner.push('.');
                inner.push_str(&expr(p, v));
            }
            if let Some((w, _)) = &source.window {
                inner.push(' ');
                inner.push_str(&agg_window(w));
            }
            if let Some(f) = &source.filter {
                inner.push_str(" where ");
                inner.push_str(&expr(p, f));
            }
            format!("{fname}({inner})")
        }
        ExprKind::Population {
            func,
            value,
            within,
            ..
        } => {
            let head = match func {
                PopFunc::Percentile => "percentile of".to_owned(),
                PopFunc::Rank => "rank of".to_owned(),
                PopFunc::Ntile(4) => "quartile of".to_owned(),
                PopFunc::Ntile(5) => "quintile of".to_owned(),
                PopFunc::Ntile(10) => "decile of".to_owned(),
                PopFunc::Ntile(k) => format!("ntile({k}) of"),
                PopFunc::ShareOfTotal => "share of total".to_owned(),
                PopFunc::CumulativeShare => "cumulative share of".to_owned(),
            };
            let mut t = format!("{head} {}", wrap(p, value, 5));
            if let Some(w) = within {
                t.push_str(" within ");
                t.push_str(&wrap(p, w, 5));
            }
            t
        }
        ExprKind::Call { func, args } => format!(
            "{}({})",
            func.name(),
            args.iter()
                .map(|a| expr(p, a))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ExprKind::List(xs) => format!(
            "[{}]",
            xs.iter().map(|x| expr(p, x)).collect::<Vec<_>>().join(", ")
        ),
        ExprKind::Coerce(x) => expr(p, x),
        ExprKind::Error => "?".into(),
    }
}

fn text_op(op: TextOp, negated: bool) -> &'static str {
    match (op, negated) {
        (TextOp::Equals, false) => "is",
        (TextOp::Equals, true) => "is not",
        (TextOp::Contains, false) => "contains",
        (TextOp::Contains, true) => "does not contain",
        (TextOp::StartsWith, false) => "starts with",
        (TextOp::StartsWith, true) => "does not start with",
        (TextOp::EndsWith, false) => "ends with",
        (TextOp::EndsWith, true) => "does not end with",
        (TextOp::Matches, false) => "matches",
        (TextOp::Matches, true) => "does not match",
    }
}

/// `not x`, written the way users write the negative forms (`!=`, `is unknown`, `none of`...).
fn negated(p: &Program, x: &Expr) -> String {
    match &x.kind {
        ExprKind::Compare {
            op: CompareOp::Eq,
            lhs,
            rhs,
        } => format!(
            "{} {} {}",
            wrap(p, lhs, 5),
            if is_enum(lhs) { "is not" } else { "!=" },
            wrap(p, rhs, 5)
        ),
        ExprKind::IsKnown(v) => format!("{} is unknown", wrap(p, v, 5)),
        ExprKind::InList {
            value,
            options,
            ignore_case,
        } => format!(
            "{} is none of [{}]{}",
            wrap(p, value, 5),
            options
                .iter()
                .map(|o| expr(p, o))
                .collect::<Vec<_>>()
                .join(", "),
            ic(*ignore_case)
        ),
        ExprKind::Text {
            op,
            value,
            pattern,
            ignore_case,
        } => format!(
            "{} {} {}{}",
            wrap(p, value, 5),
            text_op(*op, true),
            wrap(p, pattern, 5),
            ic(*ignore_case)
        ),
        ExprKind::Between { value, low, high } => format!(
            "{} is not between {} and {}",
            wrap(p, value, 5),
            wrap(p, low, 5),
            wrap(p, high, 5)
        ),
        ExprKind::IsEmpty(v) => format!("{} is not empty", wrap(p, v, 5)),
        ExprKind::ListContains {
            list,
            element,
            ignore_case,
        } => format!(
            "{} does not contain {}{}",
            wrap(p, list, 5),
            wrap(p, element, 5),
            ic(*ignore_case)
        ),
        ExprKind::Segment(_) => format!("not {}", expr(p, x)),
        _ => format!("not {}", wrap(p, x, 4)),
    }
}

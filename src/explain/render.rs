//! Building explanation trees from the evaluator, and printing them as plain text.

use std::fmt::Write;

use super::eval::{Evaluator, Rec};
use super::text::{self, name};
use super::value::{V, day_number, format_dur, format_exact_percent, format_f64, format_percent};
use super::{EvalError, Explanation, Item, Node};
use crate::ir::{AggFunc, Expr, ExprKind, Program};

pub struct Explainer<'e, 'a> {
    pub ev: &'e Evaluator<'a>,
}

impl Explainer<'_, '_> {
    /// Explains a condition on one record.
    pub fn node(&self, e: &Expr, rec: Rec) -> Result<Node, EvalError> {
        let p = self.ev.program;
        match &e.kind {
            ExprKind::And(xs) | ExprKind::Or(xs) => {
                let mut children = Vec::new();
                for x in xs {
                    children.push(self.node(x, rec)?);
                }
                let and = matches!(e.kind, ExprKind::And(_));
                Ok(Node {
                    text: if and { "all of" } else { "any of" }.into(),
                    holds: if and {
                        children.iter().all(|c| c.holds)
                    } else {
                        children.iter().any(|c| c.holds)
                    },
                    facts: Vec::new(),
                    children,
                })
            }
            ExprKind::Segment(id) => {
                let child = match p.segments.get(id.index()) {
                    Some(s) => self.node(&s.condition, rec)?,
                    None => leaf("?", false),
                };
                Ok(Node {
                    text: text::expr(p, e),
                    holds: child.holds,
                    facts: Vec::new(),
                    children: vec![child],
                })
            }
            ExprKind::Definition(id) if e.ty == crate::ir::Type::Bool => {
                match p.definitions.get(id.index()) {
                    Some(d) => {
                        let child = self.node(&d.value, rec)?;
                        Ok(Node {
                            text: text::expr(p, e),
                            holds: child.holds,
                            facts: Vec::new(),
                            children: vec![child],
                        })
                    }
                    None => Ok(leaf("?", false)),
                }
            }
            ExprKind::Not(inner) => {
                let positive = self.node(inner, rec)?;
                let text = match &inner.kind {
                    ExprKind::Or(_) => "none of".to_owned(),
                    ExprKind::And(_) => "not all of".to_owned(),
                    _ => text::expr(p, e),
                };
                let children = positive.children;
                Ok(Node {
                    text,
                    holds: !positive.holds,
                    facts: positive.facts,
                    children,
                })
            }
            _ => self.leaf(e, rec),
        }
    }

    fn leaf(&self, e: &Expr, rec: Rec) -> Result<Node, EvalError> {
        let p = self.ev.program;
        let text = text::expr(p, e);
        let holds = self.ev.cond(e, rec)?;
        let mut facts = Vec::new();
        if let ExprKind::Aggregate {
            func: func @ (AggFunc::Any | AggFunc::Every),
            source,
            ..
        } = &e.kind
        {
            let r = self.ev.related(source, rec)?;
            let rel = source
                .path
                .iter()
                .map(|x| name(&p.relation(*x).name))
                .collect::<Vec<_>>()
                .join(".");
            let window = source
                .window
                .as_ref()
                .map(|(w, _)| format!(" {}", text::window(w).trim_start_matches("is ")))
                .unwrap_or_default();
            let mut fact = format!("{rel}{window}: {}", records(r.windowed.len()));
            if let Some(f) = &source.filter {
                let _ = write!(
                    fact,
                    ", {} of them meet {}",
                    r.kept.len(),
                    quoted(&text::expr(p, f))
                );
            }
            if *func == AggFunc::Every && r.windowed.is_empty() {
                fact.push_str(", and `every` over no records is true");
            }
            facts.push(fact);
            return Ok(Node {
                text,
                holds,
                facts,
                children: Vec::new(),
            });
        }
        let mut operands: Vec<&Expr> = Vec::new();
        collect_operands(e, &mut operands);
        for o in operands {
            let o = strip(o);
            if is_constant(o) {
                continue;
            }
            let shown = text::expr(p, o);
            if let ExprKind::Population { .. } = &o.kind {
                let entry = self.ev.population(o, rec)?;
                if entry.value.is_known() {
                    let mut f = format!("{shown} = {}", self.value(&entry.value));
                    if let Some(rank) = entry.rank {
                        let _ = write!(f, " (rank {rank} of {}", entry.n);
                        if let Some(g) = &entry.group {
                            let _ = write!(f, " in {}", self.value(g));
                        }
                        f.push(')');
                    }
                    facts.push(f);
                    continue;
                }
            }
            let v = self.ev.eval(o, rec)?;
            if !v.is_known() && matches!(e.kind, ExprKind::IsKnown(_)) {
                let mut f = format!("{shown} has no value");
                if let Some(why) = self.why_unknown(o, rec)? {
                    let _ = write!(f, " ({why})");
                }
                facts.push(f);
                continue;
            }
            if !v.is_known() {
                let mut f = format!("{shown} is unknown");
                if let Some(why) = self.why_unknown(o, rec)? {
                    let _ = write!(f, " ({why})");
                }
                let _ = write!(f, ", so {} is false", quoted(&text));
                facts.push(f);
                continue;
            }
            let computed = matches!(
                o.kind,
                ExprKind::Aggregate { .. }
                    | ExprKind::Population { .. }
                    | ExprKind::Arith { .. }
                    | ExprKind::Call { .. }
                    | ExprKind::DaysSince(_)
                    | ExprKind::Definition(_)
            );
            let mut f = if computed {
                format!("{shown} = {}", self.value(&v))
            } else {
                format!("{shown} is {}", self.value(&v))
            };
            if let Some(rel) = self.relative(&v) {
                let _ = write!(f, " ({rel})");
            }
            facts.push(f);
        }
        Ok(Node {
            text,
            holds,
            facts,
            children: Vec::new(),
        })
    }

    /// Why a value is unknown, when there is more to say than "unknown".
    fn why_unknown(&self, e: &Expr, rec: Rec) -> Result<Option<String>, EvalError> {
        let p = self.ev.program;
        Ok(match &e.kind {
            ExprKind::Lookup { relation, value } => match self.ev.follow_one(*relation, rec)? {
                None => Some(format!(
                    "there is no related {}",
                    name(&p.relation(*relation).name)
                )),
                Some(next) => self.why_unknown(value, next)?,
            },
            ExprKind::Aggregate { source, .. } => {
                let r = self.ev.related(source, rec)?;
                if r.kept.is_empty() {
                    Some(format!("over {}", records(0)))
                } else {
                    None
                }
            }
            ExprKind::Arith {
                op: crate::ir::ArithOp::Div,
                rhs,
                ..
            } => {
                let r = self.ev.eval(rhs, rec)?;
                if r.to_f64() == Some(0.0) {
                    Some("division by zero".into())
                } else {
                    None
                }
            }
            _ => None,
        })
    }

    /// A value in plain words.
    fn value(&self, v: &V) -> String {
        match v {
            V::Unknown => "unknown".into(),
            V::Bool(b) => b.to_string(),
            V::Int(i) => i.to_string(),
            V::Dec(d) => d.to_string(),
            V::Num(f) => format_f64(*f),
            V::Text(s) => format!("{s:?}"),
            V::Enum(s) => name(s),
            V::Date(d) => d.to_string(),
            V::Ts(t) => {
                let dt = self.ev.settings.as_of.time_zone.to_datetime(*t);
                if dt.second() == 0 && dt.subsec_nanosecond() == 0 {
                    format!("{}", dt.strftime("%Y-%m-%dT%H:%M"))
                } else {
                    format!("{}", dt.strftime("%Y-%m-%dT%H:%M:%S"))
                }
            }
            V::Dur(d) => format_dur(*d),
            V::Pct(super::value::Pct::Exact(d)) => format_exact_percent(*d),
            V::Pct(super::value::Pct::Float(f)) => format_percent(*f),
            V::List(xs) => format!(
                "[{}]",
                xs.iter()
                    .map(|x| self.value(x))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// Where a date lies relative to the as-of date.
    fn relative(&self, v: &V) -> Option<String> {
        let d = match v {
            V::Date(_) | V::Ts(_) => self.ev.local_date(v)?,
            _ => return None,
        };
        let n = day_number(self.ev.settings.as_of.date) - day_number(d);
        let days = |n: i64| {
            if n == 1 {
                "1 day".to_owned()
            } else {
                format!("{n} days")
            }
        };
        Some(match n {
            0 => "the as-of date".into(),
            n if n > 0 => format!("{} before the as-of date", days(n)),
            n => format!("{} after the as-of date", days(-n)),
        })
    }
}

fn leaf(text: &str, holds: bool) -> Node {
    Node {
        text: text.into(),
        holds,
        facts: Vec::new(),
        children: Vec::new(),
    }
}

/// A condition quoted inside a sentence: in double quotes, or in backticks when it has some.
fn quoted(text: &str) -> String {
    if text.contains('"') {
        format!("`{text}`")
    } else {
        format!("\"{text}\"")
    }
}

fn records(n: usize) -> String {
    match n {
        0 => "no records".into(),
        1 => "1 record".into(),
        n => format!("{n} records"),
    }
}

fn strip(e: &Expr) -> &Expr {
    match &e.kind {
        ExprKind::Coerce(x) => strip(x),
        _ => e,
    }
}

/// Literals, lists of literals, `today` and `now` need no explaining.
fn is_constant(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Literal(_) | ExprKind::Today | ExprKind::Now => true,
        ExprKind::List(xs) => xs.iter().all(|x| is_constant(strip(x))),
        ExprKind::Coerce(x) => is_constant(x),
        _ => false,
    }
}

/// The values a test looks at.
fn collect_operands<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::Compare { lhs, rhs, .. } => {
            out.push(lhs);
            out.push(rhs);
        }
        ExprKind::Text { value, pattern, .. } => {
            out.push(value);
            out.push(pattern);
        }
        ExprKind::IsKnown(x) | ExprKind::IsEmpty(x) => out.push(x),
        ExprKind::InList { value, options, .. } => {
            out.push(value);
            out.extend(options.iter());
        }
        ExprKind::Between { value, low, high } => {
            out.push(value);
            out.push(low);
            out.push(high);
        }
        ExprKind::ListContains { list, element, .. } => {
            out.push(list);
            out.push(element);
        }
        ExprKind::ListContainsAny { list, elements, .. }
        | ExprKind::ListContainsAll { list, elements, .. } => {
            out.push(list);
            out.push(elements);
        }
        ExprKind::InWindow { value, .. } => out.push(value),
        _ => out.push(e),
    }
}

/// An explanation as plain text: a header, then each segment, tier set and score with its
/// conditions marked `✓` (holds) or `✗` (does not), and the values that decided them.
#[must_use]
pub fn render(explanation: &Explanation, program: &Program) -> String {
    let mut out = String::new();
    let entity = program
        .entities
        .get(explanation.entity.index())
        .map_or("?", |e| e.name.as_str());
    let _ = writeln!(
        out,
        "{entity} \"{}\" as of {} ({})",
        explanation.key, explanation.as_of, explanation.time_zone
    );
    for item in &explanation.items {
        out.push('\n');
        match item {
            Item::Segment {
                segment,
                member,
                condition,
            } => {
                let seg = program
                    .segments
                    .get(segment.index())
                    .map_or("?", |s| s.name.as_str());
                let _ = writeln!(
                    out,
                    "segment {}: {}",
                    name(seg),
                    if *member { "in" } else { "not in" }
                );
                node(&mut out, condition, 1, "");
            }
            Item::Tiers {
                tier_set,
                chosen,
                rows,
            } => {
                let Some(set) = program.tier_sets.get(tier_set.index()) else {
                    continue;
                };
                let chosen_name = chosen
                    .and_then(|c| set.rows.get(c))
                    .map_or("none", |r| r.name.as_str());
                let _ = writeln!(out, "tiers {}: {}", name(&set.name), name(chosen_name));
                for (i, (row, explained)) in set.rows.iter().zip(rows).enumerate() {
                    let label = name(&row.name);
                    match explained {
                        Some(n) => node(&mut out, n, 1, &format!("{label} when ")),
                        None if row.condition.is_none() => {
                            let mark = if *chosen == Some(i) { "✓" } else { "·" };
                            let _ = writeln!(out, "  {mark} {label} otherwise");
                        }
                        None => {
                            let _ =
                                writeln!(out, "  · {label} (not tried: an earlier row matched)");
                        }
                    }
                }
            }
            Item::Score {
                score,
                total,
                rules,
            } => {
                let Some(def) = program.scores.get(score.index()) else {
                    continue;
                };
                let total = total.map_or_else(|| "too large to count".into(), |t| t.to_string());
                let _ = writeln!(out, "score {}: {total}", name(&def.name));
                for (rule, n) in def.rules.iter().zip(rules) {
                    let points = if rule.points >= 0 {
                        format!("+{}", rule.points)
                    } else {
                        rule.points.to_string()
                    };
                    node(&mut out, n, 1, &format!("{points} when "));
                }
            }
        }
    }
    out
}

fn node(out: &mut String, n: &Node, depth: usize, prefix: &str) {
    let indent = "  ".repeat(depth);
    let mark = if n.holds { "✓" } else { "✗" };
    let _ = write!(out, "{indent}{mark} {prefix}{}", n.text);
    if !n.facts.is_empty() {
        let _ = write!(out, " — {}", n.facts.join("; "));
    }
    out.push('\n');
    for c in &n.children {
        node(out, c, depth + 1, "");
    }
}

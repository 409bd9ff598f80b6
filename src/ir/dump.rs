//! A stable, indented text form of a checked program, for snapshot tests and `segl check --dump-ir`.
//!
//! Every expression line ends with its type; a `?` after the type marks a value that can be unknown.

use std::fmt::Write;

use super::{
    AggFunc, ArithOp, CompareOp, Expectation, Expr, ExprKind, Metadata, PeriodRelative, PeriodUnit,
    PopFunc, Program, RelationKind, TextOp, Value, Window,
};

/// The whole program as text.
#[must_use]
pub fn dump(program: &Program) -> String {
    let mut d = Dumper {
        p: program,
        out: String::new(),
    };
    d.program();
    d.out
}

/// One expression as text, without source positions: equal texts mean equal expressions.
#[must_use]
pub fn dump_expr(program: &Program, expr: &Expr) -> String {
    let mut d = Dumper {
        p: program,
        out: String::new(),
    };
    d.expr(0, expr);
    d.out
}

struct Dumper<'a> {
    p: &'a Program,
    out: String,
}

impl Dumper<'_> {
    fn line(&mut self, depth: usize, text: &str) {
        for _ in 0..depth {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn program(&mut self) {
        let p = self.p;
        if let Some(primary) = p.primary {
            self.line(0, &format!("primary entity {}", p.entity(primary).name));
        }
        for e in &p.entities {
            let key = e.fields.get(e.key.index()).map_or("?", |f| f.name.as_str());
            self.line(0, &format!("entity {} key {}", e.name, key));
            for f in &e.fields {
                let mut text = format!("field {}: {}", f.name, p.type_name(&f.ty));
                if f.optional {
                    text.push_str(" optional");
                }
                if let Some(l) = &f.label {
                    let _ = write!(text, " label {l:?}");
                }
                if !f.synonyms.is_empty() {
                    let _ = write!(text, " synonyms {}", f.synonyms.join(", "));
                }
                self.line(1, &text);
            }
            for r in &e.relations {
                let kind = match r.kind {
                    RelationKind::Many => "many",
                    RelationKind::One => "one",
                };
                let mut text = format!(
                    "relation {}: {kind} {} via {}.{}",
                    r.name,
                    p.entity(r.target).name,
                    p.entity(r.via.entity).name,
                    p.field(r.via).name
                );
                if let Some(d) = r.dated_by {
                    let _ = write!(text, " dated by {}", p.field(d).name);
                }
                self.line(1, &text);
            }
        }
        for en in &p.enums {
            self.line(
                0,
                &format!("enum {} = {}", en.origin, en.values.join(" | ")),
            );
        }
        for prm in &p.params {
            let v = self.value(&prm.default);
            self.line(
                0,
                &format!("param {}: {} = {v}", prm.name, p.type_name(&prm.ty)),
            );
        }
        for def in &p.definitions {
            self.line(
                0,
                &format!("define {} of {}", def.name, p.entity(def.entity).name),
            );
            self.expr(1, &def.value);
        }
        for seg in &p.segments {
            self.line(
                0,
                &format!("segment {} of {}", seg.name, p.entity(seg.entity).name),
            );
            self.meta(&seg.meta);
            self.expr(1, &seg.condition);
        }
        for t in &p.tier_sets {
            self.line(
                0,
                &format!("tiers {} of {}", t.name, p.entity(t.entity).name),
            );
            self.meta(&t.meta);
            for row in &t.rows {
                match &row.condition {
                    Some(c) => {
                        self.line(1, &format!("{} when", row.name));
                        self.expr(2, c);
                    }
                    None => self.line(1, &format!("{} otherwise", row.name)),
                }
            }
        }
        for s in &p.scores {
            self.line(
                0,
                &format!("score {} of {}", s.name, p.entity(s.entity).name),
            );
            self.meta(&s.meta);
            for rule in &s.rules {
                self.line(1, &format!("{:+} when", rule.points));
                self.expr(2, &rule.condition);
            }
        }
        for t in &p.tests {
            self.line(0, &format!("test {:?}", t.name));
            let as_of = self.value(&t.as_of);
            self.line(1, &format!("as of {as_of}"));
            for (pid, v) in &t.params {
                let v = self.value(v);
                self.line(1, &format!("with {} = {v}", p.params[pid.index()].name));
            }
            for (eid, path, _) in &t.data_files {
                self.line(1, &format!("data {} from {path:?}", p.entity(*eid).name));
            }
            for r in &t.records {
                let entity = p.entity(r.entity);
                let fields: Vec<String> = r
                    .fields
                    .iter()
                    .map(|(f, v)| {
                        format!(
                            "{}: {}",
                            entity
                                .fields
                                .get(f.index())
                                .map_or("?", |f| f.name.as_str()),
                            self.value(v)
                        )
                    })
                    .collect();
                let key = self.value(&r.key);
                self.line(
                    1,
                    &format!("record {} {key} {{ {} }}", entity.name, fields.join(", ")),
                );
            }
            for (e, _) in &t.expectations {
                let text = match e {
                    Expectation::Member {
                        record,
                        segment,
                        expected,
                    } => format!(
                        "expect record #{record} {} segment {}",
                        if *expected { "in" } else { "not in" },
                        p.segments[segment.index()].name
                    ),
                    Expectation::Tier {
                        record,
                        tier_set,
                        value,
                    } => {
                        let t = &p.tier_sets[tier_set.index()];
                        let v = t.rows.get(*value as usize).map_or("?", |r| r.name.as_str());
                        format!("expect record #{record} {} = {v}", t.name)
                    }
                    Expectation::Score {
                        record,
                        score,
                        value,
                    } => format!(
                        "expect record #{record} {} = {value}",
                        p.scores[score.index()].name
                    ),
                };
                self.line(1, &text);
            }
        }
    }

    fn meta(&mut self, m: &Metadata) {
        if let Some(t) = &m.title {
            self.line(1, &format!("title {t:?}"));
        }
        if let Some(t) = &m.description {
            self.line(1, &format!("description {t:?}"));
        }
        if let Some(t) = &m.owner {
            self.line(1, &format!("owner {t:?}"));
        }
        if !m.tags.is_empty() {
            let tags: Vec<String> = m.tags.iter().map(|t| format!("{t:?}")).collect();
            self.line(1, &format!("tags {}", tags.join(", ")));
        }
    }

    fn value(&self, v: &Value) -> String {
        match v {
            Value::Bool(b) => b.to_string(),
            Value::Integer(i) => i.to_string(),
            Value::Decimal(d) => d.to_string(),
            Value::Number(n) => format!("{n:?}"),
            Value::Text(t) => format!("{t:?}"),
            Value::Date(d) => d.to_string(),
            Value::Timestamp(t) => t.to_string(),
            Value::Duration(d) => d.to_string(),
            Value::Percent(d) => format!("{d} (percent)"),
            Value::Enum(id, i) => self
                .p
                .enums
                .get(id.index())
                .and_then(|e| e.values.get(*i as usize))
                .cloned()
                .unwrap_or_else(|| "?".into()),
            Value::List(items) => {
                let items: Vec<String> = items.iter().map(|v| self.value(v)).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }

    fn window(w: &Window) -> String {
        match w {
            Window::Last(d) => format!("last {d}"),
            Window::Next(d) => format!("next {d}"),
            Window::MoreThanAgo(d) => format!("more than {d} ago"),
            Window::LessThanAgo(d) => format!("less than {d} ago"),
            Window::BetweenAgo { near, far } => format!("between {near} and {far} ago"),
            Window::Period { relative, unit } => {
                let r = match relative {
                    PeriodRelative::This => "this",
                    PeriodRelative::Last => "last",
                    PeriodRelative::Next => "next",
                };
                let u = match unit {
                    PeriodUnit::Week => "week",
                    PeriodUnit::Month => "month",
                    PeriodUnit::Quarter => "quarter",
                    PeriodUnit::Year => "year",
                };
                format!("{r} {u}")
            }
        }
    }

    #[allow(clippy::too_many_lines)]
    fn expr(&mut self, depth: usize, e: &Expr) {
        let p = self.p;
        let ty = format!(
            "{}{}",
            p.type_name(&e.ty),
            if e.nullable { "?" } else { "" }
        );
        let head = |text: String| format!("{text} : {ty}");
        match &e.kind {
            ExprKind::Literal(v) => {
                let v = self.value(v);
                self.line(depth, &head(format!("literal {v}")));
            }
            ExprKind::Field(f) => {
                let text = format!("field {}.{}", p.entity(f.entity).name, p.field(*f).name);
                self.line(depth, &head(text));
            }
            ExprKind::Lookup { relation, value } => {
                self.line(
                    depth,
                    &head(format!("lookup {}", p.relation(*relation).name)),
                );
                self.expr(depth + 1, value);
            }
            ExprKind::Param(id) => {
                let text = format!("param {}", p.params[id.index()].name);
                self.line(depth, &head(text));
            }
            ExprKind::Definition(id) => {
                let text = format!("definition {}", p.definitions[id.index()].name);
                self.line(depth, &head(text));
            }
            ExprKind::Segment(id) => {
                let text = format!("segment {}", p.segments[id.index()].name);
                self.line(depth, &head(text));
            }
            ExprKind::Tier(id) => {
                let text = format!("tier {}", p.tier_sets[id.index()].name);
                self.line(depth, &head(text));
            }
            ExprKind::Score(id) => {
                let text = format!("score {}", p.scores[id.index()].name);
                self.line(depth, &head(text));
            }
            ExprKind::Today => self.line(depth, &head("today".into())),
            ExprKind::Now => self.line(depth, &head("now".into())),
            ExprKind::Not(x) => self.unary(depth, &head("not".into()), x),
            ExprKind::Neg(x) => self.unary(depth, &head("negate".into()), x),
            ExprKind::IsKnown(x) => self.unary(depth, &head("is known".into()), x),
            ExprKind::IsEmpty(x) => self.unary(depth, &head("is empty".into()), x),
            ExprKind::DaysSince(x) => self.unary(depth, &head("days since".into()), x),
            ExprKind::Anniversary(x) => self.unary(depth, &head("anniversary".into()), x),
            ExprKind::Coerce(x) => self.unary(depth, &head("coerce".into()), x),
            ExprKind::And(xs) => self.many(depth, &head("and".into()), xs),
            ExprKind::Or(xs) => self.many(depth, &head("or".into()), xs),
            ExprKind::List(xs) => self.many(depth, &head("list".into()), xs),
            ExprKind::Arith { op, lhs, rhs } => {
                let op = match op {
                    ArithOp::Add => "+",
                    ArithOp::Sub => "-",
                    ArithOp::Mul => "*",
                    ArithOp::Div => "/",
                };
                self.line(depth, &head(format!("arith {op}")));
                self.expr(depth + 1, lhs);
                self.expr(depth + 1, rhs);
            }
            ExprKind::Compare { op, lhs, rhs } => {
                let op = match op {
                    CompareOp::Eq => "=",
                    CompareOp::Lt => "<",
                    CompareOp::Le => "<=",
                    CompareOp::Gt => ">",
                    CompareOp::Ge => ">=",
                };
                self.line(depth, &head(format!("compare {op}")));
                self.expr(depth + 1, lhs);
                self.expr(depth + 1, rhs);
            }
            ExprKind::Text {
                op,
                value,
                pattern,
                ignore_case,
            } => {
                let op = match op {
                    TextOp::Equals => "equals",
                    TextOp::Contains => "contains",
                    TextOp::StartsWith => "starts with",
                    TextOp::EndsWith => "ends with",
                    TextOp::Matches => "matches",
                };
                let ic = if *ignore_case { " ignoring case" } else { "" };
                self.line(depth, &head(format!("text {op}{ic}")));
                self.expr(depth + 1, value);
                self.expr(depth + 1, pattern);
            }
            ExprKind::InList {
                value,
                options,
                ignore_case,
            } => {
                let ic = if *ignore_case { " ignoring case" } else { "" };
                self.line(depth, &head(format!("is any of{ic}")));
                self.expr(depth + 1, value);
                for o in options {
                    self.expr(depth + 1, o);
                }
            }
            ExprKind::Between { value, low, high } => {
                self.line(depth, &head("between".into()));
                self.expr(depth + 1, value);
                self.expr(depth + 1, low);
                self.expr(depth + 1, high);
            }
            ExprKind::ListContains {
                list,
                element: other,
                ignore_case,
            }
            | ExprKind::ListContainsAny {
                list,
                elements: other,
                ignore_case,
            }
            | ExprKind::ListContainsAll {
                list,
                elements: other,
                ignore_case,
            } => {
                let name = match &e.kind {
                    ExprKind::ListContains { .. } => "list contains",
                    ExprKind::ListContainsAny { .. } => "list contains any of",
                    _ => "list contains all of",
                };
                let ic = if *ignore_case { " ignoring case" } else { "" };
                self.line(depth, &head(format!("{name}{ic}")));
                self.expr(depth + 1, list);
                self.expr(depth + 1, other);
            }
            ExprKind::InWindow { value, window } => {
                self.line(depth, &head(format!("in window {}", Self::window(window))));
                self.expr(depth + 1, value);
            }
            ExprKind::Aggregate {
                func,
                source,
                value,
            } => {
                let f = match func {
                    AggFunc::Count => "count",
                    AggFunc::CountDistinct => "count distinct",
                    AggFunc::Sum => "sum",
                    AggFunc::Avg => "avg",
                    AggFunc::Min => "min",
                    AggFunc::Max => "max",
                    AggFunc::Any => "any",
                    AggFunc::Every => "every",
                };
                let path: Vec<&str> = source
                    .path
                    .iter()
                    .map(|r| p.relation(*r).name.as_str())
                    .collect();
                self.line(
                    depth,
                    &head(format!(
                        "aggregate {f} over {} ({})",
                        path.join("."),
                        p.entity(source.entity).name
                    )),
                );
                if let Some((w, field)) = &source.window {
                    let text = format!("window {} on {}", Self::window(w), p.field(*field).name);
                    self.line(depth + 1, &text);
                }
                if let Some(v) = value {
                    self.line(depth + 1, "value");
                    self.expr(depth + 2, v);
                }
                if let Some(f) = &source.filter {
                    self.line(depth + 1, "where");
                    self.expr(depth + 2, f);
                }
            }
            ExprKind::Population {
                func,
                entity,
                value,
                within,
            } => {
                let f = match func {
                    PopFunc::Percentile => "percentile".to_owned(),
                    PopFunc::Rank => "rank".to_owned(),
                    PopFunc::Ntile(n) => format!("ntile({n})"),
                    PopFunc::ShareOfTotal => "share of total".to_owned(),
                    PopFunc::CumulativeShare => "cumulative share".to_owned(),
                };
                self.line(
                    depth,
                    &head(format!("population {f} over {}", p.entity(*entity).name)),
                );
                self.expr(depth + 1, value);
                if let Some(w) = within {
                    self.line(depth + 1, "within");
                    self.expr(depth + 2, w);
                }
            }
            ExprKind::Call { func, args } => {
                self.many(depth, &head(format!("call {}", func.name())), args);
            }
            ExprKind::Error => self.line(depth, &head("error".into())),
        }
    }

    fn unary(&mut self, depth: usize, head: &str, x: &Expr) {
        self.line(depth, head);
        self.expr(depth + 1, x);
    }

    fn many(&mut self, depth: usize, head: &str, xs: &[Expr]) {
        self.line(depth, head);
        for x in xs {
            self.expr(depth + 1, x);
        }
    }
}

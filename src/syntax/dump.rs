//! A stable, indented text dump of a syntax tree, for snapshot tests and debugging.

use std::fmt::Write as _;

use crate::source::Span;
use crate::syntax::ast::{
    AggFunc, BinaryOp, BlockKind, CompareOp, CompareSpelling, DurationLit, Expect, ExpectKind,
    Expr, ExprKind, File, Ident, Item, Literal, Member, Metadata, PeriodRelative, PopFunc, Test_,
    TestStep, TextLit, TimeTest, TypeExpr, UnaryOp,
};

/// Renders `file` as one line per node: kind, names and literal spellings, then `@start..end`.
#[must_use]
pub fn dump(file: &File) -> String {
    let mut d = Dumper { out: String::new() };
    d.line(0, "File", None);
    for item in &file.items {
        d.item(1, item);
    }
    for c in &file.comments {
        d.line(1, &format!("Comment {:?}", c.text), Some(c.span));
    }
    d.out
}

struct Dumper {
    out: String,
}

fn id(i: &Ident) -> String {
    if i.quoted {
        format!("`{}`", i.name)
    } else {
        i.name.clone()
    }
}

fn dur(d: &DurationLit) -> String {
    format!("{} {} @{}", d.amount, id(&d.unit), d.span)
}

impl Dumper {
    fn line(&mut self, depth: usize, text: &str, span: Option<Span>) {
        for _ in 0..depth {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        if let Some(s) = span {
            let _ = write!(self.out, " @{s}");
        }
        self.out.push('\n');
    }

    fn text(&mut self, depth: usize, what: &str, t: &TextLit) {
        self.line(depth, &format!("{what} {:?}", t.value), Some(t.span));
    }

    fn meta(&mut self, depth: usize, m: &Metadata) {
        if let Some(t) = &m.title {
            self.text(depth, "Title", t);
        }
        if let Some(t) = &m.description {
            self.text(depth, "Description", t);
        }
        if let Some(t) = &m.owner {
            self.text(depth, "Owner", t);
        }
        for t in &m.tags {
            self.text(depth, "Tag", t);
        }
    }

    fn of(e: Option<&Ident>) -> String {
        e.map(|e| format!(" of {}", id(e))).unwrap_or_default()
    }

    fn ty(&mut self, depth: usize, t: &TypeExpr) {
        match t {
            TypeExpr::Named(i) => self.line(depth, &format!("Type {}", id(i)), Some(i.span)),
            TypeExpr::Enum { values, span } => {
                let v: Vec<String> = values.iter().map(id).collect();
                self.line(depth, &format!("OneOf {}", v.join(", ")), Some(*span));
            }
            TypeExpr::List { element, span } => {
                self.line(depth, "ListOf", Some(*span));
                self.ty(depth + 1, element);
            }
        }
    }

    fn item(&mut self, depth: usize, item: &Item) {
        match item {
            Item::Entity(e) => {
                self.line(depth, &format!("Entity {}", id(&e.name)), Some(e.span));
                for m in &e.members {
                    match m {
                        Member::Field(f) => {
                            let mut head = format!(
                                "{} {}",
                                if f.is_key { "KeyField" } else { "Field" },
                                id(&f.name)
                            );
                            if f.optional.is_some() {
                                head.push_str(" optional");
                            }
                            self.line(depth + 1, &head, Some(f.span));
                            self.ty(depth + 2, &f.ty);
                            if let Some(l) = &f.label {
                                self.text(depth + 2, "Label", l);
                            }
                            if !f.synonyms.is_empty() {
                                let s: Vec<String> = f.synonyms.iter().map(id).collect();
                                self.line(depth + 2, &format!("Synonyms {}", s.join(", ")), None);
                            }
                        }
                        Member::Relation(r) => {
                            let mut head = format!(
                                "Relation {}: {:?} {} by {}",
                                id(&r.name),
                                r.kind,
                                id(&r.target),
                                id(&r.by)
                            );
                            if let Some(d) = &r.dated_by {
                                let _ = write!(head, " dated by {}", id(d));
                            }
                            self.line(depth + 1, &head, Some(r.span));
                            if let Some(l) = &r.label {
                                self.text(depth + 2, "Label", l);
                            }
                            if !r.synonyms.is_empty() {
                                let s: Vec<String> = r.synonyms.iter().map(id).collect();
                                self.line(depth + 2, &format!("Synonyms {}", s.join(", ")), None);
                            }
                        }
                    }
                }
            }
            Item::Segment(s) => {
                let head = format!("Segment {}{}", id(&s.name), Self::of(s.entity.as_ref()));
                self.line(depth, &head, Some(s.span));
                self.meta(depth + 1, &s.meta);
                self.line(depth + 1, "Where", None);
                self.expr(depth + 2, &s.condition);
            }
            Item::Define(x) => {
                let head = format!("Define {}{}", id(&x.name), Self::of(x.entity.as_ref()));
                self.line(depth, &head, Some(x.span));
                self.expr(depth + 1, &x.value);
            }
            Item::Param(p) => {
                self.line(depth, &format!("Param {}", id(&p.name)), Some(p.span));
                if let Some(t) = &p.ty {
                    self.ty(depth + 1, t);
                }
                self.expr(depth + 1, &p.default);
            }
            Item::Tiers(t) => {
                let head = format!("Tiers {}{}", id(&t.name), Self::of(t.entity.as_ref()));
                self.line(depth, &head, Some(t.span));
                self.meta(depth + 1, &t.meta);
                for r in &t.rows {
                    match &r.condition {
                        Some(c) => {
                            self.line(
                                depth + 1,
                                &format!("Tier {} when", id(&r.name)),
                                Some(r.span),
                            );
                            self.expr(depth + 2, c);
                        }
                        None => self.line(
                            depth + 1,
                            &format!("Tier {} otherwise", id(&r.name)),
                            Some(r.span),
                        ),
                    }
                }
            }
            Item::Score(s) => {
                let head = format!("Score {}{}", id(&s.name), Self::of(s.entity.as_ref()));
                self.line(depth, &head, Some(s.span));
                self.meta(depth + 1, &s.meta);
                for r in &s.rules {
                    self.line(
                        depth + 1,
                        &format!("Points {} @{} when", r.points, r.points_span),
                        Some(r.span),
                    );
                    self.expr(depth + 2, &r.condition);
                }
            }
            Item::Test(t) => {
                self.line(depth, &format!("Test {:?}", t.name.value), Some(t.span));
                for s in &t.steps {
                    self.step(depth + 1, s);
                }
            }
        }
    }

    fn step(&mut self, depth: usize, s: &TestStep) {
        match s {
            TestStep::AsOf { value, span } => {
                self.line(depth, "AsOf", Some(*span));
                self.expr(depth + 1, value);
            }
            TestStep::Record(r) => {
                self.line(depth, &format!("Record {}", id(&r.entity)), Some(r.span));
                self.line(depth + 1, "Key", None);
                self.expr(depth + 2, &r.key);
                for f in &r.fields {
                    self.line(
                        depth + 1,
                        &format!("Set {}", id(&f.name)),
                        Some(f.name.span),
                    );
                    self.expr(depth + 2, &f.value);
                }
            }
            TestStep::Data { entity, path, span } => {
                self.line(
                    depth,
                    &format!("Data {} from {:?}", id(entity), path.value),
                    Some(*span),
                );
            }
            TestStep::With { param, value, span } => {
                self.line(depth, &format!("With {}", id(param)), Some(*span));
                self.expr(depth + 1, value);
            }
            TestStep::Expect(Expect { record, kind, span }) => match kind {
                ExpectKind::Member { negated, segment } => self.line(
                    depth,
                    &format!(
                        "Expect {} {}in {}",
                        id(record),
                        if *negated { "not " } else { "" },
                        id(segment)
                    ),
                    Some(*span),
                ),
                ExpectKind::Value { attribute, value } => {
                    self.line(
                        depth,
                        &format!("Expect {}.{} is", id(record), id(attribute)),
                        Some(*span),
                    );
                    self.expr(depth + 1, value);
                }
            },
        }
    }

    fn time(&mut self, depth: usize, t: &TimeTest) {
        let s = match t {
            TimeTest::InLast(d) => format!("InLast {}", dur(d)),
            TimeTest::InNext(d) => format!("InNext {}", dur(d)),
            TimeTest::MoreThanAgo(d) => format!("MoreThanAgo {}", dur(d)),
            TimeTest::LessThanAgo(d) => format!("LessThanAgo {}", dur(d)),
            TimeTest::BetweenAgo {
                low,
                low_span,
                high,
            } => format!("BetweenAgo {low} @{low_span} and {}", dur(high)),
            TimeTest::Period {
                relative,
                unit,
                span,
            } => {
                let r = match relative {
                    PeriodRelative::This => "this",
                    PeriodRelative::Last => "last",
                    PeriodRelative::Next => "next",
                };
                format!("Period {r} {} @{span}", id(unit))
            }
        };
        self.line(depth, &s, None);
    }

    fn expr(&mut self, depth: usize, e: &Expr) {
        let span = Some(e.span);
        match &e.kind {
            ExprKind::Literal(l) => {
                let s = match l {
                    Literal::Integer(s) => format!("Integer {s}"),
                    Literal::Decimal(s) => format!("Decimal {s}"),
                    Literal::Percent(s) => format!("Percent {s}%"),
                    Literal::Text(s) => format!("Text {s:?}"),
                    Literal::Bool(b) => format!("Bool {b}"),
                    Literal::Date(s) => format!("Date {s}"),
                    Literal::Timestamp(s) => format!("Timestamp {s}"),
                    Literal::Duration(d) => format!("Duration {}", dur(d)),
                };
                self.line(depth, &s, span);
            }
            ExprKind::Name(i) => self.line(depth, &format!("Name {}", id(i)), span),
            ExprKind::Path(p) => {
                let parts: Vec<String> = p.iter().map(id).collect();
                self.line(depth, &format!("Path {}", parts.join(".")), span);
            }
            ExprKind::Unary { op, operand } => {
                let o = match op {
                    UnaryOp::Neg => "Neg",
                    UnaryOp::Not => "Not",
                };
                self.line(depth, o, span);
                self.expr(depth + 1, operand);
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let o = match op {
                    BinaryOp::And => "And",
                    BinaryOp::Or => "Or",
                    BinaryOp::Add => "Add",
                    BinaryOp::Sub => "Sub",
                    BinaryOp::Mul => "Mul",
                    BinaryOp::Div => "Div",
                };
                self.line(depth, o, span);
                self.expr(depth + 1, lhs);
                self.expr(depth + 1, rhs);
            }
            ExprKind::Compare {
                op,
                spelling,
                lhs,
                rhs,
            } => {
                let o = match op {
                    CompareOp::Eq => "Eq",
                    CompareOp::Ne => "Ne",
                    CompareOp::Lt => "Lt",
                    CompareOp::Le => "Le",
                    CompareOp::Gt => "Gt",
                    CompareOp::Ge => "Ge",
                };
                let sp = match spelling {
                    CompareSpelling::Symbol => "symbol",
                    CompareSpelling::Words => "words",
                };
                self.line(depth, &format!("Compare {o} ({sp})"), span);
                self.expr(depth + 1, lhs);
                self.expr(depth + 1, rhs);
            }
            ExprKind::Test {
                subject,
                test,
                negated,
                ignoring_case,
            } => {
                let name = match test {
                    Test_::Between { .. } => "Between",
                    Test_::AnyOf(_) => "AnyOf",
                    Test_::Known => "Known",
                    Test_::Unknown => "Unknown",
                    Test_::Empty => "Empty",
                    Test_::Contains(_) => "Contains",
                    Test_::ContainsAny(_) => "ContainsAny",
                    Test_::ContainsAll(_) => "ContainsAll",
                    Test_::StartsWith(_) => "StartsWith",
                    Test_::EndsWith(_) => "EndsWith",
                    Test_::Matches(_) => "Matches",
                    Test_::Time(_) => "Time",
                };
                let mut head = format!("Test {name}");
                if *negated {
                    head.push_str(" negated");
                }
                if *ignoring_case {
                    head.push_str(" ignoring-case");
                }
                self.line(depth, &head, span);
                self.expr(depth + 1, subject);
                match test {
                    Test_::Between { low, high } => {
                        self.expr(depth + 1, low);
                        self.expr(depth + 1, high);
                    }
                    Test_::AnyOf(x)
                    | Test_::Contains(x)
                    | Test_::ContainsAny(x)
                    | Test_::ContainsAll(x)
                    | Test_::StartsWith(x)
                    | Test_::EndsWith(x)
                    | Test_::Matches(x) => self.expr(depth + 1, x),
                    Test_::Time(t) => self.time(depth + 1, t),
                    Test_::Known | Test_::Unknown | Test_::Empty => {}
                }
            }
            ExprKind::List(items) => {
                self.line(depth, "List", span);
                for i in items {
                    self.expr(depth + 1, i);
                }
            }
            ExprKind::Block { kind, items } => {
                let k = match kind {
                    BlockKind::All => "all",
                    BlockKind::Any => "any",
                    BlockKind::None => "none",
                };
                self.line(depth, &format!("Block {k} of"), span);
                for i in items {
                    self.expr(depth + 1, i);
                }
            }
            ExprKind::InSegment { negated, segment } => self.line(
                depth,
                &format!(
                    "{}InSegment {}",
                    if *negated { "Not" } else { "" },
                    id(segment)
                ),
                span,
            ),
            ExprKind::Today => self.line(depth, "Today", span),
            ExprKind::Now => self.line(depth, "Now", span),
            ExprKind::DaysSince(x) => {
                self.line(depth, "DaysSince", span);
                self.expr(depth + 1, x);
            }
            ExprKind::Anniversary(x) => {
                self.line(depth, "Anniversary", span);
                self.expr(depth + 1, x);
            }
            ExprKind::Aggregate {
                func,
                func_span,
                source,
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
                self.line(depth, &format!("Aggregate {f} @{func_span}"), span);
                let path: Vec<String> = source.path.iter().map(id).collect();
                self.line(
                    depth + 1,
                    &format!("Over {}", path.join(".")),
                    Some(source.span),
                );
                if let Some(w) = &source.window {
                    self.line(depth + 1, "Window", None);
                    self.time(depth + 2, w);
                }
                if let Some(f) = &source.filter {
                    self.line(depth + 1, "Filter", None);
                    self.expr(depth + 2, f);
                }
            }
            ExprKind::Population {
                func,
                func_span,
                value,
                within,
            } => {
                let f = match func {
                    PopFunc::Percentile => "percentile".to_owned(),
                    PopFunc::Rank => "rank".to_owned(),
                    PopFunc::Ntile { groups, spelling } => format!("ntile {groups} ({spelling:?})"),
                    PopFunc::ShareOfTotal => "share of total".to_owned(),
                    PopFunc::CumulativeShare => "cumulative share".to_owned(),
                };
                self.line(depth, &format!("Population {f} @{func_span}"), span);
                self.expr(depth + 1, value);
                if let Some(w) = within {
                    self.line(depth + 1, "Within", None);
                    self.expr(depth + 2, w);
                }
            }
            ExprKind::Call { func, args } => {
                self.line(depth, &format!("Call {}", id(func)), span);
                for a in args {
                    self.expr(depth + 1, a);
                }
            }
            ExprKind::Paren(x) => {
                self.line(depth, "Paren", span);
                self.expr(depth + 1, x);
            }
        }
    }
}

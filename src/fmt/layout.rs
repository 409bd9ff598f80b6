//! Prints a syntax tree as lines in the canonical layout, then puts the comments back.
//!
//! Every output line remembers the source range of what it prints. A comment inside that range
//! is printed on its own line before it; a comment after the range on the same source line
//! stays at the end of the line; any other comment goes before the next line (at the indentation
//! of what is inside the block when that line closes a block).

use super::WIDTH;
use crate::source::Span;
use crate::syntax::ast::{
    AggFunc, AggSource, BinaryOp, BlockKind, Comment, CompareOp, CompareSpelling, DurationLit,
    Entity, Expect, ExpectKind, Expr, ExprKind, File, Ident, Item, Literal, Member, Metadata,
    NtileSpelling, PeriodRelative, PopFunc, RecordLit, RelationKind, Test_, TestStep, TextLit,
    TimeTest, TypeExpr, UnaryOp,
};

/// One level of indentation.
const STEP: usize = 2;

/// The column (counted from the start of the line) where the `label`, `synonyms` and `dated by`
/// parts of entity members start, unless a member is too long for it.
const MEMBER_TAIL_COLUMN: usize = 40;

/// Prints `file` (parsed from `src`) in the canonical layout.
pub(super) fn print(file: &File, src: &str) -> String {
    let mut p = Printer {
        src,
        comments: &file.comments,
        lines: Vec::new(),
    };
    for item in &file.items {
        p.item(item);
    }
    assemble(&p.lines, &file.comments, src)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Normal,
    /// Ends a block (`}`, `)`, `]`): comments before it belong inside the block.
    Close,
}

#[derive(Debug)]
struct Line {
    indent: usize,
    text: String,
    /// The source range of what the line prints (`None` when it printed no source).
    span: Option<(usize, usize)>,
    /// The line ends with an opening `{`, `(` or `[`: no blank line after it.
    opens: bool,
    kind: Kind,
}

/// A piece of an expression: fixed words or a sub-expression.
enum Part<'e> {
    Text(String),
    Expr(&'e Expr),
}

struct Printer<'a> {
    src: &'a str,
    comments: &'a [Comment],
    lines: Vec<Line>,
}

fn start(span: Span) -> usize {
    span.start as usize
}

fn end(span: Span) -> usize {
    span.end as usize
}

fn width(s: &str) -> usize {
    s.chars().count()
}

impl Printer<'_> {
    // -----------------------------------------------------------------------------------------
    // Lines

    fn line(&mut self, indent: usize) {
        self.lines.push(Line {
            indent,
            text: String::new(),
            span: None,
            opens: false,
            kind: Kind::Normal,
        });
    }

    fn push(&mut self, text: &str) {
        if let Some(l) = self.lines.last_mut() {
            l.text.push_str(text);
        }
    }

    fn cover(&mut self, from: usize, to: usize) {
        if let Some(l) = self.lines.last_mut() {
            l.span = Some(match l.span {
                Some((s, e)) => (s.min(from), e.max(to)),
                None => (from, to),
            });
        }
    }

    fn push_at(&mut self, text: &str, span: Span) {
        self.push(text);
        self.cover(start(span), end(span));
    }

    fn opens(&mut self) {
        if let Some(l) = self.lines.last_mut() {
            l.opens = true;
        }
    }

    /// A line holding only the closing sign of a block that ends at `block_end`.
    fn close(&mut self, indent: usize, sign: &str, block_end: usize) {
        self.line(indent);
        self.push(sign);
        self.cover(block_end.saturating_sub(1), block_end);
        if let Some(l) = self.lines.last_mut() {
            l.kind = Kind::Close;
        }
    }

    fn column(&self) -> usize {
        self.lines.last().map_or(0, |l| l.indent + width(&l.text))
    }

    // -----------------------------------------------------------------------------------------
    // Source text

    fn slice(&self, span: Span) -> &str {
        self.src.get(span.range()).unwrap_or("")
    }

    /// A name as written (with its backticks or quotes).
    fn ident(&self, i: &Ident) -> String {
        let s = self.slice(i.span);
        if s.is_empty() {
            if i.quoted {
                format!("`{}`", i.name)
            } else {
                i.name.clone()
            }
        } else {
            s.to_owned()
        }
    }

    fn text_lit(&self, t: &TextLit) -> String {
        self.slice(t.span).to_owned()
    }

    fn duration(&self, d: &DurationLit) -> String {
        format!("{} {}", d.amount, self.ident(&d.unit))
    }

    /// Whether a comment starts inside `from..to`.
    fn comment_in(&self, from: usize, to: usize) -> bool {
        let i = self.comments.partition_point(|c| start(c.span) < from);
        self.comments.get(i).is_some_and(|c| start(c.span) < to)
    }

    // -----------------------------------------------------------------------------------------
    // Items

    fn item(&mut self, item: &Item) {
        match item {
            Item::Entity(e) => self.entity(e),
            Item::Segment(s) => {
                self.header("segment", &s.name, s.entity.as_ref());
                self.meta(&s.meta);
                self.line(STEP);
                self.push("where ");
                self.expr(&s.condition, STEP, 0);
                self.close(0, "}", end(s.span));
            }
            Item::Define(d) => {
                self.line(0);
                self.push("define ");
                let name = self.ident(&d.name);
                self.push_at(&name, d.name.span);
                if let Some(e) = &d.entity {
                    let e = self.ident(e);
                    self.push(&format!(" of {e}"));
                }
                self.push(" = ");
                self.expr(&d.value, 0, 0);
            }
            Item::Param(p) => {
                self.line(0);
                self.push("param ");
                let name = self.ident(&p.name);
                self.push_at(&name, p.name.span);
                if let Some(t) = &p.ty {
                    let t = self.type_expr(t);
                    self.push(&format!(": {t}"));
                }
                self.push(" = ");
                self.expr(&p.default, 0, 0);
            }
            Item::Tiers(t) => {
                self.header("tiers", &t.name, t.entity.as_ref());
                self.meta(&t.meta);
                let names: Vec<String> = t.rows.iter().map(|r| self.ident(&r.name)).collect();
                let pad = names.iter().map(|n| width(n)).max().unwrap_or(0);
                for (row, name) in t.rows.iter().zip(names) {
                    self.line(STEP);
                    let spaces = " ".repeat(pad - width(&name) + 1);
                    self.push_at(&format!("{name}{spaces}"), row.name.span);
                    match &row.condition {
                        Some(c) => {
                            self.push("when ");
                            self.expr(c, STEP, 0);
                        }
                        None => {
                            self.push("otherwise");
                            self.cover(start(row.span), end(row.span));
                        }
                    }
                }
                self.close(0, "}", end(t.span));
            }
            Item::Score(s) => {
                self.header("score", &s.name, s.entity.as_ref());
                self.meta(&s.meta);
                let pad = s.rules.iter().map(|r| width(&r.points)).max().unwrap_or(0);
                for rule in &s.rules {
                    self.line(STEP);
                    let spaces = " ".repeat(pad - width(&rule.points) + 1);
                    self.push_at(&format!("{}{spaces}", rule.points), rule.points_span);
                    self.push("when ");
                    self.expr(&rule.condition, STEP, 0);
                }
                self.close(0, "}", end(s.span));
            }
            Item::Test(t) => {
                self.line(0);
                self.push("test ");
                let name = self.text_lit(&t.name);
                self.push_at(&name, t.name.span);
                self.push(" {");
                self.opens();
                for step in &t.steps {
                    self.test_step(step);
                }
                self.close(0, "}", end(t.span));
            }
        }
    }

    /// `segment NAME of ENTITY {`
    fn header(&mut self, word: &str, name: &Ident, entity: Option<&Ident>) {
        self.line(0);
        self.push(word);
        self.push(" ");
        let n = self.ident(name);
        self.push_at(&n, name.span);
        if let Some(e) = entity {
            let e_text = self.ident(e);
            self.push(" of ");
            self.push_at(&e_text, e.span);
        }
        self.push(" {");
        self.opens();
    }

    /// The metadata lines, in the order they were written; several `tags` lines become one.
    fn meta(&mut self, meta: &Metadata) {
        let mut lines: Vec<(Span, String)> = Vec::new();
        for (word, t) in [
            ("title", &meta.title),
            ("description", &meta.description),
            ("owner", &meta.owner),
        ] {
            if let Some(t) = t {
                lines.push((t.span, format!("{word} {}", self.text_lit(t))));
            }
        }
        if let (Some(first), Some(last)) = (meta.tags.first(), meta.tags.last()) {
            let tags: Vec<String> = meta.tags.iter().map(|t| self.text_lit(t)).collect();
            lines.push((
                first.span.to(last.span),
                format!("tags {}", tags.join(", ")),
            ));
        }
        lines.sort_by_key(|(s, _)| s.start);
        for (span, text) in lines {
            self.line(STEP);
            self.push_at(&text, span);
        }
    }

    fn entity(&mut self, e: &Entity) {
        self.header("entity", &e.name, None);
        let members: Vec<(Span, String, String)> = e
            .members
            .iter()
            .map(|m| {
                let (head, tail) = self.member(m);
                let span = match m {
                    Member::Field(f) => f.span,
                    Member::Relation(r) => r.span,
                };
                (span, head, tail)
            })
            .collect();
        let column = members
            .iter()
            .filter(|(_, _, tail)| !tail.is_empty())
            .map(|(_, head, _)| STEP + width(head) + 2)
            .max()
            .unwrap_or(0)
            .max(MEMBER_TAIL_COLUMN);
        for (span, head, tail) in members {
            self.line(STEP);
            if tail.is_empty() {
                self.push_at(&head, span);
            } else {
                let spaces = " ".repeat(column - STEP - width(&head));
                self.push_at(&format!("{head}{spaces}{tail}"), span);
            }
        }
        self.close(0, "}", end(e.span));
    }

    /// A member as its declaration (`arr: decimal optional`) and its modifiers (`label "ARR"`).
    fn member(&self, m: &Member) -> (String, String) {
        let mut tail = Vec::new();
        let (head, label, synonyms) = match m {
            Member::Field(f) => {
                let mut head = String::new();
                if f.is_key {
                    head.push_str("key ");
                }
                head.push_str(&format!(
                    "{}: {}",
                    self.ident(&f.name),
                    self.type_expr(&f.ty)
                ));
                if f.optional.is_some() {
                    head.push_str(" optional");
                }
                (head, &f.label, &f.synonyms)
            }
            Member::Relation(r) => {
                let kind = match r.kind {
                    RelationKind::Many => "many",
                    RelationKind::One => "one",
                };
                let head = format!(
                    "{}: {kind} {} by {}",
                    self.ident(&r.name),
                    self.ident(&r.target),
                    self.ident(&r.by)
                );
                if let Some(d) = &r.dated_by {
                    tail.push(format!("dated by {}", self.ident(d)));
                }
                (head, &r.label, &r.synonyms)
            }
        };
        if let Some(l) = label {
            tail.push(format!("label {}", self.text_lit(l)));
        }
        if !synonyms.is_empty() {
            let names: Vec<String> = synonyms.iter().map(|s| self.ident(s)).collect();
            tail.push(format!("synonyms {}", names.join(", ")));
        }
        (head, tail.join(" "))
    }

    fn type_expr(&self, t: &TypeExpr) -> String {
        match t {
            TypeExpr::Named(i) => self.ident(i),
            TypeExpr::Enum { values, .. } => {
                let v: Vec<String> = values.iter().map(|v| self.ident(v)).collect();
                format!("one of {}", v.join(", "))
            }
            TypeExpr::List { element, .. } => format!("list of {}", self.type_expr(element)),
        }
    }

    fn test_step(&mut self, step: &TestStep) {
        self.line(STEP);
        match step {
            TestStep::AsOf { value, .. } => {
                self.push("as of ");
                self.expr(value, STEP, 0);
            }
            TestStep::Data { entity, path, span } => {
                let text = format!("data {} from {}", self.ident(entity), self.text_lit(path));
                self.push_at(&text, *span);
            }
            TestStep::With { param, value, .. } => {
                let name = self.ident(param);
                self.push("with ");
                self.push_at(&name, param.span);
                self.push(" = ");
                self.expr(value, STEP, 0);
            }
            TestStep::Expect(e) => self.expect(e),
            TestStep::Record(r) => self.record(r),
        }
    }

    fn expect(&mut self, e: &Expect) {
        let record = self.ident(&e.record);
        self.push("expect ");
        self.push_at(&record, e.record.span);
        match &e.kind {
            ExpectKind::Member { negated, segment } => {
                let seg = self.ident(segment);
                self.push(if *negated { " not in " } else { " in " });
                self.push_at(&seg, segment.span);
            }
            ExpectKind::Value { attribute, value } => {
                let attr = self.ident(attribute);
                // `is` and `=` are both accepted; keep the one that was written.
                let between = self
                    .src
                    .get(end(attribute.span)..start(value.span))
                    .unwrap_or("");
                let word = if between.contains('=') { " = " } else { " is " };
                self.push(".");
                self.push_at(&attr, attribute.span);
                self.push(word);
                self.expr(value, STEP, 0);
            }
        }
    }

    /// `customer c1 { field: value, ... }` on one line when it fits, otherwise the fields fill
    /// lines of their own (one field per line when comments are inside).
    fn record(&mut self, r: &RecordLit) {
        let indent = self.lines.last().map_or(0, |l| l.indent);
        let head = format!("{} {}", self.ident(&r.entity), self.slice(r.key.span));
        let fields: Vec<(String, Span)> = r
            .fields
            .iter()
            .map(|f| {
                (
                    format!("{}: {}", self.ident(&f.name), self.flat(&f.value)),
                    f.name.span.to(f.value.span),
                )
            })
            .collect();
        // Only comments between the braces keep the fields on lines of their own: one between
        // the entity and the key moves above the record, and the record is laid out as if it
        // were not there (so that formatting twice gives the same text).
        let has_comment = self.comment_in(end(r.key.span), end(r.span));
        self.push_at(&head, r.entity.span.to(r.key.span));
        if fields.is_empty() {
            self.push(" {}");
            self.cover(start(r.span), end(r.span));
            return;
        }
        let one_line: Vec<&str> = fields.iter().map(|(t, _)| t.as_str()).collect();
        let one_line = format!(" {{ {} }}", one_line.join(", "));
        if !has_comment && self.column() + width(&one_line) <= WIDTH {
            self.push(&one_line);
            self.cover(start(r.span), end(r.span));
            return;
        }
        self.push(" {");
        self.opens();
        let inner = indent + STEP;
        let count = fields.len();
        let mut fresh = true;
        self.line(inner);
        for (i, (text, span)) in fields.into_iter().enumerate() {
            let comma = if i + 1 < count { "," } else { "" };
            let needed = width(&text) + comma.len() + 1;
            if !fresh && (has_comment || self.column() + needed > WIDTH) {
                self.line(inner);
                fresh = true;
            }
            if !fresh {
                self.push(" ");
            }
            self.push_at(&format!("{text}{comma}"), span);
            fresh = false;
        }
        self.close(indent, "}", end(r.span));
    }

    // -----------------------------------------------------------------------------------------
    // Expressions

    /// Prints `e` from the current position. Lines it starts are indented from `indent`;
    /// `trail` is the width of what follows `e` on its last line.
    fn expr(&mut self, e: &Expr, indent: usize, trail: usize) {
        if !self.must_break(e) && self.column() + width(&self.flat(e)) + trail <= WIDTH {
            let text = self.flat(e);
            self.push_at(&text, e.span);
            return;
        }
        let inner = indent + STEP;
        match &e.kind {
            ExprKind::Binary { op, .. } => {
                let chain = chain(e, *op);
                for (i, (op, operand)) in chain.iter().enumerate() {
                    let last = i + 1 == chain.len();
                    let t = if last { trail } else { 0 };
                    match op {
                        None => self.expr(operand, indent, t),
                        Some(op) => {
                            self.line(inner);
                            self.push(&format!("{} ", op_word(*op)));
                            self.expr(operand, inner, t);
                        }
                    }
                }
            }
            ExprKind::Block { kind, items } => {
                self.push_at(&format!("{} of {{", block_word(*kind)), head_of(e.span));
                if items.is_empty() {
                    self.push("}");
                    self.cover(start(e.span), end(e.span));
                    return;
                }
                self.opens();
                for (i, item) in items.iter().enumerate() {
                    self.line(inner);
                    let protected = protect(item, i);
                    self.expr(protected.as_ref().unwrap_or(item), inner, 0);
                }
                self.close(indent, "}", end(e.span));
            }
            ExprKind::List(items) if !items.is_empty() => {
                self.push_at("[", head_of(e.span));
                self.opens();
                let one_per_line = self.comment_in(start(e.span), end(e.span));
                let count = items.len();
                let mut fresh = true;
                self.line(inner);
                for (i, item) in items.iter().enumerate() {
                    let comma = if i + 1 < count { "," } else { "" };
                    let text = self.flat(item);
                    if !fresh && (one_per_line || self.column() + width(&text) + 2 > WIDTH) {
                        self.line(inner);
                        fresh = true;
                    }
                    if !fresh {
                        self.push(" ");
                    }
                    self.expr(item, inner, comma.len());
                    self.push(comma);
                    fresh = false;
                }
                self.close(indent, "]", end(e.span));
            }
            ExprKind::Paren(x) => {
                self.push_at("(", head_of(e.span));
                self.opens();
                self.line(inner);
                self.expr(x, inner, 0);
                self.close(indent, ")", end(e.span));
            }
            ExprKind::Aggregate { func, source, .. }
                if source.filter.is_some() || source.window.is_some() =>
            {
                self.push_at(&format!("{}(", agg_word(*func)), head_of(e.span));
                self.opens();
                self.line(inner);
                let path = self.path(&source.path);
                let path_span = source
                    .path
                    .first()
                    .zip(source.path.last())
                    .map(|(a, b)| a.span.to(b.span));
                self.push(&path);
                if let Some(s) = path_span {
                    self.cover(start(s), end(s));
                }
                let (window, filter_first) = self.agg_window(source);
                if let Some((text, _)) = &window
                    && !filter_first
                {
                    self.push(text);
                }
                if let Some(f) = &source.filter {
                    self.line(inner);
                    self.push("where ");
                    self.expr(f, inner, 0);
                }
                if let Some((text, at)) = &window
                    && filter_first
                {
                    self.line(inner);
                    self.push(text.trim_start());
                    self.cover(*at, *at + 1);
                }
                self.close(indent, ")", end(e.span));
            }
            _ => {
                let parts = self.parts(e);
                let widths: Vec<usize> = parts.iter().map(|p| self.part_width(p)).collect();
                for (i, part) in parts.iter().enumerate() {
                    match part {
                        Part::Text(t) => self.push(t),
                        Part::Expr(x) => {
                            let rest: usize = widths.iter().skip(i + 1).sum::<usize>() + trail;
                            self.expr(x, indent, rest);
                        }
                    }
                }
            }
        }
    }

    fn part_width(&self, p: &Part<'_>) -> usize {
        match p {
            Part::Text(t) => width(t),
            Part::Expr(x) => width(&self.flat(x)),
        }
    }

    /// Whether `e` cannot be printed on one line: it holds a list block, or comments that must
    /// stay between its parts.
    fn must_break(&self, e: &Expr) -> bool {
        let here = match &e.kind {
            ExprKind::Block { .. } => true,
            ExprKind::Binary { op, .. } => {
                let chain = chain(e, *op);
                chain.windows(2).any(|w| match w {
                    [(_, a), (_, b)] => self.comment_in(end(a.span), start(b.span)),
                    _ => false,
                })
            }
            ExprKind::List(_) | ExprKind::Paren(_) => self.comment_in(start(e.span), end(e.span)),
            ExprKind::Aggregate { source, .. }
                if source.filter.is_some() || source.window.is_some() =>
            {
                self.comment_in(start(e.span), end(e.span))
            }
            _ => false,
        };
        here || self.children(e).iter().any(|c| self.must_break(c))
    }

    fn children<'e>(&self, e: &'e Expr) -> Vec<&'e Expr> {
        match &e.kind {
            ExprKind::Aggregate { source, .. } => source.filter.iter().map(|f| &**f).collect(),
            _ => self
                .parts(e)
                .into_iter()
                .filter_map(|p| match p {
                    Part::Expr(x) => Some(x),
                    Part::Text(_) => None,
                })
                .collect(),
        }
    }

    /// `e` on one line.
    fn flat(&self, e: &Expr) -> String {
        let mut out = String::new();
        for p in self.parts(e) {
            match p {
                Part::Text(t) => out.push_str(&t),
                Part::Expr(x) => out.push_str(&self.flat(x)),
            }
        }
        out
    }

    fn path(&self, idents: &[Ident]) -> String {
        let names: Vec<String> = idents.iter().map(|i| self.ident(i)).collect();
        names.join(".")
    }

    /// The window of an aggregate (its text and where it starts), and whether it was written
    /// after the `where` condition.
    fn agg_window(&self, source: &AggSource) -> (Option<(String, usize)>, bool) {
        let Some(w) = &source.window else {
            return (None, false);
        };
        let at = window_start(w);
        let path_end = source
            .path
            .last()
            .map_or(start(source.span), |i| end(i.span));
        match &source.filter {
            Some(f) if start(f.span) < at => (Some((self.window(w, end(f.span)), at)), true),
            _ => (Some((self.window(w, path_end), at)), false),
        }
    }

    /// The window of an aggregate, with a leading space: ` in last 30 days`. `is` in front of
    /// `more than`, `less than` and `between` is optional there and kept as written: after a
    /// `where` condition ending in a number it is needed (`30 more` would read as a duration).
    fn window(&self, w: &TimeTest, after: usize) -> String {
        let written = self.src.get(after..window_start(w)).unwrap_or("");
        let is = if written.split_whitespace().any(|word| word == "is") {
            " is"
        } else {
            ""
        };
        self.time_words(w, is)
    }

    fn time_words(&self, w: &TimeTest, is: &str) -> String {
        match w {
            TimeTest::InLast(d) => format!(" in last {}", self.duration(d)),
            TimeTest::InNext(d) => format!(" in next {}", self.duration(d)),
            TimeTest::MoreThanAgo(d) => format!("{is} more than {} ago", self.duration(d)),
            TimeTest::LessThanAgo(d) => format!("{is} less than {} ago", self.duration(d)),
            TimeTest::BetweenAgo { low, high, .. } => {
                format!("{is} between {low} and {} ago", self.duration(high))
            }
            TimeTest::Period { relative, unit, .. } => {
                format!(" in {} {}", period_word(*relative), self.ident(unit))
            }
        }
    }

    /// A time test after its subject: ` is more than 30 days ago`, ` not in last 7 days`.
    fn time_test(&self, t: &TimeTest, negated: bool) -> String {
        let not = if negated { " not" } else { "" };
        match t {
            TimeTest::InLast(_) | TimeTest::InNext(_) | TimeTest::Period { .. } => {
                format!("{not}{}", self.time_words(t, ""))
            }
            TimeTest::MoreThanAgo(_) | TimeTest::LessThanAgo(_) | TimeTest::BetweenAgo { .. } => {
                format!(" is{not}{}", self.time_words(t, ""))
            }
        }
    }

    #[allow(clippy::too_many_lines)]
    fn parts<'e>(&self, e: &'e Expr) -> Vec<Part<'e>> {
        let t = |s: &str| Part::Text(s.to_owned());
        match &e.kind {
            ExprKind::Literal(l) => vec![Part::Text(self.literal(l, e.span))],
            ExprKind::Name(i) => vec![Part::Text(self.ident(i))],
            ExprKind::Path(p) => vec![Part::Text(self.path(p))],
            ExprKind::Unary { op, operand } => vec![
                t(match op {
                    UnaryOp::Neg => "-",
                    UnaryOp::Not => "not ",
                }),
                Part::Expr(operand),
            ],
            ExprKind::Binary { op, lhs, rhs } => vec![
                Part::Expr(lhs),
                Part::Text(format!(" {} ", op_word(*op))),
                Part::Expr(rhs),
            ],
            ExprKind::Compare {
                op,
                spelling,
                lhs,
                rhs,
            } => {
                let word = match (spelling, op) {
                    (CompareSpelling::Words, CompareOp::Eq) => " is ",
                    (CompareSpelling::Words, CompareOp::Ne) => " is not ",
                    (_, CompareOp::Eq) => " = ",
                    (_, CompareOp::Ne) => " != ",
                    (_, CompareOp::Lt) => " < ",
                    (_, CompareOp::Le) => " <= ",
                    (_, CompareOp::Gt) => " > ",
                    (_, CompareOp::Ge) => " >= ",
                };
                vec![Part::Expr(lhs), t(word), Part::Expr(rhs)]
            }
            ExprKind::Test {
                subject,
                test,
                negated,
                ignoring_case,
            } => {
                let n = *negated;
                let is = if n { " is not " } else { " is " };
                let does = |word: &str, positive: &str| {
                    if n {
                        format!(" does not {word} ")
                    } else {
                        format!(" {positive} ")
                    }
                };
                let mut out = vec![Part::Expr(subject)];
                match test {
                    Test_::Between { low, high } => {
                        out.push(Part::Text(format!("{is}between ")));
                        out.push(Part::Expr(low));
                        out.push(t(" and "));
                        out.push(Part::Expr(high));
                    }
                    Test_::AnyOf(x) => {
                        out.push(t(if n { " is none of " } else { " is any of " }));
                        out.push(Part::Expr(x));
                    }
                    Test_::Known => out.push(Part::Text(format!("{is}known"))),
                    Test_::Unknown => out.push(Part::Text(format!("{is}unknown"))),
                    Test_::Empty => out.push(Part::Text(format!("{is}empty"))),
                    Test_::Contains(x) => {
                        out.push(Part::Text(does("contain", "contains")));
                        out.push(Part::Expr(x));
                    }
                    Test_::ContainsAny(x) => {
                        out.push(Part::Text(does("contain any of", "contains any of")));
                        out.push(Part::Expr(x));
                    }
                    Test_::ContainsAll(x) => {
                        out.push(Part::Text(does("contain all of", "contains all of")));
                        out.push(Part::Expr(x));
                    }
                    Test_::StartsWith(x) => {
                        out.push(Part::Text(does("start with", "starts with")));
                        out.push(Part::Expr(x));
                    }
                    Test_::EndsWith(x) => {
                        out.push(Part::Text(does("end with", "ends with")));
                        out.push(Part::Expr(x));
                    }
                    Test_::Matches(x) => {
                        out.push(Part::Text(does("match", "matches")));
                        out.push(Part::Expr(x));
                    }
                    Test_::Time(tt) => out.push(Part::Text(self.time_test(tt, n))),
                }
                if *ignoring_case {
                    out.push(t(" ignoring case"));
                }
                out
            }
            ExprKind::List(items) => {
                let mut out = vec![t("[")];
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(t(", "));
                    }
                    out.push(Part::Expr(x));
                }
                out.push(t("]"));
                out
            }
            ExprKind::Block { kind, items } => {
                // Only used to measure and as a last resort: blocks are always broken.
                let mut out = vec![Part::Text(format!("{} of {{", block_word(*kind)))];
                for x in items {
                    out.push(t(" "));
                    out.push(Part::Expr(x));
                }
                out.push(t(" }"));
                out
            }
            ExprKind::InSegment { negated, segment } => vec![Part::Text(format!(
                "{}in segment {}",
                if *negated { "not " } else { "" },
                self.ident(segment)
            ))],
            ExprKind::Today => vec![t("today")],
            ExprKind::Now => vec![t("now")],
            ExprKind::DaysSince(x) => vec![t("days since "), Part::Expr(x)],
            ExprKind::Anniversary(x) => vec![Part::Expr(x), t(" anniversary")],
            ExprKind::Aggregate { func, source, .. } => {
                let mut out = vec![Part::Text(format!(
                    "{}({}",
                    agg_word(*func),
                    self.path(&source.path)
                ))];
                let (window, filter_first) = self.agg_window(source);
                if let Some((w, _)) = &window
                    && !filter_first
                {
                    out.push(Part::Text(w.clone()));
                }
                if let Some(f) = &source.filter {
                    out.push(t(" where "));
                    out.push(Part::Expr(f));
                }
                if let Some((w, _)) = window
                    && filter_first
                {
                    out.push(Part::Text(w));
                }
                out.push(t(")"));
                out
            }
            ExprKind::Population {
                func,
                value,
                within,
                ..
            } => {
                let head = match func {
                    PopFunc::Percentile => "percentile of ".to_owned(),
                    PopFunc::Rank => "rank of ".to_owned(),
                    PopFunc::Ntile { groups, spelling } => match spelling {
                        NtileSpelling::Ntile => format!("ntile({groups}) of "),
                        NtileSpelling::Quintile => "quintile of ".to_owned(),
                        NtileSpelling::Quartile => "quartile of ".to_owned(),
                        NtileSpelling::Decile => "decile of ".to_owned(),
                    },
                    PopFunc::ShareOfTotal => "share of total ".to_owned(),
                    PopFunc::CumulativeShare => "cumulative share of ".to_owned(),
                };
                let mut out = vec![Part::Text(head), Part::Expr(value)];
                if let Some(w) = within {
                    out.push(t(" within "));
                    out.push(Part::Expr(w));
                }
                out
            }
            ExprKind::Call { func, args } => {
                let mut out = vec![Part::Text(format!("{}(", self.ident(func)))];
                for (i, x) in args.iter().enumerate() {
                    if i > 0 {
                        out.push(t(", "));
                    }
                    out.push(Part::Expr(x));
                }
                out.push(t(")"));
                out
            }
            ExprKind::Paren(x) => vec![t("("), Part::Expr(x), t(")")],
        }
    }

    fn literal(&self, l: &Literal, span: Span) -> String {
        match l {
            Literal::Integer(s)
            | Literal::Decimal(s)
            | Literal::Date(s)
            | Literal::Timestamp(s) => s.clone(),
            Literal::Percent(s) => format!("{s}%"),
            Literal::Text(v) => {
                let s = self.slice(span);
                if s.starts_with('"') {
                    s.to_owned()
                } else {
                    escape(v)
                }
            }
            Literal::Bool(b) => b.to_string(),
            Literal::Duration(d) => self.duration(d),
        }
    }
}

/// A text literal written out with the escapes segl reads.
fn escape(v: &str) -> String {
    let mut out = String::from("\"");
    for c in v.chars() {
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

/// The first character of `span`: where an opening line's source starts.
fn head_of(span: Span) -> Span {
    Span {
        file: span.file,
        start: span.start,
        end: span.start.saturating_add(1).min(span.end),
    }
}

fn window_start(w: &TimeTest) -> usize {
    match w {
        TimeTest::InLast(d)
        | TimeTest::InNext(d)
        | TimeTest::MoreThanAgo(d)
        | TimeTest::LessThanAgo(d) => start(d.span),
        TimeTest::BetweenAgo { low_span, .. } => start(*low_span),
        TimeTest::Period { span, .. } => start(*span),
    }
}

/// The operands of a chain of operators of one precedence level (`a and b and c`, `a + b - c`),
/// each with the operator before it.
fn chain(e: &Expr, op: BinaryOp) -> Vec<(Option<BinaryOp>, &Expr)> {
    let level = |o: BinaryOp| match o {
        BinaryOp::Or => 0,
        BinaryOp::And => 1,
        BinaryOp::Add | BinaryOp::Sub => 2,
        BinaryOp::Mul | BinaryOp::Div => 3,
    };
    let mut out = Vec::new();
    let mut cur = e;
    loop {
        match &cur.kind {
            ExprKind::Binary { op: o, lhs, rhs } if level(*o) == level(op) => {
                out.push((Some(*o), &**rhs));
                cur = lhs;
            }
            _ => {
                out.push((None, cur));
                break;
            }
        }
    }
    out.reverse();
    out
}

fn op_word(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::And => "and",
        BinaryOp::Or => "or",
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
    }
}

fn block_word(kind: BlockKind) -> &'static str {
    match kind {
        BlockKind::All => "all",
        BlockKind::Any => "any",
        BlockKind::None => "none",
    }
}

fn period_word(r: PeriodRelative) -> &'static str {
    match r {
        PeriodRelative::This => "this",
        PeriodRelative::Last => "last",
        PeriodRelative::Next => "next",
    }
}

fn agg_word(f: AggFunc) -> &'static str {
    match f {
        AggFunc::Count => "count",
        AggFunc::CountDistinct => "count distinct",
        AggFunc::Sum => "sum",
        AggFunc::Avg => "avg",
        AggFunc::Min => "min",
        AggFunc::Max => "max",
        AggFunc::Any => "any",
        AggFunc::Every => "every",
    }
}

/// Inside a list block a line that starts with `-` continues the line before it, so a condition
/// (other than the first) whose first sign is a minus gets that part in parentheses:
/// `-days since x > 3` is printed `(-days since x) > 3`.
fn protect(item: &Expr, index: usize) -> Option<Expr> {
    fn leads_with_minus(e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Unary {
                op: UnaryOp::Neg, ..
            } => true,
            ExprKind::Binary { lhs, .. } | ExprKind::Compare { lhs, .. } => leads_with_minus(lhs),
            ExprKind::Test { subject, .. } => leads_with_minus(subject),
            _ => false,
        }
    }
    fn wrap(e: &Expr) -> Expr {
        let kind = match &e.kind {
            ExprKind::Unary {
                op: UnaryOp::Neg, ..
            } => ExprKind::Paren(Box::new(e.clone())),
            ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
                op: *op,
                lhs: Box::new(wrap(lhs)),
                rhs: rhs.clone(),
            },
            ExprKind::Compare {
                op,
                spelling,
                lhs,
                rhs,
            } => ExprKind::Compare {
                op: *op,
                spelling: *spelling,
                lhs: Box::new(wrap(lhs)),
                rhs: rhs.clone(),
            },
            ExprKind::Test {
                subject,
                test,
                negated,
                ignoring_case,
            } => ExprKind::Test {
                subject: Box::new(wrap(subject)),
                test: test.clone(),
                negated: *negated,
                ignoring_case: *ignoring_case,
            },
            other => other.clone(),
        };
        Expr { kind, span: e.span }
    }
    (index > 0 && leads_with_minus(item)).then(|| wrap(item))
}

// ---------------------------------------------------------------------------------------------
// Comments and blank lines

/// Where one comment goes.
enum Place {
    Before(usize),
    After(usize),
    End,
}

fn place(lines: &[Line], c: &Comment, src: &str) -> Place {
    let p = start(c.span);
    if let Some(i) = lines
        .iter()
        .position(|l| l.span.is_some_and(|(s, e)| s <= p && p < e))
    {
        return Place::Before(i);
    }
    if let Some(i) = lines
        .iter()
        .rposition(|l| l.span.is_some_and(|(_, e)| e <= p))
        && let Some((_, e)) = lines.get(i).and_then(|l| l.span)
        && !src.get(e..p).unwrap_or("\n").contains('\n')
    {
        return Place::After(i);
    }
    match lines
        .iter()
        .position(|l| l.span.is_some_and(|(s, _)| s > p))
    {
        Some(i) => Place::Before(i),
        None => Place::End,
    }
}

/// Whether the source between `from` and `to` holds an empty line.
fn blank_between(src: &str, from: Option<usize>, to: usize) -> bool {
    let Some(from) = from else { return false };
    let Some(gap) = src.get(from..to) else {
        return false;
    };
    let parts: Vec<&str> = gap.split('\n').collect();
    parts.len() > 2
        && parts
            .iter()
            .skip(1)
            .take(parts.len() - 2)
            .any(|s| s.trim().is_empty())
}

fn assemble(lines: &[Line], comments: &[Comment], src: &str) -> String {
    let mut before: Vec<Vec<&Comment>> = lines.iter().map(|_| Vec::new()).collect();
    let mut after: Vec<Option<&Comment>> = lines.iter().map(|_| None).collect();
    let mut at_end: Vec<&Comment> = Vec::new();
    for c in comments {
        match place(lines, c, src) {
            Place::Before(i) => {
                if let Some(v) = before.get_mut(i) {
                    v.push(c);
                }
            }
            Place::After(i) => match after.get_mut(i) {
                Some(slot @ None) => *slot = Some(c),
                _ => {
                    // A second comment after the same line: put it before the next line.
                    match before.get_mut(i + 1) {
                        Some(v) => v.push(c),
                        None => at_end.push(c),
                    }
                }
            },
            Place::End => at_end.push(c),
        }
    }

    let mut out = String::new();
    let mut prev_end: Option<usize> = None;
    let mut no_blank = true;
    let comment_line = |out: &mut String, c: &Comment, indent: usize, blank: bool| {
        if blank {
            out.push('\n');
        }
        out.push_str(&" ".repeat(indent));
        out.push('#');
        out.push_str(c.text.trim_end());
        out.push('\n');
    };
    for (i, line) in lines.iter().enumerate() {
        let comment_indent = match line.kind {
            Kind::Close => line.indent + STEP,
            Kind::Normal => line.indent,
        };
        for c in before.get(i).map(Vec::as_slice).unwrap_or(&[]) {
            let blank = !no_blank && blank_between(src, prev_end, start(c.span));
            comment_line(&mut out, c, comment_indent, blank);
            prev_end = Some(end(c.span));
            no_blank = false;
        }
        let blank = !no_blank
            && line.kind == Kind::Normal
            && line
                .span
                .is_some_and(|(s, _)| blank_between(src, prev_end, s));
        if blank {
            out.push('\n');
        }
        out.push_str(&" ".repeat(line.indent));
        out.push_str(line.text.trim_end());
        if let Some((_, e)) = line.span {
            prev_end = Some(prev_end.map_or(e, |p| p.max(e)));
        }
        if let Some(c) = after.get(i).copied().flatten() {
            out.push_str("  #");
            out.push_str(c.text.trim_end());
            prev_end = Some(end(c.span));
        }
        out.push('\n');
        no_blank = line.opens;
    }
    for c in at_end {
        let blank = !no_blank && blank_between(src, prev_end, start(c.span));
        comment_line(&mut out, c, 0, blank);
        prev_end = Some(end(c.span));
        no_blank = false;
    }
    out
}

//! Turns source text into an [`ast::File`]: runs the pest grammar, recovers item by item when it
//! fails, and builds the syntax tree with spans.

use pest::Parser as _;
use pest::iterators::Pair;

use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};
use crate::syntax::ast::{
    self, AggFunc, AggSource, BinaryOp, BlockKind, CompareOp, CompareSpelling, DurationLit, Expr,
    ExprKind, Ident, Literal, NtileSpelling, PeriodRelative, PopFunc, Test_, TextLit, TimeTest,
    UnaryOp,
};
use crate::syntax::{errors, scan};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/segl.pest"]
pub(crate) struct SeglParser;

/// The result of parsing one file: the syntax tree of everything that could be read, and the
/// problems found. A broken item is left out of `file.items`; the other items are still there.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    pub file: ast::File,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// Whether any diagnostic is an error.
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Stack for the parsing thread: pest and the tree builder recurse once per nesting level, and
/// [`scan::MAX_DEPTH`] levels need more than a default thread stack in debug builds.
const PARSE_STACK: usize = 64 * 1024 * 1024;

/// Parses one `.segl` file. Never panics; spans are byte offsets into `text`.
#[must_use]
pub fn parse(file: FileId, text: &str) -> Parsed {
    std::thread::scope(|s| {
        let worker = std::thread::Builder::new()
            .name("segl-parse".to_owned())
            .stack_size(PARSE_STACK)
            .spawn_scoped(s, || parse_here(file, text));
        match worker {
            Ok(handle) => handle.join().unwrap_or_else(|_| Parsed {
                file: ast::File {
                    file,
                    items: Vec::new(),
                    comments: Vec::new(),
                    broken: Vec::new(),
                },
                diagnostics: vec![
                    Diagnostic::new(
                        Code::E0100,
                        Span::new(file, 0, 0),
                        "this file could not be read",
                    )
                    .label("the parser stopped here")
                    .help("please report this file to the segl maintainers"),
                ],
            }),
            Err(_) => parse_here(file, text),
        }
    })
}

fn parse_here(file: FileId, text: &str) -> Parsed {
    let scanned = scan::scan(file, text);
    let mut diagnostics = scanned.diagnostics;
    let mut items = Vec::new();
    let mut broken = Vec::new();

    let mut done = false;
    if !scanned.chunks.iter().any(|c| c.too_deep)
        && let Ok(mut pairs) = SeglParser::parse(Rule::file, text)
    {
        let mut b = Builder::new(file, 0, &scanned.comments);
        if let Some(top) = pairs.next() {
            items.extend(b.items(top));
        }
        diagnostics.append(&mut b.diagnostics);
        done = true;
    }
    if !done {
        for chunk in &scanned.chunks {
            if chunk.too_deep {
                broken.extend(broken_item(file, text, chunk.range.clone()));
                continue;
            }
            let Some(src) = text.get(chunk.range.clone()) else {
                continue;
            };
            match SeglParser::parse(Rule::chunk, src) {
                Ok(mut pairs) => {
                    let mut b = Builder::new(file, chunk.range.start, &scanned.comments);
                    if let Some(top) = pairs.next() {
                        items.extend(b.items(top));
                    }
                    diagnostics.append(&mut b.diagnostics);
                }
                Err(err) => {
                    broken.extend(broken_item(file, text, chunk.range.clone()));
                    if chunk.errors == 0 {
                        diagnostics.push(errors::from_pest(
                            file,
                            text,
                            chunk.range.clone(),
                            &scanned.comments,
                            &err,
                        ));
                    }
                }
            }
        }
    }
    diagnostics.sort_by_key(|d| (d.primary.span.start, d.primary.span.end, d.code));
    Parsed {
        file: ast::File {
            file,
            items,
            comments: scanned.comments,
            broken,
        },
        diagnostics,
    }
}

/// The keyword and name at the start of a chunk that did not parse.
fn broken_item(file: FileId, text: &str, range: std::ops::Range<usize>) -> Option<ast::BrokenItem> {
    let chunk = text.get(range.clone())?;
    // Skip leading comments and blank lines.
    let mut offset = 0;
    for line in chunk.split_inclusive('\n') {
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') {
            offset += line.len();
        } else {
            break;
        }
    }
    let rest = chunk.get(offset..)?;
    let keyword: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if !scan::is_item_word(&keyword) {
        return None;
    }
    let after = &rest[keyword.len()..];
    let trimmed = after.trim_start_matches([' ', '\t']);
    let name_start = range.start + offset + keyword.len() + (after.len() - trimmed.len());
    let (name, quoted, len) = if let Some(q) = trimmed.strip_prefix('`') {
        let end = q.find('`')?;
        (q[..end].to_owned(), true, end + 2)
    } else {
        let n: String = trimmed
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let len = n.len();
        (n, false, len)
    };
    let name = (!name.is_empty()).then(|| ast::Ident {
        name,
        span: Span::new(file, name_start, name_start + len),
        quoted,
    });
    Some(ast::BrokenItem { keyword, name })
}

/// The most operands one chain of `and`, `or`, `+`, `*`... may join: the tree of a chain is as
/// deep as the chain is long, and later stages walk it recursively.
const MAX_CHAIN: usize = 500;

/// The longest chain of prefix operators (`not not ...`, `- - ...`) kept in the tree.
const MAX_PREFIX: usize = scan::MAX_DEPTH;

struct Builder<'c> {
    file: FileId,
    offset: usize,
    diagnostics: Vec<Diagnostic>,
    /// Comment spans (absolute byte offsets, in order), to trim them off the end of nodes.
    comments: &'c [ast::Comment],
}

fn kids(p: Pair<'_, Rule>) -> Vec<Pair<'_, Rule>> {
    p.into_inner().collect()
}

fn has(kids: &[Pair<'_, Rule>], rule: Rule) -> bool {
    kids.iter().any(|k| k.as_rule() == rule)
}

fn find<'i>(kids: &[Pair<'i, Rule>], rule: Rule) -> Option<Pair<'i, Rule>> {
    kids.iter().find(|k| k.as_rule() == rule).cloned()
}

fn find_all<'i>(kids: &[Pair<'i, Rule>], rule: Rule) -> Vec<Pair<'i, Rule>> {
    kids.iter()
        .filter(|k| k.as_rule() == rule)
        .cloned()
        .collect()
}

fn is_expr_rule(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::expr
            | Rule::sum_expr
            | Rule::unary_expr
            | Rule::postfix_expr
            | Rule::or_expr
            | Rule::and_expr
            | Rule::not_expr
            | Rule::test_expr
            | Rule::mul_expr
    )
}

fn exprs<'i>(kids: &[Pair<'i, Rule>]) -> Vec<Pair<'i, Rule>> {
    kids.iter()
        .filter(|k| is_expr_rule(k.as_rule()))
        .cloned()
        .collect()
}

/// The text inside the quotes of a text literal, with escapes resolved.
fn unescape(raw: &str) -> String {
    let mut chars = raw.chars();
    chars.next();
    chars.next_back();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl<'c> Builder<'c> {
    fn new(file: FileId, offset: usize, comments: &'c [ast::Comment]) -> Self {
        Builder {
            file,
            offset,
            diagnostics: Vec::new(),
            comments,
        }
    }

    /// The span of a node without the blanks and comments pest lets it swallow at its end.
    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        let s = p.as_span();
        let start = self.offset + s.start();
        let text = p.as_str();
        let mut len = text.len();
        loop {
            len = text.get(..len).unwrap_or("").trim_end().len();
            let end = start + len;
            // A comment that ends where the node now ends.
            let i = self
                .comments
                .partition_point(|c| (c.span.end as usize) < end);
            match self.comments.get(i) {
                Some(c) if (c.span.start as usize) < end && end <= c.span.end as usize => {
                    len = (c.span.start as usize).saturating_sub(start);
                }
                _ => break,
            }
        }
        Span::new(self.file, start, start + len)
    }

    fn ident(&self, p: &Pair<'_, Rule>) -> Ident {
        let raw = p.as_str();
        let span = self.span(p);
        if let Some(inner) = raw.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
            Ident {
                name: inner.to_owned(),
                span,
                quoted: true,
            }
        } else {
            Ident {
                name: raw.to_owned(),
                span,
                quoted: false,
            }
        }
    }

    fn first_ident(&self, kids: &[Pair<'_, Rule>]) -> Option<Ident> {
        find(kids, Rule::ident).map(|p| self.ident(&p))
    }

    fn text(&self, p: &Pair<'_, Rule>) -> TextLit {
        TextLit {
            value: unescape(p.as_str()),
            span: self.span(p),
        }
    }

    fn missing(&mut self, p: &Pair<'_, Rule>) {
        // The grammar guarantees the shapes read below; this only guards against a mismatch
        // between grammar and builder.
        self.diagnostics.push(
            Diagnostic::new(Code::E0100, self.span(p), "this part could not be read")
                .label("not understood"),
        );
    }

    // -----------------------------------------------------------------------------------------
    // Items

    fn items(&mut self, top: Pair<'_, Rule>) -> Vec<ast::Item> {
        let mut out = Vec::new();
        for p in top.into_inner() {
            let span_pair = p.clone();
            let item = match p.as_rule() {
                Rule::entity => self.entity(p).map(ast::Item::Entity),
                Rule::segment => self.segment(p).map(ast::Item::Segment),
                Rule::define => self.define(p).map(ast::Item::Define),
                Rule::param => self.param(p).map(ast::Item::Param),
                Rule::tiers => self.tiers(p).map(ast::Item::Tiers),
                Rule::score => self.score(p).map(ast::Item::Score),
                Rule::test => self.test(p).map(ast::Item::Test),
                _ => continue,
            };
            match item {
                Some(item) => out.push(item),
                None => self.missing(&span_pair),
            }
        }
        out
    }

    fn entity(&mut self, p: Pair<'_, Rule>) -> Option<ast::Entity> {
        let span = self.span(&p);
        let k = kids(p);
        let name = self.first_ident(&k)?;
        let mut members = Vec::new();
        for m in k {
            match m.as_rule() {
                Rule::field | Rule::key_field => members.push(ast::Member::Field(self.field(m)?)),
                Rule::relation => members.push(ast::Member::Relation(self.relation(m)?)),
                _ => {}
            }
        }
        Some(ast::Entity {
            name,
            members,
            span,
        })
    }

    fn field(&mut self, p: Pair<'_, Rule>) -> Option<ast::FieldDecl> {
        let span = self.span(&p);
        let is_key = p.as_rule() == Rule::key_field;
        let k = kids(p);
        let name = self.first_ident(&k)?;
        let ty = self.type_expr(find(&k, Rule::type_expr)?)?;
        let optional = find(&k, Rule::optional_mod).map(|m| self.span(&m));
        let label = find(&k, Rule::label_mod)
            .and_then(|m| m.into_inner().find(|x| x.as_rule() == Rule::text))
            .map(|t| self.text(&t));
        let synonyms = self.synonyms(&k);
        Some(ast::FieldDecl {
            name,
            is_key,
            ty,
            optional,
            label,
            synonyms,
            span,
        })
    }

    fn synonyms(&self, k: &[Pair<'_, Rule>]) -> Vec<Ident> {
        let mut out = Vec::new();
        for m in find_all(k, Rule::synonyms_mod) {
            for s in m.into_inner() {
                match s.as_rule() {
                    Rule::ident => out.push(self.ident(&s)),
                    Rule::text => {
                        let t = self.text(&s);
                        out.push(Ident {
                            name: t.value,
                            span: t.span,
                            quoted: true,
                        });
                    }
                    _ => {}
                }
            }
        }
        out
    }

    fn relation(&mut self, p: Pair<'_, Rule>) -> Option<ast::RelationDecl> {
        let span = self.span(&p);
        let k = kids(p);
        let idents = find_all(&k, Rule::ident);
        let name = self.ident(idents.first()?);
        let target = self.ident(idents.get(1)?);
        let by = self.ident(idents.get(2)?);
        let kind = if has(&k, Rule::kw_many) {
            ast::RelationKind::Many
        } else {
            ast::RelationKind::One
        };
        let dated_by = find(&k, Rule::dated_by)
            .and_then(|d| d.into_inner().find(|x| x.as_rule() == Rule::ident))
            .map(|i| self.ident(&i));
        let label = find(&k, Rule::label_mod)
            .and_then(|m| m.into_inner().find(|x| x.as_rule() == Rule::text))
            .map(|t| self.text(&t));
        let synonyms = self.synonyms(&k);
        Some(ast::RelationDecl {
            name,
            kind,
            target,
            by,
            dated_by,
            label,
            synonyms,
            span,
        })
    }

    fn type_expr(&mut self, p: Pair<'_, Rule>) -> Option<ast::TypeExpr> {
        let inner = p.into_inner().next()?;
        let span = self.span(&inner);
        match inner.as_rule() {
            Rule::type_name => {
                let i = inner.into_inner().next()?;
                Some(ast::TypeExpr::Named(self.ident(&i)))
            }
            Rule::enum_type => {
                let values = inner
                    .into_inner()
                    .filter(|x| x.as_rule() == Rule::ident)
                    .map(|x| self.ident(&x))
                    .collect();
                Some(ast::TypeExpr::Enum { values, span })
            }
            Rule::list_type => {
                let t = inner
                    .into_inner()
                    .find(|x| x.as_rule() == Rule::type_expr)?;
                Some(ast::TypeExpr::List {
                    element: Box::new(self.type_expr(t)?),
                    span,
                })
            }
            _ => None,
        }
    }

    fn entity_of(&self, k: &[Pair<'_, Rule>]) -> Option<Ident> {
        find(k, Rule::of_entity)
            .and_then(|o| o.into_inner().find(|x| x.as_rule() == Rule::ident))
            .map(|i| self.ident(&i))
    }

    fn meta(&self, k: &[Pair<'_, Rule>]) -> ast::Metadata {
        let mut meta = ast::Metadata::default();
        for m in k {
            let texts: Vec<TextLit> = m
                .clone()
                .into_inner()
                .filter(|x| x.as_rule() == Rule::text)
                .map(|x| self.text(&x))
                .collect();
            match m.as_rule() {
                Rule::meta_title => meta.title = texts.into_iter().next(),
                Rule::meta_description => meta.description = texts.into_iter().next(),
                Rule::meta_owner => meta.owner = texts.into_iter().next(),
                Rule::meta_tags => meta.tags.extend(texts),
                _ => {}
            }
        }
        meta
    }

    fn equals(&mut self, k: &[Pair<'_, Rule>]) {
        if let Some(eq) = find(k, Rule::equals)
            && eq.as_str() == "=="
        {
            let d = self.double_equals(self.span(&eq), "=");
            self.diagnostics.push(d);
        }
    }

    fn double_equals(&self, span: Span, fix: &str) -> Diagnostic {
        Diagnostic::new(Code::E0105, span, "`==` is not used in segl")
            .label("write a single `=` here")
            .help("compare with `=` or with the word `is`, for example `plan is pro`")
            .fix(span, fix)
    }

    fn segment(&mut self, p: Pair<'_, Rule>) -> Option<ast::Segment> {
        let span = self.span(&p);
        let k = kids(p);
        let name = self.first_ident(&k)?;
        let entity = self.entity_of(&k);
        let meta = self.meta(&k);
        let cond = find(&k, Rule::condition)?;
        let ck = kids(cond);
        let condition = if let Some(missing) = find(&ck, Rule::missing_where) {
            let e = missing.into_inner().next()?;
            let expr = self.expr(e)?;
            let at = Span::new(
                self.file,
                expr.span.start as usize,
                expr.span.start as usize,
            );
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0108,
                    expr.span,
                    format!(
                        "the condition of segment `{}` needs `where` in front",
                        name.name
                    ),
                )
                .label("this condition has no `where`")
                .help("start the condition with the word `where`")
                .fix(at, "where "),
            );
            expr
        } else {
            self.expr(exprs(&ck).into_iter().next()?)?
        };
        Some(ast::Segment {
            name,
            entity,
            meta,
            condition,
            span,
        })
    }

    fn define(&mut self, p: Pair<'_, Rule>) -> Option<ast::Define> {
        let span = self.span(&p);
        let k = kids(p);
        self.equals(&k);
        Some(ast::Define {
            name: self.first_ident(&k)?,
            entity: self.entity_of(&k),
            value: self.expr(exprs(&k).into_iter().next()?)?,
            span,
        })
    }

    fn param(&mut self, p: Pair<'_, Rule>) -> Option<ast::Param> {
        let span = self.span(&p);
        let k = kids(p);
        self.equals(&k);
        let ty = match find(&k, Rule::type_expr) {
            Some(t) => Some(self.type_expr(t)?),
            None => None,
        };
        Some(ast::Param {
            name: self.first_ident(&k)?,
            ty,
            default: self.expr(exprs(&k).into_iter().next()?)?,
            span,
        })
    }

    fn tiers(&mut self, p: Pair<'_, Rule>) -> Option<ast::Tiers> {
        let span = self.span(&p);
        let k = kids(p);
        let mut rows = Vec::new();
        for r in find_all(&k, Rule::tier_row) {
            let rspan = self.span(&r);
            let rk = kids(r);
            let name = self.first_ident(&rk)?;
            let condition = match exprs(&rk).into_iter().next() {
                Some(e) => Some(self.expr(e)?),
                None => None,
            };
            rows.push(ast::TierRow {
                name,
                condition,
                span: rspan,
            });
        }
        Some(ast::Tiers {
            name: self.first_ident(&k)?,
            entity: self.entity_of(&k),
            meta: self.meta(&k),
            rows,
            span,
        })
    }

    fn score(&mut self, p: Pair<'_, Rule>) -> Option<ast::Score> {
        let span = self.span(&p);
        let k = kids(p);
        let mut rules = Vec::new();
        for r in find_all(&k, Rule::score_rule) {
            let rspan = self.span(&r);
            let rk = kids(r);
            let pts = find(&rk, Rule::points)?;
            rules.push(ast::ScoreRule {
                points: pts.as_str().to_owned(),
                points_span: self.span(&pts),
                condition: self.expr(exprs(&rk).into_iter().next()?)?,
                span: rspan,
            });
        }
        Some(ast::Score {
            name: self.first_ident(&k)?,
            entity: self.entity_of(&k),
            meta: self.meta(&k),
            rules,
            span,
        })
    }

    fn test(&mut self, p: Pair<'_, Rule>) -> Option<ast::Test> {
        let span = self.span(&p);
        let k = kids(p);
        let name = self.text(&find(&k, Rule::text)?);
        let mut steps = Vec::new();
        for s in k {
            let sspan = self.span(&s);
            let rule = s.as_rule();
            let sk = kids(s);
            let step = match rule {
                Rule::as_of => ast::TestStep::AsOf {
                    value: self.expr(exprs(&sk).into_iter().next()?)?,
                    span: sspan,
                },
                Rule::data_step => ast::TestStep::Data {
                    entity: self.first_ident(&sk)?,
                    path: self.text(&find(&sk, Rule::text)?),
                    span: sspan,
                },
                Rule::with_step => {
                    self.equals(&sk);
                    ast::TestStep::With {
                        param: self.first_ident(&sk)?,
                        value: self.expr(exprs(&sk).into_iter().next()?)?,
                        span: sspan,
                    }
                }
                Rule::expect_step => ast::TestStep::Expect(self.expect(&sk, sspan)?),
                Rule::record => ast::TestStep::Record(self.record(&sk, sspan)?),
                _ => continue,
            };
            steps.push(step);
        }
        Some(ast::Test { name, steps, span })
    }

    /// A record key or the record named by `expect`: an identifier, an integer or a text.
    fn record_ref(&self, p: &Pair<'_, Rule>) -> Option<Expr> {
        let span = self.span(p);
        let kind = match p.as_rule() {
            Rule::ident => ExprKind::Name(self.ident(p)),
            Rule::integer => ExprKind::Literal(Literal::Integer(p.as_str().to_owned())),
            Rule::text => ExprKind::Literal(Literal::Text(unescape(p.as_str()))),
            _ => return None,
        };
        Some(Expr { kind, span })
    }

    fn expect(&mut self, sk: &[Pair<'_, Rule>], span: Span) -> Option<ast::Expect> {
        let r = sk
            .iter()
            .find(|x| matches!(x.as_rule(), Rule::ident | Rule::integer | Rule::text))?;
        let record = match self.record_ref(r)? {
            Expr {
                kind: ExprKind::Name(i),
                ..
            } => i,
            Expr {
                kind: ExprKind::Literal(Literal::Text(t) | Literal::Integer(t)),
                span,
            } => Ident {
                name: t,
                span,
                quoted: false,
            },
            _ => return None,
        };
        let kind = if let Some(m) = find(sk, Rule::expect_member) {
            let mk = kids(m);
            ast::ExpectKind::Member {
                negated: has(&mk, Rule::kw_not),
                segment: self.first_ident(&mk)?,
            }
        } else {
            let v = find(sk, Rule::expect_value)?;
            let vk = kids(v);
            self.equals(&vk);
            ast::ExpectKind::Value {
                attribute: self.first_ident(&vk)?,
                value: self.expr(exprs(&vk).into_iter().next()?)?,
            }
        };
        Some(ast::Expect { record, kind, span })
    }

    fn record(&mut self, sk: &[Pair<'_, Rule>], span: Span) -> Option<ast::RecordLit> {
        let entity = self.first_ident(sk)?;
        let key_pair = sk
            .iter()
            .skip(1)
            .find(|x| matches!(x.as_rule(), Rule::ident | Rule::integer | Rule::text))?;
        let key = self.record_ref(key_pair)?;
        let mut fields = Vec::new();
        for f in find_all(sk, Rule::record_field) {
            let fk = kids(f);
            fields.push(ast::RecordField {
                name: self.first_ident(&fk)?,
                value: self.expr(exprs(&fk).into_iter().next()?)?,
            });
        }
        Some(ast::RecordLit {
            entity,
            key,
            fields,
            span,
        })
    }

    // -----------------------------------------------------------------------------------------
    // Expressions

    fn expr(&mut self, p: Pair<'_, Rule>) -> Option<Expr> {
        match p.as_rule() {
            Rule::expr => self.expr(p.into_inner().next()?),
            Rule::or_expr | Rule::and_expr | Rule::sum_expr | Rule::mul_expr => self.binary(p),
            Rule::not_expr | Rule::unary_expr => self.prefix(p),
            Rule::test_expr => self.test_expr(p),
            Rule::postfix_expr => self.postfix(p),
            _ => self.primary(p),
        }
    }

    fn binary(&mut self, p: Pair<'_, Rule>) -> Option<Expr> {
        let operands = p.clone().into_inner().count().div_ceil(2);
        if operands > MAX_CHAIN {
            let span = self.span(&p);
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0004,
                    span,
                    format!("this expression joins more than {MAX_CHAIN} parts in one chain"),
                )
                .label("too long to check")
                .help("split it into several definitions with `define` and combine those"),
            );
            return self.expr(p.into_inner().next()?);
        }
        let mut it = p.into_inner();
        let mut lhs = self.expr(it.next()?)?;
        while let Some(op) = it.next() {
            let rhs = self.expr(it.next()?)?;
            let text = op.as_str();
            let op = match text {
                "or" => BinaryOp::Or,
                "||" => {
                    self.symbol_word(&op, "or");
                    BinaryOp::Or
                }
                "and" => BinaryOp::And,
                "&&" => {
                    self.symbol_word(&op, "and");
                    BinaryOp::And
                }
                "+" => BinaryOp::Add,
                "*" => BinaryOp::Mul,
                "/" => BinaryOp::Div,
                _ => BinaryOp::Sub,
            };
            let span = lhs.span.to(rhs.span);
            lhs = Expr {
                kind: ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            };
        }
        Some(lhs)
    }

    fn symbol_word(&mut self, op: &Pair<'_, Rule>, word: &str) {
        let span = self.span(op);
        let sym = op.as_str();
        self.diagnostics.push(
            Diagnostic::new(
                Code::E0104,
                span,
                format!("`{sym}` is not a word segl knows: write `{word}`"),
            )
            .label(format!("write `{word}` here"))
            .help(format!(
                "segl spells its logic out in words: `and`, `or`, `not`; here `{word}`"
            ))
            .fix(span, word),
        );
    }

    fn prefix(&mut self, p: Pair<'_, Rule>) -> Option<Expr> {
        let k = kids(p);
        let (ops, rest): (Vec<_>, Vec<_>) = k
            .into_iter()
            .partition(|x| matches!(x.as_rule(), Rule::not_op | Rule::neg_op));
        let mut e = self.expr(rest.into_iter().next()?)?;
        if ops.len() > MAX_PREFIX {
            let first = ops.first().map(|o| self.span(o)).unwrap_or(e.span);
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0004,
                    first,
                    format!("more than {MAX_PREFIX} `not` or `-` signs in a row"),
                )
                .label("this chain is too long to read")
                .help("remove the repeated signs: two `not` cancel each other out"),
            );
            return Some(e);
        }
        for op in ops.iter().rev() {
            let span = self.span(op).to(e.span);
            let uop = if op.as_rule() == Rule::neg_op {
                UnaryOp::Neg
            } else {
                if op.as_str() == "!" {
                    let s = self.span(op);
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E0104,
                            s,
                            "`!` is not a word segl knows: write `not`",
                        )
                        .label("write `not` here")
                        .help("segl spells its logic out in words: `and`, `or`, `not`")
                        .fix(s, "not "),
                    );
                }
                UnaryOp::Not
            };
            e = Expr {
                kind: ExprKind::Unary {
                    op: uop,
                    operand: Box::new(e),
                },
                span,
            };
        }
        Some(e)
    }

    fn postfix(&mut self, p: Pair<'_, Rule>) -> Option<Expr> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let e = self.expr(it.next()?)?;
        if it.next().is_some() {
            Some(Expr {
                kind: ExprKind::Anniversary(Box::new(e)),
                span,
            })
        } else {
            Some(e)
        }
    }

    fn test_expr(&mut self, p: Pair<'_, Rule>) -> Option<Expr> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let subject = self.expr(it.next()?)?;
        let Some(tail) = it.next() else {
            return Some(subject);
        };
        let rule = tail.as_rule();
        let k = kids(tail);
        let negated = has(&k, Rule::negation);
        let ignoring_case = has(&k, Rule::ignoring);
        let operands = exprs(&k);
        let operand = |b: &mut Self, i: usize| -> Option<Box<Expr>> {
            Some(Box::new(b.expr(operands.get(i)?.clone())?))
        };
        let test = match rule {
            Rule::compare => {
                let op_pair = find(&k, Rule::compare_op)?;
                let op = match op_pair.as_str() {
                    "=" => CompareOp::Eq,
                    "==" => {
                        let d = self.double_equals(self.span(&op_pair), "=");
                        self.diagnostics.push(d);
                        CompareOp::Eq
                    }
                    "!=" => CompareOp::Ne,
                    "<" => CompareOp::Lt,
                    "<=" => CompareOp::Le,
                    ">" => CompareOp::Gt,
                    _ => CompareOp::Ge,
                };
                return Some(Expr {
                    kind: ExprKind::Compare {
                        op,
                        spelling: CompareSpelling::Symbol,
                        lhs: Box::new(subject),
                        rhs: operand(self, 0)?,
                    },
                    span,
                });
            }
            Rule::t_is => {
                return Some(Expr {
                    kind: ExprKind::Compare {
                        op: if negated {
                            CompareOp::Ne
                        } else {
                            CompareOp::Eq
                        },
                        spelling: CompareSpelling::Words,
                        lhs: Box::new(subject),
                        rhs: operand(self, 0)?,
                    },
                    span,
                });
            }
            Rule::t_is_time | Rule::t_in_time => {
                let t = k.iter().find(|x| {
                    matches!(
                        x.as_rule(),
                        Rule::between_ago
                            | Rule::more_ago
                            | Rule::less_ago
                            | Rule::in_last
                            | Rule::in_next
                            | Rule::in_period
                    )
                })?;
                Test_::Time(self.time(t.clone())?)
            }
            Rule::t_between => Test_::Between {
                low: operand(self, 0)?,
                high: operand(self, 1)?,
            },
            Rule::t_any_of => {
                let t = Test_::AnyOf(operand(self, 0)?);
                let none = has(&k, Rule::kw_none);
                return Some(Expr {
                    kind: ExprKind::Test {
                        subject: Box::new(subject),
                        test: t,
                        negated: negated != none,
                        ignoring_case,
                    },
                    span,
                });
            }
            Rule::t_known => Test_::Known,
            Rule::t_unknown => Test_::Unknown,
            Rule::t_empty => Test_::Empty,
            Rule::t_contains_any => Test_::ContainsAny(operand(self, 0)?),
            Rule::t_contains_all => Test_::ContainsAll(operand(self, 0)?),
            Rule::t_contains => Test_::Contains(operand(self, 0)?),
            Rule::t_starts => Test_::StartsWith(operand(self, 0)?),
            Rule::t_ends => Test_::EndsWith(operand(self, 0)?),
            Rule::t_matches => Test_::Matches(operand(self, 0)?),
            _ => return None,
        };
        Some(Expr {
            kind: ExprKind::Test {
                subject: Box::new(subject),
                test,
                negated,
                ignoring_case,
            },
            span,
        })
    }

    fn duration(&self, p: &Pair<'_, Rule>) -> Option<DurationLit> {
        let span = self.span(p);
        let k = kids(p.clone());
        Some(DurationLit {
            amount: find(&k, Rule::amount)?.as_str().to_owned(),
            unit: self.first_ident(&k)?,
            span,
        })
    }

    fn time(&self, p: Pair<'_, Rule>) -> Option<TimeTest> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let k = kids(p);
        let dur = find(&k, Rule::duration).and_then(|d| self.duration(&d));
        Some(match rule {
            Rule::in_last => TimeTest::InLast(dur?),
            Rule::in_next => TimeTest::InNext(dur?),
            Rule::more_ago => TimeTest::MoreThanAgo(dur?),
            Rule::less_ago => TimeTest::LessThanAgo(dur?),
            Rule::between_ago => {
                let low = find(&k, Rule::amount)?;
                TimeTest::BetweenAgo {
                    low: low.as_str().to_owned(),
                    low_span: self.span(&low),
                    high: dur?,
                }
            }
            Rule::in_period => {
                let relative = if has(&k, Rule::kw_this) {
                    PeriodRelative::This
                } else if has(&k, Rule::kw_last) {
                    PeriodRelative::Last
                } else {
                    PeriodRelative::Next
                };
                TimeTest::Period {
                    relative,
                    unit: self.first_ident(&k)?,
                    span,
                }
            }
            Rule::window => {
                let inner = k.into_iter().find(|x| {
                    matches!(
                        x.as_rule(),
                        Rule::between_ago
                            | Rule::more_ago
                            | Rule::less_ago
                            | Rule::in_last
                            | Rule::in_next
                            | Rule::in_period
                    )
                })?;
                return self.time(inner);
            }
            _ => return None,
        })
    }

    fn path_idents(&self, p: Pair<'_, Rule>) -> Vec<Ident> {
        p.into_inner()
            .filter(|x| x.as_rule() == Rule::ident)
            .map(|x| self.ident(&x))
            .collect()
    }

    fn path_expr(&self, p: Pair<'_, Rule>) -> Option<Expr> {
        let span = self.span(&p);
        let mut idents = self.path_idents(p);
        let kind = if idents.len() == 1 {
            ExprKind::Name(idents.pop()?)
        } else {
            ExprKind::Path(idents)
        };
        Some(Expr { kind, span })
    }

    fn primary(&mut self, p: Pair<'_, Rule>) -> Option<Expr> {
        let span = self.span(&p);
        let lit = |l: Literal| {
            Some(Expr {
                kind: ExprKind::Literal(l),
                span,
            })
        };
        let s = p.as_str().to_owned();
        match p.as_rule() {
            Rule::integer => lit(Literal::Integer(s)),
            Rule::decimal => lit(Literal::Decimal(s)),
            Rule::percent => lit(Literal::Percent(s.trim_end_matches('%').to_owned())),
            Rule::date => lit(Literal::Date(s)),
            Rule::timestamp => lit(Literal::Timestamp(s)),
            Rule::boolean => lit(Literal::Bool(s == "true")),
            Rule::text => lit(Literal::Text(unescape(&s))),
            Rule::duration => lit(Literal::Duration(self.duration(&p)?)),
            Rule::comma_int => {
                let fixed = s.replace(',', "_");
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0106,
                        span,
                        format!("`{s}` uses commas to group digits"),
                    )
                    .label("a comma separates values, not thousands")
                    .help(format!("group digits with underscores instead: `{fixed}`"))
                    .fix(span, fixed.clone()),
                );
                lit(Literal::Integer(fixed))
            }
            Rule::kw_today => Some(Expr {
                kind: ExprKind::Today,
                span,
            }),
            Rule::kw_now => Some(Expr {
                kind: ExprKind::Now,
                span,
            }),
            Rule::path => self.path_expr(p),
            Rule::paren => {
                let inner = exprs(&kids(p)).into_iter().next()?;
                Some(Expr {
                    kind: ExprKind::Paren(Box::new(self.expr(inner)?)),
                    span,
                })
            }
            Rule::list => {
                let mut items = Vec::new();
                for e in exprs(&kids(p)) {
                    if let Some(split) = self.split_comma_number(&e) {
                        items.extend(split);
                    } else {
                        items.push(self.expr(e)?);
                    }
                }
                Some(Expr {
                    kind: ExprKind::List(items),
                    span,
                })
            }
            Rule::block => {
                let k = kids(p);
                let kind = if has(&k, Rule::kw_all) {
                    BlockKind::All
                } else if has(&k, Rule::kw_any) {
                    BlockKind::Any
                } else {
                    BlockKind::None
                };
                let mut items = Vec::new();
                for e in exprs(&k) {
                    items.push(self.expr(e)?);
                }
                Some(Expr {
                    kind: ExprKind::Block { kind, items },
                    span,
                })
            }
            Rule::in_segment => {
                let k = kids(p);
                Some(Expr {
                    kind: ExprKind::InSegment {
                        negated: has(&k, Rule::kw_not),
                        segment: self.first_ident(&k)?,
                    },
                    span,
                })
            }
            Rule::days_since => {
                let inner = exprs(&kids(p)).into_iter().next()?;
                Some(Expr {
                    kind: ExprKind::DaysSince(Box::new(self.expr(inner)?)),
                    span,
                })
            }
            Rule::aggregate => self.aggregate(p, span),
            Rule::population => self.population(p, span),
            Rule::call => {
                let k = kids(p);
                let name = find(&k, Rule::call_name)?.into_inner().next()?;
                let func = self.ident(&name);
                let mut args = Vec::new();
                for e in exprs(&k) {
                    args.push(self.expr(e)?);
                }
                Some(Expr {
                    kind: ExprKind::Call { func, args },
                    span,
                })
            }
            _ => None,
        }
    }

    /// Inside `[...]`, `[100,200]` is two numbers, not a thousands separator.
    fn split_comma_number(&self, e: &Pair<'_, Rule>) -> Option<Vec<Expr>> {
        // Walk down single-child wrappers to the literal.
        let mut cur = e.clone();
        loop {
            if cur.as_rule() == Rule::comma_int {
                break;
            }
            let mut inner = cur.clone().into_inner();
            let only = inner.next()?;
            if inner.next().is_some() {
                return None;
            }
            cur = only;
        }
        let start = cur.as_span().start();
        let mut out = Vec::new();
        let mut pos = start;
        for part in cur.as_str().split(',') {
            let span = Span::new(self.file, self.offset + pos, self.offset + pos + part.len());
            out.push(Expr {
                kind: ExprKind::Literal(Literal::Integer(part.to_owned())),
                span,
            });
            pos += part.len() + 1;
        }
        Some(out)
    }

    fn aggregate(&mut self, p: Pair<'_, Rule>, span: Span) -> Option<Expr> {
        let k = kids(p);
        let f = find(&k, Rule::agg_func)?;
        let words: Vec<&str> = f.as_str().split_whitespace().collect();
        let func = match words.as_slice() {
            ["count", "distinct"] => AggFunc::CountDistinct,
            ["count"] => AggFunc::Count,
            ["sum"] => AggFunc::Sum,
            ["avg"] => AggFunc::Avg,
            ["min"] => AggFunc::Min,
            ["max"] => AggFunc::Max,
            ["any"] => AggFunc::Any,
            _ => AggFunc::Every,
        };
        let src = find(&k, Rule::agg_source)?;
        let src_span = self.span(&src);
        let sk = kids(src);
        let path = self.path_idents(find(&sk, Rule::path)?);
        let window = match find(&sk, Rule::window) {
            Some(w) => Some(self.time(w)?),
            None => None,
        };
        let filter = match exprs(&sk).into_iter().next() {
            Some(e) => Some(Box::new(self.expr(e)?)),
            None => None,
        };
        Some(Expr {
            kind: ExprKind::Aggregate {
                func,
                func_span: self.span(&f),
                source: AggSource {
                    path,
                    window,
                    filter,
                    span: src_span,
                },
            },
            span,
        })
    }

    fn population(&mut self, p: Pair<'_, Rule>, span: Span) -> Option<Expr> {
        let k = kids(p);
        let head = find(&k, Rule::pop_head)?;
        let func_span = self.span(&head);
        let hk = kids(head);
        let func = if let Some(w) = find(&hk, Rule::pop_word) {
            let (groups, spelling) = match w.as_str() {
                "percentile" => {
                    return self.population_rest(PopFunc::Percentile, func_span, &k, span);
                }
                "rank" => return self.population_rest(PopFunc::Rank, func_span, &k, span),
                "quintile" => ("5", NtileSpelling::Quintile),
                "quartile" => ("4", NtileSpelling::Quartile),
                _ => ("10", NtileSpelling::Decile),
            };
            PopFunc::Ntile {
                groups: groups.to_owned(),
                spelling,
            }
        } else if has(&hk, Rule::ntile_word) {
            PopFunc::Ntile {
                groups: find(&hk, Rule::integer)?.as_str().to_owned(),
                spelling: NtileSpelling::Ntile,
            }
        } else if has(&hk, Rule::kw_cumulative) {
            PopFunc::CumulativeShare
        } else {
            PopFunc::ShareOfTotal
        };
        self.population_rest(func, func_span, &k, span)
    }

    fn population_rest(
        &mut self,
        func: PopFunc,
        func_span: Span,
        k: &[Pair<'_, Rule>],
        span: Span,
    ) -> Option<Expr> {
        let value = self.expr(exprs(k).into_iter().next()?)?;
        let within = match find(k, Rule::path) {
            Some(p) => Some(Box::new(self.path_expr(p)?)),
            None => None,
        };
        Some(Expr {
            kind: ExprKind::Population {
                func,
                func_span,
                value: Box::new(value),
                within,
            },
            span,
        })
    }
}

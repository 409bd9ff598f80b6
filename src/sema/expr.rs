//! Expressions and conditions: resolving names in an entity's scope, typing every node, and
//! making coercions explicit.

use crate::diagnostics::suggest::{self, Candidate};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{
    AggFunc, AggSource, ArithOp, Builtin, CompareOp, Duration, DurationUnit, EntityId, EnumId,
    Expr, ExprKind, FieldRef, PeriodRelative, PeriodUnit, PopFunc, RelationKind, RelationRef,
    TextOp, Type, Value, Window,
};
use crate::source::Span;
use crate::syntax::ast;

use super::{Attr, Checker, literal};

fn mk(kind: ExprKind, ty: Type, nullable: bool, span: Span) -> Expr {
    Expr {
        kind,
        ty,
        nullable,
        span,
    }
}

fn error(span: Span) -> Expr {
    mk(ExprKind::Error, Type::Error, false, span)
}

fn cond(kind: ExprKind, span: Span) -> Expr {
    mk(kind, Type::Bool, false, span)
}

fn not(e: Expr, span: Span) -> Expr {
    if e.ty == Type::Error {
        return error(span);
    }
    cond(ExprKind::Not(Box::new(e)), span)
}

fn numeric_rank(ty: &Type) -> Option<u8> {
    match ty {
        Type::Integer => Some(0),
        Type::Decimal => Some(1),
        Type::Number => Some(2),
        _ => None,
    }
}

/// `ty`, widened to the widest number among `xs` (integer, then decimal, then number); other
/// kinds are left as they are, for `fit` to accept or reject.
fn widest(ty: Type, xs: &[Expr]) -> Type {
    xs.iter()
        .fold(ty, |ty, x| match (numeric_rank(&ty), numeric_rank(&x.ty)) {
            (Some(a), Some(b)) if b > a => x.ty.clone(),
            _ => ty,
        })
}

fn coerce(e: Expr, to: &Type) -> Expr {
    if e.ty == *to || e.ty == Type::Error {
        return e;
    }
    let span = e.span;
    let nullable = e.nullable;
    mk(ExprKind::Coerce(Box::new(e)), to.clone(), nullable, span)
}

/// Source text of a name for messages: `arr`, `company.industry`, or "this value".
fn describe(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ast::ExprKind::Name(i) => Some(i.name.clone()),
        ast::ExprKind::Path(p) => Some(
            p.iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join("."),
        ),
        ast::ExprKind::Paren(inner) => describe(inner),
        _ => None,
    }
}

fn subject_words(e: &ast::Expr) -> String {
    if matches!(e.kind, ast::ExprKind::Literal(_)) {
        return format!("`{}`", literal_text(e));
    }
    describe(e).map_or_else(|| "this value".to_owned(), |n| format!("`{n}`"))
}

impl Checker<'_, '_> {
    fn describe_type(&self, ty: &Type) -> String {
        self.program.describe_type(ty)
    }

    /// A yes/no condition.
    pub(super) fn condition(&mut self, e: &ast::Expr, scope: EntityId) -> Expr {
        let x = self.expr(e, scope, None);
        if x.ty == Type::Bool || x.ty == Type::Error {
            return x;
        }
        let what = subject_words(e);
        let mut d = Diagnostic::new(
            Code::E0402,
            e.span,
            format!(
                "{what} is {}, not a yes/no condition",
                self.describe_type(&x.ty)
            ),
        )
        .label("a condition is needed here");
        d = d.help(match &x.ty {
            t if t.is_numeric() => format!(
                "compare it with something, for example `{} > 100`",
                describe(e).unwrap_or_else(|| "value".into())
            ),
            Type::Enum(_) => format!(
                "say which values you mean, for example `{} is ...`",
                describe(e).unwrap_or_else(|| "value".into())
            ),
            Type::Text => format!(
                "test the text, for example `{} is known` or `{} contains \"...\"`",
                describe(e).unwrap_or_else(|| "value".into()),
                describe(e).unwrap_or_else(|| "value".into())
            ),
            t if t.is_temporal() => format!(
                "test the date, for example `{} in last 30 days`",
                describe(e).unwrap_or_else(|| "value".into())
            ),
            _ => "compare it with something to make a condition".to_owned(),
        });
        self.report(d);
        error(e.span)
    }

    /// A value (anything but a condition).
    pub(super) fn value(&mut self, e: &ast::Expr, scope: EntityId, hint: Option<&Type>) -> Expr {
        self.expr(e, scope, hint)
    }

    fn operand(&mut self, e: &ast::Expr, scope: EntityId, hint: Option<&Type>, what: &str) -> Expr {
        let x = self.expr(e, scope, hint);
        if x.ty == Type::Bool && !matches!(hint, Some(Type::Bool)) {
            self.report(
                Diagnostic::new(
                    Code::E0403,
                    e.span,
                    format!("a yes/no condition cannot be used {what}"),
                )
                .label("this is a condition, not a value")
                .help("use conditions with `and`, `or` and `not`, or inside `all of { ... }`"),
            );
            return error(e.span);
        }
        x
    }

    #[allow(clippy::too_many_lines)]
    pub(super) fn expr(&mut self, e: &ast::Expr, scope: EntityId, hint: Option<&Type>) -> Expr {
        let span = e.span;
        match &e.kind {
            ast::ExprKind::Literal(lit) => match literal::literal(lit, span, self.diags) {
                Some((v, ty)) => mk(ExprKind::Literal(v), ty, false, span),
                None => error(span),
            },
            ast::ExprKind::Name(ident) => self.name(ident, scope, hint),
            ast::ExprKind::Path(parts) => self.path(parts, scope, hint, span),
            ast::ExprKind::Paren(inner) => {
                let mut x = self.expr(inner, scope, hint);
                x.span = span;
                x
            }
            ast::ExprKind::Unary { op, operand } => match op {
                ast::UnaryOp::Not => {
                    let x = self.condition(operand, scope);
                    not(x, span)
                }
                ast::UnaryOp::Neg => {
                    let x = self.operand(operand, scope, hint, "with `-`");
                    if x.ty == Type::Error {
                        return error(span);
                    }
                    if x.ty.is_numeric() || matches!(x.ty, Type::Duration | Type::Percent) {
                        // Fold negative literals so `-20` stays a literal.
                        if let ExprKind::Literal(v) = &x.kind {
                            let folded = match v {
                                Value::Integer(i) => i.checked_neg().map(Value::Integer),
                                Value::Decimal(d) => Some(Value::Decimal(crate::ir::Decimal {
                                    mantissa: -d.mantissa,
                                    scale: d.scale,
                                })),
                                Value::Percent(d) => Some(Value::Percent(crate::ir::Decimal {
                                    mantissa: -d.mantissa,
                                    scale: d.scale,
                                })),
                                Value::Duration(d) => Some(Value::Duration(Duration {
                                    amount: -d.amount,
                                    unit: d.unit,
                                })),
                                _ => None,
                            };
                            if let Some(v) = folded {
                                return mk(ExprKind::Literal(v), x.ty, false, span);
                            }
                        }
                        let ty = x.ty.clone();
                        let nullable = x.nullable;
                        return mk(ExprKind::Neg(Box::new(x)), ty, nullable, span);
                    }
                    self.report(
                        Diagnostic::new(
                            Code::E0401,
                            span,
                            format!("{} cannot be made negative", self.describe_type(&x.ty)),
                        )
                        .label("`-` needs a number or a duration"),
                    );
                    error(span)
                }
            },
            ast::ExprKind::Binary { op, lhs, rhs } => match op {
                ast::BinaryOp::And | ast::BinaryOp::Or => {
                    let l = self.condition(lhs, scope);
                    let r = self.condition(rhs, scope);
                    if l.ty == Type::Error || r.ty == Type::Error {
                        return error(span);
                    }
                    let is_and = *op == ast::BinaryOp::And;
                    let mut parts = Vec::new();
                    for x in [l, r] {
                        match x.kind {
                            ExprKind::And(xs) if is_and => parts.extend(xs),
                            ExprKind::Or(xs) if !is_and => parts.extend(xs),
                            kind => parts.push(Expr { kind, ..x }),
                        }
                    }
                    cond(
                        if is_and {
                            ExprKind::And(parts)
                        } else {
                            ExprKind::Or(parts)
                        },
                        span,
                    )
                }
                ast::BinaryOp::Add
                | ast::BinaryOp::Sub
                | ast::BinaryOp::Mul
                | ast::BinaryOp::Div => self.arith(*op, lhs, rhs, scope, span),
            },
            ast::ExprKind::Compare {
                op,
                spelling,
                lhs,
                rhs,
            } => self.compare(*op, *spelling, lhs, rhs, scope, span),
            ast::ExprKind::Test {
                subject,
                test,
                negated,
                ignoring_case,
            } => {
                let x = self.test(subject, test, *ignoring_case, scope, span);
                if *negated { not(x, span) } else { x }
            }
            ast::ExprKind::List(items) => self.list(items, scope, hint, span),
            ast::ExprKind::Block { kind, items } => {
                let mut parts = Vec::new();
                let mut failed = false;
                for item in items {
                    let x = self.condition(item, scope);
                    failed |= x.ty == Type::Error;
                    parts.push(x);
                }
                if failed {
                    return error(span);
                }
                match kind {
                    ast::BlockKind::All => cond(ExprKind::And(parts), span),
                    ast::BlockKind::Any => cond(ExprKind::Or(parts), span),
                    ast::BlockKind::None => not(cond(ExprKind::Or(parts), span), span),
                }
            }
            ast::ExprKind::InSegment { negated, segment } => {
                let x = self.segment_ref(segment, scope);
                if *negated { not(x, span) } else { x }
            }
            ast::ExprKind::Today => mk(ExprKind::Today, Type::Date, false, span),
            ast::ExprKind::Now => mk(ExprKind::Now, Type::Timestamp, false, span),
            ast::ExprKind::DaysSince(inner) => self.of_a_date(
                inner,
                scope,
                span,
                "days since",
                Type::is_temporal,
                Type::Integer,
                ExprKind::DaysSince,
            ),
            ast::ExprKind::Anniversary(inner) => self.of_a_date(
                inner,
                scope,
                span,
                "anniversary",
                |t| *t == Type::Date,
                Type::Date,
                ExprKind::Anniversary,
            ),
            ast::ExprKind::Aggregate {
                func,
                func_span,
                source,
            } => self.aggregate(*func, *func_span, source, scope, span),
            ast::ExprKind::Population {
                func,
                func_span,
                value,
                within,
            } => self.population(func, *func_span, value, within.as_deref(), scope, span),
            ast::ExprKind::Call { func, args } => self.call(func, args, scope, span),
        }
    }

    /// `days since x`, `x anniversary`: a function of one date.
    #[allow(clippy::too_many_arguments)]
    fn of_a_date(
        &mut self,
        inner: &ast::Expr,
        scope: EntityId,
        span: Span,
        name: &str,
        accepts: fn(&Type) -> bool,
        result: Type,
        make: fn(Box<Expr>) -> ExprKind,
    ) -> Expr {
        let x = self.operand(inner, scope, None, &format!("with `{name}`"));
        if x.ty == Type::Error {
            return error(span);
        }
        if !accepts(&x.ty) {
            self.report(
                Diagnostic::new(
                    Code::E0401,
                    inner.span,
                    format!(
                        "`{name}` needs a date, but {} is {}",
                        subject_words(inner),
                        self.describe_type(&x.ty)
                    ),
                )
                .label("not a date"),
            );
            return error(span);
        }
        let nullable = x.nullable;
        mk(make(Box::new(x)), result, nullable, span)
    }

    // -----------------------------------------------------------------------------------------
    // Names

    fn name(&mut self, ident: &ast::Ident, scope: EntityId, hint: Option<&Type>) -> Expr {
        let span = ident.span;
        if let Some(Type::Enum(id)) = hint
            && let Some(i) = self.enum_index(*id, &ident.name)
        {
            return mk(
                ExprKind::Literal(Value::Enum(*id, i)),
                Type::Enum(*id),
                false,
                span,
            );
        }
        if let Some((attr, _)) = self.attrs[scope.index()].get(&ident.name).copied() {
            return self.attr(attr, scope, ident);
        }
        if let Some(&pid) = self.params.get(&ident.name) {
            let ty = self.program.params[pid.index()].ty.clone();
            return mk(ExprKind::Param(pid), ty, false, span);
        }
        if self.poisoned.contains(&ident.name) {
            return error(span);
        }
        if let Some(Type::Enum(id)) = hint {
            self.unknown_enum_value(*id, ident);
        } else {
            self.unknown_name(ident, scope);
        }
        error(span)
    }

    pub(super) fn enum_index(&self, id: EnumId, name: &str) -> Option<u32> {
        self.program.enums[id.index()]
            .values
            .iter()
            .position(|v| v == name)
            .and_then(|i| u32::try_from(i).ok())
    }

    pub(super) fn unknown_enum_value(&mut self, id: EnumId, ident: &ast::Ident) {
        let def = &self.program.enums[id.index()];
        let cands: Vec<Candidate> = def.values.iter().map(|v| Candidate::plain(v)).collect();
        let near = suggest::nearest(&ident.name, &cands);
        let mut d = Diagnostic::new(
            Code::E0305,
            ident.span,
            format!(
                "`{}` is not one of the values of `{}`",
                ident.name, def.origin
            ),
        )
        .label("unknown value")
        .note(format!(
            "the values are {}",
            crate::ir::list_values(&def.values)
        ));
        if let Some(h) = suggest::did_you_mean(&near) {
            d = d.help(h);
        }
        if let [only] = near.as_slice() {
            d = d.fix(ident.span, *only);
        }
        self.report(d);
    }

    fn attr(&mut self, attr: Attr, scope: EntityId, ident: &ast::Ident) -> Expr {
        let span = ident.span;
        match attr {
            Attr::Field(field) => {
                let f = FieldRef {
                    entity: scope,
                    field,
                };
                let def = self.program.field(f);
                mk(ExprKind::Field(f), def.ty.clone(), def.optional, span)
            }
            Attr::Relation(relation) => {
                let r = self.program.relation(RelationRef {
                    entity: scope,
                    relation,
                });
                let d = if r.kind == RelationKind::Many {
                    Diagnostic::new(
                        Code::E0309,
                        span,
                        format!(
                            "`{}` is a list of related records, not a single value",
                            ident.name
                        ),
                    )
                    .label("a relation")
                    .help(format!(
                        "use an aggregate, for example `count({0}) > 0` or `sum({0}.FIELD)`",
                        ident.name
                    ))
                } else {
                    Diagnostic::new(
                        Code::E0309,
                        span,
                        format!("`{}` is a related record, not a single value", ident.name),
                    )
                    .label("a relation")
                    .help(format!(
                        "name one of its fields, for example `{}.FIELD`, or test `{}.FIELD is known`",
                        ident.name, ident.name
                    ))
                };
                self.report(d);
                error(span)
            }
            Attr::Definition(id) => {
                self.depends_on(super::cycles::Node::Definition(id.index()), span);
                let (ty, nullable) = self.ensure_definition(id);
                mk(ExprKind::Definition(id), ty, nullable, span)
            }
            Attr::Segment(id) => {
                self.depends_on(super::cycles::Node::Segment(id.index()), span);
                cond(ExprKind::Segment(id), span)
            }
            Attr::Tier(id) => {
                self.depends_on(super::cycles::Node::Tier(id.index()), span);
                let enum_id = self.program.tier_sets[id.index()].enum_id;
                mk(ExprKind::Tier(id), Type::Enum(enum_id), false, span)
            }
            Attr::Score(id) => {
                self.depends_on(super::cycles::Node::Score(id.index()), span);
                mk(ExprKind::Score(id), Type::Integer, false, span)
            }
        }
    }

    fn unknown_name(&mut self, ident: &ast::Ident, scope: EntityId) {
        let entity = self.program.entity(scope);
        let mut cands: Vec<Candidate> = Vec::new();
        for f in &entity.fields {
            let mut aliases: Vec<&str> = f.synonyms.iter().map(String::as_str).collect();
            if let Some(l) = &f.label {
                aliases.push(l);
            }
            cands.push(Candidate {
                name: &f.name,
                aliases,
            });
        }
        for r in &entity.relations {
            cands.push(Candidate {
                name: &r.name,
                aliases: r.synonyms.iter().map(String::as_str).collect(),
            });
        }
        let attr_names: Vec<&String> = self.attrs[scope.index()].keys().collect();
        for n in &attr_names {
            cands.push(Candidate::plain(n));
        }
        for n in self.params.keys() {
            cands.push(Candidate::plain(n));
        }
        let near = suggest::nearest(&ident.name, &cands);
        let mut d = Diagnostic::new(
            Code::E0300,
            ident.span,
            format!("`{}` is not a field of `{}`", ident.name, entity.name),
        )
        .label("unknown name");
        let synonym_of = entity.fields.iter().find(|f| {
            f.synonyms
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&ident.name))
                || f.label
                    .as_ref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(&ident.name))
        });
        if let Some(f) = synonym_of {
            d = d
                .help(format!(
                    "the schema lists `{}` as another word for the field `{}`: write `{}`",
                    ident.name, f.name, f.name
                ))
                .fix(ident.span, f.name.clone());
            self.report(d);
            return;
        }
        let mut helped = false;
        if let Some(h) = suggest::did_you_mean(&near) {
            d = d.help(h);
            helped = true;
        }
        if let [only] = near.as_slice() {
            d = d.fix(ident.span, *only);
        }
        if !helped {
            // A field of a related entity?
            for r in &entity.relations {
                let target = self.program.entity(r.target);
                if target.fields.iter().any(|f| f.name == ident.name) {
                    d = d.help(match r.kind {
                        RelationKind::One => format!(
                            "`{}` is a field of `{}`; reach it through the relation: `{}.{}`",
                            ident.name, target.name, r.name, ident.name
                        ),
                        RelationKind::Many => format!(
                            "`{}` is a field of the related `{}` records; use an aggregate such as `max({}.{})`",
                            ident.name, target.name, r.name, ident.name
                        ),
                    });
                    helped = true;
                    break;
                }
            }
        }
        if !helped {
            // An enum value written alone?
            for f in &entity.fields {
                if let Type::Enum(id) = &f.ty
                    && self.program.enums[id.index()].values.contains(&ident.name)
                {
                    d = d.help(format!(
                        "`{}` is a value of `{}`: write `{} is {}`",
                        ident.name, f.name, f.name, ident.name
                    ));
                    helped = true;
                    break;
                }
            }
        }
        if !helped && self.segments.contains_key(&ident.name) {
            d = d.help(format!("`{}` is a segment of another entity", ident.name));
        }
        self.report(d);
    }

    fn path(
        &mut self,
        parts: &[ast::Ident],
        scope: EntityId,
        hint: Option<&Type>,
        span: Span,
    ) -> Expr {
        let Some((last, hops)) = parts.split_last() else {
            return error(span);
        };
        let mut entity = scope;
        let mut relations: Vec<RelationRef> = Vec::new();
        for hop in hops {
            match self.attrs[entity.index()].get(&hop.name).copied() {
                Some((Attr::Relation(rid), _)) => {
                    let r = RelationRef {
                        entity,
                        relation: rid,
                    };
                    let def = self.program.relation(r);
                    if def.kind == RelationKind::Many {
                        let rest: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
                        self.report(
                            Diagnostic::new(
                                Code::E0309,
                                hop.span,
                                format!(
                                    "`{}` is a list of related records, so `{}` has many values",
                                    hop.name,
                                    rest.join(".")
                                ),
                            )
                            .label("a list of records")
                            .help(format!(
                                "use an aggregate, for example `max({0})`, `sum({0})` or `any({1} where ...)`",
                                rest.join("."),
                                hop.name
                            )),
                        );
                        return error(span);
                    }
                    entity = def.target;
                    relations.push(r);
                }
                Some((_, _)) => {
                    self.report(
                        Diagnostic::new(
                            Code::E0301,
                            hop.span,
                            format!(
                                "`{}` is not a relation, so it has no `.{}`",
                                hop.name, last.name
                            ),
                        )
                        .label("not a relation")
                        .help("only relations to other entities can be followed with `.`"),
                    );
                    return error(span);
                }
                None => {
                    self.unknown_relation(hop, entity);
                    return error(span);
                }
            }
        }
        let inner = self.name(last, entity, hint);
        if inner.ty == Type::Error {
            return error(span);
        }
        let mut x = inner;
        for r in relations.into_iter().rev() {
            let ty = x.ty.clone();
            x = mk(
                ExprKind::Lookup {
                    relation: r,
                    value: Box::new(x),
                },
                ty,
                true,
                span,
            );
        }
        x
    }

    fn unknown_relation(&mut self, ident: &ast::Ident, entity: EntityId) {
        let def = self.program.entity(entity);
        let cands: Vec<Candidate> = def
            .relations
            .iter()
            .map(|r| Candidate {
                name: &r.name,
                aliases: r.synonyms.iter().map(String::as_str).collect(),
            })
            .collect();
        let near = suggest::nearest(&ident.name, &cands);
        let mut d = Diagnostic::new(
            Code::E0301,
            ident.span,
            format!("`{}` has no relation called `{}`", def.name, ident.name),
        )
        .label("unknown relation");
        d = match suggest::did_you_mean(&near) {
            Some(h) => d.help(h),
            None if def.relations.is_empty() => {
                d.help(format!("`{}` has no relations to other entities", def.name))
            }
            None => d.note(format!(
                "the relations of `{}` are {}",
                def.name,
                def.relations
                    .iter()
                    .map(|r| format!("`{}`", r.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
        if let [only] = near.as_slice() {
            d = d.fix(ident.span, *only);
        }
        self.report(d);
    }

    pub(super) fn segment_ref(&mut self, segment: &ast::Ident, scope: EntityId) -> Expr {
        let span = segment.span;
        let Some(&id) = self.segments.get(&segment.name) else {
            if self.poisoned.contains(&segment.name) {
                return error(span);
            }
            let names: Vec<&String> = self.segments.keys().collect();
            let cands: Vec<Candidate> = names.iter().map(|n| Candidate::plain(n)).collect();
            let near = suggest::nearest(&segment.name, &cands);
            let mut d = Diagnostic::new(
                Code::E0302,
                span,
                format!("there is no segment called `{}`", segment.name),
            )
            .label("unknown segment");
            if let Some(h) = suggest::did_you_mean(&near) {
                d = d.help(h);
            }
            if let [only] = near.as_slice() {
                d = d.fix(span, *only);
            }
            self.report(d);
            return error(span);
        };
        let seg = &self.program.segments[id.index()];
        if seg.entity != scope {
            let seg_entity = self.program.entity(seg.entity).name.clone();
            let here = self.program.entity(scope).name.clone();
            let seg_span = seg.span;
            self.report(
                Diagnostic::new(
                    Code::E0312,
                    span,
                    format!(
                        "`{}` is a segment of `{seg_entity}` records, but this rule is about `{here}`",
                        segment.name
                    ),
                )
                .label(format!("a `{seg_entity}` segment"))
                .secondary(seg_span, "declared here")
                .help(format!(
                    "a `{here}` can only be in `{here}` segments; go through a relation to reach `{seg_entity}`"
                )),
            );
            return error(span);
        }
        self.depends_on(super::cycles::Node::Segment(id.index()), span);
        cond(ExprKind::Segment(id), span)
    }

    // -----------------------------------------------------------------------------------------
    // Lists, arithmetic and comparisons

    fn list(
        &mut self,
        items: &[ast::Expr],
        scope: EntityId,
        hint: Option<&Type>,
        span: Span,
    ) -> Expr {
        let elem_hint = match hint {
            Some(Type::List(inner)) => Some(inner.as_ref().clone()),
            other => other.cloned(),
        };
        let mut xs: Vec<Expr> = Vec::new();
        for item in items {
            let x = self.operand(item, scope, elem_hint.as_ref(), "inside a list");
            if x.ty == Type::Error {
                return error(span);
            }
            xs.push(x);
        }
        let mut ty: Option<Type> = elem_hint.clone().filter(|t| *t != Type::Error);
        if ty.is_none() {
            ty = xs.first().map(|x| x.ty.clone());
        }
        let Some(ty) = ty else {
            return mk(
                ExprKind::List(xs),
                Type::List(Box::new(Type::Text)),
                false,
                span,
            );
        };
        // Widen numbers to the widest element.
        let ty = widest(ty, &xs);
        let mut out = Vec::new();
        for (x, item) in xs.into_iter().zip(items) {
            match self.fit(x, &ty) {
                Ok(x) => out.push(x),
                Err(x) => {
                    self.report(
                        Diagnostic::new(
                            Code::E0409,
                            item.span,
                            format!(
                                "this list mixes kinds of values: this one is {}, the others are {}",
                                self.describe_type(&x.ty),
                                self.describe_type(&ty)
                            ),
                        )
                        .label("a different kind of value")
                        .help("a list holds values of one kind only"),
                    );
                    return error(span);
                }
            }
        }
        mk(ExprKind::List(out), Type::List(Box::new(ty)), false, span)
    }

    /// Converts `x` to `ty` when that loses nothing (number widening, date to timestamp, equal
    /// enums); returns it unchanged as `Err` otherwise.
    #[allow(clippy::result_large_err)]
    fn fit(&self, x: Expr, ty: &Type) -> Result<Expr, Expr> {
        if x.ty == *ty || x.ty == Type::Error || *ty == Type::Error {
            return Ok(x);
        }
        if let (Some(a), Some(b)) = (numeric_rank(&x.ty), numeric_rank(ty))
            && a <= b
        {
            return Ok(coerce(x, ty));
        }
        if x.ty == Type::Date && *ty == Type::Timestamp {
            return Ok(coerce(x, ty));
        }
        if let (Type::Enum(a), Type::Enum(b)) = (&x.ty, ty)
            && self.program.enums[a.index()].values == self.program.enums[b.index()].values
        {
            return Ok(coerce(x, ty));
        }
        Err(x)
    }

    /// Brings two operands to one type, or reports why they cannot be compared.
    fn unify(
        &mut self,
        l: Expr,
        r: Expr,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        op_span: Span,
    ) -> Option<(Expr, Expr)> {
        if l.ty == Type::Error || r.ty == Type::Error {
            return None;
        }
        let (l, r) = match (numeric_rank(&l.ty), numeric_rank(&r.ty)) {
            (Some(a), Some(b)) if a < b => {
                let ty = r.ty.clone();
                (coerce(l, &ty), r)
            }
            (Some(a), Some(b)) if a > b => {
                let ty = l.ty.clone();
                (l, coerce(r, &ty))
            }
            _ => (l, r),
        };
        if l.ty == r.ty {
            return Some((l, r));
        }
        let l_ty = l.ty.clone();
        let r = match self.fit(r, &l_ty) {
            Ok(r) => return Some((l, r)),
            Err(r) => r,
        };
        let r_ty = r.ty.clone();
        let l = match self.fit(l, &r_ty) {
            Ok(l) => return Some((l, r)),
            Err(l) => l,
        };
        self.mismatch(&l, &r, lhs, rhs, op_span);
        None
    }

    fn mismatch(&mut self, l: &Expr, r: &Expr, lhs: &ast::Expr, rhs: &ast::Expr, op_span: Span) {
        let span = lhs.span.to(rhs.span);
        let lw = subject_words(lhs);
        let rw = match &rhs.kind {
            ast::ExprKind::Literal(_) => format!("`{}`", literal_text(rhs)),
            _ => subject_words(rhs),
        };
        // Enum compared with text: the quotes are the problem.
        if let (Type::Enum(id), ast::ExprKind::Literal(ast::Literal::Text(t))) = (&l.ty, &rhs.kind)
        {
            let def = &self.program.enums[id.index()];
            let exact = def
                .values
                .iter()
                .find(|v| v.eq_ignore_ascii_case(t))
                .cloned();
            let mut d = Diagnostic::new(
                Code::E0406,
                rhs.span,
                format!("{lw} is one of a fixed list of values, written without quotes"),
            )
            .label("this is a text in quotes")
            .note(format!(
                "the values are {}",
                crate::ir::list_values(&def.values)
            ));
            d = match exact {
                Some(v) => d
                    .help(format!("write `{v}` without quotes"))
                    .fix(rhs.span, v),
                None => d.help(format!(
                    "`{t}` is not one of the values either; pick one of the values listed below"
                )),
            };
            self.report(d);
            return;
        }
        // Percentages against plain numbers.
        if l.ty == Type::Percent && r.ty.is_numeric() || r.ty == Type::Percent && l.ty.is_numeric()
        {
            let (pct_side, num_side, num_ast) = if l.ty == Type::Percent {
                (&lw, &rw, rhs)
            } else {
                (&rw, &lw, lhs)
            };
            let mut d = Diagnostic::new(
                Code::E0405,
                span,
                format!(
                    "{pct_side} is a percentage, but {num_side} is {}",
                    self.describe_type(if l.ty == Type::Percent { &r.ty } else { &l.ty })
                ),
            )
            .label("a percentage compared with a number");
            if l.ty == Type::Percent
                && let ast::ExprKind::Literal(ast::Literal::Integer(n) | ast::Literal::Decimal(n)) =
                    &num_ast.kind
            {
                d = d
                    .help(format!("write the number as a percentage: `{n}%`"))
                    .fix(num_ast.span, format!("{n}%"));
            } else {
                d = d.help(
                    "percentages compare with percentages, such as `percentile of arr >= 80%`; \
                     to take a share of an amount multiply (`arr * 5%`), and write a plain \
                     fraction as a number such as `0.05`",
                );
            }
            self.report(d);
            return;
        }
        let _ = op_span;
        let d = Diagnostic::new(
            Code::E0400,
            span,
            format!(
                "{lw} is {}, but {rw} is {}",
                self.describe_type(&l.ty),
                self.describe_type(&r.ty)
            ),
        )
        .label("these cannot be compared")
        .help(hint_for_mismatch(&l.ty, &r.ty));
        self.report(d);
    }

    fn compare(
        &mut self,
        op: ast::CompareOp,
        spelling: ast::CompareSpelling,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        scope: EntityId,
        span: Span,
    ) -> Expr {
        let _ = spelling;
        // Yes/no values compare with each other (`email_opt_in = false`).
        let l = self.expr(lhs, scope, None);
        // A bare name on the right may be a value of the left side's enum: when the left side
        // failed, it cannot be told apart from an unknown name, so it is not reported.
        if l.ty == Type::Error && bare_name(rhs) {
            return error(span);
        }
        let r = if l.ty == Type::Bool {
            self.expr(rhs, scope, Some(&l.ty))
        } else {
            self.operand(rhs, scope, Some(&l.ty), "in a comparison")
        };
        // A bare name on the left that failed because it is an enum value of the right side is
        // rare; names are resolved left to right.
        let Some((l, r)) = self.unify(l, r, lhs, rhs, span) else {
            return error(span);
        };
        let ordered = matches!(
            op,
            ast::CompareOp::Lt | ast::CompareOp::Le | ast::CompareOp::Gt | ast::CompareOp::Ge
        );
        if ordered && !(l.ty.is_orderable()) {
            self.report(
                Diagnostic::new(
                    Code::E0401,
                    span,
                    format!(
                        "{} is {}, which has no order, so `<` and `>` do not apply",
                        subject_words(lhs),
                        self.describe_type(&l.ty)
                    ),
                )
                .label("cannot be ordered")
                .help(match &l.ty {
                    Type::Enum(_) => "test for values with `is` or `is any of [...]`".to_owned(),
                    Type::Bool => "test it with `is true` or `is false`".to_owned(),
                    _ => "use `is`, `contains` or `is empty` instead".to_owned(),
                }),
            );
            return error(span);
        }
        if matches!(l.ty, Type::List(_)) {
            self.report(
                Diagnostic::new(
                    Code::E0401,
                    span,
                    format!("{} is a list, and lists are not compared as a whole", subject_words(lhs)),
                )
                .label("a list")
                .help("test what the list holds with `contains`, `contains any of [...]` or `is empty`"),
            );
            return error(span);
        }
        let make = |op: CompareOp, l: Expr, r: Expr| {
            cond(
                ExprKind::Compare {
                    op,
                    lhs: Box::new(l),
                    rhs: Box::new(r),
                },
                span,
            )
        };
        match op {
            ast::CompareOp::Eq => make(CompareOp::Eq, l, r),
            ast::CompareOp::Ne => not(make(CompareOp::Eq, l, r), span),
            ast::CompareOp::Lt => make(CompareOp::Lt, l, r),
            ast::CompareOp::Le => make(CompareOp::Le, l, r),
            ast::CompareOp::Gt => make(CompareOp::Gt, l, r),
            ast::CompareOp::Ge => make(CompareOp::Ge, l, r),
        }
    }

    fn arith(
        &mut self,
        op: ast::BinaryOp,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        scope: EntityId,
        span: Span,
    ) -> Expr {
        let l = self.operand(lhs, scope, None, "in arithmetic");
        let r = self.operand(rhs, scope, None, "in arithmetic");
        if l.ty == Type::Error || r.ty == Type::Error {
            return error(span);
        }
        let (aop, sym) = match op {
            ast::BinaryOp::Add => (ArithOp::Add, "+"),
            ast::BinaryOp::Sub => (ArithOp::Sub, "-"),
            ast::BinaryOp::Mul => (ArithOp::Mul, "*"),
            _ => (ArithOp::Div, "/"),
        };
        let nullable = l.nullable || r.nullable || aop == ArithOp::Div;
        let build = |l: Expr, r: Expr, ty: Type| {
            mk(
                ExprKind::Arith {
                    op: aop,
                    lhs: Box::new(l),
                    rhs: Box::new(r),
                },
                ty,
                nullable,
                span,
            )
        };
        // Numbers with numbers.
        if let (Some(a), Some(b)) = (numeric_rank(&l.ty), numeric_rank(&r.ty)) {
            // Division gives a floating-point number: exact decimal division has no scale that
            // every backend agrees on, and ratios are rarely exact anyway.
            let ty = if aop == ArithOp::Div {
                Type::Number
            } else if a >= b {
                l.ty.clone()
            } else {
                r.ty.clone()
            };
            let l = coerce(l, &ty);
            let r = coerce(r, &ty);
            return build(l, r, ty);
        }
        let lt = l.ty.clone();
        let rt = r.ty.clone();
        let result = match (aop, &lt, &rt) {
            // Dates and durations.
            (ArithOp::Add | ArithOp::Sub, Type::Date | Type::Timestamp, Type::Duration) => {
                Some(lt.clone())
            }
            (ArithOp::Add, Type::Duration, Type::Date | Type::Timestamp) => Some(rt.clone()),
            (ArithOp::Sub, Type::Date, Type::Date)
            | (ArithOp::Sub, Type::Timestamp, Type::Timestamp) => Some(Type::Duration),
            (ArithOp::Add | ArithOp::Sub, Type::Duration, Type::Duration) => Some(Type::Duration),
            (ArithOp::Mul, Type::Duration, Type::Integer)
            | (ArithOp::Mul, Type::Integer, Type::Duration) => Some(Type::Duration),
            // Percent of an amount: `arr * 10%`.
            (ArithOp::Mul, Type::Percent, t) | (ArithOp::Mul, t, Type::Percent)
                if t.is_numeric() =>
            {
                let ty = if *t == Type::Number {
                    Type::Number
                } else {
                    Type::Decimal
                };
                let (l, r) = if lt == Type::Percent {
                    (l, coerce(r, &ty))
                } else {
                    (coerce(l, &ty), r)
                };
                return build(l, r, ty);
            }
            (ArithOp::Add | ArithOp::Sub, Type::Percent, Type::Percent) => Some(Type::Percent),
            _ => None,
        };
        if let Some(ty) = result {
            if lt == Type::Date
                && rt == Type::Duration
                && let ExprKind::Literal(Value::Duration(Duration {
                    unit: DurationUnit::Hour | DurationUnit::Minute,
                    ..
                })) = &r.kind
            {
                // Adding hours to a date gives a time of day: work on timestamps.
                let l = coerce(l, &Type::Timestamp);
                return build(l, r, Type::Timestamp);
            }
            return build(l, r, ty);
        }
        let mut d = Diagnostic::new(
            Code::E0404,
            span,
            format!(
                "{} is {} and {} is {}: `{sym}` does not work on these",
                subject_words(lhs),
                self.describe_type(&lt),
                subject_words(rhs),
                self.describe_type(&rt)
            ),
        )
        .label(format!("cannot calculate `{sym}` here"));
        d = d.help(match (&lt, &rt) {
            (Type::Text, _) | (_, Type::Text) => "arithmetic works on numbers, dates and durations, not on text".to_owned(),
            (Type::Date | Type::Timestamp, t) if t.is_numeric() => {
                "add a duration with a unit, for example `signup_date + 30 days`".to_owned()
            }
            (Type::Percent, _) | (_, Type::Percent) => {
                "a percentage can multiply an amount (`arr * 10%`) or be compared with another percentage".to_owned()
            }
            _ => "arithmetic works on numbers, and on dates with durations".to_owned(),
        });
        self.report(d);
        error(span)
    }

    // -----------------------------------------------------------------------------------------
    // Word tests

    #[allow(clippy::too_many_lines)]
    fn test(
        &mut self,
        subject: &ast::Expr,
        test: &ast::Test_,
        ignoring_case: bool,
        scope: EntityId,
        span: Span,
    ) -> Expr {
        // Whether a yes/no value is known is a fair question (`email_opt_in is unknown`); every
        // other test needs a value that is not a condition.
        let x = if matches!(test, ast::Test_::Known | ast::Test_::Unknown) {
            self.expr(subject, scope, None)
        } else {
            self.operand(subject, scope, None, "here")
        };
        if x.ty == Type::Error {
            // Still check the other side for its own errors.
            self.test_args_only(test, scope);
            return error(span);
        }
        let what = subject_words(subject);
        let is_text = x.ty == Type::Text || matches!(&x.ty, Type::List(t) if **t == Type::Text);
        if ignoring_case && !is_text {
            self.report(
                Diagnostic::new(
                    Code::E0401,
                    span,
                    format!(
                        "`ignoring case` only applies to text, and {what} is {}",
                        self.describe_type(&x.ty)
                    ),
                )
                .label("nothing to ignore the case of")
                .help("remove `ignoring case`"),
            );
            return error(span);
        }
        let wrong = |this: &mut Self, op: &str, needs: &str| {
            let ty = this.describe_type(&x.ty);
            this.report(
                Diagnostic::new(
                    Code::E0401,
                    span,
                    format!("`{op}` needs {needs}, but {what} is {ty}"),
                )
                .label(format!("`{op}` does not fit here")),
            );
            error(span)
        };
        match test {
            ast::Test_::Known => cond(ExprKind::IsKnown(Box::new(x)), span),
            ast::Test_::Unknown => {
                if !x.nullable {
                    self.report(
                        Diagnostic::new(
                            Code::W0100,
                            span,
                            format!("{what} is always known, so `is unknown` is never true"),
                        )
                        .label("always false")
                        .help(format!(
                            "the schema says {what} is required; if it can really be missing, declare it `optional`"
                        )),
                    );
                }
                not(cond(ExprKind::IsKnown(Box::new(x)), span), span)
            }
            ast::Test_::Empty => {
                if !matches!(x.ty, Type::List(_) | Type::Text) {
                    return wrong(self, "is empty", "a list or a text");
                }
                cond(ExprKind::IsEmpty(Box::new(x)), span)
            }
            ast::Test_::Between { low, high } => {
                if !x.ty.is_orderable() {
                    return wrong(self, "between", "a number, a date or a text");
                }
                let lo = self.operand(low, scope, Some(&x.ty), "in `between`");
                let hi = self.operand(high, scope, Some(&x.ty), "in `between`");
                let Some((x1, lo)) = self.unify(x.clone(), lo, subject, low, span) else {
                    return error(span);
                };
                let Some((x2, hi)) = self.unify(x1.clone(), hi, subject, high, span) else {
                    return error(span);
                };
                // The subject may have been widened by the second bound.
                let lo = coerce(lo, &x2.ty);
                cond(
                    ExprKind::Between {
                        value: Box::new(x2),
                        low: Box::new(lo),
                        high: Box::new(hi),
                    },
                    span,
                )
            }
            ast::Test_::AnyOf(list) => {
                if matches!(x.ty, Type::List(_)) {
                    self.report(
                        Diagnostic::new(
                            Code::E0401,
                            span,
                            format!("{what} is a list; `is any of` tests a single value"),
                        )
                        .label("a list")
                        .help(format!(
                            "to test what the list holds, write `{} contains any of [...]`",
                            describe(subject).unwrap_or_else(|| "list".into())
                        )),
                    );
                    return error(span);
                }
                let items: Vec<&ast::Expr> = match &list.kind {
                    ast::ExprKind::List(items) => items.iter().collect(),
                    _ => vec![list.as_ref()],
                };
                let mut typed = Vec::new();
                for item in &items {
                    let o = self.operand(item, scope, Some(&x.ty), "in a list");
                    if o.ty == Type::Error {
                        return error(span);
                    }
                    typed.push(o);
                }
                let fitting = typed
                    .iter()
                    .filter(|o| self.fit((*o).clone(), &x.ty).is_ok())
                    .count();
                let mut options = Vec::new();
                for (o, item) in typed.into_iter().zip(&items) {
                    match self.fit(o, &x.ty) {
                        Ok(o) => options.push(o),
                        // Some values fit and this one does not: the list itself is mixed.
                        Err(o) if fitting > 0 => {
                            let this = self.describe_type(&o.ty);
                            let others = self.describe_type(&x.ty);
                            self.report(
                                Diagnostic::new(
                                    Code::E0409,
                                    item.span,
                                    format!("this list mixes kinds of values: this one is {this}, the others are {others}"),
                                )
                                .label("a different kind of value")
                                .help(format!("{what} is {others}; every value in the list must be too")),
                            );
                            return error(span);
                        }
                        Err(o) => {
                            self.mismatch(&x, &o, subject, item, span);
                            return error(span);
                        }
                    }
                }
                cond(
                    ExprKind::InList {
                        value: Box::new(x),
                        options,
                        ignore_case: ignoring_case,
                    },
                    span,
                )
            }
            ast::Test_::Contains(arg) => match &x.ty {
                Type::Text => self.text_test(TextOp::Contains, x, arg, ignoring_case, scope, span),
                Type::List(elem) => {
                    let elem = elem.as_ref().clone();
                    let a = self.operand(arg, scope, Some(&elem), "after `contains`");
                    if a.ty == Type::Error {
                        return error(span);
                    }
                    let a = match self.fit(a, &elem) {
                        Ok(a) => a,
                        Err(a) => {
                            let ety = self.describe_type(&elem);
                            let aty = self.describe_type(&a.ty);
                            self.report(
                                Diagnostic::new(
                                    Code::E0400,
                                    arg.span,
                                    format!(
                                        "{what} holds values that are {ety}, but this is {aty}"
                                    ),
                                )
                                .label("cannot be in this list"),
                            );
                            return error(span);
                        }
                    };
                    cond(
                        ExprKind::ListContains {
                            list: Box::new(x),
                            element: Box::new(a),
                            ignore_case: ignoring_case,
                        },
                        span,
                    )
                }
                _ => wrong(self, "contains", "a text or a list"),
            },
            ast::Test_::ContainsAny(arg) | ast::Test_::ContainsAll(arg) => {
                let any = matches!(test, ast::Test_::ContainsAny(_));
                match &x.ty {
                    Type::List(_) => {
                        let hint = x.ty.clone();
                        let a = self.operand(arg, scope, Some(&hint), "after `contains`");
                        if a.ty == Type::Error {
                            return error(span);
                        }
                        let a = match self.fit(a, &hint) {
                            Ok(a) => a,
                            Err(a) => {
                                self.mismatch(&x, &a, subject, arg, span);
                                return error(span);
                            }
                        };
                        let (list, elements) = (Box::new(x), Box::new(a));
                        cond(
                            if any {
                                ExprKind::ListContainsAny {
                                    list,
                                    elements,
                                    ignore_case: ignoring_case,
                                }
                            } else {
                                ExprKind::ListContainsAll {
                                    list,
                                    elements,
                                    ignore_case: ignoring_case,
                                }
                            },
                            span,
                        )
                    }
                    Type::Text => {
                        // Text contains any/all of several texts.
                        let items: Vec<&ast::Expr> = match &arg.kind {
                            ast::ExprKind::List(items) => items.iter().collect(),
                            _ => vec![arg.as_ref()],
                        };
                        let mut parts = Vec::new();
                        for item in items {
                            let t = self.text_test(
                                TextOp::Contains,
                                x.clone(),
                                item,
                                ignoring_case,
                                scope,
                                item.span,
                            );
                            if t.ty == Type::Error {
                                return error(span);
                            }
                            parts.push(t);
                        }
                        cond(
                            if any {
                                ExprKind::Or(parts)
                            } else {
                                ExprKind::And(parts)
                            },
                            span,
                        )
                    }
                    _ => wrong(self, "contains", "a text or a list"),
                }
            }
            ast::Test_::StartsWith(arg) => {
                if x.ty != Type::Text {
                    return wrong(self, "starts with", "a text");
                }
                self.text_test(TextOp::StartsWith, x, arg, ignoring_case, scope, span)
            }
            ast::Test_::EndsWith(arg) => {
                if x.ty != Type::Text {
                    return wrong(self, "ends with", "a text");
                }
                self.text_test(TextOp::EndsWith, x, arg, ignoring_case, scope, span)
            }
            ast::Test_::Matches(arg) => {
                if x.ty != Type::Text {
                    return wrong(self, "matches", "a text");
                }
                let ast::ExprKind::Literal(ast::Literal::Text(pattern)) = &arg.kind else {
                    self.report(
                        Diagnostic::new(
                            Code::E0401,
                            arg.span,
                            "`matches` needs a pattern written in quotes".to_owned(),
                        )
                        .label("not a quoted pattern")
                        .help("write the regular expression as text, for example `matches \"^[A-Z]{2}-\\\\d+$\"`"),
                    );
                    return error(span);
                };
                let mut parser = regex_syntax::ParserBuilder::new()
                    .case_insensitive(ignoring_case)
                    .build();
                if let Err(err) = parser.parse(pattern) {
                    let detail = match &err {
                        regex_syntax::Error::Parse(e) => e.kind().to_string(),
                        regex_syntax::Error::Translate(e) => e.kind().to_string(),
                        _ => err.to_string(),
                    };
                    self.report(
                        Diagnostic::new(
                            Code::E0154,
                            arg.span,
                            format!("this is not a valid pattern: {detail}"),
                        )
                        .label("invalid regular expression")
                        .help("check brackets and backslashes; to match a character literally, put `\\\\` before it"),
                    );
                    return error(span);
                }
                self.text_test(TextOp::Matches, x, arg, ignoring_case, scope, span)
            }
            ast::Test_::Time(tt) => {
                if !x.ty.is_temporal() {
                    let ty = self.describe_type(&x.ty);
                    self.report(
                        Diagnostic::new(
                            Code::E0401,
                            span,
                            format!("time tests need a date, but {what} is {ty}"),
                        )
                        .label("not a date")
                        .help("time tests such as `in last 30 days` apply to date and timestamp fields"),
                    );
                    return error(span);
                }
                let Some(window) = self.window(tt) else {
                    return error(span);
                };
                cond(
                    ExprKind::InWindow {
                        value: Box::new(x),
                        window,
                    },
                    span,
                )
            }
        }
    }

    /// Checks the arguments of a test whose subject failed, so their own errors still show.
    fn test_args_only(&mut self, test: &ast::Test_, scope: EntityId) {
        match test {
            ast::Test_::Between { low, high } => {
                self.expr(low, scope, None);
                self.expr(high, scope, None);
            }
            ast::Test_::Time(tt) => {
                self.window(tt);
            }
            ast::Test_::Contains(a)
            | ast::Test_::ContainsAll(a)
            | ast::Test_::ContainsAny(a)
            | ast::Test_::StartsWith(a)
            | ast::Test_::EndsWith(a)
            | ast::Test_::Matches(a) => {
                // Enum-like bare names cannot be checked without the subject; only literals.
                if matches!(a.kind, ast::ExprKind::Literal(_)) {
                    self.expr(a, scope, None);
                }
            }
            ast::Test_::AnyOf(_) | ast::Test_::Known | ast::Test_::Unknown | ast::Test_::Empty => {}
        }
    }

    fn text_test(
        &mut self,
        op: TextOp,
        x: Expr,
        arg: &ast::Expr,
        ignoring_case: bool,
        scope: EntityId,
        span: Span,
    ) -> Expr {
        let a = self.operand(arg, scope, Some(&Type::Text), "in a text test");
        if a.ty == Type::Error {
            return error(span);
        }
        if a.ty != Type::Text {
            let ty = self.describe_type(&a.ty);
            self.report(
                Diagnostic::new(
                    Code::E0400,
                    arg.span,
                    format!("text tests need a text to look for, but this is {ty}"),
                )
                .label("not a text")
                .help("put the text in double quotes, for example `\"acme\"`"),
            );
            return error(span);
        }
        cond(
            ExprKind::Text {
                op,
                value: Box::new(x),
                pattern: Box::new(a),
                ignore_case: ignoring_case,
            },
            span,
        )
    }

    pub(super) fn window(&mut self, tt: &ast::TimeTest) -> Option<Window> {
        let dur = |this: &mut Self, d: &ast::DurationLit| literal::duration(d, this.diags);
        Some(match tt {
            ast::TimeTest::InLast(d) => Window::Last(dur(self, d)?),
            ast::TimeTest::InNext(d) => Window::Next(dur(self, d)?),
            ast::TimeTest::MoreThanAgo(d) => Window::MoreThanAgo(dur(self, d)?),
            ast::TimeTest::LessThanAgo(d) => Window::LessThanAgo(dur(self, d)?),
            ast::TimeTest::BetweenAgo {
                low,
                low_span,
                high,
            } => {
                let low = literal::integer(low, *low_span, self.diags);
                let high = dur(self, high)?;
                let low = Duration {
                    amount: low?,
                    unit: high.unit,
                };
                let (near, far) = if low.amount <= high.amount {
                    (low, high)
                } else {
                    (high, low)
                };
                Window::BetweenAgo { near, far }
            }
            ast::TimeTest::Period { relative, unit, .. } => {
                let unit_value = match unit.name.to_lowercase().as_str() {
                    "week" => PeriodUnit::Week,
                    "month" => PeriodUnit::Month,
                    "quarter" => PeriodUnit::Quarter,
                    "year" => PeriodUnit::Year,
                    other => {
                        let cands: Vec<Candidate> = ["week", "month", "quarter", "year"]
                            .iter()
                            .map(|w| Candidate::plain(w))
                            .collect();
                        let near = suggest::nearest(other, &cands);
                        let mut d = Diagnostic::new(
                            Code::E0152,
                            unit.span,
                            format!("`{}` is not a calendar period", unit.name),
                        )
                        .label("unknown period")
                        .note("the calendar periods are week, month, quarter and year; for a rolling window add a number, as in `in last 30 days`");
                        if let Some(h) = suggest::did_you_mean(&near) {
                            d = d.help(h);
                        }
                        if let Some(first) = near.first() {
                            d = d.fix(unit.span, *first);
                        }
                        self.report(d);
                        return None;
                    }
                };
                Window::Period {
                    relative: match relative {
                        ast::PeriodRelative::This => PeriodRelative::This,
                        ast::PeriodRelative::Last => PeriodRelative::Last,
                        ast::PeriodRelative::Next => PeriodRelative::Next,
                    },
                    unit: unit_value,
                }
            }
        })
    }

    // -----------------------------------------------------------------------------------------
    // Aggregates, population functions and calls

    #[allow(clippy::too_many_lines)]
    fn aggregate(
        &mut self,
        func: ast::AggFunc,
        func_span: Span,
        source: &ast::AggSource,
        scope: EntityId,
        span: Span,
    ) -> Expr {
        let fname = agg_name(func);
        // Walk `one` hops up to the first `many` relation; what follows is the value.
        let mut entity = scope;
        let mut path: Vec<RelationRef> = Vec::new();
        let mut many: Option<RelationRef> = None;
        let mut rest: &[ast::Ident] = &[];
        for (i, ident) in source.path.iter().enumerate() {
            match self.attrs[entity.index()].get(&ident.name).copied() {
                Some((Attr::Relation(rid), _)) => {
                    let r = RelationRef {
                        entity,
                        relation: rid,
                    };
                    let def = self.program.relation(r);
                    entity = def.target;
                    path.push(r);
                    if def.kind == RelationKind::Many {
                        many = Some(r);
                        rest = &source.path[i + 1..];
                        break;
                    }
                }
                Some((_, _)) => {
                    let name = source
                        .path
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(".");
                    let ename = self.program.entity(entity).name.clone();
                    let relations: Vec<String> = self
                        .program
                        .entity(entity)
                        .relations
                        .iter()
                        .filter(|r| r.kind == RelationKind::Many)
                        .map(|r| format!("`{}`", r.name))
                        .collect();
                    let mut d = Diagnostic::new(
                        Code::E0310,
                        ident.span,
                        format!("`{fname}` needs a list of related records, but `{name}` is a single value of `{ename}`"),
                    )
                    .label("not a relation");
                    d = match self.aggregate_example(fname, entity) {
                        None => d.help(format!(
                            "`{fname}` works over related records, and `{ename}` has no relation to many records"
                        )),
                        Some(example) => d
                            .help(format!("aggregate over related records, for example `{example}`"))
                            .note(format!(
                                "the relations of `{ename}` that lead to many records are {}",
                                relations.join(", ")
                            )),
                    };
                    self.report(d);
                    return error(span);
                }
                None => {
                    self.unknown_relation(ident, entity);
                    return error(span);
                }
            }
        }
        let Some(many) = many else {
            let name = source
                .path
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(".");
            let first = source.path.first().map_or(span, |p| p.span);
            self.report(
                Diagnostic::new(
                    Code::E0310,
                    first,
                    format!("`{name}` leads to a single record, so there is nothing to `{fname}`"),
                )
                .label("a single related record")
                .help(format!(
                    "use its fields directly, for example `{name}.FIELD`"
                )),
            );
            return error(span);
        };
        let target = entity;
        // The value aggregated, resolved on the related records.
        let value = match rest {
            [] => None,
            [single] => Some(self.name(single, target, None)),
            _ => {
                let x = self.path(rest, target, None, span);
                Some(x)
            }
        };
        if let Some(v) = &value
            && v.ty == Type::Error
        {
            return error(span);
        }
        // `where (a or b) in last 30 days`: the window was read as a test of the parenthesised
        // condition; it is the aggregate's window.
        let (filter_ast, window_ast) = match (&source.window, &source.filter) {
            (None, Some(f)) => match trailing_window(f) {
                Some((f, tt)) => (Some(f), Some(tt)),
                None => (Some(f.as_ref().clone()), None),
            },
            (w, f) => (f.as_deref().cloned(), w.clone()),
        };
        let window = match &window_ast {
            None => None,
            Some(tt) => {
                let rel = self.program.relation(many);
                let Some(dated) = rel.dated_by else {
                    let rname = rel.name.clone();
                    let rspan = rel.span;
                    self.report(
                        Diagnostic::new(
                            Code::E0311,
                            source.span,
                            format!("`{rname}` records have no date, so a time window cannot apply to them"),
                        )
                        .label("time window on undated records")
                        .secondary(rspan, "the relation is declared here")
                        .help(format!(
                            "add `dated by FIELD` to the relation `{rname}` in the schema, naming the date field of its records"
                        )),
                    );
                    return error(span);
                };
                let w = self.window(tt);
                match w {
                    Some(w) => Some((w, dated)),
                    None => return error(span),
                }
            }
        };
        let filter = match &filter_ast {
            None => None,
            Some(f) => {
                let c = self.condition(f, target);
                if c.ty == Type::Error {
                    return error(span);
                }
                Some(Box::new(c))
            }
        };
        let (ir_func, ty, nullable) = match func {
            ast::AggFunc::Count => (AggFunc::Count, Type::Integer, false),
            ast::AggFunc::CountDistinct => {
                if value.is_none() {
                    let rname = self.program.relation(many).name.clone();
                    self.report(
                        Diagnostic::new(
                            Code::E0407,
                            source.span,
                            "`count distinct` needs a field to count the different values of".to_owned(),
                        )
                        .label("no field given")
                        .help(format!("name the field, for example `count distinct({rname}.FIELD)`; to count records write `count({rname})`")),
                    );
                    return error(span);
                }
                (AggFunc::CountDistinct, Type::Integer, false)
            }
            ast::AggFunc::Sum | ast::AggFunc::Avg | ast::AggFunc::Min | ast::AggFunc::Max => {
                let Some(v) = &value else {
                    let rname = self.program.relation(many).name.clone();
                    self.report(
                        Diagnostic::new(
                            Code::E0407,
                            source.span,
                            format!("`{fname}` needs a field of the related records"),
                        )
                        .label("no field given")
                        .help(format!(
                            "name the field, for example `{fname}({rname}.amount)`"
                        )),
                    );
                    return error(span);
                };
                let numeric =
                    v.ty.is_numeric() || (v.ty == Type::Duration && func == ast::AggFunc::Sum);
                match func {
                    ast::AggFunc::Sum | ast::AggFunc::Avg if !numeric => {
                        let ty = self.describe_type(&v.ty);
                        self.report(
                            Diagnostic::new(
                                Code::E0401,
                                v.span,
                                format!("`{fname}` adds up numbers, but this is {ty}"),
                            )
                            .label("not a number")
                            .help("use `count` or `count distinct` for other kinds of values"),
                        );
                        return error(span);
                    }
                    ast::AggFunc::Min | ast::AggFunc::Max if !v.ty.is_orderable() => {
                        let ty = self.describe_type(&v.ty);
                        self.report(
                            Diagnostic::new(
                                Code::E0401,
                                v.span,
                                format!(
                                    "`{fname}` needs values that have an order, but this is {ty}"
                                ),
                            )
                            .label("cannot be ordered"),
                        );
                        return error(span);
                    }
                    _ => {}
                }
                match func {
                    ast::AggFunc::Sum => (AggFunc::Sum, v.ty.clone(), false),
                    // An average is a ratio: a floating-point number, like division.
                    ast::AggFunc::Avg => (AggFunc::Avg, Type::Number, true),
                    ast::AggFunc::Min => (AggFunc::Min, v.ty.clone(), true),
                    _ => (AggFunc::Max, v.ty.clone(), true),
                }
            }
            ast::AggFunc::Any | ast::AggFunc::Every => {
                if let Some(v) = &value {
                    self.report(
                        Diagnostic::new(
                            Code::E0401,
                            v.span,
                            format!("`{fname}` tests records with a `where` condition, not a field"),
                        )
                        .label("a field here")
                        .help(format!("write the test after `where`, for example `{fname}(orders where amount > 100)`")),
                    );
                    return error(span);
                }
                let f = if func == ast::AggFunc::Any {
                    AggFunc::Any
                } else {
                    AggFunc::Every
                };
                (f, Type::Bool, false)
            }
        };
        let _ = func_span;
        mk(
            ExprKind::Aggregate {
                func: ir_func,
                source: AggSource {
                    path,
                    entity: target,
                    window,
                    filter,
                },
                value: value.map(Box::new),
            },
            ty,
            nullable,
            span,
        )
    }

    /// An aggregate that would work here, for help texts: `sum(orders.amount)`, `count(orders)`.
    fn aggregate_example(&self, fname: &str, entity: EntityId) -> Option<String> {
        let def = self.program.entity(entity);
        let rel = def
            .relations
            .iter()
            .find(|r| r.kind == RelationKind::Many)?;
        let target = self.program.entity(rel.target);
        let wants_number = matches!(fname, "sum" | "avg");
        let field = target.fields.iter().enumerate().find(|(i, f)| {
            *i != target.key.index()
                && if wants_number {
                    f.ty.is_numeric()
                } else {
                    f.ty.is_orderable() && f.ty != Type::Text
                }
        });
        Some(match (fname, field) {
            ("count" | "any" | "every", _) | (_, None) => format!("count({})", rel.name),
            (_, Some((_, f))) => format!("{fname}({}.{})", rel.name, f.name),
        })
    }

    fn population(
        &mut self,
        func: &ast::PopFunc,
        func_span: Span,
        value: &ast::Expr,
        within: Option<&ast::Expr>,
        scope: EntityId,
        span: Span,
    ) -> Expr {
        let x = self.operand(value, scope, None, "in a population function");
        let w = within.map(|w| (w, self.expr(w, scope, None)));
        if x.ty == Type::Error || w.as_ref().is_some_and(|(_, w)| w.ty == Type::Error) {
            return error(span);
        }
        let (pf, ty, name) = match func {
            ast::PopFunc::Percentile => (PopFunc::Percentile, Type::Percent, "percentile"),
            ast::PopFunc::Rank => (PopFunc::Rank, Type::Integer, "rank"),
            ast::PopFunc::Ntile { groups, .. } => {
                let Some(n) = literal::integer(groups, func_span, self.diags) else {
                    return error(span);
                };
                match u32::try_from(n) {
                    Ok(n) if (1..=1000).contains(&n) => (PopFunc::Ntile(n), Type::Integer, "ntile"),
                    _ => {
                        self.report(
                            Diagnostic::new(
                                Code::E0153,
                                func_span,
                                format!("cannot split into {n} groups"),
                            )
                            .label("out of range")
                            .help("use a number of groups from 1 to 1000, for example `ntile(5)`"),
                        );
                        return error(span);
                    }
                }
            }
            ast::PopFunc::ShareOfTotal => (PopFunc::ShareOfTotal, Type::Percent, "share of total"),
            ast::PopFunc::CumulativeShare => {
                (PopFunc::CumulativeShare, Type::Percent, "cumulative share")
            }
        };
        let needs_sum = matches!(pf, PopFunc::ShareOfTotal | PopFunc::CumulativeShare);
        let ok = if needs_sum {
            x.ty.is_numeric()
        } else {
            x.ty.is_numeric()
                || x.ty.is_temporal()
                || matches!(x.ty, Type::Duration | Type::Percent)
        };
        if !ok {
            let t = self.describe_type(&x.ty);
            self.report(
                Diagnostic::new(
                    Code::E0401,
                    value.span,
                    format!(
                        "`{name}` needs {}, but {} is {t}",
                        if needs_sum {
                            "numbers to add up"
                        } else {
                            "values that can be ranked"
                        },
                        subject_words(value)
                    ),
                )
                .label("cannot be ranked"),
            );
            return error(span);
        }
        let within = match w {
            None => None,
            Some((w_ast, w)) => {
                if matches!(w.ty, Type::List(_)) {
                    self.report(
                        Diagnostic::new(
                            Code::E0401,
                            w_ast.span,
                            format!(
                                "{} is a list, so it cannot split the population into groups",
                                subject_words(w_ast)
                            ),
                        )
                        .label("a list")
                        .help("use a field with one value per record, such as `region`"),
                    );
                    return error(span);
                }
                Some(Box::new(w))
            }
        };
        let nullable = x.nullable || pf == PopFunc::ShareOfTotal || pf == PopFunc::CumulativeShare;
        mk(
            ExprKind::Population {
                func: pf,
                entity: scope,
                value: Box::new(x),
                within,
            },
            ty,
            nullable,
            span,
        )
    }

    #[allow(clippy::too_many_lines)]
    fn call(&mut self, func: &ast::Ident, args: &[ast::Expr], scope: EntityId, span: Span) -> Expr {
        let Some(builtin) = Builtin::ALL
            .iter()
            .find(|(_, n)| *n == func.name)
            .map(|(b, _)| *b)
        else {
            let mut names: Vec<&str> = Builtin::ALL.iter().map(|(_, n)| *n).collect();
            names.extend(["count", "sum", "avg", "min", "max", "any", "every", "ntile"]);
            let cands: Vec<Candidate> = names.iter().map(|n| Candidate::plain(n)).collect();
            let near = suggest::nearest(&func.name, &cands);
            let mut d = Diagnostic::new(
                Code::E0304,
                func.span,
                format!("there is no function called `{}`", func.name),
            )
            .label("unknown function")
            .note(format!(
                "the functions are {}, and the aggregates count, count distinct, sum, avg, min, max, any and every",
                Builtin::ALL.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
            ));
            if let Some(h) = suggest::did_you_mean(&near) {
                d = d.help(h);
            }
            if let [only] = near.as_slice() {
                d = d.fix(func.span, *only);
            }
            self.report(d);
            for a in args {
                self.expr(a, scope, None);
            }
            return error(span);
        };
        let name = builtin.name();
        let (min, max) = match builtin {
            Builtin::Coalesce => (2, usize::MAX),
            _ => (1, 1),
        };
        if args.len() < min || args.len() > max {
            let expected = match (min, max) {
                (1, 1) => "one value".to_owned(),
                _ => "at least two values".to_owned(),
            };
            self.report(
                Diagnostic::new(
                    Code::E0407,
                    span,
                    format!("`{name}` takes {expected}, but it was given {}", args.len()),
                )
                .label("wrong number of values"),
            );
            return error(span);
        }
        let mut xs = Vec::new();
        for a in args {
            let x = self.operand(a, scope, None, &format!("in `{name}`"));
            if x.ty == Type::Error {
                return error(span);
            }
            xs.push(x);
        }
        let first = &xs[0];
        let bad = |this: &mut Self, needs: &str| {
            let ty = this.describe_type(&xs[0].ty);
            this.report(
                Diagnostic::new(
                    Code::E0401,
                    args[0].span,
                    format!(
                        "`{name}` needs {needs}, but {} is {ty}",
                        subject_words(&args[0])
                    ),
                )
                .label(format!("does not fit `{name}`")),
            );
            error(span)
        };
        let nullable = first.nullable;
        let (ty, nullable) = match builtin {
            Builtin::Lower | Builtin::Upper => {
                if first.ty != Type::Text {
                    return bad(self, "a text");
                }
                (Type::Text, nullable)
            }
            Builtin::Length => {
                if !matches!(first.ty, Type::Text | Type::List(_)) {
                    return bad(self, "a text or a list");
                }
                (Type::Integer, nullable)
            }
            Builtin::Abs => {
                if !(first.ty.is_numeric() || matches!(first.ty, Type::Duration | Type::Percent)) {
                    return bad(self, "a number");
                }
                (first.ty.clone(), nullable)
            }
            Builtin::Round => {
                if !first.ty.is_numeric() {
                    return bad(self, "a number");
                }
                (first.ty.clone(), nullable)
            }
            Builtin::Year | Builtin::Month | Builtin::Day => {
                if !first.ty.is_temporal() {
                    return bad(self, "a date");
                }
                (Type::Integer, nullable)
            }
            Builtin::Coalesce => {
                let ty = widest(first.ty.clone(), &xs[1..]);
                let mut out = Vec::new();
                for (x, a) in xs.into_iter().zip(args) {
                    match self.fit(x, &ty) {
                        Ok(x) => out.push(x),
                        Err(x) => {
                            let t1 = self.describe_type(&ty);
                            let t2 = self.describe_type(&x.ty);
                            self.report(
                                Diagnostic::new(
                                    Code::E0400,
                                    a.span,
                                    format!("`coalesce` needs values of one kind: the first is {t1}, this one is {t2}"),
                                )
                                .label("a different kind of value"),
                            );
                            return error(span);
                        }
                    }
                }
                let nullable = out.iter().all(|x| x.nullable);
                return mk(
                    ExprKind::Call {
                        func: builtin,
                        args: out,
                    },
                    ty,
                    nullable,
                    span,
                );
            }
        };
        mk(
            ExprKind::Call {
                func: builtin,
                args: xs,
            },
            ty,
            nullable,
            span,
        )
    }
}

/// Splits a time test that ends a `where` condition and applies to a parenthesised condition
/// (`(a or b) in last 30 days`, `not (a) in last 30 days`, `x and (y) in last 30 days`) into the
/// condition and the window. Returns `None` when the condition does not end that way.
fn trailing_window(filter: &ast::Expr) -> Option<(ast::Expr, ast::TimeTest)> {
    let is_condition = |e: &ast::Expr| {
        matches!(
            &e.kind,
            ast::ExprKind::Binary {
                op: ast::BinaryOp::And | ast::BinaryOp::Or,
                ..
            } | ast::ExprKind::Unary {
                op: ast::UnaryOp::Not,
                ..
            } | ast::ExprKind::Compare { .. }
                | ast::ExprKind::Test { .. }
                | ast::ExprKind::Block { .. }
                | ast::ExprKind::InSegment { .. }
        )
    };
    match &filter.kind {
        ast::ExprKind::Test {
            subject,
            test: ast::Test_::Time(tt),
            negated: false,
            ignoring_case: false,
        } => match &subject.kind {
            ast::ExprKind::Paren(inner) if is_condition(inner) => {
                Some((subject.as_ref().clone(), tt.clone()))
            }
            _ => None,
        },
        ast::ExprKind::Unary {
            op: ast::UnaryOp::Not,
            operand,
        } => {
            let (inner, tt) = trailing_window(operand)?;
            let span = filter.span.to(inner.span);
            Some((
                ast::Expr {
                    kind: ast::ExprKind::Unary {
                        op: ast::UnaryOp::Not,
                        operand: Box::new(inner),
                    },
                    span,
                },
                tt,
            ))
        }
        ast::ExprKind::Binary {
            op: op @ (ast::BinaryOp::And | ast::BinaryOp::Or),
            lhs,
            rhs,
        } => {
            let (inner, tt) = trailing_window(rhs)?;
            let span = lhs.span.to(inner.span);
            Some((
                ast::Expr {
                    kind: ast::ExprKind::Binary {
                        op: *op,
                        lhs: lhs.clone(),
                        rhs: Box::new(inner),
                    },
                    span,
                },
                tt,
            ))
        }
        _ => None,
    }
}

fn bare_name(e: &ast::Expr) -> bool {
    match &e.kind {
        ast::ExprKind::Name(_) => true,
        ast::ExprKind::Paren(inner) => bare_name(inner),
        ast::ExprKind::List(items) => items.iter().any(bare_name),
        _ => false,
    }
}

fn agg_name(func: ast::AggFunc) -> &'static str {
    match func {
        ast::AggFunc::Count => "count",
        ast::AggFunc::CountDistinct => "count distinct",
        ast::AggFunc::Sum => "sum",
        ast::AggFunc::Avg => "avg",
        ast::AggFunc::Min => "min",
        ast::AggFunc::Max => "max",
        ast::AggFunc::Any => "any",
        ast::AggFunc::Every => "every",
    }
}

fn literal_text(e: &ast::Expr) -> String {
    match &e.kind {
        ast::ExprKind::Literal(l) => match l {
            ast::Literal::Integer(s)
            | ast::Literal::Decimal(s)
            | ast::Literal::Date(s)
            | ast::Literal::Timestamp(s) => s.clone(),
            ast::Literal::Percent(s) => format!("{s}%"),
            ast::Literal::Text(t) => format!("{t:?}"),
            ast::Literal::Bool(b) => b.to_string(),
            ast::Literal::Duration(d) => format!("{} {}", d.amount, d.unit.name),
        },
        _ => String::new(),
    }
}

fn hint_for_mismatch(l: &Type, r: &Type) -> String {
    match (l, r) {
        (Type::Date | Type::Timestamp, t) if t.is_numeric() => {
            "compare dates with dates (`2026-01-31`), or use a time test such as `in last 30 days`"
                .to_owned()
        }
        (t, Type::Date | Type::Timestamp) if t.is_numeric() => {
            "compare numbers with numbers; to work with a date use `days since` or a time test"
                .to_owned()
        }
        (Type::Text, t) if t.is_numeric() => {
            "put the number in quotes if the field holds text, or compare with a text".to_owned()
        }
        (t, Type::Text) if t.is_numeric() => "remove the quotes around the number".to_owned(),
        (Type::Bool, _) | (_, Type::Bool) => {
            "yes/no values compare with `true` or `false`".to_owned()
        }
        (Type::Duration, t) | (t, Type::Duration) if t.is_numeric() => {
            "give the number a unit, for example `30 days`".to_owned()
        }
        _ => "compare values of the same kind".to_owned(),
    }
}

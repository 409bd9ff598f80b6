//! Top-level rules: parameters, segments, tier sets, scores and tests.

use std::collections::HashMap;

use crate::diagnostics::suggest::{self, Candidate};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{
    EntityId, Expectation, Expr, ExprKind, Metadata, ParamDef, ParamId, ScoreDef, ScoreId,
    ScoreRule, SegmentDef, SegmentId, TestDef, TestRecord, TierRow, TierSetDef, TierSetId, Type,
    Value,
};
use crate::source::Span;
use crate::syntax::ast;

use super::{Attr, Checker, literal};

fn placeholder(span: Span) -> Expr {
    Expr {
        kind: ExprKind::Error,
        ty: Type::Error,
        nullable: false,
        span,
    }
}

fn metadata(m: &ast::Metadata) -> Metadata {
    Metadata {
        title: m.title.as_ref().map(|t| t.value.clone()),
        description: m.description.as_ref().map(|t| t.value.clone()),
        owner: m.owner.as_ref().map(|t| t.value.clone()),
        tags: m.tags.iter().map(|t| t.value.clone()).collect(),
    }
}

/// A constant: a literal, a negative literal, or a list of them, typed against `hint`.
fn constant(
    checker: &mut Checker<'_, '_>,
    e: &ast::Expr,
    hint: Option<&Type>,
) -> Option<(Value, Type)> {
    // Constants never refer to fields, so any entity serves as the scope.
    let scope = EntityId(0);
    match &e.kind {
        ast::ExprKind::Literal(_)
        | ast::ExprKind::Unary {
            op: ast::UnaryOp::Neg,
            ..
        }
        | ast::ExprKind::List(_)
        | ast::ExprKind::Name(_) => {
            if matches!(e.kind, ast::ExprKind::Name(_)) && !matches!(hint, Some(Type::Enum(_))) {
                return None;
            }
            if checker.program.entities.is_empty() {
                return None;
            }
            let x = checker.expr(e, scope, hint);
            value_of(&x).map(|v| (v, x.ty))
        }
        ast::ExprKind::Paren(inner) => constant(checker, inner, hint),
        _ => None,
    }
}

fn value_of(x: &Expr) -> Option<Value> {
    match &x.kind {
        ExprKind::Literal(v) => Some(v.clone()),
        ExprKind::List(items) => items
            .iter()
            .map(value_of)
            .collect::<Option<Vec<_>>>()
            .map(Value::List),
        ExprKind::Coerce(inner) => {
            let v = value_of(inner)?;
            Some(convert(v, &x.ty))
        }
        _ => None,
    }
}

/// Converts a constant to a wider type (integer to decimal or number, date to timestamp).
fn convert(v: Value, to: &Type) -> Value {
    match (v, to) {
        (Value::Integer(i), Type::Decimal) => Value::Decimal(crate::ir::Decimal {
            mantissa: i128::from(i),
            scale: 0,
        }),
        #[allow(clippy::cast_precision_loss)]
        (Value::Integer(i), Type::Number) => Value::Number(i as f64),
        (Value::Decimal(d), Type::Number) => Value::Number(d.to_f64()),
        (Value::Date(d), Type::Timestamp) => Value::Timestamp(crate::ir::TimestampValue {
            civil: d.to_datetime(jiff::civil::Time::midnight()),
            offset_seconds: None,
        }),
        (Value::List(items), Type::List(inner)) => {
            Value::List(items.into_iter().map(|v| convert(v, inner)).collect())
        }
        (v, _) => v,
    }
}

fn fits(from: &Type, to: &Type) -> bool {
    from == to
        || matches!(
            (from, to),
            (Type::Integer, Type::Decimal | Type::Number)
                | (Type::Decimal, Type::Number)
                | (Type::Date, Type::Timestamp)
        )
}

pub(super) fn declare_param(checker: &mut Checker<'_, '_>, p: &ast::Param) -> ParamId {
    let origin = format!("param {}", p.name.name);
    let declared =
        p.ty.as_ref()
            .map(|t| resolve_param_type(checker, t, &origin));
    let id = ParamId::from_index(checker.program.params.len());
    let (ty, default) = match constant(checker, &p.default, declared.as_ref()) {
        Some((v, vt)) => match &declared {
            Some(t) if *t == Type::Error => (Type::Error, v),
            Some(t) if !fits(&vt, t) => {
                let want = checker.program.describe_type(t);
                let got = checker.program.describe_type(&vt);
                checker.report(
                    Diagnostic::new(
                        Code::E0408,
                        p.default.span,
                        format!(
                            "the parameter `{}` is declared as {want}, but its default is {got}",
                            p.name.name
                        ),
                    )
                    .label("does not fit the declared type")
                    .help(match (&vt, t) {
                        (Type::Text, t) if t.is_numeric() => {
                            "numbers are written without quotes, for example `50_000`".to_owned()
                        }
                        (t2, Type::Date) if t2.is_numeric() => {
                            "write dates as year-month-day, for example `2026-03-01`".to_owned()
                        }
                        _ => "change the default, or the declared type, so that they agree"
                            .to_owned(),
                    }),
                );
                (Type::Error, v)
            }
            Some(t) => (t.clone(), convert(v, t)),
            None => (vt, v),
        },
        None => {
            if !checker.diags.iter().any(|d| {
                d.primary.span.file == p.default.span.file
                    && d.primary.span.start >= p.default.span.start
                    && d.primary.span.end <= p.default.span.end
            }) {
                checker.report(
                    Diagnostic::new(
                        Code::E0408,
                        p.default.span,
                        format!(
                            "the default of the parameter `{}` must be a fixed value",
                            p.name.name
                        ),
                    )
                    .label("not a fixed value")
                    .help("write a number, a text in quotes, a date or a duration, such as `50_000` or `30 days`"),
                );
            }
            (Type::Error, Value::Bool(false))
        }
    };
    checker.program.params.push(ParamDef {
        name: p.name.name.clone(),
        ty,
        default,
        span: p.name.span,
    });
    id
}

fn resolve_param_type(checker: &mut Checker<'_, '_>, t: &ast::TypeExpr, origin: &str) -> Type {
    let mut diags = Vec::new();
    let ty = crate::schema::resolve_type(t, origin, &mut checker.program.enums, &mut diags);
    checker.diags.extend(diags);
    ty
}

pub(super) fn declare_segment(
    checker: &mut Checker<'_, '_>,
    s: &ast::Segment,
    entity: EntityId,
) -> SegmentId {
    checker.program.segments.push(SegmentDef {
        name: s.name.name.clone(),
        entity,
        meta: metadata(&s.meta),
        condition: placeholder(s.condition.span),
        span: s.name.span,
    });
    SegmentId::from_index(checker.program.segments.len() - 1)
}

pub(super) fn declare_tiers(
    checker: &mut Checker<'_, '_>,
    t: &ast::Tiers,
    entity: EntityId,
) -> TierSetId {
    let mut names: Vec<String> = Vec::new();
    let mut first: HashMap<&str, Span> = HashMap::new();
    for row in &t.rows {
        if let Some(prev) = first.get(row.name.name.as_str()) {
            checker.report(
                Diagnostic::new(
                    Code::E0207,
                    row.name.span,
                    format!(
                        "the tier `{}` is listed twice in `{}`",
                        row.name.name, t.name.name
                    ),
                )
                .label("listed again here")
                .secondary(*prev, "first listed here")
                .help("each tier needs its own name; combine the two conditions with `or`"),
            );
            continue;
        }
        first.insert(row.name.name.as_str(), row.name.span);
        names.push(row.name.name.clone());
    }
    let enum_id = checker.new_enum(t.name.name.clone(), names);
    checker.program.tier_sets.push(TierSetDef {
        name: t.name.name.clone(),
        entity,
        meta: metadata(&t.meta),
        enum_id,
        rows: Vec::new(),
        span: t.name.span,
    });
    TierSetId::from_index(checker.program.tier_sets.len() - 1)
}

pub(super) fn declare_score(
    checker: &mut Checker<'_, '_>,
    s: &ast::Score,
    entity: EntityId,
) -> ScoreId {
    checker.program.scores.push(ScoreDef {
        name: s.name.name.clone(),
        entity,
        meta: metadata(&s.meta),
        rules: Vec::new(),
        span: s.name.span,
    });
    ScoreId::from_index(checker.program.scores.len() - 1)
}

impl Checker<'_, '_> {
    pub(super) fn check_segment(&mut self, s: &ast::Segment) {
        let Some(&id) = self.segments.get(&s.name.name) else {
            return;
        };
        if self.program.segments[id.index()].span != s.name.span {
            return;
        }
        let entity = self.program.segments[id.index()].entity;
        let outer = self
            .current
            .replace(super::cycles::Node::Segment(id.index()));
        let c = self.condition(&s.condition, entity);
        self.current = outer;
        self.program.segments[id.index()].condition = c;
    }

    pub(super) fn check_tiers(&mut self, t: &ast::Tiers) {
        let Some(&id) = self.tier_sets.get(&t.name.name) else {
            return;
        };
        if self.program.tier_sets[id.index()].span != t.name.span {
            return;
        }
        let entity = self.program.tier_sets[id.index()].entity;
        let outer = self.current.replace(super::cycles::Node::Tier(id.index()));
        let mut rows = Vec::new();
        let mut otherwise: Option<Span> = None;
        for row in &t.rows {
            if let Some(o) = otherwise {
                self.report(
                    Diagnostic::new(
                        Code::E0501,
                        row.name.span,
                        format!(
                            "the tier `{}` comes after `otherwise`, so no record can reach it",
                            row.name.name
                        ),
                    )
                    .label("never reached")
                    .secondary(o, "every record left over stops here")
                    .help("move the `otherwise` row to the end of the tier set"),
                );
                continue;
            }
            let condition = match &row.condition {
                Some(c) => Some(self.condition(c, entity)),
                None => {
                    otherwise = Some(row.span);
                    None
                }
            };
            rows.push(TierRow {
                name: row.name.name.clone(),
                condition,
                span: row.name.span,
            });
        }
        if otherwise.is_none() {
            let last = t.rows.last().map_or(t.name.span, |r| r.span);
            self.report(
                Diagnostic::new(
                    Code::E0500,
                    t.name.span,
                    format!("the tier set `{}` has no `otherwise` row", t.name.name),
                )
                .label("some records may match no row")
                .secondary(last, "add a row like `other otherwise` after this one")
                .help("end the tier set with a row such as `other otherwise`, so every record gets a tier"),
            );
        }
        self.program.tier_sets[id.index()].rows = rows;
        self.current = outer;
    }

    pub(super) fn check_score(&mut self, s: &ast::Score) {
        let Some(&id) = self.scores.get(&s.name.name) else {
            return;
        };
        if self.program.scores[id.index()].span != s.name.span {
            return;
        }
        let entity = self.program.scores[id.index()].entity;
        let outer = self.current.replace(super::cycles::Node::Score(id.index()));
        let mut rules = Vec::new();
        for rule in &s.rules {
            let cleaned: String = rule
                .points
                .chars()
                .filter(|c| *c != '_' && *c != '+')
                .collect();
            let points = match cleaned.parse::<i64>() {
                Ok(p) if p.abs() <= 1_000_000_000 => p,
                _ => {
                    self.report(
                        Diagnostic::new(
                            Code::E0153,
                            rule.points_span,
                            format!("`{}` points is out of range", rule.points),
                        )
                        .label("too many points")
                        .help("use whole numbers of points up to one billion"),
                    );
                    0
                }
            };
            let condition = self.condition(&rule.condition, entity);
            rules.push(ScoreRule {
                points,
                condition,
                span: rule.span,
            });
        }
        self.program.scores[id.index()].rules = rules;
        self.current = outer;
    }

    #[allow(clippy::too_many_lines)]
    pub(super) fn check_test(&mut self, t: &ast::Test) {
        let mut as_of: Option<Value> = None;
        let mut records: Vec<TestRecord> = Vec::new();
        let mut record_keys: HashMap<String, (usize, Span)> = HashMap::new();
        let mut data_files = Vec::new();
        let mut params = Vec::new();
        let mut expects: Vec<&ast::Expect> = Vec::new();
        for step in &t.steps {
            match step {
                ast::TestStep::AsOf { value, .. } => {
                    let v = match &value.kind {
                        ast::ExprKind::Literal(ast::Literal::Date(raw)) => {
                            literal::date(raw, value.span, self.diags).map(Value::Date)
                        }
                        ast::ExprKind::Literal(ast::Literal::Timestamp(raw)) => {
                            literal::timestamp(raw, value.span, self.diags).map(Value::Timestamp)
                        }
                        _ => {
                            self.report(
                                Diagnostic::new(
                                    Code::E0400,
                                    value.span,
                                    "`as of` needs a date such as `2026-01-31`".to_owned(),
                                )
                                .label("not a date"),
                            );
                            None
                        }
                    };
                    as_of = v.or(Some(Value::Bool(false)));
                }
                ast::TestStep::Record(r) => {
                    let Some(&entity) = self.entity_names.get(&r.entity.name) else {
                        let d = self.unknown_entity_diag(
                            &r.entity.name,
                            r.entity.span,
                            "for a test record",
                        );
                        self.report(d);
                        continue;
                    };
                    let key_text = record_key_text(&r.key);
                    let key = self.record_key(entity, &r.key);
                    if let Some((_, first)) = record_keys.get(&key_text) {
                        self.report(
                            Diagnostic::new(
                                Code::E0504,
                                r.key.span,
                                format!("the record `{key_text}` is declared twice in this test"),
                            )
                            .label("declared again here")
                            .secondary(*first, "first declared here")
                            .help("give every record in a test its own key"),
                        );
                        continue;
                    }
                    let mut fields = Vec::new();
                    let mut seen: HashMap<&str, Span> = HashMap::new();
                    for f in &r.fields {
                        if let Some(prev) = seen.get(f.name.name.as_str()) {
                            self.report(
                                Diagnostic::new(
                                    Code::E0307,
                                    f.name.span,
                                    format!("the field `{}` is given twice", f.name.name),
                                )
                                .label("given again here")
                                .secondary(*prev, "first given here"),
                            );
                            continue;
                        }
                        seen.insert(f.name.name.as_str(), f.name.span);
                        let Some((Attr::Field(fid), _)) =
                            self.attrs[entity.index()].get(&f.name.name).copied()
                        else {
                            let def = self.program.entity(entity);
                            let cands: Vec<Candidate> = def
                                .fields
                                .iter()
                                .map(|f| Candidate {
                                    name: &f.name,
                                    aliases: f.synonyms.iter().map(String::as_str).collect(),
                                })
                                .collect();
                            let near = suggest::nearest(&f.name.name, &cands);
                            let mut d = Diagnostic::new(
                                Code::E0300,
                                f.name.span,
                                format!("`{}` is not a field of `{}`", f.name.name, def.name),
                            )
                            .label("unknown field");
                            if let Some(h) = suggest::did_you_mean(&near) {
                                d = d.help(h);
                            }
                            if let [only] = near.as_slice() {
                                d = d.fix(f.name.span, *only);
                            }
                            self.report(d);
                            continue;
                        };
                        let fty = self.program.entities[entity.index()].fields[fid.index()]
                            .ty
                            .clone();
                        if let Some((v, vt)) = constant(self, &f.value, Some(&fty)) {
                            if fits(&vt, &fty) || fty == Type::Error {
                                fields.push((fid, convert(v, &fty)));
                            } else {
                                let want = self.program.describe_type(&fty);
                                let got = self.program.describe_type(&vt);
                                self.report(
                                    Diagnostic::new(
                                        Code::E0400,
                                        f.value.span,
                                        format!(
                                            "`{}` is {want}, but this value is {got}",
                                            f.name.name
                                        ),
                                    )
                                    .label("does not fit the field"),
                                );
                            }
                        } else if !matches!(f.value.kind, ast::ExprKind::Name(_))
                            || !matches!(fty, Type::Enum(_))
                        {
                            self.report(
                                Diagnostic::new(
                                    Code::E0400,
                                    f.value.span,
                                    format!("the value of `{}` in a test record must be written out", f.name.name),
                                )
                                .label("not a fixed value")
                                .help("write a number, a text in quotes, a date, an enum value or a list"),
                            );
                        }
                    }
                    record_keys.insert(key_text, (records.len(), r.key.span));
                    records.push(TestRecord {
                        entity,
                        key,
                        fields,
                        span: r.span,
                    });
                }
                ast::TestStep::Data { entity, path, span } => {
                    if let Some(&id) = self.entity_names.get(&entity.name) {
                        data_files.push((id, path.value.clone(), *span));
                    } else {
                        let d =
                            self.unknown_entity_diag(&entity.name, entity.span, "for test data");
                        self.report(d);
                    }
                }
                ast::TestStep::With { param, value, .. } => {
                    let Some(&pid) = self.params.get(&param.name) else {
                        if self.poisoned.contains(&param.name) {
                            continue;
                        }
                        let names: Vec<&String> = self.params.keys().collect();
                        let cands: Vec<Candidate> =
                            names.iter().map(|n| Candidate::plain(n)).collect();
                        let near = suggest::nearest(&param.name, &cands);
                        let mut d = Diagnostic::new(
                            Code::E0303,
                            param.span,
                            format!("there is no parameter called `{}`", param.name),
                        )
                        .label("unknown parameter");
                        d = match suggest::did_you_mean(&near) {
                            Some(h) => d.help(h),
                            None if names.is_empty() => {
                                d.help("declare it with `param NAME = VALUE` first")
                            }
                            None => {
                                let mut sorted: Vec<String> =
                                    names.iter().map(|n| format!("`{n}`")).collect();
                                sorted.sort();
                                d.note(format!("the parameters are {}", sorted.join(", ")))
                            }
                        };
                        if let [only] = near.as_slice() {
                            d = d.fix(param.span, *only);
                        }
                        self.report(d);
                        continue;
                    };
                    let pty = self.program.params[pid.index()].ty.clone();
                    match constant(self, value, Some(&pty)) {
                        Some((v, vt)) if fits(&vt, &pty) || pty == Type::Error => {
                            params.push((pid, convert(v, &pty)));
                        }
                        Some((_, vt)) => {
                            let want = self.program.describe_type(&pty);
                            let got = self.program.describe_type(&vt);
                            self.report(
                                Diagnostic::new(
                                    Code::E0408,
                                    value.span,
                                    format!(
                                        "the parameter `{}` is {want}, but this value is {got}",
                                        param.name
                                    ),
                                )
                                .label("does not fit the parameter"),
                            );
                        }
                        None => {}
                    }
                }
                ast::TestStep::Expect(e) => expects.push(e),
            }
        }
        let mut expectations = Vec::new();
        let mut file_keys: Vec<String> = Vec::new();
        for e in expects {
            let record = match record_keys.get(&e.record.name) {
                Some((i, _)) => *i,
                None if !data_files.is_empty() => {
                    // A record from a data file: known only when the test runs.
                    let j = match file_keys.iter().position(|k| *k == e.record.name) {
                        Some(j) => j,
                        None => {
                            file_keys.push(e.record.name.clone());
                            file_keys.len() - 1
                        }
                    };
                    records.len() + j
                }
                None => {
                    let mut d = Diagnostic::new(
                        Code::E0503,
                        e.record.span,
                        format!("this test has no record called `{}`", e.record.name),
                    )
                    .label("not declared in this test");
                    let keys: Vec<&String> = record_keys.keys().collect();
                    let cands: Vec<Candidate> = keys.iter().map(|k| Candidate::plain(k)).collect();
                    let near = suggest::nearest(&e.record.name, &cands);
                    d = match suggest::did_you_mean(&near) {
                        Some(h) => d.help(h),
                        None => d.help(format!(
                            "declare it in the test first, for example `customer {} {{ ... }}`",
                            e.record.name
                        )),
                    };
                    self.report(d);
                    continue;
                }
            };
            match &e.kind {
                ast::ExpectKind::Member { negated, segment } => {
                    let Some(&sid) = self.segments.get(&segment.name) else {
                        if self.poisoned.contains(&segment.name) {
                            continue;
                        }
                        let scope = self.program.primary.unwrap_or(EntityId(0));
                        self.segment_ref(segment, scope);
                        continue;
                    };
                    expectations.push((
                        Expectation::Member {
                            record,
                            segment: sid,
                            expected: !negated,
                        },
                        e.span,
                    ));
                }
                ast::ExpectKind::Value { attribute, value } => {
                    if let Some(&tid) = self.tier_sets.get(&attribute.name) {
                        let enum_id = self.program.tier_sets[tid.index()].enum_id;
                        let ast::ExprKind::Name(v) = &value.kind else {
                            self.report(
                                Diagnostic::new(
                                    Code::E0400,
                                    value.span,
                                    format!(
                                        "`{}` is a tier set: expect one of its tiers",
                                        attribute.name
                                    ),
                                )
                                .label("not a tier name"),
                            );
                            continue;
                        };
                        match self.enum_index(enum_id, &v.name) {
                            Some(i) => expectations.push((
                                Expectation::Tier {
                                    record,
                                    tier_set: tid,
                                    value: i,
                                },
                                e.span,
                            )),
                            None => self.unknown_enum_value(enum_id, v),
                        }
                    } else if let Some(&sid) = self.scores.get(&attribute.name) {
                        let n = match &value.kind {
                            ast::ExprKind::Literal(ast::Literal::Integer(raw)) => {
                                literal::integer(raw, value.span, self.diags)
                            }
                            ast::ExprKind::Unary {
                                op: ast::UnaryOp::Neg,
                                operand,
                            } => match &operand.kind {
                                ast::ExprKind::Literal(ast::Literal::Integer(raw)) => {
                                    literal::integer(raw, value.span, self.diags).map(|n| -n)
                                }
                                _ => None,
                            },
                            _ => {
                                self.report(
                                    Diagnostic::new(
                                        Code::E0400,
                                        value.span,
                                        format!(
                                            "`{}` is a score: expect a whole number of points",
                                            attribute.name
                                        ),
                                    )
                                    .label("not a whole number"),
                                );
                                None
                            }
                        };
                        if let Some(n) = n {
                            expectations.push((
                                Expectation::Score {
                                    record,
                                    score: sid,
                                    value: n,
                                },
                                e.span,
                            ));
                        }
                    } else if self.poisoned.contains(&attribute.name) {
                        continue;
                    } else {
                        let mut names: Vec<&String> = self.tier_sets.keys().collect();
                        names.extend(self.scores.keys());
                        let cands: Vec<Candidate> =
                            names.iter().map(|n| Candidate::plain(n)).collect();
                        let near = suggest::nearest(&attribute.name, &cands);
                        let mut d = Diagnostic::new(
                            Code::E0505,
                            attribute.span,
                            format!("`{}` is not a tier set or a score, so a test cannot expect a value for it", attribute.name),
                        )
                        .label("not a tier set or score")
                        .help("tests check segment membership (`expect c1 in SEGMENT`), tiers and scores");
                        if let Some(h) = suggest::did_you_mean(&near) {
                            d = d.help(h);
                        }
                        self.report(d);
                    }
                }
            }
        }
        let Some(as_of) = as_of else {
            self.report(
                Diagnostic::new(
                    Code::E0502,
                    t.name.span,
                    format!("the test {:?} does not say which day it is", t.name.value),
                )
                .label("no `as of` date")
                .help("add a line such as `as of 2026-01-31`, so the test gives the same answer every day"),
            );
            return;
        };
        self.program.tests.push(TestDef {
            name: t.name.value.clone(),
            as_of,
            records,
            data_files,
            file_keys,
            params,
            expectations,
            span: t.name.span,
        });
    }

    fn record_key(&mut self, entity: EntityId, key: &ast::Expr) -> Value {
        let def = self.program.entity(entity);
        let key_ty = def
            .fields
            .get(def.key.index())
            .map_or(Type::Text, |f| f.ty.clone());
        match &key.kind {
            ast::ExprKind::Name(i) => Value::Text(i.name.clone()),
            ast::ExprKind::Literal(ast::Literal::Text(t)) => Value::Text(t.clone()),
            ast::ExprKind::Literal(ast::Literal::Integer(raw)) => {
                match literal::integer(raw, key.span, self.diags) {
                    Some(i) if key_ty == Type::Integer => Value::Integer(i),
                    Some(i) => Value::Text(i.to_string()),
                    None => Value::Text(raw.clone()),
                }
            }
            _ => Value::Text(record_key_text(key)),
        }
    }
}

fn record_key_text(key: &ast::Expr) -> String {
    match &key.kind {
        ast::ExprKind::Name(i) => i.name.clone(),
        ast::ExprKind::Literal(ast::Literal::Text(t)) => t.clone(),
        ast::ExprKind::Literal(ast::Literal::Integer(raw) | ast::Literal::Decimal(raw)) => {
            raw.clone()
        }
        _ => String::new(),
    }
}

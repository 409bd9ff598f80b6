//! The tree-walking interpreter: one typed-IR expression on one record at a time.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::rc::Rc;

use jiff::civil::Date;
use regex::Regex;

use super::EvalError;
use super::data::{Indexes, Key, read_field};
use super::value::{
    Dur, MICROS_PER_DAY, Pct, V, compare, date_from_day_number, day_number, dec_add, dec_mul,
    dec_round, dec_sub, equal,
};
use crate::engine::{Dataset, RunSettings};
use crate::ir::{
    AggFunc, AggSource, ArithOp, Builtin, CompareOp, Decimal, Duration, DurationUnit, EntityId,
    Expr, ExprKind, PeriodRelative, PeriodUnit, PopFunc, Program, RelationKind, RelationRef,
    ScoreId, TextOp, TierSetId, Type, Value, Window,
};

/// One record: an entity and a row of its table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rec {
    pub entity: EntityId,
    pub row: usize,
}

/// A population function's result for one record, with what explains it.
#[derive(Clone, Debug)]
pub struct PopEntry {
    pub value: V,
    /// 1 for the largest value (ties share the best rank); `None` when the record's value is
    /// unknown.
    pub rank: Option<usize>,
    /// How many records with a known value the record is compared with.
    pub n: usize,
    /// The record's `within` value, when there is one.
    pub group: Option<V>,
}

/// Records related to one record through an aggregate's source.
pub struct Related {
    /// Records inside the time window.
    pub windowed: Vec<usize>,
    /// Records inside the window that meet the `where` condition.
    pub kept: Vec<usize>,
}

type Cache<K, T> = RefCell<HashMap<K, Rc<T>>>;

pub struct Evaluator<'a> {
    pub program: &'a Program,
    pub settings: &'a RunSettings,
    pub ix: Indexes<'a>,
    populations: Cache<usize, Vec<PopEntry>>,
    regexes: Cache<(String, bool), Regex>,
}

impl<'a> Evaluator<'a> {
    pub fn new(
        program: &'a Program,
        data: &'a Dataset,
        settings: &'a RunSettings,
    ) -> Result<Self, EvalError> {
        Ok(Evaluator {
            program,
            settings,
            ix: Indexes::build(program, data)?,
            populations: RefCell::new(HashMap::new()),
            regexes: RefCell::new(HashMap::new()),
        })
    }

    /// How many records the entity has (0 without data).
    pub fn rows(&self, entity: EntityId) -> usize {
        self.ix
            .tables
            .get(&entity)
            .map_or(0, |t| t.table.batch.num_rows())
    }

    /// True when the condition holds for the record (unknown counts as false).
    pub fn cond(&self, e: &Expr, rec: Rec) -> Result<bool, EvalError> {
        Ok(self.eval(e, rec)?.is_true())
    }

    pub fn field(
        &self,
        entity: EntityId,
        field: crate::ir::FieldId,
        row: usize,
    ) -> Result<V, EvalError> {
        match self.ix.tables.get(&entity) {
            Some(t) => read_field(self.program, t.table, field, row),
            None => Ok(V::Unknown),
        }
    }

    pub fn key_of(&self, rec: Rec) -> Result<V, EvalError> {
        let key = self.program.entity(rec.entity).key;
        self.field(rec.entity, key, rec.row)
    }

    /// The record reached through a `one` relation, if any.
    pub fn follow_one(&self, relation: RelationRef, rec: Rec) -> Result<Option<Rec>, EvalError> {
        let def = self.program.relation(relation);
        let via = self.field(rec.entity, def.via.field, rec.row)?;
        let Some(key) = Key::of(&via) else {
            return Ok(None);
        };
        Ok(self
            .ix
            .tables
            .get(&def.target)
            .and_then(|t| t.by_key.get(&key))
            .map(|row| Rec {
                entity: def.target,
                row: *row,
            }))
    }

    #[allow(clippy::too_many_lines)]
    pub fn eval(&self, e: &Expr, rec: Rec) -> Result<V, EvalError> {
        Ok(match &e.kind {
            ExprKind::Literal(v) => self.literal(v),
            ExprKind::Field(f) => self.field(f.entity, f.field, rec.row)?,
            ExprKind::Lookup { relation, value } => match self.follow_one(*relation, rec)? {
                Some(target) => self.eval(value, target)?,
                None => V::Unknown,
            },
            ExprKind::Param(id) => match self.settings.params.get(id) {
                Some(v) => self.literal(v),
                None => match self.program.params.get(id.index()) {
                    Some(p) => self.literal(&p.default),
                    None => V::Unknown,
                },
            },
            ExprKind::Definition(id) => match self.program.definitions.get(id.index()) {
                Some(d) => self.eval(&d.value, rec)?,
                None => V::Unknown,
            },
            ExprKind::Segment(id) => match self.program.segments.get(id.index()) {
                Some(s) => V::Bool(self.cond(&s.condition, rec)?),
                None => V::Bool(false),
            },
            ExprKind::Tier(id) => match self.tier(*id, rec)? {
                Some(row) => self
                    .program
                    .tier_sets
                    .get(id.index())
                    .and_then(|t| t.rows.get(row))
                    .map_or(V::Unknown, |r| V::Enum(r.name.clone())),
                None => V::Unknown,
            },
            ExprKind::Score(id) => self.score(*id, rec)?.map_or(V::Unknown, V::Int),
            ExprKind::Today => V::Date(self.settings.as_of.date),
            ExprKind::Now => V::Ts(self.settings.as_of.instant),
            ExprKind::Not(x) => V::Bool(!self.cond(x, rec)?),
            ExprKind::And(xs) => {
                for x in xs {
                    if !self.cond(x, rec)? {
                        return Ok(V::Bool(false));
                    }
                }
                V::Bool(true)
            }
            ExprKind::Or(xs) => {
                for x in xs {
                    if self.cond(x, rec)? {
                        return Ok(V::Bool(true));
                    }
                }
                V::Bool(false)
            }
            ExprKind::Neg(x) => negate(&self.eval(x, rec)?),
            ExprKind::Arith { op, lhs, rhs } => {
                let l = self.eval(lhs, rec)?;
                let r = self.eval(rhs, rec)?;
                self.arith(*op, &l, &r)
            }
            ExprKind::Compare { op, lhs, rhs } => {
                let l = self.eval(lhs, rec)?;
                let r = self.eval(rhs, rec)?;
                V::Bool(compare_op(*op, &l, &r))
            }
            ExprKind::Text {
                op,
                value,
                pattern,
                ignore_case,
            } => {
                let v = self.eval(value, rec)?;
                let p = self.eval(pattern, rec)?;
                V::Bool(self.text_test(*op, &v, &p, *ignore_case))
            }
            ExprKind::IsKnown(x) => V::Bool(self.eval(x, rec)?.is_known()),
            ExprKind::InList {
                value,
                options,
                ignore_case,
            } => {
                let v = self.eval(value, rec)?;
                if !v.is_known() {
                    return Ok(V::Bool(false));
                }
                for o in options {
                    if equal(&v, &self.eval(o, rec)?, *ignore_case) {
                        return Ok(V::Bool(true));
                    }
                }
                V::Bool(false)
            }
            ExprKind::Between { value, low, high } => {
                let v = self.eval(value, rec)?;
                let lo = self.eval(low, rec)?;
                let hi = self.eval(high, rec)?;
                V::Bool(
                    matches!(compare(&lo, &v), Some(Ordering::Less | Ordering::Equal))
                        && matches!(compare(&v, &hi), Some(Ordering::Less | Ordering::Equal)),
                )
            }
            ExprKind::IsEmpty(x) => V::Bool(match self.eval(x, rec)? {
                V::List(items) => items.is_empty(),
                V::Text(s) => s.is_empty(),
                _ => false,
            }),
            ExprKind::ListContains {
                list,
                element,
                ignore_case,
            } => {
                let l = self.eval(list, rec)?;
                let x = self.eval(element, rec)?;
                V::Bool(list_has(&l, &x, *ignore_case))
            }
            ExprKind::ListContainsAny {
                list,
                elements,
                ignore_case,
            }
            | ExprKind::ListContainsAll {
                list,
                elements,
                ignore_case,
            } => {
                let any = matches!(e.kind, ExprKind::ListContainsAny { .. });
                let l = self.eval(list, rec)?;
                let xs = self.eval(elements, rec)?;
                let (V::List(_), V::List(xs)) = (&l, &xs) else {
                    return Ok(V::Bool(false));
                };
                V::Bool(if any {
                    xs.iter().any(|x| list_has(&l, x, *ignore_case))
                } else {
                    xs.iter().all(|x| list_has(&l, x, *ignore_case))
                })
            }
            ExprKind::InWindow { value, window } => {
                let v = self.eval(value, rec)?;
                V::Bool(self.in_window(&v, window))
            }
            ExprKind::DaysSince(x) => match self.local_date(&self.eval(x, rec)?) {
                Some(d) => V::Int(day_number(self.settings.as_of.date) - day_number(d)),
                None => V::Unknown,
            },
            ExprKind::Anniversary(x) => match self.eval(x, rec)? {
                V::Date(d) => anniversary(d, self.settings.as_of.date).map_or(V::Unknown, V::Date),
                _ => V::Unknown,
            },
            ExprKind::Aggregate {
                func,
                source,
                value,
            } => self.aggregate(*func, source, value.as_deref(), rec)?,
            ExprKind::Population { .. } => self.population(e, rec)?.value,
            ExprKind::Call { func, args } => self.call(*func, args, rec)?,
            ExprKind::List(xs) => {
                let mut out = Vec::with_capacity(xs.len());
                for x in xs {
                    out.push(self.eval(x, rec)?);
                }
                V::List(out)
            }
            ExprKind::Coerce(x) => self.coerce(self.eval(x, rec)?, &e.ty),
            ExprKind::Error => V::Unknown,
        })
    }

    pub fn literal(&self, v: &Value) -> V {
        match v {
            Value::Bool(b) => V::Bool(*b),
            Value::Integer(i) => V::Int(*i),
            Value::Decimal(d) => V::Dec(*d),
            Value::Number(f) => V::Num(*f),
            Value::Text(s) => V::Text(s.clone()),
            Value::Date(d) => V::Date(*d),
            Value::Timestamp(t) => {
                let instant = match t.offset_seconds {
                    Some(secs) => jiff::tz::Offset::from_seconds(secs)
                        .ok()
                        .and_then(|o| o.to_timestamp(t.civil).ok()),
                    None => self.settings.as_of.time_zone.to_timestamp(t.civil).ok(),
                };
                instant.map_or(V::Unknown, V::Ts)
            }
            Value::Duration(d) => duration(*d).map_or(V::Unknown, V::Dur),
            Value::Percent(d) => V::Pct(Pct::Exact(*d)),
            Value::Enum(id, i) => self
                .program
                .enums
                .get(id.index())
                .and_then(|e| e.values.get(*i as usize))
                .map_or(V::Unknown, |s| V::Enum(s.clone())),
            Value::List(xs) => V::List(xs.iter().map(|x| self.literal(x)).collect()),
        }
    }

    fn coerce(&self, v: V, to: &Type) -> V {
        match (v, to) {
            (V::Int(i), Type::Decimal) => V::Dec(Decimal {
                mantissa: i128::from(i),
                scale: 0,
            }),
            (v @ (V::Int(_) | V::Dec(_)), Type::Number) => v.to_f64().map_or(V::Unknown, V::Num),
            (V::Date(d), Type::Timestamp) => self.midnight(d).map_or(V::Unknown, V::Ts),
            (V::List(xs), Type::List(inner)) => {
                V::List(xs.into_iter().map(|x| self.coerce(x, inner)).collect())
            }
            (v, _) => v,
        }
    }

    /// Local midnight of a date in the project's time zone.
    pub fn midnight(&self, d: Date) -> Option<jiff::Timestamp> {
        self.settings
            .as_of
            .time_zone
            .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
            .ok()
    }

    /// The calendar day of a date or timestamp in the project's time zone.
    pub fn local_date(&self, v: &V) -> Option<Date> {
        match v {
            V::Date(d) => Some(*d),
            V::Ts(t) => Some(self.settings.as_of.time_zone.to_datetime(*t).date()),
            _ => None,
        }
    }

    fn arith(&self, op: ArithOp, l: &V, r: &V) -> V {
        if !l.is_known() || !r.is_known() {
            return V::Unknown;
        }
        if op == ArithOp::Div {
            return match (l.to_f64(), r.to_f64()) {
                (Some(a), Some(b)) if b != 0.0 => V::Num(a / b),
                _ => V::Unknown,
            };
        }
        let opt = |x: Option<V>| x.unwrap_or(V::Unknown);
        match (l, r) {
            (V::Int(a), V::Int(b)) => opt(match op {
                ArithOp::Add => a.checked_add(*b),
                ArithOp::Sub => a.checked_sub(*b),
                _ => a.checked_mul(*b),
            }
            .map(V::Int)),
            (V::Dec(a), V::Dec(b))
            | (V::Pct(Pct::Exact(a)), V::Dec(b))
            | (V::Dec(a), V::Pct(Pct::Exact(b))) => opt(match op {
                ArithOp::Add => dec_add(*a, *b),
                ArithOp::Sub => dec_sub(*a, *b),
                _ => dec_mul(*a, *b),
            }
            .map(V::Dec)),
            (V::Pct(Pct::Exact(a)), V::Pct(Pct::Exact(b))) => opt(match op {
                ArithOp::Add => dec_add(*a, *b),
                ArithOp::Sub => dec_sub(*a, *b),
                _ => dec_mul(*a, *b),
            }
            .map(|d| V::Pct(Pct::Exact(d)))),
            (V::Pct(a), V::Pct(b)) => {
                let (a, b) = (a.to_f64(), b.to_f64());
                V::Pct(Pct::Float(match op {
                    ArithOp::Add => a + b,
                    ArithOp::Sub => a - b,
                    _ => a * b,
                }))
            }
            (V::Date(d), V::Dur(x)) | (V::Dur(x), V::Date(d)) => {
                let x = if op == ArithOp::Sub {
                    x.checked_neg()
                } else {
                    Some(*x)
                };
                opt(x.and_then(|x| add_to_date(*d, x)).map(V::Date))
            }
            (V::Ts(t), V::Dur(x)) | (V::Dur(x), V::Ts(t)) => {
                let x = if op == ArithOp::Sub {
                    x.checked_neg()
                } else {
                    Some(*x)
                };
                opt(x.and_then(|x| self.add_to_ts(*t, x)).map(V::Ts))
            }
            (V::Date(a), V::Date(b)) => V::Dur(Dur {
                days: day_number(*a) - day_number(*b),
                ..Dur::default()
            }),
            (V::Ts(a), V::Ts(b)) => {
                opt(a
                    .as_microsecond()
                    .checked_sub(b.as_microsecond())
                    .map(|micros| {
                        V::Dur(Dur {
                            micros,
                            ..Dur::default()
                        })
                    }))
            }
            (V::Dur(a), V::Dur(b)) => opt(match op {
                ArithOp::Add => a.checked_add(*b),
                ArithOp::Sub => b.checked_neg().and_then(|nb| a.checked_add(nb)),
                _ => None,
            }
            .map(V::Dur)),
            (V::Dur(a), V::Int(k)) | (V::Int(k), V::Dur(a)) => opt(a.checked_mul(*k).map(V::Dur)),
            _ => match (l.to_f64(), r.to_f64()) {
                (Some(a), Some(b)) => V::Num(match op {
                    ArithOp::Add => a + b,
                    ArithOp::Sub => a - b,
                    _ => a * b,
                }),
                _ => V::Unknown,
            },
        }
    }

    /// A timestamp plus a duration: months and days on the calendar of the project's time zone,
    /// the rest exactly.
    fn add_to_ts(&self, t: jiff::Timestamp, d: Dur) -> Option<jiff::Timestamp> {
        let mut t = t;
        if d.months != 0 || d.days != 0 {
            let span = jiff::Span::new()
                .try_months(d.months)
                .ok()?
                .try_days(d.days)
                .ok()?;
            let zoned = t.to_zoned_datetime(self.settings.as_of.time_zone.clone());
            t = zoned.checked_add(span).ok()?.timestamp();
        }
        t.checked_add(jiff::SignedDuration::from_micros(d.micros))
            .ok()
    }

    fn regex(&self, pattern: &str, ignore_case: bool) -> Option<Rc<Regex>> {
        let key = (pattern.to_owned(), ignore_case);
        if let Some(r) = self.regexes.borrow().get(&key) {
            return Some(Rc::clone(r));
        }
        let r = Rc::new(
            regex::RegexBuilder::new(pattern)
                .case_insensitive(ignore_case)
                .build()
                .ok()?,
        );
        self.regexes.borrow_mut().insert(key, Rc::clone(&r));
        Some(r)
    }

    fn text_test(&self, op: TextOp, v: &V, p: &V, ignore_case: bool) -> bool {
        let (V::Text(v) | V::Enum(v), V::Text(p)) = (v, p) else {
            return false;
        };
        if op == TextOp::Matches {
            return self.regex(p, ignore_case).is_some_and(|r| r.is_match(v));
        }
        let (v, p) = if ignore_case {
            (v.to_lowercase(), p.to_lowercase())
        } else {
            (v.clone(), p.clone())
        };
        match op {
            TextOp::Equals => v == p,
            TextOp::Contains => v.contains(&p),
            TextOp::StartsWith => v.starts_with(&p),
            TextOp::EndsWith => v.ends_with(&p),
            TextOp::Matches => false,
        }
    }

    // ---------------------------------------------------------------------------------------
    // Time windows

    pub fn in_window(&self, v: &V, w: &Window) -> bool {
        let as_of = &self.settings.as_of;
        let sub_day = |d: &Duration| matches!(d.unit, DurationUnit::Hour | DurationUnit::Minute);
        let exact = match w {
            Window::Last(d) | Window::Next(d) | Window::MoreThanAgo(d) | Window::LessThanAgo(d) => {
                sub_day(d)
            }
            Window::BetweenAgo { near, far } => sub_day(near) || sub_day(far),
            Window::Period { .. } => false,
        };
        if exact {
            let t = match v {
                V::Ts(t) => *t,
                V::Date(d) => match self.midnight(*d) {
                    Some(t) => t,
                    None => return false,
                },
                _ => return false,
            };
            let now = as_of.instant;
            let back = |d: &Duration| {
                duration(*d)
                    .and_then(Dur::checked_neg)
                    .and_then(|d| self.add_to_ts(now, d))
            };
            let fwd = |d: &Duration| duration(*d).and_then(|d| self.add_to_ts(now, d));
            return match w {
                Window::Last(d) => back(d).is_some_and(|lo| lo <= t && t <= now),
                Window::Next(d) => fwd(d).is_some_and(|hi| now <= t && t <= hi),
                Window::MoreThanAgo(d) => back(d).is_some_and(|lo| t < lo),
                Window::LessThanAgo(d) => back(d).is_some_and(|lo| lo < t && t <= now),
                Window::BetweenAgo { near, far } => match (back(far), back(near)) {
                    (Some(lo), Some(hi)) => lo <= t && t <= hi,
                    _ => false,
                },
                Window::Period { .. } => false,
            };
        }
        let Some(day) = self.local_date(v) else {
            return false;
        };
        let today = as_of.date;
        let back = |d: &Duration| shift_date(today, d, -1);
        let fwd = |d: &Duration| shift_date(today, d, 1);
        match w {
            Window::Last(d) => back(d).is_some_and(|lo| lo <= day && day <= today),
            Window::Next(d) => fwd(d).is_some_and(|hi| today <= day && day <= hi),
            Window::MoreThanAgo(d) => back(d).is_some_and(|lo| day < lo),
            Window::LessThanAgo(d) => back(d).is_some_and(|lo| lo < day && day <= today),
            Window::BetweenAgo { near, far } => match (back(far), back(near)) {
                (Some(lo), Some(hi)) => lo <= day && day <= hi,
                _ => false,
            },
            Window::Period { relative, unit } => {
                period(today, *relative, *unit).is_some_and(|(lo, hi)| lo <= day && day <= hi)
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Aggregates

    /// The records an aggregate looks at, for one record.
    pub fn related(&self, source: &AggSource, rec: Rec) -> Result<Related, EvalError> {
        let mut current = rec;
        let mut rows: Vec<usize> = Vec::new();
        for r in &source.path {
            let def = self.program.relation(*r);
            match def.kind {
                RelationKind::One => match self.follow_one(*r, current)? {
                    Some(next) => current = next,
                    None => {
                        return Ok(Related {
                            windowed: Vec::new(),
                            kept: Vec::new(),
                        });
                    }
                },
                RelationKind::Many => {
                    let key = self.key_of(current)?;
                    rows = Key::of(&key)
                        .and_then(|k| self.ix.children.get(r).and_then(|m| m.get(&k)))
                        .cloned()
                        .unwrap_or_default();
                    break;
                }
            }
        }
        let mut windowed = Vec::with_capacity(rows.len());
        for row in rows {
            let keep = match &source.window {
                None => true,
                Some((w, dated)) => {
                    let v = self.field(dated.entity, dated.field, row)?;
                    self.in_window(&v, w)
                }
            };
            if keep {
                windowed.push(row);
            }
        }
        let mut kept = Vec::with_capacity(windowed.len());
        for row in &windowed {
            let keep = match &source.filter {
                None => true,
                Some(f) => self.cond(
                    f,
                    Rec {
                        entity: source.entity,
                        row: *row,
                    },
                )?,
            };
            if keep {
                kept.push(*row);
            }
        }
        Ok(Related { windowed, kept })
    }

    pub fn aggregate(
        &self,
        func: AggFunc,
        source: &AggSource,
        value: Option<&Expr>,
        rec: Rec,
    ) -> Result<V, EvalError> {
        let related = self.related(source, rec)?;
        match func {
            AggFunc::Any => return Ok(V::Bool(!related.kept.is_empty())),
            AggFunc::Every => return Ok(V::Bool(related.kept.len() == related.windowed.len())),
            _ => {}
        }
        let Some(value) = value else {
            return Ok(int_len(related.kept.len()));
        };
        let mut values = Vec::with_capacity(related.kept.len());
        for row in &related.kept {
            let v = self.eval(
                value,
                Rec {
                    entity: source.entity,
                    row: *row,
                },
            )?;
            if v.is_known() {
                values.push(v);
            }
        }
        Ok(match func {
            AggFunc::Count => int_len(values.len()),
            AggFunc::CountDistinct => {
                let mut keys: Vec<String> = values.iter().map(V::group_key).collect();
                keys.sort();
                keys.dedup();
                int_len(keys.len())
            }
            AggFunc::Sum => sum(&values, &value.ty),
            AggFunc::Avg => {
                if values.is_empty() {
                    V::Unknown
                } else {
                    // Whole numbers and exact decimals: the exact sum divided once, so the result
                    // does not depend on the order of the records.
                    let total = if matches!(value.ty, Type::Integer | Type::Decimal) {
                        sum(&values, &value.ty).to_f64()
                    } else {
                        Some(values.iter().filter_map(V::to_f64).sum())
                    };
                    #[allow(clippy::cast_precision_loss)]
                    let n = values.len() as f64;
                    total.map_or(V::Unknown, |t| V::Num(t / n))
                }
            }
            AggFunc::Min | AggFunc::Max => {
                let want = if func == AggFunc::Min {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
                let mut best: Option<V> = None;
                for v in values {
                    best = match best {
                        None => Some(v),
                        Some(b) => Some(if compare(&v, &b) == Some(want) { v } else { b }),
                    };
                }
                best.unwrap_or(V::Unknown)
            }
            AggFunc::Any | AggFunc::Every => V::Unknown,
        })
    }

    // ---------------------------------------------------------------------------------------
    // Population functions

    /// The result of a population node for a record; each node is computed once per run.
    pub fn population(&self, node: &Expr, rec: Rec) -> Result<PopEntry, EvalError> {
        let id = std::ptr::from_ref(node) as usize;
        let cached = self.populations.borrow().get(&id).cloned();
        let entries = match cached {
            Some(c) => c,
            None => {
                let computed = Rc::new(self.compute_population(node)?);
                self.populations
                    .borrow_mut()
                    .insert(id, Rc::clone(&computed));
                computed
            }
        };
        Ok(entries.get(rec.row).cloned().unwrap_or(PopEntry {
            value: V::Unknown,
            rank: None,
            n: 0,
            group: None,
        }))
    }

    fn compute_population(&self, node: &Expr) -> Result<Vec<PopEntry>, EvalError> {
        let ExprKind::Population {
            func,
            entity,
            value,
            within,
        } = &node.kind
        else {
            return Ok(Vec::new());
        };
        let n_rows = self.rows(*entity);
        let mut values = Vec::with_capacity(n_rows);
        let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
        let mut group_values = Vec::with_capacity(n_rows);
        for row in 0..n_rows {
            let rec = Rec {
                entity: *entity,
                row,
            };
            values.push(self.eval(value, rec)?);
            let g = match within {
                Some(w) => Some(self.eval(w, rec)?),
                None => None,
            };
            let key = g.as_ref().map_or_else(String::new, V::group_key);
            groups.entry(key).or_default().push(row);
            group_values.push(g);
        }
        let mut out: Vec<PopEntry> = group_values
            .into_iter()
            .map(|group| PopEntry {
                value: V::Unknown,
                rank: None,
                n: 0,
                group,
            })
            .collect();
        for rows in groups.values() {
            let mut known: Vec<&V> = rows
                .iter()
                .filter_map(|r| values.get(*r))
                .filter(|v| v.is_known())
                .collect();
            known.sort_by(|a, b| compare(a, b).unwrap_or(Ordering::Equal));
            let n = known.len();
            // Exact sums from the largest value down: suffix[i] = sum of known[i..].
            let needs_sum = matches!(func, PopFunc::ShareOfTotal | PopFunc::CumulativeShare);
            let mut suffix: Vec<V> = Vec::new();
            if needs_sum {
                let mut acc = zero_of(&value.ty);
                suffix.resize(n + 1, acc.clone());
                for i in (0..n).rev() {
                    acc = match known.get(i) {
                        Some(v) => add_for_sum(&acc, v),
                        None => V::Unknown,
                    };
                    if let Some(s) = suffix.get_mut(i) {
                        *s = acc.clone();
                    }
                }
            }
            let total = suffix.first().and_then(V::to_f64);
            for row in rows {
                let Some(v) = values.get(*row) else { continue };
                if !v.is_known() {
                    if let Some(e) = out.get_mut(*row) {
                        e.n = n;
                    }
                    continue;
                }
                let less = known.partition_point(|k| compare(k, v) == Some(Ordering::Less));
                let not_greater = known.partition_point(|k| {
                    matches!(compare(k, v), Some(Ordering::Less | Ordering::Equal))
                });
                let rank = 1 + (n - not_greater);
                #[allow(clippy::cast_precision_loss)]
                let percentile = if n <= 1 {
                    0.0
                } else {
                    less as f64 / (n - 1) as f64
                };
                let result = match func {
                    PopFunc::Percentile => V::Pct(Pct::Float(percentile)),
                    PopFunc::Rank => int_len(rank),
                    // In whole numbers: `(r - 1) * k / (n - 1)`, rounded down, plus one.
                    PopFunc::Ntile(k) => {
                        let k = i128::from(*k);
                        let g = if n <= 1 {
                            1
                        } else {
                            (less as i128) * k / ((n - 1) as i128) + 1
                        };
                        V::Int(i64::try_from(g.min(k)).unwrap_or(i64::MAX))
                    }
                    PopFunc::ShareOfTotal => match (v.to_f64(), total) {
                        (Some(x), Some(t)) if t != 0.0 => V::Pct(Pct::Float(x / t)),
                        _ => V::Unknown,
                    },
                    PopFunc::CumulativeShare => {
                        match (suffix.get(less).and_then(V::to_f64), total) {
                            (Some(x), Some(t)) if t != 0.0 => V::Pct(Pct::Float(x / t)),
                            _ => V::Unknown,
                        }
                    }
                };
                if let Some(e) = out.get_mut(*row) {
                    e.value = result;
                    e.rank = Some(rank);
                    e.n = n;
                }
            }
        }
        Ok(out)
    }

    // ---------------------------------------------------------------------------------------
    // Tiers, scores and calls

    /// The index of the tier row the record falls in.
    pub fn tier(&self, id: TierSetId, rec: Rec) -> Result<Option<usize>, EvalError> {
        let Some(set) = self.program.tier_sets.get(id.index()) else {
            return Ok(None);
        };
        for (i, row) in set.rows.iter().enumerate() {
            match &row.condition {
                None => return Ok(Some(i)),
                Some(c) => {
                    if self.cond(c, rec)? {
                        return Ok(Some(i));
                    }
                }
            }
        }
        Ok(None)
    }

    /// The score of the record; `None` when the points overflow.
    pub fn score(&self, id: ScoreId, rec: Rec) -> Result<Option<i64>, EvalError> {
        let Some(def) = self.program.scores.get(id.index()) else {
            return Ok(None);
        };
        let mut total: i64 = 0;
        for rule in &def.rules {
            if self.cond(&rule.condition, rec)? {
                match total.checked_add(rule.points) {
                    Some(t) => total = t,
                    None => return Ok(None),
                }
            }
        }
        Ok(Some(total))
    }

    fn call(&self, func: Builtin, args: &[Expr], rec: Rec) -> Result<V, EvalError> {
        if func == Builtin::Coalesce {
            for a in args {
                let v = self.eval(a, rec)?;
                if v.is_known() {
                    return Ok(v);
                }
            }
            return Ok(V::Unknown);
        }
        let Some(first) = args.first() else {
            return Ok(V::Unknown);
        };
        let v = self.eval(first, rec)?;
        Ok(match (func, v) {
            (_, V::Unknown) => V::Unknown,
            (Builtin::Lower, V::Text(s)) => V::Text(s.to_lowercase()),
            (Builtin::Upper, V::Text(s)) => V::Text(s.to_uppercase()),
            (Builtin::Length, V::Text(s)) => int_len(s.chars().count()),
            (Builtin::Length, V::List(xs)) => int_len(xs.len()),
            (Builtin::Abs, v) => abs(v),
            (Builtin::Round, V::Dec(d)) => dec_round(d).map_or(V::Unknown, V::Dec),
            (Builtin::Round, V::Num(f)) => V::Num(f.round()),
            (Builtin::Round, v @ V::Int(_)) => v,
            (Builtin::Year | Builtin::Month | Builtin::Day, v) => match self.local_date(&v) {
                Some(d) => V::Int(i64::from(match func {
                    Builtin::Year => d.year(),
                    Builtin::Month => i16::from(d.month()),
                    _ => i16::from(d.day()),
                })),
                None => V::Unknown,
            },
            _ => V::Unknown,
        })
    }
}

fn int_len(n: usize) -> V {
    i64::try_from(n).map_or(V::Unknown, V::Int)
}

fn negate(v: &V) -> V {
    match v {
        V::Int(i) => i.checked_neg().map_or(V::Unknown, V::Int),
        V::Dec(d) => V::Dec(Decimal {
            mantissa: -d.mantissa,
            scale: d.scale,
        }),
        V::Num(f) => V::Num(-f),
        V::Pct(Pct::Exact(d)) => V::Pct(Pct::Exact(Decimal {
            mantissa: -d.mantissa,
            scale: d.scale,
        })),
        V::Pct(Pct::Float(f)) => V::Pct(Pct::Float(-f)),
        V::Dur(d) => d.checked_neg().map_or(V::Unknown, V::Dur),
        _ => V::Unknown,
    }
}

fn abs(v: V) -> V {
    let negative = match &v {
        V::Int(i) => *i < 0,
        V::Dec(d) | V::Pct(Pct::Exact(d)) => d.mantissa < 0,
        V::Num(f) | V::Pct(Pct::Float(f)) => *f < 0.0,
        V::Dur(d) => d.ordering_micros() < 0,
        _ => return V::Unknown,
    };
    if negative { negate(&v) } else { v }
}

fn compare_op(op: CompareOp, l: &V, r: &V) -> bool {
    if op == CompareOp::Eq {
        return equal(l, r, false);
    }
    let Some(ord) = compare(l, r) else {
        return false;
    };
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
    }
}

fn list_has(list: &V, x: &V, ignore_case: bool) -> bool {
    let V::List(items) = list else {
        return false;
    };
    x.is_known() && items.iter().any(|i| equal(i, x, ignore_case))
}

/// A duration literal as a runtime duration.
pub fn duration(d: Duration) -> Option<Dur> {
    let a = d.amount;
    let mut out = Dur::default();
    match d.unit {
        DurationUnit::Minute => out.micros = a.checked_mul(60_000_000)?,
        DurationUnit::Hour => out.micros = a.checked_mul(3_600_000_000)?,
        DurationUnit::Day => out.days = a,
        DurationUnit::Week => out.days = a.checked_mul(7)?,
        DurationUnit::Month => out.months = a,
        DurationUnit::Quarter => out.months = a.checked_mul(3)?,
        DurationUnit::Year => out.months = a.checked_mul(12)?,
    }
    Some(out)
}

/// A date plus a duration: calendar months (clamped to the month's last day), then days; time
/// of day is dropped.
fn add_to_date(d: Date, x: Dur) -> Option<Date> {
    let mut d = d;
    if x.months != 0 {
        d = d
            .checked_add(jiff::Span::new().try_months(x.months).ok()?)
            .ok()?;
    }
    let days = x.days.checked_add(x.micros.div_euclid(MICROS_PER_DAY))?;
    date_from_day_number(day_number(d).checked_add(days)?)
}

/// `today` moved by a window's duration, backwards (`sign` -1) or forwards (1).
fn shift_date(today: Date, d: &Duration, sign: i64) -> Option<Date> {
    let x = duration(*d)?.checked_mul(sign)?;
    add_to_date(today, x)
}

/// The first and last day of a calendar period relative to `today`.
fn period(today: Date, relative: PeriodRelative, unit: PeriodUnit) -> Option<(Date, Date)> {
    let step: i64 = match relative {
        PeriodRelative::This => 0,
        PeriodRelative::Last => -1,
        PeriodRelative::Next => 1,
    };
    let months = |n: i64| Dur {
        months: n,
        ..Dur::default()
    };
    let days = |n: i64| Dur {
        days: n,
        ..Dur::default()
    };
    let (start, len) = match unit {
        PeriodUnit::Week => {
            let monday = add_to_date(
                today,
                days(-i64::from(today.weekday().to_monday_zero_offset())),
            )?;
            (add_to_date(monday, days(7 * step))?, days(7))
        }
        PeriodUnit::Month => (
            add_to_date(today.first_of_month(), months(step))?,
            months(1),
        ),
        PeriodUnit::Quarter => {
            let first_month = (today.month() - 1) / 3 * 3 + 1;
            let q = Date::new(today.year(), first_month, 1).ok()?;
            (add_to_date(q, months(3 * step))?, months(3))
        }
        PeriodUnit::Year => (
            add_to_date(today.first_of_year(), months(12 * step))?,
            months(12),
        ),
    };
    let end = add_to_date(add_to_date(start, len)?, days(-1))?;
    Some((start, end))
}

/// The next yearly recurrence of `d` on or after `today`; 29 February falls on 28 February in
/// other years.
fn anniversary(d: Date, today: Date) -> Option<Date> {
    let on = |year: i16| {
        let first = Date::new(year, d.month(), 1).ok()?;
        Date::new(year, d.month(), d.day().min(first.days_in_month())).ok()
    };
    let this_year = on(today.year())?;
    if this_year >= today {
        Some(this_year)
    } else {
        on(today.year().checked_add(1)?)
    }
}

fn zero_of(ty: &Type) -> V {
    match ty {
        Type::Integer => V::Int(0),
        Type::Decimal => V::Dec(Decimal {
            mantissa: 0,
            scale: 0,
        }),
        Type::Duration => V::Dur(Dur::default()),
        Type::Percent => V::Pct(Pct::Float(0.0)),
        _ => V::Num(0.0),
    }
}

/// `acc + v` for sums: exact for integers and decimals, unknown on overflow.
fn add_for_sum(acc: &V, v: &V) -> V {
    match (acc, v) {
        (V::Unknown, _) => V::Unknown,
        (V::Int(a), V::Int(b)) => a.checked_add(*b).map_or(V::Unknown, V::Int),
        (V::Dec(a), V::Dec(b)) => dec_add(*a, *b).map_or(V::Unknown, V::Dec),
        (V::Dur(a), V::Dur(b)) => a.checked_add(*b).map_or(V::Unknown, V::Dur),
        (V::Pct(a), V::Pct(b)) => V::Pct(Pct::Float(a.to_f64() + b.to_f64())),
        (a, b) => match (a.to_f64(), b.to_f64()) {
            (Some(x), Some(y)) => V::Num(x + y),
            _ => V::Unknown,
        },
    }
}

/// The sum of known values (0 over nothing), in row order.
fn sum(values: &[V], ty: &Type) -> V {
    let mut acc = zero_of(ty);
    for v in values {
        acc = add_for_sum(&acc, v);
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i16, m: i8, day: i8) -> Date {
        Date::new(y, m, day).unwrap()
    }

    #[test]
    fn calendar_months_clamp_to_the_month_end() {
        let month = |n| Dur {
            months: n,
            ..Dur::default()
        };
        assert_eq!(
            add_to_date(d(2026, 1, 31), month(-1)),
            Some(d(2025, 12, 31))
        );
        assert_eq!(add_to_date(d(2026, 3, 31), month(-1)), Some(d(2026, 2, 28)));
        assert_eq!(add_to_date(d(2024, 3, 31), month(-1)), Some(d(2024, 2, 29)));
        assert_eq!(add_to_date(d(2024, 2, 29), month(12)), Some(d(2025, 2, 28)));
    }

    #[test]
    fn periods() {
        let today = d(2026, 11, 20); // a Friday
        assert_eq!(
            period(today, PeriodRelative::This, PeriodUnit::Week),
            Some((d(2026, 11, 16), d(2026, 11, 22)))
        );
        assert_eq!(
            period(today, PeriodRelative::Last, PeriodUnit::Quarter),
            Some((d(2026, 7, 1), d(2026, 9, 30)))
        );
        assert_eq!(
            period(today, PeriodRelative::Next, PeriodUnit::Year),
            Some((d(2027, 1, 1), d(2027, 12, 31)))
        );
        assert_eq!(
            period(d(2026, 3, 31), PeriodRelative::Last, PeriodUnit::Month),
            Some((d(2026, 2, 1), d(2026, 2, 28)))
        );
    }

    #[test]
    fn anniversaries() {
        assert_eq!(
            anniversary(d(1992, 2, 29), d(2027, 1, 5)),
            Some(d(2027, 2, 28))
        );
        assert_eq!(
            anniversary(d(1992, 2, 29), d(2028, 1, 5)),
            Some(d(2028, 2, 29))
        );
        assert_eq!(
            anniversary(d(1990, 11, 20), d(2026, 11, 20)),
            Some(d(2026, 11, 20))
        );
        assert_eq!(
            anniversary(d(1990, 11, 19), d(2026, 11, 20)),
            Some(d(2027, 11, 19))
        );
    }
}

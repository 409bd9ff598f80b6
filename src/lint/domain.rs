//! The abstract domain the lints reason in: a condition becomes a boolean formula over atoms, each
//! atom a constraint on one value of the record (a field, a definition, a tier...). Values are
//! described by sets: unions of intervals for numbers and dates, sets of enum values, sets (or
//! complements of sets) of texts. A test on an unknown value is false (closed world), so an atom
//! holds only when its value is known; its negation holds for unknown values too.
//!
//! Everything here over-approximates: whatever the domain cannot read becomes an opaque yes/no
//! atom, and "never true" is only claimed when no combination of values could make the condition
//! hold. That keeps the lints sound: they may miss a problem, never invent one.

use std::collections::{BTreeSet, HashMap};

use crate::ir::{CompareOp, Decimal, Expr, ExprKind, Program, Type, Value};

/// Numbers are compared as integers scaled by 10^18 (exact for every literal that fits).
const SCALE: u32 = 18;

/// How many alternatives a condition may expand into before the lints give up on it.
const MAX_TERMS: usize = 512;

/// The value of a bound: a scaled number or a day count.
type Point = i128;

/// One end of an interval: `None` is unbounded; `closed` says whether the point itself belongs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct End {
    at: Point,
    closed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interval {
    lo: Option<End>,
    hi: Option<End>,
}

/// A set of values of one kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Set {
    /// Ordered values: a union of intervals. `step` is the distance between neighbouring values
    /// for whole numbers and days (so that `> 5` is `>= 6`), `None` for values with fractions.
    Ordered {
        parts: Vec<Interval>,
        step: Option<Point>,
    },
    /// Values of an enum (or yes/no: 0 is false, 1 is true), out of `size`.
    Finite { size: u32, values: BTreeSet<u32> },
    /// Texts: the listed ones, or every text except the listed ones.
    Texts {
        values: BTreeSet<String>,
        complement: bool,
    },
}

impl Set {
    fn ordered(step: Option<Point>, lo: Option<End>, hi: Option<End>) -> Set {
        Set::Ordered {
            parts: vec![Interval { lo, hi }],
            step,
        }
        .normalised()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        match self {
            Set::Ordered { parts, .. } => parts.is_empty(),
            Set::Finite { values, .. } => values.is_empty(),
            Set::Texts { values, complement } => !complement && values.is_empty(),
        }
    }

    /// Closes open ends of whole-number intervals and drops empty intervals.
    fn normalised(self) -> Set {
        match self {
            Set::Ordered { parts, step } => {
                let mut out = Vec::new();
                for mut iv in parts {
                    if let Some(s) = step {
                        if let Some(lo) = iv.lo.as_mut().filter(|e| !e.closed) {
                            lo.at = lo.at.saturating_add(s);
                            lo.closed = true;
                        }
                        if let Some(hi) = iv.hi.as_mut().filter(|e| !e.closed) {
                            hi.at = hi.at.saturating_sub(s);
                            hi.closed = true;
                        }
                    }
                    let empty = match (iv.lo, iv.hi) {
                        (Some(lo), Some(hi)) => {
                            lo.at > hi.at || (lo.at == hi.at && !(lo.closed && hi.closed))
                        }
                        _ => false,
                    };
                    if !empty {
                        out.push(iv);
                    }
                }
                Set::Ordered { parts: out, step }
            }
            other => other,
        }
    }

    /// The values in both sets. Sets of different kinds (which a checked program never pairs)
    /// give the first set unchanged, which only over-approximates.
    fn intersect(&self, other: &Set) -> Set {
        match (self, other) {
            (Set::Ordered { parts: a, step }, Set::Ordered { parts: b, .. }) => {
                let mut parts = Vec::new();
                for x in a {
                    for y in b {
                        parts.push(Interval {
                            lo: max_lo(x.lo, y.lo),
                            hi: min_hi(x.hi, y.hi),
                        });
                    }
                }
                Set::Ordered { parts, step: *step }.normalised()
            }
            (Set::Finite { size, values: a }, Set::Finite { values: b, .. }) => Set::Finite {
                size: *size,
                values: a.intersection(b).copied().collect(),
            },
            (
                Set::Texts {
                    values: a,
                    complement: ca,
                },
                Set::Texts {
                    values: b,
                    complement: cb,
                },
            ) => match (ca, cb) {
                (false, false) => Set::Texts {
                    values: a.intersection(b).cloned().collect(),
                    complement: false,
                },
                (false, true) => Set::Texts {
                    values: a.difference(b).cloned().collect(),
                    complement: false,
                },
                (true, false) => Set::Texts {
                    values: b.difference(a).cloned().collect(),
                    complement: false,
                },
                (true, true) => Set::Texts {
                    values: a.union(b).cloned().collect(),
                    complement: true,
                },
            },
            _ => self.clone(),
        }
    }

    /// Every value of the kind that is not in the set.
    fn complement(&self) -> Set {
        match self {
            Set::Ordered { parts, step } => {
                let mut out = Set::ordered(*step, None, None);
                for iv in parts {
                    let mut outside = Vec::new();
                    if let Some(lo) = iv.lo {
                        outside.push(Interval {
                            lo: None,
                            hi: Some(End {
                                at: lo.at,
                                closed: !lo.closed,
                            }),
                        });
                    }
                    if let Some(hi) = iv.hi {
                        outside.push(Interval {
                            lo: Some(End {
                                at: hi.at,
                                closed: !hi.closed,
                            }),
                            hi: None,
                        });
                    }
                    let outside = Set::Ordered {
                        parts: outside,
                        step: *step,
                    }
                    .normalised();
                    out = out.intersect(&outside);
                }
                out
            }
            Set::Finite { size, values } => Set::Finite {
                size: *size,
                values: (0..*size).filter(|v| !values.contains(v)).collect(),
            },
            Set::Texts { values, complement } => Set::Texts {
                values: values.clone(),
                complement: !complement,
            },
        }
    }

    /// True when every value of `self` is in `other`.
    fn within(&self, other: &Set) -> bool {
        self.intersect(&other.complement()).is_empty()
    }
}

fn max_lo(a: Option<End>, b: Option<End>) -> Option<End> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(x), Some(y)) => Some(if x.at > y.at || (x.at == y.at && !x.closed) {
            x
        } else {
            y
        }),
    }
}

fn min_hi(a: Option<End>, b: Option<End>) -> Option<End> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(x), Some(y)) => Some(if x.at < y.at || (x.at == y.at && !x.closed) {
            x
        } else {
            y
        }),
    }
}

/// A value of the record that atoms talk about.
#[derive(Clone, Debug)]
pub struct Subject<'p> {
    pub expr: &'p Expr,
    /// Whether the value can be unknown for some record.
    pub may_be_unknown: bool,
}

/// What an atom says about its subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Constraint {
    /// The value is known and in the set.
    In(Set),
    /// The value is known.
    Known,
}

#[derive(Clone, Debug)]
pub struct Atom {
    pub subject: usize,
    pub constraint: Constraint,
}

/// A condition as a boolean formula; negations are pushed to the atoms.
#[derive(Clone, Debug)]
pub enum Formula {
    True,
    False,
    /// An atom, or its negation when `positive` is false.
    Lit {
        atom: usize,
        positive: bool,
    },
    And(Vec<Formula>),
    Or(Vec<Formula>),
}

impl Formula {
    #[must_use]
    pub fn negated(self) -> Formula {
        match self {
            Formula::True => Formula::False,
            Formula::False => Formula::True,
            Formula::Lit { atom, positive } => Formula::Lit {
                atom,
                positive: !positive,
            },
            Formula::And(xs) => Formula::Or(xs.into_iter().map(Formula::negated).collect()),
            Formula::Or(xs) => Formula::And(xs.into_iter().map(Formula::negated).collect()),
        }
    }

    /// The atoms this formula mentions.
    pub fn atoms(&self, out: &mut BTreeSet<usize>) {
        match self {
            Formula::True | Formula::False => {}
            Formula::Lit { atom, .. } => {
                out.insert(*atom);
            }
            Formula::And(xs) | Formula::Or(xs) => xs.iter().for_each(|x| x.atoms(out)),
        }
    }
}

/// The answer to "can this hold?"; `Unknown` when the condition is too large to decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sat {
    Yes,
    No,
    Unknown,
}

/// Translates conditions into formulas, sharing subjects and atoms between them, and decides
/// whether formulas can hold.
pub struct Domain<'p> {
    program: &'p Program,
    pub subjects: Vec<Subject<'p>>,
    subject_keys: HashMap<String, usize>,
    pub atoms: Vec<Atom>,
}

impl<'p> Domain<'p> {
    #[must_use]
    pub fn new(program: &'p Program) -> Self {
        Domain {
            program,
            subjects: Vec::new(),
            subject_keys: HashMap::new(),
            atoms: Vec::new(),
        }
    }

    /// The subject for a value expression: equal expressions (wherever written) share one.
    pub fn subject(&mut self, expr: &'p Expr) -> usize {
        let key = crate::ir::dump_expr(self.program, expr);
        if let Some(i) = self.subject_keys.get(&key) {
            return *i;
        }
        let i = self.subjects.len();
        self.subjects.push(Subject {
            expr,
            may_be_unknown: may_be_unknown(self.program, expr),
        });
        self.subject_keys.insert(key, i);
        i
    }

    fn atom(&mut self, subject: usize, constraint: Constraint) -> Formula {
        let atom = self.atoms.len();
        self.atoms.push(Atom {
            subject,
            constraint,
        });
        Formula::Lit {
            atom,
            positive: true,
        }
    }

    /// An opaque yes/no atom for a condition the domain does not read: it holds or it does not.
    fn opaque(&mut self, expr: &'p Expr) -> Formula {
        let s = self.subject(expr);
        if let Some(sub) = self.subjects.get_mut(s) {
            sub.may_be_unknown = false;
        }
        self.atom(s, Constraint::In(bool_set(true)))
    }

    /// The formula of a condition (an expression of type yes/no).
    pub fn formula(&mut self, e: &'p Expr) -> Formula {
        match &e.kind {
            ExprKind::Literal(Value::Bool(b)) => {
                if *b {
                    Formula::True
                } else {
                    Formula::False
                }
            }
            ExprKind::And(xs) => Formula::And(xs.iter().map(|x| self.formula(x)).collect()),
            ExprKind::Or(xs) => Formula::Or(xs.iter().map(|x| self.formula(x)).collect()),
            ExprKind::Not(x) => {
                // `is unknown` on a value that is always known is W0100's business.
                if let ExprKind::IsKnown(v) = &x.kind
                    && !may_be_unknown(self.program, v)
                {
                    return self.opaque(e);
                }
                self.formula(x).negated()
            }
            ExprKind::IsKnown(v) => {
                let s = self.subject(v);
                self.atom(s, Constraint::Known)
            }
            ExprKind::Compare { op, lhs, rhs } => self.compare(e, *op, lhs, rhs),
            ExprKind::Between { value, low, high } => {
                match (self.point(value, low), self.point(value, high)) {
                    (Some(lo), Some(hi)) => {
                        let set = Set::ordered(
                            step(&value.ty),
                            Some(End {
                                at: lo,
                                closed: true,
                            }),
                            Some(End {
                                at: hi,
                                closed: true,
                            }),
                        );
                        let s = self.subject(value);
                        self.atom(s, Constraint::In(set))
                    }
                    _ => self.opaque(e),
                }
            }
            ExprKind::InList {
                value,
                options,
                ignore_case: false,
            } => {
                let mut set: Option<Set> = None;
                for o in options {
                    let Some(one) = self.equal_set(value, o) else {
                        return self.opaque(e);
                    };
                    set = Some(match set {
                        None => one,
                        Some(acc) => union(&acc, &one),
                    });
                }
                match set {
                    Some(set) => {
                        let s = self.subject(value);
                        self.atom(s, Constraint::In(set))
                    }
                    None => self.opaque(e),
                }
            }
            _ if e.ty == Type::Bool && is_value(e) => {
                let s = self.subject(e);
                self.atom(s, Constraint::In(bool_set(true)))
            }
            _ => self.opaque(e),
        }
    }

    fn compare(&mut self, whole: &'p Expr, op: CompareOp, lhs: &'p Expr, rhs: &'p Expr) -> Formula {
        // The constant may be on either side: `100 < arr` is `arr > 100`.
        let (value, constant, op) = if is_constant(rhs) {
            (lhs, rhs, op)
        } else if is_constant(lhs) {
            let flipped = match op {
                CompareOp::Eq => CompareOp::Eq,
                CompareOp::Lt => CompareOp::Gt,
                CompareOp::Le => CompareOp::Ge,
                CompareOp::Gt => CompareOp::Lt,
                CompareOp::Ge => CompareOp::Le,
            };
            (rhs, lhs, flipped)
        } else {
            return self.opaque(whole);
        };
        if is_constant(value) {
            return self.opaque(whole);
        }
        let set = if op == CompareOp::Eq {
            self.equal_set(value, constant)
        } else {
            self.point(value, constant).map(|at| {
                let st = step(&value.ty);
                match op {
                    CompareOp::Lt => Set::ordered(st, None, Some(End { at, closed: false })),
                    CompareOp::Le => Set::ordered(st, None, Some(End { at, closed: true })),
                    CompareOp::Gt => Set::ordered(st, Some(End { at, closed: false }), None),
                    _ => Set::ordered(st, Some(End { at, closed: true }), None),
                }
            })
        };
        match set {
            Some(set) => {
                let s = self.subject(value);
                self.atom(s, Constraint::In(set))
            }
            None => self.opaque(whole),
        }
    }

    /// The set `{constant}` for an equality test on `value`, when the domain can read both.
    fn equal_set(&self, value: &Expr, constant: &Expr) -> Option<Set> {
        let c = constant_value(constant)?;
        match (&value.ty, c) {
            (Type::Enum(id), Value::Enum(cid, i)) if id == cid => {
                let size = u32::try_from(self.program.enums.get(id.index())?.values.len()).ok()?;
                Some(Set::Finite {
                    size,
                    values: [*i].into_iter().collect(),
                })
            }
            (Type::Bool, Value::Bool(b)) => Some(bool_set(*b)),
            (Type::Text, Value::Text(t)) => Some(Set::Texts {
                values: [t.clone()].into_iter().collect(),
                complement: false,
            }),
            _ => {
                let at = self.point(value, constant)?;
                let end = Some(End { at, closed: true });
                Some(Set::ordered(step(&value.ty), end, end))
            }
        }
    }

    /// A constant compared with `value`, as a point on the value's line.
    fn point(&self, value: &Expr, constant: &Expr) -> Option<Point> {
        let c = constant_value(constant)?;
        match (&value.ty, c) {
            (Type::Integer, Value::Integer(i)) => scaled(Decimal {
                mantissa: i128::from(*i),
                scale: 0,
            }),
            (Type::Decimal, Value::Decimal(d)) | (Type::Percent, Value::Percent(d)) => scaled(*d),
            (Type::Decimal, Value::Integer(i)) => scaled(Decimal {
                mantissa: i128::from(*i),
                scale: 0,
            }),
            (Type::Date, Value::Date(d)) => {
                let epoch = jiff::civil::date(1970, 1, 1);
                Some(i128::from(d.since(epoch).ok()?.get_days()))
            }
            _ => None,
        }
    }

    /// Whether `f` can hold for some record.
    #[must_use]
    pub fn sat(&self, f: &Formula) -> Sat {
        let Some(terms) = dnf(f) else {
            return Sat::Unknown;
        };
        for term in &terms {
            if self.term_sat(term) {
                return Sat::Yes;
            }
        }
        Sat::No
    }

    /// Whether a conjunction of literals can hold.
    fn term_sat(&self, term: &[(usize, bool)]) -> bool {
        // Per subject: may it be unknown, and which known values remain.
        let mut state: HashMap<usize, (bool, Option<Set>)> = HashMap::new();
        for (atom, positive) in term {
            let Some(a) = self.atoms.get(*atom) else {
                continue;
            };
            let unknown_ok = self
                .subjects
                .get(a.subject)
                .is_some_and(|s| s.may_be_unknown);
            let entry = state.entry(a.subject).or_insert((unknown_ok, None));
            match (&a.constraint, positive) {
                (Constraint::Known, true) => entry.0 = false,
                (Constraint::Known, false) => {
                    entry.1 = Some(Set::Finite {
                        size: 0,
                        values: BTreeSet::new(),
                    });
                }
                (Constraint::In(set), true) => {
                    entry.0 = false;
                    entry.1 = Some(match &entry.1 {
                        Some(cur) => cur.intersect(set),
                        None => set.clone(),
                    });
                }
                (Constraint::In(set), false) => {
                    let outside = set.complement();
                    entry.1 = Some(match &entry.1 {
                        Some(cur) => cur.intersect(&outside),
                        None => outside,
                    });
                }
            }
        }
        state.values().all(|(unknown_ok, values)| {
            *unknown_ok || values.as_ref().is_none_or(|v| !v.is_empty())
        })
    }

    /// When `f` constrains exactly one subject, that subject.
    #[must_use]
    pub fn only_subject(&self, f: &Formula) -> Option<usize> {
        let mut atoms = BTreeSet::new();
        f.atoms(&mut atoms);
        let subjects: BTreeSet<usize> = atoms
            .iter()
            .filter_map(|a| self.atoms.get(*a).map(|a| a.subject))
            .collect();
        match subjects.len() {
            1 => subjects.into_iter().next(),
            _ => None,
        }
    }

    /// A formula that holds when the subject is known.
    pub fn known(&mut self, subject: usize) -> Formula {
        self.atom(subject, Constraint::Known)
    }
}

fn union(a: &Set, b: &Set) -> Set {
    a.complement().intersect(&b.complement()).complement()
}

/// True when `a` and `b` describe the same values (used by tests of the domain).
#[must_use]
pub fn same_values(a: &Set, b: &Set) -> bool {
    a.within(b) && b.within(a)
}

/// `{true}` or `{false}` as a set of yes/no values.
fn bool_set(b: bool) -> Set {
    Set::Finite {
        size: 2,
        values: [u32::from(b)].into_iter().collect(),
    }
}

/// The distance between neighbouring values of a type with discrete values.
fn step(ty: &Type) -> Option<Point> {
    match ty {
        Type::Integer => Some(10_i128.pow(SCALE)),
        Type::Date => Some(1),
        _ => None,
    }
}

/// A decimal scaled to [`SCALE`] digits, when it fits.
fn scaled(d: Decimal) -> Option<Point> {
    let up = SCALE.checked_sub(d.scale)?;
    d.mantissa.checked_mul(10_i128.checked_pow(up)?)
}

fn is_constant(e: &Expr) -> bool {
    constant_value(e).is_some()
}

/// A literal, seen through a numeric widening (`Coerce` of an integer literal to a decimal).
fn constant_value(e: &Expr) -> Option<&Value> {
    match &e.kind {
        ExprKind::Literal(v) => Some(v),
        ExprKind::Coerce(inner) => match (&inner.kind, &e.ty) {
            (ExprKind::Literal(v @ Value::Integer(_)), Type::Decimal) => Some(v),
            _ => None,
        },
        _ => None,
    }
}

/// Yes/no expressions that are values rather than tests: fields, definitions, aggregates.
fn is_value(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Field(_)
            | ExprKind::Lookup { .. }
            | ExprKind::Definition(_)
            | ExprKind::Param(_)
            | ExprKind::Aggregate { .. }
            | ExprKind::Call { .. }
    )
}

/// Whether a value can be unknown for some record. Only values that the schema promises are
/// always there count as always known; everything else may be unknown.
fn may_be_unknown(program: &Program, e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Field(f) => program
            .entities
            .get(f.entity.index())
            .and_then(|en| en.fields.get(f.field.index()))
            .is_none_or(|def| def.optional),
        ExprKind::Tier(_) => false,
        ExprKind::Coerce(inner) => e.nullable || may_be_unknown(program, inner),
        _ => true,
    }
}

/// The formula as a disjunction of conjunctions of literals; `None` when it grows too large.
fn dnf(f: &Formula) -> Option<Vec<Vec<(usize, bool)>>> {
    match f {
        Formula::True => Some(vec![Vec::new()]),
        Formula::False => Some(Vec::new()),
        Formula::Lit { atom, positive } => Some(vec![vec![(*atom, *positive)]]),
        Formula::Or(xs) => {
            let mut out = Vec::new();
            for x in xs {
                out.extend(dnf(x)?);
                if out.len() > MAX_TERMS {
                    return None;
                }
            }
            Some(out)
        }
        Formula::And(xs) => {
            let mut out: Vec<Vec<(usize, bool)>> = vec![Vec::new()];
            for x in xs {
                let part = dnf(x)?;
                let mut next = Vec::new();
                for a in &out {
                    for b in &part {
                        let mut t = a.clone();
                        t.extend(b.iter().copied());
                        next.push(t);
                    }
                }
                if next.len() > MAX_TERMS {
                    return None;
                }
                out = next;
            }
            Some(out)
        }
    }
}

//! Evaluation over files read piece by piece (see `engine::load::stream`).
//!
//! Two kinds of entity are streamed:
//! - the related records of a `many` relation that rules only aggregate, with conditions and
//!   values on those records' own fields (`count(orders in last 30 days where status is
//!   paid)`): each piece is aggregated per parent record and the pieces' results are added up
//!   in arrays with one slot per parent record;
//! - an entity whose rules look at each record on its own (no related records, no population
//!   functions): each piece is evaluated by itself and the results put together.
//!
//! Everything else (parents, records looked up through `one` relations, values ranked by
//! population functions) is held whole.

use std::collections::{BTreeMap, HashSet};

use datafusion::arrow::array::{Array, ArrayRef, UInt32Array};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::DataType;

use datafusion::arrow::record_batch::RecordBatch;

use super::dense::{Op, Slots};
use super::{EngineError, Output, Request, outputs_by_entity};
use crate::diagnostics::Diagnostic;
use crate::engine::load::stream::Stream;
use crate::ir::{EntityId, Expr, ExprKind, Program};

type Result<T> = std::result::Result<T, EngineError>;

fn engine(e: impl std::fmt::Display) -> EngineError {
    EngineError::Engine(e.to_string())
}

/// The entities of a request that can be read piece by piece.
#[must_use]
pub fn streamable(program: &Program, request: &Request) -> HashSet<EntityId> {
    let outputs = outputs_by_entity(program, request);
    let mut walk = Walk {
        program,
        whole: HashSet::new(),
        aggregated: HashSet::new(),
        not_row_level: HashSet::new(),
        seen: HashSet::new(),
    };
    for (entity, outs) in &outputs {
        for o in outs {
            match o {
                Output::Segment(id) => walk.expr(*entity, &program.segments[id.index()].condition),
                Output::TierSet(id) => {
                    for row in &program.tier_sets[id.index()].rows {
                        if let Some(c) = &row.condition {
                            walk.expr(*entity, c);
                        }
                    }
                }
                Output::Score(id) => {
                    for rule in &program.scores[id.index()].rules {
                        walk.expr(*entity, &rule.condition);
                    }
                }
                Output::Extra(_, e) => walk.expr(*entity, e),
            }
        }
    }
    let mut out = HashSet::new();
    for e in &walk.aggregated {
        if !walk.whole.contains(e) && !outputs.contains_key(e) {
            out.insert(*e);
        }
    }
    for e in outputs.keys() {
        if !walk.whole.contains(e)
            && !walk.not_row_level.contains(e)
            && !walk.aggregated.contains(e)
        {
            out.insert(*e);
        }
    }
    out
}

struct Walk<'a> {
    program: &'a Program,
    /// Entities that must be held whole.
    whole: HashSet<EntityId>,
    /// Entities aggregated by a parent with row-level conditions and values only.
    aggregated: HashSet<EntityId>,
    /// Entities whose rules use related records or population functions.
    not_row_level: HashSet<EntityId>,
    seen: HashSet<String>,
}

impl Walk<'_> {
    fn expr(&mut self, scope: EntityId, e: &Expr) {
        let p = self.program;
        match &e.kind {
            ExprKind::Lookup { relation, value } => {
                let target = p.relation(*relation).target;
                self.whole.insert(target);
                self.not_row_level.insert(scope);
                self.expr(target, value);
            }
            ExprKind::Aggregate { source, value, .. } => {
                self.not_row_level.insert(scope);
                let inner: Vec<&Expr> = source
                    .filter
                    .iter()
                    .map(AsRef::as_ref)
                    .chain(value.iter().map(AsRef::as_ref))
                    .collect();
                let simple = source.path.len() == 1
                    && inner.iter().all(|x| row_level(p, x, &mut HashSet::new()));
                if simple {
                    self.aggregated.insert(source.entity);
                } else {
                    for r in &source.path {
                        self.whole.insert(p.relation(*r).target);
                    }
                    self.whole.insert(source.entity);
                    for x in inner {
                        self.expr(source.entity, x);
                    }
                }
            }
            ExprKind::Population {
                entity,
                value,
                within,
                ..
            } => {
                self.whole.insert(*entity);
                self.not_row_level.insert(scope);
                self.expr(*entity, value);
                if let Some(w) = within {
                    self.expr(*entity, w);
                }
            }
            ExprKind::Definition(id) => {
                if self.seen.insert(format!("d{}", id.0)) {
                    let d = &p.definitions[id.index()];
                    self.expr(d.entity, &d.value);
                }
            }
            ExprKind::Segment(id) => {
                if self.seen.insert(format!("s{}", id.0)) {
                    let s = &p.segments[id.index()];
                    self.expr(s.entity, &s.condition);
                }
            }
            ExprKind::Tier(id) => {
                if self.seen.insert(format!("t{}", id.0)) {
                    let t = &p.tier_sets[id.index()];
                    for row in &t.rows {
                        if let Some(c) = &row.condition {
                            self.expr(t.entity, c);
                        }
                    }
                }
            }
            ExprKind::Score(id) => {
                if self.seen.insert(format!("c{}", id.0)) {
                    let s = &p.scores[id.index()];
                    for rule in &s.rules {
                        self.expr(s.entity, &rule.condition);
                    }
                }
            }
            _ => {
                for child in e.operands() {
                    self.expr(scope, child);
                }
            }
        }
    }
}

/// Whether `e` looks only at fields of its own record (no related records, no population
/// functions, no other rules).
fn row_level(p: &Program, e: &Expr, seen: &mut HashSet<usize>) -> bool {
    match &e.kind {
        ExprKind::Lookup { .. }
        | ExprKind::Aggregate { .. }
        | ExprKind::Population { .. }
        | ExprKind::Segment(_)
        | ExprKind::Tier(_)
        | ExprKind::Score(_)
        | ExprKind::Error => false,
        ExprKind::Definition(id) => {
            if !seen.insert(id.index()) {
                return true;
            }
            row_level(p, &p.definitions[id.index()].value, seen)
        }
        _ => e.operands().into_iter().all(|x| row_level(p, x, seen)),
    }
}

/// What reading a file piece by piece found: whether a problem is an error, and every problem.
pub struct Read {
    pub errors: bool,
    pub problems: Vec<Diagnostic>,
}

/// Reads `stream`'s pieces on a thread of its own, `prepare`s each there, and hands it to
/// `take` (with whether a problem so far is an error), so that reading and preparing the next
/// piece overlaps with evaluating this one. `take` returns whether to go on.
///
/// # Errors
/// What `take` fails with, or when the reading thread fails.
pub fn read_ahead<X: Send>(
    mut stream: Stream<'_>,
    prepare: impl Fn(&RecordBatch) -> X + Send,
    mut take: impl FnMut(std::result::Result<(RecordBatch, X), Diagnostic>, bool) -> Result<bool>,
) -> Result<Read> {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let reader = scope.spawn(move || {
            while let Some(piece) = stream.next_piece() {
                let errors = stream.has_errors();
                // A piece after an error is only read for its problems.
                let piece = piece.map(|p| {
                    let extra = (!errors).then(|| prepare(&p));
                    (p, extra)
                });
                if tx.send((piece, errors)).is_err() {
                    break;
                }
            }
            // The checks over the whole file (repeated keys) run here too, and their errors
            // count as much as those of any piece.
            let errors = stream.has_errors();
            let problems = stream.finish();
            Read {
                errors: errors || problems.iter().any(Diagnostic::is_error),
                problems,
            }
        });
        let mut outcome = Ok(());
        while let Ok((piece, errors)) = rx.recv() {
            let piece = match piece {
                Ok((p, Some(x))) => Ok((p, x)),
                Ok((_, None)) => continue,
                Err(d) => Err(d),
            };
            match take(piece, errors) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        drop(rx);
        let read = reader
            .join()
            .map_err(|_| engine("reading a data file failed unexpectedly"))?;
        outcome.map(|()| read)
    })
}

/// One aggregate's values, one slot per parent record, added up piece by piece.
pub struct Dense {
    op: Op,
    /// The type of the partial results (and of the finished array).
    ty: DataType,
    parents: usize,
    values: Values,
}

enum Values {
    /// Numbers, dates, times and durations: folded slot by slot.
    Folded(Slots),
    /// Any other type (texts, lists): the finished array so far.
    Other(Option<ArrayRef>),
}

impl Dense {
    #[must_use]
    pub fn new(op: Op, ty: &DataType, parents: usize) -> Dense {
        let values = match ty {
            DataType::Int64
            | DataType::Date32
            | DataType::Timestamp(..)
            | DataType::Duration(..)
            | DataType::Decimal128(..)
            | DataType::Float64 => Values::Folded(Slots::new(op, ty, parents)),
            _ => Values::Other(None),
        };
        Dense {
            op,
            ty: ty.clone(),
            parents,
            values,
        }
    }

    /// Takes one piece's results: `partial[i]` belongs to parent row `rows[i]`.
    ///
    /// # Errors
    /// When a sum no longer fits its type.
    pub fn take(&mut self, rows: &UInt32Array, partial: &ArrayRef) -> Result<()> {
        match &mut self.values {
            Values::Folded(slots) => {
                // The rows with a parent and a partial result.
                let mut known = rows
                    .nulls()
                    .map_or_else(|| BooleanBuffer::new_set(rows.len()), |n| n.inner().clone());
                if let Some(n) = partial.logical_nulls() {
                    known = &known & n.inner();
                }
                slots.add(partial, rows, &known)
            }
            Values::Other(whole) => {
                let spread = spread_one(rows, partial, self.parents)?;
                let next = match whole.take() {
                    None => spread,
                    Some(old) => combine(self.op, &old, &spread)?,
                };
                *whole = Some(next);
                Ok(())
            }
        }
    }

    /// The finished values (unknown for parents no piece had a value for).
    ///
    /// # Errors
    /// When the values cannot take their type back.
    pub fn finish(self) -> Result<ArrayRef> {
        match self.values {
            Values::Folded(slots) => slots.finish(),
            Values::Other(Some(whole)) => Ok(whole),
            Values::Other(None) => Ok(datafusion::arrow::array::new_null_array(
                &self.ty,
                self.parents,
            )),
        }
    }
}

/// `partial` spread out to `len` slots by `rows`.
fn spread_one(rows: &UInt32Array, partial: &ArrayRef, len: usize) -> Result<ArrayRef> {
    let mut source: Vec<Option<u32>> = vec![None; len];
    for (i, r) in rows.iter().enumerate() {
        if let Some(slot) = r.and_then(|r| source.get_mut(r as usize)) {
            *slot = u32::try_from(i).ok();
        }
    }
    datafusion::arrow::compute::take(partial.as_ref(), &UInt32Array::from(source), None)
        .map_err(engine)
}

/// Two arrays of one type combined slot by slot (an unknown side gives way to the other).
fn combine(op: Op, a: &ArrayRef, b: &ArrayRef) -> Result<ArrayRef> {
    use datafusion::arrow::compute::kernels::{boolean, cmp, zip::zip};
    use datafusion::arrow::compute::{is_not_null, is_null};
    if op == Op::Sum {
        return datafusion::arrow::compute::kernels::numeric::add(a, b).map_err(engine);
    }
    // Keep `a` where it is known and (b is unknown or a wins).
    let a_wins = match op {
        Op::Min => cmp::lt_eq(a, b).map_err(engine)?,
        _ => cmp::gt_eq(a, b).map_err(engine)?,
    };
    let a_wins =
        boolean::or_kleene(&a_wins, &is_null(b.as_ref()).map_err(engine)?).map_err(engine)?;
    let keep_a =
        boolean::and(&is_not_null(a.as_ref()).map_err(engine)?, &a_wins).map_err(engine)?;
    let keep_a = super::dense::known_true(&keep_a);
    zip(&keep_a, a, b).map_err(engine)
}

/// Missing parents seen while linking a streamed relation, for the W0600 warning.
#[derive(Default)]
pub struct Missing {
    pub count: usize,
    /// The first record with a missing parent: its row and linking value.
    pub first: Option<(usize, String)>,
    /// The different missing values, by hash.
    pub values: BTreeMap<u64, Vec<String>>,
}

impl Missing {
    /// Notes the links of one piece (`offset` is its first row) that name no parent.
    pub fn note(&mut self, links: &ArrayRef, resolved: &UInt32Array, offset: usize) {
        let missing: Vec<usize> = (0..links.len())
            .filter(|&i| links.is_valid(i) && resolved.is_null(i))
            .collect();
        if missing.is_empty() {
            return;
        }
        let show = |i: usize| {
            datafusion::arrow::util::display::array_value_to_string(links, i)
                .unwrap_or_else(|_| "?".to_owned())
        };
        for i in missing {
            self.count += 1;
            let text = show(i);
            if self.first.is_none() {
                self.first = Some((offset + i, text.clone()));
            }
            let h = {
                use std::hash::{Hash, Hasher};
                let mut s = std::collections::hash_map::DefaultHasher::new();
                text.hash(&mut s);
                s.finish()
            };
            let same = self.values.entry(h).or_default();
            if !same.contains(&text) {
                same.push(text);
            }
        }
    }

    #[must_use]
    pub fn distinct(&self) -> usize {
        self.values.values().map(Vec::len).sum()
    }
}

//! Coverage: which conditions the records of the tests have seen both true and false.
//!
//! Counted are every condition of a segment (the whole condition, each part of `all of`,
//! `any of`, `and`, `or` and `not`, and each `where` of an aggregate, evaluated on the related
//! records the aggregate looks at), every tier row and every score rule. An unknown value makes
//! a condition false, and counts as false here too.

use std::collections::HashMap;

use crate::explain::{EvalError, Probe, condition_text};
use crate::ir::{EntityId, Expr, ExprKind, Program, TierSetId};
use crate::source::Span;

/// What kind of rule part an item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A segment's condition or one of its parts.
    Condition,
    /// The `where` condition of an aggregate, tested on related records.
    Where,
    /// A tier row: true for the records it takes, false for those it passes on.
    TierRow,
    /// The `otherwise` row of a tier set: covered when it takes a record.
    Otherwise,
    /// A score rule.
    ScoreRule,
}

/// One counted rule part and what the tests showed of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    /// The segment, tier set or score it belongs to.
    pub owner: String,
    /// The condition as segl text (or the tier name for `otherwise`).
    pub text: String,
    pub span: Span,
    pub seen_true: bool,
    pub seen_false: bool,
}

impl Item {
    #[must_use]
    pub fn covered(&self) -> bool {
        match self.kind {
            ItemKind::Otherwise => self.seen_true,
            _ => self.seen_true && self.seen_false,
        }
    }

    /// What is missing, in words: "never true", "never false", "never seen".
    #[must_use]
    pub fn missing(&self) -> &'static str {
        match (self.seen_true, self.seen_false) {
            (false, false) if self.kind == ItemKind::Otherwise => "no record falls in it",
            (false, false) => "never tested",
            (false, true) if self.kind == ItemKind::TierRow => "no record falls in it",
            (false, true) => "never true",
            (true, false) if self.kind == ItemKind::TierRow => {
                "every record reaching it falls in it"
            }
            (true, false) => "never false",
            (true, true) => "",
        }
    }
}

/// Coverage over every test that ran.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Coverage {
    /// In program order: segments, then tier sets, then scores.
    pub items: Vec<Item>,
}

impl Coverage {
    #[must_use]
    pub fn covered(&self) -> usize {
        self.items.iter().filter(|i| i.covered()).count()
    }

    #[must_use]
    pub fn total(&self) -> usize {
        self.items.len()
    }

    /// The share covered, in percent (100 when there is nothing to cover).
    #[must_use]
    pub fn percent(&self) -> f64 {
        if self.items.is_empty() {
            return 100.0;
        }
        #[allow(clippy::cast_precision_loss)]
        let share = self.covered() as f64 * 100.0 / self.total() as f64;
        share
    }

    /// The percentage as shown: whole numbers without decimals, others with one, rounded down
    /// so that 99.96% never shows as 100%.
    #[must_use]
    pub fn percent_text(&self) -> String {
        let tenths = (self.percent() * 10.0).floor() / 10.0;
        if tenths.fract() == 0.0 {
            format!("{tenths:.0}%")
        } else {
            format!("{tenths:.1}%")
        }
    }

    /// The items not covered.
    pub fn gaps(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| !i.covered())
    }
}

/// Collects coverage items and observations over the tests' datasets.
pub struct Collector<'p> {
    program: &'p Program,
    pub coverage: Coverage,
    index: HashMap<(u32, u32, u32, ItemKind), usize>,
}

impl<'p> Collector<'p> {
    /// Lists every item of the program, none seen yet.
    #[must_use]
    pub fn new(program: &'p Program) -> Self {
        let mut c = Collector {
            program,
            coverage: Coverage::default(),
            index: HashMap::new(),
        };
        // Registering walks every rule with no records: it only lists the items.
        let _ = c.observe_all(None);
        c
    }

    /// Records what the data of one test shows.
    ///
    /// # Errors
    /// When the data does not match the schema.
    pub fn observe(&mut self, probe: &Probe<'_>) -> Result<(), EvalError> {
        self.observe_all(Some(probe))
    }

    fn observe_all(&mut self, probe: Option<&Probe<'_>>) -> Result<(), EvalError> {
        let p = self.program;
        let rows = |entity: EntityId| -> Vec<usize> {
            probe.map_or_else(Vec::new, |pr| (0..pr.rows(entity)).collect())
        };
        for s in &p.segments {
            let recs = rows(s.entity);
            self.node(
                probe,
                &s.name,
                &s.condition,
                s.entity,
                &recs,
                ItemKind::Condition,
            )?;
        }
        for (ti, t) in p.tier_sets.iter().enumerate() {
            let recs = rows(t.entity);
            let mut chosen = Vec::with_capacity(recs.len());
            if let Some(pr) = probe {
                for r in &recs {
                    chosen.push(pr.tier(TierSetId::from_index(ti), t.entity, *r)?);
                }
            }
            for (ri, row) in t.rows.iter().enumerate() {
                let (kind, text) = match &row.condition {
                    Some(c) => (
                        ItemKind::TierRow,
                        format!("{} when {}", row.name, condition_text(p, c)),
                    ),
                    None => (ItemKind::Otherwise, format!("{} otherwise", row.name)),
                };
                let at = self.item(kind, &t.name, text, row.span);
                for c in &chosen {
                    match c {
                        Some(i) if *i == ri => self.coverage.items[at].seen_true = true,
                        Some(i) if *i < ri => {}
                        _ => self.coverage.items[at].seen_false = true,
                    }
                }
            }
        }
        for s in &p.scores {
            let recs = rows(s.entity);
            for rule in &s.rules {
                let sign = if rule.points < 0 { "" } else { "+" };
                let text = format!(
                    "{sign}{} when {}",
                    rule.points,
                    condition_text(p, &rule.condition)
                );
                let at = self.item(ItemKind::ScoreRule, &s.name, text, rule.span);
                if let Some(pr) = probe {
                    for r in &recs {
                        let holds = pr.holds(&rule.condition, s.entity, *r)?;
                        self.see(at, holds);
                    }
                }
            }
        }
        Ok(())
    }

    fn item(&mut self, kind: ItemKind, owner: &str, text: String, span: Span) -> usize {
        let key = (span.file.0, span.start, span.end, kind);
        if let Some(i) = self.index.get(&key) {
            return *i;
        }
        self.coverage.items.push(Item {
            kind,
            owner: owner.to_owned(),
            text,
            span,
            seen_true: false,
            seen_false: false,
        });
        let i = self.coverage.items.len() - 1;
        self.index.insert(key, i);
        i
    }

    fn see(&mut self, at: usize, holds: bool) {
        if let Some(item) = self.coverage.items.get_mut(at) {
            if holds {
                item.seen_true = true;
            } else {
                item.seen_false = true;
            }
        }
    }

    /// A condition counted as an item, then its parts.
    fn node(
        &mut self,
        probe: Option<&Probe<'_>>,
        owner: &str,
        e: &Expr,
        entity: EntityId,
        recs: &[usize],
        kind: ItemKind,
    ) -> Result<(), EvalError> {
        let at = self.item(kind, owner, condition_text(self.program, e), e.span);
        if let Some(pr) = probe {
            for r in recs {
                let holds = pr.holds(e, entity, *r)?;
                self.see(at, holds);
            }
        }
        self.parts(probe, owner, e, entity, recs)
    }

    /// The parts of a condition: the operands of `and`, `or` and `not` are items of their own;
    /// inside anything else, the `where` conditions of aggregates are.
    fn parts(
        &mut self,
        probe: Option<&Probe<'_>>,
        owner: &str,
        e: &Expr,
        entity: EntityId,
        recs: &[usize],
    ) -> Result<(), EvalError> {
        match &e.kind {
            ExprKind::And(xs) | ExprKind::Or(xs) => {
                for x in xs {
                    self.node(probe, owner, x, entity, recs, ItemKind::Condition)?;
                }
                Ok(())
            }
            // `not X` is true exactly when X is false: X has the same coverage, so only its
            // parts are counted.
            ExprKind::Not(x) => self.parts(probe, owner, x, entity, recs),
            _ => self.wheres(probe, owner, e, entity, recs),
        }
    }

    /// Finds the aggregates inside a value or a single condition and counts their `where`.
    fn wheres(
        &mut self,
        probe: Option<&Probe<'_>>,
        owner: &str,
        e: &Expr,
        entity: EntityId,
        recs: &[usize],
    ) -> Result<(), EvalError> {
        match &e.kind {
            ExprKind::Aggregate { source, value, .. } => {
                let mut windowed = Vec::new();
                let mut kept = Vec::new();
                if let Some(pr) = probe {
                    for r in recs {
                        let (w, k) = pr.related(source, entity, *r)?;
                        windowed.extend(w);
                        kept.extend(k);
                    }
                }
                if let Some(filter) = &source.filter {
                    self.node(
                        probe,
                        owner,
                        filter,
                        source.entity,
                        &windowed,
                        ItemKind::Where,
                    )?;
                }
                if let Some(v) = value {
                    self.wheres(probe, owner, v, source.entity, &kept)?;
                }
                Ok(())
            }
            ExprKind::Lookup { relation, value } => {
                let target = self.program.relation(*relation).target;
                let mut targets = Vec::new();
                if let Some(pr) = probe {
                    for r in recs {
                        if let Some(t) = pr.follow_one(*relation, entity, *r)? {
                            targets.push(t);
                        }
                    }
                }
                self.wheres(probe, owner, value, target, &targets)
            }
            // Segments, definitions and population functions are counted where they are
            // written (segments) or not at all: they are not part of this condition's text.
            ExprKind::Segment(_)
            | ExprKind::Definition(_)
            | ExprKind::Population { .. }
            | ExprKind::Tier(_)
            | ExprKind::Score(_) => Ok(()),
            _ => {
                for c in children(e) {
                    self.wheres(probe, owner, c, entity, recs)?;
                }
                Ok(())
            }
        }
    }
}

/// The operands whose conditions are covered with this record: a population function's value is
/// about the whole population, so it is left out.
fn children(e: &Expr) -> Vec<&Expr> {
    if matches!(e.kind, ExprKind::Population { .. }) {
        Vec::new()
    } else {
        e.operands()
    }
}

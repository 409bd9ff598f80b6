//! Which entities and fields a set of rules reads.
//!
//! `segl run` loads only what the rules it evaluates look at: a project whose segments test
//! customer fields does not read the orders file, and a rule over `events.kind` does not decode
//! the events' other columns. The answer is computed from the typed IR, so it is exact: every
//! field an expression names, the linking field of every relation it walks (on both sides) and
//! the `dated by` field of every time window.

use std::collections::HashSet;

use super::{EntityId, Expr, ExprKind, FieldRef, Program, RelationKind, RelationRef};
use super::{ScoreId, SegmentId, TierSetId};

/// The entities and fields some rules read. The key of an entity is read when rules are
/// evaluated for its records or a relation links to them; records that rules only aggregate
/// (the orders in `count(orders)`) are not told apart by key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    /// Per entity, per field: is it read?
    fields: Vec<Vec<bool>>,
    /// Per entity: are its records read?
    entities: Vec<bool>,
}

/// Rules and definitions already walked, so shared ones are walked once.
#[derive(Default)]
struct Seen {
    definitions: HashSet<usize>,
    segments: HashSet<usize>,
    tier_sets: HashSet<usize>,
    scores: HashSet<usize>,
}

impl Usage {
    /// Nothing read yet.
    #[must_use]
    pub fn none(program: &Program) -> Usage {
        Usage {
            fields: program
                .entities
                .iter()
                .map(|e| vec![false; e.fields.len()])
                .collect(),
            entities: vec![false; program.entities.len()],
        }
    }

    /// Every field of every entity (what `segl check --data` validates).
    #[must_use]
    pub fn everything(program: &Program) -> Usage {
        Usage {
            fields: program
                .entities
                .iter()
                .map(|e| vec![true; e.fields.len()])
                .collect(),
            entities: vec![true; program.entities.len()],
        }
    }

    /// What the given segments, tier sets, scores and extra expressions read, each evaluated for
    /// every record of its entity.
    #[must_use]
    pub fn of(
        program: &Program,
        segments: &[SegmentId],
        tier_sets: &[TierSetId],
        scores: &[ScoreId],
        extra: &[(EntityId, &Expr)],
    ) -> Usage {
        let mut usage = Usage::none(program);
        let mut seen = Seen::default();
        let mut walker = Walker {
            program,
            usage: &mut usage,
            seen: &mut seen,
        };
        for id in segments {
            walker.segment(*id);
        }
        for id in tier_sets {
            walker.tier_set(*id);
        }
        for id in scores {
            walker.score(*id);
        }
        for (entity, e) in extra {
            walker.keyed(*entity);
            walker.expr(e);
        }
        usage
    }

    /// Are the records of `entity` read at all?
    #[must_use]
    pub fn reads_entity(&self, entity: EntityId) -> bool {
        self.entities.get(entity.index()).copied().unwrap_or(false)
    }

    /// Is `field` read?
    #[must_use]
    pub fn reads_field(&self, field: FieldRef) -> bool {
        self.fields
            .get(field.entity.index())
            .and_then(|fs| fs.get(field.field.index()))
            .copied()
            .unwrap_or(false)
    }
}

struct Walker<'a> {
    program: &'a Program,
    usage: &'a mut Usage,
    seen: &'a mut Seen,
}

impl Walker<'_> {
    fn entity(&mut self, entity: EntityId) {
        if let Some(read) = self.usage.entities.get_mut(entity.index()) {
            *read = true;
        }
    }

    /// An entity whose records are told apart by their key: one with rules of its own (one
    /// membership row per key), or the one a relation links to.
    fn keyed(&mut self, entity: EntityId) {
        let key = self.program.entity(entity).key;
        self.field(FieldRef { entity, field: key });
    }

    fn field(&mut self, field: FieldRef) {
        self.entity(field.entity);
        if let Some(slot) = self
            .usage
            .fields
            .get_mut(field.entity.index())
            .and_then(|fs| fs.get_mut(field.field.index()))
        {
            *slot = true;
        }
    }

    /// Walking a relation reads its linking field and the key it links to.
    fn relation(&mut self, relation: RelationRef) {
        let rel = self.program.relation(relation);
        self.entity(relation.entity);
        self.entity(rel.target);
        self.field(rel.via);
        match rel.kind {
            RelationKind::One => self.keyed(rel.target),
            RelationKind::Many => self.keyed(relation.entity),
        }
    }

    fn segment(&mut self, id: SegmentId) {
        if self.seen.segments.insert(id.index()) {
            let s = &self.program.segments[id.index()];
            self.keyed(s.entity);
            self.expr(&s.condition);
        }
    }

    fn tier_set(&mut self, id: TierSetId) {
        if self.seen.tier_sets.insert(id.index()) {
            let t = &self.program.tier_sets[id.index()];
            self.keyed(t.entity);
            for row in &t.rows {
                if let Some(c) = &row.condition {
                    self.expr(c);
                }
            }
        }
    }

    fn score(&mut self, id: ScoreId) {
        if self.seen.scores.insert(id.index()) {
            let s = &self.program.scores[id.index()];
            self.keyed(s.entity);
            for rule in &s.rules {
                self.expr(&rule.condition);
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Field(f) => self.field(*f),
            ExprKind::Lookup { relation, value } => {
                self.relation(*relation);
                self.expr(value);
            }
            ExprKind::Definition(id) => {
                if self.seen.definitions.insert(id.index()) {
                    let d = &self.program.definitions[id.index()];
                    self.entity(d.entity);
                    self.expr(&d.value);
                }
            }
            ExprKind::Segment(id) => self.segment(*id),
            ExprKind::Tier(id) => self.tier_set(*id),
            ExprKind::Score(id) => self.score(*id),
            ExprKind::Aggregate { source, value, .. } => {
                for r in &source.path {
                    self.relation(*r);
                }
                self.entity(source.entity);
                if let Some((_, dated)) = &source.window {
                    self.field(*dated);
                }
                if let Some(f) = &source.filter {
                    self.expr(f);
                }
                if let Some(v) = value {
                    self.expr(v);
                }
            }
            ExprKind::Population { entity, .. } => {
                self.entity(*entity);
                for child in e.operands() {
                    self.expr(child);
                }
            }
            _ => {
                for child in e.operands() {
                    self.expr(child);
                }
            }
        }
    }
}

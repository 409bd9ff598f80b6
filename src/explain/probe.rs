//! A window on the reference evaluator for code that needs more than [`super::evaluate`] and
//! [`super::why`] give: the truth of any condition of the program on any record, and the records
//! an aggregate looks at. `segl test` measures coverage with it.

use super::EvalError;
use super::eval::{Evaluator, Rec};
use crate::engine::{Dataset, RunSettings};
use crate::ir::{AggSource, EntityId, Expr, Program, RelationRef, ScoreId, TierSetId};

/// The evaluator over one dataset, answering questions record by record.
pub struct Probe<'a> {
    ev: Evaluator<'a>,
}

impl<'a> Probe<'a> {
    /// Indexes the data for evaluation.
    ///
    /// # Errors
    /// When the data does not match the schema.
    pub fn new(
        program: &'a Program,
        data: &'a Dataset,
        settings: &'a RunSettings,
    ) -> Result<Self, EvalError> {
        Ok(Probe {
            ev: Evaluator::new(program, data, settings)?,
        })
    }

    /// How many records the entity has (0 without data).
    #[must_use]
    pub fn rows(&self, entity: EntityId) -> usize {
        self.ev.rows(entity)
    }

    /// The key of a record as users write it.
    ///
    /// # Errors
    /// When the data does not match the schema.
    pub fn key(&self, entity: EntityId, row: usize) -> Result<String, EvalError> {
        Ok(super::show_key(&self.ev.key_of(Rec { entity, row })?))
    }

    /// The row of the record with this key, if there is one.
    ///
    /// # Errors
    /// When the data does not match the schema.
    pub fn find(&self, entity: EntityId, key: &str) -> Result<Option<usize>, EvalError> {
        for row in 0..self.rows(entity) {
            if self.key(entity, row)? == key {
                return Ok(Some(row));
            }
        }
        Ok(None)
    }

    /// Whether a condition holds for a record (unknown counts as false).
    ///
    /// # Errors
    /// When the data does not match the schema.
    pub fn holds(&self, condition: &Expr, entity: EntityId, row: usize) -> Result<bool, EvalError> {
        self.ev.cond(condition, Rec { entity, row })
    }

    /// The rows (of `source.entity`) an aggregate looks at for a record: those inside its time
    /// window, and of these the ones meeting its `where` condition.
    ///
    /// # Errors
    /// When the data does not match the schema.
    pub fn related(
        &self,
        source: &AggSource,
        entity: EntityId,
        row: usize,
    ) -> Result<(Vec<usize>, Vec<usize>), EvalError> {
        let r = self.ev.related(source, Rec { entity, row })?;
        Ok((r.windowed, r.kept))
    }

    /// The row of the record reached through a `one` relation, if any.
    ///
    /// # Errors
    /// When the data does not match the schema.
    pub fn follow_one(
        &self,
        relation: RelationRef,
        entity: EntityId,
        row: usize,
    ) -> Result<Option<usize>, EvalError> {
        Ok(self
            .ev
            .follow_one(relation, Rec { entity, row })?
            .map(|r| r.row))
    }

    /// The index of the tier row a record falls in.
    ///
    /// # Errors
    /// When the data does not match the schema.
    pub fn tier(
        &self,
        tier_set: TierSetId,
        entity: EntityId,
        row: usize,
    ) -> Result<Option<usize>, EvalError> {
        self.ev.tier(tier_set, Rec { entity, row })
    }

    /// A record's score; `None` when the points overflow.
    ///
    /// # Errors
    /// When the data does not match the schema.
    pub fn score(
        &self,
        score: ScoreId,
        entity: EntityId,
        row: usize,
    ) -> Result<Option<i64>, EvalError> {
        self.ev.score(score, Rec { entity, row })
    }
}

/// A condition as segl text, the way explanations show it.
#[must_use]
pub fn condition_text(program: &Program, condition: &Expr) -> String {
    super::text::expr(program, condition)
}

//! The engine: loads and validates data, lowers the typed IR to DataFusion plans, and evaluates
//! every segment, tier and score of a project in one plan per entity. Nothing outside this module
//! knows DataFusion; Arrow, the data format, is also read by the reference evaluator (`explain`)
//! and written by the sample-data generator (`sample`).

pub mod keys;
pub mod load;
pub mod lower;
pub mod output;
pub mod summary;
pub mod types;

use std::collections::HashMap;

use std::sync::Arc;

use datafusion::arrow::array::UInt32Array;
use datafusion::arrow::record_batch::RecordBatch;

use crate::ir::{EntityId, FieldId, ParamId, Value};

/// One entity's records, validated against the schema.
///
/// The batch has exactly one column per schema field, in the schema's field order, named as the
/// field and typed as [`types::arrow_type`] says (decimals carry the scale found in the data).
/// A required field's column has no nulls; enum values are all declared ones; keys are unique.
#[derive(Clone, Debug)]
pub struct Table {
    pub entity: EntityId,
    pub batch: RecordBatch,
    /// Where the records came from (a file path as the user gave it), for messages.
    pub origin: String,
}

impl Table {
    /// How many records have no value in a field (`None` when the table has no such column).
    #[must_use]
    pub fn unknown_count(&self, field: crate::ir::FieldId) -> Option<usize> {
        use datafusion::arrow::array::Array as _;
        self.batch
            .columns()
            .get(field.index())
            .map(|c| c.null_count())
    }
}

/// The data of a run: at most one table per entity, and the links between tables found while
/// checking them.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    tables: HashMap<EntityId, Table>,
    /// (child entity, linking field, parent entity) to the parent row of each child row (unknown
    /// where the link is unknown or names no parent).
    links: HashMap<(EntityId, FieldId, EntityId), Arc<UInt32Array>>,
    /// Entities whose file is read piece by piece during evaluation instead of held whole.
    streams: HashMap<EntityId, load::stream::Streamed>,
}

impl Dataset {
    #[must_use]
    pub fn new() -> Self {
        Dataset::default()
    }

    /// Adds (or replaces) an entity's table; links found for an earlier table of it are
    /// dropped.
    pub fn insert(&mut self, table: Table) {
        let entity = table.entity;
        self.links
            .retain(|(child, _, parent), _| *child != entity && *parent != entity);
        self.tables.insert(entity, table);
    }

    /// Records where the links of `child`'s field `field` point among `parent`'s rows.
    pub fn insert_link(
        &mut self,
        child: EntityId,
        field: FieldId,
        parent: EntityId,
        rows: Arc<UInt32Array>,
    ) {
        self.links.insert((child, field, parent), rows);
    }

    /// Adds an entity whose file the engine reads piece by piece.
    pub fn insert_stream(&mut self, streamed: load::stream::Streamed) {
        self.streams.insert(streamed.entity, streamed);
    }

    /// The file of an entity read piece by piece, if it is one.
    #[must_use]
    pub fn streamed(&self, entity: EntityId) -> Option<&load::stream::Streamed> {
        self.streams.get(&entity)
    }

    /// The parent row of each child row, when the loader worked it out.
    #[must_use]
    pub fn link(
        &self,
        child: EntityId,
        field: FieldId,
        parent: EntityId,
    ) -> Option<&Arc<UInt32Array>> {
        self.links.get(&(child, field, parent))
    }

    #[must_use]
    pub fn table(&self, entity: EntityId) -> Option<&Table> {
        self.tables.get(&entity)
    }

    /// Every file the data comes from, held whole or read piece by piece: entity, the file as
    /// the user gave it, and its number of records; in entity order.
    #[must_use]
    pub fn files(&self) -> Vec<(EntityId, String, usize)> {
        let mut all: Vec<(EntityId, String, usize)> = self
            .tables
            .values()
            .map(|t| (t.entity, t.origin.clone(), t.batch.num_rows()))
            .chain(
                self.streams
                    .values()
                    .map(|s| (s.entity, s.source.shown.clone(), s.rows)),
            )
            .collect();
        all.sort_by_key(|f| f.0);
        all
    }

    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        let mut all: Vec<&Table> = self.tables.values().collect();
        all.sort_by_key(|t| t.entity);
        all.into_iter()
    }
}

/// The moment rules are evaluated at, in the project's time zone.
///
/// `today` is `date`; `now` is `instant`. When only a date is given, `instant` is the last
/// microsecond of that day, so everything that happened on the as-of day counts as past.
#[derive(Clone, Debug, PartialEq)]
pub struct AsOf {
    pub date: jiff::civil::Date,
    pub instant: jiff::Timestamp,
    pub time_zone: jiff::tz::TimeZone,
}

impl AsOf {
    /// The end of `date` in `time_zone`.
    ///
    /// # Errors
    /// When the date cannot be placed in the time zone (it is out of jiff's range).
    pub fn end_of_day(
        date: jiff::civil::Date,
        time_zone: jiff::tz::TimeZone,
    ) -> Result<AsOf, jiff::Error> {
        let midnight = date.tomorrow()?.to_datetime(jiff::civil::Time::midnight());
        let next = time_zone.to_timestamp(midnight)?;
        let instant = next.checked_sub(jiff::SignedDuration::from_micros(1))?;
        Ok(AsOf {
            date,
            instant,
            time_zone,
        })
    }
}

/// Everything a run needs besides the program and the data.
#[derive(Clone, Debug)]
pub struct RunSettings {
    pub as_of: AsOf,
    /// Parameter values that replace the defaults (`--param name=value`), already typed.
    pub params: HashMap<ParamId, Value>,
}

/// The result of evaluating a program for one entity.
///
/// Columns, in order: the key (named as the key field), one `Boolean` column per segment of the
/// entity (named as the segment, never null), one `Utf8` column per tier set (the tier's name,
/// never null), one `Int64` column per score (never null), then any extra columns asked for.
/// Rows are sorted by key.
#[derive(Clone, Debug)]
pub struct Membership {
    pub entity: EntityId,
    pub batch: RecordBatch,
}

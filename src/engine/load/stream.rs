//! Parquet files read a piece of rows at a time while the engine evaluates, instead of being
//! held whole: the related records of a big relation (orders, events) that rules only count and
//! sum, and the records of an entity whose rules only look at each record on its own.
//!
//! Each piece is converted and checked exactly as a whole file would be (same diagnostics, with
//! row numbers counted from the start of the file), and the keys are checked for repeats over
//! the whole file. Only Parquet is read this way: its schema fixes every column's type (decimal
//! scales included) before the first row, so every piece has the same types.

use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::record_batch::RecordBatch;

use super::parquet::{self, Opened, Pieces};
use super::problems::Problems;
use super::{DataSource, batch};
use crate::diagnostics::{Code, Diagnostic};
use crate::engine::Table;
use crate::engine::keys::{HashBuckets, hashes};
use crate::ir::{EntityDef, EntityId, Program};
use crate::source::SourceMap;

/// How many records a piece of related records holds (aggregated per parent; bigger pieces
/// mean fewer partial results to add up).
pub const RELATED_PER_PIECE: usize = 1 << 18;
/// How many records a piece of an entity evaluated record by record holds.
pub const RECORDS_PER_PIECE: usize = 1 << 15;

/// Which entities to read piece by piece.
#[derive(Clone, Debug, Default)]
pub struct Streaming {
    pub entities: std::collections::HashSet<EntityId>,
    /// Records per piece instead of [`RELATED_PER_PIECE`] and [`RECORDS_PER_PIECE`] (tests
    /// use a few, so that every result is put together from many pieces).
    pub piece_rows: Option<usize>,
}

/// An entity whose file is read piece by piece during evaluation; its schema was checked when
/// the data was loaded.
#[derive(Clone, Debug)]
pub struct Streamed {
    pub entity: EntityId,
    pub source: DataSource,
    /// Per field: does the run read it?
    pub wanted: Vec<bool>,
    /// How many records the file holds.
    pub rows: usize,
    /// Records per piece, when not the default.
    pub piece_rows: Option<usize>,
}

/// An open file being read piece by piece.
pub struct Stream<'p> {
    source: DataSource,
    entity: &'p EntityDef,
    problems: Problems<'p>,
    pieces: Pieces,
    zone: jiff::tz::TimeZone,
    keys: HashBuckets,
}

impl<'p> Stream<'p> {
    /// Opens the file again; `Err` with the problems when it cannot be read.
    ///
    /// # Errors
    /// When the file cannot be opened or read as Parquet.
    pub fn open(
        program: &'p Program,
        spec: &Streamed,
        zone: &jiff::tz::TimeZone,
        rows_per_piece: usize,
    ) -> Result<Stream<'p>, Vec<Diagnostic>> {
        let entity = program.entity(spec.entity);
        let mut problems = Problems::new(program, entity, &spec.source.shown);
        let mut sources = SourceMap::new();
        let opened: Option<Opened> = parquet::open(
            &spec.source,
            entity,
            zone,
            &spec.wanted,
            &mut problems,
            &mut sources,
        );
        let Some(opened) = opened.filter(|_| !problems.has_errors()) else {
            return Err(problems.finish());
        };
        let pieces = Pieces::new(
            opened,
            &spec.source,
            spec.piece_rows.unwrap_or(rows_per_piece),
        )
        .map_err(|why| vec![unreadable(&spec.source, entity, &why)])?;
        Ok(Stream {
            source: spec.source.clone(),
            entity,
            problems,
            pieces,
            zone: zone.clone(),
            keys: HashBuckets::default(),
        })
    }

    /// How many records the file holds.
    #[must_use]
    pub fn rows(&self) -> usize {
        self.pieces.rows()
    }

    /// The next piece: one column per field, in schema order, as [`Table`] describes (fields
    /// the run does not read hold unknown values). `Err` when the file cannot be read on.
    pub fn next_piece(&mut self) -> Option<Result<RecordBatch, Diagnostic>> {
        let columns = match self
            .pieces
            .next(self.entity, &self.zone, &mut self.problems)?
        {
            Ok(c) => c,
            Err(why) => return Some(Err(unreadable(&self.source, self.entity, &why))),
        };
        if let Some(key) = columns.get(self.entity.key.index()) {
            let keys = &mut self.keys;
            hashes(key, |_, h| keys.push(h));
        }
        match batch(self.entity, columns) {
            Some(b) => Some(Ok(b)),
            None => Some(Err(unreadable(
                &self.source,
                self.entity,
                "its columns do not line up",
            ))),
        }
    }

    /// Whether a problem so far is an error (the run's results cannot be trusted).
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.problems.has_errors()
    }

    /// Every problem found in the file, with repeated keys checked over all its rows.
    #[must_use]
    pub fn finish(self) -> Vec<Diagnostic> {
        let mut found = self.problems.finish();
        if !self.keys.repeated().is_empty() {
            found.extend(repeated_keys(&self.source, self.entity, &self.zone));
        }
        found
    }
}

/// E0601 for a Parquet file that stopped being readable part of the way through.
fn unreadable(source: &DataSource, entity: &EntityDef, why: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0601,
        source.entry.unwrap_or(entity.span),
        format!("`{}` cannot be read as a Parquet file", source.shown),
    )
    .label(why.to_owned())
    .help(
        "check that the file is complete and really is Parquet; write it again if it was cut short",
    )
}

/// The repeated-key diagnostic of a file whose key hashes repeat: its key column is read whole
/// and compared value by value (equal hashes of different keys are not repeats).
fn repeated_keys(
    source: &DataSource,
    entity: &EntityDef,
    zone: &jiff::tz::TimeZone,
) -> Vec<Diagnostic> {
    let _ = zone;
    let mut sources = SourceMap::new();
    // The key values as stored: keys are texts or whole numbers, so two stored values are equal
    // exactly when the values segl reads from them are.
    let Some(key_column) = parquet::read_column(source, &entity.fields[entity.key.index()].name)
    else {
        return Vec::new();
    };
    let columns: Vec<ArrayRef> = entity
        .fields
        .iter()
        .enumerate()
        .map(|(f, def)| {
            if f == entity.key.index() {
                Arc::clone(&key_column)
            } else {
                datafusion::arrow::array::new_null_array(
                    &crate::engine::types::arrow_type(&def.ty, 0),
                    key_column.len(),
                )
            }
        })
        .collect();
    let Some(b) = batch(entity, columns) else {
        return Vec::new();
    };
    let table = Table {
        entity: EntityId::from_index(0),
        batch: b,
        origin: source.shown.clone(),
    };
    super::relations::duplicate_keys(entity, &table, None, &mut sources)
}

//! Checks of the rules against the data (`segl check --data`): segments that match no record or
//! every record, conditions that never change who is in a segment, tier rows that catch no one,
//! enum values the data never has, and schema drift (columns the schema does not declare,
//! optional fields that are unknown in every record).
//!
//! Everything is computed by the engine in one evaluation per entity: memberships, tiers, and
//! one extra column per condition variant, so the checks scale like `segl run`. Values that do
//! not fit the schema, and fields missing from a file, are the loader's errors (E060x); they
//! stop the data from loading, so the checks here only ever see data a run would accept.

mod drift;
mod rules;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;

use crate::diagnostics::Diagnostic;
use crate::engine::load::UndeclaredColumns;
use crate::engine::lower::EngineError;
use crate::engine::{Dataset, RunSettings};
use crate::ir::{EntityId, Program};
use crate::source::SourceMap;

/// Every finding about `program` over `dataset`, as warnings (W075x), unsorted.
///
/// `undeclared` are the columns the loader ignored; `sources` holds the rule files (for the
/// place of an enum value in the schema).
///
/// # Errors
/// When the engine cannot evaluate the rules (missing data for an entity the rules need).
pub fn check(
    program: &Program,
    dataset: &Dataset,
    settings: &RunSettings,
    undeclared: &[UndeclaredColumns],
    sources: &SourceMap,
) -> Result<Vec<Diagnostic>, EngineError> {
    let mut found = rules::check(program, dataset, settings, sources)?;
    found.extend(drift::check(program, dataset, undeclared, sources));
    Ok(found)
}

/// "customer" or "customers", as `n` asks.
fn noun(program: &Program, entity: EntityId, n: usize) -> String {
    let name = program
        .entities
        .get(entity.index())
        .map_or("record", |e| e.name.as_str());
    if n == 1 {
        return name.to_owned();
    }
    if let Some(stem) = name.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if name.ends_with('s') || name.ends_with('x') || name.ends_with("ch") || name.ends_with("sh") {
        return format!("{name}es");
    }
    format!("{name}s")
}

/// `3,000 customers`, `1 customer`.
fn count(program: &Program, entity: EntityId, n: usize) -> String {
    format!(
        "{} {}",
        crate::diagnostics::thousands(n as u64),
        noun(program, entity, n)
    )
}

/// A boolean column as plain values (unknown counts as false).
fn flags(column: &ArrayRef) -> Vec<bool> {
    match column.as_boolean_opt() {
        Some(b) => (0..b.len()).map(|i| b.is_valid(i) && b.value(i)).collect(),
        None => vec![false; column.len()],
    }
}

/// The key of row `row` of a membership batch (its first column), as text.
fn key_at(batch: &RecordBatch, row: usize) -> Option<String> {
    if batch.num_columns() == 0 || row >= batch.num_rows() {
        return None;
    }
    array_value_to_string(batch.column(0), row).ok()
}

/// A short excerpt of rule text for a message: one line, at most 60 characters.
fn excerpt(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= 60 {
        one_line
    } else {
        let cut: String = one_line.chars().take(57).collect();
        format!("{cut}...")
    }
}

//! The reference evaluator: a small tree-walking interpreter over the typed IR, record by record.
//!
//! It is the definition of what a program means on data: `segl why` uses it to explain one
//! record, in-language tests run on it, and the engine and every SQL backend are tested against
//! it. It reads the same validated Arrow batches as the engine (see [`crate::engine::Table`]).
//!
//! - [`evaluate`]: memberships, tiers and scores of every record, as the engine returns them.
//! - [`why`]: the same for one record, with every sub-condition and the values that decided it.
//! - [`render`]: an explanation as plain text.

mod data;
mod eval;
mod probe;
mod render;
mod text;
mod value;

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, StringArray, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use crate::engine::{Dataset, Membership, RunSettings};
use crate::ir::{EntityId, Program, ScoreId, SegmentId, TierSetId, Type};

pub use eval::Rec;
pub use probe::{Probe, condition_text};
pub use render::render;

use eval::Evaluator;
use value::{V, compare};

/// Why a run or an explanation could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalError {
    /// No record of the entity has this key.
    NoSuchRecord {
        entity: String,
        key: String,
        /// Keys that look like the one asked for.
        suggestions: Vec<String>,
    },
    /// The run has no data for the entity.
    NoData { entity: String },
    /// The segment asked for is about another entity.
    WrongEntity {
        segment: String,
        segment_entity: String,
        entity: String,
    },
    /// The data does not have the shape the schema promises (a bug in loading).
    BadData(String),
    /// A score's points add up beyond the largest whole number.
    Overflow { score: String, key: String },
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::NoSuchRecord {
                entity,
                key,
                suggestions,
            } => {
                write!(f, "there is no {entity} with the key \"{key}\"")?;
                match suggestions.as_slice() {
                    [] => Ok(()),
                    [one] => write!(f, "; did you mean \"{one}\"?"),
                    many => write!(
                        f,
                        "; keys that look similar: {}",
                        many.iter()
                            .map(|k| format!("\"{k}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            }
            EvalError::NoData { entity } => {
                write!(f, "there is no data for {entity} records in this run")
            }
            EvalError::WrongEntity {
                segment,
                segment_entity,
                entity,
            } => write!(
                f,
                "the segment `{segment}` is about {segment_entity} records, not {entity} records"
            ),
            EvalError::BadData(detail) => write!(f, "the data is not as the schema says: {detail}"),
            EvalError::Overflow { score, key } => write!(
                f,
                "the points of `{score}` for \"{key}\" add up to more than segl can count"
            ),
        }
    }
}

impl std::error::Error for EvalError {}

/// The explanation of one record: every segment (or the one asked for), tier set and score of
/// its entity, with the reasons.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    pub entity: EntityId,
    /// The record's key as shown to users.
    pub key: String,
    pub as_of: jiff::civil::Date,
    /// The project's time zone name.
    pub time_zone: String,
    pub items: Vec<Item>,
}

/// One explained segment, tier set or score.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Segment {
        segment: SegmentId,
        member: bool,
        condition: Node,
    },
    Tiers {
        tier_set: TierSetId,
        /// The row the record falls in.
        chosen: Option<usize>,
        /// One per row: the explained condition of the rows tried (`None` for `otherwise` and
        /// for rows after the chosen one).
        rows: Vec<Option<Node>>,
    },
    Score {
        score: ScoreId,
        /// `None` when the points overflow.
        total: Option<i64>,
        /// One per rule.
        rules: Vec<Node>,
    },
}

/// One condition, whether it holds, the values that decided it, and its parts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The condition in segl (`last_login is more than 30 days ago`), or `all of`, `any of`,
    /// `none of` for groups.
    pub text: String,
    pub holds: bool,
    /// What decided it, in plain words: `last_login is 2026-11-18 (2 days before the as-of date)`.
    pub facts: Vec<String>,
    pub children: Vec<Node>,
}

/// Evaluates every segment, tier set and score of the program over the data.
///
/// Returns one [`Membership`] per entity that has segments, tier sets or scores (in entity
/// order), with the columns documented there and rows sorted by key. An entity without data
/// gets an empty membership.
///
/// # Errors
/// When the data does not match the schema, or a score overflows.
pub fn evaluate(
    program: &Program,
    data: &Dataset,
    settings: &RunSettings,
) -> Result<Vec<Membership>, EvalError> {
    let ev = Evaluator::new(program, data, settings)?;
    let mut out = Vec::new();
    for (ei, entity_def) in program.entities.iter().enumerate() {
        let entity = EntityId::from_index(ei);
        let segments: Vec<(usize, &crate::ir::SegmentDef)> = program
            .segments
            .iter()
            .enumerate()
            .filter(|(_, s)| s.entity == entity)
            .collect();
        let tiers: Vec<(usize, &crate::ir::TierSetDef)> = program
            .tier_sets
            .iter()
            .enumerate()
            .filter(|(_, t)| t.entity == entity)
            .collect();
        let scores: Vec<(usize, &crate::ir::ScoreDef)> = program
            .scores
            .iter()
            .enumerate()
            .filter(|(_, s)| s.entity == entity)
            .collect();
        if segments.is_empty() && tiers.is_empty() && scores.is_empty() {
            continue;
        }
        let key_field = entity_def.fields.get(entity_def.key.index());
        let key_name = key_field.map_or("key", |f| f.name.as_str());
        let (key_column, order): (ArrayRef, Vec<usize>) = match data.table(entity) {
            Some(table) => {
                let order = sorted_rows(&ev, entity)?;
                let indices: Vec<u32> = order
                    .iter()
                    .map(|r| u32::try_from(*r).unwrap_or(u32::MAX))
                    .collect();
                let column = table
                    .batch
                    .columns()
                    .get(entity_def.key.index())
                    .ok_or_else(|| {
                        EvalError::BadData(format!("{}: no key column", table.origin))
                    })?;
                let taken = take(column.as_ref(), &UInt32Array::from(indices), None)
                    .map_err(|e| EvalError::BadData(e.to_string()))?;
                (taken, order)
            }
            None => {
                let ty = key_field.map_or(Type::Text, |f| f.ty.clone());
                (
                    datafusion::arrow::array::new_empty_array(&crate::engine::types::arrow_type(
                        &ty, 0,
                    )),
                    Vec::new(),
                )
            }
        };
        let mut fields = vec![Field::new(key_name, key_column.data_type().clone(), false)];
        let mut columns: Vec<ArrayRef> = vec![key_column];
        for (_, s) in &segments {
            let mut values = Vec::with_capacity(order.len());
            for row in &order {
                values.push(ev.cond(&s.condition, Rec { entity, row: *row })?);
            }
            fields.push(Field::new(
                &s.name,
                datafusion::arrow::datatypes::DataType::Boolean,
                false,
            ));
            columns.push(Arc::new(BooleanArray::from(values)));
        }
        for (ti, t) in &tiers {
            let mut values = Vec::with_capacity(order.len());
            for row in &order {
                let chosen = ev.tier(TierSetId::from_index(*ti), Rec { entity, row: *row })?;
                values.push(
                    chosen
                        .and_then(|i| t.rows.get(i))
                        .map_or_else(String::new, |r| r.name.clone()),
                );
            }
            fields.push(Field::new(
                &t.name,
                datafusion::arrow::datatypes::DataType::Utf8,
                false,
            ));
            columns.push(Arc::new(StringArray::from(values)));
        }
        for (si, s) in &scores {
            let mut values = Vec::with_capacity(order.len());
            for row in &order {
                let rec = Rec { entity, row: *row };
                match ev.score(ScoreId::from_index(*si), rec)? {
                    Some(v) => values.push(v),
                    None => {
                        return Err(EvalError::Overflow {
                            score: s.name.clone(),
                            key: show_key(&ev.key_of(rec)?),
                        });
                    }
                }
            }
            fields.push(Field::new(
                &s.name,
                datafusion::arrow::datatypes::DataType::Int64,
                false,
            ));
            columns.push(Arc::new(Int64Array::from(values)));
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .map_err(|e| EvalError::BadData(e.to_string()))?;
        out.push(Membership { entity, batch });
    }
    Ok(out)
}

/// The rows of an entity's table in key order.
fn sorted_rows(ev: &Evaluator<'_>, entity: EntityId) -> Result<Vec<usize>, EvalError> {
    let mut keyed = Vec::with_capacity(ev.rows(entity));
    for row in 0..ev.rows(entity) {
        keyed.push((ev.key_of(Rec { entity, row })?, row));
    }
    keyed.sort_by(|(a, ra), (b, rb)| {
        compare(a, b)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(ra.cmp(rb))
    });
    Ok(keyed.into_iter().map(|(_, r)| r).collect())
}

/// A key as users write it.
fn show_key(v: &V) -> String {
    match v {
        V::Text(s) | V::Enum(s) => s.clone(),
        V::Int(i) => i.to_string(),
        V::Date(d) => d.to_string(),
        V::Dec(d) => d.to_string(),
        other => format!("{other:?}"),
    }
}

/// Explains one record: for each segment of its entity (or only `segment`), each tier set and
/// each score, the conditions and the values that decided them.
///
/// # Errors
/// When the entity has no data, no record has the key (with similar keys as suggestions), the
/// segment is about another entity, or the data does not match the schema.
pub fn why(
    program: &Program,
    data: &Dataset,
    settings: &RunSettings,
    entity: EntityId,
    key: &str,
    segment: Option<SegmentId>,
) -> Result<Explanation, EvalError> {
    let entity_name = program
        .entities
        .get(entity.index())
        .map_or_else(|| "?".to_owned(), |e| e.name.clone());
    if let Some(s) = segment.and_then(|s| program.segments.get(s.index()))
        && s.entity != entity
    {
        return Err(EvalError::WrongEntity {
            segment: s.name.clone(),
            segment_entity: program.entity(s.entity).name.clone(),
            entity: entity_name,
        });
    }
    if data.table(entity).is_none() {
        return Err(EvalError::NoData {
            entity: entity_name,
        });
    }
    let ev = Evaluator::new(program, data, settings)?;
    let mut found = None;
    let mut all_keys = Vec::new();
    for row in 0..ev.rows(entity) {
        let shown = show_key(&ev.key_of(Rec { entity, row })?);
        if shown == key {
            found = Some(row);
            break;
        }
        all_keys.push(shown);
    }
    let Some(row) = found else {
        return Err(EvalError::NoSuchRecord {
            entity: entity_name,
            key: key.to_owned(),
            suggestions: similar_keys(key, all_keys),
        });
    };
    let rec = Rec { entity, row };
    let explainer = render::Explainer { ev: &ev };
    let mut items = Vec::new();
    for (i, s) in program.segments.iter().enumerate() {
        let id = SegmentId::from_index(i);
        if s.entity != entity || segment.is_some_and(|only| only != id) {
            continue;
        }
        let condition = explainer.node(&s.condition, rec)?;
        items.push(Item::Segment {
            segment: id,
            member: condition.holds,
            condition,
        });
    }
    if segment.is_none() {
        for (i, t) in program.tier_sets.iter().enumerate() {
            if t.entity != entity {
                continue;
            }
            let id = TierSetId::from_index(i);
            let chosen = ev.tier(id, rec)?;
            let mut rows = Vec::new();
            for (ri, r) in t.rows.iter().enumerate() {
                let tried = chosen.is_none_or(|c| ri <= c);
                rows.push(match (&r.condition, tried) {
                    (Some(c), true) => Some(explainer.node(c, rec)?),
                    _ => None,
                });
            }
            items.push(Item::Tiers {
                tier_set: id,
                chosen,
                rows,
            });
        }
        for (i, s) in program.scores.iter().enumerate() {
            if s.entity != entity {
                continue;
            }
            let id = ScoreId::from_index(i);
            let mut rules = Vec::new();
            for r in &s.rules {
                rules.push(explainer.node(&r.condition, rec)?);
            }
            items.push(Item::Score {
                score: id,
                total: ev.score(id, rec)?,
                rules,
            });
        }
    }
    Ok(Explanation {
        entity,
        key: key.to_owned(),
        as_of: settings.as_of.date,
        time_zone: settings
            .as_of
            .time_zone
            .iana_name()
            .unwrap_or("UTC")
            .to_owned(),
        items,
    })
}

/// Up to five keys close to `key` (by edit distance, or sharing its start), closest first.
fn similar_keys(key: &str, keys: Vec<String>) -> Vec<String> {
    let limit = (key.chars().count() / 3).max(2);
    let lower = key.to_lowercase();
    let mut scored: Vec<(usize, String)> = keys
        .into_iter()
        .filter_map(|k| {
            let d = strsim::levenshtein(&lower, &k.to_lowercase());
            let prefix = !lower.is_empty() && k.to_lowercase().starts_with(&lower);
            (d <= limit || prefix).then_some((d, k))
        })
        .collect();
    scored.sort();
    scored.dedup();
    scored.into_iter().take(5).map(|(_, k)| k).collect()
}

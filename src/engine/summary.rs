//! What a run found, as numbers: members per segment, the distribution of each tier set and the
//! spread of each score. Built from the membership tables; rendered by the CLI.

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;

use crate::engine::Membership;
use crate::engine::lower::Evaluation;
use crate::ir::{Program, ScoreId, SegmentId, TierSetId};

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Summary {
    pub entities: Vec<EntitySummary>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EntitySummary {
    pub entity: String,
    /// How many records of the entity were evaluated.
    pub records: u64,
    pub segments: Vec<SegmentSummary>,
    pub tier_sets: Vec<TierSetSummary>,
    pub scores: Vec<ScoreSummary>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SegmentSummary {
    pub name: String,
    pub title: Option<String>,
    pub members: u64,
    /// Members as a share of all records (0 to 1).
    pub share: f64,
    /// Records outside the segment while a value it tests was unknown.
    pub excluded_by_unknown: u64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TierSetSummary {
    pub name: String,
    pub title: Option<String>,
    /// Each tier in declaration order with its record count and share.
    pub tiers: Vec<TierCount>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TierCount {
    pub tier: String,
    pub records: u64,
    pub share: f64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ScoreSummary {
    pub name: String,
    pub title: Option<String>,
    pub min: i64,
    pub max: i64,
    pub mean: f64,
    /// Records per distinct score value, lowest first (at most 20 values; `None` when there are
    /// more, as for a score with many distinct values).
    pub values: Option<Vec<(i64, u64)>>,
}

#[allow(clippy::cast_precision_loss)]
fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Summarises an evaluation.
#[must_use]
pub fn summarize(program: &Program, evaluation: &Evaluation) -> Summary {
    let entities = evaluation
        .memberships
        .iter()
        .map(|m| entity_summary(program, evaluation, m))
        .collect();
    Summary { entities }
}

fn entity_summary(program: &Program, evaluation: &Evaluation, m: &Membership) -> EntitySummary {
    let batch = &m.batch;
    let records = batch.num_rows() as u64;
    let mut out = EntitySummary {
        entity: program.entity(m.entity).name.clone(),
        records,
        segments: Vec::new(),
        tier_sets: Vec::new(),
        scores: Vec::new(),
    };
    for (i, seg) in program.segments.iter().enumerate() {
        if seg.entity != m.entity {
            continue;
        }
        let Some(col) = batch.column_by_name(&seg.name) else {
            continue;
        };
        let Some(col) = col.as_boolean_opt() else {
            continue;
        };
        let members = col.true_count() as u64;
        out.segments.push(SegmentSummary {
            name: seg.name.clone(),
            title: seg.meta.title.clone(),
            members,
            share: share(members, records),
            excluded_by_unknown: evaluation
                .unknown_excluded
                .get(&SegmentId::from_index(i))
                .copied()
                .unwrap_or(0),
        });
    }
    for (i, t) in program.tier_sets.iter().enumerate() {
        let _ = TierSetId::from_index(i);
        if t.entity != m.entity {
            continue;
        }
        let Some(col) = batch.column_by_name(&t.name) else {
            continue;
        };
        let Some(col) = col.as_string_opt::<i32>() else {
            continue;
        };
        // One pass over the column, counting every tier at once.
        let mut counted: std::collections::HashMap<&str, u64> =
            t.rows.iter().map(|row| (row.name.as_str(), 0)).collect();
        for v in col.iter().flatten() {
            if let Some(n) = counted.get_mut(v) {
                *n += 1;
            }
        }
        let tiers = t
            .rows
            .iter()
            .map(|row| {
                let n = counted.get(row.name.as_str()).copied().unwrap_or(0);
                TierCount {
                    tier: row.name.clone(),
                    records: n,
                    share: share(n, records),
                }
            })
            .collect();
        out.tier_sets.push(TierSetSummary {
            name: t.name.clone(),
            title: t.meta.title.clone(),
            tiers,
        });
    }
    for (i, s) in program.scores.iter().enumerate() {
        let _ = ScoreId::from_index(i);
        if s.entity != m.entity {
            continue;
        }
        let Some(col) = batch.column_by_name(&s.name) else {
            continue;
        };
        let Some(col) = col.as_primitive_opt::<Int64Type>() else {
            continue;
        };
        let mut counts: std::collections::BTreeMap<i64, u64> = std::collections::BTreeMap::new();
        let mut sum: i128 = 0;
        for v in col.iter().flatten() {
            *counts.entry(v).or_default() += 1;
            sum += i128::from(v);
        }
        #[allow(clippy::cast_precision_loss)]
        let mean = if col.is_empty() {
            0.0
        } else {
            sum as f64 / col.len() as f64
        };
        out.scores.push(ScoreSummary {
            name: s.name.clone(),
            title: s.meta.title.clone(),
            min: counts.keys().next().copied().unwrap_or(0),
            max: counts.keys().next_back().copied().unwrap_or(0),
            mean,
            values: (counts.len() <= 20).then(|| counts.into_iter().collect()),
        });
    }
    out
}

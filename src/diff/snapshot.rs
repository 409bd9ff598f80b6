//! One evaluation as plain values: per entity the record keys (in the membership's key order)
//! and, per segment, tier set and score, each record's value. `diff`, `history` and `report`
//! work on snapshots, so they never look at Arrow themselves.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::arrow::util::display::array_value_to_string;

use crate::engine::Membership;
use crate::ir::Program;

/// What kind of rule a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    Segment,
    Tiers,
    Score,
}

impl RuleKind {
    /// The word users write in rule files: `segment`, `tiers`, `score`.
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            RuleKind::Segment => "segment",
            RuleKind::Tiers => "tiers",
            RuleKind::Score => "score",
        }
    }
}

/// Each record's value for one rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// In the segment or not.
    Segment(Vec<bool>),
    /// The index of the record's tier in `tiers` (declaration order).
    Tiers {
        tiers: Vec<String>,
        chosen: Vec<usize>,
    },
    Score(Vec<i64>),
}

/// One segment, tier set or score with its values.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleColumn {
    pub name: String,
    pub kind: RuleKind,
    pub title: Option<String>,
    pub values: Values,
}

impl RuleColumn {
    /// The record at `row` as the value a history stores: `true` (segments, members only), the
    /// tier's name, or the score as text. `None` for a record outside a segment.
    #[must_use]
    pub fn value_text(&self, row: usize) -> Option<String> {
        match &self.values {
            Values::Segment(v) => v
                .get(row)
                .copied()
                .filter(|b| *b)
                .map(|_| "true".to_owned()),
            Values::Tiers { tiers, chosen } => chosen.get(row).and_then(|i| tiers.get(*i)).cloned(),
            Values::Score(v) => v.get(row).map(i64::to_string),
        }
    }
}

/// One entity's records and rules.
#[derive(Clone, Debug, PartialEq)]
pub struct EntitySnapshot {
    pub entity: String,
    /// Record keys as text, in the membership's order (sorted by key).
    pub keys: Vec<String>,
    pub rules: Vec<RuleColumn>,
}

impl EntitySnapshot {
    #[must_use]
    pub fn rule(&self, kind: RuleKind, name: &str) -> Option<&RuleColumn> {
        self.rules.iter().find(|r| r.kind == kind && r.name == name)
    }
}

/// Every entity of one evaluation.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Snapshot {
    pub entities: Vec<EntitySnapshot>,
}

impl Snapshot {
    /// Reads the membership tables of an evaluation of `program`.
    #[must_use]
    pub fn new(program: &Program, memberships: &[Membership]) -> Snapshot {
        let entities = memberships
            .iter()
            .map(|m| entity_snapshot(program, m))
            .collect();
        Snapshot { entities }
    }

    #[must_use]
    pub fn entity(&self, name: &str) -> Option<&EntitySnapshot> {
        self.entities.iter().find(|e| e.entity == name)
    }
}

fn entity_snapshot(program: &Program, m: &Membership) -> EntitySnapshot {
    let batch = &m.batch;
    let keys = match batch.columns().first() {
        Some(col) => (0..col.len())
            .map(|i| {
                if col.is_null(i) {
                    String::new()
                } else {
                    array_value_to_string(col, i).unwrap_or_default()
                }
            })
            .collect(),
        None => Vec::new(),
    };
    let mut rules = Vec::new();
    for seg in program.segments.iter().filter(|s| s.entity == m.entity) {
        if let Some(col) = batch
            .column_by_name(&seg.name)
            .and_then(|c| c.as_boolean_opt())
        {
            rules.push(RuleColumn {
                name: seg.name.clone(),
                kind: RuleKind::Segment,
                title: seg.meta.title.clone(),
                values: Values::Segment(col.iter().map(|v| v.unwrap_or(false)).collect()),
            });
        }
    }
    for t in program.tier_sets.iter().filter(|t| t.entity == m.entity) {
        if let Some(col) = batch
            .column_by_name(&t.name)
            .and_then(|c| c.as_string_opt::<i32>())
        {
            let tiers: Vec<String> = t.rows.iter().map(|r| r.name.clone()).collect();
            let chosen = col
                .iter()
                .map(|v| {
                    v.and_then(|v| tiers.iter().position(|t| t == v))
                        .unwrap_or(tiers.len().saturating_sub(1))
                })
                .collect();
            rules.push(RuleColumn {
                name: t.name.clone(),
                kind: RuleKind::Tiers,
                title: t.meta.title.clone(),
                values: Values::Tiers { tiers, chosen },
            });
        }
    }
    for s in program.scores.iter().filter(|s| s.entity == m.entity) {
        if let Some(col) = batch
            .column_by_name(&s.name)
            .and_then(|c| c.as_primitive_opt::<Int64Type>())
        {
            rules.push(RuleColumn {
                name: s.name.clone(),
                kind: RuleKind::Score,
                title: s.meta.title.clone(),
                values: Values::Score(col.iter().map(|v| v.unwrap_or(0)).collect()),
            });
        }
    }
    EntitySnapshot {
        entity: program.entity(m.entity).name.clone(),
        keys,
        rules,
    }
}

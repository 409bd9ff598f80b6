//! `segl diff`: what changes between two evaluations, rule by rule. The two sides are either two
//! versions of the rules over the same data (`--base REV`), or the same rules over two data
//! snapshots or two as-of dates. Both come in as [`Side`]s; [`compare`] returns a [`Diff`], and
//! `render` prints it for people, scripts and pull-request comments.

pub mod definitions;
pub mod render;
pub mod snapshot;

use std::collections::{BTreeMap, HashMap};

use definitions::{Change, Definition, ItemKind};
use snapshot::{EntitySnapshot, RuleColumn, RuleKind, Snapshot, Values};

/// How many example keys are listed for each kind of change.
pub const EXAMPLES: usize = 5;

/// One side of a comparison: what was evaluated, and (for rule changes) the rules' texts.
pub struct Side<'a> {
    /// How to name this side: `main (3f2a1c9)`, `working tree`, `data/2026-10`, `as of 2026-10-01`.
    pub label: String,
    pub snapshot: &'a Snapshot,
    /// The formatted text of each rule; empty when both sides share the rules.
    pub definitions: &'a BTreeMap<(ItemKind, String), Definition>,
}

/// What happened to a rule's definition between the two sides.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "status")]
pub enum Status {
    Unchanged,
    Changed,
    Added,
    Removed,
    /// The same definition under a new name.
    Renamed {
        from: String,
    },
}

/// Everything that differs between two evaluations.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Diff {
    pub before: String,
    pub after: String,
    /// Whether the two sides have different rules (their definitions were compared).
    pub rules_compared: bool,
    /// Lines about what both sides share or how they differ (as-of dates, data), set by the caller.
    pub context: Vec<String>,
    pub entities: Vec<EntityDiff>,
    /// Definitions (`define`) and parameters whose text changed, was added or removed.
    pub definitions: Vec<ItemDiff>,
}

/// A `define` or `param` that differs.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ItemDiff {
    pub kind: ItemKind,
    pub name: String,
    #[serde(flatten)]
    pub status: Status,
    pub definition: Change,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EntityDiff {
    pub entity: String,
    pub records_before: u64,
    pub records_after: u64,
    /// Records only in the after side (new keys), and only in the before side.
    pub records_added: u64,
    pub records_removed: u64,
    pub rules: Vec<RuleDiff>,
}

/// One segment, tier set or score compared.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RuleDiff {
    pub name: String,
    pub kind: RuleKind,
    pub title: Option<String>,
    #[serde(flatten)]
    pub status: Status,
    /// The definition before and after, when its text changed.
    pub definition: Option<Change>,
    /// Records whose membership, tier or score differs, as a percentage of the records (of the
    /// before side's members for segments). 100 for rules added or removed.
    pub change_percent: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tiers: Option<TierChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<ScoreChange>,
}

impl RuleDiff {
    /// Whether anything about the rule differs: its text, its name, or any record's outcome.
    #[must_use]
    pub fn is_changed(&self) -> bool {
        if self.status != Status::Unchanged {
            return true;
        }
        if let Some(s) = &self.segment {
            return s.entered + s.left > 0;
        }
        if let Some(t) = &self.tiers {
            return t.moved > 0;
        }
        if let Some(s) = &self.score {
            return s.changed > 0;
        }
        false
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SegmentChange {
    pub members_before: u64,
    pub members_after: u64,
    pub entered: u64,
    pub left: u64,
    /// The first few keys (in key order) of records that entered, and that left.
    pub entered_examples: Vec<String>,
    pub left_examples: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TierChange {
    /// Every tier of either side (after's order, then tiers only before), and `none` last when
    /// some record is on one side only.
    pub labels: Vec<String>,
    /// `counts[from][to]`: records in tier `labels[from]` before and `labels[to]` after.
    pub counts: Vec<Vec<u64>>,
    /// Per tier: records before, after, entered, left.
    pub tiers: Vec<TierCount>,
    /// Records whose tier differs (including records on one side only).
    pub moved: u64,
    /// The largest moves, most records first: from, to, records, example keys.
    pub moves: Vec<Move>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TierCount {
    pub tier: String,
    pub before: u64,
    pub after: u64,
    pub entered: u64,
    pub left: u64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Move {
    pub from: String,
    pub to: String,
    pub records: u64,
    pub examples: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ScoreChange {
    pub mean_before: f64,
    pub mean_after: f64,
    /// Records present on both sides whose score differs, how many went up and down.
    pub changed: u64,
    pub raised: u64,
    pub lowered: u64,
    /// The first few changed records (key order): key, score before, score after.
    pub examples: Vec<(String, i64, i64)>,
}

/// The name of the pseudo-tier of a record that is on one side only.
pub const NONE: &str = "(none)";

impl Diff {
    /// Whether anything differs at all.
    #[must_use]
    pub fn has_changes(&self) -> bool {
        !self.definitions.is_empty()
            || self.entities.iter().any(|e| {
                e.records_added + e.records_removed > 0 || e.rules.iter().any(RuleDiff::is_changed)
            })
    }

    /// Whether some record's membership, tier or score differs: a record entered or left a
    /// segment, moved to another tier (or from or to `(none)`), or has another score, or a
    /// score is new or removed while there are records. A new name for a rule with the same
    /// outcome, or a changed text that moves nobody, is not such a change.
    #[must_use]
    pub fn outcomes_changed(&self) -> bool {
        self.entities.iter().any(|e| {
            e.rules.iter().any(|r| {
                if let Some(s) = &r.segment {
                    return s.entered + s.left > 0;
                }
                if let Some(t) = &r.tiers {
                    return t.moved > 0;
                }
                if let Some(s) = &r.score {
                    return s.changed > 0
                        || (r.status == Status::Added && e.records_after > 0)
                        || (r.status == Status::Removed && e.records_before > 0);
                }
                false
            })
        })
    }

    /// Whether the text of some segment, tier set, score, definition or parameter differs, or a
    /// rule was added, removed or renamed.
    #[must_use]
    pub fn definitions_changed(&self) -> bool {
        !self.definitions.is_empty()
            || self
                .entities
                .iter()
                .any(|e| e.rules.iter().any(|r| r.status != Status::Unchanged))
    }

    /// The largest `change_percent` of any rule, with the rule's name.
    #[must_use]
    pub fn largest_change(&self) -> Option<(&str, f64)> {
        self.entities
            .iter()
            .flat_map(|e| e.rules.iter())
            .filter(|r| r.is_changed())
            .map(|r| (r.name.as_str(), r.change_percent))
            .fold(None, |best: Option<(&str, f64)>, (n, p)| match best {
                Some((_, b)) if b >= p => best,
                _ => Some((n, p)),
            })
    }
}

/// Compares two sides.
#[must_use]
pub fn compare(before: &Side<'_>, after: &Side<'_>) -> Diff {
    let mut entities = Vec::new();
    let mut names: Vec<&str> = after
        .snapshot
        .entities
        .iter()
        .map(|e| e.entity.as_str())
        .collect();
    for e in &before.snapshot.entities {
        if !names.contains(&e.entity.as_str()) {
            names.push(&e.entity);
        }
    }
    let empty = |name: &str| EntitySnapshot {
        entity: name.to_owned(),
        keys: Vec::new(),
        rules: Vec::new(),
    };
    for name in names {
        let b = before
            .snapshot
            .entity(name)
            .cloned()
            .unwrap_or_else(|| empty(name));
        let a = after
            .snapshot
            .entity(name)
            .cloned()
            .unwrap_or_else(|| empty(name));
        entities.push(compare_entity(&b, &a, before, after));
    }
    let mut definitions = Vec::new();
    for kind in [ItemKind::Define, ItemKind::Param] {
        let keys: std::collections::BTreeSet<&String> = before
            .definitions
            .keys()
            .chain(after.definitions.keys())
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| n)
            .collect();
        for name in keys {
            let key = (kind, name.clone());
            let (status, definition) =
                match (before.definitions.get(&key), after.definitions.get(&key)) {
                    (Some(b), Some(a)) if b.text == a.text => continue,
                    (Some(b), Some(a)) => (Status::Changed, Change::new(&b.text, &a.text)),
                    (Some(b), None) => (Status::Removed, Change::new(&b.text, "")),
                    (None, Some(a)) => (Status::Added, Change::new("", &a.text)),
                    (None, None) => continue,
                };
            definitions.push(ItemDiff {
                kind,
                name: name.clone(),
                status,
                definition,
            });
        }
    }
    Diff {
        before: before.label.clone(),
        after: after.label.clone(),
        rules_compared: !before.definitions.is_empty() || !after.definitions.is_empty(),
        context: Vec::new(),
        entities,
        definitions,
    }
}

fn item_kind(kind: RuleKind) -> ItemKind {
    match kind {
        RuleKind::Segment => ItemKind::Segment,
        RuleKind::Tiers => ItemKind::Tiers,
        RuleKind::Score => ItemKind::Score,
    }
}

/// Where each key is on the other side: `to_after[i]` is the after row of before row `i`.
struct Join {
    to_after: Vec<Option<usize>>,
    to_before: Vec<Option<usize>>,
}

fn join(before: &[String], after: &[String]) -> Join {
    let index: HashMap<&str, usize> = after
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let to_after: Vec<Option<usize>> = before
        .iter()
        .map(|k| index.get(k.as_str()).copied())
        .collect();
    let mut to_before = vec![None; after.len()];
    for (b, a) in to_after.iter().enumerate() {
        if let Some(slot) = a.and_then(|a| to_before.get_mut(a)) {
            *slot = Some(b);
        }
    }
    Join {
        to_after,
        to_before,
    }
}

fn compare_entity(
    b: &EntitySnapshot,
    a: &EntitySnapshot,
    before: &Side<'_>,
    after: &Side<'_>,
) -> EntityDiff {
    let j = join(&b.keys, &a.keys);
    let records_added = j.to_before.iter().filter(|x| x.is_none()).count() as u64;
    let records_removed = j.to_after.iter().filter(|x| x.is_none()).count() as u64;

    // Pair rules by kind and name; then pair what is left over by identical definitions.
    let mut pairs: Vec<(Option<&RuleColumn>, Option<&RuleColumn>, Status)> = Vec::new();
    let mut only_before: Vec<&RuleColumn> = Vec::new();
    for r in &b.rules {
        if a.rule(r.kind, &r.name).is_none() {
            only_before.push(r);
        }
    }
    for r in &a.rules {
        let key = (item_kind(r.kind), r.name.clone());
        match b.rule(r.kind, &r.name) {
            Some(old) => {
                let status = match (before.definitions.get(&key), after.definitions.get(&key)) {
                    (Some(x), Some(y)) if x.text != y.text => Status::Changed,
                    _ => Status::Unchanged,
                };
                pairs.push((Some(old), Some(r), status));
            }
            None => {
                let renamed_from = after.definitions.get(&key).and_then(|def| {
                    only_before.iter().position(|old| {
                        old.kind == r.kind
                            && before
                                .definitions
                                .get(&(item_kind(old.kind), old.name.clone()))
                                .is_some_and(|d| d.nameless == def.nameless)
                    })
                });
                match renamed_from {
                    Some(i) => {
                        let old = only_before.remove(i);
                        pairs.push((
                            Some(old),
                            Some(r),
                            Status::Renamed {
                                from: old.name.clone(),
                            },
                        ));
                    }
                    None => pairs.push((None, Some(r), Status::Added)),
                }
            }
        }
    }
    for old in only_before {
        pairs.push((Some(old), None, Status::Removed));
    }

    let rules = pairs
        .into_iter()
        .map(|(old, new, status)| {
            let rule = new.or(old)?;
            let definition = match &status {
                Status::Unchanged => None,
                _ => {
                    let text = |side: &Side<'_>, r: Option<&RuleColumn>| {
                        r.and_then(|r| side.definitions.get(&(item_kind(r.kind), r.name.clone())))
                            .map(|d| d.text.clone())
                            .unwrap_or_default()
                    };
                    let (x, y) = (text(before, old), text(after, new));
                    (x != y && !(x.is_empty() && y.is_empty())).then(|| Change::new(&x, &y))
                }
            };
            Some(rule_diff(rule, old, new, status, definition, b, a, &j))
        })
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default();

    EntityDiff {
        entity: a.entity.clone(),
        records_before: b.keys.len() as u64,
        records_after: a.keys.len() as u64,
        records_added,
        records_removed,
        rules,
    }
}

#[allow(clippy::cast_precision_loss)]
fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        if part == 0 { 0.0 } else { 100.0 }
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

#[allow(clippy::too_many_arguments)]
fn rule_diff(
    rule: &RuleColumn,
    old: Option<&RuleColumn>,
    new: Option<&RuleColumn>,
    status: Status,
    definition: Option<Change>,
    b: &EntitySnapshot,
    a: &EntitySnapshot,
    j: &Join,
) -> RuleDiff {
    let mut out = RuleDiff {
        name: rule.name.clone(),
        kind: rule.kind,
        title: rule.title.clone(),
        status,
        definition,
        change_percent: 0.0,
        segment: None,
        tiers: None,
        score: None,
    };
    let whole_rule_moved = matches!(out.status, Status::Added | Status::Removed);
    match rule.kind {
        RuleKind::Segment => {
            let member =
                |r: Option<&RuleColumn>, row: Option<usize>| match (r.map(|r| &r.values), row) {
                    (Some(Values::Segment(v)), Some(i)) => v.get(i).copied().unwrap_or(false),
                    _ => false,
                };
            let members_before = (0..b.keys.len()).filter(|i| member(old, Some(*i))).count() as u64;
            let members_after = (0..a.keys.len()).filter(|i| member(new, Some(*i))).count() as u64;
            let entered: Vec<usize> = (0..a.keys.len())
                .filter(|i| {
                    member(new, Some(*i)) && !member(old, j.to_before.get(*i).copied().flatten())
                })
                .collect();
            let left: Vec<usize> = (0..b.keys.len())
                .filter(|i| {
                    member(old, Some(*i)) && !member(new, j.to_after.get(*i).copied().flatten())
                })
                .collect();
            let examples = |rows: &[usize], keys: &[String]| -> Vec<String> {
                rows.iter()
                    .take(EXAMPLES)
                    .filter_map(|i| keys.get(*i).cloned())
                    .collect()
            };
            let change = SegmentChange {
                members_before,
                members_after,
                entered: entered.len() as u64,
                left: left.len() as u64,
                entered_examples: examples(&entered, &a.keys),
                left_examples: examples(&left, &b.keys),
            };
            out.change_percent = if whole_rule_moved {
                100.0
            } else {
                percent(change.entered + change.left, members_before)
            };
            out.segment = Some(change);
        }
        RuleKind::Tiers => {
            let tiers_of = |r: Option<&RuleColumn>| match r.map(|r| &r.values) {
                Some(Values::Tiers { tiers, chosen }) => Some((tiers.clone(), chosen.clone())),
                _ => None,
            };
            let (bt, bc) = tiers_of(old).unwrap_or_default();
            let (at, ac) = tiers_of(new).unwrap_or_default();
            let mut labels: Vec<String> = at.clone();
            for t in &bt {
                if !labels.contains(t) {
                    labels.push(t.clone());
                }
            }
            let none_needed = old.is_none()
                || new.is_none()
                || j.to_after.iter().any(Option::is_none)
                || j.to_before.iter().any(Option::is_none);
            if none_needed {
                labels.push(NONE.to_owned());
            }
            let label_index = |tiers: &[String], chosen: &[usize], row: Option<usize>| -> usize {
                let name = row
                    .and_then(|r| chosen.get(r))
                    .and_then(|c| tiers.get(*c))
                    .map_or(NONE, String::as_str);
                labels
                    .iter()
                    .position(|l| l == name)
                    .unwrap_or(labels.len().saturating_sub(1))
            };
            let n = labels.len();
            let mut counts = vec![vec![0u64; n]; n];
            let mut move_keys: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
            let mut record = |from: usize, to: usize, key: &String| {
                if let Some(c) = counts.get_mut(from).and_then(|row| row.get_mut(to)) {
                    *c += 1;
                }
                if from != to {
                    let keys = move_keys.entry((from, to)).or_default();
                    if keys.len() < EXAMPLES {
                        keys.push(key.clone());
                    }
                }
            };
            for (i, key) in b.keys.iter().enumerate() {
                let to_row = j.to_after.get(i).copied().flatten();
                let from = label_index(&bt, &bc, Some(i).filter(|_| old.is_some()));
                let to = label_index(&at, &ac, to_row.filter(|_| new.is_some()));
                record(from, to, key);
            }
            for (i, key) in a.keys.iter().enumerate() {
                if j.to_before.get(i).copied().flatten().is_none() {
                    let to = label_index(&at, &ac, Some(i).filter(|_| new.is_some()));
                    record(label_index(&[], &[], None), to, key);
                }
            }
            let moved: u64 = counts
                .iter()
                .enumerate()
                .flat_map(|(f, row)| {
                    row.iter()
                        .enumerate()
                        .filter(move |(t, _)| *t != f)
                        .map(|(_, c)| *c)
                })
                .sum();
            let tiers = labels
                .iter()
                .enumerate()
                .filter(|(_, l)| l.as_str() != NONE)
                .map(|(i, l)| {
                    let row_sum: u64 = counts.get(i).map_or(0, |r| r.iter().sum());
                    let col_sum: u64 = counts.iter().filter_map(|r| r.get(i)).sum();
                    let stay = counts.get(i).and_then(|r| r.get(i)).copied().unwrap_or(0);
                    TierCount {
                        tier: l.clone(),
                        before: row_sum,
                        after: col_sum,
                        entered: col_sum - stay,
                        left: row_sum - stay,
                    }
                })
                .collect();
            let mut moves: Vec<Move> = move_keys
                .into_iter()
                .filter_map(|((f, t), examples)| {
                    Some(Move {
                        from: labels.get(f)?.clone(),
                        to: labels.get(t)?.clone(),
                        records: *counts.get(f)?.get(t)?,
                        examples,
                    })
                })
                .collect();
            moves.sort_by_key(|m| std::cmp::Reverse(m.records));
            let records = (b.keys.len() as u64).max(a.keys.len() as u64);
            out.change_percent = if whole_rule_moved {
                100.0
            } else {
                percent(moved, records)
            };
            out.tiers = Some(TierChange {
                labels,
                counts,
                tiers,
                moved,
                moves,
            });
        }
        RuleKind::Score => {
            let scores = |r: Option<&RuleColumn>| match r.map(|r| &r.values) {
                Some(Values::Score(v)) => v.clone(),
                _ => Vec::new(),
            };
            let (bs, as_) = (scores(old), scores(new));
            #[allow(clippy::cast_precision_loss)]
            let mean = |v: &[i64]| {
                if v.is_empty() {
                    0.0
                } else {
                    v.iter().map(|x| *x as f64).sum::<f64>() / v.len() as f64
                }
            };
            let mut change = ScoreChange {
                mean_before: mean(&bs),
                mean_after: mean(&as_),
                changed: 0,
                raised: 0,
                lowered: 0,
                examples: Vec::new(),
            };
            if old.is_some() && new.is_some() {
                for (i, x) in bs.iter().enumerate() {
                    let Some(y) = j
                        .to_after
                        .get(i)
                        .copied()
                        .flatten()
                        .and_then(|r| as_.get(r))
                    else {
                        continue;
                    };
                    if x != y {
                        change.changed += 1;
                        if y > x {
                            change.raised += 1;
                        } else {
                            change.lowered += 1;
                        }
                        if change.examples.len() < EXAMPLES
                            && let Some(k) = b.keys.get(i)
                        {
                            change.examples.push((k.clone(), *x, *y));
                        }
                    }
                }
            }
            let records = (b.keys.len() as u64).max(a.keys.len() as u64);
            out.change_percent = if whole_rule_moved {
                100.0
            } else {
                percent(change.changed, records)
            };
            out.score = Some(change);
        }
    }
    out
}

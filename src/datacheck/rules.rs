//! Segments and tiers over the data: W0750 (no member), W0751 (everyone a member), W0752 (a
//! condition that never changes who is in a segment), W0753 (a tier row that catches no one).
//!
//! A condition "never changes the outcome" when removing it from its `and` or `or` leaves the
//! segment with exactly the same members. Each removal is one more boolean column of the same
//! engine evaluation, so the check runs over every record at the engine's speed, with no
//! sampling.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::record_batch::RecordBatch;

use super::{count, excerpt, flags, key_at};
use crate::diagnostics::{Code, Diagnostic};
use crate::engine::lower::{EngineError, ExtraColumn, Request, Rule, evaluate};
use crate::engine::{Dataset, RunSettings};
use crate::ir::{EntityId, Expr, ExprKind, Program, SegmentId, TierSetId};
use crate::source::SourceMap;

/// Conditions tried per segment, at most (a segment with more is checked for its first ones).
const MAX_PER_SEGMENT: usize = 64;

/// One condition of a segment, removed to see whether it matters.
struct Removal {
    segment: SegmentId,
    /// The child positions from the segment's condition down to the removed condition.
    path: Vec<usize>,
    /// True when the removed condition is an operand of `and` (else of `or`).
    in_and: bool,
    /// The removed condition.
    operand: Expr,
    /// Output columns: the segment without it, and the condition itself.
    without: String,
    alone: String,
}

/// A tier row with a condition, and the output column of that condition.
struct RowProbe {
    tier_set: TierSetId,
    row: usize,
    column: String,
}

pub(super) fn check(
    program: &Program,
    dataset: &Dataset,
    settings: &RunSettings,
    sources: &SourceMap,
) -> Result<Vec<Diagnostic>, EngineError> {
    let with_records = |e: EntityId| dataset.table(e).is_some_and(|t| t.batch.num_rows() > 0);
    let mut rules = Vec::new();
    let mut columns = Vec::new();
    let mut removals = Vec::new();
    for (i, seg) in program.segments.iter().enumerate() {
        if !with_records(seg.entity) {
            continue;
        }
        let id = SegmentId::from_index(i);
        rules.push(Rule::Segment(id));
        let mut paths = Vec::new();
        removable(&seg.condition, &mut Vec::new(), &mut paths);
        for (path, in_and) in paths.into_iter().take(MAX_PER_SEGMENT) {
            let (Some(operand), Some(variant)) = (
                at_path(&seg.condition, &path),
                without(&seg.condition, &path),
            ) else {
                continue;
            };
            let n = removals.len();
            let removal = Removal {
                segment: id,
                path,
                in_and,
                operand: operand.clone(),
                without: format!("#without{n}"),
                alone: format!("#alone{n}"),
            };
            columns.push(ExtraColumn {
                entity: seg.entity,
                name: removal.without.clone(),
                value: variant,
            });
            columns.push(ExtraColumn {
                entity: seg.entity,
                name: removal.alone.clone(),
                value: operand.clone(),
            });
            removals.push(removal);
        }
    }
    let mut row_probes = Vec::new();
    for (i, set) in program.tier_sets.iter().enumerate() {
        if !with_records(set.entity) {
            continue;
        }
        let id = TierSetId::from_index(i);
        rules.push(Rule::TierSet(id));
        for (r, row) in set.rows.iter().enumerate() {
            if let Some(condition) = &row.condition {
                let column = format!("#row{}", row_probes.len());
                columns.push(ExtraColumn {
                    entity: set.entity,
                    name: column.clone(),
                    value: condition.clone(),
                });
                row_probes.push(RowProbe {
                    tier_set: id,
                    row: r,
                    column,
                });
            }
        }
    }
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let evaluation = evaluate(
        program,
        dataset,
        settings,
        &Request {
            rules: Some(rules),
            columns,
        },
    )?;
    let batches: HashMap<EntityId, &RecordBatch> = evaluation
        .memberships
        .iter()
        .map(|m| (m.entity, &m.batch))
        .collect();

    let mut found = Vec::new();
    for (i, seg) in program.segments.iter().enumerate() {
        let id = SegmentId::from_index(i);
        let Some(batch) = batches.get(&seg.entity) else {
            continue;
        };
        let Some(members) = batch.column_by_name(&seg.name).map(flags) else {
            continue;
        };
        let total = members.len();
        let inside = members.iter().filter(|m| **m).count();
        if total == 0 {
            continue;
        }
        let unknown = evaluation.unknown_excluded.get(&id).copied().unwrap_or(0);
        if inside == 0 {
            found.push(no_member(program, seg, total, unknown, batch));
        } else if inside == total {
            found.push(everyone(program, seg, total, batch));
        } else {
            let mine: Vec<&Removal> = removals.iter().filter(|r| r.segment == id).collect();
            let mut reported: Vec<&[usize]> = Vec::new();
            for r in mine {
                if reported.iter().any(|p| r.path.starts_with(p)) {
                    continue;
                }
                let (Some(without), Some(alone)) = (
                    batch.column_by_name(&r.without).map(flags),
                    batch.column_by_name(&r.alone).map(flags),
                ) else {
                    continue;
                };
                if without == members {
                    reported.push(&r.path);
                    found.push(never_matters(
                        program, sources, seg, r, &members, &alone, batch,
                    ));
                }
            }
        }
    }

    for probe in &row_probes {
        let Some(set) = program.tier_sets.get(probe.tier_set.index()) else {
            continue;
        };
        let (Some(batch), Some(row)) = (batches.get(&set.entity), set.rows.get(probe.row)) else {
            continue;
        };
        let Some(tiers) = batch
            .column_by_name(&set.name)
            .and_then(|c| c.as_string_opt::<i32>().cloned())
        else {
            continue;
        };
        let caught = (0..tiers.len())
            .filter(|&i| tiers.is_valid(i) && tiers.value(i) == row.name)
            .count();
        if caught > 0 || tiers.is_empty() {
            continue;
        }
        let holds = batch.column_by_name(&probe.column).map(flags);
        let holds = holds.unwrap_or_default();
        let first = holds.iter().position(|h| *h);
        let n = holds.iter().filter(|h| **h).count();
        let mut d = Diagnostic::new(
            Code::W0753,
            row.span,
            format!(
                "the tier `{}` of `{}` catches no {} in the data",
                row.name,
                set.name,
                super::noun(program, set.entity, 1)
            ),
        )
        .label("no record gets this tier");
        d = match first {
            None => d
                .note(format!(
                    "its condition holds for none of the {}",
                    count(program, set.entity, tiers.len())
                ))
                .help(
                    "check the condition and the values it compares with; if the data simply \
                     has no such records yet, this can stay",
                ),
            Some(i) => {
                let key = key_at(batch, i).unwrap_or_default();
                let earlier = tiers.value(i);
                d.note(format!(
                    "its condition holds for {} of {}, but rows above it catch all of them: \
                     `{key}` gets `{earlier}` first",
                    crate::diagnostics::thousands(n as u64),
                    count(program, set.entity, tiers.len())
                ))
                .help(
                    "rows are tried from the top and the first that holds wins: move this row \
                     above the rows that catch its records, or narrow those rows",
                )
            }
        };
        found.push(d);
    }
    Ok(found)
}

fn no_member(
    program: &Program,
    seg: &crate::ir::SegmentDef,
    total: usize,
    unknown: u64,
    batch: &RecordBatch,
) -> Diagnostic {
    let mut d = Diagnostic::new(
        Code::W0750,
        seg.span,
        format!(
            "`{}` matches no {} in the data",
            seg.name,
            super::noun(program, seg.entity, 1)
        ),
    )
    .label("no record meets this segment's condition")
    .note(format!(
        "0 of {} are in it",
        count(program, seg.entity, total)
    ));
    if unknown > 0 {
        d = d.note(format!(
            "{} of them are left out while a value the condition tests is unknown",
            crate::diagnostics::thousands(unknown)
        ));
    }
    if let Some(key) = key_at(batch, 0) {
        d = d.note(format!(
            "to see why a record is left out, run `segl why {key} --segment {}` in the project folder",
            seg.name
        ));
    }
    d.help(
        "check the condition and the values it compares with (a misspelt value or a threshold \
         out of the data's range is the usual cause), or the data, if it should have such records",
    )
}

fn everyone(
    program: &Program,
    seg: &crate::ir::SegmentDef,
    total: usize,
    batch: &RecordBatch,
) -> Diagnostic {
    let mut d = Diagnostic::new(
        Code::W0751,
        seg.span,
        format!(
            "`{}` matches every {} in the data",
            seg.name,
            super::noun(program, seg.entity, 1)
        ),
    )
    .label("every record meets this segment's condition")
    .note(format!(
        "{} of {} are in it",
        crate::diagnostics::thousands(total as u64),
        count(program, seg.entity, total)
    ));
    if let Some(key) = key_at(batch, 0) {
        d = d.note(format!(
            "to see why a record is in it, run `segl why {key} --segment {}` in the project folder",
            seg.name
        ));
    }
    d.help(
        "a segment of everyone singles no one out: check the condition (a threshold every record \
         passes, or `or` where `and` was meant), or whether the data is already filtered",
    )
}

#[allow(clippy::too_many_arguments)]
fn never_matters(
    program: &Program,
    sources: &SourceMap,
    seg: &crate::ir::SegmentDef,
    r: &Removal,
    members: &[bool],
    alone: &[bool],
    batch: &RecordBatch,
) -> Diagnostic {
    let total = members.len();
    let inside = members.iter().filter(|m| **m).count();
    let holds = alone.iter().filter(|h| **h).count();
    let text = excerpt(sources.snippet(r.operand.span));
    let mut d = Diagnostic::new(
        Code::W0752,
        r.operand.span,
        format!("`{text}` never changes who is in `{}`", seg.name),
    )
    .label("removing this condition keeps the same members")
    .note(format!(
        "with or without it, `{}` has the same {} of {}",
        seg.name,
        crate::diagnostics::thousands(inside as u64),
        count(program, seg.entity, total)
    ));
    // An example: a record this condition decides on its own, but whose outcome the other
    // conditions settle the same way.
    let example = if r.in_and {
        alone
            .iter()
            .position(|h| !*h)
            .map(|i| (i, "fails it, but the other conditions leave it out anyway"))
    } else {
        alone
            .iter()
            .position(|h| *h)
            .map(|i| (i, "meets it, but the other conditions let it in anyway"))
    };
    if holds == total {
        d = d.note(format!(
            "it holds for every one of the {}",
            count(program, seg.entity, total)
        ));
    } else if holds == 0 {
        d = d.note(format!(
            "it holds for none of the {}",
            count(program, seg.entity, total)
        ));
    } else {
        d = d.note(format!(
            "it holds for {} of {}",
            crate::diagnostics::thousands(holds as u64),
            count(program, seg.entity, total)
        ));
        if let Some((i, what)) = example
            && let Some(key) = key_at(batch, i)
        {
            d = d.note(format!("for example, `{key}` {what}"));
        }
    }
    d.help(
        "remove it if the data is complete, or keep it if it guards against records the data \
         does not have yet",
    )
}

/// The paths of the conditions that can be removed: the operands of every `and` and `or` with
/// more than one operand, reached through `and`, `or` and `not`, in reading order (a condition
/// before the conditions inside it).
fn removable(e: &Expr, path: &mut Vec<usize>, out: &mut Vec<(Vec<usize>, bool)>) {
    match &e.kind {
        ExprKind::And(ops) | ExprKind::Or(ops) => {
            let in_and = matches!(e.kind, ExprKind::And(_));
            for (i, op) in ops.iter().enumerate() {
                path.push(i);
                if ops.len() > 1 {
                    out.push((path.clone(), in_and));
                }
                removable(op, path, out);
                path.pop();
            }
        }
        ExprKind::Not(inner) => {
            path.push(0);
            removable(inner, path, out);
            path.pop();
        }
        _ => {}
    }
}

/// The condition at `path`.
fn at_path<'e>(e: &'e Expr, path: &[usize]) -> Option<&'e Expr> {
    let Some((first, rest)) = path.split_first() else {
        return Some(e);
    };
    match &e.kind {
        ExprKind::And(ops) | ExprKind::Or(ops) => at_path(ops.get(*first)?, rest),
        ExprKind::Not(inner) if *first == 0 => at_path(inner, rest),
        _ => None,
    }
}

/// `e` with the condition at `path` removed from its `and` or `or`.
fn without(e: &Expr, path: &[usize]) -> Option<Expr> {
    let (first, rest) = path.split_first()?;
    let mut out = e.clone();
    match &mut out.kind {
        ExprKind::And(ops) | ExprKind::Or(ops) => {
            if rest.is_empty() {
                if *first >= ops.len() || ops.len() < 2 {
                    return None;
                }
                ops.remove(*first);
                if ops.len() == 1 {
                    return ops.pop();
                }
            } else {
                let child = ops.get_mut(*first)?;
                *child = without(child, rest)?;
            }
        }
        ExprKind::Not(inner) if *first == 0 => {
            **inner = without(inner, rest)?;
        }
        _ => return None,
    }
    Some(out)
}

//! Checks across records: keys used twice, and records whose related record is not in the data.

use datafusion::common::{HashMap, HashSet};

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::compute::cast;
use datafusion::arrow::row::{RowConverter, SortField};

use super::problems::{RowRef, thousands};
use super::rows::{Mark, RowText};
use crate::diagnostics::{Code, Diagnostic};
use crate::engine::Table;
use crate::ir::{EntityDef, Program, RelationKind};
use crate::source::{SourceMap, Span};

const EXAMPLES: usize = 3;

fn row_ref(rows: Option<&RowText>, row: usize) -> RowRef {
    RowRef {
        row,
        line: rows.map(|r| r.line(row)),
    }
}

fn span_or(
    rows: Option<&RowText>,
    sources: &mut SourceMap,
    row: usize,
    column: Option<(usize, &str)>,
    fallback: Span,
) -> Span {
    match rows {
        Some(r) => {
            let mark = match (r.layout, column) {
                (super::rows::Layout::Csv { .. }, Some((i, _))) => {
                    // The column index in the file is not kept; find it from the header.
                    let _ = i;
                    header_index(r, column.map_or("", |c| c.1)).map_or(Mark::Whole, Mark::Column)
                }
                (super::rows::Layout::Ndjson, Some((_, key))) => Mark::Key(key),
                _ => Mark::Whole,
            };
            r.span(sources, row, &mark)
        }
        None => fallback,
    }
}

fn header_index(rows: &RowText, name: &str) -> Option<usize> {
    let range = rows.header.clone()?;
    let text = rows.bytes.get(range)?;
    let super::rows::Layout::Csv { delimiter } = rows.layout else {
        return None;
    };
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(text);
    let record = reader.byte_records().next()?.ok()?;
    record
        .iter()
        .position(|h| String::from_utf8_lossy(h).trim() == name)
}

/// The values of a column as comparable rows (one per record).
fn converter(array: &ArrayRef) -> Option<(RowConverter, datafusion::arrow::row::Rows)> {
    let conv = RowConverter::new(vec![SortField::new(array.data_type().clone())]).ok()?;
    let rows = conv.convert_columns(&[std::sync::Arc::clone(array)]).ok()?;
    Some((conv, rows))
}

/// Keys used by more than one record (E0606), one diagnostic per file with examples.
pub(super) fn duplicate_keys(
    entity: &EntityDef,
    table: &Table,
    rows: Option<&RowText>,
    sources: &mut SourceMap,
) -> Vec<Diagnostic> {
    let key = entity.key.index();
    let Some(def) = entity.fields.get(key) else {
        return Vec::new();
    };
    let array = table.batch.column(key);
    let Some((_, keyed)) = converter(array) else {
        return Vec::new();
    };
    let mut first: HashMap<datafusion::arrow::row::Row<'_>, usize> =
        HashMap::with_capacity(array.len());
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    let mut distinct: HashSet<usize> = HashSet::new();
    for i in 0..array.len() {
        if array.is_null(i) {
            continue;
        }
        match first.entry(keyed.row(i)) {
            datafusion::common::hash_map::Entry::Occupied(e) => {
                repeats.push((*e.get(), i));
                distinct.insert(*e.get());
            }
            datafusion::common::hash_map::Entry::Vacant(e) => {
                e.insert(i);
            }
        }
    }
    let Some(&(orig, dup)) = repeats.first() else {
        return Vec::new();
    };
    let value = display_value(array, dup);
    let span = span_or(rows, sources, dup, Some((key, &def.name)), def.span);
    let mut d = Diagnostic::new(
        Code::E0606,
        span,
        format!(
            "the key `{value}` is used by more than one {} in `{}`",
            entity.name, table.origin
        ),
    )
    .label(format!(
        "{} again; first in {}",
        row_ref(rows, dup).describe(),
        row_ref(rows, orig).describe()
    ));
    if span != def.span {
        d = d.secondary(
            def.span,
            format!("`{}` is the key of `{}`", def.name, entity.name),
        );
    }
    if repeats.len() > 1 {
        let examples: Vec<String> = repeats
            .iter()
            .skip(1)
            .take(EXAMPLES)
            .map(|(o, r)| {
                format!(
                    "`{}` in {} and {}",
                    display_value(array, *r),
                    row_ref(rows, *o).describe(),
                    row_ref(rows, *r).describe()
                )
            })
            .collect();
        d = d.note(format!(
            "{} records repeat a key used before ({} distinct keys), for example {}",
            thousands(repeats.len() as u64),
            thousands(distinct.len() as u64),
            examples.join("; ")
        ));
    }
    vec![d.help(format!(
        "each {} needs its own `{}`: remove the repeated records or correct their keys",
        entity.name, def.name
    ))]
}

fn display_value(array: &ArrayRef, i: usize) -> String {
    datafusion::arrow::util::display::array_value_to_string(array, i)
        .unwrap_or_else(|_| "?".to_owned())
}

/// Records pointing to a related record that is not in the data (W0600), for `many` and
/// `one` relations whose two entities both have data.
pub(super) fn missing_parents(
    program: &Program,
    tables: &[(&Table, Option<&RowText>)],
    sources: &mut SourceMap,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut done: Vec<(usize, usize, usize)> = Vec::new();
    for (e, entity) in program.entities.iter().enumerate() {
        for relation in &entity.relations {
            // (child entity, its linking field, parent entity)
            let (child, via, parent) = match relation.kind {
                RelationKind::Many => (relation.via.entity.index(), relation.via.field.index(), e),
                RelationKind::One => (e, relation.via.field.index(), relation.target.index()),
            };
            if done.contains(&(child, via, parent)) {
                continue;
            }
            done.push((child, via, parent));
            let find = |i: usize| tables.iter().find(|(t, _)| t.entity.index() == i);
            let (Some((child_table, child_rows)), Some((parent_table, _))) =
                (find(child), find(parent))
            else {
                continue;
            };
            let (Some(child_def), Some(parent_def)) =
                (program.entities.get(child), program.entities.get(parent))
            else {
                continue;
            };
            let Some(via_def) = child_def.fields.get(via) else {
                continue;
            };
            let keys = parent_table.batch.column(parent_def.key.index());
            let links = child_table.batch.column(via);
            let Ok(links_cast) = cast(links, keys.data_type()) else {
                continue;
            };
            let Some((conv, key_rows)) = converter(keys) else {
                continue;
            };
            let Ok(link_rows) = conv.convert_columns(&[std::sync::Arc::clone(&links_cast)]) else {
                continue;
            };
            let known: HashSet<datafusion::arrow::row::Row<'_>> = (0..keys.len())
                .filter(|i| !keys.is_null(*i))
                .map(|i| key_rows.row(i))
                .collect();
            let mut missing = 0usize;
            let mut first: Option<usize> = None;
            let mut distinct: HashSet<datafusion::arrow::row::Row<'_>> = HashSet::new();
            for i in 0..links_cast.len() {
                if links_cast.is_null(i) {
                    continue;
                }
                let r = link_rows.row(i);
                if !known.contains(&r) {
                    missing += 1;
                    distinct.insert(r);
                    first.get_or_insert(i);
                }
            }
            let Some(example) = first else { continue };
            let value = display_value(links, example);
            let span = span_or(
                *child_rows,
                sources,
                example,
                Some((via, &via_def.name)),
                via_def.span,
            );
            let plural = |n: usize, one: &str| {
                if n == 1 {
                    format!("1 {one}")
                } else {
                    format!("{} {one}s", thousands(n as u64))
                }
            };
            let mut d = Diagnostic::new(
                Code::W0600,
                span,
                format!(
                    "{} in `{}` {} to {} that {} not in `{}`",
                    plural(missing, &child_def.name),
                    child_table.origin,
                    if missing == 1 { "points" } else { "point" },
                    if distinct.len() == 1 {
                        format!("a {}", parent_def.name)
                    } else {
                        format!("{} {}s", thousands(distinct.len() as u64), parent_def.name)
                    },
                    if distinct.len() == 1 { "is" } else { "are" },
                    parent_table.origin
                ),
            )
            .label(format!(
                "for example `{value}` in {}",
                row_ref(*child_rows, example).describe()
            ));
            if span != via_def.span {
                d = d.secondary(
                    via_def.span,
                    format!(
                        "`{}` holds the key of a `{}`",
                        via_def.name, parent_def.name
                    ),
                );
            }
            d = d
                .help(format!(
                    "these records take part in rules as if the {} had no data; check that `{}` is complete, or correct `{}`",
                    parent_def.name, parent_table.origin, via_def.name
                ))
                .note(format!(
                    "relation `{}` of `{}`",
                    relation.name, entity.name
                ));
            out.push(d);
        }
    }
    out
}

//! Checks across records: keys used twice, and records whose related record is not in the data.

use datafusion::common::HashMap;

use datafusion::arrow::array::{Array, ArrayRef, UInt32Array, make_comparator};
use datafusion::arrow::compute::SortOptions;

use crate::engine::keys::{KeyIndex, hashes, repeated_keys};

use super::problems::{RowRef, thousands};
use super::rows::{Mark, RowText};
use crate::diagnostics::{Code, Diagnostic};
use crate::engine::Table;
use crate::ir::usage::Usage;
use crate::ir::{EntityDef, EntityId, FieldId, Program, RelationKind};
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
    let super::rows::Layout::Csv { delimiter, .. } = rows.layout else {
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

/// Links that match no key: how many, the first row of each distinct missing value, and the
/// first such row. `resolved` is the links resolved to key rows.
fn missing_links(links: &ArrayRef, resolved: &UInt32Array) -> (usize, Vec<usize>, Option<usize>) {
    let Ok(same) = make_comparator(links.as_ref(), links.as_ref(), SortOptions::default()) else {
        return (0, Vec::new(), None);
    };
    let mut missing = 0usize;
    let mut first = None;
    let mut distinct: HashMap<u64, Vec<usize>> = HashMap::new();
    hashes(links, |i, h| {
        if resolved.is_valid(i) {
            return;
        }
        missing += 1;
        first.get_or_insert(i);
        let rows = distinct.entry(h).or_default();
        if !rows.iter().any(|&r| same(r, i).is_eq()) {
            rows.push(i);
        }
    });
    let mut distinct: Vec<usize> = distinct.into_values().flatten().collect();
    distinct.sort_unstable();
    (missing, distinct, first)
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
    let (repeats, distinct) = repeated_keys(array);
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

/// A relation's linking values resolved to the rows of the records they name: (child entity,
/// linking field, parent entity, the parent row of each child row).
pub(super) type Resolved = (EntityId, FieldId, EntityId, std::sync::Arc<UInt32Array>);

/// Records pointing to a related record that is not in the data (W0600), for `many` and
/// `one` relations whose two entities both have data; and the links resolved on the way.
pub(super) fn missing_parents(
    program: &Program,
    usage: &Usage,
    tables: &[(&Table, Option<&RowText>)],
    sources: &mut SourceMap,
) -> (Vec<Diagnostic>, Vec<Resolved>) {
    let mut out = Vec::new();
    let mut resolved_links = Vec::new();
    let mut done: Vec<(usize, usize, usize)> = Vec::new();
    for (e, entity) in program.entities.iter().enumerate() {
        for relation in &entity.relations {
            // (child entity, its linking field, parent entity)
            let (child, via, parent) = match relation.kind {
                RelationKind::Many => (relation.via.entity.index(), relation.via.field.index(), e),
                RelationKind::One => (e, relation.via.field.index(), relation.target.index()),
            };
            if done.contains(&(child, via, parent)) || !usage.reads_field(relation.via) {
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
            let Some(resolved) = KeyIndex::new(keys).and_then(|k| k.resolve(links)) else {
                continue;
            };
            let (missing, distinct, first) = missing_links(links, &resolved);
            resolved_links.push((
                child_table.entity,
                FieldId::from_index(via),
                parent_table.entity,
                std::sync::Arc::new(resolved),
            ));
            let Some(example) = first else { continue };
            let value = display_value(links, example);
            let span = span_or(
                *child_rows,
                sources,
                example,
                Some((via, &via_def.name)),
                via_def.span,
            );
            let d = missing_parent_warning(&MissingParents {
                program,
                relation: (e, relation),
                child: child_def,
                parent: parent_def,
                via: via_def,
                child_origin: &child_table.origin,
                parent_origin: &parent_table.origin,
                missing,
                distinct: distinct.len(),
                example: (value, row_ref(*child_rows, example)),
                span,
            });
            out.push(d);
        }
    }
    (out, resolved_links)
}

/// What a missing-parent warning says.
pub(crate) struct MissingParents<'a> {
    pub program: &'a Program,
    /// The entity declaring the relation (its index), and the relation.
    pub relation: (usize, &'a crate::ir::RelationDef),
    pub child: &'a EntityDef,
    pub parent: &'a EntityDef,
    pub via: &'a crate::ir::FieldDef,
    pub child_origin: &'a str,
    pub parent_origin: &'a str,
    /// Records whose link names no parent, and how many different values they name.
    pub missing: usize,
    pub distinct: usize,
    /// A linking value no parent has, and its row.
    pub example: (String, RowRef),
    /// Where to point: the example in the data, or the linking field's declaration.
    pub span: Span,
}

/// W0600: records point to related records that are not in the data.
pub(crate) fn missing_parent_warning(m: &MissingParents<'_>) -> Diagnostic {
    let plural = |n: usize, one: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{} {one}s", thousands(n as u64))
        }
    };
    let (value, row) = &m.example;
    let mut d = Diagnostic::new(
        Code::W0600,
        m.span,
        format!(
            "{} in `{}` {} to {} that {} not in `{}`",
            plural(m.missing, &m.child.name),
            m.child_origin,
            if m.missing == 1 { "points" } else { "point" },
            if m.distinct == 1 {
                format!("a {}", m.parent.name)
            } else {
                format!("{} {}s", thousands(m.distinct as u64), m.parent.name)
            },
            if m.distinct == 1 { "is" } else { "are" },
            m.parent_origin
        ),
    )
    .label(format!("for example `{value}` in {}", row.describe()));
    if m.span != m.via.span {
        d = d.secondary(
            m.via.span,
            format!("`{}` holds the key of a `{}`", m.via.name, m.parent.name),
        );
    }
    let declaring = m
        .program
        .entities
        .get(m.relation.0)
        .map_or("", |e| e.name.as_str());
    d.help(format!(
        "these records take part in rules as if the {} had no data; check that `{}` is complete, or correct `{}`",
        m.parent.name, m.parent_origin, m.via.name
    ))
    .note(format!("relation `{}` of `{declaring}`", m.relation.1.name))
}

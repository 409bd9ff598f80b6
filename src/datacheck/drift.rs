//! The schema against the data that was loaded: W0754 (an enum value no record has), W0755
//! (columns the schema does not declare), W0756 (an optional field unknown in every record).

use std::collections::HashMap;

use datafusion::arrow::array::{Array, AsArray};

use super::count;
use crate::diagnostics::{Code, Diagnostic, suggest, thousands};
use crate::engine::Dataset;
use crate::engine::load::UndeclaredColumns;
use crate::ir::{EntityDef, EntityId, FieldDef, Program, Type};
use crate::source::{SourceMap, Span};

/// Undeclared columns named in one message, at most.
const SHOWN: usize = 8;

pub(super) fn check(
    program: &Program,
    dataset: &Dataset,
    undeclared: &[UndeclaredColumns],
    sources: &SourceMap,
) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for table in dataset.tables() {
        let Some(entity) = program.entities.get(table.entity.index()) else {
            continue;
        };
        let rows = table.batch.num_rows();
        if rows == 0 {
            continue;
        }
        for (f, def) in entity.fields.iter().enumerate() {
            let Some(column) = table.batch.columns().get(f) else {
                continue;
            };
            if def.optional && column.null_count() == rows {
                found.push(always_unknown(
                    program,
                    table.entity,
                    def,
                    &table.origin,
                    rows,
                ));
                continue;
            }
            let enum_id = match &def.ty {
                Type::Enum(id) => *id,
                Type::List(inner) => match inner.as_ref() {
                    Type::Enum(id) => *id,
                    _ => continue,
                },
                _ => continue,
            };
            let Some(declared) = program.enums.get(enum_id.index()) else {
                continue;
            };
            let seen = value_counts(column.as_ref());
            for value in &declared.values {
                if seen.contains_key(value.as_str()) {
                    continue;
                }
                found.push(never_seen(
                    program,
                    sources,
                    (table.entity, entity),
                    def,
                    value,
                    &seen,
                    &table.origin,
                    rows,
                ));
            }
        }
    }
    for u in undeclared {
        if let Some(entity) = program.entities.get(u.entity.index()) {
            found.push(undeclared_columns(entity, u));
        }
    }
    found
}

/// How many records have each value of a text (or list of text) column.
fn value_counts(column: &dyn Array) -> HashMap<String, usize> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    if let Some(texts) = column.as_string_opt::<i32>() {
        for v in texts.iter().flatten() {
            *counts.entry(v.to_owned()).or_default() += 1;
        }
    } else if let Some(lists) = column.as_list_opt::<i32>() {
        for list in lists.iter().flatten() {
            if let Some(texts) = list.as_string_opt::<i32>() {
                let mut in_record: Vec<&str> = texts.iter().flatten().collect();
                in_record.sort_unstable();
                in_record.dedup();
                for v in in_record {
                    *counts.entry(v.to_owned()).or_default() += 1;
                }
            }
        }
    }
    counts
}

#[allow(clippy::too_many_arguments)]
fn never_seen(
    program: &Program,
    sources: &SourceMap,
    (id, entity): (EntityId, &EntityDef),
    def: &FieldDef,
    value: &str,
    seen: &HashMap<String, usize>,
    origin: &str,
    rows: usize,
) -> Diagnostic {
    let span = value_span(sources, entity, def, value).unwrap_or(def.span);
    let mut d = Diagnostic::new(
        Code::W0754,
        span,
        format!(
            "no {} in the data has the `{}` value `{value}`",
            super::noun(program, id, 1),
            def.name
        ),
    )
    .label(format!(
        "`{value}` is declared here but never used in `{origin}`"
    ));
    let mut common: Vec<(&String, &usize)> = seen.iter().collect();
    common.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let listed: Vec<String> = common
        .iter()
        .take(SHOWN)
        .map(|(v, n)| format!("{v} ({})", thousands(**n as u64)))
        .collect();
    let mut note = format!(
        "the {} have {}",
        count(program, id, rows),
        if listed.is_empty() {
            "no value in `".to_owned() + &def.name + "`"
        } else {
            listed.join(", ")
        }
    );
    if common.len() > SHOWN {
        note.push_str(&format!(" and {} more values", common.len() - SHOWN));
    }
    d = d.note(note);
    d.help(format!(
        "if `{value}` is no longer used, remove it from the schema (and from rules that test it); \
         if it is new, check that the export is not filtered"
    ))
}

/// Where `value` is written in the declaration of `def` (after the field's name, before the
/// next field or relation).
fn value_span(
    sources: &SourceMap,
    entity: &EntityDef,
    def: &FieldDef,
    value: &str,
) -> Option<Span> {
    let text = sources.text(def.span.file);
    let start = def.span.end as usize;
    let end = entity
        .fields
        .iter()
        .map(|f| f.span)
        .chain(entity.relations.iter().map(|r| r.span))
        .filter(|s| s.file == def.span.file && s.start as usize > start)
        .map(|s| s.start as usize)
        .min()
        .unwrap_or(text.len());
    let region = text.get(start..end)?;
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(at) = region.get(from..)?.find(value) {
        let begin = from + at;
        let after = begin + value.len();
        let before_ok = region
            .get(..begin)?
            .chars()
            .next_back()
            .is_none_or(|c| !word(c));
        let after_ok = region.get(after..)?.chars().next().is_none_or(|c| !word(c));
        if before_ok && after_ok {
            return Some(Span::new(def.span.file, start + begin, start + after));
        }
        from = after;
    }
    None
}

fn always_unknown(
    program: &Program,
    id: EntityId,
    def: &FieldDef,
    origin: &str,
    rows: usize,
) -> Diagnostic {
    Diagnostic::new(
        Code::W0756,
        def.span,
        format!(
            "`{}` is unknown for every {} in `{origin}`",
            def.name,
            super::noun(program, id, 1)
        ),
    )
    .label("declared here, but the data never has a value for it")
    .note(format!(
        "all {} have no value for `{}`",
        count(program, id, rows),
        def.name
    ))
    .help(format!(
        "check that the export still fills `{}`: rules that test it treat every record as not \
         matching; if the field is gone for good, remove it from the schema",
        def.name
    ))
}

fn undeclared_columns(entity: &EntityDef, u: &UndeclaredColumns) -> Diagnostic {
    let n = u.names.len();
    let listed: Vec<String> = u
        .names
        .iter()
        .take(SHOWN)
        .map(|c| format!("`{c}`"))
        .collect();
    let mut list = listed.join(", ");
    if n > SHOWN {
        list.push_str(&format!(" and {} more", n - SHOWN));
    }
    let message = if n == 1 {
        format!(
            "`{}` has a column `{}` that `{}` does not declare",
            u.origin,
            u.names.first().map_or("", String::as_str),
            entity.name
        )
    } else {
        format!(
            "`{}` has {n} columns that `{}` does not declare: {list}",
            u.origin, entity.name
        )
    };
    let mut d = Diagnostic::new(Code::W0755, u.span, message)
        .label(if n == 1 {
            "segl ignores this column"
        } else {
            "segl ignores this column and the others listed"
        })
        .secondary(entity.span, format!("the fields of `{}`", entity.name));
    let candidates: Vec<suggest::Candidate<'_>> = entity
        .fields
        .iter()
        .map(|f| suggest::Candidate::plain(&f.name))
        .collect();
    for name in u.names.iter().take(SHOWN) {
        if let Some(near) = suggest::nearest(name, &candidates).first() {
            d = d.note(format!(
                "`{name}` looks like the field `{near}`: if it replaces it, rename one of them"
            ));
        }
    }
    d.help(format!(
        "declare a field in `{}` for each column rules should use; the others can stay, or be \
         dropped from the export",
        entity.name
    ))
}

//! Relations between inferred entities: a column of one file that holds another file's keys.

use std::collections::HashSet;

use super::names::{is_plain, plural, snake};
use super::{Entity, Guess, Relation, RelationKind};
use crate::diagnostics::thousands;

fn count(n: usize) -> String {
    thousands(u64::try_from(n).unwrap_or(u64::MAX))
}

/// Whether a column's name says it holds the key of `target` (whose key is `key`).
fn named_after(column: &str, target: &str, key: &str) -> bool {
    let c = snake(column);
    let key = snake(key);
    let words = [
        format!("{target}_id"),
        format!("{target}_key"),
        format!("{target}_code"),
        format!("{target}_{key}"),
        format!("{}_id", plural(target)),
        target.to_owned(),
    ];
    words.contains(&c)
        || c.replace('_', "") == format!("{}id", target.replace('_', ""))
        || (c == key && key != "id" && key != "key")
}

/// A name not yet used in `entity`, starting from `wanted`.
fn free_name(entity: &Entity, wanted: &str) -> String {
    let taken = |n: &str| {
        entity.fields.iter().any(|f| f.column == n) || entity.relations.iter().any(|r| r.name == n)
    };
    let base = if is_plain(wanted) {
        wanted.to_owned()
    } else {
        format!("{wanted}_record")
    };
    let mut name = base.clone();
    let mut n = 2;
    while taken(&name) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

struct Found {
    holder: usize,
    field: usize,
    target: usize,
    note: String,
}

/// Finds and adds relations: `one` on the entity holding the key, `many` on the other.
pub fn relations(entities: &mut [Entity]) {
    let mut found = Vec::new();
    for (t, target) in entities.iter().enumerate() {
        let Some(key) = target.key_field() else {
            continue;
        };
        let keys: HashSet<&str> = key.cells.iter().filter_map(|c| c.text()).collect();
        for (h, holder) in entities.iter().enumerate() {
            if h == t {
                continue;
            }
            for (f, field) in holder.fields.iter().enumerate() {
                if f == holder.key || !matches!(field.ty, Guess::Text | Guess::Integer) {
                    continue;
                }
                // The field must be able to hold the key: same type, or text for a text key.
                if key.ty == Guess::Integer && field.ty != Guess::Integer {
                    continue;
                }
                let values: Vec<&str> = field.cells.iter().filter_map(|c| c.text()).collect();
                if values.is_empty() {
                    continue;
                }
                let matched = values.iter().filter(|v| keys.contains(*v)).count();
                let by_name = named_after(&field.column, &target.name, &key.column);
                let distinct: HashSet<&&str> = values.iter().collect();
                let by_values =
                    key.ty == Guess::Text && matched == values.len() && distinct.len() >= 2;
                if !(by_name && matched > 0 && matched * 2 >= values.len() || by_values) {
                    continue;
                }
                let how = if by_name {
                    "its name says so"
                } else {
                    "every value is one"
                };
                let mut note = format!(
                    "`{}.{}` holds the `{}` of a {}: {how} ({} of {} values match)",
                    holder.name,
                    field.column,
                    key.column,
                    target.name,
                    count(matched),
                    count(values.len())
                );
                if matched < values.len() {
                    note.push_str(&format!(
                        "; segl warns about the {} {} whose {} it cannot find (W0600)",
                        count(values.len() - matched),
                        plural(&holder.name),
                        target.name
                    ));
                }
                found.push(Found {
                    holder: h,
                    field: f,
                    target: t,
                    note,
                });
            }
        }
    }
    for Found {
        holder,
        field,
        target,
        note,
    } in found
    {
        let Some(target_name) = entities.get(target).map(|e| e.name.clone()) else {
            continue;
        };
        let Some(h) = entities.get(holder) else {
            continue;
        };
        let Some(by) = h.fields.get(field).map(|f| f.column.clone()) else {
            continue;
        };
        let holder_name = h.name.clone();
        let dated_by = dated_by(h);
        // The `one` side, on the holder: named after the column without its `_id`.
        let c = snake(&by);
        let stripped = ["_id", "_key", "_code", "id"]
            .iter()
            .find_map(|s| c.strip_suffix(s))
            .filter(|s| !s.is_empty() && !s.ends_with('_'))
            .map_or_else(|| target_name.clone(), str::to_owned);
        let key_ty = entities
            .get(target)
            .and_then(Entity::key_field)
            .map(|k| k.ty.clone());
        if let Some(h) = entities.get_mut(holder) {
            // A relation links fields of the same type: text for a text key.
            if let (Some(ty), Some(f)) = (key_ty, h.fields.get_mut(field)) {
                f.ty = ty;
            }
            let name = free_name(h, &stripped);
            h.relations.push(Relation {
                name,
                kind: RelationKind::One,
                target,
                by: by.clone(),
                dated_by: None,
                note: note.clone(),
            });
        }
        if let Some(t) = entities.get_mut(target) {
            let wanted = plural(&holder_name);
            let wanted = if t.relations.iter().any(|r| r.name == wanted) {
                format!("{wanted}_by_{c}")
            } else {
                wanted
            };
            let name = free_name(t, &wanted);
            let mut note = note;
            if let Some((d, others)) = &dated_by {
                note.push_str(&format!(
                    "; dated by `{d}`, the day of each {holder_name}, for windows such as `in last 30 days`"
                ));
                if !others.is_empty() {
                    note.push_str(&format!(" (or: {})", others.join(", ")));
                }
            }
            t.relations.push(Relation {
                name,
                kind: RelationKind::Many,
                target: holder,
                by,
                dated_by: dated_by.map(|(d, _)| d),
                note,
            });
        }
    }
}

/// The date or timestamp field that says when a record happened, and the other candidates.
fn dated_by(entity: &Entity) -> Option<(String, Vec<String>)> {
    let temporal: Vec<&super::Field> = entity
        .fields
        .iter()
        .filter(|f| f.ty.is_temporal())
        .collect();
    let hinted = |f: &&super::Field| {
        let s = snake(&f.column);
        [
            "date", "time", "day", "created", "placed", "occurred", "opened",
        ]
        .iter()
        .any(|w| s.contains(w))
            || s.ends_with("_at")
            || s.ends_with("_on")
    };
    let best = temporal
        .iter()
        .find(|f| !f.optional && hinted(f))
        .or_else(|| temporal.iter().find(|f| !f.optional))
        .or_else(|| temporal.first())?;
    let others = temporal
        .iter()
        .filter(|f| f.column != best.column)
        .map(|f| format!("`{}`", f.column))
        .collect();
    Some((super::names::written_name(&best.column), others))
}

/// The entity most others relate to: the one with the most `many` relations, else the first.
pub fn primary(entities: &[Entity]) -> usize {
    entities
        .iter()
        .enumerate()
        .max_by_key(|(i, e)| {
            let many = e
                .relations
                .iter()
                .filter(|r| r.kind == RelationKind::Many)
                .count();
            (many, std::cmp::Reverse(*i))
        })
        .map_or(0, |(i, _)| i)
}

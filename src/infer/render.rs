//! The drafted schema as segl text, every guess explained in a `#` comment above it.

use super::names::written_name;
use super::{RelationKind, Schema};

const WIDTH: usize = 100;

/// Writes `text` as `#` comment lines indented by `indent`, wrapped at [`WIDTH`] columns.
pub fn comment(out: &mut String, indent: &str, text: &str) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + 2 + line.len() + 1 + word.len() > WIDTH {
            out.push_str(&format!("{indent}# {line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&format!("{indent}# {line}\n"));
    }
}

fn sentence(notes: &[String]) -> String {
    let mut s = notes.join("; ");
    if let Some(first) = s.get(..1) {
        let upper = first.to_uppercase();
        s.replace_range(..1, &upper);
    }
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

pub fn schema(schema: &Schema) -> String {
    let mut out = String::new();
    let files: Vec<String> = schema
        .entities
        .iter()
        .map(|e| format!("`{}`", e.file))
        .collect();
    comment(
        &mut out,
        "",
        &format!(
            "A first draft of the schema, guessed by `segl schema infer` from {}. Each guess is \
             explained in the comment above it: read them, correct what is wrong, and delete the \
             comments you no longer need. Text with at most {} different values, each on {} rows \
             or more on average, is drafted as `one of`.",
            files.join(", "),
            super::MAX_ENUM_VALUES,
            super::MIN_ROWS_PER_ENUM_VALUE
        ),
    );
    for entity in &schema.entities {
        out.push('\n');
        for note in &entity.notes {
            comment(&mut out, "", note);
        }
        if let Some(primary) = schema.entities.get(schema.primary)
            && primary.name == entity.name
            && schema.entities.len() > 1
        {
            comment(
                &mut out,
                "",
                "The primary entity: the other files relate to it, so segments are about it unless they say otherwise.",
            );
        }
        out.push_str(&format!("entity {} {{\n", written_name(&entity.name)));
        for (i, field) in entity.fields.iter().enumerate() {
            comment(&mut out, "  ", &sentence(&field.notes));
            let key = if i == entity.key { "key " } else { "" };
            let optional = if field.optional && i != entity.key {
                " optional"
            } else {
                ""
            };
            out.push_str(&format!(
                "  {key}{}: {}{optional}\n",
                written_name(&field.column),
                field.ty.written()
            ));
        }
        for relation in &entity.relations {
            let Some(target) = schema.entities.get(relation.target) else {
                continue;
            };
            comment(
                &mut out,
                "  ",
                &sentence(std::slice::from_ref(&relation.note)),
            );
            let kind = match relation.kind {
                RelationKind::Many => "many",
                RelationKind::One => "one",
            };
            let dated = relation
                .dated_by
                .as_ref()
                .map(|d| format!(" dated by {d}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {}: {kind} {} by {}{dated}\n",
                written_name(&relation.name),
                written_name(&target.name),
                written_name(&relation.by)
            ));
        }
        for skipped in &entity.skipped {
            comment(&mut out, "  ", skipped);
        }
        out.push_str("}\n");
    }
    out
}

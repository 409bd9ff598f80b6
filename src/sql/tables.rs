//! The tables the compiled SQL reads: one `CREATE TABLE` per entity, with the column types each
//! dialect's SQL expects (`segl sql --create-tables`), and the same as a description for
//! programs that load data (`--format json`).

use std::collections::HashMap;
use std::fmt::Write as _;

use super::{Dialect, quote};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{EntityId, Program, Type};

/// The digits after the point that decimal columns keep by default (cents).
pub const DEFAULT_DECIMAL_SCALE: u8 = 2;

/// The largest decimal scale segl reads (see `engine::types::MAX_DECIMAL_SCALE`).
pub const MAX_DECIMAL_SCALE: u8 = 18;

/// What to describe.
#[derive(Clone, Debug)]
pub struct TableOptions {
    pub dialect: Dialect,
    /// The table of each entity; by default the entity's name.
    pub tables: HashMap<EntityId, String>,
    /// Digits after the point of decimal columns, for engines whose decimals have a fixed scale.
    pub decimal_scale: u8,
}

/// One column of an entity's table.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Column {
    /// The field's name.
    pub name: String,
    /// The name as written in SQL (quoted).
    pub sql_name: String,
    /// The schema type: `text`, `one of`, `integer`, `decimal`, `number`, `boolean`, `date`,
    /// `timestamp`, `duration`, or `list of ` followed by one of these.
    #[serde(rename = "type")]
    pub segl_type: String,
    /// The SQL column type.
    pub sql_type: String,
    /// The allowed values of a `one of` field (or of a list's items).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    pub optional: bool,
    pub key: bool,
}

/// One entity's table.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Table {
    pub entity: String,
    /// The table's name as written in SQL (quoted, possibly with a schema).
    pub table: String,
    /// The `CREATE TABLE` statement, ending with `;`.
    pub create: String,
    pub columns: Vec<Column>,
}

/// E0900 at every field whose name the dialect cannot give a column (BigQuery's rules for
/// names): `CREATE TABLE` with it would be refused, and no table could hold the field.
#[must_use]
pub fn unnamable_columns(program: &Program, dialect: Dialect) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for e in &program.entities {
        for f in &e.fields {
            if let Some(problem) = dialect.column_name_problem(&f.name) {
                out.push(
                    Diagnostic::new(
                        Code::E0900,
                        f.span,
                        format!(
                            "{} cannot express a column named `{}`",
                            dialect.title(),
                            f.name
                        ),
                    )
                    .label("this field needs a column of that name")
                    .help(format!(
                        "{} column names hold only letters, digits, spaces, `_`, `-` and \
                         `& % = + : ' < > # |`, and {problem}; rename the field",
                        dialect.title()
                    )),
                );
            }
        }
    }
    out
}

fn type_name(ty: &Type) -> String {
    match ty {
        Type::Text | Type::Error => "text".into(),
        Type::Enum(_) => "one of".into(),
        Type::Integer => "integer".into(),
        Type::Decimal => "decimal".into(),
        Type::Number | Type::Percent => "number".into(),
        Type::Bool => "boolean".into(),
        Type::Date => "date".into(),
        Type::Timestamp => "timestamp".into(),
        Type::Duration => "duration".into(),
        Type::List(inner) => format!("list of {}", type_name(inner)),
    }
}

fn enum_values(p: &Program, ty: &Type) -> Option<Vec<String>> {
    match ty {
        Type::Enum(id) => p.enums.get(id.index()).map(|e| e.values.clone()),
        Type::List(inner) => enum_values(p, inner),
        _ => None,
    }
}

/// Every entity's table, in the schema's order.
#[must_use]
pub fn describe(program: &Program, options: &TableOptions) -> Vec<Table> {
    let d = options.dialect;
    let scale = options.decimal_scale.min(MAX_DECIMAL_SCALE);
    program
        .entities
        .iter()
        .enumerate()
        .map(|(i, entity)| {
            let table = match options.tables.get(&EntityId::from_index(i)) {
                Some(t) => quote::qualified(d, t),
                None => quote::ident(d, &entity.name),
            };
            let columns: Vec<Column> = entity
                .fields
                .iter()
                .enumerate()
                .map(|(j, f)| Column {
                    name: f.name.clone(),
                    sql_name: quote::ident(d, &f.name),
                    segl_type: type_name(&f.ty),
                    sql_type: d.column_type(&f.ty, scale),
                    values: enum_values(program, &f.ty),
                    optional: f.optional,
                    key: j == entity.key.index(),
                })
                .collect();
            let create = create_statement(program, d, i, &table, &columns);
            Table {
                entity: entity.name.clone(),
                table,
                create,
                columns,
            }
        })
        .collect()
}

fn create_statement(
    program: &Program,
    d: Dialect,
    entity: usize,
    table: &str,
    columns: &[Column],
) -> String {
    let fields = program
        .entities
        .get(entity)
        .map(|e| &e.fields[..])
        .unwrap_or_default();
    let mut lines: Vec<(String, Vec<String>)> = Vec::new();
    for (c, f) in columns.iter().zip(fields) {
        let mut line = format!("{} {}", c.sql_name, c.sql_type);
        match (c.key, d.primary_key()) {
            (true, Some(pk)) => {
                line.push(' ');
                line.push_str(pk);
            }
            (true, None) => line.push_str(" NOT NULL"),
            (false, _) if !c.optional => line.push_str(" NOT NULL"),
            (false, _) => {}
        }
        // A `one of` field holds only its declared values (segl refuses others when it loads).
        if let (Type::Enum(_), Some(values), true) = (&f.ty, &c.values, d.column_checks()) {
            let quoted: Option<Vec<String>> = values.iter().map(|v| quote::text(d, v)).collect();
            if let Some(quoted) = quoted.filter(|q| !q.is_empty()) {
                let _ = write!(line, " CHECK ({} IN ({}))", c.sql_name, quoted.join(", "));
            }
        }
        let mut notes = Vec::new();
        if let Some(label) = &f.label {
            notes.push(label.replace(['\n', '\r'], " "));
        }
        if let Some(note) = d.column_note(&f.ty) {
            notes.push(note.to_owned());
        }
        lines.push((line, notes));
    }
    let mut sql = format!("CREATE TABLE {table} (\n");
    let n = lines.len();
    for (i, (line, notes)) in lines.into_iter().enumerate() {
        let comma = if i + 1 < n { "," } else { "" };
        if notes.is_empty() {
            let _ = writeln!(sql, "  {line}{comma}");
        } else {
            let _ = writeln!(sql, "  {line}{comma} -- {}", notes.join("; "));
        }
    }
    sql.push_str(");");
    sql
}

/// The `CREATE TABLE` statements of every entity as one script.
#[must_use]
pub fn create_tables(program: &Program, options: &TableOptions) -> String {
    let d = options.dialect;
    let mut script = String::new();
    let _ = writeln!(
        script,
        "-- Tables for the SQL `segl sql --dialect {}` writes: one per entity, generated by segl {}.",
        d.name(),
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(
        script,
        "-- An unknown value is NULL; a field that is not optional is NOT NULL."
    );
    let has_decimals = program
        .entities
        .iter()
        .flat_map(|e| &e.fields)
        .any(|f| matches!(&f.ty, Type::Decimal) || f.ty == Type::List(Box::new(Type::Decimal)));
    if has_decimals && d.fixed_decimal_scale() {
        let _ = writeln!(
            script,
            "-- Decimal columns keep {} digits after the point (`--decimal-scale`).",
            options.decimal_scale.min(MAX_DECIMAL_SCALE)
        );
    }
    for t in describe(program, options) {
        let _ = write!(script, "\n-- {}\n{}\n", t.entity, t.create);
    }
    script
}

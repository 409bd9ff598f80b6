//! `segl sql --dbt DIR`: the rules as a dbt project fragment.
//!
//! ```text
//! DIR/
//!   segl-manifest.txt               the files segl wrote, with a checksum each
//!   models/segl/sources.yml         the source `segl`: one table per entity
//!   models/segl/schema.yml          descriptions and tests of every model
//!   models/segl/<rule>.sql          one model per segment, tier set and score
//!   models/segl/<entity>_membership.sql   one row per record: key, segments, tiers, scores
//! ```
//!
//! A rule model reads the entity's table through `{{ source('segl', ...) }}` and the rules it
//! uses that have their own model through `{{ ref(...) }}`; the membership model joins the rule
//! models. Everything segl writes that is not its own Jinja is escaped, so a `{{` in a title or
//! a text stays text. The library only makes the files' contents; the CLI writes them.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::views::{Named, describe, name_clashes, rule_span};
use super::{
    Compiler, Options, Output, Outputs, check_rules, header, outputs_by_entity, rule_meta,
};
use crate::diagnostics::{Code, Diagnostic};
use crate::engine::RunSettings;
use crate::ir::{EntityId, Program};
use crate::source::{SourceMap, Span};

/// The name of the file listing what segl wrote into a dbt folder.
pub const MANIFEST: &str = "segl-manifest.txt";

/// The folder below the output folder that holds the models.
pub const MODELS: &str = "models/segl";

/// One file of the fragment: its path inside the output folder (with `/`) and its contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbtFile {
    pub path: String,
    pub contents: String,
}

/// Where the entities' tables are: `schema` (and `database`) for the source, and each
/// entity's table name when it is not the entity's name.
#[derive(Clone, Debug, Default)]
pub struct SourceTables {
    pub database: Option<String>,
    pub schema: Option<String>,
    pub identifiers: HashMap<EntityId, String>,
}

/// The files of the dbt fragment for the requested rules, sorted by path, the manifest last.
/// `options.tables` is not read: the tables are the source's (`tables`).
///
/// # Errors
/// E0900/E0901 for rules the dialect cannot express, E0914 for names dbt cannot use, E0913
/// for two models (or a model and a table) with the same name.
pub fn project(
    program: &Program,
    settings: &RunSettings,
    options: &Options,
    tables: &SourceTables,
) -> Result<Vec<DbtFile>, Vec<Diagnostic>> {
    let outputs = outputs_by_entity(program, options.rules.as_deref());
    let mut diagnostics = unusable_names(program, &outputs);
    if let Err(mut d) = check_rules(program, settings, options, &outputs) {
        diagnostics.append(&mut d);
    }
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    let clashes = clashes(program, options, tables, &outputs);
    if !clashes.is_empty() {
        return Err(clashes);
    }

    let d = options.dialect;
    let mut files = Vec::new();
    let head = header(settings, options, "segl sql --dbt");
    // Every rule with a model is read from it by the others.
    let mut jinja: Vec<String> = Vec::new();
    let mut external = HashMap::new();
    let mut plain_external = HashMap::new();
    for (_, out) in outputs.values().flatten() {
        let (name, _) = rule_meta(program, *out);
        external.insert(*out, placeholder(jinja.len()));
        plain_external.insert(*out, super::quote::ident(d, name));
        jinja.push(format!("{{{{ ref('{name}') }}}}"));
    }
    let mut sources = HashMap::new();
    let mut plain_sources = HashMap::new();
    for (i, e) in program.entities.iter().enumerate() {
        let id = EntityId::from_index(i);
        sources.insert(id, placeholder(jinja.len()));
        plain_sources.insert(id, super::quote::ident(d, &e.name));
        jinja.push(format!("{{{{ source('segl', '{}') }}}}", e.name));
    }
    // Each model compiled twice: with plain names first, to be sure that no NUL character
    // comes from the rules (the placeholders are made of them), then with placeholders.
    let compile = |entity: EntityId, out: Option<Output>, plain: bool| {
        let mut c = Compiler::new(program, settings, options);
        if plain {
            c.external.clone_from(&plain_external);
            c.sources.clone_from(&plain_sources);
        } else {
            c.external.clone_from(&external);
            c.sources.clone_from(&sources);
        }
        let outs: Vec<(EntityId, Output)> = outputs.get(&entity).cloned().unwrap_or_default();
        match out {
            Some(o) => c.rule_query(entity, o),
            None => c.entity_query(entity, &outs).map(|q| {
                q.trim_end()
                    .trim_end_matches(';')
                    .lines()
                    .skip(1)
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
        }
        .map_err(|u| vec![u.diagnostic()])
    };
    let model = |entity: EntityId, out: Option<Output>| -> Result<String, Vec<Diagnostic>> {
        if compile(entity, out, true)?.contains('\0') {
            return Err(vec![
                Diagnostic::new(
                    Code::E0914,
                    program.entity(entity).span,
                    "dbt cannot read a name or a text with a NUL character",
                )
                .help("remove the NUL character from the rule files"),
            ]);
        }
        // Laid out before the Jinja goes in: escaped texts hold quotes of their own.
        let sql = super::layout::wrap(&compile(entity, out, false)?, d);
        fill(&sql, &jinja).ok_or_else(|| {
            vec![Diagnostic::new(
                Code::E0914,
                program.entity(entity).span,
                "dbt cannot read a name or a text with a NUL character",
            )]
        })
    };
    for (entity, outs) in &outputs {
        for (_, out) in outs {
            let (name, _) = rule_meta(program, *out);
            let body = model(*entity, Some(*out))?;
            let comments = jinja_text(&describe(program, *entity, *out));
            files.push(DbtFile {
                path: format!("{MODELS}/{name}.sql"),
                contents: format!(
                    "{{{{ config(materialized='view') }}}}\n\n{comments}{}{body}\n",
                    jinja_text(&head)
                ),
            });
        }
        let def = program.entity(*entity);
        let body = model(*entity, None)?;
        files.push(DbtFile {
            path: format!("{MODELS}/{}.sql", membership(program, *entity)),
            contents: format!(
                "{{{{ config(materialized='table') }}}}\n\n-- Membership of each {} record: \
                 its `{}`, one true/false column per segment, the tier of each tier set and \
                 each score.\n{}{body}\n",
                jinja_text(&def.name),
                jinja_text(&def.fields[def.key.index()].name),
                jinja_text(&head)
            ),
        });
    }
    files.push(DbtFile {
        path: format!("{MODELS}/sources.yml"),
        contents: sources_yml(program, tables, &head),
    });
    files.push(DbtFile {
        path: format!("{MODELS}/schema.yml"),
        contents: schema_yml(program, &outputs, &head),
    });
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let manifest = manifest(&files);
    files.push(DbtFile {
        path: MANIFEST.to_owned(),
        contents: manifest,
    });
    Ok(files)
}

fn placeholder(i: usize) -> String {
    format!("\0{i}\0")
}

/// Escapes `sql` for Jinja and puts the Jinja of each placeholder in; `None` when a NUL
/// character is not part of a placeholder.
fn fill(sql: &str, jinja: &[String]) -> Option<String> {
    let mut out = String::new();
    for (i, part) in sql.split('\0').enumerate() {
        if i % 2 == 0 {
            out.push_str(&jinja_text(part));
        } else {
            out.push_str(jinja.get(part.parse::<usize>().ok()?)?);
        }
    }
    // An even number of NULs splits into an odd number of parts.
    (sql.split('\0').count() % 2 == 1).then_some(out)
}

/// `text` as Jinja that renders to `text`: only `{{`, `{%` and `{#` start Jinja, so the `{` of
/// each becomes `{{ '{' }}`.
fn jinja_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '{' && matches!(chars.peek(), Some('{' | '%' | '#')) {
            out.push_str("{{ '{' }}");
        } else {
            out.push(c);
        }
    }
    out
}

/// The membership model of an entity.
fn membership(program: &Program, entity: EntityId) -> String {
    format!("{}_membership", program.entity(entity).name)
}

/// Whether dbt can use `name` as a model, source table or column name: letters, digits and
/// `_` only (a file name, a Jinja string and a warehouse name all at once).
fn usable(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// E0914 for every rule, entity and key field whose name dbt cannot use.
fn unusable_names(program: &Program, outputs: &Outputs) -> Vec<Diagnostic> {
    let help = "rename it with letters, digits and `_` only, such as `high_value`";
    let mut diagnostics = Vec::new();
    for (i, e) in program.entities.iter().enumerate() {
        if !usable(&e.name) {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0914,
                    e.span,
                    format!("dbt cannot use `{}` as the name of a source table", e.name),
                )
                .label("this kind of record is a table of the dbt source `segl`")
                .help(help),
            );
        }
        let key = &e.fields[e.key.index()];
        if outputs.contains_key(&EntityId::from_index(i)) && !usable(&key.name) {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0914,
                    key.span,
                    format!("dbt cannot use `{}` as the name of a column", key.name),
                )
                .label("every model has this key as a column")
                .help(help),
            );
        }
    }
    for (_, out) in outputs.values().flatten() {
        let (name, _) = rule_meta(program, *out);
        if !usable(name) {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0914,
                    rule_span(program, *out),
                    format!("dbt cannot use `{name}` as the name of a model"),
                )
                .label("this rule becomes a model file of the same name")
                .help(help),
            );
        }
    }
    diagnostics
}

/// E0913 for models that dbt, the engine or a file system that ignores case would take for one
/// another or for a table, and for tier sets and scores named like their entity's key (both are
/// columns of the model).
fn clashes(
    program: &Program,
    options: &Options,
    tables: &SourceTables,
    outputs: &Outputs,
) -> Vec<Diagnostic> {
    let d = options.dialect;
    let mut named = Vec::new();
    let mut diagnostics = Vec::new();
    for (entity, outs) in outputs {
        let def = program.entity(*entity);
        let key = &def.fields[def.key.index()];
        for (_, out) in outs {
            let (name, _) = rule_meta(program, *out);
            named.push(Named {
                name: name.to_owned(),
                what: format!("the model `{name}`"),
                label: format!("its model is named `{name}`"),
                span: rule_span(program, *out),
            });
            if !matches!(out, Output::Segment(_)) && d.ident_key(name) == d.ident_key(&key.name) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0913,
                        rule_span(program, *out),
                        format!(
                            "the value column of `{name}` would have the name of the key `{}`",
                            key.name
                        ),
                    )
                    .label("its model has the key and a column named like the rule")
                    .secondary(key.span, "the key")
                    .help("rename the rule"),
                );
            }
        }
        let name = membership(program, *entity);
        named.push(Named {
            what: format!("the model `{name}`"),
            label: format!("its membership model is named `{name}`"),
            name,
            span: def.span,
        });
    }
    // The source's tables are in the target schema unless a schema is given.
    let in_target = Options {
        dialect: d,
        rules: None,
        as_of_param: None,
        tables: program
            .entities
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let id = EntityId::from_index(i);
                let table = tables.identifiers.get(&id).unwrap_or(&e.name);
                let table = match &tables.schema {
                    Some(s) => format!("{s}.{table}"),
                    None => table.clone(),
                };
                (id, table)
            })
            .collect(),
    };
    diagnostics.extend(name_clashes(
        program,
        &in_target,
        &named,
        &format!("dbt on {}", d.title()),
        &|n| d.ident_key(n).to_lowercase(),
        "rename the rule: dbt names a model after its file, and file systems and several \
         engines do not tell upper and lower case apart",
    ));
    diagnostics
}

/// A YAML double-quoted string of a text, escaped for Jinja (dbt renders YAML values).
fn yaml(text: &str) -> String {
    serde_json::to_string(&jinja_text(text)).unwrap_or_else(|_| "\"\"".to_owned())
}

/// A YAML comment of the header.
fn yaml_comment(head: &str) -> String {
    head.lines()
        .map(|l| format!("#{}\n", l.trim_start_matches('-')))
        .collect()
}

fn sources_yml(program: &Program, tables: &SourceTables, head: &str) -> String {
    let mut y = yaml_comment(&jinja_text(head));
    y.push_str("version: 2\n\nsources:\n  - name: segl\n");
    y.push_str("    description: \"The tables the segl rules read, one per kind of record.\"\n");
    if let Some(db) = &tables.database {
        let _ = writeln!(y, "    database: {}", yaml(db));
    }
    match &tables.schema {
        Some(s) => {
            let _ = writeln!(y, "    schema: {}", yaml(s));
        }
        None => y.push_str("    schema: \"{{ target.schema }}\"\n"),
    }
    y.push_str("    tables:\n");
    for (i, e) in program.entities.iter().enumerate() {
        let id = EntityId::from_index(i);
        let key = &e.fields[e.key.index()];
        let _ = writeln!(y, "      - name: {}", yaml(&e.name));
        if let Some(t) = tables.identifiers.get(&id) {
            let _ = writeln!(y, "        identifier: {}", yaml(t));
        }
        let _ = writeln!(
            y,
            "        description: {}",
            yaml(&format!("The {} records.", e.name))
        );
        y.push_str("        quoting:\n          identifier: true\n");
        let _ = writeln!(y, "        columns:\n          - name: {}", yaml(&key.name));
        y.push_str(
            "            quote: true\n            data_tests:\n              - unique\n              \
             - not_null\n",
        );
    }
    y
}

fn schema_yml(program: &Program, outputs: &Outputs, head: &str) -> String {
    let mut y = yaml_comment(&jinja_text(head));
    y.push_str("version: 2\n\nmodels:\n");
    let key_column = |y: &mut String, entity: EntityId| {
        let def = program.entity(entity);
        let key = &def.fields[def.key.index()];
        let _ = writeln!(y, "      - name: {}", yaml(&key.name));
        let _ = writeln!(
            y,
            "        description: {}",
            yaml(&format!("The key of the {} record.", def.name))
        );
        y.push_str(
            "        quote: true\n        data_tests:\n          - unique\n          - not_null\n",
        );
    };
    let tier_names = |out: Output| -> Vec<String> {
        match out {
            Output::TierSet(id) => {
                let t = &program.tier_sets[id.index()];
                let mut names: Vec<String> = Vec::new();
                for row in &t.rows {
                    if !names.contains(&row.name) {
                        names.push(row.name.clone());
                    }
                }
                names
            }
            _ => Vec::new(),
        }
    };
    let accepted = |y: &mut String, values: &[String]| {
        let list: Vec<String> = values.iter().map(|v| yaml(v)).collect();
        let _ = writeln!(
            y,
            "          - accepted_values:\n              values: [{}]",
            list.join(", ")
        );
    };
    let value_column = |y: &mut String, out: Output| {
        let (name, meta) = rule_meta(program, out);
        let _ = writeln!(y, "      - name: {}", yaml(name));
        let described = match (&meta.title, out) {
            (Some(t), _) => t.clone(),
            (None, Output::Segment(_)) => format!("Whether the record is in `{name}`."),
            (None, Output::TierSet(_)) => format!("The record's tier in `{name}`."),
            (None, Output::Score(_)) => format!("The record's score `{name}`."),
        };
        let _ = writeln!(y, "        description: {}", yaml(&described));
        y.push_str("        quote: true\n        data_tests:\n");
        match out {
            Output::Segment(_) => {
                y.push_str(
                    "          - not_null\n          - accepted_values:\n              \
                     values: [true, false]\n              quote: false\n",
                );
            }
            Output::TierSet(_) => {
                // Every tier set ends with `otherwise`: every record has a tier.
                y.push_str("          - not_null\n");
                accepted(y, &tier_names(out));
            }
            Output::Score(_) => y.push_str("          - not_null\n"),
        }
    };
    for (entity, outs) in outputs {
        for (_, out) in outs {
            let (name, meta) = rule_meta(program, *out);
            let _ = writeln!(y, "  - name: {}", yaml(name));
            let mut description = meta.title.clone().unwrap_or_default();
            if let Some(more) = &meta.description {
                if !description.is_empty() {
                    description.push_str("\n\n");
                }
                description.push_str(more.trim());
            }
            if description.is_empty() {
                description = format!("The rule `{name}` of the segl project.");
            }
            let _ = writeln!(y, "    description: {}", yaml(&description));
            y.push_str("    columns:\n");
            key_column(&mut y, *entity);
            if !matches!(out, Output::Segment(_)) {
                value_column(&mut y, *out);
            }
        }
        let def = program.entity(*entity);
        let _ = writeln!(y, "  - name: {}", yaml(&membership(program, *entity)));
        let _ = writeln!(
            y,
            "    description: {}",
            yaml(&format!(
                "One row per {} record: one true/false column per segment, the tier of each \
                 tier set and each score.",
                def.name
            ))
        );
        y.push_str("    columns:\n");
        key_column(&mut y, *entity);
        for (_, out) in outs {
            value_column(&mut y, *out);
        }
    }
    y
}

/// A 64-bit FNV-1a checksum, enough to notice a file changed by hand.
fn checksum(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The manifest: one line per file, its checksum and its path.
fn manifest(files: &[DbtFile]) -> String {
    let mut m = String::from(
        "# Written by `segl sql --dbt`: the files segl wrote here, with a checksum each.\n\
         # segl replaces this folder when it runs again, and refuses to when the folder has\n\
         # other files or a file below was changed. Do not edit.\n",
    );
    for f in files {
        let _ = writeln!(m, "{:016x}  {}", checksum(f.contents.as_bytes()), f.path);
    }
    m
}

/// A file found in an existing output folder: its path inside the folder (with `/`) and its
/// bytes.
#[derive(Clone, Debug)]
pub struct Existing {
    pub path: String,
    pub contents: Vec<u8>,
}

/// Whether segl may replace the folder `dir` (shown as given) that holds `existing`: only when
/// it holds nothing but files segl wrote there, unchanged. E0910 for other files, E0912 for
/// changed ones, each at a source named like the file (added to `sources`).
#[must_use]
pub fn check_existing(
    dir: &str,
    existing: &[Existing],
    sources: &mut SourceMap,
) -> Vec<Diagnostic> {
    let mut span_of = |path: &str| {
        let shown = format!("{}/{path}", dir.trim_end_matches('/'));
        Span::new(sources.add(shown, ""), 0, 0)
    };
    let listed: Option<BTreeMap<&str, &str>> = existing
        .iter()
        .find(|f| f.path == MANIFEST)
        .and_then(|f| std::str::from_utf8(&f.contents).ok())
        .map(|text| {
            text.lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .filter_map(|l| l.split_once("  ").map(|(h, p)| (p, h)))
                .collect()
        });
    let mut diagnostics = Vec::new();
    let mut foreign: Vec<&str> = Vec::new();
    for f in existing {
        if f.path == MANIFEST {
            continue;
        }
        match listed.as_ref().and_then(|l| l.get(f.path.as_str())) {
            Some(hash) => {
                if **hash != format!("{:016x}", checksum(&f.contents)) {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::E0912,
                            span_of(&f.path),
                            format!(
                                "`{}` in `{}` was changed after segl wrote it",
                                f.path,
                                dir.trim_end_matches('/')
                            ),
                        )
                        .label("segl would replace this file and lose the change")
                        .help(
                            "keep your change elsewhere (in a model of your own that refs \
                             segl's) and delete this file, or write the dbt models into \
                             another folder",
                        ),
                    );
                }
            }
            None => foreign.push(&f.path),
        }
    }
    if let Some(first) = foreign.first() {
        let shown = dir.trim_end_matches('/');
        let more = match foreign.len() {
            1 => String::new(),
            2 => " and 1 other".to_owned(),
            n => format!(" and {} others", n - 1),
        };
        let mut d = Diagnostic::new(
            Code::E0910,
            span_of(first),
            format!("`{shown}` has files segl did not write: `{first}`{more}"),
        )
        .label("segl did not write this file")
        .help(
            "give `--dbt` a new or empty folder, or one segl wrote before: segl replaces the \
             whole folder, so it never writes into a folder with other files",
        );
        if listed.is_none() {
            d = d.note(format!(
                "`{shown}` has no `{MANIFEST}`: segl did not write this folder"
            ));
        }
        for other in foreign.iter().skip(1).take(4) {
            d = d.note(format!("also not written by segl: `{other}`"));
        }
        diagnostics.push(d);
    }
    diagnostics
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jinja_is_escaped() {
        assert_eq!(
            jinja_text("a {{ b }} {% c %} {# d #} {x}"),
            "a {{ '{' }}{ b }} {{ '{' }}% c %} {{ '{' }}# d #} {x}"
        );
        assert_eq!(jinja_text("{{{"), "{{ '{' }}{{ '{' }}{");
        assert_eq!(
            fill(
                "from \u{0}1\u{0} where x = '{{'",
                &["a".into(), "{{ ref('b') }}".into()]
            )
            .as_deref(),
            Some("from {{ ref('b') }} where x = '{{ '{' }}{'")
        );
        assert_eq!(fill("a \u{0}1", &["x".into(), "y".into()]), None);
        assert_eq!(fill("a \u{0}x\u{0}", &["x".into()]), None);
    }

    #[test]
    fn names_dbt_can_use() {
        assert!(usable("high_value"));
        assert!(usable("größe_2"));
        assert!(!usable("top 10%"));
        assert!(!usable("../x"));
        assert!(!usable("a'b"));
    }
}

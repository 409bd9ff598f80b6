//! `segl sql --views`: one `CREATE VIEW` per segment, tier set and score.
//!
//! Each view is one self-contained query with the CTEs it needs (repeated in every view that
//! needs them): a view can be reviewed, replaced or dropped on its own, and no view depends on
//! another. Rules used by other rules are compiled into them, as in the membership query.

use std::fmt::Write as _;

use super::{
    Compiler, Options, Output, check_rules, header, one_line, outputs_by_entity, quote, rule_meta,
};
use crate::diagnostics::{Code, Diagnostic};
use crate::engine::RunSettings;
use crate::ir::Program;
use crate::source::Span;

/// Compiles the requested rules to one `CREATE VIEW` statement each; a view is named like its
/// rule, after `prefix`.
///
/// # Errors
/// One diagnostic per rule that the dialect cannot express faithfully (E0900, E0901), and
/// E0913 when two views, or a view and an entity's table, would get the same name.
pub fn views(
    program: &Program,
    settings: &RunSettings,
    options: &Options,
    prefix: &str,
) -> Result<String, Vec<Diagnostic>> {
    let outputs = outputs_by_entity(program, options.rules.as_deref());
    check_rules(program, settings, options, &outputs)?;
    let d = options.dialect;
    let named: Vec<Named> = outputs
        .values()
        .flatten()
        .map(|(_, o)| {
            let (name, _) = rule_meta(program, *o);
            Named {
                label: format!("its view is named `{prefix}{name}`"),
                name: format!("{prefix}{name}"),
                what: format!("the view of `{name}`"),
                span: rule_span(program, *o),
            }
        })
        .collect();
    let unnamable: Vec<Diagnostic> = named
        .iter()
        .filter_map(|n| {
            let problem = d.view_name_problem(&n.name)?;
            Some(
                Diagnostic::new(
                    Code::E0900,
                    n.span,
                    format!("{} cannot express a view named `{}`", d.title(), n.name),
                )
                .label(n.label.clone())
                .help(format!(
                    "{} view names hold only letters, digits, spaces, `_` and `-`, and \
                     {problem}; rename the rule or choose another `--view-prefix`",
                    d.title()
                )),
            )
        })
        .collect();
    if !unnamable.is_empty() {
        return Err(unnamable);
    }
    let clashes = name_clashes(
        program,
        options,
        &named,
        d.title(),
        &|n| d.ident_key(n),
        "give the views a prefix with `--view-prefix`, such as `--view-prefix segl_`, or rename \
         the rule",
    );
    if !clashes.is_empty() {
        return Err(clashes);
    }
    let mut script = header(settings, options, "segl sql --views");
    for (entity, outs) in &outputs {
        for (_, out) in outs {
            let mut c = Compiler::new(program, settings, options);
            let body = c
                .rule_query(*entity, *out)
                .map_err(|u| vec![u.diagnostic()])?;
            let (name, meta) = rule_meta(program, *out);
            let view = quote::ident(d, &format!("{prefix}{name}"));
            script.push('\n');
            script.push_str(&describe(program, *entity, *out));
            for line in d.create_view(&view) {
                let _ = writeln!(script, "{line}");
            }
            let _ = writeln!(script, "{body};");
            if let Some(title) = &meta.title
                && let Some(text) = quote::text(d, &one_line(title))
                && let Some(comment) = d.comment_on_view(&view, &text)
            {
                let _ = writeln!(script, "{comment};");
            }
        }
    }
    Ok(super::layout::wrap(&script, d))
}

/// The comment lines above a rule's view or model: what it holds, its title and description.
pub(super) fn describe(program: &Program, entity: crate::ir::EntityId, out: Output) -> String {
    let (name, meta) = rule_meta(program, out);
    let def = program.entity(entity);
    let key = &def.fields[def.key.index()].name;
    let holds = match out {
        Output::Segment(_) => format!(
            "Segment `{name}`: the `{key}` of each {} record in it.",
            def.name
        ),
        Output::TierSet(_) => format!(
            "Tier set `{name}`: the `{key}` and tier of each {} record.",
            def.name
        ),
        Output::Score(_) => format!(
            "Score `{name}`: the `{key}` and score of each {} record.",
            def.name
        ),
    };
    let mut text = format!("-- {}\n", one_line(&holds));
    if let Some(title) = &meta.title {
        let _ = writeln!(text, "-- {}", one_line(title));
    }
    if let Some(description) = &meta.description {
        for line in description.lines() {
            let line = one_line(line.trim_end());
            if line.is_empty() {
                text.push_str("--\n");
            } else {
                let _ = writeln!(text, "-- {line}");
            }
        }
    }
    text
}

pub(super) fn rule_span(program: &Program, out: Output) -> Span {
    match out {
        Output::Segment(id) => program.segments[id.index()].span,
        Output::TierSet(id) => program.tier_sets[id.index()].span,
        Output::Score(id) => program.scores[id.index()].span,
    }
}

/// A name segl is about to create in the database (or as a file).
pub(super) struct Named {
    pub name: String,
    /// What gets the name, for messages: "the view of `vip`".
    pub what: String,
    /// The label at `span`: "its view is named `segl_vip`".
    pub label: String,
    pub span: Span,
}

/// E0913 for every name that the engine would take for an earlier one, or for the table of an
/// entity (tables given with a schema, `crm.customers`, are in another schema and cannot clash).
/// `key` is the name as the engine compares names.
pub(super) fn name_clashes(
    program: &Program,
    options: &Options,
    named: &[Named],
    engine: &str,
    key: &dyn Fn(&str) -> String,
    help: &str,
) -> Vec<Diagnostic> {
    // (name as compared, name, what, label, span)
    let mut taken: Vec<(String, &str, String, String, Span)> = Vec::new();
    for (i, e) in program.entities.iter().enumerate() {
        let id = crate::ir::EntityId::from_index(i);
        let table = options
            .tables
            .get(&id)
            .map_or(e.name.as_str(), String::as_str);
        if !table.contains('.') {
            taken.push((
                key(table),
                table,
                format!("the table of `{}`", e.name),
                format!("its table is named `{table}`"),
                e.span,
            ));
        }
    }
    let mut diagnostics = Vec::new();
    for n in named {
        let k = key(&n.name);
        if let Some((_, other, what, label, span)) = taken.iter().find(|(t, ..)| *t == k) {
            let mut d = Diagnostic::new(
                Code::E0913,
                n.span,
                format!("{} and {what} would have the same name in {engine}", n.what),
            )
            .label(n.label.clone())
            .secondary(*span, label.clone())
            .help(help);
            if *other != n.name {
                d = d.note(format!(
                    "{engine} takes `{}` and `{other}` for the same name",
                    n.name
                ));
            }
            diagnostics.push(d);
            continue;
        }
        taken.push((k, n.name.as_str(), n.what.clone(), n.label.clone(), n.span));
    }
    diagnostics
}

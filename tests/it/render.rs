//! Snapshots of the plain and JSON renderings of hand-built diagnostics.

#![allow(clippy::expect_used)] // test helpers: a failed expectation is a failed test

use segl::check::Summary;
use segl::diagnostics::{Code, Diagnostic, render};
use segl::source::{SourceMap, Span};

const SCHEMA: &str =
    "entity customer {\n  key id: text\n  région: one of EMEA, NA\n  arr: decimal\n}\n";
const RULES: &str = "# Ventes\nsegment grands_comptes {\n  title \"Grands comptes — EMEA\"\n  where regoin is EMEA\n    and arr >= 50_000\n\tand plan is \"pro\"\n}\n";

/// The sources and one diagnostic of each interesting shape.
fn example() -> (SourceMap, Vec<Diagnostic>) {
    let mut sources = SourceMap::new();
    let schema = sources.add("rules/schema.segl", SCHEMA);
    let rules = sources.add("rules/comptes.segl", RULES);
    let at = |file, text: &str, needle: &str| {
        let start = text.find(needle).expect("needle in text");
        Span::new(file, start, start + needle.len())
    };
    let brace = RULES.find("{\n").expect("an opening brace") + 1;
    let line_end = Span::new(rules, brace, brace);
    let diagnostics = vec![
        // Unicode text before the span, a fix, and a related place in another file.
        Diagnostic::new(
            Code::E0300,
            at(rules, RULES, "regoin"),
            "unknown name `regoin`",
        )
        .label("`customer` has no field of this name")
        .secondary(at(schema, SCHEMA, "région"), "`région` is declared here")
        .help("did you mean `région`?")
        .fix(at(rules, RULES, "regoin"), "région"),
        // A span over three lines, ending in a line that starts with a tab.
        Diagnostic::new(
            Code::E0402,
            at(
                rules,
                RULES,
                "regoin is EMEA\n    and arr >= 50_000\n\tand plan",
            ),
            "these conditions never end",
        )
        .label("this condition")
        .note("a first note")
        .note("a second note\nover two lines"),
        // An empty span at the end of a line, a secondary label in the same file, no label text.
        Diagnostic::new(Code::E0101, line_end, "bracket never closed")
            .secondary(at(rules, RULES, "title"), ""),
        // A warning.
        Diagnostic::new(
            Code::W0100,
            at(rules, RULES, "\"pro\""),
            "`plan` is always known",
        ),
    ];
    (sources, diagnostics)
}

#[test]
fn plain_rendering() {
    let (sources, diagnostics) = example();
    insta::assert_snapshot!(render::plain(&diagnostics, &sources));
}

#[test]
fn json_rendering() {
    let (sources, diagnostics) = example();
    let mut summary = Summary {
        files: 2,
        entities: 1,
        segments: 1,
        ..Summary::default()
    };
    summary.count_diagnostics(&diagnostics);
    insta::assert_snapshot!(render::json(&diagnostics, &sources, &summary));
}

#[test]
fn human_rendering_without_colour() {
    let (sources, diagnostics) = example();
    let text = render::human(&diagnostics, &sources, false);
    assert!(!text.contains('\u{1b}'));
    insta::assert_snapshot!(text);
}

#[test]
fn summary_lines() {
    let mut summary = Summary {
        files: 9,
        entities: 5,
        segments: 31,
        tier_sets: 3,
        scores: 2,
        definitions: 6,
        parameters: 2,
        tests: 12,
        ..Summary::default()
    };
    assert_eq!(
        render::summary_line(&summary),
        "checked 9 files: 5 entities, 31 segments, 3 tier sets, 2 scores, 6 definitions, 2 parameters, 12 tests — no problems found"
    );
    summary.errors = 3;
    summary.warnings = 1;
    assert!(render::summary_line(&summary).ends_with(" — 3 errors, 1 warning"));
    let one = Summary {
        files: 1,
        entities: 1,
        warnings: 2,
        ..Summary::default()
    };
    assert_eq!(
        render::summary_line(&one),
        "checked 1 file: 1 entity — 2 warnings"
    );
}

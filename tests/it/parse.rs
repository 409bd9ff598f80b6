//! Snapshot tests of the parser: every fixture under `tests/fixtures/parse` is parsed and its
//! syntax tree (and any diagnostics) dumped.

use segl::source::FileId;
use segl::syntax::{dump, parse};

fn render(text: &str) -> String {
    let parsed = parse(FileId(0), text);
    let mut out = dump(&parsed.file);
    for d in &parsed.diagnostics {
        out.push_str(&format!(
            "{} @{}: {} [{}]\n",
            d.code, d.primary.span, d.message, d.primary.message
        ));
    }
    out
}

#[test]
fn fixtures() {
    insta::glob!("../fixtures/parse", "*.segl", |path| {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        insta::assert_snapshot!(render(&text));
    });
}

#[test]
fn example_schema_parses_cleanly() {
    let text = include_str!("../../rules/schema.segl");
    let parsed = parse(FileId(0), text);
    assert!(parsed.diagnostics.is_empty(), "{:#?}", parsed.diagnostics);
    assert_eq!(parsed.file.items.len(), 5);
}

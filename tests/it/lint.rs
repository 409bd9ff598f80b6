//! Lints: the reasoning over conditions, levels, allow comments and the catalogue.

use segl::check::{ProjectInput, RawFile, Report, check_project};
use segl::diagnostics::render;

fn schema() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/schema.segl")).unwrap()
}

fn check(rules: &str) -> Report {
    check_project(&ProjectInput {
        name: "t".into(),
        config: None,
        rules: vec![
            RawFile::new("schema.segl", schema()),
            RawFile::new("rules.segl", rules),
        ],
    })
}


//! The checker end to end: error fixtures with snapshots of what users see, the code registry
//! against its docs and fixtures, every example in `docs/`, and the typed IR of `rules/`.

use std::path::{Path, PathBuf};

use segl::check::{ProjectInput, RawFile, Report, check_project};
use segl::diagnostics::{Code, REGISTRY, render};

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file below `dir`, sorted, as paths relative to `dir`.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

fn display(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Reads a project folder (with or without `segl.toml`) or a single rule file. Names shown in
/// diagnostics are relative to the fixture's parent, so snapshots do not depend on the checkout.
pub(crate) fn load(path: &Path) -> ProjectInput {
    let base = path.parent().unwrap();
    if path.is_file() {
        let name = display(path.strip_prefix(base).unwrap());
        return ProjectInput {
            name: name.clone(),
            config: None,
            rules: vec![RawFile::new(name, std::fs::read(path).unwrap())],
        };
    }
    let dir_name = display(path.strip_prefix(base).unwrap());
    let mut config = None;
    let mut rules = Vec::new();
    for rel in files_below(path) {
        let shown = format!("{dir_name}/{}", display(&rel));
        let bytes = std::fs::read(path.join(&rel)).unwrap();
        if rel == Path::new("segl.toml") {
            config = Some(RawFile::new(shown, bytes));
        } else if rel.extension().is_some_and(|e| e == "segl") && !rel.starts_with("data") {
            rules.push(RawFile::new(shown, bytes));
        }
    }
    ProjectInput {
        name: dir_name,
        config,
        rules,
    }
}

fn check_text(files: &[(&str, &str)]) -> Report {
    check_project(&ProjectInput {
        name: "example".into(),
        config: None,
        rules: files
            .iter()
            .map(|(name, text)| RawFile::new(*name, text.as_bytes().to_vec()))
            .collect(),
    })
}

fn codes(report: &Report) -> Vec<String> {
    report
        .diagnostics
        .iter()
        .map(|d| d.code.as_str().to_owned())
        .collect()
}

fn fixture_code(name: &str) -> Option<Code> {
    Code::parse(name.get(..5)?)
}

#[test]
fn error_fixtures_report_their_code_and_nothing_else() {
    let dir = root().join("tests/fixtures/errors");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert!(!entries.is_empty());
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let code = fixture_code(&name)
            .unwrap_or_else(|| panic!("fixture {name} does not start with a registered code"));
        let report = check_project(&load(&path));
        let found = codes(&report);
        assert!(
            found.iter().all(|c| c == code.as_str()) && !found.is_empty(),
            "{name}: expected only {code}, got {found:?}\n{}",
            render::plain(&report.diagnostics, &report.sources)
        );
        let shown = render::plain(&report.diagnostics, &report.sources);
        let stem = name.trim_end_matches(".segl");
        insta::assert_snapshot!(format!("error_{stem}"), shown);
    }
}

#[test]
fn registry_docs_and_fixtures_agree() {
    let docs = root().join("docs/diagnostics");
    // A code's fixture is a file or folder in `tests/fixtures/errors` (rules),
    // `tests/fixtures/data` (data files), `tests/fixtures/datacheck` (rules against data),
    // `tests/fixtures/test/errors` (problems found when tests run), `tests/fixtures/sql`
    // (compiling to SQL) or `tests/fixtures/dbt/errors` (views and dbt models), named starting
    // with the code.
    let fixtures: Vec<String> = [
        "tests/fixtures/errors",
        "tests/fixtures/data",
        "tests/fixtures/datacheck",
        "tests/fixtures/test/errors",
        "tests/fixtures/sql",
        "tests/fixtures/dbt/errors",
        "tests/fixtures/diff/errors",
    ]
    .iter()
    .flat_map(|dir| std::fs::read_dir(root().join(dir)).unwrap())
    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
    .collect();
    let index = std::fs::read_to_string(docs.join("README.md")).unwrap();
    for info in REGISTRY {
        let page = std::fs::read_to_string(docs.join(format!("{}.md", info.name)))
            .unwrap_or_else(|_| panic!("{} has no docs page", info.name));
        assert_eq!(
            page, info.doc,
            "{} page differs from the compiled-in copy",
            info.name
        );
        assert!(
            page.starts_with(&format!("# {}: {}\n", info.name, info.title)),
            "{}: the page title must be `# {}: {}`",
            info.name,
            info.name,
            info.title
        );
        for section in [
            "## Example that triggers it",
            "## How to fix it",
            "## Why segl asks for this",
        ] {
            assert!(
                page.contains(section),
                "{} lacks the section {section}",
                info.name
            );
        }
        assert!(
            fixtures.iter().any(|f| f.starts_with(info.name)),
            "{} has no fixture in tests/fixtures/errors, data or datacheck",
            info.name
        );
        assert!(
            index.contains(info.name),
            "docs/diagnostics/README.md does not list {}",
            info.name
        );
    }
    for entry in std::fs::read_dir(&docs).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name == "README.md" {
            continue;
        }
        let code = name.trim_end_matches(".md");
        assert!(
            Code::parse(code).is_some(),
            "docs page {name} has no registered code"
        );
    }
    for f in &fixtures {
        assert!(
            fixture_code(f).is_some(),
            "fixture {f} does not start with a registered code"
        );
    }
}

/// One fenced `segl` block of a docs page.
struct Example {
    file: String,
    line: usize,
    expected: Option<String>,
    text: String,
}

fn examples_in(path: &Path, shown: &str) -> Vec<Example> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let mut current: Option<Example> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(ex) = current.as_mut() {
            if trimmed.starts_with("```") {
                out.push(current.take().unwrap());
            } else {
                ex.text.push_str(line);
                ex.text.push('\n');
            }
        } else if let Some(info) = trimmed.strip_prefix("```segl") {
            let expected = info
                .split_whitespace()
                .find_map(|w| w.strip_prefix("error="))
                .map(str::to_owned);
            current = Some(Example {
                file: shown.to_owned(),
                line: i + 1,
                expected,
                text: String::new(),
            });
        }
    }
    out
}

#[test]
fn every_docs_example_checks_as_documented() {
    let schema = std::fs::read_to_string(root().join("rules/schema.segl")).unwrap();
    let docs = root().join("docs");
    let mut count = 0;
    let mut failures = Vec::new();
    for rel in files_below(&docs) {
        if rel.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let shown = format!("docs/{}", display(&rel));
        for ex in examples_in(&docs.join(&rel), &shown) {
            count += 1;
            let declares_entity = ex
                .text
                .lines()
                .any(|l| l.trim_start().starts_with("entity "));
            let mut files = vec![("example.segl", ex.text.as_str())];
            if !declares_entity {
                files.insert(0, ("schema.segl", schema.as_str()));
            }
            let report = check_text(&files);
            let found = codes(&report);
            let ok = match &ex.expected {
                None => found.is_empty(),
                Some(code) => found.contains(code),
            };
            if !ok {
                failures.push(format!(
                    "{}:{}: expected {}, got {found:?}\n{}",
                    ex.file,
                    ex.line,
                    ex.expected.as_deref().unwrap_or("no diagnostics"),
                    render::plain(&report.diagnostics, &report.sources)
                ));
            }
        }
    }
    assert!(count > 50, "only {count} examples found in docs/");
    assert!(
        failures.is_empty(),
        "{} docs examples fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_example_project_is_clean_and_its_ir_is_stable() {
    let report = check_project(&load(&root().join("rules")));
    assert!(
        report.diagnostics.is_empty(),
        "rules/ has problems:\n{}",
        render::plain(&report.diagnostics, &report.sources)
    );
    let program = report.program.as_ref().expect("a checked program");
    assert!(program.segments.len() + program.tier_sets.len() + program.scores.len() >= 30);
    insta::assert_snapshot!("rules_ir", segl::ir::dump(program));
}

#[test]
fn one_mistake_gives_one_error_and_all_files_are_reported() {
    let report = check_text(&[
        (
            "a.segl",
            "entity customer {\n  key id: text\n  region: one of EMEA, NA\n  arr: decimal\n}\n",
        ),
        (
            "b.segl",
            "segment s1 {\n  where regoin is EMEA and arr > 10\n}\nsegment s2 {\n  where arr > 5 and arr < \"x\"\n}\n",
        ),
        ("c.segl", "segment s3 {\n  where in segment nope\n}\n"),
    ]);
    assert_eq!(codes(&report), ["E0300", "E0400", "E0302"]);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let depth = 10_000;
    let text = format!(
        "entity customer {{\n  key id: text\n  arr: decimal\n}}\nsegment deep {{\n  where {}arr > 1{}\n}}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let report = check_text(&[("deep.segl", &text)]);
    assert_eq!(codes(&report), ["E0004"]);
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn corpus() -> Vec<String> {
        let dir = root().join("rules");
        files_below(&dir)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "segl"))
            .map(|p| std::fs::read_to_string(dir.join(p)).unwrap())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn mutated_projects_check_without_panicking(
            file in 0usize..16,
            cuts in proptest::collection::vec((0usize..4000, 0usize..40, "[a-z(){}\\[\\]\"`#=<>., \n0-9%-]{0,6}"), 1..6),
        ) {
            let corpus = corpus();
            let schema = std::fs::read_to_string(root().join("rules/schema.segl")).unwrap();
            let mut text = corpus[file % corpus.len()].clone();
            for (at, len, insert) in cuts {
                let mut at = at.min(text.len());
                while !text.is_char_boundary(at) { at -= 1; }
                let mut end = (at + len).min(text.len());
                while !text.is_char_boundary(end) { end -= 1; }
                text.replace_range(at..end, &insert);
            }
            let report = check_text(&[("schema.segl", &schema), ("mutated.segl", &text)]);
            let _ = render::plain(&report.diagnostics, &report.sources);
            let _ = render::human(&report.diagnostics, &report.sources, false);
        }

        #[test]
        fn arbitrary_bytes_check_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let report = check_project(&ProjectInput {
                name: "x".into(),
                config: None,
                rules: vec![RawFile::new("x.segl", bytes)],
            });
            let _ = render::plain(&report.diagnostics, &report.sources);
        }
    }
}

#[test]
fn a_window_after_a_parenthesised_where_condition_is_the_aggregates_window() {
    let schema = std::fs::read_to_string(root().join("rules/schema.segl")).unwrap();
    let rules = "segment w {\n  where count(orders where not (status is paid or amount > 100) in last 30 days) >= 1\n}\n";
    let report = check_text(&[("schema.segl", &schema), ("w.segl", rules)]);
    assert!(report.diagnostics.is_empty(), "{:?}", codes(&report));
    let dump = segl::ir::dump(report.program.as_ref().unwrap());
    let segment = &dump[dump.find("segment w of customer").unwrap()..];
    assert!(
        segment.contains("window last 30 days on placed_on"),
        "{segment}"
    );
    assert!(
        segment.contains("where\n        not : bool\n          or : bool"),
        "{segment}"
    );
}

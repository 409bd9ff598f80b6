//! `segl test`: fixture projects under `tests/fixtures/test/` run through the binary (exit codes,
//! snapshots of every output format, JUnit parsed back), the tests of `rules/` at full coverage,
//! and the engine agreeing with the reference evaluator on the records of those tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use segl::check::{ProjectInput, RawFile, check_project};
use segl::diagnostics::Code;
use segl::engine::lower::{Request, evaluate};
use segl::testing::{self, data::test_dataset};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/test")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `segl test . ARGS` inside `dir`, so that file names in the output are short.
fn segl_test(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_segl"))
        .current_dir(dir)
        .arg("test")
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec![".", "--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&segl_test(dir, &all).stdout).unwrap()
}

fn codes_in(doc: &serde_json::Value) -> Vec<String> {
    doc["projects"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["tests"].as_array().unwrap().iter())
        .flat_map(|t| t["diagnostics"].as_array().unwrap().iter())
        .map(|d| d["code"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn each_test_problem_reports_its_code_and_exits_1() {
    let dir = fixtures().join("errors");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert!(entries.len() >= 6);
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let code = Code::parse(&name[..5]).unwrap();
        let found = codes_in(&json(&path, &[]));
        assert!(
            !found.is_empty() && found.iter().all(|c| c == code.as_str()),
            "{name}: expected only {code}, got {found:?}"
        );
        let run = segl_test(&path, &[".", "--format", "plain"]);
        assert_eq!(run.code, 1, "{name}: {}{}", run.stdout, run.stderr);
        insta::assert_snapshot!(format!("test_{name}"), run.stdout);
    }
}

#[test]
fn passing_tests_exit_0() {
    let run = segl_test(&fixtures().join("passing"), &[".", "--format", "plain"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    insta::assert_snapshot!("test_passing_plain", run.stdout);
    // Everything the schema says is exercised both ways: --min-coverage 100 passes.
    let run = segl_test(&fixtures().join("passing"), &[".", "--min-coverage", "100"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout
            .ends_with("9 expectations: 9 passed, 0 failed; coverage 100%\n")
    );
}

#[test]
fn failures_show_expected_actual_and_why_in_every_format() {
    let dir = fixtures().join("failing");
    let plain = segl_test(&dir, &[".", "--format", "plain"]);
    assert_eq!(plain.code, 1);
    insta::assert_snapshot!("test_failing_plain", plain.stdout);
    let human = segl_test(&dir, &[".", "--color", "never"]);
    assert_eq!(human.code, 1);
    insta::assert_snapshot!("test_failing_human", human.stdout);
    let json = segl_test(&dir, &[".", "--format", "json"]);
    assert_eq!(json.code, 1);
    insta::assert_snapshot!("test_failing_json", json.stdout);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["summary"]["failed"], 3);
    assert_eq!(doc["summary"]["failed_tests"], 2);
}

#[test]
fn junit_is_well_formed_xml_with_one_testcase_per_test() {
    let run = segl_test(&fixtures().join("failing"), &[".", "--format", "junit"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!("test_failing_junit", run.stdout);
    let doc = roxmltree::Document::parse(&run.stdout).expect("well-formed XML");
    let suites = doc.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    assert_eq!(suites.attribute("tests"), Some("2"));
    assert_eq!(suites.attribute("failures"), Some("2"));
    let suite: Vec<_> = suites
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suite.len(), 1);
    assert_eq!(suite[0].attribute("name"), Some("tests.segl"));
    let cases: Vec<_> = suite[0]
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let names: Vec<_> = cases.iter().map(|c| c.attribute("name").unwrap()).collect();
    // The name with `&`, `<` and `>` comes back exactly as written.
    assert_eq!(
        names,
        ["one wrong expectation", "a score & a tier <that fail>"]
    );
    let failure = cases[1]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(failure.attribute("type"), Some("E0800"));
    assert!(
        failure
            .attribute("message")
            .unwrap()
            .starts_with("2 of 3 expectations failed")
    );
    assert!(failure.text().unwrap().contains("actual:   fit = -5"));
}

#[test]
fn junit_escapes_everything_xml_cannot_hold() {
    let escaped = testing::report::xml_escape("a<b & \"c\" 'd'>\u{1}\u{7}\ttab");
    assert_eq!(
        escaped,
        "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{FFFD}\u{FFFD}\ttab"
    );
    let xml = format!("<x a=\"{escaped}\">{escaped}</x>");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        doc.root_element().text(),
        Some("a<b & \"c\" 'd'>\u{FFFD}\u{FFFD}\ttab")
    );
}

#[test]
fn coverage_gaps_are_listed_and_a_minimum_fails_the_run() {
    let dir = fixtures().join("coverage-gaps");
    let run = segl_test(&dir, &[".", "--format", "plain", "--coverage"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    insta::assert_snapshot!("test_coverage_gaps", run.stdout);
    let below = segl_test(&dir, &[".", "--format", "plain", "--min-coverage", "80"]);
    assert_eq!(below.code, 1);
    assert!(
        below.stdout.contains("is below the minimum of 80%"),
        "{}",
        below.stdout
    );
    let doc = json(&dir, &["--min-coverage", "80"]);
    assert_eq!(doc["min_coverage"], 80.0);
    let gaps = doc["projects"][0]["coverage"]["gaps"].as_array().unwrap();
    assert!(
        gaps.iter()
            .any(|g| g["kind"] == "where" && g["seen_true"] == false)
    );
    // At or below the measured coverage passes.
    let percent = doc["coverage"]["percent"].as_f64().unwrap();
    let at = format!("{}", percent.floor());
    assert_eq!(segl_test(&dir, &[".", "--min-coverage", &at]).code, 0);
}

#[test]
fn usage_problems_exit_2_and_check_errors_exit_1() {
    let dir = fixtures().join("passing");
    assert_eq!(segl_test(&dir, &["missing-folder"]).code, 2);
    assert_eq!(segl_test(&dir, &[".", "--min-coverage", "120"]).code, 2);
    assert_eq!(segl_test(&dir, &[".", "--format", "sarif-ish"]).code, 2);
    let broken = root().join("tests/fixtures/errors");
    let run = segl_test(&broken, &["E0300-misspelt-field.segl", "--format", "plain"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("error[E0300]"));
    assert!(run.stdout.contains("no test was run"));
}

#[test]
fn filter_runs_only_matching_tests() {
    let dir = fixtures().join("failing");
    let run = segl_test(&dir, &[".", "--format", "plain", "--filter", "one wrong"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("1 test, 2 expectations: 1 passed, 1 failed"),
        "{}",
        run.stdout
    );
    let none = segl_test(
        &dir,
        &[".", "--format", "plain", "--filter", "nothing like this"],
    );
    assert_eq!(none.code, 0);
    assert!(
        none.stdout
            .contains("no test name contains the filter text")
    );
}

fn rules_project() -> ProjectInput {
    let dir = root().join("rules");
    let mut rules = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".segl"))
        .collect();
    names.sort();
    for n in names {
        rules.push(RawFile::new(
            format!("rules/{n}"),
            std::fs::read(dir.join(&n)).unwrap(),
        ));
    }
    ProjectInput {
        name: "rules".into(),
        config: Some(RawFile::new(
            "rules/segl.toml",
            std::fs::read(dir.join("segl.toml")).unwrap(),
        )),
        rules,
    }
}

#[test]
fn the_example_project_passes_its_tests_at_full_coverage() {
    let run = segl_test(
        &root(),
        &["rules", "--min-coverage", "100", "--format", "plain"],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("; coverage 100%"), "{}", run.stdout);
    assert!(run.stdout.contains("12 tests,"), "{}", run.stdout);
}

/// The tests' records, evaluated by the engine, give the memberships, tiers and scores of the
/// reference evaluator that `segl test` uses.
#[test]
fn engine_agrees_with_the_reference_evaluator_on_the_test_records() {
    let report = check_project(&rules_project());
    let program = report.program.unwrap();
    let mut sources = report.sources;
    let tz = jiff::tz::TimeZone::UTC;
    let request = Request::default();
    assert!(program.tests.len() >= 11);
    for test in &program.tests {
        // Names are relative to the package root, where `cargo test` runs.
        let file = sources.name(test.span.file).to_owned();
        let data = test_dataset(&program, test, &file, &tz, &mut sources)
            .unwrap_or_else(|d| panic!("{}: {d:?}", test.name));
        let settings = testing::settings(test, &tz).unwrap();
        let reference = segl::explain::evaluate(&program, &data, &settings).unwrap();
        let engine = evaluate(&program, &data, &settings, &request).unwrap();
        assert_eq!(reference.len(), engine.memberships.len(), "{}", test.name);
        for (r, e) in reference.iter().zip(&engine.memberships) {
            assert_eq!(r.entity, e.entity);
            let width = r.batch.num_columns();
            let e_batch = e.batch.project(&(0..width).collect::<Vec<_>>()).unwrap();
            assert_eq!(
                r.batch.columns(),
                e_batch.columns(),
                "test {:?}, entity {}",
                test.name,
                program.entity(r.entity).name
            );
        }
    }
}

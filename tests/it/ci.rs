//! Output for CI: SARIF validated against the official SARIF 2.1.0 schema, GitHub annotations
//! with their escaping rules, and the exit-code contract of every command.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use segl::check::check_project;
use segl::diagnostics::{Code, Diagnostic, render};
use segl::source::{SourceMap, Span};

use crate::check::{load, root};

// ---------------------------------------------------------------------------------------------
// SARIF

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let text =
            std::fs::read_to_string(root().join("tests/fixtures/sarif/sarif-schema-2.1.0.json"))
                .unwrap();
        let mut schema: serde_json::Value = serde_json::from_str(&text).unwrap();
        // The official file puts the region's `anyOf` (a region has a start line, a character
        // offset or a byte offset) inside `properties`, where it is a schema-level mistake that
        // a validator checking the schema itself refuses. Move it to the region, where the
        // specification (3.30.2) says it belongs: the validation gets stricter, not looser.
        let region = &mut schema["definitions"]["region"];
        let any_of = region["properties"]
            .as_object_mut()
            .unwrap()
            .remove("anyOf")
            .expect("the misplaced anyOf of the official schema");
        region["anyOf"] = any_of;
        assert_eq!(
            schema["title"],
            "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
        );
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap()
    })
}

/// Parses a SARIF log and fails with every schema violation if it is not valid.
fn assert_valid_sarif(text: &str, what: &str) -> serde_json::Value {
    let log: serde_json::Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: not JSON: {e}\n{text}"));
    let errors: Vec<String> = validator()
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: SARIF does not match the schema:\n{}\n{text}",
        errors.join("\n")
    );
    // Things the schema cannot say but code scanning relies on.
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for result in run["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"], "{what}: ruleIndex");
    }
    log
}

#[test]
fn the_vendored_schema_rejects_a_broken_log() {
    // A validator that accepts anything would make the other tests worthless.
    let broken = serde_json::json!({
        "version": "2.1.0",
        "runs": [{ "tool": { "driver": { "name": "segl" } },
                   "results": [{ "message": { "text": "x" }, "level": "fatal" }] }]
    });
    assert!(!validator().is_valid(&broken));
    let bad_region = serde_json::json!({
        "version": "2.1.0",
        "runs": [{ "tool": { "driver": { "name": "segl" } },
                   "results": [{ "message": { "text": "x" }, "locations": [{ "physicalLocation": {
                       "artifactLocation": { "uri": "a.segl" },
                       "region": { "startLine": 0 } } }] }] }]
    });
    assert!(!validator().is_valid(&bad_region));
}

#[test]
fn sarif_of_every_error_fixture_is_valid() {
    let dir = root().join("tests/fixtures/errors");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let mut codes_seen = std::collections::BTreeSet::new();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let report = check_project(&load(&path));
        let text = render::sarif(&[(&report.diagnostics, &report.sources)], "0.1.0");
        let log = assert_valid_sarif(&text, &name);
        let results = log["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), report.diagnostics.len(), "{name}");
        for (result, d) in results.iter().zip(&report.diagnostics) {
            assert_eq!(result["ruleId"], d.code.as_str());
            assert_eq!(result["level"], d.severity.as_str());
            codes_seen.insert(d.code);
        }
    }
    assert!(codes_seen.len() > 40, "only {} codes", codes_seen.len());
}

#[test]
fn sarif_of_an_empty_run_is_valid() {
    let log = assert_valid_sarif(&render::sarif(&[], "0.1.0"), "empty");
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"],
        serde_json::json!([])
    );
    assert_eq!(log["runs"][0]["columnKind"], "utf16CodeUnits");
}

#[test]
fn sarif_of_several_projects_is_one_valid_run() {
    let run = segl(
        &[
            "check",
            "--format",
            "sarif",
            "tests/fixtures/errors/E0002-unquoted-time-zone",
            "tests/fixtures/projects/warning",
            "tests/fixtures/errors/E0300-misspelt-field.segl",
            "tests/fixtures/errors/E0003-no-segl-files",
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let log = assert_valid_sarif(&run.stdout, "several projects");
    let results = log["runs"][0]["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    for code in ["E0002", "E0003", "E0300", "W0100"] {
        assert!(ids.contains(&code), "{code} missing from {ids:?}");
    }
    let rules: Vec<&str> = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["E0002", "E0003", "E0300", "W0100"]);
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["version"],
        env!("CARGO_PKG_VERSION")
    );
    // A project without rule files is reported at its `segl.toml`.
    let e0003 = results.iter().find(|r| r["ruleId"] == "E0003").unwrap();
    let physical = &e0003["locations"][0]["physicalLocation"];
    assert_eq!(
        physical["artifactLocation"]["uri"],
        "tests/fixtures/errors/E0003-no-segl-files/segl.toml"
    );
    assert_eq!(physical["region"]["startLine"], 1);
}

const SCHEMA: &str =
    "entity customer {\n  key id: text\n  région: one of EMEA, NA\n  arr: decimal\n}\n";
const RULES: &str = "segment grüße {\n  title \"😀 Grands comptes — EMEA\"\n  where regoin is EMEA and arr > 5\n}\n";

/// Diagnostics with non-ASCII text before the spans, a fix, a related place in another file,
/// notes, a warning, a message with newlines, and an odd file name.
fn example() -> (SourceMap, Vec<Diagnostic>) {
    let mut sources = SourceMap::new();
    let schema = sources.add("rules/schéma.segl", SCHEMA);
    let rules = sources.add("rules/😀 odd, name: 100%.segl", RULES);
    let empty = sources.add("rules/empty", "");
    let at = |file, text: &str, needle: &str| {
        let start = text.find(needle).expect("needle in text");
        Span::new(file, start, start + needle.len())
    };
    let diagnostics = vec![
        Diagnostic::new(
            Code::E0300,
            at(rules, RULES, "regoin"),
            "unknown name `regoin`",
        )
        .label("`customer` has no field of this name")
        .secondary(at(schema, SCHEMA, "région"), "`région` is declared here")
        .help("did you mean `région`?")
        .fix(at(rules, RULES, "regoin"), "région"),
        Diagnostic::new(
            Code::E0402,
            at(rules, RULES, "EMEA\"\n  where regoin"),
            "50% of this: spans, lines\r\nand commas",
        )
        .note("a note\nover two lines"),
        Diagnostic::new(
            Code::E0003,
            Span::new(empty, 0, 0),
            "no rule files in `rules/empty`",
        ),
        Diagnostic::new(
            Code::W0100,
            at(rules, RULES, "arr > 5"),
            "`arr` is always known",
        ),
    ];
    (sources, diagnostics)
}

#[test]
fn sarif_regions_count_utf16_code_units() {
    let (sources, diagnostics) = example();
    let text = render::sarif(&[(&diagnostics, &sources)], "0.1.0");
    let log = assert_valid_sarif(&text, "example");
    let results = log["runs"][0]["results"].as_array().unwrap();
    // Line 3 is `  where regoin ...`: ASCII before the span.
    // A file without text (here: empty) has a location without a region.
    let empty = &results[2]["locations"][0]["physicalLocation"];
    assert_eq!(empty["artifactLocation"]["uri"], "rules/empty");
    assert!(empty.get("region").is_none(), "{empty}");
    let region = &results[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 3);
    assert_eq!(region["startColumn"], 9);
    assert_eq!(region["endColumn"], 15);
    // Line 2 is `  title "😀 Grands comptes — EMEA"`: the emoji is two UTF-16 units, `—` one,
    // so `EMEA` starts at column 30 (in characters it would be 29).
    let region = &results[1]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 2);
    assert_eq!(region["startColumn"], 30);
    assert_eq!(region["endLine"], 3);
    assert_eq!(region["endColumn"], 15);
    // `région` in the schema: `é` is one unit.
    let related = &results[0]["relatedLocations"][0];
    assert_eq!(related["physicalLocation"]["region"]["startColumn"], 3);
    assert_eq!(related["physicalLocation"]["region"]["endColumn"], 9);
    assert_eq!(
        related["physicalLocation"]["artifactLocation"]["uri"],
        "rules/sch%C3%A9ma.segl"
    );
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "rules/%F0%9F%98%80%20odd%2C%20name%3A%20100%25.segl"
    );
    // Each rule's help is its docs page; the snapshot shows a marker instead, so that editing a
    // page does not change it.
    let mut log = log;
    for rule in log["runs"][0]["tool"]["driver"]["rules"]
        .as_array_mut()
        .unwrap()
    {
        let code = Code::parse(rule["id"].as_str().unwrap()).unwrap();
        let doc = code.info().doc;
        assert_eq!(rule["help"]["text"], doc);
        assert_eq!(rule["help"]["markdown"], doc);
        assert_eq!(rule["shortDescription"]["text"], code.info().title);
        let full = rule["fullDescription"]["text"].as_str().unwrap();
        assert!(
            full.len() > 40 && !full.contains('\n') && !full.starts_with('#'),
            "{full}"
        );
        rule["help"] = serde_json::json!(format!("<docs/diagnostics/{code}.md>"));
        rule["fullDescription"] = serde_json::json!("<its first paragraph>");
    }
    insta::assert_snapshot!(
        "ci_sarif_example",
        serde_json::to_string_pretty(&log).unwrap()
    );
}

// ---------------------------------------------------------------------------------------------
// GitHub annotations

#[test]
fn github_annotations_of_the_example() {
    let (sources, diagnostics) = example();
    let text = render::github(&[(&diagnostics, &sources)]);
    assert_eq!(text.lines().count(), diagnostics.len(), "{text}");
    for line in text.lines() {
        assert!(
            line.starts_with("::error ") || line.starts_with("::warning "),
            "{line}"
        );
        assert!(!line.contains('\r'));
    }
    insta::assert_snapshot!("ci_github_example", text);
}

#[test]
fn github_escaping_follows_the_workflow_command_rules() {
    assert_eq!(
        render::escape_data("100% done\r\nnext: a, b"),
        "100%25 done%0D%0Anext: a, b"
    );
    assert_eq!(render::escape_property("a,b:c%d\ne"), "a%2Cb%3Ac%25d%0Ae");
    // Escaping is applied once: an escape sequence in the input is escaped itself.
    assert_eq!(render::escape_data("%0A"), "%250A");

    let (sources, diagnostics) = example();
    let text = render::github(&[(&diagnostics[1..2], &sources)]);
    assert_eq!(
        text,
        "::error file=rules/😀 odd%2C name%3A 100%25.segl,line=2,col=29,endLine=3,endColumn=15,\
         title=E0402 value where a condition is expected::50%25 of this: spans, lines%0D%0Aand commas\
         %0Anote: a note%0Aover two lines\n"
    );
}

#[test]
fn github_format_from_the_command_line() {
    let run = segl(
        &[
            "check",
            "--format",
            "github",
            "tests/fixtures/errors/E0300-misspelt-field.segl",
            "tests/fixtures/projects/warning",
        ],
        None,
    );
    assert_eq!(run.code, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    // Projects come first, then the loose files.
    assert!(
        lines[1].starts_with(
            "::error file=tests/fixtures/errors/E0300-misspelt-field.segl,line=18,col=9,\
             endLine=18,endColumn=15,title=E0300 unknown name::`contry` is not a field of"
        ),
        "{}",
        run.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::warning file=tests/fixtures/projects/warning/"))
    );
    assert!(
        lines.last().unwrap().starts_with("checked "),
        "{}",
        run.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// Exit codes

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn segl(args: &[&str], dir: Option<&Path>) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_segl"))
        .args(args)
        .current_dir(dir.map_or_else(root, Path::to_path_buf))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[derive(serde::Deserialize)]
struct Cases {
    case: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    args: Vec<String>,
    code: i32,
    #[serde(default)]
    why: String,
}

#[test]
fn every_command_keeps_the_exit_code_contract() {
    let text = std::fs::read_to_string(root().join("tests/fixtures/cli/exit-codes.toml")).unwrap();
    let cases: Cases = toml::from_str(&text).unwrap();
    assert!(cases.case.len() >= 20);
    let tmp = std::env::temp_dir().join(format!("segl-exit-codes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let mut failures = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for case in &cases.case {
        let args: Vec<String> = case
            .args
            .iter()
            .map(|a| a.replace("{tmp}", &tmp.display().to_string()))
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = segl(&args, None);
        seen.insert(case.code);
        if run.code != case.code {
            failures.push(format!(
                "segl {} ({}): expected {}, got {}\n{}{}",
                args.join(" "),
                case.why,
                case.code,
                run.code,
                run.stdout.chars().take(400).collect::<String>(),
                run.stderr.chars().take(400).collect::<String>()
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
}

// ---------------------------------------------------------------------------------------------
// `segl test` in CI formats: failed expectations are E0800 results on their `expect` lines.

#[test]
fn test_failures_as_sarif_are_valid_and_point_at_the_expectation() {
    let run = segl(
        &["test", "--format", "sarif", "tests/fixtures/test/failing"],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let log = assert_valid_sarif(&run.stdout, "segl test --format sarif");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for result in results {
        assert_eq!(result["ruleId"], "E0800", "{result}");
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() > 0);
    }

    let passing = segl(
        &["test", "--format", "sarif", "tests/fixtures/test/passing"],
        None,
    );
    assert_eq!(passing.code, 0, "{}", passing.stderr);
    let log = assert_valid_sarif(&passing.stdout, "passing tests");
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);
}

#[test]
fn test_failures_as_github_annotations() {
    let run = segl(
        &["test", "--format", "github", "tests/fixtures/test/failing"],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines.iter().any(
            |l| l.starts_with("::error file=tests/fixtures/test/failing/")
                && l.contains("title=E0800 test expectation not met::")
        ),
        "{}",
        run.stdout
    );
    assert!(lines.last().unwrap().contains(" failed"), "{}", run.stdout);

    let gaps = segl(
        &[
            "test",
            "--format",
            "github",
            "--min-coverage",
            "100",
            "tests/fixtures/test/coverage-gaps",
        ],
        None,
    );
    assert_eq!(gaps.code, 1, "{}", gaps.stderr);
    assert!(
        gaps.stdout
            .contains("::error title=coverage below the minimum::coverage "),
        "{}",
        gaps.stdout
    );
    assert!(
        gaps.stdout.contains("%25"),
        "percent signs are escaped: {}",
        gaps.stdout
    );
}

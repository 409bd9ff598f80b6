//! `segl check --data`: the rules and the schema checked against data. One fixture project per
//! code under `tests/fixtures/datacheck/` (named after the code), with a snapshot of the plain
//! output; JSON output, exit codes, and the example project.

#![allow(clippy::expect_used)] // test helpers: a failed expectation is a failed test

use std::path::PathBuf;
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `segl` from inside `tests/fixtures`.
fn segl(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_segl"))
        .args(args)
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"))
        .env("NO_COLOR", "1")
        .output()
        .expect("segl runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

fn cases() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/datacheck");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the datacheck fixtures exist")
        .map(|e| {
            e.expect("readable")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn each_fixture_reports_its_code_and_nothing_else() {
    let names = cases();
    assert!(names.len() >= 7, "{names:?}");
    for name in names {
        let code = &name[..5];
        let path = format!("datacheck/{name}");
        let run = segl(&["check", "--data", "--format", "json", &path]);
        let json: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}{}", run.stdout, run.stderr));
        let found: Vec<&str> = json["diagnostics"]
            .as_array()
            .expect("a list of diagnostics")
            .iter()
            .map(|d| d["code"].as_str().expect("a code"))
            .collect();
        assert!(
            !found.is_empty() && found.iter().all(|c| *c == code),
            "{name}: expected only {code}, got {found:?}"
        );
        assert_eq!(run.code, 4, "{name}: warnings exit with 4\n{}", run.stderr);

        // Plain check without `--data` does not read the data: nothing to report.
        let plain = segl(&["check", "--format", "plain", &path]);
        assert_eq!(plain.code, 0, "{name}: {}", plain.stdout);

        let shown = segl(&["check", "--data", "--format", "plain", &path]);
        assert!(shown.stderr.is_empty(), "{name}: {}", shown.stderr);
        insta::assert_snapshot!(format!("datacheck_{name}"), shown.stdout);
    }
}

#[test]
fn json_output_has_counts_and_data_spans() {
    let run = segl(&[
        "check",
        "--data",
        "--format",
        "json",
        "datacheck/W0755-extra-column",
    ]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(json["summary"]["warnings"], 1, "{}", run.stdout);
    assert_eq!(json["summary"]["errors"], 0);
    let d = &json["diagnostics"][0];
    assert_eq!(d["code"], "W0755");
    assert_eq!(d["severity"], "warning");
    assert!(
        run.stdout.contains("customers.csv"),
        "the warning points into the data file: {}",
        run.stdout
    );
}

#[test]
fn data_override_and_flag_before_the_folder() {
    // `--data ENTITY=PATH` replaces the file of `segl.toml`, with the folder after it; the
    // folder may also follow the bare `--data` flag.
    let run = segl(&[
        "check",
        "--data",
        "customer=datacheck/W0750-threshold-out-of-range/customers.csv",
        "--format",
        "plain",
        "datacheck/W0755-extra-column",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("no problems found"), "{}", run.stdout);
    let run = segl(&[
        "check",
        "--format",
        "plain",
        "--data",
        "datacheck/W0755-extra-column",
    ]);
    assert_eq!(run.code, 4, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("W0755"), "{}", run.stdout);
}

#[test]
fn load_errors_are_reported_and_exit_1() {
    // A column missing from the file is the loader's error (E0602); nothing is checked against
    // data that cannot load, and the missing column is not reported a second time.
    let run = segl(&[
        "check",
        "--data",
        "customer=datacheck/W0756-empty-optional-column/customers.csv",
        "--format",
        "plain",
        "datacheck/W0750-threshold-out-of-range",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("E0602"), "{}", run.stdout);
    assert!(!run.stdout.contains("warning["), "{}", run.stdout);
    assert!(run.stdout.contains("1 error"), "{}", run.stdout);
}

#[test]
fn as_of_and_param_need_data() {
    let run = segl(&[
        "check",
        "--as-of",
        "2026-01-01",
        "datacheck/W0750-threshold-out-of-range",
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let run = segl(&[
        "check",
        "--data",
        "--as-of",
        "not-a-date",
        "datacheck/W0750-threshold-out-of-range",
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("not a date"), "{}", run.stderr);
}

#[test]
fn rules_with_errors_are_not_checked_against_data() {
    // An invalid `segl.toml`: the error is reported as by plain `segl check`, no data is read.
    let run = segl(&[
        "check",
        "--data",
        "--format",
        "plain",
        "errors/E0002-unquoted-time-zone",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("E0002"), "{}", run.stdout);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[test]
fn example_project_is_clean_against_its_data_but_for_one_guard() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(env!("CARGO_BIN_EXE_segl"))
        .args(["check", "--data", "--format", "json", "rules"])
        .current_dir(&dir)
        .output()
        .expect("segl runs");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    let found: Vec<(String, String)> = json["diagnostics"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_owned(),
                d["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    // `sales_ready_leads` keeps `plan is any of [free, starter]` on purpose: the lead score
    // alone would let a pro customer with every bonus in (55 points), which the data has not.
    assert_eq!(
        found,
        vec![(
            "W0752".to_owned(),
            "`plan is any of [free, starter]` never changes who is in `sales_ready_leads`"
                .to_owned()
        )],
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

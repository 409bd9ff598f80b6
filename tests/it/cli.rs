//! The `segl` binary run over the fixture folders: exit codes, messages and output formats.

#![allow(clippy::expect_used)] // test helpers: a failed expectation is a failed test

use std::path::PathBuf;
use std::process::Command;

/// The output of one run of `segl`, from inside `tests/fixtures` with `NO_COLOR` unset.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn segl_with(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_segl"));
    command
        .args(args)
        .current_dir(fixtures())
        .env_remove("NO_COLOR");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("segl runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

fn segl(args: &[&str]) -> Run {
    segl_with(args, &[])
}

fn check_plain(path: &str) -> Run {
    segl(&["check", "--format", "plain", path])
}

#[test]
fn clean_project_exits_0() {
    let run = check_plain("projects/good");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // `data/customers.segl` holds a bad byte but is not a rule file, so it is not read.
    assert!(run.stdout.contains("1 file"), "{}", run.stdout);
    assert!(run.stdout.contains("no problems found"));
    assert!(run.stderr.is_empty());
}

#[test]
fn bom_is_dropped() {
    let run = check_plain("cli/bom");
    assert_eq!(run.code, 0, "{}", run.stdout);
    let json = segl(&["check", "--format", "json", "cli/bom"]);
    assert!(
        json.stdout.contains("\"diagnostics\": []"),
        "{}",
        json.stdout
    );
}

#[test]
fn non_utf8_file_is_e0001_with_line_and_column() {
    let run = check_plain("cli/latin1");
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .starts_with("error[E0001]: `cli/latin1/segments.segl` is not UTF-8 text\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("  --> cli/latin1/segments.segl:2:13\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("the byte 0xE9 here is not UTF-8"));
}

#[test]
fn crlf_lines_give_character_columns() {
    // Line 3 is `  title "Zoë's Caf` followed by a Latin-1 `é`: column 19, counted in characters
    // (`ë` is two bytes) and unaffected by the `\r\n` line ends before it.
    let run = check_plain("cli/crlf");
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("  --> cli/crlf/latin1_after_crlf.segl:3:19\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains('\r'));
    let run = check_plain("projects/crlf_toml");
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("  --> projects/crlf_toml/segl.toml:3:3\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("  help: did you mean `time_zone`?"));
}

#[test]
fn crlf_rule_files_give_character_columns() {
    // `ë` is two bytes and each earlier line ends in `\r\n`: `regoin` is still at column 33.
    let run = check_plain("cli/crlf_rules");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("  --> cli/crlf_rules/vip.segl:3:33\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\n    |                                 ^^^^^^ ")
    );
    assert!(!run.stdout.contains('\r'));
    let json = segl(&["check", "--format", "json", "cli/crlf_rules"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(doc["diagnostics"][0]["column"], 33);
    assert_eq!(doc["diagnostics"][0]["end_column"], 39);
}

#[test]
fn empty_file_is_fine_and_counted() {
    let run = check_plain("cli/empty");
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains(" 1 file "), "{}", run.stdout);
}

#[test]
fn missing_file_and_folder_exit_2_naming_the_path() {
    for path in ["cli/no-such-file.segl", "cli/no-such-folder"] {
        let run = check_plain(path);
        assert_eq!(run.code, 2, "{path}");
        assert!(run.stdout.is_empty());
        assert_eq!(
            run.stderr,
            format!("error: cannot find `{path}`: there is no file or folder with that name\n")
        );
    }
}

#[test]
fn other_files_and_folder_settings_exit_2() {
    let run = check_plain("cli/mixed/notes.txt");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("`cli/mixed/notes.txt`"),
        "{}",
        run.stderr
    );
    let run = check_plain("projects/toml_is_folder");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("`projects/toml_is_folder/segl.toml` is a folder"),
        "{}",
        run.stderr
    );
}

#[test]
fn folder_without_segl_toml_is_a_folder_of_rules() {
    // `data/fixture.segl` is skipped like in a project (it holds a bad byte).
    let run = check_plain("cli/folder");
    assert_eq!(run.code, 0, "{}", run.stdout);
    let run = check_plain("cli/nothing");
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .starts_with("error[E0003]: no rule files in `cli/nothing`\n  --> cli/nothing\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn several_paths_are_checked_together() {
    // A project is checked on its own; loose files and folders are checked together.
    let run = segl(&[
        "check",
        "--format",
        "plain",
        "cli/bom",
        "cli/empty/empty.segl",
        "projects/good",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.stdout,
        "checked 3 files: 2 entities — no problems found\n"
    );
    // Loose files share one set of names, so the same entity twice is a real error, reported
    // with its first declaration in the other file.
    let run = segl(&[
        "check",
        "--format",
        "plain",
        "cli/bom",
        "cli/folder/schema.segl",
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("  --> cli/folder/schema.segl:1:8\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("  --> cli/bom/schema.segl:2:8\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn project_without_rule_files_is_e0003() {
    let run = check_plain("projects/no_rules");
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("error[E0003]"), "{}", run.stdout);
    assert!(run.stdout.contains("--> projects/no_rules/segl.toml:1:1"));
}

#[test]
fn bad_segl_toml_is_e0002_with_suggestions() {
    let run = check_plain("projects/bad_toml");
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("error[E0002]: unknown setting `primary_entty`"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("  --> projects/bad_toml/segl.toml:3:1"));
    assert!(run.stdout.contains("did you mean `primary_entity`?"));
    assert!(run.stdout.contains("`2026-02-30` is not a real date"));
    assert!(run.stdout.contains("did you mean `lints`?"));
    let run = check_plain("projects/broken_toml");
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("--> projects/broken_toml/segl.toml:2:"),
        "{}",
        run.stdout
    );
}

#[test]
fn rules_patterns_choose_the_files() {
    let run = check_plain("projects/globs");
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout
            .starts_with("checked 2 files: 1 entity, 1 segment — no problems found"),
        "{}",
        run.stdout
    );
}

#[test]
fn warnings_only_exit_4() {
    let run = check_plain("projects/warning");
    assert_eq!(run.code, 4, "{}", run.stdout);
    assert!(run.stdout.contains("warning[W0100]"));
}

#[test]
fn json_has_the_documented_shape() {
    let run = segl(&["check", "--format", "json", "projects/bad_toml"]);
    assert_eq!(run.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    let diagnostics = doc["diagnostics"]
        .as_array()
        .expect("a list of diagnostics");
    assert_eq!(diagnostics.len(), 3);
    let first = &diagnostics[0];
    assert_eq!(first["code"], "E0002");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["file"], "projects/bad_toml/segl.toml");
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(
        (first["end_line"].as_u64(), first["end_column"].as_u64()),
        (Some(3), Some(14))
    );
    assert_eq!(first["labels"][0]["primary"], true);
    assert_eq!(first["fix"]["replacement"], "primary_entity");
    assert!(diagnostics[1]["fix"].is_null());
    for key in ["byte_start", "byte_end", "help", "notes", "message"] {
        assert!(first.get(key).is_some(), "{key}");
    }
    assert_eq!(doc["summary"]["errors"], 3);
    assert_eq!(doc["summary"]["files"], 1);
}

#[test]
fn no_ansi_escapes_unless_asked() {
    // Not a terminal: no colour, even for the human format.
    let run = segl(&["check", "projects/bad_toml"]);
    assert_eq!(run.code, 1);
    assert!(!run.stdout.contains('\u{1b}'), "{}", run.stdout);
    assert!(run.stdout.contains("E0002"));
    // `NO_COLOR` wins over auto; `--color always` forces colour.
    let run = segl_with(&["check", "projects/bad_toml"], &[("NO_COLOR", "1")]);
    assert!(!run.stdout.contains('\u{1b}'));
    let run = segl(&["check", "--color", "always", "projects/bad_toml"]);
    assert!(run.stdout.contains('\u{1b}'), "{}", run.stdout);
    let run = segl(&[
        "check",
        "--color",
        "never",
        "--format",
        "plain",
        "projects/bad_toml",
    ]);
    assert!(!run.stdout.contains('\u{1b}'));
}

#[test]
fn human_output_shows_the_place() {
    let run = segl(&["check", "--color", "never", "projects/crlf_toml"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("[projects/crlf_toml/segl.toml:3:3]"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("did you mean `time_zone`?"));
}

#[test]
fn explain_prints_a_known_code() {
    let run = segl(&["explain", "e0002"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with("# E0002"), "{}", run.stdout);
}

#[test]
fn explain_of_an_unknown_code_suggests_close_ones() {
    let run = segl(&["explain", "E3000"]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr
            .starts_with("error: `E3000` is not a segl diagnostic code\n"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("did you mean"), "{}", run.stderr);
    assert!(run.stderr.contains("segl codes"));
}

#[test]
fn codes_lists_the_registry() {
    let run = segl(&["codes"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("E0300  error    unknown name"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("W0100  warning"));
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    assert_eq!(segl(&["check", "--format", "xml"]).code, 2);
    assert_eq!(segl(&["frobnicate"]).code, 2);
    assert_eq!(segl(&[]).code, 2);
    let help = segl(&["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("check"));
}

#[test]
fn a_crash_exits_3_and_asks_for_a_report() {
    let run = segl(&["internal-panic-for-tests"]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr
            .starts_with("internal error: segl stopped because of a bug in segl"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Please report it"));
}

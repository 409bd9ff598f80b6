//! The formatter: snapshots of formatted fixtures, the already-formatted example project and
//! docs, property tests (idempotent, same meaning, every comment kept) over the corpus with
//! random perturbations and over generated programs, and the `segl fmt` command.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use segl::check::{ProjectInput, RawFile, check_project};
use segl::fmt::{FmtError, format};
use segl::source::FileId;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fmt_ok(text: &str) -> String {
    match format(FileId(0), text) {
        Ok(out) => out,
        Err(FmtError::Syntax(d)) => panic!("does not parse: {d:?}\n{text}"),
        Err(FmtError::Internal(why)) => panic!("refused: {why}\n{text}"),
    }
}

fn segl_files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "segl") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// Fixtures

#[test]
fn fixtures_format_as_snapshotted_and_stay_formatted() {
    let dir = root().join("tests/fixtures/fmt");
    let files = segl_files_below(&dir);
    assert!(files.len() >= 5);
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let out = fmt_ok(&text);
        assert_eq!(fmt_ok(&out), out, "{name} is not stable");
        insta::assert_snapshot!(format!("fmt_{name}"), out);
    }
}

#[test]
fn a_file_that_does_not_parse_is_not_formatted() {
    let err = format(FileId(0), "segment s {\n  where arr >\n}\n").unwrap_err();
    assert!(matches!(err, FmtError::Syntax(d) if !d.is_empty()));
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(fmt_ok(""), "");
    assert_eq!(fmt_ok("\n\n  \n"), "");
    assert_eq!(fmt_ok("   # only a note   \n\n\n"), "# only a note\n");
}

#[test]
fn a_leading_minus_in_a_list_block_gets_parentheses() {
    let out = fmt_ok("segment s {\n  where all of {\n    x is known\n    -y > 3\n  }\n}\n");
    assert!(out.contains("    (-y) > 3\n"), "{out}");
    // The first condition of a block has nothing to continue.
    let out = fmt_ok("segment s {\n  where all of { -y > 3 }\n}\n");
    assert!(out.contains("    -y > 3\n"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// The example project and the docs are formatted

/// Every fenced ```segl block of the docs: (where, text).
fn docs_blocks() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root().join("docs")];
    let mut pages = Vec::new();
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        let shown = page.strip_prefix(root()).unwrap().display().to_string();
        let mut current: Option<(usize, String)> = None;
        for (i, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            if let Some((start, body)) = current.as_mut() {
                if trimmed.starts_with("```") {
                    out.push((format!("{shown}:{start}"), std::mem::take(body)));
                    current = None;
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            } else if trimmed.starts_with("```segl") {
                current = Some((i + 1, String::new()));
            }
        }
    }
    out
}

#[test]
fn the_example_project_and_every_docs_example_are_formatted() {
    let mut unformatted = Vec::new();
    let mut count = 0;
    for path in segl_files_below(&root().join("rules")) {
        if path.starts_with(root().join("rules/data")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        count += 1;
        if fmt_ok(&text) != text {
            unformatted.push(path.display().to_string());
        }
    }
    for (place, text) in docs_blocks() {
        if let Ok(out) = format(FileId(0), &text) {
            count += 1;
            if out != text {
                unformatted.push(format!("{place}:\n{out}"));
            }
        }
    }
    assert!(count > 60, "only {count} files and examples found");
    assert!(
        unformatted.is_empty(),
        "not formatted (run `segl fmt rules/`; docs blocks should read as shown):\n{}",
        unformatted.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Properties: idempotent, same meaning, comments kept

/// The files a formatted text is checked with, and whether it stands alone.
struct Sample {
    name: String,
    text: String,
    /// The other files of its project (`rules/`), or the schema it is checked against.
    context: Vec<RawFile>,
}

fn rules_files() -> Vec<RawFile> {
    segl_files_below(&root().join("rules"))
        .into_iter()
        .filter(|p| !p.starts_with(root().join("rules/data")))
        .map(|p| {
            let name = p.strip_prefix(root()).unwrap().display().to_string();
            RawFile::new(name, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// Every `.segl` text of the repository that parses: `rules/`, the test fixtures and the docs
/// examples.
fn corpus() -> Vec<Sample> {
    let rules = rules_files();
    let schema = std::fs::read(root().join("rules/schema.segl")).unwrap();
    let mut out = Vec::new();
    for f in &rules {
        out.push(Sample {
            name: f.name.clone(),
            text: String::from_utf8(f.bytes.clone()).unwrap(),
            context: rules.iter().filter(|o| o.name != f.name).cloned().collect(),
        });
    }
    for path in segl_files_below(&root().join("tests/fixtures")) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if format(FileId(0), &text).is_err() {
            continue;
        }
        let name = path.strip_prefix(root()).unwrap().display().to_string();
        out.push(Sample {
            name,
            text,
            context: Vec::new(),
        });
    }
    for (place, text) in docs_blocks() {
        if format(FileId(0), &text).is_err() {
            continue;
        }
        let declares_entity = text.lines().any(|l| l.trim_start().starts_with("entity "));
        let context = if declares_entity {
            Vec::new()
        } else {
            vec![RawFile::new("schema.segl", schema.clone())]
        };
        out.push(Sample {
            name: place,
            text,
            context,
        });
    }
    out
}

/// What checking `text` (with its context) means: the typed program when it checks cleanly,
/// otherwise the codes and messages of its diagnostics (positions aside).
fn meaning(name: &str, text: &str, context: &[RawFile]) -> String {
    let mut rules = context.to_vec();
    rules.push(RawFile::new(name, text.as_bytes().to_vec()));
    rules.sort_by(|a, b| a.name.cmp(&b.name));
    let report = check_project(&ProjectInput {
        name: "p".into(),
        config: None,
        rules,
    });
    match &report.program {
        Some(p) if report.diagnostics.iter().all(|d| !d.is_error()) => segl::ir::dump(p),
        _ => report
            .diagnostics
            .iter()
            .map(|d| format!("{:?} {}\n", d.code, d.message))
            .collect(),
    }
}

/// Places between tokens where blanks, a line break or a comment can go without changing what
/// the text says: a space outside texts, quoted names and comments, not between a number and its
/// unit, not inside `count distinct`, not just before the `when` of a score rule.
fn gaps(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut in_text = false;
    let mut in_name = false;
    let mut in_comment = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if in_comment {
            in_comment = b != b'\n';
            continue;
        }
        if in_text {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_text = false;
            }
            continue;
        }
        if in_name {
            in_name = b != b'`';
            continue;
        }
        match b {
            b'"' => in_text = true,
            b'`' => in_name = true,
            b'#' => in_comment = true,
            b' ' | b'\n' => {
                let before = text[..i].trim_end_matches([' ', '\t']);
                let after = text[i..].trim_start();
                let prev_digit = before.ends_with(|c: char| c.is_ascii_digit());
                let next_word = after.starts_with(|c: char| c.is_alphabetic());
                let unit = prev_digit && next_word;
                let distinct = before.ends_with("count") && after.starts_with("distinct");
                let when = prev_digit && after.starts_with("when");
                if !unit && !distinct && !when {
                    out.push(i);
                }
            }
            _ => {}
        }
    }
    out
}

/// `text` with `edits` (gap index, what to insert) applied.
fn perturb(text: &str, edits: &[(usize, u8)]) -> String {
    let gaps = gaps(text);
    if gaps.is_empty() {
        return text.to_owned();
    }
    let mut at: Vec<(usize, u8)> = edits
        .iter()
        .map(|(g, kind)| (gaps[g % gaps.len()], *kind))
        .collect();
    at.sort_unstable();
    at.dedup_by_key(|(pos, _)| *pos);
    let mut out = text.to_owned();
    for (pos, kind) in at.into_iter().rev() {
        let insert = match kind % 5 {
            0 => "   ".to_owned(),
            1 => "\n      ".to_owned(),
            2 => "\n\n   ".to_owned(),
            3 => format!(" # note {pos}\n    "),
            _ => format!("\n  # own line {pos}\n "),
        };
        out.insert_str(pos, &insert);
    }
    out
}

fn check_properties(name: &str, text: &str, context: &[RawFile]) -> Result<(), TestCaseError> {
    let once = match format(FileId(0), text) {
        Ok(out) => out,
        Err(FmtError::Syntax(_)) => return Ok(()),
        Err(FmtError::Internal(why)) => {
            return Err(TestCaseError::fail(format!(
                "{name}: refused: {why}\n{text}"
            )));
        }
    };
    let twice = format(FileId(0), &once)
        .map_err(|e| TestCaseError::fail(format!("{name}: output refused: {e:?}\n{once}")))?;
    prop_assert_eq!(&twice, &once, "{}: not idempotent; input:\n{}", name, text);
    let before = meaning(name, text, context);
    let after = meaning(name, &once, context);
    prop_assert_eq!(
        before,
        after,
        "{}: meaning changed; input:\n{}\noutput:\n{}",
        name,
        text,
        once
    );
    Ok(())
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    )
}

#[test]
fn every_corpus_file_formats_idempotently_with_the_same_meaning() {
    for s in corpus() {
        check_properties(&s.name, &s.text, &s.context).unwrap();
    }
}

#[test]
fn perturbed_corpus_files_format_idempotently_with_the_same_meaning() {
    let corpus = corpus();
    assert!(corpus.len() > 100, "only {} corpus texts", corpus.len());
    let strategy = (
        0..corpus.len(),
        proptest::collection::vec((any::<usize>(), any::<u8>()), 1..12),
    );
    runner(96)
        .run(&strategy, |(i, edits)| {
            let s = &corpus[i];
            let text = perturb(&s.text, &edits);
            check_properties(&s.name, &text, &s.context)
        })
        .unwrap();
}

#[test]
fn generated_programs_format_idempotently_with_the_same_meaning() {
    let schema = vec![RawFile::new("schema.segl", crate::differential::SCHEMA)];
    let strategy = (
        crate::differential::rules(),
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
    );
    runner(48)
        .run(&strategy, |(rules, edits)| {
            let text = perturb(&rules.text(), &edits);
            check_properties("generated.segl", &text, &schema)
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// The command

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn segl_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_segl"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    {
        use std::io::Write as _;
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// A scratch folder with one formatted and one unformatted rule file.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("segl-fmt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    std::fs::write(dir.join("rules/good.segl"), "define a = 1\n").unwrap();
    std::fs::write(dir.join("rules/messy.segl"), "define   b=2 # two\n").unwrap();
    dir
}

#[test]
fn check_lists_unformatted_files_and_changes_nothing() {
    let dir = scratch("check");
    let run = segl_in(&dir, &["fmt", "--check", "rules"], None);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "rules/messy.segl\n");
    assert!(
        run.stderr.contains("1 of 2 files is not formatted"),
        "{}",
        run.stderr
    );
    let messy = std::fs::read_to_string(dir.join("rules/messy.segl")).unwrap();
    assert_eq!(messy, "define   b=2 # two\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn diff_shows_the_change_and_changes_nothing() {
    let dir = scratch("diff");
    let run = segl_in(&dir, &["fmt", "--diff", "rules"], None);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("--- rules/messy.segl\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("-define   b=2 # two\n+define b = 2  # two\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("good.segl"), "{}", run.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn formatting_rewrites_only_changed_files_then_check_passes() {
    let dir = scratch("write");
    let good = dir.join("rules/good.segl");
    let before = std::fs::metadata(&good).unwrap().modified().unwrap();
    let run = segl_in(&dir, &["fmt", "rules"], None);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("formatted 1 file, 1 already formatted"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("rules/messy.segl")).unwrap(),
        "define b = 2  # two\n"
    );
    assert_eq!(
        std::fs::metadata(&good).unwrap().modified().unwrap(),
        before
    );
    let again = segl_in(&dir, &["fmt", "--check", "rules"], None);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(
        again.stderr.contains("2 files are already formatted"),
        "{}",
        again.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn files_with_syntax_errors_are_reported_and_left_alone() {
    let dir = scratch("broken");
    let broken = "segment s {\n  where arr >\n}\n";
    std::fs::write(dir.join("rules/broken.segl"), broken).unwrap();
    let run = segl_in(&dir, &["fmt", "rules"], None);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("rules/broken.segl"), "{}", run.stderr);
    assert!(run.stderr.contains("E01"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("1 file was not formatted because of the errors above")
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("rules/broken.segl")).unwrap(),
        broken
    );
    // The other files are still formatted.
    assert_eq!(
        std::fs::read_to_string(dir.join("rules/messy.segl")).unwrap(),
        "define b = 2  # two\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_path_exits_2() {
    let dir = scratch("missing");
    let run = segl_in(&dir, &["fmt", "nope.segl"], None);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("cannot find `nope.segl`"),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stdin_is_formatted_to_stdout() {
    let dir = std::env::temp_dir();
    let run = segl_in(&dir, &["fmt", "-"], Some("define   b=2\n"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "define b = 2\n");
    let run = segl_in(&dir, &["fmt", "-"], Some("define b = 2\n"));
    assert_eq!((run.code, run.stdout.as_str()), (0, "define b = 2\n"));
    let run = segl_in(&dir, &["fmt", "--check", "-"], Some("define   b=2\n"));
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    let run = segl_in(&dir, &["fmt", "--diff", "-"], Some("define   b=2\n"));
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("+define b = 2"), "{}", run.stdout);
    let run = segl_in(&dir, &["fmt", "-"], Some("define b =\n"));
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("<stdin>"), "{}", run.stderr);
}

//! `segl diff` end to end: rule changes against a git revision (in a temporary repository made
//! from `rules/`), data changes between snapshots and dates, the exit-code options, and the error
//! fixtures under `tests/fixtures/diff/errors/`.

use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// A fresh, empty folder for one test.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("segl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs segl in `dir`, never inside an enclosing git repository.
pub(crate) fn segl_in(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_segl"))
        .args(args)
        .current_dir(dir)
        .env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=segl tests",
            "-c",
            "user.email=tests@segl.invalid",
        ])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap())
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// A git repository in `dir` on branch `main` with everything in it committed; returns the
/// short commit hash.
pub(crate) fn commit_all(dir: &Path, message: &str) -> String {
    if !dir.join(".git").exists() {
        git(dir, &["init", "-q"]);
        git(dir, &["symbolic-ref", "HEAD", "refs/heads/main"]);
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", message]);
    git(dir, &["rev-parse", "--short", "HEAD"])
}

pub(crate) fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// `rules/` committed in a fresh repository, then edited: one tier threshold lowered, one
/// segment renamed (its tests follow), one segment removed and one added.
fn edited_example(name: &str) -> (PathBuf, String) {
    let dir = scratch(name);
    copy_dir(&root().join("rules"), &dir.join("rules"));
    let commit = commit_all(&dir, "the example project");
    edit(
        &dir.join("rules/rfm.segl"),
        "champions           when r_score >= 4 and fm_score >= 9",
        "champions           when r_score >= 4 and fm_score >= 8",
    );
    let rfm = std::fs::read_to_string(dir.join("rules/rfm.segl")).unwrap();
    std::fs::write(
        dir.join("rules/rfm.segl"),
        rfm.replace("segment rfm_nurture {", "segment rfm_second_purchase {"),
    )
    .unwrap();
    let tests = std::fs::read_to_string(dir.join("rules/tests.segl")).unwrap();
    std::fs::write(
        dir.join("rules/tests.segl"),
        tests
            .replace("in rfm_nurture\n", "in rfm_second_purchase\n")
            .replace("  expect r5 in big_lifetime_spenders\n", "")
            .replace("  expect n1 not in big_lifetime_spenders\n", ""),
    )
    .unwrap();
    let value = std::fs::read_to_string(dir.join("rules/value.segl")).unwrap();
    let start = value.find("segment big_lifetime_spenders {").unwrap();
    let end = start + value[start..].find("\n}\n").unwrap() + 3;
    let value = format!(
        "{}segment very_big_spenders {{\n  title \"Very big spenders\"\n  where lifetime_value >= 5000\n}}\n{}",
        &value[..start],
        &value[end..]
    );
    std::fs::write(dir.join("rules/value.segl"), value).unwrap();
    (dir, commit)
}

fn rule<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["entities"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["rules"].as_array().unwrap())
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no rule {name} in the diff"))
}

#[test]
fn rule_changes_against_a_git_revision() {
    let (dir, commit) = edited_example("diff-rules");
    let run = segl_in(
        &dir,
        &["diff", "--base", "main", "rules", "--format", "json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["changed"], true);
    assert_eq!(doc["before"], format!("main ({commit})"));
    assert_eq!(doc["after"], "working tree");

    let tiers = rule(&doc, "rfm_class");
    assert_eq!(tiers["status"], "changed");
    let definition = &tiers["definition"];
    let (before, after) = (
        definition["before"].as_str().unwrap(),
        definition["after"].as_str().unwrap(),
    );
    assert!(before.starts_with("tiers rfm_class {") && before.contains("fm_score >= 9"));
    assert!(after.starts_with("tiers rfm_class {") && after.contains("fm_score >= 8"));
    let lines = definition["lines"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l["tag"] == "-" && l["text"].as_str().unwrap().contains(">= 9"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l["tag"] == "+" && l["text"].as_str().unwrap().contains(">= 8"))
    );
    // Lowering the bar for champions only moves records into champions.
    let t = &tiers["tiers"];
    let labels: Vec<&str> = t["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        !labels.contains(&"(none)"),
        "same data: no record is on one side only"
    );
    let champions = labels.iter().position(|l| *l == "champions").unwrap();
    let moved_into: u64 = t["counts"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(from, _)| *from != champions)
        .map(|(_, row)| row[champions].as_u64().unwrap())
        .sum();
    assert!(moved_into > 0);
    assert_eq!(t["moved"].as_u64().unwrap(), moved_into);

    // A segment built on the tier set follows it, with the same definition.
    let champs = rule(&doc, "rfm_champions");
    assert_eq!(champs["status"], "unchanged");
    let seg = &champs["segment"];
    assert_eq!(seg["entered"].as_u64().unwrap(), moved_into);
    assert_eq!(seg["left"], 0);
    assert_eq!(
        seg["members_after"].as_u64().unwrap(),
        seg["members_before"].as_u64().unwrap() + moved_into
    );
    let examples: Vec<&str> = seg["entered_examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(examples.len(), 5);
    let mut sorted = examples.clone();
    sorted.sort_unstable();
    assert_eq!(examples, sorted, "examples are in key order");

    let renamed = rule(&doc, "rfm_second_purchase");
    assert_eq!(renamed["status"], "renamed");
    assert_eq!(renamed["from"], "rfm_nurture");
    assert_eq!(renamed["segment"]["entered"], 0);
    assert_eq!(renamed["segment"]["left"], 0);

    let removed = rule(&doc, "big_lifetime_spenders");
    assert_eq!(removed["status"], "removed");
    assert_eq!(removed["segment"]["members_after"], 0);
    assert_eq!(removed["change_percent"], 100.0);
    let added = rule(&doc, "very_big_spenders");
    assert_eq!(added["status"], "added");
    assert_eq!(added["segment"]["members_before"], 0);
    assert_eq!(
        added["segment"]["entered"],
        added["segment"]["members_after"]
    );

    let unchanged = rule(&doc, "frequent_buyers");
    assert_eq!(unchanged["status"], "unchanged");
    assert_eq!(unchanged["change_percent"], 0.0);

    // The same comparison for people and for a pull request.
    // The commit differs from run to run: a stand-in of the same length keeps the columns.
    let stand_in: String = "1234567890abcdef"
        .chars()
        .cycle()
        .take(commit.len())
        .collect();
    let human = segl_in(&dir, &["diff", "--base", "main", "rules"]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    insta::assert_snapshot!("diff_rules_human", human.stdout.replace(&commit, &stand_in));
    let md = segl_in(
        &dir,
        &["diff", "--base", "main", "rules", "--format", "markdown"],
    );
    assert_eq!(md.code, 0, "{}", md.stderr);
    assert!(md.stdout.starts_with("### segl diff: main ("));
    assert!(
        md.stdout
            .contains("| rule | status | before | after | entered | left | change |")
    );
    assert!(
        md.stdout
            .contains("<details><summary>tiers <code>rfm_class</code>")
    );
    // Definitions side by side in a two-column table, changed lines marked and in code spans.
    assert!(!md.stdout.contains("```diff"));
    assert!(md.stdout.contains("| before: main ("));
    assert!(md.stdout.contains(
        "| **-** `\u{a0}\u{a0}champions           when r_score >= 4 and fm_score >= 9` | **+** `\u{a0}\u{a0}champions           when r_score >= 4 and fm_score >= 8` |"
    ), "{}", md.stdout);
    insta::assert_snapshot!("diff_rules_markdown", md.stdout.replace(&commit, &stand_in));
    let _ = std::fs::remove_dir_all(&dir);
}

fn json_of(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[test]
fn exit_codes_for_ci() {
    let (dir, _) = edited_example("diff-exit");
    let diff = |extra: &[&str]| {
        let mut args = vec!["diff", "--base", "HEAD", "rules", "--format", "json"];
        args.extend_from_slice(extra);
        segl_in(&dir, &args)
    };
    let changed = diff(&["--fail-if-changed"]);
    assert_eq!(changed.code, 5, "records moved: {}", changed.stderr);
    assert!(
        changed.stderr.contains("--fail-if-changed"),
        "{}",
        changed.stderr
    );
    let doc = json_of(&changed);
    assert_eq!(doc["outcomes_changed"], true);
    assert_eq!(doc["definitions_changed"], true);
    // Added and removed segments count as 100% changed.
    let within = diff(&["--max-change", "100"]);
    assert_eq!(within.code, 0, "{}", within.stderr);
    let beyond = diff(&["--max-change", "20"]);
    assert_eq!(beyond.code, 5);
    assert!(
        beyond.stderr.contains("more than `--max-change 20` allows"),
        "{}",
        beyond.stderr
    );
    let bad = segl_in(
        &dir,
        &["diff", "--base", "HEAD", "rules", "--max-change", "-3"],
    );
    assert_eq!(bad.code, 2);

    // Back to the committed rules: nothing changed, every option passes.
    git(&dir, &["checkout", "-q", "--", "."]);
    let same = segl_in(
        &dir,
        &[
            "diff",
            "--base",
            "HEAD",
            "rules",
            "--fail-if-changed",
            "--fail-if-definitions-changed",
            "--max-change",
            "0",
        ],
    );
    assert_eq!(same.code, 0, "{}", same.stderr);
    assert!(same.stdout.contains("nothing changed"), "{}", same.stdout);

    // Only the champions threshold: no rule is new or removed, so the largest change is a
    // computed share, and `--max-change` passes at it and fails just below it.
    edit(
        &dir.join("rules/rfm.segl"),
        "champions           when r_score >= 4 and fm_score >= 9",
        "champions           when r_score >= 4 and fm_score >= 8",
    );
    let doc = json_of(&diff(&[]));
    let largest = doc["entities"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["rules"].as_array().unwrap())
        .map(|r| r["change_percent"].as_f64().unwrap())
        .fold(0.0_f64, f64::max);
    assert!(largest > 1.0 && largest < 100.0, "{largest}");
    let at = diff(&["--max-change", &largest.to_string()]);
    assert_eq!(at.code, 0, "{largest}%: {}", at.stderr);
    let below = diff(&["--max-change", &format!("{:.1}", largest - 0.1)]);
    assert_eq!(below.code, 5, "{largest}%: {}", below.stderr);
    assert!(
        below.stderr.contains("`rfm_champions` changed by"),
        "{}",
        below.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Replaces a whole word in every rule file of a project.
fn rename_everywhere(project: &Path, from: &str, to: &str) {
    let word = regex::Regex::new(&format!(r"\b{from}\b")).unwrap();
    for entry in std::fs::read_dir(project).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "segl") {
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, word.replace_all(&text, to).as_ref()).unwrap();
        }
    }
}

/// A tier set and a score renamed (with every use of them), a segment's condition rewritten
/// with the same meaning, and a comment added: definitions changed, nobody moved.
#[test]
fn renames_and_rewrites_that_move_nobody() {
    let dir = scratch("diff-renames");
    copy_dir(&root().join("rules"), &dir.join("rules"));
    commit_all(&dir, "the example project");
    let rules = dir.join("rules");
    rename_everywhere(&rules, "age_group", "age_band");
    rename_everywhere(&rules, "lead_score", "sales_lead_score");
    edit(
        &rules.join("scores.segl"),
        "where plan is any of [free, starter] and sales_lead_score >= 50",
        "# the handover threshold agreed with sales\n  where sales_lead_score >= 50 and plan is any of [starter, free]",
    );
    let run = segl_in(
        &dir,
        &["diff", "--base", "main", "rules", "--format", "json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = json_of(&run);
    assert_eq!(doc["changed"], true);
    assert_eq!(doc["outcomes_changed"], false);
    assert_eq!(doc["definitions_changed"], true);

    let tiers = rule(&doc, "age_band");
    assert_eq!(tiers["status"], "renamed");
    assert_eq!(tiers["from"], "age_group");
    assert_eq!(tiers["tiers"]["moved"], 0);
    assert_eq!(tiers["change_percent"], 0.0);
    let labels = tiers["tiers"]["labels"].as_array().unwrap();
    assert!(!labels.iter().any(|l| l == "(none)"));
    let score = rule(&doc, "sales_lead_score");
    assert_eq!(score["status"], "renamed");
    assert_eq!(score["from"], "lead_score");
    assert_eq!(score["score"]["changed"], 0);
    assert_eq!(score["score"]["mean_before"], score["score"]["mean_after"]);
    let definition = &score["definition"];
    assert!(
        definition["before"]
            .as_str()
            .unwrap()
            .starts_with("score lead_score {")
    );
    assert!(
        definition["after"]
            .as_str()
            .unwrap()
            .starts_with("score sales_lead_score {")
    );
    // The segment that uses the score has new text and the same members.
    let leads = rule(&doc, "sales_ready_leads");
    assert_eq!(leads["status"], "changed");
    assert_eq!(leads["segment"]["entered"], 0);
    assert_eq!(leads["segment"]["left"], 0);

    let gate = |flag: &str| segl_in(&dir, &["diff", "--base", "main", "rules", flag]);
    let members = gate("--fail-if-changed");
    assert_eq!(members.code, 0, "nobody moved: {}", members.stderr);
    assert!(
        members
            .stdout
            .contains("no record's membership, tier or score changed"),
        "{}",
        members.stdout
    );
    let texts = gate("--fail-if-definitions-changed");
    assert_eq!(texts.code, 5, "{}", texts.stderr);
    assert!(
        texts.stderr.contains("--fail-if-definitions-changed"),
        "{}",
        texts.stderr
    );
    let zero = segl_in(
        &dir,
        &["diff", "--base", "main", "rules", "--max-change", "0"],
    );
    assert_eq!(zero.code, 0, "renames change nobody: {}", zero.stderr);
    // Definitions cannot differ between two data snapshots: the option needs `--base`.
    let data = segl_in(
        &dir,
        &[
            "diff",
            "--before",
            "rules/data",
            "rules",
            "--fail-if-definitions-changed",
        ],
    );
    assert_eq!(data.code, 2, "{}", data.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[derive(serde::Deserialize)]
struct Case {
    git: bool,
    #[serde(default = "yes")]
    commit_project: bool,
    /// A segl command run before `args`, which must succeed.
    #[serde(default)]
    setup: Vec<String>,
    args: Vec<String>,
}

fn yes() -> bool {
    true
}

fn overlay(from: &Path, to: &Path) {
    if from.is_dir() {
        copy_dir(from, to);
    }
}

/// Each folder under `tests/fixtures/diff/errors` is one case: `case.toml` says whether the
/// project (a copy of `rules/` with `base/` laid over it) is committed to a git repository, and
/// `work/` is laid over it after the commit. The diagnostics segl prints are snapshotted.
#[test]
fn diff_error_fixtures() {
    let dir = root().join("tests/fixtures/diff/errors");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 6);
    for case_dir in cases {
        let name = case_dir.file_name().unwrap().to_string_lossy().into_owned();
        let case: Case =
            toml::from_str(&std::fs::read_to_string(case_dir.join("case.toml")).unwrap()).unwrap();
        let tmp = scratch(&format!("diff-case-{name}"));
        let project = tmp.join("project");
        let mut commit = String::new();
        if case.git && !case.commit_project {
            std::fs::write(tmp.join("README.md"), "segments\n").unwrap();
            commit = commit_all(&tmp, "before the project");
        }
        copy_dir(&root().join("rules"), &project);
        overlay(&case_dir.join("base"), &project);
        if case.git && case.commit_project {
            commit = commit_all(&tmp, "the project");
        }
        overlay(&case_dir.join("work"), &project);
        if !case.setup.is_empty() {
            let setup: Vec<&str> = case.setup.iter().map(String::as_str).collect();
            let run = segl_in(&tmp, &setup);
            assert_eq!(run.code, 0, "{name}: setup failed: {}", run.stderr);
        }
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let run = segl_in(&tmp, &args);
        let code = &name[..5];
        assert!(
            run.stderr.contains(&format!("[{code}]")),
            "{name}: {}",
            run.stderr
        );
        let expected = if code.starts_with('W') {
            0
        } else if code == "E1003" {
            1
        } else {
            2
        };
        assert_eq!(run.code, expected, "{name}: {}", run.stderr);
        let shown = if commit.is_empty() {
            run.stderr.clone()
        } else {
            run.stderr.replace(&commit, "<commit>")
        };
        insta::assert_snapshot!(format!("diff_error_{name}"), shown);
        let _ = std::fs::remove_dir_all(&tmp);
    }
}

/// The project's data with one customer (and everything about them) gone and every tenth order
/// missing: an earlier snapshot, as if the customer and those orders came later.
pub(crate) fn earlier_snapshot(dir: &Path) -> PathBuf {
    let before = dir.join("before");
    copy_dir(&root().join("rules/data"), &before);
    for entry in std::fs::read_dir(&before).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let is_orders = path.file_name().unwrap() == "orders.csv";
        let kept: Vec<&str> = text
            .lines()
            .enumerate()
            .filter(|(i, line)| {
                let dropped = line.contains("C0003000") || (is_orders && *i > 0 && i % 10 == 0);
                !dropped
            })
            .map(|(_, l)| l)
            .collect();
        std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    }
    before
}

/// Members after minus before is entered minus left; a transition matrix adds up to the records.
fn assert_consistent(doc: &serde_json::Value) {
    for e in doc["entities"].as_array().unwrap() {
        for r in e["rules"].as_array().unwrap() {
            if let Some(s) = r.get("segment") {
                let n = |k: &str| s[k].as_i64().unwrap();
                assert_eq!(
                    n("members_after") - n("members_before"),
                    n("entered") - n("left"),
                    "{}",
                    r["name"]
                );
            }
            if let Some(t) = r.get("tiers") {
                let total: u64 = t["counts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|row| row.as_array().unwrap())
                    .map(|c| c.as_u64().unwrap())
                    .sum();
                let records =
                    e["records_before"].as_u64().unwrap() + e["records_added"].as_u64().unwrap();
                assert_eq!(total, records, "{}", r["name"]);
            }
        }
    }
}

#[test]
fn data_changes_between_two_snapshots() {
    let dir = scratch("diff-data");
    copy_dir(&root().join("rules"), &dir.join("rules"));
    let before = earlier_snapshot(&dir);
    let run = segl_in(
        &dir,
        &[
            "diff",
            "--before",
            "before",
            "--after",
            "rules/data",
            "rules",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["before"], "before");
    assert_eq!(doc["after"], "rules/data");
    let customer = &doc["entities"][0];
    assert_eq!(customer["entity"], "customer");
    assert_eq!(customer["records_added"], 1);
    assert_eq!(customer["records_removed"], 0);
    assert_consistent(&doc);
    // The new customer comes from `(none)` in every tier set.
    let rfm = rule(&doc, "rfm_class");
    assert_eq!(rfm["status"], "unchanged", "the same rules on both sides");
    let labels = rfm["tiers"]["labels"].as_array().unwrap();
    assert_eq!(labels.last().unwrap(), "(none)");
    let none_row = rfm["tiers"]["counts"].as_array().unwrap().last().unwrap();
    assert_eq!(
        none_row
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .sum::<u64>(),
        1
    );
    assert!(
        rfm["tiers"]["moved"].as_u64().unwrap() > 1,
        "missing orders move buyers between RFM classes"
    );

    // Without `--after`, the project's own data is the later side: the same comparison.
    let short = segl_in(
        &dir,
        &["diff", "--before", "before", "rules", "--format", "json"],
    );
    let short_doc: serde_json::Value = serde_json::from_str(&short.stdout).unwrap();
    assert_eq!(short_doc["entities"], doc["entities"]);

    let human = segl_in(
        &dir,
        &[
            "diff",
            "--before",
            "before",
            "--after",
            "rules/data",
            "rules",
        ],
    );
    assert_eq!(human.code, 0, "{}", human.stderr);
    insta::assert_snapshot!("diff_data_human", human.stdout);
    let md = segl_in(
        &dir,
        &[
            "diff", "--before", "before", "rules", "--format", "markdown",
        ],
    );
    assert!(md.stdout.contains("| before \\ after |"), "{}", md.stdout);
    assert!(md.stdout.contains("| **(none)** |"), "{}", md.stdout);

    let missing = segl_in(&dir, &["diff", "--before", "no-such-folder", "rules"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("cannot find the data folder `no-such-folder`"),
        "{}",
        missing.stderr
    );
    std::fs::remove_file(before.join("tickets.csv")).unwrap();
    let incomplete = segl_in(&dir, &["diff", "--before", "before", "rules"]);
    assert_eq!(incomplete.code, 1);
    assert!(incomplete.stderr.contains("E0600"), "{}", incomplete.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn data_changes_between_two_dates() {
    let dir = scratch("diff-dates");
    copy_dir(&root().join("rules"), &dir.join("rules"));
    let run = segl_in(
        &dir,
        &[
            "diff",
            "--as-of-before",
            "2026-09-30",
            "--as-of-after",
            "2026-10-31",
            "rules",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["before"], "as of 2026-09-30");
    assert_eq!(doc["after"], "as of 2026-10-31");
    assert_consistent(&doc);
    let customer = &doc["entities"][0];
    assert_eq!(
        customer["records_added"], 0,
        "one dataset: the same records"
    );
    let tenure = rule(&doc, "tenure_band");
    assert!(
        !tenure["tiers"]["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "(none)")
    );
    // A month later, some customers are in a longer tenure band; every move has examples.
    let moves = tenure["tiers"]["moves"].as_array().unwrap();
    assert!(!moves.is_empty());
    for m in moves {
        assert_ne!(m["from"], m["to"]);
        assert!(!m["examples"].as_array().unwrap().is_empty());
    }
    let bad = segl_in(&dir, &["diff", "--as-of-before", "30.09.2026", "rules"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("`--as-of-before 30.09.2026` is not a date"),
        "{}",
        bad.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A project at the top of its repository (`segl diff --base main .`, run inside it): git takes
/// no empty path, so the whole tree is listed.
#[test]
fn project_at_the_top_of_the_repository() {
    let dir = scratch("diff-top-level");
    copy_dir(&root().join("rules"), &dir);
    commit_all(&dir, "the example project at the top");
    edit(
        &dir.join("rfm.segl"),
        "champions           when r_score >= 4 and fm_score >= 9",
        "champions           when r_score >= 4 and fm_score >= 8",
    );
    let run = segl_in(&dir, &["diff", "--base", "main", ".", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["changed"], true);
    assert_eq!(rule(&doc, "rfm_class")["status"], "changed");
}

/// The comparison `docs/reviewing-changes.md` shows is what segl prints for the change it
/// describes (the champions threshold of `rules/` lowered), commit aside.
#[test]
fn the_guide_shows_a_real_comparison() {
    let dir = scratch("diff-guide");
    copy_dir(&root().join("rules"), &dir.join("rules"));
    let commit = commit_all(&dir, "the example project");
    edit(
        &dir.join("rules/rfm.segl"),
        "champions           when r_score >= 4 and fm_score >= 9",
        "champions           when r_score >= 4 and fm_score >= 8",
    );
    let run = segl_in(&dir, &["diff", "--base", "main", "rules/"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let guide = std::fs::read_to_string(root().join("docs/reviewing-changes.md")).unwrap();
    let shown = guide
        .split("```\n")
        .find(|block| block.starts_with("segl diff: main ("))
        .expect("the guide shows a comparison");
    let stand_in: String = "3f2a1c9".chars().cycle().take(commit.len()).collect();
    assert_eq!(run.stdout.replace(&commit, &stand_in), shown);
    let _ = std::fs::remove_dir_all(&dir);
}

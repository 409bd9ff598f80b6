//! `segl run --history`: intervals opened and closed between runs, nothing added by a repeated
//! run, and the DuckDB queries of `docs/history.md` answered over a real history.

use std::process::Command;

use segl::history::{Interval, read};

use crate::diff::{commit_all, copy_dir, edit, root, scratch, segl_in};

fn intervals(path: &std::path::Path) -> Vec<Interval> {
    read(std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn runs_add_intervals_and_a_repeated_run_adds_nothing() {
    let dir = scratch("history-runs");
    copy_dir(&root().join("rules"), &dir.join("rules"));
    let history = dir.join("history.parquet");

    let first = segl_in(
        &dir,
        &[
            "run",
            "rules",
            "--history",
            "history.parquet",
            "--format",
            "json",
        ],
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first
            .stderr
            .contains("intervals opened, 0 closed as of 2026-11-20"),
        "{}",
        first.stderr
    );
    serde_json::from_str::<serde_json::Value>(&first.stdout)
        .expect("stdout stays one JSON document");
    let after_first = intervals(&history);
    assert!(
        after_first
            .iter()
            .all(|i| i.valid_to.is_none() && i.valid_from.to_string() == "2026-11-20")
    );
    // One tier per record and tier set; segment rows only for members.
    let customers = 3000;
    let rfm = after_first.iter().filter(|i| i.rule == "rfm_class").count();
    assert_eq!(rfm, customers);
    assert!(
        after_first
            .iter()
            .filter(|i| i.kind == "segment")
            .all(|i| i.value == "true")
    );
    let fingerprint = &after_first[0].data_fingerprint;
    assert_eq!(fingerprint.len(), 16);
    assert!(
        after_first
            .iter()
            .all(|i| &i.data_fingerprint == fingerprint)
    );
    assert!(
        after_first
            .iter()
            .all(|i| i.rules_version.starts_with("rules-")),
        "outside git: a hash of the rules"
    );

    // The same inputs again: the file is not touched.
    let bytes = std::fs::read(&history).unwrap();
    let again = segl_in(&dir, &["run", "rules", "--history", "history.parquet"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stderr.contains("no changes since the last run"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read(&history).unwrap(), bytes);

    // A week later some values change: their intervals close on that day and new ones open.
    let later = segl_in(
        &dir,
        &[
            "run",
            "rules",
            "--history",
            "history.parquet",
            "--as-of",
            "2026-11-27",
        ],
    );
    assert_eq!(later.code, 0, "{}", later.stderr);
    let after_later = intervals(&history);
    let closed: Vec<&Interval> = after_later
        .iter()
        .filter(|i| i.valid_to.is_some())
        .collect();
    assert!(!closed.is_empty());
    assert!(
        closed
            .iter()
            .all(|i| i.valid_to.unwrap().to_string() == "2026-11-27")
    );
    for c in &closed {
        // Each closed tier or score interval is followed by an open one with another value.
        if c.kind != "segment" {
            let next = after_later
                .iter()
                .find(|i| i.key == c.key && i.rule == c.rule && i.valid_to.is_none())
                .unwrap_or_else(|| panic!("{c:?} has no successor"));
            assert_ne!(next.value, c.value);
            assert_eq!(next.valid_from.to_string(), "2026-11-27");
        }
    }
    // At most one open interval per record and rule.
    let mut open: Vec<(&str, &str, &str)> = after_later
        .iter()
        .filter(|i| i.valid_to.is_none())
        .map(|i| (i.entity.as_str(), i.rule.as_str(), i.key.as_str()))
        .collect();
    let n = open.len();
    open.sort_unstable();
    open.dedup();
    assert_eq!(open.len(), n);

    // A run dated before the last one is refused; the history stays as it is.
    let bytes = std::fs::read(&history).unwrap();
    let earlier = segl_in(
        &dir,
        &[
            "run",
            "rules",
            "--history",
            "history.parquet",
            "--as-of",
            "2026-11-01",
        ],
    );
    assert_eq!(earlier.code, 2);
    assert!(
        earlier.stderr.contains("already has runs up to 2026-11-27"),
        "{}",
        earlier.stderr
    );
    assert_eq!(std::fs::read(&history).unwrap(), bytes);
    let not_parquet = segl_in(&dir, &["run", "rules", "--history", "history.csv"]);
    assert_eq!(not_parquet.code, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every ```sql block of docs/history.md, run with DuckDB over a history of two runs.
#[test]
fn the_documented_history_queries_run_in_duckdb() {
    let dir = scratch("history-duckdb");
    copy_dir(&root().join("rules"), &dir.join("rules"));
    for day in ["2026-11-13", "2026-11-20"] {
        let run = segl_in(
            &dir,
            &[
                "run",
                "rules",
                "--history",
                "history.parquet",
                "--as-of",
                day,
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let doc = std::fs::read_to_string(root().join("docs/history.md")).unwrap();
    let queries: Vec<&str> = doc
        .split("```sql\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(queries.len() >= 3, "docs/history.md has its queries");
    let python = std::env::var("SEGL_SQL_PYTHON").unwrap_or_else(|_| "python3".into());
    for q in queries {
        let script =
            "import duckdb, sys\nrows = duckdb.sql(sys.argv[1]).fetchall()\nprint(len(rows))\n"
                .to_string();
        let out = Command::new(&python)
            .args(["-c", &script, q])
            .current_dir(&dir)
            .output()
            .expect("python with duckdb (SEGL_SQL_PYTHON; scripts/test-env.sh sets it up)");
        assert!(
            out.status.success(),
            "query failed:\n{q}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        assert!(rows > 0, "the query returned nothing:\n{q}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every tenth order of the project's data dropped, in place: data that changes RFM classes and
/// the segments built on orders.
fn drop_orders(project: &std::path::Path) {
    let path = project.join("data/orders.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i == 0 || i % 10 != 0)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
}

fn history_run(dir: &std::path::Path, history: &str, day: &str, extra: &[&str]) {
    let mut args = vec!["run", "rules", "--history", history, "--as-of", day];
    args.extend_from_slice(extra);
    let run = segl_in(dir, &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

fn opened_on<'a>(intervals: &'a [Interval], day: &str) -> Vec<&'a Interval> {
    intervals
        .iter()
        .filter(|i| i.valid_from.to_string() == day)
        .collect()
}

/// In a git repository the rules version is the commit, with `-dirty` only when a rule file
/// changed: not for changed data or for the history file itself inside the project folder.
/// Changed data gets a new fingerprint on the intervals it opens.
#[test]
fn versions_in_git_and_fingerprints_of_changed_data() {
    let dir = scratch("history-git");
    copy_dir(&root().join("rules"), &dir.join("rules"));
    let commit = commit_all(&dir, "the example project");
    let history = "rules/history.parquet";

    history_run(&dir, history, "2026-11-13", &[]);
    let first = intervals(&dir.join(history));
    assert!(first.iter().all(|i| i.rules_version == commit), "{commit}");
    let fingerprint = first[0].data_fingerprint.clone();

    // New data, not committed, with the history lying untracked in the project folder.
    drop_orders(&dir.join("rules"));
    history_run(&dir, history, "2026-11-20", &[]);
    let second = intervals(&dir.join(history));
    let opened = opened_on(&second, "2026-11-20");
    assert!(!opened.is_empty(), "the changed data moves records");
    for i in &opened {
        assert_eq!(
            i.rules_version, commit,
            "data changes leave the rules clean"
        );
        assert_ne!(i.data_fingerprint, fingerprint, "{i:?}");
    }
    assert!(
        second
            .iter()
            .filter(|i| i.valid_from.to_string() == "2026-11-13")
            .all(|i| i.data_fingerprint == fingerprint),
        "intervals keep the fingerprint of the run that opened them"
    );
    let new_fingerprint = opened[0].data_fingerprint.clone();

    // A rule file changed but not committed: the intervals it opens say so.
    edit(
        &dir.join("rules/rfm.segl"),
        "champions           when r_score >= 4 and fm_score >= 9",
        "champions           when r_score >= 4 and fm_score >= 8",
    );
    history_run(&dir, history, "2026-11-27", &[]);
    let third = intervals(&dir.join(history));
    let opened = opened_on(&third, "2026-11-27");
    assert!(opened.iter().any(|i| i.rule == "rfm_class"));
    for i in &opened {
        assert_eq!(i.rules_version, format!("{commit}-dirty"));
        assert_eq!(
            i.data_fingerprint, new_fingerprint,
            "the same data as before"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A run of some rules (`--segment`) leaves the other rules' intervals open; a full run after a
/// rule was removed closes that rule's open intervals.
#[test]
fn partial_runs_and_removed_rules() {
    let dir = scratch("history-partial");
    copy_dir(&root().join("rules"), &dir.join("rules"));
    let history = "history.parquet";
    history_run(&dir, history, "2026-11-13", &[]);
    let first = intervals(&dir.join(history));

    drop_orders(&dir.join("rules"));
    history_run(&dir, history, "2026-11-20", &["--segment", "rfm_champions"]);
    let second = intervals(&dir.join(history));
    let others = |all: &[Interval]| -> Vec<Interval> {
        all.iter()
            .filter(|i| i.rule != "rfm_champions")
            .cloned()
            .collect()
    };
    assert_eq!(
        others(&second),
        others(&first),
        "rules the run did not evaluate keep their intervals"
    );
    assert!(
        second
            .iter()
            .any(|i| i.rule == "rfm_champions" && i.valid_to.is_some()),
        "the evaluated segment changed"
    );

    // `big_lifetime_spenders` removed (and the tests that name it).
    let value = std::fs::read_to_string(dir.join("rules/value.segl")).unwrap();
    let start = value.find("segment big_lifetime_spenders {").unwrap();
    let end = start + value[start..].find("\n}\n").unwrap() + 3;
    std::fs::write(
        dir.join("rules/value.segl"),
        format!("{}{}", &value[..start], &value[end..]),
    )
    .unwrap();
    let tests = std::fs::read_to_string(dir.join("rules/tests.segl")).unwrap();
    std::fs::write(
        dir.join("rules/tests.segl"),
        tests
            .replace("  expect r5 in big_lifetime_spenders\n", "")
            .replace("  expect n1 not in big_lifetime_spenders\n", ""),
    )
    .unwrap();
    history_run(&dir, history, "2026-11-27", &[]);
    let third = intervals(&dir.join(history));
    let removed: Vec<&Interval> = third
        .iter()
        .filter(|i| i.rule == "big_lifetime_spenders")
        .collect();
    assert!(!removed.is_empty());
    assert!(
        removed.iter().all(|i| i.valid_to.is_some()),
        "no interval of a removed rule stays open"
    );
    assert!(
        removed
            .iter()
            .any(|i| i.valid_to.is_some_and(|d| d.to_string() == "2026-11-27")),
        "the removal closes the open intervals on the day of the run"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

//! `segl run --history`: intervals opened and closed between runs, nothing added by a repeated
//! run, and the DuckDB queries of `docs/history.md` answered over a real history.

use std::process::Command;

use segl::history::{Interval, read};

use crate::diff::{copy_dir, root, scratch, segl_in};

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

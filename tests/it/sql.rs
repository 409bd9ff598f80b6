//! `segl sql`: the SQL written for each dialect (snapshots), and proof on real engines that it
//! computes what `segl run` computes for the example project, row by row.
//!
//! The engine tests need Python with `duckdb` and `psycopg` (`SEGL_SQL_PYTHON`) and a PostgreSQL
//! server (`SEGL_PG_DSN`); `eval "$(bash scripts/test-env.sh)"` sets both up. They run by default
//! and fail when an engine is missing; `SEGL_SQL_ENGINES=duckdb,sqlite` limits them to the
//! engines named (the others are skipped with a message).

use std::path::Path;
use std::process::Command;

use segl::check::check_project;
use segl::engine::AsOf;
use segl::engine::RunSettings;
use segl::engine::lower::Rule;
use segl::ir::{ScoreId, SegmentId, TierSetId};
use segl::sql::{Dialect, Options, compile};

use crate::check::{load, root};

fn settings() -> RunSettings {
    let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    RunSettings {
        as_of: AsOf::end_of_day(jiff::civil::date(2026, 11, 20), tz).unwrap(),
        params: std::collections::HashMap::new(),
    }
}

fn rules_program() -> segl::ir::Program {
    let report = check_project(&load(&root().join("rules")));
    report.program.unwrap()
}

/// Every rule of the project that the dialect can express; the others with their codes.
fn compilable(program: &segl::ir::Program, dialect: Dialect) -> (Vec<Rule>, Vec<String>) {
    let mut all: Vec<(Rule, String)> = Vec::new();
    for (i, s) in program.segments.iter().enumerate() {
        all.push((Rule::Segment(SegmentId::from_index(i)), s.name.clone()));
    }
    for (i, t) in program.tier_sets.iter().enumerate() {
        all.push((Rule::TierSet(TierSetId::from_index(i)), t.name.clone()));
    }
    for (i, s) in program.scores.iter().enumerate() {
        all.push((Rule::Score(ScoreId::from_index(i)), s.name.clone()));
    }
    let mut ok = Vec::new();
    let mut refused = Vec::new();
    for (rule, name) in all {
        let options = Options {
            dialect,
            rules: Some(vec![rule]),
            tables: std::collections::HashMap::new(),
        };
        match compile(program, &settings(), &options) {
            Ok(_) => ok.push(rule),
            Err(d) => refused.push(format!("{name}: {}", d[0].code)),
        }
    }
    (ok, refused)
}

#[test]
fn sql_for_the_example_project_per_dialect() {
    let program = rules_program();
    for (dialect, name) in Dialect::ALL {
        let (ok, refused) = compilable(&program, dialect);
        let options = Options {
            dialect,
            rules: Some(ok),
            tables: std::collections::HashMap::new(),
        };
        let sql = compile(&program, &settings(), &options).unwrap();
        insta::assert_snapshot!(format!("sql_rules_{name}"), sql);
        insta::assert_snapshot!(format!("sql_rules_{name}_refused"), refused.join("\n"));
    }
}

#[test]
fn output_is_stable() {
    let program = rules_program();
    let options = Options {
        dialect: Dialect::DuckDb,
        rules: None,
        tables: std::collections::HashMap::new(),
    };
    let a = compile(&program, &settings(), &options).unwrap();
    let b = compile(&program, &settings(), &options).unwrap();
    assert_eq!(a, b);
}

fn wanted(engine: &str) -> bool {
    match std::env::var("SEGL_SQL_ENGINES") {
        Ok(list) if !list.trim().is_empty() => {
            let on = list.split(',').any(|e| e.trim() == engine);
            if !on {
                eprintln!(
                    "SKIPPED: the {engine} comparison (SEGL_SQL_ENGINES={list} leaves it out)"
                );
            }
            on
        }
        _ => true,
    }
}

/// A scratch folder removed when the test ends.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// Runs the SQL for `dialect` on the engine and compares every column with `segl run --out`.
/// Returns the differing cells as `entity/key/column: engine != sql`.
fn compare_on_engine(dialect: Dialect, engine: &str) -> Vec<String> {
    let program = rules_program();
    let (ok, _) = compilable(&program, dialect);
    let options = Options {
        dialect,
        rules: Some(ok.clone()),
        tables: std::collections::HashMap::new(),
    };
    let sql = compile(&program, &settings(), &options).unwrap();
    let dir =
        Scratch(std::env::temp_dir().join(format!("segl-sql-{engine}-{}", std::process::id())));
    std::fs::create_dir_all(dir.path()).unwrap();
    let sql_path = dir.path().join("rules.sql");
    std::fs::write(&sql_path, &sql).unwrap();
    let python = std::env::var("SEGL_SQL_PYTHON").unwrap_or_else(|_| "python3".into());
    // SQLite has no boolean type; the runner prints the segment columns as true/false.
    let segments: Vec<String> = ok
        .iter()
        .filter_map(|r| match r {
            Rule::Segment(id) => Some(program.segments[id.index()].name.clone()),
            _ => None,
        })
        .collect();
    let out = Command::new(&python)
        .arg(root().join("tests/sql/run.py"))
        .arg(engine)
        .arg(root().join("rules/data"))
        .arg(&sql_path)
        .arg(dir.path())
        .env("SEGL_SQL_BOOLS", segments.join(","))
        .output()
        .unwrap_or_else(|e| panic!("cannot start {python}: {e}"));
    assert!(
        out.status.success(),
        "the {engine} run failed (set up the engines with `eval \"$(bash scripts/test-env.sh)\"`, \
         or leave the engine out with SEGL_SQL_ENGINES):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same rules evaluated by segl itself.
    let reference = dir.path().join("segl.csv");
    let mut args: Vec<String> = vec![
        "run".into(),
        root().join("rules").display().to_string(),
        "--out".into(),
        reference.display().to_string(),
    ];
    for r in &ok {
        let name = match r {
            Rule::Segment(id) => &program.segments[id.index()].name,
            Rule::TierSet(id) => &program.tier_sets[id.index()].name,
            Rule::Score(id) => &program.scores[id.index()].name,
        };
        args.push("--segment".into());
        args.push(name.clone());
    }
    let run = Command::new(env!("CARGO_BIN_EXE_segl"))
        .args(&args)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut diffs = Vec::new();
    for (entity, file) in [("customer", "segl.csv"), ("company", "segl.company.csv")] {
        let expected = read_csv(&dir.path().join(file));
        let got = read_csv(&dir.path().join(format!("{entity}.csv")));
        assert_eq!(expected.first(), got.first(), "{entity}: columns differ");
        assert_eq!(expected.len(), got.len(), "{entity}: row counts differ");
        assert!(expected.len() > 100, "{entity}: too few rows to compare");
        let header = &expected[0];
        for (e, g) in expected.iter().zip(&got).skip(1) {
            for (i, col) in header.iter().enumerate() {
                if e.get(i) != g.get(i) {
                    diffs.push(format!(
                        "{entity}/{}/{col}: {:?} != {:?}",
                        e[0],
                        e.get(i),
                        g.get(i)
                    ));
                }
            }
        }
    }
    diffs
}

#[test]
fn postgres_computes_what_segl_run_computes() {
    if wanted("postgres") {
        assert!(
            std::env::var("SEGL_PG_DSN").is_ok(),
            "SEGL_PG_DSN is not set: run `eval \"$(bash scripts/test-env.sh)\"` first, or leave \
             PostgreSQL out with SEGL_SQL_ENGINES=duckdb,sqlite"
        );
        assert_eq!(
            compare_on_engine(Dialect::Postgres, "postgres"),
            Vec::<String>::new()
        );
    }
}

#[test]
fn sqlite_computes_what_segl_run_computes() {
    if wanted("sqlite") {
        assert_eq!(
            compare_on_engine(Dialect::Sqlite, "sqlite"),
            Vec::<String>::new()
        );
    }
}

#[test]
fn duckdb_computes_what_segl_run_computes() {
    if wanted("duckdb") {
        assert_eq!(
            compare_on_engine(Dialect::DuckDb, "duckdb"),
            Vec::<String>::new()
        );
    }
}

/// Each folder under `tests/fixtures/sql` is a project whose rules SQLite cannot express; its
/// name starts with the code `segl sql --dialect sqlite` must report.
#[test]
fn sql_error_fixtures_report_their_code() {
    let dir = root().join("tests/fixtures/sql");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert!(!entries.is_empty());
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let report = check_project(&load(&path));
        let program = report.program.unwrap();
        let options = Options {
            dialect: Dialect::Sqlite,
            rules: None,
            tables: std::collections::HashMap::new(),
        };
        let mut diagnostics = compile(&program, &settings(), &options).unwrap_err();
        segl::diagnostics::sort(&mut diagnostics, &report.sources);
        assert!(
            diagnostics
                .iter()
                .all(|d| name.starts_with(d.code.as_str())),
            "{name}: {diagnostics:?}"
        );
        let shown = segl::diagnostics::render::plain(&diagnostics, &report.sources);
        insta::assert_snapshot!(format!("sql_error_{name}"), shown);
    }
}

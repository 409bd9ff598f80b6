//! `segl sql`: the SQL written for each dialect (snapshots), and proof on real engines that it
//! computes what `segl run` computes for the example project, row by row.
//!
//! The engine tests need Python with `duckdb` and `psycopg` (`SEGL_SQL_PYTHON`) and a PostgreSQL
//! server (`SEGL_PG_DSN`); `eval "$(bash scripts/test-env.sh)"` sets both up. They run by default
//! and fail when an engine is missing; `SEGL_SQL_ENGINES=duckdb,sqlite` limits them to the
//! engines named (the others are skipped with a message).

use segl::check::check_project;
use segl::engine::AsOf;
use segl::engine::RunSettings;
use segl::engine::lower::Rule;
use segl::ir::{ScoreId, SegmentId, TierSetId};
use segl::sql::{Dialect, Options, compile};

use crate::check::{load, root};
use crate::sql_engines::{
    Job, Scratch, differences, job_result, read_csv, rule_name, run_jobs, run_output, segl,
    segment_names, wanted, write_tables_json,
};

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

/// Runs the SQL for `dialect` on the engine, over the tables `segl sql --create-tables`
/// describes filled from the example project's data, and compares every column with
/// `segl run --out`. Returns the differing cells.
fn compare_on_engine(dialect: Dialect, engine: &'static str) -> Vec<String> {
    let program = rules_program();
    let (ok, _) = compilable(&program, dialect);
    let options = Options {
        dialect,
        rules: Some(ok.clone()),
        tables: std::collections::HashMap::new(),
    };
    let sql = compile(&program, &settings(), &options).unwrap();
    let dir = Scratch::new(&format!("sql-{engine}"));
    let job = Job {
        engine,
        tables: dir.path().join("tables.json"),
        sql: dir.path().join("rules.sql"),
        out: dir.path().join("out"),
    };
    std::fs::write(&job.sql, &sql).unwrap();
    let project = root().join("rules");
    write_tables_json(&project, engine, &job.tables);
    run_jobs(dir.path(), std::slice::from_ref(&job));
    let queries = job_result(&job).unwrap_or_else(|e| panic!("{e}"));
    // The same rules evaluated by segl itself.
    let reference = dir.path().join("segl.csv");
    let mut args: Vec<String> = vec![
        "run".into(),
        project.display().to_string(),
        "--out".into(),
        reference.display().to_string(),
    ];
    for r in &ok {
        args.push("--segment".into());
        args.push(rule_name(&program, *r).to_owned());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    segl(&args).unwrap();
    let booleans = if dialect == Dialect::Sqlite {
        segment_names(&program, &ok)
    } else {
        Vec::new()
    };
    let entities: Vec<&str> = queries.iter().map(|q| q.entity.as_str()).collect();
    assert_eq!(entities, ["customer", "company"]);
    let mut diffs = Vec::new();
    for q in &queries {
        let expected = read_csv(&run_output(&reference, &program, &q.entity));
        assert_eq!(
            expected.first(),
            Some(&q.columns),
            "{}: columns differ",
            q.entity
        );
        assert!(
            expected.len() > 100,
            "{}: too few rows to compare",
            q.entity
        );
        diffs.extend(differences(&expected, q, &booleans, usize::MAX));
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

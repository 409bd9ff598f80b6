//! `segl sql`: the SQL written for each dialect (snapshots), and proof on real engines that it
//! computes what `segl run` computes for the example project, row by row.
//!
//! The engine tests need Python with `duckdb`, `psycopg` and `sqlglot` (`SEGL_SQL_PYTHON`) and a
//! PostgreSQL server (`SEGL_PG_DSN`); `eval "$(bash scripts/test-env.sh)"` sets both up. They run
//! by default and fail when an engine is missing; `SEGL_SQL_ENGINES=duckdb,sqlite` limits them to
//! the engines named (the others are skipped with a message). BigQuery and Snowflake SQL is
//! parsed with sqlglot (engine name `sqlglot`). Spark runs only when `SEGL_SQL_ENGINES` names
//! `spark`: `bash tests/sql/spark.sh` installs PySpark and runs it.

use std::path::Path;
use std::process::Command;

use segl::check::check_project;
use segl::engine::AsOf;
use segl::engine::RunSettings;
use segl::engine::lower::Rule;
use segl::ir::{ScoreId, SegmentId, TierSetId};
use segl::sql::{Dialect, Options, compile, quote};

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

/// `segl sql` with `--table`: dotted table names are quoted part by part, per dialect.
#[test]
fn cli_names_warehouse_tables_per_dialect() {
    for (dialect, customers, orders) in [
        (
            "bigquery",
            "my-project.crm.customers",
            "my-project.shop.orders",
        ),
        (
            "snowflake",
            "ANALYTICS.CRM.CUSTOMERS",
            "ANALYTICS.SHOP.ORDERS",
        ),
        (
            "spark",
            "spark_catalog.crm.customers",
            "spark_catalog.shop.orders",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_segl"))
            .args(["sql", "--dialect", dialect])
            .arg(root().join("rules"))
            .args(["--segment", "frequent_buyers", "--as-of", "2026-11-20"])
            .args(["--table", &format!("customer={customers}")])
            .args(["--table", &format!("order={orders}")])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sql = String::from_utf8(out.stdout).unwrap();
        insta::assert_snapshot!(format!("sql_cli_tables_{dialect}"), sql);
    }
}

/// Whether `SEGL_SQL_ENGINES` names the engine (for engines that only run when asked for).
fn named(engine: &str) -> bool {
    let list = std::env::var("SEGL_SQL_ENGINES").unwrap_or_default();
    let on = list.split(',').any(|e| e.trim() == engine);
    if !on {
        eprintln!(
            "SKIPPED: the {engine} comparison runs only when SEGL_SQL_ENGINES names it \
             (`bash tests/sql/{engine}.sh`)"
        );
    }
    on
}

/// Texts that try to break out of a quoted literal or identifier, for every dialect.
const ADVERSARIAL: [&str; 22] = [
    "order",
    "select",
    "it's",
    "say \"hi\"",
    "back`tick",
    "a\\b",
    "ends with \\",
    "\\'",
    "''",
    "'; DROP TABLE customer; --",
    "*/ /* --",
    "line\nbreak",
    "tab\tand\rreturn",
    "bell\u{7} del\u{7f}",
    "Straße München",
    "日本語 🚀",
    "$$ dollar $$",
    "%s ? :name",
    "\\u0041 \\n",
    "`x`.`y`",
    "\"x\".\"y\"",
    " ",
];

/// One query per adversarial text: the text as a literal, named by it as a column.
fn quoting_queries(dialect: Dialect) -> Vec<String> {
    ADVERSARIAL
        .iter()
        .map(|t| {
            format!(
                "SELECT {} AS {}",
                quote::text(dialect, t).unwrap(),
                quote::ident(dialect, t)
            )
        })
        .collect()
}

/// The adversarial texts an engine (or parser) read back, against what they should be.
fn quoting_diffs(engine: &str, read: &[(String, String)]) -> Vec<String> {
    assert_eq!(read.len(), ADVERSARIAL.len(), "{engine}: one row per query");
    let mut diffs = Vec::new();
    for ((name, value), t) in read.iter().zip(ADVERSARIAL) {
        if name != t || value != t {
            diffs.push(format!(
                "{engine}: quoted {t:?} came back as {name:?} / {value:?}"
            ));
        }
    }
    diffs
}

fn read_pairs(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Runs the SQL for `dialect` on the engine, over the tables `segl sql --create-tables`
/// describes filled from the example project's data, and compares every column with
/// `segl run --out`. Returns the differing cells as `entity/key/column: ...`, and adversarial
/// texts the engine did not read back as they were quoted.
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
    let quoting = dir.path().join("quoting-cases.json");
    std::fs::write(
        &quoting,
        serde_json::to_string(&quoting_queries(dialect)).unwrap(),
    )
    .unwrap();
    let job = Job {
        engine,
        tables: dir.path().join("tables.json"),
        sql: dir.path().join("rules.sql"),
        out: dir.path().join("out"),
        quoting: Some(quoting),
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
    let mut diffs = quoting_diffs(engine, &read_pairs(&job.out.join("quoting.json")));
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

/// Spark starts a JVM and takes a minute or two, so CI leaves it out: `bash tests/sql/spark.sh`
/// installs PySpark into a virtual environment and runs this test with Java 17.
#[test]
fn spark_computes_what_segl_run_computes() {
    if named("spark") {
        assert_eq!(
            compare_on_engine(Dialect::Spark, "spark"),
            Vec::<String>::new()
        );
    }
}

/// Runs `tests/sql/parse.py` (sqlglot) with `args`; returns whether it succeeded and its errors.
fn sqlglot(args: &[&std::ffi::OsStr]) -> (bool, String) {
    let python = std::env::var("SEGL_SQL_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .arg(root().join("tests/sql/parse.py"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {python}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The syntax check for the engines the tests cannot run: every dialect's SQL for the example
/// project parses with sqlglot in that dialect, a broken statement does not, and sqlglot reads
/// every adversarial text back from segl's quoting.
#[test]
fn sql_parses_with_sqlglot_in_every_dialect() {
    if !wanted("sqlglot") {
        return;
    }
    let program = rules_program();
    let dir = Scratch::new("sqlglot");
    let mut cases = Vec::new();
    for (dialect, name) in Dialect::ALL {
        let (ok, _) = compilable(&program, dialect);
        let options = Options {
            dialect,
            rules: Some(ok),
            tables: std::collections::HashMap::new(),
        };
        let sql = compile(&program, &settings(), &options).unwrap();
        let path = dir.path().join(format!("{name}.sql"));
        std::fs::write(&path, &sql).unwrap();
        let (parsed, errors) = sqlglot(&[name.as_ref(), path.as_os_str()]);
        assert!(
            parsed,
            "{name}: {errors}\n(set up sqlglot with `eval \"$(bash scripts/test-env.sh)\"`, or \
             leave this test out with SEGL_SQL_ENGINES)"
        );
        // The check can fail: the same script with a closing parenthesis missing.
        let broken = sql.replacen("\n),\n", "\n,\n", 1);
        assert_ne!(broken, sql, "{name}: nothing to break");
        let broken_path = dir.path().join(format!("{name}-broken.sql"));
        std::fs::write(&broken_path, broken).unwrap();
        let (parsed, _) = sqlglot(&[name.as_ref(), broken_path.as_os_str()]);
        assert!(!parsed, "{name}: sqlglot accepted a broken statement");
        // One view per rule (`--views`) parses too.
        let views = segl::sql::views(&program, &settings(), &options, "segl_").unwrap();
        let views_path = dir.path().join(format!("{name}-views.sql"));
        std::fs::write(&views_path, &views).unwrap();
        let (parsed, errors) =
            sqlglot(&["--views".as_ref(), name.as_ref(), views_path.as_os_str()]);
        assert!(parsed, "{name} --views: {errors}");
        for q in quoting_queries(dialect) {
            cases.push((name, q));
        }
    }
    let cases_path = dir.path().join("quoting-cases.json");
    std::fs::write(&cases_path, serde_json::to_string(&cases).unwrap()).unwrap();
    let read_path = dir.path().join("quoting.json");
    let (parsed, errors) = sqlglot(&[
        "--quoting".as_ref(),
        cases_path.as_os_str(),
        read_path.as_os_str(),
    ]);
    assert!(parsed, "{errors}");
    let read = read_pairs(&read_path);
    let mut diffs = Vec::new();
    for (i, (_, name)) in Dialect::ALL.iter().enumerate() {
        let n = ADVERSARIAL.len();
        diffs.extend(quoting_diffs(name, &read[i * n..(i + 1) * n]));
    }
    assert_eq!(diffs, Vec::<String>::new());
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

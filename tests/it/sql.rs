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

use jiff::civil::date;
use segl::check::check_project;
use segl::engine::AsOf;
use segl::engine::RunSettings;
use segl::engine::lower::Rule;
use segl::ir::{ScoreId, SegmentId, TierSetId};
use segl::sql::{Dialect, Options, ParamName, compile, quote};

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
    compilable_with(program, dialect, &settings(), None)
}

fn compilable_with(
    program: &segl::ir::Program,
    dialect: Dialect,
    settings: &RunSettings,
    param: Option<&ParamName>,
) -> (Vec<Rule>, Vec<String>) {
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
            as_of_param: param.cloned(),
        };
        match compile(program, settings, &options) {
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
            as_of_param: None,
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
        as_of_param: None,
    };
    let a = compile(&program, &settings(), &options).unwrap();
    let b = compile(&program, &settings(), &options).unwrap();
    assert_eq!(a, b);
}

/// `segl sql` on the example project with `extra` arguments, run on DuckDB, against `segl run`
/// with the same arguments: the SQL and the differing cells.
fn cli_sql_against_run_on_duckdb(name: &str, extra: &[&str]) -> (String, Vec<String>) {
    let project = root().join("rules");
    let project_s = project.display().to_string();
    let dir = Scratch::new(&format!("sql-cli-{name}"));
    let mut sql_args = vec!["sql", "--dialect", "duckdb", project_s.as_str()];
    sql_args.extend(extra);
    let sql = segl(&sql_args).unwrap();
    let job = Job {
        engine: "duckdb",
        tables: dir.path().join("tables.json"),
        sql: dir.path().join("rules.sql"),
        out: dir.path().join("out"),
        quoting: None,
        params: Vec::new(),
    };
    std::fs::write(&job.sql, &sql).unwrap();
    write_tables_json(&project, "duckdb", &job.tables);
    run_jobs(dir.path(), std::slice::from_ref(&job));
    let queries = job_result(&job).unwrap_or_else(|e| panic!("{e}"));
    let reference = dir.path().join("segl.csv");
    let reference_s = reference.display().to_string();
    let mut run_args = vec!["run", project_s.as_str(), "--out", reference_s.as_str()];
    run_args.extend(extra);
    segl(&run_args).unwrap();
    let program = rules_program();
    assert!(!queries.is_empty(), "the engine wrote no membership");
    let mut diffs = Vec::new();
    for q in &queries {
        let expected = read_csv(&run_output(&reference, &program, &q.entity));
        assert!(
            expected.len() > 100,
            "{}: too few rows to compare",
            q.entity
        );
        diffs.extend(differences(&expected, q, &[], usize::MAX));
    }
    (sql, diffs)
}

/// `segl sql --as-of` moves every date of the SQL, and the SQL then chooses what
/// `segl run --as-of` chooses on that date (the project's own date is 2026-11-20).
#[test]
fn cli_as_of_moves_the_dates_and_matches_segl_run() {
    if !wanted("duckdb") {
        return;
    }
    let (sql, diffs) = cli_sql_against_run_on_duckdb("as-of", &["--as-of", "2026-03-31"]);
    assert!(
        sql.contains("-- As of 2026-03-31 in the time zone Europe/Berlin."),
        "{sql}"
    );
    // Windows end on the as-of date; nothing is computed from the project's own date.
    assert!(sql.contains("DATE '2026-03-31'"), "{sql}");
    assert!(!sql.contains("2026-11-20"), "{sql}");
    assert_eq!(diffs, Vec::<String>::new());
}

/// `segl sql --param` writes the value into the SQL, and the SQL then chooses what `segl run`
/// chooses with the same value.
#[test]
fn cli_param_changes_the_sql_and_matches_segl_run() {
    if !wanted("duckdb") {
        return;
    }
    let rules = ["--segment", "inactive_users", "--segment", "support_heavy"];
    let project = root().join("rules").display().to_string();
    let mut default_args = vec!["sql", "--dialect", "duckdb", project.as_str()];
    default_args.extend(rules);
    let default = segl(&default_args).unwrap();
    assert!(default.contains(") > 60"), "{default}");
    let mut extra = rules.to_vec();
    extra.extend([
        "--param",
        "inactive_days=30",
        "--param",
        "support_heavy_tickets=1",
    ]);
    let (sql, diffs) = cli_sql_against_run_on_duckdb("param", &extra);
    assert!(sql.contains(") > 30"), "{sql}");
    assert!(!sql.contains(") > 60"), "{sql}");
    assert_ne!(sql, default);
    assert_eq!(diffs, Vec::<String>::new());
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

/// What to run on an engine and compare with `segl run`.
struct Comparison<'a> {
    /// The project folder.
    project: &'a Path,
    /// The project's time zone instead of the one in its `segl.toml`.
    time_zone: Option<&'a str>,
    as_of: jiff::civil::Date,
    /// Compile with `--as-of-param` and bind the parameter, instead of writing the date in.
    param: bool,
    /// The fewest records each membership must have (guards against comparing nothing).
    min_rows: usize,
    /// Also have the engine read back the adversarial texts as segl quotes them.
    quoting: bool,
}

impl Comparison<'_> {
    fn rules(as_of: jiff::civil::Date, param: bool) -> Comparison<'static> {
        static ROOT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
        Comparison {
            project: ROOT.get_or_init(|| root().join("rules")),
            time_zone: None,
            as_of,
            param,
            min_rows: 100,
            quoting: false,
        }
    }
}

fn as_of_param() -> Option<ParamName> {
    ParamName::new("as_of")
}

/// Runs the SQL for `dialect` on the engine and compares every column with `segl run --out`.
/// Returns the differing cells as `entity/key/column: engine != sql` (and adversarial texts the
/// engine did not read back as they were quoted), and the refused rules.
fn compare_on_engine(dialect: Dialect, engine: &'static str) -> Vec<String> {
    let case = Comparison {
        quoting: true,
        ..Comparison::rules(date(2026, 11, 20), false)
    };
    compare(dialect, engine, &case).0
}

fn compare(
    dialect: Dialect,
    engine: &'static str,
    case: &Comparison,
) -> (Vec<String>, Vec<String>) {
    let dir = Scratch::new(&format!(
        "sql-{engine}-{}-{}-{}-{}",
        case.project.file_name().unwrap().to_string_lossy(),
        case.time_zone.unwrap_or("own").replace('/', "-"),
        case.as_of,
        case.param
    ));
    // Another time zone: a copy of the project with its `segl.toml` changed.
    let project = match case.time_zone {
        None => case.project.to_path_buf(),
        Some(tz) => {
            let copy = dir.path().join("project");
            copy_dir(case.project, &copy);
            let toml = std::fs::read_to_string(copy.join("segl.toml")).unwrap();
            let changed: String = toml
                .lines()
                .map(|l| {
                    if l.starts_with("time_zone") {
                        format!("time_zone = \"{tz}\"\n")
                    } else {
                        format!("{l}\n")
                    }
                })
                .collect();
            std::fs::write(copy.join("segl.toml"), changed).unwrap();
            copy
        }
    };
    let report = check_project(&load(&project));
    let program = report.program.unwrap();
    let tz = jiff::tz::TimeZone::get(case.time_zone.unwrap_or_else(|| {
        report
            .config
            .as_ref()
            .and_then(|c| c.time_zone.as_ref())
            .map_or("UTC", |(t, _)| t.as_str())
    }))
    .unwrap();
    let settings = RunSettings {
        as_of: AsOf::end_of_day(case.as_of, tz).unwrap(),
        params: std::collections::HashMap::new(),
    };
    let param = if case.param { as_of_param() } else { None };
    let (ok, refused) = compilable_with(&program, dialect, &settings, param.as_ref());
    let options = Options {
        dialect,
        rules: Some(ok.clone()),
        tables: std::collections::HashMap::new(),
        as_of_param: param,
    };
    let sql = compile(&program, &settings, &options).unwrap();
    let quoting = if case.quoting {
        let path = dir.path().join("quoting-cases.json");
        std::fs::write(
            &path,
            serde_json::to_string(&quoting_queries(dialect)).unwrap(),
        )
        .unwrap();
        Some(path)
    } else {
        None
    };
    let job = Job {
        engine,
        tables: dir.path().join("tables.json"),
        sql: dir.path().join("rules.sql"),
        out: dir.path().join("out"),
        quoting,
        params: if case.param {
            vec![("as_of".to_owned(), case.as_of.to_string())]
        } else {
            Vec::new()
        },
    };
    std::fs::write(&job.sql, &sql).unwrap();
    write_tables_json(&project, engine, &job.tables);
    run_jobs(dir.path(), std::slice::from_ref(&job));
    let queries = job_result(&job).unwrap_or_else(|e| panic!("{e}"));
    // The same rules evaluated by segl itself.
    let reference = dir.path().join("segl.csv");
    let mut args: Vec<String> = vec![
        "run".into(),
        project.display().to_string(),
        "--as-of".into(),
        case.as_of.to_string(),
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
    assert!(!queries.is_empty(), "the engine wrote no membership");
    let mut diffs = if case.quoting {
        quoting_diffs(engine, &read_pairs(&job.out.join("quoting.json")))
    } else {
        Vec::new()
    };
    for q in &queries {
        let expected = read_csv(&run_output(&reference, &program, &q.entity));
        assert_eq!(
            expected.first(),
            Some(&q.columns),
            "{}: columns differ",
            q.entity
        );
        assert!(
            expected.len() > case.min_rows,
            "{}: too few rows to compare",
            q.entity
        );
        let at = format!(
            " as of {}{}{}",
            case.as_of,
            case.time_zone
                .map(|t| format!(" in {t}"))
                .unwrap_or_default(),
            if case.param { " (parameter)" } else { "" }
        );
        diffs.extend(
            differences(&expected, q, &booleans, usize::MAX)
                .into_iter()
                .map(|d| d + &at),
        );
    }
    (diffs, refused)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
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
pub(crate) fn sqlglot(args: &[&std::ffi::OsStr]) -> (bool, String) {
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

/// The date-arithmetic fixture, checked, with its settings (its own as-of date, Berlin).
fn dates_program() -> (segl::ir::Program, RunSettings) {
    let report = check_project(&load(&root().join("tests/fixtures/sql-run/dates")));
    let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let settings = RunSettings {
        as_of: AsOf::end_of_day(date(2026, 2, 28), tz).unwrap(),
        params: std::collections::HashMap::new(),
    };
    (report.program.unwrap(), settings)
}

/// The SQL of every rule the dialect can express, with these settings and parameter.
fn all_compilable(
    program: &segl::ir::Program,
    dialect: Dialect,
    settings: &RunSettings,
    param: Option<&ParamName>,
) -> String {
    let (ok, _) = compilable_with(program, dialect, settings, param);
    let options = Options {
        dialect,
        rules: Some(ok),
        tables: std::collections::HashMap::new(),
        as_of_param: param.cloned(),
    };
    compile(program, settings, &options).unwrap()
}

/// The scripts besides the example project with a written date: the example project with
/// `--as-of-param`, and the date-arithmetic fixture with a written date and with the parameter.
fn variants(dialect: Dialect) -> Vec<(&'static str, String)> {
    let rules = rules_program();
    let (dates, dates_settings) = dates_program();
    let param = as_of_param();
    vec![
        (
            "as_of_param",
            all_compilable(&rules, dialect, &settings(), param.as_ref()),
        ),
        (
            "dates",
            all_compilable(&dates, dialect, &dates_settings, None),
        ),
        (
            "dates_as_of_param",
            all_compilable(&dates, dialect, &dates_settings, param.as_ref()),
        ),
    ]
}

/// `--create-tables` for the warehouses: the tables the SQL of the example project reads, with
/// each engine's column types, keys and `NOT NULL`s.
#[test]
fn create_tables_per_warehouse() {
    use segl::sql::tables::{DEFAULT_DECIMAL_SCALE, TableOptions, create_tables};
    let program = rules_program();
    for dialect in [Dialect::BigQuery, Dialect::Snowflake, Dialect::Spark] {
        let options = TableOptions {
            dialect,
            tables: std::collections::HashMap::new(),
            decimal_scale: DEFAULT_DECIMAL_SCALE,
        };
        insta::assert_snapshot!(
            format!("create_tables_rules_{}", dialect.name()),
            create_tables(&program, &options)
        );
    }
}

/// What the warehouses write for the example project with the as-of parameter (the local
/// engines run that SQL in `as_of_param_on_*`; Spark too, with `tests/sql/spark.sh`).
#[test]
fn sql_with_the_as_of_parameter_per_warehouse() {
    let program = rules_program();
    let param = as_of_param();
    for dialect in [Dialect::BigQuery, Dialect::Snowflake, Dialect::Spark] {
        let sql = all_compilable(&program, dialect, &settings(), param.as_ref());
        insta::assert_snapshot!(format!("sql_rules_{}_as_of_param", dialect.name()), sql);
    }
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
        // The other scripts: with the as-of parameter, and the calendar edge cases.
        for (variant, sql) in variants(dialect) {
            let path = dir.path().join(format!("{name}-{variant}.sql"));
            std::fs::write(&path, &sql).unwrap();
            let (parsed, errors) = sqlglot(&[name.as_ref(), path.as_os_str()]);
            assert!(parsed, "{name} ({variant}): {errors}");
        }
        let (ok, _) = compilable(&program, dialect);
        let options = Options {
            dialect,
            rules: Some(ok),
            tables: std::collections::HashMap::new(),
            as_of_param: None,
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

/// Each folder under `tests/fixtures/sql` is a project whose rules an engine cannot express; its
/// name starts with the code `segl sql` must report. The engines are SQLite unless the folder's
/// `sql.toml` names others (`dialects = [...]`; `as_of_param = "NAME"` compiles with
/// `--as-of-param`); each gets a snapshot of its own (`sql_error_NAME_DIALECT`) when there are
/// several.
#[test]
fn sql_error_fixtures_report_their_code() {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Settings {
        dialects: Vec<String>,
        as_of_param: Option<String>,
    }
    let dir = root().join("tests/fixtures/sql");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert!(!entries.is_empty());
    let mut dialects_seen = std::collections::BTreeSet::new();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let fixture: Settings = match std::fs::read_to_string(path.join("sql.toml")) {
            Ok(text) => toml::from_str(&text).unwrap_or_else(|e| panic!("{name}/sql.toml: {e}")),
            Err(_) => Settings {
                dialects: vec!["sqlite".into()],
                as_of_param: None,
            },
        };
        let report = check_project(&load(&path));
        let program = report.program.unwrap();
        for wanted in &fixture.dialects {
            let (dialect, _) = Dialect::ALL
                .into_iter()
                .find(|(_, n)| n == wanted)
                .unwrap_or_else(|| panic!("{name}/sql.toml: no dialect {wanted}"));
            dialects_seen.insert(wanted.clone());
            let options = Options {
                dialect,
                rules: None,
                tables: std::collections::HashMap::new(),
                as_of_param: fixture
                    .as_of_param
                    .as_deref()
                    .map(|p| ParamName::new(p).unwrap()),
            };
            let Err(mut diagnostics) = compile(&program, &settings(), &options) else {
                panic!("{name}: {wanted} compiles");
            };
            segl::diagnostics::sort(&mut diagnostics, &report.sources);
            assert!(
                diagnostics
                    .iter()
                    .all(|d| name.starts_with(d.code.as_str())),
                "{name} ({wanted}): {diagnostics:?}"
            );
            let shown = segl::diagnostics::render::plain(&diagnostics, &report.sources);
            if fixture.dialects.len() == 1 && wanted == "sqlite" {
                insta::assert_snapshot!(format!("sql_error_{name}"), shown);
            } else {
                insta::assert_snapshot!(format!("sql_error_{name}_{wanted}"), shown);
            }
        }
    }
    // Every dialect is refused somewhere, so a fixture for each shows its words.
    assert_eq!(dialects_seen.len(), Dialect::ALL.len(), "{dialects_seen:?}");
}

/// The as-of dates of the engine comparisons: a month end, the days the clocks change in
/// Berlin (spring forward, fall back) and the example project's date.
const AS_OF_DATES: [(i16, i8, i8); 4] =
    [(2026, 2, 28), (2026, 3, 29), (2026, 10, 25), (2026, 11, 20)];

fn engine_of(dialect: Dialect) -> &'static str {
    dialect.name()
}

fn engine_ready(engine: &str) -> bool {
    if engine == "spark" {
        return named("spark");
    }
    if !wanted(engine) {
        return false;
    }
    if engine == "postgres" {
        assert!(
            std::env::var("SEGL_PG_DSN").is_ok(),
            "SEGL_PG_DSN is not set: run `eval \"$(bash scripts/test-env.sh)\"` first, or leave \
             PostgreSQL out with SEGL_SQL_ENGINES=duckdb,sqlite"
        );
    }
    true
}

/// Date arithmetic (month ends, leap days, changes of the clocks), written-in and parameter
/// as-of dates, in Berlin and in UTC (where SQLite can compute with times too).
fn dates_on_engine(dialect: Dialect) {
    let engine = engine_of(dialect);
    if !engine_ready(engine) {
        return;
    }
    let project = root().join("tests/fixtures/sql-run/dates");
    let mut diffs = Vec::new();
    let mut refusals = Vec::new();
    for time_zone in [None, Some("UTC")] {
        for (y, m, d) in AS_OF_DATES {
            for param in [false, true] {
                let case = Comparison {
                    project: &project,
                    time_zone,
                    as_of: date(y, m, d),
                    param,
                    min_rows: 20,
                    quoting: false,
                };
                let (diff, refused) = compare(dialect, engine, &case);
                diffs.extend(diff);
                if !refused.is_empty() {
                    refusals.push(format!(
                        "{} {}: {}",
                        time_zone.unwrap_or("Europe/Berlin"),
                        if param { "parameter" } else { "written date" },
                        refused.join(", ")
                    ));
                }
            }
        }
    }
    assert_eq!(diffs, Vec::<String>::new());
    refusals.sort();
    refusals.dedup();
    insta::assert_snapshot!(format!("sql_dates_{engine}_refused"), refusals.join("\n"));
}

#[test]
fn date_arithmetic_on_duckdb_is_what_segl_run_computes() {
    dates_on_engine(Dialect::DuckDb);
}

#[test]
fn date_arithmetic_on_postgres_is_what_segl_run_computes() {
    dates_on_engine(Dialect::Postgres);
}

#[test]
fn date_arithmetic_on_sqlite_is_what_segl_run_computes() {
    dates_on_engine(Dialect::Sqlite);
}

/// Only with `bash tests/sql/spark.sh`, like `spark_computes_what_segl_run_computes`.
#[test]
fn date_arithmetic_on_spark_is_what_segl_run_computes() {
    dates_on_engine(Dialect::Spark);
}

/// The example project compiled with `--as-of-param` and bound to a date gives the rows `segl
/// run` gives on that date, as the SQL with the date written in does (`compare_on_engine`, and
/// the date fixture above on every date). Three dates: a month end, the day the clocks spring
/// forward in Berlin, and the project's own date (loading the example data is the slow part).
fn as_of_param_on_engine(dialect: Dialect) {
    let engine = engine_of(dialect);
    if !engine_ready(engine) {
        return;
    }
    let mut diffs = Vec::new();
    let mut refusals = Vec::new();
    for (y, m, d) in [(2026, 2, 28), (2026, 3, 29), (2026, 11, 20)] {
        let (diff, refused) = compare(dialect, engine, &Comparison::rules(date(y, m, d), true));
        diffs.extend(diff);
        refusals.push(refused.join("\n"));
    }
    assert_eq!(diffs, Vec::<String>::new());
    refusals.dedup();
    assert_eq!(refusals.len(), 1, "the refused rules depend on the date");
    insta::assert_snapshot!(
        format!("sql_rules_{engine}_as_of_param_refused"),
        refusals.join("\n")
    );
}

#[test]
fn as_of_param_on_duckdb_gives_the_rows_of_the_date() {
    as_of_param_on_engine(Dialect::DuckDb);
}

#[test]
fn as_of_param_on_postgres_gives_the_rows_of_the_date() {
    as_of_param_on_engine(Dialect::Postgres);
}

#[test]
fn as_of_param_on_sqlite_gives_the_rows_of_the_date() {
    as_of_param_on_engine(Dialect::Sqlite);
}

/// Only with `bash tests/sql/spark.sh`.
#[test]
fn as_of_param_on_spark_gives_the_rows_of_the_date() {
    as_of_param_on_engine(Dialect::Spark);
}

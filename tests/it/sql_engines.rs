//! `segl sql` on real engines for generated programs: the differential test's generator makes
//! rules and data, the data is written as CSV and NDJSON files of a project, `segl run --out`
//! evaluates it, and the SQL for every dialect with a local engine (DuckDB, PostgreSQL, SQLite)
//! runs on that engine over the same files, loaded into the tables `segl sql --create-tables`
//! describes (`tests/sql/run.py`). Every segment, tier and score must be the same, row by row.
//!
//! Rules a dialect refuses (E0900, E0901) are left out for that dialect and counted. All cases
//! run in one Python process per test. 24 cases with a fixed seed by default;
//! `SEGL_SQL_CASES=300` runs more, `SEGL_SQL_RANDOM=1` draws a fresh seed and `SEGL_SQL_SEED=N`
//! replays one (both print the seed). A failure prints the case's rules, data files and
//! differences. The engines are set up as for `tests/it/sql.rs` (`SEGL_SQL_PYTHON`,
//! `SEGL_PG_DSN`, `SEGL_SQL_ENGINES`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::arrow::util::display::array_value_to_string;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use segl::engine::RunSettings;
use segl::engine::lower::Rule;
use segl::ir::{Program, ScoreId, SegmentId, TierSetId, Type};
use segl::sql::{Dialect, Options, compile};

use crate::check::root;
use crate::differential::{SCHEMA, check, data, dataset, rules};

// ---------------------------------------------------------------------------------------------
// Running SQL on the engines (shared with `tests/it/sql.rs`)

/// Whether the engine is to be tested (`SEGL_SQL_ENGINES` names the engines; default: all).
pub(crate) fn wanted(engine: &str) -> bool {
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

/// The dialects with an engine on this machine, that the environment asks for.
pub(crate) fn local_dialects() -> Vec<(Dialect, &'static str)> {
    let local = ["duckdb", "postgres", "sqlite"];
    let dialects: Vec<_> = Dialect::ALL
        .into_iter()
        .filter(|(_, name)| local.contains(name) && wanted(name))
        .collect();
    if dialects.iter().any(|(_, n)| *n == "postgres") {
        assert!(
            std::env::var("SEGL_PG_DSN").is_ok(),
            "SEGL_PG_DSN is not set: run `eval \"$(bash scripts/test-env.sh)\"` first, or leave \
             PostgreSQL out with SEGL_SQL_ENGINES=duckdb,sqlite"
        );
    }
    dialects
}

/// A scratch folder removed when the test ends.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    pub(crate) fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("segl-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("SEGL_SQL_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// One run of `tests/sql/run.py`: the SQL in `sql` on `engine`, over the tables described in
/// `tables`; the result goes to `out/result.json`.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    pub engine: &'static str,
    pub tables: PathBuf,
    pub sql: PathBuf,
    pub out: PathBuf,
    /// One-row queries reading back quoted texts (`SEGL_SQL_QUOTING` in `run.py`).
    pub quoting: Option<PathBuf>,
    /// Parameters bound before the queries run (`segl sql --as-of-param`): name and value.
    pub params: Vec<(String, String)>,
}

/// Runs every job in one Python process.
pub(crate) fn run_jobs(dir: &Path, jobs: &[Job]) {
    let list: Vec<serde_json::Value> = jobs
        .iter()
        .map(|j| {
            std::fs::create_dir_all(&j.out).unwrap();
            serde_json::json!({
                "engine": j.engine,
                "tables": j.tables.display().to_string(),
                "sql": j.sql.display().to_string(),
                "out": j.out.display().to_string(),
                "quoting": j.quoting.as_ref().map(|q| q.display().to_string()),
                "params": j.params.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
            })
        })
        .collect();
    let manifest = dir.join("jobs.json");
    std::fs::write(&manifest, serde_json::to_string(&list).unwrap()).unwrap();
    // Spark has a Python of its own (`tests/sql/spark.sh`).
    let python = if jobs.iter().any(|j| j.engine == "spark") {
        std::env::var("SEGL_SPARK_PYTHON")
    } else {
        std::env::var("SEGL_SQL_PYTHON")
    }
    .unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .arg(root().join("tests/sql/run.py"))
        .arg("--batch")
        .arg(&manifest)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {python}: {e}"));
    assert!(
        out.status.success(),
        "tests/sql/run.py failed (set up the engines with `eval \"$(bash scripts/test-env.sh)\"`, \
         or leave engines out with SEGL_SQL_ENGINES):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One membership query's result on an engine.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Query {
    pub entity: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// The queries of a job, or what went wrong.
pub(crate) fn job_result(job: &Job) -> Result<Vec<Query>, String> {
    #[derive(serde::Deserialize)]
    struct Outcome {
        queries: Option<Vec<Query>>,
        error: Option<String>,
    }
    let path = job.out.join("result.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("no result from {}: {e}", job.engine))?;
    let outcome: Outcome = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    match (outcome.queries, outcome.error) {
        (Some(q), _) => Ok(q),
        (None, Some(e)) => Err(format!("{} failed:\n{e}", job.engine)),
        (None, None) => Err(format!("{}: empty result", job.engine)),
    }
}

/// `segl` with the arguments; its standard output, or the exit code and standard error.
pub(crate) fn segl(args: &[&str]) -> Result<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_segl"))
        .args(args)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap())
    } else {
        Err(format!(
            "segl {} exited with {:?}:\n{}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Writes what `segl sql --create-tables --format json` says about the project's tables.
pub(crate) fn write_tables_json(project: &Path, dialect: &str, to: &Path) {
    let json = segl(&[
        "sql",
        "--dialect",
        dialect,
        "--create-tables",
        "--format",
        "json",
        &project.display().to_string(),
    ])
    .unwrap();
    std::fs::write(to, json).unwrap();
}

pub(crate) fn read_csv(path: &Path) -> Vec<Vec<String>> {
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

/// The file `segl run --out OUT` writes an entity's membership to.
pub(crate) fn run_output(out: &Path, program: &Program, entity: &str) -> PathBuf {
    let primary = program.primary.map(|p| program.entity(p).name.clone());
    if primary.as_deref() == Some(entity) {
        out.to_path_buf()
    } else {
        let stem = out.file_stem().unwrap().to_string_lossy();
        out.with_file_name(format!("{stem}.{entity}.csv"))
    }
}

/// The cells that differ between `segl run`'s table (`expected`, header first) and the
/// engine's, for the columns the engine computed. SQLite's segment columns hold 1 and 0.
pub(crate) fn differences(
    expected: &[Vec<String>],
    got: &Query,
    booleans: &[String],
    limit: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    let Some(header) = expected.first() else {
        return vec![format!("{}: segl wrote no header", got.entity)];
    };
    let mut index = Vec::new();
    for c in &got.columns {
        match header.iter().position(|h| h == c) {
            Some(i) => index.push(i),
            None => return vec![format!("{}: segl run has no column {c:?}", got.entity)],
        }
    }
    if index.first() != Some(&0) {
        out.push(format!("{}: the first column is not the key", got.entity));
    }
    if expected.len() - 1 != got.rows.len() {
        out.push(format!(
            "{}: segl run gives {} rows, the engine {}",
            got.entity,
            expected.len() - 1,
            got.rows.len()
        ));
    }
    for (e, g) in expected.iter().skip(1).zip(&got.rows) {
        for ((&i, name), cell) in index.iter().zip(&got.columns).zip(g) {
            let mut cell = cell.clone().unwrap_or_default();
            if booleans.contains(name) {
                cell = match cell.as_str() {
                    "1" => "true".into(),
                    "0" => "false".into(),
                    _ => cell,
                };
            }
            if e.get(i) != Some(&cell) && out.len() < limit {
                out.push(format!(
                    "{}/{}/{name}: segl run {:?}, engine {cell:?}",
                    got.entity,
                    e.first().map_or("?", String::as_str),
                    e.get(i).map_or("", String::as_str),
                ));
            }
        }
    }
    out
}

/// The name of a rule.
pub(crate) fn rule_name(program: &Program, rule: Rule) -> &str {
    match rule {
        Rule::Segment(id) => &program.segments[id.index()].name,
        Rule::TierSet(id) => &program.tier_sets[id.index()].name,
        Rule::Score(id) => &program.scores[id.index()].name,
    }
}

/// Every rule of the program that the dialect can express; the others with their codes.
pub(crate) fn compilable(
    program: &Program,
    settings: &RunSettings,
    dialect: Dialect,
) -> (Vec<Rule>, Vec<(String, String)>) {
    let mut all = Vec::new();
    all.extend((0..program.segments.len()).map(|i| Rule::Segment(SegmentId::from_index(i))));
    all.extend((0..program.tier_sets.len()).map(|i| Rule::TierSet(TierSetId::from_index(i))));
    all.extend((0..program.scores.len()).map(|i| Rule::Score(ScoreId::from_index(i))));
    let mut ok = Vec::new();
    let mut refused = Vec::new();
    for rule in all {
        let options = Options {
            dialect,
            rules: Some(vec![rule]),
            tables: std::collections::HashMap::new(),
            as_of_param: None,
        };
        match compile(program, settings, &options) {
            Ok(_) => ok.push(rule),
            Err(d) => refused.push((
                rule_name(program, rule).to_owned(),
                format!("{}: {}", d[0].code, d[0].message),
            )),
        }
    }
    (ok, refused)
}

/// The segment columns among the rules.
pub(crate) fn segment_names(program: &Program, rules: &[Rule]) -> Vec<String> {
    rules
        .iter()
        .filter(|r| matches!(r, Rule::Segment(_)))
        .map(|r| rule_name(program, *r).to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Writing a dataset as the files of a project

/// How a case writes its data files.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Style {
    /// NDJSON instead of CSV (tables CSV cannot hold are NDJSON anyway).
    pub ndjson: bool,
    /// Timestamps: 0 in UTC with `Z`, 1 as local wall-clock times, 2 with the local offset.
    pub timestamps: u8,
    /// NDJSON: leave unknown values out instead of writing `null`.
    pub absent: bool,
}

/// A value as text, as segl reads it in CSV or a JSON string; `None` when unknown.
fn cell(
    a: &ArrayRef,
    row: usize,
    ty: &Type,
    style: Style,
    tz: &jiff::tz::TimeZone,
) -> Option<String> {
    if a.is_null(row) {
        return None;
    }
    Some(match ty {
        Type::Timestamp => {
            let ts: &TimestampMicrosecondArray = a.as_primitive::<TimestampMicrosecondType>();
            let t = jiff::Timestamp::from_microsecond(ts.value(row)).unwrap();
            let zone = if style.timestamps == 0 {
                jiff::tz::TimeZone::UTC
            } else {
                tz.clone()
            };
            let civil = zone.to_datetime(t);
            let frac = if civil.subsec_nanosecond() == 0 {
                String::new()
            } else {
                format!(".{:06}", civil.subsec_nanosecond() / 1000)
            };
            let base = format!(
                "{}T{}{frac}",
                civil.date(),
                civil.time().strftime("%H:%M:%S")
            );
            match style.timestamps {
                0 => format!("{base}Z"),
                1 => base,
                _ => {
                    let secs = zone.to_offset(t).seconds();
                    let sign = if secs < 0 { '-' } else { '+' };
                    let secs = secs.abs();
                    format!("{base}{sign}{:02}:{:02}", secs / 3600, secs % 3600 / 60)
                }
            }
        }
        Type::Number => {
            let v = a
                .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                .value(row);
            format!("{v}")
        }
        _ => array_value_to_string(a, row).unwrap(),
    })
}

fn list_cell(a: &ArrayRef, row: usize) -> Option<Vec<String>> {
    if a.is_null(row) {
        return None;
    }
    let list = a.as_list::<i32>().value(row);
    let items = list.as_string::<i32>();
    Some(
        (0..items.len())
            .map(|i| items.value(i).to_owned())
            .collect(),
    )
}

/// Whether CSV can hold the table: no known empty texts, no list item that is empty or holds
/// the separator.
fn csv_can_hold(program: &Program, t: &segl::engine::Table) -> bool {
    let fields = &program.entity(t.entity).fields;
    fields.iter().enumerate().all(|(c, f)| {
        let a = t.batch.column(c);
        (0..a.len()).all(|r| match &f.ty {
            Type::List(_) => list_cell(a, r)
                .unwrap_or_default()
                .iter()
                .all(|i| !i.is_empty() && !i.contains('|')),
            Type::Text | Type::Enum(_) => a.is_null(r) || !a.as_string::<i32>().value(r).is_empty(),
            _ => true,
        })
    })
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Writes one table; returns the file name (inside `dir`).
fn write_table(
    dir: &Path,
    index: usize,
    program: &Program,
    t: &segl::engine::Table,
    style: Style,
    tz: &jiff::tz::TimeZone,
) -> String {
    let fields = &program.entity(t.entity).fields;
    let rows = t.batch.num_rows();
    if !style.ndjson && csv_can_hold(program, t) {
        let name = format!("e{index}.csv");
        let mut w = csv::Writer::from_path(dir.join(&name)).unwrap();
        w.write_record(fields.iter().map(|f| f.name.as_str()))
            .unwrap();
        for r in 0..rows {
            let record: Vec<String> = fields
                .iter()
                .enumerate()
                .map(|(c, f)| {
                    let a = t.batch.column(c);
                    if matches!(f.ty, Type::List(_)) {
                        list_cell(a, r).unwrap_or_default().join("|")
                    } else {
                        cell(a, r, &f.ty, style, tz).unwrap_or_default()
                    }
                })
                .collect();
            w.write_record(&record).unwrap();
        }
        w.flush().unwrap();
        return name;
    }
    let name = format!("e{index}.ndjson");
    let mut text = String::new();
    for r in 0..rows {
        let mut parts = Vec::new();
        for (c, f) in fields.iter().enumerate() {
            let a = t.batch.column(c);
            let v = if matches!(f.ty, Type::List(_)) {
                list_cell(a, r).map(|items| {
                    let items: Vec<String> = items.iter().map(|i| json_string(i)).collect();
                    format!("[{}]", items.join(", "))
                })
            } else {
                cell(a, r, &f.ty, style, tz).map(|v| match f.ty {
                    Type::Integer | Type::Decimal | Type::Number | Type::Bool => v,
                    _ => json_string(&v),
                })
            };
            match v {
                Some(v) => parts.push(format!("{}: {v}", json_string(&f.name))),
                None if style.absent => {}
                None => parts.push(format!("{}: null", json_string(&f.name))),
            }
        }
        let _ = writeln!(text, "{{{}}}", parts.join(", "));
    }
    std::fs::write(dir.join(&name), text).unwrap();
    name
}

/// Writes a project (`segl.toml`, the rule files, one data file per table) into `dir`.
pub(crate) fn write_project(
    dir: &Path,
    files: &[(&str, &str)],
    program: &Program,
    data: &segl::engine::Dataset,
    settings: &RunSettings,
    style: Style,
) {
    std::fs::create_dir_all(dir).unwrap();
    let tz = &settings.as_of.time_zone;
    let primary = program
        .primary
        .map_or("", |p| program.entity(p).name.as_str());
    let mut toml = format!(
        "[project]\nname = \"case\"\nprimary_entity = {}\ntime_zone = {}\nas_of = \"{}\"\n\n[data]\n",
        json_string(primary),
        json_string(tz.iana_name().unwrap_or("UTC")),
        settings.as_of.date
    );
    for (i, t) in data.tables().enumerate() {
        let file = write_table(dir, i, program, t, style, tz);
        let _ = writeln!(
            toml,
            "{} = {}",
            json_string(&program.entity(t.entity).name),
            json_string(&file)
        );
    }
    std::fs::write(dir.join("segl.toml"), toml).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// The text of every file of a project, for a failure message.
pub(crate) fn show_project(dir: &Path) -> String {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    let mut out = String::new();
    for p in names {
        let _ = writeln!(
            out,
            "--- {}\n{}",
            p.file_name().unwrap().to_string_lossy(),
            std::fs::read_to_string(&p).unwrap_or_default()
        );
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Generated programs

/// One generated case, written out and compiled for each dialect.
struct Case {
    dir: PathBuf,
    program: Program,
    /// Per dialect: the rules it compiled, the refused ones, and the job.
    runs: Vec<(Dialect, Vec<Rule>, Job)>,
}

fn seed() -> u64 {
    if let Some(s) = std::env::var("SEGL_SQL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return s;
    }
    if std::env::var_os("SEGL_SQL_RANDOM").is_some() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        return t.as_nanos() as u64 ^ u64::from(std::process::id());
    }
    0x5e91_0000_0000_0001
}

/// What DuckDB and PostgreSQL may refuse in a generated program (`why` is `CODE: message`):
/// only what no engine is given (see docs/diagnostics/E0900.md). Anything else they refuse is
/// a rule they should have compiled.
fn expected_refusal(dialect: Dialect, why: &str) -> bool {
    const EXPRESSIBLE_NOWHERE: [&str; 2] = [
        "a computed duration added to a date",
        "hours or minutes added to a date",
    ];
    EXPRESSIBLE_NOWHERE
        .iter()
        .any(|what| why == format!("E0900: {} cannot express {what}", dialect.title()))
}

#[test]
fn engines_compute_what_segl_run_computes_for_generated_programs() {
    let dialects = local_dialects();
    if dialects.is_empty() {
        return;
    }
    let cases: usize = std::env::var("SEGL_SQL_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(24);
    let seed = seed();
    eprintln!("seed {seed} (replay with SEGL_SQL_SEED={seed})");
    let mut bytes = [0_u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    let strategy = (
        rules(),
        data(),
        proptest::bool::ANY,
        0_u8..3,
        proptest::bool::ANY,
    );
    let scratch = Scratch::new("sql-engines");
    let mut built = Vec::new();
    let mut rejected = 0;
    let mut refused: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut unexpected = Vec::new();
    let mut compared = 0;
    while built.len() < cases {
        let (rules, data, ndjson, timestamps, absent) =
            strategy.new_tree(&mut runner).unwrap().current();
        let text = rules.text();
        let Ok(program) = check(&text) else {
            rejected += 1;
            assert!(
                rejected < cases * 2 + 10,
                "too many generated programs fail to check"
            );
            continue;
        };
        let (dataset, settings) = dataset(&program, &data);
        let dir = scratch.path().join(format!("case{}", built.len()));
        let style = Style {
            ndjson,
            timestamps,
            absent,
        };
        write_project(
            &dir,
            &[("schema.segl", SCHEMA), ("rules.segl", &text)],
            &program,
            &dataset,
            &settings,
            style,
        );
        let mut runs = Vec::new();
        for &(dialect, name) in &dialects {
            let (ok, no) = compilable(&program, &settings, dialect);
            for (rule, why) in no {
                let code = why.split(':').next().unwrap_or_default().to_owned();
                *refused.entry((name.to_owned(), code)).or_default() += 1;
                if dialect != Dialect::Sqlite && !expected_refusal(dialect, &why) {
                    unexpected.push(format!("{name} refuses `{rule}`: {why}\n{text}"));
                }
            }
            let options = Options {
                dialect,
                rules: Some(ok.clone()),
                tables: std::collections::HashMap::new(),
                as_of_param: None,
            };
            let sql = compile(&program, &settings, &options).unwrap();
            let sql_path = dir.join(format!("{name}.sql"));
            std::fs::write(&sql_path, sql).unwrap();
            let tables = dir.join(format!("{name}.tables.json"));
            write_tables_json(&dir, name, &tables);
            compared += ok.len();
            runs.push((
                dialect,
                ok,
                Job {
                    engine: name,
                    tables,
                    sql: sql_path,
                    out: dir.join(format!("{name}.out")),
                    quoting: None,
                    params: Vec::new(),
                },
            ));
        }
        built.push(Case { dir, program, runs });
    }
    let jobs: Vec<Job> = built
        .iter()
        .flat_map(|c| c.runs.iter().map(|r| r.2.clone()))
        .collect();
    run_jobs(scratch.path(), &jobs);
    let mut failures = Vec::new();
    for case in &built {
        let out = case.dir.join("segl.csv");
        if let Err(e) = segl(&[
            "run",
            &case.dir.display().to_string(),
            "--out",
            &out.display().to_string(),
        ]) {
            failures.push((format!("{e}\n{}", show_project(&case.dir)), e));
            continue;
        }
        let mut found = Vec::new();
        for (dialect, ok, job) in &case.runs {
            let booleans = if *dialect == Dialect::Sqlite {
                segment_names(&case.program, ok)
            } else {
                Vec::new()
            };
            match job_result(job) {
                Err(e) => found.push(e),
                Ok(queries) => {
                    for q in &queries {
                        let expected = read_csv(&run_output(&out, &case.program, &q.entity));
                        for d in differences(&expected, q, &booleans, 6) {
                            found.push(format!("{}: {d}", dialect.name()));
                        }
                    }
                }
            }
        }
        if !found.is_empty() {
            let rules = std::fs::read_to_string(case.dir.join("rules.segl")).unwrap();
            failures.push((
                format!(
                    "{}\n--- differences\n{}",
                    show_project(&case.dir),
                    found.join("\n")
                ),
                format!("{rules}--- differences\n{}", found.join("\n")),
            ));
        }
    }
    eprintln!(
        "{} cases ({rejected} generated programs rejected by the checker), {compared} rule \
         columns compared; refused per engine: {refused:?}",
        built.len()
    );
    assert!(
        unexpected.is_empty(),
        "DuckDB or PostgreSQL refuse rules they should express (seed {seed}):\n{}",
        unexpected.join("\n")
    );
    let others: Vec<&str> = failures.iter().skip(1).map(|f| f.1.as_str()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ (seed {seed}); the first:\n{}\n=== the rules of the others:\n{}",
        failures.len(),
        built.len(),
        failures.first().map_or("", |f| f.0.as_str()),
        others.join("\n===\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Regressions: small projects under `tests/fixtures/sql-engines/`, each from a disagreement the
// generated programs found. Every rule must compile for DuckDB and PostgreSQL (SQLite may refuse
// some) and give what `segl run` gives on every local engine.

/// Compiles every rule each local dialect can express for each project and runs them all in one
/// batch; returns the differences per project.
pub(crate) fn compare_projects(dirs: &[PathBuf], scratch: &Scratch) -> Vec<String> {
    compare_projects_on(dirs, scratch, &local_dialects())
}

/// As `compare_projects`, on the dialects given.
fn compare_projects_on(
    dirs: &[PathBuf],
    scratch: &Scratch,
    dialects: &[(Dialect, &'static str)],
) -> Vec<String> {
    let mut planned = Vec::new();
    let mut jobs = Vec::new();
    for (n, dir) in dirs.iter().enumerate() {
        let report = segl::check::check_project(&crate::check::load(dir));
        let program = report
            .program
            .unwrap_or_else(|| panic!("{}: {:?}", dir.display(), report.diagnostics));
        let work = scratch.path().join(format!("p{n}"));
        std::fs::create_dir_all(&work).unwrap();
        for &(dialect, name) in dialects {
            let project = dir.display().to_string();
            let (ok, refused) = {
                // The project's own as-of date and time zone, as `segl sql` settles them.
                let mut ok = Vec::new();
                let mut refused = Vec::new();
                let all = (0..program.segments.len())
                    .map(|i| Rule::Segment(SegmentId::from_index(i)))
                    .chain(
                        (0..program.tier_sets.len())
                            .map(|i| Rule::TierSet(TierSetId::from_index(i))),
                    )
                    .chain((0..program.scores.len()).map(|i| Rule::Score(ScoreId::from_index(i))));
                for rule in all {
                    let r = rule_name(&program, rule).to_owned();
                    // `--segment=NAME`: a name may start with `-` (a hostile one: `--4`).
                    let segment = format!("--segment={r}");
                    match segl(&["sql", "--dialect", name, &project, &segment]) {
                        Ok(_) => ok.push(rule),
                        Err(e) => refused.push(format!("{r}: {e}")),
                    }
                }
                (ok, refused)
            };
            if dialect != Dialect::Sqlite {
                assert!(
                    refused.is_empty(),
                    "{}: {name} refuses {refused:?}",
                    dir.display()
                );
            }
            if ok.is_empty() {
                continue;
            }
            let mut args = vec!["sql", "--dialect", name, project.as_str()];
            let names: Vec<String> = ok
                .iter()
                .map(|r| format!("--segment={}", rule_name(&program, *r)))
                .collect();
            for r in &names {
                args.push(r);
            }
            let sql_path = work.join(format!("{name}.sql"));
            std::fs::write(&sql_path, segl(&args).unwrap()).unwrap();
            let tables = work.join(format!("{name}.tables.json"));
            write_tables_json(dir, name, &tables);
            let job = Job {
                engine: name,
                tables,
                sql: sql_path,
                out: work.join(format!("{name}.out")),
                quoting: None,
                params: Vec::new(),
            };
            let booleans = if dialect == Dialect::Sqlite {
                segment_names(&program, &ok)
            } else {
                Vec::new()
            };
            jobs.push(job.clone());
            planned.push((dir.clone(), work.clone(), program.clone(), job, booleans));
        }
    }
    run_jobs(scratch.path(), &jobs);
    let mut found = Vec::new();
    for (dir, work, program, job, booleans) in planned {
        let out = work.join("segl.csv");
        let expected_run = segl(&[
            "run",
            &dir.display().to_string(),
            "--out",
            &out.display().to_string(),
        ]);
        if let Err(e) = expected_run {
            found.push(e);
            continue;
        }
        match job_result(&job) {
            Err(e) => found.push(format!("{}: {e}", dir.display())),
            Ok(queries) => {
                for q in &queries {
                    let expected = read_csv(&run_output(&out, &program, &q.entity));
                    for d in differences(&expected, q, &booleans, 20) {
                        found.push(format!("{}: {}: {d}", dir.display(), job.engine));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn engines_agree_on_the_regression_projects() {
    let dir = root().join("tests/fixtures/sql-engines");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    let scratch = Scratch::new("sql-regressions");
    let found = compare_projects(&dirs, &scratch);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The patterns of `tests/fixtures/sql-engines/regex-meaning` on a local Spark, whose Java
/// regular expressions differ from segl's on `$`, `.` and case. Runs only when
/// `SEGL_SQL_ENGINES` names `spark` (`bash tests/sql/spark.sh`).
#[test]
fn patterns_on_spark_match_what_segl_run_matches() {
    let list = std::env::var("SEGL_SQL_ENGINES").unwrap_or_default();
    if !list.split(',').any(|e| e.trim() == "spark") {
        eprintln!("SKIPPED: the Spark comparison runs only with `bash tests/sql/spark.sh`");
        return;
    }
    let dirs = vec![root().join("tests/fixtures/sql-engines/regex-meaning")];
    let scratch = Scratch::new("sql-patterns-spark");
    let found = compare_projects_on(&dirs, &scratch, &[(Dialect::Spark, "spark")]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// SQL-hostile names and values: each project under `tests/fixtures/sql-adversarial/` names its
// entities, fields, segments, tiers, enum values and parameters with quotes, double quotes,
// backslashes, `--`, `;`, `/*`, SQL reserved words, Unicode, a leading digit and the compiler's
// own column names, and its data and texts hold the same. Every local engine must load the
// data, run the SQL and give what `segl run` gives.

#[test]
fn hostile_names_and_values_run_on_every_local_engine() {
    let dir = root().join("tests/fixtures/sql-adversarial");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    let scratch = Scratch::new("sql-adversarial");
    let found = compare_projects(&dirs, &scratch);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Hostile names and values drawn at random: segment names, text constants in rules and the data
// itself are built from quotes, double quotes, backslashes, `--`, `;`, `/*`, `#`, reserved words
// and non-English letters. 6 projects per run (`SEGL_SQL_CASES` scales it, seeded like the
// generated programs); each must give on every local engine what `segl run` gives.

/// Pieces hostile to SQL; names may also hold spaces (values do not: the CSV reader would keep
/// them, but leading and trailing spaces make failures hard to read).
const HOSTILE: [&str; 16] = [
    "'", "\"", "\\", "--", ";", "/*", "*/", "#", "select", "Order", "é", "ß", "😀", "x", "Ü", "''",
];

fn hostile_text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(&HOSTILE[..]), 1..=max)
        .prop_map(|parts| parts.concat())
}

/// A text constant in the rules language.
fn segl_text(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[test]
fn random_hostile_names_and_values_run_on_every_local_engine() {
    if local_dialects().is_empty() {
        return;
    }
    let cases: usize = std::env::var("SEGL_SQL_CASES")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .map_or(6, |c| c.div_ceil(4));
    let seed = seed();
    eprintln!("seed {seed} (replay with SEGL_SQL_SEED={seed})");
    let mut bytes = [0_u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8] = 0x4e;
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    let scratch = Scratch::new("sql-hostile-random");
    let dirs = random_hostile_projects(&scratch, cases, &mut runner);
    let found = compare_projects(&dirs, &scratch);
    if !found.is_empty() {
        let shown: Vec<String> = dirs.iter().map(|d| show_project(d)).collect();
        panic!("{}\n\n{}", found.join("\n"), shown.join("\n\n"));
    }
}

/// `cases` projects drawn at random whose segment names, text constants and data are made of
/// pieces hostile to SQL, written under `scratch`.
fn random_hostile_projects(
    scratch: &Scratch,
    cases: usize,
    runner: &mut TestRunner,
) -> Vec<PathBuf> {
    let strategy = (
        proptest::collection::vec(hostile_text(4), 5),
        proptest::collection::vec(hostile_text(3), 4),
        proptest::collection::vec(hostile_text(5), 10),
    );
    let mut dirs = Vec::new();
    for n in 0..cases {
        let (names, constants, values) = strategy.new_tree(runner).unwrap().current();
        let dir = scratch.path().join(format!("case{n}"));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(
            dir.join("segl.toml"),
            "[project]\nprimary_entity = \"customer\"\nas_of = \"2026-11-20\"\n\n[data]\ncustomer = \"data/customers.csv\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("schema.segl"),
            "entity customer {\n  key id: text\n  name: text optional\n}\n",
        )
        .unwrap();
        // Each segment's name gets its number, so no two names are equal even ignoring case.
        let name = |i: usize| format!("`{}{i}`", names[i]);
        let c = |i: usize| segl_text(&constants[i]);
        let rules = format!(
            "segment {} {{\n  where name = {}\n}}\n\nsegment {} {{\n  where name contains {}\n}}\n\n\
             segment {} {{\n  where name starts with {}\n}}\n\nsegment {} {{\n  where name ends with {}\n}}\n\n\
             segment {} {{\n  where name is any of [{}, {}]\n}}\n",
            name(0),
            c(0),
            name(1),
            c(1),
            name(2),
            c(2),
            name(3),
            c(3),
            name(4),
            c(0),
            c(3),
        );
        std::fs::write(dir.join("rules.segl"), &rules).unwrap();
        // Records holding the constants exactly, inside longer texts, and the random values.
        let mut texts: Vec<String> = constants.clone();
        for (i, k) in constants.iter().enumerate() {
            texts.push(format!("{}{k}", values[i]));
            texts.push(format!("{k}{}", values[i + 4]));
        }
        texts.extend(values.iter().cloned());
        let mut w = csv::Writer::from_path(dir.join("data/customers.csv")).unwrap();
        w.write_record(["id", "name"]).unwrap();
        for (i, t) in texts.iter().enumerate() {
            w.write_record([format!("{}{i}", values[i % values.len()]), t.clone()])
                .unwrap();
        }
        w.write_record(["unknown".to_owned(), String::new()])
            .unwrap();
        w.flush().unwrap();
        dirs.push(dir);
    }
    dirs
}

// ---------------------------------------------------------------------------------------------
// The hostile names and values in the warehouses: the projects above (the fixture and 6 drawn
// at random) compiled for BigQuery, Snowflake and Spark SQL, rule by rule and then together,
// as membership queries and as views; sqlglot must parse every script in the engine's dialect.
// Snowflake and Spark quote every name; BigQuery's column names may only hold some characters,
// so rules named otherwise are refused (E0900), never written.

/// Each rule compiled on its own with `segl sql` (and `extra`): the ones that compile and the
/// refusals.
fn per_rule(
    project: &Path,
    dialect: &str,
    program: &Program,
    extra: &[&str],
) -> (Vec<String>, Vec<String>) {
    let all = (0..program.segments.len())
        .map(|i| Rule::Segment(SegmentId::from_index(i)))
        .chain((0..program.tier_sets.len()).map(|i| Rule::TierSet(TierSetId::from_index(i))))
        .chain((0..program.scores.len()).map(|i| Rule::Score(ScoreId::from_index(i))));
    let project = project.display().to_string();
    let mut ok = Vec::new();
    let mut refused = Vec::new();
    for rule in all {
        let name = rule_name(program, rule).to_owned();
        let segment = format!("--segment={name}");
        let mut args = vec![
            "sql",
            "--dialect",
            dialect,
            project.as_str(),
            segment.as_str(),
        ];
        args.extend(extra);
        match segl(&args) {
            Ok(_) => ok.push(name),
            Err(e) => refused.push(format!("{name}: {e}")),
        }
    }
    (ok, refused)
}

#[test]
fn hostile_names_parse_in_every_warehouse() {
    if !wanted("sqlglot") {
        return;
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures/sql-adversarial"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let fixtures = dirs.len();
    let seed = seed();
    let mut bytes = [0_u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8] = 0x5a;
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    let scratch = Scratch::new("sql-hostile-warehouses");
    dirs.extend(random_hostile_projects(&scratch, 6, &mut runner));
    let mut fixture_refusals = Vec::new();
    for (n, dir) in dirs.iter().enumerate() {
        let report = segl::check::check_project(&crate::check::load(dir));
        let program = report
            .program
            .unwrap_or_else(|| panic!("{}: {:?}", dir.display(), report.diagnostics));
        let project = dir.display().to_string();
        for dialect in ["bigquery", "snowflake", "spark"] {
            for views in [false, true] {
                let extra: &[&str] = if views { &["--views"] } else { &[] };
                let (ok, refused) = per_rule(dir, dialect, &program, extra);
                let what = if views {
                    "a view named"
                } else {
                    "a column named"
                };
                if dialect == "bigquery" {
                    for r in &refused {
                        assert!(
                            r.contains("E0900")
                                && (r.contains("BigQuery cannot express a column named")
                                    || r.contains(&format!("BigQuery cannot express {what}"))),
                            "{}: bigquery refuses for another reason: {r}",
                            dir.display()
                        );
                    }
                    if n < fixtures {
                        let names: Vec<&str> = refused
                            .iter()
                            .map(|r| r.split(": segl sql").next().unwrap_or(r))
                            .collect();
                        fixture_refusals.push(format!(
                            "{}{}: {}",
                            dir.display(),
                            if views { " (views)" } else { "" },
                            names.join(", ")
                        ));
                    }
                } else {
                    assert!(
                        refused.is_empty(),
                        "{}: {dialect} refuses {refused:?}",
                        dir.display()
                    );
                }
                if ok.is_empty() {
                    // Random names hold quotes, `;` or `/*` nearly always: BigQuery may refuse
                    // every rule of such a project; of the fixture it must compile some.
                    assert!(
                        dialect == "bigquery" && n >= fixtures,
                        "{}: {dialect} compiles nothing",
                        dir.display()
                    );
                    continue;
                }
                let segments: Vec<String> = ok.iter().map(|r| format!("--segment={r}")).collect();
                let mut args = vec!["sql", "--dialect", dialect, project.as_str()];
                args.extend(extra);
                args.extend(segments.iter().map(String::as_str));
                let sql = segl(&args).unwrap();
                let path = scratch.path().join(format!(
                    "p{n}-{dialect}{}.sql",
                    if views { "-views" } else { "" }
                ));
                std::fs::write(&path, &sql).unwrap();
                let mut parse: Vec<&std::ffi::OsStr> = Vec::new();
                if views {
                    parse.push("--views".as_ref());
                }
                parse.push(dialect.as_ref());
                parse.push(path.as_os_str());
                let (parsed, errors) = crate::sql::sqlglot(&parse);
                assert!(
                    parsed,
                    "{} ({dialect}{}): {errors}\n{sql}",
                    dir.display(),
                    if views { ", views" } else { "" }
                );
            }
        }
    }
    // `--create-tables` for BigQuery refuses the fields it cannot name; the others write them.
    for dir in &dirs[..fixtures] {
        let project = dir.display().to_string();
        let refused = segl(&["sql", "--dialect", "bigquery", "--create-tables", &project])
            .expect_err("BigQuery cannot name every hostile field");
        assert!(refused.contains("E0900"), "{refused}");
        for dialect in ["snowflake", "spark"] {
            segl(&["sql", "--dialect", dialect, "--create-tables", &project]).unwrap();
        }
    }
    // Which rules of the fixture BigQuery cannot name, reviewed.
    let shown: Vec<String> = fixture_refusals
        .iter()
        .map(|r| r.replace(&root().display().to_string(), "."))
        .collect();
    insta::assert_snapshot!("hostile_names_refused_by_bigquery", shown.join("\n"));
}

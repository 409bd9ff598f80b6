//! `segl sql --views` and `segl sql --dbt`: the SQL and files written (snapshots), the folder
//! handling of `--dbt` (replaced whole, refused when it holds other files), the error fixtures
//! (`tests/fixtures/dbt/errors`), and proof on real engines: every view of the example project
//! holds the records `segl run` chooses, and dbt-duckdb builds and tests the dbt models, whose
//! membership tables equal `segl run`'s, row by row.
//!
//! Engines as in `tests/it/sql.rs` (`SEGL_SQL_PYTHON`, `SEGL_PG_DSN`, `SEGL_SQL_ENGINES`); dbt is
//! the `dbt` next to `SEGL_SQL_PYTHON` (or `SEGL_DBT`), installed by `scripts/test-env.sh`, and is
//! left out with `SEGL_SQL_ENGINES` not naming `dbt`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use segl::check::check_project;
use segl::engine::lower::Rule;
use segl::engine::{AsOf, RunSettings};
use segl::ir::{Program, ScoreId, SegmentId, TierSetId};
use segl::sql::dbt::{self, SourceTables};
use segl::sql::{Dialect, Options, compile, views};

use crate::check::{load, root};

fn settings() -> RunSettings {
    let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    RunSettings {
        as_of: AsOf::end_of_day(jiff::civil::date(2026, 11, 20), tz).unwrap(),
        params: HashMap::new(),
    }
}

fn program(path: &Path) -> Program {
    check_project(&load(path)).program.unwrap()
}

fn options(dialect: Dialect, rules: Option<Vec<Rule>>) -> Options {
    Options {
        dialect,
        rules,
        tables: HashMap::new(),
        as_of_param: None,
    }
}

fn rule_name(p: &Program, r: Rule) -> &str {
    match r {
        Rule::Segment(id) => &p.segments[id.index()].name,
        Rule::TierSet(id) => &p.tier_sets[id.index()].name,
        Rule::Score(id) => &p.scores[id.index()].name,
    }
}

/// Every rule of the program the dialect can express.
fn compilable(p: &Program, dialect: Dialect) -> Vec<Rule> {
    let all = (0..p.segments.len())
        .map(|i| Rule::Segment(SegmentId::from_index(i)))
        .chain((0..p.tier_sets.len()).map(|i| Rule::TierSet(TierSetId::from_index(i))))
        .chain((0..p.scores.len()).map(|i| Rule::Score(ScoreId::from_index(i))));
    all.filter(|r| compile(p, &settings(), &options(dialect, Some(vec![*r]))).is_ok())
        .collect()
}

/// A scratch folder removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("segl-dbt-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

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
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn segl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_segl"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

/// `segl run` over the example project: each entity's membership as a header and rows.
fn segl_run(dir: &Path) -> BTreeMap<String, Vec<Vec<String>>> {
    let out = dir.join("segl.csv");
    let run = segl(&["run", "rules", "--out", out.to_str().unwrap()]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    BTreeMap::from([
        ("customer".to_owned(), read_csv(&out)),
        (
            "company".to_owned(),
            read_csv(&dir.join("segl.company.csv")),
        ),
    ])
}

fn wanted(engine: &str) -> bool {
    match std::env::var("SEGL_SQL_ENGINES") {
        Ok(list) if !list.trim().is_empty() => {
            let on = list.split(',').any(|e| e.trim() == engine);
            if !on {
                eprintln!("SKIPPED: {engine} (SEGL_SQL_ENGINES={list} leaves it out)");
            }
            on
        }
        _ => true,
    }
}

fn python() -> String {
    std::env::var("SEGL_SQL_PYTHON").unwrap_or_else(|_| "python3".into())
}

// ---------------------------------------------------------------------------------------------
// --views

#[test]
fn views_of_the_example_project() {
    let p = program(&root().join("rules"));
    for (dialect, prefix) in [
        (Dialect::DuckDb, ""),
        (Dialect::Postgres, "segl_"),
        (Dialect::BigQuery, "segl_"),
        (Dialect::Snowflake, ""),
        (Dialect::Spark, "segl_"),
    ] {
        let sql = views(
            &p,
            &settings(),
            &options(dialect, Some(compilable(&p, dialect))),
            prefix,
        )
        .unwrap();
        insta::assert_snapshot!(format!("views_rules_{}", dialect.name()), sql);
    }
}

#[test]
fn every_view_is_created_once_and_sqlite_replaces_by_dropping() {
    let p = program(&root().join("tests/fixtures/dbt/project"));
    let rules = compilable(&p, Dialect::Sqlite);
    let sql = views(
        &p,
        &settings(),
        &options(Dialect::Sqlite, Some(rules)),
        "v_",
    )
    .unwrap();
    for name in ["large_orders", "paying", "loyalty"] {
        assert_eq!(
            sql.matches(&format!(
                "DROP VIEW IF EXISTS \"v_{name}\";\nCREATE VIEW \"v_{name}\" AS\n"
            ))
            .count(),
            1,
            "{name}:\n{sql}"
        );
    }
    assert!(!sql.contains("COMMENT ON"), "SQLite keeps no comments");
    // A view of one rule compiles the rules it uses into it: no view reads another.
    let loyalty = sql.split("CREATE VIEW \"v_loyalty\"").nth(1).unwrap();
    let loyalty = loyalty.split(";\n").next().unwrap();
    assert!(loyalty.contains("AS \"paying\""), "{loyalty}");
    assert!(!loyalty.contains("\"v_paying\""), "{loyalty}");
}

/// Runs the views on the engine and compares every view with `segl run`'s membership: a
/// segment's view holds exactly its members, a tier set's and a score's view every record with
/// its value.
fn views_on_engine(dialect: Dialect, engine: &str, prefix: &str) {
    let p = program(&root().join("rules"));
    let rules = compilable(&p, dialect);
    let sql = views(
        &p,
        &settings(),
        &options(dialect, Some(rules.clone())),
        prefix,
    )
    .unwrap();
    let dir = Scratch::new(&format!("views-{engine}"));
    let sql_path = dir.path().join("views.sql");
    std::fs::write(&sql_path, &sql).unwrap();
    let tables = dir.path().join("tables.json");
    crate::sql_engines::write_tables_json(&root().join("rules"), engine, &tables);
    let out = Command::new(python())
        .arg(root().join("tests/sql/run.py"))
        .args(["--views", engine])
        .arg(&tables)
        .arg(&sql_path)
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the {engine} run failed (set the engines up with `eval \"$(bash scripts/test-env.sh)\"`, \
         or leave the engine out with SEGL_SQL_ENGINES):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let memberships = segl_run(dir.path());
    let mut compared = 0;
    for rule in rules {
        let name = rule_name(&p, rule);
        let entity = match rule {
            Rule::Segment(id) => p.segments[id.index()].entity,
            Rule::TierSet(id) => p.tier_sets[id.index()].entity,
            Rule::Score(id) => p.scores[id.index()].entity,
        };
        let table = &memberships[&p.entity(entity).name];
        let col = table[0].iter().position(|c| c == name).unwrap();
        let mut expected: Vec<Vec<String>> = table[1..]
            .iter()
            .filter_map(|row| match rule {
                Rule::Segment(_) => (row[col] == "true").then(|| vec![row[0].clone()]),
                _ => Some(vec![row[0].clone(), row[col].clone()]),
            })
            .collect();
        let got_file = read_csv(&dir.path().join(format!("{prefix}{name}.csv")));
        let mut got = got_file[1..].to_vec();
        expected.sort();
        got.sort();
        assert_eq!(
            got, expected,
            "{engine}: the view of `{name}` differs from `segl run`"
        );
        assert_eq!(
            got_file[0][0], table[0][0],
            "{name}: the first column is the key"
        );
        compared += 1;
    }
    assert!(compared > 50, "only {compared} views compared");
}

#[test]
fn duckdb_views_hold_what_segl_run_computes() {
    if wanted("duckdb") {
        views_on_engine(Dialect::DuckDb, "duckdb", "");
    }
}

#[test]
fn postgres_views_hold_what_segl_run_computes() {
    if wanted("postgres") {
        assert!(
            std::env::var("SEGL_PG_DSN").is_ok(),
            "SEGL_PG_DSN is not set: run `eval \"$(bash scripts/test-env.sh)\"` first, or leave \
             PostgreSQL out with SEGL_SQL_ENGINES=duckdb,sqlite"
        );
        views_on_engine(Dialect::Postgres, "postgres", "segl_");
    }
}

#[test]
fn sqlite_views_hold_what_segl_run_computes() {
    if wanted("sqlite") {
        views_on_engine(Dialect::Sqlite, "sqlite", "v_");
    }
}

// ---------------------------------------------------------------------------------------------
// --dbt

/// The file list and every file of the fixture project's dbt fragment.
#[test]
fn dbt_fragment_of_a_small_project() {
    let p = program(&root().join("tests/fixtures/dbt/project"));
    let files = dbt::project(
        &p,
        &settings(),
        &options(Dialect::DuckDb, None),
        &SourceTables::default(),
    )
    .unwrap();
    let mut shown = String::new();
    for f in &files {
        shown.push_str(&format!("{}\n", f.path));
    }
    for f in &files {
        shown.push_str(&format!("\n===== {} =====\n{}", f.path, f.contents));
    }
    insta::assert_snapshot!("dbt_fixture_project", shown);
}

#[test]
fn dbt_sources_with_a_schema_and_table_names() {
    let p = program(&root().join("tests/fixtures/dbt/project"));
    let tables = SourceTables {
        database: None,
        schema: Some("crm".into()),
        identifiers: HashMap::from([(
            p.entities
                .iter()
                .position(|e| e.name == "order")
                .map(segl::ir::EntityId::from_index)
                .unwrap(),
            "orders".to_owned(),
        )]),
    };
    let files = dbt::project(&p, &settings(), &options(Dialect::Postgres, None), &tables).unwrap();
    let sources = files
        .iter()
        .find(|f| f.path.ends_with("sources.yml"))
        .unwrap();
    assert!(
        sources.contents.contains("    schema: \"crm\"\n"),
        "{}",
        sources.contents
    );
    assert!(
        sources
            .contents
            .contains("      - name: \"order\"\n        identifier: \"orders\"\n"),
        "{}",
        sources.contents
    );
}

/// What `segl sql --dbt` leaves in a folder: the paths of all files below it.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn dbt_folder_is_replaced_whole_and_refused_when_not_segls() {
    let scratch = Scratch::new("folder");
    let out = scratch.path().join("out");
    let out_s = out.to_str().unwrap();
    let project = "tests/fixtures/dbt/project";
    let first = segl(&["sql", "--dialect", "duckdb", "--dbt", out_s, project]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let all = tree(&out);
    assert!(
        all.contains(&"models/segl/big_spenders.sql".to_owned()),
        "{all:?}"
    );
    // Again with one rule: the folder holds exactly the new files.
    let again = segl(&[
        "sql",
        "--dialect",
        "duckdb",
        "--dbt",
        out_s,
        project,
        "--segment",
        "paying",
    ]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(
        tree(&out),
        [
            "models/segl/customer_membership.sql",
            "models/segl/paying.sql",
            "models/segl/schema.yml",
            "models/segl/sources.yml",
            "segl-manifest.txt"
        ]
    );
    // A file of someone else's: refused (E0910, exit 2), nothing changed, nothing left over.
    std::fs::write(out.join("models/notes.md"), "mine").unwrap();
    let before = tree(&out);
    let refused = segl(&["sql", "--dialect", "duckdb", "--dbt", out_s, project]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("E0910"));
    assert_eq!(tree(&out), before);
    assert_eq!(
        tree(scratch.path()).len(),
        before.len(),
        "no temporary files are left"
    );
    // A changed model: refused (E0912).
    std::fs::remove_file(out.join("models/notes.md")).unwrap();
    std::fs::write(out.join("models/segl/paying.sql"), "select 1").unwrap();
    let changed = segl(&["sql", "--dialect", "duckdb", "--dbt", out_s, project]);
    assert_eq!(changed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&changed.stderr).contains("E0912"));
    // `--dbt`, `--views` and `--view-prefix` without `--views` are usage errors.
    for args in [
        vec![
            "sql",
            "--dialect",
            "duckdb",
            "--views",
            "--dbt",
            out_s,
            project,
        ],
        vec!["sql", "--dialect", "duckdb", "--view-prefix", "x_", project],
    ] {
        assert_eq!(segl(&args).status.code(), Some(2), "{args:?}");
    }
}

/// Each folder under `tests/fixtures/dbt/errors` starts with the code it must give: a project
/// (`segl.toml`) whose views or dbt models cannot be written, or an `out` (a file, or a folder in
/// a state segl refuses to replace) that `segl sql --dbt` is pointed at.
#[test]
fn dbt_error_fixtures_report_their_code() {
    let dir = root().join("tests/fixtures/dbt/errors");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert!(entries.len() >= 5);
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let code = &name[..5];
        let shown = if path.join("segl.toml").exists() {
            let report = check_project(&load(&path));
            let p = report.program.unwrap();
            let o = options(Dialect::DuckDb, None);
            let mut diagnostics = Vec::new();
            if let Err(d) = views(&p, &settings(), &o, "") {
                diagnostics.extend(d);
            }
            if let Err(d) = dbt::project(&p, &settings(), &o, &SourceTables::default()) {
                diagnostics.extend(d);
            }
            assert!(!diagnostics.is_empty(), "{name}: no diagnostic");
            assert!(
                diagnostics.iter().all(|d| d.code.as_str() == code),
                "{name}: {diagnostics:?}"
            );
            segl::diagnostics::sort(&mut diagnostics, &report.sources);
            segl::diagnostics::render::plain(&diagnostics, &report.sources)
        } else {
            let scratch = Scratch::new(&name);
            let out = scratch.path().join("out");
            let given = path.join("out");
            if given.is_dir() {
                copy_dir(&given, &out);
            } else {
                std::fs::copy(&given, &out).unwrap();
            }
            let before = tree(scratch.path());
            // Run inside the scratch folder, so the message names `out` whatever the folder.
            let run = Command::new(env!("CARGO_BIN_EXE_segl"))
                .args(["sql", "--dialect", "duckdb", "--dbt", "out"])
                .arg(root().join("tests/fixtures/dbt/project"))
                .current_dir(scratch.path())
                .output()
                .unwrap();
            assert_eq!(run.status.code(), Some(2), "{name}");
            assert_eq!(tree(scratch.path()), before, "{name}: the folder changed");
            let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
            assert!(stderr.contains(&format!("[{code}]")), "{name}: {stderr}");
            stderr
        };
        insta::assert_snapshot!(format!("dbt_error_{name}"), shown);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let path = e.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// dbt-duckdb builds every model and passes every test of the example project's fragment, and
/// the membership tables equal `segl run`'s.
#[test]
fn dbt_builds_the_example_project_and_computes_what_segl_run_computes() {
    if !wanted("dbt") {
        return;
    }
    let dbt_exe = std::env::var("SEGL_DBT").unwrap_or_else(|_| {
        Path::new(&python())
            .with_file_name("dbt")
            .display()
            .to_string()
    });
    let scratch = Scratch::new("build");
    let fragment = scratch.path().join("fragment");
    let made = segl(&[
        "sql",
        "--dialect",
        "duckdb",
        "--dbt",
        fragment.to_str().unwrap(),
        "rules",
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let work = scratch.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let tables = scratch.path().join("tables.json");
    crate::sql_engines::write_tables_json(&root().join("rules"), "duckdb", &tables);
    let out = Command::new(python())
        .arg(root().join("tests/sql/dbt_build.py"))
        .arg(&dbt_exe)
        .arg(&tables)
        .arg(&fragment)
        .arg(&work)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dbt build failed (install dbt-duckdb with `eval \"$(bash scripts/test-env.sh)\"`, or \
         leave dbt out with SEGL_SQL_ENGINES=duckdb,postgres,sqlite):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Every model built and every test passed: nothing failed, warned or was skipped.
    let counts: BTreeMap<String, usize> = serde_json::from_slice(&out.stdout).unwrap();
    let p = program(&root().join("rules"));
    let models = p.segments.len() + p.tier_sets.len() + p.scores.len() + 2;
    assert_eq!(counts.get("model success"), Some(&models), "{counts:?}");
    assert!(
        counts.get("test pass").is_some_and(|n| *n > models),
        "{counts:?}"
    );
    assert_eq!(counts.len(), 2, "{counts:?}");
    let memberships = segl_run(scratch.path());
    for (entity, expected) in memberships {
        let got = read_csv(&work.join(format!("{entity}.csv")));
        assert_eq!(got[0], expected[0], "{entity}: columns differ");
        assert_eq!(got.len(), expected.len(), "{entity}: row counts differ");
        let mut diffs = Vec::new();
        for (e, g) in expected.iter().zip(&got).skip(1) {
            for (i, col) in expected[0].iter().enumerate() {
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
        assert_eq!(diffs, Vec::<String>::new());
    }
}

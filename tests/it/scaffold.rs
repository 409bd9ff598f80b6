//! `segl schema infer` and `segl new`: drafted schemas (snapshots), the property that a project
//! drafted from data checks clean and loads the same files, the example project, and the
//! inference diagnostics.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, ListBuilder,
    StringArray, StringBuilder, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use segl::diagnostics::render;
use segl::infer::{DataFile, infer};
use segl::source::SourceMap;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn segl(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_segl"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("segl runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A fresh, empty folder for one test.
fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("segl-scaffold-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The schema drafted from files (paths relative to the repository), shown as relative paths.
fn inferred(paths: &[&str]) -> String {
    let read: Vec<(String, Vec<u8>)> = paths
        .iter()
        .map(|p| ((*p).to_owned(), std::fs::read(root().join(p)).unwrap()))
        .collect();
    let files: Vec<DataFile<'_>> = read
        .iter()
        .map(|(name, bytes)| DataFile { name, bytes })
        .collect();
    let mut sources = SourceMap::new();
    let inference = infer(&files, &mut sources);
    assert!(
        inference.diagnostics.is_empty(),
        "{}",
        render::plain(&inference.diagnostics, &sources)
    );
    inference.schema.unwrap().text()
}

/// A Parquet file with one column of each kind segl reads, and one it does not.
fn write_parquet(path: &Path) {
    let mut tags = ListBuilder::new(StringBuilder::new());
    for row in [vec!["a", "b"], vec![], vec!["c"], vec!["a"]] {
        for t in row {
            tags.values().append_value(t);
        }
        tags.append(true);
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("account_id", DataType::Int64, false),
        Field::new("plan", DataType::Utf8, true),
        Field::new("mrr", DataType::Decimal128(12, 2), true),
        Field::new("health", DataType::Float64, true),
        Field::new("active", DataType::Boolean, false),
        Field::new("renews_on", DataType::Date32, true),
        Field::new(
            "seen_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new(
            "tags",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            true,
        ),
        Field::new("blob", DataType::Binary, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![10, 20, 30, 40])),
        Arc::new(StringArray::from(vec![
            Some("basic"),
            Some("basic"),
            Some("plus"),
            None,
        ])),
        Arc::new(
            Decimal128Array::from(vec![Some(1999), Some(4900), None, Some(0)])
                .with_precision_and_scale(12, 2)
                .unwrap(),
        ),
        Arc::new(Float64Array::from(vec![0.5, 0.25, 0.75, 1.0])),
        Arc::new(BooleanArray::from(vec![true, false, true, true])),
        Arc::new(Date32Array::from(vec![
            Some(20_500),
            None,
            Some(20_600),
            Some(20_700),
        ])),
        Arc::new(
            TimestampMicrosecondArray::from(vec![
                Some(1_770_000_000_000_000),
                Some(1_770_000_360_000_000),
                None,
                Some(1_770_100_000_000_000),
            ])
            .with_timezone("UTC"),
        ),
        Arc::new(tags.finish()),
        Arc::new(datafusion::arrow::array::BinaryArray::from(vec![
            Some(b"x".as_slice()),
            None,
            None,
            None,
        ])),
    ];
    let batch = RecordBatch::try_new(schema, columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut writer =
        datafusion::parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[test]
fn inferred_schemas() {
    insta::assert_snapshot!(
        "infer_messy_spreadsheet",
        inferred(&["tests/fixtures/infer/members.csv"])
    );
    insta::assert_snapshot!(
        "infer_shop_with_relation",
        inferred(&[
            "tests/fixtures/infer/shop/customers.csv",
            "tests/fixtures/infer/shop/orders.csv"
        ])
    );
    insta::assert_snapshot!(
        "infer_ndjson",
        inferred(&["tests/fixtures/infer/events.ndjson"])
    );
    let dir = temp("parquet-snapshot");
    write_parquet(&dir.join("accounts.parquet"));
    let bytes = std::fs::read(dir.join("accounts.parquet")).unwrap();
    let mut sources = SourceMap::new();
    let inference = infer(
        &[DataFile {
            name: "accounts.parquet",
            bytes: &bytes,
        }],
        &mut sources,
    );
    insta::assert_snapshot!("infer_parquet", inference.schema.unwrap().text());
    let _ = std::fs::remove_dir_all(dir);
}

/// Parses the `expect` lines of a drafted test and checks each against `segl run`'s output.
fn expectations_match_run(project: &Path) {
    let tests = std::fs::read_to_string(project.join("tests.segl")).unwrap();
    let out = project.join("membership.csv");
    let run = segl(project, &["run", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let table = std::fs::read_to_string(&out).unwrap();
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let value = |key: &str, column: &str| -> String {
        let c = header.iter().position(|h| *h == column).unwrap();
        let row = rows.iter().find(|r| r[0] == key).unwrap();
        row[c].to_owned()
    };
    let mut checked = 0;
    for line in tests.lines().map(str::trim) {
        let Some(rest) = line.strip_prefix("expect ") else {
            continue;
        };
        let (key, rest) = if let Some(r) = rest.strip_prefix('"') {
            let (k, after) = r.split_once('"').unwrap();
            (k.to_owned(), after.trim_start().to_owned())
        } else {
            let (k, after) = rest.split_once([' ', '.']).unwrap();
            let sep = if rest.as_bytes()[k.len()] == b'.' {
                "."
            } else {
                ""
            };
            (k.to_owned(), format!("{sep}{after}"))
        };
        if let Some(tier) = rest.strip_prefix('.') {
            let (name, expected) = tier.split_once(" is ").unwrap();
            assert_eq!(value(&key, name), expected, "{line}");
        } else if let Some(segment) = rest.strip_prefix("not in ") {
            assert_eq!(value(&key, segment), "false", "{line}");
        } else if let Some(segment) = rest.strip_prefix("in ") {
            assert_eq!(value(&key, segment), "true", "{line}");
        } else {
            panic!("unexpected expectation {line}");
        }
        checked += 1;
    }
    assert!(
        checked >= 3,
        "the drafted test expects too little:\n{tests}"
    );
}

fn new_from(name: &str, files: &[PathBuf]) -> PathBuf {
    let dir = temp(name);
    let project = dir.join("project");
    let mut args = vec![
        "new".to_owned(),
        project.display().to_string(),
        "--from".to_owned(),
    ];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let made = segl(&dir, &args);
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    let check = segl(&project, &["check", "--format", "plain"]);
    assert_eq!(
        check.code,
        0,
        "{}\n{}",
        check.stdout,
        std::fs::read_to_string(project.join("schema.segl")).unwrap()
    );
    // Drafted files are already in the layout of `segl fmt`, and the drafted test passes.
    let fmt = segl(&project, &["fmt", "--check"]);
    assert_eq!(fmt.code, 0, "{}{}", fmt.stdout, fmt.stderr);
    let test = segl(&project, &["test", "--format", "plain"]);
    assert_eq!(test.code, 0, "{}{}", test.stdout, test.stderr);
    // The drafted schema loads the very files it was drafted from, and the test's expectations
    // agree with the engine on the same records.
    expectations_match_run(&project);
    project
}

#[test]
fn projects_drafted_from_data_check_clean_and_load_their_files() {
    let infer = root().join("tests/fixtures/infer");
    let p = new_from("messy", &[infer.join("members.csv")]);
    let toml = std::fs::read_to_string(p.join("segl.toml")).unwrap();
    assert!(toml.contains("delimiter = \";\""), "{toml}");
    new_from(
        "shop",
        &[
            infer.join("shop/customers.csv"),
            infer.join("shop/orders.csv"),
        ],
    );
    new_from("ndjson", &[infer.join("events.ndjson")]);
    let dir = temp("parquet-data");
    write_parquet(&dir.join("accounts.parquet"));
    new_from("parquet", &[dir.join("accounts.parquet")]);
    let data = root().join("rules/data");
    new_from(
        "rules-data",
        &[
            data.join("customers.csv"),
            data.join("orders.csv"),
            data.join("companies.csv"),
        ],
    );
}

#[test]
fn the_example_project_checks_and_runs() {
    let dir = temp("example");
    let project = dir.join("shop");
    let made = segl(&dir, &["new", "shop"]);
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    assert!(made.stdout.contains("segl check"), "{}", made.stdout);
    for file in [
        "segl.toml",
        "schema.segl",
        "segments.segl",
        "tests.segl",
        "data/customers.csv",
        "data/orders.csv",
        "README.md",
        ".github/workflows/segl.yml",
        ".pre-commit-config.yaml",
    ] {
        assert!(project.join(file).is_file(), "{file} is missing");
    }
    let toml = std::fs::read_to_string(project.join("segl.toml")).unwrap();
    assert!(toml.contains("name = \"shop\""), "{toml}");
    let workflow = std::fs::read_to_string(project.join(".github/workflows/segl.yml")).unwrap();
    for step in [
        "cargo install --locked segl",
        "segl fmt --check",
        "segl check --format github",
        "segl test --format junit",
    ] {
        assert!(workflow.contains(step), "the workflow lacks {step}");
    }
    let check = segl(&project, &["check", "--format", "plain"]);
    assert_eq!(check.code, 0, "{}", check.stdout);
    assert!(
        check
            .stdout
            .contains("2 segments, 1 tier set, 1 score, 1 test"),
        "{}",
        check.stdout
    );
    let run = segl(&project, &["run"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let fmt = segl(&project, &["fmt", "--check"]);
    assert_eq!(fmt.code, 0, "{}{}", fmt.stdout, fmt.stderr);
    // The example's test passes and reaches every condition, tier row and score rule.
    let test = segl(
        &project,
        &["test", "--min-coverage", "100", "--format", "plain"],
    );
    assert_eq!(test.code, 0, "{}{}", test.stdout, test.stderr);
    // The template's test, checked against the engine: its records as data files.
    std::fs::write(
        project.join("data/customers.csv"),
        "id,email,country,plan,arr,seats,signup_date,nps\n\
         ana,ana@example.com,PT,pro,24000.00,12,2025-02-03,10\n\
         ben,ben@example.com,US,free,0.00,1,2026-10-01,\n\
         cara,cara@example.com,DE,enterprise,8000.00,30,2024-06-10,4\n",
    )
    .unwrap();
    std::fs::write(
        project.join("data/orders.csv"),
        "id,customer_id,placed_on,amount,status\n\
         o1,ana,2026-11-02,450.00,paid\n\
         o2,ana,2026-09-15,120.00,paid\n\
         o3,ben,2026-11-10,900.00,refunded\n\
         o4,cara,2026-09-20,80.00,paid\n",
    )
    .unwrap();
    let out = project.join("membership.csv");
    let run = segl(&project, &["run", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        std::fs::read_to_string(out).unwrap(),
        "id,paying_customers,recent_big_buyers,value_tier,engagement\n\
         ana,true,true,high,15\n\
         ben,false,false,low,10\n\
         cara,true,false,medium,-5\n"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn new_refuses_a_folder_with_files() {
    let dir = temp("refuse");
    std::fs::write(dir.join("notes.txt"), "keep me").unwrap();
    let run = segl(&dir, &["new", "."]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("already has files"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "keep me"
    );
    assert!(!dir.join("segl.toml").exists());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn infer_prints_or_writes_the_schema() {
    let fixtures = root().join("tests/fixtures/infer/shop");
    let printed = segl(
        &fixtures,
        &["schema", "infer", "customers.csv", "orders.csv"],
    );
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    assert!(
        printed.stdout.contains("entity customer {"),
        "{}",
        printed.stdout
    );
    let dir = temp("infer-out");
    let out = dir.join("schema.segl");
    let written = segl(
        &fixtures,
        &[
            "schema",
            "infer",
            "customers.csv",
            "orders.csv",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(written.code, 0, "{}", written.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), printed.stdout);
    let missing = segl(&fixtures, &["schema", "infer", "nowhere.csv"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("E0600"), "{}", missing.stderr);
    let _ = std::fs::remove_dir_all(dir);
}

/// The inference diagnostics: each fixture file `tests/fixtures/data/E085x-*` gives its code.
#[test]
fn inference_fixtures_report_their_code_and_nothing_else() {
    let dir = root().join("tests/fixtures/data");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    assert!(entries.len() >= 3);
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let code = &name[..5];
        let bytes = std::fs::read(&path).unwrap();
        let mut sources = SourceMap::new();
        let inference = infer(
            &[DataFile {
                name: &name,
                bytes: &bytes,
            }],
            &mut sources,
        );
        let shown = render::plain(&inference.diagnostics, &sources);
        assert!(inference.schema.is_none(), "{name}");
        assert!(
            !inference.diagnostics.is_empty()
                && inference
                    .diagnostics
                    .iter()
                    .all(|d| d.code.as_str() == code),
            "{name}: expected only {code}, got:\n{shown}"
        );
        insta::assert_snapshot!(format!("infer_{name}"), shown);
    }
}

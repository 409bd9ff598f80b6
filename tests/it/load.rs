//! Loading data files: one fixture folder per diagnostic code (a `segl.toml` with `[data]`, a
//! schema and data files) with a snapshot of what users see, and exact checks of the typed
//! columns for each format.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array,
    ListArray, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use segl::check::{ProjectInput, RawFile, check_project};
use segl::diagnostics::{Diagnostic, render, sort};
use segl::engine::load::{DataFormat, DataSource, Loaded, load};
use segl::ir::usage::Usage;
use segl::project::data::data_sources;
use segl::source::SourceMap;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Checks the project in `dir`, reads its `[data]` section and loads the files. Names in
/// messages are relative to the fixture's parent folder.
pub fn load_project(dir: &Path) -> (Vec<Diagnostic>, SourceMap, Option<segl::engine::Dataset>) {
    let shown = dir.file_name().unwrap().to_string_lossy().into_owned();
    let mut rules = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "segl"))
        .collect();
    entries.sort();
    for p in entries {
        let name = format!("{shown}/{}", p.file_name().unwrap().to_string_lossy());
        rules.push(RawFile::new(name, std::fs::read(&p).unwrap()));
    }
    let config = std::fs::read(dir.join("segl.toml"))
        .ok()
        .map(|b| RawFile::new(format!("{shown}/segl.toml"), b));
    let report = check_project(&ProjectInput {
        name: shown.clone(),
        config,
        rules,
    });
    assert!(
        report.diagnostics.is_empty(),
        "{}",
        render::plain(&report.diagnostics, &report.sources)
    );
    let program = report.program.unwrap();
    let config = report.config.unwrap();
    let mut sources = report.sources;
    let (specs, mut diagnostics) = data_sources(&config, &sources, &program, &shown);
    let zone = config
        .time_zone
        .as_ref()
        .map_or(jiff::tz::TimeZone::UTC, |(z, _)| {
            jiff::tz::TimeZone::get(z).unwrap()
        });
    let resolved: Vec<DataSource> = specs.iter().map(|s| s.resolve(dir)).collect();
    let Loaded {
        dataset,
        diagnostics: found,
        ..
    } = load(
        &program,
        &resolved,
        &Usage::everything(&program),
        &zone,
        &mut sources,
    );
    diagnostics.extend(found);
    sort(&mut diagnostics, &sources);
    (diagnostics, sources, Some(dataset))
}

#[test]
fn data_fixtures_report_their_code_and_nothing_else() {
    let dir = root().join("tests/fixtures/data");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    assert!(!entries.is_empty());
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let code = &name[..5];
        let (diagnostics, sources, _) = load_project(&path);
        let shown = render::plain(&diagnostics, &sources);
        assert!(
            !diagnostics.is_empty() && diagnostics.iter().all(|d| d.code.as_str() == code),
            "{name}: expected only {code}, got:\n{shown}"
        );
        insta::assert_snapshot!(format!("data_{name}"), shown);
    }
}

/// Writes a record batch as a Parquet file.
fn write_parquet(path: &Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer =
        datafusion::parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

/// The Parquet file of the E0607 fixture: amounts written as floating-point numbers.
/// Run with `cargo test regenerate_parquet_fixture -- --ignored` after changing it.
#[test]
#[ignore = "writes the fixture file"]
fn regenerate_parquet_fixture() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("amount", DataType::Float64, false),
        Field::new("status", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["o1", "o2"])) as ArrayRef,
            Arc::new(StringArray::from(vec!["c1", "c2"])),
            Arc::new(Float64Array::from(vec![19.99, 5.5])),
            Arc::new(StringArray::from(vec!["paid", "refunded"])),
        ],
    )
    .unwrap();
    let dir = root().join("tests/fixtures/data/E0607-float-for-decimal/data");
    std::fs::create_dir_all(&dir).unwrap();
    write_parquet(&dir.join("orders.parquet"), &batch);
}

const SCHEMA: &str = r#"
entity customer {
  key id: text
  region: one of EMEA, NA, LATAM, APAC
  arr: decimal
  seats: integer
  score: number optional
  signup_date: date
  last_login: timestamp optional
  email_opt_in: boolean
  tags: list of text
  note: text optional
}
"#;

/// A fresh temporary folder for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("segl-load-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Loads one customer file with the given settings; returns the batch and the rendered
/// diagnostics.
fn load_one(
    name: &str,
    file: &str,
    bytes: &[u8],
    adjust: impl FnOnce(&mut DataSource),
) -> (Option<RecordBatch>, String) {
    let report = check_project(&ProjectInput {
        name: "p".into(),
        config: None,
        rules: vec![RawFile::new("schema.segl", SCHEMA.as_bytes().to_vec())],
    });
    assert!(report.diagnostics.is_empty());
    let program = report.program.unwrap();
    let mut sources = report.sources;
    let dir = temp_dir(name);
    let path = dir.join(file);
    std::fs::write(&path, bytes).unwrap();
    let mut source = DataSource::new(segl::ir::EntityId(0), path, file);
    adjust(&mut source);
    let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let loaded = load(
        &program,
        &[source],
        &Usage::everything(&program),
        &zone,
        &mut sources,
    );
    let shown = render::plain(&loaded.diagnostics, &sources);
    let batch = loaded
        .dataset
        .table(segl::ir::EntityId(0))
        .map(|t| t.batch.clone());
    let _ = std::fs::remove_dir_all(&dir);
    (batch, shown)
}

fn col<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> &'a T {
    batch
        .column_by_name(name)
        .unwrap()
        .as_any()
        .downcast_ref::<T>()
        .unwrap()
}

fn micros(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_microsecond()
}

fn list_values(batch: &RecordBatch, name: &str, row: usize) -> Option<Vec<String>> {
    let list = col::<ListArray>(batch, name);
    if list.is_null(row) {
        return None;
    }
    let values = list.value(row);
    let s = values.as_any().downcast_ref::<StringArray>().unwrap();
    Some((0..s.len()).map(|i| s.value(i).to_owned()).collect())
}

/// Checks the three rows every happy-path file holds.
fn check_customers(batch: &RecordBatch) {
    assert_eq!(batch.num_rows(), 3);
    let names: Vec<&str> = batch
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(
        names,
        [
            "id",
            "region",
            "arr",
            "seats",
            "score",
            "signup_date",
            "last_login",
            "email_opt_in",
            "tags",
            "note"
        ]
    );
    let id = col::<StringArray>(batch, "id");
    assert_eq!((id.value(0), id.value(1), id.value(2)), ("c1", "c2", "c3"));
    // `NA` is North America, not "unknown".
    let region = col::<StringArray>(batch, "region");
    assert_eq!(
        (region.value(0), region.value(1), region.value(2)),
        ("EMEA", "NA", "APAC")
    );
    let arr = col::<Decimal128Array>(batch, "arr");
    assert_eq!(arr.data_type(), &DataType::Decimal128(38, 3));
    assert_eq!(
        (arr.value(0), arr.value(1), arr.value(2)),
        (1_200_500, 900_000, 19_999)
    );
    let seats = col::<Int64Array>(batch, "seats");
    assert_eq!((seats.value(0), seats.value(1), seats.value(2)), (3, -1, 0));
    let score = col::<Float64Array>(batch, "score");
    assert_eq!(score.value(0), 0.5);
    assert!(score.is_null(1) && score.is_null(2));
    let signup = col::<Date32Array>(batch, "signup_date");
    assert_eq!(signup.value(0), 19_737); // 2024-01-15
    let login = col::<TimestampMicrosecondArray>(batch, "last_login");
    assert_eq!(
        login.data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
    // Without an offset: Berlin time (CET in January).
    assert_eq!(login.value(0), micros("2026-01-31T08:30:00Z"));
    // With an offset, and with a fraction and a space.
    assert_eq!(login.value(1), micros("2026-07-01T10:00:00.25Z"));
    assert!(login.is_null(2));
    let opt_in = col::<BooleanArray>(batch, "email_opt_in");
    assert!(opt_in.value(0) && !opt_in.value(1) && opt_in.value(2));
    assert_eq!(
        list_values(batch, "tags", 0),
        Some(vec!["vip".into(), "beta".into()])
    );
    assert_eq!(list_values(batch, "tags", 1), Some(vec![]));
    assert_eq!(list_values(batch, "tags", 2), Some(vec!["a, b".into()]));
    let note = col::<StringArray>(batch, "note");
    assert_eq!(note.value(0), "says \"hi\",\nthen leaves");
    assert!(note.is_null(1));
    assert_eq!(note.value(2), "N/A");
}

const CSV: &str = "id,region,arr,seats,score,signup_date,last_login,email_opt_in,tags,note\r\n\
c1,EMEA,1200.50,3,0.5,2024-01-15,2026-01-31T09:30:00,TRUE,vip|beta,\"says \"\"hi\"\",\nthen leaves\"\r\n\
c2,NA,900,-1,,2024-02-01,2026-07-01 12:00:00.25+02:00,false,,-\r\n\
c3,APAC,19.999,+0,-,2024-03-01,,True,\"a, b\",N/A\r\n";

#[test]
fn csv_with_bom_crlf_quotes_and_missing_markers() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(CSV.as_bytes());
    let (batch, shown) = load_one("csv", "customers.csv", &bytes, |s| {
        s.missing = vec!["-".into()];
    });
    assert_eq!(shown, "");
    check_customers(&batch.unwrap());
}

#[test]
fn csv_with_semicolons() {
    let text = CSV
        .replace(',', ";")
        .replace("\"a; b\"", "\"a, b\"")
        .replace("\"says \"\"hi\"\";", "\"says \"\"hi\"\",");
    let (batch, shown) = load_one("semicolon", "customers.csv", text.as_bytes(), |s| {
        s.delimiter = b';';
        s.missing = vec!["-".into()];
    });
    assert_eq!(shown, "");
    check_customers(&batch.unwrap());
}

#[test]
fn without_missing_markers_a_dash_is_a_value() {
    let (batch, shown) = load_one("dash", "customers.csv", CSV.as_bytes(), |_| {});
    assert!(batch.is_none());
    assert!(
        shown.contains("`-` in column `score` is not a number"),
        "{shown}"
    );
}

const NDJSON: &str = r#"{"id": "c1", "region": "EMEA", "arr": 1200.50, "seats": 3, "score": 0.5, "signup_date": "2024-01-15", "last_login": "2026-01-31T09:30:00", "email_opt_in": true, "tags": ["vip", "beta"], "note": "says \"hi\",\nthen leaves", "extra": {"ignored": 1}}
{"id": "c2", "region": "NA", "arr": "900", "seats": -1, "score": null, "signup_date": "2024-02-01", "last_login": "2026-07-01 12:00:00.25+02:00", "email_opt_in": false, "tags": []}

{"id": "c3", "region": "APAC", "arr": 19.999, "seats": 0, "signup_date": "2024-03-01", "email_opt_in": true, "tags": ["a, b"], "note": "N/A"}
"#;

#[test]
fn ndjson_reads_numbers_exactly() {
    let (batch, shown) = load_one("ndjson", "customers.ndjson", NDJSON.as_bytes(), |_| {});
    assert_eq!(shown, "");
    check_customers(&batch.unwrap());
}

#[test]
fn parquet_with_narrow_integers_and_zoned_timestamps() {
    use datafusion::arrow::array::{Int32Array, ListBuilder, StringBuilder};
    let mut tags = ListBuilder::new(StringBuilder::new());
    tags.values().append_value("vip");
    tags.values().append_value("beta");
    tags.append(true);
    tags.append(true);
    tags.values().append_value("a, b");
    tags.append(true);
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("region", DataType::Utf8, false),
        Field::new("arr", DataType::Decimal128(10, 3), false),
        Field::new("seats", DataType::Int32, false),
        Field::new("score", DataType::Float64, true),
        Field::new("signup_date", DataType::Date32, false),
        Field::new(
            "last_login",
            DataType::Timestamp(TimeUnit::Millisecond, Some("+02:00".into())),
            true,
        ),
        Field::new("email_opt_in", DataType::Boolean, false),
        Field::new("tags", tags.finish().data_type().clone(), true),
        Field::new("note", DataType::Utf8, true),
        Field::new("unused", DataType::Utf8, true),
    ]));
    let mut tags = ListBuilder::new(StringBuilder::new());
    tags.values().append_value("vip");
    tags.values().append_value("beta");
    tags.append(true);
    tags.append(true);
    tags.values().append_value("a, b");
    tags.append(true);
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["c1", "c2", "c3"])) as ArrayRef,
            Arc::new(StringArray::from(vec!["EMEA", "NA", "APAC"])),
            Arc::new(
                Decimal128Array::from(vec![1_200_500, 900_000, 19_999])
                    .with_precision_and_scale(10, 3)
                    .unwrap(),
            ),
            Arc::new(Int32Array::from(vec![3, -1, 0])),
            Arc::new(Float64Array::from(vec![Some(0.5), None, None])),
            Arc::new(Date32Array::from(vec![19_737, 19_754, 19_783])),
            Arc::new(
                datafusion::arrow::array::TimestampMillisecondArray::from(vec![
                    Some(micros("2026-01-31T08:30:00Z") / 1000),
                    Some(micros("2026-07-01T10:00:00.25Z") / 1000),
                    None,
                ])
                .with_timezone("+02:00"),
            ),
            Arc::new(BooleanArray::from(vec![true, false, true])),
            Arc::new(tags.finish()),
            Arc::new(StringArray::from(vec![
                Some("says \"hi\",\nthen leaves"),
                None,
                Some("N/A"),
            ])),
            Arc::new(StringArray::from(vec![Some("x"), None, None])),
        ],
    )
    .unwrap();
    let dir = temp_dir("parquet-src");
    let path = dir.join("customers.parquet");
    write_parquet(&path, &batch);
    let bytes = std::fs::read(&path).unwrap();
    let (batch, shown) = load_one("parquet", "customers.parquet", &bytes, |_| {});
    assert_eq!(shown, "");
    check_customers(&batch.unwrap());
    assert_eq!(
        DataFormat::from_path("x.PARQUET"),
        Some(DataFormat::Parquet)
    );
}

#[test]
fn data_section_problems_point_into_segl_toml() {
    let toml = "[data]\ncustomers = \"data/c.csv\"\ncustomer = { path = \"data/c.xlsx\" }\n";
    let report = check_project(&ProjectInput {
        name: "p".into(),
        config: Some(RawFile::new("segl.toml", toml.as_bytes().to_vec())),
        rules: vec![RawFile::new("schema.segl", SCHEMA.as_bytes().to_vec())],
    });
    let (specs, diagnostics) = data_sources(
        report.config.as_ref().unwrap(),
        &report.sources,
        report.program.as_ref().unwrap(),
        "p",
    );
    assert!(specs.is_empty());
    insta::assert_snapshot!(render::plain(&diagnostics, &report.sources), @r#"
    error[E0002]: segl cannot tell the format of `data/c.xlsx` from its name
      --> segl.toml:3:12
      3 | customer = { path = "data/c.xlsx" }
        |            ^^^^^^^^^^^^^^^^^^^^^^^^ unknown file extension
      help: data files end in `.csv`, `.tsv`, `.txt`, `.parquet`, `.ndjson`, `.jsonl` or `.json`

    error[E0306]: `customers` in `[data]` is not an entity of the schema
      --> segl.toml:2:1
      2 | customers = "data/c.csv"
        | ^^^^^^^^^ unknown entity
      help: did you mean `customer`?
      note: the entities are `customer`
      fix: replace `customers` with `customer`
    "#);
}

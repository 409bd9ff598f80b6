//! Parquet files read piece by piece while evaluating (`engine::load::stream`): the same
//! results and the same diagnostics as files held whole, however the records fall into pieces.
//! (The differential property test also runs every generated program piece by piece.)

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Decimal128Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{Field, Schema};
use segl::check::{ProjectInput, RawFile, check_project};
use segl::diagnostics::render;
use segl::engine::load::stream::Streaming;
use segl::engine::load::{DataSource, load, load_streaming};
use segl::engine::lower::streaming::streamable;
use segl::engine::lower::{EngineError, Request, evaluate};
use segl::engine::{AsOf, RunSettings};
use segl::ir::{EntityId, Program};
use segl::source::SourceMap;

const RULES: &str = r#"
entity customer {
  key id: text
  region: one of EMEA, NA
  orders: many order by customer_id
}

entity order {
  key id: text
  customer_id: text
  amount: decimal
  status: one of paid, refunded
}

segment big_buyers {
  where sum(orders.amount where status is paid) > 100
}

segment emea {
  where region is EMEA
}
"#;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("segl-stream-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut writer =
        datafusion::parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

fn texts(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn money(cents: &[Option<i128>]) -> ArrayRef {
    Arc::new(
        Decimal128Array::from(cents.to_vec())
            .with_precision_and_scale(10, 2)
            .unwrap(),
    )
}

fn program(rules: &str) -> (Program, SourceMap) {
    let report = check_project(&ProjectInput {
        name: "p".into(),
        config: None,
        rules: vec![RawFile::new("rules.segl", rules.as_bytes().to_vec())],
    });
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    (report.program.unwrap(), report.sources)
}

fn settings() -> RunSettings {
    let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    RunSettings {
        as_of: AsOf::end_of_day(jiff::civil::date(2026, 11, 20), zone).unwrap(),
        params: Default::default(),
    }
}

/// The customers and orders files; the orders have the problems `bad` asks for.
fn write_data(dir: &Path, bad: bool) -> Vec<DataSource> {
    write_parquet(
        &dir.join("customers.parquet"),
        vec![
            ("id", texts(&[Some("c1"), Some("c2"), Some("c3")])),
            ("region", texts(&[Some("EMEA"), Some("NA"), Some("EMEA")])),
        ],
    );
    let (ids, customers, amounts, statuses) = if bad {
        (
            vec![
                Some("o1"),
                Some("o2"),
                Some("o3"),
                Some("o2"),
                Some("o5"),
                Some("o6"),
            ],
            vec![
                Some("c1"),
                Some("c1"),
                Some("c9"),
                Some("c2"),
                Some("c3"),
                Some("c3"),
            ],
            vec![
                Some(8000),
                Some(5000),
                Some(100),
                None,
                Some(700),
                Some(900),
            ],
            vec![
                Some("paid"),
                Some("paid"),
                Some("paid"),
                Some("paid"),
                Some("lost"),
                Some("paid"),
            ],
        )
    } else {
        (
            vec![
                Some("o1"),
                Some("o2"),
                Some("o3"),
                Some("o4"),
                Some("o5"),
                Some("o6"),
            ],
            vec![
                Some("c1"),
                Some("c1"),
                Some("c9"),
                Some("c2"),
                Some("c3"),
                Some("c3"),
            ],
            vec![
                Some(8000),
                Some(5000),
                Some(100),
                Some(20000),
                Some(700),
                Some(900),
            ],
            vec![
                Some("paid"),
                Some("paid"),
                Some("paid"),
                Some("refunded"),
                Some("paid"),
                Some("paid"),
            ],
        )
    };
    write_parquet(
        &dir.join("orders.parquet"),
        vec![
            ("id", texts(&ids)),
            ("customer_id", texts(&customers)),
            ("amount", money(&amounts)),
            ("status", texts(&statuses)),
        ],
    );
    ["customers", "orders"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let file = format!("{name}.parquet");
            DataSource::new(EntityId::from_index(i), dir.join(&file), file)
        })
        .collect()
}

/// Evaluates with the streamable entities read two records at a time; the memberships as text,
/// or the rendered problems.
fn run_streamed(
    program: &Program,
    sources: &[DataSource],
    map: &mut SourceMap,
) -> Result<String, String> {
    let request = Request::default();
    let stream = Streaming {
        entities: streamable(program, &request),
        piece_rows: Some(2),
    };
    let loaded = load_streaming(
        program,
        sources,
        &request.usage(program),
        &stream,
        &settings().as_of.time_zone,
        map,
    );
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    match evaluate(program, &loaded.dataset, &settings(), &request) {
        Ok(e) => {
            let mut text = render::plain(&e.diagnostics, map);
            for m in &e.memberships {
                text.push_str(
                    &datafusion::arrow::util::pretty::pretty_format_batches(std::slice::from_ref(
                        &m.batch,
                    ))
                    .unwrap()
                    .to_string(),
                );
            }
            Ok(text)
        }
        Err(EngineError::Data(found)) => Err(render::plain(&found, map)),
        Err(e) => Err(e.to_string()),
    }
}

/// Loads everything whole and evaluates; the memberships as text, or the rendered problems.
fn run_whole(
    program: &Program,
    sources: &[DataSource],
    map: &mut SourceMap,
) -> Result<String, String> {
    let request = Request::default();
    let loaded = load(
        program,
        sources,
        &request.usage(program),
        &settings().as_of.time_zone,
        map,
    );
    if loaded
        .diagnostics
        .iter()
        .any(segl::diagnostics::Diagnostic::is_error)
    {
        return Err(render::plain(&loaded.diagnostics, map));
    }
    let e = evaluate(program, &loaded.dataset, &settings(), &request).unwrap();
    let mut text = render::plain(&loaded.diagnostics, map);
    for m in &e.memberships {
        text.push_str(
            &datafusion::arrow::util::pretty::pretty_format_batches(std::slice::from_ref(&m.batch))
                .unwrap()
                .to_string(),
        );
    }
    Ok(text)
}

#[test]
fn related_records_aggregated_over_pieces_give_the_whole_result() {
    let (program, map) = program(RULES);
    let streamed = streamable(&program, &Request::default());
    // The orders are only summed, so they are read piece by piece; the customers are their
    // parents, held whole.
    assert_eq!(streamed.len(), 1);
    assert!(streamed.contains(&EntityId::from_index(1)));
    let dir = temp_dir("good");
    let sources = write_data(&dir, false);
    let whole = run_whole(&program, &sources, &mut map.clone()).unwrap();
    let pieces = run_streamed(&program, &sources, &mut map.clone()).unwrap();
    assert_eq!(pieces, whole);
    // The order of c9 names a customer that is not in the data (W0600).
    assert!(pieces.contains("W0600"), "{pieces}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn problems_in_a_file_read_piece_by_piece_are_the_whole_file_problems() {
    let (program, map) = program(RULES);
    let dir = temp_dir("bad");
    let sources = write_data(&dir, true);
    let whole = run_whole(&program, &sources, &mut map.clone()).unwrap_err();
    let pieces = run_streamed(&program, &sources, &mut map.clone()).unwrap_err();
    // An unknown required amount in row 4, an undeclared status in row 5: found in different
    // pieces, reported with their rows in the file.
    for expected in ["E0604", "row 4", "E0605", "`lost`"] {
        assert!(pieces.contains(expected), "{expected} in:\n{pieces}");
    }
    // The key `o2` is used twice (rows 2 and 4), but the rules only add the orders up: their
    // keys are not read by a run (`segl check --data` reports the repeat).
    assert!(!pieces.contains("E0606"), "{pieces}");
    assert!(!whole.contains("E0606"), "{whole}");
    let lines = |text: &str| {
        let mut l: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with("error"))
            .map(str::to_owned)
            .collect();
        l.sort();
        l
    };
    assert_eq!(lines(&pieces), lines(&whole), "{pieces}\n---\n{whole}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn records_evaluated_one_by_one_read_piece_by_piece() {
    let rules = RULES.replace(
        "segment big_buyers {\n  where sum(orders.amount where status is paid) > 100\n}",
        "",
    );
    let (program, map) = program(&rules);
    // Only `emea` is left: customers are evaluated record by record, so they are streamed.
    let streamed = streamable(&program, &Request::default());
    assert!(streamed.contains(&EntityId::from_index(0)), "{streamed:?}");
    let dir = temp_dir("rows");
    let sources = write_data(&dir, false);
    let whole = run_whole(&program, &sources, &mut map.clone()).unwrap();
    let pieces = run_streamed(&program, &sources, &mut map.clone()).unwrap();
    assert_eq!(pieces, whole);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_key_repeated_in_another_piece_is_found() {
    let rules = RULES.replace(
        "segment big_buyers {\n  where sum(orders.amount where status is paid) > 100\n}",
        "",
    );
    let (program, map) = program(&rules);
    let dir = temp_dir("repeat");
    let sources = write_data(&dir, false);
    // `c1` in rows 1 and 4: the first and the second piece of two records.
    write_parquet(
        &dir.join("customers.parquet"),
        vec![
            (
                "id",
                texts(&[Some("c1"), Some("c2"), Some("c3"), Some("c1")]),
            ),
            (
                "region",
                texts(&[Some("EMEA"), Some("NA"), Some("EMEA"), Some("NA")]),
            ),
        ],
    );
    let whole = run_whole(&program, &sources, &mut map.clone()).unwrap_err();
    let pieces = run_streamed(&program, &sources, &mut map.clone()).unwrap_err();
    assert!(
        pieces.contains("E0606") && pieces.contains("`c1`"),
        "{pieces}"
    );
    assert_eq!(pieces, whole);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn segl_run_on_parquet_gives_what_it_gives_on_csv() {
    // The example project's data as Parquet (the same generator and seed as rules/data):
    // every related file is read piece by piece, and every result is the same.
    let dir = temp_dir("example");
    let segl = env!("CARGO_BIN_EXE_segl");
    let out = std::process::Command::new(segl)
        .args([
            "generate",
            "--customers",
            "3000",
            "--seed",
            "1",
            "--format",
            "parquet",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = |extra: &[String], file: &Path| {
        let out = std::process::Command::new(segl)
            .current_dir(root())
            .args(["run", "rules/", "--color", "never", "--out"])
            .arg(file)
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read_to_string(file).unwrap()
    };
    let csv = run(&[], &dir.join("from-csv.csv"));
    let mut extra = Vec::new();
    for (entity, file) in [
        ("customer", "customers"),
        ("order", "orders"),
        ("company", "companies"),
        ("ticket", "tickets"),
        ("event", "events"),
    ] {
        extra.push("--data".to_owned());
        extra.push(format!(
            "{entity}={}",
            dir.join(format!("{file}.parquet")).display()
        ));
    }
    let parquet = run(&extra, &dir.join("from-parquet.csv"));
    assert_eq!(parquet, csv);
    let _ = std::fs::remove_dir_all(&dir);
}

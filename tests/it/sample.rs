//! The sample-data generator: determinism, the committed `rules/data/` sample, the shape of the
//! data (unknowns, ties, calendar edge cases), the schema it follows and `segl generate`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use datafusion::arrow::array::{
    Array, AsArray, Date32Array, Decimal128Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::record_batch::RecordBatch;
use segl::check::{ProjectInput, RawFile, check_project};
use segl::engine::types::arrow_type;
use segl::sample::{BatchWriter, DataFormat, Sample, SampleEntity, SampleOptions};

/// The command documented in `rules/data/README.md`, as options.
fn committed_options() -> SampleOptions {
    SampleOptions::new(3_000, 1, jiff::civil::date(2026, 11, 20))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every entity's file contents, generated in memory.
fn encode(options: &SampleOptions, format: DataFormat) -> Vec<(SampleEntity, Vec<u8>)> {
    let sample = Sample::new(options.clone());
    let mut writers: Vec<(SampleEntity, BatchWriter<Vec<u8>>)> = SampleEntity::ALL
        .iter()
        .map(|&e| {
            (
                e,
                BatchWriter::new(format, e.arrow_schema(), Vec::new()).unwrap(),
            )
        })
        .collect();
    let companies = sample.companies().unwrap();
    for chunk in std::iter::once(None).chain(sample.chunks().map(|c| Some(c.unwrap()))) {
        for (entity, writer) in &mut writers {
            let batch = match &chunk {
                None if *entity == SampleEntity::Company => &companies,
                None => continue,
                Some(chunk) => match chunk.batch(*entity) {
                    Some(batch) => batch,
                    None => continue,
                },
            };
            writer.write(batch).unwrap();
        }
    }
    writers
        .into_iter()
        .map(|(e, w)| (e, w.finish().unwrap()))
        .collect()
}

/// All batches of one entity, concatenated.
fn batches(options: &SampleOptions, entity: SampleEntity) -> Vec<RecordBatch> {
    let sample = Sample::new(options.clone());
    if entity == SampleEntity::Company {
        return vec![sample.companies().unwrap()];
    }
    sample
        .chunks()
        .map(|c| c.unwrap().batch(entity).unwrap().clone())
        .collect()
}

#[test]
fn same_options_give_the_same_bytes_whatever_the_chunk_size() {
    let mut small = SampleOptions::new(700, 42, jiff::civil::date(2026, 11, 20));
    let big = small.clone();
    small.chunk_size = 37;
    for format in [DataFormat::Csv, DataFormat::Ndjson, DataFormat::Parquet] {
        let a = encode(&big, format);
        let b = encode(&big, format);
        let c = encode(&small, format);
        assert_eq!(a, b, "two runs differ for {format:?}");
        if format != DataFormat::Parquet {
            // Parquet row groups follow the batches, so only the text formats are compared.
            assert_eq!(a, c, "chunk size changed the output for {format:?}");
        }
    }
    let other_seed = SampleOptions::new(700, 43, jiff::civil::date(2026, 11, 20));
    assert_ne!(
        encode(&big, DataFormat::Csv),
        encode(&other_seed, DataFormat::Csv)
    );
}

#[test]
fn committed_sample_is_what_the_documented_command_generates() {
    let readme = std::fs::read_to_string(root().join("rules/data/README.md")).unwrap();
    assert!(readme.contains("generate --customers 3000 --seed 1 --out rules/data"));
    for (entity, bytes) in encode(&committed_options(), DataFormat::Csv) {
        let path = root().join(format!("rules/data/{}.csv", entity.file_stem()));
        let committed = std::fs::read(&path).unwrap();
        assert!(
            committed == bytes,
            "{} differs from a fresh generation: run `cargo run --release -- generate \
             --customers 3000 --seed 1 --out rules/data` and commit the result",
            path.display()
        );
    }
    let total: u64 = std::fs::read_dir(root().join("rules/data"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(total < 5 * 1024 * 1024, "rules/data is {total} bytes");
}

#[test]
fn segl_toml_points_at_the_sample() {
    let toml = std::fs::read_to_string(root().join("rules/segl.toml")).unwrap();
    for entity in SampleEntity::ALL {
        let line = format!("{} = \"data/{}.csv\"", entity.name(), entity.file_stem());
        assert!(toml.contains(&line), "segl.toml lacks `{line}`");
    }
}

fn strings(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let column = batch.column_by_name(name).unwrap();
    let array = column.as_any().downcast_ref::<StringArray>().unwrap();
    (0..array.len())
        .map(|i| array.is_valid(i).then(|| array.value(i).to_owned()))
        .collect()
}

#[test]
fn the_sample_has_gaps_ties_and_calendar_edges() {
    let options = committed_options();
    let customers = batches(&options, SampleEntity::Customer);
    let orders = batches(&options, SampleEntity::Order);
    let companies = batches(&options, SampleEntity::Company);
    let rows: usize = customers.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, 3_000);
    assert_eq!(companies[0].num_rows(), 300);

    let mut ids = Vec::new();
    let mut unknown_login = 0;
    let mut feb29 = 0;
    let mut arr_values = Vec::new();
    let mut regions = HashSet::new();
    let mut countries = HashSet::new();
    for batch in &customers {
        ids.extend(strings(batch, "id").into_iter().flatten());
        regions.extend(strings(batch, "region").into_iter().flatten());
        countries.extend(strings(batch, "country").into_iter().flatten());
        unknown_login += batch.column_by_name("last_login").unwrap().null_count();
        let birthdays = batch.column_by_name("birthday").unwrap();
        let birthdays = birthdays.as_any().downcast_ref::<Date32Array>().unwrap();
        for d in birthdays.iter().flatten() {
            let date = jiff::civil::date(1970, 1, 1)
                .checked_add(jiff::Span::new().days(i64::from(d)))
                .unwrap();
            if date.month() == 2 && date.day() == 29 {
                feb29 += 1;
            }
        }
        let arr = batch.column_by_name("arr").unwrap();
        arr_values.extend(
            arr.as_any()
                .downcast_ref::<Decimal128Array>()
                .unwrap()
                .iter()
                .flatten(),
        );
    }
    assert!(
        unknown_login > 30,
        "{unknown_login} customers without a login"
    );
    assert!(feb29 >= 1, "no 29 February birthday");
    assert!(
        regions.contains("NA") && countries.contains("NA"),
        "`NA` is a value"
    );

    // Ties in ARR among paying customers (round prices).
    let paying: Vec<i128> = arr_values.iter().copied().filter(|a| *a > 0).collect();
    let distinct: HashSet<i128> = paying.iter().copied().collect();
    assert!(distinct.len() * 2 < paying.len(), "too few ties in arr");

    // Some customers never ordered; orders fall on month ends; nothing after the as-of date.
    let mut buyers = HashSet::new();
    let mut month_ends = 0;
    let as_of_day = 20_777; // 2026-11-20
    for batch in &orders {
        buyers.extend(strings(batch, "customer_id").into_iter().flatten());
        let days = batch.column_by_name("placed_on").unwrap();
        for d in days
            .as_any()
            .downcast_ref::<Date32Array>()
            .unwrap()
            .iter()
            .flatten()
        {
            assert!(d <= as_of_day, "an order after the as-of date");
            let next = jiff::civil::date(1970, 1, 1)
                .checked_add(jiff::Span::new().days(i64::from(d) + 1))
                .unwrap();
            if next.day() == 1 {
                month_ends += 1;
            }
        }
    }
    let without_orders = ids.iter().filter(|id| !buyers.contains(*id)).count();
    assert!(
        without_orders > 300,
        "{without_orders} customers without orders"
    );
    assert!(month_ends > 50, "{month_ends} orders on a month's last day");

    let end_of_as_of = (i64::from(as_of_day) + 1) * 86_400_000_000;
    for batch in batches(&options, SampleEntity::Event) {
        let at = batch.column_by_name("occurred_at").unwrap();
        let at = at
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap();
        assert!(at.iter().flatten().all(|t| t < end_of_as_of));
    }
}

fn rules_project() -> ProjectInput {
    let dir = root().join("rules");
    let mut rules = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "segl"))
        .collect();
    names.sort();
    for path in names {
        let name = format!("rules/{}", path.file_name().unwrap().to_string_lossy());
        rules.push(RawFile::new(name, std::fs::read(&path).unwrap()));
    }
    ProjectInput {
        name: "rules".into(),
        config: Some(RawFile::new(
            "rules/segl.toml",
            std::fs::read(dir.join("segl.toml")).unwrap(),
        )),
        rules,
    }
}

#[test]
fn columns_follow_the_example_schema() {
    let report = check_project(&rules_project());
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    assert!(report.config.unwrap().data.contains_key("customer"));
    let program = report.program.unwrap();
    for entity in SampleEntity::ALL {
        let def = program
            .entities
            .iter()
            .find(|e| e.name == entity.name())
            .unwrap();
        let schema = entity.arrow_schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let expected: Vec<&str> = def.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, expected, "fields of {}", entity.name());
        for (field, column) in def.fields.iter().zip(schema.fields()) {
            assert_eq!(
                column.data_type(),
                &arrow_type(&field.ty, 2),
                "{}",
                field.name
            );
            assert_eq!(column.is_nullable(), field.optional, "{}", field.name);
        }
    }
}

#[test]
fn enum_columns_hold_declared_values_and_keys_are_unique() {
    let report = check_project(&rules_project());
    let program = report.program.unwrap();
    let options = SampleOptions::new(2_000, 7, jiff::civil::date(2026, 11, 20));
    for entity in SampleEntity::ALL {
        let def = program
            .entities
            .iter()
            .find(|e| e.name == entity.name())
            .unwrap();
        let mut keys = HashSet::new();
        for batch in batches(&options, entity) {
            for key in strings(&batch, "id").into_iter().flatten() {
                assert!(keys.insert(key), "duplicate key in {}", entity.name());
            }
            for field in &def.fields {
                if let segl::ir::Type::Enum(id) = &field.ty {
                    let allowed: HashSet<&str> = program.enums[id.0 as usize]
                        .values
                        .iter()
                        .map(String::as_str)
                        .collect();
                    for v in strings(&batch, &field.name).into_iter().flatten() {
                        assert!(allowed.contains(v.as_str()), "{}: {v}", field.name);
                    }
                }
                if !field.optional {
                    assert_eq!(batch.column_by_name(&field.name).unwrap().null_count(), 0);
                }
            }
            if entity == SampleEntity::Customer {
                let tags = batch.column_by_name("tags").unwrap();
                assert!(
                    tags.as_list::<i32>()
                        .iter()
                        .flatten()
                        .all(|l| l.null_count() == 0)
                );
            }
        }
    }
}

fn segl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_segl"))
        .args(args)
        .output()
        .unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("segl-sample-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn generate_writes_every_format_and_reports_it() {
    for (format, ext) in [("csv", "csv"), ("parquet", "parquet"), ("ndjson", "ndjson")] {
        let dir = temp_dir(format);
        let out = segl(&[
            "generate",
            "--customers",
            "200",
            "--seed",
            "3",
            "--format",
            format,
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(stdout.contains("customers."), "{stdout}");
        assert!(stdout.contains("(200 rows"), "{stdout}");
        assert_eq!(
            listing(&dir),
            ["companies", "customers", "events", "orders", "tickets"]
                .map(|s| format!("{s}.{ext}"))
                .to_vec()
        );
        assert!(
            out.stderr.is_empty(),
            "no progress bar when stderr is not a terminal"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    let dir = temp_dir("ndjson-shape");
    let out = segl(&[
        "generate",
        "--customers",
        "50",
        "--format",
        "ndjson",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(dir.join("customers.ndjson")).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["id"], "C0000001");
    assert!(first["interests"].is_array());
    assert!(text.contains("\"company_id\":null"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn generate_leaves_nothing_half_written_on_failure() {
    let dir = temp_dir("blocked");
    std::fs::create_dir_all(&dir).unwrap();
    // A folder where a file should go makes the final rename fail.
    std::fs::create_dir_all(dir.join("events.csv/inside")).unwrap();
    let out = segl(&[
        "generate",
        "--customers",
        "20",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("events.csv"));
    let left = listing(&dir);
    assert!(left.iter().all(|n| !n.contains(".tmp")), "{left:?}");
    let _ = std::fs::remove_dir_all(&dir);

    let out = segl(&["generate", "--as-of", "2026-02-30", "--out", "x"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Every segment of `rules/` matches some records of the committed sample but not all, and every
/// tier value occurs, according to the reference evaluator.
#[test]
fn every_rule_of_the_example_project_is_exercised_by_the_sample() {
    use datafusion::arrow::array::BooleanArray;
    use datafusion::arrow::compute::concat_batches;
    use segl::engine::{AsOf, Dataset, RunSettings, Table};
    use segl::ir::EntityId;

    let report = check_project(&rules_project());
    let program = report.program.unwrap();
    let options = committed_options();
    let mut data = Dataset::new();
    for entity in SampleEntity::ALL {
        let index = program
            .entities
            .iter()
            .position(|e| e.name == entity.name())
            .unwrap();
        let parts = batches(&options, entity);
        let batch = concat_batches(&entity.arrow_schema(), &parts).unwrap();
        data.insert(Table {
            entity: EntityId::from_index(index),
            batch,
            origin: format!("rules/data/{}.csv", entity.file_stem()),
        });
    }
    let settings = RunSettings {
        as_of: AsOf::end_of_day(
            options.as_of,
            jiff::tz::TimeZone::get("Europe/Berlin").unwrap(),
        )
        .unwrap(),
        params: std::collections::HashMap::new(),
    };
    let memberships = segl::explain::evaluate(&program, &data, &settings).unwrap();
    let mut problems = Vec::new();
    for segment in &program.segments {
        let membership = memberships
            .iter()
            .find(|m| m.entity == segment.entity)
            .unwrap();
        let column = membership.batch.column_by_name(&segment.name).unwrap();
        let column = column.as_any().downcast_ref::<BooleanArray>().unwrap();
        let members = column.true_count();
        if members == 0 || members == column.len() {
            problems.push(format!("{}: {members} of {}", segment.name, column.len()));
        }
    }
    for tiers in &program.tier_sets {
        let membership = memberships
            .iter()
            .find(|m| m.entity == tiers.entity)
            .unwrap();
        let seen: HashSet<String> = strings(&membership.batch, &tiers.name)
            .into_iter()
            .flatten()
            .collect();
        for value in &program.enums[tiers.enum_id.index()].values {
            if !seen.contains(value) {
                problems.push(format!("{}: no record is {value}", tiers.name));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

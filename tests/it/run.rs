//! Evaluation end to end: the engine and the reference evaluator agree on every segment, tier and
//! score of `rules/` over its sample data, and `segl run` behaves as documented.

use std::path::PathBuf;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
use segl::check::{ProjectInput, RawFile, check_project};
use segl::engine::load::load;
use segl::engine::lower::{Request, evaluate};
use segl::engine::{AsOf, Dataset, Membership, RunSettings};
use segl::ir::Program;
use segl::ir::usage::Usage;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The example project, checked and with its data loaded.
pub fn example() -> (Program, Dataset, RunSettings) {
    let dir = root().join("rules");
    let mut rules = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "segl"))
        .collect();
    names.sort();
    for p in names {
        let shown = format!("rules/{}", p.file_name().unwrap().to_string_lossy());
        rules.push(RawFile::new(shown, std::fs::read(&p).unwrap()));
    }
    let config = RawFile::new(
        "rules/segl.toml",
        std::fs::read(dir.join("segl.toml")).unwrap(),
    );
    let report = check_project(&ProjectInput {
        name: "rules".into(),
        config: Some(config),
        rules,
    });
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    let program = report.program.unwrap();
    let config = report.config.unwrap();
    let mut sources = report.sources;
    let (specs, found) = segl::project::data::data_sources(&config, &sources, &program, "rules");
    assert!(found.is_empty(), "{found:?}");
    let data: Vec<_> = specs.iter().map(|s| s.resolve(&dir)).collect();
    let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let loaded = load(
        &program,
        &data,
        &Usage::everything(&program),
        &tz,
        &mut sources,
    );
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let settings = RunSettings {
        as_of: AsOf::end_of_day(jiff::civil::date(2026, 11, 20), tz).unwrap(),
        params: Default::default(),
    };
    (program, loaded.dataset, settings)
}

/// Every cell of a membership table as text, column by column.
fn cells(batch: &RecordBatch) -> Vec<(String, Vec<String>)> {
    let schema = batch.schema();
    (0..batch.num_columns())
        .map(|c| {
            let col = batch.column(c);
            let values = (0..batch.num_rows())
                .map(|r| array_value_to_string(col, r).unwrap())
                .collect();
            (schema.field(c).name().clone(), values)
        })
        .collect()
}

fn same(program: &Program, engine: &[Membership], reference: &[Membership]) {
    assert_eq!(engine.len(), reference.len(), "one table per entity");
    for (e, r) in engine.iter().zip(reference) {
        assert_eq!(e.entity, r.entity);
        let entity = &program.entity(e.entity).name;
        let (ec, rc) = (cells(&e.batch), cells(&r.batch));
        let names =
            |c: &[(String, Vec<String>)]| c.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&ec), names(&rc), "{entity}: columns");
        let keys = &ec[0].1;
        for ((name, ev), (_, rv)) in ec.iter().zip(&rc) {
            let differing: Vec<String> = ev
                .iter()
                .zip(rv)
                .enumerate()
                .filter(|(_, (a, b))| a != b)
                .take(5)
                .map(|(i, (a, b))| format!("{}: engine {a}, reference {b}", keys[i]))
                .collect();
            assert!(
                differing.is_empty(),
                "{entity}.{name}: the engine and the reference evaluator disagree:\n{}",
                differing.join("\n")
            );
        }
    }
}

#[test]
fn engine_and_reference_agree_on_the_example_project() {
    let (program, data, settings) = example();
    let engine = evaluate(&program, &data, &settings, &Request::default()).unwrap();
    let reference = segl::explain::evaluate(&program, &data, &settings).unwrap();
    same(&program, &engine.memberships, &reference);
}

#[test]
fn every_example_segment_matches_some_but_not_all() {
    let (program, data, settings) = example();
    let engine = evaluate(&program, &data, &settings, &Request::default()).unwrap();
    let summary = segl::engine::summary::summarize(&program, &engine);
    for e in &summary.entities {
        for s in &e.segments {
            assert!(
                s.members > 0 && s.members < e.records,
                "{} matches {} of {} records",
                s.name,
                s.members,
                e.records
            );
        }
        for t in &e.tier_sets {
            for tier in &t.tiers {
                assert!(tier.records > 0, "nobody is in {}.{}", t.name, tier.tier);
            }
        }
    }
}

/// `segl` run from the repository's root.
fn segl(args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_segl"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn run_prints_a_summary_of_the_example_project() {
    let (code, out, err) = segl(&["run", "rules/"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("as of 2026-11-20 (Europe/Berlin)\n"),
        "{out}"
    );
    // The summary without its timing line is stable: a results snapshot.
    let stable: Vec<&str> = out.lines().filter(|l| !l.starts_with("done in")).collect();
    insta::assert_snapshot!("run_summary", stable.join("\n"));
}

#[test]
fn run_as_json_with_a_chosen_date_and_parameter() {
    let (code, out, err) = segl(&[
        "run",
        "rules/",
        "--format",
        "json",
        "--as-of",
        "2026-06-30",
        "--param",
        "min_enterprise_arr=1",
    ]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["as_of"], "2026-06-30");
    assert_eq!(doc["time_zone"], "Europe/Berlin");
    let customers = &doc["results"]["entities"][0];
    assert_eq!(customers["entity"], "customer");
    assert_eq!(customers["records"], 3000);
    assert!(customers["segments"].as_array().unwrap().len() > 30);
}

#[test]
fn run_writes_membership_files_atomically_in_each_format() {
    let dir = std::env::temp_dir().join(format!("segl-run-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for ext in ["csv", "parquet", "ndjson"] {
        let out = dir.join(format!("members.{ext}"));
        let out_text = out.display().to_string();
        let (code, stdout, err) = segl(&[
            "run",
            "rules/",
            "--segment",
            "enterprise_emea",
            "--segment",
            "rfm_class",
            "--segment",
            "top_accounts_by_arr",
            "--columns",
            "arr,lifetime_value",
            "--out",
            &out_text,
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(
            stdout.contains(&format!("wrote {out_text} (3,000 rows)")),
            "{stdout}"
        );
        assert!(out.exists());
        // Segments of another entity go to a file of their own.
        assert!(dir.join(format!("members.company.{ext}")).exists());
        if ext == "csv" {
            let text = std::fs::read_to_string(&out).unwrap();
            let header = text.lines().next().unwrap();
            assert_eq!(header, "id,enterprise_emea,rfm_class,arr,lifetime_value");
            assert_eq!(text.lines().count(), 3001);
        }
    }
    // Nothing half-written is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A folder that does not exist: exit 2, and no file appears.
    let missing = dir.join("no-such-folder/members.csv");
    let (code, _, err) = segl(&["run", "rules/", "--out", &missing.display().to_string()]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot write"), "{err}");
    assert!(!missing.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn run_explains_wrong_options() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["--param", "min_enterprise_ar=5"],
            "did you mean `min_enterprise_arr`?",
        ),
        (
            &["--param", "min_enterprise_arr=lots"],
            "is not a decimal number",
        ),
        (
            &["--segment", "enterprise_emeaa"],
            "did you mean `enterprise_emea`?",
        ),
        (&["--columns", "arrr"], "did you mean `arr`?"),
        (
            &["--out", "members.txt"],
            "must end in .csv, .parquet, .ndjson or .jsonl",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["run", "rules/"];
        args.extend_from_slice(extra);
        let (code, _, err) = segl(&args);
        assert_eq!(code, 2, "{extra:?}: {err}");
        assert!(err.contains(expected), "{extra:?}: {err}");
    }
}

#[test]
fn run_stops_on_bad_data_with_the_row_and_column() {
    let (code, out, err) = segl(&["run", "tests/fixtures/run/bad-data"]);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("error[E0603]"), "{err}");
    assert!(err.contains("customers.csv:3"), "{err}");
    assert!(out.is_empty());
}

#[test]
fn why_explains_one_customer() {
    let (code, out, err) = segl(&[
        "why",
        "C0000036",
        "-p",
        "rules",
        "--segment",
        "feature_explorers",
    ]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("why_feature_explorers", out);
    let (code, _, err) = segl(&["why", "C000036", "-p", "rules"]);
    assert_eq!(code, 2);
    assert!(err.contains("there is no customer with the key"), "{err}");
}

/// A related record whose condition is unknown does not pass it, so `every` is false for its
/// owner, in the engine as in the reference evaluator (the fixture's own test runs on the
/// reference evaluator).
#[test]
fn every_counts_a_record_with_an_unknown_condition_against_it() {
    let dir = root().join("tests/fixtures/run/every-with-unknown");
    let out = std::env::temp_dir().join(format!("segl-every-{}.csv", std::process::id()));
    let (code, _, stderr) = segl(&["run", dir.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "id,only_gift_orders,no_gift_orders\nc1,false,false\nc2,true,false\n"
    );
    let _ = std::fs::remove_file(&out);
    let (code, stdout, stderr) = segl(&["test", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

/// An average of exact decimals is their exact sum divided once by the count: the same records
/// in another order in the data file give the same average (a floating-point running sum gave
/// 250.00000000000003 for one order and 250 for the other).
#[test]
fn an_average_of_money_does_not_depend_on_record_order() {
    let dir = root().join("tests/fixtures/run/average-of-money");
    let out = std::env::temp_dir().join(format!("segl-avg-{}.csv", std::process::id()));
    let (code, _, stderr) = segl(&["run", dir.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "id,average_above_250,average_at_least_250\nc1,false,true\nc2,false,true\n"
    );
    let _ = std::fs::remove_file(&out);
    let (code, stdout, stderr) = segl(&["test", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

/// `ntile(k)` is computed in whole numbers, as documented (`floor(percentile * k) + 1`): the
/// customer at exactly the 57th percentile is in group 58, in the engine and in `segl why`
/// (floating point gave 0.57 * 100 = 56.99999999999999 and group 57).
#[test]
fn ntile_is_exact_at_group_boundaries() {
    let dir = root().join("tests/fixtures/run/ntile-exact");
    let out = std::env::temp_dir().join(format!("segl-ntile-{}.csv", std::process::id()));
    let (code, _, stderr) = segl(&["run", dir.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    let members = |column: usize| -> Vec<String> {
        text.lines()
            .skip(1)
            .filter(|l| l.split(',').nth(column) == Some("true"))
            .map(|l| l.split(',').next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(members(1), vec!["c057"], "group_58");
    assert_eq!(members(2), vec!["c056"], "group_57");
    let (code, stdout, stderr) = segl(&[
        "why",
        "c057",
        "-p",
        dir.to_str().unwrap(),
        "--segment",
        "group_58",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("segment group_58: in"), "{stdout}");
}

/// `is known` and `is unknown` apply to optional yes/no fields too (they were refused with
/// E0403, "a yes/no condition cannot be used here"), in the engine and in `segl test`.
#[test]
fn an_optional_yes_no_field_can_be_tested_for_a_value() {
    let dir = root().join("tests/fixtures/run/known-yes-no");
    let out = std::env::temp_dir().join(format!("segl-known-{}.csv", std::process::id()));
    let (code, _, stderr) = segl(&["run", dir.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "id,consent_unknown,consent_given_or_refused\nc1,false,true\nc2,false,true\nc3,true,false\n"
    );
    let _ = std::fs::remove_file(&out);
    let (code, stdout, stderr) = segl(&["test", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

/// A date moved by a length computed from the data (`first_order + (first_order - signed_up)`)
/// moves by the length's whole days, rounded down, in the engine as in `segl test` (the engine
/// used to stop with "Cannot coerce arithmetic expression Date32 + Duration").
#[test]
fn a_date_moves_by_a_computed_length() {
    let dir = root().join("tests/fixtures/run/date-plus-computed-length");
    let out = std::env::temp_dir().join(format!("segl-datelen-{}.csv", std::process::id()));
    let (code, _, stderr) = segl(&["run", dir.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "id,second_wait_ends_this_month,started_before_signup,\
         signup_moved_by_ticket_time_is_november_12\n\
         a,true,true,false\nb,false,false,true\nc,false,false,true\n"
    );
    let _ = std::fs::remove_file(&out);
    let (code, stdout, stderr) = segl(&["test", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

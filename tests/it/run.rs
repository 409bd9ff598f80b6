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
    let loaded = load(&program, &data, &tz, &mut sources);
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

//! Lints: the reasoning over conditions, levels, allow comments and the catalogue.

use segl::check::{ProjectInput, RawFile, Report, check_project};
use segl::diagnostics::render;

fn schema() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/schema.segl")).unwrap()
}

fn check(rules: &str) -> Report {
    check_project(&ProjectInput {
        name: "t".into(),
        config: None,
        rules: vec![
            RawFile::new("schema.segl", schema()),
            RawFile::new("rules.segl", rules),
        ],
    })
}

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use segl::diagnostics::Code;
use segl::engine::{AsOf, Dataset, RunSettings};
use segl::ir::{EntityId, Program};
use segl::lint::{self, Verdict};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn codes(report: &Report) -> Vec<&'static str> {
    report.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

/// The segments `s0`, `s1`... with the given conditions, checked against the example schema.
fn segments(conditions: &[&str]) -> Program {
    let rules: String = conditions
        .iter()
        .enumerate()
        .map(|(i, c)| format!("segment s{i} {{\n  where {c}\n}}\n"))
        .collect();
    let report = check(&rules);
    assert!(
        !report.diagnostics.iter().any(|d| d.is_error()),
        "{}",
        render::plain(&report.diagnostics, &report.sources)
    );
    report.program.unwrap()
}

/// Conditions and what the lints must decide about them, on the example schema (`arr`, `seats`,
/// `plan`, `signup_date` are required; `nps`, `last_login` and `company.*` can be unknown).
const TABLE: &[(&str, Verdict)] = &[
    ("arr > 100 and arr < 50", Verdict::NeverTrue),
    ("arr >= 100 and arr <= 100", Verdict::Depends),
    ("arr > 100 and arr <= 100", Verdict::NeverTrue),
    ("arr > 0 or arr <= 0", Verdict::AlwaysTrue),
    ("arr > 0 or arr < 0", Verdict::Depends),
    ("nps > 5 or nps <= 5", Verdict::Depends),
    ("nps is known or nps is unknown", Verdict::AlwaysTrue),
    ("nps is unknown and nps > 3", Verdict::NeverTrue),
    ("nps != 3 or nps = 3", Verdict::AlwaysTrue),
    ("not (nps = 3) and nps = 3", Verdict::NeverTrue),
    ("seats > 5 and seats < 6", Verdict::NeverTrue),
    ("seats > 5.5 and seats < 6", Verdict::Depends),
    ("seats >= 5 and seats <= 5", Verdict::Depends),
    ("seats is between 10 and 5", Verdict::NeverTrue),
    (
        "seats is between 5 and 10 and seats is not between 0 and 20",
        Verdict::NeverTrue,
    ),
    (
        "seats is not between 5 and 10 or seats > 4",
        Verdict::AlwaysTrue,
    ),
    ("plan is pro and plan is enterprise", Verdict::NeverTrue),
    (
        "plan is any of [pro, enterprise] and plan is none of [pro, enterprise]",
        Verdict::NeverTrue,
    ),
    (
        "plan is any of [free, starter, pro, enterprise]",
        Verdict::AlwaysTrue,
    ),
    ("plan is pro or plan is not pro", Verdict::AlwaysTrue),
    (
        "region is EMEA or region is NA or region is LATAM",
        Verdict::Depends,
    ),
    ("country = \"DE\" and country = \"FR\"", Verdict::NeverTrue),
    ("country = \"DE\" or country != \"DE\"", Verdict::AlwaysTrue),
    (
        "country is any of [\"DE\", \"FR\"] and country != \"DE\"",
        Verdict::Depends,
    ),
    (
        "signup_date < 2025-01-01 and signup_date > 2025-12-31",
        Verdict::NeverTrue,
    ),
    (
        "signup_date < 2025-01-02 and signup_date > 2025-01-01",
        Verdict::NeverTrue,
    ),
    (
        "signup_date <= 2025-01-02 and signup_date > 2025-01-01",
        Verdict::Depends,
    ),
    (
        "company.employees > 10 or company.employees <= 10",
        Verdict::Depends,
    ),
    ("email_opt_in or not email_opt_in", Verdict::AlwaysTrue),
    ("email_opt_in and not email_opt_in", Verdict::NeverTrue),
    (
        "email_opt_in = true and email_opt_in = false",
        Verdict::NeverTrue,
    ),
    ("in segment s0 and not in segment s0", Verdict::NeverTrue),
    (
        "last_login in last 30 days or not (last_login in last 30 days)",
        Verdict::AlwaysTrue,
    ),
    (
        "last_login in last 30 days and last_login is more than 60 days ago",
        Verdict::Depends,
    ),
    (
        "percentile of arr >= 80% and percentile of arr < 50%",
        Verdict::NeverTrue,
    ),
    (
        "percentile of arr >= 0% or percentile of arr < 0%",
        Verdict::Depends,
    ),
    ("arr * 2 > 10 and arr * 2 < 5", Verdict::NeverTrue),
    ("arr > seats", Verdict::Depends),
    ("100 < arr and arr < 50", Verdict::NeverTrue),
    ("true", Verdict::AlwaysTrue),
];

#[test]
fn conditions_get_the_right_verdict() {
    let conditions: Vec<&str> = TABLE.iter().map(|(c, _)| *c).collect();
    let program = segments(&conditions);
    let mut wrong = Vec::new();
    for ((text, expected), seg) in TABLE.iter().zip(&program.segments) {
        let got = lint::verdict(&program, &seg.condition);
        if got != *expected {
            wrong.push(format!("{text}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The example project's program and data, loaded once.
fn example() -> &'static (Program, Dataset, RunSettings) {
    static DATA: OnceLock<(Program, Dataset, RunSettings)> = OnceLock::new();
    DATA.get_or_init(|| {
        let (diagnostics, _, dataset) = crate::load::load_project(&root().join("rules"));
        assert!(diagnostics.is_empty());
        let report = check_dir(&root().join("rules"), &[]);
        let as_of = jiff::civil::date(2026, 11, 20);
        let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        let settings = RunSettings {
            as_of: AsOf::end_of_day(as_of, tz).unwrap(),
            params: std::collections::HashMap::new(),
        };
        (report.program.unwrap(), dataset.unwrap(), settings)
    })
}

/// Checks a project folder, with extra rule files added.
fn check_dir(dir: &Path, extra: &[(&str, &str)]) -> Report {
    let mut rules = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "segl"))
        .collect();
    entries.sort();
    for p in entries {
        let name = format!("rules/{}", p.file_name().unwrap().to_string_lossy());
        rules.push(RawFile::new(name, std::fs::read(&p).unwrap()));
    }
    for (name, text) in extra {
        rules.push(RawFile::new(*name, *text));
    }
    check_project(&ProjectInput {
        name: "rules".into(),
        config: Some(RawFile::new(
            "rules/segl.toml",
            std::fs::read(dir.join("segl.toml")).unwrap(),
        )),
        rules,
    })
}

/// Evaluates segments `s0`, `s1`... (checked with the example schema) over the example data and
/// returns, per segment, its number of members.
fn members(program: &Program) -> Vec<usize> {
    let (_, data, settings) = example();
    let out = segl::explain::evaluate(program, data, settings).unwrap();
    let customers = out.iter().find(|m| m.entity == EntityId(0)).unwrap();
    (0..program.segments.len())
        .map(|i| {
            let column = customers.batch.column(i + 1);
            let values = column
                .as_any()
                .downcast_ref::<datafusion::arrow::array::BooleanArray>()
                .unwrap();
            values.true_count()
        })
        .collect()
}

fn assert_sound(program: &Program) {
    let (_, data, _) = example();
    let total = data.table(EntityId(0)).unwrap().batch.num_rows();
    let counts = members(program);
    for (seg, count) in program.segments.iter().zip(counts) {
        match lint::verdict(program, &seg.condition) {
            Verdict::NeverTrue => assert_eq!(count, 0, "{} is said never true", seg.name),
            Verdict::AlwaysTrue => {
                assert_eq!(count, total, "{} is said always true", seg.name);
            }
            Verdict::Depends | Verdict::TooLarge => {}
        }
    }
}

#[test]
fn verdicts_agree_with_the_reference_evaluator_on_the_example_data() {
    let conditions: Vec<&str> = TABLE
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| !c.contains("in segment"))
        .collect();
    let program = segments(&conditions);
    assert_eq!(program.entities[0].name, "customer");
    assert_sound(&program);
}

#[test]
fn the_example_project_has_no_lint_findings() {
    let report = check_dir(&root().join("rules"), &[]);
    assert!(
        report.diagnostics.is_empty(),
        "{}",
        render::plain(&report.diagnostics, &report.sources)
    );
}

#[test]
fn with_data_a_negation_says_how_many_records_have_no_value() {
    let mut report = check_dir(
        &root().join("rules"),
        &[(
            "extra.segl",
            "segment not_ten {\n  title \"Not ten\"\n  description \"d\"\n  where nps != 10\n}\n",
        )],
    );
    assert_eq!(codes(&report), ["W0705"]);
    assert!(report.diagnostics[0].notes.is_empty());
    let (_, data, _) = example();
    let expected = data
        .table(EntityId(0))
        .unwrap()
        .unknown_count(segl::ir::FieldId(
            u32::try_from(
                report.program.as_ref().unwrap().entities[0]
                    .fields
                    .iter()
                    .position(|f| f.name == "nps")
                    .unwrap(),
            )
            .unwrap(),
        ))
        .unwrap();
    assert!(expected > 0);
    report.lint(Some(data), Vec::new());
    assert_eq!(codes(&report), ["W0705"]);
    let total = data.table(EntityId(0)).unwrap().batch.num_rows();
    assert_eq!(
        report.diagnostics[0].notes,
        [format!(
            "in the data, {} of {} customer records have no `nps`",
            segl::diagnostics::thousands(expected as u64),
            segl::diagnostics::thousands(total as u64)
        )]
    );
    // Calling it again gives the same result, not the lints twice.
    report.lint(Some(data), Vec::new());
    assert_eq!(codes(&report), ["W0705"]);
}

#[test]
fn levels_and_allow_comments_apply_to_checker_warnings_too() {
    let rules = "segment no_email {\n  where email is unknown\n}\nsegment no_email_2 {\n  where email is unknown # segl: allow W0100 because kept for the migration\n}\n";
    assert_eq!(codes(&check(rules)), ["W0100"]);
    let with_level = |level: &str| {
        check_project(&ProjectInput {
            name: "t".into(),
            config: Some(RawFile::new(
                "segl.toml",
                format!("[lints]\nunknown-test-on-required-field = \"{level}\"\n"),
            )),
            rules: vec![
                RawFile::new("schema.segl", schema()),
                RawFile::new("rules.segl", rules),
            ],
        })
    };
    let denied = with_level("deny");
    assert_eq!(codes(&denied), ["W0100"]);
    assert!(denied.diagnostics[0].is_error());
    assert_eq!(denied.summary.errors, 1);
    let allowed = with_level("allow");
    assert!(allowed.diagnostics.is_empty(), "{:?}", codes(&allowed));
}

#[test]
fn an_allow_comment_covers_only_its_line_or_the_next() {
    let rules =
        "# segl: allow W0705 because not this segment\n\nsegment a {\n  where nps != 1\n}\n";
    let report = check(rules);
    assert_eq!(codes(&report), ["W0711", "W0705"]);
    let rules = "segment a {\n  where nps != 1 and nps != 2 # segl: allow negation-includes-unknown because both\n}\n";
    let report = check(rules);
    assert!(report.diagnostics.is_empty(), "{:?}", codes(&report));
}

#[test]
fn lint_catalogue_is_current() {
    let path = root().join("docs/lints.md");
    let generated = lint::catalogue();
    if std::env::var_os("SEGL_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == generated,
        "docs/lints.md is out of date with the code registry; regenerate it with\n  SEGL_UPDATE_DOCS=1 cargo test --test it lint_catalogue"
    );
    for info in segl::diagnostics::REGISTRY {
        if info.severity == segl::diagnostics::Severity::Warning {
            assert!(
                lint::info(info.code).is_some(),
                "{} has no lint name",
                info.name
            );
        }
    }
    assert_eq!(lint::find("never-true"), Some(Code::W0700));
    assert_eq!(lint::find("w0705"), Some(Code::W0705));
}

// Generated conditions over the example schema.

fn leaf() -> BoxedStrategy<String> {
    let n = || {
        prop_oneof![
            Just("0"),
            Just("5"),
            Just("10"),
            Just("50"),
            Just("100"),
            Just("9")
        ]
    };
    let op = || {
        prop_oneof![
            Just("="),
            Just("!="),
            Just("<"),
            Just("<="),
            Just(">"),
            Just(">=")
        ]
    };
    prop_oneof![
        (op(), n()).prop_map(|(o, v)| format!("seats {o} {v}")),
        (op(), n()).prop_map(|(o, v)| format!("nps {o} {v}")),
        (op(), n()).prop_map(|(o, v)| format!("arr {o} {v}")),
        (op(), n()).prop_map(|(o, v)| format!("company.employees {o} {v}")),
        (n(), n()).prop_map(|(a, b)| format!("nps is between {a} and {b}")),
        (n(), n()).prop_map(|(a, b)| format!("seats is not between {a} and {b}")),
        prop_oneof![Just("free"), Just("pro"), Just("enterprise")]
            .prop_map(|p| format!("plan is {p}")),
        Just("plan is any of [pro, enterprise]".to_owned()),
        Just("plan is none of [free]".to_owned()),
        Just("nps is known".to_owned()),
        Just("nps is unknown".to_owned()),
        Just("email_opt_in".to_owned()),
        Just("country = \"DE\"".to_owned()),
        Just("signup_date < 2025-06-01".to_owned()),
        Just("last_login in last 30 days".to_owned()),
    ]
    .boxed()
}

fn condition() -> BoxedStrategy<String> {
    leaf()
        .prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
                inner.prop_map(|a| format!("not ({a})")),
            ]
        })
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Lints never panic on generated programs, and what they call never or always true is
    /// never contradicted by the reference evaluator over the example data.
    #[test]
    fn lints_are_sound_and_never_panic(
        conditions in proptest::collection::vec(condition(), 1..5),
        rows in proptest::collection::vec(condition(), 1..4),
    ) {
        let mut rules: String = conditions
            .iter()
            .enumerate()
            .map(|(i, c)| format!("segment s{i} {{\n  where {c}\n}}\n"))
            .collect();
        rules.push_str("tiers t {\n");
        for (i, r) in rows.iter().enumerate() {
            rules.push_str(&format!("  r{i} when {r}\n"));
        }
        rules.push_str("  rest otherwise\n}\n");
        let report = check(&rules);
        prop_assert!(!report.diagnostics.iter().any(|d| d.is_error()), "{}", render::plain(&report.diagnostics, &report.sources));
        let _ = render::plain(&report.diagnostics, &report.sources);
        let program = report.program.unwrap();
        assert_sound(&program);
    }
}

#[test]
fn deny_warnings_makes_warnings_fail_the_check() {
    let fixture = root().join("tests/fixtures/errors/W0705-not-equal-on-optional.segl");
    let path = fixture.to_str().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_segl"))
            .args(args)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(run(&["check", "--format", "plain", path]), Some(4));
    assert_eq!(
        run(&["check", "--format", "plain", "--deny-warnings", path]),
        Some(1)
    );
    let clean = root().join("rules");
    assert_eq!(
        run(&["check", "--deny-warnings", clean.to_str().unwrap()]),
        Some(0)
    );
}

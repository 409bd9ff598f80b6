//! `segl test`: runs the tests written in rule files on the reference evaluator, compares every
//! expectation with what the rules say, and measures which conditions the tests exercised.
//!
//! Given a checked program, [`run`] builds each test's data (its written-out records and its
//! fixture files, see [`data`]), evaluates each expectation and explains failures with the
//! `segl why` trace of the record. A failed expectation is an ordinary [`Diagnostic`] (E0800),
//! so every renderer can show it. Only loading fixture files touches the file system, through
//! [`crate::engine::load`].

pub mod coverage;
pub mod data;
pub mod report;

use std::collections::HashMap;

use crate::diagnostics::{Code, Diagnostic};
use crate::engine::{AsOf, Dataset, RunSettings};
use crate::explain::{Item as WhyItem, Probe, render, why};
use crate::ir::{EntityId, Expectation, Program, SegmentId, TestDef, Value};
use crate::source::{SourceMap, Span};

pub use coverage::Coverage;

/// What one expectation asked and what the rules gave.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectationResult {
    /// The `expect` line.
    pub span: Span,
    /// The record's key.
    pub key: String,
    pub passed: bool,
    /// What was expected, in segl words: `in young_professionals`, `age_group is age_25_34`,
    /// `lead_score = 70`.
    pub expected: String,
    /// What the rules gave, in the same words.
    pub actual: String,
}

/// How one test went.
#[derive(Clone, Debug, PartialEq)]
pub struct TestResult {
    pub name: String,
    /// The file the test is written in, as named to the user.
    pub file: String,
    /// The test's name in the source.
    pub span: Span,
    pub expectations: Vec<ExpectationResult>,
    /// Failed expectations (E0800) and the problems that stopped the test (its data could not
    /// be built: E0801-E0804, E060x).
    pub diagnostics: Vec<Diagnostic>,
}

impl TestResult {
    /// Whether every expectation held and nothing stopped the test.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.diagnostics.iter().all(|d| !d.is_error())
    }

    /// True when the test could not run at all (its data had problems).
    #[must_use]
    pub fn broken(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| !matches!(d.code, Code::E0800 | Code::E0802) && d.is_error())
    }
}

/// Everything a test run found.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct TestRun {
    /// The tests run, in the order of files and then of the tests in them.
    pub tests: Vec<TestResult>,
    pub coverage: Coverage,
}

impl TestRun {
    /// Every diagnostic of every test.
    pub fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.tests.iter().flat_map(|t| t.diagnostics.iter())
    }

    #[must_use]
    pub fn expectations(&self) -> usize {
        self.tests.iter().map(|t| t.expectations.len()).sum()
    }

    #[must_use]
    pub fn failed_expectations(&self) -> usize {
        self.tests
            .iter()
            .flat_map(|t| &t.expectations)
            .filter(|e| !e.passed)
            .count()
    }

    #[must_use]
    pub fn failed_tests(&self) -> usize {
        self.tests.iter().filter(|t| !t.passed()).count()
    }
}

/// What a run needs besides the program.
pub struct Options<'a> {
    /// The project's time zone: test as-of dates and timestamps without offset are in it.
    pub time_zone: jiff::tz::TimeZone,
    /// Only tests whose name contains this text.
    pub filter: Option<&'a str>,
}

/// Runs the tests of a checked program. `sources` names the rule files (fixture paths are
/// relative to the file a test is written in) and receives excerpts of fixture-file problems.
#[must_use]
pub fn run(program: &Program, sources: &mut SourceMap, options: &Options<'_>) -> TestRun {
    let mut collector = coverage::Collector::new(program);
    let mut tests = Vec::new();
    let mut order: Vec<&TestDef> = program
        .tests
        .iter()
        .filter(|t| options.filter.is_none_or(|f| t.name.contains(f)))
        .collect();
    order.sort_by_cached_key(|t| (sources.name(t.span.file).to_owned(), t.span.start));
    for test in order {
        let file = sources.name(test.span.file).to_owned();
        let mut result = TestResult {
            name: test.name.clone(),
            file: file.clone(),
            span: test.span,
            expectations: Vec::new(),
            diagnostics: Vec::new(),
        };
        match data::test_dataset(program, test, &file, &options.time_zone, sources) {
            Err(problems) => result.diagnostics = problems,
            Ok(dataset) => match settings(test, &options.time_zone) {
                Ok(settings) => {
                    run_one(
                        program,
                        test,
                        &dataset,
                        &settings,
                        &mut collector,
                        &mut result,
                    );
                }
                Err(d) => result.diagnostics.push(*d),
            },
        }
        crate::diagnostics::sort(&mut result.diagnostics, sources);
        tests.push(result);
    }
    TestRun {
        tests,
        coverage: collector.coverage,
    }
}

/// The as-of moment and parameters of a test.
///
/// # Errors
/// When the as-of date cannot be placed in the time zone.
pub fn settings(
    test: &TestDef,
    time_zone: &jiff::tz::TimeZone,
) -> Result<RunSettings, Box<Diagnostic>> {
    let bad = |e: jiff::Error| {
        Box::new(Diagnostic::new(
            Code::E0804,
            test.span,
            format!("the as-of date of this test cannot be used: {e}"),
        ))
    };
    let as_of = match &test.as_of {
        Value::Timestamp(t) => {
            let instant = match t.offset_seconds {
                Some(secs) => {
                    jiff::tz::Offset::from_seconds(secs).and_then(|o| o.to_timestamp(t.civil))
                }
                None => time_zone.to_timestamp(t.civil),
            }
            .map_err(bad)?;
            AsOf {
                date: time_zone.to_datetime(instant).date(),
                instant,
                time_zone: time_zone.clone(),
            }
        }
        Value::Date(d) => AsOf::end_of_day(*d, time_zone.clone()).map_err(bad)?,
        _ => {
            return Err(Box::new(Diagnostic::new(
                Code::E0804,
                test.span,
                "this test has no usable as-of date",
            )));
        }
    };
    Ok(RunSettings {
        as_of,
        params: test.params.iter().cloned().collect::<HashMap<_, _>>(),
    })
}

/// The entity and key an expectation is about.
fn subject(program: &Program, test: &TestDef, e: &Expectation) -> (EntityId, String) {
    let (record, entity) = match e {
        Expectation::Member {
            record, segment, ..
        } => (
            *record,
            program.segments.get(segment.index()).map(|s| s.entity),
        ),
        Expectation::Tier {
            record, tier_set, ..
        } => (
            *record,
            program.tier_sets.get(tier_set.index()).map(|t| t.entity),
        ),
        Expectation::Score { record, score, .. } => {
            (*record, program.scores.get(score.index()).map(|s| s.entity))
        }
    };
    match test.records.get(record) {
        Some(r) => (r.entity, data::key_text(&r.key)),
        None => (
            entity.unwrap_or(EntityId(0)),
            test.file_keys
                .get(record.saturating_sub(test.records.len()))
                .cloned()
                .unwrap_or_default(),
        ),
    }
}

fn run_one(
    program: &Program,
    test: &TestDef,
    dataset: &Dataset,
    settings: &RunSettings,
    collector: &mut coverage::Collector<'_>,
    result: &mut TestResult,
) {
    let bug = |e: crate::explain::EvalError, span: Span| {
        Diagnostic::new(
            Code::E0804,
            span,
            format!("this test's records cannot be evaluated: {e}"),
        )
    };
    let probe = match Probe::new(program, dataset, settings) {
        Ok(p) => p,
        Err(e) => {
            result.diagnostics.push(bug(e, test.span));
            return;
        }
    };
    if let Err(e) = collector.observe(&probe) {
        result.diagnostics.push(bug(e, test.span));
        return;
    }
    for (expectation, span) in &test.expectations {
        let (entity, key) = subject(program, test, expectation);
        let row = match probe.find(entity, &key) {
            Ok(Some(row)) => row,
            Ok(None) => {
                let entity_name = program.entity(entity).name.clone();
                result.diagnostics.push(
                    Diagnostic::new(
                        Code::E0802,
                        *span,
                        format!("this test has no {entity_name} with the key `{key}`"),
                    )
                    .label("not in the test's records or data files")
                    .help(format!(
                        "write the record in the test, or add a {entity_name} `{key}` to the data file"
                    )),
                );
                result.expectations.push(ExpectationResult {
                    span: *span,
                    key,
                    passed: false,
                    expected: expected_words(program, expectation),
                    actual: "no such record".to_owned(),
                });
                continue;
            }
            Err(e) => {
                result.diagnostics.push(bug(e, *span));
                continue;
            }
        };
        match check(program, &probe, expectation, entity, row) {
            Ok((passed, expected, actual)) => {
                if !passed {
                    let trace = trace(program, dataset, settings, expectation, entity, &key);
                    result.diagnostics.push(failure(
                        program,
                        expectation,
                        *span,
                        &key,
                        &actual,
                        trace,
                    ));
                }
                result.expectations.push(ExpectationResult {
                    span: *span,
                    key,
                    passed,
                    expected,
                    actual,
                });
            }
            Err(e) => result.diagnostics.push(bug(e, *span)),
        }
    }
}

/// Whether an expectation holds, with the expected and actual values in segl words.
fn check(
    program: &Program,
    probe: &Probe<'_>,
    e: &Expectation,
    entity: EntityId,
    row: usize,
) -> Result<(bool, String, String), crate::explain::EvalError> {
    Ok(match e {
        Expectation::Member {
            segment, expected, ..
        } => {
            let name = segment_name(program, *segment);
            let member = match program.segments.get(segment.index()) {
                Some(s) => probe.holds(&s.condition, entity, row)?,
                None => false,
            };
            let words = |m: bool| {
                if m {
                    format!("in {name}")
                } else {
                    format!("not in {name}")
                }
            };
            (member == *expected, words(*expected), words(member))
        }
        Expectation::Tier {
            tier_set, value, ..
        } => {
            let set = program.tier_sets.get(tier_set.index());
            let set_name = set.map_or("?", |t| t.name.as_str());
            let row_name = |i: Option<usize>| {
                i.and_then(|i| set.and_then(|t| t.rows.get(i)))
                    .map_or_else(|| "no tier".to_owned(), |r| r.name.clone())
            };
            let chosen = probe.tier(*tier_set, entity, row)?;
            (
                chosen == Some(*value as usize),
                format!("{set_name} is {}", row_name(Some(*value as usize))),
                format!("{set_name} is {}", row_name(chosen)),
            )
        }
        Expectation::Score { score, value, .. } => {
            let name = program
                .scores
                .get(score.index())
                .map_or("?", |s| s.name.as_str());
            let got = probe.score(*score, entity, row)?;
            let shown =
                got.map_or_else(|| "too many points to count".to_owned(), |v| v.to_string());
            (
                got == Some(*value),
                format!("{name} = {value}"),
                format!("{name} = {shown}"),
            )
        }
    })
}

fn segment_name(program: &Program, id: SegmentId) -> String {
    program
        .segments
        .get(id.index())
        .map_or_else(|| "?".to_owned(), |s| s.name.clone())
}

/// The `segl why` explanation of the record, limited to what the expectation is about.
fn trace(
    program: &Program,
    dataset: &Dataset,
    settings: &RunSettings,
    e: &Expectation,
    entity: EntityId,
    key: &str,
) -> Option<String> {
    let segment = match e {
        Expectation::Member { segment, .. } => Some(*segment),
        _ => None,
    };
    let mut explanation = why(program, dataset, settings, entity, key, segment).ok()?;
    explanation.items.retain(|item| match (item, e) {
        (WhyItem::Tiers { tier_set, .. }, Expectation::Tier { tier_set: want, .. }) => {
            tier_set == want
        }
        (WhyItem::Score { score, .. }, Expectation::Score { score: want, .. }) => score == want,
        (WhyItem::Segment { .. }, Expectation::Member { .. }) => true,
        _ => false,
    });
    Some(
        render(&explanation, program)
            .trim_end()
            .replace("\n\n", "\n"),
    )
}

/// The E0800 diagnostic of an expectation that does not hold.
fn failure(
    program: &Program,
    e: &Expectation,
    span: Span,
    key: &str,
    actual: &str,
    trace: Option<String>,
) -> Diagnostic {
    let (message, label) = match e {
        Expectation::Member {
            segment, expected, ..
        } => {
            let name = segment_name(program, *segment);
            if *expected {
                (
                    format!("expected `{key}` to be in `{name}`, but the record is not"),
                    "the record is not in this segment",
                )
            } else {
                (
                    format!("expected `{key}` not to be in `{name}`, but the record is"),
                    "the record is in this segment",
                )
            }
        }
        Expectation::Tier {
            tier_set, value, ..
        } => {
            let set = program.tier_sets.get(tier_set.index());
            let want = set
                .and_then(|t| t.rows.get(*value as usize))
                .map_or("?", |r| r.name.as_str());
            let got = actual.rsplit(" is ").next().unwrap_or(actual);
            (
                format!(
                    "expected `{key}` to be in the tier `{want}` of `{}`, but the record is in `{got}`",
                    set.map_or("?", |t| t.name.as_str())
                ),
                "the record is in another tier",
            )
        }
        Expectation::Score { score, value, .. } => {
            let got = actual.rsplit(" = ").next().unwrap_or(actual);
            (
                format!(
                    "expected `{key}` to score {value} on `{}`, but the record scores {got}",
                    program
                        .scores
                        .get(score.index())
                        .map_or("?", |s| s.name.as_str())
                ),
                "the record has another score",
            )
        }
    };
    let expected = expected_words(program, e);
    let mut d = Diagnostic::new(Code::E0800, span, message)
        .label(label)
        .note(format!("expected: {expected}\nactual:   {actual}"))
        .help("read the explanation below: fix the rule if it is wrong, or the expectation if the rule is right");
    if let Some(t) = trace {
        d = d.note(format!("why:\n{t}"));
    }
    d
}

fn expected_words(program: &Program, e: &Expectation) -> String {
    match e {
        Expectation::Member {
            segment, expected, ..
        } => {
            let name = segment_name(program, *segment);
            if *expected {
                format!("in {name}")
            } else {
                format!("not in {name}")
            }
        }
        Expectation::Tier {
            tier_set, value, ..
        } => {
            let set = program.tier_sets.get(tier_set.index());
            format!(
                "{} is {}",
                set.map_or("?", |t| t.name.as_str()),
                set.and_then(|t| t.rows.get(*value as usize))
                    .map_or("?", |r| r.name.as_str())
            )
        }
        Expectation::Score { score, value, .. } => format!(
            "{} = {value}",
            program
                .scores
                .get(score.index())
                .map_or("?", |s| s.name.as_str())
        ),
    }
}

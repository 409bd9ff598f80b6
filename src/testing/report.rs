//! Test results as text: human and plain (the failures as diagnostics, one line per test, the
//! coverage gaps and a summary line), JSON, and JUnit XML for CI servers.

use std::fmt::Write as _;

use super::coverage::{Coverage, ItemKind};
use super::{TestResult, TestRun};
use crate::diagnostics::render;
use crate::source::{SourceMap, Span};

/// `rules/tests.segl:12:3` for a span.
fn place(sources: &SourceMap, span: Span) -> (String, usize, usize) {
    let name = sources.name(span.file).to_owned();
    match sources.get(span.file) {
        Some(f) => {
            let at = f.line_col(span.start as usize);
            (name, at.line, at.column)
        }
        None => (name, 0, 0),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The last line: `7 tests, 112 expectations: 111 passed, 1 failed; coverage 100%`.
#[must_use]
pub fn summary_line(run: &TestRun) -> String {
    let failed = run.failed_expectations();
    let broken = run.tests.iter().filter(|t| t.broken()).count();
    let mut line = format!(
        "{}, {}: {} passed, {} failed",
        plural(run.tests.len(), "test", "tests"),
        plural(run.expectations(), "expectation", "expectations"),
        run.expectations() - failed,
        failed
    );
    if broken > 0 {
        let _ = write!(line, ", {} could not run", plural(broken, "test", "tests"));
    }
    let _ = write!(line, "; coverage {}", run.coverage.percent_text());
    line
}

/// One line per test: `ok    "name" (12 expectations)` or `FAILED "name" (2 of 12 failed)`.
#[must_use]
pub fn test_lines(run: &TestRun) -> String {
    let mut out = String::new();
    for t in &run.tests {
        let failed = t.expectations.iter().filter(|e| !e.passed).count();
        let (status, detail) = if t.broken() {
            ("error ", "could not run: see the problems above".to_owned())
        } else if failed > 0 || !t.passed() {
            (
                "FAILED",
                format!(
                    "{failed} of {} failed",
                    plural(t.expectations.len(), "expectation", "expectations")
                ),
            )
        } else {
            (
                "ok    ",
                plural(t.expectations.len(), "expectation", "expectations"),
            )
        };
        let _ = writeln!(out, "{status} {} {:?} ({detail})", t.file, t.name);
    }
    out
}

/// The coverage report: every condition, tier row and score rule not seen both true and false.
#[must_use]
pub fn coverage_text(coverage: &Coverage, sources: &SourceMap) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "coverage: {} of {} conditions, tier rows and score rules seen both true and false ({})",
        coverage.covered(),
        coverage.total(),
        coverage.percent_text()
    );
    for item in coverage.gaps() {
        let (file, line, column) = place(sources, item.span);
        let what = match item.kind {
            ItemKind::Condition => "segment",
            ItemKind::Where => "where in segment",
            ItemKind::TierRow | ItemKind::Otherwise => "tiers",
            ItemKind::ScoreRule => "score",
        };
        let _ = writeln!(
            out,
            "  {file}:{line}:{column}: {what} {}: `{}` {}",
            item.owner,
            item.text,
            item.missing()
        );
    }
    out
}

/// Human or plain text of one project's run: the failures and problems as diagnostics, one
/// line per test and, when asked, the coverage report. The summary line comes last, from
/// [`summary_line`] over every project.
#[must_use]
pub fn text(
    run: &TestRun,
    sources: &SourceMap,
    human: Option<bool>,
    show_coverage: bool,
) -> String {
    let diagnostics: Vec<_> = run.diagnostics().cloned().collect();
    let mut out = match human {
        Some(color) => render::human(&diagnostics, sources, color),
        None => render::plain(&diagnostics, sources),
    };
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str(&test_lines(run));
    if show_coverage {
        out.push('\n');
        out.push_str(&coverage_text(&run.coverage, sources));
    }
    out
}

/// The line saying coverage is below the minimum.
#[must_use]
pub fn below_minimum_line(coverage: &Coverage, minimum: f64) -> String {
    format!(
        "coverage {} is below the minimum of {}%",
        coverage.percent_text(),
        format_percent(minimum)
    )
}

/// Every project's tests and coverage as one run, for the summary line.
#[must_use]
pub fn combined(runs: &[&TestRun]) -> TestRun {
    let mut all = TestRun::default();
    for r in runs {
        all.tests.extend(r.tests.iter().cloned());
        all.coverage.items.extend(r.coverage.items.iter().cloned());
    }
    all
}

fn format_percent(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p}")
    }
}

/// Whether coverage reaches `minimum` percent, compared exactly.
#[must_use]
pub fn meets(coverage: &Coverage, minimum: f64) -> bool {
    #[allow(clippy::cast_precision_loss)]
    let covered = coverage.covered() as f64 * 100.0;
    #[allow(clippy::cast_precision_loss)]
    let needed = minimum * coverage.total() as f64;
    coverage.total() == 0 || covered >= needed
}

#[derive(serde::Serialize)]
struct JsonRun {
    projects: Vec<JsonProject>,
    /// Over all projects (without the gaps, listed per project).
    coverage: JsonCoverage,
    min_coverage: Option<f64>,
    summary: JsonSummary,
}

#[derive(serde::Serialize)]
struct JsonProject {
    name: String,
    tests: Vec<JsonTest>,
    coverage: JsonCoverage,
}

#[derive(serde::Serialize)]
struct JsonTest {
    name: String,
    file: String,
    line: usize,
    passed: bool,
    expectations: Vec<JsonExpectation>,
    diagnostics: Vec<render::JsonDiagnostic>,
}

#[derive(serde::Serialize)]
struct JsonExpectation {
    line: usize,
    key: String,
    passed: bool,
    expected: String,
    actual: String,
}

#[derive(serde::Serialize)]
struct JsonCoverage {
    covered: usize,
    total: usize,
    percent: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    gaps: Vec<JsonGap>,
}

#[derive(serde::Serialize)]
struct JsonGap {
    file: String,
    line: usize,
    column: usize,
    kind: ItemKind,
    owner: String,
    text: String,
    seen_true: bool,
    seen_false: bool,
}

#[derive(serde::Serialize)]
struct JsonSummary {
    tests: usize,
    failed_tests: usize,
    expectations: usize,
    passed: usize,
    failed: usize,
}

fn json_project(name: &str, run: &TestRun, sources: &SourceMap) -> JsonProject {
    let tests = run
        .tests
        .iter()
        .map(|t| JsonTest {
            name: t.name.clone(),
            file: t.file.clone(),
            line: place(sources, t.span).1,
            passed: t.passed(),
            expectations: t
                .expectations
                .iter()
                .map(|e| JsonExpectation {
                    line: place(sources, e.span).1,
                    key: e.key.clone(),
                    passed: e.passed,
                    expected: e.expected.clone(),
                    actual: e.actual.clone(),
                })
                .collect(),
            diagnostics: render::json_diagnostics(&t.diagnostics, sources),
        })
        .collect();
    let gaps = run
        .coverage
        .gaps()
        .map(|i| {
            let (file, line, column) = place(sources, i.span);
            JsonGap {
                file,
                line,
                column,
                kind: i.kind,
                owner: i.owner.clone(),
                text: i.text.clone(),
                seen_true: i.seen_true,
                seen_false: i.seen_false,
            }
        })
        .collect();
    JsonProject {
        name: name.to_owned(),
        tests,
        coverage: json_coverage(&run.coverage, gaps),
    }
}

fn json_coverage(c: &Coverage, gaps: Vec<JsonGap>) -> JsonCoverage {
    JsonCoverage {
        covered: c.covered(),
        total: c.total(),
        percent: (c.percent() * 100.0).floor() / 100.0,
        gaps,
    }
}

/// One JSON document: per project its tests, expectations, diagnostics and coverage gaps; then
/// the coverage and counts over all projects.
#[must_use]
pub fn json(runs: &[(&str, &TestRun, &SourceMap)], min_coverage: Option<f64>) -> String {
    let all = combined(&runs.iter().map(|(_, r, _)| *r).collect::<Vec<_>>());
    let failed = all.failed_expectations();
    let doc = JsonRun {
        projects: runs
            .iter()
            .map(|(name, run, sources)| json_project(name, run, sources))
            .collect(),
        coverage: json_coverage(&all.coverage, Vec::new()),
        min_coverage,
        summary: JsonSummary {
            tests: all.tests.len(),
            failed_tests: all.failed_tests(),
            expectations: all.expectations(),
            passed: all.expectations() - failed,
            failed,
        },
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}

/// Text made safe for XML: the five special characters escaped, and characters XML 1.0 does
/// not allow (most control characters) replaced by U+FFFD.
#[must_use]
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one `testsuite` per rule file, one `testcase` per test; a failed expectation is a
/// `failure`, a test that could not run an `error`, each with the plain text of its problems.
#[must_use]
pub fn junit(runs: &[(&TestRun, &SourceMap)]) -> String {
    let broken = |t: &&&TestResult| t.broken();
    let failing = |t: &&&TestResult| !t.passed() && !t.broken();
    let all: Vec<&TestResult> = runs.iter().flat_map(|(r, _)| r.tests.iter()).collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"segl\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
        all.len(),
        all.iter().filter(failing).count(),
        all.iter().filter(broken).count()
    );
    for (run, sources) in runs {
        junit_suites(&mut out, run, sources);
    }
    out.push_str("</testsuites>\n");
    out
}

fn junit_suites(out: &mut String, run: &TestRun, sources: &SourceMap) {
    let broken = |t: &&&TestResult| t.broken();
    let failing = |t: &&&TestResult| !t.passed() && !t.broken();
    let mut files: Vec<&str> = Vec::new();
    for t in &run.tests {
        if !files.contains(&t.file.as_str()) {
            files.push(&t.file);
        }
    }
    for file in files {
        let tests: Vec<&TestResult> = run.tests.iter().filter(|t| t.file == file).collect();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
            xml_escape(file),
            tests.len(),
            tests.iter().filter(failing).count(),
            tests.iter().filter(broken).count()
        );
        for t in tests {
            let (_, line, _) = place(sources, t.span);
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{line}\" assertions=\"{}\"",
                xml_escape(file),
                xml_escape(&t.name),
                xml_escape(file),
                t.expectations.len()
            );
            if t.passed() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            let body = render::plain(&t.diagnostics, sources);
            let first = t
                .diagnostics
                .iter()
                .find(|d| d.is_error())
                .map_or_else(String::new, |d| d.message.clone());
            let failed = t.expectations.iter().filter(|e| !e.passed).count();
            let (tag, message) = if t.broken() {
                ("error", first)
            } else if failed == 1 {
                ("failure", first)
            } else {
                (
                    "failure",
                    format!(
                        "{failed} of {} expectations failed: {first}",
                        t.expectations.len()
                    ),
                )
            };
            let code = t
                .diagnostics
                .iter()
                .find(|d| d.is_error())
                .map_or("E0800", |d| d.code.as_str());
            let _ = writeln!(
                out,
                "      <{tag} message=\"{}\" type=\"{code}\">{}</{tag}>",
                xml_escape(&message),
                xml_escape(body.trim_end())
            );
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
}

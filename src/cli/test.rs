//! `segl test`: checks the given projects, runs the tests written in their rule files and
//! reports failures, coverage and a summary.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{ColorChoice, Exit, files, print_out, print_usage_error};
use segl::check::check_project;
use segl::diagnostics::render;
use segl::testing::{self, Options, report};

/// How `segl test` prints its results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// Failures with source excerpts and explanations, coloured on a terminal
    Human,
    /// The same without colour or box drawing
    Plain,
    /// One JSON document
    Json,
    /// JUnit XML for CI servers
    Junit,
    /// A SARIF 2.1.0 log of the failures, for code scanning
    Sarif,
    /// GitHub Actions annotations on the failing `expect` lines
    Github,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Project folders (with `segl.toml`), folders of rule files, or `.segl` files
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Run only the tests whose name contains this text
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Print the coverage report: every condition, tier row and score rule the tests did not
    /// see both true and false
    #[arg(long)]
    coverage: bool,
    /// Fail (exit code 1) when coverage is below this percentage, e.g. `--min-coverage 90`
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    min_coverage: Option<f64>,
    /// How to print the results
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    format: TestFormat,
    /// When to colour human output (`NO_COLOR` in the environment also turns colour off)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

fn parse_percent(text: &str) -> Result<f64, String> {
    let trimmed = text.trim().trim_end_matches('%');
    match trimmed.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!(
            "`{text}` is not a percentage from 0 to 100, such as `90`"
        )),
    }
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            !no_color && std::io::stdout().is_terminal()
        }
    }
}

pub fn run(args: &TestArgs) -> Exit {
    let projects = match files::collect(&args.paths) {
        Ok(projects) => projects,
        Err(files::Problem(message)) => {
            print_usage_error(&message);
            return Exit::Usage;
        }
    };
    let color = args.format == TestFormat::Human && use_color(args.color);

    // Check first: tests only run on rules without errors.
    let mut checked = Vec::new();
    let mut check_errors = false;
    for input in &projects {
        let report = check_project(input);
        if report.diagnostics.iter().any(|d| d.is_error()) || report.program.is_none() {
            check_errors = true;
        }
        checked.push((input.name.clone(), report));
    }
    if check_errors {
        let text = match args.format {
            TestFormat::Json => render::json_document(&render::JsonDocument {
                diagnostics: checked
                    .iter()
                    .flat_map(|(_, r)| render::json_diagnostics(&r.diagnostics, &r.sources))
                    .collect(),
                summary: checked
                    .iter()
                    .fold(segl::check::Summary::default(), |s, (_, r)| {
                        s.plus(r.summary)
                    }),
            }),
            TestFormat::Sarif | TestFormat::Github => {
                let pairs: Vec<_> = checked
                    .iter()
                    .map(|(_, r)| (r.diagnostics.as_slice(), &r.sources))
                    .collect();
                if args.format == TestFormat::Sarif {
                    render::sarif(&pairs, env!("CARGO_PKG_VERSION"))
                } else {
                    let mut text = render::github(&pairs);
                    text.push_str("the rules have errors, so no test was run\n");
                    text
                }
            }
            _ => {
                let mut text = String::new();
                for (_, r) in &checked {
                    let shown = if args.format == TestFormat::Human {
                        render::human(&r.diagnostics, &r.sources, color)
                    } else {
                        render::plain(&r.diagnostics, &r.sources)
                    };
                    text.push_str(&shown);
                }
                text.push_str("the rules have errors, so no test was run\n");
                text
            }
        };
        if args.format == TestFormat::Junit {
            // A CI server reading JUnit gets the problems on standard error instead.
            eprint!("{text}");
        } else {
            print_out(&text);
        }
        return Exit::Errors;
    }

    let mut runs = Vec::new();
    for (name, report) in checked {
        let mut sources = report.sources;
        let Some(program) = report.program else {
            continue;
        };
        let time_zone = match report.config.as_ref().and_then(|c| c.time_zone.as_ref()) {
            Some((zone, _)) => match jiff::tz::TimeZone::get(zone) {
                Ok(tz) => tz,
                Err(e) => {
                    print_usage_error(&format!("the time zone `{zone}` cannot be used: {e}"));
                    return Exit::Usage;
                }
            },
            None => jiff::tz::TimeZone::UTC,
        };
        let options = Options {
            time_zone,
            filter: args.filter.as_deref(),
        };
        let run = testing::run(&program, &mut sources, &options);
        // Warnings found while checking are shown with the test results.
        let mut run = run;
        if !report.diagnostics.is_empty()
            && let Some(first) = run.tests.first_mut()
        {
            first.diagnostics.extend(report.diagnostics.iter().cloned());
            segl::diagnostics::sort(&mut first.diagnostics, &sources);
        }
        runs.push((name, run, sources));
    }

    let all = report::combined(&runs.iter().map(|(_, r, _)| r).collect::<Vec<_>>());
    let below = args
        .min_coverage
        .is_some_and(|m| !report::meets(&all.coverage, m));
    let text = match args.format {
        TestFormat::Json => report::json(
            &runs
                .iter()
                .map(|(n, r, s)| (n.as_str(), r, s))
                .collect::<Vec<_>>(),
            args.min_coverage,
        ),
        TestFormat::Junit => {
            report::junit(&runs.iter().map(|(_, r, s)| (r, s)).collect::<Vec<_>>())
        }
        TestFormat::Sarif | TestFormat::Github => {
            let found: Vec<Vec<_>> = runs
                .iter()
                .map(|(_, run, _)| run.diagnostics().cloned().collect())
                .collect();
            let pairs: Vec<_> = found
                .iter()
                .zip(&runs)
                .map(|(d, (_, _, sources))| (d.as_slice(), sources))
                .collect();
            if args.format == TestFormat::Sarif {
                render::sarif(&pairs, env!("CARGO_PKG_VERSION"))
            } else {
                let mut text = render::github(&pairs);
                if let Some(m) = args.min_coverage.filter(|_| below) {
                    text.push_str("::error title=coverage below the minimum::");
                    text.push_str(&render::escape_data(&report::below_minimum_line(
                        &all.coverage,
                        m,
                    )));
                    text.push('\n');
                }
                text.push_str(&report::summary_line(&all));
                text.push('\n');
                text
            }
        }
        TestFormat::Human | TestFormat::Plain => {
            let human = (args.format == TestFormat::Human).then_some(color);
            let mut text = String::new();
            for (_, run, sources) in &runs {
                text.push_str(&report::text(run, sources, human, args.coverage || below));
            }
            if let Some(m) = args.min_coverage.filter(|_| below) {
                text.push('\n');
                text.push_str(&report::below_minimum_line(&all.coverage, m));
                text.push('\n');
            }
            if all.tests.is_empty() {
                text.push_str(match &args.filter {
                    Some(_) => "\nno test name contains the filter text\n",
                    None => "\nthese rules have no tests yet: write one with `test \"NAME\" { ... }` (see docs/testing.md)\n",
                });
            }
            text.push('\n');
            text.push_str(&report::summary_line(&all));
            text.push('\n');
            text
        }
    };
    print_out(&text);
    if all.failed_tests() > 0 || below {
        Exit::Errors
    } else {
        Exit::Clean
    }
}

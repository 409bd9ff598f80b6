//! `segl check`: reads the given projects and rule files, checks them and prints what it found.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use clap::Args;

use super::project::{Progress, ProjectArgs, one_project, settle};
use super::{ColorChoice, Exit, Format, files, print_out, print_usage_error};
use segl::check::{Report, Summary, check_project};
use segl::diagnostics::{Diagnostic, render};
use segl::engine::load::load;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Project folders (with `segl.toml`), folders of rule files, or `.segl` files [default: .]
    paths: Vec<PathBuf>,
    /// Also check the rules against the project's data (`[data]` in `segl.toml`);
    /// `--data ENTITY=PATH` reads an entity's records from another file (repeatable)
    #[arg(long = "data", value_name = "ENTITY=PATH", num_args = 0..=1)]
    data: Option<Vec<String>>,
    /// With `--data`: the date to evaluate on (YYYY-MM-DD); default: `as_of` in `segl.toml`,
    /// else today
    #[arg(long, value_name = "DATE", requires = "data")]
    as_of: Option<String>,
    /// With `--data`: set a parameter, e.g. `--param min_arr=60000` (repeatable)
    #[arg(long = "param", value_name = "NAME=VALUE", requires = "data")]
    params: Vec<String>,
    /// How to print the results
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// When to colour human output (`NO_COLOR` in the environment also turns colour off)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Fail (exit code 1) when there are warnings, as if they were errors
    #[arg(long)]
    deny_warnings: bool,
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

pub fn run(args: &CheckArgs) -> Exit {
    // `--data` takes an optional `ENTITY=PATH`; a value without `=` is a project folder written
    // right after the flag (`segl check --data rules/`).
    let mut paths = args.paths.clone();
    let mut overrides = Vec::new();
    for value in args.data.iter().flatten() {
        if value.contains('=') {
            overrides.push(value.clone());
        } else {
            paths.push(PathBuf::from(value));
        }
    }
    if paths.is_empty() {
        paths.push(PathBuf::from("."));
    }
    let reports = if args.data.is_some() {
        let [path] = paths.as_slice() else {
            print_usage_error(
                "`segl check --data` works on one project at a time; give it one folder",
            );
            return Exit::Usage;
        };
        let project = ProjectArgs {
            as_of: args.as_of.clone(),
            params: args.params.clone(),
            data: overrides,
            color: args.color,
        };
        match check_with_data(path, &project) {
            Ok(report) => vec![report],
            Err(exit) => return exit,
        }
    } else {
        match files::collect(&paths) {
            Ok(projects) => projects.iter().map(check_project).collect(),
            Err(files::Problem(message)) => {
                print_usage_error(&message);
                return Exit::Usage;
            }
        }
    };
    let reports: Vec<Report> = reports;
    let summary = reports
        .iter()
        .fold(Summary::default(), |sum, r| sum.plus(r.summary));

    let text = match args.format {
        Format::Json => render::json_document(&render::JsonDocument {
            diagnostics: reports
                .iter()
                .flat_map(|r| render::json_diagnostics(&r.diagnostics, &r.sources))
                .collect(),
            summary,
        }),
        Format::Sarif => {
            let pairs: Vec<_> = reports
                .iter()
                .map(|r| (r.diagnostics.as_slice(), &r.sources))
                .collect();
            render::sarif(&pairs, env!("CARGO_PKG_VERSION"))
        }
        Format::Github => {
            let pairs: Vec<_> = reports
                .iter()
                .map(|r| (r.diagnostics.as_slice(), &r.sources))
                .collect();
            let mut text = render::github(&pairs);
            text.push_str(&render::summary_line(&summary));
            text.push('\n');
            text
        }
        Format::Human | Format::Plain => {
            let color = args.format == Format::Human && use_color(args.color);
            let mut text = String::new();
            for report in &reports {
                let rendered = if args.format == Format::Human {
                    render::human(&report.diagnostics, &report.sources, color)
                } else {
                    render::plain(&report.diagnostics, &report.sources)
                };
                text.push_str(&rendered);
                if !rendered.is_empty() && !rendered.ends_with("\n\n") {
                    text.push('\n');
                }
            }
            text.push_str(&render::summary_line(&summary));
            text.push('\n');
            text
        }
    };
    print_out(&text);

    if summary.errors > 0 || (args.deny_warnings && summary.warnings > 0) {
        Exit::Errors
    } else if summary.warnings > 0 {
        Exit::Warnings
    } else {
        Exit::Clean
    }
}

/// Checks one project, then (when the rules have no errors) loads its data and checks the rules
/// against it. Load errors are part of the report, and stop the checks against the data.
fn check_with_data(path: &std::path::Path, args: &ProjectArgs) -> Result<Report, Exit> {
    let input = one_project(path, "check --data")?;
    let mut report = check_project(&input);
    let Some(program) = report.program.as_ref() else {
        return Ok(report);
    };
    if report.diagnostics.iter().any(Diagnostic::is_error) {
        return Ok(report);
    }
    let (settled, found) = settle(
        path,
        &input.name,
        program,
        report.config.as_ref(),
        &report.sources,
        args,
    )?;
    let mut added = found;
    let mut dataset = None;
    if !added.iter().any(Diagnostic::is_error) {
        let progress = Progress::start("loading data");
        // Checking against the data looks at every value of every file.
        let loaded = load(
            program,
            &settled.data_sources,
            &segl::ir::usage::Usage::everything(program),
            &settled.settings.as_of.time_zone,
            &mut report.sources,
        );
        progress.done();
        added.extend(loaded.diagnostics);
        if !added.iter().any(Diagnostic::is_error) {
            let progress = Progress::start("checking the rules against the data");
            let checked = segl::datacheck::check(
                program,
                &loaded.dataset,
                &settled.settings,
                &loaded.undeclared,
                &report.sources,
            );
            progress.done();
            match checked {
                Ok(found) => added.extend(found),
                Err(e) => {
                    print_usage_error(&e.to_string());
                    return Err(Exit::Errors);
                }
            }
            dataset = Some(loaded.dataset);
        }
    }
    // Lints run again with the data (for counts), and levels and allow comments apply to the
    // findings about the data as to every other warning.
    report.lint(dataset.as_ref(), added);
    Ok(report)
}

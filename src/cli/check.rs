//! `segl check`: reads the given projects and rule files, checks them and prints what it found.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use clap::Args;

use super::{ColorChoice, Exit, Format, files, print_out, print_usage_error};
use segl::check::{Summary, check_project};
use segl::diagnostics::render;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Project folders (with `segl.toml`), folders of rule files, or `.segl` files
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
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
    let projects = match files::collect(&args.paths) {
        Ok(projects) => projects,
        Err(files::Problem(message)) => {
            print_usage_error(&message);
            return Exit::Usage;
        }
    };
    let reports: Vec<_> = projects.iter().map(check_project).collect();
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

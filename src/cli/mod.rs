//! The command line: argument parsing, the exit-code contract and the safety net for bugs.
//!
//! This module and its subcommand files are the only code that reads files, looks at the terminal
//! and the environment, and prints.

mod check;
mod codes;
mod diff;
mod explain;
mod files;
mod fmt;
mod generate;
mod new;
mod project;
mod report;
mod run;
mod schema;
mod sql;
mod test;
mod why;
mod write;

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// What a run ended with. The numbers are part of segl's interface (see `docs/cli.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Nothing to report.
    Clean = 0,
    /// At least one error in the rules (or in `segl.toml`).
    Errors = 1,
    /// The command could not do its work: wrong arguments, a missing or unreadable path.
    Usage = 2,
    /// segl itself failed: a bug.
    Internal = 3,
    /// Warnings, but no errors.
    Warnings = 4,
    /// `segl diff`: changes beyond what `--fail-if-changed`, `--fail-if-definitions-changed` or
    /// `--max-change` allow.
    Changed = 5,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "segl",
    version,
    about = "Check, run and compile customer segment rules",
    long_about = "segl reads segment definitions written in `.segl` files, checks them against \
                  the schema of your customer data and explains every problem it finds.",
    after_help = "Run `segl explain E0300` to read about a diagnostic code.\n\
                  Exit codes: 0 no problems, 1 errors, 2 usage or file problem, 3 bug in segl, \
                  4 warnings only, 5 segments changed more than `segl diff` was told to allow."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check rule files and report every problem
    Check(check::CheckArgs),
    /// Evaluate every segment, tier and score of a project over its data
    Run(run::RunArgs),
    /// Run the tests written in rule files, with coverage
    Test(test::TestArgs),
    /// Compile segments, tiers and scores to SQL for DuckDB, PostgreSQL or SQLite
    Sql(sql::SqlArgs),
    /// Compare segments between git revisions, data snapshots or dates
    Diff(diff::DiffArgs),
    /// Write an HTML page with charts of segment sizes, overlaps, tiers and tier transitions
    Report(report::ReportArgs),
    /// Explain why one record is in or out of each segment, with the values that decided it
    Why(why::WhyArgs),
    /// Show the documentation page of a diagnostic code, e.g. `segl explain E0300`
    Explain(explain::ExplainArgs),
    /// List every diagnostic code with its title
    Codes,
    /// Rewrite rule files in the one standard layout (`--check`, `--diff`: only report)
    Fmt(fmt::FmtArgs),
    /// Write deterministic sample data (customers, orders, companies, tickets, events)
    Generate(generate::GenerateArgs),
    /// Create a new project: the example, or one drafted from your data (`--from customers.csv`)
    New(new::NewArgs),
    /// Draft a schema from data files (`segl schema infer customers.csv orders.csv`)
    Schema(schema::SchemaArgs),
    /// Crash on purpose, to test the bug report message and exit code 3
    #[command(hide = true, name = "internal-panic-for-tests")]
    InternalPanic,
}

/// How `segl check` (and `segl test`) print what they found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Source excerpts with boxes and (on a terminal) colours
    Human,
    /// No colours and no box drawing: for logs, snapshots and screen readers
    Plain,
    /// One JSON document, for editors and scripts
    Json,
    /// One SARIF 2.1.0 log, for code scanning (GitHub code scanning and other SARIF viewers)
    Sarif,
    /// GitHub Actions workflow commands: inline annotations on pull requests
    Github,
}

/// Whether to colour human output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when printing to a terminal and `NO_COLOR` is not set
    Auto,
    Always,
    Never,
}

/// Runs segl with the process's arguments and returns its exit code.
#[must_use]
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                Exit::Usage.into()
            } else {
                Exit::Clean.into()
            };
        }
    };
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_owned());
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "internal error: segl stopped because of a bug in segl, not in your rules.\n\
             \n  {message}{location}\n\n\
             Please report it to the segl maintainers with the command you ran, this message and \
             segl's version ({}), and if you can, the files it was run on.",
            env!("CARGO_PKG_VERSION")
        );
    }));
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(exit) => exit.into(),
        Err(_) => Exit::Internal.into(),
    }
}

fn run(cli: Cli) -> Exit {
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Why(args) => why::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Sql(args) => sql::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Codes => codes::run(),
        Command::Generate(args) => generate::run(&args),
        Command::New(args) => new::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::InternalPanic => internal_panic(),
    }
}

#[allow(clippy::panic)]
fn internal_panic() -> Exit {
    panic!("deliberate crash requested with `segl internal-panic-for-tests`")
}

/// Prints to standard output; a closed pipe (`segl codes | head`) is not an error.
fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Prints a problem with the command itself (not with the rules) to standard error.
fn print_usage_error(message: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {message}");
}

//! `segl fmt`: rewrites rule files in the canonical layout, or (`--check`, `--diff`) tells which
//! files would change.

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};

use clap::Args;

use super::{ColorChoice, Exit, files, print_out, print_usage_error, write};
use segl::check::{ProjectInput, RawFile, check_project};
use segl::diagnostics::{Code, render};
use segl::fmt::{FmtError, format};
use segl::source::{SourceMap, decode};

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Project folders (with `segl.toml`), folders of rule files, or `.segl` files; `-` reads
    /// standard input and prints the formatted rules
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Change nothing: list the files that are not formatted and exit with 1 if there are any
    #[arg(long)]
    check: bool,
    /// Change nothing: show what formatting would change, as a unified diff
    #[arg(long)]
    diff: bool,
    /// When to colour error messages (`NO_COLOR` in the environment also turns colour off)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

/// What happened to one file.
enum Outcome {
    /// Already in the canonical layout.
    Same,
    /// Formatting changes it; the formatted text.
    Changed(String),
    /// Not formatted: it does not read as rules (the problems are already printed).
    Broken,
    /// Not formatted because of a bug in the formatter (the message is already printed).
    Internal,
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            !no_color && std::io::stderr().is_terminal()
        }
    }
}

fn print_err(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// Formats one file's bytes; problems are printed to standard error.
fn format_file(raw: &RawFile, color: bool) -> Outcome {
    let text = match decode(&raw.bytes) {
        Ok(text) => text,
        Err(_) => {
            // The check pipeline words this problem; only its encoding error is shown.
            let report = check_project(&ProjectInput {
                name: raw.name.clone(),
                config: None,
                rules: vec![raw.clone()],
            });
            let found: Vec<_> = report
                .diagnostics
                .into_iter()
                .filter(|d| d.code == Code::E0001)
                .collect();
            print_err(&render::human(&found, &report.sources, color));
            return Outcome::Broken;
        }
    };
    let mut sources = SourceMap::new();
    let id = sources.add(raw.name.clone(), text.clone());
    match format(id, &text) {
        Ok(out) if out.as_bytes() == raw.bytes.as_slice() => Outcome::Same,
        Ok(out) => Outcome::Changed(out),
        Err(FmtError::Syntax(diagnostics)) => {
            print_err(&render::human(&diagnostics, &sources, color));
            Outcome::Broken
        }
        Err(FmtError::Internal(why)) => {
            print_err(&format!(
                "internal error: segl cannot format `{}` without changing it in a way it should \
                 not ({why}), so the file was left as it is. This is a bug in segl, not in your \
                 rules: please report it to the segl maintainers with this file.\n",
                raw.name
            ));
            Outcome::Internal
        }
    }
}

/// A unified diff between the file as it is and as it would be formatted.
fn diff(name: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(name, &format!("{name} (formatted)"))
        .to_string()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

pub fn run(args: &FmtArgs) -> Exit {
    let color = use_color(args.color);
    if args.paths.iter().any(|p| p == Path::new("-")) {
        if args.paths.len() > 1 {
            print_usage_error("`-` (standard input) cannot be mixed with other paths");
            return Exit::Usage;
        }
        return run_stdin(args, color);
    }
    let projects = match files::collect(&args.paths) {
        Ok(projects) => projects,
        Err(files::Problem(message)) => {
            print_usage_error(&message);
            return Exit::Usage;
        }
    };
    let rules: Vec<&RawFile> = projects.iter().flat_map(|p| &p.rules).collect();

    let mut changed = 0;
    let mut broken = 0;
    let mut internal = 0;
    let mut failed_writes = 0;
    let mut out = String::new();
    for raw in &rules {
        match format_file(raw, color) {
            Outcome::Same => {}
            Outcome::Broken => broken += 1,
            Outcome::Internal => internal += 1,
            Outcome::Changed(text) => {
                changed += 1;
                if args.diff {
                    let before = String::from_utf8_lossy(&raw.bytes);
                    out.push_str(&diff(&raw.name, &before, &text));
                } else if args.check {
                    out.push_str(&format!("{}\n", raw.name));
                } else {
                    let path = PathBuf::from(&raw.name);
                    let written = write::atomically(&path, |w| w.write_all(text.as_bytes()));
                    if let Err(e) = written {
                        failed_writes += 1;
                        print_usage_error(&format!("cannot write `{}`: {e}", raw.name));
                    }
                }
            }
        }
    }
    print_out(&out);

    let total = rules.len();
    let mut summary = if args.check || args.diff {
        if changed == 0 {
            format!(
                "{} already formatted",
                plural(total - broken - internal, "file is", "files are")
            )
        } else {
            format!(
                "{changed} of {} {} not formatted; run `segl fmt` to format {}",
                plural(total, "file", "files"),
                if changed == 1 { "is" } else { "are" },
                if changed == 1 { "it" } else { "them" }
            )
        }
    } else {
        format!(
            "formatted {}, {} already formatted",
            plural(changed - failed_writes, "file", "files"),
            total - changed - broken - internal
        )
    };
    if broken > 0 {
        summary.push_str(&format!(
            "; {} not formatted because of the errors above",
            plural(broken, "file was", "files were")
        ));
    }
    print_err(&format!("{summary}\n"));

    if internal > 0 {
        Exit::Internal
    } else if broken > 0 || failed_writes > 0 || ((args.check || args.diff) && changed > 0) {
        Exit::Errors
    } else {
        Exit::Clean
    }
}

/// `segl fmt -`: formats standard input to standard output (for editors). With `--check` or
/// `--diff` nothing is printed but the diff, and the exit code tells whether input was formatted.
fn run_stdin(args: &FmtArgs, color: bool) -> Exit {
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut bytes) {
        print_usage_error(&format!("cannot read standard input: {e}"));
        return Exit::Usage;
    }
    let raw = RawFile::new("<stdin>", bytes);
    match format_file(&raw, color) {
        Outcome::Broken => Exit::Errors,
        Outcome::Internal => Exit::Internal,
        Outcome::Same => {
            if !(args.check || args.diff) {
                print_out(&String::from_utf8_lossy(&raw.bytes));
            }
            Exit::Clean
        }
        Outcome::Changed(text) => {
            if args.diff {
                print_out(&diff(
                    "<stdin>",
                    &String::from_utf8_lossy(&raw.bytes),
                    &text,
                ));
                Exit::Errors
            } else if args.check {
                print_err("the input is not formatted\n");
                Exit::Errors
            } else {
                print_out(&text);
                Exit::Clean
            }
        }
    }
}

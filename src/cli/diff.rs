//! `segl diff`: what changes in each segment, tier set and score when the rules change (`--base
//! REV`: the rules at a git revision against the working tree, on the same data) or when the
//! data changes (`--before/--after` snapshots, `--as-of-before/--as-of-after` dates).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::{Args, ValueEnum};

use super::project::{
    Progress, ProjectArgs, Settled, one_project, project_dir, report, settle, stderr_color,
};
use super::{Exit, files, print_out, print_usage_error};
use segl::check::{ProjectInput, RawFile, check_project};
use segl::diagnostics::{Code, Diagnostic};
use segl::diff::definitions::{Definition, ItemKind, definitions};
use segl::diff::snapshot::Snapshot;
use segl::diff::{Diff, Side, compare, render};
use segl::engine::load::{DataSource, load};
use segl::engine::lower::{Request, evaluate};
use segl::engine::{AsOf, RunSettings};
use segl::ir::Program;
use segl::project;
use segl::sema::params::{find_param, parse_param_value};
use segl::source::{FileId, SourceMap, Span};

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The project folder (with `segl.toml`)
    #[arg(default_value = ".")]
    project: PathBuf,
    /// Compare with the rules at this git revision (a branch, tag or commit), on the same data
    #[arg(long, value_name = "REV", conflicts_with_all = ["before", "after", "as_of_before", "as_of_after"])]
    base: Option<String>,
    /// A folder with the earlier data files (named as in `[data]`)
    #[arg(long, value_name = "DATA")]
    before: Option<PathBuf>,
    /// A folder with the later data files; default: the project's data
    #[arg(long, value_name = "DATA")]
    after: Option<PathBuf>,
    /// Evaluate the earlier side on this date (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", conflicts_with = "as_of")]
    as_of_before: Option<String>,
    /// Evaluate the later side on this date (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", conflicts_with = "as_of")]
    as_of_after: Option<String>,
    #[command(flatten)]
    common: ProjectArgs,
    /// How to print the comparison
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    format: DiffFormat,
    /// Exit with code 5 when any record's membership, tier or score changed
    #[arg(long)]
    fail_if_changed: bool,
    /// Exit with code 5 when the text of any rule, definition or parameter changed, or a rule
    /// was added, removed or renamed, even if no record moved (needs `--base`)
    #[arg(long)]
    fail_if_definitions_changed: bool,
    /// Exit with code 5 when a segment, tier set or score changed by more than PERCENT
    #[arg(long, value_name = "PERCENT")]
    max_change: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Text for people
    Human,
    /// One JSON document for scripts
    Json,
    /// Markdown for a pull-request comment
    Markdown,
}

/// The command as a one-line source, so that problems with its arguments are shown like
/// problems in files, with the argument underlined.
pub(super) struct CommandLine {
    text: String,
    spans: BTreeMap<String, (usize, usize)>,
}

impl CommandLine {
    fn new(args: &DiffArgs) -> CommandLine {
        let mut text = "segl diff".to_owned();
        let mut spans = BTreeMap::new();
        let mut push = |text: &mut String, flag: &str, key: String, value: &str| {
            if !flag.is_empty() {
                text.push(' ');
                text.push_str(flag);
            }
            text.push(' ');
            let start = text.len();
            text.push_str(&shell_word(value));
            spans.insert(key, (start, text.len()));
        };
        if let Some(rev) = &args.base {
            push(&mut text, "--base", "base".to_owned(), rev);
        }
        for p in &args.common.params {
            push(&mut text, "--param", format!("param {p}"), p);
        }
        push(
            &mut text,
            "",
            "project".to_owned(),
            &args.project.display().to_string(),
        );
        CommandLine { text, spans }
    }

    fn span(&self, sources: &mut SourceMap, key: &str) -> Span {
        let file = sources.add("command line", self.text.clone());
        let (start, end) = self.spans.get(key).copied().unwrap_or((0, 0));
        Span::new(file, start, end)
    }
}

fn shell_word(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || "-_./:@^~=+,".contains(c))
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

pub fn run(args: &DiffArgs) -> Exit {
    let color = stderr_color(args.common.color);
    if args.max_change.is_some_and(|p| !p.is_finite() || p < 0.0) {
        print_usage_error("`--max-change` needs a percentage of 0 or more, e.g. `--max-change 10`");
        return Exit::Usage;
    }
    if args.fail_if_definitions_changed && args.base.is_none() {
        print_usage_error(
            "`--fail-if-definitions-changed` needs `--base REV`: only two versions of the rules \
             can have different definitions; between data snapshots or dates, use \
             `--fail-if-changed`",
        );
        return Exit::Usage;
    }
    let diff = match &args.base {
        Some(rev) => rules_diff(args, rev, color),
        None => data_diff(args, color),
    };
    let diff = match diff {
        Ok(d) => d,
        Err(exit) => return exit,
    };
    let text = match args.format {
        DiffFormat::Human => render::human(&diff, terminal_width()),
        DiffFormat::Json => render::json(&diff),
        DiffFormat::Markdown => render::markdown(&diff),
    };
    print_out(&text);
    if args.fail_if_changed && diff.outcomes_changed() {
        eprintln!(
            "segl diff: records moved in or out of segments, tiers or scores (`--fail-if-changed`)"
        );
        return Exit::Changed;
    }
    if args.fail_if_definitions_changed && diff.definitions_changed() {
        eprintln!("segl diff: definitions changed (`--fail-if-definitions-changed`)");
        return Exit::Changed;
    }
    if let (Some(limit), Some((name, p))) = (args.max_change, diff.largest_change())
        && p > limit
    {
        eprintln!(
            "segl diff: `{name}` changed by {p:.1}%, more than `--max-change {limit}` allows"
        );
        return Exit::Changed;
    }
    Exit::Clean
}

/// The width of the terminal segl prints to, within reason, or a fixed width when the output
/// goes to a file or a pipe.
fn terminal_width() -> usize {
    use std::io::IsTerminal as _;
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return render::WIDTH;
    }
    terminal_size::terminal_size_of(&stdout)
        .map_or(render::WIDTH, |(w, _)| usize::from(w.0).clamp(60, 240))
}

/// A project checked, with its sources; diagnostics already printed.
pub(super) struct Checked {
    pub input: ProjectInput,
    pub program: Program,
    pub config: Option<project::Config>,
    pub sources: SourceMap,
}

pub(super) fn check(input: ProjectInput, color: bool) -> Result<Checked, Exit> {
    let checked = check_project(&input);
    if report(&checked.diagnostics, &checked.sources, color) {
        return Err(Exit::Errors);
    }
    let program = checked.program.ok_or(Exit::Errors)?;
    Ok(Checked {
        input,
        program,
        config: checked.config,
        sources: checked.sources,
    })
}

/// Reads and checks the project, then settles its data, as-of date and parameters from
/// `segl.toml` and the command line (`segl diff`, `segl report`); problems are printed.
pub(super) fn check_and_settle(
    project: &Path,
    args: &ProjectArgs,
    command: &str,
    color: bool,
) -> Result<(Checked, Settled), Exit> {
    let checked = check(one_project(project, command)?, color)?;
    let (settled, found) = settle(
        project,
        &checked.input.name,
        &checked.program,
        checked.config.as_ref(),
        &checked.sources,
        args,
    )?;
    if report(&found, &checked.sources, color) {
        return Err(Exit::Errors);
    }
    Ok((checked, settled))
}

pub(super) fn evaluate_side(
    program: &Program,
    data: &[DataSource],
    settings: &RunSettings,
    sources: &mut SourceMap,
    color: bool,
) -> Result<Snapshot, Exit> {
    let progress = Progress::start("evaluating segments");
    let request = Request {
        rules: None,
        columns: Vec::new(),
    };
    let usage = request.usage(program);
    let loaded = load(program, data, &usage, &settings.as_of.time_zone, sources);
    if report(&loaded.diagnostics, sources, color) {
        progress.done();
        return Err(Exit::Errors);
    }
    let evaluation = evaluate(program, &loaded.dataset, settings, &request);
    progress.done();
    match evaluation {
        Ok(e) => Ok(Snapshot::new(program, &e.memberships)),
        Err(e) => {
            print_usage_error(&e.to_string());
            Err(Exit::Errors)
        }
    }
}

pub(super) fn as_of_line(as_of: &AsOf) -> String {
    format!(
        "as of {} ({})",
        as_of.date,
        as_of.time_zone.iana_name().unwrap_or("UTC")
    )
}

fn parse_date(flag: &str, text: &str, like: &AsOf) -> Result<AsOf, Exit> {
    let date = text.trim().parse::<jiff::civil::Date>().map_err(|_| {
        print_usage_error(&format!(
            "`{flag} {text}` is not a date; write it as YYYY-MM-DD, e.g. 2026-01-31"
        ));
        Exit::Usage
    })?;
    AsOf::end_of_day(date, like.time_zone.clone()).map_err(|e| {
        print_usage_error(&format!("the date {date} cannot be used: {e}"));
        Exit::Usage
    })
}

/// The data sources with each file looked up by its name in `folder`.
pub(super) fn in_folder(sources: &[DataSource], folder: &Path) -> Result<Vec<DataSource>, Exit> {
    if !folder.is_dir() {
        print_usage_error(&format!(
            "cannot find the data folder `{}`: there is no folder with that name",
            folder.display()
        ));
        return Err(Exit::Usage);
    }
    Ok(sources
        .iter()
        .map(|s| {
            let mut s = s.clone();
            let name = s.path.file_name().map(PathBuf::from).unwrap_or_default();
            s.path = folder.join(&name);
            s.shown = files::display_join(&folder.display().to_string(), &name.to_string_lossy());
            s
        })
        .collect())
}

fn data_diff(args: &DiffArgs, color: bool) -> Result<Diff, Exit> {
    if args.before.is_none() && args.as_of_before.is_none() {
        print_usage_error(
            "`segl diff` compares two things: give `--base REV` (the rules at a git revision), \
             `--before DATA` (an earlier data folder) or `--as-of-before DATE` (an earlier date)",
        );
        return Err(Exit::Usage);
    }
    if args.after.is_some() && args.before.is_none() {
        print_usage_error("`--after DATA` needs `--before DATA`: the earlier data to compare with");
        return Err(Exit::Usage);
    }
    let (
        Checked {
            input,
            program,
            mut sources,
            ..
        },
        settled,
    ) = check_and_settle(&args.project, &args.common, "diff", color)?;
    let mut before_settings = settled.settings.clone();
    let mut after_settings = settled.settings.clone();
    if let Some(d) = &args.as_of_before {
        before_settings.as_of = parse_date("--as-of-before", d, &settled.settings.as_of)?;
    }
    if let Some(d) = &args.as_of_after {
        after_settings.as_of = parse_date("--as-of-after", d, &settled.settings.as_of)?;
    }
    let before_data = match &args.before {
        Some(f) => in_folder(&settled.data_sources, f)?,
        None => settled.data_sources.clone(),
    };
    let after_data = match &args.after {
        Some(f) => in_folder(&settled.data_sources, f)?,
        None => settled.data_sources.clone(),
    };
    let before = evaluate_side(
        &program,
        &before_data,
        &before_settings,
        &mut sources,
        color,
    )?;
    let after = evaluate_side(&program, &after_data, &after_settings, &mut sources, color)?;

    let label = |folder: &Option<PathBuf>, as_of: &AsOf, dated: bool| {
        let mut parts = Vec::new();
        if let Some(f) = folder {
            parts.push(f.display().to_string());
        } else if args.before.is_some() {
            parts.push(format!("{} data", input.name));
        }
        if dated {
            parts.push(format!("as of {}", as_of.date));
        }
        parts.join(" ")
    };
    let dated = args.as_of_before.is_some() || args.as_of_after.is_some();
    let none = BTreeMap::new();
    let mut diff = compare(
        &Side {
            label: label(&args.before, &before_settings.as_of, dated),
            snapshot: &before,
            definitions: &none,
        },
        &Side {
            label: label(&args.after, &after_settings.as_of, dated),
            snapshot: &after,
            definitions: &none,
        },
    );
    if dated {
        diff.context.push(format!(
            "time zone {}",
            after_settings.as_of.time_zone.iana_name().unwrap_or("UTC")
        ));
    } else {
        diff.context.push(as_of_line(&after_settings.as_of));
    }
    if args.before.is_none() {
        let files: Vec<&str> = after_data.iter().map(|s| s.shown.as_str()).collect();
        diff.context.push(format!("data: {}", files.join(", ")));
    }
    diff.context.push(format!("rules: {}", input.name));
    Ok(diff)
}

fn rules_diff(args: &DiffArgs, rev: &str, color: bool) -> Result<Diff, Exit> {
    let line = CommandLine::new(args);
    // The working tree first: its data, as-of date and parameters are used for both sides.
    let (
        Checked {
            input,
            program,
            mut sources,
            ..
        },
        settled,
    ) = check_and_settle(&args.project, &args.common, "diff", color)?;

    let mut problems = SourceMap::new();
    let base = match git_project(&args.project, &input.name, rev) {
        Ok(b) => b,
        Err(GitProblem::Usage(message)) => {
            print_usage_error(&message);
            return Err(Exit::Usage);
        }
        Err(GitProblem::Diagnostic(make)) => {
            let d = make(&line, &mut problems);
            report(&[d], &problems, color);
            return Err(Exit::Usage);
        }
    };
    let base_checked = check_project(&base.input);
    let Some(base_program) = base_checked
        .program
        .filter(|_| !base_checked.diagnostics.iter().any(Diagnostic::is_error))
    else {
        let errors: Vec<Diagnostic> = base_checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        report(&errors, &base_checked.sources, color);
        let n = errors.len();
        let d = Diagnostic::new(
            Code::E1003,
            line.span(&mut problems, "base"),
            format!("the rules at `{rev}` do not check, so segl cannot evaluate them"),
        )
        .label(format!(
            "{n} {} in the rules at this revision",
            if n == 1 { "error" } else { "errors" }
        ))
        .help(format!(
            "compare with a revision whose rules check (the commit before it, or the branch your \
             pull request starts from), or fix them there; `git show {}:<file>` shows a file as it \
             was",
            base.commit_short
        ))
        .note(
            "the problems above are in the rules at that revision; their file names start with it",
        );
        report(&[d], &problems, color);
        return Err(Exit::Errors);
    };
    let mut base_sources = base_checked.sources;

    // Data and as-of from the working tree; entities and parameters matched by name.
    let base_data: Vec<DataSource> = settled
        .data_sources
        .iter()
        .filter_map(|s| {
            let name = &program.entity(s.entity).name;
            let i = base_program.entities.iter().position(|e| &e.name == name)?;
            let mut s = s.clone();
            s.entity = segl::ir::EntityId::from_index(i);
            s.entry = None;
            Some(s)
        })
        .collect();
    let mut base_settings = RunSettings {
        as_of: settled.settings.as_of.clone(),
        params: std::collections::HashMap::new(),
    };
    let mut warnings = Vec::new();
    for p in &args.common.params {
        let Some((name, value)) = p.split_once('=') else {
            continue;
        };
        match find_param(&base_program, name.trim()) {
            Ok(id) => match parse_param_value(&base_program, id, value) {
                Ok(v) => {
                    base_settings.params.insert(id, v);
                }
                Err(m) => {
                    print_usage_error(&format!("`--param {p}` at `{rev}`: {m}"));
                    return Err(Exit::Usage);
                }
            },
            Err(_) => warnings.push(
                Diagnostic::new(
                    Code::W1000,
                    line.span(&mut problems, &format!("param {p}")),
                    format!("the rules at `{rev}` have no parameter `{}`", name.trim()),
                )
                .label("used for the working tree only")
                .help(
                    "nothing to do if the parameter is new; the rules at the revision are \
                     evaluated without it",
                ),
            ),
        }
    }
    // `[lints]` of the working tree's `segl.toml` sets the warning's level, as for every warning.
    let config_text = input
        .config
        .as_ref()
        .map(|c| String::from_utf8_lossy(&c.bytes).into_owned())
        .unwrap_or_default();
    let (levels, _) = segl::lint::settings(FileId(0), &config_text);
    let warnings = segl::lint::apply_levels(warnings, &levels);
    if report(&warnings, &problems, color) {
        return Err(Exit::Errors);
    }

    let before = evaluate_side(
        &base_program,
        &base_data,
        &base_settings,
        &mut base_sources,
        color,
    )?;
    let after = evaluate_side(
        &program,
        &settled.data_sources,
        &settled.settings,
        &mut sources,
        color,
    )?;
    let before_defs: BTreeMap<(ItemKind, String), Definition> =
        definitions(&base_program, &base_sources);
    let after_defs = definitions(&program, &sources);
    let mut diff = compare(
        &Side {
            label: format!("{rev} ({})", base.commit_short),
            snapshot: &before,
            definitions: &before_defs,
        },
        &Side {
            label: "working tree".to_owned(),
            snapshot: &after,
            definitions: &after_defs,
        },
    );
    diff.context.push(as_of_line(&settled.settings.as_of));
    let files: Vec<&str> = settled
        .data_sources
        .iter()
        .map(|s| s.shown.as_str())
        .collect();
    diff.context
        .push(format!("data (the same for both): {}", files.join(", ")));
    Ok(diff)
}

/// The project as it is at a revision.
struct BaseProject {
    input: ProjectInput,
    commit_short: String,
}

type MakeDiagnostic = Box<dyn FnOnce(&CommandLine, &mut SourceMap) -> Diagnostic>;

pub(super) enum GitProblem {
    Usage(String),
    Diagnostic(MakeDiagnostic),
}

pub(super) fn git(dir: &Path, args: &[&str]) -> Result<Option<Vec<u8>>, GitProblem> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| {
            GitProblem::Usage(format!(
                "`segl diff --base` runs the `git` command, which cannot be started here: {e}"
            ))
        })?;
    Ok(output.status.success().then_some(output.stdout))
}

pub(super) fn text_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_end_matches(['\n', '\r'])
        .to_owned()
}

/// Reads the project's `segl.toml` and rule files as they are at `rev`.
fn git_project(project: &Path, shown: &str, rev: &str) -> Result<BaseProject, GitProblem> {
    let dir = project_dir(project);
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let Some(top) = git(&dir, &["rev-parse", "--show-toplevel"])? else {
        let shown = shown.to_owned();
        return Err(GitProblem::Diagnostic(Box::new(move |line, sources| {
            Diagnostic::new(
                Code::E1000,
                line.span(sources, "project"),
                format!("`{shown}` is not in a git repository, so segl cannot read earlier versions of its rules"),
            )
            .label("not tracked by git")
            .help("run `segl diff --base` inside a clone of the repository, or compare data instead with `--before DATA --after DATA`")
        })));
    };
    let top = PathBuf::from(text_line(&top));
    let prefix = git(&dir, &["rev-parse", "--show-prefix"])?
        .map(|b| text_line(&b))
        .unwrap_or_default();
    let spec = format!("{rev}^{{commit}}");
    let commit = match git(
        &dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ],
    )? {
        Some(c) if !rev.starts_with('-') => text_line(&c),
        _ => {
            let rev = rev.to_owned();
            return Err(GitProblem::Diagnostic(Box::new(move |line, sources| {
                Diagnostic::new(
                    Code::E1001,
                    line.span(sources, "base"),
                    format!("there is no revision `{rev}` in this repository"),
                )
                .label("not a branch, tag or commit here")
                .help("give a branch (`main`, `origin/main`), a tag or a commit; in CI, fetch the base branch first (`git fetch origin main`)")
                .note("`git log --oneline` lists recent commits, `git branch -a` the branches")
            })));
        }
    };
    let commit_short = git(&dir, &["rev-parse", "--short", &commit])?
        .map(|b| text_line(&b))
        .unwrap_or_else(|| commit.chars().take(7).collect());
    // At the top of the repository the prefix is empty, which git refuses as a path: `.` then.
    let pathspec = if prefix.is_empty() {
        "."
    } else {
        prefix.as_str()
    };
    let listing = git(
        &top,
        &[
            "ls-tree",
            "-r",
            "-z",
            "--name-only",
            &commit,
            "--",
            pathspec,
        ],
    )?
    .unwrap_or_default();
    let paths: Vec<String> = listing
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    let relative = |p: &str| p.strip_prefix(prefix.as_str()).map(str::to_owned);
    let read = |path: &str| -> Result<Vec<u8>, GitProblem> {
        git(&top, &["cat-file", "blob", &format!("{commit}:{path}")])?
            .ok_or_else(|| GitProblem::Usage(format!("git cannot read `{path}` at `{rev}`")))
    };
    let toml_path = format!("{prefix}segl.toml");
    if !paths.contains(&toml_path) {
        let (rev, shown, short) = (rev.to_owned(), shown.to_owned(), commit_short.clone());
        return Err(GitProblem::Diagnostic(Box::new(move |line, sources| {
            Diagnostic::new(
                Code::E1002,
                line.span(sources, "base"),
                format!("the project `{shown}` does not exist at `{rev}` ({short})"),
            )
            .label("no `segl.toml` here at this revision")
            .help("compare with a revision that has the project, or check the project folder: it must be the same path at both revisions")
            .note("a project added in this change has nothing to compare with; `segl run` shows its segments")
        })));
    }
    let name_at = |relative: &str| format!("{rev}:{}", files::display_join(shown, relative));
    let config_bytes = read(&toml_path)?;
    let text = String::from_utf8_lossy(&config_bytes);
    let (config, _) = project::parse_config(FileId(0), text.trim_start_matches('\u{feff}'));
    let mut rules = Vec::new();
    for p in &paths {
        let Some(rel) = relative(p) else { continue };
        if rel.split('/').any(|part| part.starts_with('.')) {
            continue;
        }
        if project::is_rule_file(&rel, Some(&config)) {
            rules.push(RawFile::new(name_at(&rel), read(p)?));
        }
    }
    rules.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(BaseProject {
        input: ProjectInput {
            name: format!("{rev}:{shown}"),
            config: Some(RawFile::new(name_at("segl.toml"), config_bytes)),
            rules,
        },
        commit_short,
    })
}

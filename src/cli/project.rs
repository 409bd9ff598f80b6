//! What every command that evaluates rules does first: check the project, settle the as-of date,
//! the time zone and the parameters, and load and validate the data.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::{ColorChoice, Exit, files, print_usage_error};
use segl::check::{ProjectInput, check_project};
use segl::diagnostics::{Diagnostic, render, suggest};
use segl::engine::load::{DataSource, load_streaming};
use segl::engine::{AsOf, Dataset, RunSettings};
use segl::ir::usage::Usage;
use segl::ir::{EntityId, Program};
use segl::project::{self, config::AsOf as ConfigAsOf};
use segl::sema::params::{find_param, parse_param_value};
use segl::source::SourceMap;

/// The options shared by the commands that evaluate a project over its data.
#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// The date to evaluate on (YYYY-MM-DD); default: `as_of` in `segl.toml`, else today
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Set a parameter, e.g. `--param min_arr=60000` (repeatable)
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Read an entity's records from this file instead of the one in `segl.toml`, e.g.
    /// `--data customer=export.csv` (repeatable)
    #[arg(long = "data", value_name = "ENTITY=PATH")]
    pub data: Vec<String>,
    /// When to colour messages about the rules and the data
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// A checked project with its data loaded, ready to evaluate.
pub struct Ready {
    pub program: Program,
    pub dataset: Dataset,
    pub settings: RunSettings,
    /// The data files the dataset was loaded from.
    pub data_sources: Vec<DataSource>,
    /// The rule files, `segl.toml` and the data excerpts diagnostics point into.
    pub sources: SourceMap,
}

pub fn stderr_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            !no_color && std::io::stderr().is_terminal()
        }
    }
}

/// Prints diagnostics to standard error; returns true when one of them is an error.
pub fn report(diagnostics: &[Diagnostic], sources: &SourceMap, color: bool) -> bool {
    if diagnostics.is_empty() {
        return false;
    }
    let text = render::human(diagnostics, sources, color);
    eprint!("{text}");
    diagnostics.iter().any(Diagnostic::is_error)
}

/// A spinner on standard error, shown only when it is a terminal. With the environment
/// variable `SEGL_TIMINGS` set, each step's time is printed to standard error when it ends
/// (for measuring; see docs/performance.md).
pub struct Progress {
    bar: Option<ProgressBar>,
    step: String,
    started: std::time::Instant,
}

impl Progress {
    pub fn start(message: &str) -> Progress {
        let started = std::time::Instant::now();
        let step = message.to_owned();
        if !std::io::stderr().is_terminal() {
            return Progress {
                bar: None,
                step,
                started,
            };
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress {
            bar: Some(bar),
            step,
            started,
        }
    }

    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if std::env::var_os("SEGL_TIMINGS").is_some() {
            eprintln!(
                "segl timing: {} took {:.3} s",
                self.step,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

pub fn project_dir(path: &Path) -> PathBuf {
    if path.is_file() {
        path.parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    } else {
        path.to_path_buf()
    }
}

/// What a command reads of the data: the entities and fields its rules use, and the entities
/// whose files (when Parquet) are read piece by piece while evaluating instead of held whole.
pub struct Reading {
    pub usage: Usage,
    pub stream: std::collections::HashSet<segl::ir::EntityId>,
}

impl Reading {
    /// Everything the rules use, held whole.
    pub fn whole(usage: Usage) -> Reading {
        Reading {
            usage,
            stream: std::collections::HashSet::new(),
        }
    }
}

/// Checks the project and loads the data the command reads. `select` looks at the checked
/// program (and may refuse the command, printing why) and says which entities and fields to
/// load, with whatever else the command worked out on the way. On failure the problem is
/// already printed and the exit code is returned.
pub fn prepare<T>(
    project: &Path,
    args: &ProjectArgs,
    command: &str,
    select: impl FnOnce(&Program) -> Result<(Reading, T), Exit>,
) -> Result<(Ready, T), Exit> {
    let color = stderr_color(args.color);
    let progress = Progress::start("checking the rules");
    let input = one_project(project, command)?;
    let checked = check_project(&input);
    progress.done();
    let mut sources = checked.sources;
    if report(&checked.diagnostics, &sources, color) {
        return Err(Exit::Errors);
    }
    let program = checked.program.ok_or(Exit::Errors)?;
    let (settled, found) = settle(
        project,
        &input.name,
        &program,
        checked.config.as_ref(),
        &sources,
        args,
    )?;
    if report(&found, &sources, color) {
        return Err(Exit::Errors);
    }
    let (reading, selected) = select(&program)?;

    let progress = Progress::start("loading data");
    let stream = segl::engine::load::stream::Streaming {
        entities: reading.stream,
        piece_rows: None,
    };
    let loaded = load_streaming(
        &program,
        &settled.data_sources,
        &reading.usage,
        &stream,
        &settled.settings.as_of.time_zone,
        &mut sources,
    );
    progress.done();
    if report(&loaded.diagnostics, &sources, color) {
        return Err(Exit::Errors);
    }
    Ok((
        Ready {
            program,
            dataset: loaded.dataset,
            settings: settled.settings,
            data_sources: settled.data_sources,
            sources,
        },
        selected,
    ))
}

/// The one project at `project`, read from disk.
pub fn one_project(project: &Path, command: &str) -> Result<ProjectInput, Exit> {
    let projects = files::collect(&[project.to_path_buf()]).map_err(|files::Problem(m)| {
        print_usage_error(&m);
        Exit::Usage
    })?;
    let mut projects = projects.into_iter();
    match (projects.next(), projects.next()) {
        (Some(input), None) => Ok(input),
        _ => {
            print_usage_error(&format!(
                "`segl {command}` works on one project at a time; give it one folder"
            ));
            Err(Exit::Usage)
        }
    }
}

/// What evaluating a checked project needs besides its rules: the as-of moment, parameters,
/// and the data files to read.
pub struct Settled {
    pub settings: RunSettings,
    pub data_sources: Vec<DataSource>,
}

/// Settles the time zone, as-of date, parameters and data files of a checked project. Problems
/// with the command are printed and returned as the exit code; problems in the `[data]` section
/// of `segl.toml` are returned as diagnostics.
pub fn settle(
    project: &Path,
    name: &str,
    program: &Program,
    config: Option<&project::Config>,
    sources: &SourceMap,
    args: &ProjectArgs,
) -> Result<(Settled, Vec<Diagnostic>), Exit> {
    let Some(config) = config else {
        print_usage_error(&format!(
            "`{name}` has no `segl.toml`, so segl does not know where its data is; add one with a \
             `[data]` section (see docs/run.md)"
        ));
        return Err(Exit::Usage);
    };
    let settings = run_settings(program, config, args)?;

    let dir = project_dir(project);
    let (specs, found) = project::data::data_sources(config, sources, program, name);
    let mut data_sources: Vec<DataSource> = specs.iter().map(|s| s.resolve(&dir)).collect();
    for d in &args.data {
        let Some((entity, path)) = d.split_once('=') else {
            print_usage_error(&format!(
                "`--data {d}` needs an entity and a file, as in `--data customer=customers.csv`"
            ));
            return Err(Exit::Usage);
        };
        let id = entity_named(program, entity.trim()).map_err(|m| {
            print_usage_error(&format!("`--data {d}`: {m}"));
            Exit::Usage
        })?;
        data_sources.retain(|s| s.entity != id);
        data_sources.push(DataSource::new(id, PathBuf::from(path), path.to_owned()));
    }
    if data_sources.is_empty() && !found.iter().any(Diagnostic::is_error) {
        print_usage_error(&format!(
            "`{name}` names no data: add a `[data]` section to `segl.toml` (see docs/run.md) or use \
             `--data ENTITY=PATH`"
        ));
        return Err(Exit::Usage);
    }
    Ok((
        Settled {
            settings,
            data_sources,
        },
        found,
    ))
}

/// The as-of moment (in the project's time zone) and the parameter values of a checked project.
/// Problems with the command are printed and returned as the exit code.
pub fn run_settings(
    program: &Program,
    config: &project::Config,
    args: &ProjectArgs,
) -> Result<RunSettings, Exit> {
    let time_zone = match &config.time_zone {
        Some((zone, _)) => jiff::tz::TimeZone::get(zone).map_err(|e| {
            print_usage_error(&format!("the time zone `{zone}` cannot be used: {e}"));
            Exit::Usage
        })?,
        None => jiff::tz::TimeZone::UTC,
    };
    let date = as_of_date(args, config, &time_zone).map_err(|m| {
        print_usage_error(&m);
        Exit::Usage
    })?;
    let as_of = AsOf::end_of_day(date, time_zone.clone()).map_err(|e| {
        print_usage_error(&format!("the date {date} cannot be used: {e}"));
        Exit::Usage
    })?;

    let mut params = HashMap::new();
    for p in &args.params {
        let Some((param, value)) = p.split_once('=') else {
            print_usage_error(&format!(
                "`--param {p}` needs a name and a value, as in `--param min_arr=60000`"
            ));
            return Err(Exit::Usage);
        };
        let (id, v) = find_param(program, param.trim())
            .and_then(|id| parse_param_value(program, id, value).map(|v| (id, v)))
            .map_err(|m| {
                print_usage_error(&format!("`--param {p}`: {m}"));
                Exit::Usage
            })?;
        params.insert(id, v);
    }
    Ok(RunSettings { as_of, params })
}

/// A checked project with its as-of moment and parameters settled, for commands that read no
/// data (`segl sql`).
pub struct Checked {
    pub program: Program,
    pub sources: SourceMap,
    pub settings: RunSettings,
    pub color: bool,
    /// The project's `segl.toml`, its folder and its name in messages.
    pub config: project::Config,
    pub dir: PathBuf,
    pub name: String,
}

/// Checks the project and settles its as-of moment and parameters, without reading data. On
/// failure the problem is already printed and the exit code is returned.
pub fn checked(project: &Path, args: &ProjectArgs, command: &str) -> Result<Checked, Exit> {
    let color = stderr_color(args.color);
    let input = one_project(project, command)?;
    let checked = check_project(&input);
    let sources = checked.sources;
    if report(&checked.diagnostics, &sources, color) {
        return Err(Exit::Errors);
    }
    let program = checked.program.ok_or(Exit::Errors)?;
    let Some(config) = checked.config else {
        print_usage_error(&format!(
            "`{}` has no `segl.toml`; add one (see docs/cli.md) so segl knows the project's time \
             zone and as-of date",
            input.name
        ));
        return Err(Exit::Usage);
    };
    let settings = run_settings(&program, &config, args)?;
    Ok(Checked {
        program,
        sources,
        settings,
        color,
        config,
        dir: project_dir(project),
        name: input.name,
    })
}

/// An entity by name, or a sentence saying which names exist.
pub fn entity_named(program: &Program, name: &str) -> Result<EntityId, String> {
    if let Some(i) = program.entities.iter().position(|e| e.name == name) {
        return Ok(EntityId::from_index(i));
    }
    let names: Vec<suggest::Candidate> = program
        .entities
        .iter()
        .map(|e| suggest::Candidate::plain(&e.name))
        .collect();
    let near = suggest::nearest(name, &names);
    let hint = suggest::did_you_mean(&near).unwrap_or_else(|| {
        let all: Vec<String> = program
            .entities
            .iter()
            .map(|e| format!("`{}`", e.name))
            .collect();
        format!("the entities are {}", all.join(", "))
    });
    Err(format!("there is no entity `{name}`; {hint}"))
}

fn as_of_date(
    args: &ProjectArgs,
    config: &project::Config,
    tz: &jiff::tz::TimeZone,
) -> Result<jiff::civil::Date, String> {
    if let Some(text) = &args.as_of {
        return text.trim().parse::<jiff::civil::Date>().map_err(|_| {
            format!("`--as-of {text}` is not a date; write it as YYYY-MM-DD, e.g. 2026-01-31")
        });
    }
    match &config.as_of {
        Some((ConfigAsOf::Date { year, month, day }, _)) => {
            let year =
                i16::try_from(*year).map_err(|_| "the `as_of` year is out of range".to_owned())?;
            let month =
                i8::try_from(*month).map_err(|_| "the `as_of` month is out of range".to_owned())?;
            let day =
                i8::try_from(*day).map_err(|_| "the `as_of` day is out of range".to_owned())?;
            jiff::civil::Date::new(year, month, day)
                .map_err(|e| format!("`as_of` in segl.toml: {e}"))
        }
        Some((ConfigAsOf::Today, _)) | None => Ok(tz.to_datetime(jiff::Timestamp::now()).date()),
    }
}

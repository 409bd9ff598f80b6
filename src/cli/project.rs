//! What every command that evaluates rules does first: check the project, settle the as-of date,
//! the time zone and the parameters, and load and validate the data.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::{ColorChoice, Exit, files, print_usage_error};
use segl::check::check_project;
use segl::diagnostics::{Diagnostic, render, suggest};
use segl::engine::load::{DataSource, load};
use segl::engine::{AsOf, Dataset, RunSettings};
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
}

fn stderr_color(choice: ColorChoice) -> bool {
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
fn report(diagnostics: &[Diagnostic], sources: &SourceMap, color: bool) -> bool {
    if diagnostics.is_empty() {
        return false;
    }
    let text = render::human(diagnostics, sources, color);
    eprint!("{text}");
    diagnostics.iter().any(Diagnostic::is_error)
}

/// A spinner on standard error, shown only when it is a terminal.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    pub fn start(message: &str) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress(Some(bar))
    }

    pub fn done(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

fn project_dir(path: &Path) -> PathBuf {
    if path.is_file() {
        path.parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    } else {
        path.to_path_buf()
    }
}

/// A checked project with its as-of moment and parameters settled (no data read yet).
pub struct Settled {
    pub program: Program,
    pub config: project::Config,
    pub sources: SourceMap,
    pub input_name: String,
    pub settings: RunSettings,
    pub color: bool,
}

/// Checks the project and settles the as-of date, the time zone and the parameters. On failure
/// the problem is already printed and the exit code is returned.
pub fn settle(project: &Path, args: &ProjectArgs, command: &str) -> Result<Settled, Exit> {
    let color = stderr_color(args.color);
    let projects = files::collect(&[project.to_path_buf()]).map_err(|files::Problem(m)| {
        print_usage_error(&m);
        Exit::Usage
    })?;
    let [input] = projects.as_slice() else {
        print_usage_error(&format!(
            "`segl {command}` works on one project at a time; give it one folder"
        ));
        return Err(Exit::Usage);
    };
    let checked = check_project(input);
    let sources = checked.sources;
    if report(&checked.diagnostics, &sources, color) {
        return Err(Exit::Errors);
    }
    let program = checked.program.ok_or(Exit::Errors)?;
    let Some(config) = checked.config else {
        print_usage_error(&format!(
            "`{}` has no `segl.toml`, so segl does not know where its data is; add one with a \
             `[data]` section (see docs/run.md)",
            input.name
        ));
        return Err(Exit::Usage);
    };

    let time_zone = match &config.time_zone {
        Some((name, _)) => jiff::tz::TimeZone::get(name).map_err(|e| {
            print_usage_error(&format!("the time zone `{name}` cannot be used: {e}"));
            Exit::Usage
        })?,
        None => jiff::tz::TimeZone::UTC,
    };
    let date = as_of_date(args, &config, &time_zone).map_err(|m| {
        print_usage_error(&m);
        Exit::Usage
    })?;
    let as_of = AsOf::end_of_day(date, time_zone.clone()).map_err(|e| {
        print_usage_error(&format!("the date {date} cannot be used: {e}"));
        Exit::Usage
    })?;

    let mut params = HashMap::new();
    for p in &args.params {
        let Some((name, value)) = p.split_once('=') else {
            print_usage_error(&format!(
                "`--param {p}` needs a name and a value, as in `--param min_arr=60000`"
            ));
            return Err(Exit::Usage);
        };
        let (id, v) = find_param(&program, name.trim())
            .and_then(|id| parse_param_value(&program, id, value).map(|v| (id, v)))
            .map_err(|m| {
                print_usage_error(&format!("`--param {p}`: {m}"));
                Exit::Usage
            })?;
        params.insert(id, v);
    }

    Ok(Settled {
        program,
        config,
        sources,
        input_name: input.name.clone(),
        settings: RunSettings { as_of, params },
        color,
    })
}

/// Checks the project and loads its data. On failure the problem is already printed and the
/// exit code is returned.
#[allow(clippy::too_many_lines)]
pub fn prepare(project: &Path, args: &ProjectArgs, command: &str) -> Result<Ready, Exit> {
    let Settled {
        program,
        config,
        mut sources,
        input_name,
        settings,
        color,
    } = settle(project, args, command)?;
    let time_zone = settings.as_of.time_zone.clone();
    let dir = project_dir(project);
    let (specs, found) = project::data::data_sources(&config, &sources, &program, &input_name);
    if report(&found, &sources, color) {
        return Err(Exit::Errors);
    }
    let mut data_sources: Vec<DataSource> = specs.iter().map(|s| s.resolve(&dir)).collect();
    for d in &args.data {
        let Some((entity, path)) = d.split_once('=') else {
            print_usage_error(&format!(
                "`--data {d}` needs an entity and a file, as in `--data customer=customers.csv`"
            ));
            return Err(Exit::Usage);
        };
        let id = entity_named(&program, entity.trim()).map_err(|m| {
            print_usage_error(&format!("`--data {d}`: {m}"));
            Exit::Usage
        })?;
        data_sources.retain(|s| s.entity != id);
        data_sources.push(DataSource::new(id, PathBuf::from(path), path.to_owned()));
    }
    if data_sources.is_empty() {
        print_usage_error(&format!(
            "`{}` names no data: add a `[data]` section to `segl.toml` (see docs/run.md) or use \
             `--data ENTITY=PATH`",
            input_name
        ));
        return Err(Exit::Usage);
    }

    let progress = Progress::start("loading data");
    let loaded = load(&program, &data_sources, &time_zone, &mut sources);
    progress.done();
    if report(&loaded.diagnostics, &sources, color) {
        return Err(Exit::Errors);
    }
    Ok(Ready {
        program,
        dataset: loaded.dataset,
        settings,
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

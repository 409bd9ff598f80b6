//! `segl run`: checks a project, loads its data, evaluates every segment, tier and score, prints a
//! summary and optionally writes the membership table.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use super::{ColorChoice, Exit, files, print_out, print_usage_error};
use segl::check::check_project;
use segl::diagnostics::{Diagnostic, render, suggest};
use segl::engine::load::{DataSource, load};
use segl::engine::lower::{ExtraColumn, Request, Rule, column_expr, evaluate};
use segl::engine::output::{OutputFormat, write};
use segl::engine::summary::{Summary, summarize};
use segl::engine::{AsOf, RunSettings};
use segl::ir::{EntityId, Program, ScoreId, SegmentId, TierSetId};
use segl::project::{self, config::AsOf as ConfigAsOf};
use segl::sema::params::{find_param, parse_param_value};
use segl::source::SourceMap;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The project folder (with `segl.toml`)
    #[arg(default_value = ".")]
    project: PathBuf,
    /// The date to evaluate on (YYYY-MM-DD); default: `as_of` in `segl.toml`, else today
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Set a parameter, e.g. `--param min_arr=60000` (repeatable)
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Evaluate only this segment, tier set or score (repeatable)
    #[arg(long = "segment", value_name = "NAME")]
    segments: Vec<String>,
    /// Read an entity's records from this file instead of `segl.toml`'s, e.g.
    /// `--data customer=export.csv` (repeatable)
    #[arg(long = "data", value_name = "ENTITY=PATH")]
    data: Vec<String>,
    /// Write the membership table to this file (.csv, .parquet, .ndjson or .jsonl)
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Add fields or definitions to the membership table, e.g. `--columns arr,lifetime_value`
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    columns: Vec<String>,
    /// How to print the summary
    #[arg(long, value_enum, default_value_t = RunFormat::Human)]
    format: RunFormat,
    /// When to colour messages about the rules and data
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RunFormat {
    /// A table for people
    Human,
    /// One JSON document for scripts
    Json,
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

/// A spinner on standard error, shown only on a terminal.
struct Progress(Option<ProgressBar>);

impl Progress {
    fn new() -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress(Some(bar))
    }

    fn step(&self, message: impl Into<String>) {
        if let Some(bar) = &self.0 {
            bar.set_message(message.into());
        }
    }

    fn done(&self) {
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

#[allow(clippy::too_many_lines)]
pub fn run(args: &RunArgs) -> Exit {
    let started = Instant::now();
    let color = stderr_color(args.color);
    let projects = match files::collect(std::slice::from_ref(&args.project)) {
        Ok(p) => p,
        Err(files::Problem(message)) => {
            print_usage_error(&message);
            return Exit::Usage;
        }
    };
    let [input] = projects.as_slice() else {
        print_usage_error("`segl run` runs one project at a time; give it one folder");
        return Exit::Usage;
    };
    let checked = check_project(input);
    let mut sources = checked.sources;
    if report(&checked.diagnostics, &sources, color) {
        return Exit::Errors;
    }
    let Some(program) = checked.program else {
        return Exit::Errors;
    };
    let Some(config) = checked.config else {
        print_usage_error(&format!(
            "`{}` has no `segl.toml`, so segl does not know where its data is; add a `[data]` section \
             (see `docs/run.md`) or give each entity's file with `--data ENTITY=PATH`",
            input.name
        ));
        return Exit::Usage;
    };

    // The moment of evaluation.
    let time_zone = match &config.time_zone {
        Some((name, _)) => match jiff::tz::TimeZone::get(name) {
            Ok(tz) => tz,
            Err(e) => {
                print_usage_error(&format!("the time zone `{name}` cannot be used: {e}"));
                return Exit::Usage;
            }
        },
        None => jiff::tz::TimeZone::UTC,
    };
    let as_of_date = match as_of_date(args, &config, &time_zone) {
        Ok(d) => d,
        Err(message) => {
            print_usage_error(&message);
            return Exit::Usage;
        }
    };
    let as_of = match AsOf::end_of_day(as_of_date, time_zone.clone()) {
        Ok(a) => a,
        Err(e) => {
            print_usage_error(&format!("the date {as_of_date} cannot be used: {e}"));
            return Exit::Usage;
        }
    };

    // Parameters, rules and columns asked for on the command line.
    let mut params = HashMap::new();
    for p in &args.params {
        let Some((name, value)) = p.split_once('=') else {
            print_usage_error(&format!(
                "`--param {p}` needs a name and a value, as in `--param min_arr=60000`"
            ));
            return Exit::Usage;
        };
        let parsed = find_param(&program, name.trim())
            .and_then(|id| parse_param_value(&program, id, value).map(|v| (id, v)));
        match parsed {
            Ok((id, v)) => {
                params.insert(id, v);
            }
            Err(message) => {
                print_usage_error(&format!("`--param {p}`: {message}"));
                return Exit::Usage;
            }
        }
    }
    let rules = if args.segments.is_empty() {
        None
    } else {
        let mut rules = Vec::new();
        for name in &args.segments {
            match find_rule(&program, name) {
                Ok(r) => rules.push(r),
                Err(message) => {
                    print_usage_error(&format!("`--segment {name}`: {message}"));
                    return Exit::Usage;
                }
            }
        }
        Some(rules)
    };
    let Some(primary) = program.primary else {
        return Exit::Errors;
    };
    let mut columns = Vec::new();
    for name in &args.columns {
        match column_expr(&program, primary, name) {
            Some(value) => columns.push(ExtraColumn {
                entity: primary,
                name: name.clone(),
                value,
            }),
            None => {
                print_usage_error(&format!(
                    "`--columns {name}`: {}",
                    unknown_column(&program, primary, name)
                ));
                return Exit::Usage;
            }
        }
    }

    // The data.
    let dir = project_dir(&args.project);
    let (specs, found) = project::data::data_sources(&config, &sources, &program, &input.name);
    if report(&found, &sources, color) {
        return Exit::Errors;
    }
    let mut data_sources: Vec<DataSource> = specs.iter().map(|s| s.resolve(&dir)).collect();
    for d in &args.data {
        let Some((entity, path)) = d.split_once('=') else {
            print_usage_error(&format!(
                "`--data {d}` needs an entity and a file, as in `--data customer=customers.csv`"
            ));
            return Exit::Usage;
        };
        let Some(id) = program
            .entities
            .iter()
            .position(|e| e.name == entity.trim())
            .map(EntityId::from_index)
        else {
            let names: Vec<suggest::Candidate> = program
                .entities
                .iter()
                .map(|e| suggest::Candidate::plain(&e.name))
                .collect();
            let near = suggest::nearest(entity.trim(), &names);
            let hint = suggest::did_you_mean(&near).unwrap_or_else(|| {
                let all: Vec<String> = program
                    .entities
                    .iter()
                    .map(|e| format!("`{}`", e.name))
                    .collect();
                format!("the entities are {}", all.join(", "))
            });
            print_usage_error(&format!(
                "`--data {d}`: there is no entity `{entity}`; {hint}"
            ));
            return Exit::Usage;
        };
        data_sources.retain(|s| s.entity != id);
        data_sources.push(DataSource::new(id, PathBuf::from(path), path.to_owned()));
    }
    if data_sources.is_empty() {
        print_usage_error(&format!(
            "`{}` names no data: add a `[data]` section to `segl.toml` (see `docs/run.md`) or use \
             `--data ENTITY=PATH`",
            input.name
        ));
        return Exit::Usage;
    }

    let progress = Progress::new();
    progress.step("loading data");
    let loaded = load(&program, &data_sources, &time_zone, &mut sources);
    progress.done();
    if report(&loaded.diagnostics, &sources, color) {
        return Exit::Errors;
    }
    let dataset = loaded.dataset;

    let progress = Progress::new();
    progress.step("evaluating segments");
    let settings = RunSettings { as_of, params };
    let request = Request { rules, columns };
    let evaluation = match evaluate(&program, &dataset, &settings, &request) {
        Ok(e) => e,
        Err(e) => {
            progress.done();
            print_usage_error(&e.to_string());
            return Exit::Errors;
        }
    };
    progress.done();

    // The membership table.
    let mut written = Vec::new();
    if let Some(out) = &args.out {
        let shown = out.display().to_string();
        let Some(format) = OutputFormat::from_path(&shown) else {
            print_usage_error(&format!(
                "`--out {shown}`: the file name must end in .csv, .parquet, .ndjson or .jsonl"
            ));
            return Exit::Usage;
        };
        for m in &evaluation.memberships {
            let path = if m.entity == primary {
                out.clone()
            } else {
                with_entity_suffix(out, &program.entity(m.entity).name)
            };
            let result = super::write::atomically(&path, |w| {
                write(&m.batch, format, w).map_err(|e| std::io::Error::other(e.to_string()))
            });
            if let Err(e) = result {
                print_usage_error(&format!("cannot write `{}`: {e}", path.display()));
                return Exit::Usage;
            }
            written.push((path.display().to_string(), m.batch.num_rows()));
        }
    }

    let summary = summarize(&program, &evaluation);
    let rows: Vec<(String, usize)> = dataset
        .tables()
        .map(|t| (t.origin.clone(), t.batch.num_rows()))
        .collect();
    let text = match args.format {
        RunFormat::Json => json_summary(&summary, &settings, &rows, &written),
        RunFormat::Human => human_summary(&summary, &settings, &rows, &written, started.elapsed()),
    };
    print_out(&text);
    Exit::Clean
}

fn as_of_date(
    args: &RunArgs,
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

fn find_rule(program: &Program, name: &str) -> Result<Rule, String> {
    if let Some(i) = program.segments.iter().position(|s| s.name == name) {
        return Ok(Rule::Segment(SegmentId::from_index(i)));
    }
    if let Some(i) = program.tier_sets.iter().position(|s| s.name == name) {
        return Ok(Rule::TierSet(TierSetId::from_index(i)));
    }
    if let Some(i) = program.scores.iter().position(|s| s.name == name) {
        return Ok(Rule::Score(ScoreId::from_index(i)));
    }
    let mut names: Vec<&str> = program.segments.iter().map(|s| s.name.as_str()).collect();
    names.extend(program.tier_sets.iter().map(|s| s.name.as_str()));
    names.extend(program.scores.iter().map(|s| s.name.as_str()));
    let cands: Vec<suggest::Candidate> =
        names.iter().map(|n| suggest::Candidate::plain(n)).collect();
    let near = suggest::nearest(name, &cands);
    Err(match suggest::did_you_mean(&near) {
        Some(h) => format!("there is no segment, tier set or score called `{name}`; {h}"),
        None => format!("there is no segment, tier set or score called `{name}`"),
    })
}

fn unknown_column(program: &Program, entity: EntityId, name: &str) -> String {
    let def = program.entity(entity);
    let mut names: Vec<&str> = def.fields.iter().map(|f| f.name.as_str()).collect();
    names.extend(
        program
            .definitions
            .iter()
            .filter(|d| d.entity == entity)
            .map(|d| d.name.as_str()),
    );
    let cands: Vec<suggest::Candidate> =
        names.iter().map(|n| suggest::Candidate::plain(n)).collect();
    let near = suggest::nearest(name, &cands);
    let mut msg = format!("`{}` has no field or definition called `{name}`", def.name);
    if let Some(h) = suggest::did_you_mean(&near) {
        msg.push_str("; ");
        msg.push_str(&h);
    }
    msg
}

/// `members.csv` for `company` becomes `members.company.csv`.
fn with_entity_suffix(path: &Path, entity: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!("{stem}.{entity}.{ext}"))
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn human_summary(
    summary: &Summary,
    settings: &RunSettings,
    rows: &[(String, usize)],
    written: &[(String, usize)],
    elapsed: Duration,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let tz = settings.as_of.time_zone.iana_name().unwrap_or("UTC");
    let _ = writeln!(out, "as of {} ({tz})", settings.as_of.date);
    let data: Vec<String> = rows
        .iter()
        .map(|(name, n)| format!("{name} ({} rows)", thousands(*n as u64)))
        .collect();
    let _ = writeln!(out, "data: {}", data.join(", "));
    for e in &summary.entities {
        let _ = writeln!(out, "\n{} records: {}", e.entity, thousands(e.records));
        if !e.segments.is_empty() {
            let width = e
                .segments
                .iter()
                .map(|s| s.name.chars().count())
                .max()
                .unwrap_or(7)
                .max(7);
            let _ = writeln!(
                out,
                "\n  {:width$}  {:>9}  {:>6}  {:>14}  title",
                "segment", "members", "share", "unknown, out"
            );
            for s in &e.segments {
                let unknown = if s.excluded_by_unknown == 0 {
                    "-".to_owned()
                } else {
                    thousands(s.excluded_by_unknown)
                };
                let _ = writeln!(
                    out,
                    "  {:width$}  {:>9}  {:>6}  {:>14}  {}",
                    s.name,
                    thousands(s.members),
                    percent(s.share),
                    unknown,
                    s.title.as_deref().unwrap_or("")
                );
            }
        }
        for t in &e.tier_sets {
            let title = t
                .title
                .as_deref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default();
            let _ = writeln!(out, "\n  tiers {}{title}", t.name);
            let width = t
                .tiers
                .iter()
                .map(|r| r.tier.chars().count())
                .max()
                .unwrap_or(4);
            for r in &t.tiers {
                let _ = writeln!(
                    out,
                    "    {:width$}  {:>9}  {:>6}",
                    r.tier,
                    thousands(r.records),
                    percent(r.share)
                );
            }
        }
        for s in &e.scores {
            let title = s
                .title
                .as_deref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "\n  score {}{title}: lowest {}, average {:.1}, highest {}",
                s.name, s.min, s.mean, s.max
            );
        }
    }
    if e_has_unknown(summary) {
        let _ = writeln!(
            out,
            "\n\"unknown, out\": records outside the segment while a value it tests is unknown."
        );
    }
    for (path, n) in written {
        let _ = writeln!(out, "\nwrote {path} ({} rows)", thousands(*n as u64));
    }
    let _ = writeln!(out, "\ndone in {:.2} s", elapsed.as_secs_f64());
    out
}

fn e_has_unknown(summary: &Summary) -> bool {
    summary
        .entities
        .iter()
        .any(|e| e.segments.iter().any(|s| s.excluded_by_unknown > 0))
}

fn json_summary(
    summary: &Summary,
    settings: &RunSettings,
    rows: &[(String, usize)],
    written: &[(String, usize)],
) -> String {
    #[derive(serde::Serialize)]
    struct Source<'a> {
        file: &'a str,
        rows: usize,
    }
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        as_of: String,
        time_zone: &'a str,
        data: Vec<Source<'a>>,
        results: &'a Summary,
        written: Vec<Source<'a>>,
    }
    let doc = Doc {
        as_of: settings.as_of.date.to_string(),
        time_zone: settings.as_of.time_zone.iana_name().unwrap_or("UTC"),
        data: rows
            .iter()
            .map(|(f, n)| Source { file: f, rows: *n })
            .collect(),
        results: summary,
        written: written
            .iter()
            .map(|(f, n)| Source { file: f, rows: *n })
            .collect(),
    };
    let mut text =
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

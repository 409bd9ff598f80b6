//! `segl run`: evaluates every segment, tier and score of a project over its data, prints a
//! summary and optionally writes the membership table.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};

use super::project::{Progress, ProjectArgs, Reading, prepare};
use super::{Exit, print_out, print_usage_error};
use segl::diagnostics::{suggest, thousands};
use segl::engine::RunSettings;
use segl::engine::lower::streaming::streamable;
use segl::engine::lower::{
    EngineError, Evaluation, ExtraColumn, Request, Rule, column_expr, evaluate,
};
use segl::engine::output::{OutputFormat, write};
use segl::engine::summary::{Summary, summarize};
use segl::ir::{EntityId, Program, ScoreId, SegmentId, TierSetId};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The project folder (with `segl.toml`)
    #[arg(default_value = ".")]
    project: PathBuf,
    #[command(flatten)]
    common: ProjectArgs,
    /// Evaluate only this segment, tier set or score (repeatable)
    #[arg(long = "segment", value_name = "NAME")]
    segments: Vec<String>,
    /// Write the membership table to this file (.csv, .parquet, .ndjson or .jsonl)
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Add fields or definitions to the membership table, e.g. `--columns arr,lifetime_value`
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    columns: Vec<String>,
    /// Add the run's membership to this history (a Parquet file of intervals; see
    /// docs/tracking-over-time.md)
    #[arg(long, value_name = "FILE.parquet")]
    history: Option<PathBuf>,
    /// How to print the summary
    #[arg(long, value_enum, default_value_t = RunFormat::Human)]
    format: RunFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RunFormat {
    /// A table for people
    Human,
    /// One JSON document for scripts
    Json,
}

pub fn run(args: &RunArgs) -> Exit {
    let started = Instant::now();
    // The rules, columns and output asked for are settled before any data is read, so a
    // mistake on the command line is reported at once, and only what they need is loaded.
    let choose = |program: &Program| {
        let selection = select(args, program)?;
        let reading = Reading {
            usage: selection.request.usage(program),
            stream: streamable(program, &selection.request),
        };
        Ok((reading, selection))
    };
    let (ready, selection) = match prepare(&args.project, &args.common, "run", choose) {
        Ok(r) => r,
        Err(exit) => return exit,
    };
    let program = &ready.program;
    let Selection {
        primary,
        request,
        out_format,
    } = selection;

    let progress = Progress::start("evaluating segments");
    let color = super::project::stderr_color(args.common.color);
    let evaluation = match evaluate(program, &ready.dataset, &ready.settings, &request) {
        Ok(e) => e,
        Err(EngineError::Data(found)) => {
            progress.done();
            super::project::report(&found, &ready.sources, color);
            return Exit::Errors;
        }
        Err(e) => {
            progress.done();
            print_usage_error(&e.to_string());
            return Exit::Errors;
        }
    };
    progress.done();
    super::project::report(&evaluation.diagnostics, &ready.sources, color);

    // The summary is counted while the membership files are written: both only read the
    // results.
    let progress = Progress::start("writing the membership");
    let (summary, written) = std::thread::scope(|scope| {
        let summary = scope.spawn(|| summarize(program, &evaluation));
        let written = write_memberships(args, program, primary, out_format, &evaluation);
        let summary = summary
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (summary, written)
    });
    progress.done();
    let written = match written {
        Ok(written) => written,
        Err(exit) => return exit,
    };

    let mut history_line = None;
    if let Some(path) = &args.history {
        match record_history(args, path, program, &ready, &evaluation.memberships) {
            Ok(line) => history_line = Some(line),
            Err(exit) => return exit,
        }
    }

    let rows: Vec<(String, usize)> = ready
        .dataset
        .files()
        .into_iter()
        .map(|(_, origin, n)| (origin, n))
        .collect();
    let text = match args.format {
        RunFormat::Json => json_summary(&summary, &ready.settings, &rows, &written),
        RunFormat::Human => human_summary(
            &summary,
            &ready.settings,
            &rows,
            &written,
            started.elapsed(),
        ),
    };
    print_out(&text);
    if let Some(line) = history_line {
        eprintln!("{line}");
    }
    Exit::Clean
}

/// Writes each entity's membership to `--out` (the primary entity's) or a file named after the
/// entity next to it, each atomically; the files written and their rows. A file that cannot be
/// written is printed and returned as the exit code.
fn write_memberships(
    args: &RunArgs,
    program: &Program,
    primary: EntityId,
    out_format: Option<OutputFormat>,
    evaluation: &Evaluation,
) -> Result<Vec<(String, usize)>, Exit> {
    let mut written = Vec::new();
    let (Some(out), Some(format)) = (&args.out, out_format) else {
        return Ok(written);
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
            return Err(Exit::Usage);
        }
        written.push((path.display().to_string(), m.batch.num_rows()));
    }
    Ok(written)
}

/// What `segl run` was asked for, read from its options once the rules are checked.
struct Selection {
    primary: EntityId,
    request: Request,
    out_format: Option<OutputFormat>,
}

/// Reads `--segment`, `--columns` and `--out` against the checked program; a mistake is printed
/// and returned as the exit code.
fn select(args: &RunArgs, program: &Program) -> Result<Selection, Exit> {
    let Some(primary) = program.primary else {
        return Err(Exit::Errors);
    };
    let rules = if args.segments.is_empty() {
        None
    } else {
        let mut rules = Vec::new();
        for name in &args.segments {
            match find_rule(program, name) {
                Ok(r) => rules.push(r),
                Err(message) => {
                    print_usage_error(&format!("`--segment {name}`: {message}"));
                    return Err(Exit::Usage);
                }
            }
        }
        Some(rules)
    };
    let mut columns = Vec::new();
    for name in &args.columns {
        match column_expr(program, primary, name) {
            Some(value) => columns.push(ExtraColumn {
                entity: primary,
                name: name.clone(),
                value,
            }),
            None => {
                print_usage_error(&format!(
                    "`--columns {name}`: {}",
                    unknown_column(program, primary, name)
                ));
                return Err(Exit::Usage);
            }
        }
    }
    let out_format = match &args.out {
        None => None,
        Some(out) => match OutputFormat::from_path(&out.display().to_string()) {
            Some(f) => Some(f),
            None => {
                print_usage_error(&format!(
                    "`--out {}`: the file name must end in .csv, .parquet, .ndjson or .jsonl",
                    out.display()
                ));
                return Err(Exit::Usage);
            }
        },
    };
    Ok(Selection {
        primary,
        request: Request { rules, columns },
        out_format,
    })
}

/// The rules' version: the git commit of the project (with `-dirty` when its rule files or
/// `segl.toml` have changes not committed), or a hash of its rule files and `segl.toml` outside
/// git. Other files of the project folder (data, a history file, notes) do not count.
fn rules_version(project: &Path) -> String {
    let dir = super::project::project_dir(project);
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let input = super::project::one_project(project, "run").ok();
    let git = |args: &[&str]| super::diff::git(&dir, args).ok().flatten();
    if let Some(commit) = git(&["rev-parse", "--short", "HEAD"]) {
        let commit = super::diff::text_line(&commit);
        let prefix = git(&["rev-parse", "--show-prefix"])
            .map(|b| super::diff::text_line(&b))
            .unwrap_or_default();
        let status = git(&[
            "status",
            "--porcelain",
            "-z",
            "--untracked-files=all",
            "--",
            ".",
        ])
        .unwrap_or_default();
        let config = input.as_ref().and_then(|i| i.config.as_ref()).map(|c| {
            let text = String::from_utf8_lossy(&c.bytes);
            segl::project::parse_config(
                segl::source::FileId(0),
                text.trim_start_matches('\u{feff}'),
            )
            .0
        });
        let dirty = changed_paths(&status).iter().any(|path| {
            path.strip_prefix(prefix.as_str()).is_some_and(|rel| {
                !rel.split('/').any(|part| part.starts_with('.'))
                    && (rel == "segl.toml" || segl::project::is_rule_file(rel, config.as_ref()))
            })
        });
        return if dirty {
            format!("{commit}-dirty")
        } else {
            commit
        };
    }
    match input {
        Some(input) => {
            let mut parts: Vec<(&str, &[u8])> = input
                .rules
                .iter()
                .map(|f| (f.name.as_str(), f.bytes.as_slice()))
                .collect();
            if let Some(c) = &input.config {
                parts.push(("segl.toml", c.bytes.as_slice()));
            }
            format!("rules-{}", segl::history::fingerprint(parts))
        }
        None => "unknown".to_owned(),
    }
}

/// The paths `git status --porcelain -z` names (both sides of a rename), relative to the top of
/// the repository.
fn changed_paths(status: &[u8]) -> Vec<String> {
    let mut paths = Vec::new();
    let mut fields = status.split(|b| *b == 0).filter(|f| !f.is_empty());
    while let Some(entry) = fields.next() {
        let (Some(code), Some(path)) = (entry.get(..2), entry.get(3..)) else {
            continue;
        };
        paths.push(String::from_utf8_lossy(path).into_owned());
        if (code.contains(&b'R') || code.contains(&b'C'))
            && let Some(from) = fields.next()
        {
            paths.push(String::from_utf8_lossy(from).into_owned());
        }
    }
    paths
}

/// E1004: the file given as a history is not one (`segl run --history`, `segl report
/// --history`); printed with the command line, the file name underlined.
pub(super) fn not_a_history(command: &str, shown: &str, why: String, color: bool) {
    let mut sources = segl::source::SourceMap::new();
    let start = format!("segl {command} --history ").len();
    let text = format!("segl {command} --history {shown}");
    let file = sources.add("command line", text.clone());
    let d = segl::diagnostics::Diagnostic::new(
        segl::diagnostics::Code::E1004,
        segl::source::Span::new(file, start, text.len()),
        format!("`{shown}` is not a segl membership history"),
    )
    .label(why)
    .help(if command == "run" {
        "give `--history` a file of its own: the first run creates it, later runs add to it"
    } else {
        "give `--history` the file `segl run --history` writes; the first run creates it"
    })
    .note(format!(
        "a history has the columns {}",
        segl::history::COLUMNS.join(", ")
    ));
    super::project::report(&[d], &sources, color);
}

fn record_history(
    args: &RunArgs,
    path: &Path,
    program: &Program,
    ready: &super::project::Ready,
    memberships: &[segl::engine::Membership],
) -> Result<String, Exit> {
    use segl::history::{HistoryError, RunInfo, read, update};
    let shown = path.display().to_string();
    if !shown.to_lowercase().ends_with(".parquet") {
        print_usage_error(&format!(
            "`--history {shown}`: the history is a Parquet file; give it a name ending in .parquet"
        ));
        return Err(Exit::Usage);
    }
    let existing = if path.exists() {
        let bytes = std::fs::read(path).map_err(|e| {
            print_usage_error(&format!("cannot read `{shown}`: {e}"));
            Exit::Usage
        })?;
        match read(bytes) {
            Ok(i) => i,
            Err(HistoryError::NotAHistory(why)) => {
                not_a_history(
                    "run",
                    &shown,
                    why,
                    super::project::stderr_color(args.common.color),
                );
                return Err(Exit::Usage);
            }
            Err(HistoryError::Earlier { .. }) => {
                print_usage_error(&format!("cannot read `{shown}` as a history"));
                return Err(Exit::Usage);
            }
        }
    } else {
        Vec::new()
    };
    let fingerprint = data_fingerprint(args, program, ready)?;
    let version = rules_version(&args.project);
    let snapshot = segl::diff::snapshot::Snapshot::new(program, memberships);
    let run = RunInfo {
        as_of: ready.settings.as_of.date,
        rules_version: &version,
        data_fingerprint: &fingerprint,
        complete: args.segments.is_empty(),
    };
    let updated = match update(existing, &snapshot, &run) {
        Ok(u) => u,
        Err(HistoryError::Earlier { as_of, latest }) => {
            print_usage_error(&format!(
                "`--history {shown}` already has runs up to {latest}; a run as of {as_of} cannot be added before them (give a later `--as-of`, or another history file)"
            ));
            return Err(Exit::Usage);
        }
        Err(HistoryError::NotAHistory(m)) => {
            print_usage_error(&m);
            return Err(Exit::Usage);
        }
    };
    if !updated.changed() {
        return Ok(format!("history {shown}: no changes since the last run"));
    }
    let result = super::write::atomically(path, |w| {
        segl::history::write(&updated.intervals, w).map_err(std::io::Error::other)
    });
    if let Err(e) = result {
        print_usage_error(&format!("cannot write `{shown}`: {e}"));
        return Err(Exit::Usage);
    }
    Ok(format!(
        "history {shown}: {} intervals opened, {} closed as of {}",
        thousands(updated.opened as u64),
        thousands(updated.closed as u64),
        run.as_of
    ))
}

/// A fingerprint of the data files the run loaded, read again from the paths they were loaded
/// from, one table per entity in entity order; E0600 when one cannot be read now.
fn data_fingerprint(
    args: &RunArgs,
    program: &Program,
    ready: &super::project::Ready,
) -> Result<String, Exit> {
    let mut sources = ready.sources.clone();
    let mut fingerprint = segl::history::Fingerprint::new();
    for (entity, origin, _) in ready.dataset.files() {
        let Some(source) = ready
            .data_sources
            .iter()
            .find(|s| s.entity == entity && s.shown == origin)
        else {
            continue;
        };
        match segl::engine::load::file_bytes(program, source, &mut sources) {
            Ok(bytes) => fingerprint.add(&program.entity(entity).name, &bytes),
            Err(d) => {
                super::project::report(
                    &[d],
                    &sources,
                    super::project::stderr_color(args.common.color),
                );
                return Err(Exit::Errors);
            }
        }
    }
    Ok(fingerprint.finish())
}

pub fn find_rule(program: &Program, name: &str) -> Result<Rule, String> {
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

//! `segl report --out report.html`: evaluates the project and writes one self-contained HTML page
//! with charts; with `--before DATA` or `--history FILE`, also the tier transitions.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;

use super::diff::{as_of_line, check_and_settle, evaluate_side, in_folder};
use super::project::{ProjectArgs, stderr_color};
use super::{Exit, print_usage_error};
use segl::diff::snapshot::Snapshot;
use segl::diff::{Diff, Side, compare};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The project folder (with `segl.toml`)
    #[arg(default_value = ".")]
    project: PathBuf,
    /// Where to write the page (.html)
    #[arg(long, value_name = "FILE.html")]
    out: PathBuf,
    /// A folder with earlier data files: adds the tier transitions from it to the project's data
    #[arg(long, value_name = "DATA", conflicts_with = "history")]
    before: Option<PathBuf>,
    /// A folder with the later data files; default: the project's data
    #[arg(long, value_name = "DATA", requires = "before")]
    after: Option<PathBuf>,
    /// A membership history (`segl run --history`): adds the tier transitions between the last
    /// two days on which it records a change
    #[arg(long, value_name = "FILE.parquet")]
    history: Option<PathBuf>,
    #[command(flatten)]
    common: ProjectArgs,
}

pub fn run(args: &ReportArgs) -> Exit {
    match make(args) {
        Ok(()) => Exit::Clean,
        Err(exit) => exit,
    }
}

fn make(args: &ReportArgs) -> Result<(), Exit> {
    let color = stderr_color(args.common.color);
    let shown_out = args.out.display().to_string();
    if !shown_out.to_lowercase().ends_with(".html") && !shown_out.to_lowercase().ends_with(".htm") {
        print_usage_error(&format!(
            "`--out {shown_out}`: the report is an HTML page; give it a name ending in .html"
        ));
        return Err(Exit::Usage);
    }
    let (checked, settled) = check_and_settle(&args.project, &args.common, "report", color)?;
    let (program, input, mut sources) = (checked.program, checked.input, checked.sources);
    let after_data = match &args.after {
        Some(f) => in_folder(&settled.data_sources, f)?,
        None => settled.data_sources.clone(),
    };
    let now = evaluate_side(
        &program,
        &after_data,
        &settled.settings,
        &mut sources,
        color,
    )?;
    let mut context = vec![as_of_line(&settled.settings.as_of)];
    let files: Vec<&str> = after_data.iter().map(|s| s.shown.as_str()).collect();
    context.push(format!("data: {}", files.join(", ")));

    let none = BTreeMap::new();
    let mut transitions: Option<Diff> = None;
    if let Some(folder) = &args.before {
        let before_data = in_folder(&settled.data_sources, folder)?;
        let before = evaluate_side(
            &program,
            &before_data,
            &settled.settings,
            &mut sources,
            color,
        )?;
        let after_label = args.after.as_ref().map_or_else(
            || format!("{} data", input.name),
            |f| f.display().to_string(),
        );
        transitions = Some(compare(
            &Side {
                label: folder.display().to_string(),
                snapshot: &before,
                definitions: &none,
            },
            &Side {
                label: after_label,
                snapshot: &now,
                definitions: &none,
            },
        ));
    }
    if let Some(path) = &args.history {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| {
            print_usage_error(&format!("cannot read the history `{shown}`: {e}"));
            Exit::Usage
        })?;
        let intervals = segl::history::read(bytes).map_err(|e| {
            let why = match e {
                segl::history::HistoryError::NotAHistory(m) => m,
                segl::history::HistoryError::Earlier { .. } => String::new(),
            };
            super::run::not_a_history("report", &shown, why, color);
            Exit::Usage
        })?;
        let days = segl::history::run_days(&intervals);
        match days.as_slice() {
            [.., first, last] => {
                let order = |entity: &str, rule: &str| {
                    program
                        .tier_sets
                        .iter()
                        .find(|t| t.name == rule && program.entity(t.entity).name == entity)
                        .map(|t| t.rows.iter().map(|r| r.name.clone()).collect())
                };
                let before: Snapshot = segl::history::tiers_on(&intervals, *first, order);
                let after: Snapshot = segl::history::tiers_on(&intervals, *last, order);
                transitions = Some(compare(
                    &Side {
                        label: format!("{first}"),
                        snapshot: &before,
                        definitions: &none,
                    },
                    &Side {
                        label: format!("{last}"),
                        snapshot: &after,
                        definitions: &none,
                    },
                ));
                context.push(format!(
                    "tier transitions from the history {shown}: between the last two days it \
                     records a change on"
                ));
            }
            _ => eprintln!(
                "note: the history `{shown}` records changes on fewer than two days, so the report has no tier transitions"
            ),
        }
    }
    let name = segl::project::parse_config(
        segl::source::FileId(0),
        &String::from_utf8_lossy(
            input
                .config
                .as_ref()
                .map_or(&[][..], |c| c.bytes.as_slice()),
        ),
    )
    .0
    .name
    .unwrap_or_else(|| input.name.clone());
    let page = segl::report::html(&segl::report::Report {
        title: name,
        context,
        snapshot: &now,
        transitions: transitions.as_ref(),
    });
    super::write::atomically(&args.out, |w| {
        use std::io::Write as _;
        w.write_all(page.as_bytes())
    })
    .map_err(|e| {
        print_usage_error(&format!("cannot write `{shown_out}`: {e}"));
        Exit::Usage
    })?;
    eprintln!("wrote {shown_out}");
    Ok(())
}

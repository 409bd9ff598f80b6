//! `segl why`: explains, condition by condition, why one record is in or out of each segment,
//! which tier it got and how its scores add up.

use std::path::PathBuf;

use clap::Args;

use super::project::{ProjectArgs, Reading, entity_named, prepare};
use super::{Exit, print_out, print_usage_error};
use segl::diagnostics::suggest;
use segl::engine::lower::Request;
use segl::explain::{render, why};
use segl::ir::{Program, SegmentId};

#[derive(Debug, Args)]
pub struct WhyArgs {
    /// The key of the record to explain, e.g. `C0000036`
    id: String,
    /// Explain only this segment
    #[arg(long, value_name = "NAME")]
    segment: Option<String>,
    /// The entity the record belongs to (default: the project's primary entity, or the
    /// segment's entity)
    #[arg(long, value_name = "NAME")]
    entity: Option<String>,
    /// The project folder (with `segl.toml`)
    #[arg(long, short = 'p', default_value = ".", value_name = "FOLDER")]
    project: PathBuf,
    #[command(flatten)]
    common: ProjectArgs,
}

pub fn run(args: &WhyArgs) -> Exit {
    // Every rule of the record's entity is explained, so everything the rules read is loaded.
    let everything =
        |program: &Program| Ok((Reading::whole(Request::default().usage(program)), ()));
    let ready = match prepare(&args.project, &args.common, "why", everything) {
        Ok((r, ())) => r,
        Err(exit) => return exit,
    };
    let program = &ready.program;
    let segment = match &args.segment {
        None => None,
        Some(name) => match program.segments.iter().position(|s| &s.name == name) {
            Some(i) => Some(SegmentId::from_index(i)),
            None => {
                let cands: Vec<suggest::Candidate> = program
                    .segments
                    .iter()
                    .map(|s| suggest::Candidate::plain(&s.name))
                    .collect();
                let near = suggest::nearest(name, &cands);
                let hint = suggest::did_you_mean(&near)
                    .map(|h| format!("; {h}"))
                    .unwrap_or_default();
                print_usage_error(&format!("there is no segment called `{name}`{hint}"));
                return Exit::Usage;
            }
        },
    };
    let entity = match (&args.entity, segment) {
        (Some(name), _) => match entity_named(program, name) {
            Ok(e) => e,
            Err(m) => {
                print_usage_error(&format!("`--entity {name}`: {m}"));
                return Exit::Usage;
            }
        },
        (None, Some(s)) => program.segments[s.index()].entity,
        (None, None) => match program.primary {
            Some(p) => p,
            None => return Exit::Errors,
        },
    };
    match why(
        program,
        &ready.dataset,
        &ready.settings,
        entity,
        &args.id,
        segment,
    ) {
        Ok(explanation) => {
            print_out(&render(&explanation, program));
            Exit::Clean
        }
        Err(e) => {
            print_usage_error(&e.to_string());
            Exit::Usage
        }
    }
}

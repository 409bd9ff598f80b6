//! `segl schema infer`: drafts a schema from data files and prints it or writes it.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::{Exit, print_out, print_usage_error, write};
use segl::diagnostics::{Diagnostic, render};
use segl::infer::{self, DataFile, Inference};
use segl::source::SourceMap;

#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[command(subcommand)]
    command: SchemaCommand,
}

#[derive(Debug, Subcommand)]
enum SchemaCommand {
    /// Draft a schema from CSV, Parquet or NDJSON files, every guess explained in a comment
    Infer(InferArgs),
}

#[derive(Debug, Args)]
pub struct InferArgs {
    /// Data files, one entity each (named after the file: `customers.csv` gives `customer`)
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Write the schema to this file instead of printing it
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: &SchemaArgs) -> Exit {
    match &args.command {
        SchemaCommand::Infer(args) => run_infer(args),
    }
}

/// Reads `paths` and infers a schema; unreadable files are E0600 diagnostics.
pub fn infer_files(paths: &[PathBuf], sources: &mut SourceMap) -> Inference {
    let mut read: Vec<(String, Vec<u8>)> = Vec::new();
    let mut problems: Vec<Diagnostic> = Vec::new();
    for path in paths {
        let shown = path.display().to_string();
        match std::fs::read(path) {
            Ok(bytes) => read.push((shown, bytes)),
            Err(e) => {
                let why = match e.kind() {
                    std::io::ErrorKind::NotFound => "it does not exist".to_owned(),
                    std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
                    _ if path.is_dir() => "it is a folder, not a file".to_owned(),
                    _ => e.to_string(),
                };
                problems.push(infer::unreadable(&shown, &why, sources));
            }
        }
    }
    let files: Vec<DataFile<'_>> = read
        .iter()
        .map(|(name, bytes)| DataFile { name, bytes })
        .collect();
    let mut inference = infer::infer(&files, sources);
    if !problems.is_empty() {
        problems.append(&mut inference.diagnostics);
        inference.diagnostics = problems;
        inference.schema = None;
    }
    inference
}

/// Prints inference problems (plain, to standard error).
pub fn report(diagnostics: &[Diagnostic], sources: &SourceMap) {
    let text = render::plain(diagnostics, sources);
    let mut err = std::io::stderr().lock();
    let _ = std::io::Write::write_all(&mut err, text.as_bytes());
}

fn run_infer(args: &InferArgs) -> Exit {
    let mut sources = SourceMap::new();
    let inference = infer_files(&args.files, &mut sources);
    let Some(schema) = inference.schema else {
        report(&inference.diagnostics, &sources);
        return Exit::Errors;
    };
    let text = schema.text();
    match &args.out {
        None => print_out(&text),
        Some(out) => {
            if let Err(e) =
                write::atomically(out, |w| std::io::Write::write_all(w, text.as_bytes()))
            {
                print_usage_error(&format!("cannot write `{}`: {e}", out.display()));
                return Exit::Usage;
            }
            let names: Vec<String> = schema
                .entities
                .iter()
                .map(|e| format!("`{}`", e.name))
                .collect();
            print_out(&format!(
                "wrote {} with {} {}: {}\n",
                shown(out),
                names.len(),
                if names.len() == 1 {
                    "entity"
                } else {
                    "entities"
                },
                names.join(", ")
            ));
        }
    }
    Exit::Clean
}

fn shown(path: &Path) -> String {
    format!("`{}`", path.display())
}

//! `segl new`: makes a new project folder, either the example project or one drafted from data.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{Exit, print_out, print_usage_error, schema, write};
use segl::infer::scaffold::{self, NewFile};
use segl::source::SourceMap;

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The folder to create (it must not exist yet, or be empty)
    dir: PathBuf,
    /// Data files (CSV, Parquet, NDJSON) to copy into `data/` and draft the schema from
    #[arg(long, num_args = 1..)]
    from: Vec<PathBuf>,
    /// The project's name (default: the folder's name)
    #[arg(long)]
    name: Option<String>,
}

fn is_empty_dir(dir: &Path) -> Result<bool, std::io::Error> {
    Ok(std::fs::read_dir(dir)?.next().is_none())
}

pub fn run(args: &NewArgs) -> Exit {
    let dir = &args.dir;
    if dir.exists() {
        match is_empty_dir(dir) {
            Ok(true) => {}
            Ok(false) => {
                print_usage_error(&format!(
                    "`{}` already has files in it; segl new only creates a project in a new or empty folder, so nothing is overwritten. Choose another folder name",
                    dir.display()
                ));
                return Exit::Usage;
            }
            Err(_) if dir.is_file() => {
                print_usage_error(&format!(
                    "`{}` is a file; give segl new the name of a folder to create",
                    dir.display()
                ));
                return Exit::Usage;
            }
            Err(e) => {
                print_usage_error(&format!("cannot look into `{}`: {e}", dir.display()));
                return Exit::Usage;
            }
        }
    }
    let name = args.name.clone().unwrap_or_else(|| {
        dir.canonicalize()
            .ok()
            .as_deref()
            .unwrap_or(dir)
            .file_name()
            .map_or_else(
                || "segments".to_owned(),
                |n| n.to_string_lossy().into_owned(),
            )
    });
    let mut files: Vec<NewFile> = Vec::new();
    if args.from.is_empty() {
        files = scaffold::example(&name);
    } else {
        let mut sources = SourceMap::new();
        let inference = schema::infer_files(&args.from, &mut sources);
        let Some(schema) = inference.schema else {
            schema::report(&inference.diagnostics, &sources);
            return Exit::Errors;
        };
        let mut targets: Vec<String> = Vec::new();
        for (path, entity) in args.from.iter().zip(&schema.entities) {
            let base = path.file_name().map_or_else(
                || format!("{}.csv", entity.name),
                |n| n.to_string_lossy().into_owned(),
            );
            let mut target = format!("data/{base}");
            let mut n = 2;
            while targets.contains(&target) {
                target = format!("data/{n}-{base}");
                n += 1;
            }
            match std::fs::read(path) {
                Ok(bytes) => files.push(NewFile {
                    path: target.clone(),
                    contents: bytes,
                }),
                Err(e) => {
                    print_usage_error(&format!("cannot read `{}`: {e}", path.display()));
                    return Exit::Usage;
                }
            }
            targets.push(target);
        }
        files.extend(scaffold::from_data(&name, &schema, &targets));
    }
    for file in &files {
        let target = dir.join(&file.path);
        let made = target
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                write::atomically(&target, |w| std::io::Write::write_all(w, &file.contents))
            });
        if let Err(e) = made {
            print_usage_error(&format!("cannot write `{}`: {e}", target.display()));
            return Exit::Usage;
        }
    }
    let shown = dir.display();
    let mut listed: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    listed.sort_unstable();
    print_out(&format!(
        "created the segl project `{name}` in `{shown}`:\n{}\n\nnext:\n  cd {shown}\n  segl check\n  segl test\n  segl run\n",
        listed
            .iter()
            .map(|p| format!("  {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    ));
    Exit::Clean
}

//! Finding and reading the files of a `check` run: what each path on the command line means.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use segl::check::{ProjectInput, RawFile};
use segl::project;
use segl::source::FileId;

/// A problem that stops the run before any checking (exit code 2), as one line for the user.
#[derive(Debug)]
pub struct Problem(pub String);

/// The name to show for `relative` (a `/`-separated path) inside the folder the user wrote as
/// `base`: `rules` + `a.segl` is `rules/a.segl`, `.` + `a.segl` is `a.segl`.
pub fn display_join(base: &str, relative: &str) -> String {
    let base = base.trim_end_matches(['/', '\\']);
    match (base, relative) {
        ("", "") => ".".to_owned(),
        (_, "") => base.to_owned(),
        ("" | ".", _) => relative.to_owned(),
        _ => format!("{base}/{relative}"),
    }
}

fn describe(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::NotFound => "it does not exist".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => err.to_string(),
    }
}

fn read(path: &Path, shown: &str) -> Result<RawFile, Problem> {
    match fs::read(path) {
        Ok(bytes) => Ok(RawFile::new(shown, bytes)),
        Err(err) if err.kind() == io::ErrorKind::IsADirectory || path.is_dir() => Err(Problem(
            format!("cannot read `{shown}`: it is a folder, but a file was expected"),
        )),
        Err(err) => Err(Problem(format!(
            "cannot read `{shown}`: {}",
            describe(&err)
        ))),
    }
}

/// Every file below `dir`, as `/`-separated paths relative to it, in sorted order. Hidden
/// folders and files (names starting with `.`) are skipped; symbolic links to folders are not
/// followed.
fn walk(dir: &Path, shown: &str) -> Result<Vec<String>, Problem> {
    fn visit(dir: &Path, prefix: &str, shown: &str, out: &mut Vec<String>) -> Result<(), Problem> {
        let listing = fs::read_dir(dir).map_err(|e| {
            Problem(format!(
                "cannot read the folder `{}`: {}",
                display_join(shown, prefix),
                describe(&e)
            ))
        })?;
        let mut entries: Vec<(String, PathBuf, bool)> = Vec::new();
        for entry in listing {
            let entry = entry.map_err(|e| Problem(format!("cannot read `{shown}`: {e}")))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            entries.push((name, entry.path(), is_dir));
        }
        entries.sort();
        for (name, path, is_dir) in entries {
            let relative = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if is_dir {
                visit(&path, &relative, shown, out)?;
            } else {
                out.push(relative);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    visit(dir, "", shown, &mut out)?;
    Ok(out)
}

/// The rule files of a folder: its name to show, and the files chosen by `config` (or the
/// default rule), read.
fn rule_files(
    dir: &Path,
    shown: &str,
    config: Option<&project::Config>,
) -> Result<Vec<RawFile>, Problem> {
    walk(dir, shown)?
        .into_iter()
        .filter(|relative| project::is_rule_file(relative, config))
        .map(|relative| {
            let path = relative
                .split('/')
                .fold(dir.to_path_buf(), |p, part| p.join(part));
            read(&path, &display_join(shown, &relative))
        })
        .collect()
}

fn project_input(dir: &Path, shown: &str) -> Result<ProjectInput, Problem> {
    let toml_shown = display_join(shown, "segl.toml");
    let config_file = read(&dir.join("segl.toml"), &toml_shown)?;
    // The `rules` patterns decide which files to read; `check_project` reads the settings again
    // and reports their problems.
    let text = String::from_utf8_lossy(&config_file.bytes);
    let (config, _) = project::parse_config(FileId(0), text.trim_start_matches('\u{feff}'));
    let rules = rule_files(dir, shown, Some(&config))?;
    Ok(ProjectInput {
        name: display_join(shown, ""),
        config: Some(config_file),
        rules,
    })
}

/// Turns the paths of `segl check` into the projects to check: each folder with a `segl.toml`
/// is a project of its own; all other folders and `.segl` files are checked together as one set
/// of rules.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<ProjectInput>, Problem> {
    let mut projects = Vec::new();
    let mut loose: Vec<RawFile> = Vec::new();
    let mut loose_names: Vec<String> = Vec::new();
    for path in paths {
        let shown = path.to_string_lossy().into_owned();
        let meta = fs::metadata(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => Problem(format!(
                "cannot find `{shown}`: there is no file or folder with that name"
            )),
            _ => Problem(format!("cannot read `{shown}`: {}", describe(&e))),
        })?;
        if meta.is_dir() {
            let toml = path.join("segl.toml");
            if toml.is_dir() {
                return Err(Problem(format!(
                    "`{}` is a folder, but it should be the project's settings file",
                    display_join(&shown, "segl.toml")
                )));
            }
            if toml.exists() {
                projects.push(project_input(path, &shown)?);
            } else {
                loose.extend(rule_files(path, &shown, None)?);
                loose_names.push(display_join(&shown, ""));
            }
        } else if path.file_name().is_some_and(|n| n == "segl.toml") {
            let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
            let dir = dir.unwrap_or(Path::new("."));
            projects.push(project_input(dir, &dir.to_string_lossy())?);
        } else if path.extension().is_some_and(|e| e == "segl") {
            loose.push(read(path, &shown)?);
            loose_names.push(shown);
        } else {
            return Err(Problem(format!(
                "cannot check `{shown}`: it is neither a `.segl` file nor a folder"
            )));
        }
    }
    if !loose_names.is_empty() {
        loose.sort_by(|a, b| a.name.cmp(&b.name));
        loose.dedup_by(|a, b| a.name == b.name);
        projects.push(ProjectInput {
            name: loose_names.join(", "),
            config: None,
            rules: loose,
        });
    }
    Ok(projects)
}

#[cfg(test)]
mod tests {
    use super::display_join;

    #[test]
    fn display_names_follow_what_the_user_wrote() {
        assert_eq!(display_join(".", "a.segl"), "a.segl");
        assert_eq!(display_join("rules/", "a.segl"), "rules/a.segl");
        assert_eq!(display_join("../x", "s/a.segl"), "../x/s/a.segl");
        assert_eq!(display_join("rules", ""), "rules");
        assert_eq!(display_join(".", ""), ".");
    }
}

//! Writing output files atomically: into a temporary file next to the target, renamed into place
//! only when everything was written, so a failed run never leaves a half-written file.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

fn temporary_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".to_owned());
    target.with_file_name(format!(".{name}.segl-{}.tmp", std::process::id()))
}

/// Calls `fill` with a writer to a temporary file, then renames it to `target`. On any error the
/// temporary file is removed and `target` is left as it was.
///
/// # Errors
/// Any I/O error, or the error `fill` returned.
pub fn atomically(
    target: &Path,
    fill: impl FnOnce(&mut BufWriter<fs::File>) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = temporary_path(target);
    let result = (|| {
        let file = fs::File::create(&tmp)?;
        let mut w = BufWriter::new(file);
        fill(&mut w)?;
        w.flush()?;
        let file = w.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Every file below `dir`, as its path inside `dir` (parts joined with `/`) and its bytes,
/// sorted by path. A symbolic link counts as a file with no contents (it is not followed).
///
/// # Errors
/// Any I/O error, or a name that is not UTF-8.
pub fn read_tree(dir: &Path) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut todo = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = todo.pop() {
        for entry in fs::read_dir(&path)? {
            let entry = entry?;
            let name = entry
                .file_name()
                .into_string()
                .map_err(|n| io::Error::other(format!("the name {n:?} is not UTF-8")))?;
            let inside = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let kind = entry.file_type()?;
            if kind.is_dir() {
                todo.push((entry.path(), inside));
            } else if kind.is_symlink() {
                out.push((inside, Vec::new()));
            } else {
                out.push((inside, fs::read(entry.path())?));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Replaces the folder `target` with a new one holding `files` (paths inside it, with `/`):
/// everything is written into a temporary folder next to `target` first, then the old folder
/// is moved aside, the new one renamed into place and the old one removed. On any error the
/// temporary folder is removed and `target` is left as it was.
///
/// # Errors
/// Any I/O error.
pub fn replace_dir(target: &Path, files: &[(String, Vec<u8>)]) -> io::Result<()> {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent)?;
    let tmp = temporary_path(target);
    let old = target.with_file_name(
        temporary_path(target)
            .file_name()
            .map(|n| n.to_string_lossy().replace(".tmp", ".old"))
            .unwrap_or_else(|| ".segl.old".to_owned()),
    );
    let written = (|| {
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir(&tmp)?;
        for (path, contents) in files {
            let file = tmp.join(path);
            if let Some(dir) = file.parent() {
                fs::create_dir_all(dir)?;
            }
            let mut f = fs::File::create(&file)?;
            f.write_all(contents)?;
            f.sync_all()?;
        }
        Ok(())
    })();
    if let Err(e) = written {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let had_old = target.exists();
    if had_old && let Err(e) = fs::rename(target, &old) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if let Err(e) = fs::rename(&tmp, target) {
        if had_old {
            let _ = fs::rename(&old, target);
        }
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if had_old {
        let _ = fs::remove_dir_all(&old);
    }
    Ok(())
}

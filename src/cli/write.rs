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

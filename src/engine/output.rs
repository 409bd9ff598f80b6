//! Membership tables written as CSV, Parquet or NDJSON.
//!
//! The writers take any `Write`; the CLI gives them a temporary file and renames it into place
//! only when writing succeeded, so a failed run never leaves a half-written file.

use std::io::Write;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::csv::WriterBuilder as CsvWriterBuilder;
use datafusion::arrow::json::LineDelimitedWriter;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

/// The formats membership can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Csv,
    Parquet,
    Ndjson,
}

impl OutputFormat {
    /// The format a file name's extension asks for: `.csv`, `.parquet`, `.ndjson` or `.jsonl`.
    #[must_use]
    pub fn from_path(path: &str) -> Option<OutputFormat> {
        let lower = path.to_lowercase();
        let ext = lower.rsplit_once('.').map(|(_, e)| e)?;
        match ext {
            "csv" => Some(OutputFormat::Csv),
            "parquet" => Some(OutputFormat::Parquet),
            "ndjson" | "jsonl" => Some(OutputFormat::Ndjson),
            _ => None,
        }
    }
}

/// Why a table could not be written.
#[derive(Debug)]
pub struct WriteError(pub String);

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err(e: impl std::fmt::Display) -> WriteError {
    WriteError(e.to_string())
}

/// Writes `batch` to `out` in `format`.
///
/// # Errors
/// When the underlying writer fails (a full disk, say) or a value cannot be encoded.
pub fn write<W: Write + Send>(
    batch: &RecordBatch,
    format: OutputFormat,
    out: W,
) -> Result<(), WriteError> {
    match format {
        OutputFormat::Csv => {
            let mut w = CsvWriterBuilder::new().with_header(true).build(out);
            w.write(batch).map_err(err)?;
        }
        OutputFormat::Parquet => {
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::default()))
                .build();
            let mut w = ArrowWriter::try_new(out, batch.schema(), Some(props)).map_err(err)?;
            w.write(batch).map_err(err)?;
            w.close().map_err(err)?;
        }
        OutputFormat::Ndjson => {
            let mut w = LineDelimitedWriter::new(out);
            w.write(batch).map_err(err)?;
            w.finish().map_err(err)?;
        }
    }
    Ok(())
}

//! Turns record batches into CSV, NDJSON or Parquet bytes, written to any `Write`.
//!
//! CSV: a header row, RFC 4180 quoting (only where needed), list cells joined with `|`, an empty
//! cell for an unknown value (a required list that is empty is an empty cell too), dates as
//! `2026-11-20`, timestamps in UTC as `2026-11-20T08:15:00Z`, decimals with their scale (`12.50`),
//! booleans `true`/`false`, line ends `\n`.
//! NDJSON: one object per line with every field, `null` for unknown, lists as arrays, decimals as
//! JSON numbers with their scale, dates and timestamps as strings as in CSV.
//! Parquet: the Arrow schema as is, zstd-compressed, written by DataFusion's `parquet` crate.

use std::io::Write;

use datafusion::arrow::array::{
    Array, AsArray, BooleanArray, Date32Array, Decimal128Array, Int64Array, ListArray, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

use super::calendar::{format_date, format_timestamp_micros};

/// A file format `segl generate` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataFormat {
    Csv,
    Parquet,
    Ndjson,
}

impl DataFormat {
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            DataFormat::Csv => "csv",
            DataFormat::Parquet => "parquet",
            DataFormat::Ndjson => "ndjson",
        }
    }
}

/// Something went wrong while encoding or writing.
#[derive(Debug)]
pub enum EncodeError {
    Io(std::io::Error),
    Parquet(String),
    /// A column type the sample encoder does not know (a bug in the generator).
    Unsupported(String),
}

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EncodeError::Io(e) => write!(f, "{e}"),
            EncodeError::Parquet(e) => write!(f, "writing Parquet failed: {e}"),
            EncodeError::Unsupported(t) => write!(f, "cannot encode a column of type {t}"),
        }
    }
}

impl std::error::Error for EncodeError {}

impl From<std::io::Error> for EncodeError {
    fn from(e: std::io::Error) -> Self {
        EncodeError::Io(e)
    }
}

enum Inner<W: Write + Send> {
    Text {
        out: W,
        format: DataFormat,
        line: String,
    },
    Parquet(Box<ArrowWriter<W>>),
}

/// Writes batches of one schema, one after the other, to `W`.
pub struct BatchWriter<W: Write + Send> {
    inner: Inner<W>,
    schema: SchemaRef,
}

impl<W: Write + Send> BatchWriter<W> {
    /// Starts a file: writes the CSV header right away.
    ///
    /// # Errors
    /// When writing fails or the Parquet writer cannot be set up.
    pub fn new(format: DataFormat, schema: SchemaRef, mut out: W) -> Result<Self, EncodeError> {
        let inner = match format {
            DataFormat::Csv | DataFormat::Ndjson => {
                if format == DataFormat::Csv {
                    let mut line = String::new();
                    for (i, field) in schema.fields().iter().enumerate() {
                        if i > 0 {
                            line.push(',');
                        }
                        push_csv_text(&mut line, field.name());
                    }
                    line.push('\n');
                    out.write_all(line.as_bytes())?;
                }
                Inner::Text {
                    out,
                    format,
                    line: String::new(),
                }
            }
            DataFormat::Parquet => {
                let level =
                    ZstdLevel::try_new(3).map_err(|e| EncodeError::Parquet(e.to_string()))?;
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(level))
                    .set_created_by("segl generate".to_owned())
                    .build();
                let writer = ArrowWriter::try_new(out, schema.clone(), Some(props))
                    .map_err(|e| EncodeError::Parquet(e.to_string()))?;
                Inner::Parquet(Box::new(writer))
            }
        };
        Ok(BatchWriter { inner, schema })
    }

    /// Appends the rows of `batch`.
    ///
    /// # Errors
    /// When writing fails or a column has a type the encoder does not know.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), EncodeError> {
        match &mut self.inner {
            Inner::Parquet(writer) => writer
                .write(batch)
                .map_err(|e| EncodeError::Parquet(e.to_string())),
            Inner::Text { out, format, line } => {
                let names: Vec<&str> = self
                    .schema
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect();
                for row in 0..batch.num_rows() {
                    line.clear();
                    if *format == DataFormat::Ndjson {
                        line.push('{');
                    }
                    for (i, column) in batch.columns().iter().enumerate() {
                        if *format == DataFormat::Csv {
                            if i > 0 {
                                line.push(',');
                            }
                            csv_cell(line, column.as_ref(), row)?;
                        } else {
                            if i > 0 {
                                line.push(',');
                            }
                            push_json_string(line, names.get(i).copied().unwrap_or(""));
                            line.push(':');
                            json_value(line, column.as_ref(), row)?;
                        }
                    }
                    if *format == DataFormat::Ndjson {
                        line.push('}');
                    }
                    line.push('\n');
                    out.write_all(line.as_bytes())?;
                }
                Ok(())
            }
        }
    }

    /// Ends the file (the Parquet footer) and hands back the writer.
    ///
    /// # Errors
    /// When flushing or writing the footer fails.
    pub fn finish(self) -> Result<W, EncodeError> {
        match self.inner {
            Inner::Text { mut out, .. } => {
                out.flush()?;
                Ok(out)
            }
            Inner::Parquet(writer) => writer
                .into_inner()
                .map_err(|e| EncodeError::Parquet(e.to_string())),
        }
    }
}

/// A scalar value as text, or `None` when it is null.
fn scalar_text(column: &dyn Array, row: usize) -> Result<Option<String>, EncodeError> {
    if column.is_null(row) {
        return Ok(None);
    }
    let text = match column.data_type() {
        DataType::Utf8 => column
            .as_any()
            .downcast_ref::<StringArray>()
            .map(|a| a.value(row).to_owned()),
        DataType::Int64 => column
            .as_any()
            .downcast_ref::<Int64Array>()
            .map(|a| a.value(row).to_string()),
        DataType::Boolean => column
            .as_any()
            .downcast_ref::<BooleanArray>()
            .map(|a| a.value(row).to_string()),
        DataType::Date32 => column
            .as_any()
            .downcast_ref::<Date32Array>()
            .map(|a| format_date(a.value(row))),
        DataType::Timestamp(_, _) => column
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .map(|a| format_timestamp_micros(a.value(row))),
        DataType::Decimal128(_, scale) => column
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .map(|a| format_decimal(a.value(row), *scale)),
        _ => None,
    };
    text.map(Some)
        .ok_or_else(|| EncodeError::Unsupported(column.data_type().to_string()))
}

/// `1234` with scale 2 → `12.34`; `-5` → `-0.05`.
fn format_decimal(value: i128, scale: i8) -> String {
    if scale <= 0 {
        return value.to_string();
    }
    let digits = value.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (whole, frac) = padded.split_at(padded.len() - scale);
    let sign = if value < 0 { "-" } else { "" };
    format!("{sign}{whole}.{frac}")
}

fn list_items(column: &dyn Array, row: usize) -> Result<Vec<Option<String>>, EncodeError> {
    let list: &ListArray = column.as_list();
    let values = list.value(row);
    (0..values.len())
        .map(|i| scalar_text(values.as_ref(), i))
        .collect()
}

fn csv_cell(line: &mut String, column: &dyn Array, row: usize) -> Result<(), EncodeError> {
    if column.is_null(row) {
        return Ok(());
    }
    if let DataType::List(_) = column.data_type() {
        let items = list_items(column, row)?;
        let joined: Vec<String> = items.into_iter().map(Option::unwrap_or_default).collect();
        push_csv_text(line, &joined.join("|"));
        return Ok(());
    }
    if let Some(text) = scalar_text(column, row)? {
        push_csv_text(line, &text);
    }
    Ok(())
}

/// RFC 4180: quote a field that holds a comma, a quote or a line break; double inner quotes.
fn push_csv_text(line: &mut String, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&text.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(text);
    }
}

fn json_value(line: &mut String, column: &dyn Array, row: usize) -> Result<(), EncodeError> {
    if column.is_null(row) {
        line.push_str("null");
        return Ok(());
    }
    match column.data_type() {
        DataType::List(_) => {
            line.push('[');
            for (i, item) in list_items(column, row)?.into_iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                match item {
                    Some(text) => push_json_string(line, &text),
                    None => line.push_str("null"),
                }
            }
            line.push(']');
        }
        DataType::Int64 | DataType::Boolean | DataType::Decimal128(_, _) => {
            line.push_str(&scalar_text(column, row)?.unwrap_or_default());
        }
        _ => push_json_string(line, &scalar_text(column, row)?.unwrap_or_default()),
    }
    Ok(())
}

fn push_json_string(line: &mut String, text: &str) {
    line.push('"');
    for ch in text.chars() {
        match ch {
            '"' => line.push_str("\\\""),
            '\\' => line.push_str("\\\\"),
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            '\t' => line.push_str("\\t"),
            c if (c as u32) < 0x20 => line.push_str(&format!("\\u{:04x}", c as u32)),
            c => line.push(c),
        }
    }
    line.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_keep_their_scale() {
        assert_eq!(format_decimal(1234, 2), "12.34");
        assert_eq!(format_decimal(5, 2), "0.05");
        assert_eq!(format_decimal(-5, 2), "-0.05");
        assert_eq!(format_decimal(120_000, 2), "1200.00");
    }

    #[test]
    fn csv_quotes_only_when_needed() {
        let mut s = String::new();
        push_csv_text(&mut s, "Washington, D.C.");
        push_csv_text(&mut s, "Café \"Acme\"");
        push_csv_text(&mut s, "NA");
        assert_eq!(s, "\"Washington, D.C.\"\"Café \"\"Acme\"\"\"NA");
    }
}

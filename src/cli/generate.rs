//! `segl generate`: writes deterministic sample data (customers, orders, companies, tickets,
//! events) to a folder, each file atomically (a temporary file in the same folder, then renamed).

use std::fs::File;
use std::io::{BufWriter, IsTerminal as _};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, ValueEnum};

use super::{Exit, print_out, print_usage_error};
use segl::sample::{BatchWriter, DataFormat, Sample, SampleEntity, SampleOptions};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    Csv,
    Parquet,
    Ndjson,
}

impl From<FileFormat> for DataFormat {
    fn from(f: FileFormat) -> Self {
        match f {
            FileFormat::Csv => DataFormat::Csv,
            FileFormat::Parquet => DataFormat::Parquet,
            FileFormat::Ndjson => DataFormat::Ndjson,
        }
    }
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many customers (companies: one per ten customers)
    #[arg(long, default_value_t = 3_000)]
    customers: usize,
    /// The random seed; the same seed and options give byte-identical files
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The file format
    #[arg(long, value_enum, default_value_t = FileFormat::Csv)]
    format: FileFormat,
    /// "Today" for the data, e.g. 2026-11-20: nothing happens after it (except renewals)
    #[arg(long, default_value = "2026-11-20")]
    as_of: String,
    /// The folder to write into (created when missing); existing files are replaced
    #[arg(long)]
    out: PathBuf,
    /// Customers per chunk (memory use); does not change the output
    #[arg(long, default_value_t = 100_000, hide = true)]
    chunk_size: usize,
}

struct Output {
    entity: SampleEntity,
    temp: PathBuf,
    path: PathBuf,
    writer: Option<BatchWriter<BufWriter<File>>>,
    rows: usize,
}

pub fn run(args: &GenerateArgs) -> Exit {
    let as_of: jiff::civil::Date = match args.as_of.parse() {
        Ok(d) => d,
        Err(_) => {
            print_usage_error(&format!(
                "`--as-of {}` is not a date; write it like 2026-11-20",
                args.as_of
            ));
            return Exit::Usage;
        }
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        print_usage_error(&format!("cannot create `{}`: {e}", args.out.display()));
        return Exit::Usage;
    }
    let started = Instant::now();
    let options = SampleOptions {
        customers: args.customers,
        seed: args.seed,
        as_of,
        chunk_size: args.chunk_size.max(1),
    };
    let format = DataFormat::from(args.format);
    let mut outputs: Vec<Output> = SampleEntity::ALL
        .iter()
        .map(|&entity| {
            let name = format!("{}.{}", entity.file_stem(), format.extension());
            Output {
                entity,
                temp: args.out.join(format!(".{name}.tmp-{}", std::process::id())),
                path: args.out.join(name),
                writer: None,
                rows: 0,
            }
        })
        .collect();

    let result = write_all(&options, format, &mut outputs);
    if let Err(message) = result {
        for output in &mut outputs {
            output.writer = None;
            let _ = std::fs::remove_file(&output.temp);
        }
        print_usage_error(&message);
        return Exit::Usage;
    }
    let mut report = String::new();
    for output in &outputs {
        let bytes = std::fs::metadata(&output.path).map_or(0, |m| m.len());
        report.push_str(&format!(
            "wrote {} ({} rows, {})\n",
            output.path.display(),
            output.rows,
            human_size(bytes)
        ));
    }
    report.push_str(&format!(
        "generated {} customers (seed {}, as of {as_of}) in {:.1} s\n",
        args.customers,
        args.seed,
        started.elapsed().as_secs_f64()
    ));
    print_out(&report);
    Exit::Clean
}

fn write_all(
    options: &SampleOptions,
    format: DataFormat,
    outputs: &mut [Output],
) -> Result<(), String> {
    for output in outputs.iter_mut() {
        let file = File::create(&output.temp)
            .map_err(|e| format!("cannot create `{}`: {e}", output.temp.display()))?;
        let writer = BatchWriter::new(
            format,
            output.entity.arrow_schema(),
            BufWriter::with_capacity(1 << 20, file),
        )
        .map_err(|e| format!("cannot write `{}`: {e}", output.temp.display()))?;
        output.writer = Some(writer);
    }
    let sample = Sample::new(options.clone());
    let progress = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(options.customers as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} customers  {elapsed_precise} (about {eta} left)",
        ) {
            bar.set_style(style);
        }
        Some(bar)
    } else {
        None
    };

    let companies = sample
        .companies()
        .map_err(|e| format!("generating companies failed: {e}"))?;
    write_batch(outputs, SampleEntity::Company, &companies)?;
    for chunk in sample.chunks() {
        let chunk = chunk.map_err(|e| format!("generating customers failed: {e}"))?;
        for entity in SampleEntity::ALL {
            if let Some(batch) = chunk.batch(entity) {
                write_batch(outputs, entity, batch)?;
            }
        }
        if let Some(bar) = &progress {
            bar.inc(chunk.customers.num_rows() as u64);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    for output in outputs.iter_mut() {
        if let Some(writer) = output.writer.take() {
            let buffered = writer
                .finish()
                .map_err(|e| format!("cannot write `{}`: {e}", output.temp.display()))?;
            let file = buffered
                .into_inner()
                .map_err(|e| format!("cannot write `{}`: {e}", output.temp.display()))?;
            file.sync_all()
                .map_err(|e| format!("cannot write `{}`: {e}", output.temp.display()))?;
        }
    }
    for output in outputs.iter() {
        rename(&output.temp, &output.path)?;
    }
    Ok(())
}

fn write_batch(
    outputs: &mut [Output],
    entity: SampleEntity,
    batch: &datafusion::arrow::record_batch::RecordBatch,
) -> Result<(), String> {
    if let Some(output) = outputs.iter_mut().find(|o| o.entity == entity) {
        output.rows += batch.num_rows();
        if let Some(writer) = &mut output.writer {
            writer
                .write(batch)
                .map_err(|e| format!("cannot write `{}`: {e}", output.temp.display()))?;
        }
    }
    Ok(())
}

fn rename(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::rename(from, to).map_err(|e| format!("cannot replace `{}`: {e}", to.display()))
}

fn human_size(bytes: u64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / MB)
    } else {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    }
}

//! `segl sql`: compiles a project's segments, tiers and scores to SQL for a database engine.

use std::collections::HashMap;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::project::{Checked, ProjectArgs, checked, entity_named};
use super::run::find_rule;
use super::{Exit, print_out, print_usage_error};
use segl::diagnostics::{Diagnostic, render};
use segl::engine::load::DataFormat;
use segl::project::data::data_sources;
use segl::sql::tables::{
    DEFAULT_DECIMAL_SCALE, MAX_DECIMAL_SCALE, TableOptions, create_tables, describe,
};
use segl::sql::{Dialect, Options, compile};

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The project folder (with `segl.toml`)
    #[arg(default_value = ".")]
    project: PathBuf,
    /// The database engine to write SQL for
    #[arg(long, value_enum)]
    dialect: DialectArg,
    /// Compile only this segment, tier set or score (repeatable)
    #[arg(long = "segment", value_name = "NAME")]
    segments: Vec<String>,
    /// The table holding an entity's records, e.g. `--table customer=crm.customers` or
    /// `--table customer=my-project.crm.customers` (repeatable; default: the entity's name)
    #[arg(long = "table", value_name = "ENTITY=TABLE")]
    tables: Vec<String>,
    /// Print the `CREATE TABLE` statements of the tables the SQL reads, one per entity, instead
    /// of the membership queries
    #[arg(long, conflicts_with = "segments")]
    create_tables: bool,
    /// With `--create-tables`: `sql` statements, or a `json` description of the tables, their
    /// columns and the data files `segl.toml` names
    #[arg(long, value_enum, value_name = "FORMAT", requires = "create_tables")]
    format: Option<TablesFormat>,
    /// With `--create-tables`: the digits after the point that decimal columns keep, for engines
    /// whose decimals have a fixed scale (DuckDB) [default: 2]
    #[arg(long, value_name = "DIGITS", requires = "create_tables",
          value_parser = clap::value_parser!(u8).range(0..=i64::from(MAX_DECIMAL_SCALE)))]
    decimal_scale: Option<u8>,
    #[command(flatten)]
    common: ProjectArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TablesFormat {
    Sql,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum DialectArg {
    Duckdb,
    Postgres,
    Sqlite,
    Bigquery,
    Snowflake,
    Spark,
}

pub fn run(args: &SqlArgs) -> Exit {
    if !args.common.data.is_empty() {
        print_usage_error(
            "`segl sql` reads no data files; name the tables with `--table ENTITY=TABLE` instead \
             of `--data`",
        );
        return Exit::Usage;
    }
    let settled = match checked(&args.project, &args.common, "sql") {
        Ok(s) => s,
        Err(exit) => return exit,
    };
    let program = &settled.program;
    let dialect = match args.dialect {
        DialectArg::Duckdb => Dialect::DuckDb,
        DialectArg::Postgres => Dialect::Postgres,
        DialectArg::Sqlite => Dialect::Sqlite,
        DialectArg::Bigquery => Dialect::BigQuery,
        DialectArg::Snowflake => Dialect::Snowflake,
        DialectArg::Spark => Dialect::Spark,
    };
    let rules = if args.segments.is_empty() {
        None
    } else {
        let mut rules = Vec::new();
        for name in &args.segments {
            match find_rule(program, name) {
                Ok(r) => rules.push(r),
                Err(message) => {
                    print_usage_error(&format!("`--segment {name}`: {message}"));
                    return Exit::Usage;
                }
            }
        }
        Some(rules)
    };
    let mut tables = HashMap::new();
    for t in &args.tables {
        let Some((entity, table)) = t.split_once('=') else {
            print_usage_error(&format!(
                "`--table {t}` needs an entity and a table, as in `--table customer=crm.customers`"
            ));
            return Exit::Usage;
        };
        let table = table.trim();
        if table.is_empty() || table.split('.').any(str::is_empty) {
            print_usage_error(&format!(
                "`--table {t}`: the table name must not be empty or have empty parts"
            ));
            return Exit::Usage;
        }
        match entity_named(program, entity.trim()) {
            Ok(id) => {
                tables.insert(id, table.to_owned());
            }
            Err(m) => {
                print_usage_error(&format!("`--table {t}`: {m}"));
                return Exit::Usage;
            }
        }
    }
    if args.create_tables {
        let options = TableOptions {
            dialect,
            tables,
            decimal_scale: args.decimal_scale.unwrap_or(DEFAULT_DECIMAL_SCALE),
        };
        if args.format == Some(TablesFormat::Json) {
            return tables_json(&settled, &options);
        }
        print_out(&create_tables(program, &options));
        return Exit::Clean;
    }
    let options = Options {
        dialect,
        rules,
        tables,
    };
    match compile(program, &settled.settings, &options) {
        Ok(sql) => {
            print_out(&sql);
            Exit::Clean
        }
        Err(mut diagnostics) => {
            segl::diagnostics::sort(&mut diagnostics, &settled.sources);
            eprint!(
                "{}",
                render::human(&diagnostics, &settled.sources, settled.color)
            );
            Exit::Errors
        }
    }
}

/// The tables as JSON, with the data file `segl.toml` names for each entity (if any) and how
/// segl reads it, so that a loading script can fill the tables exactly as `segl run` reads them.
fn tables_json(settled: &Checked, options: &TableOptions) -> Exit {
    let program = &settled.program;
    let (specs, mut diagnostics) =
        data_sources(&settled.config, &settled.sources, program, &settled.name);
    if diagnostics.iter().any(Diagnostic::is_error) {
        segl::diagnostics::sort(&mut diagnostics, &settled.sources);
        eprint!(
            "{}",
            render::human(&diagnostics, &settled.sources, settled.color)
        );
        return Exit::Errors;
    }
    let tables: Vec<serde_json::Value> = describe(program, options)
        .into_iter()
        .enumerate()
        .map(|(i, table)| {
            let data = specs
                .iter()
                .find(|s| s.source.entity.index() == i)
                .map(|s| {
                    let source = s.resolve(&settled.dir);
                    serde_json::json!({
                        "path": source.path.display().to_string(),
                        "format": match source.format {
                            DataFormat::Csv => "csv",
                            DataFormat::Ndjson => "ndjson",
                            DataFormat::Parquet => "parquet",
                        },
                        "delimiter": char::from(source.delimiter).to_string(),
                        "missing": source.missing,
                        "list_separator": source.list_separator.to_string(),
                    })
                });
            let mut value = serde_json::to_value(&table).unwrap_or_default();
            if let Some(object) = value.as_object_mut() {
                object.insert("data".into(), data.unwrap_or(serde_json::Value::Null));
            }
            value
        })
        .collect();
    let doc = serde_json::json!({
        "dialect": options.dialect.name(),
        "time_zone": settled.settings.as_of.time_zone.iana_name().unwrap_or("UTC"),
        "tables": tables,
    });
    match serde_json::to_string_pretty(&doc) {
        Ok(text) => {
            print_out(&format!("{text}\n"));
            Exit::Clean
        }
        Err(e) => {
            print_usage_error(&format!("cannot write the description: {e}"));
            Exit::Usage
        }
    }
}

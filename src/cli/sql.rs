//! `segl sql`: compiles a project's segments, tiers and scores to SQL for a database engine.

use std::collections::HashMap;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::project::{ProjectArgs, checked, entity_named};
use super::run::find_rule;
use super::{Exit, print_out, print_usage_error};
use segl::diagnostics::render;
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
    #[command(flatten)]
    common: ProjectArgs,
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

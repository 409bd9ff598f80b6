//! `segl sql`: compiles a project's segments, tiers and scores to SQL for a database engine.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::project::{Checked, ProjectArgs, checked, entity_named};
use super::run::find_rule;
use super::{Exit, print_out, print_usage_error, write};
use segl::diagnostics::{Code, Diagnostic, render};
use segl::engine::load::DataFormat;
use segl::ir::EntityId;
use segl::project::data::data_sources;
use segl::source::{SourceMap, Span};
use segl::sql::dbt::{self, DbtFile, Existing, SourceTables};
use segl::sql::tables::{
    DEFAULT_DECIMAL_SCALE, MAX_DECIMAL_SCALE, TableOptions, create_tables, describe,
    unnamable_columns,
};
use segl::sql::{Dialect, Options, ParamName, compile, views};

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
    /// Read the as-of date from a query parameter when the SQL runs instead of writing the date
    /// into it: `--as-of-param` names it `as_of`, `--as-of-param=NAME` names it NAME
    #[arg(
        long = "as-of-param",
        value_name = "NAME",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "as_of",
        conflicts_with_all = ["create_tables", "dbt"]
    )]
    as_of_param: Option<String>,
    /// Print the `CREATE TABLE` statements of the tables the SQL reads, one per entity, instead
    /// of the membership queries
    #[arg(long, conflicts_with_all = ["segments", "views", "dbt"])]
    create_tables: bool,
    /// With `--create-tables`: `sql` statements, or a `json` description of the tables, their
    /// columns and the data files `segl.toml` names
    #[arg(long, value_enum, value_name = "FORMAT", requires = "create_tables")]
    format: Option<TablesFormat>,
    /// With `--create-tables`: the digits after the point that decimal columns keep, for engines
    /// whose decimals have a fixed scale (DuckDB, Snowflake, Spark) [default: 2]
    #[arg(long, value_name = "DIGITS", requires = "create_tables",
          value_parser = clap::value_parser!(u8).range(0..=i64::from(MAX_DECIMAL_SCALE)))]
    decimal_scale: Option<u8>,
    /// Write one `CREATE VIEW` per segment, tier set and score instead of membership queries
    #[arg(long, conflicts_with = "dbt")]
    views: bool,
    /// Put this before every view's name, e.g. `--view-prefix segl_` (with `--views`)
    #[arg(long, value_name = "PREFIX", requires = "views")]
    view_prefix: Option<String>,
    /// Write dbt models, their sources and tests into this folder instead of printing SQL
    #[arg(long, value_name = "DIR")]
    dbt: Option<PathBuf>,
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
    if args.as_of_param.is_some() && args.common.as_of.is_some() {
        print_usage_error(
            "`--as-of` writes the date into the SQL and `--as-of-param` reads it when the SQL \
             runs; give one of them",
        );
        return Exit::Usage;
    }
    let as_of_param = match args.as_of_param.as_deref().map(|n| (n, ParamName::new(n))) {
        None => None,
        Some((_, Some(name))) => Some(name),
        Some((n, None)) => {
            print_usage_error(&format!(
                "`--as-of-param={n}`: a parameter name has lower-case letters a to z, digits and \
                 underscores, and starts with a letter or an underscore (such as `as_of`)"
            ));
            return Exit::Usage;
        }
    };
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
    // A view keeps the parameter only where it is a session value (DuckDB's variable,
    // PostgreSQL's setting); SQLite, BigQuery and Spark refuse parameters in views, and Snowflake
    // does not document session variables in views.
    if args.views
        && as_of_param.is_some()
        && !matches!(dialect, Dialect::DuckDb | Dialect::Postgres)
    {
        print_usage_error(&format!(
            "a {} view cannot read the as-of date from a parameter: leave out `--views` and run \
             the queries with the parameter bound, or write the date in with `--as-of`",
            dialect.title()
        ));
        return Exit::Usage;
    }
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
        let unnamable = unnamable_columns(program, dialect);
        if !unnamable.is_empty() {
            return report(unnamable, &settled);
        }
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
    if let Some(dir) = &args.dbt {
        let Some(source) = source_tables(&args.tables, &tables) else {
            return Exit::Usage;
        };
        let options = Options {
            dialect,
            rules,
            tables: HashMap::new(),
            as_of_param: None,
        };
        return match dbt::project(program, &settled.settings, &options, &source) {
            Ok(files) => write_dbt(dir, &files, settled.color),
            Err(diagnostics) => report(diagnostics, &settled),
        };
    }
    let options = Options {
        dialect,
        rules,
        tables,
        as_of_param,
    };
    let result = if args.views {
        views(
            program,
            &settled.settings,
            &options,
            args.view_prefix.as_deref().unwrap_or(""),
        )
    } else {
        compile(program, &settled.settings, &options)
    };
    match result {
        Ok(sql) => {
            print_out(&sql);
            Exit::Clean
        }
        Err(diagnostics) => report(diagnostics, &settled),
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

fn report(mut diagnostics: Vec<Diagnostic>, settled: &super::project::Checked) -> Exit {
    segl::diagnostics::sort(&mut diagnostics, &settled.sources);
    eprint!(
        "{}",
        render::human(&diagnostics, &settled.sources, settled.color)
    );
    Exit::Errors
}

/// The dbt source's schema and table names from `--table ENTITY=[[DATABASE.]SCHEMA.]TABLE`: one
/// dbt source has one schema, so every table given with a schema must name the same one.
fn source_tables(given: &[String], tables: &HashMap<EntityId, String>) -> Option<SourceTables> {
    let mut source = SourceTables::default();
    let mut prefix: Option<(Option<String>, String)> = None;
    for (entity, table) in tables {
        let parts: Vec<&str> = table.split('.').collect();
        let (this, name) = match parts.as_slice() {
            [name] => (None, *name),
            [schema, name] => (Some((None, (*schema).to_owned())), *name),
            [db, schema, name] => (Some((Some((*db).to_owned()), (*schema).to_owned())), *name),
            _ => {
                print_usage_error(&format!(
                    "`--table` `{table}`: with `--dbt`, name a table as TABLE, SCHEMA.TABLE or \
                     DATABASE.SCHEMA.TABLE"
                ));
                return None;
            }
        };
        if let Some(this) = this {
            if prefix.as_ref().is_some_and(|p| *p != this) {
                print_usage_error(&format!(
                    "with `--dbt`, every `--table` must name the same schema: the tables become \
                     one dbt source, which has one schema (given: {})",
                    given.join(", ")
                ));
                return None;
            }
            prefix = Some(this);
        }
        source.identifiers.insert(*entity, name.to_owned());
    }
    if let Some((database, schema)) = prefix {
        source.database = database;
        source.schema = Some(schema);
    }
    Some(source)
}

/// One E0911 at a source named like the folder.
fn unwritable(dir: &Path, why: &str) -> (Vec<Diagnostic>, SourceMap) {
    let mut sources = SourceMap::new();
    let span = Span::new(sources.add(dir.display().to_string(), ""), 0, 0);
    let d = Diagnostic::new(
        Code::E0911,
        span,
        format!(
            "segl cannot write the dbt models into `{}`: {why}",
            dir.display()
        ),
    )
    .label("the folder given to `--dbt`")
    .help("give `--dbt` a folder you can write to, such as `--dbt build/segl-dbt`; nothing was changed");
    (vec![d], sources)
}

fn write_dbt(dir: &Path, files: &[DbtFile], color: bool) -> Exit {
    let fail = |(diagnostics, sources): (Vec<Diagnostic>, SourceMap)| {
        eprint!("{}", render::human(&diagnostics, &sources, color));
        Exit::Usage
    };
    if dir.exists() || dir.is_symlink() {
        if !dir.is_dir() {
            return fail(unwritable(dir, "it is a file, not a folder"));
        }
        let existing = match write::read_tree(dir) {
            Ok(files) => files
                .into_iter()
                .map(|(path, contents)| Existing { path, contents })
                .collect::<Vec<_>>(),
            Err(e) => return fail(unwritable(dir, &format!("cannot read it: {e}"))),
        };
        let mut sources = SourceMap::new();
        let mut problems = dbt::check_existing(&dir.display().to_string(), &existing, &mut sources);
        if !problems.is_empty() {
            segl::diagnostics::sort(&mut problems, &sources);
            return fail((problems, sources));
        }
    }
    let contents: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| (f.path.clone(), f.contents.clone().into_bytes()))
        .collect();
    if let Err(e) = write::replace_dir(dir, &contents) {
        return fail(unwritable(dir, &e.to_string()));
    }
    let models = files.iter().filter(|f| f.path.ends_with(".sql")).count();
    let mut listed: Vec<String> = files.iter().map(|f| format!("  {}", f.path)).collect();
    listed.sort();
    print_out(&format!(
        "wrote {models} dbt models, their sources and tests to `{}`:\n{}\n",
        dir.display(),
        listed.join("\n")
    ));
    Exit::Clean
}

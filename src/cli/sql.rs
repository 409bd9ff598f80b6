//! `segl sql`: compiles a project's segments, tiers and scores to SQL for a database engine.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::project::{ProjectArgs, checked, entity_named};
use super::run::find_rule;
use super::{Exit, print_out, print_usage_error, write};
use segl::diagnostics::{Code, Diagnostic, render};
use segl::ir::EntityId;
use segl::source::{SourceMap, Span};
use segl::sql::dbt::{self, DbtFile, Existing, SourceTables};
use segl::sql::{Dialect, Options, compile, views};

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
    if let Some(dir) = &args.dbt {
        let Some(source) = source_tables(&args.tables, &tables) else {
            return Exit::Usage;
        };
        let options = Options {
            dialect,
            rules,
            tables: HashMap::new(),
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

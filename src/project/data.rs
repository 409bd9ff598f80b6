//! The `[data]` section of `segl.toml`: which file holds each entity's records, and how to read
//! it. Paths stay as written (relative to the project folder); the CLI resolves them.
//!
//! ```toml
//! [data]
//! customer = "data/customers.csv"
//! order = { path = "data/orders.csv", delimiter = ";", missing = ["NA", "-"], list_separator = "|" }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use toml::Spanned;

use super::Config;
use crate::diagnostics::{Code, Diagnostic, suggest};
use crate::engine::load::{DataFormat, DataSource};
use crate::ir::{EntityId, Program};
use crate::source::{SourceMap, Span};

/// One entry of `[data]`, read and checked against the schema.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSourceSpec {
    /// The source, with `path` as written (relative to the project folder) and `shown` as the
    /// project folder joined with it.
    pub source: DataSource,
    /// Where the entry is in `segl.toml`.
    pub span: Span,
}

impl DataSourceSpec {
    /// The source with its path resolved against the project folder.
    #[must_use]
    pub fn resolve(&self, project_dir: &Path) -> DataSource {
        let mut source = self.source.clone();
        source.path = project_dir.join(&self.source.path);
        source
    }
}

const KEYS: &[&str] = &["path", "delimiter", "missing", "list_separator"];

type SpannedTable = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// Reads the `[data]` section of `config` (whose text is in `sources`). Unknown entities are
/// E0306 and malformed entries E0002, each with its place in `segl.toml`.
#[must_use]
pub fn data_sources(
    config: &Config,
    sources: &SourceMap,
    program: &Program,
    project_dir_shown: &str,
) -> (Vec<DataSourceSpec>, Vec<Diagnostic>) {
    #[derive(serde::Deserialize)]
    struct DataOnly {
        data: Option<SpannedTable>,
    }
    let mut specs = Vec::new();
    let mut diagnostics = Vec::new();
    let file = config.file;
    let text = sources.text(file);
    let Ok(DataOnly { data: Some(data) }) = toml::from_str::<DataOnly>(text) else {
        return (specs, diagnostics);
    };
    let span = |r: std::ops::Range<usize>| Span::new(file, r.start, r.end);
    for (key, value) in data {
        let key_span = span(key.span());
        let value_span = span(value.span());
        let name = key.get_ref().as_str();
        let Some(entity) = program.entities.iter().position(|e| e.name == name) else {
            let names: Vec<suggest::Candidate<'_>> = program
                .entities
                .iter()
                .map(|e| suggest::Candidate::plain(&e.name))
                .collect();
            let nearest = suggest::nearest(name, &names);
            let mut d = Diagnostic::new(
                Code::E0306,
                key_span,
                format!("`{name}` in `[data]` is not an entity of the schema"),
            )
            .label("unknown entity");
            let listed: Vec<String> = program
                .entities
                .iter()
                .map(|e| format!("`{}`", e.name))
                .collect();
            match suggest::did_you_mean(&nearest) {
                Some(help) => {
                    d = d.help(help);
                    if nearest.len() == 1 {
                        d = d.fix(key_span, nearest[0]);
                    }
                }
                None => d = d.help("each key of `[data]` names an entity declared in the schema"),
            }
            diagnostics.push(d.note(format!("the entities are {}", listed.join(", "))));
            continue;
        };
        let entity = EntityId::from_index(entity);
        match read_entry(value.get_ref(), value_span, &value, file) {
            Ok(entry) => {
                let Some(format) = DataFormat::from_path(&entry.path) else {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::E0002,
                            entry.path_span,
                            format!(
                                "segl cannot tell the format of `{}` from its name",
                                entry.path
                            ),
                        )
                        .label("unknown file extension")
                        .help(format!("data files end in {}", DataFormat::EXTENSIONS)),
                    );
                    continue;
                };
                let shown = match project_dir_shown.trim_end_matches('/') {
                    _ if Path::new(&entry.path).is_absolute() => entry.path.clone(),
                    "" | "." => entry.path.clone(),
                    dir => format!("{dir}/{}", entry.path),
                };
                let mut source = DataSource::new(entity, entry.path.clone(), shown);
                source.format = format;
                if let Some(d) = entry.delimiter {
                    source.delimiter = d;
                }
                if let Some(s) = entry.list_separator {
                    source.list_separator = s;
                }
                source.missing = entry.missing;
                source.entry = Some(entry.path_span);
                specs.push(DataSourceSpec {
                    source,
                    span: key_span.to(value_span),
                });
            }
            Err(found) => diagnostics.extend(found),
        }
    }
    (specs, diagnostics)
}

struct Entry {
    path: String,
    path_span: Span,
    delimiter: Option<u8>,
    missing: Vec<String>,
    list_separator: Option<char>,
}

fn bad(span: Span, message: impl Into<String>, help: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Code::E0002, span, message).help(help)
}

fn read_entry(
    value: &toml::Value,
    value_span: Span,
    raw: &Spanned<toml::Value>,
    file: crate::source::FileId,
) -> Result<Entry, Vec<Diagnostic>> {
    let _ = raw;
    match value {
        toml::Value::String(path) => Ok(Entry {
            path: path.clone(),
            path_span: value_span,
            delimiter: None,
            missing: Vec::new(),
            list_separator: None,
        }),
        toml::Value::Table(table) => {
            let mut errors = Vec::new();
            let mut entry = Entry {
                path: String::new(),
                path_span: value_span,
                delimiter: None,
                missing: Vec::new(),
                list_separator: None,
            };
            for (k, v) in table {
                match (k.as_str(), v) {
                    ("path", toml::Value::String(p)) => entry.path.clone_from(p),
                    ("delimiter", toml::Value::String(d)) => {
                        let d = if d == "\\t" { "\t" } else { d.as_str() };
                        match d.as_bytes() {
                            [b] if d.is_ascii() && *b != b'"' && *b != b'\n' && *b != b'\r' => {
                                entry.delimiter = Some(*b);
                            }
                            _ => errors.push(bad(
                                value_span,
                                format!("`delimiter` must be one character, not `{d}`"),
                                "write a single character such as `\";\"`, `\"|\"` or `\"\\t\"` for a tab",
                            )),
                        }
                    }
                    ("list_separator", toml::Value::String(s)) => {
                        let mut chars = s.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) => entry.list_separator = Some(c),
                            _ => errors.push(bad(
                                value_span,
                                format!("`list_separator` must be one character, not `{s}`"),
                                "write a single character such as `\"|\"`",
                            )),
                        }
                    }
                    ("missing", toml::Value::Array(items)) => {
                        for item in items {
                            match item {
                                toml::Value::String(s) => entry.missing.push(s.clone()),
                                _ => errors.push(bad(
                                    value_span,
                                    "`missing` must be a list of texts",
                                    "write the texts that mean unknown, such as `missing = [\"NA\", \"-\"]`",
                                )),
                            }
                        }
                    }
                    ("missing", toml::Value::String(s)) => entry.missing.push(s.clone()),
                    (known, _) if KEYS.contains(&known) => errors.push(bad(
                        value_span,
                        format!("`{known}` has the wrong kind of value"),
                        "`path`, `delimiter` and `list_separator` take a text; `missing` takes a list of texts",
                    )),
                    (unknown, _) => {
                        let candidates: Vec<suggest::Candidate<'_>> =
                            KEYS.iter().map(|k| suggest::Candidate::plain(k)).collect();
                        let nearest = suggest::nearest(unknown, &candidates);
                        errors.push(bad(
                            value_span,
                            format!("unknown data setting `{unknown}`"),
                            suggest::did_you_mean(&nearest).unwrap_or_else(|| {
                                "the settings of a data file are `path`, `delimiter`, `missing` and `list_separator`".to_owned()
                            }),
                        ));
                    }
                }
            }
            if entry.path.is_empty() {
                errors.push(bad(
                    value_span,
                    "this data entry has no `path`",
                    "write the file's path, such as `{ path = \"data/orders.csv\" }`",
                ));
            }
            let _ = file;
            if errors.is_empty() {
                Ok(entry)
            } else {
                Err(errors)
            }
        }
        other => Err(vec![bad(
            value_span,
            "a data entry must be a path or a table",
            format!(
                "write `entity = \"data/file.csv\"` or `entity = {{ path = \"data/file.csv\", delimiter = \";\" }}`; this is {}",
                match other {
                    toml::Value::Integer(_) | toml::Value::Float(_) => "a number",
                    toml::Value::Boolean(_) => "true or false",
                    toml::Value::Array(_) => "a list",
                    _ => "something else",
                }
            ),
        )]),
    }
}

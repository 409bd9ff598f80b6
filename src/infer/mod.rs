//! `segl schema infer`: drafting a schema from data files.
//!
//! Pure: file names and bytes in, a schema (as values and as commented segl text) and
//! diagnostics out. Every guess carries the reason for it, written into the schema as a `#`
//! comment. Types are guessed with the loader's own cell readers (`engine::load::cell`), so a
//! file always loads against the schema drafted from it.
//!
//! Every row is read for types, `optional`, keys and relations. Enum values are counted over
//! every row too (a value missing from a `one of` list would stop the file from loading), but
//! only up to [`MAX_ENUM_VALUES`] different values are kept per column, so memory stays bounded.

mod guess;
mod names;
mod read;
mod relate;
mod render;
pub mod scaffold;

use crate::diagnostics::{Code, Diagnostic};
use crate::engine::load::DataFormat;
use crate::source::{SourceMap, Span};

pub use self::names::{entity_name, field_name, plural};

/// A text column becomes `one of ...` when it has at most this many different values...
pub const MAX_ENUM_VALUES: usize = 20;
/// ...and each value is used on this many rows or more, on average.
pub const MIN_ROWS_PER_ENUM_VALUE: usize = 3;

/// One data file: the name to show (its extension gives the format) and its bytes.
#[derive(Clone, Copy, Debug)]
pub struct DataFile<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// One value of a column, as read from the file.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// An empty CSV value, a JSON `null` or absent key, a Parquet null.
    Missing,
    /// A text (a CSV value, a JSON string, a Parquet text, date or timestamp).
    Text(String),
    /// A number as written (JSON, Parquet).
    Number(String),
    Bool(bool),
    List(Vec<Cell>),
    /// Something segl does not read (a JSON object, an unusual Parquet type).
    Other,
}

impl Cell {
    /// The value written as text, for scalars.
    #[must_use]
    pub fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(s) | Cell::Number(s) => Some(s),
            Cell::Bool(true) => Some("true"),
            Cell::Bool(false) => Some("false"),
            _ => None,
        }
    }
}

/// A guessed field type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Guess {
    Text,
    /// `one of`, values ordered from the most used.
    Enum(Vec<String>),
    Integer,
    /// An exact decimal with at most this many digits after the point.
    Decimal(u8),
    Number,
    Boolean,
    Date,
    Timestamp,
    List(Box<Guess>),
}

impl Guess {
    /// The type as written in a schema.
    #[must_use]
    pub fn written(&self) -> String {
        match self {
            Guess::Text => "text".into(),
            Guess::Enum(values) => {
                let v: Vec<String> = values.iter().map(|v| names::written_name(v)).collect();
                format!("one of {}", v.join(", "))
            }
            Guess::Integer => "integer".into(),
            Guess::Decimal(_) => "decimal".into(),
            Guess::Number => "number".into(),
            Guess::Boolean => "boolean".into(),
            Guess::Date => "date".into(),
            Guess::Timestamp => "timestamp".into(),
            Guess::List(inner) => format!("list of {}", inner.written()),
        }
    }

    #[must_use]
    pub fn is_numeric(&self) -> bool {
        matches!(self, Guess::Integer | Guess::Decimal(_) | Guess::Number)
    }

    #[must_use]
    pub fn is_temporal(&self) -> bool {
        matches!(self, Guess::Date | Guess::Timestamp)
    }
}

/// One field of an inferred entity.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The column's name in the file (the field's name; written in backticks when needed).
    pub column: String,
    pub ty: Guess,
    pub optional: bool,
    /// Rows without a value.
    pub missing: usize,
    /// Why each guess was made, in plain words.
    pub notes: Vec<String>,
    /// Every value of the column, in row order.
    pub cells: Vec<Cell>,
}

/// Which way a relation goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelationKind {
    Many,
    One,
}

/// A relation of an inferred entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relation {
    pub name: String,
    pub kind: RelationKind,
    /// The index of the other entity.
    pub target: usize,
    /// The field holding the key (of the other entity for `many`, of this one for `one`).
    pub by: String,
    pub dated_by: Option<String>,
    pub note: String,
}

/// One entity inferred from one file.
#[derive(Clone, Debug, PartialEq)]
pub struct Entity {
    pub name: String,
    /// The file's name as given.
    pub file: String,
    pub format: DataFormat,
    /// A CSV separator other than the loader's default (`,`, or a tab for `.tsv`).
    pub delimiter: Option<u8>,
    pub rows: usize,
    pub fields: Vec<Field>,
    /// The index of the key field.
    pub key: usize,
    pub relations: Vec<Relation>,
    /// Notes about the entity as a whole (its name, its separator).
    pub notes: Vec<String>,
    /// Columns left out of the schema, with the reason.
    pub skipped: Vec<String>,
}

impl Entity {
    /// The key field.
    #[must_use]
    pub fn key_field(&self) -> Option<&Field> {
        self.fields.get(self.key)
    }
}

/// A drafted schema.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub entities: Vec<Entity>,
    /// The index of the entity most others relate to (the project's primary entity).
    pub primary: usize,
}

impl Schema {
    /// The schema as commented segl text, in the layout `segl fmt` gives it.
    #[must_use]
    pub fn text(&self) -> String {
        canonical(render::schema(self))
    }
}

/// `text` in the layout of `segl fmt`, so that drafted files pass `segl fmt --check`. Text the
/// formatter cannot handle is returned as it is (`segl check` then says what is wrong with it).
#[must_use]
pub fn canonical(text: String) -> String {
    crate::fmt::format(crate::source::FileId(0), &text).unwrap_or(text)
}

/// What inference found: a schema when every file could be read, and the problems.
#[derive(Clone, Debug)]
pub struct Inference {
    pub schema: Option<Schema>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Drafts a schema from data files (one entity per file).
#[must_use]
pub fn infer(files: &[DataFile<'_>], sources: &mut SourceMap) -> Inference {
    let mut diagnostics = Vec::new();
    let mut entities: Vec<Entity> = Vec::new();
    for file in files {
        let span = Span::new(sources.add(file.name.to_owned(), ""), 0, 0);
        let Some(format) = DataFormat::from_path(file.name) else {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0851,
                    span,
                    format!("segl cannot tell what kind of data `{}` holds", file.name),
                )
                .label("unknown file extension")
                .help(format!(
                    "give segl data files ending in {}; a spreadsheet can be saved as CSV",
                    DataFormat::EXTENSIONS
                )),
            );
            continue;
        };
        let table = match read::table(file, format, span) {
            Ok(t) => t,
            Err(d) => {
                diagnostics.push(*d);
                continue;
            }
        };
        let used: Vec<&str> = entities.iter().map(|e| e.name.as_str()).collect();
        match guess::entity(file.name, format, table, &used, span) {
            Ok(e) => entities.push(e),
            Err(d) => diagnostics.push(*d),
        }
    }
    if !diagnostics.is_empty() || entities.is_empty() {
        return Inference {
            schema: None,
            diagnostics,
        };
    }
    relate::relations(&mut entities);
    for e in &mut entities {
        guess::enums(e);
    }
    let primary = relate::primary(&entities);
    Inference {
        schema: Some(Schema { entities, primary }),
        diagnostics,
    }
}

/// The diagnostic for a data file that cannot be read at all (E0600).
#[must_use]
pub fn unreadable(name: &str, why: &str, sources: &mut SourceMap) -> Diagnostic {
    let span = Span::new(sources.add(name.to_owned(), ""), 0, 0);
    Diagnostic::new(
        Code::E0600,
        span,
        format!("the data file `{name}` cannot be read: {why}"),
    )
    .label("segl could not open this file")
    .help("check the path (it is relative to the folder you run segl in) and that the file is readable")
}

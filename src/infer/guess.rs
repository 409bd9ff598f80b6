//! Guessing each column's type, whether it is optional, and the key.

use std::collections::{HashMap, HashSet};

use super::names::{self, snake};
use super::read::{RawColumn, Table};
use super::{Cell, Entity, Field, Guess, MAX_ENUM_VALUES, MIN_ROWS_PER_ENUM_VALUE};
use crate::diagnostics::{Code, Diagnostic, thousands};
use crate::engine::load::DataFormat;
use crate::engine::load::cell;
use crate::engine::load::peek::PeekKind;
use crate::source::Span;

fn count(n: usize) -> String {
    thousands(u64::try_from(n).unwrap_or(u64::MAX))
}

fn rows_word(n: usize) -> &'static str {
    if n == 1 { "row" } else { "rows" }
}

/// Which types every value seen so far fits.
struct Fits {
    boolean: bool,
    integer: bool,
    decimal: bool,
    number: bool,
    date: bool,
    timestamp: bool,
    text: bool,
    list: bool,
    scale: u8,
    leading_zero: bool,
    items: Vec<Cell>,
    /// The smallest and largest value (by number or instant), as written.
    min: Option<(f64, String)>,
    max: Option<(f64, String)>,
}

impl Fits {
    fn new() -> Self {
        Fits {
            boolean: true,
            integer: true,
            decimal: true,
            number: true,
            date: true,
            timestamp: true,
            text: true,
            list: true,
            scale: 0,
            leading_zero: false,
            items: Vec::new(),
            min: None,
            max: None,
        }
    }

    fn only_list(&mut self) {
        self.boolean = false;
        self.integer = false;
        self.decimal = false;
        self.number = false;
        self.date = false;
        self.timestamp = false;
        self.text = false;
    }

    fn track(&mut self, order: f64, written: &str) {
        if self.min.as_ref().is_none_or(|(v, _)| order < *v) {
            self.min = Some((order, written.to_owned()));
        }
        if self.max.as_ref().is_none_or(|(v, _)| order > *v) {
            self.max = Some((order, written.to_owned()));
        }
    }

    fn scalar(&mut self, s: &str, json_number: bool) {
        self.list = false;
        if self.boolean && (json_number || cell::boolean(s).is_err()) {
            self.boolean = false;
        }
        if self.integer {
            if cell::integer(s).is_ok() {
                let digits = s.trim_start_matches(['-', '+']);
                if digits.len() > 1 && digits.starts_with('0') {
                    self.leading_zero = true;
                }
            } else {
                self.integer = false;
            }
        }
        if self.decimal {
            match cell::decimal(s) {
                Ok(d) => self.scale = self.scale.max(d.scale),
                Err(_) => self.decimal = false,
            }
        }
        if self.number {
            match cell::number(s) {
                Ok(v) => self.track(v, s),
                Err(_) => self.number = false,
            }
        }
        if self.date {
            match cell::date(s) {
                Ok(d) => {
                    if !self.number {
                        self.track(f64::from(d), s);
                    }
                }
                Err(_) => self.date = false,
            }
        }
        if self.timestamp {
            match cell::timestamp(s, &jiff::tz::TimeZone::UTC) {
                Ok(t) => {
                    if !self.number && !self.date {
                        #[allow(clippy::cast_precision_loss)]
                        self.track(t as f64, s);
                    }
                }
                Err(_) => self.timestamp = false,
            }
        }
    }

    fn take(&mut self, c: &Cell) {
        match c {
            Cell::Missing => {}
            Cell::Text(s) => self.scalar(s, false),
            Cell::Number(s) => self.scalar(s, true),
            Cell::Bool(b) => {
                let keep = self.boolean;
                self.only_list();
                self.list = false;
                self.boolean = keep;
                let _ = b;
            }
            Cell::List(items) => {
                let keep = self.list;
                self.only_list();
                self.list = keep;
                self.items.extend(items.iter().cloned());
            }
            Cell::Other => {
                self.only_list();
                self.list = false;
            }
        }
    }
}

/// The type that fits every value of `cells`, with the reasons; `Err` says why no type fits.
fn fit(cells: &[Cell], kind: Option<&PeekKind>) -> Result<(Guess, Vec<String>), String> {
    if let Some(kind) = kind
        && *kind != PeekKind::Text
    {
        return from_parquet(kind, cells);
    }
    let mut fits = Fits::new();
    let mut seen = 0usize;
    for c in cells {
        if *c != Cell::Missing {
            seen += 1;
        }
        fits.take(c);
    }
    if seen == 0 {
        return Ok((
            Guess::Text,
            vec!["text: every value is missing, so the type is only a guess".into()],
        ));
    }
    let range = |what: &str, fits: &Fits| match (&fits.min, &fits.max) {
        (Some((_, lo)), Some((_, hi))) if lo != hi => format!("{what} from {lo} to {hi}"),
        (Some((_, lo)), _) => format!("{what}, all {lo}"),
        _ => what.to_owned(),
    };
    let guess = if fits.boolean {
        (
            Guess::Boolean,
            vec!["yes/no: every value is `true` or `false`".into()],
        )
    } else if fits.integer && fits.leading_zero {
        (
            Guess::Text,
            vec![
                "text, not a whole number: some values start with 0, which a number would drop"
                    .into(),
            ],
        )
    } else if fits.integer {
        (Guess::Integer, vec![range("whole numbers", &fits)])
    } else if fits.decimal {
        let places = if fits.scale == 1 { "digit" } else { "digits" };
        (
            Guess::Decimal(fits.scale),
            vec![format!(
                "{}; exact, with up to {} {places} after the point",
                range("decimal numbers", &fits),
                fits.scale
            )],
        )
    } else if fits.number {
        (
            Guess::Number,
            vec![format!(
                "{}; approximate, as some are written with an exponent or have many digits",
                range("numbers", &fits)
            )],
        )
    } else if fits.date {
        (Guess::Date, vec![range("dates", &fits)])
    } else if fits.timestamp {
        (
            Guess::Timestamp,
            vec![range("dates with a time of day", &fits)],
        )
    } else if fits.text {
        let listed = cells
            .iter()
            .filter(|c| matches!(c, Cell::Text(t) if t.contains('|')))
            .count();
        if listed * 2 > seen {
            (
                Guess::Text,
                vec!["text; most values hold `|`: if they are lists, declare the field `list of text` (a CSV list separates its items with `|`, and an empty value is an empty list)".into()],
            )
        } else {
            (Guess::Text, vec!["text".into()])
        }
    } else if fits.list {
        let (inner, _) = fit(&fits.items, None)
            .map_err(|why| format!("its lists hold values segl cannot read: {why}"))?;
        if matches!(inner, Guess::List(_)) {
            return Err("it holds lists of lists".into());
        }
        let inner = if fits.items.is_empty() {
            Guess::Text
        } else {
            inner
        };
        let shown = inner.written();
        (
            Guess::List(Box::new(inner)),
            vec![format!(
                "a list of {shown}: every value is a list in square brackets"
            )],
        )
    } else if cells.contains(&Cell::Other) {
        return Err(
            "some values are JSON objects (`{ ... }`), which segl does not read; flatten them into columns of their own to include them".into(),
        );
    } else {
        return Err(
            "its values are of different kinds (such as texts mixed with yes/no values, lists or objects)"
                .into(),
        );
    };
    Ok(guess)
}

fn from_parquet(kind: &PeekKind, cells: &[Cell]) -> Result<(Guess, Vec<String>), String> {
    let guess = match kind {
        PeekKind::Text => fit(cells, None)?.0,
        PeekKind::Integer => Guess::Integer,
        PeekKind::Decimal(s) => Guess::Decimal(u8::try_from(*s).unwrap_or(0)),
        PeekKind::Number => Guess::Number,
        PeekKind::Boolean => Guess::Boolean,
        PeekKind::Date => Guess::Date,
        PeekKind::Timestamp => Guess::Timestamp,
        PeekKind::List(inner) => {
            let items: Vec<Cell> = cells
                .iter()
                .filter_map(|c| match c {
                    Cell::List(items) => Some(items.clone()),
                    _ => None,
                })
                .flatten()
                .collect();
            if items.contains(&Cell::Missing) {
                return Err("its lists hold unknown items, which a segl list cannot".into());
            }
            let (inner, _) = from_parquet(inner, &items)?;
            Guess::List(Box::new(inner))
        }
        PeekKind::Unsupported(what) => {
            return Err(format!("its Parquet type ({what}) is not one segl reads"));
        }
    };
    let shown = guess.written();
    Ok((
        guess,
        vec![format!("{shown}: the type of the Parquet column")],
    ))
}

/// Guesses the entity of one file: fields, `optional`, and the key.
pub fn entity(
    file: &str,
    format: DataFormat,
    table: Table,
    used: &[&str],
    span: Span,
) -> Result<Entity, Box<Diagnostic>> {
    let name = names::entity_name(file, used);
    let rows = table.rows;
    let mut notes = vec![format!(
        "From `{file}`: {} {}, {} columns. The entity is named after the file.",
        count(rows),
        rows_word(rows),
        table.columns.len()
    )];
    if let Some(d) = table.delimiter {
        notes.push(format!(
            "The file separates values with `{}`: its entry in `[data]` of `segl.toml` needs `delimiter = \"{}\"`.",
            char::from(d),
            char::from(d)
        ));
    }
    let mut fields: Vec<Field> = Vec::new();
    let mut skipped = Vec::new();
    let mut seen_names: HashSet<String> = HashSet::new();
    for RawColumn {
        name: column,
        kind,
        cells,
    } in table.columns
    {
        if !names::is_writable(&column) {
            skipped.push(format!(
                "A column named `{}` is left out: a segl name cannot be empty or hold a backtick or line break. Rename the column to include it.",
                column.replace('`', "'")
            ));
            continue;
        }
        if !seen_names.insert(column.clone()) {
            skipped.push(format!(
                "A second column named `{column}` is left out: rename one of the two to include it."
            ));
            continue;
        }
        match fit(&cells, kind.as_ref()) {
            Ok((ty, mut why)) => {
                let missing = cells.iter().filter(|c| **c == Cell::Missing).count();
                let optional = missing > 0;
                if optional {
                    why.push(format!(
                        "optional: {} of {} {} no value",
                        count(missing),
                        count(rows),
                        if missing == 1 { "rows has" } else { "rows have" }
                    ));
                }
                if !names::is_plain(&column) && snake(&column) == column {
                    why.push(format!(
                        "in backticks because `{column}` is a word with a meaning in segl; write it in backticks in rules too"
                    ));
                } else if !names::is_plain(&column) {
                    why.push(format!(
                        "in backticks because the column's name is not a plain segl name; segl has no way to rename a column in the schema, so rename it in the file (to `{}`, say) for an easier name",
                        snake(&column)
                    ));
                }
                fields.push(Field {
                    column,
                    ty,
                    optional,
                    missing,
                    notes: why,
                    cells,
                });
            }
            Err(why) => skipped.push(format!(
                "The column `{column}` is left out: {why}. segl ignores columns the schema does not declare."
            )),
        }
    }
    let Some(key) = choose_key(&name, &fields) else {
        let listed: Vec<String> = fields
            .iter()
            .take(12)
            .map(|f| format!("`{}`", f.column))
            .collect();
        return Err(Box::new(
            Diagnostic::new(
                Code::E0850,
                span,
                format!("no column of `{file}` can tell its records apart"),
            )
            .label(
                "every record needs a key: a column with a different value on every row and no gaps",
            )
            .help("add a column with a unique identifier (such as a row number or an ID from the system the data comes from) and run `segl schema infer` again")
            .note(format!("the columns are {}", listed.join(", "))),
        ));
    };
    if let Some(f) = fields.get_mut(key) {
        f.notes.insert(
            0,
            format!(
                "key: each of the {} {} has a different value here",
                count(rows),
                rows_word(rows)
            ),
        );
    }
    Ok(Entity {
        name,
        file: file.to_owned(),
        format,
        delimiter: table.delimiter,
        rows,
        fields,
        key,
        relations: Vec::new(),
        notes,
        skipped,
    })
}

/// The key: a text or whole-number column with a value on every row, all different,
/// preferring names such as `id`, `<entity>_id` and `key`.
fn choose_key(entity: &str, fields: &[Field]) -> Option<usize> {
    let rank = |column: &str| -> u8 {
        let s = snake(column);
        let compact = s.replace('_', "");
        if s == "id" {
            0
        } else if s == format!("{entity}_id") || compact == format!("{}id", entity.replace('_', ""))
        {
            1
        } else if ["key", "code", "number", "no"]
            .iter()
            .any(|w| s == *w || s == format!("{entity}_{w}"))
        {
            2
        } else if s.ends_with("_id") || s.ends_with("_key") || s.ends_with("_code") {
            3
        } else {
            4
        }
    };
    fields
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.optional && matches!(f.ty, Guess::Text | Guess::Integer))
        .filter(|(_, f)| {
            let mut seen: HashSet<&str> = HashSet::with_capacity(f.cells.len());
            f.cells
                .iter()
                .all(|c| c.text().is_some_and(|t| seen.insert(t)))
        })
        .min_by_key(|(i, f)| (rank(&f.column), *i))
        .map(|(i, _)| i)
}

/// Turns text fields with few different values into `one of` (not keys or relation fields).
pub fn enums(entity: &mut Entity) {
    let key = entity.key;
    let linked: Vec<String> = entity
        .relations
        .iter()
        .filter(|r| r.kind == super::RelationKind::One)
        .map(|r| r.by.clone())
        .collect();
    for (i, field) in entity.fields.iter_mut().enumerate() {
        if i == key || field.ty != Guess::Text || linked.contains(&field.column) {
            continue;
        }
        let mut counts: HashMap<&str, usize> = HashMap::new();
        let mut too_many = false;
        let mut present = 0usize;
        for c in &field.cells {
            let Some(t) = c.text() else { continue };
            present += 1;
            if let Some(n) = counts.get_mut(t) {
                *n += 1;
            } else if counts.len() >= MAX_ENUM_VALUES {
                too_many = true;
                break;
            } else {
                counts.insert(t, 1);
            }
        }
        if too_many || counts.is_empty() || present < MIN_ROWS_PER_ENUM_VALUE * counts.len() {
            continue;
        }
        if counts.keys().any(|v| !names::is_writable(v)) {
            field.notes.push(
                "not `one of`: some values have spaces at either end, a backtick or a line break"
                    .into(),
            );
            continue;
        }
        let mut lower: HashMap<String, &str> = HashMap::new();
        let mut clash: Option<(&str, &str)> = None;
        let mut sorted: Vec<&str> = counts.keys().copied().collect();
        sorted.sort_unstable();
        for v in &sorted {
            if let Some(prev) = lower.insert(v.to_lowercase(), v) {
                clash = clash.or(Some((prev, v)));
            }
        }
        if let Some((a, b)) = clash {
            field.notes.retain(|n| n != "text");
            field.notes.insert(0, format!(
                "text, not `one of`: `{a}` and `{b}` differ only in upper and lower case; tidy the values in the file to make it `one of`, or compare with `ignoring case`"
            ));
            continue;
        }
        let mut values: Vec<(&str, usize)> = counts.into_iter().collect();
        values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let n = values.len();
        field.ty = Guess::Enum(values.iter().map(|(v, _)| (*v).to_owned()).collect());
        if let Some(first) = field.notes.first_mut() {
            *first = format!(
                "one of {n} {} ({} rows have a value), most used first",
                if n == 1 { "value" } else { "values" },
                count(present)
            );
        }
    }
}

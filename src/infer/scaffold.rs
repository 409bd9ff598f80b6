//! `segl new`: the files of a new project, either the built-in example (customers and orders
//! with a little sample data) or one drafted from the user's own data files.
//!
//! The example's files are kept as real files under `templates/new/` and compiled in, so they are
//! also checked as files. Everything here returns file contents; the CLI writes them.

use std::cmp::Ordering;

use super::names::{plural, snake, written_name};
use super::render::comment;
use super::{Cell, Entity, Field, Guess, Schema};
use crate::engine::load::cell;

/// One file of a new project: its path relative to the project folder and its contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFile {
    pub path: String,
    pub contents: Vec<u8>,
}

impl NewFile {
    /// A text file; rule files are laid out as `segl fmt` does.
    fn text(path: &str, contents: impl Into<String>) -> Self {
        let contents = contents.into();
        let contents = if path.ends_with(".segl") {
            super::canonical(contents)
        } else {
            contents
        };
        NewFile {
            path: path.to_owned(),
            contents: contents.into_bytes(),
        }
    }
}

const SEGL_TOML: &str = include_str!("../../templates/new/segl.toml");
const SCHEMA: &str = include_str!("../../templates/new/schema.segl");
const SEGMENTS: &str = include_str!("../../templates/new/segments.segl");
const TESTS: &str = include_str!("../../templates/new/tests.segl");
const CUSTOMERS: &str = include_str!("../../templates/new/data/customers.csv");
const ORDERS: &str = include_str!("../../templates/new/data/orders.csv");
const README: &str = include_str!("../../templates/new/README.md");
const WORKFLOW: &str = include_str!("../../templates/new/.github/workflows/segl.yml");
const PRE_COMMIT: &str = include_str!("../../templates/new/.pre-commit-config.yaml");

/// A project name as it can stand in `segl.toml` (a TOML basic string) and a heading.
fn clean_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
        .collect()
}

fn shared_files(name: &str, data: &str) -> Vec<NewFile> {
    let readme = README
        .replace("{{name}}", &clean_name(name))
        .replace("{{data}}", data);
    vec![
        NewFile::text("README.md", readme),
        NewFile::text(".github/workflows/segl.yml", WORKFLOW),
        NewFile::text(".pre-commit-config.yaml", PRE_COMMIT),
    ]
}

/// The example project: customers and orders, two segments, a tier set, a score and a test.
#[must_use]
pub fn example(name: &str) -> Vec<NewFile> {
    let mut files = vec![
        NewFile::text(
            "segl.toml",
            SEGL_TOML.replace("{{name}}", &clean_name(name)),
        ),
        NewFile::text("schema.segl", SCHEMA),
        NewFile::text("segments.segl", SEGMENTS),
        NewFile::text("tests.segl", TESTS),
        NewFile::text("data/customers.csv", CUSTOMERS),
        NewFile::text("data/orders.csv", ORDERS),
    ];
    files.extend(shared_files(
        name,
        "a little sample data (20 customers, 30 orders) to try the rules on; point `[data]` in `segl.toml` at your own files",
    ));
    files
}

/// A TOML key: bare when it can be, quoted otherwise.
fn toml_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_owned()
    } else {
        format!("\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A project drafted from data: `data` holds, for each entity of `schema` in order, the path
/// its file is copied to (relative to the project folder).
#[must_use]
pub fn from_data(name: &str, schema: &Schema, data: &[String]) -> Vec<NewFile> {
    let mut toml = String::new();
    toml.push_str("# The settings of this segl project (`segl.toml`): its name, time zone, as-of date and data.\n");
    toml.push_str("[project]\n");
    toml.push_str(&format!("name = \"{}\"\n", clean_name(name)));
    if let Some(p) = schema.entities.get(schema.primary) {
        toml.push_str(&format!("primary_entity = {}\n", toml_string(&p.name)));
    }
    toml.push_str("# Timestamps without a time zone in the data are read in this zone.\n");
    toml.push_str("time_zone = \"UTC\"\n");
    toml.push_str("as_of = \"today\"\n\n");
    toml.push_str(
        "# Which file holds the records of each entity (paths relative to this folder).\n",
    );
    toml.push_str("[data]\n");
    for (entity, path) in schema.entities.iter().zip(data) {
        let value = match entity.delimiter {
            Some(d) => format!(
                "{{ path = {}, delimiter = {} }}",
                toml_string(path),
                toml_string(&char::from(d).to_string())
            ),
            None => toml_string(path),
        };
        toml.push_str(&format!("{} = {value}\n", toml_key(&entity.name)));
    }
    let mut files = vec![
        NewFile::text("segl.toml", toml),
        NewFile::text("schema.segl", schema.text()),
    ];
    if let Some(primary) = schema.entities.get(schema.primary) {
        let rules = Rules::for_entity(primary);
        files.push(NewFile::text("segments.segl", rules.segments(primary)));
        files.push(NewFile::text("tests.segl", rules.tests(primary)));
    }
    files.extend(shared_files(
        name,
        "copies of the data files the project was drafted from",
    ));
    files
}

/// A condition on one field of one record, evaluated here exactly as segl would.
#[derive(Clone, Debug)]
enum Condition {
    /// `field is value` on an enum.
    Is(usize, String),
    /// A yes/no field on its own.
    Yes(usize),
    /// `field is known`.
    Known(usize),
    /// `field >= value` on a number or date (the value as written in the data).
    AtLeast(usize, String),
}

impl Condition {
    fn field(&self) -> usize {
        match self {
            Condition::Is(f, _)
            | Condition::Yes(f)
            | Condition::Known(f)
            | Condition::AtLeast(f, _) => *f,
        }
    }

    fn written(&self, e: &Entity) -> String {
        let Some(field) = e.fields.get(self.field()) else {
            return String::new();
        };
        let name = written_name(&field.column);
        match self {
            Condition::Is(_, v) => format!("{name} is {}", written_name(v)),
            Condition::Yes(_) => name,
            Condition::Known(_) => format!("{name} is known"),
            Condition::AtLeast(_, v) => {
                format!("{name} >= {}", literal(&field.ty, &Cell::Text(v.clone())))
            }
        }
    }

    fn holds(&self, e: &Entity, row: usize) -> bool {
        let Some(field) = e.fields.get(self.field()) else {
            return false;
        };
        let Some(c) = field.cells.get(row) else {
            return false;
        };
        match self {
            Condition::Is(_, v) => c.text() == Some(v.as_str()),
            Condition::Yes(_) => c.text().is_some_and(|t| cell::boolean(t) == Ok(true)),
            Condition::Known(_) => *c != Cell::Missing,
            Condition::AtLeast(_, v) => c
                .text()
                .is_some_and(|t| compare(&field.ty, t, v) != Some(Ordering::Less)),
        }
    }
}

/// Compares two values of a numeric or date field exactly.
fn compare(ty: &Guess, a: &str, b: &str) -> Option<Ordering> {
    match ty {
        Guess::Integer => Some(cell::integer(a).ok()?.cmp(&cell::integer(b).ok()?)),
        Guess::Decimal(_) => {
            let (a, b) = (cell::decimal(a).ok()?, cell::decimal(b).ok()?);
            let scale = a.scale.max(b.scale);
            let up = |d: cell::Exact| {
                10_i128
                    .checked_pow(u32::from(scale - d.scale))
                    .and_then(|f| d.mantissa.checked_mul(f))
            };
            Some(up(a)?.cmp(&up(b)?))
        }
        Guess::Number => cell::number(a).ok()?.partial_cmp(&cell::number(b).ok()?),
        Guess::Date => Some(cell::date(a).ok()?.cmp(&cell::date(b).ok()?)),
        _ => None,
    }
}

/// A segment: its name, title, description and condition.
struct Segment {
    name: String,
    title: String,
    description: String,
    condition: Condition,
    why: String,
}

struct Rules {
    first: Segment,
    second: Option<Segment>,
    /// Tier rows (name, condition) in order; the rest is `otherwise`.
    tiers: Vec<(String, Condition)>,
    tiers_why: String,
    tier_name: String,
}

fn present_values(field: &Field) -> Vec<&str> {
    field.cells.iter().filter_map(Cell::text).collect()
}

/// The values of a numeric or date field from small to large.
fn sorted(field: &Field) -> Vec<&str> {
    let mut v = present_values(field);
    v.sort_by(|a, b| compare(&field.ty, a, b).unwrap_or(Ordering::Equal));
    v
}

fn title_case(s: &str) -> String {
    let s = s.replace('_', " ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => s,
    }
}

fn rule_name(parts: &[&str]) -> String {
    let name = snake(&parts.join("_"));
    if super::names::is_plain(&name) && !name.is_empty() {
        name
    } else {
        format!(
            "segment_{}",
            name.trim_start_matches(|c: char| !c.is_alphabetic())
        )
    }
}

impl Rules {
    fn for_entity(e: &Entity) -> Rules {
        let usable = |i: usize, f: &Field| i != e.key && f.cells.iter().any(|c| c.text().is_some());
        let en = e.fields.iter().enumerate().find_map(|(i, f)| match &f.ty {
            Guess::Enum(values) if usable(i, f) => values.first().map(|v| (i, f, v.clone())),
            _ => None,
        });
        let numeric = e
            .fields
            .iter()
            .enumerate()
            .filter(|(i, f)| usable(*i, f) && (f.ty.is_numeric() || f.ty == Guess::Date))
            .min_by_key(|(i, f)| (!f.ty.is_numeric(), f.optional, *i));
        let first = if let Some((i, f, v)) = en {
            Segment {
                name: rule_name(&[&f.column, &v]),
                title: format!("{} is {v}", title_case(&f.column)),
                description: format!(
                    "{} whose {} is {v}.",
                    title_case(&plural(&e.name)),
                    f.column
                ),
                condition: Condition::Is(i, v.clone()),
                why: format!("On `{}`, with its most used value, `{v}`.", f.column),
            }
        } else if let Some((i, f)) = e
            .fields
            .iter()
            .enumerate()
            .find(|(i, f)| usable(*i, f) && f.ty == Guess::Boolean)
        {
            Segment {
                name: rule_name(&[&f.column]),
                title: title_case(&f.column),
                description: format!(
                    "{} whose {} is true.",
                    title_case(&plural(&e.name)),
                    f.column
                ),
                condition: Condition::Yes(i),
                why: format!("On the yes/no field `{}`.", f.column),
            }
        } else {
            let (i, f) = e
                .fields
                .iter()
                .enumerate()
                .find(|(i, f)| usable(*i, f) && f.optional)
                .unwrap_or((e.key, e.fields.get(e.key).unwrap_or(&FALLBACK)));
            Segment {
                name: rule_name(&[&f.column, "known"]),
                title: format!("{} known", title_case(&f.column)),
                description: format!(
                    "{} with a value for {}.",
                    title_case(&plural(&e.name)),
                    f.column
                ),
                condition: Condition::Known(i),
                why: format!("On whether `{}` has a value.", f.column),
            }
        };
        let (second, tiers, tiers_why) = match numeric {
            Some((i, f)) => {
                let values = sorted(f);
                let median = values.get((values.len().saturating_sub(1)) / 2).copied();
                let upper = values.get(values.len().saturating_sub(1) * 3 / 4).copied();
                match (median, upper) {
                    (Some(m), Some(u)) => {
                        let what = if f.ty == Guess::Date {
                            "on or after"
                        } else {
                            "at least"
                        };
                        let second = Segment {
                            name: rule_name(&["high", &f.column]),
                            title: format!("High {}", f.column.replace('_', " ")),
                            description: format!(
                                "{} whose {} is {what} the median of the data ({m}).",
                                title_case(&plural(&e.name)),
                                f.column
                            ),
                            condition: Condition::AtLeast(i, m.to_owned()),
                            why: format!(
                                "On `{}` at its median, {m}: about half of the records are in it.",
                                f.column
                            ),
                        };
                        let mut tiers =
                            vec![("top".to_owned(), Condition::AtLeast(i, u.to_owned()))];
                        if compare(&f.ty, u, m) != Some(Ordering::Equal) {
                            tiers.push(("middle".to_owned(), Condition::AtLeast(i, m.to_owned())));
                        }
                        let why = format!(
                            "By `{}`: the top quarter of the data ({u} or more), then the rest of the top half.",
                            f.column
                        );
                        (Some(second), tiers, why)
                    }
                    _ => (None, Vec::new(), String::new()),
                }
            }
            None => (None, Vec::new(), String::new()),
        };
        let (tiers, tiers_why) = if tiers.is_empty() {
            (
                vec![("in_first_segment".to_owned(), first.condition.clone())],
                format!("By membership of `{}`.", first.name),
            )
        } else {
            (tiers, tiers_why)
        };
        let mut rules = Rules {
            first,
            second,
            tiers,
            tiers_why,
            tier_name: rule_name(&[&e.name, "band"]),
        };
        // Rule names must differ from the entity's fields and relations and from each other.
        let mut taken: Vec<String> = e.fields.iter().map(|f| f.column.clone()).collect();
        taken.extend(e.relations.iter().map(|r| r.name.clone()));
        taken.push(e.name.clone());
        let entities = plural(&e.name);
        let mut unique = |name: &mut String| {
            if taken.contains(name) {
                *name = format!("{name}_{entities}");
            }
            while taken.contains(name) {
                name.push('_');
            }
            taken.push(name.clone());
        };
        unique(&mut rules.first.name);
        if let Some(s) = rules.second.as_mut() {
            unique(&mut s.name);
        }
        unique(&mut rules.tier_name);
        rules
    }

    fn segments(&self, e: &Entity) -> String {
        let mut out = String::new();
        comment(
            &mut out,
            "",
            &format!(
                "First segments and a tier set, drafted by `segl new` from the data of `{}`. They \
                 are examples to edit or replace: each says what it is for in `title` and \
                 `description`, and who is in it after `where`.",
                e.name
            ),
        );
        let of = "";
        for s in std::iter::once(&self.first).chain(self.second.as_ref()) {
            out.push('\n');
            comment(&mut out, "", &s.why);
            out.push_str(&format!("segment {}{of} {{\n", s.name));
            out.push_str(&format!("  title {}\n", text_literal(&s.title)));
            out.push_str(&format!("  description {}\n", text_literal(&s.description)));
            out.push_str(&format!("  where {}\n", s.condition.written(e)));
            out.push_str("}\n");
        }
        out.push('\n');
        comment(&mut out, "", &self.tiers_why);
        out.push_str(&format!("tiers {}{of} {{\n", self.tier_name));
        out.push_str(&format!(
            "  title {}\n",
            text_literal(&format!("{} band", title_case(&e.name)))
        ));
        out.push_str(&format!(
            "  description {}\n",
            text_literal(&format!(
                "Every {} in one band; the first row that holds wins.",
                e.name
            ))
        ));
        for (name, c) in &self.tiers {
            out.push_str(&format!("  {name} when {}\n", c.written(e)));
        }
        out.push_str("  rest otherwise\n}\n");
        out
    }

    /// Rows for the test: records in and out of each segment, at most four.
    fn test_rows(&self, e: &Entity) -> Vec<usize> {
        let mut rows: Vec<usize> = Vec::new();
        let mut add = |r: Option<usize>| {
            if let Some(r) = r
                && !rows.contains(&r)
                && rows.len() < 4
            {
                rows.push(r);
            }
        };
        for s in std::iter::once(&self.first).chain(self.second.as_ref()) {
            add((0..e.rows).find(|r| s.condition.holds(e, *r)));
            add((0..e.rows).find(|r| !s.condition.holds(e, *r)));
        }
        rows
    }

    fn tests(&self, e: &Entity) -> String {
        let mut out = String::new();
        comment(
            &mut out,
            "",
            "A test drafted by `segl new`: the records are copied from the data, and the \
             expectations were computed from them when the project was made, so the test passes \
             now. Keep it passing: when a rule changes on purpose, change what the test expects.",
        );
        out.push_str(&format!(
            "test \"the first segments on records from {}\" {{\n",
            e.file
        ));
        out.push_str("  as of 2026-01-01\n");
        let rows = self.test_rows(e);
        let used: Vec<usize> = std::iter::once(&self.first)
            .chain(self.second.as_ref())
            .map(|s| s.condition.field())
            .chain(self.tiers.iter().map(|(_, c)| c.field()))
            .collect();
        let Some(key) = e.key_field() else {
            out.push_str("}\n");
            return out;
        };
        for &r in &rows {
            let Some(k) = key.cells.get(r) else { continue };
            out.push('\n');
            out.push_str(&format!(
                "  {} {} {{\n",
                written_name(&e.name),
                literal(&key.ty, k)
            ));
            let mut parts = Vec::new();
            for (i, f) in e.fields.iter().enumerate() {
                if i == e.key || (f.optional && !used.contains(&i)) {
                    continue;
                }
                let Some(c) = f.cells.get(r) else { continue };
                if *c == Cell::Missing {
                    continue;
                }
                parts.push(format!(
                    "{}: {}",
                    written_name(&f.column),
                    literal(&f.ty, c)
                ));
            }
            for (n, p) in parts.iter().enumerate() {
                let comma = if n + 1 < parts.len() { "," } else { "" };
                out.push_str(&format!("    {p}{comma}\n"));
            }
            out.push_str("  }\n");
        }
        out.push('\n');
        for &r in &rows {
            let Some(k) = key.cells.get(r) else { continue };
            let k = literal(&key.ty, k);
            for s in std::iter::once(&self.first).chain(self.second.as_ref()) {
                let not = if s.condition.holds(e, r) { "" } else { "not " };
                out.push_str(&format!("  expect {k} {not}in {}\n", s.name));
            }
            let tier = self
                .tiers
                .iter()
                .find(|(_, c)| c.holds(e, r))
                .map_or("rest", |(n, _)| n.as_str());
            out.push_str(&format!("  expect {k}.{} is {tier}\n", self.tier_name));
        }
        out.push_str("}\n");
        out
    }
}

static FALLBACK: Field = Field {
    column: String::new(),
    ty: Guess::Text,
    optional: false,
    missing: 0,
    notes: Vec::new(),
    cells: Vec::new(),
};

fn text_literal(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A value of the data written as a segl literal of the field's type.
fn literal(ty: &Guess, c: &Cell) -> String {
    match (ty, c) {
        (Guess::List(inner), Cell::List(items)) => {
            let items: Vec<String> = items.iter().map(|i| literal(inner, i)).collect();
            format!("[{}]", items.join(", "))
        }
        (_, Cell::Bool(b)) => b.to_string(),
        (ty, c) => {
            let Some(t) = c.text() else {
                return "\"\"".to_owned();
            };
            match ty {
                Guess::Enum(_) => written_name(t),
                Guess::Boolean => cell::boolean(t).unwrap_or(false).to_string(),
                Guess::Integer => cell::integer(t).map_or_else(|_| t.to_owned(), |v| v.to_string()),
                Guess::Decimal(_) | Guess::Number => match cell::decimal(t) {
                    Ok(d) => exact(d),
                    Err(_) => cell::number(t).map_or_else(|_| t.to_owned(), |v| format!("{v:.6}")),
                },
                Guess::Date => t.to_owned(),
                Guess::Timestamp => timestamp(t),
                Guess::Text | Guess::List(_) => text_literal(t),
            }
        }
    }
}

fn exact(d: cell::Exact) -> String {
    let negative = d.mantissa < 0;
    let digits = d.mantissa.unsigned_abs().to_string();
    let scale = usize::from(d.scale);
    let sign = if negative { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// A timestamp from the data as a segl literal: with `Z` when the data gave an offset (the
/// instant is kept), without one when it did not (read in the project's zone, like the data).
fn timestamp(t: &str) -> String {
    let Ok(micros) = cell::timestamp(t, &jiff::tz::TimeZone::UTC) else {
        return t.to_owned();
    };
    let Ok(ts) = jiff::Timestamp::from_microsecond(micros) else {
        return t.to_owned();
    };
    let offset = t
        .get(19..)
        .is_some_and(|rest| rest.contains(['Z', 'z', '+', '-']));
    let dt = jiff::tz::TimeZone::UTC.to_datetime(ts);
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    let sub = dt.subsec_nanosecond() / 1000;
    let frac = if sub == 0 {
        String::new()
    } else {
        format!(".{sub:06}")
    };
    if offset {
        format!("{base}{frac}Z")
    } else {
        format!("{base}{frac}")
    }
}

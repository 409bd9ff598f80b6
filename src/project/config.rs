//! `segl.toml`: the project settings, read from text into a [`Config`] with E0002 diagnostics.
//!
//! Reading is forgiving: every problem is reported with its place in `segl.toml`, and the settings
//! that are fine are still returned, so one typo does not hide the rest of the project's problems.

use std::collections::BTreeMap;

use toml::Spanned;

use crate::diagnostics::{Code, Diagnostic, suggest};
use crate::source::{FileId, Span};

/// The sections `segl.toml` may have.
const SECTIONS: &[&str] = &["project", "data", "lints"];
/// The keys of `[project]`.
const PROJECT_KEYS: &[&str] = &["name", "primary_entity", "time_zone", "as_of", "rules"];

/// The date rules are evaluated on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsOf {
    /// The current date in the project's time zone, at the moment of the run.
    Today,
    /// A fixed calendar date, so that results can be reproduced.
    Date { year: i32, month: u32, day: u32 },
}

/// The settings of one project, as far as they could be read.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Where `segl.toml` is in the source map.
    pub file: FileId,
    pub name: Option<String>,
    /// The entity a segment is about when it does not say `of ENTITY`, with the span of the value.
    pub primary_entity: Option<(String, Span)>,
    /// An IANA time zone name such as `Europe/Berlin`, with its span.
    pub time_zone: Option<(String, Span)>,
    pub as_of: Option<(AsOf, Span)>,
    /// Which files are rule files (globs or paths relative to the project), with their spans.
    /// `None` means the default: every `.segl` file except those under `data/`.
    pub rules: Option<Vec<(String, Span)>>,
    /// The `[data]` section, kept as written for the stages that use it.
    pub data: toml::Table,
    /// The `[lints]` section, kept as written.
    pub lints: toml::Table,
}

impl Config {
    fn empty(file: FileId) -> Self {
        Config {
            file,
            name: None,
            primary_entity: None,
            time_zone: None,
            as_of: None,
            rules: None,
            data: toml::Table::new(),
            lints: toml::Table::new(),
        }
    }
}

type SpannedTable = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// Reads the text of `segl.toml` (already in the source map as `file`).
///
/// Always returns a [`Config`]; the diagnostics say what could not be used.
#[must_use]
pub fn parse_config(file: FileId, text: &str) -> (Config, Vec<Diagnostic>) {
    let mut config = Config::empty(file);
    let mut diagnostics = Vec::new();
    let span = |range: std::ops::Range<usize>| Span::new(file, range.start, range.end);

    let top: SpannedTable = match toml::from_str(text) {
        Ok(top) => top,
        Err(err) => {
            let range = err.span().unwrap_or(0..0);
            let message = first_line(err.message());
            diagnostics.push(
                Diagnostic::new(Code::E0002, span(range), "`segl.toml` is not valid TOML")
                    .label(message)
                    .help(
                        "fix the TOML syntax here; `segl explain E0002` shows a complete example",
                    ),
            );
            return (config, diagnostics);
        }
    };

    for (key, value) in top {
        let key_span = span(key.span());
        let value_span = span(value.span());
        match key.get_ref().as_str() {
            "project" => match value.into_inner() {
                toml::Value::Table(_) => {}
                other => diagnostics.push(not_a_table("project", &other, value_span)),
            },
            "data" | "lints" => {
                let name = key.get_ref().clone();
                match value.into_inner() {
                    toml::Value::Table(table) if name == "data" => config.data = table,
                    toml::Value::Table(table) => config.lints = table,
                    other => diagnostics.push(not_a_table(&name, &other, value_span)),
                }
            }
            unknown => diagnostics.push(unknown_key(unknown, key_span, SECTIONS, "section")),
        }
    }

    // Now the keys of `[project]`, with spans of their own.
    #[derive(serde::Deserialize)]
    struct ProjectOnly {
        project: Option<SpannedTable>,
    }
    if let Ok(ProjectOnly {
        project: Some(project),
    }) = toml::from_str::<ProjectOnly>(text)
    {
        for (key, value) in project {
            read_project_key(&mut config, &mut diagnostics, file, &key, &value);
        }
    }

    (config, diagnostics)
}

#[allow(clippy::result_large_err)]
fn read_project_key(
    config: &mut Config,
    diagnostics: &mut Vec<Diagnostic>,
    file: FileId,
    key: &Spanned<String>,
    value: &Spanned<toml::Value>,
) {
    let key_span = Span::new(file, key.span().start, key.span().end);
    let value_span = Span::new(file, value.span().start, value.span().end);
    let name = key.get_ref().as_str();
    let text = || -> Result<String, Diagnostic> {
        match value.get_ref() {
            toml::Value::String(s) => Ok(s.clone()),
            other => Err(wrong_type(
                name,
                "a text in double quotes",
                other,
                value_span,
            )),
        }
    };
    match name {
        "name" => match text() {
            Ok(s) => config.name = Some(s),
            Err(d) => diagnostics.push(d),
        },
        "primary_entity" => match text() {
            Ok(s) if s.trim().is_empty() => diagnostics.push(
                Diagnostic::new(Code::E0002, value_span, "`primary_entity` is empty")
                    .label("an entity name is expected here")
                    .help("write the name of an entity of the schema, such as `\"customer\"`, or remove the line"),
            ),
            Ok(s) => config.primary_entity = Some((s, value_span)),
            Err(d) => diagnostics.push(d),
        },
        "time_zone" => match text() {
            Ok(s) if is_time_zone(&s) => config.time_zone = Some((s, value_span)),
            Ok(s) => diagnostics.push(
                Diagnostic::new(
                    Code::E0002,
                    value_span,
                    format!("`{s}` is not a time zone name"),
                )
                .label("not in the IANA time zone list")
                .help(time_zone_help(&s)),
            ),
            Err(d) => diagnostics.push(d),
        },
        "as_of" => match read_as_of(value.get_ref(), value_span) {
            Ok(as_of) => config.as_of = Some((as_of, value_span)),
            Err(d) => diagnostics.push(d),
        },
        "rules" => match value.get_ref() {
            toml::Value::Array(items) => {
                let mut rules = Vec::new();
                for item in items {
                    match item {
                        toml::Value::String(s) => rules.push((s.clone(), value_span)),
                        other => {
                            diagnostics.push(wrong_type(
                                "rules",
                                "a list of texts such as `[\"segments/**/*.segl\"]`",
                                other,
                                value_span,
                            ));
                            return;
                        }
                    }
                }
                config.rules = Some(rules);
            }
            toml::Value::String(s) => config.rules = Some(vec![(s.clone(), value_span)]),
            other => diagnostics.push(wrong_type(
                "rules",
                "a list of texts such as `[\"segments/**/*.segl\"]`",
                other,
                value_span,
            )),
        },
        unknown => diagnostics.push(unknown_key(unknown, key_span, PROJECT_KEYS, "setting")),
    }
}

// A diagnostic is the error value here; it is built once per bad setting, so its size is no cost.
#[allow(clippy::result_large_err)]
fn read_as_of(value: &toml::Value, span: Span) -> Result<AsOf, Diagnostic> {
    let bad = |written: &str| {
        Diagnostic::new(Code::E0002, span, format!("`{written}` is not a date for `as_of`"))
            .label("expected a date like `\"2026-11-20\"` or `\"today\"`")
            .help("write the date as year-month-day with four, two and two digits, or `\"today\"` to use the date of each run")
    };
    let written = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt.to_string(),
        toml::Value::Datetime(dt) => {
            return Err(
                bad(&dt.to_string()).label("only a date is allowed here, without a time of day")
            );
        }
        other => {
            return Err(wrong_type(
                "as_of",
                "a date like `\"2026-11-20\"` or `\"today\"`",
                other,
                span,
            ));
        }
    };
    if written.trim().eq_ignore_ascii_case("today") {
        return Ok(AsOf::Today);
    }
    let parts: Vec<&str> = written.trim().split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad(&written));
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(y, 4) && digits(m, 2) && digits(d, 2)) {
        return Err(bad(&written));
    }
    let (Ok(year), Ok(month), Ok(day)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>())
    else {
        return Err(bad(&written));
    };
    if !(1..=12).contains(&month) {
        return Err(
            Diagnostic::new(Code::E0002, span, format!("`{written}` is not a real date"))
                .label(format!("there is no month {month}"))
                .help("months go from 01 to 12"),
        );
    }
    let last = days_in_month(year, month);
    if day == 0 || day > last {
        return Err(
            Diagnostic::new(Code::E0002, span, format!("`{written}` is not a real date"))
                .label(format!("this month has {last} days"))
                .help(format!("use a day from 01 to {last:02}")),
        );
    }
    Ok(AsOf::Date { year, month, day })
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Whether `name` is in the IANA time zone database bundled with segl.
fn is_time_zone(name: &str) -> bool {
    jiff::tz::db().get(name).is_ok()
}

/// The time zone names closest to a misspelt one.
fn time_zone_help(name: &str) -> String {
    let names: Vec<String> = jiff::tz::db()
        .available()
        .map(|n| n.as_str().to_owned())
        .collect();
    let candidates: Vec<suggest::Candidate<'_>> =
        names.iter().map(|n| suggest::Candidate::plain(n)).collect();
    // Zone names are long and alike (`Europe/Berlin`, `Europe/Dublin`): offer only the closest.
    let mut nearest = suggest::nearest(name, &candidates);
    nearest.truncate(1);
    suggest::did_you_mean(&nearest).unwrap_or_else(|| {
        "use a name from the IANA time zone list, such as `\"Europe/Berlin\"`, `\"America/New_York\"` or `\"UTC\"`".to_owned()
    })
}

fn type_name(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "a text",
        toml::Value::Integer(_) => "a whole number",
        toml::Value::Float(_) => "a decimal number",
        toml::Value::Boolean(_) => "true or false",
        toml::Value::Datetime(_) => "a date or time",
        toml::Value::Array(_) => "a list",
        toml::Value::Table(_) => "a table",
    }
}

fn wrong_type(key: &str, expected: &str, found: &toml::Value, span: Span) -> Diagnostic {
    Diagnostic::new(Code::E0002, span, format!("`{key}` must be {expected}"))
        .label(format!("this is {}", type_name(found)))
}

fn not_a_table(section: &str, found: &toml::Value, span: Span) -> Diagnostic {
    Diagnostic::new(Code::E0002, span, format!("`{section}` must be a section"))
        .label(format!("this is {}", type_name(found)))
        .help(format!(
            "write it as a section header, `[{section}]`, followed by its settings"
        ))
}

fn unknown_key(key: &str, span: Span, known: &[&str], what: &str) -> Diagnostic {
    let candidates: Vec<suggest::Candidate<'_>> =
        known.iter().map(|k| suggest::Candidate::plain(k)).collect();
    let nearest = suggest::nearest(key, &candidates);
    let listed = known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let diagnostic = Diagnostic::new(Code::E0002, span, format!("unknown {what} `{key}`"))
        .label(format!("segl does not know this {what}"));
    match (suggest::did_you_mean(&nearest), nearest.first()) {
        (Some(help), Some(best)) => {
            let fixed = diagnostic
                .help(help)
                .note(format!("the known {what}s are {listed}"));
            if nearest.len() == 1 {
                fixed.fix(span, *best)
            } else {
                fixed
            }
        }
        _ => diagnostic.help(format!("the known {what}s are {listed}")),
    }
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or("").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Config, Vec<Diagnostic>) {
        parse_config(FileId(0), text)
    }

    #[test]
    fn reads_the_example_project() {
        let text = "[project]\nname = \"acme\"\nprimary_entity = \"customer\"\ntime_zone = \"Europe/Berlin\"\nas_of = \"2026-11-20\"\n\n[data]\ncustomer = \"data/c.csv\"\n";
        let (config, diagnostics) = read(text);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(config.name.as_deref(), Some("acme"));
        let (entity, span) = config.primary_entity.clone().unwrap();
        assert_eq!(entity, "customer");
        assert_eq!(&text[span.range()], "\"customer\"");
        assert_eq!(
            config.as_of.map(|a| a.0),
            Some(AsOf::Date {
                year: 2026,
                month: 11,
                day: 20
            })
        );
        assert!(config.data.contains_key("customer"));
        assert!(config.rules.is_none());
    }

    #[test]
    fn unknown_key_gets_a_suggestion_and_a_span() {
        let text = "[project]\nprimary_entty = \"customer\"\n";
        let (_, diagnostics) = read(text);
        assert_eq!(diagnostics.len(), 1);
        let d = &diagnostics[0];
        assert_eq!(d.code, Code::E0002);
        assert_eq!(&text[d.primary.span.range()], "primary_entty");
        assert_eq!(d.help.as_deref(), Some("did you mean `primary_entity`?"));
        assert_eq!(
            d.fix.as_ref().map(|f| f.replacement.as_str()),
            Some("primary_entity")
        );
    }

    #[test]
    fn syntax_error_points_into_the_file() {
        let text = "[project]\nname = \"acme\n";
        let (_, diagnostics) = read(text);
        assert_eq!(diagnostics.len(), 1);
        assert!(diagnostics[0].primary.span.start >= 10);
    }

    #[test]
    fn dates_and_zones_are_validated() {
        let (_, d) = read("[project]\nas_of = \"2026-02-30\"\ntime_zone = \"Berlin\"\n");
        assert_eq!(d.len(), 2, "{d:?}");
        let (c, d) = read("[project]\nas_of = \"today\"\ntime_zone = \"UTC\"\n");
        assert!(d.is_empty());
        assert_eq!(c.as_of.map(|a| a.0), Some(AsOf::Today));
        let (c, d) = read("[project]\nas_of = 2024-02-29\n");
        assert!(d.is_empty(), "{d:?}");
        assert!(c.as_of.is_some());
        let (_, d) = read("[project]\ntime_zone = \"Europe/Berlinn\"\n");
        assert_eq!(d[0].help.as_deref(), Some("did you mean `Europe/Berlin`?"));
        let (_, d) = read("[project]\nrules = 3\n[extra]\n");
        assert_eq!(d.len(), 2, "{d:?}");
    }
}

//! The written definition of every rule of a program, in the formatter's layout, so that two
//! versions of a project can be compared rule by rule whatever their spacing and file layout.

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::Program;
use crate::source::{FileId, SourceMap};
use crate::syntax::{self, ast};

/// What kind of item a definition text belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Segment,
    Tiers,
    Score,
    Define,
    Param,
}

impl ItemKind {
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            ItemKind::Segment => "segment",
            ItemKind::Tiers => "tiers",
            ItemKind::Score => "score",
            ItemKind::Define => "define",
            ItemKind::Param => "param",
        }
    }
}

/// One rule's text, formatted, and the same text with its name replaced (to spot renames).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    pub text: String,
    pub nameless: String,
}

/// Every segment, tier set, score, definition and parameter of `program`, by kind and name, as
/// formatted text. Only the rule files the program came from (in `sources`) are read.
#[must_use]
pub fn definitions(
    program: &Program,
    sources: &SourceMap,
) -> BTreeMap<(ItemKind, String), Definition> {
    let mut files: BTreeSet<FileId> = BTreeSet::new();
    files.extend(program.segments.iter().map(|s| s.span.file));
    files.extend(program.tier_sets.iter().map(|s| s.span.file));
    files.extend(program.scores.iter().map(|s| s.span.file));
    files.extend(program.definitions.iter().map(|s| s.span.file));
    files.extend(program.params.iter().map(|s| s.span.file));
    let mut out = BTreeMap::new();
    for file in files {
        let text = sources.text(file);
        let parsed = syntax::parse(file, text);
        for item in &parsed.file.items {
            let (kind, name) = match item {
                ast::Item::Segment(x) => (ItemKind::Segment, &x.name),
                ast::Item::Tiers(x) => (ItemKind::Tiers, &x.name),
                ast::Item::Score(x) => (ItemKind::Score, &x.name),
                ast::Item::Define(x) => (ItemKind::Define, &x.name),
                ast::Item::Param(x) => (ItemKind::Param, &x.name),
                ast::Item::Entity(_) | ast::Item::Test(_) => continue,
            };
            let span = item.span();
            let Some(raw) = text.get(span.range()) else {
                continue;
            };
            let formatted = crate::fmt::format(FileId(0), raw).unwrap_or_else(|_| raw.to_owned());
            let nameless = without_name(&formatted, &name.name);
            out.insert(
                (kind, name.name.clone()),
                Definition {
                    text: formatted,
                    nameless,
                },
            );
        }
    }
    out
}

/// The text with the first whole-word occurrence of `name` (the one after the keyword) blanked.
fn without_name(text: &str, name: &str) -> String {
    let mut from = 0;
    while let Some(at) = text.get(from..).and_then(|t| t.find(name)) {
        let start = from + at;
        let end = start + name.len();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        let before = text.get(..start).and_then(|t| t.chars().next_back());
        let after = text.get(end..).and_then(|t| t.chars().next());
        if !word(before) && !word(after) {
            return format!("{}_{}", &text[..start], &text[end..]);
        }
        from = end;
    }
    text.to_owned()
}

/// One line of a line-by-line comparison of two definitions.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Line {
    /// `" "` the same on both sides, `"-"` only before, `"+"` only after.
    pub tag: &'static str,
    pub text: String,
}

/// A definition that differs between the two sides: both texts, and their lines compared.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// The whole definition before (empty when the rule is new) and after (empty when removed).
    pub before: String,
    pub after: String,
    /// Every line of both texts in order, tagged with the side it is on.
    pub lines: Vec<Line>,
}

impl Change {
    #[must_use]
    pub fn new(before: &str, after: &str) -> Change {
        Change {
            before: before.to_owned(),
            after: after.to_owned(),
            lines: line_diff(before, after),
        }
    }

    /// The lines side by side: lines that stayed are paired with themselves, and within each run
    /// of changed lines the n-th line that went is paired with the n-th line that came.
    #[must_use]
    pub fn side_by_side(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        let mut gone: Vec<&str> = Vec::new();
        let mut came: Vec<&str> = Vec::new();
        let flush = |rows: &mut Vec<Row>, gone: &mut Vec<&str>, came: &mut Vec<&str>| {
            let n = gone.len().max(came.len());
            for i in 0..n {
                rows.push(Row {
                    before: gone.get(i).map(|t| (*t).to_owned()),
                    after: came.get(i).map(|t| (*t).to_owned()),
                    changed: true,
                });
            }
            gone.clear();
            came.clear();
        };
        for l in &self.lines {
            match l.tag {
                "-" => gone.push(&l.text),
                "+" => came.push(&l.text),
                _ => {
                    flush(&mut rows, &mut gone, &mut came);
                    rows.push(Row {
                        before: Some(l.text.clone()),
                        after: Some(l.text.clone()),
                        changed: false,
                    });
                }
            }
        }
        flush(&mut rows, &mut gone, &mut came);
        rows
    }
}

/// One row of two definitions side by side. A side without a line there is `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub before: Option<String>,
    pub after: Option<String>,
    /// Whether the row differs: a line only on one side, or two different lines.
    pub changed: bool,
}

/// The lines of `before` and `after`, each tagged with the side it is on.
#[must_use]
pub fn line_diff(before: &str, after: &str) -> Vec<Line> {
    similar::TextDiff::from_lines(before, after)
        .iter_all_changes()
        .map(|c| Line {
            tag: match c.tag() {
                similar::ChangeTag::Equal => " ",
                similar::ChangeTag::Delete => "-",
                similar::ChangeTag::Insert => "+",
            },
            text: c.value().trim_end_matches(['\n', '\r']).to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_after_the_keyword_is_blanked() {
        assert_eq!(without_name("segment vip {", "vip"), "segment _ {");
        assert_eq!(
            without_name("segment vip_plus {", "vip"),
            "segment vip_plus {"
        );
        assert_eq!(
            without_name("segment a_vip {\n  where vip\n}", "vip"),
            "segment a_vip {\n  where _\n}"
        );
    }

    #[test]
    fn changed_lines_are_paired_side_by_side() {
        let change = Change::new("a {\n  x\n  y\n}\n", "a {\n  x2\n  y\n  z\n}\n");
        let side_by_side = change.side_by_side();
        let rows: Vec<(Option<&str>, Option<&str>, bool)> = side_by_side
            .iter()
            .map(|r| (r.before.as_deref(), r.after.as_deref(), r.changed))
            .collect();
        assert_eq!(
            rows,
            [
                (Some("a {"), Some("a {"), false),
                (Some("  x"), Some("  x2"), true),
                (Some("  y"), Some("  y"), false),
                (None, Some("  z"), true),
                (Some("}"), Some("}"), false),
            ]
        );
        let added = Change::new("", "b {\n}\n").side_by_side();
        assert!(added.iter().all(|r| r.before.is_none() && r.changed));
    }
}

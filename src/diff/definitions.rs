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
}

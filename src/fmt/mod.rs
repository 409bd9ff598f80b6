//! The formatter: one `.segl` file's text in, the same rules in one canonical layout out.
//!
//! It works from the syntax tree (`syntax::ast`), which keeps every comment with its position.
//! `layout` prints the tree as lines, each line knowing the source range it came from; the
//! comments are then put back next to those lines (own-line comments before the line they
//! preceded, end-of-line comments after the line they ended). Two checks guard the result before
//! it is returned: every comment of the input appears in the output in the same order, and the
//! output reads back as the same syntax tree. When either fails, the file is refused rather than
//! changed. The layout itself is described for users in `docs/formatting.md`.

mod layout;

use crate::diagnostics::Diagnostic;
use crate::source::FileId;
use crate::syntax::{self, ast};

/// The widest a line is made by wrapping. Texts and names are never split, so a line holding a
/// long description may still be longer.
pub const WIDTH: usize = 100;

/// Why a file was not formatted.
#[derive(Clone, Debug)]
pub enum FmtError {
    /// The file does not parse; these are the same diagnostics `segl check` reports.
    Syntax(Vec<Diagnostic>),
    /// The formatter could not keep everything the file says (a bug in segl): the file is left
    /// as it is. The message is for the bug report.
    Internal(String),
}

/// Formats one file. `file` is only used for the spans of syntax diagnostics.
///
/// # Errors
/// [`FmtError::Syntax`] when the text does not parse, [`FmtError::Internal`] when the result
/// would lose a comment or change what the file means.
pub fn format(file: FileId, text: &str) -> Result<String, FmtError> {
    let parsed = syntax::parse(file, text);
    if parsed.has_errors() {
        return Err(FmtError::Syntax(parsed.diagnostics));
    }
    let out = layout::print(&parsed.file, text);

    let before: Vec<&str> = parsed
        .file
        .comments
        .iter()
        .map(|c| c.text.trim_end())
        .collect();
    let reparsed = syntax::parse(file, &out);
    if reparsed.has_errors() {
        return Err(FmtError::Internal(
            "the formatted text would not read back without errors".to_owned(),
        ));
    }
    let after: Vec<&str> = reparsed
        .file
        .comments
        .iter()
        .map(|c| c.text.trim_end())
        .collect();
    if before != after {
        let lost = before
            .iter()
            .zip(after.iter().chain(std::iter::repeat(&"")))
            .find(|(b, a)| b != a)
            .map(|(b, _)| (*b).to_owned())
            .unwrap_or_default();
        return Err(FmtError::Internal(format!(
            "the comment `#{lost}` would be lost or moved out of order"
        )));
    }
    if shape(&parsed.file) != shape(&reparsed.file) {
        return Err(FmtError::Internal(
            "the formatted text would read differently from the original".to_owned(),
        ));
    }
    Ok(out)
}

/// Whether `text` is already formatted. Files that do not parse count as formatted (there is
/// nothing the formatter would write).
#[must_use]
pub fn is_formatted(text: &str) -> bool {
    match format(FileId(0), text) {
        Ok(out) => out == text,
        Err(_) => true,
    }
}

/// The syntax tree as text without positions, comments and parentheses: two files with the same
/// shape say the same thing. Parentheses are left out because the formatter may add them around
/// a leading minus sign inside a list block (they do not change the tree around them).
fn shape(file: &ast::File) -> String {
    let without_comments = ast::File {
        file: file.file,
        items: file.items.clone(),
        comments: Vec::new(),
        broken: Vec::new(),
    };
    let dump = syntax::dump(&without_comments);
    let mut out = String::new();
    // Depths of the `Paren` lines being skipped.
    let mut parens: Vec<usize> = Vec::new();
    for line in dump.lines() {
        let body = line.trim_start_matches(' ');
        let depth = (line.len() - body.len()) / 2;
        while parens.last().is_some_and(|&d| d >= depth) {
            parens.pop();
        }
        if body.starts_with("Paren") {
            parens.push(depth);
            continue;
        }
        for _ in 0..depth.saturating_sub(parens.len()) {
            out.push_str("  ");
        }
        out.push_str(&strip_positions(body));
        out.push('\n');
    }
    out
}

/// Removes the ` @start..end` positions of a dump line.
fn strip_positions(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find(" @") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let is_position = after.chars().next().is_some_and(|c| c.is_ascii_digit());
        if is_position {
            let end = after.find(' ').unwrap_or(after.len());
            rest = &after[end..];
        } else {
            out.push_str(" @");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_removed_from_dump_lines() {
        assert_eq!(strip_positions("Name arr @3..6"), "Name arr");
        assert_eq!(
            strip_positions("In last 3 days @1..7 @0..9"),
            "In last 3 days"
        );
        assert_eq!(strip_positions("Text \"a @b\" @0..7"), "Text \"a @b\"");
    }

    #[test]
    fn a_changed_tree_is_noticed() {
        let a = syntax::parse(FileId(0), "define x = 1 + 2\n").file;
        let b = syntax::parse(FileId(0), "define x = (1 + 2)\n").file;
        let c = syntax::parse(FileId(0), "define x = 1 - 2\n").file;
        assert_eq!(shape(&a), shape(&b));
        assert_ne!(shape(&a), shape(&c));
    }
}

//! Diagnostics: the values every stage returns when something is wrong, and their renderers.
//!
//! Stages build [`Diagnostic`] values; only the renderers in this module turn them into text, and
//! only the CLI prints that text.

mod codes;
mod github;
mod sarif;

pub mod render;
pub mod suggest;

pub use codes::{Code, CodeInfo, CodeStatus, REGISTRY};

use crate::source::{SourceMap, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A span with a short explanation of what is there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A concrete edit that fixes the problem: replace the text at `span` with `replacement`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub span: Span,
    pub replacement: String,
}

/// One problem found in the user's files.
///
/// Messages follow one style: lowercase first word, no final period, user input in backticks,
/// business words rather than compiler words; details go to `help`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Where the problem is, with a label saying what is wrong there.
    pub primary: Label,
    /// Other places that matter (the first definition of a duplicate, the rest of a cycle).
    pub secondary: Vec<Label>,
    /// What to do about it, in plain words.
    pub help: Option<String>,
    /// Extra facts (the allowed values of an enum, the full cycle).
    pub notes: Vec<String>,
    /// A machine-applicable replacement, when there is exactly one right fix.
    pub fix: Option<Fix>,
}

impl Diagnostic {
    /// A new diagnostic whose severity is the code's registered severity.
    #[must_use]
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.info().severity,
            message: message.into(),
            primary: Label {
                span,
                message: String::new(),
            },
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
            fix: None,
        }
    }

    /// Sets the label on the primary span.
    #[must_use]
    pub fn label(mut self, message: impl Into<String>) -> Self {
        self.primary.message = message.into();
        self
    }

    #[must_use]
    pub fn secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    #[must_use]
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    #[must_use]
    pub fn fix(mut self, span: Span, replacement: impl Into<String>) -> Self {
        self.fix = Some(Fix {
            span,
            replacement: replacement.into(),
        });
        self
    }

    #[must_use]
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A count with thousands separators: `1234567` as `1,234,567` (counts are `u64`; a
/// `usize` converts with `as u64` losslessly on every platform segl runs on).
#[must_use]
pub fn thousands(n: impl Into<u64>) -> String {
    let digits = n.into().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Sorts diagnostics the way users read them: by file name, then line and column, then code.
/// (Lines, not byte offsets: a data file's problems are excerpts of single lines, each its own
/// source, and must still come out in the file's order.)
pub fn sort(diagnostics: &mut [Diagnostic], sources: &SourceMap) {
    diagnostics.sort_by_cached_key(|d| {
        let span = d.primary.span;
        let at = sources
            .get(span.file)
            .map(|f| f.line_col(span.start as usize));
        (
            sources.name(span.file).to_owned(),
            at.map(|p| (p.line, p.column)),
            span.end,
            d.code,
        )
    });
}

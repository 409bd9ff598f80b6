//! `# segl: allow CODE because REASON` comments: each silences the warnings with that code on
//! its own line (at the end of a line) or on the next line (alone on its line).

use crate::diagnostics::{Code, Diagnostic, Severity};
use crate::source::{SourceMap, Span};
use crate::syntax::ast;

use super::{Level, LintSettings};

/// One allow comment, as far as it could be read.
struct Allow {
    span: Span,
    /// The line whose warnings it silences.
    line: usize,
    code: Option<Code>,
    used: bool,
}

/// Removes the warnings that allow comments silence and reports comments that cannot be used
/// (W0711): without a reason, naming no known warning, or silencing nothing.
#[must_use]
pub fn apply_allow_comments(
    diagnostics: Vec<Diagnostic>,
    files: &[ast::File],
    sources: &SourceMap,
    settings: &LintSettings,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut allows = Vec::new();
    for file in files {
        let Some(source) = sources.get(file.file) else {
            continue;
        };
        let text = sources.text(file.file);
        for comment in &file.comments {
            let Some(directive) = comment.text.trim().strip_prefix("segl:") else {
                continue;
            };
            let start = comment.span.start as usize;
            let line = source.line_col(start).line;
            let line_start = text
                .get(..start)
                .and_then(|t| t.rfind('\n'))
                .map_or(0, |i| i + 1);
            let alone = text
                .get(line_start..start)
                .is_some_and(|before| before.trim().is_empty());
            let target = if alone { line + 1 } else { line };
            match read(directive.trim()) {
                Ok(code) => allows.push(Allow {
                    span: comment.span,
                    line: target,
                    code: Some(code),
                    used: false,
                }),
                Err(problem) => {
                    // A comment without a reason still names its warning: it silences it, so
                    // that only the missing reason is reported.
                    if let Problem::NoReason(code) = &problem {
                        let code = *code;
                        allows.push(Allow {
                            span: comment.span,
                            line: target,
                            code: Some(code),
                            used: true,
                        });
                    }
                    problems.push(problem.at(comment.span));
                }
            }
        }
    }

    let mut kept = Vec::with_capacity(diagnostics.len());
    for d in diagnostics {
        let span = d.primary.span;
        let line = sources
            .get(span.file)
            .map(|f| f.line_col(span.start as usize).line);
        let silenced = d.severity == Severity::Warning
            && d.code != Code::W0711
            && allows.iter_mut().any(|a| {
                let hit =
                    a.span.file == span.file && Some(a.line) == line && a.code == Some(d.code);
                if hit {
                    a.used = true;
                }
                hit
            });
        if !silenced {
            kept.push(d);
        }
    }
    for a in &allows {
        if let (false, Some(code)) = (a.used, a.code)
            && settings.level(code) != Level::Allow
        {
            problems.push(
                Diagnostic::new(
                    Code::W0711,
                    a.span,
                    format!("this comment allows `{code}`, but there is no `{code}` warning here"),
                )
                .label("silences nothing")
                .help("remove the comment; an allow comment silences the warning on its own line, or on the next line when it stands alone on its line")
                .note(format!("`{code}` warns about: {}", code.info().title)),
            );
        }
    }
    kept.extend(problems);
    kept
}

/// What is wrong with a `# segl:` comment.
enum Problem {
    NotAllow(String),
    UnknownCode(String),
    Error(Code),
    NoReason(Code),
}

impl Problem {
    fn at(self, span: Span) -> Diagnostic {
        match self {
            Problem::NotAllow(word) => Diagnostic::new(
                Code::W0711,
                span,
                format!("segl does not understand the comment `# segl: {word}`"),
            )
            .label("not an allow comment")
            .help("write `# segl: allow CODE because REASON`, for example `# segl: allow W0705 because customers without an answer are wanted here`"),
            Problem::UnknownCode(code) => Diagnostic::new(
                Code::W0711,
                span,
                format!("`{code}` is not a warning segl knows"),
            )
            .label("no warning has this code or name")
            .help("use the code shown in the warning, such as `W0700`; `docs/lints.md` lists every warning"),
            Problem::Error(code) => Diagnostic::new(
                Code::W0711,
                span,
                format!("`{code}` is an error, and errors cannot be allowed"),
            )
            .label("cannot be silenced")
            .help(format!("fix the problem instead; `segl explain {code}` shows how")),
            Problem::NoReason(code) => Diagnostic::new(
                Code::W0711,
                span,
                format!("this comment allows `{code}` without saying why"),
            )
            .label("no reason given")
            .help(format!("add the reason after `because`: `# segl: allow {code} because ...`"))
            .note("the reason tells the next reader why the warning does not apply here"),
        }
    }
}

/// Reads `allow CODE because REASON` (after `segl:`).
fn read(directive: &str) -> Result<Code, Problem> {
    let mut words = directive.splitn(2, char::is_whitespace);
    let first = words.next().unwrap_or("");
    if first != "allow" {
        return Err(Problem::NotAllow(directive.to_owned()));
    }
    let rest = words.next().unwrap_or("").trim();
    let (name, reason) = match rest.split_once(char::is_whitespace) {
        Some((name, after)) => (name, after.trim()),
        None => (rest, ""),
    };
    let code = match super::find(name) {
        Some(code) => code,
        None => {
            return Err(match Code::parse(name) {
                Some(code) if code.info().severity == Severity::Error => Problem::Error(code),
                _ => Problem::UnknownCode(name.to_owned()),
            });
        }
    };
    let reason = reason.strip_prefix("because").map(str::trim);
    match reason {
        Some(r) if !r.is_empty() => Ok(code),
        _ => Err(Problem::NoReason(code)),
    }
}

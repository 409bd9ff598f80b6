//! Static lints: warnings about rules that check but probably do not mean what their author
//! meant (a condition that can never hold, a tier row that is never chosen, a negation that
//! quietly includes records with unknown values...).
//!
//! - [`run`] finds the lint warnings of a checked program (W07xx).
//! - [`finish`] applies `# segl: allow` comments and the levels of `[lints]` to every warning of a
//!   run, whichever stage produced it; [`apply_levels`] applies only the levels.
//! - [`settings`] reads `[lints]` from `segl.toml`; [`catalogue`] writes `docs/lints.md`.
//!
//! The reasoning lives in [`domain`]; it is sound: a lint that cannot be sure stays silent.

mod allow;
mod checks;
pub mod domain;

use std::collections::HashMap;
use std::fmt::Write as _;

use toml::Spanned;

use crate::diagnostics::{Code, Diagnostic, REGISTRY, Severity, suggest};
use crate::engine::Dataset;
use crate::ir::Program;
use crate::source::{FileId, Span};
use crate::syntax::ast;

pub use allow::apply_allow_comments;

/// What happens to a warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Not reported.
    Allow,
    /// Reported as a warning.
    Warn,
    /// Reported as an error: the check fails.
    Deny,
}

impl Level {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }

    fn parse(text: &str) -> Option<Level> {
        match text {
            "allow" => Some(Level::Allow),
            "warn" => Some(Level::Warn),
            "deny" => Some(Level::Deny),
            _ => None,
        }
    }
}

/// A warning code with its short name and the level it has unless `[lints]` says otherwise.
#[derive(Clone, Copy, Debug)]
pub struct LintInfo {
    pub code: Code,
    pub name: &'static str,
    pub default: Level,
}

/// Every warning code segl has, with its name and default level.
pub static LINTS: &[LintInfo] = &[
    lint(Code::W0100, "unknown-test-on-required-field", Level::Warn),
    lint(Code::W0600, "missing-related-record", Level::Warn),
    lint(Code::W0700, "never-true", Level::Warn),
    lint(Code::W0701, "always-true", Level::Warn),
    lint(Code::W0702, "unreachable-tier", Level::Warn),
    lint(Code::W0703, "overlapping-tiers", Level::Warn),
    lint(Code::W0704, "unknown-falls-to-otherwise", Level::Warn),
    lint(Code::W0705, "negation-includes-unknown", Level::Warn),
    lint(Code::W0706, "unused-definition", Level::Warn),
    lint(Code::W0707, "unused-parameter", Level::Warn),
    lint(Code::W0708, "duplicate-condition", Level::Warn),
    lint(Code::W0709, "missing-owner", Level::Allow),
    lint(Code::W0710, "missing-description", Level::Allow),
    lint(Code::W0711, "unusable-allow-comment", Level::Warn),
    // Found by `segl check --data`.
    lint(Code::W0750, "segment-matches-no-one", Level::Warn),
    lint(Code::W0751, "segment-matches-everyone", Level::Warn),
    lint(Code::W0752, "condition-without-effect", Level::Warn),
    lint(Code::W0753, "tier-catches-no-one", Level::Warn),
    lint(Code::W0754, "enum-value-never-seen", Level::Warn),
    lint(Code::W0755, "undeclared-column", Level::Warn),
    lint(Code::W0756, "optional-field-always-unknown", Level::Warn),
    // Found by `segl diff --base`.
    lint(Code::W1000, "parameter-unknown-at-revision", Level::Warn),
];

const fn lint(code: Code, name: &'static str, default: Level) -> LintInfo {
    LintInfo {
        code,
        name,
        default,
    }
}

/// The lint entry of a warning code.
#[must_use]
pub fn info(code: Code) -> Option<&'static LintInfo> {
    LINTS.iter().find(|l| l.code == code)
}

/// A warning code by its code (`W0700`, any case) or its name (`never-true`).
#[must_use]
pub fn find(name: &str) -> Option<Code> {
    let name = name.trim();
    LINTS
        .iter()
        .find(|l| l.name == name || l.code.as_str().eq_ignore_ascii_case(name))
        .map(|l| l.code)
}

/// The levels of a project: the defaults, changed by `[lints]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LintSettings {
    levels: HashMap<Code, Level>,
}

impl LintSettings {
    /// The level of a code. Errors are always errors; warnings have their default unless set.
    #[must_use]
    pub fn level(&self, code: Code) -> Level {
        if let Some(level) = self.levels.get(&code) {
            return *level;
        }
        match info(code) {
            Some(l) => l.default,
            None if code.info().severity == Severity::Error => Level::Deny,
            None => Level::Warn,
        }
    }

    /// Sets the level of a warning code.
    pub fn set(&mut self, code: Code, level: Level) {
        self.levels.insert(code, level);
    }
}

type SpannedTable = std::collections::BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// Reads the `[lints]` section of `segl.toml` (its whole text, in the source map as `file`).
/// Keys are warning codes or names, values `"allow"`, `"warn"` or `"deny"`; anything else is
/// reported as E0002 and ignored.
#[must_use]
pub fn settings(file: FileId, text: &str) -> (LintSettings, Vec<Diagnostic>) {
    #[derive(serde::Deserialize)]
    struct LintsOnly {
        lints: Option<SpannedTable>,
    }
    let mut settings = LintSettings::default();
    let mut diagnostics = Vec::new();
    // A file that is not TOML, or whose `[lints]` is not a table, is reported by the config reader.
    let Ok(LintsOnly { lints: Some(table) }) = toml::from_str::<LintsOnly>(text) else {
        return (settings, diagnostics);
    };
    for (key, value) in table {
        let key_span = Span::new(file, key.span().start, key.span().end);
        let value_span = Span::new(file, value.span().start, value.span().end);
        let name = key.get_ref();
        let Some(code) = find(name) else {
            diagnostics.push(unknown_lint(name, key_span));
            continue;
        };
        match value.get_ref() {
            toml::Value::String(s) => match Level::parse(s) {
                Some(level) => settings.set(code, level),
                None => diagnostics.push(bad_level(&format!("`\"{s}\"`"), value_span)),
            },
            other => diagnostics.push(bad_level(&format!("`{other}`"), value_span)),
        }
    }
    (settings, diagnostics)
}

fn unknown_lint(name: &str, span: Span) -> Diagnostic {
    let is_error = Code::parse(name).is_some();
    let names: Vec<String> = LINTS
        .iter()
        .flat_map(|l| [l.code.as_str().to_owned(), l.name.to_owned()])
        .collect();
    let candidates: Vec<suggest::Candidate<'_>> =
        names.iter().map(|n| suggest::Candidate::plain(n)).collect();
    let mut nearest = suggest::nearest(name, &candidates);
    nearest.truncate(1);
    let d = Diagnostic::new(
        Code::E0002,
        span,
        format!("`{name}` is not a warning segl knows"),
    );
    if is_error {
        return d
            .label("errors cannot be turned off")
            .help("only warnings (codes starting with W) can be set to `allow`, `warn` or `deny`; `segl codes` lists them");
    }
    match (suggest::did_you_mean(&nearest), nearest.first()) {
        (Some(help), Some(best)) => d
            .label("no warning has this code or name")
            .help(help)
            .fix(span, *best),
        _ => d
            .label("no warning has this code or name")
            .help("use a warning code such as `W0700` or its name such as `never-true`; `docs/lints.md` lists them all"),
    }
}

fn bad_level(found: &str, span: Span) -> Diagnostic {
    Diagnostic::new(Code::E0002, span, format!("{found} is not a lint level"))
        .label("expected `\"allow\"`, `\"warn\"` or `\"deny\"`")
        .help("write `\"allow\"` to turn the warning off, `\"warn\"` to report it, or `\"deny\"` to make it fail the check")
}

/// What the lints can tell about a condition on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No record can meet it.
    NeverTrue,
    /// Every record meets it.
    AlwaysTrue,
    /// Some records may meet it and others not (or the lints cannot tell).
    Depends,
    /// Too large to decide.
    TooLarge,
}

/// Decides whether a condition (an expression of type yes/no) is never or always true, the way
/// W0700 and W0701 do.
#[must_use]
pub fn verdict(program: &Program, condition: &crate::ir::Expr) -> Verdict {
    let mut d = domain::Domain::new(program);
    let f = d.formula(condition);
    match d.sat(&f) {
        domain::Sat::No => Verdict::NeverTrue,
        domain::Sat::Unknown => Verdict::TooLarge,
        domain::Sat::Yes => match d.sat(&f.negated()) {
            domain::Sat::No => Verdict::AlwaysTrue,
            domain::Sat::Unknown => Verdict::TooLarge,
            domain::Sat::Yes => Verdict::Depends,
        },
    }
}

/// Finds the lint warnings of a checked program (one without errors). With a dataset, some
/// warnings say how many records they concern.
#[must_use]
pub fn run(
    program: &Program,
    files: &[ast::File],
    settings: &LintSettings,
    data: Option<&Dataset>,
) -> Vec<Diagnostic> {
    checks::run(program, files, data)
        .into_iter()
        .filter(|d| settings.level(d.code) != Level::Allow)
        .collect()
}

/// Applies `# segl: allow` comments, then levels, to every diagnostic of a run. Call it once,
/// with all warnings of the run (from checking, linting and loading).
#[must_use]
pub fn finish(
    diagnostics: Vec<Diagnostic>,
    files: &[ast::File],
    sources: &crate::source::SourceMap,
    settings: &LintSettings,
) -> Vec<Diagnostic> {
    let kept = apply_allow_comments(diagnostics, files, sources, settings);
    apply_levels(kept, settings)
}

/// Drops warnings whose level is `allow` and turns those set to `deny` into errors.
#[must_use]
pub fn apply_levels(diagnostics: Vec<Diagnostic>, settings: &LintSettings) -> Vec<Diagnostic> {
    diagnostics
        .into_iter()
        .filter_map(|mut d| {
            if d.code.info().severity != Severity::Warning {
                return Some(d);
            }
            match settings.level(d.code) {
                Level::Allow => None,
                Level::Warn => Some(d),
                Level::Deny => {
                    d.severity = Severity::Error;
                    d.notes.push(format!(
                        "`{}` is set to `deny` in `segl.toml`, so this warning fails the check",
                        d.code
                    ));
                    Some(d)
                }
            }
        })
        .collect()
}

/// The text of `docs/lints.md`: every warning code with its name, default level and title.
#[must_use]
pub fn catalogue() -> String {
    let mut out = String::from(
        "# Lints\n\n\
         <!-- Generated from the code registry by `segl::lint::catalogue()`; do not edit by hand.\n     \
         Regenerate with `SEGL_UPDATE_DOCS=1 cargo test --test it lint_catalogue`. -->\n\n\
         Lints are warnings about rules that are valid but probably not what you meant. `segl check`\n\
         reports them after the rules check without errors. Each can be set to `allow`, `warn` or\n\
         `deny` in the `[lints]` section of `segl.toml`, by code or by name, and one place can be\n\
         silenced with a comment such as `# segl: allow W0705 because records without a value are\n\
         wanted here`. See [the command line](cli.md#lints) for details. The W075x warnings come\n\
         from `segl check --data`, which checks the rules against the project's data; W1000 from\n\
         `segl diff --base`.\n\n\
         | code | name | default | what it finds |\n|---|---|---|---|\n",
    );
    for entry in REGISTRY.iter().filter(|i| i.severity == Severity::Warning) {
        let (name, default) =
            info(entry.code).map_or(("(none)", Level::Warn), |l| (l.name, l.default));
        let default = match default {
            Level::Allow => "off (opt-in)",
            Level::Warn => "warn",
            Level::Deny => "deny",
        };
        let _ = writeln!(
            out,
            "| [{code}](diagnostics/{code}.md) | `{name}` | {default} | {title} |",
            code = entry.name,
            title = entry.title,
        );
    }
    out
}

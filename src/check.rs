//! The `check` pipeline as one function: file contents in, sorted diagnostics and a summary out.
//!
//! The CLI reads the bytes; everything after that (decoding, `segl.toml`, parsing, checking,
//! sorting, counting) happens here, without touching the file system.

use crate::diagnostics::{self, Code, Diagnostic, Severity};
use crate::lint::{self, LintSettings};
use crate::project::{self, Config};
use crate::sema;
use crate::source::{FileId, SourceMap, Span, decode};
use crate::syntax::{self, ast};

/// One file as read from disk: the name to show (a path relative to where the user is) and its
/// raw bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl RawFile {
    #[must_use]
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        RawFile {
            name: name.into(),
            bytes: bytes.into(),
        }
    }
}

/// What one `check` run looks at: a project (or a loose set of rule files).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectInput {
    /// How to name the project in messages: its folder as the user wrote it.
    pub name: String,
    /// `segl.toml`, when the project has one.
    pub config: Option<RawFile>,
    /// The rule files, in the order they are read (sorted by path).
    pub rules: Vec<RawFile>,
}

/// How many of each kind of item the checked files hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub files: usize,
    pub entities: usize,
    pub segments: usize,
    pub tier_sets: usize,
    pub scores: usize,
    pub definitions: usize,
    pub parameters: usize,
    pub tests: usize,
    pub errors: usize,
    pub warnings: usize,
}

impl Summary {
    /// Adds the items of one parsed file to the counts.
    pub fn count_items(&mut self, file: &ast::File) {
        for item in &file.items {
            match item {
                ast::Item::Entity(_) => self.entities += 1,
                ast::Item::Segment(_) => self.segments += 1,
                ast::Item::Define(_) => self.definitions += 1,
                ast::Item::Param(_) => self.parameters += 1,
                ast::Item::Tiers(_) => self.tier_sets += 1,
                ast::Item::Score(_) => self.scores += 1,
                ast::Item::Test(_) => self.tests += 1,
            }
        }
    }

    /// Counts errors and warnings.
    pub fn count_diagnostics(&mut self, diagnostics: &[Diagnostic]) {
        for d in diagnostics {
            match d.severity {
                Severity::Error => self.errors += 1,
                Severity::Warning => self.warnings += 1,
            }
        }
    }

    /// The sum of two summaries (for a run over several projects).
    #[must_use]
    pub fn plus(self, other: Summary) -> Summary {
        Summary {
            files: self.files + other.files,
            entities: self.entities + other.entities,
            segments: self.segments + other.segments,
            tier_sets: self.tier_sets + other.tier_sets,
            scores: self.scores + other.scores,
            definitions: self.definitions + other.definitions,
            parameters: self.parameters + other.parameters,
            tests: self.tests + other.tests,
            errors: self.errors + other.errors,
            warnings: self.warnings + other.warnings,
        }
    }
}

/// Everything a `check` run found.
#[derive(Clone, Debug)]
pub struct Report {
    /// Every source that was read (`segl.toml` first when there is one), for rendering.
    pub sources: SourceMap,
    /// The project settings, when there is a `segl.toml`.
    pub config: Option<Config>,
    /// All problems, sorted by file, position and code.
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
    /// The typed program; complete only when there are no errors.
    pub program: Option<crate::ir::Program>,
    /// The parsed rule files (their comments hold `# segl: allow`).
    pub files: Vec<ast::File>,
    /// The lint levels of `[lints]` in `segl.toml`.
    pub lint_settings: LintSettings,
    /// What decoding, parsing and checking found, before lints, allow comments and levels.
    checked: Vec<Diagnostic>,
}

/// Checks one project: decodes every file, reads `segl.toml`, parses the rule files and
/// type-checks them together. A file that is not UTF-8 is reported (E0001) and left out of the
/// later stages, which still run over the other files.
#[must_use]
pub fn check_project(input: &ProjectInput) -> Report {
    let mut sources = SourceMap::new();
    let mut diagnostics = Vec::new();
    let mut summary = Summary::default();

    let mut lint_settings = LintSettings::default();
    let config = input.config.as_ref().and_then(|raw| {
        let (id, text) = add_decoded(&mut sources, raw, &mut diagnostics)?;
        let (config, found) = project::parse_config(id, &text);
        diagnostics.extend(found);
        let (settings, found) = lint::settings(id, &text);
        diagnostics.extend(found);
        lint_settings = settings;
        Some(config)
    });

    let mut readable: Vec<(FileId, String)> = Vec::new();
    for raw in &input.rules {
        summary.files += 1;
        if let Some(file) = add_decoded(&mut sources, raw, &mut diagnostics) {
            readable.push(file);
        }
    }

    if input.rules.is_empty() {
        diagnostics.push(no_rule_files(input, config.as_ref(), &mut sources));
    }

    // Files that were not UTF-8 (reported as E0001) and are read with their bad bytes replaced.
    let replaced: Vec<FileId> = diagnostics
        .iter()
        .filter(|d| d.code == Code::E0001)
        .map(|d| d.primary.span.file)
        .collect();
    let mut files = Vec::with_capacity(readable.len());
    for (id, text) in &readable {
        let parsed = syntax::parse(*id, text);
        summary.count_items(&parsed.file);
        diagnostics.extend(without_replaced_text(
            parsed.diagnostics,
            &sources,
            &replaced,
        ));
        files.push(parsed.file);
    }

    // The checker sees every file at once (names are shared across files). It only runs when
    // there are rules: without them E0003 above says everything there is to say.
    let mut program = None;
    if !input.rules.is_empty() {
        let options = sema::CheckOptions {
            primary_entity: config.as_ref().and_then(|c| c.primary_entity.clone()),
        };
        let checked = sema::check(&files, &options);
        let found = without_replaced_text(checked.diagnostics, &sources, &replaced);
        diagnostics.extend(without_follow_ons(found, &diagnostics));
        program = Some(checked.program);
    }

    let mut report = Report {
        sources,
        config,
        diagnostics: Vec::new(),
        summary,
        program,
        files,
        lint_settings,
        checked: diagnostics,
    };
    report.lint(None, Vec::new());
    report
}

impl Report {
    /// Runs the lints (with the data, when given) and applies allow comments and levels to every
    /// warning, together with `extra` diagnostics from later stages (such as loading the data).
    /// It replaces the lints and `extra` of an earlier call, so it can be called again once the
    /// data is loaded.
    pub fn lint(&mut self, data: Option<&crate::engine::Dataset>, extra: Vec<Diagnostic>) {
        let mut all = self.checked.clone();
        if let Some(program) = &self.program
            && !all.iter().any(Diagnostic::is_error)
        {
            all.extend(lint::run(program, &self.files, &self.lint_settings, data));
        }
        all.extend(extra);
        let mut all = lint::finish(all, &self.files, &self.sources, &self.lint_settings);
        diagnostics::sort(&mut all, &self.sources);
        self.summary.errors = 0;
        self.summary.warnings = 0;
        self.summary.count_diagnostics(&all);
        self.diagnostics = all;
    }
}

/// Drops diagnostics about characters that replaced bytes that were not UTF-8 (already reported
/// as E0001): the file's real text there is unknown.
fn without_replaced_text(
    found: Vec<Diagnostic>,
    sources: &SourceMap,
    replaced: &[FileId],
) -> Vec<Diagnostic> {
    found
        .into_iter()
        .filter(|d| {
            let s = d.primary.span;
            if !replaced.contains(&s.file) {
                return true;
            }
            let text = sources.text(s.file);
            let line_start = text[..(s.start as usize).min(text.len())]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let line_end = text[(s.end as usize).min(text.len())..]
                .find('\n')
                .map_or(text.len(), |i| i + s.end as usize);
            !text
                .get(line_start..line_end)
                .is_some_and(|line| line.contains('\u{FFFD}'))
        })
        .collect()
}

/// Drops checker diagnostics that point into text already reported as unreadable: they are
/// follow-ons of the same mistake (a typographic dash inside a date, say).
fn without_follow_ons(found: Vec<Diagnostic>, earlier: &[Diagnostic]) -> Vec<Diagnostic> {
    let unreadable: Vec<Span> = earlier
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.primary.span)
        .collect();
    found
        .into_iter()
        .filter(|d| {
            let s = d.primary.span;
            !unreadable.iter().any(|u| {
                u.file == s.file
                    && u.start < s.end.max(s.start + 1)
                    && s.start < u.end.max(u.start + 1)
            })
        })
        .collect()
}

/// Adds a file to the source map. Text that is not UTF-8 becomes an E0001 diagnostic at the first
/// bad byte; the file is then kept with its readable beginning only, so the position can be shown.
fn add_decoded(
    sources: &mut SourceMap,
    raw: &RawFile,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<(FileId, String)> {
    match decode(&raw.bytes) {
        Ok(text) => {
            let id = sources.add(raw.name.clone(), text.clone());
            Some((id, text))
        }
        Err(err) => {
            // Keep the whole text with the bad bytes replaced, so the rest of the file can still
            // be read for its names; diagnostics about the replaced characters are dropped later.
            let body = &raw.bytes[bom_len(&raw.bytes)..];
            let lossy = String::from_utf8_lossy(body).into_owned();
            debug_assert!(lossy.starts_with(&err.valid_prefix));
            let id = sources.add(raw.name.clone(), lossy.clone());
            let bytes = &raw.bytes[raw.bytes.len().min(bom_len(&raw.bytes) + err.offset)..];
            let shown: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:#04X}")).collect();
            diagnostics.push(
                Diagnostic::new(Code::E0001, Span::new(id, err.offset, err.offset), format!("`{}` is not UTF-8 text", raw.name))
                    .label(format!("the byte {} here is not UTF-8", shown.first().map_or("", String::as_str)))
                    .help("save the file as UTF-8 in your editor (often \"Save with encoding\" or \"Reopen with encoding\"), then run the check again")
                    .note("segl reads rule files as UTF-8 only; files saved as Latin-1 or Windows-1252 have bytes like these where accented letters are"),
            );
            Some((id, lossy))
        }
    }
}

fn bom_len(bytes: &[u8]) -> usize {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    }
}

fn no_rule_files(
    input: &ProjectInput,
    config: Option<&Config>,
    sources: &mut SourceMap,
) -> Diagnostic {
    let rules_span = config.and_then(|c| c.rules.as_ref()?.first().map(|r| r.1));
    match (config, rules_span) {
        (Some(_), Some(span)) => Diagnostic::new(
            Code::E0003,
            span,
            format!("no rule files in `{}`", input.name),
        )
        .label("no `.segl` file matches these patterns")
        .help("check the `rules` patterns against the project's folders, or remove `rules` to read every `.segl` file"),
        (Some(c), None) => Diagnostic::new(
            Code::E0003,
            Span::new(c.file, 0, 0),
            format!("no rule files in `{}`", input.name),
        )
        .label("this project has no `.segl` file")
        .help("add a file ending in `.segl` next to `segl.toml`, for example `schema.segl` with an `entity`")
        .note("files below `data/` are test data, not rules"),
        (None, _) => {
            let id = sources.add(input.name.clone(), String::new());
            Diagnostic::new(
                Code::E0003,
                Span::new(id, 0, 0),
                format!("no rule files in `{}`", input.name),
            )
            .label("this folder has no `.segl` file")
            .help("point `segl check` at a folder with `.segl` files, or at the files themselves")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(config: Option<&str>, rules: &[(&str, &[u8])]) -> ProjectInput {
        ProjectInput {
            name: "proj".into(),
            config: config.map(|t| RawFile::new("proj/segl.toml", t)),
            rules: rules.iter().map(|(n, b)| RawFile::new(*n, *b)).collect(),
        }
    }

    #[test]
    fn bad_bytes_give_e0001_with_line_and_column() {
        let report = check_project(&project(
            None,
            &[(
                "a.segl",
                b"\xEF\xBB\xBFentity c {\n  key id: text # caf\xFF\n}\n",
            )],
        ));
        assert_eq!(report.diagnostics.len(), 1);
        let d = &report.diagnostics[0];
        assert_eq!(d.code, Code::E0001);
        let file = report.sources.get(d.primary.span.file).unwrap();
        let lc = file.line_col(d.primary.span.start as usize);
        assert_eq!((lc.line, lc.column), (2, 21));
        assert_eq!(d.primary.message, "the byte 0xFF here is not UTF-8");
        assert_eq!(report.summary.files, 1);
        assert_eq!(report.summary.errors, 1);
        // The rest of the file is still read: its entity is known.
        assert_eq!(report.summary.entities, 1);
    }

    #[test]
    fn names_in_a_file_with_bad_bytes_are_still_known() {
        let report = check_project(&project(
            None,
            &[
                (
                    "a.segl",
                    b"entity c {\n  key id: text\n  city: text # Z\xFCrich\n}\n",
                ),
                ("b.segl", b"segment s {\n  where city is \"Berlin\"\n}\n"),
            ],
        ));
        let codes: Vec<Code> = report.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::E0001]);
    }

    #[test]
    fn empty_project_is_e0003() {
        let report = check_project(&project(Some("[project]\n"), &[]));
        assert_eq!(report.diagnostics.len(), 1);
        assert_eq!(report.diagnostics[0].code, Code::E0003);
        let report = check_project(&project(None, &[]));
        assert_eq!(report.diagnostics[0].code, Code::E0003);
        assert_eq!(
            report.sources.name(report.diagnostics[0].primary.span.file),
            "proj"
        );
    }

    #[test]
    fn empty_file_is_fine() {
        let report = check_project(&project(None, &[("a.segl", b"")]));
        assert!(report.diagnostics.is_empty());
        assert_eq!(report.summary.files, 1);
    }
}

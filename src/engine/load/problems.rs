//! Problems found while loading one data file, with caps so that a broken file of millions of
//! rows gives a handful of precise diagnostics and one count of the rest per column and problem.

use std::collections::{BTreeMap, HashMap};

use crate::diagnostics::{Code, Diagnostic, suggest};
use crate::ir::{EntityDef, Program, Type, list_values};
use crate::source::Span;

/// Detailed diagnostics kept per column and problem; the rest are counted.
pub const SHOWN: usize = 5;
/// Distinct undeclared enum values reported per column; the rest are counted.
const SHOWN_VALUES: usize = 10;
/// Rows named in one undeclared-value diagnostic.
const SHOWN_ROWS: usize = 3;

/// A data row named in a message: 0-based index and, for text files, the line.
#[derive(Clone, Copy, Debug)]
pub struct RowRef {
    pub row: usize,
    pub line: Option<usize>,
}

impl RowRef {
    pub fn describe(self) -> String {
        match self.line {
            Some(line) => format!("row {} (line {line})", self.row + 1),
            None => format!("row {}", self.row + 1),
        }
    }
}

struct UndeclaredValue {
    count: usize,
    rows: Vec<RowRef>,
    span: Span,
}

/// The problems of one data file.
pub struct Problems<'p> {
    pub program: &'p Program,
    pub entity: &'p EntityDef,
    pub shown: String,
    pub diagnostics: Vec<Diagnostic>,
    counts: HashMap<(Code, Option<usize>), usize>,
    undeclared: BTreeMap<usize, BTreeMap<String, UndeclaredValue>>,
}

impl<'p> Problems<'p> {
    pub fn new(program: &'p Program, entity: &'p EntityDef, shown: &str) -> Self {
        Problems {
            program,
            entity,
            shown: shown.to_owned(),
            diagnostics: Vec::new(),
            counts: HashMap::new(),
            undeclared: BTreeMap::new(),
        }
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
            || !self.undeclared.is_empty()
            || self
                .counts
                .keys()
                .any(|(c, _)| c.info().severity == crate::diagnostics::Severity::Error)
    }

    /// Counts one problem; true when it is among the first few of its column and kind, so
    /// the caller should build its detailed diagnostic.
    pub fn admit(&mut self, code: Code, field: Option<usize>) -> bool {
        let n = self.counts.entry((code, field)).or_insert(0);
        *n += 1;
        *n <= SHOWN
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    /// Forgets the row problems of one kind in one column (replaced by one about the file).
    pub fn forget(&mut self, code: Code, field: usize) {
        self.counts.remove(&(code, Some(field)));
        let declared = self.field_span(field);
        self.diagnostics
            .retain(|d| !(d.code == code && d.secondary.iter().any(|l| l.span == declared)));
    }

    /// Whether this undeclared value was seen before in this column; when not, the caller
    /// gives the span of its first occurrence through `first_span`.
    pub fn undeclared(
        &mut self,
        field: usize,
        value: &str,
        row: RowRef,
        first_span: impl FnOnce() -> Span,
    ) {
        let values = self.undeclared.entry(field).or_default();
        if let Some(seen) = values.get_mut(value) {
            seen.count += 1;
            if seen.rows.len() < SHOWN_ROWS {
                seen.rows.push(row);
            }
            return;
        }
        values.insert(
            value.to_owned(),
            UndeclaredValue {
                count: 1,
                rows: vec![row],
                span: first_span(),
            },
        );
    }

    pub fn field_span(&self, field: usize) -> Span {
        self.entity
            .fields
            .get(field)
            .map_or(self.entity.span, |f| f.span)
    }

    pub fn field_name(&self, field: usize) -> &str {
        self.entity
            .fields
            .get(field)
            .map_or("?", |f| f.name.as_str())
    }

    /// All diagnostics, with the counts of those not shown and one per undeclared value.
    pub fn finish(mut self) -> Vec<Diagnostic> {
        let undeclared = std::mem::take(&mut self.undeclared);
        for (field, values) in undeclared {
            self.undeclared_diagnostics(field, values);
        }
        let mut over: Vec<((Code, Option<usize>), usize)> = self
            .counts
            .iter()
            .filter(|(_, n)| **n > SHOWN)
            .map(|(k, n)| (*k, *n))
            .collect();
        over.sort_by_key(|((code, field), _)| (*code, *field));
        for ((code, field), n) in over {
            let more = n - SHOWN;
            let rows = if more == 1 { "row" } else { "rows" };
            let (span, message) = match field {
                Some(f) => (
                    self.field_span(f),
                    format!(
                        "and {} more {rows} like this in column `{}` of `{}`",
                        thousands(more as u64),
                        self.field_name(f),
                        self.shown
                    ),
                ),
                None => (
                    self.entity.span,
                    format!(
                        "and {} more {rows} like this in `{}`",
                        thousands(more as u64),
                        self.shown
                    ),
                ),
            };
            self.diagnostics.push(
                Diagnostic::new(code, span, message)
                    .label(format!(
                        "{} {rows} in all have this problem",
                        thousands(n as u64)
                    ))
                    .help(format!(
                        "segl shows the first {SHOWN}; `segl explain {code}` says how to fix them"
                    )),
            );
        }
        self.diagnostics
    }

    fn undeclared_diagnostics(&mut self, field: usize, values: BTreeMap<String, UndeclaredValue>) {
        let Some(def) = self.entity.fields.get(field) else {
            return;
        };
        let mut ty = &def.ty;
        while let Type::List(inner) = ty {
            ty = inner;
        }
        let declared: Vec<String> = match ty {
            Type::Enum(id) => self
                .program
                .enums
                .get(id.index())
                .map(|e| e.values.clone())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let candidates: Vec<suggest::Candidate<'_>> = declared
            .iter()
            .map(|v| suggest::Candidate::plain(v))
            .collect();
        // Most frequent first: the value that matters most is read first.
        let mut ordered: Vec<(String, UndeclaredValue)> = values.into_iter().collect();
        ordered.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(&b.0)));
        let total = ordered.len();
        for (i, (value, seen)) in ordered.into_iter().enumerate() {
            if i == SHOWN_VALUES {
                let rest = total - SHOWN_VALUES;
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0605,
                        def.span,
                        format!(
                            "and {rest} more undeclared {} in column `{}` of `{}`",
                            if rest == 1 { "value" } else { "values" },
                            def.name,
                            self.shown
                        ),
                    )
                    .label(format!("`{}` is declared here", def.name))
                    .note(format!(
                        "the declared values are {}",
                        list_values(&declared)
                    )),
                );
                break;
            }
            if i > SHOWN_VALUES {
                break;
            }
            let rows: Vec<String> = seen.rows.iter().map(|r| r.describe()).collect();
            let times = if seen.count == 1 {
                "1 row".to_owned()
            } else {
                format!("{} rows", thousands(seen.shown_count() as u64))
            };
            let mut rows_text = rows.join(", ");
            if seen.count > seen.rows.len() {
                rows_text.push_str(", ...");
            }
            let shown_value = if value.is_empty() {
                "\"\"".to_owned()
            } else {
                value.clone()
            };
            let mut d = Diagnostic::new(
                Code::E0605,
                seen.span,
                format!(
                    "`{shown_value}` is not a declared value of `{}.{}`",
                    self.entity.name, def.name
                ),
            )
            .label(format!("found in {times}: {rows_text}"))
            .secondary(
                def.span,
                format!("the values of `{}` are declared here", def.name),
            );
            let nearest = suggest::nearest(&value, &candidates);
            let trimmed = value.trim();
            if trimmed != value && declared.iter().any(|v| v == trimmed) {
                d = d.help(format!("remove the spaces around `{trimmed}`"));
            } else if let Some(help) = suggest::did_you_mean(&nearest) {
                d = d.help(format!(
                    "{help} Values must be written exactly as declared; otherwise add `{shown_value}` to the declaration"
                ));
            } else {
                d = d.help(format!(
                    "correct the data, or add `{shown_value}` to the values of `{}` in the schema",
                    def.name
                ));
            }
            d = d.note(format!(
                "the declared values are {}",
                list_values(&declared)
            ));
            self.diagnostics.push(d);
        }
    }
}

impl UndeclaredValue {
    fn shown_count(&self) -> usize {
        self.count
    }
}

pub use crate::diagnostics::thousands;

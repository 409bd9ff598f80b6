//! Where each record of a text data file (CSV, NDJSON) is, so that a problem can be shown as an
//! excerpt of its line with the offending field marked.

use crate::source::{SourceMap, Span};

/// How fields are found inside a record's text.
#[derive(Clone, Copy, Debug)]
pub enum Layout {
    Csv { delimiter: u8 },
    Ndjson,
}

/// What to mark inside a record.
pub enum Mark<'a> {
    /// The CSV field with this index.
    Column(usize),
    /// The value of this JSON key (or the whole line when it is absent).
    Key(&'a str),
    /// A byte offset inside the record (a JSON syntax problem).
    At(usize),
    /// The whole record.
    Whole,
}

/// The raw text of a data file and the start and line of each data record.
pub struct RowText {
    pub shown: String,
    pub bytes: std::sync::Arc<Vec<u8>>,
    pub layout: Layout,
    /// Byte offset where each data record starts.
    pub starts: Vec<usize>,
    /// 1-based line where each data record starts.
    pub lines: Vec<u32>,
    /// The header record (CSV), as a byte range; line 1.
    pub header: Option<std::ops::Range<usize>>,
}

impl RowText {
    /// The 1-based line of data row `row` (0-based).
    pub fn line(&self, row: usize) -> usize {
        self.lines.get(row).map_or(0, |l| *l as usize)
    }

    /// A span on an excerpt of data row `row`, marking `mark`.
    pub fn span(&self, sources: &mut SourceMap, row: usize, mark: &Mark<'_>) -> Span {
        let start = self.starts.get(row).copied().unwrap_or(self.bytes.len());
        let end = self
            .starts
            .get(row + 1)
            .copied()
            .unwrap_or(self.bytes.len());
        self.span_at(sources, start..end, self.line(row), mark)
    }

    /// A span on an excerpt of the record at `range` (which starts on line `line`).
    pub fn span_at(
        &self,
        sources: &mut SourceMap,
        range: std::ops::Range<usize>,
        line: usize,
        mark: &Mark<'_>,
    ) -> Span {
        let end = range.end.min(self.bytes.len());
        let start = range.start.min(end);
        let raw = trim_line_end(&self.bytes[start..end]);
        let text = String::from_utf8_lossy(raw).into_owned();
        let range = match (mark, self.layout) {
            (Mark::Column(i), Layout::Csv { delimiter }) => {
                csv_fields(text.as_bytes(), delimiter).get(*i).cloned()
            }
            (Mark::Key(key), Layout::Ndjson) => super::json::object(&text)
                .ok()
                .and_then(|members| members.into_iter().find(|m| m.key == *key).map(|m| m.at)),
            (Mark::At(at), _) => {
                let at = (*at).min(text.len());
                let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                Some(at..end)
            }
            _ => None,
        };
        let range = range.unwrap_or(0..text.len());
        let file = sources.add_excerpt(self.shown.clone(), line, text);
        Span::new(file, range.start, range.end)
    }

    /// A span on an excerpt of the header line (CSV), marking all of it.
    pub fn header_span(&self, sources: &mut SourceMap) -> Option<Span> {
        let range = self.header.clone()?;
        let raw = trim_line_end(self.bytes.get(range)?);
        let text = String::from_utf8_lossy(raw).into_owned();
        let len = text.len();
        let file = sources.add_excerpt(self.shown.clone(), 1, text);
        Some(Span::new(file, 0, len))
    }
}

fn trim_line_end(mut raw: &[u8]) -> &[u8] {
    while let [rest @ .., b'\n' | b'\r'] = raw {
        raw = rest;
    }
    raw
}

/// The byte ranges of the fields of one CSV record (quotes included).
fn csv_fields(text: &[u8], delimiter: u8) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, &b) in text.iter().enumerate() {
        if b == b'"' {
            quoted = !quoted;
        } else if b == delimiter && !quoted {
            out.push(start..i);
            start = i + 1;
        }
    }
    out.push(start..text.len());
    out
}

//! Where each record of a text data file (CSV, NDJSON) is, so that a problem can be shown as an
//! excerpt of its line with the offending field marked.

use crate::source::{SourceMap, Span};

/// How fields are found inside a record's text.
#[derive(Clone, Copy, Debug)]
pub enum Layout {
    /// `width` is the number of columns the header names: a record of one empty field is a
    /// blank line (skipped) only when the header names more than one column.
    Csv {
        delimiter: u8,
        width: usize,
    },
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

/// Where the data records of a text file start: byte offsets and 1-based lines.
#[derive(Debug, Default)]
pub struct RowIndex {
    pub starts: Vec<usize>,
    pub lines: Vec<u32>,
}

impl RowIndex {
    pub fn push(&mut self, start: usize, line: usize) {
        self.starts.push(start);
        self.lines.push(u32::try_from(line).unwrap_or(u32::MAX));
    }
}

/// The raw text of a data file and, found when first needed, where each data record starts.
pub struct RowText {
    pub shown: String,
    pub bytes: std::sync::Arc<Vec<u8>>,
    pub layout: Layout,
    /// Where each data record starts. A reader that went through the file record by record
    /// fills it in; otherwise it is worked out from the text when a message needs a row.
    pub index: std::sync::OnceLock<RowIndex>,
    /// The header record (CSV), as a byte range; line 1.
    pub header: Option<std::ops::Range<usize>>,
}

impl RowText {
    fn index(&self) -> &RowIndex {
        self.index.get_or_init(|| match self.layout {
            Layout::Csv { delimiter, width } => {
                let from = self.header.as_ref().map_or(0, |h| h.end);
                csv_index(&self.bytes, from, delimiter, width)
            }
            Layout::Ndjson => ndjson_index(&self.bytes),
        })
    }

    /// The 1-based line of data row `row` (0-based).
    pub fn line(&self, row: usize) -> usize {
        self.index().lines.get(row).map_or(0, |l| *l as usize)
    }

    /// A span on an excerpt of data row `row`, marking `mark`.
    pub fn span(&self, sources: &mut SourceMap, row: usize, mark: &Mark<'_>) -> Span {
        let index = self.index();
        let start = index.starts.get(row).copied().unwrap_or(self.bytes.len());
        let end = index
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
            (Mark::Column(i), Layout::Csv { delimiter, .. }) => {
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

/// Where the data records of CSV text start, read the way the CSV reader reads them: records
/// after the header at `from`, blank lines skipped.
fn csv_index(bytes: &[u8], from: usize, delimiter: u8, width: usize) -> RowIndex {
    let mut index = RowIndex::default();
    let Some(rest) = bytes.get(from..) else {
        return index;
    };
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(rest);
    let lines_before = bytes[..from].iter().filter(|b| **b == b'\n').count();
    let mut record = ::csv::ByteRecord::new();
    while let Ok(true) = reader.read_byte_record(&mut record) {
        if is_blank(&record, width) {
            continue;
        }
        let (start, line) = record.position().map_or((0, 0), |p| (p.byte(), p.line()));
        let start = usize::try_from(start)
            .unwrap_or(usize::MAX)
            .saturating_add(from);
        let line = usize::try_from(line).unwrap_or(0) + lines_before;
        index.push(start, line);
    }
    index
}

/// A record of one empty field where the header names several columns: a blank line.
pub fn is_blank(record: &::csv::ByteRecord, width: usize) -> bool {
    record.len() == 1 && width > 1 && record.get(0).is_some_and(<[u8]>::is_empty)
}

/// Where the records of NDJSON text start: every line that is not only white space.
fn ndjson_index(bytes: &[u8]) -> RowIndex {
    let mut index = RowIndex::default();
    let mut start = 0usize;
    for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if !line.iter().all(u8::is_ascii_whitespace) {
            index.push(start, n + 1);
        }
        start += line.len() + 1;
    }
    index
}

//! Source texts and positions: the files of a project, byte spans into them, and line/column lookup.

use std::fmt;

/// Identifies one source text inside a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range `start..end` inside one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    #[must_use]
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span {
            file,
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// A span covering both `self` and `other` (which must be in the same file).
    #[must_use]
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    #[must_use]
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    #[must_use]
    pub fn is_empty(self) -> bool {
        self.end == self.start
    }

    #[must_use]
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// One source text with its display name (usually a path relative to the project).
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
    /// The line number of the text's first line: 1 for a whole file, more for an excerpt of a
    /// large file (a data file's offending line, say).
    first_line: usize,
}

impl SourceFile {
    #[must_use]
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        SourceFile {
            name: name.into(),
            text,
            line_starts,
            first_line: 1,
        }
    }

    /// An excerpt of a larger file whose first line is line `first_line` of that file.
    #[must_use]
    pub fn excerpt(name: impl Into<String>, first_line: usize, text: impl Into<String>) -> Self {
        let mut file = SourceFile::new(name, text);
        file.first_line = first_line.max(1);
        file
    }

    /// Line and column of a byte offset. Offsets past the end map to the end.
    #[must_use]
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let mut end = offset;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let column = self.text[start..end].chars().count() + 1;
        LineCol {
            line: line + self.first_line,
            column,
        }
    }

    /// The text of a line (numbered as in the whole file) without its line ending.
    #[must_use]
    pub fn line_text(&self, line: usize) -> &str {
        let index = line.wrapping_sub(self.first_line);
        let Some(&start) = self.line_starts.get(index) else {
            return "";
        };
        let end = self
            .line_starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// The number of the last line.
    #[must_use]
    pub fn line_count(&self) -> usize {
        self.line_starts.len() + self.first_line - 1
    }
}

/// All source texts of one run: rule files, the schema and `segl.toml`.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    #[must_use]
    pub fn new() -> Self {
        SourceMap::default()
    }

    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.add_file(SourceFile::new(name, text))
    }

    /// Adds an excerpt of a larger file (see [`SourceFile::excerpt`]).
    pub fn add_excerpt(
        &mut self,
        name: impl Into<String>,
        first_line: usize,
        text: impl Into<String>,
    ) -> FileId {
        self.add_file(SourceFile::excerpt(name, first_line, text))
    }

    fn add_file(&mut self, file: SourceFile) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(file);
        id
    }

    #[must_use]
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    #[must_use]
    pub fn name(&self, id: FileId) -> &str {
        self.get(id).map_or("<unknown>", |f| f.name.as_str())
    }

    #[must_use]
    pub fn text(&self, id: FileId) -> &str {
        self.get(id).map_or("", |f| f.text.as_str())
    }

    /// The source text a span points at.
    #[must_use]
    pub fn snippet(&self, span: Span) -> &str {
        self.text(span.file).get(span.range()).unwrap_or("")
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.files.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Why a file's bytes could not be used as source text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset of the first byte that is not valid UTF-8.
    pub offset: usize,
    /// The text up to that point, so the position can be shown with line and column.
    pub valid_prefix: String,
}

/// Turns file bytes into source text: UTF-8 only, a leading byte-order mark is dropped.
///
/// # Errors
/// Returns where the first invalid byte is when the bytes are not UTF-8.
pub fn decode(bytes: &[u8]) -> Result<String, DecodeError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        Err(e) => {
            let offset = e.valid_up_to();
            Err(DecodeError {
                offset,
                valid_prefix: String::from_utf8_lossy(&bytes[..offset]).into_owned(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let f = SourceFile::new("a", "ab\ncé d\r\nx");
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 2, column: 1 });
        assert_eq!(f.line_col(6), LineCol { line: 2, column: 3 });
        assert_eq!(f.line_text(2), "cé d");
        assert_eq!(f.line_col(10), LineCol { line: 3, column: 1 });
    }

    #[test]
    fn excerpts_keep_the_line_numbers_of_the_whole_file() {
        let f = SourceFile::excerpt("data.csv", 1041, "c17,ana,2024-13-01\n");
        assert_eq!(
            f.line_col(4),
            LineCol {
                line: 1041,
                column: 5
            }
        );
        assert_eq!(f.line_text(1041), "c17,ana,2024-13-01");
        assert_eq!(f.line_text(1), "");
    }

    #[test]
    fn decode_strips_bom_and_reports_bad_bytes() {
        assert_eq!(decode(b"\xEF\xBB\xBFabc").as_deref(), Ok("abc"));
        let err = decode(b"ab\ncd\xFFe").unwrap_err();
        assert_eq!(err.offset, 5);
    }
}

//! A light pass over the raw text before pest runs: splits it into top-level chunks, collects
//! comments, and finds the slips that are easiest to explain on the characters themselves
//! (unbalanced brackets and quotes, bad escapes, typographic quotes and dashes, merge-conflict
//! markers, and nesting too deep for the parser).

use std::ops::Range;

use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};
use crate::syntax::ast::Comment;

/// The deepest bracket nesting the parser accepts.
pub const MAX_DEPTH: usize = 200;

/// Words that start a top-level item when they begin a line.
const ITEM_WORDS: &[&str] = &[
    "entity", "segment", "define", "param", "tiers", "score", "test",
];

/// What the scan found in one chunk of the file.
#[derive(Debug, Default)]
pub struct ChunkScan {
    pub range: Range<usize>,
    /// Scan errors in this chunk; when there are some, pest's own error for the chunk is not
    /// reported (it would only repeat the same problem in vaguer words).
    pub errors: usize,
    /// Brackets nest deeper than [`MAX_DEPTH`]: the chunk is not given to pest at all.
    pub too_deep: bool,
}

#[derive(Debug, Default)]
pub struct Scan {
    pub comments: Vec<Comment>,
    pub diagnostics: Vec<Diagnostic>,
    pub chunks: Vec<ChunkScan>,
}

/// Splits `text` into chunks: a line whose first word (at column 0) starts an item begins a new
/// chunk. The first chunk holds whatever comes before the first item.
pub fn chunk_ranges(text: &str) -> Vec<Range<usize>> {
    let mut starts = vec![0];
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        if line_start > 0 && starts_item(line) {
            starts.push(line_start);
        }
        line_start += line.len();
    }
    let mut ranges = Vec::with_capacity(starts.len());
    for (i, &s) in starts.iter().enumerate() {
        let e = starts.get(i + 1).copied().unwrap_or(text.len());
        ranges.push(s..e);
    }
    ranges
}

/// True for the words that start a top-level item.
pub fn is_item_word(word: &str) -> bool {
    ITEM_WORDS.contains(&word)
}

fn starts_item(line: &str) -> bool {
    ITEM_WORDS.iter().any(|w| {
        line.strip_prefix(w)
            .is_some_and(|rest| rest.chars().next().is_none_or(|c| !is_ident_char(c)))
    })
}

pub fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn smart_quote(c: char) -> bool {
    matches!(c, '“' | '”' | '„' | '‘' | '’')
}

fn closing(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

struct Scanner<'a> {
    file: FileId,
    text: &'a str,
    out: Scan,
}

impl Scanner<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    fn push(&mut self, chunk: &mut ChunkScan, d: Diagnostic) {
        chunk.errors += 1;
        self.out.diagnostics.push(d);
    }

    fn chunk(&mut self, range: Range<usize>) {
        let mut chunk = ChunkScan {
            range: range.clone(),
            ..ChunkScan::default()
        };
        let Some(src) = self.text.get(range.clone()) else {
            self.out.chunks.push(chunk);
            return;
        };
        let base = range.start;
        let mut stack: Vec<(char, usize)> = Vec::new();
        let mut deep_reported = false;
        let mut at_line_start = true;
        let mut iter = src.char_indices().peekable();
        while let Some((i, c)) = iter.next() {
            let pos = base + i;
            if at_line_start {
                at_line_start = false;
                let rest = src.get(i..).unwrap_or("");
                if let Some(marker) = ["<<<<<<<", "=======", ">>>>>>>"]
                    .into_iter()
                    .find(|m| rest.starts_with(m))
                {
                    let len = rest.find('\n').unwrap_or(rest.len());
                    let line = rest.get(..len).unwrap_or("").trim_end_matches('\r');
                    let d = Diagnostic::new(
                        Code::E0109,
                        self.span(pos, pos + marker.len()),
                        "this file still has a merge-conflict marker",
                    )
                    .label(format!(
                        "`{}` is left over from merging two versions",
                        line.trim()
                    ))
                    .help(
                        "decide which version to keep, then delete the `<<<<<<<`, `=======` and \
                         `>>>>>>>` lines",
                    );
                    self.push(&mut chunk, d);
                    // Skip the rest of the marker line.
                    while let Some(&(_, c2)) = iter.peek() {
                        if c2 == '\n' {
                            break;
                        }
                        iter.next();
                    }
                    continue;
                }
            }
            match c {
                '\n' => at_line_start = true,
                '#' => {
                    let mut end = i + 1;
                    while let Some(&(j, c2)) = iter.peek() {
                        if c2 == '\n' {
                            break;
                        }
                        end = j + c2.len_utf8();
                        iter.next();
                    }
                    let body = src.get(i + 1..end).unwrap_or("");
                    let body = body.strip_suffix('\r').unwrap_or(body);
                    self.out.comments.push(Comment {
                        text: body.to_owned(),
                        span: self.span(pos, base + i + 1 + body.len()),
                    });
                }
                '"' => self.text_literal(&mut chunk, &mut iter, base, i),
                '`' => {
                    let mut closed = false;
                    while let Some(&(_, c2)) = iter.peek() {
                        if c2 == '\n' || c2 == '\r' {
                            break;
                        }
                        iter.next();
                        if c2 == '`' {
                            closed = true;
                            break;
                        }
                    }
                    if !closed {
                        let d = Diagnostic::new(
                            Code::E0102,
                            self.span(pos, pos + 1),
                            "this quoted name is never closed",
                        )
                        .label("the name starts here")
                        .help("end the name with a second backtick `` ` `` on the same line");
                        self.push(&mut chunk, d);
                    }
                }
                c if smart_quote(c) => self.smart_text(&mut chunk, &mut iter, base, i, c),
                '–' | '—' => {
                    let d = Diagnostic::new(
                        Code::E0103,
                        self.span(pos, pos + c.len_utf8()),
                        format!("`{c}` is a typographic dash"),
                    )
                    .label("probably pasted from a document")
                    .help("type a plain minus sign `-` instead")
                    .fix(self.span(pos, pos + c.len_utf8()), "-");
                    self.push(&mut chunk, d);
                }
                '(' | '[' | '{' => {
                    stack.push((c, pos));
                    if stack.len() > MAX_DEPTH && !deep_reported {
                        deep_reported = true;
                        chunk.too_deep = true;
                        let d = Diagnostic::new(
                            Code::E0004,
                            self.span(pos, pos + 1),
                            format!("brackets are nested more than {MAX_DEPTH} levels deep"),
                        )
                        .label(format!("this `{c}` is nested too deep"))
                        .help("split the rule into smaller definitions with `define`");
                        self.push(&mut chunk, d);
                    }
                }
                ')' | ']' | '}' => {
                    let matching = stack.iter().rposition(|&(o, _)| closing(o) == c);
                    match matching {
                        Some(k) => {
                            // Openers above the match were never closed.
                            let unclosed: Vec<(char, usize)> = stack.drain(k..).skip(1).collect();
                            for (o, at) in unclosed {
                                let d = self.unclosed(o, at).secondary(
                                    self.span(pos, pos + 1),
                                    format!("this `{c}` closes an earlier bracket"),
                                );
                                self.push(&mut chunk, d);
                            }
                        }
                        None => {
                            let d = Diagnostic::new(
                                Code::E0110,
                                self.span(pos, pos + 1),
                                format!("this `{c}` has no matching opening bracket"),
                            )
                            .label("nothing before it is open")
                            .help(format!(
                                "remove this `{c}`, or add the missing opening bracket before it"
                            ));
                            self.push(&mut chunk, d);
                        }
                    }
                }
                _ => {}
            }
        }
        for (o, at) in stack {
            let d = self.unclosed(o, at);
            self.push(&mut chunk, d);
        }
        self.out.chunks.push(chunk);
    }

    fn unclosed(&self, open: char, at: usize) -> Diagnostic {
        let close = closing(open);
        Diagnostic::new(
            Code::E0101,
            self.span(at, at + 1),
            format!("this `{open}` is never closed"),
        )
        .label(format!("opened here, but no `{close}` closes it"))
        .help(format!("add a `{close}` where this part ends"))
    }

    /// A straight-quoted text starting at `i` (relative to the chunk).
    fn text_literal(
        &mut self,
        chunk: &mut ChunkScan,
        iter: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
        base: usize,
        i: usize,
    ) {
        let start = base + i;
        while let Some(&(j, c)) = iter.peek() {
            if c == '\n' || c == '\r' {
                break;
            }
            iter.next();
            match c {
                '"' => return,
                '\\' => {
                    let Some(&(k, e)) = iter.peek() else {
                        break;
                    };
                    if e == '\n' || e == '\r' {
                        break;
                    }
                    iter.next();
                    if !matches!(e, '"' | '\\' | 'n' | 't') {
                        let at = base + j;
                        let d = Diagnostic::new(
                            Code::E0111,
                            self.span(at, base + k + e.len_utf8()),
                            format!("`\\{e}` is not a known escape in text"),
                        )
                        .label("unknown escape")
                        .help(
                            "inside text, a backslash can only start `\\\"`, `\\\\`, `\\n` or \
                             `\\t`; write `\\\\` for a backslash itself",
                        )
                        .fix(self.span(at, at + 1), "\\\\");
                        self.push(chunk, d);
                    }
                }
                _ => {}
            }
        }
        let d = Diagnostic::new(
            Code::E0102,
            self.span(start, start + 1),
            "this text is never closed",
        )
        .label("the text starts here")
        .help("end the text with a `\"` on the same line");
        self.push(chunk, d);
    }

    /// A text delimited by typographic quotes, starting with `open` at `i`.
    fn smart_text(
        &mut self,
        chunk: &mut ChunkScan,
        iter: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
        base: usize,
        i: usize,
        open: char,
    ) {
        let start = base + i;
        let double = matches!(open, '“' | '”' | '„');
        let mut end = None;
        while let Some(&(j, c)) = iter.peek() {
            if c == '\n' || c == '\r' {
                break;
            }
            iter.next();
            let closes = if double {
                matches!(c, '“' | '”' | '"')
            } else {
                matches!(c, '‘' | '’')
            };
            if closes {
                end = Some(base + j + c.len_utf8());
                break;
            }
        }
        let which = if double { "double" } else { "single" };
        let mut d = Diagnostic::new(
            Code::E0103,
            self.span(start, start + open.len_utf8()),
            format!("`{open}` is a typographic quote"),
        )
        .label(format!(
            "a {which} typographic quote, probably pasted from a document"
        ));
        match end {
            Some(end) => {
                let body: String = self
                    .text
                    .get(start..end)
                    .unwrap_or("")
                    .chars()
                    .skip(1)
                    .collect();
                let mut body = body;
                body.pop();
                let fixed = format!("\"{}\"", body.replace('\\', "\\\\").replace('"', "\\\""));
                d = d
                    .help(format!(
                        "text goes between plain double quotes: write `{fixed}`"
                    ))
                    .fix(self.span(start, end), fixed);
            }
            None => {
                d = d.help("text goes between plain double quotes `\"`");
            }
        }
        self.push(chunk, d);
    }
}

/// Scans the whole text chunk by chunk.
pub fn scan(file: FileId, text: &str) -> Scan {
    let mut scanner = Scanner {
        file,
        text,
        out: Scan::default(),
    };
    for range in chunk_ranges(text) {
        scanner.chunk(range);
    }
    scanner.out
}

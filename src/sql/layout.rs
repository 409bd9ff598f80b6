//! Long lines of generated SQL broken at their joints, so that a reviewer can read them.
//!
//! The compiler writes each expression on one line. A line longer than [`WIDTH`] characters is
//! laid out again: `OR` and `AND` chains one operand per line, function arguments one per line,
//! `CASE` with each `WHEN ... THEN ...` and `ELSE` on a line of its own, brackets opened at the
//! end of a line and closed on a line of their own. A comment line too long is continued on
//! more comment lines. Only whitespace between tokens changes, never a text, a quoted name or a
//! token, so the SQL means the same; texts in quotes are read with each dialect's escapes so
//! that nothing inside them is taken for a joint.

use super::Dialect;

/// The widest a line should be.
pub(crate) const WIDTH: usize = 100;

/// `sql` with every line longer than [`WIDTH`] broken onto indented lines.
pub(crate) fn wrap(sql: &str, d: Dialect) -> String {
    let mut out = String::with_capacity(sql.len() + sql.len() / 8);
    for line in logical_lines(sql, d) {
        match &line {
            Line::Kept(text) => out.push_str(text),
            Line::Code {
                text,
                indent,
                tokens,
                comment,
            } => {
                let laid = if line_width(*indent, tokens) > WIDTH {
                    lay_out(*indent, tokens, *comment)
                } else {
                    None
                };
                out.push_str(laid.as_deref().unwrap_or(text));
            }
            Line::Comment { indent, text } => out.push_str(&wrap_comment(*indent, text)),
        }
    }
    out
}

// -------------------------------------------------------------------------------------------
// Tokens

/// A token of a line: a word (keywords, names, texts in quotes, numbers, operators, glued
/// together where the SQL has no space), a bracket or a comma.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok<'a> {
    Word(&'a str),
    Open,
    Close,
    Comma,
}

/// One line of the script, as far as layout goes.
enum Line<'a> {
    /// Printed as it is (blank lines; lines whose text in quotes holds a line break).
    Kept(&'a str),
    /// Code: its indentation, its tokens (with whether a space comes before each) and a comment
    /// at its end.
    Code {
        text: &'a str,
        indent: usize,
        tokens: Vec<(bool, Tok<'a>)>,
        comment: Option<&'a str>,
    },
    /// A line holding only a comment.
    Comment { indent: usize, text: &'a str },
}

/// Splits `sql` into lines, each with its line break. Texts in quotes are skipped over with the
/// dialect's escapes; a line break inside one keeps the lines it joins as they are.
fn logical_lines(sql: &str, d: Dialect) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut start = 0;
    while start < sql.len() {
        match scan_line(sql, start, d) {
            Some((end, tokens, comment, indent)) => {
                let only_comment = tokens.is_empty() && comment.is_some();
                let text = &sql[start..end];
                lines.push(if only_comment {
                    Line::Comment {
                        indent,
                        text: comment.unwrap_or_default(),
                    }
                } else if tokens.is_empty() {
                    Line::Kept(text)
                } else {
                    Line::Code {
                        text,
                        indent,
                        tokens,
                        comment,
                    }
                });
                start = end;
            }
            None => {
                // A text in quotes runs over the line break (or never ends): keep everything up
                // to the end of the line where it ends, as it is.
                let end = end_of_multiline(sql, start, d);
                lines.push(Line::Kept(&sql[start..end]));
                start = end;
            }
        }
    }
    lines
}

type Scanned<'a> = (usize, Vec<(bool, Tok<'a>)>, Option<&'a str>, usize);

/// The tokens of the line starting at `start`, up to and including its line break; `None`
/// when a text in quotes holds a line break.
fn scan_line<'a>(sql: &'a str, start: usize, d: Dialect) -> Option<Scanned<'a>> {
    let b = sql.as_bytes();
    let mut i = start;
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    let indent = i - start;
    let mut tokens = Vec::new();
    let mut comment = None;
    let mut space = false;
    let mut word_start: Option<usize> = None;
    let flush = |tokens: &mut Vec<(bool, Tok<'a>)>,
                 ws: &mut Option<usize>,
                 end: usize,
                 space: &mut bool| {
        if let Some(s) = ws.take() {
            tokens.push((*space, Tok::Word(&sql[s..end])));
            *space = false;
        }
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                flush(&mut tokens, &mut word_start, i, &mut space);
                return Some((i + 1, tokens, comment, indent));
            }
            b' ' | b'\t' | b'\r' => {
                flush(&mut tokens, &mut word_start, i, &mut space);
                space = true;
                i += 1;
            }
            b'(' | b')' | b',' => {
                flush(&mut tokens, &mut word_start, i, &mut space);
                let t = match c {
                    b'(' => Tok::Open,
                    b')' => Tok::Close,
                    _ => Tok::Comma,
                };
                tokens.push((space, t));
                space = false;
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                flush(&mut tokens, &mut word_start, i, &mut space);
                let end = sql[i..].find('\n').map_or(sql.len(), |n| i + n);
                comment = Some(&sql[i..end]);
                i = end;
            }
            b'\'' | b'"' | b'`' => {
                if word_start.is_none() {
                    word_start = Some(i);
                }
                let escape_prefix = word_start
                    .is_some_and(|s| i > s && matches!(b[i - 1], b'E' | b'e') && (i - 1 == s));
                let end = quoted_end(sql, i, d, escape_prefix)?;
                if sql[i..end].contains('\n') {
                    return None;
                }
                i = end;
            }
            b'{' if b.get(i + 1) == Some(&b'{') => {
                // A dbt expression (`{{ ref('x') }}`) is one word.
                if word_start.is_none() {
                    word_start = Some(i);
                }
                i = sql[i..].find("}}").map_or(sql.len(), |n| i + n + 2);
                if sql[word_start.unwrap_or(i)..i].contains('\n') {
                    return None;
                }
            }
            _ => {
                if word_start.is_none() {
                    word_start = Some(i);
                }
                i += sql[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
    }
    flush(&mut tokens, &mut word_start, i, &mut space);
    Some((i, tokens, comment, indent))
}

/// The end (just after the closing quote) of the text or name in quotes opening at `open`;
/// `None` when it never closes.
fn quoted_end(sql: &str, open: usize, d: Dialect, e_prefix: bool) -> Option<usize> {
    let b = sql.as_bytes();
    let q = b[open];
    let backslash = match q {
        b'\'' => match d {
            Dialect::BigQuery | Dialect::Spark | Dialect::Snowflake => true,
            Dialect::Postgres => e_prefix,
            Dialect::DuckDb | Dialect::Sqlite => false,
        },
        b'`' => d == Dialect::BigQuery,
        _ => false,
    };
    let mut i = open + 1;
    while i < b.len() {
        let c = b[i];
        if backslash && c == b'\\' {
            i += 2;
            continue;
        }
        if c == q {
            if b.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// The end of the lines a text in quotes starting on the line at `start` runs over.
fn end_of_multiline(sql: &str, start: usize, d: Dialect) -> usize {
    let b = sql.as_bytes();
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'\n' => return i + 1,
            b'-' if b.get(i + 1) == Some(&b'-') => {
                return sql[i..].find('\n').map_or(sql.len(), |n| i + n + 1);
            }
            b'\'' | b'"' | b'`' => {
                let e_prefix = i > start && matches!(b[i - 1], b'E' | b'e');
                match quoted_end(sql, i, d, e_prefix) {
                    Some(end) => i = end,
                    None => return sql.len(),
                }
            }
            _ => i += 1,
        }
    }
    sql.len()
}

fn flat_tokens(tokens: &[(bool, Tok<'_>)]) -> String {
    let mut s = String::new();
    for (space, t) in tokens {
        if *space && !s.is_empty() {
            s.push(' ');
        }
        s.push_str(match t {
            Tok::Word(w) => w,
            Tok::Open => "(",
            Tok::Close => ")",
            Tok::Comma => ",",
        });
    }
    s
}

/// The width of the code of a line (a comment at its end is not broken, so it does not count).
fn line_width(indent: usize, tokens: &[(bool, Tok<'_>)]) -> usize {
    indent + flat_tokens(tokens).chars().count()
}

// -------------------------------------------------------------------------------------------
// The tree of a line: words, bracketed groups and CASE ... END

#[derive(Debug)]
enum Node<'a> {
    Word(&'a str),
    Comma,
    Group(Vec<(bool, Node<'a>)>),
    /// From `CASE` to `END`, both included.
    Case(Vec<(bool, Node<'a>)>),
}

/// The tree of the tokens, or `None` when brackets or `CASE`/`END` do not pair up on the line.
fn tree<'a>(tokens: &[(bool, Tok<'a>)]) -> Option<Vec<(bool, Node<'a>)>> {
    let mut i = 0;
    let items = sequence(tokens, &mut i, None)?;
    (i == tokens.len()).then_some(items)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Until {
    Close,
    End,
}

fn sequence<'a>(
    tokens: &[(bool, Tok<'a>)],
    i: &mut usize,
    until: Option<Until>,
) -> Option<Vec<(bool, Node<'a>)>> {
    let mut items = Vec::new();
    while let Some((space, t)) = tokens.get(*i) {
        let space = *space;
        match t {
            Tok::Close => {
                return (until == Some(Until::Close)).then_some(items);
            }
            Tok::Open => {
                *i += 1;
                let inner = sequence(tokens, i, Some(Until::Close))?;
                // Now at the closing bracket.
                *i += 1;
                items.push((space, Node::Group(inner)));
            }
            Tok::Comma => {
                *i += 1;
                items.push((space, Node::Comma));
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("END") => {
                if until == Some(Until::End) {
                    *i += 1;
                    items.push((space, Node::Word(w)));
                    return Some(items);
                }
                return None;
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("CASE") => {
                *i += 1;
                let mut inner = vec![(false, Node::Word(w))];
                inner.extend(sequence(tokens, i, Some(Until::End))?);
                items.push((space, Node::Case(inner)));
            }
            Tok::Word(w) => {
                *i += 1;
                items.push((space, Node::Word(w)));
            }
        }
    }
    until.is_none().then_some(items)
}

fn flat(items: &[(bool, Node<'_>)]) -> String {
    let mut s = String::new();
    for (space, n) in items {
        if *space && !s.is_empty() {
            s.push(' ');
        }
        flat_node(n, &mut s);
    }
    s
}

fn flat_node(n: &Node<'_>, s: &mut String) {
    match n {
        Node::Word(w) => s.push_str(w),
        Node::Comma => s.push(','),
        Node::Group(inner) => {
            s.push('(');
            s.push_str(&flat(inner));
            s.push(')');
        }
        Node::Case(inner) => s.push_str(&flat(inner)),
    }
}

fn is_word(n: &Node<'_>, word: &str) -> bool {
    matches!(n, Node::Word(w) if w.eq_ignore_ascii_case(word))
}

// -------------------------------------------------------------------------------------------
// Layout

fn lay_out(indent: usize, tokens: &[(bool, Tok<'_>)], comment: Option<&str>) -> Option<String> {
    let mut items = tree(tokens)?;
    // A name given to the expression (` AS "name"`, and the line's comma) stays after its last
    // line; room is kept for it on every line.
    let mut suffix = Vec::new();
    if matches!(items.last(), Some((_, Node::Comma))) {
        suffix.extend(items.pop());
    }
    let n = items.len();
    if n > 2 && is_word(&items[n - 2].1, "AS") && matches!(items[n - 1].1, Node::Word(_)) {
        let name = items.split_off(n - 2);
        suffix.splice(0..0, name);
    } else if !suffix.is_empty() && n > 0 {
        items.append(&mut suffix);
    }
    let tail = flat(&suffix);
    let mut p = Printer {
        out: " ".repeat(indent),
        col: indent,
        line_indent: indent,
        width: WIDTH
            .saturating_sub(tail.chars().count() + 1)
            .max(WIDTH * 3 / 5),
    };
    if matches!(items.first(), Some((_, n)) if is_word(n, "WHEN") || is_word(n, "ELSE")) {
        // A clause of a `CASE` written over several lines.
        p.clause(&items, indent.saturating_sub(2));
    } else {
        p.seq(&items, indent);
    }
    if !tail.is_empty() {
        if !matches!(suffix.first(), Some((false, _))) {
            p.push(" ");
        }
        p.push(&tail);
    }
    if let Some(c) = comment {
        p.push(" ");
        p.push(c);
    }
    p.out.push('\n');
    Some(p.out)
}

struct Printer {
    out: String,
    col: usize,
    /// The indentation of the line being written: a bracket or `CASE` broken on it closes
    /// (`)`, `END`) at this indentation, its contents two spaces further in.
    line_indent: usize,
    /// The widest a line may be (less than [`WIDTH`] when a name follows the last line).
    width: usize,
}

impl Printer {
    fn push(&mut self, s: &str) {
        self.out.push_str(s);
        self.col += s.chars().count();
    }

    fn newline(&mut self, indent: usize) {
        // No spaces at the end of a line.
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        self.out.push('\n');
        self.out.push_str(&" ".repeat(indent));
        self.col = indent;
        self.line_indent = indent;
    }

    fn fits(&self, text: &str) -> bool {
        self.col + text.chars().count() <= self.width
    }

    /// A sequence starting where the printer is; its continuation lines start at `indent`.
    fn seq(&mut self, items: &[(bool, Node<'_>)], indent: usize) {
        let text = flat(items);
        if self.fits(&text) {
            self.push(&text);
            return;
        }
        // `OR` binds more loosely than `AND`: split at `OR` first.
        for word in ["OR", "AND"] {
            let inner = indent;
            let cuts: Vec<usize> = (1..items.len())
                .filter(|&k| is_word(&items[k].1, word))
                .collect();
            if !cuts.is_empty() {
                let mut from = 0;
                for &cut in cuts.iter().chain(std::iter::once(&items.len())) {
                    if from > 0 {
                        self.newline(indent);
                    }
                    let part = &items[from..cut];
                    // The operator word itself first, then the operand.
                    if from > 0 {
                        self.node(&part[0].1);
                        self.push(" ");
                        self.seq(&part[1..], inner);
                    } else {
                        self.seq(part, inner);
                    }
                    from = cut;
                }
                return;
            }
        }
        // Arguments: one per line, each followed by its comma. A comma at the very end (the
        // line's own) is not a joint.
        let commas: Vec<usize> = (0..items.len())
            .filter(|&k| matches!(items[k].1, Node::Comma) && k + 1 < items.len())
            .collect();
        if !commas.is_empty() {
            let mut from = 0;
            for &cut in &commas {
                self.sequential(&items[from..cut]);
                self.push(",");
                self.newline(indent);
                from = cut + 1;
            }
            self.sequential(&items[from..]);
            return;
        }
        self.sequential(items);
    }

    /// The items one after the other, each broken only when it does not fit.
    fn sequential(&mut self, items: &[(bool, Node<'_>)]) {
        for (k, (space, n)) in items.iter().enumerate() {
            if k > 0 && *space {
                self.push(" ");
            }
            self.node(n);
        }
    }

    /// One item where the printer is; a bracket or `CASE` that does not fit is broken over
    /// lines indented from the line it starts on.
    fn node(&mut self, n: &Node<'_>) {
        let mut text = String::new();
        flat_node(n, &mut text);
        if self.fits(&text) {
            self.push(&text);
            return;
        }
        let base = self.line_indent;
        match n {
            Node::Word(_) | Node::Comma => self.push(&text),
            Node::Group(inner) => {
                self.push("(");
                self.newline(base + 2);
                self.seq(inner, base + 2);
                self.newline(base);
                self.push(")");
            }
            Node::Case(inner) => self.case(inner, base),
        }
    }

    /// One `WHEN ... THEN ...` or `ELSE ...` of a `CASE` at `indent`, where the printer is.
    fn clause(&mut self, clause: &[(bool, Node<'_>)], indent: usize) {
        let text = flat(clause);
        if self.fits(&text) {
            self.push(&text);
            return;
        }
        if is_word(&clause[0].1, "WHEN")
            && let Some(then) = (1..clause.len()).find(|&k| is_word(&clause[k].1, "THEN"))
        {
            self.push("WHEN ");
            self.seq(&clause[1..then], indent + 4);
            self.newline(indent + 2);
            self.push("THEN ");
            self.seq(&clause[then + 1..], indent + 4);
        } else {
            self.node(&clause[0].1);
            self.push(" ");
            self.seq(&clause[1..], indent + 4);
        }
    }

    /// `CASE [operand]`, then each `WHEN ... THEN ...` and the `ELSE` on lines of their own,
    /// and `END` under `CASE`.
    fn case(&mut self, items: &[(bool, Node<'_>)], indent: usize) {
        let clause_starts: Vec<usize> = (1..items.len())
            .filter(|&k| {
                is_word(&items[k].1, "WHEN")
                    || is_word(&items[k].1, "ELSE")
                    || is_word(&items[k].1, "END")
            })
            .collect();
        let Some(&first) = clause_starts.first() else {
            self.sequential(items);
            return;
        };
        self.push("CASE");
        if first > 1 {
            self.push(" ");
            self.seq(&items[1..first], indent + 2);
        }
        for pair in clause_starts.windows(2) {
            self.newline(indent + 2);
            self.clause(&items[pair[0]..pair[1]], indent);
        }
        self.newline(indent);
        self.push("END");
    }
}

/// A comment line longer than [`WIDTH`] continued on more comment lines, broken at spaces.
/// Comments holding a dbt template (`{{`, `{%`) are kept whole.
fn wrap_comment(indent: usize, text: &str) -> String {
    let pad = " ".repeat(indent);
    if indent + text.chars().count() <= WIDTH || text.contains('{') || text.contains('}') {
        return format!("{pad}{text}\n");
    }
    let body = text.trim_start_matches('-').trim_start();
    let mut out = String::new();
    let mut line = format!("{pad}--");
    for word in body.split(' ') {
        let width = line.chars().count() + 1 + word.chars().count();
        if width > WIDTH && !line.trim_end().ends_with("--") {
            out.push_str(line.trim_end());
            out.push('\n');
            line = format!("{pad}--   ");
        }
        if !(line.ends_with(' ')) {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SQL without whitespace outside texts in quotes: what the layout must not change.
    fn squeezed(sql: &str, d: Dialect) -> String {
        let mut out = String::new();
        for line in logical_lines(sql, d) {
            match line {
                Line::Kept(t) => out.push_str(t),
                Line::Code {
                    tokens, comment, ..
                } => {
                    for (_, t) in tokens {
                        out.push_str(match t {
                            Tok::Word(w) => w,
                            Tok::Open => "(",
                            Tok::Close => ")",
                            Tok::Comma => ",",
                        });
                        out.push('\u{1}');
                    }
                    if let Some(c) = comment {
                        out.push_str(c);
                    }
                }
                Line::Comment { .. } => {}
            }
        }
        out
    }

    #[test]
    fn short_lines_stay_as_they_are() {
        let sql = "SELECT\n  \"a\",  x -- note\n\nFROM t;\n";
        assert_eq!(wrap(sql, Dialect::DuckDb), sql);
    }

    #[test]
    fn long_case_and_and_chains_are_broken() {
        let cond = (0..6)
            .map(|i| format!("\"field_{i}\" >= DATE '2026-0{}-01'", i + 1))
            .collect::<Vec<_>>()
            .join(" AND ");
        let sql = format!("    COUNT(CASE WHEN {cond} THEN 1 END) AS \"#a2\",\n");
        let out = wrap(&sql, Dialect::DuckDb);
        assert!(out.lines().all(|l| l.chars().count() <= WIDTH), "{out}");
        assert_eq!(
            out,
            "    COUNT(\n      CASE\n        WHEN \"field_0\" >= DATE '2026-01-01'\n          \
             AND \"field_1\" >= DATE '2026-02-01'\n          AND \"field_2\" >= DATE '2026-03-01'\n          \
             AND \"field_3\" >= DATE '2026-04-01'\n          AND \"field_4\" >= DATE '2026-05-01'\n          \
             AND \"field_5\" >= DATE '2026-06-01'\n        THEN 1\n      END\n    ) AS \"#a2\",\n"
        );
        assert_eq!(
            squeezed(&out, Dialect::DuckDb),
            squeezed(&sql, Dialect::DuckDb)
        );
    }

    #[test]
    fn texts_in_quotes_are_never_broken() {
        let long = "x ".repeat(60);
        for (d, quoted) in [
            (Dialect::DuckDb, format!("'{long}, AND (it''s)'")),
            (Dialect::BigQuery, format!("'{long}, AND (it\\'s)'")),
            (Dialect::Postgres, format!("E'{long}, AND \\\\(it''s)'")),
            (Dialect::Spark, format!("`{long}, AND (``)`")),
        ] {
            let sql = format!("  f({quoted}, {quoted}) AND g(\"a, b\", 1) AS \"x\"\n");
            let out = wrap(&sql, d);
            assert!(out.contains(&quoted), "{d:?}: {out}");
            assert_eq!(squeezed(&out, d), squeezed(&sql, d), "{d:?}: {out}");
        }
    }

    #[test]
    fn a_line_break_inside_a_text_keeps_the_lines() {
        let long = "y".repeat(120);
        let sql = format!("  f('{long}\n{long}', 'b') AS x\nSELECT 1\n");
        assert_eq!(wrap(&sql, Dialect::Postgres), sql);
    }

    #[test]
    fn long_comments_continue_on_comment_lines() {
        let names = (0..30)
            .map(|i| format!("rule_{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("-- customer: {names}\nSELECT 1\n");
        let out = wrap(&sql, Dialect::DuckDb);
        assert!(out.lines().all(|l| l.chars().count() <= WIDTH), "{out}");
        assert!(
            out.lines().take_while(|l| l.starts_with("--")).count() > 1,
            "{out}"
        );
        assert!(
            out.lines().nth(1).unwrap().starts_with("--   rule_"),
            "{out}"
        );
    }
}

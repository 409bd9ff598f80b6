//! `matches` patterns rewritten for each engine's regular expressions.
//!
//! segl reads a pattern as Rust's `regex` crate does: `.` is any character but a line feed, `$`
//! is the very end of the text, `\d`, `\w` and `\s` and case-insensitive matching follow Unicode.
//! The engines differ on each of these (PostgreSQL's `.` matches a line feed, Java's `$` also
//! matches before a final line break, RE2's `\d` only knows 0 to 9, ...). So the pattern is never
//! passed on as written: it is parsed with `regex-syntax`, whose high-level form has every flag
//! applied and every class spelled out as ranges of characters, and written again in a small
//! subset each engine reads the same way: literal characters, explicit bracket classes, groups,
//! alternatives, greedy repetitions and anchors spelled per engine. What an engine cannot check
//! the same way (word boundaries by Unicode rules, classes too large to write out) is refused
//! with words saying what to write instead.

use regex_syntax::ast;
use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Hir, HirKind, Look};

use super::Dialect;

/// Classes with more ranges than this (and whose complement has more too) are refused: Unicode's
/// decimal digits (`\d`, 71 ranges) are written out, its letters (`\w`, `\p{L}`, hundreds of
/// ranges) would drown the SQL.
const MAX_CLASS_RANGES: usize = 80;

/// Why a pattern cannot be written for an engine: what it is, and what to write instead.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refused {
    pub what: String,
    pub help: String,
}

/// The family of regular expressions an engine reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    /// RE2: DuckDB and BigQuery.
    Re2,
    /// PostgreSQL's advanced regular expressions.
    Postgres,
    /// `java.util.regex`: Spark SQL.
    Java,
    /// POSIX extended regular expressions with a few Perl escapes: Snowflake.
    Posix,
}

impl Flavor {
    fn of(d: Dialect) -> Option<Flavor> {
        match d {
            Dialect::DuckDb | Dialect::BigQuery => Some(Flavor::Re2),
            Dialect::Postgres => Some(Flavor::Postgres),
            Dialect::Spark => Some(Flavor::Java),
            Dialect::Snowflake => Some(Flavor::Posix),
            Dialect::Sqlite => None,
        }
    }

    /// The largest count a repetition may have.
    fn max_repeat(self) -> Option<u32> {
        match self {
            Flavor::Re2 => Some(1000),
            Flavor::Postgres | Flavor::Posix => Some(255),
            Flavor::Java => None,
        }
    }
}

/// `pattern` (segl's syntax; `ignore_case` for `ignoring case`) as a pattern the dialect's
/// regular expressions read with the same meaning. `None` for a dialect without regular
/// expressions (SQLite).
pub(crate) fn translate(
    d: Dialect,
    pattern: &str,
    ignore_case: bool,
) -> Option<Result<String, Refused>> {
    let flavor = Flavor::of(d)?;
    let w = Writer {
        flavor,
        engine: d.title(),
        pattern,
        ignore_case,
    };
    Some(w.pattern())
}

/// A piece of a pattern as written.
struct Piece {
    text: String,
    /// One character, class or group: takes a repetition without brackets.
    atom: bool,
    /// Alternatives side by side: needs brackets inside a sequence.
    alternatives: bool,
    /// Alternatives in brackets made optional (`(a|b)?`): a group needs no more brackets.
    optional: bool,
}

impl Piece {
    fn atom(text: String) -> Piece {
        Piece {
            text,
            atom: true,
            alternatives: false,
            optional: false,
        }
    }

    fn sequence(text: String) -> Piece {
        Piece {
            text,
            atom: false,
            alternatives: false,
            optional: false,
        }
    }

    fn group(self) -> String {
        if self.atom {
            self.text
        } else {
            format!("({})", self.text)
        }
    }
}

struct Writer<'a> {
    flavor: Flavor,
    engine: &'static str,
    pattern: &'a str,
    ignore_case: bool,
}

impl Writer<'_> {
    fn pattern(&self) -> Result<String, Refused> {
        let hir = regex_syntax::ParserBuilder::new()
            .case_insensitive(self.ignore_case)
            .build()
            .parse(self.pattern)
            // Sema checked the pattern with the same parser; should it fail here, it cannot be
            // written.
            .map_err(|e| Refused {
                what: "this pattern".to_owned(),
                help: format!("the pattern does not read as a regular expression: {e}"),
            })?;
        // A pattern that only matches the empty text matches at the start of every text.
        Ok(self.hir(&hir)?.map_or_else(|| "^".to_owned(), |p| p.text))
    }

    /// `None` when `hir` only matches the empty text (it can be left out).
    fn hir(&self, hir: &Hir) -> Result<Option<Piece>, Refused> {
        Ok(match hir.kind() {
            HirKind::Empty => None,
            HirKind::Literal(lit) => {
                let text = String::from_utf8_lossy(&lit.0);
                let mut chars = text.chars();
                let single = chars.next().is_some() && chars.next().is_none();
                let text: String = text.chars().map(|c| self.literal(c)).collect();
                Some(Piece {
                    atom: single,
                    ..Piece::sequence(text)
                })
            }
            HirKind::Class(Class::Unicode(class)) => Some(self.class(class)?),
            HirKind::Class(Class::Bytes(bytes)) => {
                // Without Unicode (`(?-u)`) a class holds bytes; patterns on text only allow
                // ASCII ones.
                let ranges = bytes
                    .ranges()
                    .iter()
                    .map(|r| ClassUnicodeRange::new(char::from(r.start()), char::from(r.end())));
                Some(self.class(&ClassUnicode::new(ranges))?)
            }
            HirKind::Look(look) => Some(self.look(*look)?),
            HirKind::Repetition(rep) => {
                if let Some(max) = self.flavor.max_repeat() {
                    let largest = rep.max.unwrap_or(rep.min);
                    if largest > max {
                        return Err(Refused {
                            what: format!("a part of a pattern repeated more than {max} times"),
                            help: format!(
                                "{} repeats a part at most {max} times; repeat a group \
                                 instead, such as `(x{{100}}){{3}}` for 300 times",
                                self.engine
                            ),
                        });
                    }
                }
                if rep.max == Some(0) {
                    return Ok(None);
                }
                let Some(sub) = self.hir(&rep.sub)? else {
                    return Ok(None);
                };
                // Whether a repetition is greedy changes which text matches, never whether one
                // does; Snowflake knows only greedy ones.
                let times = match (rep.min, rep.max) {
                    (0, None) => "*".to_owned(),
                    (1, None) => "+".to_owned(),
                    (0, Some(1)) => "?".to_owned(),
                    (n, None) => format!("{{{n},}}"),
                    (n, Some(m)) if n == m => format!("{{{n}}}"),
                    (n, Some(m)) => format!("{{{n},{m}}}"),
                };
                Some(Piece::sequence(format!("{}{times}", sub.group())))
            }
            // Groups are written as plain brackets: whether they capture does not matter, and
            // Snowflake has no `(?:...)`.
            HirKind::Capture(cap) => self.hir(&cap.sub)?.map(|p| {
                if p.optional {
                    p
                } else {
                    Piece::atom(format!("({})", p.text))
                }
            }),
            HirKind::Concat(items) => {
                let mut pieces = Vec::new();
                for item in items {
                    if let Some(p) = self.hir(item)? {
                        pieces.push(p);
                    }
                }
                match pieces.len() {
                    0 => None,
                    1 => pieces.pop(),
                    _ => Some(Piece::sequence(
                        pieces
                            .into_iter()
                            .map(|p| {
                                if p.alternatives {
                                    format!("({})", p.text)
                                } else {
                                    p.text
                                }
                            })
                            .collect(),
                    )),
                }
            }
            HirKind::Alternation(branches) => {
                let mut pieces = Vec::new();
                let mut optional = false;
                for b in branches {
                    match self.hir(b)? {
                        Some(p) => pieces.push(p.text),
                        None => optional = true,
                    }
                }
                if pieces.is_empty() {
                    None
                } else if optional {
                    // `(a|)` as `(a)?`: POSIX has no empty alternatives.
                    Some(Piece {
                        optional: true,
                        ..Piece::sequence(format!("({})?", pieces.join("|")))
                    })
                } else if pieces.len() == 1 {
                    pieces.pop().map(Piece::sequence)
                } else {
                    Some(Piece {
                        alternatives: true,
                        ..Piece::sequence(pieces.join("|"))
                    })
                }
            }
        })
    }

    /// One literal character outside brackets.
    fn literal(&self, c: char) -> String {
        if "\\.+*?()|[]{}^$".contains(c) {
            // `]` and `}` alone are literal in POSIX, where escaping them is not defined.
            if self.flavor == Flavor::Posix && matches!(c, ']' | '}') {
                return c.to_string();
            }
            format!("\\{c}")
        } else {
            self.code(c)
        }
    }

    /// A character that is not special: as it is when it reads well, else as an escape.
    fn code(&self, c: char) -> String {
        let plain = c == ' ' || c.is_ascii_graphic() || readable(c);
        if plain || self.flavor == Flavor::Posix {
            // Snowflake's escapes for characters are not documented; the character itself is
            // what POSIX reads.
            return c.to_string();
        }
        match c {
            '\n' => "\\n".to_owned(),
            '\t' => "\\t".to_owned(),
            '\r' => "\\r".to_owned(),
            _ => {
                let n = u32::from(c);
                match self.flavor {
                    Flavor::Postgres if n > 0xFFFF => format!("\\U{n:08X}"),
                    Flavor::Postgres => format!("\\u{n:04X}"),
                    _ => format!("\\x{{{n:X}}}"),
                }
            }
        }
    }

    /// A class as one character, `.`, or brackets listing its ranges or those it leaves out.
    fn class(&self, class: &ClassUnicode) -> Result<Piece, Refused> {
        let ranges: Vec<(char, char)> = class
            .ranges()
            .iter()
            .map(|r| (r.start(), r.end()))
            .collect();
        let mut complement = class.clone();
        complement.negate();
        let outside: Vec<(char, char)> = complement
            .ranges()
            .iter()
            .map(|r| (r.start(), r.end()))
            .collect();
        if ranges.is_empty() {
            // Matches no character: the end of the text followed by a character.
            let end = if self.flavor == Flavor::Java {
                "\\z"
            } else {
                "$"
            };
            return Ok(Piece::atom(format!("({end}.)")));
        }
        if outside.is_empty() {
            return Ok(Piece::atom(
                match self.flavor {
                    Flavor::Re2 | Flavor::Java => "(?s:.)",
                    // PostgreSQL's `.` matches every character.
                    Flavor::Postgres => ".",
                    Flavor::Posix => "(.|\n)",
                }
                .to_owned(),
            ));
        }
        if let [(a, b)] = ranges[..]
            && a == b
        {
            return Ok(Piece::atom(self.literal(a)));
        }
        // RE2's and Snowflake's `.` is every character but a line feed, like segl's.
        if outside == [('\n', '\n')] && matches!(self.flavor, Flavor::Re2 | Flavor::Posix) {
            return Ok(Piece::atom(".".to_owned()));
        }
        let (negated, list) = if outside.len() < ranges.len() {
            (true, outside)
        } else {
            (false, ranges)
        };
        if list.len() > MAX_CLASS_RANGES {
            let spelling = self.large_class_spelling();
            return Err(Refused {
                what: format!("{spelling} as segl reads it"),
                help: format!(
                    "in segl, {spelling} stands for characters of every language, too many to \
                     write out for {}; list the characters you mean in brackets instead, such \
                     as `[A-Za-z0-9_]` for the letters A to Z, digits and `_`",
                    self.engine
                ),
            });
        }
        let body = if self.flavor == Flavor::Posix {
            posix_bracket(&list)
        } else {
            self.escaped_bracket(&list)
        };
        Ok(Piece::atom(format!(
            "[{}{body}]",
            if negated { "^" } else { "" }
        )))
    }

    /// The ranges of a bracket for engines that read backslash escapes inside brackets.
    fn escaped_bracket(&self, list: &[(char, char)]) -> String {
        let one = |c: char| {
            let special = "\\]^-[".contains(c) || (self.flavor == Flavor::Java && c == '&');
            if special {
                format!("\\{c}")
            } else {
                self.code(c)
            }
        };
        let mut out = String::new();
        for &(a, b) in list {
            out.push_str(&one(a));
            if b != a {
                if u32::from(b) > u32::from(a) + 1 {
                    out.push('-');
                }
                out.push_str(&one(b));
            }
        }
        out
    }

    /// How the user wrote the first class too large to write out (`` `\w` ``), or words.
    fn large_class_spelling(&self) -> String {
        let Ok(tree) = ast::parse::Parser::new().parse(self.pattern) else {
            return "a character class".to_owned();
        };
        let mut found = None;
        self.find_large(&tree, &mut found);
        found.map_or_else(
            || "a character class".to_owned(),
            |s| format!("`{}`", as_written(&s)),
        )
    }

    fn find_large(&self, tree: &ast::Ast, found: &mut Option<String>) {
        if found.is_some() {
            return;
        }
        match tree {
            ast::Ast::ClassPerl(_) | ast::Ast::ClassUnicode(_) | ast::Ast::ClassBracketed(_) => {
                let span = tree.span();
                let Some(text) = self.pattern.get(span.start.offset..span.end.offset) else {
                    return;
                };
                let parsed = regex_syntax::ParserBuilder::new()
                    .case_insensitive(self.ignore_case)
                    .build()
                    .parse(text);
                if let Ok(hir) = parsed
                    && let HirKind::Class(Class::Unicode(c)) = hir.kind()
                {
                    let mut complement = c.clone();
                    complement.negate();
                    if c.ranges().len().min(complement.ranges().len()) > MAX_CLASS_RANGES {
                        *found = Some(text.to_owned());
                    }
                }
            }
            ast::Ast::Repetition(r) => self.find_large(&r.ast, found),
            ast::Ast::Group(g) => self.find_large(&g.ast, found),
            ast::Ast::Alternation(a) => a.asts.iter().for_each(|x| self.find_large(x, found)),
            ast::Ast::Concat(c) => c.asts.iter().for_each(|x| self.find_large(x, found)),
            _ => {}
        }
    }

    fn look(&self, look: Look) -> Result<Piece, Refused> {
        // Letters, digits and `_` of ASCII: a word character of `(?-u:\b)`.
        const W: &str = "[0-9A-Za-z_]";
        let lookaround = matches!(self.flavor, Flavor::Postgres | Flavor::Java);
        let text = match look {
            Look::Start => "^".to_owned(),
            Look::End if self.flavor == Flavor::Java => "\\z".to_owned(),
            Look::End => "$".to_owned(),
            Look::StartLF => match self.flavor {
                Flavor::Re2 => "(?m:^)".to_owned(),
                Flavor::Postgres | Flavor::Java => "(^|(?<=\\n))".to_owned(),
                Flavor::Posix => return Err(self.lines_refused()),
            },
            Look::EndLF => match self.flavor {
                Flavor::Re2 => "(?m:$)".to_owned(),
                Flavor::Postgres => "($|(?=\\n))".to_owned(),
                Flavor::Java => "(\\z|(?=\\n))".to_owned(),
                Flavor::Posix => return Err(self.lines_refused()),
            },
            Look::WordAscii if lookaround => format!("((?<={W})(?!{W})|(?<!{W})(?={W}))"),
            Look::WordAsciiNegate if lookaround => {
                format!("((?<={W})(?={W})|(?<!{W})(?!{W}))")
            }
            // RE2's and Snowflake's `\b` and `\B` know only ASCII word characters.
            Look::WordAscii => "\\b".to_owned(),
            Look::WordAsciiNegate => "\\B".to_owned(),
            Look::WordStartAscii if lookaround => format!("((?<!{W})(?={W}))"),
            Look::WordEndAscii if lookaround => format!("((?<={W})(?!{W}))"),
            Look::WordStartHalfAscii if lookaround => format!("((?<!{W}))"),
            Look::WordEndHalfAscii if lookaround => format!("((?!{W}))"),
            Look::WordStartAscii
            | Look::WordEndAscii
            | Look::WordStartHalfAscii
            | Look::WordEndHalfAscii => {
                return Err(Refused {
                    what: format!("the word boundary {}", spelling(look)),
                    help: format!(
                        "{} only checks plain word boundaries; write `(?-u:\\\\b)` instead",
                        self.engine
                    ),
                });
            }
            Look::StartCRLF | Look::EndCRLF => {
                return Err(Refused {
                    what: "`^` and `$` at lines ending in a carriage return and a line feed (the \
                           `R` flag)"
                        .to_owned(),
                    help: "remove the `R` flag from the pattern; to find a line break, write \
                           `\\\\r?\\\\n`"
                        .to_owned(),
                });
            }
            // Unicode word boundaries (`\b`, `\B`, `\<`, `\>`, ...) and anything newer.
            _ => {
                return Err(Refused {
                    what: format!("the word boundary {} as segl reads it", spelling(look)),
                    help: format!(
                        "segl's word boundaries know the letters of every language, which {}'s \
                         regular expressions cannot check; write `(?-u:\\\\b)` when the words \
                         are made of the letters A to Z, digits and `_`, or write out the \
                         characters around the word, such as `(^|[ ,.])vip([ ,.]|$)`",
                        self.engine
                    ),
                });
            }
        };
        Ok(Piece {
            atom: text.starts_with('(') && text.ends_with(')'),
            ..Piece::sequence(text)
        })
    }

    fn lines_refused(&self) -> Refused {
        Refused {
            what: "`^` and `$` at the start and end of lines (the `m` flag)".to_owned(),
            help: format!(
                "{} checks `^` and `$` only at the start and end of the whole text; remove \
                 `(?m)`, or compile this rule for another engine",
                self.engine
            ),
        }
    }
}

/// Whether a character other than ASCII is written as it is: letters and digits of the Latin,
/// Greek and Cyrillic alphabets and of Chinese, Japanese and Korean. Others become escapes, so
/// that no character looks like another (the Kelvin sign `K` like `K`) and no right-to-left
/// script turns the pattern around on screen.
fn readable(c: char) -> bool {
    let n = u32::from(c);
    c.is_alphanumeric()
        && ((0xC0..=0x52F).contains(&n)
            || (0x3040..=0x9FFF).contains(&n)
            || (0xAC00..=0xD7AF).contains(&n))
}

/// A piece of a pattern as it is written between the quotes of a rule file, where every
/// backslash is doubled: `\\w` for `\w`.
fn as_written(piece: &str) -> String {
    piece.replace('\\', "\\\\")
}

/// How a word boundary is written in a rule file's pattern.
fn spelling(look: Look) -> &'static str {
    match look {
        Look::WordUnicode => "`\\\\b`",
        Look::WordUnicodeNegate => "`\\\\B`",
        Look::WordStartUnicode => "`\\\\b{start}`",
        Look::WordEndUnicode => "`\\\\b{end}`",
        Look::WordStartHalfUnicode => "`\\\\b{start-half}`",
        Look::WordEndHalfUnicode => "`\\\\b{end-half}`",
        Look::WordStartAscii => "`(?-u:\\\\b{start})`",
        Look::WordEndAscii => "`(?-u:\\\\b{end})`",
        Look::WordStartHalfAscii => "`(?-u:\\\\b{start-half})`",
        Look::WordEndHalfAscii => "`(?-u:\\\\b{end-half})`",
        _ => "in this pattern",
    }
}

/// The ranges of a POSIX bracket, where a backslash is not an escape: `]` first, `-` last,
/// `^` never first, `[` where it cannot start `[:`, and a backslash on its own (`\\`, which
/// also means a backslash where it would be an escape).
fn posix_bracket(list: &[(char, char)]) -> String {
    const SPECIAL: [char; 5] = [']', '\\', '[', '^', '-'];
    let mut has = [false; 5];
    let mut plain = String::new();
    for &(a, b) in list {
        // The range without the special characters, in pieces.
        let mut start = u32::from(a);
        let end = u32::from(b);
        let mut cuts: Vec<u32> = SPECIAL
            .iter()
            .map(|&c| u32::from(c))
            .filter(|&c| c >= start && c <= end)
            .collect();
        cuts.sort_unstable();
        for cut in cuts {
            if let Some(i) = SPECIAL.iter().position(|&c| u32::from(c) == cut) {
                has[i] = true;
            }
            if cut > start {
                push_range(&mut plain, start, cut - 1);
            }
            start = cut + 1;
        }
        if start <= end {
            push_range(&mut plain, start, end);
        }
    }
    let [close, backslash, open, caret, dash] = has;
    let mut out = String::new();
    if close {
        out.push(']');
    }
    out.push_str(&plain);
    if backslash {
        out.push_str("\\\\");
    }
    if open {
        out.push('[');
    }
    if caret && out.is_empty() {
        // `^` first would negate: the dash goes first instead, or the caret is alone (a
        // single character is never written in brackets).
        if dash {
            out.push_str("-^");
        } else {
            out.push('^');
        }
        return out;
    }
    if caret {
        out.push('^');
    }
    if dash {
        out.push('-');
    }
    out
}

fn push_range(out: &mut String, a: u32, b: u32) {
    let (Some(x), Some(y)) = (char::from_u32(a), char::from_u32(b)) else {
        return;
    };
    out.push(x);
    if b > a + 1 {
        out.push('-');
    }
    if b > a {
        out.push(y);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(d: Dialect, p: &str) -> String {
        translate(d, p, false).unwrap().unwrap()
    }

    fn ti(d: Dialect, p: &str) -> String {
        translate(d, p, true).unwrap().unwrap()
    }

    #[test]
    fn simple_patterns_stay_readable() {
        let p = "@(gmail|yahoo)[.]com$";
        assert_eq!(t(Dialect::DuckDb, p), "@(gmail|yahoo)\\.com$");
        assert_eq!(t(Dialect::Postgres, p), "@(gmail|yahoo)\\.com$");
        assert_eq!(t(Dialect::Spark, p), "@(gmail|yahoo)\\.com\\z");
        assert_eq!(t(Dialect::Snowflake, p), "@(gmail|yahoo)\\.com$");
        assert!(translate(Dialect::Sqlite, p, false).is_none());
    }

    #[test]
    fn dot_never_matches_a_line_feed() {
        assert_eq!(t(Dialect::DuckDb, "a.b"), "a.b");
        assert_eq!(t(Dialect::Snowflake, "a.b"), "a.b");
        assert_eq!(t(Dialect::Postgres, "a.b"), "a[^\\n]b");
        assert_eq!(t(Dialect::Spark, "a.b"), "a[^\\n]b");
        assert_eq!(t(Dialect::DuckDb, "(?s)a.b"), "a(?s:.)b");
        assert_eq!(t(Dialect::Postgres, "(?s)a.b"), "a.b");
    }

    #[test]
    fn unicode_digits_are_written_out() {
        let d = t(Dialect::DuckDb, "\\d");
        assert!(d.starts_with("[0-9\\x{660}-\\x{669}"), "{d}");
        let pg = t(Dialect::Postgres, "^\\d{5}$");
        assert!(pg.starts_with("^[0-9") && pg.ends_with("]{5}$"), "{pg}");
        assert!(
            pg.contains("\\u0660-\\u0669") && pg.contains("\\U0001"),
            "{pg}"
        );
    }

    #[test]
    fn ignoring_case_lists_both_cases() {
        assert_eq!(ti(Dialect::DuckDb, "ab"), "[Aa][Bb]");
        assert_eq!(ti(Dialect::Postgres, "k"), "[Kk\\u212A]");
        assert_eq!(ti(Dialect::Spark, "s"), "[Ssſ]");
        assert_eq!(ti(Dialect::Snowflake, "k"), "[Kk\u{212A}]");
    }

    #[test]
    fn anchors_per_engine() {
        assert_eq!(t(Dialect::DuckDb, "(?m)^a$"), "(?m:^)a(?m:$)");
        assert_eq!(t(Dialect::Postgres, "(?m)^a$"), "(^|(?<=\\n))a($|(?=\\n))");
        assert_eq!(t(Dialect::Spark, "(?m)^a$"), "(^|(?<=\\n))a(\\z|(?=\\n))");
        let refused = translate(Dialect::Snowflake, "(?m)^a", false).unwrap();
        assert!(refused.is_err());
    }

    #[test]
    fn word_boundaries() {
        assert_eq!(t(Dialect::DuckDb, "(?-u:\\b)vip(?-u:\\b)"), "\\bvip\\b");
        assert_eq!(
            t(Dialect::Postgres, "(?-u:\\b)x"),
            "((?<=[0-9A-Za-z_])(?![0-9A-Za-z_])|(?<![0-9A-Za-z_])(?=[0-9A-Za-z_]))x"
        );
        for (d, _) in Dialect::ALL {
            if let Some(r) = translate(d, "\\bvip\\b", false) {
                let e = r.unwrap_err();
                assert!(e.what.contains("`\\\\b`"), "{e:?}");
            }
        }
    }

    #[test]
    fn large_classes_are_refused_with_their_spelling() {
        let e = translate(Dialect::DuckDb, "^x\\w+", false)
            .unwrap()
            .unwrap_err();
        assert_eq!(e.what, "`\\\\w` as segl reads it");
        let e = translate(Dialect::Postgres, "[\\pL-]", false)
            .unwrap()
            .unwrap_err();
        assert_eq!(e.what, "`[\\\\pL-]` as segl reads it");
        // The ASCII class is small.
        assert_eq!(t(Dialect::DuckDb, "(?-u:\\w)"), "[0-9A-Z_a-z]");
    }

    #[test]
    fn repetition_limits() {
        assert!(
            translate(Dialect::Postgres, "a{256}", false)
                .unwrap()
                .is_err()
        );
        assert_eq!(t(Dialect::Postgres, "a{255}"), "a{255}");
        assert_eq!(t(Dialect::DuckDb, "(ab){2,5}"), "(ab){2,5}");
        assert_eq!(t(Dialect::DuckDb, "ab{2,}?"), "ab{2,}");
        assert_eq!(t(Dialect::Spark, "a{2000}"), "a{2000}");
    }

    #[test]
    fn empty_alternatives_and_groups() {
        assert_eq!(t(Dialect::Snowflake, "a(b|)c"), "a(b)?c");
        assert_eq!(t(Dialect::DuckDb, ""), "^");
        assert_eq!(t(Dialect::DuckDb, "ab|cd"), "ab|cd");
        assert_eq!(t(Dialect::DuckDb, "x(?:ab|cd)"), "x(ab|cd)");
        assert_eq!(t(Dialect::DuckDb, "(?:ab)+"), "(ab)+");
    }

    #[test]
    fn brackets_per_engine() {
        let p = "[]\\\\^\\-\\[a-c&]";
        assert_eq!(t(Dialect::DuckDb, p), "[&\\-\\[-\\^a-c]");
        assert_eq!(t(Dialect::Spark, p), "[\\&\\-\\[-\\^a-c]");
        assert_eq!(t(Dialect::Snowflake, p), "[]&a-c\\\\[^-]");
        assert_eq!(t(Dialect::Snowflake, "[\\^\\-]"), "[-^]");
        assert_eq!(t(Dialect::Snowflake, "[^\\^\\-]"), "[^-^]");
        assert_eq!(t(Dialect::DuckDb, "a\\.b\\$"), "a\\.b\\$");
        assert_eq!(t(Dialect::Snowflake, "a\\]\\}"), "a]}");
    }
}

//! Quoting of identifiers and text literals, per dialect.
//!
//! Every identifier segl writes is quoted, whatever it looks like: reserved words (`order`,
//! `select`), Unicode names and names with quotes all come out the same way, and no list of
//! keywords has to be kept up to date per engine.

use std::fmt::Write as _;

use super::Dialect;

/// `name` as a quoted identifier: `"order"`, `"a""b"`, `` `a\`b` `` (BigQuery), `` `a``b` ``
/// (Spark).
#[must_use]
pub fn ident(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::DuckDb | Dialect::Postgres | Dialect::Sqlite | Dialect::Snowflake => {
            format!("\"{}\"", name.replace('"', "\"\""))
        }
        // Quoted identifiers take the same escapes as string literals.
        Dialect::BigQuery => format!("`{}`", backslash_escaped(name, '`')),
        Dialect::Spark => format!("`{}`", name.replace('`', "``")),
    }
}

/// A dotted table name given by the user (`analytics.crm.customers`), each part quoted.
#[must_use]
pub fn qualified(dialect: Dialect, name: &str) -> String {
    name.split('.')
        .map(|part| ident(dialect, part))
        .collect::<Vec<_>>()
        .join(".")
}

/// `text` as a string literal, or `None` when the dialect cannot hold it (a NUL character).
#[must_use]
pub fn text(dialect: Dialect, text: &str) -> Option<String> {
    if text.contains('\0') {
        return None;
    }
    Some(match dialect {
        // Backslashes are ordinary characters in DuckDB's and SQLite's string literals.
        Dialect::DuckDb | Dialect::Sqlite => format!("'{}'", text.replace('\'', "''")),
        // In PostgreSQL they are ordinary only while `standard_conforming_strings` is on; an
        // escape string (`E'...'`) means the same whatever the server's setting.
        Dialect::Postgres => {
            let doubled = text.replace('\'', "''");
            if text.contains('\\') {
                format!("E'{}'", doubled.replace('\\', "\\\\"))
            } else {
                format!("'{doubled}'")
            }
        }
        // A backslash starts an escape in Snowflake's literals; a quote may be doubled.
        Dialect::Snowflake => format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''")),
        // BigQuery and Spark: a backslash starts an escape, and a doubled quote is not a quote
        // (Spark, in older versions, reads `'a''b'` as two literals run together: `ab`).
        // BigQuery's literals cannot hold a line break as it is.
        Dialect::BigQuery | Dialect::Spark => format!("'{}'", backslash_escaped(text, '\'')),
    })
}

/// `text` for inside a literal or identifier delimited by `quote` in which a backslash starts an
/// escape: backslashes and the quote escaped, control characters written as escapes.
fn backslash_escaped(text: &str, quote: char) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_always_quoted() {
        assert_eq!(ident(Dialect::DuckDb, "order"), "\"order\"");
        assert_eq!(ident(Dialect::Postgres, "a\"b"), "\"a\"\"b\"");
        assert_eq!(ident(Dialect::Sqlite, "straße"), "\"straße\"");
        assert_eq!(ident(Dialect::Snowflake, "a\"b"), "\"a\"\"b\"");
        assert_eq!(ident(Dialect::BigQuery, "select"), "`select`");
        assert_eq!(ident(Dialect::BigQuery, "a`b\\c"), "`a\\`b\\\\c`");
        assert_eq!(ident(Dialect::Spark, "a`b\\c"), "`a``b\\c`");
        assert_eq!(
            qualified(Dialect::Postgres, "crm.Customers"),
            "\"crm\".\"Customers\""
        );
        assert_eq!(
            qualified(Dialect::BigQuery, "my-project.crm.customers"),
            "`my-project`.`crm`.`customers`"
        );
        assert_eq!(
            qualified(Dialect::Snowflake, "ANALYTICS.CRM.CUSTOMERS"),
            "\"ANALYTICS\".\"CRM\".\"CUSTOMERS\""
        );
        assert_eq!(
            qualified(Dialect::Spark, "spark_catalog.crm.customers"),
            "`spark_catalog`.`crm`.`customers`"
        );
    }

    #[test]
    fn text_literals() {
        assert_eq!(text(Dialect::DuckDb, "it's").as_deref(), Some("'it''s'"));
        assert_eq!(text(Dialect::Sqlite, "a\\b").as_deref(), Some("'a\\b'"));
        assert_eq!(
            text(Dialect::Postgres, "a\\'b").as_deref(),
            Some("E'a\\\\''b'")
        );
        assert_eq!(
            text(Dialect::Postgres, "München").as_deref(),
            Some("'München'")
        );
        assert_eq!(
            text(Dialect::Snowflake, "a\\'b").as_deref(),
            Some("'a\\\\''b'")
        );
        assert_eq!(
            text(Dialect::BigQuery, "a\\'b\nc").as_deref(),
            Some("'a\\\\\\'b\\nc'")
        );
        assert_eq!(text(Dialect::Spark, "it's").as_deref(), Some("'it\\'s'"));
        assert_eq!(
            text(Dialect::Spark, "bell\u{7}").as_deref(),
            Some("'bell\\u0007'")
        );
        assert_eq!(
            text(Dialect::BigQuery, "Zürich").as_deref(),
            Some("'Zürich'")
        );
        for (d, _) in Dialect::ALL {
            assert_eq!(text(d, "a\0b"), None);
        }
    }

    /// How an engine reads what is between the delimiters.
    #[derive(Clone, Copy)]
    enum Escapes {
        /// The delimiter doubled stands for itself; nothing else is special.
        Doubled,
        /// As `Doubled`, and a backslash takes the next character as it is (PostgreSQL's
        /// `E'...'`, Snowflake's literals).
        DoubledOrBackslash,
        /// C-like escapes: `\n`, `\r`, `\t`, `\uXXXX`, or the next character as it is.
        Backslash,
    }

    /// Reads a quoted literal or identifier back the way the engine does.
    fn unquote(quoted: &str, open: char, escapes: Escapes) -> Option<String> {
        let body = quoted.strip_prefix(open)?.strip_suffix(open)?;
        let mut out = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            if c == open {
                // Inside, a delimiter only appears doubled (or escaped).
                if matches!(escapes, Escapes::Backslash) || chars.next()? != open {
                    return None;
                }
                out.push(open);
            } else if c == '\\' && !matches!(escapes, Escapes::Doubled) {
                let next = chars.next()?;
                match (escapes, next) {
                    (Escapes::Backslash, 'n') => out.push('\n'),
                    (Escapes::Backslash, 'r') => out.push('\r'),
                    (Escapes::Backslash, 't') => out.push('\t'),
                    (Escapes::Backslash, 'u') => {
                        let hex: String = chars.by_ref().take(4).collect();
                        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    (_, c) => out.push(c),
                }
            } else if matches!(escapes, Escapes::Backslash) && c.is_control() {
                // Written as escapes, never as they are.
                return None;
            } else {
                out.push(c);
            }
        }
        Some(out)
    }

    /// The text and identifier a dialect's quoted forms stand for.
    fn read_back(d: Dialect, s: &str) -> (Option<String>, Option<String>) {
        let t = text(d, s).unwrap();
        let i = ident(d, s);
        match d {
            Dialect::DuckDb | Dialect::Sqlite => (
                unquote(&t, '\'', Escapes::Doubled),
                unquote(&i, '"', Escapes::Doubled),
            ),
            Dialect::Postgres => (
                match t.strip_prefix('E') {
                    Some(rest) => unquote(rest, '\'', Escapes::DoubledOrBackslash),
                    None => unquote(&t, '\'', Escapes::Doubled),
                },
                unquote(&i, '"', Escapes::Doubled),
            ),
            Dialect::Snowflake => (
                unquote(&t, '\'', Escapes::DoubledOrBackslash),
                unquote(&i, '"', Escapes::Doubled),
            ),
            Dialect::BigQuery => (
                unquote(&t, '\'', Escapes::Backslash),
                unquote(&i, '`', Escapes::Backslash),
            ),
            Dialect::Spark => (
                unquote(&t, '\'', Escapes::Backslash),
                unquote(&i, '`', Escapes::Doubled),
            ),
        }
    }

    proptest::proptest! {
        #[test]
        fn quoting_round_trips(s in "[\\PC'\"`\\\\;\\-\\*\\n\\r\\t\\x01\\x7f ]{0,24}") {
            for (d, _) in Dialect::ALL {
                let (t, i) = read_back(d, &s);
                proptest::prop_assert_eq!(t, Some(s.clone()), "{:?}", d);
                proptest::prop_assert_eq!(i, Some(s.clone()), "{:?}", d);
            }
        }
    }
}

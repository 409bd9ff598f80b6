//! Quoting of identifiers and text literals, per dialect.
//!
//! Every identifier segl writes is quoted, whatever it looks like: reserved words (`order`,
//! `select`), Unicode names and names with quotes all come out the same way, and no list of
//! keywords has to be kept up to date per engine.

use super::Dialect;

/// `name` as a quoted identifier: `"order"`, `"a""b"`.
#[must_use]
pub fn ident(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::DuckDb | Dialect::Postgres | Dialect::Sqlite => {
            format!("\"{}\"", name.replace('"', "\"\""))
        }
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
    let doubled = text.replace('\'', "''");
    Some(match dialect {
        // Backslashes are ordinary characters in DuckDB's and SQLite's string literals.
        Dialect::DuckDb | Dialect::Sqlite => format!("'{doubled}'"),
        // In PostgreSQL they are ordinary only while `standard_conforming_strings` is on; an
        // escape string (`E'...'`) means the same whatever the server's setting.
        Dialect::Postgres => {
            if text.contains('\\') {
                format!("E'{}'", doubled.replace('\\', "\\\\"))
            } else {
                format!("'{doubled}'")
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_always_quoted() {
        assert_eq!(ident(Dialect::DuckDb, "order"), "\"order\"");
        assert_eq!(ident(Dialect::Postgres, "a\"b"), "\"a\"\"b\"");
        assert_eq!(ident(Dialect::Sqlite, "straße"), "\"straße\"");
        assert_eq!(
            qualified(Dialect::Postgres, "crm.Customers"),
            "\"crm\".\"Customers\""
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
        assert_eq!(text(Dialect::DuckDb, "a\0b"), None);
    }

    /// Reads a quoted literal or identifier back the way the engine does.
    fn unquote(dialect: Dialect, quoted: &str, q: char) -> Option<String> {
        let (escape, body) = match quoted.strip_prefix('E') {
            Some(rest) if dialect == Dialect::Postgres => (true, rest),
            _ => (false, quoted),
        };
        let body = body.strip_prefix(q)?.strip_suffix(q)?;
        let mut out = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            if c == q {
                // Inside the literal a quote only appears doubled.
                if chars.next()? != q {
                    return None;
                }
                out.push(q);
            } else if c == '\\' && escape {
                out.push(chars.next()?);
            } else {
                out.push(c);
            }
        }
        Some(out)
    }

    proptest::proptest! {
        #[test]
        fn quoting_round_trips(s in "[\\PC'\"\\\\;\\-\\* ]{0,24}") {
            for d in [Dialect::DuckDb, Dialect::Postgres, Dialect::Sqlite] {
                let t = text(d, &s).unwrap();
                proptest::prop_assert_eq!(unquote(d, &t, '\''), Some(s.clone()));
                let i = ident(d, &s);
                proptest::prop_assert_eq!(unquote(d, &i, '"'), Some(s.clone()));
            }
        }
    }
}

//! A small reader for one JSON object per line that keeps numbers as their exact text (so
//! decimals are never routed through floating point) and reports where each value is.

use std::borrow::Cow;
use std::ops::Range;

/// One JSON value; numbers are kept as written.
#[derive(Clone, Debug, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    Number(&'a str),
    Str(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    /// A nested object: segl fields never hold one, so its contents are not kept.
    Object,
}

/// One member of the line's object: its key, its value and where the value is in the line.
pub struct Member<'a> {
    pub key: Cow<'a, str>,
    pub value: Json<'a>,
    pub at: Range<usize>,
}

/// Where and why a line is not a JSON object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    pub at: usize,
    pub reason: String,
}

struct Scanner<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

/// Reads a line holding one JSON object.
pub fn object(line: &str) -> Result<Vec<Member<'_>>, Malformed> {
    let mut s = Scanner {
        text: line,
        pos: 0,
        depth: 0,
    };
    s.ws();
    if s.peek() != Some(b'{') {
        return Err(s.fail("each line must hold one JSON object, starting with `{`"));
    }
    s.pos += 1;
    let mut members = Vec::new();
    s.ws();
    if s.peek() == Some(b'}') {
        s.pos += 1;
    } else {
        loop {
            s.ws();
            if s.peek() != Some(b'"') {
                return Err(s.fail("expected a key in double quotes"));
            }
            let key = s.string()?;
            s.ws();
            if s.peek() != Some(b':') {
                return Err(s.fail("expected `:` after the key"));
            }
            s.pos += 1;
            s.ws();
            let start = s.pos;
            let value = s.value()?;
            members.push(Member {
                key,
                value,
                at: start..s.pos,
            });
            s.ws();
            match s.peek() {
                Some(b',') => s.pos += 1,
                Some(b'}') => {
                    s.pos += 1;
                    break;
                }
                _ => return Err(s.fail("expected `,` or `}`")),
            }
        }
    }
    s.ws();
    if s.pos < s.text.len() {
        return Err(s.fail("unexpected text after the object; put one object on each line"));
    }
    Ok(members)
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    fn fail(&self, reason: &str) -> Malformed {
        Malformed {
            at: self.pos,
            reason: reason.to_owned(),
        }
    }

    fn value(&mut self) -> Result<Json<'a>, Malformed> {
        match self.peek() {
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b'[') => {
                self.nest()?;
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        self.ws();
                        items.push(self.value()?);
                        self.ws();
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.fail("expected `,` or `]` in the list")),
                        }
                    }
                }
                self.depth -= 1;
                Ok(Json::Array(items))
            }
            Some(b'{') => {
                self.nest()?;
                self.pos += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.ws();
                        if self.peek() != Some(b'"') {
                            return Err(self.fail("expected a key in double quotes"));
                        }
                        self.string()?;
                        self.ws();
                        if self.peek() != Some(b':') {
                            return Err(self.fail("expected `:` after the key"));
                        }
                        self.pos += 1;
                        self.ws();
                        self.value()?;
                        self.ws();
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b'}') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.fail("expected `,` or `}`")),
                        }
                    }
                }
                self.depth -= 1;
                Ok(Json::Object)
            }
            Some(b't') => self.word("true", Json::Bool(true)),
            Some(b'f') => self.word("false", Json::Bool(false)),
            Some(b'n') => self.word("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.fail("expected a value")),
        }
    }

    fn nest(&mut self) -> Result<(), Malformed> {
        self.depth += 1;
        if self.depth > 64 {
            return Err(self.fail("lists or objects are nested too deep"));
        }
        Ok(())
    }

    fn word(&mut self, word: &str, value: Json<'a>) -> Result<Json<'a>, Malformed> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self
                .fail("expected a value (`true`, `false` and `null` are written in lower case)"))
        }
    }

    fn number(&mut self) -> Result<Json<'a>, Malformed> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut end = start;
        while end < bytes.len()
            && matches!(bytes[end], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        {
            end += 1;
        }
        let text = &self.text[start..end];
        // The JSON grammar for numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        let b = text.as_bytes();
        let mut i = usize::from(b.first() == Some(&b'-'));
        let int_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let int_len = i - int_start;
        let mut ok = int_len > 0 && !(int_len > 1 && b[int_start] == b'0');
        if ok && i < b.len() && b[i] == b'.' {
            i += 1;
            let f = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            ok = i > f;
        }
        if ok && i < b.len() && matches!(b[i], b'e' | b'E') {
            i += 1;
            if i < b.len() && matches!(b[i], b'+' | b'-') {
                i += 1;
            }
            let e = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            ok = i > e;
        }
        if !ok || i != b.len() {
            return Err(self.fail("this is not a JSON number"));
        }
        self.pos = end;
        Ok(Json::Number(text))
    }

    fn string(&mut self) -> Result<Cow<'a, str>, Malformed> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut i = start + 1;
        let mut escaped = false;
        while i < bytes.len() {
            match bytes[i] {
                b'"' => {
                    self.pos = i + 1;
                    let raw = &self.text[start..=i];
                    if !escaped {
                        return Ok(Cow::Borrowed(&raw[1..raw.len() - 1]));
                    }
                    return serde_json::from_str::<String>(raw)
                        .map(Cow::Owned)
                        .map_err(|_| Malformed {
                            at: start,
                            reason: "this text has an invalid escape".to_owned(),
                        });
                }
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                0..=0x1f => {
                    return Err(Malformed {
                        at: i,
                        reason: "a text may not contain a raw control character".to_owned(),
                    });
                }
                _ => i += 1,
            }
        }
        Err(Malformed {
            at: start,
            reason: "this text is never closed with `\"`".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_objects_with_exact_numbers() {
        let m = object(r#"{"a": 19.990, "b": "x\"y", "c": [1, null], "d": {"e": 1}, "f": true}"#)
            .unwrap();
        assert_eq!(m[0].value, Json::Number("19.990"));
        assert_eq!(m[1].value, Json::Str(Cow::Owned("x\"y".into())));
        assert_eq!(m[2].value, Json::Array(vec![Json::Number("1"), Json::Null]));
        assert_eq!(m[3].value, Json::Object);
        assert_eq!(m[4].value, Json::Bool(true));
        assert!(object("[1]").is_err());
        assert!(object(r#"{"a": 01}"#).is_err());
        assert!(object(r#"{"a": 1} x"#).is_err());
        assert!(object(r#"{"a": "x}"#).is_err());
    }
}

//! Turns pest's failures into plain-words diagnostics: what was expected, after what, and how to
//! fix it. Grammar rule names never reach the user.

use std::ops::Range;

use pest::error::{ErrorVariant, InputLocation};

use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};
use crate::syntax::ast::Comment;
use crate::syntax::parser::Rule;
use crate::syntax::scan::is_ident_char;

/// The words that need backticks to be used as names.
pub const RESERVED: &[&str] = &[
    "and",
    "or",
    "not",
    "is",
    "in",
    "of",
    "where",
    "when",
    "otherwise",
    "true",
    "false",
    "today",
    "now",
    "between",
    "contains",
    "matches",
    "segment",
    "any",
    "all",
    "none",
    "known",
    "unknown",
    "empty",
    "last",
    "next",
    "this",
    "ago",
    "since",
    "with",
    "starts",
    "ends",
    "ignoring",
    "case",
    "does",
];

const ITEM_WORDS: &[&str] = &[
    "entity", "segment", "define", "param", "tiers", "score", "test",
];

/// What the parser was waiting for, in the reader's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Want {
    Value,
    Type,
    Member,
    TierRow,
    ScoreRule,
    TestStep,
    RecordField,
    Expectation,
    Item,
    Name,
    Text,
    Number,
    Duration,
    Word(&'static str),
    Meta,
    End,
    /// Something that could continue what is already there (an operator, a modifier).
    Continuation,
}

fn want(rule: Rule) -> Want {
    use Rule as R;
    match rule {
        R::expr
        | R::or_expr
        | R::and_expr
        | R::not_expr
        | R::test_expr
        | R::sum_expr
        | R::mul_expr
        | R::unary_expr
        | R::postfix_expr
        | R::not_op
        | R::neg_op
        | R::bang
        | R::paren
        | R::list
        | R::block
        | R::in_segment
        | R::kw_today
        | R::kw_now
        | R::days_since
        | R::aggregate
        | R::agg_func
        | R::population
        | R::pop_head
        | R::pop_word
        | R::ntile_word
        | R::call
        | R::call_name
        | R::path
        | R::decimal
        | R::percent
        | R::date
        | R::timestamp
        | R::boolean
        | R::comma_int
        | R::condition
        | R::missing_where => Want::Value,
        R::integer | R::amount => Want::Number,
        R::duration => Want::Duration,
        R::text => Want::Text,
        R::ident => Want::Name,
        R::type_expr | R::type_name | R::enum_type | R::list_type => Want::Type,
        R::key_field | R::field | R::relation => Want::Member,
        R::meta_title | R::meta_description | R::meta_owner | R::meta_tags => Want::Meta,
        R::tier_row => Want::TierRow,
        R::score_rule | R::points => Want::ScoreRule,
        R::as_of | R::data_step | R::with_step | R::expect_step | R::record => Want::TestStep,
        R::record_field => Want::RecordField,
        R::expect_member | R::expect_value => Want::Expectation,
        R::entity
        | R::segment
        | R::define
        | R::param
        | R::tiers
        | R::score
        | R::test
        | R::kw_entity
        | R::kw_define
        | R::kw_param
        | R::kw_tiers
        | R::kw_score
        | R::kw_test => Want::Item,
        R::EOI => Want::End,
        R::lbrace => Want::Word("`{`"),
        R::rbrace => Want::Word("`}`"),
        R::lparen => Want::Word("`(`"),
        R::rparen => Want::Word("`)`"),
        R::lbracket => Want::Word("`[`"),
        R::rbracket => Want::Word("`]`"),
        R::colon => Want::Word("`:`"),
        R::equals => Want::Word("`=`"),
        R::dot => Want::Word("`.`"),
        R::of_entity | R::kw_of => Want::Word("`of`"),
        R::kw_where => Want::Word("`where`"),
        R::kw_when => Want::Word("`when`"),
        R::kw_otherwise => Want::Word("`otherwise`"),
        R::kw_and => Want::Word("`and`"),
        R::kw_in => Want::Word("`in`"),
        R::kw_by => Want::Word("`by`"),
        R::kw_from => Want::Word("`from`"),
        R::kw_ago => Want::Word("`ago`"),
        R::kw_than => Want::Word("`than`"),
        R::kw_with => Want::Word("`with`"),
        R::kw_case => Want::Word("`case`"),
        R::kw_since => Want::Word("`since`"),
        R::kw_segment => Want::Word("`segment`"),
        R::kw_total => Want::Word("`total`"),
        R::kw_share => Want::Word("`share`"),
        R::kw_last => Want::Word("`last`"),
        R::kw_many | R::kw_one => Want::Word("`many` or `one`"),
        _ => Want::Continuation,
    }
}

fn join(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The token found at `pos`: a word, a number, a text or one character; `None` at the end.
fn token_at(text: &str, pos: usize) -> Option<(usize, usize)> {
    let rest = text.get(pos..)?;
    let first = rest.chars().next()?;
    let len = if is_ident_char(first) {
        rest.find(|c: char| !is_ident_char(c)).unwrap_or(rest.len())
    } else if first == '"' {
        rest.get(1..)
            .and_then(|r| r.find(['"', '\n']))
            .map_or(rest.len(), |i| i + 2)
    } else {
        let two = rest.get(..2).unwrap_or("");
        if ["==", "!=", "<=", ">=", "&&", "||"].contains(&two) {
            2
        } else {
            first.len_utf8()
        }
    };
    Some((pos, pos + len.min(rest.len())))
}

/// The end of the last token before `pos` inside `floor..`, skipping blanks and comments.
fn prev_end(text: &str, floor: usize, pos: usize, comments: &[Comment]) -> Option<usize> {
    let mut end = pos;
    loop {
        let before = text.get(floor..end)?;
        let trimmed = before.trim_end();
        end = floor + trimmed.len();
        if let Some(c) = comments
            .iter()
            .find(|c| (c.span.start as usize) < end && end <= c.span.end as usize)
        {
            end = c.span.start as usize;
            continue;
        }
        return (end > floor).then_some(end);
    }
}

/// The token that ends at `end`.
fn token_before(text: &str, floor: usize, end: usize) -> Option<(usize, usize)> {
    let before = text.get(floor..end)?;
    let last = before.chars().next_back()?;
    let start = if is_ident_char(last) {
        before
            .rfind(|c: char| !is_ident_char(c))
            .map_or(floor, |i| floor + i + 1)
    } else if last == '"' {
        before
            .get(..before.len() - 1)
            .and_then(|b| b.rfind('"'))
            .map_or(end - 1, |i| floor + i)
    } else {
        let two = before.get(before.len().saturating_sub(2)..).unwrap_or("");
        if ["==", "!=", "<=", ">=", "&&", "||"].contains(&two) {
            end - 2
        } else {
            end - last.len_utf8()
        }
    };
    Some((start, end))
}

fn item_kind(text: &str, chunk: &Range<usize>) -> Option<&'static str> {
    let src = text.get(chunk.clone())?;
    src.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .and_then(|l| {
            let word = l.split(|c: char| !is_ident_char(c)).next().unwrap_or("");
            ITEM_WORDS.iter().copied().find(|w| *w == word)
        })
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 30 {
        let cut: String = s.chars().take(27).collect();
        format!("{cut}...")
    } else {
        s.to_owned()
    }
}

/// Builds the diagnostic for a chunk that pest could not parse. `chunk` is the chunk's range in
/// `text`; pest's positions are relative to it.
pub fn from_pest(
    file: FileId,
    text: &str,
    chunk: Range<usize>,
    comments: &[Comment],
    err: &pest::error::Error<Rule>,
) -> Diagnostic {
    let rel = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let pos = (chunk.start + rel).min(chunk.end);
    let positives: Vec<Rule> = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };

    let found = token_at(text, pos).filter(|&(s, _)| s < chunk.end);
    let found_text = found.and_then(|(s, e)| text.get(s..e)).unwrap_or("");
    let prev = prev_end(text, chunk.start, pos, comments)
        .and_then(|end| token_before(text, chunk.start, end));
    let prev_text = prev.and_then(|(s, e)| text.get(s..e)).unwrap_or("");
    let kind = item_kind(text, &chunk);

    let mut wants: Vec<Want> = positives.iter().map(|&r| want(r)).collect();
    wants.sort();
    wants.dedup();
    if wants.iter().any(|w| *w != Want::Continuation) {
        wants.retain(|w| *w != Want::Continuation);
    }
    if wants.contains(&Want::Value) {
        wants.retain(|w| !matches!(w, Want::Name | Want::Text | Want::Number | Want::Duration));
    }
    if wants.contains(&Want::Type) {
        wants.retain(|w| *w != Want::Word("`many` or `one`"));
    }
    let wants_condition = matches!(
        prev_text,
        "and" | "or" | "not" | "where" | "when" | "&&" | "||" | "!"
    );

    let at_stop = found.is_none() || matches!(found_text, "}" | ")" | "]") || {
        ITEM_WORDS.contains(&found_text)
    };

    let span_at = |r: Option<(usize, usize)>| match r {
        Some((s, e)) => Span::new(file, s, e),
        None => Span::new(file, pos, pos),
    };
    let found_span = span_at(found);
    let found_label = if found.is_none() {
        if chunk.end >= text.len() {
            "the file ends here".to_owned()
        } else {
            "the next item starts here".to_owned()
        }
    } else {
        format!("unexpected `{}`", shorten(found_text))
    };

    // `percentile of arr >= 80% within region`: `within` belongs right after the ranked value.
    if found_text == "within" || prev_text == "within" {
        let within_at = if found_text == "within" { found } else { prev };
        if let Some(d) = misplaced_within(file, text, within_at) {
            return d;
        }
    }

    // A trailing `and` / `or`.
    if matches!(prev_text, "and" | "or") && wants.contains(&Want::Value) && at_stop {
        let word_span = span_at(prev);
        return Diagnostic::new(
            Code::E0107,
            word_span,
            format!("expected a condition after `{prev_text}`"),
        )
        .label(format!("nothing follows this `{prev_text}`"))
        .help(format!(
            "add the missing condition after `{prev_text}`, or remove the `{prev_text}`"
        ));
    }

    let phrases: Vec<String> = wants
        .iter()
        .filter_map(|w| match w {
            Want::Value if wants_condition => Some("a condition".to_owned()),
            Want::Value => Some("a value".to_owned()),
            Want::Type => Some("a field type such as `text`, `integer` or `date`".to_owned()),
            Want::Member => Some("a field such as `email: text`".to_owned()),
            Want::TierRow => Some("a tier such as `large when arr > 100_000`".to_owned()),
            Want::ScoreRule => Some("a rule such as `+10 when plan is pro`".to_owned()),
            Want::TestStep => {
                Some("a test step (`as of`, a record, `data`, `with` or `expect`)".to_owned())
            }
            Want::RecordField => Some("a field value such as `plan: pro`".to_owned()),
            Want::Expectation => Some("`in`, `not in` or `.` and a name".to_owned()),
            Want::Item => Some(
                "`entity`, `segment`, `define`, `param`, `tiers`, `score` or `test`".to_owned(),
            ),
            Want::Name => Some("a name".to_owned()),
            Want::Text => Some("a text in double quotes, such as `\"EMEA\"`".to_owned()),
            Want::Number => Some("a number".to_owned()),
            Want::Duration => Some("a duration such as `30 days`".to_owned()),
            Want::Word(w) => Some((*w).to_owned()),
            Want::Meta => None,
            Want::End => Some("the end of the file".to_owned()),
            Want::Continuation => Some("more of this line".to_owned()),
        })
        .collect();

    let only_brace = !wants.is_empty()
        && wants
            .iter()
            .all(|w| matches!(w, Want::Word("`{`") | Want::Word("`of`")));
    let prev_is_name = prev
        .and_then(|(s, _)| text.get(s..))
        .and_then(|t| t.chars().next())
        .is_some_and(|c| is_ident_char(c) || c == '`');
    let message = if only_brace && prev_is_name && kind.is_some() {
        format!("expected `{{` after the {} name", kind.unwrap_or("item"))
    } else if phrases.is_empty() {
        format!("unexpected `{}`", shorten(found_text))
    } else if prev.is_some() {
        format!("expected {} after `{}`", join(&phrases), shorten(prev_text))
    } else {
        format!("expected {}", join(&phrases))
    };

    let mut d = Diagnostic::new(Code::E0100, found_span, message).label(found_label);
    if RESERVED.contains(&found_text) && wants.contains(&Want::Name) {
        d = d.help(format!(
            "`{found_text}` is a reserved word; to use it as a name, put it in backticks: \
             `` `{found_text}` ``"
        ));
    } else if wants.contains(&Want::Value) {
        d = d.help(if wants_condition {
            "a condition compares a value, for example `plan is pro` or `arr >= 50_000`"
        } else {
            "a value is a number, a text in quotes, a date, a field name or a calculation"
        });
    } else if wants.contains(&Want::Type) {
        d = d.help(
            "the field types are `text`, `integer`, `decimal`, `number`, `boolean`, `date`, \
             `timestamp`, `duration`, `one of A, B, C` and `list of TYPE`",
        );
    } else if wants.contains(&Want::Item) {
        d = d.help(
            "each item starts at the beginning of a line with `entity`, `segment`, `define`, \
             `param`, `tiers`, `score` or `test`",
        );
    }
    d
}

/// `percentile of arr >= 80% within region` → `percentile of arr within region >= 80%`.
fn misplaced_within(
    file: FileId,
    text: &str,
    within: Option<(usize, usize)>,
) -> Option<Diagnostic> {
    let (start, end) = within?;
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let line = text.get(line_start..line_end)?;
    let pattern = regex::Regex::new(
        r"(?P<head>(?:percentile|rank|quintile|quartile|decile|ntile\(\d+\)|share of total|cumulative share)\s+(?:of\s+)?[\p{L}\p{N}_.`]+)\s*(?P<test>(?:>=|<=|!=|=|<|>|is\s+\S+)\s*[^\s]+)\s+within\s+(?P<group>[\p{L}\p{N}_.`]+)",
    )
    .ok()?;
    let caps = pattern.captures(line)?;
    let whole = caps.get(0)?;
    let fixed = format!(
        "{} within {} {}",
        caps.name("head")?.as_str(),
        caps.name("group")?.as_str(),
        caps.name("test")?.as_str()
    );
    let span = Span::new(file, line_start + whole.start(), line_start + whole.end());
    Some(
        Diagnostic::new(
            Code::E0100,
            Span::new(file, start, end),
            "`within` must come right after the value being ranked",
        )
        .label("`within` is too late here")
        .help(format!("write `{fixed}`"))
        .fix(span, fixed),
    )
}

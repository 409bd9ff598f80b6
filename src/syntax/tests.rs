//! Unit tests of the syntax module: one per slip hint, recovery, and robustness.

use crate::diagnostics::Code;
use crate::source::FileId;
use crate::syntax::{ast, parse};

fn codes(text: &str) -> Vec<Code> {
    parse(FileId(0), text)
        .diagnostics
        .iter()
        .map(|d| d.code)
        .collect()
}

/// The only diagnostic of `text`, with its fix applied to the text.
fn fixed(text: &str, code: Code) -> String {
    let p = parse(FileId(0), text);
    assert_eq!(p.diagnostics.len(), 1, "{:#?}", p.diagnostics);
    let d = &p.diagnostics[0];
    assert_eq!(d.code, code, "{d:#?}");
    assert!(!d.message.ends_with('.'));
    assert!(d.message.starts_with(|c: char| !c.is_uppercase()));
    let fix = d.fix.as_ref().expect("a fix");
    let mut out = text.to_owned();
    out.replace_range(fix.span.range(), &fix.replacement);
    // The fixed text parses cleanly.
    assert!(parse(FileId(0), &out).diagnostics.is_empty(), "{out}");
    out
}

fn seg(cond: &str) -> String {
    format!("segment s {{\n  where {cond}\n}}\n")
}

#[test]
fn smart_quotes_and_dashes() {
    assert_eq!(
        fixed(&seg("region is “EMEA”"), Code::E0103),
        seg("region is \"EMEA\"")
    );
    assert_eq!(fixed(&seg("arr > –5"), Code::E0103), seg("arr > -5"));
    assert_eq!(fixed(&seg("arr – 5 > 0"), Code::E0103), seg("arr - 5 > 0"));
    // Inside text and comments they are fine.
    assert!(codes(&seg("name is \"“x” – y\" # “quoted” — note")).is_empty());
}

#[test]
fn symbol_logic() {
    assert_eq!(fixed(&seg("a && b"), Code::E0104), seg("a and b"));
    assert_eq!(fixed(&seg("a || b"), Code::E0104), seg("a or b"));
    assert_eq!(fixed(&seg("!a"), Code::E0104), seg("not a"));
    assert!(codes(&seg("a != b")).is_empty());
}

#[test]
fn double_equals() {
    assert_eq!(fixed(&seg("plan == pro"), Code::E0105), seg("plan = pro"));
    assert_eq!(fixed("define x == 1", Code::E0105), "define x = 1");
}

#[test]
fn thousands_separator() {
    assert_eq!(
        fixed(&seg("arr > 10,000"), Code::E0106),
        seg("arr > 10_000")
    );
    // In a list, `100,200` is two numbers.
    let p = parse(FileId(0), &seg("seats is any of [100,200]"));
    assert!(p.diagnostics.is_empty());
}

#[test]
fn trailing_and_or() {
    assert_eq!(codes(&seg("a and")), vec![Code::E0107]);
    assert_eq!(codes(&seg("a or")), vec![Code::E0107]);
    let p = parse(FileId(0), &seg("a and"));
    assert_eq!(p.diagnostics[0].message, "expected a condition after `and`");
}

#[test]
fn missing_where() {
    assert_eq!(
        fixed("segment s {\n  plan is pro\n}\n", Code::E0108),
        "segment s {\n  where plan is pro\n}\n"
    );
}

#[test]
fn merge_markers() {
    let text =
        "<<<<<<< HEAD\nsegment a { where x }\n=======\nsegment a { where y }\n>>>>>>> other\n";
    assert_eq!(codes(text), vec![Code::E0109, Code::E0109, Code::E0109]);
}

#[test]
fn brackets_and_quotes() {
    assert_eq!(codes(&seg("(a or b")), vec![Code::E0101]);
    let p = parse(FileId(0), &seg("(a or b"));
    assert_eq!(p.diagnostics[0].primary.span.len(), 1);
    assert_eq!(codes(&seg("a or b)")), vec![Code::E0110]);
    assert_eq!(codes(&seg("name is \"abc")), vec![Code::E0102]);
    assert_eq!(codes(&seg("`odd name > 1")), vec![Code::E0102]);
    assert_eq!(
        fixed(&seg("name is \"a\\qb\""), Code::E0111),
        seg("name is \"a\\\\qb\"")
    );
}

#[test]
fn plain_words_for_other_errors() {
    let p = parse(FileId(0), &seg("arr >="));
    assert_eq!(p.diagnostics[0].code, Code::E0100);
    assert_eq!(p.diagnostics[0].message, "expected a value after `>=`");
    let p = parse(FileId(0), "segment s\n  where a\n");
    assert_eq!(
        p.diagnostics[0].message,
        "expected `{` after the segment name"
    );
    let p = parse(FileId(0), "entity e {\n  key id: 42\n}\n");
    assert_eq!(
        p.diagnostics[0].message,
        "expected a field type such as `text`, `integer` or `date` after `:`"
    );
    let p = parse(FileId(0), "segment in { where a }\n");
    assert_eq!(p.diagnostics[0].message, "expected a name after `segment`");
    assert!(
        p.diagnostics[0]
            .help
            .as_deref()
            .unwrap_or("")
            .contains("backticks")
    );
    for d in &p.diagnostics {
        assert!(!d.message.contains("kw_") && !d.message.contains("expr"));
    }
}

#[test]
fn recovery_reports_every_broken_item() {
    let text = "segment a {\n  where x >=\n}\n\nsegment b {\n  where y is known\n}\n\n\
                segment c {\n  where z and\n}\n\ndefine d = count(orders\n\ntest \"t\" {\n}\n";
    let p = parse(FileId(0), text);
    let got: Vec<Code> = p.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(got, vec![Code::E0100, Code::E0107, Code::E0101]);
    let names: Vec<&str> = p
        .file
        .items
        .iter()
        .map(|i| match i {
            ast::Item::Segment(s) => s.name.name.as_str(),
            ast::Item::Test(t) => t.name.value.as_str(),
            _ => "?",
        })
        .collect();
    assert_eq!(names, vec!["b", "t"]);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("define x = {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert_eq!(codes(&deep), vec![Code::E0004]);
    let unclosed = format!("define x = {}", "(".repeat(10_000));
    assert!(codes(&unclosed).contains(&Code::E0004));
    let nots = format!("define x = {}a", "not ".repeat(1_000));
    assert_eq!(codes(&nots), vec![Code::E0004]);
    // The limit itself still parses.
    let ok = format!("define x = {}1{}", "(".repeat(200), ")".repeat(200));
    assert!(codes(&ok).is_empty());
}

#[test]
fn comments_are_collected() {
    let p = parse(
        FileId(0),
        "# one\nsegment s { # two\n  where a # three\n}\n",
    );
    let texts: Vec<&str> = p.file.comments.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, vec![" one", " two", " three"]);
}

mod never_panics {
    use proptest::prelude::*;

    use crate::source::FileId;
    use crate::syntax::{dump, parse};

    const VALID: &str = include_str!("../../tests/fixtures/parse/doc_example.segl");

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn arbitrary_text(s in "\\PC{0,200}") {
            let p = parse(FileId(0), &s);
            let _ = dump(&p.file);
        }

        #[test]
        fn arbitrary_segl_ish(s in "[a-z {}()\\[\\]\"`#,.:=<>!&|+*/%0-9\n–“”-]{0,120}") {
            let p = parse(FileId(0), &format!("segment s {{ where {s} }}"));
            let _ = dump(&p.file);
        }

        #[test]
        fn mutated_valid_program(
            edits in proptest::collection::vec((0usize..2000, 0usize..8, "\\PC{0,4}"), 1..6)
        ) {
            let mut text = VALID.to_owned();
            for (at, del, ins) in edits {
                let mut at = at % (text.len() + 1);
                while !text.is_char_boundary(at) { at -= 1; }
                let mut end = (at + del).min(text.len());
                while !text.is_char_boundary(end) { end -= 1; }
                text.replace_range(at..end, &ins);
            }
            let p = parse(FileId(0), &text);
            let _ = dump(&p.file);
            for d in &p.diagnostics {
                prop_assert!(d.primary.span.end as usize <= text.len());
                prop_assert!(d.primary.span.start <= d.primary.span.end);
            }
        }
    }
}

#[test]
fn long_chains_do_not_overflow() {
    let text = format!("define x = a{}", " and a".repeat(20_000));
    let p = parse(FileId(0), &text);
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(p.diagnostics[0].code, Code::E0004);
    // Up to the limit the chain is kept, and the tree can be walked and dropped.
    let text = format!("define x = a{}", " and a".repeat(499));
    let p = parse(FileId(0), &text);
    assert!(p.diagnostics.is_empty());
    let _ = crate::syntax::dump(&p.file);
    drop(p);
}

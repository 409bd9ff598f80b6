//! `segl diff` output: a text for people, one JSON document, and Markdown for a pull-request
//! comment (tables, with details folded away).

use std::fmt::Write as _;

use super::definitions::Change;
use super::snapshot::RuleKind;
use super::{Diff, EntityDiff, ItemDiff, RuleDiff, Status};
use crate::diagnostics::thousands;

fn count(n: u64) -> String {
    thousands(n)
}

/// `1 record`, `12 records`.
fn records(n: u64) -> String {
    format!("{} {}", count(n), if n == 1 { "record" } else { "records" })
}

/// `+12`, `-3`, or `0`.
fn signed(sign: char, n: u64) -> String {
    if n == 0 {
        "0".to_owned()
    } else {
        format!("{sign}{}", count(n))
    }
}

fn percent(p: f64) -> String {
    format!("{p:.1}%")
}

fn status_words(r: &RuleDiff) -> String {
    match &r.status {
        Status::Unchanged => "same definition".to_owned(),
        Status::Changed => "definition changed".to_owned(),
        Status::Added => "new".to_owned(),
        Status::Removed => "removed".to_owned(),
        Status::Renamed { from } => format!("renamed from `{from}`"),
    }
}

fn kind_plural(kind: RuleKind, n: usize) -> String {
    let word = match (kind, n == 1) {
        (RuleKind::Segment, true) => "segment",
        (RuleKind::Segment, false) => "segments",
        (RuleKind::Tiers, true) => "tier set",
        (RuleKind::Tiers, false) => "tier sets",
        (RuleKind::Score, true) => "score",
        (RuleKind::Score, false) => "scores",
    };
    format!("{n} {word}")
}

/// "2 of 31 segments, 1 of 4 tier sets changed" or "nothing changed".
fn headline(diff: &Diff) -> String {
    let mut parts = Vec::new();
    for kind in [RuleKind::Segment, RuleKind::Tiers, RuleKind::Score] {
        let all: Vec<&RuleDiff> = diff
            .entities
            .iter()
            .flat_map(|e| e.rules.iter())
            .filter(|r| r.kind == kind)
            .collect();
        let changed = all.iter().filter(|r| r.is_changed()).count();
        if changed > 0 {
            parts.push(format!("{changed} of {}", kind_plural(kind, all.len())));
        }
    }
    if !diff.definitions.is_empty() {
        let n = diff.definitions.len();
        parts.push(format!(
            "{n} {}",
            if n == 1 {
                "definition or parameter"
            } else {
                "definitions or parameters"
            }
        ));
    }
    if parts.is_empty() && !diff.has_changes() {
        return "nothing changed: every segment, tier set and score has the same members"
            .to_owned();
    }
    let mut line = if parts.is_empty() {
        "records changed".to_owned()
    } else {
        format!("{} changed", parts.join(", "))
    };
    if !diff.outcomes_changed() {
        line.push_str("; no record's membership, tier or score changed");
    } else if let Some((name, p)) = diff.largest_change() {
        let _ = write!(line, "; largest change: `{name}` ({})", percent(p));
    }
    line
}

fn keys_line(keys: &[String], total: u64) -> String {
    let mut s = keys.join(", ");
    if total > keys.len() as u64 {
        s.push_str(", …");
    }
    s
}

/// How many moves (from one tier to another) the text for people gives example keys for.
const MOVES: usize = 10;

/// The width the text for people is laid out in when segl does not write to a terminal.
pub const WIDTH: usize = 120;

/// The text for people, laid out for a terminal `width` characters wide (definitions side by
/// side; any width from 60 up works).
#[must_use]
pub fn human(diff: &Diff, width: usize) -> String {
    let layout = Layout {
        width: width.max(60),
        before: &diff.before,
        after: &diff.after,
    };
    let mut out = String::new();
    let _ = writeln!(out, "segl diff: {} → {}", diff.before, diff.after);
    for line in &diff.context {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "\n{}", headline(diff));
    for e in &diff.entities {
        human_entity(&mut out, e, diff.rules_compared, &layout);
    }
    if !diff.definitions.is_empty() {
        let _ = writeln!(out, "\ndefinitions and parameters");
        for d in &diff.definitions {
            let _ = writeln!(out, "\n  {} {}: {}", d.kind.word(), d.name, item_status(d));
            side_by_side(&mut out, &d.definition, &layout);
        }
    }
    out
}

/// How the text for people is laid out: its width and the names of the two sides.
struct Layout<'a> {
    width: usize,
    before: &'a str,
    after: &'a str,
}

/// Where definitions start, and what separates the two columns.
const INDENT: &str = "    ";
const GUTTER: &str = " │ ";

/// A definition before and after in two columns. A changed line is marked `-` on the left and
/// `+` on the right and wrapped when it is longer than its column (continued after `↪`), so no
/// part of a change is hidden; a line that is the same on both sides is cut with `…`.
fn side_by_side(out: &mut String, change: &Change, layout: &Layout<'_>) {
    let rows = change.side_by_side();
    // Each column: a mark, a space, then the text.
    let room = (layout.width - INDENT.chars().count() - GUTTER.chars().count()) / 2;
    let longest = rows
        .iter()
        .flat_map(|r| [r.before.as_deref(), r.after.as_deref()])
        .flatten()
        .map(|t| t.chars().count())
        .chain([
            "before: ".len() + layout.before.chars().count(),
            "after: ".len() + layout.after.chars().count(),
        ])
        .max()
        .unwrap_or(0);
    let column = (longest + 2).min(room).max(12);
    let text_width = column - 2;
    let cell = |mark: char, text: &str| -> String {
        let mut s = format!("{mark} {text}");
        let n = s.chars().count();
        if n < column {
            s.extend(std::iter::repeat_n(' ', column - n));
        }
        s
    };
    let head = |label: &str| cut(label, text_width);
    let line = format!(
        "{INDENT}{}{GUTTER}{}",
        cell(' ', &head(&format!("before: {}", layout.before))),
        cell(' ', &head(&format!("after: {}", layout.after)))
    );
    let _ = writeln!(out, "{}", line.trim_end());
    for row in rows {
        let (left, right): (Vec<String>, Vec<String>) = if row.changed {
            (
                row.before
                    .as_deref()
                    .map(|t| wrap(t, text_width))
                    .unwrap_or_default(),
                row.after
                    .as_deref()
                    .map(|t| wrap(t, text_width))
                    .unwrap_or_default(),
            )
        } else {
            let same = |t: &Option<String>| vec![cut(t.as_deref().unwrap_or(""), text_width)];
            (same(&row.before), same(&row.after))
        };
        let (lmark, rmark) = if row.changed { ('-', '+') } else { (' ', ' ') };
        for i in 0..left.len().max(right.len()) {
            let l = left
                .get(i)
                .map_or_else(|| " ".repeat(column), |t| cell(lmark, t));
            let r = right.get(i).map_or_else(String::new, |t| cell(rmark, t));
            let line = format!("{INDENT}{l}{GUTTER}{r}");
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
}

/// The text cut to `width` characters, ending in `…` when something was cut.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// The text in pieces of at most `width` characters, broken at a space where one is near the
/// end; every piece after the first starts with `↪ `.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut pieces = Vec::new();
    let mut rest: Vec<char> = text.chars().collect();
    let mut first = true;
    loop {
        let room = if first { width } else { width - 2 };
        if rest.len() <= room {
            let piece: String = rest.iter().collect();
            pieces.push(if first { piece } else { format!("↪ {piece}") });
            return pieces;
        }
        let at = (room / 2..room)
            .rev()
            .find(|i| rest.get(*i) == Some(&' '))
            .map_or(room, |i| i + 1);
        let piece: String = rest
            .iter()
            .take(at)
            .collect::<String>()
            .trim_end()
            .to_owned();
        pieces.push(if first { piece } else { format!("↪ {piece}") });
        rest.drain(..at);
        while rest.first() == Some(&' ') {
            rest.remove(0);
        }
        first = false;
        if rest.is_empty() {
            return pieces;
        }
    }
}

fn item_status(d: &ItemDiff) -> &'static str {
    match d.status {
        Status::Added => "new",
        Status::Removed => "removed",
        _ => "changed",
    }
}

fn human_entity(out: &mut String, e: &EntityDiff, diff_rules: bool, layout: &Layout<'_>) {
    let records =
        if e.records_before == e.records_after && e.records_added == 0 && e.records_removed == 0 {
            format!("{} records", count(e.records_after))
        } else {
            format!(
                "{} → {} records ({} new, {} gone)",
                count(e.records_before),
                count(e.records_after),
                count(e.records_added),
                count(e.records_removed)
            )
        };
    let _ = writeln!(out, "\n{}: {records}", e.entity);
    let changed: Vec<&RuleDiff> = e.rules.iter().filter(|r| r.is_changed()).collect();
    let unchanged = e.rules.len() - changed.len();
    let segments: Vec<&&RuleDiff> = changed
        .iter()
        .filter(|r| r.kind == RuleKind::Segment)
        .collect();
    if !segments.is_empty() {
        let width = segments
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(7)
            .max(7);
        let _ = writeln!(
            out,
            "\n  {:width$}  {:>8}  {:>8}  {:>8}  {:>8}  {:>7}",
            "segment", "before", "after", "entered", "left", "change"
        );
        for r in &segments {
            if let Some(s) = &r.segment {
                let line = format!(
                    "  {:width$}  {:>8}  {:>8}  {:>8}  {:>8}  {:>7}  {}",
                    r.name,
                    count(s.members_before),
                    count(s.members_after),
                    signed('+', s.entered),
                    signed('-', s.left),
                    percent(r.change_percent),
                    if diff_rules {
                        status_words(r)
                    } else {
                        String::new()
                    }
                );
                let _ = writeln!(out, "{}", line.trim_end());
            }
        }
    }
    for r in &changed {
        human_rule(out, r, diff_rules, layout);
    }
    if unchanged > 0 {
        let _ = writeln!(
            out,
            "\n  {unchanged} {} of {} unchanged",
            if unchanged == 1 { "rule" } else { "rules" },
            e.entity
        );
    }
}

fn human_rule(out: &mut String, r: &RuleDiff, diff_rules: bool, layout: &Layout<'_>) {
    let title = r
        .title
        .as_deref()
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    if diff_rules {
        let _ = writeln!(
            out,
            "\n  {} {}{title}: {}",
            r.kind.word(),
            r.name,
            status_words(r)
        );
    } else {
        let _ = writeln!(out, "\n  {} {}{title}", r.kind.word(), r.name);
    }
    if let Some(change) = &r.definition {
        side_by_side(out, change, layout);
    }
    if let Some(s) = &r.segment {
        if s.entered > 0 {
            let _ = writeln!(
                out,
                "    entered {}: {}",
                count(s.entered),
                keys_line(&s.entered_examples, s.entered)
            );
        }
        if s.left > 0 {
            let _ = writeln!(
                out,
                "    left {}: {}",
                count(s.left),
                keys_line(&s.left_examples, s.left)
            );
        }
    }
    if let Some(t) = &r.tiers {
        let _ = writeln!(
            out,
            "    {} changed tier ({})",
            records(t.moved),
            percent(r.change_percent)
        );
        let rows: Vec<&super::TierCount> =
            t.tiers.iter().filter(|c| c.entered + c.left > 0).collect();
        let width = rows
            .iter()
            .map(|c| c.tier.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let _ = writeln!(
            out,
            "    {:width$}  {:>8}  {:>8}  {:>8}  {:>8}",
            "tier", "before", "after", "entered", "left"
        );
        for c in rows {
            let _ = writeln!(
                out,
                "    {:width$}  {:>8}  {:>8}  {:>8}  {:>8}",
                c.tier,
                count(c.before),
                count(c.after),
                signed('+', c.entered),
                signed('-', c.left)
            );
        }
        human_matrix(out, t);
        if !t.moves.is_empty() {
            let _ = writeln!(
                out,
                "    {}, with example keys:",
                if t.moves.len() > MOVES {
                    format!("the {MOVES} largest of {} moves", t.moves.len())
                } else {
                    "moves".to_owned()
                }
            );
        }
        for m in t.moves.iter().take(MOVES) {
            let _ = writeln!(
                out,
                "      {} → {}: {} ({})",
                m.from,
                m.to,
                count(m.records),
                keys_line(&m.examples, m.records)
            );
        }
    }
    if let Some(s) = &r.score {
        let _ = writeln!(
            out,
            "    {} changed ({} up, {} down); average {:.1} → {:.1}",
            records(s.changed),
            count(s.raised),
            count(s.lowered),
            s.mean_before,
            s.mean_after
        );
        if !s.examples.is_empty() {
            let ex: Vec<String> = s
                .examples
                .iter()
                .map(|(k, x, y)| format!("{k} {x} → {y}"))
                .collect();
            let more = if s.changed > s.examples.len() as u64 {
                ", …"
            } else {
                ""
            };
            let _ = writeln!(out, "    {}{more}", ex.join(", "));
        }
    }
}

/// The whole transition matrix: one row per tier before, one column per tier after, columns
/// numbered as the rows; `·` where no record moved.
fn human_matrix(out: &mut String, t: &super::TierChange) {
    let n = t.labels.len();
    let number_width = n.to_string().len();
    let label_width = t
        .labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .max("before ↓  after →".chars().count() - number_width - 1);
    let cell = |f: usize, to: usize| -> String {
        match t
            .counts
            .get(f)
            .and_then(|r| r.get(to))
            .copied()
            .unwrap_or(0)
        {
            0 => "·".to_owned(),
            c => count(c),
        }
    };
    let widths: Vec<usize> = (0..n)
        .map(|to| {
            (0..n)
                .map(|f| cell(f, to).chars().count())
                .max()
                .unwrap_or(1)
                .max((to + 1).to_string().len())
        })
        .collect();
    let _ = writeln!(
        out,
        "    records per tier before (rows) and after (columns, numbered as the rows):"
    );
    let mut head = format!(
        "      {:w$}",
        "before ↓  after →",
        w = label_width + number_width + 1
    );
    for (to, w) in widths.iter().enumerate() {
        let _ = write!(head, "  {:>w$}", to + 1);
    }
    let _ = writeln!(out, "{}", head.trim_end());
    for (f, label) in t.labels.iter().enumerate() {
        let mut line = format!("      {:>number_width$} {label:label_width$}", f + 1);
        for (to, w) in widths.iter().enumerate() {
            let _ = write!(line, "  {:>w$}", cell(f, to));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// One JSON document.
#[must_use]
pub fn json(diff: &Diff) -> String {
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        changed: bool,
        outcomes_changed: bool,
        definitions_changed: bool,
        #[serde(flatten)]
        diff: &'a Diff,
    }
    let mut text = serde_json::to_string_pretty(&Doc {
        changed: diff.has_changes(),
        outcomes_changed: diff.outcomes_changed(),
        definitions_changed: diff.definitions_changed(),
        diff,
    })
    .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// Escapes text for a Markdown table cell or an HTML summary.
fn md(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
}

fn md_code(text: &str) -> String {
    format!("<code>{}</code>", md(text))
}

fn md_keys(keys: &[String], total: u64) -> String {
    let mut s = keys
        .iter()
        .map(|k| md_code(k))
        .collect::<Vec<_>>()
        .join(", ");
    if total > keys.len() as u64 {
        s.push_str(", …");
    }
    s
}

/// How long the Markdown may get: a GitHub comment holds at most 65,536 characters, and a
/// workflow may add a line of its own.
pub const MARKDOWN_LIMIT: usize = 60_000;

/// Room kept for the closing note of a Markdown text that had to be cut.
const NOTE_ROOM: usize = 600;

/// Markdown built block by block, as long as it stays within a number of characters; what no
/// longer fits is counted instead.
struct Budget {
    text: String,
    chars: usize,
    limit: usize,
    full: bool,
    rows_left_out: usize,
    details_left_out: usize,
    definitions_left_out: usize,
}

impl Budget {
    fn new(limit: usize) -> Budget {
        Budget {
            text: String::new(),
            chars: 0,
            limit,
            full: false,
            rows_left_out: 0,
            details_left_out: 0,
            definitions_left_out: 0,
        }
    }

    /// Adds a whole block, or nothing once a block did not fit (so the text stays in order).
    fn push(&mut self, block: &str) -> bool {
        let n = block.chars().count();
        if self.full || self.chars + n > self.limit {
            self.full = true;
            return false;
        }
        self.text.push_str(block);
        self.chars += n;
        true
    }

    /// The text, with a note on what was left out when something was.
    fn finish(mut self) -> String {
        if !self.full {
            return self.text;
        }
        let mut parts = Vec::new();
        let rules = |n: usize| if n == 1 { "rule" } else { "rules" };
        if self.rows_left_out > 0 {
            parts.push(format!(
                "{} more changed {} in the tables",
                count(self.rows_left_out as u64),
                rules(self.rows_left_out)
            ));
        }
        if self.details_left_out > 0 {
            parts.push(format!(
                "the details of {} changed {}",
                count(self.details_left_out as u64),
                rules(self.details_left_out)
            ));
        }
        if self.definitions_left_out > 0 {
            parts.push(format!(
                "{} changed {}",
                count(self.definitions_left_out as u64),
                if self.definitions_left_out == 1 {
                    "definition or parameter"
                } else {
                    "definitions or parameters"
                }
            ));
        }
        let _ = writeln!(
            self.text,
            "\n---\n\n**This comparison is cut short** to fit in a GitHub comment (at most 65,536 \
             characters). Not shown: {}. `segl diff --format json` has every rule.",
            if parts.is_empty() {
                "the list of unchanged rules".to_owned()
            } else {
                parts.join("; ")
            }
        );
        self.text
    }
}

/// Markdown for a pull-request comment, at most [`MARKDOWN_LIMIT`] characters long.
#[must_use]
pub fn markdown(diff: &Diff) -> String {
    markdown_within(diff, MARKDOWN_LIMIT)
}

/// Markdown for a pull-request comment, at most about `limit` characters long: when the whole
/// comparison is longer, it stops before the first block that does not fit and says what it
/// left out.
#[must_use]
pub fn markdown_within(diff: &Diff, limit: usize) -> String {
    let mut out = Budget::new(limit.saturating_sub(NOTE_ROOM));
    let mut head = String::new();
    let _ = writeln!(
        head,
        "### segl diff: {} → {}\n",
        md(&diff.before),
        md(&diff.after)
    );
    for line in &diff.context {
        let _ = writeln!(head, "{}  ", md(line));
    }
    let _ = writeln!(head, "\n**{}**", md(&headline(diff)).replace('`', ""));
    out.push(&head);
    for e in &diff.entities {
        let changed: Vec<&RuleDiff> = e.rules.iter().filter(|r| r.is_changed()).collect();
        out.push(&format!(
            "\n#### {} ({} records{})\n\n",
            md(&e.entity),
            count(e.records_after),
            if e.records_added + e.records_removed > 0 {
                format!(
                    ", {} new, {} gone",
                    count(e.records_added),
                    count(e.records_removed)
                )
            } else {
                String::new()
            }
        ));
        if changed.is_empty() {
            out.push("No segment, tier set or score changed.\n");
        } else {
            out.push(if diff.rules_compared {
                "| rule | status | before | after | entered | left | change |\n|---|---|---:|---:|---:|---:|---:|\n"
            } else {
                "| rule | before | after | entered | left | change |\n|---|---:|---:|---:|---:|---:|\n"
            });
            for r in &changed {
                if !out.push(&markdown_row(r, diff.rules_compared)) {
                    out.rows_left_out += 1;
                }
            }
            for r in &changed {
                let mut block = String::new();
                markdown_details(&mut block, r, diff);
                if !out.push(&block) {
                    out.details_left_out += 1;
                }
            }
        }
        let unchanged: Vec<&RuleDiff> = e.rules.iter().filter(|r| !r.is_changed()).collect();
        if !unchanged.is_empty() {
            let names: Vec<String> = unchanged
                .iter()
                .map(|r| format!("{} {}", r.kind.word(), md_code(&r.name)))
                .collect();
            out.push(&format!(
                "\n<details><summary>{} unchanged</summary>\n\n{}\n\n</details>\n",
                unchanged.len(),
                names.join(", ")
            ));
        }
    }
    if !diff.definitions.is_empty() {
        out.push("\n#### Definitions and parameters\n\n");
        for d in &diff.definitions {
            let mut block = format!(
                "<details><summary>{} {}: {}</summary>\n\n",
                d.kind.word(),
                md_code(&d.name),
                item_status(d)
            );
            markdown_side_by_side(&mut block, &d.definition, diff);
            block.push_str("\n</details>\n");
            if !out.push(&block) {
                out.definitions_left_out += 1;
            }
        }
    }
    out.finish()
}

/// One row of the table of changed rules.
fn markdown_row(r: &RuleDiff, rules_compared: bool) -> String {
    let (before, after, entered, left) = match (&r.segment, &r.tiers, &r.score) {
        (Some(s), _, _) => (
            count(s.members_before),
            count(s.members_after),
            signed('+', s.entered),
            signed('−', s.left),
        ),
        (_, Some(t), _) => (
            String::new(),
            String::new(),
            format!("{} moved", count(t.moved)),
            String::new(),
        ),
        (_, _, Some(s)) => (
            format!("avg {:.1}", s.mean_before),
            format!("avg {:.1}", s.mean_after),
            format!("{} up", count(s.raised)),
            format!("{} down", count(s.lowered)),
        ),
        _ => Default::default(),
    };
    let status = if rules_compared {
        format!(" {} |", md(&status_words(r)).replace('`', ""))
    } else {
        String::new()
    };
    format!(
        "| {} {} |{status} {before} | {after} | {entered} | {left} | {} |\n",
        r.kind.word(),
        md_code(&r.name),
        percent(r.change_percent)
    )
}

/// A code span for a table cell, without HTML: the fence is longer than any run of backticks in
/// the text, `|` is escaped (GitHub splits cells at it even inside code), and leading spaces
/// become no-break spaces so indentation shows.
fn md_code_span(text: &str) -> String {
    let indent = text.chars().take_while(|c| *c == ' ').count();
    let text = format!("{}{}", "\u{a0}".repeat(indent), &text[indent..]).replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// A definition before and after as a two-column table; changed lines are marked `-` and `+`
/// and set in bold.
fn markdown_side_by_side(out: &mut String, change: &Change, diff: &Diff) {
    let _ = writeln!(
        out,
        "| before: {} | after: {} |\n|---|---|",
        md(&diff.before),
        md(&diff.after)
    );
    let cell = |mark: char, text: Option<&str>| -> String {
        match text {
            None => String::new(),
            Some(t) if t.trim().is_empty() => String::new(),
            Some(t) if mark == ' ' => md_code_span(t),
            Some(t) => format!("**{mark}** {}", md_code_span(t)),
        }
    };
    for row in change.side_by_side() {
        let (l, r) = if row.changed { ('-', '+') } else { (' ', ' ') };
        let _ = writeln!(
            out,
            "| {} | {} |",
            cell(l, row.before.as_deref()),
            cell(r, row.after.as_deref())
        );
    }
}

fn markdown_details(out: &mut String, r: &RuleDiff, diff: &Diff) {
    let _ = writeln!(
        out,
        "\n<details><summary>{} {}{}</summary>\n",
        r.kind.word(),
        md_code(&r.name),
        r.title
            .as_deref()
            .map(|t| format!(" ({})", md(t)))
            .unwrap_or_default()
    );
    if let Some(change) = &r.definition {
        markdown_side_by_side(out, change, diff);
        out.push('\n');
    }
    if let Some(s) = &r.segment {
        if s.entered > 0 {
            let _ = writeln!(
                out,
                "Entered ({}): {}  ",
                count(s.entered),
                md_keys(&s.entered_examples, s.entered)
            );
        }
        if s.left > 0 {
            let _ = writeln!(
                out,
                "Left ({}): {}  ",
                count(s.left),
                md_keys(&s.left_examples, s.left)
            );
        }
    }
    if let Some(t) = &r.tiers {
        // Only the tiers records moved from or to; the JSON output has the whole matrix.
        let involved: Vec<usize> = (0..t.labels.len())
            .filter(|i| {
                t.counts.iter().enumerate().any(|(f, row)| {
                    row.iter()
                        .enumerate()
                        .any(|(to, c)| *c > 0 && f != to && (f == *i || to == *i))
                })
            })
            .collect();
        if !involved.is_empty() {
            let mut head = "| before \\ after |".to_owned();
            let mut rule = "|---|".to_owned();
            for i in &involved {
                let _ = write!(
                    head,
                    " {} |",
                    md(t.labels.get(*i).map_or("", String::as_str))
                );
                rule.push_str("---:|");
            }
            let _ = writeln!(out, "{head}\n{rule}");
            for f in &involved {
                let cells: Vec<String> = involved
                    .iter()
                    .map(|to| {
                        count(
                            t.counts
                                .get(*f)
                                .and_then(|r| r.get(*to))
                                .copied()
                                .unwrap_or(0),
                        )
                    })
                    .collect();
                let label = t.labels.get(*f).map_or("", String::as_str);
                let _ = writeln!(out, "| **{}** | {} |", md(label), cells.join(" | "));
            }
        }
        if !t.moves.is_empty() {
            let _ = writeln!(out);
            for m in &t.moves {
                let _ = writeln!(
                    out,
                    "- {} → {}: {} ({})",
                    md(&m.from),
                    md(&m.to),
                    count(m.records),
                    md_keys(&m.examples, m.records)
                );
            }
        }
    }
    if let Some(s) = &r.score {
        let ex: Vec<String> = s
            .examples
            .iter()
            .map(|(k, x, y)| format!("{} {x} → {y}", md_code(k)))
            .collect();
        let _ = writeln!(
            out,
            "{} records changed ({} up, {} down); average {:.1} → {:.1}  \n{}",
            count(s.changed),
            count(s.raised),
            count(s.lowered),
            s.mean_before,
            s.mean_after,
            ex.join(", ")
        );
    }
    let _ = writeln!(out, "\n</details>");
}

#[cfg(test)]
mod tests {
    use super::super::SegmentChange;
    use super::*;

    /// A comparison of `n` segments whose definitions and members all changed.
    fn big(n: usize) -> Diff {
        let rules = (0..n)
            .map(|i| RuleDiff {
                name: format!("segment_number_{i:05}"),
                kind: RuleKind::Segment,
                title: Some(format!("Segment number {i}")),
                status: Status::Changed,
                definition: Some(Change::new(
                    &format!(
                        "segment segment_number_{i:05} {{\n  title \"Segment number {i}\"\n  where lifetime_value >= {i}\n}}\n"
                    ),
                    &format!(
                        "segment segment_number_{i:05} {{\n  title \"Segment number {i}\"\n  where lifetime_value >= {}\n}}\n",
                        i + 1
                    ),
                )),
                change_percent: 1.5,
                segment: Some(SegmentChange {
                    members_before: 200,
                    members_after: 197,
                    entered: 0,
                    left: 3,
                    entered_examples: Vec::new(),
                    left_examples: vec!["C1".into(), "C2".into(), "C3".into()],
                }),
                tiers: None,
                score: None,
            })
            .collect();
        Diff {
            before: "main (abc1234)".into(),
            after: "working tree".into(),
            rules_compared: true,
            context: vec!["as of 2026-11-20 (UTC)".into()],
            entities: vec![EntityDiff {
                entity: "customer".into(),
                records_before: 3000,
                records_after: 3000,
                records_added: 0,
                records_removed: 0,
                rules,
            }],
            definitions: Vec::new(),
        }
    }

    #[test]
    fn markdown_stays_within_a_github_comment() {
        let small = markdown(&big(3));
        assert!(!small.contains("cut short"), "{small}");
        let diff = big(2_000);
        let text = markdown(&diff);
        let chars = text.chars().count();
        assert!(chars <= MARKDOWN_LIMIT, "{chars} characters");
        assert!(chars > MARKDOWN_LIMIT - 2 * NOTE_ROOM, "{chars} characters");
        assert!(text.contains("**This comparison is cut short**"), "{text}");
        // Every folded block that was begun is closed, and the note counts what is missing.
        assert_eq!(
            text.matches("<details>").count(),
            text.matches("</details>").count()
        );
        let rows = text.matches("| segment <code>segment_number_").count();
        let details = text
            .matches("<summary>segment <code>segment_number_")
            .count();
        assert!(rows > 0);
        let note = text.rsplit("Not shown: ").next().unwrap();
        let missing_rows = 2_000 - rows;
        let missing_details = 2_000 - details;
        if missing_rows > 0 {
            assert!(
                note.contains(&format!(
                    "{} more changed rules",
                    thousands(missing_rows as u64)
                )),
                "{note}"
            );
        }
        assert!(
            note.contains(&format!(
                "the details of {} changed rules",
                thousands(missing_details as u64)
            )),
            "{note}"
        );
        // A smaller limit cuts earlier; the note still fits.
        let short = markdown_within(&diff, 5_000);
        assert!(short.chars().count() <= 5_000);
        assert!(short.contains("cut short"));
    }

    #[test]
    fn code_spans_survive_backticks_pipes_and_indentation() {
        assert_eq!(md_code_span("where a = 1"), "`where a = 1`");
        assert_eq!(
            md_code_span("  title \"a | b\""),
            "`\u{a0}\u{a0}title \"a \\| b\"`"
        );
        assert_eq!(md_code_span("say `hi`"), "`` say `hi` ``");
        assert_eq!(md_code_span("x `` y"), "```x `` y```");
    }

    #[test]
    fn side_by_side_fits_the_width_and_hides_no_change() {
        let mut diff = big(1);
        let long_before = format!(
            "segment segment_number_00000 {{\n  description \"{}\"\n  where lifetime_value >= 100 and country is any of [DE, AT, CH] and plan is pro\n}}\n",
            "a long unchanged description ".repeat(5)
        );
        let long_after = long_before.replace("plan is pro", "plan is enterprise");
        if let Some(r) = diff.entities[0].rules.first_mut() {
            r.definition = Some(Change::new(&long_before, &long_after));
        }
        for width in [60, 100, 160] {
            let text = human(&diff, width);
            // The definition's rows (the headline and tables are as long as their names).
            for line in text.lines().filter(|l| l.contains(" │ ")) {
                assert!(line.chars().count() <= width, "{width}: {line}");
            }
            // The changed condition is wrapped, never cut: both ends of it are there.
            assert!(text.contains("pro"), "{text}");
            assert!(text.contains("enterprise"), "{text}");
            let joined: String = text
                .lines()
                .filter_map(|l| l.split(" │ ").nth(1))
                .map(|l| l.trim_start_matches(['+', ' ']).trim_start_matches("↪ "))
                .collect::<Vec<_>>()
                .join(" ");
            assert!(joined.contains("plan is enterprise"), "{width}: {joined}");
            // The unchanged description is cut, visibly.
            if width < 160 {
                assert!(text.contains('…'), "{text}");
            }
        }
    }
}

//! `segl diff` output: a text for people, one JSON document, and Markdown for a pull-request
//! comment (tables, with details folded away).

use std::fmt::Write as _;

use super::snapshot::RuleKind;
use super::{Diff, EntityDiff, ItemDiff, RuleDiff, Status};
use crate::diagnostics::thousands;

fn count(n: u64) -> String {
    thousands(n)
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
    if let Some((name, p)) = diff.largest_change() {
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

/// How many kinds of move (from one tier to another) the text for people lists.
const MOVES: usize = 10;

/// The text for people.
#[must_use]
pub fn human(diff: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "segl diff: {} → {}", diff.before, diff.after);
    for line in &diff.context {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "\n{}", headline(diff));
    for e in &diff.entities {
        human_entity(&mut out, e, diff.rules_compared);
    }
    if !diff.definitions.is_empty() {
        let _ = writeln!(out, "\ndefinitions and parameters");
        for d in &diff.definitions {
            let _ = writeln!(out, "\n  {} {}: {}", d.kind.word(), d.name, item_status(d));
            for l in &d.lines {
                let _ = writeln!(out, "    {} {}", l.tag, l.text);
            }
        }
    }
    out
}

fn item_status(d: &ItemDiff) -> &'static str {
    match d.status {
        Status::Added => "new",
        Status::Removed => "removed",
        _ => "changed",
    }
}

fn human_entity(out: &mut String, e: &EntityDiff, diff_rules: bool) {
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
        human_rule(out, r, diff_rules);
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

fn human_rule(out: &mut String, r: &RuleDiff, diff_rules: bool) {
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
    if let Some(lines) = &r.definition {
        for l in lines {
            let _ = writeln!(out, "    {} {}", l.tag, l.text);
        }
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
            "    {} records changed tier ({})",
            count(t.moved),
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
        for m in t.moves.iter().take(MOVES) {
            let _ = writeln!(
                out,
                "    {} → {}: {} ({})",
                m.from,
                m.to,
                count(m.records),
                keys_line(&m.examples, m.records)
            );
        }
        if t.moves.len() > MOVES {
            let _ = writeln!(out, "    and {} other moves", t.moves.len() - MOVES);
        }
    }
    if let Some(s) = &r.score {
        let _ = writeln!(
            out,
            "    {} records changed ({} up, {} down); average {:.1} → {:.1}",
            count(s.changed),
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

/// One JSON document.
#[must_use]
pub fn json(diff: &Diff) -> String {
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        changed: bool,
        #[serde(flatten)]
        diff: &'a Diff,
    }
    let mut text = serde_json::to_string_pretty(&Doc {
        changed: diff.has_changes(),
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

/// Markdown for a pull-request comment.
#[must_use]
pub fn markdown(diff: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### segl diff: {} → {}\n",
        md(&diff.before),
        md(&diff.after)
    );
    for line in &diff.context {
        let _ = writeln!(out, "{}  ", md(line));
    }
    let _ = writeln!(out, "\n**{}**", md(&headline(diff)).replace('`', ""));
    for e in &diff.entities {
        let changed: Vec<&RuleDiff> = e.rules.iter().filter(|r| r.is_changed()).collect();
        let _ = writeln!(
            out,
            "\n#### {} ({} records{})\n",
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
        );
        if changed.is_empty() {
            let _ = writeln!(out, "No segment, tier set or score changed.");
        } else {
            if diff.rules_compared {
                let _ = writeln!(
                    out,
                    "| rule | status | before | after | entered | left | change |"
                );
                let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|");
            } else {
                let _ = writeln!(out, "| rule | before | after | entered | left | change |");
                let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
            }
            for r in &changed {
                let (before, after, entered, left) = match (&r.segment, &r.tiers, &r.score) {
                    (Some(s), _, _) => (
                        count(s.members_before),
                        count(s.members_after),
                        signed('+', s.entered),
                        signed('−', s.left),
                    ),
                    (_, Some(t), _) => (
                        "".to_owned(),
                        "".to_owned(),
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
                let status = if diff.rules_compared {
                    format!(" {} |", md(&status_words(r)).replace('`', ""))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "| {} {} |{status} {before} | {after} | {entered} | {left} | {} |",
                    r.kind.word(),
                    md_code(&r.name),
                    percent(r.change_percent)
                );
            }
            for r in &changed {
                markdown_details(&mut out, r);
            }
        }
        let unchanged: Vec<&RuleDiff> = e.rules.iter().filter(|r| !r.is_changed()).collect();
        if !unchanged.is_empty() {
            let _ = writeln!(
                out,
                "\n<details><summary>{} unchanged</summary>\n",
                unchanged.len()
            );
            let names: Vec<String> = unchanged
                .iter()
                .map(|r| format!("{} {}", r.kind.word(), md_code(&r.name)))
                .collect();
            let _ = writeln!(out, "{}\n\n</details>", names.join(", "));
        }
    }
    if !diff.definitions.is_empty() {
        let _ = writeln!(out, "\n#### Definitions and parameters\n");
        for d in &diff.definitions {
            let _ = writeln!(
                out,
                "<details><summary>{} {}: {}</summary>\n\n```diff",
                d.kind.word(),
                md_code(&d.name),
                item_status(d)
            );
            for l in &d.lines {
                let _ = writeln!(out, "{}{}", l.tag, l.text);
            }
            let _ = writeln!(out, "```\n\n</details>");
        }
    }
    out
}

fn markdown_details(out: &mut String, r: &RuleDiff) {
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
    if let Some(lines) = &r.definition {
        let _ = writeln!(out, "```diff");
        for l in lines {
            let _ = writeln!(out, "{}{}", l.tag, l.text);
        }
        let _ = writeln!(out, "```\n");
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

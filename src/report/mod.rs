//! `segl report`: one self-contained HTML page with charts drawn as inline SVG: segment sizes,
//! the overlap between segments, tier distributions and, given two snapshots or a history, the
//! tier transitions. No scripts, fonts or anything else from the network; every chart has a
//! title, a description and text labels, and the page prints.

mod svg;

use std::fmt::Write as _;

use crate::diff::snapshot::{EntitySnapshot, RuleKind, Snapshot, Values};
use crate::diff::{Diff, RuleDiff};
use svg::escape;

/// How many segments the overlap matrix shows per entity (the largest ones).
pub const OVERLAP_SEGMENTS: usize = 20;

/// What a report shows.
pub struct Report<'a> {
    /// The project's name.
    pub title: String,
    /// Lines under the title: the as-of date, the data.
    pub context: Vec<String>,
    /// The evaluation the sizes, overlaps and tiers are drawn from.
    pub snapshot: &'a Snapshot,
    /// Two evaluations compared, for the tier transitions.
    pub transitions: Option<&'a Diff>,
}

const STYLE: &str = r"
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 2rem auto;
  max-width: 1100px; padding: 0 1rem; color: #1a1a1a; background: #fff; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin-top: 1.6rem; }
.context { color: #444; margin: 0; }
figure { margin: 1rem 0 1.6rem; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-weight: 600; margin-bottom: .4rem; }
svg { max-width: 100%; height: auto; font-family: inherit; }
svg text { fill: #1a1a1a; font-size: 12px; }
svg .small { font-size: 10px; }
svg .light { fill: #fff; }
.note { color: #444; font-size: .9rem; }
nav ul { columns: 2; }
@media print { body { margin: 0; max-width: none; } nav { display: none; } h2 { break-after: avoid; } }
";

/// The whole page.
#[must_use]
pub fn html(report: &Report<'_>) -> String {
    let mut out = String::new();
    let title = format!("Segment report: {}", report.title);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    for line in &report.context {
        let _ = writeln!(out, "<p class=\"context\">{}</p>", escape(line));
    }
    out.push_str("</header>\n<main>\n");
    let mut chart = 0usize;
    for e in &report.snapshot.entities {
        let _ = writeln!(
            out,
            "<section>\n<h2>{} ({} records)</h2>",
            escape(&e.entity),
            crate::diagnostics::thousands(e.keys.len() as u64)
        );
        sizes(&mut out, e, &mut chart);
        overlap(&mut out, e, &mut chart);
        tiers(&mut out, e, &mut chart);
        out.push_str("</section>\n");
    }
    if let Some(diff) = report.transitions {
        let _ = writeln!(
            out,
            "<section>\n<h2>Tier transitions: {} → {}</h2>",
            escape(&diff.before),
            escape(&diff.after)
        );
        let mut any = false;
        for e in &diff.entities {
            for r in e.rules.iter().filter(|r| r.kind == RuleKind::Tiers) {
                transition(&mut out, &e.entity, r, &mut chart);
                any = true;
            }
        }
        if !any {
            out.push_str("<p>There are no tier sets to compare.</p>\n");
        }
        out.push_str("</section>\n");
    }
    out.push_str("</main>\n<footer><p class=\"note\">Made by segl. Every chart is an SVG image with a text description; the page needs no network and no scripts.</p></footer>\n</body>\n</html>\n");
    out
}

fn members(e: &EntitySnapshot) -> Vec<(&str, Option<&str>, &[bool])> {
    e.rules
        .iter()
        .filter_map(|r| match &r.values {
            Values::Segment(v) => Some((r.name.as_str(), r.title.as_deref(), v.as_slice())),
            _ => None,
        })
        .collect()
}

fn sizes(out: &mut String, e: &EntitySnapshot, chart: &mut usize) {
    let segs = members(e);
    if segs.is_empty() {
        return;
    }
    let total = e.keys.len() as u64;
    let bars: Vec<svg::Bar> = segs
        .iter()
        .map(|(name, title, v)| {
            let n = v.iter().filter(|b| **b).count() as u64;
            svg::Bar {
                label: (*name).to_owned(),
                hint: title.map(str::to_owned),
                value: n,
                total,
            }
        })
        .collect();
    *chart += 1;
    let id = format!("chart{chart}");
    let caption = format!("Segment sizes of {}", e.entity);
    let desc = format!(
        "Members of each of the {} segments of {}, as bars; the number and the share of all {} records are written next to each bar.",
        bars.len(),
        e.entity,
        total
    );
    let _ = writeln!(
        out,
        "<figure>\n<figcaption id=\"{id}-caption\">{}</figcaption>\n{}</figure>",
        escape(&caption),
        svg::bars(&id, &caption, &desc, &bars)
    );
}

fn overlap(out: &mut String, e: &EntitySnapshot, chart: &mut usize) {
    let mut segs = members(e);
    if segs.len() < 2 {
        return;
    }
    let count = |v: &[bool]| v.iter().filter(|b| **b).count();
    segs.sort_by(|a, b| count(b.2).cmp(&count(a.2)).then(a.0.cmp(b.0)));
    let shown = segs.len().min(OVERLAP_SEGMENTS);
    let segs = segs.get(..shown).unwrap_or(&[]);
    let labels: Vec<String> = segs.iter().map(|s| s.0.to_owned()).collect();
    let mut cells = Vec::new();
    for a in segs {
        let mut row = Vec::new();
        for b in segs {
            let both = a.2.iter().zip(b.2).filter(|(x, y)| **x && **y).count() as u64;
            let smaller = count(a.2).min(count(b.2)) as u64;
            row.push(svg::Cell {
                value: both,
                base: smaller,
            });
        }
        cells.push(row);
    }
    *chart += 1;
    let id = format!("chart{chart}");
    let caption = format!("Overlap between segments of {}", e.entity);
    let desc = format!(
        "A matrix of the {shown} largest segments of {}: each cell gives how many records are in both the row's and the column's segment; the darker the cell, the larger that number is as a share of the smaller of the two segments.",
        e.entity
    );
    let mut note = String::new();
    if segs.len() < members(e).len() {
        let _ = writeln!(
            note,
            "<p class=\"note\">The {shown} largest of {} segments.</p>",
            members(e).len()
        );
    }
    let _ = writeln!(
        out,
        "<figure>\n<figcaption id=\"{id}-caption\">{}</figcaption>\n{note}{}<p class=\"note\">A cell is shaded by the shared members as a share of the smaller segment; the diagonal is each segment's size.</p>\n</figure>",
        escape(&caption),
        svg::matrix(&id, &caption, &desc, &labels, &labels, &cells, "both")
    );
}

fn tiers(out: &mut String, e: &EntitySnapshot, chart: &mut usize) {
    let sets: Vec<_> = e
        .rules
        .iter()
        .filter_map(|r| match &r.values {
            Values::Tiers { tiers, chosen } => Some((r, tiers, chosen)),
            _ => None,
        })
        .collect();
    if sets.is_empty() {
        return;
    }
    let rows: Vec<svg::Stack> = sets
        .iter()
        .map(|(r, tiers, chosen)| svg::Stack {
            label: r.name.clone(),
            parts: tiers
                .iter()
                .enumerate()
                .map(|(i, t)| (t.clone(), chosen.iter().filter(|c| **c == i).count() as u64))
                .collect(),
        })
        .collect();
    *chart += 1;
    let id = format!("chart{chart}");
    let caption = format!("Tier distributions of {}", e.entity);
    let desc = format!(
        "For each of the {} tier sets of {}, one bar split into its tiers in declaration order, each part as wide as its share of the records; the tiers with their counts are listed under each bar.",
        rows.len(),
        e.entity
    );
    let _ = writeln!(
        out,
        "<figure>\n<figcaption id=\"{id}-caption\">{}</figcaption>\n{}</figure>",
        escape(&caption),
        svg::stacks(&id, &caption, &desc, &rows)
    );
}

fn transition(out: &mut String, entity: &str, r: &RuleDiff, chart: &mut usize) {
    let Some(t) = &r.tiers else { return };
    let cells: Vec<Vec<svg::Cell>> = t
        .counts
        .iter()
        .map(|row| {
            let sum: u64 = row.iter().sum();
            row.iter()
                .map(|c| svg::Cell {
                    value: *c,
                    base: sum,
                })
                .collect()
        })
        .collect();
    *chart += 1;
    let id = format!("chart{chart}");
    let caption = format!("Tier transitions of {} ({entity})", r.name);
    let desc = format!(
        "A matrix with the tier before as rows and the tier after as columns; each cell gives how many records moved from the row's tier to the column's tier ({} moved in all). (none) stands for records on one side only.",
        t.moved
    );
    let _ = writeln!(
        out,
        "<figure>\n<figcaption id=\"{id}-caption\">{} — {} records changed tier</figcaption>\n{}<p class=\"note\">Rows: tier before; columns: tier after. A cell is shaded by its share of the row.</p>\n</figure>",
        escape(&caption),
        crate::diagnostics::thousands(t.moved),
        svg::matrix(&id, &caption, &desc, &t.labels, &t.labels, &cells, "moved")
    );
}

//! The charts, drawn as SVG text: bars, stacked bars and shaded matrices. Sizes are computed
//! from an estimate of text widths (no font metrics), so labels are given room generously.

use std::fmt::Write as _;

use crate::diagnostics::thousands;

/// Escapes text for HTML and SVG.
#[must_use]
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// About how wide a text is at 12px.
fn text_width(text: &str) -> usize {
    text.chars().count() * 7
}

#[allow(clippy::cast_precision_loss)]
fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn percent(part: u64, whole: u64) -> String {
    format!("{:.1}%", ratio(part, whole) * 100.0)
}

/// Colours that stay apart for people with colour-vision deficiencies (Okabe–Ito, then Tol).
const PALETTE: [&str; 12] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999",
    "#332288", "#88CCEE", "#44AA99", "#882255",
];

/// A shade from very light to dark blue for a share from 0 to 1.
fn shade(share: f64) -> (String, bool) {
    let s = share.clamp(0.0, 1.0);
    let mix = |from: f64, to: f64| (from + (to - from) * s).round() as u8;
    let (r, g, b) = (mix(247.0, 8.0), mix(251.0, 48.0), mix(255.0, 107.0));
    (format!("#{r:02x}{g:02x}{b:02x}"), s > 0.45)
}

fn open(out: &mut String, id: &str, width: usize, height: usize, title: &str, desc: &str) {
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\" role=\"img\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" aria-labelledby=\"{id}-title {id}-desc\">\n<title id=\"{id}-title\">{}</title>\n<desc id=\"{id}-desc\">{}</desc>",
        escape(title),
        escape(desc)
    );
}

/// One bar: a count out of a total.
pub struct Bar {
    pub label: String,
    pub hint: Option<String>,
    pub value: u64,
    pub total: u64,
}

/// Horizontal bars with the label on the left and the count and share on the right.
#[must_use]
pub fn bars(id: &str, title: &str, desc: &str, bars: &[Bar]) -> String {
    let label_w = bars.iter().map(|b| text_width(&b.label)).max().unwrap_or(0) + 12;
    let bar_w = 520;
    let row = 20;
    let width = label_w + bar_w + 130;
    let height = bars.len() * row + 10;
    let mut out = String::new();
    open(&mut out, id, width, height, title, desc);
    for (i, b) in bars.iter().enumerate() {
        let y = 5 + i * row;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let w = (ratio(b.value, b.total) * bar_w as f64).round() as usize;
        let hint = b
            .hint
            .as_deref()
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<g><title>{}{}: {} of {} records ({})</title><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{label_w}\" y=\"{}\" width=\"{bar_w}\" height=\"14\" fill=\"#eef1f5\"/><rect x=\"{label_w}\" y=\"{}\" width=\"{w}\" height=\"14\" fill=\"#0072B2\"/><text x=\"{}\" y=\"{}\">{} · {}</text></g>",
            escape(&b.label),
            escape(&hint),
            thousands(b.value),
            thousands(b.total),
            percent(b.value, b.total),
            label_w - 8,
            y + 12,
            escape(&b.label),
            y + 1,
            y + 1,
            label_w + bar_w + 8,
            y + 12,
            thousands(b.value),
            percent(b.value, b.total)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// One bar split into named parts.
pub struct Stack {
    pub label: String,
    pub parts: Vec<(String, u64)>,
}

/// One stacked bar per row, with a legend of its parts (colour, name, count, share) below it.
#[must_use]
pub fn stacks(id: &str, title: &str, desc: &str, stacks: &[Stack]) -> String {
    let bar_w = 760;
    let width = bar_w + 20;
    // Lay out each legend first to know the height.
    let mut rows = Vec::new();
    let mut y = 4;
    for s in stacks {
        let total: u64 = s.parts.iter().map(|p| p.1).sum();
        let mut items = Vec::new();
        let (mut lx, mut ly) = (10usize, y + 46);
        for (i, (name, n)) in s.parts.iter().enumerate() {
            let text = format!("{name} {} ({})", thousands(*n), percent(*n, total));
            let w = text_width(&text) + 26;
            if lx + w > width && lx > 10 {
                lx = 10;
                ly += 18;
            }
            items.push((i, text, lx, ly));
            lx += w;
        }
        rows.push((s, total, y, items));
        y = ly + 22;
    }
    let mut out = String::new();
    open(&mut out, id, width, y, title, desc);
    for (s, total, y, items) in rows {
        let _ = writeln!(
            out,
            "<g><text x=\"10\" y=\"{}\" font-weight=\"600\">{}</text>",
            y + 12,
            escape(&s.label)
        );
        let mut x = 10.0_f64;
        for (i, (name, n)) in s.parts.iter().enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let w = ratio(*n, total) * bar_w as f64;
            if w > 0.0 {
                let _ = writeln!(
                    out,
                    "<rect x=\"{x:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"18\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"1\"><title>{}: {}: {} ({})</title></rect>",
                    y + 18,
                    PALETTE.get(i % PALETTE.len()).copied().unwrap_or("#999999"),
                    escape(&s.label),
                    escape(name),
                    thousands(*n),
                    percent(*n, total)
                );
            }
            x += w;
        }
        for (i, text, lx, ly) in items {
            let _ = writeln!(
                out,
                "<rect x=\"{lx}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{ly}\" class=\"small\">{}</text>",
                ly - 10,
                PALETTE.get(i % PALETTE.len()).copied().unwrap_or("#999999"),
                lx + 16,
                escape(&text)
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
    out
}

/// One cell of a matrix: its number, and what it is a share of (for the shade).
pub struct Cell {
    pub value: u64,
    pub base: u64,
}

/// A shaded matrix with row labels on the left, column labels written upwards above, and the
/// number in every cell. `what` names the number in each cell's tooltip.
#[must_use]
pub fn matrix(
    id: &str,
    title: &str,
    desc: &str,
    rows: &[String],
    columns: &[String],
    cells: &[Vec<Cell>],
    what: &str,
) -> String {
    let cell = 40;
    let left = rows.iter().map(|r| text_width(r)).max().unwrap_or(0) + 12;
    let top = columns.iter().map(|c| text_width(c)).max().unwrap_or(0) * 7 / 10 + 16;
    // Column labels lean right over the columns after them.
    let width = left + columns.len() * cell + top;
    let height = top + rows.len() * cell + 10;
    let mut out = String::new();
    open(&mut out, id, width, height, title, desc);
    for (j, c) in columns.iter().enumerate() {
        let x = left + j * cell + cell / 2 + 4;
        let _ = writeln!(
            out,
            "<text x=\"{x}\" y=\"{}\" transform=\"rotate(-45 {x} {})\" class=\"small\">{}</text>",
            top - 4,
            top - 4,
            escape(c)
        );
    }
    for (i, (r, row)) in rows.iter().zip(cells).enumerate() {
        let y = top + i * cell;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"small\">{}</text>",
            left - 6,
            y + cell / 2 + 4,
            escape(r)
        );
        for (j, c) in row.iter().enumerate() {
            let x = left + j * cell;
            let (fill, dark) = shade(ratio(c.value, c.base));
            let column = columns.get(j).map_or("", String::as_str);
            let _ = writeln!(
                out,
                "<g><title>{} → {}: {} {what}</title><rect x=\"{x}\" y=\"{y}\" width=\"{cell}\" height=\"{cell}\" fill=\"{fill}\" stroke=\"#fff\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"small{}\">{}</text></g>",
                escape(r),
                escape(column),
                thousands(c.value),
                x + cell / 2,
                y + cell / 2 + 4,
                if dark { " light" } else { "" },
                compact(c.value)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

/// A count short enough for a matrix cell: `987`, `1.2k`, `35k`.
fn compact(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{}k", n / 1000),
        _ => format!("{}M", n / 1_000_000),
    }
}

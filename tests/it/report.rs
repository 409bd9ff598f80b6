//! `segl report`: the page is self-contained, has its charts, and loads in headless Chromium
//! without console errors. `SEGL_UPDATE_SCREENSHOT=1` also writes `docs/images/report.png`.

use std::path::Path;
use std::process::Command;

use crate::diff::{copy_dir, earlier_snapshot, root, scratch, segl_in};

fn chromium() -> String {
    std::env::var("SEGL_CHROMIUM").unwrap_or_else(|_| "chromium".to_owned())
}

/// Chromium's view of a page: the DOM after loading, and what it logged.
fn render(page: &Path, profile: &Path, extra: &[&str]) -> (String, String) {
    let url = format!("file://{}", page.display());
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .args(["--enable-logging=stderr", "--v=0", "--no-first-run"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(&url)
        .output()
        .expect("headless Chromium (Debian's `chromium` package; .ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

/// Measures every chart as Chromium laid it out. The page itself has no scripts; a copy gets
/// this one, which writes, per chart, its id, width and height, how many of its rectangles
/// have a positive width in the markup, how many of those Chromium drew with a non-zero size,
/// and how many of its texts have a non-zero size.
const MEASURE: &str = r#"<script>
(() => {
  const lines = [];
  for (const svg of document.querySelectorAll('svg')) {
    const box = svg.getBoundingClientRect();
    let wide = 0, drawn = 0;
    for (const r of svg.querySelectorAll('rect')) {
      if (parseFloat(r.getAttribute('width')) > 0) {
        wide++;
        const b = r.getBoundingClientRect();
        if (b.width > 0 && b.height > 0) drawn++;
      }
    }
    const texts = [...svg.querySelectorAll('text')].filter(t => t.getBBox().width > 0).length;
    lines.push([svg.id, Math.round(box.width), Math.round(box.height), wide, drawn, texts].join(' '));
  }
  const pre = document.createElement('pre');
  pre.id = 'segl-measured';
  pre.textContent = lines.join('\n');
  document.body.appendChild(pre);
})();
</script>"#;

/// One chart as Chromium drew it.
#[derive(Debug)]
struct Measured {
    id: String,
    width: u32,
    height: u32,
    rects: usize,
    drawn: usize,
    texts: usize,
}

/// Loads a copy of the page with [`MEASURE`] in Chromium and returns what it measured, after
/// checking that nothing was logged to the console.
fn measure(page: &Path, profile: &Path) -> Vec<Measured> {
    let html = std::fs::read_to_string(page).unwrap();
    let copy = page.with_extension("measured.html");
    std::fs::write(
        &copy,
        html.replace("</body>", &format!("{MEASURE}\n</body>")),
    )
    .unwrap();
    let (dom, log) = render(&copy, profile, &["--dump-dom"]);
    assert!(!log.contains("CONSOLE"), "console messages:\n{log}");
    let start = dom
        .find("<pre id=\"segl-measured\">")
        .expect("the measuring script ran");
    let text = &dom[start..];
    let text = &text[text.find('>').unwrap() + 1..text.find("</pre>").unwrap()];
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            Measured {
                id: f[0].to_owned(),
                width: f[1].parse().unwrap(),
                height: f[2].parse().unwrap(),
                rects: f[3].parse().unwrap(),
                drawn: f[4].parse().unwrap(),
                texts: f[5].parse().unwrap(),
            }
        })
        .collect()
}

/// Every chart has a size, every rectangle the markup gives a width was drawn, and every chart
/// has drawn text; the transition matrices have one cell per pair of tiers.
fn assert_drawn(charts: &[Measured], html: &str) {
    for c in charts {
        assert!(c.width > 100 && c.height > 20, "{c:?}");
        assert!(c.rects > 0 && c.drawn == c.rects, "{c:?}");
        assert!(c.texts > 0, "{c:?}");
        let markup = &html[html.find(&format!("id=\"{}\"", c.id)).unwrap()..];
        let markup = &markup[..markup.find("</svg>").unwrap()];
        assert_eq!(c.texts, count(markup, "<text"), "{c:?}");
    }
}

/// Takes a screenshot of the page and checks it is the size asked for and shows the charts:
/// many pixels that are not white, and many in the blue of the bars.
fn assert_screenshot(page: &Path, profile: &Path, png: &Path) {
    let _ = std::fs::remove_file(png);
    let shot = format!("--screenshot={}", png.display());
    render(page, profile, &[&shot, "--window-size=1100,2600"]);
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (1100, 2600));
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    let (mut inked, mut blue) = (0usize, 0usize);
    for p in pixels[..info.buffer_size()].chunks(channels) {
        let (r, g, b) = (p[0], p[1], p[2]);
        if (r, g, b) != (255, 255, 255) {
            inked += 1;
        }
        // The bars' colour, #0072B2.
        if r < 20 && (100..130).contains(&g) && (165..190).contains(&b) {
            blue += 1;
        }
    }
    let all = 1100 * 2600;
    assert!(inked > all / 50, "{inked} of {all} pixels are not white");
    assert!(blue > 10_000, "{blue} pixels in the colour of the bars");
}

/// What every report must be: one page that needs nothing from outside.
fn assert_self_contained(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script"), "no scripts");
    assert!(!html.contains("<link"), "no linked files");
    assert!(
        !html.contains("@import") && !html.contains("url("),
        "no fetched styles or fonts"
    );
    let outside = html
        .replace("xmlns=\"http://www.w3.org/2000/svg\"", "")
        .replace("https://", "http://");
    assert!(!outside.contains("http://"), "no network addresses");
    // Every chart is an image with a title and a description.
    assert_eq!(count(html, "<svg"), count(html, "role=\"img\""));
    assert_eq!(count(html, "<svg"), count(html, "<desc id="));
    assert_eq!(count(html, "<svg"), count(html, "<figcaption"));
}

#[test]
fn report_with_snapshots_renders_in_chromium() {
    let dir = scratch("report-snapshots");
    copy_dir(&root().join("rules"), &dir.join("rules"));
    earlier_snapshot(&dir);
    let run = segl_in(
        &dir,
        &[
            "report",
            "rules",
            "--out",
            "report.html",
            "--before",
            "before",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let page = dir.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert_self_contained(&html);
    // customer and company: sizes, overlap and tiers each; then one transition chart per tier set
    // (5 of customer, 2 of company).
    assert_eq!(count(&html, "<svg"), 6 + 7, "{html}");
    for caption in [
        "Segment sizes of customer",
        "Overlap between segments of customer",
        "Tier distributions of customer",
        "Tier transitions of rfm_class (customer)",
        "Segment sizes of company",
    ] {
        assert!(html.contains(caption), "{caption}");
    }
    assert!(
        html.contains("Tier transitions: before → rules data"),
        "{html}"
    );
    assert!(
        html.contains(">(none)</text>"),
        "the new customer comes from (none)"
    );

    let profile = dir.join("chromium-profile");
    let (dom, log) = render(&page, &profile, &["--dump-dom"]);
    assert!(!log.contains("CONSOLE"), "console messages:\n{log}");
    assert_eq!(count(&dom, "<svg"), 13, "Chromium sees every chart");
    assert_eq!(count(&dom, "<figcaption"), 13);
    assert!(dom.contains("<title>Segment report: acme-segments</title>"));
    let charts = measure(&page, &profile);
    assert_eq!(charts.len(), 13, "{charts:?}");
    assert_drawn(&charts, &html);
    // The transition matrix of rfm_class: 12 classes and `(none)`, a cell for each pair.
    let rfm = html
        .find("Tier transitions of rfm_class (customer)")
        .unwrap();
    let rfm_id = &html[html[rfm..].find("<svg").unwrap() + rfm..];
    let rfm_id = &rfm_id[rfm_id.find("id=\"").unwrap() + 4..];
    let rfm_id = &rfm_id[..rfm_id.find('"').unwrap()];
    let matrix = charts.iter().find(|c| c.id == rfm_id).unwrap();
    assert_eq!(matrix.drawn, 13 * 13, "{matrix:?}");

    let png = if std::env::var_os("SEGL_UPDATE_SCREENSHOT").is_some() {
        let png = root().join("docs/images/report.png");
        std::fs::create_dir_all(png.parent().unwrap()).unwrap();
        png
    } else {
        dir.join("report.png")
    };
    assert_screenshot(&page, &profile, &png);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn report_from_a_history_and_without_one() {
    let dir = scratch("report-history");
    copy_dir(&root().join("rules"), &dir.join("rules"));
    for day in ["2026-11-13", "2026-11-20"] {
        let run = segl_in(
            &dir,
            &[
                "run",
                "rules",
                "--history",
                "history.parquet",
                "--as-of",
                day,
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let run = segl_in(
        &dir,
        &[
            "report",
            "rules",
            "--out",
            "report.html",
            "--history",
            "history.parquet",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert_self_contained(&html);
    assert!(html.contains("Tier transitions: 2026-11-13 → 2026-11-20"));
    assert_eq!(count(&html, "<svg"), 13);
    let (dom, log) = render(
        &dir.join("report.html"),
        &dir.join("chromium-profile"),
        &["--dump-dom"],
    );
    assert!(!log.contains("CONSOLE"), "{log}");
    assert_eq!(count(&dom, "<svg"), 13);
    let charts = measure(&dir.join("report.html"), &dir.join("chromium-profile"));
    assert_eq!(charts.len(), 13, "{charts:?}");
    assert_drawn(&charts, &html);

    let plain = segl_in(&dir, &["report", "rules", "--out", "plain.html"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let html = std::fs::read_to_string(dir.join("plain.html")).unwrap();
    assert_self_contained(&html);
    assert_eq!(count(&html, "<svg"), 6);
    assert!(!html.contains("Tier transitions"));

    let wrong = segl_in(&dir, &["report", "rules", "--out", "report.pdf"]);
    assert_eq!(wrong.code, 2);
    assert!(
        wrong.stderr.contains("give it a name ending in .html"),
        "{}",
        wrong.stderr
    );
    let not_history = segl_in(
        &dir,
        &[
            "report",
            "rules",
            "--out",
            "x.html",
            "--history",
            "report.html",
        ],
    );
    assert_eq!(not_history.code, 2);
    assert!(
        not_history.stderr.contains("[E1004]"),
        "the same diagnostic as `segl run --history`: {}",
        not_history.stderr
    );
    assert!(!dir.join("x.html").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

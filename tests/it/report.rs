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

    if std::env::var_os("SEGL_UPDATE_SCREENSHOT").is_some() {
        let png = root().join("docs/images/report.png");
        std::fs::create_dir_all(png.parent().unwrap()).unwrap();
        let shot = format!("--screenshot={}", png.display());
        render(&page, &profile, &[&shot, "--window-size=1100,2600"]);
        assert!(std::fs::metadata(&png).unwrap().len() > 10_000);
    }
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
    assert!(!dir.join("x.html").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

//! The self-contained HTML report (`index.html`): first in process (every section and chart
//! is there, names are escaped, the output is deterministic), then as a user sees it: the
//! page `microsim run --out` writes, opened from disk in headless Chromium, must load every
//! chart image, draw something and log nothing to the console.
//!
//! Chromium is found at `$CHROMIUM`, `/usr/bin/chromium` or on the `PATH`. Without it the browser tests
//! write a `SKIPPED` line to the terminal (past the harness's capture) and pass, except under
//! CI (`$CI` set), where they fail: `.ci/run` installs it. Every Chromium process gets a fresh profile, flags that keep it off the network (the
//! page needs none), and [`CHROMIUM_TIME_LIMIT`] before it is killed. The last report and
//! its screenshot stay in `target/html-report/` for a look (CI keeps them as artefacts); the
//! experiment pages (`run --reps`, `compare`, `sweep` with `--out DIR`) go through the same
//! checks and stay in `target/experiment-report/`.

use crate::common::root;
use microsim::chart::{render_all, Chart};
use microsim::render::render_html;
use microsim::{Report, RunOptions};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one Chromium process may take before it is killed and the test fails.
const CHROMIUM_TIME_LIMIT: Duration = Duration::from_secs(60);

/// Flags for every Chromium run: headless, no sandbox (CI runs as root), and nothing that
/// reaches for the network (updates, sync, QUIC probes) on a machine that refuses it.
const CHROMIUM_FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    // Virtual time runs until the page is idle (load handlers included), at most 5 s.
    "--virtual-time-budget=5000",
];

/// A run of the bundled `name` topology, shortened to `duration_s` (warm-up as in the file).
fn bundled_report(name: &str, duration_s: u64) -> Report {
    report_of(&format!("topologies/{name}"), duration_s)
}

/// A run of `tests/data/side-by-side.ron` (15 services, 3 entry points, 6 calls, 2 topics: a
/// large report), shortened to `duration_s`.
fn side_by_side(duration_s: u64) -> Report {
    report_of("tests/data/side-by-side.ron", duration_s)
}

/// A run of the topology at `name` (relative to the repository), shortened to `duration_s`.
fn report_of(name: &str, duration_s: u64) -> Report {
    let model = microsim::load(root().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let options = RunOptions {
        duration: Some(microsim::time::SimDuration(duration_s * 1_000_000_000)),
        ..Default::default()
    };
    model
        .run(&options)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A small valid SVG: a coloured bar, for pages that must not depend on the chart modules.
fn bar_svg(colour: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"120\" \
         viewBox=\"0 0 400 120\"><rect width=\"400\" height=\"120\" fill=\"#ffffff\"/>\
         <rect x=\"20\" y=\"20\" width=\"300\" height=\"80\" fill=\"{colour}\"/></svg>"
    )
}

/// Decodes standard base64 (the test's own decoder, to check the page's encoder).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => u32::from(c - b'A'),
        b'a'..=b'z' => u32::from(c - b'a') + 26,
        b'0'..=b'9' => u32::from(c - b'0') + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not a base64 digit: {:?}", char::from(c)),
    };
    let mut out = Vec::new();
    for quad in text.as_bytes().chunks(4) {
        assert_eq!(quad.len(), 4, "base64 comes in groups of four");
        let digits: Vec<u8> = quad.iter().copied().filter(|&c| c != b'=').collect();
        let n = digits
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &c)| n | value(c) << (18 - 6 * i));
        out.extend(n.to_be_bytes()[1..].iter().take(digits.len() - 1));
    }
    out
}

/// The base64 payloads of the page's `data:image/svg+xml` images, in order.
fn embedded_svgs(html: &str) -> Vec<String> {
    const PREFIX: &str = "src=\"data:image/svg+xml;base64,";
    html.match_indices(PREFIX)
        .map(|(at, _)| {
            let rest = &html[at + PREFIX.len()..];
            let end = rest.find('"').expect("the src attribute is closed");
            String::from_utf8(base64_decode(&rest[..end])).expect("the SVG is UTF-8")
        })
        .collect()
}

#[test]
fn page_has_every_section_table_and_chart() {
    let report = bundled_report("order-hybrid.ron", 60);
    let mut charts = render_all(&report);
    // Two charts of our own, so that embedding is checked whatever the chart modules draw.
    charts.push(Chart {
        file: "fixture-a.svg".into(),
        title: "Fixture chart A".into(),
        svg: bar_svg("#0072b2"),
    });
    charts.push(Chart {
        file: "fixture-b.svg".into(),
        title: "Fixture chart B".into(),
        svg: bar_svg("#d55e00"),
    });
    let html = render_html(&report, &charts);
    assert!(html.starts_with("<!DOCTYPE html>\n"), "{}", &html[..80]);
    assert!(html.ends_with("</html>\n"));
    assert!(
        html.contains("<title>microsim · order-hybrid · seed 8 · 1m</title>"),
        "title"
    );
    for id in [
        "entries", "services", "calls", "topics", "analytic", "lints", "faults",
    ] {
        assert!(
            html.contains(&format!("<h2 id=\"{id}\">")),
            "no section {id}"
        );
        assert!(
            html.contains(&format!("<a href=\"#{id}\">")),
            "no link to {id}"
        );
    }
    for e in &report.entries {
        assert!(
            html.contains(&format!("<td>{}</td>", e.name)),
            "entry {}",
            e.name
        );
        // Simulated and analytic availability side by side, in %, with their gap in
        // percentage points.
        let analytic = report.analysis.entries.iter().find(|a| a.name == e.name);
        let a = analytic.expect("analysis of every entry").availability;
        let cells = format!(
            "<td class=\"n\">{:.3}</td><td class=\"n\">{:.3}</td>",
            100.0 * e.availability,
            100.0 * a,
        );
        assert!(html.contains(&cells), "availability cells {cells}");
    }
    for s in &report.services {
        assert!(
            html.contains(&format!("<td>{}</td>", s.name)),
            "service {}",
            s.name
        );
    }
    for t in &report.topics {
        for g in &t.groups {
            assert!(html.contains(&format!("{} → {}", t.name, g.service)));
        }
    }
    for l in &report.analysis.lints {
        assert!(
            html.contains(&format!("<code>{}</code>", l.code)),
            "lint {}",
            l.code
        );
    }
    // Every chart inline, in order, with its title as alt text and caption.
    assert_eq!(
        embedded_svgs(&html),
        charts.iter().map(|c| c.svg.clone()).collect::<Vec<_>>()
    );
    for c in &charts {
        assert!(
            html.contains(&format!("alt=\"{}\"", c.title)),
            "alt of {}",
            c.file
        );
        assert!(
            html.contains(&format!("<figcaption>{}</figcaption>", c.title)),
            "caption of {}",
            c.file
        );
    }
    // Self-contained: nothing is fetched from anywhere.
    for reference in ["http://", "https://", "src=\"//", "@import", "url("] {
        assert!(!html.contains(reference), "the page refers to {reference}");
    }
    assert_eq!(
        html.matches("<script").count(),
        1,
        "one script: the image counter"
    );
}

#[test]
fn page_escapes_every_name_and_is_deterministic() {
    let hostile = r#"<script>alert("x")</script> & 'q'"#;
    let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;";
    let mut report = bundled_report("breaker.ron", 60);
    report.topology = hostile.to_string();
    report.entries[0].name = format!("entry {hostile}");
    report.analysis.entries[0].name = format!("entry {hostile}");
    report.services[0].name = format!("service {hostile}");
    report.calls[0].from = format!("caller {hostile}");
    report.faults.push(microsim::report::FaultWindow {
        label: format!("fault {hostile}"),
        start_s: 1.0,
        end_s: 2.0,
    });
    report.analysis.lints.push(microsim::analysis::Lint {
        level: microsim::analysis::LintLevel::Warning,
        code: format!("code {hostile}"),
        path: format!("path {hostile}"),
        message: format!("message {hostile}"),
    });
    let charts = vec![Chart {
        file: "a.svg".into(),
        title: format!("title {hostile}"),
        svg: bar_svg("#009e73"),
    }];
    let html = render_html(&report, &charts);
    assert!(
        !html.contains(hostile),
        "a name went into the page unescaped"
    );
    assert!(!html.contains("alert(\""), "unescaped quotes");
    assert_eq!(
        html.matches("<script").count(),
        1,
        "one script: the image counter"
    );
    for what in [
        "entry", "service", "caller", "fault", "code", "path", "message", "title",
    ] {
        assert!(
            html.contains(&format!("{what} {escaped}")),
            "{what}: not shown escaped"
        );
    }
    assert!(html.contains(&format!("<title>microsim · {escaped} · seed")));
    assert!(html.contains(&format!("alt=\"title {escaped}\"")));
    // Same report and charts, same bytes.
    assert_eq!(html, render_html(&report, &charts));
}

#[test]
fn page_without_charts_or_runs_still_renders() {
    // Charts left out, a run with no answers: dashes and notes instead of panics.
    let mut report = bundled_report("mm1.ron", 20);
    report.entries[0].availability = f64::NAN;
    report.analysis.lints.clear();
    report.faults.clear();
    let html = render_html(&report, &[]);
    assert!(html.contains("No lints"));
    assert!(html.contains("No faults"));
    assert!(!html.contains("<h2 id=\"charts\">"));
    assert!(!html.contains("NaN"));
    assert!(
        html.contains("data-images-loaded"),
        "the counting script is there"
    );
}

/// The `<table>`s of a page section: from `<h2 id="{id}">` to the next `<h2`.
fn section_of<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<h2 id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no section {id}"));
    let rest = &html[start + 4..];
    &html[start..start + 4 + rest.find("<h2").unwrap_or(rest.len())]
}

#[test]
fn availability_claims_no_significance_from_one_run() {
    // sync in side-by-side.ron loses availability to the e-mail outage: the gap is shown, but
    // not coloured as significant by a binomial standard error that ignores correlation.
    let report = side_by_side(120);
    let html = render_html(&report, &[]);
    let entries = section_of(&html, "entries");
    assert!(!entries.contains("s.e."), "{entries}");
    assert!(!entries.contains("class=\"low\""), "{entries}");
    assert!(!entries.contains("standard error"), "{entries}");
    assert!(
        entries.contains(
            "One run: no interval; run with <code>--reps N</code> for a confidence interval."
        ),
        "{entries}"
    );
    // The analytic figure weighs the outage by its share of the window the run measured
    // (the shadow follows the run's duration: 30 s of the 110 s after the warm-up).
    let sync = report.entry("sync").unwrap();
    let analytic = report.analysis.entries.iter().find(|a| a.name == "sync");
    let analytic = analytic.expect("analysis of sync").availability;
    assert!(
        (analytic - (1.0 - 30.0 / 110.0)).abs() < 1e-3,
        "the outage's share of the measured window is in the analytic figure: {analytic}"
    );
    // The run loses about that share too: the gap is the luck of how many of the ≈ 11,000
    // requests fell into the outage (s.e. of the share √(p(1 − p)/n) ≈ 0.42 points) plus the
    // few calls in flight when e-mail crashed, so within 1.5 points (3.5 s.e.). One run says
    // nothing significant about it: a plain cell.
    let gap = 100.0 * (sync.availability - analytic);
    assert!(gap.abs() < 1.5, "{gap}");
    let cell = match format!("{:.3}", gap.abs()) {
        t if t == "0.000" => t,
        t if gap < 0.0 => format!("−{t}"),
        t => format!("+{t}"),
    };
    assert!(
        entries.contains(&format!("<td class=\"n\">{cell}</td>")),
        "the gap {gap:.3} as a plain cell in {entries}"
    );
    assert!(section_of(&html, "analytic").contains("One run: no interval"));
}

#[test]
fn wide_tables_are_split_and_the_comparison_is_grouped() {
    let report = side_by_side(120);
    let html = render_html(&report, &[]);
    // No table of the page has more than 13 columns (the services table had 17, which
    // scrolled sideways at 1400 px).
    for table in html.split("<table>").skip(1) {
        let head = &table[..table.find("</tr>").unwrap()];
        let cols = head.matches("<th>").count() + head.matches("<th ").count();
        assert!(cols <= 13, "{cols} columns: {head}");
    }
    // Analytic vs simulated: a table per kind of thing with a row per thing (15 services,
    // 3 entry points, 6 calls, 2 topics), not a row per quantity.
    let analytic = section_of(&html, "analytic");
    for h3 in ["Entry points", "Services", "Sync calls", "The broker"] {
        assert!(analytic.contains(&format!("<h3>{h3}</h3>")), "no {h3}");
    }
    let rows = analytic.matches("<tr>").count() - analytic.matches("<thead>").count();
    let things = report.entries.len()
        + report.services.len()
        + report.calls.len()
        + report.topics.len()
        + report.queues.len();
    assert_eq!(rows, things, "{analytic}");
}

// ---------------------------------------------------------------------------------------
// In headless Chromium.

/// The Chromium binary: `$CHROMIUM` (when that file exists), else `/usr/bin/chromium`, else
/// `chromium` on the `PATH`. Without one: a failure under CI (`$CI` set), where `.ci/run`
/// must have installed it; elsewhere `None`, after a `SKIPPED` line written straight to the
/// terminal's standard error (past the test harness's capture, which would hide it behind an
/// `ok`), so that a run without Chromium says which checks it did not do.
fn chromium(test: &str) -> Option<PathBuf> {
    let set = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty());
    if let Some(path) = &set {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Some(path);
        }
    }
    let default = Path::new("/usr/bin/chromium");
    if set.is_none() && default.exists() {
        return Some(default.to_path_buf());
    }
    // Elsewhere on the PATH, as `.ci/run`'s `command -v chromium` finds it.
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromium"))
            .find(|p| p.is_file())
    });
    if set.is_none() && on_path.is_some() {
        return on_path;
    }
    let where_ = match &set {
        Some(p) => format!("$CHROMIUM ({}) is not a file", Path::new(p).display()),
        None => "not at /usr/bin/chromium nor on the PATH, and $CHROMIUM is not set".to_string(),
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: headless Chromium not found: {where_}; under CI it is required: .ci/run must \
         install it (apt-get install chromium)"
    );
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: headless Chromium not found ({where_}); install it or set \
         CHROMIUM=/path/to/chromium to run the browser checks"
    );
    None
}

/// The target directory (`target/`), where the artefacts of these tests stay.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target directory")
        .to_path_buf()
}

/// A fresh, empty directory `target/tmp/html/<name>`.
fn scratch(name: &str) -> PathBuf {
    crate::common::scratch("html", name)
}

/// A `file://` URL for an existing file (absolute, with unsafe characters percent-encoded).
fn file_url(path: &Path) -> String {
    let absolute = path
        .canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut url = String::from("file://");
    for b in absolute.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

/// What a Chromium run printed.
struct Printed {
    stdout: String,
    stderr: String,
}

/// Runs Chromium with [`CHROMIUM_FLAGS`], a fresh profile in `work`, logging to stderr and
/// `args`; fails the test if it exits unsuccessfully or outlives [`CHROMIUM_TIME_LIMIT`]
/// (then its whole process group is killed). Output goes to files in `work`, not pipes,
/// so a chatty browser cannot block on a full pipe.
fn run_chromium(exe: &Path, work: &Path, args: &[String]) -> Printed {
    let profile = work.join("profile");
    let _ = std::fs::remove_dir_all(&profile);
    let (out_path, err_path) = (work.join("stdout.txt"), work.join("stderr.txt"));
    let create = |p: &Path| File::create(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut command = Command::new(exe);
    command
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--enable-logging=stderr", "--v=0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(create(&out_path))
        .stderr(create(&err_path));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group, so that a hung browser is killed with its helpers.
        command.process_group(0);
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < CHROMIUM_TIME_LIMIT => {
                std::thread::sleep(Duration::from_millis(50));
            }
            outcome => {
                #[cfg(unix)]
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "Chromium {args:?} did not finish within {CHROMIUM_TIME_LIMIT:?} \
                     ({outcome:?}); killed"
                );
            }
        }
    };
    let read = |p: &Path| {
        String::from_utf8_lossy(
            &std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
        )
        .into_owned()
    };
    let printed = Printed {
        stdout: read(&out_path),
        stderr: read(&err_path),
    };
    assert!(
        status.success(),
        "Chromium {args:?} failed ({status}); stderr:\n{}",
        printed.stderr
    );
    printed
}

/// The lines where Chromium logged a message of the page's console. Chromium 156 logs
/// every level (`console.log` to `console.error`, and uncaught exceptions) alike, as
/// `[…:INFO:CONSOLE:<line>] "<message>", source: <url> (<line>)`, so the level cannot be
/// told apart: the report logs nothing at all, so any such line is a finding.
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

/// The value of `data-images-loaded` on `<body>` in a dumped DOM.
fn images_loaded(dom: &str) -> Option<&str> {
    body_attribute(dom, "data-images-loaded")
}

/// The value of attribute `name` of `<body>` in a DOM dump.
fn body_attribute<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let body = &dom[dom.find("<body")?..];
    let body = &body[..body.find('>')?];
    let key = format!("{name}=\"");
    let at = body.find(&key)? + key.len();
    Some(&body[at..at + body[at..].find('"')?])
}

/// Checks a screenshot: the expected size, mostly drawn on (not a blank page) and in
/// several colours (tables, text and charts, not one flat error page).
fn assert_screenshot_drawn(png: &Path, width: u32, height: u32) {
    let pixmap = resvg::tiny_skia::Pixmap::load_png(png)
        .unwrap_or_else(|e| panic!("{}: not a PNG: {e}", png.display()));
    assert_eq!((pixmap.width(), pixmap.height()), (width, height));
    let pixels = pixmap.pixels();
    let inked = pixels
        .iter()
        .filter(|p| p.red() < 235 || p.green() < 235 || p.blue() < 235)
        .count();
    let mut colours: Vec<(u8, u8, u8)> = pixels
        .iter()
        .map(|p| (p.red() >> 4, p.green() >> 4, p.blue() >> 4))
        .collect();
    colours.sort_unstable();
    colours.dedup();
    let share = inked as f64 / pixels.len() as f64;
    assert!(
        share > 0.01,
        "{}: only {:.2} % of the pixels are not white: a blank page?",
        png.display(),
        100.0 * share
    );
    assert!(
        colours.len() >= 8,
        "{}: only {} colours",
        png.display(),
        colours.len()
    );
}

#[test]
fn chromium_fits_every_table_of_a_large_report_in_1400_pixels() {
    let Some(exe) = chromium("chromium_fits_every_table_of_a_large_report_in_1400_pixels") else {
        return;
    };
    let work = scratch("wide-tables");
    let report = side_by_side(60);
    let page = work.join("index.html");
    std::fs::write(&page, render_html(&report, &[])).unwrap();
    let printed = run_chromium(
        &exe,
        &work,
        &[
            "--window-size=1400,1000".into(),
            "--dump-dom".into(),
            file_url(&page),
        ],
    );
    assert_eq!(
        body_attribute(&printed.stdout, "data-tables-overflowing"),
        Some("0"),
        "tables wider than the page at 1400 px; DOM:\n{}",
        printed.stdout
    );
}

#[test]
fn without_chromium_the_browser_checks_say_skipped_and_fail_under_ci() {
    // The suite itself, running one browser test with Chromium pointed at nothing.
    let exe = std::env::current_exe().expect("the test binary");
    let run = |ci: bool| {
        let mut cmd = Command::new(&exe);
        cmd.args([
            "--exact",
            "html::chromium_console_messages_are_detected",
            "--test-threads=1",
        ])
        .env("CHROMIUM", "/nonexistent/chromium")
        .env_remove("CI");
        if ci {
            cmd.env("CI", "true");
        }
        cmd.output().expect("the suite runs")
    };
    let local = run(false);
    let (out, err) = (
        String::from_utf8_lossy(&local.stdout),
        String::from_utf8_lossy(&local.stderr),
    );
    assert!(local.status.success(), "{out}\n{err}");
    assert!(out.contains("1 passed"), "{out}");
    assert!(
        err.contains("SKIPPED html::chromium_console_messages_are_detected")
            || err.contains("SKIPPED chromium_console_messages_are_detected"),
        "no SKIPPED line on stderr:\n{err}"
    );
    let ci = run(true);
    assert!(
        !ci.status.success(),
        "under CI a missing Chromium must fail:\n{}",
        String::from_utf8_lossy(&ci.stdout)
    );
}

#[test]
fn chromium_console_messages_are_detected() {
    // The canary of the console check: a page that logs an error must be caught, or the
    // "no console lines" assertion below would pass vacuously (say, if Chromium changed
    // its log format).
    let Some(exe) = chromium("chromium_console_messages_are_detected") else {
        return;
    };
    let work = scratch("console-canary");
    let page = work.join("canary.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><script>console.error(\"deliberate canary\");\
         </script></body></html>",
    )
    .unwrap();
    let printed = run_chromium(&exe, &work, &["--dump-dom".into(), file_url(&page)]);
    let lines = console_lines(&printed.stderr);
    assert!(
        lines.iter().any(|l| l.contains("deliberate canary")),
        "console.error not found in Chromium's log; the format changed?\n{}",
        printed.stderr
    );
}

#[test]
fn chromium_shows_every_image_of_a_page() {
    // The page with two charts of its own: embedding works in a real browser whatever the
    // chart modules draw.
    let Some(exe) = chromium("chromium_shows_every_image_of_a_page") else {
        return;
    };
    let work = scratch("fixture");
    let report = bundled_report("cascade.ron", 60);
    let charts: Vec<Chart> = ["#0072b2", "#e69f00", "#009e73"]
        .iter()
        .enumerate()
        .map(|(i, colour)| Chart {
            file: format!("fixture-{i}.svg"),
            title: format!("Fixture {i} <&>"),
            svg: bar_svg(colour),
        })
        .collect();
    let page = work.join("index.html");
    std::fs::write(&page, render_html(&report, &charts)).unwrap();
    let printed = run_chromium(&exe, &work, &["--dump-dom".into(), file_url(&page)]);
    assert_eq!(
        images_loaded(&printed.stdout),
        Some("3/3"),
        "DOM:\n{}",
        printed.stdout
    );
    assert_eq!(console_lines(&printed.stderr), Vec::<&str>::new());
}

#[test]
fn chromium_loads_every_chart_of_the_report() {
    let Some(exe) = chromium("chromium_loads_every_chart_of_the_report") else {
        return;
    };
    // The report as a user makes it: `microsim run … --out DIR`, kept in target/html-report.
    let dir = target_dir().join("html-report");
    let _ = std::fs::remove_dir_all(&dir);
    let o = Command::new(env!("CARGO_BIN_EXE_microsim"))
        .args(["run", "topologies/cascade.ron", "--duration", "6m", "--out"])
        .arg(&dir)
        .current_dir(root())
        .output()
        .expect("the microsim binary runs");
    assert!(
        o.status.success(),
        "microsim run failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let json = std::fs::read_to_string(dir.join("report.json")).expect("report.json");
    let report = Report::from_json(&json).expect("a report");
    let n = render_all(&report).len();
    assert!(
        n > 0,
        "render_all drew no chart for cascade.ron: nothing for the browser to load"
    );
    let svgs = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "svg")
        })
        .count();
    assert_eq!(svgs, n, "one SVG file per chart in {}", dir.display());
    let url = file_url(&dir.join("index.html"));
    let work = scratch("report");

    // (a) Every chart image decodes, and (c) the console stays silent.
    let printed = run_chromium(&exe, &work, &["--dump-dom".into(), url.clone()]);
    let expected = format!("{n}/{n}");
    assert_eq!(
        images_loaded(&printed.stdout),
        Some(expected.as_str()),
        "images loaded/total on <body>; DOM:\n{}",
        printed.stdout
    );
    assert_eq!(
        console_lines(&printed.stderr),
        Vec::<&str>::new(),
        "the page logged to the console"
    );

    // (b) The page as drawn: a screenshot that is not blank, kept next to the report.
    let png = dir.join("screenshot.png");
    let printed = run_chromium(
        &exe,
        &work,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1280,3000".into(),
            url,
        ],
    );
    assert!(png.exists(), "no screenshot; stderr:\n{}", printed.stderr);
    assert_screenshot_drawn(&png, 1280, 3000);
    assert_eq!(console_lines(&printed.stderr), Vec::<&str>::new());
}

#[test]
fn chromium_loads_every_chart_of_the_experiment_pages() {
    let Some(exe) = chromium("chromium_loads_every_chart_of_the_experiment_pages") else {
        return;
    };
    // The pages as a user makes them with `--out DIR`: replications of one arm, a comparison
    // of two files (with recovery: they have a fault) and a sweep of two axes with a target.
    // They stay in target/experiment-report/<kind> for a look.
    let kinds: [(&str, &[&str]); 3] = [
        (
            "replications",
            &[
                "run",
                "topologies/mm1.ron",
                "--reps",
                "3",
                "--duration",
                "20s",
            ],
        ),
        (
            "comparison",
            &[
                "compare",
                "topologies/no-breaker.ron",
                "topologies/breaker.ron",
                "--reps",
                "3",
                "--duration",
                "4m",
            ],
        ),
        (
            "sweep",
            &[
                "sweep",
                "topologies/mm1.ron",
                "--vary",
                "workload[clients].arrivals.per_second=600..900:150",
                "--vary",
                "services[server].workers=1,2",
                "--target",
                "p99<=30ms",
                "--reps",
                "2",
                "--duration",
                "20s",
            ],
        ),
    ];
    for (kind, args) in kinds {
        let dir = target_dir().join("experiment-report").join(kind);
        let _ = std::fs::remove_dir_all(&dir);
        let o = Command::new(env!("CARGO_BIN_EXE_microsim"))
            .args(args)
            .args(["--quiet", "--out"])
            .arg(&dir)
            .current_dir(root())
            .output()
            .expect("the microsim binary runs");
        assert!(
            o.status.success(),
            "{kind}: microsim failed:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let n = std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "svg")
            })
            .count();
        assert!(n >= 2, "{kind}: only {n} charts in {}", dir.display());
        let url = file_url(&dir.join("index.html"));
        let work = scratch(&format!("experiment-{kind}"));

        // Every chart image decodes, every table fits 1400 pixels, the console stays silent.
        let printed = run_chromium(
            &exe,
            &work,
            &[
                "--window-size=1400,1000".into(),
                "--dump-dom".into(),
                url.clone(),
            ],
        );
        let expected = format!("{n}/{n}");
        assert_eq!(
            images_loaded(&printed.stdout),
            Some(expected.as_str()),
            "{kind}: images loaded/total on <body>; DOM:\n{}",
            printed.stdout
        );
        assert_eq!(
            body_attribute(&printed.stdout, "data-tables-overflowing"),
            Some("0"),
            "{kind}: tables wider than the page at 1400 px; DOM:\n{}",
            printed.stdout
        );
        assert_eq!(
            console_lines(&printed.stderr),
            Vec::<&str>::new(),
            "{kind}: the page logged to the console"
        );

        // The page as drawn: a screenshot that is not blank, kept next to the page.
        let png = dir.join("screenshot.png");
        let printed = run_chromium(
            &exe,
            &work,
            &[
                format!("--screenshot={}", png.display()),
                "--window-size=1280,3000".into(),
                url,
            ],
        );
        assert!(
            png.exists(),
            "{kind}: no screenshot; stderr:\n{}",
            printed.stderr
        );
        assert_screenshot_drawn(&png, 1280, 3000);
        assert_eq!(console_lines(&printed.stderr), Vec::<&str>::new(), "{kind}");
    }
}

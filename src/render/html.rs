//! The HTML report: one self-contained page with the summary tables, the analytic shadow
//! beside the simulation, the lints, the faults and every chart.
//!
//! The page needs nothing but itself: no network, no external fonts or scripts, the charts
//! embedded as `data:` URIs, so `index.html` can be opened from disk, mailed or archived. It
//! is rendered from a [`Report`] alone (as the charts are), so a saved `report.json` gives
//! the same page as the live run (`microsim chart report.json --out DIR`), byte for byte:
//! the output depends on nothing but the report and the charts (no clock, no paths).
//!
//! Every piece of text that comes from the report (names, labels, lint messages, chart
//! titles) is escaped, so names with `&`, `<`, `>`, `"` or `'` cannot break the markup.
//!
//! A small inline script, on `load`, counts the images that decoded (`complete` and a
//! `naturalWidth` above 0) and writes `data-images-loaded="<loaded>/<total>"` on `<body>`,
//! and the tables wider than the page as `data-tables-overflowing`: a headless browser's
//! dump of the DOM then says whether every chart displayed and every table fits.

use super::summary::{group, human_s};
use crate::analysis::{CallAnalysis, EntryAnalysis, LintLevel, ServiceAnalysis};
use crate::chart::Chart;
use crate::outcome::{Outcome, Outcomes};
use crate::report::{CallReport, EntryReport, QueueReport, Report, ServiceReport};
use std::fmt::Write;

/// The style sheet: system fonts, tables with right-aligned tabular numbers, charts scaled
/// to the page width.
const STYLE: &str = r#"
:root { --fg: #1d2430; --muted: #5b6472; --line: #d9dee5; --head: #f2f4f7; --accent: #0072b2; --bad: #b34700; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1320px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { font-size: 1.25em; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.05em; margin: 20px 0 6px; }
p { margin: 6px 0 10px; max-width: 62em; }
.meta, .note, figcaption, footer { color: var(--muted); }
nav { margin: 12px 0 0; font-size: 14px; }
nav a { color: var(--accent); text-decoration: none; margin-right: 14px; }
nav a:hover { text-decoration: underline; }
.scroll { overflow-x: auto; margin: 6px 0 12px; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 7px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; vertical-align: top; }
th { background: var(--head); font-weight: 600; border-bottom: 2px solid var(--line); }
th[title] { cursor: help; }
.n { text-align: right; }
td.wrap { white-space: normal; min-width: 24em; }
tbody tr:hover { background: #f7f9fb; }
.warn { color: var(--bad); }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; font-weight: 600; }
.warning { background: #fdf0d5; color: #7a4a00; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12px; }
figure { margin: 18px 0 28px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { font-size: 13px; margin-top: 6px; }
footer { margin-top: 40px; font-size: 12px; }
"#;

/// Counts the images that decoded and records `loaded/total` on `<body>`, and the tables
/// wider than their box (which then scroll sideways) as `data-tables-overflowing`, for
/// browser tests. The experiment page uses it too.
pub(crate) const SCRIPT: &str = r#"
window.addEventListener("load", function () {
  var images = document.images, loaded = 0;
  for (var i = 0; i < images.length; i++) {
    if (images[i].complete && images[i].naturalWidth > 0) { loaded++; }
  }
  document.body.setAttribute("data-images-loaded", loaded + "/" + images.length);
  var boxes = document.querySelectorAll(".scroll"), wide = 0;
  for (var j = 0; j < boxes.length; j++) {
    if (boxes[j].scrollWidth > boxes[j].clientWidth + 1) { wide++; }
  }
  document.body.setAttribute("data-tables-overflowing", String(wide));
});
"#;

/// Renders `report` and its `charts` (as from [`crate::chart::render_all`]) as one
/// self-contained HTML page: the page `microsim run --out DIR` writes to `DIR/index.html`.
///
/// Deterministic: the same report and charts give the same bytes.
pub fn render_html(report: &Report, charts: &[Chart]) -> String {
    let r = report;
    let mut out = String::with_capacity(
        16 * 1024
            + charts
                .iter()
                .map(|c| c.svg.len() * 4 / 3 + 256)
                .sum::<usize>(),
    );
    let title = format!(
        "microsim · {} · seed {} · {}",
        r.topology,
        r.seed,
        human_s(r.duration_s)
    );
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", esc(&title));
    let _ = writeln!(out, "<style>{STYLE}</style>");
    out.push_str("</head>\n<body>\n<main>\n");
    header(r, charts, &mut out);
    entries(r, &mut out);
    services(r, &mut out);
    calls(r, &mut out);
    topics(r, &mut out);
    queues(r, &mut out);
    comparison(r, &mut out);
    lints(r, &mut out);
    faults(r, &mut out);
    figures(charts, &mut out);
    let _ = writeln!(
        out,
        "<footer>Written by microsim {} from a report of schema {}.</footer>",
        env!("CARGO_PKG_VERSION"),
        r.schema
    );
    out.push_str("</main>\n");
    let _ = writeln!(out, "<script>{SCRIPT}</script>");
    out.push_str("</body>\n</html>\n");
    out
}

/// The heading, the run's parameters and links to the sections.
fn header(r: &Report, charts: &[Chart], out: &mut String) {
    let _ = writeln!(out, "<h1>microsim · {}</h1>", esc(&r.topology));
    let _ = writeln!(
        out,
        "<p class=\"meta\">seed {} · {} simulated ({} warm-up, statistics over the {} after it) \
         · {} events</p>",
        r.seed,
        esc(&human_s(r.duration_s)),
        esc(&human_s(r.warmup_s)),
        esc(&human_s(r.duration_s - r.warmup_s)),
        group(r.events)
    );
    let mut links = vec![("entries", "Entry points"), ("services", "Services")];
    if !r.calls.is_empty() {
        links.push(("calls", "Sync calls"));
    }
    if !r.topics.is_empty() {
        links.push(("topics", "Topics"));
    }
    if !r.queues.is_empty() {
        links.push(("queues", "Work queues"));
    }
    links.extend([
        ("analytic", "Analytic vs simulated"),
        ("lints", "Lints"),
        ("faults", "Faults"),
    ]);
    if !charts.is_empty() {
        links.push(("charts", "Charts"));
    }
    out.push_str("<nav>");
    for (id, label) in links {
        let _ = write!(out, "<a href=\"#{id}\">{label}</a>");
    }
    out.push_str("</nav>\n");
}

/// The entry points: what the clients saw, with the analytic availability beside it.
fn entries(r: &Report, out: &mut String) {
    section(out, "entries", "Entry points");
    let _ = writeln!(
        out,
        "<p class=\"note\">Requests sent after the warm-up. Availability is (ok + degraded) / \
         answered requests; <em>analytic</em> is the product over the required sync calls, \
         which knows nothing of overload: the gap (Δ, in percentage points) is what queues, \
         timeouts and rejections cost. {ONE_RUN}</p>"
    );
    let shown = shown_outcomes(r.entries.iter().map(|e| &e.outcomes));
    let mut t = Table::new()
        .col("entry", "entry point", false)
        .col("service", "the service it sends requests to", false)
        .col("offered", "requests that arrived after the warm-up", true)
        .col("availability %", "simulated, request-based", true)
        .col(
            "analytic %",
            "availability product over required sync calls",
            true,
        )
        .col("Δ", "simulated − analytic, in percentage points", true);
    for &o in &shown {
        t = t.col(outcome_label(o), outcome_tip(o), true);
    }
    t = t
        .col("in flight", "unanswered when the run ended", true)
        .col("answers /s", "throughput: answers per second", true)
        .col("goodput /s", "successful answers per second", true);
    for e in &r.entries {
        let analytic = entry_analysis(r, e).map(|a| a.availability);
        let mut row = vec![
            esc(&e.name),
            esc(&e.service),
            group(e.offered),
            fixed(100.0 * e.availability, 3),
            analytic.map_or_else(dash, |a| fixed(100.0 * a, 3)),
            analytic.map_or_else(dash, |a| signed(100.0 * (e.availability - a), 3)),
        ];
        row.extend(shown.iter().map(|&o| group(e.outcomes.get(o))));
        row.extend([
            group(e.in_flight),
            fixed(e.throughput_per_s, 2),
            fixed(e.goodput_per_s, 2),
        ]);
        t.row(row);
    }
    t.render(out);
    for e in &r.entries {
        if e.offered > 0 && e.in_flight * 100 > e.offered {
            let _ = writeln!(
                out,
                "<p class=\"warn\">{}: {} of {} requests ({:.1} %) were still unanswered when \
                 the run ended; availability and latency describe only the answered ones. Run \
                 with <code>--drain</code> or for longer.</p>",
                esc(&e.name),
                group(e.in_flight),
                group(e.offered),
                100.0 * e.in_flight as f64 / e.offered as f64
            );
        }
    }

    out.push_str("<h3>Latency as the clients saw it (all answers)</h3>\n");
    let mut t = Table::new()
        .col("entry", "entry point", false)
        .col("answers", "latency samples", true)
        .col("mean ms", "exact mean", true)
        .col("p50 ms", "median", true)
        .col("p90 ms", "90th percentile", true)
        .col("p95 ms", "95th percentile", true)
        .col("p99 ms", "99th percentile", true)
        .col("p99.9 ms", "99.9th percentile", true)
        .col("max ms", "largest", true);
    for e in &r.entries {
        let l = &e.latency;
        t.row(vec![
            esc(&e.name),
            group(l.count),
            fixed(l.mean_ms, 2),
            fixed(l.p50_ms, 2),
            fixed(l.p90_ms, 2),
            fixed(l.p95_ms, 2),
            fixed(l.p99_ms, 2),
            fixed(l.p999_ms, 2),
            fixed(l.max_ms, 2),
        ]);
    }
    t.render(out);
}

/// What one run can say about the uncertainty of its availability: nothing honest. The
/// binomial standard error assumes independent answers, and the answers of one run are
/// correlated (a slow minute fails many in a row), so it understates the spread several-fold.
const ONE_RUN: &str =
    "One run: no interval; run with <code>--reps N</code> for a confidence interval.";

/// The services: load, queues and latency with the analytic utilization; then what was
/// refused, lost or orphaned (two tables, so that neither is wider than the page).
fn services(r: &Report, out: &mut String) {
    section(out, "services", "Services");
    let _ = writeln!(out, "<p class=\"note\">After the warm-up.</p>");
    let extra = |f: fn(&ServiceReport) -> u64| r.services.iter().any(|s| f(s) > 0);
    let (unavailable, expired, cancelled) = (
        extra(|s| s.unavailable),
        extra(|s| s.expired),
        extra(|s| s.cancelled),
    );
    let failures = r.services.iter().any(|s| s.time_availability < 1.0)
        || r.analysis
            .services
            .iter()
            .any(|a| a.time_availability < 1.0);
    let mut t = Table::new()
        .col("service", "", false)
        .col("pool", "replicas × workers per replica", true)
        .col("arrivals", "requests that reached a replica", true)
        .col(
            "utilization",
            "simulated: mean busy workers / workers",
            true,
        )
        .col("analytic ρ", "utilization from the traffic equations", true)
        .col("peak ρ", "analytic utilization at the peak rate", true)
        .col("mean queue", "time-averaged requests waiting", true)
        .col("max queue", "most requests waiting at once", true)
        .col("mean ms", "mean time at the service", true)
        .col("p50 ms", "median time at the service", true)
        .col("p99 ms", "99th percentile time at the service", true);
    for s in &r.services {
        let a = service_analysis(r, s);
        t.row(vec![
            esc(&s.name),
            format!("{}×{}", s.replicas, s.workers),
            group(s.arrivals),
            fixed(s.utilization, 3),
            a.map_or_else(dash, |a| fixed(a.utilization, 3)),
            a.map_or_else(dash, |a| fixed(a.peak_utilization, 3)),
            fixed(s.mean_queue, 2),
            group(s.max_queue),
            fixed(s.latency.mean_ms, 2),
            fixed(s.latency.p50_ms, 2),
            fixed(s.latency.p99_ms, 2),
        ]);
    }
    t.render(out);

    out.push_str("<h3>Refused, lost and orphaned</h3>\n");
    let mut t = Table::new().col("service", "", false).col(
        "rejected",
        "refused at the door: queue full",
        true,
    );
    if unavailable {
        t = t.col("unavailable", "refused or lost by a crashed replica", true);
    }
    if expired {
        t = t.col("expired", "dropped unstarted: deadline passed", true);
    }
    if cancelled {
        t = t.col(
            "cancelled",
            "cancelled unstarted by a caller that gave up",
            true,
        );
    }
    if failures {
        t = t
            .col(
                "up time %",
                "simulated share of time with a replica up",
                true,
            )
            .col("analytic %", "1 − (1 − MTTF/(MTTF+MTTR))^replicas", true);
    }
    t = t
        .col("orphaned", "requests whose caller had given up", true)
        .col(
            "orphan worker-s",
            "worker-seconds spent on them after that",
            true,
        );
    for s in &r.services {
        let a = service_analysis(r, s);
        let mut row = vec![esc(&s.name), group(s.rejected)];
        if unavailable {
            row.push(group(s.unavailable));
        }
        if expired {
            row.push(group(s.expired));
        }
        if cancelled {
            row.push(group(s.cancelled));
        }
        if failures {
            row.push(fixed(100.0 * s.time_availability, 3));
            row.push(a.map_or_else(dash, |a| fixed(100.0 * a.time_availability, 3)));
        }
        row.extend([group(s.orphaned), fixed(s.orphaned_work_s, 2)]);
        t.row(row);
    }
    t.render(out);

    // Who holds the workers, for services whose workers do more than work.
    let holders: Vec<&ServiceReport> = r
        .services
        .iter()
        .filter(|s| {
            s.occupancy
                .iter()
                .any(|o| o.state != "working" && o.workers > 0.005)
        })
        .collect();
    if holders.is_empty() {
        return;
    }
    out.push_str("<h3>Who holds the workers</h3>\n");
    let mut t = Table::new()
        .col("service", "", false)
        .col("busy", "mean busy workers", true)
        .col("of", "workers, all replicas", true)
        .col("by what they do", "time-averaged workers per state", false);
    for s in holders {
        let parts: Vec<String> = s
            .occupancy
            .iter()
            .filter(|o| o.workers > 0.005)
            .map(|o| format!("{} {}", fixed(o.workers, 1), esc(&o.state)))
            .collect();
        t.row(vec![
            esc(&s.name),
            fixed(s.mean_busy_workers, 1),
            (u64::from(s.replicas) * u64::from(s.workers)).to_string(),
            parts.join(", "),
        ]);
    }
    t.render(out);
}

/// The sync calls as their callers saw them, with retries, breakers and bulkheads.
fn calls(r: &Report, out: &mut String) {
    if r.calls.is_empty() {
        return;
    }
    section(out, "calls", "Sync calls");
    let _ = writeln!(
        out,
        "<p class=\"note\">As the caller saw them, after retries. Amplification is attempts \
         per call; <em>analytic</em> is the expected attempts if attempts failed \
         independently.</p>"
    );
    let shown = shown_outcomes(r.calls.iter().map(|c| &c.outcomes));
    let retries = r
        .calls
        .iter()
        .any(|c| c.retries > 0 || c.retries_denied > 0)
        || r.analysis.calls.iter().any(|a| a.attempts > 1);
    let breakers = r.calls.iter().any(|c| c.breaker.is_some());
    let bulkheads = r.calls.iter().any(|c| c.bulkhead_rejections > 0);
    let mut t = Table::new()
        .col("call", "caller → callee", false)
        .col("step", "where the step is in the file", false)
        .col("calls", "original calls after the warm-up", true);
    if retries {
        t = t
            .col("attempts", "attempts sent to the callee", true)
            .col("ampl.", "attempts / calls", true)
            .col("analytic", "expected attempts per call", true)
            .col("retries", "retries scheduled", true)
            .col("denied", "retries the budget refused", true);
    }
    t = t.col("ok", "successful calls", true);
    for &o in &shown {
        t = t.col(outcome_label(o), outcome_tip(o), true);
    }
    t = t.col("in flight", "unfinished when the run ended", true);
    if breakers {
        t = t
            .col("not permitted", "calls the breaker refused", true)
            .col("transitions", "breaker state changes (whole run)", true)
            .col("open s", "time open, summed over replicas", true);
    }
    if bulkheads {
        t = t.col("bulkhead", "attempts the bulkhead refused", true);
    }
    t = t.col("p50 ms", "median call latency", true).col(
        "p99 ms",
        "99th percentile call latency",
        true,
    );
    for (i, c) in r.calls.iter().enumerate() {
        let a = call_analysis(r, i, c);
        let mut row = vec![
            format!("{} → {}", esc(&c.from), esc(&c.to)),
            format!("<code>{}</code>", esc(&c.step)),
            group(c.calls),
        ];
        if retries {
            row.extend([
                group(c.attempts),
                fixed(c.amplification, 3),
                a.map_or_else(dash, |a| fixed(a.expected_attempts, 3)),
                group(c.retries),
                group(c.retries_denied),
            ]);
        }
        row.push(group(c.outcomes.ok));
        row.extend(shown.iter().map(|&o| group(c.outcomes.get(o))));
        row.push(group(c.in_flight));
        if breakers {
            match &c.breaker {
                Some(b) => row.extend([
                    group(b.not_permitted),
                    group(b.transitions),
                    fixed(b.open_s, 1),
                ]),
                None => row.extend([dash(), dash(), dash()]),
            }
        }
        if bulkheads {
            row.push(group(c.bulkhead_rejections));
        }
        row.extend([fixed(c.latency.p50_ms, 2), fixed(c.latency.p99_ms, 2)]);
        t.row(row);
    }
    t.render(out);
}

/// The broker's topics, one row per consumer group, with the analytic capacity.
fn topics(r: &Report, out: &mut String) {
    if r.topics.is_empty() {
        return;
    }
    section(out, "topics", "Topics");
    let _ = writeln!(
        out,
        "<p class=\"note\">Over the whole run, warm-up included (produced = consumed + lag + \
         expired + dead-lettered); latency from publish to processed.</p>"
    );
    let groups = r.topics.iter().flat_map(|t| t.groups.iter());
    let redelivery = groups
        .clone()
        .any(|g| g.redelivered > 0 || g.duplicates > 0 || g.skipped > 0);
    let mut t = Table::new()
        .col("topic → group", "topic and subscribing service", false)
        .col("partitions", "", true)
        .col("consumers", "consumers in the group", true)
        .col("produced", "messages published", true)
        .col("consumed", "messages processed and committed", true)
        .col("failed", "processing attempts that failed", true)
        .col("retries", "retries of failed messages", true)
        .col("dead-lettered", "failed every attempt", true)
        .col("expired", "deleted by retention unconsumed", true);
    if redelivery {
        t = t
            .col("redelivered", "delivered again after a crash", true)
            .col("duplicates", "processed more than once", true)
            .col(
                "skipped",
                "redeliveries an idempotent consumer skipped",
                true,
            );
    }
    let mut lag = Table::new()
        .col("topic → group", "topic and subscribing service", false)
        .col("lag", "uncommitted messages at the end", true)
        .col("max lag", "largest lag at a bucket boundary", true)
        .col(
            "max lag s",
            "largest age of the oldest uncommitted message",
            true,
        )
        .col(
            "drained in s",
            "from the highest lag back to its level before (–: no message waited 1 s)",
            true,
        )
        .col("mean ms", "mean publish-to-processed latency", true)
        .col("p50 ms", "median publish-to-processed latency", true)
        .col(
            "p99 ms",
            "99th percentile publish-to-processed latency",
            true,
        );
    let mut capacity = Table::new()
        .col("topic → group", "topic and subscribing service", false)
        .col("consumers used", "min(consumers, partitions)", true)
        .col("rate /s", "messages published per second", true)
        .col("capacity /s", "consumers used / mean processing time", true)
        .col("ρ", "rate / capacity", true)
        .col("lag growth /s", "rate − capacity when over capacity", true);
    for topic in &r.topics {
        let ta = r.analysis.topics.iter().find(|a| a.name == topic.name);
        for g in &topic.groups {
            let name = format!("{} → {}", esc(&topic.name), esc(&g.service));
            let mut row = vec![
                name.clone(),
                topic.partitions.to_string(),
                g.consumers.to_string(),
                group(topic.produced),
                group(g.consumed),
                group(g.failed),
                group(g.retries),
                group(g.dead_lettered),
                group(g.expired),
            ];
            if redelivery {
                row.extend([group(g.redelivered), group(g.duplicates), group(g.skipped)]);
            }
            t.row(row);
            lag.row(vec![
                name.clone(),
                group(g.lag),
                group(g.max_lag),
                fixed(g.max_time_lag_s, 3),
                // A group whose oldest message never waited a second had no backlog.
                g.drained_in_s
                    .filter(|_| g.max_time_lag_s >= 1.0)
                    .map_or_else(dash, |d| fixed(d, 1)),
                fixed(g.latency.mean_ms, 2),
                fixed(g.latency.p50_ms, 2),
                fixed(g.latency.p99_ms, 2),
            ]);
            let analysed = ta.and_then(|a| {
                let ga = a.groups.iter().find(|x| x.service == g.service)?;
                Some((a, ga))
            });
            if let Some((ta, ga)) = analysed {
                capacity.row(vec![
                    name,
                    ga.consumers_used.to_string(),
                    fixed(ta.rate_per_s, 2),
                    fixed(ga.capacity_per_s, 2),
                    fixed(ga.utilization, 3),
                    fixed(ga.lag_growth_per_s, 2),
                ]);
            }
        }
    }
    t.render(out);
    out.push_str("<h3>Lag and latency</h3>\n");
    lag.render(out);
    if !capacity.rows.is_empty() {
        out.push_str("<h3>Consumer capacity (analytic)</h3>\n");
        capacity.render(out);
    }
}

/// The broker's work queues and their competing consumers, with the analytic capacity.
fn queues(r: &Report, out: &mut String) {
    if r.queues.is_empty() {
        return;
    }
    section(out, "queues", "Work queues");
    let _ = writeln!(
        out,
        "<p class=\"note\">Over the whole run, warm-up included; latency from send to \
         acknowledged.</p>"
    );
    // Failure columns, shown when some queue has a non-zero value.
    type Column = (&'static str, &'static str, fn(&QueueReport) -> u64);
    let optional: [Column; 5] = [
        ("failed", "processing attempts that failed", |q| q.failed),
        (
            "redelivered",
            "deliveries of a message delivered before",
            |q| q.redelivered,
        ),
        (
            "duplicates",
            "acknowledged after the visibility timeout",
            |q| q.duplicates,
        ),
        ("dead-lettered", "moved to the dead-letter queue", |q| {
            q.dead_lettered
        }),
        ("expired", "deleted by retention: lost", |q| q.expired),
    ];
    let shown: Vec<&Column> = optional
        .iter()
        .filter(|(_, _, value)| r.queues.iter().any(|q| value(q) > 0))
        .collect();
    let mut t = Table::new()
        .col("queue → service", "queue and consuming service", false)
        .col("consumers", "competing consumers", true)
        .col(
            "prefetch",
            "unacknowledged messages per consumer (0: unlimited)",
            true,
        )
        .col("sent", "messages sent", true)
        .col("acked", "processed and acknowledged", true);
    for (head, tip, _) in &shown {
        t = t.col(head, tip, true);
    }
    t = t
        .col("depth", "ready messages at the end", true)
        .col("in flight", "delivered, unacknowledged at the end", true)
        .col("max depth", "largest depth at a bucket boundary", true)
        .col("max age s", "largest age of the oldest ready message", true)
        .col("p50 ms", "median send-to-acknowledged latency", true)
        .col(
            "p99 ms",
            "99th percentile send-to-acknowledged latency",
            true,
        );
    let mut capacity = Table::new()
        .col("queue → service", "queue and consuming service", false)
        .col("concurrency", "messages processed at once at most", true)
        .col("rate /s", "messages sent per second", true)
        .col("capacity /s", "concurrency / mean processing time", true)
        .col("ρ", "rate / capacity", true)
        .col(
            "backlog growth /s",
            "rate − capacity when over capacity",
            true,
        );
    for q in &r.queues {
        let name = format!("{} → {}", esc(&q.name), esc(&q.service));
        let mut row = vec![
            name.clone(),
            q.consumers.to_string(),
            q.prefetch.to_string(),
            group(q.sent),
            group(q.acked),
        ];
        row.extend(shown.iter().map(|(_, _, value)| group(value(q))));
        row.extend([
            group(q.depth),
            group(q.in_flight),
            group(q.max_depth),
            fixed(q.max_age_s, 3),
            fixed(q.latency.p50_ms, 2),
            fixed(q.latency.p99_ms, 2),
        ]);
        t.row(row);
        if let Some(a) = r.analysis.queues.iter().find(|a| a.name == q.name) {
            capacity.row(vec![
                name,
                a.concurrency.to_string(),
                fixed(a.rate_per_s, 2),
                fixed(a.capacity_per_s, 2),
                fixed(a.utilization, 3),
                fixed(a.backlog_growth_per_s, 2),
            ]);
        }
    }
    t.render(out);
    if !capacity.rows.is_empty() {
        out.push_str("<h3>Consumer capacity (analytic)</h3>\n");
        capacity.render(out);
    }
}

/// Every quantity the analytic shadow predicts next to what the simulation measured, one
/// table per kind of thing (entry points, services, calls, the broker) and one row per
/// thing, the simulated and analytic values of a quantity side by side.
fn comparison(r: &Report, out: &mut String) {
    section(out, "analytic", "Analytic vs simulated");
    let _ = writeln!(
        out,
        "<p class=\"note\">What theory predicts from the model alone (what <code>microsim \
         check</code> prints) beside what the run measured. The availability product and the \
         traffic equations ignore overload, timeouts and correlated failures; where the \
         simulation departs from them, that is the effect the run shows. Queue predictions \
         (M/M/c) apply exactly only to exponential work without calls. {ONE_RUN}</p>"
    );
    // Entry points.
    let mut t = Table::new()
        .col("entry", "", false)
        .col("availability %", "simulated", true)
        .col("analytic %", "availability product", true)
        .col("Δ", "simulated − analytic, in percentage points", true);
    for e in &r.entries {
        if let Some(a) = entry_analysis(r, e) {
            t.row(vec![
                esc(&e.name),
                fixed(100.0 * e.availability, 3),
                fixed(100.0 * a.availability, 3),
                signed(100.0 * (e.availability - a.availability), 3),
            ]);
        }
    }
    if !t.rows.is_empty() {
        out.push_str("<h3>Entry points</h3>\n");
        t.render(out);
    }

    // Services.
    let analysed: Vec<(&ServiceReport, &ServiceAnalysis)> = r
        .services
        .iter()
        .filter_map(|s| Some((s, service_analysis(r, s)?)))
        .collect();
    let down = analysed
        .iter()
        .any(|(s, a)| s.time_availability < 1.0 || a.time_availability < 1.0);
    let queueing = analysed.iter().any(|(_, a)| a.queue_model.is_some());
    let mut t = Table::new()
        .col("service", "", false)
        .col("ρ", "simulated utilization", true)
        .col("analytic ρ", "from the traffic equations", true)
        .col("Δ", "simulated − analytic", true);
    if down {
        t = t
            .col(
                "up time %",
                "simulated share of time with a replica up",
                true,
            )
            .col("analytic %", "1 − (1 − MTTF/(MTTF+MTTR))^replicas", true);
    }
    if queueing {
        t = t
            .col("queue model", "where a closed form applies", false)
            .col("mean ms", "simulated mean time at the service", true)
            .col("analytic", "predicted mean time at the service", true)
            .col("L", "simulated mean requests at the service", true)
            .col("analytic", "predicted mean requests at the service", true)
            .col("P(reject)", "simulated share of arrivals rejected", true)
            .col("analytic", "predicted", true);
    }
    for (s, a) in &analysed {
        let mut row = vec![
            esc(&s.name),
            fixed(s.utilization, 3),
            fixed(a.utilization, 3),
            signed(s.utilization - a.utilization, 3),
        ];
        if down {
            row.push(fixed(100.0 * s.time_availability, 3));
            row.push(fixed(100.0 * a.time_availability, 3));
        }
        if queueing {
            match &a.queue_model {
                Some(q) => {
                    let p_reject = if s.arrivals == 0 {
                        0.0
                    } else {
                        s.rejected as f64 / s.arrivals as f64
                    };
                    row.extend([
                        esc(&q.model),
                        fixed(s.latency.mean_ms, 3),
                        fixed(q.mean_sojourn_ms, 3),
                        fixed(s.mean_in_system, 3),
                        fixed(q.mean_in_system, 3),
                        fixed(p_reject, 5),
                        fixed(q.p_reject, 5),
                    ]);
                }
                None => row.extend(std::iter::repeat_n(dash(), 7)),
            }
        }
        t.row(row);
    }
    if !t.rows.is_empty() {
        out.push_str("<h3>Services</h3>\n");
        t.render(out);
    }

    // Sync calls.
    let mut t = Table::new()
        .col("call", "caller → callee", false)
        .col(
            "availability %",
            "simulated: (ok + degraded) / answered",
            true,
        )
        .col("analytic %", "with retries, attempts independent", true)
        .col("attempts per call", "simulated amplification", true)
        .col("analytic", "expected attempts per call", true);
    for (i, c) in r.calls.iter().enumerate() {
        let Some(a) = call_analysis(r, i, c) else {
            continue;
        };
        let answered = c.outcomes.total();
        t.row(vec![
            format!("{} → {}", esc(&c.from), esc(&c.to)),
            if answered > 0 {
                fixed(100.0 * c.outcomes.available() as f64 / answered as f64, 3)
            } else {
                dash()
            },
            fixed(100.0 * a.availability, 3),
            if c.calls > 0 {
                fixed(c.amplification, 3)
            } else {
                dash()
            },
            fixed(a.expected_attempts, 3),
        ]);
    }
    if !t.rows.is_empty() {
        out.push_str("<h3>Sync calls</h3>\n");
        t.render(out);
    }

    // The broker.
    let mut t = Table::new()
        .col("topic or queue", "", false)
        .col("messages /s", "simulated, over the whole run", true)
        .col("analytic", "traffic equations", true);
    if r.duration_s > 0.0 {
        for topic in &r.topics {
            if let Some(a) = r.analysis.topics.iter().find(|a| a.name == topic.name) {
                t.row(vec![
                    format!("topic {}", esc(&topic.name)),
                    fixed(topic.produced as f64 / r.duration_s, 2),
                    fixed(a.rate_per_s, 2),
                ]);
            }
        }
        for q in &r.queues {
            if let Some(a) = r.analysis.queues.iter().find(|a| a.name == q.name) {
                t.row(vec![
                    format!("queue {}", esc(&q.name)),
                    fixed(q.sent as f64 / r.duration_s, 2),
                    fixed(a.rate_per_s, 2),
                ]);
            }
        }
    }
    if !t.rows.is_empty() {
        out.push_str("<h3>The broker</h3>\n");
        t.render(out);
    }
}

/// The lints of the analytic shadow.
fn lints(r: &Report, out: &mut String) {
    section(out, "lints", "Lints");
    if r.analysis.lints.is_empty() {
        out.push_str("<p class=\"note\">No lints: nothing in the model looked suspicious.</p>\n");
        return;
    }
    let mut t = Table::new()
        .col("level", "", false)
        .col("code", "", false)
        .col("where", "path in the topology file", false)
        .col("message", "", false);
    for l in &r.analysis.lints {
        let level = match l.level {
            LintLevel::Warning => "warning",
        };
        t.row(vec![
            format!("<span class=\"badge {level}\">{level}</span>"),
            format!("<code>{}</code>", esc(&l.code)),
            format!("<code>{}</code>", esc(&l.path)),
            esc(&l.message),
        ]);
    }
    t.wrap_last = true;
    t.render(out);
}

/// The fault timeline.
fn faults(r: &Report, out: &mut String) {
    section(out, "faults", "Faults");
    if r.faults.is_empty() {
        out.push_str("<p class=\"note\">No faults in the timeline.</p>\n");
        return;
    }
    let mut t = Table::new()
        .col("fault", "", false)
        .col("from", "start", true)
        .col("to", "end", true)
        .col("lasts", "", true);
    for f in &r.faults {
        let (end, lasts) = if !f.end_s.is_finite() {
            ("after the run".to_string(), dash())
        } else if f.end_s > r.duration_s {
            (
                format!("{} (after the run)", esc(&human_s(f.end_s))),
                esc(&human_s(f.end_s - f.start_s)),
            )
        } else {
            (esc(&human_s(f.end_s)), esc(&human_s(f.end_s - f.start_s)))
        };
        t.row(vec![esc(&f.label), esc(&human_s(f.start_s)), end, lasts]);
    }
    t.render(out);
}

/// Every chart, inline as a `data:` image with its title as alt text and caption.
fn figures(charts: &[Chart], out: &mut String) {
    if charts.is_empty() {
        return;
    }
    section(out, "charts", "Charts");
    for c in charts {
        let title = esc(&c.title);
        let _ = writeln!(
            out,
            "<figure id=\"chart-{}\">\n<img src=\"data:image/svg+xml;base64,{}\" alt=\"{title}\">\n\
             <figcaption>{title}</figcaption>\n</figure>",
            esc(&c.file),
            base64(c.svg.as_bytes()),
        );
    }
}

/// Opens a section with an anchor.
fn section(out: &mut String, id: &str, title: &str) {
    let _ = writeln!(out, "<h2 id=\"{id}\">{title}</h2>");
}

/// An HTML table built column by column; cells are HTML already escaped by the caller.
struct Table {
    /// Header, tooltip (empty for none), and whether the column holds numbers.
    cols: Vec<(String, &'static str, bool)>,
    /// Rows of cells, as many as columns.
    rows: Vec<Vec<String>>,
    /// Whether the last column may wrap (long messages).
    wrap_last: bool,
}

impl Table {
    /// An empty table.
    fn new() -> Table {
        Table {
            cols: Vec::new(),
            rows: Vec::new(),
            wrap_last: false,
        }
    }

    /// Adds a column: its header, a tooltip explaining it, and whether it holds numbers
    /// (right-aligned).
    fn col(mut self, head: &str, tip: &'static str, numeric: bool) -> Table {
        self.cols.push((esc(head), tip, numeric));
        self
    }

    /// Adds a row of escaped HTML cells.
    fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.cols.len(), "one cell per column");
        self.rows.push(cells);
    }

    /// Appends the table, in a box that scrolls sideways when it is wider than the page.
    fn render(&self, out: &mut String) {
        out.push_str("<div class=\"scroll\"><table>\n<thead><tr>");
        for (head, tip, numeric) in &self.cols {
            let class = if *numeric { " class=\"n\"" } else { "" };
            if tip.is_empty() {
                let _ = write!(out, "<th{class}>{head}</th>");
            } else {
                let _ = write!(out, "<th{class} title=\"{}\">{head}</th>", esc(tip));
            }
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for row in &self.rows {
            out.push_str("<tr>");
            for (i, cell) in row.iter().enumerate() {
                let numeric = self.cols.get(i).is_some_and(|c| c.2);
                let class = if numeric {
                    " class=\"n\""
                } else if self.wrap_last && i + 1 == row.len() {
                    " class=\"wrap\""
                } else {
                    ""
                };
                let _ = write!(out, "<td{class}>{cell}</td>");
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table></div>\n");
    }
}

/// The failure outcomes worth a column: error, timeout and rejected always, the others
/// (and `degraded`) when they happened.
fn shown_outcomes<'a>(rows: impl Iterator<Item = &'a Outcomes> + Clone) -> Vec<Outcome> {
    Outcome::ALL
        .into_iter()
        .filter(|&o| o != Outcome::Ok)
        .filter(|&o| {
            matches!(o, Outcome::Error | Outcome::Timeout | Outcome::Rejected)
                || rows.clone().any(|r| r.get(o) > 0)
        })
        .collect()
}

/// A column header for an outcome.
fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::CircuitOpen => "circuit open",
        o => o.name(),
    }
}

/// A tooltip for an outcome's column.
fn outcome_tip(o: Outcome) -> &'static str {
    match o {
        Outcome::Error => "answered with an error",
        Outcome::Timeout => "the caller stopped waiting",
        Outcome::Rejected => "refused: a queue or bulkhead was full",
        Outcome::CircuitOpen => "refused by the caller's circuit breaker",
        Outcome::Unavailable => "a crashed replica",
        Outcome::Degraded => "a fallback answered",
        _ => "",
    }
}

/// The analytic prediction for entry point `e`.
fn entry_analysis<'a>(r: &'a Report, e: &EntryReport) -> Option<&'a EntryAnalysis> {
    r.analysis.entries.iter().find(|a| a.name == e.name)
}

/// The analytic prediction for service `s`.
fn service_analysis<'a>(r: &'a Report, s: &ServiceReport) -> Option<&'a ServiceAnalysis> {
    r.analysis.services.iter().find(|a| a.name == s.name)
}

/// The analytic prediction for call step `i` (both lists are in file order), if it is the
/// same caller and callee.
fn call_analysis<'a>(r: &'a Report, i: usize, c: &CallReport) -> Option<&'a CallAnalysis> {
    r.analysis
        .calls
        .get(i)
        .filter(|a| a.from == c.from && a.to == c.to)
}

/// `x` with `digits` decimals, or a dash when it is not a finite number.
fn fixed(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        dash()
    }
}

/// `x` with a sign and `digits` decimals (− for negatives), or a dash.
fn signed(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return dash();
    }
    let text = format!("{:.digits$}", x.abs());
    // A difference that rounds to zero has no sign.
    if text.bytes().all(|b| b == b'0' || b == b'.') {
        text
    } else if x < 0.0 {
        format!("−{text}")
    } else {
        format!("+{text}")
    }
}

/// The mark for a missing value.
fn dash() -> String {
    "–".to_string()
}

/// `text` with the characters that mean something in HTML (`& < > " '`) escaped, safe both
/// between tags and inside quoted attributes.
fn esc(text: &str) -> String {
    crate::chart::escape_markup(text, "&#39;")
}

/// Standard base64 (RFC 4648, with padding) of `bytes`, for `data:` URIs. Twenty lines
/// here instead of a dependency.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        // A chunk of k bytes gives k + 1 digits, padded with `=` to four.
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648() {
        // The test vectors of RFC 4648 §10.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
        assert_eq!(base64("é·".as_bytes()), "w6nCtw==");
    }

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
        assert_eq!(esc("plain → text"), "plain → text");
    }

    #[test]
    fn numbers_that_are_not_finite_become_dashes() {
        assert_eq!(fixed(f64::NAN, 3), "–");
        assert_eq!(fixed(f64::INFINITY, 3), "–");
        assert_eq!(fixed(0.12345, 3), "0.123");
        assert_eq!(signed(-0.25, 2), "−0.25");
        assert_eq!(signed(0.25, 2), "+0.25");
        assert_eq!(signed(-0.0001, 2), "0.00");
        assert_eq!(signed(f64::NAN, 2), "–");
    }
}

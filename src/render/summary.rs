//! The terminal summary: aligned tables rendered from a [`Report`], fitting 100 columns
//! unless asked for everything on one line (`--wide`).
//!
//! Every table says which window it measures: entry points, services and calls after the
//! warm-up; topics and work queues over the whole run (their counts must add up, so the
//! warm-up is in them); the timeline over the whole run.

use super::text::{chars, pad_left, pad_right, wrap, TextTable, WIDTH};
use crate::analysis::Analysis;
use crate::outcome::{Outcome, Outcomes};
use crate::report::{EntryReport, Report, ServiceReport};
use std::fmt::Write;

/// How the summary is laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SummaryOptions {
    /// Everything on one line per row, however wide, and the rows of zeros too; by default
    /// tables are split to fit 100 columns and rows that are zero in every column of the
    /// timeline are left out (with a count of them).
    pub wide: bool,
}

/// Renders the report as the text `microsim run` prints, fitting 100 columns.
pub fn render_summary(r: &Report) -> String {
    render_summary_with(r, &SummaryOptions::default())
}

/// Renders the report as the text `microsim run` prints, laid out as `options` say.
pub fn render_summary_with(r: &Report, options: &SummaryOptions) -> String {
    let width = (!options.wide).then_some(WIDTH);
    let mut out = String::new();
    let measured = r.duration_s - r.warmup_s;
    let _ = writeln!(
        out,
        "microsim · {} · seed {} · {} simulated ({} warm-up) · {} events",
        r.topology,
        r.seed,
        human_s(r.duration_s),
        human_s(r.warmup_s),
        group(r.events)
    );
    if !r.entries.is_empty() {
        let _ = writeln!(
            out,
            "\nEntry points (requests sent after the warm-up, over {})",
            human_s(measured)
        );
        entries(r, width, &mut out);
    }
    if !r.services.is_empty() {
        let _ = writeln!(
            out,
            "\nServices (after the warm-up, over {})",
            human_s(measured)
        );
        services(r, width, &mut out);
    }
    holders(r, &mut out);
    calls(r, width, &mut out);
    topics(r, width, &mut out);
    queues(r, width, &mut out);
    faults(r, &mut out);
    timeline(r, options, &mut out);
    lints_wrapped(&r.analysis, &mut out);
    out
}

/// The entry points: outcomes beside the analytic availability, then latency; a note that
/// one run gives no interval, and a warning for each entry point that ended with many
/// requests unanswered.
fn entries(r: &Report, width: Option<usize>, out: &mut String) {
    let shown = shown_outcomes(r.entries.iter().map(|e| &e.outcomes));
    let mut t = TextTable::new("entry");
    t.col("offered")
        .col("avail %")
        .col("analytic avail %")
        .group();
    for o in &shown {
        t.col(short_name(*o));
    }
    t.col("in-flight").group();
    // Fitting 100 columns, latency is a table of its own, without the entry points whose
    // answers all took no time (clients publishing to a broker that acknowledges at once).
    let mut latency = TextTable::new("entry");
    let split = width.is_some();
    let lat = if split { &mut latency } else { &mut t };
    lat.col("mean ms")
        .col("p50 ms")
        .col("p99 ms")
        .col("p99.9 ms")
        .col("max ms");
    let mut instant = 0;
    for e in &r.entries {
        let analytic = r
            .analysis
            .entries
            .iter()
            .find(|a| a.name == e.name)
            .map_or(f64::NAN, |a| a.availability);
        let mut cells = vec![
            e.offered.to_string(),
            percent(e.availability, e.outcomes.total()),
            percent(analytic, 1),
        ];
        cells.extend(shown.iter().map(|&o| e.outcomes.get(o).to_string()));
        cells.push(e.in_flight.to_string());
        let l = &e.latency;
        let times: Vec<String> = [l.mean_ms, l.p50_ms, l.p99_ms, l.p999_ms, l.max_ms]
            .iter()
            .map(|&v| ms(v, l.count))
            .collect();
        if !split {
            cells.extend(times);
        } else if l.count > 0 && l.max_ms == 0.0 {
            instant += 1;
        } else {
            latency.row(e.name.clone(), times);
        }
        t.row(e.name.clone(), cells);
    }
    t.render(out, width);
    if split && instant < r.entries.len() {
        out.push('\n');
        latency.render(out, width);
    }
    if instant > 0 {
        let _ = writeln!(
            out,
            "  (latency: {instant} entry point{} whose answers all took 0 ms left out; --wide \
             shows them)",
            if instant == 1 { "" } else { "s" }
        );
    }
    let _ = writeln!(
        out,
        "  one run: no interval; run with --reps N for a confidence interval"
    );
    for e in &r.entries {
        in_flight_warning(e, out);
    }
}

/// A warning when more than 1 % of an entry point's requests were still unanswered at the
/// end: its availability and latency then describe only the answered part, which may be
/// the easy part.
fn in_flight_warning(e: &EntryReport, out: &mut String) {
    if e.offered == 0 || e.in_flight * 100 <= e.offered {
        return;
    }
    let text = format!(
        "{}: {} of {} requests ({:.1} %) were still unanswered when the run ended; avail % and \
         latency describe only the answered ones. Run with --drain (stop the arrivals, then \
         run until every request has ended) or for longer.",
        e.name,
        group(e.in_flight),
        group(e.offered),
        100.0 * e.in_flight as f64 / e.offered as f64
    );
    wrap(out, "  warning: ", "    ", &text, WIDTH);
}

/// The services: load, queues, refusals, orphaned work and latency at the service.
fn services(r: &Report, width: Option<usize>, out: &mut String) {
    // Optional columns, shown when some service has a non-zero value.
    let unavailable = r.services.iter().any(|s| s.unavailable > 0);
    let expired = r.services.iter().any(|s| s.expired > 0);
    let cancelled = r.services.iter().any(|s| s.cancelled > 0);
    let down = r.services.iter().any(|s| s.time_availability < 1.0);
    let mut t = TextTable::new("service");
    t.col("pool")
        .col("arrivals")
        .col("util ρ")
        .col("analytic ρ")
        .group();
    t.col("mean queue").col("max queue").col("rejected");
    if unavailable {
        t.col("unavail");
    }
    if expired {
        t.col("expired");
    }
    if cancelled {
        t.col("cancelled");
    }
    if down {
        t.col("up time %");
    }
    t.group();
    t.col("orphaned").col("orphan worker-s").group();
    t.col("mean ms").col("p50 ms").col("p99 ms");
    for s in &r.services {
        let analytic = r
            .analysis
            .services
            .iter()
            .find(|a| a.name == s.name)
            .map_or(f64::NAN, |a| a.utilization);
        let mut cells = vec![
            format!("{}×{}", s.replicas, s.workers),
            s.arrivals.to_string(),
            fixed(s.utilization, 3),
            fixed(analytic, 3),
            fixed(s.mean_queue, 2),
            s.max_queue.to_string(),
            s.rejected.to_string(),
        ];
        if unavailable {
            cells.push(s.unavailable.to_string());
        }
        if expired {
            cells.push(s.expired.to_string());
        }
        if cancelled {
            cells.push(s.cancelled.to_string());
        }
        if down {
            cells.push(percent(s.time_availability, 1));
        }
        let l = &s.latency;
        cells.extend([
            s.orphaned.to_string(),
            fixed(s.orphaned_work_s, 2),
            ms(l.mean_ms, l.count),
            ms(l.p50_ms, l.count),
            ms(l.p99_ms, l.count),
        ]);
        t.row(s.name.clone(), cells);
    }
    t.render(out, width);
    if r.services.iter().any(|s| s.orphaned > 0) {
        let _ = writeln!(
            out,
            "  orphan worker-s: worker time spent on requests whose caller had already given up."
        );
    }
}

/// Who holds the workers, for services whose workers do more than work.
fn holders(r: &Report, out: &mut String) {
    let busy: Vec<&ServiceReport> = r
        .services
        .iter()
        .filter(|s| {
            s.occupancy
                .iter()
                .any(|o| o.state != "working" && o.workers > 0.005)
        })
        .collect();
    if busy.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nWho holds the workers (mean workers by what they do, after the warm-up)"
    );
    let w = busy.iter().map(|s| chars(&s.name)).max().unwrap_or(0);
    for s in busy {
        let parts: Vec<String> = s
            .occupancy
            .iter()
            .filter(|o| o.workers > 0.005)
            .map(|o| format!("{:.1} {}", o.workers, o.state))
            .collect();
        let text = format!(
            "{} (mean busy {:.1} of {})",
            parts.join(", "),
            s.mean_busy_workers,
            u64::from(s.replicas) * u64::from(s.workers)
        );
        let first = format!("  {}  ", pad_right(&s.name, w));
        let rest = " ".repeat(chars(&first));
        wrap(out, &first, &rest, &text, WIDTH);
    }
}

/// The sync calls as their callers saw them: calls = ok + failures + in-flight.
fn calls(r: &Report, width: Option<usize>, out: &mut String) {
    if r.calls.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nSync calls (started after the warm-up; as the caller saw them, after retries)"
    );
    let shown = shown_outcomes(r.calls.iter().map(|c| &c.outcomes));
    let retries = r
        .calls
        .iter()
        .any(|c| c.retries > 0 || c.retries_denied > 0);
    let mut t = TextTable::new("call");
    t.col("calls");
    if retries {
        t.col("attempts").col("ampl ×").col("denied");
    }
    t.group();
    t.col("ok");
    for o in &shown {
        t.col(short_name(*o));
    }
    t.col("in-flight").group();
    t.col("mean ms").col("p99 ms");
    for c in &r.calls {
        let mut cells = vec![c.calls.to_string()];
        if retries {
            cells.extend([
                c.attempts.to_string(),
                fixed(c.amplification, 2),
                c.retries_denied.to_string(),
            ]);
        }
        cells.push(c.outcomes.ok.to_string());
        cells.extend(shown.iter().map(|&o| c.outcomes.get(o).to_string()));
        cells.push(c.in_flight.to_string());
        cells.push(ms(c.latency.mean_ms, c.latency.count));
        cells.push(ms(c.latency.p99_ms, c.latency.count));
        t.row(format!("{} → {}", c.from, c.to), cells);
    }
    t.render(out, width);
    let legend = format!(
        "calls = ok + {} + in-flight{}",
        shown
            .iter()
            .map(|&o| short_name(o))
            .collect::<Vec<_>>()
            .join(" + "),
        if retries {
            "; ampl ×: attempts per call; denied: retries the budget refused"
        } else {
            ""
        }
    );
    wrap(out, "  ", "  ", &legend, WIDTH);
    for c in &r.calls {
        if let Some(b) = &c.breaker {
            let text = format!(
                "{} → {}: {} transitions, open {:.1} s, half-open {:.1} s (summed over \
                 replicas, whole run), {} calls not permitted",
                c.from, c.to, b.transitions, b.open_s, b.half_open_s, b.not_permitted
            );
            wrap(out, "  breaker ", "    ", &text, WIDTH);
        }
    }
}

/// The consumer groups of the broker's topics: what was produced and consumed, the lag and
/// how fast its biggest backlog drained.
fn topics(r: &Report, width: Option<usize>, out: &mut String) {
    if r.topics.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nTopics (counts: whole run, warm-up included; latency: publish to processed, after \
         the warm-up)"
    );
    let groups = || {
        r.topics
            .iter()
            .flat_map(|t| t.groups.iter().map(move |g| (t, g)))
    };
    let failed = groups().any(|(_, g)| g.failed > 0 || g.dead_lettered > 0 || g.retries > 0);
    let redelivery = groups().any(|(_, g)| g.redelivered > 0 || g.duplicates > 0);
    let expired = groups().any(|(_, g)| g.expired > 0);
    let mut t = TextTable::new("topic → group");
    t.col("produced").col("consumed");
    if failed {
        t.col("failed").col("retries").col("dead-lettered");
    }
    if expired {
        t.col("expired");
    }
    if redelivery {
        t.col("redelivered").col("duplicates");
    }
    t.group();
    t.col("lag at end")
        .col("max lag")
        .col("max lag s")
        .col("drained in")
        .group();
    t.col("mean ms").col("p99 ms");
    for (topic, g) in groups() {
        let mut cells = vec![topic.produced.to_string(), g.consumed.to_string()];
        if failed {
            cells.extend([
                g.failed.to_string(),
                g.retries.to_string(),
                g.dead_lettered.to_string(),
            ]);
        }
        if expired {
            cells.push(g.expired.to_string());
        }
        if redelivery {
            cells.extend([g.redelivered.to_string(), g.duplicates.to_string()]);
        }
        cells.extend([
            g.lag.to_string(),
            g.max_lag.to_string(),
            fixed(g.max_time_lag_s, 3),
            drained(g.drained_in_s, g.max_time_lag_s),
            ms(g.latency.mean_ms, g.latency.count),
            ms(g.latency.p99_ms, g.latency.count),
        ]);
        t.row(format!("{} → {}", topic.name, g.service), cells);
    }
    t.render(out, width);
    wrap(
        out,
        "  ",
        "  ",
        "drained in: from the highest lag back to the level before it; max lag s: the largest \
         age of the oldest unprocessed message",
        WIDTH,
    );
}

/// The broker's work queues and their competing consumers.
fn queues(r: &Report, width: Option<usize>, out: &mut String) {
    if r.queues.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nWork queues (counts: whole run, warm-up included; latency: send to acknowledged, \
         after the warm-up)"
    );
    let failed = r.queues.iter().any(|q| q.failed > 0 || q.dead_lettered > 0);
    let expired = r.queues.iter().any(|q| q.expired > 0);
    let mut t = TextTable::new("queue → service");
    t.col("sent").col("acked");
    if failed {
        t.col("failed").col("dead-lettered");
    }
    if expired {
        t.col("expired");
    }
    t.col("depth").col("in-flight").group();
    t.col("max depth")
        .col("max age s")
        .col("drained in")
        .group();
    t.col("mean ms").col("p99 ms");
    for q in &r.queues {
        let mut cells = vec![q.sent.to_string(), q.acked.to_string()];
        if failed {
            cells.extend([q.failed.to_string(), q.dead_lettered.to_string()]);
        }
        if expired {
            cells.push(q.expired.to_string());
        }
        cells.extend([
            q.depth.to_string(),
            q.in_flight.to_string(),
            q.max_depth.to_string(),
            fixed(q.max_age_s, 3),
            drained(q.drained_in_s, q.max_age_s),
            ms(q.latency.mean_ms, q.latency.count),
            ms(q.latency.p99_ms, q.latency.count),
        ]);
        t.row(format!("{} → {}", q.name, q.service), cells);
    }
    t.render(out, width);
}

/// The oldest message's wait \[s\] below which a consumer group or work queue keeps up: its
/// lag or depth is messages in flight, not a backlog, and "drained in" would time noise.
const KEEPING_UP_S: f64 = 1.0;

/// How long a backlog took to drain: seconds; `-` when there was none (no message ever
/// waited [`KEEPING_UP_S`]); `not yet` when it had not drained by the end.
fn drained(drained_in_s: Option<f64>, max_age_s: f64) -> String {
    if max_age_s.is_nan() || max_age_s < KEEPING_UP_S {
        return "-".to_string();
    }
    match drained_in_s {
        Some(s) => format!("{} s", trim(s, 3)),
        None => "not yet".to_string(),
    }
}

/// The fault timeline, each fault with the letter that marks it in the timeline.
fn faults(r: &Report, out: &mut String) {
    if r.faults.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nFaults (letters mark them in the timeline)");
    let when: Vec<String> = r
        .faults
        .iter()
        .map(|f| {
            if !f.end_s.is_finite() {
                format!("{} → after the run", human_s(f.start_s))
            } else if f.end_s > r.duration_s {
                format!(
                    "{} → {} (after the run)",
                    human_s(f.start_s),
                    human_s(f.end_s)
                )
            } else {
                format!(
                    "{} → {} ({})",
                    human_s(f.start_s),
                    human_s(f.end_s),
                    human_s(f.end_s - f.start_s)
                )
            }
        })
        .collect();
    let w = when.iter().map(|s| chars(s)).max().unwrap_or(0);
    for (i, (f, when)) in r.faults.iter().zip(&when).enumerate() {
        let first = format!("  {}  {}  ", fault_letter(i), pad_right(when, w));
        let rest = " ".repeat(chars(&first));
        wrap(out, &first, &rest, &f.label, WIDTH);
    }
}

/// The letter of fault `i`: A to Z, then a to z, then `*`.
fn fault_letter(i: usize) -> char {
    match i {
        0..=25 => (b'A' + i as u8) as char,
        26..=51 => (b'a' + (i - 26) as u8) as char,
        _ => '*',
    }
}

/// Width of a timeline cell: a space and five characters.
const CELL: usize = 6;

/// One row of the timeline: what it shows, of whom, and a value per slice (`None`: nothing
/// to show there).
struct TimelineRow {
    name: String,
    what: &'static str,
    values: Vec<Option<f64>>,
    /// How to print the values.
    format: fn(f64) -> String,
}

/// Appends a coarse timeline: per entry point the share of available answers and the mean
/// and 99th percentile latency of each slice (the slice's own, from the report's
/// `slices`); the fault windows; per service the mean queue; per consumer group and work
/// queue the largest lag and depth. Rows of zeros are left out unless `--wide`.
fn timeline(r: &Report, options: &SummaryOptions, out: &mut String) {
    let buckets = r
        .series
        .entries
        .iter()
        .map(|e| e.ok.len())
        .chain(r.series.services.iter().map(|s| s.queue.len()))
        .max()
        .unwrap_or(0);
    if buckets < 2 {
        return;
    }
    let bucket_s = if r.series.bucket_s.is_finite() && r.series.bucket_s > 0.0 {
        r.series.bucket_s
    } else {
        1.0
    };
    let bounds = slice_bounds(r, buckets, bucket_s);
    let own_slices = r
        .series
        .entries
        .first()
        .is_some_and(|e| e.slices.len() == bounds.len());
    let starts: Vec<f64> = bounds.iter().map(|&(a, _)| a as f64 * bucket_s).collect();
    let drain = own_slices && ends_with_drain(r);
    let (unit, scale) = time_unit(
        &starts,
        bounds.first().map_or(0, |b| b.1 - b.0) as f64 * bucket_s,
    );
    let width_s = bounds.first().map_or(0, |b| b.1 - b.0) as f64 * bucket_s;

    let mut rows: Vec<TimelineRow> = Vec::new();
    for e in &r.series.entries {
        let avail: Vec<Option<f64>> = bounds
            .iter()
            .map(|&(a, b)| {
                let sum = |v: &Vec<u64>| {
                    v.get(a..b.min(v.len()))
                        .map_or(0, |s| s.iter().sum::<u64>())
                };
                let ok = sum(&e.ok) + sum(&e.degraded);
                let all = ok
                    + [
                        &e.error,
                        &e.timeout,
                        &e.rejected,
                        &e.circuit_open,
                        &e.unavailable,
                    ]
                    .iter()
                    .map(|v| sum(v))
                    .sum::<u64>();
                (all > 0).then(|| 100.0 * ok as f64 / all as f64)
            })
            .collect();
        rows.push(TimelineRow {
            name: e.name.clone(),
            what: "avail %",
            values: avail,
            format: cell_percent,
        });
        if own_slices {
            rows.push(TimelineRow {
                name: e.name.clone(),
                what: "mean ms",
                values: e.slices.iter().map(|s| s.mean_ms).collect(),
                format: cell_number,
            });
            rows.push(TimelineRow {
                name: e.name.clone(),
                what: "p99 ms",
                values: e.slices.iter().map(|s| s.p99_ms).collect(),
                format: cell_number,
            });
        } else {
            // A report without slices (written by an older microsim): the worst bucket's
            // p99 in each slice, labelled as such.
            rows.push(TimelineRow {
                name: e.name.clone(),
                what: "worst 1-bucket p99 ms",
                values: bounds
                    .iter()
                    .map(|&(a, b)| {
                        e.p99_ms
                            .get(a..b.min(e.p99_ms.len()))
                            .and_then(|s| s.iter().flatten().copied().reduce(f64::max))
                    })
                    .collect(),
                format: cell_number,
            });
        }
    }
    for s in &r.series.services {
        rows.push(TimelineRow {
            name: s.name.clone(),
            what: "queue (mean)",
            values: bounds
                .iter()
                .map(|&(a, b)| {
                    let v = s.queue.get(a..b.min(s.queue.len()))?;
                    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
                })
                .collect(),
            format: cell_number,
        });
    }
    for g in &r.series.topics {
        rows.push(TimelineRow {
            name: format!("{} → {}", g.topic, g.service),
            what: "lag (max)",
            values: max_per_slice(&g.lag, &bounds),
            format: cell_count,
        });
    }
    for q in &r.series.queues {
        rows.push(TimelineRow {
            name: q.name.clone(),
            what: "depth (max)",
            values: max_per_slice(&q.depth, &bounds),
            format: cell_count,
        });
    }
    // Rows that print as zeros in every slice say nothing.
    let total = rows.len();
    if !options.wide {
        rows.retain(|row| {
            row.values.iter().flatten().any(|&v| {
                (row.format)(v)
                    .chars()
                    .any(|c| c.is_ascii_digit() && c != '0')
            })
        });
    }
    let left_out = total - rows.len();

    let _ = writeln!(
        out,
        "\nTimeline (whole run, warm-up included; slices of {}{})",
        human_s(width_s),
        if drain { ", then the drain" } else { "" }
    );
    // The label column: "name what" when it fits beside the slices, else the name on a line
    // of its own and the rows below it indented.
    let room = WIDTH.saturating_sub(2 + CELL * bounds.len());
    let label_w = rows
        .iter()
        .map(|row| chars(&row.name) + 1 + chars(row.what))
        .filter(|&w| w <= room)
        .max()
        .unwrap_or(0)
        .max(
            rows.iter()
                .map(|row| 2 + chars(row.what))
                .max()
                .unwrap_or(0),
        )
        .max(8);
    let mut head = format!("  {}", pad_right(&format!("from, {unit}"), label_w));
    for (i, &s) in starts.iter().enumerate() {
        let text = if drain && i + 1 == starts.len() {
            "drain".to_string()
        } else {
            trim(s / scale, 2)
        };
        head.push_str(&pad_left(&text, CELL));
    }
    let _ = writeln!(out, "{}", head.trim_end());
    if !r.faults.is_empty() {
        let mut line = format!("  {}", pad_right("faults", label_w));
        for &(a, b) in &bounds {
            let (from, to) = (a as f64 * bucket_s, b as f64 * bucket_s);
            let mut marks: String = r
                .faults
                .iter()
                .enumerate()
                .filter(|(_, f)| f.start_s < to && f.end_s > from)
                .map(|(i, _)| fault_letter(i))
                .collect();
            if chars(&marks) > CELL - 1 {
                marks = format!("{}+", marks.chars().take(CELL - 2).collect::<String>());
            }
            line.push_str(&pad_left(if marks.is_empty() { "·" } else { &marks }, CELL));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let mut last_name: Option<&str> = None;
    for row in &rows {
        let joined = format!("{} {}", row.name, row.what);
        let label = if chars(&joined) <= label_w {
            last_name = None;
            joined
        } else {
            if last_name != Some(row.name.as_str()) {
                let _ = writeln!(out, "  {}", row.name);
                last_name = Some(row.name.as_str());
            }
            format!("  {}", row.what)
        };
        let mut line = format!("  {}", pad_right(&label, label_w));
        for v in &row.values {
            let text = v
                .filter(|v| v.is_finite())
                .map_or("-".to_string(), row.format);
            line.push_str(&pad_left(&text, CELL));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "  ({left_out} row{} of zeros left out; --wide shows them)",
            if left_out == 1 { "" } else { "s" }
        );
    }
}

/// The slices of the timeline as bucket ranges: the report's own slices when it has them
/// (so that the latency rows are those slices'), else cut by the same rule.
fn slice_bounds(r: &Report, buckets: usize, bucket_s: f64) -> Vec<(usize, usize)> {
    if let Some(e) = r.series.entries.first().filter(|e| !e.slices.is_empty()) {
        // Slices start on a bucket boundary; the last one may end inside a bucket (a
        // partial last bucket).
        let start = |s: f64| ((s / bucket_s).round() as usize).min(buckets);
        let end = |s: f64| ((s / bucket_s - 1e-6).ceil() as usize).min(buckets);
        let bounds: Vec<(usize, usize)> = e
            .slices
            .iter()
            .map(|s| {
                (
                    start(s.from_s),
                    end(s.to_s).max(start(s.from_s) + 1).min(buckets),
                )
            })
            .collect();
        if bounds.last().is_some_and(|b| b.1 == buckets) {
            return bounds;
        }
    }
    let bucket_ns = (bucket_s * 1e9).round() as u64;
    let end_ns = ((r.duration_s * 1e9).round() as u64).min(buckets as u64 * bucket_ns);
    crate::metrics::slices::slice_buckets(buckets, bucket_ns, end_ns)
        .into_iter()
        .map(|s| (s.start, s.end))
        .collect()
}

/// Whether the report's last slice is the drain of a drained run. The planned slices are
/// all as wide as the first but the last planned one, which may be shorter, and they start
/// on the grid of that width; a last slice that is wider, starts off that grid, or is one
/// more than the most planned slices is the drain. (A drain as short as a slice that starts
/// on the grid is not told apart: it is then shown by its start time, which is as true.)
fn ends_with_drain(r: &Report) -> bool {
    let Some(e) = r.series.entries.first() else {
        return false;
    };
    let (Some(first), Some(last)) = (e.slices.first(), e.slices.last()) else {
        return false;
    };
    let width = first.to_s - first.from_s;
    if e.slices.len() < 2 || width.is_nan() || width <= 0.0 {
        return false;
    }
    let k = last.from_s / width;
    let off_grid = (k - k.round()).abs() > 1e-6;
    e.slices.len() as u64 > crate::metrics::slices::MAX_SLICES
        || last.to_s - last.from_s > width * (1.0 + 1e-9)
        || off_grid
}

/// The largest value of `v` in each slice.
fn max_per_slice(v: &[u64], bounds: &[(usize, usize)]) -> Vec<Option<f64>> {
    bounds
        .iter()
        .map(|&(a, b)| v.get(a..b.min(v.len()))?.iter().max().map(|&m| m as f64))
        .collect()
}

/// The unit of the timeline's slice starts and its size \[s\]: hours or minutes when the
/// slices are whole hours or minutes, else seconds (minutes when seconds would not fit).
fn time_unit(starts: &[f64], width_s: f64) -> (&'static str, f64) {
    let whole =
        |unit: f64| width_s >= unit && (width_s / unit - (width_s / unit).round()).abs() < 1e-9;
    if whole(3600.0) {
        ("h", 3600.0)
    } else if whole(60.0) || starts.last().is_some_and(|&s| s >= 9999.5) {
        ("min", 60.0)
    } else {
        ("s", 1.0)
    }
}

/// A percentage in a timeline cell: one decimal, and never 100.0 unless every answer was
/// available (99.96 % is shown as 99.9, 100 % as 100).
fn cell_percent(v: f64) -> String {
    if v >= 100.0 {
        "100".to_string()
    } else {
        format!("{:.1}", (v * 10.0).floor() / 10.0)
    }
}

/// A number in a timeline cell, at most five characters: one decimal below 100, whole
/// numbers below 100,000, then thousands (`k`) and millions (`M`).
fn cell_number(v: f64) -> String {
    let a = v.abs();
    if a < 99.95 {
        format!("{v:.1}")
    } else if a < 99_999.5 {
        format!("{v:.0}")
    } else if a < 9_999_500.0 {
        format!("{:.0}k", v / 1e3)
    } else {
        format!("{:.0}M", v / 1e6)
    }
}

/// A count in a timeline cell, at most five characters (thousands as `k` from 100,000).
fn cell_count(v: f64) -> String {
    if v.abs() < 99_999.5 {
        format!("{v:.0}")
    } else {
        cell_number(v)
    }
}

/// `v` (a fraction) as a percentage with three decimals, `-` when it is not a number or
/// there were no answers; never 100.000 unless it is exactly 1.
fn percent(v: f64, answered: u64) -> String {
    if !v.is_finite() || answered == 0 {
        return "-".to_string();
    }
    if v >= 1.0 {
        return "100.000".to_string();
    }
    format!("{:.3}", (v * 100_000.0).floor() / 1000.0)
}

/// Milliseconds with two decimals, `-` when there were no samples.
fn ms(v: f64, count: u64) -> String {
    if count == 0 {
        "-".to_string()
    } else {
        fixed(v, 2)
    }
}

/// `v` with `digits` decimals, `-` when it is not a number.
fn fixed(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{v:.digits$}")
    } else {
        "-".to_string()
    }
}

/// `v` with at most `digits` decimals, trailing zeros removed.
fn trim(v: f64, digits: usize) -> String {
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The failure outcomes worth a column: error, timeout and rejected always, the others
/// when they happened.
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

/// A column label for an outcome.
fn short_name(o: Outcome) -> &'static str {
    match o {
        Outcome::CircuitOpen => "open",
        Outcome::Unavailable => "unavail",
        o => o.name(),
    }
}

/// Appends the lints, if any, each wrapped to 100 columns.
fn lints_wrapped(a: &Analysis, out: &mut String) {
    if a.lints.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nLints");
    for l in &a.lints {
        let text = format!("[{}] {}: {}", l.code, l.path, l.message);
        wrap(out, "  warning ", "    ", &text, WIDTH);
    }
}

/// Appends the lints, if any, as a list, one line each (what `check` prints).
pub(crate) fn render_lints(a: &Analysis, out: &mut String) {
    if a.lints.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nLints");
    for l in &a.lints {
        let _ = writeln!(out, "  warning [{}] {}: {}", l.code, l.path, l.message);
    }
}

/// `1234567` → `1,234,567`.
pub(crate) fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Seconds in the largest readable unit.
pub(crate) fn human_s(s: f64) -> String {
    crate::time::SimDuration((s * 1e9).round() as u64).to_string()
}

/// `n` and `word`, with an `s` unless `n` is 1: `1 entry point`, `2 entry points`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Renders what `microsim check` prints: the model's shape, the analytic shadow and lints.
pub fn render_analysis(model: &crate::model::Model, a: &Analysis) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: valid · {} · {} · {}",
        model.origin,
        plural(model.services.len(), "service"),
        plural(model.calls.len(), "sync call"),
        plural(model.entries.len(), "entry point")
    );
    let _ = writeln!(
        out,
        "\nAnalytic availability (product over required calls; retries, timeouts, failures{})",
        if a.phases.is_empty() {
            ""
        } else {
            " and the fault timeline"
        }
    );
    for e in &a.entries {
        let _ = writeln!(
            out,
            "  {:<16} {:>9.5}  at {:.1} requests/s  needs {}",
            e.name,
            e.availability,
            e.rate_per_s,
            e.required.join(", ")
        );
    }
    let e2e: Vec<_> = a
        .entries
        .iter()
        .filter_map(|e| e.end_to_end_ms.map(|ms| (e, ms)))
        .collect();
    if !e2e.is_empty() {
        let _ = writeln!(
            out,
            "\nNetworks of work queues (mean time in the network per customer: Σ visits × sojourn)"
        );
        for (e, ms) in e2e {
            let _ = writeln!(out, "  {:<16} {:>10.3} ms", e.name, ms);
        }
    }
    let _ = writeln!(out, "\nOffered load (traffic equations, without faults)");
    let _ = writeln!(
        out,
        "  {:<16} {:>10} {:>10} {:>8} {:>8}  queue model",
        "service", "λ /s", "held ms", "ρ", "ρ peak"
    );
    for s in &a.services {
        let qm = match &s.queue_model {
            Some(q) => format!(
                "{}: wait {:.3} ms, sojourn {:.3} ms, L {:.3}, P(reject) {:.4}",
                q.model, q.mean_wait_ms, q.mean_sojourn_ms, q.mean_in_system, q.p_reject
            ),
            None => "-".to_string(),
        };
        let _ = writeln!(
            out,
            "  {:<16} {:>10.2} {:>10.3} {:>8.3} {:>8.3}  {}",
            s.name, s.arrival_rate_per_s, s.mean_holding_ms, s.utilization, s.peak_utilization, qm
        );
    }
    let _ = writeln!(
        out,
        "\nWaiting for a worker (per replica: the exact queue model, else the M/M/c estimate)"
    );
    let _ = writeln!(
        out,
        "  {:<16} {:>10} {:>8}  from",
        "service", "wait ms", "P(wait)"
    );
    for s in &a.services {
        let _ = writeln!(
            out,
            "  {:<16} {:>10.3} {:>8.4}  {}",
            s.name,
            s.mean_wait_ms,
            s.p_wait,
            s.queue_model
                .as_ref()
                .map_or("M/M/c estimate", |q| q.model.as_str())
        );
    }
    if !a.topics.is_empty() {
        let _ = writeln!(
            out,
            "\nTopics (capacity = consumers used / mean processing time)"
        );
        for t in &a.topics {
            for g in &t.groups {
                let _ = writeln!(
                    out,
                    "  {:<30} {:>10.1} msg/s, capacity {:>10.1}/s ({} consumers), ρ {:.3}{}",
                    format!("{} → {}", t.name, g.service),
                    t.rate_per_s,
                    g.capacity_per_s,
                    g.consumers_used,
                    g.utilization,
                    growth_text(
                        "lag",
                        g.lag_growth_per_s,
                        g.peak_utilization,
                        g.peak_lag_growth_per_s
                    )
                );
            }
        }
    }
    if !a.queues.is_empty() {
        let _ = writeln!(
            out,
            "\nWork queues (capacity = consumers × prefetch, at most the workers, / mean processing time)"
        );
        for q in &a.queues {
            let sojourn = q.sojourn_ms.map_or("unstable".to_string(), |w| {
                format!("M/M/{} W {:.3} ms", q.concurrency, w)
            });
            let _ = writeln!(
                out,
                "  {:<30} {:>10.1} msg/s, capacity {:>10.1}/s, ρ {:.3}, {}{}",
                format!("{} → {}", q.name, q.service),
                q.rate_per_s,
                q.capacity_per_s,
                q.utilization,
                sojourn,
                growth_text(
                    "backlog",
                    q.backlog_growth_per_s,
                    q.peak_utilization,
                    q.peak_backlog_growth_per_s
                )
            );
        }
    }
    if a.calls.iter().any(|c| c.attempts > 1) {
        let _ = writeln!(
            out,
            "\nRetries (errors independent per attempt; an outage escaped only by reaching another replica)"
        );
        for c in a.calls.iter().filter(|c| c.attempts > 1) {
            let _ = writeln!(
                out,
                "  {:<30} {} attempts: availability {:.5} → {:.5}, load × {:.3}",
                format!("{} → {}", c.from, c.to),
                c.attempts,
                c.attempt_availability,
                c.availability,
                c.expected_attempts
            );
            if let Some(why) = &c.estimate {
                let _ = writeln!(out, "    an estimate: {why}");
            }
        }
        for e in a.entries.iter().filter(|e| e.max_amplification > 1.0) {
            let _ = writeln!(
                out,
                "  {}: up to {:.0} attempts per request at one service when everything fails",
                e.name, e.max_amplification
            );
        }
    }
    let timeouts: Vec<_> = a
        .calls
        .iter()
        .filter(|c| c.timeout_probability >= 1e-6)
        .collect();
    if !timeouts.is_empty() {
        let _ = writeln!(
            out,
            "\nTimeouts (chance that an attempt outlasts the call's timeout)"
        );
        for c in timeouts {
            let _ = writeln!(
                out,
                "  {:<30} {:.6}",
                format!("{} → {}", c.from, c.to),
                c.timeout_probability
            );
        }
    }
    render_phases(a, &mut out);
    if a.lints.is_empty() {
        let _ = writeln!(out, "\nNo lints.");
    } else {
        render_lints(a, &mut out);
    }
    out
}

/// `, lag grows 25.0/s` (over capacity at the mean rate), `, lag grows 250.0/s at the peak
/// (ρ 1.250)`, or nothing.
fn growth_text(what: &str, growth: f64, peak_utilization: f64, peak_growth: f64) -> String {
    if growth > 0.0 {
        format!(", {what} grows {growth:.1}/s")
    } else if peak_growth > 0.0 {
        format!(", {what} grows {peak_growth:.1}/s at the peak (ρ {peak_utilization:.3})")
    } else {
        String::new()
    }
}

/// Appends the shadow of each phase of the fault timeline: what differs from the steady
/// shadow during each fault (availability, ρ, lag and backlog growth).
fn render_phases(a: &Analysis, out: &mut String) {
    if a.phases.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nFault timeline (the shadow during each phase; steady values in brackets)"
    );
    for p in &a.phases {
        let span = format!("{} → {}", human_s(p.from_s), human_s(p.to_s));
        if p.faults.is_empty() {
            let _ = writeln!(out, "  {span:<16} no fault");
            continue;
        }
        let _ = writeln!(out, "  {span:<16} {}", p.faults.join(", "));
        for (e, steady) in p.entries.iter().zip(&a.entries) {
            if e.availability != steady_availability(steady, a) {
                let _ = writeln!(out, "    {:<28} availability {:.5}", e.name, e.availability);
            }
        }
        for (s, steady) in p.services.iter().zip(&a.services) {
            if s.utilization != steady.utilization {
                let _ = writeln!(
                    out,
                    "    {:<28} ρ {:.3} ({:.3}){}",
                    s.name,
                    s.utilization,
                    steady.utilization,
                    if s.utilization >= 1.0 {
                        ", saturated"
                    } else {
                        ""
                    }
                );
            }
        }
        let len = p.to_s - p.from_s;
        for g in p.groups.iter().filter(|g| g.lag_growth_per_s > 0.0) {
            let _ = writeln!(
                out,
                "    {:<28} lag grows {:.1}/s (capacity {:.1}/s for {:.1}/s): about {} messages",
                format!("{} → {}", g.topic, g.service),
                g.lag_growth_per_s,
                g.capacity_per_s,
                g.rate_per_s,
                group((g.lag_growth_per_s * len).round() as u64)
            );
        }
        for q in p.queues.iter().filter(|q| q.backlog_growth_per_s > 0.0) {
            let _ = writeln!(
                out,
                "    {:<28} backlog grows {:.1}/s (capacity {:.1}/s for {:.1}/s): about {} messages",
                q.name,
                q.backlog_growth_per_s,
                q.capacity_per_s,
                q.rate_per_s,
                group((q.backlog_growth_per_s * len).round() as u64)
            );
        }
    }
}

/// An entry point's availability in a phase without faults (the first such phase), to show
/// only what a fault changes; the entry's own when every phase has a fault.
fn steady_availability(e: &crate::analysis::EntryAnalysis, a: &Analysis) -> f64 {
    a.phases
        .iter()
        .find(|p| p.faults.is_empty())
        .and_then(|p| p.entries.iter().find(|x| x.name == e.name))
        .map_or(e.availability, |x| x.availability)
}

#[cfg(test)]
mod tests {
    #[test]
    fn groups_thousands() {
        assert_eq!(super::group(1234567), "1,234,567");
        assert_eq!(super::group(999), "999");
    }
}

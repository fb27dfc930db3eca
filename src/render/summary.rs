//! The terminal summary: a few aligned tables rendered from a [`Report`].

use crate::analysis::Analysis;
use crate::outcome::{Outcome, Outcomes};
use crate::report::{Report, ServiceReport};
use std::fmt::Write;

/// Renders the report as the text tables `microsim run` prints.
pub fn render_summary(r: &Report) -> String {
    let mut out = String::new();
    // Name column: wide enough for the longest entry or service name.
    let w = r
        .entries
        .iter()
        .map(|e| e.name.chars().count())
        .chain(r.services.iter().map(|s| s.name.chars().count()))
        .max()
        .unwrap_or(0)
        .max(16);
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

    let _ = writeln!(out, "\nEntry points (measured over {})", human_s(measured));
    let shown = shown_outcomes(r.entries.iter().map(|e| &e.outcomes));
    let mut head = format!(
        "  {:<w$} {:>9} {:>9} {:>9} {:>9}",
        "entry", "offered", "avail", "± s.e.", "analytic"
    );
    for o in &shown {
        head.push_str(&format!(" {:>8}", short_name(*o)));
    }
    head.push_str(&format!(
        " {:>9} {:>9} {:>9} {:>9} {:>9}",
        "in-flight", "p50 ms", "p99 ms", "p99.9 ms", "max ms"
    ));
    let _ = writeln!(out, "{head}");
    for e in &r.entries {
        let analytic = r
            .analysis
            .entries
            .iter()
            .find(|a| a.name == e.name)
            .map_or(f64::NAN, |a| a.availability);
        let mut row = format!(
            "  {:<w$} {:>9} {:>9.5} {:>9.5} {:>9.5}",
            e.name, e.offered, e.availability, e.availability_se, analytic
        );
        for o in &shown {
            row.push_str(&format!(" {:>8}", e.outcomes.get(*o)));
        }
        row.push_str(&format!(
            " {:>9} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            e.in_flight, e.latency.p50_ms, e.latency.p99_ms, e.latency.p999_ms, e.latency.max_ms
        ));
        let _ = writeln!(out, "{row}");
    }

    let _ = writeln!(out, "\nServices");
    // Optional columns, shown when some service has a non-zero value.
    type Column = (&'static str, fn(&ServiceReport) -> String);
    let optional: [Column; 4] = [
        ("unavail", |s| s.unavailable.to_string()),
        ("expired", |s| s.expired.to_string()),
        ("cancelled", |s| s.cancelled.to_string()),
        ("time avail", |s| format!("{:.5}", s.time_availability)),
    ];
    let shown: Vec<&Column> = optional
        .iter()
        .filter(|(name, _)| {
            r.services.iter().any(|s| match *name {
                "unavail" => s.unavailable > 0,
                "expired" => s.expired > 0,
                "cancelled" => s.cancelled > 0,
                _ => s.time_availability < 1.0,
            })
        })
        .collect();
    let mut head = format!(
        "  {:<w$} {:>9} {:>9} {:>7} {:>9} {:>8} {:>7} {:>8}",
        "service", "pool", "arrivals", "util", "analytic", "mean q", "max q", "rejected"
    );
    for (name, _) in &shown {
        head.push_str(&format!(" {name:>10}"));
    }
    head.push_str(&format!(
        " {:>8} {:>9} {:>9} {:>9}",
        "orphaned", "orphan s", "p50 ms", "p99 ms"
    ));
    let _ = writeln!(out, "{head}");
    for s in &r.services {
        let analytic = r
            .analysis
            .services
            .iter()
            .find(|a| a.name == s.name)
            .map_or(f64::NAN, |a| a.utilization);
        let mut row = format!(
            "  {:<w$} {:>9} {:>9} {:>7.3} {:>9.3} {:>8.2} {:>7} {:>8}",
            s.name,
            format!("{}×{}", s.replicas, s.workers),
            s.arrivals,
            s.utilization,
            analytic,
            s.mean_queue,
            s.max_queue,
            s.rejected
        );
        for (_, value) in &shown {
            row.push_str(&format!(" {:>10}", value(s)));
        }
        row.push_str(&format!(
            " {:>8} {:>9.2} {:>9.2} {:>9.2}",
            s.orphaned, s.orphaned_work_s, s.latency.p50_ms, s.latency.p99_ms
        ));
        let _ = writeln!(out, "{row}");
    }

    let holders: Vec<String> = r
        .services
        .iter()
        .filter(|s| {
            s.occupancy
                .iter()
                .any(|o| o.state != "working" && o.workers > 0.005)
        })
        .map(|s| {
            let parts: Vec<String> = s
                .occupancy
                .iter()
                .filter(|o| o.workers > 0.005)
                .map(|o| format!("{:.1} {}", o.workers, o.state))
                .collect();
            format!(
                "  {:<w$} {} (mean busy {:.1} of {})",
                s.name,
                parts.join(", "),
                s.mean_busy_workers,
                u64::from(s.replicas) * u64::from(s.workers)
            )
        })
        .collect();
    if !holders.is_empty() {
        let _ = writeln!(
            out,
            "\nWho holds the workers (mean workers by what they do)"
        );
        for h in holders {
            let _ = writeln!(out, "{h}");
        }
    }

    if !r.calls.is_empty() {
        let _ = writeln!(out, "\nSync calls (as the caller saw them, after retries)");
        let shown = shown_outcomes(r.calls.iter().map(|c| &c.outcomes));
        let retries = r
            .calls
            .iter()
            .any(|c| c.retries > 0 || c.retries_denied > 0);
        let mut head = format!("  {:<30} {:>9}", "call", "calls");
        if retries {
            head.push_str(&format!(" {:>9} {:>6} {:>7}", "attempts", "ampl", "denied"));
        }
        head.push_str(&format!(" {:>9}", "ok"));
        for o in &shown {
            head.push_str(&format!(" {:>8}", short_name(*o)));
        }
        head.push_str(&format!(" {:>9}", "p99 ms"));
        let _ = writeln!(out, "{head}");
        for c in &r.calls {
            let mut row = format!("  {:<30} {:>9}", format!("{} → {}", c.from, c.to), c.calls);
            if retries {
                row.push_str(&format!(
                    " {:>9} {:>6.2} {:>7}",
                    c.attempts, c.amplification, c.retries_denied
                ));
            }
            row.push_str(&format!(" {:>9}", c.outcomes.ok));
            for o in &shown {
                row.push_str(&format!(" {:>8}", c.outcomes.get(*o)));
            }
            row.push_str(&format!(" {:>9.2}", c.latency.p99_ms));
            let _ = writeln!(out, "{row}");
        }
        for c in &r.calls {
            if let Some(b) = &c.breaker {
                let _ = writeln!(
                    out,
                    "  breaker {} → {}: {} transitions, open {:.1} s, half-open {:.1} s (summed over replicas), {} calls not permitted",
                    c.from, c.to, b.transitions, b.open_s, b.half_open_s, b.not_permitted
                );
            }
        }
    }
    if !r.topics.is_empty() {
        let _ = writeln!(
            out,
            "\nTopics (whole run; latency from publish to processed)"
        );
        let _ = writeln!(
            out,
            "  {:<30} {:>9} {:>9} {:>7} {:>8} {:>8} {:>9} {:>8} {:>9} {:>9}",
            "topic → group",
            "produced",
            "consumed",
            "failed",
            "lag",
            "max lag",
            "max lag s",
            "expired",
            "p50 ms",
            "p99 ms"
        );
        for t in &r.topics {
            for g in &t.groups {
                let _ = writeln!(
                    out,
                    "  {:<30} {:>9} {:>9} {:>7} {:>7} {:>8} {:>8} {:>9.3} {:>8} {:>9.2} {:>9.2}",
                    format!("{} → {}", t.name, g.service),
                    t.produced,
                    g.consumed,
                    g.retries,
                    g.dead_lettered,
                    g.lag,
                    g.max_lag,
                    g.max_time_lag_s,
                    g.expired,
                    g.latency.p50_ms,
                    g.latency.p99_ms
                );
            }
        }
    }
    if !r.queues.is_empty() {
        let _ = writeln!(
            out,
            "\nWork queues (whole run; latency from send to acknowledged)"
        );
        let _ = writeln!(
            out,
            "  {:<30} {:>9} {:>9} {:>7} {:>7} {:>7} {:>8} {:>9} {:>9} {:>9}",
            "queue → service",
            "sent",
            "acked",
            "failed",
            "dlq",
            "depth",
            "max dep",
            "max age s",
            "mean ms",
            "p99 ms"
        );
        for q in &r.queues {
            let _ = writeln!(
                out,
                "  {:<30} {:>9} {:>9} {:>7} {:>7} {:>7} {:>8} {:>9.3} {:>9.3} {:>9.2}",
                format!("{} → {}", q.name, q.service),
                q.sent,
                q.acked,
                q.failed,
                q.dead_lettered,
                q.depth,
                q.max_depth,
                q.max_age_s,
                q.latency.mean_ms,
                q.latency.p99_ms
            );
        }
    }
    render_timeline(r, &mut out);
    render_lints(&r.analysis, &mut out);
    out
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

/// Columns of the terminal timeline.
const TIMELINE_SLICES: usize = 12;

/// Appends a coarse timeline per entry point: share of ok answers and worst bucket p99 in each
/// of a dozen slices of the run, and per service the mean queue — enough to see a spike, a
/// cascade and a recovery without opening a chart.
fn render_timeline(r: &Report, out: &mut String) {
    let buckets = r.series.entries.first().map_or(0, |e| e.ok.len());
    if buckets < 2 {
        return;
    }
    let slices = TIMELINE_SLICES.min(buckets);
    let bounds: Vec<(usize, usize)> = (0..slices)
        .map(|i| (i * buckets / slices, (i + 1) * buckets / slices))
        .collect();
    let _ = writeln!(out, "\nTimeline (whole run, {} slices)", slices);
    let mut header = format!("  {:<24}", "from");
    for &(a, _) in &bounds {
        header.push_str(&format!(" {:>7}", human_s(a as f64 * r.series.bucket_s)));
    }
    let _ = writeln!(out, "{header}");
    for e in &r.series.entries {
        let mut ok_row = format!("  {:<24}", format!("{} avail %", e.name));
        let mut p99_row = format!("  {:<24}", format!("{} p99 ms", e.name));
        for &(a, b) in &bounds {
            let ok: u64 = e.ok[a..b].iter().chain(&e.degraded[a..b]).sum();
            let all: u64 = ok
                + [
                    &e.error,
                    &e.timeout,
                    &e.rejected,
                    &e.circuit_open,
                    &e.unavailable,
                ]
                .iter()
                .map(|v| v[a..b].iter().sum::<u64>())
                .sum::<u64>();
            ok_row.push_str(&match all {
                0 => format!(" {:>7}", "-"),
                n => format!(" {:>7.1}", 100.0 * ok as f64 / n as f64),
            });
            let worst = e.p99_ms[a..b]
                .iter()
                .flatten()
                .fold(f64::NAN, |m, &x| m.max(x));
            p99_row.push_str(&if worst.is_nan() {
                format!(" {:>7}", "-")
            } else {
                format!(" {:>7.1}", worst)
            });
        }
        let _ = writeln!(out, "{ok_row}\n{p99_row}");
    }
    for s in &r.series.services {
        let mut row = format!("  {:<24}", format!("{} queue", s.name));
        for &(a, b) in &bounds {
            let mean = s.queue[a..b].iter().sum::<f64>() / (b - a) as f64;
            row.push_str(&format!(" {:>7.1}", mean));
        }
        let _ = writeln!(out, "{row}");
    }
}

/// Appends the lints, if any, as a list.
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

/// Renders what `microsim check` prints: the model's shape, the analytic shadow and lints.
pub fn render_analysis(model: &crate::model::Model, a: &Analysis) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: valid · {} · {} · {}",
        model.origin,
        count(model.services.len(), "service", "services"),
        count(model.calls.len(), "sync call", "sync calls"),
        count(model.entries.len(), "entry point", "entry points")
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
            e.required.join(" → ")
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
            "\nRetries (independent attempts assumed; an outage is not independent)"
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

/// `1 service`, `3 services`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
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

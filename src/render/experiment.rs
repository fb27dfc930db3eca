//! Experiments for people: replication tables, comparisons with their verdicts, sweeps with
//! their knees (terminal, at most 100 columns), and the whole result as CSV.

use crate::experiment::{number, short_name, CellResult, ExperimentResult, MetricSummary};
use std::fmt::Write;

/// Widest line the tables print.
const WIDTH: usize = 100;

/// `mean ± half-width`, both to the precision the half-width supports (two significant
/// digits of it); the mean alone, to four significant digits, without an interval.
pub fn with_ci(m: Option<&MetricSummary>) -> String {
    let Some(m) = m else {
        return "—".into();
    };
    if m.n == 0 || m.mean.is_nan() {
        return "—".into();
    }
    match m.half_width() {
        Some(h) if h > 0.0 && h.is_finite() => {
            let digits = (1 - h.log10().floor() as i32).clamp(0, 6) as usize;
            format!("{:.digits$} ± {:.digits$}", m.mean, h)
        }
        Some(_) => format!("{} ± 0", plain(m.mean)),
        None => plain(m.mean),
    }
}

/// A number to four significant digits, plainly.
fn plain(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if (1e-3..1e7).contains(&a) {
        let digits = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
        format!("{v:.digits$}")
    } else {
        format!("{v:.3e}")
    }
}

fn header(r: &ExperimentResult, what: &str) -> String {
    let h = &r.header;
    let mut parts = vec![format!("microsim · {what} · {}", h.topology)];
    parts.push(format!(
        "{} replication{} per {}",
        h.reps,
        if h.reps == 1 { "" } else { "s" },
        if h.axes.is_empty() && h.arms.len() == 1 {
            "run"
        } else if h.axes.is_empty() {
            "arm"
        } else {
            "point"
        }
    ));
    if let Some(d) = h.duration_s {
        parts.push(format!("{} each", seconds(d)));
    }
    if let Some(w) = h.warmup_s.filter(|&w| w > 0.0) {
        parts.push(format!("{} warm-up", seconds(w)));
    }
    parts.push(format!("master seed {}", h.master_seed));
    fit(&parts.join(" · "))
}

/// `90s`, `2.5s`, `4m`, `1h`.
fn seconds(s: f64) -> String {
    if s >= 3600.0 && (s / 3600.0).fract() == 0.0 {
        format!("{}h", s / 3600.0)
    } else if s >= 60.0 && (s / 60.0).fract() == 0.0 {
        format!("{}m", s / 60.0)
    } else if s.fract() == 0.0 {
        format!("{s}s")
    } else {
        format!("{}s", plain(s))
    }
}

/// `line` cut to [`WIDTH`] characters.
fn fit(line: &str) -> String {
    if line.chars().count() <= WIDTH {
        line.to_string()
    } else {
        let mut s: String = line.chars().take(WIDTH - 1).collect();
        s.push('…');
        s
    }
}

/// Left-aligned, cut with `…` to `w` characters.
fn cell(text: &str, w: usize) -> String {
    let n = text.chars().count();
    if n <= w {
        format!("{text:<w$}")
    } else {
        let mut s: String = text.chars().take(w.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// The entry points of a cell, by the order of its metrics.
fn entries(c: &CellResult) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in &c.metrics {
        if let Some(rest) = m.name.strip_prefix("entries[") {
            if let Some((e, _)) = rest.split_once(']') {
                if !out.iter().any(|x| x == e) {
                    out.push(e.to_string());
                }
            }
        }
    }
    out
}

/// Names of `prefix[...]` elements among a cell's metrics, in order.
fn elements(c: &CellResult, prefix: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in &c.metrics {
        if let Some(rest) = m.name.strip_prefix(prefix) {
            if let Some(end) = rest.find("].") {
                let name = &rest[..end];
                if !out.iter().any(|x| x == name) {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

/// The tables of one cell's replications.
fn cell_tables(out: &mut String, c: &CellResult) {
    let m = |name: String| c.metric(&name);
    let _ = writeln!(
        out,
        "\nEntry points (mean ± 95 % CI over replications; percentiles of all runs' answers pooled)"
    );
    let _ = writeln!(
        out,
        "  {:<18} {:>22} {:>20} {:>9} {:>9} {:>9}",
        "entry", "availability", "mean ms", "p50 ms", "p99 ms", "p99.9 ms"
    );
    for e in entries(c) {
        let pooled = c.pooled(&e);
        let q = |f: fn(&crate::metrics::LatencySummary) -> f64| {
            pooled.map_or("—".into(), |p| plain(f(p)))
        };
        let _ = writeln!(
            out,
            "  {} {:>22} {:>20} {:>9} {:>9} {:>9}",
            cell(&e, 18),
            with_ci(m(format!("entries[{e}].availability"))),
            with_ci(m(format!("entries[{e}].latency.mean_ms"))),
            q(|p| p.p50_ms),
            q(|p| p.p99_ms),
            q(|p| p.p999_ms),
        );
    }
    let services = elements(c, "services[");
    if !services.is_empty() {
        let _ = writeln!(out, "\nServices (mean ± 95 % CI over replications)");
        let _ = writeln!(
            out,
            "  {:<18} {:>20} {:>20} {:>18} {:>16}",
            "service", "utilization", "mean queue", "rejected", "orphaned work-s"
        );
        for s in services {
            let _ = writeln!(
                out,
                "  {} {:>20} {:>20} {:>18} {:>16}",
                cell(&s, 18),
                with_ci(m(format!("services[{s}].utilization"))),
                with_ci(m(format!("services[{s}].mean_queue"))),
                with_ci(m(format!("services[{s}].rejected"))),
                with_ci(m(format!("services[{s}].orphaned_work_s"))),
            );
        }
    }
    let groups: Vec<String> = c
        .metrics
        .iter()
        .filter_map(|x| x.name.strip_suffix(".max_lag").map(str::to_string))
        .filter(|n| n.starts_with("topics["))
        .collect();
    if !groups.is_empty() {
        let _ = writeln!(out, "\nConsumer groups (mean ± 95 % CI over replications)");
        let _ = writeln!(
            out,
            "  {:<40} {:>24} {:>24}",
            "topic / group", "max lag", "drained in s"
        );
        for g in groups {
            let label = g
                .trim_start_matches("topics[")
                .replacen("].groups[", " / ", 1)
                .trim_end_matches(']')
                .to_string();
            let _ = writeln!(
                out,
                "  {} {:>24} {:>24}",
                cell(&label, 40),
                with_ci(m(format!("{g}.max_lag"))),
                with_ci(m(format!("{g}.drained_in_s"))),
            );
        }
    }
    let queues = elements(c, "queues[");
    if !queues.is_empty() {
        let _ = writeln!(out, "\nWork queues (mean ± 95 % CI over replications)");
        let _ = writeln!(
            out,
            "  {:<40} {:>24} {:>24}",
            "queue", "max depth", "drained in s"
        );
        for q in queues {
            let _ = writeln!(
                out,
                "  {} {:>24} {:>24}",
                cell(&q, 40),
                with_ci(m(format!("queues[{q}].max_depth"))),
                with_ci(m(format!("queues[{q}].drained_in_s"))),
            );
        }
    }
    if !c.recovery.is_empty() {
        let _ = writeln!(
            out,
            "\nRecovery after the last fault (availability back and staying at or above the threshold)"
        );
        let _ = writeln!(
            out,
            "  {:<18} {:>16} {:>26} {:>22}",
            "entry", "collapsed", "P(collapse), 95 % CI", "recovery s"
        );
        for r in &c.recovery {
            let ci = r.collapsed_ci.map_or("—".into(), |[lo, hi]| {
                format!("{:.3} [{:.3}, {:.3}]", r.collapsed_fraction, lo, hi)
            });
            let _ = writeln!(
                out,
                "  {} {:>16} {:>26} {:>22}",
                cell(&r.entry, 18),
                format!("{} of {}", r.collapsed, r.measured),
                ci,
                with_ci(Some(&r.recovery_s)),
            );
        }
    }
    if c.failed_runs > 0 {
        let first = c.runs.iter().find_map(|r| r.error.as_deref()).unwrap_or("");
        let _ = writeln!(
            out,
            "\n{} of {} replications stopped early and are left out: {}",
            c.failed_runs,
            c.runs.len(),
            fit(first)
        );
    }
}

/// What `microsim run --reps N` prints.
pub fn render_replications(r: &ExperimentResult) -> String {
    let mut out = header(r, "replications");
    out.push('\n');
    for c in &r.cells {
        if r.cells.len() > 1 {
            let _ = write!(out, "\n== {}", c.arm);
        }
        cell_tables(&mut out, c);
    }
    if r.header.reps < 2 {
        out.push_str("\none replication: no interval; run with --reps 2 or more for one\n");
    }
    out
}

/// What `microsim compare` prints: each arm's tables, then each arm against the first.
pub fn render_comparison(r: &ExperimentResult) -> String {
    let mut out = header(r, "compare");
    out.push('\n');
    let line = format!(
        "arms: {}; each against {}, replication by replication (same seeds)",
        r.header.arms.join(", "),
        r.header.arms.first().map(String::as_str).unwrap_or("")
    );
    for l in wrap(&line, WIDTH, "  ") {
        let _ = writeln!(out, "{l}");
    }
    for cmp in &r.comparisons {
        let point = if cmp.point.is_empty() {
            String::new()
        } else {
            format!(" at {}", point_label(r, &cmp.point))
        };
        let title = format!(
            "{} vs {}{point} (difference {} − {}, 95 % CI; unpaired CI for comparison)",
            cmp.arm, cmp.baseline, cmp.arm, cmp.baseline
        );
        let _ = writeln!(out);
        for l in wrap(&title, WIDTH, "  ") {
            let _ = writeln!(out, "{l}");
        }
        let _ = writeln!(
            out,
            "  {:<30} {:>11} {:>11} {:>22} {:>12} {:>6}",
            "metric",
            cmp.baseline.chars().take(11).collect::<String>(),
            cmp.arm.chars().take(11).collect::<String>(),
            "difference",
            "unpaired ±",
            ""
        );
        let mut same = Vec::new();
        for row in &cmp.rows {
            let d = &row.difference;
            let diff = match d.half_width() {
                Some(h) => {
                    let digits = if h > 0.0 {
                        (1 - h.log10().floor() as i32).clamp(0, 6) as usize
                    } else {
                        4
                    };
                    format!("{:+.digits$} ± {:.digits$}", d.mean, h)
                }
                None => format!("{:+}", number(d.mean)),
            };
            let judgement = if !row.significant {
                ""
            } else {
                match crate::experiment::metrics::higher_is_better(&row.metric) {
                    Some(up) if up == (d.mean > 0.0) => "better",
                    Some(_) => "worse",
                    None => "",
                }
            };
            let name = short_name(&row.metric);
            if name.chars().count() > 30 {
                let _ = writeln!(out, "  {name}");
            }
            let _ = writeln!(
                out,
                "  {} {:>11} {:>11} {:>22} {:>12} {:>6}",
                cell(if name.chars().count() > 30 { "" } else { &name }, 30),
                plain(row.baseline),
                plain(row.arm),
                diff,
                row.unpaired_half_width.map_or("—".into(), plain),
                judgement
            );
            if !row.significant {
                same.push(name);
            }
        }
        for row in cmp.rows.iter().filter(|r| r.significant) {
            let _ = writeln!(out, "  → {}", fit(&row.verdict));
        }
        if !same.is_empty() {
            let text = format!("  no significant difference in: {}", same.join(", "));
            for line in wrap(&text, WIDTH, "    ") {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    out
}

/// The values of a point, with their axes' last path segments: `per_second=400, workers=4`.
fn point_label(r: &ExperimentResult, point: &[String]) -> String {
    r.header
        .axes
        .iter()
        .zip(point)
        .map(|(a, v)| format!("{}={}", last_segment(&a.path), v.trim_matches('"')))
        .collect::<Vec<_>>()
        .join(", ")
}

fn last_segment(path: &str) -> &str {
    path.rsplit(['.', '['])
        .next()
        .unwrap_or(path)
        .trim_end_matches(']')
}

/// `text` broken into lines of at most `width` characters at spaces; continuation lines
/// start with `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
            line.push_str(indent);
        } else if !line.is_empty() && !line.ends_with(' ') {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.trim().is_empty() {
        lines.push(line);
    }
    lines
}

/// What `microsim sweep` prints: a row per point (a block per arm), the first entry point's
/// figures, and the knees.
pub fn render_sweep(r: &ExperimentResult) -> String {
    let mut out = header(r, "sweep");
    out.push('\n');
    for a in &r.header.axes {
        let values: Vec<&str> = a.values.iter().map(|v| v.trim_matches('"')).collect();
        let _ = writeln!(
            out,
            "{}",
            fit(&format!("{} = {}", a.path, values.join(", ")))
        );
    }
    let points = r.cells.len() / r.header.arms.len().max(1);
    for (k, arm) in r.header.arms.iter().enumerate() {
        let cells = &r.cells[k * points..(k + 1) * points];
        let Some(first) = cells.first() else { continue };
        let entry = entries(first).into_iter().next().unwrap_or_default();
        let _ = writeln!(
            out,
            "\n{}{entry}: mean ± 95 % CI over replications; p99 of all runs pooled",
            if r.header.arms.len() > 1 {
                format!("{arm} · ")
            } else {
                String::new()
            }
        );
        let axes: Vec<&str> = r
            .header
            .axes
            .iter()
            .map(|a| last_segment(&a.path))
            .collect();
        let mut head = String::from(" ");
        for a in &axes {
            let _ = write!(head, " {}", cell(a, 12));
        }
        let recovery = cells.iter().any(|c| !c.recovery.is_empty());
        let _ = write!(
            head,
            " {:>22} {:>20} {:>9}",
            "availability", "mean ms", "p99 ms"
        );
        if recovery {
            let _ = write!(head, " {:>11}", "collapsed");
        }
        let _ = writeln!(out, "{head}");
        for c in cells {
            let mut line = String::from(" ");
            for v in &c.point {
                let _ = write!(line, " {}", cell(v.trim_matches('"'), 12));
            }
            let _ = write!(
                line,
                " {:>22} {:>20} {:>9}",
                with_ci(c.metric(&format!("entries[{entry}].availability"))),
                with_ci(c.metric(&format!("entries[{entry}].latency.mean_ms"))),
                c.pooled(&entry).map_or("—".into(), |p| plain(p.p99_ms)),
            );
            if recovery {
                let rec = c.recovery.iter().find(|x| x.entry == entry);
                let _ = write!(
                    line,
                    " {:>11}",
                    rec.map_or("—".into(), |x| format!(
                        "{} of {}",
                        x.collapsed, x.measured
                    ))
                );
            }
            let knees: Vec<&str> = r
                .knees
                .iter()
                .filter(|kn| {
                    kn.arm == *arm
                        && kn.breaks_at.as_deref() == Some(c.point[0].as_str())
                        && kn.fixed == c.point[1..]
                })
                .map(|kn| kn.target.as_str())
                .collect();
            if !knees.is_empty() {
                let _ = write!(line, "  ← breaks {}", knees.join(", "));
            }
            let _ = writeln!(out, "{}", fit(&line));
        }
    }
    if !r.knees.is_empty() {
        let _ = writeln!(
            out,
            "\nKnees (the first value of {} where a target breaks, by its mean)",
            r.header.axes[0].path
        );
        for k in &r.knees {
            let at = if k.fixed.is_empty() {
                String::new()
            } else {
                format!(" (at {})", k.fixed.join(", "))
            };
            let arm = if r.header.arms.len() > 1 {
                format!("{}: ", k.arm)
            } else {
                String::new()
            };
            let text = match (&k.breaks_at, &k.last_holds) {
                (Some(b), Some(h)) => format!(
                    "{arm}{} holds up to {}, breaks at {}{at}",
                    k.target,
                    h.trim_matches('"'),
                    b.trim_matches('"')
                ),
                (Some(b), None) => format!(
                    "{arm}{} breaks already at {}{at}",
                    k.target,
                    b.trim_matches('"')
                ),
                (None, _) => format!("{arm}{} holds at every point{at}", k.target),
            };
            let _ = writeln!(out, "  {}", fit(&text));
        }
    }
    out
}

/// The whole result as CSV: a row per cell and metric (`arm`, one column per axis, `metric`,
/// `n`, `mean`, `sd`, `ci_low`, `ci_high`), the pooled latency of each entry point as
/// metrics `entries[E].pooled.p50_ms` and so on.
pub fn render_csv(r: &ExperimentResult) -> String {
    let mut out = String::from("arm");
    for a in &r.header.axes {
        let _ = write!(out, ",{}", csv(&a.path));
    }
    out.push_str(",metric,n,mean,sd,ci_low,ci_high\n");
    for c in &r.cells {
        let mut prefix = csv(&c.arm);
        for v in &c.point {
            let _ = write!(prefix, ",{}", csv(v.trim_matches('"')));
        }
        let mut row = |name: &str, n: u64, mean: f64, sd: f64, ci: Option<[f64; 2]>| {
            let (lo, hi) = ci.map_or((String::new(), String::new()), |[l, h]| {
                (l.to_string(), h.to_string())
            });
            let f = |v: f64| {
                if v.is_finite() {
                    v.to_string()
                } else {
                    String::new()
                }
            };
            let _ = writeln!(
                out,
                "{prefix},{},{n},{},{},{lo},{hi}",
                csv(name),
                f(mean),
                f(sd)
            );
        };
        for m in &c.metrics {
            row(&m.name, m.n, m.mean, m.sd, m.ci);
        }
        for p in &c.latency {
            let s = &p.summary;
            for (k, v) in [
                ("count", s.count as f64),
                ("mean_ms", s.mean_ms),
                ("p50_ms", s.p50_ms),
                ("p90_ms", s.p90_ms),
                ("p99_ms", s.p99_ms),
                ("p999_ms", s.p999_ms),
                ("max_ms", s.max_ms),
            ] {
                row(
                    &format!("entries[{}].pooled.{k}", p.entry),
                    s.count,
                    v,
                    f64::NAN,
                    None,
                );
            }
        }
    }
    out
}

/// A CSV field, quoted when it must be.
fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(mean: f64, ci: Option<[f64; 2]>) -> MetricSummary {
        MetricSummary {
            name: "m".into(),
            n: 10,
            mean,
            sd: 1.0,
            ci,
        }
    }

    #[test]
    fn intervals_print_to_the_precision_they_support() {
        assert_eq!(
            with_ci(Some(&summary(0.91501, Some([0.9119, 0.9181])))),
            "0.9150 ± 0.0031"
        );
        assert_eq!(
            with_ci(Some(&summary(56.26, Some([55.06, 57.46])))),
            "56.3 ± 1.2"
        );
        assert_eq!(with_ci(Some(&summary(1.0, Some([1.0, 1.0])))), "1.000 ± 0");
        assert_eq!(with_ci(Some(&summary(3.25, None))), "3.250");
        assert_eq!(with_ci(None), "—");
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv("calls[a → b].retries"), "calls[a → b].retries");
    }

    #[test]
    fn long_lists_wrap_within_the_width() {
        let text = format!(
            "  no significant difference in: {}",
            ["shoppers p99 (ms)"; 12].join(", ")
        );
        for line in wrap(&text, WIDTH, "    ") {
            assert!(line.chars().count() <= WIDTH, "{line}");
        }
    }
}

//! The experiment page: one self-contained HTML file with every cell's estimates and their
//! confidence intervals, the paired comparisons with their verdicts, the knees of a sweep,
//! recovery, every chart, and every metric of every cell.
//!
//! Like the run report ([`super::render_html`]) the page needs nothing but itself: no
//! network, fonts or external scripts; the charts are embedded as `data:` URIs, so
//! `DIR/index.html` opens from disk, mails and archives. It depends on nothing but the
//! result and the charts (no clock, no paths), so a result merged from shards gives the same
//! page byte for byte. Every piece of text from the result (arm, entry point and metric
//! names, axis values, targets, verdicts, chart titles) is escaped.
//!
//! The style sheet and the small `load` script (which writes `data-images-loaded` and
//! `data-tables-overflowing` on `<body>` for browser tests) follow the run report's.

use super::experiment::with_ci;
use super::html::SCRIPT;
use crate::chart::Chart;
use crate::experiment::metrics::higher_is_better;
use crate::experiment::{number, short_name, CellResult, ExperimentResult};
use base64::Engine as _;
use std::fmt::Write;

/// The style sheet: the run report's, with colours for verdicts.
const STYLE: &str = r#"
:root { --fg: #1d2430; --muted: #5b6472; --line: #d9dee5; --head: #f2f4f7; --accent: #0072b2; --bad: #b34700; --good: #007a55; }
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
.better { color: var(--good); font-weight: 600; }
.worse { color: var(--bad); font-weight: 600; }
.ns { color: var(--muted); }
ul.verdicts { margin: 4px 0 12px; padding-left: 20px; }
details { margin: 4px 0; }
summary { cursor: pointer; color: var(--accent); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12px; }
figure { margin: 18px 0 28px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { font-size: 13px; margin-top: 6px; }
footer { margin-top: 40px; font-size: 12px; }
"#;

/// Renders experiment `r` and its `charts` (as from
/// [`crate::chart::experiment::render_experiment_charts`]) as one self-contained HTML page:
/// the `index.html` that `microsim run --reps`, `compare`, `sweep` and `merge` write with
/// `--out DIR`.
///
/// Deterministic: the same result and charts give the same bytes.
pub fn render_experiment_html(r: &ExperimentResult, charts: &[Chart]) -> String {
    let mut out = String::with_capacity(
        32 * 1024
            + charts
                .iter()
                .map(|c| c.svg.len() * 4 / 3 + 256)
                .sum::<usize>(),
    );
    let title = format!("microsim · {} · {}", kind(r), r.header.topology);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", esc(&title));
    let _ = writeln!(out, "<style>{STYLE}</style>");
    out.push_str("</head>\n<body>\n<main>\n");
    header(r, charts, &mut out);
    results(r, &mut out);
    recovery(r, &mut out);
    comparisons(r, &mut out);
    knees(r, &mut out);
    figures(charts, &mut out);
    all_metrics(r, &mut out);
    let _ = writeln!(
        out,
        "<footer>Written by microsim {} from an experiment result of schema {}.</footer>",
        env!("CARGO_PKG_VERSION"),
        r.schema
    );
    out.push_str("</main>\n");
    let _ = writeln!(out, "<script>{SCRIPT}</script>");
    out.push_str("</body>\n</html>\n");
    out
}

/// What kind of experiment `r` is, in a word.
fn kind(r: &ExperimentResult) -> &'static str {
    if !r.header.axes.is_empty() {
        "sweep"
    } else if r.header.arms.len() > 1 {
        "comparison"
    } else {
        "replications"
    }
}

/// The heading, what was run, how the figures are estimated, and links to the sections.
fn header(r: &ExperimentResult, charts: &[Chart], out: &mut String) {
    let h = &r.header;
    let _ = writeln!(
        out,
        "<h1>microsim · {} · {}</h1>",
        kind(r),
        esc(&h.topology)
    );
    let mut meta = vec![format!(
        "{} replication{} per {}",
        h.reps,
        if h.reps == 1 { "" } else { "s" },
        if !h.axes.is_empty() {
            "point"
        } else if h.arms.len() > 1 {
            "arm"
        } else {
            "run"
        }
    )];
    if let Some(d) = h.duration_s {
        meta.push(format!("{} simulated each", seconds(d)));
    }
    if let Some(w) = h.warmup_s.filter(|&w| w > 0.0) {
        meta.push(format!("{} warm-up", seconds(w)));
    }
    meta.push(format!("master seed {}", h.master_seed));
    let runs: usize = r.cells.iter().map(|c| c.runs.len()).sum();
    meta.push(format!("{runs} runs in all"));
    let _ = writeln!(out, "<p class=\"meta\">{}</p>", esc(&meta.join(" · ")));
    if h.arms.len() > 1 {
        let _ = writeln!(
            out,
            "<p class=\"meta\">Arms: {} (the first is the baseline of the comparisons)</p>",
            h.arms
                .iter()
                .map(|a| format!("<strong>{}</strong>", esc(a)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for a in &h.axes {
        let values: Vec<&str> = a.values.iter().map(|v| v.trim_matches('"')).collect();
        let _ = writeln!(
            out,
            "<p class=\"meta\">Swept: <code>{}</code> = {}</p>",
            esc(&a.path),
            esc(&values.join(", "))
        );
    }
    let _ = writeln!(
        out,
        "<p class=\"note\">Each figure is the mean over independent replications with its 95 % \
         confidence interval (Student t, n − 1 degrees of freedom): requests within one run are \
         correlated, replications are not. Latency percentiles marked <em>pooled</em> are those \
         of every replication's answers together (merged histograms), not means of \
         percentiles.{}{}</p>",
        if r.cells.len() > 1 {
            " Every arm and point runs with the same seeds, so comparisons are paired, \
             replication by replication."
        } else {
            ""
        },
        if h.reps < 2 {
            " With one replication there is no interval: run with <code>--reps 2</code> or more."
        } else {
            ""
        }
    );
    let mut links = vec![("results", "Results")];
    if r.cells.iter().any(|c| !c.recovery.is_empty()) {
        links.push(("recovery", "Recovery"));
    }
    if !r.comparisons.is_empty() {
        links.push(("comparisons", "Comparisons"));
    }
    if !r.knees.is_empty() {
        links.push(("knees", "Knees"));
    }
    if !charts.is_empty() {
        links.push(("charts", "Charts"));
    }
    links.push(("metrics", "All metrics"));
    out.push_str("<nav>");
    for (id, label) in links {
        let _ = write!(out, "<a href=\"#{id}\">{label}</a>");
    }
    out.push_str("</nav>\n");
}

/// The entry points of the result, in the order of the cells' metrics.
fn entries(r: &ExperimentResult) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in &r.cells {
        for m in &c.metrics {
            if let Some(e) = m
                .name
                .strip_prefix("entries[")
                .and_then(|rest| rest.strip_suffix("].availability"))
            {
                if !out.iter().any(|x| x == e) {
                    out.push(e.to_string());
                }
            }
        }
    }
    out
}

/// The columns that say which cell a row is: the arm when there are several, and each
/// axis's value.
fn cell_columns(r: &ExperimentResult, t: Table) -> Table {
    let mut t = t;
    if r.header.arms.len() > 1 || r.header.axes.is_empty() {
        t = t.col("arm", "the variant or file", false);
    }
    for a in &r.header.axes {
        t = t.col_owned(last_segment(&a.path), a.path.clone(), false);
    }
    t
}

/// The cells of the row of cell `c` that [`cell_columns`] heads.
fn cell_cells(r: &ExperimentResult, c: &CellResult) -> Vec<String> {
    let mut row = Vec::new();
    if r.header.arms.len() > 1 || r.header.axes.is_empty() {
        row.push(esc(&c.arm));
    }
    for v in &c.point {
        row.push(esc(v.trim_matches('"')));
    }
    row
}

/// Per entry point, a row per cell: availability and latency with their intervals, the
/// pooled percentiles.
fn results(r: &ExperimentResult, out: &mut String) {
    section(out, "results", "Results");
    let _ = writeln!(
        out,
        "<p class=\"note\">Per entry point and cell: mean ± half-width of the 95 % interval over \
         the replications; p50, p99 and p99.9 <em>pooled</em> over all the replications' \
         answers.</p>"
    );
    for e in entries(r) {
        let _ = writeln!(out, "<h3>{}</h3>", esc(&e));
        let mut t = cell_columns(r, Table::new());
        t = t
            .col(
                "availability",
                "(ok + degraded) / answered, mean ± 95 % CI",
                true,
            )
            .col("mean ms", "mean latency, mean ± 95 % CI", true)
            .col("p99 ms", "each run's p99, mean ± 95 % CI", true)
            .col("pooled p50", "median of all answers pooled [ms]", true)
            .col(
                "pooled p99",
                "99th percentile of all answers pooled [ms]",
                true,
            )
            .col(
                "pooled p99.9",
                "99.9th percentile of all answers pooled [ms]",
                true,
            )
            .col("answers", "answers pooled over the replications", true)
            .col("runs", "replications with a value (of all)", true);
        for c in &r.cells {
            let m = |field: &str| c.metric(&format!("entries[{e}].{field}"));
            let pooled = c.pooled(&e).filter(|p| p.count > 0);
            let q = |f: fn(&crate::metrics::LatencySummary) -> f64| {
                pooled.map_or_else(dash, |p| num(f(p)))
            };
            let mut row = cell_cells(r, c);
            row.extend([
                esc(&with_ci(m("availability"))),
                esc(&with_ci(m("latency.mean_ms"))),
                esc(&with_ci(m("latency.p99_ms"))),
                q(|p| p.p50_ms),
                q(|p| p.p99_ms),
                q(|p| p.p999_ms),
                pooled.map_or_else(dash, |p| p.count.to_string()),
                format!(
                    "{} of {}",
                    m("availability").map_or(0, |m| m.n),
                    c.runs.len()
                ),
            ]);
            t.row(row);
        }
        t.render(out);
    }
    let failed: Vec<&CellResult> = r.cells.iter().filter(|c| c.failed_runs > 0).collect();
    if !failed.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"note\">Replications that stopped early are left out of the figures:</p>"
        );
        let mut t = cell_columns(r, Table::new())
            .col("stopped", "replications that stopped early", true)
            .col("first error", "", false);
        t.wrap_last = true;
        for c in failed {
            let mut row = cell_cells(r, c);
            row.push(format!("{} of {}", c.failed_runs, c.runs.len()));
            row.push(esc(c
                .runs
                .iter()
                .find_map(|x| x.error.as_deref())
                .unwrap_or("")));
            t.row(row);
        }
        t.render(out);
    }
}

/// Recovery after the last fault: per cell and entry point, the replications that collapsed
/// and the time the others took.
fn recovery(r: &ExperimentResult, out: &mut String) {
    if r.cells.iter().all(|c| c.recovery.is_empty()) {
        return;
    }
    section(out, "recovery", "Recovery");
    let rec = &r.header.recovery;
    let from = rec
        .from_s
        .map_or_else(|| "the end of the last fault".to_string(), seconds);
    let _ = writeln!(
        out,
        "<p class=\"note\">From {}, the time until availability stays at or above {} to the end \
         of the run (at least {} buckets of it); a replication where it does not has \
         <em>collapsed</em>. The interval of the probability of collapse is Wilson's.</p>",
        esc(&from),
        number(rec.threshold),
        rec.hold
    );
    let mut t = cell_columns(r, Table::new())
        .col("entry", "entry point", false)
        .col(
            "collapsed",
            "replications that did not recover (of those measured)",
            true,
        )
        .col("P(collapse)", "fraction collapsed", true)
        .col(
            "95 % interval",
            "Wilson interval of the probability of collapse",
            true,
        )
        .col(
            "recovery s",
            "time to recover of the others, mean ± 95 % CI",
            true,
        );
    for c in &r.cells {
        for x in &c.recovery {
            let mut row = cell_cells(r, c);
            row.extend([
                esc(&x.entry),
                format!("{} of {}", x.collapsed, x.measured),
                fixed(x.collapsed_fraction, 3),
                x.collapsed_ci
                    .map_or_else(dash, |[lo, hi]| format!("{lo:.3} – {hi:.3}")),
                esc(&with_ci(Some(&x.recovery_s))),
            ]);
            t.row(row);
        }
    }
    t.render(out);
}

/// Each arm against the baseline at each point: a table of paired differences and the
/// verdicts.
fn comparisons(r: &ExperimentResult, out: &mut String) {
    if r.comparisons.is_empty() {
        return;
    }
    section(out, "comparisons", "Comparisons");
    let _ = writeln!(
        out,
        "<p class=\"note\">Difference = arm − baseline, replication by replication (the same \
         seeds), with its 95 % interval; the unpaired interval the same runs would give shows \
         what pairing bought. A difference is significant when its interval excludes 0.</p>"
    );
    for cmp in &r.comparisons {
        let at = if cmp.point.is_empty() {
            String::new()
        } else {
            format!(" at {}", esc(&point_label(r, &cmp.point)))
        };
        let _ = writeln!(
            out,
            "<h3>{} vs {}{at}</h3>",
            esc(&cmp.arm),
            esc(&cmp.baseline)
        );
        let significant: Vec<_> = cmp.rows.iter().filter(|x| x.significant).collect();
        out.push_str("<ul class=\"verdicts\">\n");
        for row in &significant {
            let _ = writeln!(
                out,
                "<li class=\"{}\">{}</li>",
                class(&row.metric, row.difference.mean, true),
                esc(&row.verdict)
            );
        }
        if significant.is_empty() {
            let _ = writeln!(
                out,
                "<li class=\"ns\">no significant difference in any metric compared</li>"
            );
        }
        out.push_str("</ul>\n");
        let mut t = Table::new()
            .col("metric", "", false)
            .col_owned("baseline", cmp.baseline.clone(), true)
            .col_owned("arm", cmp.arm.clone(), true)
            .col("difference", "arm − baseline, paired, mean ± 95 % CI", true)
            .col(
                "unpaired ±",
                "half-width of the unpaired (Welch) interval of the same runs",
                true,
            )
            .col("verdict", "", false);
        t.wrap_last = true;
        for row in &cmp.rows {
            let d = &row.difference;
            let diff = match d.half_width().filter(|h| h.is_finite()) {
                Some(h) => {
                    let digits = if h > 0.0 {
                        (1 - h.log10().floor() as i32).clamp(0, 6) as usize
                    } else {
                        4
                    };
                    signed(d.mean, digits, Some((h, digits)))
                }
                None => signed(d.mean, 4, None),
            };
            t.row(vec![
                esc(&short_name(&row.metric)),
                num(row.baseline),
                num(row.arm),
                diff,
                row.unpaired_half_width.map_or_else(dash, num),
                format!(
                    "<span class=\"{}\">{}</span>",
                    class(&row.metric, d.mean, row.significant),
                    esc(&row.verdict)
                ),
            ]);
        }
        t.render(out);
    }
}

/// The CSS class of a difference: `better`, `worse`, or `ns` (not significant, or a metric
/// without a direction).
fn class(metric: &str, mean: f64, significant: bool) -> &'static str {
    if !significant {
        return "ns";
    }
    match higher_is_better(metric) {
        Some(up) if up == (mean > 0.0) => "better",
        Some(_) => "worse",
        None => "ns",
    }
}

/// `x` with a sign (− for negatives) and `digits` decimals, `± h` after it when given; a dash
/// when it is not a number.
fn signed(x: f64, digits: usize, h: Option<(f64, usize)>) -> String {
    if !x.is_finite() {
        return dash();
    }
    let text = format!("{:.digits$}", x.abs());
    let value = if text.bytes().all(|b| b == b'0' || b == b'.') {
        text
    } else if x < 0.0 {
        format!("−{text}")
    } else {
        format!("+{text}")
    };
    match h {
        Some((h, d)) => format!("{value} ± {h:.d$}"),
        None => value,
    }
}

/// The knees of a sweep: per target, arm and value of the other axes, where it breaks.
fn knees(r: &ExperimentResult, out: &mut String) {
    if r.knees.is_empty() {
        return;
    }
    section(out, "knees", "Knees");
    let first = r
        .header
        .axes
        .first()
        .map(|a| a.path.as_str())
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<p class=\"note\">The first value of <code>{}</code> where a target does not hold (by \
         its mean over the replications; latency percentiles by the pooled answers).</p>",
        esc(first)
    );
    let mut t = Table::new().col("target", "as given", false);
    if r.header.arms.len() > 1 {
        t = t.col("arm", "", false);
    }
    for a in r.header.axes.iter().skip(1) {
        t = t.col_owned(last_segment(&a.path), a.path.clone(), false);
    }
    t = t
        .col(
            "holds up to",
            "the last value where the target holds",
            false,
        )
        .col("breaks at", "the first value where it does not", false);
    for k in &r.knees {
        let mut row = vec![format!("<code>{}</code>", esc(&k.target))];
        if r.header.arms.len() > 1 {
            row.push(esc(&k.arm));
        }
        row.extend(k.fixed.iter().map(|v| esc(v.trim_matches('"'))));
        row.push(k.last_holds.as_deref().map_or_else(
            || "— (breaks at the first)".into(),
            |v| esc(v.trim_matches('"')),
        ));
        row.push(k.breaks_at.as_deref().map_or_else(
            || "<span class=\"better\">holds everywhere</span>".into(),
            |v| format!("<span class=\"worse\">{}</span>", esc(v.trim_matches('"'))),
        ));
        t.row(row);
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
            base64::engine::general_purpose::STANDARD.encode(c.svg.as_bytes()),
        );
    }
}

/// Every metric of every cell, folded per cell: what the CSV holds, to read in place.
fn all_metrics(r: &ExperimentResult, out: &mut String) {
    section(out, "metrics", "All metrics");
    let _ = writeln!(
        out,
        "<p class=\"note\">Every scalar of the report, per cell: replications with a value, \
         mean, standard deviation and the 95 % interval of the mean.</p>"
    );
    for c in &r.cells {
        let mut label = vec![c.arm.clone()];
        if !c.point.is_empty() {
            label.push(point_label(r, &c.point));
        }
        let _ = writeln!(
            out,
            "<details>\n<summary>{} ({} metrics)</summary>",
            esc(&label.join(" · ")),
            c.metrics.len()
        );
        let mut t = Table::new()
            .col("metric", "", false)
            .col("n", "replications with a value", true)
            .col("mean", "", true)
            .col("sd", "standard deviation across replications", true)
            .col("95 % CI", "Student-t interval of the mean", true);
        for m in &c.metrics {
            t.row(vec![
                esc(&m.name),
                m.n.to_string(),
                num(m.mean),
                num(m.sd),
                m.ci.map_or_else(dash, |[lo, hi]| format!("{} – {}", num(lo), num(hi))),
            ]);
        }
        t.render(out);
        out.push_str("</details>\n");
    }
}

/// The values of a point with their axes' last path segments: `per_second=400, workers=4`.
fn point_label(r: &ExperimentResult, point: &[String]) -> String {
    r.header
        .axes
        .iter()
        .zip(point)
        .map(|(a, v)| format!("{}={}", last_segment(&a.path), v.trim_matches('"')))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `path`'s last segment: `workload[main].arrivals.per_second` → `per_second`.
fn last_segment(path: &str) -> &str {
    path.rsplit(['.', '['])
        .next()
        .unwrap_or(path)
        .trim_end_matches(']')
}

/// Opens a section with an anchor.
fn section(out: &mut String, id: &str, title: &str) {
    let _ = writeln!(out, "<h2 id=\"{id}\">{title}</h2>");
}

/// An HTML table built column by column; cells are HTML already escaped by the caller.
struct Table {
    /// Header and tooltip (both escaped; the tooltip empty for none), and whether the
    /// column holds numbers.
    cols: Vec<(String, String, bool)>,
    /// Rows of cells, as many as columns.
    rows: Vec<Vec<String>>,
    /// Whether the last column may wrap (long sentences).
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
    fn col(self, head: &str, tip: &str, numeric: bool) -> Table {
        self.col_owned(head, tip.to_string(), numeric)
    }

    /// [`Table::col`] with a tooltip from the result (a path, an arm's name).
    fn col_owned(mut self, head: &str, tip: String, numeric: bool) -> Table {
        self.cols.push((esc(head), esc(&tip), numeric));
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
                let _ = write!(out, "<th{class} title=\"{tip}\">{head}</th>");
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

/// `x` with `digits` decimals, or a dash when it is not a finite number.
fn fixed(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        dash()
    }
}

/// `s` seconds to three significant digits without trailing zeros: `4 s`, `0.5 s`, `12.3 s`.
fn seconds(s: f64) -> String {
    let text = number(s);
    let text = if text.contains('.') && !text.contains('e') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{text} s")
}

/// `v` to three significant digits ([`number`]), or a dash when it is not a finite number.
fn num(v: f64) -> String {
    if v.is_finite() {
        esc(&number(v))
    } else {
        dash()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_carry_their_sign_and_interval() {
        assert_eq!(signed(-0.0123, 4, Some((0.004, 4))), "−0.0123 ± 0.0040");
        assert_eq!(signed(0.5, 1, None), "+0.5");
        assert_eq!(signed(0.0, 2, Some((0.0, 2))), "0.00 ± 0.00");
        assert_eq!(signed(f64::NAN, 2, None), "–");
    }

    #[test]
    fn seconds_read_plainly() {
        assert_eq!(seconds(4.0), "4 s");
        assert_eq!(seconds(0.5), "0.5 s");
        assert_eq!(seconds(12.34), "12.3 s");
        assert_eq!(seconds(600.0), "600 s");
    }

    #[test]
    fn classes_follow_the_direction_of_the_metric() {
        assert_eq!(class("entries[a].availability", 0.1, true), "better");
        assert_eq!(class("entries[a].latency.p99_ms", 3.0, true), "worse");
        assert_eq!(class("entries[a].latency.p99_ms", -3.0, false), "ns");
        assert_eq!(class("services[a].utilization", 0.1, true), "ns");
    }
}

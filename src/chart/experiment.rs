//! Pictures of an experiment: the arms side by side with their confidence intervals, their
//! latency distributions and availability over time on shared axes, and for sweeps each
//! headline metric against the swept parameter with its knee, and the metastability map.
//!
//! Everything is drawn from an [`ExperimentResult`] alone, so a `result.json` read back (or
//! merged from shards) gives the same charts, byte for byte. Charts that do not apply are
//! left out rather than drawn empty:
//!
//! | chart | file | drawn when |
//! |---|---|---|
//! | one bar per arm, whiskers: 95 % CI | `compare-<metric>.svg` | two arms or more, no sweep |
//! | probability of collapse per arm | `compare-<entry>-collapse.svg` | the same, with recovery measured |
//! | latency CDFs of the arms, overlaid | `cdf-<entry>.svg` | no sweep, and the entry point answered |
//! | availability over time, one line per arm | `timeline-<entry>.svg` | no sweep |
//! | a metric against the first axis, with a CI band | `sweep-<metric>.svg` | a sweep |
//! | fraction of replications collapsed against the first axis | `collapse-<entry>.svg` | a sweep, with recovery measured |
//!
//! The metrics charted ([`headline_metrics`]) are, for every entry point, its availability,
//! mean latency and p99 latency, then the total retries and orphaned work when some cell has
//! any, then whatever a sweep's targets read. Bars and bands show the mean over replications
//! and its 95 % Student-t interval; a bar of an arm after the first also says its paired
//! difference from the first (same seeds), which can be significant where the bars' own
//! intervals overlap. Latency percentiles of a sweep are also marked as pooled over all the
//! runs' answers (the estimate the knees of latency targets are judged by).
//!
//! Every arm keeps its colour ([`palette::series`] by its position among the arms) on every
//! chart; the lines of a two-axis sweep take theirs in turn. Each chart's data comes from a
//! pure function ([`comparison_bars`], [`latency_cdfs`], [`availability_timelines`],
//! [`sweep_lines`], [`knee_marks`], [`collapse_lines`], …) that the tests hold to the
//! result's numbers.

use super::axes::{self, LegendItem, Mark, TimeUnit};
use super::{palette, slug, Chart};
use crate::experiment::metrics::higher_is_better;
use crate::experiment::{short_name, AxisRecord, CellResult, ExperimentResult, Target};
use crate::time::parse_duration;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::ops::Range;

// ---------------------------------------------------------------------------------------
// What is plotted.

/// The entry points of the result, in the order of the cells' metrics.
pub fn entries(r: &ExperimentResult) -> Vec<String> {
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

/// The metrics charted, in order: for each entry point its availability, mean and p99
/// latency; `total.retries` and `total.orphaned_work_s` when some cell has a non-zero mean;
/// then the metric each target reads (see [`Target::metric`]) when it is not among them.
pub fn headline_metrics(r: &ExperimentResult) -> Vec<String> {
    let mut out = Vec::new();
    for e in entries(r) {
        for field in ["availability", "latency.mean_ms", "latency.p99_ms"] {
            out.push(format!("entries[{e}].{field}"));
        }
    }
    for total in ["total.retries", "total.orphaned_work_s"] {
        let any = r.cells.iter().any(|c| {
            c.metric(total)
                .is_some_and(|m| m.mean.is_finite() && m.mean != 0.0)
        });
        if any {
            out.push(total.to_string());
        }
    }
    for t in targets(r) {
        if let Some(m) = r.cells.first().and_then(|c| t.metric(c)) {
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// The sweep's targets that parse (all of them, in a result written by microsim).
fn targets(r: &ExperimentResult) -> Vec<Target> {
    r.header
        .targets
        .iter()
        .filter_map(|t| Target::parse(t).ok())
        .collect()
}

/// A paired difference from the baseline arm, as a bar shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// Arm − baseline, mean over replications of the per-replication differences.
    pub mean: f64,
    /// Half-width of its 95 % interval; `None` with one replication.
    pub half_width: Option<f64>,
    /// Whether the interval excludes 0.
    pub significant: bool,
    /// For a significant difference in a metric with a direction: whether it is better.
    pub better: Option<bool>,
}

/// One arm's bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// The arm.
    pub arm: String,
    /// Its position among the arms (which fixes its colour).
    pub index: usize,
    /// The mean over replications (the fraction collapsed, for a collapse chart); `None`
    /// when no replication has a value.
    pub mean: Option<f64>,
    /// The whisker: the 95 % interval (Student t; Wilson for a fraction collapsed).
    pub ci: Option<[f64; 2]>,
    /// The paired difference from the first arm, for the arms after it where the result
    /// compares the metric.
    pub difference: Option<Difference>,
}

/// The bars of one metric.
#[derive(Clone, Debug, PartialEq)]
pub struct BarGroup {
    /// The metric (`entries[E].collapsed` for the probability of collapse).
    pub metric: String,
    /// One bar per arm, in arm order.
    pub bars: Vec<Bar>,
}

/// Whether the result compares arms without a sweep: the cells are the arms.
fn is_comparison(r: &ExperimentResult) -> bool {
    r.header.axes.is_empty() && r.header.arms.len() >= 2 && r.cells.len() == r.header.arms.len()
}

/// Whether the result has no sweep: one cell per arm.
fn is_flat(r: &ExperimentResult) -> bool {
    r.header.axes.is_empty() && !r.cells.is_empty() && r.cells.len() == r.header.arms.len()
}

/// A finite value.
fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// An interval with finite ends.
fn finite_ci(ci: Option<[f64; 2]>) -> Option<[f64; 2]> {
    ci.filter(|[lo, hi]| lo.is_finite() && hi.is_finite())
}

/// The bars of every headline metric, one bar per arm, when the result compares two arms or
/// more without a sweep; metrics where no arm has a value are left out.
pub fn comparison_bars(r: &ExperimentResult) -> Vec<BarGroup> {
    if !is_comparison(r) {
        return Vec::new();
    }
    headline_metrics(r)
        .into_iter()
        .map(|metric| {
            let bars = r
                .cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let m = c.metric(&metric).filter(|m| m.n > 0);
                    let difference = (i > 0)
                        .then(|| {
                            r.comparisons
                                .iter()
                                .find(|cmp| cmp.arm == c.arm && cmp.point == c.point)
                                .and_then(|cmp| cmp.rows.iter().find(|row| row.metric == metric))
                        })
                        .flatten()
                        .filter(|row| row.difference.n > 0 && row.difference.mean.is_finite())
                        .map(|row| {
                            let d = &row.difference;
                            Difference {
                                mean: d.mean,
                                half_width: d.half_width().filter(|h| h.is_finite()),
                                significant: row.significant,
                                better: higher_is_better(&metric)
                                    .filter(|_| row.significant)
                                    .map(|up| up == (d.mean > 0.0)),
                            }
                        });
                    Bar {
                        arm: c.arm.clone(),
                        index: i,
                        mean: m.and_then(|m| finite(m.mean)),
                        ci: m.and_then(|m| finite_ci(m.ci)),
                        difference,
                    }
                })
                .collect();
            BarGroup { metric, bars }
        })
        .filter(|g| g.bars.iter().any(|b| b.mean.is_some()))
        .collect()
}

/// Per entry point where recovery was measured, the fraction of each arm's replications
/// that collapsed with its Wilson interval, when the result compares arms without a sweep.
pub fn collapse_bars(r: &ExperimentResult) -> Vec<BarGroup> {
    if !is_comparison(r) {
        return Vec::new();
    }
    entries(r)
        .into_iter()
        .filter_map(|e| {
            let bars: Vec<Bar> = r
                .cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let rec = c.recovery.iter().find(|x| x.entry == e && x.measured > 0);
                    Bar {
                        arm: c.arm.clone(),
                        index: i,
                        mean: rec.and_then(|x| finite(x.collapsed_fraction)),
                        ci: rec.and_then(|x| finite_ci(x.collapsed_ci)),
                        difference: None,
                    }
                })
                .collect();
            bars.iter().any(|b| b.mean.is_some()).then(|| BarGroup {
                metric: format!("entries[{e}].collapsed"),
                bars,
            })
        })
        .collect()
}

/// The pooled latency distribution of one arm at one entry point.
#[derive(Clone, Debug, PartialEq)]
pub struct Cdf {
    /// The arm.
    pub arm: String,
    /// Its position among the arms (which fixes its colour).
    pub index: usize,
    /// Answers pooled over the replications.
    pub answers: u64,
    /// The pooled p99 \[ms\].
    pub p99_ms: f64,
    /// `[latency_ms, fraction answered within]` of the merged histogram
    /// ([`crate::metrics::LatencyHistogram::cdf`]), before any clamping to the axis.
    pub points: Vec<[f64; 2]>,
}

/// The latency CDF of entry point `entry` in each arm, from the histogram merged over its
/// replications, when the result has no sweep; arms without answers there are left out.
pub fn latency_cdfs(r: &ExperimentResult, entry: &str) -> Vec<Cdf> {
    if !is_flat(r) {
        return Vec::new();
    }
    r.cells
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let pooled = c.latency.iter().find(|l| l.entry == entry)?;
            let h = pooled.histogram.histogram().ok()?;
            (h.count() > 0).then(|| Cdf {
                arm: c.arm.clone(),
                index: i,
                answers: h.count(),
                p99_ms: pooled.summary.p99_ms,
                points: h.cdf(),
            })
        })
        .collect()
}

/// Availability over time of one arm at one entry point.
#[derive(Clone, Debug, PartialEq)]
pub struct AvailabilityLine {
    /// The arm.
    pub arm: String,
    /// Its position among the arms (which fixes its colour).
    pub index: usize,
    /// Per bucket: its middle \[s\] and the pooled availability, ok (or degraded) answers
    /// over all answers of every replication in it; `None` when nothing was answered.
    pub points: Vec<(f64, Option<f64>)>,
}

/// The availability per time-series bucket of entry point `entry` in each arm, every
/// replication's answers pooled, when the result has no sweep; arms without a series for it
/// are left out.
pub fn availability_timelines(r: &ExperimentResult, entry: &str) -> Vec<AvailabilityLine> {
    if !is_flat(r) {
        return Vec::new();
    }
    r.cells
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let t = c.timeline.iter().find(|t| t.entry == entry)?;
            let w = bucket_width(c);
            let points: Vec<(f64, Option<f64>)> = t
                .answered
                .iter()
                .enumerate()
                .map(|(b, &answered)| {
                    let ok = t.ok.get(b).copied().unwrap_or(0);
                    let a = (answered > 0).then(|| ok as f64 / answered as f64);
                    ((b as f64 + 0.5) * w, a)
                })
                .collect();
            (!points.is_empty()).then(|| AvailabilityLine {
                arm: c.arm.clone(),
                index: i,
                points,
            })
        })
        .collect()
}

/// The availability that counts as recovered ([`crate::experiment::RecoverySpec`]), when
/// recovery was measured at entry point `entry` in some cell: the timeline draws it.
pub fn recovery_threshold(r: &ExperimentResult, entry: &str) -> Option<f64> {
    let measured = r.cells.iter().any(|c| {
        c.recovery
            .iter()
            .any(|x| x.entry == entry && x.measured > 0)
    });
    measured
        .then_some(r.header.recovery.threshold)
        .filter(|t| t.is_finite())
}

/// A cell's bucket width \[s\]; 1 s when it has none (only a hand-made result lacks one).
fn bucket_width(c: &CellResult) -> f64 {
    if c.bucket_s.is_finite() && c.bucket_s > 0.0 {
        c.bucket_s
    } else {
        1.0
    }
}

/// How the values of the first sweep axis are placed along the x axis.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepAxis {
    /// The axis description: the path, with the unit of durations (`…timeout [ms]`).
    pub label: String,
    /// Each value's position: the number; a duration in the unit of the label; or, when
    /// the values are not all numbers or all durations, its index (categorical).
    pub positions: Vec<f64>,
    /// Whether the positions are indices.
    pub categorical: bool,
    /// The values as shown (RON text without the quotes of strings and durations).
    pub labels: Vec<String>,
}

/// The x axis of a sweep over `axis`: numbers as they are, durations (`"300ms"`) in the
/// largest of s, ms, µs and ns that their largest value reaches, anything else in order.
pub fn sweep_axis(axis: &AxisRecord) -> SweepAxis {
    let labels: Vec<String> = axis
        .values
        .iter()
        .map(|v| v.trim().trim_matches('"').to_string())
        .collect();
    let numbers: Option<Vec<f64>> = axis
        .values
        .iter()
        .map(|v| v.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect();
    if let Some(positions) = numbers.filter(|p| !p.is_empty()) {
        return SweepAxis {
            label: axis.path.clone(),
            positions,
            categorical: false,
            labels,
        };
    }
    let durations: Option<Vec<f64>> = axis
        .values
        .iter()
        .map(|v| {
            let v = v.trim();
            let quoted = v.len() >= 2 && v.starts_with('"') && v.ends_with('"');
            quoted
                .then(|| parse_duration(&v[1..v.len() - 1]).ok())
                .flatten()
                .map(|d| d.as_nanos() as f64)
        })
        .collect();
    if let Some(ns) = durations.filter(|d| !d.is_empty()) {
        let max = ns.iter().copied().fold(0.0, f64::max);
        let (scale, unit) = [(1e9, "s"), (1e6, "ms"), (1e3, "µs")]
            .into_iter()
            .find(|&(s, _)| max >= s)
            .unwrap_or((1.0, "ns"));
        return SweepAxis {
            label: format!("{} [{unit}]", axis.path),
            positions: ns.iter().map(|n| n / scale).collect(),
            categorical: false,
            labels,
        };
    }
    SweepAxis {
        label: axis.path.clone(),
        positions: (0..labels.len()).map(|i| i as f64).collect(),
        categorical: true,
        labels,
    }
}

/// One value of the first axis on a sweep line.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepPoint {
    /// Position on the x axis ([`SweepAxis::positions`]).
    pub x: f64,
    /// The value, as RON text.
    pub value: String,
    /// The metric's mean over replications; `None` when no replication has a value.
    pub mean: Option<f64>,
    /// Its 95 % interval.
    pub ci: Option<[f64; 2]>,
    /// For a latency statistic of an entry point (other than the mean), the same statistic
    /// of all the replications' answers pooled.
    pub pooled: Option<f64>,
}

/// One line of a sweep chart: an arm at fixed values of the other axes.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepLine {
    /// The arm.
    pub arm: String,
    /// The values of the other axes (RON text), in axis order.
    pub fixed: Vec<String>,
    /// Along the first axis, in sweep order.
    pub points: Vec<SweepPoint>,
}

/// The cells of each line of a sweep: per arm, per combination of the other axes' values,
/// the cells along the first axis. Empty when the result has no sweep (or its cells do not
/// fit its header).
fn line_cells(r: &ExperimentResult) -> Vec<&[CellResult]> {
    let Some(first) = r.header.axes.first() else {
        return Vec::new();
    };
    let per_line = first.values.len();
    let arms = r.header.arms.len();
    if per_line == 0 || arms == 0 || !r.cells.len().is_multiple_of(arms * per_line) {
        return Vec::new();
    }
    let fits = r.cells.iter().all(|c| c.point.len() == r.header.axes.len());
    if !fits {
        return Vec::new();
    }
    r.cells.chunks(per_line).collect()
}

/// The statistic of the pooled latency that metric `metric` names, if it is one of an entry
/// point's percentiles or its maximum (`entries[E].latency.p99_ms`).
fn pooled_stat(cell: &CellResult, metric: &str) -> Option<f64> {
    let rest = metric.strip_prefix("entries[")?;
    let (entry, stat) = rest.rsplit_once("].latency.")?;
    let s = cell.pooled(entry)?;
    let v = match stat {
        "p50_ms" => s.p50_ms,
        "p90_ms" => s.p90_ms,
        "p95_ms" => s.p95_ms,
        "p99_ms" => s.p99_ms,
        "p999_ms" => s.p999_ms,
        "max_ms" => s.max_ms,
        _ => return None,
    };
    finite(v).filter(|_| s.count > 0)
}

/// The lines of metric `metric` in a sweep: one per arm and combination of the other axes'
/// values, in cell order, each along the first axis. Empty without a sweep.
pub fn sweep_lines(r: &ExperimentResult, metric: &str) -> Vec<SweepLine> {
    let Some(axis) = r.header.axes.first() else {
        return Vec::new();
    };
    let x = sweep_axis(axis);
    line_cells(r)
        .into_iter()
        .map(|cells| SweepLine {
            arm: cells[0].arm.clone(),
            fixed: cells[0].point[1..].to_vec(),
            points: cells
                .iter()
                .zip(&x.positions)
                .map(|(c, &x)| {
                    let m = c.metric(metric).filter(|m| m.n > 0);
                    SweepPoint {
                        x,
                        value: c.point[0].clone(),
                        mean: m.and_then(|m| finite(m.mean)),
                        ci: m.and_then(|m| finite_ci(m.ci)),
                        pooled: pooled_stat(c, metric),
                    }
                })
                .collect(),
        })
        .collect()
}

/// A knee drawn on a sweep chart.
#[derive(Clone, Debug, PartialEq)]
pub struct KneeMark {
    /// The target, as written.
    pub target: String,
    /// The arm.
    pub arm: String,
    /// The values of the other axes.
    pub fixed: Vec<String>,
    /// The first value of the first axis where the target breaks.
    pub breaks_at: String,
    /// Its position on the x axis.
    pub x: f64,
}

/// The knees of the targets that read metric `metric` and break somewhere, in the order of
/// the result's knees.
pub fn knee_marks(r: &ExperimentResult, metric: &str) -> Vec<KneeMark> {
    let Some(axis) = r.header.axes.first() else {
        return Vec::new();
    };
    let x = sweep_axis(axis);
    r.knees
        .iter()
        .filter_map(|k| {
            let t = Target::parse(&k.target).ok()?;
            let cell = r.cells.iter().find(|c| c.arm == k.arm)?;
            if t.metric(cell).as_deref() != Some(metric) {
                return None;
            }
            let at = k.breaks_at.as_ref()?;
            let i = axis.values.iter().position(|v| v == at)?;
            Some(KneeMark {
                target: k.target.clone(),
                arm: k.arm.clone(),
                fixed: k.fixed.clone(),
                breaks_at: at.clone(),
                x: x.positions[i],
            })
        })
        .collect()
}

/// The targets that read metric `metric`, with their thresholds (in the metric's unit).
pub fn thresholds(r: &ExperimentResult, metric: &str) -> Vec<(String, f64)> {
    let Some(cell) = r.cells.first() else {
        return Vec::new();
    };
    targets(r)
        .into_iter()
        .filter(|t| t.metric(cell).as_deref() == Some(metric))
        .filter_map(|t| finite(t.threshold()).map(|v| (t.text.clone(), v)))
        .collect()
}

/// One value of the first axis on the metastability map.
#[derive(Clone, Debug, PartialEq)]
pub struct CollapsePoint {
    /// Position on the x axis.
    pub x: f64,
    /// The value, as RON text.
    pub value: String,
    /// Replications that collapsed.
    pub collapsed: u64,
    /// Replications where recovery was measured.
    pub measured: u64,
    /// `collapsed / measured`; `None` when nothing was measured.
    pub fraction: Option<f64>,
    /// The 95 % Wilson interval of the probability of collapse.
    pub ci: Option<[f64; 2]>,
}

/// One line of the metastability map: an arm at fixed values of the other axes.
#[derive(Clone, Debug, PartialEq)]
pub struct CollapseLine {
    /// The arm.
    pub arm: String,
    /// The values of the other axes (RON text).
    pub fixed: Vec<String>,
    /// Along the first axis, in sweep order.
    pub points: Vec<CollapsePoint>,
}

/// The fraction of replications that collapsed at entry point `entry` along the first axis
/// of a sweep, one line per arm and combination of the other axes' values. Empty without a
/// sweep, or when recovery was measured nowhere.
pub fn collapse_lines(r: &ExperimentResult, entry: &str) -> Vec<CollapseLine> {
    let Some(axis) = r.header.axes.first() else {
        return Vec::new();
    };
    let x = sweep_axis(axis);
    let lines: Vec<CollapseLine> = line_cells(r)
        .into_iter()
        .map(|cells| CollapseLine {
            arm: cells[0].arm.clone(),
            fixed: cells[0].point[1..].to_vec(),
            points: cells
                .iter()
                .zip(&x.positions)
                .map(|(c, &x)| {
                    let rec = c
                        .recovery
                        .iter()
                        .find(|x| x.entry == entry && x.measured > 0);
                    CollapsePoint {
                        x,
                        value: c.point[0].clone(),
                        collapsed: rec.map_or(0, |x| x.collapsed),
                        measured: rec.map_or(0, |x| x.measured),
                        fraction: rec.and_then(|x| finite(x.collapsed_fraction)),
                        ci: rec.and_then(|x| finite_ci(x.collapsed_ci)),
                    }
                })
                .collect(),
        })
        .collect();
    if lines
        .iter()
        .any(|l| l.points.iter().any(|p| p.fraction.is_some()))
    {
        lines
    } else {
        Vec::new()
    }
}

// ---------------------------------------------------------------------------------------
// The charts.

/// Every chart that applies to `r`, in the order the experiment page shows them: the
/// comparison bars and the probability of collapse per arm, the latency CDFs and the
/// availability timelines of the arms, then for a sweep each metric against the first axis
/// and the metastability map. File names are unique and made of `[a-z0-9-.]`.
pub fn render_experiment_charts(r: &ExperimentResult) -> Vec<Chart> {
    let mut charts = Vec::new();
    let reps = r.header.reps;
    for g in comparison_bars(r) {
        let name = short_name(&g.metric);
        let kind = if g.metric.ends_with(".availability") {
            Scale::Availability
        } else {
            Scale::FromZero
        };
        let title = format!(
            "{}: arms compared (mean and 95 % CI over {reps} replications)",
            drawable(&name)
        );
        let svg = bar_chart(r, &title, &drawable(&name), &g, kind);
        charts.push(Chart {
            file: format!("compare-{}.svg", slug(&name)),
            title,
            svg,
        });
    }
    for g in collapse_bars(r) {
        let entry = g
            .metric
            .strip_prefix("entries[")
            .and_then(|s| s.strip_suffix("].collapsed"))
            .unwrap_or(&g.metric)
            .to_string();
        let title = format!(
            "{}: replications that did not recover (95 % Wilson interval)",
            drawable(&entry)
        );
        let svg = bar_chart(r, &title, "fraction collapsed", &g, Scale::Fraction);
        charts.push(Chart {
            file: format!("compare-{}-collapse.svg", slug(&entry)),
            title,
            svg,
        });
    }
    let entries = entries(r);
    for e in &entries {
        let cdfs = latency_cdfs(r, e);
        if !cdfs.is_empty() {
            let of_arms = if cdfs.len() > 1 { " of the arms" } else { "" };
            let title = format!(
                "{}: latency distribution (CDF){of_arms}, replications pooled",
                drawable(e)
            );
            let svg = cdf_chart(&title, &cdfs);
            charts.push(Chart {
                file: format!("cdf-{}.svg", slug(e)),
                title,
                svg,
            });
        }
    }
    for e in &entries {
        let lines = availability_timelines(r, e);
        if lines.iter().any(|l| l.points.iter().any(|p| p.1.is_some())) {
            let title = format!(
                "{}: availability over time, replications pooled",
                drawable(e)
            );
            let svg = timeline_chart(&title, &lines, recovery_threshold(r, e));
            charts.push(Chart {
                file: format!("timeline-{}.svg", slug(e)),
                title,
                svg,
            });
        }
    }
    if let Some(axis) = r.header.axes.first() {
        let x = sweep_axis(axis);
        for metric in headline_metrics(r) {
            let lines = sweep_lines(r, &metric);
            let has = lines.iter().any(|l| {
                l.points
                    .iter()
                    .any(|p| p.mean.is_some() || p.pooled.is_some())
            });
            if !has {
                continue;
            }
            let name = short_name(&metric);
            let title = format!(
                "{} against {} (mean, 95 % CI over {reps} replications)",
                drawable(&name),
                drawable(last_segment(&axis.path))
            );
            let knees = knee_marks(r, &metric);
            let levels = thresholds(r, &metric);
            let scale = if metric.ends_with(".availability") {
                Scale::Availability
            } else {
                Scale::FromZero
            };
            let svg = sweep_chart(
                r,
                &title,
                &x,
                &drawable(&name),
                &lines,
                &knees,
                &levels,
                scale,
            );
            charts.push(Chart {
                file: format!("sweep-{}.svg", slug(&name)),
                title,
                svg,
            });
        }
        for e in &entries {
            let lines = collapse_lines(r, e);
            if lines.is_empty() {
                continue;
            }
            let title = format!(
                "{}: metastability map, replications that did not recover",
                drawable(e)
            );
            let svg = collapse_chart(r, &title, &x, &lines);
            charts.push(Chart {
                file: format!("collapse-{}.svg", slug(e)),
                title,
                svg,
            });
        }
    }
    unique_files(&mut charts);
    charts
}

/// Makes file names unique: a name seen before gets `-2`, `-3`, … before `.svg` (two entry
/// points whose names differ only in punctuation have the same slug).
fn unique_files(charts: &mut [Chart]) {
    let mut seen: Vec<String> = Vec::with_capacity(charts.len());
    for c in charts.iter_mut() {
        if seen.contains(&c.file) {
            let stem = c.file.trim_end_matches(".svg").to_string();
            let mut k = 2;
            while seen.contains(&format!("{stem}-{k}.svg")) {
                k += 1;
            }
            c.file = format!("{stem}-{k}.svg");
        }
        seen.push(c.file.clone());
    }
}

/// `path`'s last segment: `workload[main].arrivals.per_second` → `per_second`.
fn last_segment(path: &str) -> &str {
    path.rsplit(['.', '['])
        .next()
        .unwrap_or(path)
        .trim_end_matches(']')
}

/// `text` safe to draw: control characters and the non-characters XML forbids become
/// U+FFFD (plotters escapes markup itself, but not these).
fn drawable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if (c.is_control() && c != '\t') || c == '\u{FFFE}' || c == '\u{FFFF}' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// `text` cut to `max` characters with `…`.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// `mean ± half-width` to the precision the half-width supports (two significant digits of
/// it); the mean alone to three significant digits without an interval.
pub fn interval_label(mean: f64, ci: Option<[f64; 2]>) -> String {
    match ci {
        Some([lo, hi]) if hi > lo => {
            let h = (hi - lo) / 2.0;
            let digits = (1 - h.log10().floor() as i32).clamp(0, 6) as usize;
            format!("{mean:.digits$} ± {h:.digits$}")
        }
        _ => axes::number(mean),
    }
}

/// The label of a paired difference: `Δ +0.071 ± 0.004`, with its verdict in a word.
fn difference_label(d: &Difference) -> String {
    let sign = if d.mean > 0.0 { "+" } else { "−" };
    let value = match d.half_width {
        Some(h) if h > 0.0 => {
            let digits = (1 - h.log10().floor() as i32).clamp(0, 6) as usize;
            format!("{sign}{:.digits$} ± {h:.digits$}", d.mean.abs())
        }
        Some(_) => format!("{sign}{} ± 0", axes::number(d.mean.abs())),
        None => format!("{sign}{}", axes::number(d.mean.abs())),
    };
    let value = if d.mean == 0.0 {
        value.trim_start_matches(['+', '−']).to_string()
    } else {
        value
    };
    let word = match (d.significant, d.better) {
        (false, _) => "n.s.",
        (true, Some(true)) => "better",
        (true, Some(false)) => "worse",
        (true, None) => "differs",
    };
    format!("Δ {value} ({word})")
}

/// The colour of a difference's label: green when better, vermillion when worse, grey when
/// not significant.
fn difference_colour(d: &Difference) -> RGBColor {
    match (d.significant, d.better) {
        (false, _) => RGBColor(110, 110, 110),
        (true, Some(true)) => palette::GREEN,
        (true, Some(false)) => palette::VERMILLION,
        (true, None) => palette::BLACK,
    }
}

/// How a chart's y axis is laid out.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scale {
    /// Availability: zoomed to a round number of nines below the lowest value, up to 1.
    Availability,
    /// A fraction of replications: 0 to 1.
    Fraction,
    /// From 0 (or the lowest negative value) to above the highest.
    FromZero,
}

/// Candidate bottoms of a zoomed availability axis: round numbers of nines.
const FLOORS: [f64; 12] = [
    0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999,
];

/// The bottom of a zoomed availability axis: the highest round number of nines that leaves
/// the lowest of `values` at least a tenth of the axis above it.
fn zoom_floor(values: impl IntoIterator<Item = f64>) -> f64 {
    let lowest = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(1.0_f64, f64::min);
    FLOORS
        .iter()
        .copied()
        .rev()
        .find(|&floor| floor <= lowest - 0.1 * (1.0 - floor))
        .unwrap_or(0.0)
}

/// The y range for `values` on `scale`, with `room` (a share of the height) above the
/// highest for labels; for availability also the number of decimals of its ticks.
fn y_range(scale: Scale, values: &[f64], room: f64) -> (Range<f64>, usize) {
    match scale {
        Scale::Availability => {
            let floor = zoom_floor(values.iter().copied());
            let top = 1.0 + (1.0 - floor) * room;
            let decimals = ((1.0 - floor).log10().floor().abs() as usize + 2).min(6);
            (floor..top, decimals)
        }
        Scale::Fraction => (0.0..1.0 + room, 1),
        Scale::FromZero => {
            let lo = values
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(0.0_f64, f64::min);
            let hi = axes::max_finite(values.iter().copied());
            let span = if hi - lo > 0.0 { hi - lo } else { 1.0 };
            (axes::range(lo, hi + span * room), 0)
        }
    }
}

/// A y tick label: decimals fixed on availability axes, nothing above 1 on bounded ones.
fn y_tick(scale: Scale, decimals: usize, v: f64) -> String {
    match scale {
        Scale::Availability | Scale::Fraction if v > 1.0 + 1e-12 => String::new(),
        Scale::Availability => format!("{v:.decimals$}"),
        _ => axes::number(v),
    }
}

/// The axis description `desc`, saying so when an availability axis is zoomed (does not
/// start at 0).
fn y_label(scale: Scale, y: &Range<f64>, desc: &str) -> String {
    if scale == Scale::Availability && y.start > 0.0 {
        format!("{desc} (zoomed axis)")
    } else {
        desc.to_string()
    }
}

/// The highest value drawn on `scale`: 1 for availability and fractions (a Student-t
/// interval of an availability near 1 can reach past it; no availability does), else the top
/// of the axis.
fn cap(scale: Scale, y: &Range<f64>) -> f64 {
    match scale {
        Scale::Availability | Scale::Fraction => y.end.min(1.0),
        Scale::FromZero => y.end,
    }
}

/// The colour of arm `index`.
fn arm_colour(index: usize) -> RGBColor {
    palette::series(index)
}

/// A whisker from `lo` to `hi` at `x` with caps `cap` wide, in black.
fn whisker(x: f64, lo: f64, hi: f64, cap: f64) -> Vec<PathElement<(f64, f64)>> {
    let ink = palette::BLACK.stroke_width(2);
    vec![
        PathElement::new(vec![(x, lo), (x, hi)], ink),
        PathElement::new(vec![(x - cap, lo), (x + cap, lo)], ink),
        PathElement::new(vec![(x - cap, hi), (x + cap, hi)], ink),
    ]
}

/// A bar per arm with its whisker and value, the arm's name under it and its difference
/// from the first arm under that.
fn bar_chart(
    r: &ExperimentResult,
    title: &str,
    y_desc: &str,
    g: &BarGroup,
    scale: Scale,
) -> String {
    let values: Vec<f64> = g
        .bars
        .iter()
        .flat_map(|b| {
            let [lo, hi] = b.ci.unwrap_or([f64::NAN; 2]);
            [b.mean.unwrap_or(f64::NAN), lo, hi]
        })
        .collect();
    let (y, decimals) = y_range(scale, &values, 0.15);
    let baseline = r.header.arms.first().cloned().unwrap_or_default();
    let mut legend = vec![LegendItem {
        label: if scale == Scale::Fraction {
            "collapsed / measured replications; whiskers: 95 % Wilson interval".to_string()
        } else {
            format!(
                "mean over {} replications; whiskers: 95 % CI (Student t)",
                r.header.reps
            )
        },
        mark: Mark::Fill(palette::GREY.to_rgba()),
    }];
    if g.bars.iter().any(|b| b.difference.is_some()) {
        legend.push(LegendItem {
            label: format!(
                "Δ: paired difference from {} (same seeds), 95 % CI",
                cut(&drawable(&baseline), 24)
            ),
            mark: Mark::Blank,
        });
    }
    let n = g.bars.len().max(1) as f64;
    axes::svg(title, |root| {
        let area = axes::frame(root, title, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(10)
            .margin_right(20)
            .x_label_area_size(58)
            .y_label_area_size(75)
            .build_cartesian_2d(0.0..n, y.clone())?;
        let mut mesh = chart.configure_mesh();
        axes::style_mesh(&mut mesh, "", &y_label(scale, &y, y_desc));
        let tick = |v: &f64| y_tick(scale, decimals, *v);
        mesh.disable_x_mesh()
            .x_labels(0)
            .y_label_formatter(&tick)
            .draw()?;
        let value_style = axes::text_style(axes::LABEL_SIZE, HPos::Center, VPos::Bottom);
        let name_style = axes::text_style(axes::LABEL_SIZE, HPos::Center, VPos::Top);
        let group_px = (area.dim_in_pixel().0 as f64 - 105.0) / n;
        let max_chars = ((group_px / 7.5) as usize).max(4);
        for (i, bar) in g.bars.iter().enumerate() {
            let (x0, x1) = (i as f64 + 0.22, i as f64 + 0.78);
            let mid = i as f64 + 0.5;
            let colour = arm_colour(bar.index);
            match bar.mean {
                Some(m) => {
                    let top = m.clamp(y.start, cap(scale, &y));
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(x0, if y.start > 0.0 { y.start } else { 0.0 }), (x1, top)],
                        colour.filled(),
                    )))?;
                    let mut label_at = top;
                    if let Some([lo, hi]) = bar.ci {
                        let high = cap(scale, &y);
                        let (lo, hi) = (lo.clamp(y.start, high), hi.clamp(y.start, high));
                        if hi > lo {
                            chart.draw_series(whisker(mid, lo, hi, 0.07))?;
                        }
                        label_at = label_at.max(hi);
                    }
                    let text = if scale == Scale::Fraction {
                        let rec = r.cells.get(bar.index).and_then(|c| {
                            let e = g
                                .metric
                                .strip_prefix("entries[")?
                                .strip_suffix("].collapsed")?;
                            c.recovery.iter().find(|x| x.entry == e)
                        });
                        rec.map_or_else(
                            || axes::number(m),
                            |x| format!("{} of {}", x.collapsed, x.measured),
                        )
                    } else {
                        interval_label(m, bar.ci)
                    };
                    chart.draw_series(std::iter::once(
                        EmptyElement::at((mid, label_at))
                            + Text::new(text, (0, -4), value_style.clone()),
                    ))?;
                }
                None => {
                    chart.draw_series(std::iter::once(
                        EmptyElement::at((mid, y.start))
                            + Text::new("no value", (0, -4), value_style.clone()),
                    ))?;
                }
            }
            chart.draw_series(std::iter::once(
                EmptyElement::at((mid, y.start))
                    + Text::new(
                        cut(&drawable(&bar.arm), max_chars),
                        (0, 8),
                        name_style.clone(),
                    ),
            ))?;
            let note = match (&bar.difference, i) {
                (Some(d), _) => Some((difference_label(d), difference_colour(d))),
                (None, 0) if scale != Scale::Fraction => {
                    Some(("baseline".to_string(), RGBColor(110, 110, 110)))
                }
                _ => None,
            };
            if let Some((text, ink)) = note {
                chart.draw_series(std::iter::once(
                    EmptyElement::at((mid, y.start))
                        + Text::new(
                            cut(&text, max_chars + 4),
                            (0, 30),
                            name_style.clone().color(&ink),
                        ),
                ))?;
            }
        }
        Ok(())
    })
}

/// The most decades a latency axis spans (as the run report's CDF chart).
const MAX_DECADES: f64 = 6.0;
/// How far a latency axis reaches beyond the smallest and largest latency (a factor).
const PAD: f64 = 1.5;

/// The x range \[ms\] of a log axis holding `cdfs`: from the smallest positive latency ÷
/// [`PAD`] to the largest × [`PAD`], at most [`MAX_DECADES`] wide and reaching down to a
/// power of ten; 0.01..1 ms when no latency is positive.
fn cdf_x_range(cdfs: &[Cdf]) -> Range<f64> {
    let (mut lo, mut hi) = (f64::INFINITY, 0.0_f64);
    for &[ms, _] in cdfs.iter().flat_map(|c| &c.points) {
        if ms.is_finite() && ms > 0.0 {
            lo = lo.min(ms);
            hi = hi.max(ms);
        }
    }
    if hi <= 0.0 {
        return 0.01..1.0;
    }
    let hi = hi * PAD;
    let lo = (lo / PAD).max(hi / 10f64.powf(MAX_DECADES));
    if lo.log10().ceil() > hi.log10().floor() {
        10f64.powf(lo.log10().floor())..hi
    } else {
        lo..hi
    }
}

/// The points of a CDF as drawn on an axis starting at `lo` \[ms\]: non-finite points left
/// out, faster latencies (0 ms among them) at `lo`, fractions within \[0, 1\].
pub fn cdf_points(cdf: &[[f64; 2]], lo: f64) -> Vec<(f64, f64)> {
    cdf.iter()
        .filter(|[ms, q]| ms.is_finite() && q.is_finite())
        .map(|&[ms, q]| (ms.max(lo), q.clamp(0.0, 1.0)))
        .collect()
}

/// The CDFs of the arms on one log latency axis.
fn cdf_chart(title: &str, cdfs: &[Cdf]) -> String {
    let x = cdf_x_range(cdfs);
    let legend: Vec<LegendItem> = cdfs
        .iter()
        .map(|c| {
            LegendItem::line(
                format!(
                    "{} (p99 {} ms, {} answers)",
                    cut(&drawable(&c.arm), 30),
                    axes::number(c.p99_ms),
                    c.answers
                ),
                arm_colour(c.index),
            )
        })
        .collect();
    axes::svg(title, |root| {
        let area = axes::frame(root, title, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(10)
            .margin_right(30)
            .x_label_area_size(45)
            .y_label_area_size(65)
            .build_cartesian_2d(x.clone().log_scale(), 0.0..1.02)?;
        let mut mesh = chart.configure_mesh();
        axes::style_mesh(
            &mut mesh,
            "latency [ms] (log scale)",
            "fraction answered within",
        );
        mesh.x_label_formatter(&|v| axes::number(*v))
            .y_label_formatter(&|v| {
                if *v > 1.0 + 1e-9 {
                    String::new()
                } else {
                    format!("{v:.1}")
                }
            })
            .draw()?;
        for c in cdfs {
            chart.draw_series(std::iter::once(PathElement::new(
                cdf_points(&c.points, x.start),
                arm_colour(c.index).stroke_width(2),
            )))?;
        }
        Ok(())
    })
}

/// The availability of the arms over time, one line each, on one zoomed axis.
fn timeline_chart(title: &str, lines: &[AvailabilityLine], threshold: Option<f64>) -> String {
    let end_s = lines
        .iter()
        .filter_map(|l| l.points.last().map(|p| p.0))
        .fold(0.0_f64, f64::max);
    let width = lines
        .iter()
        .find_map(|l| l.points.first().map(|p| p.0 * 2.0))
        .unwrap_or(1.0);
    let end_s = if end_s > 0.0 {
        end_s + width / 2.0
    } else {
        1.0
    };
    let unit = TimeUnit::for_run(end_s);
    let mut values: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.points.iter().filter_map(|p| p.1))
        .collect();
    values.extend(threshold);
    let (y, decimals) = y_range(Scale::Availability, &values, 0.05);
    let mut legend: Vec<LegendItem> = lines
        .iter()
        .map(|l| LegendItem::line(cut(&drawable(&l.arm), 30), arm_colour(l.index)))
        .collect();
    if let Some(t) = threshold {
        legend.push(LegendItem::dashed(
            format!("recovered: at or above {}", axes::number(t)),
            palette::GREY,
        ));
    }
    let x = axes::range(0.0, unit.of(end_s));
    let y_desc = if y.start > 0.0 {
        "availability per bucket (zoomed axis)"
    } else {
        "availability per bucket"
    };
    axes::svg(title, |root| {
        let area = axes::frame(root, title, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(10)
            .margin_right(30)
            .x_label_area_size(45)
            .y_label_area_size(75)
            .build_cartesian_2d(x.clone(), y.clone())?;
        let mut mesh = chart.configure_mesh();
        axes::style_mesh(&mut mesh, unit.label(), y_desc);
        let tick = |v: &f64| y_tick(Scale::Availability, decimals, *v);
        mesh.y_label_formatter(&tick).draw()?;
        if let Some(t) = threshold {
            chart.draw_series(DashedLineSeries::new(
                [(x.start, t), (x.end, t)],
                8,
                5,
                palette::GREY.stroke_width(2),
            ))?;
        }
        for l in lines {
            let runs = axes::runs(
                l.points
                    .iter()
                    .map(|&(t, a)| (unit.of(t), a.map(|a| a.max(y.start)))),
            );
            chart.draw_series(axes::line(&runs, arm_colour(l.index)))?;
        }
        Ok(())
    })
}

/// The label of a sweep line: the arm when there are several, and the other axes' values.
fn line_label(r: &ExperimentResult, arm: &str, fixed: &[String]) -> String {
    let mut parts = Vec::new();
    if r.header.arms.len() > 1 {
        parts.push(cut(&drawable(arm), 24));
    }
    for (a, v) in r.header.axes.iter().skip(1).zip(fixed) {
        parts.push(format!("{}={}", last_segment(&a.path), v.trim_matches('"')));
    }
    if parts.is_empty() {
        cut(&drawable(arm), 24)
    } else {
        parts.join(", ")
    }
}

/// Draws the values of a categorical axis under it, at their positions.
fn category_labels(
    chart: &mut axes::Plane<'_, '_>,
    axis: &SweepAxis,
    y0: f64,
    max_chars: usize,
) -> axes::Drawn {
    let style = axes::text_style(axes::LABEL_SIZE, HPos::Center, VPos::Top);
    for (&x, label) in axis.positions.iter().zip(&axis.labels) {
        chart.draw_series(std::iter::once(
            EmptyElement::at((x, y0))
                + Text::new(cut(&drawable(label), max_chars), (0, 8), style.clone()),
        ))?;
    }
    Ok(())
}

/// The x range of a sweep axis: its positions with a margin.
fn sweep_x_range(axis: &SweepAxis) -> Range<f64> {
    if axis.categorical {
        return -0.5..(axis.positions.len().max(1) as f64 - 0.5);
    }
    let lo = axis.positions.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = axis
        .positions
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let pad = if hi > lo { (hi - lo) * 0.05 } else { 0.5 };
    axes::range(lo - pad, hi + pad)
}

/// A metric against the first sweep axis: a CI band and a line per sweep line, the pooled
/// statistic as rings, the targets' thresholds and the knees.
#[allow(clippy::too_many_arguments)]
fn sweep_chart(
    r: &ExperimentResult,
    title: &str,
    axis: &SweepAxis,
    y_desc: &str,
    lines: &[SweepLine],
    knees: &[KneeMark],
    levels: &[(String, f64)],
    scale: Scale,
) -> String {
    let mut values: Vec<f64> = Vec::new();
    for p in lines.iter().flat_map(|l| &l.points) {
        values.extend(p.mean);
        values.extend(p.pooled);
        values.extend(p.ci.into_iter().flatten());
    }
    values.extend(levels.iter().map(|l| l.1));
    let (y, decimals) = y_range(scale, &values, 0.12);
    let x = sweep_x_range(axis);
    let pooled = lines
        .iter()
        .any(|l| l.points.iter().any(|p| p.pooled.is_some()));
    let mut legend: Vec<LegendItem> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| LegendItem::line(line_label(r, &l.arm, &l.fixed), palette::series(i)))
        .collect();
    legend.push(LegendItem::fill(
        "band: 95 % CI of the mean",
        palette::GREY.mix(0.3),
    ));
    if pooled {
        legend.push(LegendItem {
            label: "ring: all runs' answers pooled".into(),
            mark: Mark::Blank,
        });
    }
    if !levels.is_empty() {
        legend.push(LegendItem::dashed("target", palette::GREY));
    }
    if !knees.is_empty() {
        legend.push(LegendItem::dashed(
            "knee: first value that breaks it",
            palette::BLACK,
        ));
    }
    let index_of = |arm: &str, fixed: &[String]| {
        lines
            .iter()
            .position(|l| l.arm == arm && l.fixed == fixed)
            .unwrap_or(0)
    };
    axes::svg(title, |root| {
        let area = axes::frame(root, title, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(10)
            .margin_right(30)
            .x_label_area_size(45)
            .y_label_area_size(75)
            .build_cartesian_2d(x.clone(), y.clone())?;
        let mut mesh = chart.configure_mesh();
        axes::style_mesh(
            &mut mesh,
            &drawable(&axis.label),
            &y_label(scale, &y, y_desc),
        );
        let tick = |v: &f64| y_tick(scale, decimals, *v);
        mesh.y_label_formatter(&tick);
        if axis.categorical {
            mesh.disable_x_mesh().x_labels(0);
        }
        mesh.draw()?;
        if axis.categorical {
            let px = area.dim_in_pixel().0 as f64 - 105.0;
            let max_chars = ((px / axis.positions.len().max(1) as f64 / 7.5) as usize).max(4);
            category_labels(&mut chart, axis, y.start, max_chars)?;
        }
        let clamp = |v: f64| v.clamp(y.start, cap(scale, &y));
        for (i, l) in lines.iter().enumerate() {
            let colour = palette::series(i);
            // The band, in pieces where consecutive points have an interval.
            let mut piece: Vec<(f64, f64, f64)> = Vec::new();
            let mut pieces = Vec::new();
            for p in &l.points {
                match p.ci {
                    Some([lo, hi]) => piece.push((p.x, clamp(lo), clamp(hi))),
                    None => pieces.push(std::mem::take(&mut piece)),
                }
            }
            pieces.push(piece);
            for piece in pieces.iter().filter(|p| p.len() >= 2) {
                let mut outline: Vec<(f64, f64)> =
                    piece.iter().map(|&(x, _, hi)| (x, hi)).collect();
                outline.extend(piece.iter().rev().map(|&(x, lo, _)| (x, lo)));
                chart.draw_series(std::iter::once(Polygon::new(
                    outline,
                    colour.mix(0.18).filled(),
                )))?;
            }
            for &(x, lo, hi) in pieces.iter().filter(|p| p.len() == 1).flatten() {
                chart.draw_series(whisker(x, lo, hi, 0.0))?;
            }
        }
        for level in levels {
            chart.draw_series(DashedLineSeries::new(
                [(x.start, level.1), (x.end, level.1)],
                8,
                5,
                palette::GREY.stroke_width(2),
            ))?;
            let style = axes::text_style(axes::LABEL_SIZE, HPos::Left, VPos::Bottom)
                .color(&RGBColor(90, 90, 90));
            chart.draw_series(std::iter::once(
                EmptyElement::at((x.start, clamp(level.1)))
                    + Text::new(format!("target {}", drawable(&level.0)), (6, -3), style),
            ))?;
        }
        for (i, l) in lines.iter().enumerate() {
            let colour = palette::series(i);
            let runs = axes::runs(l.points.iter().map(|p| (p.x, p.mean.map(clamp))));
            chart.draw_series(axes::line(&runs, colour))?;
            chart.draw_series(l.points.iter().filter_map(|p| {
                p.mean
                    .map(|m| Circle::new((p.x, clamp(m)), 3, colour.filled()))
            }))?;
            chart.draw_series(l.points.iter().filter_map(|p| {
                p.pooled
                    .map(|v| Circle::new((p.x, clamp(v)), 6, colour.stroke_width(2)))
            }))?;
        }
        let middle = (x.start + x.end) / 2.0;
        for (k, knee) in knees.iter().enumerate() {
            let colour = palette::series(index_of(&knee.arm, &knee.fixed));
            chart.draw_series(DashedLineSeries::new(
                [(knee.x, y.start), (knee.x, y.end)],
                6,
                4,
                palette::BLACK.stroke_width(2),
            ))?;
            let mut text = format!(
                "{} breaks at {}",
                drawable(&knee.target),
                drawable(knee.breaks_at.trim_matches('"'))
            );
            if lines.len() > 1 {
                text = format!("{}: {text}", line_label(r, &knee.arm, &knee.fixed));
            }
            let (dx, h) = if knee.x > middle {
                (-5, HPos::Right)
            } else {
                (5, HPos::Left)
            };
            let style = axes::text_style(axes::LABEL_SIZE, h, VPos::Top).color(&colour);
            let dy = 4 + (k % 4) as i32 * 18;
            chart.draw_series(std::iter::once(
                EmptyElement::at((knee.x, y.end)) + Text::new(text, (dx, dy), style),
            ))?;
        }
        Ok(())
    })
}

/// The fraction of replications collapsed along the first sweep axis, with Wilson whiskers,
/// a marker per point connected per line, `k of n` beside it.
fn collapse_chart(
    r: &ExperimentResult,
    title: &str,
    axis: &SweepAxis,
    lines: &[CollapseLine],
) -> String {
    let x = sweep_x_range(axis);
    let mut legend: Vec<LegendItem> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| LegendItem::line(line_label(r, &l.arm, &l.fixed), palette::series(i)))
        .collect();
    legend.push(LegendItem {
        label: "whiskers: 95 % Wilson interval of the probability of collapse".into(),
        mark: Mark::Blank,
    });
    // Lines side by side around each value, so that their whiskers do not hide each other.
    let spacing = axis
        .positions
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .filter(|d| *d > 0.0)
        .fold(f64::INFINITY, f64::min);
    let spacing = if spacing.is_finite() { spacing } else { 1.0 };
    let dodge = |i: usize| (i as f64 - (lines.len() as f64 - 1.0) / 2.0) * spacing * 0.06;
    let y = 0.0..1.15;
    axes::svg(title, |root| {
        let area = axes::frame(root, title, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(10)
            .margin_right(30)
            .x_label_area_size(45)
            .y_label_area_size(65)
            .build_cartesian_2d(x.clone(), y.clone())?;
        let mut mesh = chart.configure_mesh();
        axes::style_mesh(
            &mut mesh,
            &drawable(&axis.label),
            "fraction of replications collapsed",
        );
        let tick = |v: &f64| y_tick(Scale::Fraction, 1, *v);
        mesh.y_label_formatter(&tick);
        if axis.categorical {
            mesh.disable_x_mesh().x_labels(0);
        }
        mesh.draw()?;
        if axis.categorical {
            let px = area.dim_in_pixel().0 as f64 - 95.0;
            let max_chars = ((px / axis.positions.len().max(1) as f64 / 7.5) as usize).max(4);
            category_labels(&mut chart, axis, y.start, max_chars)?;
        }
        let label_style = axes::text_style(axes::LABEL_SIZE, HPos::Left, VPos::Center);
        for (i, l) in lines.iter().enumerate() {
            let colour = palette::series(i);
            let d = dodge(i);
            let runs = axes::runs(l.points.iter().map(|p| (p.x + d, p.fraction)));
            chart.draw_series(axes::line(&runs, colour))?;
            for p in &l.points {
                let Some(f) = p.fraction else { continue };
                if let Some([lo, hi]) = p.ci {
                    chart.draw_series(whisker(p.x + d, lo, hi, spacing * 0.04))?;
                }
                chart.draw_series(std::iter::once(Circle::new(
                    (p.x + d, f),
                    5,
                    colour.filled(),
                )))?;
                chart.draw_series(std::iter::once(
                    EmptyElement::at((p.x + d, f))
                        + Text::new(
                            format!("{}/{}", p.collapsed, p.measured),
                            (9, -12),
                            label_style.clone().color(&colour),
                        ),
                ))?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(values: &[&str]) -> AxisRecord {
        AxisRecord {
            path: "services[api].steps[0].timeout".into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn sweep_axes_read_numbers_durations_and_categories() {
        let a = sweep_axis(&axis(&["100", "250.5", "1000"]));
        assert_eq!(a.positions, [100.0, 250.5, 1000.0]);
        assert!(!a.categorical);
        assert_eq!(a.label, "services[api].steps[0].timeout");
        let a = sweep_axis(&axis(&["\"300ms\"", "\"1.5s\"", "\"50ms\""]));
        assert_eq!(a.positions, [0.3, 1.5, 0.05]);
        assert_eq!(a.label, "services[api].steps[0].timeout [s]");
        assert_eq!(a.labels, ["300ms", "1.5s", "50ms"]);
        let a = sweep_axis(&axis(&["\"300us\"", "\"20ms\""]));
        assert_eq!(a.positions, [0.3, 20.0]);
        assert!(a.label.ends_with("[ms]"));
        let a = sweep_axis(&axis(&["\"db\"", "\"cache\""]));
        assert!(a.categorical);
        assert_eq!(a.positions, [0.0, 1.0]);
        assert_eq!(a.labels, ["db", "cache"]);
        // Mixed kinds are categories too.
        assert!(sweep_axis(&axis(&["1", "\"2ms\""])).categorical);
    }

    #[test]
    fn the_zoomed_axis_starts_at_round_nines() {
        assert_eq!(zoom_floor([0.9995, 1.0]), 0.999);
        assert_eq!(zoom_floor([0.5, 1.0]), 0.0);
        assert_eq!(zoom_floor([f64::NAN]), 0.9999);
        let (y, decimals) = y_range(Scale::Availability, &[0.93, 0.97], 0.1);
        assert_eq!((y.start, decimals), (0.9, 3));
        let (y, _) = y_range(Scale::FromZero, &[2.0, 10.0, f64::NAN], 0.1);
        assert_eq!(y, 0.0..11.0);
        let (y, _) = y_range(Scale::FromZero, &[], 0.1);
        assert!(y.end > y.start);
    }

    #[test]
    fn labels_show_the_precision_the_interval_supports() {
        assert_eq!(
            interval_label(0.91501, Some([0.9119, 0.9181])),
            "0.9150 ± 0.0031"
        );
        assert_eq!(interval_label(56.26, Some([55.06, 57.46])), "56.3 ± 1.2");
        assert_eq!(interval_label(3.25, None), "3.25");
        let d = Difference {
            mean: -0.0123,
            half_width: Some(0.004),
            significant: true,
            better: Some(false),
        };
        assert_eq!(difference_label(&d), "Δ −0.0123 ± 0.0040 (worse)");
        let d = Difference {
            mean: 0.0,
            half_width: Some(0.0),
            significant: false,
            better: None,
        };
        assert_eq!(difference_label(&d), "Δ 0 ± 0 (n.s.)");
    }

    #[test]
    fn repeated_file_names_are_numbered() {
        let chart = |f: &str| Chart {
            file: f.into(),
            title: String::new(),
            svg: String::new(),
        };
        let mut charts = vec![
            chart("a.svg"),
            chart("a.svg"),
            chart("a-2.svg"),
            chart("a.svg"),
        ];
        unique_files(&mut charts);
        let files: Vec<&str> = charts.iter().map(|c| c.file.as_str()).collect();
        assert_eq!(files, ["a.svg", "a-2.svg", "a-2-2.svg", "a-3.svg"]);
    }

    #[test]
    fn drawn_text_has_no_control_characters() {
        assert_eq!(drawable("a\u{1}b\tc"), "a\u{FFFD}b\tc");
        assert_eq!(
            last_segment("workload[main].arrivals.per_second"),
            "per_second"
        );
        assert_eq!(last_segment("services[api].workers"), "workers");
        assert_eq!(cut("abcdef", 4), "abc…");
    }
}

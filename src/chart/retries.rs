//! Retry amplification: the attempts a call step sends against the calls it makes, over time.
//!
//! Two lines per call step, calls per second and attempts per second: the gap between them
//! is the load the retries add. In a retry storm the attempts line climbs while the calls
//! line stays flat, and stays up after the fault that started it has ended.

use super::axes::{self, LegendItem, TimeUnit};
use super::{palette, slug, Chart};
use crate::report::Report;
use plotters::prelude::*;

/// One bucket of a call step's series, as plotted.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// The middle of the bucket \[s\] (of its real extent: the last bucket may be partial).
    pub t_s: f64,
    /// Original calls started per second in the bucket (count / the bucket's real width).
    pub calls_per_s: f64,
    /// Attempts sent per second in the bucket (originals and retries).
    pub attempts_per_s: f64,
}

/// The call steps that get a chart, as indices into `report.calls` (and the parallel
/// `report.series.calls`): those that scheduled retries, or whose attempts differ from their
/// calls after the warm-up or in any bucket.
pub fn steps(report: &Report) -> Vec<usize> {
    report
        .calls
        .iter()
        .enumerate()
        .filter(|(i, call)| {
            let differs = report
                .series
                .calls
                .get(*i)
                .is_some_and(|s| s.calls != s.attempts);
            call.retries > 0 || call.attempts != call.calls || differs
        })
        .map(|(i, _)| i)
        .collect()
}

/// The points of call step `step` (an index into `report.calls`), one per bucket of
/// `series.calls[step]`; empty when there is no such series.
pub fn points(report: &Report, step: usize) -> Vec<Point> {
    let Some(series) = report.series.calls.get(step) else {
        return Vec::new();
    };
    let n = series.calls.len().max(series.attempts.len());
    axes::spans(report, n)
        .into_iter()
        .enumerate()
        .map(|(i, (start, end))| {
            let width = end - start;
            let per_s = |v: &[u64]| v.get(i).copied().unwrap_or(0) as f64 / width;
            Point {
                t_s: (start + end) / 2.0,
                calls_per_s: per_s(&series.calls),
                attempts_per_s: per_s(&series.attempts),
            }
        })
        .collect()
}

/// One chart per call step of [`steps`] with a series, in report order, as
/// `retries-<from>-<to>-<index>.svg` (the index into `report.calls` keeps two steps between
/// the same services apart).
pub fn render(report: &Report) -> Vec<Chart> {
    steps(report)
        .into_iter()
        .filter_map(|i| chart(report, i))
        .collect()
}

/// The chart of call step `i`; `None` when its series has no bucket.
fn chart(report: &Report, i: usize) -> Option<Chart> {
    let call = &report.calls[i];
    let points = points(report, i);
    if points.is_empty() {
        return None;
    }
    let title = format!(
        "{} → {}: calls and attempts (retry amplification)",
        call.from, call.to
    );
    let spans = axes::spans(report, points.len());
    let end_s = axes::axis_end(report, &spans);
    let unit = TimeUnit::for_run(end_s);
    let faults = axes::fault_windows(report, end_s);
    let attempts_label = if call.calls > 0 && call.amplification.is_finite() {
        format!(
            "attempts/s (×{} after the warm-up, {} retries)",
            axes::number(call.amplification),
            call.retries
        )
    } else {
        "attempts/s".to_string()
    };
    let calls_colour = palette::BLUE;
    let attempts_colour = palette::VERMILLION;
    let mut legend = vec![
        LegendItem::line("calls/s", calls_colour),
        LegendItem::line(attempts_label, attempts_colour),
    ];
    if !faults.is_empty() {
        legend.push(axes::fault_legend());
    }
    let calls = axes::runs(points.iter().map(|p| (unit.of(p.t_s), Some(p.calls_per_s))));
    let attempts = axes::runs(
        points
            .iter()
            .map(|p| (unit.of(p.t_s), Some(p.attempts_per_s))),
    );
    let max = axes::max_finite(
        points
            .iter()
            .flat_map(|p| [p.calls_per_s, p.attempts_per_s]),
    );
    let x = axes::range(0.0, unit.of(end_s));
    let y = axes::upto(max);
    let svg = axes::svg(&title, |root| {
        let area = axes::frame(root, &title, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(10)
            .margin_right(30)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(x.clone(), y.clone())?;
        let mut mesh = chart.configure_mesh();
        axes::style_mesh(&mut mesh, unit.label(), "calls, attempts per second");
        mesh.draw()?;
        axes::shade_faults(&mut chart, &faults, unit, &y)?;
        chart.draw_series(axes::line(&attempts, attempts_colour))?;
        chart.draw_series(axes::line(&calls, calls_colour))?;
        axes::label_faults(&mut chart, &faults, unit, &x, y.end)?;
        Ok(())
    });
    Some(Chart {
        file: format!("retries-{}-{}-{i}.svg", slug(&call.from), slug(&call.to)),
        title,
        svg,
    })
}

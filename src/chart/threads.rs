//! Who holds my threads: what the busy workers of a service do, over time.
//!
//! Busy workers stacked by state — `working`, `backoff`, `fan-out`, `waiting on <callee>` —
//! with the mean queue as a line and the pool size as a dashed level. It shows the mechanism
//! of a cascade: the pool fills with workers *waiting on* a slow callee, not working, and the
//! queue grows behind them although the service itself is fast.
//!
//! # Which services get a chart
//! A service gets one when some of its workers are ever (in any bucket) in a state other than
//! `working` — waiting on a callee, backing off, fanning out — or when a request ever waits
//! in its queue. A leaf that only works and never queues would show a single band below a
//! flat line: its utilization says as much, so it is left out.

use super::axes::{self, LegendItem, TimeUnit};
use super::{palette, slug, Chart};
use crate::report::{Report, ServiceSeries};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// Whether `series` is worth a chart (see the module docs).
fn worth_a_chart(series: &ServiceSeries) -> bool {
    let held = series
        .occupancy
        .iter()
        .filter(|o| o.state != "working")
        .any(|o| o.workers.iter().any(|&w| w.is_finite() && w > 0.0));
    let queued = series.queue.iter().any(|&q| q.is_finite() && q > 0.0);
    held || queued
}

/// The services that get a chart, in report order: those whose workers are ever in a state
/// other than `working`, or whose queue is ever non-empty (see the module docs).
pub fn services(report: &Report) -> Vec<&str> {
    report
        .series
        .services
        .iter()
        .filter(|s| worth_a_chart(s))
        .map(|s| s.name.as_str())
        .collect()
}

/// The pool size of service `name`: replicas × workers per replica, from `report.services`.
pub fn pool_size(report: &Report, name: &str) -> Option<u64> {
    report
        .service(name)
        .map(|s| u64::from(s.replicas) * u64::from(s.workers))
}

/// One chart per service of [`services`], in report order, as `threads-<service>.svg`.
pub fn render(report: &Report) -> Vec<Chart> {
    report
        .series
        .services
        .iter()
        .filter(|s| worth_a_chart(s))
        .filter_map(|s| chart(report, s))
        .collect()
}

/// The chart of one service; `None` when its series has no bucket.
fn chart(report: &Report, series: &ServiceSeries) -> Option<Chart> {
    let n = series
        .occupancy
        .iter()
        .map(|o| o.workers.len())
        .chain([series.queue.len()])
        .max()
        .unwrap_or(0);
    if n == 0 {
        return None;
    }
    let name = &series.name;
    let title = format!("{name}: who holds the workers");
    let spans = axes::spans(report, n);
    let end_s = axes::axis_end(report, &spans);
    let unit = TimeUnit::for_run(end_s);
    let faults = axes::fault_windows(report, end_s);
    let pool = pool_size(report, name);

    // States that occur, in report order, with their colours; waits numbered in turn.
    let mut waits = 0;
    let mut shown = Vec::new();
    for o in &series.occupancy {
        let colour = palette::occupancy(&o.state, waits);
        if o.state.starts_with("waiting on") {
            waits += 1;
        }
        if o.workers.iter().any(|&w| w.is_finite() && w > 0.0) {
            shown.push((o, colour));
        }
    }
    // Values at the bucket middles, extended to the start and end of the run.
    let extend = |values: &[f64]| -> Vec<f64> {
        let at = |i: usize| axes::finite_or_zero(values.get(i).copied().unwrap_or(0.0));
        let mut out = Vec::with_capacity(n + 2);
        out.push(at(0));
        out.extend((0..n).map(at));
        out.push(at(n - 1));
        out
    };
    let mut xs = Vec::with_capacity(n + 2);
    xs.push(unit.of(spans[0].0));
    xs.extend(spans.iter().map(|(a, b)| unit.of((a + b) / 2.0)));
    xs.push(unit.of(spans[n - 1].1));
    let layers: Vec<Vec<f64>> = shown.iter().map(|(o, _)| extend(&o.workers)).collect();
    let colours: Vec<RGBColor> = shown.iter().map(|&(_, c)| c).collect();
    let busy_max =
        axes::max_finite((0..xs.len()).map(|i| layers.iter().map(|l| l[i].max(0.0)).sum::<f64>()));
    let queue_runs = axes::runs(
        spans
            .iter()
            .enumerate()
            .map(|(i, (a, b))| (unit.of((a + b) / 2.0), series.queue.get(i).copied())),
    );
    let queue_max = axes::max_finite(series.queue.iter().copied());
    let pool_f = pool.map_or(0.0, |p| p as f64);

    let mut legend: Vec<LegendItem> = shown
        .iter()
        .map(|(o, c)| LegendItem::fill(o.state.clone(), *c))
        .collect();
    legend.push(LegendItem::line("queued", palette::BLACK));
    if let Some(p) = pool {
        legend.push(LegendItem::dashed(
            format!("pool size ({p} workers)"),
            palette::GREY,
        ));
    }
    if !faults.is_empty() {
        legend.push(axes::fault_legend());
    }

    let x = axes::range(0.0, unit.of(end_s));
    let y = axes::upto(busy_max.max(queue_max).max(pool_f));
    let svg = axes::svg(&title, |root| {
        let area = axes::frame(root, &title, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(10)
            .margin_right(30)
            .x_label_area_size(45)
            .y_label_area_size(65)
            .build_cartesian_2d(x.clone(), y.clone())?;
        let mut mesh = chart.configure_mesh();
        axes::style_mesh(&mut mesh, unit.label(), "workers busy, requests queued");
        mesh.draw()?;
        axes::shade_faults(&mut chart, &faults, unit, &y)?;
        axes::draw_stack(&mut chart, &xs, &layers, &colours)?;
        if let Some(p) = pool {
            chart.draw_series(DashedLineSeries::new(
                [(x.start, pool_f), (x.end, pool_f)],
                8,
                5,
                palette::GREY.stroke_width(2),
            ))?;
            let style = axes::text_style(axes::LABEL_SIZE, HPos::Right, VPos::Bottom)
                .color(&RGBColor(90, 90, 90));
            chart.draw_series(std::iter::once(
                EmptyElement::at((x.end, pool_f)) + Text::new(format!("pool {p}"), (-4, -3), style),
            ))?;
        }
        chart.draw_series(axes::line(&queue_runs, palette::BLACK))?;
        axes::label_faults(&mut chart, &faults, unit, &x, y.end)?;
        Ok(())
    });
    Some(Chart {
        file: format!("threads-{}.svg", slug(name)),
        title,
        svg,
    })
}

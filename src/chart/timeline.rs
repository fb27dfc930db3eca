//! The timeline of an entry point: what its clients got, second by second.
//!
//! Answers per second as a stacked area by outcome (one colour per outcome, as everywhere),
//! the p99 latency of each bucket as a line on a second y axis (with gaps where a bucket had
//! no answer), and the fault windows of the run shaded in grey and labelled. It shows when a
//! run went wrong and what the clients saw then: a spike of rejections during a slowdown, a
//! p99 that climbs before the errors do, a recovery that outlives the fault.

use super::axes::{self, LegendItem, TimeUnit};
use super::{palette, slug, Chart};
use crate::outcome::Outcome;
use crate::report::{EntrySeries, Report};
use plotters::prelude::*;

/// The colour of the p99 line: yellow, the one colour of the palette that no outcome uses,
/// over a dark halo so that it stands out on white and on every outcome's band.
const P99: RGBColor = palette::YELLOW;
/// The halo of the p99 line.
const P99_HALO: RGBColor = RGBColor(40, 40, 40);

/// One bucket of an entry point's timeline, as plotted.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// The middle of the bucket \[s\] (of its real extent: the last bucket may be partial).
    pub t_s: f64,
    /// Answers per second in the bucket by outcome, in [`Outcome::ALL`] order: the bucket's
    /// count divided by its real width (`bucket_s`, or less for a partial last bucket).
    pub rates: [f64; Outcome::COUNT],
    /// The bucket's p99 latency \[ms\]; `None` when it had no answer (a gap in the line).
    pub p99_ms: Option<f64>,
}

/// The counts of outcome `o` per bucket in `series`.
fn counts(series: &EntrySeries, o: Outcome) -> &[u64] {
    match o {
        Outcome::Ok => &series.ok,
        Outcome::Error => &series.error,
        Outcome::Timeout => &series.timeout,
        Outcome::Rejected => &series.rejected,
        Outcome::CircuitOpen => &series.circuit_open,
        Outcome::Unavailable => &series.unavailable,
        Outcome::Degraded => &series.degraded,
        #[allow(unreachable_patterns)]
        _ => &[],
    }
}

/// The points of the timeline of entry point `entry`, one per bucket of its series (empty
/// when the report has no series for it). Rates divide each count by the real width of its
/// bucket, so that a partial last bucket is not drawn as a drop in traffic.
pub fn points(report: &Report, entry: &str) -> Vec<Point> {
    report
        .series
        .entries
        .iter()
        .find(|s| s.name == entry)
        .map_or_else(Vec::new, |s| series_points(report, s))
}

/// [`points`] of one series.
fn series_points(report: &Report, series: &EntrySeries) -> Vec<Point> {
    let n = Outcome::ALL
        .iter()
        .map(|&o| counts(series, o).len())
        .chain(std::iter::once(series.p99_ms.len()))
        .max()
        .unwrap_or(0);
    axes::spans(report, n)
        .into_iter()
        .enumerate()
        .map(|(i, (start, end))| {
            let width = end - start;
            let mut rates = [0.0; Outcome::COUNT];
            for o in Outcome::ALL {
                let count = counts(series, o).get(i).copied().unwrap_or(0);
                rates[o.index()] = count as f64 / width;
            }
            Point {
                t_s: (start + end) / 2.0,
                rates,
                p99_ms: series
                    .p99_ms
                    .get(i)
                    .copied()
                    .flatten()
                    .filter(|v| v.is_finite()),
            }
        })
        .collect()
}

/// One timeline chart per entry point of `report.series`, in report order, as
/// `timeline-<entry>.svg`; an entry point whose series has no bucket gets none.
pub fn render(report: &Report) -> Vec<Chart> {
    report
        .series
        .entries
        .iter()
        .filter_map(|series| {
            let points = series_points(report, series);
            (!points.is_empty()).then(|| chart(report, &series.name, &points))
        })
        .collect()
}

/// The timeline chart of entry point `name` from its (non-empty) points.
fn chart(report: &Report, name: &str, points: &[Point]) -> Chart {
    let title = format!("{name}: answers per second by outcome, p99 latency");
    let n = points.len();
    let spans = axes::spans(report, n);
    let end_s = axes::axis_end(report, &spans);
    let unit = TimeUnit::for_run(end_s);
    let faults = axes::fault_windows(report, end_s);

    // Outcomes that occur, bottom to top.
    let shown: Vec<Outcome> = Outcome::ALL
        .into_iter()
        .filter(|o| points.iter().any(|p| p.rates[o.index()] > 0.0))
        .collect();
    let has_p99 = points.iter().any(|p| p.p99_ms.is_some());

    let mut legend: Vec<LegendItem> = shown
        .iter()
        .map(|&o| LegendItem::fill(o.name(), palette::outcome(o)))
        .collect();
    if has_p99 {
        legend.push(LegendItem::outlined(
            "p99 latency (right axis)",
            P99,
            P99_HALO,
        ));
    }
    if !faults.is_empty() {
        legend.push(axes::fault_legend());
    }

    // The bands run from the start of the first bucket to the end of the last one, through
    // the middle of every bucket.
    let mut xs = Vec::with_capacity(n + 2);
    xs.push(unit.of(spans[0].0));
    xs.extend(points.iter().map(|p| unit.of(p.t_s)));
    xs.push(unit.of(spans[n - 1].1));
    let layers: Vec<Vec<f64>> = shown
        .iter()
        .map(|o| {
            let mut layer = Vec::with_capacity(n + 2);
            layer.push(points[0].rates[o.index()]);
            layer.extend(points.iter().map(|p| p.rates[o.index()]));
            layer.push(points[n - 1].rates[o.index()]);
            layer
        })
        .collect();
    let colours: Vec<RGBColor> = shown.iter().map(|&o| palette::outcome(o)).collect();
    let total = axes::max_finite(points.iter().map(|p| p.rates.iter().sum::<f64>()));
    let p99_max = axes::max_finite(points.iter().filter_map(|p| p.p99_ms));
    let p99_runs = axes::runs(points.iter().map(|p| (unit.of(p.t_s), p.p99_ms)));

    let x = axes::range(0.0, unit.of(end_s));
    let y = axes::upto(total);
    let y2 = axes::upto(p99_max);
    let svg = axes::svg(&title, |root| {
        let area = axes::frame(root, &title, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(10)
            .x_label_area_size(45)
            .y_label_area_size(65)
            .right_y_label_area_size(70)
            .build_cartesian_2d(x.clone(), y.clone())?
            .set_secondary_coord(x.clone(), y2.clone());
        let mut mesh = chart.configure_mesh();
        axes::style_mesh(&mut mesh, unit.label(), "answers/s");
        mesh.draw()?;
        let mut secondary = chart.configure_secondary_axes();
        axes::style_secondary(&mut secondary, "p99 latency [ms]");
        secondary.draw()?;
        axes::shade_faults(&mut chart, &faults, unit, &y)?;
        axes::draw_stack(&mut chart, &xs, &layers, &colours)?;
        // The p99 line on the secondary axis, with gaps where a bucket had no answer.
        chart.draw_secondary_series(axes::outlined(&p99_runs, P99, P99_HALO))?;
        axes::label_faults(&mut chart, &faults, unit, &x, y.end)?;
        Ok(())
    });
    Chart {
        file: format!("timeline-{}.svg", slug(name)),
        title,
        svg,
    }
}

//! Latency distributions: the CDF of an entry point's latency, on a logarithmic time axis.
//!
//! A CDF shows the whole distribution at once — the body and the tail, and bimodal shapes
//! (fast refusals beside slow answers) that percentiles alone hide. The x axis is
//! logarithmic because latencies span decades; the p50, p99 and p99.9 of the report are
//! marked. [`cdf_comparison`] overlays the same entry point of several runs (a topology with
//! and without a retry budget, say).
//!
//! Answers at 0 ms (refused at once, e.g. by a full queue or an open breaker) have no place
//! on a logarithmic axis: they, and anything faster than the axis minimum, are drawn at its
//! left edge, where the curve then starts at the fraction they make up.

use super::axes::{self, LegendItem};
use super::{palette, slug, Chart};
use crate::report::{EntryReport, Report};
use plotters::prelude::*;
use std::ops::Range;

/// The most decades a latency axis spans: anything faster than the maximum ÷ 10⁶ is drawn at
/// the left edge, so that a few sub-microsecond answers do not squeeze the rest.
const MAX_DECADES: f64 = 6.0;

/// How far the x axis reaches beyond the smallest and largest latency (a factor).
const PAD: f64 = 1.5;

/// The x range \[ms\] of a log axis holding `cdfs`: from the smallest positive latency ÷
/// [`PAD`] to the largest × [`PAD`], at most [`MAX_DECADES`] wide, and reaching down to the
/// power of ten below when it would hold none (so that the axis has a labelled tick);
/// 0.01..1 ms when no latency is positive.
fn x_range<'a>(cdfs: impl IntoIterator<Item = &'a [[f64; 2]]>) -> Range<f64> {
    let mut lo = f64::INFINITY;
    let mut hi = 0.0_f64;
    for cdf in cdfs {
        for &[ms, _] in cdf {
            if ms.is_finite() && ms > 0.0 {
                lo = lo.min(ms);
                hi = hi.max(ms);
            }
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

/// The points drawn for `cdf` on an axis starting at `lo` \[ms\]: `[latency_ms, fraction]`
/// pairs with non-finite ones left out, latencies below `lo` moved to `lo` and fractions
/// clamped to `[0, 1]`.
fn clamp_points(cdf: &[[f64; 2]], lo: f64) -> Vec<(f64, f64)> {
    cdf.iter()
        .filter(|[ms, q]| ms.is_finite() && q.is_finite())
        .map(|&[ms, q]| (ms.max(lo), q.clamp(0.0, 1.0)))
        .collect()
}

/// The CDF of `entry` as drawn on its own chart: the report's `latency_cdf` points, with
/// latencies faster than the axis minimum (0 ms among them) moved to the axis minimum and
/// points that are not numbers left out. Empty when nothing was answered.
pub fn curve(entry: &EntryReport) -> Vec<(f64, f64)> {
    let x = x_range([entry.latency_cdf.as_slice()]);
    clamp_points(&entry.latency_cdf, x.start)
}

/// The percentiles marked on a chart: label, latency \[ms\] and the fraction it stands at.
fn marks(entry: &EntryReport) -> Vec<(&'static str, f64, f64)> {
    if entry.latency.count == 0 {
        return Vec::new();
    }
    let l = &entry.latency;
    [
        ("p50", l.p50_ms, 0.5),
        ("p99", l.p99_ms, 0.99),
        ("p99.9", l.p999_ms, 0.999),
    ]
    .into_iter()
    .filter(|(_, ms, _)| ms.is_finite())
    .collect()
}

/// The labelled ticks of a log axis over `x` \[ms\] that is about `width_px` pixels wide:
/// the densest of the powers of ten, then 1-2-5, then 1-2-3-5, then every multiple 1 to 9 of
/// them, whose labels (numbers of about three significant digits, about 8 pixels a
/// character) keep a gap between neighbours; at least the powers of ten. Each value once.
pub fn log_ticks(x: &Range<f64>, width_px: f64) -> Vec<f64> {
    const STEPS: [&[f64]; 4] = [
        &[1.0],
        &[1.0, 2.0, 5.0],
        &[1.0, 2.0, 3.0, 5.0],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    ];
    if !(x.start > 0.0 && x.end > x.start && x.end.is_finite()) {
        return Vec::new();
    }
    let (lo, hi) = (x.start.log10(), x.end.log10());
    let px = |v: f64| (v.log10() - lo) / (hi - lo) * width_px;
    let fits = |ticks: &[f64]| {
        ticks.windows(2).all(|w| {
            let half = |v: f64| axes::number(v).chars().count() as f64 * CHAR_PX / 2.0;
            px(w[1]) - px(w[0]) >= half(w[0]) + half(w[1]) + TICK_GAP_PX
        })
    };
    let mut best = Vec::new();
    for (k, steps) in STEPS.iter().enumerate() {
        let ticks = multiples(x, steps);
        if k == 0 || fits(&ticks) {
            best = ticks;
        } else {
            break;
        }
    }
    best
}

/// Every value m·10^k inside `x` for m in `steps`, in increasing order, each once (rounded
/// to 12 significant digits, so that 3 × 0.1 is 0.3).
fn multiples(x: &Range<f64>, steps: &[f64]) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    let first = x.start.log10().floor() as i32;
    let last = x.end.log10().ceil() as i32;
    for k in first..=last {
        for &m in steps {
            let v: f64 = format!("{:.11e}", m * 10f64.powi(k))
                .parse()
                .unwrap_or(f64::NAN);
            if v >= x.start && v <= x.end && out.last().is_none_or(|&l| v > l) {
                out.push(v);
            }
        }
    }
    out
}

/// Width of a character of a tick label \[px\], generously (the labels are drawn at
/// [`axes::LABEL_SIZE`] scaled to the chart, about 12 px).
const CHAR_PX: f64 = 8.0;

/// The least empty space between two neighbouring tick labels \[px\].
const TICK_GAP_PX: f64 = 10.0;

/// Width of the plotting area of a CDF chart \[px\]: the chart less the y labels and margins.
const PLOT_PX: f64 = axes::WIDTH as f64 - 65.0 - 40.0;

/// One CDF drawn on a chart.
struct Curve {
    /// Its legend entry.
    label: String,
    /// Its colour.
    colour: RGBColor,
    /// `(latency_ms, fraction)` points, as [`clamp_points`] makes them.
    points: Vec<(f64, f64)>,
}

/// Colours of the p50, p99 and p99.9 marks.
const MARK_COLOURS: [RGBColor; 3] = [palette::ORANGE, palette::VERMILLION, palette::PURPLE];

/// One latency CDF chart per entry point with answers, in report order, as
/// `latency-<entry>.svg`; entry points with an empty CDF get none.
pub fn render(report: &Report) -> Vec<Chart> {
    report
        .entries
        .iter()
        .filter(|e| !e.latency_cdf.is_empty())
        .map(|e| {
            let title = format!("{}: latency distribution (CDF)", e.name);
            let x = x_range([e.latency_cdf.as_slice()]);
            let lines = vec![Curve {
                label: format!("CDF of {} answers", e.latency.count),
                colour: palette::BLUE,
                points: clamp_points(&e.latency_cdf, x.start),
            }];
            let svg = draw(&title, x, &lines, &marks(e));
            Chart {
                file: format!("latency-{}.svg", slug(&e.name)),
                title,
                svg,
            }
        })
        .collect()
}

/// The CDFs of entry point `entry` in several runs overlaid on one chart, one colour per run
/// (from [`palette::SERIES`], in the order of `runs`), labelled with the runs' names and
/// p99s; no percentile marks (the legend gives each run's p99). `None` when no run has
/// answers at that entry point. The file is `latency-compare-<entry>.svg`.
pub fn cdf_comparison(runs: &[(&str, &Report)], entry: &str) -> Option<Chart> {
    let found: Vec<(&str, &EntryReport)> = runs
        .iter()
        .filter_map(|(name, report)| report.entry(entry).map(|e| (*name, e)))
        .filter(|(_, e)| !e.latency_cdf.is_empty())
        .collect();
    if found.is_empty() {
        return None;
    }
    let x = x_range(found.iter().map(|(_, e)| e.latency_cdf.as_slice()));
    let lines: Vec<Curve> = found
        .iter()
        .enumerate()
        .map(|(i, (name, e))| Curve {
            label: format!("{name} (p99 {} ms)", axes::number(e.latency.p99_ms)),
            colour: palette::series(i),
            points: clamp_points(&e.latency_cdf, x.start),
        })
        .collect();
    let title = format!("{entry}: latency distribution (CDF), {} runs", found.len());
    let svg = draw(&title, x, &lines, &[]);
    Some(Chart {
        file: format!("latency-compare-{}.svg", slug(entry)),
        title,
        svg,
    })
}

/// Draws CDF `lines` on a log x axis over `x` \[ms\], with the
/// percentile `marks` as dashed verticals from the axis to the curve.
fn draw(title: &str, x: Range<f64>, lines: &[Curve], marks: &[(&str, f64, f64)]) -> String {
    let mut legend: Vec<LegendItem> = lines
        .iter()
        .map(|c| LegendItem::line(c.label.clone(), c.colour))
        .collect();
    for (&(label, ms, _), &colour) in marks.iter().zip(&MARK_COLOURS) {
        legend.push(LegendItem::dashed(
            format!("{label} {} ms", axes::number(ms)),
            colour,
        ));
    }
    let lo = x.start;
    let ticks = log_ticks(&x, PLOT_PX);
    let grid = multiples(&x, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
    axes::svg(title, |root| {
        let area = axes::frame(root, title, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(10)
            .margin_right(30)
            .x_label_area_size(45)
            .y_label_area_size(65)
            .build_cartesian_2d(
                x.clone()
                    .log_scale()
                    .with_key_points(ticks.clone())
                    .with_light_points(grid.clone()),
                0.0..1.02,
            )?;
        let mut mesh = chart.configure_mesh();
        axes::style_mesh(
            &mut mesh,
            "latency [ms] (log scale)",
            "fraction answered within",
        );
        // Unlabelled grid lines at every multiple of a power of ten, fainter than the
        // labelled ones.
        mesh.light_line_style(RGBColor(242, 242, 242))
            .y_max_light_lines(0)
            .x_label_formatter(&|v| axes::number(*v))
            .y_label_formatter(&|v| {
                if *v > 1.0 + 1e-9 {
                    String::new()
                } else {
                    format!("{v:.1}")
                }
            })
            .draw()?;
        for (&(_, ms, q), &colour) in marks.iter().zip(&MARK_COLOURS) {
            let at = ms.max(lo);
            chart.draw_series(DashedLineSeries::new(
                [(at, 0.0), (at, q)],
                6,
                4,
                colour.stroke_width(2),
            ))?;
        }
        for c in lines {
            chart.draw_series(std::iter::once(PathElement::new(
                c.points.clone(),
                c.colour.stroke_width(2),
            )))?;
        }
        for (&(_, ms, q), &colour) in marks.iter().zip(&MARK_COLOURS) {
            chart.draw_series(std::iter::once(Circle::new(
                (ms.max(lo), q),
                4,
                colour.filled(),
            )))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_covers_the_latencies_with_a_margin_and_a_power_of_ten() {
        let cdf = [[0.0, 0.1], [0.35, 0.5], [42.0, 0.99], [512.0, 1.0]];
        let r = x_range([cdf.as_slice()]);
        assert!(
            (r.start - 0.35 / 1.5).abs() < 1e-12 && r.end == 768.0,
            "{r:?}"
        );
        // No power of ten between 2 and 5 ms: the axis reaches down to 1 ms.
        let r = x_range([[[2.0, 0.5], [5.0, 1.0]].as_slice()]);
        assert!(r.start == 1.0 && r.end == 7.5, "{r:?}");
        // Nothing positive: a default range.
        assert_eq!(x_range([[[0.0, 1.0]].as_slice()]), 0.01..1.0);
        assert_eq!(x_range([[].as_slice()]), 0.01..1.0);
        // Very fast outliers do not stretch the axis past six decades.
        let r = x_range([[[1e-9, 0.001], [100.0, 1.0]].as_slice()]);
        assert!(
            (r.start - 150.0 / 1e6).abs() < 1e-12 && r.end == 150.0,
            "{r:?}"
        );
    }

    #[test]
    fn log_ticks_are_distinct_and_do_not_crowd() {
        // Three decades: 1-2-3-5 fits; every multiple would not.
        let t = log_ticks(&(1.0..1000.0), 690.0);
        assert_eq!(
            t,
            [1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 50.0, 100.0, 200.0, 300.0, 500.0, 1000.0]
        );
        // Five decades: 1-2-5 would crowd; the powers of ten.
        let t = log_ticks(&(0.1..10000.0), 690.0);
        assert_eq!(t, [0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0]);
        // A decade and a half: 1-2-3-5 or denser, and 100 once.
        let t = log_ticks(&(8.0..450.0), 690.0);
        assert!(
            t.contains(&10.0) && t.contains(&100.0) && t.len() >= 6,
            "{t:?}"
        );
        assert!(t.windows(2).all(|w| w[1] > w[0]), "{t:?}");
        // Six decades: the powers of ten only.
        let t = log_ticks(&(0.001..1000.0), 690.0);
        assert_eq!(t, [0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]);
        assert_eq!(multiples(&(0.25..0.35), &[1.0, 2.0, 3.0]), [0.3]);
        assert!(log_ticks(&(0.0..1.0), 690.0).is_empty());
    }

    #[test]
    fn zero_latencies_go_to_the_left_edge() {
        let cdf = [[0.0, 0.4], [f64::NAN, 0.5], [3.0, 1.5]];
        assert_eq!(clamp_points(&cdf, 0.1), vec![(0.1, 0.4), (3.0, 1.0)]);
    }
}

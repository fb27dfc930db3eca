//! Queues and lag: requests waiting at services, and messages waiting for consumer groups.
//!
//! * `queues.svg`: the mean queue length of every service that ever queued (`max_queue > 0`),
//!   one line per service — where the backlog builds, and when.
//! * `lag-<topic>-<service>.svg`, one per consumer group: the lag in messages (left axis) and
//!   the time lag, the age of the oldest uncommitted message (right axis), with the drain
//!   marked. A consumer outage shows as lag, not errors; the question is how long the group
//!   takes to catch up, which [`drain`] answers. A group that keeps up (its oldest message
//!   never waited a second) gets no peak or drain mark, and its axes reach at least a second
//!   of messages and of time lag, so that a lag of a few messages in flight looks as calm as
//!   it is.

use super::axes::{self, LegendItem, TimeUnit};
use super::{palette, slug, Chart};
use crate::metrics::drain::{drain, Drain};
use crate::report::{Report, TopicSeries};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// The services whose queue gets a line in `queues.svg`: those with `max_queue > 0` that have
/// a series, in report order.
pub fn queued_services(report: &Report) -> Vec<&str> {
    report
        .services
        .iter()
        .filter(|s| s.max_queue > 0)
        .filter(|s| report.series.services.iter().any(|x| x.name == s.name))
        .map(|s| s.name.as_str())
        .collect()
}

/// `queues.svg` when some service queued, then one lag chart per consumer group of
/// `series.topics` that has buckets, in report order.
pub fn render(report: &Report) -> Vec<Chart> {
    let mut charts = Vec::new();
    charts.extend(queue_chart(report));
    charts.extend(
        report
            .series
            .topics
            .iter()
            .filter_map(|t| lag_chart(report, t)),
    );
    charts
}

/// The mean queue length of the services of [`queued_services`], one line each.
fn queue_chart(report: &Report) -> Option<Chart> {
    let names = queued_services(report);
    let series: Vec<_> = names
        .iter()
        .filter_map(|name| report.series.services.iter().find(|s| s.name == *name))
        .filter(|s| !s.queue.is_empty())
        .collect();
    if series.is_empty() {
        return None;
    }
    let title = "Mean queue length per service".to_string();
    let n = series.iter().map(|s| s.queue.len()).max().unwrap_or(0);
    let spans = axes::spans(report, n);
    let end_s = axes::axis_end(report, &spans);
    let unit = TimeUnit::for_run(end_s);
    let faults = axes::fault_windows(report, end_s);
    // One line per service: its name, colour and runs of points.
    let lines: Vec<(&str, RGBColor, axes::Runs)> = series
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let runs = axes::runs(
                spans
                    .iter()
                    .enumerate()
                    .map(|(i, (a, b))| (unit.of((a + b) / 2.0), s.queue.get(i).copied())),
            );
            (s.name.as_str(), palette::series(k), runs)
        })
        .collect();
    let max = axes::max_finite(series.iter().flat_map(|s| s.queue.iter().copied()));
    let mut legend: Vec<LegendItem> = lines
        .iter()
        .map(|(name, colour, _)| LegendItem::line(*name, *colour))
        .collect();
    if !faults.is_empty() {
        legend.push(axes::fault_legend());
    }
    let x = axes::range(0.0, unit.of(end_s));
    let y = axes::upto(max);
    let svg = axes::svg(&title, |root| {
        let area = axes::frame(root, &title, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(10)
            .margin_right(30)
            .x_label_area_size(45)
            .y_label_area_size(65)
            .build_cartesian_2d(x.clone(), y.clone())?;
        let mut mesh = chart.configure_mesh();
        axes::style_mesh(&mut mesh, unit.label(), "requests queued (mean)");
        mesh.draw()?;
        axes::shade_faults(&mut chart, &faults, unit, &y)?;
        for (_, colour, runs) in &lines {
            chart.draw_series(axes::line(runs, *colour))?;
        }
        axes::label_faults(&mut chart, &faults, unit, &x, y.end)?;
        Ok(())
    });
    Some(Chart {
        file: "queues.svg".to_string(),
        title,
        svg,
    })
}

/// The time lag \[s\] below which a consumer group keeps up: its oldest message never waited
/// this long, so its lag is messages in flight, not a backlog.
const KEEPING_UP_S: f64 = 1.0;

/// The lag chart of one consumer group; `None` when its series has no bucket.
fn lag_chart(report: &Report, series: &TopicSeries) -> Option<Chart> {
    let n = series.lag.len().max(series.time_lag_s.len());
    if n == 0 {
        return None;
    }
    let title = format!("{} → {}: consumer lag", series.topic, series.service);
    let spans = axes::spans(report, n);
    let end_s = axes::axis_end(report, &spans);
    let unit = TimeUnit::for_run(end_s);
    let faults = axes::fault_windows(report, end_s);
    // Lag is sampled at the end of each bucket.
    let at = |i: usize| unit.of(spans[i].1);
    let lag: Vec<(f64, f64)> = (0..n)
        .map(|i| (at(i), series.lag.get(i).copied().unwrap_or(0) as f64))
        .collect();
    let time_lag = axes::runs((0..n).map(|i| (at(i), series.time_lag_s.get(i).copied())));
    let max_age = axes::max_finite(series.time_lag_s.iter().copied());
    // A group whose oldest message never waited a second keeps up: its lag of a few
    // messages in flight is no backlog, and gets neither a peak nor a drain mark.
    let keeping_up = max_age.is_nan() || max_age < KEEPING_UP_S;
    let drain = if keeping_up {
        Drain::NoBacklog
    } else {
        drain(&series.lag)
    };
    let lag_colour = palette::BLUE;
    let age_colour = palette::ORANGE;
    let mut legend = vec![
        LegendItem::line("lag [messages] (left axis)", lag_colour),
        LegendItem::line("time lag: age of the oldest [s] (right axis)", age_colour),
    ];
    if matches!(drain, Drain::Drained { .. }) {
        legend.push(LegendItem::dashed(
            "drained: lag back to its level before the peak (± 1 % of the peak)",
            palette::BLACK,
        ));
    }
    if !faults.is_empty() {
        legend.push(axes::fault_legend());
    }
    let x = axes::range(0.0, unit.of(end_s));
    // The axes reach at least a second of messages and a second of time lag, so that a
    // group that keeps up draws as the low, calm band it is instead of being scaled into
    // drama; and above the highest point there is room for the fault labels.
    let per_s = report
        .topics
        .iter()
        .find(|t| t.name == series.topic)
        .filter(|_| report.duration_s > 0.0)
        .map_or(0.0, |t| t.produced as f64 / report.duration_s);
    let headroom = 1.0 + 0.08 * axes::fault_label_rows(&faults) as f64;
    let y = axes::upto(
        axes::max_finite(lag.iter().map(|p| p.1))
            .max(per_s * KEEPING_UP_S)
            .max(10.0)
            * headroom,
    );
    let y2 = axes::upto(max_age.max(KEEPING_UP_S) * headroom);
    let svg = axes::svg(&title, |root| {
        let area = axes::frame(root, &title, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(10)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .right_y_label_area_size(65)
            .build_cartesian_2d(x.clone(), y.clone())?
            .set_secondary_coord(x.clone(), y2.clone());
        let mut mesh = chart.configure_mesh();
        axes::style_mesh(&mut mesh, unit.label(), "lag [messages]");
        mesh.draw()?;
        let mut secondary = chart.configure_secondary_axes();
        axes::style_secondary(&mut secondary, "time lag [s]");
        secondary.draw()?;
        axes::shade_faults(&mut chart, &faults, unit, &y)?;
        // The lag as a light area with its outline, the time lag on top: when messages
        // arrive at a steady rate the two have the same shape, and both stay visible.
        let mut outline = lag.clone();
        outline.push((lag[n - 1].0, 0.0));
        outline.push((lag[0].0, 0.0));
        chart.draw_series(std::iter::once(Polygon::new(
            outline,
            lag_colour.mix(0.25).filled(),
        )))?;
        chart.draw_series(std::iter::once(PathElement::new(
            lag.clone(),
            lag_colour.stroke_width(2),
        )))?;
        chart.draw_secondary_series(axes::line(&time_lag, age_colour))?;
        let ink = RGBColor(40, 40, 40);
        // Labels go right of their point, or left of it in the last quarter of the axis.
        let quarter = x.end - (x.end - x.start) / 4.0;
        let side = |t: f64| {
            if t > quarter {
                (HPos::Right, -8)
            } else {
                (HPos::Left, 8)
            }
        };
        let peak_label = |peak: usize, text: String| {
            let (t, v) = lag[peak];
            // Left of the peak (above the build-up) when there is room, else right of it.
            let (h, dx) = if t > x.start + (x.end - x.start) / 4.0 {
                (HPos::Right, -8)
            } else {
                (HPos::Left, 8)
            };
            EmptyElement::at((t, v))
                + Circle::new((0, 0), 4, ink.filled())
                + Text::new(
                    text,
                    (dx, 0),
                    axes::text_style(axes::LABEL_SIZE, h, VPos::Center).color(&ink),
                )
        };
        match drain {
            Drain::NoBacklog => {}
            Drain::Drained { peak, drained } => {
                chart.draw_series(std::iter::once(peak_label(
                    peak,
                    format!("peak {}", lag[peak].1),
                )))?;
                let t_drained = lag[drained].0;
                let after = spans[drained].1 - spans[peak].1;
                // Up to the peak's level, below the fault labels at the top.
                chart.draw_series(DashedLineSeries::new(
                    [(t_drained, y.start), (t_drained, lag[peak].1)],
                    6,
                    4,
                    ink.stroke_width(2),
                ))?;
                let (h, dx) = side(t_drained);
                chart.draw_series(std::iter::once(
                    EmptyElement::at((t_drained, lag[peak].1 / 2.0))
                        + Text::new(
                            format!("drained after {} s", axes::number(after)),
                            (dx, 0),
                            axes::text_style(axes::LABEL_SIZE, h, VPos::Center).color(&ink),
                        ),
                ))?;
            }
            Drain::NotDrained { peak } => {
                chart.draw_series(std::iter::once(peak_label(
                    peak,
                    format!("peak {}: not drained", lag[peak].1),
                )))?;
            }
        }
        axes::label_faults(&mut chart, &faults, unit, &x, y.end)?;
        Ok(())
    });
    Some(Chart {
        file: format!("lag-{}-{}.svg", slug(&series.topic), slug(&series.service)),
        title,
        svg,
    })
}

//! Circuit breaker states over time: one strip per breaker.
//!
//! Each call step with a breaker has one breaker per caller replica; each gets a strip
//! coloured by its state — closed, open, half-open — from the start of the run to its end,
//! rebuilt from the report's transition log (every breaker starts closed at 0). Fault windows
//! are shaded behind the strips, so that one sees how quickly the breakers open after a fault
//! starts and how they probe (half-open) until it ends.
//!
//! The report logs the first 10,000 transitions per replica; if a log was cut there, the strip
//! keeps the last logged state to the end of the run.

use super::axes::{self, LegendItem, TimeUnit};
use super::{palette, Chart};
use crate::report::{BreakerReport, CallReport, Report};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::collections::BTreeSet;

/// A stretch of time a breaker spent in one state.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// Start \[s\].
    pub start_s: f64,
    /// End \[s\] (after the start).
    pub end_s: f64,
    /// The state: `closed`, `open` or `half_open`, as in the report.
    pub state: String,
}

/// One breaker: a call step's breaker at one caller replica.
#[derive(Clone, Debug, PartialEq)]
pub struct Strip {
    /// The call step, as an index into `report.calls`.
    pub step: usize,
    /// The caller replica.
    pub replica: u32,
    /// What the strip is labelled, e.g. `gateway → payments #1`.
    pub label: String,
    /// Its states from 0 to the end of the run, in time order, without gaps or overlaps.
    pub segments: Vec<Segment>,
}

/// The most strips one chart shows; a report with more breakers (thousands of caller
/// replicas) gets the first ones, and its title says so.
pub const MAX_STRIPS: usize = 256;

/// The replicas of the service calling `call` (at least one).
fn caller_replicas(report: &Report, call: &CallReport) -> u32 {
    report.service(&call.from).map_or(1, |s| s.replicas).max(1)
}

/// The caller replicas of a call step with a breaker: `0..replicas` of the calling service,
/// and any other replica the log names, in order; at most `limit` of them.
fn replicas(report: &Report, call: &CallReport, breaker: &BreakerReport, limit: usize) -> Vec<u32> {
    let count = caller_replicas(report, call);
    let mut ids: BTreeSet<u32> = (0..count).take(limit).collect();
    ids.extend(breaker.log.iter().map(|t| t.replica));
    ids.into_iter().take(limit).collect()
}

/// The number of breakers in `report`: one per caller replica of each call step with one
/// (counted, not listed: a hand-made report may claim billions of replicas).
fn breaker_count(report: &Report) -> u64 {
    report
        .calls
        .iter()
        .filter_map(|c| c.breaker.as_ref().map(|b| (c, b)))
        .map(|(c, b)| {
            let count = caller_replicas(report, c);
            let beyond: BTreeSet<u32> = b
                .log
                .iter()
                .map(|t| t.replica)
                .filter(|&r| r >= count)
                .collect();
            u64::from(count) + beyond.len() as u64
        })
        .sum()
}

/// The breakers of `report`: for every call step with a breaker (in report order), one strip
/// per caller replica (those of the calling service, and any other the log names), at most
/// [`MAX_STRIPS`] in all. Empty when no call step has a breaker.
pub fn strips(report: &Report) -> Vec<Strip> {
    let end_s = axes::axis_end(report, &[]);
    let mut strips = Vec::new();
    for (step, call) in report.calls.iter().enumerate() {
        let Some(breaker) = &call.breaker else {
            continue;
        };
        let ids = replicas(report, call, breaker, MAX_STRIPS - strips.len());
        let several = ids.len() > 1;
        for replica in ids {
            let mut log: Vec<_> = breaker
                .log
                .iter()
                .filter(|t| t.replica == replica)
                .collect();
            log.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
            let mut segments = Vec::new();
            let mut state = "closed".to_string();
            let mut since = 0.0;
            for t in log {
                // In time order, within the run; a time that is not a number changes the
                // state without taking any time.
                let at = if t.at_s.is_finite() {
                    t.at_s.max(since).min(end_s)
                } else {
                    since
                };
                if at > since {
                    segments.push(Segment {
                        start_s: since,
                        end_s: at,
                        state: state.clone(),
                    });
                }
                state.clone_from(&t.to);
                since = at;
            }
            if end_s > since {
                segments.push(Segment {
                    start_s: since,
                    end_s,
                    state,
                });
            }
            let label = if several {
                format!("{} → {} #{replica}", call.from, call.to)
            } else {
                format!("{} → {}", call.from, call.to)
            };
            strips.push(Strip {
                step,
                replica,
                label,
                segments,
            });
        }
        if strips.len() >= MAX_STRIPS {
            break;
        }
    }
    strips
}

/// The legend names of the breaker states, in drawing order.
const STATES: [(&str, &str); 3] = [
    ("closed", "closed"),
    ("open", "open"),
    ("half_open", "half-open"),
];

/// The chart `breakers.svg`, when some call step has a breaker.
pub fn render(report: &Report) -> Vec<Chart> {
    let strips = strips(report);
    if strips.is_empty() {
        return Vec::new();
    }
    let total = breaker_count(report);
    let title = if total > strips.len() as u64 {
        format!(
            "Circuit breaker states (the first {} of {total} caller replicas)",
            strips.len()
        )
    } else {
        "Circuit breaker states (one strip per caller replica)".to_string()
    };
    let end_s = axes::axis_end(report, &[]);
    let unit = TimeUnit::for_run(end_s);
    let faults = axes::fault_windows(report, end_s);
    let mut legend: Vec<LegendItem> = STATES
        .iter()
        .map(|&(state, name)| LegendItem::fill(name, palette::breaker_state(state)))
        .collect();
    if !faults.is_empty() {
        legend.push(axes::fault_legend());
    }
    let n = strips.len() as f64;
    // Headroom above the strips for the fault labels (about 24 px per row of labels, on a
    // plot about 340 px high).
    let label_px = if faults.is_empty() {
        0.0
    } else {
        6.0 + 18.0 * faults.len().min(3) as f64
    };
    let headroom = n * label_px / (340.0 - label_px);
    let x = axes::range(0.0, unit.of(end_s));
    let y = axes::range(0.0, n + headroom);
    // Strip k (from the top) covers [n − k − 0.85, n − k − 0.15].
    let band = |k: usize| (n - k as f64 - 0.85, n - k as f64 - 0.15);
    let svg = axes::svg(&title, |root| {
        let label_style = axes::text_style(axes::LABEL_SIZE, HPos::Right, VPos::Center);
        let widest = strips
            .iter()
            .map(|s| {
                root.estimate_text_size(&s.label, &label_style)
                    .map_or(0, |(w, _)| w)
            })
            .max()
            .unwrap_or(0);
        let label_area = (widest + 20).clamp(60, 320);
        let area = axes::frame(root, &title, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(10)
            .margin_right(30)
            .x_label_area_size(45)
            .y_label_area_size(label_area)
            .build_cartesian_2d(x.clone(), y.clone())?;
        let mut mesh = chart.configure_mesh();
        axes::style_mesh(&mut mesh, unit.label(), "");
        mesh.disable_y_mesh().y_labels(0).draw()?;
        axes::shade_faults(&mut chart, &faults, unit, &y)?;
        // At least two pixels wide, so that a short half-open probe stays visible; drawn
        // closed first, half-open last, so that the rarer states are on top.
        let (plot_px, _) = chart.plotting_area().dim_in_pixel();
        let min_width = 2.0 * (x.end - x.start) / f64::from(plot_px.max(1));
        for &(state, _) in &STATES {
            let colour = palette::breaker_state(state);
            for (k, strip) in strips.iter().enumerate() {
                let (lo, hi) = band(k);
                chart.draw_series(strip.segments.iter().filter(|s| s.state == state).map(|s| {
                    let x0 = unit.of(s.start_s);
                    let x1 = unit.of(s.end_s).max(x0 + min_width);
                    Rectangle::new([(x0, lo), (x1, hi)], colour.filled())
                }))?;
            }
        }
        // Other states (not in the report's vocabulary) in grey, so nothing goes missing.
        for (k, strip) in strips.iter().enumerate() {
            let (lo, hi) = band(k);
            chart.draw_series(
                strip
                    .segments
                    .iter()
                    .filter(|s| STATES.iter().all(|&(state, _)| s.state != state))
                    .map(|s| {
                        Rectangle::new(
                            [(unit.of(s.start_s), lo), (unit.of(s.end_s), hi)],
                            palette::breaker_state(&s.state).filled(),
                        )
                    }),
            )?;
        }
        // Labels at least 16 px apart: with many strips, every few strips.
        let (_, plot_height) = chart.plotting_area().dim_in_pixel();
        let strip_px = f64::from(plot_height) / (y.end - y.start);
        let every = (16.0 / strip_px).ceil().max(1.0) as usize;
        let max_chars = (label_area as usize).saturating_sub(20) / 7;
        for (k, strip) in strips.iter().enumerate().step_by(every) {
            let (lo, hi) = band(k);
            let label: String = if strip.label.chars().count() > max_chars.max(4) {
                let cut: String = strip.label.chars().take(max_chars.max(4) - 1).collect();
                format!("{cut}…")
            } else {
                strip.label.clone()
            };
            chart.draw_series(std::iter::once(
                EmptyElement::at((x.start, (lo + hi) / 2.0))
                    + Text::new(label, (-8, 0), label_style.clone()),
            ))?;
        }
        axes::label_faults(&mut chart, &faults, unit, &x, y.end)?;
        Ok(())
    });
    vec![Chart {
        file: "breakers.svg".to_string(),
        title,
        svg,
    }]
}

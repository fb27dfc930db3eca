//! Availability per entry point: what the simulation measured against what the analytic
//! shadow predicts.
//!
//! Grouped bars: the simulated request-based availability with whiskers of ±2 standard
//! errors (about a 95 % interval), beside the analytic availability (the product over the
//! required sync calls, with retries and failure processes). Where the bars part, something
//! the product knows nothing of — overload, a cascade, timeouts — is costing availability.
//! The y axis is zoomed (it starts at a round number of nines below the lowest value, not at
//! 0) so that differences of a fraction of a percent stay visible; it says so.

use super::axes::{self, LegendItem};
use super::{palette, Chart};
use crate::report::Report;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// One entry point's pair of bars.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// Entry point name.
    pub entry: String,
    /// Simulated availability (`entries[].availability`); `None` when it is not a number
    /// (nothing was answered).
    pub simulated: Option<f64>,
    /// Its standard error (`availability_se`); the whiskers span ±2 of them, clipped to
    /// `[0, 1]`. 0 when it is not a number.
    pub se: f64,
    /// The analytic availability of the entry point of the same name in `analysis.entries`,
    /// if there is one and it is a number.
    pub analytic: Option<f64>,
}

/// The bars of `report`, one pair per entry point, in report order.
pub fn bars(report: &Report) -> Vec<Bar> {
    report
        .entries
        .iter()
        .map(|e| Bar {
            entry: e.name.clone(),
            simulated: Some(e.availability).filter(|a| a.is_finite()),
            se: Some(e.availability_se)
                .filter(|s| s.is_finite() && *s >= 0.0)
                .unwrap_or(0.0),
            analytic: report
                .analysis
                .entries
                .iter()
                .find(|a| a.name == e.name)
                .map(|a| a.availability)
                .filter(|a| a.is_finite()),
        })
        .collect()
}

/// Candidate bottoms of the zoomed y axis: round numbers of nines.
const FLOORS: [f64; 12] = [
    0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999,
];

/// The bottom of the y axis for `bars`: the highest round number of nines that leaves the
/// lowest bar or whisker end at least a tenth of the axis above it (0 when values are 0 or
/// below).
pub fn y_floor(bars: &[Bar]) -> f64 {
    let lowest = bars
        .iter()
        .flat_map(|b| [b.simulated.map(|a| a - 2.0 * b.se), b.simulated, b.analytic])
        .flatten()
        .fold(1.0_f64, f64::min);
    FLOORS
        .iter()
        .copied()
        .rev()
        .find(|&floor| floor <= lowest - 0.1 * (1.0 - floor))
        .unwrap_or(0.0)
}

/// The chart `availability.svg` when the report has at least one entry point.
pub fn render(report: &Report) -> Vec<Chart> {
    let bars = bars(report);
    if bars.is_empty() {
        return Vec::new();
    }
    let title = "Availability per entry point: simulated vs analytic".to_string();
    let floor = y_floor(&bars);
    let top = 1.0 + (1.0 - floor) * 0.12;
    // Enough decimals to tell the ticks of the zoomed axis apart.
    let decimals = ((1.0 - floor).log10().floor().abs() as usize + 2).min(6);
    let sim_colour = palette::BLUE;
    let ana_colour = palette::ORANGE;
    let legend = vec![
        LegendItem::fill("simulated (whiskers: ±2 standard errors)", sim_colour),
        LegendItem::fill("analytic (product over required calls)", ana_colour),
    ];
    let n = bars.len() as f64;
    let svg = axes::svg(&title, |root| {
        let area = axes::frame(root, &title, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(10)
            .margin_right(20)
            .x_label_area_size(40)
            .y_label_area_size(75)
            .build_cartesian_2d(0.0..n, floor..top)?;
        let mut mesh = chart.configure_mesh();
        axes::style_mesh(&mut mesh, "entry point", "availability (zoomed axis)");
        mesh.disable_x_mesh()
            .x_labels(0)
            .y_label_formatter(&|v| {
                if *v > 1.0 + 1e-12 {
                    String::new()
                } else {
                    format!("{v:.decimals$}")
                }
            })
            .draw()?;
        let value_style = axes::text_style(axes::LABEL_SIZE, HPos::Center, VPos::Bottom);
        let name_style = axes::text_style(axes::LABEL_SIZE, HPos::Center, VPos::Top);
        // Characters that fit under one group, for long names.
        let group_px = (area.dim_in_pixel().0 as f64 - 105.0) / n;
        let max_chars = ((group_px / 7.5) as usize).max(4);
        for (i, bar) in bars.iter().enumerate() {
            let left = i as f64;
            let centre = left + 0.5;
            if let Some(a) = bar.simulated {
                let (x0, x1) = (left + 0.12, left + 0.48);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, floor), (x1, a.max(floor))],
                    sim_colour.filled(),
                )))?;
                let lo = (a - 2.0 * bar.se).clamp(floor, 1.0);
                let hi = (a + 2.0 * bar.se).clamp(floor, 1.0);
                let mid = (x0 + x1) / 2.0;
                let ink = palette::BLACK.stroke_width(2);
                if hi > lo {
                    chart.draw_series([
                        PathElement::new(vec![(mid, lo), (mid, hi)], ink),
                        PathElement::new(vec![(mid - 0.06, lo), (mid + 0.06, lo)], ink),
                        PathElement::new(vec![(mid - 0.06, hi), (mid + 0.06, hi)], ink),
                    ])?;
                }
                chart.draw_series(std::iter::once(
                    EmptyElement::at((mid, hi.max(a).max(floor)))
                        + Text::new(format!("{a:.4}"), (0, -4), value_style.clone()),
                ))?;
            } else {
                chart.draw_series(std::iter::once(
                    EmptyElement::at((left + 0.3, floor))
                        + Text::new("no answers", (0, -4), value_style.clone()),
                ))?;
            }
            if let Some(a) = bar.analytic {
                let (x0, x1) = (left + 0.52, left + 0.88);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, floor), (x1, a.max(floor))],
                    ana_colour.filled(),
                )))?;
                chart.draw_series(std::iter::once(
                    EmptyElement::at(((x0 + x1) / 2.0, a.max(floor)))
                        + Text::new(format!("{a:.4}"), (0, -4), value_style.clone()),
                ))?;
            }
            let name: String = if bar.entry.chars().count() > max_chars {
                let cut: String = bar.entry.chars().take(max_chars - 1).collect();
                format!("{cut}…")
            } else {
                bar.entry.clone()
            };
            chart.draw_series(std::iter::once(
                EmptyElement::at((centre, floor)) + Text::new(name, (0, 8), name_style.clone()),
            ))?;
        }
        Ok(())
    });
    vec![Chart {
        file: "availability.svg".to_string(),
        title,
        svg,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(simulated: Option<f64>, se: f64, analytic: Option<f64>) -> Bar {
        Bar {
            entry: "e".to_string(),
            simulated,
            se,
            analytic,
        }
    }

    #[test]
    fn the_axis_starts_at_round_nines_below_the_lowest_value() {
        assert_eq!(y_floor(&[bar(Some(1.0), 0.0, Some(1.0))]), 0.9999);
        assert_eq!(y_floor(&[bar(Some(0.915), 0.00125, Some(0.9982))]), 0.9);
        assert_eq!(y_floor(&[bar(Some(0.0859), 0.0014, Some(1.0))]), 0.0);
        assert_eq!(y_floor(&[bar(Some(0.9924), 0.0005, Some(0.992))]), 0.99);
        assert_eq!(y_floor(&[bar(None, 0.0, None)]), 0.9999);
        assert_eq!(y_floor(&[]), 0.9999);
    }
}

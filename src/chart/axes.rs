//! What the data charts share: the canvas, valid axis ranges, the time axis, fault windows,
//! legends and number formatting.
//!
//! # Why drawing cannot fail
//! Plotters returns errors from three sources: the backend (here an SVG document written into
//! a `String`, which cannot fail), the fonts (without font features plotters estimates text
//! sizes itself, which cannot fail either) and the layout (fixed sizes on a fixed 800×500
//! canvas). It also panics or loops on ranges that are NaN, infinite or empty. Every range
//! here goes through [`range`] or [`upto`], which make it finite and non-empty whatever the
//! report holds, and every plotted value is finite. Should plotters still report an error,
//! [`svg`] returns a small SVG that shows the error as text instead of a silently missing
//! chart or a panic.

use super::palette;
use crate::report::Report;
use plotters::chart::{ChartContext, MeshStyle, SecondaryMeshStyle};
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;

/// Canvas width \[px\].
pub(crate) const WIDTH: u32 = 800;
/// Canvas height \[px\].
pub(crate) const HEIGHT: u32 = 500;
/// The one font family (generic, so every viewer has it).
pub(crate) const FONT: &str = "sans-serif";
/// Font size of titles (plotters sizes; the SVG gets them ÷ 1.24).
const TITLE_SIZE: u32 = 22;
/// Font size of axis descriptions.
const DESC_SIZE: u32 = 17;
/// Font size of tick labels, legends and annotations.
pub(crate) const LABEL_SIZE: u32 = 15;
/// Height of one legend row \[px\].
const LEGEND_ROW: u32 = 22;

/// The drawing area of a whole canvas or of a part of it.
pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
/// What plotters' drawing calls return on the SVG backend.
pub(crate) type Drawn<T = ()> = Result<T, DrawingAreaErrorKind<std::io::Error>>;
/// A chart with linear axes in `f64` on the SVG backend.
pub(crate) type Plane<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws on a white 800×500 canvas with `draw` and returns the SVG document. If plotters
/// reports an error (which the module docs argue cannot happen), the document shows `title`
/// and the error as text, so that a broken chart is visible rather than missing.
pub(crate) fn svg(title: &str, draw: impl FnOnce(&Area<'_>) -> Drawn) -> String {
    let mut text = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present())
    };
    match drawn {
        Ok(()) => text,
        Err(e) => failure_svg(title, &e.to_string()),
    }
}

/// A minimal SVG saying that the chart `title` could not be drawn, and why.
fn failure_svg(title: &str, error: &str) -> String {
    format!(
        "<svg width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         xmlns=\"http://www.w3.org/2000/svg\">\n\
         <rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#FFFFFF\"/>\n\
         <text x=\"20\" y=\"40\" font-family=\"{FONT}\" font-size=\"18\">{}</text>\n\
         <text x=\"20\" y=\"70\" font-family=\"{FONT}\" font-size=\"14\" fill=\"#D55E00\">\
         chart could not be drawn: {}</text>\n</svg>\n",
        xml_escape(title),
        xml_escape(error)
    )
}

/// `text` escaped for SVG text and attribute values.
fn xml_escape(text: &str) -> String {
    super::escape_markup(text, "&apos;")
}

/// A text style of the chart font at `size`, anchored horizontally by `h` and vertically by `v`.
pub(crate) fn text_style(size: u32, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).pos(Pos::new(h, v))
}

/// The legend has at most this many rows; entries beyond are summed up as `… and N more`,
/// so that the chart keeps its room however many series there are.
const MAX_LEGEND_ROWS: usize = 3;

/// Draws `title` at the top of `root` and `legend` at its bottom (at most
/// [`MAX_LEGEND_ROWS`] rows), and returns the area left between them for the chart itself.
pub(crate) fn frame<'a>(root: &Area<'a>, title: &str, legend: &[LegendItem]) -> Drawn<Area<'a>> {
    let body = root.titled(title, (FONT, TITLE_SIZE))?;
    let mut items = legend.to_vec();
    let mut rows = legend_rows(root, &items);
    let mut keep = legend.len();
    while rows.len() > MAX_LEGEND_ROWS && keep > 0 {
        keep -= 1;
        items = legend[..keep].to_vec();
        items.push(LegendItem {
            label: format!("… and {} more", legend.len() - keep),
            mark: Mark::Blank,
        });
        rows = legend_rows(root, &items);
    }
    if rows.is_empty() {
        return Ok(body);
    }
    let height = rows.len() as u32 * LEGEND_ROW + 8;
    let (_, body_height) = body.dim_in_pixel();
    let (chart, bottom) = body.split_vertically(body_height.saturating_sub(height));
    draw_legend(&bottom, &items, &rows)?;
    Ok(chart)
}

/// How a legend entry shows its series.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Mark {
    /// A filled square: an area or a bar.
    Fill(RGBAColor),
    /// A solid line.
    Line(RGBColor),
    /// A dashed line: a marker or a reference level.
    Dashed(RGBColor),
    /// A line of the first colour over a halo of the second (see [`outlined`]).
    Outlined(RGBColor, RGBColor),
    /// No swatch: a note such as `… and 3 more`.
    Blank,
}

/// One entry of a legend.
#[derive(Clone, Debug)]
pub(crate) struct LegendItem {
    /// What the series is, with its unit or axis where that helps.
    pub label: String,
    /// How it is drawn.
    pub mark: Mark,
}

impl LegendItem {
    /// An area or a bar of `colour`.
    pub(crate) fn fill(label: impl Into<String>, colour: impl Color) -> Self {
        LegendItem {
            label: label.into(),
            mark: Mark::Fill(colour.to_rgba()),
        }
    }

    /// A solid line of `colour`.
    pub(crate) fn line(label: impl Into<String>, colour: RGBColor) -> Self {
        LegendItem {
            label: label.into(),
            mark: Mark::Line(colour),
        }
    }

    /// A line of `colour` over a `halo` (see [`outlined`]).
    pub(crate) fn outlined(label: impl Into<String>, colour: RGBColor, halo: RGBColor) -> Self {
        LegendItem {
            label: label.into(),
            mark: Mark::Outlined(colour, halo),
        }
    }

    /// A dashed line of `colour`.
    pub(crate) fn dashed(label: impl Into<String>, colour: RGBColor) -> Self {
        LegendItem {
            label: label.into(),
            mark: Mark::Dashed(colour),
        }
    }
}

/// Width of a legend swatch \[px\].
const SWATCH: i32 = 20;
/// Space between a legend swatch and its label \[px\].
const SWATCH_GAP: i32 = 6;
/// Space between two legend entries \[px\].
const ITEM_GAP: i32 = 22;

/// The legend's entries packed into rows that fit the canvas width (indices into `items`).
fn legend_rows(root: &Area<'_>, items: &[LegendItem]) -> Vec<Vec<(usize, i32)>> {
    let style = text_style(LABEL_SIZE, HPos::Left, VPos::Center);
    let max = WIDTH as i32 - 40;
    let mut rows: Vec<Vec<(usize, i32)>> = Vec::new();
    let mut used = 0;
    for (i, item) in items.iter().enumerate() {
        let text = root
            .estimate_text_size(&item.label, &style)
            .map_or(0, |(w, _)| w as i32);
        let width = SWATCH + SWATCH_GAP + text;
        let needed = if used == 0 { width } else { ITEM_GAP + width };
        match rows.last_mut() {
            Some(row) if used + needed <= max => {
                row.push((i, width));
                used += needed;
            }
            _ => {
                rows.push(vec![(i, width)]);
                used = width;
            }
        }
    }
    rows
}

/// Draws the legend rows centred in `area`.
fn draw_legend(area: &Area<'_>, items: &[LegendItem], rows: &[Vec<(usize, i32)>]) -> Drawn {
    let style = text_style(LABEL_SIZE, HPos::Left, VPos::Center);
    let (width, _) = area.dim_in_pixel();
    for (r, row) in rows.iter().enumerate() {
        let total: i32 =
            row.iter().map(|(_, w)| w).sum::<i32>() + ITEM_GAP * (row.len() as i32 - 1);
        let mut x = (width as i32 - total) / 2;
        let y = 4 + r as i32 * LEGEND_ROW as i32 + LEGEND_ROW as i32 / 2;
        for &(i, w) in row {
            let item = &items[i];
            match item.mark {
                Mark::Fill(c) => area.draw(&Rectangle::new(
                    [(x, y - 7), (x + SWATCH, y + 7)],
                    c.filled(),
                ))?,
                Mark::Line(c) => area.draw(&PathElement::new(
                    vec![(x, y), (x + SWATCH, y)],
                    c.stroke_width(3),
                ))?,
                Mark::Outlined(c, halo) => {
                    area.draw(&PathElement::new(
                        vec![(x, y), (x + SWATCH, y)],
                        halo.stroke_width(5),
                    ))?;
                    area.draw(&PathElement::new(
                        vec![(x + 1, y), (x + SWATCH - 1, y)],
                        c.stroke_width(3),
                    ))?;
                }
                Mark::Blank => {}
                Mark::Dashed(c) => {
                    for k in 0..3 {
                        let x0 = x + k * 8;
                        area.draw(&PathElement::new(
                            vec![(x0, y), (x0 + 5, y)],
                            c.stroke_width(2),
                        ))?;
                    }
                }
            }
            area.draw(&Text::new(
                item.label.as_str(),
                (x + SWATCH + SWATCH_GAP, y),
                style.clone(),
            ))?;
            x += w + ITEM_GAP;
        }
    }
    Ok(())
}

/// The legend entry for shaded fault windows.
pub(crate) fn fault_legend() -> LegendItem {
    LegendItem::fill("fault window", palette::GREY.mix(0.35))
}

/// The colour of axis lines and ticks.
pub(crate) const AXIS: RGBColor = RGBColor(80, 80, 80);

/// A tick label: [`number`] (no `.0` on whole numbers).
fn tick(v: &f64) -> String {
    number(*v)
}

/// Sets the fonts, grid and tick labels of a mesh (the same on every chart) and its axis
/// descriptions; a chart may override the tick labels after.
pub(crate) fn style_mesh<X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    mesh: &mut MeshStyle<'_, '_, X, Y, SVGBackend<'_>>,
    x_desc: &str,
    y_desc: &str,
) {
    mesh.x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, DESC_SIZE))
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(WHITE.mix(0.0))
        .axis_style(AXIS)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick);
}

/// Sets the fonts, axis colour and tick labels of a secondary (right) y axis.
pub(crate) fn style_secondary<X, Y>(
    axes: &mut SecondaryMeshStyle<'_, '_, X, Y, SVGBackend<'_>>,
    y_desc: &str,
) where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    axes.y_desc(y_desc)
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, DESC_SIZE))
        .axis_style(AXIS)
        .y_label_formatter(&tick);
}

/// A valid axis range from `lo` to `hi`: finite, and widened when it is empty or inverted, so
/// that plotters never meets NaN, infinity or a zero-width range.
pub(crate) fn range(lo: f64, hi: f64) -> Range<f64> {
    let lo = if lo.is_finite() { lo } else { 0.0 };
    let hi = if hi.is_finite() { hi } else { lo + 1.0 };
    if hi > lo && (hi - lo) > lo.abs() * 1e-9 {
        lo..hi
    } else {
        let pad = (lo.abs() * 0.05).max(0.5);
        lo - pad..lo + pad
    }
}

/// The range of a count or rate axis: from 0 to 10 % above `max`, or 0..1 when `max` is 0 or
/// not a number (all-zero series still get a valid, labelled axis).
pub(crate) fn upto(max: f64) -> Range<f64> {
    if max.is_finite() && max > 0.0 {
        range(0.0, max * 1.1)
    } else {
        0.0..1.0
    }
}

/// The largest finite value of `values`, or 0 when there is none.
pub(crate) fn max_finite(values: impl IntoIterator<Item = f64>) -> f64 {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

/// `v` when it is finite, else 0 (for stacked areas, which cannot have gaps).
pub(crate) fn finite_or_zero(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

/// The unit of a time axis: seconds, or minutes for runs longer than
/// [`TimeUnit::MINUTES_AFTER_S`] (so that the labels stay short and readable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeUnit {
    /// Seconds: `time [s]`.
    Seconds,
    /// Minutes: `time [min]`.
    Minutes,
}

impl TimeUnit {
    /// Runs longer than this \[s\] (10 min) get a time axis in minutes.
    pub(crate) const MINUTES_AFTER_S: f64 = 600.0;

    /// The unit for a time axis that ends at `end_s`.
    pub(crate) fn for_run(end_s: f64) -> TimeUnit {
        if end_s > Self::MINUTES_AFTER_S {
            TimeUnit::Minutes
        } else {
            TimeUnit::Seconds
        }
    }

    /// `t_s` seconds in this unit.
    pub(crate) fn of(self, t_s: f64) -> f64 {
        match self {
            TimeUnit::Seconds => t_s,
            TimeUnit::Minutes => t_s / 60.0,
        }
    }

    /// The axis description.
    pub(crate) fn label(self) -> &'static str {
        match self {
            TimeUnit::Seconds => "time [s]",
            TimeUnit::Minutes => "time [min]",
        }
    }
}

/// The series' bucket width \[s\]: `series.bucket_s` when it is a positive number, else 1 s
/// (only a hand-made report lacks one), so that rates never divide by zero.
pub(crate) fn bucket_width(report: &Report) -> f64 {
    let b = report.series.bucket_s;
    if b.is_finite() && b > 0.0 {
        b
    } else {
        1.0
    }
}

/// Start and end \[s\] of each of `n` buckets: bucket `i` covers `[i·w, (i+1)·w)`, except that
/// the last one ends with the run when the run ended inside it (a partial bucket).
pub(crate) fn spans(report: &Report, n: usize) -> Vec<(f64, f64)> {
    let w = bucket_width(report);
    let end = report.duration_s;
    (0..n)
        .map(|i| {
            let start = i as f64 * w;
            let full = start + w;
            if i + 1 == n && end.is_finite() && end > start && end < full {
                (start, end)
            } else {
                (start, full)
            }
        })
        .collect()
}

/// Where a time axis ends \[s\]: the end of the run, or of the last bucket if that is later
/// (so every point is on the chart); 1 s when there is neither.
pub(crate) fn axis_end(report: &Report, spans: &[(f64, f64)]) -> f64 {
    let duration = if report.duration_s.is_finite() && report.duration_s > 0.0 {
        report.duration_s
    } else {
        0.0
    };
    let last = spans.last().map_or(0.0, |&(_, end)| end);
    let end = duration.max(last);
    if end > 0.0 {
        end
    } else {
        1.0
    }
}

/// The fault windows of the report clipped to `[0, end_s]` \[s\], with their labels; windows
/// wholly outside the run (or with no valid times) are left out.
pub(crate) fn fault_windows(report: &Report, end_s: f64) -> Vec<(f64, f64, &str)> {
    report
        .faults
        .iter()
        .filter_map(|f| {
            let start = if f.start_s.is_finite() {
                f.start_s.max(0.0)
            } else {
                return None;
            };
            let end = if f.end_s.is_nan() {
                return None;
            } else {
                f.end_s.min(end_s)
            };
            (end > start).then_some((start, end, f.label.as_str()))
        })
        .collect()
}

/// Shades the fault windows (in seconds) on `chart`, whose x axis is in `unit`, across `y`:
/// the time covered by at least one window, in the one grey of the legend (overlapping
/// windows are shaded once, not stacked into a darker grey the legend does not show). Drawn
/// before the data, so that the data stays on top.
pub(crate) fn shade_faults(
    chart: &mut Plane<'_, '_>,
    windows: &[(f64, f64, &str)],
    unit: TimeUnit,
    y: &Range<f64>,
) -> Drawn {
    let fill = palette::GREY.mix(0.35).filled();
    chart.draw_series(fault_cover(windows).into_iter().map(|(start, end)| {
        Rectangle::new([(unit.of(start), y.start), (unit.of(end), y.end)], fill)
    }))?;
    Ok(())
}

/// The time covered by `windows` \[s\] as disjoint intervals in time order: overlapping or
/// touching windows merged.
pub(crate) fn fault_cover(windows: &[(f64, f64, &str)]) -> Vec<(f64, f64)> {
    let mut spans: Vec<(f64, f64)> = windows.iter().map(|&(a, b, _)| (a, b)).collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut cover: Vec<(f64, f64)> = Vec::new();
    for (a, b) in spans {
        match cover.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => cover.push((a, b)),
        }
    }
    cover
}

/// Rows of fault labels [`label_faults`] writes at the top of a chart (at most three).
pub(crate) fn fault_label_rows(windows: &[(f64, f64, &str)]) -> usize {
    windows.len().min(3)
}

/// Writes each fault window's label at the top of its window, in up to three staggered rows
/// so that neighbouring labels do not overlap; windows in the right half of the axis are
/// labelled leftwards from their end so that the text stays on the chart.
pub(crate) fn label_faults(
    chart: &mut Plane<'_, '_>,
    windows: &[(f64, f64, &str)],
    unit: TimeUnit,
    x: &Range<f64>,
    y_top: f64,
) -> Drawn {
    let middle = (x.start + x.end) / 2.0;
    let ink = RGBColor(60, 60, 60);
    for (k, &(start, end, label)) in windows.iter().enumerate() {
        let dy = 4 + (k % 3) as i32 * 18;
        let (at, dx, h) = if unit.of(start) > middle {
            (unit.of(end), -4, HPos::Right)
        } else {
            (unit.of(start), 4, HPos::Left)
        };
        let style = text_style(LABEL_SIZE, h, VPos::Top).color(&ink);
        chart.draw_series(std::iter::once(
            EmptyElement::at((at, y_top)) + Text::new(label.to_string(), (dx, dy), style),
        ))?;
    }
    Ok(())
}

/// A line with gaps: runs of consecutive `(x, y)` points.
pub(crate) type Runs = Vec<Vec<(f64, f64)>>;

/// The runs of consecutive points with a finite value, for a line with gaps where the value
/// is missing.
pub(crate) fn runs(points: impl IntoIterator<Item = (f64, Option<f64>)>) -> Runs {
    let mut runs: Runs = Vec::new();
    let mut current = Vec::new();
    for (x, y) in points {
        match y {
            Some(y) if y.is_finite() && x.is_finite() => current.push((x, y)),
            _ => {
                if !current.is_empty() {
                    runs.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// Points per line above which lines are drawn thinner: past about one point per two pixels
/// of the plot, a 2 px line over a 4 px halo turns into a smear.
const DENSE: usize = 300;

/// The elements of a line with gaps (the runs of [`runs`]) in `colour` over a white halo, so
/// that it stays readable on top of filled areas; a run of a single point becomes a dot. For
/// `draw_series` or `draw_secondary_series` alike.
pub(crate) fn line<'a>(
    runs: &[Vec<(f64, f64)>],
    colour: RGBColor,
) -> Vec<DynElement<'static, SVGBackend<'a>, (f64, f64)>> {
    outlined(runs, colour, WHITE)
}

/// The elements of a line with gaps as [`line()`], over a `halo` of another colour: a light line
/// over a dark halo stands out on light and dark areas alike. Lines of more than [`DENSE`]
/// points are drawn 1 px wide over a 3 px halo instead of 2 over 4.
pub(crate) fn outlined<'a>(
    runs: &[Vec<(f64, f64)>],
    colour: RGBColor,
    halo: RGBColor,
) -> Vec<DynElement<'static, SVGBackend<'a>, (f64, f64)>> {
    let points: usize = runs.iter().map(Vec::len).sum();
    let width = if points > DENSE { 1 } else { 2 };
    let mut elements = Vec::with_capacity(runs.len() * 2);
    for run in runs {
        if let [point] = run.as_slice() {
            elements.push(Circle::new(*point, 4, halo.filled()).into_dyn());
            elements.push(Circle::new(*point, 3, colour.filled()).into_dyn());
        } else {
            let under = halo.stroke_width(width + 2);
            elements.push(PathElement::new(run.clone(), under).into_dyn());
            let over = colour.stroke_width(width);
            elements.push(PathElement::new(run.clone(), over).into_dyn());
        }
    }
    elements
}

/// Draws stacked bands: `layers[k][i]` is layer k's thickness at `xs[i]`; layer 0 is at the
/// bottom. Each band is one polygon in `colours[k]`; layers that are zero everywhere are
/// skipped. Returns nothing; the caller adds legend entries for the layers it shows.
pub(crate) fn draw_stack(
    chart: &mut Plane<'_, '_>,
    xs: &[f64],
    layers: &[Vec<f64>],
    colours: &[RGBColor],
) -> Drawn {
    let mut below = vec![0.0; xs.len()];
    for (layer, &colour) in layers.iter().zip(colours) {
        let above: Vec<f64> = below
            .iter()
            .zip(layer)
            .map(|(b, v)| b + finite_or_zero(*v).max(0.0))
            .collect();
        if layer.iter().any(|v| finite_or_zero(*v) > 0.0) {
            let mut outline: Vec<(f64, f64)> =
                xs.iter().copied().zip(above.iter().copied()).collect();
            outline.extend(xs.iter().copied().zip(below.iter().copied()).rev());
            chart.draw_series(std::iter::once(Polygon::new(outline, colour.filled())))?;
        }
        below = above;
    }
    Ok(())
}

/// `v` with about three significant digits and no trailing zeros (0.00123, 12.3, 524, 2981),
/// for labels; `n/a` when it is not a number.
pub(crate) fn number(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let magnitude = v.abs().log10().floor();
    let decimals = (2.0 - magnitude).clamp(0.0, 9.0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_longer_than_ten_minutes_use_minutes() {
        assert_eq!(TimeUnit::for_run(600.0), TimeUnit::Seconds);
        assert_eq!(TimeUnit::for_run(720.0), TimeUnit::Minutes);
        assert_eq!(TimeUnit::for_run(f64::NAN), TimeUnit::Seconds);
        assert_eq!(TimeUnit::Minutes.of(90.0), 1.5);
        assert_eq!(TimeUnit::Minutes.label(), "time [min]");
        assert_eq!(TimeUnit::Seconds.label(), "time [s]");
    }

    #[test]
    fn overlapping_fault_windows_are_shaded_once() {
        let w = [
            (60.0, 90.0, "a"),
            (10.0, 20.0, "b"),
            (60.0, 90.0, "c"),
            (85.0, 100.0, "d"),
            (20.0, 30.0, "e"),
        ];
        assert_eq!(fault_cover(&w), [(10.0, 30.0), (60.0, 100.0)]);
        assert_eq!(fault_label_rows(&w), 3);
        assert!(fault_cover(&[]).is_empty());
    }

    #[test]
    fn ranges_are_always_valid() {
        for (lo, hi) in [
            (0.0, 0.0),
            (1.0, 1.0),
            (5.0, 2.0),
            (f64::NAN, 3.0),
            (0.0, f64::INFINITY),
            (f64::NEG_INFINITY, f64::NAN),
            (1e12, 1e12),
        ] {
            let r = range(lo, hi);
            assert!(
                r.start.is_finite() && r.end.is_finite() && r.end > r.start,
                "{r:?}"
            );
        }
        assert_eq!(upto(0.0), 0.0..1.0);
        assert_eq!(upto(f64::NAN), 0.0..1.0);
        assert_eq!(upto(10.0), 0.0..11.0);
    }

    #[test]
    fn numbers_have_three_significant_digits() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(0.001234), "0.00123");
        assert_eq!(number(12.3456), "12.3");
        assert_eq!(number(523.5), "524");
        assert_eq!(number(2981.0), "2981");
        assert_eq!(number(1.0), "1");
        assert_eq!(number(f64::NAN), "n/a");
    }

    #[test]
    fn gaps_split_lines() {
        let r = runs([
            (0.0, Some(1.0)),
            (1.0, None),
            (2.0, Some(2.0)),
            (3.0, Some(f64::NAN)),
            (4.0, Some(3.0)),
            (5.0, Some(4.0)),
        ]);
        assert_eq!(
            r,
            vec![
                vec![(0.0, 1.0)],
                vec![(2.0, 2.0)],
                vec![(4.0, 3.0), (5.0, 4.0)]
            ]
        );
    }

    #[test]
    fn a_failed_drawing_shows_its_error() {
        let svg = failure_svg("a <title>", "boom & bust");
        assert!(svg.contains("a &lt;title&gt;"));
        assert!(svg.contains("boom &amp; bust"));
    }
}

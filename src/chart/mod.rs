//! Pictures of a run: SVG charts drawn with plotters from a [`Report`] alone.
//!
//! Everything here reads the report (never the model or the engine), so the same charts come
//! from a live run and from a saved `report.json` (`microsim chart report.json --out DIR`).
//! Charts for features a topology does not use are left out rather than drawn empty. The
//! output is deterministic: the same report gives byte-identical SVG text (plotters' SVG
//! backend with its built-in text metrics, no system fonts).
//!
//! One module per kind of chart; [`palette`] holds the colours they share (one colour per
//! outcome everywhere, from a colour-blind-safe palette).

use crate::report::Report;

pub mod availability;
mod axes;
pub mod breakers;
pub mod diagram;
pub mod experiment;
pub mod latency;
pub mod palette;
pub mod queues;
pub mod retries;
pub mod threads;
pub mod timeline;

/// One rendered chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chart {
    /// File name to write it under, e.g. `timeline-checkout.svg` (unique within a report;
    /// made of `[a-z0-9-.]` only, so that it is safe on every file system and in a URL).
    pub file: String,
    /// Human title, as drawn on the chart (used as the caption in the HTML report).
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// Every chart that applies to `report`, in the order the HTML report shows them: the
/// topology diagram, then per entry point, then per service, then the broker.
pub fn render_all(report: &Report) -> Vec<Chart> {
    let mut charts = Vec::new();
    charts.extend(diagram::render(report));
    charts.extend(timeline::render(report));
    charts.extend(latency::render(report));
    charts.extend(availability::render(report));
    charts.extend(threads::render(report));
    charts.extend(retries::render(report));
    charts.extend(breakers::render(report));
    charts.extend(queues::render(report));
    charts
}

/// `text` escaped for XML and HTML text and quoted attribute values: the five special
/// characters become references (`'` as `apostrophe`: `&apos;` in SVG, `&#39;` in HTML,
/// where older browsers lack `&apos;`), and characters XML forbids (controls other than
/// tab and line breaks, U+FFFE, U+FFFF) become U+FFFD, so a name read from a topology file
/// can never break the document.
pub(crate) fn escape_markup(text: &str, apostrophe: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str(apostrophe),
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            '\u{FFFE}' | '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A file-name-safe slug of `name`: lower-case ASCII letters and digits, other runs of
/// characters replaced by one `-`.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "x".to_string()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_file_names() {
        assert_eq!(slug("Checkout API"), "checkout-api");
        assert_eq!(slug("orders/placed v2"), "orders-placed-v2");
        assert_eq!(slug("--"), "x");
    }
}

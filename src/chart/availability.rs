//! (to be written: the availability chart)

use super::Chart;
use crate::report::Report;

/// The availability charts that apply to `report` (none yet).
pub fn render(report: &Report) -> Vec<Chart> {
    let _ = report;
    Vec::new()
}

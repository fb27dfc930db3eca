//! (to be written: the latency chart)

use super::Chart;
use crate::report::Report;

/// The latency charts that apply to `report` (none yet).
pub fn render(report: &Report) -> Vec<Chart> {
    let _ = report;
    Vec::new()
}

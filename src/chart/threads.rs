//! (to be written: the threads chart)

use super::Chart;
use crate::report::Report;

/// The threads charts that apply to `report` (none yet).
pub fn render(report: &Report) -> Vec<Chart> {
    let _ = report;
    Vec::new()
}

//! (to be written: the timeline chart)

use super::Chart;
use crate::report::Report;

/// The timeline charts that apply to `report` (none yet).
pub fn render(report: &Report) -> Vec<Chart> {
    let _ = report;
    Vec::new()
}

//! (to be written: the queues chart)

use super::Chart;
use crate::report::Report;

/// The queues charts that apply to `report` (none yet).
pub fn render(report: &Report) -> Vec<Chart> {
    let _ = report;
    Vec::new()
}

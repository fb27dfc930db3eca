//! (to be written: the diagram chart)

use super::Chart;
use crate::report::Report;

/// The diagram charts that apply to `report` (none yet).
pub fn render(report: &Report) -> Vec<Chart> {
    let _ = report;
    Vec::new()
}

//! (to be written: the breakers chart)

use super::Chart;
use crate::report::Report;

/// The breakers charts that apply to `report` (none yet).
pub fn render(report: &Report) -> Vec<Chart> {
    let _ = report;
    Vec::new()
}

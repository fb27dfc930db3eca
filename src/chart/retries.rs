//! (to be written: the retries chart)

use super::Chart;
use crate::report::Report;

/// The retries charts that apply to `report` (none yet).
pub fn render(report: &Report) -> Vec<Chart> {
    let _ = report;
    Vec::new()
}

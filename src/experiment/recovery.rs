//! Recovery after a fault, and collapse: does availability come back, and how fast?
//!
//! Per replication and entry point, from an instant `from` (by default the end of the last
//! fault of the timeline), the **recovery time** is the time until availability stays at or
//! above a threshold: the start of the first time-series bucket from which every bucket to
//! the end of the run has `(ok + degraded) / answered ≥ threshold` (a bucket with nothing
//! answered counts as below it). The run must show at least [`RecoverySpec::hold`] buckets of
//! that; otherwise the replication **did not recover** by the end of the run. A model that is
//! bistable (a retry storm that sustains itself after its trigger is gone) collapses in some
//! replications and recovers in others: the fraction that collapsed, with its Wilson interval
//! across replications, is the probability of collapse, and a sweep of it over load or retry
//! settings is a metastability map.

use crate::report::Report;

/// When to start counting and what counts as recovered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecoverySpec {
    /// Availability at or above this is recovered (e.g. 0.99).
    pub threshold: f64,
    /// Measure from this instant \[s\] instead of the end of the last fault.
    pub from_s: Option<f64>,
    /// Buckets at the end of the run that must show recovery (default 5).
    pub hold: usize,
}

impl Default for RecoverySpec {
    fn default() -> Self {
        RecoverySpec {
            threshold: 0.99,
            from_s: None,
            hold: 5,
        }
    }
}

/// What one replication shows for one entry point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Recovery {
    /// Availability stays at or above the threshold from this long after `from` \[s\].
    Recovered(f64),
    /// It does not, up to the end of the run.
    Collapsed,
}

/// The instant recovery is measured from: `spec.from_s`, else the end of the last fault
/// that ends before the run does; `None` when there is neither.
pub fn start_s(report: &Report, spec: &RecoverySpec) -> Option<f64> {
    spec.from_s.or_else(|| {
        report
            .faults
            .iter()
            .map(|f| f.end_s)
            .filter(|&e| e < report.duration_s)
            .fold(None, |m: Option<f64>, e| Some(m.map_or(e, |m| m.max(e))))
    })
}

/// Recovery of every entry point of `report`, in entry order; `None` per entry when there is
/// nothing to measure from (no fault and no `from_s`) or no bucket after it.
pub fn recoveries(report: &Report, spec: &RecoverySpec) -> Vec<Option<Recovery>> {
    let Some(from) = start_s(report, spec) else {
        return vec![None; report.series.entries.len()];
    };
    let width = report.series.bucket_s;
    report
        .series
        .entries
        .iter()
        .map(|e| {
            let good: Vec<bool> = (0..e.ok.len())
                .map(|b| {
                    let ok = e.ok[b] + e.degraded.get(b).copied().unwrap_or(0);
                    let answered = ok
                        + e.error[b]
                        + e.timeout[b]
                        + e.rejected[b]
                        + e.circuit_open[b]
                        + e.unavailable[b];
                    answered > 0 && ok as f64 >= spec.threshold * answered as f64
                })
                .collect();
            let first = good
                .iter()
                .enumerate()
                .position(|(b, _)| b as f64 * width >= from - 1e-9)?;
            // The start of the good tail of the run.
            let tail = good.iter().rev().take_while(|&&g| g).count();
            let start = good.len() - tail;
            if tail < spec.hold.max(1) || good.len() - first < spec.hold.max(1) {
                return Some(Recovery::Collapsed);
            }
            let k = start.max(first);
            Some(Recovery::Recovered((k as f64 * width - from).max(0.0)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{EntrySeries, FaultWindow};

    fn report(ok: &[u64], errors: &[u64], fault_end: f64) -> Report {
        let json = crate::model::parse(
            r#"Topology(workload: [(name: "e", entry: "s", arrivals: Poisson(per_second: 1))],
                services: { "s": () })"#,
            "t",
        )
        .unwrap()
        .run(&crate::engine::RunOptions {
            duration: Some(crate::time::SimDuration::from_secs(1)),
            ..Default::default()
        })
        .unwrap();
        let mut r = json;
        r.duration_s = ok.len() as f64;
        r.series.bucket_s = 1.0;
        r.faults = vec![FaultWindow {
            label: "f".into(),
            start_s: 0.0,
            end_s: fault_end,
        }];
        let n = ok.len();
        r.series.entries = vec![EntrySeries {
            name: "e".into(),
            ok: ok.to_vec(),
            error: errors.to_vec(),
            timeout: vec![0; n],
            rejected: vec![0; n],
            circuit_open: vec![0; n],
            unavailable: vec![0; n],
            degraded: vec![0; n],
            p99_ms: vec![None; n],
            slices: vec![],
        }];
        r
    }

    #[test]
    fn recovery_is_the_start_of_the_good_tail_after_the_fault() {
        let r = report(
            &[10, 0, 0, 5, 10, 10, 10, 10, 10, 10],
            &[0, 10, 10, 5, 0, 0, 0, 0, 0, 0],
            2.0,
        );
        let spec = RecoverySpec::default();
        assert_eq!(recoveries(&r, &spec), [Some(Recovery::Recovered(2.0))]);
        // Measured from later: recovered at once.
        let spec = RecoverySpec {
            from_s: Some(5.0),
            ..spec
        };
        assert_eq!(recoveries(&r, &spec), [Some(Recovery::Recovered(0.0))]);
    }

    #[test]
    fn a_run_that_never_comes_back_collapsed() {
        let r = report(
            &[10, 0, 0, 0, 0, 0, 0, 0, 10, 10],
            &[0, 10, 10, 10, 10, 10, 10, 10, 0, 0],
            2.0,
        );
        // Two good buckets at the end are fewer than the five required.
        assert_eq!(
            recoveries(&r, &RecoverySpec::default()),
            [Some(Recovery::Collapsed)]
        );
        // A bucket with nothing answered is not available.
        let r = report(&[10, 0, 0, 0, 0, 0, 0, 0, 0, 0], &[0; 10], 2.0);
        assert_eq!(
            recoveries(&r, &RecoverySpec::default()),
            [Some(Recovery::Collapsed)]
        );
    }

    #[test]
    fn nothing_to_measure_without_a_fault() {
        let mut r = report(&[10; 10], &[0; 10], 2.0);
        r.faults.clear();
        assert_eq!(recoveries(&r, &RecoverySpec::default()), [None]);
    }
}

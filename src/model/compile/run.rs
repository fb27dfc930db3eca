//! Run settings (`run:`): duration, warm-up, time-series bucket, seed and the safety caps.
//!
//! Checked in file order of the fields: the duration (a duration longer than 0), the warm-up
//! (shorter than the run), the bucket (longer than 0), then the caps on requests in flight
//! and on events at one instant (each at least 1). A value that does not parse falls back to
//! its default, so that the later checks still run.

use super::Compiler;
use crate::model::RunConfig;
use crate::spec::RunSpec;
use crate::time::SimDuration;

/// Default simulated duration.
pub const DEFAULT_DURATION: SimDuration = SimDuration::from_secs(60);
/// Default time-series bucket.
pub const DEFAULT_BUCKET: SimDuration = SimDuration::from_secs(1);
/// Default cap on requests in flight.
pub const DEFAULT_MAX_IN_FLIGHT: u64 = 1_000_000;
/// Default cap on events at one virtual instant (the Zeno guard). The busiest instant of any
/// bundled topology has 4,653 events (`no-breaker.ron`, when its 5-minute hang ends and the
/// requests it held are all answered at once; the others stay below 200 —
/// `tests/suite/reliability.rs` keeps them far below this cap). A legitimate burst at one
/// instant is bounded by the work alive at once (`max_in_flight` requests, a few steps each):
/// ten times the default in-flight cap leaves room for that, and still stops a model that
/// loops in zero time within a second or so of a release build.
pub const DEFAULT_MAX_EVENTS_PER_INSTANT: u64 = 10_000_000;
/// Most time-series buckets a run keeps; a finer `bucket` is widened to fit.
pub const MAX_BUCKETS: u64 = 100_000;
/// Most values a run's time series hold in all (buckets × series: 8 per entry point, 2 plus
/// one per occupancy state per service, 2 per call step, consumer group and work queue);
/// a finer `bucket` is widened to fit, so that memory and the report grow with what is
/// reported (10⁷ values: 80 MB in memory) rather than with services × buckets.
pub const MAX_SERIES_VALUES: u64 = 10_000_000;

impl Compiler<'_> {
    /// The run settings, defaults filled in.
    pub(super) fn run(&mut self, run: &RunSpec) -> RunConfig {
        let duration = self.run_duration(run);
        let warmup = self.warmup(run, duration);
        let bucket = self.bucket(run);
        let max_in_flight = run.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT);
        if max_in_flight == 0 {
            self.at("run.max_in_flight")
                .push("the cap on requests in flight must be at least 1");
        }
        let max_events_per_instant = run
            .max_events_per_instant
            .unwrap_or(DEFAULT_MAX_EVENTS_PER_INSTANT);
        if max_events_per_instant == 0 {
            self.at("run.max_events_per_instant")
                .push("the cap on events at one instant must be at least 1 (every event counts)");
        }
        RunConfig {
            duration,
            warmup,
            seed: run.seed.unwrap_or(1),
            bucket,
            max_in_flight,
            max_events_per_instant,
        }
    }

    /// `run.duration`: longer than 0.
    fn run_duration(&mut self, run: &RunSpec) -> SimDuration {
        let duration = self
            .optional_duration("run.duration", &run.duration)
            .unwrap_or(DEFAULT_DURATION);
        if duration == SimDuration::ZERO {
            self.at("run.duration")
                .push("the run must last longer than 0");
        }
        duration
    }

    /// `run.warmup`: shorter than the run, or nothing would be measured.
    fn warmup(&mut self, run: &RunSpec, duration: SimDuration) -> SimDuration {
        let warmup = self
            .optional_duration("run.warmup", &run.warmup)
            .unwrap_or_default();
        if warmup >= duration && duration > SimDuration::ZERO {
            self.at("run.warmup").push(format!("the warm-up ({warmup}) must be shorter than the run ({duration}); nothing would be measured"));
        }
        warmup
    }

    /// `run.bucket`: longer than 0 (the default stands in for a bad one).
    fn bucket(&mut self, run: &RunSpec) -> SimDuration {
        let bucket = self
            .optional_duration("run.bucket", &run.bucket)
            .unwrap_or(DEFAULT_BUCKET);
        if bucket == SimDuration::ZERO {
            self.at("run.bucket")
                .push("the time-series bucket must be longer than 0");
            return DEFAULT_BUCKET;
        }
        bucket
    }
}

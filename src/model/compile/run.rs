//! Run settings (`run:`): duration, warm-up, time-series bucket, seed and the safety caps.
//!
//! Checked in file order of the fields: the duration (a duration longer than 0), the warm-up
//! (shorter than the run), the bucket (longer than 0), then the caps on requests in flight
//! and on events at one instant (each at least 1). A value that does not parse falls back to
//! its default, so that the later checks still run.
//!
//! The rules on values already read (a duration longer than 0, a warm-up shorter than it, a
//! cap on events at one instant of at least 1) are functions of their own, shared with the
//! settings a run gives in place of the file's ([`RunConfig::with_run_settings`]), so that
//! both refuse a value with one message.

use super::Compiler;
use crate::error::Problem;
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
        self.problems
            .extend(max_events_per_instant_rule(max_events_per_instant));
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
        self.problems.extend(duration_rule(duration));
        duration
    }

    /// `run.warmup`: shorter than the run, or nothing would be measured.
    fn warmup(&mut self, run: &RunSpec, duration: SimDuration) -> SimDuration {
        let warmup = self
            .optional_duration("run.warmup", &run.warmup)
            .unwrap_or_default();
        if duration > SimDuration::ZERO {
            self.problems.extend(warmup_rule(warmup, duration));
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

/// `run.duration`: longer than 0.
fn duration_rule(duration: SimDuration) -> Option<Problem> {
    (duration == SimDuration::ZERO)
        .then(|| Problem::new("run.duration", "the run must last longer than 0"))
}

/// `run.warmup`: shorter than the run, or nothing would be measured.
fn warmup_rule(warmup: SimDuration, duration: SimDuration) -> Option<Problem> {
    (warmup >= duration).then(|| {
        Problem::new(
            "run.warmup",
            format!("the warm-up ({warmup}) must be shorter than the run ({duration}); nothing would be measured"),
        )
    })
}

/// `run.max_events_per_instant`: at least 1.
fn max_events_per_instant_rule(cap: u64) -> Option<Problem> {
    (cap == 0).then(|| {
        Problem::new(
            "run.max_events_per_instant",
            "the cap on events at one instant must be at least 1 (every event counts)",
        )
    })
}

impl RunConfig {
    /// These settings with a run's own seed, duration, warm-up and cap on events at one
    /// instant in place of the file's (`None` keeps the file's), checked by the rules of the
    /// file's `run:`: a value the file could not hold is refused with the message the file
    /// would get (at `run.duration`, `run.warmup`, `run.max_events_per_instant`). How
    /// [`crate::engine::RunOptions`] reach a run.
    pub fn with_run_settings(
        &self,
        seed: Option<u64>,
        duration: Option<SimDuration>,
        warmup: Option<SimDuration>,
        max_events_per_instant: Option<u64>,
    ) -> Result<RunConfig, Vec<Problem>> {
        let run = RunConfig {
            seed: seed.unwrap_or(self.seed),
            duration: duration.unwrap_or(self.duration),
            warmup: warmup.unwrap_or(self.warmup),
            max_events_per_instant: max_events_per_instant.unwrap_or(self.max_events_per_instant),
            ..self.clone()
        };
        let problems: Vec<Problem> = duration_rule(run.duration)
            .or_else(|| warmup_rule(run.warmup, run.duration))
            .into_iter()
            .chain(max_events_per_instant_rule(run.max_events_per_instant))
            .collect();
        if problems.is_empty() {
            Ok(run)
        } else {
            Err(problems)
        }
    }
}

//! Facts about call steps: calls started, attempts sent, retries, refusals, and how calls
//! ended as their callers saw them.

use super::Observer;
use crate::engine::calls::CallState;
use crate::engine::measurements::{BreakerReport, BreakerTransition, CallReport, CallSeries};
use crate::metrics::LatencyHistogram;
use crate::model::{CallEdge, CallId, Model};
use crate::outcome::{Outcome, Outcomes};
use crate::time::SimTime;

/// The measurements of one call step.
pub(super) struct CallObs {
    /// Original calls made after the warm-up.
    calls: u64,
    /// Attempts sent to the callee after the warm-up (original calls and retries).
    attempts: u64,
    /// Retries scheduled.
    retries: u64,
    /// Retries refused by the budget.
    retries_denied: u64,
    /// Attempts refused by an open breaker.
    not_permitted: u64,
    /// Attempts refused by a full bulkhead.
    bulkhead_rejections: u64,
    /// Final outcome per original call.
    outcomes: [u64; Outcome::COUNT],
    latency: LatencyHistogram,
    /// Original calls and attempts in the current bucket.
    bucket: [u64; 2],
    pub(super) series: CallSeries,
}

impl CallObs {
    pub(super) fn new(model: &Model, c: &CallEdge) -> Self {
        CallObs {
            calls: 0,
            attempts: 0,
            retries: 0,
            retries_denied: 0,
            not_permitted: 0,
            bulkhead_rejections: 0,
            outcomes: [0; Outcome::COUNT],
            latency: LatencyHistogram::new(),
            bucket: [0; 2],
            series: CallSeries {
                from: model.service_at(c.from).name.clone(),
                to: model.service_at(c.to).name.clone(),
                ..Default::default()
            },
        }
    }

    pub(super) fn close_bucket(&mut self) {
        self.series.calls.push(self.bucket[0]);
        self.series.attempts.push(self.bucket[1]);
        self.bucket = [0; 2];
    }

    pub(super) fn report(
        &self,
        model: &Model,
        m: &CallEdge,
        state: &CallState,
        end: u64,
    ) -> CallReport {
        CallReport {
            from: model.service_at(m.from).name.clone(),
            to: model.service_at(m.to).name.clone(),
            step: m.path.clone(),
            calls: self.calls,
            in_flight: self.calls.saturating_sub(self.outcomes.iter().sum::<u64>()),
            attempts: self.attempts,
            amplification: if self.calls == 0 {
                0.0
            } else {
                self.attempts as f64 / self.calls as f64
            },
            retries: self.retries,
            retries_denied: self.retries_denied,
            outcomes: Outcomes::from_counts(&self.outcomes),
            latency: self.latency.summary(),
            breaker: m.breaker.as_ref().map(|_| self.breaker_report(state, end)),
            bulkhead_rejections: self.bulkhead_rejections,
        }
    }

    /// Sums the breakers of one call step over its caller replicas.
    fn breaker_report(&self, state: &CallState, end: u64) -> BreakerReport {
        let mut r = BreakerReport {
            not_permitted: self.not_permitted,
            ..Default::default()
        };
        for (replica, e) in state.per_replica.iter().enumerate() {
            let Some(b) = &e.breaker else { continue };
            let [closed, open, half] = b.time_in_states(SimTime(end));
            r.closed_s += closed.as_secs_f64();
            r.open_s += open.as_secs_f64();
            r.half_open_s += half.as_secs_f64();
            r.transitions += b.transitions();
            r.log.extend(b.log().iter().map(|t| BreakerTransition {
                at_s: t.at.as_secs_f64(),
                replica: replica as u32,
                from: t.from.name().to_string(),
                to: t.to.name().to_string(),
            }));
        }
        r.log
            .sort_by(|a, b| a.at_s.total_cmp(&b.at_s).then(a.replica.cmp(&b.replica)));
        r
    }
}

/// Facts about call steps.
impl Observer {
    /// A strand starts call step `c` now (before its first attempt).
    #[inline]
    pub(in crate::engine) fn call_started(&mut self, c: CallId, now: u64) {
        let counts = self.counts(now);
        let obs = &mut self.calls[c.0 as usize];
        if counts {
            obs.calls += 1;
        }
        obs.bucket[0] += 1;
    }

    /// An attempt of call step `c` goes to the callee now.
    #[inline]
    pub(in crate::engine) fn attempt_sent(&mut self, c: CallId, now: u64) {
        let counts = self.counts(now);
        let obs = &mut self.calls[c.0 as usize];
        if counts {
            obs.attempts += 1;
        }
        obs.bucket[1] += 1;
    }

    /// An open circuit breaker refused an attempt of call step `c` now.
    pub(in crate::engine) fn not_permitted(&mut self, c: CallId, now: u64) {
        if self.counts(now) {
            self.calls[c.0 as usize].not_permitted += 1;
        }
    }

    /// A bulkhead refused an attempt of call step `c` now (full, or waited too long).
    pub(in crate::engine) fn bulkhead_rejected(&mut self, c: CallId, now: u64) {
        if self.counts(now) {
            self.calls[c.0 as usize].bulkhead_rejections += 1;
        }
    }

    /// The retry budget refused a retry of call step `c` now.
    pub(in crate::engine) fn retry_denied(&mut self, c: CallId, now: u64) {
        if self.counts(now) {
            self.calls[c.0 as usize].retries_denied += 1;
        }
    }

    /// A retry of call step `c` is scheduled now.
    pub(in crate::engine) fn retried(&mut self, c: CallId, now: u64) {
        if self.counts(now) {
            self.calls[c.0 as usize].retries += 1;
        }
    }

    /// A call of step `c` that started at `started` ends now with `outcome` (after any
    /// retries, as its caller sees it).
    #[inline]
    pub(in crate::engine) fn call_ended(
        &mut self,
        c: CallId,
        started: u64,
        now: u64,
        outcome: Outcome,
    ) {
        if self.counts(started) {
            let obs = &mut self.calls[c.0 as usize];
            obs.outcomes[outcome.index()] += 1;
            obs.latency.record(now - started);
        }
    }
}

//! Facts about the clients of entry points: requests offered, and answers received.

use super::Observer;
use crate::engine::measurements::{EntryReport, EntrySeries, LatencySlice, TargetKind};
use crate::engine::TraceRecord;
use crate::metrics::compact::CompactHistogram;
use crate::metrics::LatencyHistogram;
use crate::model::{Destination, Entry, EntryId, EntryTarget, Model};
use crate::outcome::{Outcome, Outcomes};
use crate::time::{SimDuration, SimTime};

/// The measurements of one entry point.
pub(super) struct EntryObs {
    /// Requests that arrived after the warm-up.
    offered: u64,
    outcomes: [u64; Outcome::COUNT],
    latency: LatencyHistogram,
    /// Answers in the current bucket, by outcome, and their latency.
    bucket_counts: [u64; Outcome::COUNT],
    bucket_latency: LatencyHistogram,
    /// The latency of the current timeline slice: the merged histograms of its buckets.
    slice_latency: LatencyHistogram,
    /// Customers' end-to-end latency, for an entry point that sends to a work queue; two
    /// significant digits, as the services' waits (see `ServiceObs::wait`): M3 has twenty
    /// of these, and with three digits they cost it 2 % more time.
    end_to_end: Option<LatencyHistogram>,
    pub(super) series: EntrySeries,
}

impl EntryObs {
    pub(super) fn new(e: &Entry) -> Self {
        EntryObs {
            offered: 0,
            outcomes: [0; Outcome::COUNT],
            latency: LatencyHistogram::new(),
            bucket_counts: [0; Outcome::COUNT],
            bucket_latency: LatencyHistogram::with_precision(2),
            slice_latency: LatencyHistogram::with_precision(2),
            end_to_end: matches!(e.target, EntryTarget::Broker(Destination::Queue(_)))
                .then(|| LatencyHistogram::with_precision(2)),
            series: EntrySeries {
                name: e.name.clone(),
                ..Default::default()
            },
        }
    }

    pub(super) fn close_bucket(&mut self) {
        let s = &mut self.series;
        let counts = &self.bucket_counts;
        s.ok.push(counts[Outcome::Ok.index()]);
        s.error.push(counts[Outcome::Error.index()]);
        s.timeout.push(counts[Outcome::Timeout.index()]);
        s.rejected.push(counts[Outcome::Rejected.index()]);
        s.circuit_open.push(counts[Outcome::CircuitOpen.index()]);
        s.unavailable.push(counts[Outcome::Unavailable.index()]);
        s.degraded.push(counts[Outcome::Degraded.index()]);
        s.p99_ms.push(
            (self.bucket_latency.count() > 0)
                .then(|| self.bucket_latency.quantile_ns(0.99) as f64 / 1e6),
        );
        self.bucket_counts = [0; Outcome::COUNT];
        self.slice_latency.merge(&self.bucket_latency);
        self.bucket_latency.clear();
    }

    /// Closes the timeline slice from `from` to `to` \[ns\]: the answers in it, their mean
    /// and 99th percentile (from the merged bucket histograms).
    fn close_slice(&mut self, from: u64, to: u64) {
        let h = &self.slice_latency;
        let answered = h.count();
        self.series.slices.push(LatencySlice {
            from_s: from as f64 / 1e9,
            to_s: to as f64 / 1e9,
            answered,
            mean_ms: (answered > 0).then(|| h.mean_ns() / 1e6),
            p99_ms: (answered > 0).then(|| h.quantile_ns(0.99) as f64 / 1e6),
        });
        self.slice_latency.clear();
    }

    pub(super) fn report(&self, model: &Model, m: &Entry, measured_ns: f64) -> EntryReport {
        let measured_s = measured_ns / 1e9;
        let outcomes = Outcomes::from_counts(&self.outcomes);
        let answered = outcomes.total();
        let availability = if answered == 0 {
            0.0
        } else {
            outcomes.available() as f64 / answered as f64
        };
        EntryReport {
            name: m.name.clone(),
            service: match m.target {
                EntryTarget::Service(s) => model.service_at(s).name.clone(),
                EntryTarget::Broker(d) => model.destination_name(d).to_string(),
            },
            target: match m.target {
                EntryTarget::Service(_) => TargetKind::Service,
                EntryTarget::Broker(Destination::Topic(_)) => TargetKind::Topic,
                EntryTarget::Broker(Destination::Queue(_)) => TargetKind::Queue,
            },
            offered: self.offered,
            outcomes,
            in_flight: self.offered.saturating_sub(answered),
            availability,
            availability_se: if answered == 0 {
                0.0
            } else {
                (availability * (1.0 - availability) / answered as f64).sqrt()
            },
            throughput_per_s: answered as f64 / measured_s,
            goodput_per_s: outcomes.ok as f64 / measured_s,
            latency: self.latency.summary(),
            latency_cdf: self.latency.cdf(),
            end_to_end: self.end_to_end.as_ref().map(LatencyHistogram::summary),
            latency_histogram: CompactHistogram::of(&self.latency),
        }
    }
}

/// Facts about clients.
impl Observer {
    /// Closes the timeline slice that ends with the bucket ending at `b` (see
    /// [`crate::metrics::slices`]), and sets where the next one ends.
    pub(super) fn close_slice(&mut self, b: u64) {
        for e in &mut self.entries {
            e.close_slice(self.slice_start, b);
        }
        self.slice_start = b;
        self.slice_end = if b >= self.arrivals_end {
            u64::MAX
        } else {
            ((b / self.slice_width + 1) * self.slice_width).min(self.arrivals_end)
        };
    }

    /// A client of entry point `e` sends a request now.
    #[inline]
    pub(in crate::engine) fn offered(&mut self, e: EntryId, now: u64) {
        if self.counts(now) {
            self.entries[e.0 as usize].offered += 1;
        }
    }

    /// A customer of entry point `e` whose client sent it at `origin` is done: its last
    /// message left the broker now.
    pub(in crate::engine) fn customer_done(&mut self, e: EntryId, origin: u64, now: u64) {
        if self.counts(origin) {
            if let Some(h) = &mut self.entries[e.0 as usize].end_to_end {
                h.record(now - origin);
            }
        }
    }

    /// The client of entry point `e` that sent a request at `sent` has its answer now.
    #[inline]
    pub(in crate::engine) fn answered(
        &mut self,
        e: EntryId,
        outcome: Outcome,
        sent: u64,
        now: u64,
    ) {
        let latency = now - sent;
        let counts = self.counts(sent);
        let obs = &mut self.entries[e.0 as usize];
        if counts {
            obs.outcomes[outcome.index()] += 1;
            obs.latency.record(latency);
        }
        obs.bucket_counts[outcome.index()] += 1;
        obs.bucket_latency.record(latency);
        if let Some(trace) = &mut self.trace {
            trace.push(TraceRecord {
                time: SimTime(now),
                entry: e.0,
                outcome,
                latency: SimDuration(latency),
            });
        }
    }
}

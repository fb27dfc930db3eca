//! The observer: every counter, histogram, time average and time series of a run, in one
//! place that the event handlers only *tell* what happened.
//!
//! Handlers report facts — "a request reached a replica of service `s` at `t`", "a worker
//! took it", "a call attempt went out", "a consumer group processed a message published at
//! `t`" — and never touch a statistic themselves. The observer alone knows the warm-up (what
//! counts) and the buckets of the time series (when a bucket closes); at the end it hands
//! back plain [`Measurements`]. So a new measurement is one field and one fact here, and a
//! handler reads as the model's behaviour, not as bookkeeping.
//!
//! **What counts.** A request counts when it *arrived* after the warm-up (its service's
//! counters and latency), a client's request when it was *sent* after it (the entry point's),
//! a call when it *started* after it, a message when it was *published or sent* after it; time
//! averages integrate from the end of the warm-up. Time series cover the whole run.
//!
//! **Cost.** Every fact is a few adds on plain fields, inlined into its handler: nothing is
//! allocated per event (histograms and series grow amortised, as before).
//!
//! The facts are grouped by entity: [`services`] (requests at a service, workers and what
//! they hold), [`entries`] (clients), [`calls`] (call steps), [`broker`] (topics, work queues,
//! publish steps).

mod broker;
mod calls;
mod entries;
mod services;

pub(super) use services::{Hold, Unstarted, Visit};

use super::broker::queues::QueueState;
use super::broker::topics::TopicState;
use super::measurements::{FaultWindow, Measurements, Series};
use super::TraceRecord;
use crate::model::Model;
use broker::{PublishObs, QueueObs, TopicObs};
use calls::CallObs;
use entries::EntryObs;
use services::ServiceObs;

/// Every measurement of one run (see the [module docs](self)).
pub(super) struct Observer {
    /// Requests, calls and messages count from here on (the end of the warm-up) \[ns\].
    warmup: u64,
    /// Whether the warm-up has ended (its time averages restarted).
    warm_done: bool,
    /// Width of the time-series buckets \[ns\].
    bucket: u64,
    /// Where the current bucket ends \[ns\].
    next_bucket: u64,
    /// The next mark to pass: the end of the warm-up or of the current bucket, whichever
    /// comes first (one compare per event tells whether there is anything to do).
    next_mark: u64,
    /// Where the last bucket ends: the end of the run \[ns\].
    end: u64,
    /// Where the arrivals end (the planned duration; a drained run goes on after it) \[ns\].
    arrivals_end: u64,
    /// The timeline slices (see [`crate::metrics::slices`]): their width, and the start and
    /// end of the current one (`u64::MAX`: the drain slice, which ends with the run) \[ns\].
    slice_width: u64,
    slice_start: u64,
    slice_end: u64,
    services: Vec<ServiceObs>,
    entries: Vec<EntryObs>,
    calls: Vec<CallObs>,
    topics: Vec<TopicObs>,
    queues: Vec<QueueObs>,
    publishes: Vec<PublishObs>,
    /// Occupancy slot ("waiting on <callee>") of each call step in its caller's service.
    call_slot: Vec<Hold>,
    /// Every answered entry-point request, when tracing is on.
    trace: Option<Vec<TraceRecord>>,
}

impl Observer {
    /// An observer of a run of `model` that measures from `warmup`, whose arrivals end at
    /// `arrivals_end` and which ends at `end` at the latest \[ns\]; `up[s]` replicas of
    /// service `s` are up at time 0.
    pub(super) fn new(model: &Model, warmup: u64, end: u64, arrivals_end: u64, up: &[u32]) -> Self {
        let (labels, call_slot) = services::occupancy_layout(model);
        let bucket = bucket_width(model, &labels, end);
        let slice_width = crate::metrics::slices::slice_width(arrivals_end, bucket);
        let services = model
            .services
            .iter()
            .zip(labels)
            .zip(up)
            .map(|((s, labels), &up)| ServiceObs::new(s, labels, up))
            .collect();
        let mut obs = Observer {
            warmup,
            warm_done: warmup == 0,
            bucket,
            next_bucket: bucket,
            next_mark: 0,
            end,
            arrivals_end,
            slice_width,
            slice_start: 0,
            slice_end: slice_width.min(arrivals_end),
            services,
            entries: model.entries.iter().map(EntryObs::new).collect(),
            calls: model.calls.iter().map(|c| CallObs::new(model, c)).collect(),
            topics: model.topics.iter().map(TopicObs::new).collect(),
            queues: model.queues.iter().map(|_| QueueObs::default()).collect(),
            publishes: vec![PublishObs::default(); model.publishes.len()],
            call_slot,
            trace: None,
        };
        obs.set_next_mark();
        obs
    }

    /// Records every answered entry-point request from now on.
    pub(super) fn start_trace(&mut self) {
        self.trace = Some(Vec::new());
    }

    /// The records collected since [`start_trace`](Self::start_trace).
    pub(super) fn take_trace(&mut self) -> Vec<TraceRecord> {
        self.trace.take().unwrap_or_default()
    }

    /// Whether something that happened (arrived, was sent, started) at `t` counts: it did
    /// not happen during the warm-up.
    #[inline]
    fn counts(&self, t: u64) -> bool {
        t >= self.warmup
    }

    // ---- marks: the end of the warm-up, and bucket boundaries ------------------------------

    /// The next time at which a mark is due: an event at or after it must first call
    /// [`pass_marks`](Self::pass_marks).
    #[inline]
    pub(super) fn next_mark(&self) -> u64 {
        self.next_mark
    }

    fn set_next_mark(&mut self) {
        self.next_mark = if self.warm_done {
            self.next_bucket
        } else {
            self.next_bucket.min(self.warmup)
        };
    }

    /// Passes every mark (warm-up end, bucket boundary) at or before `t`; `topics` and
    /// `queues` are the broker's state, whose levels (lag, depth) each bucket samples.
    #[cold]
    pub(super) fn pass_marks(&mut self, t: u64, topics: &[TopicState], queues: &[QueueState]) {
        loop {
            if !self.warm_done && self.warmup <= self.next_bucket && self.warmup <= t {
                self.end_warmup();
                continue;
            }
            if self.next_bucket <= t && self.next_bucket < self.end {
                let b = self.next_bucket;
                self.close_bucket(b, topics, queues);
                self.next_bucket = (b + self.bucket).min(self.end);
                continue;
            }
            break;
        }
        self.set_next_mark();
    }

    /// The warm-up ends: time averages measure from here.
    fn end_warmup(&mut self) {
        let w = self.warmup;
        for s in &mut self.services {
            s.end_warmup(w);
        }
        self.warm_done = true;
    }

    /// Closes the bucket that ends at `b`.
    fn close_bucket(&mut self, b: u64, topics: &[TopicState], queues: &[QueueState]) {
        let start = (b - 1) / self.bucket * self.bucket;
        let width = (b - start) as f64;
        for e in &mut self.entries {
            e.close_bucket();
        }
        if b >= self.slice_end || b >= self.end {
            self.close_slice(b);
        }
        for s in &mut self.services {
            s.close_bucket(b, width);
        }
        for c in &mut self.calls {
            c.close_bucket();
        }
        for (obs, topic) in self.topics.iter_mut().zip(topics) {
            obs.close_bucket(b, topic);
        }
        for (obs, queue) in self.queues.iter_mut().zip(queues) {
            obs.close_bucket(b, queue);
        }
    }

    // ---- the end ----------------------------------------------------------------------------

    /// What the run measured. The run ended at `end` (a drained run ends with its last
    /// request, so it may be earlier than planned); the other arguments are the state that
    /// the report reads levels from (what is left in the broker, the breakers' time in each
    /// state, the producers' buffers).
    pub(super) fn finish(mut self, end: u64, run: RunEnd<'_>) -> Measurements {
        let RunEnd {
            model,
            seed,
            events,
            topics,
            queues,
            calls,
            in_buffer,
        } = run;
        self.end = end;
        self.pass_marks(end, topics, queues);
        if !self.warm_done {
            self.end_warmup();
        }
        // The last (possibly partial) bucket.
        self.close_bucket(end, topics, queues);
        let measured_ns = (end - self.warmup) as f64;
        let warmup = self.warmup;
        let bucket = self.bucket;
        let entries = self
            .entries
            .iter()
            .zip(&model.entries)
            .map(|(e, m)| e.report(model, m, measured_ns))
            .collect();
        let services = self
            .services
            .iter()
            .zip(&model.services)
            .map(|(s, m)| s.report(m, end, measured_ns))
            .collect();
        let call_rows = self
            .calls
            .iter()
            .zip(&model.calls)
            .zip(calls)
            .map(|((c, m), state)| c.report(model, m, state, end))
            .collect();
        let (topic_rows, topic_series) =
            broker::topic_report(&mut self.topics, model, topics, bucket, end);
        let (queue_rows, queue_series) =
            broker::queue_report(&mut self.queues, model, queues, bucket, end);
        Measurements {
            topology: model.name.clone(),
            seed,
            duration_s: end as f64 / 1e9,
            warmup_s: warmup as f64 / 1e9,
            events,
            entries,
            services,
            calls: call_rows,
            topics: topic_rows,
            queues: queue_rows,
            publishes: broker::publish_report(&self.publishes, model, in_buffer),
            faults: model
                .faults
                .iter()
                .map(|f| FaultWindow {
                    label: f.label.clone(),
                    start_s: f.start.as_secs_f64(),
                    end_s: f.end.as_secs_f64(),
                })
                .collect(),
            series: Series {
                bucket_s: bucket as f64 / 1e9,
                entries: self.entries.into_iter().map(|e| e.series).collect(),
                services: self.services.into_iter().map(|s| s.series).collect(),
                calls: self.calls.into_iter().map(|c| c.series).collect(),
                topics: topic_series,
                queues: queue_series,
            },
        }
    }
}

/// What [`Observer::finish`] reads from the rest of the run.
pub(super) struct RunEnd<'a> {
    /// The model that ran.
    pub model: &'a Model,
    /// Its seed.
    pub seed: u64,
    /// Events processed.
    pub events: u64,
    /// The broker's topics at the end.
    pub topics: &'a [TopicState],
    /// The broker's work queues at the end.
    pub queues: &'a [QueueState],
    /// The resilience state of every call step (its breakers).
    pub calls: &'a [crate::engine::calls::CallState],
    /// Messages still in each publish step's buffer.
    pub in_buffer: &'a [u64],
}

/// The width of the time-series buckets of a run ending at `end` \[ns\]: the model's
/// `bucket`, widened (to whole nanoseconds) so that the run keeps at most
/// [`MAX_BUCKETS`](crate::model::MAX_BUCKETS) buckets and at most
/// [`MAX_SERIES_VALUES`](crate::model::MAX_SERIES_VALUES) values over all its series (a
/// value per bucket and series: 8 series per entry point, 2 plus one per occupancy state
/// per service, 2 per call step, consumer group and work queue). Memory and the report then
/// grow with what they show, not with services × buckets.
fn bucket_width(model: &Model, occupancy_labels: &[Vec<String>], end: u64) -> u64 {
    let groups: usize = model.topics.iter().map(|t| t.subscribers.len()).sum();
    let series = 8 * model.entries.len()
        + occupancy_labels.iter().map(|l| 2 + l.len()).sum::<usize>()
        + 2 * (model.calls.len() + groups + model.queues.len());
    let most_buckets = (crate::model::MAX_SERIES_VALUES / (series as u64).max(1))
        .clamp(1, crate::model::MAX_BUCKETS);
    model.run.bucket.as_nanos().max(end.div_ceil(most_buckets))
}

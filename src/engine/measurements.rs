//! What a run measured, as plain data: the rows of the report before the analytic shadow is
//! put beside them ([`crate::report::Report`] does that, and is where these types are
//! public).
//!
//! Field names are part of the JSON interface and documented in `docs/report.md`. Units are
//! in the names: `_ms`, `_s`, `_per_s`. Everything is measured after the warm-up unless a
//! field says otherwise; time series cover the whole run.

use crate::metrics::compact::CompactHistogram;
use crate::metrics::LatencySummary;
use crate::outcome::Outcomes;
use serde::{Deserialize, Serialize};

/// Everything one run measured, in the order of the report.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurements {
    /// The topology's name.
    pub topology: String,
    /// The seed of the run.
    pub seed: u64,
    /// Simulated time, warm-up included \[s\].
    pub duration_s: f64,
    /// Warm-up excluded from statistics \[s\].
    pub warmup_s: f64,
    /// Events processed (a measure of the work the simulator did).
    pub events: u64,
    /// One row per entry point, in file order.
    pub entries: Vec<EntryReport>,
    /// One row per service, in file order.
    pub services: Vec<ServiceReport>,
    /// One row per sync call step, in file order.
    pub calls: Vec<CallReport>,
    /// The fault timeline, in file order.
    pub faults: Vec<FaultWindow>,
    /// The broker's topics, in file order.
    pub topics: Vec<TopicReport>,
    /// The broker's work queues, in file order.
    pub queues: Vec<QueueReport>,
    /// What became of the messages of each publish and send step.
    pub publishes: Vec<PublishReport>,
    /// Time series in fixed buckets over the whole run.
    pub series: Series,
}

/// A topic of the broker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicReport {
    /// Topic name.
    pub name: String,
    /// Partitions.
    pub partitions: u32,
    /// Messages published over the whole run.
    pub produced: u64,
    /// `produced` per partition (its log's end offset), in partition order.
    #[serde(default)]
    pub produced_per_partition: Vec<u64>,
    /// The services with a step that publishes to it, in file order.
    pub publishers: Vec<String>,
    /// One consumer group per subscribing service.
    pub groups: Vec<GroupReport>,
}

/// What one consumer group did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupReport {
    /// The subscribing service.
    pub service: String,
    /// Consumers in the group.
    pub consumers: u32,
    /// Messages processed and committed (`produced = consumed + lag + expired +
    /// dead_lettered`).
    pub consumed: u64,
    /// Processing attempts that failed (each was retried or given up).
    pub failed: u64,
    /// Retries of failed messages.
    pub retries: u64,
    /// Messages that failed every attempt and went to the dead-letter topic.
    pub dead_lettered: u64,
    /// Messages not yet committed at the end (log end − committed offset, all partitions).
    pub lag: u64,
    /// Largest lag at any bucket boundary.
    pub max_lag: u64,
    /// `lag` per partition, in partition order.
    #[serde(default)]
    pub lag_per_partition: Vec<u64>,
    /// `max_lag` per partition (the largest lag of each partition at a bucket end).
    #[serde(default)]
    pub max_lag_per_partition: Vec<u64>,
    /// How long the biggest backlog took to drain \[s\]: from the bucket where the lag
    /// peaked to the first bucket after it back near its earlier level (within 1 % of the
    /// peak). `None` when there was no backlog, or it had not drained by the end.
    #[serde(default)]
    pub drained_in_s: Option<f64>,
    /// Age of the oldest uncommitted message at the end (the worst partition) \[s\].
    pub time_lag_s: f64,
    /// Largest time lag at any bucket boundary \[s\].
    pub max_time_lag_s: f64,
    /// Messages deleted by retention before the group committed them: lost.
    pub expired: u64,
    /// Messages delivered again after a consumer crash (from the committed offset).
    pub redelivered: u64,
    /// Messages processed more than once (processed, then redelivered before a commit).
    pub duplicates: u64,
    /// Redelivered messages an idempotent consumer recognised and skipped.
    pub skipped: u64,
    /// From publish to processed, for messages published after the warm-up.
    pub latency: LatencySummary,
}

/// What became of one publish (or send) step's messages, over the whole run: the
/// producer's side of broker outages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublishReport {
    /// The publishing service.
    pub from: String,
    /// The topic or queue.
    pub to: String,
    /// Where the step is in the file.
    pub step: String,
    /// Messages the broker stored.
    pub published: u64,
    /// Publishes that failed: the broker (or the key's partition) was down and the step
    /// fails (`when_down: Fail`), or the producer's buffer was full.
    pub failed: u64,
    /// Producers that waited for the broker (`when_down: Wait`) and gave up.
    pub timed_out: u64,
    /// Producers that waited for the broker.
    pub waited: u64,
    /// Messages held in the producer's buffer during an outage (`when_down: Buffer`).
    pub buffered: u64,
    /// Most messages in the buffer at once.
    pub max_buffered: u64,
    /// Messages still in the buffer at the end (not yet published).
    pub in_buffer: u64,
}

/// What one work queue and its competing consumers did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueReport {
    /// Queue name.
    pub name: String,
    /// The consuming service.
    pub service: String,
    /// The services with a step that sends to it, in file order.
    #[serde(default)]
    pub publishers: Vec<String>,
    /// Competing consumers.
    pub consumers: u32,
    /// Unacknowledged messages per consumer (0 = unlimited).
    pub prefetch: u32,
    /// Messages sent over the whole run.
    pub sent: u64,
    /// Messages processed and acknowledged (deleted).
    pub acked: u64,
    /// Processing attempts that failed (the message was returned or dead-lettered).
    pub failed: u64,
    /// Deliveries of a message delivered before (after a failure, a visibility timeout or a
    /// consumer crash).
    pub redelivered: u64,
    /// Processings acknowledged after their visibility timeout: the message was delivered
    /// again meanwhile, so it was (or will be) processed twice.
    pub duplicates: u64,
    /// Messages moved to the dead-letter queue (`max_receives` deliveries without success).
    pub dead_lettered: u64,
    /// Ready messages deleted by retention: lost.
    pub expired: u64,
    /// Messages ready (waiting for a consumer) at the end.
    pub depth: u64,
    /// Messages delivered and not yet acknowledged at the end.
    pub in_flight: u64,
    /// Largest depth at any bucket boundary.
    pub max_depth: u64,
    /// Age of the oldest ready message at the end \[s\].
    pub age_s: f64,
    /// Largest age at any bucket boundary \[s\].
    pub max_age_s: f64,
    /// From send to acknowledged, for messages sent after the warm-up: the time a message
    /// spends in the queue and being processed (a station's sojourn time).
    pub latency: LatencySummary,
    /// How long the biggest backlog (depth) took to drain \[s\], as for consumer groups.
    #[serde(default)]
    pub drained_in_s: Option<f64>,
}

/// One work queue over time, per bucket (at its end).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueSeries {
    /// Queue name.
    pub name: String,
    /// Ready messages.
    pub depth: Vec<u64>,
    /// Age of the oldest ready message \[s\].
    pub age_s: Vec<f64>,
}

/// One consumer group's lag over time, per bucket (at its end).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TopicSeries {
    /// Topic name.
    pub topic: String,
    /// The subscribing service.
    pub service: String,
    /// Lag in messages.
    pub lag: Vec<u64>,
    /// Age of the oldest uncommitted message \[s\].
    pub time_lag_s: Vec<f64>,
}

/// A fault of the timeline, for reports and charts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultWindow {
    /// What and where, e.g. `crash payment (1 of 2)`.
    pub label: String,
    /// Start \[s\].
    pub start_s: f64,
    /// End \[s\] (may be past the end of the run).
    pub end_s: f64,
}

/// What the clients of one entry point saw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntryReport {
    /// Entry point name.
    pub name: String,
    /// Where its requests go: the service it calls, or the topic or queue it publishes to
    /// (see `target`).
    pub service: String,
    /// What `service` names.
    #[serde(default)]
    pub target: TargetKind,
    /// Requests that arrived after the warm-up.
    pub offered: u64,
    /// How those requests ended.
    pub outcomes: Outcomes,
    /// Offered requests still unanswered when the run ended.
    pub in_flight: u64,
    /// (ok + degraded) / (offered − in_flight): the simulated request-based availability.
    pub availability: f64,
    /// Standard error of `availability` (binomial, sqrt(a(1−a)/n)).
    pub availability_se: f64,
    /// Answered requests per second of measured time (all outcomes).
    pub throughput_per_s: f64,
    /// Successful requests per second of measured time.
    pub goodput_per_s: f64,
    /// Latency of answered requests (all outcomes), as the client saw it.
    pub latency: LatencySummary,
    /// The latency distribution as `[latency_ms, fraction answered within it]` points at
    /// fixed quantiles (denser in the tail), for CDF charts; empty when nothing was answered.
    pub latency_cdf: Vec<[f64; 2]>,
    /// Entry points that send to a work queue (a network of queues): each customer's time
    /// from the client's send to the moment the last message it caused left the broker
    /// (acknowledged, dead-lettered or deleted), for customers sent after the warm-up whose
    /// messages had all left by the end. A customer's messages are the client's message and
    /// every message sent to a work queue while one of them was processed. `None` for other
    /// entry points. The mean and the maximum are exact, the percentiles to 2 significant
    /// digits (the top of a bucket 1 % wide).
    #[serde(default)]
    pub end_to_end: Option<LatencySummary>,
    /// The latency histogram itself, compactly, so that replications merge exactly
    /// (pooled percentiles are those of the histogram of every run's samples).
    #[serde(default)]
    pub latency_histogram: CompactHistogram,
}

/// What an entry point sends its requests to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// A service (sync requests).
    #[default]
    Service,
    /// A topic of the broker.
    Topic,
    /// A work queue of the broker.
    Queue,
}

/// What happened at one service (all replicas together).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceReport {
    /// Service name.
    pub name: String,
    /// Replicas.
    pub replicas: u32,
    /// Workers per replica.
    pub workers: u32,
    /// Requests that reached the service (accepted or rejected).
    pub arrivals: u64,
    /// Requests refused at the door because the queue was full.
    pub rejected: u64,
    /// Requests refused because their replica was down, or lost inside it when it crashed.
    pub unavailable: u64,
    /// Requests dropped unstarted because their propagated deadline had passed.
    pub expired: u64,
    /// Requests cancelled unstarted by a caller that had timed out.
    pub cancelled: u64,
    /// Time-based availability: the share of the measured time with at least one replica up.
    pub time_availability: f64,
    /// The share of replica-time up (1 − the mean fraction of replicas down).
    pub replica_availability: f64,
    /// Who holds the workers: time-averaged busy workers by what they do (`working`,
    /// `backoff` (sleeping before a retry or waiting for a bulkhead permit), `fan-out`
    /// (waiting on `Parallel` branches), `waiting on <callee>`); they sum to
    /// `mean_busy_workers`.
    pub occupancy: Vec<Occupancy>,
    /// How they ended here; `error`, `timeout` and `rejected` include failures of required
    /// calls below (a request whose call was rejected downstream ends `rejected` here too).
    pub outcomes: Outcomes,
    /// Mean busy workers / all workers.
    pub utilization: f64,
    /// Time-averaged busy workers.
    pub mean_busy_workers: f64,
    /// Time-averaged requests waiting in queues.
    pub mean_queue: f64,
    /// Most requests waiting at once.
    pub max_queue: u64,
    /// Time-averaged requests at the service (waiting or in service): L in Little's law.
    pub mean_in_system: f64,
    /// Time from arrival at a replica to the response leaving it, for accepted requests
    /// (W in Little's law, with λ = accepted arrivals = `arrivals − rejected`).
    pub latency: LatencySummary,
    /// Time from arrival at a replica until a worker took the request (0 for one admitted
    /// at once), for requests a worker took (at an event-loop service: the wait for an
    /// in-flight slot): W_q of queueing theory. The mean and the maximum are exact, the
    /// percentiles to 2 significant digits (the top of a bucket 1 % wide).
    #[serde(default)]
    pub wait: LatencySummary,
    /// The share of the requests of `wait` that waited longer than 0: the probability of
    /// waiting, P(W_q > 0) (Erlang C's C(c, a) for an M/M/c service).
    #[serde(default)]
    pub wait_probability: f64,
    /// Requests still here when their caller had given up.
    pub orphaned: u64,
    /// Worker time spent on requests whose caller had already given up \[s\].
    pub orphaned_work_s: f64,
}

/// One sync call step as its callers saw it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallReport {
    /// Calling service.
    pub from: String,
    /// Called service.
    pub to: String,
    /// Where the step is in the file.
    pub step: String,
    /// Original calls started after the warm-up.
    pub calls: u64,
    /// Of those, calls still unfinished when the run ended (`calls = Σ outcomes + in_flight`).
    pub in_flight: u64,
    /// Attempts sent to the callee (original calls and retries; not those refused by the
    /// breaker or the bulkhead).
    pub attempts: u64,
    /// `attempts / calls`: how much load the retries add.
    pub amplification: f64,
    /// Retries scheduled (after a backoff).
    pub retries: u64,
    /// Retries refused by the retry budget (the call failed at once instead).
    pub retries_denied: u64,
    /// How the calls ended, after retries, from the caller's side.
    pub outcomes: Outcomes,
    /// Latency of whole calls seen by the caller: attempts, backoffs and network included.
    pub latency: LatencySummary,
    /// The circuit breakers of this step (one per caller replica), if it has any.
    pub breaker: Option<BreakerReport>,
    /// Attempts refused by the bulkheads of this step (full, or waited too long).
    pub bulkhead_rejections: u64,
}

/// What the circuit breakers of one call step did (summed over caller replicas).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BreakerReport {
    /// Calls refused while open or with no half-open permit left (after the warm-up).
    pub not_permitted: u64,
    /// State changes over the whole run.
    pub transitions: u64,
    /// Time spent closed, summed over replicas, over the whole run \[s\].
    pub closed_s: f64,
    /// Time spent open \[s\].
    pub open_s: f64,
    /// Time spent half-open \[s\].
    pub half_open_s: f64,
    /// The state changes, in time order (the first 10,000 per replica).
    pub log: Vec<BreakerTransition>,
}

/// One state change of a circuit breaker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BreakerTransition {
    /// When \[s\].
    pub at_s: f64,
    /// The caller replica whose breaker it is.
    pub replica: u32,
    /// State before: `closed`, `open` or `half_open`.
    pub from: String,
    /// State after.
    pub to: String,
}

/// Time series in buckets of `bucket_s`; bucket `i` covers `[i·bucket_s, (i+1)·bucket_s)`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Bucket width \[s\].
    pub bucket_s: f64,
    /// Per entry point.
    pub entries: Vec<EntrySeries>,
    /// Per service.
    pub services: Vec<ServiceSeries>,
    /// Per sync call step.
    pub calls: Vec<CallSeries>,
    /// Per topic and consumer group.
    pub topics: Vec<TopicSeries>,
    /// Per work queue.
    pub queues: Vec<QueueSeries>,
}

/// One call step over time: original calls and attempts per bucket (retry amplification).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CallSeries {
    /// Calling service.
    pub from: String,
    /// Called service.
    pub to: String,
    /// Original calls started per bucket.
    pub calls: Vec<u64>,
    /// Attempts sent per bucket.
    pub attempts: Vec<u64>,
}

/// One entry point over time: answers per bucket by outcome (divide by `bucket_s` for a rate).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EntrySeries {
    /// Entry point name.
    pub name: String,
    /// Successful answers per bucket.
    pub ok: Vec<u64>,
    /// Errors per bucket.
    pub error: Vec<u64>,
    /// Timeouts per bucket.
    pub timeout: Vec<u64>,
    /// Rejections per bucket.
    pub rejected: Vec<u64>,
    /// Answers refused by an open circuit breaker per bucket.
    pub circuit_open: Vec<u64>,
    /// Answers from a crashed replica per bucket.
    pub unavailable: Vec<u64>,
    /// Answers by a fallback per bucket.
    pub degraded: Vec<u64>,
    /// 99th percentile latency of the answers in the bucket \[ms\]; null when there were none.
    pub p99_ms: Vec<Option<f64>>,
    /// The answers of each coarse slice of the run (at most a dozen, each a whole number of
    /// buckets, see [`crate::metrics::slices`]; a drained run has one more for the drain),
    /// with percentiles of the slice itself: a slice's 99th percentile is not to be found
    /// among its buckets' 99th percentiles.
    #[serde(default)]
    pub slices: Vec<LatencySlice>,
}

/// The answers of one entry point in one slice of the run (warm-up included).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySlice {
    /// Start \[s\] (a bucket boundary).
    pub from_s: f64,
    /// End \[s\] (a bucket boundary, or the end of the run).
    pub to_s: f64,
    /// Answers in the slice (all outcomes).
    pub answered: u64,
    /// Their mean latency \[ms\] (exact); null when there were none.
    pub mean_ms: Option<f64>,
    /// Their 99th percentile latency \[ms\] (2 significant digits: within 1 %); null when
    /// there were none.
    pub p99_ms: Option<f64>,
}

/// Busy workers doing one thing, time-averaged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Occupancy {
    /// What: `working`, `backoff`, `fan-out` or `waiting on <callee>`.
    pub state: String,
    /// Mean workers in that state.
    pub workers: f64,
}

/// Busy workers doing one thing, per bucket.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OccupancySeries {
    /// What: as in [`Occupancy::state`].
    pub state: String,
    /// Mean workers in that state per bucket.
    pub workers: Vec<f64>,
}

/// One service over time (time-averaged within each bucket).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceSeries {
    /// Service name.
    pub name: String,
    /// Mean requests waiting.
    pub queue: Vec<f64>,
    /// Mean busy workers.
    pub busy: Vec<f64>,
    /// Mean busy workers by what they do (sums to `busy`).
    pub occupancy: Vec<OccupancySeries>,
}

//! The topology file as written: serde types that mirror the RON format one to one.
//!
//! Nothing here is validated beyond what the parser itself checks (shape, unknown fields,
//! integer ranges); [`crate::model::Model::compile`] turns a [`TopologySpec`] into a checked,
//! name-resolved model and reports *every* problem at once. Durations stay strings here
//! (`"150ms"`) so that a bad one becomes a problem with a path instead of stopping the parse.
//!
//! The format reference, with every field and its default, is `docs/format.md`.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::marker::PhantomData;

/// A whole topology file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Topology")]
pub struct TopologySpec {
    /// A short name shown in reports; defaults to the file name.
    #[serde(default)]
    pub name: Option<String>,
    /// Run length, warm-up, seed and safety caps.
    #[serde(default)]
    pub run: RunSpec,
    /// The entry points and their arrival processes.
    #[serde(default)]
    pub workload: Vec<EntrySpec>,
    /// The services, by name, in file order (duplicates are kept so they can be reported).
    pub services: OrderedMap<ServiceSpec>,
    /// Timed faults: crashes, hangs, slowdowns, error bursts, partitions, latency.
    #[serde(default)]
    pub faults: Vec<crate::fault::FaultSpec>,
    /// Deadline propagation and cancellation for every call (default: neither).
    #[serde(default)]
    pub deadlines: Option<DeadlineSpec>,
    /// Topics of the simulated broker, by name (default none).
    #[serde(default)]
    pub topics: OrderedMap<TopicSpec>,
    /// Work queues of the simulated broker, by name (default none).
    #[serde(default)]
    pub queues: OrderedMap<QueueSpec>,
}

/// A work queue (RabbitMQ/SQS-like): messages go to whichever of the consuming service's
/// competing consumers is free; no partitions, no order between consumers.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    /// The service whose steps process each message.
    pub service: String,
    /// Competing consumers, ≥ 1 (default 1); consumer i lives on replica i mod replicas.
    #[serde(default)]
    pub consumers: Option<u32>,
    /// Unacknowledged messages a consumer may hold at once (RabbitMQ's `basic.qos`; default
    /// 1; 0 = unlimited, which moves the whole backlog into the service's own queue).
    #[serde(default)]
    pub prefetch: Option<u32>,
    /// A message not acknowledged this long after its delivery is delivered again, to any
    /// consumer (SQS's visibility timeout; default `"30s"`).
    #[serde(default)]
    pub visibility_timeout: Option<String>,
    /// A message delivered this many times without success goes to the dead-letter queue
    /// (SQS's `maxReceiveCount`; default: no limit).
    #[serde(default)]
    pub max_receives: Option<u32>,
    /// A failed message becomes visible again after this long (default `"0ms"`: requeued at
    /// once, as RabbitMQ's `nack` with requeue); it keeps its consumer's prefetch slot
    /// meanwhile.
    #[serde(default)]
    pub retry_delay: Option<String>,
    /// Ready messages older than this are deleted unprocessed (default: kept forever).
    #[serde(default)]
    pub retention: Option<String>,
}

/// A Kafka-like topic: partitions, retention, and the consumer groups that read it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    /// Partitions, ≥ 1 (default 1). Messages without a key go to them in turn.
    #[serde(default)]
    pub partitions: Option<u32>,
    /// Messages older than this are deleted, consumed or not (default: kept forever).
    #[serde(default)]
    pub retention: Option<String>,
    /// One consumer group per subscribing service.
    #[serde(default)]
    pub subscribers: Vec<SubscriberSpec>,
}

/// A consumer group: a service whose consumers process a topic's messages.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriberSpec {
    /// The service whose steps process each message.
    pub service: String,
    /// Consumers in the group, ≥ 1 (default 1); at most one per partition is busy.
    #[serde(default)]
    pub consumers: Option<u32>,
    /// How long the group waits for a crashed consumer before it moves its partitions to the
    /// others (Kafka's `session.timeout.ms`; default `"45s"`).
    #[serde(default)]
    pub session_timeout: Option<String>,
    /// Processing attempts per message, the first included (default 1: no retry).
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Wait before each retry of a failed message (default `"0ms"`); the consumer waits too.
    #[serde(default)]
    pub retry_backoff: Option<String>,
    /// What happens to a message that failed every attempt (default `DeadLetter`).
    #[serde(default)]
    pub on_exhausted: Option<ExhaustedSpec>,
    /// Commit processed offsets every this long instead of after each message (Kafka's
    /// auto-commit, 5 s by default there); a crash redelivers what was processed since.
    #[serde(default)]
    pub commit_interval: Option<String>,
    /// Idempotent consumers: remember processed messages for this long and skip them when
    /// they are delivered again (default: not idempotent).
    #[serde(default)]
    pub idempotent: Option<String>,
}

/// What a consumer group does with a message that failed every attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum ExhaustedSpec {
    /// Send it to the topic's dead-letter topic and go on with the next message.
    DeadLetter,
    /// Keep retrying it: its partition is blocked until it succeeds (head-of-line blocking).
    Block,
}

/// Deadline propagation and cancellation, for the whole topology or one call.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineSpec {
    /// The request's remaining time travels with each call: the callee gives up (drops the
    /// request unstarted) once it has passed, and the caller waits no longer than it.
    #[serde(default)]
    pub propagate: Option<bool>,
    /// A caller that times out cancels its callee's request if it has not started yet.
    #[serde(default)]
    pub cancel: Option<bool>,
}

/// How long to simulate and with which seed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// Simulated time to run, including the warm-up (default `"60s"`).
    #[serde(default)]
    pub duration: Option<String>,
    /// Initial period excluded from statistics (default `"0s"`).
    #[serde(default)]
    pub warmup: Option<String>,
    /// Seed of every random stream (default 1).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Width of the time-series buckets in the report (default `"1s"`).
    #[serde(default)]
    pub bucket: Option<String>,
    /// Cap on requests in flight at once; a run that exceeds it stops with an error naming
    /// the service where work piles up (default 1,000,000).
    #[serde(default)]
    pub max_in_flight: Option<u64>,
    /// Most events (and the zero-time steps they trigger) at one virtual instant; a run that
    /// does more stops with an error naming what goes round (default 10,000,000).
    #[serde(default)]
    pub max_events_per_instant: Option<u64>,
}

/// One entry point: a named stream of external requests into a service, or of messages
/// external producers publish to the broker. Exactly one of `entry`, `publish` and `send`
/// names where they go.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntrySpec {
    /// The entry point's name, used in reports.
    pub name: String,
    /// The service that receives the requests.
    #[serde(default)]
    pub entry: Option<String>,
    /// A topic the clients publish to (keyless: partitions in turn). A client is answered
    /// when the broker has the message; while the broker is down it gets `unavailable`.
    #[serde(default)]
    pub publish: Option<String>,
    /// A work queue the clients send to, answered like `publish`.
    #[serde(default)]
    pub send: Option<String>,
    /// The arrival process (open loop: arrivals do not wait for responses).
    pub arrivals: ArrivalSpec,
    /// How long the client waits before it gives up (`timeout` outcome). Default: forever.
    #[serde(default)]
    pub timeout: Option<String>,
}

/// An open-loop arrival process.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ArrivalSpec {
    /// Exponential inter-arrival times (a Poisson process), optionally with a rate profile.
    Poisson {
        /// Initial rate [requests/s].
        per_second: f64,
        /// Rate changes over time (steps and ramps), in time order.
        #[serde(default)]
        profile: Vec<RatePointSpec>,
    },
    /// Evenly spaced arrivals, `1 / rate` apart, optionally with a rate profile.
    Constant {
        /// Initial rate [requests/s].
        per_second: f64,
        /// Rate changes over time (steps and ramps), in time order.
        #[serde(default)]
        profile: Vec<RatePointSpec>,
    },
}

/// A point of a piecewise rate profile.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatePointSpec {
    /// When the rate reaches `per_second` (time since the start of the run).
    pub at: String,
    /// The rate from this point on [requests/s].
    pub per_second: f64,
    /// `false` (default): the rate steps to `per_second` at `at`. `true`: it ramps linearly
    /// from the previous point's rate, reaching `per_second` at `at`.
    #[serde(default)]
    pub ramp: bool,
}

/// A service: replicas, each with a pool of workers and a bounded queue, running `steps`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Identical instances behind a load balancer (default 1).
    #[serde(default)]
    pub replicas: Option<u32>,
    /// Workers (threads) per replica; a worker is held for the whole request, including the
    /// time spent waiting on sync calls (default 1).
    #[serde(default)]
    pub workers: Option<u32>,
    /// Requests that may wait per replica when every worker is busy; one more is rejected.
    /// Default: unbounded (guarded by `run.max_in_flight`). `0` means no waiting at all.
    #[serde(default)]
    pub queue: Option<u32>,
    /// Local processing time, done first, before `steps` (default: none).
    #[serde(default)]
    pub work: Option<DistSpec>,
    /// Probability that a request ends in an error after its steps [0, 1] (default 0).
    #[serde(default)]
    pub errors: Option<f64>,
    /// How callers spread requests over the replicas (default `RoundRobin`).
    #[serde(default)]
    pub balancer: Option<BalancerSpec>,
    /// What a request does after the local work, in order.
    #[serde(default)]
    pub steps: Vec<StepSpec>,
    /// Random failures and repairs of each replica (MTTF/MTTR), default none.
    #[serde(default)]
    pub failures: Option<crate::fault::FailureSpec>,
    /// An event-loop server: workers are released while a request waits on calls, and
    /// requests in flight per replica are bounded instead (default: thread per request).
    #[serde(default)]
    pub nonblocking: Option<NonBlockingSpec>,
}

/// The limits of a non-blocking (event-loop) service.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NonBlockingSpec {
    /// Requests in flight per replica; more wait in the queue, ≥ 1.
    pub max_in_flight: u32,
}

/// A load-balancing policy over a service's replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum BalancerSpec {
    /// Each replica in turn.
    RoundRobin,
    /// A uniformly random replica.
    Random,
    /// The replica with the fewest requests in flight (lowest index on ties).
    LeastOutstanding,
    /// Two distinct random replicas; the one with fewer requests in flight.
    PowerOfTwo,
}

/// A service-time (or latency) distribution. Every time is a duration string.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum DistSpec {
    /// Exponential with the given mean.
    Exp {
        /// Mean.
        mean: String,
    },
    /// Always the same value.
    Const(String),
    /// Uniform between `min` and `max`.
    Uniform {
        /// Smallest value.
        min: String,
        /// Largest value.
        max: String,
    },
    /// Log-normal given its median and 99th percentile (a long right tail).
    LogNormal {
        /// Median (50th percentile).
        median: String,
        /// 99th percentile; must exceed the median.
        p99: String,
    },
    /// Gamma given its mean and coefficient of variation (cv = 1 is exponential).
    Gamma {
        /// Mean.
        mean: String,
        /// Standard deviation / mean, > 0.
        cv: f64,
    },
    /// One of the listed samples, each equally likely (e.g. measured latencies).
    Empirical(Vec<String>),
}

/// What a failed call does to the request that made it.
#[derive(Clone, Debug, Default, Deserialize)]
pub enum OnFailureSpec {
    /// The request stops here and fails with the call's outcome (default).
    #[default]
    Fail,
    /// The failure is ignored and the request goes on with its next step.
    Ignore,
    /// A fallback answers after this (local) time; the request goes on, and ends `degraded`
    /// unless something else fails.
    Fallback(DistSpec),
}

/// Outcomes a retry policy may retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum RetryOnSpec {
    /// The callee answered with an error.
    Error,
    /// The attempt timed out.
    Timeout,
    /// The callee's queue (or the edge's bulkhead) was full.
    Rejected,
    /// The caller's circuit breaker refused the attempt.
    CircuitOpen,
    /// The callee's replica was down.
    Unavailable,
}

/// A retry policy on a call.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Attempts in all, counting the first call (resilience4j `maxAttempts`), ≥ 1.
    pub attempts: u32,
    /// Sleep before each retry, holding the caller's worker (default `Constant("0ms")`).
    #[serde(default)]
    pub backoff: Option<BackoffSpec>,
    /// Randomisation of the sleep (default `None`).
    #[serde(default)]
    pub jitter: Option<JitterSpec>,
    /// Which outcomes are retried (default `[Error, Timeout, Unavailable]`).
    #[serde(default)]
    pub on: Option<Vec<RetryOnSpec>>,
    /// Send a retry to another replica than the failed attempt when there is one
    /// (default `true`).
    #[serde(default)]
    pub other_replica: Option<bool>,
    /// A budget shared by all calls of this step from one caller replica (default: none).
    #[serde(default)]
    pub budget: Option<BudgetSpec>,
}

/// Sleep before retry k (k = 1 for the first retry), before jitter.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum BackoffSpec {
    /// The same sleep before every retry.
    Constant(String),
    /// `min(base · multiplier^(k−1), max)`.
    Exponential {
        /// Sleep before the first retry.
        base: String,
        /// Cap.
        max: String,
        /// Growth per retry (default 2).
        #[serde(default)]
        multiplier: Option<f64>,
    },
}

/// Randomisation of backoff sleeps (the AWS Architecture Blog formulas).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum JitterSpec {
    /// Exactly the backoff.
    None,
    /// Uniform in \[0, backoff\].
    Full,
    /// Half the backoff plus uniform in \[0, backoff/2\].
    Equal,
    /// `min(max, uniform(base, 3 × previous sleep))`.
    Decorrelated,
}

/// A retry budget: a gate in front of the per-call attempt count.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum BudgetSpec {
    /// Envoy: retries in flight < max(percent × active requests, min_concurrency).
    Envoy {
        /// Percent of active requests, \[0, 100\] (0 with `min_concurrency` n: a fixed n).
        percent: f64,
        /// Retries always allowed in flight (default 3).
        #[serde(default)]
        min_concurrency: Option<u32>,
    },
    /// gRPC retry throttling: tokens start full; a failure costs 1, a success earns
    /// `token_ratio`; retries only while tokens > max_tokens / 2.
    TokenBucket {
        /// Bucket size, (0, 1000].
        max_tokens: f64,
        /// Tokens earned per success, > 0.
        token_ratio: f64,
    },
}

/// A circuit breaker on a call (resilience4j semantics), one per caller replica.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerSpec {
    /// Open when the failure rate in the window is ≥ this fraction (default 0.5).
    #[serde(default)]
    pub failure_rate: Option<f64>,
    /// Open when the share of slow calls is ≥ this fraction (default 1.0).
    #[serde(default)]
    pub slow_call_rate: Option<f64>,
    /// A call is slow when it takes longer than this (default `"60s"`).
    #[serde(default)]
    pub slow_call: Option<String>,
    /// The sliding window (default `Count(100)`).
    #[serde(default)]
    pub window: Option<WindowSpec>,
    /// No decision before this many calls are in the window (default 100).
    #[serde(default)]
    pub min_calls: Option<u32>,
    /// How long the breaker stays open before probing (default `"60s"`).
    #[serde(default)]
    pub open_for: Option<String>,
    /// Probes allowed in half-open state (default 10).
    #[serde(default)]
    pub half_open_calls: Option<u32>,
    /// Go half-open when the wait ends even without traffic (default `false`: on the
    /// first call after the wait).
    #[serde(default)]
    pub automatic: Option<bool>,
    /// Longest stay in half-open before falling back to open (default: until the probes
    /// decide).
    #[serde(default)]
    pub max_half_open: Option<String>,
}

/// A circuit breaker's sliding window.
#[derive(Clone, Debug, Deserialize)]
pub enum WindowSpec {
    /// The last N calls.
    Count(u32),
    /// The calls of the last N whole seconds (a duration in whole seconds, e.g. `"10s"`).
    Time(String),
}

/// A bulkhead on a call: a cap on attempts in flight from one caller replica.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkheadSpec {
    /// Attempts in flight at once, ≥ 1.
    pub max_concurrent: u32,
    /// How long an attempt may wait for a permit before it is rejected (default `"0ms"`:
    /// rejected at once).
    #[serde(default)]
    pub max_wait: Option<String>,
}

/// One step of a service's handler.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum StepSpec {
    /// Local processing for a sampled time, holding the worker.
    Work(DistSpec),
    /// Publish a message to a topic: the worker is held only until the broker acknowledges.
    Publish {
        /// The topic's name.
        topic: String,
        /// Messages carry a key drawn uniformly from this many keys, and a key always goes to
        /// the same partition (its hash modulo the partitions). Default: no key, partitions in
        /// turn.
        #[serde(default)]
        keys: Option<u64>,
        /// Round trip to the broker until the acknowledgement (default: none).
        #[serde(default)]
        latency: Option<DistSpec>,
        /// Probability that the message is published at all (default 1).
        #[serde(default)]
        probability: Option<f64>,
        /// What the producer does while the broker (or the key's partition) is down
        /// (default `Fail`).
        #[serde(default)]
        when_down: Option<WhenDownSpec>,
    },
    /// Send a message to a work queue: the worker is held only until the broker
    /// acknowledges.
    Send {
        /// The queue's name.
        queue: String,
        /// Round trip to the broker until the acknowledgement (default: none).
        #[serde(default)]
        latency: Option<DistSpec>,
        /// Probability that the message is sent at all (default 1).
        #[serde(default)]
        probability: Option<f64>,
        /// What the producer does while the broker is down (default `Fail`).
        #[serde(default)]
        when_down: Option<WhenDownSpec>,
    },
    /// A synchronous call: the worker is held until the response or the timeout.
    Call {
        /// The callee's service name.
        to: String,
        /// How long the caller waits (default: forever).
        #[serde(default)]
        timeout: Option<String>,
        /// One-way network latency, applied to the request and again to the response
        /// (default: none).
        #[serde(default)]
        latency: Option<DistSpec>,
        /// Probability that the call is made at all (default 1).
        #[serde(default)]
        probability: Option<f64>,
        /// What a failed call does to the caller's request (default `Fail`).
        #[serde(default)]
        on_failure: OnFailureSpec,
        /// Retries (default: none).
        #[serde(default)]
        retry: Option<Box<RetrySpec>>,
        /// A circuit breaker per caller replica (default: none).
        #[serde(default)]
        breaker: Option<Box<BreakerSpec>>,
        /// A bulkhead per caller replica (default: none).
        #[serde(default)]
        bulkhead: Option<BulkheadSpec>,
        /// Deadline propagation and cancellation on this call (default: the topology's).
        #[serde(default)]
        deadlines: Option<DeadlineSpec>,
    },
    /// Branches run at the same time; the step ends when all of them have ended.
    Parallel {
        /// Each branch is a list of steps run in order.
        branches: Vec<Vec<StepSpec>>,
        /// Probability that the fan-out happens at all (default 1).
        #[serde(default)]
        probability: Option<f64>,
    },
    /// Exactly one branch runs, picked with probability proportional to its weight.
    Choice {
        /// The weighted branches.
        branches: Vec<BranchSpec>,
        /// Probability that a branch is run at all (default 1).
        #[serde(default)]
        probability: Option<f64>,
    },
}

/// What a producer does with a message it cannot publish because the broker (or the
/// partition its key goes to) is down.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum WhenDownSpec {
    /// The step fails at once and the request ends `unavailable`.
    Fail,
    /// The request (and its worker) waits until the broker is back, then publishes; after
    /// `timeout` (default: forever) it gives up and ends `timeout` (Kafka's `max.block.ms`).
    Wait {
        /// How long to wait at most.
        #[serde(default)]
        timeout: Option<String>,
    },
    /// The producer keeps the message in memory and the request goes on at once; buffered
    /// messages are published, in order, when the broker is back. A full buffer (`limit`
    /// messages per step) fails the step as `Fail` does (Kafka's `buffer.memory`).
    Buffer {
        /// Messages the producer may hold, ≥ 1.
        limit: u64,
    },
}

/// A weighted branch of a [`StepSpec::Choice`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchSpec {
    /// Relative weight, > 0.
    pub weight: f64,
    /// Steps run in order when this branch is picked.
    #[serde(default)]
    pub steps: Vec<StepSpec>,
}

/// A map read in file order that keeps duplicate keys, so that validation can report them
/// instead of serde silently keeping the last one.
#[derive(Clone, Debug)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<V> OrderedMap<V> {
    /// The entries in file order.
    pub fn iter(&self) -> impl Iterator<Item = &(String, V)> {
        self.0.iter()
    }

    /// Number of entries, duplicates included.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from names to definitions, e.g. { \"api\": (...) }")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((k, v)) = map.next_entry::<String, V>()? {
                    out.push((k, v));
                }
                Ok(OrderedMap(out))
            }
        }
        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

/// Parses RON text into a [`TopologySpec`], with `Option` fields written without `Some(...)`.
pub fn parse_ron(text: &str) -> Result<TopologySpec, ron::error::SpannedError> {
    ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .from_str(text)
}

//! The steps of a service's handler: work, sync calls, publishes, fan-outs and choices.

use super::{BreakerSpec, BulkheadSpec, DeadlineSpec, DistSpec, RetrySpec};
use serde::{Deserialize, Serialize};

/// What a failed call does to the request that made it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
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

impl OnFailureSpec {
    /// Whether this is the default, [`OnFailureSpec::Fail`] (not written out).
    pub fn is_fail(&self) -> bool {
        matches!(self, OnFailureSpec::Fail)
    }
}

/// One step of a service's handler.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keys: Option<u64>,
        /// Round trip to the broker until the acknowledgement (default: none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        latency: Option<DistSpec>,
        /// Probability that the message is published at all (default 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        probability: Option<f64>,
        /// What the producer does while the broker (or the key's partition) is down
        /// (default `Fail`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        when_down: Option<WhenDownSpec>,
    },
    /// Send a message to a work queue: the worker is held only until the broker
    /// acknowledges.
    Send {
        /// The queue's name.
        queue: String,
        /// Round trip to the broker until the acknowledgement (default: none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        latency: Option<DistSpec>,
        /// Probability that the message is sent at all (default 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        probability: Option<f64>,
        /// What the producer does while the broker is down (default `Fail`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        when_down: Option<WhenDownSpec>,
    },
    /// A synchronous call: the worker is held until the response or the timeout.
    Call {
        /// The callee's service name.
        to: String,
        /// How long the caller waits (default: forever).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout: Option<String>,
        /// One-way network latency, applied to the request and again to the response
        /// (default: none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        latency: Option<DistSpec>,
        /// Probability that the call is made at all (default 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        probability: Option<f64>,
        /// What a failed call does to the caller's request (default `Fail`).
        #[serde(default, skip_serializing_if = "OnFailureSpec::is_fail")]
        on_failure: OnFailureSpec,
        /// Retries (default: none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry: Option<Box<RetrySpec>>,
        /// A circuit breaker per caller replica (default: none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        breaker: Option<Box<BreakerSpec>>,
        /// A bulkhead per caller replica (default: none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bulkhead: Option<BulkheadSpec>,
        /// Deadline propagation and cancellation on this call (default: the topology's).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadlines: Option<DeadlineSpec>,
    },
    /// Branches run at the same time; the step ends when all of them have ended.
    Parallel {
        /// Each branch is a list of steps run in order.
        branches: Vec<Vec<StepSpec>>,
        /// Probability that the fan-out happens at all (default 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        probability: Option<f64>,
    },
    /// Exactly one branch runs, picked with probability proportional to its weight.
    Choice {
        /// The weighted branches.
        branches: Vec<BranchSpec>,
        /// Probability that a branch is run at all (default 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        probability: Option<f64>,
    },
}

/// What a producer does with a message it cannot publish because the broker (or the
/// partition its key goes to) is down.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum WhenDownSpec {
    /// The step fails at once and the request ends `unavailable`.
    Fail,
    /// The request (and its worker) waits until the broker is back, then publishes; after
    /// `timeout` (default: forever) it gives up and ends `timeout` (Kafka's `max.block.ms`).
    Wait {
        /// How long to wait at most.
        #[serde(default, skip_serializing_if = "Option::is_none")]
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
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BranchSpec {
    /// Relative weight, > 0.
    pub weight: f64,
    /// Steps run in order when this branch is picked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepSpec>,
}

//! A service: replicas, workers, queue, work, errors, balancer and steps (`services:`).

use super::{DistSpec, FailureSpec, StepSpec};
use serde::{Deserialize, Serialize};

/// A service: replicas, each with a pool of workers and a bounded queue, running `steps`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Identical instances behind a load balancer (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Workers (threads) per replica; a worker is held for the whole request, including the
    /// time spent waiting on sync calls (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<u32>,
    /// Requests that may wait per replica when every worker is busy; one more is rejected.
    /// Default: unbounded (guarded by `run.max_in_flight`). `0` means no waiting at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<u32>,
    /// Local processing time, done first, before `steps` (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work: Option<DistSpec>,
    /// Probability that a request ends in an error after its steps [0, 1] (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<f64>,
    /// How callers spread requests over the replicas (default `RoundRobin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balancer: Option<BalancerSpec>,
    /// What a request does after the local work, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepSpec>,
    /// Random failures and repairs of each replica (MTTF/MTTR), default none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<FailureSpec>,
    /// An event-loop server: workers are released while a request waits on calls, and
    /// requests in flight per replica are bounded instead (default: thread per request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonblocking: Option<NonBlockingSpec>,
}

/// The limits of a non-blocking (event-loop) service.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NonBlockingSpec {
    /// Requests in flight per replica; more wait in the queue, ≥ 1.
    pub max_in_flight: u32,
}

/// A load-balancing policy over a service's replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
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

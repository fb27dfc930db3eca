//! Resilience policies of a call step: retry, backoff, jitter, budget, breaker, bulkhead, deadlines.

use serde::{Deserialize, Serialize};

/// Deadline propagation and cancellation, for the whole topology or one call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineSpec {
    /// The request's remaining time travels with each call: the callee gives up (drops the
    /// request unstarted) once it has passed, and the caller waits no longer than it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagate: Option<bool>,
    /// A caller that times out cancels its callee's request if it has not started yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel: Option<bool>,
}

/// Outcomes a retry policy may retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
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
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Attempts in all, counting the first call (resilience4j `maxAttempts`), ≥ 1.
    pub attempts: u32,
    /// Sleep before each retry, holding the caller's worker (default `Constant("0ms")`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<BackoffSpec>,
    /// Randomisation of the sleep (default `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<JitterSpec>,
    /// Which outcomes are retried (default `[Error, Timeout, Unavailable]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<Vec<RetryOnSpec>>,
    /// Send a retry to another replica than the failed attempt when there is one
    /// (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_replica: Option<bool>,
    /// A budget shared by all calls of this step from one caller replica (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetSpec>,
}

/// Sleep before retry k (k = 1 for the first retry), before jitter.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        multiplier: Option<f64>,
    },
}

/// Randomisation of backoff sleeps (the AWS Architecture Blog formulas).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
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
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum BudgetSpec {
    /// Envoy: retries in flight < max(percent × active requests, min_concurrency).
    Envoy {
        /// Percent of active requests, \[0, 100\] (0 with `min_concurrency` n: a fixed n).
        percent: f64,
        /// Retries always allowed in flight (default 3).
        #[serde(default, skip_serializing_if = "Option::is_none")]
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
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerSpec {
    /// Open when the failure rate in the window is ≥ this fraction (default 0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_rate: Option<f64>,
    /// Open when the share of slow calls is ≥ this fraction (default 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_call_rate: Option<f64>,
    /// A call is slow when it takes longer than this (default `"60s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_call: Option<String>,
    /// The sliding window (default `Count(100)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowSpec>,
    /// No decision before this many calls are in the window (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_calls: Option<u32>,
    /// How long the breaker stays open before probing (default `"60s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_for: Option<String>,
    /// Probes allowed in half-open state (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_open_calls: Option<u32>,
    /// Go half-open when the wait ends even without traffic (default `false`: on the
    /// first call after the wait).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic: Option<bool>,
    /// Longest stay in half-open before falling back to open (default: until the probes
    /// decide).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_half_open: Option<String>,
}

/// A circuit breaker's sliding window.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub enum WindowSpec {
    /// The last N calls.
    Count(u32),
    /// The calls of the last N whole seconds (a duration in whole seconds, e.g. `"10s"`).
    Time(String),
}

/// A bulkhead on a call: a cap on attempts in flight from one caller replica.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BulkheadSpec {
    /// Attempts in flight at once, ≥ 1.
    pub max_concurrent: u32,
    /// How long an attempt may wait for a permit before it is rejected (default `"0ms"`:
    /// rejected at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_wait: Option<String>,
}

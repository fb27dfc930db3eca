//! The `faults` list of a topology and a service's `failures`, as written.
//!
//! ```text
//! faults: [
//!     (at: "3m",  lasts: "60s", fault: Slowdown(service: "inventory", factor: 10.0)),
//!     (at: "6m",  lasts: "45s", fault: Crash(service: "payment", replicas: 1)),
//! ]
//! // in a service:
//! failures: (mttf: "4h", mttr: "3m"),
//! ```
//! [`crate::model::faults`] validates and compiles them.

use super::DistSpec;
use serde::{Deserialize, Serialize};

/// One entry of the top-level `faults` list: what goes wrong, when and for how long.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// When the fault begins, from the start of the run (warm-up included), e.g. `"3m"`.
    pub at: String,
    /// How long it lasts, > 0, e.g. `"60s"`. A fault may run past the end of the run.
    pub lasts: String,
    /// What goes wrong.
    pub fault: FaultKindSpec,
}

/// What goes wrong during a [`FaultSpec`]. Service names are resolved when the model is
/// compiled; see [`FaultKind`](crate::model::faults::FaultKind) for the exact effect of each.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum FaultKindSpec {
    /// Replicas stop: calls to them are refused at once (`unavailable`).
    Crash {
        /// The service.
        service: String,
        /// How many replicas (the lowest indices); default all.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replicas: Option<u32>,
    },
    /// Replicas accept requests and never answer: callers wait until their timeout.
    Hang {
        /// The service.
        service: String,
        /// How many replicas (the lowest indices); default all.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replicas: Option<u32>,
    },
    /// Replicas do their local work `factor` times slower.
    Slowdown {
        /// The service.
        service: String,
        /// Multiplier of work times, finite and > 0 (10.0 = ten times slower).
        factor: f64,
        /// How many replicas (the lowest indices); default all.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replicas: Option<u32>,
    },
    /// Replicas fail requests with probability `errors` (besides the service's own errors).
    ErrorBurst {
        /// The service.
        service: String,
        /// Probability that a request ends in an error, in \[0, 1\].
        errors: f64,
        /// How many replicas (the lowest indices); default all.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replicas: Option<u32>,
    },
    /// The network between two services drops every message: calls `from` → `to` get no
    /// answer until the caller's timeout.
    Partition {
        /// The calling service.
        from: String,
        /// The called service.
        to: String,
    },
    /// Extra one-way latency on the calls `from` → `to`, on the request and on the response.
    Latency {
        /// The calling service.
        from: String,
        /// The called service.
        to: String,
        /// The extra latency, sampled for each message.
        add: DistSpec,
    },
    /// The whole broker is down: publishes and sends cannot be acknowledged (the producers
    /// fail, wait or buffer, as their steps' `when_down` says) and consumers get nothing.
    BrokerDown,
    /// The leader of one partition of a topic is down: messages keyed to it cannot be
    /// published, keyless ones go to the other partitions, and its consumers get nothing
    /// from it.
    LeaderDown {
        /// The topic.
        topic: String,
        /// The partition, from 0.
        partition: u32,
    },
    /// The broker is slow: every publish and send waits an extra sample of `add` for its
    /// acknowledgement.
    BrokerSlow {
        /// The extra latency, sampled for each publish.
        add: DistSpec,
    },
}

/// A service's `failures`: each replica independently fails and is repaired, forever.
///
/// Give the time to failure once (`mttf` or `failure`) and the time to repair once (`mttr` or
/// `repair`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FailureSpec {
    /// Mean time to failure of one replica, e.g. `"4h"`: exponential times to failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mttf: Option<String>,
    /// Mean time to repair, e.g. `"3m"`: exponential repair times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mttr: Option<String>,
    /// The distribution of times to failure, instead of `mttf`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<DistSpec>,
    /// The distribution of repair times, instead of `mttr`, e.g.
    /// `LogNormal(median: "2m", p99: "20m")`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repair: Option<DistSpec>,
}

//! The entry points and their open-loop arrival processes (`workload:`).

use serde::{Deserialize, Serialize};

/// One entry point: a named stream of external requests into a service, or of messages
/// external producers publish to the broker. Exactly one of `entry`, `publish` and `send`
/// names where they go.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EntrySpec {
    /// The entry point's name, used in reports.
    pub name: String,
    /// The service that receives the requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// A topic the clients publish to (keyless: partitions in turn). A client is answered
    /// when the broker has the message; while the broker is down it gets `unavailable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<String>,
    /// A work queue the clients send to, answered like `publish`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<String>,
    /// The arrival process (open loop: arrivals do not wait for responses).
    pub arrivals: ArrivalSpec,
    /// How long the client waits before it gives up (`timeout` outcome). Default: forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// An open-loop arrival process.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum ArrivalSpec {
    /// Exponential inter-arrival times (a Poisson process), optionally with a rate profile.
    Poisson {
        /// Initial rate [requests/s].
        per_second: f64,
        /// Rate changes over time (steps and ramps), in time order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        profile: Vec<RatePointSpec>,
    },
    /// Evenly spaced arrivals, `1 / rate` apart, optionally with a rate profile.
    Constant {
        /// Initial rate [requests/s].
        per_second: f64,
        /// Rate changes over time (steps and ramps), in time order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        profile: Vec<RatePointSpec>,
    },
}

/// A point of a piecewise rate profile.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RatePointSpec {
    /// When the rate reaches `per_second` (time since the start of the run).
    pub at: String,
    /// The rate from this point on [requests/s].
    pub per_second: f64,
    /// `false` (default): the rate steps to `per_second` at `at`. `true`: it ramps linearly
    /// from the previous point's rate, reaching `per_second` at `at`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub ramp: bool,
}

/// Whether a flag is left at its default, `false` (not written out).
fn is_false(b: &bool) -> bool {
    !*b
}

//! Distributions of durations as written (`Exp(mean: "2ms")`).

use serde::{Deserialize, Serialize};

/// A service-time (or latency) distribution. Every time is a duration string.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
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
    /// Log-normal (a long right tail), given by one of two pairs: its median and 99th
    /// percentile (`LogNormal(median: "8ms", p99: "60ms")`), as latencies are usually
    /// measured, or its mean and coefficient of variation (`LogNormal(mean: "10ms", cv:
    /// 1.5)`), as queueing formulas use them. Exactly one pair is given; the compiler checks
    /// which.
    LogNormal {
        /// Median (50th percentile), with `p99`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        median: Option<String>,
        /// 99th percentile, with `median`; must exceed the median.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        p99: Option<String>,
        /// Mean, with `cv`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mean: Option<String>,
        /// Standard deviation / mean, > 0, with `mean`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cv: Option<f64>,
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

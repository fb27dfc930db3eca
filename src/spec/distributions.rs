//! Distributions of durations as written (`Exp(mean: "2ms")`).

use serde::Deserialize;

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

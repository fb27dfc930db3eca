//! How long to simulate, with which seed, and the safety caps (`run:`).

use serde::{Deserialize, Serialize};

/// How long to simulate and with which seed.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// Simulated time to run, including the warm-up (default `"60s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Initial period excluded from statistics (default `"0s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<String>,
    /// Seed of every random stream (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Width of the time-series buckets in the report (default `"1s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// Cap on requests in flight at once; a run that exceeds it stops with an error naming
    /// the service where work piles up (default 1,000,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<u64>,
    /// Most events (and the zero-time steps they trigger) at one virtual instant; a run that
    /// does more stops with an error naming what goes round (default 10,000,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_events_per_instant: Option<u64>,
}

impl RunSpec {
    /// Whether nothing is given (every setting at its default; not written out).
    pub fn is_empty(&self) -> bool {
        *self == RunSpec::default()
    }
}

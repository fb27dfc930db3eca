//! How a request (or a call) ends.

use serde::{Deserialize, Serialize};

/// The one way every request ends. The set grows with the model (circuit-open, unavailable
/// and degraded come with resilience policies), so match with a wildcard arm outside this crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// Answered successfully.
    Ok,
    /// Answered with an error (the service's own, or a failed required call below it).
    Error,
    /// The caller stopped waiting.
    Timeout,
    /// Refused because the queue was full.
    Rejected,
}

impl Outcome {
    /// Every outcome, in report order.
    pub const ALL: [Outcome; 4] = [
        Outcome::Ok,
        Outcome::Error,
        Outcome::Timeout,
        Outcome::Rejected,
    ];
    /// Number of outcomes.
    pub const COUNT: usize = Self::ALL.len();

    /// Position in [`Outcome::ALL`], for counters kept in arrays.
    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in reports (`ok`, `error`, `timeout`, `rejected`).
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Timeout => "timeout",
            Outcome::Rejected => "rejected",
        }
    }

    /// Whether the outcome counts as available (only `ok` for now).
    pub fn is_available(self) -> bool {
        matches!(self, Outcome::Ok)
    }
}

/// Counts per outcome. JSON: `{"ok": n, "error": n, "timeout": n, "rejected": n}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcomes {
    /// Successful.
    pub ok: u64,
    /// Errors.
    pub error: u64,
    /// Timeouts.
    pub timeout: u64,
    /// Rejections.
    pub rejected: u64,
}

impl Outcomes {
    /// From counters indexed by [`Outcome::index`].
    pub fn from_counts(c: &[u64; Outcome::COUNT]) -> Outcomes {
        Outcomes {
            ok: c[0],
            error: c[1],
            timeout: c[2],
            rejected: c[3],
        }
    }

    /// The count for `o`.
    pub fn get(&self, o: Outcome) -> u64 {
        match o {
            Outcome::Ok => self.ok,
            Outcome::Error => self.error,
            Outcome::Timeout => self.timeout,
            Outcome::Rejected => self.rejected,
        }
    }

    /// Sum over all outcomes.
    pub fn total(&self) -> u64 {
        self.ok + self.error + self.timeout + self.rejected
    }
}

//! How a request (or a call) ends.

use serde::{Deserialize, Serialize};

/// The one way every request ends. The set may grow with the model, so match with a wildcard
/// arm outside this crate.
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
    /// Refused because the queue (or a bulkhead) was full.
    Rejected,
    /// Refused by the caller's own circuit breaker, without reaching the callee.
    CircuitOpen,
    /// The callee's replica was down (crashed): the connection was refused at once.
    Unavailable,
    /// A call failed but a fallback answered instead: available, but degraded.
    Degraded,
}

impl Outcome {
    /// Every outcome, in report order.
    pub const ALL: [Outcome; 7] = [
        Outcome::Ok,
        Outcome::Error,
        Outcome::Timeout,
        Outcome::Rejected,
        Outcome::CircuitOpen,
        Outcome::Unavailable,
        Outcome::Degraded,
    ];
    /// Number of outcomes.
    pub const COUNT: usize = Self::ALL.len();

    /// Position in [`Outcome::ALL`], for counters kept in arrays.
    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in reports (`ok`, `error`, `timeout`, `rejected`, `circuit_open`,
    /// `unavailable`, `degraded`).
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Timeout => "timeout",
            Outcome::Rejected => "rejected",
            Outcome::CircuitOpen => "circuit_open",
            Outcome::Unavailable => "unavailable",
            Outcome::Degraded => "degraded",
        }
    }

    /// Whether the outcome counts as available: `ok`, and `degraded` (a fallback answered).
    pub fn is_available(self) -> bool {
        matches!(self, Outcome::Ok | Outcome::Degraded)
    }

    /// Whether the outcome is a failure (neither `ok` nor `degraded`).
    pub fn is_failure(self) -> bool {
        !self.is_available()
    }
}

/// Counts per outcome. JSON: `{"ok": n, "error": n, "timeout": n, "rejected": n,
/// "circuit_open": n, "unavailable": n, "degraded": n}`.
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
    /// Refused by an open circuit breaker.
    pub circuit_open: u64,
    /// Refused by a crashed replica.
    pub unavailable: u64,
    /// Answered by a fallback.
    pub degraded: u64,
}

impl Outcomes {
    /// From counters indexed by [`Outcome::index`].
    pub fn from_counts(c: &[u64; Outcome::COUNT]) -> Outcomes {
        Outcomes {
            ok: c[0],
            error: c[1],
            timeout: c[2],
            rejected: c[3],
            circuit_open: c[4],
            unavailable: c[5],
            degraded: c[6],
        }
    }

    /// The count for `o`.
    pub fn get(&self, o: Outcome) -> u64 {
        match o {
            Outcome::Ok => self.ok,
            Outcome::Error => self.error,
            Outcome::Timeout => self.timeout,
            Outcome::Rejected => self.rejected,
            Outcome::CircuitOpen => self.circuit_open,
            Outcome::Unavailable => self.unavailable,
            Outcome::Degraded => self.degraded,
        }
    }

    /// Available answers: `ok + degraded`.
    pub fn available(&self) -> u64 {
        self.ok + self.degraded
    }

    /// Sum over all outcomes.
    pub fn total(&self) -> u64 {
        Outcome::ALL.iter().map(|&o| self.get(o)).sum()
    }
}

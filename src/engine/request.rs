//! The state of a request in flight: a job (one request at one service), the strands that
//! run its steps, and where a strand is in a call step.

use super::kernel::Key;
use crate::call::backoff::BackoffState;
use crate::outcome::Outcome;
use crate::time::SimDuration;

/// Who waits for a job's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Parent {
    /// An external client of entry point `entry`.
    Client { entry: u32 },
    /// A strand waiting on this job.
    Strand(Key),
    /// A consumer of a topic, processing the message of a delivery.
    Consumer(Key),
    /// A consumer of a work queue, processing the message of a delivery.
    QueueConsumer(Key),
    /// Nobody waits any more (the caller timed out).
    Orphan,
}

/// A request about to be sent: who waits for it, where it goes, and how.
pub(super) struct Dispatch {
    pub(super) parent: Parent,
    pub(super) service: u32,
    /// The call step, or `NO_CALL` for an entry request.
    pub(super) call: u32,
    pub(super) timeout: Option<SimDuration>,
    /// One-way latency of the request.
    pub(super) latency: Option<SimDuration>,
    /// A replica to avoid (a retry to another replica), or `u32::MAX`.
    pub(super) avoid_replica: u32,
    /// Dropped by a partition: never delivered.
    pub(super) lost: bool,
    /// Absolute deadline the callee knows of, `u64::MAX` for none.
    pub(super) deadline: u64,
    /// The replica to use, or `u32::MAX` for the service's balancer.
    pub(super) pin: u32,
}

/// `Job::call` of a request that no call step sent (an entry point's or a consumer's).
pub(super) const NO_CALL: u32 = u32::MAX;

/// `Strand::ret` of a strand that ends with its block.
pub(super) const NO_BLOCK: u32 = u32::MAX;

/// `Job::orphaned_at` of a job whose caller still waits.
pub(super) const NOT_ORPHANED: u64 = u64::MAX;

/// One request at one service (an entry point's request, a call attempt, or a consumer's
/// message), from the moment it is sent until its answer reaches whoever waits.
#[derive(Clone, Copy)]
pub(super) struct Job {
    pub(super) service: u32,
    pub(super) replica: u32,
    /// The call step that sent it, or `NO_CALL` for an entry request.
    pub(super) call: u32,
    pub(super) parent: Parent,
    /// When the caller sent it.
    pub(super) sent: u64,
    /// When it reached the replica (`u64::MAX` while in transit).
    pub(super) arrived: u64,
    /// When a worker took it (`u64::MAX` if never).
    pub(super) started: u64,
    pub(super) orphaned_at: u64,
    pub(super) outcome: Outcome,
    /// A call below was answered by a fallback: the job ends `degraded` unless it fails.
    pub(super) degraded: bool,
    /// Its replica crashed while it was inside: its strands are dropped as they wake.
    pub(super) killed: bool,
    /// Lost in a network partition (request or response): only the caller's timeout ends it.
    pub(super) lost: bool,
    /// Index in its replica's list of running jobs.
    pub(super) slot: u32,
    /// What its worker is doing: a slot of the service's occupancy (`NOT_HOLDING`: none).
    pub(super) holding: u16,
    /// Parallel fan-outs it is waiting on; while > 0 its worker counts as `fan-out`.
    pub(super) fanout: u16,
    /// Where it is: in transit, queued, running, or done (answer on its way).
    pub(super) phase: Phase,
    /// Absolute deadline the service knows of (propagated), `u64::MAX` for none.
    pub(super) deadline: u64,
    /// Its caller timed out and cancelled it while it was in transit.
    pub(super) cancelled: bool,
}

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    Transit,
    Queued,
    Running,
    Done,
}

/// A line of execution through a job's steps: the job's main strand, or a branch of a
/// `Parallel` or `Choice`.
pub(super) struct Strand {
    pub(super) job: Key,
    pub(super) block: u32,
    pub(super) idx: u32,
    /// Where to go on when the block ends: a `Choice` branch runs inline on its strand and
    /// then returns here (`(NO_BLOCK, _)`: the strand ends with its block).
    pub(super) ret: (u32, u32),
    pub(super) parent: Key,
    /// Children still running (plus one while they are being spawned).
    pub(super) pending: u32,
    pub(super) failure: Option<Outcome>,
    /// The call in progress on this strand (valid while it waits on one).
    pub(super) call: CallProgress,
    /// Its children are the branches of a multi-branch `Parallel` (the job's `fanout` counts
    /// it until they join).
    pub(super) fanout: bool,
}

/// Where a strand is in a call step: attempts, backoff, permits held.
#[derive(Clone, Copy)]
pub(super) struct CallProgress {
    /// The call step.
    pub(super) call: u32,
    /// Attempt number, 1 for the first.
    pub(super) attempt: u32,
    /// When the original call started (the caller's view of the call's latency).
    pub(super) started: u64,
    /// When the current attempt was sent.
    pub(super) attempt_sent: u64,
    /// The replica of the last attempt (`u32::MAX` before the first).
    pub(super) last_replica: u32,
    /// Backoff memory for decorrelated jitter.
    pub(super) backoff: BackoffState,
    /// Holds a retry resource of the budget.
    pub(super) holds_retry: bool,
    /// Holds a bulkhead permit.
    pub(super) in_bulkhead: bool,
    /// Holds a breaker permit (an attempt the breaker let through is in flight).
    pub(super) in_breaker: bool,
    /// The call is in progress and counted as an active request by the budget.
    pub(super) active: bool,
    /// The caller's replica (to find the edge's state if the caller's job is gone).
    pub(super) caller_replica: u32,
}

impl CallProgress {
    pub(super) fn new(call: u32, now: u64) -> Self {
        CallProgress {
            call,
            attempt: 1,
            started: now,
            attempt_sent: now,
            last_replica: u32::MAX,
            backoff: BackoffState::new(),
            holds_retry: false,
            in_bulkhead: false,
            in_breaker: false,
            active: false,
            caller_replica: 0,
        }
    }
}

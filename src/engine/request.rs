//! The state of a request in flight: a job (one request at one service), the strands that
//! run its steps, and where a strand is in a call step.

use super::kernel::{Key, NonMaxU64};
use super::observer::Hold;
use crate::call::backoff::BackoffState;
use crate::model::{BlockId, CallId, EntryId, ServiceId};
use crate::outcome::Outcome;
use crate::time::{SimDuration, SimTime};

/// Who waits for a job's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Parent {
    /// An external client of entry point `entry`.
    Client { entry: EntryId },
    /// Strand `strand`, through call step `call`.
    Caller { strand: Key, call: CallId },
    /// A consumer of a topic, processing the message of topic delivery `delivery`.
    TopicConsumer { delivery: Key },
    /// A consumer of a work queue, processing the message of queue delivery `delivery`.
    QueueConsumer { delivery: Key },
}

impl Parent {
    /// The call step that sent the job, if a call step did.
    pub(super) fn call(self) -> Option<CallId> {
        match self {
            Parent::Caller { call, .. } => Some(call),
            _ => None,
        }
    }
}

/// An absolute deadline a request carries (its caller's, propagated), or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Deadline(Option<NonMaxU64>);

impl Deadline {
    /// No deadline.
    pub(super) const NONE: Deadline = Deadline(None);

    /// A deadline at `t` (none if `t` is the end of time).
    pub(super) fn at(t: SimTime) -> Self {
        Deadline(NonMaxU64::new(t.0))
    }

    /// When it falls \[ns\], if there is one.
    pub(super) fn get(self) -> Option<u64> {
        self.0.map(NonMaxU64::get)
    }

    /// Whether it has passed at `now` (it never does without a deadline).
    #[inline]
    pub(super) fn passed(self, now: u64) -> bool {
        self.0.is_some_and(|d| now >= d.get())
    }

    /// The earlier of two deadlines.
    pub(super) fn earlier(self, other: Deadline) -> Deadline {
        match (self.get(), other.get()) {
            (Some(a), Some(b)) if b < a => other,
            (None, _) => other,
            _ => self,
        }
    }
}

/// A request about to be sent: who waits for it, where it goes, and how.
pub(super) struct Dispatch {
    /// Who waits for its answer.
    pub(super) parent: Parent,
    /// Where it goes.
    pub(super) service: ServiceId,
    /// How long its parent waits, if not forever.
    pub(super) timeout: Option<SimDuration>,
    /// One-way latency of the request, if any.
    pub(super) latency: Option<SimDuration>,
    /// A replica to avoid (a retry to another replica).
    pub(super) avoid: Option<u32>,
    /// Dropped by a partition: never delivered.
    pub(super) lost: bool,
    /// The deadline the callee knows of.
    pub(super) deadline: Deadline,
    /// The replica to use; `None` lets the service's balancer pick.
    pub(super) pin: Option<u32>,
    /// The tag of the customer of a network of work queues whose processing sends it (see
    /// `broker/queues.rs`), 0 for none.
    pub(super) customer: u64,
}

impl Dispatch {
    /// A request from `parent` to `service`: no timeout, no latency, no deadline, to the
    /// replica the balancer picks.
    pub(super) fn new(parent: Parent, service: ServiceId) -> Self {
        Dispatch {
            parent,
            service,
            timeout: None,
            latency: None,
            avoid: None,
            lost: false,
            deadline: Deadline::NONE,
            pin: None,
            customer: 0,
        }
    }
}

/// One request at one service (an entry point's request, a call attempt, or a consumer's
/// message), from the moment it is sent until its answer reaches whoever waits.
#[derive(Clone, Copy)]
pub(super) struct Job {
    pub(super) service: ServiceId,
    pub(super) replica: u32,
    /// Who waits for its answer (unless it was orphaned).
    pub(super) parent: Parent,
    /// When the caller sent it.
    pub(super) sent: u64,
    /// When it reached the replica (meaningful once it is out of `Transit`).
    pub(super) arrived: u64,
    /// When a worker took it, if one did.
    pub(super) started: Option<NonMaxU64>,
    /// When its parent stopped waiting (timed out), if it did: nobody is told of its answer.
    pub(super) orphaned_at: Option<NonMaxU64>,
    pub(super) outcome: Outcome,
    /// A call below was answered by a fallback: the job ends `degraded` unless it fails.
    pub(super) degraded: bool,
    /// Its replica crashed while it was inside: its strands are dropped as they wake.
    pub(super) killed: bool,
    /// Lost in a network partition (request or response): only the caller's timeout ends it.
    pub(super) lost: bool,
    /// Index in its replica's list of running jobs (meaningful while it is `Running`).
    pub(super) slot: u32,
    /// What its worker is doing: a slot of the service's occupancy (none without a worker).
    pub(super) holding: Option<Hold>,
    /// Parallel fan-outs it is waiting on; while > 0 its worker counts as `fan-out`.
    pub(super) fanout: u16,
    /// Where it is: in transit, queued, running, or done (answer on its way).
    pub(super) phase: Phase,
    /// The deadline the service knows of (propagated).
    pub(super) deadline: Deadline,
    /// Its caller timed out and cancelled it while it was in transit.
    pub(super) cancelled: bool,
    /// The tag of the customer its processing belongs to (a queue consumer's message, or a
    /// call made while processing one), 0 for none: what it sends to a work queue joins
    /// that customer (see `broker/queues.rs`).
    pub(super) customer: u64,
}

impl Job {
    /// Whether someone still waits for its answer.
    #[inline]
    pub(super) fn awaited(&self) -> bool {
        self.orphaned_at.is_none()
    }
}

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// On its way to its replica (or held there by a hang, or lost).
    Transit,
    /// In its replica's queue.
    Queued,
    /// On a worker.
    Running,
    /// Its service is done with it; the answer is on its way.
    Done,
}

/// A line of execution through a job's steps: the job's main strand, or a branch of a
/// `Parallel` or `Choice`.
pub(super) struct Strand {
    pub(super) job: Key,
    /// The block it runs, and the index of its next step there.
    pub(super) block: BlockId,
    pub(super) idx: u32,
    /// Where to go on when the block ends: a `Choice` branch runs inline on its strand and
    /// then returns here (`None`: the strand ends with its block).
    pub(super) ret: Option<(BlockId, u32)>,
    /// The strand that waits for this one (`None`: the job's main strand).
    pub(super) parent: Option<Key>,
    /// Children still running (plus one while they are being spawned).
    pub(super) pending: u32,
    pub(super) failure: Option<Outcome>,
    /// The call step it is in, if it is in one.
    pub(super) call: Option<CallProgress>,
    /// Its children are the branches of a multi-branch `Parallel` (the job's `fanout` counts
    /// it until they join).
    pub(super) fanout: bool,
}

impl Strand {
    /// A strand of `job` at the start of `block`, waited for by `parent`.
    pub(super) fn new(job: Key, block: BlockId, parent: Option<Key>) -> Self {
        Strand {
            job,
            block,
            idx: 0,
            ret: None,
            parent,
            pending: 0,
            failure: None,
            call: None,
            fanout: false,
        }
    }
}

/// Where a strand is in a call step: attempts, backoff, permits held.
#[derive(Clone, Copy)]
pub(super) struct CallProgress {
    /// The call step.
    pub(super) call: CallId,
    /// Attempt number, 1 for the first.
    pub(super) attempt: u32,
    /// When the original call started (the caller's view of the call's latency).
    pub(super) started: u64,
    /// When the current attempt was sent.
    pub(super) attempt_sent: u64,
    /// The replica of the last attempt (none before the first).
    pub(super) last_replica: Option<u32>,
    /// Backoff memory for decorrelated jitter.
    pub(super) backoff: BackoffState,
    /// Holds a retry resource of the budget.
    pub(super) holds_retry: bool,
    /// Holds a bulkhead permit.
    pub(super) in_bulkhead: bool,
    /// Holds a breaker permit (an attempt the breaker let through is in flight).
    pub(super) in_breaker: bool,
    /// The caller's replica (to find the edge's state if the caller's job is gone).
    pub(super) caller_replica: u32,
}

impl CallProgress {
    /// Call step `call`, starting now from caller replica `caller_replica`.
    pub(super) fn new(call: CallId, now: u64, caller_replica: u32) -> Self {
        CallProgress {
            call,
            attempt: 1,
            started: now,
            attempt_sent: now,
            last_replica: None,
            backoff: BackoffState::new(),
            holds_retry: false,
            in_bulkhead: false,
            in_breaker: false,
            caller_replica,
        }
    }
}

//! Timeouts: callers that stop waiting, one FIFO of deadlines per call step and entry point.

use super::event::Event;
use super::kernel::{Key, NonMaxU64, Slab};
use super::request::{Job, Parent, Phase};
use super::simulation::Simulation;
use crate::model::{CallId, EntryId, Model};
use crate::outcome::Outcome;
use crate::time::{SimDuration, SimTime};
use std::collections::VecDeque;

/// Entries below which a timeout queue is never compacted.
const TIMEOUT_COMPACT_MIN: usize = 1024;

/// A timeout queue: one per call step, then one per entry point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct TimeoutQueueId(u32);

impl TimeoutQueueId {
    /// The queue of the callers of call step `call`.
    fn of_call(call: CallId) -> Self {
        TimeoutQueueId(call.0)
    }

    /// The queue of the clients of entry point `entry`.
    fn of_entry(model: &Model, entry: EntryId) -> Self {
        TimeoutQueueId(model.calls.len() as u32 + entry.0)
    }
}

/// Pending deadlines of one kind of wait (a call step, or an entry point's clients).
///
/// Every deadline is "send time + the same timeout", so deadlines come due in the order they
/// were set: a FIFO per kind with only its head in the event queue keeps the event queue as
/// small as the work in flight, instead of holding a stale event for every answered call.
/// A deadline whose call was answered is skipped when it comes due.
pub(super) struct TimeoutQueue {
    pending: VecDeque<(u64, Key)>,
    /// Whether an event for the head is in the event queue.
    armed: bool,
    /// Length at which answered entries are swept out.
    compact_at: usize,
}

impl TimeoutQueue {
    pub(super) fn new() -> Self {
        TimeoutQueue {
            pending: VecDeque::new(),
            armed: false,
            compact_at: TIMEOUT_COMPACT_MIN,
        }
    }
}

/// Whether the caller of `job` still waits for it.
fn awaited(jobs: &Slab<Job>, job: Key) -> bool {
    jobs.get(job).is_some_and(Job::awaited)
}

impl Simulation<'_> {
    /// The `parent` of `job` stops waiting after `timeout`, unless answered first.
    pub(super) fn arm_timeout(&mut self, job: Key, parent: Parent, timeout: SimDuration) {
        let (constant, qi) = match parent {
            Parent::Client { entry } => (
                self.model.entry_at(entry).timeout,
                TimeoutQueueId::of_entry(self.model, entry),
            ),
            Parent::Caller { call, .. } => (
                self.model.call_edge(call).timeout,
                TimeoutQueueId::of_call(call),
            ),
            Parent::TopicConsumer { .. } | Parent::QueueConsumer { .. } => {
                // Consumers do not time out; a timeout here would be its own event.
                self.clock.after(timeout, Event::JobTimeout { job });
                return;
            }
        };
        if Some(timeout) != constant {
            // Not the step's constant timeout (a propagated deadline shortened it): it would
            // break the FIFO order of the step's timeout queue, so it gets its own event.
            self.clock.after(timeout, Event::JobTimeout { job });
            return;
        }
        let deadline = SimTime(self.clock.now).after(timeout);
        let q = &mut self.timeouts[qi.0 as usize];
        q.pending.push_back((deadline.0, job));
        if !q.armed {
            q.armed = true;
            self.clock
                .schedule(deadline, Event::Timeout { deadlines: qi });
        } else if q.pending.len() >= q.compact_at {
            // Most entries belong to calls answered long ago: drop them, so memory
            // follows the calls actually waiting, not rate × timeout.
            let jobs = &self.jobs;
            q.pending.retain(|&(_, k)| awaited(jobs, k));
            q.compact_at = (2 * q.pending.len()).max(TIMEOUT_COMPACT_MIN);
        }
    }

    /// Fires every due deadline of timeout queue `qi`, then arms it for the next one.
    pub(super) fn on_timeouts_due(&mut self, qi: TimeoutQueueId) {
        let now = self.clock.now;
        let i = qi.0 as usize;
        while let Some(&(deadline, job)) = self.timeouts[i].pending.front() {
            if deadline > now {
                break;
            }
            self.timeouts[i].pending.pop_front();
            self.on_timeout(job);
        }
        // Skip deadlines of calls answered already, so the next event is a real timeout
        // (or the first call still waiting) rather than one event per answered call.
        let jobs = &self.jobs;
        let q = &mut self.timeouts[i];
        while let Some(&(_, job)) = q.pending.front() {
            if awaited(jobs, job) {
                break;
            }
            q.pending.pop_front();
        }
        match q.pending.front() {
            Some(&(deadline, _)) => self
                .clock
                .schedule(SimTime(deadline), Event::Timeout { deadlines: qi }),
            None => q.armed = false,
        }
    }

    /// The caller of `key` stops waiting, unless it already has its answer.
    pub(super) fn on_timeout(&mut self, key: Key) {
        let now = self.clock.now;
        let Some(job) = self.jobs.get_mut(key) else {
            return;
        };
        if !job.awaited() {
            return;
        }
        let waited = *job;
        job.orphaned_at = NonMaxU64::new(now);
        let cancel = match waited.parent.call() {
            None => self.model.cancel_entry_on_timeout,
            Some(c) => self.model.call_edge(c).cancel_on_timeout,
        };
        if cancel {
            match waited.phase {
                Phase::Transit => job.cancelled = true,
                Phase::Queued => self.cancel_queued(key, &waited),
                Phase::Running | Phase::Done => {}
            }
        }
        if waited.lost {
            // Nothing else will ever happen to a lost job: free it now.
            self.jobs.remove(key);
            let svc = &mut self.services[waited.service.0 as usize];
            svc.live -= 1;
            if waited.phase == Phase::Transit {
                // Lost on its way: it never reached its replica, which still counts it.
                svc.replicas[waited.replica as usize].outstanding -= 1;
            }
        }
        self.notify(&waited, Outcome::Timeout);
    }
}

//! Timeouts: callers that stop waiting, one FIFO of deadlines per call step and entry point.

use super::event::Event;
use super::kernel::Key;
use super::request::{Parent, Phase, NO_CALL};
use super::simulation::Simulation;
use crate::outcome::Outcome;
use crate::time::{SimDuration, SimTime};
use std::collections::VecDeque;

/// Entries below which a timeout queue is never compacted.
pub(super) const TIMEOUT_COMPACT_MIN: usize = 1024;

/// Pending deadlines of one kind of wait (a call step, or an entry point's clients).
///
/// Every deadline is "send time + the same timeout", so deadlines come due in the order they
/// were set: a FIFO per kind with only its head in the event queue keeps the event queue as
/// small as the work in flight, instead of holding a stale event for every answered call.
/// A deadline whose call was answered is skipped when it comes due.
pub(super) struct TimeoutQueue {
    pub(super) pending: VecDeque<(u64, Key)>,
    /// Whether an event for the head is in the event queue.
    pub(super) armed: bool,
    /// Length at which answered entries are swept out.
    pub(super) compact_at: usize,
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

impl Simulation<'_> {
    /// The caller of `job` (its `parent`, waiting through call step `call`) stops waiting
    /// after `timeout`, unless answered first.
    pub(super) fn arm_timeout(
        &mut self,
        job: Key,
        parent: Parent,
        call: u32,
        timeout: SimDuration,
    ) {
        let constant = match parent {
            Parent::Client { entry } => self.model.entries[entry as usize].timeout,
            Parent::Strand(_) => self.model.calls[call as usize].timeout,
            Parent::Consumer(_) | Parent::QueueConsumer(_) | Parent::Orphan => None,
        };
        if Some(timeout) != constant {
            // Not the step's constant timeout (a propagated deadline shortened it): it would
            // break the FIFO order of the step's timeout queue, so it gets its own event.
            self.clock.after(timeout, Event::JobTimeout { job });
            return;
        }
        let qi = match parent {
            Parent::Client { entry } => self.model.calls.len() as u32 + entry,
            _ => call,
        };
        let deadline = SimTime(self.clock.now).after(timeout);
        let q = &mut self.timeouts[qi as usize];
        q.pending.push_back((deadline.0, job));
        if !q.armed {
            q.armed = true;
            self.clock.schedule(deadline, Event::Timeout { queue: qi });
        } else if q.pending.len() >= q.compact_at {
            // Most entries belong to calls answered long ago: drop them, so memory
            // follows the calls actually waiting, not rate × timeout.
            let jobs = &self.jobs;
            q.pending
                .retain(|&(_, k)| jobs.get(k).is_some_and(|j| j.parent != Parent::Orphan));
            q.compact_at = (2 * q.pending.len()).max(TIMEOUT_COMPACT_MIN);
        }
    }

    /// Fires every due deadline of timeout queue `qi`, then arms it for the next one.
    pub(super) fn on_timeouts_due(&mut self, qi: u32) {
        let now = self.clock.now;
        while let Some(&(deadline, job)) = self.timeouts[qi as usize].pending.front() {
            if deadline > now {
                break;
            }
            self.timeouts[qi as usize].pending.pop_front();
            self.on_timeout(job);
        }
        // Skip deadlines of calls answered already, so the next event is a real timeout
        // (or the first call still waiting) rather than one event per answered call.
        let jobs = &self.jobs;
        let q = &mut self.timeouts[qi as usize];
        while let Some(&(_, job)) = q.pending.front() {
            if jobs.get(job).is_some_and(|j| j.parent != Parent::Orphan) {
                break;
            }
            q.pending.pop_front();
        }
        match q.pending.front() {
            Some(&(deadline, _)) => self
                .clock
                .schedule(SimTime(deadline), Event::Timeout { queue: qi }),
            None => q.armed = false,
        }
    }

    /// The caller of `key` stops waiting, unless it already has its answer.
    pub(super) fn on_timeout(&mut self, key: Key) {
        let now = self.clock.now;
        let Some(job) = self.jobs.get_mut(key) else {
            return;
        };
        if job.parent == Parent::Orphan {
            return;
        }
        let parent_job = *job;
        job.parent = Parent::Orphan;
        job.orphaned_at = now;
        let cancel = match parent_job.call {
            NO_CALL => self.model.cancel_entry_on_timeout,
            c => self.model.calls[c as usize].cancel_on_timeout,
        };
        if cancel {
            match parent_job.phase {
                Phase::Transit => job.cancelled = true,
                Phase::Queued => self.cancel_queued(key, &parent_job),
                Phase::Running | Phase::Done => {}
            }
        }
        if parent_job.lost {
            // Nothing else will ever happen to a lost job: free it now.
            self.jobs.remove(key);
            let svc = &mut self.services[parent_job.service as usize];
            svc.live -= 1;
            if parent_job.arrived == u64::MAX {
                svc.replicas[parent_job.replica as usize].outstanding -= 1;
            }
        }
        self.notify(&parent_job, Outcome::Timeout);
    }
}

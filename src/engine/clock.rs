//! Virtual time and what is due: the event queue, and the micro-steps of the current
//! instant.

use super::event::{Event, Micro};
use super::kernel::EventQueue;
use crate::time::{SimDuration, SimTime};
use std::collections::VecDeque;

/// The clock of a run: the current time, where the run ends, the events scheduled for later,
/// and the work due now.
pub(super) struct Clock {
    /// The current virtual time \[ns\].
    pub(super) now: u64,
    /// Where the run ends \[ns\] (a drained run: at most here).
    pub(super) end: u64,
    /// No arrivals (nor failures) are scheduled from this time on \[ns\].
    pub(super) arrivals_end: u64,
    /// A drained run: it ends when no event is left (or at `end`).
    pub(super) drain: bool,
    /// Events processed so far.
    pub(super) events: u64,
    queue: EventQueue<Event>,
    micro: VecDeque<Micro>,
}

impl Clock {
    /// A clock at time 0 of a run that ends at `end` and whose arrivals stop at
    /// `arrivals_end`.
    pub(super) fn new(end: u64, arrivals_end: u64, drain: bool) -> Self {
        Clock {
            now: 0,
            end,
            arrivals_end,
            drain,
            events: 0,
            queue: EventQueue::new(),
            micro: VecDeque::with_capacity(64),
        }
    }

    /// Schedules `event` at time `at`.
    #[inline]
    pub(super) fn schedule(&mut self, at: SimTime, event: Event) {
        self.queue.schedule(at, event);
    }

    /// Schedules `event` after `d` from now.
    #[inline]
    pub(super) fn after(&mut self, d: SimDuration, event: Event) {
        self.queue.schedule(SimTime(self.now).after(d), event);
    }

    /// Runs `m` at the current instant, after the work already due.
    #[inline]
    pub(super) fn soon(&mut self, m: Micro) {
        self.micro.push_back(m);
    }

    /// The time of the next event, if any.
    #[inline]
    pub(super) fn next_time(&self) -> Option<SimTime> {
        self.queue.peek_time()
    }

    /// Takes the next event.
    #[inline]
    pub(super) fn pop(&mut self) -> Option<(SimTime, Event)> {
        self.queue.pop()
    }

    /// Takes the next micro-step due now.
    #[inline]
    pub(super) fn pop_micro(&mut self) -> Option<Micro> {
        self.micro.pop_front()
    }
}

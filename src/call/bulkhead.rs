//! A semaphore bulkhead: at most `max_concurrent` calls in progress, with a fair (FIFO) queue
//! of callers waiting up to `max_wait` for a permit (docs/semantics.md, *Bulkhead*).
//!
//! This is resilience4j's `SemaphoreBulkhead` (`maxConcurrentCalls`, `maxWaitDuration`,
//! `fairCallHandlingEnabled = true`) and, with `max_wait` 0, Envoy's `max_requests` limit,
//! which fails fast. The bulkhead does not know what it guards: the engine passes a waiter
//! token `T` (a call id, say) and gets it back when that waiter is granted a permit or gives
//! up.
//!
//! Semantics:
//! * [`Bulkhead::try_enter`] grants a free permit at once. Otherwise, with `max_wait` 0, it
//!   rejects; with `max_wait` > 0, it queues the caller with the deadline `now + max_wait`.
//!   A free permit with callers still waiting cannot happen (a released permit passes straight
//!   to the first waiter), so a newcomer never overtakes a waiter.
//! * A waiter **times out at its deadline**: at `now ≥ deadline` it can no longer be granted,
//!   and [`Bulkhead::expire_one`] (or [`Bulkhead::expire`]) removes it as rejected. A permit
//!   freed exactly at the deadline goes to the next waiter instead. So a caller waits at most
//!   `max_wait`.
//! * [`Bulkhead::leave`] passes the permit to the first waiter whose deadline has not come,
//!   and returns its token so the engine can start it; the permit count does not change.
//! * Because `max_wait` is fixed and time does not run backwards, deadlines never decrease
//!   along the queue: expired waiters always form a prefix, [`Bulkhead::next_deadline`] is
//!   the front's, and popping them is O(1) each.
//! * [`Bulkhead::cancel`] removes a waiter that gave up for its own reason (the caller's
//!   timeout, a cancelled parent); it is not counted as a rejection.
//!
//! No call allocates once the queue has grown to its peak length.

use crate::error::Problem;
use crate::time::{SimDuration, SimTime};
use std::collections::VecDeque;

/// Checks a bulkhead's configuration as a user writes it: `max_concurrent` must let at least
/// one call through (a [`Bulkhead`] with 0 permits is well defined, but fails every call).
/// The problem is at the field `max_concurrent`.
pub fn validate(max_concurrent: u32) -> Result<(), Problem> {
    if max_concurrent == 0 {
        return Err(Problem::new(
            "max_concurrent",
            "a bulkhead must let at least 1 call through",
        )
        .with_hint("remove the bulkhead for no limit"));
    }
    Ok(())
}

/// The answer to [`Bulkhead::try_enter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// A permit was taken: the call may start now.
    Granted,
    /// No permit is free: the caller waits until [`Bulkhead::leave`] hands it one, or until
    /// its deadline `now + max_wait`, when it is rejected (see [`Bulkhead::next_deadline`]).
    Queued,
    /// No permit is free and `max_wait` is 0: the call fails at once (counted).
    Rejected,
}

#[derive(Clone, Copy, Debug)]
struct Waiter<T> {
    deadline: SimTime,
    token: T,
}

/// A semaphore with `max_concurrent` permits and a FIFO queue of waiters with deadlines.
#[derive(Clone, Debug)]
pub struct Bulkhead<T> {
    max_concurrent: u32,
    max_wait: SimDuration,
    in_use: u32,
    waiters: VecDeque<Waiter<T>>,
    rejected_at_once: u64,
    timed_out: u64,
}

impl<T: Copy> Bulkhead<T> {
    /// A bulkhead with every permit free. `max_concurrent` 0 admits nothing (every call waits
    /// and times out, or is rejected); `max_wait` 0 rejects at once when full.
    pub fn new(max_concurrent: u32, max_wait: SimDuration) -> Self {
        Bulkhead {
            max_concurrent,
            max_wait,
            in_use: 0,
            waiters: VecDeque::new(),
            rejected_at_once: 0,
            timed_out: 0,
        }
    }

    /// A caller asks for a permit at `now`: granted, queued until `now + max_wait`, or (with
    /// `max_wait` 0) rejected and counted. The engine must pass non-decreasing times.
    pub fn try_enter(&mut self, now: SimTime, token: T) -> Admit {
        if self.in_use < self.max_concurrent {
            debug_assert!(
                self.waiters.iter().all(|w| w.deadline <= now),
                "a permit was free while a live caller waited"
            );
            self.in_use += 1;
            return Admit::Granted;
        }
        if self.max_wait == SimDuration::ZERO {
            self.rejected_at_once += 1;
            return Admit::Rejected;
        }
        let deadline = now.after(self.max_wait);
        debug_assert!(
            self.waiters.back().is_none_or(|w| w.deadline <= deadline),
            "time ran backwards"
        );
        self.waiters.push_back(Waiter { deadline, token });
        Admit::Queued
    }

    /// A call holding a permit finished at `now`. If a caller is waiting and its deadline has
    /// not come, the permit passes to the first such caller and its token is returned: the
    /// engine starts that call now. Otherwise the permit becomes free and `None` is returned.
    ///
    /// Expired waiters ahead of the chosen one stay queued for [`expire_one`](Self::expire_one).
    pub fn leave(&mut self, now: SimTime) -> Option<T> {
        debug_assert!(self.in_use > 0, "left a bulkhead that was not entered");
        let first_live = self.waiters.partition_point(|w| w.deadline <= now);
        if let Some(w) = self.waiters.remove(first_live) {
            return Some(w.token);
        }
        self.in_use = self.in_use.saturating_sub(1);
        None
    }

    /// Removes the first waiter whose deadline is at or before `now`, counts it as rejected and
    /// returns its token; `None` when no waiter has expired. Call until `None` (or use
    /// [`expire`](Self::expire)).
    pub fn expire_one(&mut self, now: SimTime) -> Option<T> {
        if self.waiters.front()?.deadline <= now {
            self.timed_out += 1;
            return self.waiters.pop_front().map(|w| w.token);
        }
        None
    }

    /// Every waiter whose deadline is at or before `now`, removed and counted as rejected, in
    /// queue order. The iterator pops lazily and allocates nothing; dropping it early leaves
    /// the rest queued.
    pub fn expire(&mut self, now: SimTime) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || self.expire_one(now))
    }

    /// The earliest deadline among the waiters (the front's), if any wait.
    pub fn next_deadline(&self) -> Option<SimTime> {
        self.waiters.front().map(|w| w.deadline)
    }

    /// Permits held now.
    pub fn in_use(&self) -> u32 {
        self.in_use
    }

    /// Callers waiting now (including expired ones not yet popped).
    pub fn waiting(&self) -> usize {
        self.waiters.len()
    }

    /// Callers rejected so far: at once (full, `max_wait` 0) plus timed out while waiting.
    pub fn rejected(&self) -> u64 {
        self.rejected_at_once + self.timed_out
    }

    /// Callers that waited and timed out so far (a part of [`rejected`](Self::rejected)).
    pub fn timed_out(&self) -> u64 {
        self.timed_out
    }

    /// The number of permits.
    pub fn max_concurrent(&self) -> u32 {
        self.max_concurrent
    }

    /// How long a caller may wait for a permit.
    pub fn max_wait(&self) -> SimDuration {
        self.max_wait
    }
}

impl<T: Copy + PartialEq> Bulkhead<T> {
    /// Removes the waiter with `token` (its caller gave up for its own reason); returns whether
    /// it was queued. Not counted as a rejection. O(queue length): a linear search and a
    /// removal from the middle.
    pub fn cancel(&mut self, token: T) -> bool {
        match self.waiters.iter().position(|w| w.token == token) {
            Some(i) => {
                self.waiters.remove(i);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SimRng;
    use rand::{Rng, SeedableRng};

    fn t(ms: u64) -> SimTime {
        SimTime(ms * 1_000_000)
    }

    #[test]
    fn validate_wants_at_least_one_permit() {
        assert_eq!(validate(1), Ok(()));
        let p = validate(0).unwrap_err();
        assert_eq!(p.path, "max_concurrent");
        assert_eq!(
            p.to_string(),
            "max_concurrent: a bulkhead must let at least 1 call through; remove the bulkhead for no limit"
        );
    }

    fn wait(ms: u64) -> SimDuration {
        SimDuration::from_millis(ms)
    }

    #[test]
    fn max_wait_zero_rejects_at_once() {
        let mut b = Bulkhead::new(2, SimDuration::ZERO);
        assert_eq!(b.try_enter(t(0), 1), Admit::Granted);
        assert_eq!(b.try_enter(t(0), 2), Admit::Granted);
        assert_eq!(b.try_enter(t(0), 3), Admit::Rejected);
        assert_eq!(b.try_enter(t(1), 4), Admit::Rejected);
        assert_eq!(
            (b.in_use(), b.waiting(), b.rejected(), b.timed_out()),
            (2, 0, 2, 0)
        );
        assert_eq!(b.leave(t(2)), None);
        assert_eq!(b.in_use(), 1);
        assert_eq!(b.try_enter(t(2), 5), Admit::Granted);
        assert_eq!(b.next_deadline(), None);
    }

    #[test]
    fn leave_hands_the_permit_to_waiters_in_fifo_order() {
        let mut b = Bulkhead::new(1, wait(100));
        assert_eq!(b.try_enter(t(0), 'a'), Admit::Granted);
        assert_eq!(b.try_enter(t(1), 'b'), Admit::Queued);
        assert_eq!(b.try_enter(t(2), 'c'), Admit::Queued);
        assert_eq!(b.try_enter(t(3), 'd'), Admit::Queued);
        assert_eq!(b.next_deadline(), Some(t(101)));
        assert_eq!(b.leave(t(10)), Some('b'));
        assert_eq!(b.in_use(), 1);
        assert_eq!(b.leave(t(20)), Some('c'));
        assert_eq!(b.next_deadline(), Some(t(103)));
        assert_eq!(b.leave(t(30)), Some('d'));
        assert_eq!(b.leave(t(40)), None);
        assert_eq!((b.in_use(), b.waiting(), b.rejected()), (0, 0, 0));
    }

    #[test]
    fn waiters_expire_at_their_deadline() {
        let mut b = Bulkhead::new(1, wait(50));
        b.try_enter(t(0), 1);
        b.try_enter(t(10), 2); // deadline 60
        b.try_enter(t(20), 3); // deadline 70
        b.try_enter(t(30), 4); // deadline 80
        assert_eq!(b.expire_one(t(59)), None);
        // At the deadline exactly, the waiter is gone.
        assert_eq!(b.expire(t(70)).collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!((b.rejected(), b.timed_out(), b.waiting()), (2, 2, 1));
        assert_eq!(b.next_deadline(), Some(t(80)));
        assert_eq!(b.in_use(), 1);
        // Dropping the iterator early leaves the rest queued.
        let mut b = Bulkhead::new(0, wait(5));
        for k in 0..4 {
            assert_eq!(b.try_enter(t(0), k), Admit::Queued);
            assert_eq!(b.next_deadline(), Some(t(5)));
        }
        assert_eq!(b.expire(t(5)).next(), Some(0));
        assert_eq!(b.waiting(), 3);
    }

    #[test]
    fn leave_skips_expired_waiters_and_leaves_them_for_expiry() {
        let mut b = Bulkhead::new(1, wait(50));
        b.try_enter(t(0), 1);
        b.try_enter(t(0), 2); // deadline 50
        b.try_enter(t(20), 3); // deadline 70
                               // At 50 waiter 2 has timed out (not yet popped); the permit goes to 3.
        assert_eq!(b.leave(t(50)), Some(3));
        assert_eq!(b.in_use(), 1);
        assert_eq!(b.expire_one(t(50)), Some(2));
        assert_eq!(b.expire_one(t(50)), None);
        // Only expired waiters left: the permit becomes free, and a newcomer gets it.
        b.try_enter(t(60), 4); // deadline 110
        assert_eq!(b.leave(t(200)), None);
        assert_eq!(b.in_use(), 0);
        assert_eq!(b.try_enter(t(200), 5), Admit::Granted);
        assert_eq!(b.expire(t(200)).collect::<Vec<_>>(), vec![4]);
        assert_eq!(b.rejected(), 2);
    }

    #[test]
    fn cancel_removes_a_waiter_without_counting_it() {
        let mut b = Bulkhead::new(1, wait(100));
        b.try_enter(t(0), 1);
        for k in 2..=5 {
            b.try_enter(t(k), k);
        }
        assert!(b.cancel(3));
        assert!(!b.cancel(3));
        assert!(!b.cancel(1)); // holds a permit, not waiting
        assert_eq!(b.waiting(), 3);
        assert!(b.cancel(2));
        assert_eq!(b.next_deadline(), Some(t(104)));
        assert_eq!(b.leave(t(10)), Some(4));
        assert_eq!(b.leave(t(10)), Some(5));
        assert_eq!(b.leave(t(10)), None);
        assert_eq!(b.rejected(), 0);
    }

    #[test]
    fn zero_permits_admit_nothing() {
        let mut b = Bulkhead::new(0, SimDuration::ZERO);
        assert_eq!(b.try_enter(t(0), ()), Admit::Rejected);
        let mut b = Bulkhead::new(0, wait(1));
        assert_eq!(b.try_enter(t(0), ()), Admit::Queued);
        assert_eq!(b.next_deadline(), Some(t(1)));
        assert_eq!(b.expire(t(1)).count(), 1);
        assert_eq!(b.rejected(), 1);
    }

    /// A random script of enters, leaves, expiries and cancels against a simple model: the
    /// limit is never exceeded, grants follow arrival order among live waiters, nobody waits
    /// longer than max_wait, and every caller is accounted for exactly once.
    #[test]
    fn random_scripts_respect_limit_fifo_and_accounting() {
        let mut rng = SimRng::seed_from_u64(42);
        for &(max, max_wait_ms) in &[(1u32, 0u64), (1, 5), (3, 0), (3, 7), (8, 20)] {
            let mut b: Bulkhead<u32> = Bulkhead::new(max, wait(max_wait_ms));
            let mut now = 0u64;
            let mut next_id = 0u32;
            let mut running: Vec<u32> = Vec::new();
            let mut arrived_at: Vec<u64> = Vec::new();
            let (mut granted, mut rejected, mut cancelled) = (0u64, 0u64, 0u64);
            let mut last_granted_waiter: Option<u32> = None;
            for _ in 0..20_000 {
                now += rng.random_range(0..3u64);
                let now_t = t(now);
                for id in b.expire(now_t) {
                    assert!(now >= arrived_at[id as usize] + max_wait_ms);
                    rejected += 1;
                }
                match rng.random_range(0..10u32) {
                    0..=4 => {
                        let id = next_id;
                        next_id += 1;
                        arrived_at.push(now);
                        match b.try_enter(now_t, id) {
                            Admit::Granted => {
                                granted += 1;
                                running.push(id);
                            }
                            Admit::Queued => {
                                assert!(max_wait_ms > 0);
                                assert!(b
                                    .next_deadline()
                                    .is_some_and(|d| d <= t(now + max_wait_ms)));
                                assert_eq!(b.in_use(), max);
                            }
                            Admit::Rejected => {
                                assert_eq!(max_wait_ms, 0);
                                assert_eq!(b.in_use(), max);
                                rejected += 1;
                            }
                        }
                    }
                    5..=8 if !running.is_empty() => {
                        let i = rng.random_range(0..running.len());
                        running.swap_remove(i);
                        if let Some(id) = b.leave(now_t) {
                            // Waited less than max_wait, and FIFO among waiters.
                            assert!(now < arrived_at[id as usize] + max_wait_ms);
                            assert!(last_granted_waiter.is_none_or(|l| l < id));
                            last_granted_waiter = Some(id);
                            granted += 1;
                            running.push(id);
                        }
                    }
                    _ => {
                        if b.waiting() > 0 && next_id > 0 {
                            // One of the latest arrivals, which are the likeliest to wait.
                            let id = next_id - 1 - rng.random_range(0..next_id.min(8));
                            if b.cancel(id) {
                                cancelled += 1;
                            }
                        }
                    }
                }
                assert!(b.in_use() <= max);
                assert_eq!(b.in_use() as usize, running.len());
                if b.in_use() < max {
                    assert!(b.next_deadline().is_none_or(|d| d <= now_t));
                }
            }
            assert_eq!(b.rejected(), rejected);
            assert_eq!(
                granted + rejected + cancelled + b.waiting() as u64,
                u64::from(next_id),
                "max {max} wait {max_wait_ms}"
            );
        }
    }
}

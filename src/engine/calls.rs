//! Call steps: attempts through the breaker and the bulkhead, retries after backoff within
//! the budget, the end of a call (fallback or failure), and the timers these need.

use super::event::{Event, Micro};
use super::kernel::Key;
use super::observer::HOLD_BACKOFF;
use super::request::{Dispatch, Parent, NO_CALL};
use super::simulation::Simulation;
use crate::call::breaker::CircuitBreaker;
use crate::call::budget::BudgetState;
use crate::call::bulkhead::{Admit, Bulkhead};
use crate::model::OnFailure;
use crate::outcome::Outcome;
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// The resilience state of one call step at one caller replica.
pub(super) struct EdgeReplica {
    pub(super) breaker: Option<CircuitBreaker>,
    /// Time of the breaker timer event in the queue (`u64::MAX`: none).
    pub(super) breaker_timer: u64,
    pub(super) budget: Option<BudgetState>,
    pub(super) bulkhead: Option<Bulkhead<Key>>,
    /// Time of the bulkhead expiry event in the queue (`u64::MAX`: none).
    pub(super) bulkhead_timer: u64,
}

/// The state of one call step: its random streams, and its resilience state per caller
/// replica.
pub(super) struct CallState {
    pub(super) rng: SimRng,
    pub(super) retry_rng: SimRng,
    pub(super) per_replica: Vec<EdgeReplica>,
}

impl<'m> Simulation<'m> {
    /// The caller replica of a strand's job, if the job is still there.
    pub(super) fn caller_replica(&self, strand: Key) -> Option<(u32, u32)> {
        let s = self.strands.get(strand)?;
        let j = self.jobs.get(s.job).filter(|j| !j.killed)?;
        Some((s.call.call, j.replica))
    }

    /// Starts the strand's next attempt: breaker, then bulkhead, then the callee.
    pub(super) fn start_attempt(&mut self, strand: Key) {
        let Some((cid, r)) = self.caller_replica(strand) else {
            self.abandon(strand);
            return;
        };
        if let Some(job) = self.strands.get(strand).map(|s| s.job) {
            self.set_holding(job, self.observer.call_slot(cid));
        }
        let now = self.clock.now;
        let edge = &mut self.calls[cid as usize].per_replica[r as usize];
        if let Some(b) = &mut edge.breaker {
            let permitted = b.try_acquire(SimTime(now));
            if let Some(s) = self.strands.get_mut(strand) {
                s.call.in_breaker = permitted;
            }
            if !permitted {
                self.observer.not_permitted(cid, now);
                self.arm_breaker_timer(cid, r);
                self.attempt_failed(strand, Outcome::CircuitOpen);
                return;
            }
            self.arm_breaker_timer(cid, r);
        }
        let edge = &mut self.calls[cid as usize].per_replica[r as usize];
        if let Some(bh) = &mut edge.bulkhead {
            match bh.try_enter(SimTime(now), strand) {
                Admit::Granted => {}
                Admit::Queued => {
                    if let Some(job) = self.strands.get(strand).map(|s| s.job) {
                        self.set_holding(job, HOLD_BACKOFF);
                    }
                    self.arm_bulkhead_timer(cid, r);
                    return;
                }
                Admit::Rejected => {
                    self.observer.bulkhead_rejected(cid, now);
                    self.record_breaker(strand, cid, r, SimDuration::ZERO, true);
                    self.attempt_failed(strand, Outcome::Rejected);
                    return;
                }
            }
        }
        self.send_attempt(strand);
    }

    /// Sends the attempt to the callee (breaker and bulkhead have let it through).
    pub(super) fn send_attempt(&mut self, strand: Key) {
        let model = self.model;
        let now = self.clock.now;
        let Some(s) = self.strands.get_mut(strand) else {
            return;
        };
        let cid = s.call.call;
        let call = &model.calls[cid as usize];
        s.call.attempt_sent = now;
        s.call.in_bulkhead = call.bulkhead.is_some();
        let avoid = match &call.retry {
            Some(r) if r.other_replica && s.call.attempt > 1 => s.call.last_replica,
            _ => u32::MAX,
        };
        self.observer.attempt_sent(cid, now);
        let c = &mut self.calls[cid as usize];
        let latency = call.latency.as_ref().map(|d| d.sample(&mut c.rng));
        let (deadline, timeout) = if call.propagate_deadline {
            let caller = self
                .strands
                .get(strand)
                .and_then(|s| self.jobs.get(s.job))
                .map_or(u64::MAX, |j| j.deadline);
            let own = call.timeout.map_or(u64::MAX, |t| SimTime(now).after(t).0);
            let deadline = own.min(caller);
            if deadline <= now {
                // No time left: the call is not even sent.
                self.attempt_failed(strand, Outcome::Timeout);
                return;
            }
            (
                deadline,
                (deadline != u64::MAX).then(|| SimDuration(deadline - now)),
            )
        } else {
            (u64::MAX, call.timeout)
        };
        let (lost, extra) = self.edge_faults(cid);
        let latency = match (latency, extra) {
            (l, SimDuration(0)) => l,
            (l, e) => Some(SimDuration(l.unwrap_or_default().0 + e.0)),
        };
        let job = self.send(Dispatch {
            parent: Parent::Strand(strand),
            service: call.to.0,
            call: cid,
            timeout,
            latency,
            avoid_replica: avoid,
            lost,
            deadline,
            pin: u32::MAX,
        });
        let replica = self.jobs.get(job).map_or(u32::MAX, |j| j.replica);
        if let Some(s) = self.strands.get_mut(strand) {
            s.call.last_replica = replica;
        }
    }

    /// An attempt of the strand's call ended with `outcome` (from the callee or a timeout).
    pub(super) fn attempt_done(&mut self, strand: Key, outcome: Outcome) {
        let Some((cid, r)) = self.caller_replica(strand) else {
            self.abandon(strand);
            return;
        };
        let now = self.clock.now;
        let Some(s) = self.strands.get_mut(strand) else {
            return;
        };
        let duration = SimDuration(now - s.call.attempt_sent);
        let held_permit = std::mem::replace(&mut s.call.in_bulkhead, false);
        if held_permit {
            self.release_bulkhead(cid, r);
        }
        let failed = outcome.is_failure();
        if let Some(b) = &mut self.calls[cid as usize].per_replica[r as usize].budget {
            if failed {
                b.on_failure();
            } else {
                b.on_success();
            }
        }
        self.record_breaker(strand, cid, r, duration, failed);
        if failed {
            self.attempt_failed(strand, outcome);
        } else {
            if outcome == Outcome::Degraded {
                self.mark_degraded(strand);
            }
            self.call_finished(strand, Outcome::Ok);
        }
    }

    /// Drops a strand whose job is gone (its replica crashed), giving back what its call
    /// step held: a bulkhead permit, a breaker permit, a retry slot and the active-call count
    /// of the budget.
    pub(super) fn abandon(&mut self, strand: Key) {
        let Some(s) = self.strands.remove(strand) else {
            return;
        };
        let c = s.call;
        if c.call == NO_CALL || !c.active {
            return;
        }
        let (cid, r) = (c.call, c.caller_replica);
        if c.in_bulkhead {
            self.release_bulkhead(cid, r);
        }
        let edge = &mut self.calls[cid as usize].per_replica[r as usize];
        if c.in_breaker {
            if let Some(b) = &mut edge.breaker {
                b.on_ignored();
            }
        }
        if let Some(b) = &mut edge.budget {
            if c.holds_retry {
                b.on_retry_end();
            }
            b.on_request_end();
        }
    }

    /// Frees a bulkhead permit; the next waiter, if any, gets it.
    pub(super) fn release_bulkhead(&mut self, cid: u32, r: u32) {
        let edge = &mut self.calls[cid as usize].per_replica[r as usize];
        if let Some(next) = edge
            .bulkhead
            .as_mut()
            .and_then(|b| b.leave(SimTime(self.clock.now)))
        {
            self.clock.soon(Micro::Attempt {
                strand: next,
                call: cid,
                replica: r,
            });
        }
    }

    /// Records an attempt's result in the breaker that let it through (a no-op without one).
    pub(super) fn record_breaker(
        &mut self,
        strand: Key,
        cid: u32,
        r: u32,
        duration: SimDuration,
        failed: bool,
    ) {
        match self.strands.get_mut(strand) {
            Some(s) if s.call.in_breaker => s.call.in_breaker = false,
            _ => return,
        }
        if let Some(b) = &mut self.calls[cid as usize].per_replica[r as usize].breaker {
            b.on_result(SimTime(self.clock.now), duration, failed);
            self.arm_breaker_timer(cid, r);
        }
    }

    /// A failed attempt: retry after a backoff if the policy and the budget allow, else the
    /// call ends with `outcome`.
    pub(super) fn attempt_failed(&mut self, strand: Key, outcome: Outcome) {
        let model = self.model;
        let Some((cid, r)) = self.caller_replica(strand) else {
            self.abandon(strand);
            return;
        };
        let Some(policy) = &model.calls[cid as usize].retry else {
            self.call_finished(strand, outcome);
            return;
        };
        let Some(s) = self.strands.get_mut(strand) else {
            return;
        };
        if !policy.retry_on[outcome.index()] || s.call.attempt >= policy.attempts {
            self.call_finished(strand, outcome);
            return;
        }
        let c = &mut self.calls[cid as usize];
        if let Some(b) = &mut c.per_replica[r as usize].budget {
            // Envoy releases the previous retry resource at the next retry decision.
            if s.call.holds_retry {
                b.on_retry_end();
                s.call.holds_retry = false;
            }
            if !b.try_start_retry() {
                self.observer.retry_denied(cid, self.clock.now);
                self.call_finished(strand, outcome);
                return;
            }
            s.call.holds_retry = true;
        }
        let retry = s.call.attempt;
        s.call.attempt += 1;
        let delay = s
            .call
            .backoff
            .next(&policy.backoff, policy.jitter, retry, &mut c.retry_rng);
        self.observer.retried(cid, self.clock.now);
        if delay > SimDuration::ZERO {
            if let Some(job) = self.strands.get(strand).map(|s| s.job) {
                self.set_holding(job, HOLD_BACKOFF);
            }
            self.clock.schedule(
                SimTime(self.clock.now).after(delay),
                Event::RetryDue { strand },
            );
        } else {
            self.start_attempt(strand);
        }
    }

    /// The call step is over with `outcome` (after any retries): statistics, then the
    /// strand goes on, fails, or runs the fallback.
    pub(super) fn call_finished(&mut self, strand: Key, outcome: Outcome) {
        let model = self.model;
        let now = self.clock.now;
        let Some((cid, r)) = self.caller_replica(strand) else {
            self.abandon(strand);
            return;
        };
        let Some(s) = self.strands.get_mut(strand) else {
            return;
        };
        let started = s.call.started;
        s.call.active = false;
        let holds_retry = std::mem::replace(&mut s.call.holds_retry, false);
        self.observer.call_ended(cid, started, now, outcome);
        if let Some(b) = &mut self.calls[cid as usize].per_replica[r as usize].budget {
            if holds_retry {
                b.on_retry_end();
            }
            b.on_request_end();
        }
        if outcome.is_available() {
            self.run_strand(strand);
            return;
        }
        match &model.calls[cid as usize].on_failure {
            OnFailure::Fail => self.finish_strand(strand, Some(outcome)),
            OnFailure::Ignore => self.run_strand(strand),
            OnFailure::Fallback(d) => {
                self.mark_degraded(strand);
                let service = self
                    .strands
                    .get(strand)
                    .and_then(|s| self.jobs.get(s.job))
                    .map_or(0, |j| j.service as usize);
                let delay = d.sample(&mut self.services[service].work_rng);
                if delay > SimDuration::ZERO {
                    let job = self.strands.get(strand).map(|s| s.job);
                    let replica = job
                        .and_then(|j| self.jobs.get(j))
                        .map_or(0, |j| j.replica as usize);
                    self.begin_work(strand, job.unwrap_or(Key::NONE), service, replica, delay);
                } else {
                    self.run_strand(strand);
                }
            }
        }
    }

    pub(super) fn mark_degraded(&mut self, strand: Key) {
        if let Some(job) = self.strands.get(strand).map(|s| s.job) {
            if let Some(j) = self.jobs.get_mut(job) {
                j.degraded = true;
            }
        }
    }

    /// Keeps one timer event in the queue for the breaker's next timed transition.
    pub(super) fn arm_breaker_timer(&mut self, cid: u32, r: u32) {
        let edge = &mut self.calls[cid as usize].per_replica[r as usize];
        let Some(t) = edge.breaker.as_ref().and_then(|b| b.next_timer()) else {
            return;
        };
        if t.0 != edge.breaker_timer && t.0 < self.clock.end {
            edge.breaker_timer = t.0;
            self.clock.schedule(
                t,
                Event::BreakerTimer {
                    call: cid,
                    replica: r,
                },
            );
        }
    }

    pub(super) fn on_breaker_timer(&mut self, cid: u32, r: u32) {
        let now = self.clock.now;
        let edge = &mut self.calls[cid as usize].per_replica[r as usize];
        if edge.breaker_timer != now {
            return; // superseded by a later schedule
        }
        edge.breaker_timer = u64::MAX;
        if let Some(b) = &mut edge.breaker {
            if b.next_timer().is_some_and(|t| t.0 <= now) {
                b.on_timer(SimTime(now));
            }
        }
        self.arm_breaker_timer(cid, r);
    }

    pub(super) fn arm_bulkhead_timer(&mut self, cid: u32, r: u32) {
        let edge = &mut self.calls[cid as usize].per_replica[r as usize];
        let Some(t) = edge.bulkhead.as_ref().and_then(|b| b.next_deadline()) else {
            return;
        };
        if edge.bulkhead_timer == u64::MAX || t.0 < edge.bulkhead_timer {
            edge.bulkhead_timer = t.0;
            self.clock.schedule(
                t,
                Event::BulkheadExpire {
                    call: cid,
                    replica: r,
                },
            );
        }
    }

    pub(super) fn on_bulkhead_expire(&mut self, cid: u32, r: u32) {
        let now = self.clock.now;
        let edge = &mut self.calls[cid as usize].per_replica[r as usize];
        if edge.bulkhead_timer != now {
            return;
        }
        edge.bulkhead_timer = u64::MAX;
        while let Some(strand) = self.calls[cid as usize].per_replica[r as usize]
            .bulkhead
            .as_mut()
            .and_then(|b| b.expire_one(SimTime(now)))
        {
            self.observer.bulkhead_rejected(cid, now);
            self.record_breaker(strand, cid, r, SimDuration::ZERO, true);
            self.attempt_failed(strand, Outcome::Rejected);
        }
        self.arm_bulkhead_timer(cid, r);
    }
}

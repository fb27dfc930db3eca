//! Call steps: attempts through the breaker and the bulkhead, retries after backoff within
//! the budget, the end of a call (fallback or failure), and the timers these need.

use super::event::{Event, Micro};
use super::kernel::Key;
use super::observer::Hold;
use super::request::{CallProgress, Deadline, Dispatch, Parent};
use super::simulation::Simulation;
use crate::call::breaker::CircuitBreaker;
use crate::call::budget::BudgetState;
use crate::call::bulkhead::{Admit, Bulkhead};
use crate::model::{CallId, OnFailure};
use crate::outcome::Outcome;
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// The resilience state of one call step at one caller replica.
pub(super) struct EdgeReplica {
    pub(super) breaker: Option<CircuitBreaker>,
    /// When the breaker's timer event in the queue is due, if one is.
    pub(super) breaker_timer: Option<u64>,
    pub(super) budget: Option<BudgetState>,
    pub(super) bulkhead: Option<Bulkhead<Key>>,
    /// When the bulkhead's expiry event in the queue is due, if one is.
    pub(super) bulkhead_timer: Option<u64>,
}

/// The state of one call step: its random streams, and its resilience state per caller
/// replica.
///
/// Each random decision of the step has a stream of its own, keyed by the step's path in
/// the file (`services[api].steps[1]`): adding a call elsewhere, or changing this
/// one's retry policy, leaves the other draws as they were.
pub(super) struct CallState {
    /// Whether the call is made (`probability`).
    pub(super) route_rng: SimRng,
    /// The network latency of each request.
    pub(super) request_rng: SimRng,
    /// The network latency of each response.
    pub(super) response_rng: SimRng,
    /// The jitter of retry backoffs.
    pub(super) retry_rng: SimRng,
    /// The duration of fallbacks.
    pub(super) fallback_rng: SimRng,
    pub(super) per_replica: Vec<EdgeReplica>,
}

impl Simulation<'_> {
    /// The call step a strand is in and its caller replica, if the strand and its job are
    /// still there.
    pub(super) fn caller_replica(&self, strand: Key) -> Option<(CallId, u32)> {
        let s = self.strands.get(strand)?;
        let call = s.call.as_ref()?.call;
        let j = self.jobs.get(s.job).filter(|j| !j.killed)?;
        Some((call, j.replica))
    }

    /// Where strand `strand` is in its call step, to change.
    fn progress(&mut self, strand: Key) -> Option<&mut CallProgress> {
        self.strands.get_mut(strand)?.call.as_mut()
    }

    /// The resilience state of call step `call` at caller replica `replica`.
    fn edge(&mut self, call: CallId, replica: u32) -> &mut EdgeReplica {
        &mut self.calls[call.0 as usize].per_replica[replica as usize]
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
        if let Some(b) = &mut self.edge(cid, r).breaker {
            let permitted = b.try_acquire(SimTime(now));
            if let Some(c) = self.progress(strand) {
                c.in_breaker = permitted;
            }
            self.arm_breaker_timer(cid, r);
            if !permitted {
                self.observer.not_permitted(cid, now);
                self.attempt_failed(strand, Outcome::CircuitOpen);
                return;
            }
        }
        if let Some(bh) = &mut self.edge(cid, r).bulkhead {
            match bh.try_enter(SimTime(now), strand) {
                Admit::Granted => {}
                Admit::Queued => {
                    if let Some(job) = self.strands.get(strand).map(|s| s.job) {
                        self.set_holding(job, Hold::BACKOFF);
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
        let Some(c) = self.progress(strand) else {
            return;
        };
        let cid = c.call;
        let call = model.call_edge(cid);
        c.attempt_sent = now;
        c.in_bulkhead = call.bulkhead.is_some();
        let avoid = match &call.retry {
            Some(r) if r.other_replica && c.attempt > 1 => c.last_replica,
            _ => None,
        };
        self.observer.attempt_sent(cid, now);
        let state = &mut self.calls[cid.0 as usize];
        let latency = call
            .latency
            .as_ref()
            .map(|d| d.sample(&mut state.request_rng));
        // What the call inherits from its caller's job: the deadline (if it propagates) and
        // the customer of a network of work queues its processing belongs to.
        let (caller, customer) = self
            .strands
            .get(strand)
            .and_then(|s| self.jobs.get(s.job))
            .map_or((Deadline::NONE, 0), |j| (j.deadline, j.customer));
        let (deadline, timeout) = if call.propagate_deadline {
            let own = call
                .timeout
                .map_or(Deadline::NONE, |t| Deadline::at(SimTime(now).after(t)));
            let deadline = own.earlier(caller);
            if deadline.passed(now) {
                // No time left: the call is not even sent.
                self.attempt_failed(strand, Outcome::Timeout);
                return;
            }
            (deadline, deadline.get().map(|d| SimDuration(d - now)))
        } else {
            (Deadline::NONE, call.timeout)
        };
        let (lost, extra) = self.edge_faults(cid);
        let latency = match (latency, extra) {
            (l, SimDuration(0)) => l,
            (l, e) => Some(SimDuration(l.unwrap_or_default().0 + e.0)),
        };
        let job = self.send(Dispatch {
            timeout,
            latency,
            avoid,
            lost,
            deadline,
            customer,
            ..Dispatch::new(Parent::Caller { strand, call: cid }, call.to)
        });
        let replica = self.jobs.get(job).map(|j| j.replica);
        if let Some(c) = self.progress(strand) {
            c.last_replica = replica;
        }
    }

    /// An attempt of the strand's call ended with `outcome` (from the callee or a timeout).
    pub(super) fn attempt_done(&mut self, strand: Key, outcome: Outcome) {
        let Some((cid, r)) = self.caller_replica(strand) else {
            self.abandon(strand);
            return;
        };
        let now = self.clock.now;
        let Some(c) = self.progress(strand) else {
            return;
        };
        let duration = SimDuration(now - c.attempt_sent);
        let held_permit = std::mem::replace(&mut c.in_bulkhead, false);
        if held_permit {
            self.release_bulkhead(cid, r);
        }
        let failed = outcome.is_failure();
        if let Some(b) = &mut self.edge(cid, r).budget {
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
        let Some(c) = s.call else {
            return;
        };
        let (cid, r) = (c.call, c.caller_replica);
        if c.in_bulkhead {
            self.release_bulkhead(cid, r);
        }
        let edge = self.edge(cid, r);
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
    pub(super) fn release_bulkhead(&mut self, cid: CallId, r: u32) {
        let now = SimTime(self.clock.now);
        if let Some(next) = self
            .edge(cid, r)
            .bulkhead
            .as_mut()
            .and_then(|b| b.leave(now))
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
        cid: CallId,
        r: u32,
        duration: SimDuration,
        failed: bool,
    ) {
        match self.progress(strand) {
            Some(c) if c.in_breaker => c.in_breaker = false,
            _ => return,
        }
        let now = SimTime(self.clock.now);
        if let Some(b) = &mut self.edge(cid, r).breaker {
            b.on_result(now, duration, failed);
            self.arm_breaker_timer(cid, r);
        }
    }

    /// A failed attempt: retry after a backoff if the policy and the budget allow, else the
    /// call ends with `outcome`.
    pub(super) fn attempt_failed(&mut self, strand: Key, outcome: Outcome) {
        let model = self.model;
        let now = self.clock.now;
        let Some((cid, r)) = self.caller_replica(strand) else {
            self.abandon(strand);
            return;
        };
        let Some(policy) = &model.call_edge(cid).retry else {
            self.call_finished(strand, outcome);
            return;
        };
        let Some(c) = self.strands.get_mut(strand).and_then(|s| s.call.as_mut()) else {
            return;
        };
        if !policy.retry_on[outcome.index()] || c.attempt >= policy.attempts {
            self.call_finished(strand, outcome);
            return;
        }
        let state = &mut self.calls[cid.0 as usize];
        if let Some(b) = &mut state.per_replica[r as usize].budget {
            // Envoy releases the previous retry resource at the next retry decision.
            if c.holds_retry {
                b.on_retry_end();
                c.holds_retry = false;
            }
            if !b.try_start_retry() {
                self.observer.retry_denied(cid, now);
                self.call_finished(strand, outcome);
                return;
            }
            c.holds_retry = true;
        }
        let retry = c.attempt;
        c.attempt += 1;
        let delay = c
            .backoff
            .next(&policy.backoff, policy.jitter, retry, &mut state.retry_rng);
        self.observer.retried(cid, now);
        if delay > SimDuration::ZERO {
            if let Some(job) = self.strands.get(strand).map(|s| s.job) {
                self.set_holding(job, Hold::BACKOFF);
            }
            self.clock.after(delay, Event::RetryDue { strand });
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
        let Some(c) = self.strands.get_mut(strand).and_then(|s| s.call.take()) else {
            return;
        };
        self.observer.call_ended(cid, c.started, now, outcome);
        if let Some(b) = &mut self.edge(cid, r).budget {
            if c.holds_retry {
                b.on_retry_end();
            }
            b.on_request_end();
        }
        if outcome.is_available() {
            self.run_strand(strand);
            return;
        }
        match &model.call_edge(cid).on_failure {
            OnFailure::Fail => self.finish_strand(strand, Some(outcome)),
            OnFailure::Ignore => self.run_strand(strand),
            OnFailure::Fallback(d) => {
                self.mark_degraded(strand);
                let Some((job, service)) = self
                    .strands
                    .get(strand)
                    .and_then(|s| Some((s.job, self.jobs.get(s.job)?.service)))
                else {
                    return;
                };
                let delay = d.sample(&mut self.calls[cid.0 as usize].fallback_rng);
                if delay > SimDuration::ZERO {
                    self.begin_work(strand, job, service, r, delay);
                } else {
                    self.run_strand(strand);
                }
            }
        }
    }

    /// The job of `strand` was answered by a fallback below: it ends `degraded` unless it
    /// fails.
    pub(super) fn mark_degraded(&mut self, strand: Key) {
        if let Some(job) = self.strands.get(strand).map(|s| s.job) {
            if let Some(j) = self.jobs.get_mut(job) {
                j.degraded = true;
            }
        }
    }

    /// Keeps one timer event in the queue for the breaker's next timed transition.
    pub(super) fn arm_breaker_timer(&mut self, cid: CallId, r: u32) {
        let end = self.clock.end;
        let edge = self.edge(cid, r);
        let Some(t) = edge.breaker.as_ref().and_then(|b| b.next_timer()) else {
            return;
        };
        if edge.breaker_timer != Some(t.0) && t.0 < end {
            edge.breaker_timer = Some(t.0);
            self.clock.schedule(
                t,
                Event::BreakerTimer {
                    call: cid,
                    replica: r,
                },
            );
        }
    }

    /// A breaker's timer: its timed transition, unless a later schedule superseded it.
    pub(super) fn on_breaker_timer(&mut self, cid: CallId, r: u32) {
        let now = self.clock.now;
        let edge = self.edge(cid, r);
        if edge.breaker_timer != Some(now) {
            return; // superseded by a later schedule
        }
        edge.breaker_timer = None;
        if let Some(b) = &mut edge.breaker {
            if b.next_timer().is_some_and(|t| t.0 <= now) {
                b.on_timer(SimTime(now));
            }
        }
        self.arm_breaker_timer(cid, r);
    }

    /// Keeps an expiry event in the queue for the bulkhead's earliest waiting deadline.
    pub(super) fn arm_bulkhead_timer(&mut self, cid: CallId, r: u32) {
        let edge = self.edge(cid, r);
        let Some(t) = edge.bulkhead.as_ref().and_then(|b| b.next_deadline()) else {
            return;
        };
        if edge.bulkhead_timer.is_none_or(|at| t.0 < at) {
            edge.bulkhead_timer = Some(t.0);
            self.clock.schedule(
                t,
                Event::BulkheadExpire {
                    call: cid,
                    replica: r,
                },
            );
        }
    }

    /// A bulkhead's expiry: waiters that waited too long are refused.
    pub(super) fn on_bulkhead_expire(&mut self, cid: CallId, r: u32) {
        let now = self.clock.now;
        let edge = self.edge(cid, r);
        if edge.bulkhead_timer != Some(now) {
            return;
        }
        edge.bulkhead_timer = None;
        while let Some(strand) = self
            .edge(cid, r)
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

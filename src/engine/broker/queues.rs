//! Work queues (RabbitMQ/SQS-like): competing consumers of one service take messages from a
//! shared queue, process each as a request of their service, and acknowledge it after.
//! The state machine is [`crate::broker::queue::WorkQueue`]; this file drives it.
//!
//! * A free consumer (holding fewer than `prefetch` unacknowledged messages, and alive)
//!   receives the next ready message; consumers take turns (RabbitMQ's round robin). Consumer
//!   i sends its messages to replica i mod replicas, where they compete with the service's
//!   other requests for workers. A consumer whose replica has no room (no free worker, no
//!   free queue place) takes nothing and waits for room: see `backpressure.rs`.
//! * Success acknowledges (deletes) the message. A failure makes it visible again, at once
//!   or after `retry_delay`; a message delivered `max_receives` times goes to the
//!   dead-letter queue instead.
//! * A delivery not acknowledged within `visibility_timeout` is delivered again to another
//!   consumer; when the first processing finishes anyway its acknowledgement is refused and
//!   the message has been processed twice (`duplicates`).
//! * A consumer crashes with its replica: its channel closes and its unacknowledged messages
//!   are requeued at once (RabbitMQ); it takes messages again when the replica is back.
//!
//! **Customers.** In a model with entry points that send to a work queue (a network of
//! queues, such as the reference models M2 and M3), every message carries the customer it
//! belongs to: a client's message starts a customer, and a message sent to a work queue while
//! one of a customer's messages is being processed (by the consumer's request, or by a sync
//! call it makes) belongs to the same customer. A customer is done when none of its
//! messages is left in the broker — each acknowledged, dead-lettered or deleted by
//! retention — and its end-to-end latency, from the client's send to that moment, goes to
//! its entry point (`end_to_end` in the report).

use super::backpressure::Waiter;
use super::Broker;
use crate::broker::queue::{QueueConfig, Receipt, Returned, WorkQueue};
use crate::engine::event::Event;
use crate::engine::kernel::{Key, Slab};
use crate::engine::observer::Observer;
use crate::engine::request::{Dispatch, Parent};
use crate::engine::simulation::Simulation;
use crate::model::{EntryId, QueueId, ServiceId, WorkQueueDef};
use crate::outcome::Outcome;
use crate::time::{SimDuration, SimTime, NS_PER_S};
use std::collections::VecDeque;

/// Blocks of send times a queue keeps before it coalesces them (see
/// [`crate::broker::log::PartitionLog`]).
const LOG_BLOCKS: usize = 4096;
/// How often retention runs \[ns\].
const RETENTION_SWEEP: u64 = NS_PER_S;

/// The broker's state of one work queue.
pub(in crate::engine) struct QueueState {
    pub(in crate::engine) queue: WorkQueue,
    /// Consumers that are alive and below their prefetch limit, in turn order; each at most
    /// once (`in_turn`).
    turn: VecDeque<u32>,
    in_turn: Vec<bool>,
    /// Per consumer, why it cannot take messages: [`DOWN`] (its replica is down) and
    /// [`BLOCKED`] (it waits for room at its replica, out of turn until woken); 0 if neither.
    flags: Vec<u8>,
    /// When the pending visibility timer fires, if one is pending.
    timer_at: Option<u64>,
}

/// A consumer's flag: its replica is down.
const DOWN: u8 = 1;
/// A consumer's flag: it waits for room at its replica (see `backpressure.rs`).
const BLOCKED: u8 = 2;

/// A message being processed by a consumer's service.
pub(in crate::engine) struct QueueDelivery {
    queue: QueueId,
    consumer: u32,
    receipt: Receipt,
    sent: u64,
    /// The customer its message belongs to (see [`customer_tag`]), 0 for none.
    tag: u64,
}

/// A customer of a network of work queues (see the module docs).
pub(in crate::engine) struct Customer {
    /// The entry point whose client sent its first message.
    entry: EntryId,
    /// When the client sent it \[ns\].
    origin: u64,
    /// Its messages in the broker: ready, or delivered and not yet acknowledged.
    outstanding: u32,
}

/// The tag a message of customer `key` carries (0 is no customer).
fn customer_tag(key: Key) -> u64 {
    key.to_bits().wrapping_add(1)
}

/// The customer a message tagged `tag` belongs to, if any.
fn customer_key(tag: u64) -> Option<Key> {
    (tag != 0).then(|| Key::from_bits(tag - 1))
}

/// A message of the customer tagged `tag` (0: none) left the broker now (acknowledged,
/// dead-lettered or deleted): with its last one, the customer is done. A free function over
/// the two fields it needs, so that it can be called while a queue is borrowed (from the
/// callbacks of [`WorkQueue`], without collecting the tags first).
#[inline]
fn message_gone(customers: &mut Slab<Customer>, observer: &mut Observer, tag: u64, now: u64) {
    let Some(key) = customer_key(tag) else {
        return;
    };
    let Some(c) = customers.get_mut(key) else {
        return;
    };
    c.outstanding -= 1;
    if c.outstanding == 0 {
        let (entry, origin) = (c.entry, c.origin);
        customers.remove(key);
        observer.customer_done(entry, origin, now);
    }
}

impl QueueState {
    /// The state of work queue `def`; with `customers`, its messages carry their customers.
    pub(in crate::engine) fn new(def: &WorkQueueDef, customers: bool) -> Self {
        let consumers = def.consumers as usize;
        let config = QueueConfig {
            consumers: def.consumers,
            prefetch: def.prefetch,
            max_receives: def.max_receives,
            log_blocks: LOG_BLOCKS,
        };
        QueueState {
            queue: if customers {
                WorkQueue::tagged(config)
            } else {
                WorkQueue::new(config)
            },
            turn: (0..def.consumers).collect(),
            in_turn: vec![true; consumers],
            flags: vec![0; consumers],
            timer_at: None,
        }
    }

    /// Puts consumer `c` back in turn if it is alive, below its prefetch limit and not
    /// waiting for room at its replica.
    fn offer(&mut self, c: u32) {
        let prefetch = self.queue.config().prefetch;
        let free = prefetch == 0 || self.queue.unacked(c) < prefetch;
        if self.flags[c as usize] == 0 && free && !self.in_turn[c as usize] {
            self.in_turn[c as usize] = true;
            self.turn.push_back(c);
        }
    }

    /// Consumer `c` no longer waits for room (woken, or its replica went down); it takes
    /// its turn again if it can.
    pub(in crate::engine) fn unblock(&mut self, c: u32) {
        self.flags[c as usize] &= !BLOCKED;
        self.offer(c);
    }
}

impl Simulation<'_> {
    /// Schedules the first retention sweep of every queue that has a retention.
    pub(in crate::engine) fn start_queues(&mut self) {
        for (q, def) in self.model.queues.iter().enumerate() {
            if def.retention.is_some() && RETENTION_SWEEP < self.clock.end {
                self.clock.schedule(
                    SimTime(RETENTION_SWEEP),
                    Event::QueueRetention {
                        work_queue: QueueId(q as u32),
                    },
                );
            }
        }
    }

    /// The broker stores a message of the customer tagged `tag` (0: none; the message was
    /// counted as the customer's when it was produced) in queue `q`; a free consumer takes it.
    pub(in crate::engine) fn send_to_queue(&mut self, q: QueueId, tag: u64) {
        let state = self.broker.queue_mut(q);
        state.queue.send_tagged(SimTime(self.clock.now), tag);
        if !state.turn.is_empty() {
            self.pull(q);
        }
    }

    /// A client of entry point `entry` sent, at `sent`, the first message of a new customer:
    /// its tag.
    pub(in crate::engine) fn new_customer(&mut self, entry: EntryId, sent: u64) -> u64 {
        customer_tag(self.broker.customers.insert(Customer {
            entry,
            origin: sent,
            outstanding: 1,
        }))
    }

    /// A message of the customer tagged `tag` is produced (it counts from now, even while
    /// its producer buffers it during an outage): the tag it carries, 0 if the customer is
    /// done already (a duplicate processing that sends late) or there is none.
    pub(in crate::engine) fn claim_customer(&mut self, tag: u64) -> u64 {
        match customer_key(tag).and_then(|k| self.broker.customers.get_mut(k)) {
            Some(c) => {
                c.outstanding += 1;
                tag
            }
            None => 0,
        }
    }

    /// The tag of the customer whose processing runs strand `strand` (0 if none): its job
    /// carries it, from the queue consumer's delivery down through the calls it makes.
    pub(in crate::engine) fn customer_of(&self, strand: Key) -> u64 {
        self.strands
            .get(strand)
            .and_then(|s| self.jobs.get(s.job))
            .map_or(0, |j| j.customer)
    }

    /// A message of the customer tagged `tag` left the broker (acknowledged, dead-lettered
    /// or deleted): with its last one, the customer is done.
    #[inline]
    pub(in crate::engine) fn customer_message_gone(&mut self, tag: u64) {
        message_gone(
            &mut self.broker.customers,
            &mut self.observer,
            tag,
            self.clock.now,
        );
    }

    /// Free consumers take ready messages, in turn, until either runs out. A consumer whose
    /// replica has no room waits for it instead (see `backpressure.rs`).
    pub(in crate::engine) fn pull(&mut self, q: QueueId) {
        let model = self.model;
        let def = &model.queue_at(q);
        let service = def.service;
        let replicas = model.service_at(service).replicas;
        // With an unbounded service queue there is always room (at a live replica).
        let bounded = model.service_at(def.service).queue.is_some();
        let now = SimTime(self.clock.now);
        if self.broker.down > 0 {
            return; // pulled again when the broker is back
        }
        loop {
            let state = &mut self.broker.queue_mut(q);
            if state.queue.depth() == 0 {
                return;
            }
            let Some(c) = state.turn.pop_front() else {
                return;
            };
            state.in_turn[c as usize] = false;
            if state.flags[c as usize] & DOWN != 0 {
                continue;
            }
            let pin = c % replicas;
            if bounded && self.room(service, pin) == 0 {
                self.broker.queue_mut(q).flags[c as usize] |= BLOCKED;
                self.wait_for_room(
                    service,
                    pin,
                    Waiter::Queue {
                        work_queue: q,
                        consumer: c,
                    },
                );
                continue;
            }
            let state = &mut self.broker.queue_mut(q);
            let Some(d) = state.queue.receive(c, now, def.visibility_timeout) else {
                continue;
            };
            state.offer(c);
            self.arm_visibility_timer(q, now.after(def.visibility_timeout).0);
            let delivery = self.broker.queue_deliveries.insert(QueueDelivery {
                queue: q,
                consumer: c,
                receipt: d.receipt,
                sent: d.message.sent.0,
                tag: d.message.tag,
            });
            self.send(Dispatch {
                pin: Some(pin),
                customer: d.message.tag,
                ..Dispatch::new(Parent::QueueConsumer { delivery }, service)
            });
        }
    }

    /// The service has processed a delivery: acknowledge it, or return it for a retry.
    pub(in crate::engine) fn queue_processed(&mut self, delivery: Key, outcome: Outcome) {
        let Some(d) = self.broker.queue_deliveries.remove(delivery) else {
            return;
        };
        let def = &self.model.queue_at(d.queue);
        let now = self.clock.now;
        let state = &mut self.broker.queue_mut(d.queue);
        if outcome.is_failure() {
            self.observer.queue_failed(d.queue);
            if def.retry_delay == SimDuration::ZERO {
                if state.queue.nack(d.receipt, true) == Some(Returned::DeadLettered) {
                    self.customer_message_gone(d.tag);
                }
            } else if state
                .queue
                .change_visibility(d.receipt, SimTime(now), def.retry_delay)
            {
                // It returns when the delay expires; make sure a timer is due by then.
                let at = now + def.retry_delay.as_nanos();
                if state.timer_at.is_none_or(|t| at < t) && at < self.clock.end {
                    state.timer_at = Some(at);
                    self.clock.schedule(
                        SimTime(at),
                        Event::Visibility {
                            work_queue: d.queue,
                        },
                    );
                }
            }
        } else if state.queue.ack(d.receipt) {
            self.observer.acked(d.queue, d.sent, now);
            self.customer_message_gone(d.tag);
        } else if state.flags[d.consumer as usize] & DOWN == 0 {
            // Acknowledged too late: the visibility timeout had already given the message
            // to another consumer, which processes it again.
            self.observer.duplicate(d.queue);
        }
        let state = self.broker.queue_mut(d.queue);
        state.offer(d.consumer);
        self.pull(d.queue);
    }

    /// Makes sure queue `q`'s visibility timer fires by `at` (a new in-flight deadline).
    /// Deadlines do not arrive in order (a retry delay may be longer or shorter than the
    /// visibility timeout), so an earlier one re-arms the timer; the later event it replaces
    /// is ignored when it fires.
    fn arm_visibility_timer(&mut self, q: QueueId, at: u64) {
        let state = &mut self.broker.queue_mut(q);
        if state.timer_at.is_none_or(|t| at < t) && at < self.clock.end {
            state.timer_at = Some(at);
            self.clock
                .schedule(SimTime(at), Event::Visibility { work_queue: q });
        }
    }

    /// The visibility timer of queue `q`: deliveries past their deadline become visible
    /// again (or are dead-lettered), and the timer is set for the next deadline. An event
    /// that is not the armed timer (it was replaced by an earlier one) does nothing.
    pub(in crate::engine) fn on_visibility(&mut self, q: QueueId) {
        let now = SimTime(self.clock.now);
        let Broker {
            queues, customers, ..
        } = &mut self.broker;
        let state = &mut queues[q.0 as usize];
        if state.timer_at != Some(now.0) {
            return;
        }
        state.timer_at = None;
        let mut returned = false;
        while let Some((msg, what)) = state.queue.expire_visibility(now) {
            returned = true;
            if what == Returned::DeadLettered {
                message_gone(customers, &mut self.observer, msg.tag, now.0);
            }
        }
        if returned {
            // The expired deliveries freed prefetch slots of their consumers.
            for c in 0..state.flags.len() as u32 {
                state.offer(c);
            }
        }
        if let Some(next) = state.queue.next_visibility_deadline() {
            self.arm_visibility_timer(q, next.0);
        }
        self.pull(q);
    }

    /// Consumers of every queue living on replica `r` of service `s` crash with it (`down`):
    /// their unacknowledged messages are requeued at once. Or they come back.
    pub(in crate::engine) fn queue_consumers_follow_replica(
        &mut self,
        s: ServiceId,
        r: u32,
        down: bool,
    ) {
        let model = self.model;
        let replicas = model.service_at(s).replicas;
        for (q, def) in model.queues.iter().enumerate() {
            if def.service != s {
                continue;
            }
            let now = self.clock.now;
            let Broker {
                queues, customers, ..
            } = &mut self.broker;
            let state = &mut queues[q];
            for c in (r..def.consumers).step_by(replicas as usize) {
                if down {
                    state.flags[c as usize] |= DOWN;
                    state.queue.release_consumer_with(c, |tag| {
                        message_gone(customers, &mut self.observer, tag, now)
                    });
                } else {
                    state.flags[c as usize] &= !DOWN;
                    state.offer(c);
                }
            }
            self.pull(QueueId(q as u32));
        }
    }

    /// Deletes ready messages older than the queue's retention.
    pub(in crate::engine) fn on_queue_retention(&mut self, q: QueueId) {
        let now = self.clock.now;
        let Some(retention) = self.model.queue_at(q).retention else {
            return;
        };
        if let Some(cutoff) = now.checked_sub(retention.as_nanos()) {
            let Broker {
                queues, customers, ..
            } = &mut self.broker;
            queues[q.0 as usize]
                .queue
                .expire_before_with(SimTime(cutoff), |tag| {
                    message_gone(customers, &mut self.observer, tag, now)
                });
        }
        if now + RETENTION_SWEEP < self.clock.end {
            self.clock.schedule(
                SimTime(now + RETENTION_SWEEP),
                Event::QueueRetention { work_queue: q },
            );
        }
    }
}

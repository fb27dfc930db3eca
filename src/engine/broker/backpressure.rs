//! Back-pressure between the broker's consumers and the replicas they live on.
//!
//! A consumer (of a work queue or of a topic's consumer group) lives on one replica of its
//! service and processes a message by handing it to that replica as a request. The replica
//! admits a request when it has a free worker (an in-flight slot at a non-blocking service)
//! or room in its queue; otherwise it rejects it. A consumer runs in the same process as the
//! workers it feeds (a RabbitMQ or Kafka listener hands messages to its own thread pool), so
//! it sees when that pool is full.
//!
//! **The rule.** A consumer takes a message only when its replica can admit it now: a free
//! worker, or room in the queue (requests held by a hang count against the room). When the
//! replica cannot, the consumer leaves the message in the broker and *waits for room*: it
//! joins the replica's list of waiting consumers and is woken, in the order it began to wait,
//! when a request leaves the replica (a worker or a queue place frees). A work-queue consumer
//! then takes the next ready message, a topic consumer its partition's next message, and a
//! topic consumer that was about to retry a failed message retries it. A consumer's message is
//! admitted in the same step as it is taken, so two consumers of one replica never count the
//! same free place. With an unbounded service queue there is always room, so nothing changes.
//!
//! Without this rule a rejected message was a failed delivery, requeued at once
//! (`retry_delay` 0) and taken again at the same instant, rejected again, for ever: a
//! livelock at one instant (issue 10). With it the broker keeps the backlog (its depth, age
//! and lag show it) and the service never rejects its own consumers' messages — RabbitMQ's
//! `basic.qos` prefetch and Kafka's pause/resume of a partition when the listener's pool is
//! saturated do the same. Sync callers keep competing for the same workers, and a request
//! from a caller can still be rejected.
//!
//! A replica that goes down drops its waiting consumers (they are down with it; a topic
//! consumer's retried message comes back after the rebalance, as any other in-progress
//! message of a crashed consumer does).

use crate::engine::event::Micro;
use crate::engine::kernel::Key;
use crate::engine::simulation::Simulation;
use crate::model::{QueueId, ServiceId, TopicId};

/// A consumer waiting for room at the replica it lives on.
#[derive(Clone, Copy, Debug)]
pub(in crate::engine) enum Waiter {
    /// Consumer `consumer` of work queue `work_queue`, free to take a message.
    Queue { work_queue: QueueId, consumer: u32 },
    /// Consumer `consumer` of group `group` of topic `topic`, free to take its next message.
    Consume {
        topic: TopicId,
        group: u32,
        consumer: u32,
    },
    /// A topic delivery whose consumer is about to retry it (the consumer holds the message).
    Retry { delivery: Key },
}

impl Simulation<'_> {
    /// How many more requests replica `r` of service `s` admits now: free workers (in-flight
    /// slots at an event-loop service) plus free places in its queue, less the requests a
    /// hang holds; `u64::MAX` with an unbounded queue, 0 while it is down.
    #[inline]
    pub(in crate::engine) fn room(&self, s: ServiceId, r: u32) -> u64 {
        let def = self.model.service_at(s);
        let rep = self.replica(s, r);
        if rep.down > 0 {
            return 0;
        }
        let Some(capacity) = def.queue else {
            return u64::MAX;
        };
        let limit = def.max_in_flight.unwrap_or(def.workers);
        let free = u64::from(limit.saturating_sub(rep.admitted));
        let places = u64::from(capacity).saturating_sub(rep.queue.len() as u64);
        (free + places).saturating_sub(rep.parked.len() as u64)
    }

    /// A consumer waits for room at replica `r` of service `s` (which has none now).
    pub(in crate::engine) fn wait_for_room(&mut self, s: ServiceId, r: u32, waiter: Waiter) {
        self.replica_mut(s, r).waiting.push_back(waiter);
    }

    /// A request left replica `r` of service `s` (a worker or a queue place is free): its
    /// waiting consumers, if any, are woken after the current step.
    pub(in crate::engine) fn room_freed(&mut self, s: ServiceId, r: u32) {
        let rep = self.replica_mut(s, r);
        if !rep.waiting.is_empty() && !rep.wake_due {
            rep.wake_due = true;
            self.clock.soon(Micro::Wake {
                service: s,
                replica: r,
            });
        }
    }

    /// Wakes the consumers waiting at replica `r` of service `s`, in order, while it has room.
    pub(in crate::engine) fn wake_consumers(&mut self, s: ServiceId, r: u32) {
        self.replica_mut(s, r).wake_due = false;
        while self.room(s, r) > 0 {
            let Some(waiter) = self.replica_mut(s, r).waiting.pop_front() else {
                break;
            };
            match waiter {
                Waiter::Queue {
                    work_queue,
                    consumer,
                } => {
                    self.broker.queues[work_queue.0 as usize].unblock(consumer);
                    self.pull(work_queue);
                }
                Waiter::Consume {
                    topic,
                    group,
                    consumer,
                } => {
                    self.set_consumer_busy(topic, group, consumer, false);
                    self.consume(topic, group, consumer);
                }
                Waiter::Retry { delivery } => self.process(delivery),
            }
        }
    }

    /// Replica `r` of service `s` went down: its waiting consumers are down with it.
    pub(in crate::engine) fn drop_waiters(&mut self, s: ServiceId, r: u32) {
        let rep = self.replica_mut(s, r);
        rep.wake_due = false;
        for waiter in std::mem::take(&mut rep.waiting) {
            match waiter {
                Waiter::Queue {
                    work_queue,
                    consumer,
                } => {
                    self.broker.queues[work_queue.0 as usize].unblock(consumer);
                }
                Waiter::Consume {
                    topic,
                    group,
                    consumer,
                } => self.set_consumer_busy(topic, group, consumer, false),
                Waiter::Retry { delivery } => self.drop_delivery(delivery),
            }
        }
    }
}

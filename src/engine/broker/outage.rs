//! Broker faults and what producers do about them.
//!
//! A `BrokerDown` fault stops the whole broker: no publish or send is acknowledged and no
//! consumer gets a message (deliveries already being processed finish, and their commits and
//! acknowledgements go through). A `LeaderDown` fault stops one partition of a topic: keyed
//! messages for it cannot be published, keyless ones go to the other partitions, and its
//! consumer gets nothing from it. A `BrokerSlow` fault adds latency to every publish.
//!
//! A producer that cannot publish does what its step's `when_down` says: fail the step
//! (`unavailable`), wait for the broker (holding its worker, up to a timeout), or buffer the
//! message in memory up to a limit and go on. When the broker (or the partition) is back,
//! buffered and waiting messages are published in the order they were produced, and the
//! consumers wake.

use crate::engine::event::{Event, Micro};
use crate::engine::faults::Faults;
use crate::engine::kernel::Key;
use crate::engine::simulation::Simulation;
use crate::model::faults::FaultKind;
use crate::model::{Destination, EntryId, Model, PublishId, QueueId, TopicId, WhenDown};
use crate::outcome::Outcome;
use crate::time::{SimDuration, SimTime};
use std::collections::VecDeque;

/// The result of trying to publish.
pub(in crate::engine) enum Publish {
    /// The broker has the message (or the producer's buffer does): go on.
    Done,
    /// The step failed with this outcome.
    Failed(Outcome),
    /// The strand waits for the broker.
    Parked,
}

/// A message held back during an outage: buffered by its producer, or with its producer
/// waiting (`strand` set).
#[derive(Clone, Copy, Debug)]
struct Held {
    publish: PublishId,
    /// The strand waiting for the ack; `None` for a buffered message.
    strand: Option<Key>,
    /// The partition of a keyed message; `None` to pick one when published.
    partition: Option<u32>,
    /// The customer of a message to a work queue (0: none).
    tag: u64,
}

/// A client's message on its way to a slow broker.
pub(in crate::engine) struct ClientPublish {
    entry: EntryId,
    to: Destination,
    /// When the client sent it.
    sent: u64,
    /// The client waits for the acknowledgement (its timeout is longer than the latency).
    waiting: bool,
}

/// Messages held back during outages, in the order they were produced.
pub(in crate::engine) struct OutageState {
    held: VecDeque<Held>,
    /// Per publish step: messages in its producers' buffer.
    in_buffer: Vec<u64>,
    /// Per topic and partition: leader outages in force.
    leaders_down: Vec<Vec<u32>>,
}

impl OutageState {
    pub(in crate::engine) fn new(model: &Model) -> Self {
        OutageState {
            held: VecDeque::new(),
            in_buffer: vec![0; model.publishes.len()],
            leaders_down: model
                .topics
                .iter()
                .map(|t| vec![0; t.partitions as usize])
                .collect(),
        }
    }

    /// Messages in each publish step's buffer now.
    pub(in crate::engine) fn in_buffer(&self) -> Vec<u64> {
        self.in_buffer.clone()
    }
}

impl Simulation<'_> {
    /// Extra publish latency from the `BrokerSlow` faults in force.
    pub(in crate::engine) fn broker_slowness(&mut self) -> SimDuration {
        if self.faults.active.is_empty() {
            return SimDuration::ZERO;
        }
        let model = self.model;
        let mut extra = 0;
        let Faults { active, rngs } = &mut self.faults;
        for &f in active.iter() {
            if let FaultKind::BrokerSlow { add } = &model.fault_at(f).kind {
                extra += add.sample(&mut rngs[f.0 as usize]).0;
            }
        }
        SimDuration(extra)
    }

    /// A client of entry point `entry` publishes a message to `to`. It is answered when the
    /// broker has it (after the latency of any `BrokerSlow` fault), or at once with
    /// `unavailable` when the broker (every partition of a topic) is down: clients do not
    /// wait or buffer. A client whose timeout is shorter than a slow broker's latency gives
    /// up (`timeout`), and the broker stores the message anyway.
    pub(in crate::engine) fn client_publish(&mut self, entry: EntryId, to: Destination) {
        let now = self.clock.now;
        let slow = self.broker_slowness();
        if slow == SimDuration::ZERO {
            let outcome = self.client_store(entry, to, now);
            self.answer_client(entry, outcome, now);
            return;
        }
        let timeout = self.model.entry_at(entry).timeout;
        let gives_up = timeout.is_some_and(|t| t < slow);
        let message = self.broker.client_publishes.insert(ClientPublish {
            entry,
            to,
            sent: now,
            waiting: !gives_up,
        });
        if let Some(t) = timeout.filter(|_| gives_up) {
            self.clock.after(t, Event::ClientGaveUp { message });
        }
        self.clock.after(slow, Event::ClientPublished { message });
    }

    /// A client's message reaches a slow broker (see [`client_publish`](Self::client_publish)).
    pub(in crate::engine) fn client_published(&mut self, message: Key) {
        let Some(p) = self.broker.client_publishes.remove(message) else {
            return;
        };
        let outcome = self.client_store(p.entry, p.to, p.sent);
        if p.waiting {
            self.answer_client(p.entry, outcome, p.sent);
        }
    }

    /// A client stops waiting for a slow broker.
    pub(in crate::engine) fn client_gave_up(&mut self, message: Key) {
        if let Some(p) = self.broker.client_publishes.get(message) {
            let (entry, sent) = (p.entry, p.sent);
            self.answer_client(entry, Outcome::Timeout, sent);
        }
    }

    /// Stores the message a client of `entry` sent to `to` at `sent`, if the broker can take
    /// it now. A message to a work queue starts a customer (see `queues.rs`).
    fn client_store(&mut self, entry: EntryId, to: Destination, sent: u64) -> Outcome {
        if self.broker.down > 0 {
            return Outcome::Unavailable;
        }
        let (partition, tag) = match to {
            Destination::Topic(t) => (self.next_partition(t), 0),
            Destination::Queue(_) => (Some(0), self.new_customer(entry, sent)),
        };
        match partition {
            Some(p) => {
                self.store(to, p, tag);
                Outcome::Ok
            }
            None => Outcome::Unavailable,
        }
    }

    /// Publishes a message of step `p` for `strand`, whose processing belongs to the
    /// customer tagged `customer` (0: none; see `queues.rs`), or handles the outage as the
    /// step says.
    pub(in crate::engine) fn try_publish(
        &mut self,
        p: PublishId,
        strand: Key,
        customer: u64,
    ) -> Publish {
        let tag = match self.model.publish_at(p).to {
            Destination::Queue(_) => self.claim_customer(customer),
            Destination::Topic(_) => 0,
        };
        let partition = match self.broker_target(p) {
            Ok(partition) => {
                self.append(p, partition, tag);
                return Publish::Done;
            }
            Err(wait_for) => wait_for,
        };
        let step = self.model.publish_at(p);
        let in_buffer = &mut self.broker.outage.in_buffer[p.0 as usize];
        match step.when_down {
            WhenDown::Fail => {
                self.observer.publish_failed(p);
                self.customer_message_gone(tag);
                Publish::Failed(Outcome::Unavailable)
            }
            WhenDown::Buffer(limit) if *in_buffer >= limit => {
                self.observer.publish_failed(p);
                self.customer_message_gone(tag);
                Publish::Failed(Outcome::Unavailable)
            }
            WhenDown::Buffer(_) => {
                *in_buffer += 1;
                self.observer.buffered(p, *in_buffer);
                self.broker.outage.held.push_back(Held {
                    publish: p,
                    strand: None,
                    partition,
                    tag,
                });
                Publish::Done
            }
            WhenDown::Wait(timeout) => {
                self.observer.publish_waits(p);
                self.broker.outage.held.push_back(Held {
                    publish: p,
                    strand: Some(strand),
                    partition,
                    tag,
                });
                if let Some(t) = timeout {
                    let at = SimTime(self.clock.now).after(t);
                    if at.0 < self.clock.end {
                        self.clock.schedule(at, Event::PublishTimeout { strand });
                    }
                }
                Publish::Parked
            }
        }
    }

    /// A waiting producer gives up: its request ends with `timeout`.
    pub(in crate::engine) fn publish_timeout(&mut self, strand: Key) {
        let Some(i) = self
            .broker
            .outage
            .held
            .iter()
            .position(|h| h.strand == Some(strand))
        else {
            return; // published meanwhile
        };
        let held = self
            .broker
            .outage
            .held
            .remove(i)
            .expect("position is in range");
        self.observer.publish_timed_out(held.publish);
        self.customer_message_gone(held.tag);
        self.finish_strand(strand, Some(Outcome::Timeout));
    }

    /// A `BrokerDown` or `LeaderDown` fault begins or ends. When something comes back, held
    /// messages are published in order and the consumers wake.
    pub(in crate::engine) fn broker_fault(&mut self, kind: &FaultKind, begin: bool) {
        match *kind {
            FaultKind::BrokerDown => {
                if begin {
                    self.broker.down += 1;
                } else {
                    self.broker.down -= 1;
                }
            }
            FaultKind::LeaderDown { topic, partition } => {
                let down =
                    &mut self.broker.outage.leaders_down[topic.0 as usize][partition as usize];
                if begin {
                    *down += 1;
                } else {
                    *down -= 1;
                }
                let up = *down == 0;
                self.broker.topic_mut(topic).logs[partition as usize].set_available(up);
            }
            _ => return,
        }
        if begin || self.broker.down > 0 {
            return;
        }
        self.release_held();
        for t in 0..self.broker.topics.len() {
            for g in 0..self.broker.topics[t].groups.len() {
                for c in 0..self.model.topics[t].subscribers[g].consumers {
                    self.clock.soon(Micro::Consume {
                        topic: TopicId(t as u32),
                        group: g as u32,
                        consumer: c,
                    });
                }
            }
        }
        for q in 0..self.broker.queues.len() as u32 {
            self.pull(QueueId(q));
        }
    }

    /// Publishes the held messages whose destination is available again, in order; their
    /// waiting producers go on.
    fn release_held(&mut self) {
        let mut kept = VecDeque::new();
        while let Some(h) = self.broker.outage.held.pop_front() {
            if let Some(strand) = h.strand {
                let alive = self
                    .strands
                    .get(strand)
                    .and_then(|s| self.jobs.get(s.job))
                    .is_some_and(|j| !j.killed);
                if !alive {
                    // The waiting request is gone (its replica crashed): nothing to publish.
                    self.abandon(strand);
                    self.customer_message_gone(h.tag);
                    continue;
                }
            }
            let ready = match (self.model.publish_at(h.publish).to, h.partition) {
                (_, None) => self.broker_target(h.publish).ok(),
                (Destination::Topic(t), Some(p)) => self.broker.topic(t).logs[p as usize]
                    .is_available()
                    .then_some(p),
                (Destination::Queue(_), Some(_)) => Some(0),
            };
            let Some(partition) = ready else {
                kept.push_back(h);
                continue;
            };
            self.append(h.publish, partition, h.tag);
            match h.strand {
                None => self.broker.outage.in_buffer[h.publish.0 as usize] -= 1,
                Some(strand) => self.run_strand(strand),
            }
        }
        self.broker.outage.held = kept;
    }
}

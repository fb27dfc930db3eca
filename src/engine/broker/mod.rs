//! The broker inside the engine: topics and their consumer groups ([`topics`]), work queues
//! and their competing consumers ([`queues`]), broker outages and what producers do about
//! them ([`outage`]), and back-pressure between consumers and the replicas they feed
//! ([`backpressure`]). The state machines themselves (partition logs, consumer groups, work
//! queues) are in [`crate::broker`]; these files drive them with the engine's events.

pub(super) mod backpressure;
pub(super) mod outage;
pub(super) mod queues;
pub(super) mod topics;

use super::kernel::Slab;
use crate::model::{Model, QueueId, TopicId};
use crate::rng::{stream, SimRng};
use outage::{ClientPublish, OutageState};
use queues::{QueueDelivery, QueueState};
use topics::{Delivery, TopicState};

/// The broker's state: what every topic and queue holds, the messages consumers are
/// processing, and the outages in force.
pub(super) struct Broker {
    /// The topics, in model order.
    pub(super) topics: Vec<TopicState>,
    /// Topic messages being processed by consumers.
    pub(super) deliveries: Slab<Delivery>,
    /// The work queues, in model order.
    pub(super) queues: Vec<QueueState>,
    /// Work-queue messages being processed by consumers.
    pub(super) queue_deliveries: Slab<QueueDelivery>,
    /// Clients' messages on their way to a slow broker.
    pub(super) client_publishes: Slab<ClientPublish>,
    /// Broker outages in force (overlapping `BrokerDown` faults).
    pub(super) down: u32,
    /// Draws of the broker itself (`BrokerSlow` latencies).
    pub(super) rng: SimRng,
    /// Producers' buffers and waiting producers during broker outages.
    pub(super) outage: OutageState,
}

impl Broker {
    /// The state of topic `t`.
    #[inline]
    pub(super) fn topic(&self, t: TopicId) -> &TopicState {
        &self.topics[t.0 as usize]
    }

    /// The state of topic `t`, to change.
    #[inline]
    pub(super) fn topic_mut(&mut self, t: TopicId) -> &mut TopicState {
        &mut self.topics[t.0 as usize]
    }

    /// The state of work queue `q`, to change.
    #[inline]
    pub(super) fn queue_mut(&mut self, q: QueueId) -> &mut QueueState {
        &mut self.queues[q.0 as usize]
    }

    /// The broker of `model`, empty, under `seed`.
    pub(super) fn new(model: &Model, seed: u64) -> Self {
        Broker {
            topics: model.topics.iter().map(TopicState::new).collect(),
            deliveries: Slab::default(),
            queues: model.queues.iter().map(QueueState::new).collect(),
            queue_deliveries: Slab::default(),
            client_publishes: Slab::default(),
            down: 0,
            rng: stream(seed, "broker", "", 0),
            outage: OutageState::new(model),
        }
    }
}

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
use crate::model::{Destination, EntryTarget, Model, PublishStep, QueueId, TopicId};
use crate::rng::{stream, SimRng};
use outage::{ClientPublish, OutageState};
use queues::{Customer, QueueDelivery, QueueState};
use topics::{Delivery, TopicState};

/// The random streams of one publish or send step, keyed by the step's path in the file
/// (e.g. `services[orders].steps[2]`): each decision draws from its own, so that a latency
/// given to one step changes neither which messages are sent nor their keys.
pub(super) struct ProducerStreams {
    /// Whether the message is sent (`probability`).
    pub(super) route_rng: SimRng,
    /// The round trip to the broker.
    pub(super) latency_rng: SimRng,
    /// The key of a keyed message.
    pub(super) keys_rng: SimRng,
}

impl ProducerStreams {
    fn new(step: &PublishStep, seed: u64) -> Self {
        ProducerStreams {
            route_rng: stream(seed, "publish-route", &step.path, 0),
            latency_rng: stream(seed, "publish-latency", &step.path, 0),
            keys_rng: stream(seed, "publish-keys", &step.path, 0),
        }
    }
}

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
    /// Customers of networks of work queues with messages in the broker (see `queues.rs`).
    pub(super) customers: Slab<Customer>,
    /// Clients' messages on their way to a slow broker.
    pub(super) client_publishes: Slab<ClientPublish>,
    /// Broker outages in force (overlapping `BrokerDown` faults).
    pub(super) down: u32,
    /// The random streams of each publish and send step.
    pub(super) producers: Vec<ProducerStreams>,
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
            queues: model
                .queues
                .iter()
                .map(|q| QueueState::new(q, carries_customers(model)))
                .collect(),
            queue_deliveries: Slab::default(),
            customers: Slab::default(),
            client_publishes: Slab::default(),
            down: 0,
            producers: model
                .publishes
                .iter()
                .map(|p| ProducerStreams::new(p, seed))
                .collect(),
            outage: OutageState::new(model),
        }
    }
}

/// Whether work-queue messages carry their customers: in a model with an entry point whose
/// clients send to a work queue (a network of queues).
fn carries_customers(model: &Model) -> bool {
    model
        .entries
        .iter()
        .any(|e| matches!(e.target, EntryTarget::Broker(Destination::Queue(_))))
}

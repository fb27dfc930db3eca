//! The simulated broker: topics with their consumer groups, and work queues.

use super::{Exhausted, IntoDuration};
use crate::spec::{QueueSpec, SubscriberSpec, TopicSpec};

/// A Kafka-like topic: partitions, retention, and one consumer group per subscribing service.
/// Defaults: 1 partition, messages kept forever, no subscribers.
#[derive(Clone, Debug)]
pub struct Topic(TopicSpec);

impl Default for Topic {
    fn default() -> Self {
        Topic::new()
    }
}

impl Topic {
    /// A topic with every setting at its default.
    pub fn new() -> Topic {
        Topic(TopicSpec {
            partitions: None,
            retention: None,
            subscribers: Vec::new(),
        })
    }

    /// The builder of a topic as a file holds it, to change it further.
    pub fn from_spec(spec: TopicSpec) -> Topic {
        Topic(spec)
    }

    /// Partitions (messages without a key go to them in turn).
    pub fn partitions(mut self, n: u32) -> Self {
        self.0.partitions = Some(n);
        self
    }

    /// Messages older than this are deleted, consumed or not.
    pub fn retention(mut self, d: impl IntoDuration) -> Self {
        self.0.retention = Some(d.into_duration());
        self
    }

    /// Adds a consumer group.
    pub fn subscriber(mut self, s: Subscriber) -> Self {
        self.0.subscribers.push(s.0);
        self
    }
}

impl From<Topic> for TopicSpec {
    fn from(t: Topic) -> TopicSpec {
        t.0
    }
}

/// A consumer group: the service whose consumers process a topic's messages.
///
/// Defaults: 1 consumer, a 45 s session timeout, one attempt per message, failed messages
/// dead-lettered, offsets committed after each message, not idempotent.
#[derive(Clone, Debug)]
pub struct Subscriber(SubscriberSpec);

impl Subscriber {
    /// The consumer group of service `service`.
    pub fn new(service: impl Into<String>) -> Subscriber {
        Subscriber(SubscriberSpec {
            service: service.into(),
            consumers: None,
            session_timeout: None,
            max_attempts: None,
            retry_backoff: None,
            on_exhausted: None,
            commit_interval: None,
            idempotent: None,
        })
    }

    /// Consumers in the group (at most one per partition is busy).
    pub fn consumers(mut self, n: u32) -> Self {
        self.0.consumers = Some(n);
        self
    }

    /// How long the group waits for a crashed consumer before moving its partitions.
    pub fn session_timeout(mut self, d: impl IntoDuration) -> Self {
        self.0.session_timeout = Some(d.into_duration());
        self
    }

    /// Processing attempts per message, the first included.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.0.max_attempts = Some(n);
        self
    }

    /// Wait before each retry of a failed message.
    pub fn retry_backoff(mut self, d: impl IntoDuration) -> Self {
        self.0.retry_backoff = Some(d.into_duration());
        self
    }

    /// What happens to a message that failed every attempt.
    pub fn on_exhausted(mut self, e: Exhausted) -> Self {
        self.0.on_exhausted = Some(e);
        self
    }

    /// Commit offsets every `d` instead of after each message.
    pub fn commit_interval(mut self, d: impl IntoDuration) -> Self {
        self.0.commit_interval = Some(d.into_duration());
        self
    }

    /// Idempotent consumers that remember processed messages for `d`.
    pub fn idempotent(mut self, d: impl IntoDuration) -> Self {
        self.0.idempotent = Some(d.into_duration());
        self
    }
}

/// A work queue (RabbitMQ/SQS-like) consumed by one service's competing consumers.
///
/// Defaults: 1 consumer, prefetch 1, a 30 s visibility timeout, no receive limit, failed
/// messages requeued at once, ready messages kept forever.
#[derive(Clone, Debug)]
pub struct Queue(QueueSpec);

impl Queue {
    /// A queue consumed by service `service`.
    pub fn new(service: impl Into<String>) -> Queue {
        Queue(QueueSpec {
            service: service.into(),
            consumers: None,
            prefetch: None,
            visibility_timeout: None,
            max_receives: None,
            retry_delay: None,
            retention: None,
        })
    }

    /// The builder of a queue as a file holds it, to change it further.
    pub fn from_spec(spec: QueueSpec) -> Queue {
        Queue(spec)
    }

    /// Competing consumers.
    pub fn consumers(mut self, n: u32) -> Self {
        self.0.consumers = Some(n);
        self
    }

    /// Unacknowledged messages a consumer may hold (0 = unlimited).
    pub fn prefetch(mut self, n: u32) -> Self {
        self.0.prefetch = Some(n);
        self
    }

    /// A message not acknowledged this long after its delivery is delivered again.
    pub fn visibility_timeout(mut self, d: impl IntoDuration) -> Self {
        self.0.visibility_timeout = Some(d.into_duration());
        self
    }

    /// Deliveries without success before a message is dead-lettered.
    pub fn max_receives(mut self, n: u32) -> Self {
        self.0.max_receives = Some(n);
        self
    }

    /// A failed message becomes visible again after this long.
    pub fn retry_delay(mut self, d: impl IntoDuration) -> Self {
        self.0.retry_delay = Some(d.into_duration());
        self
    }

    /// Ready messages older than this are deleted unprocessed.
    pub fn retention(mut self, d: impl IntoDuration) -> Self {
        self.0.retention = Some(d.into_duration());
        self
    }
}

impl From<Queue> for QueueSpec {
    fn from(q: Queue) -> QueueSpec {
        q.0
    }
}

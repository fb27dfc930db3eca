//! The simulated broker: topics with consumer groups, and work queues (`topics:`, `queues:`).

use serde::{Deserialize, Serialize};

/// A work queue (RabbitMQ/SQS-like): messages go to whichever of the consuming service's
/// competing consumers is free; no partitions, no order between consumers.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    /// The service whose steps process each message.
    pub service: String,
    /// Competing consumers, ≥ 1 (default 1); consumer i lives on replica i mod replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumers: Option<u32>,
    /// Unacknowledged messages a consumer may hold at once (RabbitMQ's `basic.qos`; default
    /// 1; 0 = unlimited, which moves the whole backlog into the service's own queue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefetch: Option<u32>,
    /// A message not acknowledged this long after its delivery is delivered again, to any
    /// consumer (SQS's visibility timeout; default `"30s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility_timeout: Option<String>,
    /// A message delivered this many times without success goes to the dead-letter queue
    /// (SQS's `maxReceiveCount`; default: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_receives: Option<u32>,
    /// A failed message becomes visible again after this long (default `"0ms"`: requeued at
    /// once, as RabbitMQ's `nack` with requeue); it keeps its consumer's prefetch slot
    /// meanwhile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_delay: Option<String>,
    /// Ready messages older than this are deleted unprocessed (default: kept forever).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<String>,
}

/// A Kafka-like topic: partitions, retention, and the consumer groups that read it.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    /// Partitions, ≥ 1 (default 1). Messages without a key go to them in turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<u32>,
    /// Messages older than this are deleted, consumed or not (default: kept forever).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<String>,
    /// One consumer group per subscribing service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscribers: Vec<SubscriberSpec>,
}

/// A consumer group: a service whose consumers process a topic's messages.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriberSpec {
    /// The service whose steps process each message.
    pub service: String,
    /// Consumers in the group, ≥ 1 (default 1); at most one per partition is busy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumers: Option<u32>,
    /// How long the group waits for a crashed consumer before it moves its partitions to the
    /// others (Kafka's `session.timeout.ms`; default `"45s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_timeout: Option<String>,
    /// Processing attempts per message, the first included (default 1: no retry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Wait before each retry of a failed message (default `"0ms"`); the consumer waits too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_backoff: Option<String>,
    /// What happens to a message that failed every attempt (default `DeadLetter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_exhausted: Option<ExhaustedSpec>,
    /// Commit processed offsets every this long instead of after each message (Kafka's
    /// auto-commit, 5 s by default there); a crash redelivers what was processed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_interval: Option<String>,
    /// Idempotent consumers: remember processed messages for this long and skip them when
    /// they are delivered again (default: not idempotent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent: Option<String>,
}

/// What a consumer group does with a message that failed every attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub enum ExhaustedSpec {
    /// Send it to the topic's dead-letter topic and go on with the next message.
    DeadLetter,
    /// Keep retrying it: its partition is blocked until it succeeds (head-of-line blocking).
    Block,
}

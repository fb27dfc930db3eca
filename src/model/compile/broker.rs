//! The broker: topics with their consumer groups (`topics:`), then work queues (`queues:`).
//!
//! Their names were declared first (see [`super::names`]). Each topic, in file order:
//! `partitions` (1 to [`MAX_PARTITIONS`]), `retention` (longer than 0), then each
//! subscriber: `consumers` (1 to [`MAX_CONSUMERS`]), one group per service, the session
//! timeout (longer than 0), `max_attempts` (1 to [`MAX_ATTEMPTS`]), the commit interval and
//! idempotency window (longer than 0), the retry backoff, and last the service (known).
//! Each work queue: `consumers`, `visibility_timeout` (longer than 0), `max_receives` (at
//! least 1 when given), `retry_delay`, `retention`, and last the service.
//!
//! What topics and queues share (consumer counts, retention) is checked by one function
//! each.

use super::policies::MAX_ATTEMPTS;
use super::Compiler;
use crate::model::{Subscriber, Topic, WorkQueueDef};
use crate::spec::{ExhaustedSpec, QueueSpec, SubscriberSpec, TopicSpec, TopologySpec};
use crate::time::SimDuration;

/// Most partitions a topic may have.
pub const MAX_PARTITIONS: u32 = 10_000;
/// Most consumers a consumer group (or a work queue) may have.
pub const MAX_CONSUMERS: u32 = 10_000;
/// Kafka's default `session.timeout.ms` (since 3.0).
pub const DEFAULT_SESSION_TIMEOUT: SimDuration = SimDuration::from_secs(45);
/// How long a work-queue delivery stays invisible by default (SQS's default).
pub const DEFAULT_VISIBILITY_TIMEOUT: SimDuration = SimDuration::from_secs(30);

impl Compiler<'_> {
    /// Every topic, in file order.
    pub(super) fn topics(&mut self, spec: &TopologySpec) -> Vec<Topic> {
        spec.topics
            .iter()
            .map(|(name, t)| self.topic(name, t))
            .collect()
    }

    fn topic(&mut self, name: &str, t: &TopicSpec) -> Topic {
        let path = format!("topics[{name}]");
        let partitions = t.partitions.unwrap_or(1);
        if partitions == 0 || partitions > MAX_PARTITIONS {
            self.at(&path).at("partitions").push(format!(
                "a topic needs 1 to {MAX_PARTITIONS} partitions, not {partitions}"
            ));
        }
        let retention = self.retention(&path, &t.retention);
        let mut subscribers = Vec::with_capacity(t.subscribers.len());
        for (k, sub) in t.subscribers.iter().enumerate() {
            let earlier = &t.subscribers[..k];
            if let Some(s) = self.subscriber(&format!("{path}.subscribers[{k}]"), sub, earlier) {
                subscribers.push(s);
            }
        }
        Topic {
            name: name.to_string(),
            partitions: partitions.clamp(1, MAX_PARTITIONS),
            retention,
            subscribers,
        }
    }

    /// A consumer group at `sp`; `earlier` are the groups of the topic before it.
    fn subscriber(
        &mut self,
        sp: &str,
        sub: &SubscriberSpec,
        earlier: &[SubscriberSpec],
    ) -> Option<Subscriber> {
        let consumers = self.consumers(sp, sub.consumers, "a consumer group");
        if earlier.iter().any(|o| o.service == sub.service) {
            self.at(sp).at("service").push(format!(
                "`{}` subscribes twice; a service has one consumer group per topic",
                sub.service
            ));
        }
        let session_timeout = self
            .optional_positive_duration(&format!("{sp}.session_timeout"), &sub.session_timeout)
            .unwrap_or(DEFAULT_SESSION_TIMEOUT);
        let max_attempts = sub.max_attempts.unwrap_or(1);
        if max_attempts == 0 || max_attempts > MAX_ATTEMPTS {
            self.at(sp).at("max_attempts").push(format!(
                "attempts per message count the first one: 1 to {MAX_ATTEMPTS}, not {max_attempts}"
            ));
        }
        let commit_interval =
            self.optional_positive_duration(&format!("{sp}.commit_interval"), &sub.commit_interval);
        let idempotent =
            self.optional_positive_duration(&format!("{sp}.idempotent"), &sub.idempotent);
        let retry_backoff = self
            .optional_duration(&format!("{sp}.retry_backoff"), &sub.retry_backoff)
            .unwrap_or_default();
        Some(Subscriber {
            service: self.service_ref(&format!("{sp}.service"), &sub.service)?,
            consumers,
            session_timeout,
            max_attempts: max_attempts.clamp(1, MAX_ATTEMPTS),
            retry_backoff,
            dead_letter: sub.on_exhausted != Some(ExhaustedSpec::Block),
            commit_interval,
            idempotent,
        })
    }

    /// Every work queue, in file order (those of an unknown service are left out).
    pub(super) fn work_queues(&mut self, spec: &TopologySpec) -> Vec<WorkQueueDef> {
        spec.queues
            .iter()
            .filter_map(|(name, q)| self.work_queue(name, q))
            .collect()
    }

    fn work_queue(&mut self, name: &str, q: &QueueSpec) -> Option<WorkQueueDef> {
        let path = format!("queues[{name}]");
        let consumers = self.consumers(&path, q.consumers, "a queue");
        let visibility_timeout = self
            .optional_positive_duration(
                &format!("{path}.visibility_timeout"),
                &q.visibility_timeout,
            )
            .unwrap_or(DEFAULT_VISIBILITY_TIMEOUT);
        if q.max_receives == Some(0) {
            self.at(&path).at("max_receives").push("a message is delivered at least once: give 1 or more, or leave `max_receives` out for no limit");
        }
        let retry_delay = self
            .optional_duration(&format!("{path}.retry_delay"), &q.retry_delay)
            .unwrap_or_default();
        let retention = self.retention(&path, &q.retention);
        Some(WorkQueueDef {
            name: name.to_string(),
            service: self.service_ref(&format!("{path}.service"), &q.service)?,
            consumers,
            prefetch: q.prefetch.unwrap_or(1),
            visibility_timeout,
            max_receives: q.max_receives.unwrap_or(0),
            retry_delay,
            retention,
        })
    }

    /// `consumers` of a consumer group or a work queue (`what`): 1 (the default) to
    /// [`MAX_CONSUMERS`]; clamped into that range.
    fn consumers(&mut self, path: &str, consumers: Option<u32>, what: &str) -> u32 {
        let consumers = consumers.unwrap_or(1);
        if consumers == 0 || consumers > MAX_CONSUMERS {
            self.at(path).at("consumers").push(format!(
                "{what} needs 1 to {MAX_CONSUMERS} consumers, not {consumers}"
            ));
        }
        consumers.clamp(1, MAX_CONSUMERS)
    }

    /// `retention` of a topic or a work queue: longer than 0 (left out: kept forever).
    fn retention(&mut self, path: &str, retention: &Option<String>) -> Option<SimDuration> {
        self.optional_positive_duration(&format!("{path}.retention"), retention)
    }
}

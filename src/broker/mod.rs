//! Message-broker data structures, as plain state machines that know nothing of the engine:
//! Kafka-like partition logs and consumer groups, RabbitMQ/SQS-like work queues, and an
//! idempotency window (docs/semantics.md, *Kafka consumer groups* and *Work queues*).
//!
//! * [`log::PartitionLog`]: offsets and publish times of one partition, compact for huge
//!   backlogs, with retention by time and size.
//! * [`group::ConsumerGroup`]: range assignment, positions and committed offsets, polling,
//!   commits, crashes and rebalances, lag in offsets and in time, and the accounting
//!   produced = consumed + lag + expired + dead-lettered.
//! * [`queue::WorkQueue`]: competing consumers with prefetch, acks, visibility timeouts,
//!   redelivery and a maximum receive count leading to the dead-letter queue.
//! * [`dedup::DedupWindow`]: message ids seen within a time window, for idempotent consumers.
//!
//! The engine feeds them virtual times and events and schedules the timers they report; the
//! same calls give the same answers on every machine.

pub mod dedup;
pub mod group;
pub mod log;
pub mod queue;

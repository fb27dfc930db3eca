//! What can happen: the events of the event queue, and the micro-steps run at the current
//! instant before the next event.
//!
//! Fields are named after the kind of thing they index, and typed by it: `entry` is always
//! an [`EntryId`], `work_queue` a [`QueueId`], `deadlines` a [`TimeoutQueueId`]; a `replica`
//! is a replica's index within its service, `at` a replica numbered across services. Keys
//! of the request slabs are named by slab: `job`, `strand`, `delivery` (a topic message
//! being processed), `message` (a client's message to a slow broker).

use super::kernel::Key;
use super::service::GlobalReplica;
use super::timeouts::TimeoutQueueId;
use crate::model::{CallId, EntryId, FaultId, PublishId, QueueId, ServiceId, TopicId};

/// Something due at a future instant, in the event queue.
#[derive(Clone, Copy, Debug)]
pub(super) enum Event {
    /// The next request of entry point `entry` arrives.
    Arrival { entry: EntryId },
    /// A request reaches its replica after network latency.
    Deliver { job: Key },
    /// A strand's local work ends.
    WorkDone { strand: Key },
    /// A response reaches the caller after network latency.
    Respond { job: Key },
    /// The earliest deadline of a timeout queue is due.
    Timeout { deadlines: TimeoutQueueId },
    /// A strand's backoff sleep before a retry ends.
    RetryDue { strand: Key },
    /// A circuit breaker of call step `call` at caller replica `replica` has a timed
    /// transition due (automatic half-open, or the end of the longest half-open stay).
    BreakerTimer { call: CallId, replica: u32 },
    /// A waiter for a bulkhead permit of call step `call` at caller replica `replica` may
    /// have waited too long.
    BulkheadExpire { call: CallId, replica: u32 },
    /// The caller of `job` stops waiting (a timeout that is not the call step's constant,
    /// e.g. shortened by a propagated deadline).
    JobTimeout { job: Key },
    /// Local work of a strand at an event-loop service ends; a worker of replica `at` is
    /// free.
    CpuDone { strand: Key, at: GlobalReplica },
    /// A publish's round trip ends: the broker stores the message and the strand goes on.
    Published { strand: Key, publish: PublishId },
    /// A client's message reaches a slow broker and is stored; the client is answered
    /// unless it gave up already.
    ClientPublished { message: Key },
    /// A client publishing to a slow broker gives up waiting.
    ClientGaveUp { message: Key },
    /// A producer waiting for the broker (`when_down: Wait`) gives up.
    PublishTimeout { strand: Key },
    /// Retention deletes the old messages of topic `topic`.
    Retention { topic: TopicId },
    /// Retention deletes the old ready messages of work queue `work_queue`.
    QueueRetention { work_queue: QueueId },
    /// The visibility timer of work queue `work_queue` (the earliest in-flight deadline).
    Visibility { work_queue: QueueId },
    /// Consumer group `group` of topic `topic` reassigns its partitions among its live
    /// consumers.
    Rebalance { topic: TopicId, group: u32 },
    /// A failed message is processed again after its backoff.
    Reprocess { delivery: Key },
    /// Consumer group `group` of topic `topic` commits what its consumers processed since
    /// the last commit.
    CommitTick { topic: TopicId, group: u32 },
    /// Fault `fault` of the timeline begins.
    FaultStart { fault: FaultId },
    /// Fault `fault` of the timeline ends.
    FaultEnd { fault: FaultId },
    /// The failure process of replica `replica` of `service` changes state (fails or is
    /// repaired).
    Renewal { service: ServiceId, replica: u32 },
}

/// Work due at the current instant, run before the next event.
#[derive(Clone, Copy, Debug)]
pub(super) enum Micro {
    /// A request reaches its replica at once (no network latency).
    Deliver(Key),
    /// Start a job on a worker that was reserved for it.
    Start(Key),
    /// A response reaches the caller at once.
    Respond(Key),
    /// Consumer `consumer` of group `group` of topic `topic` may take its next message.
    Consume {
        topic: TopicId,
        group: u32,
        consumer: u32,
    },
    /// Send the strand's next attempt (a bulkhead permit of `call` at caller replica
    /// `replica` was handed to it).
    Attempt {
        strand: Key,
        call: CallId,
        replica: u32,
    },
    /// Room freed at replica `replica` of `service`: consumers waiting there are woken.
    Wake { service: ServiceId, replica: u32 },
}

/// Events are copied in and out of the event queue's heap on every push and pop: keep them
/// two words, so a scheduled entry (time, sequence, event) is 32 bytes.
const _: () = assert!(std::mem::size_of::<Event>() <= 16);

//! What can happen: the events of the event queue, and the micro-steps run at the current
//! instant before the next event.

use super::kernel::Key;

/// Something due at a future instant, in the event queue.
#[derive(Clone, Copy, Debug)]
pub(super) enum Event {
    /// The next request of entry point `entry` arrives.
    Arrival { entry: u32 },
    /// A request reaches its replica after network latency.
    Deliver { job: Key },
    /// A strand's local work ends.
    WorkDone { strand: Key },
    /// A response reaches the caller after network latency.
    Respond { job: Key },
    /// The earliest deadline of timeout queue `queue` is due.
    Timeout { queue: u32 },
    /// A strand's backoff sleep before a retry ends.
    RetryDue { strand: Key },
    /// A circuit breaker of call step `call` at caller replica `replica` has a timed
    /// transition due (automatic half-open, or the end of the longest half-open stay).
    BreakerTimer { call: u32, replica: u32 },
    /// A waiter for a bulkhead permit of call step `call` at caller replica `replica` may
    /// have waited too long.
    BulkheadExpire { call: u32, replica: u32 },
    /// The caller of `job` stops waiting (a timeout that is not the call step's constant,
    /// e.g. shortened by a propagated deadline).
    JobTimeout { job: Key },
    /// Local work of a strand at a non-blocking service ends; its worker (CPU) is freed.
    /// `replica` numbers replicas across all services (see `Simulation::replica_base`).
    CpuDone { strand: Key, replica: u32 },
    /// A publish's round trip ends: the broker stores the message and the strand goes on.
    Published { strand: Key, publish: u32 },
    /// A client's message reaches a slow broker and is stored; the client is answered
    /// unless it gave up already.
    ClientPublished { publish: Key },
    /// A client publishing to a slow broker gives up waiting.
    ClientGaveUp { publish: Key },
    /// A producer waiting for the broker (`when_down: Wait`) gives up.
    PublishTimeout { strand: Key },
    /// Retention deletes the old messages of topic `topic`.
    Retention { topic: u32 },
    /// Retention deletes the old ready messages of work queue `queue`.
    QueueRetention { queue: u32 },
    /// The visibility timer of work queue `queue` (the earliest in-flight deadline).
    Visibility { queue: u32 },
    /// A consumer group of a topic reassigns its partitions among its live consumers.
    Rebalance { topic: u32, group: u32 },
    /// A failed message is processed again after its backoff.
    Reprocess { delivery: Key },
    /// A consumer group commits what its consumers processed since the last commit.
    CommitTick { topic: u32, group: u32 },
    /// Fault `fault` of the timeline begins.
    FaultStart { fault: u32 },
    /// Fault `fault` of the timeline ends.
    FaultEnd { fault: u32 },
    /// A replica's failure process changes state (fails or is repaired).
    Renewal { service: u32, replica: u32 },
}

/// Work due at the current instant, run before the next event.
#[derive(Clone, Copy, Debug)]
pub(super) enum Micro {
    Deliver(Key),
    /// Start a job on a worker that was reserved for it.
    Start(Key),
    Respond(Key),
    /// A consumer of a group may take its next message.
    Consume {
        topic: u32,
        group: u32,
        consumer: u32,
    },
    /// Send the strand's next attempt (a bulkhead permit of `call` at caller replica
    /// `replica` was handed to it).
    Attempt {
        strand: Key,
        call: u32,
        replica: u32,
    },
    /// Room freed at replica `replica` of `service`: consumers waiting there are woken.
    Wake {
        service: u32,
        replica: u32,
    },
}

/// Events are copied in and out of the event queue's heap on every push and pop: keep them
/// two words, so a scheduled entry (time, sequence, event) is 32 bytes.
const _: () = assert!(std::mem::size_of::<Event>() <= 16);

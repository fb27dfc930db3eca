//! The life of a request, and of a message: which function handles each hop, in which file
//! of `src/engine/`. A map for reading the engine; nothing here runs.
//!
//! Every hop is a method of `Simulation`. Events (`event.rs`) are due at a later instant;
//! micro-steps are due at the current one, after the work already due (`Clock::soon`). Each
//! hop reports what happened to the observer (`observer/`), which alone keeps statistics.
//!
//! # A request
//!
//! A *request* is a `Job` (`request.rs`): one request at one service, sent by a client of an
//! entry point, by a call step of another request, or by a consumer handing it a message.
//!
//! 1. **Arrival** (`arrival.rs`). `Event::Arrival` → `on_arrival`: the next arrival of the
//!    entry point is scheduled (`schedule_arrival`), and the request is described as a
//!    `Dispatch` (its parent, its timeout, the deadline it carries). `send` picks a replica
//!    (`pick_replica`, `service.rs`, unless the dispatch pins one), puts the job in the jobs
//!    slab, and schedules `Event::Deliver` after the network latency (`Micro::Deliver` when
//!    there is none); `arm_timeout` (`timeouts.rs`) queues the parent's deadline. A client
//!    of a topic or queue publishes instead (`client_publish`, `broker/outage.rs`, and the
//!    message's life below).
//! 2. **Admission** (`admission.rs`). `deliver` → `arrive`: a hung replica parks the request;
//!    a request cancelled on the way or past its deadline is dropped (`timeout`); a down
//!    replica refuses it (`unavailable`) and a full queue rejects it (`rejected`), both
//!    straight to `finish_at_service`. Otherwise a free worker takes it (`start`; a
//!    consumer's message starts one micro-step later, `Micro::Start`, so that it takes the
//!    room its consumer checked for) or it waits in the replica's queue.
//! 3. **Strand** (`strand.rs`). `start` (`admission.rs`) marks the job running and creates
//!    its main `Strand` at the service's body; `run_strand` runs the steps one after the
//!    other until one has to wait:
//!    * `Work`: `begin_work` (`workers.rs`) — the request's own worker, `Event::WorkDone`
//!      back to `run_strand`; at an event-loop service a worker of the replica's CPU pool,
//!      `Event::CpuDone` → `on_cpu_done`;
//!    * `Call`: the call's hops, 4;
//!    * `Publish` / `Send`: the message's hops, below;
//!    * `Parallel` / `Choice`: `spawn` runs child strands (one `Choice` branch runs inline on
//!      the same strand); `finish_strand` of the last child resumes the parent (`joined`).
//! 4. **Call** (`calls.rs`). `run_strand` opens a `CallProgress` and calls `start_attempt`:
//!    the circuit breaker (`try_acquire`, `arm_breaker_timer`), then the bulkhead (a waiter
//!    gets its permit by `Micro::Attempt` from `release_bulkhead`, or gives up at
//!    `Event::BulkheadExpire` → `on_bulkhead_expire`), then `send_attempt`: request
//!    latency, deadline propagation, partitions and latency faults (`edge_faults`,
//!    `faults.rs`), and `send` of a child job whose parent is `Parent::Caller` — which lives
//!    its own life from 1. Its answer comes back to `attempt_done`: the retry budget and the
//!    breaker hear of it (`record_breaker`); a failure goes to `attempt_failed` (a retry
//!    after its backoff, `Event::RetryDue` → `start_attempt`, if the policy and the budget
//!    allow), and the end of the call to `call_finished`: the strand goes on, fails, or runs
//!    the fallback. A caller that stops waiting: `Event::Timeout` → `on_timeouts_due`, or
//!    `Event::JobTimeout`, → `on_timeout` (`timeouts.rs`) orphans the child (cancelling it
//!    if it has not started, `cancel_queued`) and answers the parent `timeout`.
//! 5. **Answer** (`answer.rs`). The main strand ends (`finish_strand`) → `complete_job`:
//!    the service's own error (and any error burst's, `burst_error`, `faults.rs`) is drawn,
//!    the worker released (6), and `finish_at_service` marks the job done and sends the
//!    response back after its network latency (`Event::Respond` / `Micro::Respond`).
//!    `respond` removes the job and `notify` tells whoever still waits: a client
//!    (`answer_client`), a calling strand (`attempt_done`, 4), a topic consumer (`consumed`)
//!    or a queue consumer (`queue_processed`).
//! 6. **Release** (`admission.rs`). `release_worker`: the next request in the replica's
//!    queue gets the worker (`Micro::Start`), or the worker idles; consumers waiting for
//!    room at the replica are woken (`room_freed` → `Micro::Wake` → `wake_consumers`,
//!    `broker/backpressure.rs`). A crash (`set_down`, `faults.rs`) ends every request
//!    inside the replica at once (`unavailable`).
//!
//! # A message
//!
//! A *message* lives in the broker (`broker/`) between a producer and the consumer that
//! processes it; each processing is a request of the consumer's service (a job whose parent
//! is the consumer), with the life above.
//!
//! **Publish** (a topic). A `Publish` step in `run_strand` draws whether it sends, its
//! latency, and any `BrokerSlow` delay (`broker_slowness`, `broker/outage.rs`);
//! `Event::Published` after the round trip (or at once) → `try_publish`: `broker_target`
//! (`broker/topics.rs`) picks the partition (the key's, or the next available one) or says
//! what to wait for, and the step's `when_down` decides during an outage (fail, wait with
//! the strand parked, or buffer; `release_held` publishes them in order when the broker is
//! back). `append` → `store`: the message goes into the partition's log, and the consumer
//! of each group that owns the partition is woken (`Micro::Consume`).
//! **Partition → consumer**: `consume` takes the next message of the consumer's partitions
//! if its replica has room (`room`, `broker/backpressure.rs`; otherwise it waits for room),
//! skips what an idempotent consumer has seen, and `process` sends it to the consumer's
//! replica as a request (`Parent::TopicConsumer`). **Commit**: the request's answer reaches
//! `consumed`: a failure is retried after the group's backoff (`Event::Reprocess` →
//! `process`) or dead-lettered after its last attempt; then `commit_or_defer` commits the
//! offset now or at the group's next `Event::CommitTick` (`commit_tick`), `trim` drops what
//! every group has committed, and the consumer takes its next message. A consumer crashes
//! with its replica (`consumers_follow_replica`); `Event::Rebalance` → `rebalance` moves its
//! partitions, which resume from the committed offsets.
//!
//! **Send** (a work queue). The same `try_publish` and `store` hand the message to
//! `send_to_queue` (`broker/queues.rs`) → **work queue** → `pull`: free consumers, in turn,
//! receive ready messages (in flight until their visibility timeout, kept by
//! `arm_visibility_timer`) if their replica has room, and each is sent as a request
//! (`Parent::QueueConsumer`). **Delivery → ack**: its answer reaches `queue_processed`: a
//! success acknowledges (deletes) the message, a failure returns it (at once, or after the
//! queue's `retry_delay` via `Event::Visibility` → `on_visibility`), an acknowledgement
//! after the visibility timeout counts a duplicate; the consumer takes its turn again
//! (`pull`). Visibility timeouts redeliver to another consumer (`on_visibility`); a crash
//! requeues a consumer's unacknowledged messages (`queue_consumers_follow_replica`);
//! retention deletes old ready messages (`on_queue_retention`).
//!
//! **A customer** of a network of work queues (an entry point that sends to a queue): its
//! client's message starts it (`new_customer`, from `client_store`), every message a
//! processing of one of its messages sends to a work queue joins it (the consumer's job
//! carries the customer's tag, `Job::customer`, and so do the calls it makes; `try_publish`
//! reads it and `claim_customer` counts the message), and it is done when the
//! last of its messages leaves the broker (`customer_message_gone`: acknowledged,
//! dead-lettered or deleted) — its end-to-end latency goes to its entry point.

//! Runs that never returned (issue 10, "Hangs"): each reproducer of the issue, now a run that
//! ends — with a report whose numbers are checked, or with the Zeno guard's error naming what
//! went round. Every model here sets a small `run.max_events_per_instant`, so that a
//! regression stops in milliseconds with the guard's error instead of hanging the suite.

use crate::common::{model, opts, K_SE};
use microsim::engine::Simulation;
use microsim::model::DEFAULT_MAX_EVENTS_PER_INSTANT;
use microsim::{Report, RunError, RunOptions};

/// Runs `text` with the file's settings; the report, or the run's error.
fn run(text: &str) -> Result<Report, RunError> {
    model(text).run(&RunOptions::default())
}

/// Runs `text`, which must end with the Zeno guard's error; its message.
#[track_caller]
fn zeno(text: &str) -> String {
    match run(text) {
        Err(e @ RunError::ZenoGuard { .. }) => e.to_string(),
        Err(e) => panic!("expected the Zeno guard, got another error: {e}"),
        Ok(_) => panic!("expected the Zeno guard, the run completed"),
    }
}

#[track_caller]
fn says(message: &str, words: &[&str]) {
    for w in words {
        assert!(message.contains(w), "lacks `{w}`: {message}");
    }
}

/// `sent = acked + dead-lettered + expired + depth + in flight` for every work queue.
#[track_caller]
fn queues_conserve(r: &Report) {
    for q in &r.queues {
        assert_eq!(
            q.sent,
            q.acked + q.dead_lettered + q.expired + q.depth + q.in_flight,
            "queue {} does not conserve messages: {q:?}",
            q.name
        );
    }
}

// ---- 3. a replica that starts down ------------------------------------------------------------

/// A failure process that (with seed 1) starts down and stays down for the whole run.
const STARTS_DOWN: &str = r#"failures: (mttf: "1s", mttr: "1000s")"#;

#[test]
fn a_work_queue_consumer_on_a_replica_that_starts_down_takes_nothing() {
    // The consumer used to take every message, fail it `unavailable` and requeue it at once,
    // for ever (with overflow checks, `receives += 1` panicked after 2³² deliveries).
    let r = run(&format!(
        r#"Topology(
        run: (duration: "2s", max_events_per_instant: 100000),
        workload: [(name: "e", send: "q", arrivals: Constant(per_second: 100))],
        services: {{ "s": (work: Const("1ms"), {STARTS_DOWN}) }},
        queues: {{ "q": (service: "s") }},
    )"#
    ))
    .unwrap();
    let s = &r.services[0];
    assert_eq!(s.time_availability, 0.0, "the replica is down all run");
    assert_eq!((s.arrivals, s.unavailable), (0, 0), "{s:?}");
    let q = &r.queues[0];
    assert_eq!(q.sent, 199, "arrivals at 10 ms, 20 ms, … 1.99 s");
    assert_eq!((q.acked, q.failed, q.redelivered), (0, 0, 0), "{q:?}");
    assert_eq!((q.depth, q.in_flight), (199, 0), "{q:?}");
    queues_conserve(&r);
}

/// A topic whose one consumer lives on a replica down from t = 0, by a failure process
/// that starts down or by a crash fault from t = 0: `(produced, consumed, dead-lettered, lag)`.
fn topic_with_a_consumer_down_from_the_start(down: &str, on_exhausted: &str) -> [u64; 4] {
    let (failures, faults) = match down {
        "failure process" => (STARTS_DOWN, ""),
        _ => (
            "",
            r#"faults: [(at: "0s", lasts: "1h", fault: Crash(service: "s"))],"#,
        ),
    };
    let r = run(&format!(
        r#"Topology(
        run: (duration: "500ms", max_events_per_instant: 100000),
        workload: [(name: "e", publish: "t", arrivals: Constant(per_second: 100))],
        services: {{ "s": (work: Const("1ms"), {failures}) }},
        topics: {{ "t": (subscribers: [(service: "s", on_exhausted: {on_exhausted})]) }},
        {faults}
    )"#
    ))
    .unwrap_or_else(|e| panic!("{down}, {on_exhausted}: {e}"));
    let g = &r.topics[0].groups[0];
    [r.topics[0].produced, g.consumed, g.dead_lettered, g.lag]
}

#[test]
fn a_topic_consumer_on_a_replica_that_starts_down_stalls_its_partition_as_a_crash_does() {
    // It used to dead-letter every message at once (DeadLetter) or loop for ever (Block);
    // a crash from t = 0 stalls the partition: nothing consumed, everything lags.
    for on_exhausted in ["DeadLetter", "Block"] {
        let crash = topic_with_a_consumer_down_from_the_start("crash", on_exhausted);
        assert_eq!(crash, [49, 0, 0, 49], "{on_exhausted}");
        let process = topic_with_a_consumer_down_from_the_start("failure process", on_exhausted);
        assert_eq!(process, crash, "{on_exhausted}");
    }
}

// ---- 1. consumers back-pressured by their replica ---------------------------------------------

#[test]
fn a_consumer_waits_for_room_instead_of_livelocking_on_rejections() {
    // Two consumers of a one-worker service with no waiting room: the second consumer's
    // message used to be rejected, requeued at once and rejected again, for ever at the
    // instant of the first arrival. Now it stays in the broker until the worker is free.
    // Everything here is deterministic: sends at 1, 2, …, 1999 ms; the worker is busy from
    // 1 ms on, finishing one 2 ms message at 3, 5, …, 1999 ms.
    let r = run(r#"Topology(
        run: (duration: "2s", max_events_per_instant: 100000),
        workload: [(name: "e", send: "q", arrivals: Constant(per_second: 1000))],
        services: { "s": (queue: 0, work: Const("2ms")) },
        queues: { "q": (service: "s", consumers: 2) },
    )"#)
    .unwrap();
    let (s, q) = (&r.services[0], &r.queues[0]);
    assert_eq!((s.rejected, q.failed, q.redelivered), (0, 0, 0), "{q:?}");
    // The service runs at its capacity, 500 messages/s: 999 done and one in progress.
    assert_eq!((q.sent, q.acked, q.in_flight, q.depth), (1999, 999, 1, 999));
    assert_eq!(s.arrivals, 1000);
    assert!((s.utilization - 1999.0 / 2000.0).abs() < 1e-9, "{s:?}");
    queues_conserve(&r);
}

/// The issue's "ordinary configuration": `prefetch: 0` (unlimited) and a bounded service
/// queue, `workers: 4, queue: 10, Exp(5ms)`, Poisson 500/s (ρ = 0.625). It used to livelock
/// at t ≈ 0.77 s, the first time 14 messages were inside the service. With back-pressure the
/// consumers hand over at most what the service admits and the broker keeps the rest, so
/// the queue and its service are one FIFO M/M/4 station with an unbounded waiting room:
/// W = 1/μ + C(4, 2.5)/(4μ − λ) = 6.0662 ms. Ten replications of 30 s (~14,000 messages
/// each) estimate W with a standard error of about 0.7 %; `assert_matches` allows 5 s.e.
/// plus a 0.5 % warm-up bias, at most 5 %.
#[test]
fn prefetch_0_with_a_bounded_service_queue_is_an_mm4_station() {
    let m = model(
        r#"Topology(
        run: (max_events_per_instant: 100000),
        workload: [(name: "e", send: "q", arrivals: Poisson(per_second: 500))],
        services: { "s": (workers: 4, queue: 10, work: Exp(mean: "5ms")) },
        queues: { "q": (service: "s", consumers: 4, prefetch: 0) },
    )"#,
    );
    let reports = crate::common::replicate(&m, &opts(30.0, 2.0));
    let theory = microsim::analysis::queueing::mmc(4, 500.0, 200.0).unwrap();
    assert!((theory.w * 1e3 - 6.0662).abs() < 1e-4, "{}", theory.w);
    let w: Vec<f64> = reports
        .iter()
        .map(|r| r.queues[0].latency.mean_ms)
        .collect();
    crate::common::assert_matches("W [ms]", &w, theory.w * 1e3, 0.005 * 6.0662, 0.05);
    for r in &reports {
        let (s, q) = (&r.services[0], &r.queues[0]);
        assert_eq!((s.rejected, q.failed, q.redelivered), (0, 0, 0), "{q:?}");
        assert!(s.max_queue <= 10, "{s:?}");
        assert!(q.in_flight <= 14, "at most 4 workers + 10 places: {q:?}");
        // Throughput is the arrival rate (ρ < 1): 28 s × 500/s = 14,000 ± 5 × √14,000.
        let acked_per_s = q.latency.count as f64 / 28.0;
        assert!(
            (acked_per_s - 500.0).abs() <= K_SE * (500.0f64 / 28.0).sqrt(),
            "{acked_per_s}"
        );
        queues_conserve(r);
    }
}

/// A topic consumer on a replica full of sync traffic: one worker, no waiting room, shared
/// by requests from a client (Poisson 200/s) and the consumer's messages (Poisson 100/s),
/// 2 ms each. A message used to be rejected like any request: dead-lettered at once (the
/// default), or, with `on_exhausted: Block` and no backoff, retried and rejected for ever at
/// one instant. Now the consumer waits for the worker; only the client's requests are
/// rejected.
#[test]
fn a_topic_consumer_waits_for_room_at_a_replica_full_of_sync_traffic() {
    for on_exhausted in ["DeadLetter", "Block"] {
        let r = run(&format!(
            r#"Topology(
            run: (duration: "20s", warmup: "1s", seed: 3, max_events_per_instant: 100000),
            workload: [
                (name: "calls", entry: "s", arrivals: Poisson(per_second: 200)),
                (name: "events", publish: "t", arrivals: Poisson(per_second: 100)),
            ],
            services: {{ "s": (queue: 0, work: Exp(mean: "2ms")) }},
            topics: {{ "t": (subscribers: [(service: "s", on_exhausted: {on_exhausted})]) }},
        )"#
        ))
        .unwrap_or_else(|e| panic!("{on_exhausted}: {e}"));
        let (s, t) = (&r.services[0], &r.topics[0]);
        let g = &t.groups[0];
        assert_eq!((g.failed, g.dead_lettered), (0, 0), "{on_exhausted}: {g:?}");
        assert!(s.rejected > 100, "the replica was full at times: {s:?}");
        assert_eq!(
            s.rejected, r.entries[0].outcomes.rejected,
            "{on_exhausted}: only the client's requests are rejected"
        );
        // Load 0.6 < 1: the consumer keeps up; what is not consumed is the last moment's.
        assert_eq!(g.consumed + g.lag, t.produced, "{on_exhausted}: {g:?}");
        assert!(g.lag <= 5, "{on_exhausted}: {g:?}");
    }
}

// ---- 2. zero-time loops -----------------------------------------------------------------------

/// A consumer whose processing takes no time and sends every message back to its own queue.
fn self_sending(work: &str, run: &str) -> String {
    format!(
        r#"Topology(
        run: ({run}),
        workload: [(name: "e", send: "q", arrivals: Constant(per_second: 10))],
        services: {{ "s": (work: {work}, steps: [Send(queue: "q")]) }},
        queues: {{ "q": (service: "s") }},
    )"#
    )
}

#[test]
fn a_zero_time_message_loop_stops_with_the_guard() {
    // One message in flight, so the in-flight cap never tripped: the run looped for ever at
    // the first arrival (100 ms).
    let m = zeno(&self_sending(
        r#"Const("0ns")"#,
        "max_events_per_instant: 100000",
    ));
    says(
        &m,
        &[
            "run stopped at 0.100s",
            "run.max_events_per_instant = 100000",
            "work queue `q`",
            "step `services[s].steps[0]`",
            "messages to work queue `q`",
            "service `s`",
            "give its `work` a non-zero duration",
            "a `probability` below 1",
        ],
    );
}

/// `Gamma(mean: "1ns", cv: 100)` is 0 ns about 999 times in 1,000 (shape 10⁻⁴): time does
/// advance, by about a microsecond every thousand loops, so this is not a Zeno model and the
/// guard rightly stays quiet (the busiest instant has a few thousand events). Its cost is
/// real: a billion processings per simulated second per message. A short run shows it ends
/// and conserves messages; the `message-cycle` lint of `check` names the loop.
#[test]
fn a_nearly_zero_time_message_loop_advances_time_and_ends() {
    let text = self_sending(
        r#"Gamma(mean: "1ns", cv: 100)"#,
        r#"duration: "100100us", max_events_per_instant: 100000"#,
    );
    let m = model(&text);
    let mut sim = Simulation::new(&m, &RunOptions::default()).unwrap();
    while sim.step().unwrap() {}
    let (busiest, at) = sim.busiest_instant();
    assert!(at.as_secs_f64() >= 0.1, "the loop starts at 100 ms: {at:?}");
    assert!(busiest < 100_000, "{busiest}");
    let r = run(&text).unwrap();
    let q = &r.queues[0];
    // One message goes round for 100 µs, at a mean of 1 ns a turn: some 10⁵ turns (the
    // Gamma's cv of 100 makes the count itself very uncertain, so only its order here).
    assert!((10_000..1_000_000).contains(&q.acked), "{q:?}");
    assert_eq!((q.sent, q.in_flight, q.depth), (q.acked + 1, 1, 0), "{q:?}");
    assert!(r.events > 10, "time advanced: {} events", r.events);
    queues_conserve(&r);
    // `check` names the cycle that never lets a message go.
    let lints = m.analyze().lints;
    let cycle: Vec<_> = lints.iter().filter(|l| l.code == "message-cycle").collect();
    assert_eq!(cycle.len(), 1, "{lints:#?}");
    assert_eq!(cycle[0].path, "queues[q]");
    says(
        &cycle[0].message,
        &["work queue `q` come back for ever", "`probability` below 1"],
    );
}

#[test]
fn the_message_cycle_lint_spares_a_cycle_that_lets_messages_go() {
    // A message sent back with probability 0.99 leaves after 100 turns on average: the flow
    // settles (slowly) at 100 × 10/s, and there is no lint.
    let lints = |send: &str| -> Vec<String> {
        model(&format!(
            r#"Topology(
            workload: [(name: "e", send: "q", arrivals: Constant(per_second: 10))],
            services: {{ "s": (work: Const("1ms"), steps: [{send}]) }},
            queues: {{ "q": (service: "s") }},
        )"#
        ))
        .analyze()
        .lints
        .into_iter()
        .map(|l| l.code)
        .collect()
    };
    let some = lints(r#"Send(queue: "q", probability: 0.99)"#);
    assert!(!some.contains(&"message-cycle".into()), "{some:?}");
    // Two messages back per message: the flow grows without bound.
    let double = lints(r#"Send(queue: "q"), Send(queue: "q", probability: 0.5)"#);
    assert!(double.contains(&"message-cycle".into()), "{double:?}");
}

// ---- 4. zero-time failure loops ---------------------------------------------------------------

/// A work queue whose service fails every message in zero time.
fn failing_queue(queue_fields: &str) -> String {
    format!(
        r#"Topology(
        run: (duration: "1s", max_events_per_instant: 100000),
        workload: [(name: "e", send: "q", arrivals: Constant(per_second: 100))],
        services: {{ "s": (errors: 1.0) }},
        queues: {{ "q": (service: "s"{queue_fields}) }},
    )"#
    )
}

#[test]
fn a_queue_failing_every_message_in_zero_time_stops_with_the_guard() {
    let m = zeno(&failing_queue(""));
    says(
        &m,
        &[
            "run stopped at 0.010s",
            "work queue `q`",
            "failed",
            "give it a `retry_delay`",
            "or a `max_receives`",
        ],
    );
    // Either setting the message names makes time advance.
    let r = run(&failing_queue(r#", retry_delay: "10ms""#)).unwrap();
    let q = &r.queues[0];
    // A returned message goes back to the head of the queue, so the one consumer retries
    // the first message (sent at 10 ms) every 10 ms: it fails at 10, 20, … 990 ms, while
    // the others wait behind it.
    assert_eq!((q.sent, q.acked, q.failed, q.redelivered), (99, 0, 99, 98));
    assert_eq!((q.depth, q.in_flight), (98, 1), "{q:?}");
    queues_conserve(&r);
    let r = run(&failing_queue(", max_receives: 3")).unwrap();
    let q = &r.queues[0];
    assert_eq!((q.sent, q.dead_lettered, q.failed), (99, 99, 297), "{q:?}");
    queues_conserve(&r);
}

/// A topic group that blocks its partition on a message its service fails in zero time.
fn blocking_group(group_fields: &str) -> String {
    format!(
        r#"Topology(
        run: (duration: "1s", max_events_per_instant: 100000),
        workload: [(name: "e", publish: "t", arrivals: Constant(per_second: 100))],
        services: {{ "s": (errors: 1.0) }},
        topics: {{ "t": (subscribers: [(service: "s", on_exhausted: Block{group_fields})]) }},
    )"#
    )
}

#[test]
fn a_blocked_partition_retried_in_zero_time_stops_with_the_guard() {
    let m = zeno(&blocking_group(""));
    says(
        &m,
        &[
            "run stopped at 0.010s",
            "consumer group `s` of topic `t`",
            "retries",
            "give it a `retry_backoff`",
            "`on_exhausted: DeadLetter`",
        ],
    );
    // With a backoff the partition stays blocked on its first message, retried every 10 ms
    // from 10 ms on: attempts at 10, 20, … 990 ms.
    let r = run(&blocking_group(r#", retry_backoff: "10ms""#)).unwrap();
    let (t, g) = (&r.topics[0], &r.topics[0].groups[0]);
    assert_eq!(
        (t.produced, g.consumed, g.dead_lettered),
        (99, 0, 0),
        "{g:?}"
    );
    assert_eq!((g.failed, g.retries, g.lag), (99, 99, 99), "{g:?}");
}

// ---- 5. the guard's default against the bundled topologies ------------------------------------

/// Every bundled topology, run as its file says, has its busiest instant at least a thousand
/// times below the guard's default, so the guard never stops a legitimate model of this
/// kind. The figures (run with `--nocapture` to see them): no-breaker 4,653 (its five-minute
/// hang ends at 450 s and every request it held is answered at once), breaker 195,
/// registration-events 15, every other one 10 or fewer (comparison 7: it runs its sync flow).
#[test]
fn the_busiest_instant_of_every_bundled_topology_is_far_below_the_guard() {
    use rayon::prelude::*;
    let figures: Vec<(String, u64, f64)> = crate::common::bundled()
        .par_iter()
        .map(|path| {
            let m = microsim::load(path).unwrap_or_else(|e| panic!("{e}"));
            let mut sim = Simulation::new(&m, &RunOptions::default()).unwrap();
            while sim
                .step()
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            {}
            let (n, at) = sim.busiest_instant();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, n, at.as_secs_f64())
        })
        .collect();
    for (name, n, at) in &figures {
        eprintln!("{name:28} busiest instant: {n:>6} events at {at:.6} s");
        assert!(*n >= 1, "{name}");
        assert!(
            *n * 1000 <= DEFAULT_MAX_EVENTS_PER_INSTANT,
            "{name}: {n} events at {at} s, within a factor 1,000 of the guard's default"
        );
    }
    // The measurement itself works: the hang of no-breaker.ron releases thousands at once.
    let (_, n, at) = figures
        .iter()
        .find(|(name, ..)| name == "no-breaker.ron")
        .expect("no-breaker.ron is bundled");
    assert!(*n > 1000 && *at == 450.0, "{n} at {at}");
}

// ---- item 8: commit timers cost nothing without traffic ---------------------------------------

#[test]
fn a_commit_timer_does_not_tick_through_silence() {
    // A group whose topic gets no message, committing every 2 ns: its timer used to fire
    // 5·10⁸ times per simulated second. Now the run has only the requests' events: nine
    // arrivals (1 ms apart) and nine ends of work.
    let r = run(r#"Topology(
        run: (duration: "10ms"),
        workload: [(name: "calls", entry: "api", arrivals: Constant(per_second: 1000))],
        services: { "api": (work: Const("100us")), "s": () },
        topics: { "t": (subscribers: [(service: "s", commit_interval: "2ns")]) },
    )"#)
    .unwrap();
    assert_eq!(r.events, 18);
    assert_eq!(r.topics[0].produced, 0);
}

/// Commits still fall on the multiples of the interval after a silence, as with a timer that
/// never stops: a consumer crashes at 1,234 ms with everything processed up to the 1,200 ms
/// commit safe, so exactly the four messages processed since (published at 1,200, 1,210,
/// 1,220 and 1,230 ms) are delivered again, and processed twice, by the consumer that takes
/// the partition over. Traffic pauses from 500 ms to 1 s; a tick armed one interval after
/// the first message processed after the pause (at 1,001 ms) would commit at 1,101 and
/// 1,201 ms instead, and only three messages would come again.
#[test]
fn commits_after_a_silence_stay_on_the_interval_grid() {
    let r = run(r#"Topology(
        run: (duration: "2s"),
        workload: [(name: "e", publish: "t", arrivals: Constant(per_second: 100, profile: [
            (at: "500ms", per_second: 0), (at: "1s", per_second: 100),
        ]))],
        services: { "s": (replicas: 2, work: Const("1ms")) },
        topics: { "t": (subscribers: [(service: "s", consumers: 2, session_timeout: "100ms",
                                       commit_interval: "100ms")]) },
        faults: [(at: "1234ms", lasts: "10s", fault: Crash(service: "s", replicas: 1))],
    )"#)
    .unwrap();
    let (t, g) = (&r.topics[0], &r.topics[0].groups[0]);
    assert_eq!(t.produced, 149, "49 before the pause, 100 after");
    assert_eq!((g.redelivered, g.duplicates), (4, 4), "{g:?}");
    // At the end, what was processed since the last commit (1,900 ms) is not committed yet.
    assert_eq!((g.consumed, g.lag), (139, 10), "{g:?}");
}

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

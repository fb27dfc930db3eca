//! Exact traces on tiny deterministic models: constant arrivals and constant work, so every
//! answer happens at a nanosecond we can compute by hand.
//!
//! `Constant(per_second: r)` puts the first arrival at 1/r and the next ones 1/r apart; a
//! profile point `(at: T, per_second: 0)` ends the stream after the arrival at T.

use crate::common::{assert_exact, model};
use microsim::engine::TraceRecord;
use microsim::run_traced;
use microsim::time::{SimDuration, SimTime, NS_PER_MS};
use microsim::{Outcome, Report, RunOptions};

const MS: u64 = NS_PER_MS;

fn run(text: &str) -> (Report, Vec<TraceRecord>) {
    run_traced(&model(text), &RunOptions::default()).expect("the run succeeds")
}

fn record(time_ms: u64, outcome: Outcome, latency_ms: u64) -> TraceRecord {
    TraceRecord {
        time: SimTime(time_ms * MS),
        entry: 0,
        outcome,
        latency: SimDuration(latency_ms * MS),
    }
}

/// One worker, 5 ms of work, requests at 1 ms and 2 ms: the first is answered at 6 ms, the
/// second waits for the worker and is answered at 11 ms.
#[test]
fn one_worker_serves_in_arrival_order() {
    let (report, trace) = run(r#"Topology(
        run: (duration: "20ms"),
        workload: [(name: "main", entry: "s",
                    arrivals: Constant(per_second: 1000, profile: [(at: "2ms", per_second: 0)]))],
        services: { "s": (workers: 1, work: Const("5ms")) },
    )"#);
    assert_eq!(
        trace,
        [record(6, Outcome::Ok, 5), record(11, Outcome::Ok, 9)]
    );
    let e = &report.entries[0];
    assert_eq!((e.offered, e.outcomes.ok, e.in_flight), (2, 2, 0));
    assert_exact("entry mean latency", e.latency.mean_ms, 7.0);
    assert_exact("entry max latency", e.latency.max_ms, 9.0);
    let s = &report.services[0];
    assert_eq!((s.arrivals, s.max_queue), (2, 1));
    // Over the 20 ms: the worker is busy 1–11 ms, the second request waits 2–6 ms, and there
    // are requests at the service for 5 + 9 = 14 ms in all.
    assert_exact("utilization", s.utilization, 10.0 / 20.0);
    assert_exact("mean queue", s.mean_queue, 4.0 / 20.0);
    assert_exact("mean in system", s.mean_in_system, 14.0 / 20.0);
    assert_eq!(s.orphaned, 0);
}

/// A caller with a 30 ms timeout on a callee that works 50 ms: each request times out at
/// exactly sent + 30 ms, and the callee finishes the work nobody waits for (orphaned work).
/// The first orphan was already running when its caller gave up (10–40 ms: 20 ms orphaned);
/// the second was still queued (it starts at 60 ms: all 50 ms orphaned).
#[test]
fn timeout_fires_and_the_callee_keeps_working() {
    let (report, trace) = run(r#"Topology(
        run: (duration: "200ms"),
        workload: [(name: "main", entry: "api",
                    arrivals: Constant(per_second: 100, profile: [(at: "20ms", per_second: 0)]))],
        services: {
            "api":  (workers: 2, steps: [Call(to: "slow", timeout: "30ms")]),
            "slow": (workers: 1, work: Const("50ms")),
        },
    )"#);
    assert_eq!(
        trace,
        [
            record(40, Outcome::Timeout, 30),
            record(50, Outcome::Timeout, 30)
        ]
    );
    let e = &report.entries[0];
    assert_eq!((e.offered, e.outcomes.timeout, e.in_flight), (2, 2, 0));
    assert_eq!(e.availability, 0.0);

    let api = report.service("api").unwrap();
    assert_eq!((api.outcomes.timeout, api.orphaned), (2, 0));
    let slow = report.service("slow").unwrap();
    // The callee answered both (too late): 50 ms and 90 ms after they arrived.
    assert_eq!((slow.arrivals, slow.outcomes.ok), (2, 2));
    assert_exact("slow mean latency", slow.latency.mean_ms, 70.0);
    assert_exact("slow max latency", slow.latency.max_ms, 90.0);
    assert_eq!(slow.orphaned, 2);
    assert_exact("orphaned work [s]", slow.orphaned_work_s, 0.020 + 0.050);
    // Busy 10–110 ms of the 200 ms.
    assert_exact("slow utilization", slow.utilization, 100.0 / 200.0);

    let call = &report.calls[0];
    assert_eq!((call.calls, call.outcomes.timeout), (2, 2));
    assert_exact("call max latency", call.latency.max_ms, 30.0);
}

/// A sync call holds the caller's only worker: a second request waits at the caller for the
/// whole call although the callee has a free worker.
#[test]
fn held_worker_blocks_the_next_request() {
    let (report, trace) = run(r#"Topology(
        run: (duration: "100ms"),
        workload: [(name: "main", entry: "front",
                    arrivals: Constant(per_second: 1000, profile: [(at: "2ms", per_second: 0)]))],
        services: {
            "front": (workers: 1, steps: [Call(to: "back")]),
            "back":  (workers: 2, work: Const("20ms")),
        },
    )"#);
    // Request 1: 1 → 21 ms. Request 2 arrives at 2 ms, gets the worker at 21 ms, 41 ms.
    assert_eq!(
        trace,
        [record(21, Outcome::Ok, 20), record(41, Outcome::Ok, 39)]
    );
    let front = report.service("front").unwrap();
    assert_eq!(front.max_queue, 1);
    assert_exact("front mean queue", front.mean_queue, 19.0 / 100.0);
    assert_exact("front utilization", front.utilization, 40.0 / 100.0);
    let back = report.service("back").unwrap();
    // Never two requests at once at `back`: its second worker stays idle.
    assert_exact("back utilization", back.utilization, 40.0 / (2.0 * 100.0));
    assert_eq!(back.max_queue, 0);
}

/// `Parallel` waits for its slowest branch; a call's network latency is paid on the way
/// there and on the way back; the caller's own work comes first.
#[test]
fn parallel_joins_on_the_slowest_branch_with_network_latency() {
    let (report, trace) = run(r#"Topology(
        run: (duration: "100ms"),
        workload: [(name: "main", entry: "front",
                    arrivals: Constant(per_second: 100, profile: [(at: "10ms", per_second: 0)]))],
        services: {
            "front": (workers: 1, work: Const("2ms"), steps: [
                Parallel(branches: [
                    [Call(to: "a", latency: Const("1ms"))],
                    [Call(to: "b"), Work(Const("3ms"))],
                ]),
            ]),
            "a": (work: Const("10ms")),
            "b": (work: Const("4ms")),
        },
    )"#);
    // Arrival 10 ms; work to 12; branch a: 12 + 1 + 10 + 1 = 24; branch b: 12 + 4 + 3 = 19.
    assert_eq!(trace, [record(24, Outcome::Ok, 14)]);
    let call_a = &report.calls[0];
    assert_exact("call a latency", call_a.latency.max_ms, 12.0);
    assert_exact(
        "a's own latency",
        report.service("a").unwrap().latency.max_ms,
        10.0,
    );
}

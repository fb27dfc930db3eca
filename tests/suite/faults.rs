//! Faults and failure processes end to end, through the engine: crashes, hangs, slowdowns,
//! error bursts, partitions and latency injection on a timeline, how overlapping faults
//! combine, and random failures and repairs of replicas.
//!
//! The fault specs and the renewal sampler are unit-tested in `src/fault.rs`; these tests check
//! what a fault does to requests. Most models are deterministic (`Constant` arrivals, `Const`
//! times), so answers are checked to the nanosecond; fault windows start and end between
//! arrivals, so that no result depends on how events at the same instant are ordered.
//! `Constant(per_second: r)` puts the first arrival at 1/r; a profile point
//! `(at: T, per_second: 0)` ends the stream after the arrival at T.

use crate::common::{assert_exact, assert_matches, model, opts, replicate};
use microsim::engine::TraceRecord;
use microsim::run_traced;
use microsim::time::{SimDuration, SimTime};
use microsim::{Outcome, Report, RunOptions};

fn run(text: &str) -> (Report, Vec<TraceRecord>) {
    run_traced(&model(text), &RunOptions::default()).expect("the run succeeds")
}

/// Nanoseconds in `ms` milliseconds (exact for the values used here).
fn ns(ms: f64) -> u64 {
    (ms * 1e6).round() as u64
}

/// An answer to entry point `entry` at `time_ms` after `latency_ms`.
fn record(entry: u32, time_ms: f64, outcome: Outcome, latency_ms: f64) -> TraceRecord {
    TraceRecord {
        time: SimTime(ns(time_ms)),
        entry,
        outcome,
        latency: SimDuration(ns(latency_ms)),
    }
}

/// The trace in a canonical order (time, entry, latency), for answers at the same instant
/// whose order is an engine detail.
fn sorted(mut trace: Vec<TraceRecord>) -> Vec<TraceRecord> {
    trace.sort_by_key(|t| (t.time, t.entry, t.latency));
    trace
}

/// The latency of every answer to entry point `entry`, in ms, in time order.
fn latencies_ms(trace: &[TraceRecord], entry: u32) -> Vec<f64> {
    trace
        .iter()
        .filter(|t| t.entry == entry)
        .map(|t| t.latency.0 as f64 / 1e6)
        .collect()
}

// ---- crash -------------------------------------------------------------------------------

/// A crash of `s` (one replica, one worker, 10 ms of work, 1 ms each way) from 5 to 15 ms.
/// * Requests sent at 1, 2, 3 ms reach `s` at 2, 3, 4 ms: the first is running, two are
///   queued. The crash loses all three; their callers hear `unavailable` 1 ms later, at 6 ms.
/// * The request sent at 8 ms reaches the crashed replica at 9 ms and is refused at once:
///   `unavailable` after the network only (2 ms).
/// * After the crash the request sent at 20 ms is served normally (12 ms).
///
/// `s` counts 5 arrivals and 4 `unavailable`; its worker was busy 2–5 and 21–31 ms only (the
/// lost request's work does not finish); it was up 40 of 50 ms.
#[test]
fn crash_refuses_calls_and_loses_requests_inside() {
    let (r, trace) = run(r#"Topology(
        run: (duration: "50ms"),
        workload: [
            (name: "early", entry: "api",
             arrivals: Constant(per_second: 1000, profile: [(at: "3ms", per_second: 0)])),
            (name: "during", entry: "api",
             arrivals: Constant(per_second: 125, profile: [(at: "8ms", per_second: 0)])),
            (name: "after", entry: "api",
             arrivals: Constant(per_second: 50, profile: [(at: "20ms", per_second: 0)])),
        ],
        services: {
            "api": (workers: 10, steps: [Call(to: "s", latency: Const("1ms"))]),
            "s": (workers: 1, work: Const("10ms")),
        },
        faults: [(at: "5ms", lasts: "10ms", fault: Crash(service: "s"))],
    )"#);
    assert_eq!(
        sorted(trace),
        [
            record(0, 6.0, Outcome::Unavailable, 3.0),
            record(0, 6.0, Outcome::Unavailable, 4.0),
            record(0, 6.0, Outcome::Unavailable, 5.0),
            record(1, 10.0, Outcome::Unavailable, 2.0),
            record(2, 32.0, Outcome::Ok, 12.0),
        ]
    );
    let s = r.service("s").unwrap();
    assert_eq!((s.arrivals, s.unavailable), (5, 4));
    assert_eq!((s.outcomes.unavailable, s.outcomes.ok), (4, 1));
    // The lost requests were at `s` 3, 2 and 1 ms; the refused one not at all.
    assert_eq!(s.latency.count, 4);
    assert_exact(
        "s mean latency",
        s.latency.mean_ms,
        (3.0 + 2.0 + 1.0 + 10.0) / 4.0,
    );
    assert_exact("s busy", s.mean_busy_workers, 13.0 / 50.0);
    // Two requests waited in the queue, 3–5 and 4–5 ms.
    assert_exact("s mean queue", s.mean_queue, (2.0 + 1.0) / 50.0);
    assert_exact("time availability", s.time_availability, 40.0 / 50.0);
    assert_exact("replica availability", s.replica_availability, 40.0 / 50.0);
    assert_eq!(r.faults.len(), 1);
    assert_exact("fault start", r.faults[0].start_s, 0.005);
    assert_exact("fault end", r.faults[0].end_s, 0.015);
}

/// A crash of 1 replica of 2: the balancer does not know (no health checks), so round-robin
/// sends every other call to the crashed replica and exactly half fail `unavailable`. The
/// service is still up (one replica is), but only half its replica-time. A retry to the
/// other replica (`other_replica`, the default) turns every one of them into a success.
#[test]
fn crash_of_one_replica_fails_half_the_calls_unless_retried() {
    let text = |retry: &str| {
        format!(
            r#"Topology(
            run: (duration: "1s"),
            workload: [(name: "main", entry: "api",
                        arrivals: Constant(per_second: 100, profile: [(at: "1s", per_second: 0)]))],
            services: {{
                "api": (workers: 10, steps: [Call(to: "s"{retry})]),
                "s": (replicas: 2, workers: 10, work: Const("1ms")),
            }},
            faults: [(at: "0ms", lasts: "1h", fault: Crash(service: "s", replicas: 1))],
        )"#
        )
    };
    let (plain, _) = run(&text(""));
    let e = &plain.entries[0];
    assert_eq!(
        (e.offered, e.outcomes.ok, e.outcomes.unavailable),
        (99, 49, 50)
    );
    let s = plain.service("s").unwrap();
    assert_eq!(s.unavailable, 50);
    assert_exact("time availability", s.time_availability, 1.0);
    assert_exact("replica availability", s.replica_availability, 0.5);
    assert_eq!(plain.faults[0].label, "crash s (1 of 2)");

    let (retried, _) = run(&text(", retry: (attempts: 2)"));
    let e = &retried.entries[0];
    assert_eq!((e.outcomes.ok, e.outcomes.unavailable), (99, 0));
    assert_eq!(retried.calls[0].retries, 50);
}

// ---- hang --------------------------------------------------------------------------------

/// A hang of `s` (one worker, 5 ms of work) from 10 to 50 ms.
/// * The request at 8 ms is inside when the hang begins and finishes normally at 13 ms.
/// * The request at 20 ms is held without an answer; its caller's 20 ms timeout fires at
///   40 ms. When the hang ends at 50 ms, `s` processes it anyway (50–55 ms): orphaned work.
/// * The request at 25 ms, from a caller with a 100 ms timeout, is held too, then queued
///   behind the first at 50 ms and answered at 60 ms (35 ms after it was sent).
#[test]
fn hang_holds_requests_until_it_ends() {
    let (r, trace) = run(r#"Topology(
        run: (duration: "100ms"),
        workload: [
            (name: "before", entry: "api",
             arrivals: Constant(per_second: 125, profile: [(at: "8ms", per_second: 0)])),
            (name: "impatient", entry: "api",
             arrivals: Constant(per_second: 50, profile: [(at: "20ms", per_second: 0)])),
            (name: "patient", entry: "patient",
             arrivals: Constant(per_second: 40, profile: [(at: "25ms", per_second: 0)])),
        ],
        services: {
            "api": (workers: 10, steps: [Call(to: "s", timeout: "20ms")]),
            "patient": (workers: 10, steps: [Call(to: "s", timeout: "100ms")]),
            "s": (workers: 1, work: Const("5ms")),
        },
        faults: [(at: "10ms", lasts: "40ms", fault: Hang(service: "s"))],
    )"#);
    assert_eq!(
        trace,
        [
            record(0, 13.0, Outcome::Ok, 5.0),
            record(1, 40.0, Outcome::Timeout, 20.0),
            record(2, 60.0, Outcome::Ok, 35.0),
        ]
    );
    let s = r.service("s").unwrap();
    assert_eq!((s.arrivals, s.outcomes.ok, s.orphaned), (3, 3, 1));
    assert_exact("orphaned work", s.orphaned_work_s, 0.005);
    // Held requests take no worker: busy 8–13 and 50–60 ms.
    assert_exact("s busy", s.mean_busy_workers, 15.0 / 100.0);
    assert_eq!(s.unavailable, 0);
}

// ---- slowdown ----------------------------------------------------------------------------

/// A slowdown ×3 of `s` from 0.95 to 1.95 s. Requests every 100 ms; `s` works 10 ms, then a
/// 5 ms `Work` step, then calls `t` (2 ms, not slowed): 17 ms normally, 30 + 15 + 2 = 47 ms
/// for the 10 requests that arrive in the window, and only for them. The busy-worker series
/// shows it bucket by bucket.
#[test]
fn slowdown_multiplies_local_work_in_its_window_only() {
    let (r, trace) = run(r#"Topology(
        run: (duration: "3s"),
        workload: [(name: "main", entry: "s",
                    arrivals: Constant(per_second: 10, profile: [(at: "2900ms", per_second: 0)]))],
        services: {
            "s": (work: Const("10ms"), steps: [Work(Const("5ms")), Call(to: "t")]),
            "t": (work: Const("2ms")),
        },
        faults: [(at: "950ms", lasts: "1s", fault: Slowdown(service: "s", factor: 3))],
    )"#);
    assert_eq!(trace.len(), 29);
    for t in &trace {
        let sent_ms = (t.time.0 - t.latency.0) / 1_000_000;
        let expected = if (1000..=1900).contains(&sent_ms) {
            47.0
        } else {
            17.0
        };
        assert_eq!(
            t.latency,
            SimDuration(ns(expected)),
            "request sent at {sent_ms} ms"
        );
    }
    let s = r.service("s").unwrap();
    assert_exact(
        "s mean latency",
        s.latency.mean_ms,
        (19.0 * 17.0 + 10.0 * 47.0) / 29.0,
    );
    assert_exact(
        "t is not slowed",
        r.service("t").unwrap().latency.max_ms,
        2.0,
    );
    let busy = &r.series.services[0].busy;
    assert_eq!(busy.len(), 3);
    assert_exact("busy in [0, 1 s)", busy[0], 9.0 * 0.017);
    assert_exact("busy in [1, 2 s)", busy[1], 10.0 * 0.047);
    assert_exact("busy in [2, 3 s)", busy[2], 10.0 * 0.017);
}

// ---- error burst -------------------------------------------------------------------------

/// Error bursts raise the error rate in their window only, and overlapping causes combine as
/// independent ones: own errors 0.2, a burst of 0.3 over [2, 6 s) and one of 0.5 over
/// [4, 8 s) give 0.2, 1 − 0.8·0.7 = 0.44, 1 − 0.8·0.7·0.5 = 0.72, 1 − 0.8·0.5 = 0.6 and 0.2
/// in the five 2-second windows. Poisson arrivals at 4,000/s (about 8,000 answers per window
/// and replication); the share of errors per window comes from the time series, compared
/// over 10 replications with a tolerance from their spread.
#[test]
fn error_bursts_raise_the_error_rate_in_their_window() {
    let m = model(
        r#"Topology(
        workload: [(name: "main", entry: "s", arrivals: Poisson(per_second: 4000))],
        services: { "s": (workers: 1000, errors: 0.2) },
        faults: [
            (at: "2s", lasts: "4s", fault: ErrorBurst(service: "s", errors: 0.3)),
            (at: "4s", lasts: "4s", fault: ErrorBurst(service: "s", errors: 0.5)),
        ],
    )"#,
    );
    let reports = replicate(&m, &opts(10.0, 0.0));
    for (w, expected) in [0.2, 0.44, 0.72, 0.6, 0.2].into_iter().enumerate() {
        let shares: Vec<f64> = reports
            .iter()
            .map(|r| {
                let s = &r.series.entries[0];
                let (b0, b1) = (2 * w, 2 * w + 2);
                let errors: u64 = s.error[b0..b1].iter().sum();
                let ok: u64 = s.ok[b0..b1].iter().sum();
                errors as f64 / (errors + ok) as f64
            })
            .collect();
        assert_matches(
            &format!("error share in [{}, {} s)", 2 * w, 2 * w + 2),
            &shares,
            expected,
            0.0,
            0.06,
        );
    }
}

// ---- partition ---------------------------------------------------------------------------

/// A partition api → s from 95 to 195 ms: messages on that edge are lost, and only on it.
/// `api` and `other` both call `s` (10 ms of work) every 10 ms with a 20 ms timeout.
/// * api's request sent at 90 ms reaches `s`, but the response (at 100 ms) is lost.
/// * api's requests sent at 100–190 ms are lost on the way and never reach `s`.
///
/// All 11 time out, exactly 20 ms after they were sent; `other` is not affected at all.
#[test]
fn partition_loses_messages_on_one_edge_only() {
    let (r, trace) = run(r#"Topology(
        run: (duration: "500ms"),
        workload: [
            (name: "via_api", entry: "api",
             arrivals: Constant(per_second: 100, profile: [(at: "400ms", per_second: 0)])),
            (name: "via_other", entry: "other",
             arrivals: Constant(per_second: 100, profile: [(at: "400ms", per_second: 0)])),
        ],
        services: {
            "api": (workers: 10, steps: [Call(to: "s", timeout: "20ms")]),
            "other": (workers: 10, steps: [Call(to: "s", timeout: "20ms")]),
            "s": (workers: 10, work: Const("10ms")),
        },
        faults: [(at: "95ms", lasts: "100ms", fault: Partition(from: "api", to: "s"))],
    )"#);
    let api = &r.entries[0];
    assert_eq!(
        (api.offered, api.outcomes.ok, api.outcomes.timeout),
        (40, 29, 11)
    );
    let timeouts: Vec<TraceRecord> = trace
        .iter()
        .filter(|t| t.outcome == Outcome::Timeout)
        .copied()
        .collect();
    let expected: Vec<TraceRecord> = (9..=19)
        .map(|k| record(0, f64::from(k) * 10.0 + 20.0, Outcome::Timeout, 20.0))
        .collect();
    assert_eq!(timeouts, expected);
    let other = &r.entries[1];
    assert_eq!((other.offered, other.outcomes.ok), (40, 40));
    let s = r.service("s").unwrap();
    // The 10 requests lost on the way never arrived; the one whose answer was lost did.
    assert_eq!((s.arrivals, s.outcomes.ok), (70, 70));
    let call = r.calls.iter().find(|c| c.from == "api").unwrap();
    assert_eq!((call.calls, call.outcomes.timeout), (40, 11));
    assert_exact("timed-out call latency", call.latency.max_ms, 20.0);
    let call = r.calls.iter().find(|c| c.from == "other").unwrap();
    assert_exact("other's calls", call.latency.max_ms, 10.0);
}

// ---- latency -----------------------------------------------------------------------------

/// A latency fault adds exactly its extra latency to every message on its edge, and nothing
/// elsewhere. Calls take 1 ms out, 2 ms of work and 1 ms back (4 ms); the fault adds 5 ms to
/// each message sent on api → s between 95 and 195 ms. A request sent at 100–180 ms takes
/// 14 ms; the one sent at 190 ms pays it going out only (its answer leaves at 198 ms, after
/// the fault): 9 ms; all others, and every call from `other`, take 4 ms.
#[test]
fn latency_fault_adds_exact_latency_on_one_edge() {
    let (r, trace) = run(r#"Topology(
        run: (duration: "500ms"),
        workload: [
            (name: "via_api", entry: "api",
             arrivals: Constant(per_second: 100, profile: [(at: "400ms", per_second: 0)])),
            (name: "via_other", entry: "other",
             arrivals: Constant(per_second: 100, profile: [(at: "400ms", per_second: 0)])),
        ],
        services: {
            "api": (workers: 10, steps: [Call(to: "s", latency: Const("1ms"))]),
            "other": (workers: 10, steps: [Call(to: "s", latency: Const("1ms"))]),
            "s": (workers: 10, work: Const("2ms")),
        },
        faults: [(at: "95ms", lasts: "100ms",
                  fault: Latency(from: "api", to: "s", add: Const("5ms")))],
    )"#);
    let expected: Vec<f64> = (1..=40)
        .map(|k| match k * 10 {
            100..=180 => 14.0,
            190 => 9.0,
            _ => 4.0,
        })
        .collect();
    assert_eq!(latencies_ms(&trace, 0), expected);
    assert_eq!(latencies_ms(&trace, 1), vec![4.0; 40]);
    assert_eq!(r.entries[0].outcomes.ok, 40);
    assert_exact(
        "s latency is unchanged",
        r.service("s").unwrap().latency.max_ms,
        2.0,
    );
}

// ---- overlapping faults ------------------------------------------------------------------

/// Overlapping faults combine as documented: slowdown factors multiply (×2 over
/// [0.95, 2.95 s) and ×3 over [1.95, 3.95 s): 10 ms of work takes 20, 60, then 30 ms), and
/// extra latencies add (+5 ms over [0.95, 2.95 s) and +3 ms over [1.95, 3.95 s) on each of the
/// two messages of an instant call: 10, 16, then 6 ms). One request every 100 ms.
#[test]
fn overlapping_slowdowns_multiply_and_latencies_add() {
    let (_, trace) = run(r#"Topology(
        run: (duration: "5s"),
        workload: [
            (name: "slow", entry: "s",
             arrivals: Constant(per_second: 10, profile: [(at: "4500ms", per_second: 0)])),
            (name: "far", entry: "api",
             arrivals: Constant(per_second: 10, profile: [(at: "4500ms", per_second: 0)])),
        ],
        services: {
            "s": (work: Const("10ms")),
            "api": (steps: [Call(to: "t")]),
            "t": (),
        },
        faults: [
            (at: "950ms", lasts: "2s", fault: Slowdown(service: "s", factor: 2)),
            (at: "1950ms", lasts: "2s", fault: Slowdown(service: "s", factor: 3)),
            (at: "950ms", lasts: "2s", fault: Latency(from: "api", to: "t", add: Const("5ms"))),
            (at: "1950ms", lasts: "2s", fault: Latency(from: "api", to: "t", add: Const("3ms"))),
        ],
    )"#);
    let window = |k: u32| match k * 100 {
        1000..=1900 => 0,
        2000..=2900 => 1,
        3000..=3900 => 2,
        _ => 3,
    };
    let slow: Vec<f64> = (1..=45)
        .map(|k| [20.0, 60.0, 30.0, 10.0][window(k)])
        .collect();
    assert_eq!(latencies_ms(&trace, 0), slow);
    let far: Vec<f64> = (1..=45)
        .map(|k| [10.0, 16.0, 6.0, 0.0][window(k)])
        .collect();
    assert_eq!(latencies_ms(&trace, 1), far);
}

/// A crash wins over a hang: while both cover `s` (hang over [95, 395 ms), crash over
/// [195, 295 ms)), a request is refused at once (`unavailable`, no waiting); while only the
/// hang does, requests are held until it ends (at 395 ms) and then served. Requests at 10 ms,
/// then every 10 ms from 210 to 500 ms (9 refused, 10 held, 11 after the hang); the caller
/// waits up to 1 s.
#[test]
fn crash_wins_over_hang() {
    let (r, trace) = run(r#"Topology(
        run: (duration: "1s"),
        workload: [(name: "main", entry: "api",
                    arrivals: Constant(per_second: 100, profile: [
                        (at: "10ms", per_second: 0),
                        (at: "200ms", per_second: 100),
                        (at: "500ms", per_second: 0)]))],
        services: {
            "api": (workers: 100, steps: [Call(to: "s", timeout: "1s")]),
            "s": (workers: 100),
        },
        faults: [
            (at: "95ms", lasts: "300ms", fault: Hang(service: "s")),
            (at: "195ms", lasts: "100ms", fault: Crash(service: "s")),
        ],
    )"#);
    for t in &trace {
        let sent = t.time.0 - t.latency.0;
        let (outcome, answered) = match sent {
            x if x < ns(95.0) => (Outcome::Ok, sent),
            x if x < ns(195.0) => unreachable!("no request is sent then"),
            x if x < ns(295.0) => (Outcome::Unavailable, sent),
            x if x < ns(395.0) => (Outcome::Ok, ns(395.0)),
            _ => (Outcome::Ok, sent),
        };
        assert_eq!(
            (t.outcome, t.time.0),
            (outcome, answered),
            "request sent at {sent} ns"
        );
    }
    let e = &r.entries[0];
    assert_eq!(
        (e.offered, e.outcomes.unavailable, e.outcomes.ok),
        (31, 9, 22)
    );
}

/// Requests held by a hung replica are inside it: when the replica crashes they are lost like
/// the ones it was running, and their callers hear `unavailable` at the crash (docs/format.md:
/// "the requests inside them when they crash are lost"; src/fault.rs: "a crash wins over a
/// hang"). Hang over [95, 395 ms), crash over [195, 295 ms); requests sent at 100–190 ms are
/// held when the crash comes at 195 ms.
#[test]
fn crash_loses_requests_held_by_a_hung_replica() {
    let (r, trace) = run(r#"Topology(
        run: (duration: "1s"),
        workload: [(name: "main", entry: "api",
                    arrivals: Constant(per_second: 100, profile: [(at: "190ms", per_second: 0)]))],
        services: {
            "api": (workers: 100, steps: [Call(to: "s", timeout: "1s")]),
            "s": (workers: 100),
        },
        faults: [
            (at: "95ms", lasts: "300ms", fault: Hang(service: "s")),
            (at: "195ms", lasts: "100ms", fault: Crash(service: "s")),
        ],
    )"#);
    let held: Vec<&TraceRecord> = trace
        .iter()
        .filter(|t| t.time.0 - t.latency.0 >= ns(100.0))
        .collect();
    assert_eq!(held.len(), 10);
    for t in held {
        assert_eq!(
            (t.outcome, t.time),
            (Outcome::Unavailable, SimTime(ns(195.0)))
        );
    }
    assert_eq!(r.service("s").unwrap().unavailable, 10);
}

// ---- failures of the caller: policy state must not leak -----------------------------------

/// A caller replica that crashes while one of its calls holds a bulkhead permit must not keep
/// that permit forever. `api` (one replica, bulkhead of 1 permit) calls `s` (50 ms) at 5 ms;
/// `api` crashes from 10 to 20 ms, losing that request. Its call to `s` answers at 55 ms into
/// nothing. The requests at 100–500 ms find the permit free and succeed. (In the engine the
/// answer to a dead caller is dropped before the permit is released, so every later call is
/// rejected by a bulkhead that believes the dead call is still in flight.)
#[test]
fn caller_crash_returns_its_bulkhead_permit() {
    let (r, _) = run(r#"Topology(
        run: (duration: "1s"),
        workload: [
            (name: "first", entry: "api",
             arrivals: Constant(per_second: 200, profile: [(at: "5ms", per_second: 0)])),
            (name: "later", entry: "api",
             arrivals: Constant(per_second: 10, profile: [(at: "500ms", per_second: 0)])),
        ],
        services: {
            "api": (workers: 10, steps: [Call(to: "s", bulkhead: (max_concurrent: 1))]),
            "s": (workers: 10, work: Const("50ms")),
        },
        faults: [(at: "10ms", lasts: "10ms", fault: Crash(service: "api"))],
    )"#);
    assert_eq!(r.entries[0].outcomes.unavailable, 1);
    let later = &r.entries[1];
    assert_eq!(
        (later.offered, later.outcomes.ok),
        (5, 5),
        "{:?}",
        later.outcomes
    );
    assert_eq!(r.calls[0].bulkhead_rejections, 0);
}

/// The same for an Envoy retry budget: a call that holds the budget's one retry resource
/// (`min_concurrency: 1`) while sleeping in backoff, lost in a crash of its caller, must give
/// it back. Later calls (against a callee that always errs) then get their retries: 3
/// attempts each.
#[test]
fn caller_crash_releases_its_retry_budget() {
    let (r, _) = run(r#"Topology(
        run: (duration: "1s"),
        workload: [
            (name: "first", entry: "api",
             arrivals: Constant(per_second: 200, profile: [(at: "5ms", per_second: 0)])),
            (name: "later", entry: "api",
             arrivals: Constant(per_second: 10, profile: [(at: "500ms", per_second: 0)])),
        ],
        services: {
            "api": (workers: 10, steps: [Call(to: "s", retry: (attempts: 3,
                backoff: Constant("20ms"), budget: Envoy(percent: 1, min_concurrency: 1)))]),
            "s": (workers: 10, errors: 1.0),
        },
        faults: [(at: "10ms", lasts: "10ms", fault: Crash(service: "api"))],
    )"#);
    let c = &r.calls[0];
    // The first call: 1 retry granted before the crash. The 5 later calls: 2 retries each.
    assert_eq!((c.retries, c.retries_denied), (1 + 10, 0));
}

// ---- failure processes -------------------------------------------------------------------

/// Replicas that fail and are repaired at random: each is up a share A = MTTF/(MTTF + MTTR)
/// of the time, whatever the distributions, and the service (2 replicas) is up — at least one
/// replica up — a share 1 − (1 − A)² (docs/semantics.md, *Availability*). MTTF 9 s, MTTR 1 s:
/// A = 0.9 and 0.99, once with exponential times and once with uniform failures (4–14 s) and
/// constant repairs (1 s). 2,000 s per replication, about 200 cycles per replica; 10 replications.
///
/// Requests see the replicas through a balancer that does not know (round-robin): without
/// retries a request fails when its replica is down, so request availability is A; with a
/// retry sent at once to the other replica it fails only when both are down: 1 − (1 − A)².
#[test]
fn failure_processes_match_renewal_availability() {
    for failures in [
        r#"(mttf: "9s", mttr: "1s")"#,
        r#"(failure: Uniform(min: "4s", max: "14s"), repair: Const("1s"))"#,
    ] {
        let text = format!(
            r#"Topology(
            workload: [
                (name: "plain", entry: "api", arrivals: Poisson(per_second: 20)),
                (name: "retried", entry: "api2", arrivals: Poisson(per_second: 20)),
            ],
            services: {{
                "api": (workers: 100, steps: [Call(to: "s")]),
                "api2": (workers: 100, steps: [Call(to: "s", retry: (attempts: 2))]),
                "s": (replicas: 2, workers: 100, failures: {failures}),
            }},
        )"#
        );
        let reports = replicate(&model(&text), &opts(2000.0, 0.0));
        let get = |f: &dyn Fn(&Report) -> f64| reports.iter().map(f).collect::<Vec<f64>>();
        // Services in file order: api, api2, s.
        assert_matches(
            &format!("{failures}: replica availability"),
            &get(&|r| r.services[2].replica_availability),
            0.9,
            0.0,
            0.01,
        );
        assert_matches(
            &format!("{failures}: time availability"),
            &get(&|r| r.services[2].time_availability),
            0.99,
            0.0,
            0.005,
        );
        assert_matches(
            &format!("{failures}: request availability without retries"),
            &get(&|r| r.entries[0].availability),
            0.9,
            0.0,
            0.01,
        );
        assert_matches(
            &format!("{failures}: request availability with a retry"),
            &get(&|r| r.entries[1].availability),
            0.99,
            0.0,
            0.005,
        );
        for r in &reports {
            // Down is a crash: every failure is `unavailable`, counted at the service too.
            let e = &r.entries[0];
            assert_eq!(e.outcomes.unavailable + e.outcomes.ok, e.outcomes.total());
            let lost: u64 = r.entries.iter().map(|e| e.outcomes.unavailable).sum();
            assert!(r.service("s").unwrap().unavailable >= lost);
        }
    }
}
